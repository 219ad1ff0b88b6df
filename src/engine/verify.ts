// The battery init() runs on an engine before trusting it: every kernel the measures call, on row
// lengths that hit every path of the vectorised kernels (2, 7 and 129 classes: no full vector;
// one f32x4 step and a tail of 3; full float32 blocks of 128 (and 32) and 64-element float64
// blocks, then a tail of 1), with extreme and non-finite values (-inf, +-1e4, zero probabilities),
// in float32 and float64, compared with the reference within the accuracy contract. A runtime whose
// WebAssembly computes wrongly thus falls back to an engine that does not.
//
// It is built to cost as little as it can on a cold start, doing almost nothing in JavaScript:
//   - the inputs, where each call reads and writes (the plan) and the reference's results are
//     generated at build time (scripts/battery.ts writes battery.expected.ts; test/verify.test.ts
//     checks that they are what the reference and plan() give now), as plain number literals: they
//     parse fast, where decoding base64 in a cold JavaScript loop cost milliseconds;
//   - the inputs go in with one copy per block, the kernels are called directly, every result lands
//     in one region, and one loop compares that region with the expected values (no allocation
//     per call);
//   - the kernels with SIMD paths run at the three row lengths; those that are plain scalar loops
//     (no tails, no blocks) at 7 classes only.
// Measured (scripts/measure-runtimes.ts, docs/runtimes.md): ~0.1 ms warm; its first run in a
// process ~2-3 ms in Node, most of it V8 compiling each of the kernel functions on its first
// call (lazy compilation: the first use of a kernel pays that anyway) and running them once in
// baseline code.
import type { FloatArray } from "../types.js";
import {
  type Arg,
  type Call,
  type Kernel,
  type KernelName,
  type ModuleExports,
  KERNELS,
  KERNEL_EXPORTS,
  LOGITS,
  MAX_ARGS,
  OP_CE,
  OP_JS,
  OP_KL,
  PROBS,
  ADDRESS_ROLES,
  layoutOf,
} from "../kernels/table.js";
import { BLOCKS, CALLS, EXPECTED, GRAD_OUT, LAYOUT } from "./battery.expected.js";

export const ROWS = 2;
/** Row lengths for the kernels that have SIMD paths (and so tails). */
export const CLASSES = [2, 7, 129];
/** Row length for the kernels that are plain scalar loops (no tails). */
export const SCALAR_CLASSES = 7;

export interface BatteryInputs {
  x: Float64Array; // logits, with -inf, +-1e4 in the last row
  y: Float64Array;
  p: Float64Array; // probability rows with exact zeros
  q: Float64Array;
  t: Int32Array; // class indices
}

/**
 * Deterministic inputs for one row length: float32-exact when f32; else multiples of 1e-9 (not
 * float32-exact, so a kernel that drops float64 precision shows, and short to store).
 */
export function batteryInputs(f32: boolean, classes: number): BatteryInputs {
  let s = classes * 7919 + (f32 ? 1 : 2);
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const round = f32 ? Math.fround : (v: number) => Math.round(v * 1e9) / 1e9;
  const n = ROWS * classes;
  const x = Float64Array.from({ length: n }, () => round(12 * u() - 6));
  const y = Float64Array.from({ length: n }, () => round(12 * u() - 6));
  // Row 0 of y: a student within 1e-3 of its teacher, so that the KL and JS kernels take the
  // rows their fast paths cannot vouch for (float64 KL's exact row, float32's accurate one).
  for (let k = 0; k < classes; k++) y[k] = round(x[k] + 1e-3 * (2 * u() - 1));
  const last = (ROWS - 1) * classes;
  if (classes > 2) {
    x[last] = -Infinity;
    y[last + 1] = -Infinity;
    x[last + 2] = 1e4;
    y[last + 2] = -1e4;
  }
  const probs = (v: Float64Array) => {
    const p = new Float64Array(n);
    for (let r = 0; r < ROWS; r++) {
      let z = 0;
      for (let k = 0; k < classes; k++) z += p[r * classes + k] = k % 5 === 3 ? 0 : round(Math.exp(v[r * classes + k] / 3));
      for (let k = 0; k < classes; k++) p[r * classes + k] = round(p[r * classes + k] / z);
    }
    return p;
  };
  const finite = (v: Float64Array) => v.map((a) => (Number.isFinite(a) ? a : 0));
  const t = Int32Array.from({ length: ROWS }, (_, r) => (r * 5 + 1) % classes);
  return { x, y, p: probs(finite(y)), q: probs(finite(x)), t };
}

type Input = "x" | "y" | "p" | "q";

