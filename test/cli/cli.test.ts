// The `xent` CLI as a user runs it (a child process, stdout and stderr pipes): the digits example
// against PyTorch / scikit-learn, every file format and dtype against the library on the same
// numbers (eval, focal, kl, entropy), streaming in many chunks, every kind of bad file and bad
// command line, progress output.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as lib from "../../src/index.js";
import {
  BIN,
  ROOT,
  closeF32,
  expectedDigits,
  tempDir,
  toBfloat16,
  toHalf,
  writeNpy,
  writeSafetensors,
  xent,
  xentIn,
  type Run,
} from "./helpers.js";

const D = "examples/digits";
const dir = tempDir();
const f = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await lib.init();
});

const ok = (r: Run) => {
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
};
const okJson = (r: Run) => JSON.parse(ok(r));
/** The value on the line starting with `name` in the text output. */
const field = (text: string, name: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no line "${name}" in:\n${text}`);
  return Number(line.slice(name.length).trim().split(/\s+/)[0]);
};

describe("the digits example (PyTorch 1.13 / scikit-learn 1.2.1 values in expected.json)", () => {
  const e = expectedDigits();
  for (const model of ["student", "teacher"] as const) {
    it(`eval ${model}: text output`, () => {
      const out = ok(xent(["eval", "--logits", `${D}/${model}_logits.npy`, "--labels", `${D}/labels.npy`, "--top-k", "1,3"]));
      expect(field(out, "rows")).toBe(809);
      expect(closeF32(field(out, "cross-entropy"), e[model].cross_entropy_mean_torch)).toBe(true);
      expect(closeF32(field(out, "perplexity"), e[model].perplexity)).toBe(true);
      expect(closeF32(field(out, "accuracy"), e[model].accuracy_top1)).toBe(true);
      expect(closeF32(field(out, "top-3 accuracy"), e[model].accuracy_top3)).toBe(true);
      expect(closeF32(field(out, "mean entropy"), e[model].mean_entropy_of_prediction)).toBe(true);
    });
    it(`eval ${model}: --json`, () => {
      const r = okJson(xent(["eval", "--logits", `${D}/${model}_logits.npy`, "--labels", `${D}/labels.npy`, "--top-k", "3", "--json"]));
      expect(r.rows).toBe(809);
      expect(r.classes).toBe(10);
      expect(closeF32(r.crossEntropy, e[model].cross_entropy_mean_torch)).toBe(true);
      expect(r.accuracy).toBe(e[model].accuracy_top1);
      expect(r.topK).toEqual({ 3: e[model].accuracy_top3 });
      expect(closeF32(r.entropy, e[model].mean_entropy_of_prediction)).toBe(true);
    });
    it(`entropy of ${model}'s predictions`, () => {
      const r = okJson(xent(["entropy", "--p", `${D}/${model}_logits.npy`, "--from", "logits", "--json"]));
      expect(closeF32(r.entropy, e[model].mean_entropy_of_prediction)).toBe(true);
    });
  }
  for (const T of [1, 2]) {
    it(`kl teacher || student at T = ${T}`, () => {
      const args = ["kl", "--p", `${D}/teacher_logits.npy`, "--q", `${D}/student_logits.npy`, "--from", "logits", "--temperature", `${T}`];
      const r = okJson(xent([...args, "--json"]));
      expect(closeF32(r.kl, e[`kl_teacher_student_batchmean_T${T}`])).toBe(true);
      expect(closeF32(field(ok(xent(args)), "KL(p || q)"), e[`kl_teacher_student_batchmean_T${T}`])).toBe(true);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// One small data set in every format. Values k/8 are exact in float16 and bfloat16, so every
// format holds the same numbers and must give the library's figures on the float32 array.

const R = 37,
  K = 7;
const logits = new Float32Array(R * K);
const labels = new Int32Array(R);
for (let i = 0; i < logits.length; i++) logits[i] = (((i * 37 + 11) % 61) - 30) / 8;
for (let r = 0; r < R; r++) labels[r] = (r * 5 + 2) % K;
labels[4] = -100; // ignored
labels[20] = -100;
const probs = (x: Float32Array) => {
  const p = new Float64Array(x.length);
  for (let r = 0; r < x.length / K; r++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += p[r * K + k] = Math.exp(x[r * K + k]);
    for (let k = 0; k < K; k++) p[r * K + k] /= s;
  }
  return p;
};
const halves = () => Uint16Array.from(logits, toHalf);
const bhalves = () => Uint16Array.from(logits, toBfloat16);
const i64 = (a: Int32Array) => BigInt64Array.from(a, (v) => BigInt(v));
const swapped = (a: ArrayBufferView, size: number) => {
  const b = Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  if (size === 4) b.swap32();
  else b.swap64();
  return b;
};

describe("file formats and dtypes", () => {
  const want = () => lib.evaluate(labels, logits, { classes: K, topK: [1, 3] });
  const check = async (args: string[], env: Record<string, string> = {}) => {
    const r = okJson(await xentIn(["eval", ...args, "--top-k", "1,3", "--json"], env));
    const w = want();
    expect(r.rows).toBe(R - 2);
    expect(r.ignored).toBe(2);
    expect(r.classes).toBe(K);
    expect(closeF32(r.crossEntropy, w.crossEntropy)).toBe(true);
    expect(closeF32(r.entropy, w.entropy)).toBe(true);
    expect(r.accuracy).toBe(w.accuracy);
    expect(r.topK["3"]).toBe(w.topK[3]);
    return r;
  };

  it(".npy 1.0 float32 with int64 labels", async () => {
    await check(["--logits", writeNpy(f("v1.npy"), "<f4", [R, K], logits), "--labels", writeNpy(f("y64.npy"), "<i8", [R], i64(labels))]);
  });
  it(".npy 2.0 and 3.0 headers, int32 and int16 labels", async () => {
    await check([
      "--logits",
      writeNpy(f("v2.npy"), "<f4", [R, K], logits, { version: 2 }),
      "--labels",
      writeNpy(f("y32.npy"), "<i4", [R], labels),
    ]);
    await check([
      "--logits",
      writeNpy(f("v3.npy"), "<f4", [R, K], logits, { version: 3 }),
      "--labels",
      writeNpy(f("y16.npy"), "<i2", [R], Int16Array.from(labels)),
    ]);
  });
  it(".npy float64, float16, big-endian float32 and int64", async () => {
    const y = writeNpy(f("y32b.npy"), "<i4", [R], labels);
    await check(["--logits", writeNpy(f("f64.npy"), "<f8", [R, K], Float64Array.from(logits)), "--labels", y]);
    await check(["--logits", writeNpy(f("f16.npy"), "<f2", [R, K], halves()), "--labels", y]);
    writeFileSync(f("be.npy"), Buffer.concat([readFileSync(writeNpy(f("be.npy"), ">f4", [R, K], new Uint8Array(0))), swapped(logits, 4)]));
    writeFileSync(
      f("ybe.npy"),
      Buffer.concat([readFileSync(writeNpy(f("ybe.npy"), ">i8", [R], new Uint8Array(0))), swapped(i64(labels), 8)]),
    );
    await check(["--logits", f("be.npy"), "--labels", f("ybe.npy")]);
  });
  it("uint8 labels with ignore-index 255", async () => {
    const y = Uint8Array.from(labels, (v) => (v < 0 ? 255 : v));
    await check([
      "--logits",
      writeNpy(f("u8x.npy"), "<f4", [R, K], logits),
      "--labels",
      writeNpy(f("u8.npy"), "|u1", [R], y),
      "--ignore-index",
      "255",
    ]);
  });
  it("rows over several dimensions: (batch, seq, classes) logits and (batch, seq) labels", async () => {
    const r = await check([
      "--logits",
      writeNpy(f("3d.npy"), "<f4", [1, R, K], logits),
      "--labels",
      writeNpy(f("2d.npy"), "<i4", [1, R], labels),
    ]);
    expect(r.classes).toBe(K);
  });
  it("flat logits: classes from the number of labels, or from --classes", async () => {
    const y = writeNpy(f("yflat.npy"), "<i4", [R], labels);
    await check(["--logits", writeNpy(f("flat.npy"), "<f4", [R * K], logits), "--labels", y]);
    await check(["--logits", f("flat.npy"), "--labels", y, "--classes", `${K}`]);
  });
  it(".safetensors: F32, F16, BF16, F64 logits; I64, I32 labels; --tensor and role names", async () => {
    const file = writeSafetensors(
      f("model.safetensors"),
      {
        labels: { dtype: "I64", shape: [R], data: i64(labels) },
        logits: { dtype: "F32", shape: [R, K], data: logits },
      },
      { format: "pt" },
    );
    await check(["--logits", file, "--labels", file]); // tensors named after their role
    const many = writeSafetensors(f("many.safetensors"), {
      h: { dtype: "F16", shape: [R, K], data: halves() },
      b: { dtype: "BF16", shape: [R, K], data: bhalves() },
      d: { dtype: "F64", shape: [R, K], data: Float64Array.from(logits) },
      y: { dtype: "I32", shape: [R], data: labels },
    });
    for (const t of ["h", "b", "d"]) await check(["--logits", many, "--logits-tensor", t, "--labels", many, "--labels-tensor", "y"]);
    await check(["--logits", many, "--logits-tensor", "b", "--labels", file]);
    await check(["--logits", many, "--tensor", "y", "--logits-tensor", "d", "--labels", many]);
  });
  it("raw .f32 / .bf16 / .f64 with --shape or --classes, raw .i32 / .i64 labels", async () => {
    writeFileSync(f("x.f32"), logits);
    writeFileSync(f("x.bf16"), bhalves());
    writeFileSync(f("x.f64"), Float64Array.from(logits));
    writeFileSync(f("y.i32"), labels);
    writeFileSync(f("y.i64"), i64(labels));
    await check(["--logits", f("x.f32"), "--shape", `${R},${K}`, "--labels", f("y.i32")]);
    await check(["--logits", f("x.bf16"), "--classes", `${K}`, "--labels", f("y.i64")]);
    await check(["--logits", f("x.f64"), "--labels", f("y.i64")]);
  });
  it("streams in many chunks (one row per chunk) with the same result", async () => {
    const a = await check(["--logits", f("v1.npy"), "--labels", f("y64.npy")], { XENT_CHUNK_BYTES: "1" });
    const b = await check(["--logits", f("v1.npy"), "--labels", f("y64.npy")], { XENT_CHUNK_BYTES: "100" });
    expect(Math.abs(a.crossEntropy - b.crossEntropy)).toBeLessThan(1e-14);
  });

  it("kl and entropy: every --from, chunked, against the library on the whole arrays", async () => {
    const q = new Float32Array(logits.length);
    for (let i = 0; i < q.length; i++) q[i] = logits[(i * 3) % logits.length];
    const pp = probs(logits),
      pq = probs(q);
    writeNpy(f("pl.npy"), "<f4", [R, K], logits);
    writeNpy(f("ql.npy"), "<f4", [R, K], q);
    writeNpy(f("pp.npy"), "<f8", [R, K], pp);
    writeSafetensors(f("qp.safetensors"), { q: { dtype: "F64", shape: [R, K], data: pq } });
    for (const chunk of ["1", "200", "4194304"]) {
      const env = { XENT_CHUNK_BYTES: chunk };
      let r = okJson(
        await xentIn(["kl", "--p", f("pl.npy"), "--q", f("ql.npy"), "--from", "logits", "--temperature", "1.5", "--json"], env),
      );
      expect(closeF32(r.kl, lib.klDivergence(logits, q, { from: "logits", classes: K, temperature: 1.5 }))).toBe(true);
      r = okJson(await xentIn(["kl", "--p", f("pp.npy"), "--q", f("qp.safetensors"), "--base", "2", "--json"], env));
      expect(Math.abs(r.kl - lib.klDivergence(pp, pq, { classes: K, base: 2 }))).toBeLessThan(1e-12);
      r = okJson(await xentIn(["kl", "--p", f("pl.npy"), "--q", f("qp.safetensors"), "--from", "logits,probs", "--json"], env));
      expect(closeF32(r.kl, lib.klDivergence(logits, pq, { from: { p: "logits", q: "probs" }, classes: K }))).toBe(true);
      r = okJson(await xentIn(["entropy", "--p", f("pp.npy"), "--json"], env));
      expect(Math.abs(r.entropy - lib.entropy(pp, { classes: K }))).toBeLessThan(1e-12);
      r = okJson(await xentIn(["entropy", "--p", f("pl.npy"), "--from", "logits", "--temperature", "2", "--json"], env));
      expect(closeF32(r.entropy, lib.entropy(logits, { from: "logits", classes: K, temperature: 2 }))).toBe(true);
    }
  });
  it("focal: every --from, gamma, alpha, --reduction, --base, chunked, against the library on the whole arrays", async () => {
    const lp = Float64Array.from(probs(logits), Math.log);
    const x = writeNpy(f("fx.npy"), "<f4", [R, K], logits),
      y = writeNpy(f("fy.npy"), "<i8", [R], i64(labels));
    const pp = writeNpy(f("fp.npy"), "<f8", [R, K], probs(logits)),
      lpp = writeSafetensors(f("flp.safetensors"), { logits: { dtype: "F64", shape: [R, K], data: lp } });
    const inputs = [
      ["logits", x, logits],
      ["probs", pp, probs(logits)],
      ["logprobs", lpp, lp],
    ] as const;
    const runs: Array<[string[], Record<string, unknown>]> = [
      [[], {}],
      [["--gamma", "0"], { gamma: 0 }],
      [["--gamma", "0.5", "--alpha", "0.25"], { gamma: 0.5, alpha: 0.25 }],
      [["--gamma", "5", "--reduction", "sum"], { gamma: 5, reduction: "sum" }],
      [["--alpha", "0.75", "--base", "2"], { alpha: 0.75, base: 2 }],
    ];
    for (const chunk of ["1", "300", "4194304"]) {
      for (const [from, file, data] of inputs) {
        for (const [flags, o] of runs) {
          const args = ["focal", "--logits", file, "--labels", y, ...(from === "logits" ? [] : ["--from", from]), ...flags, "--json"];
          const r = okJson(await xentIn(args, { XENT_CHUNK_BYTES: chunk }));
          const want = lib.focalLoss(labels, data, { classes: K, from, ...o });
          const label = `${args.join(" ")} (chunks of ${chunk} bytes): ${r.focalLoss} vs ${want}`;
          // float32 logits: the float32 contract; float64 inputs: 1e-12, summed chunk by chunk.
          if (from === "logits") expect(closeF32(r.focalLoss, want), label).toBe(true);
          else expect(Math.abs(r.focalLoss - want), label).toBeLessThanOrEqual(1e-12 * want);
          expect(r).toMatchObject({
            command: "focal",
            rows: R - 2,
            ignored: 2,
            classes: K,
            from,
            gamma: o.gamma ?? 2,
            alpha: o.alpha ?? null,
            reduction: o.reduction ?? "mean",
            base: o.base ?? Math.E,
          });
        }
      }
    }
  });
  it("focal: text output; gamma 0 is eval's cross-entropy; labels ignored with --ignore-index", async () => {
    const x = writeNpy(f("tx.npy"), "<f4", [R, K], logits),
      y = writeNpy(f("ty.npy"), "<i4", [R], labels);
    const out = ok(await xentIn(["focal", "--logits", x, "--labels", y, "--alpha", "0.25"]));
    expect(field(out, "rows")).toBe(R - 2);
    expect(out).toMatch(/^rows +35 \(2 ignored\)$/m);
    expect(field(out, "gamma")).toBe(2);
    expect(field(out, "alpha")).toBe(0.25);
    expect(out).toMatch(/^focal loss +\S+ nats \(mean over rows\)$/m);
    expect(closeF32(field(out, "focal loss"), lib.focalLoss(labels, logits, { classes: K, alpha: 0.25 }))).toBe(true);
    const bits = ok(await xentIn(["focal", "--logits", x, "--labels", y, "--base", "2", "--reduction", "sum"]));
    expect(bits).toMatch(/^focal loss +\S+ bits \(sum over rows\)$/m);
    expect(bits).not.toMatch(/^alpha/m);
    const ce = okJson(await xentIn(["eval", "--logits", x, "--labels", y, "--json"])).crossEntropy;
    expect(closeF32(okJson(await xentIn(["focal", "--logits", x, "--labels", y, "--gamma", "0", "--json"])).focalLoss, ce)).toBe(true);
    const relabelled = writeNpy(
      f("ty255.npy"),
      "|u1",
      [R],
      Uint8Array.from(labels, (v) => (v < 0 ? 255 : v)),
    );
    const r = okJson(await xentIn(["focal", "--logits", x, "--labels", relabelled, "--ignore-index", "255", "--json"]));
    expect(r.ignored).toBe(2);
    expect(closeF32(r.focalLoss, lib.focalLoss(labels, logits, { classes: K }))).toBe(true);
    // Every row ignored: the mean is NaN (0 / 0), the sum 0, as the library's.
    const none = writeNpy(f("tnone.npy"), "<i4", [R], new Int32Array(R).fill(-100));
    expect(okJson(await xentIn(["focal", "--logits", x, "--labels", none, "--json"])).focalLoss).toBe("NaN");
    expect(okJson(await xentIn(["focal", "--logits", x, "--labels", none, "--reduction", "sum", "--json"])).focalLoss).toBe(0);
  });
  it("a flat file is one distribution for kl / entropy, or rows of --classes", async () => {
    writeNpy(f("coin.npy"), "<f8", [2], new Float64Array([0.5, 0.5]));
    writeNpy(f("biased.npy"), "<f8", [2], new Float64Array([0.9, 0.1]));
    const r = okJson(await xentIn(["kl", "--p", f("coin.npy"), "--q", f("biased.npy"), "--json"]));
    expect(r.rows).toBe(1);
    expect(Math.abs(r.kl - 0.5108256237659907)).toBeLessThan(1e-15);
    expect(okJson(await xentIn(["entropy", "--p", f("coin.npy"), "--base", "2", "--json"])).entropy).toBe(1);
    expect(okJson(await xentIn(["entropy", "--p", f("coin.npy"), "--classes", "1", "--json"])).rows).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------

describe("bad files: one line naming the file and the problem, exit code 2", () => {
  const bad = (args: string[], file: string, problem: RegExp) => {
    const r = xent(args);
    expect(r.stdout).toBe("");
    expect(r.status).toBe(2);
    expect(r.stderr.endsWith("\n")).toBe(true);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(problem);
    return r.stderr;
  };
  const y = () => writeNpy(f("ok_y.npy"), "<i4", [R], labels);
  const x = () => writeNpy(f("ok_x.npy"), "<f4", [R, K], logits);

  it("a missing file, a directory", () => {
    bad(["eval", "--logits", f("nope.npy"), "--labels", y()], "nope.npy", /no such file/);
    bad(["eval", "--logits", x(), "--labels", dir], dir, /is a directory/);
  });
  it("truncated .npy (data and header), .safetensors and raw files", () => {
    writeNpy(f("trunc.npy"), "<f4", [R, K], logits);
    truncateSync(f("trunc.npy"), 128 + R * K * 4 - 10);
    bad(["eval", "--logits", f("trunc.npy"), "--labels", y()], "trunc.npy", /truncated/);
    writeNpy(f("trunch.npy"), "<f4", [R, K], logits);
    truncateSync(f("trunch.npy"), 40);
    bad(["eval", "--logits", f("trunch.npy"), "--labels", y()], "trunch.npy", /truncated/);
    writeSafetensors(f("trunc.safetensors"), { logits: { dtype: "F32", shape: [R, K], data: logits } });
    truncateSync(f("trunc.safetensors"), 200);
    bad(["eval", "--logits", f("trunc.safetensors"), "--labels", y()], "trunc.safetensors", /truncated/);
    writeFileSync(f("short.f32"), logits.subarray(0, 100));
    bad(["eval", "--logits", f("short.f32"), "--shape", `${R},${K}`, "--labels", y()], "short.f32", /truncated/);
    writeFileSync(f("odd.i32"), new Uint8Array(7));
    bad(["eval", "--logits", x(), "--labels", f("odd.i32")], "odd.i32", /truncated/);
  });
  it("wrong dtypes: float labels, integer logits, bool, unsupported descr", () => {
    bad(
      ["eval", "--logits", x(), "--labels", writeNpy(f("fy.npy"), "<f4", [R], Float32Array.from(labels))],
      "fy.npy",
      /dtype float32: labels must be integer/,
    );
    bad(
      ["eval", "--logits", writeNpy(f("ix.npy"), "<i4", [R, K], new Int32Array(R * K)), "--labels", y()],
      "ix.npy",
      /dtype int32: logits must be floating point/,
    );
    bad(["kl", "--p", x(), "--q", writeNpy(f("b.npy"), "|b1", [R, K], new Uint8Array(R * K))], "b.npy", /dtype bool/);
    bad(["entropy", "--p", writeNpy(f("c.npy"), "<c8", [2], new Float32Array(4))], "c.npy", /dtype '<c8' is not supported/);
    const st = writeSafetensors(f("e4.safetensors"), { logits: { dtype: "F8_E4M3", shape: [4], data: new Uint8Array(4) } });
    bad(["entropy", "--p", st], "e4.safetensors", /dtype F8_E4M3 is not supported/);
  });
  it("shape mismatches", () => {
    bad(
      ["eval", "--logits", x(), "--labels", writeNpy(f("y36.npy"), "<i4", [R - 1], labels.subarray(1))],
      "y36.npy",
      /36 labels .* 37 rows/,
    );
    bad(["eval", "--logits", x(), "--labels", y(), "--classes", "8"], "ok_x.npy", /7 classes .* not --classes 8/);
    bad(["eval", "--logits", x(), "--labels", y(), "--shape", "36,7"], "ok_x.npy", /\(37 x 7\) is not --shape 36,7/);
    bad(
      ["eval", "--logits", writeNpy(f("flat.npy"), "<f4", [R * K - 1], logits.subarray(1)), "--labels", y()],
      "flat.npy",
      /do not split into 37 rows/,
    );
    bad(["kl", "--p", x(), "--q", writeNpy(f("q8.npy"), "<f4", [R, K + 1], new Float32Array(R * (K + 1)))], "q8.npy", /does not match/);
    bad(["eval", "--logits", writeNpy(f("scalar.npy"), "<f4", [], new Float32Array(1)), "--labels", y()], "scalar.npy", /single number/);
  });
  it("labels out of range", () => {
    const over = labels.slice();
    over[30] = K;
    bad(
      ["eval", "--logits", x(), "--labels", writeNpy(f("over.npy"), "<i4", [R], over)],
      "over.npy",
      /label 7 at index 30 is not a class index in \[0, 7\)/,
    );
    const neg = labels.slice();
    neg[2] = -1;
    bad(["eval", "--logits", x(), "--labels", writeNpy(f("neg.npy"), "<i4", [R], neg)], "neg.npy", /label -1 at index 2/);
    const big = i64(labels);
    big[5] = 2n ** 40n;
    bad(["eval", "--logits", x(), "--labels", writeNpy(f("big.npy"), "<i8", [R], big)], "big.npy", /label 1099511627776 at index 5/);
  });
  it("Fortran order, not a .npy file, an unknown format, a tensor that is not there", () => {
    bad(
      ["eval", "--logits", writeNpy(f("fort.npy"), "<f4", [R, K], logits, { fortran: true }), "--labels", y()],
      "fort.npy",
      /Fortran .* order is not supported/,
    );
    writeFileSync(f("junk.npy"), "hello, world");
    bad(["eval", "--logits", f("junk.npy"), "--labels", y()], "junk.npy", /not a NumPy \.npy file/);
    writeFileSync(f("logits.txt"), "1 2 3");
    bad(["entropy", "--p", f("logits.txt")], "logits.txt", /unrecognised format/);
    const st = writeSafetensors(f("one.safetensors"), { a: { dtype: "F32", shape: [R, K], data: logits } });
    bad(["eval", "--logits", st, "--logits-tensor", "zz", "--labels", y()], "one.safetensors", /no tensor named "zz" \(it holds a\)/);
    writeFileSync(f("notjson.safetensors"), Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{{{{")]));
    bad(["entropy", "--p", f("notjson.safetensors")], "notjson.safetensors", /header is not JSON/);
  });
  it("a failed run leaves nothing on stdout even after some chunks", () => {
    const late = labels.slice();
    late[R - 1] = 99;
    const r = xent(["eval", "--logits", x(), "--labels", writeNpy(f("late.npy"), "<i4", [R], late)], { XENT_CHUNK_BYTES: "1" });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/late\.npy: label 99 at index 36/);
  });
});

describe("usage errors: one line, exit code 1", () => {
  // In-process (main() returns the exit code), but for two run as a real child process.
  const usage = async (args: string[], message: RegExp, child = false) => {
    const r = child ? xent(args) : await xentIn(args);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    return r;
  };
  it("each kind", async () => {
    const x = writeNpy(f("u_x.npy"), "<f4", [R, K], logits),
      y = writeNpy(f("u_y.npy"), "<i4", [R], labels);
    expect((await usage([], /Usage:/, true)).stderr).toContain("xent eval");
    await usage(["frobnicate"], /^xent: unknown command "frobnicate"/, true);
    await usage(["eval", "--logits", x], /^xent: eval: --labels FILE is required \(see xent eval --help\)\n$/);
    await usage(["eval", "--logits", x, "--labels", y, "--colour"], /unknown option --colour/);
    await usage(["eval", "--logits", x, "--labels", y, "--top-k", "0"], /--top-k must be/);
    await usage(["eval", "--logits", x, "--labels", y, "--top-k"], /--top-k needs a value/);
    await usage(["eval", "--logits", x, "--labels", y, "--ignore-index", "x"], /--ignore-index must be an integer/);
    await usage(["eval", "--logits", x, "--labels", y, "stray"], /unexpected argument "stray"/);
    await usage(["kl", "--p", x, "--q", x, "--temperature", "2"], /--temperature divides logits: it needs --from logits/);
    await usage(["kl", "--p", x, "--q", x, "--from", "odds"], /--from must be/);
    await usage(["entropy", "--p", x, "--temperature", "-1", "--from", "logits"], /--temperature must be a number > 0/);
    await usage(["entropy", "--p", x, "--shape", "37,7", "--classes", "6"], /disagree/);
    await usage(["bench", "--rows", "1.5"], /--rows must be an integer/);
    await usage(
      ["focal", "--logits", x, "--labels", y, "--gamma", "-1"],
      /^xent: --gamma must be a number >= 0, got "-1" \(see xent focal --help\)\n$/,
    );
    await usage(["focal", "--logits", x, "--labels", y, "--alpha", "x"], /--alpha must be a finite number/);
    await usage(["focal", "--logits", x, "--labels", y, "--reduction", "none"], /--reduction must be mean, sum/);
    await usage(["focal", "--logits", x, "--labels", y, "--from", "logits,probs"], /--from must be/);
    await usage(["focal", "--logits", x, "--labels", y, "--base", "1"], /--base must not be 1/);
    await usage(["focal", "--logits", x, "--labels", y, "--top-k", "1"], /unknown option --top-k/);
    await usage(["focal", "--logits", x], /^xent: focal: --labels FILE is required/);
    const st = writeSafetensors(f("two.safetensors"), {
      a: { dtype: "F32", shape: [R, K], data: logits },
      b: { dtype: "F32", shape: [R, K], data: logits },
    });
    await usage(["entropy", "--p", st], /two\.safetensors: holds 2 tensors \(a, b\): choose the p with --p-tensor NAME or --tensor NAME/);
  });
  it("--help, help COMMAND, --version", async () => {
    for (const args of [
      ["--help"],
      ["help"],
      ["eval", "--help"],
      ["kl", "-h"],
      ["help", "entropy"],
      ["bench", "--help"],
      ["focal", "--help"],
      ["help", "focal"],
    ]) {
      const r = await xentIn(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/xent/);
    }
    expect((await xentIn(["eval", "--help"])).stdout).toContain("--ignore-index");
    expect((await xentIn(["focal", "--help"])).stdout).toMatch(/--gamma G[\s\S]*--alpha A[\s\S]*--reduction R/);
    expect((await xentIn(["--help"])).stdout).toContain("xent focal");
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(xent(["--version"]).stdout).toBe(`xent ${pkg.version}\n`);
    expect(pkg.bin.xent).toBe("bin/xent.js");
  });
});

describe("progress", () => {
  const args = () => [
    "eval",
    "--logits",
    writeNpy(f("p_x.npy"), "<f4", [R, K], logits),
    "--labels",
    writeNpy(f("p_y.npy"), "<i4", [R], labels),
  ];
  it("none when stderr is a pipe, even over many chunks", () => {
    const r = xent(args(), { XENT_CHUNK_BYTES: "1" });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is that the carriage return and the escape (ESC) of a progress bar are absent
    expect(r.stdout).not.toMatch(/\r|\x1b|%/);
  });
  const script = existsSync("/usr/bin/script");
  it.skipIf(!script)("a bar when stderr is a terminal (under script(1)), cleared at the end; none with --no-progress", () => {
    const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const run = (extra: string[]) =>
      spawnSync("/usr/bin/script", ["-qec", [process.execPath, BIN, ...args(), ...extra].map(quote).join(" "), "/dev/null"], {
        encoding: "utf8",
        cwd: ROOT,
        env: { ...process.env, XENT_CHUNK_BYTES: "1" },
      });
    const tty = run([]);
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/\rxent eval \[[#.]+\] +\d+%/);
    expect(tty.stdout).toMatch(/100%/);
    expect(tty.stdout).toContain("\r\x1b[K");
    const quiet = run(["--no-progress"]);
    expect(quiet.status).toBe(0);
    expect(quiet.stdout).not.toMatch(/xent eval \[/);
    expect(quiet.stdout).toMatch(/cross-entropy/);
  });
});

describe("bench", () => {
  it("measures xent and the reference and prints their ratio", () => {
    const r = okJson(xent(["bench", "--rows", "64", "--classes", "100", "--seconds", "0.3", "--json"]));
    expect(r.agree).toBe(true);
    expect(r.xentMelemPerSecond).toBeGreaterThan(0);
    expect(r.referenceMelemPerSecond).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(r.xentMelemPerSecond / r.referenceMelemPerSecond, 10);
    const text = ok(xent(["bench", "--rows", "16", "--classes", "10", "--seconds", "0.1"]));
    expect(text).toMatch(/xent \(wasm-simd\) +[\d.]+ Melem\/s/);
    expect(text).toMatch(/ratio +[\d.]+x/);
  });
});
