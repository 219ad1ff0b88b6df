// The public entry: init / initSync / backend / engineInfo, the engines it picks, and the
// debug build through @assemblyscript/loader.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import binaryen from "binaryen";
import * as xent from "../src/index.js";
import * as reference from "../src/reference/index.js";
import { currentEngine } from "../src/engine/init.js";
import type { WasmEngine } from "../src/engine/wasm.js";
import { measuresOf } from "./helpers/engines.js";
import { KERNELS } from "../src/kernels/table.js";

const labels = new Int32Array([2, 0]);
const logits = new Float32Array([1, 2, 3, 3, 2, 1]);

describe("init", () => {
  it("measures refuse to run before init()", () => {
    expect(() => xent.crossEntropy(labels, logits)).toThrow(expect.objectContaining({ code: "NOT_INITIALIZED" }));
    expect(() => xent.backend()).toThrow(expect.objectContaining({ code: "NOT_INITIALIZED" }));
  });

  it("picks the SIMD module on Node 20, and is idempotent", async () => {
    const info = await xent.init();
    expect(info.backend).toBe("wasm-simd");
    expect(xent.backend()).toBe("wasm-simd");
    expect(xent.engineInfo()).toMatchObject({ backend: "wasm-simd" });
    const again = await xent.init();
    expect(again.backend).toBe("wasm-simd");
    expect(xent.crossEntropy(labels, logits)).toBeCloseTo(reference.crossEntropy(labels, logits), 6);
  });

  it("switches engines on request: wasm, js, and back", async () => {
    expect((await xent.init({ backend: "wasm" })).backend).toBe("wasm");
    expect(xent.backend()).toBe("wasm");
    expect(xent.engineInfo().reason).toBe("requested");
    expect(xent.crossEntropy(labels, logits)).toBeCloseTo(reference.crossEntropy(labels, logits), 6);
    expect((await xent.init({ backend: "js" })).backend).toBe("js");
    expect(xent.crossEntropy(labels, logits)).toBe(reference.crossEntropy(labels, logits));
    expect(xent.initSync().backend).toBe("wasm-simd");
  });

  it("accepts a precompiled module, or its bytes", async () => {
    const bytes = readFileSync(new URL("../wasm/xent.wasm", import.meta.url));
    expect((await xent.init({ module: new WebAssembly.Module(bytes) })).backend).toBe("wasm");
    expect(xent.initSync({ module: bytes }).backend).toBe("wasm");
    expect((await xent.init({ module: new URL("../wasm/xent.simd.wasm", import.meta.url) })).backend).toBe("wasm-simd");
    await expect(xent.init({ backend: "wasm-simd", module: bytes })).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
    await expect(xent.init({ backend: "gpu" as never })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await xent.init();
  });

  it("check: true compares the engine with the reference", async () => {
    await xent.init();
    expect(
      xent.klDivergence(
        logits,
        logits.map((v) => -v),
        { from: "logits", classes: 3, check: true },
      ),
    ).toBeGreaterThan(0);
    // A deliberately wrong engine (the SIMD engine, one row off by 1e-3) is caught.
    const good = currentEngine();
    const bad = measuresOf({
      name: good.name,
      run(call) {
        good.run(call);
        if (call.kernel === KERNELS.ceIndex) call.out[0] += 1e-3;
      },
    });
    expect(() => bad.crossEntropy(labels, logits, { check: true })).toThrow(expect.objectContaining({ code: "ENGINE_MISMATCH" }));
    expect(() => bad.crossEntropy(labels, logits)).not.toThrow();
  });

  it("the debug build reports a failed assertion with its message and source line", async () => {
    await xent.init({ debug: true });
    expect(xent.backend()).toBe("wasm-simd");
    expect(xent.crossEntropy(labels, logits)).toBeCloseTo(reference.crossEntropy(labels, logits), 6);
    const e = currentEngine() as WasmEngine;
    expect(() => e.exports.ce_index_logits_f32(0, 0, -1, 3, 0)).toThrow(/rows must be >= 0.*assembly\/index\.ts/);
    await xent.init();
  });
});

describe("the built modules", () => {
  const text = (file: string) => binaryen.readBinary(readFileSync(new URL(`../wasm/${file}`, import.meta.url))).emitText();

  it("the release module holds SIMD instructions, imports nothing, and the scalar build holds none", () => {
    const simd = text("xent.simd.wasm"),
      scalar = text("xent.wasm");
    expect(simd).toMatch(/f32x4\.(add|mul|max)/);
    expect(simd).not.toMatch(/\(import /);
    expect(scalar).not.toMatch(/v128|f32x4|f64x2/);
    expect(scalar).not.toMatch(/\(import /);
  });
});

describe("the list of measures", () => {
  it("xent, xent/reference and a pool each have every measure of the list, and nothing else by that role", async () => {
    const { MEASURES } = await import("../src/measures/list.js");
    const names = Object.keys(MEASURES);
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const name of names) {
      expect(typeof (xent as Record<string, unknown>)[name], `xent.${name}`).toBe("function");
      expect(typeof (reference as Record<string, unknown>)[name], `xent/reference.${name}`).toBe("function");
    }
    const pool = await xent.createPool({ threads: 2 });
    try {
      for (const name of names) expect(typeof (pool as unknown as Record<string, unknown>)[name], `pool.${name}`).toBe("function");
    } finally {
      await pool.close();
    }
  });
});
