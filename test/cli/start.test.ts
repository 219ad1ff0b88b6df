// `npm start`, the built-in example: the printed figures of `xent eval` (each model) and `xent kl`
// (teacher to student, T = 1 and 2) must be the numbers in examples/digits/expected.json, within
// the float32 contract (1e-6 relative + 1e-7). The printed text is parsed, not the script's own verdict.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { ROOT, closeF32, expectedDigits } from "./helpers.js";

describe("npm start", () => {
  it("prints each model's cross-entropy, perplexity, top-1 / top-3 accuracy and the teacher-to-student KL of expected.json", () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = spawnSync(npm, ["start", "--silent"], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // Blocks: "$ xent <command line>" then "name  value" lines up to a blank line.
    const blocks = r.stdout
      .split("\n$ xent ")
      .slice(1)
      .map((b) => b.split("\n\n")[0].split("\n"));
    const value = (block: string[], name: string) => {
      const line = block.find((l) => l.startsWith(`${name} `));
      expect(line, `"${name}" in\n${block.join("\n")}`).toBeDefined();
      return Number(line!.slice(name.length).trim().split(/\s+/)[0]);
    };
    const find = (pattern: RegExp) => {
      const b = blocks.filter((x) => pattern.test(x[0]));
      expect(b, `one block for ${pattern}`).toHaveLength(1);
      return b[0];
    };
    const e = expectedDigits();
    for (const model of ["student", "teacher"] as const) {
      const b = find(new RegExp(`^eval --logits \\S*${model}_logits\\.npy --labels \\S*labels\\.npy`));
      expect(value(b, "rows")).toBe(e[model].rows);
      for (const [name, key] of [
        ["cross-entropy", "cross_entropy_mean_torch"],
        ["perplexity", "perplexity"],
        ["accuracy", "accuracy_top1"],
        ["top-3 accuracy", "accuracy_top3"],
        ["mean entropy", "mean_entropy_of_prediction"],
      ]) {
        const got = value(b, name),
          want = e[model][key];
        expect(closeF32(got, want), `${model} ${name}: ${got} vs ${want}`).toBe(true);
      }
    }
    for (const T of [1, 2]) {
      const b = find(new RegExp(`^kl --p \\S*teacher_logits\\.npy --q \\S*student_logits\\.npy --from logits --temperature ${T}$`));
      const got = value(b, "KL(p || q)"),
        want = e[`kl_teacher_student_batchmean_T${T}`];
      expect(closeF32(got, want), `KL T=${T}: ${got} vs ${want}`).toBe(true);
    }
    expect(r.stdout).toMatch(/All 12 figures agree\./);
  });
});
