/**
 * The module Piscina loads in every thread. It unwraps the envelope the main thread sent, loads
 * the user's worker module (once per thread), and runs the requested export inside the job's
 * context. Errors thrown by the user's code travel as plain objects so that their `name` and own
 * properties survive the trip (structured clone keeps neither for custom errors).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { types } from 'node:util';
import { serialize } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { transferableSymbol } from 'piscina';
import { messages } from './errors.js';
import { flagWord, JobContext, jobs, Outcome, runSynchronous, slotsPerBlock, storedResultBytes, Word } from './job-context.js';

/** What the main thread posts for each job. */
export interface Envelope {
  filename: string;
  name: string;
  input: unknown;
  id: number;
  /** The job's slot in the pool: its words in `flags` and the address of its progress. */
  slot: number;
  flags: Int32Array;
}

/**
 * What the main thread posts for several queued jobs of one export at once (see thread-executor.ts).
 * They run one after another. The result of each but the last is serialised into shared memory
 * (`store`), so that a thread that dies in a later job cannot take it along; the last one's result
 * (or error) is the task's reply, so Piscina moves and rejects it exactly as for a lone job.
 */
export interface BatchEnvelope {
  filename: string;
  name: string;
  inputs: unknown[];
  ids: number[];
  slots: number[];
  /** One flags block holds the words of every slot in `slots`. */
  flags: Int32Array;
  /** The block's result store: `storedResultBytes` per slot. */
  store: Uint8Array;
  /** ms: past it, the batch ends after the job that finishes; the rest never started and go back. */
  budget: number;
}

/** A user error (or any thrown value) on its way back to the main thread. */
export type TransportedError = TransportedErrorObject | TransportedValue;

interface TransportedErrorObject {
  lazypoolError: true;
  name: string;
  message: string;
  stack: string | undefined;
  properties: Record<string, unknown> | undefined;
}

/** Something thrown that is not an Error: given back as it was (a clone of it). */
interface TransportedValue {
  lazypoolError: true;
  thrown: unknown;
}

type Handler = (input: unknown) => unknown;
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

export default function runJob(envelope: Envelope | BatchEnvelope): unknown {
  return 'inputs' in envelope ? runBatch(envelope, 0, performance.now()) : runOne(envelope);
}

function runOne(envelope: Envelope): unknown {
  // Cancelled while it waited in Piscina for a thread: it never starts its work.
  if (isCancelled(envelope)) return undefined;
  // From here the main thread may end this thread if the job ignores a cancel past abortGrace,
  // even while the user's module is still loading.
  Atomics.store(envelope.flags, flagWord(envelope.slot) + Word.thread, threadId);
  const { filename, name } = envelope;
  if (lastHandler !== undefined && filename === lastFilename && name === lastName) return call(lastHandler, envelope);
  const handler = handlers.get(filename + '\0' + name);
  if (handler !== undefined) {
    lastFilename = filename;
    lastName = name;
    lastHandler = handler;
    return call(handler, envelope);
  }
  return load(filename, name).then(
    (loaded) => (isCancelled(envelope) ? undefined : call(loaded, envelope)),
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
      result = runOne({ filename: batch.filename, name: batch.name, input: batch.inputs[index], id: batch.ids[index]!, slot, flags: batch.flags });
    } catch (error) {
      markOutcome(batch.flags, slot, Outcome.reply);
      throw error;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value) => (keep(batch, index, value, began) ? runBatch(batch, index + 1, began) : value),
        (error: unknown) => {
          markOutcome(batch.flags, slot, Outcome.reply);
          throw error;
        },
      );
    }
    if (!keep(batch, index, result, began)) return result;
  }
  return undefined;
}

/**
 * Stores the result of the batch's job at `index` and returns true if the batch goes on. Returns
 * false, with the job marked as the one replied with, for the last job, once the budget is spent,
 * and for a result that cannot be stored (then the main thread stops batching that export).
 */
function keep(batch: BatchEnvelope, index: number, value: unknown, began: number): boolean {
  const slot = batch.slots[index]!;
  if (index === batch.inputs.length - 1 || performance.now() - began >= batch.budget) {
    markOutcome(batch.flags, slot, Outcome.reply);
    return false;
  }
  let bytes: Buffer | undefined;
  try {
    bytes = isStorable(value) ? serialize(value) : undefined;
  } catch {
    // Whatever v8 cannot serialise travels as the reply, where Piscina's clone gives its error.
  }
  if (bytes === undefined || bytes.length > storedResultBytes) {
    markOutcome(batch.flags, slot, Outcome.replyUnstorable);
    return false;
  }
  batch.store.set(bytes, (slot % slotsPerBlock) * storedResultBytes);
  Atomics.store(batch.flags, flagWord(slot) + Word.length, bytes.length);
  markOutcome(batch.flags, slot, Outcome.stored);
  return true;
}

function markOutcome(flags: Int32Array, slot: number, outcome: number): void {
  Atomics.store(flags, flagWord(slot) + Word.outcome, outcome);
}

/**
 * Results that v8.serialize gives back exactly as postMessage would: primitives, and plain objects
 * and arrays of them, nested, up to `storableNodes` objects in all. Binary data is not among them
 * (v8.deserialize makes a Buffer of what postMessage makes a Uint8Array), nor class instances,
 * Maps, Dates…; those end the batch and travel as its reply.
 */
function isStorable(value: unknown): boolean {
  const budget = { nodes: storableNodes };
  return isPlainData(value, budget);
}

const storableNodes = 16;

