import test from 'ava';
import { CancelledError, JobHandle, Pool, TimeoutError } from '../src/index.js';
import { deferred, jobsPool, Latches } from './helpers.js';

/** An in-process pool whose jobs finish when the test says so. */
function manualPool(concurrency = 1) {
  const finishers = new Map<unknown, ReturnType<typeof deferred>>();
  const pool = new Pool({
    run: (input: unknown) => {
      const gate = deferred();
      finishers.set(input, gate);
      return gate.promise;
    },
    concurrency,
  });
  return { pool, finish: (input: unknown, value: unknown = input) => finishers.get(input)!.resolve(value) };
}

test('a handle exposes id, state, input, options, priority and timing', async (t) => {
  const pool = jobsPool();
  const options = { name: 'double', priority: 3 };
  const handle = pool.submit(21, options);
  t.is(typeof handle.id, 'number');
  t.is(handle.input, 21);
  t.is(handle.options, options);
  t.is(handle.priority, 3);
  t.is(typeof handle.timing.submittedAt, 'number');
  t.is(handle.outcome, undefined);
  t.is(await handle, 42);
  t.is(handle.state, 'fulfilled');
  t.deepEqual(handle.outcome, { status: 'fulfilled', value: 42 });
  const { submittedAt, startedAt, settledAt } = handle.timing;
  t.true(submittedAt <= startedAt! && startedAt! <= settledAt!);
  await pool.close();
});

test('setPriority re-orders waiting jobs and returns false once the job runs', async (t) => {
  const order: string[] = [];
  const pool = new Pool({ run: (x: string) => order.push(x), concurrency: 1 });
  pool.pause();
  const a = pool.submit('a');
  const b = pool.submit('b', { hold: true });
  const c = pool.submit('c');
  t.true(c.setPriority(10));
  t.true(b.setPriority(20));
  t.is(c.priority, 10);
  b.start();
  pool.resume();
  await pool.idle();
  t.deepEqual(order, ['b', 'c', 'a']);
  t.false(a.setPriority(99));
  t.is(a.priority, 0);
  t.throws(() => a.setPriority('high' as never), { instanceOf: TypeError, message: /priority/ });
  await pool.close();
});

test('hold() takes a queued job out of the queue; start() puts it back in its submission place', async (t) => {
  const order: number[] = [];
  const pool = new Pool({ run: (x: number) => order.push(x), concurrency: 1 });
  pool.pause();
  const handles = [1, 2, 3].map((n) => pool.submit(n));
  t.is(handles[0].hold(), handles[0]);
  t.is(handles[0].state, 'held');
  t.like(pool.stats, { held: 1, queued: 2 });
  handles[0].start();
  t.is(handles[0].state, 'queued');
  pool.resume();
  await pool.idle();
  t.deepEqual(order, [1, 2, 3]);
  // No effect in other states.
  t.is(handles[0].hold().state, 'fulfilled');
  t.is(handles[0].start().state, 'fulfilled');
  await pool.close();
});

test('a held job is not queued until start(), promote() or await', async (t) => {
  const pool = jobsPool();
  const byStart = pool.submit(1, { hold: true, name: 'double' });
  const byPromote = pool.submit(2, { hold: true, name: 'double' });
  const byAwait = pool.submit(3, { hold: true, name: 'double' });
  await pool.idle();
  t.deepEqual([byStart.state, byPromote.state, byAwait.state], ['held', 'held', 'held']);
  byStart.start();
  byPromote.promote();
  t.is(byPromote.state, 'running');
  t.deepEqual(await Promise.all([byStart, byPromote, byAwait]), [2, 4, 6]);
  await pool.close();
});

test('promote() starts a job at once even when every slot is taken, and later dispatches wait', async (t) => {
  const latches = new Latches(3);
  const pool = jobsPool({ concurrency: 1 });
  const first = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  const second = pool.submit(latches.latch(1), { name: 'waitForRelease' });
  const urgent = pool.submit(latches.latch(2), { name: 'waitForRelease' });
  t.is(urgent.promote(), urgent);
  t.is(urgent.state, 'running');
  t.is(second.state, 'queued');
  await Promise.all([latches.started(0), latches.started(2)]);
  latches.release(2);
  t.is(await urgent, 2);
  // The count is back at the limit (1), not under it: the queued job still waits.
  t.is(second.state, 'queued');
  latches.release(0);
  await first;
  t.is(second.state, 'running');
  latches.release(1);
  await second;
  t.is(urgent.promote().state, 'fulfilled');
  await pool.close();
});

