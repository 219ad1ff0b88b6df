// How the pool reuses the measures unchanged (validation, options, weights, reductions: the code of
// src/measures), although they call their engine synchronously and the workers answer later:
//
//   1. record: the measure runs once with a Recorder as its engine. Validation throws here, before
//      any work; each engine call becomes a job (the same kernel, arguments and inputs WasmEngine
//      would use) with its own result array. The measure's result of this pass is discarded.
//   2. run: the jobs run on the workers, over contiguous pieces of rows, filling the result arrays.
//   3. replay: the measure runs again, synchronously, with a Replayer as its engine, which hands it
//      the per-row results of step 2 in call order; the measure then weights and reduces them
//      exactly as it does on one thread (same values, same order: the same bits).
import { XentError } from "../errors.js";
import type { Backend, FloatArray } from "../types.js";
import type { Engine } from "../engine/engine.js";
import { LOGITS, type Mode, type PairOp } from "../engine/abi.js";
import { referenceEngine } from "../reference/rows.js";
import type { KernelJob } from "./runner.js";
import { bceInFloat32 } from "../engine/wasm.js";

/** A recorded engine call: a kernel job for the workers, or a little work done on the calling thread. */
export type Job = { kernel: KernelJob } | { local: () => void; out: Float64Array };

export function jobOut(j: Job): Float64Array {
  return "kernel" in j ? j.kernel.out : j.out;
}

function unsupported(what: string): never {
  throw new XentError("BACKEND_UNAVAILABLE", `the pool does not run ${what}`);
}

/** Engine of pass 1: records each call as a job and writes zeros where the measure expects results. */
export class Recorder implements Engine {
  readonly name: Backend = "wasm-simd";
  readonly jobs: Job[] = [];

  ceIndex(q: FloatArray, t: Int32Array, rows: number, classes: number, qMode: Mode, eps: number, out: Float64Array): void {
    const result = new Float64Array(out.length);
    out.fill(0);
    // As WasmEngine: only logits need the kernel; the others are one gather per row on this thread.
    if (qMode !== LOGITS) {
      this.jobs.push({ local: () => referenceEngine.ceIndex(q, t, rows, classes, qMode, eps, result), out: result });
      return;
    }
    const f32 = q instanceof Float32Array;
    this.jobs.push({ kernel: {
      kernel: f32 ? "ce_index_logits_f32" : "ce_index_logits_f64", rows, classes, f32, inputs: [q], once: [], idx: t, perRow: 1, out: result,
      args: (ptrs, _w, idxPtr, n, outPtr) => [ptrs[0], idxPtr, n, classes, outPtr],
    } });
  }

  pair(op: PairOp, p: FloatArray | null, q: FloatArray, w: FloatArray | null, rows: number, classes: number,
    pMode: Mode, qMode: Mode, invT: number, normalize: boolean, a: number, b: number, eps: number, out: Float64Array): void {
    const result = new Float64Array(out.length);
    out.fill(0);
    const f32 = q instanceof Float32Array && (p === null || p instanceof Float32Array);
    const norm = normalize ? 1 : 0;
    this.jobs.push({ kernel: {
      kernel: f32 ? "pair_rows_f32" : "pair_rows_f64", rows, classes, f32, inputs: [p, q], once: [w], idx: null, perRow: 1, out: result,
      args: (ptrs, wp, _i, n, outPtr) => [op, ptrs[0], ptrs[1], wp[0], n, classes, pMode, qMode, invT, norm, a, b, eps, outPtr],
    } });
  }

  entropy(p: FloatArray, rows: number, classes: number, mode: Mode, invT: number, normalize: boolean, out: Float64Array): void {
    const result = new Float64Array(out.length);
    out.fill(0);
    const f32 = p instanceof Float32Array;
    const norm = normalize ? 1 : 0;
    this.jobs.push({ kernel: {
      kernel: f32 ? "entropy_rows_f32" : "entropy_rows_f64", rows, classes, f32, inputs: [p], once: [], idx: null, perRow: 1, out: result,
      args: (ptrs, _w, _i, n, outPtr) => [ptrs[0], n, classes, mode, invT, norm, outPtr],
    } });
  }

