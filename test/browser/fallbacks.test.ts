// init()'s fallbacks in Chromium, for the browser entry (fetch + compileStreaming) and xent/inline.
import * as browser from "../../src/entries/browser.js";
import * as inline from "../../src/entries/inline.js";
import { fallbackSuite } from "../runtimes/fallback-suite.js";

fallbackSuite(
  { "the browser entry": { xent: browser, sync: false }, "xent/inline": { xent: inline, sync: true } },
  async () => new Uint8Array(await (await fetch(new URL("../../wasm/xent.simd.wasm", import.meta.url))).arrayBuffer()),
);
