// evaluate() and Evaluator: the digits example against PyTorch / scikit-learn, every engine against
// the reference, ties, and invariance to batching, sharding, merge order and JSON round trips.
import { describe, expect, it, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import * as xent from "../src/index.js";
import { ENGINES } from "./helpers/engines.js";
import { expectClose } from "./helpers/oracle.js";
import { rng, logits as randomLogits, labels as randomLabels } from "./helpers/data.js";

/** A minimal .npy reader for the example files (the CLI has the full one). */
function npy(name: string): { data: Float32Array | Int32Array; shape: number[] } {
  const b = readFileSync(new URL(`../examples/digits/${name}`, import.meta.url));
  const len = b.readUInt16LE(8),
    header = b.toString("latin1", 10, 10 + len);
  const shape = /\(([^)]*)\)/
    .exec(header)![1]
    .split(",")
    .filter((s) => s.trim())
    .map(Number);
  const body = b.buffer.slice(b.byteOffset + 10 + len, b.byteOffset + b.length);
  return { data: header.includes("<f4") ? new Float32Array(body) : new Int32Array(body), shape };
}

beforeAll(async () => {
  await xent.init();
});

const ev = (name: keyof typeof ENGINES) => ENGINES[name];

describe("evaluate on the digits example (PyTorch 1.13 / scikit-learn 1.2.1 values)", () => {
  const expected = JSON.parse(readFileSync(new URL("../examples/digits/expected.json", import.meta.url), "utf8"));
  const labels = npy("labels.npy").data as Int32Array;
  for (const engine of ["wasm-simd", "wasm", "js"] as const) {
    for (const model of ["student", "teacher"] as const) {
      it(`${model} on ${engine}`, () => {
        const x = npy(`${model}_logits.npy`).data as Float32Array;
        const r = ev(engine).evaluate(labels, x, { classes: 10, topK: [1, 3] });
        const e = expected[model];
        expect(r.rows).toBe(809);
        expectClose(r.crossEntropy, e.cross_entropy_mean_torch, "float32", "crossEntropy");
        expectClose(r.perplexity, e.perplexity, "float32", "perplexity");
        expect(r.accuracy).toBe(e.accuracy_top1);
        expect(r.topK[1]).toBe(e.accuracy_top1);
        expect(r.topK[3]).toBe(e.accuracy_top3);
        expectClose(r.entropy, e.mean_entropy_of_prediction, "float32", "entropy");
      });
    }
  }
});

