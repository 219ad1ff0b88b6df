// Choosing, loading and instantiating the engine. Each measure asks currentEngine() for it.
import { XentError } from "../errors.js";
import type { Backend, FloatArray } from "../types.js";
import type { Engine } from "./engine.js";
import type { ModuleExports } from "./abi.js";
import { WasmEngine } from "./wasm.js";
import { WasmArray, Memory } from "./memory.js";
import { referenceEngine } from "../reference/rows.js";
import { verifyModule } from "./verify.js";

/** Where a module can come from: compiled, bytes, or a location to fetch / read. */
export type ModuleSource = WebAssembly.Module | BufferSource | URL | string | Response | Promise<Response>;

export interface InitOptions {
  /** Force an engine: "wasm-simd", "wasm" or "js" (the plain TypeScript reference). */
  backend?: Backend;
  /** The module to instantiate instead of the packaged one (edge runtimes pass a WebAssembly.Module). */
  module?: ModuleSource;
  /** Run the verification battery against the reference before trusting the engine (default true). */
  verify?: boolean;
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
  return `${options.backend ?? ""}|${options.module === undefined ? "" : "module"}|${options.debug ? "debug" : ""}|${options.verify === false ? "unverified" : ""}`;
}

/**
 * Compiles and instantiates the engine. Idempotent: later calls with the same options resolve to
 * the same engine; different options switch engines.
 */
export function init(options: InitOptions = {}): Promise<EngineInfo> {
  const key = keyOf(options);
  if (pending !== null && key === lastKey && options.module === undefined) return pending;
  lastKey = key;
  pending = (async () => {
    checkOptions(options);
    if (options.debug) await preloadDebugLoader();
    const reasons = initialReasons(options);
    for (const candidate of chain(options)) {
      if (candidate === "js") return done(referenceEngine, false, reasons);
      const module = await compileAsync(candidate);
      const e = tryModule(module, options, reasons);
      if (e !== null) return done(e, options.verify !== false, reasons);
    }
    throw new XentError("BACKEND_UNAVAILABLE", reasons.join("; "));
  })();
  pending.catch(() => {
    pending = null;
    lastKey = "";
  });
  return pending;
}

/** As init(), synchronously: reads the packaged module from disk (Node, Bun, Deno) or takes `module`. */
export function initSync(options: InitOptions = {}): EngineInfo {
  const key = keyOf(options);
  if (info !== null && key === lastKey && options.module === undefined) return { ...info };
  checkOptions(options);
  const reasons = initialReasons(options);
  for (const candidate of chain(options)) {
    if (candidate === "js") return settle(key, done(referenceEngine, false, reasons));
    const e = tryModule(compileSync(candidate), options, reasons);
    if (e !== null) return settle(key, done(e, options.verify !== false, reasons));
  }
  throw new XentError("BACKEND_UNAVAILABLE", reasons.join("; "));
}

/** A slower engine asked for by name is "requested"; other reasons are added as candidates fail. */
function initialReasons(options: InitOptions): string[] {
  return options.backend === "wasm" || options.backend === "js" ? ["requested"] : [];
}

function settle(key: string, result: EngineInfo): EngineInfo {
  lastKey = key;
  pending = Promise.resolve(result);
  return result;
}

function checkOptions(options: InitOptions): void {
  const want = options.backend;
  if (want !== undefined && want !== "wasm-simd" && want !== "wasm" && want !== "js") {
    throw new XentError("INVALID_OPTION", `backend must be "wasm-simd", "wasm" or "js", got ${JSON.stringify(want)}`);
  }
  if (want !== undefined && want !== "js" && typeof WebAssembly !== "object") {
    throw new XentError("BACKEND_UNAVAILABLE", `backend "${want}": WebAssembly is not available here`);
  }
}

/**
 * Where to look, in order: the module given, or the packaged SIMD then scalar builds (from the one
 * requested), and the reference last. A module that fails to validate, or fails the verification
 * battery, passes to the next.
 */
function chain(options: InitOptions): Array<ModuleSource | "js"> {
  if (options.backend === "js" || typeof WebAssembly !== "object") return ["js"];
  if (options.module !== undefined) return [options.module, "js"];
  if (options.debug) return [FILES.debug, "js"];
  const list: Array<ModuleSource | "js"> = options.backend === "wasm" ? [] : [FILES["wasm-simd"]];
  return [...list, FILES.wasm, "js"];
}

function done(e: Engine, verified: boolean, reasons: string[]): EngineInfo {
  engine = e;
  const reason = reasons.length > 0 ? reasons.join("; ") : undefined;
  info = { backend: e.name, verified: e.name !== "js" && verified, ...(reason === undefined ? {} : { reason }) };
  return { ...info };
}

/** Instantiates and verifies one module; null (with a reason) when it cannot be used. */
function tryModule(module: WebAssembly.Module | null, options: InitOptions, reasons: string[]): Engine | null {
  if (module === null) {
    reasons.push("SIMD is not supported here (the SIMD module does not validate)");
    return null;
  }
  const e = instantiate(module, options.debug === true);
  if (options.backend !== undefined && options.backend !== e.name) {
    throw new XentError("BACKEND_UNAVAILABLE", `backend "${options.backend}" was requested but the module is a "${e.name}" build`);
  }
  if (options.verify !== false) {
    const why = verifyModule(e.exports, e.memory.slotP);
    if (why !== null) {
      reasons.push(`the ${e.name} engine disagreed with the reference at init: ${why}`);
      return null;
    }
  }
  return e;
}

function instantiate(module: WebAssembly.Module, debug: boolean): WasmEngine {
  let exports: ModuleExports;
  if (debug) {
    exports = instantiateDebug(module);
  } else {
    const imports: WebAssembly.Imports = WebAssembly.Module.imports(module).length === 0 ? {} : { env: { abort: abortHandler } };
    exports = new WebAssembly.Instance(module, imports).exports as unknown as ModuleExports;
  }
  return new WasmEngine(exports.simd() === 1 ? "wasm-simd" : "wasm", exports);
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

/** Compiles a module source; null when its bytes do not validate here (SIMD unsupported). */
function compileSync(source: ModuleSource): WebAssembly.Module | null {
  if (source instanceof WebAssembly.Module) return source;
  let bytes: BufferSource;
  if (source instanceof URL || typeof source === "string") bytes = readSync(toUrl(source));
  else if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) bytes = source;
  else throw new XentError("INVALID_OPTION", "initSync: module must be a WebAssembly.Module, bytes, or a file URL (a Response needs init())");
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    if (e instanceof WebAssembly.CompileError) return null; // e.g. SIMD unsupported: compiling is validating
    throw e;
  }
}

async function compileAsync(source: ModuleSource): Promise<WebAssembly.Module | null> {
  if (source instanceof WebAssembly.Module) return source;
  let bytes: BufferSource;
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) bytes = source;
  else if (source instanceof URL || typeof source === "string") bytes = await readAsync(toUrl(source));
  else bytes = await (await source).arrayBuffer();
  return WebAssembly.compile(bytes).catch((e) => {
    if (e instanceof WebAssembly.CompileError) return null; // e.g. SIMD unsupported: compiling is validating
    throw e;
  });
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
