// Printing results: aligned "name  value" lines for people, one JSON object for programs.

/** A number to 10 significant digits (enough to compare float32 results at 1e-6); NaN and infinities by name. */
export function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(10))) : String(x);
}

/** "name  value" lines, the values aligned. */
export function lines(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return `${rows.map(([k, v]) => `${k.padEnd(width)}${v}`.trimEnd()).join("\n")}\n`;
}

/** JSON on one line; NaN and infinities (which JSON lacks) as the strings "NaN", "Infinity", "-Infinity". */
export function json(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}\n`;
}
