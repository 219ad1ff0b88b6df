// The coin experiment: a fair coin P against a mystery coin Q. The running log-likelihood ratio per
// throw converges to KL(P || Q); H(P, Q) = H(P) + KL(P || Q) is computed by xent in the page; and a
// live benchmark of xent against a plain JavaScript loop. No external libraries, no network.
import { init, backend, entropy, klDivergence, crossEntropy } from "xent";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#2f6db5", "#2a9d8f", "#8e5bb5", "#c0392b", "#6b8e23", "#b5651d", "#1f7a8c", "#d1495b", "#4f5d75", "#9c6644"];

const state = { q: 0.9, n: 10000, runs: 5, unit: "nats", seed: 1 };

await init();
$("backend").textContent = backend();
$("bench-run").disabled = false;

// ---------------------------------------------------------------------------------------------
// The measures, from xent.

/** H(P), KL(P || Q) and H(P, Q) for the fair coin P and the coin Q = (q, 1 - q), in the chosen unit. */
function measures(q, unit) {
  const P = new Float64Array([0.5, 0.5]),
    Q = new Float64Array([q, 1 - q]);
  const base = unit === "bits" ? { base: 2 } : {};
  return {
    hp: entropy(P, base),
    kl: klDivergence(P, Q, base),
    hpq: crossEntropy(P, Q, { from: "probs", ...base }),
  };
}

// ---------------------------------------------------------------------------------------------
// The experiment: throws of the fair coin, the running log-likelihood ratio per throw.

/** A small seeded generator (mulberry32), so a run can be thrown again identically. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The N at which to plot: every N up to 30, then about 300 points evenly spaced in log N. */
function checkpoints(n) {
  const set = new Set();
  for (let i = 1; i <= Math.min(n, 30); i++) set.add(i);
  for (let i = 0; i <= 300; i++) set.add(Math.round(Math.exp((Math.log(n) * i) / 300)));
  set.add(n);
  return [...set].filter((x) => x >= 1 && x <= n).sort((a, b) => a - b);
}

/** One run: points [N, (1/N) log P(obs)/Q(obs)] in the unit, and the number of heads. */
function run(seed, q, n, unit) {
  const next = random(seed);
  const scale = unit === "bits" ? 1 / Math.LN2 : 1;
  const heads = Math.log(0.5 / q) * scale,
    tails = Math.log(0.5 / (1 - q)) * scale;
  const at = checkpoints(n);
  const points = [];
  let sum = 0,
    h = 0,
    j = 0;
  for (let i = 1; i <= n; i++) {
    if (next() < 0.5) {
      sum += heads;
      h++;
    } else sum += tails;
    if (i === at[j]) {
      points.push([i, sum / i]);
      j++;
    }
  }
  return { points, heads: h, final: sum / n };
}

// ---------------------------------------------------------------------------------------------
// Drawing (plain SVG).

