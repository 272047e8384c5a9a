// lazypool/bullmq against the thread pool it stands in for and against plain BullMQ, on a private
// redis-server this benchmark starts (and stops) on a free port. Four questions, plus what each
// job costs (CPU per process, Redis commands), so that a slow figure comes with its reason:
//
// 1. Jobs per second (tiny, 1 ms and 10 ms busy-wait jobs) and the latency of one job on an idle
//    pool: the thread pool (`new Pool({ filename })`), lazypool/bullmq served by one
//    `lazypool worker` process with all the threads and by one process per thread, and plain
//    BullMQ (Queue.addBulk + QueueEvents/waitUntilFinished; a Worker in a process of its own,
//    inline and sandboxed on worker threads), all running workers/bullmq.mjs's functions.
// 2. Redis holds at most the workers' free capacity plus `margin` jobs: 100,000 submitted, the
//    queue's wait/prioritized/paused lists sampled every couple of milliseconds.
// 3. Mass cancel of 100,000 jobs submitted while the workers are busy, until every handle has
//    settled, and how many reached Redis (the queue's id counter), with the thread pool put
//    through the same steps as the reference; plain BullMQ's way to remove 100,000 waiting jobs
//    (drain(), obliterate(), and remove() by id for a sample).
// 4. An urgent job behind 10,000 waiting 10 ms jobs: promote() to its start, against plain
//    BullMQ's lifo and priority.
//
// One redis-server serves every queue. Worker processes are started once and serve their own
// queue for the whole run (idle while the others are measured); each measure opens a fresh
// submitting side (a Pool, or a Queue and QueueEvents). Contenders alternate in an order rotated
// each round, and every result that is timed is checked against its input.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullmq as bullmqExecutor } from '../src/bullmq/index.js';
import { type JobHandle, Pool } from '../src/index.js';
import { alternate, withinTime, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { barChart } from './lib/chart.js';
import { formatMs, formatNumber, formatRatio, type Table } from './lib/format.js';
import { installedVersion, repositoryRoot } from './lib/machine.js';
import { startRedis, type PrivateRedis } from './lib/redis.js';
import { median, ratio } from './lib/stats.js';

const jobsModule = fileURLToPath(new URL('./workers/bullmq.mjs', import.meta.url));
const plainWorkerScript = fileURLToPath(new URL('./workers/bullmq-plain-worker.mjs', import.meta.url));
const cliScript = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const root = fileURLToPath(repositoryRoot);

/** What workers/bullmq.mjs's `spin` and `tiny` return for input `n` (its `expected`). */
const expected = (n: number): number => n * 2 + 1;

type JobKind = 'tiny' | 'spin';
type Input = number | { ms: number; n: number; stamp?: boolean };

const ignore = (): void => undefined;

/** Epoch milliseconds with sub-millisecond precision, comparable between processes of one machine. */
const epochNow = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Worker processes

interface WorkerProcess {
  readonly pid: number;
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** Spawns `node args…` at the repository root and resolves once `ready` shows in its output. */
async function startProcess(label: string, args: string[], ready: RegExp): Promise<WorkerProcess> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let output = '';
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      started.delete(child);
      resolve(signal ?? `code ${code}`);
    }),
  );
  await withinTime(
    new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-8192);
        if (ready.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then((how) => reject(new Error(`${label} exited (${how}) before it was ready; its output:\n${output}`)));
    }),
    60_000,
    `${label}: starting`,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const late = await Promise.race([exited.then(() => false), delay(10_000, true)]);
      if (late) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

function lazypoolWorker(redis: PrivateRedis, queue: string, threads: number): Promise<WorkerProcess> {
  return startProcess(
    `lazypool worker (${queue})`,
    ['--import', 'tsx', cliScript, 'worker', '--redis', redis.url, '--queue', queue, '-j', String(threads), jobsModule],
    /serving .* jobs at once/,
  );
}

function plainWorker(redis: PrivateRedis, queue: string, concurrency: number, mode: 'inline' | 'sandboxed'): Promise<WorkerProcess> {
  return startProcess(`plain BullMQ worker (${queue})`, [plainWorkerScript, redis.url, queue, String(concurrency), mode], /^ready$/m);
}

/** CPU milliseconds a process has used (user + system, every thread), from /proc; NaN elsewhere. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks of 10 ms (USER_HZ is 100 on Linux)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

// ---------------------------------------------------------------------------------------------
// The submitting side of each contender

/** A contender's submitting side, open. */
interface Runner {
  /** One job; resolves with its result. */
  one(kind: JobKind, input: Input): PromiseLike<unknown>;
  /** Jobs submitted at once (plain BullMQ: addBulk); resolves with their results, in order. */
  many(kind: JobKind, inputs: readonly Input[]): Promise<unknown[]>;
  close(): Promise<void>;
}

interface Contender {
  readonly name: string;
  /** The chart's label (the chart library cuts labels past about 25 characters). */
  readonly short: string;
  /** Where its jobs run: 'this process' (threads) or worker processes. */
  readonly workers: string;
  /** The worker processes (for CPU accounting); empty: the jobs run in this process. */
  readonly pids: () => number[];
  open(): Promise<Runner>;
}

function threadPool(threads: number): Contender {
  return {
    name: `thread pool (${threads} threads)`,
    short: 'thread pool',
    workers: `this process, new Pool({ filename, maxThreads: ${threads} })`,
    pids: () => [],
    async open() {
      const pool = new Pool({ filename: jobsModule, minThreads: threads, maxThreads: threads });
      return poolRunner(pool);
    },
  };
}

function lazypoolBullmq(name: string, short: string, workers: string, redis: PrivateRedis, queue: string, processes: () => WorkerProcess[]): Contender {
  return {
    name,
    short,
    workers,
    pids: () => processes().map((worker) => worker.pid),
    async open() {
      return poolRunner(new Pool({ executor: bullmqExecutor({ connection: redis.connection, queue }) }));
    },
  };
}

function poolRunner(pool: Pool): Runner {
  const submit = (kind: JobKind, input: Input): JobHandle => pool.submit(input, { name: kind }) as JobHandle;
  return {
    one: submit,
    many: (kind, inputs) => Promise.all(inputs.map((input) => submit(kind, input))),
    close: () => pool.close({ cancelQueued: true }),
  };
}

/** Plain BullMQ: a Queue and a QueueEvents here, a Worker in its own process (plainWorker). */
function plainBullmq(name: string, short: string, workers: string, redis: PrivateRedis, queue: string, process: () => WorkerProcess): Contender {
  return {
    name,
    short,
    workers,
    pids: () => [process().pid],
    async open() {
      const { queue: bullQueue, events } = await openPlain(redis, queue);
      return {
        one: async (kind, input) => (await bullQueue.add(kind, input)).waitUntilFinished(events),
        async many(kind, inputs) {
          const jobs = await addInChunks(bullQueue, inputs.map((input) => ({ name: kind, data: input })));
          return Promise.all(jobs.map((job) => job.waitUntilFinished(events)));
        },
        close: () => closePlain(bullQueue, events),
      };
    },
  };
}

async function openPlain(redis: PrivateRedis, name: string): Promise<{ queue: Queue; events: QueueEvents }> {
  const queue = new Queue(name, { connection: redis.connection });
  const events = new QueueEvents(name, { connection: redis.connection });
  // waitUntilFinished adds a 'closing' listener to the queue per job waited for
  queue.setMaxListeners(0);
  events.setMaxListeners(0);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  return { queue, events };
}

async function closePlain(queue: Queue, events: QueueEvents): Promise<void> {
  await Promise.allSettled([queue.close(), events.close()]);
}

/** addBulk, 10,000 jobs per call (one pipeline each). */
async function addInChunks(queue: Queue, jobs: { name: string; data: Input; opts?: Record<string, unknown> }[]): Promise<Job[]> {
  const added: Job[] = [];
  for (let first = 0; first < jobs.length; first += 10_000) added.push(...(await queue.addBulk(jobs.slice(first, first + 10_000))));
  return added;
}

/** Throws unless `results[i]` is expected(i) (or `{ value: expected(i) }`) for every job. */
function checkResults(what: string, results: readonly unknown[], first = 0): void {
  for (let index = 0; index < results.length; index++) checkResult(what, results[index], first + index);
}

