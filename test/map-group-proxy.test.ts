import test from 'ava';
import { CancelledError, Pool, PoolClosedError } from '../src/index.js';
import { deferred, jobsPool, Latches } from './helpers.js';

test('map yields results in input order by default', async (t) => {
  const pool = jobsPool();
  const results: unknown[] = [];
  for await (const value of pool.map([5, 1, 4, 2, 3], { name: 'double' })) results.push(value);
  t.deepEqual(results, [10, 2, 8, 4, 6]);
  await pool.close();
});

test('map with ordered: false yields in completion order', async (t) => {
  const finish = new Map<number, ReturnType<typeof deferred>>();
  const pool = new Pool({
    run: (n: number) => {
      const gate = deferred();
      finish.set(n, gate);
      return gate.promise;
    },
    concurrency: 3,
  });
  const iterator = pool.map([1, 2, 3], { ordered: false })[Symbol.asyncIterator]();
  const first = iterator.next();
  await new Promise<void>((resolve) => pool.once('start', () => resolve()));
  while (finish.size < 3) await new Promise((resolve) => setImmediate(resolve));
  finish.get(3)!.resolve('three');
  t.deepEqual(await first, { value: 'three', done: false });
  finish.get(1)!.resolve('one');
  t.deepEqual(await iterator.next(), { value: 'one', done: false });
  finish.get(2)!.resolve('two');
  t.deepEqual(await iterator.next(), { value: 'two', done: false });
  t.deepEqual(await iterator.next(), { value: undefined, done: true });
  await pool.close();
});

test('map pulls from its source only as slots free up', async (t) => {
  const pool = new Pool({ run: (n: number) => n, concurrency: 2 });
  let pulled = 0;
  let maxAhead = 0;
  let yielded = 0;
  function* source() {
    for (let i = 0; i < 1000; i++) {
      pulled++;
      maxAhead = Math.max(maxAhead, pulled - yielded);
      yield i;
    }
  }
  let sum = 0;
  for await (const value of pool.map<number>(source())) {
    yielded++;
    sum += value;
  }
  t.is(sum, (999 * 1000) / 2);
  // Never more than a window of twice the concurrency (plus the one being pulled) ahead.
  t.true(maxAhead <= 5, `pulled ${maxAhead} ahead`);
  await pool.close();
});

test('map takes an async iterable', async (t) => {
  const pool = jobsPool();
  async function* numbers() {
    for (let i = 1; i <= 4; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield i;
    }
  }
  const results: unknown[] = [];
  for await (const value of pool.map(numbers(), { name: 'asyncDouble' })) results.push(value);
  t.deepEqual(results, [2, 4, 6, 8]);
  await pool.close();
});

test('a failing job makes map throw and cancels the rest', async (t) => {
  const pool = new Pool({ run: (n: number) => (n === 3 ? Promise.reject(new Error('item 3 is bad')) : new Promise(() => {})), concurrency: 4 });
  const handles: number[] = [];
  pool.on('done', (handle) => handles.push(handle.id));
  await t.throwsAsync(
    async () => {
      for await (const _ of pool.map([1, 2, 3, 4, 5, 6])) t.fail('nothing completes before the failure');
    },
    { message: 'item 3 is bad' },
  );
  t.like(pool.stats, { running: 0, queued: 0, rejected: 1 });
  t.true(pool.stats.cancelled >= 3);
  await pool.close();
});

test('leaving a map loop early cancels the jobs still in flight', async (t) => {
  const pool = new Pool({ run: (n: number) => (n === 1 ? n : new Promise(() => {})), concurrency: 3 });
  for await (const value of pool.map([1, 2, 3, 4])) {
    t.is(value, 1);
    break;
  }
  t.like(pool.stats, { running: 0, queued: 0, fulfilled: 1 });
  await pool.close();
});

