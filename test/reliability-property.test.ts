// A property over a real pool: fast-check writes random programs of submit / cancel / promote /
// setPriority / hold / start / pause / resume / concurrency change / crash-a-worker / close, runs each
// against a fresh pool on real threads, and checks after every step and at the end that
// - `stats` equal the states of the handles, and add up to the number of handles;
// - every handle settles exactly once, and as the program allows (a job that no step cancelled,
//   timed or crashed fulfils with its value);
// - jobs inside workers never exceed the concurrency plus the promotions (counted in the worker
//   with Atomics on a SharedArrayBuffer in the input);
// - no unhandledRejection, no warning;
// - close() resolves and leaves no thread, timer or port (`getActiveResourcesInfo()`), and no
//   listener on the process.
import test from 'ava';
import fc from 'fast-check';
import { CancelledError, Pool, PoolClosedError, TimeoutError, type JobHandle } from '../src/index.js';
import {
  activeResources,
  Allowance,
  faultsWorker,
  leftBehind,
  Ledger,
  processListeners,
  unlessHung,
  warmUp,
  watchProcess,
} from './fixtures/fault-harness.js';
import { counterWord, newCounter } from './fixtures/faults.js';

type Step =
  | { kind: 'submit'; priority: number; ms: number; hold: boolean; timeout: number | undefined }
  | { kind: 'crash'; priority: number; promote: boolean }
  | { kind: 'cancel' | 'promote' | 'hold' | 'start'; target: number }
  | { kind: 'setPriority'; target: number; priority: number }
  | { kind: 'pause' | 'resume' }
  | { kind: 'concurrency'; value: number }
  | { kind: 'wait'; how: 'microtask' | 'immediate' | 'timer'; ms: number }
  | { kind: 'close'; cancelQueued: boolean };

const target = fc.nat({ max: 1000 });
const priority = fc.integer({ min: -3, max: 3 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('submit' as const),
      priority,
      ms: fc.integer({ min: 0, max: 6 }),
      hold: fc.boolean(),
      timeout: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined, freq: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), priority, promote: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('cancel' as const, 'promote' as const), target }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('hold' as const, 'start' as const), target }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setPriority' as const), target, priority }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('concurrency' as const), value: fc.integer({ min: 1, max: 4 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      how: fc.constantFrom('microtask' as const, 'immediate' as const, 'timer' as const),
      ms: fc.integer({ min: 0, max: 8 }),
    }),
  },
);

/** A program: its steps, and where among them the pool is closed (steps after it still run). */
const program = fc
  .tuple(fc.array(step, { minLength: 10, maxLength: 60 }), fc.nat(), fc.boolean())
  .map(([steps, at, cancelQueued]) => {
    // Closed in the second half: enough happens before, and a few steps still come after.
    const half = Math.floor(steps.length / 2);
    const position = half + (at % (steps.length - half + 1));
    return [...steps.slice(0, position), { kind: 'close' as const, cancelQueued }, ...steps.slice(position)];
  });

interface Job {
  handle: JobHandle;
  step: Step;
  crash: boolean;
  /** Submitted after close(): refused at once. */
  refused: boolean;
  /** A cancel step returned true for it. */
  cancelledByStep: boolean;
}

/** What the programs did, over all runs: shows the property was not vacuous. */
const tally: Record<string, number> = {};
const count = (what: string, by = 1) => {
  tally[what] = (tally[what] ?? 0) + by;
};

