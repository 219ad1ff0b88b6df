// The definition of every measure, one row at a time, in plain float64 TypeScript.
// This is the oracle of the differential tests and the "js" engine. Readability comes first:
// each function is the formula in its docs, made numerically stable and nothing more.
import type { FloatArray } from "../types.js";
import { LOGITS, LOGPROBS, PROBS, type Mode } from "../kernels/modes.js";

/**
 * A float64 sum with Neumaier's compensation: exact to about one rounding whatever the number of
 * terms, so that the reference stays accurate far below the 1e-12 it is held to at 10^5 classes
 * (plain summation could drift by n * 1.1e-16).
 */
export class Sum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return Number.isFinite(this.s) ? this.s + this.c : this.s;
  }
}

/**
 * A probability distribution given by one row: p(k) and log p(k). `normalized` is true where it sums
 * to 1 by construction (a softmax, or a row divided by its sum), false where the row is taken as
 * given. Of the rows held as logarithms (`log`: logits, logprobs), log p(k) = raw(k) invT - logS as
 * computed, raw(k) the value less the row's maximum where there is one; of probabilities, raw(k) is
 * the given value and log p(k) = log raw(k) - logS.
 */
interface Distribution {
  p(k: number): number;
  logp(k: number): number;
  normalized: boolean;
  log: boolean;
  logS: number;
  invT: number;
  raw: (k: number) => number;
}

function rowMax(x: FloatArray, off: number, n: number): number {
  let m = -Infinity;
  for (let k = 0; k < n; k++) {
    const v = x[off + k];
    if (v !== v) return NaN; // NaN anywhere makes the row NaN
    if (v > m) m = v;
  }
  return m;
}

/**
 * The distribution a row stands for.
 * - logits: softmax(x / T), computed as exp((x_k - max) / T - log S), S = sum exp((x_j - max) / T).
 *   A row of -inf only, or with +inf or NaN, gives NaN everywhere.
 * - logprobs: exp(x_k) as given; with normalize, renormalised as a softmax of x.
 * - probs: x_k as given; with normalize, x_k / sum(x).
 */
export function distribution(x: FloatArray, off: number, n: number, mode: Mode, invT: number, normalize: boolean): Distribution {
  if (mode === PROBS) {
    let s = 1;
    if (normalize) {
      const z = new Sum();
      for (let k = 0; k < n; k++) z.add(x[off + k]);
      s = z.value;
    }
    const logS = Math.log(s);
    return {
      p: (k) => x[off + k] / s,
      logp: (k) => Math.log(x[off + k]) - logS,
      normalized: normalize,
      log: false,
      logS,
      invT: 1,
      raw: (k) => x[off + k],
    };
  }
  if (mode === LOGPROBS && !normalize) {
    return {
      p: (k) => Math.exp(x[off + k]),
      logp: (k) => x[off + k],
      normalized: false,
      log: true,
      logS: 0,
      invT: 1,
      raw: (k) => x[off + k],
    };
  }
  const t = mode === LOGITS ? invT : 1;
  const m = rowMax(x, off, n);
  const z = new Sum();
  for (let k = 0; k < n; k++) z.add(Math.exp((x[off + k] - m) * t));
  const s = z.value;
  const logS = Math.log(s);
  return {
    p: (k) => Math.exp((x[off + k] - m) * t) / s,
    logp: (k) => (x[off + k] - m) * t - logS,
    normalized: true,
    log: true,
    logS,
    invT: t,
    raw: (k) => x[off + k] - m,
  };
}

/** -log q[t] for one row; with probs, q is clipped to [eps, 1 - eps] first when eps > 0. */
export function nllRow(q: FloatArray, off: number, n: number, t: number, mode: Mode, eps: number): number {
  if (mode === LOGITS) {
    // -log softmax(x)[t] = (max - x_t) + log sum exp(x_k - max): no cancellation for large logits.
    const m = rowMax(q, off, n);
    const s = new Sum();
    for (let k = 0; k < n; k++) s.add(Math.exp(q[off + k] - m));
    return m - q[off + t] + Math.log(s.value);
  }
  if (mode === LOGPROBS) return -q[off + t];
  return -Math.log(clip(q[off + t], eps));
}

function clip(x: number, eps: number): number {
  return eps > 0 ? Math.min(Math.max(x, eps), 1 - eps) : x;
}

/** Cross-entropy of one row against a dense target: -sum_k c_k log q_k, c_k = w_k (a t_k + b). */
export function crossEntropyRow(
  t: FloatArray | null,
  q: Distribution,
  qMode: Mode,
  qx: FloatArray,
  w: FloatArray | null,
  off: number,
  n: number,
  a: number,
  b: number,
  eps: number,
  tDist: Distribution | null,
): number {
  const h = new Sum();
  for (let k = 0; k < n; k++) {
    const tk = t === null ? 0 : tDist !== null ? tDist.p(k) : t[off + k];
    const c = (w === null ? 1 : w[k]) * (a * tk + b);
    if (c === 0) continue; // 0 log 0 = 0, also against a -inf logit
    const logq = qMode === PROBS && eps > 0 ? Math.log(clip(qx[off + k], eps)) : q.logp(k);
    h.add(-c * logq);
  }
  return h.value;
}

