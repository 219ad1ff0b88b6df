// The bad-input matrix: every public function (as a spec: its valid calls and which of its
// arguments hold what) crossed with every class of bad input (each a generator of concrete cases
// from a spec). Pure data and functions; bad-input.test.ts runs the cases on each engine and the pool.
import type { XentErrorCode } from "../../src/errors.js";
import * as REFERENCE from "../../src/reference/index.js";

// ---------------------------------------------------------------------------------------------
// The input classes of the hardening issue, in its order.

export const CLASSES = [
  "wrongType",
  "nonNumbers",
  "lengths",
  "classes",
  "indices",
  "weights",
  "options",
  "detached",
  "offsetViews",
  "shared",
  "tooLarge",
] as const;
export type ClassName = (typeof CLASSES)[number];

export const CLASS_TITLES: Record<ClassName, string> = {
  wrongType: "wrong array types (strings, objects, Uint8Array, BigInt64Array, numbers, null, undefined)",
  nonNumbers: "number[] holding non-numbers",
  lengths: "lengths that do not fit classes (or each other)",
  classes: "classes 0, negative, fractional, NaN, not a number",
  indices: "class indices out of range, negative (not ignoreIndex), fractional",
  weights: "weights of the wrong length",
  options: "unknown options and bad option values (fromJSON: malformed states)",
  detached: "detached ArrayBuffers (and freed or stale WasmArray views)",
  offsetViews: "views with offsets into larger buffers (valid: same result as a fresh array)",
  shared: "SharedArrayBuffer-backed arrays (valid: same result as a plain array)",
  tooLarge: "arrays too large (sparse number[] of length 2^32 - 1; valid: one row over 1 MiB)",
};

// ---------------------------------------------------------------------------------------------
// Data: 2 rows x 3 classes, float32. Every builder returns fresh arrays.

export const K = 3,
  ROWS = 2;
const f32 = (...v: number[]) => new Float32Array(v);
export const D = {
  X: () => f32(1, 2, 3, 4, 5, 6), // logits
  X2: () => f32(0.5, -1, 2, 3, 3, -2), // a second batch (Evaluator sessions)
  Y: () => f32(3, 1, 2, -1, 0.5, 2), // teacher logits
  L: () => new Int32Array([0, 2]),
  L2: () => new Int32Array([1, 0]),
  P: () => f32(0.2, 0.3, 0.5, 0.6, 0.3, 0.1),
  Q: () => f32(0.1, 0.6, 0.3, 0.3, 0.3, 0.4),
  W: () => f32(0.5, 1, 2), // per class
  SW: () => f32(1, 0.25), // per row
  T01: () => f32(1, 0, 1, 0, 0.5, 1), // binary targets
  TI: () => new Int32Array([1, 0, 1, 0, 0, 1]), // binary targets as integers
  PR: () => f32(0.9, 0.2, 0.6, 0.3, 0.5, 0.8), // binary probabilities
  BW: () => f32(1, 2, 1, 0.5, 1, 1), // per element
  PW: () => f32(1, 2, 0.5), // posWeight per class
  A: () => f32(0.25, 0.5, 1), // focal alpha per class
};

/** One row of BIG classes: 1.2 MB of float32, more than the engines' 1 MiB row slots. */
export const BIG = 300_000;
const bigRow = (phase: number) => Float32Array.from({ length: BIG }, (_, i) => 4 * Math.sin(i * 0.37 + phase));

// ---------------------------------------------------------------------------------------------
// Specs.

/** What an argument holds; it decides which bad values apply and which code they give. */
export type Kind =
  | "float" // float data: Float32Array / Float64Array / number[]
  | "index" // class indices
  | "dense" // crossEntropy's dense target (a float array; index arrays there mean class indices)
  | "binary" // binaryCrossEntropy's target (floats, or 0/1 integers)
  | "weight" // weight / sampleWeight / posWeight arrays
  | "out" // reduction "none" output
  | "grad"; // gradient output

/** Where an argument is: a position, or an option of the options object at `optsAt`. */
export type Loc = number | string;

export interface Slot {
  at: Loc;
  kind: Kind;
  /** The name the library's messages use for it. */
  name: string;
  /** The valid lengths of a weight array other than its own (binaryCrossEntropy's per-class weight). */
  alsoValid?: number[];
}

/** Weight-like arguments that may also be a plain number. */
const NUMBER_TOO = new Set(["posWeight", "alpha"]);

export interface Base {
  label: string;
  args(env: Env): unknown[];
  slots: Slot[];
}

/** What a case runs on: an engine's measures, the pool, or the reference. */
export interface Env {
  name: string;
  api: any;
  /** Calls return promises (the pool). */
  async: boolean;
  /** allocate() of this engine's (or pool's) memory, for zero-copy views; null where there is none. */
  memory: { allocate(ctor: unknown, n: number): { view: Typed; free(): void } } | null;
  /** Grows the memory so that earlier views on it detach; null where views never detach. */
  grow: (() => void) | null;
}

export type FnName =
  | "crossEntropy"
  | "klDivergence"
  | "jensenShannon"
  | "entropy"
  | "binaryCrossEntropy"
  | "focalLoss"
  | "binaryFocalLoss"
  | "evaluate"
  | "Evaluator()"
  | "Evaluator.update"
  | "Evaluator.merge"
  | "Evaluator.fromJSON"
  | "crossEntropyWithGrad"
  | "klDivergenceWithGrad";

export interface FnSpec {
  fn: FnName;
  /** bases[0] is the valid call run after every bad case. */
  bases: Base[];
  /** Index of the options object among the arguments (none: no options). */
  optsAt?: number;
  /** Option names the function takes. */
  options: readonly string[];
  /**
   * Opens a session on an API: the returned function makes one call. A bad case and the valid call
   * after it go through the same session (for update and merge: the same Evaluator).
   */
  open(env: Env): (args: unknown[]) => unknown;
  /** A valid call on one row of BIG classes (the documented oversized-row path), where it applies. */
  big?: () => unknown[];
  /** Its sessions already hold float32 results (update's first batch): float32 accuracy applies. */
  float32Session?: boolean;
  /** Cases of this function alone, by class (added to the generic ones). */
  extra?: Partial<Record<ClassName, Case[]>>;
}

export interface Expected {
  code: XentErrorCode;
  message?: RegExp;
}

export interface Case {
  name: string;
  /** The arguments, given the spec's valid ones and the environment. */
  args(env: Env, valid: unknown[]): unknown[];
  /**
   * An XentError; or valid: the same result as bases[valid] on fresh arrays (a number), or as the
   * reference on the same arguments ("self").
   */
  expect: Expected | { valid: number | "self" };
  /** A float input is float64: the float64 kernels and their accuracy contract. */
  f64?: boolean;
  /** For valid "self" cases: the same numbers in fresh plain arrays, whose result must be the same bits. */
  fresh?(env: Env, valid: unknown[]): unknown[];
  /** Extra checks on a valid call's arguments after it ran (e.g. outside an out view's window). */
  after?(args: unknown[]): void;
  /** Only where the environment has this. */
  needs?: "memory" | "grow";
}

