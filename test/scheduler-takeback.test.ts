/**
 * A model test of the scheduler over an executor that sends jobs ahead, as the thread executor
 * does: random programs run against a real pool given a test executor (`new Pool({ executor })`)
 * and against a reference model written as plainly as possible.
 *
 * The test executor has `places` (its capacity: jobs it can run at once) and takes jobs from the
 * pool whenever it holds fewer than `places + ahead` (begun or not; promoted jobs past that), as
 * the thread executor keeps two tasks per thread. A job it holds is 'sent ahead': still `queued`.
 * Only the program decides what happens next: `begin` begins the first job the executor holds, in
 * the order it took them, where a place is free (the executor does not reorder: keeping the right
 * job first is the pool's business, by taking back what a better job should overtake); `claim`
 * begins it the same way but tells the pool only at the end of the step, after another operation,
 * as a thread that claimed a job before the main thread looked (then `takeBack` must answer false
 * and report the start itself); `complete`/`fail` stop a job that began (a cancelled one included:
 * its place stays taken until it really stops); `return` gives back any job sent ahead (the
 * program picks which), as when its thread died: it must still begin before the jobs sent after it.
 * `takeBack` succeeds for every job the program did not have begin. The executor asks the pool for
 * more only when the pool wakes it: a take-back that frees room must be followed by a wake.
 *
 * After every step the pool and the model agree on every job's state, the order in which jobs
 * began (promoted jobs first in the order promoted, then highest priority first, FIFO on ties),
 * the 'start' events, and the counts. Whenever a job begins: not while paused and at most
 * `concurrency` at once (promoted jobs aside). onDone never runs inside a step; every handle
 * settles exactly once. Concurrency: the default (the executor's capacity), 0–4 and Infinity,
 * changed by the program. The program ends with close(), with or without cancelQueued: held jobs
 * are cancelled at once; with cancelQueued every queued job (sent ahead or not) is cancelled at
 * once and none begins; without it the queued jobs run out in the model's order (past a pause and
 * concurrency 0). Either way the pool and the model agree once it has closed.
 *
 * Four gaps the property found (fixed in ce68ee9) are kept as tests at the end of this file, each
 * on its smallest program: close({ cancelQueued: true }) letting a queued job out, hold() of a job
 * sent ahead not waking the executor, a job given back beginning after the jobs sent after it, and
 * start() of a held promoted job leaving the jobs sent ahead to begin first; and two more once
 * `return` could give back a promoted job (it began after the jobs sent after it, or promoted
 * after it).
 *
 * Checked to fail when #preempt takes nothing back, and when pause() takes nothing back (the
 * in-process model test passes either way).
 */
import test from 'ava';
import fc from 'fast-check';
import { Pool, type JobHandle, type JobState } from '../src/index.js';
import type { Executor, ExecutorJob, JobSource } from '../src/executor.js';
import { ciSeed } from './helpers.js';

type Operation =
  | { kind: 'submit'; priority: number; hold: boolean }
  | { kind: 'cancel' | 'promote' | 'hold' | 'start'; job: number }
  | { kind: 'setPriority'; job: number; priority: number }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'concurrency'; value: number };

type Command =
  | Operation
  | { kind: 'begin' }
  | { kind: 'claim'; then: Operation }
  | { kind: 'complete' | 'fail'; pick: number }
  | { kind: 'return'; pick: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('submit' as const), priority: fc.integer({ min: -2, max: 2 }), hold: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('cancel' as const, 'promote' as const, 'hold' as const, 'start' as const), job: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setPriority' as const), job: fc.nat(40), priority: fc.integer({ min: -2, max: 2 }) }) },
  { weight: 1, arbitrary: fc.constantFrom<Operation>({ kind: 'pause' }, { kind: 'resume' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('concurrency' as const), value: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(Infinity)) }) },
);

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 10, arbitrary: operation },
  { weight: 4, arbitrary: fc.constant({ kind: 'begin' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('claim' as const), then: operation }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('complete' as const, 'fail' as const), pick: fc.nat(8) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('return' as const), pick: fc.nat(8) }) },
);

