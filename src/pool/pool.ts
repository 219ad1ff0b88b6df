// createPool(): the measures on every core. `threads` workers each instantiate the threads build of
// the same AssemblyScript source on one shared WebAssembly.Memory; a call cuts its rows into
// contiguous pieces that the workers take as they become free, and the calling thread reduces the
// per-row values in row order, so results are bit-for-bit those of the single-thread SIMD engine. Where shared memory or workers
// are unavailable, the pool runs the ordinary single-thread engine and says why (pool.info.reason).
import { XentError, describe } from "../errors.js";
import type { Backend, FloatArray } from "../types.js";
import { type AsyncEngine, referenceEngine } from "../engine/engine.js";
import type { ModuleExports } from "../kernels/table.js";
import { currentEngine, engineInfo, init, allocate as engineAllocate, type ModuleSource } from "../engine/init.js";
import type { WasmArray } from "../engine/memory.js";
import { verifyModule } from "../engine/verify.js";
import { MEASURES, type MeasureName, type Measures } from "../measures/list.js";
import { runAsync, runSync } from "../measures/measure.js";
import { checkOptions } from "../measures/validate.js";
import { Runner, SharedMemory, KERNELS } from "./runner.js";
import { WORKER_SOURCE, JOB_BYTES, WORKER_BYTES } from "./worker-source.js";
import { compileThreads, defaultThreads, threadFactory, type Thread } from "./load.js";

/** Options of {@link createPool}. */
export interface PoolOptions {
  /**
   * Threads that compute (default: the number of cores, os.availableParallelism() /
   * navigator.hardwareConcurrency): the calling thread and threads - 1 workers, or, with
   * `useCallingThread: false`, `threads` workers.
   */
  threads?: number;
  /**
   * Whether the calling thread computes its share of each call (default true): it wakes the
   * workers, then takes pieces of rows itself, so it is busy for about 1/threads of the call's
   * work (the call still returns a promise). false keeps it free (a browser's main thread with an
   * animation to run): every piece then goes to the workers.
   */
  useCallingThread?: boolean;
  /** The threads build to use instead of the packaged wasm/xent.threads.wasm (a compiled module, bytes or a URL). */
  module?: ModuleSource;
  /** Most bytes the shared memory may grow to (default 4 GiB, the wasm32 limit); rounded up to 64 KiB pages. */
  maxMemory?: number;
  /** Run the verification battery on the threads build before trusting it (default true), as init() does. */
  verify?: boolean;
}

/** "wasm-simd-threads" with workers; otherwise the single-thread engine the pool fell back to. */
export type PoolBackend = "wasm-simd-threads" | Backend;

/** What a pool runs on: its engine, threads, and why it fell back to one thread, when it did. */
export interface PoolInfo {
  backend: PoolBackend;
  /** Threads that compute: the live workers and the calling thread when it computes; 1 on the fallback. */
  threads: number;
  /** Workers alive (0 on the fallback). */
  workers: number;
  /** Whether the calling thread computes its share (false on the fallback, where it computes everything). */
  callingThread: boolean;
  /** Threads asked for (or the default). */
  requested: number;
  /** Whether pool.allocate() returns shared memory that the workers read in place. */
  shared: boolean;
  /** Whether the engine computing was checked against the reference (the battery of init()). */
  verified: boolean;
  /** Why the pool runs on one thread, when it does; or why it has fewer workers than it started with. */
  reason?: string;
}

type ArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** Every measure, as a promise of what the synchronous function returns. */
export type PoolMeasures = { [K in MeasureName]: PoolMeasure<Measures[K]> };

/**
 * A measure on the pool's threads.
 *
 * @typeParam F the synchronous measure's signature
 */
// biome-ignore lint/suspicious/noExplicitAny: any measure's signature
export interface PoolMeasure<F extends (...args: any[]) => any> {
  /** As the synchronous measure of the same name (arguments, options, validation, the same bits), as a promise. */
  (...args: Parameters<F>): Promise<ReturnType<F>>;
}

/**
 * Worker threads over one shared WebAssembly memory, from {@link createPool}: promise-returning
 * versions of the measures, with the same signatures, options, validation and results (bit for bit)
 * as the synchronous functions.
 */
export interface Pool extends PoolMeasures {
  /** "wasm-simd-threads", or the single-thread engine the pool fell back to. */
  readonly backend: PoolBackend;
  /** Threads used, and why the pool fell back to one thread when it did. */
  readonly info: PoolInfo;
  /** True once close() was called. */
  readonly closed: boolean;
  /**
   * A typed array of `length` elements in the pool's shared memory: pass it (or its `.view`) to the
   * pool's measures and the workers read it in place, with no copy. Views never detach (shared
   * memory), but take `.view` again after later allocations to see a grown buffer's full length.
   */
  allocate<T extends FloatArray | Int32Array>(ctor: ArrayCtor<T>, length: number): WasmArray<T>;
  /** Lets calls already made finish, then terminates the workers. Later calls reject (BACKEND_UNAVAILABLE). */
  close(): Promise<void>;
}

