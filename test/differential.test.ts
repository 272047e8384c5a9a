/**
 * Differential property test: every job comes back exactly as it would alone. The same generated
 * jobs run alone (a pool of one thread at `concurrency: 1`, each submitted once the one before it
 * settled, so nothing is ever batched) and batched (a pool whose export reads brief, all of them
 * submitted at once while paused), and their outcomes must be identical: status, and the value
 * with its exact types (Uint8Array vs Buffer, -0, NaN, prototypes, holes, named properties of
 * arrays, shared references and cycles) or the error's name, message, class and what it carries.
 *
 * Values: every structured-clone kind (primitives, -0, NaN, BigInt, strings with lone surrogates,
 * Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView, Buffers inside containers, boxed
 * primitives, arrays with holes and named properties, null-prototype objects, shared references,
 * cycles, errors). Results are built from them in the worker by recipes (fixtures/differential.ts),
 * hostile ones included (Proxies, getters, functions in named properties, a throwing `then`).
 * Some inputs are given to several jobs at once, among them jobs that mutate their input.
 *
 * Which jobs shared a task is read from the fixture's log (test/fixtures/batch.ts's layout); the
 * lone pool must never batch, and at least half the runs must have batched some jobs.
 *
 * Alone is a reference only as good as the lone path, which shares code with the batched one (a
 * small plain result waits in shared memory either way): so each lone outcome is also compared
 * with the recipe run on the main thread on a clone of its input and structured-cloned (errors by
 * name only, since the pool carries more of an error than a clone would). And no job may change
 * the submitter's input object.
 *
 * Checked to fail when batch-mates share one clone of an input given to several jobs (the
 * per-job structuredClone in the thread executor's #post removed by hand).
 */
import test from 'ava';
import fc from 'fast-check';
import { types } from 'node:util';
import { Pool, type JobHandle } from '../src/index.js';
import { batches, newLog } from './fixtures/batch.js';
import type { Job, Recipe } from './fixtures/differential.js';
import { build } from './fixtures/differential-recipes.js';
import { ciSeed } from './helpers.js';

const differentialWorker = new URL('./fixtures/differential.ts', import.meta.url);
/** Exports of the fixture, all the same function: a fresh one per run (see the fixture). */
const exportCount = 400;
const numRuns = 150;

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

const bytes = fc.uint8Array({ maxLength: 12 });

const binary: fc.Arbitrary<unknown> = fc.oneof(
  bytes.map((b) => b.buffer.slice(0)),
  bytes,
  bytes.map((b) => Buffer.from(b)),
  bytes.map((b) => new Int16Array(b.buffer.slice(0, b.byteLength - (b.byteLength % 2)))),
  fc.array(fc.double(), { maxLength: 3 }).map((values) => Float64Array.from(values)),
  fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 3 }).map((values) => BigInt64Array.from(values)),
  bytes.map((b) => new DataView(b.buffer, Math.min(1, b.byteLength))),
  // A view into part of a larger buffer: the clone keeps the whole buffer and the offset.
  bytes.map((b) => new Uint8Array(b.buffer, Math.min(2, b.byteLength), Math.max(0, b.byteLength - 3))),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, NaN, Infinity, -Infinity, 2 ** 53 + 2, Number.MIN_VALUE),
  fc.bigInt(),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('\ud800', 'a\udc00b', '\udfff\ud800', '😀', ''),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.oneof(fc.integer({ min: -1e12, max: 1e12 }), fc.constant(NaN)).map((time) => new Date(time)),
  fc.constantFrom(/a+/gi, /x/y, /(?<name>b)\1/su, /\//, new RegExp('[\\p{L}--[a-z]]', 'v')).map((regexp) => new RegExp(regexp.source, regexp.flags)),
  binary,
  fc.oneof(fc.double(), fc.string({ maxLength: 3 }), fc.boolean(), fc.bigInt()).map((value) => Object(value) as object),
  fc
    .tuple(fc.constantFrom(Error, TypeError, RangeError, SyntaxError, EvalError, URIError, ReferenceError), fc.string({ maxLength: 6 }))
    .map(([ErrorClass, message]) => new ErrorClass(message)),
);

const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', 'then', 'length', '0', '-1'));

