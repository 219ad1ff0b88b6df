// "The same bits": an old build against the working tree's build, on the cases of the differential
// fuzzer, through the public API of each. The check behind "numerics unchanged" when code is
// restructured. See bench/README.md ("Old build against new").
//
//   npx tsx scripts/compare-bits.ts --base <dir-or-commit> [--cases N] [--seed S] [--new <dir-or-commit>]
//
// --base as for bench/compare.ts: a directory holding a built copy (dist/, wasm/), or a commit,
// built once in a temporary git worktree. The new build is the working tree's dist/ and wasm/ (run
// `npm run build` first), or --new.
//
// Each build is loaded twice, once per engine (init({ backend: "wasm-simd" }) and
// init({ backend: "wasm" })), each from its own copy in a temporary directory: the engine is a
// module-level singleton, so importing dist/index.js again under a query string would give a second
// index.js over the same engine. Four instances, then, and every case goes to the four.
//
// Cases: N (default 20,000) of test/fuzz/differential.ts's arbitrary, drawn as scripts/fuzz.ts draws
// them (batches of 1,000, batch b from seed + b), so case i here is case i of
// `npm run fuzz -- N S`, and a failing case replays with `npm run fuzz -- --case '<json>'`. Each case's
// call (makeCall: every measure and option, zero-copy inputs from the build's own allocate()) is
// made on each instance with its own copies of the inputs; evaluate's cases also go through
// Evaluator (update once, result). Results are compared bit for bit: numbers with Object.is (so
// -0 differs from 0), typed arrays element by element and by type, objects field by field; a
// thrown XentError by its code, another error by its name and message.
//
// Also compared: engineInfo() after init, and the raw results of the verification battery init()
// runs (each build's dist/engine/verify.js on a fresh instance of its own module, every value and
// gradient it writes), where the build still has those files with the same plan; otherwise a note.
//
// Prints the counts and the first 20 mismatches with their cases; exits 1 on any mismatch.
import { build, type BuildResult } from "esbuild";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Call, FuzzCase } from "../test/fuzz/differential.js";
import { REPO, loadBuild, resolveBase, tempDir, workingTree, type Loaded, type Xent } from "../bench/compare.js";

/**
 * The fuzzer's case generator, fuzzCase and makeCall of test/fuzz/differential.ts, and fast-check,
 * bundled with the file's other imports (its engines built from src/, the tolerance, XentError)
 * stubbed: neither export uses them, and so the comparison runs while src/ is in the middle of a
 * change, as it is when a restructuring needs checking.
 */
async function caseGenerator(): Promise<{
  fc: typeof import("fast-check").default;
  fuzzCase: typeof import("../test/fuzz/differential.js").fuzzCase;
  makeCall: typeof import("../test/fuzz/differential.js").makeCall;
}> {
  const dir = join(REPO, "test/fuzz");
  let r: BuildResult<{ write: false }>;
  try {
    const built = await build({
      stdin: {
        contents: `export { fuzzCase, makeCall } from "./differential.ts"; export { default as fc } from "fast-check";`,
        resolveDir: dir,
        loader: "ts",
      },
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      logLevel: "silent",
      plugins: [
        {
          name: "stub-engines",
          setup(b) {
            b.onResolve({ filter: /^\.\.?\// }, (a) =>
              a.importer.endsWith("differential.ts") ? { path: a.path, namespace: "stub" } : undefined,
            );
            b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
              contents:
                "export const ENGINES = {}; export const agrees = () => { throw new Error('stub'); }; export class XentError extends Error {}",
              loader: "js",
            }));
          },
        },
      ],
    });
    r = built;
  } catch (e) {
    // differential.ts imports something the stub lacks: take it as it is (src/ must load then).
    console.error(
      `compare-bits: bundling the case generator failed (${(e as Error).message.split("\n")[0]}); importing test/fuzz/differential.ts directly`,
    );
    const [d, f] = await Promise.all([import("../test/fuzz/differential.js"), import("fast-check")]);
    return { fc: f.default, fuzzCase: d.fuzzCase, makeCall: d.makeCall };
  }
  const file = join(tempDir("generator"), "generator.mjs");
  writeFileSync(file, r.outputFiles[0].text);
  return import(pathToFileURL(file).href);
}
const { fc, fuzzCase, makeCall } = await caseGenerator();