test('map checks its arguments', (t) => {
  const pool = new Pool({ run: (n: number) => n, concurrency: 1 });
  t.throws(() => pool.map(42 as never), { instanceOf: TypeError, message: /iterable/ });
  t.throws(() => pool.map([1], { ordered: 'yes' as never }), { instanceOf: TypeError, message: /ordered/ });
  t.throws(() => pool.map([1], { priority: 'high' as never }), { instanceOf: TypeError, message: /priority/ });
});

for (const kind of ['synchronous', 'async'] as const) {
  test(`map on a pool with concurrency: Infinity still pulls a bounded window from a long ${kind} source`, async (t) => {
    const pool = new Pool({ run: (n: number) => n, concurrency: Infinity });
    // Finite, so that a map that pulls everything still ends (an endless synchronous source would block the event loop for good).
    const length = 100_000;
    let pulled = 0;
    function* synchronous() {
      for (let i = 0; i < length; i++) {
        pulled++;
        yield i;
      }
    }
    async function* asynchronous() {
      for (let i = 0; i < length; i++) {
        if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
        pulled++;
        yield i;
      }
    }
    const results: number[] = [];
    for await (const value of pool.map<number>(kind === 'async' ? asynchronous() : synchronous())) {
      results.push(value);
      if (results.length === 10) break;
    }
    t.deepEqual(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // "Pulls from the iterable only as slots free up, so memory stays bounded for any input length."
    t.true(pulled < length / 10, `pulled ${pulled} of ${length} items for 10 results`);
    await pool.idle();
    t.like(pool.stats, { running: 0, queued: 0 });
    await pool.close();
  });
}

test("a group's cancel() settles its jobs at once but runs their onDone callbacks later, never inside cancel()", async (t) => {
  const gate = deferred<string>();
  const pool = new Pool({ run: () => gate.promise, concurrency: 1 });
  const group = pool.group();
  const log: string[] = [];
  const running = group.submit('running').onDone((h) => log.push(`${h.input} ${h.state}`));
  const queued = group.submit('queued').onDone((h) => log.push(`${h.input} ${h.state}`));
  const held = group.submit('held', { hold: true }).onDone((h) => log.push(`${h.input} ${h.state}`));
  await new Promise<void>((resolve) => running.onStart(() => resolve()));
  t.is(queued.state, 'queued');
  t.is(group.cancel('enough'), 3);
  t.deepEqual([running.state, queued.state, held.state], ['cancelled', 'cancelled', 'cancelled']);
  t.deepEqual(log, []);
  const outcomes = await group.settled();
  t.is(outcomes.length, 3);
  t.true(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof CancelledError));
  t.deepEqual(log.sort(), ['held cancelled', 'queued cancelled', 'running cancelled']);
  gate.resolve('late');
  await pool.close();
});

test('a group cancels its unsettled jobs and reports every outcome once all have settled', async (t) => {
  const latches = new Latches(1);
  const pool = jobsPool({ concurrency: 2 });
  const group = pool.group();
  const done = group.submit(4, { name: 'double' });
  const running = group.submit(latches.latch(0), { name: 'waitForRelease' });
  const queued = group.submit(1, { hold: true });
  t.is(await done, 8);
  await latches.started(0);
  t.is(group.cancel('shutting down'), 2);
  // Settled now, and so no longer the group's to hold, before any callback has run.
  t.deepEqual(group.handles, []);
  t.is(group.pending, 0);
  t.is(running.state, 'cancelled');
  t.is(queued.state, 'cancelled');
  const outcomes = await group.settled();
  t.is(outcomes.length, 3);
  t.deepEqual(outcomes[0], { status: 'fulfilled', value: 8 });
  t.true((outcomes[1] as { reason: unknown }).reason instanceof CancelledError);
  // Settled handles are let go: only their outcomes are kept.
  t.deepEqual(group.handles, []);
  t.is(group.pending, 0);
  t.is(group.state, 'cancelled');
  await pool.close();
});

