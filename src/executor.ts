/**
 * The one seam between the scheduler and whatever runs jobs. It is pull-shaped: the pool decides
 * the order, and an executor asks it for the next job whenever it has room (`JobSource.take`).
 * A job handed over this way is still `queued`: the executor may send it ahead (to a thread's
 * inbox, to a remote queue), but it is running only once the executor says it began
 * (`JobSource.started`), and until then the pool may ask for it back (`Executor.takeBack`).
 *
 * Nothing thread-specific crosses the seam: no shared memory, no thread counts beyond
 * `capacity`, no Piscina wrappers. Two executors live behind it: Piscina's threads
 * (thread/executor.ts) and the main thread's event loop (in-process-executor.ts).
 */
import type { TransferListItem } from 'node:worker_threads';

/** A job handed to an executor: its payload is built; its handle is still `queued`. */
export interface ExecutorJob {
  /** The handle's id: unique and increasing within the pool. */
  readonly id: number;
  /** Which export of the worker module runs; `undefined` for the default. */
  readonly name: string | undefined;
  /** The built payload (a function input has been called already). */
  readonly input: unknown;
  readonly transferList: readonly TransferListItem[] | undefined;
  /** Promoted: it goes ahead of everything the executor holds, past its room. */
  readonly promoted: boolean;
  /** Delivers one progress value to the handle's callbacks. */
  progress(value: unknown): void;
}

/** What the pool offers an executor. Every call is synchronous and cheap. */
export interface JobSource {
  /**
   * The next job in the pool's order (promoted jobs first), its payload built, or `undefined`
   * when none may be handed over now. The job stays `queued` until `started`. `promotedOnly`:
   * the executor has no room, so only a promoted job (which goes past any room) is wanted.
   */
  take(promotedOnly?: boolean): ExecutorJob | undefined;
  /** The export of the job `take()` would give next (`undefined`: the default); `null`: none. */
  nextName(): string | undefined | null;
  /** How many jobs wait in the pool to be taken: a hint for how many to send at once. */
  waiting(): number;
  /** The job began (`at`: its `performance.now()` on this thread's clock): it is `running` now. */
  started(job: ExecutorJob, at: number): void;
  /**
   * The job has really stopped, with its result or error. A job that never began (its input
   * could not be sent) may stop too: it is rejected without ever running.
   */
  stopped(job: ExecutorJob, failed: boolean, value: unknown): void;
  /** A job handed over that never began, given back (its thread died first): it waits again. */
  returned(job: ExecutorJob): void;
}

export interface Executor {
  /** Threads running jobs now (0 where there are none). */
  readonly threads: number;
  /** How many jobs can run at once: the pool's default concurrency. `Infinity`: no limit of its own. */
  readonly capacity: number;
  /** Called once by the pool before anything else. */
  attach(source: JobSource): void;
  /** The source may have jobs to take now (queued, promoted, or more allowed). */
  wake(): void;
  /**
   * Asks for a job handed over back. `true`: it never began and never will; the pool has it
   * again. `false`: it began; when `cancelling`, `source.started` has been called before this
   * returns; otherwise it may come a little later (the Piscina executor reports a begin only once
   * the job before it on its thread has stopped), and the job stays handed over until then.
   * `cancelling`: the job will never be handed over again. Otherwise an executor that cannot
   * send a job twice (its input was transferred away) may refuse, and say it began: it sends
   * such a job only where it begins at once.
   */
  takeBack(job: ExecutorJob, cancelling: boolean): boolean;
  /**
   * Tells a job that began to stop: cooperatively first, by force after the pool's `abortGrace`.
   * `source.stopped` still comes only once it has stopped.
   */
  stop(job: ExecutorJob): void;
  /** Ends what the executor started; called once every job has stopped. */
  close(): Promise<void>;
}
