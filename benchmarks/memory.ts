// Question 2 of issue 4: what does a job cost while it waits? Each measure runs in a fresh
// child process with --expose-gc: every thread is held by a gate job (so nothing submitted
// after it can run), the heap is collected, N tiny jobs are submitted and kept, the heap is
// collected again, and the difference is divided by N. RSS is read alongside: it also counts
// memory outside the JavaScript heap (a job posted to a busy worker waits in its message port).
import { type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { type ContenderKey, contender } from './lib/catalog.js';
import { barChart } from './lib/chart.js';
import { runInChild, settleHeap } from './lib/child.js';
import { holdEveryThread } from './lib/contenders.js';
import { formatBytes, formatNumber, formatRatio, type Table } from './lib/format.js';
import { median, ratio } from './lib/stats.js';

export interface WaitingJobsArgument {
  readonly key: ContenderKey;
  readonly jobs: number;
  readonly threads: number;
}

export interface WaitingJobsResult {
  readonly heapBytesPerJob: number;
  readonly rssBytesPerJob: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  /** How long submitting the N jobs took, in ms (the main thread's cost of a waiting job). */
  readonly submitMs: number;
}

/** Runs in the child process (see lib/child.ts): measures `jobs` waiting tiny jobs. */
export async function measureWaitingJobs(argument: WaitingJobsArgument): Promise<WaitingJobsResult> {
  const pool = await contender(argument.key).open(argument.threads);
  await holdEveryThread(pool, argument.threads);
  // Allocated before the first reading: the user's references to the jobs are not the pool's cost.
  const kept: unknown[] = new Array(argument.jobs).fill(0);
  const heapBefore = settleHeap();
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  for (let index = 0; index < argument.jobs; index++) kept[index] = pool.submit('tiny', index);
  const submitMs = performance.now() - started;
  const heapAfter = settleHeap();
  const rssAfter = process.memoryUsage().rss;
  if (kept.length !== argument.jobs) throw new Error('the kept jobs were lost'); // keeps `kept` alive to here
  // No clean-up: the child process exits after replying, threads and waiting jobs with it.
  return {
    heapBytesPerJob: (heapAfter - heapBefore) / argument.jobs,
    rssBytesPerJob: (rssAfter - rssBefore) / argument.jobs,
    heapBefore,
    heapAfter,
    rssBefore,
    rssAfter,
    submitMs,
  };
}

interface Entry {
  readonly label: string;
  readonly key: ContenderKey;
  /** Measured at the largest size too. A million waiting jobs takes a peer up to half a minute to
   *  submit, and bytes per job barely move from 100,000 to 1,000,000 (see the JSON), so the
   *  million is measured where the target is: lazypool against Piscina. */
  readonly largest?: boolean;
}

/** The contenders, in the order of the table; memory needs no alternation (one clean process each). */
export const memoryEntries: readonly Entry[] = [
  { label: 'lazypool', key: 'lazypool', largest: true },
  { label: 'piscina', key: 'piscina', largest: true },
  { label: 'p-queue + piscina', key: 'p-queue' },
  { label: 'tinypool', key: 'tinypool' },
  { label: 'workerpool', key: 'workerpool' },
  // Round-robin so that the gates take both threads (see contenders.ts); the choice of worker
  // does not change what a waiting job costs.
  { label: 'poolifier', key: 'poolifier-round-robin' },
];

/** Measures `entries` at each size, in child processes; one sample per entry, size and round. */
export async function measureWaitingMemory(
  entries: readonly Entry[],
  sizes: readonly number[],
  rounds: number,
  threads: number,
  log: (line: string) => void,
  notes: string[],
): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const jobs of sizes) {
      for (const entry of entries) {
        if (jobs === Math.max(...sizes) && sizes.length > 1 && !entry.largest) continue;
        try {
          const result = await runInChild<WaitingJobsResult>(import.meta.url, 'measureWaitingJobs', {
            key: entry.key,
            jobs,
            threads,
          } satisfies WaitingJobsArgument);
          samples.push({
            contender: entry.label,
            case: String(jobs),
            round,
            value: result.heapBytesPerJob,
            unit: 'heap bytes per waiting job',
            extra: { ...result },
          });
          log(
            `${entry.label}, ${formatNumber(jobs)} waiting: ${formatNumber(result.heapBytesPerJob)} B heap, ` +
              `${formatNumber(result.rssBytesPerJob)} B RSS per job (submitted in ${formatNumber(result.submitMs)} ms)`,
          );
        } catch (error) {
          const note = `${entry.label} at ${formatNumber(jobs)} waiting jobs: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
          notes.push(note);
          log(note);
        }
      }
    }
  }
  return samples;
}

export const memory: Benchmark = {
  name: 'memory',
  question: 'Heap and RSS bytes per waiting job, with 100,000 and 1,000,000 jobs waiting.',
  async run(context) {
    const sizes = context.quick ? [10_000] : [100_000, 1_000_000];
    const rounds = context.rounds ?? 1;
    const notes: string[] = [];
    const samples = await measureWaitingMemory(memoryEntries, sizes, rounds, context.threads, context.log, notes);

    const figure = (label: string, jobs: number, field: 'heapBytesPerJob' | 'rssBytesPerJob' | 'submitMs') =>
      median(
        samples
          .filter((sample) => sample.contender === label && sample.case === String(jobs))
          .map((sample) => sample.extra?.[field] ?? Number.NaN),
      );
    const medians = memoryEntries.flatMap((entry) =>
      sizes.map((jobs) => ({
        contender: entry.label,
        waitingJobs: jobs,
        heapBytesPerJob: figure(entry.label, jobs, 'heapBytesPerJob'),
        rssBytesPerJob: figure(entry.label, jobs, 'rssBytesPerJob'),
        submitMs: figure(entry.label, jobs, 'submitMs'),
        heapVsPiscina: ratio(figure(entry.label, jobs, 'heapBytesPerJob'), figure('piscina', jobs, 'heapBytesPerJob')),
      })),
    );

    const table: Table = {
      title: `Bytes per waiting tiny job (every thread held; ${rounds === 1 ? 'one clean process each' : `median of ${rounds}`})`,
      columns: [
        'contender',
        ...sizes.flatMap((jobs) => [
          `heap @${formatNumber(jobs)}`,
          'vs piscina',
          `RSS @${formatNumber(jobs)}`,
          'submit µs/job',
        ]),
      ],
      rows: memoryEntries.map((entry) => [
        entry.label,
        ...sizes.flatMap((jobs) => [
          formatBytes(figure(entry.label, jobs, 'heapBytesPerJob')),
          formatRatio(ratio(figure(entry.label, jobs, 'heapBytesPerJob'), figure('piscina', jobs, 'heapBytesPerJob'))),
          formatBytes(figure(entry.label, jobs, 'rssBytesPerJob')),
          formatNumber((figure(entry.label, jobs, 'submitMs') * 1000) / jobs),
        ]),
      ]),
    };

    const targets: Target[] = sizes.map((jobs) => {
      const share = ratio(figure('lazypool', jobs, 'heapBytesPerJob'), figure('piscina', jobs, 'heapBytesPerJob'));
      return {
        target: `heap per waiting job <= 0.4x Piscina's, ${formatNumber(jobs)} waiting`,
        measured: `${formatBytes(figure('lazypool', jobs, 'heapBytesPerJob'))} vs ${formatBytes(figure('piscina', jobs, 'heapBytesPerJob'))} = ${formatRatio(share)}`,
        met: share <= 0.4,
      };
    });

    const chartRows = medians.flatMap((row) => [
      { contender: row.contender, panel: `heap, ${formatNumber(row.waitingJobs)} waiting`, bytes: row.heapBytesPerJob },
      { contender: row.contender, panel: `RSS, ${formatNumber(row.waitingJobs)} waiting`, bytes: row.rssBytesPerJob },
    ]);
    return {
      settings: { sizes, rounds, threads: context.threads, job: 'tiny (input: its index)' },
      samples,
      medians,
      tables: [table],
      targets,
      notes: [
        ...notes,
        'poolifier posts every job to a worker at once: its waiting jobs sit in the workers\' message ports, outside the main heap, so compare its RSS.',
        ...(sizes.length > 1
          ? [`Only lazypool and Piscina are measured with ${formatNumber(Math.max(...sizes))} waiting jobs (the target's pair; a peer takes up to half a minute to submit a million, and bytes per job hardly change with the count).`]
          : []),
      ],
      chart: barChart({
        title: 'Bytes per waiting job (lower is better)',
        rows: chartRows,
        bar: 'contender',
        value: 'bytes',
        valueTitle: 'bytes per waiting job',
        panel: 'panel',
        independentScales: true,
      }),
    };
  },
};
