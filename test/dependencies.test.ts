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

test('afterSettled: the job runs once every dependency has settled, however, and its input function gets their outcomes', async (t) => {
  const { pool, began, fail, finish } = manualPool(4);
  const good = pool.submit('good');
  const bad = pool.submit('bad');
  const cancelled = pool.submit('cancelled', { hold: true });
  const report = pool.submit((...outcomes: { status: string }[]) => `report(${outcomes.map((outcome) => outcome.status).join(',')})`, {
    after: [good, bad, cancelled],
    afterSettled: true,
  });
  cancelled.cancel();
  await finish('good', 1);
  t.is(report.state, 'queued');
  await fail('bad', new Error('no'));
  await finish('report(fulfilled,rejected,rejected)', 'done');
  t.is(await report, 'done');
  t.false(began.includes('cancelled'));
  // A dependency failed before submit does not reject it either.
  const late = pool.submit((outcome: { status: string; reason: Error }) => `late(${outcome.reason.message})`, { after: [bad], afterSettled: true });
  await finish('late(no)', 'ok');
  t.is(await late, 'ok');
  t.throws(() => pool.submit(1, { after: [good], afterSettled: 'yes' as unknown as boolean }), { instanceOf: TypeError, message: /afterSettled/ });
  await pool.close();
});

test('criticalPath: among ready jobs of equal priority, the one with the longest chain of waiting dependants goes first', async (t) => {
  for (const criticalPath of [true, false]) {
    const began: string[] = [];
    const gates = new Map<string, () => void>();
    const pool = new Pool({
      concurrency: 1,
      criticalPath,
      run: (input: string) => {
        began.push(input);
        return new Promise<string>((resolve) => gates.set(input, () => resolve(input)));
      },
    });
    const blocker = pool.submit('blocker');
    while (!gates.has('blocker')) await new Promise((resolve) => setImmediate(resolve));
    // Ready while the blocker runs: a lone leaf, then the root of a chain of three, then another leaf.
    const leaf = pool.submit('leaf');
    const root = pool.submit('root');
    const other = pool.submit('other', { hold: true });
    const middle = pool.submit('middle', { after: [root] });
    pool.submit('top', { after: [middle] });
    other.start();
    gates.get('blocker')!();
    while (began.length < 2) await new Promise((resolve) => setImmediate(resolve));
    t.is(began[1], criticalPath ? 'root' : 'leaf', `criticalPath: ${criticalPath}`);
    // Equal chains keep submission order: leaf before other.
    for (let index = 1; index < 6; index++) {
      while (began.length <= index) await new Promise((resolve) => setImmediate(resolve));
      gates.get(began[index]!)!();
    }
    // The whole chain (root, middle, top) is the longest through any job: it goes before the leaves.
    if (criticalPath) t.deepEqual(began, ['blocker', 'root', 'middle', 'top', 'leaf', 'other']);
    else t.deepEqual(began, ['blocker', 'leaf', 'root', 'other', 'middle', 'top']);
    t.is(await leaf, 'leaf');
    await pool.close();
  }
});

test('criticalPath: a chain lengthens transitively, and priority still comes first', async (t) => {
  const began: string[] = [];
  const gates = new Map<string, () => void>();
  const pool = new Pool({
    concurrency: 1,
    criticalPath: true,
    run: (input: string) => {
      began.push(input);
      return new Promise<string>((resolve) => gates.set(input, () => resolve(input)));
    },
  });
  const blocker = pool.submit('blocker');
  while (!gates.has('blocker')) await new Promise((resolve) => setImmediate(resolve));
  const a = pool.submit('a'); // chain: a <- b (height 1)
  pool.submit('b', { after: [a] });
  const c = pool.submit('c'); // chain: c <- d <- e <- f (height 3), built bottom-up after a's
  const d = pool.submit('d', { after: [c] });
  const e = pool.submit('e', { after: [d] });
  pool.submit('f', { after: [e] });
  const urgent = pool.submit('urgent', { priority: 1 });
  gates.get('blocker')!();
  while (began.length < 3) {
    await new Promise((resolve) => setImmediate(resolve));
    const last = began.at(-1)!;
    if (began.length < 3 && gates.has(last)) gates.get(last)!();
  }
  t.deepEqual(began.slice(0, 3), ['blocker', 'urgent', 'c']);
  for (const gate of gates.values()) gate();
  pool.concurrency = Infinity;
  while (began.length < 8) {
    await new Promise((resolve) => setImmediate(resolve));
    for (const gate of gates.values()) gate();
  }
  t.is(await urgent, 'urgent');
  t.throws(() => new Pool({ run: () => 1, concurrency: 1, criticalPath: 1 as unknown as boolean }), { instanceOf: TypeError, message: /criticalPath/ });
  await pool.close();
});

