// Scalar kernels, generic over the element type T (f32 or f64), computing in f64: the whole engine
// of the scalar module, and in the SIMD module the f64 path (but for cross-entropy against class
// indices and KL of logits: cross-entropy.ts, kl.ts), the rarer mode combinations, and the rows a
// float32 SIMD kernel cannot vouch for. Row helpers and compensated sums: common.ts.
import {
  sumReset, add0, add1, add2, sum0, sum1, sum2,
  LOGITS, PROBS, OP_CE, OP_KL, OP_JS, ld, rowMax, rowSumExp, SIDE_P, SIDE_Q, prepareSide, sideLogP, sideP, klLogRatio, klPhiTerm,
} from "./common";

/**
 * Cross-entropy of each row of logits against a class index: out[r] = -log softmax(x_r)[t_r];
 * rows whose target is negative (ignored) give 0. Any classes >= 1.
 */
export function ceIndexLogitsScalar<T>(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = xPtr + (<usize>r * <usize>classes << alignof<T>());
    const t = load<i32>(tPtr + (<usize>r << 2));
    let loss = 0.0;
    if (t >= 0) {
      const m = rowMax<T>(row, classes);
      loss = (m - ld<T>(row, t)) + Math.log(rowSumExp<T>(row, classes, m, 1.0));
    }
    store<f64>(outPtr + (<usize>r << 3), loss);
  }
}

/**
 * One class's part of a Jensen-Shannon divergence, (p log(p/m) + q log(q/m)) / 2 with m = (p + q) / 2,
 * as the reference's jsTerm (src/reference/rows.ts, which gives the derivation): s g(u) / 4 with
 * s = p + q, u = (p - q) / s, g(u) = 2u atanh(u) + log1p(-u^2) for |u| <= 1/2, a non-negative term
 * that keeps near-equal rows' relative precision. NaN for a negative or NaN p or q; 0 for p = q = 0.
 */
function jsTerm(p: f64, q: f64): f64 {
  if (!(p >= 0 && q >= 0)) return NaN;
  const s = p + q;
  if (s == 0) return 0;
  const u = (p - q) / s;
  if (Math.abs(u) <= 0.5) return 0.25 * s * (2 * u * Math.atanh(u) + Math.log1p(-u * u));
  return 0.5 * ((p == 0 ? 0 : p * Math.log((2 * p) / s)) + (q == 0 ? 0 : q * Math.log((2 * q) / s)));
}

/**
 * Per-row values of the two-input measures (op: OP_CE, OP_KL, OP_JS), any modes of p and q; any
 * other op or mode traps.
 *   OP_CE: -sum_k c_k log q_k with c_k = w_k (a p_k + b) (p absent when pPtr = 0, w = 1 when wPtr = 0);
 *          terms with c_k = 0 are 0. With q in PROBS, q is clipped to [eps, 1 - eps] when eps > 0.
 *   OP_KL: sum_k p_k (log p_k - log q_k); terms with p_k = 0 are 0.
 *   OP_JS: (KL(P||M) + KL(Q||M)) / 2, M = (P + Q) / 2.
 * invT divides LOGITS rows; normalize divides PROBS rows by their sum (LOGPROBS: by their logsumexp).
 */
export function pairRowsScalar<T>(
  op: i32, pPtr: usize, qPtr: usize, wPtr: usize, rows: i32, classes: i32,
  pMode: i32, qMode: i32, invT: f64, normalize: bool, a: f64, b: f64, eps: f64, outPtr: usize,
): void {
  const P = SIDE_P, Q = SIDE_Q;
  const bothNormalized = (pMode == LOGITS || normalize) && (qMode == LOGITS || normalize);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>classes << alignof<T>();
    const pRow = pPtr + off, qRow = qPtr + off;
    if (pPtr != 0) prepareSide<T>(P, pRow, classes, pMode, invT, op != OP_CE && normalize);
    prepareSide<T>(Q, qRow, classes, qMode, invT, normalize);
    sumReset();
    for (let k = 0; k < classes; k++) {
      const y = ld<T>(qRow, k);
      if (op == OP_CE) {
        const pk = pPtr != 0 ? (pMode == PROBS ? ld<T>(pRow, k) : sideP(P, pMode, ld<T>(pRow, k))) : 0.0;
        const c = (wPtr != 0 ? ld<T>(wPtr, k) : 1.0) * (a * pk + b);
        if (c != 0) {
          const lq = qMode == PROBS && eps > 0 ? Math.log(min(max(y, eps), 1.0 - eps)) : sideLogP(Q, qMode, y);
          add0(-c * lq);
        }
      } else {
        const x = ld<T>(pRow, k);
        const pk = sideP(P, pMode, x);
        if (op == OP_KL) {
          // As the reference's klRow: sum_k q_k phi(r_k), plus sum_k (p_k - q_k) unless both sides
          // sum to 1 by construction; p_k = 0 contributes q_k to the first sum then, else nothing.
          if (pk == 0) {
            if (bothNormalized) add0(sideP(Q, qMode, y));
          } else {
            const qk = sideP(Q, qMode, y);
            add0(klPhiTerm(pk, qk, klLogRatio(pMode, qMode, x, y)));
            if (!bothNormalized) add0(pk - qk);
          }
        } else if (op == OP_JS) {
          add0(jsTerm(pk, sideP(Q, qMode, y)));
        } else unreachable();
      }
    }
    store<f64>(outPtr + (<usize>r << 3), sum0());
  }
}

