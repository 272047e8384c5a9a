import test from 'ava';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { CancelledError, JobHandle, Pool, PoolClosedError } from '../src/index.js';
import { deferred, jobsModule, jobsPath, jobsPool, Latches } from './helpers.js';

/** Resolves once the handle is `running`: its thread (or its run function) began it. */
function began(handle: JobHandle): Promise<void> {
  return new Promise((resolve) => handle.onStart(() => resolve()));
}

test('new Pool accepts an absolute path, a file: URL string and a URL', async (t) => {
  for (const filename of [jobsPath, pathToFileURL(jobsPath).href, jobsModule]) {
    const pool = new Pool({ filename, maxThreads: 1 });
    t.is(await pool.submit(21, { name: 'double' }), 42);
    await pool.close();
  }
});

test('invalid pool options throw at construction, naming the option', (t) => {
  t.throws(() => new Pool({} as never), { instanceOf: TypeError, message: /filename.*run.*executor/ });
  t.throws(() => new Pool({ filename: jobsModule, concurrency: -1 }), { instanceOf: RangeError, message: 'concurrency must be a non-negative integer or Infinity, got -1' });
  t.throws(() => new Pool({ filename: jobsModule, concurrency: 1.5 }), { instanceOf: RangeError, message: /concurrency.*1\.5/ });
  t.throws(() => new Pool({ filename: jobsModule, concurrency: '2' as never }), { instanceOf: TypeError, message: /concurrency/ });
  t.throws(() => new Pool({ filename: 'relative/worker.js' }), { instanceOf: RangeError, message: /filename/ });
  t.throws(() => new Pool({ filename: 42 as never }), { instanceOf: TypeError, message: /filename/ });
  t.throws(() => new Pool({ filename: jobsModule, abortGrace: -5 }), { instanceOf: RangeError, message: /abortGrace/ });
  t.throws(() => new Pool({ filename: jobsModule, maxQueue: 10 as never }), { instanceOf: TypeError, message: /maxQueue/ });
  t.throws(() => new Pool({ filename: jobsModule, Handle: Map as never }), { instanceOf: TypeError, message: /Handle/ });
  t.throws(() => new Pool({ run: () => 1 } as never), { instanceOf: TypeError, message: /concurrency/ });
  const several = 'new Pool() takes one of `filename`, `run` and `executor`, not several';
  t.throws(() => new Pool({ run: () => 1, filename: jobsModule, concurrency: 1 }), { instanceOf: TypeError, message: several });
  t.throws(() => new Pool({ run: () => 1, executor: {} as never, concurrency: 1 }), { instanceOf: TypeError, message: several });
  t.throws(() => new Pool({ filename: jobsModule, executor: {} as never }), { instanceOf: TypeError, message: several });
  t.throws(() => new Pool({ filename: jobsModule, maxThreads: -1 }), { instanceOf: RangeError, message: 'maxThreads must be a positive integer, got -1' });
  t.throws(() => new Pool({ filename: jobsModule, maxThreads: Number.NaN }), { instanceOf: RangeError, message: /maxThreads/ });
  t.throws(() => new Pool({ filename: jobsModule, minThreads: 1.5 }), { instanceOf: RangeError, message: /minThreads/ });
  t.throws(() => new Pool({ filename: jobsModule, workerData: () => 1 }), { instanceOf: TypeError, message: /workerData/ });
});

test('default concurrency is what the threads can run (maxThreads × concurrentTasksPerWorker), and the pool reports it', async (t) => {
  const pool = jobsPool({ maxThreads: 3 });
  t.is(pool.concurrency, 3);
  t.is(pool.stats.concurrency, 3);
  const perWorker = jobsPool({ maxThreads: 2, concurrentTasksPerWorker: 3 });
  t.is(perWorker.concurrency, 6);
  t.is(perWorker.stats.concurrency, 6);
  // It does not change with the length of the jobs run.
  t.deepEqual(await Promise.all([1, 2, 3, 4].map((n) => pool.submit(n, { name: 'asyncDouble' }))), [2, 4, 6, 8]);
  t.is(pool.concurrency, 3);
  await Promise.all([pool.close(), perWorker.close()]);
});

