import { XentError } from "../errors.js";
import { LOGITS, call } from "../kernels/table.js";
import type { EntropyOptions, FloatInput, MeasureResult } from "../types.js";
import {
  COMMON_OPTIONS,
  baseOption,
  boolOption,
  checkOptions,
  classesOption,
  floatArray,
  fromOption,
  outOption,
  reductionOption,
  shapeOf,
  temperatureOption,
} from "./validate.js";
import { finish } from "./finish.js";
import { type Buffers, measure, plan } from "./measure.js";

const OPTIONS = [...COMMON_OPTIONS, "from", "temperature", "normalize"] as const;

/** The signature of {@link entropy}. */
export interface Entropy {
  /**
   * Shannon entropy H(P) = -Σ_k p_k log p_k of each row (0 log 0 = 0). Probabilities by default;
   * `from: "logits"` takes softmax(x / `temperature`) (the entropy of a classifier's predictions);
   * `normalize: true` divides each row by its sum first, as `scipy.stats.entropy` does. A negative
   * probability gives NaN. Identity kept by construction:
   * `crossEntropy(P, Q, { from: "probs" }) = entropy(P) + klDivergence(P, Q)`.
   *
   * @param p one distribution (or row of logits) per row, `rows x classes`
   * @param options {@link EntropyOptions}: `classes`, `from`, `temperature`, `normalize`,
   *   `reduction`, `base`, `out`, `check`
   * @returns the reduced entropy in nats (or in `base`), or per-row values with `reduction: "none"`
   * @throws {@link XentError} `INVALID_TYPE`, `SHAPE_MISMATCH`, `INVALID_CLASSES`, `UNKNOWN_OPTION`,
   *   `INVALID_OPTION`, `NOT_INITIALIZED`
   * @example
   * ```ts
   * import { init, entropy } from "xent";
   * await init();
   * entropy([0.5, 0.5]);            // 0.693147 nats = ln 2
   * entropy([0.5, 0.5], { base: 2 }); // 1 bit
   * const logits = new Float32Array([1, 2, 3, 3, 2, 1]);
   * entropy(logits, { from: "logits", classes: 3, reduction: "none" }); // Float64Array [0.832396, 0.832396]
   * ```
   */
  <O extends EntropyOptions = Record<never, never>>(p: FloatInput, options?: O): MeasureResult<O>;
}

export const entropy = measure<Entropy>("entropy", (p: FloatInput, options?: EntropyOptions) => {
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
  const f32 = x instanceof Float32Array;
  return {
    f32,
    check: boolOption("check", o.check),
    plan(buffers: Buffers) {
      const values = buffers.rows(rows, reduction);
      return plan(
        [
          call("entropy", {
            f32,
            rows,
            classes,
            arrays: { p: x },
            index: null,
            out: values,
            scalars: { mode, invT: 1 / temperature, normalize: normalize ? 1 : 0 },
          }),
        ],
        () => finish(values, rows, reduction, logBase, rows, out),
      );
    },
  };
});
