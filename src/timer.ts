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

/** `promise`, or a rejection with `message` once `ms` have passed without it settling. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
