// Reduction of per-row values, shared by every measure and engine.
import type { Reduction } from "../types.js";

/** Neumaier-compensated sum of values[0, n): the order of rows does not change the result beyond 1 ulp. */
export function compensatedSum(values: ArrayLike<number>, n: number): number {
  let s = 0,
    c = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i];
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) c += s - t + x;
    else c += x - t + s;
    s = t;
  }
  // Infinities and NaN make c NaN; the plain sum is then the answer.
  return Number.isFinite(s) ? s + c : s;
}

/**
 * The measure's result from per-row values in nats: "none" gives them (divided by log base,
 * written to `out` if given), "sum" their sum, "mean" their sum divided by `denominator`.
 */
export function finish(
  values: Float64Array,
  n: number,
  reduction: Reduction,
  logBase: number,
  denominator: number,
  out: Float32Array | Float64Array | null,
): number | Float32Array | Float64Array {
  if (reduction === "none") {
    const target = out ?? values;
    for (let i = 0; i < n; i++) target[i] = values[i] / logBase;
    return target;
  }
  const s = compensatedSum(values, n);
  return (reduction === "sum" ? s : s / denominator) / logBase;
}
