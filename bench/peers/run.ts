// Throughput of xent against its peers (plain JS, xent/reference, TensorFlow.js WASM,
// onnxruntime-web, onnxruntime-node), cold start and module sizes. See bench/README.md.
//
//   npm run bench:peers                       everything (about 10 minutes on 2 cores)
//   npm run bench:peers -- W2 OP1             filter: any of W1..W4, OP1..OP3, f32 / f64
//   npm run bench:peers -- --repeat 1 --max-time 0.3 --cold 0 --libs xent,onnx
//
// Options: --repeat N (benny runs per suite, default 3; medians across them), --max-time S and
// --min-samples N (per case and run; default 0.5 s, 5), --cold N (fresh processes per library
// for the cold start, default 7; 0 skips), --libs a,b (substring match on library names; xent
// copy-in is always kept as the basis of the ratios), --out NAME (default "peers" for an
// unfiltered run, "peers-filtered" otherwise), --check-only (numerical checks, no timing).
import b from "benny";
import { execSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { rng, logits, labels, probs } from "../../test/helpers/data.js";
import * as xent from "../../src/index.js";
import { makeGraphs } from "./make-graphs.js";
import {
  type Case,
  type Input,
  type Op,
  type Peer,
  type Precision,
  XENT,
  OP1_GRAPHS,
  ortNodePeer,
  ortWebPeer,
  plainPeer,
  referenceValue,
  tfjsPeer,
  xentPeers,
} from "./peers.js";
import { coldStart, sizes } from "./cold.js";
import { type Measurement, type RepeatResult, OPS, WORKLOADS, markdown, svg } from "./report.js";

// ------------------------------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = argv.indexOf(name);
  if (i < 0) return def;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} needs a number`);
  argv.splice(i, 2);
  return v;
};
const sflag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const bool = (name: string) => {
  const i = argv.indexOf(name);
  if (i >= 0) argv.splice(i, 1);
  return i >= 0;
};
const REPEAT = Math.max(1, Math.round(flag("--repeat", 3)));
const MAX_TIME = flag("--max-time", 0.5);
const MIN_SAMPLES = Math.max(1, Math.round(flag("--min-samples", 5)));
const COLD = Math.round(flag("--cold", 7));
const LIB_FILTER = sflag("--libs")?.split(",").filter(Boolean);
const CHECK_ONLY = bool("--check-only");
const OUT = sflag("--out");
const wanted = { W: new Set<string>(), OP: new Set<string>(), P: new Set<string>() };
for (const a of argv) {
  const u = a.toUpperCase();
  if (u in WORKLOADS) wanted.W.add(u);
  else if (/^OP[123]$/.test(u)) wanted.OP.add(u);
  else if (a === "f32" || a === "f64") wanted.P.add(a);
  else
    throw new Error(
      `unknown argument ${a} (workloads W1..W4, ops OP1..OP3, f32 / f64, --repeat, --max-time, --min-samples, --cold, --libs, --out, --check-only)`,
    );
}
const filtered = wanted.W.size + wanted.OP.size + wanted.P.size > 0 || LIB_FILTER !== undefined;
const outName = OUT ?? (filtered ? "peers-filtered" : "peers");
const workloads = Object.entries(WORKLOADS).filter(([w]) => wanted.W.size === 0 || wanted.W.has(w));
const ops = OPS.filter(([o, p]) => (wanted.OP.size === 0 || wanted.OP.has(o)) && (wanted.P.size === 0 || wanted.P.has(p)));
const libOk = (lib: string) => lib === XENT || !LIB_FILTER || LIB_FILTER.some((f) => lib.toLowerCase().includes(f.toLowerCase()));

const started = Date.now();
const loadStart = loadavg().map((x) => +x.toFixed(2)); // another busy process on 2 cores shows here
const log = (s: string) => console.log(s);

// --------------------------------------------------------------------------------------- peers

makeGraphs();
const peers: Peer[] = [];
const peerInfo: Record<string, unknown> = {};
const unavailable: { lib: string; error: string }[] = [];
for (const p of await xentPeers()) if (libOk(p.lib)) peers.push(p);
peerInfo.xent = {
  version: JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version,
  engine: xent.engineInfo(),
  commit: git("rev-parse --short HEAD"),
  dirty: git("status --porcelain -- src assembly wasm") !== "",
};
if (libOk(plainPeer.lib)) peers.push(plainPeer);
for (const [lib, load] of [
  ["tfjs-wasm", tfjsPeer],
  ["onnxruntime-web", ortWebPeer],
  ["onnxruntime-node", ortNodePeer],
] as const) {
  if (!libOk(lib)) continue;
  try {
    const { peer, info } = await load();
    peers.push(peer);
    peerInfo[lib] = info;
  } catch (e) {
    // Loud, but the others still run: the report lists it with the reason.
    console.error(`!! ${lib} could not be loaded: ${(e as Error).stack}`);
    unavailable.push({ lib, error: String((e as Error).message) });
  }
}
log(
  `peers: ${peers.map((p) => p.lib).join(", ")}${unavailable.length ? `; unavailable: ${unavailable.map((u) => u.lib).join(", ")}` : ""}`,
);

function git(args: string): string {
  try {
    return execSync(`git ${args}`, {
      cwd: fileURLToPath(new URL("../../", import.meta.url)),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------- data

function input(op: Op, precision: Precision, rows: number, classes: number, seed: number): Input {
  const T = precision === "f32" ? Float32Array : Float64Array;
  const u = rng(seed); // the same seed for f32 and f64: the same values, rounded
  const n = rows * classes;
  const d: Input = { op, precision, rows, classes };
  if (op === "OP1") {
    d.logits = logits(u, n, T); // N(0, 3^2)
    d.labels = labels(u, rows, classes); // uniform
  } else if (op === "OP2") {
    d.teacher = logits(u, n, T);
    d.student = logits(u, n, T);
  } else {
    d.targets = probs(u, rows, classes, T); // dense rows of probabilities (soft targets)
    d.probs = probs(u, rows, classes, T);
  }
  return d;
}
const seedOf = (w: string, op: Op) => 1000 * (Object.keys(WORKLOADS).indexOf(w) + 2) + Number(op.slice(2));

const unsupported: { lib: string; op: Op; precision: Precision; reason: string }[] = [];
function casesFor(d: Input): Case[] {
  const out: Case[] = [];
  for (const p of peers) {
    const why = p.unsupported(d.op, d.precision);
    if (why !== null) {
      if (!unsupported.some((u) => u.lib === p.lib && u.op === d.op && u.precision === d.precision))
        unsupported.push({ lib: p.lib, op: d.op, precision: d.precision, reason: why });
      continue;
    }
    out.push(...p.cases(d));
  }
  return out;
}

// ------------------------------------------------------------------------------ numeric checks

// Every case must compute the same quantity as xent/reference (float64, exact exp/log) on the same
// input, before anything is timed: on two small inputs with odd sizes, then on every workload.
// float32 peers: above 1e-4 relative is reported as a warning (float32 sums over 128256 classes
// get there), above 1e-3 the run stops: that is a different quantity, not rounding.
const WARN: Record<Precision, number> = { f32: 1e-4, f64: 1e-9 };
const TOL: Record<Precision, number> = { f32: 1e-3, f64: 1e-9 };
const warnings: string[] = [];
const checks: { input: string; op: Op; precision: Precision; case: string; value: number; reference: number; relErr: number }[] = [];
{
  // The workloads are checked on exactly the data that is timed (same seeds).
  const sets: [string, number, number, number][] = [
    ["small 7 x 37", 7, 37, 11],
    ["small 3 x 1031", 3, 1031, 12],
    ...workloads.map(([w, [r, k]]) => [w, r, k, 0] as [string, number, number, number]),
  ];
  const failures: string[] = [];
  for (const [name, rows, classes, seed] of sets) {
    for (const [op, p] of ops) {
      const d = input(op, p, rows, classes, seed || seedOf(name, op));
      const ref = referenceValue(d);
      for (const c of casesFor(d)) {
        const v = await c.run();
        c.dispose?.();
        const relErr = Math.abs(v - ref) / Math.abs(ref);
        checks.push({ input: name, op, precision: p, case: c.name, value: v, reference: ref, relErr });
        if (!(relErr <= WARN[p]))
          warnings.push(`${name} ${op} ${p} ${c.name}: ${v} vs reference ${ref} (relative error ${relErr.toExponential(2)} > ${WARN[p]})`);
        if (!(relErr <= TOL[p]))
          failures.push(`${name} ${op} ${p} ${c.name}: ${v} vs reference ${ref} (relative error ${relErr.toExponential(2)} > ${TOL[p]})`);
      }
    }
  }
  const worst = new Map<string, number>();
  for (const c of checks) worst.set(`${c.case} ${c.precision}`, Math.max(worst.get(`${c.case} ${c.precision}`) ?? 0, c.relErr));
  log(`checks: ${checks.length} values against xent/reference; worst relative error per case:`);
  for (const [k, v] of worst) log(`  ${k}: ${v.toExponential(2)}`);
  if (warnings.length > 0)
    console.error(`\n!! ${warnings.length} peer results are less accurate than ${WARN.f32} relative (kept):\n  ${warnings.join("\n  ")}\n`);
  if (failures.length > 0) {
    console.error(`\n!! ${failures.length} peer results disagree with xent/reference:\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
}

