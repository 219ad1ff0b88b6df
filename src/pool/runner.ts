// Runs kernels of the threads build over contiguous pieces of rows (about PIECES_PER_THREAD per
// computing thread; a free one takes the next piece, see worker-source.ts), on one shared memory.
// The calling thread is one of the computing threads unless the pool was made without it: having
// woken the workers it takes pieces too, through its own instance of the threads build, so a call
// on two cores wakes one worker, not two, and the calling thread does not sit idle meanwhile. A
// call of a single piece is computed on the calling thread alone. The
// TypeScript side owns that memory (src/engine/memory.ts): it lays out the job and control blocks,
// the staging area and the user's zero-copy blocks; the workers only compute.
//
// Calls move through the chunker (src/engine/chunker.ts) as on one thread, with POOL_LIMITS and two
// staging sets: while the workers compute chunk k from one set, the calling thread copies chunk
// k + 1 into the other. Memory therefore stays bounded (two sets, enlarged only for a single row
// over POOL_LIMITS.inputBytes), however many rows a call has.
//
// Per-row results are written by the kernels into the set's result slot and read back into the
// caller's Float64Array in row order: rows are the same rows, computed by the same kernels as on
// one thread, so every later sum sees exactly the same values in the same order.
import { XentError } from "../errors.js";
import { Memory } from "../engine/memory.js";
import { Chunks, type CopyStats, type Limits } from "../engine/chunker.js";
import { type Call, KERNEL_EXPORTS, MAX_ARGS } from "../kernels/table.js";
import { ARGS_AT, JOB_BYTES, STRIDES_AT, WORKER_BYTES } from "./worker-source.js";
import type { Thread } from "./load.js";

/**
 * Chunks of 2 MiB per copied input: each chunk is one hand-off to the workers (a wake-up and a
 * wait), so chunks are larger than on one thread, where 128 KiB keeps the copy in cache.
 */
export const POOL_LIMITS: Limits = { inputBytes: 1 << 21, values: 1 << 16 };
/** A chunk is cut into about this many pieces per worker; free workers take the next piece. */
const PIECES_PER_THREAD = 8;

/** Float bytes copied into staging by every pool (for tests of the zero-copy path). */
export const poolStats: CopyStats = { copiedBytes: 0 };

/** The kernels a job can name; workers receive this list and jobs carry an index into it. */
export const KERNELS = KERNEL_EXPORTS;

/** The pool's memory: records every SharedArrayBuffer it hands out, so views on any of them are recognised. */
export class SharedMemory extends Memory {
  readonly #buffers = new WeakSet<ArrayBufferLike>();
  override get buffer(): ArrayBuffer {
    const b = this.memory.buffer as ArrayBuffer;
    this.#buffers.add(b);
    return b;
  }
  /** True when `a` is a view on this memory (any of its buffers: shared buffers are never detached). */
  override holds(a: ArrayBufferView): boolean {
    return a.buffer === this.memory.buffer || this.#buffers.has(a.buffer);
  }
}

interface Waiter {
  seq: number;
  resolve: () => void;
}

export class Runner {
  readonly name = "wasm-simd-threads";
  readonly #threads: Thread[];
  /** Workers that died (killed, or an uncaught error): never woken again. */
  readonly #dead: boolean[];
  /** The kernels of the calling thread's instance: it computes pieces when `#callerComputes`, and redoes a chunk a dying worker left. */
  readonly #local: Array<(...a: number[]) => void>;
  readonly #callerComputes: boolean;
  readonly #job: number;
  readonly #ctl: number[];
  readonly #seq: number[];
  readonly #notify: boolean;
  readonly #waiters: Array<Waiter | null>;
  readonly #faults: Array<Map<number, string>>;
  #broken: Error | null = null;
  readonly #onBroken = new Set<(e: Error) => void>();
  #stage = { ptr: 0, bytes: 0 };
  #inflight = 0;
  #lostWhy = "";
  /** Per worker: called when it dies while a job waits for it. */
  readonly #lostListeners: Array<(() => void) | null> = [];

