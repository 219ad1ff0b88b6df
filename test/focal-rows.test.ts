// The focal-loss row functions: the reference (src/reference/focal.ts) and the AssemblyScript
// kernels (assembly/kernels/focal.ts, compiled here with and without SIMD from the test-only entry
// assembly/test/focal-exports.ts) against the exact values of test/fixtures/oracle/focal.json
// (scripts/oracle/focal.py), within the accuracy contract and a per-row relative bound; gamma = 0
// against the reference's cross-entropy; the engines against each other on random rows.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { focalRows, binaryFocalRows } from "../src/reference/focal.js";
import { crossEntropyRow, distribution } from "../src/reference/rows.js";

// ---------------------------------------------------------------------------------------------
// Bounds

/** The library's contract: float32 inputs 1e-6 relative + 1e-7 absolute, float64 1e-12 + 1e-13. */
function contract(dtype: string): { rel: number; abs: number } {
  return dtype === "float32" ? { rel: 1e-6, abs: 1e-7 } : { rel: 1e-12, abs: 1e-13 };
}

/**
 * Relative error per row (multiclass, gamma <= 5, every v_k c_k >= 0) or per element (binary),
 * whatever the input type: everything is computed in float64 from the inputs as stored. Derived in
 * docs/semantics.md ("Focal loss", accuracy). Results below FLOOR are held to FLOOR absolute only
 * (e^(x - max) below 2^-1022 is flushed to 0 by the SIMD exp).
 */
const ROW_REL = 2e-13;
const ELEMENT_REL = 1e-14;
const FLOOR = 1e-290;

// ---------------------------------------------------------------------------------------------
// Fixture

interface FocalCase {
  id: string;
  op: "focal" | "binary_focal";
  dtype: "float32" | "float64";
  shape: number[];
  options: {
    from: "logits" | "probs" | "logprobs";
    gamma: number;
    alpha: number | number[] | null;
    label_smoothing?: number;
    ignore_index?: number;
    target?: "index" | "dense";
  };
  inputs: { input: number[]; target: number[]; weight?: number[] };
  expected: number[];
  expected_sum: number;
  expected_mean: number;
}

function revive(_key: string, v: unknown): unknown {
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v;
}

const CASES: FocalCase[] = JSON.parse(readFileSync(new URL("./fixtures/oracle/focal.json", import.meta.url), "utf8"), revive);
const MULTI = CASES.filter((c) => c.op === "focal");
const BINARY = CASES.filter((c) => c.op === "binary_focal");
const MODES = { logits: 0, logprobs: 1, probs: 2 } as const;

type Floats = Float32Array | Float64Array;

/** A multiclass case as the row functions take it: t or y, q, v = alpha_k weight_k, a = 1 - e, b = e / K. */
interface RowArgs {
  t: Int32Array | null;
  y: Floats | null;
  q: Floats;
  v: Float64Array | null;
  rows: number;
  K: number;
  mode: 0 | 1 | 2;
  gamma: number;
  a: number;
  b: number;
}

function rowArgs(c: FocalCase, f32: boolean): RowArgs {
  const [rows, K] = c.shape;
  const o = c.options;
  const F = f32 ? Float32Array : Float64Array;
  const e = o.label_smoothing ?? 0;
  const index = o.target === "index";
  let v: Float64Array | null = null;
  if (o.alpha !== null || c.inputs.weight !== undefined) {
    v = Float64Array.from(
      { length: K },
      (_, k) => (o.alpha === null ? 1 : typeof o.alpha === "number" ? o.alpha : o.alpha[k]) * (c.inputs.weight?.[k] ?? 1),
    );
  }
  return {
    t: index ? Int32Array.from(c.inputs.target, (t) => (t === o.ignore_index ? -1 : t)) : null,
    y: index ? null : F.from(c.inputs.target),
    q: F.from(c.inputs.input),
    v,
    rows,
    K,
    mode: MODES[o.from],
    gamma: o.gamma,
    a: 1 - e,
    b: e / K,
  };
}

