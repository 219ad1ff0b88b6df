// The worker of a pool, as source text: the same script runs as a Node `worker_threads` worker
// (`new Worker(source, { eval: true })`, CommonJS, so `require` exists) and as a Web Worker (from a
// Blob URL, where `self` is the global). Keeping it a string means no second file to locate: it
// works the same from the TypeScript sources, the compiled package and any bundle.
//
// Protocol. The first message is { module, memory, job, ctl, kernels, notify }: the compiled
// threads build, the shared WebAssembly.Memory, the byte addresses of the job block (shared by all
// workers) and of this worker's control block, and the names of the kernels (jobs carry an index
// into this list). The worker instantiates the module on the memory (its own instance: its own
// globals, the same memory), answers { type: "ready" } (or { type: "error", message }), then serves
// jobs through shared memory only: between jobs it polls for SPIN_MS, then blocks in Atomics.wait.
//
//   job block (JOB_BYTES)        i32[0] kernel (-1: stop), i32[1] index of the row-count argument,
//                                i32[2] rows, i32[3] rows per piece, i32[4] next piece (Atomics.add);
//                                f64 arguments for row 0 at ARGS_AT, f64 per-row strides at STRIDES_AT
//   control block (WORKER_BYTES) i32[0] seq: written by the host (Atomics.store + notify) to start;
//                                i32[1] done: written by the worker when it has finished: seq, or
//                                -seq if a kernel threw
//
// Woken, a worker takes pieces (contiguous rows) until none is left: piece p is rows
// [p * piece, min((p + 1) * piece, rows)), its arguments args + r0 * strides with the row count
// set. Whichever worker is free takes the next piece, so a worker slowed down (its core busy with
// something else) takes fewer; every row is still computed by the same kernel, alone, so results do
// not depend on who computed what. A kernel that throws also posts { type: "fault", seq, message }
// before storing -seq. With `notify` (hosts without Atomics.waitAsync) the end of every job is also
// posted as { type: "done", seq }.
import { MAX_ARGS } from "../kernels/table.js";

/** Arguments for row 0 at byte 64, their per-row strides after them. */
export const ARGS_AT = 64;
export const STRIDES_AT = ARGS_AT + 8 * MAX_ARGS;
export const JOB_BYTES = Math.ceil((STRIDES_AT + 8 * MAX_ARGS) / 64) * 64;
export const WORKER_BYTES = 64;
/** The argument list of a kernel call from the array b, as source text. */
const CALL_ARGS = Array.from({ length: MAX_ARGS }, (_, j) => `b[${j}]`).join(", ");
/** How long a worker polls for its next job before it blocks (ms). */
const SPIN_MS = 1;

export const WORKER_SOURCE: string = `"use strict";
const wt = typeof require === "function" ? require("node:worker_threads") : null;
const port = wt !== null ? wt.parentPort : self;
const send = (m) => port.postMessage(m);
const describe = (e) => (e && e.message) ? String(e.message) : String(e);
function serve(m) {
  let exports;
  try {
    exports = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports;
  } catch (e) {
    send({ type: "error", message: describe(e) });
    return;
  }
  const fns = m.kernels.map((name) => exports[name]);
  const me = new Int32Array(m.memory.buffer, m.ctl, 2);
  const job = new Int32Array(m.memory.buffer, m.job, 5);
  const args = new Float64Array(m.memory.buffer, m.job + ${ARGS_AT}, ${MAX_ARGS});
  const strides = new Float64Array(m.memory.buffer, m.job + ${STRIDES_AT}, ${MAX_ARGS});
  const b = new Float64Array(${MAX_ARGS});
  send({ type: "ready" });
  let seen = 0;
  const clock = typeof performance === "object" ? performance : Date;
  for (;;) {
    // Spin first: a job that comes within SPIN_MS (back-to-back calls) starts without a wake-up.
    for (const end = clock.now() + ${SPIN_MS}; Atomics.load(me, 0) === seen && clock.now() < end;);
    Atomics.wait(me, 0, seen);
    const seq = Atomics.load(me, 0);
    if (seq === seen) continue;
    seen = seq;
    const k = job[0];
    if (k < 0) break;
    const f = fns[k], at = job[1], rows = job[2], piece = job[3];
    let status = seq;
    try {
      for (;;) {
        const r = Atomics.add(job, 4, 1) * piece;
        if (r >= rows) break;
        for (let j = 0; j < ${MAX_ARGS}; j++) b[j] = args[j] + r * strides[j];
        b[at] = Math.min(piece, rows - r);
        f(${CALL_ARGS});
      }
    } catch (e) {
      send({ type: "fault", seq, message: describe(e) });
      status = -seq;
    }
    Atomics.store(me, 1, status);
    Atomics.notify(me, 1);
    if (m.notify) send({ type: "done", seq });
  }
  if (wt === null) self.close();
  else port.close();
}
if (wt !== null) port.once("message", serve);
else self.onmessage = (event) => { self.onmessage = null; serve(event.data); };
`;
