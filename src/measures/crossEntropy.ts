import { XentError, describe } from "../errors.js";
import { LOGITS, OP_CE, PROBS, type Mode, call } from "../kernels/table.js";
import type { CrossEntropyOptions, FloatArray, FloatInput, IndexInput, MeasureResult, Reduction } from "../types.js";
import {
  COMMON_OPTIONS,
  baseOption,
  boolOption,
  checkAttached,
  checkOptions,
  classesOption,
  floatArray,
  fromOption,
  isFloatArray,
  isIndexArray,
  numberOption,
  outOption,
  reductionOption,
  sameLength,
  shapeOf,
  unwrap,
  weightOption,
} from "./validate.js";
import { finish } from "./finish.js";
import { type Buffers, type Plan, measure, plan } from "./measure.js";

export const OPTIONS = [...COMMON_OPTIONS, "from", "weight", "ignoreIndex", "labelSmoothing", "sampleWeight", "eps"] as const;

export interface CrossEntropyCall {
  rows: number;
  classes: number;
  /** Class indices, -1 for ignored rows; or null with dense targets. */
  index: Int32Array | null;
  dense: FloatArray | null;
  q: FloatArray;
  pMode: Mode;
  qMode: Mode;
  weight: FloatArray | null;
  sampleWeight: FloatArray | null;
  labelSmoothing: number;
  eps: number;
  reduction: Reduction;
  logBase: number;
  out: Float32Array | Float64Array | null;
  check: boolean;
}

/** Validates a crossEntropy-style call (also used by crossEntropyWithGrad, with its own options). */
export function prepareCrossEntropy(
  target: unknown,
  prediction: unknown,
  options: unknown,
  fn = "crossEntropy",
  allowed: readonly string[] = OPTIONS,
  perRow = true,
): CrossEntropyCall {
  const o = checkOptions(fn, options, allowed);
  const t0 = unwrap(target),
    q0 = unwrap(prediction);
  if (isIndexArray(q0) && (isFloatArray(t0) || Array.isArray(t0))) {
    throw new XentError(
      "ARGUMENT_ORDER",
      `${fn}(target, prediction): the prediction is ${describe(q0)} (class indices?) ` +
        `and the target is ${describe(t0)}; the truth comes first: ${fn}(labels, logits)`,
    );
  }
  const q = floatArray("prediction", q0);
  const classes = classesOption(o.classes);
  const reduction = reductionOption(o.reduction);
  const logBase = baseOption(o.base);
  const from = fromOption(o.from, "probs", "logits", "q");
  const ignoreIndex = numberOption("ignoreIndex", o.ignoreIndex, -100, Number.isInteger, "an integer");
  const labelSmoothing = numberOption("labelSmoothing", o.labelSmoothing, 0, (x) => x >= 0 && x <= 1, "in [0, 1]");
  const eps = numberOption("eps", o.eps, 0, (x) => x >= 0 && x < 0.5, "in [0, 0.5)");
  if (eps > 0 && from.q !== PROBS) throw new XentError("INVALID_OPTION", `eps clips probabilities: it needs from: "probs"`);
  const check = boolOption("check", o.check);
  if (o.reduction === "none" && !perRow) throw new XentError("INVALID_OPTION", `${fn}: reduction must be "mean" or "sum"`);

  let rows: number,
    K: number,
    index: Int32Array | null = null,
    dense: FloatArray | null = null;
  const isDense = isFloatArray(t0) || (Array.isArray(t0) && t0.length === q.length && t0.length > 0);
  if (isDense) {
    dense = floatArray("target", t0);
    sameLength("target (dense)", dense, "prediction", q);
    ({ rows, classes: K } = q.length === 0 && classes === undefined ? { rows: 0, classes: 1 } : shapeOf("prediction", q.length, classes));
  } else if (isIndexArray(t0) || Array.isArray(t0)) {
    if (isIndexArray(t0)) checkAttached("target", t0);
    rows = t0.length;
    K = classes ?? (rows > 0 ? q.length / rows : 1);
    if (!Number.isInteger(K) || rows * K !== q.length) {
      throw new XentError(
        "SHAPE_MISMATCH",
        `prediction has length ${q.length}, which is not ${rows} rows (one per target) x ` +
          (classes === undefined ? "a whole number of classes" : `classes = ${classes}`),
      );
    }
    index = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      const v = (t0 as ArrayLike<unknown>)[r];
      if (typeof v !== "number") throw new XentError("INVALID_TYPE", `target: element ${r} is ${describe(v)}, not a class index`);
      if (v === ignoreIndex) index[r] = -1;
      else if (Number.isInteger(v) && v >= 0 && v < K) index[r] = v;
      else throw new XentError("INVALID_INDEX", `target[${r}] = ${v} is not a class index in [0, ${K}) nor ignoreIndex (${ignoreIndex})`);
    }
  } else {
    throw new XentError(
      "INVALID_TYPE",
      `target: expected class indices (Int32Array, Uint8Array, ..., number[]) or a ` +
        `dense Float32Array / Float64Array, got ${describe(t0)}`,
    );
  }
  return {
    rows,
    classes: K,
    index,
    dense,
    q,
    pMode: from.p,
    qMode: from.q,
    weight: weightOption("weight", o.weight, K, "one per class"),
    sampleWeight: weightOption("sampleWeight", o.sampleWeight, rows, "one per row"),
    labelSmoothing,
    eps,
    reduction,
    logBase,
    check,
    out: outOption(o.out, rows, reduction),
  };
}

