// init()'s fallbacks in Node, for the file entry ("node", "bun", "deno") and xent/inline.
import { readFileSync } from "node:fs";
import * as node from "../../src/entries/node.js";
import * as inline from "../../src/entries/inline.js";
import { fallbackSuite } from "./fallback-suite.js";

fallbackSuite({ "the node entry": { xent: node, sync: true }, "xent/inline": { xent: inline, sync: true } }, async () =>
  readFileSync(new URL("../../wasm/xent.simd.wasm", import.meta.url)),
);
