// The demo page, built with Vite as an application would build it (npm run demo:build), served from
// demo/dist by a small static server, opened in headless Chromium (Debian's /usr/bin/chromium
// through playwright): the displayed H(P), KL(P || Q) and H(P, Q) must be xent's own values for the
// chosen coin, the runs must converge to KL, the live benchmark must run, and nothing may come from
// the network. A screenshot goes to test/artifacts/demo.png.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright";
import * as xent from "../../src/index.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const DIST = join(ROOT, "demo/dist");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

let server: Server,
  base = "",
  browser: Browser,
  page: Page;
const requests: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const build = spawnSync(join(ROOT, "node_modules/.bin/vite"), ["build", "--config", "demo/vite.config.js"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(build.status, build.stderr + build.stdout).toBe(0);
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    let file = join(DIST, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!file.startsWith(DIST) || !existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await xent.init();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** The displayed number (text) and the full value behind it (data-value). */
async function shown(id: string): Promise<{ text: number; value: number; unit: string }> {
  const o = page.locator(`#${id}`);
  const [text, value] = [await o.textContent(), await o.getAttribute("data-value")];
  const [number, unit] = text!.trim().split(/\s+/);
  return { text: Number(number), value: Number(value), unit };
}

async function expectCoin(q: number, unit: "nats" | "bits") {
  const P = [0.5, 0.5],
    Q = [q, 1 - q],
    o = unit === "bits" ? { base: 2 } : {};
  const want = {
    kl: xent.klDivergence(P, Q, o),
    "h-p": xent.entropy(P, o),
    "h-pq": xent.crossEntropy(P, Q, { from: "probs", ...o }),
  };
  for (const [id, w] of Object.entries(want)) {
    const s = await shown(id);
    expect(s.unit).toBe(unit);
    expect(Math.abs(s.text - w), `${id} displayed ${s.text}, xent gives ${w}`).toBeLessThanOrEqual(5e-7); // shown to 6 decimals
    expect(Math.abs(s.value - w), `${id} = ${s.value}, xent gives ${w}`).toBeLessThanOrEqual(1e-12 * Math.abs(w) + 1e-15);
  }
  // The stacked bar: H(P) and KL segments, their widths in proportion.
  const seg = async (id: string) => ({
    value: Number(await page.locator(`#${id}`).getAttribute("data-value")),
    width: Number(await page.locator(`#${id}`).getAttribute("width")),
  });
  const hp = await seg("bar-hp"),
    kl = await seg("bar-kl");
  expect(Math.abs(hp.value - want["h-p"])).toBeLessThan(1e-12);
  expect(Math.abs(kl.value - want.kl)).toBeLessThan(1e-12);
  expect(Math.abs(kl.width / hp.width - want.kl / want["h-p"])).toBeLessThan(1e-3);
  return want;
}

describe("the demo page in headless Chromium", () => {
  it("loads xent's SIMD engine from the built .wasm, with no network beyond the page's own server", async () => {
    expect(readdirSync(join(DIST, "assets")).some((f) => f.endsWith(".wasm"))).toBe(true);
    expect(await page.locator("#backend").textContent()).toBe("wasm-simd");
    expect(requests.some((u) => u.endsWith(".wasm"))).toBe(true);
    expect(requests.filter((u) => !u.startsWith(base))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("shows H(P), KL(P || Q), H(P, Q) of the default coin (q = 0.9) as xent computes them", async () => {
    const want = await expectCoin(0.9, "nats");
    expect(want.kl).toBeCloseTo(0.510826, 6);
    // Five runs of 10,000 throws, run 1 ending near KL (its spread is about 0.011 nats here).
    expect(await page.locator("#plot path.run").count()).toBe(5);
    const final = Number(await page.locator("#plot-caption").getAttribute("data-final"));
    expect(Math.abs(final - want.kl)).toBeLessThan(0.05);
  });

  it("follows the coin the user picks, and the unit", async () => {
    await page.locator("#q-input").fill("0.7");
    await page.locator("#q-input").dispatchEvent("change");
    expect(await page.locator("#q-range").inputValue()).toBe("0.7");
    const want = await expectCoin(0.7, "nats");
    const final = Number(await page.locator("#plot-caption").getAttribute("data-final"));
    expect(Math.abs(final - want.kl)).toBeLessThan(0.03);
    await page.locator("#q-range").fill("0.25"); // the slider fires "input"
    await expectCoin(0.25, "nats");
    await page.selectOption("#unit-select", "bits");
    await expectCoin(0.25, "bits");
    await page.selectOption("#unit-select", "nats");
    await page.selectOption("#runs-select", "3");
    expect(await page.locator("#plot path.run").count()).toBe(3);
    await page.locator("#q-input").fill("0.9");
    await page.locator("#q-input").dispatchEvent("change");
    await page.selectOption("#runs-select", "5");
    await expectCoin(0.9, "nats");
  });

  it("runs the live benchmark: xent against a plain JavaScript loop", async () => {
    await page.click("#bench-run");
    await page.waitForSelector("#bench-note[data-state=done]", { timeout: 60_000 });
    expect(await page.locator("#bench-note").getAttribute("data-agree")).toBe("true");
    const x = await shown("bench-xent"),
      js = await shown("bench-js"),
      ratio = await shown("bench-ratio");
    expect(x.value).toBeGreaterThan(0);
    expect(js.value).toBeGreaterThan(0);
    expect(ratio.value).toBeCloseTo(x.value / js.value, 10);
    console.log(
      `demo benchmark in headless Chromium: xent ${x.value.toFixed(0)} Melem/s, plain JS ${js.value.toFixed(0)} Melem/s, ${ratio.value.toFixed(1)}x`,
    );
    mkdirSync(join(ROOT, "test/artifacts"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test/artifacts/demo.png"), fullPage: true });
    expect(problems).toEqual([]);
  }, 90_000);
});
