// Differential fuzzing: the SIMD and scalar modules against the reference, over random shapes
// (1 to 10^5 classes), magnitudes from 1e-30 to 1e30, -Infinity / NaN / zeros sprinkled in, every
// measure and option. Shared by the quick run inside `npm test` (test/fuzz.test.ts) and the long
// run (`npm run fuzz`, scripts/fuzz.ts).
import fc from "fast-check";
import { ENGINES, type Measures } from "../helpers/engines.js";
import { agrees } from "../../src/measures/finish.js";

export interface FuzzCase {
  measure: string;
  rows: number;
  classes: number;
  f32: boolean;
  seed: number;
  scale: number;
  specials: number;
  options: Record<string, unknown>;
}

const MEASURES = ["crossEntropy", "crossEntropyDense", "klDivergence", "jensenShannon", "entropy", "binaryCrossEntropy", "evaluate", "crossEntropyWithGrad", "klDivergenceWithGrad"] as const;

/** fast-check arbitrary of one case; sizes are biased small, with large rows now and then. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({
  measure: fc.constantFrom(...MEASURES),
  rows: fc.integer({ min: 1, max: 6 }),
  classes: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 70 }) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 5000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }) }),
  f32: fc.boolean(),
  seed: fc.integer(),
  scale: fc.constantFrom(1e-30, 1e-8, 1, 3, 30, 1e4, 1e30),
  specials: fc.constantFrom(0, 0, 0.02, 0.2),
  options: fc.record({
    reduction: fc.constantFrom("mean", "sum", "none"),
    base: fc.constantFrom(undefined, 2, 10),
    temperature: fc.constantFrom(undefined, 0.5, 2),
    labelSmoothing: fc.constantFrom(undefined, 0, 0.1, 1),
    weighted: fc.boolean(),
    from: fc.constantFrom("logits", "probs", "logprobs"),
    normalize: fc.boolean(),
  }),
});

/** Builds the inputs of a case and calls the measure on `m`; returns every number it produced. */
export function runCase(m: Measures, c: FuzzCase): number[] {
  let s = c.seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const T = c.f32 ? Float32Array : Float64Array;
  const n = c.rows * c.classes, K = c.classes;
  const special = () => [-Infinity, NaN, 0, Infinity][Math.floor(u() * 4)];
  const logits = () => T.from({ length: n }, () => (u() < c.specials ? special() : c.scale * (2 * u() - 1)));
  const probs = () => {
    const p = T.from({ length: n }, () => (u() < c.specials ? (u() < 0.8 ? 0 : special()) : Math.exp(30 * (u() - 1)) * Math.max(c.scale, 1e-30)));
    if (!c.options.normalize) for (let r = 0; r < c.rows; r++) {
      let z = 0;
      for (let k = 0; k < K; k++) z += p[r * K + k];
      if (z > 0 && Number.isFinite(z)) for (let k = 0; k < K; k++) p[r * K + k] /= z;
    }
    return p;
  };
  const labels = Int32Array.from({ length: c.rows }, () => (u() < 0.1 ? -100 : Math.floor(u() * K)));
  const o = c.options;
  const from = o.from as "logits" | "probs" | "logprobs";
  const input = () => (from === "logits" ? logits() : from === "probs" ? probs() : T.from(probs(), Math.log));
  const common = { classes: K, reduction: o.reduction as "mean" | "sum" | "none", ...(o.base ? { base: o.base as number } : {}) };
  const weight = o.weighted ? T.from({ length: K }, () => u() * 2) : undefined;
  const T1 = o.temperature as number | undefined;
  const out = (v: number | ArrayLike<number>) => (typeof v === "number" ? [v] : Array.from(v));
  switch (c.measure) {
    case "crossEntropy":
      return out(m.crossEntropy(labels, input(), { ...common, from, weight, labelSmoothing: o.labelSmoothing as number | undefined }));
    case "crossEntropyDense":
      return out(m.crossEntropy(probs(), input(), { ...common, from, weight, labelSmoothing: o.labelSmoothing as number | undefined }));
    case "klDivergence": {
      const both = T1 !== undefined ? "logits" : from;
      const a = both === "logits" ? logits() : both === "probs" ? probs() : T.from(probs(), Math.log);
      const b = both === "logits" ? logits() : both === "probs" ? probs() : T.from(probs(), Math.log);
      return out(m.klDivergence(a, b, { ...common, from: both, temperature: T1, normalize: o.normalize as boolean }));
    }
    case "jensenShannon":
      return out(m.jensenShannon(probs(), probs(), { ...common, normalize: o.normalize as boolean }));
    case "entropy":
      return out(m.entropy(T1 !== undefined ? logits() : input(), { ...common, from: T1 !== undefined ? "logits" : from, temperature: T1, normalize: o.normalize as boolean }));
    case "binaryCrossEntropy": {
      const y = T.from({ length: n }, () => (u() < 0.5 ? Math.round(u()) : u()));
      const x = from === "logits" ? logits() : T.from({ length: n }, () => (u() < c.specials ? special() : u()));
      return out(m.binaryCrossEntropy(y, x, { ...common, from: from === "logits" ? "logits" : "probs", posWeight: o.weighted ? 2.5 : undefined }));
    }
    case "evaluate": {
      const r = m.evaluate(labels, logits(), { classes: K, topK: [1, 3], weight });
      return [r.rows, r.crossEntropy, r.entropy, r.topK[1], r.topK[3]];
    }
    case "crossEntropyWithGrad": {
      const r = m.crossEntropyWithGrad(labels, logits(), { classes: K, weight, labelSmoothing: o.labelSmoothing as number | undefined, reduction: o.reduction === "sum" ? "sum" : "mean" });
      return [r.loss, ...Array.from(r.grad)];
    }
    default: {
      const r = m.klDivergenceWithGrad(logits(), logits(), { classes: K, temperature: T1 });
      return [r.loss, ...Array.from(r.grad)];
    }
  }
}

/** Whether the engine's results match the reference's for this case; the first difference otherwise. */
export function differs(engine: "wasm-simd" | "wasm", c: FuzzCase): string | null {
  let want: number[], got: number[];
  try {
    want = runCase(ENGINES.js, c);
  } catch (e) {
    // A case the reference refuses must be refused the same way by the engine.
    try {
      runCase(ENGINES[engine], c);
      return `the reference threw ${(e as Error).message} but ${engine} did not`;
    } catch (e2) {
      return (e2 as { code?: string }).code === (e as { code?: string }).code ? null : `different errors: ${(e as Error).message} / ${(e2 as Error).message}`;
    }
  }
  got = runCase(ENGINES[engine], c);
  if (got.length !== want.length) return `lengths ${got.length} vs ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    if (!agrees(got[i], want[i], c.f32)) return `value ${i}: ${engine} ${got[i]}, reference ${want[i]}`;
  }
  return null;
}
