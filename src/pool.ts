/**
 * Pool: the scheduler. The life of a job, top to bottom: `submit` makes a handle and queues it
 * (or holds it); the executor, whenever it has room, `#take`s the next one (its input function
 * called then), still `queued`; `#started` makes it `running` once a thread began it; `#stopped`
 * frees its slot when it has really stopped and settles the handle. Until it began, the pool can
 * take a job back from the executor (`#takeBack`): hold, promote, priority, cancel and pause all
 * reach it. Each goes through `#owner`.
 */
import type { TransferListItem } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { DependencyError, PoolClosedError, TimeoutError } from './errors.js';
import type { Executor, ExecutorJob, JobSource } from './executor.js';
import {
  deliverProgress,
  followedHandle,
  isThenable,
  JobHandle,
  assignPriority,
  markRunning,
  observe,
  ownerKey,
  ownerOf,
  runningJobOf,
  runStartCallbacks,
  takeStartCallbacks,
  setCleanup,
  setRunningJob,
  setState,
  settle,
  type HandleOptions,
  type HandleOwner,
  type JobOutcome,
  type PoolHandle,
} from './handle.js';

export type { PoolHandle } from './handle.js';
import { InProcessExecutor } from './in-process-executor.js';
import { JobGroup, type GroupOptions } from './group.js';
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
import { JobQueue, rankKey } from './queue.js';
import { Timer } from './timer.js';
import { ThreadExecutor } from './thread/executor.js';
import { watchSignal } from './signals.js';

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

/**
 * A worker module's exports as a typed object: `proxy.fn(arg)` is `submit(arg, { name: 'fn' })`.
 * Only the module's function exports are there; each takes its function's first parameter (or a
 * function that builds it), the options of `H` but `name`, and gives a handle of its awaited
 * result whose progress values are `Progress`.
 */
/**
 * Names JavaScript itself reads from any object it is given (`await` and `Promise.resolve` look for
 * `then`, `JSON.stringify` for `toJSON`, string and number conversions for `toString` and
 * `valueOf`): a proxy has no such methods, so that it stays an ordinary value.
 */
type ProxyReservedName = 'then' | 'toJSON' | 'toString' | 'valueOf' | 'constructor';
const proxyReservedNames: ReadonlySet<string> = new Set<ProxyReservedName>(['then', 'toJSON', 'toString', 'valueOf', 'constructor']);

export type WorkerProxy<Module, H extends JobHandle<any, any, any> = JobHandle, Progress = unknown> = {
  [K in keyof Module as K extends ProxyReservedName ? never : Module[K] extends (...args: any[]) => unknown ? K : never]: Module[K] extends (
    ...args: infer A
  ) => infer R
    ? (
        input: A extends [] ? void | undefined : A[0] | (() => A[0] | PromiseLike<A[0]>),
        options?: SubmitOptions<Progress> & HandleOptions<H> & { name?: never },
      ) => PoolHandle<H, Awaited<R>, Progress>
    : never;
};

const noOptions: SubmitOptions = Object.freeze({});

/** `map`'s concurrency for an in-process pool with `concurrency: Infinity`. */
const mapWindowInProcess = 1024;

/**
 * A job from the moment the pool first takes it out of its queue until it has really stopped.
 * Its phase says where it is; its handle's state is what users see (`queued` through `handed`).
 * A job taken back from the executor keeps its record, and with it its built payload: an input
 * function is called once, however often the job is taken back and handed over again.
 */
class Dispatch implements ExecutorJob {
  readonly handle: JobHandle;
  promoted = false;
  /** When it was promoted (the pool's count of promotions): promoted jobs go in that order. */
  promotedAt = 0;
  input: unknown = undefined;
  /** The payload is built (a value input, or an input function that has returned). */
  built = false;
  /**
   * `idle`: in the pool's hands (queue, urgent list, held set); `building`: its input function's
   * promise is pending; `handed`: the executor has it and it has not begun; `running`: begun and
   * not stopped (cancelled or not); `stopped`. (A job waiting for its dependencies has a count
   * or a Blocked record instead.)
   */
  phase: 'idle' | 'building' | 'handed' | 'running' | 'stopped' = 'idle';
  /** For an input function: the results of its dependencies (`after`), in order. */
  results: unknown[] | undefined = undefined;
  /** Critical path: the longest chain of this pool's jobs it waits for, through `after`. */
  depth = 0;
  /** In the urgent list (promoted, not yet taken). */
  urgent = false;
  timer: Timer | undefined = undefined;

  constructor(handle: JobHandle) {
    this.handle = handle;
  }

  // Read from the handle rather than kept: a job waiting for its dependencies costs less heap.
  get id(): number {
    return this.handle.id;
  }

  get name(): string | undefined {
    return (this.handle.options as SubmitOptions).name;
  }

  get transferList(): readonly TransferListItem[] | undefined {
    return (this.handle.options as SubmitOptions).transferList;
  }

  progress(value: unknown): void {
    deliverProgress(this.handle, value);
  }
}

/**
 * A job waiting for its dependencies (`after`) is `queued` or `held`, in no queue, and its record
 * (runningJobOf) says what it waits for: for most, a plain number, how many of its dependencies
 * are not yet fulfilled; a Blocked record for the few that carry more (results for an input
 * function, a depth, a promotion, dependencies other than its options' `after`). A graph may hold
 * a great many waiting jobs, and a number costs no heap. When the last dependency is done, the
 * job goes on with a Dispatch only if it carries any of that (see #goOn), or no record at all.
 */
class Blocked {
  /** Dependencies not yet fulfilled. */
  pending: number;
  /** Set when they differ from the options' `after` (a promise given there, say). */
  dependencies: JobHandle[] | undefined = undefined;
  /** For an input function: the results of its dependencies, in order. */
  results: unknown[] | undefined = undefined;
  depth = 0;
  /** When it was promoted (the pool's count of promotions), or 0. */
  promotedAt = 0;

