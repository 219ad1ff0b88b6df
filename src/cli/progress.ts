// A progress bar on stderr, drawn only when stderr is a terminal; in pipes and files nothing is written.

/** Where output goes: process.stdout / process.stderr, or anything with write(). */
export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class Progress {
  #last = -Infinity;
  #start = performance.now();
  #drawn = false;

  /** `out` null (or not a TTY) disables the bar. `total` is in bytes. */
  constructor(
    readonly out: Out | null,
    readonly label: string,
    readonly total: number,
  ) {
    if (out !== null && out.isTTY !== true) this.out = null;
  }

  update(done: number): void {
    if (this.out === null) return;
    const now = performance.now();
    if (now - this.#last < 100 && done < this.total) return;
    this.#last = now;
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const seconds = (now - this.#start) / 1000;
    const rate = seconds > 0 ? `${(done / 1e6 / seconds).toFixed(0)} MB/s` : "";
    const tail = ` ${(fraction * 100).toFixed(0).padStart(3)}%  ${mb(done)}/${mb(this.total)}  ${rate}`;
    const width = Math.max(10, Math.min(40, (this.out.columns || 80) - this.label.length - tail.length - 4));
    const full = Math.round(fraction * width);
    this.out.write(`\r${this.label} [${"#".repeat(full)}${".".repeat(width - full)}]${tail}\x1b[K`);
    this.#drawn = true;
  }

  /** Clears the bar. */
  finish(): void {
    if (this.out !== null && this.#drawn) this.out.write("\r\x1b[K");
    this.#drawn = false;
  }
}

const mb = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);
