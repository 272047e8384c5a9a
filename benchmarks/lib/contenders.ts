// The pools under test, behind one small interface, so that each benchmark is a loop over
// contenders and lazypool is one more entry in the list. Every contender runs the same job
// functions (workers/jobs.mjs) on the same number of threads, started and warm before a measure.
//
// Each peer is used the way its documentation suggests for the task at hand ("its best way"):
// a priority queue where it accepts one, its own bulk cancel where it has one. Those choices are
// spelled out in `urgentWay` and `cancelWay` and end up in the JSON next to the figures.
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import PQueue from 'p-queue';
import { Piscina, type TaskQueue as PiscinaTaskQueue } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import { Tinypool, type Task as TinypoolTask } from 'tinypool';
import workerpool from 'workerpool';
import { Gate } from './gate.js';
import { PriorityHeap } from './priority-heap.js';

/** The exports of workers/jobs.mjs, one per kind of job. */
export type JobName = 'tiny' | 'tinyBatch' | 'sha256' | 'busy' | 'gate' | 'counted' | 'thumbnail';

/** A started pool, as the benchmarks drive it. */
export interface PoolUnderTest {
  /** Submits a job now (eagerly, into this pool's own queue); settles with the job's result. */
  submit(job: JobName, input: object | number): PromiseLike<unknown>;
  /** Submits a job that should overtake everything waiting, this pool's best way (`urgentWay`). */
  submitUrgent(job: JobName, input: object): PromiseLike<unknown>;
  /** Submits a job that a later `cancelAll()` cancels; kept apart because signals cost per job. */
  submitCancellable(job: JobName, input: object): PromiseLike<unknown>;
  /** Cancels every job submitted through `submitCancellable` since the last call, `cancelWay`. */
  cancelAll(): void;
  /** Ends the threads; jobs still waiting are dropped or rejected, never run. */
  destroy(): Promise<void>;
  /** Results of one job per input, pulling inputs only as the pool takes them (lazypool's `map`). */
  stream?(job: JobName, inputs: Iterable<unknown>): AsyncIterable<unknown>;
  /** The jobs this pool may hand to its threads at once now (lazypool's `concurrency`). */
  concurrency?(): number;
}

export interface Contender {
  /** The label in tables, charts and JSON. */
  readonly name: string;
  /** How `submitUrgent` gets a job ahead of the backlog in this pool. */
  readonly urgentWay: string;
  /** How `cancelAll` cancels waiting jobs in this pool. */
  readonly cancelWay: string;
  /** Starts a pool of `threads` threads, every thread up with the job module loaded. */
  open(threads: number): Promise<PoolUnderTest>;
}

const jobsModule = fileURLToPath(new URL('../workers/jobs.mjs', import.meta.url));
const workerpoolModule = fileURLToPath(new URL('../workers/workerpool.mjs', import.meta.url));
const poolifierModule = fileURLToPath(new URL('../workers/poolifier.mjs', import.meta.url));

/** The priority `submitUrgent` gives where priorities are numbers and higher runs first. */
const urgentPriority = 1;

/** Long enough that no thread of a started pool ends between two rounds of a benchmark. */
const idleTimeout = 60_000;

/** Tiny jobs run after the barrier, so the measure does not pay for the main thread's JIT warm-up. */
const warmUpJobs = 500;

/** Threads held by `gate` jobs; `release()` lets them go and resolves once their jobs are done. */
export interface HeldThreads {
  release(): Promise<void>;
}

/** How long a gate job may take to reach a free thread before another one is sent after it. */
const gatePatience = 250;

/**
 * Takes every thread of `pool` with a `gate` job, so that whatever is submitted next waits.
 * One gate at a time, each held before the next is sent. A pool that picks a worker per job
 * (poolifier's least-used choice counts jobs done, not whether the worker is busy) may still queue
 * a gate behind another one on a held thread while a thread is free: then one more gate is sent,
 * and the stray one passes the open gate later.
 */
