// Differential property for a job's record while it waits for its dependencies (`after`): a plain
// count for most jobs, a Blocked record for those that carry more (an input function's results, a
// critical-path depth, a promotion). The two are one state kept two ways, so the same random graph,
// put through the same random hold / start / promote / cancel / setPriority calls while the pool is
// paused, must come out the same whether every input is a value (the count path) or a function
// that returns that value (the Blocked path): the order jobs began, the whole log of starts and
// settlements, every handle's final state and why it failed (DependencyError on which dependency,
// CancelledError, or its own error), the priorities and states right after the calls, what each
// call returned; and in each run every handle settled exactly once, and began once if it fulfilled
// or failed on its own, never otherwise. (A promote() of a waiting job makes a Blocked record in
// the value run too.) Then again with `criticalPath: true`, where a waiting job of the value run
// has a Blocked record for its depth alone, against one with the input function's results too.
// What only the Blocked path carries is checked as well: each input function called was given its
// dependencies' results (with afterSettled, their outcomes), in order.
//
// Checked to fail (by hand, not committed): reading one more than the priority of each held job in
// the function run shrank to one held job and a hold() (priorities: values [0], functions [1]); and
// recording an input function's arguments reversed shrank to a job after two failed ones.
import test from 'ava';
import fc from 'fast-check';
import { CancelledError, DependencyError, Pool, type JobHandle } from '../src/index.js';
import { ciSeed } from './helpers.js';

interface Spec {
  priority: number;
  dependencies: number[];
  fails: boolean;
  afterSettled: boolean;
  /** Submitted with `hold: true`. */
  held: boolean;
}

type Op = { kind: 'hold' | 'start' | 'promote' | 'cancel'; job: number } | { kind: 'setPriority'; job: number; priority: number };

// Drawn without chain() so that a counterexample shrinks well: dependencies and the job an op
// applies to are drawn as small numbers and brought into range (an earlier job, a job there is).
const rawSpec = fc.record({
  priority: fc.integer({ min: 0, max: 2 }),
  dependencies: fc.uniqueArray(fc.nat({ max: 10 }), { maxLength: 3 }),
  fails: fc.integer({ min: 0, max: 3 }).map((roll) => roll === 0),
  afterSettled: fc.integer({ min: 0, max: 3 }).map((roll) => roll === 0),
  held: fc.integer({ min: 0, max: 7 }).map((roll) => roll === 0),
});
const rawOp = fc.record({
  kind: fc.constantFrom('hold' as const, 'start' as const, 'promote' as const, 'cancel' as const, 'setPriority' as const),
  job: fc.nat({ max: 11 }),
  priority: fc.integer({ min: 0, max: 3 }),
});

const scenario: fc.Arbitrary<{ specs: Spec[]; ops: Op[] }> = fc
  .tuple(fc.array(rawSpec, { minLength: 1, maxLength: 12 }), fc.array(rawOp, { maxLength: 10 }))
  .map(([raw, rawOps]) => ({
    specs: raw.map((spec, index) => ({
      ...spec,
      dependencies: index === 0 ? [] : [...new Set(spec.dependencies.map((dependency) => dependency % index))],
    })),
    ops: rawOps.map(({ kind, job, priority }): Op => (kind === 'setPriority' ? { kind, job: job % raw.length, priority } : { kind, job: job % raw.length })),
  }));

interface Observation {
  /** What each call returned (cancel and setPriority say whether they did anything). */
  returned: unknown[];
  /** Right after the calls, before the held ones are started. */
  priorities: number[];
  statesAfterOps: string[];
  /** Job indices in the order `run` was called. */
  began: number[];
  /** Starts, ends and settlements (onDone), in order. */
  log: string[];
  states: string[];
  /** How each settled: `fulfilled`, `own error`, `cancelled`, `dependency <index> failed`, or what else it was. */
  outcomes: string[];
  doneCalls: number[];
  startCalls: number[];
  /** Function run only: what was wrong with the arguments an input function got. */
  given: string[];
}

