// f32x4 kernels: the hot paths of the SIMD module for float32 rows. exp and log are evaluated in
// float32 (math/vmath.ts); everything that could cancel (differences of logits, of log-probabilities)
// and every sum is formed in float64, so the result carries the error of the vector exp/log
// (~2e-7 relative per term) and not the drift of float32 sums.
// Every function handles any row length: full vectors, then one masked tail vector.
import { sumReset, add0, add1, add2, sum0, sum1, sum2, PHI } from "./common";
import { expf4Low, expf64x2Low, logf4, logf4Normal, loadTailF32, promoteLow, promoteHigh, hsum64, hmax32 } from "../math/vmath";

/** Elements per float32 block before a flush to f64 (4 accumulators x 4 lanes x 8 additions). */
// @ts-ignore: decorator
@inline const BLOCK: i32 = 128;

// @ts-ignore: decorator
@inline
function tailMask(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}

// @ts-ignore: decorator
@inline
function at(ptr: usize, i: i32): usize {
  return ptr + (<usize>i << 2);
}

/**
 * Largest element of a float32 row, skipping NaN (pmax is one instruction; wasm's max, which
 * propagates NaN, is several). Every caller then takes exp(x_k - max) of each element, so a NaN
 * still makes the row NaN; a row of NaN only gives -inf, which callers also turn into NaN.
 */
export function rowMaxF32(ptr: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity), m1 = m0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    m0 = f32x4.pmax(m0, v128.load(at(ptr, i)));
    m1 = f32x4.pmax(m1, v128.load(at(ptr, i), 16));
  }
  if (i + 4 <= n) { m0 = f32x4.pmax(m0, v128.load(at(ptr, i))); i += 4; }
  m0 = f32x4.pmax(m0, loadTailF32(at(ptr, i), n - i, -Infinity));
  return hmax32(f32x4.pmax(m0, m1));
}

/** sum_k exp((x_k - m) * invT), accumulated in f64. */
export function rowSumExpF32(ptr: usize, n: i32, m: f32, invT: f32): f64 {
  if (invT == 1) return rowSumExpShiftF32(ptr, n, m);
  const mV = f32x4.splat(m), tV = f32x4.splat(invT);
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const e0 = expf4Low(f32x4.mul(f32x4.sub(v128.load(at(ptr, i)), mV), tV));
    const e1 = expf4Low(f32x4.mul(f32x4.sub(v128.load(at(ptr, i), 16), mV), tV));
    a0 = f64x2.add(a0, promoteLow(e0)); a1 = f64x2.add(a1, promoteHigh(e0));
    a2 = f64x2.add(a2, promoteLow(e1)); a3 = f64x2.add(a3, promoteHigh(e1));
  }
  for (; i < n; i += 4) {
    const x = i + 4 <= n ? v128.load(at(ptr, i)) : loadTailF32(at(ptr, i), n - i, -Infinity);
    const e = v128.and(expf4Low(f32x4.mul(f32x4.sub(x, mV), tV)), tailMask(n - i));
    a0 = f64x2.add(a0, promoteLow(e)); a1 = f64x2.add(a1, promoteHigh(e));
  }
  return hsum64(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)));
}

/**
 * sum_k exp(x_k - m), m the row maximum. The terms equal to the maximum are exactly 1 and are
 * counted, not added (a float32 partial sum holding a 1 would lose every term below 6e-8 added to
 * it); the other terms are summed in float32 in blocks of BLOCK elements, 8 additions per lane of
 * each of 4 accumulators, then flushed to f64: each block's sum is within 8 * 2^-24 = 4.8e-7 of
 * itself, relative, which with exp's 1.9e-7 bounds the sum's relative error by 7e-7.
 */
export function rowSumExpShiftF32(ptr: usize, n: i32, m: f32): f64 {
  const mV = f32x4.splat(m), z = f32x4.splat(0);
  let acc = f64x2.splat(0), ones = i32x4.splat(0);
  let i = 0;
  while (i + 16 <= n) {
    let s0 = z, s1 = z, s2 = z, s3 = z;
    const end = min(n - 15, i + BLOCK);
    for (; i < end; i += 16) {
      const x0 = v128.load(at(ptr, i)), x1 = v128.load(at(ptr, i), 16);
      const x2 = v128.load(at(ptr, i), 32), x3 = v128.load(at(ptr, i), 48);
      const q0 = f32x4.eq(x0, mV), q1 = f32x4.eq(x1, mV), q2 = f32x4.eq(x2, mV), q3 = f32x4.eq(x3, mV);
      s0 = f32x4.add(s0, v128.andnot(expf4Low(f32x4.sub(x0, mV)), q0));
      s1 = f32x4.add(s1, v128.andnot(expf4Low(f32x4.sub(x1, mV)), q1));
      s2 = f32x4.add(s2, v128.andnot(expf4Low(f32x4.sub(x2, mV)), q2));
      s3 = f32x4.add(s3, v128.andnot(expf4Low(f32x4.sub(x3, mV)), q3));
      ones = i32x4.sub(ones, i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3)));
    }
    const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
    acc = f64x2.add(acc, f64x2.add(promoteLow(s), promoteHigh(s)));
  }
  for (; i < n; i += 4) {
    const x = i + 4 <= n ? v128.load(at(ptr, i)) : loadTailF32(at(ptr, i), n - i, -Infinity);
    const q = f32x4.eq(x, mV);
    const e = v128.and(v128.andnot(expf4Low(f32x4.sub(x, mV)), q), tailMask(n - i));
    acc = f64x2.add(acc, f64x2.add(promoteLow(e), promoteHigh(e)));
    ones = i32x4.sub(ones, v128.and(q, tailMask(n - i)));
  }
  return <f64>lanes(ones) + hsum64(acc);
}

/**
 * OP1 for short rows (classes <= 16), four rows at a time, one per lane: lane j holds row r + j, so
 * the maximum and the sum need no horizontal step and no tail mask. Terms equal to a row's maximum
 * are counted apart, the rest summed in float32 (at most 16 additions per lane, flushed to f64
 * every 8). Every row of the call goes through here (a last group of fewer than four repeats its
 * last row in the spare lanes), so a row's value does not depend on which rows share its call.
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

/** The float32 at byte offset `off` of each of four rows, as one vector. */
// @ts-ignore: decorator
@inline
function gather4(p0: usize, p1: usize, p2: usize, p3: usize, off: usize): v128 {
  let v = f32x4.splat(load<f32>(p0 + off));
  v = f32x4.replace_lane(v, 1, load<f32>(p1 + off));
  v = f32x4.replace_lane(v, 2, load<f32>(p2 + off));
  return f32x4.replace_lane(v, 3, load<f32>(p3 + off));
}

