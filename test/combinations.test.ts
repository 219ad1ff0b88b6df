// Every crossEntropy option in every combination (weight, ignoreIndex, labelSmoothing,
// sampleWeight, eps, each reduction, each `from`, index and dense targets), float32 and float64,
// on every engine against the reference; and binaryCrossEntropy's weight x posWeight x from.
import { describe, it, expect } from "vitest";
import { ENGINES } from "./helpers/engines.js";
import { expectClose } from "./helpers/oracle.js";
import { rng, logits, probs, type Float } from "./helpers/data.js";

const rows = 7,
  classes = 5;
const reductions = ["mean", "sum", "none"] as const;

function* crossEntropyCombos() {
  for (const T of [Float32Array, Float64Array] as Float[]) {
    const u = rng(T === Float32Array ? 1 : 2);
    const x = logits(u, rows * classes, T);
    const q = probs(u, rows, classes, T);
    const lq = T.from(q, Math.log);
    const dense = probs(u, rows, classes, T, 0.3);
    const index = new Int32Array([0, 4, 7, 2, 7, 1, 3]); // rows with 7 are ignored (ignoreIndex 7 below)
    for (const from of ["logits", "logprobs", "probs"] as const) {
      const pred = from === "logits" ? x : from === "logprobs" ? lq : q;
      for (const target of ["index", "dense"] as const) {
        for (const weight of [undefined, T.from([0.5, 1, 2, 0, 1.5])]) {
          for (const ignoreIndex of [undefined, 7]) {
            if (target === "index" && ignoreIndex === undefined) continue; // label 7 must be ignored
            for (const labelSmoothing of [0, 0.15, 1]) {
              for (const sampleWeight of [undefined, T.from([1, 2, 0.5, 1, 3, 0, 1])]) {
                for (const eps of from === "probs" ? [0, 1e-3] : [0]) {
                  for (const reduction of reductions) {
                    const t = target === "index" ? index : dense;
                    const options = { classes, from, weight, ignoreIndex, labelSmoothing, sampleWeight, eps, reduction };
                    yield {
                      name: `${T.name} ${JSON.stringify({ ...options, weight: !!weight, sampleWeight: !!sampleWeight, target })}`,
                      t,
                      pred,
                      options,
                      dtype: T === Float32Array ? "float32" : "float64",
                    };
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

const asArray = (v: number | ArrayLike<number>) => (typeof v === "number" ? [v] : Array.from(v));

for (const engine of ["wasm-simd", "wasm", "js"] as const) {
  describe(`option combinations on ${engine}`, () => {
    it("crossEntropy: every combination agrees with the reference", () => {
      let n = 0;
      for (const c of crossEntropyCombos()) {
        const got = asArray(ENGINES[engine].crossEntropy(c.t, c.pred, c.options));
        const want = asArray(ENGINES.js.crossEntropy(c.t, c.pred, c.options));
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => {
          expectClose(g, want[i], c.dtype, c.name);
        });
        n++;
      }
      // 2 dtypes x 4 (from, eps) x 3 (target, ignoreIndex) x 2 weights x 3 smoothings x 2 sampleWeights x 3 reductions
      expect(n).toBe(2 * 4 * 3 * 2 * 3 * 2 * 3);
    });

    it("binaryCrossEntropy: weight x posWeight x from x reduction", () => {
      for (const T of [Float32Array, Float64Array] as Float[]) {
        const u = rng(3);
        const y = probs(u, rows, classes, T, 0.3),
          p = probs(u, rows, classes, T),
          x = logits(u, rows * classes, T);
        for (const from of ["probs", "logits"] as const) {
          for (const weight of [undefined, T.from({ length: rows * classes }, () => u() * 2), T.from([1, 2, 3, 4, 5])]) {
            for (const posWeight of [undefined, 2.5, T.from([0.5, 1, 2, 3, 4])]) {
              for (const reduction of reductions) {
                const options = { classes, from, weight, posWeight, reduction };
                const pred = from === "probs" ? p : x;
                const got = asArray(ENGINES[engine].binaryCrossEntropy(y, pred, options));
                const want = asArray(ENGINES.js.binaryCrossEntropy(y, pred, options));
                got.forEach((g, i) => {
                  expectClose(g, want[i], T === Float32Array ? "float32" : "float64", `${T.name} ${from} ${reduction}`);
                });
              }
            }
          }
        }
      }
    });
  });
}

describe("semantics of the combinations, by definition", () => {
  const m = ENGINES.js;
  const x = logits(rng(9), rows * classes, Float64Array);
  const t = new Int32Array([0, 4, -100, 2, 3, 1, 3]);
  const w = Float64Array.from([0.5, 1, 2, 0.25, 1.5]);
  const sw = Float64Array.from([1, 2, 0.5, 1, 3, 0, 1]);
  const nll = (r: number, k: number) => m.crossEntropy(new Int32Array([k]), x.subarray(r * classes, (r + 1) * classes));

  it("weighted mean divides by the sum of weight[target] x sampleWeight over rows that count (PyTorch)", () => {
    let num = 0,
      den = 0;
    for (let r = 0; r < rows; r++) {
      if (t[r] < 0) continue;
      num += w[t[r]] * sw[r] * nll(r, t[r]);
      den += w[t[r]] * sw[r];
    }
    expectClose(m.crossEntropy(t, x, { classes, weight: w, sampleWeight: sw }), num / den, "float64", "weighted mean");
  });

  it("label smoothing is (1 - e) nll + e/K sum_k w_k (-log p_k), ignored rows out of both", () => {
    const e = 0.2;
    let num = 0,
      den = 0;
    for (let r = 0; r < rows; r++) {
      if (t[r] < 0) continue;
      let smooth = 0;
      for (let k = 0; k < classes; k++) smooth += w[k] * nll(r, k);
      num += (1 - e) * w[t[r]] * nll(r, t[r]) + (e / classes) * smooth;
      den += w[t[r]];
    }
    expectClose(m.crossEntropy(t, x, { classes, weight: w, labelSmoothing: e }), num / den, "float64", "smoothed");
  });
});
