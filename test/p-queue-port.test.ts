/**
 * p-queue's own test suite (p-queue 8.1.0, test/test.ts: 53 tests), ported to lazypool's in-process
 * pool test by test, in its order and under its names. What a p-queue user trips over is written
 * beside the test where it shows; docs/api.md's "Coming from p-queue" table says the same.
 *
 * How the port reads p-queue's calls:
 * - `queue.add(fn, options)` is `add(fn, options)` below: the pool's `run` calls the function the
 *   job carries. The function travels inside an object, `{ task }`: **a function given to
 *   `submit` itself builds the job's input** (lazily, when the job is about to begin); it is not
 *   the task.
 * - `queue.size` is `stats.queued`, `queue.pending` is `stats.running`.
 * - **`submit` never begins a job in the caller's turn**, where `add` begins one at once if a slot
 *   is free: jobs submitted together are ordered together (by priority), and the first begins a
 *   microtask later. Where p-queue's test reads `pending` right after `add`, the port reads it after
 *   `started()`, and the priority tests see the first job wait its turn like the others.
 * - p-queue's tests time themselves with `delay()` and check wall times; here each task waits on a
 *   gate the test opens (or on its signal), so that nothing depends on how busy the machine is.
 *
 * Left out, as lazypool has no counterpart (docs/api.md says what to use instead): the 9 rate-limit
 * tests (`interval`, `intervalCap`, `carryoverConcurrencyCount`, "throttled", "clear interval on
 * pause", "enforce number in options.intervalCap", "enforce finite in options.interval"),
 * `.sizeBy()`, `.onEmpty()`, `.onSizeLessThan()`, "should emit empty event when empty", "should
 * emit add event when adding task", and ".start() - not paused" (no `isPaused`): 15 tests, so 38
 * are here. The two p-queue marks `test.failing` (a timeout that throws, a task that throws) pass.
 */
import test, { type ExecutionContext } from 'ava';
import { EventEmitter } from 'node:events';
import { CancelledError, Pool, TimeoutError, type InProcessJob, type JobHandle, type SubmitOptions } from '../src/index.js';
import { deferred } from './helpers.js';

const fixture = Symbol('fixture');

type Task<T> = (job: InProcessJob) => T | PromiseLike<T>;

/** p-queue's `new PQueue({ concurrency })` (Infinity is p-queue's default) and its `add`. */
function newQueue(concurrency = Number.POSITIVE_INFINITY, abortGrace?: number) {
  const pool = new Pool({ run: ({ task }: { task: Task<unknown> }, job) => task(job), concurrency, ...(abortGrace === undefined ? {} : { abortGrace }) });
  const add = <T>(task: Task<T>, options?: SubmitOptions): JobHandle<T> => pool.submit<T>({ task }, options);
  return { pool, add };
}

/** Resolves once the handle is `running`. */
function started(handle: JobHandle): Promise<void> {
  return new Promise((resolve) => handle.onStart(() => resolve()));
}

/** A task that runs until the test opens its gate (or its job is cancelled), then returns `value`. */
function gated<T>(value?: T) {
  const gate = deferred<void>();
  const task: Task<T | undefined> = (job) =>
    new Promise((resolve, reject) => {
      job.signal.addEventListener('abort', () => reject(job.signal.reason), { once: true });
      void gate.promise.then(() => resolve(value));
    });
  return { task, open: () => gate.resolve() };
}

