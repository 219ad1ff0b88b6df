// focalLoss and binaryFocalLoss through the public API, on every engine (wasm-simd, wasm, js):
// against the exact values of test/fixtures/oracle/focal.json (scripts/oracle/focal.py) per row,
// summed and averaged, within the accuracy contract and a per-row relative bound; gamma = 0 against
// crossEntropy and binaryCrossEntropy; the divisors of "mean"; ignored rows; sampleWeight; the
// option errors. The row functions themselves are tested in focal-rows.test.ts.
import { describe, expect, it } from "vitest";
import { ENGINES, type Measures } from "./helpers/engines.js";
import { expectClose, loadCases, type Case } from "./helpers/oracle.js";
import { labels, logits, probs, rng, type Float } from "./helpers/data.js";

/**
 * Relative error allowed per row (reduction "none") and for the sums, whatever the input type: the
 * kernels compute in float64 from the inputs as stored (docs/semantics.md, "Focal loss", derives
 * 2e-13 per row). It matters where q is close to 1: a row's loss there is about (1 - q)^(1 + gamma),
 * 1e-36 for 1 - q = 1e-12 and gamma = 2, which the contract's absolute 1e-13 would let be anything.
 * Results below FLOOR are held to FLOOR absolute (the SIMD exp flushes terms under 2^-1022 of the
 * row's largest to 0).
 */
const ROW_REL = 1e-12;
const FLOOR = 1e-290;

interface FocalOptions {
  from: "logits" | "probs" | "logprobs";
  gamma: number;
  alpha: number | number[] | null;
  label_smoothing?: number;
  ignore_index?: number;
  target?: "index" | "dense";
}

type FocalCase = Case & { options: FocalOptions; expected: number[]; expected_sum: number; expected_mean: number };

const CASES = loadCases("oracle", "focal.json") as FocalCase[];
const MULTI = CASES.filter((c) => c.op === "focal");
const BINARY = CASES.filter((c) => c.op === "binary_focal");
/** The cases where the target's q is within 1e-12 of 1 or closer, in some row. */
const NEAR_ONE = MULTI.filter((c) => /near_one|probs_extreme|logprobs_extreme/.test(c.id));

const floats = (c: Case, values: number[]) => (c.dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values));

/** A multiclass case as focalLoss's arguments. */
function multiArgs(c: FocalCase): [Int32Array | Float32Array | Float64Array, Float32Array | Float64Array, Record<string, unknown>] {
  const o = c.options;
  const index = o.target === "index";
  const options: Record<string, unknown> = { classes: c.shape[1], from: o.from, gamma: o.gamma };
  if (o.alpha !== null) options.alpha = o.alpha;
  if (c.inputs.weight !== undefined) options.weight = floats(c, c.inputs.weight);
  if ((o.label_smoothing ?? 0) > 0) options.labelSmoothing = o.label_smoothing;
  if (index) options.ignoreIndex = o.ignore_index ?? -100;
  const target = index ? Int32Array.from(c.inputs.target) : floats(c, c.inputs.target);
  return [target, floats(c, c.inputs.input), options];
}

/** A binary case as binaryFocalLoss's arguments. */
function binaryArgs(c: FocalCase): [Float32Array | Float64Array, Float32Array | Float64Array, Record<string, unknown>] {
  const o = c.options;
  return [
    floats(c, c.inputs.target),
    floats(c, c.inputs.input),
    { from: o.from, gamma: o.gamma, ...(o.alpha === null ? {} : { alpha: o.alpha }) },
  ];
}

/** Within the contract of the case's dtype, and within ROW_REL relative (FLOOR absolute). */
function checkExact(got: number, want: number, dtype: string, label: string, worst?: { err: number; at: string }): void {
  expectClose(got, want, dtype, label);
  if (!Number.isFinite(want)) return;
  const err = Math.abs(got - want);
  expect(err, `${label}: got ${got}, want ${want} (relative ${(err / Math.abs(want)).toExponential(2)})`).toBeLessThanOrEqual(
    ROW_REL * Math.abs(want) + FLOOR,
  );
  if (worst !== undefined && Math.abs(want) >= FLOOR && err / Math.abs(want) > worst.err) {
    worst.err = err / Math.abs(want);
    worst.at = label;
  }
}

