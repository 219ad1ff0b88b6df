/**
 * Stable error codes. Each names one class of bad input; the message says which argument and
 * what was received.
 */
export type XentErrorCode =
  | "NOT_INITIALIZED" // a measure was called before init() resolved
  | "INVALID_TYPE" // an argument is not one of the accepted array or option types
  | "INVALID_CLASSES" // `classes` is not an integer >= 1
  | "SHAPE_MISMATCH" // array lengths do not fit `classes` or each other
  | "INVALID_INDEX" // a class index is out of range, negative (and not ignoreIndex) or fractional
  | "INVALID_WEIGHT" // `weight`, `sampleWeight` or `posWeight` has the wrong length or type
  | "UNKNOWN_OPTION" // an option name the function does not take
  | "INVALID_OPTION" // an option value out of its domain (reduction, base, temperature, ...)
  | "ARGUMENT_ORDER" // truth and prediction recognisably swapped
  | "ENGINE_MISMATCH" // `check: true` found the engine and the reference disagreeing
  | "BACKEND_UNAVAILABLE" // the requested engine cannot run here
  | "OUT_OF_MEMORY"; // the module's linear memory cannot hold what was asked

/**
 * The one error type xent throws for bad input, before any work is done, with a message that names
 * the argument and what was received. `code` is stable across versions. A failed call leaves the
 * module fully usable.
 *
 * @example
 * ```ts
 * import { init, crossEntropy, XentError } from "xent";
 * await init();
 * try {
 *   crossEntropy(new Int32Array([5]), new Float32Array([1, 2, 3])); // class 5 of 3
 * } catch (e) {
 *   if (e instanceof XentError && e.code === "INVALID_INDEX") console.log(e.message);
 * }
 * ```
 */
export class XentError extends Error {
  /** Which class of bad input (see {@link XentErrorCode}). */
  readonly code: XentErrorCode;
  constructor(code: XentErrorCode, message: string) {
    super(message);
    this.name = "XentError";
    this.code = code;
  }
}

/** Short description of a received value, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `number[] of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as { length: number }).length}`;
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}
