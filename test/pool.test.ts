// createPool(): every measure (binaryCrossEntropy and the focal losses included) and evaluate on 1, 2 and 3 threads give the same bits as the
// single-thread SIMD engine (odd row counts, tails, chunked copies, every option path); zero-copy
// inputs are read in place; close(); the single-thread fallback; concurrent calls on one pool.
import { describe, expect, it, beforeAll, afterAll, vi } from "vitest";
import { readFileSync } from "node:fs";
import binaryen from "binaryen";
import * as xent from "../src/index.js";
import type { Pool } from "../src/index.js";
import { poolStats, KERNELS } from "../src/pool/runner.js";
import { ENGINES } from "./helpers/engines.js";
import { rng, logits, probs, labels, sprinkle } from "./helpers/data.js";

const simd = ENGINES["wasm-simd"];

beforeAll(async () => {
  await xent.init();
});

/** Every number as its float64 bit pattern: equality is bit-for-bit (NaN payloads aside, -0 included). */
function bits(v: unknown): unknown {
  if (typeof v === "number") {
    const d = new DataView(new ArrayBuffer(8));
    d.setFloat64(0, v);
    return Number.isNaN(v) ? "NaN" : d.getBigUint64(0).toString(16);
  }
  if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v, bits);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bits(x)]));
  return v;
}

type M = {
  crossEntropy(...a: unknown[]): unknown;
  klDivergence(...a: unknown[]): unknown;
  jensenShannon(...a: unknown[]): unknown;
  entropy(...a: unknown[]): unknown;
  evaluate(...a: unknown[]): unknown;
  binaryCrossEntropy(...a: unknown[]): unknown;
  focalLoss(...a: unknown[]): unknown;
  binaryFocalLoss(...a: unknown[]): unknown;
};

interface Case {
  name: string;
  run(m: M): unknown;
}

