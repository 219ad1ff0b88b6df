// xent: cross-entropy, KL divergence and the measures around them, on SIMD WebAssembly.
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

export const crossEntropy = makeCrossEntropy(currentEngine, referenceEngine);
export const klDivergence = makeKlDivergence(currentEngine, referenceEngine);
export const jensenShannon = makeJensenShannon(currentEngine, referenceEngine);
export const entropy = makeEntropy(currentEngine, referenceEngine);
export const binaryCrossEntropy = makeBinaryCrossEntropy(currentEngine, referenceEngine);
export const { Evaluator, evaluate } = makeEvaluation(currentEngine);
export type Evaluator = InstanceType<typeof Evaluator>;
export type { EvaluateOptions, EvaluateResult, EvaluatorState } from "./measures/evaluate.js";
export const { crossEntropyWithGrad, klDivergenceWithGrad } = makeGradients(currentEngine, referenceEngine);
export type { WithGrad, GradOptions } from "./measures/gradients.js";
