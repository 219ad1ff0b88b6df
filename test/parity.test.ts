// Parity: the SIMD and scalar modules against the reference (the definition), on row lengths
// that hit every SIMD tail, chunk boundaries of the copy-in path, and extreme values.
// Tolerance is the accuracy contract (float32 inputs 1e-6 rel + 1e-7 abs; float64 1e-12 + 1e-13;
// NaN and infinities exact).
import { describe, it } from "vitest";
import { ENGINES, type Measures } from "./helpers/engines.js";
import { expectAllClose } from "./helpers/oracle.js";
import { rng, logits, probs, labels, sprinkle, type Float } from "./helpers/data.js";

const CLASSES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 1023, 1024, 1025, 100_000];
const TYPES: Array<[string, Float]> = [
  ["f32", Float32Array],
  ["f64", Float64Array],
];
const ref = ENGINES.js;

function rowsFor(classes: number): number {
  return classes >= 100_000 ? 2 : classes >= 1000 ? 3 : 5;
}

type Case = (m: Measures) => ArrayLike<number>;

/** Every measure and mode, with reduction "none" so that each row is compared. */
function cases(classes: number, T: Float, seed: number, extreme: boolean): Array<[string, Case]> {
  const u = rng(seed);
  const rows = rowsFor(classes);
  const n = rows * classes;
  const x = logits(u, n, T),
    y = logits(u, n, T);
  if (extreme) {
    sprinkle(u, x, [-Infinity, 1e4, -1e4, 0], 0.05);
    sprinkle(u, y, [-Infinity, 1e4, -1e4, 0], 0.05);
  }
  const p = probs(u, rows, classes, T, extreme ? 0.2 : 0),
    q = probs(u, rows, classes, T, extreme ? 0.05 : 0);
  const lp = T.from(p, Math.log),
    lq = T.from(q, Math.log);
  const t = labels(u, rows, classes);
  const w = T.from({ length: classes }, () => 0.5 + u());
  const none = { classes, reduction: "none" as const };
  return [
    ["crossEntropy index logits", (m) => m.crossEntropy(t, x, none)],
    ["crossEntropy index logprobs", (m) => m.crossEntropy(t, lq, { ...none, from: "logprobs" })],
    ["crossEntropy index probs eps", (m) => m.crossEntropy(t, q, { ...none, from: "probs", eps: 1e-7 })],
    ["crossEntropy index logits weight labelSmoothing", (m) => m.crossEntropy(t, x, { ...none, weight: w, labelSmoothing: 0.1 })],
    ["crossEntropy dense logits", (m) => m.crossEntropy(p, x, none)],
    ["crossEntropy dense logits weight labelSmoothing", (m) => m.crossEntropy(p, x, { ...none, weight: w, labelSmoothing: 0.2 })],
    ["crossEntropy dense probs", (m) => m.crossEntropy(p, q, { ...none, from: "probs" })],
    ["crossEntropy dense logprobs", (m) => m.crossEntropy(p, lq, { ...none, from: "logprobs" })],
    ["crossEntropy dense, target logits", (m) => m.crossEntropy(y, x, { ...none, from: { p: "logits", q: "logits" } })],
    ["klDivergence logits", (m) => m.klDivergence(x, y, { ...none, from: "logits" })],
    ["klDivergence logits T=2.5", (m) => m.klDivergence(x, y, { ...none, from: "logits", temperature: 2.5 })],
    ["klDivergence probs", (m) => m.klDivergence(p, q, none)],
    [
      "klDivergence probs normalize",
      (m) =>
        m.klDivergence(
          T.from(p, (v) => 7 * v),
          q,
          { ...none, normalize: true },
        ),
    ],
    ["klDivergence logprobs", (m) => m.klDivergence(lp, lq, { ...none, from: "logprobs" })],
    ["klDivergence logits || probs", (m) => m.klDivergence(x, q, { ...none, from: { p: "logits", q: "probs" } })],
    ["jensenShannon probs", (m) => m.jensenShannon(p, q, none)],
    ["jensenShannon logits", (m) => m.jensenShannon(x, y, { ...none, from: "logits" })],
    ["entropy probs", (m) => m.entropy(p, none)],
    [
      "entropy probs normalize",
      (m) =>
        m.entropy(
          T.from(p, (v) => 3 * v),
          { ...none, normalize: true },
        ),
    ],
    ["entropy logits T=0.5", (m) => m.entropy(x, { ...none, from: "logits", temperature: 0.5 })],
    ["entropy logprobs", (m) => m.entropy(lp, { ...none, from: "logprobs" })],
    ["binaryCrossEntropy probs", (m) => m.binaryCrossEntropy(p, q, { reduction: "none" })],
    ["binaryCrossEntropy logits posWeight", (m) => m.binaryCrossEntropy(p, x, { reduction: "none", classes, posWeight: w })],
  ];
}

for (const engine of ["wasm-simd", "wasm"] as const) {
  describe(`parity ${engine} vs reference`, () => {
    for (const [tname, T] of TYPES) {
      for (const extreme of [false, true]) {
        for (const classes of CLASSES) {
          it(`${tname} K=${classes}${extreme ? " with -inf, +-1e4, zeros" : ""}`, () => {
            for (const [name, run] of cases(classes, T, classes * 7 + (extreme ? 1 : 0), extreme)) {
              expectAllClose(run(ENGINES[engine]), run(ref), tname === "f32" ? "float32" : "float64", `${name} K=${classes}`);
            }
          });
        }
      }
    }

    it("many rows: the copy-in path's chunk boundaries (f32 K=10 x 40000 rows, K=3000 x 50)", () => {
      for (const [rows, classes] of [
        [40_000, 10],
        [50, 3000],
      ]) {
        const u = rng(rows);
        const x = logits(u, rows * classes, Float32Array),
          y = logits(u, rows * classes, Float32Array);
        const t = labels(u, rows, classes);
        const none = { classes, reduction: "none" as const };
        expectAllClose(ENGINES[engine].crossEntropy(t, x, none), ref.crossEntropy(t, x, none), "float32", "crossEntropy");
        expectAllClose(
          ENGINES[engine].klDivergence(x, y, { ...none, from: "logits" }),
          ref.klDivergence(x, y, { ...none, from: "logits" }),
          "float32",
          "kl",
        );
      }
    });

    it("mixed float32 / float64 inputs are computed in float64", () => {
      const u = rng(5);
      const p = probs(u, 4, 33, Float32Array),
        q = probs(u, 4, 33, Float64Array);
      const none = { classes: 33, reduction: "none" as const };
      expectAllClose(ENGINES[engine].klDivergence(p, q, none), ref.klDivergence(p, q, none), "float64", "kl f32||f64");
    });
  });
}
