/**
 * A model test of the scheduler: random programs of submit / cancel / promote / setPriority / hold /
 * start / pause / resume / concurrency changes / completions run against a real pool (in-process
 * executor, so every completion is the test's to decide) and against a reference model written
 * as plainly as possible. Nothing begins inside a step: right after it the two must agree with no
 * job begun; one microtask later (a turn, where a slot frees only when a job's promise settles)
 * the jobs it let go have begun. The two must agree on every job's state, the order in which jobs
 * started, and the counts; onDone never runs inside a step; every handle settles exactly once.
 * Concurrency ranges over 0–3 and Infinity.
 */
import test from 'ava';
import fc from 'fast-check';
import { Pool, type JobHandle, type JobState } from '../src/index.js';
import { deferred } from './helpers.js';
import { ciSeed } from './helpers.js';

type Command =
  | { kind: 'submit'; priority: number; hold: boolean }
  | { kind: 'cancel' | 'promote' | 'hold' | 'start' | 'complete' | 'fail'; job: number }
  | { kind: 'setPriority'; job: number; priority: number }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'concurrency'; value: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('submit' as const), priority: fc.integer({ min: -2, max: 2 }), hold: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('complete' as const, 'fail' as const), job: fc.nat(40) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('cancel' as const, 'promote' as const, 'hold' as const, 'start' as const), job: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setPriority' as const), job: fc.nat(40), priority: fc.integer({ min: -2, max: 2 }) }) },
  { weight: 1, arbitrary: fc.constantFrom<Command>({ kind: 'pause' }, { kind: 'resume' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('concurrency' as const), value: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(Infinity)) }) },
);

interface ModelJob {
  id: number;
  priority: number;
  state: JobState;
  /** Promoted once: it goes first whenever it waits (sticky, as in the pool). */
  promoted: boolean;
  /** Its place among promoted jobs waiting: the order in which they (re)joined the urgent line. */
  urgentSeq: number;
}

/**
 * The contract, written plainly. A step changes states at once but begins nothing: a job begins
 * on a later microtask (`begin()`), promoted jobs first in the order they were promoted (past the
 * limit and a pause), then queued jobs by priority, FIFO among equals, while fewer than
 * `concurrency` run and the pool is not paused. What a step does before that microtask (hold,
 * cancel, reprioritise, pause, lower the limit) decides which jobs begin.
 */
class Model {
  readonly jobs: ModelJob[] = [];
  readonly started: number[] = [];
  busy = 0;
  paused = false;
  #urgentSeq = 0;
  constructor(public concurrency: number) {}

