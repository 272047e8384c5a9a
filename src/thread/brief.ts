/**
 * Which exports run briefly enough to be worth sending several jobs to a Piscina task. A task
 * costs a message each way and a wake-up of both threads, tens of µs: most of the cost of a job
 * that runs for a few µs, and nothing beside one that runs for a millisecond.
 */

/** Jobs of an export that mostly run under this (µs), five of its last eight, are batched. */
export const briefBelowMicros = 100;

/** Bits set in each byte. */
const bitCounts = Uint8Array.from({ length: 256 }, (_, byte) => byte.toString(2).replaceAll('0', '').length);

export class BriefPolicy {
  /**
   * For each export, which of its last eight jobs ran under `briefBelowMicros` (a bit each, the
   * newest lowest). A majority decides, so that a brief job the OS preempted once does not count.
   */
  readonly #recent = new Map<string, number>();
  /** Exports whose results could not be kept in shared memory: never batched again. */
  readonly #unbatchable = new Set<string>();

  /**
   * Records how long a job of `name` ran (µs + 1, as the thread wrote it; 0: not measured).
   * Wall-clock time, so a brief job the OS preempted reads as long: one reading never decides alone.
   */
  record(name: string, measured: number): void {
    if (measured === 0) return;
    this.#recent.set(name, (((this.#recent.get(name) ?? 0) << 1) | (measured - 1 < briefBelowMicros ? 1 : 0)) & 0xff);
  }

  /** The export's results cannot wait in shared memory: its jobs go one per task from now on. */
  neverBatch(name: string): void {
    this.#unbatchable.add(name);
  }

  isBrief(name: string): boolean {
    return bitCounts[this.#recent.get(name) ?? 0]! >= 5 && !this.#unbatchable.has(name);
  }
}
