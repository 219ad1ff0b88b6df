// The built-in example (`npm start`): the xent command line on two real models' predictions for the
// held-out scikit-learn digits (examples/digits/SOURCE.md says where they come from). It runs
// `xent eval` on each model and `xent kl` from teacher to student at T = 1 and 2, exactly as
// `npx xent ...` would, then checks every figure against the values PyTorch and scikit-learn
// computed (examples/digits/expected.json). Exit code 1 if any differs beyond float32 accuracy.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../dist/cli/main.js";

const dir = new URL("./digits/", import.meta.url);
const path = (name) => relative(process.cwd(), fileURLToPath(new URL(name, dir))) || name;
const expected = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8"));
const labels = path("labels.npy"),
  teacher = path("teacher_logits.npy"),
  student = path("student_logits.npy");

/** Runs `xent ...args`, printing the command and its output; returns its --json result. */
async function xent(args) {
  console.log(`$ xent ${args.join(" ")}`);
  const code = await main(args);
  if (code !== 0) process.exit(code);
  let json = "";
  await main([...args, "--json"], { stdout: { write: (s) => (json += s) } });
  console.log();
  return JSON.parse(json);
}

console.log(
  `The built-in example: two models' predictions for ${expected.student.rows} held-out handwritten digits ` +
    `(${expected.student.classes} classes), examples/digits/SOURCE.md\n`,
);

const rows = [];
const compare = (measure, got, want) => rows.push({ measure, got, want });
for (const [name, file] of [
  ["student", student],
  ["teacher", teacher],
]) {
  const r = await xent(["eval", "--logits", file, "--labels", labels, "--top-k", "1,3"]);
  const e = expected[name];
  compare(`${name} cross-entropy (nats)`, r.crossEntropy, e.cross_entropy_mean_torch);
  compare(`${name} perplexity`, r.perplexity, e.perplexity);
  compare(`${name} top-1 accuracy`, r.accuracy, e.accuracy_top1);
  compare(`${name} top-3 accuracy`, r.topK["3"], e.accuracy_top3);
  compare(`${name} mean entropy (nats)`, r.entropy, e.mean_entropy_of_prediction);
}
for (const T of [1, 2]) {
  const r = await xent(["kl", "--p", teacher, "--q", student, "--from", "logits", "--temperature", String(T)]);
  compare(`KL(teacher || student), T = ${T}`, r.kl, expected[`kl_teacher_student_batchmean_T${T}`]);
}

// The float32 accuracy contract (README, "Accuracy").
const close = (got, want) => Math.abs(got - want) <= 1e-6 * Math.abs(want) + 1e-7;
console.log("Against examples/digits/expected.json (PyTorch 1.13, scikit-learn 1.2.1, in float64; tolerance 1e-6 relative + 1e-7):");
const width = Math.max(...rows.map((r) => r.measure.length)) + 2;
console.log(`${"measure".padEnd(width)}${"xent".padEnd(16)}${"expected".padEnd(16)}|diff|`);
for (const { measure, got, want } of rows) {
  const diff = Math.abs(got - want);
  console.log(
    `${measure.padEnd(width)}${got.toFixed(10).padEnd(16)}${want.toFixed(10).padEnd(16)}${diff.toExponential(1).padEnd(9)}${close(got, want) ? "ok" : "DIFFERS"}`,
  );
}
const bad = rows.filter((r) => !close(r.got, r.want));
console.log(bad.length === 0 ? `All ${rows.length} figures agree.` : `${bad.length} of ${rows.length} figures differ.`);
process.exitCode = bad.length === 0 ? 0 : 1;
