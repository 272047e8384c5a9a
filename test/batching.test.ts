// Brief jobs travel several to a Piscina task (see the README, "Brief jobs travel together"). Every
// guarantee of a lone job must hold for a job sent with others: its own result or error, exactly
// once; a thread that dies takes only the job it was running; cancel, promote, progress as ever.
// Which jobs shared a task is read from the log the fixture writes (thread and turn of each job).
import test from 'ava';
import { move, Pool, type JobHandle, type PoolOptions } from '../src/index.js';
import { Ledger, watchProcess } from './fixtures/fault-harness.js';
import { batchOf, newLog, startOrder, type Step } from './fixtures/batch.js';
import { Latches } from './helpers.js';

const batchWorker = new URL('./fixtures/batch.ts', import.meta.url);
const threads = 2;

/**
 * A pool over the batch fixture whose threads have measured its export as brief: most of the last
 * jobs ran under 100 µs. Run times are wall-clock, and the tests of a file share two cores, so a
 * job preempted mid-way reads as long: rounds of jobs go on until the export reads as brief.
 */
async function briefPool(t: { is: (actual: unknown, expected: unknown, message?: string) => void }, options: Partial<PoolOptions> = {}): Promise<Pool> {
  const pool = new Pool({ filename: batchWorker, maxThreads: threads, minThreads: threads, ...options });
  const log = newLog(40);
  const brief = () => pool.concurrency === 8 * threads;
  for (let round = 0; round === 0 || (round < 50 && !brief()); round++) {
    await Promise.all(Array.from({ length: 40 }, (_, index) => pool.submit({ index, log } satisfies Step)));
    if (options.concurrency !== undefined) break;
  }
  if (options.concurrency === undefined) t.is(pool.concurrency, 8 * threads, 'brief jobs raise the default concurrency');
  return pool;
}

/** The jobs of `log` grouped by the task that carried them. */
function batches(log: Int32Array, count: number): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (let index = 0; index < count; index++) {
    const key = batchOf(log, index);
    if (key === undefined) continue;
    groups.set(key, [...(groups.get(key) ?? []), index]);
  }
  return groups;
}

test('brief jobs share tasks, never more than the concurrency; each gets back exactly its own value', async (t) => {
  const pool = await briefPool(t);
  let mostRunning = 0;
  pool.on('start', () => (mostRunning = Math.max(mostRunning, pool.stats.running)));
  const values: unknown[] = [0, -0, NaN, Infinity, 2 ** 53 + 2, 10n ** 30n, 'text', '', 'é∑😀\u{d800}', true, false, null, undefined, [1, 'two', null], { a: 1, b: 'b' }, { deep: { list: [1, { two: 2 }] } }, Object.assign(Object.create(null), { bare: true }), [,,1]];
  const log = newLog(400);
  const handles = Array.from({ length: 400 }, (_, index) => pool.submit({ index, log, value: values[index % values.length] } satisfies Step));
  const results = await Promise.all(handles);
  for (const [index, result] of results.entries()) {
    const expected = values[index % values.length];
    if (typeof expected === 'number') t.true(Object.is(result, expected), `job ${index}: ${String(result)}`);
    else t.deepEqual(result, expected, `job ${index}`);
  }
  const sizes = [...batches(log, 400).values()].map((jobs) => jobs.length);
  t.true(Math.max(...sizes) > 1, `tasks carried ${Math.max(...sizes)} jobs at most`);
  t.true(Math.max(...sizes) <= pool.concurrency);
  t.true(mostRunning <= pool.concurrency, `${mostRunning} running at once`);
  await pool.close();
});

test('results that cannot wait in shared memory come back exactly (binary stays a Uint8Array); the export is then sent one job per task', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(120);
  const long = 'x'.repeat(1000);
  const expected = (index: number): unknown =>
    index % 3 === 0 ? Uint8Array.from([index & 255, 1, 2]) : index % 3 === 1 ? new Map([[index, new Date(index)]]) : `${long}${index}`;
  const handles = Array.from({ length: 60 }, (_, index) =>
    pool.submit(index % 3 === 0 ? { index, log, bytes: [index & 255, 1, 2] } : { index, log, value: expected(index) }),
  );
  for (const [index, result] of (await Promise.all(handles)).entries()) {
    t.deepEqual(result, expected(index), `job ${index}`);
    if (index % 3 === 0) t.is(Object.getPrototypeOf(result), Uint8Array.prototype, `job ${index} is a Uint8Array, not a Buffer`);
  }
  t.is(pool.concurrency, 2 * threads, 'no longer brief: the default concurrency is back to twice the threads');
  const later = Array.from({ length: 60 }, (_, offset) => pool.submit({ index: 60 + offset, log } satisfies Step));
  t.deepEqual(await Promise.all(later), Array.from({ length: 60 }, (_, offset) => 60 + offset));
  const shared = [...batches(log, 120).values()].filter((jobs) => jobs.some((index) => index >= 60) && jobs.length > 1);
  t.deepEqual(shared, [], 'after that, one job per task');
  await pool.close();
});

