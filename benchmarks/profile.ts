// `npx tsx benchmarks/profile.ts <scenario> [jobs]`: runs one lazypool scenario under
// --cpu-prof and prints where the main thread spent its time (self time per function, top 20),
// so a missed target comes with the functions to look at. The profiles (main thread and
// workers) stay in benchmarks/results/profiles/ (ignored by git) for Chrome DevTools.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { holdEveryThread, piscina } from './lib/contenders.js';
import { Ledger } from './lib/gate.js';
import { lazypool } from './lib/lazypool-contender.js';
import { repositoryRoot } from './lib/machine.js';
import { cpuWorkload, jobsPerSecond, tinyWorkload } from './lib/workloads.js';

const threads = 2;

const scenarios: Record<string, { describe: string; defaultJobs: number; run(jobs: number): Promise<string> }> = {
  tiny: {
    describe: 'submit N tiny jobs at once and await them all',
    defaultJobs: 100_000,
    async run(jobs) {
      const pool = await lazypool().open(threads);
      const rate = await jobsPerSecond(pool, tinyWorkload, jobs);
      await pool.destroy();
      return `${Math.round(rate)} jobs/s`;
    },
  },
  cpu: {
    describe: 'submit N sha256-of-1-MiB jobs at once and await them all',
    defaultJobs: 2_000,
    async run(jobs) {
      const pool = await lazypool().open(threads);
      const rate = await jobsPerSecond(pool, cpuWorkload, jobs);
      await pool.destroy();
      return `${Math.round(rate)} jobs/s`;
    },
  },
  'tiny-piscina': {
    describe: 'the same as tiny, on raw Piscina: the reference profile',
    defaultJobs: 100_000,
    async run(jobs) {
      const pool = await piscina().open(threads);
      const rate = await jobsPerSecond(pool, tinyWorkload, jobs);
      await pool.destroy();
      return `${Math.round(rate)} jobs/s`;
    },
  },
  cancel: {
    describe: 'every thread held, N jobs waiting, handle.cancel() on each',
    defaultJobs: 100_000,
    async run(jobs) {
      const pool = await lazypool().open(threads);
      const held = await holdEveryThread(pool, threads);
      const ledger = new Ledger();
      for (let index = 0; index < jobs; index++) pool.submitCancellable('counted', ledger.input);
      const started = performance.now();
      pool.cancelAll();
      const ms = performance.now() - started;
      await held.release();
      await pool.destroy();
      return `cancelled ${jobs} in ${ms.toFixed(1)} ms`;
    },
  },
  promote: {
    describe: 'a backlog of N 1 ms jobs, then urgent jobs through submit().promote()',
    defaultJobs: 100_000,
    async run(jobs) {
      const pool = await lazypool().open(threads);
      for (let index = 0; index < jobs; index++) pool.submit('busy', { ms: 1 }).then(undefined, () => undefined);
      await delay(10);
      const latencies: string[] = [];
      for (let job = 0; job < 10; job++) {
        const started = performance.now();
        await pool.submitUrgent('busy', { ms: 1 });
        latencies.push((performance.now() - started).toFixed(1));
        await delay(1);
      }
      await pool.destroy();
      return `urgent latencies (ms): ${latencies.join(', ')}`;
    },
  },
};

const [scenarioName, jobsArgument] = process.argv.slice(2);
const scenario = scenarios[scenarioName ?? ''];
if (!scenario) {
  console.log(`Usage: npx tsx benchmarks/profile.ts <scenario> [jobs]\n`);
  for (const [name, { describe, defaultJobs }] of Object.entries(scenarios)) {
    console.log(`  ${name.padEnd(8)} ${describe} (N = ${defaultJobs})`);
  }
  process.exit(scenarioName ? 2 : 0);
}
const jobs = jobsArgument ? Number(jobsArgument) : scenario.defaultJobs;
const profiles = fileURLToPath(new URL('./results/profiles/', import.meta.url));

if (!process.execArgv.some((argument) => argument.startsWith('--cpu-prof'))) {
  // The parent: run this same file again, profiled, then summarise what it wrote.
  rmSync(profiles, { recursive: true, force: true });
  mkdirSync(profiles, { recursive: true });
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', profiles, fileURLToPath(import.meta.url), scenarioName!, String(jobs)],
    { stdio: 'inherit', cwd: fileURLToPath(repositoryRoot) },
  );
  if (child.status !== 0) process.exit(child.status ?? 1);
  summarise(profiles);
} else {
  console.log(`${scenarioName}, N = ${jobs}: ${await scenario.run(jobs)}`);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Prints self time per function: the main thread's profile (thread id 0) and the busiest worker's. */
function summarise(directory: string): void {
  const files = readdirSync(directory).filter((file) => file.endsWith('.cpuprofile'));
  const main = files.find((file) => /\.\d+\.0\.\d+\.cpuprofile$/.test(file));
  if (!main) throw new Error('no profile of the main thread was written');
  printTop('Main thread', directory, main);
  const workers = files
    .filter((file) => file !== main)
    .map((file) => ({ file, busyMs: selfTimes(join(directory, file)).busyMs }))
    .sort((a, b) => b.busyMs - a.busyMs);
  if (workers[0]) printTop('Busiest worker thread', directory, workers[0].file);
  console.log(`\nProfiles: ${relative(fileURLToPath(repositoryRoot), directory)} (${files.length} files, one per thread)`);
}

function selfTimes(path: string): { byFunction: Map<string, number>; totalMs: number; busyMs: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
  };
  const sampleMs = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * sampleMs;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${relative(fileURLToPath(repositoryRoot), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  return { byFunction, totalMs, busyMs: totalMs - (byFunction.get('(idle)') ?? 0) };
}

function printTop(title: string, directory: string, file: string): void {
  const { byFunction, totalMs } = selfTimes(join(directory, file));
  const top = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
  console.log(`\n${title}, self time (${file}; ${totalMs.toFixed(0)} ms sampled; line numbers are of tsx's output):`);
  for (const [name, ms] of top) {
    console.log(`${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / totalMs).toFixed(1).padStart(5)}%  ${name}`);
  }
}
