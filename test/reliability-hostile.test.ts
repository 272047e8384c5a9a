// Hostile input: option values of every kind, inputs that cannot be cloned, huge, cyclic or with
// throwing getters, results that cannot travel back. Each is either accepted and settles, or
// refused with a TypeError/RangeError naming the option; only the handle concerned ever fails,
// nothing hangs, nothing crashes.
import { availableParallelism } from 'node:os';
import test from 'ava';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JobHandle, move, Pool, type SubmitOptions } from '../src/index.js';
import { faultsWorker, Ledger, settled, unlessHung, warmUp, watchProcess } from './fixtures/fault-harness.js';
import { ciSeed } from './helpers.js';

class TaggedHandle extends JobHandle {
  readonly tag = 'tagged';
}

const messageNames = (error: unknown, names: readonly string[]): boolean =>
  error instanceof Error && names.some((name) => error.message.includes(name));

/** Numbers a careless caller might pass, and values of the wrong type. */
const numberLike = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 0.5, -0, 1.5, 2 ** 31, Number.MAX_VALUE) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>('2', '', true, null, {}, [], () => 1, Symbol('s'), 2n),
  },
);
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 3 });

/** What each option of `new Pool` may be given: valid values often, anything else sometimes. */
const poolOptionValues: Record<string, fc.Arbitrary<unknown>> = {
  filename: fc.constantFrom<unknown>(faultsWorker, faultsWorker.href, fileURLToPath(faultsWorker), 'faults.ts', '/no/such/worker.js', '', 42, null, undefined),
  run: fc.constantFrom<unknown>(async (input: unknown) => input, 'run', null, undefined),
  concurrency: numberLike,
  abortGrace: numberLike,
  idleTimeout: numberLike,
  maxThreads: numberLike,
  minThreads: numberLike,
  concurrentTasksPerWorker: numberLike,
  Handle: fc.constantFrom<unknown>(JobHandle, TaggedHandle, class Unrelated {}, () => 1, 'Handle', null),
  maxQueue: fc.constantFrom<unknown>(10, 'auto', null, undefined),
  somethingElse: fc.anything({ maxDepth: 1 }),
};

/** A valid start (threads or in-process), with up to four options set to arbitrary values. */
const poolOptions = fc
  .tuple(
    fc.constantFrom<Record<string, unknown>>({ filename: faultsWorker, maxThreads: 1 }, { run: async (input: unknown) => input, concurrency: 2 }),
    fc.array(fc.oneof(...Object.entries(poolOptionValues).map(([key, value]) => fc.tuple(fc.constant(key), value))), { maxLength: 4 }),
  )
  .map(([base, changes]) => ({ ...base, ...Object.fromEntries(changes) }));

test.serial('inputs that cannot be cloned reject only their own handle, and the jobs around them fulfil', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 2 });
  const ledger = new Ledger(pool);
  const inputs: [string, unknown][] = [
    ['a function inside an object', { callback() {} }],
    ['a symbol', Symbol('not cloneable')],
    ['a WeakMap', new WeakMap()],
    ['a Proxy whose traps throw', new Proxy({}, { ownKeys: () => { throw new Error('ownKeys trap'); } })],
    ['a MessagePort not in the transferList', { port: new MessageChannel().port1 }],
  ];
  const jobs = inputs.map(([what, input], index) => ({
    what,
    before: ledger.add(pool.submit<number>(index, { name: 'echo' })),
    bad: ledger.add(pool.submit(input, { name: 'echo' })),
    after: ledger.add(pool.submit<number>(index + 100, { name: 'echo' })),
  }));
  for (const [index, job] of jobs.entries()) {
    const error = await t.throwsAsync(job.bad, undefined, job.what);
    t.true(error instanceof Error, job.what);
    t.true(error!.name === 'DataCloneError' || error!.name === 'TypeError', `${job.what}: ${error!.name}: ${error!.message}`);
    t.notRegex(error!.message, /exited/, job.what);
    t.is(await job.before, index);
    t.is(await job.after, index + 100);
  }
  await pool.close();
  const { threads, concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: 2 * inputs.length, rejected: inputs.length, cancelled: 0 });
  t.deepEqual(ledger.problems(), []);
});

