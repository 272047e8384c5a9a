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

/** Resolves once the handle is `running`: its thread (or its run function) began it. */
function began(handle: JobHandle): Promise<void> {
  return new Promise((resolve) => handle.onStart(() => resolve()));
}

test('a handle exposes id, state, input, options, priority and timing', async (t) => {
  const pool = jobsPool();
  const options = { name: 'double', priority: 3 };
  const handle = pool.submit(21, options);
  t.is(typeof handle.id, 'number');
  t.is(handle.input, 21);
  // Options are copied at submit: an equal object, not the one given.
  t.deepEqual(handle.options, options);
  t.not(handle.options, options);
  t.is(handle.priority, 3);
  // The pool is idle and a thread could take it, yet the job has not begun: it is queued.
  t.is(handle.state, 'queued');
  t.is(handle.timing.startedAt, undefined);
  t.is(typeof handle.timing.submittedAt, 'number');
  t.is(handle.outcome, undefined);
  t.is(await handle, 42);
  t.is(handle.state, 'fulfilled');
  t.deepEqual(handle.outcome, { status: 'fulfilled', value: 42 });
  const { submittedAt, startedAt, settledAt } = handle.timing;
  t.true(submittedAt <= startedAt! && startedAt! <= settledAt!);
  await pool.close();
});

test('a job is queued right after submit even on an idle pool, and running once its thread began it', async (t) => {
  const latches = new Latches(1);
  const pool = jobsPool({ maxThreads: 1 });
  // Warm the thread first, so that it is free and waiting when the job is submitted.
  t.is(await pool.submit(1, { name: 'double' }), 2);
  const handle = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  t.is(handle.state, 'queued');
  t.like(pool.stats, { queued: 1, running: 0 });
  t.is(handle.timing.startedAt, undefined);
  const states: string[] = [];
  handle.onStart((h) => states.push(h.state));
  await latches.started(0);
  await began(handle);
  t.deepEqual(states, ['running']);
  t.is(handle.state, 'running');
  t.like(pool.stats, { queued: 0, running: 1 });
  t.is(typeof handle.timing.startedAt, 'number');
  latches.release(0);
  t.is(await handle, 0);
  await pool.close();
});

test('timing.startedAt is when the job began on its thread, not when it was submitted or sent ahead', async (t) => {
  const latches = new Latches(2);
  const pool = jobsPool({ maxThreads: 1 });
  const blocker = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  // The thread can hold this job next to the blocker, but it cannot begin it before the blocker ends.
  const next = pool.submit(latches.latch(1), { name: 'waitForRelease' });
  await latches.started(0);
  await began(blocker);
  t.is(next.state, 'queued');
  const beforeRelease = performance.now();
  latches.release(0);
  await began(next);
  const afterBegin = performance.now();
  t.true(next.timing.startedAt! >= beforeRelease, 'not counted from submit or from being sent ahead');
  t.true(next.timing.startedAt! <= afterBegin);
  t.true(next.timing.submittedAt < beforeRelease);
  latches.release(1);
  t.is(await blocker, 0);
  t.is(await next, 1);
  t.true(next.timing.startedAt! <= next.timing.settledAt!);
  await pool.close();
});

test('options mutated after submit change nothing', async (t) => {
  const order: string[] = [];
  const pool = new Pool({ run: (x: string) => order.push(x), concurrency: 1 });
  pool.pause();
  const options: Record<string, unknown> = { priority: 1, hold: false, tag: 'before' };
  const handle = pool.submit('mutated', options);
  const other = pool.submit('other', { priority: 5 });
  options.priority = 99;
  options.hold = true;
  options.tag = 'after';
  t.is(handle.priority, 1);
  t.is(handle.state, 'queued');
  t.deepEqual(handle.options, { priority: 1, hold: false, tag: 'before' });
  pool.resume();
  await pool.idle();
  t.deepEqual(order, ['other', 'mutated']);
  t.is(handle.state, 'fulfilled');
  t.is(other.state, 'fulfilled');

  // A worker job: changing the export's name after submit runs the one named at submit.
  const threads = jobsPool({ maxThreads: 1 });
  const workerOptions = { name: 'double', timeout: 60_000 };
  const doubled = threads.submit(21, workerOptions);
  workerOptions.name = 'fail';
  workerOptions.timeout = 0;
  t.is(await doubled, 42);
  t.deepEqual(doubled.options, { name: 'double', timeout: 60_000 });
  await Promise.all([pool.close(), threads.close()]);
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
  t.is(byStart.state, 'queued');
  t.is(byPromote.promote(), byPromote);
  // promote() puts it first, but it begins asynchronously, not before promote() returns.
  t.is(byPromote.state, 'queued');
  t.is(byAwait.state, 'held');
  // Checked in the callback: a brief job may have finished by the time an await resumes.
  const stateAtStart = await new Promise<string>((resolve) => byPromote.onStart((h) => resolve(h.state)));
  t.is(stateAtStart, 'running');
  t.deepEqual(await Promise.all([byStart, byPromote, byAwait]), [2, 4, 6]);
  await pool.close();
});

