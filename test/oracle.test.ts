// Every oracle vector (PyTorch 1.13, SciPy 1.10, scikit-learn 1.2.1; fixtures/oracle/README.md) through
// every engine, within the accuracy contract. Out of scope here: the elementwise scipy.special
// ops, SciPy's column-wise axis=0 on 2-D input, and gradients.json (the gradient functions).
import { describe, expect, it } from "vitest";
import { ENGINES, type Measures } from "./helpers/engines.js";
import { loadCases, expectClose, type Case } from "./helpers/oracle.js";
import { FAMILIES, SKIPPED, ZERO_TIMES_INF, coinCases, type Mapped } from "./helpers/oracle-cases.js";

function check(m: Measures, mapped: Mapped, c: Case, convention: boolean): void {
  const got = mapped.run(m);
  const gotArr = typeof got === "number" ? [got] : Array.from(got);
  const wantArr = typeof mapped.want === "number" ? [mapped.want] : mapped.want;
  expect(gotArr.length, `${c.id}: result length`).toBe(wantArr.length);
  let reference: number[] | null = null;
  for (let i = 0; i < wantArr.length; i++) {
    if (convention && Number.isNaN(wantArr[i])) {
      reference ??= ((r) => (typeof r === "number" ? [r] : Array.from(r)))(mapped.run(ENGINES.js));
      expect(reference[i], `${c.id}[${i}]: 0 log 0 = 0 gives a number where PyTorch's 0 * -inf gives NaN`).not.toBeNaN();
      expectClose(gotArr[i], reference[i], c.dtype, `${c.id}[${i}] vs reference`);
    } else {
      expectClose(gotArr[i], wantArr[i], c.dtype, `${c.id}[${i}]`);
    }
  }
}

for (const [name, m] of Object.entries(ENGINES)) {
  describe(`oracle on ${name}`, () => {
    for (const [file, map] of FAMILIES) {
      describe(file, () => {
        for (const c of loadCases("oracle", file)) {
          const mapped = map(c);
          if (mapped === null) continue;
          const skip = SKIPPED[c.id];
          if (skip !== undefined) {
            it.skip(`${c.id} (${skip})`, () => {});
            continue;
          }
          it(c.id, () => check(m, mapped, c, ZERO_TIMES_INF.has(c.id)));
        }
      });
    }
    describe("coin.json", () => {
      for (const c of loadCases("oracle", "coin.json")) {
        for (const [what, mapped] of coinCases(c)) it(`${c.id} ${what}`, () => check(m, mapped, c, false));
      }
    });
  });
}

describe("oracle coverage", () => {
  it("maps every case of the in-scope files", () => {
    let mapped = 0;
    for (const [file, map] of FAMILIES) for (const c of loadCases("oracle", file)) if (map(c) !== null) mapped++;
    // 141 + 38 + 38 cases, 23 of the 32 SciPy cases (8 elementwise, 1 column-wise), 47 + 14.
    expect(mapped).toBe(141 + 38 + 38 + 23 + 47 + 14);
  });
});
