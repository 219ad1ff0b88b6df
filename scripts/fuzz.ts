// The long differential fuzz run: `npm run fuzz [-- cases [seed]] [--workers N]` (default
// 1,000,000 cases, a seed from the clock, one worker process per core up to 2), or
// `npm run fuzz -- --case '<json>'` to replay one case (as printed by a failure).
//
// Each case goes to both modules (SIMD and scalar) and to the reference (once), on the same inputs;
// see test/fuzz/differential.ts. Cases come in batches of BATCH, batch b drawn by fast-check from
// seed + b; worker w of N takes the batches b = w, w + N, ..., so the cases of a run depend only on
// (cases, seed), never on the number of workers. Any disagreement is printed with the case that
// reproduces it, and the run exits 1. Progress every 10,000 cases on stderr; one summary line on stdout.
import fc from "fast-check";
import { fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { fuzzCase, runCase, makeCall, type FuzzCase } from "../test/fuzz/differential.js";

const BATCH = 1000;
const ENGINES = ["wasm-simd", "wasm"] as const;

interface Report {
  cases: number;
  refused: number;
  failures: number;
  elements: number;
  lines: string[];
}

/** Runs the batches of worker w of n: reports progress to `send` after each batch. */
function work(total: number, seed: number, w: number, n: number, send: (r: Report) => void): void {
  for (let b = w; b * BATCH < total; b += n) {
    const r: Report = { cases: 0, refused: 0, failures: 0, elements: 0, lines: [] };
    for (const c of fc.sample(fuzzCase, { numRuns: Math.min(BATCH, total - b * BATCH), seed: seed + b })) {
      const o = runCase(c, ENGINES);
      r.cases++;
      r.elements += c.rows * c.classes;
      if (o.refused) r.refused++;
      if (o.failures.length > 0) {
        r.failures++;
        r.lines.push(`${o.failures.map((f) => `FAIL ${f.engine}: ${f.why}`).join("\n")}\n  case: ${JSON.stringify(c)}`);
      }
    }
    send(r);
  }
}

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const replay = flag("--case");
const workerArg = flag("--worker"); // internal: "w/n"
const workers = Number(flag("--workers") ?? Math.min(2, availableParallelism()));
const total = Number(argv[0] ?? 1_000_000);
const seed = Number(argv[1] ?? Date.now() % 2 ** 31);

if (replay !== undefined) {
  const c = JSON.parse(replay) as FuzzCase;
  const call = makeCall(c);
  console.log(
    `${call.fn}(${call.args.map((a) => `${a.constructor.name}(${a.length})`).join(", ")}, ${JSON.stringify(call.options, (_k, v) =>
      v instanceof Float32Array || v instanceof Float64Array ? `${v.constructor.name}(${v.length})` : v,
    )})` +
      (call.out ? ` out ${call.out.type}` : "") +
      (call.grad ? ` grad ${call.grad}` : "") +
      (call.zeroCopy ? " zero-copy" : ""),
  );
  const o = runCase(c, ENGINES);
  for (const f of o.failures) console.log(`FAIL ${f.engine}: ${f.why}`);
  console.log(o.failures.length === 0 ? (o.refused ? "refused alike by every engine" : "agrees") : `${o.failures.length} failures`);
  process.exit(o.failures.length === 0 ? 0 : 1);
} else if (workerArg !== undefined) {
  const [w, n] = workerArg.split("/").map(Number);
  work(total, seed, w, n, (r) => process.send!(r));
  process.send!("done", () => process.disconnect());
} else {
  const t0 = performance.now();
  const sum: Report = { cases: 0, refused: 0, failures: 0, elements: 0, lines: [] };
  let shown = 0;
  const seconds = () => ((performance.now() - t0) / 1000).toFixed(0);
  const add = (r: Report) => {
    sum.cases += r.cases;
    sum.refused += r.refused;
    sum.failures += r.failures;
    sum.elements += r.elements;
    for (const line of r.lines) console.log(line);
    if (sum.cases - shown >= 10_000 || sum.cases === total) {
      shown = sum.cases - (sum.cases % 10_000);
      console.error(`${sum.cases} cases, ${sum.failures} failures, ${seconds()} s`);
    }
  };
  const finish = () => {
    console.log(
      `fuzz: ${sum.cases} cases x ${ENGINES.length} engines (${ENGINES.join(", ")}), seed ${seed}, ${workers} worker(s): ` +
        `${sum.failures} failures, ${sum.refused} refused alike, ${(sum.elements / sum.cases).toFixed(0)} elements per case on average, ` +
        `in ${seconds()} s (${((performance.now() - t0) / sum.cases).toFixed(2)} ms per case)`,
    );
    process.exit(sum.failures === 0 && sum.cases === total ? 0 : 1);
  };
  if (workers <= 1) {
    work(total, seed, 0, 1, add);
    finish();
  } else {
    let running = workers;
    const script = fileURLToPath(import.meta.url);
    for (let w = 0; w < workers; w++) {
      const child = fork(script, [String(total), String(seed), "--worker", `${w}/${workers}`], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      let done = false;
      child.on("message", (r) => {
        if (r === "done") done = true;
        else add(r as Report);
      });
      child.on("close", (code) => {
        if (code !== 0 || !done) {
          console.log(`FAIL worker ${w} exited with ${code}`);
          sum.failures++;
        }
        if (--running === 0) finish();
      });
    }
  }
}
