// The cases the differential fuzzer (test/fuzz/differential.ts) found, as regular tests: each ran
// differently on an engine and on the reference before the fix named beside it.
import { describe, expect, it } from "vitest";
import { ENGINES, simdEngine, scalarEngine } from "./helpers/engines.js";
import { rng, normal, probs as randomProbs } from "./helpers/data.js";
import { agrees } from "../src/measures/measure.js";
import { differs, makeCall, type FuzzCase } from "./fuzz/differential.js";
import { jsTerm, klPhiTerm } from "../src/reference/rows.js";

const WASM = ["wasm-simd", "wasm"] as const;
type Values = ArrayLike<number> | number;
const list = (v: Values) => (typeof v === "number" ? [v] : Array.from(v));

/** Every value of each engine within the contract of the reference's (float32 or float64 inputs). */
function expectAgrees(f32: boolean, run: (m: (typeof ENGINES)["js"]) => Values) {
  const want = list(run(ENGINES.js));
  for (const e of WASM) {
    const got = list(run(ENGINES[e]));
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      if (!agrees(got[i], want[i], f32)) expect.fail(`${e}, value ${i}: ${got[i]}, reference ${want[i]}`);
    }
  }
}

describe("klDivergence from logits (OP2 SIMD kernels)", () => {
  it("float64 logits far larger than the result: d_k as (x_k - mx) - (y_k - my)", () => {
    // mx = 4e29 and the KL 8e15 nats: (x_k - y_k) - (mx - my) rounded by 4e13 (1.5e-3 of the result).
    const p = new Float64Array([4.08205890665968e29, -9.317506168325542e-24, -0.02504994135811082, -362067957.7365372]);
    const q = new Float64Array([-1.1901153100899428e-24, -3.8795356454830924e-26, -337979.6747361376, 8174995735955190]);
    expectAgrees(false, (m) => m.klDivergence(p, q, { from: "logits", classes: 4, reduction: "none" }));
  });

  it("float32 logits, the KL carried by a class of tiny p with a huge log ratio", () => {
    // p_4 = e^-37 against log q_4 = -1e26: the float32 exp argument of e_4 was off by 4e-6 of it.
    const p = new Float32Array([-427945394176, 19.93663787841797, -829743808, -136141793634014990000, -0.12564924359321594]);
    const q = new Float32Array([
      -3.2330561940822822e-25, 1.057518172437834e26, -0.5942062735557556, 6.824573672305627e-21, -0.10851071774959564,
    ]);
    expectAgrees(true, (m) => m.klDivergence(p, q, { from: "logits", classes: 5, temperature: 0.5407543229455808, reduction: "none" }));
  });

  it("float32 logits of scale 30: classes where p is tiny and q is not (a guard for the kernel above)", () => {
    // The float32 e_k stand for both P and Q there: without the argument correction, 1.6e-6 off.
    const u = rng(30),
      K = 28,
      R = 200;
    const x = Float32Array.from({ length: K * R }, () => 30 * (2 * u() - 1)),
      y = Float32Array.from({ length: K * R }, () => 30 * (2 * u() - 1));
    expectAgrees(true, (m) => m.klDivergence(x, y, { from: "logits", classes: K, temperature: 1.0139113857366795, reduction: "none" }));
  });

  it("float32 logits, a student close to its teacher: per row and summed over 2000 rows", () => {
    // log Sy - log Sx of two float32 exps was off by ~1e-7 absolute per row, where the KL is 1e-5.
    const u = rng(5),
      K = 10,
      R = 2000;
    const x = Float32Array.from({ length: K * R }, () => 3 * normal(u));
    for (const noise of [0.01, 0.1, 1]) {
      const y = x.map((v) => v + noise * normal(u));
      for (const T of [1, 2, 8]) {
        expectAgrees(true, (m) => m.klDivergence(x, y, { from: "logits", classes: K, temperature: T, reduction: "none" }));
        expectAgrees(true, (m) => m.klDivergence(x, y, { from: "logits", classes: K, temperature: T, reduction: "sum" }));
      }
    }
  });
  it("float32 logits on both sides of the fast path's error bound (KL from 1e-7 to tens of nats)", () => {
    // klRowFastF32 keeps a row only where its first-order error bound is within 5e-7 of the KL;
    // the rest go to the accurate path. Students from close to unrelated, every scale and temperature,
    // per row and summed: each within the float32 contract either way.
    const u = rng(11);
    for (const [K, R] of [
      [2, 300],
      [10, 300],
      [1000, 12],
      [32000, 2],
    ]) {
      for (const scale of [1, 3, 10, 30]) {
        const x = Float32Array.from({ length: K * R }, () => scale * normal(u));
        for (const noise of [1e-3, 1e-2, 0.1, 0.3, 1, 3, -1]) {
          // noise -1: an unrelated student
          const y = x.map((v) => (noise < 0 ? scale * normal(u) : v + noise * scale * normal(u)));
          for (const T of [0.5, 1, 3]) {
            expectAgrees(true, (m) => m.klDivergence(x, y, { from: "logits", classes: K, temperature: T, reduction: "none" }));
            expectAgrees(true, (m) => m.klDivergence(x, y, { from: "logits", classes: K, temperature: T, reduction: "sum" }));
          }
        }
      }
    }
  });
});