const stateless = (fn: string) => (env: Env) => (a: unknown[]) => env.api[fn](...a);

/**
 * A gradient written over an input (in place, to save memory), or beside it in one buffer: valid,
 * the same as into a fresh array; with check: true too (the reference must not read the gradient).
 */
function inPlaceCases(inputs: Array<[string, number]>): Case[] {
  const cases: Case[] = [];
  for (const [name, at] of inputs) {
    for (const check of [false, true]) {
      cases.push({
        name: `grad: ${name} itself (in place)${check ? ", check: true" : ""}`,
        args: (_e, v) => {
          const x = (v[at] as Float32Array).slice();
          const a = [...v];
          a[at] = x;
          return withOpts(a, 2, { grad: x, ...(check ? { check } : {}) });
        },
        expect: { valid: "self" },
        fresh: (_e, v) => (check ? withOpts(v, 2, { check }) : v),
      });
    }
    cases.push({
      name: `grad: ${name} itself, in a block of module memory (zero-copy, in place)`,
      args: (env, v) => {
        const w = env.memory!.allocate(Float32Array, ROWS * K);
        w.view.set(v[at] as Float32Array);
        const a = [...v];
        a[at] = w.view;
        return withOpts(a, 2, { grad: w.view });
      },
      expect: { valid: "self" },
      fresh: (_e, v) => v,
      needs: "memory",
    });
    cases.push({
      name: `grad and ${name} side by side in one ArrayBuffer`,
      args: (_e, v) => {
        const buf = new ArrayBuffer(2 * ROWS * K * 4);
        const x = new Float32Array(buf, 0, ROWS * K),
          g = new Float32Array(buf, ROWS * K * 4, ROWS * K);
        x.set(v[at] as Float32Array);
        const a = [...v];
        a[at] = x;
        return withOpts(a, 2, { grad: g });
      },
      expect: { valid: "self" },
      fresh: (_e, v) => v,
    });
  }
  return cases;
}

/** The Evaluator options of the evaluation specs. */
const EV_OPTS = () => ({ classes: K, topK: [1, 2], ignoreIndex: -100, weight: D.W() });

