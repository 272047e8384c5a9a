// Jobs that wait for other jobs (`after`): a job is not dispatched until every dependency is
// fulfilled, its input function gets their results, a failure or a cancellation flows down as a
// DependencyError without the job ever running, and priority and promote() flow up to what it waits for.
import test from 'ava';
import { CancelledError, DependencyError, JobHandle, Pool } from '../src/index.js';
import { deferred, jobsModule } from './helpers.js';

/** An in-process pool whose jobs end when the test says: `finish(input, value)`. */
function manualPool(concurrency = 1) {
  const pending = new Map<unknown, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  const began: unknown[] = [];
  const pool = new Pool({
    concurrency,
    run: (input: unknown) => {
      began.push(input);
      const { promise, resolve, reject } = deferred();
      pending.set(input, { resolve, reject });
      return promise;
    },
  });
  const until = async (input: unknown) => {
    while (!pending.has(input)) await new Promise((resolve) => setImmediate(resolve));
    return pending.get(input)!;
  };
  return { pool, began, finish: async (input: unknown, value: unknown) => (await until(input)).resolve(value), fail: async (input: unknown, error: unknown) => (await until(input)).reject(error) };
}

test('a job waits, queued, until every dependency is fulfilled; its input function gets their results in order', async (t) => {
  const { pool, began, finish } = manualPool(4);
  const a = pool.submit('a');
  const b = pool.submit('b');
  const c = pool.submit((ra: unknown, rb: unknown) => `c(${String(ra)},${String(rb)})`, { after: [a, b] });
  t.is(c.state, 'queued');
  await finish('b', 'B');
  await b;
  t.is(c.state, 'queued');
  t.false(began.some((input) => typeof input === 'string' && input.startsWith('c(')));
  await finish('a', 'A');
  await finish('c(A,B)', 'done');
  t.is(await c, 'done');
  t.deepEqual(began, ['a', 'b', 'c(A,B)']);
  await pool.close();
});

test('a failed or cancelled dependency rejects its dependants, transitively, with a DependencyError, and none of them runs', async (t) => {
  const { pool, began, fail } = manualPool(4);
  const root = pool.submit('root');
  const child = pool.submit('child', { after: [root] });
  const grandchild = pool.submit('grandchild', { after: [child] });
  const failure = new Error('root broke');
  await fail('root', failure);
  const childError = await t.throwsAsync(child, { instanceOf: DependencyError });
  t.is(childError!.cause, failure);
  t.is((childError as DependencyError).dependency, root);
  t.regex(childError!.message, /failed: root broke/);
  const grandchildError = await t.throwsAsync(grandchild, { instanceOf: DependencyError });
  t.is(grandchildError!.cause, childError);
  const held = pool.submit('held', { hold: true });
  const waiting = pool.submit('waiting', { after: [held] });
  held.cancel('stale');
  const cancelled = await t.throwsAsync(waiting, { instanceOf: DependencyError });
  t.true(cancelled!.cause instanceof CancelledError);
  t.regex(cancelled!.message, /was cancelled/);
  t.deepEqual(began, ['root']);
  // A dependency that has failed already: the job is rejected at submit.
  const late = pool.submit('late', { after: [root] });
  t.is(late.state, 'rejected');
  await t.throwsAsync(late, { instanceOf: DependencyError });
  await pool.close();
  t.deepEqual(began, ['root']);
});

test('a job cancelled, held or started while it waits behaves as any queued job; cancelling it frees nothing else', async (t) => {
  const { pool, began, finish } = manualPool(4);
  const dependency = pool.submit('dependency');
  const cancelledEarly = pool.submit('cancelled early', { after: [dependency] });
  const heldWhileWaiting = pool.submit('held', { after: [dependency] });
  t.true(cancelledEarly.cancel());
  heldWhileWaiting.hold();
  t.is(heldWhileWaiting.state, 'held');
  await finish('dependency', 1);
  await dependency;
  t.is(heldWhileWaiting.state, 'held');
  heldWhileWaiting.start();
  await finish('held', 2);
  t.is(await heldWhileWaiting, 2);
  t.deepEqual(began, ['dependency', 'held']);
  await pool.close();
});

test('priority and promote() flow to the dependencies still waiting', async (t) => {
  const { pool, began, finish } = manualPool(1);
  const blocker = pool.submit('blocker');
  await new Promise<void>((resolve) => blocker.onStart(() => resolve()));
  const others = [pool.submit('other 1'), pool.submit('other 2')];
  const dependency = pool.submit('dependency');
  const dependant = pool.submit('dependant', { after: [dependency], priority: 5 });
  t.is(dependency.priority, 5, 'a dependant of priority 5 raises its dependency to 5');
  const urgentDependency = pool.submit('urgent dependency');
  const urgent = pool.submit('urgent', { after: [urgentDependency] });
  urgent.promote();
  await finish('blocker', 0);
  await finish('urgent dependency', 1);
  await finish('urgent', 2);
  await finish('dependency', 3);
  await finish('dependant', 4);
  await finish('other 1', 5);
  await finish('other 2', 6);
  await Promise.all([blocker, ...others, dependency, dependant, urgentDependency, urgent]);
  t.deepEqual(began, ['blocker', 'urgent dependency', 'urgent', 'dependency', 'dependant', 'other 1', 'other 2']);
  await pool.close();
});

test('dependencies may be handles of another pool or any promise; results reach a thread job', async (t) => {
  const threads = new Pool({ filename: jobsModule, maxThreads: 2 });
  const inProcess = new Pool({ run: async (x: number) => x + 1, concurrency: 2 });
  const fromOtherPool = inProcess.submit(1);
  const { promise, resolve } = deferred<number>();
  const doubled = threads.submit((a: number, b: number) => a * 10 + b, { name: 'double', after: [fromOtherPool, JobHandle.from(promise)] });
  t.is(doubled.state, 'queued');
  resolve(3);
  t.is(await doubled, 46);
  await Promise.all([threads.close(), inProcess.close()]);
});

test('after must be an array', (t) => {
  const { pool } = manualPool();
  t.throws(() => pool.submit(1, { after: 'x' as never }), { instanceOf: TypeError, message: /after must be an array/ });
});
