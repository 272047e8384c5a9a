// Brief jobs travel several to a Piscina task (up to 16), and each thread holds two tasks: the one
// it runs and the next. Every guarantee of a lone job must hold for a job sent with others: its own
// result or error and its own copy of its input, exactly once; a thread that dies takes only the
// job it was running. A job sent ahead is still `queued` until its thread claims it, just before it
// begins: until then cancel() is free and promote() reaches it (the pool takes it back). A thread
// that frees up takes over what another thread's batch has not begun.
// Which jobs shared a task is read from the log the fixture writes (thread and turn of each job).
// Everything here synchronises on events, handles and latches in shared memory, never on sleeps.
import test, { type ExecutionContext } from 'ava';
import { move, Pool, type JobHandle, type PoolOptions, type SubmitOptions } from '../src/index.js';
import { Ledger, settled, started, unlessHung, watchProcess } from './fixtures/fault-harness.js';
import { batchOf, batches, hasEnded, mostAtOnce, newLog, startOrder, threadOf, type Step } from './fixtures/batch.js';
import { Latches } from './helpers.js';

const batchWorker = new URL('./fixtures/batch.ts', import.meta.url);
const threads = 2;
/** The most jobs one task carries. */
const batchMost = 16;
/** Jobs per warm-up round. */
const roundJobs = 40;
/** Warm-up rounds at the most: run times are wall-clock, and a loaded machine may need several. */
const mostRounds = 50;

/** Whether some task of `log` (its first `count` jobs) carried several jobs. */
function someShared(log: Int32Array, count: number): boolean {
  return [...batches(log, count).values()].some((jobs) => jobs.length > 1);
}

/**
 * A pool over the batch fixture whose export reads brief: rounds of jobs run until one of them
 * shows, in the fixture's log, a task that carried several jobs (run times are wall-clock, and the
 * tests of a file share two cores, so a job preempted mid-way reads as long).
 */
async function briefPool(t: ExecutionContext, options: Partial<PoolOptions> = {}): Promise<Pool> {
  const pool = new Pool({ filename: batchWorker, maxThreads: threads, minThreads: threads, ...options });
  let brief = false;
  for (let round = 0; round < mostRounds && !brief; round++) {
    const log = newLog(roundJobs);
    await Promise.all(Array.from({ length: roundJobs }, (_, index) => pool.submit({ index, log } satisfies Step)));
    brief = someShared(log, roundJobs);
  }
  t.true(brief, `after ${mostRounds} rounds of ${roundJobs} jobs, the export still travels one job per task`);
  return pool;
}

/**
 * Submits `inputs` while the pool is paused, then resumes it: the pool hands them over from a full
 * queue, so the tasks they travel in are known (brief jobs: as many as fill each task the threads
 * can hold, in submission order).
 */
function submitAtOnce<T>(pool: Pool, inputs: Step[], options: (index: number) => SubmitOptions = () => ({})): JobHandle<T>[] {
  pool.pause();
  const handles = inputs.map((input, index) => pool.submit<T>(input, options(index)));
  pool.resume();
  return handles;
}

/**
 * Submits `count` jobs at once (see submitAtOnce), job `stuck` waiting on a latch, until job
 * `stuck - 1` travelled in the same task as it: then the jobs after it in that task (a brief
 * export's first task from a full queue holds a fair share of them) wait behind it, unbegun.
 * A batch stops at the first job boundary after 1 ms of work, which a loaded machine may reach
 * early; such an attempt runs out and another begins (bounded).
 */
async function stuckInBatch(t: ExecutionContext, pool: Pool, count: number, stuck: number) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const latches = new Latches(1);
    // Whatever happens, the stuck job ends, so that its pool can close.
    t.teardown(() => latches.release(0));
    const log = newLog(count);
    const handles = submitAtOnce<number | string>(pool, Array.from({ length: count }, (_, index) => (index === stuck ? { index, log, stuck: latches.latch(0) } : ({ index, log } satisfies Step))));
    await latches.started(0);
    if (batchOf(log, stuck - 1) === batchOf(log, stuck)) return { handles, log, latches };
    latches.release(0);
    await Promise.all(handles);
  }
  t.fail(`job ${stuck - 1} never travelled with job ${stuck}`);
  throw new Error('no batch');
}

