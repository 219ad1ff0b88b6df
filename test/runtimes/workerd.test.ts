// Cloudflare workerd, from npm: the docs' worker (test/runtimes/snippets/workerd/worker.js) and the
// oracle vectors, bundled as wrangler bundles a worker (exports condition "workerd"; each .wasm
// import kept as an import of a file beside the bundle), served with the docs' config.capnp, which
// lists the .wasm files as wasm modules. Also the embedded modules of "xent/inline", which would
// have to be compiled from bytes: workerd forbids it, and init() falls back to the reference.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as esbuild from "esbuild";
import { ROOT, bin, bundleOracle, makeApp, snippet, type App } from "./harness.js";
import { oracleCases, type OracleReport } from "./oracle-subset.js";

let app: App;
let server: ChildProcess | null = null;
let url = "";
let stderr = "";

/** esbuild as wrangler bundles: .wasm imports stay imports, of a copy of the file beside the bundle. */
function wasmModules(outdir: string): esbuild.Plugin {
  return {
    name: "wasm-modules",
    setup(build) {
      build.onResolve({ filter: /\.wasm$/ }, (args) => {
        const file = resolve(args.resolveDir, args.path);
        copyFileSync(file, join(outdir, basename(file)));
        return { path: `./${basename(file)}`, external: true };
      });
    },
  };
}

beforeAll(async () => {
  app = makeApp("workerd");
  await bundleOracle(app);
  app.write("snippet-worker.js", snippet("workerd/worker.js"));
  app.write(
    "entry.js",
    `
import snippet from "./snippet-worker.js";
import * as xent from "xent";
import * as inline from "xent/inline";
import * as reference from "xent/reference";
import * as fromBytes from ${JSON.stringify(join(ROOT, "dist/entries/inline.js"))};
import { runOracle } from "./oracle.js";

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/oracle") return Response.json(await runOracle(xent, reference, "workerd"));
    if (path === "/inline") return Response.json({ sameEntry: inline.init === xent.init, report: await runOracle(inline, reference, "xent/inline") });
    if (path === "/bytes") return Response.json(await runOracle(fromBytes, reference, "bytes"));
    if (path === "/sync") return Response.json(xent.initSync());
    return snippet.fetch(request);
  },
};
`,
  );
  const outdir = join(app.dir, "out");
  mkdirSync(outdir);
  await esbuild.build({
    entryPoints: [join(app.dir, "entry.js")],
    outfile: join(outdir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    plugins: [wasmModules(outdir)],
    logLevel: "error",
  });
  copyFileSync(join(ROOT, "test/runtimes/snippets/workerd/config.capnp"), join(outdir, "config.capnp"));

  // Port 0, and workerd reports the port it listens on through --control-fd.
  server = spawn(bin("workerd"), ["serve", "config.capnp", "--socket-addr", "http=127.0.0.1:0", "--control-fd", "3"], {
    cwd: outdir,
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  server.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<number>((resolvePort, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`workerd did not listen within 30 s: ${stderr}`)), 30_000);
    server!.on("exit", (code) => reject(new Error(`workerd exited with ${code}: ${stderr}`)));
    (server!.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => {
      text += d;
      for (const line of text.split("\n")) {
        try {
          const m = JSON.parse(line) as { event?: string; socket?: string; port?: number };
          if (m.event === "listen" && m.socket === "http" && m.port) {
            clearTimeout(timer);
            resolvePort(m.port);
          }
        } catch {
          /* a partial line */
        }
      }
    });
  });
  url = `http://127.0.0.1:${port}`;
}, 120_000);

afterAll(async () => {
  if (server !== null && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM");
    await exited;
  }
  app?.remove();
});

async function get<T>(path: string): Promise<T> {
  const r = await fetch(url + path);
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}: ${text}\n${stderr}`);
  return JSON.parse(text) as T;
}

describe("workerd", () => {
  it("serves the docs' worker: the SIMD engine, from the modules it compiled", async () => {
    expect(await get("/")).toEqual({ backend: "wasm-simd", loss: expect.closeTo(0.407606, 6) });
  });

  it('passes the oracle vectors through "xent" (the workerd entry)', async () => {
    const r = await get<OracleReport>("/oracle");
    expect(r.failures).toEqual([]);
    expect(r.cases).toBe(oracleCases().length);
    expect(r).toMatchObject({ backend: "wasm-simd", info: { backend: "wasm-simd", verified: true }, zeroCopy: true });
  });

  it('"xent/inline" takes the workerd entry there too', async () => {
    const r = await get<{ sameEntry: boolean; report: OracleReport }>("/inline");
    expect(r.sameEntry).toBe(true);
    expect(r.report.failures).toEqual([]);
    expect(r.report.backend).toBe("wasm-simd");
  });

  it("the embedded modules, which must be compiled from bytes, are refused: the reference engine, and why", async () => {
    const r = await get<OracleReport>("/bytes");
    expect(r.failures).toEqual([]);
    expect(r.cases).toBe(oracleCases().length);
    expect(r.backend).toBe("js");
    expect(r.info.verified).toBe(false);
    expect(r.info.reason).toMatch(/^compiling WebAssembly is not allowed here \(.*disallowed by embedder/);
    expect(r.zeroCopy).toBe(true);
  });

  it("initSync() works with the precompiled modules", async () => {
    expect(await get("/sync")).toEqual({ backend: "wasm-simd", verified: true });
  });
});
