// The built-in example: two real models' predictions on the held-out scikit-learn digits
// (examples/digits/SOURCE.md says where they come from). Prints each model's cross-entropy,
// perplexity, accuracy and mean predictive entropy, and the teacher-to-student KL divergence,
// beside the values PyTorch and scikit-learn computed (examples/digits/expected.json).
import { readFileSync } from "node:fs";
import { init, backend, crossEntropy, entropy, klDivergence } from "xent";
import { readNpy } from "./npy.mjs";

const dir = new URL("./digits/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8"));
const labels = readNpy(new URL("labels.npy", dir)).data;
const models = {
  student: readNpy(new URL("student_logits.npy", dir)),
  teacher: readNpy(new URL("teacher_logits.npy", dir)),
};

await init();
const classes = models.student.shape[1];

/** Share of rows whose label is among the k largest logits (ties counted against the label). */
function topK(logits, k) {
  let hits = 0;
  for (let r = 0; r < labels.length; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const mine = row[labels[r]];
    let above = 0;
    for (let j = 0; j < classes; j++) if (row[j] > mine || (row[j] === mine && j < labels[r])) above++;
    if (above < k) hits++;
  }
  return hits / labels.length;
}

const rows = [];
const show = (name, got, want) => rows.push({ measure: name, xent: got, expected: want, "|diff|": Math.abs(got - want) });
for (const [name, { data }] of Object.entries(models)) {
  const e = expected[name];
  const ce = crossEntropy(labels, data, { classes });
  show(`${name} cross-entropy (nats)`, ce, e.cross_entropy_mean_torch);
  show(`${name} perplexity`, Math.exp(ce), e.perplexity);
  show(`${name} top-1 accuracy`, topK(data, 1), e.accuracy_top1);
  show(`${name} top-3 accuracy`, topK(data, 3), e.accuracy_top3);
  show(`${name} mean entropy (nats)`, entropy(data, { from: "logits", classes }), e.mean_entropy_of_prediction);
}
for (const T of [1, 2]) {
  const kl = klDivergence(models.teacher.data, models.student.data, { from: "logits", classes, temperature: T });
  show(`KL(teacher || student), T = ${T}`, kl, expected[`kl_teacher_student_batchmean_T${T}`]);
}

console.log(`xent on ${labels.length} digits x ${classes} classes, engine: ${backend()}`);
console.table(rows);