const BATCH = 1000; // as scripts/fuzz.ts: the same (cases, seed) give the same cases
const ENGINES = ["wasm-simd", "wasm"] as const;
type Engine = (typeof ENGINES)[number];
const SHOW = 20;

const argv = process.argv.slice(2);
const take = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith("--")) throw new Error(`${name} needs a value`);
  argv.splice(i, 2);
  return v;
};
const baseArg = take("--base");
const newArg = take("--new");
const total = Number(take("--cases") ?? 20_000);
const seed = Number(take("--seed") ?? 1);
if (baseArg === undefined || argv.length > 0 || !(Number.isInteger(total) && total > 0) || !Number.isInteger(seed)) {
  console.error("usage: npx tsx scripts/compare-bits.ts --base <dir-or-commit> [--cases N] [--seed S] [--new <dir-or-commit>]");
  process.exit(2);
}

// ------------------------------------------------------------------------------------- builds

const base = resolveBase(baseArg);
const newBase = newArg === undefined ? null : resolveBase(newArg);
const tree = workingTree();
const newLabel = newBase?.label ?? `working tree at ${tree.commit}${tree.dirty ? " with uncommitted changes" : ""}`;
const builds: Record<"old" | "new", Record<Engine, Loaded>> = { old: {} as Record<Engine, Loaded>, new: {} as Record<Engine, Loaded> };
for (const [side, root] of [
  ["old", base.root],
  ["new", newBase?.root ?? REPO],
] as const) {
  const loaded = await loadBuild(root, side, ENGINES);
  ENGINES.forEach((e, i) => {
    builds[side][e] = loaded[i];
  });
}
for (const e of ENGINES) {
  if (builds.old[e].api.crossEntropy === builds.new[e].api.crossEntropy)
    throw new Error("the two builds were loaded as one module instance");
}

// ------------------------------------------------------------------------------------ results

interface Mismatch {
  what: string;
  engine: Engine | "-";
  detail: string;
  case?: FuzzCase;
}
const mismatches: Mismatch[] = [];
let mismatchCount = 0;
const mismatch = (m: Mismatch) => {
  mismatchCount++;
  if (mismatches.length < SHOW) mismatches.push(m);
};

const bits = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b.toString("hex");
};
const show = (v: unknown): string =>
  typeof v === "number"
    ? `${v} (0x${bits(v)})`
    : ArrayBuffer.isView(v)
      ? `${v.constructor.name}(${(v as Float64Array).length})`
      : JSON.stringify(v);