/**
 * KL(P || Q) of one row: sum_k p_k (log p_k - log q_k); p_k = 0 contributes 0.
 *
 * Summed as sum_k q_k phi(r_k) + sum_k (p_k - q_k), r_k = log p_k - log q_k (logRatio), with
 * phi(r) = r e^r - e^r + 1 >= 0 (klPhiTerm): the same sum, term by term, but its terms do not cancel.
 * As p_k (log p_k - log q_k) the terms are of size |r| for a sum of size r^2, and near-equal rows
 * lost about 1e-16 absolute. Where both sides sum to 1 by construction (softmax, normalize) the
 * second sum is 0 exactly and is left out; computed, it would put that 1e-16 back. An error e
 * common to every r_k (the normalisers' logarithms) moves the first sum by e KL only.
 */
export function klRow(p: Distribution, q: Distribution, n: number): number {
  const d = new Sum();
  const both = p.normalized && q.normalized;
  for (let k = 0; k < n; k++) {
    const pk = p.p(k);
    if (pk === 0) {
      if (both) d.add(q.p(k)); // q phi(-inf) = q: its share of the sum_k (q_k - p_k) = 0 left out
      continue;
    }
    const qk = q.p(k);
    d.add(klPhiTerm(pk, qk, logRatio(p, q, k)));
    if (!both) d.add(pk - qk);
  }
  return d.value;
}

/**
 * log p_k - log q_k, formed so that its error is relative to itself where p_k and q_k are close:
 * of logits (or logprobs) at the same temperature, (a_k - b_k) / T - (log S_p - log S_q) with the
 * shifted logits' difference first; of probabilities within a factor 1.5 of each other,
 * log1p((x - y) / y); otherwise the two logarithms.
 */
function logRatio(p: Distribution, q: Distribution, k: number): number {
  if (p.log && q.log) {
    if (p.invT === q.invT) return (p.raw(k) - q.raw(k)) * p.invT - (p.logS - q.logS);
    return p.raw(k) * p.invT - q.raw(k) * q.invT - (p.logS - q.logS);
  }
  if (!p.log && !q.log) {
    const x = p.raw(k),
      y = q.raw(k);
    if (x > 0 && y > 0 && Math.abs(x - y) <= 0.5 * y) return Math.log1p((x - y) / y) - (p.logS - q.logS);
  }
  return p.logp(k) - q.logp(k);
}

/** phi(r) = r e^r - e^r + 1 = sum_{n >= 2} (n - 1) r^n / n!, |r| <= 1/2: the series' first 14 coefficients. */
const PHI = Array.from({ length: 14 }, (_, n) => {
  let f = 1;
  for (let j = 2; j <= n + 2; j++) f *= j;
  return (n + 1) / f; // (n + 1) / (n + 2)!, the coefficient of r^(n + 2)
});

/**
 * q phi(r), the part of class k in a KL, for p = q e^r > 0: for |r| <= 1/2 from phi's series (its
 * truncation under 1e-16 relative), else as p (r - 1) + q, whose two parts cancel by 10x at most.
 */
export function klPhiTerm(p: number, q: number, r: number): number {
  if (Math.abs(r) <= 0.5) {
    let s = 0;
    for (let n = PHI.length - 1; n >= 0; n--) s = s * r + PHI[n];
    return q * r * r * s;
  }
  return p * (r - 1) + q;
}

/**
 * Jensen-Shannon divergence of one row: (KL(P||M) + KL(Q||M)) / 2 with M = (P + Q) / 2, summed as
 * one non-negative term per class (jsTerm), so that near-equal rows keep their relative precision.
 */
export function jsRow(p: Distribution, q: Distribution, n: number): number {
  const d = new Sum();
  for (let k = 0; k < n; k++) d.add(jsTerm(p.p(k), q.p(k)));
  return d.value;
}

/**
 * One class's part of a Jensen-Shannon divergence, (p log(p/m) + q log(q/m)) / 2 with m = (p + q) / 2.
 * With s = p + q and u = (p - q) / s it is s g(u) / 4, g(u) = (1 + u) log(1 + u) + (1 - u) log(1 - u)
 * >= 0. Written as the two logarithms, it is a difference of two terms of size |u| for a sum of
 * size u^2: 1e-16 absolute per row lost to cancellation, which is everything for rows 1e-8 apart.
 * For |u| <= 1/2, g(u) = 2u atanh(u) + log1p(-u^2), whose two parts cancel by half at most; for
 * |u| > 1/2 (one of p, q over three times the other) the logarithms themselves cancel little.
 * A negative or NaN p or q gives NaN; p = q = 0 gives 0.
 */
