// Reduction of per-row values, shared by every measure and engine.
import { XentError } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import type { Reduction } from "../types.js";

let scratch = new Float64Array(1024);

/**
 * A Float64Array of `n` values to compute per-row values into: fresh when the values are the
 * result ("none"), else a reused buffer (`slot` 0 or 1: two may be live at once).
 */
export function rowBuffer(n: number, reduction: Reduction, slot: 0 | 1 = 0): Float64Array {
  if (reduction === "none") return new Float64Array(n);
  if (scratch.length < 2 * n) scratch = new Float64Array(Math.max(2 * n, 2 * scratch.length));
  const half = scratch.length >> 1;
  return scratch.subarray(slot * half, slot * half + n);
}

/** Neumaier-compensated sum of values[0, n): the order of rows does not change the result beyond 1 ulp. */
export function compensatedSum(values: ArrayLike<number>, n: number): number {
  let s = 0, c = 0;
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
export function finish(values: Float64Array, n: number, reduction: Reduction, logBase: number, denominator: number,
  out: Float32Array | Float64Array | null): number | Float32Array | Float64Array {
  if (reduction === "none") {
    const target = out ?? values;
    for (let i = 0; i < n; i++) target[i] = values[i] / logBase;
    return target;
  }
  const s = compensatedSum(values, n);
  return (reduction === "sum" ? s : s / denominator) / logBase;
}

/** Tolerance of `check: true` and of the parity tests: as the documented accuracy contract. */
export function agrees(got: number, want: number, f32: boolean): boolean {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
  const [rel, abs] = f32 ? [1e-6, 1e-7] : [1e-12, 1e-13];
  return Math.abs(got - want) <= rel * Math.abs(want) + abs;
}

/** Runs `compute` on the engine and, with check, on the reference too; throws ENGINE_MISMATCH if they differ. */
export function checked<R extends number | Float32Array | Float64Array>(
  fn: string, check: boolean, engine: Engine, reference: Engine, f32: boolean, compute: (e: Engine) => R,
): R {
  const got = compute(engine);
  if (!check || engine === reference) return got;
  const snapshot = typeof got === "number" ? got : got.slice();
  const want = compute(reference);
  const a = typeof snapshot === "number" ? [snapshot] : Array.from(snapshot);
  const b = typeof want === "number" ? [want] : Array.from(want);
  // Values written to a Float32Array `out` are float32 numbers, whatever the inputs: two results
  // 1e-16 apart can round to neighbouring float32s (found by fuzzing), so the float32 contract applies.
  const f32Out = f32 || got instanceof Float32Array;
  for (let i = 0; i < a.length; i++) {
    if (!agrees(a[i], b[i], f32Out)) {
      throw new XentError("ENGINE_MISMATCH", `${fn}: the ${engine.name} engine gave ${a[i]} but the reference gives ${b[i]}` +
        (a.length > 1 ? ` (row ${i})` : ""));
    }
  }
  if (typeof snapshot !== "number" && typeof got !== "number") got.set(snapshot as never);
  return got;
}
