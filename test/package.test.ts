/**
 * The packed tarball, installed in a project outside this repository, works through both entry
 * points from plain JavaScript, and its types compile in a strict TypeScript consumer (without
 * skipLibCheck) and catch that consumer's mistakes: what users get from `npm install lazypool`.
 *
 * The consumer is compiled with the project's TypeScript. To check it under another one, say the
 * newest on the registry: `npm install --prefix /tmp/tsnewest typescript@latest`, then
 * `LAZYPOOL_TSC=/tmp/tsnewest/node_modules/.bin/tsc npx ava test/package.test.ts`.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const tsc = process.env.LAZYPOOL_TSC ?? join(repo, 'node_modules', '.bin', 'tsc');

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

/** A worker module in TypeScript, as a consumer writes one: it exports its progress type. */
const typedWorker = `
import { progress } from 'lazypool/worker';
/** What square reports. */
export interface Progress { done: number; total: number }
export default function square(n: number): number {
  progress<Progress>({ done: 1, total: 1 });
  // @ts-expect-error progress<Progress>() checks the value sent
  progress<Progress>({ done: 'all', total: 1 });
  return n * n;
}
export async function greet(input: { name: string }): Promise<string> {
  return 'hello ' + input.name;
}
export function byteLength(bytes: Uint8Array): number {
  return bytes.byteLength;
}
export const notAJob = 1;
`;

/** The public API used as documented, and one @ts-expect-error per mistake the types must catch. */
const typedMain = `
import { Pool, JobHandle, JobGroup, move, CancelledError, type JobHandleInit, type JobOutcome, type PoolOptions, type SubmitOptions } from 'lazypool';
import { cancelled, signal } from 'lazypool/worker';
type Worker = typeof import('./typed-worker.js');
type Progress = import('./typed-worker.js').Progress;

const filename = new URL('./typed-worker.js', import.meta.url);
const options: PoolOptions = { filename, maxThreads: 2, minThreads: 1, idleTimeout: 1000, resourceLimits: { maxOldGenerationSizeMb: 64 }, env: { A: '1' }, execArgv: [] };
const pool = new Pool(options);

// Submit options: lazypool's own only.
const squared: JobHandle<number> = pool.submit<number>(2, { priority: 1, timeout: 1000, signal: AbortSignal.timeout(5000) });
// @ts-expect-error a misspelt option
pool.submit(2, { priorty: 5 });
// @ts-expect-error a wrong option type
pool.submit(2, { hold: 'yes' });
// @ts-expect-error the same in map
pool.map([1, 2], { ordered: true, priorty: 1 });
const given: SubmitOptions = { name: 'greet' };
// @ts-expect-error maxQueue is refused: lazypool's queue holds waiting jobs
new Pool({ filename, maxQueue: 10 });

// The proxy: export names, argument and result types, progress.
const jobs = pool.proxy<Worker, Progress>();
const greeting: Promise<string> = jobs.greet({ name: 'x' }).then((text) => text.toUpperCase());
jobs.default(3, { priority: 2, onProgress: (value) => value.done + value.total }).onProgress((value) => value.total);
jobs.byteLength(move(new Uint8Array(8)));
// @ts-expect-error a wrong export name
jobs.sqaure(3);
// @ts-expect-error not a function export
jobs.notAJob(1);
// @ts-expect-error a wrong argument type
jobs.default('3');
// @ts-expect-error a wrong argument shape
jobs.greet({ nam: 'x' });
// @ts-expect-error the proxy sets the name
jobs.default(3, { name: 'greet' });
// @ts-expect-error a progress value has no such field
jobs.default(3, { onProgress: (value) => value.percent });
const typedResult: Promise<number> = jobs.default(3).then((value) => value);
// @ts-expect-error the result is a number
const wrongResult: Promise<string> = jobs.default(3).then((value) => value);

// A Handle class declares the options it reads.
class Retrying extends JobHandle<unknown, { retries?: number }> {
  readonly retries: number;
  constructor(init: JobHandleInit<{ retries?: number }>) {
    super(init);
    this.retries = init.options.retries ?? 0;
  }
}
const retrying = new Pool({ filename, Handle: Retrying });
const retries: number = retrying.submit(1, { retries: 3, priority: 1 }).retries;
retrying.proxy<Worker>().default(2, { retries: 1 });
retrying.group().submit(2, { retries: 1 });
// @ts-expect-error a wrong Handle option type
retrying.submit(1, { retries: 'three' });
// @ts-expect-error a misspelt Handle option
retrying.submit(1, { retires: 3 });
// @ts-expect-error another pool's Handle options are not this one's
pool.submit(1, { retries: 3 });

// Groups keep their result type.
const group: JobGroup<JobHandle, number> = pool.group<number>();
group.submit(1);
const outcomes: JobOutcome<number>[] = await group.settled();
// @ts-expect-error the group's results are numbers
const wrongOutcomes: JobOutcome<string>[] = await group.settled();
// @ts-expect-error a group of numbers takes no string job
group.submit<string>('x');
{
  await using disposable = pool.group();
  disposable.submit(1);
}

pool.on('done', (handle) => handle.state);
const error: unknown = await squared.catch((reason: unknown) => reason);
export { cancelled, signal, CancelledError, given, greeting, typedResult, wrongResult, retries, outcomes, wrongOutcomes, error };
await Promise.all([pool.close(), retrying.close({ cancelQueued: true })]);
`;

