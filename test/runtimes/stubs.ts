// Making this runtime's WebAssembly behave like another's, to force each fallback of init() where
// the real thing is not at hand (Node has no switch to turn SIMD off):
//   withoutSimd   the SIMD module and the SIMD probe do not validate, as in an engine without SIMD
//   refusing      compiling anything throws the CompileError workerd or a CSP throws; validate works
//   withoutWasm   no WebAssembly at all
// Each restores what it replaced. Pure (no node:*), for Node and Chromium alike.
import { SIMD_PROBE } from "../../src/engine/registry.js";

type W = typeof WebAssembly;

function same(a: ArrayBufferView | ArrayBuffer, b: Uint8Array): boolean {
  const x = ArrayBuffer.isView(a) ? new Uint8Array(a.buffer, a.byteOffset, a.byteLength) : new Uint8Array(a);
  if (x.length !== b.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== b[i]) return false;
  return true;
}

/** Replaces Module, compile, compileStreaming and validate; `reject(bytes)` says which bytes fail, with `message`. */
async function patched<T>(reject: (bytes: Uint8Array) => boolean, message: string, invalid: boolean, run: () => Promise<T>): Promise<T> {
  const wa = WebAssembly as { -readonly [K in keyof W]: W[K] };
  const saved = { Module: wa.Module, compile: wa.compile, compileStreaming: wa.compileStreaming, validate: wa.validate };
  const bytesOf = (b: BufferSource) => (ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b));
  const Module = function (this: unknown, bytes: BufferSource) {
    if (reject(bytesOf(bytes))) throw new WebAssembly.CompileError(`WebAssembly.Module(): ${message}`);
    return new saved.Module(bytes);
  } as unknown as W["Module"];
  Object.assign(Module, { imports: saved.Module.imports, exports: saved.Module.exports, customSections: saved.Module.customSections });
  (Module as unknown as { prototype: unknown }).prototype = saved.Module.prototype;
  wa.Module = Module;
  wa.compile = async (bytes: BufferSource) => {
    if (reject(bytesOf(bytes))) throw new WebAssembly.CompileError(`WebAssembly.compile(): ${message}`);
    return saved.compile.call(WebAssembly, bytes);
  };
  wa.compileStreaming = async (source: Response | PromiseLike<Response>) => {
    const response = await source;
    const bytes = new Uint8Array(await response.clone().arrayBuffer());
    if (reject(bytes)) throw new WebAssembly.CompileError(`WebAssembly.compileStreaming(): ${message}`);
    return saved.compileStreaming.call(WebAssembly, response);
  };
  wa.validate = (bytes: BufferSource) => (invalid && reject(bytesOf(bytes)) ? false : saved.validate.call(WebAssembly, bytes));
  try {
    return await run();
  } finally {
    Object.assign(wa, saved);
  }
}

/** As an engine without SIMD: the SIMD module (these bytes) and the SIMD probe neither validate nor compile. */
export function withoutSimd<T>(simdModule: Uint8Array, run: () => Promise<T>): Promise<T> {
  return patched((b) => same(b, simdModule) || same(b, SIMD_PROBE), "invalid opcode 0xfd (SIMD is not supported)", true, run);
}

/** As workerd, or a page whose CSP lacks 'wasm-unsafe-eval': every module validates, none compiles. */
export function refusing<T>(run: () => Promise<T>): Promise<T> {
  return patched(() => true, "Wasm code generation disallowed by embedder", false, run);
}

/** As a runtime without WebAssembly. */
export async function withoutWasm<T>(run: () => Promise<T>): Promise<T> {
  const g = globalThis as { WebAssembly?: W };
  const saved = g.WebAssembly;
  delete g.WebAssembly;
  try {
    return await run();
  } finally {
    g.WebAssembly = saved;
  }
}