/** Per-row entropy -sum_k p_k log p_k (terms with p_k = 0 are 0), any mode. */
export function entropyRowsScalar<T>(pPtr: usize, rows: i32, classes: i32, mode: i32, invT: f64, normalize: bool, outPtr: usize): void {
  const P = SIDE_P;
  for (let r = 0; r < rows; r++) {
    const row = pPtr + (<usize>r * <usize>classes << alignof<T>());
    prepareSide<T>(P, row, classes, mode, invT, normalize);
    sumReset();
    for (let k = 0; k < classes; k++) {
      const x = ld<T>(row, k);
      const pk = sideP(P, mode, x);
      if (pk != 0) add0(-pk * sideLogP(P, mode, x));
    }
    store<f64>(outPtr + (<usize>r << 3), sum0());
  }
}

/**
 * Binary cross-entropy per element, n elements. From PROBS (each log clamped at -100, as PyTorch)
 * or LOGITS (the stable form of binary_cross_entropy_with_logits); any other mode traps. wPtr:
 * per-element weights or 0; pwPtr: positive-class weights per column (classes of them) or 0;
 * element i is in column (i + col0) % classes. Writes n f64 values.
 */
export function bceScalar<T>(yPtr: usize, xPtr: usize, wPtr: usize, pwPtr: usize, n: i32, classes: i32, col0: i32, mode: i32, outPtr: usize): void {
  if (mode != LOGITS && mode != PROBS) unreachable();
  for (let i = 0; i < n; i++) {
    const y = ld<T>(yPtr, i), x = ld<T>(xPtr, i);
    const pw = pwPtr != 0 ? ld<T>(pwPtr, (i + col0) % classes) : 1.0;
    let l: f64;
    if (mode == LOGITS) {
      // (1 - y) x + (1 + (pw - 1) y) (log(1 + e^-|x|) + max(-x, 0))
      l = (1.0 - y) * x + (1.0 + (pw - 1.0) * y) * (Math.log1p(Math.exp(-Math.abs(x))) + max(-x, 0.0));
    } else { // PROBS
      l = -(pw * y * max(Math.log(x), -100.0) + (1.0 - y) * max(Math.log(1.0 - x), -100.0));
    }
    if (wPtr != 0) l *= ld<T>(wPtr, i);
    store<f64>(outPtr + (<usize>i << 3), l);
  }
}

/**
 * One pass of evaluation per row of logits with a class-index target (t < 0: skipped, all 0):
 * out[3r] = -log softmax(x)[t], out[3r + 1] = entropy of softmax(x), out[3r + 2] = the target's
 * rank: classes with a larger logit, plus those with an equal logit and a smaller index (so rank 0
 * is argmax with first-index tie-breaking). A row whose max is not finite gives NaN, NaN, K.
 */
export function evaluateRowsScalar<T>(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = xPtr + (<usize>r * <usize>classes << alignof<T>());
    const t = load<i32>(tPtr + (<usize>r << 2));
    const o = outPtr + (<usize>r * 3 << 3);
    if (t < 0) { store<f64>(o, 0); store<f64>(o, 0, 8); store<f64>(o, 0, 16); continue; }
    const m = rowMax<T>(row, classes);
    const xt = ld<T>(row, t);
    let rank = 0;
    sumReset();
    for (let k = 0; k < classes; k++) {
      const x = ld<T>(row, k);
      const e = Math.exp(x - m);
      add0(e);
      if (e != 0) add1(e * (m - x));
      if (x > xt || (x == xt && k < t)) rank++;
    }
    const s = sum0(), a = sum1();
    const ok = isFinite(m);
    store<f64>(o, ok ? (m - xt) + Math.log(s) : NaN);
    store<f64>(o, ok ? a / s + Math.log(s) : NaN, 8);
    store<f64>(o, <f64>rank, 16);
  }
}

/**
 * Cross-entropy from logits and its gradient with respect to the logits, per row, in one pass
 * after the row maximum. Row r's loss is sum_c c_c (-log p_c) with c_c = w_c (alpha y_c + beta),
 * y the one-hot of t_r (tPtr) or the dense target row (yPtr); its gradient is A p_k - c_k with
 * A = sum_c c_c. Rows with t_r < 0 are ignored (loss 0, gradient 0). scalePtr holds one f64 per
 * row by which that row's gradient is multiplied (1/denominator for a mean); out[r] = the row's
 * loss (unscaled) is written over it. The gradient goes to gradPtr (rows x classes, type T), which
 * may be the logits themselves: each element is read before it is overwritten (f64 rows keep e_k
 * there between the passes; float32 rows, which would round it, take exp twice).
 */
