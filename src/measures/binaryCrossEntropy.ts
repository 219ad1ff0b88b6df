import { XentError, describe } from "../errors.js";
import { LOGPROBS, call } from "../kernels/table.js";
import type { BinaryCrossEntropyOptions, FloatArray, FloatInput, MeasureResult } from "../types.js";
import {
  COMMON_OPTIONS,
  baseOption,
  binaryTargets,
  boolOption,
  checkOptions,
  classesOption,
  floatArray,
  fromOption,
  outOption,
  reductionOption,
  weightOption,
} from "./validate.js";
import { finish } from "./finish.js";
import { type Buffers, measure, plan } from "./measure.js";

const OPTIONS = [...COMMON_OPTIONS, "from", "weight", "posWeight"] as const;

/** The signature of {@link binaryCrossEntropy}. */
export interface BinaryCrossEntropy {
  /**
   * Binary cross-entropy of each element: -(y log x + (1 - y) log(1 - x)), targets y in [0, 1]
   * (floats, or 0/1 integers). `from: "probs"` (default) clamps each log at -100 as PyTorch's
   * `binary_cross_entropy` does; `from: "logits"` uses the stable form of
   * `binary_cross_entropy_with_logits`. `weight` scales each element (one per element, or one per
   * class with `classes`); `posWeight` (a number, or one per class) scales the positive term.
   * `"mean"` averages over all elements; `"none"` returns one value per element.
   *
   * @param target targets in [0, 1], one per element
   * @param prediction probabilities (default) or logits, the same length
   * @param options {@link BinaryCrossEntropyOptions}: `from`, `weight`, `posWeight`, `classes`,
   *   `reduction`, `base`, `out`, `check`
   * @returns the reduced value in nats (or in `base`), or per-element values with `reduction: "none"`
   * @throws {@link XentError} `INVALID_TYPE`, `SHAPE_MISMATCH`, `INVALID_CLASSES`, `INVALID_WEIGHT`,
   *   `UNKNOWN_OPTION`, `INVALID_OPTION`, `NOT_INITIALIZED`
   * @example
   * ```ts
   * import { init, binaryCrossEntropy } from "xent";
   * await init();
   * binaryCrossEntropy([1, 0], [0.9, 0.2]);                       // 0.164252: mean of -log 0.9, -log 0.8
   * binaryCrossEntropy([1, 0], [2.2, -1.4], { from: "logits" });  // 0.162750
   * binaryCrossEntropy([1, 0], [0.9, 0.2], { reduction: "none" }); // Float64Array [0.105361, 0.223144]
   * ```
   */
  <O extends BinaryCrossEntropyOptions = Record<never, never>>(
    target: FloatInput | Uint8Array | Int32Array,
    prediction: FloatInput,
    options?: O,
  ): MeasureResult<O>;
}

export const binaryCrossEntropy = measure<BinaryCrossEntropy>(
  "binaryCrossEntropy",
  (target: FloatInput | Uint8Array | Int32Array, prediction: FloatInput, options?: BinaryCrossEntropyOptions) => {
    const o = checkOptions("binaryCrossEntropy", options, OPTIONS);
    const x = floatArray("prediction", prediction);
    const y = binaryTargets(target, x);
    const n = x.length;
    const reduction = reductionOption(o.reduction);
    const logBase = baseOption(o.base);
    const mode = fromOption(o.from, "probs", "probs", "both").q;
    if (mode === LOGPROBS) throw new XentError("INVALID_OPTION", `binaryCrossEntropy: from must be "probs" or "logits"`);
    let classes = classesOption(o.classes);
    let posWeight: FloatArray | null = null;
    if (typeof o.posWeight === "number") {
      posWeight = new Float64Array(classes ?? 1).fill(o.posWeight);
    } else if (o.posWeight !== undefined) {
      const pw = floatArray("posWeight", o.posWeight, "INVALID_WEIGHT");
      if (pw.length === 0) throw new XentError("INVALID_WEIGHT", `posWeight is empty: give a number, or one value per class`);
      classes ??= pw.length;
      if (pw.length !== classes)
        throw new XentError("INVALID_WEIGHT", `posWeight must have one value per class (${classes}), got ${describe(pw)}`);
      posWeight = pw;
    }
    classes ??= 1;
    if (n % classes !== 0) throw new XentError("SHAPE_MISMATCH", `prediction: length ${n} is not a multiple of classes = ${classes}`);
    // weight: one per element, or (PyTorch's broadcast of a [K] weight) one per class, repeated over rows.
    const perClass =
      o.weight !== undefined && classes > 1 && classes !== n && floatArray("weight", o.weight, "INVALID_WEIGHT").length === classes;
    const weight = perClass
      ? repeatRows(floatArray("weight", o.weight), n)
      : weightOption("weight", o.weight, n, "one per element, or one per class");
    const out = outOption(o.out, n, reduction);
    const f32 = x instanceof Float32Array && y instanceof Float32Array;
    return {
      f32,
      check: boolOption("check", o.check),
      plan(buffers: Buffers) {
        const values = buffers.rows(n, reduction);
        // The elements as rows of one: element i's column (for posWeight) is i % classes.
        return plan(
          [
            call("bce", {
              f32: bceInFloat32(y, x, weight, posWeight),
              rows: n,
              classes: 1,
              arrays: { y, x, w: weight, pw: posWeight },
              index: null,
              out: values,
              scalars: { columns: classes!, mode },
            }),
          ],
          () => finish(values, n, reduction, logBase, n, out),
        );
      },
    };
  },
);

/**
 * Whether binaryCrossEntropy takes the float32 kernel: float32 targets, predictions and weights, and
 * posWeight values that are float32 numbers (the float32 kernel reads posWeight as float32: a
 * float64 2.1 would be rounded, by 4.8e-8 of itself, beyond the float32 contract where terms
 * cancel).
 */
function bceInFloat32(y: FloatArray, x: FloatArray, w: FloatArray | null, pw: FloatArray | null): boolean {
  if (!(x instanceof Float32Array && y instanceof Float32Array && (w === null || w instanceof Float32Array))) return false;
  if (pw === null || pw instanceof Float32Array) return true;
  for (let i = 0; i < pw.length; i++) if (Math.fround(pw[i]) !== pw[i] && pw[i] === pw[i]) return false;
  return true;
}

function repeatRows(w: FloatArray, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = w[i % w.length];
  return out;
}
