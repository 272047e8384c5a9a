// Issue 5's soak: two million jobs through one pool, with random priorities, 10% cancelled (while
// queued, held, at their start, or through an AbortSignal), 1% crashing (the job throws), one job
// per window of 100,000 that ends its thread (process.exit), and map and groups mixed in. The heap is
// sampled every 100,000 jobs after a full GC. It runs in a child process with --expose-gc (see
// lib/child.ts). Targets: the heap once everything has settled within 5% of the heap before,
// no handle unsettled, and jobs per second steady from the first window to the last.
import { fileURLToPath } from 'node:url';
import { Pool, type JobHandle } from '../src/index.js';
import type { Benchmark, Sample, Target } from './lib/benchmark.js';
import { lineChart } from './lib/chart.js';
import { runInChild, settleHeap } from './lib/child.js';
import { formatBytes, formatNumber, formatRatio, type Table } from './lib/format.js';
import { median } from './lib/stats.js';

const soakWorker = fileURLToPath(new URL('./workers/soak.mjs', import.meta.url));

export interface SoakArgument {
  readonly jobs: number;
  /** Jobs per window: each is submitted and drained, then the heap is sampled. */
  readonly window: number;
  readonly threads: number;
  /** At most this many jobs submitted and not settled: the backlog the queue holds. */
  readonly backlog: number;
  readonly seed: number;
}

/** One heap sample, taken when `jobs` jobs had been submitted. */
export interface SoakSample {
  readonly jobs: number;
  readonly settled: number;
  /** `heapUsed` after a full GC, in bytes. */
  readonly heapUsed: number;
  /** Jobs settled per second in the window that ends here (from its first submit until drained). */
  readonly jobsPerSecond: number;
  readonly seconds: number;
}

export interface SoakResult {
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly samples: readonly SoakSample[];
  readonly submitted: number;
  /** 'done' events: one per settled job. */
  readonly settled: number;
  readonly outcomes: { readonly fulfilled: number; readonly rejected: number; readonly cancelled: number };
  readonly stats: Record<string, number>;
  readonly kinds: Record<string, number>;
  readonly unhandledRejections: number;
  readonly wrongOutcomes: number;
  readonly seconds: number;
}

/** onStart callback of the jobs cancelled as they start (one function for all of them). */
function cancelAtStart(handle: JobHandle): void {
  handle.cancel('soak');
}

/** A small seeded generator (mulberry32), so that a run can be repeated. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Drives `jobs` jobs of the soak mix through `pool`; counts what it submitted and how it went. */
class SoakDriver {
  readonly #pool: Pool;
  readonly #random: () => number;
  readonly #backlog: number;
  submitted = 0;
  settled = 0;
  wrongOutcomes = 0;
  readonly kinds: Record<string, number> = {};
  /** Held jobs waiting to be cancelled at the end of their window. */
  #held: JobHandle[] = [];
  /** Maps and groups still running, awaited before the end. */
  readonly #pending = new Set<Promise<void>>();
  #wake: (() => void) | undefined;

  constructor(pool: Pool, random: () => number, backlog: number) {
    this.#pool = pool;
    this.#random = random;
    this.#backlog = backlog;
    pool.on('done', this.#onDone);
  }

  readonly #onDone = () => {
    this.settled++;
    if (this.#wake !== undefined && this.submitted - this.settled <= this.#backlog / 2) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake();
    }
  };

