// Seeded random data for parity and property tests.

/** mulberry32: a small, fast, seeded PRNG; uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * Float32Array or Float64Array as a constructor. Spelled out because on the union of the two
 * constructors TypeScript drops the overload of from() that takes a mapping function.
 */
export type Float = {
  new (length: number): Float32Array | Float64Array;
  from(a: ArrayLike<number> | Iterable<number>, f?: (v: number, k: number) => number): Float32Array | Float64Array;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

/** Logits ~ N(0, sd^2). */
export function logits(u: () => number, n: number, T: Float, sd = 3): Float32Array | Float64Array {
  const a = new T(n);
  for (let i = 0; i < n; i++) a[i] = sd * normal(u);
  return a;
}

/** Rows of probabilities (softmax of N(0, 2^2) logits), with exact zeros at a rate `zeros`. */
export function probs(u: () => number, rows: number, classes: number, T: Float, zeros = 0): Float32Array | Float64Array {
  const a = new T(rows * classes);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < classes; k++) {
      const v = u() < zeros ? 0 : Math.exp(2 * normal(u));
      a[r * classes + k] = v;
      s += v;
    }
    for (let k = 0; k < classes; k++) a[r * classes + k] = s > 0 ? a[r * classes + k] / s : 1 / classes;
  }
  return a;
}

export function labels(u: () => number, rows: number, classes: number): Int32Array {
  return Int32Array.from({ length: rows }, () => Math.floor(u() * classes));
}

/** Sets a share of the elements to each of the given special values. */
export function sprinkle(u: () => number, a: Float32Array | Float64Array, values: number[], rate: number): typeof a {
  for (let i = 0; i < a.length; i++) if (u() < rate) a[i] = values[Math.floor(u() * values.length)];
  return a;
}
