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
import { referenceEngine } from "./engine/engine.js";
import { bindMeasures } from "./measures/list.js";
import { makeEvaluation } from "./measures/evaluate.js";

export { init, initSync, backend, engineInfo, allocate } from "./engine/init.js";
export type { InitOptions, EngineInfo, ModuleSource } from "./engine/init.js";
export { WasmArray } from "./engine/memory.js";
export { XentError } from "./errors.js";
export type { XentErrorCode } from "./errors.js";
export type * from "./types.js";

export const {
  /** @function */
  crossEntropy,
  /** @function */
  klDivergence,
  /** @function */
  jensenShannon,
  /** @function */
  entropy,
  /** @function */
  binaryCrossEntropy,
  /** @function */
  focalLoss,
  /** @function */
  binaryFocalLoss,
  /** @function */
  evaluate,
  /** @function */
  crossEntropyWithGrad,
  /** @function */
  klDivergenceWithGrad,
} = bindMeasures(currentEngine, referenceEngine);
export type { CrossEntropy } from "./measures/crossEntropy.js";
export type { KlDivergence, JensenShannon } from "./measures/divergence.js";
export type { Entropy } from "./measures/entropy.js";
export type { BinaryCrossEntropy } from "./measures/binaryCrossEntropy.js";
export type { Evaluate } from "./measures/evaluate.js";
export type { FocalLoss, BinaryFocalLoss, FocalLossOptions, BinaryFocalLossOptions } from "./measures/focalLoss.js";
export type { CrossEntropyWithGrad, KlDivergenceWithGrad, KlGradOptions } from "./measures/gradients.js";
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
} = makeEvaluation(currentEngine);
/** An {@link Evaluator} instance. */
export type Evaluator = InstanceType<typeof Evaluator>;
export type { EvaluateOptions, EvaluateResult, EvaluatorState } from "./measures/evaluate.js";
export type { WithGrad, GradOptions } from "./measures/gradients.js";
export { createPool } from "./pool/pool.js";
export type { Pool, PoolOptions, PoolInfo, PoolBackend, PoolMeasure, PoolMeasures } from "./pool/pool.js";
export type { MeasureName, Measures } from "./measures/list.js";
