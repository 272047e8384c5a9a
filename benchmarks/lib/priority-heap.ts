// A binary heap the peers' priority queues are built on, so each peer's "best way" to run an
// urgent job is its own scheduler with a proper priority queue, not a slow one we handicapped.
// Higher priority first; FIFO on ties.

interface Entry<T> {
  readonly item: T;
  readonly priority: number;
  readonly sequence: number;
}

export class PriorityHeap<T> {
  #entries: Entry<T>[] = [];
  #sequence = 0;

  constructor(private readonly priorityOf: (item: T) => number) {}

  get size(): number {
    return this.#entries.length;
  }

  push(item: T): void {
    this.#entries.push({ item, priority: this.priorityOf(item), sequence: this.#sequence++ });
    this.#up(this.#entries.length - 1);
  }

  pop(): T | undefined {
    const entries = this.#entries;
    if (entries.length === 0) return undefined;
    const top = entries[0];
    const last = entries.pop()!;
    if (entries.length > 0) {
      entries[0] = last;
      this.#down(0);
    }
    return top.item;
  }

  /** Removes `item` if present. Linear search, as in the peers' own queues: used on abort only. */
  remove(item: T): void {
    const entries = this.#entries;
    const index = entries.findIndex((entry) => entry.item === item);
    if (index === -1) return;
    const last = entries.pop()!;
    if (index < entries.length) {
      entries[index] = last;
      this.#down(index);
      this.#up(index);
    }
  }

  contains(item: T): boolean {
    return this.#entries.some((entry) => entry.item === item);
  }

  clear(): T[] {
    const items = this.#entries.map((entry) => entry.item);
    this.#entries = [];
    return items;
  }

  #before(a: Entry<T>, b: Entry<T>): boolean {
    return a.priority !== b.priority ? a.priority > b.priority : a.sequence < b.sequence;
  }

  #up(index: number): void {
    const entries = this.#entries;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.#before(entries[index], entries[parent])) break;
      [entries[index], entries[parent]] = [entries[parent], entries[index]];
      index = parent;
    }
  }

  #down(index: number): void {
    const entries = this.#entries;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let first = index;
      if (left < entries.length && this.#before(entries[left], entries[first])) first = left;
      if (right < entries.length && this.#before(entries[right], entries[first])) first = right;
      if (first === index) return;
      [entries[index], entries[first]] = [entries[first], entries[index]];
      index = first;
    }
  }
}
