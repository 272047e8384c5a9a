/**
 * What a job's thread sends back, and how the main thread reads it: pure functions, no state.
 *
 * Thread side: `prepareResult` gives the value to post for a result (or throws the job's
 * DataCloneError), `transportable` turns anything thrown into a `TransportedError`, and
 * `isStorable` says whether a batched result may travel through `v8.serialize` instead.
 * Main side: `isTransported` recognises a `TransportedError` among a task's rejections, `revive`
 * gives back the error (or thrown value) it stands for, and the message helpers explain the
 * rejections that did not come from the user's code.
 *
 * Why errors travel as plain objects: structured clone keeps an error's message and stack, but
 * turns a custom class into a plain `Error` named 'Error' and drops every own property (`code`,
 * `errors`, …), and a single uncloneable property would make the whole reply fail to post.
 */
import { types } from 'node:util';
// Piscina's own symbols (registered, so equal in every thread), named here rather than imported:
// importing 'piscina' would load its whole main module into every thread at start-up.
export const transferableSymbol = Symbol.for('Piscina.transferable');
export const valueSymbol = Symbol.for('Piscina.valueOf');
import { messages } from '../errors.js';

/** A user error (or any thrown value) on its way back to the main thread. */
export type TransportedError = TransportedErrorObject | TransportedValue;

/**
 * An Error, taken apart. Every part is a primitive, a clone, or another transported error, so the
 * whole posts safely; transported errors that refer to each other (a cyclic `cause`) stay a graph
 * that structured clone carries and `revive` rebuilds.
 */
export interface TransportedErrorObject {
  lazypoolError: true;
  /** The nearest built-in error class on its prototype chain: what `revive` constructs. */
  kind: ErrorKind;
  name: string;
  message: string;
  stack: string | undefined;
  /** Its own enumerable properties, each that could be cloned (a clone of it), checked one by one. */
  properties: Record<string, unknown> | undefined;
  /** Keys of `properties` whose values are errors, transported in turn. */
  errorKeys: string[] | undefined;
  /** Its own `cause`, Error or not; absent when it had none, or one that cannot be cloned. */
  cause?: TransportedError;
  /** Whether `cause` was an enumerable property (assigned rather than given to the constructor). */
  causeEnumerable?: boolean;
  /** An AggregateError's `errors`. */
  errors?: TransportedError[];
}

/** Something thrown that is not an Error: given back as it was (a clone of it). */
export interface TransportedValue {
  lazypoolError: true;
  thrown: unknown;
}

type ErrorKind =
  | 'Error'
  | 'EvalError'
  | 'RangeError'
  | 'ReferenceError'
  | 'SyntaxError'
  | 'TypeError'
  | 'URIError'
  | 'AggregateError'
  | 'DOMException';

const constructors = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
} as const;

const kinds = new Map<object, ErrorKind>([
  ...Object.entries(constructors).map(([name, constructor]) => [constructor.prototype, name as ErrorKind] as const),
  [AggregateError.prototype, 'AggregateError'],
  [DOMException.prototype, 'DOMException'],
]);

// ---------------------------------------------------------------------------------------------
// Thread side
// ---------------------------------------------------------------------------------------------

/**
 * The value the thread should post for a job's `result`; throws a `TransportedError` (the job's
 * DataCloneError, or what a getter of the result threw) when it cannot be cloned, so that only
 * that job fails and its thread lives on.
 *
 * Posting clones the value a second time, and whatever passes unchecked must clone the same way
 * then: primitives and binary data go as they are; plain objects and arrays of those go as they
 * are once their own properties are seen to be data (an accessor could answer differently on the
 * second read), arrays as a copy read once; anything else is cloned here once, and that clone,
 * which holds nothing but data, is what is posted. A `move()`d result goes as it is.
 */
export function prepareResult(result: unknown): unknown {
  if (isLeafCloneable(result)) return result;
  if (typeof result !== 'object' || result === null) return cloneOrThrow(result);
  if (!types.isProxy(result)) {
    const flat = flatCopy(result);
    if (flat !== undefined) return flat;
    if (isMoved(result)) return result;
  }
  return cloneOrThrow(result);
}

