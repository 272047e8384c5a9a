// Issue 12: does `lazypool hash` beat sha256sum where users run it? A generated tree of many
// files of mixed sizes (the shape of a node_modules) and a few large files, against GNU
// sha256sum run serially and two at a time through xargs; plus the time from `new Pool` to the
// first result against raw Piscina, since thread start-up is paid by every run of the command.
//
// Every contender is a real process, timed from spawn to exit, its output captured and checked:
// lazypool's must equal sha256sum's byte for byte; xargs prints in completion order, so its lines
// are compared as a set. The files are read once before the first round, so every round finds
// them in the page cache. The command is compiled into the temporary folder first, as
// `npm run build` would, so that a build running meanwhile cannot pull it from under the measure.
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { alternate, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { barChart } from './lib/chart.js';
import { formatBytes, formatMs, formatNumber, formatRatio, type Table } from './lib/format.js';
import { repositoryRoot } from './lib/machine.js';
import { median, medianOf, ratio } from './lib/stats.js';

const run = promisify(execFile);
const repository = fileURLToPath(repositoryRoot);
const jobsModule = fileURLToPath(new URL('./workers/jobs.mjs', import.meta.url));

const mebibyte = 1 << 20;

/** What a run printed and how long it took, spawn to exit. */
interface Timed {
  readonly ms: number;
  readonly stdout: Buffer;
}

/** Runs `script` with `sh -c` in `cwd`; rejects unless it exits with 0. */
function timedShell(script: string, cwd: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms, stdout: Buffer.concat(stdout) });
      else reject(new Error(`${script}: exit code ${code}: ${Buffer.concat(stderr).toString().slice(0, 500)}`));
    });
  });
}

/** A deterministic generator (xorshift32), so every run hashes the same bytes. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** Bytes that do not repeat within a file: a random mebibyte, varied per file and per mebibyte. */
function contentSource(): (length: number, salt: number) => Buffer {
  const random = randomSource(12);
  const block = Buffer.alloc(mebibyte + 4096);
  for (let index = 0; index < block.length; index += 4) block.writeUInt32LE(Math.floor(random() * 2 ** 32), index);
  return (length, salt) => {
    const out = Buffer.allocUnsafe(length);
    for (let offset = 0; offset < length; offset += mebibyte) {
      const start = (salt * 97 + offset / mebibyte) % 4096;
      block.copy(out, offset, start, start + Math.min(mebibyte, length - offset));
    }
    return out;
  };
}

/**
 * A tree shaped like a node_modules (this repository's: 8,753 files, median 1.1 KiB, 90% under
 * 13 KiB, a few of several MiB): sizes log-uniform from 32 B to 64 KiB, and one file in 200
 * from 256 KiB to 4 MiB; 40 files per directory, ten directories per parent.
 */
async function makeTree(root: string, files: number): Promise<number> {
  const random = randomSource(2026);
  const content = contentSource();
  let bytes = 0;
  for (let index = 0; index < files; index++) {
    const directory = join(root, `package-${Math.floor(index / 400)}`, `lib-${Math.floor(index / 40) % 10}`);
    if (index % 40 === 0) await mkdir(directory, { recursive: true });
    const size = random() < 0.005 ? Math.floor(2 ** (18 + 4 * random())) : Math.floor(32 * 2 ** (11 * random()));
    bytes += size;
    await writeFile(join(directory, `file-${index}.js`), content(size, index));
  }
  return bytes;
}

/** `count` files of `size` bytes each, written a mebibyte at a time. */
async function makeLargeFiles(root: string, count: number, size: number): Promise<number> {
  const content = contentSource();
  await mkdir(root, { recursive: true });
  for (let index = 0; index < count; index++) {
    const file = await open(join(root, `large-${index}.bin`), 'w');
    try {
      for (let offset = 0; offset < size; offset += 16 * mebibyte) await file.write(content(Math.min(16 * mebibyte, size - offset), index * 1000 + offset / mebibyte));
    } finally {
      await file.close();
    }
  }
  return count * size;
}

