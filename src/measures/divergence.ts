import { XentError } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import { LOGITS, OP_JS, OP_KL, type PairOp } from "../engine/abi.js";
import type { DivergenceOptions, FloatInput, MeasureResult } from "../types.js";
import {
  COMMON_OPTIONS, baseOption, boolOption, checkOptions, classesOption, floatArray, fromOption, outOption, reductionOption,
  sameLength, shapeOf, temperatureOption,
} from "./validate.js";
import { checked, finish, rowBuffer } from "./finish.js";

const OPTIONS = [...COMMON_OPTIONS, "from", "temperature", "normalize"] as const;

function divergence(fn: string, op: PairOp, engine: Engine, reference: Engine, pIn: unknown, qIn: unknown, options: unknown) {
  const o = checkOptions(fn, options, OPTIONS);
  const p = floatArray("p", pIn), q = floatArray("q", qIn);
  sameLength("p", p, "q", q);
  const { rows, classes } = shapeOf("p", p.length, classesOption(o.classes));
  const reduction = reductionOption(o.reduction);
  const logBase = baseOption(o.base);
  const from = fromOption(o.from, "probs", "probs", "both");
  const temperature = temperatureOption(o.temperature);
  if (temperature !== 1 && (from.p !== LOGITS || from.q !== LOGITS)) {
    throw new XentError("INVALID_OPTION", `${fn}: temperature divides logits; it needs from: "logits" on both sides`);
  }
  const normalize = boolOption("normalize", o.normalize);
  const out = outOption(o.out, rows, reduction);
  const f32 = p instanceof Float32Array && q instanceof Float32Array;
  return checked(fn, boolOption("check", o.check), engine, reference, f32, (e) => {
    const values = rowBuffer(rows, reduction);
    e.pair(op, p, q, null, rows, classes, from.p, from.q, 1 / temperature, normalize, 0, 0, 0, values);
    return finish(values, rows, reduction, logBase, rows, out);
  });
}

export function makeKlDivergence(engine: () => Engine, reference: Engine) {
  /**
   * Kullback-Leibler divergence D(P || Q) = sum_k p_k log(p_k / q_k) per row: P the reference
   * ("true") distribution, Q the approximation. Inputs are probabilities by default (`from`);
   * with `from: "logits"` each row goes through softmax(x / temperature) (no T^2 factor).
   * "mean" is the mean over rows (PyTorch's "batchmean"). p_k = 0 contributes 0 (even where
   * q_k = 0); p_k > 0 where q_k = 0 gives Infinity. `normalize` divides rows by their sums first.
   *
   * @throws XentError INVALID_TYPE, SHAPE_MISMATCH, INVALID_CLASSES, UNKNOWN_OPTION, INVALID_OPTION, NOT_INITIALIZED.
   * @example
   * klDivergence([0.5, 0.5], [0.9, 0.1]); // 0.5108... nats
   * klDivergence(teacherLogits, studentLogits, { from: "logits", classes: 32000, temperature: 2 });
   */
  return function klDivergence<O extends DivergenceOptions = {}>(p: FloatInput, q: FloatInput, options?: O): MeasureResult<O> {
    return divergence("klDivergence", OP_KL, engine(), reference, p, q, options) as MeasureResult<O>;
  };
}

export function makeJensenShannon(engine: () => Engine, reference: Engine) {
  /**
   * Jensen-Shannon divergence JS(P, Q) = KL(P || M)/2 + KL(Q || M)/2, M = (P + Q)/2, per row: the
   * divergence (at most ln 2 nats, 1 bit), not SciPy's distance, which is its square root.
   * Options as klDivergence.
   *
   * @throws XentError as klDivergence.
   * @example
   * jensenShannon([1, 0], [0, 1], { base: 2 }); // 1
   */
  return function jensenShannon<O extends DivergenceOptions = {}>(p: FloatInput, q: FloatInput, options?: O): MeasureResult<O> {
    return divergence("jensenShannon", OP_JS, engine(), reference, p, q, options) as MeasureResult<O>;
  };
}