export const SPECS: FnSpec[] = [
  {
    fn: "crossEntropy",
    optsAt: 2,
    options: ["classes", "reduction", "base", "out", "check", "from", "weight", "ignoreIndex", "labelSmoothing", "sampleWeight", "eps"],
    bases: [
      {
        label: "class indices, logits, weights",
        args: () => [D.L(), D.X(), { classes: K, weight: D.W(), sampleWeight: D.SW(), labelSmoothing: 0.1 }],
        slots: [
          { at: 0, kind: "index", name: "target" },
          { at: 1, kind: "float", name: "prediction" },
          { at: "weight", kind: "weight", name: "weight" },
          { at: "sampleWeight", kind: "weight", name: "sampleWeight" },
        ],
      },
      {
        label: "dense target, probabilities, out",
        args: () => [D.P(), D.Q(), { classes: K, from: "probs", eps: 1e-7, reduction: "none", out: new Float64Array(ROWS) }],
        slots: [
          { at: 0, kind: "dense", name: "target" },
          { at: "out", kind: "out", name: "out" },
        ],
      },
    ],
    open: stateless("crossEntropy"),
    big: () => [new Int32Array([7]), bigRow(0)],
    extra: {
      wrongType: [
        {
          name: "truth and prediction swapped",
          args: () => [D.X(), D.L()],
          expect: { code: "ARGUMENT_ORDER", message: /truth comes first/ },
        },
      ],
      lengths: [
        {
          name: "no classes, 4 labels for 6 logits",
          args: () => [new Int32Array([0, 1, 2, 0]), D.X()],
          expect: { code: "SHAPE_MISMATCH" },
        },
        {
          name: "classes: 4 does not divide the 6 logits",
          args: (_e, v) => withOpts(v, 2, { classes: 4 }),
          expect: { code: "SHAPE_MISMATCH" },
        },
      ],
      options: [
        { name: "eps with logits", args: (_e, v) => withOpts(v, 2, { eps: 1e-7 }), expect: { code: "INVALID_OPTION", message: /eps/ } },
      ],
    },
  },
  ...(["klDivergence", "jensenShannon"] as const).map(
    (fn): FnSpec => ({
      fn,
      optsAt: 2,
      options: ["classes", "reduction", "base", "out", "check", "from", "temperature", "normalize"],
      bases: [
        {
          label: "probabilities",
          args: () => [D.P(), D.Q(), { classes: K }],
          slots: [
            { at: 0, kind: "float", name: "p" },
            { at: 1, kind: "float", name: "q" },
          ],
        },
        {
          label: "logits, temperature, out",
          args: () => [D.Y(), D.X(), { classes: K, from: "logits", temperature: 2, reduction: "none", out: new Float32Array(ROWS) }],
          slots: [{ at: "out", kind: "out", name: "out" }],
        },
      ],
      open: stateless(fn),
      big: () => [bigRow(1), bigRow(0), { from: "logits" }],
      extra: {
        lengths: [
          { name: "empty p and q without classes", args: () => [[], []], expect: { code: "SHAPE_MISMATCH", message: /empty/ } },
          { name: "classes: 4 does not divide 6", args: (_e, v) => withOpts(v, 2, { classes: 4 }), expect: { code: "SHAPE_MISMATCH" } },
        ],
        weights: noWeights(2),
        options: [
          {
            name: "temperature with probabilities",
            args: (_e, v) => withOpts(v, 2, { temperature: 2 }),
            expect: { code: "INVALID_OPTION", message: /temperature/ },
          },
        ],
      },
    }),
  ),
  {
    fn: "entropy",
    optsAt: 1,
    options: ["classes", "reduction", "base", "out", "check", "from", "temperature", "normalize"],
    bases: [
      { label: "probabilities", args: () => [D.P(), { classes: K }], slots: [{ at: 0, kind: "float", name: "p" }] },
      {
        label: "logits, temperature, out",
        args: () => [D.X(), { classes: K, from: "logits", temperature: 0.5, reduction: "none", out: new Float64Array(ROWS) }],
        slots: [{ at: "out", kind: "out", name: "out" }],
      },
    ],
    open: stateless("entropy"),
    big: () => [bigRow(0), { from: "logits" }],
    extra: {
      lengths: [
        { name: "empty without classes", args: () => [[]], expect: { code: "SHAPE_MISMATCH", message: /empty/ } },
        { name: "classes: 4 does not divide 6", args: (_e, v) => withOpts(v, 1, { classes: 4 }), expect: { code: "SHAPE_MISMATCH" } },
      ],
      weights: noWeights(1),
      options: [
        {
          name: "temperature with probabilities",
          args: (_e, v) => withOpts(v, 1, { temperature: 2 }),
          expect: { code: "INVALID_OPTION", message: /temperature/ },
        },
      ],
    },
  },
  {
    fn: "binaryCrossEntropy",
    optsAt: 2,
    options: ["classes", "reduction", "base", "out", "check", "from", "weight", "posWeight"],
    bases: [
      {
        label: "float targets, probabilities, weights",
        args: () => [D.T01(), D.PR(), { classes: K, weight: D.BW(), posWeight: D.PW() }],
        slots: [
          { at: 0, kind: "binary", name: "target" },
          { at: 1, kind: "float", name: "prediction" },
          { at: "weight", kind: "weight", name: "weight", alsoValid: [K] },
          { at: "posWeight", kind: "weight", name: "posWeight" },
        ],
      },
      {
        label: "integer targets, logits, out",
        args: () => [D.TI(), D.X(), { from: "logits", reduction: "none", out: new Float64Array(ROWS * K) }],
        slots: [
          { at: 0, kind: "binary", name: "target" },
          { at: "out", kind: "out", name: "out" },
        ],
      },
    ],
    open: stateless("binaryCrossEntropy"),
    big: () => [Float32Array.from(bigRow(2), (v) => (v > 0 ? 1 : 0)), bigRow(0), { from: "logits" }],
    extra: {
      lengths: [
        // Per-class posWeight (3 values) no longer fits: that is what is reported.
        {
          name: "classes: 4 does not divide 6",
          args: (_e, v) => withOpts(v, 2, { classes: 4 }),
          expect: { code: "INVALID_WEIGHT", message: /posWeight/ },
        },
        {
          name: "classes: 4 does not divide 6 (posWeight a number)",
          args: (_e, v) => withOpts(v, 2, { classes: 4, posWeight: 2 }),
          expect: { code: "SHAPE_MISMATCH" },
        },
      ],
      weights: [
        {
          name: "posWeight empty, no classes",
          args: () => [D.T01(), D.PR(), { posWeight: [] }],
          expect: { code: "INVALID_WEIGHT", message: /posWeight/ },
        },
        {
          name: "posWeight of 4 for 6 elements, no classes",
          args: () => [D.T01(), D.PR(), { posWeight: [1, 1, 1, 1] }],
          expect: { code: "SHAPE_MISMATCH" },
        },
      ],
      options: [
        {
          name: "from logprobs",
          args: (_e, v) => withOpts(v, 2, { from: "logprobs" }),
          expect: { code: "INVALID_OPTION", message: /from/ },
        },
      ],
    },
  },
  {
    fn: "focalLoss",
    optsAt: 2,
    options: [
      "classes",
      "reduction",
      "base",
      "out",
      "check",
      "from",
      "weight",
      "ignoreIndex",
      "labelSmoothing",
      "sampleWeight",
      "gamma",
      "alpha",
    ],
    bases: [
      {
        label: "class indices, logits, weights, alpha per class",
        args: () => [D.L(), D.X(), { classes: K, weight: D.W(), sampleWeight: D.SW(), labelSmoothing: 0.1, gamma: 1.5, alpha: D.A() }],
        slots: [
          { at: 0, kind: "index", name: "target" },
          { at: 1, kind: "float", name: "prediction" },
          { at: "weight", kind: "weight", name: "weight" },
          { at: "sampleWeight", kind: "weight", name: "sampleWeight" },
          { at: "alpha", kind: "weight", name: "alpha" },
        ],
      },
      {
        label: "dense target, probabilities, alpha a number, out",
        args: () => [D.P(), D.Q(), { classes: K, from: "probs", gamma: 0.5, alpha: 0.25, reduction: "none", out: new Float64Array(ROWS) }],
        slots: [
          { at: 0, kind: "dense", name: "target" },
          { at: "out", kind: "out", name: "out" },
        ],
      },
    ],
    open: stateless("focalLoss"),
    big: () => [new Int32Array([7]), bigRow(0)],
    extra: {
      wrongType: [
        {
          name: "truth and prediction swapped",
          args: () => [D.X(), D.L()],
          expect: { code: "ARGUMENT_ORDER", message: /truth comes first/ },
        },
      ],
      lengths: [
        {
          name: "no classes, 4 labels for 6 logits",
          args: () => [new Int32Array([0, 1, 2, 0]), D.X()],
          expect: { code: "SHAPE_MISMATCH" },
        },
        {
          name: "classes: 4 does not divide the 6 logits",
          args: (_e, v) => withOpts(v, 2, { classes: 4 }),
          expect: { code: "SHAPE_MISMATCH" },
        },
      ],
      weights: [
        { name: "alpha NaN", args: (_e, v) => withOpts(v, 2, { alpha: NaN }), expect: { code: "INVALID_WEIGHT", message: /alpha/ } },
        {
          name: "alpha Infinity",
          args: (_e, v) => withOpts(v, 2, { alpha: Infinity }),
          expect: { code: "INVALID_WEIGHT", message: /alpha/ },
        },
        // Not an error: one number for every class.
        { name: "alpha a number", args: (_e, v) => withOpts(v, 2, { alpha: 0.75 }), expect: { valid: "self" } },
      ],
      options: [
        {
          name: "eps (crossEntropy's, not focalLoss's)",
          args: (_e, v) => withOpts(v, 2, { eps: 1e-7 }),
          expect: { code: "UNKNOWN_OPTION", message: /"eps"/ },
        },
      ],
    },
  },
  {
    fn: "binaryFocalLoss",
    optsAt: 2,
    options: ["reduction", "base", "out", "check", "from", "gamma", "alpha", "weight"],
    bases: [
      {
        label: "float targets, logits, weights, alpha",
        args: () => [D.T01(), D.X(), { weight: D.BW(), gamma: 1.5, alpha: 0.25 }],
        slots: [
          { at: 0, kind: "binary", name: "target" },
          { at: 1, kind: "float", name: "prediction" },
          { at: "weight", kind: "weight", name: "weight" },
        ],
      },
      {
        label: "integer targets, probabilities, out",
        args: () => [D.TI(), D.PR(), { from: "probs", reduction: "none", out: new Float64Array(ROWS * K) }],
        slots: [
          { at: 0, kind: "binary", name: "target" },
          { at: "out", kind: "out", name: "out" },
        ],
      },
    ],
    open: stateless("binaryFocalLoss"),
    big: () => [Float32Array.from(bigRow(2), (v) => (v > 0 ? 1 : 0)), bigRow(0)],
    extra: {
      classes: [
        {
          name: "classes (each element is its own: none to give)",
          args: (_e, v) => withOpts(v, 2, { classes: K }),
          expect: { code: "UNKNOWN_OPTION", message: /"classes"/ },
        },
      ],
      weights: [
        {
          name: "weight one per class (3 for 6 elements)",
          args: (_e, v) => withOpts(v, 2, { weight: D.W() }),
          expect: { code: "INVALID_WEIGHT", message: /weight/ },
        },
      ],
      options: [
        {
          name: "from logprobs",
          args: (_e, v) => withOpts(v, 2, { from: "logprobs" }),
          expect: { code: "INVALID_OPTION", message: /from/ },
        },
        {
          name: "posWeight (binaryCrossEntropy's, not binaryFocalLoss's)",
          args: (_e, v) => withOpts(v, 2, { posWeight: 2 }),
          expect: { code: "UNKNOWN_OPTION", message: /"posWeight"/ },
        },
        ...[-0.1, 1.5, NaN, Infinity, "0.25", null, [0.25]].map(
          (alpha): Case => ({
            name: `alpha: ${optionLabel(alpha)}`,
            args: (_e, v) => withOpts(v, 2, { alpha }),
            expect: { code: "INVALID_OPTION", message: /alpha/ },
          }),
        ),
      ],
    },
  },
  {
    fn: "evaluate",
    optsAt: 2,
    options: ["classes", "topK", "ignoreIndex", "weight"],
    bases: [
      {
        label: "labels, logits, weights, topK",
        args: () => [D.L(), D.X(), EV_OPTS()],
        slots: [
          { at: 0, kind: "index", name: "labels" },
          { at: 1, kind: "float", name: "logits" },
          { at: "weight", kind: "weight", name: "weight" },
        ],
      },
    ],
    open: stateless("evaluate"),
    big: () => [new Int32Array([7]), bigRow(0), { topK: [1, 5] }],
    extra: {
      wrongType: [
        { name: "labels and logits swapped", args: () => [D.X(), D.L()], expect: { code: "ARGUMENT_ORDER" } },
        // Without classes, the labels' length gives them: a bad labels argument is still a type error.
        ...(
          [
            ["null", null],
            ["undefined", undefined],
            ["a number", 2],
            ["a string", "02"],
            ["an object with a length", { length: 2 }],
          ] as const
        ).map(
          ([what, v]): Case => ({
            name: `labels ${what}, no classes`,
            args: () => [v, D.X()],
            expect: { code: "INVALID_TYPE", message: /labels/ },
          }),
        ),
      ],
      lengths: [
        {
          name: "no classes, 4 labels for 6 logits",
          args: () => [new Int32Array([0, 1, 2, 0]), D.X()],
          expect: { code: "SHAPE_MISMATCH" },
        },
        // The per-class weight (3 values) no longer fits 4 classes: that is what is reported.
        { name: "classes: 4 does not divide 6", args: (_e, v) => withOpts(v, 2, { classes: 4 }), expect: { code: "INVALID_WEIGHT" } },
        {
          name: "classes: 4 does not divide 6 (no weight)",
          args: () => [D.L(), D.X(), { classes: 4 }],
          expect: { code: "SHAPE_MISMATCH" },
        },
      ],
    },
  },
  {
    fn: "Evaluator()",
    optsAt: 0,
    options: ["classes", "topK", "ignoreIndex", "weight"],
    bases: [{ label: "options with weights", args: () => [EV_OPTS()], slots: [{ at: "weight", kind: "weight", name: "weight" }] }],
    open: (env) => (a) => new env.api.Evaluator(...a).update(D.L(), D.X()).result(),
    extra: {
      wrongType: [
        { name: "no options (classes is required)", args: () => [undefined], expect: { code: "INVALID_CLASSES", message: /required/ } },
      ],
      tooLarge: [
        {
          name: "topK far above classes (valid: every row a hit)",
          args: () => [{ classes: K, topK: [1, 2 ** 40] }],
          expect: { valid: "self" },
        },
      ],
    },
  },
  {
    fn: "Evaluator.update",
    bases: [
      {
        label: "labels, logits",
        args: () => [D.L(), D.X()],
        slots: [
          { at: 0, kind: "index", name: "labels" },
          { at: 1, kind: "float", name: "logits" },
        ],
      },
    ],
    options: [],
    float32Session: true,
    // One Evaluator per session, with a batch already in: a failed update must leave it unchanged.
    open: (env) => {
      const ev = new env.api.Evaluator(EV_OPTS()).update(D.L2(), D.X2());
      return (a) => ev.update(...a).result();
    },
    extra: {
      wrongType: [{ name: "labels and logits swapped", args: () => [D.X(), D.L()], expect: { code: "ARGUMENT_ORDER" } }],
    },
  },
  {
    fn: "Evaluator.merge",
    bases: [{ label: "a compatible Evaluator", args: (env) => [new env.api.Evaluator(EV_OPTS()).update(D.L(), D.X())], slots: [] }],
    options: [],
    open: (env) => {
      const ev = new env.api.Evaluator(EV_OPTS()).update(D.L2(), D.X2());
      return (a) => ev.merge(...(a as [unknown])).result();
    },
    extra: mergeCases(),
  },
  {
    fn: "Evaluator.fromJSON",
    bases: [{ label: "a state's JSON text", args: () => [JSON.stringify(goodState())], slots: [] }],
    options: [],
    open: (env) => (a) => env.api.Evaluator.fromJSON(...a).result(),
    extra: fromJsonCases(),
  },
  {
    fn: "crossEntropyWithGrad",
    optsAt: 2,
    options: ["classes", "reduction", "base", "check", "from", "weight", "ignoreIndex", "labelSmoothing", "sampleWeight", "grad"],
    bases: [
      {
        label: "class indices, weights, grad",
        args: () => [
          D.L(),
          D.X(),
          { classes: K, weight: D.W(), sampleWeight: D.SW(), labelSmoothing: 0.1, grad: new Float32Array(ROWS * K) },
        ],
        slots: [
          { at: 0, kind: "index", name: "target" },
          { at: 1, kind: "float", name: "prediction" },
          { at: "weight", kind: "weight", name: "weight" },
          { at: "sampleWeight", kind: "weight", name: "sampleWeight" },
          { at: "grad", kind: "grad", name: "grad" },
        ],
      },
      {
        label: "dense target",
        args: () => [D.P(), D.X(), { classes: K, reduction: "sum" }],
        slots: [{ at: 0, kind: "dense", name: "target" }],
      },
    ],
    open: stateless("crossEntropyWithGrad"),
    big: () => [new Int32Array([7]), bigRow(0)],
    extra: {
      offsetViews: inPlaceCases([["the logits", 1]]),
      wrongType: [{ name: "truth and prediction swapped", args: () => [D.X(), D.L()], expect: { code: "ARGUMENT_ORDER" } }],
      lengths: [
        {
          name: "no classes, 4 labels for 6 logits",
          args: () => [new Int32Array([0, 1, 2, 0]), D.X()],
          expect: { code: "SHAPE_MISMATCH" },
        },
        { name: "classes: 4 does not divide 6", args: (_e, v) => withOpts(v, 2, { classes: 4 }), expect: { code: "SHAPE_MISMATCH" } },
      ],
      options: [
        {
          name: "reduction none",
          args: (_e, v) => withOpts(v, 2, { reduction: "none" }),
          expect: { code: "INVALID_OPTION", message: /reduction/ },
        },
        { name: "from probs", args: (_e, v) => withOpts(v, 2, { from: "probs" }), expect: { code: "INVALID_OPTION", message: /logits/ } },
        { name: "a dense target of logits", args: () => [D.Y(), D.X(), { from: { p: "logits" } }], expect: { code: "INVALID_OPTION" } },
      ],
    },
  },
  {
    fn: "klDivergenceWithGrad",
    optsAt: 2,
    options: ["classes", "reduction", "base", "check", "temperature", "from", "grad"],
    bases: [
      {
        label: "teacher and student logits, grad",
        args: () => [D.Y(), D.X(), { classes: K, temperature: 2, grad: new Float32Array(ROWS * K) }],
        slots: [
          { at: 0, kind: "float", name: "p" },
          { at: 1, kind: "float", name: "q" },
          { at: "grad", kind: "grad", name: "grad" },
        ],
      },
    ],
    open: stateless("klDivergenceWithGrad"),
    big: () => [bigRow(1), bigRow(0)],
    extra: {
      offsetViews: inPlaceCases([
        ["q (the student's logits)", 1],
        ["p (the teacher's logits)", 0],
      ]),
      lengths: [
        { name: "empty p and q without classes", args: () => [[], []], expect: { code: "SHAPE_MISMATCH", message: /empty/ } },
        { name: "classes: 4 does not divide 6", args: (_e, v) => withOpts(v, 2, { classes: 4 }), expect: { code: "SHAPE_MISMATCH" } },
      ],
      weights: noWeights(2),
      options: [
        {
          name: "reduction none",
          args: (_e, v) => withOpts(v, 2, { reduction: "none" }),
          expect: { code: "INVALID_OPTION", message: /reduction/ },
        },
        { name: "from probs", args: (_e, v) => withOpts(v, 2, { from: "probs" }), expect: { code: "INVALID_OPTION", message: /logits/ } },
      ],
    },
  },
];

