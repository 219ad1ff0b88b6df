// The WebAssembly engine: runs a kernel call on the module, chunk by chunk (src/engine/chunker.ts).
import type { Backend } from "../types.js";
import type { Engine } from "./engine.js";
import type { Call, ModuleExports } from "../kernels/table.js";
import { Chunks, type Limits } from "./chunker.js";
import { Memory } from "./memory.js";

/**
 * Chunks of about 128 KiB per copied input stay in the L2 cache between the copy and the kernel's
 * read; 16384 results per chunk bound the index and result areas of the scratch region.
 */
export const ENGINE_LIMITS: Limits = { inputBytes: 1 << 17, values: 1 << 14 };

export class WasmEngine implements Engine {
  readonly memory: Memory;

  constructor(
    readonly name: Backend,
    readonly exports: ModuleExports,
  ) {
    this.memory = new Memory(exports.memory, exports.heap_base());
  }

  run(call: Call): void {
    const k = call.kernel;
    if (k.export === null) {
      k.reference(call);
      return;
    }
    const mem = this.memory;
    // Laid out before the scratch region may grow (for a row larger than it: over 1 MiB): growth
    // detaches the views of the inputs passed in place, and Chunks has read their addresses already.
    const chunks = new Chunks(call, mem, ENGINE_LIMITS, 1, mem.scratchBytes);
    chunks.begin(mem.scratch(chunks.stageBytes));
    const fn = (this.exports as unknown as Record<string, (...a: number[]) => void>)[chunks.exportName];
    for (let i = 0; i < chunks.count; i++) {
      chunks.stage(i);
      fn.apply(null, chunks.args);
      chunks.collect(i);
    }
  }
}
