// The CLI's measuring commands: eval, focal, kl and entropy. Each opens its files (headers only),
// checks dtypes and shapes, then streams whole rows chunk by chunk through the library's public API.
import { init, backend, Evaluator, klDivergence, entropy, focalLoss, type From } from "../entries/node.js";
import { choice, finite, integer, integerList, parse, positive, required, type Parsed } from "./args.js";
import { DataError, UsageError } from "./errors.js";
import { fmt, json, lines } from "./output.js";
import type { Out } from "./progress.js";
import { Sum, streamRows } from "./stream.js";
import { describeTensor, expectKind, matrixOf, openTensor, showShape, type Tensor } from "./tensor.js";
import { HELP } from "./help.js";

export interface Io {
  stdout: Out;
  stderr: Out;
}

const COMMON = {
  json: "boolean",
  help: "boolean",
  "no-progress": "boolean",
  tensor: "string",
  classes: "string",
  shape: "string",
} as const;

/** Parses, prints help if asked; null when help was printed. */
function options(argv: string[], command: keyof typeof HELP, spec: Record<string, "string" | "boolean">, io: Io): Parsed | null {
  const p = parse(argv, { ...COMMON, ...spec }, command);
  if (p.help) {
    io.stdout.write(HELP[command]);
    return null;
  }
  return p;
}

/** --shape R,K and --classes K, which must agree. */
function shapeOptions(p: Parsed): { shape?: number[]; classes?: number } {
  const shape = integerList(p, "shape", 0, 2);
  let classes = integer(p, "classes", 1);
  if (shape !== undefined) {
    if (shape[1] < 1) throw new UsageError(`--shape: the number of classes must be >= 1, got ${shape[1]}`);
    if (classes !== undefined && classes !== shape[1]) throw new UsageError(`--shape ${shape.join(",")} and --classes ${classes} disagree`);
    classes = shape[1];
  }
  return { shape, classes };
}

