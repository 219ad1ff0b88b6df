// The three engines side by side, each behind the public measure functions, for parity and
// oracle tests. They are built the way init() builds them, from the packaged .wasm files.
import { readFileSync } from "node:fs";
import { WasmEngine } from "../../src/engine/wasm.js";
import { type Engine, referenceEngine } from "../../src/engine/engine.js";
import type { ModuleExports } from "../../src/kernels/table.js";
import { bindMeasures } from "../../src/measures/list.js";
import { makeEvaluation } from "../../src/measures/evaluate.js";

export function wasmExports(file: "xent.simd.wasm" | "xent.wasm"): ModuleExports {
  const bytes = readFileSync(new URL(`../../wasm/${file}`, import.meta.url));
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as ModuleExports;
}

/** Every measure of the list on one engine (checked against the reference with check: true), and its Evaluator. */
export function measuresOf(engine: Engine) {
  const get = () => engine;
  return { engine, ...bindMeasures(get, referenceEngine), ...makeEvaluation(get) };
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
