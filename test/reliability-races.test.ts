// Races, each repeated many times with random delays in between: whichever side wins, every job
// settles exactly once, as the winner says, and no more jobs are ever inside workers than allowed.
// Each race draws its delays from a seeded generator; a failure names the seed and the iteration.
// Threads take several async jobs at once (concurrentTasksPerWorker), so that the number of jobs
// inside workers is bounded by the pool's concurrency, not by the thread count. The tests run one
// at a time: an unhandled rejection or a warning belongs to the test that was running.
import test from 'ava';
import { EventEmitter } from 'node:events';
import { CancelledError, Pool, PoolClosedError, type JobHandle, type JobState } from '../src/index.js';
import { Allowance, between, faultsWorker, jitter, Ledger, randomSource, settled, started, unlessHung, warmUp, watchProcess } from './fixtures/fault-harness.js';
import { counterWord, newCounter, newMarks } from './fixtures/faults.js';

/** Runs `lanes` copies of `lane` at once; together they run `iterations` iterations. */
async function inLanes(lanes: number, iterations: number, lane: (iteration: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < iterations) await lane(next++);
    }),
  );
}

function checkCounter(t: { is(actual: unknown, expected: unknown, message?: string): void }, counter: Int32Array): void {
  t.is(Atomics.load(counter, counterWord.overruns), 0, 'more jobs were inside workers than allowed');
  // Every slot is freed only once its job has really left the worker.
  t.is(Atomics.load(counter, counterWord.inside), 0, 'jobs still inside workers after idle()');
}