function checkResult(what: string, result: unknown, n: number): void {
  const value = typeof result === 'object' && result !== null ? (result as { value?: unknown }).value : result;
  if (value !== expected(n)) throw new Error(`${what}: job ${n} returned ${JSON.stringify(result)}, expected ${expected(n)}`);
}

// ---------------------------------------------------------------------------------------------
// Question 1: throughput and added latency

interface Sizes {
  tiny: number;
  oneMs: number;
  tenMs: number;
  latencyJobs: number;
  occupancyJobs: number;
  occupancyRunMs: number;
  cancelJobs: number;
  holdMs: number;
  removeSample: number;
  backlog: number;
  steadyMs: number;
  urgentJobs: number;
  urgentCapMs: number;
  monitorJobs: number;
}

const fullSizes: Sizes = {
  tiny: 1_000,
  oneMs: 1_000,
  tenMs: 300,
  latencyJobs: 15,
  occupancyJobs: 100_000,
  occupancyRunMs: 4_000,
  cancelJobs: 100_000,
  holdMs: 2_500,
  removeSample: 200,
  backlog: 10_000,
  steadyMs: 300,
  urgentJobs: 3,
  urgentCapMs: 1_000,
  monitorJobs: 200,
};

const quickSizes: Sizes = {
  tiny: 100,
  oneMs: 100,
  tenMs: 30,
  latencyJobs: 5,
  occupancyJobs: 10_000,
  occupancyRunMs: 1_000,
  cancelJobs: 2_000,
  holdMs: 1_200,
  removeSample: 20,
  backlog: 1_000,
  steadyMs: 150,
  urgentJobs: 1,
  urgentCapMs: 300,
  monitorJobs: 50,
};

/** Jobs that warm each freshly opened submitting side (JIT, connections, sandboxed threads) before a measure. */
const warmUpTiny = 200;
const warmUpSpin = 20;

const inputsOf = (kind: JobKind, count: number, ms: number, first = 0): Input[] =>
  Array.from({ length: count }, (_, index) => (kind === 'tiny' ? first + index : { ms, n: first + index }));

interface Throughput {
  jobsPerSecond: number;
  /** CPU ms per job: this process, the worker processes, redis-server. */
  cpuSelf: number;
  cpuWorkers: number;
  cpuRedis: number;
}

async function throughput(name: string, runner: Runner, pids: number[], redisPid: number, kind: JobKind, count: number, ms: number): Promise<Throughput> {
  const inputs = inputsOf(kind, count, ms);
  const cpuWorkers = () => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const before = { self: ownCpuMs(), workers: cpuWorkers(), redis: processCpuMs(redisPid) };
  const startedAt = performance.now();
  const results = await withinTime(runner.many(kind, inputs), 120_000, `${name}: ${count} ${kind} jobs`);
  const seconds = (performance.now() - startedAt) / 1000;
  const after = { self: ownCpuMs(), workers: cpuWorkers(), redis: processCpuMs(redisPid) };
  checkResults(`${name}, ${kind} ${ms} ms`, results);
  return {
    jobsPerSecond: count / seconds,
    cpuSelf: (after.self - before.self) / count,
    cpuWorkers: pids.length === 0 ? Number.NaN : (after.workers - before.workers) / count,
    cpuRedis: (after.redis - before.redis) / count,
  };
}

async function latencies(name: string, runner: Runner, ms: number, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const startedAt = performance.now();
    const result = await withinTime(runner.one('spin', { ms, n: index }), 30_000, `${name}: a single ${ms} ms job`);
    times.push(performance.now() - startedAt);
    checkResult(`${name}, single ${ms} ms job`, result, index);
    // a breath, so each job finds the pool idle
    await delay(2);
  }
  return times;
}

// ---------------------------------------------------------------------------------------------
// Redis-side views of a queue

/** Jobs waiting in Redis for a queue (wait, prioritized, paused) and active, read atomically. */
const countsScript = `
return { redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('LLEN', KEYS[3]), redis.call('LLEN', KEYS[4]) }
`;

async function queueCounts(client: Redis, queue: string): Promise<{ waiting: number; active: number }> {
  const [wait, prioritized, paused, active] = (await client.eval(
    countsScript,
    4,
    `bull:${queue}:wait`,
    `bull:${queue}:prioritized`,
    `bull:${queue}:paused`,
    `bull:${queue}:active`,
  )) as number[];
  return { waiting: wait! + prioritized! + paused!, active: active! };
}

/** Jobs ever added to the queue: BullMQ increments bull:<queue>:id for every add, custom ids included. */
async function jobsEverAdded(client: Redis, queue: string): Promise<number> {
  return Number((await client.get(`bull:${queue}:id`)) ?? 0);
}

/** The capacity the queue's lazypool workers registered (the executor's default capacity). */
async function registeredCapacity(client: Redis, queue: string): Promise<number> {
  const members = await client.zrange(`bull:${queue}:lazypool:workers`, 0, -1);
  return members.reduce((sum, member) => sum + (Number.parseInt(member, 10) || 0), 0);
}

/** Waits until the queue has nothing waiting or active in Redis (leftovers of the previous measure). */
async function quiet(client: Redis, queue: string, patienceMs = 15_000): Promise<void> {
  const deadline = performance.now() + patienceMs;
  for (;;) {
    const counts = await queueCounts(client, queue);
    if (counts.waiting === 0 && counts.active === 0) return;
    if (performance.now() > deadline) throw new Error(`queue ${queue} still has ${counts.waiting} waiting and ${counts.active} active jobs after ${patienceMs} ms`);
    await delay(20);
  }
}

// ---------------------------------------------------------------------------------------------
// Question 2: what Redis holds

interface Occupancy {
  submitted: number;
  submitMs: number;
  runMs: number;
  completed: number;
  cancelled: number;
  samples: number;
  maxWaiting: number;
  maxWaitingAndActive: number;
  /** Samples where waiting > max(0, capacity - active) + margin (free capacity + margin at that moment). */
  overBound: number;
  medianWaiting: number;
  capacity: number;
  margin: number;
  addedToRedis: number;
}