/**
 * The next turn of the event loop: a job free to begin has begun by then (the pool begins jobs
 * within microtasks of a submit, a resume or a free slot), so a job still queued was held back.
 */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A task that waits a few ms on a timer (the random delays of p-queue's tests, shortened). */
const briefly = (ms: number) => (): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('.add()', async (t) => {
  const { pool, add } = newQueue();
  const handle = add(async () => fixture);
  // p-queue: size 0, pending 1 at once; here the job begins a microtask later.
  t.like(pool.stats, { queued: 1, running: 0 });
  await started(handle);
  t.like(pool.stats, { queued: 0, running: 1 });
  t.is(await handle, fixture);
});

test('.add() - limited concurrency', async (t) => {
  // Gated, the first task too: p-queue reads size and pending before any task can end.
  const { pool, add } = newQueue(2);
  const tasks = [gated(fixture), gated(fixture), gated(fixture)];
  const handles = tasks.map((task) => add(task.task));
  await Promise.all([started(handles[0]!), started(handles[1]!)]);
  t.like(pool.stats, { queued: 1, running: 2 });
  for (const task of tasks) task.open();
  t.deepEqual(await Promise.all(handles), [fixture, fixture, fixture]);
});

test('.add() - concurrency: 1', async (t) => {
  const { add } = newQueue(1);
  let running = 0;
  let most = 0;
  // p-queue checks the wall time (590-650 ms for 300 + 200 + 100 ms); here, that they ran one at a time, in order.
  const mapper = ([value, ms]: readonly [number, number]) =>
    add(async () => {
      most = Math.max(most, ++running);
      await briefly(ms)();
      running--;
      return value;
    });
  t.deepEqual(await Promise.all(([[10, 30], [20, 20], [30, 10]] as const).map(mapper)), [10, 20, 30]);
  t.is(most, 1);
});

/**
 * p-queue's two tests of 100 tasks under a limit: each task checks, as it begins, that no more run
 * than the pool's concurrency (its own count and `stats`), waits a little, then calls `ended`.
 */
async function hundredTasks(t: ExecutionContext, concurrency: number, ended?: (index: number, pool: Pool) => void): Promise<void> {
  const { pool, add } = newQueue(concurrency);
  let running = 0;
  await Promise.all(
    Array.from({ length: 100 }, (_, index) =>
      add(async () => {
        running++;
        t.true(running <= pool.concurrency);
        t.true(pool.stats.running <= pool.concurrency);
        await briefly(index % 7)();
        running--;
        ended?.(index, pool);
      }),
    ),
  );
}

test('.add() - concurrency: 5', async (t) => {
  await hundredTasks(t, 5);
});

test('.add() - update concurrency', async (t) => {
  let concurrency = 5;
  await hundredTasks(t, concurrency, (index, pool) => {
    if (index % 30 === 0) {
      pool.concurrency = --concurrency;
      t.is(pool.concurrency, concurrency);
    }
  });
});

test('.add() - priority', async (t) => {
  const result: number[] = [];
  const { pool, add } = newQueue(1);
  add(async () => result.push(1), { priority: 1 });
  add(async () => result.push(0), { priority: 0 });
  add(async () => result.push(1), { priority: 1 });
  add(async () => result.push(2), { priority: 1 });
  add(async () => result.push(3), { priority: 2 });
  add(async () => result.push(0), { priority: -1 });
  await pool.idle();
  // p-queue: [1, 3, 1, 2, 0, 0], its first job begun inside the first add(); here all six were
  // queued when the first began, so priority 2 goes first.
  t.deepEqual(result, [3, 1, 1, 2, 0, 0]);
});

test('.add() - timeout without throwing', async (t) => {
  // p-queue's throwOnTimeout: false fulfils a timed-out task with undefined; lazypool's timeouts
  // always reject, with TimeoutError, and abort the task's signal.
  const result: string[] = [];
  const { pool, add } = newQueue();
  const timeout = 300;
  const slow = (emoji: string) => add(async (job) => {
    await new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason), { once: true }));
    result.push(emoji);
  }, { timeout });
  const quick = (emoji: string) => add(async () => {
    result.push(emoji);
  }, { timeout });
  const handles = [slow('🐌'), quick('🦆'), slow('🐢'), quick('🐅'), quick('⚡️')];
  await pool.idle();
  t.deepEqual(result, ['🦆', '🐅', '⚡️']);
  const outcomes = await Promise.allSettled(handles);
  t.deepEqual(outcomes.map((outcome) => outcome.status), ['rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  t.true((outcomes[0] as PromiseRejectedResult).reason instanceof TimeoutError);
});

