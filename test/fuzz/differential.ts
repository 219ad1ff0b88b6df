// Differential fuzzing: the SIMD and scalar modules against the reference, over random shapes
// (1 to 10^5 classes), magnitudes from 1e-30 to 1e30, -Infinity / NaN / zeros sprinkled in, every
// measure and option. Shared by the quick run inside `npm test` (test/fuzz.test.ts) and the long
// run (`npm run fuzz`, scripts/fuzz.ts).
//
// One case = one call of one measure. Its inputs are generated once (from the case's own seed) and
// the very same arrays go to the reference and to each engine; the reference runs once per case.
// After every call the inputs are compared byte for byte with a copy taken before: no engine may
// write to them (nor to zero-copy inputs living in its memory).
//
// Shapes (rows x classes), by weight:
//   60/89 (67%)   1-6 rows x 1-70 classes: every SIMD tail, the <= 16-class four-rows-per-vector path;
//   25/89 (28%)   1-6 rows x 71-5,000 classes, log-uniform;
//    2/89 (2.2%)  1-3 rows x 5,001-100,000 classes, uniform;
//    1/89 (1.1%)  1-3 rows x 100,000, 65,536, 65,537, 32,768 or 99,999 classes;
//    1/89 (1.1%)  7-20,000 rows (log-uniform) x 1-8 classes: many chunks of short rows.
// Measured over 300,000 cases of the arbitrary: 5,300 elements per case on average, median 156,
// 99th percentile 150,000; the 3.4% of cases with more than 5,000 classes hold 73% of all elements,
// 0.24% have exactly 10^5 classes, 3.1% span several chunks of the engine's copies. So 10^6 cases
// hold some 34,000 with more than 5,000 classes and 2,400 with 10^5; the quick run (400 cases per
// engine) a dozen with more than 5,000. (Before: 1-6 rows x 1-70 / 1-5,000 / 1-100,000 classes
// weighted 8/2/1, 17,000 elements per case on average, the reference run once per engine: 20 ms a case.)
//
// Measures, uniformly over twelve entries: crossEntropy and focalLoss twice each (class indices;
// dense targets), klDivergence, jensenShannon, entropy, binaryCrossEntropy, binaryFocalLoss,
// evaluate, crossEntropyWithGrad, klDivergenceWithGrad once: focalLoss gets the share of
// crossEntropy (a sixth of the cases), binaryFocalLoss that of binaryCrossEntropy (a twelfth).
//
// Options exercised (each where the measure takes it; the reference defines every one):
// reduction mean / sum / none, `out` (Float32Array or Float64Array, or in wasm memory) with none,
// base (2, 10, 0.5, 1.5), from logits / probs / logprobs and per side ({ p, q }) for dense
// crossEntropy, klDivergence and jensenShannon, temperature (0.5, 2 and log-uniform 0.01-100),
// labelSmoothing (0, 0.1, 1, uniform), per-class weight (a tenth of them 0), sampleWeight (likewise),
// ignoreIndex (-100 default, -1, -5, a valid class, K, 10^6) on 0, 10, 50 or 100% of the rows, eps
// with from "probs" (1e-15, 2.2e-16, 1.19e-7, 1e-3, 0.49), normalize, topK of evaluate (default,
// random sets of 1-12, [1, K, K + 1]), binaryCrossEntropy with classes, per-element or per-class
// weight, posWeight a number or one per class, dense targets and the `grad` option (of the logits'
// type or the other) of crossEntropyWithGrad, reduction / base / temperature / grad of
// klDivergenceWithGrad, a prediction close to its target (`near`: perturbed by 0.3 to 1e-7, for the
// small divergences of a student near its teacher), the focal losses' gamma (0, 0.5, 1, 2, 5, or
// uniform in [0, 6]) and alpha (none; a number; one per class, or for binaryFocalLoss a number in
// [0, 1]), and focalLoss rows whose label's logit is 5 to 45 nats (a tenth: 700) above the others
// (`confident`, on 0, 50 or 100% of the rows, for every `from`: q within e^-45 of 1, where
// (1 - q)^gamma must be formed without cancellation), check: true (5%), mixed float32 / float64 inputs
// (20%: every input but the prediction gets its own type), and zero-copy inputs (15%: the wasm
// engines get every array as a WasmArray in their own memory, so the by-address path is taken).
//
// Values: logits uniform in [-scale, scale] or (wide, 20%) log-uniform magnitudes 1e-30..1e30 of
// either sign; probabilities e^(30(u - 1)) (wide: e^(-69u)) times scale, rows normalised unless the
// case asks for normalize; scale in {1e-30, 1e-8, 1, 3, 30, 1e4, 1e30} or log-uniform in
// [1e-30, 1e30]. Specials (-Infinity, NaN, 0, Infinity; 0 mostly for probabilities) at rates 0, 2%
// or 20%.
//
// Tolerance: `agrees` of src/measures/finish.ts, as `check: true` uses it: the float32 contract
// when every data input is a Float32Array (mixed inputs are computed in float64 and held to 1e-12),
// and for values stored in a Float32Array (`out`, `grad`), whose storage is float32. evaluate's
// perplexity is left out (it is exp of the cross-entropy, computed once in shared code).
import fc from "fast-check";
import { ENGINES, type Measures } from "../helpers/engines.js";
import { agrees } from "../../src/measures/measure.js";
import type { WasmArray } from "../../src/engine/memory.js";
import type { WasmEngine } from "../../src/engine/wasm.js";
import { XentError } from "../../src/errors.js";