/** Row r + j's address for lane j of a group of four, repeating the last row past the end. */
// @ts-ignore: decorator
@inline
function rowOf(base: usize, r: i32, j: i32, rows: i32, stride: usize): usize {
  return base + <usize>min(r + j, rows - 1) * stride;
}

// @ts-ignore: decorator
@inline
function smallRow(xPtr: usize, tPtr: usize, outPtr: usize, r: i32, stride: usize, m: f32, S: f64): void {
  const t = load<i32>(tPtr + (<usize>r << 2));
  const loss = t < 0 ? 0.0 : isFinite(m) ? (<f64>m - <f64>load<f32>(xPtr + <usize>r * stride + (<usize>t << 2))) + Math.log(S) : NaN;
  store<f64>(outPtr + (<usize>r << 3), loss);
}

/** OP1: out[r] = -log softmax(x_r)[t_r]; 0 where t_r < 0 (ignored). */
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
 * OP3's common case, one row: sum_k t_k (-log q_k) for targets t and probabilities q with no
 * weights, smoothing or clipping. Returns NaN (the caller then takes the general path of
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

/**
 * Dense cross-entropy of float32 rows: out[r] = -sum_k c_k log q_k, c_k = w_k (a t_k + b),
 * terms with c_k = 0 are 0. t absent when tPtr = 0, w = 1 when wPtr = 0.
 * qMode 0 (logits): -log q_k = (m - x_k) + log S, so out = sum c_k (m - x_k) + (sum c_k) log S;
 * 1 (logprobs): -log q_k = -x_k; 2 (probs): -log clip(x_k, eps), where the upper clip
 * -log(1 - eps) is taken in f64, as the reference does (1 - eps is 1 in float32 for eps < 6e-8:
 * the terms c_k eps would be lost, which matters for large targets; found by fuzzing).
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
  const aV = f32x4.splat(a), bV = f32x4.splat(b), z = f32x4.splat(0);
  const loV = f32x4.splat(<f32>eps), hiV = f32x4.splat(<f32>(1 - eps)), gHiV = f32x4.splat(<f32>-Math.log(1 - eps));
  // Lanes whose c_k is 0: t_k = 0 (when b = 0; a = 0 and b = 0: every lane) or w_k = 0.
  const zeroT = b == 0, allZero = b == 0 && a == 0;
  // Probabilities against dense targets, nothing else: ceProbsRowF32 first.
  const plainProbs = qMode == 2 && tPtr != 0 && wPtr == 0 && eps == 0 && a == 1 && b == 0;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>classes << 2;
    const row = xPtr + off, trow = tPtr + off;
    if (plainProbs) {
      const v = ceProbsRowF32(trow, row, classes);
      if (!isNaN(v)) { store<f64>(outPtr + (<usize>r << 3), v); continue; }
    }
    const m = qMode == 0 ? rowMaxF32(row, classes) : <f32>0;
    if (qMode == 0 && !isFinite(m)) {
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
        if (qMode == 0) {
          const d = f32x4.sub(x, mV);
          let q = f32x4.eq(x, mV);
          let e = expf4Low(d);
          if (!full) { const k = tailMask(classes - i); e = v128.and(e, k); q = v128.and(q, k); }
          ones = i32x4.sub(ones, q);
          bs = f32x4.add(bs, v128.andnot(e, q));
          g = f32x4.neg(d);
        } else if (qMode == 1) {
          g = f32x4.neg(x);
        } else {
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
    if (qMode == 0) loss += hsum64(sumC) * Math.log(hsum64(sumS) + <f64>lanes(ones));
    store<f64>(outPtr + (<usize>r << 3), loss);
  }
}

// @ts-ignore: decorator
@inline
function negInf64(): v128 {
  return f64x2.splat(-Infinity);
}

/**
 * The larger of m and the arguments t dx of lanes whose e = e^(t dx) came out 0 although x is
 * finite, where y = -inf (q = 0): the KL is infinite if the reference's e^a / S is not 0 there.
 */
// @ts-ignore: decorator
@inline
function maxFlushed(m: f64, e: v128, dx: v128, y: v128, t: v128): f64 {
  const lanes = v128.and(v128.and(f64x2.eq(e, f64x2.splat(0)), f64x2.gt(dx, negInf64())), f64x2.eq(y, negInf64()));
  const a = v128.bitselect(f64x2.mul(dx, t), negInf64(), lanes);
  return max(m, max(f64x2.extract_lane(a, 0), f64x2.extract_lane(a, 1)));
}

/**
 * KL(softmax(x/T) || softmax(y/T)) per float32 row: the fast path first (klRowFastF32, two float32
 * exps per element, no f64 exp); rows it cannot vouch for within 5e-7 of their KL (close
 * distributions, huge logits, flushed terms, non-finite values) go to klRowAccurateF32.
 */
export function klLogitsF32(xPtr: usize, yPtr: usize, rows: i32, classes: i32, invT: f64, outPtr: usize): void {
  // The float32 arguments t (x_k - mx) are off by at most 1 rounding (t = 1: the subtraction) or 3
  // (t rounded to float32, the subtraction, the product): theta of themselves.
  const theta = invT == 1 ? 5.97e-8 : 1.79e-7;
  if (classes <= 16) {
    klSmallF32(xPtr, yPtr, rows, classes, invT, theta, outPtr);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>classes << 2;
    const xr = xPtr + off, yr = yPtr + off;
    const mx = rowMaxF32(xr, classes), my = rowMaxF32(yr, classes);
    let kl: f64 = NaN; // a row of -inf, or a +inf logit: no softmax
    if (isFinite(mx) && isFinite(my)) {
      kl = klRowFastF32(xr, yr, classes, <f32>invT, theta, mx, my);
      if (isNaN(kl)) kl = klRowAccurateF32(xr, yr, classes, invT, mx, my);
    }
    store<f64>(outPtr + (<usize>r << 3), kl);
  }
}

/** Relative error of expf4Low where its result is normal (test/vmath.test.ts: measured <= 1.9e-7). */
// @ts-ignore: decorator
@inline const EXPF_ERR: f64 = 1.9e-7;

/**
 * One row of KL(softmax(x/T) || softmax(y/T)), float32, two float32 exps per element, or NaN where
 * it cannot vouch for the result within 5e-7 of itself.
 *
 * With a_k = t (x_k - mx) and b_k = t (y_k - my) in float32 (a, b below), e_k = e^(a_k), f_k = e^(b_k)
 * (expf4Low), delta_k = a_k - b_k (f64: exact) and sums in f64:
 *   KL = c + log(Sy / Sx),  c = D / Sx,  Sx = sum e_k, Sy = sum f_k, D = sum e_k delta_k,
 * the exact KL of softmax(a) and softmax(b) but for the exps' errors. To first order the result is off by
 *   - the exps' relative errors eta_k (e_k), zeta_k (f_k), |.| <= EXPF_ERR:
 *       sum p_k eta_k (delta_k - c - 1) + sum q_k zeta_k
 *     <= EXPF_ERR (sqrt(V + 1) + 1), V = E_p[(delta - c)^2] (Cauchy-Schwarz);
 *   - the arguments' rounding (|a_k - exact| <= theta |a_k|, likewise b_k), through the KL's
 *     derivatives p_k (delta_k - c) in a_k and q_k - p_k in b_k:
 *       <= theta (sqrt(V) sqrt(E_p[a^2]) + E_p|b| + E_q|b|);
 *   - the f64 sum of D: <= classes 1.2e-16 sqrt(E_p[delta^2]).
 * Their sum, with 2% to spare for the float32 sums of the bound's own terms, must be within 5e-7 of
 * the KL (the contract is 1e-6 relative); it is for logits of unrelated distributions (KL of a few
 * nats or more). A student close to its teacher is not (the first term alone is >= 3.8e-7
 * absolute): those rows, and rows where a finite x_k's e_k flushed to 0 (p_k is not 0 in f64),
 * or with a non-finite delta, return NaN for klRowAccurateF32.
 */
function klRowFastF32(xr: usize, yr: usize, classes: i32, invT: f32, theta: f64, mx: f32, my: f32): f64 {
  const mxV = f32x4.splat(mx), myV = f32x4.splat(my), tV = f32x4.splat(invT), lo = f32x4.splat(-88);
  const z64 = f64x2.splat(0), z = f32x4.splat(0);
  let sx = z64, sy = z64, d = z64, m2 = z64;
  let ea2 = z, epb = z, eqb = z, flushed = z;
  for (let i = 0; i < classes; i += 4) {
    const full = i + 4 <= classes;
    const x = full ? v128.load(at(xr, i)) : loadTailF32(at(xr, i), classes - i, -Infinity);
    const y = full ? v128.load(at(yr, i)) : loadTailF32(at(yr, i), classes - i, -Infinity);
    const a = f32x4.mul(f32x4.sub(x, mxV), tV), b = f32x4.mul(f32x4.sub(y, myV), tV);
    const ex = expf4Low(a), ey = expf4Low(b); // 0 in tail lanes (-inf)
    flushed = v128.or(flushed, v128.andnot(f32x4.gt(x, f32x4.splat(-Infinity)), f32x4.ne(ex, z)));
    const e0 = promoteLow(ex), e1 = promoteHigh(ex);
    // delta_k, 0 where e_k = 0 (p_k = 0 counts 0, even against q_k = 0)
    const dl0 = v128.and(f64x2.sub(promoteLow(a), promoteLow(b)), f64x2.ne(e0, z64));
    const dl1 = v128.and(f64x2.sub(promoteHigh(a), promoteHigh(b)), f64x2.ne(e1, z64));
    const w0 = f64x2.mul(e0, dl0), w1 = f64x2.mul(e1, dl1);
    sx = f64x2.add(sx, f64x2.add(e0, e1));
    sy = f64x2.add(sy, f64x2.add(promoteLow(ey), promoteHigh(ey)));
    d = f64x2.add(d, f64x2.add(w0, w1));
    m2 = f64x2.add(m2, f64x2.add(f64x2.mul(w0, dl0), f64x2.mul(w1, dl1)));
    const ac = f32x4.pmax(a, lo), bc = f32x4.pmax(b, lo); // -inf (masked classes, tails) -> -88
    ea2 = f32x4.add(ea2, f32x4.mul(ex, f32x4.mul(ac, ac)));
    epb = f32x4.sub(epb, f32x4.mul(ex, bc));
    eqb = f32x4.sub(eqb, f32x4.mul(ey, bc));
  }
  if (v128.any_true(flushed)) return NaN;
  return klFinish(hsum64(sx), hsum64(sy), hsum64(d), hsum64(m2), hsum32(ea2), hsum32(epb), hsum32(eqb), theta, classes);
}

/**
 * The KL of one row from klRowFastF32's sums (Sx, Sy, D, sum e_k delta_k^2, sum e_k a_k^2,
 * -sum e_k b_k, -sum f_k b_k), or NaN where the bound above exceeds 5e-7 of it.
 */
function klFinish(Sx: f64, Sy: f64, D: f64, m2: f64, ea2: f64, epb: f64, eqb: f64, theta: f64, classes: i32): f64 {
  const M2 = m2 / Sx, c = D / Sx;
  const kl = c + Math.log(Sy / Sx);
  const V = max(0, M2 - c * c);
  const bound = 1.02 * (EXPF_ERR * (Math.sqrt(V + 1) + 1)
    + theta * (Math.sqrt(V) * Math.sqrt(ea2 / Sx) + epb / Sx + eqb / Sy)
    + <f64>classes * 1.2e-16 * Math.sqrt(M2));
  return bound <= 5e-7 * kl ? kl : NaN; // (NaN anywhere: NaN)
}

/**
 * klLogitsF32 for short rows (classes <= 16), four rows at a time, one per lane (as
 * ceIndexSmallF32): the arithmetic of klRowFastF32 lane by lane, every element valid (no tail), no
 * horizontal sums; each row's KL then from klFinish. A row with a non-finite maximum is NaN (as in
 * klLogitsF32); a row the fast arithmetic cannot vouch for goes to klRowAccurateF32. Every row of
 * the call goes through here (a last group of fewer than four repeats its last row in the spare
 * lanes), so a row's value does not depend on which rows share its call.
 */
function klSmallF32(xPtr: usize, yPtr: usize, rows: i32, classes: i32, invT: f64, theta: f64, outPtr: usize): void {
  const stride = <usize>classes << 2;
  const tV = f32x4.splat(<f32>invT), lo = f32x4.splat(-88), z = f32x4.splat(0), z64 = f64x2.splat(0);
  for (let r = 0; r < rows; r += 4) {
    const x0 = xPtr + <usize>r * stride, x1 = rowOf(xPtr, r, 1, rows, stride), x2 = rowOf(xPtr, r, 2, rows, stride), x3 = rowOf(xPtr, r, 3, rows, stride);
    const y0 = yPtr + <usize>r * stride, y1 = rowOf(yPtr, r, 1, rows, stride), y2 = rowOf(yPtr, r, 2, rows, stride), y3 = rowOf(yPtr, r, 3, rows, stride);
    let mx = f32x4.splat(-Infinity), my = mx;
    for (let k = 0; k < classes; k++) {
      mx = f32x4.pmax(mx, gather4(x0, x1, x2, x3, <usize>k << 2));
      my = f32x4.pmax(my, gather4(y0, y1, y2, y3, <usize>k << 2));
    }
    // Lanes 0, 1 of the row pairs in the f64 accumulators *0, lanes 2, 3 in *1.
    let sx0 = z64, sx1 = z64, sy0 = z64, sy1 = z64, d0 = z64, d1 = z64, q0 = z64, q1 = z64;
    let ea2 = z, epb = z, eqb = z, flushed = z;
    for (let k = 0; k < classes; k++) {
      const x = gather4(x0, x1, x2, x3, <usize>k << 2), y = gather4(y0, y1, y2, y3, <usize>k << 2);
      const a = f32x4.mul(f32x4.sub(x, mx), tV), b = f32x4.mul(f32x4.sub(y, my), tV);
      const ex = expf4Low(a), ey = expf4Low(b);
      flushed = v128.or(flushed, v128.andnot(f32x4.gt(x, f32x4.splat(-Infinity)), f32x4.ne(ex, z)));
      const e0 = promoteLow(ex), e1 = promoteHigh(ex);
      const dl0 = v128.and(f64x2.sub(promoteLow(a), promoteLow(b)), f64x2.ne(e0, z64));
      const dl1 = v128.and(f64x2.sub(promoteHigh(a), promoteHigh(b)), f64x2.ne(e1, z64));
      const w0 = f64x2.mul(e0, dl0), w1 = f64x2.mul(e1, dl1);
      sx0 = f64x2.add(sx0, e0); sx1 = f64x2.add(sx1, e1);
      sy0 = f64x2.add(sy0, promoteLow(ey)); sy1 = f64x2.add(sy1, promoteHigh(ey));
      d0 = f64x2.add(d0, w0); d1 = f64x2.add(d1, w1);
      q0 = f64x2.add(q0, f64x2.mul(w0, dl0)); q1 = f64x2.add(q1, f64x2.mul(w1, dl1));
      const ac = f32x4.pmax(a, lo), bc = f32x4.pmax(b, lo);
      ea2 = f32x4.add(ea2, f32x4.mul(ex, f32x4.mul(ac, ac)));
      epb = f32x4.sub(epb, f32x4.mul(ex, bc));
      eqb = f32x4.sub(eqb, f32x4.mul(ey, bc));
    }
    smallKl(xPtr, yPtr, outPtr, r, classes, invT, theta, f32x4.extract_lane(mx, 0), f32x4.extract_lane(my, 0), i32x4.extract_lane(flushed, 0),
      f64x2.extract_lane(sx0, 0), f64x2.extract_lane(sy0, 0), f64x2.extract_lane(d0, 0), f64x2.extract_lane(q0, 0),
      f32x4.extract_lane(ea2, 0), f32x4.extract_lane(epb, 0), f32x4.extract_lane(eqb, 0));
    if (r + 1 < rows) smallKl(xPtr, yPtr, outPtr, r + 1, classes, invT, theta, f32x4.extract_lane(mx, 1), f32x4.extract_lane(my, 1), i32x4.extract_lane(flushed, 1),
      f64x2.extract_lane(sx0, 1), f64x2.extract_lane(sy0, 1), f64x2.extract_lane(d0, 1), f64x2.extract_lane(q0, 1),
      f32x4.extract_lane(ea2, 1), f32x4.extract_lane(epb, 1), f32x4.extract_lane(eqb, 1));
    if (r + 2 < rows) smallKl(xPtr, yPtr, outPtr, r + 2, classes, invT, theta, f32x4.extract_lane(mx, 2), f32x4.extract_lane(my, 2), i32x4.extract_lane(flushed, 2),
      f64x2.extract_lane(sx1, 0), f64x2.extract_lane(sy1, 0), f64x2.extract_lane(d1, 0), f64x2.extract_lane(q1, 0),
      f32x4.extract_lane(ea2, 2), f32x4.extract_lane(epb, 2), f32x4.extract_lane(eqb, 2));
    if (r + 3 < rows) smallKl(xPtr, yPtr, outPtr, r + 3, classes, invT, theta, f32x4.extract_lane(mx, 3), f32x4.extract_lane(my, 3), i32x4.extract_lane(flushed, 3),
      f64x2.extract_lane(sx1, 1), f64x2.extract_lane(sy1, 1), f64x2.extract_lane(d1, 1), f64x2.extract_lane(q1, 1),
      f32x4.extract_lane(ea2, 3), f32x4.extract_lane(epb, 3), f32x4.extract_lane(eqb, 3));
  }
}

/** One lane of klSmallF32: row r's KL from its sums, as klLogitsF32 decides it. */
// @ts-ignore: decorator
@inline
function smallKl(xPtr: usize, yPtr: usize, outPtr: usize, r: i32, classes: i32, invT: f64, theta: f64, mx: f32, my: f32, flushed: i32,
                 Sx: f64, Sy: f64, D: f64, m2: f64, ea2: f32, epb: f32, eqb: f32): void {
  let kl: f64 = NaN; // a row of -inf, or a +inf logit: no softmax
  if (isFinite(mx) && isFinite(my)) {
    if (flushed == 0) kl = klFinish(Sx, Sy, D, m2, ea2, epb, eqb, theta, classes);
    const off = <usize>r * <usize>classes << 2;
    if (isNaN(kl)) kl = klRowAccurateF32(xPtr + off, yPtr + off, classes, invT, mx, my);
  }
  store<f64>(outPtr + (<usize>r << 3), kl);
}

/** expf64x2Low, called rather than inlined: the accurate path of klLogitsF32 is the rare one (module size). */
function expf64x2Call(x: v128): v128 {
  return expf64x2Low(x);
}

/**
 * The accurate path of klLogitsF32, one float32 exp and one f64 exp per element:
 *   KL = t D/Sx + log(Sy/Sx), t = 1/T, e_k = exp(t (x_k - mx)) (float32), d_k = (x_k - mx) - (y_k - my)
 *   (f64), D = sum e_k d_k, Sx = sum e_k, Sy = sum e_k r_k with r_k = exp(-t d_k) (f64): the
 *   student's e^(t (y_k - my)) built as e_k r_k, on the same e_k as P's.
 * Why: P's weights e_k then enter only as a distribution, KL(P~ || Q~) with Q~ the same tilt of P~
 * as Q of P, so their float32 errors change the result by about 2e-7 of itself, not by 2e-7
 * absolute. Two float32 exps and log Sy - log Sx (the former kernel) were off by ~1e-7 absolute per
 * row, beyond the contract wherever the KL is small (a student close to its teacher, a high
 * temperature) and summed over rows (found by fuzzing). Those errors must stay near the exp's 1.9e-7
 * where p_k is tiny and q_k is not (Q~ has them there too): e_k is corrected to the f64 argument
 * a_k = t (x_k - mx), as e^(float32 a_k) (1 + a_k - float32 a_k); the float32 argument is off by up
 * to 1.2e-7 |a_k| (6e-6 at a_k = -44). Cost: about 90-110 Melem/s, where klRowFastF32 gives about 240:
 * it runs only for the rows the fast path cannot vouch for.
 * d_k as (x_k - mx) - (y_k - my), not (x_k - y_k) - (mx - my): where the logits are far larger than
 * the result (mx = 4e29, KL 8e15) the latter rounds by more than the result's 1e-6 (found by fuzzing).
 * Classes whose e_k underflows to 0 (t (x_k - mx) < -87.3: p_k = 0) add e^(t (y_k - my)) (f64) to Sy
 * directly. r_k <= e^88 there, so e_k r_k never overflows; f64 sums.
 */
function klRowAccurateF32(xr: usize, yr: usize, classes: i32, invT: f64, mx: f32, my: f32): f64 {
  const tV = f32x4.splat(<f32>invT), t64 = f64x2.splat(invT), z64 = f64x2.splat(0), one64 = f64x2.splat(1);
  const mxV = f32x4.splat(mx);
  const mx64 = f64x2.splat(<f64>mx), my64 = f64x2.splat(<f64>my);
  let sx = z64, sy = z64, d = z64, aInf = -Infinity;
  for (let i = 0; i < classes; i += 4) {
    const full = i + 4 <= classes;
    const x = full ? v128.load(at(xr, i)) : loadTailF32(at(xr, i), classes - i, -Infinity);
    const y = full ? v128.load(at(yr, i)) : loadTailF32(at(yr, i), classes - i, -Infinity);
    const ax = f32x4.mul(f32x4.sub(x, mxV), tV);
    const ex = expf4Low(ax); // 0 in tail lanes (x = -inf)
    const dx0 = f64x2.sub(promoteLow(x), mx64), dx1 = f64x2.sub(promoteHigh(x), mx64);
    const dy0 = f64x2.sub(promoteLow(y), my64), dy1 = f64x2.sub(promoteHigh(y), my64);
    const dd0 = f64x2.sub(dx0, dy0), dd1 = f64x2.sub(dx1, dy1);
    const nz0 = f64x2.ne(promoteLow(ex), z64), nz1 = f64x2.ne(promoteHigh(ex), z64);
    // e_k at the f64 argument: e^(float32 a_k) (1 + a_k - float32 a_k). (Masked where e_k = 0: the
    // correction is NaN for x_k = -inf.)
    let e0 = v128.and(f64x2.mul(promoteLow(ex), f64x2.add(one64, f64x2.sub(f64x2.mul(dx0, t64), promoteLow(ax)))), nz0);
    let e1 = v128.and(f64x2.mul(promoteHigh(ex), f64x2.add(one64, f64x2.sub(f64x2.mul(dx1, t64), promoteHigh(ax)))), nz1);
    // Finite x_k whose float32 e_k underflowed (a_k < -87.3): p_k is not 0 in f64, and p_k d_k
    // counts where d_k is huge (infinite where q_k = 0, found by fuzzing): e_k in f64 there.
    const u0 = v128.andnot(f64x2.gt(dx0, negInf64()), nz0), u1 = v128.andnot(f64x2.gt(dx1, negInf64()), nz1);
    if (v128.any_true(v128.or(u0, u1))) {
      const f0 = expf64x2Call(f64x2.mul(dx0, t64)), f1 = expf64x2Call(f64x2.mul(dx1, t64));
      e0 = v128.bitselect(e0, f0, nz0);
      e1 = v128.bitselect(e1, f1, nz1);
      if (v128.any_true(f32x4.eq(y, f32x4.splat(-Infinity)))) {
        aInf = maxFlushed(aInf, f0, dx0, promoteLow(y), t64);
        aInf = maxFlushed(aInf, f1, dx1, promoteHigh(y), t64);
      }
    }
    // r_k = e^(-t d_k) where e_k != 0; else e^(t (y_k - my)), weighted by 1 (tail lanes: y = -inf, 0).
    const r0 = expf64x2Call(f64x2.mul(t64, v128.bitselect(f64x2.neg(dd0), dy0, nz0)));
    const r1 = expf64x2Call(f64x2.mul(t64, v128.bitselect(f64x2.neg(dd1), dy1, nz1)));
    sx = f64x2.add(sx, f64x2.add(e0, e1));
    sy = f64x2.add(sy, f64x2.add(f64x2.mul(r0, v128.bitselect(e0, one64, nz0)), f64x2.mul(r1, v128.bitselect(e1, one64, nz1))));
    // p_k = 0 contributes 0 (a masked teacher class), even against a masked student class.
    d = f64x2.add(d, f64x2.add(v128.and(f64x2.mul(e0, dd0), f64x2.ne(e0, z64)), v128.and(f64x2.mul(e1, dd1), f64x2.ne(e1, z64))));
  }
  const Sx = hsum64(sx), Sy = hsum64(sy);
  let kl = invT * hsum64(d) / Sx + Math.log(Sy / Sx);
  if (aInf > -Infinity && Math.exp(aInf) / Sx > 0) kl += Infinity; // as in klLogitsF64
  return kl;
}

/** Sum of the four f32 lanes (in f64). */
// @ts-ignore: decorator
@inline
function hsum32(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline
function lanes(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/**
 * KL(p || q) per float32 row of probabilities; with normalize, of p/sum(p) and q/sum(q):
 *   KL = (1/Zp) sum_k p_k log(p_k s / q_k) + log((Zq/Zp)/s), s = (Zq/Zp) rounded to float32,
 * one log per element. Lanes where p s / q is not a normal float32 (q = 0, overflow, NaN) are
 * recomputed in f64 as p (log p + log s - log q). Rows whose result may be off by more than 5e-7
 * of itself (close distributions) come out NaN, for the f64 path.
 */
export function klProbsF32(pPtr: usize, qPtr: usize, rows: i32, classes: i32, normalize: bool, outPtr: usize): void {
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>classes << 2;
    const pr = pPtr + off, qr = qPtr + off;
    let zp = 1.0, zq = 1.0;
    if (normalize) { zp = sumF32(pr, classes); zq = sumF32(qr, classes); }
    const s = <f32>(zq / zp);
    const sV = f32x4.splat(s);
    let a0 = f64x2.splat(0), a1 = a0, sumP = zero, sumAbs = zero;
    for (let i = 0; i < classes; i += 4) {
      const full = i + 4 <= classes;
      const p = full ? v128.load(at(pr, i)) : loadTailF32(at(pr, i), classes - i, 0);
      const q = full ? v128.load(at(qr, i)) : loadTailF32(at(qr, i), classes - i, 1);
      const ratio = f32x4.div(f32x4.mul(p, sV), q);
      const ok = v128.and(f32x4.ge(ratio, f32x4.splat(1.17549435e-38)), f32x4.lt(ratio, f32x4.splat(Infinity)));
      let term = v128.bitselect(zero, f32x4.mul(p, logf4(ratio)), f32x4.eq(p, zero));
      sumP = f32x4.add(sumP, f32x4.abs(p));
      sumAbs = f32x4.add(sumAbs, f32x4.abs(term));
      const bad = v128.andnot(v128.not(ok), f32x4.eq(p, zero));
      if (v128.any_true(bad)) {
        // Rare: recompute those lanes in f64 and drop them from the float32 terms.
        term = v128.bitselect(zero, term, bad);
        const ls = Math.log(<f64>s);
        if (i32x4.extract_lane(bad, 0) != 0) a0 = f64x2.add(a0, f64x2(klTerm(at(pr, i), at(qr, i), ls), 0));
        if (i32x4.extract_lane(bad, 1) != 0) a0 = f64x2.add(a0, f64x2(klTerm(at(pr, i + 1), at(qr, i + 1), ls), 0));
        if (i32x4.extract_lane(bad, 2) != 0) a0 = f64x2.add(a0, f64x2(klTerm(at(pr, i + 2), at(qr, i + 2), ls), 0));
        if (i32x4.extract_lane(bad, 3) != 0) a0 = f64x2.add(a0, f64x2(klTerm(at(pr, i + 3), at(qr, i + 3), ls), 0));
      }
      a0 = f64x2.add(a0, promoteLow(term)); a1 = f64x2.add(a1, promoteHigh(term));
    }
    const sum = hsum64(f64x2.add(a0, a1));
    let kl = sum / zp + Math.log((zq / zp) / <f64>s);
    // Each float32 term is within p_k (1e-7 + 1.5e-7 |log ratio_k|) (the ratio's rounding, logf4's
    // 4e-8 absolute near 1 and 8.3e-8 relative, the product): absolute, where the KL of close
    // distributions is far smaller, and summed over rows beyond the contract (found by fuzzing).
    // Rows not within 5e-7 of themselves are marked NaN, for pair_rows_f32 to recompute in f64.
    const P = <f64>hsum32(sumP), A = <f64>hsum32(sumAbs);
    if ((1.1e-7 * P + 1.6e-7 * A) / Math.abs(zp) > 5e-7 * Math.abs(kl)) kl = NaN;
    store<f64>(outPtr + (<usize>r << 3), kl);
  }
}

/** p (log p + log s - log q) in f64, for the lanes klProbsF32 cannot do in float32. */
function klTerm(pAt: usize, qAt: usize, logS: f64): f64 {
  const p = <f64>load<f32>(pAt), q = <f64>load<f32>(qAt);
  return p * (Math.log(p) + logS - Math.log(q));
}

export function sumF32(ptr: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = a0;
  for (let i = 0; i < n; i += 4) {
    const x = i + 4 <= n ? v128.load(at(ptr, i)) : loadTailF32(at(ptr, i), n - i, 0);
    a0 = f64x2.add(a0, promoteLow(x)); a1 = f64x2.add(a1, promoteHigh(x));
  }
  return hsum64(f64x2.add(a0, a1));
}

/**
 * Entropy per float32 row. Probabilities (mode 2): H = -g sum p'_k log p'_k - log g, with
 * p'_k = p_k * (1/Z rounded to float32) and g the exact ratio correcting that rounding (Z = 1
 * without normalize). Logits (mode 0): H = (1/S) sum e_k g_k + log S, g_k = (m - x_k)/T.
 */
export function entropyF32(pPtr: usize, rows: i32, classes: i32, mode: i32, invT: f32, normalize: bool, outPtr: usize): void {
  const zero = f32x4.splat(0), tV = f32x4.splat(invT);
  for (let r = 0; r < rows; r++) {
    const row = pPtr + (<usize>r * <usize>classes << 2);
    let a0 = f64x2.splat(0), a1 = a0;
    if (mode == 2) {
      const z = normalize ? sumF32(row, classes) : 1.0;
      const inv = <f32>(1.0 / z);
      const iV = f32x4.splat(inv);
      for (let i = 0; i < classes; i += 4) {
        const p = f32x4.mul(i + 4 <= classes ? v128.load(at(row, i)) : loadTailF32(at(row, i), classes - i, 0), iV);
        const term = v128.bitselect(zero, f32x4.mul(p, logf4(p)), f32x4.eq(p, zero));
        a0 = f64x2.add(a0, promoteLow(term)); a1 = f64x2.add(a1, promoteHigh(term));
      }
      const g = (1.0 / z) / <f64>inv;
      store<f64>(outPtr + (<usize>r << 3), -g * hsum64(f64x2.add(a0, a1)) - Math.log(g));
    } else {
      store<f64>(outPtr + (<usize>r << 3), entropyLogitsRowF32(row, classes, tV));
    }
  }
}

// What softmaxSumsF32 found in a row (one call per row; read right after it).
let rowS: f64 = 0, rowA: f64 = 0, rowAbove: i32 = 0, rowTies: i32 = 0;

/**
 * The one pass of the entropy and evaluate kernels over a float32 row with maximum m (mV):
 * S = sum e_k and A = sum e_k g_k, g_k = (m - x_k) t (t = tV when `scaled`, else 1), e_k = e^(-g_k);
 * with `rank`, also how many x_k exceed xt (tV) and equal it. Both sums have only non-negative
 * terms: float32 blocks of 64 elements (8 additions per lane of each of two accumulators), flushed
 * to f64, with the terms at the maximum (e_k = 1) counted apart from S, as in rowSumExpShiftF32;
 * g_k = +inf (x_k = -inf, e_k = 0) is capped so that its term is 0, not NaN. Inlined with constant
 * flags, so each kernel keeps only its own arithmetic.
 */
// @ts-ignore: decorator
@inline
function softmaxSumsF32(row: usize, classes: i32, mV: v128, tV: v128, scaled: bool, rank: bool): void {
  const z = f32x4.splat(0), big = f32x4.splat(3.0e38);
  let sumS = f64x2.splat(0), sumA = sumS, ones = i32x4.splat(0), above = ones, ties = ones;
  let i = 0;
  while (i + 8 <= classes) {
    let bs0 = z, bs1 = z, ba0 = z, ba1 = z;
    const end = min(classes - 7, i + 64);
    for (; i < end; i += 8) {
      const x0 = v128.load(at(row, i)), x1 = v128.load(at(row, i), 16);
      let d0 = f32x4.sub(x0, mV), d1 = f32x4.sub(x1, mV);
      if (scaled) { d0 = f32x4.mul(d0, tV); d1 = f32x4.mul(d1, tV); }
      const e0 = expf4Low(d0), e1 = expf4Low(d1);
      const q0 = f32x4.eq(x0, mV), q1 = f32x4.eq(x1, mV);
      ones = i32x4.sub(ones, i32x4.add(q0, q1));
      if (rank) {
        above = i32x4.sub(above, i32x4.add(f32x4.gt(x0, tV), f32x4.gt(x1, tV)));
        ties = i32x4.sub(ties, i32x4.add(f32x4.eq(x0, tV), f32x4.eq(x1, tV)));
      }
      bs0 = f32x4.add(bs0, v128.andnot(e0, q0));
      bs1 = f32x4.add(bs1, v128.andnot(e1, q1));
      ba0 = f32x4.add(ba0, f32x4.mul(e0, f32x4.pmin(f32x4.neg(d0), big)));
      ba1 = f32x4.add(ba1, f32x4.mul(e1, f32x4.pmin(f32x4.neg(d1), big)));
    }
    const bs = f32x4.add(bs0, bs1), ba = f32x4.add(ba0, ba1);
    sumS = f64x2.add(sumS, f64x2.add(promoteLow(bs), promoteHigh(bs)));
    sumA = f64x2.add(sumA, f64x2.add(promoteLow(ba), promoteHigh(ba)));
  }
  for (; i < classes; i += 4) {
    const k = tailMask(classes - i);
    const x = i + 4 <= classes ? v128.load(at(row, i)) : loadTailF32(at(row, i), classes - i, -Infinity);
    let d = f32x4.sub(x, mV);
    if (scaled) d = f32x4.mul(d, tV);
    const e = v128.and(expf4Low(d), k);
    const q = v128.and(f32x4.eq(x, mV), k);
    ones = i32x4.sub(ones, q);
    if (rank) {
      above = i32x4.sub(above, v128.and(f32x4.gt(x, tV), k));
      ties = i32x4.sub(ties, v128.and(f32x4.eq(x, tV), k));
    }
    const a = f32x4.mul(e, f32x4.pmin(f32x4.neg(d), big)), b = v128.andnot(e, q);
    sumS = f64x2.add(sumS, f64x2.add(promoteLow(b), promoteHigh(b)));
    sumA = f64x2.add(sumA, f64x2.add(promoteLow(a), promoteHigh(a)));
  }
  rowS = hsum64(sumS) + <f64>lanes(ones);
  rowA = hsum64(sumA);
  rowAbove = lanes(above);
  rowTies = lanes(ties);
}

/** Entropy of softmax(x/T) of one float32 row: H = A/S + log S (softmaxSumsF32). */
function entropyLogitsRowF32(row: usize, classes: i32, tV: v128): f64 {
  softmaxSumsF32(row, classes, f32x4.splat(rowMaxF32(row, classes)), tV, true, false);
  return rowA / rowS + Math.log(rowS);
}

/**
 * evaluateRowsScalar for float32 rows, one pass after the row maximum (softmaxSumsF32): S, the
 * entropy numerator A = sum e_k (m - x_k) and the target's rank.
 */
export function evaluateRowsF32(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = xPtr + (<usize>r * <usize>classes << 2);
    const t = load<i32>(tPtr + (<usize>r << 2));
    const o = outPtr + (<usize>r * 3 << 3);
    if (t < 0) { store<f64>(o, 0); store<f64>(o, 0, 8); store<f64>(o, 0, 16); continue; }
    const m = rowMaxF32(row, classes);
    const xt = load<f32>(at(row, t));
    softmaxSumsF32(row, classes, f32x4.splat(m), f32x4.splat(xt), false, true);
    // Rank: larger logits, plus equal ones at smaller indices (counted only when there are ties).
    let rank = rowAbove;
    if (rowTies > 1) for (let k = 0; k < t; k++) if (load<f32>(at(row, k)) == xt) rank++;
    const S = rowS;
    const ok = isFinite(m);
    store<f64>(o, ok ? (<f64>m - <f64>xt) + Math.log(S) : NaN);
    store<f64>(o, ok ? rowA / S + Math.log(S) : NaN, 8);
    store<f64>(o, <f64>rank, 16);
  }
}

// ---------------------------------------------------------------------------------------------
// float64 rows: f64x2 with the float64 exp above; sums are float64 throughout.
// ---------------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline
function at64(ptr: usize, i: i32): usize {
  return ptr + (<usize>i << 3);
}

/** Largest element of a float64 row, skipping NaN (as rowMaxF32). */
export function rowMaxF64(ptr: usize, n: i32): f64 {
  let m0 = f64x2.splat(-Infinity), m1 = m0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    m0 = f64x2.pmax(m0, v128.load(at64(ptr, i)));
    m1 = f64x2.pmax(m1, v128.load(at64(ptr, i), 16));
  }
  if (i + 2 <= n) { m0 = f64x2.pmax(m0, v128.load(at64(ptr, i))); i += 2; }
  m0 = f64x2.pmax(m0, m1);
  let m = max(f64x2.extract_lane(m0, 0), f64x2.extract_lane(m0, 1));
  if (i < n) m = max(m, load<f64>(at64(ptr, i)));
  return m;
}

