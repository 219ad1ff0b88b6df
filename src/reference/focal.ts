// Focal loss (Lin et al. 2017): the readable float64 definitions, one row (or element) at a time.
// The reference of the focal kernels (assembly/kernels/focal.ts), which compute the same formulas
// in the same order, and the "js" engine's focal loss.
import type { FloatArray } from "../types.js";
import { LOGITS, LOGPROBS, PROBS, type Mode } from "../kernels/modes.js";
import { Sum } from "./rows.js";

/** (1 - q)^gamma; gamma 0 gives 1 (also 0^0), 1 and 2 are spelled out as the kernels do. */
export function focalFactor(u: number, gamma: number): number {
  if (gamma === 2) return u * u;
  if (gamma === 0) return 1;
  if (gamma === 1) return u;
  return u ** gamma;
}

/** 1 - q_k and -log q_k of one row, each to full relative precision, also for q_k near 1. */
interface Prediction {
  oneMinusQ(k: number): number;
  negLogQ(k: number): number;
}

/**
 * A row of logits, probabilities or log-probabilities as a distribution q.
 *
 * Logits: e_j = exp(x_j - m), m the row's maximum, S = sum_j e_j. 1 - q_k is O_k / S with O_k the
 * other classes' sum, never 1 - e_k / S (which would lose everything where q_k is within 1e-16 of
 * 1): one pass gives L, the sum of e_j below the maximum, and n, the count of classes at it; a class
 * at the maximum has O_k = L + (n - 1) (no subtraction), any other O_k = S - e_k, where S >= 1 + e_k
 * and e_k < 1 (a cancellation of a factor 3 at most, and 1 - q_k > 1/2). -log q_k is
 * log S - (x_k - m) with log S = log1p(L + n - 1), both parts non-negative, so a class at the maximum
 * keeps the relative precision of its small -log q_k. A row with a NaN or +inf logit, or only -inf
 * ones, is NaN.
 * Log-probabilities: 1 - q_k = -expm1(lq_k), -log q_k = -lq_k.
 * Probabilities: 1 - q_k (exact for q_k >= 1/2, by Sterbenz's lemma), -log q_k.
 * Rows are used as given, not renormalised.
 */
function prediction(q: FloatArray, off: number, n: number, mode: Mode): Prediction {
  if (mode === PROBS) return { oneMinusQ: (k) => 1 - q[off + k], negLogQ: (k) => -Math.log(q[off + k]) };
  if (mode === LOGPROBS) return { oneMinusQ: (k) => -Math.expm1(q[off + k]), negLogQ: (k) => -q[off + k] };
  if (mode !== LOGITS) throw new Error(`xent: unknown mode ${mode}`);
  let m = -Infinity;
  for (let k = 0; k < n; k++) {
    const x = q[off + k];
    if (x !== x)
      m = NaN; // NaN anywhere makes the row NaN
    else if (x > m) m = x;
  }
  if (!Number.isFinite(m)) return { oneMinusQ: () => NaN, negLogQ: () => NaN };
  const below = new Sum();
  let atMax = 0;
  for (let k = 0; k < n; k++) {
    const d = q[off + k] - m;
    if (d === 0) atMax++;
    else below.add(Math.exp(d));
  }
  const others = below.value + (atMax - 1); // O_k of a class at the maximum
  const s = others + 1;
  const logS = Math.log1p(others);
  return {
    oneMinusQ: (k) => {
      const d = q[off + k] - m;
      return d === 0 ? others / s : (s - Math.exp(d)) / s;
    },
    negLogQ: (k) => logS - (q[off + k] - m),
  };
}

