// The browser entry in Chromium: init() fetches the packaged .wasm from its URL and compiles it as
// it streams; init({ module }) takes a Response (streamed when served as application/wasm), its
// promise, bytes or a compiled module; initSync() needs { module } here. Then the oracle vectors.
import { describe, expect, it, vi } from "vitest";
import * as xent from "../../src/entries/browser.js";
import * as reference from "../../src/reference/index.js";
import { runOracle, oracleCases } from "../runtimes/oracle-subset.js";

const SIMD = new URL("../../wasm/xent.simd.wasm", import.meta.url);
const SCALAR = new URL("../../wasm/xent.wasm", import.meta.url);

describe("the browser entry", () => {
  it("init() fetches the SIMD module and compiles it with compileStreaming", async () => {
    const streaming = vi.spyOn(WebAssembly, "compileStreaming");
    try {
      expect(await xent.init()).toEqual({ backend: "wasm-simd", verified: true });
      expect(streaming).toHaveBeenCalledTimes(1);
    } finally {
      streaming.mockRestore();
    }
  });

  it("passes the oracle vectors", async () => {
    const r = await runOracle(xent, reference, "browser");
    expect(r.failures).toEqual([]);
    expect(r.cases).toBe(oracleCases().length);
    expect(r).toMatchObject({ backend: "wasm-simd", zeroCopy: true });
  });

  it("init({ module }) takes a Response or its promise (streamed when served as application/wasm), bytes, a module", async () => {
    const streaming = vi.spyOn(WebAssembly, "compileStreaming");
    try {
      expect((await xent.init({ module: fetch(SCALAR) })).backend).toBe("wasm");
      expect(streaming).toHaveBeenCalledTimes(1);
      const bytes = new Uint8Array(await (await fetch(SIMD)).arrayBuffer());
      // Without the application/wasm type, the bytes are compiled instead.
      expect((await xent.init({ module: new Response(bytes) })).backend).toBe("wasm-simd");
      expect(streaming).toHaveBeenCalledTimes(1);
      expect((await xent.init({ module: bytes })).backend).toBe("wasm-simd");
      expect((await xent.init({ module: await WebAssembly.compile(bytes) })).backend).toBe("wasm-simd");
      expect(xent.initSync({ module: bytes })).toEqual({ backend: "wasm-simd", verified: true });
    } finally {
      streaming.mockRestore();
    }
  });

  it("initSync() without { module } says what to do; a missing or misplaced .wasm says what it got", async () => {
    await xent.init({ backend: "js" });
    expect(() => xent.initSync()).toThrow(
      expect.objectContaining({
        code: "BACKEND_UNAVAILABLE",
        message: expect.stringMatching(/use await init\(\), or initSync\(\{ module \}\)/),
      }),
    );
    await expect(xent.init({ module: new URL("/no/such/file.wasm", location.href) })).rejects.toMatchObject({
      code: "BACKEND_UNAVAILABLE",
      message: expect.stringMatching(/HTTP 404/),
    });
    const html = new Response("<!doctype html><p>an app's index page", { headers: { "content-type": "text/html" } });
    await expect(xent.init({ module: html })).rejects.toMatchObject({
      code: "BACKEND_UNAVAILABLE",
      message: expect.stringMatching(/not a WebAssembly module.*xent\/inline/),
    });
    expect(await xent.init()).toEqual({ backend: "wasm-simd", verified: true });
  });
});