/**
 * The executor under the program's control. Problems with what the pool asks of it are collected
 * in `problems` (an executor must not throw into the pool).
 */
class SteppedExecutor implements Executor {
  readonly threads = 0;
  readonly capacity: number;
  /** Jobs taken and not begun, in the order taken: what `begin` begins first. */
  readonly sent: ExecutorJob[] = [];
  /** Jobs begun (claimed or reported) and not stopped, in the order they began. */
  readonly running: ExecutorJob[] = [];
  /** Jobs claimed but not yet reported to the pool. */
  readonly claimed = new Set<ExecutorJob>();
  /** Ids, in the order jobs began. */
  readonly began: number[] = [];
  readonly problems: string[] = [];
  closed = 0;
  #source: JobSource | undefined;
  #waking = false;
  #again = false;

  constructor(
    readonly places: number,
    readonly ahead: number,
    /** Asked at each begin: whether the pool is paused, and its concurrency now. */
    readonly pool: () => { paused: boolean; concurrency: number },
  ) {
    this.capacity = places;
  }

  get source(): JobSource {
    return this.#source!;
  }

  attach(source: JobSource): void {
    if (this.#source !== undefined) this.problems.push('attach() called twice');
    this.#source = source;
  }

  wake(): void {
    if (this.#waking) {
      this.#again = true;
      return;
    }
    this.#waking = true;
    try {
      do {
        this.#again = false;
        this.#fill();
      } while (this.#again);
    } finally {
      this.#waking = false;
    }
  }

  #fill(): void {
    for (;;) {
      const full = this.sent.length + this.running.length >= this.places + this.ahead;
      const job = this.source.take(full);
      if (job === undefined) return;
      if (full && !job.promoted) this.problems.push(`job ${job.id} handed over past the executor's room, not promoted`);
      if (this.sent.includes(job) || this.running.includes(job)) this.problems.push(`job ${job.id} handed over twice`);
      this.sent.push(job);
    }
  }

  /** Begins the first job sent ahead, where a place is free; `tell`: report it to the pool now. */
  begin(tell: boolean): ExecutorJob | undefined {
    if (this.running.length >= this.places) return undefined;
    const job = this.sent.shift();
    if (job === undefined) return undefined;
    const { paused, concurrency } = this.pool();
    if (!job.promoted) {
      if (paused) this.problems.push(`job ${job.id} began while the pool was paused`);
      if (this.running.length >= concurrency) this.problems.push(`job ${job.id} began with ${this.running.length} running, concurrency ${concurrency}`);
    }
    this.running.push(job);
    this.began.push(job.id);
    if (tell) this.source.started(job, performance.now());
    else this.claimed.add(job);
    return job;
  }

  /** Reports the jobs claimed and not reported yet (a thread's start seen by the main thread). */
  report(): void {
    for (const job of [...this.claimed]) {
      this.claimed.delete(job);
      this.source.started(job, performance.now());
    }
  }

  /** The `pick`th job begun stops (a cancelled one included). */
  finish(pick: number, failed: boolean): void {
    if (this.running.length === 0) return;
    const [job] = this.running.splice(pick % this.running.length, 1);
    this.source.stopped(job!, failed, failed ? new Error(`job ${job!.id} failed`) : `job ${job!.id} done`);
  }

  /** The `pick`th job sent ahead comes back, never begun (its thread died). */
  giveBack(pick: number): void {
    if (this.sent.length === 0) return;
    const [job] = this.sent.splice(pick % this.sent.length, 1);
    this.source.returned(job!);
  }

  takeBack(job: ExecutorJob, _cancelling: boolean): boolean {
    if (this.claimed.has(job)) {
      // It began on its thread before the pool asked: it says so now.
      this.claimed.delete(job);
      this.source.started(job, performance.now());
      return false;
    }
    const index = this.sent.indexOf(job);
    if (index === -1) {
      this.problems.push(`takeBack(job ${job.id}) of a job the executor does not hold unbegun`);
      return false;
    }
    this.sent.splice(index, 1);
    return true;
  }

  stop(job: ExecutorJob): void {
    if (!this.running.includes(job) || this.claimed.has(job)) this.problems.push(`stop(job ${job.id}) of a job that has not begun`);
  }

  async close(): Promise<void> {
    this.closed++;
    if (this.running.length > 0 || this.sent.length > 0) this.problems.push(`close() while the executor holds ${this.running.length + this.sent.length} jobs`);
  }
}

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
 * The contract, written plainly. The executor begins one job at a time, when told to, where it has
 * a place free: the first promoted job waiting, in the order promoted (past the concurrency and a
 * pause); else, unless paused or `concurrency` jobs take places, the queued job of highest
 * priority, FIFO among equals. A job cancelled while running keeps its place until it stops.
 */
class Model {
  readonly jobs: ModelJob[] = [];
  readonly started: number[] = [];
  /** Jobs begun and not stopped (cancelled ones included), in the order they began. */
  readonly busy: ModelJob[] = [];
  paused = false;
  /** close() was called: the queue runs past a pause, at concurrency 1 at least. */
  closing = false;
  #urgentSeq = 0;
  constructor(
    readonly places: number,
    /** `undefined`: the executor's capacity. */
    public concurrency: number | undefined,
  ) {}

