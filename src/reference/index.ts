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
import { referenceEngine } from "./rows.js";
import { makeCrossEntropy } from "../measures/crossEntropy.js";
import { makeKlDivergence, makeJensenShannon } from "../measures/divergence.js";
import { makeEntropy } from "../measures/entropy.js";
import { makeBinaryCrossEntropy } from "../measures/binaryCrossEntropy.js";
import { makeEvaluation } from "../measures/evaluate.js";
import { makeGradients } from "../measures/gradients.js";

export { XentError } from "../errors.js";
export type * from "../types.js";

const engine = () => referenceEngine;
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
export const crossEntropy = makeCrossEntropy(engine, referenceEngine);
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
export const klDivergence = makeKlDivergence(engine, referenceEngine);
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
export const jensenShannon = makeJensenShannon(engine, referenceEngine);
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
export const entropy = makeEntropy(engine, referenceEngine);
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
export const binaryCrossEntropy = makeBinaryCrossEntropy(engine, referenceEngine);
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
  /** @function */
  evaluate,
} = makeEvaluation(engine);
/** A reference {@link Evaluator} instance. */
export type Evaluator = InstanceType<typeof Evaluator>;
export const {
  /** @function */
  crossEntropyWithGrad,
  /** @function */
  klDivergenceWithGrad,
} = makeGradients(engine, referenceEngine);
export { referenceEngine };