test('brief jobs share tasks, up to 16 a task; no more run at once than the concurrency; each gets back exactly its own value', async (t) => {
  const pool = await briefPool(t);
  t.is(pool.concurrency, threads, 'the default concurrency is what the threads run at once, brief jobs or not');
  let mostRunning = 0;
  pool.on('start', () => (mostRunning = Math.max(mostRunning, pool.stats.running)));
  const values: unknown[] = [0, -0, NaN, Infinity, 2 ** 53 + 2, 10n ** 30n, 'text', '', 'é∑😀\u{d800}', true, false, null, undefined, [1, 'two', null], { a: 1, b: 'b' }, { deep: { list: [1, { two: 2 }] } }, Object.assign(Object.create(null), { bare: true }), [, , 1]];
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
  t.true(Math.max(...sizes) <= batchMost, `a task carried ${Math.max(...sizes)} jobs`);
  t.true(mostAtOnce(log) <= pool.concurrency, `${mostAtOnce(log)} jobs ran at once in the threads`);
  t.true(mostRunning <= pool.concurrency, `${mostRunning} jobs were running at once, as the pool saw it`);
  await pool.close();
});

test('one input given to several batched jobs: each job gets its own copy (a handler that mutates it sees 1 each time)', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(64);
  // The same object is the input of 32 jobs; one inner object is part of the 32 other inputs.
  const whole: Step = { log, bump: { count: 0 } };
  const inner = { count: 0 };
  const handles = submitAtOnce<number>(pool, Array.from({ length: 64 }, (_, index) => (index < 32 ? whole : { log, bump: inner })));
  t.deepEqual(await Promise.all(handles), Array.from({ length: 64 }, () => 1));
  t.is(whole.bump!.count, 0, "the submitter's object is not touched");
  t.is(inner.count, 0);
  t.true(someShared(log, 64), 'some of them travelled together');
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
  t.is(pool.concurrency, threads, 'the concurrency does not follow job length');
  const later = submitAtOnce<number>(pool, Array.from({ length: 60 }, (_, offset) => ({ index: 60 + offset, log }) satisfies Step));
  t.deepEqual(await Promise.all(later), Array.from({ length: 60 }, (_, offset) => 60 + offset));
  const shared = [...batches(log, 120).values()].filter((jobs) => jobs.some((index) => index >= 60) && jobs.length > 1);
  t.deepEqual(shared, [], 'after that, one job per task');
  await pool.close();
});

test('a thread that dies in the middle of a batch takes only its own job: those before it keep their results, those after it run elsewhere', async (t) => {
  const watch = watchProcess();
  const pool = await briefPool(t);
  const warmedUp = pool.stats.fulfilled;
  const ledger = new Ledger(pool);
  const log = newLog(96);
  const dies = (index: number) => index % 16 === 5;
  const handles = submitAtOnce<number>(pool, Array.from({ length: 96 }, (_, index) => (dies(index) ? { index, log, exit: 9 } : ({ index, log } satisfies Step))));
  for (const handle of handles) ledger.add(handle);
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
  const { threads: _threads, concurrency: _concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: warmedUp + 90, rejected: 6, cancelled: 0 });
  t.deepEqual(ledger.problems(), []);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test('a batched job that ignores its cancellation has its thread ended after abortGrace; its batch-mates are not lost', async (t) => {
  const pool = await briefPool(t, { abortGrace: 50 });
  const ledger = new Ledger(pool);
  const stuckIndex = 5;
  // Until the stuck job travels with jobs before it (a loaded machine may end a batch early).
  const { handles, log } = await stuckInBatch(t, pool, 40, stuckIndex);
  for (const handle of handles) ledger.add(handle);
  await started(handles[stuckIndex]!);
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
  const inputs = Array.from({ length: 64 }, (_, index) => {
    const input: Step = { index, log };
    if (kind(index) === 'fail') input.fail = `bad step ${index}`;
    if (kind(index) === 'throw') input.throwValue = thrown(index);
    return input;
  });
  const handles = submitAtOnce(pool, inputs);
  for (const handle of handles) handle.catch(() => {});
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
  const groups = batches(log, 64);
  t.true(
    handles.some((_, index) => kind(index) !== 'value' && (groups.get(batchOf(log, index)!) ?? []).length > 1),
    'some job that threw travelled with others',
  );
  await pool.close();
});

test('progress of batched jobs reaches only its own handle, in order, before it settles', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(80);
  const seen: unknown[][] = Array.from({ length: 80 }, () => []);
  const handles = submitAtOnce(
    pool,
    Array.from({ length: 80 }, (_, index) => ({ index, log, report: [`${index}a`, `${index}b`, `${index}c`] }) satisfies Step),
    (index) => ({ onProgress: (value: unknown) => seen[index]!.push(value) }),
  );
  for (const [index, handle] of handles.entries()) handle.onDone(() => seen[index]!.push('settled'));
  await Promise.all(handles);
  for (const [index, values] of seen.entries()) t.deepEqual(values, [`${index}a`, `${index}b`, `${index}c`, 'settled'], `job ${index}`);
  t.true(someShared(log, 80), 'some of them travelled together');
  await pool.close();
});

