// Choosing, loading and instantiating the engine. Each measure asks currentEngine() for it.
import { XentError } from "../errors.js";
import type { Backend, FloatArray } from "../types.js";
import type { Engine } from "./engine.js";
import type { ModuleExports } from "./abi.js";
import { WasmEngine } from "./wasm.js";
import { WasmArray, Memory } from "./memory.js";
import { referenceEngine } from "../reference/rows.js";

/** Where a module can come from: compiled, bytes, or a location to fetch / read. */
export type ModuleSource = WebAssembly.Module | BufferSource | URL | string | Response | Promise<Response>;

export interface InitOptions {
  /** Force an engine: "wasm-simd", "wasm" or "js" (the plain TypeScript reference). */
  backend?: Backend;
  /** The module to instantiate instead of the packaged one (edge runtimes pass a WebAssembly.Module). */
  module?: ModuleSource;
  /**
   * Instantiate the debug build (assertions on, through @assemblyscript/loader, so a failed
   * assertion arrives as an Error with its message, file and line). Node only; slower.
   */
  debug?: boolean;
}

export interface EngineInfo {
  backend: Backend;
  /** Whether the engine's results were checked against the reference at init. */
  verified: boolean;
  /** Why a faster engine was not used, when it was not. */
  reason?: string;
}

const FILES = {
  "wasm-simd": new URL("../../wasm/xent.simd.wasm", import.meta.url),
  wasm: new URL("../../wasm/xent.wasm", import.meta.url),
  debug: new URL("../../wasm/xent.debug.wasm", import.meta.url),
};

let engine: Engine | null = null;
let info: EngineInfo | null = null;
let pending: Promise<EngineInfo> | null = null;
let lastKey = "";

/** The engine the measures run on; throws NOT_INITIALIZED before init(). */
export function currentEngine(): Engine {
  if (engine === null) {
    throw new XentError("NOT_INITIALIZED", "call `await init()` (or initSync()) once before using the measures");
  }
  return engine;
}

/** Which engine the measures run on: "wasm-simd", "wasm" or "js". */
export function backend(): Backend {
  return currentEngine().name;
}

/** The engine, whether it was verified, and why a faster one was not used. */
export function engineInfo(): EngineInfo {
  currentEngine();
  return { ...info! };
}

function keyOf(options: InitOptions): string {
  return `${options.backend ?? ""}|${options.module === undefined ? "" : "module"}|${options.debug ? "debug" : ""}`;
}

/**
 * Compiles and instantiates the engine. Idempotent: later calls with the same options resolve to
 * the same engine; different options switch engines.
 */
export function init(options: InitOptions = {}): Promise<EngineInfo> {
  const key = keyOf(options);
  if (pending !== null && key === lastKey && options.module === undefined) return pending;
  lastKey = key;
  const ready = options.debug ? preloadDebugLoader() : Promise.resolve();
  pending = ready.then(() => choose(options, false)).catch((e) => {
    pending = null;
    throw e;
  });
  return pending;
}

/** As init(), synchronously: reads the packaged module from disk (Node, Bun, Deno) or takes `module`. */
export function initSync(options: InitOptions = {}): EngineInfo {
  const key = keyOf(options);
  if (info !== null && key === lastKey && options.module === undefined) return { ...info };
  const result = choose(options, true) as unknown as { value: EngineInfo };
  lastKey = key;
  pending = Promise.resolve(result.value);
  return result.value;
}

/**
 * Picks and instantiates the engine. With `sync`, every step is synchronous and the result comes
 * wrapped as { value } instead of a promise (one code path for init and initSync).
 */
function choose(options: InitOptions, sync: boolean): Promise<EngineInfo> {
  const want = options.backend;
  if (want !== undefined && want !== "wasm-simd" && want !== "wasm" && want !== "js") {
    throw new XentError("INVALID_OPTION", `backend must be "wasm-simd", "wasm" or "js", got ${JSON.stringify(want)}`);
  }
  const done = (e: Engine, reason?: string) => {
    engine = e;
    info = { backend: e.name, verified: false, ...(reason === undefined ? {} : { reason }) };
    return info;
  };
  const wrap = <T>(v: T | Promise<T>): Promise<T> => (sync ? ({ value: v } as unknown as Promise<T>) : Promise.resolve(v));

  if (want === "js") return wrap(done(referenceEngine, "requested"));
  if (typeof WebAssembly !== "object") {
    if (want !== undefined) throw new XentError("BACKEND_UNAVAILABLE", `backend "${want}": WebAssembly is not available here`);
    return wrap(done(referenceEngine, "WebAssembly is not available"));
  }
  const source: ModuleSource | undefined = options.module ?? (options.debug ? FILES.debug : undefined);
  if (source !== undefined) {
    const build = (m: WebAssembly.Module) => instantiate(m, options.debug === true, want);
    if (sync) return wrap(done(build(compileSync(source))));
    return compileAsync(source).then((m) => done(build(m)));
  }
  // The packaged modules: SIMD where the runtime validates the real SIMD binary, else scalar.
  const pick = (simdBytes: Uint8Array<ArrayBuffer>, scalar: () => Uint8Array<ArrayBuffer> | Promise<Uint8Array<ArrayBuffer>>): Engine | Promise<Engine> => {
    const simdOk = want !== "wasm" && WebAssembly.validate(simdBytes);
    if (want === "wasm-simd" && !simdOk) throw new XentError("BACKEND_UNAVAILABLE", `backend "wasm-simd": this runtime does not validate the SIMD module`);
    if (simdOk) return instantiate(new WebAssembly.Module(simdBytes), false, want);
    const s = scalar();
    return s instanceof Uint8Array ? instantiate(new WebAssembly.Module(s), false, "wasm") : s.then((b) => instantiate(new WebAssembly.Module(b), false, "wasm"));
  };
  const why = (e: Engine) => (want !== undefined ? "requested" : e.name === "wasm" ? "SIMD is not supported here" : undefined);
  if (sync) {
    const e = pick(readSync(FILES["wasm-simd"]), () => readSync(FILES.wasm)) as Engine;
    return wrap(done(e, why(e)));
  }
  return readAsync(FILES["wasm-simd"])
    .then((b) => pick(b, () => readAsync(FILES.wasm)))
    .then((e) => done(e, why(e)));
}