function el(name, attributes = {}, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (x, digits = 6) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function drawPlot(runs, kl, n, unit) {
  const svg = $("plot");
  svg.replaceChildren();
  const W = 760,
    H = 360,
    left = 58,
    right = 34,
    top = 16,
    bottom = 40;
  let lo = Math.min(0, kl),
    hi = Math.max(0, kl);
  for (const r of runs)
    for (const [, v] of r.points) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  const pad = (hi - lo) * 0.06 || 0.1;
  lo -= pad;
  hi += pad;
  const x = (N) => left + (Math.log10(N) / Math.log10(n)) * (W - left - right);
  const y = (v) => top + ((hi - v) / (hi - lo)) * (H - top - bottom);

  // Grid and axes: decades of N, about six steps of the ratio.
  for (let d = 1; d <= n; d *= 10) {
    svg.append(el("line", { class: "grid", x1: x(d), x2: x(d), y1: top, y2: H - bottom }));
    svg.append(el("text", { x: x(d), y: H - bottom + 16, "text-anchor": "middle" }, d.toLocaleString("en")));
  }
  const step = niceStep((hi - lo) / 6);
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    svg.append(el("line", { class: "grid", x1: left, x2: W - right, y1: y(v), y2: y(v) }));
    svg.append(el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, Number(v.toFixed(6)).toString()));
  }
  svg.append(el("line", { class: "axis", x1: left, x2: W - right, y1: y(0), y2: y(0) }));
  svg.append(el("line", { class: "axis", x1: left, x2: left, y1: top, y2: H - bottom }));
  svg.append(el("text", { x: (left + W - right) / 2, y: H - 6, "text-anchor": "middle" }, "N, throws (log scale)"));
  svg.append(
    el("text", { x: 14, y: (top + H - bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${(top + H - bottom) / 2})` }, unit),
  );

  runs.forEach((r, i) => {
    const d = r.points.map(([N, v], k) => `${k === 0 ? "M" : "L"}${x(N).toFixed(1)},${y(v).toFixed(1)}`).join("");
    svg.append(el("path", { class: "run", d, stroke: COLOURS[i % COLOURS.length], "data-final": r.final }));
  });
  svg.append(el("line", { class: "kl-line", x1: left, x2: W - right, y1: y(kl), y2: y(kl) }));
  svg.append(el("text", { class: "kl-label", x: W - right - 4, y: y(kl) - 6, "text-anchor": "end" }, `KL(P ‖ Q) = ${fmt(kl, 4)} ${unit}`));
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function drawBar({ hp, kl, hpq }, unit) {
  const svg = $("bar");
  svg.replaceChildren();
  const W = 760,
    left = 20,
    right = 20,
    top = 14,
    height = 36;
  const max = unit === "bits" ? 3.5 : 2.4; // H(P, Q) for q in [0.01, 0.99] stays below 2.31 nats, 3.33 bits
  const x = (v) => left + (v / max) * (W - left - right);
  svg.append(el("rect", { class: "seg-p", x: x(0), y: top, width: x(hp) - x(0), height, id: "bar-hp", "data-value": hp }));
  svg.append(el("rect", { class: "seg-kl", x: x(hp), y: top, width: Math.max(0, x(hpq) - x(hp)), height, id: "bar-kl", "data-value": kl }));
  svg.append(el("text", { class: "seg-text", x: x(hp / 2), y: top + 23, "text-anchor": "middle" }, `H(P) ${fmt(hp, 3)}`));
  if (x(hpq) - x(hp) > 90)
    svg.append(el("text", { class: "seg-text", x: (x(hp) + x(hpq)) / 2, y: top + 23, "text-anchor": "middle" }, `KL ${fmt(kl, 3)}`));
  for (let v = 0; v <= max + 1e-9; v += 0.5) {
    svg.append(el("line", { class: "axis", x1: x(v), x2: x(v), y1: top + height, y2: top + height + 5 }));
    svg.append(el("text", { x: x(v), y: top + height + 18, "text-anchor": "middle" }, `${v}`));
  }
  svg.append(el("text", { x: Math.min(x(hpq) + 6, W - right - 110), y: top + 23 }, `= H(P, Q) ${fmt(hpq, 3)} ${unit}`));
}

function show(id, value, unit) {
  const o = $(id);
  o.textContent = `${fmt(value)} ${unit}`;
  o.dataset.value = String(value);
}

function render() {
  const { q, n, runs, unit, seed } = state;
  const m = measures(q, unit);
  show("h-p", m.hp, unit);
  show("kl", m.kl, unit);
  show("h-pq", m.hpq, unit);
  const all = Array.from({ length: runs }, (_, i) => run(seed * 1000 + i, q, n, unit));
  drawPlot(all, m.kl, n, unit);
  drawBar(m, unit);
  const first = all[0];
  const caption = $("plot-caption");
  caption.textContent =
    `Run 1 after ${n.toLocaleString("en")} throws: ${first.heads.toLocaleString("en")} heads, ` +
    `(1/N) log P(obs)/Q(obs) = ${fmt(first.final, 4)} ${unit}, against KL(P ‖ Q) = ${fmt(m.kl, 4)} ${unit}. ` +
    `Each line is one run of throws; their spread shrinks as 1/√N.`;
  caption.dataset.final = String(first.final);
  document.body.dataset.ready = "true";
}

// ---------------------------------------------------------------------------------------------
// Controls.

function setQ(value) {
  const q = Math.min(0.99, Math.max(0.01, Number(value)));
  if (!Number.isFinite(q)) return;
  state.q = q;
  $("q-range").value = String(q);
  $("q-input").value = String(q);
  render();
}
$("q-range").addEventListener("input", (e) => setQ(e.target.value));
$("q-input").addEventListener("change", (e) => setQ(e.target.value));
$("n-select").addEventListener("change", (e) => {
  state.n = Number(e.target.value);
  render();
});
$("runs-select").addEventListener("change", (e) => {
  state.runs = Number(e.target.value);
  render();
});
$("unit-select").addEventListener("change", (e) => {
  state.unit = e.target.value;
  render();
});
$("throw").addEventListener("click", () => {
  state.seed++;
  render();
});
render();

// ---------------------------------------------------------------------------------------------
// The benchmark: xent against the loop anyone would write.

/** Mean cross-entropy of class labels against rows of logits: a max, a sum of exponentials, a log. */
function plainCrossEntropy(labels, logits, K) {
  let total = 0;
  for (let r = 0; r < labels.length; r++) {
    const o = r * K;
    let m = -Infinity;
    for (let k = 0; k < K; k++) if (logits[o + k] > m) m = logits[o + k];
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[o + k] - m);
    total += m + Math.log(s) - logits[o + labels[r]];
  }
  return total / labels.length;
}

/** Median rate (million elements per second) over slices of 40 ms for about `ms`, yielding between slices. */
async function rate(fn, elements, ms) {
  fn();
  const samples = [];
  const end = performance.now() + ms;
  while (performance.now() < end || samples.length < 3) {
    const t0 = performance.now();
    let calls = 0,
      t1 = t0;
    do {
      fn();
      calls++;
      t1 = performance.now();
    } while (t1 - t0 < 40);
    samples.push((calls * elements) / ((t1 - t0) * 1000));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

async function bench() {
  const button = $("bench-run"),
    note = $("bench-note");
  button.disabled = true;
  note.dataset.state = "running";
  note.textContent = "Running (about two seconds)…";
  const rows = 1024,
    K = 1000;
  const logits = new Float32Array(rows * K),
    labels = new Int32Array(rows);
  const next = random(42);
  for (let i = 0; i < logits.length; i++) logits[i] = next() * 8 - 4;
  for (let r = 0; r < rows; r++) labels[r] = Math.floor(next() * K);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const a = crossEntropy(labels, logits, { classes: K }),
    b = plainCrossEntropy(labels, logits, K);
  const xent = await rate(() => crossEntropy(labels, logits, { classes: K }), rows * K, 900);
  const js = await rate(() => plainCrossEntropy(labels, logits, K), rows * K, 900);
  for (const [id, v, text] of [
    ["bench-xent", xent, `${xent.toFixed(0)} Melem/s`],
    ["bench-js", js, `${js.toFixed(0)} Melem/s`],
    ["bench-ratio", xent / js, `${(xent / js).toFixed(1)}x`],
  ]) {
    $(id).textContent = text;
    $(id).dataset.value = String(v);
  }
  const agree = Math.abs(a - b) <= 1e-6 * Math.abs(b) + 1e-7;
  note.textContent =
    `Both give ${fmt(a, 6)} nats${agree ? "" : ` (the loop: ${fmt(b, 6)})`}. Engine ${backend()}; ` +
    `medians of 40 ms slices. Your numbers depend on your browser and machine.`;
  note.dataset.agree = String(agree);
  note.dataset.state = "done";
  button.disabled = false;
}
$("bench-run").addEventListener("click", () => void bench());
