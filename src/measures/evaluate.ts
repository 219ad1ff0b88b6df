// evaluate() and Evaluator: cross-entropy, perplexity, top-k accuracy and predictive entropy of
// class-index predictions, in one pass over the logits (the engine's evaluate kernel), accumulated
// over any number of batches and shards.
import { XentError, describe } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import { call } from "../kernels/table.js";
import { type Plan, type Prepared, measure, plan, runPlan } from "./measure.js";
import type { FloatArray, FloatInput, IndexInput } from "../types.js";
import {
  checkAttached,
  checkOptions,
  classesOption,
  floatArray,
  isFloatArray,
  isIndexArray,
  numberOption,
  unwrap,
  weightOption,
} from "./validate.js";

/** Options of {@link evaluate} and {@link Evaluator}. */
export interface EvaluateOptions {
  /** Row length K (default: logits.length / labels.length). */
  classes?: number;
  /** Ranks at which to report accuracy, e.g. [1, 5] (default [1]). */
  topK?: number[];
  /** Rows whose label equals this are left out of every figure (default -100). */
  ignoreIndex?: number;
  /** Per-class weights for the cross-entropy (PyTorch's weighted mean); accuracy and entropy are unweighted. */
  weight?: FloatInput;
}

/** The figures {@link evaluate} and {@link Evaluator.result} return. */
export interface EvaluateResult {
  /** Rows that counted (labels other than ignoreIndex). */
  rows: number;
  /** Mean cross-entropy in nats (weighted by weight[label] when weight is given). */
  crossEntropy: number;
  /** exp(crossEntropy). */
  perplexity: number;
  /** Top-1 accuracy. */
  accuracy: number;
  /** Accuracy at each requested k. */
  topK: Record<number, number>;
  /** Mean entropy of the predicted distributions, in nats. */
  entropy: number;
}

/** A float64 sum with Neumaier's compensation: order changes it by about one ulp, not by n ulps. */
class Sum {
  constructor(
    public s = 0,
    public c = 0,
  ) {}
  add(x: number): void {
    const t = this.s + x;
    if (Math.abs(this.s) >= Math.abs(x)) this.c += this.s - t + x;
    else this.c += x - t + this.s;
    this.s = t;
  }
  merge(o: Sum): void {
    this.add(o.s);
    this.add(o.c);
  }
  get value(): number {
    return Number.isFinite(this.s) ? this.s + this.c : this.s;
  }
}

const num = (v: number) => (Number.isFinite(v) ? v : String(v));
const fromNum = (v: number | string) => (typeof v === "number" ? v : Number(v));

/** The plain-JSON state of an Evaluator (non-finite numbers as the strings "NaN", "Infinity"). */
export interface EvaluatorState {
  /** The format's name and version. */
  format: "xent.Evaluator/1";
  /** Row length K. */
  classes: number;
  /** The ranks of the top-k accuracies, ascending. */
  topK: number[];
  /** The label that leaves a row out. */
  ignoreIndex: number;
  /** Per-class weights of the cross-entropy, or null. */
  weight: number[] | null;
  /** Rows that counted. */
  rows: number;
  /** Rows seen, ignored ones included. */
  seen: number;
  /** Compensated sum of the (weighted) cross-entropies: [sum, compensation]. */
  ce: [number | string, number | string];
  /** Compensated sum of the weights of the counted rows. */
  weights: [number | string, number | string];
  /** Compensated sum of the predictive entropies. */
  entropy: [number | string, number | string];
  /** Hits at each rank of topK. */
  hits: number[];
}

/** Every Evaluator class (xent's, xent/reference's, another copy of the package) carries this, so they merge with each other. */
const BRAND = Symbol.for("xent.Evaluator");
const FORMAT = "xent.Evaluator/1";
const STATE_KEYS = ["classes", "topK", "ignoreIndex", "weight", "rows", "seen", "ce", "weights", "entropy", "hits"] as const;

