import type { Backend } from "../types.js";
import type { Call } from "../kernels/table.js";

/**
 * What every engine does: run a kernel call (src/kernels/table.ts), filling its per-row results
 * (and gradient). The measures (src/measures) validate, build the calls, then weight and reduce;
 * so engines differ only in how they compute rows, never in semantics.
 */
export interface Engine {
  readonly name: Backend;
  run(call: Call): void;
}

/** An engine that answers later (the pool; a GPU would be another): the same calls, awaited. */
export interface AsyncEngine {
  readonly name: string;
  run(call: Call): Promise<void>;
}

/**
 * The reference as an engine: each kernel's plain TypeScript definition, row by row.
 *
 * @internal
 */
export const referenceEngine: Engine = {
  name: "js",
  run: (call) => call.kernel.reference(call),
};
