// The vector exp and log of assembly/math/vmath.ts against the error bounds stated beside them.
// They are float32 approximations that every SIMD kernel is built on, so their bounds are checked
// by brute force: a dense walk over the float32 bit patterns of the whole input range that
// matters, each result compared with Math.exp / Math.log of the same float32 value in float64.
// The bounds below are copied from the comments in vmath.ts; if the code changes, the comment
// and this file change together.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";

// Stated in assembly/math/vmath.ts beside expf4 and logf4.
const EXP_MAX_REL = 1.9e-7;
const EXP_MAX_ABS_SUBNORMAL = 1.9e-45;
const EXP_ZERO_BELOW = -103.98;
const EXP_INF_ABOVE = 88.73;
const LOG_MAX_ABS_NEAR_1 = 4.0e-8;
const LOG_MAX_REL = 8.3e-8;

const MIN_NORMAL = 2 ** -126;
const MIN_SUBNORMAL = 2 ** -149;
const MAX_SUBNORMAL = MIN_NORMAL - MIN_SUBNORMAL;
const FLT_MAX = (2 - 2 ** -23) * 2 ** 127;

// Lanes per call: large enough that the call overhead vanishes, small enough to stay in cache.
const BLOCK = 1 << 16;
// Bit-pattern stride of the main walks: prime, so the low mantissa bits take every value, and
// small enough for ~20 million points per function while the file runs in a few seconds.
const STRIDE = 101;
// Every measured bound must rest on at least this many points, so that none can pass vacuously.
const MIN_POINTS = 1_000_000;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number) => {
  f32[0] = x;
  return u32[0];
};
const hex = (x: number) => `0x${bitsOf(x).toString(16).padStart(8, "0")}`;

/** The test module (assembly/vmath-exports.ts, wasm/test/xent.vmath.wasm): expf4 and logf4 over arrays. */
interface VmathExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  vexp_f32(ptr: number, n: number, outPtr: number): number;
  vlog_f32(ptr: number, n: number, outPtr: number): number;
  vlog_normal_f32(ptr: number, n: number, outPtr: number): number;
}

function instantiate(): VmathExports {
  const bytes = readFileSync(new URL("../wasm/test/xent.vmath.wasm", import.meta.url));
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as VmathExports;
}

type Kernel = "vexp_f32" | "vlog_f32";
type OnBlock = (x: Float32Array, y: Float32Array, n: number) => void;

/** Streams float32 inputs through one export, BLOCK lanes at a time, handing each block of results on. */
class Lanes {
  private readonly bits: Uint32Array;
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private n = 0;
  /** What the export returned, per call: 1 means it really ran the vector code. */
  readonly returned = new Set<number>();

  constructor(
    private readonly wasm: VmathExports,
    private readonly kernel: Kernel,
    private readonly onBlock: OnBlock,
  ) {
    this.inPtr = (wasm.heap_base() + 63) & ~63;
    this.outPtr = this.inPtr + 4 * BLOCK;
    const end = this.outPtr + 4 * BLOCK;
    const have = wasm.memory.buffer.byteLength;
    if (end > have) wasm.memory.grow(Math.ceil((end - have) / 65536));
    // Only now: growing detaches the old buffer and every view on it.
    this.bits = new Uint32Array(wasm.memory.buffer, this.inPtr, BLOCK);
    this.x = new Float32Array(wasm.memory.buffer, this.inPtr, BLOCK);
    this.y = new Float32Array(wasm.memory.buffer, this.outPtr, BLOCK);
  }

  pushBits(bits: number): void {
    this.bits[this.n++] = bits;
    if (this.n === BLOCK) this.flush();
  }

  pushValue(x: number): void {
    this.x[this.n++] = x;
    if (this.n === BLOCK) this.flush();
  }

  flush(): void {
    if (this.n === 0) return;
    // The exports take whole vectors; the padding lanes are computed but never looked at.
    let lanes = this.n;
    while (lanes % 4 !== 0) this.bits[lanes++] = 0;
    this.returned.add(this.wasm[this.kernel](this.inPtr, lanes, this.outPtr));
    this.onBlock(this.x, this.y, this.n);
    this.n = 0;
  }
}

