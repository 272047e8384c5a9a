/**
 * `lazypool worker --redis <url> --queue <name> <module>`, run from source (`node --import tsx
 * src/cli.ts worker …`), against a real redis-server: a password in the URL works and is never
 * printed, a wrong one is a clean failure, usage mistakes exit 2, a module that does not exist or
 * load is a clear error, and SIGTERM lets a running job finish before the process exits 0.
 */
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool } from '../src/index.js';
import { bullmq } from '../src/bullmq/index.js';
import { remoteJobsPath, spawnCli, type Child } from './fixtures/bullmq-worker.js';
import { began, Marks, waitFor } from './fixtures/executor-contract.js';
import { startRedis, tlsCaPath, type RedisServer } from './fixtures/redis.js';

const throwsOnLoad = fileURLToPath(new URL('./fixtures/fault-throws-on-load.ts', import.meta.url));

async function redisFor(t: ExecutionContext, password?: string): Promise<RedisServer> {
  const redis = await startRedis(password === undefined ? {} : { password });
  t.teardown(() => redis.stop());
  return redis;
}

function cli(t: ExecutionContext, args: string[], env: Record<string, string> = {}): Child {
  const child = spawnCli(args, env);
  t.teardown(async () => {
    await child.stop(3000);
  });
  return child;
}

function poolFor(t: ExecutionContext, redis: RedisServer, queue: string): Pool {
  const pool = new Pool({ executor: bullmq({ connection: redis.connection, queue, checkInterval: 200 }) });
  t.teardown(async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pool.close(), new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
  });
  return pool;
}

