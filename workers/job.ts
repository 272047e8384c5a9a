import { cancelled, progress, signal } from '../src/worker.js';

/**
 * The job a worker function is running in, as the example workers use it.
 *
 * The example workers are meant to run unchanged under lazypool, under a plain Piscina pool (the
 * demo's eager side uses the very same files) and when called directly (tests, scripts). Only a
 * lazypool job has a progress channel and a cancellation flag, and `lazypool/worker` throws
 * outside one, so this looks once per call and falls back to "no progress, never cancelled".
 */
export interface JobContext {
  /** Whether the function runs inside a lazypool job (else progress goes nowhere). */
  readonly inPool: boolean;
  /** Sends `value` to the job's `onProgress` callbacks; does nothing outside a lazypool job. */
  progress(value: unknown): void;
  /** `true` once the job has been cancelled or has timed out; always `false` outside a lazypool job. */
  cancelled(): boolean;
  /** Aborts when the job is cancelled or times out; outside a lazypool job it never aborts. */
  readonly signal: AbortSignal;
}

const detached: JobContext = {
  inPool: false,
  progress() {},
  cancelled: () => false,
  signal: new AbortController().signal,
};

/** The context of the job running now; a worker function calls it once, at its start. */
export function currentJob(): JobContext {
  try {
    // One read of shared memory: the cheapest way to learn whether a job is running. signal()
    // would do too, but it sets up an AbortController and a waiter that most jobs never need.
    cancelled();
  } catch {
    return detached;
  }
  return {
    inPool: true,
    progress,
    cancelled,
    get signal() {
      return signal();
    },
  };
}

/**
 * Throws the job's abort reason if it has been cancelled. Worker functions call it between stages:
 * the handle has settled already, so what is thrown is never seen; throwing only ends the work early
 * so that the thread (and its slot) comes back without waiting for `abortGrace`.
 */
export function stopIfCancelled(job: JobContext): void {
  if (job.cancelled()) throw job.signal.reason ?? new Error('job cancelled');
}
