// The engines init() can run the measures on, fastest first: each listed once, with how it is
// found (the platform's module of that build), detected (validating the module, never the user
// agent: a build whose instructions the runtime lacks does not validate), loaded and verified (the
// battery of verify.ts, for every WebAssembly build alike). init() tries them in this order from
// the one asked for, and falls back to the next; "js", the reference, always works.
import type { Backend } from "../types.js";

export interface Build {
  /** What backend() reports for an instance of this build. */
  readonly backend: Exclude<Backend, "js">;
  /** How reasons name it. */
  readonly what: string;
  /** The instruction set it needs beyond WebAssembly 1.0, and a minimal module that validates iff the runtime has it. */
  readonly needs?: { readonly name: string; readonly probe: Uint8Array };
  /** Whether an instance is this build: what the module says of itself. */
  readonly is: (exports: { simd(): number }) => boolean;
}

/** A minimal module holding one SIMD instruction (v128.const): validates iff SIMD is supported. */
export const SIMD_PROBE = /* @__PURE__ */ Uint8Array.of(
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  5,
  1,
  96,
  0,
  1,
  123,
  3,
  2,
  1,
  0,
  10,
  22,
  1,
  20,
  0,
  253,
  12,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  11,
);

/** The packaged WebAssembly builds, fastest first. */
export const BUILDS: readonly Build[] = [
  { backend: "wasm-simd", what: "the SIMD module", needs: { name: "SIMD", probe: SIMD_PROBE }, is: (e) => e.simd() === 1 },
  { backend: "wasm", what: "the scalar module", is: (e) => e.simd() === 0 },
];

export type WasmBackend = Build["backend"];

/** Every backend, fastest first: the builds, then the reference. */
export const BACKENDS: readonly Backend[] = [...BUILDS.map((b) => b.backend), "js"];

/** The build an instance is (by what its module says of itself). */
export function buildOf(exports: { simd(): number }): Build {
  const b = BUILDS.find((x) => x.is(exports));
  if (b === undefined) throw new Error("xent: the module is none of the packaged builds");
  return b;
}
