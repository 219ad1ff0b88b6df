// `xent bench`: crossEntropy from float32 logits on synthetic data, xent's engine against the plain
// TypeScript reference (xent/reference), in input elements per second.
import { init, backend, crossEntropy } from "../entries/node.js";
import * as reference from "../reference/index.js";
import { integer, parse, positive } from "./args.js";
import { UsageError } from "./errors.js";
import { HELP } from "./help.js";
import type { Io } from "./commands.js";
import { fmt, json, lines } from "./output.js";

/** Median Melem/s of `fn` over samples of at least 25 ms each, for about `seconds`. */
export function measure(fn: () => number, elements: number, seconds: number): number {
  fn(); // warm up
  const rates: number[] = [];
  const end = performance.now() + seconds * 1000;
  do {
    let calls = 0;
    const t0 = performance.now();
    let t1 = t0;
    while (t1 - t0 < 25) {
      fn();
      calls++;
      t1 = performance.now();
    }
    rates.push((calls * elements) / ((t1 - t0) * 1000));
  } while (performance.now() < end || rates.length < 3);
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

/** Deterministic logits in [-4, 4) and labels (xorshift32). */
export function synthetic(rows: number, classes: number): { logits: Float32Array; labels: Int32Array } {
  const logits = new Float32Array(rows * classes),
    labels = new Int32Array(rows);
  let s = 0x9e3779b9;
  for (let i = 0; i < logits.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    logits[i] = ((s >>> 8) / 2 ** 24) * 8 - 4;
  }
  for (let r = 0; r < rows; r++) labels[r] = (r * 7919) % classes;
  return { logits, labels };
}

export async function benchCommand(argv: string[], io: Io): Promise<number> {
  const p = parse(argv, { rows: "string", classes: "string", seconds: "string", json: "boolean", help: "boolean" }, "bench");
  if (p.help) {
    io.stdout.write(HELP.bench);
    return 0;
  }
  const rows = integer(p, "rows", 1) ?? 1024,
    classes = integer(p, "classes", 1) ?? 1000;
  const seconds = positive(p, "seconds") ?? 2;
  if (rows * classes > 2 ** 27) throw new UsageError(`bench: --rows x --classes must be at most 2^27 elements, got ${rows * classes}`);
  await init();
  const { logits, labels } = synthetic(rows, classes);
  const n = rows * classes;
  const a = crossEntropy(labels, logits, { classes }),
    b = reference.crossEntropy(labels, logits, { classes });
  const agree = Math.abs(a - b) <= 1e-6 * Math.abs(b) + 1e-7;
  const xent = measure(() => crossEntropy(labels, logits, { classes }), n, seconds / 2);
  const ref = measure(() => reference.crossEntropy(labels, logits, { classes }), n, seconds / 2);
  if (p.json) {
    io.stdout.write(
      json({
        command: "bench",
        measure: "crossEntropy",
        from: "logits",
        dtype: "float32",
        rows,
        classes,
        backend: backend(),
        xentMelemPerSecond: xent,
        referenceMelemPerSecond: ref,
        ratio: xent / ref,
        agree,
      }),
    );
    return agree ? 0 : 2;
  }
  io.stdout.write(
    lines([
      ["benchmark", `crossEntropy from float32 logits, ${rows} x ${classes}, ${fmt(seconds)} s`],
      [`xent (${backend()})`, `${xent.toFixed(1)} Melem/s`],
      ["xent/reference", `${ref.toFixed(1)} Melem/s`],
      ["ratio", `${(xent / ref).toFixed(2)}x`],
      ["results agree", agree ? `yes (${fmt(a)} nats)` : `NO: ${fmt(a)} vs ${fmt(b)}`],
    ]),
  );
  return agree ? 0 : 2;
}
