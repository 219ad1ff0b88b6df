// Measures what docs/runtimes.md reports, each in fresh processes (or fresh pages), as medians:
//   - cold start: `await init()` through each entry, in Node, Deno, Bun and Chromium (the import
//     of the package measured apart);
//   - init()'s verification battery: its first run in a fresh process, the same with the kernels
//     already compiled by V8, and warm;
//   - the size of each entry in a user's bundle (esbuild, minified; gzipped) and of the .wasm files.
// `npm run build` first; then `npx tsx scripts/measure-runtimes.ts [runs]` (default 21). The
// machine should be otherwise idle: on a busy one, medians move by milliseconds.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { ROOT, bin, launchChromium, makeApp, serve } from "../test/runtimes/harness.js";

const runs = Number(process.argv[2] ?? 21);
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const median = (a: number[]) => sorted(a)[a.length >> 1];
const pct = (a: number[], f: number) => sorted(a)[Math.min(a.length - 1, Math.floor(f * a.length))];
const ms = (v: number) => v.toFixed(2);
const stats = (a: number[]) => `${ms(median(a))} ms (p10 ${ms(pct(a, 0.1))}, p90 ${ms(pct(a, 0.9))}, n ${a.length})`;
const rows: string[][] = [];
const row = (...cells: string[]) => {
  rows.push(cells);
  console.log(cells.join(" | "));
};

interface Timing {
  import: number;
  init: number;
  backend: string;
}

/** Runs `cmd args` `runs` times; each prints one JSON line. */
function fresh<T>(cmd: string, args: string[], cwd: string): T[] {
  const out: T[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
    out.push(JSON.parse(r.stdout.trim().split("\n").pop()!) as T);
  }
  return out;
}

const timing = (entry: string, options = "{}") => `const t0 = performance.now();
const x = await import(${JSON.stringify(entry)});
const t1 = performance.now();
await x.init(${options});
const t2 = performance.now();
console.log(JSON.stringify({ import: t1 - t0, init: t2 - t1, backend: x.backend() }));
`;

