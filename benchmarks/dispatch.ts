// The performance floor of issue 2: lazy dispatch must cost nothing a user can see. lazypool
// against raw Piscina on the same threads: tiny-job throughput, and heap bytes per waiting job.
import { alternate, destroyPool, openOrSkip, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { contender } from './lib/catalog.js';
import { barChart } from './lib/chart.js';
import { formatBytes, formatNumber, formatRatio, type Table } from './lib/format.js';
import { medianOf, ratio } from './lib/stats.js';
import { jobsPerSecond, tinyWorkload } from './lib/workloads.js';
import { measureWaitingMemory } from './memory.js';

const entries = [
  { label: 'lazypool', key: 'lazypool' },
  { label: 'piscina', key: 'piscina' },
] as const;

const heapTargetBytes = 350;

export const dispatch: Benchmark = {
  name: 'dispatch',
  question: 'The floor of issue 2: lazypool against raw Piscina, tiny-job throughput and heap per waiting job.',
  async run(context) {
    const jobs = context.quick ? 2_000 : 20_000;
    const waiting = context.quick ? 10_000 : 100_000;
    const rounds = context.rounds ?? (context.quick ? 1 : 5);
    const notes: string[] = [];
    const samples: Sample[] = [];

    await alternate(entries, rounds, async (entry, round) => {
      const pool = await openOrSkip(contender(entry.key), context.threads, notes);
      if (!pool) return;
      try {
        const value = await jobsPerSecond(pool, tinyWorkload, jobs);
        samples.push({ contender: entry.label, case: 'tiny jobs/s', round, value, unit: 'jobs/s' });
        context.log(`round ${round + 1}/${rounds} ${entry.label}: ${formatNumber(value)} jobs/s`);
      } finally {
        await destroyPool(pool, entry.label, notes);
      }
    });
    const memorySamples = await measureWaitingMemory(entries, [waiting], 1, context.threads, context.log, notes);
    samples.push(...memorySamples.map((sample) => ({ ...sample, case: 'heap bytes per waiting job' })));

    const figure = (label: string, caseName: string) =>
      medianOf(samples, label, caseName);
    const medians = entries.map((entry) => ({
      contender: entry.label,
      jobsPerSecond: figure(entry.label, 'tiny jobs/s'),
      heapBytesPerWaitingJob: figure(entry.label, 'heap bytes per waiting job'),
    }));
    const throughputRatio = ratio(figure('lazypool', 'tiny jobs/s'), figure('piscina', 'tiny jobs/s'));
    const lazyHeap = figure('lazypool', 'heap bytes per waiting job');

    const table: Table = {
      title: `lazypool against raw Piscina (${formatNumber(jobs)} tiny jobs, median of ${rounds} rounds; ${formatNumber(waiting)} waiting jobs)`,
      columns: ['contender', 'tiny jobs/s', 'vs piscina', 'heap per waiting job', 'vs piscina'],
      rows: medians.map((row) => [
        row.contender,
        formatNumber(row.jobsPerSecond),
        formatRatio(ratio(row.jobsPerSecond, figure('piscina', 'tiny jobs/s'))),
        formatBytes(row.heapBytesPerWaitingJob),
        formatRatio(ratio(row.heapBytesPerWaitingJob, figure('piscina', 'heap bytes per waiting job'))),
      ]),
    };
    const targets: Target[] = [
      {
        target: 'tiny-job throughput >= 1.0x Piscina eager',
        measured: formatRatio(throughputRatio),
        met: throughputRatio >= 1.0,
      },
      {
        target: `heap per waiting job <= ${heapTargetBytes} B`,
        measured: formatBytes(lazyHeap),
        met: lazyHeap <= heapTargetBytes,
      },
    ];
    const chartRows = medians.flatMap((row) => [
      { contender: row.contender, panel: `tiny jobs per second (${formatNumber(jobs)} jobs)`, value: row.jobsPerSecond },
      { contender: row.contender, panel: `heap bytes per waiting job (${formatNumber(waiting)} waiting)`, value: row.heapBytesPerWaitingJob },
    ]);
    return {
      settings: { jobs, waiting, rounds, threads: context.threads },
      samples,
      medians,
      tables: [table],
      targets,
      notes,
      chart: barChart({
        title: 'Lazy dispatch against eager Piscina',
        rows: chartRows,
        bar: 'contender',
        value: 'value',
        valueTitle: '',
        panel: 'panel',
        independentScales: true,
      }),
    };
  },
};
