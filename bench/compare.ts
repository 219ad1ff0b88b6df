// Speed of an old build against the working tree's build, in one process: the check behind "speed
// unchanged" when code is restructured. See bench/README.md ("Old build against new").
//
//   npx tsx bench/compare.ts --base <dir-or-commit> [W1..W4] [OP1 OP2 OP2c OP3] [f32 f64] [copy zero-copy]
//                            [--f64] [--rounds N] [--batch-ms MS] [--json FILE] [--save] [--new DIR]
//
// --base is a directory holding an already built copy (dist/ and wasm/), or a commit of this
// repository: that commit is then checked out in a temporary git worktree (in the OS's temporary
// directory, kept and reused by later runs) and built there with `npm ci` and `npm run build`,
// which takes a few minutes the first time. The new build is the working tree's dist/ and wasm/,
// so run `npm run build` first (or --new, a built directory or commit as --base: --new equal to
// --base measures the machine's noise, two copies of one build).
//
// Each build's public API (dist/index.js) is imported from its own copy in a temporary directory:
// two module instances, each with its own engine and memory, even when both sides are the same
// directory, and a rebuild of the working tree during the run cannot change what is measured.
//
// The timing is a hand-rolled loop rather than benny: benny runs all the samples of one case before
// the next, so old and new would be measured minutes apart, while here each round times one batch
// of old and one batch of new back to back (the order flipped every round), so that the load of a
// shared machine falls on both alike; a batch is a plain loop between two performance.now() calls,
// with nothing else in it. Per cell: one call of each (also compared: the same value?), a
// calibration to ~--batch-ms per batch, one untimed batch of each (V8 tiers the WebAssembly and the
// JavaScript up), then --rounds timed rounds. Melem/s are medians over rounds; new/old is the
// median over rounds of the ratio within each round (paired, so that it moves less with the load).
//
// The helpers for resolving and loading builds are shared with scripts/compare-bits.ts.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { rng, logits, labels, probs, normal } from "../test/helpers/data.js";

/** The public API of a build (types only: each build is loaded at run time from its own dist/). */
export type Xent = typeof import("../src/index.js");

export const REPO = fileURLToPath(new URL("../", import.meta.url));
const log = (s: string) => console.error(s); // progress on stderr: stdout is the report

function git(args: string[], cwd = REPO): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The working tree's commit and whether its sources differ from it (dist/ and wasm/ are built from the working tree). */
export function workingTree(): { commit: string; dirty: boolean } {
  try {
    return {
      commit: git(["rev-parse", "--short=10", "HEAD"]),
      dirty: git(["status", "--porcelain", "--", "src", "assembly", "asconfig.json", "scripts"]) !== "",
    };
  } catch {
    return { commit: "?", dirty: true };
  }
}

export interface Base {
  /** The directory holding dist/ and wasm/. */
  root: string;
  /** For the report: "commit abc1234567" or "directory <arg>". */
  label: string;
  commit?: string;
}

/**
 * The old build: a built directory as given, or a commit built once in a temporary worktree. A
 * directory whose name could also be read as a commit wins; a directory without dist/ is an error.
 */
