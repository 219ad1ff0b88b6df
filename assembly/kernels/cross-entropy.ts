// Cross-entropy kernels of the SIMD module:
//   ceIndexLogitsF32, ceIndexLogitsF64: logits against class indices (OP1 in the README's
//     benchmarks). float32 rows of <= 16 classes go four at a time, one row per lane; rows longer
//     than CHUNK go chunk by chunk, so that a long row is read from memory once.
//   ceDenseF32: float32 rows against dense targets (weights, label smoothing, clipping, any mode of
//     q); probabilities against plain targets (OP3) try a fast row whose ranges are checked first.
// float32: exp and log in float32 (math/vmath.ts), while every difference that could cancel and
// every sum is carried to f64: a result carries the vector exp/log's error (~2e-7 relative per
// term), not the drift of float32 sums. ceDenseF32 returns NaN for a row whose terms cancel beyond
// that, for pair_rows_f32 (index.ts) to recompute with the scalar f64 kernel (generic.ts).
// float64: f64x2 and the float64 exp, sums compensated in f64 (common.ts).
import { BLOCK, tailMask, at, at64, gather4, rowOf, rowMaxF32, rowSumExpShiftF32, rowMaxF64, rowSumExpF64 } from "./rows";
import { LOGITS, LOGPROBS, PROBS } from "./common";
import { expf4Low, logf4, logf4Normal, loadTailF32, promoteLow, promoteHigh, hsum64, hsumI32 } from "../math/vmath";

/**
 * Cross-entropy of float32 logits against class indices: out[r] = -log softmax(x_r)[t_r]; 0 where
 * t_r < 0 (ignored).
 */
export function ceIndexLogitsF32(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  if (classes <= 16) {
    ceIndexSmallF32(xPtr, tPtr, rows, classes, outPtr);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const row = xPtr + (<usize>r * <usize>classes << 2);
    const t = load<i32>(tPtr + (<usize>r << 2));
    let loss = 0.0;
    if (t >= 0 && classes > CHUNK) loss = ceChunkedF32(row, classes, t);
    else if (t >= 0) {
      const m = rowMaxF32(row, classes);
      // A row whose maximum is infinite (all -inf, or a +inf logit) has no softmax: NaN.
      loss = isFinite(m) ? (<f64>m - <f64>load<f32>(at(row, t))) + Math.log(rowSumExpShiftF32(row, classes, m)) : NaN;
    }
    store<f64>(outPtr + (<usize>r << 3), loss);
  }
}

/**
 * ceIndexLogitsF32 for short rows (classes <= 16), four rows at a time, one per lane: lane j holds
 * row r + j, so the maximum and the sum need no horizontal step and no tail mask. Terms equal to a
 * row's maximum are counted apart, the rest summed in float32 (at most 16 additions per lane,
 * flushed to f64 every 8). Every row of the call goes through here (a last group of fewer than four
 * repeats its last row in the spare lanes), so a row's value does not depend on which rows share
 * its call.
 */
function ceIndexSmallF32(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  const stride = <usize>classes << 2;
  for (let r = 0; r < rows; r += 4) {
    const p0 = xPtr + <usize>r * stride, p1 = rowOf(xPtr, r, 1, rows, stride);
    const p2 = rowOf(xPtr, r, 2, rows, stride), p3 = rowOf(xPtr, r, 3, rows, stride);
    let m = f32x4.splat(-Infinity);
    for (let k = 0; k < classes; k++) m = f32x4.pmax(m, gather4(p0, p1, p2, p3, <usize>k << 2));
    let s = f32x4.splat(0), ones = i32x4.splat(0), acc = f64x2.splat(0), acc1 = acc;
    for (let k = 0; k < classes; k++) {
      const x = gather4(p0, p1, p2, p3, <usize>k << 2);
      const q = f32x4.eq(x, m);
      ones = i32x4.sub(ones, q);
      s = f32x4.add(s, v128.andnot(expf4Low(f32x4.sub(x, m)), q));
      if ((k & 7) == 7) { acc = f64x2.add(acc, promoteLow(s)); acc1 = f64x2.add(acc1, promoteHigh(s)); s = f32x4.splat(0); }
    }
    acc = f64x2.add(acc, promoteLow(s)); acc1 = f64x2.add(acc1, promoteHigh(s));
    smallRow(xPtr, tPtr, outPtr, r, stride, f32x4.extract_lane(m, 0), f64x2.extract_lane(acc, 0) + <f64>i32x4.extract_lane(ones, 0));
    if (r + 1 < rows) smallRow(xPtr, tPtr, outPtr, r + 1, stride, f32x4.extract_lane(m, 1), f64x2.extract_lane(acc, 1) + <f64>i32x4.extract_lane(ones, 1));
    if (r + 2 < rows) smallRow(xPtr, tPtr, outPtr, r + 2, stride, f32x4.extract_lane(m, 2), f64x2.extract_lane(acc1, 0) + <f64>i32x4.extract_lane(ones, 2));
    if (r + 3 < rows) smallRow(xPtr, tPtr, outPtr, r + 3, stride, f32x4.extract_lane(m, 3), f64x2.extract_lane(acc1, 1) + <f64>i32x4.extract_lane(ones, 3));
  }
}

