// The one place that knows about pointers, views and memory growth.
//
// Layout of the module's linear memory (all owned by this file; the module never allocates):
//
//   [0, heapBase)            the module's static data
//   [heapBase, scratchEnd)   the scratch region: ordinary typed arrays are staged there in chunks
//                            of whole rows (src/engine/chunker.ts), so a call never needs more
//                            memory than this.
//   [scratchEnd, ...)        blocks handed to users by allocate() (zero-copy), first fit.
//
// Growth: only allocate() and a call whose single row does not fit the region (more than 1 MiB,
// i.e. over 262144 float32 or 131072 float64 classes) grow the memory. Growing detaches every
// typed array on the old buffer (its length becomes 0 and writes to it are silently lost), so
// WasmArray.view re-creates its view whenever the buffer has changed, and this file re-reads
// `memory.buffer` before every use.
import { XentError, describe } from "../errors.js";
import type { FloatArray } from "../types.js";

const PAGE = 65536;
/**
 * Bytes of the fixed scratch region: a chunk of the synchronous engine (ENGINE_LIMITS in wasm.ts:
 * 128 KiB per input, 16384 results) fits many times over, and so does a single row of up to
 * 1 MiB (262144 float32 / 131072 float64 classes) with its three other row-sized arrays (two
 * inputs and a gradient, or per-class weights), so that memory never grows for such rows.
 */
export const SCRATCH_BYTES = (4 << 20) + (1 << 18);
const MAX_BYTES = 65536 * PAGE; // wasm32: 4 GiB

type TypedArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** The array types allocate() hands out: what the kernels read (floats) and class indices. */
const ARRAY_TYPES: readonly unknown[] = [Float32Array, Float64Array, Int32Array];

/** A typed array that lives in the module's memory: the measures use it without copying. */
export class WasmArray<T extends FloatArray | Int32Array = FloatArray> {
  #view: T | null = null;
  #freed = false;
  constructor(
    private readonly mem: Memory,
    private readonly ctor: TypedArrayCtor<T>,
    /** Byte address in the module's memory. */
    readonly ptr: number,
    /** Number of elements. */
    readonly length: number,
  ) {}

