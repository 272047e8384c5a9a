/**
 * The executor that runs jobs on Piscina's worker threads: the only file that touches Piscina.
 *
 * It keeps each thread fed with two tasks, the one it runs and the next, so that a thread finishing
 * a job finds the next one at hand (Piscina's `concurrentTasksPerWorker` is doubled for that; a
 * gate in the thread runs one at a time). A task carries one job, or several brief jobs of one
 * export (brief.ts). Every job sent is still `queued`: it begins only once its thread claims it
 * (layout.ts), and until then the pool can take it back. The main thread learns of each begin by
 * waiting on the block's `begun` word, and of each end by the task's reply or, within a batch, by
 * the result the thread stored in shared memory before it began the next job.
 *
 * When a task comes back and the pool has nothing to give, the freed thread takes over jobs that
 * another thread has not begun (they are taken back and sent again): no thread waits while a job
 * it could run waits behind another.
 */
import type { TransferListItem } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Piscina, queueOptionsSymbol } from 'piscina';
import { messages } from '../errors.js';
import type { Executor, ExecutorJob, JobSource } from '../executor.js';
import { progressChannelKey, type ProgressReceiver } from '../job-context.js';
import { readyKey } from './layout.js';
import { defaults, type PoolOptions } from '../options.js';
import { Timer } from '../timer.js';
import { BriefPolicy } from './brief.js';
import type { BatchEnvelope, Envelope } from './entry.js';
import { Claim, Control, newBlock, Outcome, slotsPerBlock, slotWord, slotWords, storedResultBytes, timesOf, Word } from './layout.js';
import { isCloneError, isMovable, isTransported, notCloneable, revive, transferableSymbol, transfers, valueSymbol, workerExited } from './replies.js';
import { readStored } from './store.js';
import { UrgentFirstQueue } from './urgent-queue.js';

type PiscinaLoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;
type PiscinaTask = Parameters<PiscinaLoadBalancer>[0];
type PiscinaWorker = Parameters<PiscinaLoadBalancer>[1][number];

// entry.ts under tsx (whose require hook compiles it); once built, entry.cjs: the entry and what
// it imports bundled into one CommonJS file (see scripts/bundle-thread.mjs for why).
const threadEntry = fileURLToPath(new URL(extname(fileURLToPath(import.meta.url)) === '.ts' ? './entry.ts' : './entry.cjs', import.meta.url));

/** ms after which a batch stops at the next job boundary; the jobs it did not reach go back. */
const batchBudget = 1;
/** Brief jobs sent in one task at the most. */
const batchMost = 16;
/** Tasks out per job a thread can run: the one it runs and the next (when sending ahead). */
const aheadTasksPerPlace = 2;

/**
 * ms a thread inside require() of its worker module is waited for, at least, before it is ended
 * (see #forceStop), and at the process's exit (see waitForLoadsAtExit). Linking a graph of
 * thousands of modules takes a second or more on a busy machine, and ending the thread then can
 * abort the process; a load still going after this long is running the module's own code.
 */
const loadWait = 10_000;

/** Pools with threads in this process, not closed, whose loads the process's exit waits for. */
const pools = new Set<ThreadExecutor>();

/**
 * At the process's exit Node ends every thread, and ending one inside require() of an ES module
 * can abort the process (FATAL ERROR, exit code 134) instead of letting it exit: so the exit first
 * waits for the threads inside such a load (up to `loadWait`).
 */
function waitForLoadsAtExit(): void {
  const until = performance.now() + loadWait;
  for (const pool of pools) pool.waitForLoads(until);
}

/** One Piscina task out: one job, or a batch. */
class Task {
  readonly posts: Post[];
  /** Order of posting: increasing. */
  readonly seq: number;
  /** A promoted job's task: Piscina's queue serves it first (see UrgentFirstQueue). */
  urgent = false;
  /** The id of the thread Piscina placed it on (see #placeTask); `undefined` while in Piscina's queue. */
  thread: number | undefined = undefined;
  /** Index of the first post not yet seen begun (or taken back). */
  next = 0;
  constructor(posts: Post[], seq: number) {
    this.posts = posts;
    this.seq = seq;
  }
}

/** One job sent in a task, from the executor's side. Its slot is its own while the post lives. */
class Post {
  readonly job: ExecutorJob;
  readonly slot: number;
  readonly block: Int32Array;
  readonly word: number;
  /** `sent`: not begun; `begun`: its thread claimed it; `takenBack`; `finished`: the pool was told it stopped. */
  state: 'sent' | 'begun' | 'takenBack' | 'finished' = 'sent';
  stopping = false;
  graceTimer: Timer | undefined = undefined;
  /** Set while a finished job waits for its progress channel to catch up. */
  whenFlushed: (() => void) | undefined = undefined;
  flushed = false;
  /** Begun, but reported only once the job before it on its thread has stopped (see #begun). */
  startsAfter: Post | undefined = undefined;
  /** It stopped while its begin was held back: told to the pool right after the begin. */
  stopsAfterStart: { failed: boolean; value: unknown } | undefined = undefined;

  constructor(job: ExecutorJob, slot: number, block: Int32Array) {
    this.job = job;
    this.slot = slot;
    this.block = block;
    this.word = slotWord(slot);
  }

  load(offset: number): number {
    return Atomics.load(this.block, this.word + offset);
  }
}