/** sum_k exp((x_k - m) * invT) of a float64 row. The odd last element goes through lane 0. */
export function rowSumExpF64(ptr: usize, n: i32, m: f64, invT: f64): f64 {
  const mV = f64x2.splat(m), tV = f64x2.splat(invT);
  sumReset();
  let i = 0;
  while (i + 4 <= n) {
    // Blocks of 64 elements in two f64x2 accumulators, each block added compensated (common.ts).
    let a0 = f64x2.splat(0), a1 = a0;
    const end = min(n - 3, i + 64);
    for (; i < end; i += 4) {
      a0 = f64x2.add(a0, expf64x2Low(f64x2.mul(f64x2.sub(v128.load(at64(ptr, i)), mV), tV)));
      a1 = f64x2.add(a1, expf64x2Low(f64x2.mul(f64x2.sub(v128.load(at64(ptr, i), 16), mV), tV)));
    }
    add0(hsum64(f64x2.add(a0, a1)));
  }
  for (; i < n; i += 2) {
    const x = i + 2 <= n ? v128.load(at64(ptr, i)) : f64x2(load<f64>(at64(ptr, i)), -Infinity);
    add0(hsum64(expf64x2Low(f64x2.mul(f64x2.sub(x, mV), tV))));
  }
  return sum0();
}

