// Every bad input of the contract gives its XentError code, before any work, with a message that
// names the argument; and the next valid call still gives the right answer.
import { describe, expect, it } from "vitest";
import { ENGINES } from "./helpers/engines.js";
import { XentError } from "../src/errors.js";

const logits = new Float32Array([1, 2, 3, 4, 5, 6]);
const labels = new Int32Array([0, 2]);
const p = [0.5, 0.5],
  q = [0.9, 0.1];

type Row = [string, string, RegExp, (m: (typeof ENGINES)["js"]) => unknown];
const TABLE: Row[] = [
  ["prediction not an array", "INVALID_TYPE", /prediction/, (m) => m.crossEntropy(labels, "x" as never)],
  ["prediction an object", "INVALID_TYPE", /prediction/, (m) => m.crossEntropy(labels, {} as never)],
  ["number[] holding a string", "INVALID_TYPE", /element 1/, (m) => m.klDivergence([0.5, "a" as never], q)],
  ["target a string", "INVALID_TYPE", /target/, (m) => m.crossEntropy("0" as never, logits)],
  ["target number[] holding null", "INVALID_TYPE", /target/, (m) => m.crossEntropy([0, null as never], logits)],
  ["arguments swapped", "ARGUMENT_ORDER", /truth comes first/, (m) => m.crossEntropy(logits, labels as never)],
  ["classes 0", "INVALID_CLASSES", /classes/, (m) => m.crossEntropy(labels, logits, { classes: 0 })],
  ["classes negative", "INVALID_CLASSES", /classes/, (m) => m.klDivergence(p, q, { classes: -2 })],
  ["classes fractional", "INVALID_CLASSES", /classes/, (m) => m.entropy(p, { classes: 1.5 })],
  ["classes NaN", "INVALID_CLASSES", /classes/, (m) => m.entropy(p, { classes: NaN })],
  ["classes a string", "INVALID_CLASSES", /classes/, (m) => m.entropy(p, { classes: "2" as never })],
  [
    "length not a multiple of classes",
    "SHAPE_MISMATCH",
    /multiple/,
    (m) => m.klDivergence([0.2, 0.3, 0.5], [0.2, 0.3, 0.5], { classes: 2 }),
  ],
  ["p and q of different lengths", "SHAPE_MISMATCH", /length/, (m) => m.klDivergence(p, [0.2, 0.3, 0.5])],
  ["index targets not fitting the prediction", "SHAPE_MISMATCH", /rows/, (m) => m.crossEntropy(new Int32Array([0, 1, 2, 0]), logits)],
  ["index targets and explicit classes disagree", "SHAPE_MISMATCH", /classes = 4/, (m) => m.crossEntropy(labels, logits, { classes: 4 })],
  ["dense target of the wrong length", "SHAPE_MISMATCH", /length/, (m) => m.crossEntropy(new Float32Array(5), logits)],
  ["empty input without classes", "SHAPE_MISMATCH", /empty/, (m) => m.entropy([])],
  ["class index out of range", "INVALID_INDEX", /target\[1\] = 3/, (m) => m.crossEntropy(new Int32Array([0, 3]), logits)],
  ["class index negative", "INVALID_INDEX", /-1/, (m) => m.crossEntropy(new Int32Array([-1, 0]), logits)],
  ["class index fractional", "INVALID_INDEX", /1\.5/, (m) => m.crossEntropy([0, 1.5], logits, { classes: 3 })],
  ["class index NaN", "INVALID_INDEX", /NaN/, (m) => m.crossEntropy([0, NaN], logits, { classes: 3 })],
  ["weight of the wrong length", "INVALID_WEIGHT", /weight must have length 3/, (m) => m.crossEntropy(labels, logits, { weight: [1, 2] })],
  ["weight not an array", "INVALID_WEIGHT", /weight/, (m) => m.crossEntropy(labels, logits, { weight: 2 as never })],
  ["sampleWeight of the wrong length", "INVALID_WEIGHT", /sampleWeight/, (m) => m.crossEntropy(labels, logits, { sampleWeight: [1] })],
  [
    "posWeight of the wrong length",
    "INVALID_WEIGHT",
    /posWeight/,
    (m) => m.binaryCrossEntropy([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5], { classes: 2, posWeight: [1, 2, 3] }),
  ],
  ["unknown option", "UNKNOWN_OPTION", /"temprature"/, (m) => m.klDivergence(p, q, { temprature: 2 } as never)],
  [
    "option only another measure takes",
    "UNKNOWN_OPTION",
    /"labelSmoothing"/,
    (m) => m.klDivergence(p, q, { labelSmoothing: 0.1 } as never),
  ],
  ["options not an object", "INVALID_TYPE", /options/, (m) => m.entropy(p, 3 as never)],
  ["unknown reduction", "INVALID_OPTION", /reduction/, (m) => m.entropy(p, { reduction: "batchmean" as never })],
  ["unknown from", "INVALID_OPTION", /from/, (m) => m.entropy(p, { from: "softmax" as never })],
  ["unknown from side", "INVALID_OPTION", /side "r"/, (m) => m.klDivergence(p, q, { from: { r: "logits" } as never })],
  ["labelSmoothing above 1", "INVALID_OPTION", /labelSmoothing/, (m) => m.crossEntropy(labels, logits, { labelSmoothing: 1.5 })],
  ["labelSmoothing negative", "INVALID_OPTION", /labelSmoothing/, (m) => m.crossEntropy(labels, logits, { labelSmoothing: -0.1 })],
  ["ignoreIndex not an integer", "INVALID_OPTION", /ignoreIndex/, (m) => m.crossEntropy(labels, logits, { ignoreIndex: 0.5 })],
  ["temperature 0", "INVALID_OPTION", /temperature/, (m) => m.klDivergence(logits, logits, { from: "logits", temperature: 0 })],
  ["temperature negative", "INVALID_OPTION", /temperature/, (m) => m.klDivergence(logits, logits, { from: "logits", temperature: -1 })],
  ["temperature with probabilities", "INVALID_OPTION", /logits/, (m) => m.klDivergence(p, q, { temperature: 2 })],
  ["base 1", "INVALID_OPTION", /base/, (m) => m.entropy(p, { base: 1 })],
  ["base 0", "INVALID_OPTION", /base/, (m) => m.entropy(p, { base: 0 })],
  ["base negative", "INVALID_OPTION", /base/, (m) => m.entropy(p, { base: -2 })],
  ["eps without probabilities", "INVALID_OPTION", /eps/, (m) => m.crossEntropy(labels, logits, { eps: 1e-7 })],
  ["eps out of range", "INVALID_OPTION", /eps/, (m) => m.crossEntropy(labels, logits, { from: "probs", eps: 0.7 })],
  ["normalize not a boolean", "INVALID_OPTION", /normalize/, (m) => m.entropy(p, { normalize: 1 as never })],
  ["out with a reduction other than none", "INVALID_OPTION", /out/, (m) => m.entropy(p, { out: new Float64Array(1) })],
  ["out of the wrong length", "SHAPE_MISMATCH", /out/, (m) => m.entropy(p, { reduction: "none", out: new Float64Array(2) })],
  ["out not a float array", "INVALID_TYPE", /out/, (m) => m.entropy(p, { reduction: "none", out: [0] as never })],
  ["binary from logprobs", "INVALID_OPTION", /from/, (m) => m.binaryCrossEntropy([1], [0.5], { from: "logprobs" as never })],
];

