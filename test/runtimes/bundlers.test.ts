// Pages built as a user's app builds them, loaded in Chromium (Debian's, through playwright-core):
//   - Vite, importing "xent" (exports condition "browser"): Vite emits the .wasm files, init()
//     fetches and compiles them with compileStreaming;
//   - esbuild, importing "xent/inline": nothing to copy or fetch;
//   - esbuild importing "xent": esbuild does not copy the .wasm, and init() says so;
//   - both served with a Content-Security-Policy without 'wasm-unsafe-eval': Chromium refuses to
//     compile WebAssembly, and init() falls back to the reference engine, saying why;
//   - the Vite page in a Chromium without WebAssembly (V8 --jitless): the reference engine.
// Each page runs the docs' snippet (test/runtimes/snippets/) and the oracle vectors.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as esbuild from "esbuild";
import type { Browser } from "playwright";
import { bundleOracle, launchChromium, makeApp, serve, snippet, type App } from "./harness.js";
import { oracleCases, type OracleReport } from "./oracle-subset.js";

let app: App;
let browser: Browser;
const CASES = oracleCases().length;
const CSP = { "content-security-policy": "script-src 'self'" };

const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>xent</title></head>
<body><p id="out"></p><script type="module" src="./check.js"></script></body></html>
`;

/** The page's own module: the docs' snippet first, then the oracle vectors through the same entry. */
const check = (entry: string) => `import "./main.js";
import * as xent from ${JSON.stringify(entry)};
import * as reference from "xent/reference";
import { runOracle } from "../oracle.js";
window.__report = await runOracle(xent, reference, ${JSON.stringify(entry)});
`;

interface PageResult {
  out: string;
  report: OracleReport | null;
  errors: string[];
  /** Calls of WebAssembly.compileStreaming the page made. */
  streaming: number;
  requests: string[];
}

/** Serves `dir` (with `headers`), opens it, and waits for the oracle report or an error. */
async function load(dir: string, options: { headers?: Record<string, string>; spa?: boolean; in?: Browser } = {}): Promise<PageResult> {
  const server = await serve(dir, options);
  const page = await (options.in ?? browser).newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.addInitScript(() => {
    const w = window as unknown as { __streaming: number };
    w.__streaming = 0;
    if (typeof WebAssembly !== "object") return;
    const original = WebAssembly.compileStreaming;
    WebAssembly.compileStreaming = (source) => {
      w.__streaming++;
      return original.call(WebAssembly, source);
    };
  });
  try {
    await page.goto(`${server.url}/`);
    const end = Date.now() + 60_000;
    while (Date.now() < end && errors.length === 0 && !(await page.evaluate(() => "__report" in window))) await page.waitForTimeout(50);
    return {
      out: (await page.textContent("#out")) ?? "",
      report: await page.evaluate(() => (window as unknown as { __report?: OracleReport }).__report ?? null),
      errors,
      streaming: await page.evaluate(() => (window as unknown as { __streaming: number }).__streaming),
      requests: server.log,
    };
  } finally {
    await page.close();
    await server.close();
  }
}

function expectOracle(r: PageResult, backend: string): void {
  expect(r.errors).toEqual([]);
  expect(r.report?.failures).toEqual([]);
  expect(r.report?.cases).toBe(CASES);
  expect(r.report?.backend).toBe(backend);
  expect(r.report?.zeroCopy).toBe(true);
  expect(r.out).toBe(`${backend} 0.407606`);
}

beforeAll(async () => {
  app = makeApp("pages", ["vite"]);
  await bundleOracle(app);
  browser = await launchChromium();

  // Vite: the docs' main.js and vite.config.js, built with Vite's API as `vite build` does.
  app.write("vite/main.js", snippet("vite/main.js"));
  app.write("vite/vite.config.js", snippet("vite/vite.config.js"));
  app.write("vite/index.html", html);
  app.write("vite/check.js", check("xent"));
  const { build } = await import("vite");
  await build({ root: join(app.dir, "vite"), configFile: join(app.dir, "vite/vite.config.js"), logLevel: "error" });

  // esbuild: the docs' main.js with xent/inline; and the same page importing "xent".
  for (const [name, main, entry] of [
    ["esbuild", snippet("esbuild/main.js"), "xent/inline"],
    ["esbuild-file", snippet("esbuild/main.js").replace('"xent/inline"', '"xent"'), "xent"],
  ]) {
    app.write(`${name}/main.js`, main);
    app.write(`${name}/check.js`, check(entry));
    app.write(`${name}/dist/index.html`, html);
    await esbuild.build({
      entryPoints: [join(app.dir, name, "check.js")],
      bundle: true,
      format: "esm",
      outfile: join(app.dir, name, "dist/check.js"),
      logLevel: "error",
    });
  }
}, 180_000);

afterAll(async () => {
  await browser?.close();
  app?.remove();
});

describe("Vite", () => {
  it("emits the .wasm files as assets (assetsInlineLimit: 0)", () => {
    const assets = readdirSync(join(app.dir, "vite/dist/assets"));
    expect(assets.filter((f) => f.endsWith(".wasm")).map((f) => f.replace(/-[\w-]+\.wasm$/, ".wasm"))).toEqual(
      expect.arrayContaining(["xent.simd.wasm", "xent.wasm"]),
    );
  });

  it("the page runs the snippet and the oracle vectors on the SIMD module, fetched and compiled as it streams", async () => {
    const r = await load(join(app.dir, "vite/dist"));
    expectOracle(r, "wasm-simd");
    expect(r.report?.info).toEqual({ backend: "wasm-simd", verified: true });
    expect(r.streaming).toBe(1);
    expect(r.requests.filter((p) => p.endsWith(".wasm"))).toEqual([expect.stringMatching(/^200 \/assets\/xent\.simd-.*\.wasm$/)]);
  });

  it("where a Content-Security-Policy forbids compiling WebAssembly: the reference engine, and why", async () => {
    const r = await load(join(app.dir, "vite/dist"), { headers: CSP });
    expectOracle(r, "js");
    expect(r.report?.info.verified).toBe(false);
    expect(r.report?.info.reason).toMatch(/^compiling WebAssembly is not allowed here \(.*(Refused|unsafe-eval)/);
  });

  it("in a Chromium without WebAssembly (--js-flags=--jitless): the reference engine", async () => {
    const jitless = await launchChromium(["--js-flags=--jitless"]);
    try {
      const r = await load(join(app.dir, "vite/dist"), { in: jitless });
      expectOracle(r, "js");
      expect(r.report?.info).toEqual({ backend: "js", verified: false, reason: "WebAssembly is not available here" });
      expect(r.requests.filter((p) => p.includes(".wasm"))).toEqual([]);
    } finally {
      await jitless.close();
    }
  });
});

describe("esbuild", () => {
  it("with xent/inline: the SIMD module from the bundle, no .wasm fetched", async () => {
    const r = await load(join(app.dir, "esbuild/dist"));
    expectOracle(r, "wasm-simd");
    expect(r.requests.filter((p) => p.includes(".wasm"))).toEqual([]);
  });

  it("with xent/inline under a Content-Security-Policy: the reference engine, and why", async () => {
    const r = await load(join(app.dir, "esbuild/dist"), { headers: CSP });
    expectOracle(r, "js");
    expect(r.report?.info.reason).toMatch(/^compiling WebAssembly is not allowed here/);
  });

  it('with "xent": esbuild does not copy the .wasm, and init() says what to do', async () => {
    const r = await load(join(app.dir, "esbuild-file/dist"), { spa: true });
    expect(r.report).toBeNull();
    expect(r.errors.join("\n")).toMatch(/is not a WebAssembly module .*xent\/inline/);
  });
});
