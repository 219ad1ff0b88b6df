// focalLoss and binaryFocalLoss: cross-entropy that down-weights the classes a model already
// predicts well, by (1 - q)^gamma (Lin et al. 2017). Validation and reductions are crossEntropy's
// and binaryCrossEntropy's; the kernels compute in float64 whatever the input type.
import { XentError, describe } from "../errors.js";
import { LOGITS, PROBS, call } from "../kernels/table.js";
import type { CrossEntropyOptions, FloatArray, FloatInput, IndexInput, MeasureResult, Reduction } from "../types.js";
import { OPTIONS as CE_OPTIONS, ceInFloat32, prepareCrossEntropy, weighRows } from "./crossEntropy.js";
import {
  COMMON_OPTIONS,
  baseOption,
  binaryTargets,
  boolOption,
  checkOptions,
  floatArray,
  fromOption,
  outOption,
  reductionOption,
  weightOption,
} from "./validate.js";
import { finish } from "./finish.js";
import { type Buffers, measure, plan } from "./measure.js";

/** Options of {@link focalLoss}: those of crossEntropy but `eps`, and `gamma`, `alpha`. */
export interface FocalLossOptions extends Omit<CrossEntropyOptions, "eps"> {
  /** The focusing parameter γ >= 0 (default 2); 0 gives cross-entropy. */
  gamma?: number;
  /** α: one number for every class, or one per class (default: none, i.e. 1). Not in the divisor of "mean". */
  alpha?: number | FloatInput;
}

/** Options of {@link binaryFocalLoss}. */
export interface BinaryFocalLossOptions {
  /** What the predictions hold: "logits" (default) or "probs". */
  from?: "logits" | "probs";
  /** The focusing parameter γ >= 0 (default 2). */
  gamma?: number;
  /** α in [0, 1]: positives weighted by α, negatives by 1 - α (default: none). */
  alpha?: number;
  /** A weight per element. */
  weight?: FloatInput;
  reduction?: Reduction;
  base?: number;
  out?: Float32Array | Float64Array;
  check?: boolean;
}

function gammaOption(v: unknown): number {
  if (v === undefined) return 2;
  if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v))
    throw new XentError("INVALID_OPTION", `gamma must be a finite number >= 0, got ${describe(v)}`);
  return v;
}

/** The signature of {@link focalLoss}. */
export interface FocalLoss {
  /**
   * Focal loss of each row: -Σ_k α_k (1 - q_k)^γ y_k log q_k (Lin et al. 2017), truth first, with
   * every option of {@link crossEntropy} but `eps`: class indices or dense targets, `from`
   * (`"logits"` default, `"probs"`, `"logprobs"`), `weight`, `ignoreIndex`, `labelSmoothing`,
   * `sampleWeight`, `reduction`, `base`, `out`, `check`; and `gamma` (default 2: `gamma: 0` is
   * cross-entropy) and `alpha` (a number, or one per class; default none). `"mean"` divides as
   * crossEntropy does (by the sum of the target classes' `weight`, or the number of rows); `alpha`
   * is not in the divisor. 1 - q is computed without cancellation where q is close to 1 (from
   * logits, the other classes' share of the softmax sum). Keras's `CategoricalFocalCrossentropy` and
   * torchvision default `alpha` to 0.25: pass `alpha: 0.25` to match them. Dense targets are
   * probabilities: a target side given as logits or log-probabilities (`from: { p }`) is refused.
   *
   * @param target class indices (one per row) or dense target rows
   * @param prediction logits, probabilities or log-probabilities, `rows x classes`
   * @param options {@link xent!FocalLossOptions}
   * @returns the reduced value in nats (or in `base`), or per-row values with `reduction: "none"`
   * @throws {@link XentError} as {@link crossEntropy}; `INVALID_OPTION` for a bad `gamma` or a target side that is not
   *   probabilities, `INVALID_WEIGHT` for an `alpha` that is negative, not finite or not one per class (alpha weighs
   *   classes, as `weight` does)
   * @example
   * ```ts
   * import { init, focalLoss } from "xent";
   * await init();
   * const labels = new Int32Array([2, 0]);
   * const logits = new Float32Array([1, 2, 3, 3, 2, 1]);
   * focalLoss(labels, logits);                // 0.045678 nats: (1 - 0.665241)^2 * 0.407606
   * focalLoss(labels, logits, { gamma: 0 });  // 0.407606 = crossEntropy(labels, logits)
   * ```
   */
  <O extends FocalLossOptions = Record<never, never>>(
    target: IndexInput | FloatInput,
    prediction: FloatInput,
    options?: O,
  ): MeasureResult<O>;
}

