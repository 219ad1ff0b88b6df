// The CLI's bad-input matrix: files with every kind of problem, in every role a file has (eval's and
// focal's logits and labels, kl's p and q, entropy's p), and bad command lines for every command. Each case
// names the exit code and the message docs/cli.md documents: 1 for usage errors, 2 for file problems.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { npyHeader, writeNpy, writeSafetensors } from "../cli/helpers.js";

export const R = 4,
  CK = 3;
export const LOGITS = new Float32Array([0.5, -1, 2, 1, 1, 1, -2, 0, 3, 0.25, 0.75, -0.5]);
export const LABELS = new Int32Array([2, 0, 2, 1]);
export const PROBS = new Float32Array([0.2, 0.3, 0.5, 0.6, 0.3, 0.1, 1, 0, 0, 0.25, 0.25, 0.5]);

export interface CliCase {
  group: string;
  name: string;
  args: string[];
  status: 1 | 2;
  /** The message is the usage text, several lines (only `xent` alone). */
  multiline?: boolean;
  /** The file the one-line message must name (file problems). */
  file?: string;
  message: RegExp;
  env?: Record<string, string>;
}

/** The roles a file has, each with valid files for the other arguments. */
function roles(good: { x: string; y: string; p: string }) {
  return [
    { role: "eval --logits", float: true, args: (f: string) => ["eval", "--logits", f, "--labels", good.y] },
    { role: "eval --labels", float: false, args: (f: string) => ["eval", "--logits", good.x, "--labels", f] },
    { role: "focal --logits", float: true, args: (f: string) => ["focal", "--logits", f, "--labels", good.y] },
    { role: "focal --labels", float: false, args: (f: string) => ["focal", "--logits", good.x, "--labels", f] },
    { role: "kl --p", float: true, args: (f: string) => ["kl", "--p", f, "--q", good.p] },
    { role: "kl --q", float: true, args: (f: string) => ["kl", "--p", good.p, "--q", f] },
    { role: "entropy --p", float: true, args: (f: string) => ["entropy", "--p", f] },
  ];
}

const bytesOf = (data: ArrayBufferView) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
const npyBytes = (descr: string, shape: number[], data: ArrayBufferView, o?: { version?: 1 | 2 | 3; fortran?: boolean }) =>
  Buffer.concat([npyHeader(descr, shape, o), bytesOf(data)]);

/** A version 1.0 .npy file with the header dictionary given as text (padded as NumPy pads it). */
function npyWithDict(dict: string, data: ArrayBufferView): Buffer {
  const text = `${dict + " ".repeat((64 - ((10 + dict.length + 1) % 64)) % 64)}\n`;
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head.writeUInt16LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, "latin1"), bytesOf(data)]);
}

/** A .safetensors file from its header text and data bytes. */
function safetensorsBytes(header: string, data = Buffer.alloc(0)): Buffer {
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  return Buffer.concat([n, Buffer.from(header), data]);
}

