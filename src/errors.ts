/**
 * The errors lazypool gives to handles, and every message text it writes, in one place.
 */

/**
 * A handle was cancelled (by `cancel()`, its `signal`, its group, or `close()`); `reason` is what
 * was given. It carries no stack trace: it would only show lazypool's own frames, and capturing one
 * was most of the cost of cancelling 100,000 awaited jobs.
 */
export class CancelledError extends Error {
  /** The reason passed to `cancel(reason)`, or the aborted signal's reason. */
  readonly reason: unknown;
  constructor(reason?: unknown) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(reason === undefined ? 'the job was cancelled' : `the job was cancelled: ${describe(reason)}`);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.reason = reason;
  }
  override get name(): 'CancelledError' {
    return 'CancelledError';
  }
}

/** A running job took longer than its `timeout` option; it was told to stop. */
export class TimeoutError extends Error {
  /** The `timeout` option, in ms. */
  readonly timeout: number;
  constructor(timeout: number) {
    super(`the job ran longer than its timeout of ${timeout} ms`);
    this.timeout = timeout;
  }
  override get name(): 'TimeoutError' {
    return 'TimeoutError';
  }
}

/**
 * A job waited (`after`) for one that failed or was cancelled: it was rejected without running.
 * `dependency` is that job's handle (or what was given), `cause` its error.
 */
export class DependencyError extends Error {
  /** The dependency that failed or was cancelled. */
  readonly dependency: unknown;
  constructor(dependency: unknown, cause: unknown, id?: number) {
    super(messages.dependencyFailed(id, cause), { cause });
    this.dependency = dependency;
  }
  override get name(): 'DependencyError' {
    return 'DependencyError';
  }
}

/** The pool was closed: it takes no more jobs, and held jobs are cancelled with this as the reason. */
export class PoolClosedError extends Error {
  constructor(message: string = messages.poolClosed()) {
    super(message);
  }
  override get name(): 'PoolClosedError' {
    return 'PoolClosedError';
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Every message text; option errors name the option and the value given. */
export const messages = {
  option: (option: string, expected: string, value: unknown) =>
    `${option} must be ${expected}, got ${show(value)}`,
  optionsObject: (what: string, value: unknown) => `${what} must be an object, got ${show(value)}`,
  noModule: () => 'new Pool() needs `filename` (a worker module), `run` (an in-process function) or `executor`',
  bothModuleAndRun: () => 'new Pool() takes one of `filename`, `run` and `executor`, not several',
  runNeedsConcurrency: () => 'new Pool({ run }) needs `concurrency`: there are no threads to count',
  maxQueue: () =>
    'maxQueue is not a lazypool option: waiting jobs stay in lazypool\'s own queue (bound it with pool.stats.queued)',
  handleClass: (value: unknown) => `Handle must be JobHandle or a subclass of it, got ${show(value)}`,
  outsideJob: (fn: string) => `${fn}() was called outside a running lazypool job`,
  workerExited: (id: number, cause: string) => `the worker exited while running job ${id}: ${cause}`,
  workerExitedBefore: (id: number, cause: string) =>
    `the worker exited before job ${id} began, and took its transferred input along: ${cause}`,
  poolClosed: () => 'the pool is closed',
  dependencyFailed: (id: number | undefined, cause: unknown) =>
    `a job it waits for${id === undefined ? '' : ` (job ${id})`} ${cause instanceof CancelledError ? 'was cancelled' : 'failed'}: ${describe(cause)}`,
  ignoredAbort: (id: number) => `job ${id} did not stop within abortGrace`,
  threadsCannotStart: (detail: string) => `the pool's threads cannot start: ${detail}`,
  resultNotCloneable: (detail: string) => `the job's result could not be cloned: ${detail}`,
  thrownNotCloneable: (type: string) => `the job threw a value that is not an Error and cannot be cloned (a ${type})`,
  notCloneable: (id: number, detail: string) => `job ${id}: its input or result could not be cloned: ${detail}`,
  noHandler: (name: string, filename: string) =>
    `the worker module ${filename} has no export named '${name}' that is a function`,
} as const;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `a function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
