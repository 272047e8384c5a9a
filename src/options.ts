/**
 * Every option of `new Pool` and `submit`, documented where it is declared, and their validation.
 * Validation names the option and the value: `concurrency must be a non-negative integer, got -1`.
 */
import type { ResourceLimits, WorkerOptions } from 'node:worker_threads';
import { messages } from './errors.js';
import type { Executor } from './executor.js';
import type { SubmitOptions } from './submit-options.js';

export type { SubmitOptions } from './submit-options.js';
import { JobHandle, type JobHandleInit } from './handle.js';

/** What an in-process job gets besides its input. */
export interface InProcessJob {
  /** Aborted when the job is cancelled or times out. */
  readonly signal: AbortSignal;
  /** Sends a value to the handle's onProgress callbacks. */
  progress(value: unknown): void;
  /** The `name` option of the job, if one was given. */
  readonly name: string | undefined;
}

/** A function that runs jobs on the main thread's event loop (`new Pool({ run })`). */
export type InProcessRun = (input: any, job: InProcessJob) => unknown;

/**
 * A `JobHandle` subclass the pool builds every handle with. Its instances are typed as plain
 * `JobHandle`s here: a pool built from options of this type (not from the class itself) takes
 * lazypool's own submit options and no others.
 */
export type HandleClass = new (init: JobHandleInit<any>) => JobHandle;

/**
 * Options of `new Pool`. The thread options (`maxThreads` through `closeTimeout`) are Piscina's,
 * passed to it unchanged; they are declared here, so that lazypool's types never make a user's
 * compiler read Piscina's. Piscina's `taskQueue`, `loadBalancer`, `stricterFIFO`, `recordTiming`
 * and `workerHistogram` are not among them: lazypool sets the first three itself (its order of
 * jobs depends on them) and exposes no histogram.
 */
