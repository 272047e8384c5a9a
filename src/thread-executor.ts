/**
 * The executor that runs jobs on Piscina's worker threads: the only file that touches Piscina.
 * Piscina never holds more than the jobs the pool dispatched (at most `concurrency` plus
 * promotions), so its own queue stays short and its linear aborts stay cheap.
 *
 * Piscina holds at most one task per thread (and promoted jobs): a job handed over while every
 * thread has a task waits in a small outbox, `running` all along as it would be in Piscina's queue,
 * and goes out in the same turn as the task that frees a thread comes back. Promoted jobs skip it.
 *
 * Brief jobs are sent several to a task. A Piscina task costs a message each way and a wake-up of
 * both threads, tens of µs, which is most of the cost of a job that runs for a few µs. So jobs of
 * an export measured to run under `batchBelowMicros` leave the outbox together, a fair share of the
 * jobs out per thread. A batch ends early once it has run `batchBudget` ms, so a result waits
 * little for the jobs after it. The result of each job but a batch's last is written to shared
 * memory as it finishes: a thread that dies in a later job of the batch loses nothing but that
 * job, and its jobs that had not started are sent again.
 */
import type { TransferListItem } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'node:v8';
import { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Piscina, queueOptionsSymbol, transferableSymbol, valueSymbol, type TaskQueue } from 'piscina';
import { messages } from './errors.js';
import type { Executor, ExecutorJob } from './executor.js';
import {
  flagWord,
  flagWords,
  Outcome,
  progressChannelKey,
  slotsPerBlock,
  storedResultBytes,
  Word,
  type ProgressReceiver,
} from './job-context.js';
import { defaults, type PoolOptions } from './options.js';
import type { BatchEnvelope, Envelope, TransportedError } from './thread.js';
import { Timer } from './timer.js';

