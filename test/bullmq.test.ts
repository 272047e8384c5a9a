/**
 * lazypool/bullmq through the public API, with a real redis-server (test/fixtures/redis.ts) and
 * real worker processes (test/fixtures/bullmq-worker.ts): Redis holds only what the workers can
 * start, cancelled jobs never reach it, a running remote job is cancelled cooperatively, inputs that
 * cannot travel are refused on the submitting side, and malformed jobs added by plain BullMQ are
 * refused on the worker side. The faults (a worker killed, Redis restarted) are in
 * bullmq-faults.test.ts; the command line in bullmq-cli.test.ts.
 */
import test from 'ava';
import { serialize, deserialize } from 'node:v8';
import { setTimeout as delay } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { CancelledError, move, type JobHandle } from '../src/index.js';
import { startCluster } from './fixtures/bullmq-worker.js';
import { began, Marks, waitFor } from './fixtures/executor-contract.js';
import type { Mark, Place } from './fixtures/remote-jobs.js';

async function marksFor(t: import('ava').ExecutionContext): Promise<Marks> {
  const marks = await Marks.create();
  // Made after the cluster: AVA runs teardowns last first, so the jobs are released before the
  // pool closes (close() waits for them).
  t.teardown(async () => {
    marks.releaseAll();
    await marks.remove();
  });
  return marks;
}

test('Redis never holds more jobs than the workers can start (free capacity + margin), and each job is added once', async (t) => {
  const cluster = await startCluster(t, { workers: 2, threads: 2 });
  const { pool, client, key, queue, capacities } = cluster;
  const capacity = capacities.reduce((sum, value) => sum + value, 0);
  t.is(capacity, 4);
  // What the workers registered is what they printed.
  const registered = (await client.zrange(`bull:${queue}:lazypool:workers`, 0, -1)).reduce((sum, member) => sum + Number.parseInt(member, 10), 0);
  t.is(registered, capacity);

  const count = 2000;
  const handles = Array.from({ length: count }, (_, i) => pool.submit(i, { name: 'double' }));
  let done = false;
  const results = Promise.all(handles).finally(() => {
    done = true;
  });
  let most = 0;
  let samples = 0;
  while (!done) {
    const replies = (await client.multi().llen(key('wait')).zcard(key('prioritized')).exec())!;
    const waiting = Number(replies[0][1]) + Number(replies[1][1]);
    most = Math.max(most, waiting);
    samples++;
    // A sample every few ms: the sampler shares this process's event loop with the pool.
    await delay(3);
  }
  t.deepEqual(await results, handles.map((_, i) => 2 * i));
  t.true(samples >= 10, `only ${samples} samples of the queue's length were taken`);
  t.true(most <= 2 * capacity, `Redis held ${most} waiting jobs at once, more than twice the capacity (${capacity})`);
  t.log(`${samples} samples; at most ${most} jobs waiting in Redis (capacity ${capacity})`);
  // bull:<q>:id counts every job ever added: each ran once, none was added twice.
  t.is(await client.get(key('id')), String(count));
  t.like(pool.stats, { fulfilled: count, rejected: 0, cancelled: 0 });
});

test('10,000 queued jobs cancelled: none reaches Redis, none runs, and the pool goes on', async (t) => {
  const { pool, client, key } = await startCluster(t, { workers: 2 });
  const marks = await marksFor(t);
  const capacity = pool.concurrency;
  const gates = Array.from({ length: capacity }, (_, i) => pool.submit(marks.mark(`gate${i}`), { name: 'gate' }));
  for (const gate of gates) t.is(await began(gate), 'began');
  // Not through marks.mark: releasing 10,000 tags on teardown would write 10,000 files.
  const waiting = Array.from({ length: 10_000 }, (_, i) => pool.submit({ dir: marks.dir, tag: `waiting${i}` } satisfies Mark, { name: 'mark' }));
  // Time for the executor to add what it adds (the margin) while every slot is busy.
  await delay(300);
  const added = Number(await client.get(key('id')));
  t.true(added <= 3 * capacity, `${added} jobs were added to Redis with ${capacity} slots busy: more than they + the margin`);
  const start = performance.now();
  let removed = false;
  t.true(waiting.map((handle) => handle.cancel()).every(Boolean), 'every cancel() cancelled its job');
  t.true(waiting.every((handle) => handle.state === 'cancelled'));
  const spent = performance.now() - start;
  t.true(spent < 2000, `cancelling 10,000 waiting jobs took ${Math.round(spent)} ms`);
  // The slots free up at once: a worker may take one of the few jobs in Redis (the margin) before
  // its removal arrives; it asks the pool, which refuses it (it was cancelled), so it never runs.
  for (const gate of gates) marks.release((gate.input as Mark).tag);
  await Promise.all(gates);
  await pool.idle();
  await waitFor(() => removed, 'the jobs of the margin to be gone from Redis', 15_000, async () => {
    removed = (await client.llen(key('wait'))) === 0;
  });
  t.is(Number(await client.get(key('id'))), added, 'no cancelled job was added to Redis');
  t.is(await pool.submit(21, { name: 'double' }), 42);
  t.is(Number(await client.get(key('id'))), added + 1);
  t.deepEqual(
    marks.allRan().filter((tag) => tag.startsWith('waiting')),
    [],
    'no cancelled job ran',
  );
  t.like(pool.stats, { cancelled: 10_000, fulfilled: capacity + 1 });
});