test('cancel() of a waiting job settles it at once and it never reaches a worker', async (t) => {
  const ran: number[] = [];
  const { pool, finish } = manualPool(1);
  pool.submit(0);
  const queued = pool.submit(1);
  const held = pool.submit(2, { hold: true });
  pool.on('start', (handle) => ran.push(handle.input as number));
  t.true(queued.cancel('not needed'));
  t.true(held.cancel());
  t.false(queued.cancel());
  t.is(queued.state, 'cancelled');
  const error = await t.throwsAsync(queued, { instanceOf: CancelledError, name: 'CancelledError' });
  t.is(error!.reason, 'not needed');
  t.deepEqual(queued.outcome, { status: 'rejected', reason: error });
  finish(0);
  await pool.idle();
  t.deepEqual(ran, []);
  await pool.close();
});

test('cancel() of a running job settles it at once; the job sees cancelled() and keeps its thread', async (t) => {
  const latches = new Latches(2);
  const pool = jobsPool({ concurrency: 1, maxThreads: 1 });
  const threadBefore = await pool.submit(null, { name: 'whichThread' });
  const running = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  const next = pool.submit(latches.latch(1), { name: 'waitForRelease' });
  await latches.started(0);
  t.true(running.cancel());
  t.is(running.state, 'cancelled');
  // The slot frees only once the job has really stopped: then the next job starts, on the same thread.
  await latches.started(1);
  latches.release(1);
  t.is(await next, 1);
  t.is(await pool.submit(null, { name: 'whichThread' }), threadBefore);
  await t.throwsAsync(running, { instanceOf: CancelledError });
  await pool.close();
});

test('onStart fires once when the job runs, or on the next microtask if it already has', async (t) => {
  const { pool, finish } = manualPool(1);
  pool.submit('first');
  const handle = pool.submit('second');
  const calls: string[] = [];
  handle.onStart((h) => calls.push(`start ${h.state}`));
  t.deepEqual(calls, []);
  finish('first');
  await new Promise<void>((resolve) => handle.onStart(() => resolve()));
  t.deepEqual(calls, ['start running']);
  let late = false;
  handle.onStart(() => (late = true));
  t.false(late);
  await Promise.resolve();
  t.true(late);
  const cancelled = pool.submit('never', { hold: true });
  cancelled.onStart(() => t.fail('a job cancelled before running never starts'));
  cancelled.cancel();
  finish('second');
  await handle;
  await pool.close();
});

test('onDone fires once after settling in any way, or on the next microtask if settled already', async (t) => {
  const pool = jobsPool();
  const seen: string[] = [];
  const ok = pool.submit(2, { name: 'double' }).onDone((h) => seen.push(`ok ${h.state}`));
  const bad = pool.submit('boom', { name: 'fail' }).onDone((h) => seen.push(`bad ${h.state}`));
  const cancelled = pool.submit(1, { hold: true }).onDone((h) => seen.push(`cancelled ${h.state}`));
  cancelled.cancel();
  t.deepEqual(seen, ['cancelled cancelled']);
  await ok;
  await bad.catch(() => {});
  t.deepEqual(seen.sort(), ['bad rejected', 'cancelled cancelled', 'ok fulfilled']);
  let late = 0;
  ok.onDone(() => late++);
  t.is(late, 0);
  await Promise.resolve();
  t.is(late, 1);
  await pool.close();
});

test('onProgress receives each value in order, all before the handle settles', async (t) => {
  const pool = jobsPool();
  for (let round = 0; round < 20; round++) {
    const values: unknown[] = [];
    const handle = pool.submit(12, { name: 'report' }).onProgress((value) => values.push(value));
    handle.onDone(() => t.is(values.length, 12));
    t.is(await handle, 'reported');
    t.deepEqual(values, Array.from({ length: 12 }, (_, step) => ({ step })));
    const sync: unknown[] = [];
    t.is(await pool.submit(50, { name: 'reportSync', onProgress: (v) => sync.push(v) }), 50);
    t.deepEqual(sync, Array.from({ length: 50 }, (_, i) => i));
  }
  await pool.close();
});

test('a throwing callback is reported with process.emitWarning and disturbs nothing', async (t) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  try {
    const pool = jobsPool();
    const calls: string[] = [];
    const handle = pool.submit(3, { name: 'report' });
    handle.onStart(() => {
      throw new Error('start callback broke');
    });
    handle.onProgress(() => {
      throw new Error('progress callback broke');
    });
    handle.onDone(() => {
      throw new Error('done callback broke');
    });
    handle.onDone(() => calls.push('second onDone still runs'));
    t.is(await handle, 'reported');
    t.deepEqual(calls, ['second onDone still runs']);
    await new Promise((resolve) => setImmediate(resolve));
    t.true(warnings.some((w) => w.includes('start callback broke')));
    t.true(warnings.some((w) => w.includes('progress callback broke')));
    t.true(warnings.some((w) => w.includes('done callback broke')));
    t.is(await pool.submit(2, { name: 'double' }), 4);
    await pool.close();
  } finally {
    process.off('warning', onWarning);
  }
});

