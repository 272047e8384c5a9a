// A private redis-server for a benchmark: Debian's binary on a free port of 127.0.0.1, in a fresh
// temp folder, saving nothing. `stop()` shuts it down and removes the folder; should the benchmark
// process end first, an 'exit' handler SIGKILLs it. (test/fixtures/redis.ts is the tests' fuller
// version: password, restart, kill, a watchdog; a benchmark needs none of that.)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** For BullMQ's `connection`. */
  readonly connection: { host: string; port: number };
  /** A new client (the caller quits it). */
  client(): Redis;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const folders = new Set<string>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** `LAZYPOOL_REDIS_SERVER`, else redis-server on PATH, else /usr/bin or /usr/sbin. */
export function redisServerBinary(): string | undefined {
  if (process.env.LAZYPOOL_REDIS_SERVER) return existsSync(process.env.LAZYPOOL_REDIS_SERVER) ? process.env.LAZYPOOL_REDIS_SERVER : undefined;
  const folders = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/usr/sbin'];
  return folders.map((folder) => join(folder, 'redis-server')).find((path) => existsSync(path));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRedis(): Promise<PrivateRedis> {
  const binary = redisServerBinary();
  if (binary === undefined) throw new Error('redis-server not found (PATH, /usr/bin, /usr/sbin): apt-get install redis-server');
  const folder = await mkdtemp(join(tmpdir(), 'lazypool-bench-redis-'));
  folders.add(folder);
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--dir', folder, '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output = (output + chunk).slice(-4096)));
  child.stderr!.on('data', (chunk) => (output = (output + chunk).slice(-4096)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  let gone = false;
  void exited.then(() => (gone = true));

  const client = (): Redis => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => {});
  for (let attempt = 0; ; attempt++) {
    if (gone) throw new Error(`redis-server on port ${port} exited before answering; its output:\n${output}`);
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      probe.disconnect();
      if (attempt > 400) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer PING within 20 s; its output:\n${output}`);
      }
      await delay(50);
    }
  }
  probe.disconnect();

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    connection: { host: '127.0.0.1', port },
    client,
    async stop() {
      if (!gone) {
        const closer = new Redis({ host: '127.0.0.1', port, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        closer.on('error', () => {});
        await closer.call('SHUTDOWN', 'NOSAVE').catch(() => {});
        closer.disconnect();
        const timedOut = await Promise.race([exited.then(() => false), delay(5_000, true)]);
        if (timedOut) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      await rm(folder, { recursive: true, force: true });
      folders.delete(folder);
    },
  };
}

