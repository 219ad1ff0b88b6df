// docs/runtimes.md shows the snippets the runtime tests run (test/runtimes/snippets/): each one,
// verbatim, in a fenced block; and names every snippet there is. The README's "Everywhere
// JavaScript runs" shows one per runtime, and every block it heads with a snippet's path is that file.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.js";

const docs = readFileSync(join(ROOT, "docs/runtimes.md"), "utf8");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const dir = join(ROOT, "test/runtimes/snippets");

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
}

/** The fenced blocks of the page, with the file name given after the language (```js test/runtimes/snippets/node.mjs). */
function blocks(page = docs): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of page.matchAll(/^```\w*[ \t]+(\S+)\n([\s\S]*?)^```$/gm)) found.set(m[1], m[2]);
  return found;
}

describe("docs/runtimes.md", () => {
  for (const file of files(dir)) {
    const name = relative(ROOT, file);
    it(`shows ${name} verbatim`, () => {
      expect(blocks().get(name), `a block headed ${name}`).toBe(readFileSync(file, "utf8"));
    });
  }
});

describe("README.md, Everywhere JavaScript runs", () => {
  const shown = blocks(readme);
  const perRuntime = ["node.mjs", "deno.ts", "bun.ts", "vite/main.js", "esbuild/main.js", "workerd/worker.js"];
  for (const f of perRuntime) {
    it(`shows test/runtimes/snippets/${f} verbatim`, () => {
      const name = `test/runtimes/snippets/${f}`;
      expect(shown.get(name), `a block headed ${name}`).toBe(readFileSync(join(ROOT, name), "utf8"));
    });
  }
  it("heads no block with a snippet path that is not that file", () => {
    expect(shown.size).toBeGreaterThanOrEqual(perRuntime.length);
    for (const [name, text] of shown) expect(text, name).toBe(readFileSync(join(ROOT, name), "utf8"));
  });
});
