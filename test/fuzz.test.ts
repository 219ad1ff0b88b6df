// The quick differential fuzz run of `npm test` (the long one is `npm run fuzz`): see test/fuzz/differential.ts.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fuzzCase, differs } from "./fuzz/differential.js";

for (const engine of ["wasm-simd", "wasm"] as const) {
  describe(`differential fuzzing, ${engine} vs reference`, () => {
    it("agrees on 400 random cases", () => {
      fc.assert(fc.property(fuzzCase, (c) => {
        const why = differs(engine, c);
        expect(why, JSON.stringify(c)).toBeNull();
      }), { numRuns: 400, seed: 42 + (engine === "wasm" ? 1 : 0) });
    });
  });
}
