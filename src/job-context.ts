/**
 * Worker side: the job a thread is running, found through AsyncLocalStorage so that `progress()`,
 * `cancelled()` and `signal()` see their own job across `await`s and when a thread runs several
 * async jobs at once.
 *
 * Cancellation travels in shared memory: the main thread writes 1 into the job's word of an
 * Int32Array over a SharedArrayBuffer and notifies it; `cancelled()` is one Atomics.load, so a
 * synchronous loop can poll it. Progress travels over one Comlink channel per thread, set up the
 * first time a job of that thread reports progress, so jobs that never do pay nothing for it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { MessageChannel, parentPort } from 'node:worker_threads';
import type * as Comlink from 'comlink';
import { messages } from './errors.js';
import { slotWord, Word } from './thread/layout.js';

/** What the main thread exposes on each thread's progress channel. */
export interface ProgressReceiver {
  progress(slot: number, id: number, value: unknown): void;
  /** Sent last by a job that reported progress: everything it sent before has arrived. */
  flush(slot: number, id: number): void;
}

/** The message a thread posts on its parentPort to hand the main thread its progress channel. */
export const progressChannelKey = 'lazypool:progress-channel';

// Shared through globalThis so that two copies of lazypool loaded in one thread still agree.
const storageKey = Symbol.for('lazypool.jobs');
const globalSlots = globalThis as typeof globalThis & { [storageKey]?: AsyncLocalStorage<JobContext> };
export const jobs: AsyncLocalStorage<JobContext> = (globalSlots[storageKey] ??= new AsyncLocalStorage<JobContext>());

let receiver: Comlink.Remote<ProgressReceiver> | undefined;

function progressChannel(): Comlink.Remote<ProgressReceiver> {
  if (receiver !== undefined) return receiver;
  if (parentPort === null) throw new Error(messages.outsideJob('progress'));
  const { port1, port2 } = new MessageChannel();
  parentPort.postMessage({ [progressChannelKey]: port2 }, [port2]);
  // Loaded on a thread's first progress() only: most threads never report any, and a thread
  // starts faster without it.
  const comlink = process.getBuiltinModule('node:module').createRequire(import.meta.url)('comlink') as typeof Comlink;
  receiver = comlink.wrap<ProgressReceiver>(port1 as unknown as Comlink.Endpoint);
  // Replies to these calls are not needed for anything; they must not keep the thread alive.
  port1.unref();
  return receiver;
}

export class JobContext {
  readonly id: number;
  readonly #slot: number;
  readonly #flags: Int32Array;
  /** The job's `cancelled` word in `#flags`. */
  readonly #word: number;
  #controller: AbortController | undefined;
  #reported = false;
  #ended = false;

  constructor(id: number, slot: number, flags: Int32Array) {
    this.id = id;
    this.#slot = slot;
    this.#flags = flags;
    this.#word = slotWord(slot) + Word.cancelled;
  }

  get cancelled(): boolean {
    return Atomics.load(this.#flags, this.#word) !== 0;
  }

  /** Throws if the job has ended: its words may belong to another job by now. */
  check(fn: string): this {
    if (this.#ended) throw new Error(messages.outsideJob(fn));
    return this;
  }

  progress(value: unknown): void {
    // Comlink posts inside a promise executor, where a clone failure would only reject a promise
    // nobody sees: check here so the caller gets the DataCloneError.
    // Functions and symbols too: structuredClone throws for them as postMessage would.
    if ((typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'symbol') structuredClone(value);
    if (!this.#reported) {
      this.#reported = true;
      Atomics.store(this.#flags, this.#word - Word.cancelled + Word.reported, 1);
    }
    void progressChannel().progress(this.#slot, this.id, value).catch(ignore);
  }

  get signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal;
    const controller = (this.#controller = new AbortController());
    this.#watch(controller);
    return controller.signal;
  }

  #watch(controller: AbortController): void {
    // Once the job has ended its word is reused by other jobs: stop watching it.
    if (this.#ended) return;
    if (this.cancelled) {
      controller.abort();
      return;
    }
    const wait = Atomics.waitAsync(this.#flags, this.#word, 0);
    if (wait.async) void wait.value.then(() => this.#watch(controller));
    else this.#watch(controller);
  }

  /** The job returned or threw: tell the main thread its progress is all sent, release the watcher. */
  end(): void {
    this.#ended = true;
    if (this.#reported) void progressChannel().flush(this.#slot, this.id).catch(ignore);
    if (this.#controller !== undefined && !this.cancelled) Atomics.notify(this.#flags, this.#word);
  }
}

function ignore(): void {}

/**
 * The job whose synchronous handler is on the stack right now. Synchronous handlers run without
 * AsyncLocalStorage: once a thread has used it, every promise in that thread pays for its hooks.
 * Shared through globalThis like `jobs`: the copy of lazypool that runs the handler may not be the
 * one whose `progress()` it calls.
 */
const synchronousKey = Symbol.for('lazypool.synchronousJob');
type SynchronousSlot = { job: JobContext | undefined };
const synchronous: SynchronousSlot = ((globalThis as typeof globalThis & { [synchronousKey]?: SynchronousSlot })[synchronousKey] ??= { job: undefined });

/** Runs a handler known to be synchronous with `job` as the current job. */
export function runSynchronous<R>(job: JobContext, handler: (input: unknown) => R, input: unknown): R {
  const outer = synchronous.job;
  synchronous.job = job;
  try {
    return handler(input);
  } finally {
    synchronous.job = outer;
  }
}

export function currentJob(fn: string): JobContext {
  const job = synchronous.job ?? jobs.getStore();
  if (job === undefined) throw new Error(messages.outsideJob(fn));
  return job.check(fn);
}
