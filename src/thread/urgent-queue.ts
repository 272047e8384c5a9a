/**
 * Piscina's task queue for lazypool: it holds only tasks that found every thread's inbox full,
 * promoted ones first, each kind in the order posted.
 */
import { queueOptionsSymbol, type TaskQueue } from 'piscina';

/** What lazypool puts in a task's queue options: whether it is a promoted job's. */
interface QueueOptions {
  readonly urgent?: boolean;
}

function isUrgent(task: QueuedTask): boolean {
  return (task[queueOptionsSymbol] as QueueOptions | null | undefined)?.urgent === true;
}

type QueuedTask = Parameters<TaskQueue['push']>[0];

export class UrgentFirstQueue implements TaskQueue {
  readonly #urgent: QueuedTask[] = [];
  readonly #others: QueuedTask[] = [];

  get size(): number {
    return this.#urgent.length + this.#others.length;
  }

  push(task: QueuedTask): void {
    (isUrgent(task) ? this.#urgent : this.#others).push(task);
  }

  shift(): QueuedTask | null {
    return this.#urgent.shift() ?? this.#others.shift() ?? null;
  }

  /** Piscina (stricterFIFO) puts back at the head a task it shifted but could not place. */
  unshift(task: QueuedTask): void {
    (isUrgent(task) ? this.#urgent : this.#others).unshift(task);
  }

  remove(task: QueuedTask): void {
    for (const list of [this.#urgent, this.#others]) {
      const index = list.indexOf(task);
      if (index !== -1) list.splice(index, 1);
    }
  }
}
