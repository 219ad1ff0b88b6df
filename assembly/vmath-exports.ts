// A test-only module (wasm/test/xent.vmath.wasm, built with the SIMD module's options but not
// shipped): the vector exp and log of math/vmath.ts applied to arrays, for their accuracy tests
// (test/vmath.test.ts, test/vmath64.test.ts). WebAssembly floating point is deterministic (no
// contraction, no fast-math), so these functions compute bit for bit what the kernels' inlined
// copies compute. Kept out of xent.simd.wasm, which they would make 0.3 KB (gzipped) larger.
import { expf4, logf4, logf4Normal, expf64x2Low } from "./math/vmath";

/** First free byte after the module's static data. */
export function heap_base(): usize {
  return __heap_base;
}

/** The vector exp / log applied to n float32 values (for their accuracy tests); SIMD build only. */
export function vexp_f32(ptr: usize, n: i32, outPtr: usize): i32 {
  for (let i = 0; i < n; i += 4) v128.store(outPtr + (<usize>i << 2), expf4(v128.load(ptr + (<usize>i << 2))));
  return 1;
}

export function vlog_f32(ptr: usize, n: i32, outPtr: usize): i32 {
  for (let i = 0; i < n; i += 4) v128.store(outPtr + (<usize>i << 2), logf4(v128.load(ptr + (<usize>i << 2))));
  return 1;
}

/** logf4Normal (the log of OP3's fast row, for lanes known to be positive normal floats) over n values. */
export function vlog_normal_f32(ptr: usize, n: i32, outPtr: usize): i32 {
  for (let i = 0; i < n; i += 4) v128.store(outPtr + (<usize>i << 2), logf4Normal(v128.load(ptr + (<usize>i << 2))));
  return 1;
}

/** The float64 vector exp (x <= 0) applied to n float64 values (n even); SIMD build only. */
export function vexp_f64(ptr: usize, n: i32, outPtr: usize): i32 {
  for (let i = 0; i < n; i += 2) v128.store(outPtr + (<usize>i << 3), expf64x2Low(v128.load(ptr + (<usize>i << 3))));
  return 1;
}

