/**
 * The replies of a job's thread, as pure functions: what the thread posts for a result or an
 * error, and what the main thread makes of it. `post` stands for the trip through postMessage
 * (a structured clone), so each test sees what the main thread would.
 */
import test from 'ava';
import fc from 'fast-check';
import { deserialize, serialize } from 'node:v8';
import { isDeepStrictEqual } from 'node:util';
import { move } from 'piscina';
import {
  isCloneError,
  isStorable,
  isTransported,
  notCloneable,
  prepareResult,
  revive,
  transportable,
  workerExited,
} from '../src/thread/replies.js';
import { ciSeed } from './helpers.js';

const post = <T>(value: T): T => structuredClone(value);

/** What the main thread gets for an error thrown in a job. */
function roundTrip(thrown: unknown): unknown {
  return revive(post(transportable(thrown)));
}

/** What prepareResult threw, revived as the main thread would see it. */
function refusal(result: unknown): Error {
  try {
    prepareResult(result);
  } catch (thrown) {
    if (!isTransported(thrown)) throw new Error('prepareResult threw something that is not a TransportedError', { cause: thrown });
    return revive(post(thrown)) as Error;
  }
  throw new Error('prepareResult accepted the result');
}

// ---- errors ----------------------------------------------------------------------------------

test('an error keeps its class, name, message and stack', (t) => {
  class ValidationError extends TypeError {
    constructor(message: string) {
      super(message);
      this.name = 'ValidationError';
    }
  }
  const thrown = new ValidationError('field x is missing');
  const revived = roundTrip(thrown) as Error;
  t.true(revived instanceof TypeError, 'the nearest built-in class');
  t.is(revived.name, 'ValidationError');
  t.is(revived.message, 'field x is missing');
  t.is(revived.stack, thrown.stack);
});

test('an error keeps its cause, transported in turn, Error or not', (t) => {
  const root = { code: 42, detail: ['a', 'b'] };
  const middle = new RangeError('middle', { cause: root });
  middle.name = 'MiddleError';
  const thrown = new Error('outer', { cause: middle });
  const revived = roundTrip(thrown) as Error & { cause: Error & { cause: unknown } };
  t.true(revived.cause instanceof RangeError);
  t.is(revived.cause.name, 'MiddleError');
  t.is(revived.cause.message, 'middle');
  t.is(revived.cause.stack, middle.stack);
  t.deepEqual(revived.cause.cause, root);
  t.false(Object.keys(revived).includes('cause'), 'a cause given to the constructor is not enumerable');
  const undefinedCause = roundTrip(new Error('x', { cause: undefined })) as Error;
  t.true(Object.hasOwn(undefinedCause, 'cause'), 'an own cause of undefined is still a cause');
  t.false(Object.hasOwn(roundTrip(new Error('x')) as Error, 'cause'), 'no cause, none made up');
});

test('an error whose cause chain is cyclic is transported, cycle included', (t) => {
  const first = new Error('first') as Error & { cause?: unknown };
  const second = new Error('second', { cause: first });
  first.cause = second;
  const revived = roundTrip(first) as Error & { cause: Error & { cause: unknown } };
  t.is(revived.cause.message, 'second');
  t.is(revived.cause.cause, revived);
  const own = new Error('self') as Error & { cause?: unknown };
  own.cause = own;
  const revivedOwn = roundTrip(own) as Error & { cause: unknown };
  t.is(revivedOwn.cause, revivedOwn);
});

test('an AggregateError keeps its errors', (t) => {
  const thrown = new AggregateError([new TypeError('one'), 'two', Object.assign(new Error('three'), { code: 'E3' })], 'several');
  const revived = roundTrip(thrown) as AggregateError;
  t.true(revived instanceof AggregateError);
  t.is(revived.message, 'several');
  t.is(revived.errors.length, 3);
  t.true(revived.errors[0] instanceof TypeError);
  t.is(revived.errors[0].message, 'one');
  t.is(revived.errors[1], 'two');
  t.is(revived.errors[2].code, 'E3');
  t.false(Object.keys(revived).includes('errors'));
});