/** The cases: each measure along each path of the engine (kernels, options, types), on `rows` rows. */
function cases(rows: number, classes: number, seed: number): Case[] {
  const u = rng(seed);
  const x32 = sprinkle(u, logits(u, rows * classes, Float32Array), [-Infinity, 40, -40], 0.002) as Float32Array;
  const y32 = logits(u, rows * classes, Float32Array) as Float32Array;
  const x64 = logits(u, rows * classes, Float64Array) as Float64Array;
  const p32 = probs(u, rows, classes, Float32Array, 0.1) as Float32Array;
  const q32 = probs(u, rows, classes, Float32Array) as Float32Array;
  const p64 = probs(u, rows, classes, Float64Array, 0.1) as Float64Array;
  const q64 = probs(u, rows, classes, Float64Array) as Float64Array;
  const t = labels(u, rows, classes);
  const tIgnore = t.map((v, i) => (i % 5 === 2 ? -100 : v));
  const w = Float64Array.from({ length: classes }, () => 0.5 + u());
  const sw = Array.from({ length: rows }, () => u());
  const o = { classes };
  return [
    { name: "crossEntropy labels, logits f32", run: (m) => m.crossEntropy(t, x32, o) },
    {
      name: "crossEntropy ignoreIndex, weight, labelSmoothing, sampleWeight",
      run: (m) => m.crossEntropy(tIgnore, x32, { ...o, weight: w, labelSmoothing: 0.1, sampleWeight: sw }),
    },
    { name: "crossEntropy reduction none, base 2", run: (m) => m.crossEntropy(t, x32, { ...o, reduction: "none", base: 2 }) },
    { name: "crossEntropy sum, logits f64", run: (m) => m.crossEntropy(t, x64, { ...o, reduction: "sum" }) },
    {
      name: "crossEntropy probs with eps (gathered on the calling thread)",
      run: (m) => m.crossEntropy(t, q32, { ...o, from: "probs", eps: 1e-7 }),
    },
    { name: "crossEntropy dense targets f32", run: (m) => m.crossEntropy(p32, x32, o) },
    {
      name: "crossEntropy dense probs, weight (f32 kernel, f64 weights)",
      run: (m) => m.crossEntropy(p32, q32, { ...o, from: "probs", weight: w }),
    },
    { name: "crossEntropy mixed f32 / f64 (f64 kernel)", run: (m) => m.crossEntropy(p64, x32, o) },
    { name: "klDivergence logits f32, temperature", run: (m) => m.klDivergence(x32, y32, { ...o, from: "logits", temperature: 2 }) },
    { name: "klDivergence probs f32 normalize, none", run: (m) => m.klDivergence(p32, q32, { ...o, normalize: true, reduction: "none" }) },
    { name: "klDivergence probs f64", run: (m) => m.klDivergence(p64, q64, o) },
    {
      name: "klDivergence logits f64 / f32 (f64 kernel)",
      run: (m) => m.klDivergence(x64, y32, { ...o, from: "logits", reduction: "sum" }),
    },
    { name: "klDivergence logprobs f32", run: (m) => m.klDivergence(y32, x32, { ...o, from: "logprobs" }) },
    { name: "jensenShannon probs f32", run: (m) => m.jensenShannon(p32, q32, o) },
    { name: "jensenShannon probs f64, base 2", run: (m) => m.jensenShannon(p64, q64, { ...o, base: 2, reduction: "none" }) },
    { name: "entropy probs f32", run: (m) => m.entropy(p32, o) },
    {
      name: "entropy logits f32, temperature, none",
      run: (m) => m.entropy(x32, { ...o, from: "logits", temperature: 0.5, reduction: "none" }),
    },
    { name: "entropy logprobs f32", run: (m) => m.entropy(y32, { ...o, from: "logprobs" }) },
    { name: "entropy probs f64", run: (m) => m.entropy(p64, { ...o, reduction: "sum" }) },
    { name: "evaluate f32, topK, ignoreIndex, weight", run: (m) => m.evaluate(tIgnore, x32, { ...o, topK: [1, 5], weight: w }) },
    { name: "evaluate f64", run: (m) => m.evaluate(t, x64, o) },
    {
      name: "binaryCrossEntropy probs f32, posWeight per class, none",
      run: (m) => m.binaryCrossEntropy(p32, q32, { posWeight: w, reduction: "none" }),
    },
    {
      name: "binaryCrossEntropy logits f32, weight per class, 0/1 labels as Int32Array",
      run: (m) =>
        m.binaryCrossEntropy(
          Int32Array.from(p32, (v) => (v > 0.02 ? 1 : 0)),
          x32,
          { classes, from: "logits", weight: w },
        ),
    },
    {
      name: "binaryCrossEntropy logits f64, weight per element, posWeight number, sum",
      run: (m) =>
        m.binaryCrossEntropy(p64, x64, { from: "logits", weight: Array.from(p64, (_, i) => 1 + (i % 3)), posWeight: 2, reduction: "sum" }),
    },
    { name: "focalLoss labels, logits f32 (gamma 2)", run: (m) => m.focalLoss(t, x32, o) },
    {
      name: "focalLoss ignoreIndex, weight, alpha per class, labelSmoothing, sampleWeight, gamma 0.5",
      run: (m) =>
        m.focalLoss(tIgnore, x32, { ...o, weight: w, alpha: w.map((v) => v / 2), labelSmoothing: 0.1, sampleWeight: sw, gamma: 0.5 }),
    },
    {
      name: "focalLoss logits f64, alpha a number, gamma 5, none, base 2",
      run: (m) => m.focalLoss(t, x64, { ...o, alpha: 0.25, gamma: 5, reduction: "none", base: 2 }),
    },
    { name: "focalLoss probs f32, sum", run: (m) => m.focalLoss(t, q32, { ...o, from: "probs", reduction: "sum" }) },
    { name: "focalLoss logprobs f32, gamma 0", run: (m) => m.focalLoss(t, y32, { ...o, from: "logprobs", gamma: 0 }) },
    { name: "binaryFocalLoss logits f32, alpha, none", run: (m) => m.binaryFocalLoss(p32, x32, { alpha: 0.25, reduction: "none" }) },
    {
      name: "binaryFocalLoss probs f64, weight per element, gamma 1.5, sum",
      run: (m) =>
        m.binaryFocalLoss(p64, q64, { from: "probs", gamma: 1.5, weight: Array.from(p64, (_, i) => 1 + (i % 3)), reduction: "sum" }),
    },
    {
      name: "binaryFocalLoss 0/1 labels as Int32Array, logits f64",
      run: (m) =>
        m.binaryFocalLoss(
          Int32Array.from(p64, (v) => (v > 0.02 ? 1 : 0)),
          x64,
        ),
    },
  ];
}