test('concurrency: Infinity is accepted; a thread pool then runs as many jobs as its threads can', async (t) => {
  const latches = new Latches(3);
  const pool = jobsPool({ maxThreads: 2, concurrency: Infinity });
  t.is(pool.concurrency, Infinity);
  t.is(pool.stats.concurrency, Infinity);
  const handles = [0, 1, 2].map((i) => pool.submit(latches.latch(i), { name: 'waitForRelease' }));
  await Promise.all([latches.started(0), latches.started(1), began(handles[0]), began(handles[1])]);
  t.like(pool.stats, { running: 2, queued: 1 });
  t.is(handles[2].state, 'queued');
  for (const i of [0, 1, 2]) latches.release(i);
  t.deepEqual(await Promise.all(handles), [0, 1, 2]);
  pool.concurrency = 1;
  t.is(pool.concurrency, 1);
  pool.concurrency = Infinity;
  t.is(pool.concurrency, Infinity);
  await pool.close();
});

test('at most `concurrency` jobs run at once; the next goes out as soon as one stops', async (t) => {
  const latches = new Latches(5);
  const pool = jobsPool({ concurrency: 2 });
  const handles = [0, 1, 2, 3, 4].map((i) => pool.submit(latches.latch(i), { name: 'waitForRelease' }));
  await Promise.all([latches.started(0), latches.started(1), began(handles[0]), began(handles[1])]);
  t.deepEqual(handles.map((h) => h.state), ['running', 'running', 'queued', 'queued', 'queued']);
  t.like(pool.stats, { running: 2, queued: 3 });
  t.false(latches.hasStarted(2));
  latches.release(0);
  await handles[0];
  // The slot freed by job 0 goes to job 2, the next in submission order; job 3 still waits.
  await Promise.all([latches.started(2), began(handles[2])]);
  t.is(handles[2].state, 'running');
  t.is(handles[3].state, 'queued');
  t.like(pool.stats, { running: 2, queued: 2 });
  t.false(latches.hasStarted(3));
  for (const i of [1, 2, 3, 4]) latches.release(i);
  t.deepEqual(await Promise.all(handles), [0, 1, 2, 3, 4]);
  await pool.close();
});

test('submit begins nothing before it returns, even with a free slot: the job is queued until its thread begins it', async (t) => {
  const pool = jobsPool({ concurrency: 1 });
  const starts: number[] = [];
  pool.on('start', (h) => starts.push(h.input as number));
  const handle = pool.submit(1);
  t.is(handle.state, 'queued');
  t.is(handle.timing.startedAt, undefined);
  t.deepEqual(starts, []);
  const second = pool.submit(2);
  t.is(second.state, 'queued');
  t.like(pool.stats, { queued: 2, running: 0 });
  // Read in the callback: the brief job (and the next) may have finished by the time an await resumes.
  const atStart = await new Promise<{ starts: number[]; startedAt: number | undefined }>((resolve) =>
    handle.onStart((h) => resolve({ starts: [...starts], startedAt: h.timing.startedAt })),
  );
  t.deepEqual(atStart.starts, [1]);
  t.not(atStart.startedAt, undefined);
  t.deepEqual(await Promise.all([handle, second]), [1, 2]);
  t.deepEqual(starts, [1, 2]);
  await pool.close();
});

test('raising concurrency dispatches queued jobs at once', async (t) => {
  const pool = new Pool({ run: () => new Promise(() => {}), concurrency: 1 });
  const handles = [1, 2, 3].map((i) => pool.submit(i));
  await began(handles[0]);
  t.deepEqual(handles.map((h) => h.state), ['running', 'queued', 'queued']);
  // Let the pool settle: nothing more begins while the limit is 1.
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(handles.map((h) => h.state), ['running', 'queued', 'queued']);
  pool.concurrency = 3;
  t.is(pool.stats.concurrency, 3);
  // Handed over at once; each begins on a later microtask, before any timer or I/O.
  let immediate = false;
  setImmediate(() => (immediate = true));
  await Promise.all([began(handles[1]), began(handles[2])]);
  t.false(immediate);
  t.deepEqual(handles.map((h) => h.state), ['running', 'running', 'running']);
  t.throws(() => (pool.concurrency = -2), { instanceOf: RangeError, message: /concurrency/ });
  for (const handle of handles) handle.cancel();
  await pool.close();
});