/** OP1 for float64 rows: out[r] = -log softmax(x_r)[t_r]; 0 where t_r < 0. */
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

/** One Horner step of phiSeries64: s r + PHI[n]. */
// @ts-ignore: decorator
@inline
function phiStep(s: v128, r: v128, n: i32): v128 {
  return f64x2.add(f64x2.mul(s, r), f64x2.splat(unchecked(PHI[n])));
}

/**
 * phi's series (PHI in common.ts, as klTerm) lane-wise: sum_n PHI[n] r^n, unrolled (a loop over
 * PHI was 12-14% slower on the rows that take it).
 */
// @ts-ignore: decorator
@inline
function phiSeries64(r: v128): v128 {
  let s = f64x2.splat(unchecked(PHI[13]));
  s = phiStep(s, r, 12); s = phiStep(s, r, 11); s = phiStep(s, r, 10); s = phiStep(s, r, 9);
  s = phiStep(s, r, 8); s = phiStep(s, r, 7); s = phiStep(s, r, 6); s = phiStep(s, r, 5);
  s = phiStep(s, r, 4); s = phiStep(s, r, 3); s = phiStep(s, r, 2); s = phiStep(s, r, 1);
  return phiStep(s, r, 0);
}

/**
 * One float64 row of KL(softmax(x/T) || softmax(y/T)) as the reference's klRow computes it for
 * logits: sum_k q_k phi(r_k), r_k = t ((x_k - mx) - (y_k - my)) - (log Sx - log Sy), each term
 * non-negative (klTerm in common.ts, lane-wise), so that its error stays relative to the KL. For
 * the rows klLogitsF64's bound cannot vouch for; Sx, Sy are its sums and c = log Sx - log Sy.
 */
