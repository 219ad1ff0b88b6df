// The kernel table: one row per kernel of the WebAssembly module, the one description of its
// interface. Everything that calls a kernel is derived from it:
//   - the module's exports (`ModuleExports`) and the argument list of each call (`kernelArgs`);
//   - the chunker (src/engine/chunker.ts), which stages a call's inputs in module memory by the
//     roles its arguments have here and moves the row-dependent ones from chunk to chunk;
//   - the pool's jobs, whose per-row strides come from the same roles;
//   - the reference engine: each row's `reference` computes the same rows in plain TypeScript;
//   - the verification battery (src/engine/battery.ts), whose cases name rows of this table.
// Argument roles, in the order of the export's parameters:
//   rows     a float input of rows x classes (row-major), of the call's precision; absent: address 0
//   once     a float input passed whole to every chunk (per-class weights), of the call's precision
//            or always float64 (once64); absent: address 0
//   index    one i32 per row (class indices, < 0: ignored row)
//   count    how many rows (or, for per-element kernels, elements) this chunk has
//   classes  the row length
//   scalar   a number (an i32 flag or mode, or an f64)
//   out      perRow f64 results per row; with `outIn`, the kernel first reads a value per row there
//   grad     a gradient of rows x classes, of the call's precision
import type { FloatArray } from "../types.js";
import * as ref from "../reference/rows.js";
import { focalRows, binaryFocalRows } from "../reference/focal.js";

import { LOGITS, PROBS, OP_CE, OP_KL, OP_JS, type Mode, type PairOp } from "./modes.js";

export * from "./modes.js";

export type Arg =
  | { readonly role: "rows"; readonly name: string }
  /** `type`: the export's parameter type (an i32 flag, mode or op, or an f64). */
  | { readonly role: "scalar"; readonly name: string; readonly type: "i32" | "f64" }
  /** `f64`: always float64, whatever the call's precision (coefficients a float32 kernel still reads as float64). */
  | { readonly role: "once"; readonly name: string; readonly f64?: boolean }
  | { readonly role: "index" | "count" | "classes" | "out" | "grad" };

const rows = <N extends string>(name: N) => ({ role: "rows", name }) as const;
const once = <N extends string>(name: N) => ({ role: "once", name }) as const;
const once64 = <N extends string>(name: N) => ({ role: "once", name, f64: true }) as const;
const scalar = <N extends string, T extends "i32" | "f64">(name: N, type: T) => ({ role: "scalar", name, type }) as const;
const index = { role: "index" } as const;
const count = { role: "count" } as const;
const classes = { role: "classes" } as const;
const out = { role: "out" } as const;
const grad = { role: "grad" } as const;

type Named<A extends readonly Arg[], R extends string> = Extract<A[number], { role: R; name: string }>["name"];

/** One call of a kernel: what the measures build, every engine runs. */
export interface Call<A extends readonly Arg[] = readonly Arg[]> {
  // biome-ignore lint/suspicious/noExplicitAny: a call of any kernel; its arrays and scalars are typed by A
  readonly kernel: Kernel<any>;
  /** Whether the float inputs are computed as float32 (the `_f32` export); otherwise float64. */
  readonly f32: boolean;
  readonly rows: number;
  readonly classes: number;
  /** The float inputs by name (null: absent). */
  readonly arrays: { readonly [K in Named<A, "rows" | "once">]: FloatArray | null };
  readonly scalars: { readonly [K in Named<A, "scalar">]: number };
  /** Class indices, one per row (< 0: ignored), where the kernel takes them. */
  readonly index: Int32Array | null;
  /** rows x perRow results land here. */
  readonly out: Float64Array;
  /** Values the kernel reads per row where it then writes its result (the gradients' scales). */
  readonly outIn?: Float64Array;
  /** The gradient, rows x classes, where the kernel writes one. */
  readonly grad?: FloatArray;
}

export interface Kernel<A extends readonly Arg[] = readonly Arg[], E extends string | null = string | null> {
  /** The export's name without its precision suffix; null: no export, every engine runs `reference`. */
  readonly export: E;
  readonly args: A;
  /** f64 results per row: a number, or "classes" for per-element kernels (one per element). */
  readonly perRow: number | "classes";
  /** The plain TypeScript definition of the same rows (float64 throughout). */
  reference(c: Call<A>): void;
}

function kernel<const A extends readonly Arg[], const E extends string | null>(k: Kernel<A, E>): Kernel<A, E> {
  return k;
}

