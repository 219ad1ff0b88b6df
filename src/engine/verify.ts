// The battery init() runs on an engine before trusting it: every kernel, on row lengths that hit
// every SIMD tail (2, 7 and 33 classes), with extreme and non-finite values (-inf, +-1e4, zero
// probabilities), in float32 and float64, compared with the reference within the accuracy
// contract. A runtime whose WebAssembly computes wrongly thus falls back to an engine that does not.
//
// To cost under a millisecond on a cold start, it does almost nothing in JavaScript: the inputs and
// the reference's results on them are generated at build time (scripts/battery.ts writes
// battery.expected.ts from batteryInputs() and the reference; test/verify.test.ts checks that they
// equal what the reference computes now), the inputs are copied into memory in one piece, and the
// module's exports are called directly.
import { LOGITS, PROBS, OP_CE, OP_KL, OP_JS, type ModuleExports } from "./abi.js";
import { agrees } from "../measures/finish.js";
import { EXPECTED, INPUTS } from "./battery.expected.js";

export const CLASSES = [2, 7, 33];
export const ROWS = 2;

export interface BatteryInputs {
  x: Float64Array; // logits, with -inf, +-1e4 in the last row
  y: Float64Array;
  p: Float64Array; // probability rows with exact zeros
  q: Float64Array;
  t: Int32Array; // class indices
}

/** Deterministic inputs for one row length; float32-exact when f32. */
export function batteryInputs(f32: boolean, classes: number): BatteryInputs {
  let s = classes * 7919 + (f32 ? 1 : 2);
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const round = f32 ? Math.fround : (v: number) => v;
  const n = ROWS * classes;
  const x = Float64Array.from({ length: n }, () => round(12 * u() - 6));
  const y = Float64Array.from({ length: n }, () => round(12 * u() - 6));
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

export type BatteryCall = readonly [name: string, results: (classes: number) => number];

/** Names and result counts of the calls, in order (bce is per element). */
export const CALLS: readonly BatteryCall[] = [
  ["crossEntropy", () => ROWS],
  ["crossEntropy dense", () => ROWS],
  ["crossEntropy probs", () => ROWS],
  ["klDivergence logits", () => ROWS],
  ["klDivergence probs", () => ROWS],
  ["jensenShannon", () => ROWS],
  ["entropy", () => ROWS],
  ["entropy logits", () => ROWS],
  ["binaryCrossEntropy", (classes) => ROWS * classes],
];

/** Runs call `i` of the battery on the module; inputs at the given addresses; results at out. */
function runCall(ex: ModuleExports, f32: boolean, i: number, classes: number, at: Record<keyof BatteryInputs, number>, out: number): void {
  const pair = f32 ? ex.pair_rows_f32 : ex.pair_rows_f64;
  const ent = f32 ? ex.entropy_rows_f32 : ex.entropy_rows_f64;
  const K = classes, R = ROWS;
  switch (i) {
    case 0: return (f32 ? ex.ce_index_logits_f32 : ex.ce_index_logits_f64)(at.x, at.t, R, K, out);
    case 1: return pair(OP_CE, at.p, at.x, 0, R, K, PROBS, LOGITS, 1, 0, 0.9, 0.1 / K, 0, out);
    case 2: return pair(OP_CE, at.p, at.q, 0, R, K, PROBS, PROBS, 1, 0, 1, 0, 0, out);
    case 3: return pair(OP_KL, at.x, at.y, 0, R, K, LOGITS, LOGITS, 0.5, 0, 0, 0, 0, out);
    case 4: return pair(OP_KL, at.p, at.q, 0, R, K, PROBS, PROBS, 1, 1, 0, 0, 0, out);
    case 5: return pair(OP_JS, at.p, at.q, 0, R, K, PROBS, PROBS, 1, 0, 0, 0, 0, out);
    case 6: return ent(at.q, R, K, PROBS, 1, 0, out);
    case 7: return ent(at.x, R, K, LOGITS, 1, 0, out);
    default: return (f32 ? ex.bce_f32 : ex.bce_f64)(at.p, at.x, 0, 0, R * K, 1, 0, LOGITS, out);
  }
}

/** Byte offsets of each input within one (dtype, classes) block of INPUTS, and the block's size. */
export function layout(f32: boolean, classes: number) {
  const n = ROWS * classes, bytes = f32 ? 4 : 8;
  const x = 0, y = n * bytes, p = 2 * n * bytes, q = 3 * n * bytes, t = 4 * n * bytes;
  return { x, y, p, q, t, size: Math.ceil((t + 4 * ROWS) / 8) * 8 };
}

/**
 * null when the module agrees with the reference on the whole battery, else what differed.
 * `base` is a free, 8-byte aligned address with 64 KiB of room (the engine's scratch slot).
 */
export function verifyModule(ex: ModuleExports, base: number): string | null {
  new Uint8Array(ex.memory.buffer, base, INPUTS.length).set(INPUTS);
  const out = base + INPUTS.length;
  let j = 0, block = base;
  for (const f32 of [true, false]) {
    for (const classes of CLASSES) {
      const l = layout(f32, classes);
      const at = { x: block + l.x, y: block + l.y, p: block + l.p, q: block + l.q, t: block + l.t };
      block += l.size;
      for (let i = 0; i < CALLS.length; i++) {
        runCall(ex, f32, i, classes, at, out);
        const want = EXPECTED[j++];
        const got = new Float64Array(ex.memory.buffer, out, want.length);
        for (let k = 0; k < want.length; k++) {
          if (!agrees(got[k], want[k], f32)) {
            return `${CALLS[i][0]} (${f32 ? "float32" : "float64"}, ${classes} classes, value ${k}): gave ${got[k]}, the reference ${want[k]}`;
          }
        }
      }
    }
  }
  return null;
}