export const MEASURES = [
  "crossEntropy",
  "crossEntropyDense",
  "focalLoss",
  "focalLossDense",
  "klDivergence",
  "jensenShannon",
  "entropy",
  "binaryCrossEntropy",
  "binaryFocalLoss",
  "evaluate",
  "crossEntropyWithGrad",
  "klDivergenceWithGrad",
] as const;
export type Measure = (typeof MEASURES)[number];
export type EngineName = "wasm-simd" | "wasm";
type From = "logits" | "probs" | "logprobs";
type Ty = "f32" | "f64";
type Float = Float32Array | Float64Array;

export interface FuzzOptions {
  reduction: "mean" | "sum" | "none";
  /** With reduction "none": give an `out` array of this type. */
  out: Ty | null;
  base: number | undefined;
  temperature: number | undefined;
  labelSmoothing: number | undefined;
  weighted: boolean;
  from: From;
  /** The mode of the other side (dense target, P), when it differs from `from`. */
  fromP: From | null;
  normalize: boolean;
  /** Two-input measures: the prediction is the target perturbed by about this much (null: independent). */
  near: number | null;
  ignoreIndex: "default" | "class" | "K" | number;
  /** Share of the rows whose label is ignoreIndex. */
  ignoreRate: number;
  sampleWeight: boolean;
  eps: number | undefined;
  topK: number[] | "K" | null;
  /** binaryCrossEntropy: pass classes (rows x K) rather than one row of everything. */
  bceClasses: boolean;
  bceWeight: "none" | "element" | "class";
  posWeight: "none" | "number" | "class";
  /** crossEntropyWithGrad: dense probability targets instead of class indices. */
  dense: boolean;
  /** The gradient functions: give a `grad` array of the logits' type or of the other type. */
  grad: "none" | "same" | "other";
  /** The focal losses' focusing parameter. */
  gamma: number;
  /** focalLoss: none, one number, or one per class; binaryFocalLoss: none, a number in [0, 1), or 0, 0.25 or 1. */
  alpha: "none" | "number" | "class";
  /** focalLoss with class indices: share of the rows whose target logit is raised far above the others (q near 1). */
  confident: number;
  check: boolean;
  /** Hand the wasm engines every array as a WasmArray in their own memory. */
  zeroCopy: boolean;
}

export interface FuzzCase {
  measure: Measure;
  rows: number;
  classes: number;
  /** Type of the prediction (logits, Q, x). */
  f32: boolean;
  /** Every other float input gets its own random type. */
  mixed: boolean;
  seed: number;
  scale: number;
  /** Element magnitudes log-uniform over 1e-30..1e30 instead of uniform in [-scale, scale]. */
  wide: boolean;
  specials: number;
  options: FuzzOptions;
}

/** An integer log-uniform in [lo, hi]. */
const logUniform = (lo: number, hi: number) =>
  fc.integer({ min: 0, max: 1 << 20 }).map((v) => Math.min(hi, Math.max(lo, Math.round(lo * (hi / lo) ** (v / (1 << 20))))));
const percent = (p: number) => fc.integer({ min: 0, max: 99 }).map((v) => v < p);

