/**
 * Pool: the scheduler. The life of a job, top to bottom: `submit` makes a handle and queues it
 * (or holds it); `#dispatch` hands the next queued job to the executor whenever a slot is free;
 * `#stopped` frees the slot when the job has really stopped, dispatches the next one in the same
 * turn, and settles the handle. Cancel, hold, promote and priority changes go through `#owner`.
 */
import type { TransferListItem } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { PoolClosedError, TimeoutError } from './errors.js';
import type { Executor, ExecutorJob } from './executor.js';
import {
  deliverProgress,
  isThenable,
  JobHandle,
  markRunning,
  ownerKey,
  runStartCallbacks,
  runningJobOf,
  setCleanup,
  setRunningJob,
  setState,
  settle,
  type HandleOwner,
} from './handle.js';
import { InProcessExecutor } from './in-process-executor.js';
import { JobGroup } from './group.js';
import { iteratorOf, mapJobs } from './map.js';
import {
  checkConcurrency,
  checkPoolOptions,
  checkSubmitOptions,
  defaults,
  type CloseOptions,
  type HandleClass,
  type MapOptions,
  type PoolOptions,
  type SubmitOptions,
} from './options.js';
import { JobQueue } from './queue.js';
import { Timer } from './timer.js';
import { ThreadExecutor } from './thread-executor.js';

/** Counts of jobs in each state now, and the pool's limits. */
export interface PoolStats {
  held: number;
  queued: number;
  running: number;
  fulfilled: number;
  rejected: number;
  cancelled: number;
  /** How many jobs may be handed to the workers at once. */
  concurrency: number;
  /** Threads alive now (0 for an in-process pool). */
  threads: number;
}

/** The handle type a pool gives: the result type `T` plus whatever its `Handle` class adds. */
export type PoolHandle<H extends JobHandle<any, any>, T> = [Exclude<keyof H, keyof JobHandle<any, any>>] extends [never]
  ? JobHandle<T>
  : JobHandle<T> & Omit<H, keyof JobHandle<any, any>>;

/** A worker module's exports as a typed object: `proxy.fn(arg)` is `submit(arg, { name: 'fn' })`. */
export type WorkerProxy<Module, H extends JobHandle<any, any> = JobHandle> = {
  [K in keyof Module as Module[K] extends (...args: any[]) => unknown ? K : never]: Module[K] extends (
    ...args: infer A
  ) => infer R
    ? (
        input: A extends [] ? void | undefined : A[0] | (() => A[0] | PromiseLike<A[0]>),
        options?: SubmitOptions & { name?: never },
      ) => PoolHandle<H, Awaited<R>>
    : never;
};

const noOptions: SubmitOptions = Object.freeze({});

/** A job the executor runs; lives from dispatch until the job has really stopped. */
class RunningJob implements ExecutorJob {
  readonly handle: JobHandle;
  readonly id: number;
  readonly name: string | undefined;
  readonly transferList: readonly TransferListItem[] | undefined;
  readonly promoted: boolean;
  input: unknown = undefined;
  slot = -1;
  /** True once the executor has it (a function input may still be building its payload). */
  executing = false;
  timer: Timer | undefined = undefined;

  constructor(handle: JobHandle, options: SubmitOptions, promoted: boolean) {
    this.handle = handle;
    this.id = handle.id;
    this.name = options.name;
    this.transferList = options.transferList;
    this.promoted = promoted;
  }

  progress(value: unknown): void {
    deliverProgress(this.handle, value);
  }
}

export interface Pool<H extends JobHandle<any, any> = JobHandle> {
  /** `'start'`: a job became running; `'done'`: a job settled, in any way; `'idle'`: nothing is queued or running. */
  on(event: 'start' | 'done', listener: (handle: H) => void): this;
  on(event: 'idle', listener: () => void): this;
  once(event: 'start' | 'done', listener: (handle: H) => void): this;
  once(event: 'idle', listener: () => void): this;
  off(event: 'start' | 'done', listener: (handle: H) => void): this;
  off(event: 'idle', listener: () => void): this;
}

/**
 * A worker-thread pool whose `submit()` returns a handle at once, while the job reaches a thread
 * only when a slot opens. Until then the handle can be held, reprioritised, promoted or cancelled.
 */
