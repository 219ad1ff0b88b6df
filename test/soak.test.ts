// Soak: 10^6 calls of mixed sizes and functions; the module's linear memory does not grow after
// warm-up and the process's memory stays flat; parallel init() calls settle on one engine; the pool
// under interleaved async use (concurrent calls of every kind, mixed with synchronous calls) gives
// each call the single-thread bits, and its shared memory stops growing after warm-up.
import { describe, expect, it } from "vitest";
import * as xent from "../src/index.js";
import { currentEngine } from "../src/engine/init.js";
import type { WasmEngine } from "../src/engine/wasm.js";
import type { Float } from "./helpers/data.js";

describe("soak", () => {
  it("parallel init() calls resolve to one engine", async () => {
    const infos = await Promise.all(Array.from({ length: 16 }, () => xent.init()));
    expect(new Set(infos.map((i) => i.backend))).toEqual(new Set(["wasm-simd"]));
    expect(xent.backend()).toBe("wasm-simd");
  });

  it("10^6 mixed calls: linear memory fixed after warm-up, process memory flat", () => {
    const memory = (currentEngine() as WasmEngine).exports.memory;
    let s = 12345;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 4294967296;
    };
    // A pool of inputs of many shapes, made once (the soak is about the calls, not the inputs).
    const inputs = Array.from({ length: 64 }, (_, i) => {
      const rows = 1 + (i % 7),
        classes = 1 + ((i * 37) % 97);
      const T: Float = i % 3 === 0 ? Float64Array : Float32Array;
      const x = T.from({ length: rows * classes }, () => 6 * u() - 3);
      const y = T.from({ length: rows * classes }, () => 6 * u() - 3);
      const p = T.from(x, (v, k) => Math.exp(v) / (classes * 20 + k));
      const t = Int32Array.from({ length: rows }, () => Math.floor(u() * classes));
      return { rows, classes, x, y, p, t };
    });
    const call = (i: number): number => {
      const d = inputs[i % inputs.length],
        K = d.classes;
      switch (i % 8) {
        case 0:
          return xent.crossEntropy(d.t, d.x, { classes: K });
        case 1:
          return xent.klDivergence(d.x, d.y, { classes: K, from: "logits", temperature: 2 });
        case 2:
          return xent.entropy(d.p, { classes: K, normalize: true });
        case 3:
          return (xent.crossEntropy(d.t, d.x, { classes: K, reduction: "none" }) as Float64Array)[0];
        case 4:
          return xent.jensenShannon(d.p, d.p, { classes: K });
        case 5:
          return xent.evaluate(d.t, d.x, { classes: K }).crossEntropy;
        case 6:
          return xent.crossEntropyWithGrad(d.t, d.x, { classes: K }).loss;
        default:
          return xent.binaryCrossEntropy(d.p, d.x, { from: "logits" });
      }
    };
    let sink = 0;
    for (let i = 0; i < 100_000; i++) sink += call(i);
    const linear = memory.buffer.byteLength;
    const before = process.memoryUsage();
    for (let i = 100_000; i < 1_000_000; i++) sink += call(i);
    const after = process.memoryUsage();
    console.log(
      `soak: linear memory ${linear} -> ${memory.buffer.byteLength} bytes; rss ${(before.rss / 2 ** 20).toFixed(1)} -> ` +
        `${(after.rss / 2 ** 20).toFixed(1)} MiB; heapUsed ${(before.heapUsed / 2 ** 20).toFixed(1)} -> ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(Number.isNaN(sink)).toBe(false);
    expect(memory.buffer.byteLength).toBe(linear);
    expect(after.rss - before.rss).toBeLessThan(64 * 2 ** 20);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * 2 ** 20);
  }, 300_000);
});

describe("soak: the pool under interleaved async use", () => {
  it("20,000 calls, 16 in flight at a time, mixed with synchronous calls: every result the single-thread bits; shared memory fixed after warm-up", async () => {
    await xent.init();
    const pool = await xent.createPool({ threads: 2 });
    let s = 777;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 4294967296;
    };
    const inputs = Array.from({ length: 24 }, (_, i) => {
      const rows = 1 + ((i * 13) % 40),
        classes = 1 + ((i * 53) % 300);
      const T: Float = i % 4 === 0 ? Float64Array : Float32Array;
      const x = T.from({ length: rows * classes }, () => 8 * u() - 4);
      const y = T.from({ length: rows * classes }, () => 8 * u() - 4);
      const t = Int32Array.from({ length: rows }, () => Math.floor(u() * classes));
      // Half of them also live in the pool's shared memory (read in place).
      const X = i % 2 === 0 ? pool.allocate(T as Float32ArrayConstructor, x.length) : null;
      X?.view.set(x);
      return { classes, x, y, t, X };
    });
    type Call = (m: typeof xent | xent.Pool) => unknown;
    const calls: Call[] = inputs.flatMap((d) => {
      const K = d.classes,
        x = d.X ?? d.x;
      return [
        (m) => m.crossEntropy(d.t, x, { classes: K }),
        (m) => m.klDivergence(d.x, d.y, { classes: K, from: "logits", temperature: 1.5 }),
        (m) => m.entropy(x, { classes: K, from: "logits", reduction: "none" }),
        (m) => m.jensenShannon(d.x.map(Math.abs), d.y.map(Math.abs), { classes: K, normalize: true }),
        (m) => m.evaluate(d.t, x, { classes: K, topK: [1, 3] }),
      ] as Call[];
    });
    const sync = (c: Call) => c(xent);
    // Every number as its shortest exact decimal: equal strings, equal bits (NaN aside).
    const exact = (v: unknown) =>
      JSON.stringify(v, (_, x) => (ArrayBuffer.isView(x) ? Array.from(x as Float64Array, String) : typeof x === "number" ? String(x) : x));
    const same = (a: unknown, b: unknown) => exact(a) === exact(b);
    const want = calls.map(sync);
    let checked = 0,
      wrong = 0,
      shared = 0;
    const round = async (n: number) => {
      for (let i = 0; i < n; i += 16) {
        const batch = Array.from({ length: 16 }, (_, j) => (i + j) % calls.length);
        const got = await Promise.all(
          batch.map((k, j) => {
            const p = calls[k](pool) as Promise<unknown>;
            if (j % 4 === 0) sync(calls[(k + 7) % calls.length]); // the synchronous API meanwhile
            return p;
          }),
        );
        got.forEach((g, j) => {
          checked++;
          if (!same(g, want[batch[j]])) wrong++;
        });
      }
    };
    await round(2_000);
    const first = pool.allocate(Float32Array, 1);
    shared = first.view.buffer.byteLength;
    first.free();
    const before = process.memoryUsage();
    await round(18_000);
    const after = process.memoryUsage();
    const probe = pool.allocate(Float32Array, 1);
    const sharedAfter = probe.view.buffer.byteLength;
    probe.free();
    console.log(
      `pool soak: ${checked} calls checked, ${wrong} wrong; shared memory ${shared} -> ${sharedAfter} bytes; ` +
        `rss ${(before.rss / 2 ** 20).toFixed(1)} -> ${(after.rss / 2 ** 20).toFixed(1)} MiB; heapUsed ${(before.heapUsed / 2 ** 20).toFixed(1)} -> ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(checked).toBe(20_000);
    expect(wrong).toBe(0);
    expect(sharedAfter).toBe(shared);
    expect(after.rss - before.rss).toBeLessThan(64 * 2 ** 20);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * 2 ** 20);
    for (const d of inputs) d.X?.free();
    await pool.close();
  }, 300_000);
});