export function resolveBase(arg: string): Base {
  const dir = resolve(arg);
  if (existsSync(dir)) {
    for (const f of ["dist/index.js", "wasm/xent.simd.wasm", "wasm/xent.wasm"]) {
      if (!existsSync(join(dir, f))) throw new Error(`${arg}: no ${f} there (build it with npm run build, or pass a commit)`);
    }
    return { root: dir, label: `directory ${arg}` };
  }
  let sha: string;
  try {
    sha = git(["rev-parse", "--verify", "--quiet", `${arg}^{commit}`]);
  } catch {
    throw new Error(`${arg}: neither a directory holding dist/ and wasm/ nor a commit of this repository`);
  }
  const root = join(tmpdir(), `xent-compare-${sha.slice(0, 12)}`);
  const marker = join(root, ".xent-compare-built");
  const base = { root, label: `commit ${sha.slice(0, 10)}`, commit: sha };
  if (existsSync(marker)) {
    log(`commit ${sha.slice(0, 10)}: built earlier in ${root} (remove with: git worktree remove --force ${root})`);
    return base;
  }
  if (existsSync(root)) {
    // A build that did not finish: start again from a clean checkout.
    try {
      git(["worktree", "remove", "--force", root]);
    } catch {
      /* not a worktree any more */
    }
    rmSync(root, { recursive: true, force: true });
    git(["worktree", "prune"]);
  }
  log(`building commit ${sha.slice(0, 10)} in a temporary worktree ${root}: npm ci, then npm run build (a few minutes)...`);
  git(["worktree", "add", "--detach", root, sha]);
  // --ignore-scripts: the build below is the only script needed (the root's prepare would run it
  // twice; dependencies' install scripts fetch browsers and binaries the build does not use).
  for (const args of [
    ["ci", "--ignore-scripts", "--no-audit", "--no-fund"],
    ["run", "build"],
  ]) {
    const r = spawnSync("npm", args, { cwd: root, stdio: ["ignore", 2, 2] }); // npm's output on stderr
    if (r.status !== 0)
      throw new Error(`npm ${args.join(" ")} failed in ${root} (exit ${r.status}); the worktree is left there to look at`);
  }
  writeFileSync(marker, `${sha}\n`);
  log(`commit ${sha.slice(0, 10)} built (git worktree remove --force ${root} removes it)`);
  return base;
}

const temporary: string[] = [];
process.on("exit", () => {
  for (const d of temporary) rmSync(d, { recursive: true, force: true });
});
process.on("SIGINT", () => process.exit(130)); // so that Ctrl-C removes them too

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `xent-compare-${tag}-`));
  temporary.push(dir);
  return dir;
}

/** Sizes and times of a build's files: whether it changed while it was copied. */
function fingerprint(root: string): string {
  const files = [
    ...(readdirSync(join(root, "dist"), { recursive: true }) as string[]).map((f) => join("dist", f)),
    ...readdirSync(join(root, "wasm"))
      .filter((f) => f.endsWith(".wasm"))
      .map((f) => join("wasm", f)),
  ].sort();
  return files
    .map((f) => {
      const s = statSync(join(root, f));
      return `${f} ${s.size} ${s.mtimeMs}`;
    })
    .join("\n");
}

