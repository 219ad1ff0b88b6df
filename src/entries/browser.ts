// The entry for browsers and bundlers (exports conditions "browser", "default"): fetches the
// packaged .wasm with `new URL(..., import.meta.url)`, which bundlers (Vite, webpack, Parcel,
// Rollup with a URL plugin) recognise and copy, and compiles it while it downloads
// (WebAssembly.compileStreaming, when it is served as application/wasm). Bundlers that do not copy
// such assets (esbuild) want "xent/inline".
import { initWith, initSyncWith, type Platform, type InitOptions, type EngineInfo } from "../engine/init.js";

export * from "../index.js";

const platform: Platform = {
  name: "browser",
  modules: {
    "wasm-simd": () => new URL("../../wasm/xent.simd.wasm", import.meta.url),
    wasm: () => new URL("../../wasm/xent.wasm", import.meta.url),
  },
};

/** Fetches, compiles and instantiates the engine: the SIMD module, else the scalar one, else the reference. */
export function init(options: InitOptions = {}): Promise<EngineInfo> {
  return initWith(platform, options);
}

/** As init(), synchronously: needs `{ module }` (a WebAssembly.Module or its bytes) here. */
export function initSync(options: InitOptions = {}): EngineInfo {
  return initSyncWith(platform, options);
}
