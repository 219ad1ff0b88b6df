// init()'s fallbacks, forced (stubs.ts) and checked on the oracle vectors, for the entries a
// runtime can load: SIMD missing -> the scalar module ("wasm"); compiling refused -> the reference
// ("js"); WebAssembly missing -> the reference, with allocate() on plain memory. Defined once, run
// in Node (test/runtimes/fallbacks.test.ts) and in Chromium (test/browser/fallbacks.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import * as reference from "../../src/reference/index.js";
import { runOracle, oracleCases, type Xent } from "./oracle-subset.js";
import { withoutSimd, refusing, withoutWasm } from "./stubs.js";

export interface Entry {
  xent: Xent & { initSync(options?: object): { backend: string; verified: boolean; reason?: string } };
  /** Whether initSync() finds the packaged modules itself (no { module }). */
  sync: boolean;
}

export function fallbackSuite(entries: Record<string, Entry>, simdBytes: () => Promise<Uint8Array>): void {
  for (const [label, { xent, sync }] of Object.entries(entries)) {
    describe(`fallbacks of ${label}`, () => {
      afterAll(async () => {
        await xent.init();
      });

      /** init() again from scratch (a different engine first, so that the chain runs anew). */
      const fresh = async () => {
        await xent.init({ backend: "js" });
        return runOracle(xent, reference, label);
      };

      it("SIMD missing: the scalar module, verified", async () => {
        const r = await withoutSimd(await simdBytes(), fresh);
        expect(r.failures).toEqual([]);
        expect(r.cases).toBe(oracleCases().length);
        expect(r.backend).toBe("wasm");
        expect(r.info).toEqual({
          backend: "wasm",
          verified: true,
          reason: "SIMD is not supported here (the SIMD module does not validate)",
        });
        expect(r.zeroCopy).toBe(true);
        expect(xent.backend()).toBe("wasm");
      });

      if (sync)
        it("SIMD missing, initSync(): the scalar module", async () => {
          const info = await withoutSimd(await simdBytes(), async () => {
            await xent.init({ backend: "js" });
            return xent.initSync();
          });
          expect(info).toEqual({
            backend: "wasm",
            verified: true,
            reason: "SIMD is not supported here (the SIMD module does not validate)",
          });
        });

      it("compiling WebAssembly refused (workerd, a CSP): the reference, and why", async () => {
        const r = await refusing(fresh);
        expect(r.failures).toEqual([]);
        expect(r.cases).toBe(oracleCases().length);
        expect(r.backend).toBe("js");
        expect(r.info.verified).toBe(false);
        expect(r.info.reason).toMatch(/^compiling WebAssembly is not allowed here \(.*disallowed by embedder\)$/);
        expect(r.zeroCopy).toBe(true);
      });

      it("WebAssembly missing: the reference, allocate() on plain memory; a wasm engine asked for is refused", async () => {
        const r = await withoutWasm(async () => {
          await expect(xent.init({ backend: "wasm" })).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
          const report = await fresh();
          const block = xent.allocate(Float32Array, 1 << 20); // grows the plain memory
          block.view[(1 << 20) - 1] = 1;
          expect(block.view.buffer).toBeInstanceOf(ArrayBuffer);
          block.free();
          return report;
        });
        expect(r.failures).toEqual([]);
        expect(r.backend).toBe("js");
        expect(r.info).toEqual({ backend: "js", verified: false, reason: "WebAssembly is not available here" });
        expect(r.zeroCopy).toBe(true);
      });

      it("and back: the SIMD module", async () => {
        await xent.init({ backend: "js" });
        expect(await xent.init()).toEqual({ backend: "wasm-simd", verified: true });
      });
    });
  }
}
