// The entry for Node, Bun and Deno (exports conditions "node", "bun", "deno"): reads the packaged
// .wasm files from disk, next to the package (Deno needs --allow-read for them).
import { readFileSync } from "node:fs";
import { initWith, initSyncWith, type Platform, type InitOptions, type EngineInfo } from "../engine/init.js";

export * from "../index.js";

const platform: Platform = {
  name: "node",
  modules: {
    "wasm-simd": () => new URL("../../wasm/xent.simd.wasm", import.meta.url),
    wasm: () => new URL("../../wasm/xent.wasm", import.meta.url),
  },
  debug: () => new URL("../../wasm/xent.debug.wasm", import.meta.url),
  readFile: (url) => readFileSync(url),
  loader: () => import("@assemblyscript/loader"),
};

/** Compiles and instantiates the engine: the SIMD module, else the scalar one, else the reference. */
export function init(options: InitOptions = {}): Promise<EngineInfo> {
  return initWith(platform, options);
}

/** As init(), synchronously. */
export function initSync(options: InitOptions = {}): EngineInfo {
  return initSyncWith(platform, options);
}
