// The bad-input matrix (hardening issue): every public function against every class of bad input,
// on every engine (wasm-simd, wasm, js) and on the pool; allocate() on every memory; the CLI against
// bad files and command lines. Each bad case must give its documented XentError code (the pool:
// reject with it; the CLI: its exit code and one-line message, no stack trace), and the next valid
// call must still give the reference's result. Valid inputs of unusual shapes (views with offsets,
// SharedArrayBuffers, oversized rows) must give the same result as plain arrays. The cases are
// generated as functions x classes (matrix.ts, cli.ts); a cell without cases must say why.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { rmSync } from "node:fs";
import * as xent from "../../src/index.js";
import * as REFERENCE from "../../src/reference/index.js";
import { XentError } from "../../src/errors.js";
import { Memory } from "../../src/engine/memory.js";
import { ENGINES } from "../helpers/engines.js";
import { BIN, tempDir, xentIn, start, type Run } from "../cli/helpers.js";
import { CLASSES, CLASS_TITLES, D, K, NOT_APPLICABLE, POOL_FNS, SPECS, casesOf, goodState, type Env, type FnSpec } from "./matrix.js";
import { expectClose, referenceOf, runCase } from "./run.js";
import { cliCases, CK, LABELS, LOGITS, type CliCase } from "./cli.js";

/** Grows a memory until its buffer changes (every view on the old one detaches), then frees what it took. */
function grower(mem: Memory): () => void {
  return () => {
    const old = mem.buffer;
    const blocks = [];
    for (let i = 0; i < 1024 && mem.buffer === old; i++) blocks.push(mem.allocate(Float32Array, 1 << 14));
    for (const b of blocks) b.free();
    if (mem.buffer === old) throw new Error("the memory did not grow");
  };
}

const ENGINE_ENVS: Env[] = (["wasm-simd", "wasm", "js"] as const).map((name) => {
  const m = ENGINES[name];
  const mem = (m.engine as { memory?: Memory }).memory ?? null;
  return { name, api: m, async: false, memory: mem, grow: mem === null ? null : grower(mem) };
});

/** The cases of a cell that can run in an environment. */
function runnable(spec: FnSpec, cls: (typeof CLASSES)[number], env: { memory: unknown; grow: unknown }) {
  return casesOf(spec, cls).filter((c) => c.needs === undefined || (c.needs === "memory" ? env.memory !== null : env.grow !== null));
}

// ---------------------------------------------------------------------------------------------

