/**
 * `lazypool/bullmq`: the same pool, handles and worker modules, with jobs dispatched through
 * BullMQ on Redis to `lazypool worker` processes on any machine.
 *
 * ```js
 * import { Pool } from 'lazypool';
 * import { bullmq } from 'lazypool/bullmq';
 * const pool = new Pool({ executor: bullmq({ connection: { host, port }, queue: 'images' }) });
 * ```
 *
 * Needs the optional peer dependencies `bullmq` and `ioredis` (`npm install bullmq ioredis`).
 */
import type { Executor } from '../executor.js';
import { BullmqExecutor, type BullmqExecutorOptions } from './executor.js';

export type { BullmqExecutorOptions } from './executor.js';
export { serve, type ServeOptions, type Server } from './serve.js';

/** An executor for `new Pool({ executor })` that dispatches through BullMQ (see BullmqExecutorOptions). */
export function bullmq(options: BullmqExecutorOptions): Executor {
  return new BullmqExecutor(options);
}