/**
 * Primitives (not symbols), and binary data that is certainly cloneable. An empty buffer may be a
 * detached one, which cannot be cloned; it is cheap to find out the slow way.
 */
function isLeafCloneable(value: unknown): boolean {
  const type = typeof value;
  if (type === 'symbol' || type === 'function') return false;
  if (type !== 'object' || value === null) return true;
  if (types.isProxy(value)) return false;
  if (value instanceof ArrayBuffer) return value.byteLength > 0;
  if (ArrayBuffer.isView(value)) return value.buffer.byteLength > 0;
  return types.isSharedArrayBuffer(value);
}

/**
 * `value` itself, or a copy of it holding nothing but data, if it is a plain object or array whose
 * own enumerable properties are leaves; otherwise undefined. `value` is not a Proxy, so nothing
 * here runs user code but the getters of a plain object, each once.
 */
function flatCopy(value: object): object | undefined {
  const prototype = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (prototype !== Array.prototype) return undefined;
    // Own keys come indices first: `length` of them ending at `length - 1` means a dense array
    // without named properties. Reading each index once into a fresh array is cheaper than
    // asking for a descriptor each, and the copy holds no accessor.
    const length = value.length;
    const keys = Object.keys(value);
    if (keys.length !== length || (length > 0 && keys[length - 1] !== String(length - 1))) return undefined;
    const copy = new Array<unknown>(length);
    for (let index = 0; index < length; index++) {
      const item: unknown = value[index];
      if (!isLeafCloneable(item)) return undefined;
      copy[index] = item;
    }
    return copy;
  }
  if (prototype === Object.prototype) {
    // Ordinary in shape, exotic inside, and refused by structured clone.
    if (types.isArgumentsObject(value)) return undefined;
    // A spread copy reads each property once, and is what a clone of `value` would be (an
    // ordinary object of data properties); V8 copies plain objects this way far faster than it
    // hands out a descriptor per property. A getter that throws fails the job with its error.
    let copy: Record<string, unknown>;
    try {
      copy = { ...(value as Record<string, unknown>) };
    } catch (error) {
      throw transportable(error);
    }
    for (const key in copy) if (!isLeafCloneable(copy[key])) return undefined;
    return copy;
  }
  if (prototype !== null || types.isModuleNamespaceObject(value)) return undefined;
  // No prototype: such objects are slow to spread, and cheap enough to look at property by property.
  const keys = Object.keys(value);
  for (let index = 0; index < keys.length; index++) {
    const descriptor = Object.getOwnPropertyDescriptor(value, keys[index]!);
    if (descriptor === undefined || !('value' in descriptor) || !isLeafCloneable(descriptor.value)) return undefined;
  }
  return value;
}

/** What `move()` wraps: a value Piscina transfers rather than copies. */
export interface Movable {
  [transferableSymbol]: unknown;
  [valueSymbol]: unknown;
}

/** Whether `value` is wrapped by `move()`. A Proxy's `has` trap may throw. */
export function isMovable(value: unknown): value is Movable {
  return typeof value === 'object' && value !== null && transferableSymbol in value && valueSymbol in value;
}

/** The job's input travels by transfer (`move()` or a transferList), not by copy. */
export function transfers(job: { readonly transferList: unknown; readonly input: unknown }): boolean {
  if (job.transferList !== undefined) return true;
  try {
    return isMovable(job.input);
  } catch {
    // A Proxy whose `has` trap throws: sent, it fails as it would have.
    return false;
  }
}

/** A `move()`d value that Piscina will transfer; an empty (possibly detached) buffer is tried first. */
function isMoved(value: object): boolean {
  let moved: unknown;
  try {
    if (!isMovable(value)) return false;
    moved = value[valueSymbol];
  } catch {
    return false;
  }
  if (moved instanceof ArrayBuffer || ArrayBuffer.isView(moved)) {
    if ((moved instanceof ArrayBuffer ? moved : moved.buffer).byteLength === 0) cloneOrThrow(moved);
  }
  return true;
}

function cloneOrThrow(result: unknown): unknown {
  try {
    return structuredClone(result);
  } catch (error) {
    // A getter of the result threw while it was read: the job fails with that error, as it
    // would have had the handler thrown it.
    if (!isCloneError(error)) throw transportable(error);
    const notCloneable = new Error(messages.resultNotCloneable(error.message));
    notCloneable.name = 'DataCloneError';
    throw transportable(notCloneable);
  }
}

