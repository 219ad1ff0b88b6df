import type { Backend, FloatArray } from "../types.js";
import type { Mode, PairOp } from "./abi.js";

/**
 * What every engine computes: per-row values of the measures, written into `out` (float64).
 * The measures (src/measures) validate, call one of these, then weight and reduce; so the
 * engines differ only in how they compute rows, never in semantics.
 * The reference engine (src/reference/rows.ts) is the definition of each of these.
 */
export interface Engine {
  readonly name: Backend;
  /** out[r] = -log q_r[t_r] (q per qMode; probs clipped to [eps, 1 - eps] when eps > 0); 0 where t_r < 0. */
  ceIndex(q: FloatArray, t: Int32Array, rows: number, classes: number, qMode: Mode, eps: number, out: Float64Array): void;
  /**
   * op CE: out[r] = -sum_k c_k log q_k, c_k = w_k (a p_k + b) (p absent: 0; w absent: 1; c_k = 0 terms are 0);
   * op KL: sum_k p_k (log p_k - log q_k) (p_k = 0 terms are 0); op JS: (KL(P||M) + KL(Q||M))/2.
   * invT divides logits; normalize divides probs rows by their sum (logprobs: renormalised).
   */
  pair(op: PairOp, p: FloatArray | null, q: FloatArray, w: FloatArray | null, rows: number, classes: number,
    pMode: Mode, qMode: Mode, invT: number, normalize: boolean, a: number, b: number, eps: number, out: Float64Array): void;
  /** out[r] = -sum_k p_k log p_k (p_k = 0 terms are 0). */
  entropy(p: FloatArray, rows: number, classes: number, mode: Mode, invT: number, normalize: boolean, out: Float64Array): void;
  /**
   * One pass of evaluation per row (t_r < 0: ignored, all 0): out[3r] = -log softmax(x_r)[t_r],
   * out[3r + 1] = entropy of softmax(x_r), out[3r + 2] = the rank of t_r (larger logits, plus equal
   * ones at smaller indices; 0 means argmax with first-index tie-breaking).
   */
  evaluate(x: FloatArray, t: Int32Array, rows: number, classes: number, out: Float64Array): void;
  /**
   * Cross-entropy from logits with its gradient: row r's loss sum_c c_rc (-log p_rc), c_rc =
   * w_c (alpha y_rc + beta), y the one-hot of t_r (t given) or the dense target row; its gradient
   * scale_r (A_r p_rk - c_rk), A_r = sum_c c_rc, written to grad. Rows with t_r < 0: loss and
   * gradient 0. out[r] = row loss (unscaled).
   */
  ceGrad(x: FloatArray, t: Int32Array | null, y: FloatArray | null, w: FloatArray | null, rows: number, classes: number,
    alpha: number, beta: number, scale: Float64Array, grad: FloatArray, out: Float64Array): void;
  /** KL(softmax(x/T) || softmax(y/T)) per row in out, and scale_r (q_rk - p_rk) / T in grad. */
  klGrad(x: FloatArray, y: FloatArray, rows: number, classes: number, invT: number, scale: Float64Array,
    grad: FloatArray, out: Float64Array): void;
  /** Binary cross-entropy per element (n of them); pw per column of `classes`, or absent. */
  bce(y: FloatArray, x: FloatArray, w: FloatArray | null, pw: FloatArray | null, n: number, classes: number,
    mode: Mode, out: Float64Array): void;
}
