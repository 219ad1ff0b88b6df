// The one chunker: how a kernel call moves across the boundary, for the synchronous engine and the
// pool alike. A float input that already lives in the module's memory, of the kernel's precision
// (a WasmArray's view, or any typed array on that buffer), is passed by address: zero-copy.
// Every other input is copied into a staging set in chunks of whole rows, the kernel runs on the
// chunk, and its per-row results (and gradient, when it is not written in place) are read back.
// What differs between engines is only the chunk size (`Limits`, set once by each engine, with
// its reason) and how many staging sets are in flight (the pool stages chunk k + 1 while the
// workers compute chunk k).
//
// The argument list is filled by position (the kernel's Layout, worked out once per kernel), and
// per chunk only the addresses that move are rewritten: a call of a few rows costs little more
// than the kernel itself.
import type { FloatArray } from "../types.js";
import { type Call, type Layout, layoutOf } from "../kernels/table.js";
import type { Memory } from "./memory.js";

export interface Limits {
  /** Rows per chunk are chosen so that one copied input's chunk is about this many bytes. */
  readonly inputBytes: number;
  /** Most f64 results of one chunk (rows x results per row). */
  readonly values: number;
}

/** Float bytes an engine copied into module memory (for tests of the zero-copy paths). */
export interface CopyStats {
  copiedBytes: number;
}

/** Where one staging set's copies go, as offsets from the staging area's base (-1: not staged). */
interface StageSet {
  /** Per rows-input of the layout: its offset, or -1 where the input is in place or absent. */
  rows: number[];
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
  /** The export to call. */
  readonly exportName: string;
  /** The argument list of the current chunk (rewritten by stage()). */
  readonly args: number[];
  readonly #layout: Layout;
  /** Per rows-input: the array, or null where absent. */
  readonly #rows: Array<FloatArray | null>;
  readonly #inPlace: boolean[];
  /**
   * Byte addresses of the inputs passed in place (rows-inputs, once-inputs by position, the
   * gradient), read when the call is laid out: growing the memory for a large row detaches their
   * views (whose byteOffset then reads 0), but not their place in memory.
   */
  readonly #rowsAt: number[];
  readonly #onceAt: number[];
  readonly #gradAt: number;
  readonly #gradInPlace: boolean;
  /** Per once-input: its staging offset, or -1 where it is passed in place or absent. */
  readonly #once: number[];
  readonly #sets: StageSet[] = [];
  #base = 0;

