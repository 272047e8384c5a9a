// Workers that die while running, modules that never load, jobs that ignore their cancellation:
// the job concerned rejects clearly, the others go on to fresh threads, stats stay right.
import test from 'ava';
import { Pool, type JobHandle } from '../src/index.js';
import { faultsWorker, Ledger, randomSource, untilSet, watchProcess } from './fixtures/fault-harness.js';
import { gateWord } from './fixtures/fault-slow-load.js';
import { newMarks, stubbornMark } from './fixtures/faults.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

/** Submits `count` echo jobs; they resolve with their index. */
function echoes(pool: Pool, ledger: Ledger, count: number): JobHandle<number>[] {
  return Array.from({ length: count }, (_, index) => ledger.add(pool.submit<number>(index, { name: 'echo' })));
}

const deaths = [
  {
    how: 'calls process.exit',
    name: 'exitProcess',
    input: { code: 7 },
    options: {},
    message: /the worker exited while running job \d+: .*\b7\b/,
  },
  {
    how: 'throws an uncaught exception from a timer',
    name: 'throwFromTimer',
    input: { message: 'thrown from a timer' },
    options: {},
    message: /the worker exited while running job \d+: thrown from a timer/,
  },
  {
    how: 'runs out of memory under resourceLimits',
    name: 'exhaustMemory',
    input: null,
    options: { resourceLimits: { maxOldGenerationSizeMb: 16 } },
    message: /the worker exited while running job \d+: .*memory/i,
  },
] as const;

for (const death of deaths) {
  test.serial(`a worker that ${death.how} rejects only its job, saying the worker exited; the jobs behind it run on a fresh thread`, async (t) => {
    // One thread, four slots: three jobs wait in Piscina for the very thread that dies.
    const pool = new Pool({ filename: faultsWorker, maxThreads: 1, concurrency: 4, ...death.options });
    const ledger = new Ledger(pool);
    const before = echoes(pool, ledger, 3);
    const dying = ledger.add(pool.submit(death.input, { name: death.name }));
    const after = echoes(pool, ledger, 20);

    const error = await t.throwsAsync(dying);
    t.regex(error!.message, death.message);
    t.deepEqual(await Promise.all(before), [0, 1, 2]);
    t.deepEqual(await Promise.all(after), [...Array(20).keys()]);
    await pool.idle();
    const { threads, ...counts } = pool.stats;
    t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: 23, rejected: 1, cancelled: 0, concurrency: 4 });
    t.deepEqual(ledger.counts(), { held: 0, queued: 0, running: 0, fulfilled: 23, rejected: 1, cancelled: 0 });
    // The pool goes on: a later job still runs.
    t.is(await pool.submit(99, { name: 'echo' }), 99);
    await pool.close();
    t.is(pool.stats.threads, 0);
    t.deepEqual(ledger.problems(), []);
  });
}

