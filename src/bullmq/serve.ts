/**
 * The worker side of `lazypool/bullmq`: serves a worker module to a BullMQ queue, running its jobs
 * on a local lazypool thread pool, so one module serves both modes and remote jobs keep batching,
 * cooperative cancel and progress. `lazypool worker --redis <url> --queue <name> <module>` is this.
 *
 * - BullMQ's Worker takes at most as many jobs as the local pool can run at once, and the worker
 *   registers that capacity in Redis (refreshed every `registerEvery` ms, expiring after
 *   `registerTtl`): the submitting side adds no more jobs than the registered workers can start.
 * - A job names an export of the served module, nothing else: the thread looks it up among the
 *   module's own exports and runs it only if it is a function. Its data is checked (wire.ts
 *   `readJob`): malformed or oversized data fails that job in BullMQ, saying why, and the worker goes
 *   on.
 * - Before it begins a job, the worker asks the submitting process (named by the job id) whether it
 *   may: that process decides, in turn with its own take-backs (bullmq/executor.ts). No answer
 *   within `askTimeout` (the process is gone): the job is dropped unrun.
 * - Cancelling: ids published on the queue's cancel channel cancel the local handle (the job sees
 *   `cancelled()` and `signal()`; the local pool ends its thread after `abortGrace`). An id heard
 *   before its job arrives is kept a while, so the job is not begun at all.
 * - A worker process that dies mid-job: its jobs' locks expire and BullMQ's stalled check fails them
 *   (`maxStalledCount` 0 by default here: never run twice silently); the submitting side rejects
 *   their handles with BullMQ's reason.
 */
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ConnectionOptions, Job, Worker as WorkerType, WorkerOptions } from 'bullmq';
import type { Redis as RedisType } from 'ioredis';
import { Pool } from '../pool.js';
import type { JobHandle } from '../handle.js';
import type { PoolOptions } from '../options.js';
import { withTimeout } from '../timer.js';
import { loadBullmq, sideClient } from './load.js';
import { defaultMaxInputBytes, encode, encodeError, keys, markOf, readJob, type Reply, type Report } from './wire.js';

export interface ServeOptions extends Omit<PoolOptions, 'executor' | 'run' | 'filename'> {
  /** BullMQ's own `connection`: `{ host, port }`, `{ url }`, other ioredis options, or a client. */
  connection: ConnectionOptions;
  queue: string;
  /** The worker module: a path, a file: URL string or a URL, as for `new Pool({ filename })`. */
  filename: string | URL;
  /** BullMQ's key prefix. @default `bull` */
  prefix?: string;
  /** The largest job input accepted, in bytes of its encoding. @default 16 MiB */
  maxInputBytes?: number;
  /** BullMQ Worker options (`lockDuration`, `stalledInterval`, `maxStalledCount`, …). */
  worker?: Partial<Omit<WorkerOptions, 'connection' | 'prefix' | 'concurrency' | 'autorun'>>;
  /** ms between refreshes of this worker's registration. @default 2000 */
  registerEvery?: number;
  /** ms after which a registration not refreshed expires. @default 10000 */
  registerTtl?: number;
  /** ms a job waits for the submitting process's go-ahead before it is dropped unrun. @default 10000 */
  askTimeout?: number;
  /** ms to reach Redis at start before serve() rejects. @default 10000 */
  connectTimeout?: number;
}

export interface Server {
  /** Jobs this worker runs at once: its local pool's concurrency. */
  readonly capacity: number;
  /** Its id in the registry. */
  readonly id: string;
  /** Jobs running now. */
  readonly running: number;
  /**
   * Stops taking jobs, lets the running ones finish (or, `{ cancelRunning: true }`, cancels them:
   * their handles reject with CancelledError), then ends its threads and connections.
   */
  close(options?: { cancelRunning?: boolean }): Promise<void>;
}

/** How long an id heard on the cancel channel is remembered for a job that has not arrived. */
const rememberCancel = 60_000;

