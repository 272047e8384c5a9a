/**
 * Every job comes back exactly as it would alone: errors with their class, `cause`, `errors` and
 * own properties, and results that cannot be cloned fail their own job only, with the thread kept.
 * Real worker threads, through the public API; the unit tests of src/thread/replies.ts, which
 * does the work, are in replies.test.ts.
 */
import test from 'ava';
import { Pool } from '../src/index.js';

const fidelityModule = new URL('./fixtures/fidelity.ts', import.meta.url);

function fidelityPool(): Pool {
  return new Pool({ filename: fidelityModule, maxThreads: 1 });
}

async function rejection(pool: Pool, name: string): Promise<Error & Record<string, unknown>> {
  const outcome = await pool.submit(null, { name }).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error(`job ${name} did not reject with an Error`);
  return outcome as Error & Record<string, unknown>;
}

test('an error comes back with its name, message, stack, cause chain and cloneable own properties', async (t) => {
  const pool = fidelityPool();
  const error = await rejection(pool, 'failWithDetails');
  t.is(error.name, 'HttpError');
  t.is(error.message, 'upstream unavailable');
  t.regex(error.stack ?? '', /failWithDetails/);
  t.is(error.status, 503);
  t.is(error.code, 'E_UNAVAILABLE', 'a function-valued property beside it drops only itself');
  t.false('retry' in error);
  const cause = error.cause as TypeError & { cause: unknown };
  t.true(cause instanceof TypeError);
  t.is(cause.message, 'socket closed');
  t.deepEqual(cause.cause, { host: 'example.org', attempts: [1, 2, 3] });
  await pool.close();
});

test('an AggregateError comes back with its errors', async (t) => {
  const pool = fidelityPool();
  const error = (await rejection(pool, 'failAggregate')) as unknown as AggregateError;
  t.true(error instanceof AggregateError);
  t.is(error.message, 'all failed');
  t.true(error.errors[0] instanceof RangeError);
  t.is(error.errors[1].code, 'E2');
  t.is(error.errors[2], 'third');
  await pool.close();
});

test('an error whose causes form a cycle comes back, cycle included', async (t) => {
  const pool = fidelityPool();
  const error = await rejection(pool, 'failCyclic');
  const second = error.cause as Error;
  t.is(second.message, 'second');
  t.is(second.cause, error);
  await pool.close();
});

for (const name of ['arrayWithNamedFunction', 'arrayWithNamedSymbol']) {
  test(`${name}: a result that cannot be cloned rejects its job with a DataCloneError and keeps the thread`, async (t) => {
    const pool = fidelityPool();
    const before = await pool.submit<number>(null, { name: 'thread' });
    const error = await rejection(pool, name);
    t.is(error.name, 'DataCloneError');
    t.regex(error.message, /could not be cloned/);
    t.is(await pool.submit<number>(null, { name: 'thread' }), before, 'the same thread ran the next job');
    await pool.close();
  });
}

test('a result whose getter turns into a function on its second read fails neither the job nor the thread', async (t) => {
  const pool = fidelityPool();
  const before = await pool.submit<number>(null, { name: 'thread' });
  t.deepEqual(await pool.submit(null, { name: 'getterTurnsFunction' }), { value: 'plain' });
  t.is(await pool.submit<number>(null, { name: 'thread' }), before);
  await pool.close();
});

test('a result whose then getter throws rejects its job with that error', async (t) => {
  const pool = fidelityPool();
  const before = await pool.submit<number>(null, { name: 'thread' });
  const error = await rejection(pool, 'throwingThen');
  t.is(error.message, 'the then getter threw');
  t.is(await pool.submit<number>(null, { name: 'thread' }), before);
  await pool.close();
});

test('a Buffer in a named property of an array result comes back as a Uint8Array, whether the job is batched or not', async (t) => {
  const pool = new Pool({ filename: fidelityModule, maxThreads: 2 });
  // Enough brief jobs of one export for the executor to start sending them several to a task.
  const results = await Promise.all(Array.from({ length: 200 }, (_, n) => pool.submit<number[] & { bytes: Uint8Array }>(n, { name: 'bufferInNamedProperty' })));
  for (const [n, result] of results.entries()) {
    t.is(result[0], n);
    if (Object.getPrototypeOf(result.bytes) !== Uint8Array.prototype) {
      t.fail(`job ${n}: ${result.bytes.constructor.name} instead of Uint8Array`);
      break;
    }
  }
  await pool.close();
});