/** Checks one result against its exact value: the contract of dtype, and the relative bound. */
function checkValue(got: number, want: number, dtype: string, rel: number, label: string, worst: { err: number; at: string }): void {
  if (!Number.isFinite(want)) {
    if (Number.isNaN(want)) expect(got, label).toBeNaN();
    else expect(got, label).toBe(want);
    return;
  }
  const err = Math.abs(got - want);
  const { rel: r, abs } = contract(dtype);
  expect(err, `${label}: got ${got}, want ${want} (contract)`).toBeLessThanOrEqual(r * Math.abs(want) + abs);
  expect(err, `${label}: got ${got}, want ${want} (relative ${(err / Math.abs(want)).toExponential(2)})`).toBeLessThanOrEqual(
    rel * Math.abs(want) + FLOOR,
  );
  if (Math.abs(want) >= FLOOR && err / Math.abs(want) > worst.err) {
    worst.err = err / Math.abs(want);
    worst.at = label;
  }
}

function neumaier(values: ArrayLike<number>): number {
  let s = 0,
    c = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i],
      t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return Number.isFinite(s) ? s + c : s;
}

// ---------------------------------------------------------------------------------------------
// The test module

interface FocalExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  simd(): number;
  focal_rows_f32(
    tPtr: number,
    yPtr: number,
    qPtr: number,
    vPtr: number,
    rows: number,
    classes: number,
    qMode: number,
    gamma: number,
    a: number,
    b: number,
    outPtr: number,
  ): void;
  focal_rows_f64(
    tPtr: number,
    yPtr: number,
    qPtr: number,
    vPtr: number,
    rows: number,
    classes: number,
    qMode: number,
    gamma: number,
    a: number,
    b: number,
    outPtr: number,
  ): void;
  binary_focal_f32(yPtr: number, xPtr: number, n: number, mode: number, gamma: number, alpha: number, outPtr: number): void;
  binary_focal_f64(yPtr: number, xPtr: number, n: number, mode: number, gamma: number, alpha: number, outPtr: number): void;
}

/**
 * Compiles assembly/test/focal-exports.ts in memory with the release options (-O3, stub runtime, no
 * abort import, no asserts), with or without SIMD. The repository's asconfig.json is not read: its
 * entries and targets are the main module's.
 */
async function compile(simd: boolean): Promise<FocalExports> {
  const asc = await import("assemblyscript/asc");
  const dir = fileURLToPath(new URL("../assembly/test/", import.meta.url));
  let binary: Uint8Array | null = null;
  let log = "";
  const sink = {
    write: (s: string | Uint8Array) => {
      log += String(s);
    },
  };
  const { error } = await asc.main(
    [
      "focal-exports.ts",
      "--baseDir",
      dir,
      "-O3",
      "--runtime",
      "stub",
      "--use",
      "abort=",
      "--noAssert",
      "--outFile",
      "focal.wasm",
      ...(simd ? ["--enable", "simd"] : []),
    ],
    {
      readFile: (name: string, baseDir: string) => {
        if (name.endsWith("asconfig.json")) return null;
        try {
          return readFileSync(resolve(baseDir, name), "utf8");
        } catch {
          return null;
        }
      },
      writeFile: (name: string, contents: Uint8Array | string) => {
        if (name.endsWith(".wasm")) binary = contents as Uint8Array;
      },
      listFiles: () => [],
      stdout: sink as never,
      stderr: sink as never,
    },
  );
  if (error || binary === null) throw new Error(`asc failed: ${error?.message ?? "no output"}\n${log}`);
  return new WebAssembly.Instance(new WebAssembly.Module(binary), {}).exports as unknown as FocalExports;
}