const shape = fc.oneof(
  { weight: 60, arbitrary: fc.record({ rows: fc.integer({ min: 1, max: 6 }), classes: fc.integer({ min: 1, max: 70 }) }) },
  { weight: 25, arbitrary: fc.record({ rows: fc.integer({ min: 1, max: 6 }), classes: logUniform(71, 5000) }) },
  { weight: 2, arbitrary: fc.record({ rows: fc.integer({ min: 1, max: 3 }), classes: fc.integer({ min: 5001, max: 100_000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ rows: fc.integer({ min: 1, max: 3 }), classes: fc.constantFrom(100_000, 65_536, 65_537, 32_768, 99_999) }),
  },
  { weight: 1, arbitrary: fc.record({ rows: logUniform(7, 20_000), classes: fc.integer({ min: 1, max: 8 }) }) },
);

const options: fc.Arbitrary<FuzzOptions> = fc.record({
  reduction: fc.constantFrom("mean", "sum", "none"),
  out: fc.constantFrom(null, "f32", "f64"),
  base: fc.constantFrom(undefined, undefined, undefined, 2, 10, 0.5, 1.5),
  temperature: fc.oneof(
    fc.constantFrom(undefined, undefined, 0.5, 2),
    fc.integer({ min: -2000, max: 2000 }).map((v) => 10 ** (v / 1000)),
  ),
  labelSmoothing: fc.oneof(fc.constantFrom(undefined, undefined, 0, 0.1, 1), fc.double({ min: 0, max: 1, noNaN: true })),
  weighted: fc.boolean(),
  from: fc.constantFrom("logits", "probs", "logprobs"),
  fromP: fc.constantFrom(null, null, "logits", "probs", "logprobs"),
  normalize: fc.boolean(),
  near: fc.constantFrom(null, null, null, 0.3, 1e-2, 1e-4, 1e-7),
  ignoreIndex: fc.constantFrom("default", "default", -1, -5, "class", "K", 1_000_000),
  ignoreRate: fc.constantFrom(0, 0.1, 0.1, 0.5, 1),
  sampleWeight: fc.boolean(),
  eps: fc.constantFrom(undefined, undefined, 1e-15, 2.220446049250313e-16, 1.1920929e-7, 1e-3, 0.49),
  topK: fc.oneof(
    fc.constant(null),
    fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
    fc.constant("K" as const),
  ),
  bceClasses: fc.boolean(),
  bceWeight: fc.constantFrom("none", "element", "class"),
  posWeight: fc.constantFrom("none", "number", "class"),
  dense: fc.boolean(),
  grad: fc.constantFrom("none", "same", "other"),
  gamma: fc.oneof(fc.constantFrom(0, 0, 0.5, 1, 2, 2, 5), fc.double({ min: 0, max: 6, noNaN: true })),
  alpha: fc.constantFrom("none", "none", "number", "class"),
  confident: fc.constantFrom(0, 0, 0.5, 1),
  check: percent(5),
  zeroCopy: percent(15),
}) as fc.Arbitrary<FuzzOptions>;

/** fast-check arbitrary of one case (see the header for its distribution). */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    measure: fc.constantFrom(...MEASURES),
    shape,
    f32: fc.boolean(),
    mixed: percent(20),
    seed: fc.integer(),
    scale: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(1e-30, 1e-8, 1, 3, 30, 1e4, 1e30) },
      { weight: 1, arbitrary: fc.integer({ min: -30_000, max: 30_000 }).map((v) => 10 ** (v / 1000)) },
    ),
    wide: percent(20),
    specials: fc.constantFrom(0, 0, 0.02, 0.2),
    options,
  })
  .map(({ shape: s, ...c }) => ({ ...c, rows: s.rows, classes: s.classes }));

/** One call of a measure, with its inputs. */
export interface Call {
  fn:
    | "crossEntropy"
    | "focalLoss"
    | "klDivergence"
    | "jensenShannon"
    | "entropy"
    | "binaryCrossEntropy"
    | "binaryFocalLoss"
    | "evaluate"
    | "crossEntropyWithGrad"
    | "klDivergenceWithGrad";
  args: Array<Float | Int32Array>;
  /** Options; arrays in it (weight, sampleWeight, posWeight) are inputs too. */
  options: Record<string, unknown>;
  /** An `out` array of this type and length to pass (made fresh for every engine). */
  out: { type: Ty; length: number } | null;
  /** A `grad` array of this type to pass (the logits' length). */
  grad: Ty | null;
  /** Whether the float32 contract applies: every float data input is a Float32Array. */
  f32: boolean;
  zeroCopy: boolean;
  /** evaluate: the ranks whose accuracy is read. */
  topK: number[];
}

