/**
 * `lazypool/worker`: what a worker module calls from inside a running job. Each call sees its own
 * job, across `await`s and when one thread runs several async jobs at once; outside a job they throw.
 */
import { currentJob } from './job-context.js';

/**
 * Sends `value` (anything structured-cloneable) to the job's `onProgress` callbacks on the main
 * thread. Values arrive in order, all before the handle settles. Throws a `DataCloneError` for a
 * value that cannot be cloned.
 *
 * `progress<Progress>(value)` checks `value` against a type the worker module exports, the type
 * the main thread names in `pool.proxy<typeof import('./worker.js'), Progress>()`.
 */
export function progress<Progress = unknown>(value: Progress): void {
  currentJob('progress').progress(value);
}

/**
 * `true` once the job has been cancelled or has timed out. One read of shared memory: a synchronous
 * loop can poll it and stop early, which keeps its thread alive and reusable.
 */
export function cancelled(): boolean {
  return currentJob('cancelled').cancelled;
}

/** An `AbortSignal` that aborts when the job is cancelled or times out, for async APIs (fs, timers, streams). */
export function signal(): AbortSignal {
  return currentJob('signal').signal;
}