/**
 * ES module workers in a plain project, where threads load them with require() (see
 * src/thread/entry.ts), and import() only for top-level await or when Node is given a loader.
 * Node 20 can abort the whole process when a thread is ended inside require() of an ES module:
 * esm-gated-load.mjs blocks inside its own load until the script releases it.
 */
const loading = `
import { Pool } from 'lazypool';
const fixture = (name) => new URL('./fixtures/' + name, import.meta.url);
const newGate = () => new Int32Array(new SharedArrayBuffer(6 * 4));
// Words of the gate: see fixtures/esm-gated-load.mjs and esm-helper.mjs.
const gateWord = { loading: 0, release: 1, loads: 2, thread: 3, helperRuns: 4, awaitRuns: 5 };
async function untilSet(gate, word) {
  while (Atomics.load(gate, word) === 0) {
    const wait = Atomics.waitAsync(gate, word, 0);
    if (wait.async) await wait.value;
  }
}
const settled = (handle) => handle.then((value) => ({ value }), (error) => ({ error: error.name + ': ' + error.message.replace(/job \\d+/, 'job N') }));
const out = {};

/** A job cancelled (abortGrace 0) while its thread is inside require() of esm-gated-load.mjs; the job after it. */
async function cancelledWhileLoading() {
  const gate = newGate();
  const pool = new Pool({ filename: fixture('esm-gated-load.mjs'), maxThreads: 1, abortGrace: 0, workerData: gate });
  const stubborn = pool.submit(null, { name: 'stubborn' });
  const next = pool.submit(null, { name: 'whichThread' });
  await untilSet(gate, gateWord.loading);
  stubborn.cancel();
  return { gate, pool, stubborn, next };
}

// The thread is not ended inside require().
{
  const { gate, pool, stubborn, next } = await cancelledWhileLoading();
  // A timer of abortGrace set after cancel() fires after the pool's own grace timer.
  await new Promise((resolve) => setTimeout(resolve, 0));
  Atomics.store(gate, gateWord.release, 1);
  Atomics.notify(gate, gateWord.release);
  const thread = await next;
  out.cancelledInLoad = { state: stubborn.state, sameThread: thread === Atomics.load(gate, gateWord.thread), helperRuns: Atomics.load(gate, gateWord.helperRuns) };
  await pool.close();
}

// The same, never released: the thread is ended all the same, 10 s past abortGrace.
{
  const { gate, pool, stubborn, next } = await cancelledWhileLoading();
  const thread = await next;
  out.neverLoads = { state: stubborn.state, otherThread: thread !== Atomics.load(gate, gateWord.thread), loads: Atomics.load(gate, gateWord.loads) };
  await pool.close();
}

// Top-level await (require() refuses it before running any of it): imported, once.
{
  const gate = newGate();
  const pool = new Pool({ filename: fixture('esm-top-level-await.mjs'), maxThreads: 1, workerData: gate });
  const values = await Promise.all([1, 2, 3].map((input) => pool.submit(input, { name: 'triple' })));
  out.topLevelAwait = { values, runs: Atomics.load(gate, gateWord.awaitRuns), helperRuns: Atomics.load(gate, gateWord.helperRuns) };
  await pool.close();
}

// Modules that cannot load: every job fails with the same error.
for (const [key, file] of [['throws', 'fault-throws-on-load.mjs'], ['rejects', 'fault-rejects-on-load.mjs']]) {
  const pool = new Pool({ filename: fixture(file), maxThreads: 2 });
  const outcomes = await Promise.all([1, 2, 3, 4].map((input) => settled(pool.submit(input))));
  out[key] = [...new Set(outcomes.map((outcome) => outcome.error ?? 'fulfilled'))];
  await pool.close();
}

// With a loader given to Node, import(): it serves what require() cannot reach.
{
  const pool = new Pool({ filename: fixture('esm-needs-hooks.mjs'), maxThreads: 1, execArgv: ['--import=' + fixture('esm-hooks-register.mjs').href] });
  out.hooked = await Promise.all([1, 2].map((input) => pool.submit(input, { name: 'add' })));
  await pool.close();
}

// With require() of ES modules turned off, import(): an ES module in a package without "type" loads.
{
  const pool = new Pool({ filename: fixture('typeless/worker.js'), maxThreads: 1, execArgv: ['--no-experimental-require-module'] });
  out.requireOff = await pool.submit('typeless', { name: 'echo' });
  await pool.close();
}

// A CommonJS module whose top level fails on require() of an ES module with top-level await: not
// run a second time through import() (once per job, as require() keeps no module that threw).
{
  const runs = new Int32Array(new SharedArrayBuffer(4));
  const pool = new Pool({ filename: fixture('requires-top-level-await.cjs'), maxThreads: 1, workerData: runs });
  const outcomes = await Promise.all([1, 2].map((input) => settled(pool.submit(input))));
  out.cjsFailing = { refusedForTopLevelAwait: outcomes.map((outcome) => /top-level await/.test(outcome.error ?? '')), runs: Atomics.load(runs, 0) };
  await pool.close();
}
console.log(JSON.stringify(out));
`;

