// Running one case of the matrix on one environment, and comparing results.
import { expect } from "vitest";
import { XentError } from "../../src/errors.js";
import * as REFERENCE from "../../src/reference/index.js";
import type { Case, Env, FnSpec } from "./matrix.js";

/** The reference module as an environment: what every valid result is compared with. */
export const REF_ENV: Env = { name: "reference", api: REFERENCE, async: false, memory: null, grow: null };

/**
 * The accuracy contract: float32 inputs |got - want| <= 1e-6 |want| + 1e-7; float64 inputs (any float
 * input float64: the float64 kernels) <= 1e-12 |want| + 1e-13; NaN and infinities exactly.
 */
function agrees(precision: "f32" | "f64") {
  const [rel, abs] = precision === "f32" ? [1e-6, 1e-7] : [1e-12, 1e-13];
  return (got: number, want: number): boolean => {
    if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
    if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
    return Math.abs(got - want) <= rel * Math.abs(want) + abs;
  };
}

/** The first difference between two results (numbers, typed arrays, objects of them), or null. */
export function difference(got: unknown, want: unknown, same: (a: number, b: number) => boolean, path = "result"): string | null {
  if (typeof want === "number") {
    if (typeof got !== "number") return `${path}: expected a number, got ${typeof got}`;
    return same(got, want) ? null : `${path}: got ${got}, expected ${want}`;
  }
  if (ArrayBuffer.isView(want)) {
    const w = want as unknown as ArrayLike<number>;
    if (!ArrayBuffer.isView(got) || (got as unknown as ArrayLike<number>).length !== w.length)
      return `${path}: expected an array of length ${w.length}`;
    for (let i = 0; i < w.length; i++) {
      const d = difference((got as unknown as ArrayLike<number>)[i], w[i], same, `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (want !== null && typeof want === "object") {
    if (got === null || typeof got !== "object") return `${path}: expected an object`;
    const keys = Object.keys(want);
    if (Object.keys(got).sort().join() !== [...keys].sort().join()) return `${path}: keys ${Object.keys(got)} instead of ${keys}`;
    for (const k of keys) {
      const d = difference((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], same, `${path}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(got, want) ? null : `${path}: got ${String(got)}, expected ${String(want)}`;
}

/** Within the accuracy contract of the reference's value (float32 inputs unless said). */
export function expectClose(got: unknown, want: unknown, label: string, precision: "f32" | "f64" = "f32"): void {
  expect(difference(got, want, agrees(precision)), label).toBeNull();
}

/** Bit for bit (the same engine on the same numbers). */
export function expectSame(got: unknown, want: unknown, label: string): void {
  expect(difference(got, want, Object.is), label).toBeNull();
}

/** Results are snapshotted: an out or grad array given to a later call must not change them. */
function snapshot(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, snapshot(x)]));
  return v;
}

/** Calls, awaiting the pool; the result snapshotted. */
async function call(session: (a: unknown[]) => unknown, args: unknown[]): Promise<unknown> {
  return snapshot(await session(args));
}

const refCache = new Map<string, unknown>();

/** The reference's result of a spec's valid call (bases[b]), on its own fresh arrays. */
export async function referenceOf(spec: FnSpec, b: number): Promise<unknown> {
  const key = `${spec.fn}#${b}`;
  if (!refCache.has(key)) refCache.set(key, await call(spec.open(REF_ENV), spec.bases[b].args(REF_ENV)));
  return refCache.get(key);
}

/** WasmArrays a case allocated, freed after it. */
export function tracking(env: Env): { env: Env; release(): void } {
  if (env.memory === null) return { env, release: () => {} };
  const blocks: Array<{ free(): void }> = [];
  const memory = env.memory;
  const tracked: Env = {
    ...env,
    memory: {
      allocate: (ctor, n) => {
        const w = memory.allocate(ctor, n);
        blocks.push(w);
        return w;
      },
    },
  };
  return {
    env: tracked,
    release: () => {
      for (const w of blocks.splice(0)) w.free();
    },
  };
}

/**
 * Runs a case: a bad one must throw (or, on the pool, reject) its XentError code, and the next
 * valid call on the same session must give the reference's result; a valid one must give the same
 * result as fresh arrays on the same engine, and the reference's.
 */
export async function runCase(spec: FnSpec, c: Case, env0: Env): Promise<void> {
  const { env, release } = tracking(env0);
  const label = `${env.name}: ${spec.fn}: ${c.name}`;
  try {
    const session = spec.open(env);
    const args = c.args(env, spec.bases[0].args(env));
    let result: unknown,
      thrown: unknown,
      syncThrow = false;
    try {
      const r = session(args);
      if (env.async) {
        expect(r, `${label}: the pool returns a promise`).toBeInstanceOf(Promise);
        try {
          result = snapshot(await r);
        } catch (e) {
          thrown = e;
        }
      } else {
        result = snapshot(r);
      }
    } catch (e) {
      thrown = e;
      syncThrow = true;
    }
    if (env.async && syncThrow) throw new Error(`${label}: the pool threw synchronously (${String(thrown)}) instead of rejecting`);

    if ("code" in c.expect) {
      if (!(thrown instanceof XentError)) {
        throw new Error(
          `${label}: expected XentError ${c.expect.code}, got ${thrown === undefined ? `a result ${JSON.stringify(result)}` : String((thrown as Error)?.stack ?? thrown)}`,
        );
      }
      expect(thrown.code, `${label}: ${thrown.message}`).toBe(c.expect.code);
      if (c.expect.message !== undefined) expect(thrown.message, label).toMatch(c.expect.message);
      // The next valid call on the same function, engine and session is right.
      expectClose(await call(session, spec.bases[0].args(env)), await referenceOf(spec, 0), `${label}: then a valid call`);
      return;
    }
    if (thrown !== undefined) throw new Error(`${label}: a valid call threw ${String((thrown as Error)?.stack ?? thrown)}`);
    c.after?.(args);
    const valid = c.expect.valid;
    if (valid === "self") {
      // (The arguments of a case are the same wherever it runs: its reference result is kept.)
      const key = `${spec.fn}: ${c.name}`;
      const refArgs = c.fresh ?? c.args; // (the reference has no module memory: its arguments are plain)
      if (!refCache.has(key)) refCache.set(key, await call(spec.open(REF_ENV), refArgs(REF_ENV, spec.bases[0].args(REF_ENV))));
      expectClose(result, refCache.get(key), `${label}: against the reference`, c.f64 && !spec.float32Session ? "f64" : "f32");
      if (c.fresh !== undefined)
        expectSame(
          result,
          await call(spec.open(env), c.fresh(env, spec.bases[0].args(env))),
          `${label}: against fresh arrays on ${env.name}`,
        );
    } else {
      expectSame(result, await call(spec.open(env), spec.bases[valid].args(env)), `${label}: against fresh arrays on ${env.name}`);
      expectClose(result, await referenceOf(spec, valid), `${label}: against the reference`);
    }
  } finally {
    release();
  }
}