export async function holdEveryThread(pool: PoolUnderTest, threads: number): Promise<HeldThreads> {
  const gate = new Gate();
  const held: PromiseLike<unknown>[] = [];
  const release = async () => {
    gate.open();
    await Promise.all(held);
  };
  try {
    while (gate.held < threads) {
      if (held.length >= 4 * threads) throw new Error(`${held.length} gate jobs sent, only ${gate.held} threads held`);
      held.push(pool.submit('gate', gate.input));
      const target = Math.min(threads, gate.held + 1);
      await gate.whenHeld(target, gatePatience).catch(() => undefined);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { release };
}

/**
 * Gets every thread of `pool` running, its job module loaded (each thread must take a gate job),
 * and the submit path warm, so that no measure pays for thread start-up or the main thread's JIT.
 */
export async function warmUp(pool: PoolUnderTest, threads: number): Promise<void> {
  await (await holdEveryThread(pool, threads)).release();
  const jobs: PromiseLike<unknown>[] = [];
  for (let index = 0; index < warmUpJobs; index++) jobs.push(pool.submit('tiny', index));
  await Promise.all(jobs);
}

/** Reads a priority set with Piscina's or tinypool's queueOptionsSymbol on a task's input. */
function queueOptionPriority(symbol: symbol) {
  return (task: unknown): number => {
    // tinypool's getter uses `in` on the input, which throws for a number input (a tiny job)
    try {
      const options = (task as Record<symbol, { priority?: number } | null>)[symbol];
      return options?.priority ?? 0;
    } catch {
      return 0;
    }
  };
}

/** A TaskQueue (Piscina's and tinypool's interface) ordered by priority, FIFO on ties. */
function priorityTaskQueue<Task extends object>(symbol: symbol) {
  const heap = new PriorityHeap<Task>(queueOptionPriority(symbol));
  return {
    get size() {
      return heap.size;
    },
    push: (task: Task) => heap.push(task),
    shift: () => heap.pop() ?? null,
    remove: (task: Task) => heap.remove(task),
    cancel: () => {
      for (const task of heap.clear()) (task as { cancel?: () => void }).cancel?.();
    },
  };
}

function withPriority(symbol: symbol, input: object): object {
  return { ...input, [symbol]: { priority: urgentPriority } };
}

/**
 * One AbortSignal per job, aborted together by `abortAll`. Not one signal shared by all: adding
 * a listener to an AbortSignal looks through the listeners it has (EventTarget refuses
 * duplicates), so 100,000 jobs on one signal cost quadratic time before anything is cancelled
 * (Piscina: 2.6 s to submit 30,000, against 0.77 s with a signal each).
 */
class JobSignals {
  #controllers: AbortController[] = [];

  next(): AbortSignal {
    const controller = new AbortController();
    this.#controllers.push(controller);
    return controller.signal;
  }

  abortAll(): void {
    for (const controller of this.#controllers) controller.abort();
    this.#controllers = [];
  }
}

/** One signal checked by many jobs' own code (no listeners): a p-queue feeder's cancel flag. */
function sharedAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

function reportPoolError(pool: string) {
  return (error: unknown) => console.error(`[${pool}] pool error:`, error);
}

export interface PiscinaSettings {
  readonly name?: string;
  /** Give Piscina a priority task queue, its documented way to let a job overtake others. */
  readonly priorityQueue?: boolean;
}

/** Raw Piscina: every submitted job goes into Piscina's own queue at once (eager). */
export function piscina(settings: PiscinaSettings = {}): Contender {
  const name = settings.name ?? (settings.priorityQueue ? 'piscina (priority queue)' : 'piscina');
  return {
    name,
    urgentWay: settings.priorityQueue
      ? 'taskQueue: a binary-heap TaskQueue, priority through Piscina.queueOptionsSymbol'
      : 'none: submitted like any job, it waits its turn',
    cancelWay: 'an AbortSignal per job, all aborted (Piscina searches its queue for each aborted task)',
    async open(threads) {
      const pool = new Piscina({
        filename: jobsModule,
        minThreads: threads,
        maxThreads: threads,
        idleTimeout,
        ...(settings.priorityQueue ? { taskQueue: priorityTaskQueue<Parameters<PiscinaTaskQueue['push']>[0]>(Piscina.queueOptionsSymbol) } : {}),
      });
      pool.on('error', reportPoolError(name));
      const signals = new JobSignals();
      const underTest: PoolUnderTest = {
        submit: (job, input) => pool.run(input, { name: job }),
        submitUrgent: (job, input) =>
          pool.run(settings.priorityQueue ? withPriority(Piscina.queueOptionsSymbol, input) : input, { name: job }),
        submitCancellable: (job, input) => pool.run(input, { name: job, signal: signals.next() }),
        cancelAll: () => signals.abortAll(),
        destroy: () => pool.destroy(),
      };
      await warmUp(underTest, threads);
      return underTest;
    },
  };
}

export interface PQueueSettings {
  readonly name?: string;
  /** Jobs handed to Piscina at once; the rest wait in p-queue. Default: twice the threads. */
  readonly concurrency?: (threads: number) => number;
}

/** Piscina fed through p-queue: lazy dispatch written by hand, the way users do it today. */
export function pQueuePiscina(settings: PQueueSettings = {}): Contender {
  const name = settings.name ?? 'p-queue + piscina';
  return {
    name,
    urgentWay: "p-queue's priority option (sorted insert into its array)",
    // Not p-queue's own `signal` option: with it, aborting thousands of queued jobs overflows the
    // stack (each aborted job rejects synchronously and starts the next one, recursively: p-queue
    // 8.1). The job function checks the signal itself and rejects after a microtask instead.
    cancelWay: 'one AbortSignal checked by each job function when p-queue starts it, and passed on to Piscina',
    async open(threads) {
      const piscinaPool = new Piscina({ filename: jobsModule, minThreads: threads, maxThreads: threads, idleTimeout });
      piscinaPool.on('error', reportPoolError(name));
      const queue = new PQueue({ concurrency: settings.concurrency?.(threads) ?? 2 * threads });
      let cancellation = sharedAbortController();
      const underTest: PoolUnderTest = {
        submit: (job, input) => queue.add(() => piscinaPool.run(input, { name: job })),
        submitUrgent: (job, input) => queue.add(() => piscinaPool.run(input, { name: job }), { priority: urgentPriority }),
        submitCancellable: (job, input) => {
          const { signal } = cancellation;
          return queue.add(() =>
            signal.aborted ? Promise.reject(signal.reason) : piscinaPool.run(input, { name: job, signal }),
          );
        },
        cancelAll: () => {
          cancellation.abort();
          cancellation = sharedAbortController();
        },
        destroy: async () => {
          queue.clear();
          await piscinaPool.destroy();
        },
      };
      await warmUp(underTest, threads);
      return underTest;
    },
  };
}

export interface TinypoolSettings {
  readonly name?: string;
  /** Give tinypool a priority task queue (its taskQueue option, as Piscina's). */
  readonly priorityQueue?: boolean;
}

/** tinypool, Piscina's fork for Vitest: eager, its own queue. */
export function tinypool(settings: TinypoolSettings = {}): Contender {
  const name = settings.name ?? (settings.priorityQueue ? 'tinypool (priority queue)' : 'tinypool');
  return {
    name,
    urgentWay: settings.priorityQueue
      ? 'taskQueue: a binary-heap TaskQueue, priority through Tinypool.queueOptionsSymbol'
      : 'none: submitted like any job, it waits its turn',
    cancelWay: 'cancelPendingTasks(): its bulk cancel of everything queued',
    async open(threads) {
      const pool = new Tinypool({
        filename: jobsModule,
        minThreads: threads,
        maxThreads: threads,
        idleTimeout,
        ...(settings.priorityQueue ? { taskQueue: priorityTaskQueue<TinypoolTask>(Tinypool.queueOptionsSymbol) } : {}),
      });
      pool.on('error', reportPoolError(name));
      const underTest: PoolUnderTest = {
        submit: (job, input) => pool.run(input, { name: job }),
        submitUrgent: (job, input) =>
          pool.run(settings.priorityQueue ? withPriority(Tinypool.queueOptionsSymbol, input) : input, { name: job }),
        submitCancellable: (job, input) => pool.run(input, { name: job }),
        cancelAll: () => pool.cancelPendingTasks(),
        destroy: () => pool.destroy(),
      };
      await warmUp(underTest, threads);
      return underTest;
    },
  };
}

interface WorkerpoolTask {
  readonly options?: { readonly metadata?: { readonly priority?: number } };
}

export interface WorkerpoolSettings {
  readonly name?: string;
  /** Give workerpool a priority queue (its queueStrategy option) ordered by task metadata. */
  readonly priorityQueue?: boolean;
}

/** workerpool: eager, its own FIFO queue; jobs are methods registered by the worker script. */
export function workerpoolPeer(settings: WorkerpoolSettings = {}): Contender {
  const name = settings.name ?? (settings.priorityQueue ? 'workerpool (priority queue)' : 'workerpool');
  return {
    name,
    urgentWay: settings.priorityQueue
      ? 'queueStrategy: a binary-heap queue, priority from exec metadata'
      : 'none: submitted like any job, it waits its turn',
    cancelWay: "promise.cancel() on each job's promise (lazy removal: skipped when dequeued)",
    async open(threads) {
      const queueStrategy = () => {
        const heap = new PriorityHeap<WorkerpoolTask>((task) => task.options?.metadata?.priority ?? 0);
        return {
          push: (task: WorkerpoolTask) => heap.push(task),
          pop: () => heap.pop(),
          size: () => heap.size,
          contains: (task: WorkerpoolTask) => heap.contains(task),
          clear: () => void heap.clear(),
        };
      };
      const pool = workerpool.pool(workerpoolModule, {
        minWorkers: threads,
        maxWorkers: threads,
        workerType: 'thread',
        ...(settings.priorityQueue ? { queueStrategy: queueStrategy() as never } : {}),
      });
      let cancellable: { cancel(): unknown }[] = [];
      const underTest: PoolUnderTest = {
        submit: (job, input) => pool.exec(job, [input]),
        submitUrgent: (job, input) => pool.exec(job, [input], { metadata: { priority: urgentPriority } }),
        submitCancellable: (job, input) => {
          const promise = pool.exec(job, [input]);
          cancellable.push(promise);
          return promise;
        },
        cancelAll: () => {
          for (const promise of cancellable) promise.cancel();
          cancellable = [];
        },
        destroy: async () => {
          await pool.terminate(true);
        },
      };
      await warmUp(underTest, threads);
      return underTest;
    },
  };
}

export interface PoolifierSettings {
  readonly name?: string;
  /**
   * Turn on poolifier's tasks queue: jobs then wait on the main thread, per worker, in a
   * priority queue, instead of being posted to a worker at once. Its only mode with priorities.
   */
  readonly tasksQueue?: boolean;
  /**
   * Which worker takes the next job. The default (LEAST_USED) counts jobs done, not whether a
   * worker is busy: after a warm-up it sends job after job to a thread held by a gate while the
   * other one idles, so benchmarks that hold threads with gates use ROUND_ROBIN.
   */
  readonly workerChoiceStrategy?: 'LEAST_USED' | 'ROUND_ROBIN';
}

/** poolifier's FixedThreadPool; jobs are task functions of its ThreadWorker (workers/poolifier.mjs). */
export function poolifier(settings: PoolifierSettings = {}): Contender {
  const name = settings.name ?? (settings.tasksQueue ? 'poolifier (tasks queue)' : 'poolifier');
  return {
    name,
    urgentWay: settings.tasksQueue
      ? "tasks queue on, the job's task function registered with a better priority ('busyUrgent')"
      : 'none: without its tasks queue every job is posted to a worker at once',
    cancelWay: 'an AbortSignal per execute(), all aborted',
    async open(threads) {
      const pool = new FixedThreadPool(threads, poolifierModule, {
        enableTasksQueue: settings.tasksQueue ?? false,
        workerChoiceStrategy: settings.workerChoiceStrategy ?? 'LEAST_USED',
        // No ageing: by default a waiting job gains priority as it waits (anti-starvation), so
        // behind a long backlog an urgent job ends up no more urgent than the oldest waiting ones.
        // tasksFinishedTimeout 0: destroy() drops a backlog at once instead of waiting for it.
        ...(settings.tasksQueue ? { tasksQueueOptions: { agingFactor: 0, tasksFinishedTimeout: 0 } } : {}),
        errorHandler: reportPoolError(name),
      });
      // Jobs submitted before every worker is ready all land on the ready ones (and, with the
      // tasks queue, stay queued there), so wait for poolifier's own readiness first.
      while (!pool.info.ready) await delay(5);
      const signals = new JobSignals();
      const underTest: PoolUnderTest = {
        submit: (job, input) => pool.execute(input, job),
        submitUrgent: (job, input) =>
          pool.execute(input, settings.tasksQueue && job === 'busy' ? 'busyUrgent' : job),
        submitCancellable: (job, input) => pool.execute(input, job, signals.next()),
        cancelAll: () => signals.abortAll(),
        destroy: () => pool.destroy(),
      };
      await warmUp(underTest, threads);
      return underTest;
    },
  };
}