describe("crossEntropy from float32 logits, rows longer than a chunk (4096 classes)", () => {
  it("chunks combined as an online log-sum-exp: maxima, -inf, NaN and +inf in any chunk", () => {
    const K = 4096 * 3 + 5,
      u = rng(13);
    const base = () => Float32Array.from({ length: K }, () => 3 * normal(u));
    const rows: Float32Array[] = [];
    const edit = (f: (x: Float32Array) => void) => {
      const x = base();
      f(x);
      rows.push(x);
    };
    edit(() => {});
    edit((x) => {
      x[K - 1] = 1e4;
    }); // the maximum in the short last chunk: every earlier sum rescaled to ~0
    edit((x) => {
      x[0] = 60;
      x[5000] = 61;
      x[9000] = 62;
    }); // a larger maximum in each chunk
    edit((x) => {
      for (let k = 4096; k < 8192; k++) x[k] = -Infinity;
    }); // a chunk of -inf
    edit((x) => {
      for (let k = 0; k < 4096; k++) x[k] = -Infinity;
    }); // the first chunk all -inf
    edit((x) => {
      x.fill(-Infinity);
      x[3] = 0;
      x[10000] = 2;
    }); // two finite logits in the row
    edit((x) => {
      x[6000] = NaN;
    }); // NaN in a chunk
    edit((x) => {
      for (let k = 4096; k < 8192; k++) x[k] = k % 2 ? NaN : -Infinity;
    }); // a chunk of NaN and -inf
    edit((x) => {
      x[9000] = Infinity;
    }); // +inf in a later chunk: no softmax
    edit((x) => x.fill(-Infinity)); // a row of -inf
    edit((x) => {
      for (let k = 0; k < K; k++) x[k] = 1e-3 * x[k];
    }); // nearly uniform: S near K
    const x = new Float32Array(rows.length * K);
    rows.forEach((r, i) => {
      x.set(r, i * K);
    });
    for (const target of [3, 4100, K - 1]) {
      const t = Int32Array.from(rows, () => target);
      expectAgrees(true, (m) => m.crossEntropy(t, x, { classes: K, reduction: "none" }));
    }
  });
});

