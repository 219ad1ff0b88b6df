// Streaming whole rows of one or more tensors in step, chunk by chunk, reading the next chunk while
// the current one is computed on.
import { DataError } from "./errors.js";
import { ChunkReader } from "./reader.js";
import { ITEMSIZE, type Tensor } from "./tensor.js";
import { Progress, type Out } from "./progress.js";

/** About this many bytes of the widest input per chunk (environment XENT_CHUNK_BYTES; default 4 MiB). */
export function chunkBytes(): number {
  const v = globalThis.process?.env?.XENT_CHUNK_BYTES;
  const n = Number(v);
  return v !== undefined && Number.isSafeInteger(n) && n >= 1 ? n : 4 << 20;
}
/** A row larger than this cannot be streamed (it is one distribution, read whole). */
const MAX_ROW_BYTES = 512 << 20;

export interface Input {
  tensor: Tensor;
  kind: "float" | "index";
  /** Elements per row: the classes for float inputs, 1 for labels. */
  perRow: number;
}

/** Rows per chunk for inputs of these widths. */
export function rowsPerChunk(inputs: Input[]): number {
  const bytesPerRow = Math.max(...inputs.map((i) => i.perRow * Math.max(4, ITEMSIZE[i.tensor.dtype])));
  const widest = inputs.find((i) => i.perRow * Math.max(4, ITEMSIZE[i.tensor.dtype]) === bytesPerRow)!;
  if (bytesPerRow > MAX_ROW_BYTES) {
    throw new DataError(
      widest.tensor.file,
      `rows of ${widest.perRow} elements (${(bytesPerRow / 2 ** 20).toFixed(0)} MiB each) are too large to stream: give --classes`,
    );
  }
  return Math.max(1, Math.min(1 << 16, Math.floor(chunkBytes() / bytesPerRow)));
}

/**
 * Calls `each(chunks, firstRow, rows)` for consecutive chunks of `rows` rows of every input, in
 * order; chunk i + 1 is being read while `each` runs on chunk i. The arrays passed to `each` are
 * reused: copy what must outlive the call.
 */
export async function streamRows(
  inputs: Input[],
  rows: number,
  each: (chunks: Array<Float32Array | Float64Array>, first: number, n: number) => void,
  progress?: { out: Out | null; label: string },
): Promise<void> {
  const per = rowsPerChunk(inputs);
  const readers = inputs.map((i) => new ChunkReader(i.tensor, i.kind, Math.min(per, rows) * i.perRow));
  const bytes = (r: number) => inputs.reduce((s, i) => s + r * i.perRow * ITEMSIZE[i.tensor.dtype], 0);
  const bar = progress === undefined ? null : new Progress(progress.out, progress.label, bytes(rows));
  const fetch = (first: number) => {
    const n = Math.min(per, rows - first);
    const p = Promise.all(readers.map((reader, k) => reader.read(first * inputs[k].perRow, n * inputs[k].perRow)));
    p.catch(() => {}); // a chunk read ahead may fail after an error in the current one: not unhandled
    return p;
  };
  let next = rows > 0 ? fetch(0) : null;
  try {
    bar?.update(0);
    for (let first = 0; first < rows; ) {
      const n = Math.min(per, rows - first);
      const chunks = await next!;
      if (first + n < rows) next = fetch(first + n);
      each(chunks, first, n);
      first += n;
      bar?.update(bytes(first));
    }
  } finally {
    bar?.finish();
  }
}

/** A float64 sum with Neumaier's compensation, so chunking does not change the result beyond an ulp or so. */
export class Sum {
  s = 0;
  c = 0;
  add(x: number): void {
    const t = this.s + x;
    if (Math.abs(this.s) >= Math.abs(x)) this.c += this.s - t + x;
    else this.c += x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return Number.isFinite(this.s) ? this.s + this.c : this.s;
  }
}