test('.add() - timeout with throwing', async (t) => {
  // test.failing in p-queue 8.1.0; passes here.
  const result: string[] = [];
  const { pool, add } = newQueue();
  const slow = gated();
  await t.throwsAsync(add(slow.task, { timeout: 30 }), { instanceOf: TimeoutError });
  const quick = gated();
  const duck = add(async (job) => {
    await quick.task(job);
    result.push('🦆');
  }, { timeout: 60_000 });
  quick.open();
  await duck;
  await pool.idle();
  t.deepEqual(result, ['🦆']);
});

test('.add() - change timeout in between', async (t) => {
  // p-queue reads queue.timeout when a task begins; lazypool reads every option at submit, so a
  // later change is a different option on the next submit.
  const result: string[] = [];
  const { pool, add } = newQueue(2);
  const snail = gated();
  const first = add(async (job) => {
    await snail.task(job);
    result.push('🐌');
  }, { timeout: 50 });
  const second = add(async () => {
    result.push('🐅');
  }, { timeout: 200 });
  await t.throwsAsync(first, { instanceOf: TimeoutError });
  await second;
  await pool.idle();
  t.deepEqual(result, ['🐅']);
});

test('.onIdle()', async (t) => {
  const { pool, add } = newQueue(2);
  for (let round = 0; round < 2; round++) {
    const tasks = [gated(), gated(), gated()];
    const handles = tasks.map((task) => add(task.task));
    await Promise.all([started(handles[0]!), started(handles[1]!)]);
    t.like(pool.stats, { queued: 1, running: 2 });
    for (const task of tasks) task.open();
    await pool.idle();
    t.like(pool.stats, { queued: 0, running: 0 });
  }
});

test('.onIdle() - no pending', async (t) => {
  const { pool } = newQueue();
  t.like(pool.stats, { queued: 0, running: 0 });
  t.is(await pool.idle(), undefined);
});

test('.clear()', async (t) => {
  // p-queue drops the queued tasks, whose promises then never settle; lazypool cancels them, and
  // their handles reject with CancelledError.
  const { pool, add } = newQueue(2);
  const tasks = Array.from({ length: 6 }, () => gated());
  const handles = tasks.map((task) => add(task.task));
  await Promise.all([started(handles[0]!), started(handles[1]!)]);
  t.like(pool.stats, { queued: 4, running: 2 });
  const closing = pool.close({ cancelQueued: true });
  t.like(pool.stats, { queued: 0, running: 2, cancelled: 4 });
  for (const handle of handles.slice(2)) await t.throwsAsync(handle, { instanceOf: CancelledError });
  for (const task of tasks) task.open();
  await closing;
});

test('.addAll()', async (t) => {
  // p-queue's addAll(fns) is Promise.all over add(); pool.map(inputs) is the lazy counterpart.
  const { pool } = newQueue();
  const fn = async (): Promise<symbol> => fixture;
  const results: unknown[] = [];
  for await (const value of pool.map([{ task: fn }, { task: fn }])) results.push(value);
  t.deepEqual(results, [fixture, fixture]);
});

test('enforce number in options.concurrency', (t) => {
  const run = () => undefined;
  // p-queue refuses 0; lazypool takes it (nothing begins until it is raised).
  t.notThrows(() => new Pool({ run, concurrency: 0 }));
  t.throws(() => new Pool({ run, concurrency: undefined as unknown as number }), { instanceOf: TypeError });
  t.throws(() => new Pool({ run, concurrency: 1.1 }), { instanceOf: RangeError });
  t.throws(() => new Pool({ run, concurrency: -5 }), { instanceOf: RangeError });
  t.throws(() => new Pool({ run, concurrency: '5' as unknown as number }), { instanceOf: TypeError });
  t.notThrows(() => new Pool({ run, concurrency: 1 }));
  t.notThrows(() => new Pool({ run, concurrency: 10 }));
  t.notThrows(() => new Pool({ run, concurrency: Number.POSITIVE_INFINITY }));
});