test('an input that cannot be cloned rejects only its own job, though it was to travel with others', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(48);
  const bad = (index: number) => index % 12 === 7;
  const handles = submitAtOnce(pool, Array.from({ length: 48 }, (_, index) => (bad(index) ? ({ index, log, value: 1, notCloneable: () => index } as Step) : ({ index, log } satisfies Step))));
  for (const handle of handles) handle.catch(() => {});
  for (const [index, handle] of handles.entries()) {
    if (bad(index)) {
      const error = await t.throwsAsync(handle);
      t.is(error!.name, 'DataCloneError', `job ${index}`);
      t.is(batchOf(log, index), undefined, `job ${index} never ran`);
    } else {
      t.is(await handle, index);
    }
  }
  t.true(someShared(log, 48), 'the others travelled together');
  await pool.close();
});

test('a job cancelled while it waits in a batch (not begun) never runs, and is cancelled at once', async (t) => {
  const pool = await briefPool(t, { maxThreads: 1, minThreads: 1 });
  // One thread holds two tasks: jobs 0–9 in the first (job 1 gets stuck), 10–14 in the second.
  const ledger = new Ledger(pool);
  const { handles, log, latches } = await stuckInBatch(t, pool, 20, 1);
  for (const handle of handles) ledger.add(handle);
  await started(handles[1]!);
  const dropped = [handles[5]!, handles[12]!];
  for (const handle of dropped) {
    t.is(handle.state, 'queued', `job ${handles.indexOf(handle)} waits in its batch, not begun`);
    let doneCalled = false;
    handle.onDone(() => (doneCalled = true));
    t.true(handle.cancel('not wanted'));
    t.is(handle.state, 'cancelled', 'at once');
    t.deepEqual(handle.outcome, { status: 'rejected', reason: (handle.outcome as { reason: unknown }).reason });
    t.false(doneCalled, 'onDone comes on a later microtask');
    await settled(handle);
  }
  t.is(pool.stats.cancelled, 2);
  t.is(pool.stats.running, 1, 'only the stuck job is running');
  latches.release(0);
  await ledger.allSettled();
  for (const [index, handle] of handles.entries()) {
    if (index === 5 || index === 12) {
      t.is(handle.state, 'cancelled');
      t.is(batchOf(log, index), undefined, `job ${index} never ran`);
    } else {
      t.deepEqual(handle.outcome, { status: 'fulfilled', value: index === 1 ? 'released' : index }, `job ${index}`);
    }
  }
  t.deepEqual(ledger.problems(), []);
  await pool.close();
});