class XentPool {
  readonly #runner: Runner | null;
  readonly #memory: SharedMemory | null;
  readonly #info: PoolInfo;
  #closing: Promise<void> | null = null;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(runner: Runner | null, memory: SharedMemory | null, info: PoolInfo) {
    this.#runner = runner;
    this.#memory = memory;
    this.#info = info;
    for (const name of Object.keys(MEASURES) as MeasureName[]) {
      Object.defineProperty(this, name, { value: (...args: unknown[]) => this.#call(name, args), enumerable: true });
    }
  }

  get backend(): PoolBackend {
    return this.#info.backend;
  }

  get info(): PoolInfo {
    const r = this.#runner;
    if (r === null || r.lost === 0) return { ...this.#info };
    // Workers died: the pool goes on with the others (and the calling thread).
    return {
      ...this.#info,
      threads: r.size,
      workers: r.workers,
      reason: `${r.lost} of the pool's workers died (the last: ${r.lostReason}); it goes on with ${r.size} computing thread${r.size === 1 ? "" : "s"}`,
    };
  }

  get closed(): boolean {
    return this.#closing !== null;
  }

  #open(fn: string): void {
    if (this.#closing !== null) throw new XentError("BACKEND_UNAVAILABLE", `pool.${fn}: this pool is closed`);
  }

  /**
   * Runs a measure on the workers: validated at once, then its kernel calls one call at a time, in
   * the order the calls were made (they share the staging area), each awaited on the runner.
   */
  async #call(name: MeasureName, args: unknown[]): Promise<unknown> {
    this.#open(name);
    const m = MEASURES[name];
    const runner = this.#runner;
    if (runner === null) return runSync(name, m.prepare(...args), currentEngine(), referenceEngine);
    const prepared = m.prepare(...args);
    let result: unknown;
    await this.#exclusive(async () => {
      result = await runAsync(name, prepared, runner as AsyncEngine, referenceEngine);
    });
    return result;
  }

  /** Calls take the workers one at a time, in the order they were made (they share the staging area). */
  #exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => {});
    return run;
  }

  allocate<T extends FloatArray | Int32Array>(ctor: ArrayCtor<T>, length: number): WasmArray<T> {
    this.#open("allocate");
    return this.#memory !== null ? this.#memory.allocate(ctor, length) : engineAllocate(ctor, length);
  }

  close(): Promise<void> {
    if (this.#closing === null) {
      const runner = this.#runner;
      this.#closing = this.#tail.then(() => runner?.close());
    }
    return this.#closing;
  }
}

const PAGE = 65536;
const MAX_PAGES = 65536;
const START_TIMEOUT_MS = 30_000;

/**
 * Starts a pool of `threads` workers over one shared WebAssembly memory. Its measures return
 * promises of exactly what the synchronous functions return (bit for bit). Falls back to the
 * single-thread engine (calling init() if needed) when SharedArrayBuffer, the threads build or
 * workers are unavailable; `pool.info.reason` says which.
 *
 * @throws XentError UNKNOWN_OPTION, INVALID_OPTION (bad options; an unusable platform is a fallback, not an error).
 * @example
 * const pool = await createPool({ threads: 4 });
 * const logits = pool.allocate(Float32Array, rows * classes); // shared: workers read it in place
 * model.writeLogitsInto(logits.view);
 * await pool.crossEntropy(labels, logits, { classes });
 * await pool.close();
 */
export async function createPool(options: PoolOptions = {}): Promise<Pool> {
  const o = checkOptions("createPool", options, ["threads", "module", "maxMemory", "verify", "useCallingThread"]);
  let requested: number;
  if (o.threads === undefined) requested = defaultThreads();
  else if (typeof o.threads === "number" && Number.isInteger(o.threads) && o.threads >= 1 && o.threads <= 1024) requested = o.threads;
  else throw new XentError("INVALID_OPTION", `threads must be an integer in [1, 1024], got ${describe(o.threads)}`);
  let pages = MAX_PAGES;
  if (o.maxMemory !== undefined) {
    const m = o.maxMemory;
    if (typeof m !== "number" || !Number.isFinite(m) || m < 1 << 24 || m > MAX_PAGES * PAGE) {
      throw new XentError("INVALID_OPTION", `maxMemory must be a number of bytes in [16 MiB, 4 GiB], got ${describe(m)}`);
    }
    pages = Math.ceil(m / PAGE);
  }
  if (o.verify !== undefined && typeof o.verify !== "boolean") {
    throw new XentError("INVALID_OPTION", `verify must be true or false, got ${describe(o.verify)}`);
  }
  if (o.useCallingThread !== undefined && typeof o.useCallingThread !== "boolean") {
    throw new XentError("INVALID_OPTION", `useCallingThread must be true or false, got ${describe(o.useCallingThread)}`);
  }
  const caller = o.useCallingThread !== false;
  const started = await start(caller ? requested - 1 : requested, caller, pages, o.module as ModuleSource | undefined, o.verify !== false);
  if ("runner" in started) {
    return asPool(
      new XentPool(started.runner, started.memory, {
        backend: "wasm-simd-threads",
        threads: requested,
        workers: started.runner.workers,
        callingThread: caller,
        requested,
        shared: true,
        verified: started.verified,
      }),
    );
  }
  // The fallback: the ordinary engine (init() with default options if nothing was initialised yet).
  try {
    currentEngine();
  } catch {
    await init();
  }
  const e = engineInfo();
  return asPool(
    new XentPool(null, null, {
      backend: e.backend,
      threads: 1,
      workers: 0,
      callingThread: false,
      requested,
      shared: false,
      verified: e.verified,
      reason: started.reason + (e.reason === undefined ? "" : `; the single-thread engine is ${e.backend}: ${e.reason}`),
    }),
  );
}