test('enforce number in queue.concurrency', (t) => {
  const { pool } = newQueue();
  t.throws(() => {
    pool.concurrency = 1.1;
  }, { instanceOf: RangeError });
  t.throws(() => {
    pool.concurrency = -5;
  }, { instanceOf: RangeError });
  t.throws(() => {
    pool.concurrency = undefined as unknown as number;
  }, { instanceOf: TypeError });
  t.notThrows(() => {
    pool.concurrency = 0;
  });
  t.notThrows(() => {
    pool.concurrency = 10;
  });
  t.notThrows(() => {
    pool.concurrency = Number.POSITIVE_INFINITY;
  });
});

test('autoStart: false', async (t) => {
  // p-queue's autoStart: false is a pool paused before its first submit; start() is resume().
  const { pool, add } = newQueue(2);
  pool.pause();
  const tasks = Array.from({ length: 4 }, () => gated());
  const handles = tasks.map((task) => add(task.task));
  await nextTurn();
  t.like(pool.stats, { queued: 4, running: 0 });
  pool.resume();
  await Promise.all([started(handles[0]!), started(handles[1]!)]);
  t.like(pool.stats, { queued: 2, running: 2 });
  const closing = pool.close({ cancelQueued: true });
  t.like(pool.stats, { queued: 0 });
  for (const task of tasks) task.open();
  await closing;
});

test('.start() - return this', async (t) => {
  // resume() returns nothing; pool.idle() is called on its own.
  const { pool, add } = newQueue(2);
  pool.pause();
  add(async () => undefined);
  add(async () => undefined);
  add(async () => undefined);
  await nextTurn();
  t.like(pool.stats, { queued: 3, running: 0, fulfilled: 0 });
  pool.resume();
  await pool.idle();
  t.like(pool.stats, { queued: 0, running: 0, fulfilled: 3 });
});

test('.pause()', async (t) => {
  const { pool, add } = newQueue(2);
  pool.pause();
  const tasks = Array.from({ length: 6 }, () => gated());
  const handles = tasks.slice(0, 5).map((task) => add(task.task));
  await nextTurn();
  t.like(pool.stats, { queued: 5, running: 0 });
  pool.resume();
  await Promise.all([started(handles[0]!), started(handles[1]!)]);
  t.like(pool.stats, { queued: 3, running: 2 });
  handles.push(add(tasks[5]!.task));
  pool.pause();
  // Pausing lets the running jobs go on, and keeps a freed slot free.
  t.like(pool.stats, { queued: 4, running: 2 });
  tasks[0]!.open();
  await handles[0];
  await nextTurn();
  t.like(pool.stats, { queued: 4, running: 1 });
  pool.resume();
  await started(handles[2]!);
  t.like(pool.stats, { queued: 3, running: 2 });
  const closing = pool.close({ cancelQueued: true });
  t.like(pool.stats, { queued: 0 });
  for (const task of tasks) task.open();
  await closing;
});

test('.add() sync/async mixed tasks', async (t) => {
  const { pool, add } = newQueue(1);
  const slow = gated();
  const handles = [add(() => 'sync 1'), add(slow.task), add(() => 'sync 2'), add(() => fixture)];
  await started(handles[1]!);
  t.like(pool.stats, { queued: 2, running: 1 });
  slow.open();
  await pool.idle();
  t.like(pool.stats, { queued: 0, running: 0 });
  t.deepEqual(await Promise.all(handles), ['sync 1', undefined, 'sync 2', fixture]);
});

test('.add() - handle task throwing error', async (t) => {
  // test.failing in p-queue 8.1.0 (a task that throws synchronously); passes here.
  const { pool, add } = newQueue(1);
  add(() => 'sync 1');
  await t.throwsAsync(
    add(() => {
      throw new Error('broken');
    }),
    { message: 'broken' },
  );
  add(() => 'sync 2');
  await pool.idle();
  t.like(pool.stats, { queued: 0, running: 0, fulfilled: 2, rejected: 1 });
});