test("a job of a batch is running only once its thread began it: its 'start' comes after the job before it on that thread ended", async (t) => {
  const pool = await briefPool(t);
  const ledger = new Ledger(pool);
  const count = 200;
  const log = newLog(count);
  const indexOf = new Map<JobHandle<any, any>, number>();
  // For each job, at its 'start': which jobs had ended on their threads.
  const endedAtStart: boolean[][] = [];
  pool.on('start', (handle: JobHandle) => {
    const index = indexOf.get(handle);
    if (index !== undefined) endedAtStart[index] = Array.from({ length: count }, (_, other) => hasEnded(log, other));
  });
  const handles = submitAtOnce<number>(pool, Array.from({ length: count }, (_, index) => ({ index, log }) satisfies Step));
  for (const [index, handle] of handles.entries()) {
    indexOf.set(handle, index);
    ledger.add(handle);
  }
  await ledger.allSettled();
  t.deepEqual(ledger.problems(), []);
  for (const [index, handle] of handles.entries()) t.deepEqual(handle.outcome, { status: 'fulfilled', value: index }, `job ${index}`);
  t.true(someShared(log, count), 'jobs travelled together');
  // One job at a time per thread: each began after the one before it on its thread ended, and
  // the pool may say it began only once it did.
  const byThread = new Map<number, number[]>();
  for (let index = 0; index < count; index++) byThread.set(threadOf(log, index), [...(byThread.get(threadOf(log, index)) ?? []), index]);
  let checked = 0;
  for (const jobs of byThread.values()) {
    jobs.sort((a, b) => startOrder(log, a) - startOrder(log, b));
    for (let at = 1; at < jobs.length; at++) {
      const [before, index] = [jobs[at - 1]!, jobs[at]!];
      t.true(endedAtStart[index]![before], `job ${index} had its 'start' before job ${before}, before it on its thread, ended`);
      checked++;
    }
  }
  t.is(checked, count - byThread.size);
  await pool.close();
});

test('while the jobs of a batch wait behind a stuck batch-mate they stay queued, with no start', async (t) => {
  const pool = await briefPool(t, { maxThreads: 1, minThreads: 1 });
  const startedJobs = new Set<JobHandle<any, any>>();
  pool.on('start', (handle: JobHandle) => startedJobs.add(handle));
  // One thread: jobs 0–4 in its first task (job 1 gets stuck), 5–9 in its next.
  const { handles, log, latches } = await stuckInBatch(t, pool, 10, 1);
  await started(handles[1]!);
  t.is(await handles[0]!, 0, 'the job before it has its result');
  t.is(handles[1]!.state, 'running');
  for (const [index, handle] of handles.entries()) {
    if (index < 2) continue;
    t.is(handle.state, 'queued', `job ${index}`);
    t.is(handle.timing.startedAt, undefined, `job ${index}`);
    t.false(startedJobs.has(handle), `job ${index}: no 'start' event`);
    t.is(batchOf(log, index), undefined, `job ${index} has not begun`);
  }
  t.deepEqual({ running: pool.stats.running, queued: pool.stats.queued }, { running: 1, queued: 8 });
  latches.release(0);
  t.deepEqual(await Promise.all(handles), [0, 'released', 2, 3, 4, 5, 6, 7, 8, 9]);
  await pool.close();
});

test('a promoted job overtakes the jobs sent ahead to a thread, in a batch or as its next task', async (t) => {
  const pool = await briefPool(t, { maxThreads: 1, minThreads: 1 });
  const latches = new Latches(1);
  // Whatever happens, the stuck job ends, so that its pool can close.
  t.teardown(() => latches.release(0));
  const log = newLog(22);
  // Jobs 0–9 go in the thread's first task (job 0 gets stuck), 10–14 in its next; 15–19 stay in the pool.
  const handles = submitAtOnce<number | string>(pool, Array.from({ length: 20 }, (_, index) => (index === 0 ? { index, log, stuck: latches.latch(0) } : ({ index, log } satisfies Step))));
  await latches.started(0);
  await started(handles[0]!);
  t.true(handles.slice(1).every((handle) => handle.state === 'queued'), 'sent ahead or not, they are queued');
  const urgent = pool.submit<number>({ index: 20, log } satisfies Step, { hold: true });
  t.is(urgent.promote(), urgent);
  const dropped = handles[3]!;
  t.true(dropped.cancel());
  latches.release(0);
  t.is(await urgent, 20);
  const rest = handles.filter((handle) => handle !== dropped);
  const expected = Array.from({ length: 20 }, (_, index) => (index === 0 ? 'released' : index)).filter((value) => value !== 3);
  t.deepEqual(await Promise.all(rest), expected);
  t.is(batchOf(log, 3), undefined, 'the cancelled job never ran');
  t.is(startOrder(log, 20), 2, 'the promoted job began right after the stuck one');
  for (let index = 1; index < 20; index++) if (index !== 3) t.true(startOrder(log, 20) < startOrder(log, index), `promoted job began before job ${index}`);
  await pool.close();
});