// ------------------------------------------------------------------------------------ timing

const measurements: Measurement[] = [];
let sink = 0;
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (!CHECK_ONLY) {
  for (const [w, [rows, classes]] of workloads) {
    for (const [op, p] of ops) {
      const d = input(op, p, rows, classes, seedOf(w, op));
      const cases = casesFor(d);
      const reps = new Map<string, RepeatResult[]>(cases.map((c) => [c.name, []]));
      for (let rep = 0; rep < REPEAT; rep++) {
        // Rotate the order of the cases from one repeat to the next.
        const order = cases.map((_, i) => cases[(i + rep) % cases.length]);
        const adds = [];
        for (const c of order) {
          const r = c.run;
          const probe = r(); // ONNX Runtime's run() returns a promise: benny then times it deferred
          const isAsync = probe instanceof Promise;
          sink += await probe;
          adds.push(
            b.add(
              c.name,
              isAsync
                ? async () => {
                    sink += await r();
                  }
                : () => {
                    sink += r() as number;
                  },
            ),
          );
        }
        const summary = await b.suite(
          `${w} (${rows} x ${classes}) ${op} ${p}, run ${rep + 1}/${REPEAT}`,
          ...adds,
          b.configure({ cases: { minSamples: MIN_SAMPLES, maxTime: MAX_TIME }, minDisplayPrecision: 3 }),
          b.cycle((c: { name: string; details: { median: number }; samples: number; margin: number }) => {
            log(
              `  ${c.name}: ${((rows * classes) / c.details.median / 1e6).toFixed(1)} Melem/s (median of ${c.samples} samples, ±${c.margin}%)`,
            );
          }),
        );
        for (const r of summary.results) {
          reps.get(r.name)!.push({
            opsPerSec: 1 / r.details.median,
            bennyOps: r.ops,
            medianSec: r.details.median,
            meanSec: r.details.mean,
            samples: r.samples,
            margin: r.margin,
          });
        }
      }
      for (const c of cases) {
        const rr = reps.get(c.name)!;
        const ops = median(rr.map((r) => r.opsPerSec));
        measurements.push({
          workload: w,
          rows,
          classes,
          op,
          precision: p,
          case: c.name,
          lib: c.lib,
          ...(c.graph ? { graph: c.graph } : {}),
          opsPerSec: ops,
          melemPerSec: (ops * rows * classes) / 1e6,
          repeats: rr,
        });
        c.dispose?.();
      }
    }
  }
  if (!Number.isFinite(sink)) throw new Error("benchmark results were not finite");
}