describe("klDivergence from float32 probabilities", () => {
  it("close distributions, summed over rows: rows the float32 kernel cannot vouch for go to f64", () => {
    const u = rng(7);
    for (const [K, R] of [
      [10, 2000],
      [1000, 200],
    ]) {
      const p = randomProbs(u, R, K, Float32Array) as Float32Array;
      for (const noise of [1e-2, 1e-4]) {
        const q = new Float32Array(K * R);
        for (let r = 0; r < R; r++) {
          let z = 0;
          for (let k = 0; k < K; k++) z += q[r * K + k] = p[r * K + k] * Math.exp(noise * normal(u));
          for (let k = 0; k < K; k++) q[r * K + k] /= z;
        }
        for (const normalize of [false, true]) {
          expectAgrees(true, (m) => m.klDivergence(p, q, { classes: K, normalize, reduction: "sum" }));
        }
      }
    }
  });
});

describe("crossEntropy with dense targets, float32 (ceDenseF32)", () => {
  it("a label smoothing that underflows float32 still makes c_k != 0: NaN and 0 probabilities count", () => {
    const t = new Float32Array([1, 0, 0]);
    expect(ENGINES.js.crossEntropy(t, new Float32Array([0.5, NaN, 0.5]), { from: "probs", labelSmoothing: 1e-300 })).toBeNaN();
    expect(ENGINES.js.crossEntropy(t, new Float32Array([0.5, 0, 0.5]), { from: "probs", labelSmoothing: 1e-300 })).toBe(Infinity);
    for (const q of [
      [0.5, NaN, 0.5],
      [0.5, 0, 0.5],
      [0.5, 0.25, 0.25],
    ]) {
      expectAgrees(true, (m) => m.crossEntropy(t, new Float32Array(q), { from: "probs", labelSmoothing: 1e-300 }));
      expectAgrees(true, (m) => m.crossEntropy(t, new Float32Array(q), { from: "probs", labelSmoothing: 1e-44 }));
    }
  });

  it("an infinite target on a class of weight 0 is NaN (0 * inf), not a skipped term (a guard for the above)", () => {
    const run = (m: (typeof ENGINES)["js"]) =>
      m.crossEntropy(new Float32Array([0.5, Infinity]), new Float32Array([0.5, 0.5]), { from: "probs", weight: new Float32Array([1, 0]) });
    expect(run(ENGINES.js)).toBeNaN();
    expectAgrees(true, run);
  });

  it("eps below float32's 1 - eps: the upper clip -log(1 - eps) is kept (large targets)", () => {
    // Every q_k >= 1: the row is sum_k t_k (-log(1 - eps)), 3e15 (the float32 kernel gave 0).
    const t = new Float32Array([1e30, 1e30, 1e30]),
      q = new Float32Array([1, 2, 1.5]);
    for (const eps of [1e-15, 2.220446049250313e-16, 1e-3]) {
      expectAgrees(true, (m) => m.crossEntropy(t, q, { from: "probs", eps, reduction: "none", classes: 3 }));
    }
  });
});

describe("crossEntropyWithGrad (ceGrad kernel)", () => {
  it("an infinite target probability: Infinity, or NaN at the maximum where S rounds to 1, as the reference", () => {
    for (const T of [Float32Array, Float64Array]) {
      const x = new T([0, -1000]);
      const run = (t: number[]) => (m: (typeof ENGINES)["js"]) => m.crossEntropyWithGrad(new T(t), x, { reduction: "sum" }).loss;
      expect(run([0.5, Infinity])(ENGINES.js)).toBe(Infinity);
      expect(run([Infinity, 0.5])(ENGINES.js)).toBeNaN();
      expectAgrees(T === Float32Array, run([0.5, Infinity]));
      expectAgrees(T === Float32Array, run([Infinity, 0.5]));
    }
  });

  it("a row whose c_k are all 0 is 0 whatever its logits hold", () => {
    const x = new Float64Array([1, 2, NaN, 1]),
      labels = new Int32Array([1, 0]),
      weight = new Float64Array([0, 1]);
    expectAgrees(false, (m) => m.crossEntropyWithGrad(labels, x, { weight, reduction: "sum" }).loss);
    expect(Number.isFinite(ENGINES["wasm-simd"].crossEntropyWithGrad(labels, x, { weight, reduction: "sum" }).loss)).toBe(true);
  });

  it("float32 gradients where A p_k - c_k cancels (unnormalised dense targets): e_k is not rounded to float32", () => {
    const x = new Float32Array([0.3, -1.2, 2.5, 0.7]);
    const e = Array.from(x, (v) => Math.exp(v)),
      s = e.reduce((a, b) => a + b);
    const t = new Float32Array(e.map((v) => (1000 * v) / s)); // c_k = A p_k up to float32 rounding: the gradient is tiny
    expectAgrees(true, (m) => {
      const { loss, grad } = m.crossEntropyWithGrad(t, x, { reduction: "sum" });
      return [loss, ...grad];
    });
  });
});