  constructor(
    readonly mem: SharedMemory,
    threads: Thread[],
    ctl: number,
    notify: boolean,
    local: Record<string, unknown>,
    callerComputes: boolean,
  ) {
    this.#threads = threads;
    this.#dead = threads.map(() => false);
    this.#local = KERNELS.map((name) => local[name] as (...a: number[]) => void);
    this.#callerComputes = callerComputes;
    this.#job = ctl;
    this.#ctl = threads.map((_, i) => ctl + JOB_BYTES + i * WORKER_BYTES);
    this.#seq = threads.map(() => 0);
    this.#notify = notify;
    this.#waiters = threads.map(() => null);
    this.#faults = threads.map(() => new Map());
    threads.forEach((t, i) => {
      t.onMessage((m) => {
        if (m.type === "fault") this.#faults[i].set(m.seq!, m.message ?? "unknown error");
        else if (m.type === "done") {
          const w = this.#waiters[i];
          if (w !== null && w.seq === m.seq) {
            this.#waiters[i] = null;
            w.resolve();
          }
        }
      });
      t.onFailure((e) => this.#lose(i, e));
      t.unref();
    });
  }

  /** Workers alive. */
  get workers(): number {
    return this.#dead.filter((d) => !d).length;
  }

  /** Threads that compute: the live workers, and the calling thread when it computes. */
  get size(): number {
    const workers = this.workers;
    return workers + (this.#callerComputes || workers === 0 ? 1 : 0);
  }

  /** Why the last worker lost died ("" if none did). */
  get lostReason(): string {
    return this.#lostWhy;
  }

  /** Workers lost so far. */
  get lost(): number {
    return this.#dead.filter((d) => d).length;
  }

  /**
   * Worker i died. It is never woken again; a job it was part of ends (its waiter resolves) and the
   * job's rows are then computed again by the calling thread (#dispatch). Later calls run on the
   * workers left (and the calling thread), so the pool stays usable.
   */
  #lose(i: number, e: Error): void {
    if (this.#dead[i]) return;
    this.#dead[i] = true;
    this.#lostWhy = `pool worker ${i} died: ${e.message}`;
    const w = this.#waiters[i];
    this.#waiters[i] = null;
    w?.resolve();
    const l = this.#lostListeners[i];
    this.#lostListeners[i] = null;
    l?.();
  }

  #break(e: Error): void {
    if (this.#broken !== null) return;
    this.#broken = e;
    for (const f of this.#onBroken) f(e);
    this.#onBroken.clear();
  }

  /** Runs one kernel call over all its rows; resolves when its results (and gradient) are in place. */
  async run(call: Call): Promise<void> {
    if (this.#broken !== null) throw this.#broken;
    const k = call.kernel;
    if (k.export === null) return k.reference(call);
    if (call.rows === 0) return;
    const chunks = new Chunks(call, this.mem, POOL_LIMITS, 2, Infinity, poolStats);
    chunks.begin(this.#reserve(chunks.stageBytes));
    const kernel = KERNELS.indexOf(chunks.exportName);
    this.#begin();
    try {
      let pending: { done: Promise<void>; k: number } | null = null;
      for (let i = 0; i < chunks.count; i++) {
        // Stage chunk i (while the workers compute chunk i - 1 from the other set).
        chunks.stage(i);
        const args = chunks.args.slice();
        if (pending !== null) {
          await pending.done;
          chunks.collect(pending.k);
        }
        pending = { done: this.#dispatch(kernel, args, chunks, i), k: i };
      }
      await pending!.done;
      chunks.collect(pending!.k);
    } finally {
      this.#end();
    }
  }

  /**
   * Runs the kernel over n rows: the job block holds its arguments for row 0 and how each moves per
   * row; the workers (and the calling thread) take contiguous pieces of rows until none is left.
   * Resolves when all are done. If a worker died meanwhile, the calling thread computes all n rows
   * of chunk k again once the others are done (each row's results depend on that row alone, so
   * redoing rows changes nothing but the time).
   */
  async #dispatch(kernel: number, args: number[], chunks: Chunks, k: number): Promise<void> {
    // The arguments for row 0 of the chunk and how each moves per row (the kernel's layout).
    const n = chunks.rows(k);
    const moves = chunks.strides();
    const count = chunks.countAt;
    const live: number[] = [];
    this.#dead.forEach((d, i) => {
      if (!d) live.push(i);
    });
    const caller = this.#callerComputes || live.length === 0 ? 1 : 0;
    const computing = live.length + caller;
    const piece = Math.max(1, Math.ceil(n / (computing * PIECES_PER_THREAD)));
    const pieces = Math.ceil(n / piece);
    const used = Math.min(live.length, pieces - caller); // a call of one piece runs on the calling thread alone
    const buffer = this.mem.buffer;
    const head = new Int32Array(buffer, this.#job, 5);
    const a = new Float64Array(buffer, this.#job + ARGS_AT, MAX_ARGS),
      stride = new Float64Array(buffer, this.#job + STRIDES_AT, MAX_ARGS);
    for (let j = 0; j < MAX_ARGS; j++) {
      a[j] = j < args.length ? args[j] : 0;
      stride[j] = j < moves.length ? moves[j] : 0;
    }
    head[0] = kernel;
    head[1] = count;
    head[2] = n;
    head[3] = piece;
    Atomics.store(head, 4, 0);
    const lostBefore = this.lost;
    const woken: Woken[] = [];
    for (let k = 0; k < used; k++) woken.push(this.#wake(buffer, live[k]));
    let fault: unknown = null;
    if (caller === 1) {
      try {
        this.#pieces(this.#local[kernel], head, a, stride, count, n, piece, true);
      } catch (e) {
        fault = e;
      }
    }
    // The calling thread has taken the last piece: the workers are finishing theirs, so it waits for
    // them briefly in place (where it may block) rather than through the event loop.
    const waits = woken.map((w) => this.#finished(w, caller === 1));
    // Every worker woken must have finished before this job's memory is reused, even when the
    // calling thread's part failed.
    const settled = await Promise.allSettled(waits);
    if (fault !== null)
      throw new XentError("BACKEND_UNAVAILABLE", `the pool's calling thread failed in a kernel: ${(fault as Error)?.message ?? fault}`);
    for (const s of settled) if (s.status === "rejected") throw s.reason;
    if (this.lost !== lostBefore) {
      // A worker died during the job: whatever it had taken is redone, with everything else, here,
      // from the values the kernel reads per row (it has overwritten the gradients' scales).
      try {
        chunks.refillOutIn(k);
        Atomics.store(head, 4, 0);
        this.#pieces(this.#local[kernel], head, a, stride, count, n, piece, false);
      } catch (e) {
        throw new XentError("BACKEND_UNAVAILABLE", `the pool's calling thread failed in a kernel: ${(e as Error)?.message ?? e}`);
      }
    }
  }

  /** The piece loop of worker-source.ts, on the calling thread: takes pieces (shared: from the job block's counter) until none is left. */
  #pieces(
    f: (...a: number[]) => void,
    head: Int32Array,
    a: Float64Array,
    stride: Float64Array,
    count: number,
    n: number,
    piece: number,
    shared: boolean,
  ): void {
    const b = this.#args;
    for (let p = 0; ; p++) {
      const r = (shared ? Atomics.add(head, 4, 1) : p) * piece;
      if (r >= n) break;
      for (let j = 0; j < MAX_ARGS; j++) b[j] = a[j] + r * stride[j];
      b[count] = Math.min(piece, n - r);
      f.apply(null, b as unknown as number[]);
    }
  }
  readonly #args = new Float64Array(MAX_ARGS);

  /** Wakes worker i for the job in the job block (the store of seq publishes it). */
  #wake(buffer: ArrayBuffer, i: number): Woken {
    const i32 = new Int32Array(buffer, this.#ctl[i], 2);
    const before = Atomics.load(i32, 1); // the worker is idle: its previous job on this pool has ended
    const seq = this.#seq[i] >= 0x3fffffff ? 1 : this.#seq[i] + 1;
    this.#seq[i] = seq;
    const w: Woken = { i, i32, before, seq, message: null };
    if (this.#notify) w.message = this.#doneMessage(i, seq); // before the worker can answer
    Atomics.store(i32, 0, seq);
    Atomics.notify(i32, 0);
    return w;
  }

  /**
   * Resolves when worker w.i has finished the job (rejects if it failed in a kernel); at once if it
   * died. With `block`, first polls its done flag for up to BLOCK_MS where this thread may block
   * (Node, Deno, Bun, workers; not a browser's main thread), then through the event loop.
   */
  #finished(w: Woken, block: boolean): Promise<void> {
    const { i, i32, before, seq } = w;
    if (this.#dead[i]) return Promise.resolve();
    if (block && canBlock()) {
      // Polled, not slept on (Atomics.wait): the worker's last piece ends within a piece's time,
      // and a wake-up from a wait would add its latency to every call.
      const end = performance.now() + BLOCK_MS;
      while (Atomics.load(i32, 1) === before && performance.now() < end);
    }
    if (Atomics.load(i32, 1) !== before) {
      if (w.message !== null) {
        // its "done" message is not needed: settle what waits for it
        const waiter = this.#waiters[i];
        this.#waiters[i] = null;
        waiter?.resolve();
      }
      return Atomics.load(i32, 1) === seq ? Promise.resolve() : this.#status(i, i32, seq);
    }
    const done = w.message ?? this.#doneAtomic(i, i32, before);
    return done.then(() => (this.#dead[i] ? undefined : this.#status(i, i32, seq)));
  }

  /**
   * Resolves when done (i32[1]) has moved on from `before`, or worker i died. A wake-up alone proves
   * nothing: the worker's notify of its previous job can arrive after the calling thread has seen
   * that job's done flag (it reads the flag before the worker notifies) and woken the worker again,
   * so the flag is checked after every wake-up and the wait repeated until it has moved.
   */
  #doneAtomic(i: number, i32: Int32Array, before: number): Promise<void> {
    const lost = new Promise<void>((resolve) => (this.#lostListeners[i] = resolve));
    const wait = async (): Promise<void> => {
      while (!this.#dead[i] && Atomics.load(i32, 1) === before) {
        const r = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(i32, 1, before);
        if (r.async) await Promise.race([r.value, lost]);
      }
      this.#lostListeners[i] = null;
    };
    return this.#orBroken(wait());
  }

  #doneMessage(i: number, seq: number): Promise<void> {
    return this.#orBroken(new Promise<void>((resolve) => (this.#waiters[i] = { seq, resolve })));
  }

  /** `p`, or a rejection if a worker dies first. */
  #orBroken(p: Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#broken !== null) return reject(this.#broken);
      this.#onBroken.add(reject);
      p.then(() => {
        this.#onBroken.delete(reject);
        resolve();
      });
    });
  }

  /** Throws if the job threw in the worker (with its message, which the worker posts before storing -seq). */
  async #status(i: number, i32: Int32Array, seq: number): Promise<void> {
    const status = Atomics.load(i32, 1);
    if (status === seq) return;
    for (let wait = 0; !this.#faults[i].has(seq) && wait < 20; wait++) await new Promise((r) => setTimeout(r, 5));
    const why = this.#faults[i].get(seq);
    this.#faults[i].delete(seq);
    throw new XentError("BACKEND_UNAVAILABLE", `pool worker ${i} failed in a kernel: ${why ?? `status ${status}`}`);
  }

  /** The staging area, at least `bytes` long (kept between calls; enlarged when a call needs more). */
  #reserve(bytes: number): number {
    if (bytes > this.#stage.bytes) {
      if (this.#stage.bytes > 0) this.mem.free(this.#stage.ptr);
      this.#stage = { ptr: 0, bytes: 0 };
      this.#stage = { ptr: this.mem.alloc(bytes), bytes };
    }
    return this.#stage.ptr;
  }

  /** Node: workers keep the process alive only while jobs run. */
  #begin(): void {
    if (this.#inflight++ === 0) for (const t of this.#threads) t.ref();
  }

  #end(): void {
    if (--this.#inflight === 0) for (const t of this.#threads) t.unref();
  }

  /** Asks every worker to stop, then terminates it. */
  async close(): Promise<void> {
    const buffer = this.mem.buffer;
    Atomics.store(new Int32Array(buffer, this.#job, 1), 0, -1);
    this.#threads.forEach((_, i) => {
      const i32 = new Int32Array(buffer, this.#ctl[i], 2);
      Atomics.store(i32, 0, this.#seq[i] >= 0x3fffffff ? 1 : this.#seq[i] + 1);
      Atomics.notify(i32, 0);
    });
    this.#break(new XentError("BACKEND_UNAVAILABLE", "this pool is closed"));
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }
}

/** A worker woken for a job: where it reports, what it held before, and (without waitAsync) its "done" message. */
interface Woken {
  i: number;
  i32: Int32Array;
  before: number;
  seq: number;
  message: Promise<void> | null;
}

/** Longest the calling thread polls in place for a worker finishing its last piece (ms); then it waits asynchronously. */
const BLOCK_MS = 2;

let blocking: boolean | null = null;
/** Whether Atomics.wait may block this thread (not on a browser's main thread). */
function canBlock(): boolean {
  if (blocking === null) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // "not-equal" where allowed
      blocking = true;
    } catch {
      blocking = false;
    }
  }
  return blocking;
}

/** Atomics.waitAsync (ES2024; Node 16+, Chrome 87+, Safari 16.4+), missing from the ES2023 lib. */
interface AtomicsWithWaitAsync {
  waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}