// -------------------------------------------------------------------------- cold start, sizes

let cold: ReturnType<typeof coldStart> = [];
if (COLD > 0 && !CHECK_ONLY) {
  log(`\ncold start: ${COLD} fresh processes per library`);
  cold = coldStart(COLD, (lib) => lib === "xent" || libOk(lib));
  for (const c of cold)
    log(
      `  ${c.lib}: ready ${c.readyMs.toFixed(1)} ms after import (import ${c.importMs.toFixed(1)} ms)${c.error ? ` ERROR ${c.error}` : ""}`,
    );
}
const size = sizes();

// ------------------------------------------------------------------------------------- output

const graphsOf: Record<string, string[]> = {};
for (const l of ["onnxruntime-web", "onnxruntime-node"]) graphsOf[l] = Object.values(OP1_GRAPHS);
const ratios = [];
for (const m of measurements) {
  if (m.lib === XENT) continue;
  const x = measurements.find((q) => q.lib === XENT && q.workload === m.workload && q.op === m.op && q.precision === m.precision);
  if (x) ratios.push({ workload: m.workload, op: m.op, precision: m.precision, case: m.case, xentOverPeer: x.opsPerSec / m.opsPerSec });
}
const env = {
  date: new Date().toISOString(),
  node: process.version,
  v8: process.versions.v8,
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
  platform: `${process.platform} ${process.arch}`,
  loadavg: { start: loadStart, end: loadavg().map((x) => +x.toFixed(2)) },
};
const settings = {
  repeat: REPEAT,
  maxTimeSec: MAX_TIME,
  minSamples: MIN_SAMPLES,
  coldRuns: COLD,
  filter: filtered ? argv.concat(LIB_FILTER ? [`--libs ${LIB_FILTER.join(",")}`] : []) : null,
};
const header = [
  `## xent vs peers: throughput (${env.date.slice(0, 10)}, Node ${env.node}, ${env.cpu}, ${env.cores} cores)`,
  "",
  `benny, median time per call of each case, median over ${REPEAT} run(s) of each suite (max ${MAX_TIME} s, >= ${MIN_SAMPLES} samples per case and run).`,
  `xent ${(peerInfo.xent as { commit: string }).commit}${(peerInfo.xent as { dirty: boolean }).dirty ? " (+ uncommitted changes)" : ""}; ` +
    Object.entries(peerInfo)
      .filter(([k]) => k !== "xent")
      .map(([k, v]) => `${k} ${(v as { version: string }).version}`)
      .join(", ") +
    ".",
].join("\n");
let md = CHECK_ONLY ? `${header}\n\n(check only: nothing timed)\n` : markdown({ measurements, unsupported, graphs: graphsOf }, header);
if (cold.length > 0 || size.length > 0) {
  md +=
    '\n### Cold start and size\n\n| library | ready (ms, median) | import (ms) | what "ready" is | binary | raw | gzip -9 |\n| --- | ---: | ---: | --- | --- | ---: | ---: |\n';
  for (const lib of ["xent", "tfjs-wasm", "onnxruntime-web", "onnxruntime-node"]) {
    const c = cold.find((x) => x.lib === lib);
    const ss = size.filter((s) => s.lib === lib);
    const kb = (n: number) => (n >= 1e6 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
    ss.forEach((s, i) => {
      md += `| ${i === 0 ? lib : ""} | ${i === 0 && c ? (c.error ? `error: ${c.error}` : c.readyMs.toFixed(1)) : ""} | ${i === 0 && c && !c.error ? c.importMs.toFixed(1) : ""} | ${i === 0 && c ? c.what : ""} | ${s.file.split("/").pop()} (${s.note ?? ""}) | ${kb(s.bytes)} | ${kb(s.gzipBytes)} |\n`;
    });
  }
}
if (warnings.length > 0)
  md += `\n### Accuracy warnings (checked before timing; kept, as they are within ${TOL.f32} relative)\n\n${warnings.map((w) => `- ${w}`).join("\n")}\n`;
if (unavailable.length > 0) md += `\n### Peers that could not run\n\n${unavailable.map((u) => `- ${u.lib}: ${u.error}`).join("\n")}\n`;
if (unsupported.length > 0) {
  const seen = new Set<string>();
  md +=
    "\n" +
    unsupported
      .filter((u) => !seen.has(u.lib + u.reason) && seen.add(u.lib + u.reason))
      .map((u) => `n/a, ${u.lib}: ${u.reason}.`)
      .join("\n") +
    "\n";
}
console.log(`\n${md}`);

if (CHECK_ONLY) process.exit(0); // a check writes no results

const results = new URL("../results/", import.meta.url);
mkdirSync(results, { recursive: true });
writeFileSync(
  new URL(`${outName}.json`, results),
  `${JSON.stringify(
    {
      ...env,
      settings,
      durationSec: Math.round((Date.now() - started) / 1000),
      peers: peerInfo,
      unavailable,
      unsupported,
      workloads: WORKLOADS,
      tolerance: { warn: WARN, fail: TOL },
      warnings,
      checks,
      measurements,
      ratios,
      coldStart: cold,
      sizes: size,
    },
    null,
    2,
  )}\n`,
);
writeFileSync(new URL(`${outName}.md`, results), md);
if (measurements.length > 0) {
  writeFileSync(
    new URL(`${outName}.svg`, results),
    svg(
      measurements,
      "xent vs peers: throughput (Melem/s, log scale; higher is better)",
      `${env.date.slice(0, 10)}, Node ${env.node}, ${env.cpu} (${env.cores} cores); median over ${REPEAT} benny run(s); xent ${(peerInfo.xent as { commit: string }).commit}`,
    ),
  );
}
log(`wrote bench/results/${outName}.{json,md${measurements.length > 0 ? ",svg" : ""}} in ${Math.round((Date.now() - started) / 1000)} s`);