describe("zero-copy inputs with a gradient array outside wasm memory", () => {
  it("chunks fit the gradient slot: no write past it into the inputs", () => {
    // 3 rows of 86089 float64 logits are 2 MiB: all zero-copy, the rows came in one chunk whose
    // gradient (written to the 1 MiB scratch slot) ran over the next slots and the inputs.
    const K = 86089,
      R = 3,
      u = rng(3);
    const x = Float64Array.from({ length: K * R }, () => 3 * normal(u)),
      t = new Int32Array([5, 70000, 86088]);
    const want = ENGINES.js.crossEntropyWithGrad(t, x, { classes: K });
    for (const [name, engine] of [
      ["wasm-simd", simdEngine],
      ["wasm", scalarEngine],
    ] as const) {
      const logits = engine.memory.allocate(Float64Array, K * R);
      logits.view.set(x);
      const grad = new Float32Array(K * R);
      const got = ENGINES[name].crossEntropyWithGrad(t, logits, { classes: K, grad });
      expect(Buffer.from(logits.view.buffer, logits.view.byteOffset, logits.view.byteLength).equals(Buffer.from(x.buffer))).toBe(true);
      expect(agrees(got.loss, want.loss, false)).toBe(true);
      for (let i = 0; i < K * R; i += 997) expect(agrees(grad[i], want.grad[i], true)).toBe(true);
      logits.free();
    }
  });
});

describe("found by the first 10^6-case run (seed 20261128)", () => {
  it("float32 KL from logits: p_k flushed to 0 by the float32 exp (t (x_k - mx) < -87.3) where q_k = 0 is Infinity", () => {
    for (const [x, T] of [
      [[0, -100], 1],
      [[0, -50], 0.5],
      [[3, -200, 1], 2],
    ] as const) {
      const p = new Float32Array(x),
        q = new Float32Array(x.map((v, i) => (i === 1 ? -Infinity : v)));
      const run = (m: (typeof ENGINES)["js"]) => m.klDivergence(p, q, { from: "logits", temperature: T });
      expect(run(ENGINES.js)).toBe(Infinity);
      expectAgrees(true, run);
    }
  });

  it("float32 KL from logits: a flushed p_k against a hugely negative student logit still counts", () => {
    // p_1 = e^-90 = 8e-40 against log q_1 = -1e38: 0.08 of KL that the float32 exp dropped.
    const p = new Float32Array([0, -90, -1]),
      q = new Float32Array([0, -1e38, -1]);
    expectAgrees(true, (m) => m.klDivergence(p, q, { from: "logits" }));
  });

  it("float64 KL from logits: p_k = e^-720 (subnormal) where q_k = 0 is Infinity", () => {
    const p = new Float64Array([0, -720]),
      q = new Float64Array([0, -Infinity]);
    expect(ENGINES.js.klDivergence(p, q, { from: "logits" })).toBe(Infinity);
    expectAgrees(false, (m) => m.klDivergence(p, q, { from: "logits" }));
  });
});

