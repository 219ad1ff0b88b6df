// crossEntropyWithGrad and klDivergenceWithGrad: the reduced loss and its gradient with respect to
// the prediction's logits, computed together in one kernel call per chunk of rows.
import { XentError, describe } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import { LOGITS } from "../engine/abi.js";
import type { CrossEntropyOptions, FloatArray, FloatInput, IndexInput } from "../types.js";
import { OPTIONS as CE_OPTIONS, prepareCrossEntropy } from "./crossEntropy.js";
import {
  COMMON_OPTIONS, baseOption, boolOption, checkAttached, checkOptions, classesOption, floatArray, fromOption, sameLength, shapeOf,
  temperatureOption, unwrap,
} from "./validate.js";
import { agrees, compensatedSum } from "./finish.js";

/** What crossEntropyWithGrad and klDivergenceWithGrad return. */
export interface WithGrad<G extends FloatArray> {
  /** The reduced loss, as crossEntropy / klDivergence give it. */
  loss: number;
  /** Its gradient with respect to the logits: the type and length of the logits. */
  grad: G;
}

/** Options of the gradient functions, beside those of the measure. */
export interface GradOptions {
  /** "mean" (default) or "sum". */
  reduction?: "mean" | "sum";
  /** An array to write the gradient into (the logits' length); returned as `grad`. */
  grad?: FloatArray;
}

const GRAD_OPTIONS = [...CE_OPTIONS.filter((o) => o !== "out" && o !== "eps"), "grad"];

function gradArray(v: unknown, like: FloatArray): FloatArray {
  if (v === undefined) return like instanceof Float32Array ? new Float32Array(like.length) : new Float64Array(like.length);
  const g = unwrap(v);
  if (!(g instanceof Float32Array || g instanceof Float64Array)) throw new XentError("INVALID_TYPE", `grad must be a Float32Array or Float64Array, got ${describe(g)}`);
  checkAttached("grad", g);
  if (g.length !== like.length) throw new XentError("SHAPE_MISMATCH", `grad must have the logits' length ${like.length}, got ${g.length}`);
  return g;
}

