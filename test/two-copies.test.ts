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
import { Pool } from '../src/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

async function secondCopy(): Promise<{ worker: string; remove: () => Promise<void> }> {
  const built = join(repo, 'dist', 'src');
  if (!existsSync(join(built, 'worker.js'))) throw new Error('dist/src/worker.js is missing: run `npm run build` first');
  const scratch = await mkdtemp(join(tmpdir(), 'lazypool-second-copy-'));
  const copy = join(scratch, 'lazypool');
  await cp(built, join(copy, 'dist', 'src'), { recursive: true });
  await writeFile(join(copy, 'package.json'), JSON.stringify({ name: 'lazypool', type: 'module' }));
  // Its own dependencies (comlink) resolve from the folder above it, as in node_modules.
  await symlink(join(repo, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  return { worker: pathToFileURL(join(copy, 'dist', 'src', 'worker.js')).href, remove: () => rm(scratch, { recursive: true, force: true }) };
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
