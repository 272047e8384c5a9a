import test from 'ava';
import { CancelledError, type JobHandle, Pool, TimeoutError } from '../src/index.js';
import { deferred } from './helpers.js';

/** Resolves once the handle is `running`: its run function was called. */
function began(handle: JobHandle): Promise<void> {
  return new Promise((resolve) => handle.onStart(() => resolve()));
}

test('an in-process pool runs jobs on the event loop with the same handles, and starts no thread', async (t) => {
  const pool = new Pool({ run: async (url: string, job) => `${job.name ?? 'fetch'} ${url}`, concurrency: 2 });
  t.deepEqual(await Promise.all([pool.submit('a'), pool.submit('b', { name: 'head' })]), ['fetch a', 'head b']);
  t.is(pool.stats.threads, 0);
  await pool.close();
});

test('an in-process job reports progress and sees its signal abort when cancelled; the handle settles at once', async (t) => {
  const started = deferred<AbortSignal>();
  const pool = new Pool({
    run: (_: unknown, job) => {
      job.progress('half');
      started.resolve(job.signal);
      return new Promise((_resolve, reject) => job.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    },
    concurrency: 1,
  });
  const progress: unknown[] = [];
  const handle = pool.submit('x', { onProgress: (v) => progress.push(v) });
  const next = pool.submit('y', { hold: true });
  const signal = await started.promise;
  t.true(handle.cancel('enough'));
  t.true(signal.aborted);
  t.is(handle.state, 'cancelled');
  await t.throwsAsync(handle, { instanceOf: CancelledError });
  t.deepEqual(progress, ['half']);
  next.cancel();
  await pool.close();
});

test('an in-process job that ignores its signal frees its slot after abortGrace', async (t) => {
  let signal: AbortSignal | undefined;
  const pool = new Pool({
    run: (n: number, job) => {
      if (n !== 0) return n;
      signal = job.signal;
      return new Promise(() => {});
    },
    concurrency: 1,
    abortGrace: 20,
  });
  const stuck = pool.submit(0);
  const next = pool.submit(1);
  await began(stuck);
  t.is(stuck.state, 'running');
  t.true(stuck.cancel());
  t.is(stuck.state, 'cancelled');
  t.true(signal!.aborted);
  // The job ignores its signal: its slot is still taken until abortGrace has passed.
  t.is(next.state, 'queued');
  t.like(pool.stats, { running: 0, queued: 1 });
  t.is(await next, 1);
  await t.throwsAsync(stuck, { instanceOf: CancelledError });
  await pool.close();
});

test('an in-process job times out with TimeoutError', async (t) => {
  const pool = new Pool({ run: (_: unknown, job) => new Promise((resolve) => job.signal.addEventListener('abort', () => resolve('stopped'))), concurrency: 1 });
  await t.throwsAsync(pool.submit(1, { timeout: 10 }), { instanceOf: TimeoutError });
  await pool.close();
});

test('a run function that throws synchronously rejects only that handle', async (t) => {
  const pool = new Pool({
    run: (n: number) => {
      if (n < 0) throw new RangeError('negative');
      return n;
    },
    concurrency: 2,
  });
  await t.throwsAsync(pool.submit(-1), { instanceOf: RangeError });
  t.is(await pool.submit(3), 3);
  await pool.close();
});

test('an in-process job is queued right after submit, and running once its function is called; startedAt is that moment', async (t) => {
  const calledAt: number[] = [];
  const gate = deferred<string>();
  const pool = new Pool({
    run: () => {
      calledAt.push(performance.now());
      return gate.promise;
    },
    concurrency: 2,
  });
  const starts: number[] = [];
  pool.on('start', (handle) => starts.push(handle.id));
  const handle = pool.submit('x');
  // Nothing runs inside submit(): no 'start' event, no call, the job is queued though a slot is free.
  t.is(handle.state, 'queued');
  t.deepEqual(starts, []);
  t.deepEqual(calledAt, []);
  t.is(handle.timing.startedAt, undefined);
  t.like(pool.stats, { queued: 1, running: 0 });
  await began(handle);
  t.deepEqual(starts, [handle.id]);
  t.is(handle.state, 'running');
  t.like(pool.stats, { queued: 0, running: 1 });
  t.is(calledAt.length, 1);
  t.true(handle.timing.submittedAt <= handle.timing.startedAt!);
  t.true(handle.timing.startedAt! <= calledAt[0]!);
  gate.resolve('done');
  t.is(await handle, 'done');
  await pool.close();
});

test("no 'start' event or onStart callback fires inside submit(), even from a listener that submits", async (t) => {
  const pool = new Pool({ run: (n: number) => n, concurrency: 4 });
  const log: string[] = [];
  let inside = false;
  pool.on('start', (handle) => {
    log.push(`start ${handle.input} inside=${inside}`);
    // A listener that submits a job while another begins: that job does not begin inside this submit() either.
    if (handle.input === 1) {
      inside = true;
      pool.submit(2).onStart(() => log.push(`onStart 2 inside=${inside}`));
      inside = false;
    }
  });
  inside = true;
  const first = pool.submit(1).onStart(() => log.push(`onStart 1 inside=${inside}`));
  inside = false;
  t.deepEqual(log, []);
  t.is(await first, 1);
  await pool.idle();
  t.true(log.length === 4, log.join('; '));
  t.true(log.every((entry) => entry.endsWith('inside=false')), log.join('; '));
  await pool.close();
});

test('progress reported before the first await of an in-process job reaches callbacks chained right after submit()', async (t) => {
  const pool = new Pool({
    run: async (n: number, job) => {
      job.progress('before any await');
      for (let i = 0; i < n; i++) job.progress(i);
      await Promise.resolve();
      job.progress('after an await');
      return n;
    },
    concurrency: 1,
  });
  const chained: unknown[] = [];
  const handle = pool.submit(3).onProgress((value) => chained.push(value));
  const later: unknown[] = [];
  handle.onProgress((value) => later.push(value));
  t.is(await handle, 3);
  const expected = ['before any await', 0, 1, 2, 'after an await'];
  t.deepEqual(chained, expected);
  t.deepEqual(later, expected);
  // Same for a synchronous run function.
  const sync = new Pool({
    run: (n: number, job) => {
      job.progress(`sync ${n}`);
      return n;
    },
    concurrency: 1,
  });
  const seen: unknown[] = [];
  t.is(await sync.submit(7).onProgress((value) => seen.push(value)), 7);
  t.deepEqual(seen, ['sync 7']);
  await Promise.all([pool.close(), sync.close()]);
});

test('concurrency: Infinity runs every queued in-process job at once', async (t) => {
  const gates = Array.from({ length: 50 }, () => deferred<number>());
  const pool = new Pool({ run: (n: number) => gates[n]!.promise, concurrency: Infinity });
  t.is(pool.concurrency, Infinity);
  t.is(pool.stats.concurrency, Infinity);
  const handles = gates.map((_, n) => pool.submit(n));
  t.like(pool.stats, { queued: 50, running: 0 });
  await Promise.all(handles.map(began));
  t.like(pool.stats, { queued: 0, running: 50 });
  t.true(handles.every((handle) => handle.state === 'running'));
  gates.forEach((gate, n) => gate.resolve(n * 2));
  t.deepEqual(await Promise.all(handles), gates.map((_, n) => n * 2));
  // Lowering the limit from Infinity and raising it back works too.
  pool.concurrency = 1;
  const blocked = deferred<number>();
  gates[0] = blocked;
  gates[1] = deferred<number>();
  const [a, b] = [pool.submit(0), pool.submit(1)];
  await began(a);
  t.is(b.state, 'queued');
  pool.concurrency = Infinity;
  await began(b);
  blocked.resolve(0);
  gates[1]!.resolve(1);
  t.deepEqual(await Promise.all([a, b]), [0, 1]);
  await pool.close();
});
