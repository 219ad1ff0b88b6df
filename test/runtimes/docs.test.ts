// docs/runtimes.md shows the snippets the runtime tests run (test/runtimes/snippets/): each one,
// verbatim, in a fenced block; and names every snippet there is.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.js";

const docs = readFileSync(join(ROOT, "docs/runtimes.md"), "utf8");
const dir = join(ROOT, "test/runtimes/snippets");

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
}

/** The fenced blocks of the page, with the file name given after the language (```js test/runtimes/snippets/node.mjs). */
function blocks(): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of docs.matchAll(/^```\w*[ \t]+(\S+)\n([\s\S]*?)^```$/gm)) found.set(m[1], m[2]);
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
