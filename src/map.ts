/**
 * pool.map(): results of one job per item, as an async iterable. It pulls the next item only when
 * fewer than a window of jobs are unyielded, so a source of any length never sits in memory as
 * jobs. The window is twice the pool's concurrency: enough for every slot to be busy while
 * finished results wait their turn to be yielded in order.
 *
 * An async source is asked for one item at a time, and a result that is ready is yielded while
 * its answer is awaited: a source may wait for the results before it has more items (a crawler
 * whose pages give the next links), and never waits on a result map is holding back.
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
  /** The source needs no `return()`: it is done, or its `next()` threw. */
  let exhausted = false;
  /** What the loop must throw: the error of the source's `next()`, or of an item that could not be submitted. */
  let thrown: { error: unknown } | undefined;
  /** An async source's `next()` is out and not yet answered. */
  let pulling = false;
  /** The loop has ended: an item that arrives now is not submitted. */
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const onDone = (handle: JobHandle<T>) => {
    if (handle.outcome!.status === 'rejected') failed ??= handle;
    else if (!ordered) finished.push(handle);
    notify();
  };
  const accept = (next: IteratorResult<unknown>) => {
    if (next.done === true) {
      exhausted = true;
      return;
    }
    if (closed) return;
    const handle = submit(next.value);
    observe(handle);
    unyielded.push(handle);
    handle.onDone(onDone);
  };
  const answered = (next: IteratorResult<unknown>) => {
    pulling = false;
    try {
      accept(next);
    } catch (error) {
      thrown ??= { error };
    }
    notify();
  };
  const refused = (error: unknown) => {
    pulling = false;
    exhausted = true;
    thrown ??= { error };
    notify();
  };
  try {
    for (;;) {
      while (!exhausted && !pulling && failed === undefined && thrown === undefined && unyielded.length < 2 * concurrency()) {
        let next: IteratorResult<unknown> | PromiseLike<IteratorResult<unknown>>;
        try {
          next = source.next();
        } catch (error) {
          exhausted = true;
          throw error;
        }
        if (!isPromiseLike(next)) {
          // A synchronous source has answered already; its items are still submitted a microtask
          // after the call that asked for them, as they always were.
          accept(await next);
          continue;
        }
        pulling = true;
        Promise.resolve(next).then(answered, refused);
      }
      if (failed !== undefined) throw (failed.outcome as { reason: unknown }).reason;
      if (thrown !== undefined) throw thrown.error;
      // A handle rejected before its onDone callback ran is a failure all the same.
      if (ordered && unyielded[0]?.outcome?.status === 'rejected') throw (unyielded[0].outcome as { reason: unknown }).reason;
      const ready = ordered ? (unyielded[0]?.outcome !== undefined ? unyielded[0] : undefined) : finished.shift();
      if (ready !== undefined) {
        // The window is small (twice the concurrency): removing from it is cheap.
        unyielded.splice(ordered ? 0 : unyielded.indexOf(ready), 1);
        yield (ready.outcome as { value: T }).value;
        continue;
      }
      if (exhausted && unyielded.length === 0) return;
      // Nothing to yield yet: wait for a job to settle or the source to answer.
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    closed = true;
    for (const handle of unyielded) handle.cancel();
    if (pulling) {
      // An async generator runs return() only after the next() it is in answers, which may be
      // never (it waits for results nobody will ask for now): it is told, and not waited for.
      Promise.resolve(source.return?.()).catch(ignore);
    } else if (!exhausted) {
      await source.return?.();
    }
  }
}

function ignore(): void {}

function isPromiseLike<R>(value: R | PromiseLike<R>): value is PromiseLike<R> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The iterator of `items`; throws a TypeError for anything that is not (async) iterable. */
export function iteratorOf(items: Iterable<unknown> | AsyncIterable<unknown>): AsyncIterator<unknown> | Iterator<unknown> {
  if (items !== null && typeof items === 'object' && Symbol.asyncIterator in items) return items[Symbol.asyncIterator]();
  if (items !== null && (typeof items === 'object' || typeof items === 'string') && Symbol.iterator in Object(items)) {
    return (items as Iterable<unknown>)[Symbol.iterator]();
  }
  throw new TypeError(`map() needs an iterable or async iterable, got ${items === null ? 'null' : typeof items}`);
}
