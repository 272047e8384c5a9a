/**
 * JobGroup: jobs that are cancelled and awaited together, after Trio's nurseries. The group owns
 * its jobs: a failure in one is the group's to report through `settled()`, never an unhandled
 * rejection; `await using` cancels what is unsettled and waits for everything to stop settling.
 */
import { observe, type HandleOptions, type JobHandle, type JobOutcome, type PoolHandle } from './handle.js';
import type { SubmitOptions } from './submit-options.js';

/** What a group submits its jobs through: its pool. */
interface Submitter<H extends JobHandle<any, any, any>> {
  submit<T = unknown, Progress = unknown>(input: unknown, options?: SubmitOptions<Progress> & HandleOptions<H>): PoolHandle<H, T, Progress>;
}

/**
 * Jobs of one pool, cancelled and awaited together (`pool.group<T>()`). `H`: the pool's handle
 * class; `T`: the result type of the group's jobs (a union when they differ), what `settled()`
 * resolves with.
 */
export class JobGroup<H extends JobHandle<any, any, any> = JobHandle, T = unknown> {
  readonly #pool: Submitter<H>;
  readonly #handles: PoolHandle<H, T, any>[] = [];

  constructor(pool: Submitter<H>) {
    this.#pool = pool;
  }

  /**
   * Submits a job to the pool as part of this group; same as `pool.submit`. `R`, the result type
   * of this job, is one of the group's `T` (taken on trust, as `pool.submit<T>`).
   */
  submit<R extends T = T, Progress = unknown>(input: unknown, options?: SubmitOptions<Progress> & HandleOptions<H>): PoolHandle<H, R, Progress> {
    const handle = this.#pool.submit<R, Progress>(input, options);
    observe(handle);
    this.#handles.push(handle);
    return handle;
  }

  /** The group's handles, in submission order. */
  get handles(): readonly PoolHandle<H, T, any>[] {
    return this.#handles;
  }

  /** Cancels every unsettled job of the group; returns how many this call cancelled. */
  cancel(reason?: unknown): number {
    let cancelled = 0;
    for (const handle of this.#handles) if (handle.cancel(reason)) cancelled++;
    return cancelled;
  }

  /**
   * Resolves, once every job submitted so far has settled, with their outcomes in submission
   * order. Never rejects. Held jobs are started, as awaiting them would.
   */
  settled(): Promise<JobOutcome<T>[]> {
    const handles: JobHandle<T, any, any>[] = [...this.#handles];
    return Promise.all(
      handles.map((handle) => new Promise<JobOutcome<T>>((resolve) => handle.start().onDone(() => resolve(handle.outcome!)))),
    );
  }

  /** Cancels what is unsettled and waits until every job has settled. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    await this.settled();
  }
}