  next(): ModelJob | undefined {
    if (this.busy.length >= this.places) return undefined;
    const urgent = this.jobs.filter((job) => job.state === 'queued' && job.promoted).sort((a, b) => a.urgentSeq - b.urgentSeq);
    if (urgent.length > 0) return urgent[0];
    const limit = this.concurrency ?? this.places;
    if (this.closing ? this.busy.length >= Math.max(1, limit) : this.paused || this.busy.length >= limit) return undefined;
    const waiting = this.jobs.filter((job) => job.state === 'queued').sort((a, b) => b.priority - a.priority || a.id - b.id);
    return waiting[0];
  }
  begin(): void {
    const job = this.next();
    if (job === undefined) return;
    job.state = 'running';
    this.busy.push(job);
    this.started.push(job.id);
  }
  finish(pick: number, failed: boolean): void {
    if (this.busy.length === 0) return;
    const [job] = this.busy.splice(pick % this.busy.length, 1);
    if (job!.state === 'running') job!.state = failed ? 'rejected' : 'fulfilled';
  }
  /** close(): held jobs are cancelled, and queued ones too with `cancelQueued`. */
  close(cancelQueued: boolean): void {
    this.closing = true;
    for (const job of this.jobs) if (job.state === 'held' || (cancelQueued && job.state === 'queued')) job.state = 'cancelled';
  }
  apply(command: Operation): void {
    switch (command.kind) {
      case 'submit':
        this.jobs.push({ id: this.jobs.length + 1, priority: command.priority, state: command.hold ? 'held' : 'queued', promoted: false, urgentSeq: 0 });
        return;
      case 'pause':
        this.paused = true;
        return;
      case 'resume':
        this.paused = false;
        return;
      case 'concurrency':
        this.concurrency = command.value;
        return;
    }
    const job = this.jobs[command.job % Math.max(1, this.jobs.length)];
    if (job === undefined) return;
    const waiting = job.state === 'held' || job.state === 'queued';
    switch (command.kind) {
      case 'cancel':
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
    }
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

const concurrencyArbitrary = fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 4 }), fc.constant(Infinity));