export interface PoolOptions {
  /**
   * The worker module: an absolute path, a `file:` URL string or a `URL`. `.js`, `.mjs`, `.cjs`;
   * `.ts` when the main process runs under tsx. Give either this or `run`.
   */
  filename?: string | URL;
  /** Runs jobs in this process instead of in threads (I/O-bound work). Needs `concurrency`. */
  run?: InProcessRun;
  /**
   * What runs the jobs, behind the pool's one seam (see `Executor`). Give exactly one of
   * `filename`, `run`, `executor`.
   * @default Piscina's threads for `filename`, the event loop for `run`
   */
  executor?: Executor;
  /**
   * How many jobs may be `running` at once (begun on a thread, or an in-process function called).
   * How many more the executor sends ahead to keep its threads fed is its own business: such a job
   * is still `queued`, and priority, `hold()`, `promote()` and a free `cancel()` reach it.
   * Settable later (`pool.concurrency = n`; raising it dispatches at once). `Infinity` is
   * accepted (no limit but the threads, or none for an in-process pool).
   * @default maxThreads × concurrentTasksPerWorker (what the threads can run); required with `run`
   */
  concurrency?: number;
  /**
   * A subclass of `JobHandle`: every handle of this pool is built as `new Handle(init)`.
   * @default JobHandle
   */
  Handle?: HandleClass;
  /**
   * Among jobs of equal priority, the one with the longest chain of jobs waiting on it (`after`)
   * goes first, as build tools order a graph; submission order among equal chains. A chain counts
   * the dependants of this pool submitted so far (it does not shrink when they settle).
   * @default false: submission order
   */
  criticalPath?: boolean;
  /**
   * ms a cancelled or timed-out running job has to stop by itself before its thread is
   * terminated (a fresh thread takes its place). Never while the thread is inside `require()` of
   * the worker module (Node 20 can abort the process then): the job waits for the load to end, or
   * for 10 s more (or `abortGrace`, if longer).
   * @default 1000
   */
  abortGrace?: number;
  /**
   * ms an idle thread above `minThreads` is kept before it is ended. Piscina's default is 0;
   * lazypool's keeps threads, so a burst of jobs reuses warm threads instead of starting new ones.
   * @default 30000
   */
  idleTimeout?: number;
  /** Not supported: lazypool's own queue holds waiting jobs. Passing it throws. */
  maxQueue?: never;
  /**
   * How many threads run jobs.
   * @default Piscina's: 1.5 × `os.availableParallelism()`, rounded down
   */
  maxThreads?: number;
  /**
   * Threads kept alive even when idle. lazypool starts them all at once: each then holds the job
   * it runs and the next one. Below `maxThreads`, threads come and go as in Piscina, and no job is
   * sent ahead.
   * @default maxThreads
   */
  minThreads?: number;
  /**
   * How many jobs one thread runs at once (async work). lazypool gives Piscina twice this, for the
   * job sent ahead; a thread still runs at most this many at once.
   * @default 1
   */
  concurrentTasksPerWorker?: number;
  /**
   * The export that runs for a job without a `name` option (Piscina's `name`).
   * @default 'default'
   */
  name?: string;
  /**
   * How a thread waits for its next task (Piscina's `atomics`). lazypool's default is `'async'`
   * (Piscina's is `'sync'`): a thread between jobs keeps its event loop turning, so the worker's
   * own timers and I/O are not frozen until its next job.
   * @default 'async'
   */
  atomics?: 'sync' | 'async' | 'disabled';
  /** Each thread's heap and stack limits, as `new Worker(…, { resourceLimits })`. */
  resourceLimits?: ResourceLimits;
  /** Appended to each thread's `process.argv`, as `new Worker(…, { argv })`. */
  argv?: string[];
  /** Node options of each thread, as `new Worker(…, { execArgv })`. @default the main thread's */
  execArgv?: string[];
  /** Each thread's `process.env`, as `new Worker(…, { env })`. @default a copy of the main thread's */
  env?: WorkerOptions['env'];
  /** Any structured-cloneable value: `workerData` of `node:worker_threads` in every thread. */
  workerData?: unknown;
  /** Added to each thread's nice value (Linux and macOS; needs Piscina's optional `@napi-rs/nice`). @default 0 */
  niceIncrement?: number;
  /** File descriptors a thread opens with `fs.open()` are closed when it exits. @default true */
  trackUnmanagedFds?: boolean;
  /** ms `close()` waits for Piscina's threads to end before it stops waiting. @default 30000 */
  closeTimeout?: number;
}

/** Options of `pool.close()`. */
export interface CloseOptions {
  /** Cancel every queued job first instead of letting them run. @default false */
  cancelQueued?: boolean;
}

/** Options of `pool.map()`: `ordered` plus any submit option, applied to every job. */
export interface MapOptions extends SubmitOptions {
  /** Yield results in input order or, with `false`, in completion order. @default true */
  ordered?: boolean;
}

export const defaults = {
  abortGrace: 1000,
  idleTimeout: 30_000,
} as const;

export function checkPoolOptions(options: unknown): PoolOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(messages.optionsObject('new Pool() options', options));
  const given = options as PoolOptions & Record<string, unknown>;
  const kinds = [given.filename, given.run, given.executor].filter((value) => value !== undefined).length;
  if (kinds === 0) throw new TypeError(messages.noModule());
  if (kinds > 1) throw new TypeError(messages.bothModuleAndRun());
  if (given.executor !== undefined && !isExecutor(given.executor)) throw new TypeError(messages.option('executor', 'an executor (attach, wake, takeBack, stop, close)', given.executor));
  if (given.filename !== undefined && typeof given.filename !== 'string' && !(given.filename instanceof URL)) {
    throw new TypeError(messages.option('filename', 'an absolute path, a file: URL string or a URL', given.filename));
  }
  if (given.run !== undefined && typeof given.run !== 'function') {
    throw new TypeError(messages.option('run', 'a function', given.run));
  }
  if (given.run !== undefined && given.concurrency === undefined) throw new TypeError(messages.runNeedsConcurrency());
  if (given.concurrency !== undefined) checkConcurrency(given.concurrency);
  checkNonNegative('abortGrace', given.abortGrace);
  if (given.criticalPath !== undefined && typeof given.criticalPath !== 'boolean') throw new TypeError(messages.option('criticalPath', 'a boolean', given.criticalPath));
  checkThreads('maxThreads', given.maxThreads, 1);
  checkThreads('minThreads', given.minThreads, 0);
  checkThreads('concurrentTasksPerWorker', given.concurrentTasksPerWorker, 1);
  if ('maxQueue' in given && given.maxQueue !== undefined) throw new TypeError(messages.maxQueue());
  if (given.Handle !== undefined && !(typeof given.Handle === 'function' && (given.Handle === JobHandle || given.Handle.prototype instanceof JobHandle))) {
    throw new TypeError(messages.handleClass(given.Handle));
  }
  return given;
}