export async function serve(options: ServeOptions): Promise<Server> {
  const { connection, queue, filename, prefix = 'bull', maxInputBytes = defaultMaxInputBytes, worker: workerOptions, registerEvery = 2000, registerTtl = 10_000, askTimeout = 10_000, connectTimeout = 10_000, ...poolOptions } = options;
  if (typeof queue !== 'string' || queue.length === 0) throw new TypeError('serve(): queue must be a non-empty string');
  if (!(filename instanceof URL) && (typeof filename !== 'string' || filename.length === 0)) throw new TypeError('serve(): filename must be the worker module');
  // fileURLToPath, not URL.pathname: a file URL's path is percent-encoded (a space is %20).
  const path = filename instanceof URL || filename.startsWith('file:') ? fileURLToPath(filename) : resolve(filename);
  await checkModule(path);
  const { Worker, UnrecoverableError } = await loadBullmq();
  const pool = new Pool({ ...poolOptions, filename: path });
  const capacity = pool.concurrency;
  const id = randomUUID();
  const member = `${capacity}:${id}`;
  const names = keys(prefix, queue);
  const running = new Map<string, JobHandle>();
  const cancelled = new Map<string, number>();
  const answerChannel = names.answer(id);
  /** Jobs asked about, waiting for the answer. */
  const asking = new Map<string, (yes: boolean) => void>();

  let side: RedisType | undefined;
  let subscriber: RedisType | undefined;
  try {
    side = await sideClient(connection);
    side.on('error', () => {});
    subscriber = side.duplicate();
    subscriber.on('error', () => {});
    // Redis retries for ever: a worker that cannot reach it says so instead of waiting silently.
    await withTimeout(subscriber.subscribe(names.cancel, answerChannel), connectTimeout, `Redis did not answer within ${connectTimeout} ms`);
  } catch (error) {
    side?.disconnect();
    subscriber?.disconnect();
    await pool.close();
    throw error;
  }
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === answerChannel) {
      const space = message.lastIndexOf(' ');
      asking.get(message.slice(0, space))?.(message.slice(space + 1) === '1');
      return;
    }
    const jobId = message;
    const now = Date.now();
    for (const [old, at] of cancelled) {
      if (now - at < rememberCancel) break;
      cancelled.delete(old);
    }
    cancelled.set(jobId, now);
    running.get(jobId)?.cancel('cancelled by the submitting process');
  });

  const processor = async (job: Job, _token?: string, signal?: AbortSignal): Promise<Reply> => {
    let name: string | undefined;
    let input: unknown;
    try {
      ({ name, input } = readJob(job.name, job.data, maxInputBytes));
    } catch (error) {
      throw new UnrecoverableError((error as Error).message);
    }
    const jobId = job.id!;
    const mark = markOf(jobId);
    if (mark === undefined) throw new UnrecoverableError('job id is not a lazypool job id (<mark>.<n>): lazypool jobs are added by a Pool with the bullmq executor');
    if (cancelled.has(jobId)) return { c: 1 };
    // The submitting process decides whether it begins (and so it is `running` from its yes).
    if (!(await ask(mark, jobId))) return { c: 1 };
    if (cancelled.has(jobId)) return { c: 1 };
    // Reports go out one after the other, and the reply after all of them.
    let reports: Promise<unknown> = Promise.resolve();
    const report = (value: Report): void => {
      reports = reports.then(() => job.updateProgress(value as object)).catch(() => {});
    };
    const handle = pool.submit(input, {
      name,
      onProgress: (value: unknown) => {
        try {
          report({ p: encode(value, 'progress') });
        } catch {
          // A progress value that cannot travel is dropped, as one that cannot be cloned is.
        }
      },
    });
    running.set(jobId, handle);
    if (cancelAll) handle.cancel('the worker is shutting down');
    const onAbort = (): void => void handle.cancel('cancelled by BullMQ');
    signal?.addEventListener('abort', onAbort);
    try {
      const value = await handle;
      await reports;
      try {
        return { v: encode(value, 'the result') };
      } catch (error) {
        return { e: encodeError(error) };
      }
    } catch (error) {
      await reports;
      if (handle.timing.startedAt === undefined && handle.state === 'cancelled') return { c: 1 };
      return { e: encodeError(error) };
    } finally {
      running.delete(jobId);
      signal?.removeEventListener('abort', onAbort);
    }
  };

  const ask = (mark: string, jobId: string): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => answer(false), askTimeout);
      const answer = (yes: boolean): void => {
        clearTimeout(timer);
        asking.delete(jobId);
        resolve(yes);
      };
      asking.set(jobId, answer);
      side!.publish(names.ask(mark), `${answerChannel} ${jobId}`).catch(() => answer(false));
    });

  const worker: WorkerType = new Worker(queue, processor, {
    maxStalledCount: 0,
    ...workerOptions,
    connection,
    prefix,
    concurrency: capacity,
    autorun: false,
  });
  worker.on('error', () => {});

  const register = async (): Promise<void> => {
    await side!.eval(registerScript, 1, names.workers, member, String(registerTtl));
  };
  try {
    await withTimeout(worker.waitUntilReady(), connectTimeout, `Redis did not answer within ${connectTimeout} ms`);
    await register();
  } catch (error) {
    await worker.close(true).catch(() => {});
    side.disconnect();
    subscriber.disconnect();
    await pool.close();
    throw error;
  }
  const registration = setInterval(() => void register().catch(() => {}), registerEvery);
  void worker.run().catch(() => {});

  let closing: Promise<void> | undefined;
  /** close({ cancelRunning: true }) was called: jobs given the go-ahead from now on are cancelled too. */
  let cancelAll = false;
  return {
    capacity,
    id,
    get running() {
      return running.size;
    },
    close({ cancelRunning = false } = {}) {
      // A later call may still cancel what runs (the second SIGTERM), while the first finishes closing.
      if (cancelRunning) {
        cancelAll = true;
        for (const handle of running.values()) handle.cancel('the worker is shutting down');
      }
      closing ??= (async () => {
        clearInterval(registration);
        // BullMQ stops fetching the moment close() is called (a job that completes meanwhile no
        // longer fetches the next with it): called first, not after a round trip to Redis, in which
        // a running job that ended took a new one. Jobs asking for the go-ahead get their answer:
        // only the submitting process decides whether they begin, and a yes runs them, as running
        // jobs, before the worker closes.
        const workerClosed = worker.close();
        await side!.zrem(names.workers, member).catch(() => {});
        await workerClosed;
        await pool.close();
        await subscriber!.quit().catch(() => subscriber!.disconnect());
        await side!.quit().catch(() => side!.disconnect());
      })();
      return closing;
    },
  };
}

/** Registers `member` until the Redis clock's now + ttl. */
const registerScript = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
`;

/** The module must exist and load, or the worker does not start: a clear error now, not per job. */
async function checkModule(path: string): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new Error(`the worker module ${path} does not exist`);
  }
  try {
    await import(pathToFileURL(path).href);
  } catch (error) {
    throw new Error(`the worker module ${path} does not load: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}
