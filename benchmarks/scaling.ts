// Question 5 of issue 4: does adding threads add speed? sha256 of 1 MiB and PNG thumbnails
// (decode, resize, encode with jimp), 1 to N threads, throughput against one thread's, next to
// the ideal (N times). lazypool and raw Piscina, alternated.
import os from 'node:os';
import { Jimp } from 'jimp';
import { alternate, destroyPool, openOrSkip, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { contender } from './lib/catalog.js';
import { lineChart } from './lib/chart.js';
import type { Contender, PoolUnderTest } from './lib/contenders.js';
import { formatNumber, formatRatio, type Table } from './lib/format.js';
import { lazypool } from './lib/lazypool-contender.js';
import { medianOf, ratio } from './lib/stats.js';
import { cpuWorkload, jobsPerSecond, type Workload } from './lib/workloads.js';

const thumbnailWidth = 160;

/** A photo-sized PNG with gradients and noise, so that it neither compresses to nothing nor is pure noise. */
async function makePng(width: number, height: number): Promise<Uint8Array> {
  const image = new Jimp({ width, height, color: 0xffffffff });
  const pixels = image.bitmap.data;
  let seed = 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      const offset = (y * width + x) * 4;
      pixels[offset] = (x * 255) / width;
      pixels[offset + 1] = (y * 255) / height;
      pixels[offset + 2] = ((x + y) & 0x7f) + (seed & 0x3f);
      pixels[offset + 3] = 255;
    }
  }
  return new Uint8Array(await image.getBuffer('image/png'));
}

function thumbnailWorkload(png: Uint8Array): Workload {
  return { label: 'PNG thumbnails (jimp)', job: 'thumbnail', input: () => ({ png, width: thumbnailWidth }) };
}

/** Loads jimp in every thread before the clock starts (it is imported on a thread's first thumbnail). */
async function warmThumbnails(pool: PoolUnderTest, workload: Workload, threads: number): Promise<void> {
  const jobs: PromiseLike<unknown>[] = [];
  for (let index = 0; index < 2 * threads; index++) jobs.push(pool.submit(workload.job, workload.input(index)));
  await Promise.all(jobs);
}

interface Entry {
  readonly label: string;
  readonly contender: () => Contender;
}

const entries: readonly Entry[] = [
  { label: 'lazypool', contender: () => lazypool() },
  { label: 'piscina', contender: () => contender('piscina') },
];

export const scaling: Benchmark = {
  name: 'scaling',
  question: 'Speed-up from 1 to N threads for sha256 and PNG thumbnails, against the ideal.',
  async run(context) {
    const maxThreads = Math.max(context.threads, os.availableParallelism());
    const threadCounts = Array.from({ length: maxThreads }, (_, index) => index + 1);
    const shaJobs = context.quick ? 20 : 600;
    const thumbnailJobs = context.quick ? 4 : 40;
    // Five rounds: a speed-up divides two medians, so a burst of other work on the machine
    // during either one moves it twice as much as a plain throughput figure.
    const rounds = context.rounds ?? (context.quick ? 1 : 5);
    const png = await makePng(640, 480);
    const thumbnails = thumbnailWorkload(png);
    const workloads: [Workload, number][] = [
      [cpuWorkload, shaJobs],
      [thumbnails, thumbnailJobs],
    ];
    const samples: Sample[] = [];
    const notes: string[] = [];
    const runs = entries.flatMap((entry) => threadCounts.map((threads) => ({ entry, threads })));

    await alternate(runs, rounds, async ({ entry, threads }, round) => {
      const pool = await openOrSkip(entry.contender(), threads, notes);
      if (!pool) return;
      try {
        await warmThumbnails(pool, thumbnails, threads);
        for (const [workload, count] of workloads) {
          const value = await jobsPerSecond(pool, workload, count);
          samples.push({ contender: entry.label, case: `${workload.label}, ${threads} threads`, round, value, unit: 'jobs/s', extra: { threads } });
          context.log(`round ${round + 1}/${rounds} ${entry.label}, ${threads} threads, ${workload.label}: ${formatNumber(value)} jobs/s`);
        }
      } finally {
        await destroyPool(pool, entry.label, notes);
      }
    });

    const figure = (label: string, workload: Workload, threads: number) =>
      medianOf(samples, label, `${workload.label}, ${threads} threads`);
    const medians = entries.flatMap((entry) =>
      workloads.flatMap(([workload]) =>
        threadCounts.map((threads) => ({
          contender: entry.label,
          case: workload.label,
          threads,
          jobsPerSecond: figure(entry.label, workload, threads),
          speedUp: ratio(figure(entry.label, workload, threads), figure(entry.label, workload, 1)),
          ideal: threads,
        })),
      ),
    );
    const table: Table = {
      title: `Speed-up over one thread (median jobs/s of ${rounds} rounds; ${formatNumber(shaJobs)} sha256 jobs, ${formatNumber(thumbnailJobs)} thumbnails of a 640x480 PNG)`,
      columns: ['contender', 'job', ...threadCounts.flatMap((threads) => [`${threads} thr jobs/s`, 'speed-up'])],
      rows: entries.flatMap((entry) =>
        workloads.map(([workload]) => [
          entry.label,
          workload.label,
          ...threadCounts.flatMap((threads) => [
            formatNumber(figure(entry.label, workload, threads)),
            `${formatRatio(ratio(figure(entry.label, workload, threads), figure(entry.label, workload, 1)))} of ${threads}x`,
          ]),
        ]),
      ),
    };
    const twoThreads = Math.min(2, maxThreads);
    const shaSpeedUp = ratio(figure('lazypool', cpuWorkload, twoThreads), figure('lazypool', cpuWorkload, 1));
    const targets: Target[] = [
      {
        target: `lazypool sha256 speed-up on ${twoThreads} threads >= 1.8x`,
        measured: formatRatio(shaSpeedUp),
        met: shaSpeedUp >= 1.8,
      },
    ];
    return {
      settings: { threadCounts, shaJobs, thumbnailJobs, rounds, png: { width: 640, height: 480, bytes: png.byteLength }, thumbnailWidth },
      samples,
      medians,
      tables: [table],
      targets,
      notes: [
        ...notes,
        `The main thread shares the ${os.availableParallelism()} CPUs with the workers: on a machine with as many CPUs as threads, the ideal is out of reach by the main thread's share.`,
      ],
      chart: lineChart({
        title: 'Speed-up over one thread (dashed: ideal)',
        rows: medians,
        x: 'threads',
        xTitle: 'threads',
        y: 'speedUp',
        yTitle: 'speed-up over one thread',
        series: 'contender',
        panel: 'case',
        reference: { field: 'ideal', label: 'ideal' },
      }),
    };
  },
};