test('a thread that dies in the middle of a batch takes only its own job: those before it keep their results, those after it run elsewhere', async (t) => {
  const watch = watchProcess();
  const pool = await briefPool(t);
  const ledger = new Ledger(pool);
  const log = newLog(96);
  const dies = (index: number) => index % 16 === 5;
  const handles = Array.from({ length: 96 }, (_, index) =>
    ledger.add(pool.submit<number>(dies(index) ? { index, log, exit: 9 } : ({ index, log } satisfies Step))),
  );
  await ledger.allSettled();
  for (const [index, handle] of handles.entries()) {
    if (dies(index)) {
      t.is(handle.state, 'rejected', `job ${index}`);
      t.regex((handle.outcome as { reason: Error }).reason.message, /the worker exited while running job \d+: .*\b9\b/);
    } else {
      t.deepEqual(handle.outcome, { status: 'fulfilled', value: index }, `job ${index}`);
    }
  }
  // The case this test is for happened: a dying job shared its task with jobs that had finished.
  const groups = batches(log, 96);
  const salvaged = handles.some((_, index) => dies(index) && (groups.get(batchOf(log, index)!) ?? []).some((other) => other < index));
  t.true(salvaged, 'some job that died was sent with jobs that finished before it');
  await pool.close();
  const { threads: _threads, concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: counts.fulfilled, rejected: 6, cancelled: 0 });
  t.is((counts.fulfilled - (96 - 6)) % 40, 0, 'the warm-up rounds and the 90 that live');
  t.deepEqual(ledger.problems(), []);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test('a batched job that ignores its cancellation has its thread ended after abortGrace; its batch-mates are not lost', async (t) => {
  const pool = await briefPool(t, { abortGrace: 50 });
  const ledger = new Ledger(pool);
  const latches = new Latches(1);
  const log = newLog(40);
  const stuckIndex = 5;
  const handles = Array.from({ length: 40 }, (_, index) =>
    ledger.add(pool.submit<number | string>(index === stuckIndex ? { index, log, stuck: latches.latch(0) } : ({ index, log } satisfies Step))),
  );
  await latches.started(0);
  t.true(handles[stuckIndex]!.cancel('enough'));
  await ledger.allSettled();
  for (const [index, handle] of handles.entries()) {
    if (index === stuckIndex) t.is(handle.state, 'cancelled');
    else t.deepEqual(handle.outcome, { status: 'fulfilled', value: index }, `job ${index}`);
  }
  const mates = batches(log, 40).get(batchOf(log, stuckIndex)!) ?? [];
  t.true(mates.some((index) => index < stuckIndex), `the stuck job was sent with jobs before it: ${mates.join(', ')}`);
  t.deepEqual(ledger.problems(), []);
  await pool.close();
});

test('a job that throws in a batch rejects alone, with its error intact; a thrown value that is not an Error comes back as it was', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(64);
  const kind = (index: number) => (index % 8 === 3 ? 'fail' : index % 8 === 6 ? 'throw' : 'value');
  const thrown = (index: number) => (index % 16 === 6 ? `plain ${index}` : { code: index });
  const handles = Array.from({ length: 64 }, (_, index) => {
    const input: Step = { index, log };
    if (kind(index) === 'fail') input.fail = `bad step ${index}`;
    if (kind(index) === 'throw') input.throwValue = thrown(index);
    const handle = pool.submit(input);
    handle.catch(() => {});
    return handle;
  });
  for (const [index, handle] of handles.entries()) {
    if (kind(index) === 'value') {
      t.is(await handle, index);
    } else if (kind(index) === 'fail') {
      const error = await t.throwsAsync(handle, { instanceOf: Error, message: `bad step ${index}` });
      t.is(error!.name, 'RangeError');
      t.is((error as Error & { code?: string }).code, 'E_STEP');
    } else {
      t.deepEqual(await handle.then(() => 'fulfilled', (reason: unknown) => reason), thrown(index), `job ${index}`);
    }
  }
  await pool.close();
});