test('higher priority runs first; equal priorities run in submission order', async (t) => {
  const order: number[] = [];
  const pool = new Pool({ run: (n: number) => order.push(n), concurrency: 1 });
  pool.pause();
  const inputs = [
    [1, 0],
    [2, 5],
    [3, 0],
    [4, 5],
    [5, -1],
    [6, 10],
  ];
  for (const [input, priority] of inputs) pool.submit(input, { priority });
  pool.resume();
  await pool.idle();
  t.deepEqual(order, [6, 2, 4, 1, 3, 5]);
  await pool.close();
});

test('stats count jobs in every state', async (t) => {
  const gate = deferred();
  const pool = new Pool({ run: (x: string) => (x === 'fail' ? Promise.reject(new Error('no')) : x === 'wait' ? gate.promise : x), concurrency: 1 });
  const failing = pool.submit('fail');
  await t.throwsAsync(failing);
  await pool.submit('ok');
  const waiting = pool.submit('wait');
  pool.submit('q1');
  pool.submit('q2', { hold: true });
  pool.submit('q3').cancel();
  t.deepEqual(pool.stats, { held: 1, queued: 2, running: 0, fulfilled: 1, rejected: 1, cancelled: 1, concurrency: 1, threads: 0 });
  await began(waiting);
  t.deepEqual(pool.stats, { held: 1, queued: 1, running: 1, fulfilled: 1, rejected: 1, cancelled: 1, concurrency: 1, threads: 0 });
  gate.resolve('done');
  await waiting;
  await pool.close();
  t.like(pool.stats, { held: 0, queued: 0, running: 0, fulfilled: 3, cancelled: 2 });
});

test('stats.threads counts the live threads', async (t) => {
  const pool = jobsPool({ minThreads: 2, maxThreads: 2 });
  await Promise.all([pool.submit(1), pool.submit(2)]);
  t.is(pool.stats.threads, 2);
  await pool.close();
  t.is(pool.stats.threads, 0);
});

test('pause stops dispatching and resume restarts it; running jobs go on', async (t) => {
  const latches = new Latches(3);
  const pool = jobsPool({ concurrency: 1 });
  const first = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  const second = pool.submit(latches.latch(1), { name: 'waitForRelease' });
  // submit() begins nothing by itself: pause once the first job runs.
  await Promise.all([latches.started(0), began(first)]);
  pool.pause();
  t.is(first.state, 'running');
  latches.release(0);
  t.is(await first, 0);
  t.is(second.state, 'queued');
  t.false(latches.hasStarted(1));
  pool.resume();
  await Promise.all([latches.started(1), began(second)]);
  t.is(second.state, 'running');
  latches.release(1);
  t.is(await second, 1);
  await pool.close();
});

test('idle() resolves when nothing is queued or running; held jobs do not count', async (t) => {
  const pool = jobsPool();
  await pool.idle();
  const held = pool.submit(1, { hold: true });
  await pool.idle();
  const handles = [1, 2, 3].map((n) => pool.submit(n, { name: 'asyncDouble' }));
  await pool.idle();
  t.true(handles.every((h) => h.state === 'fulfilled'));
  t.is(held.state, 'held');
  await pool.close();
});

test("events: 'start' and 'done' for each job, 'idle' when the pool empties", async (t) => {
  const pool = jobsPool();
  const started: number[] = [];
  const done: number[] = [];
  pool.on('start', (handle) => started.push(handle.id));
  pool.on('done', (handle) => done.push(handle.id));
  const idle = once(pool, 'idle');
  const handles = [1, 2, 3].map((n) => pool.submit(n));
  handles.push(pool.submit(4, { hold: true }));
  handles[3].cancel();
  await idle;
  t.deepEqual(started.sort(), handles.slice(0, 3).map((h) => h.id));
  t.deepEqual(done.sort(), handles.map((h) => h.id).sort());
  await pool.close();
});

