// KL divergence kernels of the SIMD module:
//   klLogitsF32: KL(softmax(x/T) || softmax(y/T)) of float32 logits (OP2 in the README's
//     benchmarks). A fast row (two float32 exps per element) with a first-order bound on its error
//     per row; rows it cannot vouch for within 5e-7 of their KL (close distributions, huge logits,
//     flushed terms, non-finite values) are redone by an accurate row (one float32 and one f64 exp
//     per element) whose error stays relative to the KL. Rows of <= 16 classes go four at a time.
//   klProbsF32: KL of float32 probabilities, one float32 log per element; rows not within 5e-7 of
//     themselves come out NaN, for pair_rows_f32 (index.ts) to recompute with the scalar f64 kernel.
//   klLogitsF64: float64 logits, one closed formula per row where a worst-case bound keeps it within
//     1e-12 of the KL; other rows (a student close to its teacher) are redone as a sum of
//     non-negative terms q_k phi(r_k), lane-wise (klRowExactF64).
// float32: exp and log in float32 (math/vmath.ts), every difference that could cancel and every
// sum in f64. float64: f64x2 and the float64 exp, sums compensated in f64 (common.ts).
import { sumReset, add0, add1, add2, sum0, sum1, sum2, PHI } from "./common";
import { at, at64, gather4, rowOf, rowMaxF32, sumF32, rowMaxF64 } from "./rows";
import { expf4Low, expf64x2Low, logf4, loadTailF32, promoteLow, promoteHigh, hsum64, hsum32 } from "../math/vmath";

// ---------------------------------------------------------------------------------------------
// float32 logits: klLogitsF32
// ---------------------------------------------------------------------------------------------

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

/**
 * The accurate path of klLogitsF32, one float32 exp and one f64 exp per element:
 *   KL = t D/Sx + log(Sy/Sx), t = 1/T, e_k = exp(t (x_k - mx)) (float32), d_k = (x_k - mx) - (y_k - my)
 *   (f64), D = sum e_k d_k, Sx = sum e_k, Sy = sum e_k r_k with r_k = exp(-t d_k) (f64): the
 *   student's e^(t (y_k - my)) built as e_k r_k, on the same e_k as P's.
 * Why: P's weights e_k then enter only as a distribution, KL(P~ || Q~) with Q~ the same tilt of P~
 * as Q of P, so their float32 errors change the result by about 2e-7 of itself, not by 2e-7
 * absolute. Two independent float32 exps and log Sy - log Sx would be off by ~1e-7 absolute per
 * row: beyond the contract wherever the KL is small (a student close to its teacher, a high
 * temperature), and more so summed over rows. Those errors must stay near the exp's 1.9e-7
 * where p_k is tiny and q_k is not (Q~ has them there too): e_k is corrected to the f64 argument
 * a_k = t (x_k - mx), as e^(float32 a_k) (1 + a_k - float32 a_k); the float32 argument is off by up
 * to 1.2e-7 |a_k| (6e-6 at a_k = -44). Cost: about 90-110 Melem/s, where klRowFastF32 gives about 240:
 * it runs only for the rows the fast path cannot vouch for.
 * d_k as (x_k - mx) - (y_k - my), not (x_k - y_k) - (mx - my): where the logits are far larger than
 * the result (mx = 4e29, KL 8e15) the latter rounds by more than the result's 1e-6.
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
    // counts where d_k is huge (infinite where q_k = 0): e_k in f64 there.
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

/** expf64x2Low, called rather than inlined: the accurate path of klLogitsF32 is the rare one (module size). */
function expf64x2Call(x: v128): v128 {
  return expf64x2Low(x);
}

/** -inf in both f64 lanes. */
// @ts-ignore: decorator
@inline
function negInf64(): v128 {
  return f64x2.splat(-Infinity);
}

/**
 * The larger of m and the arguments t dx of lanes whose e = e^(t dx) came out 0 although x is
 * finite, where y = -inf (q = 0): the KL is infinite if the reference's e^a / S is not 0 there.
 * (klRowAccurateF32 and klLogitsF64.)
 */
// @ts-ignore: decorator
@inline
function maxFlushed(m: f64, e: v128, dx: v128, y: v128, t: v128): f64 {
  const lanes = v128.and(v128.and(f64x2.eq(e, f64x2.splat(0)), f64x2.gt(dx, negInf64())), f64x2.eq(y, negInf64()));
  const a = v128.bitselect(f64x2.mul(dx, t), negInf64(), lanes);
  return max(m, max(f64x2.extract_lane(a, 0), f64x2.extract_lane(a, 1)));
}

