// Loading the threads build (wasm/xent.threads.wasm: SIMD + threads, imports only env.memory, a
// shared memory of at most 65536 pages) and the platform pieces a pool needs: worker threads and
// the number of cores.
import { XentError } from "../errors.js";
import type { ModuleSource } from "../engine/init.js";

/** Where the packaged threads build is; a function, so nothing is computed at import (workerd has no file URLs). */
export function threadsWasm(): URL {
  return new URL("../../wasm/xent.threads.wasm", import.meta.url);
}

type NodeFs = { promises: { readFile(p: URL): Promise<Uint8Array> } };

/** A Node built-in module, without a static import (browsers and bundlers never see one). */
export function builtin<T>(id: string): T | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (p?.getBuiltinModule?.(id) as T | undefined) ?? null;
}

/** Compiles the threads build from `source` (default: the packaged file). Throws CompileError when unsupported. */
export async function compileThreads(source: ModuleSource = threadsWasm()): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  let bytes: BufferSource;
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) bytes = source;
  else if (source instanceof URL || typeof source === "string") bytes = await read(toUrl(source));
  else bytes = await (await source).arrayBuffer();
  return WebAssembly.compile(bytes);
}

function toUrl(s: URL | string): URL {
  if (s instanceof URL) return s;
  const base =
    typeof location === "object" ? location.href : `file://${(globalThis as { process?: { cwd(): string } }).process?.cwd() ?? ""}/`;
  return new URL(s, base);
}

async function read(url: URL): Promise<BufferSource> {
  const fs = builtin<NodeFs>("node:fs");
  if (url.protocol === "file:" && fs !== null) return new Uint8Array(await fs.promises.readFile(url));
  const response = await fetch(url);
  if (!response.ok) throw new XentError("BACKEND_UNAVAILABLE", `cannot fetch ${url.href}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** Cores to use by default: os.availableParallelism() in Node, navigator.hardwareConcurrency elsewhere. */
export function defaultThreads(): number {
  const os = builtin<{ availableParallelism?: () => number; cpus(): unknown[] }>("node:os");
  if (os !== null) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
}

/** One worker thread, whatever the platform. */
export interface Thread {
  post(message: unknown): void;
  onMessage(listener: (message: { type: string; seq?: number; message?: string }) => void): void;
  /** Called once if the worker dies on its own (an uncaught error, or an exit we did not ask for). */
  onFailure(listener: (error: Error) => void): void;
  terminate(): Promise<void>;
  /** Node: whether the worker keeps the process alive (only while jobs are in flight). */
  ref(): void;
  unref(): void;
}

interface NodeWorker {
  postMessage(m: unknown): void;
  on(event: string, f: (...a: never[]) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}
type NodeWorkerThreads = { Worker: new (source: string, options: { eval: boolean; name?: string }) => NodeWorker };

/** How to start workers here, or why they cannot be started. */
export function threadFactory(source: string): { spawn: (i: number) => Thread; dispose: () => void } | { reason: string } {
  const wt = builtin<NodeWorkerThreads>("node:worker_threads");
  if (wt !== null) return { spawn: (i) => nodeThread(new wt.Worker(source, { eval: true, name: `xent-pool-${i}` })), dispose: () => {} };
  const W = (globalThis as { Worker?: new (url: string, options?: { type?: string; name?: string }) => Worker }).Worker;
  if (typeof W === "function" && typeof Blob === "function" && typeof URL.createObjectURL === "function") {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    return { spawn: (i) => webThread(new W(url, { type: "module", name: `xent-pool-${i}` })), dispose: () => URL.revokeObjectURL(url) };
  }
  return { reason: "no worker threads here (neither node:worker_threads nor Worker)" };
}

function nodeThread(w: NodeWorker): Thread {
  let ending = false;
  let failure: ((e: Error) => void) | null = null;
  const fail = (e: Error) => {
    if (ending || failure === null) return;
    const f = failure;
    failure = null;
    f(e);
  };
  w.on("error", (e: Error) => fail(e));
  w.on("exit", (code: number) => fail(new Error(`the worker exited (code ${code})`)));
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.on("message", f),
    onFailure: (f) => (failure = f),
    terminate: async () => {
      ending = true;
      await w.terminate();
    },
    ref: () => w.ref(),
    unref: () => w.unref(),
  };
}

function webThread(w: Worker): Thread {
  let ending = false;
  let failure: ((e: Error) => void) | null = null;
  w.addEventListener("error", (event) => {
    if (ending || failure === null) return;
    const f = failure;
    failure = null;
    f(new Error((event as ErrorEvent).message || "the worker failed"));
  });
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.addEventListener("message", (event) => f((event as MessageEvent).data)),
    onFailure: (f) => (failure = f),
    terminate: async () => {
      ending = true;
      w.terminate();
    },
    ref: () => {},
    unref: () => {},
  };
}
