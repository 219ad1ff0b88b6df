import type { WasmArray } from "./engine/memory.js";

/** The float typed arrays the engines compute on. */
export type FloatArray = Float32Array | Float64Array;
/** A float input: a typed array, a plain number array (read as float64) or a zero-copy WasmArray. */
export type FloatInput = FloatArray | number[] | WasmArray<FloatArray>;
/** Class-index targets (one per row). */
export type IndexArray = Int32Array | Uint32Array | Int16Array | Uint16Array | Uint8Array | Int8Array;
/** Class-index targets: a typed array, a plain number array or a zero-copy WasmArray. */
export type IndexInput = IndexArray | number[] | WasmArray<Int32Array>;
/** What a float input holds. */
export type From = "logits" | "probs" | "logprobs";
/** How per-row values are reduced: their (weighted) mean, their sum, or none (a Float64Array of them). */
export type Reduction = "mean" | "sum" | "none";
/** The engine the measures run on: SIMD WebAssembly, scalar WebAssembly, or the plain TypeScript reference. */
export type Backend = "wasm-simd" | "wasm" | "js";

/** Options every measure takes. */
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

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends CommonOptions {
  /** What `prediction` holds (default "logits"); `{ p, q }` also says what a dense target holds. */
  from?: From | { /** What a dense target holds. */ p?: From /** What the prediction holds. */; q?: From };
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

/** Options of {@link klDivergence} and {@link jensenShannon}. */
export interface DivergenceOptions extends CommonOptions {
  /** What the inputs hold (default "probs"); `{ p, q }` per side. */
  from?: From | { /** What P holds. */ p?: From /** What Q holds. */; q?: From };
  /** Divides logits by T before the softmax (no T^2 factor). */
  temperature?: number;
  /** Divide each probability row by its sum first (counts are fine then), as scipy.stats.entropy does. */
  normalize?: boolean;
}

/** Options of {@link entropy}. */
export interface EntropyOptions extends CommonOptions {
  /** What the input holds (default "probs"). */
  from?: From;
  /** Divides logits by T before the softmax (with from: "logits"). */
  temperature?: number;
  /** Divide each probability row by its sum first, as scipy.stats.entropy does. */
  normalize?: boolean;
}

/** Options of {@link binaryCrossEntropy}. */
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
export type MeasureResult<O> = O extends { /** The reduction asked for. */ reduction: infer R }
  ? [R] extends ["none"]
    ? OutOf<O>
    : "none" extends R
      ? number | OutOf<O>
      : number
  : number;
