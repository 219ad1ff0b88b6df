// The module's exports: its whole ABI. Pointers are byte addresses in this module's memory;
// float rows are row-major rows x classes of the suffix's type (f32: 4-byte aligned, f64: 8-byte);
// class indices are i32; every per-row result is an f64 written at outPtr. Any rows >= 0 and
// classes >= 1: tails are handled. No allocation, no GC (runtime stub): the TypeScript side owns
// the memory layout (src/engine/memory.ts).
import { OP_CE, OP_KL, LOGITS, LOGPROBS, PROBS } from "./kernels/common";
import { ceIndexLogitsScalar, pairRowsScalar, entropyRowsScalar, bceScalar, evaluateRowsScalar, ceGradScalar, klGradScalar } from "./kernels/generic";
import { ceIndexLogitsF32, ceIndexLogitsF64, ceDenseF32 } from "./kernels/cross-entropy";
import { klLogitsF32, klProbsF32, klLogitsF64 } from "./kernels/kl";
import { entropyF32 } from "./kernels/entropy";
import { evaluateRowsF32 } from "./kernels/evaluate";
import { focalRows, binaryFocal } from "./kernels/focal";

/** First free byte after the module's static data: the TypeScript side lays out memory from here. */
export function heap_base(): usize {
  return __heap_base;
}

/** 1 when this build uses SIMD. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

function checkShape(rows: i32, classes: i32, ptr: usize, align: usize): void {
  assert(rows >= 0, "rows must be >= 0");
  assert(classes >= 1, "classes must be >= 1");
  assert((ptr & (align - 1)) == 0, "pointer not aligned");
}

/** Cross-entropy from logits with class-index targets (i32 at tPtr, < 0 = ignored: 0) per row. */
export function ce_index_logits_f32(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  checkShape(rows, classes, xPtr, 4);
  if (ASC_FEATURE_SIMD) ceIndexLogitsF32(xPtr, tPtr, rows, classes, outPtr);
  else ceIndexLogitsScalar<f32>(xPtr, tPtr, rows, classes, outPtr);
}

export function ce_index_logits_f64(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  checkShape(rows, classes, xPtr, 8);
  if (ASC_FEATURE_SIMD) ceIndexLogitsF64(xPtr, tPtr, rows, classes, outPtr);
  else ceIndexLogitsScalar<f64>(xPtr, tPtr, rows, classes, outPtr);
}

/**
 * Per-row cross-entropy (OP_CE), KL (OP_KL) or Jensen-Shannon (OP_JS) of two row sets; modes LOGITS,
 * LOGPROBS, PROBS; see kernels/generic.ts for every parameter.
 */
export function pair_rows_f32(op: i32, pPtr: usize, qPtr: usize, wPtr: usize, rows: i32, classes: i32,
                              pMode: i32, qMode: i32, invT: f64, normalize: i32, a: f64, b: f64, eps: f64, outPtr: usize): void {
  checkShape(rows, classes, qPtr, 4);
  if (ASC_FEATURE_SIMD) {
    // (b = e/K of label smoothing: where it underflows float32, only the f64 path keeps c_k != 0.)
    if (op == OP_CE && (pPtr == 0 || pMode == PROBS) && (b == 0 || <f32>b != 0)) {
      ceDenseF32(pPtr, qPtr, wPtr, rows, classes, qMode, <f32>a, <f32>b, eps, outPtr);
      // float32 products can overflow where the f64 result is finite (targets or logits near 1e30):
      // rows that came out infinite or NaN are recomputed by the f64 path, which is right either way.
      for (let r = 0; r < rows; r++) {
        if (isFinite(load<f64>(outPtr + (<usize>r << 3)))) continue;
        const off = <usize>r * <usize>classes << 2;
        pairRowsScalar<f32>(op, pPtr == 0 ? 0 : pPtr + off, qPtr + off, wPtr, 1, classes, pMode, qMode, invT, false, a, b, eps, outPtr + (<usize>r << 3));
      }
      return;
    }
    if (op == OP_KL && pMode == LOGITS && qMode == LOGITS) {
      klLogitsF32(pPtr, qPtr, rows, classes, invT, outPtr);
      return;
    }
    if (op == OP_KL && pMode == PROBS && qMode == PROBS) {
      klProbsF32(pPtr, qPtr, rows, classes, normalize != 0, outPtr);
      for (let r = 0; r < rows; r++) { // rows it could not vouch for (NaN), recomputed in f64
        if (isFinite(load<f64>(outPtr + (<usize>r << 3)))) continue;
        const off = <usize>r * <usize>classes << 2;
        pairRowsScalar<f32>(op, pPtr + off, qPtr + off, 0, 1, classes, pMode, qMode, invT, normalize != 0, 0, 0, 0, outPtr + (<usize>r << 3));
      }
      return;
    }
  }
  pairRowsScalar<f32>(op, pPtr, qPtr, wPtr, rows, classes, pMode, qMode, invT, normalize != 0, a, b, eps, outPtr);
}