/** One lane of ceIndexSmallF32: row r's loss from its maximum m and sum S. */
// @ts-ignore: decorator
@inline
function smallRow(xPtr: usize, tPtr: usize, outPtr: usize, r: i32, stride: usize, m: f32, S: f64): void {
  const t = load<i32>(tPtr + (<usize>r << 2));
  const loss = t < 0 ? 0.0 : isFinite(m) ? (<f64>m - <f64>load<f32>(xPtr + <usize>r * stride + (<usize>t << 2))) + Math.log(S) : NaN;
  store<f64>(outPtr + (<usize>r << 3), loss);
}

/** Elements of a chunk of a long row: 16 KiB of float32, read twice while it is in L1. */
// @ts-ignore: decorator
@inline const CHUNK: i32 = 4096;

/**
 * ceIndexLogitsF32 for a row longer than CHUNK: each chunk's maximum, then its sum of exp(x_k - m_c)
 * (rowSumExpShiftF32: the same float32 blocks and exact count of the terms at the chunk's maximum),
 * the chunk sums combined in f64 as an online log-sum-exp (S e^(m - m_c) where the maximum grows,
 * Math.exp: ~1e-16 of the result). The row is read from memory once, where two whole passes over a
 * row of 128k classes (512 KiB) read it twice, the second time mostly from beyond L2.
 * The same results as the whole-row passes within their error bound (7e-7 of S): a row of -inf or
 * NaN, or with a +inf logit, gives NaN; NaN anywhere gives NaN.
 */
function ceChunkedF32(row: usize, classes: i32, t: i32): f64 {
  let m: f32 = -Infinity, s = 0.0;
  for (let i = 0; i < classes; i += CHUNK) {
    const n = min(CHUNK, classes - i), p = at(row, i);
    const mc = rowMaxF32(p, n);
    if (mc == Infinity) return NaN;
    if (mc == -Infinity) {
      s += rowSumExpShiftF32(p, n, 0); // every x_k is -inf (0) or NaN (NaN)
      continue;
    }
    const c = rowSumExpShiftF32(p, n, mc);
    if (mc > m) {
      s = s * Math.exp(<f64>m - <f64>mc) + c; // (m = -inf at first: 0 s, NaN s stays NaN)
      m = mc;
    } else s += c * Math.exp(<f64>mc - <f64>m);
  }
  if (m == -Infinity) return NaN;
  return (<f64>m - <f64>load<f32>(at(row, t))) + Math.log(s);
}

/**
 * Dense cross-entropy of float32 rows: out[r] = -sum_k c_k log q_k, c_k = w_k (a t_k + b),
 * terms with c_k = 0 are 0. t absent when tPtr = 0, w = 1 when wPtr = 0.
 * qMode LOGITS: -log q_k = (m - x_k) + log S, so out = sum c_k (m - x_k) + (sum c_k) log S;
 * LOGPROBS: -log q_k = -x_k; PROBS: -log clip(x_k, eps), where the upper clip -log(1 - eps) is
 * taken in f64, as the reference does (1 - eps is 1 in float32 for eps < 6e-8: the terms c_k eps
 * would be lost, which matters for large targets). Any other qMode traps.
 * Which terms are 0 is decided on the factors (w_k = 0, or t_k = 0 without smoothing), not on the
 * float32 product c_k, which can underflow to 0 where the f64 one is not (a label smoothing of
 * 1e-290, targets near 1e-45): such a term against q_k = 0 or NaN is infinite or NaN, as in the
 * reference, and the row goes to the f64 path. (pair_rows_f32 sends calls whose b underflows in
 * float32 to the f64 path.)
 * Sums run in float32 blocks of BLOCK/4 elements per accumulator lane (8 additions), flushed to f64;
 * the terms of S equal to 1 (at the maximum) are counted apart, as in rowSumExpShiftF32. A row whose
 * terms cancel is marked NaN, for pair_rows_f32 to recompute in f64.
 */