const { value: valueArbitrary } = fc.letrec<{ value: unknown; container: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('container')),
  container: fc.oneof(
    fc.array(tie('value'), { maxLength: 4 }),
    // Holes and named properties.
    fc.tuple(fc.array(tie('value'), { maxLength: 4 }), fc.nat(4), key, tie('value')).map(([array, hole, name, named]) => {
      const copy = [...array];
      copy.length = Math.max(copy.length, hole + 1);
      delete copy[hole];
      if (!/^\d+$/.test(name) && name !== 'length') Object.defineProperty(copy, name, { value: named, enumerable: true, writable: true, configurable: true });
      return copy;
    }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((entries) => {
      const object: Record<string, unknown> = {};
      for (const [name, value] of entries) Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true });
      return object;
    }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }).map((entries) => {
      const object = Object.create(null) as Record<string, unknown>;
      for (const [name, value] of entries) object[name] = value;
      return object;
    }),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(tie('value'), { maxLength: 3 }).map((values) => new Set(values)),
    // Shared references: one object in two places.
    tie('container').map((shared) => ({ first: shared, second: [shared], third: new Map([['again', shared]]) })),
    // Cycles through an object, an array, a Map and a Set.
    tie('value').map((inner) => {
      const object: Record<string, unknown> = { inner };
      object.self = object;
      const array: unknown[] = [object];
      array.push(array);
      const map = new Map<unknown, unknown>([['array', array]]);
      map.set(map, map);
      const set = new Set<unknown>([map]);
      set.add(set);
      object.set = set;
      return object;
    }),
    // An error carrying values.
    fc.tuple(fc.string({ maxLength: 4 }), tie('value')).map(([message, detail]) => Object.assign(new RangeError(message), { detail })),
  ),
}));

// ---------------------------------------------------------------------------------------------
// A description of a value with its exact types, identical for identical structured clones
// ---------------------------------------------------------------------------------------------

function describe(value: unknown, seen = new Map<object, number>()): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? 'number -0' : `number ${String(value)}`;
    case 'bigint':
      return `bigint ${value}n`;
    case 'string':
      return `string ${JSON.stringify(value)}`;
    case 'undefined':
    case 'boolean':
      return String(value);
    case 'symbol':
      return `symbol ${String(value.description)}`;
    case 'function':
      return `function ${value.name}`;
  }
  if (value === null) return 'null';
  const object = value as object;
  const known = seen.get(object);
  if (known !== undefined) return `#${known}`;
  const id = seen.size;
  seen.set(object, id);
  if (types.isProxy(object)) return `&${id} Proxy`;
  const prototype = Object.getPrototypeOf(object) as { constructor?: { name?: string } } | null;
  const kind = prototype === null ? 'null-prototype' : (Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value as { name?: string } | undefined)?.name ?? '?';
  const parts: string[] = [];
  if (object instanceof ArrayBuffer) parts.push(object.byteLength === Buffer.poolSize ? 'a pooled slab' : `bytes ${Buffer.from(object).toString('hex')}`);
  else if (ArrayBuffer.isView(object)) {
    // A Buffer from Node's pool is a view into an 8 KiB slab, which a clone carries whole: where
    // in it the view sits, what else the slab holds and which Buffers share it (a new slab starts
    // when one fills up) is the thread's allocation history.
    const pooled = object.buffer.byteLength === Buffer.poolSize;
    const view = Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('hex');
    parts.push(pooled ? `bytes ${view} in a pooled slab` : `offset ${object.byteOffset} bytes ${view} buffer ${describe(object.buffer, seen)}`);
  }
  else if (types.isDate(object)) parts.push(`time ${String((object as Date).getTime())}`);
  else if (types.isRegExp(object)) parts.push(`${String(object)} lastIndex ${(object as RegExp).lastIndex}`);
  else if (types.isMap(object)) for (const [k, v] of object as Map<unknown, unknown>) parts.push(`${describe(k, seen)} => ${describe(v, seen)}`);
  else if (types.isSet(object)) for (const v of object as Set<unknown>) parts.push(describe(v, seen));
  else if (types.isBoxedPrimitive(object)) parts.push(`boxed ${describe((object as { valueOf(): unknown }).valueOf(), seen)}`);
  else if (types.isNativeError(object) || object instanceof Error) {
    const error = object as Error;
    parts.push(`name ${JSON.stringify(error.name)} message ${JSON.stringify(error.message)}`);
    if (Object.hasOwn(error, 'cause')) parts.push(`cause ${describe(error.cause, seen)}`);
    if (Object.hasOwn(error, 'errors')) parts.push(`errors ${describe((error as AggregateError).errors, seen)}`);
  }
  if (Array.isArray(object)) parts.push(`length ${object.length}`);
  // Own properties, in order, data or accessor, enumerable or not (an error's stack aside).
  for (const name of Reflect.ownKeys(object)) {
    if (name === 'stack' || ((types.isNativeError(object) || object instanceof Error) && (name === 'cause' || name === 'errors'))) continue;
    if (Array.isArray(object) && name === 'length') continue;
    const descriptor = Object.getOwnPropertyDescriptor(object, name)!;
    const flags = `${descriptor.enumerable === true ? '' : '(hidden)'}`;
    if ('value' in descriptor) parts.push(`${String(name)}${flags}: ${describe(descriptor.value, seen)}`);
    else parts.push(`${String(name)}${flags}: accessor`);
  }
  return `&${id} ${kind} {${parts.join(', ')}}`;
}