describe("the matrix is complete: every function x every class has cases, or says why not", () => {
  it("cells", () => {
    const counts: string[] = [];
    let cells = 0,
      cases = 0;
    for (const spec of SPECS) {
      for (const cls of CLASSES) {
        const n = casesOf(spec, cls).length;
        const why = NOT_APPLICABLE[spec.fn]?.[cls];
        if (why === undefined) expect(n, `${spec.fn} x ${cls} has no case and no reason`).toBeGreaterThan(0);
        else expect(n, `${spec.fn} x ${cls} is marked not applicable (${why}) but has cases`).toBe(0);
        if (n > 0) cells++;
        cases += n;
        counts.push(`${spec.fn} x ${cls}: ${n > 0 ? n : `n/a (${why})`}`);
      }
    }
    expect(SPECS.map((s) => s.fn)).toEqual([
      "crossEntropy",
      "klDivergence",
      "jensenShannon",
      "entropy",
      "binaryCrossEntropy",
      "focalLoss",
      "binaryFocalLoss",
      "evaluate",
      "Evaluator()",
      "Evaluator.update",
      "Evaluator.merge",
      "Evaluator.fromJSON",
      "crossEntropyWithGrad",
      "klDivergenceWithGrad",
    ]);
    expect(cells).toBeGreaterThan(100);
    expect(cases).toBeGreaterThan(1000);
    expect(Object.keys(CLASS_TITLES)).toEqual([...CLASSES]);
  });

  it("the reference values the matrix compares with agree with hand-derived ones", async () => {
    const ln = Math.log,
      [p, q, x, w, sw] = [D.P(), D.Q(), D.X(), D.W(), D.SW()];
    const rows = (f: (r: number) => number) => [0, 1].map(f);
    const spec = (fn: string) => SPECS.find((s) => s.fn === fn)!;
    // entropy and KL of the probability rows, mean over rows
    const h = rows((r) => -[0, 1, 2].reduce((s, k) => s + p[3 * r + k] * ln(p[3 * r + k]), 0));
    expectClose(await referenceOf(spec("entropy"), 0), (h[0] + h[1]) / 2, "entropy", "f64");
    const kl = rows((r) => [0, 1, 2].reduce((s, k) => s + p[3 * r + k] * ln(p[3 * r + k] / q[3 * r + k]), 0));
    expectClose(await referenceOf(spec("klDivergence"), 0), (kl[0] + kl[1]) / 2, "klDivergence", "f64");
    // PyTorch's weighted, label-smoothed cross-entropy: l_r = sw_r ((1 - e) w[t] nll_t + (e / K) sum_k w_k nll_k), mean over sum sw_r w[t_r]
    const t = [0, 2],
      e = 0.1;
    const nll = (r: number, k: number) => ln([0, 1, 2].reduce((s, j) => s + Math.exp(x[3 * r + j]), 0)) - x[3 * r + k];
    const l = rows((r) => sw[r] * ((1 - e) * w[t[r]] * nll(r, t[r]) + (e / K) * [0, 1, 2].reduce((s, k) => s + w[k] * nll(r, k), 0)));
    expectClose(await referenceOf(spec("crossEntropy"), 0), (l[0] + l[1]) / (sw[0] * w[t[0]] + sw[1] * w[t[1]]), "crossEntropy", "f64");
    // Focal loss of the same rows (gamma 1.5, alpha per class): l_r = sw_r sum_k alpha_k w_k c_k (1 - q_k)^1.5 (-log q_k),
    // c_k = (1 - e) [k = t_r] + e / K; the mean over the same divisor (alpha is not in it)
    const a = D.A(),
      qk = (r: number, k: number) => Math.exp(-nll(r, k));
    const fl = rows(
      (r) =>
        sw[r] * [0, 1, 2].reduce((s, k) => s + a[k] * w[k] * ((k === t[r] ? 1 - e : 0) + e / K) * (1 - qk(r, k)) ** 1.5 * nll(r, k), 0),
    );
    expectClose(await referenceOf(spec("focalLoss"), 0), (fl[0] + fl[1]) / (sw[0] * w[t[0]] + sw[1] * w[t[1]]), "focalLoss", "f64");
    // Binary focal loss (torchvision's sigmoid_focal_loss, times the element weights), the mean over the 6 elements
    const [y, bw] = [D.T01(), D.BW()];
    const bfl = [0, 1, 2, 3, 4, 5].map((i) => {
      const p1 = 1 / (1 + Math.exp(-x[i]));
      const ce = -(y[i] * ln(p1) + (1 - y[i]) * ln(1 - p1));
      return bw[i] * (0.25 * y[i] + 0.75 * (1 - y[i])) * (y[i] * (1 - p1) + (1 - y[i]) * p1) ** 1.5 * ce;
    });
    expectClose(await referenceOf(spec("binaryFocalLoss"), 0), bfl.reduce((s, v) => s + v, 0) / 6, "binaryFocalLoss", "f64");
    // fromJSON of the hand-written state: ce 2.5 over weights 2.5, 1 and 2 hits of 2 rows, entropy 1.75 over 2 rows
    expect(goodState()).toMatchObject({ rows: 2, ce: [2.5, 0], weights: [2.5, 0], entropy: [1.75, 0], hits: [1, 2] });
    expect(await referenceOf(spec("Evaluator.fromJSON"), 0)).toEqual({
      rows: 2,
      crossEntropy: 1,
      perplexity: Math.E,
      accuracy: 0.5,
      topK: { 1: 0.5, 2: 1 },
      entropy: 0.875,
    });
  });
});

