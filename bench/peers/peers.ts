// Every library in the comparison, as a factory of benchmark cases for one input.
// A case is a function computing one scalar: the same quantity for every library (checked
// against xent/reference by run.ts before anything is timed). Inputs are put into each
// library's own memory / tensor objects once, outside the timed function; the timed function
// computes and reads the scalar back into JavaScript.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import * as xent from "../../src/index.js";
import * as reference from "../../src/reference/index.js";
import * as plain from "./plain.js";
import { graphs } from "./make-graphs.js";

const require = createRequire(import.meta.url);
/** The folder of an installed package (some, like onnxruntime-web, do not export their package.json). */
export function pkgDir(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file) && JSON.parse(readFileSync(file, "utf8")).name === name) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of ${name} above ${require.resolve(name)}`);
    dir = up;
  }
}
export const pkgVersion = (name: string): string => JSON.parse(readFileSync(join(pkgDir(name), "package.json"), "utf8")).version;

export type Op = "OP1" | "OP2" | "OP3";
export type Precision = "f32" | "f64";
type F = Float32Array | Float64Array;

/** One input of one operation: OP1 labels + logits, OP2 teacher + student logits, OP3 soft targets + probs. */
export interface Input {
  op: Op;
  precision: Precision;
  rows: number;
  classes: number;
  labels?: Int32Array;
  logits?: F;
  teacher?: F;
  student?: F;
  targets?: F;
  probs?: F;
}

export interface Case {
  /** Unique within a suite, e.g. "onnxruntime-node [SoftmaxCrossEntropyLoss]". */
  name: string;
  /** Row of the results table. */
  lib: string;
  /** Which ONNX graph, where a library has several for one op. */
  graph?: string;
  run: () => number | Promise<number>;
  dispose?: () => void;
}

export interface Peer {
  lib: string;
  /** Why this peer cannot run an (op, precision), or null when it can. */
  unsupported(op: Op, precision: Precision): string | null;
  cases(input: Input): Case[];
}

/** xent/reference on the same input: the value every case is checked against. */
export function referenceValue(d: Input): number {
  const { classes } = d;
  switch (d.op) {
    case "OP1":
      return reference.crossEntropy(d.labels!, d.logits!, { classes });
    case "OP2":
      return reference.klDivergence(d.teacher!, d.student!, { from: "logits", classes });
    case "OP3":
      return reference.crossEntropy(d.targets!, d.probs!, { from: "probs", classes });
  }
}

// ---------------------------------------------------------------------------------------- xent

export const XENT = "xent (copy-in)";
export const XENT_ZC = "xent (zero-copy)";

export async function xentPeers(): Promise<Peer[]> {
  await xent.init();
  const info = xent.engineInfo();
  if (info.backend !== "wasm-simd") throw new Error(`xent did not load its SIMD engine: ${JSON.stringify(info)}`);
  const call = (d: Input, a: F | xent.WasmArray, b: F | xent.WasmArray): number => {
    const { classes } = d;
    switch (d.op) {
      case "OP1":
        return xent.crossEntropy(d.labels!, a as F, { classes });
      case "OP2":
        return xent.klDivergence(a as F, b as F, { from: "logits", classes });
      case "OP3":
        return xent.crossEntropy(a as F, b as F, { from: "probs", classes });
    }
  };
  const pair = (d: Input): [F, F] =>
    d.op === "OP1" ? [d.logits!, d.logits!] : d.op === "OP2" ? [d.teacher!, d.student!] : [d.targets!, d.probs!];
  const none = () => null;
  return [
    {
      lib: XENT,
      unsupported: none,
      cases(d) {
        const [a, b] = pair(d);
        return [{ name: XENT, lib: XENT, run: () => call(d, a, b) }];
      },
    },
    {
      lib: XENT_ZC,
      unsupported: none,
      cases(d) {
        // The float inputs live in the module's memory (allocate), so the measure reads them in place.
        const [a, b] = pair(d);
        const T = (d.precision === "f32" ? Float32Array : Float64Array) as Float32ArrayConstructor;
        const A = xent.allocate(T, a.length);
        const B = d.op === "OP1" ? A : xent.allocate(T, b.length);
        A.view.set(a);
        B.view.set(b);
        return [
          {
            name: XENT_ZC,
            lib: XENT_ZC,
            // .view is re-taken per call (cheap) in case another allocation grew the memory.
            run: () => (d.op === "OP1" ? xent.crossEntropy(d.labels!, A.view, { classes: d.classes }) : call(d, A.view, B.view)),
            dispose: () => {
              A.free();
              if (B !== A) B.free();
            },
          },
        ];
      },
    },
    {
      lib: "xent/reference",
      unsupported: none,
      cases(d) {
        return [{ name: "xent/reference", lib: "xent/reference", run: () => referenceValue(d) }];
      },
    },
  ];
}

// ------------------------------------------------------------------------------------ plain JS

export const plainPeer: Peer = {
  lib: "plain JS",
  unsupported: () => null,
  cases(d) {
    const k = d.classes;
    const run =
      d.op === "OP1"
        ? () => plain.crossEntropyLogits(d.labels!, d.logits!, k)
        : d.op === "OP2"
          ? () => plain.klLogits(d.teacher!, d.student!, k)
          : () => plain.crossEntropyProbs(d.targets!, d.probs!, k);
    return [{ name: "plain JS", lib: "plain JS", run }];
  },
};

// ------------------------------------------------------------------------ TensorFlow.js (WASM)

export async function tfjsPeer(): Promise<{ peer: Peer; info: Record<string, unknown> }> {
  const tf = await import("@tensorflow/tfjs-core");
  const { setWasmPaths } = await import("@tensorflow/tfjs-backend-wasm");
  // Node has no fetch of file paths: point the backend at the package's own dist/ folder.
  setWasmPaths(`${join(pkgDir("@tensorflow/tfjs-backend-wasm"), "dist")}/`);
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
  await tf.ready();
  if (!simd) throw new Error("TensorFlow.js did not detect WebAssembly SIMD: it would load its scalar build");
  const lib = "tfjs-wasm";
  const scalar = (t: () => import("@tensorflow/tfjs-core").Tensor) => () => {
    const r = tf.tidy(t);
    const v = r.dataSync()[0];
    r.dispose();
    return v;
  };
  const peer: Peer = {
    lib,
    unsupported: (_op, p) => (p === "f64" ? "TensorFlow.js has no float64 dtype (float32, int32, bool, complex64, string)" : null),
    cases(d) {
      const shape: [number, number] = [d.rows, d.classes];
      const held: import("@tensorflow/tfjs-core").Tensor[] = [];
      const hold = <T extends import("@tensorflow/tfjs-core").Tensor>(t: T) => {
        held.push(t);
        return t;
      };
      let run: () => number;
      if (d.op === "OP1") {
        // gather with batchDims: 1 returns wrong values (upstream bug): gather from the flattened
        // log-probabilities at flat indices row * K + label (row offsets are a constant tensor).
        const X = hold(tf.tensor2d(d.logits! as Float32Array, shape));
        const L = hold(tf.tensor1d(d.labels!, "int32"));
        const OFF = hold(tf.range(0, d.rows * d.classes, d.classes, "int32"));
        run = scalar(() => tf.neg(tf.mean(tf.gather(tf.reshape(tf.logSoftmax(X), [-1]), tf.add(OFF, L)))));
      } else if (d.op === "OP2") {
        const T = hold(tf.tensor2d(d.teacher! as Float32Array, shape));
        const S = hold(tf.tensor2d(d.student! as Float32Array, shape));
        run = scalar(() => tf.mean(tf.sum(tf.mul(tf.softmax(T), tf.sub(tf.logSoftmax(T), tf.logSoftmax(S))), 1)));
      } else {
        const Y = hold(tf.tensor2d(d.targets! as Float32Array, shape));
        const Q = hold(tf.tensor2d(d.probs! as Float32Array, shape));
        run = scalar(() => tf.neg(tf.mean(tf.sum(tf.mul(Y, tf.log(Q)), 1))));
      }
      return [
        {
          name: lib,
          lib,
          run,
          dispose: () => {
            for (const t of held) t.dispose();
          },
        },
      ];
    },
  };
  return {
    peer,
    info: { version: pkgVersion("@tensorflow/tfjs-core"), backend: tf.getBackend(), simd, threads, wasm: "tfjs-backend-wasm-simd.wasm" },
  };
}

// ------------------------------------------------------------------------------ ONNX Runtime

type Ort = typeof import("onnxruntime-web");
type Session = import("onnxruntime-web").InferenceSession;

export const OP1_GRAPHS = { sce: "SoftmaxCrossEntropyLoss", lsm: "LogSoftmax+GatherElements" } as const;

function ortPeer(lib: string, ort: Ort, sessions: Record<string, Session>): Peer {
  return {
    lib,
    unsupported: (op, p) => (op === "OP3" && p === "f64" ? "not measured (OP3 is float32 only)" : null),
    cases(d) {
      const dt = d.precision === "f32" ? "float32" : "float64";
      const shape = [d.rows, d.classes];
      const t = (data: F) => new ort.Tensor(dt, data, shape);
      const make = (graph: string, feeds: Record<string, import("onnxruntime-web").Tensor>, label?: string): Case => {
        const s = sessions[`${graph}-${d.precision}`];
        if (!s) throw new Error(`${lib}: no session for ${graph}-${d.precision}`);
        return {
          name: label ? `${lib} [${label}]` : lib,
          lib,
          graph: label,
          run: async () => (await s.run(feeds)).loss.data[0] as number,
        };
      };
      if (d.op === "OP1") {
        const x = t(d.logits!);
        const labels = BigInt64Array.from(d.labels!, (v) => BigInt(v)); // ONNX class indices are int64
        return [
          make("op1-sce", { logits: x, labels: new ort.Tensor("int64", labels, [d.rows]) }, OP1_GRAPHS.sce),
          make("op1-lsm", { logits: x, labels: new ort.Tensor("int64", labels, [d.rows, 1]) }, OP1_GRAPHS.lsm),
        ];
      }
      if (d.op === "OP2") return [make("op2", { t: t(d.teacher!), s: t(d.student!) })];
      return [make("op3", { targets: t(d.targets!), probs: t(d.probs!) })];
    },
  };
}

async function sessionsFor(ort: Ort, options: import("onnxruntime-web").InferenceSession.SessionOptions): Promise<Record<string, Session>> {
  const out: Record<string, Session> = {};
  for (const [name, bytes] of Object.entries(graphs())) out[name] = await ort.InferenceSession.create(bytes, options);
  return out;
}

export async function ortWebPeer(): Promise<{ peer: Peer; info: Record<string, unknown> }> {
  const ort = (await import("onnxruntime-web")) as Ort;
  ort.env.wasm.wasmPaths = `${join(pkgDir("onnxruntime-web"), "dist")}/`;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const sessions = await sessionsFor(ort, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const lib = "onnxruntime-web";
  return {
    peer: ortPeer(lib, ort, sessions),
    info: {
      version: pkgVersion("onnxruntime-web"),
      executionProvider: "wasm",
      numThreads: 1,
      wasm: "ort-wasm-simd-threaded.wasm",
      handler: (Object.values(sessions)[0] as unknown as { handler: object }).handler.constructor.name,
    },
  };
}

export async function ortNodePeer(): Promise<{ peer: Peer; info: Record<string, unknown> }> {
  const ort = (await import("onnxruntime-node")) as unknown as Ort;
  const sessions = await sessionsFor(ort, {
    executionProviders: ["cpu"],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const handler = (Object.values(sessions)[0] as unknown as { handler: object }).handler.constructor.name;
  if (handler !== "OnnxruntimeSessionHandler") throw new Error(`onnxruntime-node sessions run on an unexpected backend (${handler})`);
  const lib = "onnxruntime-node";
  return {
    peer: ortPeer(lib, ort, sessions),
    info: { version: pkgVersion("onnxruntime-node"), executionProvider: "cpu", intraOpNumThreads: 1, handler },
  };
}
