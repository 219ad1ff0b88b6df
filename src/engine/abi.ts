// Numbers shared with the module (assembly/kernels/common.ts): what a row holds, which measure.
export const LOGITS = 0;
export const LOGPROBS = 1;
export const PROBS = 2;
export type Mode = typeof LOGITS | typeof LOGPROBS | typeof PROBS;

export const OP_CE = 0;
export const OP_KL = 1;
export const OP_JS = 2;
export type PairOp = typeof OP_CE | typeof OP_KL | typeof OP_JS;

/** The exports of the WebAssembly module (assembly/index.ts). */
export interface ModuleExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  simd(): number;
  ce_index_logits_f32(xPtr: number, tPtr: number, rows: number, classes: number, outPtr: number): void;
  ce_index_logits_f64(xPtr: number, tPtr: number, rows: number, classes: number, outPtr: number): void;
  pair_rows_f32(op: number, pPtr: number, qPtr: number, wPtr: number, rows: number, classes: number,
    pMode: number, qMode: number, invT: number, normalize: number, a: number, b: number, eps: number, outPtr: number): void;
  pair_rows_f64(op: number, pPtr: number, qPtr: number, wPtr: number, rows: number, classes: number,
    pMode: number, qMode: number, invT: number, normalize: number, a: number, b: number, eps: number, outPtr: number): void;
  entropy_rows_f32(pPtr: number, rows: number, classes: number, mode: number, invT: number, normalize: number, outPtr: number): void;
  entropy_rows_f64(pPtr: number, rows: number, classes: number, mode: number, invT: number, normalize: number, outPtr: number): void;
  bce_f32(yPtr: number, xPtr: number, wPtr: number, pwPtr: number, n: number, classes: number, col0: number, mode: number, outPtr: number): void;
  bce_f64(yPtr: number, xPtr: number, wPtr: number, pwPtr: number, n: number, classes: number, col0: number, mode: number, outPtr: number): void;
  evaluate_rows_f32(xPtr: number, tPtr: number, rows: number, classes: number, outPtr: number): void;
  evaluate_rows_f64(xPtr: number, tPtr: number, rows: number, classes: number, outPtr: number): void;
  ce_grad_f32(xPtr: number, tPtr: number, yPtr: number, wPtr: number, rows: number, classes: number, alpha: number, beta: number, scalePtr: number, gradPtr: number): void;
  ce_grad_f64(xPtr: number, tPtr: number, yPtr: number, wPtr: number, rows: number, classes: number, alpha: number, beta: number, scalePtr: number, gradPtr: number): void;
  kl_grad_f32(xPtr: number, yPtr: number, rows: number, classes: number, invT: number, scalePtr: number, gradPtr: number): void;
  kl_grad_f64(xPtr: number, yPtr: number, rows: number, classes: number, invT: number, scalePtr: number, gradPtr: number): void;
  /** Runs the verification battery's n planned calls (six i32 each at callsPtr); absent from modules built before it. */
  verify_battery?(callsPtr: number, n: number, base: number): void;
}