const OPTIONS = [...CE_OPTIONS.filter((o) => o !== "eps"), "gamma", "alpha"];

export const focalLoss = measure<FocalLoss>(
  "focalLoss",
  (target: IndexInput | FloatInput, prediction: FloatInput, options?: FocalLossOptions) => {
    const c = prepareCrossEntropy(target, prediction, options, "focalLoss", OPTIONS);
    const o = options as Record<string, unknown> | undefined;
    const gamma = gammaOption(o?.gamma);
    // The kernel reads dense targets as probabilities (crossEntropy also takes them as logits).
    if (c.dense !== null && c.pMode !== PROBS)
      throw new XentError("INVALID_OPTION", `focalLoss: dense targets must be probabilities (from: { p: "probs" })`);
    const K = c.classes,
      w = c.weight,
      sw = c.sampleWeight,
      ls = c.labelSmoothing;
    let alpha: FloatArray | null = null;
    if (typeof o?.alpha === "number") {
      if (!(o.alpha >= 0 && Number.isFinite(o.alpha)))
        throw new XentError("INVALID_WEIGHT", `alpha must be a finite number >= 0 or one such value per class, got ${describe(o.alpha)}`);
      alpha = new Float64Array(K).fill(o.alpha);
    } else alpha = weightOption("alpha", o?.alpha, K, "one per class");
    // A class's alpha weighs its loss: a negative one would make the loss negative.
    if (alpha !== null)
      for (let k = 0; k < K; k++) if (!(alpha[k] >= 0)) throw new XentError("INVALID_WEIGHT", `alpha[${k}] must be >= 0, got ${alpha[k]}`);
    // The kernel's per-class coefficient: alpha times weight (absent where both are).
    let v: FloatArray | null = null;
    if (alpha !== null || w !== null) {
      v = new Float64Array(K);
      for (let k = 0; k < K; k++) v[k] = (alpha === null ? 1 : alpha[k]) * (w === null ? 1 : w[k]);
    }
    const f32 = ceInFloat32(c);
    return {
      f32,
      check: c.check,
      plan(buffers: Buffers) {
        const { rows, index: t } = c;
        const values = buffers.rows(rows, c.reduction);
        return plan(
          [
            call("focal", {
              f32,
              rows,
              classes: K,
              arrays: { y: c.dense, q: c.q, v },
              index: t,
              out: values,
              scalars: { qMode: c.qMode, gamma, a: 1 - ls, b: ls / K },
            }),
          ],
          () => finish(values, rows, c.reduction, c.logBase, t === null ? weighRows(values, sw) : weighFocalRows(values, t, w, sw), c.out),
        );
      },
    };
  },
);

/**
 * Class-index rows of focal loss: the kernel has weighted each row already (weight is in its
 * per-class coefficient) and given ignored rows 0; sampleWeight scales each row in place. Returns
 * the divisor of "mean", as crossEntropy's: the sum of weight[t] times sampleWeight over the rows
 * that count.
 */
function weighFocalRows(values: Float64Array, t: Int32Array, w: FloatArray | null, sw: FloatArray | null): number {
  let denominator = 0;
  for (let r = 0; r < t.length; r++) {
    if (t[r] < 0) continue;
    const s = sw === null ? 1 : sw[r];
    values[r] *= s;
    denominator += (w === null ? 1 : w[t[r]]) * s;
  }
  return denominator;
}