/** Arrays laid out in the module's memory from its heap base, 16-byte aligned, plus `shift` bytes. */
class Heap {
  private top = 0;
  constructor(private ex: FocalExports) {}
  reset(shift = 0): void {
    this.top = ((this.ex.heap_base() + 15) & ~15) + shift;
  }
  alloc(bytes: number): number {
    const at = this.top;
    this.top = (this.top + bytes + 15) & ~15;
    const need = this.top - this.ex.memory.buffer.byteLength;
    if (need > 0) this.ex.memory.grow(Math.ceil(need / 65536));
    return at;
  }
  put(a: Int32Array | Float32Array | Float64Array | null): number {
    if (a === null) return 0;
    const at = this.alloc(a.byteLength);
    new Uint8Array(this.ex.memory.buffer, at, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return at;
  }
  f64(at: number, n: number): Float64Array {
    return new Float64Array(this.ex.memory.buffer, at, n).slice();
  }
}

function wasmRows(ex: FocalExports, x: RowArgs, shift = 0): Float64Array {
  const h = new Heap(ex);
  h.reset(shift);
  const f32 = x.q instanceof Float32Array;
  const t = h.put(x.t),
    y = h.put(x.y),
    q = h.put(x.q),
    v = h.put(x.v),
    out = h.alloc(8 * x.rows);
  (f32 ? ex.focal_rows_f32 : ex.focal_rows_f64)(t, y, q, v, x.rows, x.K, x.mode, x.gamma, x.a, x.b, out);
  return h.f64(out, x.rows);
}

function wasmBinary(ex: FocalExports, y: Floats, x: Floats, mode: 0 | 2, gamma: number, alpha: number): Float64Array {
  const h = new Heap(ex);
  h.reset();
  const yp = h.put(y),
    xp = h.put(x),
    out = h.alloc(8 * x.length);
  (x instanceof Float32Array ? ex.binary_focal_f32 : ex.binary_focal_f64)(yp, xp, x.length, mode, gamma, alpha, out);
  return h.f64(out, x.length);
}

function referenceRows(x: RowArgs): Float64Array {
  const out = new Float64Array(x.rows);
  focalRows(x.t, x.y, x.q, x.v, x.rows, x.K, x.mode, x.gamma, x.a, x.b, out);
  return out;
}

function referenceBinary(y: Floats, x: Floats, mode: 0 | 2, gamma: number, alpha: number): Float64Array {
  const out = new Float64Array(x.length);
  binaryFocalRows(y, x, x.length, mode, gamma, alpha, out);
  return out;
}

type RowsEngine = (x: RowArgs) => Float64Array;
type BinaryEngine = (y: Floats, x: Floats, mode: 0 | 2, gamma: number, alpha: number) => Float64Array;

// ---------------------------------------------------------------------------------------------
// Random rows (seeded)

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random multiclass inputs, including rows whose target holds all but 1e-8 .. 1e-15 of the mass. */
function randomArgs(rand: () => number, f32: boolean): RowArgs {
  const F = f32 ? Float32Array : Float64Array;
  const K = 1 + Math.floor(rand() * (rand() < 0.3 ? 300 : 12));
  const rows = 1 + Math.floor(rand() * 5);
  const mode = ([0, 0, 1, 2] as const)[Math.floor(rand() * 4)];
  const gamma = [0, 0.5, 1, 2, 2, 3.7, 5][Math.floor(rand() * 7)];
  const index = rand() < 0.6;
  const t = Int32Array.from({ length: rows }, () => (rand() < 0.1 ? -1 : Math.floor(rand() * K)));
  const logits = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    const scale = [0.1, 2, 8][Math.floor(rand() * 3)];
    for (let k = 0; k < K; k++) logits[r * K + k] = scale * (rand() * 2 - 1);
    if (rand() < 0.4) {
      // a confident row: the target (or class 0) far above the rest
      const at = index && t[r] >= 0 ? t[r] : 0;
      logits[r * K + at] = scale + 18 + rand() * 17 + Math.log(K);
    }
  }
  const q = new F(rows * K);
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * K, (r + 1) * K);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    for (let k = 0; k < K; k++) q[r * K + k] = mode === 0 ? row[k] : mode === 1 ? row[k] - lse : Math.exp(row[k] - lse);
  }
  let y: Floats | null = null;
  if (!index) {
    y = new F(rows * K);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += y[r * K + k] = rand() < 0.5 ? 0 : rand();
      for (let k = 0; k < K; k++) y[r * K + k] = s > 0 ? y[r * K + k] / s : 0;
    }
  }
  const e = rand() < 0.3 ? 0.1 : 0;
  const v = rand() < 0.5 ? Float64Array.from({ length: K }, () => 0.25 + rand() * 2) : null;
  return { t: index ? t : null, y, q, v, rows, K, mode, gamma, a: 1 - e, b: e / K };
}