test('.add() - handle task promise failure', async (t) => {
  const { pool, add } = newQueue(1);
  await t.throwsAsync(
    add(async () => {
      throw new Error('broken');
    }),
    { message: 'broken' },
  );
  const task = gated('task #1');
  const next = add(task.task);
  await started(next);
  t.is(pool.stats.running, 1);
  task.open();
  await pool.idle();
  t.is(pool.stats.running, 0);
  t.is(await next, 'task #1');
});

test('.addAll() sync/async mixed tasks', async (t) => {
  const { add } = newQueue();
  const functions: Task<unknown>[] = [() => 'sync 1', briefly(5), () => 'sync 2', async () => fixture];
  t.deepEqual(await Promise.all(functions.map((fn) => add(fn))), ['sync 1', undefined, 'sync 2', fixture]);
});

test('should resolve empty when size is zero', async (t) => {
  // Paused in the middle (p-queue: by a 500 ms timer; here after the 50th job) and resumed.
  const { pool, add } = newQueue(1);
  pool.pause();
  const handles = Array.from({ length: 100 }, () => add(briefly(1)));
  pool.resume();
  let whilePaused: { queued: number; running: number } | undefined;
  handles[49]!.onDone(() => {
    pool.pause();
    setTimeout(() => {
      const { queued, running } = pool.stats;
      whilePaused = { queued, running };
      pool.resume();
    }, 10);
  });
  await pool.idle();
  // Nothing began while it was paused (the 51st job, next in line, had not begun when job 50 ended).
  t.deepEqual(whilePaused, { queued: 50, running: 0 });
  t.like(pool.stats, { queued: 0, running: 0, fulfilled: 100 });
});

test('should be an event emitter', (t) => {
  const { pool } = newQueue();
  t.true(pool instanceof EventEmitter);
});

test('should emit active event per item', async (t) => {
  // p-queue's 'active' is lazypool's 'start'.
  const items = [0, 1, 2, 3, 4];
  const { pool, add } = newQueue();
  let eventCount = 0;
  pool.on('start', () => {
    eventCount++;
  });
  for (const item of items) add(() => item);
  await pool.idle();
  t.is(eventCount, items.length);
});

test('should emit idle event when idle', async (t) => {
  // 'idle' is emitted a microtask after the pool empties: seen once the settled handle's await resumes.
  const { pool, add } = newQueue(1);
  let timesCalled = 0;
  pool.on('idle', () => {
    timesCalled++;
  });
  const first = gated();
  const second = gated();
  const job1 = add(first.task);
  const job2 = add(second.task);
  await started(job1);
  t.like(pool.stats, { running: 1, queued: 1 });
  t.is(timesCalled, 0);
  first.open();
  await job1;
  await started(job2);
  t.like(pool.stats, { running: 1, queued: 0 });
  t.is(timesCalled, 0);
  second.open();
  await job2;
  await pool.idle();
  t.like(pool.stats, { running: 0, queued: 0 });
  t.is(timesCalled, 1);
  const third = gated();
  const job3 = add(third.task);
  await started(job3);
  t.is(timesCalled, 1);
  third.open();
  await job3;
  await pool.idle();
  t.is(timesCalled, 2);
});

test('should emit next event when completing task', async (t) => {
  // p-queue's 'next' (a task finished) is lazypool's 'done', which also covers cancelled jobs.
  const { pool, add } = newQueue(1);
  let timesCalled = 0;
  pool.on('done', () => {
    timesCalled++;
  });
  const first = gated();
  const job1 = add(first.task);
  const job2 = add(async () => undefined);
  await started(job1);
  t.is(timesCalled, 0);
  first.open();
  await job1;
  await job2;
  await pool.idle();
  t.is(timesCalled, 2);
  await add(async () => undefined);
  await pool.idle();
  t.is(timesCalled, 3);
});

