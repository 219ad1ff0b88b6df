// The oracle cases (fixtures/oracle: PyTorch, SciPy, scikit-learn vectors) mapped to xent calls:
// which measure, which options, which expected values. Moved here from test/oracle.test.ts, which
// uses it unchanged. Pure: no node:fs, no test framework, so that the same mapping runs in every
// runtime (test/runtimes/ under Deno, Bun, workerd and in bundled pages). helpers/oracle.ts, which
// reads files with node:fs, re-exports floats() and rowSums() from here.
import type { Case } from "./oracle.js";

/** The measures a case calls: the public ones, from any entry or engine. */
export type Measures = Pick<
  typeof import("../../src/index.js"),
  "crossEntropy" | "klDivergence" | "jensenShannon" | "entropy" | "binaryCrossEntropy"
>;

export function floats(values: number[], dtype: string): Float32Array | Float64Array {
  return dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values);
}

/** Row sums of a flat rows x classes array, in float64 (PyTorch's elementwise "none" -> xent's per-row). */
export function rowSums(values: number[], classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / classes; r++) {
    let s = 0;
    for (let k = 0; k < classes; k++) s += values[r * classes + k];
    out.push(s);
  }
  return out;
}

export type Result = number | ArrayLike<number>;
export interface Mapped {
  run: (m: Measures) => Result;
  want: number | number[];
}

/**
 * Cases where PyTorch (or SciPy) gives NaN only because it computes 0 * (-inf): a zero target
 * probability on a -inf logit, or p = 0 in kl_div's log-target form / with q = 0. xent's
 * convention is 0 log 0 = 0: such a term is 0. Where the oracle has NaN there, the engines are
 * checked against the reference and the value must be finite; every other value against the oracle.
 */
export const ZERO_TIMES_INF = new Set([
  "ce_ext_neginf_soft_none_f32",
  "kl_pzero_logt_none_f32",
  "kl_pzero_logt_sum_f32",
  "kl_pzero_logt_batchmean_f64",
  "kl_qzero_none_f32",
  "kl_qzero_sum_f32",
  "kl_qzero_logt_none_f64",
  "kd_masked_teacher_logt_batchmean_f32",
]);

/** Differences that are documented design choices, not numerics. */
export const SKIPPED: Record<string, string> = {
  ll_unnormalized_f64: "scikit-learn 1.2 silently renormalises rows that do not sum to 1; xent does not (docs/semantics.md)",
  ll_unnormalized_weight_sum_f64: "scikit-learn 1.2 silently renormalises rows that do not sum to 1; xent does not",
};

const classesOf = (c: Case) => (c.shape.length === 2 ? c.shape[1] : c.shape[0]);

function reductionOf(r: unknown): "mean" | "sum" | "none" {
  return r as "mean" | "sum" | "none";
}

function crossEntropyCase(c: Case, fromQ: "logits" | "logprobs"): Mapped {
  const K = classesOf(c);
  const x = floats(c.inputs.input, c.dtype);
  const dense = c.input_dtypes?.target !== "int64";
  const target = dense ? floats(c.inputs.target, c.dtype) : Int32Array.from(c.inputs.target);
  const o = c.options;
  const options = {
    classes: K,
    from: fromQ,
    reduction: reductionOf(o.reduction),
    ignoreIndex: o.ignore_index as number,
    labelSmoothing: (o.label_smoothing as number | undefined) ?? 0,
    ...(c.inputs.weight ? { weight: floats(c.inputs.weight, c.dtype) } : {}),
  };
  return { run: (m) => m.crossEntropy(target, x, options), want: c.expected as number | number[] };
}

function klCase(c: Case): Mapped {
  const K = classesOf(c);
  const o = c.options;
  const rows = c.shape.length === 2 ? c.shape[0] : 1;
  const red = o.reduction as string;
  if (c.op === "distill_kl") {
    const teacher = floats(c.inputs.teacher_logits, c.dtype),
      student = floats(c.inputs.student_logits, c.dtype);
    const opts = { from: "logits" as const, classes: K, temperature: o.temperature as number };
    if (red === "none")
      return { run: (m) => m.klDivergence(teacher, student, { ...opts, reduction: "none" }), want: rowSums(c.expected as number[], K) };
    return {
      run: (m) => m.klDivergence(teacher, student, { ...opts, reduction: red === "sum" ? "sum" : "mean" }),
      want: c.expected as number,
    };
  }
  // kl_div(input = log q, target = p or log p): xent's klDivergence(p, q) with q given as logprobs.
  const logq = floats(c.inputs.input, c.dtype),
    p = floats(c.inputs.target, c.dtype);
  const opts = { classes: K, from: { p: o.log_target ? ("logprobs" as const) : ("probs" as const), q: "logprobs" as const } };
  if (red === "none")
    return { run: (m) => m.klDivergence(p, logq, { ...opts, reduction: "none" }), want: rowSums(c.expected as number[], K) };
  // PyTorch's elementwise "mean" divides by rows x classes; "batchmean" by input.shape[0] (K for 1-D).
  const divisor = red === "sum" ? 1 : red === "mean" ? rows * K : c.shape[0];
  return { run: (m) => (m.klDivergence(p, logq, { ...opts, reduction: "sum" }) as number) / divisor, want: c.expected as number };
}