test.serial('a 100 MB input reaches its worker whole, copied or moved, while small jobs go on around it', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 2 });
  const size = 100 * 2 ** 20;
  const copied = new Uint8Array(size).fill(7);
  const moved = new Uint8Array(size).fill(9);
  const small = Array.from({ length: 20 }, (_, index) => pool.submit<number>(index, { name: 'echo' }));
  const results = await Promise.all([
    pool.submit<number>(copied, { name: 'byteLength' }),
    pool.submit<number>(move(moved), { name: 'byteLength' }),
    Promise.all(small),
  ]);
  t.deepEqual(results, [size, size, [...Array(20).keys()]]);
  t.is(copied.byteLength, size, 'a copied input stays with the caller');
  t.is(moved.byteLength, 0, 'a moved input is transferred');
  await pool.close();
});

test.serial('cyclic inputs arrive with their cycles intact', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1 });
  const cyclic: { self?: unknown; list: unknown[] } = { list: [] };
  cyclic.self = cyclic;
  cyclic.list.push(cyclic);
  t.true(await pool.submit<boolean>(cyclic, { name: 'isCyclic' }));
  // Built by an input function at dispatch, too.
  t.true(await pool.submit<boolean>(() => cyclic, { name: 'isCyclic' }));
  const echoed = await pool.submit<{ self: unknown }>(cyclic, { name: 'echo' });
  t.is(echoed.self, echoed);
  await pool.close();
});

test.serial("an input whose getter throws rejects only its handle, with the getter's error and no talk of a worker exit", async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1 });
  const ledger = new Ledger(pool);
  const hostile = () => ({
    get value(): never {
      throw new Error('getter of the input threw');
    },
  });
  const direct = ledger.add(pool.submit(hostile(), { name: 'echo' }));
  const built = ledger.add(pool.submit(() => hostile(), { name: 'echo' }));
  const builtLater = ledger.add(pool.submit(async () => hostile(), { name: 'echo' }));
  const neighbour = ledger.add(pool.submit<number>(5, { name: 'echo' }));
  for (const handle of [direct, built, builtLater]) {
    const error = await t.throwsAsync(handle);
    t.regex(error!.message, /getter of the input threw/);
    t.notRegex(error!.message, /exited/);
  }
  t.is(await neighbour, 5);
  await pool.close();
  t.deepEqual(ledger.problems(), []);
});

test.serial('an input function that throws or rejects fails only its own handle, with its own error', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1, concurrency: 1 });
  const ledger = new Ledger(pool);
  class InputError extends Error {
    override name = 'InputError';
  }
  const throwing = ledger.add(pool.submit(() => { throw new InputError('no input for you'); }, { name: 'echo' }));
  const rejecting = ledger.add(pool.submit(() => Promise.reject(new InputError('no input later either')), { name: 'echo' }));
  const fine = ledger.add(pool.submit<number>(() => 3, { name: 'echo' }));
  t.is((await t.throwsAsync(throwing, { instanceOf: InputError }))!.message, 'no input for you');
  t.is((await t.throwsAsync(rejecting, { instanceOf: InputError }))!.message, 'no input later either');
  t.is(await fine, 3);
  await pool.close();
  const { threads, concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: 1, rejected: 2, cancelled: 0 });
  t.deepEqual(ledger.problems(), []);
});

test.serial('a result that cannot be cloned rejects only its handle, with a message that says so', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1 });
  const ledger = new Ledger(pool);
  const uncloneable = ledger.add(pool.submit(null, { name: 'uncloneableResult' }));
  const neighbours = Array.from({ length: 5 }, (_, index) => ledger.add(pool.submit<number>(index, { name: 'echo' })));
  const error = await t.throwsAsync(uncloneable);
  t.regex(error!.message, /clone/i);
  t.deepEqual(await Promise.all(neighbours), [0, 1, 2, 3, 4]);
  await pool.close();
  t.deepEqual(ledger.problems(), []);
});

test.serial("a result whose getter throws rejects only its handle, with the getter's message", async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1 });
  const ledger = new Ledger(pool);
  const hostile = ledger.add(pool.submit(null, { name: 'throwingGetterResult' }));
  const neighbours = Array.from({ length: 5 }, (_, index) => ledger.add(pool.submit<number>(index, { name: 'echo' })));
  const error = await t.throwsAsync(hostile);
  t.regex(error!.message, /a getter of the result threw/);
  t.deepEqual(await Promise.all(neighbours), [0, 1, 2, 3, 4]);
  await pool.close();
  t.deepEqual(ledger.problems(), []);
});

