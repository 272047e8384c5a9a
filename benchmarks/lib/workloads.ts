// The kinds of job the benchmarks submit, and the one measure most of them share: submit a
// batch of jobs at once, wait for every result, count jobs per second.
import type { JobName, PoolUnderTest } from './contenders.js';

export interface Workload {
  readonly label: string;
  readonly job: JobName;
  /** The input of the `index`-th job (cheap to build: building it is inside the timed region). */
  input(index: number): object | number;
}

/** One mebibyte: what the CPU job hashes (built in the worker, see workers/jobs.mjs). */
export const cpuJobBytes = 1 << 20;

export const tinyWorkload: Workload = { label: 'tiny', job: 'tiny', input: (index) => index };

export const cpuWorkload: Workload = {
  label: 'CPU (sha256 of 1 MiB)',
  job: 'sha256',
  input: (index) => ({ bytes: cpuJobBytes, seed: index }),
};

/**
 * Submits `count` jobs at once (as a user with a batch of work would), waits for all of them and
 * returns jobs per second. With `perMessage` > 1, tiny jobs travel `perMessage` to a message
 * (a `tinyBatch` job each), and each counts as the jobs it carries.
 */
export async function jobsPerSecond(
  pool: PoolUnderTest,
  workload: Workload,
  count: number,
  perMessage = 1,
): Promise<number> {
  const pending: PromiseLike<unknown>[] = [];
  const started = performance.now();
  if (perMessage === 1) {
    for (let index = 0; index < count; index++) pending.push(pool.submit(workload.job, workload.input(index)));
  } else {
    if (workload.job !== 'tiny') throw new Error('only tiny jobs are batched per message');
    for (let first = 0; first < count; first += perMessage) {
      const values: number[] = [];
      for (let index = first; index < Math.min(count, first + perMessage); index++) values.push(index);
      pending.push(pool.submit('tinyBatch', values));
    }
  }
  await Promise.all(pending);
  return count / ((performance.now() - started) / 1000);
}