/** A case of the battery: a kernel of the table, which battery input each of its arrays is, its scalars. */
export interface Case {
  name: string;
  kernel: KernelName;
  /** A kernel with SIMD paths, run at every length of CLASSES (else at SCALAR_CLASSES). */
  tails: boolean;
  arrays: Record<string, Input | null>;
  scalars: (classes: number) => Record<string, number>;
  /** Class indices passed where the kernel takes them (default: yes); false gives it none (dense targets). */
  index?: boolean;
  /** A per-element kernel: the block's ROWS x classes values are its rows of one element. */
  elements?: boolean;
}

/** The battery's cases. */
export const CASES: readonly Case[] = [
  { name: "crossEntropy", kernel: "ceIndex", tails: true, arrays: { x: "x" }, scalars: () => ({}) },
  {
    name: "crossEntropy dense",
    kernel: "pair",
    tails: true,
    arrays: { p: "p", q: "x", w: null },
    scalars: (K) => ({ op: OP_CE, pMode: PROBS, qMode: LOGITS, invT: 1, normalize: 0, a: 0.9, b: 0.1 / K, eps: 0 }),
  },
  {
    name: "crossEntropy probs",
    kernel: "pair",
    tails: true,
    arrays: { p: "p", q: "q", w: null },
    scalars: () => ({ op: OP_CE, pMode: PROBS, qMode: PROBS, invT: 1, normalize: 0, a: 1, b: 0, eps: 0 }),
  },
  {
    name: "klDivergence logits",
    kernel: "pair",
    tails: true,
    arrays: { p: "x", q: "y", w: null },
    scalars: () => ({ op: OP_KL, pMode: LOGITS, qMode: LOGITS, invT: 0.5, normalize: 0, a: 0, b: 0, eps: 0 }),
  },
  {
    name: "klDivergence probs",
    kernel: "pair",
    tails: true,
    arrays: { p: "p", q: "q", w: null },
    scalars: () => ({ op: OP_KL, pMode: PROBS, qMode: PROBS, invT: 1, normalize: 1, a: 0, b: 0, eps: 0 }),
  },
  { name: "entropy", kernel: "entropy", tails: true, arrays: { p: "q" }, scalars: () => ({ mode: PROBS, invT: 1, normalize: 0 }) },
  { name: "entropy logits", kernel: "entropy", tails: true, arrays: { p: "x" }, scalars: () => ({ mode: LOGITS, invT: 1, normalize: 0 }) },
  { name: "evaluate", kernel: "evaluate", tails: true, arrays: { x: "x" }, scalars: () => ({}) },
  {
    name: "jensenShannon",
    kernel: "pair",
    tails: false,
    arrays: { p: "p", q: "q", w: null },
    scalars: () => ({ op: OP_JS, pMode: PROBS, qMode: PROBS, invT: 1, normalize: 0, a: 0, b: 0, eps: 0 }),
  },
  {
    name: "binaryCrossEntropy",
    kernel: "bce",
    tails: false,
    arrays: { y: "p", x: "x", w: null, pw: null },
    elements: true,
    scalars: () => ({ columns: 1, mode: LOGITS }),
  },
  {
    name: "crossEntropyWithGrad",
    kernel: "ceGrad",
    tails: false,
    arrays: { x: "x", y: null, w: null },
    scalars: (K) => ({ alpha: 0.9, beta: 0.1 / K }),
  },
  {
    name: "crossEntropyWithGrad dense",
    kernel: "ceGrad",
    tails: false,
    arrays: { x: "x", y: "p", w: null },
    index: false,
    scalars: () => ({ alpha: 1, beta: 0 }),
  },
  { name: "klDivergenceWithGrad", kernel: "klGrad", tails: false, arrays: { x: "x", y: "y" }, scalars: () => ({ invT: 0.5 }) },
  {
    name: "focalLoss",
    kernel: "focal",
    tails: true,
    arrays: { y: null, q: "x", v: null },
    scalars: () => ({ qMode: LOGITS, gamma: 2, a: 1, b: 0 }),
  },
  {
    name: "focalLoss dense",
    kernel: "focal",
    tails: true,
    arrays: { y: "p", q: "x", v: null },
    index: false,
    scalars: (K) => ({ qMode: LOGITS, gamma: 0.5, a: 0.9, b: 0.1 / K }),
  },
  {
    name: "binaryFocalLoss",
    kernel: "binaryFocal",
    tails: false,
    arrays: { y: "p", x: "x" },
    elements: true,
    scalars: () => ({ mode: LOGITS, gamma: 2, alpha: 0.25 }),
  },
];

