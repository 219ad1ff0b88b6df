// xent: cross-entropy, KL divergence and the measures around them, on SIMD WebAssembly.
/**
 * Cross-entropy, KL divergence and the measures around them (entropy, Jensen-Shannon, binary
 * cross-entropy, evaluation of classifiers), exact and fast on SIMD WebAssembly.
 *
 * Conventions shared by every measure:
 *
 * - **Truth first, prediction second**, as the notation reads: H(P, Q) is `crossEntropy(P, Q)`,
 *   KL(P ‖ Q) is `klDivergence(P, Q)` (the order of Keras, scikit-learn and SciPy; PyTorch's
 *   functional losses take the prediction first). A recognisably swapped call throws
 *   `ARGUMENT_ORDER`.
 * - **Shapes**: flat, row-major arrays of `rows x classes` (`Float32Array`, `Float64Array`,
 *   `number[]` read as float64, or a zero-copy {@link WasmArray}); option `classes` is the row
 *   length K. Without it, class-index targets give K = prediction.length / target.length, and
 *   otherwise the whole array is one row.
 * - **Units and sums**: natural logarithms (nats) unless `base` is given (`base: 2` gives bits);
 *   every sum is accumulated in float64, whatever the input type.
 * - **Reductions**: `"mean"` (default; the mean over rows, PyTorch's `"batchmean"` for KL),
 *   `"sum"`, or `"none"` for a `Float64Array` of per-row values.
 * - **Edge values**: 0 log 0 = 0; p > 0 where q = 0 gives `Infinity`; NaN in a row that counts
 *   gives NaN; inputs are used as given (no silent renormalisation: `normalize: true` asks for it).
 * - **Setup**: `await init()` once; every measure is synchronous after it and throws
 *   `NOT_INITIALIZED` before. Bad input throws an {@link XentError} with a stable `code`.
 *
 * @example
 * ```ts
 * import { init, klDivergence, entropy, crossEntropy } from "xent";
 * await init();
 * klDivergence([0.5, 0.5], [0.9, 0.1]);                    // 0.510826 nats
 * entropy([0.5, 0.5]);                                     // 0.693147 nats = ln 2
 * crossEntropy([0.5, 0.5], [0.9, 0.1], { from: "probs" }); // 1.203973 = H(P) + KL(P || Q)
 * ```
 * @module xent
 */
import { currentEngine } from "./engine/init.js";
import { referenceEngine } from "./reference/rows.js";
import { makeCrossEntropy } from "./measures/crossEntropy.js";
import { makeKlDivergence, makeJensenShannon } from "./measures/divergence.js";
import { makeEntropy } from "./measures/entropy.js";
import { makeBinaryCrossEntropy } from "./measures/binaryCrossEntropy.js";
import { makeEvaluation } from "./measures/evaluate.js";
import { makeGradients } from "./measures/gradients.js";

export { init, initSync, backend, engineInfo, allocate } from "./engine/init.js";
export type { InitOptions, EngineInfo, ModuleSource } from "./engine/init.js";
export { WasmArray } from "./engine/memory.js";
export { XentError } from "./errors.js";
export type { XentErrorCode } from "./errors.js";
export type * from "./types.js";

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
 * @function
 */
export const crossEntropy = makeCrossEntropy(currentEngine, referenceEngine);
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
 * @function
 */
export const klDivergence = makeKlDivergence(currentEngine, referenceEngine);
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
 * @function
 */
export const jensenShannon = makeJensenShannon(currentEngine, referenceEngine);
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
 * @function
 */
export const entropy = makeEntropy(currentEngine, referenceEngine);
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
 * @function
 */
export const binaryCrossEntropy = makeBinaryCrossEntropy(currentEngine, referenceEngine);
export const {
  /**
   * Accumulates a classifier's evaluation figures over any number of batches: cross-entropy,
   * perplexity, top-1 and top-k accuracy and the mean entropy of its predictions, as
   * {@link evaluate} computes them. `update(labels, logits)` with any batch size, `merge(other)`,
   * `result()`; `toJSON()` and `Evaluator.fromJSON(json)` carry the state as plain JSON, so shards
   * evaluated anywhere combine. Sums are compensated float64 and hits exact integers: results do
   * not depend on how rows were split into batches or shards, nor on the order of merges, beyond
   * about 1e-15 relative. Options: `classes` (required), `topK` (default `[1]`), `ignoreIndex`
   * (default -100), `weight` (per class, for the cross-entropy only).
   *
   * @example
   * ```ts
   * import { init, Evaluator } from "xent";
   * await init();
   * const ev = new Evaluator({ classes: 3, topK: [1, 2] });
   * ev.update(new Int32Array([2]), new Float32Array([1, 2, 3])); // a batch of one row
   * ev.update(new Int32Array([0]), new Float32Array([3, 2, 1]));
   * ev.result(); // { rows: 2, crossEntropy: 0.407606, perplexity: 1.503215, accuracy: 1, topK: { 1: 1, 2: 1 }, entropy: 0.832396 }
   * ```
   * @class
   */
  Evaluator,
  /** @function */
  evaluate,
} = makeEvaluation(currentEngine);
/** An {@link Evaluator} instance. */
export type Evaluator = InstanceType<typeof Evaluator>;
export type { EvaluateOptions, EvaluateResult, EvaluatorState } from "./measures/evaluate.js";
export const {
  /** @function */
  crossEntropyWithGrad,
  /** @function */
  klDivergenceWithGrad,
} = makeGradients(currentEngine, referenceEngine);
export type { WithGrad, GradOptions } from "./measures/gradients.js";
export { createPool } from "./pool/pool.js";
export type { Pool, PoolOptions, PoolInfo, PoolBackend } from "./pool/pool.js";