async function withFiles<T>(opened: Array<Promise<Tensor>>, body: (t: Tensor[]) => Promise<T>): Promise<T> {
  const settled = await Promise.allSettled(opened);
  const tensors = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  try {
    const failed = settled.find((s) => s.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    return await body(tensors);
  } finally {
    await Promise.all(tensors.map((t) => t.handle.close().catch(() => {})));
  }
}

const progressOut = (p: Parsed, io: Io) => (p["no-progress"] ? null : io.stderr);

/** A self-describing file (.npy, .safetensors) must agree with --shape when both are given. */
function checkShape(t: Tensor, m: { rows: number; classes: number }, shape: number[] | undefined): void {
  if (shape !== undefined && t.format !== "raw" && (m.rows !== shape[0] || m.classes !== shape[1])) {
    throw new DataError(t.file, `shape ${showShape(t.shape)} (${m.rows} x ${m.classes}) is not --shape ${shape.join(",")}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Logits against class-index labels: eval and focal.

const LABELLED = {
  logits: "string",
  labels: "string",
  "ignore-index": "string",
  "logits-tensor": "string",
  "labels-tensor": "string",
} as const;

function ignoreIndexOption(p: Parsed): number {
  const ignoreIndex = integer(p, "ignore-index", -(2 ** 31)) ?? -100;
  if (ignoreIndex > 2 ** 31 - 1) throw new UsageError(`--ignore-index must fit in 32 bits, got ${ignoreIndex}`);
  return ignoreIndex;
}

/** Opens the logits and labels files of a command (the tensors given by --logits-tensor, --labels-tensor or --tensor). */
function openLabelled(p: Parsed, logitsFile: string, labelsFile: string, shape: number[] | undefined): Array<Promise<Tensor>> {
  return [
    openTensor(logitsFile, { tensor: (p["logits-tensor"] ?? p.tensor) as string | undefined, role: "logits", shape }),
    openTensor(labelsFile, { tensor: (p["labels-tensor"] ?? p.tensor) as string | undefined, role: "labels" }),
  ];
}

/** The logits' rows and classes, one row per label; a flat file of logits is split by the number of labels. */
function labelledShape(
  logits: Tensor,
  labels: Tensor,
  classes: number | undefined,
  shape: number[] | undefined,
): { rows: number; classes: number } {
  expectKind(logits, "float", "logits");
  expectKind(labels, "index", "labels");
  const n = labels.length;
  if (logits.shape.length === 1 && classes === undefined && n > 0 && logits.length % n !== 0) {
    throw new DataError(
      logits.file,
      `${logits.length} logits do not split into ${n} rows (one per label in ${labels.file}): give --classes`,
    );
  }
  const m = matrixOf(logits, classes, () => (n > 0 ? logits.length / n : undefined));
  checkShape(logits, m, shape);
  if (m.rows !== n) {
    throw new DataError(
      labels.file,
      `holds ${n} labels (shape ${showShape(labels.shape)}) but ${logits.file} has ${m.rows} rows of logits`,
    );
  }
  return m;
}

/** Copies a chunk of labels into `t`, each a class index or ignoreIndex; returns how many are ignoreIndex. */
function takeLabels(
  y: ArrayLike<number>,
  t: Int32Array,
  first: number,
  rows: number,
  K: number,
  ignoreIndex: number,
  file: string,
): number {
  let ignored = 0;
  for (let i = 0; i < rows; i++) {
    const v = y[i];
    if (v === ignoreIndex) ignored++;
    else if (!(Number.isInteger(v) && v >= 0 && v < K)) {
      throw new DataError(file, `label ${v} at index ${first + i} is not a class index in [0, ${K}) nor --ignore-index (${ignoreIndex})`);
    }
    t[i] = v;
  }
  return ignored;
}

export async function evalCommand(argv: string[], io: Io): Promise<number> {
  const p = options(argv, "eval", { ...LABELLED, "top-k": "string" }, io);
  if (p === null) return 0;
  const logitsFile = required(p, "logits", "eval"),
    labelsFile = required(p, "labels", "eval");
  const { shape, classes } = shapeOptions(p);
  const ignoreIndex = ignoreIndexOption(p);
  const requested = integerList(p, "top-k", 1);
  await init();
  return withFiles(openLabelled(p, logitsFile, labelsFile, shape), async ([logits, labels]) => {
    const m = labelledShape(logits, labels, classes, shape);
    const n = m.rows,
      K = m.classes;
    const topK = requested ?? (K > 5 ? [1, 5] : [1]);
    const ev = new Evaluator({ classes: K, topK: [...new Set([1, ...topK])], ignoreIndex });
    const t = new Int32Array(Math.max(1, Math.min(n, 1 << 16)));
    let ignored = 0;
    await streamRows(
      [
        { tensor: logits, kind: "float", perRow: K },
        { tensor: labels, kind: "index", perRow: 1 },
      ],
      n,
      ([x, y], first, rows) => {
        ignored += takeLabels(y, t, first, rows, K, ignoreIndex, labelsFile);
        ev.update(t.subarray(0, rows), x);
      },
      { out: progressOut(p, io), label: "xent eval" },
    );
    const r = ev.result();
    const topKOut: Record<string, number> = {};
    for (const k of [...new Set(topK)].sort((a, b) => a - b)) topKOut[k] = r.topK[k];
    if (p.json) {
      io.stdout.write(
        json({
          command: "eval",
          logits: logitsFile,
          labels: labelsFile,
          rows: r.rows,
          ignored,
          classes: K,
          crossEntropy: r.crossEntropy,
          perplexity: r.perplexity,
          accuracy: r.accuracy,
          topK: topKOut,
          entropy: r.entropy,
          backend: backend(),
        }),
      );
      return 0;
    }
    io.stdout.write(
      lines([
        ["logits", `${logitsFile}  ${describeTensor(logits, m)}`],
        ["labels", `${labelsFile}  ${describeTensor(labels)}`],
        ["rows", ignored > 0 ? `${r.rows} (${ignored} ignored)` : `${r.rows}`],
        ["cross-entropy", `${fmt(r.crossEntropy)} nats`],
        ["perplexity", fmt(r.perplexity)],
        ["accuracy", `${fmt(r.accuracy)} (top-1)`],
        ...Object.entries(topKOut)
          .filter(([k]) => k !== "1")
          .map(([k, v]): [string, string] => [`top-${k} accuracy`, fmt(v)]),
        ["mean entropy", `${fmt(r.entropy)} nats`],
      ]),
    );
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------

const FROM = ["logits", "probs", "logprobs"] as const;

/** --from A or --from A,B (p, q). */
function fromOption(p: Parsed, two: boolean): { p: From; q: From } {
  const v = p.from;
  if (v === undefined) return { p: "probs", q: "probs" };
  const parts = String(v).split(",");
  if (parts.length > (two ? 2 : 1) || !parts.every((s) => (FROM as readonly string[]).includes(s))) {
    throw new UsageError(
      `--from must be ${FROM.join(", ")}${two ? " (or two of them, P's and Q's: --from logits,probs)" : ""}; got ${JSON.stringify(v)}`,
    );
  }
  return { p: parts[0] as From, q: (parts[1] ?? parts[0]) as From };
}

function divergenceOptions(p: Parsed, from: { p: From; q: From }, two: boolean) {
  const temperature = positive(p, "temperature");
  if (temperature !== undefined && from.p !== "logits" && (!two || from.q !== "logits")) {
    throw new UsageError(`--temperature divides logits: it needs --from logits`);
  }
  return { temperature, base: baseOption(p) };
}

/** --base B: the logarithm base of the result (undefined: e). */
function baseOption(p: Parsed): number | undefined {
  const base = positive(p, "base");
  if (base === 1) throw new UsageError("--base must not be 1");
  return base;
}

const unitOf = (base: number | undefined) => (base === undefined ? "nats" : base === 2 ? "bits" : `log base ${base}`);

export async function klCommand(argv: string[], io: Io): Promise<number> {
  const p = options(
    argv,
    "kl",
    { p: "string", q: "string", from: "string", temperature: "string", base: "string", "p-tensor": "string", "q-tensor": "string" },
    io,
  );
  if (p === null) return 0;
  const pFile = required(p, "p", "kl"),
    qFile = required(p, "q", "kl");
  const { shape, classes } = shapeOptions(p);
  const from = fromOption(p, true);
  const { temperature, base } = divergenceOptions(p, from, true);
  await init();
  return withFiles(
    [
      openTensor(pFile, { tensor: (p["p-tensor"] ?? p.tensor) as string | undefined, role: "p", shape }),
      openTensor(qFile, { tensor: (p["q-tensor"] ?? p.tensor) as string | undefined, role: "q", shape }),
    ],
    async ([tp, tq]) => {
      expectKind(tp, "float", "p");
      expectKind(tq, "float", "q");
      const mp = matrixOf(tp, classes);
      const mq = matrixOf(tq, classes, () => mp.classes);
      checkShape(tp, mp, shape);
      checkShape(tq, mq, shape);
      if (mq.rows !== mp.rows || mq.classes !== mp.classes) {
        throw new DataError(
          qFile,
          `shape ${showShape(tq.shape)} (${mq.rows} x ${mq.classes}) does not match ${pFile}'s ${showShape(tp.shape)} (${mp.rows} x ${mp.classes})`,
        );
      }
      const K = mp.classes,
        rows = mp.rows;
      const opts = {
        from,
        classes: K,
        reduction: "sum" as const,
        ...(temperature === undefined ? {} : { temperature }),
        ...(base === undefined ? {} : { base }),
      };
      const sum = new Sum();
      await streamRows(
        [
          { tensor: tp, kind: "float", perRow: K },
          { tensor: tq, kind: "float", perRow: K },
        ],
        rows,
        ([x, y]) => {
          sum.add(klDivergence(x, y, opts));
        },
        { out: progressOut(p, io), label: "xent kl" },
      );
      const kl = sum.value / rows;
      const unit = unitOf(base);
      if (p.json) {
        io.stdout.write(
          json({
            command: "kl",
            p: pFile,
            q: qFile,
            rows,
            classes: K,
            from,
            temperature: temperature ?? 1,
            base: base ?? Math.E,
            kl,
            backend: backend(),
          }),
        );
        return 0;
      }
      io.stdout.write(
        lines([
          ["p", `${pFile}  ${describeTensor(tp, mp)}, ${from.p}`],
          ["q", `${qFile}  ${describeTensor(tq, mq)}, ${from.q}`],
          ["rows", `${rows}`],
          ...(temperature === undefined ? [] : [["temperature", fmt(temperature)] as [string, string]]),
          ["KL(p || q)", `${fmt(kl)} ${unit} (mean over rows)`],
        ]),
      );
      return 0;
    },
  );
}