  constructor(pending: number) {
    this.pending = pending;
  }
}

/** What a job waiting for its dependencies has as its record; `undefined` for any other job. */
function waitingOf(handle: JobHandle): number | Blocked | undefined {
  const job = runningJobOf(handle);
  return typeof job === 'number' || job instanceof Blocked ? job : undefined;
}

/** The handles a waiting job waits for, in the order given. */
function dependenciesOf(handle: JobHandle, waiting: number | Blocked): JobHandle[] {
  return (typeof waiting === 'object' ? waiting.dependencies : undefined) ?? ((handle.options as SubmitOptions).after as JobHandle[]);
}

/** A waiting job's Blocked record, made from its plain count if need be. */
function blockedRecord(handle: JobHandle): Blocked {
  const waiting = waitingOf(handle)!;
  if (typeof waiting === 'object') return waiting;
  const blocked = new Blocked(waiting);
  setRunningJob(handle, blocked);
  return blocked;
}

/** One more dependency of a waiting job is done: how many it still waits for. */
function countDown(handle: JobHandle): number {
  const waiting = waitingOf(handle)!;
  if (typeof waiting === 'object') return --waiting.pending;
  setRunningJob(handle, waiting - 1);
  return waiting - 1;
}

/** A job's priority flows to the dependencies it waits for: each that waits at a lower one is raised to it. */
function inherit(dependencies: readonly JobHandle[], priority: number): void {
  for (const each of dependencies) {
    const dependency = followedHandle(each);
    if ((dependency.state === 'queued' || dependency.state === 'held') && dependency.priority < priority) dependency.setPriority(priority);
  }
}

/** Its input is a function not yet called: it needs a building slot to go. */
function needsBuilding(handle: JobHandle): boolean {
  return typeof handle.input === 'function' && (runningJobOf(handle) as Dispatch | undefined)?.built !== true;
}

/** What an input function gets of a settled dependency: its result, or with afterSettled its outcome. */
function givenToInput(outcome: JobOutcome<unknown>, settledWillDo: boolean): unknown {
  return settledWillDo ? outcome : (outcome as { value: unknown }).value;
}

/** `a` goes before `b`: higher priority, then rank (submission order, or critical path first). */
function before(a: JobHandle, b: JobHandle): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a[rankKey] < b[rankKey]);
}

/**
 * Critical path: a job's rank is its id lowered by the length of the longest chain through it
 * (its depth, the chain of jobs it waits for, plus its height, the chain of jobs waiting for it)
 * times this, so that among jobs of equal priority those on the longest chain go first, and
 * submission order among equal chains. Exact in a float64 for ids below 2^36 and chains below 2^17.
 */
const heightStep = 2 ** 36;

/** How long a chain of this pool's jobs waits for `handle` (0 for a job not waiting for any). */
function depthOf(handle: JobHandle): number {
  const job = runningJobOf(handle);
  return job instanceof Dispatch || job instanceof Blocked ? job.depth : 0;
}

