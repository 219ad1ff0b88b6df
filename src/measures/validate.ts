// Argument and option checks shared by every measure (and so by the engine and the reference).
// Each throws an XentError before any work is done.
import { XentError, describe } from "../errors.js";
import { WasmArray } from "../engine/memory.js";
import { LOGITS, LOGPROBS, PROBS, type Mode } from "../kernels/modes.js";
import type { FloatArray, From, Reduction } from "../types.js";

const INDEX_TYPES = [Int32Array, Uint32Array, Int16Array, Uint16Array, Uint8Array, Int8Array];

export function isIndexArray(v: unknown): v is Int32Array | Uint32Array | Int16Array | Uint16Array | Uint8Array | Int8Array {
  return INDEX_TYPES.some((T) => v instanceof T);
}

export function isFloatArray(v: unknown): v is FloatArray {
  return v instanceof Float32Array || v instanceof Float64Array;
}

/** Unwraps a WasmArray to its live view. */
export function unwrap(v: unknown): unknown {
  return v instanceof WasmArray ? v.view : v;
}

/**
 * A detached buffer (transferred, or a view on WebAssembly memory that has since grown) makes its
 * views read as empty; an explicit error beats a silently empty result.
 */
export function checkAttached(name: string, a: ArrayBufferView): void {
  if (a.byteLength !== 0 || a.buffer.byteLength !== 0) return;
  let detached = (a.buffer as { detached?: boolean }).detached === true;
  if (!detached) {
    try {
      new Uint8Array(a.buffer); // throws on a detached buffer where `detached` is not implemented
    } catch {
      detached = true;
    }
  }
  if (detached) {
    throw new XentError(
      "INVALID_TYPE",
      `${name}: its ArrayBuffer is detached (transferred, or a view on WebAssembly memory that has since grown)`,
    );
  }
}

/** number[] inputs longer than this are type-checked before their float64 copy is allocated. */
const LONG_NUMBER_ARRAY = 1 << 20;

/** A float input as a typed array: Float32Array / Float64Array as given, number[] as Float64Array. */
export function floatArray(name: string, value: unknown, code: "INVALID_TYPE" | "INVALID_WEIGHT" = "INVALID_TYPE"): FloatArray {
  const v = unwrap(value);
  if (isFloatArray(v)) {
    checkAttached(name, v);
    return v;
  }
  if (Array.isArray(v)) {
    const n = v.length;
    // A long array is checked before the copy is allocated: a sparse one (its length can be up to
    // 2^32 - 1 with almost nothing in it) is a type error, not gigabytes of zeros.
    if (n > LONG_NUMBER_ARRAY) {
      for (let i = 0; i < n; i++)
        if (typeof v[i] !== "number") throw new XentError(code, `${name}: element ${i} is ${describe(v[i])}, not a number`);
    }
    let a: Float64Array;
    try {
      a = new Float64Array(n);
    } catch (e) {
      throw new XentError(
        "OUT_OF_MEMORY",
        `${name}: a number[] of ${n} elements cannot be copied into a Float64Array (${n * 8} bytes): ${(e as Error).message}`,
      );
    }
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (typeof x !== "number") throw new XentError(code, `${name}: element ${i} is ${describe(x)}, not a number`);
      a[i] = x;
    }
    return a;
  }
  throw new XentError(code, `${name}: expected Float32Array, Float64Array or number[], got ${describe(v)}`);
}

/**
 * The targets of a binary measure, as floats of the prediction's type (0/1 labels may come as
 * integers), the same length as the prediction.
 */
export function binaryTargets(target: unknown, x: FloatArray): FloatArray {
  const t0 = unwrap(target);
  if (isIndexArray(t0)) checkAttached("target", t0);
  const y: FloatArray = isIndexArray(t0)
    ? x instanceof Float32Array
      ? Float32Array.from(t0)
      : Float64Array.from(t0)
    : floatArray("target", t0);
  sameLength("target", y, "prediction", x);
  return y;
}