export function pair_rows_f64(op: i32, pPtr: usize, qPtr: usize, wPtr: usize, rows: i32, classes: i32,
                              pMode: i32, qMode: i32, invT: f64, normalize: i32, a: f64, b: f64, eps: f64, outPtr: usize): void {
  checkShape(rows, classes, qPtr, 8);
  if (ASC_FEATURE_SIMD && op == OP_KL && pMode == LOGITS && qMode == LOGITS) {
    klLogitsF64(pPtr, qPtr, rows, classes, invT, outPtr);
    return;
  }
  pairRowsScalar<f64>(op, pPtr, qPtr, wPtr, rows, classes, pMode, qMode, invT, normalize != 0, a, b, eps, outPtr);
}

/** Per-row entropy of probabilities (mode PROBS), logits (LOGITS) or log-probabilities (LOGPROBS). */
export function entropy_rows_f32(pPtr: usize, rows: i32, classes: i32, mode: i32, invT: f64, normalize: i32, outPtr: usize): void {
  checkShape(rows, classes, pPtr, 4);
  if (ASC_FEATURE_SIMD && mode != LOGPROBS) {
    entropyF32(pPtr, rows, classes, mode, <f32>invT, normalize != 0, outPtr);
    // As in pair_rows_f32: non-finite rows are recomputed in f64. So are rows of probabilities whose
    // entropy is below 0.2: their float32 terms are off by up to about 1e-7 (sum p) + 1.5e-7 H
    // absolute (p rounded to float32, logf4's 4e-8 absolute error near 1), more than 1e-6 of H
    // below H = 0.12 (nearly one-hot rows; a row of one class, whose entropy is exactly 0).
    for (let r = 0; r < rows; r++) {
      const h = load<f64>(outPtr + (<usize>r << 3));
      if (isFinite(h) && !(mode == PROBS && h < 0.2)) continue;
      entropyRowsScalar<f32>(pPtr + (<usize>r * <usize>classes << 2), 1, classes, mode, invT, normalize != 0, outPtr + (<usize>r << 3));
    }
  } else entropyRowsScalar<f32>(pPtr, rows, classes, mode, invT, normalize != 0, outPtr);
}

export function entropy_rows_f64(pPtr: usize, rows: i32, classes: i32, mode: i32, invT: f64, normalize: i32, outPtr: usize): void {
  checkShape(rows, classes, pPtr, 8);
  entropyRowsScalar<f64>(pPtr, rows, classes, mode, invT, normalize != 0, outPtr);
}

/** Binary cross-entropy per element (n of them, element i of the call at index first + i; posWeight per column: (first + i) % columns). */
export function bce_f32(yPtr: usize, xPtr: usize, wPtr: usize, pwPtr: usize, n: i32, columns: i32, first: i32, mode: i32, outPtr: usize): void {
  checkShape(n, columns, xPtr, 4);
  bceScalar<f32>(yPtr, xPtr, wPtr, pwPtr, n, columns, first, mode, outPtr);
}

export function bce_f64(yPtr: usize, xPtr: usize, wPtr: usize, pwPtr: usize, n: i32, columns: i32, first: i32, mode: i32, outPtr: usize): void {
  checkShape(n, columns, xPtr, 8);
  bceScalar<f64>(yPtr, xPtr, wPtr, pwPtr, n, columns, first, mode, outPtr);
}

/**
 * One pass of evaluation per row of logits with class-index targets (< 0: ignored, all 0): writes
 * three f64 per row at outPtr: cross-entropy, entropy of the prediction, and the target's rank
 * (larger logits, plus equal ones at smaller indices).
 */
export function evaluate_rows_f32(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  checkShape(rows, classes, xPtr, 4);
  if (ASC_FEATURE_SIMD) {
    evaluateRowsF32(xPtr, tPtr, rows, classes, outPtr);
    for (let r = 0; r < rows; r++) { // as in pair_rows_f32: non-finite rows are recomputed in f64
      const o = outPtr + (<usize>r * 3 << 3);
      if (isFinite(load<f64>(o)) && isFinite(load<f64>(o, 8))) continue;
      evaluateRowsScalar<f32>(xPtr + (<usize>r * <usize>classes << 2), tPtr + (<usize>r << 2), 1, classes, o);
    }
  } else evaluateRowsScalar<f32>(xPtr, tPtr, rows, classes, outPtr);
}

