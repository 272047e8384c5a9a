/**
 * The module Piscina loads in every thread. It unwraps the envelope the main thread sent, loads
 * the user's worker module (once per thread), and runs the requested export inside the job's
 * context. Errors thrown by the user's code travel as plain objects so that their `name` and own
 * properties survive the trip (structured clone keeps neither for custom errors).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';
import { transferableSymbol } from 'piscina';
import { messages } from './errors.js';
import { flagWord, JobContext, jobs, runSynchronous } from './job-context.js';

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

export default function runJob(envelope: Envelope): unknown {
  // Cancelled while it waited in Piscina for a thread: it never starts its work.
  if (isCancelled(envelope)) return undefined;
  // From here the main thread may end this thread if the job ignores a cancel past abortGrace,
  // even while the user's module is still loading.
  Atomics.store(envelope.flags, flagWord(envelope.slot) + 2, threadId);
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

const require = createRequire(import.meta.url);

function isCancelled(envelope: Envelope): boolean {
  return Atomics.load(envelope.flags, flagWord(envelope.slot)) !== 0;
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
  if (!known) {
    if (handler.constructor.name !== 'AsyncFunction') synchronous.add(handler);
    leaveStorage();
  }
  job.end();
  checkCloneable(result);
  return result;
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
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function isFlatCloneable(value: unknown): boolean {
  if (isLeafCloneable(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
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
