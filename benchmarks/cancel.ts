// Question 4 of issue 4: cancel 100,000 waiting jobs. How long until every one of them has
// settled, and how much worker time did they use (it must be none)? Every thread is held by a
// gate job, so the jobs are known to be waiting when they are cancelled; each job books itself
// in a shared ledger if it ever runs. Each peer cancels its own way (`cancelWay`).
import { setTimeout as delay } from 'node:timers/promises';
import { alternate, destroyPool, openOrSkip, withinTime, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { contender } from './lib/catalog.js';
import { barChart } from './lib/chart.js';
import { type Contender, type HeldThreads, holdEveryThread } from './lib/contenders.js';
import { Ledger } from './lib/gate.js';
import { formatMs, formatNumber, type Table } from './lib/format.js';
import { lazypool } from './lib/lazypool-contender.js';
import { median } from './lib/stats.js';

/** How long cancelled jobs may take to settle while the threads are still held by the gates. */
const patienceMs = 2_000;

/** A contender whose cancel round took longer than this is not measured again (one sample is enough). */
const slowRoundMs = 5_000;

interface Entry {
  readonly contender: () => Contender;
  /**
   * false: nobody awaits the jobs, and a job has settled when its handle's state says so (lazypool
   * only: a peer's promise has no state to read). Default true: every job has a listener, and it
   * has settled when that listener has run.
   */
  readonly awaited?: boolean;
  /** Fewer jobs than the others, for a pool that cannot take the full count in the time budget. */
  readonly jobs?: { readonly count: number; readonly why: string };
}

const entries: readonly Entry[] = [
  { contender: () => lazypool({ name: 'lazypool cancel()' }) },
  { contender: () => lazypool({ name: 'lazypool cancel(), not awaited' }), awaited: false },
  { contender: () => lazypool({ name: 'lazypool group.cancel()', cancel: 'group' }) },
  {
    contender: () => contender('piscina'),
    jobs: {
      count: 10_000,
      why: 'each abort searches Piscina\'s queue, so cancelling grows with the square of the count: 0.37 s for 10,000 and 1.6 s for 30,000 here, and 100,000 would take most of a minute with its submission',
    },
  },
  { contender: () => contender('p-queue') },
  { contender: () => contender('tinypool') },
  { contender: () => contender('workerpool') },
  // Round-robin so that the gates take both threads (see contenders.ts).
  { contender: () => contender('poolifier-round-robin') },
];

interface CancelRound {
  readonly submitMs: number;
  readonly cancelCallMs: number;
  readonly settledMs: number;
  /** 1 if every job settled while the threads were still held, 0 if only after the gates opened. */
  readonly settledWhileHeld: number;
  readonly rejected: number;
  readonly jobsRun: number;
  readonly workerMicroseconds: number;
}

/** A lazypool handle's state, read without awaiting it (a peer's promise has none). */
function stateOf(job: PromiseLike<unknown>): string | undefined {
  return (job as { state?: string }).state;
}

async function cancelRound(
  pool: Awaited<ReturnType<Contender['open']>>,
  held: HeldThreads,
  jobs: number,
  awaited: boolean,
): Promise<CancelRound> {
  const ledger = new Ledger();
  const pending: PromiseLike<unknown>[] = [];
  const submitted = performance.now();
  for (let index = 0; index < jobs; index++) pending.push(pool.submitCancellable('counted', ledger.input));
  const submitMs = performance.now() - submitted;

  let settled = 0;
  let rejected = 0;
  let allSettled!: () => void;
  const everySettled = new Promise<void>((resolve) => (allSettled = resolve));
  const onSettled = () => {
    settled += 1;
    if (settled === jobs) allSettled();
  };
  if (awaited) {
    for (const job of pending) {
      job.then(onSettled, () => {
        rejected += 1;
        onSettled();
      });
    }
  }

  const started = performance.now();
  pool.cancelAll();
  const cancelCallMs = performance.now() - started;
  if (!awaited) {
    // Nobody awaits: a handle has settled when its state says so, which cancel() sets at once.
    for (const job of pending) if (stateOf(job) === 'cancelled') rejected += 1;
    if (rejected !== jobs) throw new Error(`${jobs - rejected} handles not cancelled after cancel()`);
    await held.release();
    return {
      submitMs,
      cancelCallMs,
      settledMs: cancelCallMs,
      settledWhileHeld: 1,
      rejected,
      jobsRun: ledger.jobsRun,
      workerMicroseconds: ledger.workerMicroseconds,
    };
  }
  const settledWhileHeld = await Promise.race([everySettled.then(() => true), delay(patienceMs).then(() => false)]);
  // Jobs that cannot settle while the threads are held (they were posted to a worker anyway):
  // let the threads go, and count what then runs.
  if (!settledWhileHeld) await withinTime(Promise.all([held.release(), everySettled]), 120_000, 'cancelled jobs settling');
  const settledMs = settledWhileHeld ? performance.now() - started : Number.NaN;
  await held.release();
  return {
    submitMs,
    cancelCallMs,
    settledMs,
    settledWhileHeld: settledWhileHeld ? 1 : 0,
    rejected,
    jobsRun: ledger.jobsRun,
    workerMicroseconds: ledger.workerMicroseconds,
  };
}

export const cancel: Benchmark = {
  name: 'cancel',
  question: 'Time to cancel 100,000 waiting jobs until every one has settled, and the worker time they used.',
  async run(context) {
    const jobs = context.quick ? 2_000 : 100_000;
    const rounds = context.rounds ?? (context.quick ? 1 : 3);
    const samples: Sample[] = [];
    const notes: string[] = [];
    const slow = new Set<string>();
    const candidates = entries.map((entry) => entry.contender());
    const jobsOf = (entry: Entry) => (context.quick ? Math.min(jobs, entry.jobs?.count ?? jobs) : (entry.jobs?.count ?? jobs));

    await alternate(entries, rounds, async (entry, round) => {
      const candidate = entry.contender();
      if (slow.has(candidate.name)) return;
      const pool = await openOrSkip(candidate, context.threads, notes);
      if (!pool) return;
      try {
        const held = await holdEveryThread(pool, context.threads);
        const result = await cancelRound(pool, held, jobsOf(entry), entry.awaited ?? true);
        samples.push({
          contender: candidate.name,
          case: String(jobsOf(entry)),
          round,
          value: result.settledMs,
          unit: 'ms until every cancelled job settled',
          extra: { ...result },
        });
        context.log(
          `round ${round + 1}/${rounds} ${candidate.name}: submit ${formatMs(result.submitMs)}, cancel call ${formatMs(result.cancelCallMs)}, ` +
            `settled ${result.settledWhileHeld ? formatMs(result.settledMs) : 'only after the threads were released'}, ` +
            `${formatNumber(result.jobsRun)} jobs ran`,
        );
        if (!(result.settledMs < slowRoundMs)) slow.add(candidate.name);
      } catch (error) {
        notes.push(`${candidate.name}, round ${round + 1}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        await destroyPool(pool, candidate.name, notes);
      }
    });

    const figure = (name: string, field: keyof CancelRound) =>
      median(samples.filter((s) => s.contender === name).map((s) => s.extra?.[field] ?? Number.NaN));
    const medians = candidates.map((candidate, index) => ({
      contender: candidate.name,
      jobs: jobsOf(entries[index]),
      samples: samples.filter((s) => s.contender === candidate.name).length,
      submitMs: figure(candidate.name, 'submitMs'),
      cancelCallMs: figure(candidate.name, 'cancelCallMs'),
      settledMs: figure(candidate.name, 'settledMs'),
      settledWhileHeld: figure(candidate.name, 'settledWhileHeld'),
      jobsRun: figure(candidate.name, 'jobsRun'),
      workerMicroseconds: figure(candidate.name, 'workerMicroseconds'),
      cancelWay: candidate.cancelWay,
    }));
    const table: Table = {
      title: `Cancelling ${formatNumber(jobs)} waiting jobs, every thread held (median of up to ${rounds} rounds)`,
      columns: ['contender', 'jobs', 'rounds', 'submit', 'cancel call', 'all settled', 'jobs that ran', 'their worker time'],
      rows: medians.map((row) => [
        row.contender,
        formatNumber(row.jobs),
        String(row.samples),
        formatMs(row.submitMs),
        formatMs(row.cancelCallMs),
        row.settledWhileHeld === 1 ? formatMs(row.settledMs) : row.samples > 0 ? 'never*' : '-',
        formatNumber(row.jobsRun),
        formatMs(row.workerMicroseconds / 1000),
      ]),
    };
    const lazypoolRows = medians.filter((row) => row.contender.startsWith('lazypool'));
    const targets: Target[] = [
      ...lazypoolRows.map((row) => ({
        target: `${row.contender}: every one of ${formatNumber(row.jobs)} waiting jobs settled in < 100 ms`,
        measured: formatMs(row.settledMs),
        met: row.settledMs < 100,
      })),
      {
        target: 'lazypool: cancelled jobs use no worker time',
        measured: lazypoolRows.map((row) => `${row.contender}: ${formatNumber(row.jobsRun)} jobs ran`).join('; '),
        met: lazypoolRows.every((row) => row.jobsRun === 0),
      },
    ];
    return {
      settings: { jobs, rounds, threads: context.threads, patienceMs, slowRoundMs, job: 'counted (tiny, books itself in a shared ledger)' },
      samples,
      medians,
      tables: [table],
      targets,
      notes: [
        ...notes,
        "'not awaited': no job has a listener, and a job counts as settled when its handle's state is 'cancelled' (cancel() sets it at once); every other row counts a job as settled when its listener has run.",
        `* never: the cancelled jobs did not settle within ${formatMs(patienceMs)} while the threads were held; they settled only once the threads were released and the jobs had run.`,
        `A contender whose round took over ${formatMs(slowRoundMs)} is measured once.`,
        ...entries.flatMap((entry) =>
          entry.jobs && !context.quick ? [`${entry.contender().name}: ${formatNumber(entry.jobs.count)} jobs, because ${entry.jobs.why}.`] : [],
        ),
        ...candidates.map((candidate) => `cancel way, ${candidate.name}: ${candidate.cancelWay}`),
      ],
      chart: barChart({
        title: `Time until ${formatNumber(jobs)} cancelled waiting jobs have all settled (log scale; lower is better; see the table for counts)`,
        rows: medians.filter((row) => Number.isFinite(row.settledMs)),
        bar: 'contender',
        value: 'settledMs',
        valueTitle: 'ms (log scale)',
        logScale: true,
      }),
    };
  },
};
