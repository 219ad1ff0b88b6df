import type { WasmArray } from "./engine/memory.js";

export type FloatArray = Float32Array | Float64Array;
/** A float input: a typed array, a plain number array (read as float64) or a zero-copy WasmArray. */
export type FloatInput = FloatArray | number[] | WasmArray<FloatArray>;
/** Class-index targets (one per row). */
export type IndexArray = Int32Array | Uint32Array | Int16Array | Uint16Array | Uint8Array | Int8Array;
export type IndexInput = IndexArray | number[] | WasmArray<Int32Array>;
/** What a float input holds. */
export type From = "logits" | "probs" | "logprobs";
export type Reduction = "mean" | "sum" | "none";
export type Backend = "wasm-simd" | "wasm" | "js";

export interface CommonOptions {
  /** Row length K. */
  classes?: number;
  /** "mean" (default), "sum", or "none" for a Float64Array of per-row values. */
  reduction?: Reduction;
  /** Logarithm base of the result (default e: nats; 2 gives bits). */
  base?: number;
  /** Where "none" writes its per-row values (length rows); it is returned. */
  out?: Float32Array | Float64Array;
  /** Compute with the engine and with the reference; throw ENGINE_MISMATCH if they disagree. */
  check?: boolean;
}

export interface CrossEntropyOptions extends CommonOptions {
  /** What `prediction` holds (default "logits"); `{ p, q }` also says what a dense target holds. */
  from?: From | { p?: From; q?: From };
  /** Per-class weights, length K. */
  weight?: FloatInput;
  /** Rows whose class-index target equals this are left out (default -100). */
  ignoreIndex?: number;
  /** In [0, 1]: mix the target with the uniform distribution. */
  labelSmoothing?: number;
  /** Per-row weights, length rows. */
  sampleWeight?: FloatInput;
  /** With from "probs": clip probabilities to [eps, 1 - eps] before the log (default 0: none). */
  eps?: number;
}

export interface DivergenceOptions extends CommonOptions {
  /** What the inputs hold (default "probs"); `{ p, q }` per side. */
  from?: From | { p?: From; q?: From };
  /** Divides logits by T before the softmax (no T^2 factor). */
  temperature?: number;
  /** Divide each probability row by its sum first (counts are fine then), as scipy.stats.entropy does. */
  normalize?: boolean;
}

export interface EntropyOptions extends CommonOptions {
  from?: From;
  temperature?: number;
  normalize?: boolean;
}

export interface BinaryCrossEntropyOptions extends CommonOptions {
  /** "probs" (default; each log clamped at -100 as PyTorch does) or "logits" (stable form). */
  from?: "probs" | "logits";
  /** Per-element weights, the length of `prediction`. */
  weight?: FloatInput;
  /** Weight of the positive term: a number, or one per class (length `classes`). */
  posWeight?: number | FloatInput;
}

type OutOf<O> = O extends { out: infer T extends Float32Array | Float64Array } ? T : Float64Array;
/** What a measure returns for options O: a number, or per-row values with reduction "none". */
export type MeasureResult<O> = O extends { reduction: infer R }
  ? [R] extends ["none"] ? OutOf<O> : "none" extends R ? number | OutOf<O> : number
  : number;
