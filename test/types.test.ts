/**
 * The proxy's types flow from the worker module: `tsc` (npm test type-checks test/) fails if an
 * argument of the wrong type is accepted (each @ts-expect-error must meet an error) or if a
 * result type is not what the export returns.
 */
import test from 'ava';
import { JobHandle, Pool } from '../src/index.js';
import { jobsModule } from './helpers.js';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}

test('pool.proxy<typeof import(worker)>() types arguments and results from the module', async (t) => {
  const pool = new Pool({ filename: jobsModule, maxThreads: 1 });
  const jobs = pool.proxy<typeof import('./fixtures/jobs.js')>();

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

  await pool.close();
});

test('a pool built with a Handle subclass gives that subclass, typed', async (t) => {
  class Tagged extends JobHandle {
    readonly tag = String(this.options.tag ?? 'none');
  }
  const pool = new Pool({ filename: jobsModule, maxThreads: 1, Handle: Tagged });
  const handle = pool.submit<number>(3, { name: 'double', tag: 'a' });
  const tagValue: string = handle.tag;
  const result = await handle;
  assertType<Equals<typeof result, number>>();
  t.is(tagValue, 'a');
  t.is(result, 6);
  await pool.close();
});