// ---------------------------------------------------------------------------------------------
// Tests

describe("focal.json (exact values, scripts/oracle/focal.py)", () => {
  it("has the cases it promises", () => {
    expect(MULTI.length).toBeGreaterThan(90);
    expect(BINARY.length).toBeGreaterThan(30);
    for (const c of CASES) expect(c.expected.length).toBe(c.shape[0]);
    // Every gamma, alpha kind, target kind, mode and dtype is present.
    for (const g of [0, 0.5, 2, 5]) expect(MULTI.some((c) => c.options.gamma === g)).toBe(true);
    expect(MULTI.some((c) => Array.isArray(c.options.alpha))).toBe(true);
    expect(MULTI.some((c) => typeof c.options.alpha === "number")).toBe(true);
    expect(MULTI.some((c) => c.inputs.weight !== undefined)).toBe(true);
    expect(MULTI.some((c) => (c.options.label_smoothing ?? 0) > 0)).toBe(true);
    for (const m of ["logits", "probs", "logprobs"]) expect(MULTI.some((c) => c.options.from === m)).toBe(true);
    for (const k of ["index", "dense"]) expect(MULTI.some((c) => c.options.target === k)).toBe(true);
    for (const m of ["logits", "probs"]) expect(BINARY.some((c) => c.options.from === m)).toBe(true);
  });
});

function multiclassSuite(name: string, engine: () => RowsEngine, dtypes: ("f32" | "f64")[]): void {
  describe(`${name}: focal rows against the exact values`, () => {
    for (const d of dtypes) {
      it(`every multiclass case, ${d === "f32" ? "float32 inputs (float32 cases)" : "float64 inputs (every case)"}`, () => {
        const worst = { err: 0, at: "" };
        let rows = 0;
        for (const c of MULTI) {
          if (d === "f32" && c.dtype !== "float32") continue;
          const got = engine()(rowArgs(c, d === "f32"));
          for (let r = 0; r < got.length; r++) checkValue(got[r], c.expected[r], c.dtype, ROW_REL, `${c.id}[${r}]`, worst);
          rows += got.length;
        }
        console.log(`${name} ${d}: ${rows} rows, worst relative error ${worst.err.toExponential(2)} (${worst.at})`);
        expect(rows).toBeGreaterThan(100);
      });
    }
  });
}

function binarySuite(name: string, engine: () => BinaryEngine, dtypes: ("f32" | "f64")[]): void {
  describe(`${name}: binary focal against the exact values`, () => {
    for (const d of dtypes) {
      it(`every binary case, ${d === "f32" ? "float32 inputs" : "float64 inputs"}`, () => {
        const worst = { err: 0, at: "" };
        for (const c of BINARY) {
          if (d === "f32" && c.dtype !== "float32") continue;
          const F = d === "f32" ? Float32Array : Float64Array;
          const mode = MODES[c.options.from] as 0 | 2;
          const alpha = typeof c.options.alpha === "number" ? c.options.alpha : -1;
          const got = engine()(F.from(c.inputs.target), F.from(c.inputs.input), mode, c.options.gamma, alpha);
          for (let i = 0; i < got.length; i++) checkValue(got[i], c.expected[i], c.dtype, ELEMENT_REL, `${c.id}[${i}]`, worst);
        }
        console.log(`${name} binary ${d}: worst relative error ${worst.err.toExponential(2)} (${worst.at})`);
      });
    }
  });
}

