/**
 * The module Piscina loads in every thread. It unwraps the task the main thread sent (one job, or
 * a batch of brief ones), claims each job before it begins (see layout.ts: the main thread may
 * have taken it back), loads the user's worker module (once per thread), and runs the requested
 * export inside the job's context.
 *
 * A thread holds up to two tasks: the one it runs and the next, so that a thread finishing a long
 * job finds its next job at hand. A gate keeps the jobs it runs at once to `concurrentTasksPerWorker`.
 */
import { pathToFileURL } from 'node:url';
import { parentPort, threadId } from 'node:worker_threads';
import { messages } from '../errors.js';
import { JobContext, jobs, runSynchronous } from '../job-context.js';
import { Claim, Control, Outcome, readyKey, slotsPerBlock, slotWord, storedResultBytes, timesOf, Word } from './layout.js';
import { prepareResult, transportable } from './replies.js';
import { writeStored } from './store.js';

/** What the main thread posts for a job sent alone. */
export interface Envelope {
  filename: string;
  name: string;
  input: unknown;
  id: number;
  /** The job's slot: its words in `block`, and the address of its progress. */
  slot: number;
  block: Int32Array;
  /** The main thread's `performance.timeOrigin`: start times are written on its clock. */
  origin: number;
  /** How many jobs this thread may run at once (`concurrentTasksPerWorker`). */
  limit: number;
  /** The block's result store: a small result is kept there too, in case the reply is lost. */
  store: Uint8Array;
}

/**
 * What the main thread posts for several brief jobs of one export. They run one after another.
 * The result of each but the last is serialised into shared memory (`store`), so that a thread
 * that dies in a later job cannot take it along; the last one's result (or error) is the task's
 * reply, so Piscina moves and rejects it exactly as for a lone job.
 */
export interface BatchEnvelope {
  filename: string;
  name: string;
  inputs: unknown[];
  ids: number[];
  slots: number[];
  /** One block holds the words of every slot in `slots`. */
  block: Int32Array;
  /** The block's result store: `storedResultBytes` per slot. */
  store: Uint8Array;
  /** ms: past it, the batch ends after the job that finishes; the rest never begin and go back. */
  budget: number;
  origin: number;
  limit: number;
}

type Task = Envelope | BatchEnvelope;

// The thread has started: a thread that goes before this failed while starting (see executor.ts).
parentPort?.postMessage({ [readyKey]: threadId });
type Handler = (input: unknown) => unknown;

/** The reply of a task none of whose jobs began (each was taken back). */
const nothing = undefined;

// The gate: jobs of this thread running now, and tasks waiting for one of them to end.
let active = 0;
const gated: (() => void)[] = [];

export default function runTask(task: Task): unknown {
  if (active < task.limit) {
    active++;
    return runGated(task);
  }
  return new Promise<void>((resolve) => gated.push(resolve)).then(() => runGated(task));
}

/** Runs a task that holds the gate; passes the gate on when it ends. */
function runGated(task: Task): unknown {
  let result: unknown;
  try {
    result = 'inputs' in task ? runBatch(task, 0, performance.now()) : runOne(task);
  } catch (error) {
    release();
    throw error;
  }
  if (!(result instanceof Promise)) {
    release();
    return result;
  }
  return result.then(
    (value) => {
      release();
      return value;
    },
    (error: unknown) => {
      release();
      throw error;
    },
  );
}

/**
 * The gate is passed on a turn later: Piscina posts a task's reply in a microtask after the task
 * returns, and the next task (already read from the port) must not begin, nor crash the thread,
 * before that reply is out.
 */
function release(): void {
  setImmediate(passGate);
}

function passGate(): void {
  const next = gated.shift();
  // The place goes straight to the next task waiting, which keeps their order.
  if (next !== undefined) next();
  else active--;
}

/** The job is this thread's now, unless the main thread took it back first. */
function claim(block: Int32Array, slot: number, origin: number): boolean {
  const word = slotWord(slot);
  timesOf(block)[slot % slotsPerBlock] = performance.timeOrigin + performance.now() - origin;
  Atomics.store(block, word + Word.thread, threadId);
  if (Atomics.compareExchange(block, word + Word.claim, Claim.waiting, Claim.begun) !== Claim.waiting) return false;
  Atomics.add(block, Control.begun, 1);
  Atomics.notify(block, Control.begun);
  return true;
}

