// An arbiter for a fuzz failure where the engines and the reference disagree on a divergence of
// near-equal distributions: who is closer to the true value? Writes the case's inputs and each
// engine's per-row values as JSON, for scripts/fuzz-exact.py to recompute in 120 digits.
//   npx tsx scripts/fuzz-exact.ts '<case json, as a failure prints it>' > case.json
//   python3 scripts/fuzz-exact.py case.json      (needs mpmath: Debian's python3-mpmath)
// Only klDivergence and jensenShannon from logits on both sides (and klDivergenceWithGrad's loss), with classes, temperature, base,
// reduction (sum or mean) and normalize (no effect on logits): the exact computation is their
// definition (src/reference/rows.ts) and nothing else. Other cases are refused.
import { makeCall, type FuzzCase } from "../test/fuzz/differential.js";
import { ENGINES } from "../test/helpers/engines.js";

const c = JSON.parse(process.argv[2] ?? "null") as FuzzCase | null;
if (c === null) throw new Error("usage: npx tsx scripts/fuzz-exact.ts '<case json>'");
const call = makeCall(c);
const o = call.options;
const allowed = new Set(["classes", "temperature", "reduction", "from", "normalize", "base"]);
const extra = Object.keys(o).filter((k) => !allowed.has(k));
// klDivergenceWithGrad takes logits always; its loss is the KL (the gradient is not checked here).
const withGrad = call.fn === "klDivergenceWithGrad";
if (
  (call.fn !== "klDivergence" && call.fn !== "jensenShannon" && !withGrad) ||
  (!withGrad && o.from !== "logits") ||
  extra.length > 0 ||
  call.out !== null
) {
  throw new Error(
    `not a case this arbiter takes: ${call.fn}, from ${String(o.from)}, options ${extra.join(", ") || "-"}${call.out !== null ? ", out" : ""}`,
  );
}
if (o.reduction !== "sum" && o.reduction !== "mean") throw new Error(`reduction ${String(o.reduction)}: sum or mean only`);
const [x, y] = call.args as Array<Float32Array | Float64Array>;
const engines = ["js", "wasm-simd", "wasm"] as const;
const run = (e: (typeof engines)[number], opts: Record<string, unknown>) => {
  const r = (ENGINES[e] as unknown as Record<string, (...a: unknown[]) => unknown>)[call.fn](
    x,
    y,
    withGrad ? { ...opts, grad: undefined } : opts,
  );
  return withGrad ? (r as { loss: number }).loss : r;
};
const results = Object.fromEntries(engines.map((e) => [e, run(e, o) as number]));
// Per-row values: from klDivergence (the same rows) where the measure gives a loss only.
const perRow = (e: (typeof engines)[number]) =>
  (ENGINES[e] as unknown as Record<string, (...a: unknown[]) => unknown>)[withGrad ? "klDivergence" : call.fn](x, y, {
    ...o,
    from: "logits",
    reduction: "none",
  });
const rows = Object.fromEntries(engines.map((e) => [e, Array.from(perRow(e) as Float64Array)]));
// Numbers as JSON: every float64 (and float32, widened) prints as the shortest decimal that reads back the same.
process.stdout.write(
  `${JSON.stringify({
    fn: withGrad ? "klDivergence" : call.fn,
    classes: o.classes,
    temperature: o.temperature ?? 1,
    base: o.base ?? null,
    reduction: o.reduction,
    x: Array.from(x),
    y: Array.from(y),
    results,
    rows,
  })}\n`,
);
