// init()'s verification battery: its stored reference results are what the reference computes
// now, every engine passes it, and a faulty module fails it (so init falls back).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { referenceBattery } from "../src/engine/battery-reference.js";
import { BLOCKS, CALLS, LAYOUT, EXPECTED } from "../src/engine/battery.expected.js";
import { callsSource } from "../scripts/gen-calls.js";
import { CLASSES, SCALAR_CLASSES, CASES, batteryInputs, plan, encodeCalls, encodeLayout, verifyModule } from "../src/engine/verify.js";
import { simdEngine, scalarEngine, wasmExports } from "./helpers/engines.js";
import type { ModuleExports } from "../src/kernels/table.js";
import * as xent from "../src/index.js";

describe("verification battery", () => {
  it("the stored results are the reference's results on the stored inputs, now", () => {
    const now = referenceBattery();
    expect(EXPECTED.length).toBe(now.expected.length);
    expect(Array.from(EXPECTED)).toEqual(Array.from(now.expected));
    // The stored plan is plan() now, and the stored inputs are batteryInputs() laid out.
    expect(Array.from(CALLS)).toEqual(encodeCalls(plan()));
    // The module's run_calls reads them as its generator wrote it from the kernel table.
    expect(readFileSync(new URL("../assembly/calls.ts", import.meta.url), "utf8")).toBe(callsSource());
    expect(Array.from(LAYOUT)).toEqual(encodeLayout(plan()));
    expect(BLOCKS.length).toBe(2 * CLASSES.length);
    for (const [f32, classes, , floats, t] of BLOCKS) {
      const want = batteryInputs(f32 === 1, classes);
      const F = f32 === 1 ? Float32Array : Float64Array;
      expect(Array.from(F.from(floats))).toEqual([...want.x, ...want.y, ...want.p, ...want.q]);
      expect(Array.from(t)).toEqual(Array.from(want.t));
    }
    // Every kernel is called, in both types, the SIMD ones at every row length.
    for (const f32 of [true, false]) {
      CASES.forEach((k, i) => {
        const lengths = plan()
          .calls.filter((c) => c.kernel === i && c.f32 === f32)
          .map((c) => c.classes);
        expect(lengths, k.name).toEqual(k.tails ? CLASSES : [SCALAR_CLASSES]);
      });
    }
  });

  it("covers a student near its teacher (row 0), non-finite and extreme values", () => {
    for (const f32 of [true, false]) {
      const { x, y } = batteryInputs(f32, 129);
      for (let k = 0; k < 129; k++) expect(Math.abs(x[k] - y[k])).toBeLessThanOrEqual(1.001e-3);
    }
    const { x, y, p } = batteryInputs(true, 7);
    expect(Array.from(x)).toContain(-Infinity);
    expect(Array.from(y)).toContain(-Infinity);
    expect(Array.from(x)).toContain(1e4);
    expect(Array.from(p)).toContain(0);
  });

  it("both modules pass it", () => {
    expect(verifyModule(simdEngine.exports, simdEngine.memory.scratchBase)).toBeNull();
    expect(verifyModule(scalarEngine.exports, scalarEngine.memory.scratchBase)).toBeNull();
  });

  it("a module that computes wrongly fails it, naming the call", () => {
    const ex = wasmExports("xent.simd.wasm");
    const faulty: ModuleExports = {
      ...ex,
      memory: ex.memory,
      heap_base: ex.heap_base,
      simd: ex.simd,
      run_calls: undefined, // the calls one by one from JavaScript (modules without run_calls)
      // A KL kernel that is off by 1e-4 nats per row.
      pair_rows_f32: (op, p, q, w, rows, classes, pm, qm, t, nrm, a, b, eps, out) => {
        ex.pair_rows_f32(op, p, q, w, rows, classes, pm, qm, t, nrm, a, b, eps, out);
        if (op === 1) new Float64Array(ex.memory.buffer, out, rows)[0] += 1e-4;
      },
    } as ModuleExports;
    ex.memory.grow(64);
    expect(verifyModule(faulty, 65536)).toMatch(/klDivergence logits \(float32, 2 classes, value 0\)/);
  });

  it("the in-module run (run_calls) is checked the same way", () => {
    const ex = wasmExports("xent.simd.wasm");
    ex.memory.grow(64);
    // The 129-class float64 cross-entropy call writes its second row's value off by 1 ulp x 1e4.
    const call = plan().calls.find((c) => c.kernel === 0 && !c.f32 && c.classes === 129)!;
    const offBy = (scale: number) =>
      ({
        ...ex,
        memory: ex.memory,
        heap_base: ex.heap_base,
        simd: ex.simd,
        run_calls: (calls: number, n: number, base: number) => {
          ex.run_calls!(calls, n, base);
          const v = new Float64Array(ex.memory.buffer, base + call.out, 2);
          v[1] *= 1 + scale;
        },
      }) as ModuleExports;
    expect(verifyModule(offBy(1e-9), 65536)).toMatch(/crossEntropy \(float64, 129 classes, value 1\): gave .*, the reference/);
    expect(verifyModule(offBy(1e-14), 65536)).toBeNull(); // within the float64 contract (1e-12)
    expect(verifyModule(ex, 65536)).toBeNull();
  });

  it("a wrong gradient, or a kernel that traps, fails it too", () => {
    const ex = wasmExports("xent.simd.wasm");
    ex.memory.grow(64);
    const wrongGrad = {
      ...ex,
      memory: ex.memory,
      heap_base: ex.heap_base,
      simd: ex.simd,
      run_calls: undefined,
      kl_grad_f64: (x, y, rows, classes, invT, scale, grad) => {
        ex.kl_grad_f64(x, y, rows, classes, invT, scale, grad);
        new Float64Array(ex.memory.buffer, grad, rows * classes)[5] += 1e-9;
      },
    } as ModuleExports;
    expect(verifyModule(wrongGrad, 65536)).toMatch(/klDivergenceWithGrad \(float64, 7 classes, gradient 5\)/);
    // A trap inside the in-module run: the calls are then made one by one, which names the one that traps.
    const trap = () => {
      throw new WebAssembly.RuntimeError("unreachable");
    };
    const traps = { ...ex, memory: ex.memory, run_calls: trap, evaluate_rows_f32: trap } as ModuleExports;
    expect(verifyModule(traps, 65536)).toMatch(/evaluate \(float32, 2 classes\) threw: unreachable/);
    // A trap in the runner alone, with kernels that compute right one by one: the battery passes.
    expect(verifyModule({ ...ex, memory: ex.memory, run_calls: trap } as ModuleExports, 65536)).toBeNull();
    expect(verifyModule(ex, 65536)).toBeNull();
  });

  it("init() verifies, and reports it", async () => {
    const info = await xent.init();
    expect(info).toEqual({ backend: "wasm-simd", verified: true });
    expect((await xent.init({ verify: false })).verified).toBe(false);
    await xent.init();
  });
});