export function checkConcurrency(value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(messages.option('concurrency', 'a non-negative integer or Infinity', value));
  if ((!Number.isInteger(value) && value !== Infinity) || value < 0) {
    throw new RangeError(messages.option('concurrency', 'a non-negative integer or Infinity', value));
  }
  return value;
}

/** Piscina takes NaN and fractions without a word; a pool with NaN threads would never run a job. */
function checkThreads(option: string, value: unknown, least: number): void {
  if (value === undefined) return;
  const expected = least === 0 ? 'a non-negative integer' : 'a positive integer';
  if (typeof value !== 'number') throw new TypeError(messages.option(option, expected, value));
  if (!Number.isInteger(value) || value < least) throw new RangeError(messages.option(option, expected, value));
}

function checkNonNegative(option: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number') throw new TypeError(messages.option(option, 'a non-negative number of ms', value));
  if (Number.isNaN(value) || value < 0) throw new RangeError(messages.option(option, 'a non-negative number of ms', value));
}

/**
 * Checks a submit options object and returns a copy of it (it becomes `handle.options`): options
 * are read once, at `submit`, so changing the object afterwards changes nothing, and a getter is
 * read exactly once.
 */
export function checkSubmitOptions(options: unknown, method = 'submit'): SubmitOptions | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw new TypeError(messages.optionsObject(`${method}() options`, options));
  const given = { ...options } as SubmitOptions;
  const { name, priority, hold, transferList, signal, timeout, onProgress, after, afterSettled } = given;
  if (after !== undefined && !Array.isArray(after)) throw new TypeError(messages.option('after', 'an array of handles or promises', after));
  if (afterSettled !== undefined && typeof afterSettled !== 'boolean') throw new TypeError(messages.option('afterSettled', 'a boolean', afterSettled));
  if (name !== undefined && typeof name !== 'string') throw new TypeError(messages.option('name', 'a string', name));
  if (priority !== undefined) {
    if (typeof priority !== 'number') throw new TypeError(messages.option('priority', 'a number', priority));
    if (Number.isNaN(priority)) throw new RangeError(messages.option('priority', 'a number', priority));
  }
  if (hold !== undefined && typeof hold !== 'boolean') throw new TypeError(messages.option('hold', 'a boolean', hold));
  if (transferList !== undefined && !Array.isArray(transferList)) {
    throw new TypeError(messages.option('transferList', 'an array', transferList));
  }
  if (signal !== undefined && !isAbortSignal(signal)) throw new TypeError(messages.option('signal', 'an AbortSignal', signal));
  checkNonNegative('timeout', timeout);
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(messages.option('onProgress', 'a function', onProgress));
  }
  return given;
}

function isExecutor(value: unknown): value is Executor {
  if (value === null || typeof value !== 'object') return false;
  const executor = value as Record<string, unknown>;
  return ['attach', 'wake', 'takeBack', 'stop', 'close'].every((method) => typeof executor[method] === 'function');
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}
