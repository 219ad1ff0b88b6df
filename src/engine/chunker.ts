// The one chunker: how a kernel call moves across the boundary, for the synchronous engine and the
// pool alike. A float input that already lives in the module's memory, of the kernel's precision
// (a WasmArray's view, or any typed array on that buffer), is passed by address: zero-copy.
// Every other input is copied into a staging set in chunks of whole rows, the kernel runs on the
// chunk, and its per-row results (and gradient, when it is not written in place) are read back.
// What differs between engines is only the chunk size (`Limits`, set once by each engine, with
// its reason) and how many staging sets are in flight (the pool stages chunk k + 1 while the
// workers compute chunk k).
import type { FloatArray } from "../types.js";
import { type Addresses, type Arg, type Call, countOf, perRow } from "../kernels/table.js";
import type { Memory } from "./memory.js";

export interface Limits {
  /** Rows per chunk are chosen so that one copied input's chunk is about this many bytes. */
  readonly inputBytes: number;
  /** Most f64 results of one chunk (rows x results per row). */
  readonly values: number;
}

/** Where one staging set's copies go, as offsets from the staging area's base (-1: not staged). */
interface StageSet {
  arrays: Record<string, number>;
  index: number;
  out: number;
  grad: number;
}

/** A call cut into chunks: what is passed in place, what is copied, and where. */
export class Chunks {
  readonly bytes: 4 | 8;
  readonly rowBytes: number;
  readonly perRow: number;
  /** Rows per chunk, and how many chunks. */
  readonly chunk: number;
  readonly count: number;
  /** Bytes of staging area the call needs (once-inputs and every set). */
  readonly stageBytes: number;
  readonly #inPlace: Record<string, boolean> = {};
  readonly #gradInPlace: boolean;
  readonly #once: Record<string, number> = {};
  readonly #once64: Record<string, boolean> = {};
  readonly #sets: StageSet[] = [];
  #base = 0;

