import { XentError } from "../errors.js";
import { LOGITS, OP_JS, OP_KL, type PairOp, call } from "../kernels/table.js";
import type { DivergenceOptions, FloatInput, MeasureResult } from "../types.js";
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
  sameLength,
  shapeOf,
  temperatureOption,
} from "./validate.js";
import { finish } from "./finish.js";
import { type Prepared, measure, plan } from "./measure.js";

const OPTIONS = [...COMMON_OPTIONS, "from", "temperature", "normalize"] as const;

function divergence(
  fn: string,
  op: PairOp,
  pIn: FloatInput,
  qIn: FloatInput,
  options: DivergenceOptions | undefined,
): Prepared<number | Float32Array | Float64Array> {
  const o = checkOptions(fn, options, OPTIONS);
  const p = floatArray("p", pIn),
    q = floatArray("q", qIn);
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
  return {
    f32,
    check: boolOption("check", o.check),
    plan(buffers) {
      const values = buffers.rows(rows, reduction);
      return plan(
        [
          call("pair", {
            f32,
            rows,
            classes,
            arrays: { p, q, w: null },
            index: null,
            out: values,
            scalars: { op, pMode: from.p, qMode: from.q, invT: 1 / temperature, normalize: normalize ? 1 : 0, a: 0, b: 0, eps: 0 },
          }),
        ],
        () => finish(values, rows, reduction, logBase, rows, out),
      );
    },
  };
}

/** The signature of {@link klDivergence}. */
export interface KlDivergence {
  /**
   * Kullback-Leibler divergence KL(P ‖ Q) = Σ_k p_k log(p_k / q_k) of each row: P the reference
   * ("true") distribution, Q the approximation, in the order the notation reads. For distillation,
   * the teacher is P and the student Q.
   *
   * - `from`: what the inputs hold, `"probs"` (default), `"logits"` or `"logprobs"`, or per side
   *   `{ p, q }`. With logits each row goes through softmax(x / `temperature`) (no T² factor:
   *   multiply yourself if your recipe wants it).
   * - `normalize: true` divides each probability row by its sum first (counts are fine then), as
   *   `scipy.stats.entropy(pk, qk)` does; without it inputs are used as given.
   * - `"mean"` is the mean over rows: PyTorch's `reduction="batchmean"`, not its elementwise mean.
   * - p_k = 0 contributes 0 (even where q_k = 0); p_k > 0 where q_k = 0 gives `Infinity`.
   *
   * @param p the reference distribution P, `rows x classes`
   * @param q the approximation Q, the same shape
   * @param options {@link DivergenceOptions}: `classes`, `from`, `temperature`, `normalize`,
   *   `reduction`, `base`, `out`, `check`
   * @returns the reduced divergence in nats (or in `base`), or per-row values with `reduction: "none"`
   * @throws {@link XentError} `INVALID_TYPE`, `SHAPE_MISMATCH`, `INVALID_CLASSES`, `UNKNOWN_OPTION`,
   *   `INVALID_OPTION`, `NOT_INITIALIZED`
   * @example
   * ```ts
   * import { init, klDivergence } from "xent";
   * await init();
   * klDivergence([0.5, 0.5], [0.9, 0.1]);             // 0.510826 nats
   * klDivergence([0.5, 0.5], [0.9, 0.1], { base: 2 }); // 0.736966 bits
   * klDivergence([3, 1], [1, 1], { normalize: true }); // 0.130812: counts, normalised first
   * const teacher = new Float32Array([2, 1, 0, 0, 1, 2]), student = new Float32Array([1, 1, 0, 0, 0, 1]);
   * klDivergence(teacher, student, { from: "logits", classes: 3, temperature: 2 }); // 0.025968
   * ```
   */
  <O extends DivergenceOptions = Record<never, never>>(p: FloatInput, q: FloatInput, options?: O): MeasureResult<O>;
}

export const klDivergence = measure<KlDivergence>("klDivergence", (p: FloatInput, q: FloatInput, options?: DivergenceOptions) =>
  divergence("klDivergence", OP_KL, p, q, options),
);

/** The signature of {@link jensenShannon}. */
export interface JensenShannon {
  /**
   * Jensen-Shannon divergence JS(P, Q) = KL(P ‖ M)/2 + KL(Q ‖ M)/2 with M = (P + Q)/2, per row:
   * symmetric, finite, at most ln 2 nats (1 bit). This is the divergence, the square of what
   * `scipy.spatial.distance.jensenshannon` returns (a distance). Options as {@link klDivergence}.
   *
   * @param p one distribution per row, `rows x classes`
   * @param q the other, the same shape
   * @param options {@link DivergenceOptions}
   * @returns the reduced divergence in nats (or in `base`), or per-row values with `reduction: "none"`
   * @throws {@link XentError} as {@link klDivergence}
   * @example
   * ```ts
   * import { init, jensenShannon } from "xent";
   * await init();
   * jensenShannon([1, 0], [0, 1], { base: 2 }); // 1 bit: disjoint distributions
   * jensenShannon([0.5, 0.5], [0.9, 0.1]);      // 0.101749 nats
   * ```
   */
  <O extends DivergenceOptions = Record<never, never>>(p: FloatInput, q: FloatInput, options?: O): MeasureResult<O>;
}

export const jensenShannon = measure<JensenShannon>("jensenShannon", (p: FloatInput, q: FloatInput, options?: DivergenceOptions) =>
  divergence("jensenShannon", OP_JS, p, q, options),
);
