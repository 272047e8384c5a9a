// Question 1 of issue 4: how many jobs per second does each pool get through, for tiny jobs
// (where the pool's own overhead is everything) and for CPU jobs (where it should vanish)?
// Every contender gets a fresh pool per round, warm before the clock starts; rounds alternate
// contenders, and the table shows medians.
import { alternate, destroyPool, openOrSkip, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { contender } from './lib/catalog.js';
import { barChart } from './lib/chart.js';
import type { Contender } from './lib/contenders.js';
import { formatNumber, formatRatio, type Table } from './lib/format.js';
import { lazypool } from './lib/lazypool-contender.js';
import { medianOf, ratio } from './lib/stats.js';
import { cpuWorkload, jobsPerSecond, tinyWorkload, type Workload } from './lib/workloads.js';

/** Tiny jobs per message for the batching rows: enough to amortise a message, few enough to balance. */
const perMessage = 16;

interface Entry {
  readonly label: string;
  readonly contender: () => Contender;
  /** Jobs per message: 1 for every pool as it is, `perMessage` for the "what would batching gain" rows. */
  readonly perMessage: number;
}

const entries: readonly Entry[] = [
  { label: 'lazypool', contender: () => lazypool(), perMessage: 1 },
  { label: 'piscina', contender: () => contender('piscina'), perMessage: 1 },
  { label: 'p-queue + piscina', contender: () => contender('p-queue'), perMessage: 1 },
  { label: 'tinypool', contender: () => contender('tinypool'), perMessage: 1 },
  { label: 'workerpool', contender: () => contender('workerpool'), perMessage: 1 },
  { label: 'poolifier', contender: () => contender('poolifier'), perMessage: 1 },
  { label: `lazypool, ${perMessage} per message`, contender: () => lazypool(), perMessage },
  { label: `piscina, ${perMessage} per message`, contender: () => contender('piscina'), perMessage },
];

export const throughput: Benchmark = {
  name: 'throughput',
  question: 'Jobs per second for tiny jobs and for CPU jobs (sha256 of 1 MiB), every pool on the same threads.',
  async run(context) {
    // Issue 4 asks for 100,000; at the slower peers' 9,000 jobs/s that alone is a third of the
    // ten-minute budget over three rounds. 50,000 keeps every eager queue long (the jobs/s of a
    // run hardly moves between the two sizes) and the whole suite, soak included, in budget.
    const tinyJobs = context.quick ? 2_000 : 50_000;
    const cpuJobs = context.quick ? 40 : 2_000;
    const rounds = context.rounds ?? (context.quick ? 1 : 3);
    const samples: Sample[] = [];
    const notes: string[] = [];

    await alternate(entries, rounds, async (entry, round) => {
      const pool = await openOrSkip(entry.contender(), context.threads, notes);
      if (!pool) return;
      try {
        const workloads: [Workload, number][] = [[tinyWorkload, tinyJobs]];
        if (entry.perMessage === 1) workloads.push([cpuWorkload, cpuJobs]);
        for (const [workload, count] of workloads) {
          const value = await jobsPerSecond(pool, workload, count, entry.perMessage);
          samples.push({ contender: entry.label, case: workload.label, round, value, unit: 'jobs/s' });
          context.log(`round ${round + 1}/${rounds} ${entry.label}, ${workload.label}: ${formatNumber(value)} jobs/s`);
        }
      } finally {
        await destroyPool(pool, entry.label, notes);
      }
    });

    const figure = (label: string, workload: Workload) =>
      medianOf(samples, label, workload.label);
    const medians = entries.flatMap((entry) =>
      [tinyWorkload, cpuWorkload]
        .filter((workload) => entry.perMessage === 1 || workload === tinyWorkload)
        .map((workload) => ({
          contender: entry.label,
          case: workload.label,
          jobsPerSecond: figure(entry.label, workload),
          vsPiscina: ratio(figure(entry.label, workload), figure('piscina', workload)),
        })),
    );

    const table: Table = {
      title: `Jobs per second, median of ${rounds} rounds (${formatNumber(tinyJobs)} tiny jobs, ${formatNumber(cpuJobs)} CPU jobs, ${context.threads} threads)`,
      columns: ['contender', 'tiny jobs/s', 'vs piscina', 'CPU jobs/s', 'vs piscina'],
      rows: entries.map((entry) => {
        const tiny = figure(entry.label, tinyWorkload);
        const cpu = entry.perMessage === 1 ? figure(entry.label, cpuWorkload) : Number.NaN;
        return [
          entry.label,
          formatNumber(tiny),
          formatRatio(ratio(tiny, figure('piscina', tinyWorkload))),
          formatNumber(cpu),
          formatRatio(ratio(cpu, figure('piscina', cpuWorkload))),
        ];
      }),
    };

    const lazyTiny = figure('lazypool', tinyWorkload);
    const lazyCpu = figure('lazypool', cpuWorkload);
    const targets: Target[] = [
      {
        target: 'tiny-job throughput >= 1.2x raw Piscina',
        measured: `${formatNumber(lazyTiny)} vs ${formatNumber(figure('piscina', tinyWorkload))} jobs/s = ${formatRatio(ratio(lazyTiny, figure('piscina', tinyWorkload)))}`,
        met: ratio(lazyTiny, figure('piscina', tinyWorkload)) >= 1.2,
      },
      {
        target: 'CPU-job throughput >= 1.0x raw Piscina',
        measured: `${formatNumber(lazyCpu)} vs ${formatNumber(figure('piscina', cpuWorkload))} jobs/s = ${formatRatio(ratio(lazyCpu, figure('piscina', cpuWorkload)))}`,
        met: ratio(lazyCpu, figure('piscina', cpuWorkload)) >= 1.0,
      },
    ];
    notes.push(
      `lazypool reaches ${formatRatio(ratio(lazyTiny, figure('poolifier', tinyWorkload)))} of poolifier's tiny-job rate; ` +
        `${perMessage} tiny jobs per message would take lazypool to ${formatNumber(figure(`lazypool, ${perMessage} per message`, tinyWorkload))} jobs/s ` +
        `(${formatRatio(ratio(figure(`lazypool, ${perMessage} per message`, tinyWorkload), lazyTiny))}).`,
    );

    return {
      settings: { tinyJobs, cpuJobs, rounds, threads: context.threads, perMessage, cpuJobBytes: 1 << 20 },
      samples,
      medians,
      tables: [table],
      targets,
      notes,
      chart: barChart({
        title: `Throughput, ${context.threads} threads (median jobs/s; higher is better)`,
        rows: medians,
        bar: 'contender',
        value: 'jobsPerSecond',
        valueTitle: 'jobs per second',
        panel: 'case',
        independentScales: true,
      }),
    };
  },
};
