// init()'s verification battery: its stored reference results are what the reference computes
// now, every engine passes it, and a faulty module fails it (so init falls back).
import { describe, expect, it } from "vitest";
import { referenceBattery } from "../src/engine/battery-reference.js";
import { EXPECTED, INPUTS } from "../src/engine/battery.expected.js";
import { CLASSES, CALLS, batteryInputs, layout, verifyModule } from "../src/engine/verify.js";
import { simdEngine, scalarEngine, wasmExports } from "./helpers/engines.js";
import type { ModuleExports } from "../src/engine/abi.js";
import * as xent from "../src/index.js";

describe("verification battery", () => {
  it("the stored results are the reference's results on the stored inputs, now", () => {
    const now = referenceBattery();
    expect(EXPECTED.length).toBe(2 * CLASSES.length * CALLS.length);
    now.forEach((r, i) => expect(Array.from(EXPECTED[i]), `result ${i}`).toEqual(Array.from(r)));
    // And the stored inputs are batteryInputs() laid out.
    let at = 0;
    for (const f32 of [true, false]) {
      for (const classes of CLASSES) {
        const l = layout(f32, classes), want = batteryInputs(f32, classes);
        const F = f32 ? Float32Array : Float64Array;
        const block = INPUTS.slice(at, at + l.size).buffer;
        expect(Array.from(new F(block, l.x, want.x.length))).toEqual(Array.from(want.x));
        expect(Array.from(new Int32Array(block, l.t, want.t.length))).toEqual(Array.from(want.t));
        at += l.size;
      }
    }
    expect(at).toBe(INPUTS.length);
  });

  it("covers non-finite and extreme values", () => {
    const { x, y, p } = batteryInputs(true, 33);
    expect(Array.from(x)).toContain(-Infinity);
    expect(Array.from(y)).toContain(-Infinity);
    expect(Array.from(x)).toContain(1e4);
    expect(Array.from(p)).toContain(0);
  });

  it("both modules pass it", () => {
    expect(verifyModule(simdEngine.exports, simdEngine.memory.slotP)).toBeNull();
    expect(verifyModule(scalarEngine.exports, scalarEngine.memory.slotP)).toBeNull();
  });

  it("a module that computes wrongly fails it, naming the call", () => {
    const ex = wasmExports("xent.simd.wasm");
    const faulty: ModuleExports = {
      ...ex,
      memory: ex.memory, heap_base: ex.heap_base, simd: ex.simd,
      // A KL kernel that is off by 1e-4 nats per row.
      pair_rows_f32: (op, p, q, w, rows, classes, pm, qm, t, nrm, a, b, eps, out) => {
        ex.pair_rows_f32(op, p, q, w, rows, classes, pm, qm, t, nrm, a, b, eps, out);
        if (op === 1) new Float64Array(ex.memory.buffer, out, rows)[0] += 1e-4;
      },
    } as ModuleExports;
    ex.memory.grow(64);
    expect(verifyModule(faulty, 65536)).toMatch(/klDivergence logits \(float32, 2 classes, value 0\)/);
  });

  it("init() verifies, and reports it", async () => {
    const info = await xent.init();
    expect(info).toEqual({ backend: "wasm-simd", verified: true });
    expect((await xent.init({ verify: false })).verified).toBe(false);
    await xent.init();
  });
});