  /**
   * @param sets staging sets (1, or 2 for a pipeline); a call of one chunk gets one.
   * @param capacity where given, the chunk is also cut so that the staging area fits in it.
   */
  constructor(
    readonly call: Call,
    private readonly mem: Memory,
    limits: Limits,
    sets: 1 | 2,
    capacity = Infinity,
    private readonly counter: CopyStats = { copiedBytes: 0 },
  ) {
    const c = call,
      L = layoutOf(c.kernel);
    this.#layout = L;
    this.bytes = c.f32 ? 4 : 8;
    this.rowBytes = c.classes * this.bytes;
    this.perRow = c.kernel.perRow;
    this.exportName = L.exports[c.f32 ? 0 : 1];
    const arrays = c.arrays as Record<string, FloatArray | null>;
    const buffer = mem.buffer;
    const here = (a: FloatArray, f32: boolean) =>
      (f32 ? a instanceof Float32Array : a instanceof Float64Array) && (a.buffer === buffer || mem.holds(a));
    let copied = 0,
      onceBytes = 0;
    this.#rows = L.rows.map((r) => arrays[r.name]);
    this.#inPlace = this.#rows.map((a) => a === null || here(a, c.f32));
    this.#rowsAt = this.#rows.map((a, i) => (a !== null && this.#inPlace[i] ? a.byteOffset : 0));
    for (const p of this.#inPlace) if (!p) copied++;
    this.#gradInPlace = c.grad === undefined || here(c.grad, c.f32);
    this.#gradAt = c.grad !== undefined && this.#gradInPlace ? c.grad.byteOffset : 0;
    if (!this.#gradInPlace) copied++;
    this.#onceAt = L.once.map((o) => arrays[o.name]?.byteOffset ?? 0);
    this.#once = L.once.map((o) => {
      const v = arrays[o.name];
      if (v === null || here(v, c.f32 && !o.f64)) return -1;
      const at = onceBytes;
      onceBytes += align(v.length * (c.f32 && !o.f64 ? 4 : 8));
      return at;
    });
    const indexed = L.index >= 0 && c.index !== null;
    const maxRows = Math.max(1, Math.floor(limits.values / this.perRow));
    let chunk = copied === 0 ? maxRows : Math.max(1, Math.min(maxRows, Math.floor(limits.inputBytes / this.rowBytes)));
    const setBytes = (n: number) => copied * align(n * this.rowBytes) + (indexed ? align(n * 4) : 0) + align(n * this.perRow * 8);
    const nSets = (n: number) => (c.rows > n && sets === 2 ? 2 : 1);
    while (chunk > 1 && onceBytes + nSets(chunk) * setBytes(chunk) > capacity) chunk = Math.max(1, chunk >> 1);
    chunk = Math.max(1, Math.min(chunk, c.rows));
    this.chunk = chunk;
    this.count = Math.ceil(c.rows / chunk);

    // Layout of the staging area: once-inputs, then each set's [copied inputs..., index, out, grad].
    let at = onceBytes;
    for (let s = 0; s < nSets(chunk); s++) {
      const set: StageSet = { rows: [], index: -1, out: 0, grad: -1 };
      for (let i = 0; i < this.#rows.length; i++) {
        set.rows.push(this.#inPlace[i] ? -1 : at);
        if (!this.#inPlace[i]) at += align(chunk * this.rowBytes);
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
    this.args = new Array<number>(c.kernel.args.length).fill(0);
  }

  /** Copies (or passes) the once-inputs to the staging area at `base` and fills the fixed arguments; call once, before stage(). */
  begin(base: number): void {
    this.#base = base;
    const c = this.call,
      L = this.#layout,
      args = this.args;
    const arrays = c.arrays as Record<string, FloatArray | null>,
      scalars = c.scalars as Record<string, number>;
    for (let i = 0; i < L.once.length; i++) {
      const o = L.once[i],
        v = arrays[o.name],
        off = this.#once[i];
      if (v === null) args[o.at] = 0;
      else if (off < 0) args[o.at] = this.#onceAt[i];
      else {
        args[o.at] = base + off;
        this.#put(v, 0, v.length, base + off, c.f32 && !o.f64);
      }
    }
    for (const s of L.scalars) args[s.at] = scalars[s.name];
    if (L.classes >= 0) args[L.classes] = c.classes;
  }

  /** Stages chunk k in its set (k alternates between the sets) and writes its addresses and row count into `args`. */
  stage(k: number): void {
    const c = this.call,
      L = this.#layout,
      args = this.args,
      set = this.#sets[k % this.#sets.length],
      base = this.#base;
    const r0 = k * this.chunk,
      n = this.rows(k);
    for (let i = 0; i < L.rows.length; i++) {
      const v = this.#rows[i],
        at = L.rows[i].at;
      if (v === null) args[at] = 0;
      else if (this.#inPlace[i]) args[at] = this.#rowsAt[i] + r0 * this.rowBytes;
      else {
        args[at] = base + set.rows[i];
        this.#put(v, r0 * c.classes, (r0 + n) * c.classes, base + set.rows[i], c.f32);
      }
    }
    if (L.index >= 0) {
      if (set.index >= 0 && c.index !== null) {
        args[L.index] = base + set.index;
        new Int32Array(this.mem.buffer, base + set.index, n).set(c.index.subarray(r0, r0 + n));
      } else args[L.index] = 0;
    }
    args[L.out] = base + set.out;
    this.refillOutIn(k);
    if (L.grad >= 0) args[L.grad] = c.grad === undefined ? 0 : this.#gradInPlace ? this.#gradAt + r0 * this.rowBytes : base + set.grad;
    args[L.count] = n;
    if (L.first >= 0) args[L.first] = r0;
  }

  /**
   * Writes chunk k's values read per row (the gradients' scales) where its results go: staging
   * does it, and the pool again before it computes a chunk a second time (the kernel has
   * overwritten them with the rows' losses).
   */
  refillOutIn(k: number): void {
    const c = this.call;
    if (c.outIn === undefined) return;
    const r0 = k * this.chunk,
      n = this.rows(k);
    new Float64Array(this.mem.buffer, this.#base + this.#sets[k % this.#sets.length].out, n).set(c.outIn.subarray(r0, r0 + n));
  }

  /** Reads chunk k's results (and its gradient, when staged) back into the call's arrays. */
  collect(k: number): void {
    const c = this.call,
      set = this.#sets[k % this.#sets.length],
      r0 = k * this.chunk,
      n = this.rows(k);
    const buffer = this.mem.buffer;
    c.out.set(new Float64Array(buffer, this.#base + set.out, n * this.perRow), r0 * this.perRow);
    if (c.grad !== undefined && !this.#gradInPlace) {
      const at = this.#base + set.grad;
      c.grad.set(c.f32 ? new Float32Array(buffer, at, n * c.classes) : new Float64Array(buffer, at, n * c.classes), r0 * c.classes);
    }
  }

  /**
   * How each argument moves from one row to the next within a chunk (the pool hands rows out in
   * pieces): the addresses of rows, indices, results and gradient, and the first row's index; 0 for
   * the others and for absent pointers. The count argument is set per piece.
   */
  strides(): number[] {
    const L = this.#layout,
      args = this.args;
    const s = new Array<number>(args.length).fill(0);
    for (const r of L.rows) if (args[r.at] !== 0) s[r.at] = this.rowBytes;
    if (L.index >= 0 && args[L.index] !== 0) s[L.index] = 4;
    s[L.out] = this.perRow * 8;
    if (L.grad >= 0 && args[L.grad] !== 0) s[L.grad] = this.rowBytes;
    if (L.first >= 0) s[L.first] = 1;
    return s;
  }

  /** Position of the count argument. */
  get countAt(): number {
    return this.#layout.count;
  }

  /** Rows in chunk k. */
  rows(k: number): number {
    return Math.min(this.chunk, this.call.rows - k * this.chunk);
  }

  /** Copies src[from, to) to byte address `at` as float32 or float64 (converting if needed). */
  #put(src: FloatArray, from: number, to: number, at: number, f32: boolean): void {
    const part = from === 0 && to === src.length ? src : src.subarray(from, to);
    this.counter.copiedBytes += part.byteLength;
    if (f32) new Float32Array(this.mem.buffer, at, to - from).set(part);
    else new Float64Array(this.mem.buffer, at, to - from).set(part);
  }
}

function align(n: number): number {
  return Math.ceil(n / 64) * 64;
}