function instantiate(module: WebAssembly.Module, debug: boolean, want: Backend | undefined): Engine {
  let exports: ModuleExports;
  if (debug) {
    exports = instantiateDebug(module);
  } else {
    const imports: WebAssembly.Imports = WebAssembly.Module.imports(module).length === 0 ? {} : { env: { abort: abortHandler } };
    exports = new WebAssembly.Instance(module, imports).exports as unknown as ModuleExports;
  }
  const name: Backend = exports.simd() === 1 ? "wasm-simd" : "wasm";
  if (want !== undefined && want !== name) {
    throw new XentError("BACKEND_UNAVAILABLE", `backend "${want}" was requested but the module given is a "${name}" build`);
  }
  return new WasmEngine(name, exports);
}

function abortHandler(): never {
  throw new Error("xent: assertion failed in the WebAssembly module (use init({ debug: true }) for the message)");
}

let loader: typeof import("@assemblyscript/loader") | null = null;

/** Loads @assemblyscript/loader ahead of a debug initSync (it is an optional, Node-only path). */
export async function preloadDebugLoader(): Promise<void> {
  loader ??= await import("@assemblyscript/loader");
}

function instantiateDebug(module: WebAssembly.Module): ModuleExports {
  if (loader === null) {
    throw new XentError("BACKEND_UNAVAILABLE", "the debug build needs @assemblyscript/loader: use `await init({ debug: true })`");
  }
  // The loader supplies env.abort, which decodes the assertion's message, file and line.
  return loader.instantiateSync(module, {}).exports as unknown as ModuleExports;
}

function compileSync(source: ModuleSource): WebAssembly.Module {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof URL || typeof source === "string") return new WebAssembly.Module(readSync(toUrl(source)));
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return new WebAssembly.Module(source);
  throw new XentError("INVALID_OPTION", "initSync: module must be a WebAssembly.Module, bytes, or a file URL (a Response needs init())");
}

async function compileAsync(source: ModuleSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return WebAssembly.compile(source);
  if (source instanceof URL || typeof source === "string") return WebAssembly.compile(await readAsync(toUrl(source)));
  const response = await source;
  if (typeof WebAssembly.compileStreaming === "function" && response.headers?.get("content-type") === "application/wasm") {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

function toUrl(s: URL | string): URL {
  return s instanceof URL ? s : new URL(s, typeof location === "object" ? location.href : `file://${process.cwd()}/`);
}

type NodeFs = { readFileSync(p: URL): Uint8Array<ArrayBuffer>; promises: { readFile(p: URL): Promise<Uint8Array<ArrayBuffer>> } };

function nodeFs(): NodeFs | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (p?.getBuiltinModule?.("node:fs") as NodeFs | undefined) ?? null;
}

function readSync(url: URL): Uint8Array<ArrayBuffer> {
  const fs = nodeFs();
  if (url.protocol !== "file:" || fs === null) {
    throw new XentError("BACKEND_UNAVAILABLE", `initSync cannot read ${url.href} here: use await init(), or initSync({ module })`);
  }
  return new Uint8Array(fs.readFileSync(url)) as Uint8Array<ArrayBuffer>;
}

async function readAsync(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const fs = nodeFs();
  if (url.protocol === "file:" && fs !== null) return new Uint8Array(await fs.promises.readFile(url)) as Uint8Array<ArrayBuffer>;
  const response = await fetch(url);
  if (!response.ok) throw new XentError("BACKEND_UNAVAILABLE", `cannot fetch ${url.href}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * A typed array of `length` elements in the module's memory, for zero-copy calls: fill `.view`,
 * pass the WasmArray (or its view) to any measure. Take `.view` again after any later allocate(),
 * which may grow memory and detach earlier views. With the "js" engine the block is ordinary memory.
 */
export function allocate<T extends FloatArray | Int32Array>(
  ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
  length: number,
): WasmArray<T> {
  const e = currentEngine();
  if (e instanceof WasmEngine) return e.memory.allocate(ctor, length);
  return jsMemory().allocate(ctor, length);
}

let plain: Memory | null = null;
function jsMemory(): Memory {
  if (typeof WebAssembly !== "object") throw new XentError("BACKEND_UNAVAILABLE", "allocate: WebAssembly is not available here");
  plain ??= new Memory(new WebAssembly.Memory({ initial: 1 }), 0);
  return plain;
}