function work(c: CrossEntropyCall, buffers: Buffers): Plan<number | Float32Array | Float64Array> {
  const { rows, classes: K, q, weight: w, sampleWeight: sw, labelSmoothing: ls } = c;
  const f32 = ceInFloat32(c);
  const values = buffers.rows(rows, c.reduction);
  if (c.index !== null) {
    // PyTorch: l_r = (1 - e) w[t_r] (-log q[t_r]) + (e/K) sum_k w_k (-log q_k); ignored rows give 0;
    // "mean" divides by sum of w[t_r] over the rows that count (times sampleWeight).
    const t = c.index;
    const gather =
      c.qMode === LOGITS
        ? call("ceIndex", { f32: q instanceof Float32Array, rows, classes: K, arrays: { x: q }, scalars: {}, index: t, out: values })
        : call("nllGather", {
            f32: q instanceof Float32Array,
            rows,
            classes: K,
            arrays: { q },
            scalars: { mode: c.qMode, eps: c.eps },
            index: t,
            out: values,
          });
    const smooth = ls > 0 ? buffers.rows(rows, "mean", 1) : null;
    const calls = smooth === null ? [gather] : [gather, pairCall(f32, null, q, w, rows, K, PROBS, c.qMode, 0, 1, c.eps, smooth)];
    return plan(calls, () => finish(values, rows, c.reduction, c.logBase, weighIndexRows(values, t, w, sw, smooth, ls, K), c.out));
  }
  // Dense targets: l_r = -sum_k w_k ((1 - e) t_k + e/K) log q_k; "mean" divides by the rows
  // (by the sum of sampleWeight when given).
  return plan([pairCall(f32, c.dense, q, w, rows, K, c.pMode, c.qMode, 1 - ls, ls / K, c.eps, values)], () =>
    finish(values, rows, c.reduction, c.logBase, weighRows(values, sw), c.out),
  );
}

/**
 * Weights per-row values of class-index rows in place (ignored rows: 0; the target's weight times
 * sampleWeight; label smoothing from the rows' smoothing term), and returns the divisor of "mean":
 * the sum of weight[t] times sampleWeight over the rows that count. A function of its arguments,
 * not a closure, so that the loop reads locals.
 */
export function weighIndexRows(
  values: Float64Array,
  t: Int32Array,
  w: FloatArray | null,
  sw: FloatArray | null,
  smooth: Float64Array | null,
  ls: number,
  K: number,
): number {
  let denominator = 0;
  for (let r = 0; r < t.length; r++) {
    if (t[r] < 0) {
      values[r] = 0;
      continue;
    }
    const s = sw === null ? 1 : sw[r];
    const wr = (w === null ? 1 : w[t[r]]) * s;
    denominator += wr;
    const nll = wr * values[r];
    values[r] = smooth === null ? nll : (1 - ls) * nll + (ls / K) * smooth[r] * s;
  }
  return denominator;
}

/** Weights per-row values by sampleWeight in place and returns the divisor of "mean": its sum, or the rows. */
export function weighRows(values: Float64Array, sw: FloatArray | null): number {
  if (sw === null) return values.length;
  let denominator = 0;
  for (let r = 0; r < values.length; r++) {
    values[r] *= sw[r];
    denominator += sw[r];
  }
  return denominator;
}

