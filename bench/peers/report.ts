// The Markdown table and the self-contained SVG chart of a peers run.
import type { Op, Precision } from "./peers.js";
import { XENT, XENT_ZC } from "./peers.js";

export interface RepeatResult {
  /** 1 / (median time per call over benny's samples): the figure used. */
  opsPerSec: number;
  /** benny's own `ops` (1 / mean time per call). */
  bennyOps: number;
  medianSec: number;
  meanSec: number;
  samples: number;
  /** Relative margin of error of the mean, percent (benny's `margin`). */
  margin: number;
}

export interface Measurement {
  workload: string;
  rows: number;
  classes: number;
  op: Op;
  precision: Precision;
  case: string;
  lib: string;
  graph?: string;
  /** Median over repeats of RepeatResult.opsPerSec. */
  opsPerSec: number;
  /** Input elements per second, millions: rows * classes * opsPerSec / 1e6. */
  melemPerSec: number;
  repeats: RepeatResult[];
}

export const LIBS = [XENT, XENT_ZC, "xent/reference", "plain JS", "tfjs-wasm", "onnxruntime-web", "onnxruntime-node"];
export const WORKLOADS: Record<string, [number, number]> = { W1: [4096, 10], W2: [1024, 1000], W3: [64, 32000], W4: [8, 128256] };
export const OPS: [Op, Precision][] = [
  ["OP1", "f32"],
  ["OP2", "f32"],
  ["OP3", "f32"],
  ["OP1", "f64"],
  ["OP2", "f64"],
];
const OP_TITLE: Record<Op, string> = {
  OP1: "OP1 crossEntropy(labels, logits)",
  OP2: "OP2 klDivergence(teacher, student, logits)",
  OP3: "OP3 crossEntropy(soft targets, probs)",
};

/** Melem/s of a library for one cell; for a library with several graphs, its fastest. */
export function cell(ms: Measurement[], lib: string, w: string, op: Op, p: Precision, graph?: string): Measurement | undefined {
  const c = ms.filter(
    (m) => m.lib === lib && m.workload === w && m.op === op && m.precision === p && (graph === undefined || m.graph === graph),
  );
  return c.sort((a, b) => b.melemPerSec - a.melemPerSec)[0];
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));
const fmtRatio = (x: number) => `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2)}x`;

export interface TableInput {
  measurements: Measurement[];
  unsupported: { lib: string; op: Op; precision: Precision; reason: string }[];
  graphs: Record<string, string[]>; // lib -> OP1 graph labels
}

/** One Markdown table per precision: rows are libraries, columns OP x workload, Melem/s; then ratio lines. */
export function markdown(t: TableInput, header: string): string {
  const out: string[] = [header, ""];
  for (const p of ["f32", "f64"] as Precision[]) {
    const ops = OPS.filter(([, q]) => q === p).map(([o]) => o);
    const cols: [Op, string][] = [];
    for (const o of ops)
      for (const w of Object.keys(WORKLOADS))
        if (t.measurements.some((m) => m.op === o && m.precision === p && m.workload === w)) cols.push([o, w]);
    if (cols.length === 0) continue;
    out.push(`### ${p === "f32" ? "float32" : "float64"} inputs: Melem/s (input elements per second, millions; higher is better)`, "");
    out.push(`| library | ${cols.map(([o, w]) => `${o} ${w}`).join(" | ")} |`);
    out.push(`| --- | ${cols.map(() => "---:").join(" | ")} |`);
    const value = (lib: string, o: Op, w: string, graph?: string): string => {
      const m = cell(t.measurements, lib, w, o, p, graph);
      if (m) return fmt(m.melemPerSec);
      return t.unsupported.some((u) => u.lib === lib && u.op === o && u.precision === p) ? "n/a" : "–";
    };
    const libs = LIBS.filter(
      (l) => t.measurements.some((m) => m.lib === l && m.precision === p) || t.unsupported.some((u) => u.lib === l && u.precision === p),
    );
    for (const lib of libs) {
      const many = (t.graphs[lib] ?? []).length > 1 && cols.some(([o]) => o === "OP1");
      out.push(`| ${lib}${many ? " (OP1: fastest graph)" : ""} | ${cols.map(([o, w]) => value(lib, o, w)).join(" | ")} |`);
      if (many) {
        for (const g of t.graphs[lib]) {
          if (!t.measurements.some((m) => m.lib === lib && m.graph === g && m.precision === p)) continue;
          out.push(
            `| &nbsp;&nbsp;${lib}, OP1 graph ${g} | ${cols.map(([o, w]) => (o === "OP1" ? value(lib, o, w, g) : "")).join(" | ")} |`,
          );
        }
      }
    }
    for (const lib of libs.filter((l) => l !== XENT && l !== XENT_ZC)) {
      const r = cols.map(([o, w]) => {
        const a = cell(t.measurements, XENT, w, o, p),
          b = cell(t.measurements, lib, w, o, p);
        return a && b ? fmtRatio(a.melemPerSec / b.melemPerSec) : "";
      });
      if (r.some((x) => x !== "")) out.push(`| **xent vs ${lib}** | ${r.join(" | ")} |`);
    }
    out.push("");
  }
  out.push(`"xent vs X" = xent (copy-in, the normal call) ÷ X, both measured in the same run. n/a: the library has no such`);
  out.push(
    `operation or dtype; –: not measured in this run. Workloads: ${Object.entries(WORKLOADS)
      .map(([w, [r, k]]) => `${w} ${r} x ${k}`)
      .join(", ")}.`,
  );
  return `${out.join("\n")}\n`;
}

// ------------------------------------------------------------------------------------ the chart