// biome-ignore lint/suspicious/noExplicitAny: any kernel's call
const fill = (c: Call<any>, f: (r: number) => number) => {
  for (let r = 0; r < c.rows; r++) c.out[r] = f(r);
};

export const KERNELS = {
  /** -log softmax(x)[t] per row (0 where t < 0). */
  ceIndex: kernel({
    export: "ce_index_logits",
    args: [rows("x"), index, count, classes, out],
    perRow: 1,
    reference: (c) => fill(c, (r) => (c.index![r] < 0 ? 0 : ref.nllRow(c.arrays.x!, r * c.classes, c.classes, c.index![r], LOGITS, 0))),
  }),
  /**
   * -log q[t] per row of probabilities (clipped to [eps, 1 - eps] when eps > 0) or log-probabilities:
   * one gather per row, nothing to vectorise, so no export: every engine computes it in place.
   */
  nllGather: kernel({
    export: null,
    args: [rows("q"), index, count, classes, scalar("mode", "i32"), scalar("eps", "f64"), out],
    perRow: 1,
    reference: (c) =>
      fill(c, (r) =>
        c.index![r] < 0 ? 0 : ref.nllRow(c.arrays.q!, r * c.classes, c.classes, c.index![r], c.scalars.mode as Mode, c.scalars.eps),
      ),
  }),
  /**
   * op CE: -sum_k c_k log q_k, c_k = w_k (a p_k + b) (p absent: 0; w absent: 1; c_k = 0 terms are 0);
   * op KL: sum_k p_k (log p_k - log q_k); op JS: (KL(P||M) + KL(Q||M))/2. invT divides logits;
   * normalize (1) divides probability rows by their sums.
   */
  pair: kernel({
    export: "pair_rows",
    args: [
      scalar("op", "i32"),
      rows("p"),
      rows("q"),
      once("w"),
      count,
      classes,
      scalar("pMode", "i32"),
      scalar("qMode", "i32"),
      scalar("invT", "f64"),
      scalar("normalize", "i32"),
      scalar("a", "f64"),
      scalar("b", "f64"),
      scalar("eps", "f64"),
      out,
    ],
    perRow: 1,
    reference: (c) => {
      const { p, q, w } = c.arrays,
        s = c.scalars,
        K = c.classes;
      const op = s.op as PairOp,
        pMode = s.pMode as Mode,
        qMode = s.qMode as Mode,
        normalize = s.normalize !== 0;
      fill(c, (r) => {
        const off = r * K;
        const qd = ref.distribution(q!, off, K, qMode, s.invT, op !== OP_CE && normalize);
        switch (op) {
          case OP_CE: {
            const pd = p !== null && pMode !== PROBS ? ref.distribution(p, off, K, pMode, s.invT, false) : null;
            return ref.crossEntropyRow(p, qd, qMode, q!, w, off, K, s.a, s.b, s.eps, pd);
          }
          case OP_KL:
            return ref.klRow(ref.distribution(p!, off, K, pMode, s.invT, normalize), qd, K);
          case OP_JS:
            return ref.jsRow(ref.distribution(p!, off, K, pMode, s.invT, normalize), qd, K);
          default:
            return unknown("pair op", op);
        }
      });
    },
  }),
  /** -sum_k p_k log p_k per row (p_k = 0 terms are 0). */
  entropy: kernel({
    export: "entropy_rows",
    args: [rows("p"), count, classes, scalar("mode", "i32"), scalar("invT", "f64"), scalar("normalize", "i32"), out],
    perRow: 1,
    reference: (c) =>
      fill(c, (r) =>
        ref.entropyRow(
          ref.distribution(c.arrays.p!, r * c.classes, c.classes, c.scalars.mode as Mode, c.scalars.invT, c.scalars.normalize !== 0),
          c.classes,
        ),
      ),
  }),
  /**
   * One pass of evaluation per row (t < 0: ignored, all 0): -log softmax(x)[t], the entropy of
   * softmax(x), and the rank of t (larger logits, plus equal ones at smaller indices).
   */
  evaluate: kernel({
    export: "evaluate_rows",
    args: [rows("x"), index, count, classes, out],
    perRow: 3,
    reference: (c) => {
      for (let r = 0; r < c.rows; r++) {
        const t = c.index![r];
        const [ce, h, rank] = t < 0 ? [0, 0, 0] : ref.evaluateRow(c.arrays.x!, r * c.classes, c.classes, t);
        c.out[3 * r] = ce;
        c.out[3 * r + 1] = h;
        c.out[3 * r + 2] = rank;
      }
    },
  }),
  /**
   * Binary cross-entropy per element (rows x classes of them): weight w per element or absent,
   * posWeight pw per column or absent; col0 is the column of the first element (0 for whole rows).
   */
  bce: kernel({
    export: "bce",
    args: [rows("y"), rows("x"), rows("w"), once("pw"), count, classes, scalar("col0", "i32"), scalar("mode", "i32"), out],
    perRow: "classes",
    reference: (c) => {
      const { y, x, w, pw } = c.arrays,
        K = c.classes,
        n = c.rows * K;
      for (let i = 0; i < n; i++) {
        const l = ref.bceElement(y![i], x![i], pw === null ? 1 : pw[(i + c.scalars.col0) % K], c.scalars.mode as Mode);
        c.out[i] = w === null ? l : l * w[i];
      }
    },
  }),
  /**
   * Cross-entropy from logits x with its gradient: the row's loss sum_k c_k (-log p_k), c_k =
   * w_k (alpha y_k + beta), y the one-hot of t (index given) or the dense target row; its gradient
   * scale_r (A_r p_k - c_k), A_r = sum_k c_k, with scale_r read from out (outIn). Rows with t < 0: 0.
   */
  ceGrad: kernel({
    export: "ce_grad",
    args: [rows("x"), index, rows("y"), once("w"), count, classes, scalar("alpha", "f64"), scalar("beta", "f64"), out, grad],
    perRow: 1,
    reference: (c) =>
      ref.ceGradRows(
        c.arrays.x!,
        c.index,
        c.arrays.y,
        c.arrays.w,
        c.rows,
        c.classes,
        c.scalars.alpha,
        c.scalars.beta,
        c.outIn!,
        c.grad!,
        c.out,
      ),
  }),
  /** KL(softmax(x/T) || softmax(y/T)) per row, and scale_r (q_k - p_k) / T in grad (scale from out). */
  klGrad: kernel({
    export: "kl_grad",
    args: [rows("x"), rows("y"), count, classes, scalar("invT", "f64"), out, grad],
    perRow: 1,
    reference: (c) => ref.klGradRows(c.arrays.x!, c.arrays.y!, c.rows, c.classes, c.scalars.invT, c.outIn!, c.grad!, c.out),
  }),
  /**
   * Focal loss per row: -sum_k v_k c_k (1 - q_k)^gamma log q_k, c_k = a y_k + b with y the one-hot
   * of t (index) or the dense target row (p), v per class (alpha times weight) or absent.
   */
  focal: kernel({
    export: "focal_rows",
    args: [
      index,
      rows("y"),
      rows("q"),
      once64("v"),
      count,
      classes,
      scalar("qMode", "i32"),
      scalar("gamma", "f64"),
      scalar("a", "f64"),
      scalar("b", "f64"),
      out,
    ],
    perRow: 1,
    reference: (c) =>
      focalRows(
        c.index,
        c.arrays.y,
        c.arrays.q!,
        c.arrays.v,
        c.rows,
        c.classes,
        c.scalars.qMode as Mode,
        c.scalars.gamma,
        c.scalars.a,
        c.scalars.b,
        c.out,
      ),
  }),
  /** Binary focal loss per element (torchvision's sigmoid_focal_loss); alpha < 0: no alpha. */
  binaryFocal: kernel({
    export: "binary_focal",
    args: [rows("y"), rows("x"), count, scalar("mode", "i32"), scalar("gamma", "f64"), scalar("alpha", "f64"), out],
    perRow: "classes",
    reference: (c) =>
      binaryFocalRows(
        c.arrays.y!,
        c.arrays.x!,
        c.rows * c.classes,
        c.scalars.mode as typeof LOGITS | typeof PROBS,
        c.scalars.gamma,
        c.scalars.alpha,
        c.out,
      ),
  }),
} as const;

