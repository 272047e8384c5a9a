/**
 * `npm start`: lazy against eager dispatch, on real work, on this machine.
 *
 * For each workload (thumbnails, file digests, minification) the same scenario runs twice with the
 * same jobs and threads, first on a lazypool Pool, then on a plain Piscina pool loading the same
 * worker file: a backlog is queued, an urgent job submitted last is promoted, an important one gets
 * a higher priority, and once both are done the rest is cancelled. A table of the measured times
 * ends the run. The data set is made in a temporary folder; nothing is downloaded.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDataSet, dataSizes, type DataSize } from './dataset.js';
import { runEager, runLazy, type Measurement } from './scenario.js';
import { duration, Screen, seconds, style } from './screen.js';
import { workloadNames, workloads, type WorkloadName } from './workloads.js';

const defaultThreads = Math.min(availableParallelism(), 8);
const backlogPerThread = 10;

const usage = `Usage: npm start -- [options]

Runs the lazy-versus-eager demonstration on a data set it makes in a temporary folder.

Options:
  -j, --threads <n>        worker threads for both pools. Default: ${defaultThreads} (this machine, at most 8)
  -s, --size <size>        data set: small, medium or large. Default: medium
                             small   photos ${dataSizes.small.photo.width}x${dataSizes.small.photo.height}, files of ${dataSizes.small.blobMiB} MiB
                             medium  photos ${dataSizes.medium.photo.width}x${dataSizes.medium.photo.height}, files of ${dataSizes.medium.blobMiB} MiB
                             large   photos ${dataSizes.large.photo.width}x${dataSizes.large.photo.height}, files of ${dataSizes.large.blobMiB} MiB
  -w, --workloads <list>   comma-separated, any of ${workloadNames.join(', ')}. Default: all
  -b, --backlog <n>        jobs queued per workload before the urgent one. Default: ${backlogPerThread} per thread
  -c, --concurrency <n>    the lazy pool's slots: jobs handed to Piscina at once. Default: one per
                           thread, so that no job waits inside Piscina where promote() and
                           priorities cannot reach it (lazypool's own default, twice the threads,
                           favours the throughput of tiny jobs instead)
      --keep               keep the data set folder instead of deleting it
  -h, --help               print this help
`;

interface DemoOptions {
  threads: number;
  size: DataSize;
  workloads: WorkloadName[];
  backlog: number;
  concurrency: number;
  keep: boolean;
}

function parseOptions(args: string[]): DemoOptions | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      threads: { type: 'string', short: 'j' },
      size: { type: 'string', short: 's', default: 'medium' },
      workloads: { type: 'string', short: 'w', default: workloadNames.join(',') },
      backlog: { type: 'string', short: 'b' },
      concurrency: { type: 'string', short: 'c' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument '${positionals[0]}'`);
  const threads = positiveInteger('--threads', values.threads ?? String(defaultThreads));
  if (!(values.size in dataSizes)) throw new Error(`--size must be small, medium or large, got '${values.size}'`);
  const chosen = values.workloads.split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of chosen) {
    if (!(workloadNames as readonly string[]).includes(name)) {
      throw new Error(`--workloads takes ${workloadNames.join(', ')}; got '${name}'`);
    }
  }
  if (chosen.length === 0) throw new Error('--workloads names no workload');
  return {
    threads,
    size: values.size as DataSize,
    workloads: workloadNames.filter((name) => chosen.includes(name)),
    backlog: positiveInteger('--backlog', values.backlog ?? String(backlogPerThread * threads)),
    concurrency: positiveInteger('--concurrency', values.concurrency ?? String(threads)),
    keep: values.keep,
  };
}

function positiveInteger(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${option} must be a positive integer, got '${text}'`);
  }
  return value;
}

async function main(): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(usage);
    return 0;
  }

  const screen = new Screen();
  const runStarted = performance.now();
  const folder = await mkdtemp(join(tmpdir(), 'lazypool-demo-'));
  // Ctrl-C must not leave hundreds of megabytes behind in the temp folder.
  const onInterrupt = () => {
    if (!options.keep) rmSync(folder, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);

  try {
    screen.log(style.bold('lazypool: lazy handles against eager dispatch, on real work'));
    screen.log(
      `${options.threads} threads for each pool; ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} available; Node ${process.version}`,
    );
    screen.log(`lazy pool: concurrency ${options.concurrency} (jobs handed to Piscina at once); eager pool: plain Piscina, every job posted at once`);
    screen.log(`making the ${options.size} data set in ${folder}`);
    const data = await createDataSet(folder, options.size, new Set(options.workloads), options.threads, (text) => screen.log(`  ${text}`));
    const available = workloads(data, options.backlog);

    const results: { name: WorkloadName; lazy: Measurement; eager: Measurement; jobMs: number }[] = [];
    for (const name of options.workloads) {
      const workload = available[name]!;
      screen.log();
      screen.log(style.bold(`${name}: ${workload.title}`));
      screen.log(style.dim(`  ${workload.story}`));
      const lazy = await runLazy(workload, options.threads, options.concurrency, screen);
      const eager = await runEager(workload, options.threads, screen);
      // The eager pool ran (nearly) everything back to back on every thread: its wall time per job
      // and thread is what one job costs here.
      const jobMs = (eager.totalMs * options.threads) / (eager.backlogRan + 2);
      results.push({ name, lazy, eager, jobMs });
    }

    screen.log();
    screen.log(style.bold(`Measured (${options.threads} threads, ${options.backlog} backlog jobs per workload; times from the first submission)`));
    printTable(screen, results);
    screen.log();
    screen.log(`whole run: ${seconds(performance.now() - runStarted)}${options.keep ? `; data set kept in ${folder}` : ''}`);
    return 0;
  } finally {
    process.off('SIGINT', onInterrupt);
    if (!options.keep) await rm(folder, { recursive: true, force: true });
  }
}

function withWait(totalMs: number, waitMs: number | undefined): string {
  return waitMs === undefined ? seconds(totalMs) : `${seconds(totalMs)} (${seconds(waitMs)} waiting)`;
}

function printTable(screen: Screen, results: { name: WorkloadName; lazy: Measurement; eager: Measurement; jobMs: number }[]): void {
  const rows: string[][] = [['workload', 'measure', 'lazy (lazypool)', 'eager (Piscina)', '']];
  for (const { name, lazy, eager, jobMs } of results) {
    // Said both ways: on a busy machine the lazy pool can come out behind, and the table must show it.
    const ratio = (lazyMs: number, eagerMs: number) =>
      lazyMs <= 0 || eagerMs <= 0 ? '' : lazyMs <= eagerMs ? `${(eagerMs / lazyMs).toFixed(1)}x sooner` : `${(lazyMs / eagerMs).toFixed(1)}x later`;
    rows.push(
      [name, 'one job, typically', seconds(jobMs), '', ''],
      [name, 'urgent job (promoted) done', withWait(lazy.urgentMs, lazy.urgentWaitMs), seconds(eager.urgentMs), ratio(lazy.urgentMs, eager.urgentMs)],
      [
        name,
        'important job (priority 10) done',
        withWait(lazy.importantMs, lazy.importantWaitMs),
        seconds(eager.importantMs),
        ratio(lazy.importantMs, eager.importantMs),
      ],
      [
        name,
        'cancel the rest',
        `${lazy.cancelled} jobs in ${duration(lazy.cancelMs)}, ${lazy.threadsEnded} threads ended`,
        eager.cancelled === 0 ? 'nothing left to cancel' : `${eager.cancelled} tasks in ${duration(eager.cancelMs)}, ${eager.threadsEnded} threads ended`,
        '',
      ],
      [name, 'backlog jobs that ran', `${lazy.backlogRan}`, `${eager.backlogRan}`, ''],
      [name, 'until idle', seconds(lazy.totalMs), seconds(eager.totalMs), ''],
    );
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  rows.forEach((row, index) => {
    const line = row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
    screen.log(index === 0 ? style.bold(line) : line);
  });
}

process.exitCode = await main();
