/**
 * The `signal` option: aborting it cancels the job. One listener per signal, however many jobs
 * share it, so a signal shared by thousands of jobs adds no listener per job (and Node prints no
 * MaxListenersExceededWarning); each job leaves it when it settles, and the last one removes it.
 */
import { setCleanup, type JobHandle } from './handle.js';

interface Watch {
  readonly handles: Set<JobHandle<any, any>>;
  readonly listener: () => void;
}

const watches = new WeakMap<AbortSignal, Watch>();

/** Cancels `handle` with the signal's reason when `signal` aborts; forgets it once it settles. */
export function watchSignal(handle: JobHandle<any, any>, signal: AbortSignal): void {
  let watch = watches.get(signal);
  if (watch === undefined) {
    const handles = new Set<JobHandle<any, any>>();
    const listener = () => {
      watches.delete(signal);
      for (const watched of [...handles]) watched.cancel(signal.reason);
    };
    watch = { handles, listener };
    watches.set(signal, watch);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { handles, listener } = watch;
  handles.add(handle);
  setCleanup(handle, () => {
    handles.delete(handle);
    if (handles.size === 0 && watches.get(signal)?.handles === handles) {
      watches.delete(signal);
      signal.removeEventListener('abort', listener);
    }
  });
}