/** focalLoss with dense targets: the one kernel call whose class-index pointer may be absent (0). */
function denseFocalCases(rows: number, classes: number, seed: number): Case[] {
  const u = rng(seed);
  const x32 = logits(u, rows * classes, Float32Array) as Float32Array;
  const p32 = probs(u, rows, classes, Float32Array, 0.1) as Float32Array;
  const q32 = probs(u, rows, classes, Float32Array) as Float32Array;
  const p64 = probs(u, rows, classes, Float64Array, 0.1) as Float64Array;
  const w = Float64Array.from({ length: classes }, () => 0.5 + u());
  const o = { classes };
  return [
    { name: "focalLoss dense targets f32, logits, weight", run: (m) => m.focalLoss(p32, x32, { ...o, weight: w, gamma: 3.5 }) },
    {
      name: "focalLoss dense f64 targets, probs f32 (mixed: computed in float64), none",
      run: (m) => m.focalLoss(p64, q32, { ...o, from: "probs", reduction: "none" }),
    },
  ];
}

const SHAPES: Array<[number, number]> = [
  [37, 33],
  [1, 7],
  [2, 1001],
  [5, 2],
  [129, 257],
];

// The calling thread computes a share by default (threads - 1 workers); useCallingThread: false
// leaves it all to `threads` workers. Both must give the single-thread engine's bits.
for (const [threads, useCallingThread] of [
  [1, true],
  [2, true],
  [3, true],
  [1, false],
  [2, false],
] as const) {
  const workers = useCallingThread ? threads - 1 : threads;
  describe(`pool of ${threads} thread${threads > 1 ? "s" : ""} (${workers} worker${workers === 1 ? "" : "s"}${useCallingThread ? " and the calling thread" : ""}): the same bits as the single-thread SIMD engine`, () => {
    let pool: Pool;
    beforeAll(async () => {
      pool = await xent.createPool({ threads, useCallingThread });
    });
    afterAll(async () => {
      await pool.close();
    });

    it("starts the workers", () => {
      expect(pool.info).toEqual({
        backend: "wasm-simd-threads",
        threads,
        workers,
        callingThread: useCallingThread,
        requested: threads,
        shared: true,
        verified: true,
      });
      expect(pool.backend).toBe("wasm-simd-threads");
    });

    for (const [rows, classes] of SHAPES) {
      it(`every measure and evaluate, ${rows} x ${classes}`, async () => {
        for (const c of cases(rows, classes, rows * 1000 + classes)) {
          const want = c.run(simd as unknown as M);
          const got = await c.run(pool as unknown as M);
          expect(bits(got), c.name).toEqual(bits(want));
        }
      });
    }

    it("large calls, copied in several chunks (double-buffered) and rows over the staging size", async () => {
      const u = rng(threads + (useCallingThread ? 0 : 10));
      const R = 700,
        K = 1500; // 4.2 MB of float32: three chunks of 2 MiB
      const x = logits(u, R * K, Float32Array),
        y = logits(u, R * K, Float32Array),
        t = labels(u, R, K);
      expect(bits(await pool.crossEntropy(t, x, { classes: K, reduction: "none" }))).toEqual(
        bits(simd.crossEntropy(t, x, { classes: K, reduction: "none" })),
      );
      expect(bits(await pool.klDivergence(x, y, { classes: K, from: "logits" }))).toEqual(
        bits(simd.klDivergence(x, y, { classes: K, from: "logits" })),
      );
      const x64 = logits(u, 300 * 2001, Float64Array),
        t64 = labels(u, 300, 2001);
      expect(bits(await pool.evaluate(t64, x64, { classes: 2001, topK: [1, 3] }))).toEqual(
        bits(simd.evaluate(t64, x64, { classes: 2001, topK: [1, 3] })),
      );
      const big = logits(u, 3 * 600_000, Float32Array),
        tb = labels(u, 3, 600_000); // one row: 2.4 MB
      expect(bits(await pool.crossEntropy(tb, big, { classes: 600_000, reduction: "none" }))).toEqual(
        bits(simd.crossEntropy(tb, big, { classes: 600_000, reduction: "none" })),
      );
      expect(bits(await pool.focalLoss(t, x, { classes: K, reduction: "none", alpha: 0.25 }))).toEqual(
        bits(simd.focalLoss(t, x, { classes: K, reduction: "none", alpha: 0.25 })),
      );
      expect(bits(await pool.focalLoss(tb, big, { classes: 600_000, gamma: 0.5 }))).toEqual(
        bits(simd.focalLoss(tb, big, { classes: 600_000, gamma: 0.5 })),
      );
      expect(
        bits(
          await pool.binaryFocalLoss(
            Float32Array.from(y, (v) => (v > 0 ? 1 : 0)),
            x,
            { reduction: "none" },
          ),
        ),
      ).toEqual(
        bits(
          simd.binaryFocalLoss(
            Float32Array.from(y, (v) => (v > 0 ? 1 : 0)),
            x,
            { reduction: "none" },
          ),
        ),
      );
    });

    it("many rows of few classes (chunks of per-row results), zero-copy", async () => {
      const u = rng(7 + threads);
      const R = 70_001,
        K = 3;
      const X = pool.allocate(Float32Array, R * K);
      X.view.set(logits(u, R * K, Float32Array));
      const t = labels(u, R, K);
      expect(bits(await pool.evaluate(t, X, { classes: K, topK: [1, 2] }))).toEqual(
        bits(simd.evaluate(t, X.view, { classes: K, topK: [1, 2] })),
      );
      expect(bits(await pool.entropy(X.view, { classes: K, from: "logits", reduction: "none" }))).toEqual(
        bits(simd.entropy(X.view, { classes: K, from: "logits", reduction: "none" })),
      );
      expect(bits(await pool.focalLoss(t, X, { classes: K, reduction: "none" }))).toEqual(
        bits(simd.focalLoss(t, X.view, { classes: K, reduction: "none" })),
      );
      const y01 = Float32Array.from(X.view, (v) => (v > 0 ? 1 : 0));
      expect(bits(await pool.binaryFocalLoss(y01, X, { gamma: 1 }))).toEqual(bits(simd.binaryFocalLoss(y01, X.view, { gamma: 1 })));
      X.free();
    });
  });
}