export class Pool<H extends JobHandle<any, any> = JobHandle> extends EventEmitter {
  readonly #executor: Executor;
  readonly #Handle: HandleClass;
  readonly #queue = new JobQueue<JobHandle>();
  readonly #held = new Set<JobHandle>();
  /** Set by the user; `undefined`: the executor's default, which follows how long jobs run. */
  #concurrency: number | undefined;
  /** Slots taken: jobs in the executor that have not really stopped (cancelled ones included). */
  #busy = 0;
  /** Handles in state `running`. */
  #running = 0;
  #fulfilled = 0;
  #rejected = 0;
  #cancelled = 0;
  #lastId = 0;
  #paused = false;
  /** Set by close(): no new jobs, nothing goes on hold, the queue runs even at concurrency 0. */
  #closed = false;
  #closing: Promise<void> | undefined;
  #idle = true;
  #dispatching = false;
  #idleWaiters: (() => void)[] = [];

  readonly #owner: HandleOwner = {
    start: (handle) => {
      this.#held.delete(handle);
      this.#enqueue(handle);
    },
    hold: (handle) => {
      // A closing pool runs what is queued; a job held now would never be started by anyone.
      if (this.#closed) return;
      this.#queue.remove(handle);
      setState(handle, 'held');
      this.#held.add(handle);
      this.#checkIdle();
    },
    promote: (handle) => {
      if (!this.#held.delete(handle)) this.#queue.remove(handle);
      this.#launch(handle, true);
    },
    cancel: (handle, reason) => this.#cancel(handle, 'cancelled', reason),
    reprioritise: (handle) => this.#queue.update(handle),
  };

  constructor(options: PoolOptions & { Handle?: new (init: any) => H }) {
    super();
    const checked = checkPoolOptions(options);
    this.#Handle = checked.Handle ?? JobHandle;
    if (checked.run !== undefined) {
      this.#executor = new InProcessExecutor(checked.run, checked.abortGrace ?? defaults.abortGrace);
      this.#concurrency = checked.concurrency!;
    } else {
      this.#executor = new ThreadExecutor(checked);
      this.#concurrency = checked.concurrency;
    }
  }

  /**
   * Returns a handle at once. The job is handed to the workers when a slot is free — before this
   * returns if one is free now. `input` is any structured-cloneable value, or a function called at
   * dispatch whose (awaited) result is the input. Throws only for bad option types; a closed pool
   * gives a handle already rejected with `PoolClosedError`.
   */
  submit<T = unknown>(input: unknown, options?: SubmitOptions): PoolHandle<H, T> {
    const checked = checkSubmitOptions(options);
    const handle = new this.#Handle({ id: ++this.#lastId, input, options: checked ?? noOptions, [ownerKey]: this.#owner });
    if (this.#closed) {
      this.#rejected++;
      settle(handle, 'rejected', new PoolClosedError());
      this.emit('done', handle);
      return handle as PoolHandle<H, T>;
    }
    if (checked !== undefined) {
      if (checked.onProgress !== undefined) handle.onProgress(checked.onProgress);
      const signal = checked.signal;
      if (signal !== undefined) {
        if (signal.aborted) {
          this.#cancelled++;
          settle(handle, 'cancelled', signal.reason);
          this.emit('done', handle);
          return handle as PoolHandle<H, T>;
        }
        const onAbort = () => handle.cancel(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        setCleanup(handle, () => signal.removeEventListener('abort', onAbort));
      }
      if (checked.hold === true) {
        setState(handle, 'held');
        this.#held.add(handle);
        return handle as PoolHandle<H, T>;
      }
    }
    this.#enqueue(handle);
    return handle as PoolHandle<H, T>;
  }

  #enqueue(handle: JobHandle): void {
    if (this.#queue.size === 0 && this.#canDispatch(handle)) {
      this.#launch(handle);
      return;
    }
    setState(handle, 'queued');
    this.#queue.push(handle);
    this.#idle = false;
  }

  /** A slot is free for `handle`: the limit may depend on its export when the user set none. */
  #canDispatch(handle: JobHandle): boolean {
    const limit = this.#concurrency ?? this.#executor.defaultConcurrency((handle.options as SubmitOptions).name);
    // A closing pool runs its queue even at concurrency 0: close() must be able to finish.
    return this.#busy < (this.#closed ? Math.max(1, limit) : limit) && !this.#paused;
  }

