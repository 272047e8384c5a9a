/**
 * Two copies of lazypool in one process (npm often installs a package twice): a worker module
 * that imports `lazypool/worker` from a copy other than the one that runs the pool's threads still
 * sees its job, from a synchronous handler's first call and every one after it.
 * The second copy is the build in dist/ (`npm run build` first), copied into a temporary folder.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JobHandle, Pool } from '../src/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

async function secondCopy(): Promise<{ worker: string; index: string; remove: () => Promise<void> }> {
  const built = join(repo, 'dist', 'src');
  if (!existsSync(join(built, 'worker.js'))) throw new Error('dist/src/worker.js is missing: run `npm run build` first');
  const scratch = await mkdtemp(join(tmpdir(), 'lazypool-second-copy-'));
  const copy = join(scratch, 'lazypool');
  await cp(built, join(copy, 'dist', 'src'), { recursive: true });
  await writeFile(join(copy, 'package.json'), JSON.stringify({ name: 'lazypool', type: 'module' }));
  // Its own dependencies (comlink) resolve from the folder above it, as in node_modules.
  await symlink(join(repo, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  return {
    worker: pathToFileURL(join(copy, 'dist', 'src', 'worker.js')).href,
    index: pathToFileURL(join(copy, 'dist', 'src', 'index.js')).href,
    remove: () => rm(scratch, { recursive: true, force: true }),
  };
}

async function waitForWord(words: Int32Array, index: number): Promise<void> {
  while (Atomics.load(words, index) === 0) {
    const wait = Atomics.waitAsync(words, index, 0);
    if (wait.async) await wait.value;
  }
}

test('progress() and cancelled() from a second copy of lazypool work on every call of a synchronous handler', async (t) => {
  const { worker, remove } = await secondCopy();
  const pool = new Pool({ filename: new URL('./fixtures/two-copies.ts', import.meta.url), maxThreads: 1 });
  try {
    await pool.submit(worker, { name: 'load' });
    // The first call runs under AsyncLocalStorage; the following ones, known to be synchronous, without it.
    for (let call = 1; call <= 4; call++) {
      const seen: unknown[] = [];
      const answer = await pool.submit(null, { name: 'both', onProgress: (value) => seen.push(value) });
      t.deepEqual(answer, { here: false, there: false }, `call ${call}`);
      t.deepEqual(seen, ['here', 'there'], `call ${call}`);
    }
    const words = new Int32Array(new SharedArrayBuffer(8));
    const handle = pool.submit({ words }, { name: 'both' });
    await waitForWord(words, 0);
    handle.cancel();
    // The job saw cancelled() turn true through both copies, and said so.
    await waitForWord(words, 1);
    t.is(handle.state, 'cancelled');
  } finally {
    await pool.close();
    await remove();
  }
});

test('a held handle of a second copy of lazypool, given in after, stays held (its dependant waits); priority and promote() reach it as they reach a handle of this copy', async (t) => {
  const { index, remove } = await secondCopy();
  const other = (await import(index)) as typeof import('../src/index.js');
  const theirs = new other.Pool({ run: (value: number) => value * 10, concurrency: 1 });
  const ours = new Pool({ run: (value: unknown) => value, concurrency: 1 });
  try {
    const held = theirs.submit(4, { hold: true });
    t.false(held instanceof JobHandle, 'the dependency is of the other copy');
    const dependant = ours.submit((result: unknown) => ({ got: result }), { after: [held] });
    await new Promise((resolve) => setImmediate(resolve));
    // Awaiting it would have started it: it is followed instead.
    t.is(held.state, 'held');
    t.is(dependant.state, 'queued');
    dependant.setPriority(5);
    t.is(held.priority, 5);
    t.is(held.state, 'held');
    dependant.promote();
    t.deepEqual(await dependant, { got: 40 });
    t.is(held.state, 'fulfilled');
    // A failure of the other copy's job flows down as a DependencyError.
    const failing = theirs.submit(Number.NaN, { hold: true });
    const after = ours.submit(1, { after: [failing] });
    failing.cancel();
    const error = await t.throwsAsync(after);
    t.is((error as Error).name, 'DependencyError');
  } finally {
    await ours.close();
    await theirs.close();
    await remove();
  }
});
