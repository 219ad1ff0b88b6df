// How a measure runs on an engine. A measure validates its arguments once (`prepare`), then plans
// its work: the kernel calls (src/kernels/table.ts) and how the result follows from their per-row
// values (weighting and reducing). The same plan runs on a synchronous engine (`runSync`) and on
// an asynchronous one, the pool (`runAsync`), so a measure is written once for both: the driver
// runs the calls on its engine, then asks the plan for the result.
import { XentError } from "../errors.js";
import type { Call } from "../kernels/table.js";
import type { AsyncEngine, Engine } from "../engine/engine.js";
import type { Reduction } from "../types.js";

/** Per-row buffers for a run: reused between calls on one thread, fresh where runs interleave (the pool). */
export interface Buffers {
  /** A Float64Array of n values: fresh when they are the result ("none"); `slot` 0 or 1 may both be live. */
  rows(n: number, reduction: Reduction, slot?: 0 | 1): Float64Array;
}

/** A measure's work: kernel calls, then the result from their per-row values. */
export interface Plan<R> {
  readonly calls: readonly Call[];
  result(): R;
}

export function plan<R>(calls: readonly Call[], result: () => R): Plan<R> {
  return { calls, result };
}

/** A validated call of a measure, ready to run on any engine, as many times as needed. */
export interface Prepared<R> {
  /** Whether the float32 accuracy contract applies when comparing with the reference (check: true). */
  readonly f32: boolean;
  /** check: true: compute on the reference too and compare. */
  readonly check: boolean;
  /**
   * `second`: the reference's run of a check. A user's `out` may be written by both runs (the
   * drivers keep the engine's values); other arrays the caller gave (a gradient) must be left alone.
   */
  plan(buffers: Buffers, second: boolean): Plan<R>;
  /** Compares the engine's result with the reference's (default: values within the contract). */
  compare?(got: R, want: R, engine: string): void;
  /** The result handed to the caller, once the runs are done. */
  finish?(got: R): R;
}

// biome-ignore lint/suspicious/noExplicitAny: any function signature
type Fn = (...args: any[]) => any;

/** A measure: its public name, its public signature F, and how a call of it is validated. */
export interface Measure<F extends Fn = Fn> {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: the signature F types the public function
  prepare(...args: any[]): Prepared<any>;
  /** The public signature (a type only). */
  readonly signature?: F;
}

// biome-ignore lint/suspicious/noExplicitAny: prepare's arguments are the public function's
export function measure<F extends Fn>(name: string, prepare: (...args: any[]) => Prepared<any>): Measure<F> {
  return { name, prepare };
}

/** The public signature of a measure. */
export type SignatureOf<M> = M extends Measure<infer F> ? F : never;

/** A measure bound to a synchronous engine: the public function. */
export function bindSync<F extends Fn>(m: Measure<F>, engine: () => Engine, reference: Engine): F {
  const run = (...args: unknown[]) => runSync(m.name, m.prepare(...args), engine(), reference);
  Object.defineProperty(run, "name", { value: m.name });
  return run as F;
}

let scratch = new Float64Array(1024);
/** The synchronous engines' buffers: one scratch array, reused (a run is never interleaved with another). */
const reused: Buffers = {
  rows(n, reduction, slot = 0) {
    if (reduction === "none") return new Float64Array(n);
    if (scratch.length < 2 * n) scratch = new Float64Array(Math.max(2 * n, 2 * scratch.length));
    const half = scratch.length >> 1;
    return scratch.subarray(slot * half, slot * half + n);
  },
};
/** Buffers of runs that may interleave with others (awaiting an engine): always fresh. */
const fresh: Buffers = { rows: (n) => new Float64Array(n) };

/** Runs a plan on a synchronous engine. */
export function runPlan<R>(p: Plan<R>, engine: Engine): R {
  for (let i = 0; i < p.calls.length; i++) engine.run(p.calls[i]);
  return p.result();
}

/** Runs a prepared call on a synchronous engine (and, with check, on the reference). */
export function runSync<R>(fn: string, p: Prepared<R>, engine: Engine, reference: Engine): R {
  const got = runPlan(p.plan(reused, false), engine);
  return engine === reference ? (p.finish ? p.finish(got) : got) : checkedResult(fn, p, got, engine.name, reference);
}

/** Runs a prepared call on an asynchronous engine; the reference of a check runs on this thread. */
export async function runAsync<R>(fn: string, p: Prepared<R>, engine: AsyncEngine, reference: Engine): Promise<R> {
  const work = p.plan(fresh, false);
  for (const c of work.calls) await engine.run(c);
  return checkedResult(fn, p, work.result(), engine.name, reference);
}

/** With check, compares a result with the reference's, keeping the engine's values in a user's `out`. */
function checkedResult<R>(fn: string, p: Prepared<R>, got: R, engine: string, reference: Engine): R {
  if (p.check) {
    const keep = snapshot(got);
    (p.compare ?? compareValues(fn, p.f32))(keep, runPlan(p.plan(fresh, true), reference), engine);
    restore(got, keep);
  }
  return p.finish ? p.finish(got) : got;
}

/** A copy of a result whose arrays the reference's run may overwrite (a user's `out`). */
function snapshot<R>(r: R): R {
  return (r instanceof Float32Array || r instanceof Float64Array ? r.slice() : r) as R;
}

function restore<R>(r: R, keep: R): void {
  if ((r instanceof Float32Array || r instanceof Float64Array) && r !== keep) r.set(keep as Float64Array);
}

/** Tolerance of `check: true` and of the parity tests: as the documented accuracy contract. */
export function agrees(got: number, want: number, f32: boolean): boolean {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
  const [rel, abs] = f32 ? [1e-6, 1e-7] : [1e-12, 1e-13];
  return Math.abs(got - want) <= rel * Math.abs(want) + abs;
}

/** The default comparison: a number, or every value of a per-row array, within the contract. */
export function compareValues(fn: string, f32: boolean) {
  return (got: unknown, want: unknown, engine: string): void => {
    const a = typeof got === "number" ? [got] : Array.from(got as Float64Array);
    const b = typeof want === "number" ? [want] : Array.from(want as Float64Array);
    // Values written to a Float32Array `out` are float32 numbers, whatever the inputs: two results
    // 1e-16 apart can round to neighbouring float32s, so the float32 contract applies.
    const f32Out = f32 || got instanceof Float32Array;
    for (let i = 0; i < a.length; i++) {
      if (!agrees(a[i], b[i], f32Out)) {
        throw new XentError(
          "ENGINE_MISMATCH",
          `${fn}: the ${engine} engine gave ${a[i]} but the reference gives ${b[i]}${a.length > 1 ? ` (row ${i})` : ""}`,
        );
      }
    }
  };
}