  /**
   * @param sets staging sets (1, or 2 for a pipeline); a call of one chunk gets one.
   * @param capacity where given, the chunk is also cut so that the staging area fits in it.
   */
  constructor(readonly call: Call, private readonly mem: Memory, limits: Limits, sets: 1 | 2, capacity = Infinity,
    private readonly counter: CopyStats = { copiedBytes: 0 }) {
    const c = call;
    this.bytes = c.f32 ? 4 : 8;
    this.rowBytes = c.classes * this.bytes;
    this.perRow = perRow(c);
    const Ctor = c.f32 ? Float32Array : Float64Array;
    const here = (a: FloatArray | null | undefined) => a != null && a instanceof Ctor && mem.holds(a);
    let copied = 0, onceBytes = 0;
    const arrays = c.arrays as Record<string, FloatArray | null>;
    for (const a of c.kernel.args as readonly Arg[]) {
      if (a.role === "rows") {
        const v = arrays[a.name];
        this.#inPlace[a.name] = v === null || here(v);
        if (!this.#inPlace[a.name]) copied++;
      } else if (a.role === "once") {
        const v = arrays[a.name];
        if (v !== null && !this.#onceHere(a, v)) onceBytes += align(v.length * 8);
      }
    }
    this.#gradInPlace = c.grad === undefined || here(c.grad);
    if (!this.#gradInPlace) copied++;
    const indexed = (c.kernel.args as readonly Arg[]).some((a) => a.role === "index");
    const maxRows = Math.max(1, Math.floor(limits.values / this.perRow));
    let chunk = copied === 0 ? maxRows : Math.max(1, Math.min(maxRows, Math.floor(limits.inputBytes / this.rowBytes)));
    const setBytes = (n: number) => copied * align(n * this.rowBytes) + (indexed ? align(n * 4) : 0) + align(n * this.perRow * 8);
    const nSets = (n: number) => (c.rows > n && sets === 2 ? 2 : 1);
    while (chunk > 1 && onceBytes + nSets(chunk) * setBytes(chunk) > capacity) chunk = Math.max(1, chunk >> 1);
    chunk = Math.max(1, Math.min(chunk, c.rows));
    this.chunk = chunk;
    this.count = Math.ceil(c.rows / chunk);

    // Layout of the staging area: once-inputs, then each set's [copied inputs..., index, out, grad].
    let at = 0;
    for (const a of c.kernel.args as readonly Arg[]) {
      if (a.role !== "once") continue;
      const v = arrays[a.name];
      this.#once[a.name] = v === null || this.#onceHere(a, v) ? -1 : at;
      if (this.#once[a.name] >= 0) at += align(v!.length * 8);
      this.#once64[a.name] = a.f64 === true;
    }
    for (let s = 0; s < nSets(chunk); s++) {
      const set: StageSet = { arrays: {}, index: -1, out: 0, grad: -1 };
      for (const a of c.kernel.args as readonly Arg[]) {
        if (a.role !== "rows" || this.#inPlace[a.name]) continue;
        set.arrays[a.name] = at;
        at += align(chunk * this.rowBytes);
      }
      if (indexed) {
        set.index = at;
        at += align(chunk * 4);
      }
      set.out = at;
      at += align(chunk * this.perRow * 8);
      if (!this.#gradInPlace) {
        set.grad = at;
        at += align(chunk * this.rowBytes);
      }
      this.#sets.push(set);
    }
    this.stageBytes = Math.max(at, 64);
  }

  /** Copies (or passes) the once-inputs to the staging area at `base`; call once, before stage(). */
  begin(base: number): void {
    this.#base = base;
    const arrays = this.call.arrays as Record<string, FloatArray | null>;
    for (const [name, off] of Object.entries(this.#once)) {
      if (off >= 0) this.#put(arrays[name]!, 0, arrays[name]!.length, base + off, !this.#once64[name] && this.call.f32);
    }
  }

  /** Stages chunk k in its set (k alternates between the sets); returns the chunk's addresses. */
  stage(k: number): Addresses {
    const c = this.call, set = this.#sets[k % this.#sets.length], base = this.#base;
    const r0 = k * this.chunk, n = this.rows(k);
    const arrays = c.arrays as Record<string, FloatArray | null>;
    const at: Addresses = { arrays: {}, index: 0, out: base + set.out, grad: 0 };
    for (const a of c.kernel.args as readonly Arg[]) {
      if (a.role === "once") {
        const v = arrays[a.name], off = this.#once[a.name];
        at.arrays[a.name] = v === null ? 0 : off >= 0 ? base + off : v.byteOffset;
      } else if (a.role === "rows") {
        const v = arrays[a.name];
        if (v === null) at.arrays[a.name] = 0;
        else if (this.#inPlace[a.name]) at.arrays[a.name] = v.byteOffset + r0 * this.rowBytes;
        else {
          at.arrays[a.name] = base + set.arrays[a.name];
          this.#put(v, r0 * c.classes, (r0 + n) * c.classes, at.arrays[a.name], c.f32);
        }
      }
    }
    if (set.index >= 0 && c.index !== null) {
      at.index = base + set.index;
      new Int32Array(this.mem.buffer, at.index, n).set(c.index.subarray(r0, r0 + n));
    }
    if (c.outIn !== undefined) new Float64Array(this.mem.buffer, at.out, n).set(c.outIn.subarray(r0, r0 + n));
    if (c.grad !== undefined) at.grad = this.#gradInPlace ? c.grad.byteOffset + r0 * this.rowBytes : base + set.grad;
    return at;
  }

  /** Reads chunk k's results (and its gradient, when staged) back into the call's arrays. */
  collect(k: number, at: Addresses): void {
    const c = this.call, r0 = k * this.chunk, n = this.rows(k);
    const buffer = this.mem.buffer;
    c.out.set(new Float64Array(buffer, at.out, n * this.perRow), r0 * this.perRow);
    if (c.grad !== undefined && !this.#gradInPlace) {
      const from = c.f32 ? new Float32Array(buffer, at.grad, n * c.classes) : new Float64Array(buffer, at.grad, n * c.classes);
      c.grad.set(from, r0 * c.classes);
    }
  }

  /** Rows in chunk k. */
  rows(k: number): number {
    return Math.min(this.chunk, this.call.rows - k * this.chunk);
  }

  /** The value of the count argument for n rows. */
  countFor(n: number): number {
    return countOf(this.call.kernel, n, this.call.classes);
  }

  /** Whether a once-input is passed in place: on this memory, of the precision the kernel reads it in. */
  #onceHere(a: Arg & { role: "once" }, v: FloatArray): boolean {
    const want = a.f64 === true || !this.call.f32 ? Float64Array : Float32Array;
    return v instanceof want && this.mem.holds(v);
  }

  /** Copies src[from, to) to byte address `at` as float32 or float64 (converting if needed). */
  #put(src: FloatArray, from: number, to: number, at: number, f32: boolean): void {
    const part = from === 0 && to === src.length ? src : src.subarray(from, to);
    this.counter.copiedBytes += part.byteLength;
    if (f32) new Float32Array(this.mem.buffer, at, to - from).set(part);
    else new Float64Array(this.mem.buffer, at, to - from).set(part);
  }
}

/** Float bytes an engine copied into module memory (for tests of the zero-copy paths). */
export interface CopyStats {
  copiedBytes: number;
}

function align(n: number): number {
  return Math.ceil(n / 64) * 64;
}