/** Waits for the process to exit on its own, at most `ms` (a hang guard: under load, starting tsx alone can take seconds). */
async function exitOf(child: Child, ms = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      child.exited,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the command did not exit within ${ms} ms; stderr:\n${child.stderr()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function neverShows(t: ExecutionContext, child: Child, secret: string): void {
  for (const [stream, text] of [
    ['stdout', child.stdout()],
    ['stderr', child.stderr()],
  ]) {
    t.false(text.includes(secret), `${stream} shows the password: ${text}`);
    t.false(text.includes(encodeURIComponent(secret)), `${stream} shows the password, URI-encoded: ${text}`);
  }
}

const password = 'S3cret:p@ss/w0rd';

test('with redis://:password@host:port the worker serves the pool, never prints the password, and exits 0 on SIGTERM', async (t) => {
  const redis = await redisFor(t, password);
  const queue = `cli-${randomUUID()}`;
  const worker = cli(t, ['worker', '--redis', redis.url, '--queue', queue, '--threads', '1', remoteJobsPath]);
  await worker.waitFor(/serving/);
  const pool = poolFor(t, redis, queue);
  t.is(await pool.submit(21, { name: 'double' }), 42);
  t.deepEqual(await Promise.all([1, 2, 3].map((n) => pool.submit(n, { name: 'double' }))), [2, 4, 6]);
  await pool.close();
  const exit = await worker.stop(10_000);
  t.deepEqual(exit, { code: 0, signal: null });
  neverShows(t, worker, password);
});

test('with rediss:// (TLS, and a password) the worker serves the pool over TLS, trusting the CA given in NODE_EXTRA_CA_CERTS; without it, a clean failure naming the certificate', async (t) => {
  const redis = await startRedis({ password, tls: true });
  t.teardown(() => redis.stop());
  const queue = `cli-tls-${randomUUID()}`;
  // Not trusted: the certificate is refused, said plainly, and the password is not printed.
  const untrusted = cli(t, ['worker', '--redis', redis.tlsUrl!, '--queue', queue, remoteJobsPath]);
  const refused = await exitOf(untrusted);
  t.is(refused.code, 1);
  t.regex(untrusted.stderr(), /cannot reach Redis/);
  t.regex(untrusted.stderr(), /certificate/i);
  neverShows(t, untrusted, password);
  // Trusted through Node's own NODE_EXTRA_CA_CERTS: it serves, and the pool reaches it over TLS too.
  const worker = cli(t, ['worker', '--redis', redis.tlsUrl!, '--queue', queue, '--threads', '1', remoteJobsPath], { NODE_EXTRA_CA_CERTS: tlsCaPath });
  await worker.waitFor(/serving/);
  t.regex(worker.stderr(), /at rediss:\/\/:\*\*\*@127\.0\.0\.1:/);
  const tls = { ca: readFileSync(tlsCaPath) };
  const pool = new Pool({ executor: bullmq({ connection: { host: redis.host, port: redis.tlsPort!, password, tls }, queue, checkInterval: 200 }) });
  t.teardown(() => pool.close());
  t.is(await pool.submit(21, { name: 'double' }), 42);
  await pool.close();
  t.deepEqual(await worker.stop(10_000), { code: 0, signal: null });
  neverShows(t, worker, password);
});

test('a wrong password: the worker exits non-zero, saying it cannot reach Redis, without printing the password it was given', async (t) => {
  const redis = await redisFor(t, password);
  const wrong = 'wr0ng-Passw0rd-given';
  const worker = cli(t, ['worker', '--redis', `redis://:${wrong}@127.0.0.1:${redis.port}`, '--queue', 'q', remoteJobsPath]);
  const exit = await exitOf(worker);
  t.not(exit.code, 0);
  t.not(exit.code, null);
  t.regex(worker.stderr(), /WRONGPASS|invalid.*password|auth/i);
  t.regex(worker.stderr(), /cannot reach Redis/);
  neverShows(t, worker, wrong);
  // No Redis at all on a port: the same clean failure.
  const nobody = cli(t, ['worker', '--redis', `redis://:${wrong}@127.0.0.1:1`, '--queue', 'q', remoteJobsPath]);
  const nobodyExit = await exitOf(nobody);
  t.is(nobodyExit.code, 1);
  t.regex(nobody.stderr(), /cannot reach Redis/);
  neverShows(t, nobody, wrong);
});

test('usage mistakes exit 2 with one line saying what is wrong: a URL scheme other than redis:// or rediss://, no --redis, no --queue, no module', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['an http:// URL', ['--redis', `http://:${encodeURIComponent(password)}@127.0.0.1:6379`, '--queue', 'q', remoteJobsPath], /redis:\/\//],
    ['not a URL', ['--redis', 'localhost:6379', '--queue', 'q', remoteJobsPath], /redis|URL/],
    ['no --redis', ['--queue', 'q', remoteJobsPath], /--redis/],
    ['no --queue', ['--redis', 'redis://127.0.0.1:6379', remoteJobsPath], /--queue/],
    ['no module', ['--redis', 'redis://127.0.0.1:6379', '--queue', 'q'], /module/],
    ['--threads 0', ['--redis', 'redis://127.0.0.1:6379', '--queue', 'q', '--threads', '0', remoteJobsPath], /--threads/],
  ];
  const runs = cases.map(([what, args, message]) => ({ what, message, child: cli(t, ['worker', ...args]) }));
  for (const { what, message, child } of runs) {
    const exit = await exitOf(child);
    t.is(exit.code, 2, `${what}: exit code; stderr:\n${child.stderr()}`);
    t.regex(child.stderr().split('\n')[0], message, what);
    t.regex(child.stderr(), /lazypool help worker/, `${what}: says where the help is`);
    neverShows(t, child, password);
  }
});

test('a worker module that does not exist, or does not load, is a clear error (exit 1) before serving', async (t) => {
  const redis = await redisFor(t, password);
  const missing = '/nonexistent/lazypool/worker-module.mjs';
  const absent = cli(t, ['worker', '--redis', redis.url, '--queue', 'q', missing]);
  const broken = cli(t, ['worker', '--redis', redis.url, '--queue', 'q', throwsOnLoad]);
  const absentExit = await exitOf(absent);
  t.is(absentExit.code, 1);
  t.regex(absent.stderr(), /does not exist/);
  t.true(absent.stderr().includes(missing), absent.stderr());
  t.notRegex(absent.stderr(), /serving/);
  const brokenExit = await exitOf(broken);
  t.is(brokenExit.code, 1);
  t.regex(broken.stderr(), /does not load/);
  t.regex(broken.stderr(), /this worker module refuses to load/);
  t.notRegex(broken.stderr(), /serving/);
  neverShows(t, absent, password);
  neverShows(t, broken, password);
});

/** A one-thread 'lazypool worker' on a private Redis, its pool, and a gate job running on it. */
async function workerRunningAJob(t: ExecutionContext) {
  const redis = await redisFor(t);
  const queue = `cli-${randomUUID()}`;
  const worker = cli(t, ['worker', '--redis', redis.url, '--queue', queue, '--threads', '1', remoteJobsPath]);
  await worker.waitFor(/serving/);
  const pool = poolFor(t, redis, queue);
  // After the pool: AVA runs teardowns last first, so the jobs are released before the pool closes.
  const marks = await Marks.create();
  t.teardown(async () => {
    marks.releaseAll();
    await marks.remove();
  });
  const job = pool.submit(marks.mark('job'), { name: 'gate' });
  t.is(await began(job), 'began');
  await waitFor(() => marks.started('job'), 'the job to leave job.started');
  return { redis, queue, worker, pool, marks, job };
}

test('SIGTERM to a worker with a running job: it takes no new job, lets the running one finish (the handle fulfils), and exits 0', async (t) => {
  const { redis, queue, worker: first, pool, marks, job } = await workerRunningAJob(t);
  const next = pool.submit(marks.mark('next'), { name: 'mark' });
  first.child.kill('SIGTERM');
  await first.waitFor(/SIGTERM: finishing 1 running job/);
  marks.release('job');
  t.like(await job, { tag: 'job', pid: first.pid });
  const exit = await exitOf(first);
  t.deepEqual(exit, { code: 0, signal: null });
  t.false(marks.ran('next'), 'the closing worker took no new job');
  // Another worker takes it.
  const second = cli(t, ['worker', '--redis', redis.url, '--queue', queue, '--threads', '1', remoteJobsPath]);
  await second.waitFor(/serving/);
  t.is(await next, 'next');
});

test("a second SIGTERM cancels the running job (it sees cancelled(), its handle rejects with the worker's CancelledError) and the worker exits 0", async (t) => {
  const { worker, marks, job } = await workerRunningAJob(t);
  worker.child.kill('SIGTERM');
  await worker.waitFor(/SIGTERM: finishing 1 running job/);
  worker.child.kill('SIGTERM');
  // Never released: only the cancel can end it.
  // The worker's own CancelledError, as it travels (by name: the class is the worker's).
  const error = await t.throwsAsync(job);
  t.is(error!.name, 'CancelledError');
  t.regex(error!.message, /the worker is shutting down/);
  t.is(job.state, 'rejected');
  await waitFor(() => marks.sawCancel('job'), 'the job to see cancelled()');
  t.deepEqual(await exitOf(worker), { code: 0, signal: null });
});
