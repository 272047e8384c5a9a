import test from 'ava';
import { CancelledError, type JobHandle, move, Pool, TimeoutError } from '../src/index.js';
import { deferred, jobsModule, jobsPool, Latches } from './helpers.js';

/** Resolves once the handle is `running`: its thread began it. */
function began(handle: JobHandle): Promise<void> {
  return new Promise((resolve) => handle.onStart(() => resolve()));
}

test('progress(), cancelled() and signal() throw outside a running job', async (t) => {
  const pool = jobsPool();
  const messages = ((await pool.submit(null, { name: 'outsideJob' })) as string).split('|');
  t.deepEqual(messages, [
    'progress() was called outside a running lazypool job',
    'cancelled() was called outside a running lazypool job',
    'signal() was called outside a running lazypool job',
  ]);
  await pool.close();
  // A timer the job left behind runs after its job ended: that is outside a job too.
  const single = jobsPool({ maxThreads: 1 });
  await single.submit(null, { name: 'leaveTimer' });
  let after: string | undefined;
  while ((after = (await single.submit(null, { name: 'afterJobEnded' })) as string | undefined) === undefined);
  t.deepEqual(after.split('|'), messages);
  await single.close();
  const { progress, cancelled, signal } = await import('../src/worker.js');
  t.throws(() => progress(1), { message: /outside a running lazypool job/ });
  t.throws(() => cancelled(), { message: /outside/ });
  t.throws(() => signal(), { message: /outside/ });
});

test('several async jobs on one thread each see their own progress and cancellation', async (t) => {
  const pool = new Pool({ filename: jobsModule, maxThreads: 1, concurrentTasksPerWorker: 4, concurrency: 4 });
  const seen = new Map<string, unknown[]>();
  const handles = ['a', 'b', 'c', 'd'].map((tag) => {
    seen.set(tag, []);
    return pool.submit({ tag, steps: 6 }, { name: 'tagged', onProgress: (v) => seen.get(tag)!.push(v) });
  });
  t.deepEqual(await Promise.all(handles), ['a', 'b', 'c', 'd']);
  for (const [tag, values] of seen) t.deepEqual(values, Array.from({ length: 6 }, (_, i) => `${tag}:${i}`));
  await pool.close();
});

test('a job that awaits signal() is aborted by cancel and its thread is kept', async (t) => {
  const latches = new Latches(1);
  const pool = jobsPool({ maxThreads: 1, concurrency: 1 });
  const thread = await pool.submit(null, { name: 'whichThread' });
  const handle = pool.submit(latches.latch(0), { name: 'awaitSignal' });
  await Promise.all([latches.started(0), began(handle)]);
  t.true(handle.cancel('user pressed stop'));
  t.is(handle.state, 'cancelled');
  const error = await t.throwsAsync(handle, { instanceOf: CancelledError });
  t.is(error!.reason, 'user pressed stop');
  // The job's own rejection (AbortError from the timer) freed the slot, on the same thread.
  t.is(await pool.submit(null, { name: 'whichThread' }), thread);
  await pool.close();
});

test('a job that ignores cancellation has its thread ended after abortGrace; the pool goes on', async (t) => {
  const latches = new Latches(2);
  const pool = jobsPool({ maxThreads: 1, concurrency: 1, abortGrace: 100 });
  const thread = await pool.submit(null, { name: 'whichThread' });
  const stubborn = pool.submit(latches.latch(0), { name: 'ignoreCancel' });
  const next = pool.submit(null, { name: 'whichThread' });
  await Promise.all([latches.started(0), began(stubborn)]);
  t.true(stubborn.cancel());
  t.is(stubborn.state, 'cancelled');
  // The slot is freed only once the thread is gone: the next job runs on a fresh thread.
  t.is(next.state, 'queued');
  const freshThread = await next;
  t.not(freshThread, thread);
  t.is(await pool.submit(2, { name: 'double' }), 4);
  await pool.close();
});

test('a timed-out job that polls cancelled() stops by itself and keeps its thread', async (t) => {
  const latches = new Latches(1);
  const pool = jobsPool({ maxThreads: 1, concurrency: 1 });
  const thread = await pool.submit(null, { name: 'whichThread' });
  await t.throwsAsync(pool.submit(latches.latch(0), { name: 'waitForRelease', timeout: 30 }), { instanceOf: TimeoutError });
  t.is(await pool.submit(null, { name: 'whichThread' }), thread);
  await pool.close();
});

