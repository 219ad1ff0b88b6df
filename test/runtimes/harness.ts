// What the runtime tests share: a scratch app that depends on xent as a user's would (its
// node_modules/xent links to this repository, so "xent" resolves through package.json's exports),
// the oracle harness bundled into it, running binaries, a static server, and Chromium.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CHROMIUM = "/usr/bin/chromium";
/** The flags Chromium needs here (root, no network, no GPU). Playwright adds --headless. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A binary installed by npm (devDependencies); a missing one fails the test that needs it. */
export function bin(name: string): string {
  const path = join(ROOT, "node_modules", ".bin", name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm ci\` (${name} is a devDependency)`);
  return path;
}

/** A snippet of docs/runtimes.md (test/runtimes/snippets/). */
export function snippet(name: string): string {
  return readFileSync(join(ROOT, "test", "runtimes", "snippets", name), "utf8");
}

export interface App {
  dir: string;
  write(name: string, text: string | Uint8Array): string;
  remove(): void;
}

/**
 * A scratch app in the temp folder: package.json, node_modules/xent -> this repository, and
 * node_modules/<tool> -> ours for each tool it uses (as a user installs vite next to xent).
 */
export function makeApp(name: string, tools: string[] = []): App {
  const dir = mkdtempSync(join(tmpdir(), `xent-${name}-`));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "xent"), "dir");
  for (const tool of tools) symlinkSync(join(ROOT, "node_modules", tool), join(dir, "node_modules", tool), "dir");
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: `app-${name}`, private: true, type: "module", dependencies: { xent: "*" } }, null, 2),
  );
  return {
    dir,
    write(file, text) {
      const path = join(dir, file);
      mkdirSync(resolve(path, ".."), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Bundles the oracle harness (test/runtimes/oracle-subset.ts, its mapping and fixtures) into
 * `outfile` in the app, leaving "xent" and "xent/reference" as imports: the runtime or bundler
 * under test resolves those itself, through the package's exports.
 */
export async function bundleOracle(app: App, outfile = "oracle.js"): Promise<void> {
  await esbuild.build({
    entryPoints: [join(ROOT, "test", "runtimes", "oracle-subset.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    outfile: join(app.dir, outfile),
    external: ["xent", "xent/*"],
    logLevel: "error",
  });
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeout` ms). */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<Ran> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "",
      stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** The last line of stdout, parsed as JSON (what the runtime scripts print). */
export function lastJson<T>(r: Ran): T {
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`exit ${r.code}; stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".map": "application/json",
};

export interface Static {
  url: string;
  /** Paths requested, with their status. */
  log: string[];
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 (files only, by extension: .wasm as application/wasm), with extra
 * headers. A path that is not a file gets a 404, or with `spa` index.html with status 200, as a
 * single-page app host answers.
 */
export function serve(dir: string, options: { headers?: Record<string, string>; spa?: boolean } = {}): Promise<Static> {
  const log: string[] = [];
  const headers = options.headers ?? {};
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = resolve(dir, `.${path.endsWith("/") ? `${path}index.html` : path}`);
    const ok = file.startsWith(resolve(dir) + sep) && existsSync(file) && statSync(file).isFile();
    if (ok) {
      log.push(`200 ${path}`);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", ...headers }).end(readFileSync(file));
    } else if (options.spa && existsSync(join(dir, "index.html"))) {
      log.push(`200 ${path} (index.html)`);
      res.writeHead(200, { "content-type": TYPES[".html"], ...headers }).end(readFileSync(join(dir, "index.html")));
    } else {
      log.push(`404 ${path}`);
      res.writeHead(404, { "content-type": "text/plain", ...headers }).end("not found");
    }
  });
  return new Promise((resolveServe) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolveServe({ url: `http://127.0.0.1:${port}`, log, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** Chromium (Debian's, through playwright-core): a missing browser fails the test. */
export async function launchChromium(extraArgs: string[] = []) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);
  const { chromium } = await import("playwright");
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}
