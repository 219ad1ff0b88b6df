// crossEntropyWithGrad and klDivergenceWithGrad against PyTorch autograd (fixtures/oracle/gradients.json)
// on every engine, and against finite differences of the measures themselves.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ENGINES } from "./helpers/engines.js";
import { loadCases, floats, expectClose, type Case } from "./helpers/oracle.js";

const grads = (name: keyof typeof ENGINES) => ENGINES[name];

function run(g: ReturnType<typeof grads>, c: Case) {
  const K = c.shape[1];
  if (c.op === "distill_kl_grad") {
    const teacher = floats(c.inputs.teacher_logits, c.dtype),
      student = floats(c.inputs.student_logits, c.dtype);
    return g.klDivergenceWithGrad(teacher, student, { classes: K, temperature: c.options.temperature as number });
  }
  const x = floats(c.inputs.input, c.dtype);
  const target = c.input_dtypes?.target === "int64" ? Int32Array.from(c.inputs.target) : floats(c.inputs.target, c.dtype);
  return g.crossEntropyWithGrad(target, x, {
    classes: K,
    reduction: c.options.reduction as "mean" | "sum",
    ignoreIndex: c.options.ignore_index as number,
    labelSmoothing: c.options.label_smoothing as number,
    ...(c.inputs.weight ? { weight: floats(c.inputs.weight, c.dtype) } : {}),
  });
}

const cases = loadCases("oracle", "gradients.json");

for (const engine of ["wasm-simd", "wasm", "js"] as const) {
  describe(`gradients on ${engine} vs PyTorch autograd`, () => {
    for (const c of cases) {
      it(c.id, () => {
        const { loss, grad } = run(grads(engine), c);
        expectClose(loss, c.expected as number, c.dtype, `${c.id} loss`);
        const want = (c as unknown as { expected_grad: number[] }).expected_grad;
        expect(grad.length).toBe(want.length);
        want.forEach((w, i) => {
          expectClose(grad[i], w, c.dtype, `${c.id} grad[${i}]`);
        });
      });
    }
  });
}

describe("gradients by finite differences", () => {
  const m = ENGINES.js;
  const g = grads("wasm-simd");
  it("crossEntropyWithGrad and klDivergenceWithGrad are the derivatives of crossEntropy and klDivergence", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 9 }),
        fc.integer(),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0.5, max: 4, noNaN: true }),
        (rows, classes, seed, ls, T) => {
          let s = seed >>> 0;
          const u = () => {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            return s / 4294967296;
          };
          const x = Float64Array.from({ length: rows * classes }, () => 6 * u() - 3);
          const y = Float64Array.from({ length: rows * classes }, () => 6 * u() - 3);
          const t = Int32Array.from({ length: rows }, () => Math.floor(u() * classes));
          const w = Float64Array.from({ length: classes }, () => 0.5 + u());
          const opts = { classes, labelSmoothing: ls, weight: w };
          const { loss, grad } = g.crossEntropyWithGrad(t, x, opts);
          expect(Math.abs(loss - m.crossEntropy(t, x, opts))).toBeLessThanOrEqual(1e-12 * Math.abs(loss) + 1e-13);
          const kl = g.klDivergenceWithGrad(y, x, { classes, temperature: T });
          const h = 1e-6;
          for (let i = 0; i < x.length; i++) {
            const xp = x.slice(),
              xm = x.slice();
            xp[i] += h;
            xm[i] -= h;
            const fd = (m.crossEntropy(t, xp, opts) - m.crossEntropy(t, xm, opts)) / (2 * h);
            expect(Math.abs(grad[i] - fd)).toBeLessThanOrEqual(1e-6);
            const fdk =
              (m.klDivergence(y, xp, { classes, from: "logits", temperature: T }) -
                m.klDivergence(y, xm, { classes, from: "logits", temperature: T })) /
              (2 * h);
            expect(Math.abs(kl.grad[i] - fdk)).toBeLessThanOrEqual(1e-6);
          }
        },
      ),
      { numRuns: 40, seed: 3 },
    );
  });

  it("writes into a given grad array, also one in WebAssembly memory, and checks engine against reference", () => {
    const x = new Float32Array([1, 2, 3, 0, -1, 5]);
    const out = new Float32Array(6);
    const r = g.crossEntropyWithGrad(new Int32Array([2, 1]), x, { grad: out, check: true });
    expect(r.grad).toBe(out);
    expect(out.some((v) => v !== 0)).toBe(true);
    const mem = ENGINES["wasm-simd"].engine as unknown as {
      memory: { allocate: (c: Float32ArrayConstructor, n: number) => { view: Float32Array; free(): void } };
    };
    const G = mem.memory.allocate(Float32Array, 6);
    g.crossEntropyWithGrad(new Int32Array([2, 1]), x, { grad: G.view });
    expect(Array.from(G.view)).toEqual(Array.from(out));
    G.free();
    expect(() => g.crossEntropyWithGrad(new Int32Array([2, 1]), x, { reduction: "none" as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
    expect(() => g.crossEntropyWithGrad(new Int32Array([2, 1]), x, { grad: new Float32Array(5) })).toThrow(
      expect.objectContaining({ code: "SHAPE_MISMATCH" }),
    );
  });
});
