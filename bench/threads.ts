// benny: one thread against two, for OP1 crossEntropy(labels, logits) and OP2
// klDivergence(teacher, student, { from: "logits" }) at W2 (1024 x 1000), W3 (64 x 32000) and
// W4 (8 x 128256), float32, the data already in the memory each case computes from (zero-copy):
//   - "engine, 1 thread":   the synchronous SIMD engine (init(); allocate(); crossEntropy(...))
//   - "pool, 1 thread":     createPool({ threads: 1 }): the calling thread alone, over shared memory
//   - "pool, 2 threads":    createPool({ threads: 2 }): the calling thread and one worker (the default)
//   - "pool, 2 workers":    createPool({ threads: 2, useCallingThread: false }): two workers, the
//                           calling thread free
// Each suite runs --repeat times (the cases interleaved within a run); a case's figure is the median
// over the runs of benny's median time per call. Ratios: engine / pool-2 threads, engine / pool-2
// workers and pool-1 / pool-2 threads.
// Before each run a probe measures how much of two cores the machine gives at that moment: two
// workers each running the same fixed pure-JavaScript loop, against one (2.0: two free cores; 1.0:
// one, e.g. when other processes keep a core busy). It is recorded with each run: a ratio can only
// be read against it.
// Results: bench/results/threads.json (a filtered run only prints).
//   npx tsx bench/threads.ts                      (everything, ~2 minutes)
//   npx tsx bench/threads.ts W4 OP1 --repeat 3    (filter; --max-time S per case and run, default 0.5)
import b from "benny";
import { writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { cpus, loadavg, availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { init, engineInfo, allocate, crossEntropy, klDivergence, createPool, type Pool, type WasmArray } from "../src/index.js";
import { rng, logits, labels } from "../test/helpers/data.js";

const WORKLOADS: Record<string, [number, number]> = { W2: [1024, 1000], W3: [64, 32000], W4: [8, 128256] };
const OPS = ["OP1", "OP2"] as const;
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const repeat = flag("--repeat", 5);
const maxTime = flag("--max-time", 0.5);
const onlyW = args.filter((a) => a in WORKLOADS);
const onlyOp = args.filter((a) => (OPS as readonly string[]).includes(a));
const filtered = onlyW.length > 0 || onlyOp.length > 0;

const load0 = loadavg();
await init();
type PoolKey = "1" | "2" | "2w";
const pools: Record<PoolKey, Pool> = {
  "1": await createPool({ threads: 1 }),
  "2": await createPool({ threads: 2 }),
  "2w": await createPool({ threads: 2, useCallingThread: false }),
};
for (const p of Object.values(pools))
  if (p.info.threads < 1 || p.backend !== "wasm-simd-threads") throw new Error(`no threads here: ${p.info.reason}`);
console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? "?"}, ${availableParallelism()} cores, load average ${load0.map((l) => l.toFixed(2)).join(" ")}`,
);

// The probe: parallel efficiency of two workers on pure JavaScript (no memory traffic, no xent).
const PROBE = `const { parentPort } = require("node:worker_threads");
parentPort.on("message", (n) => { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); parentPort.postMessage(s); });`;
const probeWorkers = [new Worker(PROBE, { eval: true }), new Worker(PROBE, { eval: true })];
const probeRun = (w: Worker, n: number) =>
  new Promise((r) => {
    w.once("message", r);
    w.postMessage(n);
  });
async function probe(): Promise<number> {
  const n = 2e7; // about 50 ms on one core
  await Promise.all(probeWorkers.map((w) => probeRun(w, 1e5)));
  let t = performance.now();
  await probeRun(probeWorkers[0], n);
  const one = performance.now() - t;
  t = performance.now();
  await Promise.all(probeWorkers.map((w) => probeRun(w, n)));
  return (2 * one) / (performance.now() - t);
}

// The kernel's own ceiling: two workers, each with its own instance of the SIMD module and its own
// memory (no pool, no sharing, nothing to wait for), running the operation's kernel over half the
// rows of the workload, against one worker doing the same. What two cores give that kernel here:
// the pool's speedup can only be read against it (on this machine's cores, float64-heavy kernels
// scale less than float32 ones).
const KERNEL_PROBE = `const { parentPort, workerData } = require("node:worker_threads");
const { module, rows, classes, op } = workerData;
const ex = new WebAssembly.Instance(module, { env: { abort() {} } }).exports;
const n = rows * classes, base = ex.heap_base() + 64;
const need = base + 8 * n + 16 * rows + 64;
if (ex.memory.buffer.byteLength < need) ex.memory.grow(Math.ceil((need - ex.memory.buffer.byteLength) / 65536));
const f = new Float32Array(ex.memory.buffer, base, 2 * n);
let s = 1;
for (let i = 0; i < 2 * n; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; f[i] = (s / 4294967296) * 12 - 6; }
const t = base + 8 * n, out = t + 4 * rows + 8 - ((t + 4 * rows) % 8);
const run = op === "OP1" ? () => ex.ce_index_logits_f32(base, t, rows, classes, out)
  : () => ex.pair_rows_f32(1, base, base + 4 * n, 0, rows, classes, 0, 0, 1, 0, 0, 0, 0, out);
