// A real large file: `xent eval` on a float32 .npy of logits over 1 GiB (plus int64 labels) must
// stream it with under 200 MB resident, and agree with an independent chunkwise computation by the
// plain TypeScript reference over the same data.
import { describe, expect, it, afterAll } from "vitest";
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import * as reference from "../../src/reference/index.js";
import { BIN, hasTime, npyHeader, tempDir, start, closeF32 } from "./helpers.js";

const ROWS = 270_000,
  K = 1000,
  CHUNK = 10_000; // 270e6 float32 = 1.08e9 bytes > 1 GiB
const dir = tempDir("xent-large-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rows [first, first + n): deterministic logits in [-4, 4) (xorshift32 per row), label's logit +3 on two rows in three. */
function chunk(first: number, n: number, x: Float32Array, y: BigInt64Array): void {
  for (let i = 0; i < n; i++) {
    const r = first + i;
    let s = (r * 2654435761 + 1) >>> 0 || 1;
    const row = i * K;
    for (let k = 0; k < K; k++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      x[row + k] = ((s >>> 8) / 16777216) * 8 - 4;
    }
    const label = (r * 7919 + 13) % K;
    y[i] = BigInt(label);
    if (r % 3 !== 0) x[row + label] += 3;
  }
}

describe("xent eval on a 1 GiB .npy", () => {
  it("streams it under 200 MB resident and agrees with the reference", async () => {
    const logitsFile = join(dir, "logits.npy"),
      labelsFile = join(dir, "labels.npy");
    const x = new Float32Array(CHUNK * K),
      y = new BigInt64Array(CHUNK);
    const fx = openSync(logitsFile, "w"),
      fy = openSync(labelsFile, "w");
    writeSync(fx, npyHeader("<f4", [ROWS, K]));
    writeSync(fy, npyHeader("<i8", [ROWS]));
    for (let first = 0; first < ROWS; first += CHUNK) {
      chunk(first, CHUNK, x, y);
      writeSync(fx, new Uint8Array(x.buffer));
      writeSync(fy, new Uint8Array(y.buffer));
    }
    closeSync(fx);
    closeSync(fy);
    expect(statSync(logitsFile).size).toBeGreaterThan(2 ** 30);

    // The CLI in a child process, its peak resident set measured by GNU time (or /proc VmHWM).
    const rssFile = join(dir, "rss.txt");
    const args = [BIN, "eval", "--logits", logitsFile, "--labels", labelsFile, "--top-k", "1,5", "--json"];
    const started = performance.now();
    const child = hasTime
      ? start("/usr/bin/time", ["-f", "%M %e", "-o", rssFile, process.execPath, ...args])
      : start(process.execPath, args);
    let polledKb = 0;
    const poll = hasTime
      ? null
      : setInterval(() => {
          try {
            const line = readFileSync(`/proc/${child.pid}/status`, "utf8")
              .split("\n")
              .find((l) => l.startsWith("VmHWM:"));
            if (line !== undefined) polledKb = Math.max(polledKb, Number(line.split(/\s+/)[1]));
          } catch {
            /* exited */
          }
        }, 10);

    // Polling needs the event loop free: without GNU time, let the child finish first.
    if (poll !== null) await child.done;
    // The independent computation: the reference, chunk by chunk, over the same rows.
    let ce = 0,
      h = 0,
      top1 = 0,
      top5 = 0;
    const labels = new Int32Array(CHUNK);
    for (let first = 0; first < ROWS; first += CHUNK) {
      chunk(first, CHUNK, x, y);
      for (let i = 0; i < CHUNK; i++) labels[i] = Number(y[i]);
      ce += reference.crossEntropy(labels, x, { classes: K, reduction: "sum" });
      h += reference.entropy(x, { classes: K, from: "logits", reduction: "sum" });
      for (let i = 0; i < CHUNK; i++) {
        const row = x.subarray(i * K, (i + 1) * K),
          mine = row[labels[i]];
        let above = 0;
        for (let k = 0; k < K; k++) if (row[k] > mine || (row[k] === mine && k < labels[i])) above++;
        if (above < 1) top1++;
        if (above < 5) top5++;
      }
    }
    const r = await child.done;
    if (poll !== null) clearInterval(poll);
    const seconds = (performance.now() - started) / 1000;
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // GNU time's last line: "<peak RSS in KiB> <elapsed seconds>".
    const [rssKb, cliSeconds] = hasTime ? readFileSync(rssFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number) : [polledKb, NaN];
    const out = JSON.parse(r.stdout);
    console.log(
      `xent eval over ${(statSync(logitsFile).size / 2 ** 30).toFixed(3)} GiB: peak RSS ${(rssKb / 1024).toFixed(1)} MiB ` +
        `(${hasTime ? "/usr/bin/time %M" : "/proc VmHWM"}); the CLI took ${cliSeconds.toFixed(1)} s, the test ${seconds.toFixed(1)} s with the reference`,
    );

    expect(rssKb).toBeGreaterThan(10_000); // measured something
    expect(rssKb * 1024).toBeLessThan(200e6);
    expect(out.rows).toBe(ROWS);
    expect(closeF32(out.crossEntropy, ce / ROWS)).toBe(true);
    expect(closeF32(out.entropy, h / ROWS)).toBe(true);
    expect(out.accuracy).toBe(top1 / ROWS);
    expect(out.topK["5"]).toBe(top5 / ROWS);
  }, 300_000);
});
