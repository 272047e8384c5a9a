/**
 * The executor contract (test/fixtures/executor-contract.ts) on the default executor: Piscina's
 * threads, two of them. test/bullmq-contract.test.ts runs the same tests behind Redis.
 */
import test from 'ava';
import { Pool } from '../src/index.js';
import { registerContract } from './fixtures/executor-contract.js';
import { remoteJobsPath } from './fixtures/bullmq-worker.js';

registerContract(test, 'threads', async () => {
  const pool = new Pool({ filename: remoteJobsPath, maxThreads: 2 });
  return { pool, stop: () => pool.close() };
});
