// Defects a hostile probe found in the rebuilt executor, one test each: a moved input sent twice
// after its thread died, a job run twice when an input function took back its batch-mates, and the
// main thread spinning when a job that cannot be sent came in the turn a thread died.
import test from 'ava';
import { move, Pool } from '../src/index.js';
import { jobsPool } from './helpers.js';

/** Runs rounds of tiny jobs so that the export reads brief and its jobs travel several to a task. */
async function warmUp(pool: Pool, runs: Int32Array): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: 40 }, (_, index) => pool.submit({ runs, id: 32 + (index % 32) }, { name: 'tiny' })));
  }
}

const probe = new URL('./fixtures/probe.ts', import.meta.url);

test('a moved input waiting for a thread that dies is never sent again (its buffer went with it): the job rejects, saying so, and the pool goes on', async (t) => {
  const pool = new Pool({ filename: probe, maxThreads: 1, concurrentTasksPerWorker: 2 });
  const runs = new Int32Array(new SharedArrayBuffer(8));
  t.is(await pool.submit({ runs, id: 0 }, { name: 'tiny' }), 0);
  const killer = pool.submit({ ms: 200 }, { name: 'busyExit' });
  await new Promise<void>((resolve) => killer.onStart(() => resolve()));
  const moved = pool.submit(move(new Uint8Array(4096)), { name: 'byteLength' });
  const [killed, movedOutcome] = await Promise.allSettled([killer, moved]);
  t.is(killed.status, 'rejected');
  if (movedOutcome.status === 'rejected') t.regex(String((movedOutcome.reason as Error).message), /before job \d+ began, and took its transferred input along/);
  else t.is(movedOutcome.value, 4096);
  t.is(await pool.submit({ runs, id: 1 }, { name: 'tiny' }), 1, 'a job after it runs');
  await pool.close();
});

for (const variant of ['setPriority', 'pause', 'cancel a batch-mate', 'concurrency 0'] as const) {
  test(`an input function that ${variant === 'pause' || variant === 'concurrency 0' ? `sets ${variant}` : `calls ${variant}`} while its batch is gathered runs no job twice, and no cancelled job`, async (t) => {
    const pool = new Pool({ filename: probe, maxThreads: 1 });
    const runs = new Int32Array(new SharedArrayBuffer(4 * 64));
    await warmUp(pool, runs);
    pool.pause();
    const handles: ReturnType<Pool['submit']>[] = [];
    for (let id = 0; id < 12; id++) {
      if (id !== 3) {
        handles.push(pool.submit({ runs, id }, { name: 'tiny' }));
        continue;
      }
      handles.push(
        pool.submit(() => {
          if (variant === 'setPriority') handles[3]!.setPriority(5);
          else if (variant === 'pause') pool.pause();
          else if (variant === 'cancel a batch-mate') handles[2]!.cancel('stale');
          else pool.concurrency = 0;
          return { runs, id };
        }, { name: 'tiny' }),
      );
    }
    pool.resume();
    if (variant === 'pause') setImmediate(() => pool.resume());
    if (variant === 'concurrency 0') setImmediate(() => (pool.concurrency = 1));
    await Promise.allSettled(handles);
    for (let id = 0; id < 12; id++) {
      const expected = variant === 'cancel a batch-mate' && id === 2 ? 0 : 1;
      t.is(Atomics.load(runs, id), expected, `job ${id} ran ${Atomics.load(runs, id)} times`);
    }
    await pool.close();
  });
}

test('a job that cannot be sent, submitted in the turn a thread died, rejects with a DataCloneError and the event loop goes on', async (t) => {
  const pool = new Pool({ filename: probe, maxThreads: 2 });
  const dying = pool.submit(null, { name: 'exitNow' });
  const unsendable = new Promise<unknown>((resolve) => {
    dying.onDone(() => {
      const job = pool.submit(Symbol('not cloneable'), { name: 'tiny' });
      job.then(resolve, resolve);
    });
  });
  await dying.catch(() => {});
  const error = (await unsendable) as Error;
  t.is(error.name, 'DataCloneError');
  // The event loop is alive: a timer fires.
  await new Promise((resolve) => setTimeout(resolve, 1));
  await pool.close();
});