/** Whether a case passes class indices: its kernel takes them (the table) and the case does not opt out. */
export function indexed(c: Case): boolean {
  return c.index !== false && (KERNELS[c.kernel].args as readonly Arg[]).some((a) => a.role === "index");
}

/** Whether a case's kernel writes a gradient. */
export function hasGrad(c: Case): boolean {
  return (KERNELS[c.kernel].args as readonly Arg[]).some((a) => a.role === "grad");
}

/** The rows and row length a case's call has: ROWS x classes, or its elements as rows of one. */
function shapeOf(c: Case, classes: number): { rows: number; classes: number } {
  return c.elements === true ? { rows: ROWS * classes, classes: 1 } : { rows: ROWS, classes };
}

/** Per-row gradient scales the grad kernels read where they then write each row's loss. */
export const GRAD_SCALE = [0.5, 2];

/** Byte offsets of each input within one (dtype, classes) block, and the block's size. */
export function layout(f32: boolean, classes: number) {
  const n = ROWS * classes,
    bytes = f32 ? 4 : 8;
  const x = 0,
    y = n * bytes,
    p = 2 * n * bytes,
    q = 3 * n * bytes,
    t = 4 * n * bytes;
  return { x, y, p, q, t, size: Math.ceil((t + 4 * ROWS) / 8) * 8 };
}

/** One planned call: which kernel, dtype and row length; byte offsets from the base address. */
export interface PlannedCall {
  kernel: number;
  f32: boolean;
  classes: number;
  block: number; // the input block
  out: number; // its f64 results (values per row x rows, or one per element)
  values: number;
  grad: number; // its gradient (classes x rows of the dtype), or -1
}

export interface Plan {
  calls: PlannedCall[];
  /** Input blocks, in order: [f32, classes, offset]. */
  blocks: Array<[boolean, number, number]>;
  /** f64 results start here; the float32 calls' results come first (f32Values of them). */
  out: number;
  values: number;
  f32Values: number;
  /** Gradients: float32 ones at grad32 (grad32Count), then float64 ones at grad64 (grad64Count). */
  grad32: number;
  grad32Count: number;
  grad64: number;
  grad64Count: number;
  /** Bytes from the base to the end of the gradients. */
  size: number;
}

let cachedPlan: Plan | null = null;

/** Where everything goes; the same at build time (scripts/battery.ts) and at run time. */
export function plan(): Plan {
  if (cachedPlan !== null) return cachedPlan;
  const blocks: Array<[boolean, number, number]> = [];
  let at = 0;
  for (const f32 of [true, false]) {
    for (const classes of CLASSES) {
      blocks.push([f32, classes, at]);
      at += layout(f32, classes).size;
    }
  }
  const blockAt = (f32: boolean, classes: number) => blocks.find(([f, k]) => f === f32 && k === classes)![2];
  const out = at;
  const calls: PlannedCall[] = [];
  let values = 0,
    f32Values = 0,
    grad32Count = 0,
    grad64Count = 0;
  const gradCalls: PlannedCall[] = [];
  for (const f32 of [true, false]) {
    CASES.forEach((k, kernel) => {
      for (const classes of k.tails ? CLASSES : [SCALAR_CLASSES]) {
        const n = KERNELS[k.kernel].perRow * shapeOf(k, classes).rows;
        const c: PlannedCall = { kernel, f32, classes, block: blockAt(f32, classes), out: out + 8 * values, values: n, grad: -1 };
        values += n;
        if (hasGrad(k)) {
          gradCalls.push(c);
          if (f32) grad32Count += ROWS * classes;
          else grad64Count += ROWS * classes;
        }
        calls.push(c);
      }
    });
    if (f32) f32Values = values;
  }
  const grad32 = out + 8 * values;
  const grad64 = grad32 + Math.ceil((4 * grad32Count) / 8) * 8;
  let g32 = grad32,
    g64 = grad64;
  for (const c of gradCalls) {
    if (c.f32) {
      c.grad = g32;
      g32 += 4 * ROWS * c.classes;
    } else {
      c.grad = g64;
      g64 += 8 * ROWS * c.classes;
    }
  }
  cachedPlan = { calls, blocks, out, values, f32Values, grad32, grad32Count, grad64, grad64Count, size: grad64 + 8 * grad64Count };
  return cachedPlan;
}

