// Question 7 of issue 4: what does lazy dispatch cost as `concurrency` (the jobs handed to the
// threads at once) goes from 1 to 16x the threads? With too few slots a thread that finishes
// waits for the main thread's next turn; with more, brief jobs travel several to a message. The
// default (twice the threads, eight times while jobs are brief) should sit on the plateau of each
// workload: it is measured as its own entry, with the concurrency it settled on.
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
  /** The concurrency given; undefined for lazypool's default and for eager Piscina. */
  readonly concurrency: number | undefined;
  readonly contender: () => Contender;
}

const defaultLabel = 'lazypool, default concurrency';
const piscinaLabel = 'piscina (eager)';

/** 1, then the thread count times 1, 2, 4, 8, 16 (1, 2, 4, 8, 16, 32 for two threads). */
function concurrencies(threads: number): number[] {
  const values = [1, threads, 2 * threads, 4 * threads, 8 * threads, 16 * threads];
  return [...new Set(values)].sort((a, b) => a - b);
}

export const concurrency: Benchmark = {
  name: 'concurrency',
  question: 'Throughput as lazypool concurrency goes from 1 to 16x the threads, and at its default, tiny and CPU jobs, against eager Piscina.',
  async run(context) {
    const tinyJobs = context.quick ? 1_000 : 10_000;
    const cpuJobs = context.quick ? 20 : 250;
    const rounds = context.rounds ?? (context.quick ? 1 : 3);
    const entries: Entry[] = [
      ...concurrencies(context.threads).map((value) => ({
        label: `lazypool, concurrency ${value}`,
        concurrency: value,
        contender: () => lazypool({ name: `lazypool, concurrency ${value}`, concurrency: () => value }),
      })),
      { label: defaultLabel, concurrency: undefined, contender: () => lazypool({ name: defaultLabel }) },
      { label: piscinaLabel, concurrency: undefined, contender: () => contender('piscina') },
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
          // What the default settled on, at the end of the run.
          const settled = entry.concurrency ?? pool.concurrency?.();
          samples.push({
            contender: entry.label,
            case: workload.label,
            round,
            value,
            unit: 'jobs/s',
            ...(settled !== undefined ? { extra: { concurrency: settled } } : {}),
          });
          context.log(`round ${round + 1}/${rounds} ${entry.label}, ${workload.label}: ${formatNumber(value)} jobs/s`);
        }
      } finally {
        await destroyPool(pool, entry.label, notes);
      }
    });

    const figure = (label: string, workload: Workload) =>
      medianOf(samples, label, workload.label);
    /** The concurrency the default settled on for a workload (the most frequent across rounds). */
    const settledDefault = (workload: Workload): number | undefined => {
      const values = samples
        .filter((sample) => sample.contender === defaultLabel && sample.case === workload.label)
        .map((sample) => (sample.extra as { concurrency?: number } | undefined)?.concurrency)
        .filter((value): value is number => value !== undefined);
      const counts = new Map<number, number>();
      for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
      return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    };
    const medians = entries.flatMap((entry) =>
      workloads.map(([workload]) => ({
        contender: entry.label,
        concurrency: entry.concurrency ?? (entry.label === defaultLabel ? settledDefault(workload) ?? null : null),
        case: workload.label,
        jobsPerSecond: figure(entry.label, workload),
        vsPiscina: ratio(figure(entry.label, workload), figure(piscinaLabel, workload)),
      })),
    );

    const table: Table = {
      title: `Jobs per second by concurrency, ${context.threads} threads (median of ${rounds}; ${formatNumber(tinyJobs)} tiny, ${formatNumber(cpuJobs)} CPU jobs)`,
      columns: ['contender', 'tiny jobs/s', 'vs piscina', 'CPU jobs/s', 'vs piscina'],
      rows: entries.map((entry) => [
        entry.label === defaultLabel
          ? `${entry.label} (${workloads.map(([workload]) => `${settledDefault(workload) ?? '?'} ${workload.label.split(' ')[0]}`).join(', ')})`
          : entry.label,
        ...workloads.flatMap(([workload]) => [
          formatNumber(figure(entry.label, workload)),
          formatRatio(ratio(figure(entry.label, workload), figure(piscinaLabel, workload))),
        ]),
      ]),
    };

    // The default is justified if no concurrency given by hand beats it by more than the noise (5%).
    const lazyEntries = entries.filter((entry) => entry.concurrency !== undefined);
    const targets: Target[] = workloads.map(([workload]) => {
      const atDefault = figure(defaultLabel, workload);
      const best = lazyEntries.reduce((top, entry) => (figure(entry.label, workload) > figure(top.label, workload) ? entry : top));
      const shortfall = ratio(atDefault, figure(best.label, workload));
      return {
        target: `default concurrency within 5% of the best concurrency given, ${workload.label}`,
        measured: `${formatNumber(atDefault)} jobs/s at ${settledDefault(workload) ?? '?'}; best ${best.concurrency} at ${formatNumber(figure(best.label, workload))} (${formatRatio(shortfall)})`,
        met: shortfall >= 0.95,
      };
    });

    const chartRows = workloads.flatMap(([workload]) => [
      ...lazyEntries.map((entry) => ({
        case: workload.label,
        concurrency: entry.concurrency,
        series: 'lazypool, concurrency given',
        jobsPerSecond: figure(entry.label, workload),
        piscina: figure(piscinaLabel, workload),
      })),
      {
        case: workload.label,
        concurrency: settledDefault(workload),
        series: 'lazypool, default (where it settled)',
        jobsPerSecond: figure(defaultLabel, workload),
        piscina: figure(piscinaLabel, workload),
      },
    ]);
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