  /**
   * A live view of the block. Take it again after any allocate() (which may grow memory and
   * detach earlier views); measures never detach it unless a single row exceeds 1 MiB.
   */
  get view(): T {
    if (this.#freed) throw new XentError("INVALID_TYPE", "this WasmArray was freed");
    const buffer = this.mem.buffer;
    if (this.#view === null || this.#view.buffer !== buffer) this.#view = new this.ctor(buffer, this.ptr, this.length);
    return this.#view;
  }

  /** Returns the block to the allocator; the WasmArray must not be used after. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#view = null;
    this.mem.free(this.ptr);
  }
}

/** Memory of one instance: a scratch region for staged chunks and a first-fit allocator for user blocks. */
export class Memory {
  /** Where chunks are staged (src/engine/chunker.ts), and how many bytes are there. */
  #scratch: number;
  #scratchBytes = SCRATCH_BYTES;
  /** The scratch block allocated for rows larger than the fixed region, if any. */
  #bigScratch: number | null = null;
  private end: number;
  /** Free blocks above the scratch region, sorted by address: [ptr, bytes]. */
  private freeList: Array<[number, number]> = [];
  private used = new Map<number, number>();

  constructor(
    readonly memory: WebAssembly.Memory,
    heapBase: number,
  ) {
    this.#scratch = align(heapBase, 64);
    this.end = this.#scratch + SCRATCH_BYTES;
    this.ensure(this.end);
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer as ArrayBuffer;
  }

  /** The fixed scratch region's address (the verification battery stages its inputs there). */
  get scratchBase(): number {
    return this.#scratch;
  }

  /** Bytes of the scratch region now. */
  get scratchBytes(): number {
    return this.#scratchBytes;
  }

  /** Grows the memory so that [0, bytes) exists. */
  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    if (bytes > MAX_BYTES) throw new XentError("OUT_OF_MEMORY", `${bytes} bytes do not fit in WebAssembly memory (4 GiB at most)`);
    try {
      this.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch (e) {
      throw new XentError("OUT_OF_MEMORY", `cannot grow WebAssembly memory to ${bytes} bytes: ${(e as Error).message}`);
    }
  }

  /**
   * A scratch region of at least `bytes` (rare beyond SCRATCH_BYTES: rows over 1 MiB). May grow
   * memory. The new block is taken before the old one is given back, so a failed allocation
   * leaves the region as it was.
   */
  scratch(bytes: number): number {
    if (bytes <= this.#scratchBytes) return this.#scratch;
    const size = align(bytes, 64);
    const block = this.alloc(size);
    if (this.#bigScratch !== null) this.free(this.#bigScratch);
    this.#bigScratch = block;
    this.#scratch = block;
    this.#scratchBytes = size;
    return block;
  }

  /** A block of `bytes`, 64-byte aligned, above the scratch region. May grow memory. */
  alloc(bytes: number): number {
    bytes = align(Math.max(bytes, 1), 64);
    for (let i = 0; i < this.freeList.length; i++) {
      const [ptr, size] = this.freeList[i];
      if (size < bytes) continue;
      if (size === bytes) this.freeList.splice(i, 1);
      else this.freeList[i] = [ptr + bytes, size - bytes];
      this.used.set(ptr, bytes);
      return ptr;
    }
    const ptr = this.end;
    this.ensure(ptr + bytes);
    this.end = ptr + bytes;
    this.used.set(ptr, bytes);
    return ptr;
  }

  free(ptr: number): void {
    const bytes = this.used.get(ptr);
    if (bytes === undefined) return;
    this.used.delete(ptr);
    const list = this.freeList;
    let i = 0;
    while (i < list.length && list[i][0] < ptr) i++;
    list.splice(i, 0, [ptr, bytes]);
    // Coalesce with the neighbours; a block reaching the end is given back to the bump pointer.
    if (i + 1 < list.length && list[i][0] + list[i][1] === list[i + 1][0]) {
      list[i][1] += list[i + 1][1];
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1][0] + list[i - 1][1] === list[i][0]) {
      list[i - 1][1] += list[i][1];
      list.splice(i, 1);
      i--;
    }
    if (list[i][0] + list[i][1] === this.end) {
      this.end = list[i][0];
      list.splice(i, 1);
    }
  }

  /** Bytes in blocks handed out by alloc() and not freed. */
  get allocatedBytes(): number {
    let n = 0;
    for (const b of this.used.values()) n += b;
    return n;
  }

  allocate<T extends FloatArray | Int32Array>(ctor: TypedArrayCtor<T>, length: number): WasmArray<T> {
    // Checked before any arithmetic: anything else (null, Uint8Array, BigInt64Array, a string) would
    // give a TypeError or a NaN size that corrupts the free list.
    if (!ARRAY_TYPES.includes(ctor)) {
      const what = typeof ctor === "function" ? ctor.name || "an anonymous function" : describe(ctor);
      throw new XentError("INVALID_TYPE", `allocate: the array type must be Float32Array, Float64Array or Int32Array, got ${what}`);
    }
    if (!Number.isInteger(length) || length < 0)
      throw new XentError("INVALID_TYPE", `allocate: length must be an integer >= 0, got ${describe(length)}`);
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    if (bytes > MAX_BYTES) throw new XentError("OUT_OF_MEMORY", `allocate: ${bytes} bytes do not fit in WebAssembly memory`);
    return new WasmArray(this, ctor, this.alloc(bytes), length);
  }

  /** True when `a` is a view on this memory (so the measures can pass its address, no copy). */
  holds(a: ArrayBufferView): boolean {
    return a.buffer === this.memory.buffer;
  }
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
