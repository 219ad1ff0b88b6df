// Numbers shared with the WebAssembly module (assembly/kernels/common.ts): what a row holds, and
// which measure a pair kernel computes. The reference and the kernel table both read them here.
export const LOGITS = 0;
export const LOGPROBS = 1;
export const PROBS = 2;
export type Mode = typeof LOGITS | typeof LOGPROBS | typeof PROBS;

export const OP_CE = 0;
export const OP_KL = 1;
export const OP_JS = 2;
export type PairOp = typeof OP_CE | typeof OP_KL | typeof OP_JS;
