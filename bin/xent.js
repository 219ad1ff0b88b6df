#!/usr/bin/env node
// The `xent` command (package.json "bin"): see `xent --help` and docs/cli.md.
import { main } from "../dist/cli/main.js";

// A reader that stops early (`xent ... | head -1`) is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
