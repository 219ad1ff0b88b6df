// What the kernels share: the ABI's numbers (what a row holds, which measure), compensated f64
// sums (the scalar kernels and the SIMD float64 ones), phi's series coefficients (the scalar and
// the SIMD float64 KL), and the row helpers of the scalar kernels (generic.ts). The scalar paths
// are generic over the element type T (f32 or f64) and compute in f64; they are the whole engine of
// the scalar module, most of the f64 engine of both modules, and the path of the rarer mode
// combinations.

// The ABI's numbers are inlined (@inline), so that a comparison with a name compiles as with the
// number itself.

/** What a float row holds. Same numbers as the TypeScript side (src/kernels/modes.ts). */
// @ts-ignore: decorator
@inline export const LOGITS: i32 = 0;
// @ts-ignore: decorator
@inline export const LOGPROBS: i32 = 1;
// @ts-ignore: decorator
@inline export const PROBS: i32 = 2;

/** Two-input measures of pair_rows. */
// @ts-ignore: decorator
@inline export const OP_CE: i32 = 0;
// @ts-ignore: decorator
@inline export const OP_KL: i32 = 1;
// @ts-ignore: decorator
@inline export const OP_JS: i32 = 2;

// @ts-ignore: decorator
@inline
export function ld<T>(ptr: usize, i: i32): f64 {
  return <f64>load<T>(ptr + (<usize>i << alignof<T>()));
}

// Compensated (Neumaier) float64 sums in three slots, kept in wasm globals (each instance has its
// own). Plain summation of n terms can drift by n * 1.1e-16 relative: at 10^5 classes that is
// 1e-11, above the 1e-12 held for float64 inputs; compensated, about one rounding whatever n.
let s0 = 0.0, c0 = 0.0, s1 = 0.0, c1 = 0.0, s2 = 0.0, c2 = 0.0;

// @ts-ignore: decorator
@inline
export function sumReset(): void {
  s0 = 0; c0 = 0; s1 = 0; c1 = 0; s2 = 0; c2 = 0;
}

// @ts-ignore: decorator
@inline
export function add0(x: f64): void {
  const t = s0 + x;
  c0 += Math.abs(s0) >= Math.abs(x) ? (s0 - t) + x : (x - t) + s0;
  s0 = t;
}

// @ts-ignore: decorator
@inline
export function add1(x: f64): void {
  const t = s1 + x;
  c1 += Math.abs(s1) >= Math.abs(x) ? (s1 - t) + x : (x - t) + s1;
  s1 = t;
}

// @ts-ignore: decorator
@inline
export function add2(x: f64): void {
  const t = s2 + x;
  c2 += Math.abs(s2) >= Math.abs(x) ? (s2 - t) + x : (x - t) + s2;
  s2 = t;
}

// @ts-ignore: decorator
@inline
export function sum0(): f64 { return isFinite(s0) ? s0 + c0 : s0; }
// @ts-ignore: decorator
@inline
export function sum1(): f64 { return isFinite(s1) ? s1 + c1 : s1; }
// @ts-ignore: decorator
@inline
export function sum2(): f64 { return isFinite(s2) ? s2 + c2 : s2; }

/** Largest element of a row; NaN if any is NaN; -inf for an all -inf row. */
export function rowMax<T>(ptr: usize, n: i32): f64 {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = max(m, ld<T>(ptr, i));
  return m;
}

/** sum_k exp((x_k - m) * invT) in f64. */
export function rowSumExp<T>(ptr: usize, n: i32, m: f64, invT: f64): f64 {
  sumReset();
  for (let i = 0; i < n; i++) add0(Math.exp((ld<T>(ptr, i) - m) * invT));
  return sum0();
}

export function rowSum<T>(ptr: usize, n: i32): f64 {
  sumReset();
  for (let i = 0; i < n; i++) add0(ld<T>(ptr, i));
  return sum0();
}

/**
 * One side of a two-input measure (SIDE_P or SIDE_Q), prepared for a row: afterwards
 *   log p_k = (x_k - m) * invT - logS, p_k = exp((x_k - m) * invT) / S
 * for LOGITS and LOGPROBS, and
 *   log p_k = log x_k - logS, p_k = x_k / S
 * for PROBS. Without `normalize`, LOGPROBS and PROBS rows are used as given. Any other mode traps,
 * so sideLogP, sideP and klLogRatio, which read the prepared sides, only tell PROBS from the two
 * log-space modes.
 * The state lives in wasm globals, not in memory: every instance (every thread sharing a memory)
 * has its own.
 */