/** The kernel call of a case: the battery's inputs `inputs` by name, `rows` rows of `classes`. */
export function caseCall(
  k: Case,
  f32: boolean,
  classes: number,
  inputs: Record<Input, FloatArray>,
  t: Int32Array,
  out: Float64Array,
  grad: FloatArray | undefined,
  scale: Float64Array | undefined,
): Call {
  const arrays: Record<string, FloatArray | null> = {};
  for (const [name, input] of Object.entries(k.arrays)) arrays[name] = input === null ? null : inputs[input];
  return {
    kernel: KERNELS[k.kernel],
    f32,
    ...shapeOf(k, classes),
    arrays,
    scalars: k.scalars(classes),
    index: indexed(k) ? t : null,
    out,
    ...(grad === undefined ? {} : { grad, outIn: scale }),
  } as Call;
}

/** f64 per stored call: the export's index in KERNEL_EXPORTS, then its arguments (assembly/calls.ts reads the same). */
export const CALL_VALUES = 1 + MAX_ARGS;

/**
 * The plan's calls as scripts/battery.ts stores them and the module's run_calls reads them (the
 * format assembly/calls.ts is generated for): per call, the export's index, then its arguments in
 * the export's order from the kernel table, addresses as byte offsets from the battery's base
 * (-1: absent), padded to CALL_VALUES.
 */
export function encodeCalls(P: Plan): number[] {
  return P.calls.flatMap((c) => {
    const k = CASES[c.kernel],
      L = layoutOf(KERNELS[k.kernel]),
      n = ROWS * c.classes * (c.f32 ? 4 : 8),
      shape = shapeOf(k, c.classes);
    const offsets: Record<Input, number> = { x: c.block, y: c.block + n, p: c.block + 2 * n, q: c.block + 3 * n };
    const arrays = k.arrays as Record<string, Input | null>,
      scalars = k.scalars(c.classes);
    const args = new Array<number>(KERNELS[k.kernel].args.length).fill(0);
    for (const r of L.rows) args[r.at] = arrays[r.name] == null ? -1 : offsets[arrays[r.name]!];
    for (const o of L.once) args[o.at] = arrays[o.name] == null ? -1 : offsets[arrays[o.name]!];
    for (const v of L.scalars) args[v.at] = scalars[v.name];
    if (L.index >= 0) args[L.index] = indexed(k) ? c.block + 4 * n : -1;
    if (L.classes >= 0) args[L.classes] = shape.classes;
    if (L.grad >= 0) args[L.grad] = c.grad;
    args[L.count] = shape.rows;
    args[L.out] = c.out;
    const record = [KERNEL_EXPORTS.indexOf(L.exports[c.f32 ? 0 : 1]), ...args];
    while (record.length < CALL_VALUES) record.push(0);
    return record;
  });
}

/** Runs stored call j from JavaScript (where the module's run_calls is missing or trapped): the same export and arguments. */
function runCall(ex: ModuleExports, calls: readonly number[], j: number, base: number): void {
  const at = j * CALL_VALUES,
    name = KERNEL_EXPORTS[calls[at]];
  const kernel = Object.values(KERNELS as Record<string, Kernel>).find((k) => layoutOf(k).exports.includes(name))!;
  const args = (kernel.args as readonly Arg[]).map((a, i) => {
    const v = calls[at + 1 + i];
    return ADDRESS_ROLES.has(a.role) ? (v < 0 ? 0 : base + v) : v;
  });
  (ex as unknown as Record<string, (...a: number[]) => void>)[name](...args);
}

/** The plan's totals as scripts/battery.ts stores them. */
export function encodeLayout(P: Plan): number[] {
  return [P.out, P.values, P.f32Values, P.grad32, P.grad32Count, P.grad64, P.grad64Count, P.size];
}

/**
 * null when the module agrees with the reference on the whole battery, else what differed.
 * `base` is a free, 8-byte aligned address with 32 KiB of room (the engine's scratch region): the
 * battery's inputs and results take about 15.5 KB, its call list (CALL_VALUES f64 per call) 8.6 KB
 * after them.
 * Works from the stored plan (battery.expected.ts): no planning, decoding or allocation per call.
 */