test.serial('cancel racing completion: cancel() returns true exactly when the job ends cancelled, else it fulfils (600 races)', async (t) => {
  const watch = watchProcess();
  const seed = 0xca9c_0001;
  const random = randomSource(seed);
  const pool = new Pool({ filename: faultsWorker, maxThreads: 2, concurrentTasksPerWorker: 8 });
  const warmUpJobs = await warmUp(pool);
  const counter = newCounter(pool.concurrency);
  const ledger = new Ledger(pool);
  let cancelledCount = 0;
  await inLanes(4, 600, async (iteration) => {
    const handle = ledger.add(pool.submit({ counter, ms: between(random, 0, 1), value: iteration }, { name: 'counted' }));
    await jitter(random, 6);
    const stateBefore = handle.state;
    const cancelled = handle.cancel(iteration);
    const where = `seed ${seed}, iteration ${iteration}, cancelled while ${stateBefore}`;
    if (cancelled) {
      cancelledCount++;
      t.is(handle.state, 'cancelled', where);
      const reason = (handle.outcome as { reason: CancelledError }).reason;
      t.true(reason instanceof CancelledError, where);
      t.is(reason.reason, iteration, where);
    } else {
      t.deepEqual(handle.outcome, { status: 'fulfilled', value: iteration }, where);
    }
    await settled(handle);
  });
  await pool.idle();
  checkCounter(t, counter);
  t.log(`600 races: ${cancelledCount} cancelled, ${600 - cancelledCount} completed first`);
  const { threads, concurrency, ...counts } = pool.stats;
  t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: warmUpJobs + 600 - cancelledCount, rejected: 0, cancelled: cancelledCount });
  await pool.close();
  t.deepEqual(ledger.problems(), []);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test.serial('promote racing cancel: a job cancelled before it began never reaches a worker, and promotions are the only excess (400 races)', async (t) => {
  const watch = watchProcess();
  const seed = 0x9e0e_0002;
  const random = randomSource(seed);
  const iterations = 400;
  const pool = new Pool({ filename: faultsWorker, maxThreads: 2, concurrency: 3, concurrentTasksPerWorker: 8 });
  await warmUp(pool);
  const counter = newCounter(pool.concurrency);
  const allowance = new Allowance(pool, counter);
  const marks = newMarks(iterations);
  const ledger = new Ledger(pool);
  const cancelledBeforeRunning: number[] = [];
  const outcomes = { promotedFirst: 0, cancelledFirst: 0 };
  await inLanes(8, iterations, async (iteration) => {
    const handle = ledger.add(
      pool.submit({ counter, marks, index: iteration, ms: between(random, 0, 3), value: iteration }, {
        name: 'counted',
        hold: random() < 0.4,
        priority: between(random, -2, 2),
      }),
    );
    const promoteFirst = random() < 0.5;
    let cancelledWhile: JobState | undefined;
    const cancel = () => {
      const before = handle.state;
      if (handle.cancel()) cancelledWhile = before;
    };
    await jitter(random);
    if (promoteFirst) allowance.promote(handle);
    else cancel();
    await jitter(random);
    if (promoteFirst) cancel();
    else {
      const before = handle.state;
      allowance.promote(handle);
      // Promoting a settled job changes nothing.
      if (before === 'cancelled') t.is(handle.state, 'cancelled');
    }
    // A thread may begin a queued job at any moment, even between reading its state and cancel():
    // then cancel() finds it running (its 'start' comes first). A job cancelled without ever
    // becoming running was taken back before its thread began it.
    if (cancelledWhile !== undefined && handle.timing.startedAt === undefined) cancelledBeforeRunning.push(iteration);
    if (cancelledWhile === 'held') t.is(handle.timing.startedAt, undefined, `seed ${seed}, iteration ${iteration}: held, yet began`);
    if (cancelledWhile !== undefined) outcomes.cancelledFirst++;
    else outcomes.promotedFirst++;
    await settled(handle);
    const where = `seed ${seed}, iteration ${iteration}`;
    if (cancelledWhile !== undefined) t.is(handle.state, 'cancelled', where);
    else t.deepEqual(handle.outcome, { status: 'fulfilled', value: iteration }, where);
  });
  await pool.idle();
  checkCounter(t, counter);
  t.deepEqual(
    cancelledBeforeRunning.filter((iteration) => Atomics.load(marks, iteration) !== 0),
    [],
    'jobs cancelled before they began that reached a worker',
  );
  t.true(cancelledBeforeRunning.length > 0);
  t.log(
    `${iterations} races: ${outcomes.cancelledFirst} cancelled (${cancelledBeforeRunning.length} before running), ` +
      `${outcomes.promotedFirst} ran; ${allowance.promotions} promotions; at most ${Atomics.load(counter, counterWord.most)} inside at once`,
  );
  await pool.close();
  t.deepEqual(ledger.problems(), []);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test.serial('close racing submit: jobs submitted before close run (held ones are cancelled), after it reject with PoolClosedError (24 pools)', async (t) => {
  const watch = watchProcess();
  const seed = 0xc105_0003;
  const random = randomSource(seed);
  let afterClose = 0;
  let beforeClose = 0;
  await inLanes(4, 24, async (iteration) => {
    const where = `seed ${seed}, iteration ${iteration}`;
    const pool = new Pool({ filename: faultsWorker, maxThreads: 1, concurrency: between(random, 1, 3) });
    const ledger = new Ledger(pool);
    const submitted: { handle: JobHandle; closed: boolean; held: boolean }[] = [];
    let closed = false;
    const submitSome = async (count: number) => {
      for (let index = 0; index < count; index++) {
        const held = random() < 0.2;
        const handle = ledger.add(pool.submit({ ms: between(random, 0, 2) }, { name: 'nap', hold: held, priority: between(random, 0, 3) }));
        submitted.push({ handle, closed, held });
        await jitter(random, 2);
      }
    };
    let closing: Promise<void> | undefined;
    await Promise.all([
      submitSome(between(random, 5, 15)),
      (async () => {
        await jitter(random, 8);
        closed = true;
        closing = pool.close();
        // close() is idempotent: a second call gives the same promise.
        t.is(pool.close(), closing, where);
      })(),
      submitSome(between(random, 5, 15)),
    ]);
    await closing;
    // Resolved: every handle has settled and the threads are gone.
    for (const { handle } of submitted) t.not(['held', 'queued', 'running'].includes(handle.state), true, `${where}: job ${handle.id} ${handle.state}`);
    t.is(pool.stats.threads, 0, where);
    for (const { handle, closed: afterwards, held } of submitted) {
      const reason = (handle.outcome as { reason?: unknown }).reason;
      if (afterwards) {
        afterClose++;
        t.is(handle.state, 'rejected', `${where}: job ${handle.id}`);
        t.true(reason instanceof PoolClosedError, `${where}: job ${handle.id}`);
      } else {
        beforeClose++;
        if (held) {
          t.is(handle.state, 'cancelled', `${where}: held job ${handle.id}`);
          t.true((reason as CancelledError).reason instanceof PoolClosedError, `${where}: job ${handle.id}`);
        } else t.deepEqual(handle.outcome, { status: 'fulfilled', value: 'slept' }, `${where}: job ${handle.id}`);
      }
    }
    const counts = ledger.counts();
    const { threads, concurrency, ...stats } = pool.stats;
    t.deepEqual(stats, counts, where);
    t.deepEqual(ledger.problems(), [], where);
  });
  t.log(`24 pools: ${beforeClose} jobs submitted before close, ${afterClose} after`);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test.serial('concurrency changed while jobs finish: raising dispatches at once, lowering lets running jobs end, and the limit holds inside workers (600 jobs, a change after one job in four)', async (t) => {
  const watch = watchProcess();
  const seed = 0xc0c0_0004;
  const random = randomSource(seed);
  const pool = new Pool({ filename: faultsWorker, maxThreads: 2, concurrency: 4, concurrentTasksPerWorker: 8 });
  await warmUp(pool);
  const counter = newCounter(pool.concurrency);
  const allowance = new Allowance(pool, counter);
  const ledger = new Ledger(pool);
  let changes = 0;
  const change = () => {
    const before = pool.stats;
    const value = between(random, 1, 8);
    allowance.setConcurrency(value);
    changes++;
    const after = pool.stats;
    const where = `seed ${seed}, change ${changes}: ${before.concurrency} -> ${value} with ${before.running} running, ${before.queued} queued`;
    // No job is cancelled here, so every slot taken is a running handle. Jobs begin on their
    // threads, later: the setter settles nothing and stops none of the running jobs; a job it
    // finds begun (taking jobs back, or handing them over) becomes running, within the limit
    // it began under.
    t.is(after.running + after.queued, before.running + before.queued, where);
    t.true(after.running >= before.running, where);
    t.true(after.running <= Math.max(before.running, before.concurrency, value), where);
    t.is(after.concurrency, value, where);
  };
  await inLanes(12, 600, async (iteration) => {
    const handle = ledger.add(pool.submit({ counter, ms: between(random, 0, 4), value: iteration }, { name: 'counted' }));
    if (random() < 0.5) await jitter(random, 2);
    if (random() < 0.25) change();
    t.is(await handle, iteration);
    // Jobs also finish right as the limit changes.
    if (random() < 0.25) change();
  });
  await pool.idle();
  checkCounter(t, counter);
  t.log(`600 jobs, ${changes} changes of concurrency; at most ${Atomics.load(counter, counterWord.most)} inside at once`);
  // Raising dispatches at once: with every running job still running, the jobs up to the new
  // limit begin, and no more; lowering stops none of them.
  allowance.setConcurrency(1);
  const long = Array.from({ length: 4 }, (_, index) => ledger.add(pool.submit({ counter, ms: 60_000, value: index }, { name: 'counted' })));
  await started(long[0]!);
  t.deepEqual(long.map((handle) => handle.state), ['running', 'queued', 'queued', 'queued']);
  allowance.setConcurrency(3);
  await Promise.all([started(long[1]!), started(long[2]!)]);
  t.deepEqual(long.map((handle) => handle.state), ['running', 'running', 'running', 'queued']);
  allowance.setConcurrency(1);
  t.deepEqual(long.map((handle) => handle.state), ['running', 'running', 'running', 'queued']);
  long[0]!.cancel();
  long[1]!.cancel();
  t.is(long[3]!.state, 'queued');
  long[2]!.cancel();
  await started(long[3]!);
  long[3]!.cancel();
  await pool.idle();
  checkCounter(t, counter);
  await pool.close();
  t.deepEqual(ledger.problems(), []);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test.serial('an AbortSignal aborted during dispatch cancels the job before it reaches a worker (after it began: cancels it running), and leaves no listener on the signal (300 races)', async (t) => {
  const watch = watchProcess();
  const seed = 0xab07_0005;
  const random = randomSource(seed);
  const iterations = 300;
  const pool = new Pool({ filename: faultsWorker, maxThreads: 2, concurrentTasksPerWorker: 8 });
  const warmUpJobs = await warmUp(pool);
  const counter = newCounter(pool.concurrency);
  const marks = newMarks(iterations);
  const ledger = new Ledger(pool);
  // Where the abort comes from, in the middle of the hand-over to the workers.
  const moments = ['input function', 'async input function', "'start' event", 'onStart callback', 'any time'] as const;
  const onStartEvent = new Map<JobHandle, () => void>();
  pool.on('start', (handle) => onStartEvent.get(handle)?.());
  const neverReached: number[] = [];
  const shared = new AbortController();
  let sharedUsers = 0;
  await inLanes(6, iterations, async (iteration) => {
    const moment = moments[iteration % moments.length];
    const controller = new AbortController();
    const reason = `abort ${iteration}`;
    const payload = { counter, marks, index: iteration, ms: between(random, 0, 2), value: iteration };
    let input: unknown = payload;
    if (moment === 'input function') {
      input = () => {
        controller.abort(reason);
        return payload;
      };
    } else if (moment === 'async input function') {
      input = async () => {
        await jitter(random, 2);
        controller.abort(reason);
        return payload;
      };
    }
    // Some jobs also listen to a signal that is never aborted: its listeners must all be gone at the end.
    const signal = random() < 0.3 ? AbortSignal.any([controller.signal, shared.signal]) : controller.signal;
    if (signal !== controller.signal) sharedUsers++;
    // Held until the hooks are in place, so the abort really comes from inside the hand-over.
    const handle = ledger.add(pool.submit(input, { name: 'counted', signal, hold: true }));
    if (moment === "'start' event") onStartEvent.set(handle, () => controller.abort(reason));
    if (moment === 'onStart callback') handle.onStart(() => controller.abort(reason));
    handle.start();
    if (moment === 'any time') {
      await jitter(random, 3);
      controller.abort(reason);
    }
    await settled(handle);
    onStartEvent.delete(handle);
    const where = `seed ${seed}, iteration ${iteration}, abort from the ${moment}`;
    if (moment !== 'any time') t.is(handle.state, 'cancelled', where);
    // Aborted while its payload was being built: it never became running. Aborted from its
    // 'start' event or onStart: it had begun (running means its thread began it).
    if (moment === 'input function' || moment === 'async input function') t.is(handle.timing.startedAt, undefined, where);
    if (moment === "'start' event" || moment === 'onStart callback') t.not(handle.timing.startedAt, undefined, where);
    // Whatever the moment: a job cancelled before it became running never reaches a worker.
    if (handle.state === 'cancelled' && handle.timing.startedAt === undefined) neverReached.push(iteration);
    t.is(EventEmitter.getEventListeners(controller.signal, 'abort').length, 0, `${where}: listeners left`);
  });
  await pool.idle();
  checkCounter(t, counter);
  t.deepEqual(
    neverReached.filter((iteration) => Atomics.load(marks, iteration) !== 0),
    [],
    'jobs aborted before they began that reached a worker',
  );
  t.is(EventEmitter.getEventListeners(shared.signal, 'abort').length, 0, `listeners left on a signal shared by ${sharedUsers} jobs`);
  t.log(`${iterations} races, ${moments.length} moments; ${neverReached.length} aborted before they began`);
  await pool.close();
  t.deepEqual(ledger.problems(), []);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test.serial('close({ cancelQueued: true }) while map pulls its source: the loop ends with the cancellation, the source is closed, close() resolves (20 pools)', async (t) => {
  const watch = watchProcess();
  const seed = 0x3a9c_0006;
  const random = randomSource(seed);
  const endings = new Map<string, number>();
  await inLanes(4, 20, async (iteration) => {
    const where = `seed ${seed}, iteration ${iteration}`;
    const pool = new Pool({ filename: faultsWorker, maxThreads: 1, concurrency: between(random, 1, 4), concurrentTasksPerWorker: 4 });
    const counter = newCounter(pool.concurrency);
    const ledger = new Ledger(pool);
    // map's handles are its own: the pool's events show them.
    const seen = new Set<JobHandle>();
    const see = (handle: JobHandle) => {
      if (!seen.has(handle)) ledger.add(handle);
      seen.add(handle);
    };
    pool.on('start', see);
    pool.on('done', see);
    let pulled = 0;
    let sourceClosed = false;
    async function* source(): AsyncGenerator<{ counter: Int32Array; ms: number; value: number }> {
      try {
        for (let index = 0; index < 100_000; index++) {
          pulled++;
          yield { counter, ms: between(random, 0, 2), value: index };
          await jitter(random, 2);
        }
      } finally {
        sourceClosed = true;
      }
    }
    const results: number[] = [];
    const consuming = (async () => {
      try {
        for await (const value of pool.map<number>(source(), { name: 'counted' })) results.push(value);
        return 'completed';
      } catch (error) {
        return (error as Error).name;
      }
    })();
    await new Promise<void>((resolve) => pool.once('start', () => resolve()));
    for (let turns = between(random, 0, 20); turns > 0; turns--) await jitter(random, 2);
    const closing = pool.close({ cancelQueued: true });
    const ending = await consuming;
    await closing;
    endings.set(ending, (endings.get(ending) ?? 0) + 1);
    t.true(ending === 'CancelledError' || ending === 'PoolClosedError', `${where}: the loop ended with ${ending}`);
    t.true(sourceClosed, `${where}: the source was not closed`);
    // Results came in order, none twice.
    t.deepEqual(results, [...results.keys()], where);
    t.true(pulled >= results.length, where);
    checkCounter(t, counter);
    t.is(pool.stats.threads, 0, where);
    t.deepEqual(ledger.problems(), [], where);
  });
  t.log(`20 pools; loops ended with ${[...endings].map(([name, count]) => `${name} ×${count}`).join(', ')}`);
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test.serial('hold() while the pool closes cannot leave a handle unsettled after close() resolves', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1, concurrency: 1 });
  const first = pool.submit({ ms: 20 }, { name: 'nap' });
  const second = pool.submit({ ms: 1 }, { name: 'nap' });
  const closed = pool.close();
  second.hold();
  await closed;
  t.is(first.state, 'fulfilled');
  t.not(second.outcome, undefined, `the second job is still ${second.state}`);
  t.is(pool.stats.held, 0);
});

test.serial('close() resolves and settles every job even when concurrency was set to 0', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1, concurrency: 1 });
  pool.concurrency = 0;
  const handles = [pool.submit(1, { name: 'echo' }), pool.submit(2, { name: 'echo' })];
  t.is(handles[0].state, 'queued');
  await unlessHung(pool.close(), 'close()');
  for (const handle of handles) t.not(handle.outcome, undefined, `job ${handle.id} is still ${handle.state}`);
});

test.serial('pause() while the pool closes does not keep close() from finishing', async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1, concurrency: 1 });
  const first = pool.submit({ ms: 20 }, { name: 'nap' });
  const queued = pool.submit({ ms: 1 }, { name: 'nap' });
  const closed = pool.close();
  pool.pause();
  await unlessHung(closed, 'close()');
  t.is(first.state, 'fulfilled');
  t.is(queued.state, 'fulfilled');
});

test.serial('a job refused by a closed pool raises no unhandledRejection when observed at once by onDone, a group or map', async (t) => {
  const watch = watchProcess();
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1 });
  await pool.close();
  const states: string[] = [];
  pool.submit(1, { name: 'echo' }).onDone((handle) => states.push(handle.state));
  const group = pool.group();
  group.submit(2, { name: 'echo' });
  t.deepEqual((await group.settled()).map((outcome) => outcome.status), ['rejected']);
  await t.throwsAsync(
    async () => {
      for await (const value of pool.map([1, 2], { name: 'echo' })) t.fail(`map yielded ${String(value)}`);
    },
    { instanceOf: PoolClosedError },
  );
  t.deepEqual(states, ['rejected']);
  // Unhandled rejections are reported once the microtask queue is empty: give them one turn.
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
});

