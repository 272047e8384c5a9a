/**
 * The one seam between the scheduler and whatever runs jobs. The pool decides *when* a job runs;
 * an executor only runs it and says when it has really stopped. Two live behind it today: Piscina's
 * threads (thread-executor.ts) and the main thread's event loop (in-process-executor.ts); a queue
 * shared by many machines is planned as a third.
 */
import type { TransferListItem } from 'node:worker_threads';

/** A job handed to an executor: the payload is built, the handle is `running`. */
export interface ExecutorJob {
  /** The handle's id: unique and increasing within the pool. */
  readonly id: number;
  /** Which export of the worker module runs; `undefined` for the default. */
  readonly name: string | undefined;
  /** The built payload (a function input has been called already). */
  readonly input: unknown;
  readonly transferList: readonly TransferListItem[] | undefined;
  /** Handed over by `promote()`: it goes ahead of anything the executor still holds. */
  readonly promoted: boolean;
  /** Where the executor keeps this job while it runs; the executor's to set and read. */
  slot: number;
  /** Delivers one progress value to the handle's callbacks. */
  progress(value: unknown): void;
}

export interface Executor {
  /** How many threads run jobs now (0 for the in-process executor). */
  readonly threads: number;
  /**
   * The pool's concurrency when the user gave none, for a job of export `name` (`undefined`: the
   * default export; `null`: the export of the job that finished last). The in-process pool is
   * always given one.
   */
  defaultConcurrency(name: string | undefined | null): number;
  /**
   * Runs `job`. The promise settles once the job has really stopped — with its result, its error,
   * or, after `stop`, whatever it ended with — and after every progress value it sent was delivered.
   */
  run(job: ExecutorJob): Promise<unknown>;
  /**
   * Tells a running job to stop: cooperatively first, by force after the pool's `abortGrace`.
   * The promise of `run` still settles only when the job has stopped.
   */
  stop(job: ExecutorJob): void;
  /** Ends the threads; called once every job has stopped. */
  close(): Promise<void>;
}