test('promote() begins a job on a free thread even when every slot is taken, and later dispatches wait', async (t) => {
  const latches = new Latches(3);
  const pool = jobsPool({ concurrency: 1 });
  const first = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  const second = pool.submit(latches.latch(1), { name: 'waitForRelease' });
  const urgent = pool.submit(latches.latch(2), { name: 'waitForRelease' });
  // The first job takes the only slot (submit() itself begins nothing: wait for it).
  await Promise.all([latches.started(0), began(first)]);
  t.is(urgent.promote(), urgent);
  // Asynchronously: the promoted job has not begun before promote() returns.
  t.is(urgent.state, 'queued');
  t.is(second.state, 'queued');
  await Promise.all([latches.started(2), began(urgent)]);
  // Two running with concurrency 1: the promoted job exceeds the limit.
  t.like(pool.stats, { running: 2, queued: 1 });
  t.is(urgent.state, 'running');
  t.is(second.state, 'queued');
  t.false(latches.hasStarted(1));
  latches.release(2);
  t.is(await urgent, 2);
  // The count is back at the limit (1), not under it: the queued job still waits.
  t.is(second.state, 'queued');
  t.false(latches.hasStarted(1));
  latches.release(0);
  await first;
  await Promise.all([latches.started(1), began(second)]);
  t.is(second.state, 'running');
  latches.release(1);
  await second;
  t.is(urgent.promote().state, 'fulfilled');
  await pool.close();
});

test('cancel() of a waiting job settles it at once and it never reaches a worker', async (t) => {
  const ran: number[] = [];
  const { pool, finish } = manualPool(1);
  pool.on('start', (handle) => ran.push(handle.input as number));
  const first = pool.submit(0);
  const queued = pool.submit(1);
  const held = pool.submit(2, { hold: true });
  await began(first);
  t.true(queued.cancel('not needed'));
  t.true(held.cancel());
  t.false(queued.cancel());
  t.is(queued.state, 'cancelled');
  const error = await t.throwsAsync(queued, { instanceOf: CancelledError, name: 'CancelledError' });
  t.is(error!.reason, 'not needed');
  t.deepEqual(queued.outcome, { status: 'rejected', reason: error });
  finish(0);
  await pool.idle();
  // Only the first job ever began.
  t.deepEqual(ran, [0]);
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
  const first = pool.submit('first');
  const handle = pool.submit('second');
  const calls: string[] = [];
  handle.onStart((h) => calls.push(`start ${h.state}`));
  t.deepEqual(calls, []);
  await began(first);
  t.is(handle.state, 'queued');
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
  t.true(cancelled.cancel());
  // Never inside the caller's own cancel(): on a later microtask.
  t.deepEqual(seen, []);
  await new Promise<void>((resolve) => cancelled.onDone(() => resolve()));
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

test("onDone callbacks and the pool's 'done' and 'idle' events never run inside the caller's own cancel()", async (t) => {
  const { pool } = manualPool(1);
  const log: string[] = [];
  pool.on('done', (h) => log.push(`done event ${h.input}`));
  pool.on('idle', () => log.push('idle event'));
  const running = pool.submit('running').onDone((h) => log.push(`onDone ${h.input} ${h.state}`));
  const queued = pool.submit('queued').onDone((h) => log.push(`onDone ${h.input} ${h.state}`));
  const held = pool.submit('held', { hold: true }).onDone((h) => log.push(`onDone ${h.input} ${h.state}`));
  await began(running);
  for (const handle of [held, queued, running]) {
    log.push(`cancel ${handle.input}`);
    t.true(handle.cancel());
    log.push(`returned ${handle.input}`);
    t.is(handle.state, 'cancelled');
  }
  t.deepEqual(log, ['cancel held', 'returned held', 'cancel queued', 'returned queued', 'cancel running', 'returned running']);
  // A callback attached to an already settled handle does not run inside onDone() either.
  let late = false;
  held.onDone(() => (late = true));
  t.false(late);
  await pool.idle();
  await new Promise<void>((resolve) => running.onDone(() => resolve()));
  t.true(late);
  const callbacks = log.slice(6);
  t.deepEqual(callbacks.filter((entry) => entry.startsWith('onDone')).sort(), ['onDone held cancelled', 'onDone queued cancelled', 'onDone running cancelled']);
  t.deepEqual(callbacks.filter((entry) => entry.startsWith('done event')).sort(), ['done event held', 'done event queued', 'done event running']);
  t.true(callbacks.includes('idle event'));
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

test('a timed-out job rejects with TimeoutError, counted from when it began', async (t) => {
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
  t.deepEqual(pool.stats, { held: 0, queued: 0, running: 0, fulfilled: 0, rejected: 0, cancelled: 0, concurrency: 2, threads: pool.stats.threads });
  await pool.close();
});

test('a callback that throws a value that cannot be shown becomes a warning, the other callbacks run, and the pool goes on', async (t) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => {
    if (warning.name === 'LazypoolCallbackWarning') warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    // An onStart callback of a job found begun outside a call of the user's runs inside the pool's
    // own report of the begin: what it throws must not leave the pool there.
    const pool = new Pool({ concurrency: 1, run: async (input: unknown) => input });
    let ranAfter = false;
    const a = pool
      .submit('a')
      .onStart(() => {
        throw Object.create(null);
      })
      .onDone(() => {
        throw Object.create(null);
      })
      .onDone(() => {
        ranAfter = true;
      });
    const b = pool.submit('b');
    t.deepEqual(await Promise.all([a, b]), ['a', 'b']);
    await pool.idle();
    // Warnings are emitted on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    t.true(ranAfter);
    t.deepEqual(warnings, ['an onStart callback threw: a value that cannot be shown', 'an onDone callback threw: a value that cannot be shown']);
    await pool.close();
  } finally {
    process.off('warning', onWarning);
  }
});
