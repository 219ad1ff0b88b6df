// Vector exp and log on f32x4, written for xent (AssemblyScript has none).
//
// Both are compiled only into the SIMD module: every use sits behind `if (ASC_FEATURE_SIMD)`.
// Their worst-case errors are stated beside the code and checked by test/vmath.test.ts over a
// dense sweep of the whole input range against Math.exp / Math.log in float64.

// ---------------------------------------------------------------------------------------------
// expf4(x) = e^x, lane-wise.
//
// Method: n = nearest(x * log2(e)); r = x - n*ln2 (Cody-Waite, two constants), |r| <= ln2/2;
// e^r ~= 1 + r*q(r), q a degree-4 minimax polynomial for (e^r - 1)/r, weighted for relative
// error of e^r (Remez exchange, then rounded to float32); e^x = e^r * 2^(n>>1) * 2^(n - (n>>1)),
// two scalings so that results down to the float32 subnormals (x >= -103.9) come out right.
//
// Worst case, measured over every float32 input (and by the sweep in test/vmath.test.ts):
//   relative error <= 1.9e-7 (measured 1.855e-7, 1.6 ulp) for -87.33 <= x <= 88.72 (normal results);
//   absolute error <= 1.9e-45 (1.35 subnormal ulp; within 1 ulp of the correctly rounded result)
//   for -103.972 <= x < -87.33, where e^x is subnormal;
//   exact: e^0 = 1, e^-inf = 0, e^+inf = +inf, e^x = 0 for x < ln 2^-150 = -103.972, +inf for
//   x > 88.7228, NaN -> NaN. Subnormal inputs give exactly 1.
// (The polynomial alone, in exact arithmetic, is within 9.2e-8 relative of e^r.)
// ---------------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline const EXP_C1: f32 = reinterpret<f32>(0x3f7ffffb); // 0.99999970
// @ts-ignore: decorator
@inline const EXP_C2: f32 = reinterpret<f32>(0x3efffee3); // 0.49999151
// @ts-ignore: decorator
@inline const EXP_C3: f32 = reinterpret<f32>(0x3e2aad36); // 0.16667637
// @ts-ignore: decorator
@inline const EXP_C4: f32 = reinterpret<f32>(0x3d2b9d36); // 0.041897975
// @ts-ignore: decorator
@inline const EXP_C5: f32 = reinterpret<f32>(0x3c07d410); // 0.0082903057
// @ts-ignore: decorator
@inline const LOG2E_F: f32 = reinterpret<f32>(0x3fb8aa3b); // 1.44269504
// @ts-ignore: decorator
@inline const LN2_HI_F: f32 = reinterpret<f32>(0x3f318000); // 0.693359375 (exact, 9 bits)
// @ts-ignore: decorator
@inline const LN2_LO_F: f32 = reinterpret<f32>(0xb95e8083); // -2.12194440e-4 = ln2 - LN2_HI_F

/** e^(x - n ln2) for the lanes' n (as floats): the Cody-Waite reduction and the polynomial, shared by both exps. */
// @ts-ignore: decorator
@inline
function expReduced(x: v128, nf: v128): v128 {
  let r = f32x4.sub(x, f32x4.mul(nf, f32x4.splat(LN2_HI_F)));
  r = f32x4.sub(r, f32x4.mul(nf, f32x4.splat(LN2_LO_F)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(EXP_C5), r), f32x4.splat(EXP_C4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_C3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_C2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_C1));
  return f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
}

