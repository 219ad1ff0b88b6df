// A small, strict command-line parser: `--name value`, `--name=value`, boolean `--flag`. Anything
// it does not know is a UsageError (exit code 1).
import { UsageError } from "./errors.js";

export type Spec = Record<string, "string" | "boolean">;
export type Parsed = Record<string, string | boolean | undefined>;

export function parse(argv: string[], spec: Spec, command: string): Parsed {
  const out: Parsed = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h") {
      out.help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") throw new UsageError(`${command}: unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const type = spec[name];
    if (type === undefined) throw new UsageError(`${command}: unknown option --${name}`);
    if (type === "boolean") {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      out[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new UsageError(`${command}: --${name} needs a value`);
    if (out[name] !== undefined) throw new UsageError(`${command}: --${name} given twice`);
    out[name] = value;
  }
  return out;
}

export function required(p: Parsed, name: string, command: string): string {
  const v = p[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`${command}: --${name} FILE is required`);
  return v;
}

export function integer(p: Parsed, name: string, min: number): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer${min > -Infinity ? ` >= ${min}` : ""}, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function positive(p: Parsed, name: string): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${name} must be a number > 0, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A finite number (`what` says which, when `ok` narrows it), or undefined when absent. */
export function finite(p: Parsed, name: string, what = "a finite number", ok: (x: number) => boolean = () => true): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n) || !ok(n)) {
    throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function integerList(p: Parsed, name: string, min: number, length?: number): number[] | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  const parts = String(v)
    .split(",")
    .map((s) => s.trim());
  const list = parts.map(Number);
  if (
    parts.some((s) => s === "") ||
    !list.every((n) => Number.isSafeInteger(n) && n >= min) ||
    (length !== undefined && list.length !== length)
  ) {
    const what = length === undefined ? "a comma-separated list of integers" : `${length} comma-separated integers`;
    throw new UsageError(`--${name} must be ${what} >= ${min}, got ${JSON.stringify(v)}`);
  }
  return list;
}

export function choice<T extends string>(p: Parsed, name: string, values: readonly T[], fallback: T): T {
  const v = p[name];
  if (v === undefined) return fallback;
  if (!values.includes(v as T)) throw new UsageError(`--${name} must be ${values.join(", ")}; got ${JSON.stringify(v)}`);
  return v as T;
}