const SPECIALS = [-Infinity, NaN, 0, Infinity];
const BCE_SPECIALS = [0, 1, NaN, -Infinity, Infinity, -0.5, 1.5];

/** The inputs and options of a case, from its seed (mulberry32). */
export function makeCall(c: FuzzCase): Call {
  let state = c.seed >>> 0;
  const u = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const K = c.classes,
    R = c.rows,
    n = R * K,
    o = c.options;
  const main: Ty = c.f32 ? "f32" : "f64";
  const other = (): Ty => (c.mixed ? (u() < 0.5 ? "f32" : "f64") : main);
  const array = (t: Ty, length: number): Float => (t === "f32" ? new Float32Array(length) : new Float64Array(length));
  // Values are made in a Float64Array (one element type: fast) and converted to float32 at the end.
  const as = (t: Ty, a: Float64Array): Float => (t === "f32" ? new Float32Array(a) : a);
  const sp = c.specials,
    scale = c.scale;

  const logits64 = (): Float64Array => {
    const a = new Float64Array(n);
    if (c.wide) {
      for (let i = 0; i < n; i++) a[i] = u() < sp ? SPECIALS[(u() * 4) | 0] : (u() < 0.5 ? -1 : 1) * 10 ** (60 * u() - 30);
    } else if (sp > 0) {
      for (let i = 0; i < n; i++) a[i] = u() < sp ? SPECIALS[(u() * 4) | 0] : scale * (2 * u() - 1);
    } else {
      for (let i = 0; i < n; i++) a[i] = scale * (2 * u() - 1);
    }
    return a;
  };
  const normalizeRows = (a: Float64Array): Float64Array => {
    if (o.normalize) return a;
    for (let r = 0; r < R; r++) {
      let z = 0;
      for (let k = r * K; k < (r + 1) * K; k++) z += a[k];
      if (z > 0 && Number.isFinite(z)) for (let k = r * K; k < (r + 1) * K; k++) a[k] /= z;
    }
    return a;
  };
  /** Probabilities, rows normalised unless the case asks for normalize. */
  const probs64 = (): Float64Array => {
    const m = Math.max(scale, 1e-30),
      spread = c.wide ? -69 : 30,
      shift = c.wide ? 0 : -1;
    const a = new Float64Array(n);
    if (sp > 0)
      for (let i = 0; i < n; i++) a[i] = u() < sp ? (u() < 0.8 ? 0 : SPECIALS[(u() * 4) | 0]) : Math.exp(spread * (u() + shift)) * m;
    else for (let i = 0; i < n; i++) a[i] = Math.exp(spread * (u() + shift)) * m;
    return normalizeRows(a);
  };
  const log = (a: Float64Array): Float64Array => {
    for (let i = 0; i < n; i++) a[i] = Math.log(a[i]);
    return a;
  };
  const input64 = (mode: From): Float64Array => (mode === "logits" ? logits64() : mode === "probs" ? probs64() : log(probs64()));
  const input = (mode: From, t: Ty): Float => as(t, input64(mode));
  const probs = (t: Ty): Float => as(t, probs64());
  const logits = (t: Ty): Float => as(t, logits64());
  /**
   * A pair of inputs of these modes; with `near` and one mode, the second is the first perturbed by
   * about `near` (relatively; for probabilities in log space, rows renormalised): a student close to its
   * teacher, where divergences are small and their errors must be small with them.
   */
  const pair = (pMode: From, tp: Ty, qMode: From, tq: Ty): [Float, Float] => {
    const p = input64(pMode);
    if (o.near === null || pMode !== qMode) return [as(tp, p), input(qMode, tq)];
    const q = new Float64Array(n),
      e = o.near;
    if (pMode === "probs") {
      for (let i = 0; i < n; i++) q[i] = p[i] * Math.exp(e * (2 * u() - 1));
      normalizeRows(q);
    } else {
      for (let i = 0; i < n; i++) q[i] = p[i] + e * (2 * u() - 1) * Math.max(1, Math.abs(p[i]));
    }
    return [as(tp, p), as(tq, q)];
  };
  /** Per-class or per-row weights in [0, 2), a tenth of them 0. */
  const weights = (length: number): Float => {
    const a = array(other(), length);
    for (let i = 0; i < length; i++) a[i] = u() < 0.1 ? 0 : 2 * u();
    return a;
  };
  const ignoreValue =
    o.ignoreIndex === "default" ? -100 : o.ignoreIndex === "class" ? Math.floor(u() * K) : o.ignoreIndex === "K" ? K : o.ignoreIndex;
  const labels = (): Int32Array => {
    const t = new Int32Array(R);
    for (let r = 0; r < R; r++) t[r] = u() < o.ignoreRate ? ignoreValue : Math.floor(u() * K);
    return t;
  };
  const ignore = o.ignoreIndex === "default" ? {} : { ignoreIndex: ignoreValue };
  const base = o.base === undefined ? {} : { base: o.base };
  const check = o.check ? { check: true } : {};
  const none = o.reduction === "none";
  const call = (fn: Call["fn"], args: Call["args"], options: Record<string, unknown>, extra: Partial<Call> = {}): Call => {
    for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
    const f32 = args.every((a) => a instanceof Int32Array || a instanceof Float32Array);
    return { fn, args, options, out: null, grad: null, f32, zeroCopy: o.zeroCopy, topK: [], ...extra };
  };
  const out = (length: number) => (none && o.out !== null ? { out: { type: o.out, length } } : {});
  const grad = o.grad === "none" ? {} : { grad: o.grad === "same" ? main : main === "f32" ? ("f64" as const) : ("f32" as const) };
  const gradReduction = o.reduction === "sum" ? "sum" : "mean";
  const focalAlpha = () => (o.alpha === "number" ? 2 * u() : o.alpha === "class" ? weights(K) : undefined);
  /**
   * Inputs of this mode in which a share of the rows have their label's logit (class 0 for an
   * ignored label) 5 to 45 nats above the row's largest, or 700 (q within e^-45 of 1, or 1 in
   * float64): where the focal factor (1 - q)^gamma must not come from a cancellation.
   */
  const confident = (mode: From, t: Ty, target: Int32Array): Float => {
    const a = logits64();
    for (let r = 0; r < R; r++) {
      if (u() >= o.confident) continue;
      const k = target[r] >= 0 && target[r] < K ? target[r] : 0;
      let m = 0;
      for (let j = r * K; j < (r + 1) * K; j++) if (a[j] > m && a[j] < Infinity) m = a[j];
      a[r * K + k] = m + (u() < 0.1 ? 700 : 5 + 40 * u());
    }
    if (mode === "logits") return as(t, a);
    for (let r = 0; r < R; r++) {
      let m = -Infinity,
        s = 0;
      for (let j = r * K; j < (r + 1) * K; j++) m = Math.max(m, a[j]);
      for (let j = r * K; j < (r + 1) * K; j++) s += Math.exp(a[j] - m);
      const lse = m + Math.log(s);
      for (let j = r * K; j < (r + 1) * K; j++) a[j] = mode === "logprobs" ? a[j] - lse : Math.exp(a[j] - lse);
    }
    return as(t, a);
  };

  switch (c.measure) {
    case "crossEntropy": {
      const q = input(o.from, main);
      return call(
        "crossEntropy",
        [labels(), q],
        {
          classes: K,
          reduction: o.reduction,
          from: o.from,
          ...base,
          ...ignore,
          ...check,
          weight: o.weighted ? weights(K) : undefined,
          labelSmoothing: o.labelSmoothing,
          sampleWeight: o.sampleWeight ? weights(R) : undefined,
          eps: o.from === "probs" ? o.eps : undefined,
        },
        out(R),
      );
    }
    case "crossEntropyDense": {
      const pMode = o.fromP ?? "probs";
      const [p, q] = pair(pMode, other(), o.from, main);
      return call(
        "crossEntropy",
        [p, q],
        {
          classes: K,
          reduction: o.reduction,
          from: o.fromP === null ? o.from : { p: pMode, q: o.from },
          ...base,
          ...check,
          weight: o.weighted ? weights(K) : undefined,
          labelSmoothing: o.labelSmoothing,
          sampleWeight: o.sampleWeight ? weights(R) : undefined,
          eps: o.from === "probs" ? o.eps : undefined,
        },
        out(R),
      );
    }
    case "focalLoss": {
      const t = labels();
      const q = o.confident > 0 ? confident(o.from, main, t) : input(o.from, main);
      return call(
        "focalLoss",
        [t, q],
        {
          classes: K,
          reduction: o.reduction,
          from: o.from,
          ...base,
          ...ignore,
          ...check,
          gamma: o.gamma,
          alpha: focalAlpha(),
          weight: o.weighted ? weights(K) : undefined,
          labelSmoothing: o.labelSmoothing,
          sampleWeight: o.sampleWeight ? weights(R) : undefined,
        },
        out(R),
      );
    }
    case "focalLossDense": {
      const [p, q] = pair("probs", other(), o.from, main);
      return call(
        "focalLoss",
        [p, q],
        {
          classes: K,
          reduction: o.reduction,
          from: o.from,
          ...base,
          ...check,
          gamma: o.gamma,
          alpha: focalAlpha(),
          weight: o.weighted ? weights(K) : undefined,
          labelSmoothing: o.labelSmoothing,
          sampleWeight: o.sampleWeight ? weights(R) : undefined,
        },
        out(R),
      );
    }
    case "klDivergence":
    case "jensenShannon": {
      const T = o.temperature;
      const qMode: From = T !== undefined ? "logits" : o.from,
        pMode: From = T !== undefined ? "logits" : (o.fromP ?? qMode);
      const [p, q] = pair(pMode, other(), qMode, main);
      return call(
        c.measure,
        [p, q],
        {
          classes: K,
          reduction: o.reduction,
          from: pMode === qMode ? qMode : { p: pMode, q: qMode },
          temperature: T,
          normalize: o.normalize,
          ...base,
          ...check,
        },
        out(R),
      );
    }
    case "entropy": {
      const T = o.temperature,
        mode: From = T !== undefined ? "logits" : o.from;
      return call(
        "entropy",
        [input(mode, main)],
        {
          classes: K,
          reduction: o.reduction,
          from: mode,
          temperature: T,
          normalize: o.normalize,
          ...base,
          ...check,
        },
        out(R),
      );
    }
    case "binaryCrossEntropy": {
      const logitsMode = o.from === "logits";
      const y = array(other(), n);
      for (let i = 0; i < n; i++) y[i] = u() < sp ? BCE_SPECIALS[(u() * BCE_SPECIALS.length) | 0] : u() < 0.5 ? Math.round(u()) : u();
      let x: Float;
      if (logitsMode) x = logits(main);
      else {
        x = array(main, n);
        for (let i = 0; i < n; i++) {
          x[i] =
            u() < sp
              ? BCE_SPECIALS[(u() * BCE_SPECIALS.length) | 0]
              : !c.wide
                ? u()
                : u() < 0.5
                  ? Math.exp(-69 * u())
                  : 1 - Math.exp(-37 * u());
        }
      }
      const perClass = o.bceWeight === "class" && o.bceClasses && (K > 1 || R === 1);
      return call(
        "binaryCrossEntropy",
        [y, x],
        {
          ...(o.bceClasses ? { classes: K } : {}),
          reduction: o.reduction,
          from: logitsMode ? "logits" : "probs",
          ...base,
          ...check,
          weight: o.bceWeight === "element" ? weights(n) : perClass ? weights(K) : undefined,
          posWeight: o.posWeight === "number" ? 3 * u() : o.posWeight === "class" ? weights(K) : undefined,
        },
        out(n),
      );
    }
    case "binaryFocalLoss": {
      const logitsMode = o.from !== "probs";
      const y = array(other(), n);
      for (let i = 0; i < n; i++) y[i] = u() < sp ? BCE_SPECIALS[(u() * BCE_SPECIALS.length) | 0] : u() < 0.5 ? Math.round(u()) : u();
      let x: Float;
      if (logitsMode) x = logits(main);
      else {
        x = array(main, n);
        for (let i = 0; i < n; i++) {
          x[i] =
            u() < sp
              ? BCE_SPECIALS[(u() * BCE_SPECIALS.length) | 0]
              : !c.wide
                ? u()
                : u() < 0.5
                  ? Math.exp(-69 * u())
                  : 1 - Math.exp(-37 * u());
        }
      }
      const alpha = o.alpha === "none" ? undefined : o.alpha === "number" ? u() : [0, 0.25, 1][(u() * 3) | 0];
      return call(
        "binaryFocalLoss",
        [y, x],
        {
          reduction: o.reduction,
          from: logitsMode ? "logits" : "probs",
          gamma: o.gamma,
          alpha,
          ...base,
          ...check,
          weight: o.bceWeight === "none" ? undefined : weights(n),
        },
        out(n),
      );
    }
    case "evaluate": {
      const topK = o.topK === "K" ? [1, K, K + 1] : o.topK;
      return call(
        "evaluate",
        [labels(), logits(main)],
        {
          classes: K,
          ...ignore,
          weight: o.weighted ? weights(K) : undefined,
          topK: topK ?? undefined,
        },
        { topK: [...new Set(topK ?? [1])].sort((a, b) => a - b) },
      );
    }
    case "crossEntropyWithGrad": {
      const target = o.dense ? probs(other()) : labels();
      return call(
        "crossEntropyWithGrad",
        [target, logits(main)],
        {
          classes: K,
          reduction: gradReduction,
          ...base,
          ...check,
          ...(o.dense ? {} : ignore),
          weight: o.weighted ? weights(K) : undefined,
          labelSmoothing: o.labelSmoothing,
          sampleWeight: o.sampleWeight ? weights(R) : undefined,
        },
        grad,
      );
    }
    default: {
      const [p, q] = pair("logits", other(), "logits", main);
      return call(
        "klDivergenceWithGrad",
        [p, q],
        {
          classes: K,
          reduction: gradReduction,
          temperature: o.temperature,
          ...base,
          ...check,
        },
        grad,
      );
    }
  }
}