/**
 * Anything thrown, ready to post: an Error taken apart (see `TransportedErrorObject`), any other
 * value as a clone. A value that cannot be cloned becomes a TypeError saying so. Never throws.
 */
export function transportable(thrown: unknown): TransportedError {
  try {
    const transported = transport(thrown, new Map());
    if (transported !== undefined) return transported;
  } catch {
    // A Proxy posing as an Error can make any read throw; what it is cannot be told.
  }
  return transport(new TypeError(messages.thrownNotCloneable(typeof thrown)), new Map())!;
}

/** undefined for a value that is not an Error and cannot be cloned. */
function transport(thrown: unknown, seen: Map<object, TransportedErrorObject>): TransportedError | undefined {
  if (!isError(thrown)) {
    try {
      return { lazypoolError: true, thrown: structuredClone(thrown) };
    } catch {
      return undefined;
    }
  }
  const known = seen.get(thrown);
  if (known !== undefined) return known;
  const transported: TransportedErrorObject = {
    lazypoolError: true,
    kind: kindOf(thrown),
    name: attempt(() => String(thrown.name), 'Error'),
    message: attempt(() => String(thrown.message), ''),
    stack: attempt(() => (typeof thrown.stack === 'string' ? thrown.stack : undefined), undefined),
    properties: undefined,
    errorKeys: undefined,
  };
  seen.set(thrown, transported);
  const cause = attempt(() => Object.getOwnPropertyDescriptor(thrown, 'cause'), undefined);
  if (cause !== undefined) {
    const value = 'value' in cause ? (cause.value as unknown) : attempt(() => thrown.cause, undefined);
    const transportedCause = attempt(() => transport(value, seen), undefined);
    if (transportedCause !== undefined) {
      transported.cause = transportedCause;
      if (cause.enumerable === true) transported.causeEnumerable = true;
    }
  }
  const aggregate = transported.kind === 'AggregateError';
  if (aggregate) {
    const errors = attempt(() => (thrown as AggregateError).errors, undefined);
    if (Array.isArray(errors)) transported.errors = errors.map((error: unknown) => attempt(() => transport(error, seen), undefined) ?? transportable(error));
  }
  const keys = attempt(() => Object.keys(thrown), []);
  for (const key of keys) {
    if (key === 'cause' || (aggregate && key === 'errors')) continue;
    try {
      const value: unknown = (thrown as unknown as Record<string, unknown>)[key];
      let carried: unknown;
      if (isError(value)) {
        carried = transport(value, seen);
        (transported.errorKeys ??= []).push(key);
      } else {
        carried = isPrimitive(value) ? value : structuredClone(value);
      }
      // No prototype: a key named `__proto__` is an ordinary property here.
      (transported.properties ??= Object.create(null) as Record<string, unknown>)[key] = carried;
    } catch {
      // This property stays behind; the others go.
    }
  }
  return transported;
}

function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  return value === null || (type !== 'object' && type !== 'function' && type !== 'symbol');
}

/** The nearest built-in error prototype; a bounded walk, since a Proxy can forge an endless chain. */
function kindOf(error: Error): ErrorKind {
  let prototype: object | null = attempt(() => Object.getPrototypeOf(error) as object | null, null);
  for (let depth = 0; prototype !== null && depth < 64; depth++) {
    const kind = kinds.get(prototype);
    if (kind !== undefined) return kind;
    const current: object = prototype;
    prototype = attempt(() => Object.getPrototypeOf(current) as object | null, null);
  }
  return 'Error';
}