test('the scheduler agrees with the reference model over an executor that sends jobs ahead and gives them back', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      concurrencyArbitrary,
      fc.array(command, { minLength: 10, maxLength: 100, size: 'max' }),
      fc.boolean(),
      async (places, ahead, concurrency, commands, cancelQueued) => {
        let paused = false;
        let closing = false;
        let pool: Pool | undefined;
        // A closing pool runs its queue, even paused or at concurrency 0.
        const executor = new SteppedExecutor(places, ahead, () => ({ paused: paused && !closing, concurrency: closing ? Math.max(1, pool!.concurrency) : pool!.concurrency }));
        pool = new Pool({ executor, ...(concurrency === undefined ? {} : { concurrency }) });
        const model = new Model(places, concurrency);
        const handles: JobHandle[] = [];
        const startEvents: number[] = [];
        pool.on('start', (handle: JobHandle) => startEvents.push(handle.id));
        const settlements = new Map<number, number>();
        const settledCount = () => [...settlements.values()].reduce((sum, n) => sum + n, 0);
        let failure: string | undefined;
        const fail = (message: string) => {
          failure ??= message;
          return false;
        };

        const operate = (step: Operation): void => {
          if (step.kind === 'submit') {
            const handle = pool!.submit(handles.length + 1, { priority: step.priority, hold: step.hold });
            const id = handle.id;
            handle.onDone(() => settlements.set(id, (settlements.get(id) ?? 0) + 1));
            // A failed job has an onDone listener: it is not an unhandled rejection.
            handles.push(handle);
          } else if (step.kind === 'pause') {
            pool!.pause();
            paused = true;
          } else if (step.kind === 'resume') {
            pool!.resume();
            paused = false;
          } else if (step.kind === 'concurrency') pool!.concurrency = step.value;
          else {
            const handle = handles[step.job % Math.max(1, handles.length)];
            if (handle === undefined) return;
            if (step.kind === 'cancel') handle.cancel();
            else if (step.kind === 'promote') handle.promote();
            else if (step.kind === 'hold') handle.hold();
            else if (step.kind === 'start') handle.start();
            else if (step.kind === 'setPriority') handle.setPriority(step.priority);
          }
        };

        const agree = (when: string): boolean => {
          if (executor.problems.length > 0) return fail(`${when}: ${executor.problems.join('; ')}`);
          const states = handles.map((h) => h.state);
          const expected = model.jobs.map((j) => j.state);
          if (JSON.stringify(states) !== JSON.stringify(expected)) return fail(`${when}: states ${JSON.stringify(states)}, model ${JSON.stringify(expected)}`);
          if (JSON.stringify(executor.began) !== JSON.stringify(model.started)) {
            return fail(`${when}: began ${JSON.stringify(executor.began)}, model ${JSON.stringify(model.started)}`);
          }
          if (JSON.stringify(startEvents) !== JSON.stringify(model.started)) {
            return fail(`${when}: 'start' events ${JSON.stringify(startEvents)}, model ${JSON.stringify(model.started)}`);
          }
          const count = (state: JobState) => expected.filter((s) => s === state).length;
          const stats = pool!.stats;
          const counts = { held: count('held'), queued: count('queued'), running: count('running'), fulfilled: count('fulfilled'), rejected: count('rejected'), cancelled: count('cancelled') };
          const { concurrency: given, threads: _threads, ...actual } = stats;
          if (JSON.stringify(actual) !== JSON.stringify(counts)) return fail(`${when}: stats ${JSON.stringify(actual)}, model ${JSON.stringify(counts)}`);
          if (given !== (model.concurrency ?? places)) return fail(`${when}: concurrency ${given}, model ${model.concurrency ?? places}`);
          return true;
        };

        for (const step of commands) {
          const settledBefore = settledCount();
          switch (step.kind) {
            case 'begin':
              executor.begin(true);
              model.begin();
              break;
            case 'claim':
              executor.begin(false);
              model.begin();
              operate(step.then);
              model.apply(step.then);
              executor.report();
              break;
            case 'complete':
            case 'fail':
              executor.finish(step.pick, step.kind === 'fail');
              model.finish(step.pick, step.kind === 'fail');
              break;
            case 'return':
              // The model is unchanged: the job is still queued, in its place.
              executor.giveBack(step.pick);
              break;
            default:
              operate(step);
              model.apply(step);
          }
          const when = `after ${JSON.stringify(step)}`;
          if (!agree(when)) break;
          if (settledCount() !== settledBefore && fail(`${when}: onDone ran inside the step`)) break;
          await turn();
          const settled = model.jobs.filter((j) => j.state === 'fulfilled' || j.state === 'rejected' || j.state === 'cancelled').length;
          if (settledCount() !== settled && !fail(`${when}: ${settledCount()} onDone calls, model ${settled} settled`)) break;
          if (!agree(`a turn ${when}`)) break;
        }
        closing = true;
        const heldAtClose = handles.filter((handle) => handle.state === 'held');
        const queuedAtClose = handles.filter((handle) => handle.state === 'queued');
        const begunBeforeClose = executor.began.length;
        const settledBeforeClose = settledCount();
        const closed = pool.close({ cancelQueued });
        model.close(cancelQueued);
        if (failure === undefined) {
          // Held jobs are cancelled at once (nothing would ever start them); with cancelQueued,
          // every queued job too, sent ahead or not.
          const left = heldAtClose.filter((handle) => handle.state !== 'cancelled');
          const escaped = cancelQueued ? queuedAtClose.filter((handle) => handle.state !== 'cancelled') : [];
          if (left.length > 0) fail(`close() left held jobs ${left.map((h) => `${h.id} ${h.state}`).join(', ')}`);
          else if (escaped.length > 0) fail(`close({ cancelQueued: true }) left queued jobs ${escaped.map((h) => `${h.id} ${h.state}`).join(', ')}`);
          else if (settledCount() !== settledBeforeClose) fail('onDone ran inside close()');
          else agree(`close({ cancelQueued: ${cancelQueued} })`);
        }
        // Every job the executor holds runs out, in the model's order (a closing pool runs its
        // queue past a pause and concurrency 0); close() resolves once none is left.
        for (let rounds = 0; rounds < 200 && pool.stats.queued + executor.running.length + executor.sent.length > 0; rounds++) {
          executor.begin(true);
          model.begin();
          while (executor.running.length > 0) executor.finish(0, false);
          while (model.busy.length > 0) model.finish(0, false);
          await Promise.resolve();
        }
        const hung = await Promise.race([closed.then(() => false), turn().then(turn).then(() => true)]);
        await turn();
        if (failure === undefined) {
          if (hung) fail(`close() did not resolve: stats ${JSON.stringify(pool.stats)}, executor holds ${executor.sent.length} sent, ${executor.running.length} running`);
          else if (executor.problems.length > 0) fail(`closing: ${executor.problems.join('; ')}`);
          else if (executor.closed !== 1) fail(`executor.close() called ${executor.closed} times`);
          else if (cancelQueued && executor.began.length > begunBeforeClose) {
            fail(`close({ cancelQueued: true }): jobs ${JSON.stringify(executor.began.slice(begunBeforeClose))} began after it`);
          } else if (!agree('closed')) {
            // agree() has set the failure.
          } else {
            const wrong = handles.filter((handle) => settlements.get(handle.id) !== 1);
            if (wrong.length > 0) fail(`closed: handles ${wrong.map((h) => `${h.id}×${settlements.get(h.id) ?? 0}`).join(', ')} did not settle exactly once`);
          }
        }
        if (failure !== undefined) throw new Error(failure);
      },
    ),
    { numRuns: 300, includeErrorInReport: true, ...ciSeed },
  );
  t.pass('fast-check found no program on which the two disagree');
});