async function runProgram(steps: Step[]): Promise<string[]> {
  const problems: string[] = [];
  const baseline = activeResources();
  const listenersBefore = processListeners();
  const watch = watchProcess();
  // One task per thread: a crashing job then takes no other job down with its thread. Both
  // threads are up before the program starts, so its jobs really run while it goes on.
  const pool = new Pool({ filename: faultsWorker, minThreads: 2, maxThreads: 2, concurrency: 2 });
  const warmUpJobs = await warmUp(pool);
  const counter = newCounter(pool.concurrency);
  const allowance = new Allowance(pool, counter);
  const ledger = new Ledger(pool);
  const jobs: Job[] = [];
  let closing: Promise<void> | undefined;
  let value = 0;

  const pick = (index: number): Job | undefined => (jobs.length === 0 ? undefined : jobs[index % jobs.length]);
  const checkStats = (where: string) => {
    const { concurrency, threads, ...stats } = pool.stats;
    stats.fulfilled -= warmUpJobs;
    const counts = ledger.counts();
    if (JSON.stringify(stats) !== JSON.stringify(counts)) {
      problems.push(`${where}: stats ${JSON.stringify(stats)} but handles ${JSON.stringify(counts)}`);
    }
  };

  for (const [index, current] of steps.entries()) {
    const where = `step ${index} (${JSON.stringify(current)})`;
    switch (current.kind) {
      case 'submit':
      case 'crash': {
        const crash = current.kind === 'crash';
        const input = { counter, ms: crash ? 1 : current.ms, crash, value: ++value };
        const options =
          current.kind === 'submit'
            ? { name: 'counted', priority: current.priority, hold: current.hold, timeout: current.timeout }
            : { name: 'counted', priority: current.priority };
        const refused = closing !== undefined;
        const handle = ledger.add(pool.submit(input, options));
        // Every handle is awaited: an unhandled rejection can only come from the pool itself.
        handle.then(undefined, () => {});
        jobs.push({ handle, step: current, crash, refused, cancelledByStep: false });
        if (current.kind === 'crash' && current.promote) allowance.promote(handle);
        break;
      }
      case 'cancel': {
        const job = pick(current.target);
        if (job !== undefined && job.handle.cancel(`step ${index}`)) job.cancelledByStep = true;
        break;
      }
      case 'promote': {
        const job = pick(current.target);
        if (job !== undefined) allowance.promote(job.handle);
        break;
      }
      case 'hold':
        pick(current.target)?.handle.hold();
        break;
      case 'start':
        pick(current.target)?.handle.start();
        break;
      case 'setPriority': {
        const job = pick(current.target);
        if (job !== undefined) {
          // A queued job sent ahead may begin on its thread at any moment: then setPriority()
          // cannot take it back, finds it running (it gets its 'start' first) and returns false.
          const before = job.handle.state;
          const changed = job.handle.setPriority(current.priority);
          const waiting = job.handle.state === 'held' || job.handle.state === 'queued';
          if (changed !== waiting || (changed && before !== job.handle.state)) problems.push(`${where}: setPriority while ${before} returned ${changed}, now ${job.handle.state}`);
        }
        break;
      }
      case 'pause':
        pool.pause();
        break;
      case 'resume':
        pool.resume();
        break;
      case 'concurrency':
        allowance.setConcurrency(current.value);
        break;
      case 'wait':
        if (current.how === 'microtask') await Promise.resolve();
        else if (current.how === 'immediate') await new Promise((resolve) => setImmediate(resolve));
        else await new Promise((resolve) => setTimeout(resolve, current.ms));
        break;
      case 'close':
        closing = pool.close({ cancelQueued: current.cancelQueued });
        break;
    }
    checkStats(where);
  }

  try {
    await unlessHung(closing!, 'close()', 10_000);
  } catch (error) {
    problems.push(String(error));
    return problems;
  }
  // close() has resolved: every handle has settled and the threads are gone, at once.
  for (const job of jobs) {
    if (job.handle.outcome === undefined) problems.push(`job ${job.handle.id} unsettled (${job.handle.state}) after close()`);
  }
  if (pool.stats.threads !== 0) problems.push(`${pool.stats.threads} threads after close()`);
  checkStats('after close()');
  const left = leftBehind(baseline);
  if (Object.keys(left).length > 0) problems.push(`left behind after close(): ${JSON.stringify(left)}`);
  if (Atomics.load(counter, counterWord.overruns) !== 0) {
    problems.push(`more jobs inside workers than allowed (at most ${Atomics.load(counter, counterWord.most)} at once)`);
  }
  if (Atomics.load(counter, counterWord.inside) !== 0) problems.push(`${Atomics.load(counter, counterWord.inside)} jobs still inside workers`);

  for (const job of jobs) {
    problems.push(...outcomeProblems(job));
    const reason = (job.handle.outcome as { reason?: unknown } | undefined)?.reason;
    count(job.refused ? 'refused' : job.crash && job.handle.state === 'rejected' && !(reason instanceof TimeoutError) ? 'crashed' : reason instanceof TimeoutError ? 'timed out' : job.handle.state);
  }
  count('promotions', allowance.promotions);
  tally['most inside at once'] = Math.max(tally['most inside at once'] ?? 0, Atomics.load(counter, counterWord.most));
  problems.push(...ledger.problems());
  // Unhandled rejections are reported after the microtask queue drains.
  await new Promise((resolve) => setImmediate(resolve));
  const seen = watch.stop();
  if (seen.unhandled.length > 0) problems.push(`unhandled rejections: ${seen.unhandled.map(String).join('; ')}`);
  if (seen.warnings.length > 0) problems.push(`warnings: ${seen.warnings.join('; ')}`);
  const listenersAfter = processListeners();
  if (JSON.stringify(listenersAfter) !== JSON.stringify(listenersBefore)) {
    problems.push(`process listeners before ${JSON.stringify(listenersBefore)}, after close() ${JSON.stringify(listenersAfter)}`);
  }
  return problems;
}