async function occupancy(redis: PrivateRedis, client: Redis, queue: string, sizes: Sizes): Promise<Occupancy> {
  await quiet(client, queue);
  const capacity = await registeredCapacity(client, queue);
  const pool = new Pool({ executor: bullmqExecutor({ connection: redis.connection, queue }) });
  try {
    checkResults('occupancy warm-up', await Promise.all(inputsOf('tiny', warmUpTiny, 0).map((input) => pool.submit(input, { name: 'tiny' }))));
    const addedBefore = await jobsEverAdded(client, queue);
    const waiting: number[] = [];
    let maxWaitingAndActive = 0;
    let overBound = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const counts = await queueCounts(client, queue);
        waiting.push(counts.waiting);
        maxWaitingAndActive = Math.max(maxWaitingAndActive, counts.waiting + counts.active);
        // free capacity (registered capacity - active jobs) + margin, per sample
        if (counts.waiting > Math.max(0, capacity - counts.active) + capacity) overBound++;
        await delay(2);
      }
    })();
    let completed = 0;
    let wrong = '';
    const handles: JobHandle[] = [];
    const submittedAt = performance.now();
    for (let n = 0; n < sizes.occupancyJobs; n++) {
      const handle = pool.submit(n, { name: 'tiny' }) as JobHandle;
      handle.then((value) => {
        completed++;
        if (value !== expected(n) && wrong === '') wrong = `job ${n} returned ${JSON.stringify(value)}`;
      }, ignore);
      handles.push(handle);
    }
    const submitMs = performance.now() - submittedAt;
    await delay(sizes.occupancyRunMs);
    const runMs = performance.now() - submittedAt;
    for (const handle of handles) handle.cancel();
    const outcomes = await withinTime(Promise.allSettled(handles), 60_000, 'occupancy: cancelled jobs settling');
    sampling = false;
    await sampler;
    if (wrong !== '') throw new Error(`occupancy: ${wrong}, expected 2n+1`);
    const cancelled = outcomes.filter((outcome) => outcome.status === 'rejected' && (outcome.reason as Error)?.name === 'CancelledError').length;
    if (completed + cancelled !== sizes.occupancyJobs) {
      throw new Error(`occupancy: ${completed} completed and ${cancelled} cancelled of ${sizes.occupancyJobs} (some failed otherwise)`);
    }
    return {
      submitted: sizes.occupancyJobs,
      submitMs,
      runMs,
      completed,
      cancelled,
      samples: waiting.length,
      maxWaiting: Math.max(...waiting),
      maxWaitingAndActive,
      overBound,
      medianWaiting: median(waiting),
      capacity,
      margin: capacity, // the executor's default: margin = capacity
      addedToRedis: (await jobsEverAdded(client, queue)) - addedBefore,
    };
  } finally {
    await pool.close({ cancelQueued: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Question 3: mass cancel

interface CancelRound {
  submitMs: number;
  /** From the first cancel() until every handle had settled and its onDone listener had run. */
  settledMs: number;
  /** From the first cancel() until a Promise.allSettled over the handles, made after, resolved. */
  allSettledMs: number;
  loopMs: number;
  /** Jobs added to Redis meanwhile (NaN for the thread pool). */
  reachedRedis: number;
  stillWaitingInRedis: number;
  /** Jobs that ran anyway (fulfilled; each result checked). */
  ran: number;
  holdStillRunning: boolean;
}

/**
 * Every slot of `pool` busy with a `holdMs` job (each seen begun), then `jobs` tiny jobs submitted,
 * cancel() on each (an onDone listener on each, attached before), until every listener ran; then a
 * Promise.allSettled over the handles, awaited. `redisQueue`: the lazypool/bullmq queue, whose
 * id counter says how many of them reached Redis.
 */
async function massCancel(pool: Pool, sizes: Sizes, redisQueue?: { client: Redis; queue: string }): Promise<CancelRound> {
  try {
    if (redisQueue) await quiet(redisQueue.client, redisQueue.queue);
    checkResults('cancel warm-up', await Promise.all(inputsOf('tiny', warmUpTiny, 0).map((input) => pool.submit(input, { name: 'tiny' }))));
    const capacity = pool.concurrency;
    const holds: JobHandle[] = [];
    const begun: Promise<void>[] = [];
    for (let index = 0; index < capacity; index++) {
      const handle = pool.submit({ ms: sizes.holdMs, n: index }, { name: 'spin' }) as JobHandle;
      begun.push(new Promise((resolve) => handle.onStart(() => resolve())));
      holds.push(handle);
    }
    await withinTime(Promise.all(begun), 10_000, 'cancel: hold jobs beginning');
    const holdsDone = Promise.all(holds).then((values) => {
      checkResults('cancel: hold jobs', values);
      return performance.now();
    });
    const addedBefore = redisQueue ? await jobsEverAdded(redisQueue.client, redisQueue.queue) : Number.NaN;

    const handles: JobHandle[] = [];
    const submittedAt = performance.now();
    for (let n = 0; n < sizes.cancelJobs; n++) handles.push(pool.submit(n, { name: 'tiny' }) as JobHandle);
    const submitMs = performance.now() - submittedAt;
    let listened = 0;
    let everyListenerRan!: () => void;
    const listenersDone = new Promise<void>((resolve) => (everyListenerRan = resolve));
    const onDone = () => {
      if (++listened === handles.length) everyListenerRan();
    };
    for (const handle of handles) handle.onDone(onDone);
    // The pool sends what the workers have room for (the margin) on a later turn: let it.
    await delay(50);
    const cancelStarted = performance.now();
    for (const handle of handles) handle.cancel();
    const loopMs = performance.now() - cancelStarted;
    await withinTime(listenersDone, 30_000, 'cancel: onDone listeners');
    const settledMs = performance.now() - cancelStarted;
    const outcomes = await withinTime(Promise.allSettled(handles), 30_000, 'cancel: handles settling');
    const allSettledMs = performance.now() - cancelStarted;
    let ran = 0;
    for (let n = 0; n < outcomes.length; n++) {
      const outcome = outcomes[n]!;
      if (outcome.status === 'fulfilled') {
        ran++;
        checkResult('cancel: a job that ran anyway', outcome.value, n);
      } else if ((outcome.reason as Error)?.name !== 'CancelledError') {
        throw new Error(`cancel: job ${n} failed with ${String(outcome.reason)}, not a CancelledError`);
      }
    }
    const reachedRedis = redisQueue ? (await jobsEverAdded(redisQueue.client, redisQueue.queue)) - addedBefore : Number.NaN;
    const stillWaitingInRedis = redisQueue ? (await queueCounts(redisQueue.client, redisQueue.queue)).waiting : Number.NaN;
    const holdsEnded = await withinTime(holdsDone, sizes.holdMs + 30_000, 'cancel: hold jobs ending');
    return { submitMs, settledMs, allSettledMs, loopMs, reachedRedis, stillWaitingInRedis, ran, holdStillRunning: holdsEnded > cancelStarted + allSettledMs };
  } finally {
    await pool.close({ cancelQueued: true });
  }
}

interface PlainCancel {
  way: 'drain' | 'obliterate';
  addMs: number;
  /** ms per job removed by id, sequentially, on the full waiting list. */
  removeOneMs: number;
  /** removeOneMs × jobs: what removing every one by id would take at that rate. */
  removeAllByIdMs: number;
  /** drain() or obliterate() of the jobs left after the sample. */
  bulkMs: number;
  left: number;
}

/** 100,000 waiting jobs on a queue no worker serves: a sample removed by id, then drain() or obliterate(). */
async function plainCancel(redis: PrivateRedis, queueName: string, jobs: number, sample: number, way: 'drain' | 'obliterate'): Promise<PlainCancel> {
  const { queue, events } = await openPlain(redis, queueName);
  try {
    const addStarted = performance.now();
    const added = await addInChunks(queue, inputsOf('tiny', jobs, 0).map((input) => ({ name: 'tiny', data: input })));
    const addMs = performance.now() - addStarted;
    if ((await queue.getWaitingCount()) !== jobs) throw new Error(`plain cancel: ${await queue.getWaitingCount()} waiting, expected ${jobs}`);
    // The first added are at the far end of the wait list from where LPUSH adds: the slow case
    // and the likely one (the oldest jobs are the ones a user gives up on). Half from each end.
    const ids = [...added.slice(0, sample >> 1), ...added.slice(added.length - (sample - (sample >> 1)))].map((job) => job.id!);
    const removeStarted = performance.now();
    for (const id of ids) {
      if ((await queue.remove(id)) !== 1) throw new Error(`plain cancel: job ${id} not removed`);
    }
    const removeOneMs = (performance.now() - removeStarted) / ids.length;
    const bulkStarted = performance.now();
    if (way === 'drain') await queue.drain();
    else await queue.obliterate({ force: true });
    const bulkMs = performance.now() - bulkStarted;
    const left = await queue.getWaitingCount();
    if (left !== 0) throw new Error(`plain cancel: ${left} jobs still waiting after ${way}()`);
    return { way, addMs, removeOneMs, removeAllByIdMs: removeOneMs * jobs, bulkMs, left: jobs - ids.length };
  } finally {
    await closePlain(queue, events);
  }
}

// ---------------------------------------------------------------------------------------------
// Question 4: the urgent job

interface UrgentResult {
  /** promote()/add → the pool's start event (lazypool) or the processor's own timestamp (plain). */
  toStart: number[];
  /** promote()/add → the worker thread's own timestamp at its first instruction. */
  toThread: number[];
  /** promote()/add → result back. */
  toResult: number[];
  /** Backlog jobs that ran meanwhile (each result checked). */
  backlogRan: number;
  /** A priority-1 job behind the un-prioritised backlog (plain BullMQ, lifo rounds): ms to its start, or the cap (a lower bound). */
  priorityBehindPlain?: { ms: number; capped: boolean };
}

async function lazypoolUrgent(redis: PrivateRedis, client: Redis, queue: string, sizes: Sizes): Promise<UrgentResult> {
  await quiet(client, queue);
  const pool = new Pool({ executor: bullmqExecutor({ connection: redis.connection, queue }) });
  const backlog: JobHandle[] = [];
  try {
    checkResults('urgent warm-up', await Promise.all(inputsOf('tiny', warmUpTiny, 0).map((input) => pool.submit(input, { name: 'tiny' }))));
    let backlogRan = 0;
    let wrong = '';
    for (let n = 0; n < sizes.backlog; n++) {
      const handle = pool.submit({ ms: 10, n }, { name: 'spin' }) as JobHandle;
      handle.then((value) => {
        backlogRan++;
        if (value !== expected(n) && wrong === '') wrong = `backlog job ${n} returned ${JSON.stringify(value)}`;
      }, ignore);
      backlog.push(handle);
    }
    await delay(sizes.steadyMs);
    const result: UrgentResult = { toStart: [], toThread: [], toResult: [], backlogRan: 0 };
    for (let index = 0; index < sizes.urgentJobs; index++) {
      const n = 1_000_000 + index;
      const handle = pool.submit({ ms: 10, n, stamp: true }, { name: 'spin' }) as JobHandle;
      let startedAt = Number.NaN;
      handle.onStart(() => (startedAt = performance.now()));
      const promotedAt = performance.now();
      const promotedEpoch = epochNow();
      handle.promote();
      const value = (await withinTime(handle, 30_000, 'urgent job')) as { value: number; startedAt: number };
      const endedAt = performance.now();
      checkResult('urgent job', value, n);
      result.toStart.push(startedAt - promotedAt);
      result.toThread.push(value.startedAt - promotedEpoch);
      result.toResult.push(endedAt - promotedAt);
      await delay(20);
    }
    for (const handle of backlog) handle.cancel();
    await withinTime(Promise.allSettled(backlog), 30_000, 'urgent: backlog cancelled');
    if (wrong !== '') throw new Error(`urgent: ${wrong}`);
    result.backlogRan = backlogRan;
    return result;
  } finally {
    for (const handle of backlog) handle.cancel();
    await pool.close({ cancelQueued: true });
  }
}

async function plainUrgent(redis: PrivateRedis, client: Redis, queueName: string, way: 'lifo' | 'priority', sizes: Sizes, priorityBehindPlain: boolean): Promise<UrgentResult> {
  await quiet(client, queueName);
  const { queue, events } = await openPlain(redis, queueName);
  try {
    // Backlog jobs that ran meanwhile, counted as their 'completed' events arrive (the completed
    // set is trimmed to 1,000 by removeOnComplete, so its size says nothing).
    let completed = 0;
    const onCompleted = (): void => void completed++;
    events.on('completed', onCompleted);
    // lifo: an un-prioritised backlog, the urgent job at the head of the wait list. priority:
    // every backlog job at priority 2 and the urgent one at 1 (BullMQ runs jobs without a
    // priority before any prioritised one, so priority helps only among prioritised jobs).
    const backlogOptions = way === 'priority' ? { priority: 2 } : undefined;
    await addInChunks(queue, inputsOf('spin', sizes.backlog, 10).map((input) => ({ name: 'spin', data: input, ...(backlogOptions ? { opts: backlogOptions } : {}) })));
    await delay(sizes.steadyMs);
    const result: UrgentResult = { toStart: [], toThread: [], toResult: [], backlogRan: 0 };
    for (let index = 0; index < sizes.urgentJobs; index++) {
      const n = 1_000_000 + index;
      const addedAt = performance.now();
      const addedEpoch = epochNow();
      const job = await queue.add('spin', { ms: 10, n, stamp: true }, way === 'lifo' ? { lifo: true } : { priority: 1 });
      const value = (await withinTime(job.waitUntilFinished(events), 30_000, `plain ${way} urgent job`)) as { value: number; startedAt: number };
      const endedAt = performance.now();
      checkResult(`plain ${way} urgent job`, value, n);
      result.toStart.push(value.startedAt - addedEpoch);
      result.toThread.push(value.startedAt - addedEpoch);
      result.toResult.push(endedAt - addedAt);
      await delay(20);
    }
    if (priorityBehindPlain) {
      const n = 2_000_000;
      const addedEpoch = epochNow();
      const job = await queue.add('spin', { ms: 10, n, stamp: true }, { priority: 1 });
      const outcome = await Promise.race([job.waitUntilFinished(events), delay(sizes.urgentCapMs, 'capped' as const)]);
      if (outcome === 'capped') result.priorityBehindPlain = { ms: sizes.urgentCapMs, capped: true };
      else {
        checkResult('plain priority job behind un-prioritised backlog', outcome, n);
        result.priorityBehindPlain = { ms: (outcome as { startedAt: number }).startedAt - addedEpoch, capped: false };
      }
    }
    await queue.drain();
    await quiet(client, queueName);
    await delay(50); // the last 'completed' events
    events.off('completed', onCompleted);
    result.backlogRan = completed - sizes.urgentJobs - (result.priorityBehindPlain && !result.priorityBehindPlain.capped ? 1 : 0);
    return result;
  } finally {
    await closePlain(queue, events);
  }
}

// ---------------------------------------------------------------------------------------------
// What each tiny job costs Redis: MONITOR counts

interface CommandCounts {
  jobs: number;
  /** Commands clients sent, per job. */
  clientCommands: number;
  /** Every command Redis ran, scripts' included, per job. */
  allCommands: number;
  /** Client commands by name, per job. */
  byName: Record<string, number>;
  /** Stream entries (events) added, per job. */
  events: number;
}

async function monitorCounts(redis: PrivateRedis, contender: Contender, jobs: number): Promise<CommandCounts> {
  const runner = await contender.open();
  const monitorClient = redis.client();
  try {
    checkResults('monitor warm-up', await runner.many('tiny', inputsOf('tiny', warmUpTiny, 0, 0)));
    const monitor = await monitorClient.monitor();
    let clientCommands = 0;
    let allCommands = 0;
    let events = 0;
    const byName: Record<string, number> = {};
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      allCommands++;
      const name = String(args[0]).toUpperCase();
      if (name === 'XADD') events++;
      if (source !== 'lua') {
        clientCommands++;
        byName[name] = (byName[name] ?? 0) + 1;
      }
    });
    await delay(100);
    checkResults('monitored jobs', await runner.many('tiny', inputsOf('tiny', jobs, 0)));
    // what the last events cause (QueueEvents reads, the next blocking calls)
    await delay(100);
    monitor.disconnect();
    for (const name of Object.keys(byName)) byName[name] = byName[name]! / jobs;
    return { jobs, clientCommands: clientCommands / jobs, allCommands: allCommands / jobs, byName, events: events / jobs };
  } finally {
    monitorClient.disconnect();
    await runner.close();
  }
}

// ---------------------------------------------------------------------------------------------

export const bullmq: Benchmark = {
  name: 'bullmq',
  question:
    'lazypool/bullmq against the thread pool and plain BullMQ: jobs/s and latency of 1 and 10 ms jobs, what Redis holds, cancelling 100,000 jobs, an urgent job behind 10,000.',
  async run(context) {
    const sizes = context.quick ? quickSizes : fullSizes;
    const rounds = context.rounds ?? (context.quick ? 1 : 3);
    const threads = context.threads;
    const samples: Sample[] = [];
    const notes: string[] = [];
    const log = context.log;

    const redis = await startRedis();
    const client = redis.client();
    const workers: WorkerProcess[] = [];
    try {
      const redisPid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
      const queues = {
        lazyOne: `lazypool-1x${threads}`,
        lazyMany: `lazypool-${threads}x1`,
        plainInline: 'plain-inline',
        plainSandboxed: 'plain-sandboxed',
        plainCancel: 'plain-cancel',
      };
      log(`redis-server ${redis.port}; starting the worker processes`);
      // Started together; each one that starts is stopped at the end even if another fails.
      const starting = [
        lazypoolWorker(redis, queues.lazyOne, threads),
        ...Array.from({ length: threads }, () => lazypoolWorker(redis, queues.lazyMany, 1)),
        plainWorker(redis, queues.plainInline, threads, 'inline'),
        plainWorker(redis, queues.plainSandboxed, threads, 'sandboxed'),
      ];
      for (const promise of starting) void promise.then((worker) => workers.push(worker), ignore);
      const all = await Promise.all(starting);
      const lazyOne = all.slice(0, 1);
      const lazyMany = all.slice(1, 1 + threads);
      const [inline, sandboxed] = all.slice(1 + threads) as [WorkerProcess, WorkerProcess];

      const contenders: Contender[] = [
        threadPool(threads),
        lazypoolBullmq(`lazypool/bullmq, 1 worker x ${threads} threads`, `lazypool/bullmq 1x${threads}`, `1 'lazypool worker -j ${threads}' process`, redis, queues.lazyOne, () => lazyOne),
        lazypoolBullmq(`lazypool/bullmq, ${threads} workers x 1 thread`, `lazypool/bullmq ${threads}x1`, `${threads} 'lazypool worker -j 1' processes`, redis, queues.lazyMany, () => lazyMany),
        plainBullmq(
          `plain BullMQ, concurrency ${threads} (inline)`,
          'BullMQ inline',
          `1 process, a Worker with concurrency ${threads} calling the function in its own event loop`,
          redis,
          queues.plainInline,
          () => inline,
        ),
        plainBullmq(
          `plain BullMQ, sandboxed, ${threads} threads`,
          'BullMQ threads',
          `1 process, a Worker with concurrency ${threads}, processor file on worker threads (useWorkerThreads)`,
          redis,
          queues.plainSandboxed,
          () => sandboxed,
        ),
      ];
      const [pool, lazyOneC, lazyManyC, plainInlineC, plainSandboxedC] = contenders as [Contender, Contender, Contender, Contender, Contender];

      // 1. Throughput and latency -----------------------------------------------------------
      await alternate(contenders, rounds, async (contender, round) => {
        const runner = await contender.open();
        try {
          checkResults(`${contender.name} warm-up`, await runner.many('tiny', inputsOf('tiny', warmUpTiny, 0)));
          checkResults(`${contender.name} warm-up`, await runner.many('spin', inputsOf('spin', warmUpSpin, 1)));
          const pids = contender.pids();
          const measured: string[] = [];
          for (const [kind, count, ms, caseName] of [
            ['tiny', sizes.tiny, 0, 'tiny jobs/s'],
            ['spin', sizes.oneMs, 1, '1 ms jobs/s'],
            ['spin', sizes.tenMs, 10, '10 ms jobs/s'],
          ] as const) {
            const figure = await throughput(contender.name, runner, pids, redisPid, kind, count, ms);
            samples.push({
              contender: contender.name,
              case: caseName,
              round,
              value: figure.jobsPerSecond,
              unit: 'jobs/s',
              extra: { jobs: count, cpuSelfMsPerJob: figure.cpuSelf, cpuWorkersMsPerJob: figure.cpuWorkers, cpuRedisMsPerJob: figure.cpuRedis },
            });
            measured.push(`${caseName.replace(' jobs/s', '')} ${formatNumber(figure.jobsPerSecond)}/s`);
          }
          for (const ms of [1, 10]) {
            const times = await latencies(contender.name, runner, ms, sizes.latencyJobs);
            for (const value of times) samples.push({ contender: contender.name, case: `latency ${ms} ms`, round, value, unit: 'ms submit -> settled, one job on an idle pool' });
            measured.push(`single ${ms} ms job ${formatMs(median(times))}`);
          }
          log(`round ${round + 1}/${rounds} ${contender.name}: ${measured.join(', ')}`);
        } finally {
          await runner.close();
        }
      });

      // What each tiny job costs Redis (MONITOR, one run each).
      const commandCounts: Record<string, CommandCounts> = {};
      for (const contender of [lazyOneC, plainInlineC]) {
        await quiet(client, contender === lazyOneC ? queues.lazyOne : queues.plainInline);
        commandCounts[contender.name] = await monitorCounts(redis, contender, sizes.monitorJobs);
        log(`MONITOR ${contender.name}: ${commandCounts[contender.name]!.clientCommands.toFixed(1)} client commands, ${commandCounts[contender.name]!.allCommands.toFixed(1)} in all per tiny job`);
      }

      // 2. What Redis holds -------------------------------------------------------------------
      const occupancies: Record<string, Occupancy> = {};
      for (const [contender, queue] of [
        [lazyOneC, queues.lazyOne],
        [lazyManyC, queues.lazyMany],
      ] as const) {
        const figure = await occupancy(redis, client, queue, sizes);
        occupancies[contender.name] = figure;
        samples.push({ contender: contender.name, case: 'max jobs waiting in Redis', round: 0, value: figure.maxWaiting, unit: 'jobs (wait + prioritized + paused)', extra: { ...figure } });
        log(
          `occupancy ${contender.name}: max ${figure.maxWaiting} waiting (${figure.maxWaitingAndActive} with active) over ${formatNumber(figure.samples)} samples, ` +
            `capacity ${figure.capacity}; ${formatNumber(figure.completed)} completed in ${formatMs(figure.runMs)}, ${formatNumber(figure.cancelled)} cancelled`,
        );
      }

      // 3. Mass cancel ------------------------------------------------------------------------
      const cancelEntries = ['lazypool', 'threads', 'plain'] as const;
      const lazyCancelName = `${lazyOneC.name}: cancel() each`;
      const threadsCancelName = `${pool.name}: cancel() each`;
      await alternate(cancelEntries, rounds, async (entry, round) => {
        if (entry === 'lazypool' || entry === 'threads') {
          const name = entry === 'lazypool' ? lazyCancelName : threadsCancelName;
          const figure =
            entry === 'lazypool'
              ? await massCancel(new Pool({ executor: bullmqExecutor({ connection: redis.connection, queue: queues.lazyOne }) }), sizes, { client, queue: queues.lazyOne })
              : await massCancel(new Pool({ filename: jobsModule, minThreads: threads, maxThreads: threads }), sizes);
          samples.push({ contender: name, case: 'cancel', round, value: figure.settledMs, unit: 'ms from the first cancel() until every handle settled and its onDone listener ran', extra: { ...figure, holdStillRunning: figure.holdStillRunning ? 1 : 0 } });
          log(
            `round ${round + 1}/${rounds} cancel ${formatNumber(sizes.cancelJobs)} ${name}: submit ${formatMs(figure.submitMs)}, settled ${formatMs(figure.settledMs)} ` +
              `(loop ${formatMs(figure.loopMs)}; then allSettled at ${formatMs(figure.allSettledMs)}); reached Redis ${figure.reachedRedis}, ran ${figure.ran}`,
          );
        } else {
          const way = round % 2 === 0 ? 'drain' : 'obliterate';
          const figure = await plainCancel(redis, `${queues.plainCancel}-${round}`, sizes.cancelJobs, sizes.removeSample, way);
          samples.push({ contender: `plain BullMQ: ${way}()`, case: 'cancel', round, value: figure.bulkMs, unit: `ms for ${way}() of the jobs left`, extra: { addMs: figure.addMs, removeOneMs: figure.removeOneMs, removeAllByIdMs: figure.removeAllByIdMs, bulkMs: figure.bulkMs, left: figure.left } });
          samples.push({ contender: 'plain BullMQ: remove() by id', case: 'cancel', round, value: figure.removeAllByIdMs, unit: 'ms, extrapolated from a sample', extra: { removeOneMs: figure.removeOneMs, sample: sizes.removeSample } });
          log(
            `round ${round + 1}/${rounds} cancel ${formatNumber(sizes.cancelJobs)} plain BullMQ: addBulk ${formatMs(figure.addMs)}, remove() ${formatMs(figure.removeOneMs)} per job, ` +
              `${way}() of ${formatNumber(figure.left)} ${formatMs(figure.bulkMs)}`,
          );
        }
      });

      // 4. The urgent job ---------------------------------------------------------------------
      interface UrgentEntry {
        readonly name: string;
        readonly short: string;
        measure(round: number): Promise<UrgentResult>;
      }
      const urgentEntries: UrgentEntry[] = [
        { name: `${lazyOneC.name}: promote()`, short: lazyOneC.short, measure: () => lazypoolUrgent(redis, client, queues.lazyOne, sizes) },
        { name: `${lazyManyC.name}: promote()`, short: lazyManyC.short, measure: () => lazypoolUrgent(redis, client, queues.lazyMany, sizes) },
        { name: `${plainInlineC.name}: lifo`, short: 'BullMQ inline lifo', measure: (round) => plainUrgent(redis, client, queues.plainInline, 'lifo', sizes, round === 0) },
        { name: `${plainInlineC.name}: priority 1 over 2`, short: 'BullMQ inline priority', measure: () => plainUrgent(redis, client, queues.plainInline, 'priority', sizes, false) },
        { name: `${plainSandboxedC.name}: lifo`, short: 'BullMQ threads lifo', measure: () => plainUrgent(redis, client, queues.plainSandboxed, 'lifo', sizes, false) },
        { name: `${plainSandboxedC.name}: priority 1 over 2`, short: 'BullMQ threads priority', measure: () => plainUrgent(redis, client, queues.plainSandboxed, 'priority', sizes, false) },
      ];
      let priorityBehindPlain: { ms: number; capped: boolean } | undefined;
      await alternate(urgentEntries, rounds, async (entry, round) => {
        const figure = await entry.measure(round);
        for (let index = 0; index < figure.toStart.length; index++) {
          samples.push({
            contender: entry.name,
            case: 'urgent',
            round,
            value: figure.toStart[index]!,
            unit: 'ms from promote() / add() to the job\'s start',
            extra: { toThread: figure.toThread[index]!, toResult: figure.toResult[index]!, backlogRan: figure.backlogRan },
          });
        }
        if (figure.priorityBehindPlain) priorityBehindPlain = figure.priorityBehindPlain;
        log(
          `round ${round + 1}/${rounds} urgent ${entry.name}: to start ${figure.toStart.map(formatMs).join(', ')}; to the thread ${figure.toThread.map(formatMs).join(', ')}` +
            `${figure.priorityBehindPlain ? `; priority 1 behind the un-prioritised backlog: ${figure.priorityBehindPlain.capped ? '>= ' : ''}${formatMs(figure.priorityBehindPlain.ms)}` : ''}`,
        );
      });

      // Figures ---------------------------------------------------------------------------------
      const valuesOf = (name: string, caseName: string, field?: string): number[] =>
        samples.filter((s) => s.contender === name && s.case === caseName).map((s) => (field ? (s.extra?.[field] ?? Number.NaN) : s.value));
      const med = (name: string, caseName: string, field?: string): number => median(valuesOf(name, caseName, field));

      const throughputRows = contenders.map((contender) => ({
        contender: contender.name,
        workers: contender.workers,
        tinyPerSecond: med(contender.name, 'tiny jobs/s'),
        oneMsPerSecond: med(contender.name, '1 ms jobs/s'),
        tenMsPerSecond: med(contender.name, '10 ms jobs/s'),
        latencyOneMs: med(contender.name, 'latency 1 ms'),
        latencyTenMs: med(contender.name, 'latency 10 ms'),
        addedLatencyOneMs: med(contender.name, 'latency 1 ms') - 1,
        addedLatencyTenMs: med(contender.name, 'latency 10 ms') - 10,
        cpuSelfMsPerTinyJob: med(contender.name, 'tiny jobs/s', 'cpuSelfMsPerJob'),
        cpuWorkersMsPerTinyJob: med(contender.name, 'tiny jobs/s', 'cpuWorkersMsPerJob'),
        cpuRedisMsPerTinyJob: med(contender.name, 'tiny jobs/s', 'cpuRedisMsPerJob'),
        cpuWorkersMsPerOneMsJob: med(contender.name, '1 ms jobs/s', 'cpuWorkersMsPerJob'),
      }));
      const rowOf = (contender: Contender) => throughputRows.find((row) => row.contender === contender.name)!;
      const idealTen = (threads * 1000) / 10;
      const throughputTable: Table = {
        title: `Jobs per second (${formatNumber(sizes.tiny)} tiny, ${formatNumber(sizes.oneMs)} x 1 ms, ${formatNumber(sizes.tenMs)} x 10 ms busy-wait jobs, submitted at once) and one job's latency on an idle pool, ${threads} threads each (median of ${rounds} rounds)`,
        columns: ['contender', 'tiny/s', '1 ms/s', '10 ms/s', '10 ms vs ideal', '1 ms vs thread pool', 'single 1 ms job', 'added', 'single 10 ms job', 'added'],
        rows: throughputRows.map((row) => [
          row.contender,
          formatNumber(row.tinyPerSecond),
          formatNumber(row.oneMsPerSecond),
          formatNumber(row.tenMsPerSecond),
          formatRatio(row.tenMsPerSecond / idealTen),
          formatRatio(ratio(row.oneMsPerSecond, rowOf(pool).oneMsPerSecond)),
          formatMs(row.latencyOneMs),
          formatMs(row.addedLatencyOneMs),
          formatMs(row.latencyTenMs),
          formatMs(row.addedLatencyTenMs),
        ]),
      };
      const cpuTable: Table = {
        title: 'CPU per tiny job, by process (median of the rounds; /proc, 10 ms ticks; the thread pool runs its jobs in the submitting process)',
        columns: ['contender', 'submitting process', 'worker process(es)', 'redis-server', 'all', 'Redis commands sent / run per job'],
        rows: throughputRows.map((row) => {
          const counts = commandCounts[row.contender];
          return [
            row.contender,
            formatMs(row.cpuSelfMsPerTinyJob),
            formatMs(row.cpuWorkersMsPerTinyJob),
            formatMs(row.cpuRedisMsPerTinyJob),
            formatMs(row.cpuSelfMsPerTinyJob + (Number.isFinite(row.cpuWorkersMsPerTinyJob) ? row.cpuWorkersMsPerTinyJob : 0) + row.cpuRedisMsPerTinyJob),
            counts ? `${counts.clientCommands.toFixed(1)} / ${counts.allCommands.toFixed(1)}` : '',
          ];
        }),
      };

      const occupancyTable: Table = {
        title: `Jobs waiting in Redis (wait + prioritized + paused, sampled every ~2 ms) with ${formatNumber(sizes.occupancyJobs)} tiny jobs submitted to a lazypool/bullmq pool, run ${formatMs(sizes.occupancyRunMs)}, the rest cancelled`,
        columns: ['contender', 'registered capacity', 'margin', 'max waiting', 'max waiting + active', 'samples above free capacity + margin', 'median waiting', 'samples', 'completed', 'added to Redis', 'cancelled'],
        rows: Object.entries(occupancies).map(([name, figure]) => [
          name,
          String(figure.capacity),
          String(figure.margin),
          String(figure.maxWaiting),
          String(figure.maxWaitingAndActive),
          String(figure.overBound),
          formatNumber(figure.medianWaiting),
          formatNumber(figure.samples),
          formatNumber(figure.completed),
          formatNumber(figure.addedToRedis),
          formatNumber(figure.cancelled),
        ]),
      };

      const lazyCancel = (field: string) => med(lazyCancelName, 'cancel', field);
      const plainDrain = samples.filter((s) => s.contender === 'plain BullMQ: drain()');
      const plainObliterate = samples.filter((s) => s.contender === 'plain BullMQ: obliterate()');
      const plainAll = [...plainDrain, ...plainObliterate];
      const cancelTable: Table = {
        title: `Cancelling ${formatNumber(sizes.cancelJobs)} jobs submitted while every worker thread is busy (median of the rounds)`,
        columns: ['way', 'rounds', 'submit / addBulk', 'cancel until settled / removed', 'reached Redis', 'ran'],
        rows: [
          [
            lazyCancelName,
            String(valuesOf(lazyCancelName, 'cancel').length),
            formatMs(lazyCancel('submitMs')),
            `${formatMs(lazyCancel('settledMs'))} (loop ${formatMs(lazyCancel('loopMs'))}; + allSettled: ${formatMs(lazyCancel('allSettledMs'))})`,
            formatNumber(lazyCancel('reachedRedis')),
            formatNumber(lazyCancel('ran')),
          ],
          [
            `${threadsCancelName} (reference)`,
            String(valuesOf(threadsCancelName, 'cancel').length),
            formatMs(med(threadsCancelName, 'cancel', 'submitMs')),
            `${formatMs(med(threadsCancelName, 'cancel'))} (loop ${formatMs(med(threadsCancelName, 'cancel', 'loopMs'))}; + allSettled: ${formatMs(med(threadsCancelName, 'cancel', 'allSettledMs'))})`,
            '-',
            formatNumber(med(threadsCancelName, 'cancel', 'ran')),
          ],
          [
            'plain BullMQ: queue.drain()',
            String(plainDrain.length),
            formatMs(median(plainAll.map((s) => s.extra?.addMs ?? Number.NaN))),
            `${formatMs(median(plainDrain.map((s) => s.value)))} (for ${formatNumber(sizes.cancelJobs - sizes.removeSample)})`,
            formatNumber(sizes.cancelJobs),
            '0 (no worker)',
          ],
          [
            'plain BullMQ: queue.obliterate({ force: true })',
            String(plainObliterate.length),
            formatMs(median(plainAll.map((s) => s.extra?.addMs ?? Number.NaN))),
            `${formatMs(median(plainObliterate.map((s) => s.value)))} (for ${formatNumber(sizes.cancelJobs - sizes.removeSample)})`,
            formatNumber(sizes.cancelJobs),
            '0 (no worker)',
          ],
          [
            'plain BullMQ: queue.remove(id) each',
            String(valuesOf('plain BullMQ: remove() by id', 'cancel').length),
            formatMs(median(plainAll.map((s) => s.extra?.addMs ?? Number.NaN))),
            `${formatMs(med('plain BullMQ: remove() by id', 'cancel'))} extrapolated (${formatMs(med('plain BullMQ: remove() by id', 'cancel', 'removeOneMs'))} per job, sample of ${sizes.removeSample})`,
            formatNumber(sizes.cancelJobs),
            '0 (no worker)',
          ],
        ],
      };

      const urgentRows = urgentEntries.map((entry) => {
        const values = valuesOf(entry.name, 'urgent');
        return {
          way: entry.name,
          samples: values.length,
          toStart: median(values),
          worst: Math.max(...values),
          toThread: med(entry.name, 'urgent', 'toThread'),
          toResult: med(entry.name, 'urgent', 'toResult'),
          backlogRan: med(entry.name, 'urgent', 'backlogRan'),
        };
      });
      const urgentTable: Table = {
        title: `An urgent 10 ms job behind ${formatNumber(sizes.backlog)} waiting 10 ms jobs, ${formatMs(sizes.steadyMs)} after they were submitted (median of ${rounds} rounds x ${sizes.urgentJobs} jobs)`,
        columns: ['way', 'jobs', 'to start', 'worst', 'to its thread', 'to result', 'backlog jobs run meanwhile'],
        rows: [
          ...urgentRows.map((row) => [
            row.way,
            String(row.samples),
            formatMs(row.toStart),
            formatMs(row.worst),
            formatMs(row.toThread),
            formatMs(row.toResult),
            formatNumber(row.backlogRan),
          ]),
          ...(priorityBehindPlain
            ? [[`${plainInlineC.name}: priority 1, un-prioritised backlog`, '1', `${priorityBehindPlain.capped ? '>= ' : ''}${formatMs(priorityBehindPlain.ms)}`, '', '', '', '']]
            : []),
        ],
      };

      // Targets ---------------------------------------------------------------------------------
      const targets: Target[] = [];
      for (const [name, figure] of Object.entries(occupancies)) {
        targets.push({
          target: `${name}: jobs waiting in Redis never above free capacity + margin (<= 2 x ${threads} threads = ${2 * threads})`,
          measured: `max ${figure.maxWaiting} over ${formatNumber(figure.samples)} samples (registered capacity ${figure.capacity}, margin ${figure.margin}); samples above that moment's free capacity + margin: ${figure.overBound}`,
          met: figure.maxWaiting <= 2 * threads && figure.overBound === 0,
        });
      }
      const reached = valuesOf(lazyCancelName, 'cancel', 'reachedRedis');
      const ranCancelled = valuesOf(lazyCancelName, 'cancel', 'ran');
      targets.push(
        {
          target: `${lazyCancelName}: ${formatNumber(sizes.cancelJobs)} jobs cancelled, every handle settled and its onDone listener run, in < 200 ms`,
          measured:
            `${formatMs(lazyCancel('settledMs'))} (rounds: ${valuesOf(lazyCancelName, 'cancel').map(formatMs).join(', ')}); ` +
            `a Promise.allSettled over the handles after that resolved at ${formatMs(lazyCancel('allSettledMs'))} from the first cancel(); ` +
            `the thread pool, same procedure, side by side: ${formatMs(med(threadsCancelName, 'cancel'))} (${formatRatio(ratio(lazyCancel('settledMs'), med(threadsCancelName, 'cancel')))})`,
          met: lazyCancel('settledMs') < 200,
        },
        {
          target: `${lazyCancelName}: no job reached Redis beyond the margin (${threads}: the workers' threads all busy) and none ran`,
          measured: `reached Redis ${reached.join(', ')}; ran ${ranCancelled.join(', ')}; still waiting in Redis after: ${valuesOf(lazyCancelName, 'cancel', 'stillWaitingInRedis').join(', ')}`,
          met: reached.every((count) => count <= threads) && ranCancelled.every((count) => count === 0),
        },
      );
      for (const row of urgentRows.slice(0, 2)) {
        targets.push({
          target: `${row.way}: promote() to start <= one job (10 ms) + 20 ms`,
          measured: `median ${formatMs(row.toStart)}, worst ${formatMs(row.worst)} (to its thread ${formatMs(row.toThread)})`,
          met: row.toStart <= 30,
        });
      }

      const lazyRow = rowOf(lazyOneC);
      const medians = [
        ...throughputRows.map((row) => ({ part: 'throughput and latency', ...row })),
        ...Object.entries(occupancies).map(([name, figure]) => ({ part: 'Redis occupancy', contender: name, ...figure })),
        {
          part: 'mass cancel',
          contender: lazyCancelName,
          submitMs: lazyCancel('submitMs'),
          settledMs: lazyCancel('settledMs'),
          allSettledMs: lazyCancel('allSettledMs'),
          loopMs: lazyCancel('loopMs'),
          reachedRedis: lazyCancel('reachedRedis'),
          ran: lazyCancel('ran'),
        },
        {
          part: 'mass cancel',
          contender: threadsCancelName,
          submitMs: med(threadsCancelName, 'cancel', 'submitMs'),
          settledMs: med(threadsCancelName, 'cancel'),
          allSettledMs: med(threadsCancelName, 'cancel', 'allSettledMs'),
          loopMs: med(threadsCancelName, 'cancel', 'loopMs'),
          ran: med(threadsCancelName, 'cancel', 'ran'),
        },
        { part: 'mass cancel', contender: 'plain BullMQ: drain()', addMs: median(plainAll.map((s) => s.extra?.addMs ?? Number.NaN)), removeMs: median(plainDrain.map((s) => s.value)), jobsRemoved: sizes.cancelJobs - sizes.removeSample },
        { part: 'mass cancel', contender: 'plain BullMQ: obliterate()', removeMs: median(plainObliterate.map((s) => s.value)), jobsRemoved: sizes.cancelJobs - sizes.removeSample },
        {
          part: 'mass cancel',
          contender: 'plain BullMQ: remove() by id',
          removeOneMs: med('plain BullMQ: remove() by id', 'cancel', 'removeOneMs'),
          extrapolatedMs: med('plain BullMQ: remove() by id', 'cancel'),
        },
        ...urgentRows.map((row) => ({ part: 'urgent job', contender: row.way, ...row })),
        ...(priorityBehindPlain ? [{ part: 'urgent job', contender: `${plainInlineC.name}: priority 1, un-prioritised backlog`, toStart: priorityBehindPlain.ms, capped: priorityBehindPlain.capped }] : []),
        ...Object.entries(commandCounts).map(([name, counts]) => ({ part: 'Redis commands per tiny job (MONITOR)', contender: name, ...counts })),
      ];

      const lazyCounts = commandCounts[lazyOneC.name];
      const plainCounts = commandCounts[plainInlineC.name];
      notes.push(
        `Worker processes: ${contenders.map((contender) => `${contender.name}: ${contender.workers}`).join('; ')}. They are started once and serve their own queue for the whole run; each measure opens a fresh submitting side (Pool, or Queue + QueueEvents) and warms it with ${warmUpTiny} tiny and ${warmUpSpin} 1 ms jobs.`,
        `Plain BullMQ runs the same functions (workers/bullmq.mjs): 'inline' calls them in the Worker's own event loop, so at concurrency ${threads} synchronous CPU jobs still run one at a time (one core); 'sandboxed' is BullMQ's way for CPU jobs, a processor file on ${threads} worker threads. Jobs go in through addBulk (10,000 per call) and results come back through QueueEvents (job.waitUntilFinished); a single job through add() + waitUntilFinished.`,
        `Every result timed is checked (each job returns 2n+1 for its own n); the backlog jobs that ran during the urgent measure, and the jobs that ran in the occupancy measure, are checked too.`,
        `Latency is submit -> settled of one job at a time on an idle pool; 'added' is that minus the job's own length.`,
        `Redis occupancy: a Lua script reads LLEN wait, ZCARD prioritized, LLEN paused and LLEN active atomically, every ~2 ms from the submitting process; each sample is also checked against that moment's bound, max(0, capacity - active) + margin; 'added to Redis' is the change of bull:<queue>:id (BullMQ increments it on every add). The margin is the executor's default (= the registered capacity).`,
        `Mass cancel, lazypool/bullmq: ${threads} hold jobs of ${formatMs(sizes.holdMs)} keep every worker thread busy (begun, seen through onStart); then ${formatNumber(sizes.cancelJobs)} tiny jobs are submitted, 50 ms pass (the executor sends its margin to Redis meanwhile), cancel() is called on each (each has an onDone listener, attached before) until every listener has run; a Promise.allSettled over the handles is awaited after that, and its time from the first cancel() shown beside (it costs what 100,000 promises cost). 'reached Redis' is the change of bull:<queue>:id over that; the jobs that did (the margin) are taken back when cancelled (ghosts, removed from Redis by queue.remove()). The thread pool goes through the same steps in the same rounds, as the reference for what the pool itself costs (its hold jobs hold its ${threads} threads).`,
        `Mass cancel, plain BullMQ: ${formatNumber(sizes.cancelJobs)} jobs added with addBulk to a queue no worker serves; ${sizes.removeSample} of them (half the oldest, half the newest) removed one by one with queue.remove(id), timed and extrapolated to all (removeJob scans the wait list, so each costs more the longer it is), then the rest removed with queue.drain() (even rounds) or queue.obliterate({ force: true }) (odd rounds). BullMQ has no handles to settle: its figure is the time of the call.`,
        `Urgent job: lazypool/bullmq submits it and calls promote() (the executor adds it to Redis with lifo past the margin); 'to start' is promote() -> its onStart callback (the job becomes running when this process answers yes to the worker that asks whether it may begin it), 'to its thread' is promote() -> the worker thread's own timestamp at the job's first instruction. Plain BullMQ: queue.add() with { lifo: true } behind an un-prioritised backlog, or { priority: 1 } behind a backlog of priority 2 (BullMQ takes jobs without a priority before any prioritised one, so priority 1 behind an un-prioritised backlog waits for all of it${priorityBehindPlain ? `: measured once, ${priorityBehindPlain.capped ? 'not begun after' : 'begun after'} ${formatMs(priorityBehindPlain.ms)}` : ''}); 'to start' is add() called -> the processor's own timestamp (same clock, performance.timeOrigin + now()).`,
        `CPU per job is read from /proc (10 ms ticks) around the timed run of ${formatNumber(sizes.tiny)} tiny jobs; Redis commands per job from MONITOR over ${sizes.monitorJobs} tiny jobs (clients' commands / everything Redis ran, scripts' inner calls included).`,
      );
      if (lazyCounts && plainCounts) {
        const top = (counts: CommandCounts) =>
          Object.entries(counts.byName)
            .sort((a, b) => b[1] - a[1])
            .map(([name, count]) => `${name} ${count.toFixed(2)}`)
            .join(', ');
        notes.push(
          `Per tiny job, MONITOR: ${lazyOneC.name} ${lazyCounts.clientCommands.toFixed(1)} client commands (${top(lazyCounts)}), ${lazyCounts.allCommands.toFixed(1)} in all, ${lazyCounts.events.toFixed(1)} events (XADD); ${plainInlineC.name} ${plainCounts.clientCommands.toFixed(1)} (${top(plainCounts)}), ${plainCounts.allCommands.toFixed(1)} in all, ${plainCounts.events.toFixed(1)} events.`,
          `Tiny-job CPU, ${lazyOneC.name}: ${formatMs(lazyRow.cpuSelfMsPerTinyJob)} submitting + ${formatMs(lazyRow.cpuWorkersMsPerTinyJob)} worker + ${formatMs(lazyRow.cpuRedisMsPerTinyJob)} Redis per job, against ${formatMs(rowOf(plainInlineC).cpuSelfMsPerTinyJob)} + ${formatMs(rowOf(plainInlineC).cpuWorkersMsPerTinyJob)} + ${formatMs(rowOf(plainInlineC).cpuRedisMsPerTinyJob)} for ${plainInlineC.name}: on ${threads} shared cores the sum bounds the rate.`,
        );
      }

      const shortOf = new Map(contenders.map((contender) => [contender.name, contender.short]));
      const cancelPanel = `ms to cancel ${formatNumber(sizes.cancelJobs)} jobs (lazypool: until every handle settled; BullMQ: the call)`;
      const chartRows = [
        ...throughputRows.flatMap((row) => [
          { contender: shortOf.get(row.contender), panel: `1 ms jobs per second (${formatNumber(sizes.oneMs)} jobs)`, value: row.oneMsPerSecond },
          { contender: shortOf.get(row.contender), panel: `10 ms jobs per second (${formatNumber(sizes.tenMs)} jobs; ideal ${formatNumber(idealTen)})`, value: row.tenMsPerSecond },
          { contender: shortOf.get(row.contender), panel: 'ms added to a single 1 ms job on an idle pool', value: row.addedLatencyOneMs },
        ]),
        { contender: lazyOneC.short, panel: cancelPanel, value: lazyCancel('settledMs') },
        { contender: pool.short, panel: cancelPanel, value: med(threadsCancelName, 'cancel') },
        { contender: 'BullMQ drain()', panel: cancelPanel, value: median(plainDrain.map((s) => s.value)) },
        { contender: 'BullMQ obliterate()', panel: cancelPanel, value: median(plainObliterate.map((s) => s.value)) },
        ...urgentEntries.map((entry, index) => ({
          contender: entry.short,
          panel: `ms from promote() / add() to the urgent job's start, ${formatNumber(sizes.backlog)} waiting 10 ms jobs`,
          value: urgentRows[index]!.toStart,
        })),
      ];

      return {
        settings: {
          rounds,
          threads,
          sizes,
          warmUpTiny,
          warmUpSpin,
          redis: 'redis-server on a free port of 127.0.0.1, --save "" --appendonly no, in a temp folder',
          redisVersion: /redis_version:(\S+)/.exec(await client.info('server'))?.[1],
          bullmq: installedVersion('bullmq'),
          ioredis: installedVersion('ioredis'),
          jobs: 'workers/bullmq.mjs: tiny(n) and spin({ ms, n }) (busy-wait), both returning 2n+1',
          queues,
        },
        samples,
        medians,
        tables: [throughputTable, cpuTable, occupancyTable, cancelTable, urgentTable],
        targets,
        notes,
        chart: barChart({
          title: `lazypool/bullmq (1x${threads}: one worker process of ${threads} threads; ${threads}x1: ${threads} of one), the thread pool and plain BullMQ (inline, or sandboxed on ${threads} threads), medians`,
          rows: chartRows,
          bar: 'contender',
          value: 'value',
          valueTitle: 'value (see the panel)',
          panel: 'panel',
          independentScales: true,
        }),
      };
    } finally {
      client.disconnect();
      await Promise.allSettled(workers.map((worker) => worker.stop()));
      await redis.stop();
    }
  },
};
