// A minimal reader of NumPy .npy files (little-endian float32 / int32, C order), enough for the
// built-in example. The CLI has the full reader.
import { readFileSync } from "node:fs";

export function readNpy(url) {
  const bytes = readFileSync(url);
  if (bytes.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error(`${url}: not a .npy file`);
  const major = bytes[6];
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = bytes.toString("latin1", major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(",").filter((s) => s.trim()).map(Number);
  const body = bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length);
  const types = { "<f4": Float32Array, "<f8": Float64Array, "<i4": Int32Array };
  if (!(descr in types)) throw new Error(`${url}: dtype ${descr} not handled by this example reader`);
  return { data: new types[descr](body), shape };
}