test('a closed or cancelled group refuses new jobs, and close() waits without cancelling', async (t) => {
  const latches = new Latches(1);
  const pool = jobsPool({ concurrency: 2 });
  const group = pool.group<unknown>();
  const running = group.submit(latches.latch(0), { name: 'waitForRelease' });
  await latches.started(0);
  const closing = group.close();
  t.is(group.state, 'closed');
  const before = pool.stats;
  const refused = t.throws(() => group.submit(2, { name: 'double' }), { instanceOf: PoolClosedError });
  t.regex(refused!.message, /group is closed/);
  t.deepEqual(pool.stats, before, 'the refused job never reached the pool');
  t.is(running.state, 'running', 'close() cancels nothing');
  latches.release(0);
  const outcomes = await closing;
  t.deepEqual(outcomes, [{ status: 'fulfilled', value: 0 }]);

  const cancelled = pool.group();
  cancelled.cancel();
  t.throws(() => cancelled.submit(1), { instanceOf: PoolClosedError, message: /group is cancelled/ });
  await pool.close();
});

test('failFast: the first failure cancels the unsettled siblings, with that failure as the reason; without it they run on', async (t) => {
  for (const failFast of [true, false]) {
    const latches = new Latches(1);
    const pool = jobsPool({ concurrency: 2 });
    const group = pool.group({ failFast });
    const running = group.submit(latches.latch(0), { name: 'waitForRelease' });
    await latches.started(0);
    const failing = group.submit('boom', { name: 'fail' });
    const queued = group.submit(3, { name: 'double', hold: true });
    const error = await t.throwsAsync(failing);
    if (failFast) {
      const outcomes = await group.settled();
      t.is(running.state, 'cancelled');
      t.is(queued.state, 'cancelled');
      t.is(((outcomes[0] as { reason: CancelledError }).reason).reason, error, 'the reason is the failure');
      t.is(queued.timing.startedAt, undefined, 'the queued sibling never ran');
      t.is(group.state, 'cancelled');
    } else {
      t.is(running.state, 'running');
      latches.release(0);
      const outcomes = await group.settled();
      t.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'rejected', 'fulfilled']);
      t.is(group.state, 'open');
    }
    await pool.close();
  }
});

test('group options are checked', (t) => {
  const pool = jobsPool();
  t.throws(() => pool.group({ failFast: 'yes' as unknown as boolean }), { instanceOf: TypeError, message: /failFast must be a boolean/ });
  t.throws(() => pool.group(5 as never), { instanceOf: TypeError, message: /group options must be an object/ });
  return pool.close();
});

test('group.settled() never rejects, and a failing job in a group is not an unhandled rejection', async (t) => {
  const pool = jobsPool();
  const group = pool.group();
  group.submit('bad', { name: 'fail' });
  group.submit(2, { name: 'double' });
  const outcomes = await group.settled();
  t.is(outcomes[0].status, 'rejected');
  t.deepEqual(outcomes[1], { status: 'fulfilled', value: 4 });
  await pool.close();
});

test('await using a group cancels what is unsettled and waits for it', async (t) => {
  const latches = new Latches(1);
  const pool = jobsPool();
  let running;
  {
    await using group = pool.group();
    group.submit(1, { name: 'double' });
    running = group.submit(latches.latch(0), { name: 'waitForRelease' });
    await latches.started(0);
  }
  t.is(running.state, 'cancelled');
  await pool.close();
});

test('proxy: proxy.fn(arg) is submit(arg, { name: fn })', async (t) => {
  const pool = jobsPool();
  const jobs = pool.proxy<typeof import('./fixtures/jobs.js')>();
  const handle = jobs.double(21, { priority: 2 });
  t.is(handle.options.name, 'double');
  t.is(handle.priority, 2);
  t.is(await handle, 42);
  t.is(await jobs.asyncDouble(() => 5), 10);
  await pool.close();
});

