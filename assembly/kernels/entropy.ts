// Entropy kernel of the SIMD module: float32 rows of probabilities or of logits. Rows of
// log-probabilities, and float64 rows, take the scalar kernel (generic.ts). Logits share their one
// pass over the row with the evaluate kernel (softmaxSumsF32 in rows.ts). Terms are formed in
// float32 (math/vmath.ts), sums in f64. Of probabilities the terms can be off by about
// 1e-7 sum p + 1.5e-7 H absolute, too much for nearly one-hot rows: entropy_rows_f32 (index.ts)
// recomputes rows of small entropy, and rows that come out non-finite, in f64.
import { LOGITS, PROBS } from "./common";
import { at, sumF32, rowMaxF32, softmaxSumsF32, rowS, rowA } from "./rows";
import { logf4, loadTailF32, promoteLow, promoteHigh, hsum64 } from "../math/vmath";

/**
 * Entropy per float32 row. PROBS: H = -g sum p'_k log p'_k - log g, with p'_k = p_k * (1/Z rounded
 * to float32) and g the exact ratio correcting that rounding (Z = 1 without normalize). LOGITS:
 * H = (1/S) sum e_k g_k + log S, g_k = (m - x_k)/T. Any other mode traps.
 */
export function entropyF32(pPtr: usize, rows: i32, classes: i32, mode: i32, invT: f32, normalize: bool, outPtr: usize): void {
  const zero = f32x4.splat(0), tV = f32x4.splat(invT);
  for (let r = 0; r < rows; r++) {
    const row = pPtr + (<usize>r * <usize>classes << 2);
    let a0 = f64x2.splat(0), a1 = a0;
    if (mode == PROBS) {
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
    } else if (mode == LOGITS) {
      store<f64>(outPtr + (<usize>r << 3), entropyLogitsRowF32(row, classes, tV));
    } else unreachable();
  }
}

/** Entropy of softmax(x/T) of one float32 row: H = A/S + log S (softmaxSumsF32). */
function entropyLogitsRowF32(row: usize, classes: i32, tV: v128): f64 {
  softmaxSumsF32(row, classes, f32x4.splat(rowMaxF32(row, classes)), tV, true, false);
  return rowA / rowS + Math.log(rowS);
}