test('progress of batched jobs reaches only its own handle, in order, before it settles', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(80);
  const seen: unknown[][] = Array.from({ length: 80 }, () => []);
  const handles = Array.from({ length: 80 }, (_, index) => {
    const handle = pool.submit({ index, log, report: [`${index}a`, `${index}b`, `${index}c`] } satisfies Step, {
      onProgress: (value: unknown) => seen[index]!.push(value),
    });
    handle.onDone(() => seen[index]!.push('settled'));
    return handle;
  });
  await Promise.all(handles);
  for (const [index, values] of seen.entries()) t.deepEqual(values, [`${index}a`, `${index}b`, `${index}c`, 'settled'], `job ${index}`);
  t.true([...batches(log, 80).values()].some((jobs) => jobs.length > 1), 'some of them travelled together');
  await pool.close();
});

test('an input that cannot be cloned rejects only its own job, though it was to travel with others', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(48);
  const bad = (index: number) => index % 12 === 7;
  const handles = Array.from({ length: 48 }, (_, index) => {
    const handle = pool.submit(bad(index) ? { index, log, value: 1, notCloneable: () => index } : ({ index, log } satisfies Step));
    handle.catch(() => {});
    return handle;
  });
  for (const [index, handle] of handles.entries()) {
    if (bad(index)) {
      const error = await t.throwsAsync(handle);
      t.is(error!.name, 'DataCloneError', `job ${index}`);
      t.is(batchOf(log, index), undefined, `job ${index} never ran`);
    } else {
      t.is(await handle, index);
    }
  }
  await pool.close();
});

test('while every thread is busy: a job cancelled before it was posted never starts, a promoted job goes before those handed over earlier', async (t) => {
  const pool = await briefPool(t);
  const latches = new Latches(2);
  const log = newLog(12);
  const blockers = [0, 1].map((index) => pool.submit({ index, log, stuck: latches.latch(index) } satisfies Step));
  await Promise.all([latches.started(0), latches.started(1)]);
  const waiting = Array.from({ length: 8 }, (_, offset) => pool.submit<number>({ index: 2 + offset, log } satisfies Step));
  t.true(waiting.every((handle) => handle.state === 'running'), 'handed over: the concurrency has room for them');
  const urgent = pool.submit<number>({ index: 10, log } satisfies Step, { hold: true });
  const dropped = waiting[3]!;
  t.true(dropped.cancel());
  urgent.promote();
  latches.release(0);
  t.is(await urgent, 10);
  latches.release(1);
  await Promise.all(blockers);
  const finished = await Promise.all(waiting.filter((handle) => handle !== dropped));
  t.deepEqual(finished, [2, 3, 4, 6, 7, 8, 9]);
  t.is(dropped.state, 'cancelled');
  t.is(batchOf(log, 5), undefined, 'the cancelled job never reached a thread');
  for (const index of [2, 3, 4, 6, 7, 8, 9]) t.true(startOrder(log, 10) < startOrder(log, index), `promoted job started before job ${index}`);
  await pool.close();
});

test('the default concurrency follows job length; a concurrency given is kept, and bounds batches too', async (t) => {
  const pool = new Pool({ filename: batchWorker, maxThreads: threads, minThreads: threads });
  t.is(pool.concurrency, 2 * threads);
  const log = newLog(100);
  await Promise.all(Array.from({ length: 40 }, (_, index) => pool.submit({ index, log } satisfies Step)));
  t.is(pool.concurrency, 8 * threads);
  await Promise.all(Array.from({ length: 4 }, (_, offset) => pool.submit({ index: 40 + offset, log, spin: 5 } satisfies Step)));
  t.is(pool.concurrency, 2 * threads, 'jobs of 5 ms are not brief');
  await pool.close();

  const fixed = await briefPool(t, { concurrency: 3 });
  t.is(fixed.concurrency, 3);
  let mostRunning = 0;
  fixed.on('start', () => (mostRunning = Math.max(mostRunning, fixed.stats.running)));
  const fixedLog = newLog(200);
  const handles: JobHandle<number>[] = Array.from({ length: 200 }, (_, index) => fixed.submit<number>({ index, log: fixedLog } satisfies Step));
  t.deepEqual(await Promise.all(handles), Array.from({ length: 200 }, (_, index) => index));
  t.is(fixed.concurrency, 3);
  t.true(mostRunning <= 3, `${mostRunning} running at once`);
  t.true([...batches(fixedLog, 200).values()].every((jobs) => jobs.length <= 3));
  await fixed.close();
});

