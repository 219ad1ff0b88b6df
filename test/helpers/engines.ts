// The three engines side by side, each behind the public measure functions, for parity and
// oracle tests. They are built the way init() builds them, from the packaged .wasm files.
import { readFileSync } from "node:fs";
import { WasmEngine } from "../../src/engine/wasm.js";
import type { Engine } from "../../src/engine/engine.js";
import type { ModuleExports } from "../../src/engine/abi.js";
import { referenceEngine } from "../../src/reference/rows.js";
import { makeCrossEntropy } from "../../src/measures/crossEntropy.js";
import { makeKlDivergence, makeJensenShannon } from "../../src/measures/divergence.js";
import { makeEntropy } from "../../src/measures/entropy.js";
import { makeBinaryCrossEntropy } from "../../src/measures/binaryCrossEntropy.js";
import { makeEvaluation } from "../../src/measures/evaluate.js";
import { makeGradients } from "../../src/measures/gradients.js";

export function wasmExports(file: "xent.simd.wasm" | "xent.wasm"): ModuleExports {
  const bytes = readFileSync(new URL(`../../wasm/${file}`, import.meta.url));
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as ModuleExports;
}

export function measuresOf(engine: Engine) {
  const get = () => engine;
  return {
    engine,
    crossEntropy: makeCrossEntropy(get, referenceEngine),
    klDivergence: makeKlDivergence(get, referenceEngine),
    jensenShannon: makeJensenShannon(get, referenceEngine),
    entropy: makeEntropy(get, referenceEngine),
    binaryCrossEntropy: makeBinaryCrossEntropy(get, referenceEngine),
    ...makeEvaluation(get),
    ...makeGradients(get, referenceEngine),
  };
}

export type Measures = ReturnType<typeof measuresOf>;

export const simdEngine = new WasmEngine("wasm-simd", wasmExports("xent.simd.wasm"));
export const scalarEngine = new WasmEngine("wasm", wasmExports("xent.wasm"));

/** Every engine by name: the SIMD module, the scalar module, the reference. */
export const ENGINES: Record<"wasm-simd" | "wasm" | "js", Measures> = {
  "wasm-simd": measuresOf(simdEngine),
  wasm: measuresOf(scalarEngine),
  js: measuresOf(referenceEngine),
};
