/**
 * lazypool/bullmq when things break, with a real redis-server and real worker processes: a worker
 * process SIGKILLed mid-job, Redis restarted empty mid-run, Redis gone for good. Every handle must
 * settle (once), within a bounded time, with an error that says what happened, and close() must
 * resolve. The worker processes use short BullMQ locks (test/fixtures/bullmq-worker.ts: lockDuration
 * 1,000 ms, stalledInterval 500 ms) and the pools a short checkInterval and lostAfter.
 */
import test, { type ExecutionContext } from 'ava';
import { CancelledError, type JobHandle } from '../src/index.js';
import { startCluster } from './fixtures/bullmq-worker.js';
import { began, Marks, waitFor, within } from './fixtures/executor-contract.js';
import type { Place } from './fixtures/remote-jobs.js';

async function marksFor(t: ExecutionContext): Promise<Marks> {
  const marks = await Marks.create();
  t.teardown(async () => {
    marks.releaseAll();
    await marks.remove();
  });
  return marks;
}

/** Counts how often each handle settles, by onDone and by the pool's 'done' event. */
function settlements(pool: { on(event: 'done', listener: (handle: JobHandle) => void): unknown }, handles: JobHandle[]): () => string[] {
  const byOnDone = new Map<number, number>();
  const byEvent = new Map<number, number>();
  for (const handle of handles) handle.onDone(() => byOnDone.set(handle.id, (byOnDone.get(handle.id) ?? 0) + 1));
  pool.on('done', (handle) => byEvent.set(handle.id, (byEvent.get(handle.id) ?? 0) + 1));
  return () =>
    handles.flatMap((handle) => {
      const problems: string[] = [];
      if ((byOnDone.get(handle.id) ?? 0) > 1) problems.push(`job ${handle.id}: onDone ran ${byOnDone.get(handle.id)} times`);
      if ((byEvent.get(handle.id) ?? 0) > 1) problems.push(`job ${handle.id}: 'done' emitted ${byEvent.get(handle.id)} times`);
      return problems;
    });
}

test('a worker process SIGKILLed mid-job: its handle rejects once, within a bounded time, saying so; the other jobs finish on the other worker', async (t) => {
  // Short locks: a killed worker's job is found stalled within lockDuration + stalledInterval.
  const { pool, workers } = await startCluster(t, { workers: 2, serve: { worker: { lockDuration: 2000, stalledInterval: 1000 } }, executor: { checkInterval: 200, lostAfter: 3000 } });
  const marks = await marksFor(t);
  const doomed = pool.submit(marks.mark('doomed'), { name: 'gate' });
  const outcomes: string[] = [];
  doomed.then(
    () => outcomes.push('fulfilled'),
    () => outcomes.push('rejected'),
  );
  t.is(await began(doomed), 'began');
  await waitFor(() => marks.started('doomed'), 'the doomed job to leave doomed.started');
  const victim = workers.find((worker) => worker.pid === marks.place('doomed').pid)!;
  const survivor = workers.find((worker) => worker !== victim)!;
  t.truthy(victim, 'the job ran in one of the two worker processes');
  await victim.kill();
  const killedAt = performance.now();
  // Jobs submitted meanwhile run on the survivor.
  const others = Array.from({ length: 10 }, () => pool.submit(undefined));
  const twice = settlements(pool, [doomed, ...others]);
  const error = (await t.throwsAsync(within(Promise.resolve(doomed), 15_000, 'the killed job'))) as Error;
  const after = performance.now() - killedAt;
  t.log(`rejected ${Math.round(after)} ms after the kill: ${error.message}`);
  t.true(after < 10_000, `the handle rejected ${Math.round(after)} ms after its worker was killed`);
  t.regex(error.message, /stalled|worker|lost|died|exited/i);
  t.regex(error.message, new RegExp(`\\b${doomed.id}\\b`), 'the message names the job');
  t.is(doomed.state, 'rejected');
  const places = (await within(Promise.all(others), 15_000, 'the other jobs')) as Place[];
  t.deepEqual(
    places.map((place) => place.pid),
    places.map(() => survivor.pid),
  );
  // More checks go by (checkInterval 200 ms) while more jobs run: the killed job does not settle again.
  t.deepEqual(await Promise.all(Array.from({ length: 20 }, (_, i) => pool.submit(i, { name: 'double' }))), Array.from({ length: 20 }, (_, i) => 2 * i));
  // Time passing is what is tested: a second more of checks (every 200 ms) and stalled checks.
  await waitFor(() => performance.now() - killedAt > after + 1000, 'a second after the rejection');
  t.deepEqual(outcomes, ['rejected']);
  t.deepEqual(twice(), []);
  t.like(pool.stats, { rejected: 1, fulfilled: 30, running: 0 });
  t.false(survivor.hasExited());
});

