// Builds the WebAssembly modules (the asconfig.json targets below), skipping a target whose output is
// already the one its inputs give: `npm test` runs `npm run build` first, and asc takes most of that
// time while assembly/ rarely changes. `npm run build:wasm -- --force` builds every target anyway.
//
// A target is up to date when its stamp records the hash of its inputs as they are now (every file
// under assembly/, asconfig.json, the entry and target, the AssemblyScript and Binaryen versions, this
// script) and the hash of its output file as it is now (so a module rebuilt or replaced by hand is
// not trusted). The stamps are in node_modules/.cache/, which git ignores and a fresh install
// removes: a fresh clone, or a fresh `npm ci`, builds everything. A failed build leaves no stamp.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The targets, in the order `npm run build:wasm` has always built them, each with its entry file. */
const TARGETS: ReadonlyArray<{ target: string; entry: string }> = [
  { target: "release", entry: "assembly/index.ts" },
  { target: "scalar", entry: "assembly/index.ts" },
  { target: "debug", entry: "assembly/index.ts" },
  { target: "threads", entry: "assembly/index.ts" },
  { target: "vmath", entry: "assembly/vmath-exports.ts" },
];

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STAMPS = join(ROOT, "node_modules", ".cache", "xent-build-wasm");

const args = process.argv.slice(2);
const force = args.includes("--force");
const unknown = args.filter((a) => a !== "--force");
if (unknown.length > 0) {
  console.error(`build-wasm: unknown argument ${unknown.join(" ")} (usage: build-wasm.ts [--force])`);
  process.exit(2);
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Every file under dir, as paths relative to the repository, sorted (so the hash does not depend on readdir's order). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...filesUnder(path));
    else if (e.isFile()) out.push(path);
  }
  return out.sort();
}

// The compiler: asc as installed, and the Binaryen it optimizes with (its own dependency, resolved from it).
const requireHere = createRequire(import.meta.url);
const ascPackage = requireHere.resolve("assemblyscript/package.json");
const ascManifest = JSON.parse(readFileSync(ascPackage, "utf8"));
const ascVersion: string = ascManifest.version;
const ascBin = join(dirname(ascPackage), ascManifest.bin.asc);
const binaryenPackage = createRequire(ascPackage).resolve("binaryen/package.json");
const binaryenVersion: string = JSON.parse(readFileSync(binaryenPackage, "utf8")).version;

// What every target shares, hashed once.
const shared = createHash("sha256");
shared.update(`assemblyscript ${ascVersion}\0binaryen ${binaryenVersion}\0`);
for (const file of ["asconfig.json", relative(ROOT, fileURLToPath(import.meta.url)), ...filesUnder("assembly")]) {
  shared.update(`${file}\0`);
  shared.update(readFileSync(join(ROOT, file)));
  shared.update("\0");
}
const sharedHash = shared.digest("hex");

const asconfig = JSON.parse(readFileSync(join(ROOT, "asconfig.json"), "utf8"));

let built = 0;
for (const { target, entry } of TARGETS) {
  const outFile: string | undefined = asconfig.targets?.[target]?.outFile;
  if (outFile === undefined) throw new Error(`build-wasm: asconfig.json has no outFile for target "${target}"`);
  const inputs = sha256(`${sharedHash}\0${target}\0${entry}`);
  const stampFile = join(STAMPS, `${target}.json`);
  const outPath = join(ROOT, outFile);

  if (!force && existsSync(stampFile) && existsSync(outPath)) {
    const stamp = JSON.parse(readFileSync(stampFile, "utf8"));
    if (stamp.inputs === inputs && stamp.output === sha256(readFileSync(outPath))) {
      console.log(`build-wasm: ${target} up to date (${outFile})`);
      continue;
    }
  }

  rmSync(stampFile, { force: true });
  const ascArgs = [entry, "--config", "asconfig.json", "--target", target];
  console.log(`build-wasm: asc ${ascArgs.join(" ")}`);
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [ascBin, ...ascArgs], { cwd: ROOT, stdio: "inherit" });
  if (run.status !== 0) {
    console.error(`build-wasm: asc failed for target ${target} (${run.error?.message ?? `exit ${run.status ?? run.signal}`})`);
    process.exit(1);
  }
  mkdirSync(STAMPS, { recursive: true });
  writeFileSync(stampFile, `${JSON.stringify({ target, entry, outFile, inputs, output: sha256(readFileSync(outPath)) })}\n`);
  console.log(`build-wasm: ${target} built in ${((performance.now() - t0) / 1000).toFixed(1)} s (${outFile})`);
  built++;
}
console.log(`build-wasm: ${built} of ${TARGETS.length} targets built${built < TARGETS.length ? ", the others up to date" : ""}`);