function malformed(what: string, fn = "Evaluator.fromJSON"): XentError {
  return new XentError("INVALID_TYPE", `${fn}: malformed state: ${what}`);
}

/** A compensated sum as the state stores it: [sum, compensation], each a finite number or "NaN", "Infinity", "-Infinity". */
function sumOf(key: string, v: unknown, fn?: string): Sum {
  const ok = (x: unknown) => (typeof x === "number" && Number.isFinite(x)) || x === "NaN" || x === "Infinity" || x === "-Infinity";
  if (!Array.isArray(v) || v.length !== 2 || !ok(v[0]) || !ok(v[1])) {
    throw malformed(
      `${key} must be [sum, compensation], each a finite number or "NaN", "Infinity", "-Infinity"; got ${JSON.stringify(v)}`,
      fn,
    );
  }
  return new Sum(fromNum(v[0] as number | string), fromNum(v[1] as number | string));
}

/**
 * Checks everything in an Evaluator state but the options (classes, topK, ignoreIndex, weight),
 * which the constructor checks: the format tag, that every field is there, the counters and the sums.
 */
function checkState(s: unknown, fn = "Evaluator.fromJSON"): EvaluatorState {
  if (s === null || typeof s !== "object" || Array.isArray(s) || (s as { format?: unknown }).format !== FORMAT) {
    const format = s !== null && typeof s === "object" ? (s as { format?: unknown }).format : undefined;
    throw new XentError(
      "INVALID_TYPE",
      `${fn}: not an xent Evaluator state (format "${FORMAT}"), got ` +
        (format === undefined ? describe(s) : `format ${JSON.stringify(format)}`),
    );
  }
  const o = s as Record<string, unknown>;
  for (const key of STATE_KEYS) if (!(key in o)) throw malformed(`no "${key}"`, fn);
  const count = (key: string, v: unknown) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      throw malformed(`${key} must be an integer >= 0, got ${describe(v)}`, fn);
    return v;
  };
  const rows = count("rows", o.rows),
    seen = count("seen", o.seen);
  if (rows > seen) throw malformed(`rows (${rows}) is more than seen (${seen})`, fn);
  if (!Array.isArray(o.hits)) throw malformed(`hits must be an array, got ${describe(o.hits)}`, fn);
  if (!Array.isArray(o.topK) || o.hits.length !== o.topK.length) {
    throw malformed(
      `hits must have one count per topK rank (${Array.isArray(o.topK) ? o.topK.length : describe(o.topK)}), got ${o.hits.length}`,
      fn,
    );
  }
  for (let i = 0; i < o.hits.length; i++) {
    if (count(`hits[${i}]`, o.hits[i]) > rows) throw malformed(`hits[${i}] (${o.hits[i]}) is more than rows (${rows})`, fn);
  }
  for (const key of ["ce", "weights", "entropy"]) sumOf(key, o[key], fn);
  if (o.weight !== null && !Array.isArray(o.weight))
    throw malformed(`weight must be null or an array of numbers, got ${describe(o.weight)}`, fn);
  return s as EvaluatorState;
}

/** Class-index labels: an index typed array (not detached) or a number[]. */
function labelsInput(value: unknown): ArrayLike<unknown> {
  const t = unwrap(value);
  if (isIndexArray(t)) {
    checkAttached("labels", t);
    return t;
  }
  if (Array.isArray(t)) return t;
  throw new XentError("INVALID_TYPE", `labels: expected class indices (Int32Array, Uint8Array, ..., number[]), got ${describe(t)}`);
}

