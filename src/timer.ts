/**
 * A timer for any delay, that never fires before `ms` have passed on `performance.now()`'s clock.
 * `setTimeout` fires after 1 ms for delays of 2^31 ms or more (a job's `timeout` or a pool's
 * `abortGrace` may be that long, or `Infinity`: never), and counts from the event loop's cached
 * whole-millisecond time, so it can fire up to a millisecond early: it is armed again for what is
 * left.
 */
const longestTimeout = 2 ** 31 - 1;

export class Timer {
  #timeout: NodeJS.Timeout | undefined;
  readonly #deadline: number;
  readonly #callback: () => void;

  constructor(callback: () => void, ms: number) {
    this.#callback = callback;
    this.#deadline = performance.now() + ms;
    this.#arm(ms);
  }

  #arm(ms: number): void {
    if (ms === Infinity) return;
    this.#timeout = setTimeout(this.#fired, Math.min(longestTimeout, Math.max(1, Math.ceil(ms))));
  }

  readonly #fired = (): void => {
    const left = this.#deadline - performance.now();
    if (left > 0) this.#arm(left);
    else {
      this.#timeout = undefined;
      this.#callback();
    }
  };

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