/** The pool's functions are these specs, run through the pool. */
export const POOL_FNS: FnName[] = [
  "crossEntropy",
  "klDivergence",
  "jensenShannon",
  "entropy",
  "binaryCrossEntropy",
  "focalLoss",
  "binaryFocalLoss",
  "evaluate",
];

/**
 * (function, class) cells with no case, and why. Every other cell must have at least one case
 * (checked by the test), so nothing is left out silently.
 */
export const NOT_APPLICABLE: Partial<Record<FnName, Partial<Record<ClassName, string>>>> = {
  klDivergence: { indices: "takes no class indices (index arrays there are a wrong array type: wrongType)" },
  jensenShannon: { indices: "takes no class indices (index arrays there are a wrong array type: wrongType)" },
  entropy: { indices: "takes no class indices (index arrays there are a wrong array type: wrongType)" },
  binaryCrossEntropy: { indices: "its targets are values in [0, 1], not class indices (0/1 integers are read as values)" },
  binaryFocalLoss: { indices: "its targets are values in [0, 1], not class indices (0/1 integers are read as values)" },
  klDivergenceWithGrad: { indices: "takes no class indices (index arrays there are a wrong array type: wrongType)" },
  "Evaluator()": {
    lengths: "takes no data arrays (its weight's length is the weights class)",
    indices: "takes no class indices (ignoreIndex is an option: options class)",
  },
  "Evaluator.update": {
    classes: "takes no classes: they are the Evaluator's (data that does not fit them is the lengths class)",
    weights: "takes no weights: they are the Evaluator's",
    options: "takes no options",
  },
  "Evaluator.merge": {
    nonNumbers: "takes an Evaluator, not arrays",
    lengths: "takes an Evaluator, not arrays",
    offsetViews: "takes an Evaluator, not arrays",
    shared: "takes an Evaluator, not arrays",
    tooLarge: "takes an Evaluator, not arrays",
  },
  "Evaluator.fromJSON": {
    offsetViews: "a state holds plain JSON values, no typed arrays",
    shared: "a state holds plain JSON values, no typed arrays",
  },
};