test.serial("a job cancelled by its own onStart callback gets no 'start' event after its 'done' event", async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1 });
  const events: string[] = [];
  pool.on('start', (handle) => events.push(`start ${handle.id} ${handle.state}`));
  pool.on('done', (handle) => events.push(`done ${handle.id} ${handle.state}`));
  const handle = pool.submit(1, { name: 'echo', hold: true });
  handle.onStart(() => handle.cancel('changed my mind'));
  handle.start();
  await settled(handle);
  await pool.close();
  t.is(handle.state, 'cancelled');
  // Either no 'start' at all, or 'start' (while running) before 'done'.
  t.true(
    JSON.stringify(events) === JSON.stringify([`done ${handle.id} cancelled`]) ||
      JSON.stringify(events) === JSON.stringify([`start ${handle.id} running`, `done ${handle.id} cancelled`]),
    events.join(', '),
  );
});

test.serial("every settled job gets exactly one 'done' event, even one settled inside submit", async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1 });
  const done = new Map<number, number>();
  pool.on('done', (handle) => done.set(handle.id, (done.get(handle.id) ?? 0) + 1));
  const aborted = pool.submit(1, { name: 'echo', signal: AbortSignal.abort('no') });
  const ran = pool.submit(2, { name: 'echo' });
  await ran;
  await pool.close();
  const refused = pool.submit(3, { name: 'echo' });
  await t.throwsAsync(refused, { instanceOf: PoolClosedError });
  t.is(aborted.state, 'cancelled');
  const { fulfilled, rejected, cancelled } = pool.stats;
  t.is(fulfilled + rejected + cancelled, 3);
  t.deepEqual(
    [aborted, ran, refused].map((handle) => done.get(handle.id) ?? 0),
    [1, 1, 1],
  );
});