parentPort.on("message", (k) => { for (let i = 0; i < k; i++) run(); parentPort.postMessage(0); });`;
const simdModule = new WebAssembly.Module(readFileSync(new URL("../wasm/xent.simd.wasm", import.meta.url)));
async function kernelProbe(op: string, rows: number, classes: number): Promise<number> {
  const half = Math.max(1, rows >> 1);
  const ws = [0, 1].map(() => new Worker(KERNEL_PROBE, { eval: true, workerData: { module: simdModule, rows: half, classes, op } }));
  const go = (w: Worker, k: number) =>
    new Promise((r) => {
      w.once("message", r);
      w.postMessage(k);
    });
  const k = Math.max(4, Math.round(40e6 / (half * classes * (op === "OP1" ? 1 : 8)))); // ~40-80 ms
  await Promise.all(ws.map((w) => go(w, 2)));
  const ratios: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    await go(ws[0], k);
    const one = performance.now() - t;
    t = performance.now();
    await Promise.all(ws.map((w) => go(w, k)));
    ratios.push((2 * one) / (performance.now() - t));
  }
  await Promise.all(ws.map((w) => w.terminate()));
  return median(ratios);
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

type Case = { name: string; run: () => unknown };
const results: Record<string, unknown>[] = [];

for (const [w, [rows, classes]] of Object.entries(WORKLOADS)) {
  if (onlyW.length > 0 && !onlyW.includes(w)) continue;
  const u = rng(rows + classes);
  const x = logits(u, rows * classes, Float32Array),
    y = logits(u, rows * classes, Float32Array);
  const t = labels(u, rows, classes);
  // The same data in the engine's memory and in each pool's shared memory.
  const place = (alloc: (n: number) => WasmArray<Float32Array>) => {
    const X = alloc(x.length),
      Y = alloc(y.length);
    X.view.set(x);
    Y.view.set(y);
    return { X, Y };
  };
  const mem = {
    engine: place((n) => allocate(Float32Array, n)),
    "1": place((n) => pools["1"].allocate(Float32Array, n)),
    "2": place((n) => pools["2"].allocate(Float32Array, n)),
    "2w": place((n) => pools["2w"].allocate(Float32Array, n)),
  };
  for (const op of OPS) {
    if (onlyOp.length > 0 && !onlyOp.includes(op)) continue;
    const o = op === "OP1" ? { classes } : { classes, from: "logits" as const };
    const sync = op === "OP1" ? () => crossEntropy(t, mem.engine.X.view, o) : () => klDivergence(mem.engine.X.view, mem.engine.Y.view, o);
    const viaPool = (n: PoolKey) =>
      op === "OP1" ? () => pools[n].crossEntropy(t, mem[n].X, o) : () => pools[n].klDivergence(mem[n].X, mem[n].Y, o);
    // Same bits on every path before anything is timed.
    const want = sync();
    for (const n of ["1", "2", "2w"] as const) {
      const got = await viaPool(n)();
      if (!Object.is(got, want)) throw new Error(`${w} ${op}: pool of ${n} gave ${got}, the engine ${want}`);
    }
    const cases: Case[] = [
      { name: "engine, 1 thread", run: sync },
      { name: "pool, 1 thread", run: viaPool("1") },
      { name: "pool, 2 threads", run: viaPool("2") },
      { name: "pool, 2 workers", run: viaPool("2w") },
    ];
    const times: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c.name, []]));
    const probes: number[] = [];
    const ceiling = await kernelProbe(op, rows, classes);
    for (let r = 0; r < repeat; r++) {
      probes.push(await probe());
      const order = r % 2 === 0 ? cases : [...cases].reverse();
      const summary = await b.suite(
        `${op} ${w} (${rows} x ${classes}, float32, zero-copy), run ${r + 1}/${repeat}`,
        ...order.map((c) =>
          c.name.startsWith("pool")
            ? b.add(c.name, async () => {
                await c.run();
              })
            : b.add(c.name, () => {
                c.run();
              }),
        ),
        b.configure({ cases: { minSamples: 10, maxTime } }),
      );
      for (const res of summary.results) times[res.name].push(res.details.median);
    }
    const med = Object.fromEntries(cases.map((c) => [c.name, median(times[c.name])]));
    const ms = (k: string) => `${(med[k] * 1e3).toFixed(3)} ms`;
    const vsEngine = med["engine, 1 thread"] / med["pool, 2 threads"];
    const workersVsEngine = med["engine, 1 thread"] / med["pool, 2 workers"];
    const vsPool1 = med["pool, 1 thread"] / med["pool, 2 threads"];
    console.log(
      `${op} ${w}: engine ${ms("engine, 1 thread")}, pool-1 ${ms("pool, 1 thread")}, pool-2 ${ms("pool, 2 threads")}, ` +
        `pool 2 workers ${ms("pool, 2 workers")}; 2 threads over 1: ${vsEngine.toFixed(2)}x (engine), ${vsPool1.toFixed(2)}x (pool of 1); ` +
        `2 workers over the engine ${workersVsEngine.toFixed(2)}x; the kernel alone on 2 cores ${ceiling.toFixed(2)}x; ` +
        `probe (two cores free = 2.0) ${probes.map((p) => p.toFixed(2)).join(" ")}`,
    );
    results.push({
      op,
      workload: w,
      rows,
      classes,
      medianMs: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, v * 1e3])),
      runsMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.map((s) => s * 1e3)])),
      speedupOverEngine: vsEngine,
      speedupOverPool1: vsPool1,
      twoWorkersOverEngine: workersVsEngine,
      kernelCeiling: ceiling,
      probe: probes,
    });
  }
  for (const m of Object.values(mem)) {
    m.X.free();
    m.Y.free();
  }
}
await Promise.all(Object.values(pools).map((p) => p.close()));
await Promise.all(probeWorkers.map((w) => w.terminate()));

const load1 = loadavg();
console.log(`load average at the end ${load1.map((l) => l.toFixed(2)).join(" ")}`);
const report = {
  date: new Date().toISOString(),
  command: `npx tsx bench/threads.ts${args.length ? ` ${args.join(" ")}` : ""}`,
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  cores: availableParallelism(),
  engine: engineInfo().backend,
  repeat,
  maxTimePerCaseS: maxTime,
  loadAverage: { start: load0, end: load1 },
  statistic: "median over runs of benny's median time per call",
  probe: "before each run: parallel efficiency of 2 workers on a pure-JavaScript loop (2.0 = two free cores)",
  kernelCeiling:
    "per case: the operation's kernel in 2 independent workers (own module instance and memory, half the rows each) against 1: what two cores give that kernel here",
  results,
};
if (filtered) {
  console.log("(filtered run: bench/results/threads.json not written)");
} else {
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/threads.json", import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
  console.log("wrote bench/results/threads.json");
}