// ---------------------------------------------------------------------------------------------
// Building arguments.

export function withOpts(args: unknown[], optsAt: number, extra: Record<string, unknown>): unknown[] {
  const a = [...args];
  a[optsAt] = { ...(a[optsAt] as object), ...extra };
  return a;
}

export function getAt(spec: FnSpec, args: unknown[], at: Loc): unknown {
  return typeof at === "number" ? args[at] : (args[spec.optsAt!] as Record<string, unknown>)[at];
}

export function putAt(spec: FnSpec, args: unknown[], at: Loc, value: unknown): unknown[] {
  if (typeof at === "number") {
    const a = [...args];
    a[at] = value;
    return a;
  }
  return withOpts(args, spec.optsAt!, { [at]: value });
}

type Typed = Float32Array | Float64Array | Int32Array;
type Ctor = { new (b: ArrayBufferLike, o?: number, n?: number): Typed; new (n: number): Typed; BYTES_PER_ELEMENT: number };
const ctorOf = (x: Typed) => x.constructor as unknown as Ctor;

/** What fills the space around a view: read by mistake, it changes the result (or is an invalid index). */
const padOf = (x: Typed) => (x instanceof Int32Array ? 7 : NaN);
/** What an output view's surroundings hold: still there after the call, or the call wrote out of bounds. */
const SENTINEL = 12345.5;

/** The same values in a view `before` elements into a larger buffer (of `make` bytes). */
function viewLike(x: Typed, before: number, after: number, make: (bytes: number) => ArrayBufferLike, pad: number): Typed {
  const C = ctorOf(x);
  const buf = make((before + x.length + after) * C.BYTES_PER_ELEMENT);
  new C(buf).fill(pad as never);
  const v = new C(buf, before * C.BYTES_PER_ELEMENT, x.length);
  v.set(x as never);
  return v;
}

export function offsetView(x: Typed, pad = padOf(x)): Typed {
  return viewLike(x, 3, 2, (n) => new ArrayBuffer(n), pad);
}

export function sharedView(x: Typed, before: number, pad = padOf(x)): Typed {
  return viewLike(x, before, 1, (n) => new SharedArrayBuffer(n), pad);
}

export function detached(x: Typed): Typed {
  const c = x.slice();
  structuredClone(c.buffer, { transfer: [c.buffer] });
  return c;
}

/** For views into a block of module memory: the whole block (else the view's whole buffer is its own). */
const containers = new WeakMap<Typed, Typed>();

/** The elements around a view's window, in its block or buffer. */
function outside(v: Typed): number[] {
  const all = containers.get(v) ?? new (ctorOf(v))(v.buffer);
  const at = (v.byteOffset - all.byteOffset) / v.BYTES_PER_ELEMENT;
  return Array.from(all).filter((_, i) => i < at || i >= at + v.length);
}

function checkSurroundings(v: Typed): void {
  const bad = outside(v).filter((x) => x !== SENTINEL);
  if (bad.length > 0) throw new Error(`the call wrote outside its output view: ${bad.join(", ")}`);
}

/** A sparse number[] of length 2^32 - 1 (the largest an array can be) with element 0 valid. */
export function hugeSparse(first: number): number[] {
  const a = [first];
  a.length = 2 ** 32 - 1;
  return a;
}

const typeErr = (kind: Kind): XentErrorCode => (kind === "weight" ? "INVALID_WEIGHT" : "INVALID_TYPE");

// ---------------------------------------------------------------------------------------------
// Generic cases per argument kind.

