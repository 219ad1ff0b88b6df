// xent/reference: the same measures, with the same signatures and options, computed by the plain
// TypeScript definitions in rows.ts (float64 throughout). No WebAssembly and no init().
/**
 * The same measures as `xent`, with the same signatures, options, validation and results (within
 * the accuracy contract), computed by plain float64 TypeScript: no WebAssembly and no `init()`. It
 * is the readable definition of every measure, the oracle of xent's tests and of `check: true`,
 * and the engine xent falls back to where WebAssembly is missing.
 *
 * @example
 * ```ts
 * import * as reference from "xent/reference";
 * reference.klDivergence([0.5, 0.5], [0.9, 0.1]); // 0.510826 nats, no init() needed
 * ```
 * @module xent/reference
 */
import { referenceEngine } from "../engine/engine.js";
import { bindMeasures } from "../measures/list.js";
import { makeEvaluation } from "../measures/evaluate.js";

export { XentError } from "../errors.js";
export type * from "../types.js";

const engine = () => referenceEngine;
export const {
  /**
   * The reference {@link xent!crossEntropy}: cross-entropy H(target, prediction) per row, truth first, with every option and convention of xent's.
   *
   * @example
   * ```ts
   * import { crossEntropy } from "xent/reference";
   * crossEntropy(new Int32Array([2, 0]), new Float32Array([1, 2, 3, 3, 2, 1])); // 0.407606 nats
   * ```
   * @function
   */
  crossEntropy,
  /**
   * The reference {@link xent!klDivergence}: KL(P ‖ Q) per row, P the reference distribution.
   *
   * @example
   * ```ts
   * import { klDivergence } from "xent/reference";
   * klDivergence([0.5, 0.5], [0.9, 0.1]); // 0.510826 nats
   * ```
   * @function
   */
  klDivergence,
  /**
   * The reference {@link xent!jensenShannon}: the Jensen-Shannon divergence per row.
   *
   * @example
   * ```ts
   * import { jensenShannon } from "xent/reference";
   * jensenShannon([1, 0], [0, 1], { base: 2 }); // 1 bit
   * ```
   * @function
   */
  jensenShannon,
  /**
   * The reference {@link xent!entropy}: H(P) per row.
   *
   * @example
   * ```ts
   * import { entropy } from "xent/reference";
   * entropy([0.5, 0.5], { base: 2 }); // 1 bit
   * ```
   * @function
   */
  entropy,
  /**
   * The reference {@link xent!binaryCrossEntropy}: binary cross-entropy per element.
   *
   * @example
   * ```ts
   * import { binaryCrossEntropy } from "xent/reference";
   * binaryCrossEntropy([1, 0], [0.9, 0.2]); // 0.164252
   * ```
   * @function
   */
  binaryCrossEntropy,
  /**
   * The reference {@link xent!focalLoss}: focal loss per row.
   *
   * @example
   * ```ts
   * import { focalLoss } from "xent/reference";
   * focalLoss(new Int32Array([2, 0]), new Float32Array([1, 2, 3, 3, 2, 1]), { gamma: 0 }); // 0.407606
   * ```
   * @function
   */
  focalLoss,
  /**
   * The reference {@link xent!binaryFocalLoss}: binary focal loss per element.
   *
   * @example
   * ```ts
   * import { binaryFocalLoss } from "xent/reference";
   * binaryFocalLoss([1, 0], [2, -1], { gamma: 0 }); // 0.220095
   * ```
   * @function
   */
  binaryFocalLoss,
  /**
   * The reference {@link xent!evaluate}: one pass of evaluation figures.
   *
   * @example
   * ```ts
   * import { evaluate } from "xent/reference";
   * evaluate(new Int32Array([2]), new Float32Array([1, 2, 3])).accuracy; // 1
   * ```
   * @function
   */
  evaluate,
  /**
   * The reference {@link xent!crossEntropyWithGrad}: cross-entropy from logits and its gradient.
   *
   * @example
   * ```ts
   * import { crossEntropyWithGrad } from "xent/reference";
   * crossEntropyWithGrad(new Int32Array([2, 0]), new Float32Array([1, 2, 3, 3, 2, 1])).loss; // 0.407606
   * ```
   * @function
   */
  crossEntropyWithGrad,
  /**
   * The reference {@link xent!klDivergenceWithGrad}: KL from logits and its gradient with respect to q.
   *
   * @example
   * ```ts
   * import { klDivergenceWithGrad } from "xent/reference";
   * klDivergenceWithGrad(new Float32Array([2, 1, 0, 0, 1, 2]), new Float32Array([1, 1, 0, 0, 0, 1]), { classes: 3 }).loss; // 0.086719
   * ```
   * @function
   */
  klDivergenceWithGrad,
} = bindMeasures(engine, referenceEngine);
export const {
  /**
   * The reference {@link xent!Evaluator}: evaluation figures accumulated over batches.
   *
   * @example
   * ```ts
   * import { Evaluator } from "xent/reference";
   * new Evaluator({ classes: 3 }).update(new Int32Array([2]), new Float32Array([1, 2, 3])).result().accuracy; // 1
   * ```
   * @class
   */
  Evaluator,
} = makeEvaluation(engine);
/** A reference {@link Evaluator} instance. */
export type Evaluator = InstanceType<typeof Evaluator>;
