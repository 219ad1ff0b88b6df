// The long differential fuzz run: `npm run fuzz [-- cases [seed]]` (default 1,000,000 cases).
// Each case goes to both modules (SIMD and scalar) and the reference; any disagreement is printed
// with the case that reproduces it, and the run exits 1. Progress every 10,000 cases.
import fc from "fast-check";
import { fuzzCase, differs } from "../test/fuzz/differential.js";

const total = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const t0 = performance.now();
let tried = 0, failures = 0;
const sample = fc.sample(fuzzCase, { numRuns: 1, seed }); // validates the arbitrary before the long run
void sample;
const BATCH = 10_000;
for (let done = 0; done < total; done += BATCH) {
  const cases = fc.sample(fuzzCase, { numRuns: Math.min(BATCH, total - done), seed: seed + done });
  for (const c of cases) {
    for (const engine of ["wasm-simd", "wasm"] as const) {
      const why = differs(engine, c);
      if (why !== null) {
        failures++;
        console.log(`FAIL ${engine}: ${why}\n  case: ${JSON.stringify(c)}`);
      }
    }
    tried++;
  }
  console.error(`${tried} cases, ${failures} failures, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`fuzz: ${tried} cases x 2 engines, seed ${seed}: ${failures} failures in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
process.exit(failures === 0 ? 0 : 1);
