import { XentError, describe } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import { LOGITS, LOGPROBS } from "../engine/abi.js";
import type { BinaryCrossEntropyOptions, FloatArray, FloatInput, MeasureResult } from "../types.js";
import {
  COMMON_OPTIONS, baseOption, boolOption, checkAttached, checkOptions, classesOption, floatArray, fromOption, isIndexArray, outOption,
  reductionOption, sameLength, unwrap, weightOption,
} from "./validate.js";
import { checked, finish, rowBuffer } from "./finish.js";

const OPTIONS = [...COMMON_OPTIONS, "from", "weight", "posWeight"] as const;

export function makeBinaryCrossEntropy(engine: () => Engine, reference: Engine) {
  /**
   * Binary cross-entropy per element: -(y log x + (1 - y) log(1 - x)), targets y in [0, 1].
   * `from: "probs"` (default) clamps each log at -100 as PyTorch's binary_cross_entropy does;
   * `from: "logits"` uses the stable form of binary_cross_entropy_with_logits. `weight` scales each
   * element (one per element, or one per class with `classes`, repeated over rows); `posWeight` (a number, or one per class with `classes`) scales the positive term.
   * "mean" averages over all elements; "none" returns one value per element.
   *
   * @throws XentError INVALID_TYPE, SHAPE_MISMATCH, INVALID_CLASSES, INVALID_WEIGHT, UNKNOWN_OPTION, INVALID_OPTION.
   * @example
   * binaryCrossEntropy([1, 0], [0.9, 0.2]); // mean of -log 0.9 and -log 0.8
   */
  return function binaryCrossEntropy<O extends BinaryCrossEntropyOptions = {}>(target: FloatInput | Uint8Array | Int32Array,
    prediction: FloatInput, options?: O): MeasureResult<O> {
    const o = checkOptions("binaryCrossEntropy", options, OPTIONS);
    const x = floatArray("prediction", prediction);
    const t0 = unwrap(target);
    if (isIndexArray(t0)) checkAttached("target", t0);
    // 0/1 labels may come as integers: read them as floats of the prediction's type.
    const y: FloatArray = isIndexArray(t0) ? (x instanceof Float32Array ? Float32Array.from(t0) : Float64Array.from(t0)) : floatArray("target", t0);
    sameLength("target", y, "prediction", x);
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
      if (pw.length !== classes) throw new XentError("INVALID_WEIGHT", `posWeight must have one value per class (${classes}), got ${describe(pw)}`);
      posWeight = pw;
    }
    classes ??= 1;
    if (n % classes !== 0) throw new XentError("SHAPE_MISMATCH", `prediction: length ${n} is not a multiple of classes = ${classes}`);
    // weight: one per element, or (PyTorch's broadcast of a [K] weight) one per class, repeated over rows.
    const perClass = o.weight !== undefined && classes > 1 && classes !== n && floatArray("weight", o.weight, "INVALID_WEIGHT").length === classes;
    const weight = perClass ? repeatRows(floatArray("weight", o.weight), n) : weightOption("weight", o.weight, n, "one per element, or one per class");
    const out = outOption(o.out, n, reduction);
    const f32 = x instanceof Float32Array && y instanceof Float32Array;
    return checked("binaryCrossEntropy", boolOption("check", o.check), engine(), reference, f32, (e) => {
      const values = rowBuffer(n, reduction);
      e.bce(y, x, weight, posWeight, n, classes, mode === LOGITS ? LOGITS : mode, values);
      return finish(values, n, reduction, logBase, n, out);
    }) as MeasureResult<O>;
  };
}

function repeatRows(w: FloatArray, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = w[i % w.length];
  return out;
}