for (const env of ENGINE_ENVS) {
  describe(`${env.name}: every function x every class`, () => {
    for (const spec of SPECS) {
      for (const cls of CLASSES) {
        const cases = runnable(spec, cls, env);
        if (cases.length === 0) continue;
        it(`${spec.fn} x ${cls}: ${cases.length} cases`, async () => {
          for (const c of cases) await runCase(spec, c, env);
        });
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------

describe("the pool (createPool({ threads: 2 })): its functions x every class reject with the same codes", () => {
  let pool: xent.Pool;
  const env: Env = { name: "pool", api: null, async: true, memory: null, grow: null };
  beforeAll(async () => {
    pool = await xent.createPool({ threads: 2 });
    env.api = pool;
    env.memory = pool;
  });
  afterAll(async () => {
    await pool?.close();
  });

  it("runs on two worker threads", () => {
    expect(pool.info).toMatchObject({ backend: "wasm-simd-threads", threads: 2, shared: true });
  });
  for (const fn of POOL_FNS) {
    const spec = SPECS.find((s) => s.fn === fn)!;
    for (const cls of CLASSES) {
      // Pool memory is shared: its views never detach (no "grow" cases).
      const cases = runnable(spec, cls, { memory: true, grow: null });
      if (cases.length === 0) continue;
      it(`pool.${fn} x ${cls}: ${cases.length} cases`, async () => {
        for (const c of cases) {
          await runCase(spec, c, env);
        }
      });
    }
  }

  it("createPool with bad options rejects before starting workers", async () => {
    const bad: Array<[unknown, string]> = [
      [null, "INVALID_TYPE"],
      ["2", "INVALID_TYPE"],
      [{ thread: 2 }, "UNKNOWN_OPTION"],
      [{ threads: 0 }, "INVALID_OPTION"],
      [{ threads: -1 }, "INVALID_OPTION"],
      [{ threads: 1.5 }, "INVALID_OPTION"],
      [{ threads: "2" }, "INVALID_OPTION"],
      [{ threads: 1025 }, "INVALID_OPTION"],
      [{ threads: NaN }, "INVALID_OPTION"],
      [{ maxMemory: 1 }, "INVALID_OPTION"],
      [{ maxMemory: 2 ** 33 }, "INVALID_OPTION"],
      [{ maxMemory: "16MiB" }, "INVALID_OPTION"],
      [{ verify: "yes" }, "INVALID_OPTION"],
    ];
    for (const [options, code] of bad) {
      const e = await xent.createPool(options as never).then(
        () => null,
        (err) => err,
      );
      expect(e, JSON.stringify(options)).toBeInstanceOf(XentError);
      expect(e.code, JSON.stringify(options)).toBe(code);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("allocate(): bad array types and lengths, and blocks too large for linear memory", () => {
  let pool: xent.Pool;
  beforeAll(async () => {
    await xent.init();
    pool = await xent.createPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool?.close();
  });

  /** A memory to allocate in, and the crossEntropy that reads it in place (none for a bare Memory). */
  type Target = { name: string; allocate(ctor: unknown, n: number): xent.WasmArray<any>; crossEntropy?: (t: any, x: any) => unknown };
  const targets = (): Target[] => [
    { name: "allocate() (the engine init() chose)", allocate: (c, n) => xent.allocate(c as never, n), crossEntropy: xent.crossEntropy },
    ...ENGINE_ENVS.filter((e) => e.memory !== null).map((e) => ({
      name: `the ${e.name} engine's memory`,
      allocate: (c: unknown, n: number) => (e.memory as Memory).allocate(c as never, n),
      crossEntropy: e.api.crossEntropy,
    })),
    { name: "pool.allocate", allocate: (c, n) => pool.allocate(c as never, n), crossEntropy: pool.crossEntropy },
    // A WebAssembly.Memory that can grow to 80 pages (5 MiB): the scratch slots take 4.2 MiB of it.
    {
      name: "a memory of at most 5 MiB",
      allocate: (() => {
        const m = new Memory(new WebAssembly.Memory({ initial: 1, maximum: 80 }), 0);
        return (c: unknown, n: number) => m.allocate(c as never, n);
      })(),
    },
  ];
  const BAD_CTORS: Array<[string, unknown]> = [
    ["null", null],
    ["undefined", undefined],
    ["a string", "Float32Array"],
    ["Uint8Array", Uint8Array],
    ["Int16Array", Int16Array],
    ["Uint32Array", Uint32Array],
    ["BigInt64Array", BigInt64Array],
    ["Array", Array],
    ["Object", Object],
    ["an object with BYTES_PER_ELEMENT", { BYTES_PER_ELEMENT: 4 }],
    // biome-ignore lint/suspicious/noShadowRestrictedNames: a function that only has Float32Array's name, which allocate() must refuse
    ["a function", function Float32Array() {}],
  ];
  const BAD_LENGTHS: unknown[] = [-1, 1.5, NaN, Infinity, -Infinity, "6", undefined, null, 6n, [6]];
  const TOO_LARGE: Array<[string, unknown, number]> = [
    ["Float32Array", Float32Array, 2 ** 31],
    ["Float32Array", Float32Array, 2 ** 30],
    ["Float64Array", Float64Array, 2 ** 29],
    ["Int32Array", Int32Array, 2 ** 30],
    ["Float32Array", Float32Array, 2 ** 53],
    ["Float64Array", Float64Array, Number.MAX_SAFE_INTEGER],
  ];

  /** After a failed allocate: two fresh blocks are distinct, aligned and usable, and a zero-copy call on one is right. */
  async function stillWorks(t: Target, label: string): Promise<void> {
    const a = t.allocate(Float32Array, 2 * K),
      b = t.allocate(Float32Array, 2 * K);
    try {
      expect(a.ptr !== b.ptr && a.ptr % 64 === 0 && b.ptr % 64 === 0, `${label}: blocks at ${a.ptr} and ${b.ptr}`).toBe(true);
      a.view.set(D.X());
      b.view.fill(-1);
      expect(Array.from(a.view), label).toEqual(Array.from(D.X()));
      if (t.crossEntropy !== undefined) {
        expectClose(await t.crossEntropy(D.L(), a), REFERENCE.crossEntropy(D.L(), D.X()), `${label}: a zero-copy call`);
      }
    } finally {
      a.free();
      b.free();
    }
  }

  const expectError = (f: () => unknown, code: string, message: RegExp, label: string) => {
    let thrown: unknown;
    try {
      f();
    } catch (e) {
      thrown = e;
    }
    expect(thrown, label).toBeInstanceOf(XentError);
    expect((thrown as XentError).code, `${label}: ${(thrown as Error).message}`).toBe(code);
    expect((thrown as XentError).message, label).toMatch(message);
  };

  it("each memory x bad array types, bad lengths, blocks above 4 GiB", async () => {
    for (const t of targets()) {
      // A block freed first: a bad call must not corrupt the free list either.
      t.allocate(Float64Array, 1000).free();
      for (const [what, ctor] of BAD_CTORS) {
        expectError(
          () => t.allocate(ctor, 6),
          "INVALID_TYPE",
          /array type must be Float32Array, Float64Array or Int32Array/,
          `${t.name}: ${what}`,
        );
        await stillWorks(t, `${t.name}: after ${what}`);
      }
      for (const n of BAD_LENGTHS) {
        expectError(
          () => t.allocate(Float32Array, n as number),
          "INVALID_TYPE",
          /length must be an integer >= 0/,
          `${t.name}: length ${String(n)}`,
        );
        await stillWorks(t, `${t.name}: after length ${String(n)}`);
      }
      for (const [what, ctor, n] of TOO_LARGE) {
        expectError(() => t.allocate(ctor, n), "OUT_OF_MEMORY", /do not fit in WebAssembly memory/, `${t.name}: ${what} x ${n}`);
        await stillWorks(t, `${t.name}: after ${what} x ${n}`);
      }
    }
  });

  it("a pool with maxMemory 16 MiB: a block beyond it is OUT_OF_MEMORY, the pool stays usable", async () => {
    const small = await xent.createPool({ threads: 1, maxMemory: 1 << 24 });
    try {
      const t: Target = {
        name: "pool.allocate, maxMemory 16 MiB",
        allocate: (c, n) => small.allocate(c as never, n),
        crossEntropy: small.crossEntropy,
      };
      expectError(() => t.allocate(Float32Array, 1 << 23), "OUT_OF_MEMORY", /cannot grow WebAssembly memory/, "32 MiB in a 16 MiB pool");
      await stillWorks(t, "after 32 MiB in a 16 MiB pool");
    } finally {
      await small.close();
    }
  });

  it("a memory with a maximum: a block beyond it is OUT_OF_MEMORY, the memory stays usable", async () => {
    const t = targets().at(-1)!;
    expectError(() => t.allocate(Float32Array, 2 ** 20), "OUT_OF_MEMORY", /cannot grow WebAssembly memory/, "4 MiB in a 5 MiB memory");
    await stillWorks(t, "after 4 MiB in a 5 MiB memory");
    const ok = t.allocate(Float32Array, 2 ** 16); // 256 KiB: fits
    expect(ok.view.length).toBe(2 ** 16);
    ok.free();
  });
});

// ---------------------------------------------------------------------------------------------

describe("the CLI: bad files and command lines give their exit code and one line, no stack trace", () => {
  const dir = tempDir("xent-hardening-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const { cases, good } = cliCases(dir);
  const groups = [...new Set(cases.map((c) => c.group))];

  const check = (c: CliCase, r: Run, how: string) => {
    const label = `${how}: ${c.name}: ${JSON.stringify(r.stderr)}`;
    expect(r.status, label).toBe(c.status);
    expect(r.stdout, label).toBe("");
    expect(r.stderr, label).toMatch(c.message);
    expect(r.stderr, label).not.toMatch(/internal error|\n\s+at |TypeError|RangeError/);
    if (!c.multiline) {
      expect(r.stderr, label).toMatch(/^xent: [^\n]+\n$/);
      if (c.status === 1 && c.args.length > 0) expect(r.stderr, label).toMatch(/\(see xent (\w+ )?--help\)\n$/);
    }
    if (c.file !== undefined) expect(r.stderr, label).toContain(c.file);
  };

  /** The valid run after a failed one: eval's figures are the library's. */
  async function validEval(label: string): Promise<void> {
    const r = await xentIn(["eval", "--logits", good.x, "--labels", good.y, "--top-k", "1,2", "--json"]);
    expect(r.status, `${label}: ${r.stderr}`).toBe(0);
    const got = JSON.parse(r.stdout);
    const want = REFERENCE.evaluate(LABELS, LOGITS, { classes: CK, topK: [1, 2] });
    expectClose(
      { rows: got.rows, crossEntropy: got.crossEntropy, accuracy: got.accuracy, topK: got.topK, entropy: got.entropy },
      { rows: want.rows, crossEntropy: want.crossEntropy, accuracy: want.accuracy, topK: want.topK, entropy: want.entropy },
      `${label}: then a valid eval`,
    );
  }

  it("the groups", () => {
    expect(groups).toEqual(["missing or malformed files", "bad flags", "wrong shape", "out-of-range labels", "unknown commands"]);
  });
  for (const group of groups) {
    const mine = cases.filter((c) => c.group === group);
    it(`${group}: ${mine.length} cases, in-process (main())`, async () => {
      for (const c of mine) {
        check(c, await xentIn(c.args, c.env), "main()");
        await validEval(c.name);
      }
    });
  }

  // bin/xent.js as a user runs it, for a sample of every group (a child process each costs ~0.2 s):
  // the same exit code and the same line as in-process.
  const sample = groups.flatMap((g) => {
    const mine = cases.filter((c) => c.group === g);
    return [mine[0], mine[Math.floor(mine.length / 2)], mine[mine.length - 1]].filter((c, i, a) => a.indexOf(c) === i);
  });
  it(`bin/xent.js: ${sample.length} cases, as child processes`, async () => {
    const runs = [];
    for (let i = 0; i < sample.length; i += 4) {
      const batch = sample.slice(i, i + 4);
      // (`env` sets a case's environment variables for the child.)
      runs.push(
        ...(await Promise.all(
          batch.map((c) =>
            start("/usr/bin/env", [
              ...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`),
              process.execPath,
              BIN,
              ...c.args,
            ]).done.then((r) => [c, r] as const),
          ),
        )),
      );
    }
    for (const [c, r] of runs) {
      check(c, r, "bin/xent.js");
      expect(r.stderr, c.name).toBe((await xentIn(c.args, c.env)).stderr);
    }
  });
});