/** Whether two views share bytes. */
function overlap(a: ArrayBufferView, b: ArrayBufferView | null): boolean {
  return b !== null && a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * Runs `compute` with the gradient array. A gradient written over an input (`grad: logits`, in
 * place, to save memory) is computed into a fresh array first and copied after, so that nothing
 * reads an input the gradient has overwritten (with check: true the reference recomputes from them).
 */
function inPlace(grad: FloatArray, inputs: ReadonlyArray<ArrayBufferView | null>, compute: (g: FloatArray) => number): number {
  if (!inputs.some((a) => overlap(grad, a))) return compute(grad);
  const g = grad instanceof Float32Array ? new Float32Array(grad.length) : new Float64Array(grad.length);
  const loss = compute(g);
  grad.set(g);
  return loss;
}

/** With check: true, recompute on the reference and compare loss and every gradient element. */
function compare(fn: string, engine: Engine, reference: Engine, f32: boolean, run: (e: Engine, grad: FloatArray) => number, grad: FloatArray): number {
  const loss = run(engine, grad);
  if (engine === reference) return loss;
  const g2 = grad.slice();
  const l2 = run(reference, g2);
  if (!agrees(loss, l2, f32)) throw new XentError("ENGINE_MISMATCH", `${fn}: the ${engine.name} engine's loss is ${loss}, the reference's ${l2}`);
  // A Float32Array gradient holds float32 numbers whatever the logits (see checked in finish.ts).
  const f32Grad = f32 || grad instanceof Float32Array;
  for (let i = 0; i < grad.length; i++) {
    if (!agrees(grad[i], g2[i], f32Grad)) throw new XentError("ENGINE_MISMATCH", `${fn}: gradient[${i}] is ${grad[i]} on ${engine.name}, ${g2[i]} on the reference`);
  }
  return loss;
}

export function makeGradients(engine: () => Engine, reference: Engine) {
  /**
   * The cross-entropy of {@link crossEntropy} from logits and its gradient with respect to the
   * logits, in the same pass (what autograd of `torch.nn.functional.cross_entropy` gives). Every
   * `crossEntropy` option applies (`weight`, `ignoreIndex`, `labelSmoothing`, `sampleWeight`,
   * dense probability targets); reduction `"mean"` (default) or `"sum"`; ignored rows get a zero
   * gradient. `grad` has the logits' type and length; option `grad` gives an array to write it into.
   *
   * @param target class indices (one per row) or dense target probabilities
   * @param logits `rows x classes` logits
   * @param options the options of {@link crossEntropy} but `out` and `eps` (`from` must be
   *   `"logits"`, and dense targets probabilities), and {@link xent!GradOptions}
   * @returns {@link xent!WithGrad}: `{ loss, grad }`
   * @throws {@link XentError} as {@link crossEntropy}; `INVALID_OPTION` for a prediction that is not logits
   * @example
   * ```ts
   * import { init, crossEntropyWithGrad } from "xent";
   * await init();
   * const { loss, grad } = crossEntropyWithGrad(new Int32Array([2, 0]), new Float32Array([1, 2, 3, 3, 2, 1]));
   * // loss 0.407606; grad Float32Array [0.045015, 0.122364, -0.167380, -0.167380, 0.122364, 0.045015]
   * ```
   */
  function crossEntropyWithGrad<G extends FloatArray = Float32Array | Float64Array>(target: IndexInput | FloatInput,
    logits: FloatInput, options: Omit<CrossEntropyOptions, "out" | "eps" | "reduction"> & GradOptions = {}): WithGrad<G> {
    const c = prepareCrossEntropy(target, logits, options, "crossEntropyWithGrad", GRAD_OPTIONS);
    if (c.qMode !== LOGITS || (c.dense !== null && c.pMode !== 2)) {
      throw new XentError("INVALID_OPTION", `crossEntropyWithGrad: the prediction must be logits (from: "logits") and a dense target probabilities`);
    }
    const grad = gradArray((options as { grad?: unknown }).grad, c.q);
    const { rows, classes: K, sampleWeight: sw, weight: w, labelSmoothing: e } = c;
    // Each row's share of the reduced loss, as crossEntropy's denominators have it.
    const share = new Float64Array(rows);
    let denominator = 0;
    for (let r = 0; r < rows; r++) {
      const counted = c.index === null || c.index[r] >= 0;
      const swr = sw === null ? 1 : sw[r];
      share[r] = counted ? swr : 0;
      denominator += c.index === null ? swr : counted ? (w === null ? 1 : w[c.index[r]]) * swr : 0;
    }
    if (c.index === null && sw === null) denominator = rows;
    const divisor = (c.reduction === "sum" ? 1 : denominator) * c.logBase;
    const scale = share.map((v) => v / divisor);
    const f32 = c.q instanceof Float32Array && (c.dense === null || c.dense instanceof Float32Array);
    const run = (eng: Engine, g: FloatArray) => {
      const out = new Float64Array(rows);
      eng.ceGrad(c.q, c.index, c.dense, w, rows, K, 1 - e, e / K, scale, g, out);
      for (let r = 0; r < rows; r++) out[r] = share[r] === 0 ? 0 : out[r] * share[r];
      return compensatedSum(out, rows) / divisor;
    };
    const loss = inPlace(grad, [c.q, c.dense, w, sw], (g) => (c.check ? compare("crossEntropyWithGrad", engine(), reference, f32, run, g) : run(engine(), g)));
    return { loss, grad: grad as G };
  }

  /**
   * KL(softmax(p/T) ‖ softmax(q/T)) per row, reduced as {@link klDivergence} gives it (no T²
   * factor), and its gradient with respect to Q's logits (the student's, in distillation),
   * (softmax(q/T) - softmax(p/T)) / T per row, divided by the rows for `"mean"`, in the same pass.
   * Matches PyTorch autograd of `kl_div(log_softmax(q/T), log_softmax(p/T), log_target=True,
   * reduction="batchmean")`. Options `classes`, `temperature`, `reduction` `"mean"` (over rows,
   * default) or `"sum"`, `base`, `grad`, `check`; `from` can only be `"logits"`.
   *
   * @param p the teacher's logits, `rows x classes`
   * @param q the student's logits, the same shape
   * @param options `classes`, `temperature`, `reduction`, `base`, `check` and {@link xent!GradOptions}
   * @returns {@link xent!WithGrad}: `{ loss, grad }`, `grad` with respect to `q`
   * @throws {@link XentError} `INVALID_TYPE`, `SHAPE_MISMATCH`, `INVALID_CLASSES`, `UNKNOWN_OPTION`,
   *   `INVALID_OPTION`, `NOT_INITIALIZED`
   * @example
   * ```ts
   * import { init, klDivergenceWithGrad } from "xent";
   * await init();
   * const teacher = new Float32Array([2, 1, 0, 0, 1, 2]), student = new Float32Array([1, 1, 0, 0, 0, 1]);
   * const { loss, grad } = klDivergenceWithGrad(teacher, student, { classes: 3 }); // loss 0.086719
   * ```
   */
  function klDivergenceWithGrad<G extends FloatArray = Float32Array | Float64Array>(p: FloatInput, q: FloatInput,
    options: { classes?: number; temperature?: number; base?: number; from?: "logits"; check?: boolean } & GradOptions = {}): WithGrad<G> {
    const o = checkOptions("klDivergenceWithGrad", options, [...COMMON_OPTIONS.filter((k) => k !== "out"), "temperature", "from", "grad"]);
    const x = floatArray("p", p), y = floatArray("q", q);
    sameLength("p", x, "q", y);
    const { rows, classes } = shapeOf("p", x.length, classesOption(o.classes));
    // (Only an absent from means logits: from: null is a bad value here as everywhere.)
    const from = fromOption(o.from === undefined ? "logits" : o.from, "logits", "logits", "both");
    if (from.p !== LOGITS || from.q !== LOGITS) throw new XentError("INVALID_OPTION", `klDivergenceWithGrad: from must be "logits"`);
    if (o.reduction !== undefined && o.reduction !== "mean" && o.reduction !== "sum") {
      throw new XentError("INVALID_OPTION", `klDivergenceWithGrad: reduction must be "mean" or "sum", got ${describe(o.reduction)}`);
    }
    const invT = 1 / temperatureOption(o.temperature);
    const divisor = (o.reduction === "sum" ? 1 : rows) * baseOption(o.base);
    const grad = gradArray(o.grad, y);
    const scale = new Float64Array(rows).fill(1 / divisor);
    const f32 = x instanceof Float32Array && y instanceof Float32Array;
    const run = (eng: Engine, g: FloatArray) => {
      const out = new Float64Array(rows);
      eng.klGrad(x, y, rows, classes, invT, scale, g, out);
      return compensatedSum(out, rows) / divisor;
    };
    const check = boolOption("check", o.check);
    const loss = inPlace(grad, [x, y], (g) => (check ? compare("klDivergenceWithGrad", engine(), reference, f32, run, g) : run(engine(), g)));
    return { loss, grad: grad as G };
  }

  return { crossEntropyWithGrad, klDivergenceWithGrad };
}