function klRowExactF64(xr: usize, yr: usize, classes: i32, invT: f64, mx: f64, my: f64, Sx: f64, Sy: f64, c: f64): f64 {
  const tV = f64x2.splat(invT), mxV = f64x2.splat(mx), myV = f64x2.splat(my), cV = f64x2.splat(c);
  const sxV = f64x2.splat(Sx), syV = f64x2.splat(Sy), z = f64x2.splat(0), one = f64x2.splat(1), half = f64x2.splat(0.5);
  sumReset();
  let i = 0;
  while (i < classes) {
    let acc = z;
    const end = min(classes, i + 64);
    for (; i < end; i += 2) {
      const full = i + 2 <= classes;
      const x = full ? v128.load(at64(xr, i)) : f64x2(load<f64>(at64(xr, i)), -Infinity);
      const y = full ? v128.load(at64(yr, i)) : f64x2(load<f64>(at64(yr, i)), -Infinity);
      const dx = f64x2.sub(x, mxV), dy = f64x2.sub(y, myV);
      const r = f64x2.sub(f64x2.mul(f64x2.sub(dx, dy), tV), cV);
      const p = f64x2.div(expf64x2Low(f64x2.mul(dx, tV)), sxV);
      const q = f64x2.div(expf64x2Low(f64x2.mul(dy, tV)), syV);
      const small = f64x2.mul(f64x2.mul(q, f64x2.mul(r, r)), phiSeries64(r));
      const big = f64x2.add(f64x2.mul(p, f64x2.sub(r, one)), q);
      let term = v128.bitselect(small, big, f64x2.le(f64x2.abs(r), half));
      term = v128.bitselect(q, term, f64x2.eq(p, z)); // p_k = 0: q_k phi(-inf) = q_k (tail lanes: 0)
      acc = f64x2.add(acc, term);
    }
    add0(hsum64(acc));
  }
  return sum0();
}

