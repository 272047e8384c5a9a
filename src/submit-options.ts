/**
 * The options of one job, in a module of their own: the handle (which keeps them) and the pool's
 * option checks (which read them) both need them, and neither needs the other for it.
 */
import type { TransferListItem } from 'node:worker_threads';

/**
 * Options of a single job, given to `submit`. `Progress` is the type of the values the job reports
 * (see `onProgress`). Only these keys type-check: a custom `Handle` class declares the options it
 * reads as `JobHandle`'s second type parameter, and `submit` then takes those too. At run time any
 * other key given (from JavaScript, say) is still kept on `handle.options`.
 */
export interface SubmitOptions<Progress = unknown> {
  /** Which export of the worker module runs (Piscina's `name`). @default the pool's `name` option: the default export */
  name?: string;
  /** Higher runs first; equal priorities run in submission order. @default 0 */
  priority?: number;
  /** Start in state `held`: not queued until `start()`, `promote()`, or it is awaited. @default false */
  hold?: boolean;
  /** Objects to transfer rather than copy to the worker (as Piscina's `transferList`). */
  transferList?: readonly TransferListItem[];
  /** Aborting it cancels the job, as `handle.cancel(signal.reason)` does. */
  signal?: AbortSignal;
  /**
   * ms of running time, counted from the moment the job begins on its thread (not while it waits,
   * nor while its input function builds the payload); past it the job is told to stop and rejects
   * with `TimeoutError`. @default Infinity
   */
  timeout?: number;
  /** Called with each progress value the job reports, as `handle.onProgress(callback)`. */
  onProgress?: (value: Progress) => void;
  /**
   * Jobs this one waits for (handles of any pool, or anything awaitable): it stays `queued` and is
   * not dispatched until every one is fulfilled; an input function is then called with their
   * results, in order. One that fails or is cancelled rejects this job with a `DependencyError`
   * (its `cause` the failure) without it ever running. Its priority, if higher, is given to the
   * dependencies still waiting, and `promote()` promotes them too. @default none
   */
  after?: readonly PromiseLike<unknown>[];
  /**
   * With `after`: the job waits until every dependency has settled, however, and runs anyway (as
   * `Promise.allSettled`); an input function is called with their outcomes
   * (`{ status, value }` or `{ status, reason }`), not their results. @default false
   */
  afterSettled?: boolean;
}