/** The signature of {@link binaryFocalLoss}. */
export interface BinaryFocalLoss {
  /**
   * Binary focal loss of each element, torchvision's `sigmoid_focal_loss`: (1 - p_t)^γ times the
   * binary cross-entropy, p_t = p y + (1 - p)(1 - y), times α_t = α y + (1 - α)(1 - y) when `alpha`
   * is given. `from: "logits"` (default; p = sigmoid(x), the stable form) or `"probs"` (each log
   * clamped at -100, as {@link binaryCrossEntropy}); `gamma` (default 2), `alpha` in [0, 1]
   * (default none; torchvision's default is 0.25), `weight` per element; `"mean"` averages over all
   * elements, as torchvision does.
   *
   * @param target targets in [0, 1], one per element (floats, or 0/1 integers)
   * @param prediction logits (default) or probabilities, the same length
   * @param options {@link xent!BinaryFocalLossOptions}
   * @returns the reduced value in nats (or in `base`), or per-element values with `reduction: "none"`
   * @throws {@link XentError} `INVALID_TYPE`, `SHAPE_MISMATCH`, `INVALID_WEIGHT`, `UNKNOWN_OPTION`, `INVALID_OPTION`, `NOT_INITIALIZED`
   * @example
   * ```ts
   * import { init, binaryFocalLoss } from "xent";
   * await init();
   * binaryFocalLoss([1, 0], [2, -1], { gamma: 0 }); // 0.220095 = binaryCrossEntropy with from: "logits"
   * ```
   */
  <O extends BinaryFocalLossOptions = Record<never, never>>(
    target: FloatInput | Uint8Array | Int32Array,
    prediction: FloatInput,
    options?: O,
  ): MeasureResult<O>;
}

const BINARY_OPTIONS = [...COMMON_OPTIONS.filter((k) => k !== "classes"), "from", "gamma", "alpha", "weight"];

export const binaryFocalLoss = measure<BinaryFocalLoss>(
  "binaryFocalLoss",
  (target: FloatInput | Uint8Array | Int32Array, prediction: FloatInput, options?: BinaryFocalLossOptions) => {
    const o = checkOptions("binaryFocalLoss", options, BINARY_OPTIONS);
    const x = floatArray("prediction", prediction);
    const y = binaryTargets(target, x);
    const n = x.length;
    const reduction = reductionOption(o.reduction);
    const logBase = baseOption(o.base);
    // One input is a prediction: from is a string here (no { p, q } form).
    if (o.from !== undefined && typeof o.from !== "string")
      throw new XentError("INVALID_OPTION", `binaryFocalLoss: from must be "logits" or "probs", got ${describe(o.from)}`);
    const mode = fromOption(o.from === undefined ? "logits" : o.from, "logits", "logits", "both").q;
    if (mode !== LOGITS && mode !== PROBS) throw new XentError("INVALID_OPTION", `binaryFocalLoss: from must be "logits" or "probs"`);
    const gamma = gammaOption(o.gamma);
    let alpha = -1;
    if (o.alpha !== undefined) {
      if (typeof o.alpha !== "number" || !(o.alpha >= 0 && o.alpha <= 1))
        throw new XentError("INVALID_OPTION", `alpha must be a number in [0, 1], got ${describe(o.alpha)}`);
      alpha = o.alpha;
    }
    const weight = weightOption("weight", o.weight, n, "one per element");
    const out = outOption(o.out, n, reduction);
    const f32 = x instanceof Float32Array && y instanceof Float32Array;
    return {
      f32,
      check: boolOption("check", o.check),
      plan(buffers: Buffers) {
        const values = buffers.rows(n, reduction);
        return plan(
          [call("binaryFocal", { f32, rows: n, classes: 1, arrays: { y, x }, index: null, out: values, scalars: { mode, gamma, alpha } })],
          () => {
            if (weight !== null) weighRows(values, weight);
            return finish(values, n, reduction, logBase, n, out);
          },
        );
      },
    };
  },
);