/** Copies a build's dist/ and wasm/*.wasm into a fresh temporary directory: a module instance of its own. */
function snapshot(root: string, tag: string): string {
  const before = fingerprint(root);
  const dir = tempDir(tag);
  cpSync(join(root, "dist"), join(dir, "dist"), { recursive: true });
  mkdirSync(join(dir, "wasm"));
  for (const f of readdirSync(join(root, "wasm"))) if (f.endsWith(".wasm")) copyFileSync(join(root, "wasm", f), join(dir, "wasm", f));
  // dist/ is ES modules: Node reads that from the nearest package.json.
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "xent-snapshot", private: true, type: "module" })}\n`);
  if (fingerprint(root) !== before) throw new Error(`${root} changed while it was copied (a build running?)`);
  return dir;
}

export interface Loaded {
  api: Xent;
  /** The copy it was loaded from (dist/, wasm/). */
  dir: string;
  info: ReturnType<Xent["engineInfo"]>;
  /** sha256 (first 12 hex digits) and size of the module the engine runs. */
  module: { file: string; sha256: string; bytes: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Backend = "wasm-simd" | "wasm";

/**
 * Imports a copy of the build at `root` per backend and runs its init({ backend }): one module
 * instance each, all copied from one snapshot (the same build even if `root` is rebuilt meanwhile).
 * Retried on a fresh snapshot a few times: the working tree's build may be in the middle of being
 * rewritten.
 */
export async function loadBuild(root: string, tag: string, backends: readonly Backend[] = ["wasm-simd"]): Promise<Loaded[]> {
  let last: unknown;
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      const first = snapshot(root, tag);
      const out: Loaded[] = [];
      for (const [i, backend] of backends.entries()) {
        const dir = i === 0 ? first : snapshot(first, `${tag}-${backend}`);
        const api = (await import(pathToFileURL(join(dir, "dist/index.js")).href)) as Xent;
        const info = await api.init({ backend });
        if (info.backend !== backend)
          throw new Error(`${tag}: init() gave the ${info.backend} engine, not ${backend} (${info.reason ?? "no reason given"})`);
        const file = backend === "wasm-simd" ? "xent.simd.wasm" : "xent.wasm";
        const bytes = readFileSync(join(dir, "wasm", file));
        out.push({
          api,
          dir,
          info,
          module: { file, sha256: createHash("sha256").update(bytes).digest("hex").slice(0, 12), bytes: bytes.length },
        });
      }
      return out;
    } catch (e) {
      last = e;
      log(`${tag}: loading the build in ${root} failed (attempt ${attempt} of 5): ${(e as Error)?.message ?? e}`);
      if (attempt < 5) await sleep(3000);
    }
  }
  throw last;
}

export const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ------------------------------------------------------------------------------------ benchmark

/** As bench/README.md (and bench/peers/report.ts). */
const WORKLOADS: Record<string, [number, number]> = { W1: [4096, 10], W2: [1024, 1000], W3: [64, 32000], W4: [8, 128256] };
const OPS = ["OP1", "OP2", "OP2c", "OP3"] as const;
type Op = (typeof OPS)[number];
type Precision = "f32" | "f64";
type Mode = "copy" | "zero-copy";
const OP_TEXT: Record<Op, string> = {
  OP1: "crossEntropy(labels, logits)",
  OP2: "klDivergence(teacher, student), logits",
  OP2c: "klDivergence, close pairs (student = 0.9 teacher + N(0, 0.6^2))",
  OP3: "crossEntropy(targets, probs), from probs",
};
type F = Float32Array | Float64Array;

interface Data {
  op: Op;
  precision: Precision;
  rows: number;
  classes: number;
  labels?: Int32Array;
  a: F;
  b?: F;
}

/** The inputs of bench:peers (same generators and seeds, bench/peers/run.ts); OP2c shares OP2's teacher. */
function data(w: string, op: Op, precision: Precision): Data {
  const [rows, classes] = WORKLOADS[w];
  const T = precision === "f32" ? Float32Array : Float64Array;
  const u = rng(1000 * (Object.keys(WORKLOADS).indexOf(w) + 2) + (op === "OP2c" ? 2 : Number(op.slice(2))));
  const n = rows * classes;
  const d = { op, precision, rows, classes };
  if (op === "OP1") {
    const a = logits(u, n, T);
    return { ...d, a, labels: labels(u, rows, classes) };
  }
  if (op === "OP2") return { ...d, a: logits(u, n, T), b: logits(u, n, T) };
  if (op === "OP3") return { ...d, a: probs(u, rows, classes, T), b: probs(u, rows, classes, T) };
  const t = logits(u, n, Float64Array);
  const s = t.map((v) => 0.9 * v + 0.6 * normal(u));
  return { ...d, a: T.from(t), b: T.from(s) };
}

/** One build's timed function for one cell: inputs in place before the clock starts. */
function prepare(x: Xent, d: Data, mode: Mode): { run: () => number; dispose: () => void } {
  const { classes } = d;
  const call = (labels: Int32Array | undefined, a: F, b: F | undefined): number => {
    switch (d.op) {
      case "OP1":
        return x.crossEntropy(labels!, a, { classes }) as number;
      case "OP2":
      case "OP2c":
        return x.klDivergence(a, b!, { from: "logits", classes }) as number;
      case "OP3":
        return x.crossEntropy(a, b!, { from: "probs", classes }) as number;
    }
  };
  if (mode === "copy") return { run: () => call(d.labels, d.a, d.b), dispose: () => {} };
  // Every input (class indices too) in this build's memory, from its own allocate().
  const T = (d.precision === "f32" ? Float32Array : Float64Array) as Float32ArrayConstructor;
  const A = x.allocate(T, d.a.length);
  const B = d.b === undefined ? null : x.allocate(T, d.b.length);
  const L = d.labels === undefined ? null : x.allocate(Int32Array, d.labels.length);
  A.view.set(d.a);
  if (B !== null) B.view.set(d.b!);
  if (L !== null) L.view.set(d.labels!);
  // .view is re-taken per call (it is cached; a new one only after the memory grew).
  return {
    run: () => call(L?.view, A.view, B?.view),
    dispose: () => {
      A.free();
      B?.free();
      L?.free();
    },
  };
}

interface CellResult {
  workload: string;
  rows: number;
  classes: number;
  op: Op;
  precision: Precision;
  mode: Mode;
  repsPerBatch: number;
  /** Seconds per call, one per round. */
  oldSec: number[];
  newSec: number[];
  oldMedianSec: number;
  newMedianSec: number;
  oldMelemPerSec: number;
  newMelemPerSec: number;
  /** Throughput new / old: the median over rounds of old / new time within the round (above 1: the new build is faster). */
  ratio: number;
  /** old / new time within each round. */
  roundRatios: number[];
  /** Throughput new / old from the two medians. */
  ratioOfMedians: number;
  oldValue: number;
  newValue: number;
  sameValue: boolean;
}

let sink = 0;

function timeBatch(f: () => number, reps: number): number {
  let s = 0;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) s += f();
  const t1 = performance.now();
  sink += s;
  return (t1 - t0) / 1000 / reps;
}

function measureCell(oldX: Xent, newX: Xent, w: string, op: Op, p: Precision, mode: Mode, rounds: number, batchMs: number): CellResult {
  const d = data(w, op, p);
  const o = prepare(oldX, d, mode),
    n = prepare(newX, d, mode);
  try {
    const oldValue = o.run(),
      newValue = n.run();
    // Calibration: double the repetitions until a batch lasts 10 ms, on each side.
    const perCall = (f: () => number) => {
      for (let reps = 1; ; reps *= 2) {
        const t = timeBatch(f, reps);
        if (t * reps >= 0.01 || reps >= 1 << 20) return t;
      }
    };
    const estimate = (perCall(o.run) + perCall(n.run)) / 2;
    const reps = Math.max(1, Math.round(batchMs / 1000 / estimate));
    timeBatch(o.run, reps); // untimed: tier-up
    timeBatch(n.run, reps);
    const oldSec: number[] = [],
      newSec: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        oldSec.push(timeBatch(o.run, reps));
        newSec.push(timeBatch(n.run, reps));
      } else {
        newSec.push(timeBatch(n.run, reps));
        oldSec.push(timeBatch(o.run, reps));
      }
    }
    const om = median(oldSec),
      nm = median(newSec),
      elems = d.rows * d.classes;
    return {
      workload: w,
      rows: d.rows,
      classes: d.classes,
      op,
      precision: p,
      mode,
      repsPerBatch: reps,
      oldSec,
      newSec,
      oldMedianSec: om,
      newMedianSec: nm,
      oldMelemPerSec: elems / om / 1e6,
      newMelemPerSec: elems / nm / 1e6,
      ratio: median(oldSec.map((t, i) => t / newSec[i])),
      roundRatios: oldSec.map((t, i) => t / newSec[i]),
      ratioOfMedians: om / nm,
      oldValue,
      newValue,
      sameValue: Object.is(oldValue, newValue),
    };
  } finally {
    o.dispose();
    n.dispose();
  }
}

function markdown(cells: CellResult[], head: string[]): string {
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(3));
  const out = [
    ...head,
    "",
    "| workload | op | dtype | inputs | old Melem/s | new Melem/s | new/old | rounds | of the medians | same value |",
    "| --- | --- | --- | --- | ---: | ---: | ---: | --- | ---: | --- |",
  ];
  for (const c of cells) {
    const rr = [...c.roundRatios].sort((a, b) => a - b);
    out.push(
      `| ${c.workload} ${c.rows} x ${c.classes} | ${c.op} | ${c.precision} | ${c.mode} | ${f(c.oldMelemPerSec)} | ${f(c.newMelemPerSec)} | ` +
        `**${c.ratio.toFixed(3)}** | ${rr[0].toFixed(2)}-${rr[rr.length - 1].toFixed(2)} | ${c.ratioOfMedians.toFixed(3)} | ${c.sameValue ? "yes" : `NO: ${c.oldValue} / ${c.newValue}`} |`,
    );
  }
  const g = Math.exp(cells.reduce((s, c) => s + Math.log(c.ratio), 0) / cells.length);
  const lo = Math.min(...cells.map((c) => c.ratio)),
    hi = Math.max(...cells.map((c) => c.ratio));
  out.push(
    "",
    `Melem/s: medians over rounds. new/old: throughput of the new build over the old one (above 1: new faster), the median ` +
      `over rounds of the old/new time of the round's two batches; rounds: their range (a busy machine shows as a wide range); ` +
      `of the medians: the ratio of the Melem/s columns. Over ${cells.length} cells: new/old geometric mean ${g.toFixed(3)}, range ${lo.toFixed(3)}-${hi.toFixed(3)}.`,
  );
  const differ = cells.filter((c) => !c.sameValue).length;
  out.push(
    differ === 0
      ? "Every cell gave the same value on both builds (Object.is)."
      : `**${differ} cells gave different values on the two builds.**`,
  );
  return `${out.join("\n")}\n`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const take = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${name} needs a value`);
    argv.splice(i, 2);
    return v;
  };
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    if (i >= 0) argv.splice(i, 1);
    return i >= 0;
  };
  const baseArg = take("--base");
  const rounds = Number(take("--rounds") ?? 7);
  const batchMs = Number(take("--batch-ms") ?? 75);
  const jsonFile = take("--json");
  const save = flag("--save");
  const withF64 = flag("--f64");
  const newArg = take("--new");
  if (baseArg === undefined)
    throw new Error(
      "usage: npx tsx bench/compare.ts --base <dir-or-commit> [W1..W4] [OP1 OP2 OP2c OP3] [f32 f64] [copy zero-copy] [--f64] [--rounds N] [--batch-ms MS] [--json FILE] [--save] [--new DIR-OR-COMMIT]",
    );
  if (!Number.isInteger(rounds) || rounds < 5)
    throw new Error("--rounds: an integer, at least 5 (medians of fewer rounds move with the machine's load)");
  if (!(batchMs >= 10)) throw new Error("--batch-ms: at least 10");
  const want = { W: new Set<string>(), OP: new Set<string>(), P: new Set<string>(), M: new Set<string>() };
  for (const a of argv) {
    const u = a.toUpperCase();
    if (u in WORKLOADS) want.W.add(u);
    else if (OPS.some((o) => o.toUpperCase() === u)) want.OP.add(OPS.find((o) => o.toUpperCase() === u)!);
    else if (a === "f32" || a === "f64") want.P.add(a);
    else if (a === "copy" || a === "zero-copy") want.M.add(a);
    else
      throw new Error(
        `unknown argument ${a} (workloads W1..W4, ops OP1 OP2 OP2c OP3, f32 / f64, copy / zero-copy, --f64, --rounds, --batch-ms, --json, --save, --new)`,
      );
  }
  const workloads = Object.keys(WORKLOADS).filter((w) => want.W.size === 0 || want.W.has(w));
  const ops = OPS.filter((o) => want.OP.size === 0 || want.OP.has(o));
  const precisions = (["f32", "f64"] as Precision[]).filter((p) => (want.P.size > 0 ? want.P.has(p) : p === "f32" || withF64));
  const modes = (["copy", "zero-copy"] as Mode[]).filter((m) => want.M.size === 0 || want.M.has(m));

  const base = resolveBase(baseArg);
  const tree = workingTree();
  const newBase = newArg === undefined ? null : resolveBase(newArg);
  const newLabel = newBase?.label ?? `working tree at ${tree.commit}${tree.dirty ? " with uncommitted changes" : ""}`;
  const [oldB] = await loadBuild(base.root, "old");
  const [newB] = await loadBuild(newBase?.root ?? REPO, "new");
  const loadStart = loadavg().map((v) => +v.toFixed(2));
  const started = new Date();
  const cells: CellResult[] = [];
  const total = workloads.length * ops.length * precisions.length * modes.length;
  for (const w of workloads) {
    for (const op of ops) {
      for (const p of precisions) {
        for (const m of modes) {
          const c = measureCell(oldB.api, newB.api, w, op, p, m, rounds, batchMs);
          cells.push(c);
          log(
            `[${cells.length}/${total}] ${w} ${op} ${p} ${m}: old ${c.oldMelemPerSec.toFixed(0)}, new ${c.newMelemPerSec.toFixed(0)} Melem/s, new/old ${c.ratio.toFixed(3)}`,
          );
        }
      }
    }
  }
  if (!Number.isFinite(sink)) log(`note: the sum of all results is ${sink} (a workload gave a non-finite value)`);
  const loadEnd = loadavg().map((v) => +v.toFixed(2));
  const moduleLine = (l: Loaded) => `${l.module.file} ${l.module.sha256} (${l.module.bytes} bytes)`;
  const head = [
    `## Old build against new (bench/compare.ts)`,
    "",
    `- old: ${base.label}; new: ${newLabel}`,
    `- modules: old ${moduleLine(oldB)}, new ${moduleLine(newB)}${oldB.module.sha256 === newB.module.sha256 ? ": byte-identical" : ""}`,
    `- ${started.toISOString()}, Node ${process.version}, ${cpus()[0]?.model ?? "?"} x ${cpus().length}; load average ${loadStart.join(" ")} at the start, ${loadEnd.join(" ")} at the end`,
    `- ${rounds} rounds per cell, each a batch of old and a batch of new (~${batchMs} ms each), order flipped every round; medians over rounds`,
    `- ops: ${ops.map((o) => `${o} ${OP_TEXT[o]}`).join("; ")}`,
  ];
  const md = markdown(cells, head);
  process.stdout.write(md);
  const json = {
    date: started.toISOString(),
    command: `npx tsx bench/compare.ts ${process.argv.slice(2).join(" ")}`,
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    loadStart,
    loadEnd,
    old: { base: base.label, commit: base.commit, engine: oldB.info, module: oldB.module },
    new:
      newBase === null
        ? { commit: tree.commit, dirty: tree.dirty, engine: newB.info, module: newB.module }
        : { base: newBase.label, commit: newBase.commit, engine: newB.info, module: newB.module },
    settings: { rounds, batchMs, workloads, ops, precisions, modes },
    cells,
  };
  const files: string[] = [];
  if (jsonFile !== undefined) files.push(resolve(jsonFile));
  if (save) {
    mkdirSync(join(REPO, "bench/results"), { recursive: true });
    files.push(join(REPO, "bench/results/compare.json"));
    writeFileSync(join(REPO, "bench/results/compare.md"), md);
  }
  for (const f of files) writeFileSync(f, `${JSON.stringify(json, null, 2)}\n`);
  if (files.length > 0) log(`written: ${[...files, ...(save ? [join(REPO, "bench/results/compare.md")] : [])].join(", ")}`);
}

// Run only as a script: scripts/compare-bits.ts imports the helpers above.
const isMain = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (isMain) {
  try {
    await main();
  } catch (e) {
    console.error((e as Error)?.stack ?? e);
    process.exit(1);
  }
}