// @ts-ignore: decorator
@inline
export function expf4(x: v128): v128 {
  // Clamping keeps n within [-150, 128]; NaN passes through min/max (wasm propagates it).
  x = f32x4.min(f32x4.max(x, f32x4.splat(-104.0)), f32x4.splat(89.0));
  const nf = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E_F)));
  const p = expReduced(x, nf);
  const n = i32x4.trunc_sat_f32x4_s(nf);
  const h = i32x4.shr_s(n, 1);
  const s1 = i32x4.shl(i32x4.add(h, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(n, h), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

// ---------------------------------------------------------------------------------------------
// expf4Low(x) = e^x for x <= 0, the kernels' exp (softmax terms are e^(x - max) <= 1).
//
// The same reduction and polynomial as expf4, with the cheaper parts a softmax can afford: n comes
// from the magic-constant trick (x*log2(e) + 1.5*2^23 rounds to nearest; its low bits are n), and
// one scaling by 2^n built from those bits, no conversion instruction. Results below about
// 8.5e-39 (x < -87.69, where n would be below -126) are flushed to 0: in a sum whose largest term
// is 1 they weigh nothing.
//
// Worst case, measured over every float32 x in [-87.33, 0] (test/vmath.test.ts): the same relative
// error as expf4 (<= 1.9e-7) where the result is normal; exact: e^0 = 1, e^-inf = 0, NaN -> NaN;
// 0 for x < -87.7. Inputs above 0 are outside its contract (not clamped).
// ---------------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline const MAGIC: f32 = 12582912.0; // 1.5 * 2^23
// (127 << 23) - (bits(MAGIC) << 23), modulo 2^32: turns (bits(x*log2e + MAGIC) << 23) into the bits of 2^n.
// @ts-ignore: decorator
@inline const SCALE_BIAS: i32 = (127 << 23) - (0x4b400000 << 23);

// @ts-ignore: decorator
@inline
export function expf4Low(x: v128): v128 {
  x = f32x4.pmax(x, f32x4.splat(-88.0)); // pmax: one instruction; NaN in x passes through
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E_F)), f32x4.splat(MAGIC));
  const nf = f32x4.sub(t, f32x4.splat(MAGIC));
  const p = expReduced(x, nf);
  // n = -127 (x < -87.34) gives the bits of +0: the term is flushed.
  const scale = i32x4.add(i32x4.shl(t, 23), i32x4.splat(SCALE_BIAS));
  return f32x4.mul(p, scale);
}

// ---------------------------------------------------------------------------------------------
// expf64x2Low(x) = e^x for x <= 0, two float64 lanes: the float64 kernels' exp.
//
// n = nearest(x*log2(e)) by the magic-constant trick (1.5*2^52), r = x - n*ln2 with musl's
// two-part ln2 (|r| <= ln2/2), e^r = 1 + r q(r) with q a degree-9 polynomial fitted by Remez
// exchange to (e^r - 1)/r on [-0.3466, 0.3466] (weight e^-r; |error of q| <= 1.22e-15, so the
// polynomial's own relative error is below 0.3466 * 1.22e-15 = 4.2e-16), scaled by 2^n built from
// the bits of the rounded value. Degree 10 in all, where a Taylor polynomial needs degree 13 for the
// same range: three multiply-adds fewer per pair of lanes.
// Results below 2^-1022 (x < -708.4) are flushed to 0: beside a largest term of 1 they weigh nothing.
//
// Worst case, measured by test/vmath64.test.ts against Math.exp over [-708, 0] and [0, 88]: relative
// error <= 7e-16 (measured 6.43e-16, 2.9 ulp, over 2 million points; the polynomial's 4.2e-16 plus
// rounding), 1,500x inside the float64 kernels' 1e-12 contract; exact: e^0 = 1, e^-inf = 0,
// NaN -> NaN.
// ---------------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline const MAGIC64: f64 = 6755399441055744.0; // 1.5 * 2^52
// @ts-ignore: decorator
@inline const LN2_HI_D: f64 = reinterpret<f64>(0x3fe62e42fee00000); // 6.93147180369123816490e-01
// @ts-ignore: decorator
@inline const LN2_LO_D: f64 = reinterpret<f64>(0x3dea39ef35793c76); // 1.90821492927058770002e-10
// (1023 << 52) - (bits(MAGIC64) << 52), modulo 2^64.
// @ts-ignore: decorator
@inline const SCALE_BIAS64: i64 = (1023 << 52) - (0x4338000000000000 << 52);

