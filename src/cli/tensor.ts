// Opening array files for the CLI without reading them whole: NumPy .npy (format 1.0, 2.0, 3.0),
// .safetensors, and raw little-endian arrays (.f32, .f64, .f16, .bf16, .i32, .i64, ...). Opening
// reads only the header and checks that the file holds the bytes the header promises; the data is
// read later, in chunks at offsets (see ChunkReader).
import { open, type FileHandle } from "node:fs/promises";
import { extname } from "node:path";
import { DataError, UsageError, fsProblem } from "./errors.js";

export type DType =
  | "float16"
  | "bfloat16"
  | "float32"
  | "float64"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "bool";

export const ITEMSIZE: Record<DType, number> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
};

export const FLOAT_DTYPES: readonly DType[] = ["float16", "bfloat16", "float32", "float64"];
export const INDEX_DTYPES: readonly DType[] = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"];

/** An opened array file: where its elements are and how to read them. */
export interface Tensor {
  /** The path as the user gave it (for messages). */
  file: string;
  format: "npy" | "safetensors" | "raw";
  /** The tensor's name inside a .safetensors file. */
  name?: string;
  dtype: DType;
  /** Whether the elements are stored big-endian (only .npy files say so). */
  bigEndian: boolean;
  shape: number[];
  /** Number of elements (the product of shape). */
  length: number;
  /** Byte offset of the first element in the file. */
  offset: number;
  handle: FileHandle;
}

export interface OpenOptions {
  /** The tensor to take from a .safetensors file. */
  tensor?: string;
  /** What the file is for ("logits", "labels", "p", "q"): a .safetensors tensor of that name is the default. */
  role: string;
  /** Shape of a raw file (rows, classes); without it a raw file is one flat array. */
  shape?: number[];
}