describe("check: true with a Float32Array out", () => {
  it("compares float32 results with the float32 contract (float64 results 1e-16 apart can round to neighbouring float32s)", async () => {
    const { runSync } = await import("../src/measures/measure.js");
    const out = new Float32Array(1);
    // The two float32 neighbours of a fuzzed binaryCrossEntropy element (float64 inputs, out float32),
    // given by two engines whose kernel writes one of them.
    const engine = (name: "wasm-simd" | "js", v: number) => ({
      name,
      run: (c: { out: Float64Array }) => {
        c.out[0] = v;
      },
    });
    const prepared = {
      f32: false,
      check: true,
      plan() {
        const v = new Float64Array(1);
        return {
          calls: [{ out: v } as never],
          result: () => {
            out[0] = v[0];
            return out;
          },
        };
      },
    };
    expect(() =>
      runSync("f", prepared, engine("wasm-simd", 1.202269434928894) as never, engine("js", 1.2022695541381836) as never),
    ).not.toThrow();
    expect(out[0]).toBe(Math.fround(1.202269434928894)); // the engine's result is kept
  });
});

// Cases of the second 10^6-case run (seed 20261128, test/fuzz/RESULTS.md), replayed as the fuzzer
// does (the same inputs to the reference and to both modules).
const RUN2: Array<[string, string]> = [
  [
    "float32 binaryCrossEntropy, posWeight not a float32 number: the float64 kernel (bceInFloat32)",
    '{"measure":"binaryCrossEntropy","f32":true,"mixed":false,"seed":-2147483618,"scale":4.456562483975024e-11,"wide":false,"specials":0.2,"options":{"reduction":"none","out":"f32","base":1.5,"labelSmoothing":0.1,"weighted":false,"from":"logprobs","fromP":"probs","normalize":false,"near":0.0001,"ignoreIndex":"default","ignoreRate":0.1,"sampleWeight":false,"eps":1.1920929e-7,"topK":[3,1,11],"bceClasses":false,"bceWeight":"element","posWeight":"number","dense":true,"grad":"other","check":false,"zeroCopy":false},"rows":4,"classes":4589}',
  ],
  [
    "float32 entropy of probabilities, nearly one-hot or one class with normalize: the row redone in f64 (entropy below 0.2)",
    '{"measure":"entropy","f32":true,"mixed":false,"seed":-2026241705,"scale":1e-30,"wide":false,"specials":0.2,"options":{"reduction":"sum","out":null,"base":1.5,"labelSmoothing":0,"weighted":false,"from":"probs","fromP":"logprobs","normalize":true,"near":0.01,"ignoreIndex":1000000,"ignoreRate":0,"sampleWeight":true,"topK":[3],"bceClasses":false,"bceWeight":"element","posWeight":"number","dense":true,"grad":"other","check":false,"zeroCopy":true},"rows":4,"classes":1}',
  ],
  [
    "float32 entropy of probabilities, nearly one-hot or one class with normalize: the row redone in f64 (entropy below 0.2)",
    '{"measure":"entropy","f32":true,"mixed":false,"seed":11749223,"scale":7.046930689671453e+22,"wide":false,"specials":0,"options":{"reduction":"sum","out":"f64","base":0.5,"weighted":true,"from":"probs","fromP":"logprobs","normalize":true,"near":0.0001,"ignoreIndex":1000000,"ignoreRate":1,"sampleWeight":false,"topK":[7,10,8],"bceClasses":false,"bceWeight":"class","posWeight":"none","dense":false,"grad":"other","check":false,"zeroCopy":false},"rows":44,"classes":1}',
  ],
  [
    "float32 entropy of probabilities, nearly one-hot or one class with normalize: the row redone in f64 (entropy below 0.2)",
    '{"measure":"entropy","f32":true,"mixed":true,"seed":1154924173,"scale":0.9840111057611337,"wide":false,"specials":0,"options":{"reduction":"sum","out":null,"base":10,"weighted":true,"from":"probs","fromP":null,"normalize":true,"near":null,"ignoreIndex":-5,"ignoreRate":0.1,"sampleWeight":true,"eps":2.220446049250313e-16,"topK":[2,12,4],"bceClasses":true,"bceWeight":"element","posWeight":"class","dense":false,"grad":"other","check":false,"zeroCopy":false},"rows":19997,"classes":1}',
  ],
  [
    "float32 entropy of probabilities, nearly one-hot or one class with normalize: the row redone in f64 (entropy below 0.2)",
    '{"measure":"entropy","f32":true,"mixed":true,"seed":259267528,"scale":30,"wide":true,"specials":0.2,"options":{"reduction":"none","out":null,"base":1.5,"labelSmoothing":1.885658006631325e-140,"weighted":false,"from":"probs","fromP":"logprobs","normalize":true,"near":null,"ignoreIndex":"default","ignoreRate":0.5,"sampleWeight":true,"topK":[6,11],"bceClasses":true,"bceWeight":"class","posWeight":"number","dense":false,"grad":"none","check":false,"zeroCopy":false},"rows":9228,"classes":8}',
  ],
];

