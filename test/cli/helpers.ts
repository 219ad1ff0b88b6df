// Writing .npy / .safetensors / raw files for the CLI tests, and running the CLI as a child process.
import { spawnSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(ROOT, "bin/xent.js");

export function tempDir(prefix = "xent-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A NumPy .npy header (the whole preamble), padded to a multiple of 64 bytes as NumPy writes it. */
export function npyHeader(descr: string, shape: number[], o: { version?: 1 | 2 | 3; fortran?: boolean } = {}): Buffer {
  const version = o.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${o.fortran ? "True" : "False"}, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  const body = Buffer.byteLength(dict, version === 3 ? "utf8" : "latin1");
  dict += `${" ".repeat((64 - ((pre + body + 1) % 64)) % 64)}\n`;
  const len = Buffer.byteLength(dict, version === 3 ? "utf8" : "latin1");
  const head = Buffer.alloc(pre);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(len, 8);
  else head.writeUInt32LE(len, 8);
  return Buffer.concat([head, Buffer.from(dict, version === 3 ? "utf8" : "latin1")]);
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export function writeNpy(
  file: string,
  descr: string,
  shape: number[],
  data: ArrayBufferView,
  o: { version?: 1 | 2 | 3; fortran?: boolean } = {},
): string {
  writeFileSync(file, Buffer.concat([npyHeader(descr, shape, o), bytesOf(data)]));
  return file;
}

/** A .safetensors file holding the given tensors (in order). */
export function writeSafetensors(
  file: string,
  tensors: Record<string, { dtype: string; shape: number[]; data: ArrayBufferView }>,
  metadata?: Record<string, string>,
): string {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  const parts: Buffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
    parts.push(bytesOf(t.data));
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([n, Buffer.from(json), ...parts]));
  return file;
}

/** float32 -> float16 bits (round to nearest even), for values the tests choose exactly representable. */
export function toHalf(x: number): number {
  const f = new Float32Array([x]),
    u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000,
    e = ((u >>> 23) & 0xff) - 127 + 15,
    m = u & 0x7fffff;
  if (x === 0) return sign;
  if (e <= 0 || e >= 31) throw new Error(`toHalf: ${x} is outside the normal float16 range of this helper`);
  if (m & 0x1fff) throw new Error(`toHalf: ${x} is not exactly representable`);
  return sign | (e << 10) | (m >>> 13);
}

/** float32 -> bfloat16 bits (the top half), for values exactly representable in bfloat16. */
export function toBfloat16(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  if (u & 0xffff) throw new Error(`toBfloat16: ${x} is not exactly representable`);
  return u >>> 16;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/xent.js ...args` to completion (stdout and stderr are pipes). */
export function xent(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env }, cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI's main() in this process (much faster than a child; same code, from the sources). */
export async function xentIn(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { main } = await import("../../src/cli/main.js");
  let stdout = "",
    stderr = "";
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const status = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
    return { status, stdout, stderr };
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

/** Starts a command (stdout and stderr are pipes) without blocking the test worker's event loop. */
export function start(command: string, args: string[]): { pid: number; done: Promise<Run> } {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "",
    stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
  return { pid: child.pid!, done };
}

/** The figures of examples/digits/expected.json that the tests compare with (it holds more). */
export interface ExpectedDigits {
  student: Record<string, number>;
  teacher: Record<string, number>;
  [kl: `kl_teacher_student_batchmean_T${number}`]: number;
}

export function expectedDigits(): ExpectedDigits {
  return JSON.parse(readFileSync(join(ROOT, "examples/digits/expected.json"), "utf8"));
}

export const hasTime = existsSync("/usr/bin/time");

/** |got - want| <= 1e-6 |want| + 1e-7: the float32 accuracy contract. */
export function closeF32(got: number, want: number): boolean {
  return Math.abs(got - want) <= 1e-6 * Math.abs(want) + 1e-7;
}
