// crossEntropyWithGrad and klDivergenceWithGrad: the reduced loss and its gradient with respect to
// the prediction's logits, computed together in one kernel call per chunk of rows.
import { XentError, describe } from "../errors.js";
import { LOGITS, PROBS, call } from "../kernels/table.js";
import type { CrossEntropyOptions, FloatArray, FloatInput, IndexInput } from "../types.js";
import { OPTIONS as CE_OPTIONS, ceInFloat32, prepareCrossEntropy } from "./crossEntropy.js";
import {
  COMMON_OPTIONS,
  baseOption,
  boolOption,
  checkAttached,
  checkOptions,
  classesOption,
  floatArray,
  fromOption,
  sameLength,
  shapeOf,
  temperatureOption,
  unwrap,
} from "./validate.js";
import { compensatedSum } from "./finish.js";
import { type Plan, type Prepared, agrees, measure, plan } from "./measure.js";

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
  if (!(g instanceof Float32Array || g instanceof Float64Array))
    throw new XentError("INVALID_TYPE", `grad must be a Float32Array or Float64Array, got ${describe(g)}`);
  checkAttached("grad", g);
  if (g.length !== like.length) throw new XentError("SHAPE_MISMATCH", `grad must have the logits' length ${like.length}, got ${g.length}`);
  return g;
}

/** Whether two views share bytes. */
function overlap(a: ArrayBufferView, b: ArrayBufferView | null): boolean {
  return b !== null && a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** Each row's loss times its share of the reduced loss (rows that do not count: 0), in place. */
function shareRows(out: Float64Array, share: Float64Array): Float64Array {
  for (let r = 0; r < out.length; r++) out[r] = share[r] === 0 ? 0 : out[r] * share[r];
  return out;
}

/**
 * The gradient target of a run: the caller's array, or, where it overlaps an input (`grad: logits`,
 * in place, to save memory) or for the reference's run of a check, a fresh one (copied into the
 * caller's array by `finish`), so that nothing reads an input the gradient has overwritten.
 */
function gradTarget(grad: FloatArray, inputs: ReadonlyArray<ArrayBufferView | null>, second: boolean): FloatArray {
  if (!second && !inputs.some((a) => overlap(grad, a))) return grad;
  return grad instanceof Float32Array ? new Float32Array(grad.length) : new Float64Array(grad.length);
}

/** A prepared gradient call: loss and every gradient element compared with check: true, the gradient delivered to the caller's array. */
function prepared<G extends FloatArray>(
  fn: string,
  f32: boolean,
  check: boolean,
  grad: FloatArray,
  work: (second: boolean) => Plan<WithGrad<FloatArray>>,
): Prepared<WithGrad<G>> {
  return {
    f32,
    check,
    plan: (_b, second) => work(second) as Plan<WithGrad<G>>,
    compare(got, want, engine) {
      if (!agrees(got.loss, want.loss, f32))
        throw new XentError("ENGINE_MISMATCH", `${fn}: the ${engine} engine's loss is ${got.loss}, the reference's ${want.loss}`);
      // A Float32Array gradient holds float32 numbers whatever the logits (see compareValues).
      const f32Grad = f32 || grad instanceof Float32Array;
      for (let i = 0; i < grad.length; i++) {
        if (!agrees(got.grad[i], want.grad[i], f32Grad)) {
          throw new XentError("ENGINE_MISMATCH", `${fn}: gradient[${i}] is ${got.grad[i]} on ${engine}, ${want.grad[i]} on the reference`);
        }
      }
    },
    finish(got) {
      if (got.grad !== grad) grad.set(got.grad as never);
      return { loss: got.loss, grad: grad as G };
    },
  };
}

/** The signature of {@link crossEntropyWithGrad}. */
export interface CrossEntropyWithGrad {
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
  <G extends FloatArray = Float32Array | Float64Array>(
    target: IndexInput | FloatInput,
    logits: FloatInput,
    options?: Omit<CrossEntropyOptions, "out" | "eps" | "reduction"> & GradOptions,
  ): WithGrad<G>;
}

export const crossEntropyWithGrad = measure<CrossEntropyWithGrad>(
  "crossEntropyWithGrad",
  (
    target: IndexInput | FloatInput,
    logits: FloatInput,
    options: Omit<CrossEntropyOptions, "out" | "eps" | "reduction"> & GradOptions = {},
  ) => {
    const c = prepareCrossEntropy(target, logits, options, "crossEntropyWithGrad", GRAD_OPTIONS, false);
    if (c.qMode !== LOGITS || (c.dense !== null && c.pMode !== PROBS)) {
      throw new XentError(
        "INVALID_OPTION",
        `crossEntropyWithGrad: the prediction must be logits (from: "logits") and a dense target probabilities`,
      );
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
    const f32 = ceInFloat32(c);
    return prepared("crossEntropyWithGrad", f32, c.check, grad, (second) => {
      const g = gradTarget(grad, [c.q, c.dense, w, sw], second);
      const out = new Float64Array(rows);
      return plan(
        [
          call("ceGrad", {
            f32,
            rows,
            classes: K,
            arrays: { x: c.q, y: c.dense, w },
            index: c.index,
            out,
            outIn: scale,
            grad: g,
            scalars: { alpha: 1 - e, beta: e / K },
          }),
        ],
        () => ({ loss: compensatedSum(shareRows(out, share), rows) / divisor, grad: g }),
      );
    });
  },
);

/** The signature of {@link klDivergenceWithGrad}. */
export interface KlDivergenceWithGrad {
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
  <G extends FloatArray = Float32Array | Float64Array>(p: FloatInput, q: FloatInput, options?: KlGradOptions): WithGrad<G>;
}

/** Options of {@link klDivergenceWithGrad}. */
export type KlGradOptions = { classes?: number; temperature?: number; base?: number; from?: "logits"; check?: boolean } & GradOptions;

export const klDivergenceWithGrad = measure<KlDivergenceWithGrad>(
  "klDivergenceWithGrad",
  (p: FloatInput, q: FloatInput, options: KlGradOptions = {}) => {
    const o = checkOptions("klDivergenceWithGrad", options, [...COMMON_OPTIONS.filter((k) => k !== "out"), "temperature", "from", "grad"]);
    const x = floatArray("p", p),
      y = floatArray("q", q);
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
    return prepared("klDivergenceWithGrad", f32, boolOption("check", o.check), grad, (second) => {
      const g = gradTarget(grad, [x, y], second);
      const out = new Float64Array(rows);
      return plan(
        [call("klGrad", { f32, rows, classes, arrays: { x, y }, index: null, out, outIn: scale, grad: g, scalars: { invT } })],
        () => ({ loss: compensatedSum(out, rows) / divisor, grad: g }),
      );
    });
  },
);
