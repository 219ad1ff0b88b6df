// Focal loss (Lin et al. 2017): per row of a multiclass prediction, and per element of a binary one.
// Computed in f64 whatever the input type: gamma multiplies the relative error of 1 - q, so a
// float32 exp (2e-7) would cost up to 1e-6 at gamma = 5; in f64 the error stays near 1e-15.
// The reference (src/reference/focal.ts) computes the same formulas in the same order, except that
// the SIMD build's general path over logits (logitRowSimd) multiplies by 1/S where they divide by S.
//
// Multiclass, per row r: out[r] = sum_k v_k c_k (1 - q_k)^gamma (-log q_k), c_k = a y_k + b.
// The two factors that lose precision when written naively, for q_k near 1:
//   1 - q_k: from logits, O_k / S, O_k the sum of the other classes' e_j = exp(x_j - max)
//            (never 1 - e_k / S); from log-probabilities -expm1(log q_k); from probabilities
//            1 - q_k (exact for q_k >= 1/2).
//   -log q_k: from logits, log1p(O) - (x_k - max), O the others' sum of a class at the maximum,
//            so that log1p keeps the relative precision of a value near 0.
// O_k comes from one pass over the row: L = sum of e_j over the classes below the maximum and
// n = the number of classes at it. A class at the maximum has O_k = L + (n - 1), any other
// O_k = S - e_k with S = L + n >= 1 + e_k and e_k < 1, which cancels by a factor 3 at most.
import { LOGITS, LOGPROBS, PROBS, ld, sumReset, add0, add1, sum0, sum1 } from "./common";
import { expf64x2Low, promoteLow, promoteHigh, hsum64, hmax32 } from "../math/vmath";

// The prepared row of logits (logitStats): its maximum, S = sum_j e_j, the others' sum O of a
// class at the maximum, and log1p(O) = log S. In globals: each instance (thread) has its own.
let rowM = 0.0, rowS = 1.0, rowO = 0.0, rowLogS = 0.0;

/**
 * (1 - q)^gamma: gamma 0 gives 1 (also 0^0), 1 and 2 are spelled out (exact to one rounding and
 * no pow), any other gamma is Math.pow.
 */
// @ts-ignore: decorator
@inline
export function focalFactor(u: f64, gamma: f64): f64 {
  if (gamma == 2) return u * u;
  if (gamma == 0) return 1.0;
  if (gamma == 1) return u;
  return Math.pow(u, gamma);
}

/** Sets the prepared row from its maximum m, the sum below the maximum and the count at it. */
function finishStats(m: f64, below: f64, atMax: f64): void {
  rowM = m;
  if (!isFinite(m)) { // a NaN or +inf logit, or only -inf ones: every class with c_k != 0 is NaN
    rowS = NaN; rowO = NaN; rowLogS = NaN;
    return;
  }
  rowO = below + (atMax - 1);
  rowS = rowO + 1;
  rowLogS = Math.log1p(rowO);
}

/** Scalar pass: the whole engine of the scalar module. A NaN logit makes m NaN (max propagates it). */
function logitStatsScalar<T>(row: usize, K: i32): void {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = max(m, ld<T>(row, k));
  if (!isFinite(m)) { finishStats(m, NaN, 0); return; }
  sumReset();
  let atMax = 0.0;
  for (let k = 0; k < K; k++) {
    const d = ld<T>(row, k) - m;
    if (d == 0) atMax += 1;
    else add0(Math.exp(d));
  }
  finishStats(m, sum0(), atMax);
}

/**
 * Two f64x2 lanes of differences x - m into the running sums: e^d where d != 0 (a NaN lane gives
 * NaN, a -inf lane 0), a count of 1 where d == 0.
 */
// @ts-ignore: decorator
@inline
function accBelow(acc: v128, d: v128): v128 {
  return f64x2.add(acc, v128.andnot(expf64x2Low(d), f64x2.eq(d, f64x2.splat(0))));
}

