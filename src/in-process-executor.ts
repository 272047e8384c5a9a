/**
 * The executor that runs jobs on the main thread's event loop: for I/O-bound work (requests, file
 * copies) with the very same handles, queue and guarantees as threads. It is also what lets the
 * scheduler be tested without threads.
 *
 * It sends nothing ahead: a job it takes begins at once, in a microtask after the pool handed it
 * over, so that nothing a job does (progress, the 'start' event) happens inside `submit()` before
 * the caller holds the handle.
 */
import type { Executor, ExecutorJob, JobSource } from './executor.js';
import { messages } from './errors.js';
import type { InProcessJob, InProcessRun } from './options.js';
import { Timer } from './timer.js';

class Running implements InProcessJob {
  readonly #job: ExecutorJob;
  #controller: AbortController | undefined;
  #stopped = false;
  graceTimer: Timer | undefined;

  constructor(job: ExecutorJob) {
    this.#job = job;
  }

  get name(): string | undefined {
    return this.#job.name;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#stopped && !this.#controller.signal.aborted) this.#controller.abort();
    return this.#controller.signal;
  }

  progress(value: unknown): void {
    if (!this.#stopped) this.#job.progress(value);
  }

  stop(): void {
    this.#stopped = true;
    this.#controller?.abort();
  }

  get stopped(): boolean {
    return this.#stopped;
  }
}

export class InProcessExecutor implements Executor {
  readonly threads = 0;
  /** No limit of its own: an in-process pool is always given its concurrency. */
  readonly capacity = Infinity;
  readonly #run: InProcessRun;
  readonly #abortGrace: number;
  readonly #running = new Map<ExecutorJob, Running>();
  #source: JobSource | undefined;
  /** A drain is queued as a microtask. */
  #scheduled = false;

  constructor(run: InProcessRun, abortGrace: number) {
    this.#run = run;
    this.#abortGrace = abortGrace;
  }

  attach(source: JobSource): void {
    this.#source = source;
  }

  wake(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#drain);
  }

  /** Takes and begins every job the pool lets go now. */
  readonly #drain = (): void => {
    this.#scheduled = false;
    const source = this.#source!;
    for (let job = source.take(); job !== undefined; job = source.take()) this.#begin(job);
  };

  /** Jobs are begun in the turn they are taken: none is ever handed over and waiting. */
  takeBack(_job: ExecutorJob, _cancelling: boolean): boolean {
    return true;
  }

  #begin(job: ExecutorJob): void {
    const source = this.#source!;
    const running = new Running(job);
    this.#running.set(job, running);
    source.started(job, performance.now());
    // A 'start' listener or an onStart callback cancelled it: it ends before its function runs.
    if (running.stopped) {
      this.#end(job, running, false, undefined);
      return;
    }
    let value: unknown;
    let then: unknown;
    try {
      value = this.#run(job.input, running);
      then = (typeof value === 'object' || typeof value === 'function') && value !== null ? (value as { then?: unknown }).then : undefined;
    } catch (error) {
      this.#end(job, running, true, error);
      return;
    }
    // A plain value: the job has ended already, no promise is needed to say so.
    if (typeof then !== 'function') {
      this.#end(job, running, false, value);
      return;
    }
    new Promise((resolve, reject) => (then as PromiseLike<unknown>['then']).call(value, resolve, reject)).then(
      (result) => this.#end(job, running, false, result),
      (error: unknown) => this.#end(job, running, true, error),
    );
  }

  /** The job ended, or was given up after abortGrace (then whatever it ends with later is ignored). */
  #end(job: ExecutorJob, running: Running, failed: boolean, value: unknown): void {
    if (this.#running.get(job) !== running) return;
    running.graceTimer?.clear();
    this.#running.delete(job);
    this.#source!.stopped(job, failed, value);
  }

  stop(job: ExecutorJob): void {
    const running = this.#running.get(job);
    if (running === undefined || running.graceTimer !== undefined) return;
    running.stop();
    // A job that ignores its signal cannot be stopped by force in this thread: after abortGrace
    // its slot is given back and whatever it still does is no longer counted.
    running.graceTimer = new Timer(() => this.#end(job, running, true, new Error(messages.ignoredAbort(job.id))), this.#abortGrace);
  }

  async close(): Promise<void> {}
}