export function makeEvaluation(engine: () => Engine) {
  /**
   * Accumulates evaluation figures over batches: `update(labels, logits)` with any batch size,
   * `merge(other)`, `result()`. Sums are compensated (Neumaier) float64 and the top-k hits exact
   * integers, so results do not depend on how the rows were split into batches or shards, nor on
   * the order of merges, beyond about 1e-15 relative.
   *
   * @example
   * const ev = new Evaluator({ classes: 1000, topK: [1, 5] });
   * for (const { labels, logits } of batches) ev.update(labels, logits);
   * ev.result(); // { rows, crossEntropy, perplexity, accuracy, topK: { 1: ..., 5: ... }, entropy }
   */
  class Evaluator {
    /** Row length K. */
    readonly classes: number;
    /** The ranks at which accuracy is counted, ascending, without repeats. */
    readonly topK: number[];
    /** Rows with this label are left out (default -100). */
    readonly ignoreIndex: number;
    /** Per-class weights of the cross-entropy, or null. */
    readonly weight: FloatArray | null;
    #rows = 0;
    #seen = 0;
    #ce = new Sum();
    #weights = new Sum();
    #entropy = new Sum();
    #hits: number[];

    constructor(options: EvaluateOptions & { classes: number }) {
      const o = checkOptions("Evaluator", options, ["classes", "topK", "ignoreIndex", "weight"]);
      const classes = classesOption(o.classes);
      if (classes === undefined) throw new XentError("INVALID_CLASSES", "Evaluator: classes is required");
      this.classes = classes;
      this.topK = topKOption(o.topK, classes);
      this.ignoreIndex = numberOption("ignoreIndex", o.ignoreIndex, -100, Number.isInteger, "an integer");
      // A copy: changing (or detaching) the caller's array later must not change this Evaluator.
      this.weight = weightOption("weight", o.weight, classes, "one per class")?.slice() ?? null;
      this.#hits = this.topK.map(() => 0);
    }

    /**
     * Adds a batch: labels (one per row) and logits (rows x classes, row-major). Returns this.
     *
     * @example
     * ```ts
     * ev.update(new Int32Array([2, 0]), new Float32Array([1, 2, 3, 3, 2, 1]));
     * ```
     */
    update(labels: IndexInput, logits: FloatInput): this {
      runPlan(this.batch(labels, logits), engine());
      return this;
    }

    /**
     * The plan of update(), for an engine that runs it (src/measures/measure.ts).
     *
     * @internal
     */
    batch(labels: IndexInput, logits: FloatInput): Plan<void> {
      checkOrder(labels, logits);
      const x = floatArray("logits", logits);
      const t0 = labelsInput(labels);
      const rows = t0.length,
        K = this.classes;
      if (rows * K !== x.length) {
        throw new XentError("SHAPE_MISMATCH", `logits has length ${x.length}, not ${rows} rows (one per label) x classes = ${K}`);
      }
      const t = new Int32Array(rows);
      for (let r = 0; r < rows; r++) {
        const v = t0[r];
        if (typeof v !== "number") throw new XentError("INVALID_TYPE", `labels: element ${r} is ${describe(v)}, not a class index`);
        if (v === this.ignoreIndex) t[r] = -1;
        else if (Number.isInteger(v) && v >= 0 && v < K) t[r] = v;
        else
          throw new XentError(
            "INVALID_INDEX",
            `labels[${r}] = ${v} is not a class index in [0, ${K}) nor ignoreIndex (${this.ignoreIndex})`,
          );
      }
      const out = new Float64Array(3 * rows);
      return plan([call("evaluate", { f32: x instanceof Float32Array, rows, classes: K, arrays: { x }, scalars: {}, index: t, out })], () =>
        this.#add(out, t),
      );
    }

    /** Adds a batch's per-row results (cross-entropy, entropy, rank; three per row) for labels t. */
    #add(out: Float64Array, t: Int32Array): void {
      const w = this.weight,
        rows = t.length;
      for (let r = 0; r < rows; r++) {
        if (t[r] < 0) continue;
        const ce = out[3 * r],
          h = out[3 * r + 1];
        // A row without a finite softmax (NaN, +inf, all -inf) is never a hit.
        const rank = Number.isNaN(ce) ? Infinity : out[3 * r + 2];
        const wr = w === null ? 1 : w[t[r]];
        this.#ce.add(wr * ce);
        this.#weights.add(wr);
        this.#entropy.add(h);
        for (let i = 0; i < this.topK.length; i++) if (rank < this.topK[i]) this.#hits[i]++;
        this.#rows++;
      }
      this.#seen += rows;
    }

    /**
     * Adds another Evaluator's figures (same classes, topK, ignoreIndex and weight). Returns this.
     * An Evaluator of another copy of xent, or of xent/reference, merges too (through its state).
     *
     * @throws {@link XentError} `INVALID_TYPE` for anything but an Evaluator (a state object: use
     *   `Evaluator.fromJSON`), `INVALID_OPTION` for an Evaluator of other classes, topK, ignoreIndex or weight
     * @example
     * ```ts
     * const total = new Evaluator({ classes: 10 });
     * for (const shard of shards) total.merge(shard);
     * ```
     */
    merge(other: Evaluator): this {
      const ours = other instanceof Evaluator;
      if (!ours && (other === null || typeof other !== "object" || (other as { [BRAND]?: unknown })[BRAND] !== true)) {
        throw new XentError("INVALID_TYPE", `merge: expected an Evaluator, got ${describe(other)}`);
      }
      // An Evaluator of another copy of xent (or of xent/reference) is read through its state, checked.
      const s = ours ? other.toJSON() : checkState((other as { toJSON(): unknown }).toJSON(), "merge");
      const same =
        s.classes === this.classes &&
        s.ignoreIndex === this.ignoreIndex &&
        Array.isArray(s.topK) &&
        s.topK.join() === this.topK.join() &&
        String(s.weight) === String(this.weight && Array.from(this.weight));
      if (!same) throw new XentError("INVALID_OPTION", "merge: the Evaluators differ in classes, topK, ignoreIndex or weight");
      if (s.hits.length !== this.topK.length) throw new XentError("INVALID_TYPE", "merge: the other Evaluator's state is malformed (hits)");
      this.#rows += s.rows;
      this.#seen += s.seen;
      this.#ce.merge(new Sum(fromNum(s.ce[0]), fromNum(s.ce[1])));
      this.#weights.merge(new Sum(fromNum(s.weights[0]), fromNum(s.weights[1])));
      this.#entropy.merge(new Sum(fromNum(s.entropy[0]), fromNum(s.entropy[1])));
      s.hits.forEach((h, i) => {
        this.#hits[i] += h;
      });
      return this;
    }

    /**
     * The figures so far; NaN where no row has counted yet.
     *
     * @example
     * ```ts
     * const { crossEntropy, perplexity, accuracy, topK, entropy } = ev.result();
     * ```
     */
    result(): EvaluateResult {
      const n = this.#rows;
      const ce = this.#ce.value / this.#weights.value;
      const topK: Record<number, number> = {};
      this.topK.forEach((k, i) => {
        topK[k] = this.#hits[i] / n;
      });
      const top1 = this.topK.indexOf(1);
      return {
        rows: n,
        crossEntropy: ce,
        perplexity: Math.exp(ce),
        accuracy: top1 >= 0 ? this.#hits[top1] / n : NaN,
        topK,
        entropy: this.#entropy.value / n,
      };
    }

    /**
     * Plain JSON: evaluate shards anywhere, then combine with Evaluator.fromJSON(...).merge(...).
     * Non-finite sums are written as the strings "NaN", "Infinity", "-Infinity".
     *
     * @example
     * ```ts
     * const text = JSON.stringify(ev); // calls toJSON()
     * ```
     */
    toJSON(): EvaluatorState {
      return {
        format: "xent.Evaluator/1",
        classes: this.classes,
        topK: [...this.topK],
        ignoreIndex: this.ignoreIndex,
        weight: this.weight === null ? null : Array.from(this.weight),
        rows: this.#rows,
        seen: this.#seen,
        ce: [num(this.#ce.s), num(this.#ce.c)],
        weights: [num(this.#weights.s), num(this.#weights.c)],
        entropy: [num(this.#entropy.s), num(this.#entropy.c)],
        hits: [...this.#hits],
      };
    }

    /**
     * An Evaluator from the state `toJSON()` returned (the object or its JSON text).
     *
     * @throws {@link XentError} `INVALID_TYPE` for anything but a complete, well-typed state: text
     *   that is not JSON, another format tag, a missing field, a field of the wrong type or out of
     *   its domain (counts that do not add up, sums that are not numbers); fields it does not know are ignored
     * @example
     * ```ts
     * const shard = new Evaluator({ classes: 3 }).update(new Int32Array([2]), new Float32Array([1, 2, 3]));
     * const total = new Evaluator({ classes: 3 }).merge(Evaluator.fromJSON(JSON.stringify(shard)));
     * ```
     */
    static fromJSON(json: EvaluatorState | string): Evaluator {
      let parsed: unknown = json;
      if (typeof json === "string") {
        try {
          parsed = JSON.parse(json);
        } catch (e) {
          throw new XentError("INVALID_TYPE", `Evaluator.fromJSON: the text is not JSON (${(e as Error).message})`);
        }
      }
      const s = checkState(parsed);
      let e: Evaluator;
      try {
        e = new Evaluator({
          classes: s.classes,
          topK: s.topK,
          ignoreIndex: s.ignoreIndex,
          ...(s.weight === null ? {} : { weight: s.weight }),
        });
      } catch (err) {
        // The options inside a state are part of the state: a bad one makes the state malformed.
        if (err instanceof XentError) throw malformed(err.message);
        throw err;
      }
      if (e.topK.join() !== s.topK.join())
        throw malformed(`topK must be ascending without repeats, as toJSON writes it; got ${JSON.stringify(s.topK)}`);
      e.#rows = s.rows;
      e.#seen = s.seen;
      e.#ce = sumOf("ce", s.ce);
      e.#weights = sumOf("weights", s.weights);
      e.#entropy = sumOf("entropy", s.entropy);
      e.#hits = [...s.hits];
      return e;
    }
  }

  // Marks xent Evaluators of any copy of the package (see merge); not part of the declared type.
  Object.defineProperty(Evaluator.prototype, BRAND, { value: true });

  /**
   * Cross-entropy (nats), perplexity, top-1 and top-k accuracy and the mean entropy of the
   * predicted distributions, of class-index `labels` against `rows x classes` logits, in one pass
   * over the logits. Ties between equal logits go to the smaller class index (argmax as NumPy and
   * PyTorch return it): a row of equal logits is a top-1 hit only for label 0; a row with NaN or
   * infinite logits is never a hit. Rows labelled `ignoreIndex` (default -100) are left out of
   * every figure; `weight` (per class) weights the cross-entropy as PyTorch does.
   *
   * @param labels class indices, one per row
   * @param logits `rows x classes` logits
   * @param options {@link xent!EvaluateOptions}: `classes`, `topK`, `ignoreIndex`, `weight`
   * @returns {@link xent!EvaluateResult}: `{ rows, crossEntropy, perplexity, accuracy, topK, entropy }`
   * @throws {@link XentError} `INVALID_TYPE`, `SHAPE_MISMATCH`, `INVALID_CLASSES`, `INVALID_INDEX`,
   *   `INVALID_WEIGHT`, `UNKNOWN_OPTION`, `INVALID_OPTION`, `ARGUMENT_ORDER`, `NOT_INITIALIZED`
   * @example
   * ```ts
   * import { init, evaluate } from "xent";
   * await init();
   * const labels = new Int32Array([2, 0]);
   * const logits = new Float32Array([1, 2, 3, 3, 2, 1]); // 2 rows x 3 classes
   * evaluate(labels, logits, { topK: [1, 2] });
   * // { rows: 2, crossEntropy: 0.407606, perplexity: 1.503215, accuracy: 1, topK: { 1: 1, 2: 1 }, entropy: 0.832396 }
   * ```
   */
  return { Evaluator };
}

/** Labels first, logits second: floats first and integers second is a swapped call. */
const { Evaluator: Accumulator } = makeEvaluation(() => {
  throw new Error("xent: evaluate's steps are run by a driver, not by update()");
});

/** The signature of {@link evaluate}. */
export interface Evaluate {
  /**
   * One pass of evaluation over `rows x classes` logits with class-index labels: mean cross-entropy
   * (nats, weighted by `weight[label]` when given), perplexity, top-1 and top-k accuracy, and the mean
   * entropy of the predicted distributions. Rows whose label equals `ignoreIndex` are left out. A
   * label counts as a top-k hit when fewer than k classes have a larger logit or an equal logit at a
   * smaller index (ties broken by the first index, as `argmax`).
   *
   * @param labels class indices, one per row
   * @param logits `rows x classes` logits
   * @param options {@link xent!EvaluateOptions}: `classes`, `topK`, `ignoreIndex`, `weight`
   * @returns {@link xent!EvaluateResult}
   * @throws {@link XentError} `INVALID_TYPE`, `SHAPE_MISMATCH`, `INVALID_CLASSES`, `INVALID_INDEX`, `INVALID_WEIGHT`,
   *   `UNKNOWN_OPTION`, `INVALID_OPTION`, `ARGUMENT_ORDER`, `NOT_INITIALIZED`
   * @example
   * ```ts
   * import { init, evaluate } from "xent";
   * await init();
   * evaluate(new Int32Array([2, 0]), new Float32Array([1, 2, 3, 3, 2, 1]), { topK: [1, 2] });
   * // { rows: 2, crossEntropy: 0.407606, perplexity: 1.503215, accuracy: 1, topK: { 1: 1, 2: 1 }, entropy: 0.832396 }
   * ```
   */
  (labels: IndexInput, logits: FloatInput, options?: EvaluateOptions): EvaluateResult;
}

export const evaluate = measure<Evaluate>(
  "evaluate",
  (labels: IndexInput, logits: FloatInput, options: EvaluateOptions = {}): Prepared<EvaluateResult> => {
    checkOptions("evaluate", options, ["classes", "topK", "ignoreIndex", "weight"]);
    checkOrder(labels, logits);
    const n = labelsInput(labels).length;
    const x = floatArray("logits", logits);
    const classes = classesOption(options.classes) ?? (n > 0 ? x.length / n : undefined);
    if (classes === undefined || !Number.isInteger(classes)) {
      throw new XentError("SHAPE_MISMATCH", `logits has length ${x.length}, not a whole number of classes per label (${n} labels)`);
    }
    // The options and labels are validated here, when the call is made (on the pool too, before it
    // waits for its turn). evaluate has no check: its plan is made once.
    const ev = new Accumulator({ ...options, classes });
    const batch = ev.batch(labels, x);
    return {
      f32: x instanceof Float32Array,
      check: false,
      plan: () =>
        plan(batch.calls, () => {
          batch.result();
          return ev.result();
        }),
    };
  },
);

function checkOrder(labels: unknown, logits: unknown): void {
  const t = unwrap(labels),
    x = unwrap(logits);
  if (isFloatArray(t) && (isIndexArray(x) || Array.isArray(x))) {
    throw new XentError("ARGUMENT_ORDER", `(labels, logits): labels is ${describe(t)} and logits ${describe(x)}; class indices come first`);
  }
}

function topKOption(v: unknown, classes: number): number[] {
  if (v === undefined) return [1];
  if (!Array.isArray(v) || v.length === 0 || !v.every((k) => Number.isInteger(k) && k >= 1)) {
    throw new XentError("INVALID_OPTION", `topK must be a non-empty array of integers >= 1, got ${describe(v)}`);
  }
  void classes; // k above classes is allowed: every row is then a hit
  return [...new Set(v as number[])].sort((a, b) => a - b);
}