  /** A job that must fail: nobody awaits it, so its failure is observed here (else it is reported). */
  readonly #expectRejected = (handle: JobHandle) => {
    if (handle.state !== 'rejected' && handle.state !== 'cancelled') this.wrongOutcomes++;
  };

  readonly #expectFulfilledOrCancelled = (handle: JobHandle) => {
    if (handle.state === 'rejected') this.wrongOutcomes++;
  };

  #count(kind: string, jobs = 1): void {
    this.kinds[kind] = (this.kinds[kind] ?? 0) + jobs;
    this.submitted += jobs;
  }

  /**
   * Submits `count` jobs of the mix, never more than the backlog unsettled. Halfway, one job ends
   * its thread (unless told not to): one per window, so that every window pays for one fresh thread.
   */
  async run(count: number, killOneThread = true): Promise<void> {
    const end = this.submitted + count;
    const halfway = this.submitted + Math.floor(count / 2);
    let killed = !killOneThread;
    while (this.submitted < end) {
      if (this.submitted - this.settled >= this.#backlog) await new Promise<void>((resolve) => (this.#wake = resolve));
      if (!killed && this.submitted >= halfway) {
        killed = true;
        this.#count('thread killed (process.exit)');
        this.#pool.submit(this.submitted, { name: 'die' }).onDone(this.#expectRejected);
        continue;
      }
      this.#submitOne(end - this.submitted);
    }
    for (const handle of this.#held) handle.cancel('end of window');
    this.#held = [];
  }

  /** Waits until every job submitted so far has settled, maps and groups included. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    await this.#pool.idle();
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  #submitOne(room: number): void {
    const pool = this.#pool;
    const roll = this.#random();
    const priority = Math.floor(this.#random() * 11) - 5;
    const value = this.submitted;
    if (roll < 0.01) {
      this.#count('crashing (throws)');
      pool.submit(value, { name: 'fail', priority }).onDone(this.#expectRejected);
    } else if (roll < 0.11) {
      this.#cancelled(value, priority, this.#random());
    } else if (roll < 0.1105 && room >= 400) {
      this.#map(400);
    } else if (roll < 0.1115 && room >= 100) {
      this.#group(100);
    } else {
      this.#count('plain');
      pool.submit(value, { name: 'work', priority });
    }
  }

  /** 10% of the jobs: cancelled while queued, while held, as they start, or by their signal. */
  #cancelled(value: number, priority: number, how: number): void {
    const pool = this.#pool;
    if (how < 0.4) {
      this.#count('cancelled while queued (or running)');
      pool.submit(value, { name: 'work', priority }).cancel('soak');
    } else if (how < 0.6) {
      this.#count('cancelled while held');
      this.#held.push(pool.submit(value, { name: 'work', priority, hold: true }));
    } else if (how < 0.8) {
      this.#count('cancelled at start');
      const handle = pool.submit(value, { name: 'work', priority });
      if (handle.state === 'running') handle.cancel('soak');
      else handle.onStart(cancelAtStart);
    } else {
      this.#count('cancelled by AbortSignal');
      const controller = new AbortController();
      pool.submit(value, { name: 'work', priority, signal: controller.signal });
      controller.abort('soak');
    }
  }

  /** A map over `count` items pulled from a generator; every 5th map is left early. */
  #map(count: number): void {
    const leaveEarly = this.#random() < 0.2;
    this.#count(leaveEarly ? 'map, left early' : 'map', count);
    const pool = this.#pool;
    const base = this.submitted;
    let pulled = 0;
    const items = function* () {
      for (let index = 0; index < count; index++) {
        pulled++;
        yield base + index;
      }
    };
    this.#track(
      (async () => {
        let expected = 0;
        for await (const value of pool.map<number>(items(), { name: 'work' })) {
          if (value !== base + expected) this.wrongOutcomes++;
          expected++;
          if (leaveEarly && expected === count / 2) break;
        }
        // Leaving early cancels what was submitted; the items never pulled never became jobs.
        this.kinds[leaveEarly ? 'map, left early' : 'map'] -= count - pulled;
        this.submitted -= count - pulled;
      })(),
    );
  }

  /** A group of `count` jobs; every 5th group is cancelled halfway. */
  #group(count: number): void {
    const group = this.#pool.group();
    const cancel = this.#random() < 0.2;
    this.#count(cancel ? 'group, cancelled' : 'group', count);
    for (let index = 0; index < count; index++) {
      group.submit(this.submitted + index, { name: 'work', priority: index % 3 }).onDone(this.#expectFulfilledOrCancelled);
      if (cancel && index === count / 2) group.cancel('soak');
    }
    this.#track(
      group.settled().then((outcomes) => {
        if (outcomes.length !== count) this.wrongOutcomes++;
      }),
    );
  }
}