test('Redis restarted mid-run: every handle settles (fulfilled, or rejected saying Redis lost it), nothing hangs, the pool works again, close() resolves', async (t) => {
  const { pool, redis } = await startCluster(t, { workers: 2, executor: { checkInterval: 200, lostAfter: 3000 } });
  const handles = Array.from({ length: 60 }, () => pool.submit(40, { name: 'sleep' }));
  const twice = settlements(pool, handles);
  await waitFor(() => pool.stats.fulfilled >= 6 && pool.stats.running > 0, 'some jobs to finish and others to run');
  await redis.restart();
  const restartedAt = performance.now();
  const outcomes = await within(Promise.allSettled(handles), 30_000, 'every handle');
  t.log(`settled ${Math.round(performance.now() - restartedAt)} ms after the restart`);
  const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
  const rejected = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  t.log(`${fulfilled.length} fulfilled, ${rejected.length} rejected`);
  for (const outcome of fulfilled) t.is(outcome.value, 40);
  for (const { reason } of rejected) t.regex(String((reason as Error)?.message), /Redis/, 'a rejection says Redis lost the job');
  t.deepEqual(twice(), []);
  // The pool works again, on the new Redis.
  t.deepEqual(await within(Promise.all([1, 2, 3].map((n) => pool.submit(n, { name: 'double' }))), 20_000, 'jobs after the restart'), [2, 4, 6]);
  await within(pool.close(), 10_000, 'close()');
});

test('Redis gone for good: the jobs in Redis reject after lostAfter and a few checks, saying Redis does not answer; close({ cancelQueued: true }) settles the rest and resolves', async (t) => {
  const lostAfter = 1500;
  const { pool, redis } = await startCluster(t, { workers: 1, executor: { checkInterval: 200, lostAfter } });
  const marks = await marksFor(t);
  const running = pool.submit(marks.mark('running'), { name: 'gate' });
  t.is(await began(running), 'began', `the job settled first: ${String((running.outcome as { reason?: Error } | undefined)?.reason?.message)}`);
  const queued = Array.from({ length: 20 }, (_, i) => pool.submit(i, { name: 'double' }));
  const handles = [running, ...queued];
  const twice = settlements(pool, handles);
  await redis.kill();
  const killedAt = performance.now();
  const error = (await t.throwsAsync(within(Promise.resolve(running), 20_000, 'the running job'))) as Error;
  const after = performance.now() - killedAt;
  t.log(`the running job rejected ${Math.round(after)} ms after Redis was killed: ${error.message}`);
  t.regex(error.message, /Redis/);
  t.true(after >= lostAfter - 50, `rejected after ${Math.round(after)} ms, before lostAfter (${lostAfter})`);
  t.true(after < lostAfter + 5000, `rejected after ${Math.round(after)} ms`);
  await within(pool.close({ cancelQueued: true }), 10_000, 'close({ cancelQueued: true })');
  const outcomes = await within(Promise.allSettled(handles), 1000, 'every handle, once close() resolved');
  for (const [index, outcome] of outcomes.entries()) {
    t.is(outcome.status, 'rejected', `job ${handles[index].id}`);
    const reason = (outcome as PromiseRejectedResult).reason as Error;
    t.true(reason instanceof CancelledError || /Redis/.test(String(reason?.message)), `job ${handles[index].id}: ${String(reason?.message)}`);
  }
  t.deepEqual(twice(), []);
});

test('Redis not reachable when the pool starts, then up: whatever was submitted meanwhile settles, and jobs submitted once it is up run', async (t) => {
  const { startRedis } = await import('./fixtures/redis.js');
  const { Pool } = await import('../src/index.js');
  const { bullmq } = await import('../src/bullmq/index.js');
  const { spawnWorker, readyCapacity } = await import('./fixtures/bullmq-worker.js');
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  await redis.kill();
  const queue = `late-${Date.now()}`;
  const pool = new Pool({ executor: bullmq({ connection: redis.connection, queue, checkInterval: 200, lostAfter: 1000 }) });
  t.teardown(() => within(pool.close({ cancelQueued: true }), 10_000, 'close()'));
  const early = pool.submit(1, { name: 'double' });
  // Redis comes up a while after lostAfter, and a worker with it.
  await waitFor(() => early.state !== 'queued' || performance.now() - early.timing.submittedAt > 1500, 'lostAfter to pass');
  await redis.restart();
  const worker = spawnWorker({ connection: redis.connection, queue, maxThreads: 1, minThreads: 1 });
  t.teardown(async () => {
    await worker.stop(3000);
  });
  t.is(await readyCapacity(worker), 1);
  const outcome = await within(Promise.allSettled([early]), 20_000, 'the job submitted while Redis was down');
  t.log(`the job submitted while Redis was down: ${outcome[0].status === 'fulfilled' ? 'fulfilled' : String((outcome[0].reason as Error)?.message)}`);
  t.true(outcome[0].status === 'fulfilled' || /Redis/.test(String((outcome[0].reason as Error)?.message)));
  const late = await within(
    pool.submit(21, { name: 'double' }).then(
      (value) => ({ value }),
      (error: Error) => ({ error: error.message }),
    ),
    20_000,
    'a job submitted once Redis is up',
  );
  t.deepEqual(late, { value: 42 }, 'a job submitted once Redis is up runs');
});

test('a submitting process busy for longer than askTimeout loses no job: the worker drops the jobs it asked about, and those the late yes made running go to Redis again and run once', async (t) => {
  const { pool } = await startCluster(t, { workers: 1, serve: { askTimeout: 150 }, executor: { checkInterval: 200 } });
  const handles = Array.from({ length: 6 }, (_, i) => pool.submit(i, { name: 'double' }));
  // Added to Redis on the next turn; then this process blocks while the worker asks and gives up.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const until = Date.now() + 600;
  while (Date.now() < until) {
    // Busy: the go-ahead requests wait unanswered.
  }
  const outcomes = await within(Promise.allSettled(handles), 20_000, 'the jobs');
  t.deepEqual(outcomes, handles.map((_, i) => ({ status: 'fulfilled', value: 2 * i })));
  t.like(pool.stats, { fulfilled: 6, rejected: 0 });
});