// @ts-ignore: decorator
@inline
function accAtMax(acc: v128, d: v128): v128 {
  return f64x2.add(acc, v128.and(f64x2.eq(d, f64x2.splat(0)), f64x2.splat(1)));
}

/**
 * SIMD pass over a float32 row: the maximum in f32x4 (pmax skips NaN; the NaN lanes then give
 * e^NaN = NaN in the sum), then e^(x - m) in f64x2 (expf64x2Low, 7e-16 relative), in blocks of
 * 64 elements added to a compensated sum (common.ts).
 */
function logitStatsF32(row: usize, K: i32): void {
  let m0 = f32x4.splat(-Infinity), m1 = m0;
  let i = 0;
  for (; i + 8 <= K; i += 8) {
    m0 = f32x4.pmax(m0, v128.load(row + (<usize>i << 2)));
    m1 = f32x4.pmax(m1, v128.load(row + (<usize>i << 2), 16));
  }
  if (i + 4 <= K) { m0 = f32x4.pmax(m0, v128.load(row + (<usize>i << 2))); i += 4; }
  let mf = hmax32(f32x4.pmax(m0, m1));
  for (; i < K; i++) mf = max(mf, load<f32>(row + (<usize>i << 2)));
  const m = <f64>mf;
  if (!isFinite(m)) { finishStats(m, NaN, 0); return; }
  const mV = f64x2.splat(m);
  let n = f64x2.splat(0);
  sumReset();
  i = 0;
  while (i + 4 <= K) {
    let a0 = f64x2.splat(0), a1 = a0;
    const end = min(K - 3, i + 64);
    for (; i < end; i += 4) {
      const v = v128.load(row + (<usize>i << 2));
      const d0 = f64x2.sub(promoteLow(v), mV), d1 = f64x2.sub(promoteHigh(v), mV);
      a0 = accBelow(a0, d0);
      a1 = accBelow(a1, d1);
      n = accAtMax(accAtMax(n, d0), d1);
    }
    add0(hsum64(f64x2.add(a0, a1)));
  }
  if (i < K) {
    let a = f64x2.splat(0);
    for (; i < K; i += 2) {
      const x0 = <f64>load<f32>(row + (<usize>i << 2));
      const x1 = i + 1 < K ? <f64>load<f32>(row + (<usize>(i + 1) << 2)) : -Infinity;
      const d = f64x2.sub(f64x2(x0, x1), mV);
      a = accBelow(a, d);
      n = accAtMax(n, d);
    }
    add0(hsum64(a));
  }
  finishStats(m, sum0(), hsum64(n));
}

/** logitStatsF32 for a float64 row. */
function logitStatsF64(row: usize, K: i32): void {
  let m0 = f64x2.splat(-Infinity), m1 = m0;
  let i = 0;
  for (; i + 4 <= K; i += 4) {
    m0 = f64x2.pmax(m0, v128.load(row + (<usize>i << 3)));
    m1 = f64x2.pmax(m1, v128.load(row + (<usize>i << 3), 16));
  }
  m0 = f64x2.pmax(m0, m1);
  let m = max(f64x2.extract_lane(m0, 0), f64x2.extract_lane(m0, 1));
  for (; i < K; i++) m = max(m, load<f64>(row + (<usize>i << 3)));
  if (!isFinite(m)) { finishStats(m, NaN, 0); return; }
  const mV = f64x2.splat(m);
  let n = f64x2.splat(0);
  sumReset();
  i = 0;
  while (i + 4 <= K) {
    let a0 = f64x2.splat(0), a1 = a0;
    const end = min(K - 3, i + 64);
    for (; i < end; i += 4) {
      const d0 = f64x2.sub(v128.load(row + (<usize>i << 3)), mV), d1 = f64x2.sub(v128.load(row + (<usize>i << 3), 16), mV);
      a0 = accBelow(a0, d0);
      a1 = accBelow(a1, d1);
      n = accAtMax(accAtMax(n, d0), d1);
    }
    add0(hsum64(f64x2.add(a0, a1)));
  }
  if (i < K) {
    let a = f64x2.splat(0);
    for (; i < K; i += 2) {
      const x1 = i + 1 < K ? load<f64>(row + (<usize>(i + 1) << 3)) : -Infinity;
      const d = f64x2.sub(f64x2(load<f64>(row + (<usize>i << 3)), x1), mV);
      a = accBelow(a, d);
      n = accAtMax(n, d);
    }
    add0(hsum64(a));
  }
  finishStats(m, sum0(), hsum64(n));
}