for (const [name, m] of Object.entries(ENGINES)) {
  describe(`errors on ${name}`, () => {
    for (const [what, code, message, call] of TABLE) {
      it(`${what}: ${code}`, () => {
        let thrown: unknown;
        try {
          call(m);
        } catch (e) {
          thrown = e;
        }
        expect(thrown, what).toBeInstanceOf(XentError);
        expect((thrown as XentError).code).toBe(code);
        expect((thrown as XentError).message).toMatch(message);
        // The module stays usable: the next valid call is right.
        expect(m.crossEntropy(labels, logits)).toBeCloseTo(
          (Math.log(Math.exp(-2) + Math.exp(-1) + 1) + 2 + Math.log(Math.exp(-2) + Math.exp(-1) + 1)) / 2,
          6,
        );
      });
    }

    it("a detached ArrayBuffer is refused, not read as empty", () => {
      const a = new Float64Array([0.5, 0.5]);
      structuredClone(a.buffer, { transfer: [a.buffer] });
      expect(() => m.entropy(a)).toThrow(expect.objectContaining({ code: "INVALID_TYPE", message: expect.stringMatching(/detached/) }));
    });

    it("values inside arrays are data, not errors", () => {
      expect(m.klDivergence([0.5, 0.5], [1, 0])).toBe(Infinity);
      expect(m.entropy([NaN, 1])).toBeNaN();
      expect(m.entropy([-0.5, 1.5])).toBeNaN();
      expect(m.crossEntropy(new Int32Array([-100, -100]), logits)).toBeNaN(); // no row counts: mean 0/0
      expect(m.crossEntropy(new Int32Array([-100, -100]), logits, { reduction: "sum" })).toBe(0);
    });
  });
}