/**
 * Pushes sign | m for m from `from` to `to` (both included). The step grows with m, capped at
 * `stride`: every one of the 4096 smallest patterns, then a few thousand per binade up to where
 * the cap takes over, so subnormals and tiny magnitudes are as densely covered as the rest.
 */
function walkMagnitudes(lanes: Lanes, sign: number, from: number, to: number, stride: number): void {
  for (let m = from; m < to; m += Math.min(stride, Math.max(1, m >>> 12))) lanes.pushBits((sign | m) >>> 0);
  lanes.pushBits((sign | to) >>> 0);
}

/** Every pattern from bitsOf(a) to bitsOf(b) stepping by `stride`; a and b of one sign. */
function walkBetween(lanes: Lanes, a: number, b: number, stride: number): void {
  const lo = Math.min(bitsOf(a), bitsOf(b));
  const hi = Math.max(bitsOf(a), bitsOf(b));
  for (let m = lo; m <= hi; m += stride) lanes.pushBits(m);
}

/** A running maximum of an error, with the input where it occurs and how many points it covers. */
class MaxError {
  value = 0;
  at = NaN;
  points = 0;
  add(err: number, x: number): void {
    this.points++;
    // `!(<=)` so that a NaN error is kept and fails the bound.
    if (!(err <= this.value)) {
      this.value = err;
      this.at = x;
    }
  }
  toString(): string {
    return `${this.value.toExponential(4)} at x = ${this.at} (${hex(this.at)}), over ${this.points} points`;
  }
}

/** An exact property checked on every swept input it applies to: the inputs checked, the first failure. */
class Rule {
  checked = 0;
  failures = 0;
  first: [number, number] | undefined;
  check(ok: boolean, x: number, y: number): void {
    this.checked++;
    if (ok) return;
    this.failures++;
    this.first ??= [x, y];
  }
  get report(): string {
    return this.first ? `${this.failures} failures, first: x = ${this.first[0]} gives ${this.first[1]}` : "";
  }
}

// Specials pushed through the sweep with everything else: documented limits and boundaries.
const EXP_SPECIALS = [
  0,
  -0,
  MIN_SUBNORMAL,
  -MIN_SUBNORMAL,
  MAX_SUBNORMAL,
  -MAX_SUBNORMAL,
  Infinity,
  -Infinity,
  NaN,
  88.72,
  -88.72,
  87.33,
  -87.33,
  -103.97,
  -104,
  89,
  FLT_MAX,
  -FLT_MAX,
  3.4e38,
  -3.4e38,
];

const simd = instantiate();