test('jobs running never outnumber the concurrency, even when a result too large for shared memory is still on its way as the next job begins', async (t) => {
  for (const concurrency of [undefined, 2]) {
    const pool = jobsPool({ maxThreads: 2, minThreads: 2, ...(concurrency === undefined ? {} : { concurrency }) });
    let most = 0;
    // At each start, and in every handle's onStart callback (run as the pool learns of the start).
    pool.on('start', () => (most = Math.max(most, pool.stats.running)));
    const big = 'x'.repeat(2048);
    const handles = Array.from({ length: 300 }, (_, index) => pool.submit(`${index}:${big}`).onStart(() => (most = Math.max(most, pool.stats.running))));
    const results = await Promise.all(handles);
    t.true(results.every((result, index) => result === `${index}:${big}`));
    t.true(most <= 2, `concurrency ${concurrency ?? 'default'}: ${most} jobs running at once`);
    await pool.close();
  }
});

test('input functions that never settle hold their building slots, not the queue: jobs behind them that need no building run, in order', async (t) => {
  const began: unknown[] = [];
  const pool = new Pool({ concurrency: 2, run: (input: unknown) => began.push(input) });
  const never = () => new Promise<never>(() => {});
  const hung = [pool.submit(never), pool.submit(never)];
  const waitingToBuild = pool.submit(() => 'built');
  const plain = [pool.submit('a'), pool.submit('b', { priority: -1 }), pool.submit('c')];
  t.deepEqual(await Promise.all(plain), [1, 3, 2].map((n) => n), 'they ran, in priority order');
  t.deepEqual(began, ['a', 'c', 'b']);
  t.is(waitingToBuild.state, 'queued', 'both building slots are taken: it waits for one');
  // A parked job is still reachable: reprioritised, held, started, cancelled.
  t.true(waitingToBuild.setPriority(5));
  waitingToBuild.hold();
  t.is(waitingToBuild.state, 'held');
  waitingToBuild.start();
  t.is(pool.stats.queued, 3);
  // Cancelling a hung build frees its slot: the parked job is built and runs.
  hung[0]!.cancel();
  t.is(await waitingToBuild, 4);
  t.deepEqual(began, ['a', 'c', 'b', 'built']);
  hung[1]!.cancel();
  await pool.close();
});

test('jobs running never outnumber the concurrency through setPriority storms over mixed jobs (batched, async, large results, input functions)', async (t) => {
  const pool = jobsPool({ maxThreads: 2, minThreads: 2 });
  let most = 0;
  const look = () => (most = Math.max(most, pool.stats.running));
  pool.on('start', look);
  const big = 'x'.repeat(300);
  let settled = 0;
  for (let round = 0; round < 12; round++) {
    const handles = [];
    for (let index = 0; index < 300; index++) {
      const kind = index % 4;
      const handle =
        kind === 0
          ? pool.submit(big + index)
          : kind === 1
            ? pool.submit(index, { name: 'double', priority: index % 3 })
            : kind === 2
              ? pool.submit(index, { name: 'asyncDouble' })
              : pool.submit(() => ({ a: big }));
      handles.push(handle.onStart(look));
    }
    for (let change = 0; change < 200; change++) {
      handles[(change * 7919 + round * 31) % handles.length]!.setPriority((change * 13 + round) % 5);
      if (change % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const outcomes = await Promise.allSettled(handles);
    settled += outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
  }
  t.is(settled, 12 * 300, 'every job fulfilled');
  t.true(most <= 2, `${most} jobs running at once on 2 threads`);
  await pool.close();
});