export class ThreadExecutor implements Executor {
  readonly #piscina: Piscina;
  readonly #filename: string;
  readonly #name: string;
  readonly #abortGrace: number;
  /** Jobs one thread runs at once (`concurrentTasksPerWorker`). */
  readonly #perThread: number;
  readonly #capacity: number;
  /**
   * Tasks out per place: two while every thread is kept alive. Piscina places a task on a thread
   * that has room in its inbox before it starts a spare thread, so with spare threads to start
   * (minThreads below maxThreads, given by the user) nothing is sent ahead.
   */
  readonly #tasksPerPlace: number;
  #source: JobSource | undefined;
  readonly #blocks: Int32Array[] = [];
  readonly #stores: Uint8Array[] = [];
  /** The live post of each slot. */
  readonly #posts: (Post | undefined)[] = [];
  readonly #freeSlots: number[] = [];
  /** The live post of each job handed over (sent, begun, or stopping). */
  readonly #postOf = new Map<ExecutorJob, Post>();
  readonly #tasks = new Set<Task>();
  /** Posts sent and not yet seen begun, per block: the block is watched while there are any. */
  readonly #unbegun: number[] = [];
  readonly #watching: boolean[] = [];
  /** Each block's `begun` count at the last look. */
  readonly #seen: number[] = [];
  readonly #brief = new BriefPolicy();
  /** Jobs with a transferred input taken while no thread had a place free: see #sendWhereItBegins. */
  #unsent: ExecutorJob[] = [];
  /** Jobs taken for a batch being gathered (see #fill). */
  readonly #gathering = new Set<ExecutorJob>();
  /** Jobs sent again because their thread (probably) died before they began: see #answered. */
  readonly #sentAgain = new WeakSet<ExecutorJob>();
  /** Jobs whose batch could not be sent: they go one per task. */
  readonly #alone = new WeakSet<ExecutorJob>();
  readonly #channels = new Set<MessagePort>();
  #waking = false;
  #wakeAgain = false;
  /** Tasks posted so far. */
  #posted = 0;
  /** The last post seen begun on each thread (by thread id). */
  readonly #lastOnThread = new Map<number, Post>();
  /** A begun post whose start waits for the one before it on its thread to stop, by that one. */
  readonly #startNext = new Map<Post, Post>();
  /** Threads whose entry module has loaded (by thread id). */
  readonly #readyThreads = new Set<number>();
  /** A thread went before its entry module loaded. */
  #bootFailed = false;
  /** A thread went in this turn (see the 'workerDestroy' listener). */
  #threadDied = false;
  /** Clears #threadDied on the turn after a thread went; cleared by close(), which leaves no timer. */
  #threadDiedTurn: NodeJS.Immediate | undefined;
  /** Set once the threads cannot start: every job fails with it. */
  #broken: Error | undefined;
  /** Jobs that finished and wait for their last progress values; see #finished. */
  #flushing = 0;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(options: PoolOptions) {
    const { filename, name, concurrency, Handle, abortGrace, run, executor, concurrentTasksPerWorker, criticalPath, ...piscinaOptions } = options;
    this.#filename = modulePath(filename!);
    this.#name = name ?? 'default';
    this.#abortGrace = abortGrace ?? defaults.abortGrace;
    this.#perThread = Math.max(1, concurrentTasksPerWorker ?? 1);
    const maxThreads = piscinaOptions.maxThreads ?? defaultMaxThreads();
    // Every thread is kept (see #tasksPerPlace), unless there are absurdly many to start at once.
    const minThreads = piscinaOptions.minThreads ?? (maxThreads <= threadsKeptAtMost() ? maxThreads : Math.min(maxThreads, availableParallelism()));
    this.#tasksPerPlace = minThreads >= maxThreads ? aheadTasksPerPlace : 1;
    this.#piscina = startPiscina({
      idleTimeout: defaults.idleTimeout,
      // Piscina re-queues a task it could not place at the tail unless told otherwise; the few
      // tasks it holds were sent in the pool's order and must start in that order.
      stricterFIFO: true,
      // Promoted jobs first: a promoted job is posted at once, and is next for the first free thread.
      taskQueue: new UrgentFirstQueue(),
      loadBalancer: (task, workers) => this.#placeTask(task, workers),
      // Piscina's run and wait histograms are not exposed by lazypool: not worth two clock reads
      // and two histogram records per job.
      recordTiming: false,
      // A thread with no task waits with Atomics.waitAsync, not Atomics.wait: its event loop keeps
      // turning, so a worker's own timers and I/O are not frozen between jobs.
      atomics: 'async',
      ...piscinaOptions,
      // Every thread kept alive unless told otherwise: see #tasksPerPlace.
      // As Piscina does: a minThreads above maxThreads is maxThreads.
      minThreads: Math.min(minThreads, maxThreads),
      maxThreads,
      // The next task waits in the thread, behind the gate in entry.ts.
      concurrentTasksPerWorker: this.#tasksPerPlace * this.#perThread,
      filename: threadEntry,
    });
    this.#capacity = Math.max(1, this.#piscina.maxThreads * this.#perThread);
    pools.add(this);
    if (pools.size === 1) process.on('exit', waitForLoadsAtExit);
    this.#piscina.on('message', (message: unknown) => this.#onThreadMessage(message));
    // A thread that crashes fails its tasks with its own error, which names no exit: the tasks
    // failed in the same turn as a thread went are its, and their jobs that had not begun go again.
    this.#piscina.on('workerDestroy', (worker: { id: number }) => {
      // A thread that goes before its entry module loaded failed while starting: Piscina then
      // replaces no thread any more (see #threadFailedToStart).
      if (!this.#readyThreads.delete(worker.id)) this.#bootFailed = true;
      if (this.#threadDied) return;
      this.#threadDied = true;
      this.#threadDiedTurn = setImmediate(() => {
        this.#threadDied = false;
        this.#threadDiedTurn = undefined;
      });
    });
    this.#piscina.on('error', (error: Error) => {
      // A reply a thread posted just before it died can arrive after Piscina failed the thread's
      // tasks: Piscina no longer knows the task. Nothing is lost: the job's outcome is read from
      // shared memory (or the job went again), so this is no news for the user.
      if (isLateReply(error)) return;
      this.#threadFailedToStart(error);
      process.emitWarning(error.message, { type: 'LazypoolWorkerWarning', detail: error.stack });
    });
  }

  /**
   * Where Piscina puts a task: a thread that can begin it now if there is one. Otherwise, a job
   * sent ahead goes to the least busy thread's inbox, unless a thread is still starting (it will
   * be free: Piscina offers only ready threads). A promoted job never waits in a busy thread's
   * inbox: it waits in Piscina's queue, which serves it to the first thread that frees up.
   */
  #placeTask(task: PiscinaTask, workers: PiscinaWorker[]): PiscinaWorker | null {
    let leastBusy: PiscinaWorker | null = null;
    const ours = task[queueOptionsSymbol] as Task | undefined;
    for (const worker of workers) {
      if (worker.currentUsage < this.#perThread) return placed(ours, worker);
      if (worker.currentUsage < this.#tasksPerPlace * this.#perThread && (leastBusy === null || worker.currentUsage < leastBusy.currentUsage)) leastBusy = worker;
    }
    if (ours?.urgent === true || workers.length < this.#piscina.threads.length) return null;
    return placed(ours, leastBusy);
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  get capacity(): number {
    return this.#capacity;
  }

  attach(source: JobSource): void {
    this.#source = source;
  }

  wake(): void {
    if (this.#waking) {
      this.#wakeAgain = true;
      return;
    }
    this.#waking = true;
    try {
      do {
        this.#wakeAgain = false;
        this.#fill();
      } while (this.#wakeAgain);
    } finally {
      this.#waking = false;
    }
  }

  /** Takes what the pool gives while there is room (promoted jobs past it), and posts it. */
  #fill(): void {
    const source = this.#source!;
    for (;;) {
      const full = this.#tasks.size + this.#unsent.length >= this.#tasksPerPlace * this.#capacity;
      const job = source.take(full);
      if (job === undefined) return;
      if (this.#broken !== undefined) {
        source.stopped(job, true, this.#broken);
        continue;
      }
      if (!job.promoted && transfers(job)) {
        this.#sendWhereItBegins(job);
        continue;
      }
      if (job.promoted || !this.#batchable(job)) {
        this.#post([job]);
        continue;
      }
      // A fair share of what waits for each task the threads can hold, within batchMost.
      const size = Math.min(batchMost, Math.max(2, Math.ceil((source.waiting() + 1) / (this.#tasksPerPlace * this.#capacity))));
      // While the batch is gathered, taking the next job may call its input function, whose code
      // may take back a job already gathered (hold, setPriority, pause…): see takeBack.
      const batch = [job];
      this.#gathering.add(job);
      let straggler: ExecutorJob | undefined;
      while (batch.length < size && source.nextName() === job.name) {
        const next = source.take(false);
        if (next === undefined) break;
        if (next.promoted || !this.#batchable(next)) {
          straggler = next;
          break;
        }
        batch.push(next);
        this.#gathering.add(next);
      }
      this.#post(batch.filter((gathered) => this.#gathering.delete(gathered)));
      if (straggler !== undefined) {
        if (!straggler.promoted && transfers(straggler)) this.#sendWhereItBegins(straggler);
        else this.#post([straggler]);
      }
    }
  }

  /**
   * A job whose input is transferred cannot be sent twice: taken back from a thread's inbox, its
   * input would be gone. So it is never sent ahead: it waits here until a thread has a place free,
   * and once sent it is taken back only to be cancelled.
   */
  #sendWhereItBegins(job: ExecutorJob): void {
    if (this.#tasks.size < this.#capacity) this.#post([job]);
    else this.#unsent.push(job);
  }

  /** A place may have freed up: jobs that must not be sent ahead go first. */
  #sendUnsent(): void {
    while (this.#unsent.length > 0 && this.#tasks.size < this.#capacity) this.#post([this.#unsent.shift()!]);
  }

  takeBack(job: ExecutorJob, cancelling: boolean): boolean {
    if (this.#claimBack(job, cancelling)) return true;
    // It began. A begin held back for the job before it on its thread is reported when that one
    // stops, as it would have been; only a cancel needs to know now (it stops the job at once).
    const post = this.#postOf.get(job);
    if (post !== undefined && cancelling) this.#releaseStart(post);
    return false;
  }

  /** takeBack without telling the pool of a begin found on the way (it learns as it would have). */
  #claimBack(job: ExecutorJob, cancelling: boolean): boolean {
    // Gathered into a batch not yet posted: it never leaves.
    if (this.#gathering.delete(job)) return true;
    const post = this.#postOf.get(job);
    if (post === undefined) {
      const index = this.#unsent.indexOf(job);
      if (index !== -1) this.#unsent.splice(index, 1);
      return true;
    }
    if (post.state === 'sent') {
      // Sent where it begins at once (see #sendWhereItBegins): it is as good as begun.
      if (!cancelling && transfers(job)) {
        this.#begun(post);
        return false;
      }
      if (Atomics.compareExchange(post.block, post.word + Word.claim, Claim.waiting, Claim.takenBack) === Claim.waiting) {
        this.#forget(post, 'takenBack');
        return true;
      }
      this.#begun(post);
    }
    return false;
  }

  stop(job: ExecutorJob): void {
    const post = this.#postOf.get(job);
    if (post === undefined || post.state !== 'begun' || post.stopping) return;
    post.stopping = true;
    Atomics.store(post.block, post.word + Word.cancelled, 1);
    Atomics.notify(post.block, post.word + Word.cancelled);
    post.graceTimer = new Timer(() => this.#forceStop(post), this.#abortGrace);
    // Its handle has settled: progress it still owes is of no use to anyone.
    post.whenFlushed?.();
  }

  async close(): Promise<void> {
    await this.#piscina.close();
    // Nothing left behind once the last pool has closed.
    if (pools.delete(this) && pools.size === 0) process.off('exit', waitForLoadsAtExit);
    clearImmediate(this.#threadDiedTurn);
    this.#threadDied = false;
    for (const port of this.#channels) port.close();
    this.#channels.clear();
  }

  /** Worth batching: an export measured to run briefly, whose input is copied (not moved). */
  #batchable(job: ExecutorJob): boolean {
    return !this.#alone.has(job) && !transfers(job) && this.#brief.isBrief(this.#exportOf(job));
  }

  /** The export a job runs: its `name`, else the pool's default. */
  #exportOf(job: ExecutorJob): string {
    return job.name ?? this.#name;
  }

  /** Sends `jobs` to a thread in one Piscina task. */
  #post(jobs: ExecutorJob[]): void {
    if (jobs.length === 0) return;
    const source = this.#source!;
    const posts: Post[] = [];
    let block: number | undefined;
    const inputs: unknown[] = [];
    for (const job of jobs) {
      let input = job.input;
      if (jobs.length > 1 && typeof input === 'object' && input !== null) {
        // Batch-mates share one message, and structured clone keeps shared references within a
        // message: a job must get its own copy, as it would alone.
        try {
          input = structuredClone(input);
        } catch (error) {
          source.stopped(job, true, explainUnsent(job, error));
          continue;
        }
      }
      const slot = this.#acquireSlot(block);
      if (slot === undefined) {
        // The batch's block is full: the rest go in a task of their own.
        this.#post(jobs.slice(jobs.indexOf(job)));
        break;
      }
      block = Math.floor(slot / slotsPerBlock);
      posts.push(this.#admit(job, slot));
      inputs.push(input);
    }
    if (posts.length === 0) return;
    const task = new Task(posts, ++this.#posted);
    this.#tasks.add(task);
    let reply: Promise<unknown>;
    try {
      reply = posts.length === 1 ? this.#postOne(posts[0]!, task) : this.#postBatch(posts, inputs, task);
    } catch (error) {
      reply = Promise.reject(error);
    }
    reply.then(
      (value) => this.#answered(task, false, value),
      (error: unknown) => this.#answered(task, true, error),
    );
    this.#watch(block!);
  }

  #admit(job: ExecutorJob, slot: number): Post {
    const block = this.#blocks[Math.floor(slot / slotsPerBlock)]!;
    const word = slotWord(slot);
    block.fill(0, word, word + slotWords);
    timesOf(block)[slot % slotsPerBlock] = 0;
    const post = new Post(job, slot, block);
    this.#posts[slot] = post;
    this.#postOf.set(job, post);
    this.#unbegun[Math.floor(slot / slotsPerBlock)]!++;
    return post;
  }

  #postOne(post: Post, task: Task): Promise<unknown> {
    const job = post.job;
    let input = job.input;
    let transferList = job.transferList as TransferListItem[] | undefined;
    // Piscina unwraps move() only at the top of a task; here the task is the envelope.
    if (isMovable(input)) {
      transferList = [...(transferList ?? []), input[transferableSymbol] as TransferListItem];
      input = input[valueSymbol];
    }
    const envelope: Envelope = {
      filename: this.#filename,
      name: this.#exportOf(job),
      input,
      id: job.id,
      slot: post.slot,
      block: post.block,
      origin: performance.timeOrigin,
      limit: this.#perThread,
      store: this.#storeOf(post.slot),
    };
    // Read by UrgentFirstQueue and #placeTask; a symbol key is not cloned into the message.
    task.urgent = job.promoted;
    (envelope as Envelope & { [queueOptionsSymbol]?: unknown })[queueOptionsSymbol] = task;
    // No `signal` for Piscina: a task that carries one makes every later run() take Piscina's
    // slow placement path. #forceStop ends the job's thread itself, as Piscina's abort would.
    return this.#piscina.run(envelope, transferList === undefined ? undefined : { transferList });
  }

  #postBatch(posts: Post[], inputs: unknown[], task: Task): Promise<unknown> {
    const first = posts[0]!;
    const store = this.#storeOf(first.slot);
    const envelope: BatchEnvelope = {
      filename: this.#filename,
      name: this.#exportOf(first.job),
      inputs,
      ids: posts.map((post) => post.job.id),
      slots: posts.map((post) => post.slot),
      block: first.block,
      store,
      budget: batchBudget,
      origin: performance.timeOrigin,
      limit: this.#perThread,
    };
    (envelope as BatchEnvelope & { [queueOptionsSymbol]?: unknown })[queueOptionsSymbol] = task;
    return this.#piscina.run(envelope);
  }

  #storeOf(slot: number): Uint8Array {
    return (this.#stores[Math.floor(slot / slotsPerBlock)] ??= new Uint8Array(new SharedArrayBuffer(slotsPerBlock * storedResultBytes)));
  }

  /** Keeps an Atomics.waitAsync on the block's `begun` word while it has posts not seen begun. */
  #watch(blockIndex: number): void {
    if (this.#watching[blockIndex] === true || this.#unbegun[blockIndex] === 0) return;
    const block = this.#blocks[blockIndex]!;
    // Against the count seen at the last look: a begin since then wakes it at once. Never a look
    // in this turn: a job that began a microsecond after it was posted is reported on a later one,
    // not inside the submit(), resume() or close() that posted it.
    const wait = Atomics.waitAsync(block, Control.begun, this.#seen[blockIndex]!);
    this.#watching[blockIndex] = true;
    const look = () => {
      this.#watching[blockIndex] = false;
      this.#seen[blockIndex] = Atomics.load(block, Control.begun);
      this.#scan();
      this.#watch(blockIndex);
    };
    if (wait.async) void wait.value.then(look);
    else queueMicrotask(look);
  }

  /**
   * Reports every post that began since the last look (and the stored results before them), in
   * the order they began: a thread may run its tasks in another order than they were made (one
   * waited in Piscina's queue while a later one was placed), and a job reported begun before the
   * one its thread ran first would count as running beside it.
   */
  #scan(): void {
    let seen: { task: Task; index: number; post: Post; at: number }[] = [];
    // A consistent look: a thread that claims a job while the claims are read could show a later
    // claim of its own and not the earlier one. Every claim bumps its block's count before the
    // thread claims anything else, so an unchanged total means none was missed in between.
    for (let attempt = 0; attempt < 8; attempt++) {
      const total = this.#begunTotal();
      seen = [];
      for (const task of this.#tasks) {
        const posts = task.posts;
        for (let index = task.next; index < posts.length; index++) {
          const post = posts[index]!;
          if (post.state !== 'sent') continue;
          if (post.load(Word.claim) !== Claim.begun) break;
          seen.push({ task, index, post, at: timesOf(post.block)[post.slot % slotsPerBlock]! });
        }
      }
      if (this.#begunTotal() === total) break;
    }
    if (seen.length > 1) seen.sort((a, b) => a.at - b.at);
    for (const { task, index, post } of seen) {
      // The thread moved past the post before this one: it ends before this one begins.
      if (index >= 1) this.#harvest(task.posts[index - 1]!);
      this.#begun(post);
      if (task.next <= index) task.next = index + 1;
    }
    // A claim made since this look bumped its block's count past what the look read first
    // (#watch): the next look reports it, in order.
  }

  /** Begins counted so far, over every block. */
  #begunTotal(): number {
    let total = 0;
    for (const block of this.#blocks) total += Atomics.load(block, Control.begun);
    return total;
  }

  #scanTask(task: Task): void {
    const posts = task.posts;
    while (task.next < posts.length) {
      const post = posts[task.next]!;
      if (post.state === 'sent') {
        if (post.load(Word.claim) !== Claim.begun) return;
        // The thread moved past the post before this one: it ends before this one begins.
        if (task.next >= 1) this.#harvest(posts[task.next - 1]!);
        this.#begun(post);
      }
      task.next++;
    }
  }

  /** A post seen begun: its job is running. */
  #begun(post: Post): void {
    if (post.state !== 'sent') return;
    post.state = 'begun';
    if (this.#perThread === 1) {
      // Its thread runs one job at a time: the job it ran before has ended; with its result
      // stored, it ends now, not when its task's reply arrives.
      const threadId = post.load(Word.thread);
      const before = this.#lastOnThread.get(threadId);
      this.#lastOnThread.set(threadId, post);
      if (before !== undefined) this.#harvest(before);
      this.#unbegun[Math.floor(post.slot / slotsPerBlock)]!--;
      // The job before it has ended, but its result is still on its way (a reply not yet read):
      // this one is reported begun once that one stopped, so that the jobs running never
      // outnumber the places to run them.
      if (before !== undefined && before.state === 'begun') {
        post.startsAfter = before;
        this.#startNext.set(before, post);
        return;
      }
    } else {
      this.#unbegun[Math.floor(post.slot / slotsPerBlock)]!--;
    }
    this.#reportStart(post);
  }

  #reportStart(post: Post): void {
    const at = timesOf(post.block)[post.slot % slotsPerBlock]!;
    this.#source!.started(post.job, at > 0 ? at : performance.now());
  }

  /** A start held back for the post before it is reported now (that one stopped, or the pool asks). */
  #releaseStart(post: Post): void {
    const before = post.startsAfter;
    if (before === undefined) return;
    post.startsAfter = undefined;
    this.#startNext.delete(before);
    this.#reportStart(post);
    const stop = post.stopsAfterStart;
    if (stop !== undefined) {
      post.stopsAfterStart = undefined;
      this.#stopped(post, stop.failed, stop.value);
    }
  }

  /** A batch's job whose result is stored: it ends now, without waiting for its batch. */
  #harvest(post: Post): void {
    if (post.state !== 'begun' || post.load(Word.outcome) !== Outcome.stored) return;
    this.#brief.record(this.#exportOf(post.job), post.load(Word.micros));
    this.#finish(post, false, this.#stored(post));
  }

  /** A Piscina task came back: settle its jobs; those it never began go back to the pool. */
  #answered(task: Task, failed: boolean, reply: unknown): void {
    this.#tasks.delete(task);
    this.#scanTask(task);
    const posts = task.posts;
    const single = posts.length === 1;
    const exitedForSure = failed && !isTransported(reply) && isWorkerExit(reply);
    const exited = exitedForSure || (failed && !isTransported(reply) && this.#threadDied);
    let anyBegun = false;
    let returned = 0;
    for (const post of posts) {
      if (post.state === 'takenBack') {
        this.#releaseSlot(post);
        continue;
      }
      if (post.state === 'finished') continue;
      if (post.state === 'sent') {
        // Never reached: its thread died first, its batch ended early, or it could not be sent.
        if (Atomics.compareExchange(post.block, post.word + Word.claim, Claim.waiting, Claim.takenBack) !== Claim.waiting) {
          this.#begun(post);
        } else {
          this.#forget(post, 'takenBack');
          this.#releaseSlot(post);
          // A crash's own error names no exit: a task failed in the turn a thread went is taken for
          // its thread's, once per job; failing that way again, it was the sending that failed.
          const died = exitedForSure || (exited && !this.#sentAgain.has(post.job));
          if (failed && !isTransported(reply) && !died) {
            // Sending its task failed (a getter or trap of an input threw, or it cannot be cloned):
            // alone, only its own input can have failed it; from a batch, each goes again alone.
            if (single) this.#source!.stopped(post.job, true, explainUnsent(post.job, reply));
            else {
              this.#alone.add(post.job);
              this.#source!.returned(post.job);
            }
          } else if (failed && transfers(post.job)) {
            // Its input was transferred with the task its thread took along: it cannot go again.
            this.#source!.stopped(post.job, true, workerExited(post.job.id, reply, true));
          } else {
            if (failed) this.#sentAgain.add(post.job);
            returned++;
            this.#source!.returned(post.job);
          }
          continue;
        }
      }
      anyBegun = true;
      if (post.whenFlushed !== undefined) {
        // Its result was delivered; a thread that died sends none of the progress it still owed.
        if (exited) post.whenFlushed();
        continue;
      }
      this.#brief.record(this.#exportOf(post.job), post.load(Word.micros));
      const outcome = post.load(Word.outcome);
      if (single && !failed && outcome !== Outcome.stored) {
        this.#finish(post, false, reply);
      } else if (outcome === Outcome.stored) {
        this.#finish(post, false, this.#stored(post));
      } else if (outcome !== Outcome.none || (single && isTransported(reply))) {
        if (outcome === Outcome.replyUnstorable) this.#brief.neverBatch(this.#exportOf(post.job));
        this.#settle(post, failed, reply);
      } else {
        // It was running when its thread died.
        this.#settle(post, true, reply);
      }
    }
    if (exited && !anyBegun && returned > 0) this.#threadFailedToStart(reply);
    this.#sendUnsent();
    this.wake();
    this.#rebalance();
  }

  /**
   * A task came back and the pool had nothing more to give: if a thread now holds no task, jobs
   * that wait behind a job on another thread (the tail of a batch under way, or a task behind
   * another task on its thread) are taken back and sent again, and Piscina places them on the free
   * thread. Never from a task that is first on its thread (it is about to begin), nor from a task
   * still in Piscina's queue (it will go to the free thread anyway).
   */
  #rebalance(): void {
    if (this.#source!.nextName() !== null) return;
    const busy = new Set<number>();
    for (const task of this.#tasks) if (task.thread !== undefined) busy.add(task.thread);
    if (!this.#piscina.threads.some((thread) => !busy.has(thread.threadId))) return;
    for (const task of this.#tasks) {
      if (task.thread === undefined) continue;
      const behind = task.next > 0 || [...this.#tasks].some((other) => other.thread === task.thread && other.seq < task.seq);
      if (!behind) continue;
      const waiting = task.posts.slice(task.next).filter((post) => post.state === 'sent' && !post.job.promoted && !transfers(post.job));
      const back: ExecutorJob[] = [];
      for (const post of waiting) if (this.#claimBack(post.job, false)) back.push(post.job);
      if (back.length > 0) {
        this.#post(back);
        return;
      }
    }
  }

  /**
   * A task failed because its thread exited before any job of it began. If no thread is left,
   * Piscina has stopped replacing them (it does so once a thread fails while starting): then the
   * pool is broken, as CPython's BrokenExecutor, and every job fails with the cause, now and
   * later, instead of waiting for a thread forever.
   */
  #threadFailedToStart(error: unknown): void {
    if (!this.#bootFailed || this.#piscina.threads.length > 0 || this.#broken !== undefined) return;
    const detail = error instanceof Error ? error.message : String(error);
    const broken = (this.#broken = new Error(messages.threadsCannotStart(detail), { cause: error }));
    const source = this.#source!;
    for (const job of this.#unsent.splice(0)) source.stopped(job, true, broken);
    for (const task of this.#tasks) {
      for (const post of task.posts) {
        if (post.state !== 'sent' || Atomics.compareExchange(post.block, post.word + Word.claim, Claim.waiting, Claim.takenBack) !== Claim.waiting) continue;
        this.#forget(post, 'takenBack');
        source.stopped(post.job, true, broken);
      }
    }
    // Piscina holds these tasks for a thread that will never come: they no longer take room.
    this.#tasks.clear();
    // What waits in the pool fails now too.
    this.wake();
  }

  #stored(post: Post): unknown {
    return readStored(this.#stores[Math.floor(post.slot / slotsPerBlock)]!, post.slot, post.load(Word.length));
  }

  /** Settles a job with what its Piscina task answered: its result, its error, or its thread's death. */
  #settle(post: Post, failed: boolean, reply: unknown): void {
    if (!failed) this.#finish(post, false, reply);
    else if (isTransported(reply)) this.#finish(post, true, revive(reply));
    else this.#finish(post, true, post.stopping ? reply : explainLost(post.job, reply), true);
  }

  /** Tells the pool the job stopped, once its progress has all arrived (if it reported any). */
  #finish(post: Post, failed: boolean, value: unknown, lost = false): void {
    // Delivered from shared memory already, and waiting for its progress: the reply changes
    // nothing, unless its thread is gone, and with it the progress still to come.
    if (post.whenFlushed !== undefined) {
      if (lost) post.whenFlushed();
      return;
    }
    const reported = post.load(Word.reported) !== 0;
    if (lost || !reported || post.flushed || post.stopping) {
      this.#stopped(post, failed, value);
      return;
    }
    // The progress ports are unref'd, and Piscina unrefs an idle thread: while a job waits for its
    // last values, nothing else may keep the process alive, so hold it open until they arrive.
    if (this.#flushing++ === 0) this.#keepAlive = setInterval(ignore, 1 << 30);
    post.whenFlushed = () => {
      post.whenFlushed = undefined;
      if (--this.#flushing === 0) clearInterval(this.#keepAlive);
      this.#stopped(post, failed, value);
    };
  }

  #stopped(post: Post, failed: boolean, value: unknown): void {
    if (post.state === 'finished') return;
    // Its begin is held back for the job before it on its thread, whose result is still on its way:
    // it stops right after it is reported begun, so that the jobs running never outnumber the places.
    if (post.startsAfter !== undefined) {
      post.stopsAfterStart = { failed, value };
      return;
    }
    this.#forget(post, 'finished');
    post.graceTimer?.clear();
    this.#releaseSlot(post);
    this.#source!.stopped(post.job, failed, value);
    const next = this.#startNext.get(post);
    if (next !== undefined) this.#releaseStart(next);
  }

  /** The post no longer stands for its job. */
  #forget(post: Post, state: 'takenBack' | 'finished'): void {
    if (post.state === 'sent') this.#unbegun[Math.floor(post.slot / slotsPerBlock)]!--;
    post.state = state;
    if (this.#postOf.get(post.job) === post) this.#postOf.delete(post.job);
  }

  /**
   * abortGrace has passed and the job still runs: end its thread. Piscina sees the thread exit and
   * rejects its tasks; a fresh thread takes its place for minThreads.
   *
   * Not while the thread loads a worker module with require(): Node 20 can abort the whole process
   * when a thread is ended inside require() of an ES module (see `required` in entry.ts). The
   * thread is ended once the load is done (a job cancelled meanwhile then never starts, and ends
   * by itself), or `loadWait` ms later at the most: a load that long is running the module's own
   * top-level code, where ending the thread is safe.
   */
  #forceStop(post: Post, until?: number): void {
    post.graceTimer = undefined;
    if (post.state !== 'begun') return;
    // Finished, its result waiting in shared memory for its batch: its thread has moved on.
    if (post.load(Word.outcome) !== Outcome.none) return;
    const threadId = post.load(Word.thread);
    const loading = this.#loadingOn(threadId);
    if (loading !== undefined || until !== undefined) {
      until ??= performance.now() + Math.max(this.#abortGrace, loadWait);
      const left = until - performance.now();
      if (left > 0 && loading !== undefined) {
        const wait = Atomics.waitAsync(loading.block, loading.word + Word.loading, 1, left);
        if (wait.async) void wait.value.then(() => this.#forceStop(post, until));
        // The load ended just now: look again.
        else this.#forceStop(post, until);
        return;
      }
      // Loaded: a job cancelled before that never starts, and its task ends by itself.
      if (left > 0) {
        post.graceTimer = new Timer(() => this.#forceStop(post, until), left);
        return;
      }
    }
    for (const thread of this.#piscina.threads) {
      if (thread.threadId === threadId) void thread.terminate();
    }
  }

  /** A job whose thread, `threadId`, is loading a worker module for it with require() (begun, though perhaps not seen so yet). */
  #loadingOn(threadId: number): Post | undefined {
    for (const post of this.#posts) {
      if (post !== undefined && post.load(Word.loading) === 1 && post.load(Word.thread) === threadId) return post;
    }
    return undefined;
  }

  /**
   * The process is exiting: no thread of this pool begins a load any more, and this blocks until
   * none is inside require() of its worker module, or until `until` (performance.now()).
   */
  waitForLoads(until: number): void {
    for (const block of this.#blocks) Atomics.store(block, Control.exiting, 1);
    for (const post of this.#posts) {
      while (post !== undefined && post.load(Word.loading) === 1) {
        const left = until - performance.now();
        if (left <= 0) return;
        Atomics.wait(post.block, post.word + Word.loading, 1, left);
      }
    }
  }

  /** A free slot, in block `block` if given (`undefined` if the next free one is elsewhere). */
  #acquireSlot(block: number | undefined): number | undefined {
    const free = this.#freeSlots.pop();
    if (free !== undefined) {
      if (block === undefined || Math.floor(free / slotsPerBlock) === block) return free;
      this.#freeSlots.push(free);
      return undefined;
    }
    const slot = this.#posts.length;
    if (block !== undefined && Math.floor(slot / slotsPerBlock) !== block) return undefined;
    if (slot % slotsPerBlock === 0) {
      this.#blocks.push(newBlock());
      this.#unbegun.push(0);
      this.#watching.push(false);
      this.#seen.push(0);
    }
    this.#posts.push(undefined);
    return slot;
  }

  /** A post's slot goes back once nothing will write its words: its task is back, or it has stopped. */
  #releaseSlot(post: Post): void {
    if (this.#posts[post.slot] !== post) return;
    this.#posts[post.slot] = undefined;
    this.#freeSlots.push(post.slot);
  }

  #onThreadMessage(message: unknown): void {
    const ready = (message as Record<string, unknown> | null)?.[readyKey];
    if (typeof ready === 'number') {
      this.#readyThreads.add(ready);
      return;
    }
    const port = (message as Record<string, unknown> | null)?.[progressChannelKey];
    if (!(port instanceof MessagePort)) return;
    const receiver: ProgressReceiver = {
      progress: (slot, id, value) => {
        const post = this.#postIn(slot, id);
        if (post !== undefined) post.job.progress(value);
      },
      flush: (slot, id) => {
        const post = this.#postIn(slot, id);
        if (post === undefined) return;
        post.flushed = true;
        post.whenFlushed?.();
      },
    };
    Comlink.expose(receiver, port as unknown as Comlink.Endpoint);
    port.unref();
    this.#channels.add(port);
    port.once('close', () => this.#channels.delete(port));
  }

  /** The job with that id in that slot, if it is still there (a slot is reused later). */
  #postIn(slot: number, id: number): Post | undefined {
    const post = this.#posts[slot];
    return post !== undefined && post.job.id === id ? post : undefined;
  }
}

function ignore(): void {}

/** Records where Piscina placed one of lazypool's tasks, and gives the worker back. */
function placed(task: Task | undefined, worker: PiscinaWorker | null): PiscinaWorker | null {
  if (task instanceof Task && worker !== null) task.thread = worker.id;
  return worker;
}

/**
 * The most threads lazypool starts at once by default. A `maxThreads` above it (a mistake, most
 * likely: 2 ** 31 would exhaust memory) gets Piscina's behaviour instead: threads started as needed.
 */
function threadsKeptAtMost(): number {
  return Math.max(16, 4 * availableParallelism());
}

/** Piscina's own default for maxThreads. */
function defaultMaxThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() * 1.5));
}

/**
 * Piscina starts minThreads threads in its constructor; what Node refuses there comes out as a
 * DataCloneError or a plain Error that names no option. Name it.
 */
function startPiscina(options: ConstructorParameters<typeof Piscina>[0]): Piscina {
  try {
    return new Piscina(options);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const name = (error as { name?: unknown }).name;
    const detail = (error as Error).message;
    if (name === 'DataCloneError') throw new TypeError(`workerData could not be cloned: ${detail}`, { cause: error });
    if (code === 'ERR_WORKER_INVALID_EXEC_ARGV') throw new TypeError(`execArgv is not valid for a worker thread: ${detail}`, { cause: error });
    if (typeof code === 'string' && code.startsWith('ERR_INVALID_ARG')) throw new TypeError(`a thread option was refused by Node: ${detail}`, { cause: error });
    throw error;
  }
}

function modulePath(filename: string | URL): string {
  if (filename instanceof URL) return fileURLToPath(filename);
  if (filename.startsWith('file:')) return fileURLToPath(filename);
  if (!filename.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(filename)) {
    throw new RangeError(messages.option('filename', 'an absolute path, a file: URL string or a URL', filename));
  }
  return filename;
}

function isWorkerExit(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (error instanceof Error && error.message.startsWith('worker exited')) || (typeof code === 'string' && code.startsWith('ERR_WORKER_'));
}

/** A job that never began failed on this side, while it was sent: its input could not be cloned, or a getter or trap of it threw. */
function explainUnsent(job: ExecutorJob, error: unknown): unknown {
  return isCloneError(error) ? notCloneable(job.id, error) : error;
}

/** A job that began and failed without a word from the user's code: its result could not be sent, or its thread died. */
function explainLost(job: ExecutorJob, error: unknown): unknown {
  if (isCloneError(error)) return notCloneable(job.id, error);
  return workerExited(job.id, error);
}

/** Piscina's 'error' for a reply whose task it had already failed (its thread died meanwhile). */
function isLateReply(error: Error): boolean {
  return error.message.startsWith('Unexpected message from Worker');
}