describe("expf4 (vexp_f32 of the test module)", () => {
  const rel = new MaxError(); // true result a normal float32
  const abs = new MaxError(); // true result subnormal (or rounding to 0)
  const zero = new Rule(); // x < EXP_ZERO_BELOW gives +0
  const inf = new Rule(); // x > EXP_INF_ABOVE, or a true result that rounds past FLT_MAX, gives +inf
  const one = new Rule(); // subnormal and zero inputs give exactly 1
  const results = new Map<number, number>(); // the specials, by input bits
  let lanes: Lanes;

  beforeAll(() => {
    const specialBits = new Set(EXP_SPECIALS.map(bitsOf));
    lanes = new Lanes(simd, "vexp_f32", (xs, ys, n) => {
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        const y = ys[i];
        if (specialBits.has(bitsOf(x))) results.set(bitsOf(x), y);
        if (x !== x) continue; // NaN: checked on its own below
        if (x < EXP_ZERO_BELOW) zero.check(Object.is(y, 0), x, y);
        if (Math.abs(x) < MIN_NORMAL) one.check(y === 1, x, y);
        const t = Math.exp(x);
        const r = Math.fround(t);
        if (x > EXP_INF_ABOVE || r === Infinity) {
          inf.check(y === Infinity, x, y);
          continue;
        }
        if (r >= MIN_NORMAL) rel.add(Math.abs(y - t) / t, x);
        else abs.add(Math.abs(y - t), x);
      }
    });
    // Negative and positive inputs apart, each from magnitude 0 up, so both sides of 0 get their
    // subnormals; the ends lie past the underflow (-103.97) and overflow (88.72) thresholds.
    walkMagnitudes(lanes, 0x80000000, 0, bitsOf(104), STRIDE);
    walkMagnitudes(lanes, 0, 0, bitsOf(89), STRIDE);
    // Subnormal results have an absolute bound and an ulp of 1.4e-45: every input there.
    walkBetween(lanes, -87.33, -103.98, 1);
    // Beyond the sweep, only 0 and +inf may come out: a coarse walk out to the largest floats.
    walkMagnitudes(lanes, 0x80000000, bitsOf(104), 0x7f7fffff, 4099);
    walkMagnitudes(lanes, 0, bitsOf(89), 0x7f7fffff, 4099);
    for (const x of EXP_SPECIALS) lanes.pushValue(x);
    lanes.flush();
    console.log(`expf4: max relative error ${rel} (normal results); max absolute error ${abs} (subnormal results)`);
  });

  const exp = (x: number) => results.get(bitsOf(x));

  it("ran the vector code on at least a million points per bound", () => {
    expect([...lanes.returned]).toEqual([1]);
    expect(rel.points).toBeGreaterThanOrEqual(MIN_POINTS);
    expect(abs.points).toBeGreaterThanOrEqual(MIN_POINTS);
    expect(Number.isFinite(rel.value)).toBe(true);
    expect(Number.isFinite(abs.value)).toBe(true);
  });

  it(`relative error <= ${EXP_MAX_REL} where e^x is a normal float32`, () => {
    expect(rel.value, `max relative error ${rel}`).toBeLessThanOrEqual(EXP_MAX_REL);
  });

  it(`absolute error <= ${EXP_MAX_ABS_SUBNORMAL} where e^x is subnormal`, () => {
    expect(abs.value, `max absolute error ${abs}`).toBeLessThanOrEqual(EXP_MAX_ABS_SUBNORMAL);
  });

  it("exact specials: e^±0 = 1, e^-inf = 0, e^+inf = +inf, NaN -> NaN", () => {
    expect(exp(0)).toBe(1);
    expect(exp(-0)).toBe(1);
    expect(exp(-Infinity)).toBe(0);
    expect(exp(Infinity)).toBe(Infinity);
    expect(exp(NaN)).toBeNaN();
  });

  it(`e^x = 0 for x < ${EXP_ZERO_BELOW}, +inf for x > ${EXP_INF_ABOVE} and wherever the float32 result overflows`, () => {
    expect(exp(-104)).toBe(0);
    expect(exp(-FLT_MAX)).toBe(0);
    expect(exp(89)).toBe(Infinity);
    expect(exp(FLT_MAX)).toBe(Infinity);
    expect(zero.checked).toBeGreaterThan(1000);
    expect(zero.failures, zero.report).toBe(0);
    expect(inf.checked).toBeGreaterThan(1000);
    expect(inf.failures, inf.report).toBe(0);
  });

  it("subnormal inputs give exactly 1", () => {
    for (const x of [MIN_SUBNORMAL, -MIN_SUBNORMAL, MAX_SUBNORMAL, -MAX_SUBNORMAL]) expect(exp(x)).toBe(1);
    expect(one.checked).toBeGreaterThan(10_000);
    expect(one.failures, one.report).toBe(0);
  });
});