/**
 * The process exits (process.exit) while a thread is inside require() of an ES module that takes
 * 300 ms to load: the exit waits for the load, which writes its marker file, rather than end the
 * thread inside it (which can abort the process).
 */
const exiting = `
import { Pool } from 'lazypool';
const gate = new Int32Array(new SharedArrayBuffer(4));
const marker = new URL('./loaded-marker', import.meta.url).pathname;
const pool = new Pool({ filename: new URL('./fixtures/esm-slow-load.mjs', import.meta.url), maxThreads: 1, workerData: { gate, marker, ms: 300 } });
pool.submit(null, { name: 'whichThread' });
while (Atomics.load(gate, 0) === 0) {
  const wait = Atomics.waitAsync(gate, 0, 0);
  if (wait.async) await wait.value;
}
process.exit(0);
`;

/** As strict as a consumer gets: exactOptionalPropertyTypes, and no skipLibCheck. */
const strictConfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022', 'ESNext.Disposable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: ['node'],
    typeRoots: [join(repo, 'node_modules', '@types')],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    noPropertyAccessFromIndexSignature: true,
    verbatimModuleSyntax: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ['typed-main.ts', 'typed-worker.ts'],
};

let scratch: string;

test.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lazypool-consumer-'));
  // --ignore-scripts: npm test built dist/ already, and a rebuild here would pull it from under the other tests.
  const { stdout: packed } = await run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', scratch], { cwd: repo });
  const tarball = join(scratch, packed.trim().split('\n').pop()!);
  await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--silent', '--no-audit', '--no-fund', tarball], { cwd: scratch });
});

test.after.always(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

test('the packed package works from a plain JavaScript project', async (t) => {
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
});

test('ES module workers in a plain project: required once per thread, imported for top-level await or under a loader, and no thread ended inside require()', async (t) => {
  await mkdir(join(scratch, 'fixtures'), { recursive: true });
  await mkdir(join(scratch, 'fixtures', 'typeless'), { recursive: true });
  const fixtures = ['esm-gated-load.mjs', 'esm-helper.mjs', 'esm-top-level-await.mjs', 'fault-throws-on-load.mjs', 'fault-rejects-on-load.mjs', 'esm-needs-hooks.mjs', 'esm-hooks.mjs', 'esm-hooks-register.mjs'];
  for (const file of [...fixtures, 'esm-slow-load.mjs', 'requires-top-level-await.cjs', 'typeless/package.json', 'typeless/worker.js']) {
    await copyFile(join(repo, 'test', 'fixtures', file), join(scratch, 'fixtures', file));
  }
  await writeFile(join(scratch, 'loading.mjs'), loading);
  const { stdout } = await run(process.execPath, ['loading.mjs'], { cwd: scratch });
  t.deepEqual(JSON.parse(stdout), {
    cancelledInLoad: { state: 'cancelled', sameThread: true, helperRuns: 1 },
    neverLoads: { state: 'cancelled', otherThread: true, loads: 2 },
    topLevelAwait: { values: [3, 6, 9], runs: 1, helperRuns: 1 },
    throws: ['Error: this ES module refuses to load'],
    rejects: ['Error: this ES module rejected while loading'],
    hooked: [43, 44],
    requireOff: 'typeless',
    cjsFailing: { refusedForTopLevelAwait: [true, true], runs: 2 },
  });

  await writeFile(join(scratch, 'exiting.mjs'), exiting);
  const exited = await run(process.execPath, ['exiting.mjs'], { cwd: scratch }).then(
    () => 0,
    (error: { code?: number }) => error.code,
  );
  t.is(exited, 0, 'the process exits normally');
  t.is(await readFile(join(scratch, 'loaded-marker'), 'utf8'), 'loaded', 'the load was let finish');
});

test('the packed types compile in a strict TypeScript consumer without skipLibCheck, and reject its mistakes', async (t) => {
  await writeFile(join(scratch, 'tsconfig.json'), JSON.stringify(strictConfig, null, 2));
  await writeFile(join(scratch, 'typed-worker.ts'), typedWorker);
  await writeFile(join(scratch, 'typed-main.ts'), typedMain);
  // Every @ts-expect-error that meets no error is an error itself (TS2578): tsc fails on a mistake accepted.
  const compiled = await run(tsc, ['-p', 'tsconfig.json', '--listFiles'], { cwd: scratch }).catch(
    (error: { stdout?: string; stderr?: string }) => ({ stdout: '', stderr: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
  );
  t.is(compiled.stderr, '', 'tsc reports no error');
  const read = compiled.stdout.split('\n');
  t.true(read.some((file) => file.includes('node_modules/lazypool/dist/src/index.d.ts')), 'lazypool\'s types were read');
  t.deepEqual(
    read.filter((file) => file.includes('node_modules/piscina/')),
    [],
    'no file of Piscina\'s is read: lazypool\'s types declare what they pass to it',
  );
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
