/**
 * JobGroup: jobs that are cancelled and awaited together, after Trio's nurseries. The group owns
 * its jobs: a failure in one is the group's to report through `settled()`, never an unhandled
 * rejection. A closed or cancelled group takes no new jobs; with `failFast`, the first failure
 * cancels the rest. A settled job's handle is let go (only its outcome is kept), so a long-lived
 * group does not keep every input and callback it ever saw.
 */
import { CancelledError, PoolClosedError } from './errors.js';
import { observe, type HandleOptions, type JobHandle, type JobOutcome, type PoolHandle } from './handle.js';
import type { SubmitOptions } from './submit-options.js';

/** What a group submits its jobs through: its pool. */
interface Submitter<H extends JobHandle<any, any, any>> {
  submit<T = unknown, Progress = unknown>(input: unknown, options?: SubmitOptions<Progress> & HandleOptions<H>): PoolHandle<H, T, Progress>;
}

/** Options of `pool.group(options)`. */
export interface GroupOptions {
  /** The first job of the group that fails (rejects, not cancelled) cancels every other unsettled one, with that error as the reason. @default false */
  failFast?: boolean;
}

/**
 * Jobs of one pool, cancelled and awaited together (`pool.group<T>()`). `H`: the pool's handle
 * class; `T`: the result type of the group's jobs (a union when they differ), what `settled()`
 * resolves with.
 */
export class JobGroup<H extends JobHandle<any, any, any> = JobHandle, T = unknown> {
  readonly #pool: Submitter<H>;
  readonly #failFast: boolean;
  /** Each job in submission order: its handle until it settles, then only its outcome. */
  readonly #entries: (PoolHandle<H, T, any> | Settled<T>)[] = [];
  #state: 'open' | 'closed' | 'cancelled' = 'open';

  constructor(pool: Submitter<H>, options?: GroupOptions) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new TypeError(`group options must be an object, got ${typeof options}`);
    const failFast = options?.failFast;
    if (failFast !== undefined && typeof failFast !== 'boolean') throw new TypeError(`failFast must be a boolean, got ${typeof failFast}`);
    this.#pool = pool;
    this.#failFast = failFast === true;
  }

  /** `open`; `closed` by close(); `cancelled` by cancel() (or a failure, with failFast). Only an open group takes jobs. */
  get state(): 'open' | 'closed' | 'cancelled' {
    return this.#state;
  }

  /**
   * Submits a job to the pool as part of this group; same as `pool.submit`. `R`, the result type
   * of this job, is one of the group's `T` (taken on trust, as `pool.submit<T>`). Throws
   * `PoolClosedError` if the group is closed or cancelled: the job is not submitted.
   */
  submit<R extends T = T, Progress = unknown>(input: unknown, options?: SubmitOptions<Progress> & HandleOptions<H>): PoolHandle<H, R, Progress> {
    if (this.#state !== 'open') throw new PoolClosedError(`this group is ${this.#state}: it takes no new jobs`);
    const handle = this.#pool.submit<R, Progress>(input, options);
    observe(handle);
    const index = this.#entries.length;
    this.#entries.push(handle);
    handle.onDone(() => {
      const outcome = handle.outcome! as JobOutcome<T>;
      this.#entries[index] = new Settled(outcome);
      if (this.#failFast && outcome.status === 'rejected' && !(outcome.reason instanceof CancelledError) && this.#state !== 'cancelled') this.cancel(outcome.reason);
    });
    return handle;
  }

  /** The group's unsettled handles, in submission order (a settled job's handle is not kept). */
  get handles(): readonly PoolHandle<H, T, any>[] {
    // Read from the handles themselves: one settled a moment ago counts as settled at once.
    return this.#entries.filter((entry): entry is PoolHandle<H, T, any> => !(entry instanceof Settled) && entry.outcome === undefined);
  }

  /** How many of the group's jobs have not settled. */
  get pending(): number {
    return this.handles.length;
  }

  /** Cancels every unsettled job of the group, and the group takes no more; returns how many this call cancelled. */
  cancel(reason?: unknown): number {
    this.#state = 'cancelled';
    let cancelled = 0;
    for (const entry of [...this.#entries]) if (!(entry instanceof Settled) && entry.cancel(reason)) cancelled++;
    return cancelled;
  }

  /** The group takes no more jobs; resolves as `settled()` once its jobs have settled (they run on: nothing is cancelled). */
  close(): Promise<JobOutcome<T>[]> {
    if (this.#state === 'open') this.#state = 'closed';
    return this.settled();
  }

  /**
   * Resolves, once every job submitted so far has settled, with their outcomes in submission
   * order. Never rejects; waits, cancels nothing. Held jobs are started, as awaiting them would.
   */
  settled(): Promise<JobOutcome<T>[]> {
    const entries = this.#entries.slice();
    return Promise.all(
      entries.map((entry) =>
        entry instanceof Settled ? entry.outcome : new Promise<JobOutcome<T>>((resolve) => entry.start().onDone((handle) => resolve(handle.outcome! as JobOutcome<T>))),
      ),
    );
  }

  /** `await using`: cancels what is unsettled and waits until every job has settled. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    await this.settled();
  }
}

/** A settled job's outcome, standing where its handle stood. */
class Settled<T> {
  readonly outcome: JobOutcome<T>;
  constructor(outcome: JobOutcome<T>) {
    this.outcome = outcome;
  }
}