/** Wrong types for an argument of this kind (each one bad there). */
function wrongTypes(slot: Slot, n: number): Array<[string, unknown]> {
  const common: Array<[string, unknown]> = [
    ["a string", "0.5,0.5"],
    ["a plain object", {}],
    ["a BigInt64Array", new BigInt64Array(n)],
    ["null", null],
  ];
  switch (slot.kind) {
    case "float":
      return [
        ...common,
        ["a Uint8Array", new Uint8Array(n)],
        ["an Int32Array", new Int32Array(n)],
        ["a plain number", 42],
        ["undefined", undefined],
      ];
    case "index":
      return [
        ...common,
        ["a Uint8ClampedArray", new Uint8ClampedArray(n)],
        ["a plain number", 42],
        ["true", true],
        ["undefined", undefined],
      ];
    case "dense":
    case "binary":
      return [...common, ["a plain number", 42], ["undefined", undefined]];
    case "weight":
      // posWeight and alpha may be plain numbers; undefined is an absent option.
      return [
        ...common,
        ["a Uint8Array", new Uint8Array(n)],
        ["true", true],
        ...(NUMBER_TOO.has(slot.name) ? [] : [["a plain number", 42] as [string, unknown]]),
      ];
    case "out":
    case "grad":
      return [
        ...common,
        ["a number[]", new Array(n).fill(0)],
        ["a Uint8Array", new Uint8Array(n)],
        ["an Int32Array", new Int32Array(n)],
        ["a plain number", 42],
      ];
  }
}

const NON_NUMBERS: Array<[string, (a: unknown[]) => void]> = [
  ["a numeric string", (a) => (a[1] = "0.5")],
  ["null", (a) => (a[1] = null)],
  ["undefined", (a) => (a[1] = undefined)],
  ["a hole", (a) => delete a[1]],
  ["true", (a) => (a[1] = true)],
  ["an object", (a) => (a[1] = {})],
  ["a nested array", (a) => (a[1] = [1])],
  ["a BigInt", (a) => (a[1] = 1n)],
  ["a Number object", (a) => (a[1] = new Number(1))],
];

/** Index values that are not class indices (row 1 of 2 replaced), given as the array type that can hold them. */
const BAD_INDICES: Array<[string, () => unknown]> = [
  ["K (one past the last class)", () => new Int32Array([0, K])],
  ["2^31 - 1", () => new Int32Array([0, 2 ** 31 - 1])],
  ["-1 (ignoreIndex is -100)", () => new Int32Array([0, -1])],
  ["-5", () => new Int32Array([0, -5])],
  ["2^32 - 1 in a Uint32Array", () => new Uint32Array([0, 2 ** 32 - 1])],
  ["255 in a Uint8Array", () => new Uint8Array([0, 255])],
  ["-1 in an Int8Array", () => new Int8Array([0, -1])],
  ["1.5 in a number[]", () => [0, 1.5]],
  ["-0.5 in a number[]", () => [0, -0.5]],
  ["NaN in a number[]", () => [0, NaN]],
  ["Infinity in a number[]", () => [0, Infinity]],
];

const BAD_CLASSES: Array<[string, unknown]> = [
  ["0", 0],
  ["-1", -1],
  ["-3", -3],
  ["1.5", 1.5],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["a string", "3"],
  ["null", null],
  ["true", true],
  ["an array", [3]],
  ["a BigInt", 3n],
];

/** Values of each option that are bad wherever the option is taken. */
const BAD_OPTION_VALUES: Record<string, unknown[]> = {
  reduction: ["batchmean", "", "MEAN", 0, null, true],
  base: [1, 0, -2, NaN, Infinity, -Infinity, "2", null],
  from: ["softmax", "", null, 0, ["logits"], { r: "logits" }, { p: "odds" }],
  temperature: [0, -1, NaN, Infinity, "2", null],
  normalize: [1, "yes", null],
  check: [1, "yes", null],
  labelSmoothing: [-0.1, 1.5, NaN, "0.1", null],
  eps: [-1e-7, 0.5, 0.7, NaN, "1e-7", null],
  ignoreIndex: [0.5, NaN, Infinity, "x", null],
  topK: [[], [0], [1.5], [NaN], ["1"], 2, null, "1,5"],
  gamma: [-1, NaN, Infinity, -Infinity, "2", null],
};
/** Options that are arguments of their own classes (arrays, classes), not option values. */
const NOT_VALUE_OPTIONS = new Set(["classes", "weight", "sampleWeight", "posWeight", "out", "grad"]);
const UNKNOWN_NAMES = ["temprature", "Classes", "reduce", "ignore_index"];
const ALL_OPTIONS = ["labelSmoothing", "temperature", "topK", "posWeight", "grad", "out", "eps", "normalize", "weight", "sampleWeight"];