test('callbacks must be functions', (t) => {
  const handle = JobHandle.from(1);
  t.throws(() => handle.onDone('nope' as never), { instanceOf: TypeError, message: /onDone/ });
  t.throws(() => handle.onStart(null as never), { instanceOf: TypeError, message: /onStart/ });
  t.throws(() => handle.onProgress(1 as never), { instanceOf: TypeError, message: /onProgress/ });
});

test('then, catch and finally behave like a promise', async (t) => {
  const pool = jobsPool();
  t.is(await pool.submit(4, { name: 'double' }).then((v) => (v as number) + 1), 9);
  t.is(await pool.submit('x', { name: 'fail' }).catch((e: Error) => e.name), 'ParseError');
  let finallyRan = false;
  t.is(
    await pool.submit(1).finally(() => {
      finallyRan = true;
    }),
    1,
  );
  t.true(finallyRan);
  await pool.close();
});

test('JobHandle.from: the same handle, a handle that follows a promise, or a fulfilled handle', async (t) => {
  const pool = jobsPool();
  const handle = pool.submit(1);
  t.is(JobHandle.from(handle), handle);
  const following = JobHandle.from(Promise.resolve('later'));
  t.is(following.state, 'running');
  t.is(await following, 'later');
  t.is(following.state, 'fulfilled');
  const failing = JobHandle.from(Promise.reject(new Error('no')));
  await t.throwsAsync(failing, { message: 'no' });
  t.is(failing.state, 'rejected');
  const plain = JobHandle.from(7);
  t.is(plain.state, 'fulfilled');
  t.deepEqual(plain.outcome, { status: 'fulfilled', value: 7 });
  const thenable = JobHandle.from({ then: (resolve: (v: number) => void) => resolve(5) });
  t.is(await thenable, 5);
  await handle;
  await pool.close();
});

test('a timed-out job rejects with TimeoutError, counted from dispatch', async (t) => {
  const latches = new Latches(2);
  const pool = jobsPool({ concurrency: 1 });
  const blocker = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  // Queued behind the blocker for as long as the test likes: its timeout has not started yet.
  const timed = pool.submit(latches.latch(1), { name: 'waitForRelease', timeout: 50 });
  await latches.started(0);
  t.is(timed.state, 'queued');
  latches.release(0);
  await blocker;
  const error = await t.throwsAsync(timed, { instanceOf: TimeoutError, name: 'TimeoutError' });
  t.is(error!.timeout, 50);
  t.is(timed.state, 'rejected');
  t.true(latches.hasStarted(1));
  t.is(await pool.submit(3, { name: 'double', timeout: 10_000 }), 6);
  await pool.close();
});

test('bad submit option types throw synchronously, naming the option', async (t) => {
  const pool = jobsPool();
  t.throws(() => pool.submit(1, { priority: 'high' as never }), { instanceOf: TypeError, message: 'priority must be a number, got "high"' });
  t.throws(() => pool.submit(1, { priority: Number.NaN }), { instanceOf: RangeError, message: /priority/ });
  t.throws(() => pool.submit(1, { name: 3 as never }), { instanceOf: TypeError, message: /name/ });
  t.throws(() => pool.submit(1, { hold: 'yes' as never }), { instanceOf: TypeError, message: /hold/ });
  t.throws(() => pool.submit(1, { timeout: -1 }), { instanceOf: RangeError, message: /timeout/ });
  t.throws(() => pool.submit(1, { timeout: '5' as never }), { instanceOf: TypeError, message: /timeout/ });
  t.throws(() => pool.submit(1, { signal: {} as never }), { instanceOf: TypeError, message: /signal/ });
  t.throws(() => pool.submit(1, { transferList: 'x' as never }), { instanceOf: TypeError, message: /transferList/ });
  t.throws(() => pool.submit(1, { onProgress: 1 as never }), { instanceOf: TypeError, message: /onProgress/ });
  t.throws(() => pool.submit(1, 'fast' as never), { instanceOf: TypeError, message: /options/ });
  t.deepEqual(pool.stats, { held: 0, queued: 0, running: 0, fulfilled: 0, rejected: 0, cancelled: 0, concurrency: 4, threads: pool.stats.threads });
  await pool.close();
});