test('a running remote job is cancelled cooperatively: it sees cancelled(), its handle settles at once, and its worker and thread go on', async (t) => {
  const { pool, workers } = await startCluster(t, { workers: 1, threads: 1 });
  const marks = await marksFor(t);
  const before = (await pool.submit(undefined)) as Place;
  t.is(before.pid, workers[0].pid);
  const job = pool.submit(marks.mark('job'), { name: 'gate' });
  t.is(await began(job), 'began');
  await waitFor(() => marks.started('job'), 'the job to leave job.started');
  t.true(job.cancel('enough'));
  t.is(job.state, 'cancelled');
  const error = (await t.throwsAsync(job, { instanceOf: CancelledError })) as CancelledError;
  t.is(error.reason, 'enough');
  await waitFor(() => marks.sawCancel('job'), 'the remote job to see cancelled()');
  t.false(marks.ran('job'));
  // The same process and the same thread (a job that stops by itself leaves its thread alive).
  t.deepEqual(await pool.submit(undefined), before);
  t.deepEqual(await Promise.all([1, 2, 3].map((n) => pool.submit(n, { name: 'double' }))), [2, 4, 6]);
  t.false(workers[0].hasExited());
});

test('a running remote job that ignores cancel() has its thread ended after abortGrace; the slot frees only then, and the worker goes on', async (t) => {
  const { pool, workers } = await startCluster(t, { workers: 1, threads: 1, serve: { abortGrace: 300 } });
  const marks = await marksFor(t);
  const before = (await pool.submit(undefined)) as Place;
  const stubborn = pool.submit({ ...marks.mark('stubborn'), ms: 20_000 }, { name: 'busy' });
  t.is(await began(stubborn), 'began');
  await waitFor(() => marks.started('stubborn'), 'the job to leave stubborn.started');
  t.true(stubborn.cancel());
  await t.throwsAsync(stubborn, { instanceOf: CancelledError });
  const cancelledAt = performance.now();
  const after = (await pool.submit(undefined)) as Place;
  const waited = performance.now() - cancelledAt;
  t.is(after.pid, before.pid);
  t.not(after.thread, before.thread, 'the job ran on a fresh thread: the stubborn one was ended');
  t.true(waited < 10_000, `the next job began ${Math.round(waited)} ms after the cancel`);
  t.false(marks.ran('stubborn'));
  t.false(workers[0].hasExited());
});

test('inputs that cannot travel through Redis reject their own handle with a TypeError naming the input; the other jobs are unaffected and never added', async (t) => {
  const { pool, client, key } = await startCluster(t, { executor: { maxInputBytes: 1000 } });
  const cases: [string, () => JobHandle, RegExp, ErrorConstructor][] = [
    ['a function inside the input', () => pool.submit({ callback() {} }, { name: 'double' }), /input/, TypeError],
    ['a symbol', () => pool.submit(Symbol('s'), { name: 'double' }), /input/, TypeError],
    ['move(buffer)', () => pool.submit(move(new ArrayBuffer(8)), { name: 'double' }), /input|move|transfer/, TypeError],
    ['a transferList', () => {
      const buffer = new ArrayBuffer(8);
      return pool.submit(buffer, { name: 'double', transferList: [buffer] });
    }, /input|transfer/, TypeError],
    ['an input larger than maxInputBytes', () => pool.submit('x'.repeat(5000), { name: 'double' }), /maxInputBytes|1000/, RangeError],
  ];
  const idBefore = Number(await client.get(key('id')));
  const good: JobHandle[] = [];
  const bad: [string, JobHandle, RegExp, ErrorConstructor][] = [];
  for (const [what, submit, message, type] of cases) {
    good.push(pool.submit(good.length, { name: 'double' }));
    bad.push([what, submit(), message, type]);
  }
  good.push(pool.submit(good.length, { name: 'double' }));
  for (const [what, handle, message, type] of bad) {
    const error = await t.throwsAsync(handle, { instanceOf: type }, `${what}: a ${type.name}`);
    t.regex(error?.message ?? '', message, what);
    t.regex(error?.message ?? '', new RegExp(`\\b${handle.id}\\b`), `${what}: the message names the job`);
    t.is(handle.state, 'rejected', what);
  }
  t.deepEqual(await Promise.all(good), good.map((_, i) => 2 * i));
  t.is(Number(await client.get(key('id'))) - idBefore, good.length, 'only the jobs that could travel were added');
  // A result that cannot travel fails its job only.
  const error = await t.throwsAsync(pool.submit(undefined, { name: 'returnsFunction' }));
  t.is(error?.name, 'DataCloneError');
  t.is(await pool.submit(5, { name: 'double' }), 10);
});