/**
 * Focal loss per row: out[r] = sum_k v_k c_k (1 - q_k)^gamma (-log q_k) (Lin et al. 2017).
 *
 * - q: rows x classes, row-major: logits (LOGITS, q = softmax), log-probabilities (LOGPROBS) or
 *   probabilities (PROBS), used as given.
 * - c_k = a y_k + b, y the one-hot of the class index t[r] (t[r] < 0: the row is ignored, 0) or the
 *   dense target row y (rows x classes); with neither, c_k = b. Label smoothing e is a = 1 - e,
 *   b = e / classes.
 * - v: per-class coefficients (alpha_k weight_k), null for all 1.
 * - gamma >= 0: 0 is cross-entropy ((1 - q)^0 = 1, also at q = 1).
 * Terms with v_k c_k = 0 are 0, even where q_k = 0 (a masked class). Each row is a compensated sum.
 */
export function focalRows(
  t: Int32Array | null,
  y: FloatArray | null,
  q: FloatArray,
  v: FloatArray | null,
  rows: number,
  classes: number,
  qMode: Mode,
  gamma: number,
  a: number,
  b: number,
  out: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * classes;
    if (t !== null && t[r] < 0) {
      out[r] = 0;
      continue;
    }
    const p = prediction(q, off, classes, qMode);
    const sum = new Sum();
    for (let k = 0; k < classes; k++) {
      const yk = t !== null ? (k === t[r] ? 1 : 0) : y !== null ? y[off + k] : 0;
      const coef = (v === null ? 1 : v[k]) * (a * yk + b);
      if (coef === 0) continue;
      sum.add(coef * focalFactor(p.oneMinusQ(k), gamma) * p.negLogQ(k));
    }
    out[r] = sum.value;
  }
}

/**
 * Binary focal loss of one element, torchvision's sigmoid_focal_loss for logits:
 * ce (1 - p_t)^gamma, times alpha_t = alpha y + (1 - alpha)(1 - y) when alpha >= 0.
 * - logits (LOGITS): p = sigmoid(x); ce = y softplus(-x) + (1 - y) softplus(x), which is the stable
 *   max(x, 0) - x y + log1p(exp(-|x|)) as two non-negative parts (no cancellation for y in [0, 1]);
 *   1 - p_t = y sigmoid(-x) + (1 - y) sigmoid(x), both sigmoids to full relative precision (never
 *   1 - p_t from p_t, which cancels where the prediction is right).
 * - probabilities (PROBS): p = x; ce = -(y max(log p, -100) + (1 - y) max(log(1 - p), -100)), each
 *   log clamped at -100 as PyTorch's binary_cross_entropy; log(1 - p) as log1p(-p);
 *   1 - p_t = y (1 - p) + (1 - y) p.
 */
export function binaryFocalElement(y: number, x: number, mode: 0 | 2, gamma: number, alpha: number): number {
  if (mode !== LOGITS && mode !== PROBS) throw new Error(`xent: unknown mode ${mode}`);
  let ce: number, u: number;
  if (mode === LOGITS) {
    const e = Math.exp(-Math.abs(x));
    const l = Math.log1p(e);
    const big = 1 / (1 + e),
      small = e * big; // sigmoid(|x|), sigmoid(-|x|)
    const p = x >= 0 ? big : small,
      pc = x >= 0 ? small : big;
    ce = y * (Math.max(-x, 0) + l) + (1 - y) * (Math.max(x, 0) + l);
    u = y * pc + (1 - y) * p;
  } else {
    ce = -(y * Math.max(Math.log(x), -100) + (1 - y) * Math.max(Math.log1p(-x), -100));
    u = y * (1 - x) + (1 - y) * x;
  }
  const loss = ce * focalFactor(u, gamma);
  return alpha >= 0 ? loss * (alpha * y + (1 - alpha) * (1 - y)) : loss;
}

/** Binary focal loss per element: out[i] for the n targets y[i] and predictions x[i]; alpha < 0 for none. */
export function binaryFocalRows(
  y: FloatArray,
  x: FloatArray,
  n: number,
  mode: 0 | 2,
  gamma: number,
  alpha: number,
  out: Float64Array,
): void {
  for (let i = 0; i < n; i++) out[i] = binaryFocalElement(y[i], x[i], mode, gamma, alpha);
}
