/**
 * The executor that runs jobs on the main thread's event loop: for I/O-bound work (requests, file
 * copies) with the very same handles, queue and guarantees as threads. It is also what lets the
 * scheduler be tested without threads.
 */
import type { Executor, ExecutorJob } from './executor.js';
import type { InProcessJob, InProcessRun } from './options.js';
import { Timer } from './timer.js';

class Running implements InProcessJob {
  readonly #job: ExecutorJob;
  #controller: AbortController | undefined;
  #stopped = false;
  /** Frees the slot of a job that ignores its signal, once abortGrace has passed. */
  giveUp: (() => void) | undefined;
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
}

export class InProcessExecutor implements Executor {
  readonly threads = 0;
  /** Never used: an in-process pool is given its concurrency. */
  defaultConcurrency(): number {
    return 1;
  }
  readonly #run: InProcessRun;
  readonly #abortGrace: number;
  readonly #running: (Running | undefined)[] = [];
  readonly #freeSlots: number[] = [];

  constructor(run: InProcessRun, abortGrace: number) {
    this.#run = run;
    this.#abortGrace = abortGrace;
  }

  run(job: ExecutorJob): Promise<unknown> {
    const running = new Running(job);
    const slot = this.#freeSlots.pop() ?? this.#running.length;
    job.slot = slot;
    this.#running[slot] = running;
    const release = () => {
      running.graceTimer?.clear();
      if (this.#running[slot] === running) {
        this.#running[slot] = undefined;
        this.#freeSlots.push(slot);
      }
    };
    const result = new Promise<unknown>((resolve) => resolve(this.#run(job.input, running)));
    // A job that ignores its signal cannot be stopped by force in this thread: after abortGrace
    // its slot is given back and whatever it still does is no longer counted.
    const givenUp = new Promise<never>((_, reject) => {
      running.giveUp = () => reject(new Error(`job ${job.id} did not stop within abortGrace`));
    });
    return Promise.race([result, givenUp]).finally(release);
  }

  stop(job: ExecutorJob): void {
    const running = this.#running[job.slot];
    if (running === undefined) return;
    running.stop();
    running.graceTimer = new Timer(() => running.giveUp?.(), this.#abortGrace);
  }

  async close(): Promise<void> {}
}
