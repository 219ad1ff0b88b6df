// The battery of verify.ts run on the reference: its input blocks, its plan and the reference's
// results, in the order verifyModule() compares them. scripts/battery.ts stores them at build time;
// test/verify.test.ts checks they are current.
import { CASES, GRAD_SCALE, ROWS, batteryInputs, caseCall, layout, plan, encodeCalls, encodeLayout } from "./verify.js";

/** One input block: float32 (1) or float64 (0), classes, byte offset, x y p q values, class indices. */
export type Block = [f32: number, classes: number, offset: number, floats: number[], t: number[]];

export interface ReferenceBattery {
  /** The memory image of the inputs (and gradient scales), as verifyModule() lays it out. */
  image: Uint8Array;
  blocks: Block[];
  calls: number[];
  layout: number[];
  /** Where the gradient calls' results go, which they first read as each row's scale. */
  gradOut: number[];
  expected: Float64Array;
}

export function referenceBattery(): ReferenceBattery {
  const P = plan();
  const image = new Uint8Array(P.size);
  const buffer = image.buffer;
  const blocks: Block[] = [];
  for (const [f32, classes, at] of P.blocks) {
    const i = batteryInputs(f32, classes),
      l = layout(f32, classes);
    const F = f32 ? Float32Array : Float64Array;
    for (const key of ["x", "y", "p", "q"] as const) new F(buffer, at + l[key], i[key].length).set(i[key]);
    new Int32Array(buffer, at + l.t, ROWS).set(i.t);
    blocks.push([f32 ? 1 : 0, classes, at, [...i.x, ...i.y, ...i.p, ...i.q], Array.from(i.t)]);
  }
  const values = new Float64Array(P.values);
  const grad32 = new Float32Array(P.grad32Count),
    grad64 = new Float64Array(P.grad64Count);
  const scale = Float64Array.from(GRAD_SCALE);
  for (const c of P.calls) {
    const K = c.classes,
      R = ROWS,
      i = batteryInputs(c.f32, K);
    const F = c.f32 ? Float32Array : Float64Array;
    const inputs = { x: F.from(i.x), y: F.from(i.y), p: F.from(i.p), q: F.from(i.q) };
    const out = values.subarray((c.out - P.out) / 8, (c.out - P.out) / 8 + c.values);
    const grad =
      c.grad < 0
        ? undefined
        : c.f32
          ? grad32.subarray((c.grad - P.grad32) / 4, (c.grad - P.grad32) / 4 + R * K)
          : grad64.subarray((c.grad - P.grad64) / 8, (c.grad - P.grad64) / 8 + R * K);
    if (grad !== undefined) new Float64Array(buffer, c.out, R).set(scale); // read by the kernel, overwritten with the losses
    const call = caseCall(CASES[c.kernel], c.f32, K, inputs, i.t, out, grad, scale);
    call.kernel.reference(call);
  }
  const expected = new Float64Array(P.values + P.grad32Count + P.grad64Count);
  expected.set(values);
  expected.set(grad32, P.values);
  expected.set(grad64, P.values + P.grad32Count);
  const gradOut = P.calls.filter((c) => c.grad >= 0).map((c) => c.out);
  return { image: image.slice(0, P.grad32), blocks, calls: encodeCalls(P), layout: encodeLayout(P), gradOut, expected };
}