test('should emit completed / error events', async (t) => {
  // p-queue's 'completed' and 'error' are one 'done' event here; the handle says which.
  const { pool, add } = newQueue(1);
  let errorEvents = 0;
  let completedEvents = 0;
  pool.on('done', (handle) => {
    if (handle.state === 'fulfilled') completedEvents++;
    else errorEvents++;
  });
  const job1 = add(async () => undefined);
  const job2 = add(async () => {
    throw new Error('failure');
  });
  await job1;
  await t.throwsAsync(job2, { message: 'failure' });
  await pool.idle();
  t.deepEqual([errorEvents, completedEvents], [1, 1]);
  await add(async () => undefined);
  await pool.idle();
  t.deepEqual([errorEvents, completedEvents], [1, 2]);
});

test('should verify timeout overrides passed to add', async (t) => {
  // No throwOnTimeout: a timeout always rejects. The per-job timeout is the only one.
  const { pool, add } = newQueue();
  await t.throwsAsync(add(gated().task, { timeout: 20 }), { instanceOf: TimeoutError });
  const quick = gated();
  const fine = add(quick.task, { timeout: 60_000 });
  quick.open();
  await t.notThrowsAsync(fine);
  await t.notThrowsAsync(add(async () => undefined));
  await pool.idle();
});

test('should skip an aborted job', async (t) => {
  // Rejects with CancelledError (its reason the signal's), where p-queue rejects with a DOMException.
  const { pool, add } = newQueue();
  const controller = new AbortController();
  controller.abort();
  let ran = false;
  const error = await t.throwsAsync(
    add(() => {
      ran = true;
    }, { signal: controller.signal }),
    { instanceOf: CancelledError },
  );
  t.is(error.reason, controller.signal.reason);
  t.false(ran);
  t.is(pool.stats.cancelled, 1);
});

test('should pass AbortSignal instance to job', async (t) => {
  // The job gets a signal of its own, which aborts when the one given to submit does (or on
  // cancel() or a timeout), not the same instance.
  const { add } = newQueue();
  const controller = new AbortController();
  const seen = deferred<AbortSignal>();
  const handle = add(async (job) => {
    seen.resolve(job.signal);
    await new Promise((resolve) => job.signal.addEventListener('abort', resolve, { once: true }));
  }, { signal: controller.signal });
  const signal = await seen.promise;
  t.false(signal.aborted);
  controller.abort();
  t.true(signal.aborted);
  await t.throwsAsync(handle, { instanceOf: CancelledError });
});

test('aborting multiple jobs at the same time', async (t) => {
  // Both reject with CancelledError. The running one ignores its signal, as p-queue's task does:
  // stats.running reads 0 at once, but its slot is held until it has really stopped (or abortGrace,
  // here never), and pool.idle() waits for that; p-queue frees it at once and lets the task run on.
  const { pool, add } = newQueue(1, Number.POSITIVE_INFINITY);
  const controller1 = new AbortController();
  const controller2 = new AbortController();
  const stop = deferred<void>();
  const task1 = add(async () => stop.promise, { signal: controller1.signal });
  const task2 = add(async () => new Promise(() => {}), { signal: controller2.signal });
  await started(task1);
  controller1.abort();
  controller2.abort();
  await t.throwsAsync(task1, { instanceOf: CancelledError });
  await t.throwsAsync(task2, { instanceOf: CancelledError });
  t.like(pool.stats, { queued: 0, running: 0, cancelled: 2 });
  let idle = false;
  const idling = pool.idle().then(() => {
    idle = true;
  });
  // A job submitted now waits for the slot the stubborn task still holds.
  const next = add(() => 'next');
  await nextTurn();
  t.false(idle);
  t.is(next.state, 'queued');
  stop.resolve();
  t.is(await next, 'next');
  await idling;
  t.true(idle);
});