function optionLabel(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** Every case of a spec in a class (generic ones from its arguments, then its own). */
export function casesOf(spec: FnSpec, cls: ClassName): Case[] {
  const out: Case[] = [];
  const bad = (name: string, code: XentErrorCode, args: Case["args"], message?: RegExp, needs?: Case["needs"]) =>
    out.push({ name, args, expect: { code, message }, needs });
  spec.bases.forEach((base, b) => {
    for (const slot of base.slots) {
      const at = slot.at;
      const where = `${slot.name} (${base.label})`;
      const arg = (v: unknown[]) => getAt(spec, v, at) as Typed;
      // Every case starts from base b's arguments.
      const from =
        (make: (x: Typed, env: Env) => unknown): Case["args"] =>
        (env) => {
          const v = base.args(env);
          return putAt(spec, v, at, make(arg(v), env));
        };
      const named = new RegExp(slot.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      switch (cls) {
        case "wrongType":
          for (const [what, value] of wrongTypes(slot, 6))
            bad(
              `${where}: ${what}`,
              typeErr(slot.kind),
              from(() => value),
              named,
            );
          break;
        case "nonNumbers":
          if (slot.kind === "out" || slot.kind === "grad") break; // number[] is not accepted there at all: wrongType
          for (const [what, spoil] of NON_NUMBERS) {
            bad(
              `${where}: number[] holding ${what}`,
              typeErr(slot.kind),
              from((x) => {
                const a: unknown[] = Array.from(x as ArrayLike<number>);
                spoil(a);
                return a;
              }),
              /element 1/,
            );
          }
          break;
        case "lengths":
          if (slot.kind === "weight") break; // the weights class
          bad(
            `${where}: one element short`,
            "SHAPE_MISMATCH",
            from((x) => x.slice(0, -1)),
          );
          bad(
            `${where}: one element more`,
            "SHAPE_MISMATCH",
            from((x) => {
              const y = new (ctorOf(x))(x.length + 1);
              y.set(x as never);
              return y;
            }),
          );
          break;
        case "weights":
          if (slot.kind !== "weight") break;
          for (const delta of [-1, 1])
            bad(
              `${where}: length ${delta < 0 ? "-" : "+"}1`,
              "INVALID_WEIGHT",
              from((x) => {
                const y = new Float32Array(x.length + delta).fill(1);
                return y;
              }),
              named,
            );
          bad(
            `${where}: empty`,
            "INVALID_WEIGHT",
            from(() => new Float32Array(0)),
            named,
          );
          break;
        case "indices":
          if (slot.kind !== "index") break;
          for (const [what, make] of BAD_INDICES)
            bad(
              `${where}: ${what}`,
              "INVALID_INDEX",
              from(() => make()),
              named,
            );
          if (spec.optsAt !== undefined) {
            bad(
              `${where}: -100 when ignoreIndex is -1`,
              "INVALID_INDEX",
              (env) => withOpts(putAt(spec, base.args(env), at, new Int32Array([0, -100])), spec.optsAt!, { ignoreIndex: -1 }),
              named,
            );
          }
          break;
        case "detached":
          bad(
            `${where}: detached`,
            "INVALID_TYPE",
            from((x) => detached(x)),
            /detached/,
          );
          if (b === 0 && slot.kind === "float") {
            bad(
              `${where}: a freed WasmArray`,
              "INVALID_TYPE",
              from((x, env) => {
                const w = env.memory!.allocate(ctorOf(x), x.length);
                w.free();
                return w;
              }),
              /freed/,
              "memory",
            );
            bad(
              `${where}: a view on module memory that has since grown`,
              "INVALID_TYPE",
              from((x, env) => {
                const w = env.memory!.allocate(ctorOf(x), x.length);
                const v = w.view;
                v.set(x);
                env.grow!();
                w.free();
                return v;
              }),
              /detached/,
              "grow",
            );
          }
          break;
        case "offsetViews":
        case "shared": {
          const output = slot.kind === "out" || slot.kind === "grad";
          const pad = output ? SENTINEL : undefined;
          const views: Array<[string, (x: Typed) => Typed]> =
            cls === "offsetViews"
              ? [["a view 3 elements into a larger ArrayBuffer", (x) => offsetView(x, pad)]]
              : [
                  ["on a SharedArrayBuffer", (x) => sharedView(x, 0, pad)],
                  ["on a SharedArrayBuffer, 1 element in", (x) => sharedView(x, 1, pad)],
                ];
          for (const [what, make] of views) {
            out.push({
              name: `${where}: ${what}`,
              args: from((x) => make(x)),
              expect: { valid: b },
              after: output ? (a) => checkSurroundings(getAt(spec, a, at) as Typed) : undefined,
            });
          }
          // Zero-copy: a view with an offset into the module's (or the pool's) own memory.
          const inMemory = (x: Typed, env: Env) => {
            const w = env.memory!.allocate(ctorOf(x), x.length + 3);
            const all = w.view;
            all.fill(output ? SENTINEL : padOf(x));
            const v = all.subarray(2, 2 + x.length);
            v.set(x);
            containers.set(v, all);
            return v;
          };
          if (cls === "offsetViews") {
            out.push({
              name: `${where}: a view 2 elements into a block of module memory (zero-copy)`,
              args: from(inMemory),
              expect: { valid: b },
              needs: "memory",
              after: output ? (a) => checkSurroundings(getAt(spec, a, at) as Typed) : undefined,
            });
          }
          // The same numbers as float64 (the float64 kernels, their own zero-copy path): the same
          // bits as fresh Float64Arrays, the reference's value.
          if (slot.kind === "float" || slot.kind === "dense" || slot.kind === "binary") {
            const f64 = (x: Typed) => Float64Array.from(x);
            const as64: Array<[string, (x: Typed, env: Env) => Typed, Case["needs"]]> =
              cls === "offsetViews"
                ? [
                    ["a view 3 elements into a larger ArrayBuffer", (x) => offsetView(f64(x)), undefined],
                    ["a view 2 elements into a block of module memory (zero-copy)", (x, env) => inMemory(f64(x), env), "memory"],
                  ]
                : [["on a SharedArrayBuffer, 1 element in", (x) => sharedView(f64(x), 1), undefined]];
            for (const [what, make, needs] of as64) {
              out.push({
                name: `${where}: as Float64Array, ${what}`,
                args: from(make),
                expect: { valid: "self" },
                fresh: from((x) => f64(x)),
                needs,
                f64: true,
              });
            }
          }
          break;
        }
        case "tooLarge":
          if (slot.kind === "out" || slot.kind === "grad") break;
          // The length does not fit the others: index arrays say so before reading an element;
          // float arrays are type-checked (element 1 is a hole) before their copy is allocated.
          // (crossEntropy's dense target: an array of another length than the prediction is class indices.)
          bad(
            `${where}: a sparse number[] of length 2^32 - 1`,
            slot.kind === "index" || slot.kind === "dense" ? "SHAPE_MISMATCH" : typeErr(slot.kind),
            from(() => hugeSparse(slot.kind === "index" ? 0 : 0.5)),
          );
          break;
      }
    }
  });
  // Options: the options argument itself, unknown names, bad values.
  if (cls === "wrongType" && spec.optsAt !== undefined) {
    for (const [what, value] of [
      ["a string", "classes: 3"],
      ["a number", 42],
      ["an array", []],
      ["null", null],
      ["true", true],
    ] as const) {
      bad(`options: ${what}`, "INVALID_TYPE", (env) => putAt(spec, spec.bases[0].args(env), spec.optsAt!, value), /options/);
    }
  }
  if (cls === "classes" && spec.options.includes("classes")) {
    for (const [what, value] of BAD_CLASSES) {
      bad(`classes: ${what}`, "INVALID_CLASSES", (env) => withOpts(spec.bases[0].args(env), spec.optsAt!, { classes: value }), /classes/);
    }
  }
  if (cls === "options" && spec.optsAt !== undefined) {
    const foreign = ALL_OPTIONS.filter((o) => !spec.options.includes(o)).slice(0, 3);
    for (const name of [...UNKNOWN_NAMES, ...foreign]) {
      bad(
        `unknown option "${name}"`,
        "UNKNOWN_OPTION",
        (env) => withOpts(spec.bases[0].args(env), spec.optsAt!, { [name]: 1 }),
        new RegExp(`"${name}"`),
      );
    }
    for (const name of spec.options) {
      if (NOT_VALUE_OPTIONS.has(name)) continue;
      for (const value of BAD_OPTION_VALUES[name] ?? []) {
        bad(
          `${name}: ${optionLabel(value)}`,
          "INVALID_OPTION",
          (env) => withOpts(spec.bases[0].args(env), spec.optsAt!, { [name]: value }),
          new RegExp(name === "from" ? "from" : name),
        );
      }
    }
    if (spec.options.includes("out")) {
      bad(
        `out with reduction "mean"`,
        "INVALID_OPTION",
        (env) => withOpts(spec.bases[0].args(env), spec.optsAt!, { out: new Float64Array(ROWS) }),
        /out/,
      );
    }
  }
  if (cls === "tooLarge" && spec.big !== undefined) {
    out.push({
      name: `one row of ${BIG} classes (${(BIG * 4) / 1e6} MB of float32: the row slots are enlarged)`,
      args: () => spec.big!(),
      expect: { valid: "self" },
    });
  }
  for (const c of spec.extra?.[cls] ?? []) out.push(c);
  return out;
}

/** For the functions without weights: weights given to them are unknown options. */
function noWeights(optsAt: number): Case[] {
  return (["weight", "sampleWeight", "posWeight"] as const).map((name) => ({
    name: `${name} (this function takes no weights)`,
    args: (_e: Env, v: unknown[]) => withOpts(v, optsAt, { [name]: new Float32Array(K).fill(1) }),
    expect: { code: "UNKNOWN_OPTION", message: new RegExp(name) },
  }));
}

// ---------------------------------------------------------------------------------------------
// Evaluator.merge and Evaluator.fromJSON: their arguments are an Evaluator and a state.

function mergeCases(): Partial<Record<ClassName, Case[]>> {
  const other = (name: string, opts: object, bad: Expected): Case => ({
    name: `an Evaluator with ${name}`,
    args: (env) => [new env.api.Evaluator({ ...EV_OPTS(), ...opts })],
    expect: bad,
  });
  const incompatible: Expected = { code: "INVALID_OPTION", message: /differ/ };
  const badType = (name: string, make: (env: Env) => unknown): Case => ({
    name,
    args: (env) => [make(env)],
    expect: { code: "INVALID_TYPE", message: /Evaluator/ },
  });
  return {
    wrongType: [
      badType("null", () => null),
      badType("undefined", () => undefined),
      badType("a number", () => 42),
      badType("a string", () => "ev"),
      badType("a plain object", () => ({})),
      badType("its JSON state (an object, not an Evaluator)", (env) => new env.api.Evaluator(EV_OPTS()).update(D.L(), D.X()).toJSON()),
      badType("an object shaped like an Evaluator", (env) => ({
        ...new env.api.Evaluator(EV_OPTS()),
        classes: K,
        topK: [1, 2],
        toJSON: () => ({}),
      })),
      {
        // Not an error: xent/reference's Evaluator (another class, the same state format) merges.
        name: "an Evaluator of another xent build (xent/reference's)",
        args: () => [new REFERENCE.Evaluator(EV_OPTS()).update(D.L(), D.X())],
        expect: { valid: "self" },
      },
    ],
    classes: [
      other("classes 4", { classes: 4, weight: undefined }, incompatible),
      other("classes 2", { classes: 2, weight: [1, 1] }, incompatible),
    ],
    indices: [other("ignoreIndex -1", { ignoreIndex: -1 }, incompatible)],
    weights: [
      other("no weight", { weight: undefined }, incompatible),
      other("weight [0.5, 1, 3]", { weight: new Float32Array([0.5, 1, 3]) }, incompatible),
    ],
    options: [other("topK [1]", { topK: [1] }, incompatible), other("topK [1, 3]", { topK: [1, 3] }, incompatible)],
    detached: [
      {
        // Not an error: an Evaluator keeps its own copy of the weights.
        name: "an Evaluator whose weight array was detached after it was made",
        args: (env) => {
          const w = D.W();
          const ev = new env.api.Evaluator({ ...EV_OPTS(), weight: w }).update(D.L(), D.X());
          structuredClone(w.buffer, { transfer: [w.buffer] });
          return [ev];
        },
        expect: { valid: 0 },
      },
    ],
  };
}

/** The reference state fromJSON's cases start from (what toJSON writes). */
export function goodState(): Record<string, unknown> {
  return {
    format: "xent.Evaluator/1",
    classes: K,
    topK: [1, 2],
    ignoreIndex: -100,
    weight: [0.5, 1, 2],
    rows: 2,
    seen: 3,
    ce: [2.5, 0],
    weights: [2.5, 0],
    entropy: [1.75, 0],
    hits: [1, 2],
  };
}

function fromJsonCases(): Partial<Record<ClassName, Case[]>> {
  const state = (name: string, edit: (s: Record<string, unknown>) => void, message?: RegExp): Case => ({
    name,
    args: () => {
      const s = goodState();
      edit(s);
      return [JSON.stringify(s)];
    },
    expect: { code: "INVALID_TYPE", message: message ?? /malformed state|not an xent Evaluator state/ },
  });
  const value = (key: string, v: unknown, message?: RegExp) => state(`${key}: ${optionLabel(v)}`, (s) => (s[key] = v), message);
  const raw = (name: string, v: unknown, message = /fromJSON/): Case => ({
    name,
    args: () => [v],
    expect: { code: "INVALID_TYPE", message },
  });
  return {
    wrongType: [
      raw("a number", 42),
      raw("null", null),
      raw("undefined", undefined),
      raw("an array", []),
      raw("true", true),
      raw("text that is not JSON", "{", /not JSON/),
      raw("empty text", "", /not JSON/),
      raw("the text null", "null"),
      raw("the text of an array", "[1, 2]"),
      raw("an Evaluator's state object whose sums are numbers as text", { ...goodState(), ce: ["2.5", "0"] }),
    ],
    nonNumbers: [
      value("hits", ["1", 2]),
      value("hits", [1, null]),
      value("ce", ["a", 0]),
      value("entropy", [1.75, null]),
      value("weight", [0.5, "1", 2]),
      value("topK", ["1", 2]),
      value("weights", [true, 0]),
    ],
    lengths: [value("hits", [1]), value("hits", [1, 2, 2]), value("ce", [2.5]), value("weights", [2.5, 0, 0]), value("entropy", [])],
    classes: [
      value("classes", 0),
      value("classes", -1),
      value("classes", 1.5),
      value("classes", null),
      value("classes", "3"),
      state("no classes", (s) => delete s.classes, /"classes"/),
    ],
    indices: [value("ignoreIndex", 0.5), value("ignoreIndex", "x"), value("ignoreIndex", null)],
    weights: [value("weight", [0.5, 1]), value("weight", [0.5, 1, 2, 3]), value("weight", "0.5,1,2"), value("weight", 0)],
    options: [
      value("format", "xent.Evaluator/2", /not an xent Evaluator state/),
      value("format", "xent.evaluator/1", /not an xent Evaluator state/),
      state("no format tag", (s) => delete s.format, /not an xent Evaluator state/),
      ...["topK", "ignoreIndex", "weight", "rows", "seen", "ce", "weights", "entropy", "hits"].map((key) =>
        state(`no "${key}"`, (s) => delete s[key], new RegExp(`"${key}"`)),
      ),
      value("topK", [2, 1]),
      value("topK", [1, 1]),
      value("topK", []),
      value("topK", 5),
      value("rows", "2"),
      value("rows", -1),
      value("seen", 1.5),
      value("hits", [-1, 2]),
      value("ce", "2.5"),
      value("ce", ["Inf", 0]),
      // Not an error: a field the format does not have is ignored.
      { name: "an extra field", args: () => [JSON.stringify({ ...goodState(), note: "shard 3" })], expect: { valid: 0 } },
    ],
    detached: [
      {
        name: "a state object whose weight is a detached Float32Array",
        args: () => [{ ...goodState(), weight: detached(D.W()) }],
        expect: { code: "INVALID_TYPE", message: /weight/ },
      },
    ],
    tooLarge: [
      value("rows", 2 ** 53),
      value("seen", 1e300),
      state("hits above rows", (s) => (s.hits = [3, 3])),
      state("rows above seen", (s) => (s.seen = 1)),
      {
        name: "a state object whose hits is a sparse array of length 2^32 - 1",
        args: () => [{ ...goodState(), hits: hugeSparse(1) }],
        expect: { code: "INVALID_TYPE", message: /hits/ },
      },
    ],
  };
}
