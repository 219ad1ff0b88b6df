// Node, Deno and Bun, each as a user's program: the docs' snippet, and the oracle vectors, run by
// the npm-installed binary on a scratch app whose "xent" resolves through package.json's exports
// (conditions "node", "deno", "bun": the file entry; "xent/inline": the embedded modules). Also
// WebAssembly switched off in the engine (V8 --no-expose-wasm, --jitless): the reference engine, and
// allocate() on plain memory. Deno without --allow-read: the file entry says what to do, the
// inline one needs no permission.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, bundleOracle, lastJson, makeApp, run, snippet, type App } from "./harness.js";
import { oracleCases, type OracleReport } from "./oracle-subset.js";

let app: App;
const CASES = oracleCases().length;

beforeAll(async () => {
  app = makeApp("cli");
  await bundleOracle(app);
  for (const [file, entry] of [
    ["oracle-file.mjs", "xent"],
    ["oracle-inline.mjs", "xent/inline"],
  ]) {
    app.write(
      file,
      [
        `import * as xent from ${JSON.stringify(entry)};`,
        `import * as reference from "xent/reference";`,
        `import { runOracle } from "./oracle.js";`,
        `const report = await runOracle(xent, reference, ${JSON.stringify(entry)});`,
        `console.log(JSON.stringify({ resolved: import.meta.resolve(${JSON.stringify(entry)}), report }));`,
      ].join("\n"),
    );
  }
  for (const name of ["node.mjs", "deno.ts", "deno-inline.ts", "bun.ts"]) app.write(name, snippet(name));
});

afterAll(() => app?.remove());

type Out = { resolved: string; report: OracleReport };

function expectOracle(out: Out, entryFile: string, backend = "wasm-simd"): void {
  expect(out.resolved).toMatch(new RegExp(`/dist/entries/${entryFile}$`));
  expect(out.report.failures).toEqual([]);
  expect(out.report.cases).toBe(CASES);
  expect(out.report.values).toBeGreaterThan(CASES);
  expect(out.report.backend).toBe(backend);
  expect(out.report.info.verified).toBe(backend !== "js");
  expect(out.report.zeroCopy).toBe(true);
}

const RUNTIMES: Array<[string, () => string, (file: string) => string[]]> = [
  ["node", () => process.execPath, (file) => [file]],
  ["deno", () => bin("deno"), (file) => ["run", "--allow-read", file]],
  ["bun", () => bin("bun"), (file) => [file]],
];

describe.each(RUNTIMES)("%s", (name, exe, args) => {
  it("runs the docs' snippet", async () => {
    const file = name === "node" ? "node.mjs" : `${name}.ts`;
    const r = await run(exe(), args(file), { cwd: app.dir });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("wasm-simd 0.407606");
  });

  it('passes the oracle vectors through "xent" (the file entry)', async () => {
    expectOracle(lastJson<Out>(await run(exe(), args("oracle-file.mjs"), { cwd: app.dir })), "node.js");
  });

  it('passes the oracle vectors through "xent/inline"', async () => {
    expectOracle(lastJson<Out>(await run(exe(), args("oracle-inline.mjs"), { cwd: app.dir })), "inline.js");
  });
});

describe("without WebAssembly (V8 --no-expose-wasm, --jitless)", () => {
  for (const [name, exe, flags] of [
    ["node --no-expose-wasm", () => process.execPath, ["--no-expose-wasm"]],
    ["node --jitless", () => process.execPath, ["--jitless"]],
    ["deno --v8-flags=--jitless", () => bin("deno"), ["run", "--allow-read", "--v8-flags=--jitless"]],
  ] as Array<[string, () => string, string[]]>) {
    it(`${name}: the reference engine, with allocate() on plain memory`, async () => {
      const out = lastJson<Out>(await run(exe(), [...flags, "oracle-file.mjs"], { cwd: app.dir }));
      expectOracle(out, "node.js", "js");
      expect(out.report.info.reason).toBe("WebAssembly is not available here");
    });
  }
});

describe("deno permissions", () => {
  it("the file entry without --allow-read fails, saying why and what to do", async () => {
    const r = await run(bin("deno"), ["run", "deno.ts"], { cwd: app.dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/BACKEND_UNAVAILABLE|cannot read/);
    expect(r.stderr).toMatch(/--allow-read/);
    expect(r.stderr).toMatch(/xent\/inline/);
  });

  it("xent/inline needs no permission", async () => {
    const r = await run(bin("deno"), ["run", "deno-inline.ts"], { cwd: app.dir });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("wasm-simd 0.407606");
  });
});
