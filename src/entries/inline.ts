// "xent/inline": the modules embedded in the JavaScript as base64 (generated at build time by
// scripts/inline.ts), for bundlers that do not copy assets (esbuild) and zero-configuration use.
// Works wherever WebAssembly may be compiled from bytes: browsers, Node, Deno (no permission
// needed), Bun; not workerd, which forbids it (its "workerd" condition takes the workerd entry).
// The scalar module is decoded only where SIMD is missing.
import { SIMD_BASE64, SCALAR_BASE64 } from "./inline.generated.js";
import { initWith, initSyncWith, type Platform, type InitOptions, type EngineInfo } from "../engine/init.js";

export * from "../index.js";

type Base64 = { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> };
type NodeBuffer = { from(s: string, encoding: "base64"): Uint8Array };

/** base64 to bytes: natively where the runtime can (a cold JavaScript loop costs milliseconds). */
function decode(base64: string): Uint8Array<ArrayBuffer> {
  const U8 = Uint8Array as unknown as Base64;
  if (typeof U8.fromBase64 === "function") return U8.fromBase64(base64); // recent browsers, Deno, Bun
  const buffer = (globalThis as { Buffer?: NodeBuffer }).Buffer; // Node
  if (buffer !== undefined) {
    const b = buffer.from(base64, "base64");
    return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
  }
  const s = atob(base64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

const platform: Platform = {
  name: "inline",
  modules: { "wasm-simd": () => decode(SIMD_BASE64), wasm: () => decode(SCALAR_BASE64) },
};

/** Compiles and instantiates the embedded engine: the SIMD module, else the scalar one, else the reference. */
export function init(options: InitOptions = {}): Promise<EngineInfo> {
  return initWith(platform, options);
}

/** As init(), synchronously. */
export function initSync(options: InitOptions = {}): EngineInfo {
  return initSyncWith(platform, options);
}
