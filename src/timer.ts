/**
 * A timer for any delay. `setTimeout` fires after 1 ms for delays of 2^31 ms or more; a job's
 * `timeout` or a pool's `abortGrace` may be that long, or `Infinity` (never).
 */
const longestTimeout = 2 ** 31 - 1;

export class Timer {
  #timeout: NodeJS.Timeout | undefined;

  constructor(callback: () => void, ms: number) {
    this.#arm(callback, ms);
  }

  #arm(callback: () => void, ms: number): void {
    if (ms === Infinity) return;
    if (ms <= longestTimeout) {
      this.#timeout = setTimeout(callback, ms);
      return;
    }
    this.#timeout = setTimeout(() => this.#arm(callback, ms - longestTimeout), longestTimeout);
  }

  clear(): void {
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    this.#timeout = undefined;
  }
}
