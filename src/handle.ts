/**
 * JobHandle: one job's state machine, its callbacks, and a thenable view of its result.
 * The state is the single source of truth; the pool drives every transition through the
 * module-internal functions at the bottom, so subclasses cannot reach them by accident.
 */
import { performance } from 'node:perf_hooks';
import { CancelledError } from './errors.js';
import { heapIndex, rankKey } from './queue.js';
import type { SubmitOptions } from './submit-options.js';

/** `held` <-> `queued` -> `running` -> `fulfilled` | `rejected` | `cancelled`. */
export type JobState = 'held' | 'queued' | 'running' | 'fulfilled' | 'rejected' | 'cancelled';

/** How a job ended. A cancelled job is `rejected` here, with a `CancelledError` as the reason. */
export type JobOutcome<T> = { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown };

/** When a job was submitted, handed to the workers and settled, in ms from `performance.now()`. */
export interface JobTiming {
  submittedAt: number;
  startedAt?: number;
  settledAt?: number;
}

/**
 * What the pool hands to the handle's constructor; pass it on unchanged to `super(init)`.
 * `Options`: the options of `submit` the handle class reads besides lazypool's own (see `JobHandle`).
 */
export interface JobHandleInit<Options = {}> {
  /** Unique and increasing within the pool. */
  readonly id: number;
  /** What was given to `submit` as the input (a function input is not called yet). */
  readonly input: unknown;
  /** Every option given to `submit`: typed as lazypool's own and `Options`; at run time any other key given is there too. */
  readonly options: SubmitOptions & Options;
  /** @internal */
  readonly [ownerKey]?: HandleOwner;
}

/** @internal The scheduler behind a handle: every transition that touches the queue goes through it. */
export interface HandleOwner {
  start(handle: AnyHandle): void;
  hold(handle: AnyHandle): void;
  promote(handle: AnyHandle): void;
  cancel(handle: AnyHandle, reason: unknown): boolean;
  /** Gives a held or queued job a new priority; false if it turned out to have begun. */
  reprioritise(handle: AnyHandle, priority: number): boolean;
}

/** Shared by every copy of lazypool in a process: their handles know each other by it. */
const handleBrand: unique symbol = Symbol.for('lazypool.JobHandle') as typeof handleBrand;

/** @internal */
export const ownerKey: unique symbol = Symbol('lazypool.owner');

type Callback<A> = (argument: A) => void;
/** A handle's callbacks, made on the first one attached (a class: three fields, not a literal's four). */
class Callbacks<H = any> {
  start: Callback<H>[] | undefined = undefined;
  done: Callback<H>[] | undefined = undefined;
  progress: Callback<unknown>[] | undefined = undefined;
  /**
   * Undoes what submit set up for the job (an abort listener on its signal); run at settle. Kept
   * here rather than in a field of every handle: few jobs have a signal.
   */
  cleanup: (() => void) | undefined = undefined;
}

/**
 * The first callback of a kind makes an array of one: `[]` and a push would reserve room for 16,
 * about 140 bytes per handle, and most handles (a dependency the pool listens to, say) get one.
 */
function addCallback<K extends 'start' | 'done' | 'progress'>(callbacks: Callbacks, kind: K, callback: NonNullable<Callbacks[K]>[number]): void {
  const list = callbacks[kind] as unknown[] | undefined;
  if (list === undefined) (callbacks[kind] as unknown[]) = [callback];
  else list.push(callback);
}

/** @internal */
export type AnyHandle = JobHandle<any, any, any>;

/**
 * The options a `Handle` class declares (`JobHandle`'s second type parameter): what `submit` takes
 * besides `SubmitOptions` in a pool built with that class; none for `JobHandle` itself.
 */
export type HandleOptions<H extends JobHandle<any, any, any>> = H extends JobHandle<any, infer Options, any> ? Options : {};

/**
 * The handle type a pool gives: the result type `T` and progress type `Progress`, the options its
 * `Handle` class declares, plus whatever members that class adds.
 */
