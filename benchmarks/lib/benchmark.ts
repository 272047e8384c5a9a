// What a benchmark is to the runner: a name, the question it answers, and a function that
// measures and returns tables, samples, medians, targets and a chart. The runner prints and
// writes them, so every benchmark's output has the same shape.
import type { ChartSpec } from './chart.js';
import type { Contender, PoolUnderTest } from './contenders.js';
import type { Table } from './format.js';

export interface BenchmarkContext {
  /** Small sizes and one or two rounds: a smoke run that checks the benchmark works, not a measure. */
  readonly quick: boolean;
  /** Worker threads every contender gets (the same for all). */
  readonly threads: number;
  /** Rounds asked for on the command line; each benchmark picks its own default otherwise. */
  readonly rounds: number | undefined;
  /** Progress lines, to stderr, so stdout holds only the tables. */
  log(line: string): void;
}

/** One measured value, as it was measured: the raw material for every median. */
export interface Sample {
  readonly contender: string;
  /** What was measured: the job kind, the backlog size, the thread count… */
  readonly case: string;
  readonly round: number;
  readonly value: number;
  readonly unit: string;
  /** Secondary figures taken in the same measure (peak RSS, time to first result…). */
  readonly extra?: Record<string, number>;
}

/** A target from the issue, and whether this run meets it. */
export interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

export interface BenchmarkReport {
  /** The sizes and options the run used, so that it can be repeated. */
  readonly settings: Record<string, unknown>;
  readonly samples: readonly Sample[];
  /** One row per contender and case: the medians the tables and chart are made of. */
  readonly medians: readonly Record<string, unknown>[];
  readonly tables: readonly Table[];
  readonly targets: readonly Target[];
  readonly chart: ChartSpec;
  /** Anything a reader needs to read the figures right (a contender that was skipped, why). */
  readonly notes: readonly string[];
}

export interface Benchmark {
  /** The name on the command line (`npm run bench -- <name>`) and of the result files. */
  readonly name: string;
  /** The question it answers, in one line (shown by `--help` and kept in the JSON). */
  readonly question: string;
  run(context: BenchmarkContext): Promise<BenchmarkReport>;
}

/**
 * Measures every contender once per round, in an order rotated each round, so that a slow
 * stretch of the machine or the warm-up of the process is spread over all contenders rather
 * than charged to whichever always went first.
 */
export async function alternate<C>(
  contenders: readonly C[],
  rounds: number,
  measure: (contender: C, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < contenders.length; turn++) {
      await measure(contenders[(turn + round) % contenders.length], round);
    }
  }
}

/**
 * Opens `contender`'s pool, or records why it could not (once per contender) and returns
 * undefined, so that one pool failing to start costs its rows, not the whole benchmark.
 */
export async function openOrSkip(
  contender: Contender,
  threads: number,
  notes: string[],
): Promise<PoolUnderTest | undefined> {
  try {
    return await contender.open(threads);
  } catch (error) {
    const note = `${contender.name} skipped: ${error instanceof Error ? error.message : String(error)}`;
    if (!notes.includes(note)) notes.push(note);
    return undefined;
  }
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms` (a hung pool must not hang the run). */
export async function withinTime<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a pool may take to shut down before the benchmark moves on without it. */
const destroyPatienceMs = 10_000;

/**
 * Destroys `pool`, or gives up after ten seconds with a note. Seen with poolifier 5.3: now and
 * then its destroy() never resolves and holds nothing that keeps the process alive, so an
 * unguarded `await` ends the whole run (exit code 13, no message).
 */
export async function destroyPool(pool: PoolUnderTest, name: string, notes: string[]): Promise<void> {
  try {
    await withinTime(pool.destroy(), destroyPatienceMs, `${name}: destroy()`);
  } catch (error) {
    const note = error instanceof Error ? error.message : String(error);
    notes.push(`${note} (the benchmark went on; its threads end with the process)`);
  }
}
