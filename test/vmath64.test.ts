// The float64 vector exp of the float64 kernels (assembly/math/vmath.ts, expf64x2Low) against
// Math.exp, over a dense sweep of [-708, 0], [0, 88] and its special values.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** The test module's exports (wasm/test/xent.vmath.wasm). */
interface VmathExports {
  memory: WebAssembly.Memory;
  vexp_f64(ptr: number, n: number, outPtr: number): number;
}

const EXP64_MAX_REL = 7e-16; // stated beside expf64x2Low (a degree-10 minimax polynomial: 4.2e-16 of its own, plus rounding)

describe("expf64x2Low (the test module's vexp_f64: assembly/vmath-exports.ts)", () => {
  const ex = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../wasm/test/xent.vmath.wasm", import.meta.url))), {})
    .exports as unknown as VmathExports;
  ex.memory.grow(64);
  const base = 1 << 16,
    n = 1 << 16;

  function run(values: Float64Array): Float64Array {
    const input = new Float64Array(ex.memory.buffer, base, n),
      out = new Float64Array(ex.memory.buffer, base + 8 * n, n);
    input.set(values);
    expect(ex.vexp_f64(base, values.length + (values.length & 1), base + 8 * n)).toBe(1);
    return out.slice(0, values.length);
  }

  it(`relative error <= ${EXP64_MAX_REL} over 2 million points of [-708, 0]`, () => {
    let worst = 0,
      at = 0,
      points = 0;
    for (let block = 0; block < 32; block++) {
      const xs = Float64Array.from({ length: n }, (_, i) => -708 * ((block * n + i + 0.5) / (32 * n)) ** 2);
      const got = run(xs);
      for (let i = 0; i < n; i++) {
        const want = Math.exp(xs[i]);
        const err = Math.abs(got[i] - want) / want;
        if (err > worst) {
          worst = err;
          at = xs[i];
        }
      }
      points += n;
    }
    console.log(`expf64x2Low: max relative error ${worst.toExponential(3)} at x = ${at}, over ${points} points`);
    expect(points).toBeGreaterThan(2e6);
    expect(worst).toBeLessThanOrEqual(EXP64_MAX_REL);
  });

  it(`relative error <= ${EXP64_MAX_REL} over [0, 88] (klLogitsF32 takes e^(-t d_k) up to e^88)`, () => {
    const xs = Float64Array.from({ length: n }, (_, i) => 88 * ((i + 0.5) / n));
    const got = run(xs);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - Math.exp(xs[i])) / Math.exp(xs[i]));
    console.log(`expf64x2Low: max relative error ${worst.toExponential(3)} over [0, 88]`);
    expect(worst).toBeLessThanOrEqual(EXP64_MAX_REL);
  });

  it("exact special values", () => {
    const got = run(Float64Array.from([0, -0, -Infinity, NaN, -710, -1e300]));
    expect(got[0]).toBe(1);
    expect(got[1]).toBe(1);
    expect(got[2]).toBe(0);
    expect(got[3]).toBeNaN();
    expect(got[4]).toBe(0);
    expect(got[5]).toBe(0);
  });
});
