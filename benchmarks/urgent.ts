// Question 3 of issue 4: one job must run now, behind a backlog of 100 to 100,000 one-millisecond
// jobs. How long until its result is back? lazypool's promote() and priority against each peer's
// best way (a priority queue where the peer accepts one; see `urgentWay` in lib/contenders.ts).
// A flat curve means the wait does not grow with the backlog.
import { setTimeout as delay } from 'node:timers/promises';
import { alternate, destroyPool, openOrSkip, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { contender } from './lib/catalog.js';
import { lineChart } from './lib/chart.js';
import type { Contender, PoolUnderTest } from './lib/contenders.js';
import { formatMs, formatNumber, formatRatio, type Table } from './lib/format.js';
import { lazypool } from './lib/lazypool-contender.js';
import { medianOf, ratio } from './lib/stats.js';

/** The backlog's jobs and the urgent job alike: one millisecond of CPU each. */
const busyJob = { ms: 1 };

/** Lets the pool reach its steady state (threads busy, slots cycling) before the urgent job. */
const steadyStateMs = 10;

/** Urgent jobs measured one after another on the same backlog (one where the job waits its turn). */
const urgentJobsPerBacklog = 3;

/** Urgent jobs measured on each pool before its backlog is submitted: the idle baseline. */
const idleJobsPerPool = 2;

/** Past this an urgent job is no longer waited for: the sample is recorded as this (a lower bound). */
const lateMs = 2_000;

interface UrgentWait {
  readonly ms: number;
  /** Still not done after `lateMs`. */
  readonly late: boolean;
}

/** Submits one urgent job and measures the wait for its result, giving up at `lateMs`. */
async function urgentWait(pool: PoolUnderTest): Promise<UrgentWait> {
  const started = performance.now();
  const giveUp = new AbortController();
  const job = Promise.resolve(pool.submitUrgent('busy', busyJob)).then(() => false);
  job.catch(ignore);
  const late = await Promise.race([job, delay(lateMs, true, { signal: giveUp.signal }).catch(() => false)]);
  const ms = late ? lateMs : performance.now() - started;
  giveUp.abort();
  // A breath between urgent jobs, so that each one finds the pool in its steady state again.
  await delay(1);
  return { ms, late };
}

interface Entry {
  readonly contender: () => Contender;
  /** Has no way to overtake: measured on small backlogs only (it waits for the whole backlog). */
  readonly waitsItsTurn?: boolean;
}

const entries: readonly Entry[] = [
  { contender: () => lazypool({ name: 'lazypool promote()', urgent: 'promote' }) },
  { contender: () => lazypool({ name: 'lazypool priority', urgent: 'priority' }) },
  { contender: () => contender('piscina-priority') },
  { contender: () => contender('p-queue') },
  { contender: () => contender('tinypool-priority') },
  { contender: () => contender('workerpool-priority') },
  { contender: () => contender('poolifier-tasks-queue') },
  { contender: () => contender('piscina'), waitsItsTurn: true },
];

/** The largest backlog a pool without a way to overtake is measured on (its urgent job waits all of it). */
const waitsItsTurnMaxBacklog = 1_000;

const ignore = () => undefined;

export const urgent: Benchmark = {
  name: 'urgent',
  question: 'Latency of one urgent job behind a backlog of 100 to 100,000 1 ms jobs: promote() and priority against each peer.',
  async run(context) {
    const backlogs = context.quick ? [0, 100, 1_000] : [0, 100, 1_000, 10_000, 100_000];
    const rounds = context.rounds ?? (context.quick ? 1 : 3);
    const samples: Sample[] = [];
    const notes: string[] = [];
    /** `name@backlog` where some urgent job waited past `lateMs` (its sample is a lower bound). */
    const late = new Set<string>();
    const names = entries.map((entry) => entry.contender().name);

    const record = (name: string, backlog: number, round: number, wait: UrgentWait) => {
      samples.push({
        contender: name,
        case: String(backlog),
        round,
        value: wait.ms,
        unit: 'ms',
        ...(wait.late ? { extra: { late: 1 } } : {}),
      });
      if (wait.late) late.add(`${name}@${backlog}`);
    };

    for (const backlog of backlogs.filter((size) => size > 0)) {
      const measured = entries.filter((entry) => !entry.waitsItsTurn || backlog <= waitsItsTurnMaxBacklog);
      await alternate(measured, rounds, async (entry, round) => {
        const candidate = entry.contender();
        const pool = await openOrSkip(candidate, context.threads, notes);
        if (!pool) return;
        try {
          // One job's time on this very pool, idle, before the backlog arrives: the baseline.
          const idle: number[] = [];
          for (let job = 0; job < idleJobsPerPool; job++) {
            const wait = await urgentWait(pool);
            idle.push(wait.ms);
            record(candidate.name, 0, round, wait);
          }
          for (let index = 0; index < backlog; index++) pool.submit('busy', busyJob).then(undefined, ignore);
          await delay(steadyStateMs);
          const count = entry.waitsItsTurn ? 1 : urgentJobsPerBacklog;
          const latencies: number[] = [];
          for (let job = 0; job < count; job++) {
            const wait = await urgentWait(pool);
            latencies.push(wait.ms);
            record(candidate.name, backlog, round, wait);
            if (wait.late) break;
          }
          context.log(
            `round ${round + 1}/${rounds} ${candidate.name}: idle ${idle.map(formatMs).join(', ')}; ` +
              `behind ${formatNumber(backlog)}: ${latencies.map(formatMs).join(', ')}`,
          );
        } finally {
          await destroyPool(pool, candidate.name, notes);
        }
      });
    }

    const figure = (name: string, backlog: number) =>
      medianOf(samples, name, String(backlog));
    const medians = names.flatMap((name) =>
      backlogs.map((backlog) => ({
        contender: name,
        backlog,
        latencyMs: figure(name, backlog),
        vsIdle: ratio(figure(name, backlog), figure(name, 0)),
      })),
    );
    const largest = backlogs[backlogs.length - 1];
    const table: Table = {
      title: `Latency of one urgent 1 ms job behind a backlog of 1 ms jobs, ${context.threads} threads (median of ${rounds} rounds x ${urgentJobsPerBacklog} jobs)`,
      columns: [
        'contender',
        ...backlogs.map((backlog) => (backlog === 0 ? 'idle pool' : `@${formatNumber(backlog)}`)),
        `@${formatNumber(largest)} / idle`,
      ],
      rows: names.map((name) => [
        name,
        ...backlogs.map((backlog) => (late.has(`${name}@${backlog}`) ? `>= ${formatMs(lateMs)}*` : '') || formatMs(figure(name, backlog))),
        formatRatio(ratio(figure(name, largest), figure(name, 0))),
      ]),
    };
    const targets: Target[] = ['lazypool promote()', 'lazypool priority'].map((name) => {
      const share = ratio(figure(name, largest), figure(name, 0));
      return {
        target: `${name}: latency at a ${formatNumber(largest)} backlog within 3x of one job's time on an idle pool`,
        measured: `${formatMs(figure(name, largest))} vs ${formatMs(figure(name, 0))} = ${formatRatio(share)}`,
        met: share <= 3,
      };
    });
    const ways = entries.map((entry) => {
      const candidate = entry.contender();
      return `${candidate.name}: ${candidate.urgentWay}`;
    });
    return {
      settings: {
        backlogs,
        rounds,
        threads: context.threads,
        job: '1 ms busy loop (backlog and urgent job alike)',
        urgentJobsPerBacklog,
        idleJobsPerPool,
        lateMs,
        steadyStateMs,
        waitsItsTurnMaxBacklog,
        urgentWays: ways,
      },
      samples,
      medians,
      tables: [table],
      targets,
      notes: [
        ...notes,
        ...(late.size > 0
          ? [`* some urgent job was still waiting after ${formatMs(lateMs)} and was given up on: the median is a lower bound at best.`]
          : []),
        `piscina without a priority queue is measured up to a ${formatNumber(waitsItsTurnMaxBacklog)} backlog only: its urgent job waits for the whole backlog.`,
        ...ways.map((way) => `urgent way, ${way}`),
      ],
      chart: lineChart({
        title: `Urgent-job latency behind a backlog of 1 ms jobs, ${context.threads} threads (dashed: 3x lazypool's idle latency)`,
        rows: medians
          .filter((row) => row.backlog > 0 && Number.isFinite(row.latencyMs))
          .map((row) => ({ ...row, target: 3 * figure('lazypool promote()', 0) })),
        x: 'backlog',
        xTitle: 'backlog (jobs waiting)',
        y: 'latencyMs',
        yTitle: 'latency (ms)',
        series: 'contender',
        logX: true,
        logY: true,
        reference: { field: 'target', label: '3x lazypool idle' },
      }),
    };
  },
};
