// Issue 11's targets for build graphs (jobs that wait for other jobs: `after`), each measured the
// issue's way, side by side in one run, medians of several rounds:
//   1. Makespan of a generated build graph (seeded: 300 nodes of mixed length around a chain of 60
//      long jobs, behind 200 short independent jobs submitted first), busy-wait CPU jobs on 2
//      threads: lazypool with `criticalPath: true` (and on its default order), FIFO dispatch on
//      Piscina with `await` chaining by hand, and p-graph (with a priority per node, its way to
//      run the longest chains first, and without) at the same concurrency on the same Piscina
//      threads. Target: lazypool criticalPath <= 0.9x FIFO by hand.
//   2. A promoted job with a chain of 3 unfinished dependencies behind 10,000 waiting jobs of the
//      same length (5 ms): from submitting the chain and promote() to its result, against the same
//      chain on the same pool idle, moments before (side by side: the machine is shared). Target:
//      the backlog adds at most 3 job lengths + 10 ms (median of the rounds; the worst is shown).
//   3. 100,000 dependants of one job, the job cancelled: until every dependant has settled (with a
//      DependencyError, none run). Target: < 200 ms. Plain promises give the floor.
//   4. Heap per waiting job with one dependency (all after one shared job, and a chain where each
//      waits for the one before), against a plain waiting job, in clean child processes with
//      --expose-gc. Target: <= 1.5x.
// Every result timed is checked: each job's value, that no job began before what it waits for had
// settled, the makespan against the graph's lower bound, each dependant's DependencyError and
// that none ran.
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PGraph, type PGraphNodeRecord } from 'p-graph';
import { Piscina } from 'piscina';
import { CancelledError, DependencyError, type JobHandle, Pool } from '../src/index.js';
import { alternate, withinTime, type Benchmark, type Sample, type Target } from './lib/benchmark.js';
import { barChart } from './lib/chart.js';
import { runInChild, settleHeap } from './lib/child.js';
import { formatBytes, formatMs, formatNumber, formatRatio, type Table } from './lib/format.js';
import { Gate, Ledger } from './lib/gate.js';
import { installedVersion } from './lib/machine.js';
import { median, medianOf, ratio } from './lib/stats.js';

const jobsModule = fileURLToPath(new URL('./workers/jobs.mjs', import.meta.url));
const ignore = () => undefined;

// ---------------------------------------------------------------------------------------------
// The graph

/** One job of the graph: `ms` of busy CPU once every job of `deps` (earlier ids) is done. */
export interface GraphJob {
  readonly id: number;
  readonly ms: number;
  readonly deps: readonly number[];
  readonly kind: 'independent' | 'chain' | 'side';
}

interface GraphShape {
  readonly seed: number;
  /** Short jobs with no dependency, submitted before the graph. */
  readonly independent: number;
  readonly independentMs: readonly [number, number];
  /** The long chain: each waits for the one before (and, one in two, for a random earlier node). */
  readonly chain: number;
  readonly chainMs: readonly [number, number];
  /** Other nodes of the graph: each waits for 0 to 2 random earlier nodes. */
  readonly side: number;
  readonly sideMs: readonly [number, number];
}

const shapes: Record<'full' | 'quick' | 'warmUp', GraphShape> = {
  full: { seed: 11, independent: 200, independentMs: [2, 6], chain: 60, chainMs: [10, 30], side: 240, sideMs: [1, 5] },
  quick: { seed: 11, independent: 60, independentMs: [2, 6], chain: 20, chainMs: [10, 30], side: 80, sideMs: [1, 5] },
  /** Run once by every contender before the measures, untimed: the main thread's code is warm for all. */
  warmUp: { seed: 7, independent: 10, independentMs: [1, 2], chain: 5, chainMs: [1, 3], side: 20, sideMs: [1, 2] },
};

/** mulberry32: a small seeded generator, so that every run and every contender gets the same graph. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The jobs in submission order: the independent ones, then the graph with its chain spread through it. */
export function generateGraph(shape: GraphShape): GraphJob[] {
  const next = random(shape.seed);
  const between = ([low, high]: readonly [number, number]) => Math.round(low + next() * (high - low));
  const jobs: GraphJob[] = [];
  for (let index = 0; index < shape.independent; index++) jobs.push({ id: jobs.length, ms: between(shape.independentMs), deps: [], kind: 'independent' });
  const first = jobs.length;
  const nodes = shape.chain + shape.side;
  const earlier = (id: number) => first + Math.floor(next() * (id - first));
  let chained = 0;
  let lastInChain = -1;
  for (let node = 0; node < nodes; node++) {
    const id = jobs.length;
    const deps = new Set<number>();
    if (chained < shape.chain && (node * shape.chain) / nodes >= chained) {
      if (lastInChain >= 0) deps.add(lastInChain);
      if (id > first && next() < 0.5) deps.add(earlier(id));
      jobs.push({ id, ms: between(shape.chainMs), deps: [...deps], kind: 'chain' });
      lastInChain = id;
      chained++;
    } else {
      const count = Math.floor(next() * 3);
      for (let dep = 0; dep < count && id > first; dep++) deps.add(earlier(id));
      jobs.push({ id, ms: between(shape.sideMs), deps: [...deps], kind: 'side' });
    }
  }
  return jobs;
}

