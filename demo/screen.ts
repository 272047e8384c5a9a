/**
 * The demo's terminal output: a log of events that stays, and on a terminal a live block under it
 * (one line per job being watched) redrawn ten times a second. On a pipe only the log is written,
 * so `npm start > file` gives a readable record.
 */

const redrawIntervalMs = 100;

export class Screen {
  /** Whether stdout is a terminal, so the live block is drawn. */
  readonly live = process.stdout.isTTY === true;
  #block: (() => string[]) | undefined;
  #drawnLines = 0;
  #timer: NodeJS.Timeout | undefined;

  /** Prints a line that stays, above the live block. */
  log(text = ''): void {
    this.#erase();
    process.stdout.write(`${text}\n`);
    this.#draw();
  }

  /** Shows `render()`'s lines as the live block until `endBlock()`; nothing off a terminal. */
  beginBlock(render: () => string[]): void {
    if (!this.live) return;
    this.#block = render;
    this.#timer = setInterval(() => {
      this.#erase();
      this.#draw();
    }, redrawIntervalMs);
    this.#draw();
  }

  /** Removes the live block. */
  endBlock(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#erase();
    this.#block = undefined;
  }

  #erase(): void {
    if (this.#drawnLines === 0) return;
    // Up to the block's first line, then clear to the end of the screen.
    process.stdout.write(`\x1b[${this.#drawnLines}A\r\x1b[J`);
    this.#drawnLines = 0;
  }

  #draw(): void {
    if (this.#block === undefined) return;
    const width = (process.stdout.columns || 100) - 1;
    const lines = this.#block().map((line) => fit(line, width));
    if (lines.length === 0) return;
    process.stdout.write(`${lines.join('\n')}\n`);
    this.#drawnLines = lines.length;
  }
}

/** Cuts a line to `width` visible characters (colour codes do not count). */
function fit(line: string, width: number): string {
  let visible = 0;
  let cut = line.length;
  for (let index = 0; index < line.length; index++) {
    if (line[index] === '\x1b') {
      index = line.indexOf('m', index);
      if (index === -1) break;
      continue;
    }
    if (++visible > width) {
      cut = index;
      break;
    }
  }
  return cut < line.length ? `${line.slice(0, cut)}\x1b[0m` : line;
}

/** A progress bar of `width` cells for a fraction from 0 to 1. */
export function bar(fraction: number, width = 12): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Seconds with two decimals, for event times and durations. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A duration in the unit that reads best: µs, ms or s. */
export function duration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  return seconds(ms);
}

const useColour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;

/** Bold and dim, on a terminal that takes colour. */
export const style = {
  bold: (text: string) => (useColour ? `\x1b[1m${text}\x1b[22m` : text),
  dim: (text: string) => (useColour ? `\x1b[2m${text}\x1b[22m` : text),
  green: (text: string) => (useColour ? `\x1b[32m${text}\x1b[39m` : text),
  red: (text: string) => (useColour ? `\x1b[31m${text}\x1b[39m` : text),
};
