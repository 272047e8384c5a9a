// `npm run demo:build -- --quick --watch`, run as a user runs it, and its output checked against
// what the main thread computes itself: each file's sizes (terser and zlib called directly), the
// totals, the links, and the watch script's stale chains (none of their waiting jobs ran, and each
// was cancelled or failed with a DependencyError). No timing is asserted: the machine may be busy.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';
import { minifyOptions } from '../workers/transform.js';

const repository = fileURLToPath(new URL('..', import.meta.url));
const demo = fileURLToPath(new URL('../demo/build.ts', import.meta.url));

interface FileEntry {
  file: string;
  path: string;
  originalBytes: number;
  minifiedBytes: number;
  gzipBytes: number;
  exports: number;
  missing: string[];
}

interface StaleChain {
  file: string;
  save: number;
  jobs: number;
  waitingAtCancel: number;
  begunBeforeCancel: number;
  cancelled: number;
  dependencyErrors: number;
  ranAfterCancel: number;
}

interface Report {
  packages: string[];
  jobs: { submitted: number; ran: number; cancelled: number; dependencyErrors: number };
  graph: { files: number; importEdges: number };
  summary: {
    files: number;
    originalBytes: number;
    minifiedBytes: number;
    gzipBytes: number;
    importsChecked: number;
    missing: string[];
    unscanned: string[];
    phantom: string[];
  };
  files: FileEntry[];
  watch: {
    open: { file: string; promotedJobs: number; readyAtMs?: number };
    stale: StaleChain[];
    edited: { file: string; code: string; saves: number; importers: string[]; exports: string[] };
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', demo, ...args], { cwd: repository, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The .js files of the jimp tree, found here by listing folders (the demo follows package.json dependencies). */
function jimpTreeFiles(): string[] {
  const jimp = dirname(createRequire(import.meta.url).resolve('jimp/package.json'));
  const scope = join(dirname(jimp), '@jimp');
  const folders = [join(jimp, 'dist/esm'), ...readdirSync(scope).map((name) => join(scope, name, 'dist/esm'))];
  const walk = (path: string): string[] =>
    statSync(path).isDirectory() ? readdirSync(path).flatMap((entry) => walk(join(path, entry))) : path.endsWith('.js') ? [path] : [];
  return folders.filter((folder) => statSync(folder, { throwIfNoEntry: false })?.isDirectory()).flatMap(walk).sort();
}

/** Sizes as the main thread makes them: terser with the options workers/transform.ts uses, then zlib at level 9. */
async function expectedSizes(file: string, code: string): Promise<{ originalBytes: number; minifiedBytes: number; gzipBytes: number }> {
  const output = await minify({ [file]: code }, minifyOptions(file, { module: true }));
  return {
    originalBytes: Buffer.byteLength(code),
    minifiedBytes: Buffer.byteLength(output.code!),
    gzipBytes: gzipSync(output.code!, { level: 9 }).byteLength,
  };
}

let folder: string;
let run: Run;
let report: Report;

test.before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'lazypool-demo-build-'));
  const json = join(folder, 'build.json');
  run = await runDemo(['--quick', '--watch', '--threads', '2', '--json', json]);
  if (run.code === 0) report = JSON.parse(await readFile(json, 'utf8')) as Report;
});

test.after.always(async () => {
  await rm(folder, { recursive: true, force: true });
});

