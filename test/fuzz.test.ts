// The quick differential fuzz run of `npm test` (the long one is `npm run fuzz`): see test/fuzz/differential.ts.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fuzzCase, runCase } from "./fuzz/differential.js";

for (const engine of ["wasm-simd", "wasm"] as const) {
  describe(`differential fuzzing, ${engine} vs reference`, () => {
    it("agrees on 400 random cases, and refuses none of them", () => {
      let refused = 0;
      fc.assert(
        fc.property(fuzzCase, (c) => {
          const o = runCase(c, [engine]);
          if (o.refused) refused++;
          expect(o.failures.map((f) => `${f.engine}: ${f.why}`).join("; "), JSON.stringify(c)).toBe("");
        }),
        { numRuns: 400, seed: 42 + (engine === "wasm" ? 1 : 0) },
      );
      // Every case the arbitrary makes is a valid call: none is wasted on argument checks.
      expect(refused).toBe(0);
    });
  });
}