export async function entropyCommand(argv: string[], io: Io): Promise<number> {
  const p = options(argv, "entropy", { p: "string", from: "string", temperature: "string", base: "string", "p-tensor": "string" }, io);
  if (p === null) return 0;
  const pFile = required(p, "p", "entropy");
  const { shape, classes } = shapeOptions(p);
  const from = fromOption(p, false).p;
  const { temperature, base } = divergenceOptions(p, { p: from, q: from }, false);
  await init();
  return withFiles([openTensor(pFile, { tensor: (p["p-tensor"] ?? p.tensor) as string | undefined, role: "p", shape })], async ([tp]) => {
    expectKind(tp, "float", "p");
    const m = matrixOf(tp, classes);
    checkShape(tp, m, shape);
    const K = m.classes,
      rows = m.rows;
    const opts = {
      from,
      classes: K,
      reduction: "sum" as const,
      ...(temperature === undefined ? {} : { temperature }),
      ...(base === undefined ? {} : { base }),
    };
    const sum = new Sum();
    await streamRows(
      [{ tensor: tp, kind: "float", perRow: K }],
      rows,
      ([x]) => {
        sum.add(entropy(x, opts));
      },
      { out: progressOut(p, io), label: "xent entropy" },
    );
    const h = sum.value / rows;
    const unit = unitOf(base);
    if (p.json) {
      io.stdout.write(
        json({
          command: "entropy",
          p: pFile,
          rows,
          classes: K,
          from,
          temperature: temperature ?? 1,
          base: base ?? Math.E,
          entropy: h,
          backend: backend(),
        }),
      );
      return 0;
    }
    io.stdout.write(
      lines([
        ["p", `${pFile}  ${describeTensor(tp, m)}, ${from}`],
        ["rows", `${rows}`],
        ...(temperature === undefined ? [] : [["temperature", fmt(temperature)] as [string, string]]),
        ["H(p)", `${fmt(h)} ${unit} (mean over rows)`],
      ]),
    );
    return 0;
  });
}