const skipped: unique symbol = Symbol('skipped');

/**
 * A lone job. Its result is the reply; a small plain one is also stored, since a thread that
 * crashes (in the next job) before Piscina read the reply takes the reply along with it.
 */
function runOne(envelope: Envelope): unknown {
  const { block, slot, store } = envelope;
  let result: unknown;
  try {
    result = begin(envelope.filename, envelope.name, envelope.input, envelope.id, slot, block, envelope.origin);
  } catch (error) {
    markOutcome(block, slot, Outcome.reply);
    throw error;
  }
  if (result === skipped) return nothing;
  if (!(result instanceof Promise)) return storeReply(block, store, slot, result);
  return result.then(
    (value) => storeReply(block, store, slot, value),
    (error: unknown) => {
      markOutcome(block, slot, Outcome.reply);
      throw error;
    },
  );
}

function storeReply(block: Int32Array, store: Uint8Array, slot: number, value: unknown): unknown {
  markOutcome(block, slot, store !== undefined && storeResult(block, store, slot, value) ? Outcome.stored : Outcome.reply);
  return value;
}

/** Keeps `value` in the slot's place in the store; false if it is not plain or too large. */
function storeResult(block: Int32Array, store: Uint8Array, slot: number, value: unknown): boolean {
  const length = writeStored(store, slot, value);
  if (length === undefined) return false;
  Atomics.store(block, slotWord(slot) + Word.length, length);
  return true;
}

/** Claims the job and runs it; `skipped` if it was taken back. */
function begin(filename: string, name: string, input: unknown, id: number, slot: number, block: Int32Array, origin: number): unknown {
  if (lastHandler !== undefined && filename === lastFilename && name === lastName) {
    if (!claim(block, slot, origin)) return skipped;
    return call(lastHandler, input, id, slot, block);
  }
  const handler = handlers.get(filename + '\0' + name);
  if (handler !== undefined) {
    if (!claim(block, slot, origin)) return skipped;
    lastFilename = filename;
    lastName = name;
    lastHandler = handler;
    return call(handler, input, id, slot, block);
  }
  // Its module loads first. The load is marked before the claim: the main thread learns that the
  // job began only after the claim, and must never see it begun and not yet loading (see `required`).
  markLoading(block, slot, 1);
  if (!claim(block, slot, origin)) {
    markLoading(block, slot, 0);
    return skipped;
  }
  return load(filename, name, block, slot).then(
    // Cancelled before or while its module loaded: it never starts its work.
    (loaded) => (loaded === undefined || isCancelled(block, slot) ? undefined : call(loaded, input, id, slot, block)),
    (error: unknown) => {
      throw transportable(error);
    },
  );
}

/** Runs the batch's jobs from `first` on; returns (or throws) what the last one it runs ends with. */
function runBatch(batch: BatchEnvelope, first: number, began: number): unknown {
  const last = batch.inputs.length - 1;
  for (let index = first; index <= last; index++) {
    const slot = batch.slots[index]!;
    let result: unknown;
    try {
      result = begin(batch.filename, batch.name, batch.inputs[index], batch.ids[index]!, slot, batch.block, batch.origin);
    } catch (error) {
      markOutcome(batch.block, slot, Outcome.reply);
      throw error;
    }
    if (result === skipped) continue;
    if (result instanceof Promise) {
      return result.then(
        (value) => (keep(batch, index, value, began) ? runBatch(batch, index + 1, began) : value),
        (error: unknown) => {
          markOutcome(batch.block, slot, Outcome.reply);
          throw error;
        },
      );
    }
    if (!keep(batch, index, result, began)) return result;
  }
  return nothing;
}

/**
 * Stores the result of the batch's job at `index` and returns true if the batch goes on. Returns
 * false, with the job marked as the one replied with, for the last job, once the budget is spent,
 * and for a result that cannot be stored (then the main thread stops batching that export).
 */
