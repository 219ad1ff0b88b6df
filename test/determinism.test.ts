// Determinism of the SIMD engine: the same inputs give bit-identical results on every run, through
// the copy-in and the zero-copy paths, and each row's value does not depend on which rows share its
// call (so internal chunking cannot change a result). Reductions sum per-row values in row order.
import { beforeAll, describe, expect, it } from "vitest";
import * as xent from "../src/index.js";
import { rng, logits, labels } from "./helpers/data.js";

beforeAll(async () => {
  await xent.init();
});

describe("determinism", () => {
  const rows = 3000,
    classes = 333;
  const u = rng(99);
  const x = logits(u, rows * classes, Float32Array) as Float32Array,
    y = logits(u, rows * classes, Float32Array) as Float32Array;
  const t = labels(u, rows, classes);
  const none = { classes, reduction: "none" as const };

  it("repeated runs are bit-identical", () => {
    const a = xent.klDivergence(x, y, { ...none, from: "logits" });
    for (let i = 0; i < 5; i++) expect(xent.klDivergence(x, y, { ...none, from: "logits" })).toEqual(a);
    const m = xent.crossEntropy(t, x, { classes });
    for (let i = 0; i < 5; i++) expect(Object.is(xent.crossEntropy(t, x, { classes }), m)).toBe(true);
  });

  it("copy-in and zero-copy are bit-identical", () => {
    const X = xent.allocate(Float32Array, x.length);
    X.view.set(x);
    expect(xent.crossEntropy(t, X, none)).toEqual(xent.crossEntropy(t, x, none));
    expect(Object.is(xent.evaluate(t, X, { classes }).crossEntropy, xent.evaluate(t, x, { classes }).crossEntropy)).toBe(true);
    X.free();
  });

  it("a row's value does not depend on the rows around it", () => {
    const whole = xent.crossEntropy(t, x, none);
    for (const [a, b] of [
      [0, 1],
      [17, 2048],
      [1234, 3000],
    ]) {
      const part = xent.crossEntropy(t.subarray(a, b), x.subarray(a * classes, b * classes), none);
      expect(Array.from(part)).toEqual(Array.from(whole.subarray(a, b)));
    }
  });

  it("short rows (the four-rows-per-vector kernels, classes <= 16) do not depend on their group of four", () => {
    for (const k of [1, 2, 3, 5, 10, 16, 17]) {
      const n = 11,
        u2 = rng(k);
      const xs = logits(u2, n * k, Float32Array) as Float32Array,
        ys = logits(u2, n * k, Float32Array) as Float32Array;
      const ts = labels(u2, n, k);
      const o = { classes: k, reduction: "none" as const };
      const ce = xent.crossEntropy(ts, xs, o),
        kl = xent.klDivergence(xs, ys, { ...o, from: "logits" });
      expect(ce.every(Number.isFinite) && kl.every(Number.isFinite)).toBe(true);
      // Every window of rows, so each row sits in each lane of a group, and alone in a last group.
      for (let a = 0; a < n; a++) {
        for (let b = a + 1; b <= n; b++) {
          expect(
            Array.from(xent.crossEntropy(ts.subarray(a, b), xs.subarray(a * k, b * k), o)),
            `ce ${k} classes, rows ${a}..${b}`,
          ).toEqual(Array.from(ce.subarray(a, b)));
          expect(
            Array.from(xent.klDivergence(xs.subarray(a * k, b * k), ys.subarray(a * k, b * k), { ...o, from: "logits" })),
            `kl ${k} classes, rows ${a}..${b}`,
          ).toEqual(Array.from(kl.subarray(a, b)));
        }
      }
    }
  });
});