export function ceDenseF32(tPtr: usize, xPtr: usize, wPtr: usize, rows: i32, classes: i32,
                           qMode: i32, a: f32, b: f32, eps: f64, outPtr: usize): void {
  if (qMode != LOGITS && qMode != LOGPROBS && qMode != PROBS) unreachable();
  const aV = f32x4.splat(a), bV = f32x4.splat(b), z = f32x4.splat(0);
  const loV = f32x4.splat(<f32>eps), hiV = f32x4.splat(<f32>(1 - eps)), gHiV = f32x4.splat(<f32>-Math.log(1 - eps));
  // Lanes whose c_k is 0: t_k = 0 (when b = 0; a = 0 and b = 0: every lane) or w_k = 0.
  const zeroT = b == 0, allZero = b == 0 && a == 0;
  // Probabilities against dense targets, nothing else: ceProbsRowF32 first.
  const plainProbs = qMode == PROBS && tPtr != 0 && wPtr == 0 && eps == 0 && a == 1 && b == 0;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>classes << 2;
    const row = xPtr + off, trow = tPtr + off;
    if (plainProbs) {
      const v = ceProbsRowF32(trow, row, classes);
      if (!isNaN(v)) { store<f64>(outPtr + (<usize>r << 3), v); continue; }
    }
    const m = qMode == LOGITS ? rowMaxF32(row, classes) : <f32>0;
    if (qMode == LOGITS && !isFinite(m)) {
      store<f64>(outPtr + (<usize>r << 3), NaN); // a row of -inf, or a +inf logit: no softmax
      continue;
    }
    const mV = f32x4.splat(m);
    let sumS = f64x2.splat(0), sumC = sumS, sumG = sumS, sumAbs = sumS, ones = i32x4.splat(0);
    let i = 0;
    while (i < classes) {
      let bs = z, bc = z, bg = z, babs = z;
      const end = min(classes, i + (BLOCK >> 2));
      for (; i < end; i += 4) {
        const full = i + 4 <= classes;
        const x = full ? v128.load(at(row, i)) : loadTailF32(at(row, i), classes - i, -Infinity);
        const t = tPtr == 0 ? z : full ? v128.load(at(trow, i)) : loadTailF32(at(trow, i), classes - i, 0);
        let c = f32x4.add(f32x4.mul(aV, t), bV);
        // c_k is 0 when the float32 product is and a factor is (not by underflow: 0 * inf is NaN).
        let zf = allZero ? i32x4.splat(-1) : zeroT ? f32x4.eq(t, z) : f32x4.eq(c, z);
        if (wPtr != 0) {
          const w = full ? v128.load(at(wPtr, i)) : loadTailF32(at(wPtr, i), classes - i, 0);
          c = f32x4.mul(c, w);
          zf = v128.or(zf, f32x4.eq(w, z));
        }
        if (!full) c = v128.and(c, tailMask(classes - i));
        const cz = v128.and(f32x4.eq(c, z), full ? zf : v128.or(zf, v128.not(tailMask(classes - i))));
        // g_k = -log q_k up to the row constant (logits: m - x_k; log S is added below).
        let g: v128;
        if (qMode == LOGITS) {
          const d = f32x4.sub(x, mV);
          let q = f32x4.eq(x, mV);
          let e = expf4Low(d);
          if (!full) { const k = tailMask(classes - i); e = v128.and(e, k); q = v128.and(q, k); }
          ones = i32x4.sub(ones, q);
          bs = f32x4.add(bs, v128.andnot(e, q));
          g = f32x4.neg(d);
        } else if (qMode == LOGPROBS) {
          g = f32x4.neg(x);
        } else { // PROBS
          g = eps > 0 ? v128.bitselect(gHiV, f32x4.neg(logf4(f32x4.max(x, loV))), f32x4.ge(x, hiV)) : f32x4.neg(logf4(x));
        }
        // c_k = 0 contributes 0 even where g_k is infinite or NaN (0 log 0 = 0).
        const term = v128.bitselect(z, f32x4.mul(c, g), cz);
        bg = f32x4.add(bg, term);
        babs = f32x4.add(babs, f32x4.abs(term));
        bc = f32x4.add(bc, c);
      }
      sumG = f64x2.add(sumG, f64x2.add(promoteLow(bg), promoteHigh(bg)));
      sumAbs = f64x2.add(sumAbs, f64x2.add(promoteLow(babs), promoteHigh(babs)));
      sumC = f64x2.add(sumC, f64x2.add(promoteLow(bc), promoteHigh(bc)));
      sumS = f64x2.add(sumS, f64x2.add(promoteLow(bs), promoteHigh(bs)));
    }
    let loss = hsum64(sumG);
    // The float32 terms and block sums are within 7.5e-7 of the sum of |terms| (log or exp 2e-7,
    // products and c 2.6e-7 in all, 8 additions 4.8e-7). Where terms of both signs cancel
    // (probabilities above 1, negative weights or targets) that can exceed the accuracy contract:
    // NaN sends such a row to the f64 path.
    if (7.5e-7 * hsum64(sumAbs) > 1e-6 * Math.abs(loss) + 1e-7) loss = NaN;
    if (qMode == LOGITS) loss += hsum64(sumC) * Math.log(hsum64(sumS) + <f64>hsumI32(ones));
    store<f64>(outPtr + (<usize>r << 3), loss);
  }
}

