// Question 6 of issue 4: a million inputs. `pool.map` pulls inputs only as slots free up, so
// results flow at once and memory stays flat; `Promise.all` over eager submissions queues every
// job first and hands over results only at the end. Time to first result, total time, peak RSS
// and heap, each run in its own child process (peak RSS never goes down within a process).
import { type Benchmark, type Sample } from './lib/benchmark.js';
import { type ContenderKey, contender } from './lib/catalog.js';
import { barChart } from './lib/chart.js';
import { runInChild } from './lib/child.js';
import { formatBytes, formatMs, formatNumber, type Table } from './lib/format.js';

type Mode = 'map' | 'promise-all';

interface Entry {
  readonly label: string;
  readonly key: ContenderKey;
  readonly mode: Mode;
}

/**
 * The same pool either way, so the difference is map against eager submission alone. Raw
 * Piscina's Promise.all (key 'piscina', mode 'promise-all') fits here too, but a million tiny
 * jobs cost most of a minute per contender, more than the ten-minute budget leaves.
 */
const entries: readonly Entry[] = [
  { label: 'lazypool pool.map', key: 'lazypool', mode: 'map' },
  { label: 'lazypool Promise.all', key: 'lazypool', mode: 'promise-all' },
];

export interface StreamArgument {
  readonly key: ContenderKey;
  readonly mode: Mode;
  readonly inputs: number;
  readonly threads: number;
}

export interface StreamResult {
  /** ms until the first result is in the caller's hands (for Promise.all: when it resolves). */
  readonly firstResultMs: number;
  /** ms until the first job settled, whether or not the caller can see it yet. */
  readonly firstJobDoneMs: number;
  readonly totalMs: number;
  readonly results: number;
  readonly peakRssBytes: number;
  readonly rssBeforeBytes: number;
  readonly peakHeapBytes: number;
}

function* numbers(count: number): Generator<number> {
  for (let index = 0; index < count; index++) yield index;
}

/** Runs in the child process (see lib/child.ts): one streaming run of `inputs` tiny jobs. */
export async function measureStream(argument: StreamArgument): Promise<StreamResult> {
  let peakHeapBytes = 0;
  const sampleHeap = () => {
    peakHeapBytes = Math.max(peakHeapBytes, process.memoryUsage().heapUsed);
  };
  const rssBeforeBytes = process.memoryUsage().rss;
  let firstResultMs = Number.NaN;
  let firstJobDoneMs = Number.NaN;
  let results = 0;
  let started = 0;
  let heapSampler: NodeJS.Timeout | undefined;

  const pool = await contender(argument.key).open(argument.threads);
  if (argument.mode === 'map') {
    if (!pool.stream) throw new Error(`${argument.key} has no map`);
    heapSampler = setInterval(sampleHeap, 50);
    started = performance.now();
    for await (const result of pool.stream('tiny', numbers(argument.inputs))) {
      if (results === 0) firstResultMs = firstJobDoneMs = performance.now() - started;
      results += result === results ? 1 : Number.NaN;
    }
  } else {
    heapSampler = setInterval(sampleHeap, 50);
    started = performance.now();
    const pending: PromiseLike<unknown>[] = [];
    for (const input of numbers(argument.inputs)) pending.push(pool.submit('tiny', input));
    pending[0]?.then(() => (firstJobDoneMs = performance.now() - started));
    const values = await Promise.all(pending);
    firstResultMs = performance.now() - started;
    results = values.length;
  }
  const totalMs = performance.now() - started;
  clearInterval(heapSampler);
  sampleHeap();
  if (results !== argument.inputs) throw new Error(`expected ${argument.inputs} results in order, got ${results}`);
  // No clean-up: the child process exits after replying.
  return {
    firstResultMs,
    firstJobDoneMs,
    totalMs,
    results,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    rssBeforeBytes,
    peakHeapBytes,
  };
}

export const streaming: Benchmark = {
  name: 'streaming',
  question: 'pool.map over 1,000,000 inputs against Promise.all of eager submissions: first result, total time, peak RSS.',
  async run(context) {
    const inputs = context.quick ? 20_000 : 1_000_000;
    const rounds = context.rounds ?? 1;
    const samples: Sample[] = [];
    const notes: string[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const entry of entries) {
        try {
          const result = await runInChild<StreamResult>(import.meta.url, 'measureStream', {
            key: entry.key,
            mode: entry.mode,
            inputs,
            threads: context.threads,
          } satisfies StreamArgument);
          samples.push({ contender: entry.label, case: String(inputs), round, value: result.totalMs, unit: 'ms total', extra: { ...result } });
          context.log(
            `${entry.label}: first result ${formatMs(result.firstResultMs)}, total ${formatMs(result.totalMs)}, ` +
              `peak RSS ${formatBytes(result.peakRssBytes)}, peak heap ${formatBytes(result.peakHeapBytes)}`,
          );
        } catch (error) {
          const note = `${entry.label}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
          notes.push(note);
          context.log(note);
        }
      }
    }

    const figure = (label: string, field: keyof StreamResult) =>
      samples.filter((s) => s.contender === label).map((s) => s.extra?.[field] ?? Number.NaN)[0] ?? Number.NaN;
    const medians = entries.map((entry) => ({
      contender: entry.label,
      inputs,
      firstResultMs: figure(entry.label, 'firstResultMs'),
      firstJobDoneMs: figure(entry.label, 'firstJobDoneMs'),
      totalMs: figure(entry.label, 'totalMs'),
      jobsPerSecond: (inputs / figure(entry.label, 'totalMs')) * 1000,
      peakRssBytes: figure(entry.label, 'peakRssBytes'),
      peakHeapBytes: figure(entry.label, 'peakHeapBytes'),
    }));
    const table: Table = {
      title: `${formatNumber(inputs)} tiny jobs, ${context.threads} threads (one clean process each${rounds > 1 ? `, first of ${rounds} rounds` : ''})`,
      columns: ['contender', 'first result', 'first job done', 'total', 'jobs/s', 'peak RSS', 'peak heap'],
      rows: medians.map((row) => [
        row.contender,
        formatMs(row.firstResultMs),
        formatMs(row.firstJobDoneMs),
        formatMs(row.totalMs),
        formatNumber(row.jobsPerSecond),
        formatBytes(row.peakRssBytes),
        formatBytes(row.peakHeapBytes),
      ]),
    };
    const chartRows = medians.flatMap((row) => [
      { contender: row.contender, panel: 'time to first result (ms)', value: row.firstResultMs },
      { contender: row.contender, panel: 'total time (ms)', value: row.totalMs },
      { contender: row.contender, panel: 'peak RSS (MiB)', value: row.peakRssBytes / 2 ** 20 },
    ]);
    return {
      settings: { inputs, rounds, threads: context.threads, job: 'tiny', input: 'a generator of the integers 0..N-1' },
      samples,
      medians,
      tables: [table],
      targets: [],
      notes: [
        ...notes,
        "Promise.all hands over results only when every job is done, so its first result comes at the end; 'first job done' is when the pool finished its first job.",
      ],
      chart: barChart({
        title: `Streaming ${formatNumber(inputs)} inputs (lower is better)`,
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