export function verifyModule(ex: ModuleExports, base: number): string | null {
  // Indexing, not destructuring: destructuring runs the iterator protocol, slow in the interpreter.
  const L = LAYOUT,
    out = L[0],
    values = L[1],
    f32Values = L[2],
    grad32 = L[3],
    grad32Count = L[4],
    grad64 = L[5],
    grad64Count = L[6],
    size = L[7];
  if (EXPECTED.length !== values + grad32Count + grad64Count || size === 0) {
    return "the battery's stored results do not match its plan (run `npm run build:battery`)";
  }
  const buffer = ex.memory.buffer;
  new Uint8Array(buffer, base, size).fill(0);
  for (let i = 0; i < BLOCKS.length; i++) {
    const b = BLOCKS[i],
      f32 = b[0] === 1,
      at = base + b[2],
      floats = b[3];
    new (f32 ? Float32Array : Float64Array)(buffer, at, floats.length).set(floats);
    new Int32Array(buffer, at + floats.length * (f32 ? 4 : 8), ROWS).set(b[4]);
  }
  const calls = CALLS,
    n = calls.length / CALL_VALUES;
  // The gradient kernels read each row's scale where they then write its loss.
  for (let i = 0; i < GRAD_OUT.length; i++) new Float64Array(buffer, base + GRAD_OUT[i], ROWS).set(GRAD_SCALE);
  // One call into the module runs them all (run_calls, generated from the kernel table); a cold
  // start then pays one crossing from JavaScript instead of one per call. Where the module has no
  // run_calls, or a kernel traps in it, the calls are made one by one from here, which also names
  // the call that trapped.
  let threw = true;
  if (typeof ex.run_calls === "function") {
    try {
      new Float64Array(buffer, base + size, calls.length).set(calls);
      ex.run_calls(base + size, n, base);
      threw = false;
    } catch {
      new Uint8Array(buffer, base + out, size - out).fill(0);
      for (let i = 0; i < GRAD_OUT.length; i++) new Float64Array(buffer, base + GRAD_OUT[i], ROWS).set(GRAD_SCALE);
    }
  }
  if (threw) {
    let j = 0;
    try {
      for (; j < n; j++) runCall(ex, calls, j, base);
    } catch (e) {
      const c = plan().calls[j];
      return `${CASES[c.kernel].name} (${c.f32 ? "float32" : "float64"}, ${c.classes} classes) threw: ${(e as Error)?.message ?? e}`;
    }
  }
  const got = new Float64Array(buffer, base + out, values);
  const g32 = new Float32Array(buffer, base + grad32, grad32Count);
  const g64 = new Float64Array(buffer, base + grad64, grad64Count);
  // Four plain loops (float32 results, float64 results, float32 and float64 gradients): this runs
  // once, in the interpreter, where every operation in the loop body counts.
  let i = firstMismatch(got, 0, 0, f32Values, 1e-6, 1e-7);
  if (i < 0) i = firstMismatch(got, 0, f32Values, values, 1e-12, 1e-13);
  if (i < 0) i = firstMismatch(g32, values, 0, grad32Count, 1e-6, 1e-7);
  if (i < 0) i = firstMismatch(g64, values + grad32Count, 0, grad64Count, 1e-12, 1e-13);
  if (i >= 0) {
    const g = i < values ? got[i] : i < values + grad32Count ? g32[i - values] : g64[i - values - grad32Count];
    return describeMismatch(plan(), i, g, EXPECTED[i]);
  }
  return null;
}

/**
 * The index in EXPECTED of the first of got[from, to) (EXPECTED[offset + from, offset + to)) that
 * breaks the accuracy contract (as agrees() in measures/finish.ts; NaN and infinities exactly), or -1.
 */
function firstMismatch(got: ArrayLike<number>, offset: number, from: number, to: number, rel: number, abs: number): number {
  for (let k = from; k < to; k++) {
    const g = got[k],
      w = EXPECTED[offset + k];
    if (w !== g && !(w - w === 0 && Math.abs(g - w) <= rel * Math.abs(w) + abs) && !(w !== w && g !== g)) return offset + k;
  }
  return -1;
}

function describeMismatch(P: Plan, i: number, got: number, want: number): string {
  const n1 = P.values,
    n2 = n1 + P.grad32Count;
  let call: PlannedCall | undefined,
    k = 0,
    what = "value";
  if (i < n1) {
    const byte = P.out + 8 * i;
    call = P.calls.find((c) => byte >= c.out && byte < c.out + 8 * c.values);
    k = call === undefined ? 0 : (byte - call.out) / 8;
  } else {
    what = "gradient";
    const byte = i < n2 ? P.grad32 + 4 * (i - n1) : P.grad64 + 8 * (i - n2);
    const size = i < n2 ? 4 : 8;
    call = P.calls.find((c) => c.grad >= 0 && c.f32 === i < n2 && byte >= c.grad && byte < c.grad + size * ROWS * c.classes);
    k = call === undefined ? 0 : (byte - call.grad) / size;
  }
  const name = call === undefined ? "?" : CASES[call.kernel].name;
  return `${name} (${call?.f32 ? "float32" : "float64"}, ${call?.classes} classes, ${what} ${k}): gave ${got}, the reference ${want}`;
}
