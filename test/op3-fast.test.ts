// crossEntropy(targets, probs, { from: "probs" }) on the SIMD module's fast row (ceProbsRowF32 in
// assembly/kernels/cross-entropy.ts) and on the rows it declines: it takes a row only when every target is
// a non-negative finite float and every probability a normal float in [2^-126, 1], checked on the
// bit patterns. Each row below sits on one side of one of those edges, at row lengths that reach
// every tail of its 8-wide loop; every row must match the reference within the accuracy contract
// (float32: 1e-6 relative + 1e-7 absolute; NaN and infinities exact).
import { describe, expect, it } from "vitest";
import { ENGINES } from "./helpers/engines.js";
import { expectAllClose } from "./helpers/oracle.js";
import { rng, probs } from "./helpers/data.js";

const F32_MIN_NORMAL = 2 ** -126;
const BELOW_ONE = Math.fround(1 - 2 ** -24),
  ABOVE_ONE = Math.fround(1 + 2 ** -23);
const SUBNORMAL = Math.fround(2 ** -127);
const F32_MAX = Math.fround(3.4028234663852886e38);

/** One edge: the value put at class `at` of the targets or of the probabilities. */
const EDGES: Array<[string, "t" | "q", number]> = [
  ["q = 2^-126 (the smallest accepted)", "q", F32_MIN_NORMAL],
  ["q subnormal (declined)", "q", SUBNORMAL],
  ["q = 0 (declined)", "q", 0],
  ["q = -0 (declined)", "q", -0],
  ["q = 1 (accepted)", "q", 1],
  ["q just below 1", "q", BELOW_ONE],
  ["q just above 1 (declined)", "q", ABOVE_ONE],
  ["q = 2 (declined: a negative term)", "q", 2],
  ["q = +inf (declined)", "q", Infinity],
  ["q = NaN (declined)", "q", NaN],
  ["q negative (declined)", "q", -0.25],
  ["t = 0", "t", 0],
  ["t = -0 (declined)", "t", -0],
  ["t negative (declined)", "t", -0.5],
  ["t subnormal", "t", SUBNORMAL],
  ["t = largest float32 (the product overflows: the f64 path)", "t", F32_MAX],
  ["t = +inf (declined)", "t", Infinity],
  ["t = NaN (declined)", "t", NaN],
];

const CLASSES = [1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 63, 64, 65, 71, 72, 73, 1000, 4099];
const simd = ENGINES["wasm-simd"],
  ref = ENGINES.js;

describe("crossEntropy from probs: the SIMD fast row and the rows it declines", () => {
  for (const classes of CLASSES) {
    it(`${classes} classes: ${EDGES.length} edge rows and a plain row`, () => {
      const u = rng(classes);
      const rows = EDGES.length + 1;
      const t = probs(u, rows, classes, Float32Array) as Float32Array;
      const q = probs(u, rows, classes, Float32Array) as Float32Array;
      EDGES.forEach(([, which, v], r) => {
        const at = r * classes + Math.floor(u() * classes); // anywhere: the 8-wide loop or the tail
        (which === "t" ? t : q)[at] = v;
      });
      const options = { classes, reduction: "none" as const, from: "probs" as const };
      const got = simd.crossEntropy(t, q, options) as Float64Array;
      const want = ref.crossEntropy(t, q, options) as Float64Array;
      expectAllClose(got, want, "float32", `${classes} classes`);
      // The plain last row is a finite loss (positive beyond one class, where t = q = 1 gives 0); the
      // t = NaN and q = NaN rows are NaN.
      expect(Number.isFinite(got[rows - 1]) && (classes === 1 ? got[rows - 1] === 0 : got[rows - 1] > 0)).toBe(true);
      expect(got[EDGES.findIndex(([n]) => n.startsWith("t = NaN"))]).toBeNaN();
      expect(got[EDGES.findIndex(([n]) => n.startsWith("q = NaN"))]).toBeNaN();
    });
  }

  it("a row of 128256 classes (the Llama 3 vocabulary) with targets summing to 1", () => {
    const u = rng(128256);
    const t = probs(u, 2, 128256, Float32Array),
      q = probs(u, 2, 128256, Float32Array);
    const options = { classes: 128256, reduction: "none" as const, from: "probs" as const };
    expectAllClose(
      simd.crossEntropy(t, q, options) as Float64Array,
      ref.crossEntropy(t, q, options) as Float64Array,
      "float32",
      "128256 classes",
    );
  });
});