/** The p-queue setPriority tests: each task waits on its gate, the tasks' gates open in turn. */
async function runInTurn(concurrency: number, emojis: readonly string[], reprioritise: (handles: Map<string, JobHandle>) => void): Promise<string[]> {
  const result: string[] = [];
  const { pool, add } = newQueue(concurrency);
  const handles = new Map<string, JobHandle>();
  for (const emoji of emojis) {
    handles.set(
      emoji,
      add(async () => {
        result.push(emoji);
      }),
    );
  }
  reprioritise(handles);
  await pool.idle();
  return result;
}

// p-queue's setPriority(id, priority) is handle.setPriority(priority): no ids. As above, the first
// job has not begun when setPriority is called in the same turn, so it can be overtaken; the port
// lets the first `concurrency` jobs begin first (`await started()`), as add() would have. p-queue's
// tasks all take 400 ms, so they end in the order they began: here each waits on its gate, and the
// gates open one at a time in the order the jobs began.
async function setPriorityAfterStart(concurrency: number, emojis: readonly string[], priorities: Record<string, number>): Promise<string[]> {
  const { add } = newQueue(concurrency);
  const gates = emojis.map(() => deferred<void>());
  const began: number[] = [];
  let beginning: (() => void) | undefined;
  const handles = emojis.map((emoji, index) =>
    add(async () => {
      began.push(index);
      beginning?.();
      await gates[index]!.promise;
      return emoji;
    }),
  );
  await Promise.all(handles.slice(0, concurrency).map(started));
  for (const [emoji, priority] of Object.entries(priorities)) handles[emojis.indexOf(emoji)]!.setPriority(priority);
  const result: string[] = [];
  for (let next = 0; next < emojis.length; next++) {
    while (began.length <= next) await new Promise<void>((resolve) => (beginning = resolve));
    const index = began[next]!;
    gates[index]!.resolve();
    result.push(await handles[index]!);
  }
  return result;
}

test('.setPriority() - execute a promise before planned', async (t) => {
  t.deepEqual(await setPriorityAfterStart(1, ['🐌', '🦆', '🐢'], { '🐢': 1 }), ['🐌', '🐢', '🦆']);
});

test('.setPriority() - execute a promise after planned', async (t) => {
  t.deepEqual(await setPriorityAfterStart(1, ['🐌', '🦆', '🦆2', '🐢', '🦆3', '🦆4'], { '🐢': -1 }), ['🐌', '🦆', '🦆2', '🦆3', '🦆4', '🐢']);
});

test('.setPriority() - execute a promise before planned - concurrency 2', async (t) => {
  t.deepEqual(await setPriorityAfterStart(2, ['🐌', '🦆', '🐢', '⚡️'], { '⚡️': 1 }), ['🐌', '🦆', '⚡️', '🐢']);
});

test('.setPriority() - execute a promise before planned - concurrency 3', async (t) => {
  t.deepEqual(await setPriorityAfterStart(3, ['🐌', '🦆', '🐢', '⚡️', '🦀'], { '🦀': 1 }), ['🐌', '🦆', '🐢', '🦀', '⚡️']);
});

test('.setPriority() - execute a multiple promise before planned, with variable priority', async (t) => {
  t.deepEqual(await setPriorityAfterStart(2, ['🐌', '🦆', '🐢', '⚡️', '🦀'], { '⚡️': 1, '🦀': 2 }), ['🐌', '🦆', '🦀', '⚡️', '🐢']);
});

test('.setPriority() - execute a promise before planned - concurrency 3 and unspecified `id`', async (t) => {
  // p-queue gives tasks without an id the ids '1', '2'... and setPriority('5', 1) reaches the
  // fifth; a handle needs no id. Here, set in the same turn as the submits: the fifth goes first
  // of all, since no job had begun yet.
  t.deepEqual(await runInTurn(3, ['🐌', '🦆', '🐢', '⚡️', '🦀'], (handles) => handles.get('🦀')!.setPriority(1)), ['🦀', '🐌', '🦆', '🐢', '⚡️']);
});
