// The CLI's two kinds of failure: a usage error (exit 1) and a problem with an input file (exit 2).

/** A bad command line: unknown command or option, a missing or malformed value. Exit code 1. */
export class UsageError extends Error {
  readonly exitCode = 1;
}

/** A problem with an input file: missing, truncated, wrong dtype or shape, labels out of range. Exit code 2. */
export class DataError extends Error {
  readonly exitCode = 2;
  /** The file (as the user named it) and the problem, on one line. */
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** The message of a Node file-system error, without the path Node repeats in it. */
export function fsProblem(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "is a directory, not a file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOTDIR":
      return "a component of the path is not a directory";
    case "EMFILE":
    case "ENFILE":
      return "too many open files";
    default:
      return code !== undefined ? `cannot read (${code})` : `cannot read (${(e as Error).message ?? String(e)})`;
  }
}
