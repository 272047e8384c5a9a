/**
 * The executor that runs jobs on Piscina's worker threads: the only file that touches Piscina.
 * Piscina never holds more than the jobs the pool dispatched (at most `concurrency` plus
 * promotions), so its own queue stays short and its linear aborts stay cheap.
 */
import type { TransferListItem } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Piscina, transferableSymbol, valueSymbol } from 'piscina';
import { messages } from './errors.js';
import type { Executor, ExecutorJob } from './executor.js';
import { flagWord, flagWords, progressChannelKey, slotsPerBlock, type ProgressReceiver } from './job-context.js';
import { defaults, type PoolOptions } from './options.js';
import type { Envelope, TransportedError } from './thread.js';
import { Timer } from './timer.js';

// thread.ts under tsx, thread.js once built: the entry sits next to this file, with its extension.
const threadEntry = fileURLToPath(new URL(`./thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** One dispatched job, from the executor's side. */
class ThreadJob {
  readonly job: ExecutorJob;
  readonly flags: Int32Array;
  readonly word: number;
  stopping = false;
  graceTimer: Timer | undefined = undefined;
  /** Set while a finished job waits for its progress channel to catch up. */
  whenFlushed: (() => void) | undefined = undefined;
  flushed = false;

  constructor(job: ExecutorJob, flags: Int32Array, word: number) {
    this.job = job;
    this.flags = flags;
    this.word = word;
  }
}

export class ThreadExecutor implements Executor {
  readonly #piscina: Piscina;
  readonly #filename: string;
  readonly #name: string;
  readonly #abortGrace: number;
  readonly #blocks: Int32Array[] = [];
  readonly #jobs: (ThreadJob | undefined)[] = [];
  readonly #freeSlots: number[] = [];
  readonly #channels = new Set<MessagePort>();
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
      // Piscina's run and wait histograms are not exposed by lazypool: not worth two clock reads
      // and two histogram records per job.
      recordTiming: false,
      ...piscinaOptions,
      filename: threadEntry,
    });
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

  /** Piscina's resolved thread limit, for the default concurrency. */
  get maxThreads(): number {
    return this.#piscina.maxThreads;
  }

  run(job: ExecutorJob): Promise<unknown> {
    const slot = this.#acquireSlot();
    job.slot = slot;
    const flags = this.#blocks[Math.floor(slot / slotsPerBlock)];
    const word = flagWord(slot);
    Atomics.store(flags, word, 0);
    Atomics.store(flags, word + 1, 0);
    Atomics.store(flags, word + 2, 0);
    const record = new ThreadJob(job, flags, word);
    this.#jobs[slot] = record;

    let input = job.input;
    let transferList = job.transferList as TransferListItem[] | undefined;
    // Piscina unwraps move() only at the top of a task; here the task is the envelope.
    if (isMovable(input)) {
      transferList = [...(transferList ?? []), input[transferableSymbol] as TransferListItem];
      input = input[valueSymbol];
    }
    const envelope: Envelope = { filename: this.#filename, name: job.name ?? this.#name, input, id: job.id, slot, flags };
    // No `signal` for Piscina: a task that carries one makes every later run() take Piscina's
    // slow placement path (measured: about a tenth of the throughput on tiny jobs). #forceStop
    // ends the job's thread itself, as Piscina's abort would.
    return this.#piscina.run(envelope, transferList === undefined ? undefined : { transferList }).then(
      (value) => this.#finished(record, false, value),
      (error: unknown) => {
        if (isTransported(error)) return this.#finished(record, true, revive(error));
        this.#release(record);
        if (record.stopping) throw error;
        throw this.#explain(record, error);
      },
    );
  }

  stop(job: ExecutorJob): void {
    const record = this.#jobs[job.slot];
    if (record === undefined || record.job !== job || record.stopping) return;
    record.stopping = true;
    Atomics.store(record.flags, record.word, 1);
    Atomics.notify(record.flags, record.word);
    record.graceTimer = new Timer(() => this.#forceStop(record), this.#abortGrace);
    // Its handle has settled: progress it still owes is of no use to anyone.
    record.whenFlushed?.();
  }

  async close(): Promise<void> {
    await this.#piscina.close();
    for (const port of this.#channels) port.close();
    this.#channels.clear();
  }

  /** Settles once the job's progress has all arrived (if it reported any). */
  #finished(record: ThreadJob, failed: boolean, value: unknown): unknown {
    const reported = Atomics.load(record.flags, record.word + 1) !== 0;
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
   * rejects the job (freeing its slot through run's promise) and starts a replacement for
   * minThreads. A job still waiting in Piscina has no thread yet: when it gets one it returns at
   * once, having seen its cancelled flag.
   */
  #forceStop(record: ThreadJob): void {
    record.graceTimer = undefined;
    if (this.#jobs[record.job.slot] !== record) return;
    const threadId = Atomics.load(record.flags, record.word + 2);
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
    const started = Atomics.load(record.flags, record.word + 2) !== 0;
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