/** Compiles the package into `folder` as `npm run build` does, with the repository's node_modules beside it. */
async function compileInto(folder: string, notes: string[]): Promise<string> {
  await mkdir(folder, { recursive: true });
  const typescript = join(repository, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [typescript, '-p', join(repository, 'tsconfig.build.json'), '--outDir', join(folder, 'dist')]);
  } catch (error) {
    // tsc emits despite type errors: the measure goes on, and says so.
    const output = String((error as { stdout?: string }).stdout ?? error).split('\n')[0];
    notes.push(`the package compiled with type errors (${output}); measured as emitted`);
  }
  await run(process.execPath, [join(repository, 'scripts', 'bundle-thread.mjs'), join(folder, 'dist')]);
  await copyFile(join(repository, 'package.json'), join(folder, 'package.json'));
  await symlink(join(repository, 'node_modules'), join(folder, 'node_modules'));
  return join(folder, 'dist', 'src');
}

/** Sorted lines: xargs -P prints each sha256sum's output as it finishes. */
function sortedLines(output: Buffer): string {
  return output.toString('latin1').split('\n').sort().join('\n');
}

interface Contender {
  readonly label: string;
  command(folder: string): string;
}

/** A script for a fresh process: from `new Pool` (or `new Piscina`) to the first result, in ms. */
function firstResultScript(library: 'lazypool' | 'piscina', compiled: string): string {
  const filename = JSON.stringify(jobsModule);
  const open =
    library === 'lazypool'
      ? `const { Pool } = await import(${JSON.stringify(join(compiled, 'index.js'))});
         const start = performance.now();
         const pool = new Pool({ filename: ${filename}, maxThreads: 1 });
         await pool.submit(1, { name: 'tiny' });
         const ms = performance.now() - start;
         await pool.close();`
      : `const { Piscina } = await import('piscina');
         const start = performance.now();
         const pool = new Piscina({ filename: ${filename}, maxThreads: 1 });
         await pool.run(1, { name: 'tiny' });
         const ms = performance.now() - start;
         await pool.destroy();`;
  return `${open}\nprocess.stdout.write(String(ms));`;
}

type Loader = 'import()' | 'require()';
const loaders: readonly Loader[] = ['import()', 'require()'];

/**
 * A script for a fresh process: a fresh thread loads the jobs module with `import()` or with
 * `require()` (as lazypool's and Piscina's threads load an ES module without top-level await), and
 * prints how long the load took, in ms: what loading it the way Piscina does saves.
 */
function loaderScript(loader: Loader): string {
  const load = loader === 'import()' ? `await import(${JSON.stringify(pathToFileURL(jobsModule).href)})` : `require(${JSON.stringify(jobsModule)})`;
  const thread = `(async () => { const started = performance.now(); const loaded = ${load}; if (typeof loaded.tiny !== 'function') throw new Error('no tiny export'); require('node:worker_threads').parentPort.postMessage(performance.now() - started); })();`;
  return `const { Worker } = await import('node:worker_threads');
    const worker = new Worker(${JSON.stringify(thread)}, { eval: true, execArgv: [] });
    const ms = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    await worker.terminate();
    process.stdout.write(String(ms));`;
}