// Gaps the property above found (fixed in ce68ee9), each kept on its smallest program.

/** A pool over a stepped executor, `concurrency` its default. */
function steppedPool(places: number, ahead: number) {
  let pool: Pool | undefined;
  const executor = new SteppedExecutor(places, ahead, () => ({ paused: false, concurrency: pool!.concurrency }));
  pool = new Pool({ executor });
  return { pool, executor };
}

test('close({ cancelQueued: true }) cancels every queued job, though cancelling one frees room in the executor', async (t) => {
  // close() resumes the pool, then cancels the jobs sent ahead one by one; each cancellation frees
  // room and wakes the executor, which must not take the next queued job out of the queue before
  // close() has cancelled it too. With Piscina's threads it did: pause(), a held job and four
  // queued, `concurrency: 1` on two threads, close({ cancelQueued: true }): the second job ran.
  const { pool, executor } = steppedPool(1, 1);
  pool.pause();
  const held = pool.submit('held', { hold: true });
  const queued = [1, 2, 3, 4].map((n) => pool.submit(n));
  for (const handle of queued) handle.catch(() => {});
  const closed = pool.close({ cancelQueued: true });
  t.is(held.state, 'cancelled');
  t.deepEqual(
    queued.map((handle) => handle.state),
    ['cancelled', 'cancelled', 'cancelled', 'cancelled'],
  );
  t.deepEqual(executor.sent, [], 'the executor holds nothing');
  // Let the pool close whatever happened.
  for (let rounds = 0; rounds < 10 && executor.sent.length > 0; rounds++) {
    executor.begin(true);
    executor.finish(0, false);
  }
  await closed;
  t.deepEqual(executor.began, [], 'no job began');
});