test('inputs given with move() or a transferList are transferred, never put in a batch, though their export is brief', async (t) => {
  const pool = new Pool({ filename: batchWorker, maxThreads: threads, minThreads: threads });
  const bytes = (index: number) => Uint8Array.from({ length: 8 }, (_, at) => (index + at) & 255);
  const sum = (index: number) => bytes(index).reduce((total, byte) => total + byte, 0);
  await Promise.all(Array.from({ length: 40 }, (_, index) => pool.submit(bytes(index), { name: 'measure' })));
  const inputs = Array.from({ length: 24 }, (_, index) => bytes(index));
  const handles = inputs.map((input, index) =>
    index % 3 === 0
      ? pool.submit<[number, number]>(input, { name: 'measure' })
      : index % 3 === 1
        ? pool.submit<[number, number]>(move(input), { name: 'measure' })
        : pool.submit<[number, number]>(input, { name: 'measure', transferList: [input.buffer] }),
  );
  t.deepEqual(await Promise.all(handles), inputs.map((_, index) => [8, sum(index)]));
  for (const [index, input] of inputs.entries()) t.is(input.byteLength, index % 3 === 0 ? 8 : 0, `job ${index}: copied, or transferred`);
  await pool.close();
});

test('a job that finished in a batch settles while a later batch-mate still runs, before its own timeout', async (t) => {
  const pool = await briefPool(t, { abortGrace: 50 });
  const latches = new Latches(1);
  const log = newLog(10);
  const handles = Array.from({ length: 10 }, (_, index) =>
    pool.submit<number | string>(index === 3 ? { index, log, stuck: latches.latch(0) } : ({ index, log } satisfies Step), index === 2 ? { timeout: 1_000 } : {}),
  );
  await latches.started(0);
  t.is(batchOf(log, 2), batchOf(log, 3), 'jobs 2 and 3 travelled together');
  t.is(await handles[2]!, 2);
  t.is(handles[3]!.state, 'running', 'job 2 settled while job 3 ran');
  latches.release(0);
  t.deepEqual(await Promise.all(handles), [0, 1, 2, 'released', 4, 5, 6, 7, 8, 9]);
  t.is(pool.stats.threads, threads, 'no thread was ended');
  await pool.close();
});

test('a result that cannot be cloned (a Proxy) rejects only its own job, with a DataCloneError, in a batch or alone', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(40);
  const handles = Array.from({ length: 40 }, (_, index) => {
    const handle = pool.submit({ index, log, proxy: index % 10 === 4 } satisfies Step);
    handle.catch(() => {});
    return handle;
  });
  for (const [index, handle] of handles.entries()) {
    if (index % 10 === 4) {
      const error = await t.throwsAsync(handle);
      t.is(error!.name, 'DataCloneError', `job ${index}`);
      t.regex(error!.message, /result could not be cloned/);
    } else {
      t.is(await handle, index);
    }
  }
  t.is(pool.stats.threads, threads, 'no thread died of it');
  await pool.close();
});

test('a promoted job overtakes a job already waiting in Piscina for the thread', async (t) => {
  const pool = new Pool({ filename: batchWorker, maxThreads: 1, minThreads: 1 });
  const latches = new Latches(1);
  const log = newLog(3);
  const blocker = pool.submit({ index: 0, log, stuck: latches.latch(0) } satisfies Step);
  await latches.started(0);
  const waiting = pool.submit<number>({ index: 1, log } satisfies Step);
  t.is(waiting.state, 'running', 'handed over, waiting for the one thread');
  const urgent = pool.submit<number>({ index: 2, log } satisfies Step, { hold: true }).promote();
  latches.release(0);
  t.deepEqual(await Promise.all([blocker, waiting, urgent]), ['released', 1, 2]);
  t.true(startOrder(log, 2) < startOrder(log, 1), 'the promoted job started first');
  await pool.close();
});

test('promoted jobs waiting for a busy thread start in the order they were promoted', async (t) => {
  const pool = new Pool({ filename: batchWorker, maxThreads: 1, minThreads: 1 });
  const latches = new Latches(1);
  const log = newLog(5);
  const blocker = pool.submit({ index: 0, log, stuck: latches.latch(0) } satisfies Step);
  await latches.started(0);
  const held = [1, 2, 3, 4].map((index) => pool.submit<number>({ index, log } satisfies Step, { hold: true }));
  for (const handle of held) handle.promote();
  latches.release(0);
  t.deepEqual(await Promise.all(held), [1, 2, 3, 4]);
  await blocker;
  t.deepEqual([1, 2, 3, 4].map((index) => startOrder(log, index)), [2, 3, 4, 5], 'in the order promoted, after the blocker');
  await pool.close();
});