/** Writes the fixtures into `dir` and returns every case. */
export function cliCases(dir: string): { cases: CliCase[]; good: { x: string; y: string; p: string; q: string } } {
  const f = (name: string) => join(dir, name);
  const good = {
    x: writeNpy(f("x.npy"), "<f4", [R, CK], LOGITS),
    y: writeNpy(f("y.npy"), "<i4", [R], LABELS),
    p: writeNpy(f("p.npy"), "<f4", [R, CK], PROBS),
    q: writeNpy(
      f("q.npy"),
      "<f4",
      [R, CK],
      PROBS.map((v, i) => (v + (i % 3) * 0.1) / 1.3),
    ),
  };
  const cases: CliCase[] = [];
  const file = (name: string, bytes: Buffer | string) => {
    writeFileSync(f(name), bytes);
    return f(name);
  };

  // -------------------------------------------------------------------------------------------
  // Files with a problem whatever their role: missing, not files, malformed.
  mkdirSync(f("a-directory.npy"), { recursive: true });
  const anyRole: Array<[string, string, RegExp]> = [
    ["missing", f("missing.npy"), /no such file/],
    ["a directory", f("a-directory.npy"), /is a directory/],
    ["an empty .npy", file("empty.npy", ""), /not a NumPy \.npy file/],
    ["a .npy that is text", file("text.npy", "hello, world"), /not a NumPy \.npy file/],
    ["a .npy truncated in its data", file("short-data.npy", npyBytes("<f4", [R, CK], LOGITS).subarray(0, 128 + 10)), /truncated/],
    ["a .npy truncated in its header", file("short-header.npy", npyBytes("<f4", [R, CK], LOGITS).subarray(0, 30)), /truncated/],
    [
      "a .npy of format version 9",
      file("v9.npy", Buffer.concat([Buffer.from("\x93NUMPY\x09\x00", "latin1"), Buffer.alloc(40)])),
      /unsupported \.npy format version 9/,
    ],
    [
      "a .npy header without descr",
      file("nodescr.npy", npyWithDict("{'fortran_order': False, 'shape': (4, 3), }", LOGITS)),
      /malformed \.npy header: no 'descr'/,
    ],
    [
      "a .npy of negative shape",
      file("negshape.npy", npyWithDict("{'descr': '<f4', 'fortran_order': False, 'shape': (-4, 3), }", LOGITS)),
      /malformed \.npy header: shape/,
    ],
    ["a .npy of complex numbers", file("complex.npy", npyBytes("<c8", [R], new Float32Array(2 * R))), /dtype '<c8' is not supported/],
    [
      "a .npy of records",
      file(
        "records.npy",
        npyWithDict("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (4,), }", new Float32Array(2 * R)),
      ),
      /structured dtypes/,
    ],
    ["a .npy in Fortran order", file("fortran.npy", npyBytes("<f4", [R, CK], LOGITS, { fortran: true })), /Fortran/],
    ["a .safetensors whose header is not JSON", file("notjson.safetensors", safetensorsBytes("{{{{")), /header is not JSON/],
    ["a .safetensors whose header is an array", file("array.safetensors", safetensorsBytes("[1, 2] ")), /not a JSON object/],
    ["a .safetensors with no tensors", file("none.safetensors", safetensorsBytes(`{"__metadata__":{"a":"b"}}`)), /holds no tensors/],
    ["a .safetensors with a null entry", file("null.safetensors", safetensorsBytes(`{"t":null}`)), /malformed header entry/],
    [
      "a .safetensors whose offsets do not fit the shape",
      file("offsets.safetensors", safetensorsBytes(`{"t":{"dtype":"F32","shape":[4,3],"data_offsets":[0,40]}}`, Buffer.alloc(48))),
      /data_offsets span 40/,
    ],
    [
      "a .safetensors truncated",
      file("short.safetensors", safetensorsBytes(`{"t":{"dtype":"F32","shape":[4,3],"data_offsets":[0,48]}}`, Buffer.alloc(20))),
      /truncated/,
    ],
    [
      "a .safetensors of float8",
      writeSafetensors(f("f8.safetensors"), { t: { dtype: "F8_E4M3", shape: [R, CK], data: new Uint8Array(R * CK) } }),
      /dtype F8_E4M3 is not supported/,
    ],
    [
      "a .safetensors without the tensor asked for",
      writeSafetensors(f("two.safetensors"), {
        a: { dtype: "F32", shape: [R, CK], data: LOGITS },
        b: { dtype: "F32", shape: [R, CK], data: LOGITS },
      }),
      /holds 2 tensors/,
    ],
    ["an unrecognised extension", file("data.txt", "1 2 3"), /unrecognised format/],
  ];
  for (const r of roles(good)) {
    for (const [what, path, message] of anyRole) {
      // Two tensors and no choice is a usage error (choose one with --tensor), not a bad file.
      const usage = what.startsWith("a .safetensors without");
      cases.push({
        group: usage ? "bad flags" : "missing or malformed files",
        name: `${r.role}: ${what}`,
        args: r.args(path),
        status: usage ? 1 : 2,
        file: path,
        message,
      });
    }
    // The wrong kind of numbers for the role, and raw files that are not whole elements.
    const wrong = r.float
      ? file(`int-for-${r.role.replace(/\W+/g, "-")}.npy`, npyBytes("<i4", [R, CK], new Int32Array(R * CK)))
      : file("float-labels.npy", npyBytes("<f4", [R], Float32Array.from(LABELS)));
    cases.push({
      group: "missing or malformed files",
      name: `${r.role}: ${r.float ? "integers" : "floats"}`,
      args: r.args(wrong),
      status: 2,
      file: wrong,
      message: r.float ? /must be floating point/ : /must be integer class indices/,
    });
    const bool = file("bool.npy", npyBytes("|b1", [R, CK], new Uint8Array(R * CK)));
    cases.push({
      group: "missing or malformed files",
      name: `${r.role}: bool`,
      args: r.args(bool),
      status: 2,
      file: bool,
      message: /dtype bool/,
    });
    const odd = file(r.float ? "odd.f32" : "odd.i32", Buffer.alloc(7));
    cases.push({
      group: "missing or malformed files",
      name: `${r.role}: a raw file of 7 bytes`,
      args: r.args(odd),
      status: 2,
      file: odd,
      message: /not a whole number of/,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Wrong shapes.
  const shape = (name: string, args: string[], path: string, message: RegExp) =>
    cases.push({ group: "wrong shape", name, args, status: 2, file: path, message });
  const y3 = writeNpy(f("y3.npy"), "<i4", [R - 1], LABELS.subarray(1));
  shape("eval: 3 labels for 4 rows", ["eval", "--logits", good.x, "--labels", y3], y3, /holds 3 labels .* 4 rows/);
  shape(
    "eval: --classes 4 for 3 classes",
    ["eval", "--logits", good.x, "--labels", good.y, "--classes", "4"],
    good.x,
    /3 classes .* not --classes 4/,
  );
  shape("eval: --shape 3,3 for (4, 3)", ["eval", "--logits", good.x, "--labels", good.y, "--shape", "3,3"], good.x, /is not --shape 3,3/);
  const flat = writeNpy(f("flat11.npy"), "<f4", [11], LOGITS.subarray(1));
  shape("eval: 11 flat logits for 4 labels", ["eval", "--logits", flat, "--labels", good.y], flat, /do not split into 4 rows/);
  const scalar = writeNpy(f("scalar.npy"), "<f4", [], new Float32Array(1));
  shape("eval: logits a single number", ["eval", "--logits", scalar, "--labels", good.y], scalar, /single number/);
  const zero = writeNpy(f("zero-classes.npy"), "<f4", [R, 0], new Float32Array(0));
  shape("eval: logits of 0 classes", ["eval", "--logits", zero, "--labels", good.y], zero, /0 classes/);
  shape("focal: 3 labels for 4 rows", ["focal", "--logits", good.x, "--labels", y3], y3, /holds 3 labels .* 4 rows/);
  shape("focal: 11 flat logits for 4 labels", ["focal", "--logits", flat, "--labels", good.y], flat, /do not split into 4 rows/);
  shape(
    "focal: --classes 4 for 3 classes",
    ["focal", "--logits", good.x, "--labels", good.y, "--classes", "4"],
    good.x,
    /3 classes .* not --classes 4/,
  );
  const q4 = writeNpy(f("q4.npy"), "<f4", [CK, R], PROBS);
  shape("kl: q of shape (3, 4) for p (4, 3)", ["kl", "--p", good.p, "--q", q4], q4, /does not match/);
  shape("kl: p a single number", ["kl", "--p", scalar, "--q", good.q], scalar, /single number/);
  shape("entropy: --classes 2 for 3 classes", ["entropy", "--p", good.p, "--classes", "2"], good.p, /not --classes 2/);
  const empty = writeNpy(f("empty1d.npy"), "<f4", [0], new Float32Array(0));
  shape("entropy: no elements", ["entropy", "--p", empty], empty, /0 elements/);
  const raw = file("p.f32", Buffer.from(PROBS.buffer));
  shape("entropy: raw file and --shape of more elements", ["entropy", "--p", raw, "--shape", "5,3"], raw, /truncated/);
  shape("entropy: raw file and --shape of fewer elements", ["entropy", "--p", raw, "--shape", "3,3"], raw, /too long/);
  shape("entropy: raw flat file and --classes 5", ["entropy", "--p", raw, "--classes", "5"], raw, /not a whole number of rows/);

  // -------------------------------------------------------------------------------------------
  // Labels out of range.
  const labels = (
    name: string,
    descr: string,
    data: ArrayBufferView,
    message: RegExp,
    extra: string[] = [],
    env?: Record<string, string>,
  ) => {
    const path = writeNpy(f(`labels-${cases.length}.npy`), descr, [R], data);
    for (const cmd of ["eval", "focal"]) {
      cases.push({
        group: "out-of-range labels",
        name: `${cmd}: ${name}`,
        args: [cmd, "--logits", good.x, "--labels", path, ...extra],
        status: 2,
        file: path,
        message,
        env,
      });
    }
  };
  labels("label 3 of 3 classes", "<i4", new Int32Array([2, 0, 3, 1]), /label 3 at index 2 is not a class index in \[0, 3\)/);
  labels("label -1", "<i4", new Int32Array([2, -1, 2, 1]), /label -1 at index 1/);
  labels("label -100 with --ignore-index -1", "<i4", new Int32Array([2, 0, -100, 1]), /label -100 at index 2 .* --ignore-index \(-1\)/, [
    "--ignore-index",
    "-1",
  ]);
  labels("label 2^40 (int64)", "<i8", new BigInt64Array([2n, 0n, 2n, 2n ** 40n]), /label 1099511627776 at index 3/);
  labels("label 255 (uint8)", "|u1", new Uint8Array([2, 255, 2, 1]), /label 255 at index 1/);
  labels(
    "label 2^63 - 1 (big-endian int64)",
    ">i8",
    new BigInt64Array([2n, 0n, 2n, 2n ** 63n - 1n].map((v) => swap64(v))),
    /label 9223372036854776000 at index 3/,
  );
  labels("the last label, read in chunks of one row", "<i4", new Int32Array([2, 0, 2, 9]), /label 9 at index 3/, [], {
    XENT_CHUNK_BYTES: "1",
  });

  // -------------------------------------------------------------------------------------------
  // Unknown commands and bad flags (exit code 1).
  const usage = (name: string, args: string[], message: RegExp, group = "bad flags") =>
    cases.push({ group, name, args, status: 1, message });
  cases.push({ group: "unknown commands", name: "no command", args: [], status: 1, message: /Usage:/, multiline: true });
  for (const cmd of ["frobnicate", "EVAL", "evaluate", "--frob", "-x", ""])
    usage(`command ${JSON.stringify(cmd)}`, [cmd], /unknown command/, "unknown commands");
  const commands: Record<string, string[]> = {
    eval: ["eval", "--logits", good.x, "--labels", good.y],
    focal: ["focal", "--logits", good.x, "--labels", good.y],
    kl: ["kl", "--p", good.p, "--q", good.q],
    entropy: ["entropy", "--p", good.p],
    bench: ["bench", "--rows", "8", "--seconds", "0.01"],
  };
  for (const [cmd, ok] of Object.entries(commands)) {
    usage(`${cmd}: an unknown option`, [...ok, "--colour"], /unknown option --colour/);
    usage(`${cmd}: a single-dash option`, [...ok, "-j"], /unexpected argument "-j"/);
    usage(`${cmd}: a stray argument`, [...ok, "stray"], /unexpected argument "stray"/);
    usage(`${cmd}: a value for a flag`, [...ok, "--json=yes"], /--json takes no value/);
    usage(`${cmd}: an option without its value`, [...ok, "--classes"], /--classes needs a value/);
    usage(`${cmd}: an option given twice`, [...ok, "--classes", "3", "--classes", "3"], /--classes given twice/);
    for (const v of ["0", "-3", "1.5", "abc", "", "1e400"])
      usage(`${cmd}: --classes ${JSON.stringify(v)}`, [...ok, `--classes=${v}`], /--classes must be an integer >= 1/);
    if (cmd !== "bench") {
      usage(`${cmd}: a required file missing`, [cmd], /FILE is required/);
      usage(`${cmd}: an empty file name`, [...ok.slice(0, -2), ok[ok.length - 2], ""], /FILE is required/);
      for (const v of ["4", "a,b", "4,3,1", "-4,3", "4.5,3"])
        usage(`${cmd}: --shape ${v}`, [...ok, "--shape", v], /--shape must be 2 comma-separated integers/);
      usage(`${cmd}: --shape 4,0`, [...ok, "--shape", "4,0"], /number of classes must be >= 1/);
      usage(`${cmd}: --shape and --classes disagree`, [...ok, "--shape", "4,3", "--classes", "2"], /disagree/);
    }
  }
  for (const v of ["0", "a", "1,,2", "1.5", "-1"]) usage(`eval: --top-k ${v}`, [...commands.eval, "--top-k", v], /--top-k must be/);
  for (const cmd of ["eval", "focal"]) {
    for (const v of ["1.5", "x", String(2 ** 40), String(-(2 ** 40))])
      usage(`${cmd}: --ignore-index ${v}`, [...commands[cmd], "--ignore-index", v], /--ignore-index must/);
  }
  for (const v of ["-1", "-1e-300", "abc", "", "NaN", "Infinity", "2,3"])
    usage(`focal: --gamma ${JSON.stringify(v)}`, [...commands.focal, `--gamma=${v}`], /--gamma must be a number >= 0/);
  for (const v of ["abc", "", "NaN", "Infinity", "-Infinity", "0.25,0.5"])
    usage(`focal: --alpha ${JSON.stringify(v)}`, [...commands.focal, `--alpha=${v}`], /--alpha must be a finite number/);
  for (const v of ["none", "batchmean", "", "MEAN"])
    usage(`focal: --reduction ${JSON.stringify(v)}`, [...commands.focal, "--reduction", v], /--reduction must be mean, sum/);
  for (const v of ["odds", "", "LOGITS", "logits,probs"])
    usage(`focal: --from ${JSON.stringify(v)}`, [...commands.focal, "--from", v], /--from must be/);
  for (const v of ["0", "-2", "NaN", "two", "Infinity"])
    usage(`focal: --base ${v}`, [...commands.focal, "--base", v], /--base must be a number > 0/);
  usage("focal: --base 1", [...commands.focal, "--base", "1"], /--base must not be 1/);
  usage("focal: --temperature (a kl and entropy option)", [...commands.focal, "--temperature", "2"], /unknown option --temperature/);
  usage("focal: --top-k (an eval option)", [...commands.focal, "--top-k", "1"], /unknown option --top-k/);
  for (const cmd of ["kl", "entropy"]) {
    const logits = [...commands[cmd], "--from", "logits"];
    for (const v of ["0", "-1", "abc", "Infinity", "NaN"])
      usage(`${cmd}: --temperature ${v}`, [...logits, "--temperature", v], /--temperature must be a number > 0/);
    usage(`${cmd}: --temperature with probabilities`, [...commands[cmd], "--temperature", "2"], /--temperature divides logits/);
    for (const v of ["0", "-2", "NaN", "two", "Infinity"])
      usage(`${cmd}: --base ${v}`, [...commands[cmd], "--base", v], /--base must be a number > 0/);
    usage(`${cmd}: --base 1`, [...commands[cmd], "--base", "1"], /--base must not be 1/);
    for (const v of ["odds", "", "LOGITS", "logits,probs,probs"])
      usage(`${cmd}: --from ${JSON.stringify(v)}`, [...commands[cmd], "--from", v], /--from must be/);
  }
  usage("entropy: --from for two sides", [...commands.entropy, "--from", "logits,probs"], /--from must be/);
  for (const [flag, v] of [
    ["--rows", "0"],
    ["--rows", "1.5"],
    ["--seconds", "0"],
    ["--seconds", "-1"],
    ["--seconds", "abc"],
  ]) {
    usage(`bench: ${flag} ${v}`, ["bench", flag, v], new RegExp(`${flag} must be`));
  }
  usage("bench: --rows x --classes above 2^27", ["bench", "--rows", String(2 ** 20), "--classes", String(2 ** 8)], /at most 2\^27/);
  return { cases, good };
}

/** The bytes of a little-endian int64 read big-endian (for a '>i8' file). */
function swap64(v: bigint): bigint {
  const d = new DataView(new ArrayBuffer(8));
  d.setBigInt64(0, v, true);
  return d.getBigInt64(0, false);
}