function isPlainData(value: unknown, budget: { nodes: number }): boolean {
  const type = typeof value;
  if (value === null || (type !== 'object' && type !== 'symbol' && type !== 'function')) return true;
  if (type !== 'object' || --budget.nodes < 0 || types.isProxy(value)) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!isPlainData(item, budget)) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) if (!isPlainData((value as Record<string, unknown>)[key], budget)) return false;
  return true;
}

const require = createRequire(import.meta.url);

function isCancelled(envelope: Envelope): boolean {
  return Atomics.load(envelope.flags, flagWord(envelope.slot) + Word.cancelled) !== 0;
}

async function load(filename: string, name: string): Promise<Handler> {
  const module = await loadModule(filename);
  // `module.exports = fn` (CommonJS through require) is the function itself, not a namespace.
  const fallback = (typeof module === 'function' ? module : module.default) as Record<string, unknown> | undefined;
  // Own properties only: `name: 'constructor'` must not find Object.prototype's.
  const exports = module as Record<string, unknown>;
  const handler = name === 'default' ? fallback : Object.hasOwn(exports, name) ? exports[name] : isObject(fallback) && Object.hasOwn(fallback, name) ? fallback[name] : undefined;
  if (typeof handler !== 'function') throw new TypeError(messages.noHandler(name, filename));
  handlers.set(filename + '\0' + name, handler as Handler);
  return handler as Handler;
}

/**
 * `require` first, as Piscina does: it loads CommonJS, ES modules without top-level await (Node
 * 20.19+), and `.ts` under tsx, whose loader reaches worker threads only through its require hook.
 * `import()` is the fallback for ES modules that need it. Nothing is cached on failure: a module
 * that cannot load fails every job with the loader's error.
 */
async function loadModule(filename: string): Promise<Record<string, unknown> | ((input: unknown) => unknown)> {
  try {
    return require(filename) as Record<string, unknown> | ((input: unknown) => unknown);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_REQUIRE_ASYNC_MODULE' && code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  }
  return (await import(pathToFileURL(filename).href)) as Record<string, unknown>;
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

function call(handler: Handler, envelope: Envelope): unknown {
  const job = new JobContext(envelope.id, envelope.slot, envelope.flags);
  let result: unknown;
  const known = synchronous.has(handler);
  if (!known) jobsUnderStorage++;
  const began = performance.now();
  try {
    result = known ? runSynchronous(job, handler, envelope.input) : jobs.run(job, handler, envelope.input);
  } catch (error) {
    job.end();
    if (!known) leaveStorage();
    throw transportable(error);
  }
  if (isThenable(result)) {
    if (known) {
      synchronous.delete(handler);
      jobsUnderStorage++;
    }
    return result.then(
      (value) => {
        recordTime(envelope, began);
        job.end();
        leaveStorage();
        checkCloneable(value);
        return value;
      },
      (error: unknown) => {
        job.end();
        leaveStorage();
        throw transportable(error);
      },
    );
  }
  recordTime(envelope, began);
  if (!known) {
    if (handler.constructor.name !== 'AsyncFunction') synchronous.add(handler);
    leaveStorage();
  }
  job.end();
  checkCloneable(result);
  return result;
}

/** How long the handler ran, for the main thread's choice of what to batch (µs + 1; 0 is "not measured"). */
function recordTime(envelope: Envelope, began: number): void {
  const micros = Math.min(0x7ffffffe, Math.round((performance.now() - began) * 1000));
  Atomics.store(envelope.flags, flagWord(envelope.slot) + Word.micros, micros + 1);
}

/**
 * A result Piscina cannot clone kills the thread (it throws while posting it, outside any job),
 * and its error arrives unreadable. Checked here instead, so only the handle rejects, clearly.
 * Results that are certainly cloneable (primitives, binary data, move()d values, and plain
 * objects or arrays of those) pass at the cost of a look at their own values; anything deeper is
 * cloned once to see.
 */
function checkCloneable(result: unknown): void {
  try {
    if (isFlatCloneable(result)) return;
    if (typeof result === 'object' && result !== null && transferableSymbol in result) return;
    structuredClone(result);
  } catch (error) {
    const notCloneable = new Error(messages.resultNotCloneable((error as Error).message));
    notCloneable.name = 'DataCloneError';
    throw transportable(notCloneable);
  }
}

function isLeafCloneable(value: unknown): boolean {
  const type = typeof value;
  if (type === 'symbol' || type === 'function') return false;
  if (type !== 'object' || value === null) return true;
  return (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) && !types.isProxy(value);
}

function isFlatCloneable(value: unknown): boolean {
  if (isLeafCloneable(value)) return true;
  // A Proxy looks like what it wraps, and structured clone refuses it.
  if (typeof value !== 'object' || value === null || types.isProxy(value)) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!isLeafCloneable(item)) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) if (!isLeafCloneable((value as Record<string, unknown>)[key])) return false;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function transportable(error: unknown): TransportedError {
  if (!(error instanceof Error)) {
    // Thrown as it is, Piscina would reject with it and it would read as the thread's death.
    try {
      return { lazypoolError: true, thrown: structuredClone(error) };
    } catch {
      return transportable(new TypeError(messages.thrownNotCloneable(typeof error)));
    }
  }
  let properties: Record<string, unknown> | undefined;
  const own = Object.keys(error);
  if (own.length > 0) {
    properties = {};
    for (const key of own) properties[key] = (error as unknown as Record<string, unknown>)[key];
    try {
      structuredClone(properties);
    } catch {
      properties = undefined;
    }
  }
  return { lazypoolError: true, name: error.name, message: error.message, stack: error.stack, properties };
}