export type KernelName = keyof typeof KERNELS;
export type KernelArgs<N extends KernelName> = (typeof KERNELS)[N]["args"];
export type CallOf<N extends KernelName> = Call<KernelArgs<N>>;

/** Builds a call of kernel `name` (the arrays and scalars typed by its row of the table). */
export function call<N extends KernelName>(name: N, c: Omit<CallOf<N>, "kernel">): Call {
  (c as { kernel?: Kernel }).kernel = KERNELS[name]; // the literal is the caller's own: no copy
  return c as unknown as Call;
}

/** f64 results per row of a call. */
export function perRow(c: { kernel: Kernel; classes: number }): number {
  return c.kernel.perRow === "classes" ? c.classes : c.kernel.perRow;
}

/** The value of the `count` argument for n rows. */
export function countOf(k: Kernel, n: number, classes: number): number {
  return k.perRow === "classes" ? n * classes : n;
}

/** The module's exports that the table names, with their precision suffix. */
type KernelExports = {
  [N in KernelName as (typeof KERNELS)[N]["export"] extends string
    ? `${(typeof KERNELS)[N]["export"] & string}_${"f32" | "f64"}`
    : never]: (...args: number[]) => void;
};

/** The exports of the WebAssembly module (assembly/index.ts). */
export interface ModuleExports extends KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  simd(): number;
  /** Runs n kernel calls stored at callsPtr in one crossing (assembly/calls.ts, generated from this table; the battery's format). */
  run_calls?(callsPtr: number, n: number, base: number): void;
}