/** A job's outcome, described: its status, and its value or error. */
function outcomeOf(handle: JobHandle): string {
  const outcome = handle.outcome;
  if (outcome === undefined) return `unsettled (${handle.state})`;
  if (outcome.status === 'fulfilled') return `fulfilled ${describe(outcome.value)}`;
  // Job ids differ between the two pools.
  return `${handle.state} ${describe(outcome.reason).replace(/\bjob \d+\b/g, 'job N')}`;
}

/** Coarser, for the comparison with the main thread: an error by its name only. */
function coarseOutcomeOf(status: 'fulfilled' | 'rejected', value: unknown): string {
  if (status === 'fulfilled') return `fulfilled ${describe(value)}`;
  return value instanceof Error ? `rejected an error named ${value.name}` : `rejected ${describe(value)}`;
}

/**
 * The reference: the job's recipe called on the main thread with a clone of its input, its result
 * read as the pool reads it (a `then` getter once) and structured-cloned, as posting it would.
 */
function referenceOutcome(input: Job): string | undefined {
  // A getter that returns a function on its second read: the thread reads a result's properties
  // once to check them and the clone reads them again, so it fails with a DataCloneError (what
  // issue 9 asks for), where one clone on the main thread would read it once.
  if (input.recipe === 'functionOnSecondRead') return undefined;
  let result: unknown;
  try {
    result = build(input.recipe, structuredClone(input.value));
    if (typeof result === 'object' && result !== null) void (result as { then?: unknown }).then;
    return coarseOutcomeOf('fulfilled', structuredClone(result));
  } catch (error) {
    return coarseOutcomeOf('rejected', error);
  }
}

// ---------------------------------------------------------------------------------------------
// The jobs of a run
// ---------------------------------------------------------------------------------------------

interface Plan {
  value: unknown;
  recipe: Recipe;
  /** How many jobs are given this very input object (1: a job of its own). */
  copies: number;
}

// Listed here rather than imported: the fixture turns on promise hooks wherever it loads.
const recipes: readonly Recipe[] = [
  'echo',
  'echoLater',
  'mutate',
  'wrap',
  'cycle',
  'bare',
  'namedBuffer',
  'buffer',
  'proxy',
  'getter',
  'throwingGetter',
  'namedFunction',
  'functionOnSecondRead',
  'throwingThen',
  'throwError',
  'throwAggregate',
  'throwValue',
];

/**
 * Plain data: what a batched job's result may wait in shared memory as (v8.serialize), so that the
 * jobs after it in its batch run too. A result that cannot, or a job that throws, ends its batch.
 */
const plainArbitrary: fc.Arbitrary<unknown> = fc.letrec<{ plain: unknown }>((tie) => ({
  plain: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, NaN), fc.bigInt(), fc.string({ unit: 'binary', maxLength: 4 }), fc.boolean(), fc.constant(null), fc.constant(undefined)),
    fc.array(tie('plain'), { maxLength: 3 }),
    fc.dictionary(key, tie('plain'), { maxKeys: 3 }),
  ),
})).plain;

const planArbitrary: fc.Arbitrary<Plan> = fc.record({
  value: fc.oneof(valueArbitrary, plainArbitrary),
  recipe: fc.oneof({ weight: 3, arbitrary: fc.constantFrom<Recipe>('echo', 'mutate') }, { weight: 4, arbitrary: fc.constantFrom(...recipes) }),
  copies: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 4 }) }),
});