function keep(batch: BatchEnvelope, index: number, value: unknown, began: number): boolean {
  const slot = batch.slots[index]!;
  if (index === batch.inputs.length - 1 || performance.now() - began >= batch.budget) {
    // The reply carries it; stored too when small, so it ends as soon as its thread moves on.
    markOutcome(batch.block, slot, storeResult(batch.block, batch.store, slot, value) ? Outcome.stored : Outcome.reply);
    return false;
  }
  if (!storeResult(batch.block, batch.store, slot, value)) {
    markOutcome(batch.block, slot, Outcome.replyUnstorable);
    return false;
  }
  markOutcome(batch.block, slot, Outcome.stored);
  return true;
}

function markOutcome(block: Int32Array, slot: number, outcome: number): void {
  Atomics.store(block, slotWord(slot) + Word.outcome, outcome);
}

function isCancelled(block: Int32Array, slot: number): boolean {
  return Atomics.load(block, slotWord(slot) + Word.cancelled) !== 0;
}

const handlers = new Map<string, Handler>();
/**
 * Handlers seen to return a plain value (not a promise) on their first call, made under
 * AsyncLocalStorage. They run without it from then on. One that later returns a promise after all
 * goes back to AsyncLocalStorage for its following calls; in that one call, code after its first
 * `await` does not see its job.
 */
const synchronous = new WeakSet<Handler>();
let lastFilename = '';
let lastName = '';
let lastHandler: Handler | undefined;

let requireHere: NodeRequire | undefined;
/** A require for worker modules that are not ES modules, made on first use (node:module is not
 *  loaded at a thread's start for it). */
function requireModule(filename: string): unknown {
  requireHere ??= process.getBuiltinModule('node:module').createRequire(import.meta.url);
  return requireHere(filename);
}

/**
 * Whether `.js` and `.mjs` worker modules are imported rather than required: when Node was given
 * a module loader in this thread (tsx, ts-node/esm, esmock, a `--require` hook...), since such
 * loaders serve `import()` and may compile what require() loads quite otherwise (tsx turns an ES
 * module into CommonJS); and when require() of ES modules is off (`--no-experimental-require-module`).
 */
const importScripts =
  (process.features as { require_module?: boolean }).require_module !== true ||
  /(?:^|\s)(?:--import|--loader|--experimental-loader|--require|-r)(?:[=\s]|$)/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`);

/** The export `name` of the worker module; `undefined` if the job was cancelled before the load began. */
async function load(filename: string, name: string, block: Int32Array, slot: number): Promise<Handler | undefined> {
  const imported = importScripts && (filename.endsWith('.mjs') || filename.endsWith('.js'));
  // Ending a thread inside import() is safe.
  if (imported) markLoading(block, slot, 0);
  let module = imported ? undefined : required(filename, block, slot);
  if (module === cancelledFirst) return undefined;
  module ??= (await import(pathToFileURL(filename).href)) as Record<string, unknown>;
  // `module.exports = fn` (CommonJS through require) is the function itself, not a namespace.
  const fallback = (typeof module === 'function' ? module : module.default) as Record<string, unknown> | undefined;
  // Own properties only: `name: 'constructor'` must not find Object.prototype's.
  const exports = module as Record<string, unknown>;
  const handler = name === 'default' ? fallback : Object.hasOwn(exports, name) ? exports[name] : isObject(fallback) && Object.hasOwn(fallback, name) ? fallback[name] : undefined;
  if (typeof handler !== 'function') throw new TypeError(messages.noHandler(name, filename));
  handlers.set(filename + '\0' + name, handler as Handler);
  return handler as Handler;
}

/** What `required` returns for a job cancelled before its load began, or when the process exits. */
const cancelledFirst: unique symbol = Symbol('cancelled first');

/**
 * Errors of require() after which `import()` loads the module: an ES module with top-level await,
 * which require() refuses before running any of it, and an ES module graph that imports what
 * require() cannot reach (Node 20.20 then reports an internal assertion; `import()` the real
 * error). An ES module is never run twice: `import()` finds the graph in Node's cache.
 */
const importAfter = new Set(['ERR_REQUIRE_ASYNC_MODULE', 'ERR_REQUIRE_ESM', 'ERR_UNKNOWN_FILE_EXTENSION', 'ERR_INTERNAL_ASSERTION']);

/**
 * The worker module through `require`, as Piscina loads it: CommonJS, `.ts` under tsx (whose
 * loader reaches worker threads only through its require hook), and ES modules, which Node 20.19
 * loads synchronously this way about 2 ms sooner in a fresh thread than `import()` does.
 * `undefined` when `import()` must load it instead (see `importAfter`; never for `.cjs`, whose
 * error came from its own top level, which `import()` would run again). Nothing is cached on
 * failure: a module that cannot load fails every job with the loader's error (and a CommonJS one
 * is run again for the next job, as require() keeps no module that threw).
 *
 * Node 20 can abort the whole process when a thread is ended inside require() of an ES module
 * (FATAL ERROR in `Module::IsGraphAsync`, or a check in `CreateRequiredModuleFacade`): the slot's
 * `loading` word (set by `begin`, before the claim) tells the main thread not to end this one
 * meanwhile (see `#forceStop`, and the wait at the process's exit). It is set before the job's
 * `cancelled` word and the block's `exiting` word are read here: a job cancelled (or a process
 * exiting) before that never loads, and one cancelled after sees its thread wait.
 */