// @ts-ignore: decorator
@inline
export function expf64x2Low(x: v128): v128 {
  x = f64x2.pmax(x, f64x2.splat(-709.0));
  const t = f64x2.add(f64x2.mul(x, f64x2.splat(1.4426950408889634)), f64x2.splat(MAGIC64));
  const nf = f64x2.sub(t, f64x2.splat(MAGIC64));
  let r = f64x2.sub(x, f64x2.mul(nf, f64x2.splat(LN2_HI_D)));
  r = f64x2.sub(r, f64x2.mul(nf, f64x2.splat(LN2_LO_D)));
  // Estrin's scheme on the minimax coefficients, p = 1 + r (c1 + c2 r + ... + c10 r^9): the same
  // operations as Horner's within three, in a dependency chain half as long.
  const r2 = f64x2.mul(r, r), r4 = f64x2.mul(r2, r2), r8 = f64x2.mul(r4, r4);
  const a0 = f64x2.add(f64x2.mul(r, f64x2.splat(0.4999999999999902)), f64x2.splat(1.000000000000001));
  const a1 = f64x2.add(f64x2.mul(r, f64x2.splat(0.041666666667734914)), f64x2.splat(0.16666666666617394));
  const a2 = f64x2.add(f64x2.mul(r, f64x2.splat(0.001388888858301469)), f64x2.splat(0.008333333366584952));
  const a3 = f64x2.add(f64x2.mul(r, f64x2.splat(2.4801893276907872e-05)), f64x2.splat(0.00019841191613487188));
  const a4 = f64x2.add(f64x2.mul(r, f64x2.splat(2.7482175202801696e-07)), f64x2.splat(2.763223960553091e-06));
  const b0 = f64x2.add(f64x2.mul(r2, a1), a0), b1 = f64x2.add(f64x2.mul(r2, a3), a2);
  const q = f64x2.add(f64x2.mul(r8, a4), f64x2.add(f64x2.mul(r4, b1), b0));
  const p = f64x2.add(f64x2.mul(r, q), f64x2.splat(1.0));
  const scale = i64x2.add(i64x2.shl(t, 52), i64x2.splat(SCALE_BIAS64));
  return f64x2.mul(p, scale);
}

// ---------------------------------------------------------------------------------------------
// logf4(x) = ln x, lane-wise: the algorithm of musl's logf (FreeBSD e_logf.c), vectorised.
//
// x = 2^k * (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)); s = f/(2 + f);
// ln(1 + f) = f - f^2/2 + s*(f^2/2 + R(s^2)), R a degree-4 minimax polynomial (musl's Lg1..Lg4,
// |error of R| < 2^-34.24); ln x = k*ln2_hi + (that + k*ln2_lo). Subnormal inputs are scaled by
// 2^23 first.
//
// Worst case, measured over every float32 input (and by the sweep in test/vmath.test.ts):
// absolute error <= 4.0e-8 for x in [0.5, 2] (where ln x is near 0; measured 3.95e-8), relative
// error <= 8.3e-8 (measured 8.26e-8, 0.86 ulp; not correctly rounded, so not 0.5 ulp) elsewhere,
// subnormal inputs included.
// Exact: ln 1 = 0, ln 0 = -inf, ln +inf = +inf, ln x = NaN for x < 0 and for NaN.
// ---------------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline const LG1: f32 = reinterpret<f32>(0x3f2aaaaa); // 0.66666662693
// @ts-ignore: decorator
@inline const LG2: f32 = reinterpret<f32>(0x3ecccce1); // 0.40000972152
// @ts-ignore: decorator
@inline const LG3: f32 = reinterpret<f32>(0x3e91e9ee); // 0.28498786688
// @ts-ignore: decorator
@inline const LG4: f32 = reinterpret<f32>(0x3e789e26); // 0.24279078841
// @ts-ignore: decorator
@inline const LN2_HI_L: f32 = reinterpret<f32>(0x3f317180); // 6.9313812256e-01
// @ts-ignore: decorator
@inline const LN2_LO_L: f32 = reinterpret<f32>(0x3717f7d1); // 9.0580006145e-06

