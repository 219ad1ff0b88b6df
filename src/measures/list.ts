// The one list of measures. The public API (src/index.ts), xent/reference, the pool's promise API
// and the test helpers are all built from it: a new measure is added here, once.
import { crossEntropy } from "./crossEntropy.js";
import { klDivergence, jensenShannon } from "./divergence.js";
import { entropy } from "./entropy.js";
import { binaryCrossEntropy } from "./binaryCrossEntropy.js";
import { evaluate } from "./evaluate.js";
import { crossEntropyWithGrad, klDivergenceWithGrad } from "./gradients.js";
import { focalLoss, binaryFocalLoss } from "./focalLoss.js";
import type { Engine } from "../engine/engine.js";
import { type Measure, type SignatureOf, bindSync } from "./measure.js";

export const MEASURES = {
  crossEntropy,
  klDivergence,
  jensenShannon,
  entropy,
  binaryCrossEntropy,
  focalLoss,
  binaryFocalLoss,
  evaluate,
  crossEntropyWithGrad,
  klDivergenceWithGrad,
} as const;

/** The name of every measure: the functions of xent and xent/reference, and the methods of a pool. */
export type MeasureName = keyof typeof MEASURES;

/** Every measure's public function. */
export type Measures = { [K in MeasureName]: SignatureOf<(typeof MEASURES)[K]> };

/** Every measure bound to a synchronous engine (checked against `reference` with check: true). */
export function bindMeasures(engine: () => Engine, reference: Engine): Measures {
  const api = {} as Record<string, unknown>;
  for (const [name, m] of Object.entries(MEASURES)) api[name] = bindSync(m as Measure, engine, reference);
  return api as Measures;
}
