// A test-only module: thin exports of the focal kernels (kernels/focal.ts), for test/focal-rows.test.ts,
// which compiles it twice (with and without SIMD) before the main module exports these kernels.
import { focalRows, binaryFocal } from "../kernels/focal";

/** First free byte after the module's static data. */
export function heap_base(): usize {
  return __heap_base;
}

/** 1 when this build uses SIMD. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

export function focal_rows_f32(tPtr: usize, yPtr: usize, qPtr: usize, vPtr: usize, rows: i32, classes: i32,
                               qMode: i32, gamma: f64, a: f64, b: f64, outPtr: usize): void {
  focalRows<f32>(tPtr, yPtr, qPtr, vPtr, rows, classes, qMode, gamma, a, b, outPtr);
}

export function focal_rows_f64(tPtr: usize, yPtr: usize, qPtr: usize, vPtr: usize, rows: i32, classes: i32,
                               qMode: i32, gamma: f64, a: f64, b: f64, outPtr: usize): void {
  focalRows<f64>(tPtr, yPtr, qPtr, vPtr, rows, classes, qMode, gamma, a, b, outPtr);
}

export function binary_focal_f32(yPtr: usize, xPtr: usize, n: i32, mode: i32, gamma: f64, alpha: f64, outPtr: usize): void {
  binaryFocal<f32>(yPtr, xPtr, n, mode, gamma, alpha, outPtr);
}

export function binary_focal_f64(yPtr: usize, xPtr: usize, n: i32, mode: i32, gamma: f64, alpha: f64, outPtr: usize): void {
  binaryFocal<f64>(yPtr, xPtr, n, mode, gamma, alpha, outPtr);
}