test('proxy: an ordinary value, awaited, returned from an async function, stringified or logged, it submits nothing (regression: a job named then)', async (t) => {
  const pool = jobsPool();
  const submitted: string[] = [];
  const submit = pool.submit.bind(pool);
  pool.submit = ((input: unknown, options?: { name?: string }) => {
    submitted.push(String(options?.name));
    return submit(input, options as never);
  }) as typeof pool.submit;
  const jobs = pool.proxy<typeof import('./fixtures/jobs.js')>();
  const make = async () => jobs;
  t.is(await make(), jobs);
  t.is(await jobs, jobs);
  t.is(JSON.stringify({ jobs }), '{"jobs":{}}');
  t.is((jobs as unknown as { then?: unknown }).then, undefined);
  t.is((jobs as unknown as { toString?: unknown }).toString, undefined);
  t.deepEqual(submitted, []);
  t.is(await (await make()).double(4), 8);
  t.deepEqual(submitted, ['double']);
  await pool.close();
});

/** An async source fed by its consumer: `next()` waits until an item is pushed or the source ends. */
class Frontier<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  #ended = false;
  #waiting: ((result: IteratorResult<T, undefined>) => void) | undefined;
  returned = false;

  push(item: T): void {
    if (this.#waiting !== undefined) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: item, done: false });
    } else {
      this.#items.push(item);
    }
  }

  end(): void {
    this.#ended = true;
    this.#waiting?.({ value: undefined, done: true });
    this.#waiting = undefined;
  }

  get waiting(): boolean {
    return this.#waiting !== undefined;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.returned = true;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

for (const ordered of [true, false]) {
  test(`map (ordered: ${ordered}) yields a finished result while its async source waits for it: a crawler feeding its source from its results`, async (t) => {
    // Page n links to pages 2n and 2n + 1, down to page 31: the crawl finds its pages only from the results.
    const pool = new Pool({ run: (page: number) => ({ page, links: page < 16 ? [2 * page, 2 * page + 1] : [] }), concurrency: 2 });
    const frontier = new Frontier<number>();
    frontier.push(1);
    let open = 1;
    const crawled: number[] = [];
    for await (const { page, links } of pool.map<{ page: number; links: number[] }>(frontier, { ordered })) {
      crawled.push(page);
      open += links.length - 1;
      for (const link of links) frontier.push(link);
      if (open === 0) frontier.end();
    }
    t.deepEqual(
      crawled.sort((a, b) => a - b),
      Array.from({ length: 31 }, (_, index) => index + 1),
    );
    await pool.close();
  });
}

test('leaving a map loop while its async source is waiting submits nothing more and returns the source', async (t) => {
  const pool = new Pool({ run: (n: number) => n, concurrency: 2 });
  const frontier = new Frontier<number>();
  frontier.push(1);
  for await (const value of pool.map<number>(frontier)) {
    t.is(value, 1);
    t.true(frontier.waiting, 'the source was asked for its next item and has none yet');
    break;
  }
  t.true(frontier.returned);
  frontier.push(2);
  await pool.idle();
  t.like(pool.stats, { fulfilled: 1, queued: 0, running: 0 });
  await pool.close();
});

test('leaving a map loop while its async generator waits for an item returns at once; the generator is closed when it answers', async (t) => {
  const pool = new Pool({ run: (n: number) => n, concurrency: 2 });
  const more = deferred<number>();
  const closed = deferred<void>();
  async function* source() {
    try {
      yield 1;
      yield await more.promise;
    } finally {
      closed.resolve();
    }
  }
  for await (const value of pool.map<number>(source())) {
    t.is(value, 1);
    break;
  }
  more.resolve(2);
  await closed.promise;
  await pool.idle();
  t.like(pool.stats, { fulfilled: 1, queued: 0, running: 0 }, 'the item it answered with after the loop ended was not submitted');
  await pool.close();
});

test('an async source that throws makes map throw and cancels the jobs in flight', async (t) => {
  const pool = new Pool({ run: (n: number) => (n === 1 ? new Promise(() => {}) : n), concurrency: 2 });
  async function* source() {
    yield 1;
    throw new Error('the source failed');
  }
  await t.throwsAsync(
    async () => {
      for await (const _ of pool.map(source())) t.fail('nothing completes');
    },
    { message: 'the source failed' },
  );
  t.like(pool.stats, { running: 0, queued: 0, cancelled: 1 });
  await pool.close();
});