type Fn = (...a: unknown[]) => unknown;

describe("focal.json", () => {
  it("has every kind of case the tests below rely on", () => {
    expect(MULTI.length).toBeGreaterThan(90);
    expect(BINARY.length).toBeGreaterThan(30);
    for (const g of [0, 0.5, 2, 5])
      expect(
        MULTI.some((c) => c.options.gamma === g),
        `gamma ${g}`,
      ).toBe(true);
    expect(MULTI.some((c) => typeof c.options.alpha === "number")).toBe(true);
    expect(MULTI.some((c) => Array.isArray(c.options.alpha))).toBe(true);
    expect(MULTI.some((c) => c.inputs.weight !== undefined)).toBe(true);
    expect(MULTI.some((c) => (c.options.label_smoothing ?? 0) > 0)).toBe(true);
    expect(MULTI.some((c) => c.inputs.target.includes(c.options.ignore_index ?? -100) && c.options.target === "index")).toBe(true);
    for (const t of ["index", "dense"]) expect(MULTI.some((c) => c.options.target === t)).toBe(true);
    for (const f of ["logits", "probs", "logprobs"]) expect(MULTI.some((c) => c.options.from === f)).toBe(true);
    for (const f of ["logits", "probs"]) expect(BINARY.some((c) => c.options.from === f)).toBe(true);
    expect(MULTI.some((c) => c.inputs.input.some((v) => Math.abs(v) >= 1e4))).toBe(true);
    for (const d of ["float32", "float64"]) expect(CASES.some((c) => c.dtype === d)).toBe(true);
    // Rows whose loss is far below the contract's absolute 1e-13: only the relative bound tests them.
    expect(NEAR_ONE.length).toBeGreaterThanOrEqual(20);
    expect(NEAR_ONE.flatMap((c) => c.expected).some((v) => v > 0 && v < 1e-30)).toBe(true);
  });
});

