/**
 * pool.map(): results of one job per item, as an async iterable. It pulls the next item only when
 * fewer than a window of jobs are unyielded, so a source of any length never sits in memory as
 * jobs. The window is twice the pool's concurrency: enough for every slot to be busy while
 * finished results wait their turn to be yielded in order.
 */
import { observe, type JobHandle } from './handle.js';

export async function* mapJobs<T>(
  submit: (item: unknown) => JobHandle<T>,
  concurrency: () => number,
  source: AsyncIterator<unknown> | Iterator<unknown>,
  ordered: boolean,
): AsyncGenerator<T, void, undefined> {
  /** Submitted and not yet yielded, in submission order. */
  const unyielded: JobHandle<T>[] = [];
  /** Completion order, for `ordered: false`. */
  const finished: JobHandle<T>[] = [];
  let failed: JobHandle<T> | undefined;
  let exhausted = false;
  let wake: (() => void) | undefined;
  const onDone = (handle: JobHandle<T>) => {
    if (handle.outcome!.status === 'rejected') failed ??= handle;
    else if (!ordered) finished.push(handle);
    wake?.();
  };
  try {
    for (;;) {
      while (!exhausted && unyielded.length < 2 * concurrency() && failed === undefined) {
        const next = await source.next();
        if (next.done === true) {
          exhausted = true;
          break;
        }
        const handle = submit(next.value);
        observe(handle);
        unyielded.push(handle);
        handle.onDone(onDone);
      }
      if (failed !== undefined) throw (failed.outcome as { reason: unknown }).reason;
      if (unyielded.length === 0) return;
      const ready = ordered ? (unyielded[0].outcome !== undefined ? unyielded[0] : undefined) : finished.shift();
      if (ready === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      // The window is small (twice the concurrency): removing from it is cheap.
      unyielded.splice(ordered ? 0 : unyielded.indexOf(ready), 1);
      yield (ready.outcome as { value: T }).value;
    }
  } finally {
    for (const handle of unyielded) handle.cancel();
    if (!exhausted) await source.return?.();
  }
}

/** The iterator of `items`; throws a TypeError for anything that is not (async) iterable. */
export function iteratorOf(items: Iterable<unknown> | AsyncIterable<unknown>): AsyncIterator<unknown> | Iterator<unknown> {
  if (items !== null && typeof items === 'object' && Symbol.asyncIterator in items) return items[Symbol.asyncIterator]();
  if (items !== null && (typeof items === 'object' || typeof items === 'string') && Symbol.iterator in Object(items)) {
    return (items as Iterable<unknown>)[Symbol.iterator]();
  }
  throw new TypeError(`map() needs an iterable or async iterable, got ${items === null ? 'null' : typeof items}`);
}