test('hold() of a job sent ahead wakes the executor, whose room it freed', (t) => {
  // Every take-back is followed by a wake, hold()'s included. Piscina's threads free no room when
  // a job is taken back (its task still counts until it answers, which wakes the executor), but
  // an executor whose room frees at once must not be left with a place empty while a job waits.
  const { pool, executor } = steppedPool(1, 0);
  const first = pool.submit(1);
  const second = pool.submit(2);
  t.deepEqual(executor.sent.map((job) => job.id), [first.id]);
  first.hold();
  t.deepEqual(executor.sent.map((job) => job.id), [second.id], 'the executor has room, and the second job waits');
  executor.begin(true);
  t.is(second.state, 'running');
});

test('a job the executor gives back begins before the jobs sent after it', (t) => {
  // The job given back goes back to the queue and the jobs sent after it come back too, so that
  // it is sent again ahead of them (with threads: a thread that dies gives back the tail of its
  // batch, which must not wait behind later jobs already sent to other threads).
  const { pool, executor } = steppedPool(1, 1);
  const first = pool.submit(1);
  const second = pool.submit(2);
  t.deepEqual(executor.sent.map((job) => job.id), [first.id, second.id]);
  executor.giveBack(0);
  t.deepEqual(executor.sent.map((job) => job.id), [first.id, second.id], 'sent again, in order');
  executor.begin(true);
  t.is(first.state, 'running', 'the first job, given back, begins first');
  t.is(second.state, 'queued');
});

test('start() of a held promoted job takes back the jobs sent ahead, so that it begins first', (t) => {
  // As promote() does: a promoted job that was held and is started again goes to the front of the
  // pool's urgent line, and the jobs sent ahead of it come back (with threads: the job waiting in
  // a thread's inbox would run before it).
  const { pool, executor } = steppedPool(1, 0);
  const urgent = pool.submit('urgent', { hold: true });
  urgent.promote();
  urgent.hold();
  const other = pool.submit('other');
  t.deepEqual(executor.sent.map((job) => job.id), [other.id]);
  urgent.start();
  executor.begin(true);
  t.is(urgent.state, 'running', 'the promoted job begins first');
  t.is(other.state, 'queued');
});

// Found by the property once `return` could give back any job sent ahead, promoted ones included.

test('a promoted job the executor gives back begins before the jobs not promoted sent after it', (t) => {
  // A promoted job given back keeps its place ahead of everything: the jobs sent after it come back.
  const { pool, executor } = steppedPool(1, 1);
  const first = pool.submit(1);
  const second = pool.submit(2);
  first.promote();
  t.deepEqual(executor.sent.map((job) => job.id), [first.id, second.id]);
  executor.giveBack(0);
  executor.begin(true);
  t.is(first.state, 'running', 'the promoted job, given back, begins first');
  t.is(second.state, 'queued');
});

test('a promoted job the executor gives back begins before the jobs promoted after it', (t) => {
  // Promoted jobs begin in the order promoted; the one given back keeps its place among them.
  const { pool, executor } = steppedPool(1, 1);
  const a = pool.submit('a', { hold: true });
  const b = pool.submit('b', { hold: true });
  a.promote();
  b.promote();
  t.deepEqual(executor.sent.map((job) => job.id), [a.id, b.id]);
  executor.giveBack(0);
  executor.begin(true);
  t.is(a.state, 'running', 'the first promoted begins first');
  t.is(b.state, 'queued');
});