test('each own property travels on its own: an uncloneable one drops only itself', (t) => {
  const thrown = Object.assign(new Error('failed'), {
    code: 'E_FAILED',
    status: 503,
    details: { retry: true, at: [1, 2] },
    callback: () => 'not cloneable',
    marker: Symbol('not cloneable either'),
    handles: new WeakMap(),
  });
  Object.defineProperty(thrown, 'hostile', {
    enumerable: true,
    get() {
      throw new Error('a getter that throws');
    },
  });
  const revived = roundTrip(thrown) as Error & Record<string, unknown>;
  t.is(revived.code, 'E_FAILED');
  t.is(revived.status, 503);
  t.deepEqual(revived.details, { retry: true, at: [1, 2] });
  for (const dropped of ['callback', 'marker', 'handles', 'hostile']) t.false(dropped in revived, dropped);
  t.is(revived.message, 'failed');
  t.is(revived.stack, thrown.stack);
});

test('an error held in a property is transported like the error itself', (t) => {
  const inner = Object.assign(new SyntaxError('bad token'), { name: 'ParseError', line: 3 });
  const revived = roundTrip(Object.assign(new Error('outer'), { original: inner })) as Error & { original: SyntaxError & { line: number } };
  t.true(revived.original instanceof SyntaxError);
  t.is(revived.original.name, 'ParseError');
  t.is(revived.original.line, 3);
});

test('a property named __proto__ is a property, not a prototype', (t) => {
  const thrown = new Error('x');
  Object.defineProperty(thrown, '__proto__', { value: { polluted: true }, enumerable: true, writable: true, configurable: true });
  const revived = roundTrip(thrown) as Error;
  t.is(Object.getPrototypeOf(revived), Error.prototype);
  t.deepEqual(Object.getOwnPropertyDescriptor(revived, '__proto__')?.value, { polluted: true });
});

test('a DOMException comes back as a DOMException', (t) => {
  const revived = roundTrip(new DOMException('stopped', 'AbortError')) as DOMException;
  t.true(revived instanceof DOMException);
  t.is(revived.name, 'AbortError');
  t.is(revived.code, DOMException.ABORT_ERR);
  t.is(revived.message, 'stopped');
});

test('a thrown value that is not an Error comes back as a clone; one that cannot be cloned as a TypeError', (t) => {
  t.deepEqual(roundTrip({ reason: 'no', list: [1] }), { reason: 'no', list: [1] });
  t.is(roundTrip('plain string'), 'plain string');
  t.is(roundTrip(undefined), undefined);
  const uncloneable = roundTrip(() => 1) as Error;
  t.true(uncloneable instanceof TypeError);
  t.regex(uncloneable.message, /cannot be cloned/);
});

test('a Proxy posing as an Error, whose every read throws, is still transported', (t) => {
  const hostile = new Proxy(new Error('hidden'), {
    get() {
      throw new Error('no reads');
    },
    ownKeys() {
      throw new Error('no keys');
    },
    getOwnPropertyDescriptor() {
      throw new Error('no descriptors');
    },
  });
  const revived = roundTrip(hostile);
  t.true(revived instanceof Error);
});

test('whatever is thrown, its transported form can be posted', (t) => {
  let runs = 0;
  fc.assert(
    fc.property(anyValue, fc.dictionary(fc.constantFrom('code', 'detail', 'extra', 'cause'), anyValue, { maxKeys: 3 }), (cause, properties) => {
      const thrown = Object.assign(new Error('generated', { cause }), properties);
      const transported = transportable(thrown);
      const revived = revive(post(transportable(thrown))) as Error;
      runs++;
      return isTransported(transported) && revived instanceof Error && revived.message === 'generated';
    }),
    { ...ciSeed, numRuns: 300 },
  );
  t.is(runs, 300, 'every generated error was transported and revived');
});

test('message helpers name the job and keep the cause', (t) => {
  let cloneError: unknown;
  try {
    structuredClone(() => 1);
  } catch (error) {
    cloneError = error;
  }
  t.true(isCloneError(cloneError));
  t.false(isCloneError(new Error('x')));
  const notCloned = notCloneable(7, cloneError as Error);
  t.is(notCloned.name, 'DataCloneError');
  t.regex(notCloned.message, /job 7/);
  t.is(notCloned.cause, cloneError);
  const exited = workerExited(8, new Error('worker exited with code 1'));
  t.regex(exited.message, /job 8.*worker exited with code 1/);
  t.false(isTransported(exited));
  t.false(isTransported(null));
});