/** Prepares a row of logits (rowM, rowS, rowO, rowLogS). Uses sum slot 0 only. */
// @ts-ignore: decorator
@inline
function logitStats<T>(row: usize, K: i32): void {
  if (ASC_FEATURE_SIMD) {
    if (sizeof<T>() == 4) logitStatsF32(row, K);
    else logitStatsF64(row, K);
  } else logitStatsScalar<T>(row, K);
}

/** coef (1 - q)^gamma (-log q) of one class of the prepared row of logits, x its logit. */
// @ts-ignore: decorator
@inline
function logitTerm(x: f64, coef: f64, gamma: f64): f64 {
  const d = x - rowM;
  let u: f64, l: f64;
  if (d == 0) { // a class at the maximum: q may be near 1
    u = rowO / rowS;
    l = rowLogS;
  } else { // q < 1/2: 1 - q >= 1/2, and -log q = log S - d, two non-negative parts
    u = (rowS - Math.exp(d)) / rowS;
    l = rowLogS - d;
  }
  return coef * focalFactor(u, gamma) * l;
}

/** (1 - q)^gamma of two lanes: as focalFactor, pow lane by lane for other gammas. */
// @ts-ignore: decorator
@inline
function focalFactor2(u: v128, gamma: f64): v128 {
  if (gamma == 2) return f64x2.mul(u, u);
  if (gamma == 0) return f64x2.splat(1);
  if (gamma == 1) return u;
  return f64x2(Math.pow(f64x2.extract_lane(u, 0), gamma), Math.pow(f64x2.extract_lane(u, 1), gamma));
}

/**
 * logitTerm of two classes, d = x - m and c = v_k c_k lane-wise: the same formulas with
 * expf64x2Low for the exp, and 1 - q = O_k * (1 / S) (f64x2 division is several times slower than a
 * product; one rounding more, 1.1e-16). Lanes with c = 0 give 0, also where -log q is +inf (a -inf
 * logit). S, invS, O, logS: the prepared row's values, splatted.
 */
// @ts-ignore: decorator
@inline
function logitTerm2(d: v128, c: v128, gamma: f64, S: v128, invS: v128, O: v128, logS: v128): v128 {
  const u = f64x2.mul(v128.bitselect(O, f64x2.sub(S, expf64x2Low(d)), f64x2.eq(d, f64x2.splat(0))), invS);
  const term = f64x2.mul(f64x2.mul(c, focalFactor2(u, gamma)), f64x2.sub(logS, d));
  return v128.andnot(term, f64x2.eq(c, f64x2.splat(0)));
}

/** Two consecutive elements k, k + 1 of a row of T as f64x2. */
// @ts-ignore: decorator
@inline
function loadPair<T>(ptr: usize, k: i32): v128 {
  if (sizeof<T>() == 4) return f64x2.promote_low_f32x4(v128.load64_zero(ptr + (<usize>k << 2)));
  return v128.load(ptr + (<usize>k << 3));
}

/**
 * The general row of logits in the SIMD build (dense targets, label smoothing): sum_k of
 * logitTerm over every class, two classes per step, in blocks of 64 classes added to a
 * compensated sum (slot 1). The row must be prepared (logitStats). t >= 0: the class index (y its
 * one-hot); else y is the dense row at yRow, or 0 when yRow is 0.
 */
