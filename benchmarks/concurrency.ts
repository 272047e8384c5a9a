// Question 7 of issue 4: what does lazy dispatch cost as `concurrency` (the jobs handed to
// Piscina at once) goes from 1 to 4x the threads? With too few slots a thread that finishes
// waits for the main thread's next turn; with many, lazypool approaches eager Piscina. The
// default (twice the threads) should sit on the plateau.
import { alternate, destroyPool, openOrSkip, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { contender } from './lib/catalog.js';
import { lineChart } from './lib/chart.js';
import type { Contender } from './lib/contenders.js';
import { formatNumber, formatRatio, type Table } from './lib/format.js';
import { lazypool } from './lib/lazypool-contender.js';
import { medianOf, ratio } from './lib/stats.js';
import { cpuWorkload, jobsPerSecond, tinyWorkload, type Workload } from './lib/workloads.js';

interface Entry {
  readonly label: string;
  /** The concurrency, or undefined for eager Piscina (the reference line). */
  readonly concurrency: number | undefined;
  readonly contender: () => Contender;
}

/** 1, then multiples of the thread count up to 4x (1, 2, 4, 6, 8 for two threads). */
function concurrencies(threads: number): number[] {
  const values = [1, threads, 2 * threads, 3 * threads, 4 * threads];
  return [...new Set(values)].sort((a, b) => a - b);
}

export const concurrency: Benchmark = {
  name: 'concurrency',
  question: 'Throughput as lazypool concurrency goes from 1 to 4x the threads, tiny and CPU jobs, against eager Piscina.',
  async run(context) {
    const tinyJobs = context.quick ? 1_000 : 10_000;
    const cpuJobs = context.quick ? 20 : 250;
    const rounds = context.rounds ?? (context.quick ? 1 : 3);
    const defaultConcurrency = 2 * context.threads;
    const entries: Entry[] = [
      ...concurrencies(context.threads).map((value) => ({
        label: `lazypool, concurrency ${value}`,
        concurrency: value,
        contender: () => lazypool({ name: `lazypool, concurrency ${value}`, concurrency: () => value }),
      })),
      { label: 'piscina (eager)', concurrency: undefined, contender: () => contender('piscina') },
    ];
    const workloads: [Workload, number][] = [
      [tinyWorkload, tinyJobs],
      [cpuWorkload, cpuJobs],
    ];
    const samples: Sample[] = [];
    const notes: string[] = [];

    await alternate(entries, rounds, async (entry, round) => {
      const pool = await openOrSkip(entry.contender(), context.threads, notes);
      if (!pool) return;
      try {
        for (const [workload, count] of workloads) {
          const value = await jobsPerSecond(pool, workload, count);
          samples.push({
            contender: entry.label,
            case: workload.label,
            round,
            value,
            unit: 'jobs/s',
            ...(entry.concurrency !== undefined ? { extra: { concurrency: entry.concurrency } } : {}),
          });
          context.log(`round ${round + 1}/${rounds} ${entry.label}, ${workload.label}: ${formatNumber(value)} jobs/s`);
        }
      } finally {
        await destroyPool(pool, entry.label, notes);
      }
    });

    const figure = (label: string, workload: Workload) =>
      medianOf(samples, label, workload.label);
    const medians = entries.flatMap((entry) =>
      workloads.map(([workload]) => ({
        contender: entry.label,
        concurrency: entry.concurrency ?? null,
        case: workload.label,
        jobsPerSecond: figure(entry.label, workload),
        vsPiscina: ratio(figure(entry.label, workload), figure('piscina (eager)', workload)),
      })),
    );

    const table: Table = {
      title: `Jobs per second by concurrency, ${context.threads} threads (median of ${rounds}; ${formatNumber(tinyJobs)} tiny, ${formatNumber(cpuJobs)} CPU jobs)`,
      columns: ['contender', 'tiny jobs/s', 'vs piscina', 'CPU jobs/s', 'vs piscina'],
      rows: entries.map((entry) => [
        entry.concurrency === defaultConcurrency ? `${entry.label} (default)` : entry.label,
        ...workloads.flatMap(([workload]) => [
          formatNumber(figure(entry.label, workload)),
          formatRatio(ratio(figure(entry.label, workload), figure('piscina (eager)', workload))),
        ]),
      ]),
    };

    // The default is justified if no other concurrency beats it by more than the noise (5%).
    const lazyEntries = entries.filter((entry) => entry.concurrency !== undefined);
    const targets: Target[] = workloads.map(([workload]) => {
      const atDefault = figure(`lazypool, concurrency ${defaultConcurrency}`, workload);
      const best = lazyEntries.reduce((top, entry) => (figure(entry.label, workload) > figure(top.label, workload) ? entry : top));
      const shortfall = ratio(atDefault, figure(best.label, workload));
      return {
        target: `default concurrency (${defaultConcurrency}) within 5% of the best concurrency, ${workload.label}`,
        measured: `${formatNumber(atDefault)} jobs/s; best ${best.concurrency} at ${formatNumber(figure(best.label, workload))} (${formatRatio(shortfall)})`,
        met: shortfall >= 0.95,
      };
    });

    const chartRows = workloads.flatMap(([workload]) =>
      lazyEntries.map((entry) => ({
        case: workload.label,
        concurrency: entry.concurrency,
        series: 'lazypool',
        jobsPerSecond: figure(entry.label, workload),
        piscina: figure('piscina (eager)', workload),
      })),
    );
    return {
      settings: { tinyJobs, cpuJobs, rounds, threads: context.threads, concurrencies: concurrencies(context.threads) },
      samples,
      medians,
      tables: [table],
      targets,
      notes,
      chart: lineChart({
        title: `Throughput by concurrency, ${context.threads} threads (dashed: eager Piscina)`,
        rows: chartRows,
        x: 'concurrency',
        xTitle: 'concurrency (jobs handed to Piscina at once)',
        y: 'jobsPerSecond',
        yTitle: 'jobs per second',
        series: 'series',
        panel: 'case',
        independentY: true,
        reference: { field: 'piscina', label: 'piscina (eager)' },
      }),
    };
  },
};