// ---- results ---------------------------------------------------------------------------------

test('primitives, binary data and small plain objects and arrays pass without a clone', (t) => {
  for (const value of [1, 'a', null, undefined, true, 10n, -0]) t.is(prepareResult(value), value);
  const bytes = new Uint8Array([1, 2, 3]);
  t.is(prepareResult(bytes), bytes);
  // Plain objects and arrays go as a shallow copy read once: their items are the very same (a
  // clone would have copied the bytes).
  const object = { a: 1, b: 'two', bytes };
  const preparedObject = prepareResult(object) as typeof object;
  t.deepEqual(preparedObject, object);
  t.is(preparedObject.bytes, bytes);
  const array = [1, 'two', bytes];
  const preparedArray = prepareResult(array) as unknown[];
  t.deepEqual(preparedArray, array);
  t.is(preparedArray[2], bytes);
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, bytes });
  t.is(prepareResult(bare), bare, 'no prototype: looked at, not copied');
});

test('an array with an uncloneable value in a named property gives a DataCloneError', (t) => {
  for (const named of [() => 1, Symbol('s'), new WeakMap(), Promise.resolve()]) {
    const array = Object.assign([1, 2, 3], { extra: named });
    const error = refusal(array);
    t.is(error.name, 'DataCloneError');
    t.regex(error.message, /result could not be cloned/);
  }
});

test('a result with an accessor is read once, and what is posted holds only data', (t) => {
  let reads = 0;
  const object = {
    get value() {
      return ++reads === 1 ? 'plain' : () => 'a function on the second read';
    },
  };
  const prepared = prepareResult(object);
  t.deepEqual(post(prepared), { value: 'plain' });
  t.is(reads, 1);

  let indexReads = 0;
  const array = [0];
  Object.defineProperty(array, 0, { enumerable: true, get: () => (++indexReads === 1 ? 'plain' : Symbol('second')) });
  t.deepEqual(post(prepareResult(array)), ['plain']);
  t.is(indexReads, 1);
});

test('a result whose getter throws fails with that error, not a clone error', (t) => {
  const result = {
    get then() {
      throw new Error('then getter threw');
    },
  };
  const error = refusal(result);
  t.is(error.message, 'then getter threw');
});

test('results structured clone refuses give a DataCloneError instead of a throw at posting time', (t) => {
  const detached = new ArrayBuffer(8);
  const detachedView = new Uint8Array(detached);
  structuredClone(detached, { transfer: [detached] });
  function argumentsOf(..._: unknown[]) {
    // eslint-disable-next-line prefer-rest-params
    return arguments;
  }
  const cases: unknown[] = [
    () => 1,
    Symbol('s'),
    new Proxy({ a: 1 }, {}),
    new Proxy([1], {}),
    detached,
    detachedView,
    { nested: { fn: () => 1 } },
    argumentsOf(1, 2),
  ];
  for (const result of cases) t.is(refusal(result).name, 'DataCloneError', String(typeof result));
  t.is(refusal(move(detached)).name, 'DataCloneError', 'a move()d buffer already detached');
});

test('a move()d result goes as it is, for Piscina to transfer', (t) => {
  const moved = move(new Uint8Array(16));
  t.is(prepareResult(moved), moved);
});

test('what prepareResult lets through posts and clones exactly like the result itself', (t) => {
  let runs = 0;
  fc.assert(
    fc.property(anyValue, (value) => {
      let expected: unknown;
      let cloneable = true;
      try {
        expected = structuredClone(value);
      } catch {
        cloneable = false;
      }
      let prepared: unknown;
      try {
        prepared = prepareResult(value);
      } catch (thrown) {
        return isTransported(thrown) && !cloneable;
      }
      runs++;
      return cloneable && isDeepStrictEqual(structuredClone(prepared), expected);
    }),
    { ...ciSeed, numRuns: 1000 },
  );
  t.true(runs > 0, 'some generated results passed prepareResult and were compared');
});

// ---- stored results --------------------------------------------------------------------------