// src/pool/runner.ts (#dispatch) moves every "index" argument by 4 bytes a row, also an absent one
// (address 0, focalLoss with dense targets): each piece of rows after the first then reads class
// indices from address 4 x its first row, and computes its rows as if they had labels. A call of a
// single piece (one row here) is right. Marked as failing until the stride is 0 for an absent
// index (as it is for absent "rows" arguments); then these cases belong in cases() above.
describe("pool: focalLoss with dense targets", () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await xent.createPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("one row (a single piece): the same bits as the single-thread SIMD engine", async () => {
    for (const c of denseFocalCases(1, 33, 5))
      expect(bits(await c.run(pool as unknown as M)), c.name).toEqual(bits(c.run(simd as unknown as M)));
  });

  for (const [rows, classes] of SHAPES.filter(([r]) => r > 1)) {
    // Every piece after the first must keep an absent class-index pointer absent (0), not move it by rows.
    it(`${rows} x ${classes} (several pieces): the same bits as the single-thread SIMD engine`, async () => {
      for (const c of denseFocalCases(rows, classes, rows * 1000 + classes)) {
        expect(bits(await c.run(pool as unknown as M)), c.name).toEqual(bits(c.run(simd as unknown as M)));
      }
    });
  }
});

describe("pool: check: true", () => {
  it("with a user's out: the engine's values are kept in out (the reference's run is only compared)", async () => {
    const pool = await xent.createPool({ threads: 2 });
    try {
      const u = rng(11),
        R = 64,
        K = 50;
      const t = labels(u, R, K),
        x = logits(u, R * K, Float32Array) as Float32Array;
      const out = new Float64Array(R);
      const got = await pool.crossEntropy(t, x, { classes: K, reduction: "none", out, check: true });
      expect(got).toBe(out);
      expect(bits(out)).toEqual(bits(simd.crossEntropy(t, x, { classes: K, reduction: "none" })));
    } finally {
      await pool.close();
    }
  });
});