/** Where a and b first differ, bit for bit; null when they do not. */
function diff(a: unknown, b: unknown, path: string): string | null {
  if (typeof a === "number" || typeof b === "number") return Object.is(a, b) ? null : `${path}: old ${show(a)}, new ${show(b)}`;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) {
      return `${path}: old ${show(a)}, new ${show(b)}`;
    }
    const x = a as unknown as ArrayLike<number>,
      y = b as unknown as ArrayLike<number>;
    if (x.length !== y.length) return `${path}: lengths ${x.length} (old), ${y.length} (new)`;
    for (let i = 0; i < x.length; i++)
      if (!Object.is(x[i], y[i])) return `${path}[${i}] of ${x.length}: old ${show(x[i])}, new ${show(y[i])}`;
    return null;
  }
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const ka = Object.keys(a).sort(),
      kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return `${path}: fields {${ka.join(", ")}} (old), {${kb.join(", ")}} (new)`;
    for (const k of ka) {
      const d = diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: old ${show(a)}, new ${show(b)}`;
}

/** A result detached from the build's memory: typed arrays copied (zero-copy results are views into it). */
function detach(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return (v as Float64Array).slice();
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, detach(x)]));
  return v;
}

type Outcome = { value: unknown } | { error: string };

const errorOf = (e: unknown): string => {
  const x = e as { name?: string; code?: string; message?: string };
  return typeof x?.code === "string" && x.name === "XentError"
    ? `XentError ${x.code}`
    : `${x?.name ?? typeof e}: ${x?.message ?? String(e)}`;
};

type Arr = Float32Array | Float64Array | Int32Array;
const copy = (a: Arr): Arr => a.slice();

/**
 * Makes the case's call on one build, on copies of its inputs (in the build's own memory for a
 * zero-copy case); `evaluator` routes an evaluate case through Evaluator instead.
 */
function invoke(x: Xent, call: Call, evaluator = false): Outcome {
  const blocks: Array<{ free(): void }> = [];
  const place = (a: Arr): unknown => {
    if (!call.zeroCopy) return copy(a);
    const w = x.allocate(a.constructor as Float64ArrayConstructor, a.length);
    blocks.push(w);
    w.view.set(a as Float64Array);
    return w;
  };
  const fresh = (t: "f32" | "f64", length: number): unknown => {
    const T = t === "f32" ? Float32Array : Float64Array;
    if (!call.zeroCopy) return new T(length);
    const w = x.allocate(T as Float64ArrayConstructor, length);
    blocks.push(w);
    return w;
  };
  try {
    const args = call.args.map(place);
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(call.options)) options[k] = v instanceof Float32Array || v instanceof Float64Array ? place(v) : v;
    if (call.out !== null) options.out = fresh(call.out.type, call.out.length);
    if (call.grad !== null) options.grad = fresh(call.grad, call.args[1].length);
    if (evaluator) {
      const ev = new x.Evaluator(options as never);
      ev.update(args[0] as never, args[1] as never);
      return { value: detach(ev.result()) };
    }
    const fn = x[call.fn] as (...a: unknown[]) => unknown;
    return { value: detach(fn(...args, options)) };
  } catch (e) {
    return { error: errorOf(e) };
  } finally {
    for (const w of blocks) w.free();
  }
}

function compareOutcomes(o: Outcome, n: Outcome): string | null {
  if ("error" in o || "error" in n) {
    const eo = "error" in o ? o.error : null,
      en = "error" in n ? n.error : null;
    return eo === en
      ? null
      : `old ${eo === null ? "returned a value" : `threw ${eo}`}, new ${en === null ? "returned a value" : `threw ${en}`}`;
  }
  return diff(o.value, n.value, "result");
}

// -------------------------------------------------------------------------- engine info, battery

for (const e of ENGINES) {
  const d = diff(builds.old[e].info, builds.new[e].info, "engineInfo()");
  if (d !== null) mismatch({ what: "engineInfo", engine: e, detail: d });
}

interface Battery {
  calls: number;
  values: Float64Array;
  g32: Float32Array;
  g64: Float64Array;
  plan: string;
  verdict: string | null;
}

/** The battery's raw results on a fresh instance of the build's module, or why they cannot be had. */
async function battery(l: Loaded): Promise<Battery | string> {
  const verifyFile = join(l.dir, "dist/engine/verify.js"),
    expectedFile = join(l.dir, "dist/engine/battery.expected.js");
  if (!existsSync(verifyFile) || !existsSync(expectedFile)) return "dist/engine/verify.js or battery.expected.js is not there";
  const v = await import(pathToFileURL(verifyFile).href);
  const ex = await import(pathToFileURL(expectedFile).href);
  if (typeof v.verifyModule !== "function" || !Array.isArray(ex.LAYOUT) || !Array.isArray(ex.CALLS) || !Array.isArray(ex.BLOCKS)) {
    return "verifyModule, LAYOUT, CALLS or BLOCKS is not exported";
  }
  const module = new WebAssembly.Module(readFileSync(join(l.dir, "wasm", l.module.file)));
  const imports: WebAssembly.Imports =
    WebAssembly.Module.imports(module).length === 0
      ? {}
      : {
          env: {
            abort: () => {
              throw new Error("abort");
            },
          },
        };
  const exports = new WebAssembly.Instance(module, imports).exports as { memory: WebAssembly.Memory };
  // verifyModule wants 64 KiB of free memory: two fresh pages at the end, which nothing else uses.
  const at = exports.memory.grow(2) * 65536;
  const verdict = v.verifyModule(exports, at) as string | null;
  const [out, values, , grad32, grad32Count, grad64, grad64Count] = ex.LAYOUT as number[];
  const buffer = exports.memory.buffer;
  return {
    calls: ex.CALLS.length / 6,
    values: new Float64Array(buffer, at + out, values).slice(),
    g32: new Float32Array(buffer, at + grad32, grad32Count).slice(),
    g64: new Float64Array(buffer, at + grad64, grad64Count).slice(),
    plan: JSON.stringify([ex.LAYOUT, ex.CALLS, ex.BLOCKS]),
    verdict,
  };
}

const batteryLines: string[] = [];
for (const e of ENGINES) {
  let o: Battery | string, n: Battery | string;
  try {
    o = await battery(builds.old[e]);
    n = await battery(builds.new[e]);
  } catch (x) {
    batteryLines.push(`battery ${e}: not compared (${(x as Error)?.message ?? x})`);
    continue;
  }
  if (typeof o === "string" || typeof n === "string") {
    batteryLines.push(
      `battery ${e}: not reachable (${typeof o === "string" ? `old: ${o}` : ""}${typeof o === "string" && typeof n === "string" ? "; " : ""}${typeof n === "string" ? `new: ${n}` : ""})`,
    );
    continue;
  }
  if (o.plan !== n.plan) {
    batteryLines.push(`battery ${e}: not compared (its inputs or plan differ between the builds)`);
    continue;
  }
  const d =
    diff(o.verdict, n.verdict, "verifyModule()") ??
    diff({ values: o.values, g32: o.g32, g64: o.g64 }, { values: n.values, g32: n.g32, g64: n.g64 }, "battery");
  if (d !== null) mismatch({ what: "battery", engine: e, detail: d });
  batteryLines.push(
    `battery ${e}: ${o.calls} kernel calls, ${o.values.length} values and ${o.g32.length + o.g64.length} gradient elements: ` +
      `${d === null ? "the same bits" : "DIFFER"} (verdict: ${o.verdict ?? "passes"})`,
  );
}

// ---------------------------------------------------------------------------------------- cases

const t0 = performance.now();
let cases = 0,
  calls = 0,
  threw = 0; // threw: calls of the old build that threw (the new one must throw alike)
// Measures the old build does not have (added since) are counted, not compared.
const absent = new Map<string, number>();
for (let b = 0; b * BATCH < total; b++) {
  for (const c of fc.sample(fuzzCase, { numRuns: Math.min(BATCH, total - b * BATCH), seed: seed + b })) {
    const call = makeCall(c);
    if (typeof (builds.old[ENGINES[0]].api as Record<string, unknown>)[call.fn] !== "function") {
      absent.set(call.fn, (absent.get(call.fn) ?? 0) + 1);
      cases++;
      continue;
    }
    for (const e of ENGINES) {
      for (const evaluator of call.fn === "evaluate" ? [false, true] : [false]) {
        const o = invoke(builds.old[e].api, call, evaluator),
          n = invoke(builds.new[e].api, call, evaluator);
        calls += 2;
        if ("error" in o) threw++;
        const d = compareOutcomes(o, n);
        if (d !== null) mismatch({ what: evaluator ? "Evaluator" : call.fn, engine: e, detail: d, case: c });
      }
    }
    cases++;
    if (cases % 5000 === 0) console.error(`${cases} cases, ${mismatchCount} mismatches, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
}