test.serial('a signal-like object that is not an AbortSignal is refused at submit, or works to the end, timeouts included', async (t) => {
  // In a child process: what is checked is that the process survives.
  const script = fileURLToPath(new URL('./fixtures/fault-look-alike-signal.ts', import.meta.url));
  const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
  });
  t.is(child.code, 0, child.stderr);
  const lines = child.stdout.trim().split('\n');
  t.is(lines.at(-1), 'survived', child.stderr);
  // Each job either ran (fulfilled, or timed out) or was refused at submit naming the signal.
  for (const line of lines.slice(0, -1)) t.regex(line, /^fulfilled |^TimeoutError: |^TypeError: .*signal/);
  t.notRegex(child.stderr, /unhandled|removeEventListener/i);
});

test.serial('maxThreads: NaN is refused with a RangeError naming maxThreads', (t) => {
  const error = t.throws(() => new Pool({ filename: faultsWorker, maxThreads: Number.NaN }));
  t.true(error instanceof RangeError || error instanceof TypeError, String(error));
  t.regex(error!.message, /maxThreads/);
});

test.serial('absurd thread counts start no more threads than needed: maxThreads 2 ** 31, or a minThreads above maxThreads', async (t) => {
  // lazypool starts every thread at once by default; it must not try to start 2 ** 31 of them.
  for (const options of [{ maxThreads: 2 ** 31 }, { maxThreads: 1, minThreads: 2 ** 31 }, { maxThreads: Number.MAX_VALUE }]) {
    const pool = new Pool({ filename: faultsWorker, ...options });
    t.is(await pool.submit<number>(7, { name: 'echo' }), 7, JSON.stringify(options));
    t.true(pool.stats.threads <= 16 || pool.stats.threads <= 4 * availableParallelism(), `${pool.stats.threads} threads for ${JSON.stringify(options)}`);
    await pool.close();
  }
});

test.serial('workerData that cannot be cloned is refused with an error naming workerData', (t) => {
  const error = t.throws(() => new Pool({ filename: faultsWorker, workerData: { callback() {} } }));
  t.true(error instanceof TypeError || error instanceof RangeError, String(error));
  t.regex(error!.message, /workerData/);
});