describe("second 10^6-case fuzz run", () => {
  for (const [why, json] of RUN2) {
    it(why, () => {
      const c = JSON.parse(json) as FuzzCase;
      for (const e of WASM) expect(differs(e, c), e).toBeNull();
    });
  }
});

/**
 * A fuzz case whose true value was recomputed in 120 digits (scripts/fuzz-exact.ts, .py): every
 * engine within the float64 contract of it, and the engines in agreement with the reference.
 */
function itMatchesExact(json: string, fn: "jensenShannon" | "klDivergence" | "klDivergenceWithGrad", exact: number) {
  const c = JSON.parse(json) as FuzzCase;
  it(`${fn}, ${c.rows} rows, seed ${c.seed}: every engine within the float64 contract of the exact ${exact.toPrecision(6)}`, () => {
    const call = makeCall(c);
    expect(call.fn).toBe(fn);
    for (const e of ["js", ...WASM] as const) {
      const r = (ENGINES[e][fn] as (...a: unknown[]) => unknown)(...call.args, call.options);
      const got = fn === "klDivergenceWithGrad" ? (r as { loss: number }).loss : (r as number);
      if (!agrees(got, exact, false)) expect.fail(`${e}: ${got}, exact ${exact} (${((got - exact) / exact).toExponential(2)} relative)`);
    }
    for (const e of WASM) expect(differs(e, c), e).toBeNull();
  });
}