multiclassSuite("reference", () => referenceRows, ["f32", "f64"]);
binarySuite("reference", () => referenceBinary, ["f32", "f64"]);

describe("reference: the fixture's reductions", () => {
  it("sum and mean of the rows (mean: by the targets' weights for class indices, by the row count for dense targets)", () => {
    for (const c of MULTI) {
      const x = rowArgs(c, false);
      const got = referenceRows(x);
      const sum = neumaier(got);
      const w = c.inputs.weight;
      const divisor =
        x.t === null
          ? x.rows
          : neumaier(
              Array.from(x.t)
                .filter((t) => t >= 0)
                .map((t) => (w === undefined ? 1 : w[t])),
            );
      const worst = { err: 0, at: "" };
      checkValue(sum, c.expected_sum, "float64", ROW_REL, `${c.id} sum`, worst);
      checkValue(sum / divisor, c.expected_mean, "float64", ROW_REL, `${c.id} mean`, worst);
    }
  });
});

describe("reference: gamma = 0 is cross-entropy (src/reference/rows.ts, crossEntropyRow)", () => {
  function crossEntropyRows(x: RowArgs): Float64Array {
    const out = new Float64Array(x.rows);
    for (let r = 0; r < x.rows; r++) {
      const off = r * x.K;
      if (x.t !== null && x.t[r] < 0) continue;
      let target: Float64Array | null = null;
      if (x.t !== null) {
        target = new Float64Array(x.rows * x.K);
        target[off + x.t[r]] = 1;
      } else if (x.y !== null) target = Float64Array.from(x.y);
      out[r] = crossEntropyRow(target, distribution(x.q, off, x.K, x.mode, 1, false), x.mode, x.q, x.v, off, x.K, x.a, x.b, 0, null);
    }
    return out;
  }

  function compare(x: RowArgs, label: string): void {
    const focal = referenceRows({ ...x, gamma: 0 }),
      ce = crossEntropyRows(x);
    for (let r = 0; r < x.rows; r++) {
      const err = Math.abs(focal[r] - ce[r]);
      if (!Number.isFinite(ce[r])) expect(focal[r], `${label}[${r}]`).toBe(ce[r]);
      else expect(err, `${label}[${r}]: focal ${focal[r]}, cross-entropy ${ce[r]}`).toBeLessThanOrEqual(1e-12 * Math.abs(ce[r]) + 1e-13);
    }
  }

  it("on every multiclass case of the fixture", () => {
    for (const c of MULTI) compare(rowArgs(c, c.dtype === "float32"), c.id);
  });

  it("on 2,000 random row sets (every mode, index and dense targets, weights, label smoothing)", () => {
    const rand = mulberry32(7);
    for (let i = 0; i < 2000; i++) compare(randomArgs(rand, i % 2 === 0), `random ${i}`);
  });
});