test.serial('deaths mixed into 120 jobs on two threads: each dying job rejects, every other job fulfils, each exactly once', async (t) => {
  const watch = watchProcess();
  const random = randomSource(0x5eed_0001);
  const pool = new Pool({ filename: faultsWorker, maxThreads: 2 });
  const ledger = new Ledger(pool);
  const kinds: ('echo' | 'exit' | 'timer')[] = [];
  for (let index = 0; index < 120; index++) {
    const roll = random();
    const kind = roll < 0.05 ? 'exit' : roll < 0.1 ? 'timer' : 'echo';
    kinds.push(kind);
    if (kind === 'exit') ledger.add(pool.submit({ code: 1 }, { name: 'exitProcess' }));
    else if (kind === 'timer') ledger.add(pool.submit({ message: `timer ${index}` }, { name: 'throwFromTimer' }));
    else ledger.add(pool.submit(index, { name: 'echo' }));
  }
  await ledger.allSettled();
  for (const [index, handle] of ledger.handles.entries()) {
    if (kinds[index] === 'echo') t.deepEqual(handle.outcome, { status: 'fulfilled', value: index }, `job ${index}`);
    else {
      t.is(handle.state, 'rejected', `job ${index}`);
      t.regex(String((handle.outcome as { reason: Error }).reason.message), /the worker exited while running job/);
    }
  }
  const dead = kinds.filter((kind) => kind !== 'echo').length;
  t.true(dead > 0);
  await pool.close();
  const { threads, concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: 120 - dead, rejected: dead, cancelled: 0 });
  t.deepEqual(ledger.problems(), []);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

const unloadable = [
  { what: 'throws at its top level', file: 'fault-throws-on-load.ts', message: /this worker module refuses to load/ },
  { what: 'is an ES module that throws at its top level', file: 'fault-throws-on-load.mjs', message: /this ES module refuses to load/ },
  { what: 'is an ES module whose top-level await rejects', file: 'fault-rejects-on-load.mjs', message: /this ES module rejected while loading/ },
  { what: 'does not parse', file: 'fault-syntax-error.mjs', message: /fault-syntax-error|Unexpected|Expected/ },
  { what: 'does not exist', file: 'fault-missing-module.ts', message: /Cannot find module|ENOENT/ },
  { what: 'ends its thread while loading', file: 'fault-exits-on-load.ts', message: /the worker exited while running job \d+: .*\b3\b/ },
] as const;

for (const module of unloadable) {
  test.serial(`a worker module that ${module.what} fails every job with the loader's error, and the pool still closes`, async (t) => {
    const pool = new Pool({ filename: fixture(module.file), maxThreads: 2 });
    const ledger = new Ledger(pool);
    const handles = Array.from({ length: 12 }, (_, index) => ledger.add(pool.submit(index)));
    const errors = await Promise.all(handles.map((handle) => t.throwsAsync(handle)));
    for (const error of errors) t.regex(error!.message, module.message);
    // The same error every time, not one that drifts as retries pile up.
    t.is(new Set(errors.map((error) => `${error!.name}: ${error!.message.replace(/job \d+/, 'job N')}`)).size, 1);
    const { threads, concurrency, ...counts } = pool.stats;
    t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: 0, rejected: 12, cancelled: 0 });
    await pool.close();
    t.is(pool.stats.threads, 0);
    t.deepEqual(ledger.problems(), []);
  });
}

test.serial('a cancelled job that ignores its cancellation has its thread ended after abortGrace; the next job runs on a fresh thread', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1, minThreads: 1, abortGrace: 20 });
  const ledger = new Ledger(pool);
  const threadBefore = await ledger.add(pool.submit<number>(null, { name: 'whichThread' }));
  const marks = newMarks();
  const stubborn = ledger.add(pool.submit({ ms: 60_000, marks }, { name: 'stubborn' }));
  const next = ledger.add(pool.submit<number>(null, { name: 'whichThread' }));
  await untilSet(marks, stubbornMark.entered);
  t.true(stubborn.cancel('enough'));
  t.is(stubborn.state, 'cancelled');
  const threadAfter = await next;
  t.not(threadAfter, threadBefore);
  t.is(Atomics.load(marks, stubbornMark.finished), 0);
  await pool.close();
  const { threads, concurrency, ...counts } = pool.stats;
  // The thread's end does not count as a second outcome of the cancelled job.
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: 2, rejected: 0, cancelled: 1 });
  t.deepEqual(ledger.problems(), []);
});

test.serial('a timed-out job that ignores its cancellation rejects with TimeoutError at once and never holds its slot to the end', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1, abortGrace: 20 });
  const ledger = new Ledger(pool);
  const marks = newMarks();
  const stubborn = ledger.add(pool.submit({ ms: 60_000, marks }, { name: 'stubborn', timeout: 30 }));
  const later = echoes(pool, ledger, 5);
  const error = await t.throwsAsync(stubborn);
  t.is(error!.name, 'TimeoutError');
  t.deepEqual(await Promise.all(later), [0, 1, 2, 3, 4]);
  // Either it never started (it timed out while waiting for the thread) or its thread was ended.
  t.is(Atomics.load(marks, stubbornMark.finished), 0);
  await pool.close();
  const { threads, concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: 5, rejected: 1, cancelled: 0 });
  t.deepEqual(ledger.problems(), []);
});

