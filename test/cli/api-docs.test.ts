// The API documentation (TypeDoc, `npm run docs`): it builds with the project's typedoc.json
// (validation warnings are errors there: every export documented, every link resolved), every
// public function and class has a summary and an @example, and every example that imports from
// "xent" or "xent/reference" runs, with the numbers its comments promise (`expr; // 0.407606`).
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as xent from "../../src/index.js";
import * as reference from "../../src/reference/index.js";
import { ROOT, tempDir } from "./helpers.js";

// Function or class name -> why its example is not run.
const NOT_RUN: Record<string, string> = {
  createPool: "its example needs a model and worker threads",
};
// Classes without an @example, and why.
const NO_EXAMPLE: Record<string, string> = {
  WasmArray: "documented in src/engine/memory.ts, outside this documentation pass; allocate() has the example",
};

interface Comment {
  summary: Array<{ text: string }>;
  blockTags?: Array<{ tag: string; content: Array<{ kind: string; text: string }> }>;
}
interface Reflection {
  name: string;
  kind: number;
  comment?: Comment;
  signatures?: Reflection[];
  children?: Reflection[];
}
const FUNCTION = 64,
  CLASS = 128,
  METHOD = 2048;

const dir = tempDir("xent-docs-");
let project: { children: Reflection[] };
let build: { status: number | null; output: string };
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  const r = spawnSync(
    join(ROOT, "node_modules/.bin/typedoc"),
    ["--out", join(dir, "html"), "--json", join(dir, "api.json"), "--treatValidationWarningsAsErrors", "false"],
    { cwd: ROOT, encoding: "utf8" },
  );
  build = { status: r.status, output: r.stdout + r.stderr };
  project = JSON.parse(readFileSync(join(dir, "api.json"), "utf8"));
}, 120_000);

const summary = (c?: Comment) =>
  (c?.summary ?? [])
    .map((p) => p.text)
    .join("")
    .trim();
const examples = (c?: Comment) =>
  (c?.blockTags ?? []).filter((t) => t.tag === "@example").map((t) => t.content.map((p) => p.text).join(""));
const modules = () => project.children.map((m) => ({ module: m.name, members: m.children ?? [] }));

/** An example's code, its imports bound to the modules under test and `expr; // value` lines checked. */
function runnable(example: string): string | null {
  const code = example.replace(/^[\s\S]*?```\w*\n/, "").replace(/```[\s\S]*$/, "");
  if (!/^import .* from "xent(\/reference)?";$/m.test(code)) return null;
  return code
    .split("\n")
    .map((line, i) => {
      const imp = /^import (\{[^}]*\}|\* as \w+) from "(xent|xent\/reference)";$/.exec(line);
      if (imp !== null) {
        const source = imp[2] === "xent" ? "__xent" : "__reference";
        return imp[1].startsWith("*") ? `const ${imp[1].slice(5)} = ${source};` : `const ${imp[1]} = ${source};`;
      }
      const check = /^(\s*)(?!const |let |await |return |for |if |\}|\/\/)(\S.*?);\s*\/\/\s*(.*)$/.exec(line);
      if (check === null) return line;
      return `${check[1]}__check(${check[2]}, ${JSON.stringify(check[3])}, ${i + 1});`;
    })
    .join("\n");
}

/** Compares a value with the comment that promises it: a number (to its printed digits), a string, or a typed array. */
function promise(value: unknown, comment: string, line: number): void {
  const num = /^(-?\d+(?:\.(\d+))?)(?![\d.])/.exec(comment);
  const str = /^"([^"]*)"/.exec(comment);
  const arr = /^(Float64Array|Float32Array) \[([^\]]*)\]/.exec(comment);
  if (num !== null && typeof value === "number") {
    const tolerance = 0.5 * 10 ** -(num[2]?.length ?? 0) + 1e-12;
    expect(Math.abs(value - Number(num[1])), `line ${line}: ${value}, the comment says ${comment}`).toBeLessThanOrEqual(tolerance);
  } else if (str !== null && typeof value === "string") {
    expect(value, `line ${line}`).toBe(str[1]);
  } else if (arr !== null && (value instanceof Float64Array || value instanceof Float32Array)) {
    expect(value.constructor.name, `line ${line}`).toBe(arr[1]);
    const want = arr[2].split(",").map((s) => s.trim());
    expect(value.length, `line ${line}`).toBe(want.length);
    want.forEach((w, k) => {
      promise(value[k], w, line);
    });
  }
}

describe("API documentation (TypeDoc)", () => {
  it("builds with no validation warnings (which typedoc.json, and so `npm run docs`, treats as errors)", () => {
    expect(build.output).not.toMatch(/\[warning\]|\[error\]/);
    expect(build.status, build.output).toBe(0);
    expect(modules().map((m) => m.module)).toEqual(["xent", "xent/reference"]);
  });

  it("documents every public function and class with a summary and an @example, every method with a summary", () => {
    const missing: string[] = [];
    let functions = 0;
    for (const { module, members } of modules()) {
      for (const r of members) {
        if (r.kind === FUNCTION) {
          functions++;
          for (const s of r.signatures ?? []) {
            if (summary(s.comment) === "") missing.push(`${module}.${r.name}: no summary`);
            if (examples(s.comment).length === 0) missing.push(`${module}.${r.name}: no @example`);
          }
        }
        if (r.kind === CLASS) {
          if (summary(r.comment) === "") missing.push(`${module}.${r.name}: no summary`);
          if (examples(r.comment).length === 0 && !(r.name in NO_EXAMPLE)) missing.push(`${module}.${r.name}: no @example`);
          for (const m of r.children ?? []) {
            if (m.kind !== METHOD) continue;
            for (const s of m.signatures ?? []) if (summary(s.comment) === "") missing.push(`${module}.${r.name}.${m.name}: no summary`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
    expect(functions).toBeGreaterThanOrEqual(20);
  });

  it("runs every example that imports xent, and checks the values in its comments", async () => {
    const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    const quiet = { log: () => {}, error: () => {}, warn: () => {} };
    const notRunnable: string[] = [];
    let ran = 0,
      checked = 0;
    const run = async (where: string, example: string) => {
      const body = runnable(example);
      if (body === null) return false;
      const fn = new AsyncFunction("__xent", "__reference", "__check", "console", body);
      try {
        await fn(
          xent,
          reference,
          (v: unknown, comment: string, line: number) => {
            checked++;
            promise(v, comment, line);
            return v;
          },
          quiet,
        );
      } catch (e) {
        throw new Error(`the example of ${where} fails: ${(e as Error).message}\n${body}`);
      }
      ran++;
      return true;
    };
    for (const { module, members } of modules()) {
      const own = project.children.find((m) => m.name === module)!;
      for (const ex of examples(own.comment)) await run(module, ex);
      for (const r of members) {
        const comments = r.kind === FUNCTION ? (r.signatures ?? []).map((s) => s.comment) : [r.comment];
        let any = false;
        for (const c of comments) for (const ex of examples(c)) any = (await run(`${module}.${r.name}`, ex)) || any;
        if ((r.kind === FUNCTION || r.kind === CLASS) && !any && !(r.name in NOT_RUN) && !(r.name in NO_EXAMPLE))
          notRunnable.push(`${module}.${r.name}`);
      }
    }
    await xent.init(); // an example switches engines; leave the default one
    expect(notRunnable).toEqual([]);
    expect(ran).toBeGreaterThanOrEqual(25);
    expect(checked).toBeGreaterThanOrEqual(30);
  });
});