test('ids are unique and increasing per pool', async (t) => {
  const pool = jobsPool();
  const handles = Array.from({ length: 10 }, (_, i) => pool.submit(i));
  for (let i = 1; i < handles.length; i++) t.true(handles[i].id > handles[i - 1].id);
  await Promise.all(handles);
  await pool.close();
});

test('close() lets queued jobs run, cancels held ones, then ends the threads', async (t) => {
  const pool = jobsPool({ concurrency: 1 });
  const queued = [1, 2, 3].map((n) => pool.submit(n, { name: 'asyncDouble' }));
  const held = pool.submit(4, { hold: true });
  await pool.close();
  t.deepEqual(await Promise.all(queued), [2, 4, 6]);
  t.is(held.state, 'cancelled');
  const error = await t.throwsAsync(held, { instanceOf: CancelledError });
  t.true(error!.reason instanceof PoolClosedError);
  t.is(pool.stats.threads, 0);
});

test('close({ cancelQueued: true }) cancels queued jobs and waits for the running one', async (t) => {
  const latches = new Latches(1);
  const pool = jobsPool({ concurrency: 1 });
  const running = pool.submit(latches.latch(0), { name: 'waitForRelease' });
  const queued = [1, 2].map((n) => pool.submit(n));
  await Promise.all([latches.started(0), began(running)]);
  const closing = pool.close({ cancelQueued: true });
  t.deepEqual(queued.map((h) => h.state), ['cancelled', 'cancelled']);
  t.is(running.state, 'running');
  latches.release(0);
  await closing;
  t.is(running.state, 'fulfilled');
});

test('a closed pool gives handles already rejected with PoolClosedError; close is idempotent', async (t) => {
  const pool = jobsPool();
  const closing = pool.close();
  t.is(pool.close(), closing);
  const handle = pool.submit(1);
  t.is(handle.state, 'rejected');
  await t.throwsAsync(handle, { instanceOf: PoolClosedError, name: 'PoolClosedError' });
  await closing;
});

// Serial: AVA runs serial tests before the concurrent ones, so no other pool of this file is alive.
test.serial('close() leaves no thread, timer or port behind', async (t) => {
  const before = new Set(process.getActiveResourcesInfo());
  const pool = jobsPool({ minThreads: 2 });
  const seen: unknown[] = [];
  await Promise.all([pool.submit(5, { name: 'report', onProgress: (v) => seen.push(v) }), pool.submit(1, { timeout: 60_000 })]);
  await pool.close();
  t.is(seen.length, 5);
  const after = process.getActiveResourcesInfo().filter((resource) => !before.has(resource));
  t.deepEqual(after, []);
});

test('pool[Symbol.asyncDispose] closes the pool (await using)', async (t) => {
  let outer: Pool | undefined;
  {
    await using pool = jobsPool();
    outer = pool;
    t.is(await pool.submit(2, { name: 'double' }), 4);
  }
  const late = outer.submit(1);
  t.is(late.state, 'rejected');
  await t.throwsAsync(late, { instanceOf: PoolClosedError });
});

test('a custom Handle class builds every handle and sees every option (kwargs)', async (t) => {
  class TaggedHandle extends JobHandle<unknown, { tag?: string }> {
    readonly tag: string;
    constructor(init: ConstructorParameters<typeof JobHandle<unknown, { tag?: string }>>[0]) {
      super(init);
      this.tag = init.options.tag ?? 'untagged';
    }
  }
  const pool = new Pool({ filename: jobsModule, maxThreads: 1, Handle: TaggedHandle });
  // Given through a variable, as JavaScript would: a key no type declares is kept all the same.
  const options = { name: 'double', tag: 'thumbnail', custom: { deep: true } };
  const handle = pool.submit(3, options);
  t.true(handle instanceof TaggedHandle);
  t.is(handle.tag, 'thumbnail');
  t.deepEqual(handle.options, { name: 'double', tag: 'thumbnail', custom: { deep: true } });
  t.is(await handle, 6);
  t.true(pool.submit(1, { hold: true }) instanceof TaggedHandle);
  await pool.close();
});