/** The jobs' inputs, in order: each plan's input object given `copies` times, interleaved. */
function inputsOf(plans: Plan[], log: Int32Array): Job[] {
  const objects = plans.map((plan) => ({ log, recipe: plan.recipe, value: plan.value }) satisfies Job);
  const inputs: Job[] = [];
  for (let round = 0; round < 4; round++) plans.forEach((plan, index) => round < plan.copies && inputs.push(objects[index]!));
  return inputs;
}

function settledOutcome(handle: JobHandle): Promise<void> {
  return new Promise((resolve) => handle.onDone(() => resolve()));
}

test('every job comes back exactly as it would alone: batched and alone, the same outcomes over generated values', async (t) => {
  t.timeout(120_000);
  const alone = new Pool({ filename: differentialWorker, maxThreads: 1, minThreads: 1, concurrency: 1 });
  const batched = new Pool({ filename: differentialWorker, maxThreads: 2, minThreads: 2 });
  let nextExport = 0;
  let run = 0;
  let runsBatched = 0;
  let jobsCompared = 0;
  let jobsBatched = 0;
  try {
    await fc.assert(
      // Groups of jobs, each of an export of its own: a batch carries jobs of one export, and an
      // export whose result could not wait in shared memory is never batched again.
      fc.asyncProperty(fc.array(fc.array(planArbitrary, { minLength: 2, maxLength: 6 }), { minLength: 1, maxLength: 3 }), async (groups) => {
        const names = groups.map(() => `e${nextExport++ % exportCount}`);
        // Fresh exports, warmed until they read brief (five of their last eight jobs brief).
        for (const name of names) {
          for (let index = 0; index < 8; index++) await batched.submit({ log: newLog(1), recipe: 'echo', value: index } satisfies Job, { name });
        }
        run++;
        const jobsOf = (log: Int32Array) => groups.flatMap((plans, group) => inputsOf(plans, log).map((input) => ({ input, name: names[group]! })));

        const aloneLog = newLog(96);
        const aloneJobs = jobsOf(aloneLog);
        const before = aloneJobs.map(({ input }) => describe(input.value));
        const aloneOutcomes: string[] = [];
        for (const [index, { input, name }] of aloneJobs.entries()) {
          const handle = alone.submit(input, { name });
          await settledOutcome(handle);
          aloneOutcomes.push(outcomeOf(handle));
          // Alone, a job comes back as its recipe's result would on the main thread.
          const coarse = coarseOutcomeOf(handle.outcome!.status, handle.outcome!.status === 'fulfilled' ? handle.outcome!.value : handle.outcome!.reason);
          const reference = referenceOutcome(input);
          if (reference !== undefined && coarse !== reference) {
            throw new Error(`job ${index} (recipe ${input.recipe}, input ${describe(input.value)}):\n  main thread: ${reference}\n  alone:       ${coarse}`);
          }
        }

        const batchedLog = newLog(96);
        const batchedJobs = jobsOf(batchedLog);
        batched.pause();
        const handles = batchedJobs.map(({ input, name }) => batched.submit(input, { name }));
        batched.resume();
        await Promise.all(handles.map(settledOutcome));
        const batchedOutcomes = handles.map(outcomeOf);

        const count = batchedJobs.length;
        if ([...batches(aloneLog, count).values()].some((jobs) => jobs.length > 1)) throw new Error('jobs of the lone pool shared a task');
        const shared = [...batches(batchedLog, count).values()].filter((jobs) => jobs.length > 1).reduce((sum, jobs) => sum + jobs.length, 0);
        if (shared > 0) runsBatched++;
        jobsBatched += shared;
        jobsCompared += count;
        for (let index = 0; index < count; index++) {
          if (batchedOutcomes[index] !== aloneOutcomes[index]) {
            const input = batchedJobs[index]!.input;
            throw new Error(`job ${index} (recipe ${input.recipe}, input ${describe(input.value)}):\n  alone:   ${aloneOutcomes[index]}\n  batched: ${batchedOutcomes[index]}`);
          }
        }
        const after = aloneJobs.map(({ input }) => describe(input.value));
        if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error("a job changed the submitter's input object");
      }),
      { numRuns, includeErrorInReport: true, ...ciSeed },
    );
  } finally {
    await Promise.all([alone.close(), batched.close()]);
  }
  t.log(`${jobsCompared} jobs compared, ${jobsBatched} of them sent with others; ${runsBatched} of ${run} runs had jobs sharing a task`);
  t.true(runsBatched >= run / 2, `only ${runsBatched} of ${run} runs batched any jobs`);
});
