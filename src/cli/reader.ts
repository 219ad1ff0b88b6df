// Reading an opened tensor in chunks at offsets, into two reused buffers (one being computed on while
// the next is read), decoding float16 / bfloat16 to Float32Array and integers to Float64Array.
// Memory stays bounded by the chunk size whatever the file's size.
import { ITEMSIZE, readAt, type Tensor } from "./tensor.js";

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Slot {
  bytes: Uint8Array;
  decoded: Float32Array | Float64Array | null;
}

/** Reads elements [start, start + count) of a tensor; alternates between two buffers. */
export class ChunkReader {
  readonly itemsize: number;
  #slots: Slot[];
  #which = 0;

  /**
   * @param kind "float" gives Float32Array (float16, bfloat16, float32) or Float64Array (float64);
   *   "index" gives Float64Array (integers are exact there up to 2^53).
   * @param maxElements the largest `count` that read() will be asked for.
   */
  constructor(
    readonly tensor: Tensor,
    readonly kind: "float" | "index",
    maxElements: number,
  ) {
    this.itemsize = ITEMSIZE[tensor.dtype];
    const n = Math.max(1, maxElements);
    const direct = kind === "float" && (tensor.dtype === "float32" || tensor.dtype === "float64");
    this.#slots = [0, 1].map(() => ({
      bytes: new Uint8Array(n * this.itemsize),
      decoded: direct ? null : kind === "float" ? new Float32Array(n) : new Float64Array(n),
    }));
  }

  /** The elements, decoded; valid until the next-but-one call. */
  async read(start: number, count: number): Promise<Float32Array | Float64Array> {
    const slot = this.#slots[this.#which];
    this.#which ^= 1;
    const t = this.tensor,
      size = this.itemsize;
    const bytes = await readAt(t.handle, t.file, t.offset + start * size, count * size, slot.bytes);
    if (t.bigEndian !== !LITTLE_ENDIAN_HOST && size > 1) swap(bytes, count * size, size);
    const buffer = bytes.buffer;
    switch (t.dtype) {
      case "float32":
        if (slot.decoded === null) return new Float32Array(buffer, 0, count);
        slot.decoded.set(new Float32Array(buffer, 0, count));
        break;
      case "float64":
        if (slot.decoded === null) return new Float64Array(buffer, 0, count);
        slot.decoded.set(new Float64Array(buffer, 0, count));
        break;
      case "float16": {
        const table = halfTable(),
          src = new Uint16Array(buffer, 0, count),
          out = slot.decoded!;
        for (let i = 0; i < count; i++) out[i] = table[src[i]];
        break;
      }
      case "bfloat16": {
        const src = new Uint16Array(buffer, 0, count),
          out = new Uint32Array(slot.decoded!.buffer, 0, count);
        for (let i = 0; i < count; i++) out[i] = src[i] << 16;
        break;
      }
      case "int64": {
        const src = new BigInt64Array(buffer, 0, count),
          out = slot.decoded!;
        for (let i = 0; i < count; i++) out[i] = Number(src[i]);
        break;
      }
      case "uint64": {
        const src = new BigUint64Array(buffer, 0, count),
          out = slot.decoded!;
        for (let i = 0; i < count; i++) out[i] = Number(src[i]);
        break;
      }
      case "int8":
        slot.decoded!.set(new Int8Array(buffer, 0, count));
        break;
      case "uint8":
      case "bool":
        slot.decoded!.set(new Uint8Array(buffer, 0, count));
        break;
      case "int16":
        slot.decoded!.set(new Int16Array(buffer, 0, count));
        break;
      case "uint16":
        slot.decoded!.set(new Uint16Array(buffer, 0, count));
        break;
      case "int32":
        slot.decoded!.set(new Int32Array(buffer, 0, count));
        break;
      case "uint32":
        slot.decoded!.set(new Uint32Array(buffer, 0, count));
        break;
    }
    return slot.decoded!.subarray(0, count);
  }
}

function swap(b: Uint8Array, n: number, size: number): void {
  for (let i = 0; i < n; i += size) {
    for (let j = 0, k = size - 1; j < k; j++, k--) {
      const t = b[i + j];
      b[i + j] = b[i + k];
      b[i + k] = t;
    }
  }
}

let table: Float32Array | null = null;

/** Every float16 bit pattern's value (IEEE 754 binary16: subnormals, infinities and NaN included). */
function halfTable(): Float32Array {
  if (table !== null) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = halfToNumber(h);
  return table;
}

/** The value of a float16 bit pattern. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f === 0 ? sign * Infinity : NaN;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}