for (const concurrency of [1, 2]) {
  test(`a cancelled job that its thread has not begun never starts its work, even if it was sent ahead (concurrency ${concurrency}, one thread)`, async (t) => {
    const latches = new Latches(2);
    // The executor may send the second job ahead to the busy thread; it is still queued, and cancel() is free.
    const pool = jobsPool({ maxThreads: 1, concurrency });
    const thread = await pool.submit(null, { name: 'whichThread' });
    const first = pool.submit(latches.latch(0), { name: 'waitForRelease' });
    const second = pool.submit(latches.latch(1), { name: 'waitForRelease' });
    second.onStart(() => t.fail('the cancelled job never begins'));
    await Promise.all([latches.started(0), began(first)]);
    t.is(second.state, 'queued');
    t.like(pool.stats, { running: 1, queued: 1 });
    t.true(second.cancel());
    t.is(second.state, 'cancelled');
    t.like(pool.stats, { running: 1, queued: 0, cancelled: 1 });
    latches.release(0);
    t.is(await first, 0);
    await pool.idle();
    t.false(latches.hasStarted(1));
    await t.throwsAsync(second, { instanceOf: CancelledError });
    // The thread was not disturbed: it runs the next job.
    t.is(await pool.submit(null, { name: 'whichThread' }), thread);
    await pool.close();
  });
}

test('an AbortSignal cancels the job, before or while it runs; an aborted one cancels at submit', async (t) => {
  const latches = new Latches(1);
  const pool = jobsPool({ concurrency: 1 });
  const controller = new AbortController();
  const running = pool.submit(latches.latch(0), { name: 'waitForRelease', signal: controller.signal });
  const queued = pool.submit(1, { signal: controller.signal });
  await Promise.all([latches.started(0), began(running)]);
  t.is(queued.state, 'queued');
  controller.abort('stop everything');
  t.is(running.state, 'cancelled');
  t.is(queued.state, 'cancelled');
  const error = await t.throwsAsync(running, { instanceOf: CancelledError });
  t.is(error!.reason, 'stop everything');
  const late = pool.submit(1, { signal: AbortSignal.abort('too late') });
  t.is(late.state, 'cancelled');
  t.is((await t.throwsAsync(late, { instanceOf: CancelledError }))!.reason, 'too late');
  await pool.close();
});

test('a settled job removes its listener from the signal it was given', async (t) => {
  const pool = jobsPool();
  const controller = new AbortController();
  const { getEventListeners } = await import('node:events').then((events) => events as unknown as { getEventListeners: (target: EventTarget, type: string) => unknown[] });
  await Promise.all([1, 2, 3].map((n) => pool.submit(n, { signal: controller.signal })));
  t.is(getEventListeners(controller.signal, 'abort').length, 0);
  await pool.close();
});

test('an error thrown in the worker keeps its name, message and own properties', async (t) => {
  const pool = jobsPool();
  const error = await t.throwsAsync(pool.submit('bad token', { name: 'fail' }));
  t.is(error!.name, 'ParseError');
  t.is(error!.message, 'bad token');
  t.is((error as Error & { code: string }).code, 'E_PARSE');
  t.true(error instanceof Error);
  const async = await t.throwsAsync(pool.submit('later', { name: 'failLater' }));
  t.is(async!.name, 'RangeError');
  await pool.close();
});

test('a thrown value that is not an Error rejects the handle with that value, not with talk of a worker exit', async (t) => {
  const pool = jobsPool({ maxThreads: 1 });
  for (const value of ['plain string', { code: 7, detail: ['a'] }, 42, undefined]) {
    for (const name of ['throwInput', 'throwInputLater']) {
      const handle = pool.submit(value, { name });
      const reason = await handle.then(
        () => t.fail(`${name} fulfilled`),
        (error: unknown) => error,
      );
      t.deepEqual(reason, value, `${name}(${JSON.stringify(value)})`);
      t.is(handle.state, 'rejected');
    }
  }
  t.is(await pool.submit(5, { name: 'double' }), 10, 'the same thread goes on');
  t.is(pool.stats.threads, 1);
  await pool.close();
});

test('a worker that exits rejects its job with an error saying so; the pool goes on', async (t) => {
  const pool = jobsPool({ maxThreads: 1 });
  const error = await t.throwsAsync(pool.submit(3, { name: 'exit' }));
  t.regex(error!.message, /worker exited/);
  t.regex(error!.message, /code: 3/);
  t.is(await pool.submit(5, { name: 'double' }), 10);
  t.like(pool.stats, { rejected: 1, fulfilled: 1 });
  await pool.close();
});

test('an input that cannot be cloned rejects only its own handle', async (t) => {
  const pool = jobsPool();
  const good = pool.submit(1);
  const bad = pool.submit({ fn: () => 1 });
  const error = await t.throwsAsync(bad);
  t.is(error!.name, 'DataCloneError');
  t.is(await good, 1);
  t.is(await pool.submit(2), 2);
  await pool.close();
});

test('a missing export rejects with an error naming it', async (t) => {
  const pool = jobsPool();
  const error = await t.throwsAsync(pool.submit(1, { name: 'noSuchExport' }));
  t.regex(error!.message, /no export named 'noSuchExport'/);
  await pool.close();
});

