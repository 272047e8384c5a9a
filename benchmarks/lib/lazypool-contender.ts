// lazypool as one more contender: the same jobs module (an ordinary Piscina worker), the same
// threads, driven through the public API only (src/index.ts, what a user imports).
import { fileURLToPath } from 'node:url';
import { type JobHandle, Pool } from '../../src/index.js';
import { type Contender, type PoolUnderTest, warmUp } from './contenders.js';

const jobsModule = fileURLToPath(new URL('../workers/jobs.mjs', import.meta.url));

export interface LazypoolSettings {
  readonly name?: string;
  /** The pool's `concurrency` for `threads` threads; lazypool's default (twice the threads) otherwise. */
  readonly concurrency?: (threads: number) => number;
  /** How `submitUrgent` gets ahead of the backlog: `promote()` (default) or a higher `priority`. */
  readonly urgent?: 'promote' | 'priority';
  /** How `cancelAll` cancels: `cancel()` on each handle (default), or one `group().cancel()`. */
  readonly cancel?: 'handles' | 'group';
}

export function lazypool(settings: LazypoolSettings = {}): Contender {
  const urgent = settings.urgent ?? 'promote';
  const cancel = settings.cancel ?? 'handles';
  return {
    name: settings.name ?? 'lazypool',
    urgentWay: urgent === 'priority' ? 'submit(input, { priority: 1 })' : 'submit(input).promote()',
    cancelWay: cancel === 'group' ? 'submitted through pool.group(), then group.cancel()' : 'handle.cancel() on each handle',
    async open(threads) {
      const pool = new Pool({
        filename: jobsModule,
        minThreads: threads,
        maxThreads: threads,
        ...(settings.concurrency ? { concurrency: settings.concurrency(threads) } : {}),
      });
      let handles: JobHandle[] = [];
      let group = pool.group();
      const underTest: PoolUnderTest = {
        submit: (job, input) => pool.submit(input, { name: job }),
        submitUrgent: (job, input) =>
          urgent === 'priority' ? pool.submit(input, { name: job, priority: 1 }) : pool.submit(input, { name: job }).promote(),
        submitCancellable: (job, input) => {
          if (cancel === 'group') return group.submit(input, { name: job });
          const handle = pool.submit(input, { name: job });
          handles.push(handle);
          return handle;
        },
        cancelAll: () => {
          if (cancel === 'group') {
            group.cancel();
            group = pool.group();
            return;
          }
          for (const handle of handles) handle.cancel();
          handles = [];
        },
        destroy: () => pool.close({ cancelQueued: true }),
        stream: (job, inputs) => pool.map(inputs, { name: job }),
        concurrency: () => pool.concurrency,
      };
      // The warm-up holds every thread at once, which needs a slot per thread: below that
      // (concurrency 1 in the sweep) lend the pool the slots for the warm-up only. A default
      // concurrency is left alone: once set, it would no longer follow the jobs' length.
      const given = settings.concurrency?.(threads);
      if (given !== undefined && given < threads) pool.concurrency = threads;
      await warmUp(underTest, threads);
      if (given !== undefined) pool.concurrency = given;
      return underTest;
    },
  };
}
