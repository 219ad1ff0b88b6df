// Evaluate kernel of the SIMD module: for a float32 row of logits and its class-index target, the
// cross-entropy, the entropy of the prediction and the target's rank, in one pass over the row
// after its maximum (softmaxSumsF32 in rows.ts, shared with the entropy kernel), because an
// evaluation asks for all three of every row. float64 rows take the scalar kernel in generic.ts.
import { at, rowMaxF32, softmaxSumsF32, rowS, rowA, rowAbove, rowTies } from "./rows";

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
