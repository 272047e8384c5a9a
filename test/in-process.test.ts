import test from 'ava';
import { CancelledError, Pool, TimeoutError } from '../src/index.js';
import { deferred } from './helpers.js';

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
  const pool = new Pool({ run: (n: number) => (n === 0 ? new Promise(() => {}) : n), concurrency: 1, abortGrace: 20 });
  const stuck = pool.submit(0);
  const next = pool.submit(1);
  stuck.cancel();
  t.is(next.state, 'queued');
  t.is(await next, 1);
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