export function evaluate_rows_f64(xPtr: usize, tPtr: usize, rows: i32, classes: i32, outPtr: usize): void {
  checkShape(rows, classes, xPtr, 8);
  evaluateRowsScalar<f64>(xPtr, tPtr, rows, classes, outPtr);
}

/**
 * Cross-entropy from logits with its gradient, per row (see kernels/generic.ts, ceGradScalar):
 * class indices at tPtr (or 0) or dense targets at yPtr (or 0); scalePtr: one f64 per row in
 * (gradient scale), out (row loss); gradPtr: rows x classes, may equal xPtr.
 */
export function ce_grad_f32(xPtr: usize, tPtr: usize, yPtr: usize, wPtr: usize, rows: i32, classes: i32,
                            alpha: f64, beta: f64, scalePtr: usize, gradPtr: usize): void {
  checkShape(rows, classes, xPtr, 4);
  ceGradScalar<f32>(xPtr, tPtr, yPtr, wPtr, rows, classes, alpha, beta, scalePtr, gradPtr);
}

export function ce_grad_f64(xPtr: usize, tPtr: usize, yPtr: usize, wPtr: usize, rows: i32, classes: i32,
                            alpha: f64, beta: f64, scalePtr: usize, gradPtr: usize): void {
  checkShape(rows, classes, xPtr, 8);
  ceGradScalar<f64>(xPtr, tPtr, yPtr, wPtr, rows, classes, alpha, beta, scalePtr, gradPtr);
}

/** KL of temperature-softened logits per row with its gradient w.r.t. yPtr's logits (the student). */
export function kl_grad_f32(xPtr: usize, yPtr: usize, rows: i32, classes: i32, invT: f64, scalePtr: usize, gradPtr: usize): void {
  checkShape(rows, classes, xPtr, 4);
  klGradScalar<f32>(xPtr, yPtr, rows, classes, invT, scalePtr, gradPtr);
}

export function kl_grad_f64(xPtr: usize, yPtr: usize, rows: i32, classes: i32, invT: f64, scalePtr: usize, gradPtr: usize): void {
  checkShape(rows, classes, xPtr, 8);
  klGradScalar<f64>(xPtr, yPtr, rows, classes, invT, scalePtr, gradPtr);
}

/** Runs a list of kernel calls in one crossing from JavaScript (the verification battery): generated from the kernel table. */
export { run_calls } from "./calls";

/**
 * Focal loss per row (see kernels/focal.ts): class indices at tPtr (or 0) or dense targets at yPtr
 * (or 0), q rows of logits, log-probabilities or probabilities (qMode), per-class coefficients at
 * vPtr (or 0); computed in float64 whatever the input type.
 */
export function focal_rows_f32(tPtr: usize, yPtr: usize, qPtr: usize, vPtr: usize, rows: i32, classes: i32, qMode: i32, gamma: f64, a: f64, b: f64, outPtr: usize): void {
  checkShape(rows, classes, qPtr, 4);
  focalRows<f32>(tPtr, yPtr, qPtr, vPtr, rows, classes, qMode, gamma, a, b, outPtr);
}

export function focal_rows_f64(tPtr: usize, yPtr: usize, qPtr: usize, vPtr: usize, rows: i32, classes: i32, qMode: i32, gamma: f64, a: f64, b: f64, outPtr: usize): void {
  checkShape(rows, classes, qPtr, 8);
  focalRows<f64>(tPtr, yPtr, qPtr, vPtr, rows, classes, qMode, gamma, a, b, outPtr);
}

/** Binary focal loss per element (n of them; torchvision's sigmoid_focal_loss); alpha < 0: none. */
export function binary_focal_f32(yPtr: usize, xPtr: usize, n: i32, mode: i32, gamma: f64, alpha: f64, outPtr: usize): void {
  checkShape(n, 1, xPtr, 4);
  binaryFocal<f32>(yPtr, xPtr, n, mode, gamma, alpha, outPtr);
}

export function binary_focal_f64(yPtr: usize, xPtr: usize, n: i32, mode: i32, gamma: f64, alpha: f64, outPtr: usize): void {
  checkShape(n, 1, xPtr, 8);
  binaryFocal<f64>(yPtr, xPtr, n, mode, gamma, alpha, outPtr);
}