function scipyCase(c: Case): Mapped | null {
  const o = c.options;
  if (o.axis === 0 && c.shape.length === 2) return null; // column-wise: a later issue
  const base = o.base === null ? {} : { base: o.base as number };
  const perRow = c.shape.length === 2;
  const opts = { ...base, normalize: true, classes: classesOf(c), reduction: perRow ? ("none" as const) : ("mean" as const) };
  if (c.op === "entropy") {
    const pk = floats(c.inputs.pk, c.dtype);
    if (c.inputs.qk) {
      const qk = floats(c.inputs.qk, c.dtype);
      return { run: (m) => m.klDivergence(pk, qk, opts), want: c.expected as number };
    }
    return { run: (m) => m.entropy(pk, opts), want: c.expected as number };
  }
  if (c.op === "jensenshannon") {
    const p = floats(c.inputs.p, c.dtype),
      q = floats(c.inputs.q, c.dtype);
    const want = perRow ? (c.expected as number[]).map((d) => d * d) : c.expected_divergence!;
    return { run: (m) => m.jensenShannon(p, q, opts), want };
  }
  return null; // entr, rel_entr, scipy_kl_div: elementwise, a later issue
}

function bceCase(c: Case): Mapped {
  const K = classesOf(c);
  const x = floats(c.inputs.input, c.dtype),
    y = floats(c.inputs.target, c.dtype);
  const opts = {
    classes: K,
    reduction: reductionOf(c.options.reduction),
    from: c.op === "binary_cross_entropy" ? ("probs" as const) : ("logits" as const),
    ...(c.inputs.weight ? { weight: floats(c.inputs.weight, c.dtype) } : {}),
    ...(c.inputs.pos_weight ? { posWeight: floats(c.inputs.pos_weight, c.dtype) } : {}),
  };
  return { run: (m) => m.binaryCrossEntropy(y, x, opts), want: c.expected as number | number[] };
}

function logLossCase(c: Case): Mapped {
  const o = c.options;
  let pred = c.inputs.y_pred;
  let K = classesOf(c);
  if (c.shape.length === 1) {
    // Binary: a 1-D y_pred is P(larger label); scikit-learn makes it [1 - p, p].
    pred = pred.flatMap((p) => [1 - p, p]);
    K = 2;
  }
  const labels = (o.labels as number[] | null) ?? [...new Set(c.inputs.y_true)];
  const sorted = [...labels].sort((a, b) => a - b);
  const target = Int32Array.from(c.inputs.y_true, (v) => sorted.indexOf(v));
  // eps "auto" is the machine epsilon of y_pred's dtype; `expected` is the float64 computation.
  const eps = o.eps === "auto" ? 2.220446049250313e-16 : (o.eps as number);
  const x = floats(pred, c.dtype);
  const opts = {
    classes: K,
    from: "probs" as const,
    eps,
    reduction: o.normalize ? ("mean" as const) : ("sum" as const),
    ...(c.inputs.sample_weight ? { sampleWeight: floats(c.inputs.sample_weight, c.dtype) } : {}),
  };
  return { run: (m) => m.crossEntropy(target, x, opts), want: c.expected as number };
}

export function coinCases(c: Case): Array<[string, Mapped]> {
  const P = Float64Array.from(c.inputs.P),
    Q = Float64Array.from(c.inputs.Q);
  const e = c.expected as Record<string, number>;
  return [
    ["kl_nats", { run: (m) => m.klDivergence(P, Q), want: e.kl_nats }],
    ["kl_bits", { run: (m) => m.klDivergence(P, Q, { base: 2 }), want: e.kl_bits }],
    ["kl_nats_exact", { run: (m) => m.klDivergence(P, Q), want: e.kl_nats_exact }],
    ["cross_entropy_nats", { run: (m) => m.crossEntropy(P, Q, { from: "probs" }), want: e.cross_entropy_nats }],
    ["cross_entropy_bits", { run: (m) => m.crossEntropy(P, Q, { from: "probs", base: 2 }), want: e.cross_entropy_bits }],
    ["entropy_nats", { run: (m) => m.entropy(P), want: e.entropy_nats }],
    ["entropy_bits", { run: (m) => m.entropy(P, { base: 2 }), want: e.entropy_bits }],
  ];
}

/** The in-scope fixture files and how each case maps (null: out of scope). */
export const FAMILIES: Array<[string, (c: Case) => Mapped | null]> = [
  ["cross_entropy.json", (c) => crossEntropyCase(c, "logits")],
  ["nll_loss.json", (c) => crossEntropyCase(c, "logprobs")],
  ["kl_div.json", klCase],
  ["entropy.json", scipyCase],
  ["bce.json", bceCase],
  ["log_loss.json", logLossCase],
];
