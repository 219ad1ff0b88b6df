// Reading the oracle fixtures (PyTorch / SciPy / scikit-learn vectors, see fixtures/oracle/README.md).
import { readFileSync } from "node:fs";
import { expect } from "vitest";

// The pure helpers live with the case mapping, which must run without node:fs.
export { floats, rowSums } from "./oracle-cases.js";

export interface Case {
  id: string;
  op: string;
  dtype: "float32" | "float64";
  shape: number[];
  options: Record<string, unknown>;
  inputs: Record<string, number[]>;
  input_shapes: Record<string, number[]>;
  input_dtypes?: Record<string, string>;
  expected: unknown;
  expected_divergence?: number;
  note?: string;
}

/** Non-finite numbers are stored as the strings "NaN", "Infinity", "-Infinity". */
function revive(_key: string, v: unknown): unknown {
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v;
}

export function loadCases(dir: "oracle" | "onnx", file: string): Case[] {
  return JSON.parse(readFileSync(new URL(`../fixtures/${dir}/${file}`, import.meta.url), "utf8"), revive);
}

/** The accuracy contract: float32 inputs 1e-6 relative + 1e-7 absolute; float64 1e-12 + 1e-13; non-finite exact. */
export function tolerance(dtype: string): { rel: number; abs: number } {
  return dtype === "float32" ? { rel: 1e-6, abs: 1e-7 } : { rel: 1e-12, abs: 1e-13 };
}

export function expectClose(got: number, want: number, dtype: string, label: string): void {
  if (Number.isNaN(want)) {
    expect(got, `${label}: expected NaN`).toBeNaN();
    return;
  }
  if (!Number.isFinite(want)) {
    expect(got, label).toBe(want);
    return;
  }
  const { rel, abs } = tolerance(dtype);
  const err = Math.abs(got - want);
  expect(err, `${label}: got ${got}, want ${want} (err ${err.toExponential(2)})`).toBeLessThanOrEqual(rel * Math.abs(want) + abs);
}

export function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, dtype: string, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) expectClose(got[i], want[i], dtype, `${label}[${i}]`);
}