test("a thread that frees up takes over the unbegun tail of another thread's batch", async (t) => {
  const pool = await briefPool(t);
  // Four tasks out (two per thread): jobs 0–9 in the first, job 1 gets stuck.
  const { handles, log, latches } = await stuckInBatch(t, pool, 40, 1);
  const others = handles.filter((_, index) => index !== 1);
  const results = await unlessHung(Promise.all(others), 'the jobs waiting behind the stuck one, with the other thread free,');
  t.deepEqual(results, Array.from({ length: 40 }, (_, index) => index).filter((index) => index !== 1));
  t.is(handles[1]!.state, 'running', 'every other job ran while job 1 was stuck');
  t.false(hasEnded(log, 1));
  const stuckThread = threadOf(log, 1);
  const tail = [2, 3, 4, 5, 6, 7, 8, 9];
  t.deepEqual(
    tail.filter((index) => threadOf(log, index) === stuckThread),
    [],
    'the rest of the stuck batch ran on the other thread',
  );
  latches.release(0);
  t.is(await handles[1]!, 'released');
  await pool.close();
});

test('a job that finished in a batch settles while a later batch-mate still runs', async (t) => {
  const pool = await briefPool(t, { maxThreads: 1, minThreads: 1 });
  // One thread: jobs 0–4 in its first task (job 3 gets stuck), 5–9 in its next.
  const { handles, log, latches } = await stuckInBatch(t, pool, 10, 3);
  // The jobs that ran before job 3 in its task (job 2 at least) stored their results.
  const before = (batches(log, 10).get(batchOf(log, 3)!) ?? []).filter((index) => index < 3);
  t.true(before.includes(2));
  t.deepEqual(await unlessHung(Promise.all(before.map((index) => handles[index]!)), 'the results stored by the jobs before job 3'), before);
  t.is(handles[3]!.state, 'running', 'they settled while job 3 ran');
  t.false(hasEnded(log, 3));
  latches.release(0);
  t.deepEqual(await Promise.all(handles), [0, 1, 2, 'released', 4, 5, 6, 7, 8, 9]);
  t.is(pool.stats.threads, 1, 'no thread was ended');
  await pool.close();
});

test('the default concurrency is what the threads run at once, whatever the job length; below it nothing is sent ahead; a concurrency given is kept', async (t) => {
  const pool = new Pool({ filename: batchWorker, maxThreads: threads, minThreads: threads });
  t.is(pool.concurrency, threads);
  let brief = false;
  for (let round = 0; round < mostRounds && !brief; round++) {
    const log = newLog(roundJobs);
    await Promise.all(Array.from({ length: roundJobs }, (_, index) => pool.submit({ index, log } satisfies Step)));
    brief = someShared(log, roundJobs);
  }
  t.true(brief, 'the export reads brief');
  t.is(pool.concurrency, threads, 'brief jobs change nothing');
  const spinLog = newLog(4);
  await Promise.all(Array.from({ length: 4 }, (_, index) => pool.submit({ index, log: spinLog, spin: 5 } satisfies Step)));
  t.is(pool.concurrency, threads, 'jobs of 5 ms change nothing');
  await pool.close();

  const perThread = new Pool({ filename: batchWorker, maxThreads: threads, minThreads: threads, concurrentTasksPerWorker: 2 });
  t.is(perThread.concurrency, 2 * threads, 'maxThreads × concurrentTasksPerWorker');
  await perThread.close();

  // Below what the threads can run: at most that many inside the threads, and no batches.
  const low = await briefPool(t);
  low.concurrency = 1;
  let mostRunning = 0;
  low.on('start', () => (mostRunning = Math.max(mostRunning, low.stats.running)));
  const lowLog = newLog(100);
  t.deepEqual(await Promise.all(submitAtOnce<number>(low, Array.from({ length: 100 }, (_, index) => ({ index, log: lowLog }) satisfies Step))), Array.from({ length: 100 }, (_, index) => index));
  t.is(low.concurrency, 1);
  t.is(mostRunning, 1);
  t.is(mostAtOnce(lowLog), 1, 'one job at a time in the threads');
  t.false(someShared(lowLog, 100), 'no job was sent ahead with another');
  await low.close();

  // Above it: kept as given; the threads still run no more than they can.
  const high = await briefPool(t, { concurrency: 3 });
  t.is(high.concurrency, 3);
  const highLog = newLog(200);
  t.deepEqual(await Promise.all(submitAtOnce<number>(high, Array.from({ length: 200 }, (_, index) => ({ index, log: highLog }) satisfies Step))), Array.from({ length: 200 }, (_, index) => index));
  t.is(high.concurrency, 3);
  t.true(mostAtOnce(highLog) <= threads, `${mostAtOnce(highLog)} jobs ran at once in ${threads} threads`);
  t.true(someShared(highLog, 200), 'brief jobs travelled together');
  await high.close();
});

