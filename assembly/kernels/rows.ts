// Row helpers of the SIMD kernels, each written once because several measures take the same pass
// over a row: addressing and tail masks, four rows gathered one per lane (rows of <= 16 classes),
// row maxima, sums of exp(x_k - m), and the one pass of the entropy and evaluate kernels
// (softmaxSumsF32).
//
// float32 rows (f32x4): exp in float32 (math/vmath.ts); sums are formed in float32 blocks short
// enough to bound their error (BLOCK: 8 additions per lane), then flushed to f64, and the terms at
// the row maximum (exactly 1) are counted rather than added, so that a 1 in a float32 partial sum
// does not swallow the small terms. float64 rows (f64x2): the float64 exp, sums compensated in f64
// (common.ts). Every function takes any row length: full vectors, then one masked tail vector.
import { sumReset, add0, sum0 } from "./common";
import { expf4Low, expf64x2Low, loadTailF32, promoteLow, promoteHigh, hsum64, hmax32, hsumI32 } from "../math/vmath";

// ---------------------------------------------------------------------------------------------
// float32 rows
// ---------------------------------------------------------------------------------------------

/** Elements per float32 block before a flush to f64 (4 accumulators x 4 lanes x 8 additions). */
// @ts-ignore: decorator
@inline export const BLOCK: i32 = 128;

/** Lanes 0..n-1 set (all four for n >= 4): the valid lanes of a row's last vector. */
// @ts-ignore: decorator
@inline
export function tailMask(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}

/** Byte address of float32 element i of a row. */
// @ts-ignore: decorator
@inline
export function at(ptr: usize, i: i32): usize {
  return ptr + (<usize>i << 2);
}

/** The float32 at byte offset `off` of each of four rows, as one vector. */
// @ts-ignore: decorator
@inline
export function gather4(p0: usize, p1: usize, p2: usize, p3: usize, off: usize): v128 {
  let v = f32x4.splat(load<f32>(p0 + off));
  v = f32x4.replace_lane(v, 1, load<f32>(p1 + off));
  v = f32x4.replace_lane(v, 2, load<f32>(p2 + off));
  return f32x4.replace_lane(v, 3, load<f32>(p3 + off));
}

/** Row r + j's address for lane j of a group of four, repeating the last row past the end. */
// @ts-ignore: decorator
@inline
export function rowOf(base: usize, r: i32, j: i32, rows: i32, stride: usize): usize {
  return base + <usize>min(r + j, rows - 1) * stride;
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
  return <f64>hsumI32(ones) + hsum64(acc);
}

/** sum_k x_k of a float32 row, in f64 (the normaliser of a row of probabilities). */
export function sumF32(ptr: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = a0;
  for (let i = 0; i < n; i += 4) {
    const x = i + 4 <= n ? v128.load(at(ptr, i)) : loadTailF32(at(ptr, i), n - i, 0);
    a0 = f64x2.add(a0, promoteLow(x)); a1 = f64x2.add(a1, promoteHigh(x));
  }
  return hsum64(f64x2.add(a0, a1));
}

// What softmaxSumsF32 found in a row (one call per row; read right after it).
export let rowS: f64 = 0, rowA: f64 = 0, rowAbove: i32 = 0, rowTies: i32 = 0;

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
export function softmaxSumsF32(row: usize, classes: i32, mV: v128, tV: v128, scaled: bool, rank: bool): void {
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
  rowS = hsum64(sumS) + <f64>hsumI32(ones);
  rowA = hsum64(sumA);
  rowAbove = hsumI32(above);
  rowTies = hsumI32(ties);
}

// ---------------------------------------------------------------------------------------------
// float64 rows: f64x2 with the float64 exp; sums are float64 throughout.
// ---------------------------------------------------------------------------------------------

/** Byte address of float64 element i of a row. */
// @ts-ignore: decorator
@inline
export function at64(ptr: usize, i: i32): usize {
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