export type PoolHandle<H extends JobHandle<any, any, any>, T, Progress = unknown> = [Exclude<keyof H, keyof JobHandle<any, any, any>>] extends [never]
  ? JobHandle<T, HandleOptions<H>, Progress>
  : JobHandle<T, HandleOptions<H>, Progress> & Omit<H, keyof JobHandle<any, any, any>>;


// Module-internal transitions, bound to the private fields in JobHandle's static block (declared
// first: the static block runs when the class is defined).
/** @internal */
export let setState: (handle: AnyHandle, state: 'held' | 'queued') => void;
/** @internal Moves a handle to `running`, begun at `at` (`performance.now()`). */
export let markRunning: (handle: AnyHandle, at: number) => void;
/**
 * @internal Takes the onStart callbacks of a handle that became running, for `runStartCallbacks`:
 * taken before the pool's 'start' listeners run, so that one that cancels the job (which did
 * begin) does not drop them when it settles the handle.
 */
export let takeStartCallbacks: (handle: AnyHandle) => Callback<AnyHandle>[] | undefined;
/** @internal Calls onStart callbacks taken by `takeStartCallbacks`; `deferred`: on a later microtask. */
export let runStartCallbacks: (handle: AnyHandle, callbacks: Callback<AnyHandle>[], deferred: boolean) => void;
/** @internal Sets the priority of a held or queued handle (the owner re-orders its queue). */
export let assignPriority: (handle: AnyHandle, priority: number) => void;
/**
 * @internal Settles a handle once; returns false if it had settled already. `value` is the result
 * when fulfilled, the error when rejected, and the reason given to cancel when cancelled.
 */
export let settle: (handle: AnyHandle, status: 'fulfilled' | 'rejected' | 'cancelled', value: unknown) => boolean;
/** @internal Calls the handle's onProgress callbacks, if it has not settled. */
export let deliverProgress: (handle: AnyHandle, value: unknown) => void;
/** @internal Marks the handle as watched by its owner (a group, a map), so a failure is not reported. */
export let observe: (handle: AnyHandle) => void;
/** @internal */
export let setRunningJob: (handle: AnyHandle, job: unknown) => void;
/** @internal */
export let runningJobOf: (handle: AnyHandle) => unknown;
/** @internal The owner given at construction (a pool's), if any. */
export let ownerOf: (handle: AnyHandle) => HandleOwner | undefined;
/** @internal Registers what to undo when the handle settles. */
export let setCleanup: (handle: AnyHandle, cleanup: () => void) => void;

const noOptions: SubmitOptions = Object.freeze({});
let ownerlessIds = 0;

/**
 * A job of a pool, from the moment `submit` returns until long after it settled: a real object to
 * hold, reprioritise, put on hold, promote, cancel, and await. It settles exactly once.
 *
 * `T`: the result. `Options`: the options of `submit` a subclass reads besides lazypool's own:
 * `class Retrying extends JobHandle<unknown, { retries?: number }>` makes
 * `new Pool({ filename, Handle: Retrying }).submit(x, { retries: 3 })` type-check, while a key
 * nobody declared does not. `Progress`: the type of the values the job reports.
 */
export class JobHandle<T = unknown, Options = {}, Progress = unknown> implements PromiseLike<T> {
  /** Unique, increasing integer per pool (submission order). */
  readonly id: number;
  /** What was given to `submit` as the input. */
  readonly input: unknown;
  /** Every option given to `submit`: typed as lazypool's own and `Options`; at run time any other key given is there too. */
  readonly options: SubmitOptions & Options;
  /** @internal */
  [heapIndex] = -1;
  /** @internal Its place among jobs of equal priority (queue.ts). */
  [rankKey]: number;

  #owner: HandleOwner | undefined;
  #state: JobState = 'queued';
  #priority: number;
  #submittedAt: number;
  #startedAt: number | undefined;
  #settledAt: number | undefined;
  /** Built at settle, or for a cancellation on first use: most cancelled jobs are never looked at. */
  #outcome: JobOutcome<T> | undefined;
  /** What a cancelled job was cancelled with, until its CancelledError is built. */
  #cancelReason: unknown;
  #promise: Promise<T> | undefined;
  #resolve: ((value: any) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  /** A lone onDone callback as it is (a dependency the pool listens to has just that), or all of them. */
  #callbacks: Callbacks<any> | Callback<any> | undefined;
  /** Someone awaits, has an onDone callback, or owns it (a group, a map): a failure is theirs to see. */
  #observed = false;
  /** The pool's record of the job while it runs. */
  #job: unknown;