describe("logf4 (vlog_f32 of the test module)", () => {
  const abs = new MaxError(); // x in [0.5, 2], where ln x is near 0
  const rel = new MaxError(); // every other positive finite x, subnormals included
  const nan = new Rule(); // negative inputs give NaN
  const results = new Map<number, number>();
  let lanes: Lanes;
  const SPECIALS = [1, 0, -0, Infinity, -Infinity, NaN, -1, -MIN_SUBNORMAL, -FLT_MAX, MIN_SUBNORMAL, MAX_SUBNORMAL, MIN_NORMAL, FLT_MAX];

  beforeAll(() => {
    const specialBits = new Set(SPECIALS.map(bitsOf));
    lanes = new Lanes(simd, "vlog_f32", (xs, ys, n) => {
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        const y = ys[i];
        if (specialBits.has(bitsOf(x))) results.set(bitsOf(x), y);
        if (x < 0) nan.check(y !== y, x, y);
        if (!(x > 0) || x === Infinity) continue; // exact specials, checked below
        const t = Math.log(x);
        if (x >= 0.5 && x <= 2) abs.add(Math.abs(y - t), x);
        else rel.add(Math.abs(y - t) / Math.abs(t), x);
      }
    });
    // Every positive finite float32, subnormals included (0 and inf are specials).
    walkMagnitudes(lanes, 0, 1, 0x7f7fffff, STRIDE);
    // [0.5, 2] has an absolute bound over two binades only: walk it ten times as densely.
    walkBetween(lanes, 0.5, 2, 11);
    // Negative inputs only need to give NaN: a coarse walk, -inf included.
    walkMagnitudes(lanes, 0x80000000, 1, 0x7f800000, 4099);
    for (const x of SPECIALS) lanes.pushValue(x);
    lanes.flush();
    console.log(`logf4: max absolute error ${abs} (x in [0.5, 2]); max relative error ${rel} (elsewhere)`);
  });

  const log = (x: number) => results.get(bitsOf(x));

  it("ran the vector code on at least a million points per bound", () => {
    expect([...lanes.returned]).toEqual([1]);
    expect(abs.points).toBeGreaterThanOrEqual(MIN_POINTS);
    expect(rel.points).toBeGreaterThanOrEqual(MIN_POINTS);
    expect(Number.isFinite(abs.value)).toBe(true);
    expect(Number.isFinite(rel.value)).toBe(true);
  });

  it(`absolute error <= ${LOG_MAX_ABS_NEAR_1} for x in [0.5, 2]`, () => {
    expect(abs.value, `max absolute error ${abs}`).toBeLessThanOrEqual(LOG_MAX_ABS_NEAR_1);
  });

  it(`relative error <= ${LOG_MAX_REL} elsewhere, subnormal inputs included`, () => {
    expect(rel.value, `max relative error ${rel}`).toBeLessThanOrEqual(LOG_MAX_REL);
  });

  it("exact specials: ln 1 = 0, ln ±0 = -inf, ln +inf = +inf, ln NaN = NaN", () => {
    expect(log(1)).toBe(0);
    expect(log(0)).toBe(-Infinity);
    expect(log(-0)).toBe(-Infinity);
    expect(log(Infinity)).toBe(Infinity);
    expect(log(NaN)).toBeNaN();
  });

  it("ln of a negative number is NaN", () => {
    for (const x of [-1, -MIN_SUBNORMAL, -FLT_MAX, -Infinity]) expect(log(x)).toBeNaN();
    expect(nan.checked).toBeGreaterThan(100_000);
    expect(nan.failures, nan.report).toBe(0);
  });
});

describe("logf4Normal (vlog_normal_f32): logf4 bit for bit on positive normal floats", () => {
  it("equals logf4 on every 61st positive normal float32, [2^-126, FLT_MAX], and on both ends", () => {
    const n = 1 << 16;
    const inPtr = (simd.heap_base() + 63) & ~63,
      aPtr = inPtr + 4 * n,
      bPtr = aPtr + 4 * n;
    const have = simd.memory.buffer.byteLength;
    if (bPtr + 4 * n > have) simd.memory.grow(Math.ceil((bPtr + 4 * n - have) / 65536));
    const bits = new Uint32Array(simd.memory.buffer, inPtr, n);
    const a = new Uint32Array(simd.memory.buffer, aPtr, n),
      b = new Uint32Array(simd.memory.buffer, bPtr, n);
    let checked = 0,
      differ = 0,
      first = "";
    const lo = 0x00800000,
      hi = 0x7f7fffff;
    for (let start = lo; start <= hi; start += 61 * n) {
      let m = 0;
      for (let v = start; v <= hi && m < n; v += 61) bits[m++] = v;
      if (start === lo) bits[m - 1] = hi; // the largest float32 too
      while (m % 4) bits[m++] = 0x3f800000;
      expect(simd.vlog_f32(inPtr, m, aPtr)).toBe(1);
      expect(simd.vlog_normal_f32(inPtr, m, bPtr)).toBe(1);
      for (let i = 0; i < m; i++) {
        checked++;
        if (a[i] !== b[i]) {
          if (differ++ === 0) first = `at bits 0x${bits[i].toString(16)}: 0x${a[i].toString(16)} vs 0x${b[i].toString(16)}`;
        }
      }
    }
    expect(checked).toBeGreaterThan(30_000_000);
    expect(differ, first).toBe(0);
  });
});