/** The export a call runs. */
export function exportName(k: Kernel, f32: boolean): string {
  return `${k.export}_${f32 ? "f32" : "f64"}`;
}

/** The export's index in KERNEL_EXPORTS (as the generated dispatcher numbers them). */
export const KERNEL_EXPORTS: readonly string[] = Object.values(KERNELS as Record<string, Kernel>)
  .filter((k) => k.export !== null)
  .flatMap((k) => [exportName(k, true), exportName(k, false)]);

/** Most arguments of any export. */
export const MAX_ARGS = Math.max(...Object.values(KERNELS as Record<string, Kernel>).map((k) => k.args.length));

/** Addresses of one chunk's arguments: float inputs by name, the class indices, results and gradient. */
export interface Addresses {
  arrays: Record<string, number>;
  index: number;
  out: number;
  grad: number;
}

/** The export's arguments, in its order, for n rows at these addresses. */
export function kernelArgs(c: Call, at: Addresses, n: number): number[] {
  return (c.kernel.args as readonly Arg[]).map((a) => {
    switch (a.role) {
      case "rows":
      case "once":
        return at.arrays[a.name];
      case "scalar":
        return (c.scalars as Record<string, number>)[a.name];
      case "index":
        return at.index;
      case "count":
        return countOf(c.kernel, n, c.classes);
      case "classes":
        return c.classes;
      case "out":
        return at.out;
      case "grad":
        return at.grad;
      default:
        return unknown("argument role", a);
    }
  });
}

/**
 * A kernel's arguments by position, worked out once per kernel: where a call's inputs, scalars and
 * addresses go in the export's argument list (-1: the kernel has no such argument). The chunker
 * and the pool fill an argument list from it without looking at roles or names per call.
 */
export interface Layout {
  readonly rows: readonly { readonly at: number; readonly name: string }[];
  readonly once: readonly { readonly at: number; readonly name: string; readonly f64: boolean }[];
  readonly scalars: readonly { readonly at: number; readonly name: string }[];
  readonly index: number;
  readonly count: number;
  readonly classes: number;
  readonly out: number;
  readonly grad: number;
  /** The exports' names, float32 and float64. */
  readonly exports: readonly [string, string];
}

const layouts = new WeakMap<Kernel, Layout>();

export function layoutOf(k: Kernel): Layout {
  let l = layouts.get(k);
  if (l === undefined) {
    const args = k.args as readonly Arg[];
    const at = (role: Arg["role"]) => args.findIndex((a) => a.role === role);
    l = {
      rows: args.flatMap((a, i) => (a.role === "rows" ? [{ at: i, name: a.name }] : [])),
      once: args.flatMap((a, i) => (a.role === "once" ? [{ at: i, name: a.name, f64: a.f64 === true }] : [])),
      scalars: args.flatMap((a, i) => (a.role === "scalar" ? [{ at: i, name: a.name }] : [])),
      index: at("index"),
      count: at("count"),
      classes: at("classes"),
      out: at("out"),
      grad: at("grad"),
      exports: [exportName(k, true), exportName(k, false)],
    };
    layouts.set(k, l);
  }
  return l;
}

export function unknown(what: string, v: never | unknown): never {
  throw new Error(`xent: unknown ${what} ${JSON.stringify(v)}`);
}