/**
 * ceDenseF32's common case (OP3), one row: sum_k t_k (-log q_k) for targets t and probabilities q
 * with no weights, smoothing or clipping. Returns NaN (the caller then takes the general path of
 * ceDenseF32 for the row) unless every t_k is a non-negative finite float (or +0) and every q_k a
 * normal float in [2^-126, 1]: the unsigned bit patterns of those ranges are intervals, so three
 * unsigned integer min/max per vector (one instruction each) check them, and the log needs neither
 * the subnormal scaling nor the special-value selects of logf4. Every term is then >= 0: nothing
 * cancels, and the float32 block sums (8 additions per lane, flushed to f64) keep the error bound of
 * ceDenseF32 without its sum of |terms|.
 */
function ceProbsRowF32(trow: usize, row: usize, classes: i32): f64 {
  const z = f32x4.splat(0);
  let sum = f64x2.splat(0);
  let tMax = i32x4.splat(0), qMin = i32x4.splat(0x3f800000), qMax = qMin;
  let i = 0;
  while (i + 8 <= classes) {
    let b0 = z, b1 = z;
    const end = min(classes - 7, i + 64);
    for (; i < end; i += 8) {
      const t0 = v128.load(at(trow, i)), t1 = v128.load(at(trow, i), 16);
      const q0 = v128.load(at(row, i)), q1 = v128.load(at(row, i), 16);
      tMax = i32x4.max_u(tMax, i32x4.max_u(t0, t1));
      qMin = i32x4.min_u(qMin, i32x4.min_u(q0, q1));
      qMax = i32x4.max_u(qMax, i32x4.max_u(q0, q1));
      b0 = f32x4.sub(b0, f32x4.mul(t0, logf4Normal(q0)));
      b1 = f32x4.sub(b1, f32x4.mul(t1, logf4Normal(q1)));
    }
    sum = f64x2.add(sum, f64x2.add(f64x2.add(promoteLow(b0), promoteHigh(b0)), f64x2.add(promoteLow(b1), promoteHigh(b1))));
  }
  // At most 7 elements left: one or two vectors, the last one padded with t = 0, q = 1 (log 1 = 0).
  let b = z;
  for (; i < classes; i += 4) {
    const full = i + 4 <= classes;
    const t = full ? v128.load(at(trow, i)) : loadTailF32(at(trow, i), classes - i, 0);
    const q = full ? v128.load(at(row, i)) : loadTailF32(at(row, i), classes - i, 1);
    tMax = i32x4.max_u(tMax, t);
    qMin = i32x4.min_u(qMin, q);
    qMax = i32x4.max_u(qMax, q);
    b = f32x4.sub(b, f32x4.mul(t, logf4Normal(q)));
  }
  sum = f64x2.add(sum, f64x2.add(promoteLow(b), promoteHigh(b)));
  const ok = i32x4.all_true(v128.and(v128.and(i32x4.le_u(tMax, i32x4.splat(0x7f7fffff)), i32x4.ge_u(qMin, i32x4.splat(0x00800000))),
    i32x4.le_u(qMax, i32x4.splat(0x3f800000))));
  return ok ? hsum64(sum) : NaN;
}

// ---------------------------------------------------------------------------------------------
// float64 rows
// ---------------------------------------------------------------------------------------------

/** ceIndexLogitsF32 for float64 rows: out[r] = -log softmax(x_r)[t_r]; 0 where t_r < 0. */
export function ceIndexLogitsF64(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = xPtr + (<usize>r * <usize>classes << 3);
    const t = load<i32>(tPtr + (<usize>r << 2));
    let loss = 0.0;
    if (t >= 0) {
      const m = rowMaxF64(row, classes);
      loss = isFinite(m) ? (m - load<f64>(at64(row, t))) + Math.log(rowSumExpF64(row, classes, m, 1)) : NaN;
    }
    store<f64>(outPtr + (<usize>r << 3), loss);
  }
}