export async function focalCommand(argv: string[], io: Io): Promise<number> {
  const p = options(
    argv,
    "focal",
    { ...LABELLED, from: "string", gamma: "string", alpha: "string", reduction: "string", base: "string" },
    io,
  );
  if (p === null) return 0;
  const logitsFile = required(p, "logits", "focal"),
    labelsFile = required(p, "labels", "focal");
  const { shape, classes } = shapeOptions(p);
  const ignoreIndex = ignoreIndexOption(p);
  const from: From = p.from === undefined ? "logits" : fromOption(p, false).p;
  const gamma = finite(p, "gamma", "a number >= 0", (x) => x >= 0) ?? 2;
  const alpha = finite(p, "alpha");
  const reduction = choice(p, "reduction", ["mean", "sum"] as const, "mean");
  const base = baseOption(p);
  await init();
  return withFiles(openLabelled(p, logitsFile, labelsFile, shape), async ([logits, labels]) => {
    const m = labelledShape(logits, labels, classes, shape);
    const n = m.rows,
      K = m.classes;
    const opts = {
      classes: K,
      from,
      gamma,
      ignoreIndex,
      reduction: "sum" as const,
      ...(alpha === undefined ? {} : { alpha }),
      ...(base === undefined ? {} : { base }),
    };
    const t = new Int32Array(Math.max(1, Math.min(n, 1 << 16)));
    const sum = new Sum();
    let ignored = 0;
    await streamRows(
      [
        { tensor: logits, kind: "float", perRow: K },
        { tensor: labels, kind: "index", perRow: 1 },
      ],
      n,
      ([x, y], first, rows) => {
        ignored += takeLabels(y, t, first, rows, K, ignoreIndex, labelsFile);
        sum.add(focalLoss(t.subarray(0, rows), x, opts));
      },
      { out: progressOut(p, io), label: "xent focal" },
    );
    // "mean" as the library's: over the rows that count (NaN when none does).
    const counted = n - ignored;
    const value = reduction === "sum" ? sum.value : sum.value / counted;
    if (p.json) {
      io.stdout.write(
        json({
          command: "focal",
          logits: logitsFile,
          labels: labelsFile,
          rows: counted,
          ignored,
          classes: K,
          from,
          gamma,
          alpha: alpha ?? null,
          reduction,
          base: base ?? Math.E,
          focalLoss: value,
          backend: backend(),
        }),
      );
      return 0;
    }
    io.stdout.write(
      lines([
        ["logits", `${logitsFile}  ${describeTensor(logits, m)}, ${from}`],
        ["labels", `${labelsFile}  ${describeTensor(labels)}`],
        ["rows", ignored > 0 ? `${counted} (${ignored} ignored)` : `${counted}`],
        ["gamma", fmt(gamma)],
        ...(alpha === undefined ? [] : [["alpha", fmt(alpha)] as [string, string]]),
        ["focal loss", `${fmt(value)} ${unitOf(base)} (${reduction} over rows)`],
      ]),
    );
    return 0;
  });
}