export function ceGradScalar<T>(xPtr: usize, tPtr: usize, yPtr: usize, wPtr: usize, rows: i32, classes: i32,
                                alpha: f64, beta: f64, scalePtr: usize, gradPtr: usize): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>classes << alignof<T>();
    const row = xPtr + off, g = gradPtr + off;
    const t = tPtr != 0 ? load<i32>(tPtr + (<usize>r << 2)) : 0;
    const s = load<f64>(scalePtr + (<usize>r << 3));
    if (tPtr != 0 && t < 0) {
      for (let k = 0; k < classes; k++) store<T>(g + (<usize>k << alignof<T>()), <T>0);
      store<f64>(scalePtr + (<usize>r << 3), 0);
      continue;
    }
    const m = rowMax<T>(row, classes);
    // The loss is sum_k c_k (m - x_k + log S) = L + A log S, L = sum_k c_k (m - x_k). Terms with an
    // infinite (or NaN) c_k are kept apart, as the reference has them: c_k (m - x_k) where
    // m - x_k > 0, and cTop log S at the maximum (m - x_k = 0), which is NaN when S = 1; the
    // finite terms cannot change a non-finite sum. (A log S alone would give NaN for any
    // infinite c_k once S rounds to 1.)
    // A row whose c_k are all 0 is 0 whatever its logits hold (0 log 0 = 0), as in the reference.
    let cInf = 0.0, cTop = 0.0, special = false, any = false;
    sumReset();
    for (let k = 0; k < classes; k++) {
      const x = ld<T>(row, k);
      const yk = tPtr != 0 ? (k == t ? 1.0 : 0.0) : (yPtr != 0 ? ld<T>(yPtr + off, k) : 0.0);
      const c = (wPtr != 0 ? ld<T>(wPtr, k) : 1.0) * (alpha * yk + beta);
      const e = Math.exp(x - m);
      add0(e);
      add1(c);
      if (c != 0) {
        any = true;
        const d = m - x;
        if (isFinite(c)) add2(c * d);
        else {
          special = true;
          if (d == 0) cTop += c;
          else cInf += c * d;
        }
      }
      // f64: e_k over x_k (x_k is not read again). float32 would round e_k, and A e_k / S - c_k can
      // cancel far below that rounding: the second pass takes exp again from x_k instead.
      if (alignof<T>() == 3) store<T>(g + (<usize>k << alignof<T>()), <T>e);
    }
    const S = sum0(), A = sum1(), L = sum2();
    const logS = Math.log(S);
    for (let k = 0; k < classes; k++) {
      const yk = tPtr != 0 ? (k == t ? 1.0 : 0.0) : (yPtr != 0 ? ld<T>(yPtr + off, k) : 0.0);
      const c = (wPtr != 0 ? ld<T>(wPtr, k) : 1.0) * (alpha * yk + beta);
      const e = alignof<T>() == 3 ? ld<T>(g, k) : Math.exp(ld<T>(row, k) - m);
      store<T>(g + (<usize>k << alignof<T>()), <T>(s * (A * (e / S) - c)));
    }
    store<f64>(scalePtr + (<usize>r << 3), !any ? 0 : !isFinite(m) ? NaN : special ? L + cInf + cTop * logS : L + A * logS);
  }
}

/**
 * KL(softmax(x/T) || softmax(y/T)) per row and its gradient with respect to y (the student's
 * logits): (q_k - p_k) / T. scalePtr / gradPtr as in ceGradScalar (gradPtr may be y itself).
 */
export function klGradScalar<T>(xPtr: usize, yPtr: usize, rows: i32, classes: i32, invT: f64, scalePtr: usize, gradPtr: usize): void {
  const P = SIDE_P, Q = SIDE_Q;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>classes << alignof<T>();
    const xr = xPtr + off, yr = yPtr + off, g = gradPtr + off;
    const s = load<f64>(scalePtr + (<usize>r << 3));
    prepareSide<T>(P, xr, classes, LOGITS, invT, false);
    prepareSide<T>(Q, yr, classes, LOGITS, invT, false);
    sumReset();
    for (let k = 0; k < classes; k++) {
      const x = ld<T>(xr, k), y = ld<T>(yr, k);
      const pk = sideP(P, LOGITS, x), qk = sideP(Q, LOGITS, y);
      add0(pk == 0 ? qk : klPhiTerm(pk, qk, klLogRatio(LOGITS, LOGITS, x, y))); // as pairRowsScalar's OP_KL
      store<T>(g + (<usize>k << alignof<T>()), <T>(s * (qk - pk) * invT));
    }
    store<f64>(scalePtr + (<usize>r << 3), sum0());
  }
}
