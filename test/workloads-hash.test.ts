import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { Pool } from '../src/index.js';
import { largeFileBytes, type HashFailure, type HashFilesProgress, type HashProgress, type HashResult } from '../workers/hash.js';

const hashWorker = new URL('../workers/hash.ts', import.meta.url);

let folder: string;
// A cancelled job must stop by itself: a thread terminated after abortGrace would only show up as
// this test file timing out, never as a wrongly passing test.
const pool = new Pool({ filename: hashWorker, maxThreads: 2, abortGrace: 10 * 60_000 });

test.before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'lazypool-hash-'));
});

test.after.always(async () => {
  await pool.close({ cancelQueued: true });
  await rm(folder, { recursive: true, force: true });
});

async function fileOf(name: string, content: Uint8Array): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, content);
  return path;
}

const mebibyte = 1 << 20;

test('digests equal node:crypto on the main thread, for sizes around the chunk boundary and several algorithms', async (t) => {
  const sizes = [0, 1, 4095, 4096, 4097, 3 * mebibyte + 7];
  const algorithms = ['sha256', 'sha512', 'sha1', 'md5', 'sha3-256', 'blake2b512'];
  const files = await Promise.all(sizes.map((size) => fileOf(`size-${size}`, randomBytes(size))));
  const jobs = files.flatMap((path) =>
    algorithms.map(async (algorithm) => {
      const result = await pool.submit<HashResult>({ path, algorithm, chunkSize: 4096 });
      const expected = createHash(algorithm).update(await readFile(path)).digest('hex');
      t.is(result.digest, expected, `${algorithm} of ${path}`);
      t.is(result.bytes, (await readFile(path)).length);
      t.is(result.algorithm, algorithm);
    }),
  );
  await Promise.all(jobs);
});

test('sha256 is the default algorithm', async (t) => {
  const content = Buffer.from('lazypool\n');
  const path = await fileOf('default-algorithm', content);
  const result = await pool.submit<HashResult>({ path });
  t.is(result.algorithm, 'sha256');
  t.is(result.digest, createHash('sha256').update(content).digest('hex'));
});

test('progress reports bytes done: from 0, never decreasing, ending at the size, deltas adding up to it', async (t) => {
  const size = 2 * mebibyte + 123;
  const path = await fileOf('progress', randomBytes(size));
  const reports: HashProgress[] = [];
  await pool.submit<HashResult>({ path, chunkSize: 1024 }, { onProgress: (value) => reports.push(value as HashProgress) });
  t.true(reports.length >= 2);
  t.deepEqual(reports[0], { bytes: 0, total: size, delta: 0 });
  t.deepEqual(reports.at(-1), { bytes: size, total: size, delta: reports.at(-1)!.delta });
  for (let index = 1; index < reports.length; index++) {
    t.true(reports[index].bytes >= reports[index - 1].bytes);
    t.is(reports[index].bytes - reports[index - 1].bytes, reports[index].delta);
  }
  t.is(reports.reduce((sum, report) => sum + report.delta, 0), size);
});

test('reportProgress: false sends no progress at all', async (t) => {
  const path = await fileOf('silent', randomBytes(100_000));
  const reports: unknown[] = [];
  const result = await pool.submit<HashResult>({ path, chunkSize: 1000, reportProgress: false }, { onProgress: (value) => reports.push(value) });
  t.is(result.bytes, 100_000);
  t.deepEqual(reports, []);
});

test('a missing file rejects with the file system error; hashSettled resolves with it instead', async (t) => {
  const path = join(folder, 'does-not-exist');
  const error = await t.throwsAsync(pool.submit({ path }));
  t.regex(error!.message, /ENOENT/);

  const failure = await pool.submit<HashFailure>({ path }, { name: 'hashSettled' });
  t.is(failure.path, path);
  t.is(failure.code, 'ENOENT');
  t.regex(failure.message, /no such file or directory/);
});

test('hashSettled still rejects for an unknown algorithm: no file could be hashed with it', async (t) => {
  const path = await fileOf('unknown-algorithm', Buffer.from('x'));
  await t.throwsAsync(pool.submit({ path, algorithm: 'no-such-digest' }, { name: 'hashSettled' }), {
    message: /Digest method not supported/,
  });
});

test('a path given as bytes reaches the file system unchanged (names that are not UTF-8)', async (t) => {
  const name = Buffer.concat([Buffer.from(join(folder, 'latin1-')), Buffer.of(0xe9, 0xff)]);
  const content = Buffer.from('bytes, not text');
  await writeFile(name, content);
  const result = await pool.submit<HashResult>({ path: new Uint8Array(name) });
  t.is(result.digest, createHash('sha256').update(content).digest('hex'));
  t.deepEqual(Buffer.from(result.path as Uint8Array), name);
});