/** How long a chain of jobs waits on `handle`. */
function heightOf(handle: JobHandle): number {
  return (handle.id - handle[rankKey]) / heightStep - depthOf(handle);
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
 * A worker-thread pool whose `submit()` returns a handle at once, while the job begins on a thread
 * only when one is free for it. Until then the handle can be held, reprioritised, promoted or
 * cancelled for free, even when the executor has already sent it ahead to a thread.
 */
export class Pool<H extends JobHandle<any, any> = JobHandle> extends EventEmitter {
  readonly #executor: Executor;
  readonly #Handle: HandleClass;
  /** Queued jobs in the pool's hands, in the order they go. */
  readonly #queue = new JobQueue<JobHandle>();
  /**
   * Queued jobs whose input function waits for a building slot (all taken, by functions that may
   * never settle): parked here, in order, so that the jobs behind them that need no building go
   * on. One comes back ahead of the queue's head whenever it goes first and a slot is free.
   */
  readonly #parked = new JobQueue<JobHandle>();
  /** The `criticalPath` option: see heightStep. */
  readonly #criticalPath: boolean;
  /** Promoted jobs not yet taken, first promoted first; entries no longer `urgent` are skipped. */
  #urgent: Dispatch[] = [];
  #urgentHead = 0;
  readonly #held = new Set<JobHandle>();
  /** Jobs the executor has and has not begun. */
  readonly #handed = new Set<Dispatch>();
  /** The handed job that goes last (promoted ones aside); `undefined`: not known, look again. */
  #lastHanded: Dispatch | undefined;
  /**
   * The jobs waiting for each dependency (`after`): one, or a list (a job listed twice, for a
   * dependency given twice). One `onDone` per dependency, however many wait for it.
   */
  readonly #waiting = new Map<JobHandle, JobHandle | JobHandle[]>();
  readonly #dependencyErrors = new WeakMap<JobHandle, DependencyError>();
  /** One callback for every dependency (onDone gives it the handle): no closure per dependency. */
  readonly #onDependencyDone = (dependency: JobHandle): void => this.#dependencyDone(dependency);
  /** Jobs whose input function's promise is pending. */
  readonly #building = new Set<Dispatch>();
  /** Set by the user; `undefined`: the executor's capacity. */
  #concurrency: number | undefined;
  /** Handles in state `queued`, wherever they are (queue, urgent list, building, handed). */
  #queued = 0;
  /** Jobs begun and not yet really stopped (cancelled ones included): the slots taken. */
  #busy = 0;
  /** Handles in state `running`. */
  #running = 0;
  #fulfilled = 0;
  #rejected = 0;
  #cancelled = 0;
  #lastId = 0;
  /** Promotions so far: each promoted job's place in the urgent order. */
  #promotions = 0;
  #paused = false;
  /** Set by close(): no new jobs, nothing goes on hold, the queue runs even at concurrency 0. */
  #closed = false;
  #closing: Promise<void> | undefined;
  /** close({ cancelQueued }) is cancelling the queue (see #take). */
  #cancellingAll = false;
  /** A job that ended has dependants that learn of it on a microtask: #take waits for them. */
  #releasing = false;
  #idle = true;
  #idleWaiters: (() => void)[] = [];

  /** Depth of the user's calls into the pool under way (see #started). */
  #inCall = 0;

  /** Runs `action`, a call of the user's, so that callbacks it would trigger wait for it to return. */
  #call<R>(action: () => R): R {
    this.#inCall++;
    try {
      return action();
    } finally {
      this.#inCall--;
    }
  }

  readonly #owner: HandleOwner = {
    start: (handle) =>
      this.#call(() => {
        this.#held.delete(handle);
        this.#enqueue(handle);
      }),
    hold: (handle) =>
      this.#call(() => {
        // A closing pool runs what is queued; a job held now would never be started by anyone.
        if (this.#closed || !this.#withdraw(handle)) return;
        this.#queued--;
        setState(handle, 'held');
        this.#held.add(handle);
        this.#checkIdle();
        // A job taken back from the executor left room there.
        this.#pump();
      }),
    promote: (handle) => this.#call(() => this.#promote(handle)),
    cancel: (handle, reason) => {
      // #call written out: cancelling 100,000 jobs makes no closure each.
      this.#inCall++;
      try {
        return this.#cancel(handle, 'cancelled', reason);
      } finally {
        this.#inCall--;
      }
    },
    reprioritise: (handle, priority) => this.#call(() => this.#reprioritise(handle, priority)),
  };

  #reprioritise(handle: JobHandle, priority: number): boolean {
    const waiting = waitingOf(handle);
    if (waiting !== undefined) inherit(dependenciesOf(handle, waiting), priority);
    const dispatch = runningJobOf(handle);
    if (dispatch instanceof Dispatch && dispatch.phase === 'handed' && !dispatch.promoted) {
      if (!this.#takeBack(dispatch)) return false;
      assignPriority(handle, priority);
      this.#queue.push(handle);
    } else {
      assignPriority(handle, priority);
      this.#queue.update(handle);
      this.#parked.update(handle);
    }
    if (handle.state === 'queued') this.#preempt(handle);
    this.#pump();
    return true;
  }

  /** What the executor sees of the pool: see executor.ts. */
  readonly #source: JobSource = {
    take: (promotedOnly) => this.#take(promotedOnly === true),
    nextName: () => {
      const next = this.#nextUrgent()?.handle ?? (this.#mayHandOver() ? this.#peekNext() : undefined);
      return next === undefined ? null : (next.options as SubmitOptions).name;
    },
    waiting: () => this.#queue.size + this.#parked.size + this.#urgent.length - this.#urgentHead,
    started: (job, at) => this.#started(job as Dispatch, at),
    stopped: (job, failed, value) => this.#stopped(job as Dispatch, failed, value),
    returned: (job) => this.#returned(job as Dispatch),
  };

  constructor(options: PoolOptions & { Handle?: new (init: any) => H }) {
    // The options are checked and the threads asked for before the pool's own set-up: a fresh
    // pool's first result waits for its first thread, not for the fields below.
    const checked = checkPoolOptions(options);
    const executor =
      checked.executor ?? (checked.run !== undefined ? new InProcessExecutor(checked.run, checked.abortGrace ?? defaults.abortGrace) : new ThreadExecutor(checked));
    super();
    this.#executor = executor;
    this.#Handle = checked.Handle ?? JobHandle;
    this.#concurrency = checked.concurrency;
    this.#criticalPath = checked.criticalPath === true;
    this.#executor.attach(this.#source);
  }

  /**
   * Returns a handle at once; the job begins when a thread is free for it. `input` is any
   * structured-cloneable value, or a function called when the job is handed over, whose (awaited)
   * result is the input. Throws only for bad option types; a closed pool gives a handle already
   * rejected with `PoolClosedError`.
   *
   * `options`: `SubmitOptions` and those the pool's `Handle` class declares; nothing else
   * type-checks. `T`, the result type, is taken on trust (`pool.proxy()` checks it against the
   * worker module); `Progress` is inferred from a typed `onProgress`.
   */
  submit<T = unknown, Progress = unknown>(input: unknown, options?: SubmitOptions<Progress> & HandleOptions<H>): PoolHandle<H, T, Progress> {
    const checked = checkSubmitOptions(options);
    const handle = new this.#Handle({ id: ++this.#lastId, input, options: checked ?? noOptions, [ownerKey]: this.#owner });
    if (this.#closed) {
      this.#rejected++;
      settle(handle, 'rejected', new PoolClosedError());
      this.#emitDone(handle);
      return handle as PoolHandle<H, T, Progress>;
    }
    if (checked !== undefined) {
      if (checked.onProgress !== undefined) handle.onProgress(checked.onProgress);
      const signal = checked.signal;
      if (signal !== undefined) {
        if (signal.aborted) {
          this.#cancelled++;
          settle(handle, 'cancelled', signal.reason);
          this.#emitDone(handle);
          return handle as PoolHandle<H, T, Progress>;
        }
        watchSignal(handle, signal);
      }
      if (checked.after !== undefined && checked.after.length > 0 && !this.#waitFor(handle, checked.after)) return handle as PoolHandle<H, T, Progress>;
      if (checked.hold === true) {
        setState(handle, 'held');
        this.#held.add(handle);
        return handle as PoolHandle<H, T, Progress>;
      }
    }
    // Jobs found begun on the way (taken back for this one) run their callbacks after submit().
    this.#inCall++;
    try {
      this.#enqueue(handle);
    } finally {
      this.#inCall--;
    }
    return handle as PoolHandle<H, T, Progress>;
  }

  /** `handle` (new, or started from held) joins the queue, and goes out if there is room. */
  #enqueue(handle: JobHandle): void {
    setState(handle, 'queued');
    this.#queued++;
    this.#idle = false;
    // Its input function is still building the payload, or it waits for its dependencies: it
    // joins the queue when that is done. (Its record read once: this is every submit's path.)
    const job = runningJobOf(handle);
    if (job !== undefined && (typeof job === 'number' || job instanceof Blocked || (job as Dispatch).phase === 'building')) return;
    const dispatch = job as Dispatch | undefined;
    this.#join(handle, dispatch);
    this.#pump();
  }

  /**
   * A queued job becomes dispatchable: a promoted one goes to the urgent list, and the jobs sent
   * ahead, which would begin before it on their threads, come back (as promote() does); any other
   * joins the queue, and takes back the jobs sent ahead that it goes before.
   */
  #join(handle: JobHandle, dispatch: Dispatch | undefined): void {
    if (dispatch?.promoted === true) {
      this.#pushUrgent(dispatch);
      this.#takeBackAll();
    } else {
      this.#queue.push(handle);
      this.#preempt(handle);
    }
  }

  /** Asks the executor to take what it has room for. */
  #pump(): void {
    this.#executor.wake();
  }

  /** Whether a job that is not promoted may be handed over now. */
  #mayHandOver(): boolean {
    if (this.#paused) return false;
    const given = this.#concurrency ?? this.#executor.capacity;
    // A closing pool runs its queue even at concurrency 0: close() must be able to finish.
    const limit = this.#closed ? Math.max(1, given) : given;
    // At or above what the executor can run, the executor's own room is the limit: it may send
    // jobs ahead. Below it, no more jobs are handed over than may run.
    return limit >= this.#executor.capacity || this.#busy + this.#handed.size < limit;
  }

  #nextUrgent(): Dispatch | undefined {
    while (this.#urgentHead < this.#urgent.length) {
      const dispatch = this.#urgent[this.#urgentHead]!;
      if (dispatch.urgent) return dispatch;
      this.#urgent[this.#urgentHead++] = undefined as unknown as Dispatch;
    }
    if (this.#urgentHead > 0) {
      this.#urgent = [];
      this.#urgentHead = 0;
    }
    return undefined;
  }

  /** Puts a promoted job in the urgent list, in the order of promotion. */
  #pushUrgent(dispatch: Dispatch): void {
    dispatch.urgent = true;
    const urgent = this.#urgent;
    let index = urgent.length;
    // Only a job given back or taken back goes anywhere but last: it keeps its place.
    while (index > this.#urgentHead && urgent[index - 1]!.promotedAt > dispatch.promotedAt) index--;
    if (index === urgent.length) urgent.push(dispatch);
    else urgent.splice(index, 0, dispatch);
  }

  /** The executor has room: the next job, its payload built, or `undefined`. */
  #take(promotedOnly: boolean): Dispatch | undefined {
    // close({ cancelQueued }) is cancelling every waiting job: none goes out meanwhile. A job that
    // ended has dependants not yet told (see #stopped): none goes out before they are.
    if (this.#cancellingAll || this.#releasing) return undefined;
    for (;;) {
      let dispatch = this.#nextUrgent();
      if (dispatch !== undefined) {
        this.#urgentHead++;
        dispatch.urgent = false;
      } else {
        if (promotedOnly || !this.#mayHandOver()) return undefined;
        const handle = this.#peekNext();
        if (handle === undefined) return undefined;
        dispatch = runningJobOf(handle) as Dispatch | undefined;
        if (dispatch === undefined) {
          dispatch = new Dispatch(handle);
          setRunningJob(handle, dispatch);
        }
        if (!this.#parked.remove(handle)) this.#queue.pop();
      }
      if (!dispatch.built && !this.#build(dispatch)) continue;
      // Its input function cancelled, held or promoted it: it is no longer this call's to hand over.
      if (dispatch.handle.state !== 'queued' || dispatch.urgent) continue;
      dispatch.phase = 'handed';
      this.#handed.add(dispatch);
      // The cache of the job that goes last, kept only while it is known (#preempt rebuilds it):
      // set from unknown, it would name this job though another handed one goes after it.
      if (!dispatch.promoted && (this.#handed.size === 1 || (this.#lastHanded !== undefined && before(this.#lastHanded.handle, dispatch.handle)))) this.#lastHanded = dispatch;
      return dispatch;
    }
  }

  /**
   * The next job to hand over, of the queue and the parked: a job whose input function would need
   * a building slot while none is free is parked on the way (see #parked).
   */
  #peekNext(): JobHandle | undefined {
    const room = this.#building.size < this.#limitForBuilding();
    for (;;) {
      const head = this.#queue.peek();
      const parked = room ? this.#parked.peek() : undefined;
      if (parked !== undefined && (head === undefined || before(parked, head))) return parked;
      if (head === undefined || room || !needsBuilding(head)) return head;
      this.#queue.pop();
      this.#parked.push(head);
    }
  }

  /** How many input functions may be building their payloads at once. */
  #limitForBuilding(): number {
    return Math.max(1, Math.min(this.#concurrency ?? this.#executor.capacity, 2 * this.#executor.capacity));
  }

  /**
   * Builds the payload: a value is its own; a function is called now. Returns true if it is
   * built; false if it is building (it comes back to the queue when done) or failed.
   */
  #build(dispatch: Dispatch): boolean {
    const input = dispatch.handle.input;
    if (typeof input !== 'function') {
      dispatch.input = input;
      dispatch.built = true;
      return true;
    }
    let payload: unknown;
    let then: unknown;
    try {
      payload = dispatch.results === undefined ? input() : input(...dispatch.results);
      // A `then` getter is read once, here, and may throw: that fails this job only.
      then = typeof payload === 'object' || typeof payload === 'function' ? (payload as { then?: unknown } | null)?.then : undefined;
    } catch (error) {
      this.#failUnstarted(dispatch.handle, dispatch, error);
      return false;
    }
    if (typeof then !== 'function') {
      dispatch.input = payload;
      dispatch.built = true;
      return true;
    }
    dispatch.phase = 'building';
    this.#building.add(dispatch);
    new Promise((resolve, reject) => (then as PromiseLike<unknown>['then']).call(payload, resolve, reject)).then(
      (built) => {
        if (dispatch.phase !== 'building') return;
        this.#building.delete(dispatch);
        dispatch.phase = 'idle';
        dispatch.input = built;
        dispatch.built = true;
        const handle = dispatch.handle;
        if (handle.state === 'queued') this.#join(handle, dispatch);
        this.#pump();
      },
      (error: unknown) => {
        if (dispatch.phase !== 'building') return;
        this.#building.delete(dispatch);
        dispatch.phase = 'idle';
        this.#failUnstarted(dispatch.handle, dispatch, error);
        this.#pump();
      },
    );
    return false;
  }

  /** A job that never began fails (its input function threw, its input could not be sent). */
  #failUnstarted(handle: JobHandle, dispatch: Dispatch | undefined, error: unknown): void {
    if (dispatch !== undefined) dispatch.phase = 'stopped';
    setRunningJob(handle, undefined);
    if (handle.state === 'queued') this.#queued--;
    else if (handle.state === 'held') this.#held.delete(handle);
    else return;
    this.#rejected++;
    settle(handle, 'rejected', error);
    this.#emitDone(handle);
    this.#checkIdle();
  }

  /** The executor says the job began on its thread (or, in process, its function was called). */
  #started(dispatch: Dispatch, at: number): void {
    if (dispatch.phase !== 'handed') return;
    this.#handed.delete(dispatch);
    if (this.#lastHanded === dispatch) this.#lastHanded = undefined;
    dispatch.phase = 'running';
    this.#busy++;
    const handle = dispatch.handle;
    if (handle.state !== 'queued') {
      // Settled while the executor was being asked for it back: it stops at once.
      this.#executor.stop(dispatch);
      return;
    }
    this.#queued--;
    this.#running++;
    markRunning(handle, at);
    const timeout = (handle.options as SubmitOptions).timeout;
    if (timeout !== undefined && timeout !== Infinity) {
      const left = Math.max(0, timeout - (performance.now() - at));
      dispatch.timer = new Timer(() => this.#cancel(handle, 'rejected', new TimeoutError(timeout)), left);
    }
    // Its onStart callbacks are taken before the 'start' listeners run, so that one that cancels
    // the job (which did begin) does not drop them; found begun inside the caller's own cancel(),
    // hold(), setPriority(), pause()…, they wait for that call to return.
    const onStart = takeStartCallbacks(handle);
    this.emit('start', handle);
    if (onStart !== undefined) runStartCallbacks(handle, onStart, this.#inCall > 0);
  }

  /** The job has really stopped: free its slot, settle its handle, let the executor take more. */
  #stopped(dispatch: Dispatch, failed: boolean, value: unknown): void {
    if (dispatch.phase === 'handed') {
      // It never began: its input could not be sent.
      this.#handed.delete(dispatch);
      if (this.#lastHanded === dispatch) this.#lastHanded = undefined;
      this.#failUnstarted(dispatch.handle, dispatch, value);
      this.#pump();
      return;
    }
    if (dispatch.phase !== 'running') return;
    dispatch.phase = 'stopped';
    dispatch.timer?.clear();
    this.#busy--;
    const handle = dispatch.handle;
    setRunningJob(handle, undefined);
    if (handle.state === 'running') {
      this.#running--;
      if (failed) this.#rejected++;
      else this.#fulfilled++;
      settle(handle, failed ? 'rejected' : 'fulfilled', value);
      this.#emitDone(handle);
      // Jobs waiting for it learn on the onDone microtask queued just now: nothing is handed over
      // before that, or a job that ended at once (an in-process function, a reply read with the
      // executor's room free) would see the slot it freed taken by a job of a shorter chain.
      if (this.#waiting.size !== 0 && !this.#releasing && this.#waiting.has(handle)) {
        this.#releasing = true;
        queueMicrotask(this.#released);
      }
    }
    this.#pump();
    this.#checkIdle();
  }

  /** The dependants of the jobs that just ended have been told: hand over what is next. */
  readonly #released = (): void => {
    this.#releasing = false;
    this.#pump();
  };

  /** The executor gives back a job it had not begun: it waits again, in its place. */
  #returned(dispatch: Dispatch): void {
    if (dispatch.phase !== 'handed') return;
    this.#handed.delete(dispatch);
    if (this.#lastHanded === dispatch) this.#lastHanded = undefined;
    dispatch.phase = 'idle';
    const handle = dispatch.handle;
    if (handle.state === 'queued') {
      if (dispatch.promoted) {
        this.#pushUrgent(dispatch);
        // It goes before every job sent after it (promoted after it, or not promoted): they come back.
        for (const other of [...this.#handed]) {
          if (other.promoted && other.promotedAt < dispatch.promotedAt) continue;
          if (this.#takeBack(other)) {
            if (other.promoted) this.#pushUrgent(other);
            else this.#queue.push(other.handle);
          }
        }
      } else {
        this.#queue.push(handle);
        // It goes before the jobs sent after it: they come back.
        this.#preempt(handle);
      }
    }
    this.#pump();
  }

  /**
   * Asks the executor for a handed job back; false if it began (it is `running` now), or if it is
   * no longer handed over: a 'start' listener or an onStart callback, run while a caller's loop
   * over the handed jobs took one back, may have taken it back (or seen it begin) already.
   */
  #takeBack(dispatch: Dispatch, cancelling = false): boolean {
    if (dispatch.phase !== 'handed') return false;
    if (!this.#executor.takeBack(dispatch, cancelling)) return false;
    this.#handed.delete(dispatch);
    if (this.#lastHanded === dispatch) this.#lastHanded = undefined;
    dispatch.phase = 'idle';
    return true;
  }

  /** Takes back every handed job that is not promoted, back into the queue (pause, promote, a lower limit). */
  #takeBackAll(): void {
    for (const dispatch of [...this.#handed]) {
      if (!dispatch.promoted && this.#takeBack(dispatch)) this.#queue.push(dispatch.handle);
    }
  }

  /**
   * `handle` just joined the queue: if it goes before jobs already handed over and not begun,
   * those come back, so that it is the next to begin. O(1) unless it does.
   */
  #preempt(handle: JobHandle): void {
    if (this.#handed.size === 0) return;
    let last = this.#lastHanded;
    if (last === undefined) {
      for (const dispatch of this.#handed) if (!dispatch.promoted && (last === undefined || before(last.handle, dispatch.handle))) last = dispatch;
      if (last === undefined) return;
      this.#lastHanded = last;
    }
    if (!before(handle, last.handle)) return;
    for (const dispatch of [...this.#handed]) {
      if (!dispatch.promoted && before(handle, dispatch.handle) && this.#takeBack(dispatch)) this.#queue.push(dispatch.handle);
    }
  }

  /**
   * Takes a queued (or held) job out of wherever it waits, so that the caller can put it elsewhere.
   * Returns false if it turned out to have begun: it is `running` now.
   */
  #withdraw(handle: JobHandle, cancelling = false): boolean {
    // It goes on waiting for its dependencies, wherever it is.
    if (waitingOf(handle) !== undefined) return true;
    const dispatch = runningJobOf(handle) as Dispatch | undefined;
    if (dispatch === undefined) {
      if (!this.#queue.remove(handle)) this.#parked.remove(handle);
      return true;
    }
    switch (dispatch.phase) {
      case 'handed':
        return this.#takeBack(dispatch, cancelling);
      case 'idle':
        if (dispatch.urgent) dispatch.urgent = false;
        else if (!this.#queue.remove(handle)) this.#parked.remove(handle);
        return true;
      default:
        // building: it stays building; what it builds is kept for when the job goes on.
        return dispatch.phase === 'building';
    }
  }

  #promote(handle: JobHandle): void {
    if (handle.state === 'held') {
      this.#held.delete(handle);
      setState(handle, 'queued');
      this.#queued++;
      this.#idle = false;
    } else if (!this.#withdraw(handle)) {
      return;
    }
    const waiting = waitingOf(handle);
    if (waiting !== undefined) {
      const dependencies = dependenciesOf(handle, waiting);
      blockedRecord(handle).promotedAt = ++this.#promotions;
      // Its dependencies go first, promoted too; it follows the moment the last is done.
      for (const dependency of dependencies) followedHandle(dependency).promote();
      this.#pump();
      return;
    }
    let dispatch = runningJobOf(handle) as Dispatch | undefined;
    if (dispatch === undefined) {
      dispatch = new Dispatch(handle);
      setRunningJob(handle, dispatch);
    }
    dispatch.promoted = true;
    dispatch.promotedAt = ++this.#promotions;
    if (dispatch.phase !== 'building') this.#pushUrgent(dispatch);
    // Jobs sent ahead would begin before it on their threads: they come back.
    this.#takeBackAll();
    this.#pump();
  }

  /**
   * Settles an unsettled `handle` as cancelled (with the reason given), or as rejected with a
   * TimeoutError, and tells a running job to stop. Returns false if it had settled already.
   */
  #cancel(handle: JobHandle, status: 'cancelled' | 'rejected', reasonOrError: unknown): boolean {
    const waits = waitingOf(handle) !== undefined;
    const dispatch = waits ? undefined : (runningJobOf(handle) as Dispatch | undefined);
    switch (handle.state) {
      case 'held':
        this.#held.delete(handle);
        if (waits) setRunningJob(handle, undefined);
        else if (dispatch?.phase === 'building') this.#abandon(dispatch);
        break;
      case 'queued':
        if (waits) {
          // It no longer waits: #dependencyDone passes it by (its record is cleared below).
        } else if (dispatch?.phase === 'building') {
          this.#abandon(dispatch);
        } else if (!this.#withdraw(handle, true)) {
          // It began just now: cancel it as a running job.
          return this.#cancel(handle, status, reasonOrError);
        }
        this.#queued--;
        setRunningJob(handle, undefined);
        break;
      case 'running':
        this.#running--;
        dispatch!.timer?.clear();
        // The slot stays taken until the job has really stopped (#stopped frees it).
        this.#executor.stop(dispatch!);
        break;
      default:
        return false;
    }
    if (status === 'cancelled') this.#cancelled++;
    else this.#rejected++;
    settle(handle, status, reasonOrError);
    this.#emitDone(handle);
    this.#pump();
    this.#checkIdle();
    return true;
  }

  /**
   * `handle` waits for `after` (the `after` option): blocked, `queued`, in no queue, until every one
   * is fulfilled. Returns false if one has failed already: then the job is rejected at once.
   */
  #waitFor(handle: JobHandle, after: readonly PromiseLike<unknown>[]): boolean {
    const dependencies = after.map((dependency) => JobHandle.from(dependency) as JobHandle);
    // Handles given as they are: the options keep the pool's copy (the same handles, in order), and
    // the array given, which the caller may change or drop, is not kept.
    const asGiven = dependencies.every((dependency, index) => dependency === after[index]);
    if (asGiven) (handle.options as { after?: unknown }).after = dependencies;
    const settledWillDo = (handle.options as SubmitOptions).afterSettled === true;
    const failed = settledWillDo ? undefined : dependencies.find((dependency) => dependency.outcome?.status === 'rejected');
    if (failed !== undefined) {
      // Its failure is this job's to report now (as a DependencyError): not an unhandled rejection.
      observe(failed);
      // Nor is a later failure of a promise given here, which the pool wrapped and no longer
      // waits for (the caller's own handles are theirs to observe).
      for (let index = 0; index < dependencies.length; index++) if (dependencies[index] !== after[index]) observe(dependencies[index]!);
      this.#rejected++;
      settle(handle, 'rejected', this.#dependencyError(failed));
      this.#emitDone(handle);
      return false;
    }
    setRunningJob(handle, dependencies.length);
    if (!asGiven) blockedRecord(handle).dependencies = dependencies;
    // Only an input function is given their results (or outcomes), read once it goes on.
    if (typeof handle.input === 'function') blockedRecord(handle).results = new Array(dependencies.length);
    inherit(dependencies, handle.priority);
    if (this.#criticalPath) {
      let depth = 0;
      for (const dependency of dependencies) {
        if (ownerOf(dependency) === this.#owner && dependency.outcome === undefined) depth = Math.max(depth, depthOf(dependency) + 1);
      }
      if (depth > 0) blockedRecord(handle).depth = depth;
      handle[rankKey] = handle.id - depth * heightStep;
      this.#lengthenChains(dependencies, 1);
    }
    let pending = dependencies.length;
    for (let index = 0; index < dependencies.length; index++) {
      const dependency = dependencies[index]!;
      const outcome = dependency.outcome;
      if (outcome !== undefined && (settledWillDo || outcome.status === 'fulfilled')) {
        pending = countDown(handle);
        continue;
      }
      const waiting = this.#waiting.get(dependency);
      if (waiting === undefined) {
        this.#waiting.set(dependency, handle);
        dependency.onDone(this.#onDependencyDone);
      } else if (Array.isArray(waiting)) {
        waiting.push(handle);
      } else {
        this.#waiting.set(dependency, [waiting, handle]);
      }
    }
    // All were fulfilled already: it goes on as if it had none.
    if (pending === 0) this.#goOn(handle);
    return true;
  }

  /**
   * Critical path: `dependencies` now have a chain of at least `height` jobs waiting on them. Each
   * of this pool's that has not begun is raised to it (and re-ordered if queued), and so, one
   * longer, are the dependencies it waits for in turn. Stops where a chain is long enough already.
   */
  #lengthenChains(dependencies: readonly JobHandle[], height: number): void {
    const stack: [JobHandle, number][] = dependencies.map((dependency) => [dependency, height]);
    while (stack.length > 0) {
      const [job, least] = stack.pop()!;
      if (ownerOf(job) !== this.#owner || (job.state !== 'queued' && job.state !== 'held') || heightOf(job) >= least || least >= 2 ** 16) continue;
      job[rankKey] = job.id - (depthOf(job) + least) * heightStep;
      this.#queue.update(job);
      this.#parked.update(job);
      const waiting = waitingOf(job);
      if (waiting !== undefined) for (const next of dependenciesOf(job, waiting)) stack.push([next, least + 1]);
    }
  }

  /**
   * A dependency settled: every job waiting for it learns, in submission order. A failure fails
   * them all with one DependencyError (the same dependency and cause for each).
   */
  #dependencyDone(dependency: JobHandle): void {
    const waiting = this.#waiting.get(dependency);
    if (waiting === undefined) return;
    this.#waiting.delete(dependency);
    const outcome = dependency.outcome!;
    let error: DependencyError | undefined;
    let joined = false;
    for (const handle of Array.isArray(waiting) ? waiting : [waiting]) {
      // Passed by if it no longer waits (cancelled, or failed by another dependency).
      if (waitingOf(handle) === undefined) continue;
      const settledWillDo = (handle.options as SubmitOptions).afterSettled === true;
      if (outcome.status === 'rejected' && !settledWillDo) {
        error ??= this.#dependencyError(dependency);
        this.#failUnstarted(handle, undefined, error);
        continue;
      }
      if (countDown(handle) > 0) continue;
      const dispatch = this.#goOn(handle);
      if (handle.state !== 'queued') continue;
      this.#join(handle, dispatch);
      joined = true;
    }
    if (joined || error !== undefined) this.#pump();
  }

  /** The one DependencyError of a failed dependency, shared by every job waiting for it, now or later. */
  #dependencyError(dependency: JobHandle): DependencyError {
    let error = this.#dependencyErrors.get(dependency);
    if (error === undefined) {
      error = new DependencyError(dependency, (dependency.outcome as { reason: unknown }).reason, dependency.id);
      this.#dependencyErrors.set(dependency, error);
    }
    return error;
  }

  /**
   * Its dependencies are done: the job goes on as one that never had any, with a Dispatch only if
   * it carries what a Dispatch must (results for its input function, a depth, a promotion).
   */
  #goOn(handle: JobHandle): Dispatch | undefined {
    const extra = waitingOf(handle);
    if (typeof extra !== 'object' || (extra.results === undefined && extra.depth === 0 && extra.promotedAt === 0)) {
      setRunningJob(handle, undefined);
      return undefined;
    }
    const results = extra.results;
    if (results !== undefined) {
      // Read now, when every dependency has settled: once each, however many there are.
      const settledWillDo = (handle.options as SubmitOptions).afterSettled === true;
      const dependencies = dependenciesOf(handle, extra);
      for (let place = 0; place < dependencies.length; place++) results[place] = givenToInput(dependencies[place]!.outcome!, settledWillDo);
    }
    const dispatch = new Dispatch(handle);
    dispatch.results = results;
    dispatch.depth = extra.depth;
    if (extra.promotedAt > 0) {
      dispatch.promoted = true;
      dispatch.promotedAt = extra.promotedAt;
    }
    setRunningJob(handle, dispatch);
    return dispatch;
  }

  /** An input function's pending promise no longer matters: the job is gone. */
  #abandon(dispatch: Dispatch): void {
    dispatch.phase = 'stopped';
    this.#building.delete(dispatch);
  }

  #emitDone(handle: JobHandle): void {
    if (this.listenerCount('done') > 0) queueMicrotask(() => this.emit('done', handle));
  }

  #checkIdle(): void {
    if (this.#idle || this.#queued > 0 || this.#busy > 0) return;
    this.#idle = true;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
    if (this.listenerCount('idle') > 0) queueMicrotask(() => this.emit('idle'));
  }

  /**
   * How many jobs may be running at once (begun on a thread). Unless set, what the threads can
   * run: `maxThreads` × `concurrentTasksPerWorker`. Raising it dispatches at once.
   */
  get concurrency(): number {
    return this.#concurrency ?? this.#executor.capacity;
  }

  set concurrency(value: number) {
    const lowered = checkConcurrency(value) < this.concurrency;
    this.#concurrency = value;
    // Jobs sent ahead would begin past the new limit: they come back.
    if (lowered && value < this.#executor.capacity) this.#call(() => this.#takeBackAll());
    this.#pump();
  }

  /** Counts of jobs in each state now. */
  get stats(): PoolStats {
    return {
      held: this.#held.size,
      queued: this.#queued,
      running: this.#running,
      fulfilled: this.#fulfilled,
      rejected: this.#rejected,
      cancelled: this.#cancelled,
      concurrency: this.concurrency,
      threads: this.#executor.threads,
    };
  }

  /**
   * Stops jobs from beginning: jobs sent ahead to a thread come back to the queue; running jobs
   * go on. No effect once the pool is closing (its queue must run out).
   */
  pause(): void {
    if (this.#closed) return;
    this.#paused = true;
    this.#call(() => this.#takeBackAll());
  }

  /** Lets queued jobs begin again. */
  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /**
   * Resolves when nothing is queued or running (held jobs do not count). A cancelled or timed-out
   * job counts as running until it has really stopped (or `abortGrace` passed).
   */
  idle(): Promise<void> {
    if (this.#queued === 0 && this.#busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Results of a job per item of `items`, as an async iterable. Items are pulled only as slots
   * free up, so memory stays bounded for any length: at most twice the concurrency are pulled and
   * not yet yielded (with `concurrency: Infinity`, twice what the threads can run, or 2,048 in
   * process). A failing job makes the iteration throw and cancels the rest; leaving the loop early
   * cancels them too.
   */
  map<T = unknown>(items: Iterable<unknown> | AsyncIterable<unknown>, options?: MapOptions & HandleOptions<H>): AsyncIterableIterator<T> {
    const { ordered, ...submitOptions } = (checkSubmitOptions(options, 'map') ?? {}) as MapOptions;
    if (ordered !== undefined && typeof ordered !== 'boolean') throw new TypeError(`ordered must be a boolean, got ${typeof ordered}`);
    return mapJobs<T>(
      (item) => this.submit<T>(item, submitOptions as SubmitOptions & HandleOptions<H>),
      () => this.#mapWindow(),
      iteratorOf(items),
      ordered ?? true,
    );
  }

  /** How many jobs `map` keeps in flight: the concurrency, bounded even when that is not. */
  #mapWindow(): number {
    const concurrency = this.concurrency;
    if (Number.isFinite(concurrency)) return Math.max(1, concurrency);
    const capacity = this.#executor.capacity;
    return Number.isFinite(capacity) ? Math.max(1, capacity) : mapWindowInProcess;
  }

  /**
   * A group of jobs that can be cancelled and awaited together (`await using` cancels what is
   * unsettled). `T`: the result type of its jobs (a union for several), what `settled()` gives.
   */
  group<T = unknown>(options?: GroupOptions): JobGroup<H, T> {
    return new JobGroup<H, T>(this, options);
  }

  /**
   * A typed object over the worker module's exports: `proxy.fn(arg)` is `submit(arg, { name: 'fn' })`.
   * `Module`: `typeof import('./worker.js')`; `Progress`: the type of the values its jobs report
   * (say, a type the worker module exports, `import('./worker.js').Progress`).
   */
  proxy<Module, Progress = unknown>(): WorkerProxy<Module, H, Progress> {
    return new Proxy(Object.create(null) as WorkerProxy<Module, H, Progress>, {
      get: (_, name) => {
        if (typeof name !== 'string' || proxyReservedNames.has(name)) return undefined;
        return (input: unknown, options?: SubmitOptions) => this.submit(input, { ...options, name } as SubmitOptions & HandleOptions<H>);
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
    this.#paused = false;
    const reason = new PoolClosedError('the pool was closed before the job started');
    for (const handle of [...this.#held]) this.#cancel(handle, 'cancelled', reason);
    if (options.cancelQueued === true) {
      this.#cancellingAll = true;
      for (const dispatch of [...this.#handed]) this.#cancel(dispatch.handle, 'cancelled', reason);
      for (let index = this.#urgentHead; index < this.#urgent.length; index++) {
        const dispatch = this.#urgent[index]!;
        if (dispatch.urgent) this.#cancel(dispatch.handle, 'cancelled', reason);
      }
      for (const handle of [...this.#queue.drain(), ...this.#parked.drain()]) {
        // drain() emptied the queue already: settle each as #cancel would.
        this.#queued--;
        this.#cancelled++;
        setRunningJob(handle, undefined);
        settle(handle, 'cancelled', reason);
        this.#emitDone(handle);
      }
      for (const dispatch of [...this.#building]) this.#cancel(dispatch.handle, 'cancelled', reason);
      for (const waiting of [...this.#waiting.values()]) {
        for (const handle of Array.isArray(waiting) ? waiting : [waiting]) if (waitingOf(handle) !== undefined) this.#cancel(handle, 'cancelled', reason);
      }
      this.#cancellingAll = false;
    }
    this.#pump();
    this.#checkIdle();
    this.#closing = this.idle().then(() => this.#executor.close());
    return this.#closing;
  }

  /** `close()`, for `await using pool = new Pool(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