  begin(): void {
    const urgent = this.jobs.filter((job) => job.state === 'queued' && job.promoted).sort((a, b) => a.urgentSeq - b.urgentSeq);
    for (const job of urgent) this.launch(job);
    while (!this.paused && this.busy < this.concurrency) {
      const waiting = this.jobs.filter((job) => job.state === 'queued');
      if (waiting.length === 0) return;
      waiting.sort((a, b) => b.priority - a.priority || a.id - b.id);
      this.launch(waiting[0]);
    }
  }
  launch(job: ModelJob): void {
    job.state = 'running';
    this.busy++;
    this.started.push(job.id);
  }
  submit(priority: number, hold: boolean): void {
    this.jobs.push({ id: this.jobs.length + 1, priority, state: hold ? 'held' : 'queued', promoted: false, urgentSeq: 0 });
  }
  apply(command: Command): void {
    if (command.kind === 'submit') return this.submit(command.priority, command.hold);
    if (command.kind === 'pause') return void (this.paused = true);
    if (command.kind === 'resume') return void (this.paused = false);
    if (command.kind === 'concurrency') return void (this.concurrency = command.value);
    const job = this.jobs[command.job % Math.max(1, this.jobs.length)];
    if (job === undefined) return;
    const waiting = job.state === 'held' || job.state === 'queued';
    switch (command.kind) {
      case 'cancel':
        if (job.state === 'running') this.busy--;
        if (waiting || job.state === 'running') job.state = 'cancelled';
        break;
      case 'promote':
        if (waiting) {
          job.state = 'queued';
          job.promoted = true;
          job.urgentSeq = ++this.#urgentSeq;
        }
        break;
      case 'hold':
        if (job.state === 'queued') job.state = 'held';
        break;
      case 'start':
        if (job.state === 'held') {
          job.state = 'queued';
          if (job.promoted) job.urgentSeq = ++this.#urgentSeq;
        }
        break;
      case 'setPriority':
        if (waiting) job.priority = command.priority;
        break;
      case 'complete':
      case 'fail':
        if (job.state === 'running') {
          job.state = command.kind === 'complete' ? 'fulfilled' : 'rejected';
          this.busy--;
        }
        break;
    }
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('the scheduler agrees with the reference model on every random program', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(Infinity)), fc.array(command, { minLength: 10, maxLength: 80, size: "max" }), async (concurrency, commands) => {
      const started: number[] = [];
      const finishers = new Map<number, ReturnType<typeof deferred>>();
      const pool = new Pool({
        run: (id: number, job) => {
          started.push(id);
          const finish = deferred();
          finishers.set(id, finish);
          job.signal.addEventListener('abort', () => finish.reject(new Error('stopped')));
          return finish.promise;
        },
        concurrency,
      });
      const model = new Model(concurrency);
      const handles: JobHandle[] = [];
      const settlements = new Map<number, number>();
      let settledBefore = 0;
      const agree = (when: string): boolean => {
        const states = handles.map((h) => h.state);
        const expected = model.jobs.map((j) => j.state);
        if (JSON.stringify(states) !== JSON.stringify(expected)) {
          t.fail(`${when}: states ${JSON.stringify(states)}, model ${JSON.stringify(expected)}`);
          return false;
        }
        if (JSON.stringify(started) !== JSON.stringify(model.started)) {
          t.fail(`${when}: started ${JSON.stringify(started)}, model ${JSON.stringify(model.started)}`);
          return false;
        }
        return true;
      };
      for (const step of commands) {
        // A completion, or a running job cancelled, frees its slot only once the job's promise
        // has settled: a few microtasks later.
        const target = 'job' in step ? handles[step.job % Math.max(1, handles.length)] : undefined;
        const slow = step.kind === 'complete' || step.kind === 'fail' || (step.kind === 'cancel' && target?.state === 'running');
        if (step.kind === 'submit') {
          const id = handles.length + 1;
          const handle = pool.submit(id, { priority: step.priority, hold: step.hold });
          handle.onDone(() => settlements.set(id, (settlements.get(id) ?? 0) + 1));
          handles.push(handle);
        } else if (step.kind === 'pause') pool.pause();
        else if (step.kind === 'resume') pool.resume();
        else if (step.kind === 'concurrency') pool.concurrency = step.value;
        else {
          const handle = handles[step.job % Math.max(1, handles.length)];
          if (handle !== undefined) {
            if (step.kind === 'cancel') handle.cancel();
            else if (step.kind === 'promote') handle.promote();
            else if (step.kind === 'hold') handle.hold();
            else if (step.kind === 'start') handle.start();
            else if (step.kind === 'setPriority') handle.setPriority(step.priority);
            else if (handle.state === 'running') {
              const finish = finishers.get(handle.input as number)!;
              if (step.kind === 'complete') finish.resolve('done');
              else finish.reject(new Error('failed'));
            }
          }
        }
        model.apply(step);
        // Nothing begins inside the step, and nothing settled by it is reported inside it.
        const settledNow = [...settlements.values()].reduce((sum, n) => sum + n, 0);
        if (step.kind !== 'complete' && step.kind !== 'fail' && !agree(`during ${JSON.stringify(step)}`)) return false;
        if (settledNow !== settledBefore) {
          t.fail(`during ${JSON.stringify(step)}: onDone ran inside the step`);
          return false;
        }
        // Otherwise the jobs a step lets go begin one microtask later, not before.
        if (slow) await turn();
        else await Promise.resolve();
        model.begin();
        if (!agree(`after ${JSON.stringify(step)}`)) return false;
        await turn();
        if (!agree(`a turn after ${JSON.stringify(step)}`)) return false;
        settledBefore = [...settlements.values()].reduce((sum, n) => sum + n, 0);
        const expected = model.jobs.map((j) => j.state);
        if (settledBefore !== expected.filter((state) => state === 'fulfilled' || state === 'rejected' || state === 'cancelled').length) {
          t.fail(`after ${JSON.stringify(step)}: ${settledBefore} onDone calls, model ${JSON.stringify(expected)}`);
          return false;
        }
        const count = (state: JobState) => expected.filter((s) => s === state).length;
        const stats = pool.stats;
        if (
          stats.held !== count('held') ||
          stats.queued !== count('queued') ||
          stats.running !== count('running') ||
          stats.fulfilled !== count('fulfilled') ||
          stats.rejected !== count('rejected') ||
          stats.cancelled !== count('cancelled')
        ) {
          t.fail(`after ${JSON.stringify(step)}: stats ${JSON.stringify(stats)} disagree with the model`);
          return false;
        }
      }
      const closed = pool.close({ cancelQueued: true });
      for (const [id, finish] of finishers) if (handles[id - 1].state === 'running') finish.resolve('late');
      await closed;
      // Every handle settled exactly once.
      return handles.every((handle) => settlements.get(handle.input as number) === 1);
    }),
    { numRuns: 150, ...ciSeed },
  );
  t.pass('fast-check found no program on which the two disagree');
});
