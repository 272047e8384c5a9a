/**
 * The types catch mistakes: `tsc` (npm test type-checks test/) fails if a mistake is accepted
 * (each @ts-expect-error must meet an error) or if a type is not what it should be. The runtime
 * part of each test shows the typed call does what it says. test/package.test.ts checks the same
 * through the published .d.ts, in a strict consumer.
 */
import test from 'ava';
import { JobHandle, Pool, type JobHandleInit, type JobOutcome } from '../src/index.js';
import { progress } from '../src/worker.js';
import { jobsModule } from './helpers.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}

type Jobs = typeof import('./fixtures/jobs.js');
type Step = import('./fixtures/jobs.js').Step;

test('pool.proxy<typeof import(worker)>() types arguments and results from the module', async (t) => {
  const pool = new Pool({ filename: jobsModule, maxThreads: 1 });
  const jobs = pool.proxy<Jobs>();

  const doubled = jobs.double(21);
  assertType<Equals<typeof doubled, JobHandle<number>>>();
  const value = await doubled;
  assertType<Equals<typeof value, number>>();
  t.is(value, 42);

  const asyncDoubled = await jobs.asyncDouble(() => Promise.resolve(4));
  assertType<Equals<typeof asyncDoubled, number>>();
  t.is(asyncDoubled, 8);

  const tag = await jobs.tagged({ tag: 'x', steps: 1 });
  assertType<Equals<typeof tag, string>>();

  // @ts-expect-error double takes a number
  const wrong = jobs.double('21');
  await wrong.catch(() => {});
  // @ts-expect-error tagged needs both tag and steps
  jobs.tagged({ tag: 'x' }).catch(() => {});
  // @ts-expect-error there is no such export
  t.is(typeof jobs.noSuchExport, 'function');
  // @ts-expect-error name is set by the proxy
  jobs.double(1, { name: 'other' });
  // @ts-expect-error a misspelt option
  await jobs.double(1, { priorty: 5 });

  await pool.close();
});

test('a misspelt submit option does not compile, in submit, map and group.submit', async (t) => {
  const pool = new Pool({ filename: jobsModule, maxThreads: 1 });
  // @ts-expect-error priorty is no option
  const handle = pool.submit<number>(2, { name: 'double', priorty: 5 });
  // At run time the key is kept, as it is for a JavaScript caller.
  t.is((handle.options as Record<string, unknown>).priorty, 5);
  t.is(await handle, 4);
  // @ts-expect-error holdd is no option
  for await (const value of pool.map<number>([1], { name: 'double', holdd: true })) t.is(value, 2);
  const group = pool.group<number>();
  // @ts-expect-error timout is no option
  t.is(await group.submit(3, { name: 'double', timout: 10 }), 6);
  // @ts-expect-error priority is a number (and at run time submit throws)
  t.throws(() => pool.submit(1, { priority: 'high' }), { instanceOf: TypeError });
  await pool.close();
});

test('a Handle class declares the options it reads, and submit takes those', async (t) => {
  class Tagged extends JobHandle<unknown, { tag?: string }> {
    readonly tag = this.options.tag ?? 'none';
  }
  const pool = new Pool({ filename: jobsModule, maxThreads: 1, Handle: Tagged });
  const handle = pool.submit<number>(3, { name: 'double', tag: 'a' });
  const tagValue: string = handle.tag;
  assertType<Equals<typeof handle.options.tag, string | undefined>>();
  const result = await handle;
  assertType<Equals<typeof result, number>>();
  t.is(tagValue, 'a');
  t.is(result, 6);

  // @ts-expect-error tag is a string
  pool.submit(1, { name: 'double', tag: 5 }).catch(() => {});
  // @ts-expect-error taag is declared by nobody
  pool.submit(1, { name: 'double', taag: 'a' }).catch(() => {});
  const jobs = pool.proxy<Jobs>();
  t.is(await jobs.double(4, { tag: 'b' }).then((value) => value), 8);
  t.is(jobs.double(5, { tag: 'c' }).tag, 'c');
  // @ts-expect-error through the proxy too
  jobs.double(1, { tag: 1 }).catch(() => {});
  const group = pool.group<number>();
  t.is(group.submit(6, { name: 'double', tag: 'd' }).tag, 'd');
  for await (const value of pool.map<number>([7], { name: 'double', tag: 'e' })) t.is(value, 14);
  await group.settled();

  // Another pool, built without Tagged, takes no tag.
  const plain = new Pool({ filename: jobsModule, maxThreads: 1 });
  // @ts-expect-error tag is Tagged's option, not JobHandle's
  plain.submit(1, { tag: 'a' }).catch(() => {});
  await Promise.all([pool.close(), plain.close()]);
});

test('a Handle class with a constructor of its own receives its options typed', async (t) => {
  class Retrying extends JobHandle<unknown, { retries?: number }> {
    readonly retries: number;
    constructor(init: JobHandleInit<{ retries?: number }>) {
      super(init);
      this.retries = init.options.retries ?? 0;
    }
  }
  const pool = new Pool({ filename: jobsModule, maxThreads: 1, Handle: Retrying });
  t.is(pool.submit(1, { name: 'double', retries: 3 }).retries, 3);
  // @ts-expect-error retries is a number
  pool.submit(1, { name: 'double', retries: 'three' }).catch(() => {});
  await pool.close();
});

test('progress values are typed through the proxy, submit and the worker side', async (t) => {
  const pool = new Pool({ filename: jobsModule, maxThreads: 1 });
  const jobs = pool.proxy<Jobs, Step>();
  const steps: number[] = [];
  const handle = jobs.report(2, { onProgress: (value) => steps.push(value.step) });
  handle.onProgress((value) => {
    assertType<Equals<typeof value, Step>>();
  });
  // @ts-expect-error a Step has no count
  handle.onProgress((value) => value.count);
  t.is(await handle, 'reported');
  t.deepEqual(steps, [0, 1]);

  // submit infers the progress type from a typed onProgress.
  const typed = pool.submit<string>(1, { name: 'report' });
  assertType<Equals<typeof typed, JobHandle<string>>>();
  const inferred = pool.submit(1, { name: 'report', onProgress: (value: Step) => steps.push(value.step) });
  assertType<Equals<typeof inferred, JobHandle<unknown, {}, Step>>>();
  await Promise.all([typed, inferred]);

  // Worker side: progress<Step>() checks what is sent. Type-checked only: called outside a job it throws.
  const report = () => {
    progress<Step>({ step: 1 });
    // @ts-expect-error a Step needs a numeric step
    progress<Step>({ step: '1' });
  };
  t.is(typeof report, 'function');
  await pool.close();
});

test('group.settled() keeps the result type of the group', async (t) => {
  const pool = new Pool({ filename: jobsModule, maxThreads: 1 });
  const group = pool.group<number>();
  group.submit(1, { name: 'double' });
  const typed = group.submit<2 | 4>(2, { name: 'double' });
  assertType<Equals<Awaited<typeof typed>, 2 | 4>>();
  // @ts-expect-error a group of numbers takes no string job
  group.submit<string>(3);
  const outcomes = await group.settled();
  assertType<Equals<typeof outcomes, JobOutcome<number>[]>>();
  t.deepEqual(outcomes.slice(0, 2), [
    { status: 'fulfilled', value: 2 },
    { status: 'fulfilled', value: 4 },
  ]);

  const untyped = pool.group();
  untyped.submit<string>('x');
  const unknownOutcomes = await untyped.settled();
  assertType<Equals<typeof unknownOutcomes, JobOutcome<unknown>[]>>();
  t.is(unknownOutcomes.length, 1);
  await pool.close();
});