for (const [name, m] of Object.entries(ENGINES) as Array<[string, Measures]>) {
  describe(`${name}: focalLoss against the exact values`, () => {
    it(`every multiclass case, per row (reduction "none"): the contract and ${ROW_REL} relative`, () => {
      const worst = { err: 0, at: "" };
      let rows = 0;
      for (const c of MULTI) {
        const [t, x, o] = multiArgs(c);
        const got = m.focalLoss(t, x, { ...o, reduction: "none" } as never) as Float64Array;
        expect(got, c.id).toBeInstanceOf(Float64Array);
        expect(got.length, c.id).toBe(c.expected.length);
        for (let r = 0; r < got.length; r++) checkExact(got[r], c.expected[r], c.dtype, `${c.id}[${r}]`, worst);
        rows += got.length;
      }
      console.log(
        `${name} focalLoss: ${rows} rows of ${MULTI.length} cases, worst relative error ${worst.err.toExponential(2)} (${worst.at})`,
      );
    });

    it(`where q is within 1e-12 of 1 or closer: every row within ${ROW_REL} relative`, () => {
      for (const c of NEAR_ONE) {
        const [t, x, o] = multiArgs(c);
        const got = m.focalLoss(t, x, { ...o, reduction: "none" } as never) as Float64Array;
        for (let r = 0; r < got.length; r++) {
          const want = c.expected[r];
          if (!Number.isFinite(want)) {
            expect(got[r], `${c.id}[${r}]`).toBe(want);
            continue;
          }
          const err = Math.abs(got[r] - want);
          expect(err, `${c.id}[${r}]: got ${got[r]}, want ${want}`).toBeLessThanOrEqual(ROW_REL * want + FLOOR);
        }
      }
    });

    it(`"sum" and "mean" (by the sum of the targets' weight for class indices, by the row count for dense targets)`, () => {
      for (const c of MULTI) {
        const [t, x, o] = multiArgs(c);
        checkExact(m.focalLoss(t, x, { ...o, reduction: "sum" } as never) as number, c.expected_sum, c.dtype, `${c.id} sum`);
        checkExact(m.focalLoss(t, x, o as never) as number, c.expected_mean, c.dtype, `${c.id} mean`);
      }
    });

    it("binary: every case per element, summed, and averaged over the elements", () => {
      const worst = { err: 0, at: "" };
      for (const c of BINARY) {
        const [y, x, o] = binaryArgs(c);
        const got = m.binaryFocalLoss(y, x, { ...o, reduction: "none" } as never) as Float64Array;
        expect(got.length, c.id).toBe(c.expected.length);
        for (let i = 0; i < got.length; i++) checkExact(got[i], c.expected[i], c.dtype, `${c.id}[${i}]`, worst);
        checkExact(m.binaryFocalLoss(y, x, { ...o, reduction: "sum" } as never) as number, c.expected_sum, c.dtype, `${c.id} sum`);
        checkExact(m.binaryFocalLoss(y, x, o as never) as number, c.expected_mean, c.dtype, `${c.id} mean`);
      }
      console.log(`${name} binaryFocalLoss: worst relative error ${worst.err.toExponential(2)} (${worst.at})`);
    });

    it("base: the values in nats divided by log(base)", () => {
      for (const c of MULTI.filter((c) => c.id.startsWith("logits_index_"))) {
        const [t, x, o] = multiArgs(c);
        const bits = m.focalLoss(t, x, { ...o, reduction: "none", base: 2 } as never) as Float64Array;
        for (let r = 0; r < bits.length; r++) checkExact(bits[r], c.expected[r] / Math.LN2, c.dtype, `${c.id}[${r}] in bits`);
      }
    });
  });

  describe(`${name}: gamma = 0 is cross-entropy`, () => {
    const u = rng(name.length * 101);
    const shapes: Array<[number, number]> = [
      [1, 1],
      [3, 2],
      [7, 5],
      [4, 17],
      [5, 33],
      [2, 1025],
    ];

    it("focalLoss({ gamma: 0 }) = crossEntropy: class indices and dense targets, every from, weight, labelSmoothing, ignoreIndex, sampleWeight, every reduction", () => {
      let calls = 0;
      for (const [rows, K] of shapes) {
        for (const T of [Float32Array, Float64Array] as Float[]) {
          const x = logits(u, rows * K, T),
            p = probs(u, rows, K, T),
            q = probs(u, rows, K, T);
          const lq = T.from(q, Math.log);
          const t = labels(u, rows, K).map((v, r) => (r % 3 === 1 ? -1 : v));
          const w = T.from({ length: K }, () => 0.25 + u());
          const sw = T.from({ length: rows }, () => u());
          const predictions = [
            ["logits", x],
            ["probs", q],
            ["logprobs", lq],
          ] as const;
          for (const [from, pred] of predictions) {
            for (const target of [t, p]) {
              for (const extra of [{}, { weight: w }, { labelSmoothing: 0.1 }, { weight: w, labelSmoothing: 0.3, sampleWeight: sw }]) {
                for (const reduction of ["none", "sum", "mean"] as const) {
                  const o = { classes: K, from, reduction, ...extra, ...(target === t ? { ignoreIndex: -1 } : {}) };
                  const ce = m.crossEntropy(target, pred, o);
                  const focal = m.focalLoss(target, pred, { ...o, gamma: 0 });
                  const label = `${rows}x${K} ${T.name} ${from} ${target === t ? "index" : "dense"} ${JSON.stringify(Object.keys(extra))} ${reduction}`;
                  const dtype = T === Float32Array ? "float32" : "float64";
                  if (typeof ce === "number") expectClose(focal as number, ce, dtype, label);
                  else
                    for (let r = 0; r < rows; r++)
                      expectClose((focal as Float64Array)[r], (ce as Float64Array)[r], dtype, `${label}[${r}]`);
                  calls++;
                }
              }
            }
          }
        }
      }
      expect(calls).toBe(shapes.length * 2 * 3 * 2 * 4 * 3);
    });

    it("with alpha a number: alpha times crossEntropy", () => {
      const x = logits(u, 6 * 9, Float64Array),
        t = labels(u, 6, 9);
      const ce = m.crossEntropy(t, x, { classes: 9, reduction: "none" });
      const focal = m.focalLoss(t, x, { classes: 9, gamma: 0, alpha: 0.25, reduction: "none" });
      for (let r = 0; r < ce.length; r++) expectClose(focal[r], 0.25 * ce[r], "float64", `row ${r}`);
    });

    it("the fixture's gamma = 0 cases: crossEntropy on the same arguments, times alpha", () => {
      for (const c of MULTI.filter((c) => c.options.gamma === 0 && c.options.alpha === null)) {
        const [t, x, o] = multiArgs(c);
        const ce: Record<string, unknown> = { ...o, reduction: "none" };
        delete ce.gamma;
        const want = m.crossEntropy(t, x, ce as never) as Float64Array;
        const got = m.focalLoss(t, x, { ...o, reduction: "none" } as never) as Float64Array;
        for (let r = 0; r < want.length; r++) expectClose(got[r], want[r], c.dtype, `${c.id}[${r}]`);
      }
    });

    it("binaryFocalLoss({ gamma: 0 }) = binaryCrossEntropy (logits and probabilities, weight per element)", () => {
      for (const T of [Float32Array, Float64Array] as Float[]) {
        const n = 67;
        const y = T.from({ length: n }, (_: unknown, i: number) => (i % 4 === 3 ? u() : i % 2));
        const x = logits(u, n, T),
          pr = T.from({ length: n }, () => u());
        const w = T.from({ length: n }, () => 2 * u());
        const dtype = T === Float32Array ? "float32" : "float64";
        for (const [from, pred] of [
          ["logits", x],
          ["probs", pr],
        ] as const) {
          for (const weight of [undefined, w]) {
            const o = { from, reduction: "none" as const, ...(weight === undefined ? {} : { weight }) };
            const want = m.binaryCrossEntropy(y, pred, o);
            const got = m.binaryFocalLoss(y, pred, { ...o, gamma: 0 });
            for (let i = 0; i < n; i++) expectClose(got[i], want[i], dtype, `${T.name} ${from} [${i}]`);
          }
        }
      }
    });
  });

  describe(`${name}: reductions, weights and ignored rows`, () => {
    const u = rng(7 + name.length);
    const rows = 9,
      K = 6;
    const x = logits(u, rows * K, Float64Array) as Float64Array;
    const t = labels(u, rows, K);
    t[2] = -100;
    t[7] = -100;
    const w = Float64Array.from({ length: K }, () => 0.5 + u());
    const alpha = Float64Array.from({ length: K }, () => 0.1 + u());
    const sw = Float64Array.from({ length: rows }, () => u());
    const counted = [...t.keys()].filter((r) => t[r] !== -100);
    const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
    const opts = { classes: K, gamma: 1.5 };

    it(`"mean" divides by the sum of the target classes' weight over the rows that count; alpha is not in the divisor`, () => {
      const none = m.focalLoss(t, x, { ...opts, weight: w, alpha, reduction: "none" });
      const divisor = sum(counted.map((r) => w[t[r]]));
      expectClose(m.focalLoss(t, x, { ...opts, weight: w, alpha }), sum(none) / divisor, "float64", "mean");
      expectClose(m.focalLoss(t, x, { ...opts, weight: w, alpha, reduction: "sum" }), sum(none), "float64", "sum");
      // alpha scales the mean: were it in the divisor, it would cancel.
      const plain = m.focalLoss(t, x, { ...opts, weight: w });
      expectClose(m.focalLoss(t, x, { ...opts, weight: w, alpha: 0.5 }), 0.5 * plain, "float64", "alpha 0.5");
      expectClose(
        m.focalLoss(t, x, { ...opts, weight: w, alpha: Float64Array.from({ length: K }, () => 3) }),
        3 * plain,
        "float64",
        "alpha 3 per class",
      );
      // Without weight, the divisor is the number of rows that count.
      expectClose(
        m.focalLoss(t, x, { ...opts, alpha }),
        sum(m.focalLoss(t, x, { ...opts, alpha, reduction: "none" })) / counted.length,
        "float64",
        "mean, no weight",
      );
    });

    it("ignoreIndex rows give 0 and are left out: the same as the other rows alone", () => {
      const none = m.focalLoss(t, x, { ...opts, weight: w, reduction: "none" });
      expect(none[2]).toBe(0);
      expect(none[7]).toBe(0);
      const kept = Float64Array.from(counted.flatMap((r) => Array.from(x.subarray(r * K, (r + 1) * K))));
      const tk = Int32Array.from(counted, (r) => t[r]);
      expectClose(m.focalLoss(t, x, { ...opts, weight: w }), m.focalLoss(tk, kept, { ...opts, weight: w }), "float64", "mean");
      expectClose(
        m.focalLoss(t, x, { ...opts, weight: w, reduction: "sum" }),
        m.focalLoss(tk, kept, { ...opts, weight: w, reduction: "sum" }),
        "float64",
        "sum",
      );
      // Another ignoreIndex: -100 is then an invalid class index, and -1 the ignored value.
      const t1 = t.map((v) => (v === -100 ? -1 : v));
      expect(m.focalLoss(t1, x, { ...opts, ignoreIndex: -1 })).toBe(m.focalLoss(t, x, opts));
      // No row counts: "mean" is NaN (0 / 0), "sum" is 0, as crossEntropy.
      const all = new Int32Array(rows).fill(-100);
      expect(m.focalLoss(all, x, opts)).toBeNaN();
      expect(m.focalLoss(all, x, { ...opts, reduction: "sum" })).toBe(0);
    });

    it('sampleWeight: scales each row; "mean" divides by the sum of sampleWeight times the target\'s weight (dense: of sampleWeight)', () => {
      const plain = m.focalLoss(t, x, { ...opts, weight: w, alpha, reduction: "none" });
      const weighted = m.focalLoss(t, x, { ...opts, weight: w, alpha, sampleWeight: sw, reduction: "none" });
      for (let r = 0; r < rows; r++) expect(weighted[r], `row ${r}`).toBe(plain[r] * sw[r]);
      const divisor = sum(counted.map((r) => w[t[r]] * sw[r]));
      expectClose(
        m.focalLoss(t, x, { ...opts, weight: w, alpha, sampleWeight: sw }),
        sum(weighted) / divisor,
        "float64",
        "mean, class indices",
      );
      const p = probs(u, rows, K, Float64Array);
      const dense = m.focalLoss(p, x, { ...opts, weight: w, sampleWeight: sw, reduction: "none" });
      const densePlain = m.focalLoss(p, x, { ...opts, weight: w, reduction: "none" });
      for (let r = 0; r < rows; r++) expect(dense[r], `dense row ${r}`).toBe(densePlain[r] * sw[r]);
      expectClose(m.focalLoss(p, x, { ...opts, weight: w, sampleWeight: sw }), sum(dense) / sum(sw), "float64", "mean, dense targets");
      expectClose(m.focalLoss(p, x, { ...opts, weight: w }), sum(densePlain) / rows, "float64", "mean, dense targets, no sampleWeight");
    });

    it('binary "mean" averages over every element (weight scales the elements, not the divisor)', () => {
      const n = 23;
      const y = Float64Array.from({ length: n }, (_, i) => i % 2);
      const z = logits(u, n, Float64Array);
      const bw = Float64Array.from({ length: n }, () => 2 * u());
      for (const o of [{}, { alpha: 0.25 }, { weight: bw }, { alpha: 0.75, weight: bw, gamma: 0.5 }]) {
        const none = m.binaryFocalLoss(y, z, { ...o, reduction: "none" });
        expectClose(m.binaryFocalLoss(y, z, o), sum(none) / n, "float64", JSON.stringify(Object.keys(o)));
      }
      const none = m.binaryFocalLoss(y, z, { reduction: "none" }),
        weighted = m.binaryFocalLoss(y, z, { weight: bw, reduction: "none" });
      for (let i = 0; i < n; i++) expect(weighted[i], `element ${i}`).toBe(none[i] * bw[i]);
      // 0/1 targets as integers: read as the prediction's floats.
      expect(m.binaryFocalLoss(Int32Array.from(y), z)).toBe(m.binaryFocalLoss(y, z));
    });
  });

  describe(`${name}: option errors`, () => {
    const x = new Float32Array([1, 2, 3, 3, 2, 1]),
      t = new Int32Array([2, 0]);
    const y = new Float32Array([1, 0, 1, 0, 0, 1]);
    const throws = (f: () => unknown, code: string, message: RegExp, label: string) => {
      let thrown: unknown;
      try {
        f();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, label).toMatchObject({ name: "XentError", code });
      expect((thrown as Error).message, label).toMatch(message);
    };
    const focal = (o: Record<string, unknown>) => () => (m.focalLoss as Fn)(t, x, { classes: 3, ...o });
    const binary = (o: Record<string, unknown>) => () => (m.binaryFocalLoss as Fn)(y, x, o);

    it("gamma: negative, NaN, infinite or not a number (INVALID_OPTION)", () => {
      for (const gamma of [-1, -1e-300, NaN, Infinity, -Infinity, "2", null, true]) {
        throws(focal({ gamma }), "INVALID_OPTION", /gamma/, `focalLoss gamma ${String(gamma)}`);
        throws(binary({ gamma }), "INVALID_OPTION", /gamma/, `binaryFocalLoss gamma ${String(gamma)}`);
      }
    });

    it("focalLoss alpha: one per class, or a finite number, never negative (INVALID_WEIGHT)", () => {
      for (const alpha of [[1, 1], [1, 1, 1, 1], [], new Float32Array(2), NaN, Infinity, "0.25", [1, "1", 1], -1, -1e-300, [1, -1, 1]]) {
        throws(focal({ alpha }), "INVALID_WEIGHT", /alpha/, `alpha ${JSON.stringify(alpha) ?? String(alpha)}`);
      }
    });

    it("binaryFocalLoss alpha: a number in [0, 1] (INVALID_OPTION)", () => {
      for (const alpha of [-0.1, 1.5, NaN, Infinity, "0.25", [0.25], null]) {
        throws(binary({ alpha }), "INVALID_OPTION", /alpha/, `alpha ${String(alpha)}`);
      }
    });

    it("focalLoss: dense targets are probabilities; a target side given as logits or logprobs is refused (INVALID_OPTION)", () => {
      const dense = new Float32Array([0.2, 0.3, 0.5, 1, 0, 0]);
      for (const p of ["logits", "logprobs"]) {
        throws(
          () => (m.focalLoss as Fn)(dense, x, { classes: 3, from: { p, q: "logits" } }),
          "INVALID_OPTION",
          /dense targets/,
          `from.p ${p}`,
        );
      }
      expect((m.focalLoss as Fn)(dense, x, { classes: 3, from: { p: "probs", q: "logits" } })).toBe(
        (m.focalLoss as Fn)(dense, x, { classes: 3 }),
      );
    });

    it('binaryFocalLoss from: "logits" or "probs" only (INVALID_OPTION)', () => {
      throws(binary({ from: "logprobs" }), "INVALID_OPTION", /from/, "logprobs");
      throws(binary({ from: "odds" }), "INVALID_OPTION", /from/, "odds");
      throws(binary({ from: { q: "probs" } }), "INVALID_OPTION", /from/, "an object");
    });

    it("unknown options (UNKNOWN_OPTION): eps, temperature and typos for focalLoss; classes, posWeight, labelSmoothing for binaryFocalLoss", () => {
      for (const name of ["eps", "temperature", "gama", "Alpha", "posWeight"])
        throws(focal({ [name]: 1 }), "UNKNOWN_OPTION", new RegExp(`"${name}"`), `focalLoss ${name}`);
      for (const name of ["classes", "posWeight", "labelSmoothing", "ignoreIndex", "sampleWeight", "gama"]) {
        throws(binary({ [name]: 1 }), "UNKNOWN_OPTION", new RegExp(`"${name}"`), `binaryFocalLoss ${name}`);
      }
    });

    it("the options of crossEntropy are checked as there", () => {
      throws(focal({ labelSmoothing: 1.5 }), "INVALID_OPTION", /labelSmoothing/, "labelSmoothing");
      throws(focal({ reduction: "batchmean" }), "INVALID_OPTION", /reduction/, "reduction");
      throws(focal({ weight: [1, 1] }), "INVALID_WEIGHT", /weight/, "weight");
      throws(() => (m.focalLoss as Fn)(new Int32Array([2, 3]), x, { classes: 3 }), "INVALID_INDEX", /target\[1\]/, "index");
      throws(() => (m.focalLoss as Fn)(x, t), "ARGUMENT_ORDER", /truth comes first/, "order");
      throws(binary({ weight: [1, 2] }), "INVALID_WEIGHT", /weight/, "binary weight");
      throws(() => (m.binaryFocalLoss as Fn)(y.subarray(1), x), "SHAPE_MISMATCH", /length/, "binary lengths");
    });
  });
}