  constructor(init: JobHandleInit<Options>) {
    this.id = init.id;
    this[rankKey] = init.id;
    this.input = init.input;
    this.options = init.options;
    this.#owner = init[ownerKey];
    const priority = init.options.priority;
    this.#priority = priority === undefined ? 0 : priority;
    this.#submittedAt = performance.now();
  }

  /** One of `held`, `queued`, `running`, `fulfilled`, `rejected`, `cancelled`. */
  get state(): JobState {
    return this.#state;
  }

  /** Higher runs first; equal priorities run in submission order. */
  get priority(): number {
    return this.#priority;
  }

  /** `undefined` until settled; then how it ended. */
  get outcome(): JobOutcome<T> | undefined {
    if (this.#outcome === undefined && this.#state === 'cancelled') {
      this.#outcome = cancelledOutcome(this.#cancelReason) as JobOutcome<T>;
      this.#cancelReason = undefined;
    }
    return this.#outcome;
  }

  #settled(): boolean {
    return this.#settledAt !== undefined;
  }

  /** When it was submitted, handed to the workers, and settled (`performance.now()` ms). */
  get timing(): JobTiming {
    const timing: JobTiming = { submittedAt: this.#submittedAt };
    if (this.#startedAt !== undefined) timing.startedAt = this.#startedAt;
    if (this.#settledAt !== undefined) timing.settledAt = this.#settledAt;
    return timing;
  }

  /**
   * Changes the priority of a `held` or `queued` job and re-orders the queue (O(log n)).
   * Returns `false`, changing nothing, once the job is running or settled.
   */
  setPriority(priority: number): boolean {
    if (typeof priority !== 'number' || Number.isNaN(priority)) {
      throw new TypeError(`priority must be a number, got ${typeof priority === 'number' ? 'NaN' : typeof priority}`);
    }
    if (this.#state !== 'held' && this.#state !== 'queued') return false;
    if (this.#owner !== undefined) return this.#owner.reprioritise(this, priority);
    this.#priority = priority;
    return true;
  }

  /** `held` -> `queued`: the job waits for a slot. No effect in any other state. Returns the handle. */
  start(): this {
    if (this.#state === 'held') this.#owner?.start(this);
    return this;
  }

  /**
   * `queued` -> `held`: taken out of the queue without being cancelled; it keeps its place in
   * submission order for when it is started again. No effect in any other state. Returns the handle.
   */
  hold(): this {
    if (this.#state === 'queued') this.#owner?.hold(this);
    return this;
  }

  /**
   * `held`/`queued`: goes ahead of every other job and begins on the first thread that frees up
   * (at once where one is free), even past the pool's concurrency (later dispatches wait until the
   * count is back under it). No effect otherwise. Returns the handle.
   */
  promote(): this {
    if (this.#state === 'held' || this.#state === 'queued') this.#owner?.promote(this);
    return this;
  }

  /**
   * Settles the job as `cancelled`. A waiting job never reaches a worker; a running one is told to
   * stop (and its thread ended if it does not within `abortGrace`). Returns `true` if this call
   * cancelled it, `false` if it had already settled.
   */
  cancel(reason?: unknown): boolean {
    if (this.#settled()) return false;
    if (this.#owner !== undefined) return this.#owner.cancel(this, reason);
    return settle(this, 'cancelled', reason);
  }

  /**
   * Calls `callback(handle)` once, when the pool learns that the job began on its thread; on a
   * later microtask if it already has, or if the start came to light inside one of your own calls
   * (a `cancel()`, `hold()` or `setPriority()` that found the job begun): never inside it. Never
   * called for a job that settles without running.
   */
  onStart(callback: (handle: this) => void): this {
    checkCallback('onStart', callback);
    if (this.#startedAt !== undefined) later('onStart', callback, this);
    else if (!this.#settled()) addCallback(this.#callbackSet(), 'start', callback);
    return this;
  }

  /**
   * Calls `callback(handle)` once after the job settles in any way, cancellation included: always
   * on a later microtask, never inside the caller's own `cancel()`.
   */
  onDone(callback: (handle: this) => void): this {
    checkCallback('onDone', callback);
    this.#observe();
    if (this.#settled()) later('onDone', callback, this);
    else if (this.#callbacks === undefined) this.#callbacks = callback;
    else addCallback(this.#callbackSet(), 'done', callback);
    return this;
  }

  /** Calls `callback(value)` for each progress value the job reports, in order, all before it settles. */
  onProgress(callback: (value: Progress) => void): this {
    checkCallback('onProgress', callback);
    if (!this.#settled()) addCallback(this.#callbackSet(), 'progress', callback as Callback<unknown>);
    return this;
  }

  /** The callbacks as a Callbacks object, made (with a lone onDone callback in it) if need be. */
  #callbackSet(): Callbacks {
    const current = this.#callbacks;
    if (typeof current === 'object') return current;
    const set = new Callbacks();
    if (current !== undefined) set.done = [current];
    return (this.#callbacks = set);
  }

  /** Awaiting a `held` handle starts it first; awaiting never blocks anything. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#observed = true;
    if (this.#state === 'held') this.start();
    return this.#settledPromise().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: any) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }

  get [Symbol.toStringTag](): string {
    return 'JobHandle';
  }

  /** @internal Marks a JobHandle to any copy of lazypool in the process (see isForeignHandle). */
  get [handleBrand](): true {
    return true;
  }

  /**
   * A handle from anything awaitable: `x` itself if it is a JobHandle, a handle that follows a
   * promise or thenable, or a fulfilled handle for a plain value. Such a handle belongs to no pool:
   * `cancel()` settles it as cancelled but cannot stop what it follows.
   */
  static from<T>(value: T): JobHandle<Awaited<T>> {
    if (value instanceof JobHandle) return value as JobHandle<Awaited<T>>;
    const handle = new JobHandle<Awaited<T>>({ id: ++ownerlessIds, input: value, options: noOptions });
    const foreign = isForeignHandle(value);
    if (!foreign && !isThenable(value)) {
      settle(handle, 'fulfilled', value);
      return handle;
    }
    handle.#state = 'running';
    handle.#startedAt = handle.#submittedAt;
    if (foreign) {
      // A handle of another copy of lazypool in this process: followed through its onDone, not
      // awaited, since awaiting a held handle would start it. (The pool passes priority and
      // promote() on to it: see followedHandle.)
      value.onDone((followed) => {
        const outcome = followed.outcome!;
        if (outcome.status === 'fulfilled') settle(handle, 'fulfilled', outcome.value);
        else settle(handle, 'rejected', outcome.reason);
      });
    } else {
      (value as PromiseLike<unknown>).then(
        (result) => settle(handle, 'fulfilled', result),
        (error: unknown) => settle(handle, 'rejected', error),
      );
    }
    return handle;
  }

  /**
   * From now on a failure is someone's to see. A failure that settled before (inside `submit`,
   * say) already made its rejected promise for Node to report: mark it handled, in time, since
   * Node reports only after the current turn's microtasks.
   */
  #observe(): void {
    if (!this.#observed && this.#promise !== undefined) this.#promise.catch(ignore);
    this.#observed = true;
  }

  #settledPromise(): Promise<T> {
    if (this.#promise !== undefined) return this.#promise;
    const outcome = this.outcome;
    if (outcome === undefined) {
      this.#promise = new Promise<T>((resolve, reject) => {
        this.#resolve = resolve;
        this.#reject = reject;
      });
    } else if (this.#state === 'cancelled') {
      // Shared by the jobs cancelled with the same reason, and already handled: awaiting 100,000
      // cancelled handles makes no rejected promise each, nor a rejection for Node to track.
      this.#promise = cancelledPromise(outcome) as Promise<T>;
    } else {
      this.#promise = outcome.status === 'fulfilled' ? Promise.resolve(outcome.value) : Promise.reject(outcome.reason);
    }
    return this.#promise;
  }

  static {
    setState = (handle, state) => {
      handle.#state = state;
    };
    markRunning = (handle, at) => {
      handle.#state = 'running';
      handle.#startedAt = at;
    };
    takeStartCallbacks = (handle) => {
      const set = handle.#callbacks;
      const callbacks = typeof set === 'object' ? set.start : undefined;
      // Taken now: a cancel() before they run must not drop them when it settles the handle.
      if (callbacks !== undefined) (set as Callbacks).start = undefined;
      return callbacks as Callback<AnyHandle>[] | undefined;
    };
    runStartCallbacks = (handle, callbacks, deferred) => {
      if (deferred) for (const callback of callbacks) later('onStart', callback, handle);
      else for (const callback of callbacks) runCallback('onStart', callback, handle);
    };
    assignPriority = (handle, priority) => {
      handle.#priority = priority;
    };
    settle = (handle, status, value) => {
      if (handle.#settled()) return false;
      handle.#state = status;
      handle.#settledAt = performance.now();
      if (status === 'fulfilled') {
        handle.#outcome = { status, value };
        handle.#resolve?.(value);
      } else if (status === 'cancelled') {
        // The CancelledError (a stack trace to capture) is built only for someone who looks:
        // cancelling 100,000 waiting jobs nobody awaits costs no error at all.
        handle.#cancelReason = value;
        if (handle.#reject !== undefined) handle.#reject((handle.outcome as { reason: unknown }).reason);
      } else {
        handle.#outcome = { status: 'rejected', reason: value };
        if (handle.#reject !== undefined) handle.#reject(value);
        // Nobody will ever look at this failure: let Node report it as it reports any
        // unhandled rejection. A cancellation is the caller's own doing and is never reported.
        else if (status === 'rejected' && !handle.#observed && handle.#promise === undefined) {
          handle.#promise = Promise.reject(value);
        }
      }
      handle.#resolve = handle.#reject = undefined;
      const callbacks = handle.#callbacks;
      handle.#callbacks = undefined;
      if (typeof callbacks === 'object' && callbacks.cleanup !== undefined) {
        const cleanup = callbacks.cleanup;
        callbacks.cleanup = undefined;
        runCallback('signal cleanup', cleanup, undefined);
      }
      // Never inside the caller's own cancel(): the same later microtask as for a late onDone.
      if (typeof callbacks === 'function') later('onDone', callbacks, handle);
      else if (callbacks?.done !== undefined) for (const callback of callbacks.done) later('onDone', callback, handle);
      return true;
    };
    deliverProgress = (handle, value) => {
      const set = handle.#settled() ? undefined : handle.#callbacks;
      const callbacks = typeof set === 'object' ? set.progress : undefined;
      if (callbacks !== undefined) for (const callback of callbacks) runCallback('onProgress', callback, value);
    };
    observe = (handle) => {
      handle.#observe();
    };
    setRunningJob = (handle, job) => {
      handle.#job = job;
    };
    runningJobOf = (handle) => handle.#job;
    ownerOf = (handle) => handle.#owner;
    setCleanup = (handle, cleanup) => {
      handle.#callbackSet().cleanup = cleanup;
    };
  }
}

function ignore(): void {}

let lastCancelReason: unknown;
let lastCancelledError: CancelledError | undefined;

/**
 * The CancelledError for `reason`. Jobs cancelled one after another with the same reason (a loop
 * of `cancel()`, a group, close) share one: it has no stack trace to tell them apart, and a mass
 * cancel then builds one error instead of 100,000.
 */
function cancelledError(reason: unknown): CancelledError {
  if (lastCancelledError === undefined || !Object.is(reason, lastCancelReason)) {
    lastCancelledError = new CancelledError(reason);
    lastCancelReason = reason;
    lastCancelledOutcome = undefined;
    lastCancelledPromise = undefined;
  }
  return lastCancelledError;
}

let lastCancelledOutcome: JobOutcome<never> | undefined;
let lastCancelledPromise: Promise<never> | undefined;

/** The outcome of a job cancelled with `reason`: one frozen object for a run of them. */
function cancelledOutcome(reason: unknown): JobOutcome<never> {
  const error = cancelledError(reason);
  return (lastCancelledOutcome ??= Object.freeze({ status: 'rejected', reason: error }) as JobOutcome<never>);
}

/** A rejected promise for `outcome` (a cancellation), shared by a run of them, marked handled. */
function cancelledPromise(outcome: JobOutcome<unknown>): Promise<never> {
  if (outcome === lastCancelledOutcome) {
    if (lastCancelledPromise === undefined) {
      lastCancelledPromise = Promise.reject((outcome as { reason: unknown }).reason);
      lastCancelledPromise.catch(ignore);
    }
    return lastCancelledPromise;
  }
  const promise = Promise.reject((outcome as { reason: unknown }).reason) as Promise<never>;
  promise.catch(ignore);
  return promise;
}

const resolved = Promise.resolve();
/** Callbacks due, as (kind, callback, argument) in threes, in the order they fell due. */
const due: unknown[] = [];
let dueHead = 0;

/**
 * Calls `callback(argument)` on a later microtask, as queueMicrotask would, at a fraction of the
 * cost. Node's queueMicrotask makes an AsyncResource and a bound function per call (4-8x a promise
 * reaction: about half the time of cancelling 100,000 jobs with an onDone listener each), and a
 * closure per callback would be most of what remains. So each call queues one reaction of the same
 * function, which runs the oldest callback due: reactions run in the order they were queued, so
 * each callback runs in the very microtask queued for it, as with queueMicrotask.
 */
function later<A>(kind: string, callback: Callback<A>, argument: A): void {
  due.push(kind, callback, argument);
  void resolved.then(runOldestDue);
}

function runOldestDue(): void {
  const index = dueHead;
  const kind = due[index] as string;
  const callback = due[index + 1] as Callback<unknown>;
  const argument = due[index + 2];
  due[index + 1] = due[index + 2] = undefined;
  dueHead += 3;
  if (dueHead === due.length) due.length = dueHead = 0;
  // Does not throw: the promise made by later() never rejects.
  runCallback(kind, callback, argument);
}

function runCallback<A>(kind: string, callback: Callback<A>, argument: A): void {
  try {
    callback(argument);
  } catch (error) {
    // Whatever was thrown, describing it must not throw in turn: a callback that threw a value
    // String() cannot convert (Object.create(null)) or an Error whose message getter throws would
    // escape from here, into a drain of due callbacks or into the pool's report of a begin.
    let message: string;
    let stack: string | undefined;
    try {
      message = error instanceof Error ? String(error.message) : String(error);
      stack = error instanceof Error ? error.stack : undefined;
    } catch {
      message = 'a value that cannot be shown';
      stack = undefined;
    }
    process.emitWarning(`${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} callback threw: ${message}`, { type: 'LazypoolCallbackWarning', detail: stack });
  }
}

function checkCallback(method: string, callback: unknown): void {
  if (typeof callback !== 'function') {
    throw new TypeError(`${method}() needs a function, got ${callback === null ? 'null' : typeof callback}`);
  }
}

/** @internal What a pool uses of a handle of another copy of lazypool: its public methods only. */
export interface ForeignHandle {
  readonly state: JobState;
  readonly priority: number;
  readonly outcome: JobOutcome<unknown> | undefined;
  setPriority(priority: number): unknown;
  promote(): unknown;
  onDone(callback: (handle: ForeignHandle) => void): unknown;
}

/** @internal A JobHandle of another copy of lazypool loaded in this process. */
export function isForeignHandle(value: unknown): value is ForeignHandle {
  return typeof value === 'object' && value !== null && !(value instanceof JobHandle) && (value as { [handleBrand]?: unknown })[handleBrand] === true;
}

/**
 * @internal The handle a pool acts on for `handle`: for one made by `JobHandle.from` around a
 * handle of another copy of lazypool, that handle, so that priority and promote() reach it as they
 * reach a dependency of this copy; else `handle` itself.
 */
export function followedHandle(handle: AnyHandle): AnyHandle | ForeignHandle {
  return ownerOf(handle) === undefined && isForeignHandle(handle.input) ? handle.input : handle;
}

/** @internal */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
