// The WebAssembly engine: moves rows across the boundary and calls the kernels.
// A float input that already lives in the module's memory (a WasmArray's view, or any typed array
// on memory.buffer) of the kernel's type is passed by address: no copy. Every other input is
// copied in chunks of whole rows through the scratch slots of memory.ts (about CHUNK_BYTES per
// input per chunk, so the copy stays in cache and memory never grows on this path).
import type { Backend, FloatArray } from "../types.js";
import type { Engine } from "./engine.js";
import { LOGITS, type Mode, type ModuleExports, type PairOp } from "./abi.js";
import { Memory, CHUNK_BYTES, CHUNK_ROWS } from "./memory.js";
import { referenceEngine } from "../reference/rows.js";

interface Heap {
  buffer: ArrayBuffer;
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
}

export class WasmEngine implements Engine {
  readonly memory: Memory;
  #heap: Heap | null = null;

  constructor(readonly name: Backend, readonly exports: ModuleExports) {
    this.memory = new Memory(exports.memory, exports.heap_base());
  }

  /** Whole-memory views, re-created after any growth. */
  private heap(): Heap {
    const buffer = this.memory.buffer;
    if (this.#heap === null || this.#heap.buffer !== buffer) {
      this.#heap = { buffer, f32: new Float32Array(buffer), f64: new Float64Array(buffer), i32: new Int32Array(buffer) };
    }
    return this.#heap;
  }

