// Inputs larger than WebAssembly memory can hold at once: the measures and the Evaluator stream
// them through the scratch slots in chunks of whole rows. Here more than 2^31 bytes of logits,
// built lazily in chunks (the Evaluator) and as one 2.2 GB Float32Array (crossEntropy).
import { beforeAll, describe, expect, it } from "vitest";
import * as xent from "../src/index.js";
import * as reference from "../src/reference/index.js";
import { currentEngine } from "../src/engine/init.js";
import type { WasmEngine } from "../src/engine/wasm.js";
import { rng, logits, labels } from "./helpers/data.js";

const classes = 1000,
  baseRows = 1000,
  copies = 64; // a chunk: 64 copies of a 4 MB block = 256 MB
const chunks = 9; // 9 x 256 MB = 2.25 GiB > 2^31 bytes
const u = rng(2026);
const base = logits(u, baseRows * classes, Float32Array) as Float32Array;
const baseLabels = labels(u, baseRows, classes);

function chunk(): { x: Float32Array; t: Int32Array } {
  const x = new Float32Array(copies * base.length),
    t = new Int32Array(copies * baseRows);
  for (let c = 0; c < copies; c++) {
    x.set(base, c * base.length);
    t.set(baseLabels, c * baseRows);
  }
  return { x, t };
}

beforeAll(async () => {
  await xent.init();
});

describe("more than 2^31 bytes", () => {
  it("Evaluator over 2.25 GiB of logits made chunk by chunk: the same figures as one block", () => {
    const ev = new xent.Evaluator({ classes, topK: [1, 5] });
    const { x, t } = chunk(); // each chunk holds the same rows, so the figures cannot change
    for (let c = 0; c < chunks; c++) ev.update(t, x);
    const r = ev.result();
    const want = reference.evaluate(baseLabels, base, { classes, topK: [1, 5] });
    expect(chunks * x.byteLength).toBeGreaterThan(2 ** 31);
    expect(r.rows).toBe(chunks * copies * baseRows);
    expect(Math.abs(r.crossEntropy - want.crossEntropy)).toBeLessThanOrEqual(1e-6 * want.crossEntropy);
    expect(Math.abs(r.entropy - want.entropy)).toBeLessThanOrEqual(1e-6 * want.entropy);
    expect(r.topK).toEqual(want.topK);
    // Memory never held it: the module's memory stays far below the data.
    const mem = (currentEngine() as WasmEngine).exports.memory.buffer.byteLength;
    expect(mem).toBeLessThan(64 << 20);
  });

  it("crossEntropy on one 2.25 GiB Float32Array, streamed through WebAssembly memory", () => {
    const rows = chunks * copies * baseRows;
    const x = new Float32Array(rows * classes);
    const t = new Int32Array(rows);
    for (let c = 0; c < chunks * copies; c++) {
      x.set(base, c * base.length);
      t.set(baseLabels, c * baseRows);
    }
    expect(x.byteLength).toBeGreaterThan(2 ** 31);
    const got = xent.crossEntropy(t, x, { classes });
    const want = reference.crossEntropy(baseLabels, base, { classes });
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * want);
    expect((currentEngine() as WasmEngine).exports.memory.buffer.byteLength).toBeLessThan(64 << 20);
  });
});