function logitRowSimd<T>(row: usize, yRow: usize, vPtr: usize, K: i32, t: i32, gamma: f64, a: f64, b: f64): f64 {
  const mV = f64x2.splat(rowM), aV = f64x2.splat(a), bV = f64x2.splat(b), tV = f64x2.splat(<f64>t);
  const S = f64x2.splat(rowS), invS = f64x2.splat(1 / rowS), O = f64x2.splat(rowO), logS = f64x2.splat(rowLogS);
  const one = f64x2.splat(1), two = f64x2.splat(2);
  let kV = f64x2(0, 1);
  let k = 0;
  while (k + 2 <= K) {
    let acc = f64x2.splat(0);
    const end = min(K - 1, k + 64);
    for (; k < end; k += 2) {
      const y = yRow != 0 ? loadPair<T>(yRow, k) : v128.and(f64x2.eq(kV, tV), one);
      const v = vPtr != 0 ? v128.load(vPtr + (<usize>k << 3)) : one;
      acc = f64x2.add(acc, logitTerm2(f64x2.sub(loadPair<T>(row, k), mV), f64x2.mul(v, f64x2.add(f64x2.mul(aV, y), bV)), gamma, S, invS, O, logS));
      kV = f64x2.add(kV, two);
    }
    add1(hsum64(acc));
  }
  if (k < K) { // the last class of an odd row, in lane 0
    const y = yRow != 0 ? ld<T>(yRow, k) : k == t ? 1.0 : 0.0;
    const c = (vPtr != 0 ? load<f64>(vPtr + (<usize>k << 3)) : 1.0) * (a * y + b);
    add1(hsum64(logitTerm2(f64x2(ld<T>(row, k) - rowM, -Infinity), f64x2(c, 0), gamma, S, invS, O, logS)));
  }
  return sum1();
}

/** The same term from a probability (1 - q exact for q >= 1/2) or a log-probability. */
// @ts-ignore: decorator
@inline
function givenTerm(x: f64, qMode: i32, coef: f64, gamma: f64): f64 {
  if (qMode == PROBS) return coef * focalFactor(1 - x, gamma) * -Math.log(x);
  return coef * focalFactor(-Math.expm1(x), gamma) * -x;
}

/**
 * Focal loss per row: out[r] = sum_k v_k c_k (1 - q_k)^gamma (-log q_k), one f64 per row at outPtr.
 *
 * - qPtr: rows x classes of T, row-major: logits (qMode LOGITS, q = softmax), log-probabilities
 *   (LOGPROBS) or probabilities (PROBS), used as given (not renormalised).
 * - c_k = a y_k + b with y the one-hot of the class index t_r (i32 at tPtr; t_r < 0: the row is
 *   ignored and gives 0) or a dense target row (T at yPtr, rows x classes); with neither (both 0),
 *   c_k = b. Class indices must be < classes (not checked).
 * - vPtr: `classes` f64 coefficients v_k (alpha_k weight_k), or 0 for all 1.
 * - gamma >= 0; (1 - q)^0 = 1, also at q = 1.
 * Terms with v_k c_k = 0 are 0, even where q_k = 0. A row of logits with a NaN or +inf, or only
 * -inf, gives NaN if any v_k c_k != 0.
 * With a = 1, b = 0 and class indices, only the target class is computed: O(1) per row from
 * probabilities or log-probabilities, one SIMD pass over the row from logits. Other rows of logits
 * take two passes (logitStats, then logitRowSimd in the SIMD build); rows of probabilities or
 * log-probabilities one scalar pass. Results depend on the row alone, not on its position in the
 * batch.
 */
