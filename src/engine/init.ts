// Choosing, loading and instantiating the engine. Each measure asks currentEngine() for it.
//
// Loading differs between runtimes, so it is a Platform that each entry (src/entries/) supplies:
// where the packaged modules are (URLs, bytes, or modules the runtime compiled), and how to read a
// file where there is a file system. Everything else is here and shared:
//
//   candidates   the SIMD module, then the scalar one, then the reference ("js"); or the module
//                given with { module }, then the reference.
//   compiling    is validating: a module whose bytes do not validate here (SIMD unsupported) passes
//                to the next candidate; bytes that validate but do not compile mean the runtime
//                forbids compiling WebAssembly (Cloudflare workerd, a CSP without
//                'wasm-unsafe-eval'): the reference is used.
//   verifying    each instance runs the battery of verify.ts before it is trusted.
import { XentError } from "../errors.js";
import type { Backend, FloatArray } from "../types.js";
import { type Engine, referenceEngine } from "./engine.js";
import type { ModuleExports } from "../kernels/table.js";
import { WasmEngine } from "./wasm.js";
import { type WasmArray, Memory } from "./memory.js";
import { verifyModule } from "./verify.js";
import { BACKENDS, BUILDS, buildOf, type Build, type WasmBackend } from "./registry.js";

/** Where a module can come from: compiled, bytes, or a location to fetch / read. */
export type ModuleSource = WebAssembly.Module | BufferSource | URL | string | Response | Promise<Response>;

/** Options of {@link init} and {@link initSync}. */
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

/** Which engine runs the measures, whether it was verified, and why a faster one was not used. */
export interface EngineInfo {
  /** The engine: "wasm-simd", "wasm" or "js". */
  backend: Backend;
  /** Whether the engine's results were checked against the reference at init. */
  verified: boolean;
  /** Why a faster engine was not used, when it was not. */
  reason?: string;
}

type Loader = typeof import("@assemblyscript/loader");

/** How one runtime finds and reads the packaged modules (src/entries/ has one per runtime). */
export interface Platform {
  readonly name: string;
  /** The packaged builds (src/engine/registry.ts): functions, so that nothing is computed or fetched at import. */
  readonly modules: { readonly [B in WasmBackend]: () => ModuleSource };
  readonly debug?: () => ModuleSource;
  /** Reads a file: URL synchronously, where there is a file system (Node, Bun, Deno). */
  readonly readFile?: (url: URL) => Uint8Array;
  /** @assemblyscript/loader, for the debug build. */
  readonly loader?: () => Promise<Loader>;
}

/** One module to try: its source, and the build it should be (none: the module given, or the debug build). */
interface Candidate {
  source: ModuleSource;
  build: Build | null;
  what: string;
}

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

/**
 * Which engine the measures run on: `"wasm-simd"` (SIMD WebAssembly), `"wasm"` (the scalar build
 * of the same source, where SIMD is missing) or `"js"` (the plain TypeScript reference, where
 * WebAssembly is missing or was refused). All three give the same results within the accuracy
 * contract. Throws `NOT_INITIALIZED` before {@link init}.
 *
 * @example
 * ```ts
 * import { init, backend } from "xent";
 * await init();
 * backend(); // "wasm-simd" in current browsers, Node, Deno and Bun
 * ```
 */
export function backend(): Backend {
  return currentEngine().name;
}

/**
 * The engine, whether its results were checked against the reference at init (the verification
 * battery), and why a faster engine was not used, when it was not. Throws `NOT_INITIALIZED` before
 * {@link init}.
 *
 * @example
 * ```ts
 * import { init, engineInfo } from "xent";
 * await init();
 * engineInfo(); // { backend: "wasm-simd", verified: true }
 * ```
 */
export function engineInfo(): EngineInfo {
  currentEngine();
  return { ...info! };
}

function keyOf(platform: Platform, options: InitOptions): string {
  return `${platform.name}|${options.backend ?? ""}|${options.module === undefined ? "" : "module"}|${options.debug ? "debug" : ""}|${options.verify === false ? "unverified" : ""}`;
}

/**
 * Compiles and instantiates the engine with the modules `platform` finds. Idempotent: later calls
 * with the same options resolve to the same engine; different options switch engines.
 */