// ---------------------------------------------------------------------------------------------
// float32 probabilities: klProbsF32
// ---------------------------------------------------------------------------------------------

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
        if (i32x4.extract_lane(bad, 0) != 0) a0 = f64x2.add(a0, f64x2(klProbsTermF64(at(pr, i), at(qr, i), ls), 0));
        if (i32x4.extract_lane(bad, 1) != 0) a0 = f64x2.add(a0, f64x2(klProbsTermF64(at(pr, i + 1), at(qr, i + 1), ls), 0));
        if (i32x4.extract_lane(bad, 2) != 0) a0 = f64x2.add(a0, f64x2(klProbsTermF64(at(pr, i + 2), at(qr, i + 2), ls), 0));
        if (i32x4.extract_lane(bad, 3) != 0) a0 = f64x2.add(a0, f64x2(klProbsTermF64(at(pr, i + 3), at(qr, i + 3), ls), 0));
      }
      a0 = f64x2.add(a0, promoteLow(term)); a1 = f64x2.add(a1, promoteHigh(term));
    }
    const sum = hsum64(f64x2.add(a0, a1));
    let kl = sum / zp + Math.log((zq / zp) / <f64>s);
    // Each float32 term is within p_k (1e-7 + 1.5e-7 |log ratio_k|) (the ratio's rounding, logf4's
    // 4e-8 absolute near 1 and 8.3e-8 relative, the product): absolute, where the KL of close
    // distributions is far smaller, and summed over rows beyond the contract.
    // Rows not within 5e-7 of themselves are marked NaN, for pair_rows_f32 to recompute in f64.
    const P = <f64>hsum32(sumP), A = <f64>hsum32(sumAbs);
    if ((1.1e-7 * P + 1.6e-7 * A) / Math.abs(zp) > 5e-7 * Math.abs(kl)) kl = NaN;
    store<f64>(outPtr + (<usize>r << 3), kl);
  }
}

/**
 * p (log p + log s - log q) in f64 of the float32 p and q at pAt and qAt: one term of klProbsF32,
 * for the lanes it cannot do in float32.
 */
function klProbsTermF64(pAt: usize, qAt: usize, logS: f64): f64 {
  const p = <f64>load<f32>(pAt), q = <f64>load<f32>(qAt);
  return p * (Math.log(p) + logS - Math.log(q));
}

// ---------------------------------------------------------------------------------------------
// float64 logits: klLogitsF64
// ---------------------------------------------------------------------------------------------

/**
 * klLogitsF32 for float64 rows: KL(softmax(x/T) || softmax(y/T)) = t D/Sx - log Sx + log Sy, t = 1/T,
 * D = sum e_k d_k with d_k = (x_k - mx) - (y_k - my), the differences the exps take anyway.
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
    // close to its teacher: the terms cancel), the row is redone by klRowExactF64, whose sum of
    // non-negative terms keeps the error relative to the KL.
    const bound = 8.4e-15 + 2.3e-16 * (Math.abs(lx) + Math.abs(ly)) + 4.2e-15 * invT * absD / Sx;
    if (isFinite(kl) && !(bound <= 1e-12 * kl)) store<f64>(outPtr + (<usize>r << 3), klRowExactF64(xr, yr, classes, invT, mx, my, Sx, Sy, lx - ly));
  }
}

/**
 * One float64 row of KL(softmax(x/T) || softmax(y/T)) as the reference's klRow computes it for
 * logits: sum_k q_k phi(r_k), r_k = t ((x_k - mx) - (y_k - my)) - (log Sx - log Sy), each term
 * non-negative (klPhiTerm in common.ts, lane-wise), so that its error stays relative to the KL. For
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
 * phi's series (PHI in common.ts, as klPhiTerm) lane-wise: sum_n PHI[n] r^n, unrolled: straight-line
 * code on every element of the rows that take it, with no loop counter or branch per coefficient.
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

/** One Horner step of phiSeries64: s r + PHI[n]. */
// @ts-ignore: decorator
@inline
function phiStep(s: v128, r: v128, n: i32): v128 {
  return f64x2.add(f64x2.mul(s, r), f64x2.splat(unchecked(PHI[n])));
}
