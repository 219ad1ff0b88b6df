// benny suites: crossEntropy from logits, xent (SIMD engine, copy-in and zero-copy) against
// xent/reference, at the workload sizes of the throughput issue; and evaluate() against the
// separate calls it replaces (W2, W3). Results: bench/results/core.json.
//   npm run bench            (all sizes)
//   npm run bench -- W2      (one size)
import b from "benny";
import { writeFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { init, backend, crossEntropy, entropy, evaluate, allocate } from "../src/index.js";
import * as reference from "../src/reference/index.js";
import { rng, logits, labels } from "../test/helpers/data.js";

const WORKLOADS: Record<string, [number, number]> = { W1: [4096, 10], W2: [1024, 1000], W3: [64, 32000], W4: [8, 128256] };
const only = process.argv.slice(2).filter((a) => a in WORKLOADS);

await init();
const results: Record<string, unknown>[] = [];
for (const [name, [rows, classes]] of Object.entries(WORKLOADS)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const u = rng(rows);
  const x = logits(u, rows * classes, Float32Array);
  const t = labels(u, rows, classes);
  const X = allocate(Float32Array, x.length);
  X.view.set(x);
  let sink = 0;
  const summary = await b.suite(
    `crossEntropy from logits, ${name} (${rows} x ${classes}, float32)`,
    b.add("xent (copy-in)", () => {
      sink += crossEntropy(t, x, { classes });
    }),
    b.add("xent (zero-copy)", () => {
      sink += crossEntropy(t, X.view, { classes });
    }),
    b.add("xent/reference", () => {
      sink += reference.crossEntropy(t, x, { classes });
    }),
    b.configure({ cases: { minSamples: 20, maxTime: 2 } }),
    b.cycle((r: { name: string; ops: number }) => console.log(`  ${r.name}: ${((r.ops * rows * classes) / 1e6).toFixed(0)} Melem/s`)),
  );
  if (!Number.isFinite(sink)) throw new Error("results were not finite");
  for (const r of summary.results) {
    results.push({
      workload: name,
      rows,
      classes,
      case: r.name,
      opsPerSec: r.ops,
      melemPerSec: (r.ops * rows * classes) / 1e6,
      margin: r.margin,
      samples: r.samples,
    });
  }
  X.free();
}
// evaluate() against the separate calls a user would otherwise make: crossEntropy, entropy, and a
// top-1/top-5 accuracy loop in plain JavaScript.
function accuracyLoop(t: Int32Array, x: Float32Array, classes: number, k: number): number {
  let hits = 0;
  for (let r = 0; r < t.length; r++) {
    const off = r * classes,
      xt = x[off + t[r]];
    let rank = 0;
    for (let j = 0; j < classes && rank < k; j++) if (x[off + j] > xt || (x[off + j] === xt && j < t[r])) rank++;
    if (rank < k) hits++;
  }
  return hits / t.length;
}
const evaluateRatios: Record<string, { median: number; runs: number[] }> = {};
for (const [name, [rows, classes]] of Object.entries(WORKLOADS)) {
  if (name !== "W2" && name !== "W3") continue;
  if (only.length > 0 && !only.includes(name)) continue;
  const u = rng(rows + 1);
  const x = logits(u, rows * classes, Float32Array) as Float32Array;
  const t = labels(u, rows, classes);
  let sink = 0;
  // Five runs, the two cases in alternating order; the ratio reported is the median of the runs'
  // ratios (one run on this shared machine moved it by 0.3).
  const ratios: number[] = [];
  let last: { name: string; ops: number; margin: number; samples: number }[] = [];
  for (let run = 0; run < 5; run++) {
    const cases = [
      b.add("evaluate (one pass)", () => {
        sink += evaluate(t, x, { classes, topK: [1, 5] }).crossEntropy;
      }),
      b.add("separate: crossEntropy + entropy + accuracy loop", () => {
        sink +=
          crossEntropy(t, x, { classes }) +
          entropy(x, { classes, from: "logits" }) +
          accuracyLoop(t, x, classes, 1) +
          accuracyLoop(t, x, classes, 5);
      }),
    ];
    const summary = await b.suite(
      `evaluate vs separate calls, ${name} (${rows} x ${classes}, float32), run ${run + 1}/5`,
      ...(run % 2 === 0 ? cases : cases.reverse()),
      b.configure({ cases: { minSamples: 20, maxTime: 1 } }),
      b.cycle((r: { name: string; ops: number }) => console.log(`  ${r.name}: ${((r.ops * rows * classes) / 1e6).toFixed(0)} Melem/s`)),
    );
    const one = summary.results.find((r) => r.name.startsWith("evaluate"))!,
      sep = summary.results.find((r) => r.name.startsWith("separate"))!;
    ratios.push(one.ops / sep.ops);
    last = summary.results;
  }
  if (!Number.isFinite(sink)) throw new Error("results were not finite");
  const sorted = [...ratios].sort((a, b) => a - b),
    ratio = sorted[2];
  console.log(`  evaluate is ${ratio.toFixed(2)}x the separate calls (median of 5 runs: ${ratios.map((r) => r.toFixed(2)).join(" ")})`);
  evaluateRatios[name] = { median: ratio, runs: ratios };
  for (const r of last) {
    results.push({
      workload: name,
      rows,
      classes,
      case: r.name,
      opsPerSec: r.ops,
      melemPerSec: (r.ops * rows * classes) / 1e6,
      margin: r.margin,
      samples: r.samples,
    });
  }
}

const base = results.filter((r) => r.case === "xent/reference");
for (const r of results) {
  const ref = base.find((x) => x.workload === r.workload) as { opsPerSec: number } | undefined;
  if (ref !== undefined && !String(r.case).includes("evaluate") && !String(r.case).includes("separate"))
    r.vsReference = (r.opsPerSec as number) / ref.opsPerSec;
}
console.table(
  results.map((r) => ({
    workload: r.workload,
    case: r.case,
    "Melem/s": (r.melemPerSec as number).toFixed(0),
    "x reference": r.vsReference === undefined ? "" : (r.vsReference as number).toFixed(1),
  })),
);
if (only.length > 0) {
  console.log("(filtered run: bench/results/core.json not written)");
} else {
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(
    new URL("./results/core.json", import.meta.url),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        command: "npm run bench",
        node: process.version,
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        engine: backend(),
        evaluateOverSeparate: evaluateRatios,
        results,
      },
      null,
      2,
    )}\n`,
  );
}