// thread.ts under tsx, thread.js once built: the entry sits next to this file, with its extension.
const threadEntry = fileURLToPath(new URL(`./thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Jobs of an export that mostly run under this (µs), five of its last eight, are batched. */
const batchBelowMicros = 100;
/** ms after which a batch stops at the next job boundary. */
const batchBudget = 1;
/** ms after which the stored results of a batch still out are delivered without it; then every 2x that, up to `harvestAtMost`. */
const harvestAfter = 2 * batchBudget;
const harvestAtMost = 64;
/**
 * The default concurrency per thread: two, so that a thread finishing a job finds the next one
 * at hand; eight while jobs are brief (under `batchBelowMicros`), so that batches are worth sending,
 * while a job queued behind them still starts within about a millisecond of work.
 */
const defaultPerThread = 2;
const briefPerThread = 8;

/** One dispatched job, from the executor's side. */
class ThreadJob {
  readonly job: ExecutorJob;
  readonly flags: Int32Array;
  readonly word: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  stopping = false;
  /** In the outbox: handed over by the pool, not yet posted to Piscina. */
  waiting = false;
  /** To be posted in a task of its own (its batch could not be posted). */
  alone = false;
  /** Settled from its stored result before its batch came back (see #harvest). */
  harvested = false;
  graceTimer: Timer | undefined = undefined;
  /** Set while a finished job waits for its progress channel to catch up. */
  whenFlushed: (() => void) | undefined = undefined;
  flushed = false;

  constructor(job: ExecutorJob, flags: Int32Array, word: number, resolve: (value: unknown) => void, reject: (error: unknown) => void) {
    this.job = job;
    this.flags = flags;
    this.word = word;
    this.resolve = resolve;
    this.reject = reject;
  }

  load(offset: number): number {
    return Atomics.load(this.flags, this.word + offset);
  }
}

export class ThreadExecutor implements Executor {
  readonly #piscina: Piscina;
  readonly #filename: string;
  readonly #name: string;
  readonly #abortGrace: number;
  /** Piscina tasks that may run at once: one per thread unless concurrentTasksPerWorker says more. */
  readonly #capacity: number;
  readonly #blocks: Int32Array[] = [];
  readonly #stores: Uint8Array[] = [];
  readonly #jobs: (ThreadJob | undefined)[] = [];
  readonly #freeSlots: number[] = [];
  readonly #channels = new Set<MessagePort>();
  /** Batchable jobs waiting for a thread to be free, in the order the pool handed them over. */
  #outbox: ThreadJob[] = [];
  /** Piscina tasks posted and not yet answered. */
  #tasks = 0;
  /** Jobs handed over and not yet stopped. */
  #live = 0;
  /** Flushes of the outbox queued as microtasks; jobs handed over meanwhile join it. */
  #flushes = 0;
  /**
   * For each export, which of its last eight jobs ran under `batchBelowMicros` (a bit each, the
   * newest lowest). A majority decides, so that a brief job the OS preempted once does not count.
   */
  readonly #recent = new Map<string, number>();
  /** Exports whose results could not be kept in shared memory: never batched again. */
  readonly #unbatchable = new Set<string>();
  /** The export of the job that finished last. */
  #lastName: string | undefined = undefined;
  /** Jobs that finished and wait for their last progress values; see #finished. */
  #flushing = 0;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(options: PoolOptions) {
    const { filename, name, concurrency, Handle, abortGrace, run, ...piscinaOptions } = options;
    this.#filename = modulePath(filename!);
    this.#name = name ?? 'default';
    this.#abortGrace = abortGrace ?? defaults.abortGrace;
    this.#piscina = startPiscina({
      idleTimeout: defaults.idleTimeout,
      // Piscina re-queues a task it could not place at the tail unless told otherwise; the few
      // tasks it holds were dispatched in priority order and must start in that order.
      stricterFIFO: true,
      // Promoted jobs first: a promoted job is posted at once, and is next for the first free thread.
      taskQueue: new UrgentFirstQueue(),
      // Piscina's run and wait histograms are not exposed by lazypool: not worth two clock reads
      // and two histogram records per job.
      recordTiming: false,
      ...piscinaOptions,
      filename: threadEntry,
    });
    this.#capacity = Math.max(1, this.#piscina.maxThreads * (piscinaOptions.concurrentTasksPerWorker ?? 1));
    this.#piscina.on('message', (message: unknown) => this.#onThreadMessage(message));
    // A reply for a task Piscina already aborted arrives as an 'error' event; the job it belongs
    // to has settled, so it is only worth a warning, never a crash.
    this.#piscina.on('error', (error: Error) => {
      process.emitWarning(error.message, { type: 'LazypoolWorkerWarning', detail: error.stack });
    });
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  defaultConcurrency(name: string | undefined | null): number {
    const key = name === null ? this.#lastName : (name ?? this.#name);
    const brief = key !== undefined && this.#isBrief(key);
    return (brief ? briefPerThread : defaultPerThread) * Math.ceil(this.#piscina.maxThreads);
  }

  run(job: ExecutorJob): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const record = this.#admit(job, resolve, reject);
      // A thread is free and nothing is being gathered: straight to Piscina (before submit()
      // returns, when it dispatched the job). Promoted jobs go at once in any case: Piscina's queue
      // holds nothing the outbox holds back, so they are next for the first free thread.
      if (job.promoted || (this.#flushes === 0 && this.#outbox.length === 0 && this.#tasks < this.#capacity)) {
        this.#post([record]);
        return;
      }
      record.waiting = true;
      this.#outbox.push(record);
      if (this.#flushes === 0 && this.#tasks < this.#capacity) this.#queueFlush();
    });
  }

  stop(job: ExecutorJob): void {
    const record = this.#jobs[job.slot];
    if (record === undefined || record.job !== job || record.stopping) return;
    record.stopping = true;
    if (record.waiting) {
      // Never posted: it stops here and now.
      this.#outbox.splice(this.#outbox.indexOf(record), 1);
      record.waiting = false;
      this.#release(record);
      record.resolve(undefined);
      return;
    }
    Atomics.store(record.flags, record.word + Word.cancelled, 1);
    Atomics.notify(record.flags, record.word + Word.cancelled);
    record.graceTimer = new Timer(() => this.#forceStop(record), this.#abortGrace);
    // Its handle has settled: progress it still owes is of no use to anyone.
    record.whenFlushed?.();
  }

  async close(): Promise<void> {
    await this.#piscina.close();
    for (const port of this.#channels) port.close();
    this.#channels.clear();
  }

  #admit(job: ExecutorJob, resolve: (value: unknown) => void, reject: (error: unknown) => void): ThreadJob {
    const slot = this.#acquireSlot();
    job.slot = slot;
    const flags = this.#blocks[Math.floor(slot / slotsPerBlock)]!;
    const word = flagWord(slot);
    flags.fill(0, word, word + flagWords);
    const record = new ThreadJob(job, flags, word, resolve, reject);
    this.#jobs[slot] = record;
    this.#live++;
    return record;
  }

  /** Worth batching: an export measured to run briefly, whose input is copied (not moved). */
  #batchable(record: ThreadJob): boolean {
    const job = record.job;
    if (job.transferList !== undefined || isMovable(job.input)) return false;
    return this.#isBrief(this.#exportOf(job));
  }

  /** The export a job runs: its `name`, else the pool's default. */
  #exportOf(job: ExecutorJob): string {
    return job.name ?? this.#name;
  }

  #isBrief(name: string): boolean {
    return isBrief(this.#recent.get(name) ?? 0) && !this.#unbatchable.has(name);
  }

  #queueFlush(): void {
    this.#flushes++;
    queueMicrotask(this.#flush);
  }

  /**
   * Posts what the outbox holds while threads are free, a fair share of the jobs out per task.
   * Queued after the jobs of a returned task were settled, so the jobs the pool dispatches in
   * their place (in that same turn) join the outbox first; only the last of several queued
   * flushes posts.
   */
  readonly #flush = (): void => {
    if (--this.#flushes > 0) return;
    const outbox = this.#outbox;
    while (outbox.length > 0 && this.#tasks < this.#capacity) {
      const share = Math.ceil(this.#live / this.#capacity);
      const first = outbox[0]!;
      let count = 1;
      if (!first.alone && this.#batchable(first)) {
        const name = first.job.name;
        const block = Math.floor(first.job.slot / slotsPerBlock);
        while (count < share && count < outbox.length) {
          const next = outbox[count]!;
          if (next.alone || next.job.name !== name || Math.floor(next.job.slot / slotsPerBlock) !== block || !this.#batchable(next)) break;
          count++;
        }
      }
      this.#post(outbox.splice(0, count));
    }
  };

  #post(records: ThreadJob[]): void {
    this.#tasks++;
    let task: Promise<unknown>;
    try {
      task = records.length === 1 ? this.#postOne(records[0]!) : this.#postBatch(records);
    } catch (error) {
      task = Promise.reject(error);
    }
    // A batch normally answers within its budget; one that does not is held up by a job that runs
    // long: the results its earlier jobs stored are delivered meanwhile, without waiting for it.
    const harvest = records.length === 1 ? undefined : { timer: undefined as NodeJS.Timeout | undefined };
    if (harvest !== undefined) this.#harvestLater(records, harvest, harvestAfter);
    task.then(
      (value) => {
        if (harvest !== undefined) clearTimeout(harvest.timer);
        this.#answered(records, false, value);
      },
      (error: unknown) => {
        if (harvest !== undefined) clearTimeout(harvest.timer);
        this.#answered(records, true, error);
      },
    );
  }

  /** Settles the batch's stored results after `delay` ms, and again later (doubling) while it is out. */
  #harvestLater(records: ThreadJob[], harvest: { timer: NodeJS.Timeout | undefined }, delay: number): void {
    harvest.timer = setTimeout(() => {
      this.#harvest(records);
      this.#harvestLater(records, harvest, Math.min(delay * 2, harvestAtMost));
    }, delay).unref();
  }

  /** The jobs of a batch still out whose results are stored settle now. */
  #harvest(records: ThreadJob[]): void {
    for (const record of records) {
      if (record.harvested || record.load(Word.outcome) !== Outcome.stored) continue;
      record.harvested = true;
      this.#learn(record);
      this.#finish(record, false, this.#stored(record));
    }
  }

  #postOne(record: ThreadJob): Promise<unknown> {
    record.waiting = false;
    const job = record.job;
    let input = job.input;
    let transferList = job.transferList as TransferListItem[] | undefined;
    // Piscina unwraps move() only at the top of a task; here the task is the envelope.
    if (isMovable(input)) {
      transferList = [...(transferList ?? []), input[transferableSymbol] as TransferListItem];
      input = input[valueSymbol];
    }
    const envelope: Envelope = { filename: this.#filename, name: this.#exportOf(job), input, id: job.id, slot: job.slot, flags: record.flags };
    // Read by UrgentFirstQueue; a symbol key is not cloned into the message.
    if (job.promoted) (envelope as Envelope & { [queueOptionsSymbol]?: unknown })[queueOptionsSymbol] = urgent;
    // No `signal` for Piscina: a task that carries one makes every later run() take Piscina's
    // slow placement path (measured: about a tenth of the throughput on tiny jobs). #forceStop
    // ends the job's thread itself, as Piscina's abort would.
    return this.#piscina.run(envelope, transferList === undefined ? undefined : { transferList });
  }

  #postBatch(records: ThreadJob[]): Promise<unknown> {
    const count = records.length;
    const inputs = new Array<unknown>(count);
    const ids = new Array<number>(count);
    const slots = new Array<number>(count);
    for (let index = 0; index < count; index++) {
      const record = records[index]!;
      record.waiting = false;
      inputs[index] = record.job.input;
      ids[index] = record.job.id;
      slots[index] = record.job.slot;
    }
    const first = records[0]!;
    const block = Math.floor(first.job.slot / slotsPerBlock);
    const store = (this.#stores[block] ??= new Uint8Array(new SharedArrayBuffer(slotsPerBlock * storedResultBytes)));
    const envelope: BatchEnvelope = {
      filename: this.#filename,
      name: this.#exportOf(first.job),
      inputs,
      ids,
      slots,
      flags: first.flags,
      store,
      budget: batchBudget,
    };
    return this.#piscina.run(envelope);
  }

  /** A Piscina task came back: settle its jobs, send back to the outbox those it never reached. */
  #answered(records: ThreadJob[], failed: boolean, reply: unknown): void {
    this.#tasks--;
    if (records.length === 1) {
      this.#learn(records[0]!);
      this.#settle(records[0]!, failed, reply);
    } else if (failed && !isTransported(reply) && records.every((record) => record.load(Word.thread) === 0)) {
      // Posting the batch failed before any of it ran (an input that cannot be cloned, a getter
      // that threw): each job goes again in a task of its own, so only its own input can fail it.
      const back: ThreadJob[] = [];
      for (const record of records) {
        if (record.stopping) this.#finish(record, false, undefined);
        else back.push(record);
      }
      this.#sendBack(back, true);
    } else {
      const back: ThreadJob[] = [];
      for (const record of records) {
        if (record.harvested) continue;
        this.#learn(record);
        const outcome = record.load(Word.outcome);
        if (outcome === Outcome.stored) {
          this.#finish(record, false, this.#stored(record));
        } else if (outcome !== Outcome.none) {
          if (outcome === Outcome.replyUnstorable) this.#unbatchable.add(this.#exportOf(record.job));
          this.#settle(record, failed, reply);
        } else if (failed && record.load(Word.thread) !== 0) {
          // It was running when its thread died.
          this.#settle(record, true, reply);
        } else if (record.stopping) {
          this.#finish(record, false, undefined);
        } else {
          back.push(record);
        }
      }
      this.#sendBack(back, false);
    }
    // Always: the jobs the pool dispatches in place of these (in reactions queued just now) must
    // find a flush still to come, and wait for it, rather than go out one by one.
    this.#queueFlush();
  }

  /** Puts jobs that never started back at the head of the outbox, in their order; `alone`: one per task. */
  #sendBack(records: ThreadJob[], alone: boolean): void {
    if (records.length === 0) return;
    for (const record of records) {
      record.waiting = true;
      if (alone) record.alone = true;
    }
    this.#outbox = records.concat(this.#outbox);
  }

  /**
   * Records whether the job ran briefly, in its export's record of its last eight jobs. Wall-clock
   * time, so a brief job the OS preempted reads as long: one such reading never decides alone.
   */
  #learn(record: ThreadJob): void {
    const measured = record.load(Word.micros);
    if (measured === 0) return;
    const name = this.#exportOf(record.job);
    this.#recent.set(name, (((this.#recent.get(name) ?? 0) << 1) | (measured - 1 < batchBelowMicros ? 1 : 0)) & 0xff);
    this.#lastName = name;
  }

  #stored(record: ThreadJob): unknown {
    const slot = record.job.slot;
    const offset = (slot % slotsPerBlock) * storedResultBytes;
    const store = this.#stores[Math.floor(slot / slotsPerBlock)]!;
    return deserialize(store.subarray(offset, offset + record.load(Word.length)));
  }

  /** Settles a job with what its Piscina task answered: its result, its error, or its thread's death. */
  #settle(record: ThreadJob, failed: boolean, reply: unknown): void {
    if (!failed) {
      this.#finish(record, false, reply);
    } else if (isTransported(reply)) {
      this.#finish(record, true, revive(reply));
    } else {
      this.#release(record);
      record.reject(record.stopping ? reply : this.#explain(record, reply));
    }
  }

  #finish(record: ThreadJob, failed: boolean, value: unknown): void {
    let result: unknown;
    try {
      result = this.#finished(record, failed, value);
    } catch (error) {
      record.reject(error);
      return;
    }
    record.resolve(result);
  }

  /** Settles once the job's progress has all arrived (if it reported any). */
  #finished(record: ThreadJob, failed: boolean, value: unknown): unknown {
    const reported = record.load(Word.reported) !== 0;
    if (!reported || record.flushed || record.stopping) {
      this.#release(record);
      if (failed) throw value;
      return value;
    }
    // The progress ports are unref'd, and Piscina unrefs an idle thread: while a job waits for its
    // last values, nothing else may keep the process alive, so hold it open until they arrive.
    if (this.#flushing++ === 0) this.#keepAlive = setInterval(ignore, 1 << 30);
    return new Promise((resolve, reject) => {
      record.whenFlushed = () => {
        record.whenFlushed = undefined;
        if (--this.#flushing === 0) clearInterval(this.#keepAlive);
        this.#release(record);
        if (failed) reject(value);
        else resolve(value);
      };
    });
  }

  /**
   * abortGrace has passed and the job still runs: end its thread. Piscina sees the thread exit,
   * rejects the job's task (freeing its slot) and starts a replacement for minThreads. A job that
   * has no thread yet returns at once when it gets one, having seen its cancelled flag.
   */
  #forceStop(record: ThreadJob): void {
    record.graceTimer = undefined;
    if (this.#jobs[record.job.slot] !== record) return;
    // Finished, its result waiting in shared memory for its batch: its thread has moved on.
    if (record.load(Word.outcome) !== Outcome.none) return;
    const threadId = record.load(Word.thread);
    if (threadId === 0) return;
    for (const thread of this.#piscina.threads) {
      if (thread.threadId === threadId) void thread.terminate();
    }
  }

  /**
   * What a rejection that did not come from the user's code means. A job that never started in a
   * thread failed on this side, while Piscina posted it: its input could not be cloned (or a getter
   * of it threw), and the error is given as it is. A job that had started lost its thread.
   */
  #explain(record: ThreadJob, error: unknown): unknown {
    const started = record.load(Word.thread) !== 0;
    const code = (error as { code?: unknown } | null)?.code;
    const exited =
      (error instanceof Error && error.message.startsWith('worker exited')) || (typeof code === 'string' && code.startsWith('ERR_WORKER_'));
    if (isCloneError(error)) return notCloneable(record.job.id, error);
    if (!started && !exited) return error;
    return workerExited(record.job.id, error);
  }

  #acquireSlot(): number {
    const free = this.#freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.#jobs.length;
    if (slot % slotsPerBlock === 0) {
      this.#blocks.push(new Int32Array(new SharedArrayBuffer(slotsPerBlock * flagWords * Int32Array.BYTES_PER_ELEMENT)));
    }
    this.#jobs.push(undefined);
    return slot;
  }

  #release(record: ThreadJob): void {
    record.graceTimer?.clear();
    const slot = record.job.slot;
    if (this.#jobs[slot] !== record) return;
    this.#jobs[slot] = undefined;
    this.#freeSlots.push(slot);
    this.#live--;
  }

  #onThreadMessage(message: unknown): void {
    const port = (message as Record<string, unknown> | null)?.[progressChannelKey];
    if (!(port instanceof MessagePort)) return;
    const receiver: ProgressReceiver = {
      progress: (slot, id, value) => {
        const record = this.#recordOf(slot, id);
        if (record !== undefined) record.job.progress(value);
      },
      flush: (slot, id) => {
        const record = this.#recordOf(slot, id);
        if (record === undefined) return;
        record.flushed = true;
        record.whenFlushed?.();
      },
    };
    Comlink.expose(receiver, port as unknown as Comlink.Endpoint);
    port.unref();
    this.#channels.add(port);
    port.once('close', () => this.#channels.delete(port));
  }

  /** The running job with that id in that slot, if it is still there (a slot is reused later). */
  #recordOf(slot: number, id: number): ThreadJob | undefined {
    const record = this.#jobs[slot];
    return record !== undefined && record.job.id === id ? record : undefined;
  }
}

const urgent = Object.freeze({ urgent: true });

type QueuedTask = Parameters<TaskQueue['push']>[0];

/**
 * Piscina's task queue, holding at most a task per thread plus promoted jobs: promoted ones first,
 * each kind in the order posted.
 */
class UrgentFirstQueue implements TaskQueue {
  readonly #urgent: QueuedTask[] = [];
  readonly #others: QueuedTask[] = [];

  get size(): number {
    return this.#urgent.length + this.#others.length;
  }

  push(task: QueuedTask): void {
    (task[queueOptionsSymbol] === urgent ? this.#urgent : this.#others).push(task);
  }

  shift(): QueuedTask | null {
    return this.#urgent.shift() ?? this.#others.shift() ?? null;
  }

  /** Piscina (stricterFIFO) puts back at the head a task it shifted but could not place. */
  unshift(task: QueuedTask): void {
    (task[queueOptionsSymbol] === urgent ? this.#urgent : this.#others).unshift(task);
  }

  remove(task: QueuedTask): void {
    for (const list of [this.#urgent, this.#others]) {
      const index = list.indexOf(task);
      if (index !== -1) list.splice(index, 1);
    }
  }
}

/** Bits set in each byte. */
const bitCounts = Uint8Array.from({ length: 256 }, (_, byte) => byte.toString(2).replaceAll('0', '').length);

function isBrief(recent: number): boolean {
  return bitCounts[recent]! >= 5;
}

function ignore(): void {}

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

interface Movable {
  [transferableSymbol]: unknown;
  [valueSymbol]: unknown;
}

function isMovable(value: unknown): value is Movable {
  return typeof value === 'object' && value !== null && transferableSymbol in value && valueSymbol in value;
}

function isTransported(error: unknown): error is TransportedError {
  return typeof error === 'object' && error !== null && (error as TransportedError).lazypoolError === true;
}

function revive(transported: TransportedError): unknown {
  if ('thrown' in transported) return transported.thrown;
  const error = new Error(transported.message);
  Object.defineProperty(error, 'name', { value: transported.name, configurable: true, writable: true, enumerable: false });
  if (transported.stack !== undefined) error.stack = transported.stack;
  if (transported.properties !== undefined) Object.assign(error, transported.properties);
  return error;
}

function isCloneError(error: unknown): error is Error {
  return typeof error === 'object' && error !== null && (error as Error).name === 'DataCloneError';
}

/** Structured clone throws a DOMException, which is no `Error` to most code: give it one. */
function notCloneable(id: number, cause: Error): Error {
  const error = new Error(messages.notCloneable(id, cause.message), { cause });
  error.name = 'DataCloneError';
  return error;
}

function workerExited(id: number, cause: unknown): Error {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new Error(messages.workerExited(id, detail), { cause });
}