async function observe(specs: Spec[], ops: Op[], inputFunction: boolean, criticalPath: boolean): Promise<Observation> {
  const size = specs.length;
  const began: number[] = [];
  const log: string[] = [];
  const errors = specs.map((_, index) => new Error(`job ${index} fails`));
  const pool = new Pool({
    concurrency: 1,
    criticalPath,
    run: async (input: { index: number }) => {
      began.push(input.index);
      log.push(`start ${input.index}`);
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`end ${input.index}`);
      if (specs[input.index]!.fails) throw errors[input.index]!;
      return input.index;
    },
  });
  pool.pause();
  const handles: JobHandle[] = [];
  const doneCalls = new Array<number>(size).fill(0);
  const startCalls = new Array<number>(size).fill(0);
  const received: (unknown[] | undefined)[] = new Array(size).fill(undefined);
  for (const [index, spec] of specs.entries()) {
    const options: { priority: number; after?: JobHandle[]; afterSettled?: boolean; hold?: boolean } = { priority: spec.priority };
    if (spec.dependencies.length > 0) {
      options.after = spec.dependencies.map((dependency) => handles[dependency]!);
      if (spec.afterSettled) options.afterSettled = true;
    }
    if (spec.held) options.hold = true;
    const input = (...given: unknown[]) => {
      received[index] = given;
      return { index };
    };
    const handle = pool.submit(inputFunction ? input : { index }, options);
    handle.onDone(() => {
      doneCalls[index]!++;
      log.push(`settle ${index}`);
    });
    handle.onStart(() => startCalls[index]!++);
    handle.catch(() => {});
    handles.push(handle);
  }
  const returned: unknown[] = [];
  for (const op of ops) {
    const handle = handles[op.job]!;
    switch (op.kind) {
      case 'hold':
        handle.hold();
        returned.push(undefined);
        break;
      case 'start':
        handle.start();
        returned.push(undefined);
        break;
      case 'promote':
        handle.promote();
        returned.push(undefined);
        break;
      case 'cancel':
        returned.push(handle.cancel());
        break;
      case 'setPriority':
        returned.push(handle.setPriority(op.priority));
        break;
    }
  }
  const priorities = handles.map((handle) => handle.priority);
  const statesAfterOps = handles.map((handle) => handle.state);
  // A job left held would keep idle() waiting for nothing: every one is started, in index order.
  for (const handle of handles) if (handle.state === 'held') handle.start();
  pool.resume();
  await pool.idle();
  // onDone callbacks run on a later microtask.
  await new Promise((resolve) => setImmediate(resolve));
  await pool.close();

  const outcomes = handles.map((handle, index) => {
    const outcome = handle.outcome;
    if (outcome === undefined) return `unsettled (${handle.state})`;
    if (outcome.status === 'fulfilled') return outcome.value === index ? 'fulfilled' : `fulfilled with ${String(outcome.value)}`;
    const reason = outcome.reason;
    if (reason === errors[index]) return 'own error';
    if (reason instanceof CancelledError) return 'cancelled';
    if (reason instanceof DependencyError) return `dependency ${handles.indexOf(reason.dependency as JobHandle)} failed`;
    return `rejected with ${String(reason)}`;
  });
  const given: string[] = [];
  for (const [index, args] of received.entries()) {
    if (args === undefined) continue;
    const spec = specs[index]!;
    const expected = spec.dependencies.map((dependency) => (spec.afterSettled ? handles[dependency]!.outcome : dependency));
    const wrong = args.length !== expected.length ? 0 : args.findIndex((arg, place) => arg !== expected[place]);
    if (wrong >= 0) {
      const show = (values: unknown[]) => `[${values.map(describe).join(', ')}]`;
      given.push(`job ${index}'s input function got ${show(args)}, not its dependencies' ${spec.afterSettled ? 'outcomes' : 'results'} ${show(expected)}`);
    }
  }
  return {
    returned,
    priorities,
    statesAfterOps,
    began,
    log,
    states: handles.map((handle) => handle.state),
    outcomes,
    doneCalls,
    startCalls,
    given,
  };
}

/** An argument an input function got, readably: a result, or an outcome (the very object the dependency's handle has, or not). */
function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const outcome = value as { status?: unknown; value?: unknown; reason?: unknown };
  if (outcome.status === 'fulfilled') return `{fulfilled ${String(outcome.value)}}`;
  if (outcome.status === 'rejected') return `{rejected ${outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)}}`;
  return JSON.stringify(value);
}

/** What must hold of one run on its own: each job settled once, and began (once) only if it fulfilled or failed on its own. */
function selfProblems(observation: Observation): string[] {
  const problems: string[] = [...observation.given];
  for (const [index, count] of observation.doneCalls.entries()) if (count !== 1) problems.push(`job ${index} settled ${count} times`);
  for (const [index, outcome] of observation.outcomes.entries()) {
    const runs = observation.began.filter((each) => each === index).length;
    const ran = outcome === 'fulfilled' || outcome === 'own error';
    // Every cancel() comes while the pool is paused, before anything began: a cancelled job never ran.
    if (runs !== (ran ? 1 : 0)) problems.push(`job ${index} ran ${runs} times and is ${outcome}`);
    if (observation.startCalls[index] !== runs) problems.push(`job ${index} ran ${runs} times, onStart was called ${observation.startCalls[index]} times`);
  }
  return problems;
}

/** The fields in which two observations differ, each with both values. */
function differences(counts: Observation, blocked: Observation): string[] {
  const found: string[] = [];
  // `given` is the function run's alone (selfProblems reports it).
  for (const key of Object.keys(counts).filter((key) => key !== 'given') as (keyof Observation)[]) {
    const [a, b] = [JSON.stringify(counts[key]), JSON.stringify(blocked[key])];
    if (a !== b) found.push(`${key}:\n  values:    ${a}\n  functions: ${b}`);
  }
  return found;
}

const numRuns = 150;

for (const criticalPath of [false, true]) {
  test(`a waiting job behaves the same kept as a count or as a Blocked record (criticalPath ${criticalPath})`, async (t) => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ specs, ops }) => {
        runs++;
        const counts = await observe(specs, ops, false, criticalPath);
        const blocked = await observe(specs, ops, true, criticalPath);
        const problems = [
          ...selfProblems(counts).map((problem) => `values: ${problem}`),
          ...selfProblems(blocked).map((problem) => `functions: ${problem}`),
          ...differences(counts, blocked),
        ];
        if (problems.length > 0) throw new Error(`${problems.join('\n')}\ngraph: ${JSON.stringify(specs)}\nops: ${JSON.stringify(ops)}`);
      }),
      { ...ciSeed, numRuns, includeErrorInReport: true },
    );
    t.is(runs, numRuns);
  });
}
