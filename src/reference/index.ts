// xent/reference: the same measures, with the same signatures and options, computed by the plain
// TypeScript definitions in rows.ts (float64 throughout). No WebAssembly and no init().
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
export const crossEntropy = makeCrossEntropy(engine, referenceEngine);
export const klDivergence = makeKlDivergence(engine, referenceEngine);
export const jensenShannon = makeJensenShannon(engine, referenceEngine);
export const entropy = makeEntropy(engine, referenceEngine);
export const binaryCrossEntropy = makeBinaryCrossEntropy(engine, referenceEngine);
export const { Evaluator, evaluate } = makeEvaluation(engine);
export type Evaluator = InstanceType<typeof Evaluator>;
export const { crossEntropyWithGrad, klDivergenceWithGrad } = makeGradients(engine, referenceEngine);
export { referenceEngine };
