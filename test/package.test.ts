/**
 * The packed tarball, installed in a plain JavaScript project outside this repository, works
 * through both entry points: what users get from `npm install lazypool`.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));

const worker = `
import { progress, cancelled, signal } from 'lazypool/worker';
export default function square(n) {
  progress('squaring ' + n);
  return n * n;
}
export function checks() {
  return { cancelled: cancelled(), aborted: signal().aborted };
}
`;

const main = `
import { Pool, JobHandle, CancelledError, TimeoutError, PoolClosedError, move } from 'lazypool';
const pool = new Pool({ filename: new URL('./worker.mjs', import.meta.url), maxThreads: 2 });
const seen = [];
const squares = await Promise.all([1, 2, 3].map((n) => pool.submit(n, { onProgress: (v) => seen.push(v) })));
const checks = await pool.submit(null, { name: 'checks' });
const held = pool.submit(9, { hold: true });
held.cancel('not needed');
const error = await held.catch((e) => e);
const results = [];
for await (const value of pool.map([4, 5])) results.push(value);
await pool.close();
console.log(JSON.stringify({
  squares, checks, progress: seen.length, cancelled: error instanceof CancelledError, reason: error.reason, results,
  exports: [typeof JobHandle, typeof TimeoutError, typeof PoolClosedError, typeof move],
}));
`;

test('the packed package works from a plain JavaScript project', async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), 'lazypool-consumer-'));
  try {
    // --ignore-scripts: npm test built dist/ already, and a rebuild here would pull it from under the other tests.
    const { stdout: packed } = await run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', scratch], { cwd: repo });
    const tarball = join(scratch, packed.trim().split('\n').pop()!);
    await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run('npm', ['install', '--silent', '--no-audit', '--no-fund', tarball], { cwd: scratch });
    const installed = await readdir(join(scratch, 'node_modules', 'lazypool', 'dist', 'src'));
    t.true(installed.includes('index.d.ts'), 'ships its types');
    t.true(installed.includes('worker.d.ts'));
    await checkSourceMaps(t, join(scratch, 'node_modules', 'lazypool'));
    await writeFile(join(scratch, 'worker.mjs'), worker);
    await writeFile(join(scratch, 'main.mjs'), main);
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: scratch });
    t.deepEqual(JSON.parse(stdout), {
      squares: [1, 4, 9],
      checks: { cancelled: false, aborted: false },
      progress: 3,
      cancelled: true,
      reason: 'not needed',
      results: [16, 25],
      exports: ['function', 'function', 'function', 'function'],
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

/** Every source map in the installed package names only sources that the package contains. */
async function checkSourceMaps(t: ExecutionContext, root: string): Promise<void> {
  const maps = (await readdir(root, { recursive: true })).filter((path) => path.endsWith('.map'));
  t.true(maps.length > 0, 'ships source maps');
  const missing: string[] = [];
  for (const map of maps) {
    const { sources, sourceRoot = '' } = JSON.parse(await readFile(join(root, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
    for (const source of sources) {
      const path = join(root, dirname(map), sourceRoot, source);
      if (relative(root, path).startsWith('..')) missing.push(`${map} -> ${source} (outside the package)`);
      else await access(path).catch(() => missing.push(`${map} -> ${source}`));
    }
  }
  t.deepEqual(missing, [], 'source maps point only at files the package contains');
}