/** A pool's measure methods are defined per instance, from the list of measures. */
function asPool(p: XentPool): Pool {
  return p as unknown as Pool;
}

type Started = { runner: Runner; memory: SharedMemory; verified: boolean } | { reason: string };

async function start(threads: number, caller: boolean, pages: number, source: ModuleSource | undefined, verify: boolean): Promise<Started> {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; document?: unknown };
  const isolation =
    "a page must be cross-origin isolated (served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  if (typeof g.SharedArrayBuffer !== "function") {
    return {
      reason: `SharedArrayBuffer is not available here${g.document !== undefined || g.crossOriginIsolated !== undefined ? ` (${isolation})` : ""}`,
    };
  }
  if (g.crossOriginIsolated === false)
    return { reason: `not cross-origin isolated, so memory cannot be shared with workers: ${isolation}` };
  if (typeof WebAssembly !== "object") return { reason: "WebAssembly is not available here" };
  if (typeof Atomics !== "object" || typeof Atomics.wait !== "function") return { reason: "Atomics.wait is not available here" };
  const factory = threadFactory(WORKER_SOURCE);
  if ("reason" in factory) return factory;

  let module: WebAssembly.Module;
  try {
    module = await compileThreads(source);
  } catch (e) {
    const what =
      e instanceof WebAssembly.CompileError ? "does not compile here (WebAssembly threads or SIMD unsupported)" : "cannot be loaded";
    return { reason: `the threads build ${what}: ${(e as Error).message}` };
  }
  const imports = WebAssembly.Module.imports(module);
  if (imports.length !== 1 || imports[0].module !== "env" || imports[0].name !== "memory" || imports[0].kind !== "memory") {
    return {
      reason: `the module given is not xent's threads build (it must import only env.memory; it imports ${imports.map((i) => `${i.module}.${i.name}`).join(", ") || "nothing"})`,
    };
  }

  let memory: WebAssembly.Memory, exports: ModuleExports, mem: SharedMemory;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: pages, shared: true });
    if (!(memory.buffer instanceof SharedArrayBuffer)) return { reason: "WebAssembly shared memory is not available here" };
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as ModuleExports;
    mem = new SharedMemory(memory, exports.heap_base());
  } catch (e) {
    return { reason: `cannot set up the shared memory (${pages} pages at most): ${(e as Error).message}` };
  }
  if (exports.simd() !== 1) return { reason: "the module given is not a SIMD build" };
  if (verify) {
    const why = verifyModule(exports, mem.scratchBase);
    if (why !== null) return { reason: `the threads build disagreed with the reference at creation: ${why}` };
  }

  const ctlBytes = JOB_BYTES + threads * WORKER_BYTES;
  const ctl = mem.alloc(ctlBytes);
  new Uint8Array(mem.buffer, ctl, ctlBytes).fill(0);
  const notify = typeof (Atomics as { waitAsync?: unknown }).waitAsync !== "function";
  const spawned: Thread[] = [];
  try {
    for (let i = 0; i < threads; i++) spawned.push(factory.spawn(i));
    await Promise.all(
      spawned.map((t, i) => ready(t, { module, memory, job: ctl, ctl: ctl + JOB_BYTES + i * WORKER_BYTES, kernels: KERNELS, notify })),
    );
  } catch (e) {
    await Promise.all(spawned.map((t) => t.terminate().catch(() => {})));
    return { reason: `cannot start worker threads: ${(e as Error).message}` };
  } finally {
    factory.dispose();
  }
  return {
    runner: new Runner(mem, spawned, ctl, notify, exports as unknown as Record<string, unknown>, caller),
    memory: mem,
    verified: verify,
  };
}

/** Sends the worker its start message; resolves when it has instantiated the module. */
function ready(t: Thread, message: unknown): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a worker did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    const settle = (f: () => void) => {
      clearTimeout(timer);
      f();
    };
    t.onFailure((e) => settle(() => reject(e)));
    t.onMessage((m) => {
      if (m.type === "ready") settle(resolve);
      else if (m.type === "error") settle(() => reject(new Error(`the worker cannot instantiate the module: ${m.message}`)));
    });
    t.post(message); // throws DataCloneError where memory cannot be shared
  });
}