test('a cancelled hash stops by itself between chunks, and the thread goes on with the next job', async (t) => {
  // Sparse: a terabyte of zeros that takes no disk space and would take minutes to read.
  const path = join(folder, 'sparse');
  await writeFile(path, '');
  await truncate(path, 2 ** 40);

  const handle = pool.submit<HashResult>({ path });
  await new Promise<void>((resolve) => handle.onProgress(() => resolve()));
  t.true(handle.cancel('enough'));
  t.is(handle.state, 'cancelled');
  // idle() waits for the job to really stop; with abortGrace at ten minutes, only the worker's own
  // check of cancelled() can end it within the test's timeout.
  await pool.idle();

  const content = Buffer.from('after the cancelled one');
  const next = await pool.submit<HashResult>({ path: await fileOf('after-cancel', content) });
  t.is(next.digest, createHash('sha256').update(content).digest('hex'));
});

test('the same worker file runs under plain Piscina, without progress or cancellation', async (t) => {
  const content = randomBytes(10_000);
  const path = await fileOf('plain-piscina', content);
  const piscina = new Piscina({ filename: hashWorker.href, maxThreads: 1 });
  try {
    const result = (await piscina.run({ path, algorithm: 'sha512' })) as HashResult;
    t.is(result.digest, createHash('sha512').update(content).digest('hex'));
  } finally {
    await piscina.destroy();
  }
});

test('hashFiles hashes many files in one job, in order, a missing one given as a failure in its place', async (t) => {
  const contents = [Buffer.from('one'), randomBytes(3 * mebibyte + 1), Buffer.alloc(0), randomBytes(4097)];
  const paths = await Promise.all(contents.map((content, index) => fileOf(`many-${index}`, content)));
  const missing = join(folder, 'many-missing');
  const results = await pool.submit<(HashResult | HashFailure)[]>({ paths: [paths[0], missing, ...paths.slice(1)], algorithm: 'sha1' }, { name: 'hashFiles' });
  t.is(results.length, 5);
  t.like(results[1], { path: missing, algorithm: 'sha1', code: 'ENOENT' });
  const hashed = [results[0], ...results.slice(2)] as HashResult[];
  hashed.forEach((result, index) => {
    t.is(result.path, paths[index]);
    t.is(result.digest, createHash('sha1').update(contents[index]).digest('hex'));
    t.is(result.bytes, contents[index].length);
  });
});

test('hashFiles with stopBeforeLarge returns the files before a large one; alone, the large file is hashed', async (t) => {
  // Sparse: a large file that takes no disk space.
  const large = join(folder, 'large-sparse');
  await writeFile(large, '');
  await truncate(large, largeFileBytes);
  const small = await fileOf('before-large', Buffer.from('small'));
  const after = await fileOf('after-large', Buffer.from('after'));

  const first = await pool.submit<HashResult[]>({ paths: [small, large, after], stopBeforeLarge: true }, { name: 'hashFiles' });
  t.deepEqual(first.map((result) => result.path), [small]);
  t.deepEqual(await pool.submit<HashResult[]>({ paths: [large, after], stopBeforeLarge: true }, { name: 'hashFiles' }), []);
  const alone = await pool.submit<HashResult[]>({ paths: [large], stopBeforeLarge: true }, { name: 'hashFiles' });
  t.is(alone[0].digest, createHash('sha256').update(Buffer.alloc(largeFileBytes)).digest('hex'));
  // Without the option, a large file is hashed wherever it is.
  const all = await pool.submit<HashResult[]>({ paths: [small, large, after] }, { name: 'hashFiles' });
  t.deepEqual(all.map((result) => result.bytes), [5, largeFileBytes, 5]);
});

test('hashFiles progress: deltas add up to the bytes hashed, and the last report counts every file', async (t) => {
  const sizes = [10, 2 * mebibyte + 3, 0, 5000];
  const paths = await Promise.all(sizes.map((size, index) => fileOf(`progress-many-${index}`, randomBytes(size))));
  const reports: HashFilesProgress[] = [];
  await pool.submit({ paths, reportProgress: true }, { name: 'hashFiles', onProgress: (value) => reports.push(value as HashFilesProgress) });
  const total = sizes.reduce((sum, size) => sum + size, 0);
  t.is(reports.reduce((sum, report) => sum + report.delta, 0), total);
  t.deepEqual(reports.at(-1), { files: sizes.length, bytes: total, delta: reports.at(-1)!.delta });
  const silent: unknown[] = [];
  await pool.submit({ paths }, { name: 'hashFiles', onProgress: (value) => silent.push(value) });
  t.deepEqual(silent, [], 'no progress unless asked for');
});

test('hashFiles with an unknown algorithm rejects before opening any file', async (t) => {
  await t.throwsAsync(pool.submit({ paths: [join(folder, 'nowhere')], algorithm: 'no-such-digest' }, { name: 'hashFiles' }), {
    message: /Digest method not supported/,
  });
});