export const SIDE_P: i32 = 0;
export const SIDE_Q: i32 = 1;
let pM = 0.0, pInvT = 1.0, pS = 1.0, pLogS = 0.0;
let qM = 0.0, qInvT = 1.0, qS = 1.0, qLogS = 0.0;

export function prepareSide<T>(side: i32, ptr: usize, n: i32, mode: i32, invT: f64, normalize: bool): void {
  let m = 0.0, t = 1.0, s = 1.0, logS = 0.0;
  if (mode == PROBS) {
    if (normalize) { s = rowSum<T>(ptr, n); logS = Math.log(s); }
  } else if (mode == LOGITS || mode == LOGPROBS) {
    if (mode == LOGITS || normalize) {
      t = mode == LOGITS ? invT : 1.0;
      m = rowMax<T>(ptr, n);
      s = rowSumExp<T>(ptr, n, m, t);
      logS = Math.log(s);
    }
  } else unreachable();
  if (side == SIDE_P) { pM = m; pInvT = t; pS = s; pLogS = logS; }
  else { qM = m; qInvT = t; qS = s; qLogS = logS; }
}

// @ts-ignore: decorator
@inline
export function sideLogP(side: i32, mode: i32, x: f64): f64 {
  const logS = side == SIDE_P ? pLogS : qLogS;
  return mode == PROBS ? Math.log(x) - logS : (x - (side == SIDE_P ? pM : qM)) * (side == SIDE_P ? pInvT : qInvT) - logS;
}

// @ts-ignore: decorator
@inline
export function sideP(side: i32, mode: i32, x: f64): f64 {
  const s = side == SIDE_P ? pS : qS;
  return mode == PROBS ? x / s : Math.exp((x - (side == SIDE_P ? pM : qM)) * (side == SIDE_P ? pInvT : qInvT)) / s;
}

/**
 * log p_k - log q_k of the two prepared sides, as the reference's logRatio (src/reference/rows.ts):
 * of log-space rows at the same temperature the shifted values' difference first, then the
 * normalisers'; of probabilities within a factor 1.5 of each other log1p((x - y) / y); otherwise
 * the two logarithms.
 */
export function klLogRatio(pMode: i32, qMode: i32, x: f64, y: f64): f64 {
  if (pMode != PROBS && qMode != PROBS) {
    if (pInvT == qInvT) return ((x - pM) - (y - qM)) * pInvT - (pLogS - qLogS);
    return (x - pM) * pInvT - (y - qM) * qInvT - (pLogS - qLogS);
  }
  if (pMode == PROBS && qMode == PROBS && x > 0 && y > 0 && Math.abs(x - y) <= 0.5 * y) return Math.log1p((x - y) / y) - (pLogS - qLogS);
  return sideLogP(SIDE_P, pMode, x) - sideLogP(SIDE_Q, qMode, y);
}

/**
 * phi(r) = r e^r - e^r + 1 = r^2 sum_n PHI[n] r^n, PHI[n] = (n + 1) / (n + 2)!, for |r| <= 1/2 (the
 * reference's PHI, src/reference/rows.ts; truncated under 1e-16 relative). Shared by klPhiTerm and
 * the SIMD kernels' lane-wise series (phiSeries64 in kl.ts).
 */
export const PHI: StaticArray<f64> = [
  1.0 / 2.0, 2.0 / 6.0, 3.0 / 24.0, 4.0 / 120.0, 5.0 / 720.0, 6.0 / 5040.0, 7.0 / 40320.0,
  8.0 / 362880.0, 9.0 / 3628800.0, 10.0 / 39916800.0, 11.0 / 479001600.0, 12.0 / 6227020800.0,
  13.0 / 87178291200.0, 14.0 / 1307674368000.0,
];

/**
 * q phi(r), phi(r) = r e^r - e^r + 1 >= 0, the part of one class in a KL for p = q e^r > 0, as the
 * reference's klPhiTerm: phi's series (PHI) for |r| <= 1/2, else p (r - 1) + q.
 */
export function klPhiTerm(p: f64, q: f64, r: f64): f64 {
  if (Math.abs(r) <= 0.5) {
    let s = 0.0;
    for (let n = PHI.length - 1; n >= 0; n--) s = s * r + unchecked(PHI[n]);
    return q * r * r * s;
  }
  return p * (r - 1) + q;
}
