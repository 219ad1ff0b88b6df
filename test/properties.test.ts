// Properties every engine must keep, on random inputs drawn by fast-check:
// KL(P||P) = 0, KL >= 0, H(P, Q) = H(P) + KL(P||Q), invariance under permuting classes, and the
// same result however rows are batched.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ENGINES } from "./helpers/engines.js";
import type { Float } from "./helpers/data.js";

/** A rows x classes batch of probability rows (with exact zeros) and logits, as float64 numbers. */
const batch = fc
  .record({ rows: fc.integer({ min: 1, max: 6 }), classes: fc.integer({ min: 1, max: 70 }), seed: fc.integer() })
  .chain(({ rows, classes }) =>
    fc.record({
      rows: fc.constant(rows),
      classes: fc.constant(classes),
      a: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 10, noNaN: true })), {
        minLength: rows * classes,
        maxLength: rows * classes,
      }),
      b: fc.array(fc.double({ min: 1e-6, max: 10, noNaN: true }), { minLength: rows * classes, maxLength: rows * classes }),
      x: fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: rows * classes, maxLength: rows * classes }),
      perm: fc.shuffledSubarray([...Array(classes).keys()], { minLength: classes, maxLength: classes }),
    }),
  );

/** Normalised rows (a row of zeros becomes uniform). */
function normalise(v: number[], rows: number, classes: number, T: Float) {
  const out = new T(v.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < classes; k++) s += v[r * classes + k];
    for (let k = 0; k < classes; k++) out[r * classes + k] = s > 0 ? v[r * classes + k] / s : 1 / classes;
  }
  return out;
}

function permuteRows<T extends Float32Array | Float64Array>(a: T, rows: number, classes: number, perm: number[]): T {
  const out = a.slice() as T;
  for (let r = 0; r < rows; r++) for (let k = 0; k < classes; k++) out[r * classes + k] = a[r * classes + perm[k]];
  return out;
}

const RUNS = { numRuns: 60, seed: 20261127 };

for (const [name, m] of Object.entries(ENGINES)) {
  for (const T of [Float32Array, Float64Array] as Float[]) {
    const f32 = T === Float32Array;
    // Absolute slack for identities between separately rounded results: the contract's absolute
    // term, scaled by the size of the values involved.
    const tol = (scale: number) => (f32 ? 1e-6 * scale + 1e-7 : 1e-12 * scale + 1e-13);
    describe(`properties on ${name}, ${T.name}`, () => {
      it("KL(P||P) = 0, for probabilities and for logits", () => {
        fc.assert(
          fc.property(batch, ({ rows, classes, a, x }) => {
            const p = normalise(a, rows, classes, T),
              l = T.from(x);
            expect(Math.abs(m.klDivergence(p, p, { classes }))).toBeLessThanOrEqual(tol(1));
            expect(Math.abs(m.klDivergence(l, l, { classes, from: "logits" }))).toBeLessThanOrEqual(tol(1));
          }),
          RUNS,
        );
      });

      it("KL(P||Q) >= 0", () => {
        fc.assert(
          fc.property(batch, ({ rows, classes, a, b, x }) => {
            const p = normalise(a, rows, classes, T),
              q = normalise(b, rows, classes, T);
            expect(m.klDivergence(p, q, { classes })).toBeGreaterThanOrEqual(-tol(1));
            const y = T.from(x, (v, i) => v + b[i]);
            expect(m.klDivergence(T.from(x), y, { classes, from: "logits", temperature: 1.5 })).toBeGreaterThanOrEqual(-tol(1));
          }),
          RUNS,
        );
      });

      it("H(P, Q) = H(P) + KL(P||Q)", () => {
        fc.assert(
          fc.property(batch, ({ rows, classes, a, b }) => {
            const p = normalise(a, rows, classes, T),
              q = normalise(b, rows, classes, T);
            const h = m.crossEntropy(p, q, { classes, from: "probs" });
            const sum = m.entropy(p, { classes }) + m.klDivergence(p, q, { classes });
            expect(Math.abs(h - sum)).toBeLessThanOrEqual(tol(Math.abs(h)) * 3);
          }),
          RUNS,
        );
      });

      it("invariant under permuting classes", () => {
        fc.assert(
          fc.property(batch, ({ rows, classes, a, b, x, perm }) => {
            const p = normalise(a, rows, classes, T),
              q = normalise(b, rows, classes, T),
              l = T.from(x);
            const P = permuteRows(p, rows, classes, perm),
              Q = permuteRows(q, rows, classes, perm),
              L = permuteRows(l, rows, classes, perm);
            const close = (u: number, v: number) => expect(Math.abs(u - v)).toBeLessThanOrEqual(2 * tol(Math.abs(v)));
            close(m.klDivergence(P, Q, { classes }), m.klDivergence(p, q, { classes }));
            close(m.entropy(P, { classes }), m.entropy(p, { classes }));
            close(m.crossEntropy(P, L, { classes }), m.crossEntropy(p, l, { classes }));
            close(m.jensenShannon(P, Q, { classes }), m.jensenShannon(p, q, { classes }));
          }),
          RUNS,
        );
      });

      it("the same result however rows are batched", () => {
        fc.assert(
          fc.property(batch, fc.nat(), ({ rows, classes, a, x }, cut) => {
            const p = normalise(a, rows, classes, T),
              l = T.from(x);
            const at = (cut % (rows + 1)) * classes;
            const whole = m.crossEntropy(p, l, { classes, reduction: "sum" });
            const parts =
              (at > 0 ? m.crossEntropy(p.subarray(0, at), l.subarray(0, at), { classes, reduction: "sum" }) : 0) +
              (at < p.length ? m.crossEntropy(p.subarray(at), l.subarray(at), { classes, reduction: "sum" }) : 0);
            expect(Math.abs(whole - parts)).toBeLessThanOrEqual(tol(Math.abs(whole)));
            // Per-row values do not depend on the batch at all.
            const rowsWhole = m.klDivergence(
              l,
              l.map((v) => -v),
              { classes, from: "logits", reduction: "none" },
            );
            const rowsPart = m.klDivergence(
              l.subarray(at),
              l.subarray(at).map((v) => -v),
              { classes, from: "logits", reduction: "none" },
            );
            expect(Array.from(rowsPart)).toEqual(Array.from(rowsWhole.subarray(at / classes)));
          }),
          RUNS,
        );
      });
    });
  }
}
