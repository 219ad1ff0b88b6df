// The oracle vectors run through a loaded xent (any entry, any runtime), checked there: the mapping
// of test/helpers/oracle-cases.ts (as test/oracle.test.ts uses it) and the accuracy contract, with
// no test framework and no file system, so that Deno, Bun, workerd and bundled pages run it as
// they run a user's code. The fixtures are imported as JSON (every bundler and runtime here can).
// Returns a report the Node-side test checks: the engine, how many values were checked, failures.
import type { Case } from "../helpers/oracle.js";
import { FAMILIES, SKIPPED, ZERO_TIMES_INF, coinCases, type Mapped, type Measures } from "../helpers/oracle-cases.js";
import crossEntropy from "../fixtures/oracle/cross_entropy.json" with { type: "json" };
import nllLoss from "../fixtures/oracle/nll_loss.json" with { type: "json" };
import klDiv from "../fixtures/oracle/kl_div.json" with { type: "json" };
import entropy from "../fixtures/oracle/entropy.json" with { type: "json" };
import bce from "../fixtures/oracle/bce.json" with { type: "json" };
import logLoss from "../fixtures/oracle/log_loss.json" with { type: "json" };
import coin from "../fixtures/oracle/coin.json" with { type: "json" };

/** Non-finite numbers are stored as the strings "NaN", "Infinity", "-Infinity" (as helpers/oracle.ts reads them). */
function revive(_key: string, v: unknown): unknown {
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v;
}

const RAW: Record<string, unknown> = {
  "cross_entropy.json": crossEntropy,
  "nll_loss.json": nllLoss,
  "kl_div.json": klDiv,
  "entropy.json": entropy,
  "bce.json": bce,
  "log_loss.json": logLoss,
  "coin.json": coin,
};

const cache = new Map<string, Case[]>();
export function cases(file: string): Case[] {
  let c = cache.get(file);
  if (c === undefined) {
    c = JSON.parse(JSON.stringify(RAW[file]), revive) as Case[];
    cache.set(file, c);
  }
  return c;
}

/** Every mapped, not skipped case: [label, mapping, case, whether 0 log 0 = 0 differs from the oracle's NaN]. */
export function oracleCases(): Array<[string, Mapped, Case, boolean]> {
  const list: Array<[string, Mapped, Case, boolean]> = [];
  for (const [file, map] of FAMILIES) {
    for (const c of cases(file)) {
      const mapped = map(c);
      if (mapped === null || SKIPPED[c.id] !== undefined) continue;
      list.push([`${file} ${c.id}`, mapped, c, ZERO_TIMES_INF.has(c.id)]);
    }
  }
  for (const c of cases("coin.json")) for (const [what, mapped] of coinCases(c)) list.push([`coin.json ${c.id} ${what}`, mapped, c, false]);
  return list;
}

/** The accuracy contract, as helpers/oracle.ts's expectClose: null when close enough, else why not. */
export function mismatch(got: number, want: number, dtype: string): string | null {
  if (Number.isNaN(want)) return Number.isNaN(got) ? null : `got ${got}, want NaN`;
  if (!Number.isFinite(want)) return got === want ? null : `got ${got}, want ${want}`;
  const [rel, abs] = dtype === "float32" ? [1e-6, 1e-7] : [1e-12, 1e-13];
  const err = Math.abs(got - want);
  return err <= rel * Math.abs(want) + abs ? null : `got ${got}, want ${want} (err ${err.toExponential(2)})`;
}

const list = (r: number | ArrayLike<number>) => (typeof r === "number" ? [r] : Array.from(r));

/** Checks every case on `m`; the reference is used where the oracle's NaN is PyTorch's 0 * -inf. */
export function checkAll(m: Measures, reference: Measures): { cases: number; values: number; failures: string[] } {
  const failures: string[] = [];
  let n = 0,
    values = 0;
  for (const [label, mapped, c, convention] of oracleCases()) {
    n++;
    try {
      const got = list(mapped.run(m));
      const want = typeof mapped.want === "number" ? [mapped.want] : mapped.want;
      if (got.length !== want.length) {
        failures.push(`${label}: ${got.length} values, want ${want.length}`);
        continue;
      }
      let ref: number[] | null = null;
      for (let i = 0; i < want.length; i++) {
        values++;
        let w = want[i];
        if (convention && Number.isNaN(w)) {
          ref ??= list(mapped.run(reference));
          w = ref[i];
          if (Number.isNaN(w)) failures.push(`${label}[${i}]: the reference gives NaN where 0 log 0 = 0 gives a number`);
        }
        const why = mismatch(got[i], w, c.dtype);
        if (why !== null) failures.push(`${label}[${i}]: ${why}`);
      }
    } catch (e) {
      failures.push(`${label}: threw ${(e as Error)?.message ?? e}`);
    }
  }
  return { cases: n, values, failures };
}

/** What a loaded xent exposes that the report uses. */
export type Xent = Measures & {
  init(options?: object): Promise<unknown>;
  backend(): string;
  engineInfo(): { backend: string; verified: boolean; reason?: string };
  allocate: typeof import("../../src/index.js").allocate;
};

export interface OracleReport {
  label: string;
  backend: string;
  info: { backend: string; verified: boolean; reason?: string };
  cases: number;
  values: number;
  failures: string[];
  /** crossEntropy on an allocate()d block equals the same on a plain array. */
  zeroCopy: boolean;
}

/** init() (with `options`), then every oracle case, and a zero-copy call through allocate(). */
export async function runOracle(xent: Xent, reference: Measures, label: string, options: object = {}): Promise<OracleReport> {
  await xent.init(options);
  const { cases: n, values, failures } = checkAll(xent, reference);
  const logits = [1, 2, 3, 3, 2, 1],
    labels = [2, 0];
  const block = xent.allocate(Float32Array, logits.length);
  block.view.set(logits);
  const zeroCopy =
    xent.crossEntropy(labels, block, { classes: 3 }) === xent.crossEntropy(labels, Float32Array.from(logits), { classes: 3 });
  block.free();
  return { label, backend: xent.backend(), info: xent.engineInfo(), cases: n, values, failures: failures.slice(0, 20), zeroCopy };
}