/**
 * OP2 for float64 rows: KL(softmax(x/T) || softmax(y/T)) = T D/Sx - log Sx + log Sy, as klLogitsF32,
 * with d_k = (x_k - mx) - (y_k - my), the differences the exps take anyway.
 */
export function klLogitsF64(xPtr: usize, yPtr: usize, rows: i32, classes: i32, invT: f64, outPtr: usize): void {
  const tV = f64x2.splat(invT), z = f64x2.splat(0);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>classes << 3;
    const xr = xPtr + off, yr = yPtr + off;
    const mx = rowMaxF64(xr, classes), my = rowMaxF64(yr, classes);
    if (!isFinite(mx) || !isFinite(my)) {
      store<f64>(outPtr + (<usize>r << 3), NaN);
      continue;
    }
    const mxV = f64x2.splat(mx), myV = f64x2.splat(my);
    sumReset();
    let i = 0, aInf = -Infinity, absD = 0.0;
    while (i < classes) {
      // Blocks of 64 elements, each block's sums added compensated (common.ts).
      let sx = z, sy = z, d = z, ad = z;
      const end = min(classes, i + 64);
      for (; i < end; i += 2) {
        const full = i + 2 <= classes;
        const x = full ? v128.load(at64(xr, i)) : f64x2(load<f64>(at64(xr, i)), -Infinity);
        const y = full ? v128.load(at64(yr, i)) : f64x2(load<f64>(at64(yr, i)), -Infinity);
        const dx = f64x2.sub(x, mxV), dy = f64x2.sub(y, myV);
        const ex = expf64x2Low(f64x2.mul(dx, tV));
        const ey = expf64x2Low(f64x2.mul(dy, tV));
        sx = f64x2.add(sx, ex);
        sy = f64x2.add(sy, ey);
        const term = f64x2.mul(ex, f64x2.sub(dx, dy));
        const kept = v128.bitselect(z, term, f64x2.eq(ex, z));
        d = f64x2.add(d, kept);
        ad = f64x2.add(ad, f64x2.abs(kept));
        // q_k = 0 (y_k = -inf) where p_k's exp was flushed (t (x_k - mx) < -708.4) but e^a / Sx is
        // not 0 in the reference (subnormal): the KL is infinite. The largest such a is kept.
        if (v128.any_true(f64x2.eq(y, negInf64()))) aInf = maxFlushed(aInf, ex, dx, y, tV);
      }
      add0(hsum64(sx)); add1(hsum64(sy)); add2(hsum64(d));
      absD += hsum64(ad);
    }
    const Sx = sum0(), Sy = sum1();
    const lx = Math.log(Sx), ly = Math.log(Sy);
    let kl = invT * sum2() / Sx - lx + ly;
    if (aInf > -Infinity && Math.exp(aInf) / Sx > 0) kl += Infinity;
    store<f64>(outPtr + (<usize>r << 3), kl);
    // Its error, at worst: each block sum of 32 additions per lane and the exps (6.4e-16) put
    // 4.2e-15 relative into Sx, Sy and D (the latter of sum e_k |d_k|); the logarithms and the
    // last additions 2.3e-16 of |log Sx| + |log Sy|. Where that is over 1e-12 of the KL (a student
    // close to its teacher: the terms cancel), the row is redone by the scalar kernel, whose sum of
    // non-negative terms keeps the error relative to the KL (klTerm in common.ts).
    const bound = 8.4e-15 + 2.3e-16 * (Math.abs(lx) + Math.abs(ly)) + 4.2e-15 * invT * absD / Sx;
    if (isFinite(kl) && !(bound <= 1e-12 * kl)) store<f64>(outPtr + (<usize>r << 3), klRowExactF64(xr, yr, classes, invT, mx, my, Sx, Sy, lx - ly));

  }
}
