/**
 * JobGroup: jobs that are cancelled and awaited together, after Trio's nurseries. The group owns
 * its jobs: a failure in one is the group's to report through `settled()`, never an unhandled
 * rejection; `await using` cancels what is unsettled and waits for everything to stop settling.
 */
import { observe, type JobHandle, type JobOutcome, type PoolHandle } from './handle.js';
import type { SubmitOptions } from './submit-options.js';

/** What a group submits its jobs through: its pool. */
interface Submitter<H extends JobHandle<any, any>> {
  submit<T = unknown>(input: unknown, options?: SubmitOptions): PoolHandle<H, T>;
}

export class JobGroup<H extends JobHandle<any, any> = JobHandle> {
  readonly #pool: Submitter<H>;
  readonly #handles: JobHandle<any, any>[] = [];

  constructor(pool: Submitter<H>) {
    this.#pool = pool;
  }

  /** Submits a job to the pool as part of this group; same as `pool.submit`. */
  submit<T = unknown>(input: unknown, options?: SubmitOptions): PoolHandle<H, T> {
    const handle = this.#pool.submit<T>(input, options);
    observe(handle);
    this.#handles.push(handle);
    return handle;
  }

  /** The group's handles, in submission order. */
  get handles(): readonly JobHandle<any, any>[] {
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
  settled(): Promise<JobOutcome<unknown>[]> {
    const handles = [...this.#handles];
    return Promise.all(
      handles.map((handle) => new Promise<JobOutcome<unknown>>((resolve) => handle.start().onDone(() => resolve(handle.outcome!)))),
    );
  }

  /** Cancels what is unsettled and waits until every job has settled. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    await this.settled();
  }
}
