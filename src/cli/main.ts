// The `xent` command line: `main(argv)` runs one command and returns its exit code (0 done, 1 usage
// error, 2 a problem with an input file, 3 an internal error). bin/xent.js calls it; tests and the
// built-in example may call it in-process with their own stdout / stderr.
import { readFileSync } from "node:fs";
import { XentError } from "../errors.js";
import { UsageError, DataError } from "./errors.js";
import { HELP } from "./help.js";
import { evalCommand, focalCommand, klCommand, entropyCommand, type Io } from "./commands.js";
import { benchCommand } from "./bench.js";

export type { Io };
export type { Out } from "./progress.js";

const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<number>> = {
  eval: evalCommand,
  focal: focalCommand,
  kl: klCommand,
  entropy: entropyCommand,
  bench: benchCommand,
};

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/** Runs `xent ...argv`; output to io (default process.stdout / process.stderr). Returns the exit code. */
export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const out: Io = { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr };
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      out.stderr.write(HELP.main);
      return 1;
    }
    if (command === "--help" || command === "-h" || command === "help") {
      const topic = rest[0];
      out.stdout.write(topic !== undefined && topic in COMMANDS ? HELP[topic as keyof typeof HELP] : HELP.main);
      return 0;
    }
    if (command === "--version" || command === "-v") {
      out.stdout.write(`xent ${version()}\n`);
      return 0;
    }
    const run = COMMANDS[command];
    if (run === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)} (${Object.keys(COMMANDS).join(", ")})`);
    return await run(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr.write(
        `xent: ${oneLine(e.message)} (see xent ${command !== undefined && command in COMMANDS ? `${command} ` : ""}--help)\n`,
      );
      return 1;
    }
    if (e instanceof DataError) {
      out.stderr.write(`xent: ${oneLine(e.message)}\n`);
      return 2;
    }
    if (e instanceof XentError) {
      const usage = e.code === "INVALID_OPTION" || e.code === "UNKNOWN_OPTION";
      out.stderr.write(`xent: ${oneLine(e.message)}\n`);
      return usage ? 1 : 2;
    }
    out.stderr.write(`xent: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 3;
  }
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ");