  #dispatch(): void {
    // Re-entered when a job settles during its own dispatch (a throwing input function, a cancel
    // from onStart): the outer loop goes on, and the stack stays flat however many do so.
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      while (this.#queue.size > 0 && this.#canDispatch(this.#queue.peek()!)) this.#launch(this.#queue.pop()!);
    } finally {
      this.#dispatching = false;
    }
  }

  /** Hands a job to the executor now: its input function, if any, is called here. */
  #launch(handle: JobHandle, promoted = false): void {
    this.#busy++;
    this.#running++;
    this.#idle = false;
    const options = handle.options as SubmitOptions;
    const job = new RunningJob(handle, options, promoted);
    setRunningJob(handle, job);
    markRunning(handle);
    this.emit('start', handle);
    runStartCallbacks(handle);
    // A 'start' listener or an onStart callback may have cancelled it already.
    if (handle.state !== 'running') {
      this.#stopped(job, 'rejected', undefined);
      return;
    }
    if (options.timeout !== undefined && options.timeout !== Infinity) {
      const timeout = options.timeout;
      job.timer = new Timer(() => this.#cancel(handle, 'rejected', new TimeoutError(timeout)), timeout);
    }
    const input = handle.input;
    if (typeof input !== 'function') {
      this.#execute(job, input);
      return;
    }
    let payload: unknown;
    try {
      payload = input();
    } catch (error) {
      this.#stopped(job, 'rejected', error);
      return;
    }
    if (isThenable(payload)) {
      Promise.resolve(payload).then(
        (built) => this.#execute(job, built),
        (error: unknown) => this.#stopped(job, 'rejected', error),
      );
    } else {
      this.#execute(job, payload);
    }
  }

  #execute(job: RunningJob, input: unknown): void {
    // Cancelled (or timed out) while its payload was being built: it never reaches a worker.
    if (job.handle.state !== 'running') {
      this.#stopped(job, 'rejected', undefined);
      return;
    }
    job.input = input;
    job.executing = true;
    let result: Promise<unknown>;
    try {
      result = this.#executor.run(job);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => this.#stopped(job, 'fulfilled', value),
      (error: unknown) => this.#stopped(job, 'rejected', error),
    );
  }

  /** The job has really stopped: free its slot, dispatch the next job, settle the handle. */
  #stopped(job: RunningJob, status: 'fulfilled' | 'rejected', value: unknown): void {
    job.timer?.clear();
    this.#busy--;
    const handle = job.handle;
    setRunningJob(handle, undefined);
    const settles = handle.state === 'running';
    if (settles) {
      this.#running--;
      if (status === 'fulfilled') this.#fulfilled++;
      else this.#rejected++;
    }
    this.#dispatch();
    if (settles) {
      settle(handle, status, value);
      this.emit('done', handle);
    }
    this.#checkIdle();
  }

  /**
   * Settles an unsettled `handle` as cancelled (with the reason given), or as rejected with a
   * TimeoutError, and tells a running job to stop. Returns false if it had settled already.
   */
  #cancel(handle: JobHandle, status: 'cancelled' | 'rejected', reasonOrError: unknown): boolean {
    switch (handle.state) {
      case 'held':
        this.#held.delete(handle);
        break;
      case 'queued':
        this.#queue.remove(handle);
        break;
      case 'running': {
        this.#running--;
        const job = runningJobOf(handle) as RunningJob;
        job.timer?.clear();
        // The slot stays taken until the job has really stopped (#stopped frees it).
        if (job.executing) this.#executor.stop(job);
        break;
      }
      default:
        return false;
    }
    if (status === 'cancelled') this.#cancelled++;
    else this.#rejected++;
    settle(handle, status, reasonOrError);
    this.emit('done', handle);
    this.#checkIdle();
    return true;
  }

  #checkIdle(): void {
    if (this.#idle || this.#queue.size > 0 || this.#busy > 0) return;
    this.#idle = true;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
    this.emit('idle');
  }

  /**
   * How many jobs may be handed to the workers at once. Raising it dispatches at once. Unless set,
   * it is twice the threads (`maxThreads`), and eight times for jobs of an export measured to run
   * under 100 µs (then several go to a thread in one message; see the README). Read without a value
   * set, it gives the limit for the job at the head of the queue, or, with none queued, for the
   * export of the job that finished last.
   */
  get concurrency(): number {
    if (this.#concurrency !== undefined) return this.#concurrency;
    const head = this.#queue.peek();
    return this.#executor.defaultConcurrency(head === undefined ? null : (head.options as SubmitOptions).name);
  }

  set concurrency(value: number) {
    this.#concurrency = checkConcurrency(value);
    this.#dispatch();
  }

  /** Counts of jobs in each state now. */
  get stats(): PoolStats {
    return {
      held: this.#held.size,
      queued: this.#queue.size,
      running: this.#running,
      fulfilled: this.#fulfilled,
      rejected: this.#rejected,
      cancelled: this.#cancelled,
      concurrency: this.concurrency,
      threads: this.#executor.threads,
    };
  }

  /** Stops dispatching queued jobs; running jobs go on. No effect once the pool is closing (its queue must run out). */
  pause(): void {
    if (!this.#closed) this.#paused = true;
  }

  /** Dispatches queued jobs again. */
  resume(): void {
    this.#paused = false;
    this.#dispatch();
  }

  /** Resolves when nothing is queued or running (held jobs do not count). */
  idle(): Promise<void> {
    if (this.#queue.size === 0 && this.#busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Results of a job per item of `items`, as an async iterable. Items are pulled only as slots
   * free up, so memory stays bounded for any length. A failing job makes the iteration throw and
   * cancels the rest; leaving the loop early cancels them too.
   */
  map<T = unknown>(items: Iterable<unknown> | AsyncIterable<unknown>, options?: MapOptions): AsyncIterableIterator<T> {
    const { ordered, ...submitOptions } = (checkSubmitOptions(options, 'map') ?? {}) as MapOptions;
    if (ordered !== undefined && typeof ordered !== 'boolean') throw new TypeError(`ordered must be a boolean, got ${typeof ordered}`);
    return mapJobs<T>(
      (item) => this.submit<T>(item, submitOptions),
      () => Math.max(1, this.concurrency),
      iteratorOf(items),
      ordered ?? true,
    );
  }

  /** A group of jobs that can be cancelled and awaited together (`await using` cancels what is unsettled). */
  group(): JobGroup<H> {
    return new JobGroup<H>(this);
  }

  /** A typed object over the worker module's exports: `proxy.fn(arg)` is `submit(arg, { name: 'fn' })`. */
  proxy<Module>(): WorkerProxy<Module, H> {
    return new Proxy(Object.create(null) as WorkerProxy<Module, H>, {
      get: (_, name) => {
        if (typeof name !== 'string') return undefined;
        return (input: unknown, options?: SubmitOptions) => this.submit(input, { ...options, name });
      },
    });
  }

  /**
   * Stops taking jobs: held jobs are cancelled; queued jobs run (or, with `cancelQueued`, are
   * cancelled). Resolves when every handle has settled and the threads are gone. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (options === null || typeof options !== 'object') throw new TypeError('close() options must be an object');
    if (options.cancelQueued !== undefined && typeof options.cancelQueued !== 'boolean') {
      throw new TypeError(`cancelQueued must be a boolean, got ${typeof options.cancelQueued}`);
    }
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    const reason = new PoolClosedError('the pool was closed before the job started');
    for (const handle of [...this.#held]) this.#cancel(handle, 'cancelled', reason);
    if (options.cancelQueued === true) {
      for (const handle of this.#queue.drain()) {
        // drain() emptied the queue already: settle each as #cancel would.
        this.#cancelled++;
        settle(handle, 'cancelled', reason);
        this.emit('done', handle);
      }
    }
    this.#paused = false;
    this.#dispatch();
    this.#checkIdle();
    this.#closing = this.idle().then(() => this.#executor.close());
    return this.#closing;
  }

  /** `close()`, for `await using pool = new Pool(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