/** The longest path through the graph, in ms of work. */
export function criticalPathMs(jobs: readonly GraphJob[]): number {
  const finish = new Array<number>(jobs.length).fill(0);
  for (const job of jobs) finish[job.id] = job.ms + Math.max(0, ...job.deps.map((dep) => finish[dep]!));
  return Math.max(...finish);
}

/** No schedule on `threads` threads can end sooner: the longest path, or all the work spread evenly. */
function lowerBoundMs(jobs: readonly GraphJob[], threads: number): number {
  return Math.max(criticalPathMs(jobs), jobs.reduce((total, job) => total + job.ms, 0) / threads);
}

// ---------------------------------------------------------------------------------------------
// 1. Makespan

interface GraphRun {
  readonly makespanMs: number;
  readonly results: readonly unknown[];
  /** When each job began (lazypool: on its thread) or was handed to Piscina (the others), main thread's clock. */
  readonly began: Float64Array;
  /** When the main thread had each job's result. */
  readonly done: Float64Array;
}

interface GraphRunner {
  run(jobs: readonly GraphJob[]): Promise<GraphRun>;
  close(): Promise<void>;
}

interface GraphContender {
  readonly name: string;
  /** How the contender runs the graph, for the notes and the JSON. */
  readonly way: string;
  open(threads: number): Promise<GraphRunner>;
}

/** Both threads up with the job module loaded, before any clock starts. */
async function warmThreads(run: (ms: number) => PromiseLike<unknown>, threads: number): Promise<void> {
  for (let pass = 0; pass < 3; pass++) await Promise.all(Array.from({ length: 2 * threads }, () => run(1)));
}

function lazypoolGraph(criticalPath: boolean): GraphContender {
  return {
    name: criticalPath ? 'lazypool criticalPath' : 'lazypool (default order)',
    way: criticalPath
      ? "new Pool({ criticalPath: true }); submit(job, { after: [its dependencies' handles] }) for every job at once"
      : "new Pool(); submit(job, { after: [its dependencies' handles] }) for every job at once (ready jobs in submission order)",
    async open(threads) {
      const pool = new Pool({ filename: jobsModule, maxThreads: threads, minThreads: threads, criticalPath });
      await warmThreads((ms) => pool.submit({ ms }, { name: 'busy' }), threads);
      return {
        async run(jobs) {
          const handles: JobHandle[] = [];
          const started = performance.now();
          for (const job of jobs) {
            handles.push(pool.submit({ ms: job.ms }, { name: 'busy', ...(job.deps.length > 0 ? { after: job.deps.map((dep) => handles[dep]!) } : {}) }));
          }
          const results = await Promise.all(handles);
          const makespanMs = performance.now() - started;
          return {
            makespanMs,
            results,
            began: Float64Array.from(handles, (handle) => handle.timing.startedAt ?? Number.NaN),
            done: Float64Array.from(handles, (handle) => handle.timing.settledAt ?? Number.NaN),
          };
        },
        close: () => pool.close({ cancelQueued: true }),
      };
    },
  };
}