export function focalRows<T>(tPtr: usize, yPtr: usize, qPtr: usize, vPtr: usize, rows: i32, classes: i32,
                             qMode: i32, gamma: f64, a: f64, b: f64, outPtr: usize): void {
  if (qMode != LOGITS && qMode != LOGPROBS && qMode != PROBS) unreachable(); // an unknown mode is never another one
  const K = classes;
  const oneClass = tPtr != 0 && a == 1 && b == 0;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>K << alignof<T>();
    const row = qPtr + off;
    const t = tPtr != 0 ? load<i32>(tPtr + (<usize>r << 2)) : 0;
    let loss = 0.0;
    if (t >= 0) {
      if (oneClass) {
        const coef = vPtr != 0 ? load<f64>(vPtr + (<usize>t << 3)) : 1.0;
        if (coef != 0) {
          const x = ld<T>(row, t);
          if (qMode == LOGITS) {
            logitStats<T>(row, K);
            loss = logitTerm(x, coef, gamma);
          } else loss = givenTerm(x, qMode, coef, gamma);
        }
      } else if (ASC_FEATURE_SIMD && qMode == LOGITS) {
        sumReset();
        logitStats<T>(row, K);
        loss = logitRowSimd<T>(row, yPtr != 0 ? yPtr + off : 0, vPtr, K, tPtr != 0 ? t : -1, gamma, a, b);
      } else {
        sumReset();
        if (qMode == LOGITS) logitStats<T>(row, K);
        for (let k = 0; k < K; k++) {
          const y = tPtr != 0 ? (k == t ? 1.0 : 0.0) : yPtr != 0 ? ld<T>(yPtr + off, k) : 0.0;
          const coef = (vPtr != 0 ? load<f64>(vPtr + (<usize>k << 3)) : 1.0) * (a * y + b);
          if (coef == 0) continue;
          const x = ld<T>(row, k);
          add1(qMode == LOGITS ? logitTerm(x, coef, gamma) : givenTerm(x, qMode, coef, gamma));
        }
        loss = sum1();
      }
    }
    store<f64>(outPtr + (<usize>r << 3), loss);
  }
}

/**
 * Binary focal loss of one element (torchvision's sigmoid_focal_loss for LOGITS):
 * ce (1 - p_t)^gamma, times alpha_t = alpha y + (1 - alpha)(1 - y) when alpha >= 0.
 * LOGITS: p = sigmoid(x); ce = y softplus(-x) + (1 - y) softplus(x) (the stable
 *   max(x, 0) - x y + log1p(e^-|x|) as two non-negative parts, no cancellation for y in [0, 1]);
 *   1 - p_t = y sigmoid(-x) + (1 - y) sigmoid(x), each sigmoid to full relative precision.
 * PROBS: p = x; ce = -(y max(log p, -100) + (1 - y) max(log1p(-p), -100)), PyTorch's clamp;
 *   1 - p_t = y (1 - p) + (1 - y) p.
 */
// @ts-ignore: decorator
@inline
export function binaryFocalElement(y: f64, x: f64, mode: i32, gamma: f64, alpha: f64): f64 {
  let ce: f64, u: f64;
  if (mode == LOGITS) {
    const e = Math.exp(-Math.abs(x));
    const l = Math.log1p(e);
    const big = 1 / (1 + e), small = e * big; // sigmoid(|x|), sigmoid(-|x|)
    const p = x >= 0 ? big : small, pc = x >= 0 ? small : big;
    ce = y * (max(-x, 0.0) + l) + (1 - y) * (max(x, 0.0) + l);
    u = y * pc + (1 - y) * p;
  } else {
    ce = -(y * max(Math.log(x), -100.0) + (1 - y) * max(Math.log1p(-x), -100.0));
    u = y * (1 - x) + (1 - y) * x;
  }
  let loss = ce * focalFactor(u, gamma);
  if (alpha >= 0) loss *= alpha * y + (1 - alpha) * (1 - y);
  return loss;
}

/**
 * Binary focal loss per element: n targets y (T at yPtr) and predictions x (T at xPtr; mode LOGITS
 * or PROBS), one f64 per element at outPtr. alpha < 0 (e.g. -1): no alpha_t factor.
 */
export function binaryFocal<T>(yPtr: usize, xPtr: usize, n: i32, mode: i32, gamma: f64, alpha: f64, outPtr: usize): void {
  if (mode != LOGITS && mode != PROBS) unreachable();
  for (let i = 0; i < n; i++) {
    store<f64>(outPtr + (<usize>i << 3), binaryFocalElement(ld<T>(yPtr, i), ld<T>(xPtr, i), mode, gamma, alpha));
  }
}
