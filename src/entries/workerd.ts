// The entry for Cloudflare Workers / workerd (exports condition "workerd"). workerd forbids
// compiling WebAssembly from bytes at run time; it compiles the modules a worker imports instead:
// wrangler (and a workerd config listing them as wasm modules) turns these imports into
// WebAssembly.Module objects, which init() only instantiates.
import simd from "../../wasm/xent.simd.wasm";
import scalar from "../../wasm/xent.wasm";
import { initWith, initSyncWith, type Platform, type InitOptions, type EngineInfo } from "../engine/init.js";

export * from "../index.js";

const platform: Platform = {
  name: "workerd",
  modules: { "wasm-simd": () => simd, wasm: () => scalar },
};

/** Instantiates the engine from the modules workerd compiled: the SIMD one, else the scalar one, else the reference. */
export function init(options: InitOptions = {}): Promise<EngineInfo> {
  return initWith(platform, options);
}

/** As init(), synchronously (the modules are already compiled). */
export function initSync(options: InitOptions = {}): EngineInfo {
  return initSyncWith(platform, options);
}