const app = makeApp("measure");
try {
  // --- Node, Deno, Bun: fresh processes on a scratch app that depends on xent.
  app.write("file.mjs", timing("xent"));
  app.write("file-noverify.mjs", timing("xent", "{ verify: false }"));
  app.write("inline.mjs", timing("xent/inline"));
  const runtimes: Array<[string, string, (f: string) => string[]]> = [
    [`Node ${process.version}`, process.execPath, (f) => [f]],
    ["Deno", bin("deno"), (f) => ["run", "--allow-read", f]],
    ["Bun", bin("bun"), (f) => [f]],
  ];
  console.log("\ncold start: runtime | entry | await init() | import");
  for (const [name, exe, args] of runtimes) {
    for (const [entry, file] of [
      ["xent", "file.mjs"],
      ["xent, { verify: false }", "file-noverify.mjs"],
      ["xent/inline", "inline.mjs"],
    ]) {
      const t = fresh<Timing>(exe, args(file), app.dir);
      if (t.some((x) => x.backend !== "wasm-simd")) throw new Error(`${name} ${entry}: ${t[0].backend}`);
      row(name, entry, stats(t.map((x) => x.init)), stats(t.map((x) => x.import)));
    }
  }

  // --- Chromium: a page per run (a new context: nothing cached), served from 127.0.0.1.
  for (const [name, entry] of [
    ["browser", "xent"],
    ["inline", "xent/inline"],
  ]) {
    app.write(
      `${name}/main.js`,
      `const t0 = performance.now();
const x = await import(${JSON.stringify(entry)});
const t1 = performance.now();
await x.init();
window.__timing = { import: t1 - t0, init: performance.now() - t1, backend: x.backend() };
`,
    );
    app.write(`${name}/dist/index.html`, `<!doctype html><script type="module" src="./main.js"></script>`);
    // One bundle, with the dynamic import inlined: the import time is then evaluating the bundle.
    await esbuild.build({
      entryPoints: [join(app.dir, name, "main.js")],
      bundle: true,
      format: "esm",
      outfile: join(app.dir, name, "dist/main.js"),
      logLevel: "error",
    });
  }
  // The battery alone in the page, on an instance made outside the timing.
  app.write(
    "battery/main.js",
    `import { SIMD_BASE64 } from ${JSON.stringify(join(ROOT, "dist/entries/inline.generated.js"))};
import { verifyModule } from ${JSON.stringify(join(ROOT, "dist/engine/verify.js"))};
import { WasmEngine } from ${JSON.stringify(join(ROOT, "dist/engine/wasm.js"))};
const m = new WebAssembly.Module(Uint8Array.from(atob(SIMD_BASE64), (c) => c.charCodeAt(0)));
const e = new WasmEngine("wasm-simd", new WebAssembly.Instance(m, {}).exports);
let t = performance.now(); const r = verifyModule(e.exports, e.memory.scratchBase); const first = performance.now() - t;
t = performance.now(); verifyModule(e.exports, e.memory.scratchBase); const second = performance.now() - t;
window.__timing = { init: first, import: second, backend: r === null ? "wasm-simd" : r };
`,
  );
  app.write("battery/dist/index.html", `<!doctype html><script type="module" src="./main.js"></script>`);
  await esbuild.build({
    entryPoints: [join(app.dir, "battery/main.js")],
    bundle: true,
    format: "esm",
    outfile: join(app.dir, "battery/dist/main.js"),
    logLevel: "error",
  });
  // esbuild does not copy the .wasm files the browser entry fetches: put them where it looks
  // ("../../wasm/x.wasm" from /main.js is /wasm/x.wasm), served as application/wasm.
  for (const f of ["xent.simd.wasm", "xent.wasm"]) app.write(`browser/dist/wasm/${f}`, readFileSync(join(ROOT, "wasm", f)));
  const browser = await launchChromium();
  try {
    for (const [name, entry] of [
      ["browser", "xent (browser entry, fetch + compileStreaming)"],
      ["inline", "xent/inline"],
      ["battery", "verifyModule (first run | second run)"],
    ]) {
      const server = await serve(join(app.dir, name, "dist"));
      const t: Timing[] = [];
      for (let i = 0; i < runs; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${server.url}/`);
        await page.waitForFunction(() => "__timing" in window, null, { timeout: 30_000 });
        t.push(await page.evaluate(() => (window as unknown as { __timing: Timing }).__timing));
        await context.close();
      }
      await server.close();
      if (t.some((x) => x.backend !== "wasm-simd")) throw new Error(`Chromium ${entry}: ${t[0].backend}`);
      row("Chromium (headless)", entry, stats(t.map((x) => x.init)), stats(t.map((x) => x.import)));
    }
  } finally {
    await browser.close();
  }
} finally {
  app.remove();
}

// --- The battery alone, in Node, on an instance made outside the timing.
const battery = (prelude: string, flags: string[] = []) =>
  fresh<{ first: number; second: number; warm: number }>(
    process.execPath,
    [
      ...flags,
      "--input-type=module",
      "-e",
      `
import { readFileSync } from "node:fs";
const { verifyModule } = await import("./dist/engine/verify.js");
const { WasmEngine } = await import("./dist/engine/wasm.js");
const m = new WebAssembly.Module(readFileSync("wasm/xent.simd.wasm"));
const e = new WasmEngine("wasm-simd", new WebAssembly.Instance(m, {}).exports);
${prelude}
let t = performance.now(); const r = verifyModule(e.exports, e.memory.scratchBase); const first = performance.now() - t;
if (r !== null) throw new Error(r);
t = performance.now(); verifyModule(e.exports, e.memory.scratchBase); const second = performance.now() - t;
for (let i = 0; i < 50; i++) verifyModule(e.exports, e.memory.scratchBase);
t = performance.now(); verifyModule(e.exports, e.memory.scratchBase); const warm = performance.now() - t;
console.log(JSON.stringify({ first, second, warm }));`,
    ],
    ROOT,
  );
console.log("\nverification battery (Node):");
const cold = battery("");
// A second copy of verify.js runs the battery on another instance of the same module first: V8
// has then compiled every kernel, and the first run left measures cold JavaScript and the kernels.
const compiled = battery(`const copy = await import("./dist/engine/verify.js?copy");
const other = new WasmEngine("wasm-simd", new WebAssembly.Instance(m, {}).exports);
copy.verifyModule(other.exports, other.memory.scratchBase);`);
row("verifyModule, first run in a fresh process", stats(cold.map((x) => x.first)));
// V8 compiles WebAssembly lazily, each function on its first call; with that off, the module is
// compiled whole by new WebAssembly.Module (outside the timing), so the first run leaves the
// battery's own cost and cold JavaScript.
const eager = battery("", ["--no-wasm-lazy-compilation"]);
row("verifyModule, first run, kernels already compiled by V8", stats(compiled.map((x) => x.first)));
row("verifyModule, first run, node --no-wasm-lazy-compilation", stats(eager.map((x) => x.first)));
row("verifyModule, second run", stats(cold.map((x) => x.second)));
row("verifyModule, warm (52nd run)", stats(cold.map((x) => x.warm)));

// --- Sizes: what each entry adds to a user's bundle, and the .wasm it loads.
console.log("\nsizes:");
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
for (const f of ["xent.simd.wasm", "xent.wasm"]) {
  const b = readFileSync(join(ROOT, "wasm", f));
  row(`wasm/${f}`, kb(statSync(join(ROOT, "wasm", f)).size), `${kb(gzipSync(b).length)} gzipped`);
}
for (const [label, entry, platform, conditions] of [
  ["xent (node)", "dist/entries/node.js", "node", ["node"]],
  ["xent (browser)", "dist/entries/browser.js", "browser", ["browser"]],
  ["xent (workerd)", "dist/entries/workerd.js", "neutral", ["workerd", "worker", "browser"]],
  ["xent/inline", "dist/entries/inline.js", "browser", ["browser"]],
  ["xent/reference", "dist/reference/index.js", "browser", ["browser"]],
] as Array<[string, string, esbuild.Platform, string[]]>) {
  const r = await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    conditions,
    write: false,
    external: ["*.wasm", "@assemblyscript/loader", "node:*"],
    logLevel: "silent",
  });
  const js = r.outputFiles[0].contents;
  row(label, `${kb(js.length)} minified`, `${kb(gzipSync(js).length)} gzipped`);
}