/** Named runs of values with the tolerance they are held to. */
type Values = Array<{ name: string; v: ArrayLike<number>; f32: boolean }>;

const ctorOf = (t: Ty) => (t === "f32" ? Float32Array : Float64Array);

/** Calls the measure on `m`; with `memory` (a wasm engine and call.zeroCopy), every array lives in its memory. */
function invoke(m: Measures, engine: WasmEngine | null, call: Call, held: Array<{ copy: WasmArray; of: Float | Int32Array }>): Values {
  const blocks: WasmArray[] = [];
  const place = <T extends Float | Int32Array>(a: T): T | WasmArray => {
    if (engine === null) return a;
    const w = engine.memory.allocate(a.constructor as never, a.length) as WasmArray;
    (w.view as unknown as T).set(a as never);
    blocks.push(w);
    held.push({ copy: w, of: a });
    return w;
  };
  const fresh = (t: Ty, length: number) => {
    if (engine === null) return new (ctorOf(t))(length);
    const w = t === "f32" ? engine.memory.allocate(Float32Array, length) : engine.memory.allocate(Float64Array, length);
    blocks.push(w as WasmArray);
    return w;
  };
  try {
    const args = call.args.map(place);
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(call.options)) options[k] = v instanceof Float32Array || v instanceof Float64Array ? place(v) : v;
    const outArg = call.out === null ? null : fresh(call.out.type, call.out.length);
    if (outArg !== null) options.out = outArg;
    const gradArg = call.grad === null ? null : fresh(call.grad, (call.args[1] as Float).length);
    if (gradArg !== null) options.grad = gradArg;
    const view = (a: unknown) => (a !== null && typeof a === "object" && "view" in a ? (a as WasmArray).view : a);
    const fn = m[call.fn] as (...a: unknown[]) => unknown;
    const r = fn(...args, options);
    if (call.fn === "evaluate") {
      const e = r as { rows: number; crossEntropy: number; accuracy: number; entropy: number; topK: Record<number, number> };
      return [
        {
          name: "rows, crossEntropy, accuracy, entropy, topK",
          v: [e.rows, e.crossEntropy, e.accuracy, e.entropy, ...call.topK.map((k) => e.topK[k])],
          f32: call.f32,
        },
      ];
    }
    if (call.fn === "crossEntropyWithGrad" || call.fn === "klDivergenceWithGrad") {
      const g = r as { loss: number; grad: Float };
      if (gradArg !== null && g.grad !== view(gradArg)) throw new Error(`${call.fn} did not return the grad array it was given`);
      return [
        { name: "loss", v: [g.loss], f32: call.f32 },
        { name: "grad", v: g.grad.slice(), f32: call.f32 || g.grad instanceof Float32Array },
      ];
    }
    if (typeof r === "number") return [{ name: "result", v: [r], f32: call.f32 }];
    if (outArg !== null && r !== view(outArg)) throw new Error(`${call.fn} did not return the out array it was given`);
    return [{ name: "per-row values", v: (r as Float).slice(), f32: call.f32 || r instanceof Float32Array }];
  } finally {
    for (const w of blocks) if (!held.some((h) => h.copy === w)) w.free();
  }
}

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every array input of the call (positional and in options). */
function inputsOf(call: Call): Array<Float | Int32Array> {
  const opts = Object.values(call.options).filter((v): v is Float => v instanceof Float32Array || v instanceof Float64Array);
  return [...call.args, ...opts];
}