/** A cross-entropy call of the pair kernel (temperature 1, no normalisation). */
function pairCall(
  f32: boolean,
  p: FloatArray | null,
  q: FloatArray,
  w: FloatArray | null,
  rows: number,
  classes: number,
  pMode: Mode,
  qMode: Mode,
  a: number,
  b: number,
  eps: number,
  out: Float64Array,
) {
  return call("pair", {
    f32,
    rows,
    classes,
    arrays: { p, q, w },
    index: null,
    out,
    scalars: { op: OP_CE, pMode, qMode, invT: 1, normalize: 0, a, b, eps },
  });
}

/** Whether the float inputs of a cross-entropy-style call are computed as float32: all of them are float32. */
export function ceInFloat32(c: CrossEntropyCall): boolean {
  return c.q instanceof Float32Array && (c.dense === null || c.dense instanceof Float32Array);
}

/** The signature of {@link crossEntropy}. */
export interface CrossEntropy {
  /**
   * Cross-entropy H(target, prediction) = -Σ_k y_k log q_k of each row, truth first: the loss of a
   * classifier, and the cost per symbol of a code built for Q when the data follow P.
   *
   * - `target`: class indices, one per row (`Int32Array`, `Uint32Array`, `Int16Array`,
   *   `Uint16Array`, `Uint8Array`, `Int8Array` or `number[]` of length rows), or a dense target
   *   distribution per row (a float array the length of `prediction`: soft labels, one-hot).
   * - `prediction`: `rows x classes` logits (`from: "logits"`, the default; softmax in the stable
   *   log-sum-exp form), probabilities (`"probs"`) or log-probabilities (`"logprobs"`).
   * - `weight` (per class), `ignoreIndex` (default -100: rows whose index target equals it never
   *   count), `labelSmoothing` in [0, 1], `sampleWeight` (per row), `eps` (clip probabilities to
   *   [eps, 1 - eps], with `from: "probs"`).
   * - `"mean"` with class indices divides by the sum of `weight[target]` (times `sampleWeight`) over
   *   the rows that count, as PyTorch does; with dense targets by the number of rows. If no row
   *   counts, `"mean"` is NaN and `"sum"` is 0.
   * - A target class of probability 0 gives `Infinity`; NaN in a counted row gives NaN.
   *
   * Equals `torch.nn.functional.cross_entropy` (logits), `nll_loss` (logprobs) and
   * `sklearn.metrics.log_loss` (probs with `eps` and `sampleWeight`, without its renormalisation).
   *
   * @param target class indices (one per row) or dense target rows
   * @param prediction logits, probabilities or log-probabilities, `rows x classes`
   * @param options {@link CrossEntropyOptions}: `classes`, `from`, `weight`, `ignoreIndex`,
   *   `labelSmoothing`, `sampleWeight`, `eps`, `reduction`, `base`, `out`, `check`
   * @returns the reduced value in nats (or in `base`), or per-row values with `reduction: "none"`
   * @throws {@link XentError} `INVALID_TYPE`, `SHAPE_MISMATCH`, `INVALID_CLASSES`, `INVALID_INDEX`,
   *   `INVALID_WEIGHT`, `UNKNOWN_OPTION`, `INVALID_OPTION`, `ARGUMENT_ORDER`, `NOT_INITIALIZED`
   * @example
   * ```ts
   * import { init, crossEntropy } from "xent";
   * await init();
   * const labels = new Int32Array([2, 0]);
   * const logits = new Float32Array([1, 2, 3, 3, 2, 1]);        // 2 rows x 3 classes
   * crossEntropy(labels, logits);                                // 0.407606 nats, mean over rows
   * crossEntropy(labels, logits, { reduction: "none" });         // Float64Array [0.407606, 0.407606]
   * crossEntropy(labels, logits, { labelSmoothing: 0.1 });       // 0.507606
   * crossEntropy([0.5, 0.5], [0.9, 0.1], { from: "probs", base: 2 }); // 1.736966 bits
   * ```
   */
  <O extends CrossEntropyOptions = Record<never, never>>(
    target: IndexInput | FloatInput,
    prediction: FloatInput,
    options?: O,
  ): MeasureResult<O>;
}

export const crossEntropy = measure<CrossEntropy>(
  "crossEntropy",
  (target: IndexInput | FloatInput, prediction: FloatInput, options?: CrossEntropyOptions) => {
    const c = prepareCrossEntropy(target, prediction, options);
    return { f32: ceInFloat32(c), check: c.check, plan: (b: Buffers) => work(c, b) };
  },
);