export function checkOptions(fn: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new XentError("INVALID_TYPE", `${fn}: options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new XentError("UNKNOWN_OPTION", `${fn}: unknown option "${key}" (takes ${allowed.join(", ")})`);
    }
  }
  return options as Record<string, unknown>;
}

export const COMMON_OPTIONS = ["classes", "reduction", "base", "out", "check"] as const;

export function classesOption(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new XentError("INVALID_CLASSES", `classes must be an integer >= 1, got ${describe(v)}`);
  }
  return v;
}

export function reductionOption(v: unknown): Reduction {
  if (v === undefined) return "mean";
  if (v === "mean" || v === "sum" || v === "none") return v;
  throw new XentError("INVALID_OPTION", `reduction must be "mean", "sum" or "none", got ${describe(v)}`);
}

/** The divisor that turns nats into the requested base (1 for e). */
export function baseOption(v: unknown): number {
  if (v === undefined) return 1;
  if (typeof v !== "number" || !(v > 0) || v === 1 || !Number.isFinite(v)) {
    throw new XentError("INVALID_OPTION", `base must be a finite number > 0 and != 1, got ${describe(v)}`);
  }
  return Math.log(v);
}

export function boolOption(name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new XentError("INVALID_OPTION", `${name} must be true or false, got ${describe(v)}`);
  return v;
}

export function numberOption(name: string, v: unknown, fallback: number, ok: (x: number) => boolean, domain: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !ok(v)) throw new XentError("INVALID_OPTION", `${name} must be ${domain}, got ${describe(v)}`);
  return v;
}

export function temperatureOption(v: unknown): number {
  return numberOption("temperature", v, 1, (x) => x > 0 && Number.isFinite(x), "a finite number > 0");
}

function mode(name: string, v: unknown, fallback: From): Mode {
  const f = v === undefined ? fallback : v;
  if (f === "logits") return LOGITS;
  if (f === "logprobs") return LOGPROBS;
  if (f === "probs") return PROBS;
  throw new XentError("INVALID_OPTION", `${name} must be "logits", "probs" or "logprobs", got ${describe(v)}`);
}

/** `from` as a mode per side: a string applies to `sideOfString` (both when "both"). */
export function fromOption(v: unknown, pDefault: From, qDefault: From, sideOfString: "q" | "both"): { p: Mode; q: Mode } {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const key of Object.keys(v)) {
      if (key !== "p" && key !== "q") throw new XentError("INVALID_OPTION", `from: unknown side "${key}" (takes p and q)`);
    }
    const o = v as { p?: unknown; q?: unknown };
    return { p: mode("from.p", o.p, pDefault), q: mode("from.q", o.q, qDefault) };
  }
  const m = mode("from", v, qDefault);
  return { p: sideOfString === "both" ? m : mode("from.p", undefined, pDefault), q: m };
}

/** Row count and K of row-major float data of `length` elements. */
export function shapeOf(name: string, length: number, classes: number | undefined): { rows: number; classes: number } {
  if (classes === undefined) {
    if (length === 0) throw new XentError("SHAPE_MISMATCH", `${name} is empty: give classes, or at least one element`);
    return { rows: 1, classes: length };
  }
  if (length % classes !== 0) {
    throw new XentError("SHAPE_MISMATCH", `${name}: length ${length} is not a multiple of classes = ${classes}`);
  }
  return { rows: length / classes, classes };
}

export function sameLength(nameA: string, a: { length: number }, nameB: string, b: { length: number }): void {
  if (a.length !== b.length) {
    throw new XentError("SHAPE_MISMATCH", `${nameA} has length ${a.length} but ${nameB} has length ${b.length}; they must match`);
  }
}

export function weightOption(name: string, v: unknown, length: number, what: string): FloatArray | null {
  if (v === undefined) return null;
  const w = floatArray(name, v, "INVALID_WEIGHT");
  if (w.length !== length) {
    throw new XentError("INVALID_WEIGHT", `${name} must have length ${length} (${what}), got ${w.length}`);
  }
  return w;
}

export function outOption(v: unknown, length: number, reduction: Reduction): Float32Array | Float64Array | null {
  if (v === undefined) return null;
  const o = unwrap(v);
  if (!isFloatArray(o)) throw new XentError("INVALID_TYPE", `out must be a Float32Array or Float64Array, got ${describe(o)}`);
  checkAttached("out", o);
  if (reduction !== "none")
    throw new XentError("INVALID_OPTION", `out is only written with reduction "none" (reduction is "${reduction}")`);
  if (o.length !== length) throw new XentError("SHAPE_MISMATCH", `out must have length ${length}, got ${o.length}`);
  return o;
}