const COLORS: Record<string, string> = {
  [XENT]: "#1f5fbf",
  [XENT_ZC]: "#6fa0e8",
  "xent/reference": "#9aa5b1",
  "plain JS": "#f0b429",
  "tfjs-wasm": "#e8590c",
  "onnxruntime-web": "#2b8a3e",
  "onnxruntime-node": "#8ce99a",
};
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Grouped bars of Melem/s per workload, one panel per (op, precision), log scale; no scripts, no network. */
export function svg(ms: Measurement[], title: string, subtitle: string): string {
  const panels = OPS.filter(([o, p]) => ms.some((m) => m.op === o && m.precision === p));
  const libs = LIBS.filter((l) => ms.some((m) => m.lib === l));
  const vals = ms.map((m) => m.melemPerSec).filter((v) => v > 0 && Number.isFinite(v));
  const lo = 10 ** Math.floor(Math.log10(Math.min(...vals, 1e9)));
  const maxV = Math.max(...vals, 1e-9);
  // Room above the tallest bar for its label: at least half a decade.
  const hi = 10 ** Math.max(Math.ceil(Math.log10(maxV)), Math.log10(maxV) + 0.5);
  const PW = 470,
    PH = 320,
    COLS = Math.min(3, Math.max(panels.length, 1)),
    ML = 56,
    MR = 10,
    MT = 54,
    MB = 40,
    TOP = 92;
  const rowsN = Math.ceil(panels.length / COLS);
  const W = COLS * PW + 20,
    H = TOP + rowsN * PH + 30;
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  );
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(`<text x="10" y="20" font-size="16" font-weight="bold">${esc(title)}</text>`);
  o.push(`<text x="10" y="38" fill="#444">${esc(subtitle)}</text>`);
  libs.forEach((l, i) => {
    const x = 10 + (i % 4) * 240,
      y = 54 + Math.floor(i / 4) * 16;
    o.push(
      `<rect x="${x}" y="${y}" width="11" height="11" fill="${COLORS[l] ?? "#000"}"/><text x="${x + 16}" y="${y + 10}">${esc(l)}${l.startsWith("onnxruntime") ? " (OP1: fastest graph)" : ""}</text>`,
    );
  });
  panels.forEach(([op, p], pi) => {
    const px = 10 + (pi % COLS) * PW,
      py = TOP + Math.floor(pi / COLS) * PH;
    const x0 = px + ML,
      x1 = px + PW - MR,
      y0 = py + MT,
      y1 = py + PH - MB;
    const y = (v: number) => y1 - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (y1 - y0);
    o.push(
      `<text x="${px + ML}" y="${py + 20}" font-size="12" font-weight="bold">${esc(`${OP_TITLE[op]}, ${p === "f32" ? "float32" : "float64"}`)}</text>`,
    );
    for (let e = Math.round(Math.log10(lo)); 10 ** e <= hi * 1.0001; e++) {
      const d = 10 ** e;
      o.push(`<line x1="${x0}" x2="${x1}" y1="${y(d).toFixed(1)}" y2="${y(d).toFixed(1)}" stroke="#ddd"/>`);
      o.push(
        `<text x="${x0 - 4}" y="${(y(d) + 4).toFixed(1)}" text-anchor="end" fill="#555">${e >= 0 ? d.toFixed(0) : d.toFixed(-e)}</text>`,
      );
      for (const f of [2, 5])
        if (d * f < hi) o.push(`<line x1="${x0}" x2="${x1}" y1="${y(d * f).toFixed(1)}" y2="${y(d * f).toFixed(1)}" stroke="#f2f2f2"/>`);
    }
    o.push(`<text transform="translate(${px + 14},${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" fill="#555">Melem/s (log)</text>`);
    const ws = Object.keys(WORKLOADS).filter((w) => ms.some((m) => m.workload === w && m.op === op && m.precision === p));
    const gw = (x1 - x0) / Math.max(ws.length, 1);
    ws.forEach((w, wi) => {
      const present = libs.filter((l) => cell(ms, l, w, op, p));
      const bw = Math.min(18, (gw - 12) / Math.max(present.length, 1));
      const gx = x0 + wi * gw + (gw - bw * present.length) / 2;
      present.forEach((l, li) => {
        const m = cell(ms, l, w, op, p)!;
        const top = y(Math.max(m.melemPerSec, lo));
        const bx = gx + li * bw;
        o.push(
          `<rect x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(y1 - top).toFixed(1)}" fill="${COLORS[l] ?? "#000"}"><title>${esc(`${l}${m.graph ? ` [${m.graph}]` : ""}, ${op} ${p} ${w}: ${fmt(m.melemPerSec)} Melem/s`)}</title></rect>`,
        );
        const tx = bx + bw / 2 + 3,
          ty = top - 3;
        o.push(
          `<text transform="translate(${tx.toFixed(1)},${ty.toFixed(1)}) rotate(-90)" font-size="8.5" fill="#333">${fmt(m.melemPerSec)}</text>`,
        );
      });
      const [r, k] = WORKLOADS[w];
      o.push(`<text x="${(x0 + wi * gw + gw / 2).toFixed(1)}" y="${y1 + 14}" text-anchor="middle">${w}</text>`);
      o.push(
        `<text x="${(x0 + wi * gw + gw / 2).toFixed(1)}" y="${y1 + 27}" text-anchor="middle" fill="#666" font-size="10">${r} x ${k}</text>`,
      );
    });
    o.push(
      `<line x1="${x0}" x2="${x1}" y1="${y1}" y2="${y1}" stroke="#333"/><line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#333"/>`,
    );
  });
  o.push(`</svg>`);
  return `${o.join("\n")}\n`;
}