export function jsTerm(p: number, q: number): number {
  if (!(p >= 0 && q >= 0)) return NaN;
  const s = p + q;
  if (s === 0) return 0;
  const u = (p - q) / s;
  if (Math.abs(u) <= 0.5) return 0.25 * s * (2 * u * Math.atanh(u) + Math.log1p(-u * u));
  return 0.5 * ((p === 0 ? 0 : p * Math.log((2 * p) / s)) + (q === 0 ? 0 : q * Math.log((2 * q) / s)));
}

/** Entropy of one row: -sum_k p_k log p_k; p_k = 0 contributes 0. */
export function entropyRow(p: Distribution, n: number): number {
  const h = new Sum();
  for (let k = 0; k < n; k++) {
    const pk = p.p(k);
    if (pk !== 0) h.add(-pk * p.logp(k));
  }
  return h.value;
}

/**
 * Binary cross-entropy of one element.
 * probs: -(pw y max(log x, -100) + (1 - y) max(log(1 - x), -100)), PyTorch's clamp of each log;
 * logits: (1 - y) x + (1 + (pw - 1) y) (log(1 + exp(-|x|)) + max(-x, 0)), the stable form of
 * -(pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))).
 */
export function bceElement(y: number, x: number, pw: number, mode: Mode): number {
  if (mode === LOGITS) {
    return (1 - y) * x + (1 + (pw - 1) * y) * (Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0));
  }
  return -(pw * y * Math.max(Math.log(x), -100) + (1 - y) * Math.max(Math.log(1 - x), -100));
}

/**
 * Evaluation of one row of logits against class t: its cross-entropy, the entropy of its softmax,
 * and t's rank: how many classes come before t when sorting by logit, largest first, ties in index
 * order (rank 0 is argmax with the first index winning ties, as numpy's and PyTorch's argmax).
 */
export function evaluateRow(x: FloatArray, off: number, n: number, t: number): [number, number, number] {
  const p = distribution(x, off, n, LOGITS, 1, false);
  let rank = 0;
  for (let k = 0; k < n; k++) {
    if (x[off + k] > x[off + t] || (x[off + k] === x[off + t] && k < t)) rank++;
  }
  return [nllRow(x, off, n, t, LOGITS, 0), entropyRow(p, n), rank];
}

/**
 * Cross-entropy from logits with its gradient, row by row: the row's loss sum_k c_k (-log p_k),
 * c_k = w_k (alpha y_k + beta) (y the one-hot of t[r], or the dense row), written to out[r]; its
 * gradient scale[r] (A p_k - c_k), A = sum_k c_k. Rows with t[r] < 0: loss and gradient 0.
 */
export function ceGradRows(
  x: FloatArray,
  t: Int32Array | null,
  y: FloatArray | null,
  w: FloatArray | null,
  rows: number,
  classes: number,
  alpha: number,
  beta: number,
  scale: Float64Array,
  grad: FloatArray,
  out: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * classes;
    if (t !== null && t[r] < 0) {
      grad.fill(0, off, off + classes);
      out[r] = 0;
      continue;
    }
    // c_k: the weight of -log p_k in this row's loss; the gradient of sum_k c_k (-log p_k) is A p_k - c_k.
    const c = (k: number) => (w === null ? 1 : w[k]) * (alpha * (t !== null ? (k === t[r] ? 1 : 0) : y === null ? 0 : y[off + k]) + beta);
    const p = distribution(x, off, classes, LOGITS, 1, false);
    const A = new Sum(),
      loss = new Sum();
    for (let k = 0; k < classes; k++) {
      A.add(c(k));
      if (c(k) !== 0) loss.add(-c(k) * p.logp(k));
    }
    for (let k = 0; k < classes; k++) grad[off + k] = scale[r] * (A.value * p.p(k) - c(k));
    out[r] = loss.value;
  }
}

/** KL(softmax(x/T) || softmax(y/T)) per row in out, and its gradient scale[r] (q_k - p_k) / T with respect to y. */
export function klGradRows(
  x: FloatArray,
  y: FloatArray,
  rows: number,
  classes: number,
  invT: number,
  scale: Float64Array,
  grad: FloatArray,
  out: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * classes;
    const p = distribution(x, off, classes, LOGITS, invT, false),
      q = distribution(y, off, classes, LOGITS, invT, false);
    out[r] = klRow(p, q, classes);
    // d KL(p || q) / d y_k = (q_k - p_k) / T
    for (let k = 0; k < classes; k++) grad[off + k] = scale[r] * (q.p(k) - p.p(k)) * invT;
  }
}