function compare(got: Values, want: Values, engine: string): string | null {
  if (got.length !== want.length) return `${engine} gave ${got.length} runs of values, the reference ${want.length}`;
  for (let s = 0; s < want.length; s++) {
    const g = got[s].v,
      w = want[s].v,
      f32 = want[s].f32 || got[s].f32;
    if (g.length !== w.length) return `${want[s].name}: lengths ${g.length} (${engine}) vs ${w.length}`;
    for (let i = 0; i < w.length; i++) {
      if (!agrees(g[i], w[i], f32)) return `${want[s].name}[${i}]: ${engine} ${g[i]}, reference ${w[i]}`;
    }
  }
  return null;
}

const describeError = (e: unknown) => (e instanceof XentError ? `${e.code}: ${e.message}` : String((e as Error)?.stack ?? e));

export interface Outcome {
  /** One line per engine (or the reference) that went wrong. */
  failures: Array<{ engine: EngineName | "js"; why: string }>;
  /** The reference refused the case (a validation error), and the engines refused it alike. */
  refused: boolean;
}

/** Runs one case on the reference (once) and on each engine, on the same inputs; what went wrong. */
export function runCase(c: FuzzCase, engines: readonly EngineName[] = ["wasm-simd", "wasm"]): Outcome {
  const call = makeCall(c);
  const inputs = inputsOf(call);
  const before = inputs.map((a) => a.slice());
  const failures: Outcome["failures"] = [];
  const untouched = (who: EngineName | "js", held: Array<{ copy: WasmArray; of: Float | Int32Array }>) => {
    inputs.forEach((a, i) => {
      if (!bytes(a).equals(bytes(before[i])))
        failures.push({ engine: who, why: `changed input ${i} (${a.constructor.name} of ${a.length})` });
    });
    for (const h of held) {
      if (!bytes(h.copy.view).equals(bytes(h.of)))
        failures.push({ engine: who, why: `changed a zero-copy input (${h.copy.view.constructor.name} of ${h.copy.length})` });
      h.copy.free();
    }
  };
  let want: Values | null = null,
    refused: unknown = null;
  try {
    want = invoke(ENGINES.js, null, call, []);
  } catch (e) {
    refused = e;
  }
  untouched("js", []);
  if (refused !== null && !(refused instanceof XentError)) {
    failures.push({ engine: "js", why: `the reference threw ${describeError(refused)}` });
    return { failures, refused: false };
  }
  for (const e of engines) {
    const m = ENGINES[e];
    const held: Array<{ copy: WasmArray; of: Float | Int32Array }> = [];
    let got: Values | null = null,
      threw: unknown = null;
    try {
      got = invoke(m, call.zeroCopy ? (m.engine as WasmEngine) : null, call, held);
    } catch (x) {
      threw = x;
    }
    untouched(e, held);
    let why: string | null = null;
    if (refused !== null) {
      // A case the reference refuses must be refused the same way by the engine.
      if (threw === null) why = `the reference threw ${describeError(refused)} but ${e} did not`;
      else if (!(threw instanceof XentError) || threw.code !== (refused as XentError).code)
        why = `different errors: ${describeError(refused)} / ${describeError(threw)}`;
    } else if (threw !== null) why = `${e} threw ${describeError(threw)}`;
    else why = compare(got!, want!, e);
    if (why !== null) failures.push({ engine: e, why });
  }
  return { failures, refused: refused !== null };
}

/** Whether the engine's results match the reference's for this case; the first difference otherwise. */
export function differs(engine: EngineName, c: FuzzCase): string | null {
  const { failures } = runCase(c, [engine]);
  return failures.length === 0 ? null : failures.map((f) => `${f.engine}: ${f.why}`).join("; ");
}