const RAW: Record<string, DType> = {
  ".f16": "float16",
  ".bf16": "bfloat16",
  ".f32": "float32",
  ".f64": "float64",
  ".i8": "int8",
  ".u8": "uint8",
  ".i16": "int16",
  ".u16": "uint16",
  ".i32": "int32",
  ".u32": "uint32",
  ".i64": "int64",
  ".u64": "uint64",
};

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
export const showShape = (shape: number[]) => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`);

/** Opens an array file and reads its header. Throws DataError naming the file for any problem. */
export async function openTensor(file: string, options: OpenOptions): Promise<Tensor> {
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (e) {
    throw new DataError(file, fsProblem(e));
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new DataError(file, "is a directory, not a file");
    const size = stat.size;
    const head = await readAt(handle, file, 0, Math.min(size, 16), false);
    const ext = extname(file).toLowerCase();
    if (isNpy(head)) return await openNpy(file, handle, size);
    if (ext === ".npy") throw new DataError(file, "not a NumPy .npy file (it does not start with \\x93NUMPY)");
    if (ext === ".safetensors" || looksLikeSafetensors(head, size)) return await openSafetensors(file, handle, size, options);
    if (ext in RAW) return openRaw(file, handle, size, RAW[ext], options.shape);
    throw new DataError(
      file,
      `unrecognised format: expected a .npy or .safetensors file, or a raw array named ` +
        `${Object.keys(RAW).join(", ")} (with --shape ROWS,CLASSES)`,
    );
  } catch (e) {
    await handle.close().catch(() => {});
    throw e;
  }
}

/** Reads exactly `length` bytes at `position`; a short read means the file is shorter than its header says. */
export async function readAt(
  handle: FileHandle,
  file: string,
  position: number,
  length: number,
  into: Uint8Array | false,
): Promise<Uint8Array> {
  const buffer = into === false ? new Uint8Array(length) : into;
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      ({ bytesRead: n } = await handle.read(buffer, done, length - done, position + done));
    } catch (e) {
      throw new DataError(file, fsProblem(e));
    }
    if (n === 0) throw new DataError(file, `truncated: the file ended at byte ${position + done}, expected ${length - done} more bytes`);
    done += n;
  }
  return buffer;
}

const isNpy = (b: Uint8Array) => b.length >= 6 && b[0] === 0x93 && String.fromCharCode(...b.subarray(1, 6)) === "NUMPY";

function looksLikeSafetensors(b: Uint8Array, size: number): boolean {
  if (b.length < 9) return false;
  const n = new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  return n > 1n && n <= BigInt(size - 8) && b[8] === 0x7b; // "{"
}

// ---------------------------------------------------------------------------------------------
// NumPy .npy: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

const NPY_KINDS: Record<string, DType> = {
  f2: "float16",
  f4: "float32",
  f8: "float64",
  i1: "int8",
  u1: "uint8",
  i2: "int16",
  u2: "uint16",
  i4: "int32",
  u4: "uint32",
  i8: "int64",
  u8: "uint64",
  b1: "bool",
};

async function openNpy(file: string, handle: FileHandle, size: number): Promise<Tensor> {
  if (size < 10) throw new DataError(file, `truncated: ${size} bytes is shorter than a .npy header`);
  const pre = await readAt(handle, file, 0, 12 <= size ? 12 : 10, false);
  const major = pre[6],
    minor = pre[7];
  if (major !== 1 && major !== 2 && major !== 3)
    throw new DataError(file, `unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are read)`);
  const view = new DataView(pre.buffer);
  if (major !== 1 && size < 12) throw new DataError(file, `truncated: ${size} bytes is shorter than a .npy ${major}.0 header`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > size)
    throw new DataError(file, `truncated: the header needs ${start + headerLength} bytes, the file has ${size}`);
  const raw = await readAt(handle, file, start, headerLength, false);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(raw);

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  if (descr === undefined) {
    if (/['"]descr['"]\s*:\s*\[/.test(header))
      throw new DataError(file, "structured dtypes (records) are not supported: save a plain numeric array");
    throw new DataError(file, "malformed .npy header: no 'descr'");
  }
  const order = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (order === undefined || shapeText === undefined) throw new DataError(file, "malformed .npy header: no 'fortran_order' or 'shape'");
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => Number(s.replace(/L$/, "")));
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new DataError(file, `malformed .npy header: shape (${shapeText})`);

  const byteOrder = descr[0],
    kind = descr.slice(1);
  const dtype = NPY_KINDS[kind];
  if (!"<>|=".includes(byteOrder) || dtype === undefined) {
    throw new DataError(file, `dtype '${descr}' is not supported (float16, float32, float64, integers, bool)`);
  }
  if (order === "True" && shape.filter((d) => d > 1).length > 1) {
    throw new DataError(
      file,
      `Fortran (column-major) order is not supported: save it in C order, e.g. np.save(f, np.ascontiguousarray(x))`,
    );
  }
  const length = product(shape);
  const offset = start + headerLength;
  const bytes = length * ITEMSIZE[dtype];
  if (offset + bytes > size) {
    throw new DataError(
      file,
      `truncated: shape ${showShape(shape)} of ${dtype} needs ${bytes} bytes of data, the file holds ${size - offset}`,
    );
  }
  return { file, format: "npy", dtype, bigEndian: byteOrder === ">", shape, length, offset, handle };
}

// ---------------------------------------------------------------------------------------------
// safetensors: 8 bytes of header length (u64 LE), a JSON header, then the data.

const SAFETENSORS_DTYPES: Record<string, DType> = {
  F16: "float16",
  BF16: "bfloat16",
  F32: "float32",
  F64: "float64",
  I8: "int8",
  U8: "uint8",
  I16: "int16",
  U16: "uint16",
  I32: "int32",
  U32: "uint32",
  I64: "int64",
  U64: "uint64",
  BOOL: "bool",
};

interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

async function openSafetensors(file: string, handle: FileHandle, size: number, options: OpenOptions): Promise<Tensor> {
  if (size < 8) throw new DataError(file, `truncated: ${size} bytes is shorter than a .safetensors header`);
  const n = new DataView((await readAt(handle, file, 0, 8, false)).buffer).getBigUint64(0, true);
  if (n > BigInt(size - 8))
    throw new DataError(file, `truncated: the header is ${n} bytes long, the file has ${size - 8} after its length`);
  if (n > 100_000_000n) throw new DataError(file, `the .safetensors header is ${n} bytes long (over 100 MB): not a safetensors file?`);
  const text = new TextDecoder().decode(await readAt(handle, file, 8, Number(n), false));
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text);
  } catch {
    throw new DataError(file, "not a .safetensors file: its header is not JSON");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header))
    throw new DataError(file, "not a .safetensors file: its header is not a JSON object");
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  let name = options.tensor;
  if (name === undefined) {
    if (names.length === 1) name = names[0];
    else if (names.includes(options.role)) name = options.role;
    else if (names.length === 0) throw new DataError(file, "holds no tensors");
    else
      throw new UsageError(
        `${file}: holds ${names.length} tensors (${list(names)}): choose the ${options.role} with --${options.role}-tensor NAME or --tensor NAME`,
      );
  }
  if (!names.includes(name)) throw new DataError(file, `no tensor named "${name}" (it holds ${list(names)})`);
  const entry = header[name] as SafetensorsEntry;
  const shape = entry?.shape,
    offsets = entry?.data_offsets;
  if (
    typeof entry?.dtype !== "string" ||
    !Array.isArray(shape) ||
    !shape.every((d) => Number.isInteger(d) && d >= 0) ||
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw new DataError(file, `tensor "${name}": malformed header entry`);
  }
  const dtype = SAFETENSORS_DTYPES[entry.dtype];
  if (dtype === undefined)
    throw new DataError(file, `tensor "${name}": dtype ${entry.dtype} is not supported (F16, BF16, F32, F64, integers, BOOL)`);
  const length = product(shape);
  const bytes = length * ITEMSIZE[dtype];
  if (offsets[1] - offsets[0] !== bytes) {
    throw new DataError(
      file,
      `tensor "${name}": shape ${showShape(shape)} of ${entry.dtype} needs ${bytes} bytes but data_offsets span ${offsets[1] - offsets[0]}`,
    );
  }
  const offset = 8 + Number(n) + offsets[0];
  if (offset + bytes > size) {
    throw new DataError(file, `truncated: tensor "${name}" needs bytes ${offset} to ${offset + bytes}, the file has ${size}`);
  }
  return { file, format: "safetensors", name, dtype, bigEndian: false, shape, length, offset, handle };
}

const list = (names: string[]) => (names.length <= 8 ? names.join(", ") : `${names.slice(0, 8).join(", ")}, ...`);

// ---------------------------------------------------------------------------------------------
// Raw little-endian arrays: the extension gives the dtype, --shape the shape.

function openRaw(file: string, handle: FileHandle, size: number, dtype: DType, shape: number[] | undefined): Tensor {
  const itemsize = ITEMSIZE[dtype];
  if (shape !== undefined) {
    const bytes = product(shape) * itemsize;
    if (size !== bytes) {
      const what = size < bytes ? "truncated" : "too long";
      throw new DataError(file, `${what}: --shape ${shape.join(",")} of ${dtype} needs ${bytes} bytes, the file has ${size}`);
    }
  } else {
    if (size % itemsize !== 0)
      throw new DataError(file, `truncated: ${size} bytes is not a whole number of ${dtype} elements (${itemsize} bytes each)`);
    shape = [size / itemsize];
  }
  return { file, format: "raw", dtype, bigEndian: false, shape, length: product(shape), offset: 0, handle };
}

// ---------------------------------------------------------------------------------------------

/** Checks that a tensor holds numbers of the kind its role needs. */
export function expectKind(t: Tensor, kind: "float" | "index", role: string): void {
  const ok = kind === "float" ? FLOAT_DTYPES.includes(t.dtype) : INDEX_DTYPES.includes(t.dtype);
  if (ok) return;
  const where = t.name === undefined ? "" : `tensor "${t.name}": `;
  throw new DataError(
    t.file,
    kind === "float"
      ? `${where}dtype ${t.dtype}: ${role} must be floating point (float16, bfloat16, float32 or float64)`
      : `${where}dtype ${t.dtype}: ${role} must be integer class indices (int8 to int64, uint8 to uint64)`,
  );
}

/**
 * Rows and classes of a float tensor: the last dimension is the classes, the others the rows.
 * A flat array is split by `classes` when given; otherwise by `fallback` (or it is one row).
 */
export function matrixOf(t: Tensor, classes: number | undefined, fallback?: () => number | undefined): { rows: number; classes: number } {
  if (t.shape.length === 0) throw new DataError(t.file, "holds a single number, not rows of classes");
  if (t.shape.length >= 2) {
    const K = t.shape[t.shape.length - 1];
    if (classes !== undefined && classes !== K) {
      throw new DataError(t.file, `shape ${showShape(t.shape)} has ${K} classes (its last dimension), not --classes ${classes}`);
    }
    if (K === 0) throw new DataError(t.file, `shape ${showShape(t.shape)} has 0 classes (its last dimension)`);
    return { rows: t.length / K, classes: K };
  }
  const n = t.length;
  const K = classes ?? fallback?.() ?? n;
  if (K === 0 || !Number.isInteger(n / K)) {
    throw new DataError(t.file, `${n} elements are not a whole number of rows of ${K} classes`);
  }
  return { rows: n / K, classes: K };
}

/** A human description: "809 x 10 float32" / "(809,) int32". */
export function describeTensor(t: Tensor, m?: { rows: number; classes: number }): string {
  const where = t.name === undefined ? "" : `tensor "${t.name}", `;
  const shape = m === undefined || t.shape.length === 2 ? showShape(t.shape) : `${showShape(t.shape)} as ${m.rows} x ${m.classes}`;
  return `${where}${shape} ${t.dtype}`;
}
