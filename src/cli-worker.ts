/**
 * `lazypool worker --redis <url> --queue <name> <worker module>`: serves a worker module to a
 * BullMQ queue (lazypool/bullmq's `serve`). The URL's password is never printed.
 */
import { parseArgs } from 'node:util';
import { redact } from './bullmq/wire.js';

export const workerSynopsis = 'Usage: lazypool worker --redis <url> --queue <name> [options] <worker module>';

export const workerUsage = `${workerSynopsis}

Runs the jobs a lazypool Pool with the bullmq executor (lazypool/bullmq) adds to the queue, on
this machine's worker threads. The module is the same one a thread pool would load; a job can
name only one of its own exported functions.

Options:
      --redis <url>      redis://[user:password@]host:port[/db], or rediss:// for TLS
      --queue <name>     the BullMQ queue's name (the pool's bullmq({ queue }))
      --prefix <prefix>  BullMQ's key prefix. Default: bull
  -j, --threads <n>      worker threads, hence jobs at once. Default: Piscina's
  -h, --help             print this help and exit

SIGTERM or SIGINT: takes no more jobs, lets the running ones finish, and exits; a second one
cancels the running jobs (their handles reject with the worker's CancelledError).

Needs the packages bullmq and ioredis: npm install bullmq ioredis
`;

export class WorkerUsageError extends Error {}

export interface WorkerCommand {
  url: string;
  queue: string;
  prefix: string | undefined;
  threads: number | undefined;
  module: string;
}

export function parseWorkerCommand(args: string[]): WorkerCommand | 'help' {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        redis: { type: 'string' },
        queue: { type: 'string' },
        prefix: { type: 'string' },
        threads: { type: 'string', short: 'j' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs' messages quote the arguments given; a URL among them would be printed.
    throw new WorkerUsageError(String((error as Error).message).replace(/rediss?:\/\/\S*/g, (url) => redact(url.replace(/['"]$/, ''))));
  }
  if (values.help === true) return 'help';
  const url = values.redis as string | undefined;
  if (url === undefined) throw new WorkerUsageError('--redis <url> is required');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WorkerUsageError(`--redis: not a URL: ${redact(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new WorkerUsageError(`--redis: the URL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  const queue = values.queue as string | undefined;
  if (queue === undefined || queue.length === 0) throw new WorkerUsageError('--queue <name> is required');
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1) throw new WorkerUsageError(`--threads must be a whole number of at least 1, not '${String(values.threads)}'`);
  }
  if (positionals.length !== 1) throw new WorkerUsageError(positionals.length === 0 ? 'no worker module given' : `one worker module, not ${positionals.length}`);
  return { url, queue, prefix: values.prefix as string | undefined, threads, module: positionals[0]! };
}

/** Serves until a signal; resolves with the exit status. */
export async function runWorkerCommand(command: WorkerCommand): Promise<number> {
  const where = redact(command.url);
  await reachable(command.url, where);
  const { serve } = await import('./bullmq/index.js');
  const server = await serve({
    connection: { url: command.url },
    queue: command.queue,
    prefix: command.prefix,
    filename: command.module,
    ...(command.threads === undefined ? {} : { maxThreads: command.threads, minThreads: command.threads }),
  });
  process.stderr.write(`lazypool worker: serving ${command.module} on queue '${command.queue}' at ${where}, ${server.capacity} jobs at once\n`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (name: string): void => {
      signals++;
      if (signals === 1) {
        process.stderr.write(`lazypool worker: ${name}: finishing ${server.running} running job(s); again to cancel them\n`);
        void server.close().then(resolve);
      } else {
        void server.close({ cancelRunning: true });
        // close() above resolves once the cancelled jobs have stopped.
      }
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}

/** Fails fast, and clearly, for a URL no Redis answers at (a worker would otherwise retry forever). */
async function reachable(url: string, where: string): Promise<void> {
  let Redis: typeof import('ioredis').Redis;
  try {
    ({ Redis } = await import('ioredis'));
  } catch {
    throw new Error('lazypool worker needs the packages bullmq and ioredis: npm install bullmq ioredis');
  }
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 5000, enableOfflineQueue: false });
  // The server's own answer (WRONGPASS, NOAUTH, ...) comes as an 'error' event; connect() then
  // rejects with only "Connection is closed".
  let refusal: unknown;
  client.on('error', (error: unknown) => (refusal ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const reason = String((refusal as Error)?.message ?? (error as Error)?.message ?? error).split(url).join(where);
    throw new Error(`cannot reach Redis at ${where}: ${reason}`);
  } finally {
    client.disconnect();
  }
}
