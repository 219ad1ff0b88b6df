// Cold start (each library made ready in a fresh Node process, N times, medians) and the size of
// each library's WebAssembly (or native) binary, raw and gzipped (zlib level 9).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { pkgDir } from "./peers.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));

export interface ColdResult {
  lib: string;
  /** What "ready" means for this library. */
  what: string;
  runs: number;
  /** Medians in milliseconds. */
  importMs: number;
  readyMs: number;
  /** From process start to ready (includes Node's own start-up). */
  sinceProcessStartMs: number;
  samples: { importMs: number; readyMs: number; sinceProcessStartMs: number }[];
  error?: string;
}

// Each script prints one JSON line. performance.now() counts from the process's time origin.
function scripts(): Record<string, { what: string; code: string }> {
  const xentDist = pathToFileURL(join(root, "dist/index.js")).href;
  const graphFile = join(here, "graphs", "op1-lsm-f32.onnx");
  const done = `console.log(JSON.stringify({ importMs: t1 - t0, readyMs: t2 - t1, sinceProcessStartMs: t2 }));`;
  return {
    xent: {
      what: "import the built package (dist/) + await init() (compile, instantiate, verification battery)",
      code: `const t0 = performance.now(); const x = await import(${JSON.stringify(xentDist)}); const t1 = performance.now();
        await x.init(); const t2 = performance.now(); if (x.backend() !== "wasm-simd") throw new Error(x.backend()); ${done}`,
    },
    "tfjs-wasm": {
      what: "import tfjs-core + tfjs-backend-wasm, setWasmPaths, await tf.setBackend('wasm')",
      code: `const t0 = performance.now(); const tf = await import("@tensorflow/tfjs-core"); const w = await import("@tensorflow/tfjs-backend-wasm"); const t1 = performance.now();
        w.setWasmPaths(${JSON.stringify(`${join(pkgDir("@tensorflow/tfjs-backend-wasm"), "dist")}/`)}); if (!(await tf.setBackend("wasm"))) throw new Error("no wasm");
        const t2 = performance.now(); ${done}`,
    },
    "onnxruntime-web": {
      what: "import onnxruntime-web + create the first InferenceSession (loads its WASM; OP1 LogSoftmax graph)",
      code: `const t0 = performance.now(); const ort = await import("onnxruntime-web"); const t1 = performance.now();
        ort.env.wasm.wasmPaths = ${JSON.stringify(`${join(pkgDir("onnxruntime-web"), "dist")}/`)}; ort.env.wasm.numThreads = 1;
        await ort.InferenceSession.create(${JSON.stringify(graphFile)}, { executionProviders: ["wasm"] }); const t2 = performance.now(); ${done}`,
    },
    "onnxruntime-node": {
      what: "import onnxruntime-node (loads the native library) + create the first InferenceSession (OP1 LogSoftmax graph)",
      code: `const t0 = performance.now(); const ort = (await import("onnxruntime-node")).default; const t1 = performance.now();
        await ort.InferenceSession.create(${JSON.stringify(graphFile)}, { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1 }); const t2 = performance.now(); ${done}`,
    },
  };
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function coldStart(runs: number, libs: (lib: string) => boolean): ColdResult[] {
  if (!existsSync(join(here, "graphs", "op1-lsm-f32.onnx"))) throw new Error("graphs not written: run make-graphs first");
  const out: ColdResult[] = [];
  for (const [lib, { what, code }] of Object.entries(scripts())) {
    if (!libs(lib)) continue;
    const samples: ColdResult["samples"] = [];
    let error: string | undefined;
    for (let i = 0; i < runs && error === undefined; i++) {
      // cwd = bench/peers, so bare imports resolve to bench/peers/node_modules.
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: here, encoding: "utf8" });
      const line = r.stdout.trim().split("\n").pop() ?? "";
      try {
        if (r.status !== 0) throw new Error(`exit ${r.status}`);
        samples.push(JSON.parse(line));
      } catch (e) {
        error = `${(e as Error).message}: ${(r.stderr || line).trim().split("\n").slice(-3).join(" | ")}`;
      }
    }
    out.push({
      lib,
      what,
      runs: samples.length,
      importMs: median(samples.map((s) => s.importMs)),
      readyMs: median(samples.map((s) => s.readyMs)),
      sinceProcessStartMs: median(samples.map((s) => s.sinceProcessStartMs)),
      samples,
      ...(error ? { error } : {}),
    });
  }
  return out;
}

export interface SizeResult {
  lib: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  note?: string;
}

export function sizes(): SizeResult[] {
  const files: [string, string, string?][] = [
    ["xent", join(root, "wasm/xent.simd.wasm"), "the module init() loads (SIMD build)"],
    ["xent", join(root, "wasm/xent.wasm"), "scalar fallback, loaded only without SIMD"],
    [
      "tfjs-wasm",
      join(pkgDir("@tensorflow/tfjs-backend-wasm"), "dist/tfjs-backend-wasm-simd.wasm"),
      "the build loaded in Node (SIMD, no threads)",
    ],
    [
      "onnxruntime-web",
      join(pkgDir("onnxruntime-web"), "dist/ort-wasm-simd-threaded.wasm"),
      "the build loaded by onnxruntime-web's wasm EP (numThreads = 1)",
    ],
    [
      "onnxruntime-node",
      join(pkgDir("onnxruntime-node"), "bin/napi-v6/linux/x64/libonnxruntime.so.1"),
      "native library (linux x64), for scale",
    ],
  ];
  const out: SizeResult[] = [];
  for (const [lib, file, note] of files) {
    if (!existsSync(file)) {
      out.push({ lib, file, bytes: NaN, gzipBytes: NaN, note: "missing" });
      continue;
    }
    const b = readFileSync(file);
    out.push({
      lib,
      file: file.startsWith(root) ? file.slice(root.length) : file,
      bytes: b.length,
      gzipBytes: gzipSync(b, { level: 9 }).length,
      ...(note ? { note } : {}),
    });
  }
  return out;
}