export const hash: Benchmark = {
  name: 'hash',
  question: '`lazypool hash` against sha256sum and xargs -P sha256sum: 10,000 mixed files, 4 x 256 MiB; and time to first result against Piscina.',
  async run(context) {
    const treeFiles = context.quick ? 1_000 : 10_000;
    const largeCount = 4;
    const largeSize = (context.quick ? 16 : 256) * mebibyte;
    const rounds = context.rounds ?? (context.quick ? 1 : 5);
    // A fresh process per sample is noisy on 2 cores: medians of 21 gave 1.03x to 1.20x for the same
    // build in one hour. 31 each (about 10 s in all) narrows it; the spread is in the table.
    const firstResultRounds = context.quick ? 2 : 31;
    const threads = context.threads;
    const notes: string[] = [];
    const samples: Sample[] = [];
    const scratch = await mkdtemp(join(tmpdir(), 'lazypool-bench-hash-'));
    try {
      context.log(`compiling the command and generating ${formatNumber(treeFiles)} files and ${largeCount} x ${formatBytes(largeSize)} in ${scratch}`);
      const compiled = await compileInto(join(scratch, 'package'), notes);
      const cli = join(compiled, 'cli.js');
      const cases = [
        { name: `${formatNumber(treeFiles)} files`, folder: 'tree', bytes: await makeTree(join(scratch, 'tree'), treeFiles), perInvocation: 500 },
        // -n 1: with -n 500 xargs would give all four files to one sha256sum, serially.
        { name: `${largeCount} x ${formatBytes(largeSize)}`, folder: 'large', bytes: await makeLargeFiles(join(scratch, 'large'), largeCount, largeSize), perInvocation: 1 },
      ];
      const contenders = (perInvocation: number): Contender[] => [
        { label: 'sha256sum', command: (folder) => `find ${folder} -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum` },
        { label: `xargs -P${threads} sha256sum`, command: (folder) => `find ${folder} -type f -print0 | xargs -0 -P${threads} -n ${perInvocation} sha256sum` },
        { label: 'lazypool hash', command: (folder) => `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} hash --threads ${threads} ${folder}` },
        // What every run of the command pays before it hashes anything: Node's start and the imports.
        { label: 'lazypool --version (start-up only)', command: () => `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} --version` },
      ];

      for (const testCase of cases) {
        // Untimed: fills the page cache, and gives the reference output.
        const reference = await timedShell(contenders(testCase.perInvocation)[0].command(testCase.folder), scratch);
        const referenceSet = sortedLines(reference.stdout);
        await alternate(contenders(testCase.perInvocation), rounds, async (contender, round) => {
          const result = await timedShell(contender.command(testCase.folder), scratch);
          if (contender.label === 'lazypool hash' && !result.stdout.equals(reference.stdout)) {
            throw new Error(`lazypool hash printed something else than sha256sum on ${testCase.name}`);
          }
          if (contender.label.startsWith('xargs') && sortedLines(result.stdout) !== referenceSet) {
            throw new Error(`${contender.label} printed something else than sha256sum on ${testCase.name}`);
          }
          if (contender.label.startsWith('lazypool --version') && !/^lazypool \d/.test(result.stdout.toString())) {
            throw new Error(`lazypool --version printed ${JSON.stringify(result.stdout.toString())}`);
          }
          samples.push({ contender: contender.label, case: testCase.name, round, value: result.ms, unit: 'ms' });
          context.log(`${testCase.name}, round ${round + 1}/${rounds}, ${contender.label}: ${formatMs(result.ms)}`);
        });
      }

      const firstResultCase = 'new Pool to first result';
      await alternate(['lazypool', 'piscina'] as const, firstResultRounds, async (library, round) => {
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', firstResultScript(library, compiled)], { cwd: repository });
        const value = Number(stdout);
        if (!Number.isFinite(value) || value <= 0) throw new Error(`${library}: no time to first result (printed ${JSON.stringify(stdout)})`);
        samples.push({ contender: library, case: firstResultCase, round, value, unit: 'ms' });
      });
      context.log(`${firstResultCase}: lazypool ${formatMs(medianOf(samples, 'lazypool', firstResultCase))}, piscina ${formatMs(medianOf(samples, 'piscina', firstResultCase))}`);
      const loadCase = 'jobs module loaded in a fresh thread';
      await alternate(loaders, firstResultRounds, async (loader, round) => {
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', loaderScript(loader)], { cwd: repository });
        const value = Number(stdout);
        if (!Number.isFinite(value) || value <= 0) throw new Error(`${loader}: no load time (printed ${JSON.stringify(stdout)})`);
        samples.push({ contender: loader, case: loadCase, round, value, unit: 'ms' });
      });
      context.log(`${loadCase}: import() ${formatMs(medianOf(samples, 'import()', loadCase))}, require() ${formatMs(medianOf(samples, 'require()', loadCase))}`);

      const medians: Record<string, unknown>[] = [];
      const tables: Table[] = [];
      const targets: Target[] = [];
      for (const testCase of cases) {
        const labels = contenders(testCase.perInvocation).map((contender) => contender.label);
        const serial = medianOf(samples, 'sha256sum', testCase.name);
        const parallel = medianOf(samples, labels[1], testCase.name);
        const ours = medianOf(samples, 'lazypool hash', testCase.name);
        const startUp = medianOf(samples, labels[3], testCase.name);
        for (const label of labels) {
          medians.push({ contender: label, case: testCase.name, ms: medianOf(samples, label, testCase.name), bytes: testCase.bytes });
        }
        tables.push({
          title: `${testCase.name} (${formatBytes(testCase.bytes)}, page cache warm, ${threads} threads, median of ${rounds} rounds, alternated)`,
          columns: ['contender', 'wall time', 'vs sha256sum', `vs xargs -P${threads}`, 'per file, past start-up'],
          rows: labels.map((label) => {
            const ms = medianOf(samples, label, testCase.name);
            const files = testCase.folder === 'tree' ? treeFiles : largeCount;
            const perFile = label === 'lazypool hash' && testCase.folder === 'tree' ? `${formatNumber(((ms - startUp) * 1000) / files)} µs` : '';
            return [label, formatMs(ms), formatRatio(ratio(ms, serial)), formatRatio(ratio(ms, parallel)), perFile];
          }),
        });
        if (testCase.folder === 'tree') {
          targets.push({
            // Issue 12's target is against sha256sum; it aims at xargs -P2, reported beside it.
            target: `${testCase.name}: lazypool hash <= 0.8x the wall time of sha256sum (aiming at xargs -P${threads} sha256sum)`,
            measured: `${formatRatio(ratio(ours, serial))} of sha256sum; ${formatRatio(ratio(ours, parallel))} of xargs -P${threads}`,
            met: ratio(ours, serial) <= 0.8,
          });
        } else {
          targets.push({
            target: `${testCase.name}: lazypool hash >= 3x faster than sha256sum`,
            measured: `${formatRatio(ratio(serial, ours))} faster (${formatRatio(ratio(parallel, ours))} against xargs -P${threads})`,
            met: ratio(serial, ours) >= 3,
          });
        }
      }
      const lazyFirst = medianOf(samples, 'lazypool', firstResultCase);
      const piscinaFirst = medianOf(samples, 'piscina', firstResultCase);
      medians.push({ contender: 'lazypool', case: firstResultCase, ms: lazyFirst }, { contender: 'piscina', case: firstResultCase, ms: piscinaFirst });
      tables.push({
        title: `${firstResultCase}: a fresh process each, one thread, one tiny job (median of ${firstResultRounds}, alternated)`,
        columns: ['contender', 'time', 'vs piscina', 'spread (min-max)'],
        rows: (['lazypool', 'piscina'] as const).map((library) => {
          const values = samples.filter((sample) => sample.contender === library && sample.case === firstResultCase).map((sample) => sample.value);
          return [library, formatMs(median(values)), formatRatio(ratio(median(values), piscinaFirst)), `${formatMs(Math.min(...values))}-${formatMs(Math.max(...values))}`];
        }),
      });
      const importMs = medianOf(samples, 'import()', loadCase);
      const requireMs = medianOf(samples, 'require()', loadCase);
      medians.push({ contender: 'import()', case: loadCase, ms: importMs }, { contender: 'require()', case: loadCase, ms: requireMs });
      tables.push({
        title: `${loadCase}: the same module, by import() and by require() (which lazypool's threads use for an ES module without top-level await, as Piscina's do); a fresh process each (median of ${firstResultRounds}, alternated)`,
        columns: ['loader', 'time', 'vs require()'],
        rows: loaders.map((loader) => [loader, formatMs(medianOf(samples, loader, loadCase)), formatRatio(ratio(medianOf(samples, loader, loadCase), requireMs))]),
      });
      targets.push({
        target: 'time from new Pool to first result <= 1.1x Piscina',
        measured: `${formatRatio(ratio(lazyFirst, piscinaFirst))} (${formatMs(lazyFirst - piscinaFirst)} more; require() in place of import() saves ${formatMs(importMs - requireMs)} of a fresh thread)`,
        met: ratio(lazyFirst, piscinaFirst) <= 1.1,
      });
      notes.push(
        `sha256sum is GNU coreutils' (${(await run('sha256sum', ['--version'])).stdout.split('\n')[0]}); it does not use the CPU's SHA instructions, Node's OpenSSL does where the CPU has them`,
        'each wall time includes the process start (Node for lazypool, sh, find and xargs for the others); "lazypool --version" is that start alone for lazypool',
      );

      return {
        settings: { treeFiles, largeCount, largeSize, rounds, firstResultRounds, threads, treeBytes: cases[0].bytes },
        samples,
        medians,
        tables,
        targets,
        notes,
        chart: barChart({
          title: 'lazypool hash against sha256sum (wall time, ms; lower is better)',
          rows: medians,
          bar: 'contender',
          value: 'ms',
          valueTitle: 'ms',
          panel: 'case',
          independentScales: true,
        }),
      };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};