describe("jensenShannon of near-equal distributions, float64 (jsTerm: one non-negative term per class)", () => {
  // Fuzz run 5 (test/fuzz/RESULTS.md): sums over thousands of rows of 3 classes. The exact values are
  // the rows' definition recomputed in 120 digits (npx tsx scripts/fuzz-exact.ts '<case>' > c.json;
  // python3 scripts/fuzz-exact.py c.json). With p log(p/m) + q log(q/m) as two logarithms, the
  // reference and the SIMD module were 1.3e-11 relative off in the first case and 7.3e-13 / 1.0e-12
  // absolute in the others, outside the float64 contract (1e-12 relative + 1e-13 absolute).
  const cases: Array<[string, number]> = [
    [
      '{"measure":"jensenShannon","f32":false,"mixed":false,"seed":1615534907,"scale":1.1350108156723144e-14,"wide":false,"specials":0,"options":{"reduction":"sum","out":null,"temperature":36.14098626396133,"labelSmoothing":2.575143019850301e-231,"weighted":true,"from":"logits","fromP":"probs","normalize":true,"near":0.3,"ignoreIndex":"default","ignoreRate":0.5,"sampleWeight":true,"topK":null,"bceClasses":false,"bceWeight":"element","posWeight":"none","dense":false,"grad":"other","check":false,"zeroCopy":false},"rows":18214,"classes":3}',
      0.034702637337117474066,
    ],
    [
      '{"measure":"jensenShannon","f32":false,"mixed":false,"seed":2147483627,"scale":1e-30,"wide":false,"specials":0,"options":{"reduction":"sum","out":"f64","base":10,"temperature":64.26877173170197,"labelSmoothing":0,"weighted":false,"from":"logits","fromP":"logits","normalize":true,"near":null,"ignoreIndex":-1,"ignoreRate":0.1,"sampleWeight":false,"topK":"K","bceClasses":true,"bceWeight":"class","posWeight":"class","dense":true,"grad":"other","check":false,"zeroCopy":true},"rows":7568,"classes":3}',
      4.4223067793358738187e-62,
    ],
    [
      '{"measure":"jensenShannon","f32":true,"mixed":true,"seed":-16,"scale":1e-30,"wide":false,"specials":0,"options":{"reduction":"sum","out":null,"base":2,"temperature":2,"labelSmoothing":0.000038267995784518324,"weighted":false,"from":"logits","fromP":"probs","normalize":true,"near":null,"ignoreIndex":"class","ignoreRate":0,"sampleWeight":true,"topK":[7],"bceClasses":true,"bceWeight":"class","posWeight":"class","dense":true,"grad":"other","check":false,"zeroCopy":true},"rows":3203,"classes":3}',
      6.3531777808748337944e-59,
    ],
  ];
  for (const [json, exact] of cases) itMatchesExact(json, "jensenShannon", exact);

  it("jsTerm: s g(u) / 4 on both sides of |u| = 1/2, at u = 0 and +-1, and NaN for invalid p or q", () => {
    // [p, q, (p log(p/m) + q log(q/m)) / 2 for these very doubles in 60 digits (mpmath)]: both
    // branches (|u| = 1/2 exactly takes the first), near-equal pairs where the two logarithms keep
    // no digit, subnormal-scale values. jsTerm's own rounding is a few ulp: held to 1e-15 relative.
    const exact = [
      [0.3, 0.1, 0.026162407188227387651],
      [0.1, 0.3, 0.026162407188227387651],
      [0.9, 0.05, 0.23130368671518891893],
      [1e-300, 3e-300, 2.6162407188227395842e-301],
      [0.5, 0.5000000000009095, 2.0679515313806883962e-25],
      [0.3000000001, 0.3, 4.1666673554753423881e-21],
      [0.2, 0.20000000018626451, 2.168404085467333251e-20],
      [0.6, 0.2999999999, 0.02548485553958287708],
    ];
    for (const [p, q, want] of exact) expect(Math.abs(jsTerm(p, q) - want), `${p}, ${q}`).toBeLessThanOrEqual(1e-15 * want);
    expect(jsTerm(0.25, 0.25)).toBe(0);
    expect(jsTerm(0, 0)).toBe(0);
    // One side 0: p log(p / (p/2)) / 2 = p ln(2) / 2.
    expect(Math.abs(jsTerm(0.4, 0) - 0.2 * Math.LN2)).toBeLessThanOrEqual(1e-15 * 0.2 * Math.LN2);
    expect(jsTerm(0, 0.4)).toBe(jsTerm(0.4, 0));
    for (const [p, q] of [
      [-0.1, 0.2],
      [0.2, -1e-300],
      [-0.1, -0.2],
      [NaN, 0.1],
      [0.1, NaN],
      [Infinity, 0.1],
      [Infinity, Infinity],
    ]) {
      expect(jsTerm(p, q), `${p}, ${q}`).toBeNaN();
    }
  });
});