// The fuzzing comes last: a crash it finds ends this file, and should not hide the tests above.
test.serial('fast-check: new Pool options are accepted or refused with a TypeError or RangeError naming the option, and accepted pools run and close', async (t) => {
  t.timeout(120_000);
  const watch = watchProcess();
  const tally = { refused: 0, accepted: 0 };
  await fc.assert(
    fc.asyncProperty(poolOptions, async (options) => {
      let pool: Pool;
      try {
        pool = new Pool(options as never);
      } catch (error) {
        tally.refused++;
        const ok = (error instanceof TypeError || error instanceof RangeError) && messageNames(error, [...Object.keys(options), 'filename', 'run']);
        if (!ok) throw new Error(`refused with ${String(error)}`);
        return;
      }
      tally.accepted++;
      const handle = pool.submit(1, { name: 'echo' });
      handle.then(undefined, () => {});
      const Handle = (options as { Handle?: unknown }).Handle;
      if (!(handle instanceof (typeof Handle === 'function' ? (Handle as typeof JobHandle) : JobHandle))) {
        throw new Error('the handle is not an instance of the Handle option');
      }
      await unlessHung(pool.close(), `close() of a pool with ${JSON.stringify(options, (_, value) => (typeof value === 'function' || typeof value === 'bigint' ? String(value) : value))}`);
      if (handle.outcome === undefined) throw new Error(`the job is ${handle.state} after close()`);
    }),
    { numRuns: 150, endOnFailure: true, includeErrorInReport: true, ...ciSeed },
  );
  t.log(`150 option sets: ${tally.accepted} accepted (and closed), ${tally.refused} refused`);
  t.true(tally.accepted > 0 && tally.refused > 0);
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

/** What each submit option may be given; signals and transfer lists are built per run (a job uses them up). */
const submitOptionValues: Record<string, fc.Arbitrary<unknown>> = {
  name: fc.constantFrom<unknown>('echo', 'nap', 'missing', '', 'constructor', 42, null, {}),
  priority: numberLike,
  hold: fc.constantFrom<unknown>(true, false, 'yes', 1, null),
  transferList: fc.constantFrom<unknown>('empty', 'buffer', 'x', 'numbers', null),
  signal: fc.constantFrom<unknown>('fresh', 'aborted', 'aborts soon', 'look-alike', 'x', null, {}),
  timeout: numberLike,
  onProgress: fc.constantFrom<unknown>(() => {}, 'x', null),
  somethingElse: fc.anything({ maxDepth: 1 }),
};

function built(key: string, value: unknown): unknown {
  if (key === 'transferList') {
    return value === 'empty' ? [] : value === 'buffer' ? [new ArrayBuffer(8)] : value === 'numbers' ? [1, 2] : value;
  }
  if (key === 'signal') {
    if (value === 'fresh') return new AbortController().signal;
    if (value === 'aborted') return AbortSignal.abort('refused');
    if (value === 'aborts soon') return AbortSignal.timeout(1);
    if (value === 'look-alike') return { aborted: false, addEventListener() {} };
  }
  return value;
}

/** A valid start, with up to four options set to arbitrary values. */
const submitOptions = fc
  .tuple(
    fc.constantFrom<Record<string, unknown>>({ name: 'echo' }, { name: 'nap' }, {}),
    fc.array(fc.oneof(...Object.entries(submitOptionValues).map(([key, value]) => fc.tuple(fc.constant(key), value))), { maxLength: 4 }),
  )
  .map(([base, changes]) => ({ ...base, ...Object.fromEntries(changes.map(([key, value]) => [key, built(key, value)])) }));

test.serial('fast-check: submit options are accepted or refused with a TypeError or RangeError naming the option, and accepted jobs settle', async (t) => {
  t.timeout(120_000);
  const watch = watchProcess();
  const pool = new Pool({ filename: faultsWorker, maxThreads: 2 });
  const warmUpJobs = await warmUp(pool);
  const ledger = new Ledger(pool);
  const tally = { refused: 0, fulfilled: 0, rejected: 0, cancelled: 0 };
  await fc.assert(
    fc.asyncProperty(submitOptions, async (options) => {
      let handle: JobHandle;
      try {
        handle = pool.submit(options.name === 'nap' ? { ms: 1 } : 1, options as SubmitOptions);
      } catch (error) {
        tally.refused++;
        const ok = (error instanceof TypeError || error instanceof RangeError) && messageNames(error, [...Object.keys(options), 'options']);
        if (!ok) throw new Error(`refused with ${String(error)}`);
        return;
      }
      ledger.add(handle);
      handle.then(undefined, () => {});
      // Options are read once, at submit: handle.options is a copy holding every option given.
      if (handle.options === options || !isDeepStrictEqual(handle.options, options)) throw new Error('handle.options is not a copy of the options given');
      // Changing the object afterwards changes nothing: this export would end the thread.
      const given = options as Record<string, unknown>;
      const hadName = Object.hasOwn(given, 'name');
      const name = given.name;
      given.name = 'exitProcess';
      handle.start();
      try {
        await unlessHung(settled(handle), `a job with options ${JSON.stringify(options)}`);
      } finally {
        if (hadName) given.name = name;
        else delete given.name;
      }
      const reason = (handle.outcome as { reason?: Error } | undefined)?.reason;
      if (reason !== undefined && /exited/.test(String(reason.message))) throw new Error(`the options object was read after submit: ${reason.message}`);
      tally[handle.state as 'fulfilled' | 'rejected' | 'cancelled']++;
    }),
    { numRuns: 300, endOnFailure: true, includeErrorInReport: true, ...ciSeed },
  );
  t.log(`300 option sets: ${JSON.stringify(tally)}`);
  t.true(tally.refused > 0 && tally.fulfilled > 0);
  await pool.close();
  const { threads, concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { ...ledger.counts(), fulfilled: ledger.counts().fulfilled + warmUpJobs });
  t.deepEqual(ledger.problems(), []);
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});