test('isStorable takes plain data, nested', (t) => {
  for (const value of [1, 'a', null, undefined, 5n, { a: [1, { b: 'c' }] }, Object.assign([1, 2], { named: 'x' }), Object.create(null)]) {
    t.true(isStorable(value), JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
  }
});

test('isStorable refuses what v8.serialize would not give back as postMessage does', (t) => {
  const accessor = Object.defineProperty({}, 'a', { enumerable: true, get: () => 1 });
  const cases: [string, unknown][] = [
    ['a Buffer in a named property of an array', Object.assign([1], { buffer: Buffer.from('ab') })],
    ['a Buffer', Buffer.from('ab')],
    ['a Uint8Array in an object', { bytes: new Uint8Array(2) }],
    ['an ArrayBuffer', new ArrayBuffer(2)],
    ['a SharedArrayBuffer', new SharedArrayBuffer(2)],
    ['a Proxy', new Proxy({}, {})],
    ['a Proxy of an array', new Proxy([1], {})],
    ['an accessor property', accessor],
    ['an accessor index', Object.defineProperty([0], 0, { enumerable: true, get: () => 1 })],
    ['a class instance', new (class Point {})()],
    ['a Map', new Map()],
    ['a Date', new Date()],
    ['a Uint8Array dressed as a plain object', Object.setPrototypeOf(new Uint8Array(2), Object.prototype)],
    ['a cycle', (() => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      return cycle;
    })()],
  ];
  for (const [what, value] of cases) t.false(isStorable(value), what);
});

test('whatever isStorable accepts, v8.deserialize(v8.serialize(x)) equals structuredClone(x)', (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(anyValue, (value) => {
      if (!isStorable(value)) return true;
      accepted++;
      return isDeepStrictEqual(deserialize(serialize(value)), structuredClone(value));
    }),
    { ...ciSeed, numRuns: 2000 },
  );
  t.true(accepted > 200, `only ${accepted} generated values were storable`);
});

// ---- generated values ------------------------------------------------------------------------

/**
 * Values of every structured-clone kind and some that are refused: binary data (Buffers too)
 * anywhere, arrays with named properties, sparse arrays, null-prototype objects, class instances,
 * shared references and cycles, Proxies, accessors (that answer the same on every read), functions
 * and symbols.
 */
const key = fc.constantFrom('a', 'b', 'c', 'x1', '0', '7');
const namedKey = fc.constantFrom('named', 'extra', 'buffer', 'x1');

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Infinity),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.uint8Array({ maxLength: 4 }).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ maxLength: 4 }),
  fc.float64Array({ maxLength: 2 }),
  fc.uint8Array({ maxLength: 4 }).map((bytes) => bytes.buffer),
  fc.uint8Array({ maxLength: 4 }).map((bytes) => new DataView(bytes.buffer)),
  fc.date({ noInvalidDate: true }),
  fc.constantFrom<unknown>(
    /x+/g,
    new Number(3),
    new String('boxed'),
    new TypeError('cloned error'),
    new SharedArrayBuffer(4),
    () => 'function',
    Symbol('symbol'),
    new WeakMap(),
  ),
);

const { value: anyValue } = fc.letrec<{ value: unknown; container: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('container')),
  container: fc.oneof(
    fc.array(tie('value'), { maxLength: 4 }),
    fc.sparseArray(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 3 }).map((entries) => Object.assign(Object.create(null) as object, entries)),
    fc
      .tuple(fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(namedKey, tie('value'), { minKeys: 1, maxKeys: 2 }))
      .map(([items, named]) => Object.assign(items, named)),
    fc.tuple(key, tie('value')).map(([name, value]) => Object.defineProperty({}, name, { enumerable: true, get: () => value })),
    tie('value').map((value) => new Proxy({ value }, {})),
    tie('value').map((value) => Object.assign(new (class Point {})(), { value })),
    tie('value').map((value) => new Map([['k', value]])),
    tie('value').map((value) => new Set([value])),
    tie('value').map((value) => [value, value]),
    tie('value').map((value) => ({ left: value, right: value })),
    tie('value').map((value) => {
      const cycle: Record<string, unknown> = { value };
      cycle.self = cycle;
      return cycle;
    }),
  ),
}));