function piscinaPool(threads: number): Piscina {
  return new Piscina({ filename: jobsModule, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
}

/** FIFO dispatch by hand: each job is posted to Piscina once `await`ing its dependencies is over. */
const fifoByHand: GraphContender = {
  name: 'FIFO by hand (Piscina)',
  way: 'a plain Piscina pool; each job posted with piscina.run() once Promise.all() of its dependencies resolved; Piscina runs what it was given in order',
  async open(threads) {
    const piscina = piscinaPool(threads);
    await warmThreads((ms) => piscina.run({ ms }, { name: 'busy' }), threads);
    return {
      async run(jobs) {
        const began = new Float64Array(jobs.length).fill(Number.NaN);
        const done = new Float64Array(jobs.length).fill(Number.NaN);
        const promises: Promise<unknown>[] = [];
        const run = async (job: GraphJob) => {
          began[job.id] = performance.now();
          const result = await piscina.run({ ms: job.ms }, { name: 'busy' });
          done[job.id] = performance.now();
          return result;
        };
        const started = performance.now();
        for (const job of jobs) {
          promises.push(job.deps.length === 0 ? run(job) : Promise.all(job.deps.map((dep) => promises[dep]!)).then(() => run(job)));
        }
        const results = await Promise.all(promises);
        return { makespanMs: performance.now() - started, results, began, done };
      },
      close: () => piscina.destroy(),
    };
  },
};

/** p-graph at the pool's concurrency, each node posting its job to the same Piscina threads. */
function pGraph(prioritised: boolean): GraphContender {
  return {
    name: prioritised ? 'p-graph, priority 1 each' : 'p-graph, no priorities',
    way: prioritised
      ? 'new PGraph(nodes, dependencies).run({ concurrency: threads }), each node { priority: 1 } (p-graph adds the longest chain of dependants to it: longest chain first), running piscina.run()'
      : 'new PGraph(nodes, dependencies).run({ concurrency: threads }), nodes without priorities, running piscina.run()',
    async open(threads) {
      const piscina = piscinaPool(threads);
      await warmThreads((ms) => piscina.run({ ms }, { name: 'busy' }), threads);
      return {
        async run(jobs) {
          const began = new Float64Array(jobs.length).fill(Number.NaN);
          const done = new Float64Array(jobs.length).fill(Number.NaN);
          const results: unknown[] = new Array(jobs.length);
          const nodes: PGraphNodeRecord = {};
          const dependencies: [string, string][] = [];
          const started = performance.now();
          for (const job of jobs) {
            // Ids are never '' or '0': p-graph tests the id it takes from its queue for truth.
            nodes[`n${job.id}`] = {
              ...(prioritised ? { priority: 1 } : {}),
              run: async () => {
                began[job.id] = performance.now();
                results[job.id] = await piscina.run({ ms: job.ms }, { name: 'busy' });
                done[job.id] = performance.now();
              },
            };
            for (const dep of job.deps) dependencies.push([`n${dep}`, `n${job.id}`]);
          }
          await new PGraph(nodes, dependencies).run({ concurrency: threads });
          return { makespanMs: performance.now() - started, results, began, done };
        },
        close: () => piscina.destroy(),
      };
    },
  };
}

const lazyCritical = lazypoolGraph(true);
const graphContenders: readonly GraphContender[] = [lazyCritical, lazypoolGraph(false), fifoByHand, pGraph(true), pGraph(false)];

/** Throws unless every job returned its own length, and none began before what it waits for was done. */
function checkGraphRun(name: string, jobs: readonly GraphJob[], run: GraphRun, lowerBound: number): void {
  for (const job of jobs) {
    if (run.results[job.id] !== job.ms) throw new Error(`${name}: job ${job.id} returned ${String(run.results[job.id])}, not ${job.ms}`);
    const began = run.began[job.id]!;
    if (!Number.isFinite(began)) throw new Error(`${name}: job ${job.id} has no start time`);
    for (const dep of job.deps) {
      if (!(began >= run.done[dep]!)) throw new Error(`${name}: job ${job.id} began before its dependency ${dep} was done`);
    }
  }
  // Each busy job spins until its length has passed on its thread's clock: no schedule beats the bound.
  if (run.makespanMs < lowerBound) throw new Error(`${name}: makespan ${formatMs(run.makespanMs)} below the graph's lower bound ${formatMs(lowerBound)}`);
}

// ---------------------------------------------------------------------------------------------
// 2. A promoted job with a chain of unfinished dependencies behind a backlog

interface ChainRound {
  /** promote() (the chain just submitted) to the last job's result. */
  readonly latencyMs: number;
  /** promote() to the first job of the chain beginning on a thread. */
  readonly firstBeganMs: number;
  /** From each job's result to the next job of the chain beginning, the largest. */
  readonly largestGapMs: number;
  /** Time no job of the chain was on a thread: before the first began, and between each result and the next begin. */
  readonly waitingMs: number;
  /** The chain's jobs from their begin to their result on the main thread, added up (4 job lengths on a free machine). */
  readonly runningMs: number;
  /** Jobs waiting in the pool when the chain was promoted. */
  readonly waiting: number;
}

/** Submits A, B after A, C after B, D after C (D: 3 unfinished dependencies), promotes D, waits for it. */
async function promotedChain(pool: Pool, jobMs: number): Promise<ChainRound> {
  const started = performance.now();
  const chain: JobHandle[] = [];
  for (let link = 0; link < 4; link++) chain.push(pool.submit({ ms: jobMs }, { name: 'busy', ...(link > 0 ? { after: [chain[link - 1]!] } : {}) }));
  const waiting = pool.stats.queued - chain.length;
  chain[3]!.promote();
  const results = await Promise.all(chain);
  const latencyMs = performance.now() - started;
  if (results.some((result) => result !== jobMs)) throw new Error(`promoted chain: results ${results.join(', ')}`);
  let largestGapMs = 0;
  const firstBeganMs = chain[0]!.timing.startedAt! - started;
  let waitingMs = firstBeganMs;
  let runningMs = 0;
  for (let link = 0; link < 4; link++) {
    runningMs += chain[link]!.timing.settledAt! - chain[link]!.timing.startedAt!;
    if (link === 0) continue;
    const gap = chain[link]!.timing.startedAt! - chain[link - 1]!.timing.settledAt!;
    if (!(gap >= 0)) throw new Error(`promoted chain: job ${link} began before the one it waits for was done`);
    largestGapMs = Math.max(largestGapMs, gap);
    waitingMs += gap;
  }
  return { latencyMs, firstBeganMs, largestGapMs, waitingMs, runningMs, waiting };
}

// ---------------------------------------------------------------------------------------------
// 3. 100,000 dependants of one cancelled job

interface CancelRound {
  readonly submitMs: number;
  /** root.cancel() itself. */
  readonly cancelCallMs: number;
  /** root.cancel() until every dependant had settled (the last onDone callback). */
  readonly settledMs: number;
  readonly jobsRun: number;
}

async function cancelDependants(threads: number, dependants: number): Promise<CancelRound> {
  const pool = new Pool({ filename: jobsModule, maxThreads: threads, minThreads: threads });
  const gate = new Gate();
  const gates = Array.from({ length: threads }, () => pool.submit(gate.input, { name: 'gate' }));
  try {
    await gate.whenHeld(threads);
    const ledger = new Ledger();
    const root = pool.submit(ledger.input, { name: 'counted' });
    root.catch(ignore);
    let settled = 0;
    let allSettled!: () => void;
    const everySettled = new Promise<void>((resolve) => (allSettled = resolve));
    const onDone = () => {
      if (++settled === dependants) allSettled();
    };
    const handles: JobHandle[] = new Array(dependants);
    const submitted = performance.now();
    for (let index = 0; index < dependants; index++) handles[index] = pool.submit(ledger.input, { name: 'counted', after: [root] }).onDone(onDone);
    const submitMs = performance.now() - submitted;
    const started = performance.now();
    root.cancel('not needed');
    const cancelCallMs = performance.now() - started;
    await withinTime(everySettled, 60_000, 'dependants of a cancelled job settling');
    const settledMs = performance.now() - started;
    for (const handle of handles) {
      const outcome = handle.outcome;
      const reason = outcome?.status === 'rejected' ? outcome.reason : undefined;
      if (!(reason instanceof DependencyError) || !(reason.cause instanceof CancelledError)) {
        throw new Error(`a dependant settled as ${outcome?.status}, not with a DependencyError caused by the cancel`);
      }
      if (handle.timing.startedAt !== undefined) throw new Error('a dependant of the cancelled job began');
    }
    gate.open();
    await Promise.all(gates);
    await pool.idle();
    return { submitMs, cancelCallMs, settledMs, jobsRun: ledger.jobsRun };
  } finally {
    gate.open();
    await pool.close({ cancelQueued: true });
  }
}

/** The floor: one rejected promise and as many `then` callbacks, until every one has run. */
async function cancelPlainPromises(dependants: number): Promise<CancelRound> {
  let reject!: (reason: unknown) => void;
  const root = new Promise<void>((_, rejectRoot) => (reject = rejectRoot));
  let settled = 0;
  let ran = 0;
  let allSettled!: () => void;
  const everySettled = new Promise<void>((resolve) => (allSettled = resolve));
  const submitted = performance.now();
  for (let index = 0; index < dependants; index++) {
    root.then(() => void ran++).then(undefined, () => {
      if (++settled === dependants) allSettled();
    });
  }
  const submitMs = performance.now() - submitted;
  const started = performance.now();
  reject(new Error('not needed'));
  const cancelCallMs = performance.now() - started;
  await everySettled;
  return { submitMs, cancelCallMs, settledMs: performance.now() - started, jobsRun: ran };
}

// ---------------------------------------------------------------------------------------------
// 4. Heap per waiting job with one dependency

export type WaitingShape = 'plain' | 'after one shared job' | 'chain';

export interface DependentMemoryArgument {
  readonly shape: WaitingShape;
  readonly jobs: number;
  readonly threads: number;
}

export interface DependentMemoryResult {
  readonly heapBytesPerJob: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly submitMs: number;
  readonly queued: number;
}

/** Runs in a child process (lib/child.ts): `jobs` waiting tiny jobs of one shape, every thread held. */
export async function measureDependentJobs(argument: DependentMemoryArgument): Promise<DependentMemoryResult> {
  const pool = new Pool({ filename: jobsModule, maxThreads: argument.threads, minThreads: argument.threads });
  const gate = new Gate();
  for (let thread = 0; thread < argument.threads; thread++) pool.submit(gate.input, { name: 'gate' });
  await gate.whenHeld(argument.threads);
  // The job the others wait for is submitted, and the user's array allocated, before the first
  // reading: neither is the cost of the waiting jobs.
  const root = pool.submit(0, { name: 'tiny' });
  const kept: JobHandle[] = new Array(argument.jobs).fill(root);
  const heapBefore = settleHeap();
  const started = performance.now();
  for (let index = 0; index < argument.jobs; index++) {
    if (argument.shape === 'plain') kept[index] = pool.submit(index, { name: 'tiny' });
    else if (argument.shape === 'after one shared job') kept[index] = pool.submit(index, { name: 'tiny', after: [root] });
    else kept[index] = pool.submit(index, { name: 'tiny', after: [index === 0 ? root : kept[index - 1]!] });
  }
  const submitMs = performance.now() - started;
  const heapAfter = settleHeap();
  const queued = pool.stats.queued;
  if (kept.length !== argument.jobs) throw new Error('the kept jobs were lost'); // keeps `kept` alive to here
  if (queued < argument.jobs) throw new Error(`only ${queued} jobs waiting`);
  // No clean-up: the child process exits after replying, threads and waiting jobs with it.
  return { heapBytesPerJob: (heapAfter - heapBefore) / argument.jobs, heapBefore, heapAfter, submitMs, queued };
}

const waitingShapes: readonly WaitingShape[] = ['plain', 'after one shared job', 'chain'];

// ---------------------------------------------------------------------------------------------

export const graph: Benchmark = {
  name: 'graph',
  question: 'Build graphs (after): makespan against FIFO by hand and p-graph, a promoted chain behind 10,000 jobs, 100,000 dependants of a cancelled job, heap per dependent job.',
  async run(context) {
    const quick = context.quick;
    const shape = quick ? shapes.quick : shapes.full;
    const rounds = context.rounds ?? (quick ? 1 : 5);
    // The makespans move most with the machine's other work: two more rounds for them; the
    // 100,000 dependants take seconds a round, and three rounds are enough for their figure.
    const makespanRounds = context.rounds ?? (quick ? 1 : 7);
    const cancelRounds = context.rounds ?? (quick ? 1 : 3);
    const backlog = quick ? 1_000 : 10_000;
    const chainJobMs = 5;
    const chainsPerRound = 3;
    const behindCase = `chain, behind ${formatNumber(backlog)}`;
    const dependants = quick ? 10_000 : 100_000;
    const waitingJobs = quick ? 10_000 : 100_000;
    const samples: Sample[] = [];
    const notes: string[] = [];
    const threads = context.threads;

    // 1. Makespan, the contenders alternated, a fresh pool each round.
    const jobs = generateGraph(shape);
    const lowerBound = lowerBoundMs(jobs, threads);
    const criticalPath = criticalPathMs(jobs);
    const workMs = jobs.reduce((total, job) => total + job.ms, 0);
    context.log(
      `graph: ${jobs.length} jobs (${shape.independent} independent, a chain of ${shape.chain}, ${shape.side} others), ` +
        `${formatMs(workMs)} of work, critical path ${formatMs(criticalPath)}, lower bound ${formatMs(lowerBound)} on ${threads} threads`,
    );
    const warmUpJobs = generateGraph(shapes.warmUp);
    for (const contender of graphContenders) {
      const runner = await contender.open(threads);
      try {
        checkGraphRun(contender.name, warmUpJobs, await withinTime(runner.run(warmUpJobs), 60_000, `${contender.name}: warm-up`), 0);
      } finally {
        await runner.close();
      }
    }
    await alternate(graphContenders, makespanRounds, async (contender, round) => {
      const runner = await contender.open(threads);
      try {
        const run = await withinTime(runner.run(jobs), 120_000, `${contender.name}: the graph`);
        checkGraphRun(contender.name, jobs, run, lowerBound);
        samples.push({ contender: contender.name, case: 'makespan', round, value: run.makespanMs, unit: 'ms' });
        context.log(`round ${round + 1}/${makespanRounds} ${contender.name}: makespan ${formatMs(run.makespanMs)} (${formatRatio(run.makespanMs / lowerBound)} the lower bound)`);
      } finally {
        await runner.close();
      }
    });

    // 2. The promoted chain, behind a backlog, against the same chain on the same pool idle just before.
    for (let round = 0; round < rounds; round++) {
      const pool = new Pool({ filename: jobsModule, maxThreads: threads, minThreads: threads });
      try {
        await warmThreads((ms) => pool.submit({ ms }, { name: 'busy' }), threads);
        const idle: number[] = [];
        for (let pass = 0; pass < chainsPerRound; pass++) {
          const result = await promotedChain(pool, chainJobMs);
          idle.push(result.latencyMs);
          samples.push({ contender: 'lazypool promote()', case: 'chain, idle pool', round, value: result.latencyMs, unit: 'ms', extra: { ...result } });
        }
        for (let index = 0; index < backlog; index++) pool.submit({ ms: chainJobMs }, { name: 'busy' }).catch(ignore);
        await delay(20); // the backlog in its steady state: every thread busy, jobs sent ahead
        for (let pass = 0; pass < chainsPerRound; pass++) {
          const behind = await promotedChain(pool, chainJobMs);
          if (behind.waiting < backlog - 50 * threads) throw new Error(`only ${behind.waiting} jobs waiting behind the chain`);
          // Side by side: what the backlog added to this pool's own idle figure, taken moments before.
          const excessMs = behind.latencyMs - median(idle);
          samples.push({ contender: 'lazypool promote()', case: behindCase, round, value: behind.latencyMs, unit: 'ms', extra: { ...behind, excessMs } });
          context.log(
            `round ${round + 1}/${rounds} promoted chain behind ${formatNumber(behind.waiting)} waiting jobs: ${formatMs(behind.latencyMs)}, ` +
              `${formatMs(excessMs)} more than idle; no chain job on a thread ${formatMs(behind.waitingMs)} (first began after ${formatMs(behind.firstBeganMs)}, ` +
              `largest gap ${formatMs(behind.largestGapMs)}), its jobs begin to result ${formatMs(behind.runningMs)}`,
          );
        }
      } finally {
        await pool.close({ cancelQueued: true });
      }
    }

    // 3. Dependants of a cancelled job, alternated with plain promises.
    const cancelEntries = [
      { name: 'lazypool', measure: () => cancelDependants(threads, dependants) },
      { name: 'plain promises (floor)', measure: () => cancelPlainPromises(dependants) },
    ];
    await alternate(cancelEntries, cancelRounds, async (entry, round) => {
      const result = await entry.measure();
      if (result.jobsRun !== 0) throw new Error(`${entry.name}: ${result.jobsRun} dependants of the cancelled job ran`);
      samples.push({ contender: entry.name, case: `${formatNumber(dependants)} dependants settle`, round, value: result.settledMs, unit: 'ms', extra: { ...result } });
      context.log(
        `round ${round + 1}/${cancelRounds} ${entry.name}: ${formatNumber(dependants)} dependants submitted in ${formatMs(result.submitMs)}, ` +
          `cancel ${formatMs(result.cancelCallMs)}, all settled ${formatMs(result.settledMs)}, ${result.jobsRun} ran`,
      );
    });

    // 4. Heap, a clean child process per measure.
    const heapRounds = context.rounds ?? 1;
    for (let round = 0; round < heapRounds; round++) {
      for (const waitingShape of waitingShapes) {
        const result = await runInChild<DependentMemoryResult>(import.meta.url, 'measureDependentJobs', {
          shape: waitingShape,
          jobs: waitingJobs,
          threads,
        } satisfies DependentMemoryArgument);
        samples.push({ contender: waitingShape, case: 'heap per waiting job', round, value: result.heapBytesPerJob, unit: 'bytes', extra: { ...result } });
        context.log(`${waitingShape}: ${formatNumber(waitingJobs)} waiting, ${formatBytes(result.heapBytesPerJob)} heap per job (submitted in ${formatMs(result.submitMs)})`);
      }
    }

    // Figures, tables, targets.
    const makespan = (name: string) => medianOf(samples, name, 'makespan');
    const fifo = makespan(fifoByHand.name);
    /** The median over rounds of `name`'s makespan over FIFO by hand's in the same round (side by side). */
    const roundRatio = (name: string) =>
      median(
        Array.from({ length: makespanRounds }, (_, round) => {
          const of = (contender: string) => samples.find((sample) => sample.case === 'makespan' && sample.contender === contender && sample.round === round)?.value;
          return ratio(of(name) ?? Number.NaN, of(fifoByHand.name));
        }).filter(Number.isFinite),
      );
    const idleChain = medianOf(samples, 'lazypool promote()', 'chain, idle pool');
    const behindChain = medianOf(samples, 'lazypool promote()', behindCase);
    const behindSamples = samples.filter((sample) => sample.case === behindCase).map((sample) => sample.value);
    const excesses = samples.filter((sample) => sample.case === behindCase).map((sample) => sample.extra?.excessMs ?? Number.NaN);
    const allowedExcess = 3 * chainJobMs + 10;
    const chainBound = idleChain + allowedExcess;
    const cancelCase = `${formatNumber(dependants)} dependants settle`;
    const heap = (waitingShape: WaitingShape) => medianOf(samples, waitingShape, 'heap per waiting job');
    const cancelFigure = (name: string, field: keyof CancelRound) =>
      median(samples.filter((sample) => sample.contender === name && sample.case === cancelCase).map((sample) => sample.extra?.[field] ?? Number.NaN));

    const medians = [
      ...graphContenders.map((contender) => ({
        section: 'makespan',
        contender: contender.name,
        valueMs: makespan(contender.name),
        vsFifoByHand: ratio(makespan(contender.name), fifo),
        vsFifoByHandPerRound: roundRatio(contender.name),
        vsLowerBound: ratio(makespan(contender.name), lowerBound),
      })),
      { section: 'makespan', contender: 'lower bound', valueMs: lowerBound, vsFifoByHand: ratio(lowerBound, fifo), vsLowerBound: 1 },
      { section: 'promoted chain', contender: 'idle pool', valueMs: idleChain },
      {
        section: 'promoted chain',
        contender: `behind ${formatNumber(backlog)} waiting`,
        valueMs: behindChain,
        worstMs: Math.max(...behindSamples),
        excessMs: median(excesses),
        worstExcessMs: Math.max(...excesses),
        allowedExcessMs: allowedExcess,
      },
      ...cancelEntries.map((entry) => ({
        section: 'cancel',
        contender: entry.name,
        valueMs: cancelFigure(entry.name, 'settledMs'),
        submitMs: cancelFigure(entry.name, 'submitMs'),
        cancelCallMs: cancelFigure(entry.name, 'cancelCallMs'),
        jobsRun: cancelFigure(entry.name, 'jobsRun'),
      })),
      ...waitingShapes.map((waitingShape) => ({ section: 'heap', contender: waitingShape, bytesPerJob: heap(waitingShape), vsPlain: ratio(heap(waitingShape), heap('plain')) })),
    ];

    const tables: Table[] = [
      {
        title: `Makespan of a ${jobs.length}-job graph on ${threads} threads (median of ${makespanRounds} rounds; work ${formatMs(workMs)}, critical path ${formatMs(criticalPath)})`,
        columns: ['contender', 'makespan', 'vs FIFO by hand', 'same round (median)', 'vs lower bound'],
        rows: [
          ...graphContenders.map((contender) => [
            contender.name,
            formatMs(makespan(contender.name)),
            formatRatio(ratio(makespan(contender.name), fifo)),
            formatRatio(roundRatio(contender.name)),
            formatRatio(ratio(makespan(contender.name), lowerBound)),
          ]),
          ['lower bound: max(critical path, work / threads)', formatMs(lowerBound), formatRatio(ratio(lowerBound, fifo)), '-', '1.00x'],
        ],
      },
      {
        title: `A promoted job with a chain of 3 unfinished dependencies, ${chainJobMs} ms jobs (median of ${rounds} rounds x ${chainsPerRound})`,
        columns: ['where', 'promote() to result', 'worst', 'more than idle (worst)', 'no chain job on a thread', 'its jobs, begin to result', 'first job began after', 'largest gap in the chain'],
        rows: [
          [
            'idle pool',
            formatMs(idleChain),
            formatMs(Math.max(...samples.filter((sample) => sample.case === 'chain, idle pool').map((sample) => sample.value))),
            '-',
            formatMs(median(samples.filter((sample) => sample.case === 'chain, idle pool').map((sample) => sample.extra?.waitingMs ?? Number.NaN))),
            formatMs(median(samples.filter((sample) => sample.case === 'chain, idle pool').map((sample) => sample.extra?.runningMs ?? Number.NaN))),
            '-',
            '-',
          ],
          [
            `behind ${formatNumber(backlog)} waiting jobs`,
            formatMs(behindChain),
            formatMs(Math.max(...behindSamples)),
            `${formatMs(median(excesses))} (${formatMs(Math.max(...excesses))})`,
            formatMs(median(samples.filter((sample) => sample.case === behindCase).map((sample) => sample.extra?.waitingMs ?? Number.NaN))),
            formatMs(median(samples.filter((sample) => sample.case === behindCase).map((sample) => sample.extra?.runningMs ?? Number.NaN))),
            formatMs(median(samples.filter((sample) => sample.case === behindCase).map((sample) => sample.extra?.firstBeganMs ?? Number.NaN))),
            formatMs(median(samples.filter((sample) => sample.case === behindCase).map((sample) => sample.extra?.largestGapMs ?? Number.NaN))),
          ],
        ],
      },
      {
        title: `${formatNumber(dependants)} jobs waiting on one job, which is cancelled (median of ${cancelRounds} rounds)`,
        columns: ['contender', 'submit', 'cancel call', 'all settled', 'dependants that ran'],
        rows: cancelEntries.map((entry) => [
          entry.name,
          formatMs(cancelFigure(entry.name, 'submitMs')),
          formatMs(cancelFigure(entry.name, 'cancelCallMs')),
          formatMs(cancelFigure(entry.name, 'settledMs')),
          formatNumber(cancelFigure(entry.name, 'jobsRun')),
        ]),
      },
      {
        title: `Heap per waiting job, ${formatNumber(waitingJobs)} waiting, every thread held (one clean process each)`,
        columns: ['waiting job', 'heap per job', 'vs plain'],
        rows: waitingShapes.map((waitingShape) => [waitingShape, formatBytes(heap(waitingShape)), formatRatio(ratio(heap(waitingShape), heap('plain')))]),
      },
    ];

    const makespanShare = roundRatio(lazyCritical.name);
    const targets: Target[] = [
      {
        target: 'makespan with criticalPath <= 0.9x FIFO dispatch by hand (Piscina + await), the two measured in the same round',
        measured:
          `${formatRatio(makespanShare)} (median of the rounds; medians ${formatMs(makespan(lazyCritical.name))} vs ${formatMs(fifo)} = ${formatRatio(ratio(makespan(lazyCritical.name), fifo))}); ` +
          `default order ${formatRatio(roundRatio('lazypool (default order)'))}, p-graph with priorities ${formatRatio(roundRatio('p-graph, priority 1 each'))}`,
        met: makespanShare <= 0.9,
      },
      {
        target: `a promoted job with 3 unfinished dependencies behind ${formatNumber(backlog)} waiting jobs finishes within 3 job lengths + 10 ms (${allowedExcess} ms) of the same chain on the idle pool (side by side, each round)`,
        measured: `${formatMs(behindChain)} vs ${formatMs(idleChain)} idle: ${formatMs(median(excesses))} more (worst sample ${formatMs(Math.max(...excesses))} more)`,
        met: median(excesses) <= allowedExcess,
      },
      {
        target: `${formatNumber(dependants)} dependants of one cancelled job settle in < 200 ms, none ran`,
        measured: `${formatMs(cancelFigure('lazypool', 'settledMs'))} (plain promises: ${formatMs(cancelFigure('plain promises (floor)', 'settledMs'))}), ${formatNumber(cancelFigure('lazypool', 'jobsRun'))} ran`,
        met: cancelFigure('lazypool', 'settledMs') < 200 && cancelFigure('lazypool', 'jobsRun') === 0,
      },
      ...(['after one shared job', 'chain'] as const).map((waitingShape) => ({
        target: `heap per waiting job with one dependency (${waitingShape}) <= 1.5x a plain waiting job`,
        measured: `${formatBytes(heap(waitingShape))} vs ${formatBytes(heap('plain'))} = ${formatRatio(ratio(heap(waitingShape), heap('plain')))}`,
        met: ratio(heap(waitingShape), heap('plain')) <= 1.5,
      })),
    ];

    const chartRows = [
      ...[...graphContenders.map((contender) => contender.name), 'lower bound'].map((name) => ({
        panel: `makespan of the ${jobs.length}-job graph, ms (dashed: 0.9x FIFO by hand)`,
        bar: name,
        value: name === 'lower bound' ? lowerBound : makespan(name),
        target: 0.9 * fifo,
      })),
      ...[
        ['idle pool', idleChain],
        [`behind ${formatNumber(backlog)} waiting`, behindChain],
      ].map(([bar, value]) => ({ panel: 'promoted chain of 4 jobs of 5 ms, promote() to result, ms (dashed: target)', bar, value, target: chainBound })),
      ...cancelEntries.map((entry) => ({
        panel: `${formatNumber(dependants)} dependants of a cancelled job, until all settled, ms (dashed: 200 ms)`,
        bar: entry.name,
        value: cancelFigure(entry.name, 'settledMs'),
        target: 200,
      })),
      ...waitingShapes.map((waitingShape) => ({
        panel: 'heap per waiting job, bytes (dashed: 1.5x plain)',
        bar: waitingShape,
        value: heap(waitingShape),
        target: 1.5 * heap('plain'),
      })),
    ];

    return {
      settings: {
        threads,
        rounds,
        makespanRounds,
        cancelRounds,
        graph: { ...shape, jobs: jobs.length, workMs, criticalPathMs: criticalPath, lowerBoundMs: lowerBound },
        job: 'busy: a busy-wait of `ms` milliseconds on the thread (benchmarks/workers/jobs.mjs)',
        promotedChain: { backlog, jobMs: chainJobMs, steadyStateMs: 20, chainsPerRound, allowedExcessMs: allowedExcess },
        cancel: { dependants },
        heap: { waitingJobs, rounds: heapRounds },
        pGraph: installedVersion('p-graph'),
        ways: Object.fromEntries(graphContenders.map((contender) => [contender.name, contender.way])),
      },
      samples,
      medians,
      tables,
      targets,
      notes: [
        ...notes,
        ...graphContenders.map((contender) => `${contender.name}: ${contender.way}`),
        'Every contender runs the same graph (the same seed) on its own fresh pool of the same threads, rounds alternated; a busy job spins for its length on its thread, so a machine busy with other work stretches dispatch, not the jobs.',
        "criticalPath ranks a ready job by the longest chain through it (the jobs it waited for plus those waiting on it), submission order among equals: the whole long chain goes before the short independent jobs submitted before the graph. (Ranked by the chain after it alone, as first built, the chain's last links waited behind them: 0.7 s behind about 190 in one run.) p-graph's heap takes the most recently readied of equal priorities first, which also keeps a started chain going.",
        "The promoted chain runs on a pool with lazypool's default order (no criticalPath), so only promote() takes it past the backlog.",
        "Promoted chain: 'no chain job on a thread' is lazypool's share (before the first job began, and from each result to the next begin); 'its jobs, begin to result' is the jobs' own 4 x 5 ms and the trip of each result to the main thread, which the backlog stretches when its two spinning threads and the main thread share 2 cores.",
      ],
      chart: barChart({
        title: `Build graphs on ${threads} threads (issue 11)`,
        rows: chartRows,
        bar: 'bar',
        value: 'value',
        valueTitle: 'ms, or bytes for the heap',
        panel: 'panel',
        independentScales: true,
        rule: { field: 'target', label: 'target' },
      }),
    };
  },
};