test('the quick build with its watch script ends well and prints the summary table and the watch log', (t) => {
  t.is(run.code, 0, run.stderr || run.stdout);
  t.regex(run.stdout, /package tree\s+packages\s+files\s+source\s+minified\s+gzip/);
  t.regex(run.stdout, /^total\s+\d+\s+47\s/m);
  t.regex(run.stdout, /makespan \d+\.\d\d s on 2 threads \(criticalPath\)/);
  t.regex(run.stdout, /open in the editor: /);
  t.regex(run.stdout, /save 2 of .*: \d+ jobs stale \(save 1's\)/);
});

test('every file of the jimp tree is built, and its sizes are what terser and zlib give on the main thread', async (t) => {
  t.is(run.code, 0);
  const files = jimpTreeFiles();
  t.deepEqual(report.files.map((entry) => entry.path).sort(), files);
  t.is(report.summary.files, files.length);
  const edited = report.watch.edited.file;
  // The largest, the smallest, and one in the middle (the edited file is checked in its own test).
  const bySize = report.files.filter((entry) => entry.file !== edited).sort((a, b) => a.originalBytes - b.originalBytes);
  for (const entry of [bySize[0]!, bySize[bySize.length >> 1]!, bySize[bySize.length - 1]!]) {
    const expected = await expectedSizes(entry.file, await readFile(entry.path, 'utf8'));
    t.deepEqual({ originalBytes: entry.originalBytes, minifiedBytes: entry.minifiedBytes, gzipBytes: entry.gzipBytes }, expected, entry.file);
  }
});

test("the summary job's totals are the sums of the files' reports, and every import links", (t) => {
  t.is(run.code, 0);
  const sum = (field: 'originalBytes' | 'minifiedBytes' | 'gzipBytes') => report.files.reduce((total, entry) => total + entry[field], 0);
  t.is(report.summary.originalBytes, sum('originalBytes'));
  t.is(report.summary.minifiedBytes, sum('minifiedBytes'));
  t.is(report.summary.gzipBytes, sum('gzipBytes'));
  t.true(report.summary.gzipBytes < report.summary.minifiedBytes && report.summary.minifiedBytes < report.summary.originalBytes);
  t.true(report.graph.importEdges > report.graph.files, 'the files import one another');
  t.true(report.summary.importsChecked > 0);
  t.deepEqual(report.summary.missing, []);
  t.deepEqual(report.summary.unscanned, [], 'the scan found every import the parse found');
  t.deepEqual(report.summary.phantom, [], 'the scan found no import the parse did not');
});

test('a file saved twice: no stale job that was waiting ever ran; each was cancelled or failed with a DependencyError', (t) => {
  t.is(run.code, 0);
  const { stale, edited } = report.watch;
  t.deepEqual(stale.map((chain) => chain.save), [1, 2]);
  for (const chain of stale) {
    t.is(chain.file, edited.file);
    t.is(chain.jobs, 4 + edited.importers.length, `save ${chain.save}: the file's 4 jobs and its importers' links`);
    t.is(chain.waitingAtCancel + chain.begunBeforeCancel, chain.jobs);
    t.is(chain.ranAfterCancel, 0, `save ${chain.save}: a stale job that was waiting ran`);
    t.is(chain.cancelled + chain.dependencyErrors, chain.waitingAtCancel, `save ${chain.save}: every waiting stale job settled without running`);
    if (chain.waitingAtCancel > 0) t.true(chain.cancelled >= 1);
  }
  t.true(edited.importers.length >= 1, 'the edited file is imported, so its saves re-link');
});

test("the edited file's final report is its second save's: sizes of the edited code, and the export the edit added", async (t) => {
  t.is(run.code, 0);
  const { edited } = report.watch;
  const entry = report.files.find((candidate) => candidate.file === edited.file)!;
  const original = await readFile(entry.path, 'utf8');
  t.is(edited.code, `${original}\nexport const lazypoolDemoEdit = 2;\n`);
  const expected = await expectedSizes(entry.file, edited.code);
  t.deepEqual({ originalBytes: entry.originalBytes, minifiedBytes: entry.minifiedBytes, gzipBytes: entry.gzipBytes }, expected);
  t.true(edited.exports.includes('lazypoolDemoEdit'));
});

test('the file open in the editor: its chain was promoted, and its report is right', async (t) => {
  t.is(run.code, 0);
  const { open } = report.watch;
  t.true(open.promotedJobs >= 3, 'its gzip, minify and parse at least');
  t.not(open.readyAtMs, undefined);
  const entry = report.files.find((candidate) => candidate.file === open.file)!;
  const expected = await expectedSizes(entry.file, await readFile(entry.path, 'utf8'));
  t.deepEqual({ originalBytes: entry.originalBytes, minifiedBytes: entry.minifiedBytes, gzipBytes: entry.gzipBytes }, expected);
});

test('usage mistakes exit with 2 and say what is wrong', async (t) => {
  const wrong = await runDemo(['--packages', 'leftpad']);
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /--packages takes jimp, bullmq, terser; got 'leftpad'/);
});
