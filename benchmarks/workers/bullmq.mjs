// The job functions of the bullmq benchmark (benchmarks/bullmq.ts). Every contender runs these
// very functions: the thread pool and `lazypool worker` load this module as it is (named exports,
// chosen per job with `name`); plain BullMQ's worker process (bullmq-plain-worker.ts) imports them
// into its processor, and its sandboxed variant runs them through bullmq-sandboxed.mjs.
//
// Each job returns a value derived from its own input, so that the benchmark checks every result
// it times (a job that ran twice, not at all, or whose reply went to another job's handle is seen).

/** What `spin` and `tiny` return for input `n`: checked by the benchmark for every job. */
export function expected(n) {
  return n * 2 + 1;
}

/**
 * Keeps its thread busy for `ms` milliseconds (a CPU job of known length, not a sleep), then
 * returns `expected(n)`. `stamp`: returns `{ value, startedAt }` instead, `startedAt` the epoch
 * time in fractional milliseconds at which it began (performance.timeOrigin + performance.now(),
 * comparable between processes of one machine): how an urgent job's start is observed where the
 * pool has no event for it (plain BullMQ).
 */
export function spin({ ms, n, stamp }) {
  const startedAt = performance.timeOrigin + performance.now();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: a sleep would free the thread, which is not what a CPU-bound job does
  }
  return stamp ? { value: expected(n), startedAt } : expected(n);
}

/** The smallest job: what it costs is the dispatch round trip. */
export function tiny(n) {
  return expected(n);
}