test.serial('abortGrace: Infinity never ends the thread of a job that ignores its cancellation', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1, minThreads: 1, abortGrace: Infinity });
  const threadBefore = await pool.submit<number>(null, { name: 'whichThread' });
  const marks = newMarks();
  const stubborn = pool.submit({ ms: 300, marks }, { name: 'stubborn' });
  const next = pool.submit<number>(null, { name: 'whichThread' });
  await untilSet(marks, stubbornMark.entered);
  stubborn.cancel();
  // The stubborn job runs its 300 ms to the end; the next job finds the same thread.
  t.is(await next, threadBefore);
  t.is(Atomics.load(marks, stubbornMark.finished), 1);
  await pool.close();
});

test.serial('a job cancelled while its worker module is still loading never runs past abortGrace', async (t) => {
  const abortGrace = 20;
  const gate = newMarks(3);
  const pool = new Pool({ filename: fixture('fault-slow-load.ts'), maxThreads: 1, abortGrace, workerData: gate });
  const marks = newMarks();
  const stubborn = pool.submit({ ms: 5_000, marks }, { name: 'stubborn' });
  const next = pool.submit<number>(null, { name: 'whichThread' });
  await untilSet(gate, gateWord.loading);
  stubborn.cancel();
  // A timer of abortGrace set after cancel() fires after the pool's own grace timer.
  await new Promise((resolve) => setTimeout(resolve, abortGrace));
  Atomics.store(gate, gateWord.release, 1);
  Atomics.notify(gate, gateWord.release);
  await next;
  // The job must not have run its 5 s to the end: stopped before its handler, or its thread ended.
  t.is(Atomics.load(marks, stubbornMark.finished), 0);
  await pool.close();
});

// Threads import .mjs worker modules when Node was given a loader, as here (tsx); in a plain
// project they require() them, which test/package.test.ts covers.
test('ES module workers under a loader load once per thread: with top-level await, through loader hooks, and importing other modules', async (t) => {
  const gate = newMarks(6);
  const awaiting = new Pool({ filename: fixture('esm-top-level-await.mjs'), maxThreads: 1, workerData: gate });
  const tripled = await Promise.all(Array.from({ length: 10 }, (_, index) => awaiting.submit<number>(index, { name: 'triple' })));
  t.deepEqual(tripled, Array.from({ length: 10 }, (_, index) => 3 * index));
  // esm-top-level-await.mjs counts its runs in word 5, esm-helper.mjs (which it imports) in word 4.
  t.deepEqual([Atomics.load(gate, 5), Atomics.load(gate, 4)], [1, 1]);
  await awaiting.close();

  const hooked = new Pool({
    filename: fixture('esm-needs-hooks.mjs'),
    maxThreads: 1,
    execArgv: [...process.execArgv, `--import=${fixture('esm-hooks-register.mjs').href}`],
  });
  t.deepEqual(await Promise.all([1, 2, 3].map((input) => hooked.submit<number>(input, { name: 'add' }))), [43, 44, 45]);
  await hooked.close();
});

test('a pool whose threads cannot start fails every job with the cause, at once and later, and still closes', async (t) => {
  const watch = watchProcess();
  const pool = new Pool({
    filename: faultsWorker,
    maxThreads: 2,
    execArgv: [...process.execArgv, `--import=${fixture('fault-import-throws.mjs').href}`],
  });
  const ledger = new Ledger(pool);
  const first = echoes(pool, ledger, 6);
  const firstErrors = await Promise.all(first.map((handle) => handle.then(() => undefined, (error: unknown) => error as Error)));
  for (const [index, error] of firstErrors.entries()) {
    t.true(error instanceof Error, `job ${index} rejected`);
    t.regex(error!.message, /the pool's threads cannot start: .*/, `job ${index}`);
  }
  // Later jobs fail the same way instead of waiting for a thread that never comes.
  const later = await pool.submit(99, { name: 'echo' }).then(() => undefined, (error: unknown) => error as Error);
  t.regex(later!.message, /threads cannot start/);
  await pool.close();
  const { threads, concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: 0, rejected: 7, cancelled: 0 });
  t.deepEqual(ledger.problems(), []);
  const { unhandled } = watch.stop();
  t.deepEqual(unhandled, []);
});