export function initWith(platform: Platform, options: InitOptions = {}): Promise<EngineInfo> {
  lastPlatform = platform;
  const key = keyOf(platform, options);
  if (pending !== null && key === lastKey && options.module === undefined) return pending;
  lastKey = key;
  pending = (async () => {
    checkOptions(options);
    if (options.debug) await preloadDebugLoader(platform);
    const reasons = initialReasons(options);
    for (const c of candidates(platform, options, reasons)) {
      if (c === "js") return done(referenceEngine, false, reasons);
      const module = await compileAsync(platform, c, reasons);
      if (module === REFUSED) return done(referenceEngine, false, reasons);
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

/** As initWith(), synchronously: reads the packaged module from disk (Node, Bun, Deno) or takes `module`. */
export function initSyncWith(platform: Platform, options: InitOptions = {}): EngineInfo {
  lastPlatform = platform;
  const key = keyOf(platform, options);
  if (info !== null && key === lastKey && options.module === undefined) return { ...info };
  checkOptions(options);
  const reasons = initialReasons(options);
  for (const c of candidates(platform, options, reasons)) {
    if (c === "js") return settle(key, done(referenceEngine, false, reasons));
    const module = compileSync(platform, c, reasons);
    if (module === REFUSED) return settle(key, done(referenceEngine, false, reasons));
    const e = tryModule(module, options, reasons);
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
  if (want !== undefined && !BACKENDS.includes(want)) {
    throw new XentError("INVALID_OPTION", `backend must be ${BACKENDS.map((b) => `"${b}"`).join(", ")}, got ${JSON.stringify(want)}`);
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
function candidates(platform: Platform, options: InitOptions, reasons: string[]): Array<Candidate | "js"> {
  if (options.backend === "js") return ["js"];
  if (typeof WebAssembly !== "object") {
    reasons.push("WebAssembly is not available here");
    return ["js"];
  }
  if (options.module !== undefined) return [{ source: options.module, build: null, what: "the module given" }, "js"];
  if (options.debug) {
    if (platform.debug === undefined)
      throw new XentError("BACKEND_UNAVAILABLE", "the debug build is only packaged for Node (import xent's Node entry)");
    return [{ source: platform.debug(), build: null, what: "the debug module" }, "js"];
  }
  const from = Math.max(
    0,
    BUILDS.findIndex((b) => b.backend === options.backend),
  );
  return [...BUILDS.slice(from).map((b) => ({ source: platform.modules[b.backend](), build: b, what: b.what })), "js"];
}

function done(e: Engine, verified: boolean, reasons: string[]): EngineInfo {
  engine = e;
  const reason = reasons.length > 0 ? reasons.join("; ") : undefined;
  info = { backend: e.name, verified: e.name !== "js" && verified, ...(reason === undefined ? {} : { reason }) };
  return { ...info };
}

/** Instantiates and verifies one module; null (with a reason) when it cannot be used. */
function tryModule(module: WebAssembly.Module | null, options: InitOptions, reasons: string[]): Engine | null {
  if (module === null) return null;
  const e = instantiate(module, options.debug === true);
  if (options.backend !== undefined && options.backend !== e.name) {
    throw new XentError("BACKEND_UNAVAILABLE", `backend "${options.backend}" was requested but the module is a "${e.name}" build`);
  }
  if (options.verify !== false) {
    const why = verifyModule(e.exports, e.memory.scratchBase);
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
  return new WasmEngine(buildOf(exports).backend, exports);
}

function abortHandler(): never {
  throw new Error("xent: assertion failed in the WebAssembly module (use init({ debug: true }) for the message)");
}

let loader: Loader | null = null;

/** Loads @assemblyscript/loader ahead of a debug initSync (it is an optional, Node-only path). */
export async function preloadDebugLoader(platform: Platform = universal): Promise<void> {
  if (platform.loader === undefined)
    throw new XentError("BACKEND_UNAVAILABLE", "the debug build is only packaged for Node (import xent's Node entry)");
  loader ??= await platform.loader();
}

function instantiateDebug(module: WebAssembly.Module): ModuleExports {
  if (loader === null) {
    throw new XentError("BACKEND_UNAVAILABLE", "the debug build needs @assemblyscript/loader: use `await init({ debug: true })`");
  }
  // The loader supplies env.abort, which decodes the assertion's message, file and line.
  return loader.instantiateSync(module, {}).exports as unknown as ModuleExports;
}

// ---------------------------------------------------------------------------------------------
// Compiling a candidate. SIMD detection is compiling the real SIMD module: it fails to validate
// where SIMD is missing. A CompileError on bytes that validate means compiling is forbidden here.

/** Returned when the runtime forbids compiling WebAssembly: no other module will compile either. */
const REFUSED = Symbol("refused");
type Compiled = WebAssembly.Module | null | typeof REFUSED;

/** Records why a candidate failed to compile and says whether compiling is refused altogether. */
function failed(c: Candidate, error: unknown, bytes: BufferSource | null, reasons: string[]): Compiled {
  if (!(error instanceof WebAssembly.CompileError)) throw error;
  const message = error.message;
  // Bytes that validate but do not compile: the embedder forbids code generation (workerd, CSP).
  const refused =
    bytes !== null ? WebAssembly.validate(bytes) : /disallowed|refused|not allowed|unsafe-eval|code generation/i.test(message);
  if (refused) {
    reasons.push(`compiling WebAssembly is not allowed here (${message})`);
    return REFUSED;
  }
  const needs = c.build?.needs;
  if (needs !== undefined && !WebAssembly.validate(needs.probe as Uint8Array<ArrayBuffer>))
    reasons.push(`${needs.name} is not supported here (${c.what} does not validate)`);
  else reasons.push(`${c.what} does not compile here (${message})`);
  return null;
}

function checkMagic(bytes: BufferSource, where: string): void {
  const b = ArrayBuffer.isView(bytes)
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, Math.min(4, bytes.byteLength))
    : new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) {
    throw new XentError(
      "BACKEND_UNAVAILABLE",
      `${where} is not a WebAssembly module (it does not start with \\0asm): was the .wasm file copied next to the bundle? ` +
        `Bundlers that do not copy assets referenced by new URL(..., import.meta.url) (esbuild) need "xent/inline"`,
    );
  }
}

function isBytes(s: ModuleSource): s is BufferSource {
  return ArrayBuffer.isView(s) || s instanceof ArrayBuffer;
}

/** A Response or a promise of one; by shape (in Node, touching the global Response loads undici: ~50 ms). */
function isResponse(s: ModuleSource): s is Response | Promise<Response> {
  if (typeof s !== "object" || s === null) return false;
  const r = s as Partial<Response> & { then?: unknown };
  return typeof r.then === "function" || (typeof r.arrayBuffer === "function" && typeof r.headers === "object");
}

function toUrl(s: URL | string): URL {
  if (s instanceof URL) return s;
  const here = (globalThis as { location?: { href: string } }).location?.href;
  const cwd = (globalThis as { process?: { cwd?: () => string } }).process?.cwd?.();
  return new URL(s, here ?? (cwd !== undefined ? `file://${cwd}/` : undefined));
}

function compileSync(platform: Platform, c: Candidate, reasons: string[]): Compiled {
  const source = c.source;
  if (source instanceof WebAssembly.Module) return source;
  let bytes: BufferSource;
  if (isBytes(source)) bytes = source;
  else if (source instanceof URL || typeof source === "string") bytes = readSync(platform, toUrl(source));
  else
    throw new XentError("INVALID_OPTION", "initSync: module must be a WebAssembly.Module, bytes, or a file URL (a Response needs init())");
  checkMagic(bytes, c.what);
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    return failed(c, e, bytes, reasons);
  }
}

async function compileAsync(platform: Platform, c: Candidate, reasons: string[]): Promise<Compiled> {
  const source = c.source;
  if (source instanceof WebAssembly.Module) return source;
  let bytes: BufferSource;
  if (isBytes(source)) {
    bytes = source;
  } else if (isResponse(source)) {
    return compileResponse(c, await source, reasons);
  } else {
    const url = toUrl(source);
    if (url.protocol === "file:" && platform.readFile !== undefined) {
      bytes = readSync(platform, url); // a few KB: reading synchronously is the fastest cold start
    } else if (url.protocol === "data:" && typeof fetch !== "function") {
      throw new XentError("BACKEND_UNAVAILABLE", `cannot load ${url.href.slice(0, 40)}...: no fetch here`);
    } else {
      return compileResponse(c, await fetchModule(url), reasons);
    }
  }
  checkMagic(bytes, c.what);
  try {
    return await compileBytes(bytes);
  } catch (e) {
    return failed(c, e, bytes, reasons);
  }
}

/**
 * Compiles bytes: synchronously, which for these few tens of KB is faster than the round trip of
 * WebAssembly.compile (measured: Node ~1.5 ms against ~2 ms; Chromium ~3 ms against 4 to 20 ms);
 * asynchronously where the runtime limits synchronous compiles (older Chrome on the main thread:
 * a RangeError over 4 KB).
 */
async function compileBytes(bytes: BufferSource): Promise<WebAssembly.Module> {
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    if (e instanceof RangeError) return WebAssembly.compile(bytes);
    throw e;
  }
}

async function fetchModule(url: URL): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new XentError("BACKEND_UNAVAILABLE", `cannot fetch ${url.href}: ${(e as Error).message}`);
  }
  return response;
}

/** A Response: compileStreaming when it is served as application/wasm, else its bytes. */
async function compileResponse(c: Candidate, response: Response, reasons: string[]): Promise<Compiled> {
  if (!response.ok) throw new XentError("BACKEND_UNAVAILABLE", `cannot fetch ${response.url || c.what}: HTTP ${response.status}`);
  const type = response.headers.get("content-type") ?? "";
  if (typeof WebAssembly.compileStreaming === "function" && /^application\/wasm\s*(;|$)/i.test(type)) {
    try {
      return await WebAssembly.compileStreaming(response);
    } catch (e) {
      return failed(c, e, null, reasons);
    }
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  checkMagic(bytes, `${response.url || c.what} (served as ${type || "no content type"})`);
  try {
    return await compileBytes(bytes);
  } catch (e) {
    return failed(c, e, bytes, reasons);
  }
}

function readSync(platform: Platform, url: URL): Uint8Array<ArrayBuffer> {
  if (url.protocol !== "file:" || platform.readFile === undefined) {
    throw new XentError("BACKEND_UNAVAILABLE", `initSync cannot read ${url.href} here: use await init(), or initSync({ module })`);
  }
  let b: Uint8Array;
  try {
    b = platform.readFile(url);
  } catch (e) {
    throw new XentError(
      "BACKEND_UNAVAILABLE",
      `cannot read ${url.href}: ${(e as Error)?.message ?? e} ("xent/inline" embeds the modules and reads no file; Deno needs --allow-read otherwise)`,
    );
  }
  return (b.buffer instanceof ArrayBuffer ? b : new Uint8Array(b)) as Uint8Array<ArrayBuffer>;
}

// ---------------------------------------------------------------------------------------------
// The universal platform, for the package's main file (dist/index.js) used without an exports
// condition: files next to the package, read from disk where Node's fs is at hand, else fetched.
// The URLs are built from a variable, so that bundlers do not copy the files for entries that do
// not use this platform (each entry in src/entries/ names its own files).

const WASM_DIR = "../../wasm/";

type NodeFs = { readFileSync(p: URL): Uint8Array };

function nodeFs(): NodeFs | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (p?.getBuiltinModule?.("node:fs") as NodeFs | undefined) ?? null;
}

const LOADER = "@assemblyscript/loader";

const universal: Platform = {
  name: "universal",
  modules: {
    "wasm-simd": () => new URL(`${WASM_DIR}xent.simd.wasm`, import.meta.url),
    wasm: () => new URL(`${WASM_DIR}xent.wasm`, import.meta.url),
  },
  debug: () => new URL(`${WASM_DIR}xent.debug.wasm`, import.meta.url),
  get readFile() {
    const fs = nodeFs();
    return fs === null ? undefined : (url: URL) => fs.readFileSync(url);
  },
  loader: () => import(/* @vite-ignore */ LOADER) as Promise<Loader>,
};

let lastPlatform: Platform | null = null;

/**
 * The platform of the entry init() was last called through (the universal one before any): for
 * code inside the library that (re)initialises as the user's entry does, e.g. a fallback.
 */
export function currentPlatform(): Platform {
  return lastPlatform ?? universal;
}

/**
 * Compiles and instantiates the engine, once: the SIMD module where SIMD validates, else the
 * scalar module, else the plain TypeScript reference; each WebAssembly engine is checked against
 * the reference by a small battery first (`verify: false` skips it) and passed over if it
 * disagrees. Every measure is synchronous once the promise has resolved, and throws
 * `NOT_INITIALIZED` before (a measure never initialises by itself). Idempotent: later calls with
 * the same options resolve to the same engine; other options switch engines.
 *
 * Options: `backend` forces `"wasm-simd"`, `"wasm"` or `"js"`; `module` gives the module (a
 * `WebAssembly.Module` on edge runtimes, bytes, a URL or a Response); `debug: true` the build with
 * assertions (Node).
 *
 * @returns {@link EngineInfo}: `{ backend, verified, reason? }`
 * @throws {@link XentError} `INVALID_OPTION`, `BACKEND_UNAVAILABLE` (a forced engine cannot run here)
 * @example
 * ```ts
 * import { init, backend, crossEntropy } from "xent";
 * await init();                      // { backend: "wasm-simd", verified: true }
 * backend();                         // "wasm-simd"
 * await init({ backend: "js" });     // switch to the reference, e.g. to compare
 * await init();                      // and back
 * ```
 */
export function init(options: InitOptions = {}): Promise<EngineInfo> {
  return initWith(universal, options);
}

/**
 * As {@link init}, synchronously: reads the packaged module from disk (Node, Bun, Deno), or takes
 * `module` (a `WebAssembly.Module` or its bytes). Browsers allow synchronous compilation of small
 * modules only on workers; use `await init()` there.
 *
 * @returns {@link EngineInfo}
 * @throws {@link XentError} `INVALID_OPTION`, `BACKEND_UNAVAILABLE`
 * @example
 * ```ts
 * import { initSync, entropy } from "xent";
 * initSync();
 * entropy([0.25, 0.25, 0.25, 0.25], { base: 2 }); // 2 bits
 * ```
 */
export function initSync(options: InitOptions = {}): EngineInfo {
  return initSyncWith(universal, options);
}

// ---------------------------------------------------------------------------------------------

/**
 * A typed array of `length` elements in the module's memory, for zero-copy calls: fill `.view`,
 * pass the WasmArray (or its view) to any measure. Take `.view` again after any later allocate(),
 * which may grow memory and detach earlier views. With the "js" engine the block is ordinary
 * memory (an ArrayBuffer: no WebAssembly needed). `free()` the block when done.
 *
 * @param ctor `Float32Array`, `Float64Array` or `Int32Array`
 * @param length number of elements
 * @returns a {@link WasmArray} whose `.view` is the typed array
 * @throws {@link XentError} `INVALID_TYPE` for another array type or a length that is not an integer >= 0,
 *   `OUT_OF_MEMORY` when the module's memory cannot grow that far, `NOT_INITIALIZED`
 * @example
 * ```ts
 * import { init, allocate, crossEntropy } from "xent";
 * await init();
 * const logits = allocate(Float32Array, 2 * 3);     // lives in WebAssembly memory
 * logits.view.set([1, 2, 3, 3, 2, 1]);              // or have a model write into it
 * crossEntropy(new Int32Array([2, 0]), logits);      // 0.407606, the logits not copied
 * logits.free();
 * ```
 */
export function allocate<T extends FloatArray | Int32Array>(
  ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
  length: number,
): WasmArray<T> {
  const e = currentEngine();
  if (e instanceof WasmEngine) return e.memory.allocate(ctor, length);
  return jsMemory().allocate(ctor, length);
}

const PAGE = 65536;

/**
 * What Memory needs of a WebAssembly.Memory, on a plain ArrayBuffer: growing moves the contents to
 * a larger buffer and detaches the old one where the runtime can (ArrayBuffer.prototype.transfer),
 * as WebAssembly memory growth does.
 */
class PlainMemory {
  #buffer = new ArrayBuffer(PAGE);
  get buffer(): ArrayBuffer {
    return this.#buffer;
  }
  grow(pages: number): number {
    const before = this.#buffer.byteLength / PAGE;
    const bytes = (before + pages) * PAGE;
    const old = this.#buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
    if (typeof old.transfer === "function") {
      this.#buffer = old.transfer(bytes);
    } else {
      const next = new ArrayBuffer(bytes);
      new Uint8Array(next).set(new Uint8Array(old));
      this.#buffer = next;
    }
    return before;
  }
}

let plain: Memory | null = null;
function jsMemory(): Memory {
  plain ??= new Memory(new PlainMemory() as unknown as WebAssembly.Memory, 0);
  return plain;
}