/** How `job` may have ended, given what the program did to it. */
function outcomeProblems(job: Job): string[] {
  const { handle } = job;
  const name = `job ${handle.id}`;
  const outcome = handle.outcome;
  if (outcome === undefined) return [];
  const reason = (outcome as { reason?: unknown }).reason;
  if (job.refused) {
    return handle.state === 'rejected' && reason instanceof PoolClosedError ? [] : [`${name}: submitted after close, ended ${handle.state}`];
  }
  if (handle.state === 'cancelled') {
    const cause = (reason as CancelledError).reason;
    // Cancelled by a cancel step, or by close() (held, or queued with cancelQueued).
    if (job.cancelledByStep || cause instanceof PoolClosedError) return [];
    return [`${name}: cancelled by nobody (${String(cause)})`];
  }
  if (job.cancelledByStep) return [`${name}: a cancel step returned true, but it ended ${handle.state}`];
  if (handle.state === 'rejected' && reason instanceof TimeoutError) {
    return job.step.kind === 'submit' && job.step.timeout !== undefined ? [] : [`${name}: timed out without a timeout`];
  }
  if (job.crash) {
    return handle.state === 'rejected' && /the worker exited while running job/.test(String((reason as Error)?.message))
      ? []
      : [`${name}: crashing job ended ${handle.state} (${String(reason)})`];
  }
  if (handle.state === 'fulfilled') {
    const expected = ((handle.input as { value: number }).value);
    return (outcome as { value: unknown }).value === expected ? [] : [`${name}: fulfilled with the wrong value`];
  }
  return [`${name}: ended ${handle.state} (${String(reason)})`];
}

test.serial('random programs over a real pool: stats add up, every job settles once as the program allows, the limit holds inside workers, close() leaves nothing behind', async (t) => {
  t.timeout(180_000);
  const numRuns = 25;
  // A fixed seed in CI keeps main green on a rare find; locally every run explores a new one.
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? 20_261_128 : Date.now() % 2 ** 31;
  let steps = 0;
  t.log(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  const result = await fc.check(
    fc.asyncProperty(program, async (steps_) => {
      steps += steps_.length;
      const problems = await runProgram(steps_);
      if (problems.length > 0) throw new Error(`${problems.length} problems:\n${problems.slice(0, 20).join('\n')}`);
    }),
    { numRuns, seed, endOnFailure: true },
  );
  if (result.failed) {
    t.fail(
      `program ${result.numRuns} of seed ${seed} failed:\n${String((result.errorInstance as Error | undefined)?.message ?? result.errorInstance)}\n` +
        `program: ${JSON.stringify(result.counterexample?.[0])}`,
    );
    return;
  }
  t.log(`${numRuns} programs, ${steps} steps in all; jobs: ${JSON.stringify(tally)}`);
  t.is(result.numRuns, numRuns, 'every program ran, and none found a problem');
});