function attempt<T, F>(read: () => T, fallback: F): T | F {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * Whether a batched result may be stored with `v8.serialize`: true only if `v8.deserialize` gives
 * back exactly what posting it would (a structured clone). That holds for primitives, and for plain
 * objects and arrays of them, nested, up to `storableNodes` objects in all, whose own enumerable
 * properties (named properties of arrays included) are data. Binary data is not among them
 * (v8.deserialize makes a Buffer of what postMessage makes a Uint8Array), nor Proxies, accessors,
 * class instances, Maps, Dates…; those end the batch and travel as its reply.
 */
export function isStorable(value: unknown): boolean {
  return isPlainData(value, { nodes: storableNodes });
}

const storableNodes = 16;

function isPlainData(value: unknown, budget: { nodes: number }): boolean {
  if (isPrimitive(value)) return true;
  if (typeof value !== 'object' || --budget.nodes < 0 || types.isProxy(value)) return false;
  const object = value as object;
  // Binary data and the like keep their internal type whatever their prototype says.
  if (ArrayBuffer.isView(object) || types.isAnyArrayBuffer(object)) return false;
  const prototype = Object.getPrototypeOf(object);
  if (Array.isArray(object)) {
    if (prototype !== Array.prototype) return false;
  } else if (prototype === Object.prototype) {
    if (types.isArgumentsObject(object)) return false;
  } else if (prototype !== null || types.isModuleNamespaceObject(object)) {
    return false;
  }
  // Every own enumerable key, so the named properties of an array are seen too.
  const keys = Object.keys(object);
  for (let index = 0; index < keys.length; index++) {
    const descriptor = Object.getOwnPropertyDescriptor(object, keys[index]!);
    if (descriptor === undefined || !('value' in descriptor) || !isPlainData(descriptor.value, budget)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Main side
// ---------------------------------------------------------------------------------------------

/** Whether a task's rejection is a `TransportedError` (thrown by the user's code) rather than a failure of the thread. */
export function isTransported(error: unknown): error is TransportedError {
  return typeof error === 'object' && error !== null && (error as TransportedError).lazypoolError === true;
}

/**
 * The error (or thrown value) a `TransportedError` stands for: an instance of the same built-in
 * class (a custom class becomes its nearest built-in ancestor), with its `name`, `message`,
 * `stack`, `cause`, `errors` and own properties. Errors that referred to each other still do.
 */
export function revive(transported: TransportedError): unknown {
  return reviveInto(transported, new Map());
}

function reviveInto(transported: TransportedError, revived: Map<TransportedErrorObject, Error>): unknown {
  if ('thrown' in transported) return transported.thrown;
  const known = revived.get(transported);
  if (known !== undefined) return known;
  const { kind, name, message } = transported;
  const error =
    kind === 'AggregateError'
      ? new AggregateError([], message)
      : kind === 'DOMException'
        ? new DOMException(message, name)
        : new ((constructors as Record<string, ErrorConstructor | undefined>)[kind] ?? Error)(message);
  revived.set(transported, error);
  if (error.name !== name) define(error, 'name', name, false);
  if (transported.stack !== undefined) define(error, 'stack', transported.stack, false);
  if (transported.cause !== undefined) define(error, 'cause', reviveInto(transported.cause, revived), transported.causeEnumerable === true);
  if (transported.errors !== undefined) define(error, 'errors', transported.errors.map((item) => reviveInto(item, revived)), false);
  const properties = transported.properties;
  if (properties !== undefined) {
    const errorKeys = transported.errorKeys;
    for (const key of Object.keys(properties)) {
      const value = properties[key];
      define(error, key, errorKeys?.includes(key) === true ? reviveInto(value as TransportedError, revived) : value, true);
    }
  }
  return error;
}

/** As an assignment (or a constructor) would have made it: writable and configurable. */
function define(error: Error, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(error, key, { value, enumerable, writable: true, configurable: true });
}

/** Whether `error` is structured clone's refusal (a DOMException named DataCloneError). */
export function isCloneError(error: unknown): error is Error {
  return typeof error === 'object' && error !== null && (error as Error).name === 'DataCloneError';
}

/** Structured clone throws a DOMException, which is no `Error` to most code: give it one. */
export function notCloneable(id: number, cause: Error): Error {
  const error = new Error(messages.notCloneable(id, cause.message), { cause });
  error.name = 'DataCloneError';
  return error;
}

/** The rejection of a job whose thread died under it. */
export function workerExited(id: number, cause: unknown, beforeItBegan = false): Error {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new Error(beforeItBegan ? messages.workerExitedBefore(id, detail) : messages.workerExited(id, detail), { cause });
}