describe("klDivergence of near-equal distributions, float64 (klPhiTerm: sum_k q_k phi(r_k), non-negative terms)", () => {
  // Fuzz runs 5 and 6 (test/fuzz/RESULTS.md). The exact values: scripts/fuzz-exact.ts and .py, as
  // above. With sum_k p_k (log p_k - log q_k) the reference was 1.2e-7 relative off in the first
  // case (KL ~1e-9 per row over 12,252 rows) and 1.4e-5 in the second.
  const cases: Array<[string, "klDivergenceWithGrad" | "klDivergence", number]> = [
    [
      '{"measure":"klDivergenceWithGrad","f32":false,"mixed":true,"seed":-16,"scale":7.568328950209766e-21,"wide":false,"specials":0,"options":{"reduction":"sum","out":null,"labelSmoothing":1,"weighted":true,"from":"logits","fromP":"logits","normalize":false,"near":0.0001,"ignoreIndex":"default","ignoreRate":0,"sampleWeight":true,"topK":[4],"bceClasses":false,"bceWeight":"element","posWeight":"none","dense":false,"grad":"none","check":false,"zeroCopy":false},"rows":12252,"classes":3}',
      "klDivergenceWithGrad",
      0.000013616479298807141744,
    ],
    [
      '{"measure":"klDivergence","f32":true,"mixed":true,"seed":58505220,"scale":1e-30,"wide":false,"specials":0,"options":{"reduction":"sum","out":"f32","base":2,"temperature":10.864256236170656,"labelSmoothing":1,"weighted":false,"from":"probs","fromP":"logprobs","normalize":false,"near":0.0001,"ignoreIndex":"K","ignoreRate":0,"sampleWeight":true,"topK":[2],"bceClasses":false,"bceWeight":"class","posWeight":"number","dense":true,"grad":"none","check":false,"zeroCopy":false},"rows":5377,"classes":3}',
      "klDivergence",
      7.2036518668962362121e-8,
    ],
  ];
  for (const [json, fn, exact] of cases) itMatchesExact(json, fn, exact);

  it("klPhiTerm: q phi(r) from the series (|r| <= 1/2) and as p (r - 1) + q beyond", () => {
    // [r, phi(r) = r e^r - e^r + 1 in 60 digits (mpmath)]; p = e^r (rounded), q = 1.
    const exact = [
      [1e-8, 5.0000000333333336676e-17],
      [-3e-5, 4.4999100010124921281e-10],
      [0.01, 0.000050334586673623035359],
      [-0.2, 0.017523096306421771414],
      [0.5, 0.17563936464993592658],
      [-0.5, 0.090204010431049864594],
      [0.5000001, 0.1756394470860117836],
      [-0.7, 0.15580498355460380956],
      [2, 8.3890560989306502272],
      [-5, 0.95957231800548719742],
      [30, 309907762864210.40226],
    ];
    // The series: a few ulp. Beyond |r| = 1/2, p's own rounding (0.5 ulp of e^r) times |r - 1| p / phi(r), up to 11 near r = -0.5.
    for (const [r, want] of exact) {
      const tol = Math.abs(r) <= 0.5 ? 1e-15 : 4e-15;
      expect(Math.abs(klPhiTerm(Math.exp(r), 1, r) - want), `r = ${r}`).toBeLessThanOrEqual(tol * want);
    }
    expect(klPhiTerm(1, 1, 0)).toBe(0);
    expect(klPhiTerm(0.5, 0, Infinity)).toBe(Infinity);
    expect(klPhiTerm(0.5, 0.2, NaN)).toBeNaN();
  });
});

describe("klDivergence of float64 logits, a student near its teacher (klLogitsF64's exact row)", () => {
  it("every row length and tail, -inf classes, temperatures: each row within the contract of the reference", () => {
    const u = rng(11);
    for (const K of [1, 2, 3, 4, 5, 7, 16, 33, 64, 65, 127, 1000, 4099]) {
      for (const near of [0.3, 1e-3, 1e-7]) {
        const rows = 3,
          x = new Float64Array(rows * K),
          y = new Float64Array(rows * K);
        for (let i = 0; i < x.length; i++) {
          x[i] = 3 * normal(u);
          y[i] = x[i] + near * normal(u);
        }
        if (K > 2) {
          x[1] = -Infinity; // p_1 = 0 against q_1 > 0: row 0
          x[K + 2] = y[K + 2] = -Infinity; // both 0: row 1
        }
        for (const temperature of [1, 0.5, 4]) {
          expectAgrees(false, (m) => m.klDivergence(x, y, { from: "logits", classes: K, temperature, reduction: "none" }));
        }
      }
    }
  });
});
