/**
 * The executor contract (test/fixtures/executor-contract.ts) behind Redis: `bullmq({ connection,
 * queue })` with two `lazypool/bullmq` worker processes, one thread per queue each, so the pool's
 * capacity is 2 as on threads. Each test has its own queue, served by both processes for that test
 * only; the processes and the redis-server are shared by the file (starting two processes per
 * test, 15 tests at once, would take longer than the tests on this 2-core machine).
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { Pool } from '../src/index.js';
import { bullmq } from '../src/bullmq/index.js';
import { registerContract, waitFor } from './fixtures/executor-contract.js';
import { WorkerHost } from './fixtures/bullmq-worker.js';
import { startRedis, type RedisServer } from './fixtures/redis.js';

let redis: RedisServer;
let hosts: WorkerHost[] = [];

test.before(async () => {
  redis = await startRedis();
  hosts = [0, 1].map(() => new WorkerHost({ connection: redis.connection }));
  await Promise.all(hosts.map((host) => host.ready()));
});

test.after.always(async () => {
  await Promise.all(hosts.map((host) => host.stop()));
  await redis?.stop();
});

registerContract(test, 'bullmq, two worker processes', async (t) => {
  const queue = `contract-${randomUUID()}`;
  let pool: Pool | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await pool?.close();
      } finally {
        await Promise.all(hosts.map((host) => host.close(queue)));
      }
    })());
  t.teardown(stop);
  // No fault here: BullMQ's default locks, so that a loaded machine cannot stall a job.
  const capacities = await Promise.all(
    hosts.map((host) => host.serve({ connection: redis.connection, queue, maxThreads: 1, minThreads: 1, worker: { lockDuration: 30_000, stalledInterval: 30_000 } })),
  );
  t.deepEqual(capacities, [1, 1]);
  const created = new Pool({ executor: bullmq({ connection: redis.connection, queue, checkInterval: 200 }) });
  pool = created;
  // The pool learns the workers' capacity from Redis once connected (it is 0 until then).
  await waitFor(() => created.concurrency === 2, 'the pool to learn the capacity of the two workers (2)');
  return { pool: created, stop };
});
