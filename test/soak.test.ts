// Soak: 10^6 calls of mixed sizes and functions; the module's linear memory does not grow after
// warm-up and the process's memory stays flat; parallel init() calls settle on one engine.
import { describe, expect, it } from "vitest";
import * as xent from "../src/index.js";
import { currentEngine } from "../src/engine/init.js";
import { WasmEngine } from "../src/engine/wasm.js";

describe("soak", () => {
  it("parallel init() calls resolve to one engine", async () => {
    const infos = await Promise.all(Array.from({ length: 16 }, () => xent.init()));
    expect(new Set(infos.map((i) => i.backend))).toEqual(new Set(["wasm-simd"]));
    expect(xent.backend()).toBe("wasm-simd");
  });

  it("10^6 mixed calls: linear memory fixed after warm-up, process memory flat", () => {
    const memory = (currentEngine() as WasmEngine).exports.memory;
    let s = 12345;
    const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
    // A pool of inputs of many shapes, made once (the soak is about the calls, not the inputs).
    const inputs = Array.from({ length: 64 }, (_, i) => {
      const rows = 1 + (i % 7), classes = 1 + ((i * 37) % 97);
      const T = i % 3 === 0 ? Float64Array : Float32Array;
      const x = T.from({ length: rows * classes }, () => 6 * u() - 3);
      const y = T.from({ length: rows * classes }, () => 6 * u() - 3);
      const p = T.from(x, (v, k) => Math.exp(v) / (classes * 20 + k));
      const t = Int32Array.from({ length: rows }, () => Math.floor(u() * classes));
      return { rows, classes, x, y, p, t };
    });
    const call = (i: number): number => {
      const d = inputs[i % inputs.length], K = d.classes;
      switch (i % 8) {
        case 0: return xent.crossEntropy(d.t, d.x, { classes: K });
        case 1: return xent.klDivergence(d.x, d.y, { classes: K, from: "logits", temperature: 2 });
        case 2: return xent.entropy(d.p, { classes: K, normalize: true });
        case 3: return (xent.crossEntropy(d.t, d.x, { classes: K, reduction: "none" }) as Float64Array)[0];
        case 4: return xent.jensenShannon(d.p, d.p, { classes: K });
        case 5: return xent.evaluate(d.t, d.x, { classes: K }).crossEntropy;
        case 6: return xent.crossEntropyWithGrad(d.t, d.x, { classes: K }).loss;
        default: return xent.binaryCrossEntropy(d.p, d.x, { from: "logits" });
      }
    };
    let sink = 0;
    for (let i = 0; i < 100_000; i++) sink += call(i);
    const linear = memory.buffer.byteLength;
    const before = process.memoryUsage();
    for (let i = 100_000; i < 1_000_000; i++) sink += call(i);
    const after = process.memoryUsage();
    console.log(`soak: linear memory ${linear} -> ${memory.buffer.byteLength} bytes; rss ${(before.rss / 2 ** 20).toFixed(1)} -> ` +
      `${(after.rss / 2 ** 20).toFixed(1)} MiB; heapUsed ${(before.heapUsed / 2 ** 20).toFixed(1)} -> ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB`);
    expect(Number.isNaN(sink)).toBe(false);
    expect(memory.buffer.byteLength).toBe(linear);
    expect(after.rss - before.rss).toBeLessThan(64 * 2 ** 20);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * 2 ** 20);
  }, 300_000);
});
