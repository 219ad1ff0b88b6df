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
/**
 * The reference as an engine: each kernel call of the table computed by its reference row.
 *
 * @internal
 */
export { referenceEngine };
