// Shared constants and scalar row helpers of the kernels. The scalar paths are generic over the
// element type T (f32 or f64) and compute in f64; they are the whole engine of the scalar module,
// the f64 engine of both modules, and the path of the rarer mode combinations.

/** What a float row holds. Same numbers as the TypeScript side (src/engine/abi.ts). */
export const LOGITS: i32 = 0;
export const LOGPROBS: i32 = 1;
export const PROBS: i32 = 2;

/** Two-input measures of pair_rows. */
export const OP_CE: i32 = 0;
export const OP_KL: i32 = 1;
export const OP_JS: i32 = 2;

// @ts-ignore: decorator
@inline
export function ld<T>(ptr: usize, i: i32): f64 {
  return <f64>load<T>(ptr + (<usize>i << alignof<T>()));
}

/** Largest element of a row; NaN if any is NaN; -inf for an all -inf row. */
export function rowMax<T>(ptr: usize, n: i32): f64 {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = max(m, ld<T>(ptr, i));
  return m;
}

/** sum_k exp((x_k - m) * invT) in f64. */
export function rowSumExp<T>(ptr: usize, n: i32, m: f64, invT: f64): f64 {
  let s = 0.0;
  for (let i = 0; i < n; i++) s += Math.exp((ld<T>(ptr, i) - m) * invT);
  return s;
}

export function rowSum<T>(ptr: usize, n: i32): f64 {
  let s = 0.0;
  for (let i = 0; i < n; i++) s += ld<T>(ptr, i);
  return s;
}

/**
 * One side of a two-input measure, prepared for a row: afterwards
 *   log p_k = (x_k - sideM) * sideInvT - sideLogS, p_k = exp((x_k - sideM) * sideInvT) / sideS
 * for LOGITS and LOGPROBS, and
 *   log p_k = log x_k - sideLogS, p_k = x_k / sideS
 * for PROBS. Without `normalize`, LOGPROBS and PROBS rows are used as given.
 */
// @ts-ignore: decorator
@unmanaged
export class Side {
  m: f64 = 0;
  invT: f64 = 1;
  s: f64 = 1;
  logS: f64 = 0;
}

export function prepareSide<T>(side: Side, ptr: usize, n: i32, mode: i32, invT: f64, normalize: bool): void {
  side.m = 0; side.invT = 1; side.s = 1; side.logS = 0;
  if (mode == PROBS) {
    if (normalize) { side.s = rowSum<T>(ptr, n); side.logS = Math.log(side.s); }
  } else if (mode == LOGITS || normalize) {
    side.invT = mode == LOGITS ? invT : 1.0;
    side.m = rowMax<T>(ptr, n);
    side.s = rowSumExp<T>(ptr, n, side.m, side.invT);
    side.logS = Math.log(side.s);
  }
}

// @ts-ignore: decorator
@inline
export function sideLogP(side: Side, mode: i32, x: f64): f64 {
  return mode == PROBS ? Math.log(x) - side.logS : (x - side.m) * side.invT - side.logS;
}

// @ts-ignore: decorator
@inline
export function sideP(side: Side, mode: i32, x: f64): f64 {
  return mode == PROBS ? x / side.s : Math.exp((x - side.m) * side.invT) / side.s;
}

// Two Sides in static memory (memory.data lies below __heap_base, which the TypeScript side owns;
// nothing here may allocate on the heap).
export const SIDE_P = changetype<Side>(memory.data(offsetof<Side>(), 8));
export const SIDE_Q = changetype<Side>(memory.data(offsetof<Side>(), 8));
