/**
 * The order of waiting jobs: a binary heap, highest priority first and, on equal priority, the smaller
 * id (earlier submission) first. Every operation is O(log n); nothing here shifts or
 * splices an array, so a queue of a million jobs costs what a queue of ten does, per job.
 */

/** Where an entry sits in its heap: -1 when it is in none. Kept on the entry so removal is O(log n). */
export const heapIndex: unique symbol = Symbol('lazypool.heapIndex');

/** What the queue needs from an entry. */
export interface QueueEntry {
  readonly priority: number;
  /** Submission order: ties on priority go to the smaller id. */
  readonly id: number;
  [heapIndex]: number;
}

export class JobQueue<T extends QueueEntry> {
  #heap: T[] = [];

  get size(): number {
    return this.#heap.length;
  }

  /** True if `entry` is in this queue. */
  has(entry: T): boolean {
    const index = entry[heapIndex];
    return index >= 0 && this.#heap[index] === entry;
  }

  push(entry: T): void {
    const index = this.#heap.length;
    this.#heap.push(entry);
    entry[heapIndex] = index;
    this.#siftUp(index);
  }

  /** The next entry to run, without taking it out. */
  peek(): T | undefined {
    return this.#heap[0];
  }

  /** Takes out and returns the next entry to run. */
  pop(): T | undefined {
    const heap = this.#heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      last[heapIndex] = 0;
      this.#siftDown(0);
    }
    top[heapIndex] = -1;
    return top;
  }

  /** Takes `entry` out wherever it is; returns false if it was not in this queue. */
  remove(entry: T): boolean {
    if (!this.has(entry)) return false;
    const heap = this.#heap;
    const index = entry[heapIndex];
    const last = heap.pop()!;
    entry[heapIndex] = -1;
    if (last !== entry) {
      heap[index] = last;
      last[heapIndex] = index;
      this.#restore(index);
    }
    return true;
  }

  /** Re-orders `entry` after its priority changed. */
  update(entry: T): void {
    if (this.has(entry)) this.#restore(entry[heapIndex]);
  }

  /** Empties the queue and returns what it held, in no particular order. */
  drain(): T[] {
    const entries = this.#heap;
    this.#heap = [];
    for (const entry of entries) entry[heapIndex] = -1;
    return entries;
  }

  #restore(index: number): void {
    if (index > 0 && before(this.#heap[index], this.#heap[(index - 1) >> 1])) this.#siftUp(index);
    else this.#siftDown(index);
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    const entry = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (!before(entry, parent)) break;
      heap[index] = parent;
      parent[heapIndex] = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry[heapIndex] = index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const entry = heap[index];
    for (;;) {
      let childIndex = 2 * index + 1;
      if (childIndex >= length) break;
      const right = childIndex + 1;
      if (right < length && before(heap[right], heap[childIndex])) childIndex = right;
      const child = heap[childIndex];
      if (!before(child, entry)) break;
      heap[index] = child;
      child[heapIndex] = index;
      index = childIndex;
    }
    heap[index] = entry;
    entry[heapIndex] = index;
  }
}

function before(a: QueueEntry, b: QueueEntry): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.id < b.id);
}