describe("evaluate semantics", () => {
  it("equals the separate measures, on every engine", () => {
    const u = rng(11);
    for (const [rows, classes] of [
      [50, 7],
      [9, 1025],
      [3, 40000],
    ]) {
      const x = randomLogits(u, rows * classes, Float32Array),
        t = randomLabels(u, rows, classes);
      t[1] = -100;
      for (const engine of ["wasm-simd", "wasm", "js"] as const) {
        const r = ev(engine).evaluate(t, x, { classes, topK: [1, 5] });
        const keep = Array.from(t)
          .map((v, i) => [v, i])
          .filter(([v]) => v >= 0);
        expect(r.rows).toBe(keep.length);
        expectClose(r.crossEntropy, ENGINES.js.crossEntropy(t, x, { classes }), "float32", "ce");
        const rowsKept = new Float32Array(keep.flatMap(([, i]) => Array.from(x.subarray(i * classes, (i + 1) * classes))));
        expectClose(r.entropy, ENGINES.js.entropy(rowsKept, { classes, from: "logits" }), "float32", "entropy");
        // Top-k by sorting, ties to the smaller index.
        for (const k of [1, 5]) {
          let hits = 0;
          for (const [v, i] of keep) {
            const row = Array.from(x.subarray(i * classes, (i + 1) * classes)).map((val, j) => [val, j]);
            row.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
            if (row.slice(0, k).some(([, j]) => j === v)) hits++;
          }
          expect(r.topK[k]).toBe(hits / keep.length);
        }
      }
    }
  });

  it("ties go to the smaller index; non-finite rows are never hits", () => {
    const e = ev("wasm-simd");
    expect(e.evaluate([0, 1, 2], new Float32Array(9).fill(1), { classes: 3 }).accuracy).toBeCloseTo(1 / 3, 15);
    const r = e.evaluate([0, 0, 1], new Float32Array([NaN, 0, 0, Infinity, 0, 0, 5, 5, 0]), { classes: 3, topK: [1, 2] });
    expect(r.topK[2]).toBeCloseTo(1 / 3, 15); // rows 0, 1 not finite; row 2: label 1 ties label 0, rank 1
    expect(r.crossEntropy).toBeNaN();
  });

  it("weight gives PyTorch's weighted mean cross-entropy; ignoreIndex leaves rows out", () => {
    const u = rng(3);
    const x = randomLogits(u, 20 * 4, Float64Array),
      t = randomLabels(u, 20, 4);
    t[0] = 2;
    t[5] = 7;
    const weight = [0.5, 1, 2, 3];
    const r = ev("wasm-simd").evaluate(t, x, { classes: 4, weight, ignoreIndex: 7 });
    expectClose(r.crossEntropy, ENGINES.js.crossEntropy(t, x, { classes: 4, weight, ignoreIndex: 7 }), "float64", "weighted");
    expect(r.rows).toBe(19);
  });

  it("no rows: NaN figures; bad input: XentError codes", () => {
    const r = new xent.Evaluator({ classes: 3 }).result();
    expect(r.rows).toBe(0);
    expect(r.crossEntropy).toBeNaN();
    expect(() => xent.evaluate(new Float32Array(6) as never, new Int32Array(2) as never)).toThrow(
      expect.objectContaining({ code: "ARGUMENT_ORDER" }),
    );
    expect(() => xent.evaluate([0, 3], new Float32Array(6))).toThrow(expect.objectContaining({ code: "INVALID_INDEX" }));
    expect(() => xent.evaluate([0, 1], new Float32Array(6), { topK: [0] })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    expect(() => new xent.Evaluator({ classes: 3 }).update([0], new Float32Array(4))).toThrow(
      expect.objectContaining({ code: "SHAPE_MISMATCH" }),
    );
    expect(() => xent.Evaluator.fromJSON({ format: "other" } as never)).toThrow(expect.objectContaining({ code: "INVALID_TYPE" }));
    expect(() => new xent.Evaluator({ classes: 3 }).merge(new xent.Evaluator({ classes: 4 }))).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });
});

describe("Evaluator: the result does not depend on batching, sharding or merge order", () => {
  const { Evaluator } = ev("wasm-simd");
  const rows = 600,
    classes = 37;
  const u = rng(21);
  const x = randomLogits(u, rows * classes, Float32Array),
    t = randomLabels(u, rows, classes);
  const whole = new Evaluator({ classes, topK: [1, 5] }).update(t, x).result();
  const close = (a: xent.EvaluateResult, b: xent.EvaluateResult) => {
    expect(a.rows).toBe(b.rows);
    expect(a.topK).toEqual(b.topK);
    for (const key of ["crossEntropy", "perplexity", "entropy"] as const) {
      expect(Math.abs(a[key] - b[key])).toBeLessThanOrEqual(1e-12 * Math.abs(b[key]));
    }
  };

  it("any split into batches, any split into shards, any merge order, through JSON", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: rows - 1 }), { maxLength: 12 }), fc.nat(), fc.boolean(), (cutsRaw, seed, viaJson) => {
        const cuts = [0, ...new Set(cutsRaw)].sort((a, b) => a - b).concat(rows);
        const shards = [];
        for (let i = 0; i + 1 < cuts.length; i++) {
          const e = new Evaluator({ classes, topK: [1, 5] });
          const [a, b] = [cuts[i], cuts[i + 1]];
          // Each shard itself in two batches.
          const mid = a + ((b - a) >> 1);
          e.update(t.subarray(a, mid), x.subarray(a * classes, mid * classes));
          e.update(t.subarray(mid, b), x.subarray(mid * classes, b * classes));
          shards.push(viaJson ? Evaluator.fromJSON(JSON.stringify(e)) : e);
        }
        const order = shards
          .map((s, i) => [s, (i * 7919 + seed) % 1000] as const)
          .sort((p, q) => p[1] - q[1])
          .map(([s]) => s);
        const total = order.reduce((acc, s) => acc.merge(s), new Evaluator({ classes, topK: [1, 5] }));
        close(total.result(), whole);
      }),
      { numRuns: 50, seed: 7 },
    );
  });

  it("NaN and infinities survive the JSON state", () => {
    const e = new Evaluator({ classes: 2 }).update([0], new Float32Array([-Infinity, 0]));
    const back = Evaluator.fromJSON(JSON.parse(JSON.stringify(e)));
    expect(back.result().crossEntropy).toBe(Infinity);
  });
});