describe("pool: memory, lifecycle, concurrency", () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await xent.createPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("uses arrays from pool.allocate in place (no copy), before and after the memory grows", async () => {
    const u = rng(99);
    const R = 65,
      K = 1001;
    const x = logits(u, R * K, Float32Array) as Float32Array,
      y = logits(u, R * K, Float32Array) as Float32Array;
    const t = labels(u, R, K);
    const X = pool.allocate(Float32Array, R * K),
      Y = pool.allocate(Float32Array, R * K);
    X.view.set(x);
    Y.view.set(y);
    const early = X.view; // a view taken before the memory grows
    const grow = pool.allocate(Float64Array, 8 << 20); // 64 MiB: grows the shared memory
    expect(early.length).toBe(R * K); // shared buffers never detach
    const before = poolStats.copiedBytes;
    const a = await pool.crossEntropy(t, X, { classes: K });
    const b = await pool.klDivergence(early, Y.view, { classes: K, from: "logits" });
    const c = await pool.evaluate(t, X.view, { classes: K });
    expect(poolStats.copiedBytes).toBe(before); // nothing copied
    expect(bits(a)).toEqual(bits(simd.crossEntropy(t, x, { classes: K })));
    expect(bits(b)).toEqual(bits(simd.klDivergence(x, y, { classes: K, from: "logits" })));
    expect(bits(c)).toEqual(bits(simd.evaluate(t, x, { classes: K })));
    // An ordinary array is copied.
    await pool.crossEntropy(t, x, { classes: K });
    expect(poolStats.copiedBytes).toBe(before + x.byteLength);
    grow.free();
    X.free();
    Y.free();
  });

  it("interleaved concurrent calls each get their own answer", async () => {
    const all = [...cases(37, 33, 1), ...cases(129, 257, 2), ...cases(3, 1001, 3)];
    const want = all.map((c) => bits(c.run(simd as unknown as M)));
    const got = await Promise.all(all.map((c) => c.run(pool as unknown as M)));
    got.forEach((g, i) => {
      expect(bits(g), all[i].name).toEqual(want[i]);
    });
  });

  it("validates as the synchronous functions do (rejections with the same codes), and check: true works", async () => {
    const x = new Float32Array(12);
    await expect(pool.crossEntropy(new Int32Array([0, 1]), x, { classes: 5 })).rejects.toMatchObject({ code: "SHAPE_MISMATCH" });
    await expect(pool.crossEntropy(x, new Int32Array([0, 1]) as never)).rejects.toMatchObject({ code: "ARGUMENT_ORDER" });
    await expect(pool.klDivergence(x, x, { classes: 4, bogus: 1 } as never)).rejects.toMatchObject({ code: "UNKNOWN_OPTION" });
    await expect(pool.entropy(x, { classes: 4, temperature: 2 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(pool.evaluate(new Int32Array([0, 9]), x, { classes: 6 })).rejects.toMatchObject({ code: "INVALID_INDEX" });
    const u = rng(5);
    const y = logits(u, 7 * 33, Float32Array),
      t = labels(u, 7, 33);
    expect(bits(await pool.crossEntropy(t, y, { classes: 33, check: true }))).toEqual(bits(simd.crossEntropy(t, y, { classes: 33 })));
    const out = new Float32Array(7);
    expect(await pool.crossEntropy(t, y, { classes: 33, reduction: "none", out })).toBe(out);
    expect(bits(out)).toEqual(bits(simd.crossEntropy(t, y, { classes: 33, reduction: "none", out: new Float32Array(7) })));
  });

  it("rejects bad options", async () => {
    await expect(xent.createPool({ threads: 0 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(xent.createPool({ threads: 1.5 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(xent.createPool({ thread: 2 } as never)).rejects.toMatchObject({ code: "UNKNOWN_OPTION" });
    await expect(xent.createPool({ maxMemory: 1000 })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(xent.createPool({ useCallingThread: 1 as never })).rejects.toMatchObject({
      code: "INVALID_OPTION",
      message: expect.stringMatching(/useCallingThread/),
    });
  });

  it("close(): calls already made finish, later calls reject with BACKEND_UNAVAILABLE", async () => {
    const p = await xent.createPool({ threads: 2 });
    const u = rng(11);
    const x = logits(u, 51 * 99, Float32Array),
      t = labels(u, 51, 99);
    const inFlight = p.crossEntropy(t, x, { classes: 99 });
    const closing = p.close();
    expect(p.closed).toBe(true);
    expect(bits(await inFlight)).toEqual(bits(simd.crossEntropy(t, x, { classes: 99 })));
    await closing;
    await p.close(); // idempotent
    await expect(p.crossEntropy(t, x, { classes: 99 })).rejects.toMatchObject({
      code: "BACKEND_UNAVAILABLE",
      message: expect.stringMatching(/closed/),
    });
    await expect(p.evaluate(t, x, { classes: 99 })).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
    expect(() => p.allocate(Float32Array, 4)).toThrow(expect.objectContaining({ code: "BACKEND_UNAVAILABLE" }));
  });
  it("without Atomics.waitAsync (some browsers), the workers report by message: same results", async () => {
    const A = Atomics as unknown as { waitAsync?: unknown };
    const saved = A.waitAsync;
    delete A.waitAsync;
    let p: Pool;
    try {
      p = await xent.createPool({ threads: 3 });
    } finally {
      A.waitAsync = saved;
    }
    const all = cases(37, 33, 77);
    const got = await Promise.all(all.map((c) => c.run(p as unknown as M)));
    got.forEach((g, i) => {
      expect(bits(g), all[i].name).toEqual(bits(all[i].run(simd as unknown as M)));
    });
    await p.close();
  });

  it("a kernel that traps in a worker rejects with its message, and the workers keep serving", async () => {
    const wat = `(module
      (import "env" "memory" (memory 1 65536 shared))
      (func (export "heap_base") (result i32) i32.const 1024)
      (func (export "simd") (result i32) i32.const 1)
      (func $trap (param i32) unreachable)
      ${KERNELS.map((n) => `(export "${n}" (func $trap))`).join("\n")})`;
    const m = binaryen.parseText(wat);
    m.setFeatures(binaryen.Features.All);
    const module = new WebAssembly.Module(m.emitBinary() as Uint8Array<ArrayBuffer>);
    m.dispose();
    const p = await xent.createPool({ threads: 2, module, verify: false });
    expect(p.backend).toBe("wasm-simd-threads");
    for (let i = 0; i < 2; i++) {
      await expect(p.crossEntropy(new Int32Array(3), new Float32Array(30), { classes: 10 })).rejects.toMatchObject({
        code: "BACKEND_UNAVAILABLE",
        message: expect.stringMatching(/failed in a kernel: unreachable/),
      });
    }
    await p.close();
  });
});

/** Creates a pool while recording the Node workers it starts, so a test can kill them from outside. */
async function poolWithHandles(options: xent.PoolOptions): Promise<{ pool: Pool; workers: Array<{ terminate(): Promise<number> }> }> {
  const wt = process.getBuiltinModule("node:worker_threads") as { Worker: new (...a: never[]) => { terminate(): Promise<number> } };
  const Original = wt.Worker;
  const workers: Array<{ terminate(): Promise<number> }> = [];
  wt.Worker = class extends Original {
    constructor(...a: never[]) {
      super(...a);
      workers.push(this);
    }
  };
  try {
    return { pool: await xent.createPool(options), workers };
  } finally {
    wt.Worker = Original;
  }
}

describe("pool: back-to-back calls", () => {
  // A worker stores its done flag, then notifies; the calling thread can see the flag, finish the
  // call and wake the worker for the next one before that notify lands. The late notify must not
  // be taken for the end of the next job (it was, once: "failed in a kernel: status <previous seq>").
  // Workers only (the calling thread free) made it likeliest: three threads on two cores here.
  it("thousands of calls with workers only: every one right", async () => {
    const pool = await xent.createPool({ threads: 2, useCallingThread: false });
    const R = 256,
      K = 1000;
    const X = pool.allocate(Float32Array, R * K);
    X.view.set(logits(rng(31), R * K, Float32Array));
    const t = labels(rng(32), R, K);
    const want = bits(simd.crossEntropy(t, X.view, { classes: K }));
    let wrong = 0;
    for (let i = 0; i < 3000; i++)
      if (JSON.stringify(bits(await pool.crossEntropy(t, X, { classes: K }))) !== JSON.stringify(want)) wrong++;
    expect(wrong).toBe(0);
    X.free();
    await pool.close();
  }, 60_000);
});

describe("pool: a worker killed", () => {
  it("mid-call: the call still returns the single-thread bits, and the pool goes on with the others", async () => {
    const { pool, workers } = await poolWithHandles({ threads: 2, useCallingThread: false });
    expect(workers).toHaveLength(2);
    const u = rng(21);
    const R = 400,
      K = 32000; // about 50 ms of KL per call on one thread here
    const X = pool.allocate(Float32Array, R * K),
      Y = pool.allocate(Float32Array, R * K);
    X.view.set(logits(u, R * K, Float32Array));
    Y.view.set(logits(u, R * K, Float32Array));
    const want = bits(simd.klDivergence(X.view, Y.view, { classes: K, from: "logits", reduction: "none" }));
    const inFlight = pool.klDivergence(X, Y, { classes: K, from: "logits", reduction: "none" });
    await workers[0].terminate(); // the workers are computing: the call was made, not awaited
    expect(bits(await inFlight)).toEqual(want);
    expect(pool.info).toMatchObject({ backend: "wasm-simd-threads", threads: 1, workers: 1, requested: 2 });
    expect(pool.info.reason).toMatch(/1 of the pool's workers died/);
    // Later calls run on the worker left, with the same bits.
    const t = labels(u, R, K);
    expect(bits(await pool.crossEntropy(t, X, { classes: K }))).toEqual(bits(simd.crossEntropy(t, X.view, { classes: K })));
    // Every worker gone: the calling thread computes.
    await workers[1].terminate();
    await new Promise((r) => setTimeout(r, 20)); // lets the exit event arrive
    expect(bits(await pool.evaluate(t, X, { classes: K, topK: [1, 5] }))).toEqual(
      bits(simd.evaluate(t, X.view, { classes: K, topK: [1, 5] })),
    );
    expect(pool.info).toMatchObject({ threads: 1, workers: 0 });
    X.free();
    Y.free();
    await pool.close();
  });

  it("between calls, with the calling thread computing: later calls are right", async () => {
    const { pool, workers } = await poolWithHandles({ threads: 3 });
    expect(workers).toHaveLength(2);
    await workers[1].terminate();
    await new Promise((r) => setTimeout(r, 20));
    for (const c of cases(129, 257, 99)) expect(bits(await c.run(pool as unknown as M)), c.name).toEqual(bits(c.run(simd as unknown as M)));
    expect(pool.info).toMatchObject({ threads: 2, workers: 1, callingThread: true });
    await pool.close();
  });
});

describe("pool: fallback to one thread", () => {
  it("without SharedArrayBuffer (a page that is not cross-origin isolated): reports why, still computes", async () => {
    vi.stubGlobal("SharedArrayBuffer", undefined);
    let pool: Pool;
    try {
      pool = await xent.createPool({ threads: 2 });
    } finally {
      vi.unstubAllGlobals();
    }
    expect(pool.info).toMatchObject({ backend: "wasm-simd", threads: 1, requested: 2, shared: false, verified: true });
    expect(pool.info.reason).toMatch(/SharedArrayBuffer is not available/);
    for (const c of cases(37, 33, 42)) {
      expect(bits(await c.run(pool as unknown as M)), c.name).toEqual(bits(c.run(simd as unknown as M)));
    }
    const X = pool.allocate(Float32Array, 33);
    X.view.set(logits(rng(1), 33, Float32Array));
    expect(bits(await pool.entropy(X, { from: "logits" }))).toEqual(bits(simd.entropy(X.view, { from: "logits" })));
    X.free();
    await pool.close();
    await expect(pool.entropy(new Float32Array([1]))).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
  });

  it("with a module that is not the threads build: reports why", async () => {
    const module = new WebAssembly.Module(readFileSync(new URL("../wasm/xent.simd.wasm", import.meta.url)));
    const pool = await xent.createPool({ threads: 2, module });
    expect(pool.info.threads).toBe(1);
    expect(pool.info.reason).toMatch(/must import only env.memory/);
    expect(await pool.entropy([0.5, 0.5], { base: 2 })).toBe(1);
    await pool.close();
  });

  it("accepts the threads build as a compiled module and a smaller maximum memory", async () => {
    const module = new WebAssembly.Module(readFileSync(new URL("../wasm/xent.threads.wasm", import.meta.url)));
    const pool = await xent.createPool({ threads: 2, module, maxMemory: 64 << 20, verify: false });
    expect(pool.info).toEqual({
      backend: "wasm-simd-threads",
      threads: 2,
      workers: 1,
      callingThread: true,
      requested: 2,
      shared: true,
      verified: false,
    });
    const u = rng(3);
    const x = logits(u, 9 * 17, Float32Array),
      t = labels(u, 9, 17);
    expect(bits(await pool.crossEntropy(t, x, { classes: 17 }))).toEqual(bits(simd.crossEntropy(t, x, { classes: 17 })));
    await pool.close();
  });
});