test('the dependants of one failed job share its DependencyError; the after array given may change after submit without effect', async (t) => {
  const { pool, began, fail } = manualPool(4);
  const root = pool.submit('root');
  const other = pool.submit('other', { hold: true });
  const after = [root];
  const dependants = [pool.submit('d1', { after }), pool.submit('d2', { after }), pool.submit('d3', { after: [root] })];
  after.push(other);
  after.length = 1;
  after[0] = other;
  t.deepEqual(dependants[0]!.options.after, [root], 'the options keep what was given at submit');
  const failure = new Error('root broke');
  await fail('root', failure);
  const errors = await Promise.all(dependants.map((dependant) => t.throwsAsync(dependant, { instanceOf: DependencyError })));
  t.is(errors[0], errors[1]);
  t.is(errors[1], errors[2]);
  t.is(errors[0]!.cause, failure);
  t.deepEqual(began, ['root']);
  other.cancel();
  await pool.close();
});

test('a dependency listed twice counts once per place: the input function gets its result at both', async (t) => {
  const { pool, finish } = manualPool(4);
  const a = pool.submit('a');
  const b = pool.submit('b');
  const sum = pool.submit((x: string, y: string, z: string) => `${x}${y}${z}`, { after: [a, b, a] });
  await finish('a', 'A');
  t.is(sum.state, 'queued');
  await finish('b', 'B');
  await finish('ABA', 'done');
  t.is(await sum, 'done');
  await pool.close();
});

test('a dependency that failed already is reported through its dependants, never as an unhandled rejection, and they share its DependencyError', async (t) => {
  const closed = new Pool({ concurrency: 1, run: (input: unknown) => input });
  await closed.close();
  const refused = closed.submit(1);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const { pool } = manualPool(2);
    const first = pool.submit('x', { after: [refused] });
    const second = pool.submit('y', { after: [refused] });
    const error = await t.throwsAsync(first, { instanceOf: DependencyError });
    t.is(await t.throwsAsync(second), error);
    t.true(error!.cause instanceof Error);
    await new Promise((resolve) => setImmediate(resolve));
    t.deepEqual(unhandled, []);
    await pool.close();
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a promise given in after, which its owner handles, is never reported as an unhandled rejection when another dependency had failed already', async (t) => {
  const pool = new Pool({ concurrency: 1, run: async (input: unknown) => {
    if (input === 'bad') throw new Error('bad');
    return input;
  } });
  const failed = pool.submit('bad');
  await failed.catch(() => undefined);
  const promised = Promise.reject(new Error('the promise dependency failed'));
  promised.catch(() => undefined);
  const reported: unknown[] = [];
  const onUnhandled = (reason: unknown) => reported.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const job = pool.submit('x', { after: [failed, promised] });
    const error = await t.throwsAsync(job);
    t.true(error instanceof DependencyError);
    // Node reports unhandled rejections once the microtasks of a turn have run: two turns on.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    t.deepEqual(reported.map((reason) => (reason as Error).message), []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await pool.close();
  }
});

test('an input function waiting for 3,000 dependencies, one of them listed twice, gets every result in its place', async (t) => {
  const pool = new Pool({ concurrency: 8, run: (input: unknown) => input });
  const dependencies = Array.from({ length: 3_000 }, (_, index) => pool.submit(index));
  const after = [...dependencies, dependencies[7]!];
  const job = pool.submit((...results: unknown[]) => results, { after });
  t.deepEqual(await job, [...Array.from({ length: 3_000 }, (_, index) => index), 7]);
  await pool.close();
});

test('criticalPath with a function that returns at once: a finished job\'s dependant goes before independent jobs of a shorter chain (regression: they took the slot it freed)', async (t) => {
  for (const independents of [1, 2, 4]) {
    const order: string[] = [];
    const pool = new Pool({ concurrency: 1, criticalPath: true, run: (name: string) => (order.push(name), name) });
    pool.pause();
    for (let index = 0; index < independents; index++) pool.submit(`i${index}`);
    const a = pool.submit('a');
    const b = pool.submit(() => 'b', { after: [a] });
    pool.submit(() => 'c', { after: [b] });
    pool.resume();
    await pool.idle();
    t.deepEqual(order, ['a', 'b', 'c', ...Array.from({ length: independents }, (_, index) => `i${index}`)], `${independents} independent jobs`);
    await pool.close();
  }
});
