export { Pool, type PoolStats, type PoolHandle, type WorkerProxy } from './pool.js';
export { JobHandle, type JobState, type JobOutcome, type JobTiming, type JobHandleInit } from './handle.js';
export { JobGroup } from './group.js';
export { CancelledError, TimeoutError, PoolClosedError } from './errors.js';
export type { PoolOptions, SubmitOptions, MapOptions, CloseOptions, InProcessJob, InProcessRun, HandleClass } from './options.js';
export { move } from 'piscina';