  evaluate(x: FloatArray, t: Int32Array, rows: number, classes: number, out: Float64Array): void {
    const result = new Float64Array(out.length);
    out.fill(0);
    const f32 = x instanceof Float32Array;
    this.jobs.push({ kernel: {
      kernel: f32 ? "evaluate_rows_f32" : "evaluate_rows_f64", rows, classes, f32, inputs: [x], once: [], idx: t, perRow: 3, out: result,
      args: (ptrs, _w, idxPtr, n, outPtr) => [ptrs[0], idxPtr, n, classes, outPtr],
    } });
  }

  ceGrad(): void {
    unsupported("crossEntropyWithGrad");
  }

  klGrad(): void {
    unsupported("klDivergenceWithGrad");
  }

  bce(y: FloatArray, x: FloatArray, w: FloatArray | null, pw: FloatArray | null, n: number, classes: number, mode: Mode, out: Float64Array): void {
    const result = new Float64Array(out.length);
    out.fill(0);
    // As WasmEngine.bce, with the elements taken as n / classes rows of `classes` (n is a multiple of
    // classes): pieces then start at a row, so each element's column (for posWeight) is its index in
    // the row. The per-element weight w is applied by the Replayer, as WasmEngine applies it after the kernel.
    const f32 = bceInFloat32(y, x, w, pw);
    this.jobs.push({ kernel: {
      kernel: f32 ? "bce_f32" : "bce_f64", rows: n / classes, classes, f32, inputs: [y, x], once: [pw], idx: null, perRow: classes, out: result,
      args: (ptrs, pwp, _i, m, outPtr) => [ptrs[0], ptrs[1], 0, pwp[0], m * classes, classes, 0, mode, outPtr],
    } });
  }
}

/** Writes zeros where results are expected: the reference side of a `check: true` call during pass 1. */
export class Zeros implements Engine {
  readonly name: Backend = "js";
  ceIndex(...a: Parameters<Engine["ceIndex"]>): void { a[6].fill(0); }
  pair(...a: Parameters<Engine["pair"]>): void { a[13].fill(0); }
  entropy(...a: Parameters<Engine["entropy"]>): void { a[6].fill(0); }
  evaluate(...a: Parameters<Engine["evaluate"]>): void { a[4].fill(0); }
  ceGrad(): void { unsupported("crossEntropyWithGrad"); }
  klGrad(): void { unsupported("klDivergenceWithGrad"); }
  bce(...a: Parameters<Engine["bce"]>): void { a[7].fill(0); }
}

/** Engine of pass 3: hands back the results of pass 2, in call order. */
export class Replayer implements Engine {
  readonly name: Backend = "wasm-simd";
  #i = 0;
  constructor(private readonly results: Float64Array[]) {}

  #next(out: Float64Array): void {
    const r = this.results[this.#i++];
    if (r === undefined || r.length !== out.length) {
      throw new XentError("SHAPE_MISMATCH", "an input changed while the pool was computing (do not modify inputs until the promise settles)");
    }
    out.set(r);
  }

  ceIndex(...a: Parameters<Engine["ceIndex"]>): void { this.#next(a[6]); }
  pair(...a: Parameters<Engine["pair"]>): void { this.#next(a[13]); }
  entropy(...a: Parameters<Engine["entropy"]>): void { this.#next(a[6]); }
  evaluate(...a: Parameters<Engine["evaluate"]>): void { this.#next(a[4]); }
  ceGrad(): void { unsupported("crossEntropyWithGrad"); }
  klGrad(): void { unsupported("klDivergenceWithGrad"); }
  bce(...a: Parameters<Engine["bce"]>): void {
    const w = a[2], out = a[7];
    this.#next(out);
    if (w !== null) for (let i = 0; i < out.length; i++) out[i] *= w[i]; // as WasmEngine.bce
  }
}