// --------------------------------------------------------------------------------------- report

const sameModule = (e: Engine) => builds.old[e].module.sha256 === builds.new[e].module.sha256;
console.log(`compare-bits: old ${base.label}, new ${newLabel}`);
for (const e of ENGINES) {
  const o = builds.old[e].module,
    n = builds.new[e].module;
  console.log(
    `  ${e}: old ${o.file} ${o.sha256} (${o.bytes} bytes), new ${n.sha256} (${n.bytes} bytes)${sameModule(e) ? ", byte-identical" : ""}`,
  );
}
for (const l of batteryLines) console.log(`  ${l}`);
for (const [fn, n] of absent) console.log(`${fn}: ${n} cases not compared (the old build has no ${fn})`);
console.log(
  `${cases} cases (seed ${seed}) x ${ENGINES.length} engines: ${calls} calls (${calls / 2} on each build, ${threw} of which threw on the old one), ` +
    `in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${mismatchCount === 0 ? "no mismatch, the same bits" : `${mismatchCount} MISMATCHES`}`,
);
for (const m of mismatches) {
  console.log(`\nMISMATCH ${m.what}${m.engine === "-" ? "" : ` (${m.engine})`}: ${m.detail}`);
  if (m.case !== undefined) console.log(`  case: ${JSON.stringify(m.case)}`);
}
if (mismatchCount > mismatches.length) console.log(`\n... and ${mismatchCount - mismatches.length} more`);
process.exit(mismatchCount === 0 ? 0 : 1);
