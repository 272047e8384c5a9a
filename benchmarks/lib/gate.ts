// Shared memory the main thread and the benchmark jobs meet in (see workers/jobs.mjs):
// a gate that holds every thread so that later jobs are known to be waiting, and a ledger in
// which a job books itself when it runs, so a cancelled job that ran anyway cannot go unseen.
import { setTimeout as delay } from 'node:timers/promises';

/** Holds threads in `gate` jobs until opened. */
export class Gate {
  readonly cells = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));

  /** The input of a `gate` job. */
  get input(): { gate: Int32Array } {
    return { gate: this.cells };
  }

  /** How many threads are held right now. */
  get held(): number {
    return Atomics.load(this.cells, 1);
  }

  /** Resolves once `count` threads are held; rejects after `timeoutMs` (a pool that never ran them). */
  async whenHeld(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.held < count) {
      if (performance.now() > deadline) {
        throw new Error(`only ${this.held} of ${count} threads reached the gate within ${timeoutMs} ms`);
      }
      await delay(1);
    }
  }

  /** Lets every held thread, and every later gate job, through. */
  open(): void {
    Atomics.store(this.cells, 0, 1);
    Atomics.notify(this.cells, 0);
  }
}

/** Counts `counted` jobs that reached a worker and the worker time they used. */
export class Ledger {
  readonly cells = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));

  /** The input of a `counted` job. */
  get input(): { ledger: Int32Array } {
    return { ledger: this.cells };
  }

  get jobsRun(): number {
    return Atomics.load(this.cells, 0);
  }

  get workerMicroseconds(): number {
    return Atomics.load(this.cells, 1);
  }
}