test('inputs given with move() or a transferList are transferred, never put in a batch, though their export is brief', async (t) => {
  const pool = new Pool({ filename: batchWorker, maxThreads: threads, minThreads: threads });
  const bytes = (index: number) => Uint8Array.from({ length: 8 }, (_, at) => (index + at) & 255);
  const sum = (index: number) => bytes(index).reduce((total, byte) => total + byte, 0);
  const sharedTask = (keys: string[]) => keys.some((key, index) => keys.indexOf(key) !== index);
  let brief = false;
  for (let round = 0; round < mostRounds && !brief; round++) {
    const results = await Promise.all(Array.from({ length: roundJobs }, (_, index) => pool.submit<[number, number, string]>(bytes(index), { name: 'measure' })));
    brief = sharedTask(results.map(([, , key]) => key));
  }
  t.true(brief, "the export 'measure' reads brief: its copied inputs travel together");
  const inputs = Array.from({ length: 48 }, (_, index) => bytes(index));
  pool.pause();
  const handles = inputs.map((input, index) =>
    index % 3 === 0
      ? pool.submit<[number, number, string]>(input, { name: 'measure' })
      : index % 3 === 1
        ? pool.submit<[number, number, string]>(move(input), { name: 'measure' })
        : pool.submit<[number, number, string]>(input, { name: 'measure', transferList: [input.buffer] }),
  );
  pool.resume();
  const results = await Promise.all(handles);
  t.deepEqual(
    results.map(([length, total]) => [length, total]),
    inputs.map((_, index) => [8, sum(index)]),
  );
  for (const [index, input] of inputs.entries()) t.is(input.byteLength, index % 3 === 0 ? 8 : 0, `job ${index}: copied, or transferred`);
  const keys = results.map(([, , key]) => key);
  for (const [index, key] of keys.entries()) {
    if (index % 3 !== 0) t.is(keys.filter((other) => other === key).length, 1, `job ${index} travelled alone`);
  }
  await pool.close();
});

test('a result that cannot be cloned (a Proxy) rejects only its own job, with a DataCloneError, in a batch or alone', async (t) => {
  const pool = await briefPool(t);
  const log = newLog(40);
  const handles = submitAtOnce(pool, Array.from({ length: 40 }, (_, index) => ({ index, log, proxy: index % 10 === 4 }) satisfies Step));
  for (const handle of handles) handle.catch(() => {});
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

test('a promoted job overtakes a job already sent to the thread as its next', async (t) => {
  const pool = new Pool({ filename: batchWorker, maxThreads: 1, minThreads: 1 });
  const latches = new Latches(1);
  // Whatever happens, the stuck job ends, so that its pool can close.
  t.teardown(() => latches.release(0));
  const log = newLog(3);
  const blocker = pool.submit({ index: 0, log, stuck: latches.latch(0) } satisfies Step);
  await latches.started(0);
  const waiting = pool.submit<number>({ index: 1, log } satisfies Step);
  t.is(waiting.state, 'queued', 'sent ahead to the one thread, it has not begun');
  const urgent = pool.submit<number>({ index: 2, log } satisfies Step, { hold: true }).promote();
  t.is(waiting.state, 'queued');
  latches.release(0);
  t.deepEqual(await Promise.all([blocker, waiting, urgent]), ['released', 1, 2]);
  t.true(startOrder(log, 2) < startOrder(log, 1), 'the promoted job started first');
  await pool.close();
});

test('promoted jobs waiting for a busy thread start in the order they were promoted', async (t) => {
  const pool = new Pool({ filename: batchWorker, maxThreads: 1, minThreads: 1 });
  const latches = new Latches(1);
  // Whatever happens, the stuck job ends, so that its pool can close.
  t.teardown(() => latches.release(0));
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