describe("focal kernels (assembly/kernels/focal.ts), compiled from assembly/test/focal-exports.ts", () => {
  let simd: FocalExports;
  let scalar: FocalExports;
  beforeAll(async () => {
    [simd, scalar] = await Promise.all([compile(true), compile(false)]);
  }, 180_000);

  it("one build with SIMD, one without", () => {
    expect(simd.simd()).toBe(1);
    expect(scalar.simd()).toBe(0);
  });

  multiclassSuite("wasm-simd", () => (x) => wasmRows(simd, x), ["f32", "f64"]);
  multiclassSuite("wasm", () => (x) => wasmRows(scalar, x), ["f32", "f64"]);
  binarySuite("wasm-simd", () => (y, x, m, g, a) => wasmBinary(simd, y, x, m, g, a), ["f32", "f64"]);
  binarySuite("wasm", () => (y, x, m, g, a) => wasmBinary(scalar, y, x, m, g, a), ["f32", "f64"]);

  it("each row's result depends on the row alone: one row at a time, at any offset, gives the batch's bits", () => {
    for (const ex of [simd, scalar]) {
      for (const c of MULTI) {
        for (const f32 of c.dtype === "float32" ? [true, false] : [false]) {
          const x = rowArgs(c, f32);
          const batch = wasmRows(ex, x);
          const size = f32 ? 4 : 8;
          for (let r = 0; r < x.rows; r++) {
            const one: RowArgs = {
              ...x,
              rows: 1,
              t: x.t?.slice(r, r + 1) ?? null,
              y: x.y?.slice(r * x.K, (r + 1) * x.K) ?? null,
              q: x.q.slice(r * x.K, (r + 1) * x.K),
            };
            for (const shift of [0, size, 3 * size]) {
              const alone = wasmRows(ex, one, shift);
              expect(
                Object.is(alone[0], batch[r]) || (Number.isNaN(alone[0]) && Number.isNaN(batch[r])),
                `${c.id}[${r}] alone at +${shift}: ${alone[0]} vs ${batch[r]}`,
              ).toBe(true);
            }
          }
        }
      }
    }
  });

  it("both builds and the reference agree within the relative bound on 3,000 random row sets", () => {
    const rand = mulberry32(11);
    const worst = { simd: 0, scalar: 0 };
    for (let i = 0; i < 3000; i++) {
      const x = randomArgs(rand, i % 2 === 0);
      const want = referenceRows(x),
        a = wasmRows(simd, x),
        b = wasmRows(scalar, x);
      for (let r = 0; r < x.rows; r++) {
        for (const [name, got] of [
          ["simd", a],
          ["scalar", b],
        ] as const) {
          const err = Math.abs(got[r] - want[r]);
          expect(err, `random ${i} row ${r} (${name}): ${got[r]} vs ${want[r]}`).toBeLessThanOrEqual(
            2 * ROW_REL * Math.abs(want[r]) + FLOOR,
          );
          if (Math.abs(want[r]) >= FLOOR) worst[name] = Math.max(worst[name], err / Math.abs(want[r]));
        }
      }
    }
    console.log(
      `random rows: largest relative difference from the reference: simd ${worst.simd.toExponential(2)}, scalar ${worst.scalar.toExponential(2)}`,
    );
  });

  it("binary: both builds agree with the reference on random elements", () => {
    const rand = mulberry32(13);
    for (const f32 of [true, false]) {
      const F = f32 ? Float32Array : Float64Array;
      const n = 4000;
      const x = F.from(Array.from({ length: n }, () => (rand() * 2 - 1) * [1, 10, 60, 1e4][Math.floor(rand() * 4)]));
      const p = F.from(Array.from({ length: n }, () => rand() ** 4));
      const y = F.from(Array.from({ length: n }, () => (rand() < 0.7 ? Math.round(rand()) : rand())));
      for (const [mode, input] of [
        [0, x],
        [2, p],
      ] as const) {
        for (const [gamma, alpha] of [
          [2, 0.25],
          [0.5, -1],
          [5, 0.75],
        ]) {
          const want = referenceBinary(y, input, mode, gamma, alpha);
          for (const got of [wasmBinary(simd, y, input, mode, gamma, alpha), wasmBinary(scalar, y, input, mode, gamma, alpha)]) {
            for (let i = 0; i < n; i++) {
              expect(Math.abs(got[i] - want[i]), `${mode} ${gamma} ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(
                2 * ELEMENT_REL * Math.abs(want[i]) + FLOOR,
              );
            }
          }
        }
      }
    }
  });
});
