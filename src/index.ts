export { Pool, type PoolStats, type PoolHandle, type WorkerProxy } from './pool.js';
export { JobHandle, type JobState, type JobOutcome, type JobTiming, type JobHandleInit } from './handle.js';
export { JobGroup, type GroupOptions } from './group.js';
export { CancelledError, TimeoutError, PoolClosedError, DependencyError } from './errors.js';
export type { Executor, ExecutorJob, JobSource } from './executor.js';
export type { PoolOptions, SubmitOptions, MapOptions, CloseOptions, InProcessJob, InProcessRun, HandleClass } from './options.js';
import type { TransferListItem } from 'node:worker_threads';
import { move as piscinaMove } from 'piscina';

/**
 * Piscina's `move(value)`: wraps an `ArrayBuffer`, typed array or `MessagePort` so that it is
 * transferred to the worker rather than copied (the sender's copy becomes unusable). Typed as the
 * value it wraps, which is what the worker receives (and so what `pool.proxy()` checks), and
 * declared here so that lazypool's types never make a user's compiler read Piscina's.
 */
export const move: <T extends TransferListItem | ArrayBufferView>(value: T) => T = piscinaMove as <T>(value: T) => T;