  /**
   * Runs `kernel` over all rows, chunk by chunk. `inputs` are row-major rows x classes (null: absent,
   * address 0); `once` are copied (or passed) once for the whole call (per-class weights); `idx`
   * has one i32 per row. The kernel writes `perRow` f64 values per row at outPtr; they land in out.
   */
  private run(
    rows: number, classes: number, f32: boolean,
    inputs: ReadonlyArray<FloatArray | null>, once: ReadonlyArray<FloatArray | null>, idx: Int32Array | null,
    perRow: number, out: Float64Array,
    kernel: (ptrs: number[], oncePtrs: number[], idxPtr: number, r0: number, n: number, outPtr: number, gradPtr: number) => void,
    rowsIn: Float64Array | null = null, grad: FloatArray | null = null,
  ): void {
    const bytes = f32 ? 4 : 8;
    const rowBytes = classes * bytes;
    const mem = this.memory;
    const slots = mem.reserveRow(Math.max(rowBytes, ...once.map((w) => (w === null ? 0 : w.length * bytes))));
    const slotList = [slots.p, slots.q];
    const Ctor = f32 ? Float32Array : Float64Array;
    const zero = inputs.map((a) => a !== null && a instanceof Ctor && mem.holds(a));
    const gradZero = grad !== null && grad instanceof Ctor && mem.holds(grad);
    // Chunks are sized to the scratch slots unless nothing goes through them (a gradient that is
    // not zero-copy is written to a slot too: slots.g holds rowCapacity bytes).
    const allZero = zero.every((z, i) => z || inputs[i] === null) && (grad === null || gradZero);
    let chunk = allZero ? CHUNK_ROWS : Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
    chunk = Math.max(1, Math.min(chunk, Math.floor(CHUNK_ROWS / perRow), allZero ? Infinity : Math.floor(mem.rowCapacity / rowBytes)));
    const oncePtrs = once.map((w, i) => {
      if (w === null) return 0;
      if (w instanceof Ctor && mem.holds(w)) return w.byteOffset;
      const at = i === 0 ? slots.w : slots.w + mem.rowCapacity / 2; // at most two, each <= half a slot
      this.put(w, 0, w.length, at, f32);
      return at;
    });
    const ptrs = new Array<number>(inputs.length);
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const n = Math.min(chunk, rows - r0);
      for (let i = 0; i < inputs.length; i++) {
        const a = inputs[i];
        if (a === null) ptrs[i] = 0;
        else if (zero[i]) ptrs[i] = a.byteOffset + r0 * rowBytes;
        else {
          this.put(a, r0 * classes, (r0 + n) * classes, slotList[i], f32);
          ptrs[i] = slotList[i];
        }
      }
      let idxPtr = 0;
      if (idx !== null) {
        idxPtr = mem.slotIdx;
        this.heap().i32.set(idx.subarray(r0, r0 + n), idxPtr >> 2);
      }
      if (rowsIn !== null) this.heap().f64.set(rowsIn.subarray(r0, r0 + n), mem.slotOut >> 3);
      const gradPtr = grad === null ? 0 : gradZero ? grad.byteOffset + r0 * rowBytes : slots.g;
      kernel(ptrs, oncePtrs, idxPtr, r0, n, mem.slotOut, gradPtr);
      const h = this.heap();
      const o = mem.slotOut >> 3;
      out.set(h.f64.subarray(o, o + n * perRow), r0 * perRow);
      if (grad !== null && !gradZero) {
        const from = slots.g / bytes;
        grad.set((f32 ? h.f32 : h.f64).subarray(from, from + n * classes), r0 * classes);
      }
    }
  }

  /** Copies src[from, to) to byte address `at` as float32 or float64 (converting if needed). */
  private put(src: FloatArray, from: number, to: number, at: number, f32: boolean): void {
    const h = this.heap();
    const part = from === 0 && to === src.length ? src : src.subarray(from, to);
    if (f32) h.f32.set(part, at >> 2);
    else h.f64.set(part, at >> 3);
  }

  ceIndex(q: FloatArray, t: Int32Array, rows: number, classes: number, qMode: Mode, eps: number, out: Float64Array): void {
    // Only logits need the row; the others are one gather per row, done in place without a copy.
    if (qMode !== LOGITS) return referenceEngine.ceIndex(q, t, rows, classes, qMode, eps, out);
    const f32 = q instanceof Float32Array;
    const k = f32 ? this.exports.ce_index_logits_f32 : this.exports.ce_index_logits_f64;
    this.run(rows, classes, f32, [q], [], t, 1, out, (ptrs, _w, idxPtr, _r0, n, outPtr) => k(ptrs[0], idxPtr, n, classes, outPtr));
  }

  pair(op: PairOp, p: FloatArray | null, q: FloatArray, w: FloatArray | null, rows: number, classes: number,
    pMode: Mode, qMode: Mode, invT: number, normalize: boolean, a: number, b: number, eps: number, out: Float64Array): void {
    const f32 = q instanceof Float32Array && (p === null || p instanceof Float32Array);
    const k = f32 ? this.exports.pair_rows_f32 : this.exports.pair_rows_f64;
    const norm = normalize ? 1 : 0;
    this.run(rows, classes, f32, [p, q], [w], null, 1, out, (ptrs, wp, _i, _r0, n, outPtr) =>
      k(op, ptrs[0], ptrs[1], wp[0], n, classes, pMode, qMode, invT, norm, a, b, eps, outPtr));
  }

  entropy(p: FloatArray, rows: number, classes: number, mode: Mode, invT: number, normalize: boolean, out: Float64Array): void {
    const f32 = p instanceof Float32Array;
    const k = f32 ? this.exports.entropy_rows_f32 : this.exports.entropy_rows_f64;
    const norm = normalize ? 1 : 0;
    this.run(rows, classes, f32, [p], [], null, 1, out, (ptrs, _w, _i, _r0, n, outPtr) => k(ptrs[0], n, classes, mode, invT, norm, outPtr));
  }

  evaluate(x: FloatArray, t: Int32Array, rows: number, classes: number, out: Float64Array): void {
    const f32 = x instanceof Float32Array;
    const k = f32 ? this.exports.evaluate_rows_f32 : this.exports.evaluate_rows_f64;
    this.run(rows, classes, f32, [x], [], t, 3, out, (ptrs, _w, idxPtr, _r0, n, outPtr) => k(ptrs[0], idxPtr, n, classes, outPtr));
  }

  ceGrad(x: FloatArray, t: Int32Array | null, y: FloatArray | null, w: FloatArray | null, rows: number, classes: number,
    alpha: number, beta: number, scale: Float64Array, grad: FloatArray, out: Float64Array): void {
    const f32 = x instanceof Float32Array && (y === null || y instanceof Float32Array);
    const k = f32 ? this.exports.ce_grad_f32 : this.exports.ce_grad_f64;
    this.run(rows, classes, f32, [y, x], [w], t, 1, out, (ptrs, wp, idxPtr, _r0, n, outPtr, gradPtr) =>
      k(ptrs[1], idxPtr, ptrs[0], wp[0], n, classes, alpha, beta, outPtr, gradPtr), scale, grad);
  }

  klGrad(x: FloatArray, y: FloatArray, rows: number, classes: number, invT: number, scale: Float64Array,
    grad: FloatArray, out: Float64Array): void {
    const f32 = x instanceof Float32Array && y instanceof Float32Array;
    const k = f32 ? this.exports.kl_grad_f32 : this.exports.kl_grad_f64;
    this.run(rows, classes, f32, [x, y], [], null, 1, out, (ptrs, _w, _i, _r0, n, outPtr, gradPtr) =>
      k(ptrs[0], ptrs[1], n, classes, invT, outPtr, gradPtr), scale, grad);
  }

  bce(y: FloatArray, x: FloatArray, w: FloatArray | null, pw: FloatArray | null, n: number, classes: number,
    mode: Mode, out: Float64Array): void {
    // Elements are chunked as rows of one element; posWeight's column follows the element index.
    const f32 = bceInFloat32(y, x, w, pw);
    const k = f32 ? this.exports.bce_f32 : this.exports.bce_f64;
    this.run(n, 1, f32, [y, x], [pw], null, 1, out, (ptrs, pwp, _i, r0, m, outPtr) => {
      // The per-element weight goes through the result: out is scaled after, in the same chunk.
      k(ptrs[0], ptrs[1], 0, pwp[0], m, classes, r0 % classes, mode, outPtr);
    });
    if (w !== null) for (let i = 0; i < n; i++) out[i] *= w[i];
  }
}

/**
 * Whether binaryCrossEntropy takes the float32 kernel: float32 targets, predictions and weights, and
 * posWeight values that are float32 numbers (the float32 kernel reads posWeight as float32: a
 * float64 2.1 would be rounded, by 4.8e-8 of itself, beyond the float32 contract where terms
 * cancel). The pool makes the same choice (src/pool/record.ts), so that its bits are the engine's.
 */
export function bceInFloat32(y: FloatArray, x: FloatArray, w: FloatArray | null, pw: FloatArray | null): boolean {
  if (!(x instanceof Float32Array && y instanceof Float32Array && (w === null || w instanceof Float32Array))) return false;
  if (pw === null || pw instanceof Float32Array) return true;
  for (let i = 0; i < pw.length; i++) if (Math.fround(pw[i]) !== pw[i] && pw[i] === pw[i]) return false;
  return true;
}