test('move() transfers an ArrayBuffer instead of copying it', async (t) => {
  const pool = jobsPool();
  const buffer = new ArrayBuffer(1024);
  t.is(await pool.submit(move(buffer), { name: 'byteLength' }), 1024);
  t.is(buffer.byteLength, 0, 'the buffer was transferred away');
  const listed = new ArrayBuffer(64);
  t.is(await pool.submit(listed, { name: 'byteLength', transferList: [listed] }), 64);
  t.is(listed.byteLength, 0);
  await pool.close();
});

test('a function input is called only at dispatch, and what it returns (or resolves to) is the input', async (t) => {
  const pool = jobsPool({ concurrency: 1 });
  const latches = new Latches(1);
  const calls: string[] = [];
  const blocker = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  const sync = pool.submit(() => (calls.push('sync'), 20), { name: 'double' });
  const async = pool.submit(async () => (calls.push('async'), 30), { name: 'double' });
  const transferred = pool.submit(() => move(new ArrayBuffer(8)), { name: 'byteLength' });
  const cancelled = pool.submit(() => calls.push('never'));
  cancelled.cancel();
  await latches.started(0);
  t.deepEqual(calls, []);
  latches.release(0);
  await blocker;
  t.deepEqual(await Promise.all([sync, async, transferred]), [40, 60, 8]);
  t.deepEqual(calls, ['sync', 'async']);
  await pool.close();
});

test('a function input whose promise is pending keeps its job queued; cancel() then settles at once and frees the slot', async (t) => {
  const pool = jobsPool({ concurrency: 1, maxThreads: 1 });
  const payload = deferred<number>();
  const handedOver = deferred<void>();
  let called = 0;
  const slow = pool.submit(
    () => {
      called++;
      handedOver.resolve();
      return payload.promise;
    },
    { name: 'double' },
  );
  slow.onStart(() => t.fail('a job cancelled while its input was built never begins'));
  const next = pool.submit(21, { name: 'double' });
  // The function is called when the job is handed over; then the job waits for its input, still queued.
  await handedOver.promise;
  t.is(called, 1);
  t.is(slow.state, 'queued');
  t.is(next.state, 'queued');
  t.true(slow.cancel('no longer needed'));
  t.is(slow.state, 'cancelled');
  t.is((await t.throwsAsync(slow, { instanceOf: CancelledError }))!.reason, 'no longer needed');
  // Its slot is free: the next job runs though the input never arrived.
  t.is(await next, 42);
  payload.resolve(5);
  await pool.idle();
  t.is(called, 1);
  t.like(pool.stats, { cancelled: 1, fulfilled: 1, running: 0, queued: 0 });
  await pool.close();
});

test('an input function that throws or rejects fails only its own handle', async (t) => {
  const pool = jobsPool();
  const throwing = pool.submit(() => {
    throw new Error('could not read the file');
  });
  const rejecting = pool.submit(() => Promise.reject(new TypeError('bad payload')));
  const fine = pool.submit(() => 'ok');
  await t.throwsAsync(throwing, { message: 'could not read the file' });
  await t.throwsAsync(rejecting, { instanceOf: TypeError, message: 'bad payload' });
  t.is(await fine, 'ok');
  t.like(pool.stats, { rejected: 2, fulfilled: 1, running: 0 });
  await pool.close();
});

test('async jobs see their job across awaits on a thread that ran synchronous jobs before and between', async (t) => {
  const pool = jobsPool({ maxThreads: 1 });
  for (let round = 0; round < 3; round++) {
    t.is(await pool.submit(round, { name: 'double' }), round * 2);
    const values: unknown[] = [];
    t.is(await pool.submit(4, { name: 'report', onProgress: (v) => values.push(v) }), 'reported');
    t.is(values.length, 4);
    t.is(await pool.submit({ tag: `r${round}`, steps: 2 }, { name: 'tagged' }), `r${round}`);
  }
  await pool.close();
});

test('a CommonJS worker module: module.exports = fn is the default, its properties are named exports', async (t) => {
  const pool = new Pool({ filename: new URL('./fixtures/commonjs.cjs', import.meta.url), maxThreads: 1 });
  const seen: unknown[] = [];
  t.is(await pool.submit(1), 2);
  t.is(await pool.submit(2, { name: 'tenfold', onProgress: (v) => seen.push(v) }), 20);
  t.deepEqual(seen, ['tenfold']);
  await pool.close();
  const named = new Pool({ filename: new URL('./fixtures/commonjs-named.cjs', import.meta.url), maxThreads: 1 });
  t.is(await named.submit(5, { name: 'decrement' }), 4);
  await t.throwsAsync(named.submit(5), { message: /no export named 'default'/ });
  await named.close();
});

test('progress() of a value that cannot be cloned throws a DataCloneError in the job, a function or a symbol as much as an object holding one', async (t) => {
  const pool = new Pool({ filename: jobsModule, maxThreads: 1 });
  const values: unknown[] = [];
  t.deepEqual(await pool.submit(null, { name: 'reportUncloneable', onProgress: (value) => values.push(value) }), ['DataCloneError', 'DataCloneError', 'DataCloneError']);
  t.deepEqual(values, []);
  await pool.close();
});
