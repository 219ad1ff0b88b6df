// The reference's results on init()'s battery, in the order verifyModule() reads them.
import { referenceEngine as ref } from "../reference/rows.js";
import { LOGITS, PROBS, OP_CE, OP_KL, OP_JS } from "./abi.js";
import { CALLS, CLASSES, ROWS, batteryInputs } from "./verify.js";

export function referenceBattery(): Float64Array[] {
  const results: Float64Array[] = [];
  for (const f32 of [true, false]) {
    for (const K of CLASSES) {
      const i = batteryInputs(f32, K);
      const F = f32 ? Float32Array : Float64Array;
      const x = F.from(i.x), y = F.from(i.y), p = F.from(i.p), q = F.from(i.q);
      const R = ROWS;
      const runs: Array<(o: Float64Array) => void> = [
        (o) => ref.ceIndex(x, i.t, R, K, LOGITS, 0, o),
        (o) => ref.pair(OP_CE, p, x, null, R, K, PROBS, LOGITS, 1, false, 0.9, 0.1 / K, 0, o),
        (o) => ref.pair(OP_CE, p, q, null, R, K, PROBS, PROBS, 1, false, 1, 0, 0, o),
        (o) => ref.pair(OP_KL, x, y, null, R, K, LOGITS, LOGITS, 0.5, false, 0, 0, 0, o),
        (o) => ref.pair(OP_KL, p, q, null, R, K, PROBS, PROBS, 1, true, 0, 0, 0, o),
        (o) => ref.pair(OP_JS, p, q, null, R, K, PROBS, PROBS, 1, false, 0, 0, 0, o),
        (o) => ref.entropy(q, R, K, PROBS, 1, false, o),
        (o) => ref.entropy(x, R, K, LOGITS, 1, false, o),
        (o) => ref.bce(p, x, null, null, R * K, 1, LOGITS, o),
      ];
      runs.forEach((run, c) => {
        const out = new Float64Array(CALLS[c][1](K));
        run(out);
        results.push(out);
      });
    }
  }
  return results;
}