function required(filename: string, block: Int32Array, slot: number): Record<string, unknown> | ((input: unknown) => unknown) | typeof cancelledFirst | undefined {
  try {
    if (isCancelled(block, slot) || Atomics.load(block, Control.exiting) !== 0) return cancelledFirst;
    return requireModule(filename) as Record<string, unknown> | ((input: unknown) => unknown);
  } catch (error) {
    const code = (error as { code?: unknown } | null | undefined)?.code;
    if (filename.endsWith('.cjs') || !importAfter.has(code as string)) throw error;
    return undefined;
  } finally {
    markLoading(block, slot, 0);
  }
}

/** Writes the slot's `loading` word (see layout.ts); the main thread may be waiting on it. */
function markLoading(block: Int32Array, slot: number, value: 0 | 1): void {
  const word = slotWord(slot) + Word.loading;
  Atomics.store(block, word, value);
  if (value === 0) Atomics.notify(block, word);
}

/** Jobs of this thread running under AsyncLocalStorage now. */
let jobsUnderStorage = 0;

/**
 * AsyncLocalStorage's hooks, once on, slow every promise of the thread, Piscina's own included
 * (measured: about 3 µs of worker CPU per tiny job). They are switched off whenever no job needs
 * them; `run` switches them on again. A timer left behind by an ended job then sees no job, as
 * it should.
 */
function leaveStorage(): void {
  if (--jobsUnderStorage === 0) jobs.disable();
}

function call(handler: Handler, input: unknown, id: number, slot: number, block: Int32Array): unknown {
  const job = new JobContext(id, slot, block);
  let result: unknown;
  let then: unknown;
  const known = synchronous.has(handler);
  if (!known) jobsUnderStorage++;
  const began = performance.now();
  try {
    result = known ? runSynchronous(job, handler, input) : jobs.run(job, handler, input);
    // A `then` getter is read once, here: one that throws fails the job, as a throw would.
    then = (typeof result === 'object' || typeof result === 'function') && result !== null ? (result as { then?: unknown }).then : undefined;
  } catch (error) {
    job.end();
    if (!known) leaveStorage();
    throw transportable(error);
  }
  if (typeof then === 'function') {
    if (known) {
      synchronous.delete(handler);
      jobsUnderStorage++;
    }
    return new Promise((resolve, reject) => (then as PromiseLike<unknown>['then']).call(result, resolve, reject)).then(
      (value) => {
        recordTime(block, slot, began);
        job.end();
        leaveStorage();
        return prepareResult(value);
      },
      (error: unknown) => {
        job.end();
        leaveStorage();
        throw transportable(error);
      },
    );
  }
  recordTime(block, slot, began);
  if (!known) {
    if (handler.constructor.name !== 'AsyncFunction') synchronous.add(handler);
    leaveStorage();
  }
  job.end();
  return prepareResult(result);
}

/** How long the handler ran, for the main thread's choice of what to batch (µs + 1; 0 is "not measured"). */
function recordTime(block: Int32Array, slot: number, began: number): void {
  const micros = Math.min(0x7ffffffe, Math.round((performance.now() - began) * 1000));
  Atomics.store(block, slotWord(slot) + Word.micros, micros + 1);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}