/** What the executor's wire format says a lazypool job's data is: `{ lazypool: 1, input: base64(v8.serialize(input)) }`. */
function jobData(input: unknown): { lazypool: 1; input: string } {
  return { lazypool: 1, input: serialize(input).toString('base64') };
}

test('malformed jobs added by a plain BullMQ Queue fail that BullMQ job with a clear reason and never run; the worker goes on serving lazypool jobs', async (t) => {
  const cluster = await startCluster(t, { serve: { maxInputBytes: 1000, askTimeout: 500 } });
  const { pool, redis, workers } = cluster;
  const marks = await marksFor(t);
  const queue = new Queue(cluster.queue, { connection: redis.connection });
  const events = new QueueEvents(cluster.queue, { connection: redis.connection });
  t.teardown(async () => {
    await events.close();
    await queue.close();
  });
  await events.waitUntilReady();
  // A lazypool job first: its id, <mark>.<n>, names the pool's process.
  t.is(await pool.submit(marks.mark('first'), { name: 'mark' }), 'first');
  const [done] = await queue.getJobs(['completed']);
  const mark = /^(.*)\.\d+$/.exec(done?.id ?? '')?.[1];
  t.truthy(mark, `a lazypool job id is <mark>.<n>: ${done?.id}`);

  // Names are looked up only once the data is read: with good data and a plain job id, the job is
  // refused for its id (a job the pool did not add never runs) or for its name; both are clear.
  const refusedName = (name: string): RegExp => new RegExp(`not a lazypool job id|${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  const cases: [string, string, unknown, RegExp, { jobId?: string }?][] = [
    ['data of the wrong shape', 'mark', { foo: 1 }, /not a lazypool job/],
    ['data without an input', 'mark', { lazypool: 1 }, /not a lazypool job/],
    ['data of another wire version', 'mark', { lazypool: 2, input: jobData(marks.mark('v2')).input }, /not a lazypool job/],
    ['data that is not a v8 serialisation', 'mark', { lazypool: 1, input: 'bm90IHY4IGF0IGFsbA==' }, /could not be read/],
    ['an oversized input', 'mark', { lazypool: 1, input: 'A'.repeat(2000) }, /2000.*1000|limit/],
    ['a name too long', 'x'.repeat(300), jobData(marks.mark('long')), /name/],
    ['a well-formed job the pool did not add', 'mark', jobData(marks.mark('plain')), /not a lazypool job id/],
    ["the name 'constructor'", 'constructor', jobData(marks.mark('constructor')), refusedName('constructor')],
    ["the name '__proto__'", '__proto__', jobData(marks.mark('proto')), refusedName('__proto__')],
    ["the name 'toString'", 'toString', jobData(marks.mark('toString')), refusedName('toString')],
    ['an export that is not a function', 'notAFunction', jobData(1), refusedName('notAFunction')],
    ["a path as the name: '../x'", '../x', jobData(1), refusedName('../x')],
  ];
  // Jobs whose ids look like lazypool's: the process they name refuses them, or nobody answers
  // (askTimeout 500 ms); either way they end without running.
  const forged: [string, string, { jobId: string }][] = [
    ["a lazypool-looking id of a process that does not exist", 'forged-absent', { jobId: `${randomUUID()}.1` }],
    ["a lazypool-looking id of the live pool's process, of a job it never added", 'forged-live', { jobId: `${mark}.999999` }],
  ];
  // A lazypool job between the malformed ones.
  const lazy = pool.submit(4, { name: 'double' });
  // Every case is tried; what went wrong is listed at the end.
  const problems: string[] = [];
  const finish = async (job: Job): Promise<{ completed: unknown } | { failed: string }> =>
    job.waitUntilFinished(events, 15_000).then(
      (value: unknown) => ({ completed: value }),
      (error: Error) => ({ failed: error.message }),
    );
  for (const [what, name, data, reason] of cases) {
    const job = await queue.add(name, data as object);
    const outcome = await finish(job);
    if ('completed' in outcome) {
      problems.push(`${what}: the BullMQ job completed (${show(outcome.completed)}) instead of failing`);
      continue;
    }
    if (!reason.test(outcome.failed)) problems.push(`${what}: failedReason ${JSON.stringify(outcome.failed)} does not match ${reason}`);
    const state = await job.getState();
    if (state !== 'failed') problems.push(`${what}: state ${state}, not failed`);
    const stored = await queue.getJob(job.id!);
    if ((stored?.attemptsMade ?? 0) > 1) problems.push(`${what}: tried ${stored?.attemptsMade} times`);
  }
  for (const [what, tag, opts] of forged) {
    const job = await queue.add('mark', jobData(marks.mark(tag)), opts);
    const outcome = await finish(job);
    if ('completed' in outcome && (outcome.completed as { c?: unknown })?.c !== 1) problems.push(`${what}: completed with ${show(outcome.completed)}`);
  }
  t.deepEqual(problems, [], problems.join('\n'));
  t.deepEqual(marks.allRan(), ['first'], 'none of the malformed or forged jobs ran');
  t.is(await lazy, 8);
  // The same names through the pool: its handle rejects, naming the export, and nothing else is disturbed.
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '__esModule', 'notAFunction', 'helpers', '../x']) {
    const error = await t.throwsAsync(pool.submit(1, { name }), undefined, name);
    t.true(error?.message.includes(`'${name}'`), `${name}: ${error?.message}`);
  }
  t.deepEqual(await Promise.all([1, 2, 3].map((n) => pool.submit(n, { name: 'double' }))), [2, 4, 6]);
  t.false(workers[0].hasExited());
});

/** A BullMQ return value, shown: a lazypool reply decoded. */
function show(value: unknown): string {
  const reply = value as { e?: string; v?: string; c?: number };
  try {
    if (typeof reply?.e === 'string') return `a lazypool error reply: ${(deserialize(Buffer.from(reply.e, 'base64')) as Error)?.message}`;
    if (typeof reply?.v === 'string') return `a value: ${JSON.stringify(deserialize(Buffer.from(reply.v, 'base64')))}`;
  } catch {
    // shown as it is
  }
  return JSON.stringify(value);
}

test('promoted jobs keep the bound too: each takes the place in Redis of a job not promoted, which goes back to the pool and still runs once', async (t) => {
  const { pool, client, key } = await startCluster(t, { workers: 1, threads: 2 });
  const marks = await marksFor(t);
  const capacity = pool.concurrency;
  const gates = Array.from({ length: capacity }, (_, i) => pool.submit(marks.mark(`gate${i}`), { name: 'gate' }));
  for (const gate of gates) t.is(await began(gate), 'began');
  const waiting = Array.from({ length: 300 }, (_, i) => pool.submit(i, { name: 'double' }));
  for (const handle of waiting) handle.promote();
  let most = 0;
  for (let sample = 0; sample < 20; sample++) {
    const replies = (await client.multi().llen(key('wait')).zcard(key('prioritized')).exec())!;
    most = Math.max(most, Number(replies[0][1]) + Number(replies[1][1]));
    await delay(5);
  }
  t.true(most <= 2 * capacity, `Redis held ${most} jobs not begun, with ${capacity} slots busy and 300 promoted`);
  for (const gate of gates) marks.release((gate.input as Mark).tag);
  t.deepEqual(await Promise.all(waiting), waiting.map((_, i) => 2 * i));
  t.like(pool.stats, { fulfilled: 300 + capacity, rejected: 0, cancelled: 0 });
});

test('serve() takes its filename as a URL or a file: URL string whose path has a space in it, as new Pool does', async (t) => {
  const { mkdtemp, mkdir, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const { startRedis } = await import('./fixtures/redis.js');
  const { serve } = await import('../src/bullmq/index.js');
  const { Pool } = await import('../src/index.js');
  const { bullmq } = await import('../src/bullmq/index.js');
  const folder = await mkdtemp(join(tmpdir(), 'lazypool serve '));
  const redis = await startRedis();
  t.teardown(async () => {
    await redis.stop();
    await rm(folder, { recursive: true, force: true });
  });
  await mkdir(join(folder, 'dir sp'));
  const module = join(folder, 'dir sp', 'worker.mjs');
  await writeFile(module, 'export function triple(n) { return 3 * n; }\n');
  for (const [way, filename] of [['a URL', pathToFileURL(module)], ['a file: URL string', pathToFileURL(module).href]] as const) {
    t.regex(String(pathToFileURL(module).href), /dir%20sp/);
    const queue = `q-${randomUUID()}`;
    const server = await serve({ connection: redis.connection, queue, filename, maxThreads: 1 });
    const pool = new Pool({ executor: bullmq({ connection: redis.connection, queue }) });
    t.is(await pool.submit(7, { name: 'triple' }), 21, way);
    await pool.close();
    await server.close();
  }
});
