import { XentError } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import { LOGITS } from "../engine/abi.js";
import type { EntropyOptions, FloatInput, MeasureResult } from "../types.js";
import {
  COMMON_OPTIONS, baseOption, boolOption, checkOptions, classesOption, floatArray, fromOption, outOption, reductionOption,
  shapeOf, temperatureOption,
} from "./validate.js";
import { checked, finish, rowBuffer } from "./finish.js";

const OPTIONS = [...COMMON_OPTIONS, "from", "temperature", "normalize"] as const;

export function makeEntropy(engine: () => Engine, reference: Engine) {
  /**
   * Shannon entropy H(P) = -sum_k p_k log p_k per row (0 log 0 = 0). Probabilities by default;
   * `from: "logits"` takes softmax(x / temperature). `normalize` divides each row by its sum first,
   * as `scipy.stats.entropy` does. A negative probability gives NaN.
   *
   * @throws XentError INVALID_TYPE, SHAPE_MISMATCH, INVALID_CLASSES, UNKNOWN_OPTION, INVALID_OPTION, NOT_INITIALIZED.
   * @example
   * entropy([0.5, 0.5], { base: 2 }); // 1 bit
   */
  return function entropy<O extends EntropyOptions = {}>(p: FloatInput, options?: O): MeasureResult<O> {
    const o = checkOptions("entropy", options, OPTIONS);
    const x = floatArray("p", p);
    const { rows, classes } = shapeOf("p", x.length, classesOption(o.classes));
    const reduction = reductionOption(o.reduction);
    const logBase = baseOption(o.base);
    const mode = fromOption(o.from, "probs", "probs", "both").p;
    const temperature = temperatureOption(o.temperature);
    if (temperature !== 1 && mode !== LOGITS) throw new XentError("INVALID_OPTION", `entropy: temperature needs from: "logits"`);
    const normalize = boolOption("normalize", o.normalize);
    const out = outOption(o.out, rows, reduction);
    return checked("entropy", boolOption("check", o.check), engine(), reference, x instanceof Float32Array, (e) => {
      const values = rowBuffer(rows, reduction);
      e.entropy(x, rows, classes, mode, 1 / temperature, normalize, values);
      return finish(values, rows, reduction, logBase, rows, out);
    }) as MeasureResult<O>;
  };
}