/** ln of lanes that are positive normal floats or +0 (musl's algorithm; see logf4), k added to each exponent. */
// @ts-ignore: decorator
@inline
function logf4Core(xs: v128, k: v128): v128 {
  // Move the mantissa into [sqrt(2)/2, sqrt(2)): musl's bit trick.
  let ix = i32x4.add(xs, i32x4.splat(0x3f800000 - 0x3f3504f3));
  k = i32x4.add(k, i32x4.sub(i32x4.shr_s(ix, 23), i32x4.splat(0x7f)));
  ix = i32x4.add(v128.and(ix, i32x4.splat(0x007fffff)), i32x4.splat(0x3f3504f3));
  const f = f32x4.sub(ix, f32x4.splat(1.0));
  const s = f32x4.div(f, f32x4.add(f32x4.splat(2.0), f));
  const z = f32x4.mul(s, s);
  const w = f32x4.mul(z, z);
  const t1 = f32x4.mul(w, f32x4.add(f32x4.splat(LG2), f32x4.mul(w, f32x4.splat(LG4))));
  const t2 = f32x4.mul(z, f32x4.add(f32x4.splat(LG1), f32x4.mul(w, f32x4.splat(LG3))));
  const R = f32x4.add(t2, t1);
  const hfsq = f32x4.mul(f32x4.splat(0.5), f32x4.mul(f, f));
  const dk = f32x4.convert_i32x4_s(k);
  let y = f32x4.add(f32x4.mul(s, f32x4.add(hfsq, R)), f32x4.mul(dk, f32x4.splat(LN2_LO_L)));
  y = f32x4.add(f32x4.sub(y, hfsq), f);
  return f32x4.add(y, f32x4.mul(dk, f32x4.splat(LN2_HI_L)));
}

/**
 * logf4 for lanes known to be positive normal floats (>= 2^-126, finite: no NaN, no sign): the
 * same result, bit for bit, without the subnormal scaling and the special-value selects. Callers
 * check the range themselves, once per row.
 */
// @ts-ignore: decorator
@inline
export function logf4Normal(x: v128): v128 {
  return logf4Core(x, i32x4.splat(0));
}

// @ts-ignore: decorator
@inline
export function logf4(x: v128): v128 {
  // Scale subnormals (and 0) up by 2^23 and remember it in k.
  const sub = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608.0)), x, sub);
  let y = logf4Core(xs, v128.and(sub, i32x4.splat(-23)));
  // Special values: 0 -> -inf, negative -> NaN, +inf -> +inf, NaN -> NaN.
  y = v128.bitselect(f32x4.splat(-Infinity), y, f32x4.eq(x, f32x4.splat(0.0)));
  y = v128.bitselect(f32x4.splat(NaN), y, f32x4.lt(x, f32x4.splat(0.0)));
  y = v128.bitselect(x, y, f32x4.eq(x, f32x4.splat(Infinity)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

// Lane helpers shared by the kernels.

/** Loads lanes 0..n-1 (n in 0..3) from ptr, the other lanes set to `fill`. */
// @ts-ignore: decorator
@inline
export function loadTailF32(ptr: usize, n: i32, fill: f32): v128 {
  let v = f32x4.splat(fill);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(ptr));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(ptr, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(ptr, 8));
  return v;
}

/** The upper two f32 lanes promoted to f64x2. */
// @ts-ignore: decorator
@inline
export function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

// @ts-ignore: decorator
@inline
export function promoteLow(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Sum of both f64 lanes. */
// @ts-ignore: decorator
@inline
export function hsum64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Max of the four f32 lanes; NaN if any lane is NaN. */
// @ts-ignore: decorator
@inline
export function hmax32(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
             max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** Sum of the four f32 lanes, in f64. */
// @ts-ignore: decorator
@inline
export function hsum32(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}

/** Sum of the four i32 lanes (the kernels' per-lane counts). */
// @ts-ignore: decorator
@inline
export function hsumI32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}