/** Runs in the child process: the soak itself. */
export async function runSoak(argument: SoakArgument): Promise<SoakResult> {
  let unhandledRejections = 0;
  process.on('unhandledRejection', () => unhandledRejections++);
  const started = performance.now();
  const pool = new Pool({ filename: soakWorker, minThreads: argument.threads, maxThreads: argument.threads });
  const driver = new SoakDriver(pool, randomSource(argument.seed), argument.backlog);
  // Warm-up with the same mix, so that every code path is compiled before the first reading.
  await driver.run(Math.min(argument.window, 50_000));
  await driver.drain();
  const warmUpJobs = driver.submitted;
  const warmUpKinds = { ...driver.kinds };
  const warmUpStats = pool.stats;
  const heapBefore = settleHeap();

  const samples: SoakSample[] = [];
  // Each window starts and ends with nothing unsettled: its rate is its own, and every heap sample
  // is taken at rest, comparable with the readings before and after.
  while (driver.submitted - warmUpJobs < argument.jobs) {
    const windowStarted = performance.now();
    const settledBefore = driver.settled;
    // Maps left early submit fewer jobs than they reserved: a window may run a little short, and
    // the last one tops up to the exact count.
    for (let goal = Math.min(argument.window, argument.jobs - (driver.submitted - warmUpJobs)), first = true; goal > 0; first = false) {
      await driver.run(goal, first);
      await driver.drain();
      goal = Math.min(argument.window - (driver.settled - settledBefore), argument.jobs - (driver.submitted - warmUpJobs));
    }
    const now = performance.now();
    const rate = ((driver.settled - settledBefore) * 1000) / (now - windowStarted);
    const heapUsed = settleHeap();
    const sample = {
      jobs: driver.submitted - warmUpJobs,
      settled: driver.settled - warmUpJobs,
      heapUsed,
      jobsPerSecond: rate,
      seconds: (now - started) / 1000,
    };
    samples.push(sample);
    process.stderr.write(
      `  [soak] ${formatNumber(sample.jobs)} jobs: ${formatNumber(rate)} jobs/s, heap ${formatBytes(heapUsed)}\n`,
    );
  }
  const heapAfter = settleHeap();
  const { fulfilled, rejected, cancelled, ...rest } = pool.stats;
  await pool.close();
  const kinds = Object.fromEntries(Object.entries(driver.kinds).map(([kind, jobs]) => [kind, jobs - (warmUpKinds[kind] ?? 0)]));
  return {
    heapBefore,
    heapAfter,
    samples,
    submitted: driver.submitted - warmUpJobs,
    settled: driver.settled - warmUpJobs,
    outcomes: {
      fulfilled: fulfilled - warmUpStats.fulfilled,
      rejected: rejected - warmUpStats.rejected,
      cancelled: cancelled - warmUpStats.cancelled,
    },
    stats: { ...rest, fulfilled, rejected, cancelled, total: driver.submitted, settledEvents: driver.settled, warmUpJobs },
    kinds,
    unhandledRejections,
    wrongOutcomes: driver.wrongOutcomes,
    seconds: (performance.now() - started) / 1000,
  };
}