/**
 * Waits, blocking this thread, until `count` jobs have entered workers (counterWord.entered): the
 * pool learns of those begins only when this thread next turns its event loop, that is inside the
 * call the test makes next. Fails after 10 s instead of hanging.
 */
function blockUntilEntered(counter: Int32Array, count: number): void {
  const deadline = performance.now() + 10_000;
  for (let entered = Atomics.load(counter, counterWord.entered); entered < count; entered = Atomics.load(counter, counterWord.entered)) {
    if (performance.now() > deadline) throw new Error(`only ${entered} of ${count} jobs entered a worker within 10 s`);
    Atomics.wait(counter, counterWord.entered, entered, 5);
  }
}

for (const action of ['pause()', 'promote()', 'setPriority()'] as const) {
  test.serial(`a 'start' listener that calls ${action} while pause() takes jobs back: every job runs once and settles (regression: jobs ran 3 times or stayed queued)`, async (t) => {
    const watch = watchProcess();
    const pool = new Pool({ filename: faultsWorker, maxThreads: 2 });
    const warmUpJobs = await warmUp(pool);
    // Only counterWord.entered is read here: how many jobs ever entered a worker.
    const counter = newCounter(1_000);
    const ledger = new Ledger(pool);
    const handles = Array.from({ length: 10 }, (_, index) => ledger.add(pool.submit({ counter, ms: 20, value: index }, { name: 'counted' })));
    const onStarts = handles.map(() => 0);
    handles.forEach((handle, index) => handle.onStart(() => onStarts[index]!++));
    const last = handles.at(-1)!;
    const listener = (): void => {
      if (action === 'pause()') pool.pause();
      else if (action === 'promote()') last.promote();
      else last.setPriority(10);
    };
    pool.on('start', listener);
    // Both threads have begun a job the pool has not heard of yet: pause() finds them begun, and
    // their 'start' events run the listener inside pause()'s loop over the jobs sent ahead.
    blockUntilEntered(counter, 2);
    pool.pause();
    pool.off('start', listener);
    pool.resume();
    const values = await unlessHung(Promise.all(handles), 'the jobs after resume()');
    t.deepEqual(values, handles.map((_, index) => index));
    t.is(Atomics.load(counter, counterWord.entered), 10, 'jobs that entered a worker (each must run once)');
    t.deepEqual(onStarts, handles.map(() => 1));
    await pool.close();
    t.deepEqual(ledger.problems(), []);
    const { threads, concurrency, ...counts } = pool.stats;
    t.deepEqual(counts, { held: 0, queued: 0, running: 0, fulfilled: warmUpJobs + 10, rejected: 0, cancelled: 0 });
    t.deepEqual(watch.stop(), { unhandled: [], warnings: [] });
  });
}

test.serial("a job cancelled by a 'start' listener still gets its onStart callbacks: it did begin", async (t) => {
  const pool = new Pool({ filename: faultsWorker, maxThreads: 1 });
  await warmUp(pool);
  const order: string[] = [];
  pool.on('start', (handle) => {
    order.push(`start event ${handle.state}`);
    handle.cancel('from the listener');
  });
  const handle = pool.submit({ ms: 5 }, { name: 'spin' });
  handle.onStart(() => order.push('onStart'));
  await t.throwsAsync(handle, { instanceOf: CancelledError });
  await new Promise((resolve) => setImmediate(resolve));
  t.true(handle.timing.startedAt !== undefined);
  // The 'start' event while it runs; its onStart callbacks once all the same, after the listener.
  t.deepEqual(order, ['start event running', 'onStart']);
  await pool.close();
});
