// The soak benchmark's jobs (plain JavaScript, loaded by lazypool's threads as it is).

/** A tiny job: returns its input. */
export function work(value) {
  return value;
}

/** A job that fails: throws, as a buggy job does; its thread lives on. */
export function fail(value) {
  throw new Error(`job ${value} failed on purpose`);
}

/** A job that crashes its thread: ends it with process.exit, as a native crash would. */
export function die() {
  process.exit(1);
}
