// The boundary: zero-copy arrays in the module's memory, what growth does to views, rows larger
// than the scratch slots, and inputs that are views into larger or shared buffers.
import { beforeAll, describe, expect, it } from "vitest";
import * as xent from "../src/index.js";
import * as reference from "../src/reference/index.js";
import { currentEngine } from "../src/engine/init.js";
import type { WasmEngine } from "../src/engine/wasm.js";
import { rng, logits, labels } from "./helpers/data.js";

beforeAll(async () => {
  await xent.init();
});

const memory = () => (currentEngine() as WasmEngine).exports.memory;

describe("zero-copy", () => {
  it("WasmArray views live in the module's memory and give the same results as copies", () => {
    const rows = 64,
      classes = 1000;
    const u = rng(1);
    const x = logits(u, rows * classes, Float32Array),
      y = logits(u, rows * classes, Float32Array);
    const t = labels(u, rows, classes);
    const X = xent.allocate(Float32Array, x.length),
      Y = xent.allocate(Float32Array, y.length);
    X.view.set(x);
    Y.view.set(y);
    expect(X.view.buffer).toBe(memory().buffer);
    const opts = { classes, reduction: "none" as const };
    expect(Array.from(xent.crossEntropy(t, X.view, opts))).toEqual(Array.from(xent.crossEntropy(t, x, opts)));
    expect(Array.from(xent.crossEntropy(t, X, opts))).toEqual(Array.from(xent.crossEntropy(t, x, opts)));
    const kl = { ...opts, from: "logits" as const, temperature: 2 };
    expect(Array.from(xent.klDivergence(X, Y, kl))).toEqual(Array.from(xent.klDivergence(x, y, kl)));
    // One side in memory, the other copied.
    expect(Array.from(xent.klDivergence(X, y, kl))).toEqual(Array.from(xent.klDivergence(x, y, kl)));
    X.free();
    Y.free();
  });

  it("a measure does not grow memory for ordinary arrays, however many rows", () => {
    const before = memory().buffer;
    const u = rng(2);
    const x = logits(u, 200_000 * 10, Float32Array);
    const t = labels(u, 200_000, 10);
    xent.crossEntropy(t, x, { classes: 10 });
    expect(memory().buffer).toBe(before);
  });

  it("growth detaches old views; WasmArray.view gives a live one", () => {
    const A = xent.allocate(Float64Array, 4);
    const old = A.view;
    old.set([0.1, 0.2, 0.3, 0.4]);
    const big = xent.allocate(Float32Array, 8 << 20); // 32 MiB: forces growth
    expect(old.length).toBe(0); // detached: the trap this API exists to avoid
    expect(Array.from(A.view)).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(() => xent.entropy(old)).toThrow(expect.objectContaining({ code: "INVALID_TYPE" }));
    expect(xent.entropy(A, { normalize: true })).toBeCloseTo(reference.entropy([0.1, 0.2, 0.3, 0.4]), 12);
    big.free();
    A.free();
    expect(() => A.view).toThrow(/freed/);
  });

  it("freed blocks are reused", () => {
    const a = xent.allocate(Float32Array, 1000);
    const at = a.ptr;
    a.free();
    const b = xent.allocate(Float32Array, 500);
    expect(b.ptr).toBe(at);
    b.free();
  });
});

describe("memory stays put where a measure's chunks fit the scratch region", () => {
  it("binaryCrossEntropy with one huge row of classes (600000 float64 elements, zero-copy): no growth, the reference's value", () => {
    const n = 600000;
    const Y = xent.allocate(Float64Array, n),
      X = xent.allocate(Float64Array, n);
    for (let i = 0; i < n; i++) {
      Y.view[i] = (i % 3) / 2;
      X.view[i] = Math.sin(i);
    }
    const view = Y.view; // detached if the measure grew memory
    const o = { classes: n, reduction: "sum", from: "logits" } as const;
    const got = xent.binaryCrossEntropy(Y.view, X.view, o);
    expect(view.length).toBe(n);
    expect(got).toBeCloseTo(reference.binaryCrossEntropy(Y.view, X.view, o), 6);
    Y.free();
    X.free();
  });

  it("float32 per-class weights of a 1 MiB row are staged as float32 (crossEntropyWithGrad, 262144 classes): no growth", () => {
    const K = 262144,
      u = rng(7);
    const x = logits(u, K, Float32Array) as Float32Array;
    const y = new Float32Array(K).fill(1 / K),
      w = new Float32Array(K).fill(0.5);
    const keep = xent.allocate(Float32Array, 16),
      view = keep.view;
    const { loss } = xent.crossEntropyWithGrad(y, x, { weight: w });
    expect(view.length).toBe(16); // not detached: memory did not grow
    expect(loss).toBeCloseTo(reference.crossEntropyWithGrad(y, x, { weight: w }).loss, 5);
    keep.free();
  });

  it("a row larger than the region, passed in place (1.2M float32 logits from allocate): the region grows, the input is read where it was", () => {
    const n = 1200000;
    const P = xent.allocate(Float32Array, n);
    for (let i = 0; i < n; i++) P.view[i] = Math.sin(i) * 3;
    const Q = Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 3);
    const got = xent.klDivergence(P.view, Q, { from: "logits" });
    const want = reference.klDivergence(P.view, Q, { from: "logits" });
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * want + 1e-7);
    P.free();
  });
});

describe("inputs of every shape of buffer", () => {
  it("rows larger than the 1 MiB scratch slots (300000 float32 classes)", () => {
    const classes = 300_000;
    const u = rng(3);
    const x = logits(u, 2 * classes, Float32Array),
      y = logits(u, 2 * classes, Float32Array);
    const t = new Int32Array([5, classes - 1]);
    const opts = { classes, reduction: "none" as const };
    const got = xent.crossEntropy(t, x, opts),
      want = reference.crossEntropy(t, x, opts);
    for (let r = 0; r < 2; r++) expect(Math.abs(got[r] - want[r])).toBeLessThanOrEqual(1e-6 * want[r] + 1e-7);
    const kl = xent.klDivergence(x, y, { classes, from: "logits" }),
      klRef = reference.klDivergence(x, y, { classes, from: "logits" });
    expect(Math.abs(kl - klRef)).toBeLessThanOrEqual(1e-6 * klRef + 1e-7);
  });

  it("views with an offset into a larger buffer", () => {
    const buffer = new ArrayBuffer(4 * 100);
    const x = new Float32Array(buffer, 4 * 7, 30);
    x.set(logits(rng(4), 30, Float32Array));
    const t = new Int32Array([1, 2, 3]);
    expect(xent.crossEntropy(t, x)).toBeCloseTo(reference.crossEntropy(t, x), 6);
  });

  it("SharedArrayBuffer-backed arrays", () => {
    const x = new Float32Array(new SharedArrayBuffer(4 * 30));
    x.set(logits(rng(5), 30, Float32Array));
    const t = new Int32Array(new SharedArrayBuffer(4 * 3));
    t.set([1, 2, 3]);
    expect(xent.crossEntropy(t, x)).toBeCloseTo(reference.crossEntropy(t, x), 6);
  });

  it("number[] inputs are read as float64", () => {
    const want = reference.klDivergence(new Float64Array([0.5, 0.5]), new Float64Array([0.9, 0.1]));
    expect(Math.abs(xent.klDivergence([0.5, 0.5], [0.9, 0.1]) - want)).toBeLessThanOrEqual(1e-12 * want);
  });
});