export const soak: Benchmark = {
  name: 'soak',
  question: 'Two million mixed jobs through one pool: does the heap come back, does every job settle, does the rate hold?',
  async run(context) {
    const jobs = context.quick ? 100_000 : 2_000_000;
    const window = context.quick ? 10_000 : 100_000;
    const argument: SoakArgument = { jobs, window, threads: context.threads, backlog: 20_000, seed: 0x50a4 };
    context.log(`${formatNumber(jobs)} jobs, heap sampled every ${formatNumber(window)}, in a child process with --expose-gc`);
    const result = await runInChild<SoakResult>(import.meta.url, 'runSoak', argument);

    const rates = result.samples.map((sample) => sample.jobsPerSecond);
    const first = result.samples[0];
    const lastSample = result.samples.at(-1)!;
    const heapChange = result.heapAfter / result.heapBefore - 1;
    const rateRatio = lastSample.jobsPerSecond / first.jobsPerSecond;
    const unsettled = result.stats.total - result.stats.settledEvents;
    const stillCounted = result.stats.held + result.stats.queued + result.stats.running;

    const samples: Sample[] = result.samples.map((sample, index) => ({
      contender: 'lazypool',
      case: `window ${index + 1}`,
      round: 0,
      value: sample.jobsPerSecond,
      unit: 'jobs/s',
      extra: { jobs: sample.jobs, settled: sample.settled, heapUsed: sample.heapUsed, seconds: sample.seconds },
    }));
    const table: Table = {
      title: `Soak: ${formatNumber(result.submitted)} jobs on ${context.threads} threads, a heap sample (after full GC) every ${formatNumber(window)}`,
      columns: ['jobs submitted', 'jobs/s in window', 'heap used', 'vs before'],
      rows: [
        ['before (warm, idle)', '-', formatBytes(result.heapBefore), formatRatio(1)],
        ...result.samples.map((sample) => [
          formatNumber(sample.jobs),
          formatNumber(sample.jobsPerSecond),
          formatBytes(sample.heapUsed),
          formatRatio(sample.heapUsed / result.heapBefore),
        ]),
        ['after (all settled, idle)', '-', formatBytes(result.heapAfter), formatRatio(result.heapAfter / result.heapBefore)],
        ['median window', formatNumber(median(rates)), '', ''],
        ['slowest, fastest window', `${formatNumber(Math.min(...rates))}, ${formatNumber(Math.max(...rates))}`, '', ''],
      ],
    };
    const mix: Table = {
      title: 'The mix (jobs per kind, warm-up not included) and how they ended',
      columns: ['kind', 'jobs'],
      rows: [
        ...Object.entries(result.kinds).map(([kind, count]) => [kind, formatNumber(count)]),
        ['fulfilled', formatNumber(result.outcomes.fulfilled)],
        ['rejected', formatNumber(result.outcomes.rejected)],
        ['cancelled', formatNumber(result.outcomes.cancelled)],
      ],
    };
    const targets: Target[] = [
      {
        target: 'heap after settling within 5% of the heap before',
        measured: `${formatBytes(result.heapBefore)} -> ${formatBytes(result.heapAfter)} (${heapChange >= 0 ? '+' : ''}${(heapChange * 100).toFixed(1)}%)`,
        met: Math.abs(heapChange) <= 0.05,
      },
      {
        target: 'no handle unsettled',
        measured: `${formatNumber(unsettled)} without a 'done' event, ${formatNumber(stillCounted)} held/queued/running, ${result.wrongOutcomes} wrong outcomes, ${result.unhandledRejections} unhandled rejections`,
        met: unsettled === 0 && stillCounted === 0 && result.wrongOutcomes === 0 && result.unhandledRejections === 0,
      },
      {
        target: 'jobs/s steady: last window within 15% of the first',
        measured: `${formatNumber(first.jobsPerSecond)} -> ${formatNumber(lastSample.jobsPerSecond)} jobs/s (${formatRatio(rateRatio)})`,
        met: Math.abs(rateRatio - 1) <= 0.15,
      },
    ];
    const chartRows = [
      { jobs: 0, value: result.heapBefore / 2 ** 20, series: 'heap used (MiB, after GC)', panel: 'heap used, MiB', reference: result.heapBefore / 2 ** 20 },
      ...result.samples.flatMap((sample) => [
        { jobs: sample.jobs, value: sample.heapUsed / 2 ** 20, series: 'heap used (MiB, after GC)', panel: 'heap used, MiB', reference: result.heapBefore / 2 ** 20 },
        { jobs: sample.jobs, value: sample.jobsPerSecond, series: 'jobs per second', panel: 'jobs per second', reference: first.jobsPerSecond },
      ]),
      { jobs: result.submitted, value: result.heapAfter / 2 ** 20, series: 'heap used (MiB, after GC)', panel: 'heap used, MiB', reference: result.heapBefore / 2 ** 20 },
    ];
    return {
      settings: { ...argument, threads: context.threads, worker: 'benchmarks/workers/soak.mjs' },
      samples,
      medians: result.samples.map((sample) => ({ ...sample })),
      tables: [table, mix],
      targets,
      notes: [
        `${formatNumber(result.submitted)} jobs in ${formatNumber(result.seconds)} s (warm-up and GCs included); at most ${formatNumber(argument.backlog)} unsettled at a time.`,
        '"Crashing" jobs throw (1%); ending a thread is far costlier (a fresh thread loads the module again), so one job per window (of ' +
          `${formatNumber(window)}) does that instead of one in a hundred.`,
        'Each window is submitted, then drained (nothing unsettled) before its heap sample (after a full GC, not counted in the rate). The dashed lines are the heap before and the first window\'s rate.',
      ],
      chart: lineChart({
        title: `Soak: heap and rate over ${formatNumber(result.submitted)} jobs`,
        rows: chartRows,
        x: 'jobs',
        xTitle: 'jobs submitted',
        y: 'value',
        yTitle: '',
        series: 'series',
        panel: 'panel',
        independentY: true,
        reference: { field: 'reference', label: 'before / first window' },
      }),
    };
  },
};
