/**
 * The order of waiting jobs: a binary heap, highest priority first and, on equal priority, the
 * smaller rank (the id: earlier submission) first. Every operation is O(log n); nothing here shifts or
 * splices an array, so a queue of a million jobs costs what a queue of ten does, per job.
 *
 * The keys live beside the entries in typed arrays, so sifting compares numbers in contiguous
 * memory instead of reaching into every entry it passes (which, measured on 200,000 waiting jobs,
 * made the heap a seventh of the scheduler's time).
 *
 * `remove` is O(1): the entry's place is taken by a tombstone that `pop` skips, and the heap is
 * rebuilt without its tombstones (O(n)) once they outnumber the live entries, so memory stays
 * within twice the live count. Cancelling 100,000 waiting jobs costs no sifting at all.
 *
 * Beside the heap, a run: entries pushed in queue order (each going after the one pushed before
 * it, the common case of equal priorities in submission order) wait in an array, in and out in
 * O(1) with no sifting; sifting a heap of 1,000 was a quarter of an in-process pool's time per
 * job. An entry that would go before the run's last goes to the heap, and the next entry is the
 * better of the run's first and the heap's top. An entry in the run has `heapIndex` -2 - its place.
 */

/** Where an entry sits in its heap: -1 when it is in none. Kept on the entry so removal is O(log n). */
export const heapIndex: unique symbol = Symbol('lazypool.heapIndex');

/**
 * Ties on priority go to the smaller rank: a job's id (its submission order), unless the pool
 * orders by critical path, which lowers the rank of a job with a chain of waiting dependants.
 */
export const rankKey: unique symbol = Symbol('lazypool.rank');

/** What the queue needs from an entry. */
export interface QueueEntry {
  readonly priority: number;
  [rankKey]: number;
  [heapIndex]: number;
}

/** Stands where a removed entry stood until the heap sifts it out or is rebuilt. */
const tombstone: QueueEntry = { priority: 0, [rankKey]: 0, [heapIndex]: -1 };

export class JobQueue<T extends QueueEntry> {
  #entries: T[] = [];
  #priorities = new Float64Array(64);
  #ids = new Float64Array(64);
  /** Places used in the heap, tombstones included. */
  #size = 0;
  #tombstones = 0;
  /** The run: its entries are #run[#runHead] to #run[#runEnd - 1], tombstones included. */
  #run: T[] = [];
  #runHead = 0;
  #runEnd = 0;
  #runTombstones = 0;
  /** The keys of the entry last put in the run: an entry goes in after it only if it goes after it. */
  #runLastPriority = 0;
  #runLastRank = 0;

  /** Entries waiting (tombstones not counted). */
  get size(): number {
    return this.#size - this.#tombstones + this.#runEnd - this.#runHead - this.#runTombstones;
  }

  /** True if `entry` is in this queue. */
  has(entry: T): boolean {
    const index = entry[heapIndex];
    if (index >= 0) return index < this.#size && this.#entries[index] === entry;
    const place = -2 - index;
    return place >= this.#runHead && place < this.#runEnd && this.#run[place] === entry;
  }

  push(entry: T): void {
    const priority = entry.priority;
    const rank = entry[rankKey];
    if (this.#runEnd === this.#runHead || priority < this.#runLastPriority || (priority === this.#runLastPriority && rank > this.#runLastRank)) {
      this.#append(entry, priority, rank);
      return;
    }
    if (this.#size === this.#priorities.length) this.#grow();
    const index = this.#size++;
    this.#siftUp(index, entry, priority, rank);
  }

  /** The next entry to run, without taking it out. */
  peek(): T | undefined {
    return this.#runFirstIfNext() ?? (this.#size > 0 ? this.#entries[0] : undefined);
  }

  /** Takes out and returns the next entry to run. */
  pop(): T | undefined {
    const first = this.#runFirstIfNext();
    if (first !== undefined) {
      this.#run[this.#runHead++] = undefined as unknown as T;
      if (this.#runHead === this.#runEnd) this.#runHead = this.#runEnd = 0;
      first[heapIndex] = -1;
      return first;
    }
    if (this.#size === 0) return undefined;
    const top = this.#entries[0];
    this.#removeAt(0);
    top[heapIndex] = -1;
    return top;
  }

  /** Takes `entry` out wherever it is (O(1)); returns false if it was not in this queue. */
  remove(entry: T): boolean {
    if (!this.has(entry)) return false;
    const index = entry[heapIndex];
    entry[heapIndex] = -1;
    if (index < 0) {
      this.#run[-2 - index] = tombstone as T;
      this.#runTombstones++;
      if (this.#runTombstones > 64 && 2 * this.#runTombstones > this.#runEnd - this.#runHead) this.#compactRun();
      return true;
    }
    this.#entries[index] = tombstone as T;
    this.#tombstones++;
    if (this.#tombstones > 64 && this.#tombstones > this.#size - this.#tombstones) this.#rebuild();
    return true;
  }

  /** Re-orders `entry` after its priority (or rank) changed. */
  update(entry: T): void {
    if (!this.has(entry)) return;
    const index = entry[heapIndex];
    if (index < 0) {
      // Out of the run, and in again wherever its new keys take it.
      this.remove(entry);
      this.push(entry);
      return;
    }
    this.#place(index, entry, entry.priority, entry[rankKey]);
  }

  /** Empties the queue and returns what it held, in no particular order. */
  drain(): T[] {
    const entries = this.#entries.slice(0, this.#size).filter((entry) => entry !== tombstone);
    for (let place = this.#runHead; place < this.#runEnd; place++) {
      const entry = this.#run[place]!;
      if (entry !== tombstone) entries.push(entry);
    }
    for (const entry of entries) entry[heapIndex] = -1;
    this.#entries = [];
    this.#size = 0;
    this.#tombstones = 0;
    this.#run = [];
    this.#runHead = this.#runEnd = this.#runTombstones = 0;
    return entries;
  }

  /**
   * The run's first entry if it is the next to run (the heap is empty, or it goes before the
   * heap's top), else undefined; tombstones at the front of either are dropped first, so that
   * after it the heap's top, if any, is a live entry.
   */
  #runFirstIfNext(): T | undefined {
    this.#dropTombstonesAtTop();
    this.#dropRunTombstones();
    if (this.#runHead === this.#runEnd) return undefined;
    const first = this.#run[this.#runHead]!;
    if (this.#size === 0) return first;
    const priority = first.priority;
    const topPriority = this.#priorities[0]!;
    return priority > topPriority || (priority === topPriority && first[rankKey] < this.#ids[0]!) ? first : undefined;
  }

  #append(entry: T, priority: number, rank: number): void {
    // A run whose head has moved far along is moved back to the front first, so that a queue
    // that never empties (one job in, one out) does not grow its array for ever.
    if (this.#runHead >= 1024 && 2 * this.#runHead >= this.#runEnd) this.#compactRun();
    const place = this.#runEnd++;
    this.#run[place] = entry;
    entry[heapIndex] = -2 - place;
    this.#runLastPriority = priority;
    this.#runLastRank = rank;
  }

  #dropRunTombstones(): void {
    while (this.#runHead < this.#runEnd && this.#run[this.#runHead] === tombstone) {
      this.#run[this.#runHead++] = undefined as unknown as T;
      this.#runTombstones--;
    }
    if (this.#runHead === this.#runEnd) this.#runHead = this.#runEnd = 0;
  }

  /** Moves the run's live entries to the front of its array, tombstones dropped: O(run). */
  #compactRun(): void {
    const run = this.#run;
    let end = 0;
    for (let place = this.#runHead; place < this.#runEnd; place++) {
      const entry = run[place]!;
      run[place] = undefined as unknown as T;
      if (entry === tombstone) continue;
      run[end] = entry;
      entry[heapIndex] = -2 - end;
      end++;
    }
    this.#runHead = 0;
    this.#runEnd = end;
    this.#runTombstones = 0;
  }

  #dropTombstonesAtTop(): void {
    while (this.#size > 0 && this.#entries[0] === tombstone) {
      this.#removeAt(0);
      this.#tombstones--;
    }
  }

  /** Drops every tombstone and restores the heap order bottom-up (Floyd): O(n). */
  #rebuild(): void {
    const entries = this.#entries;
    const priorities = this.#priorities;
    const ids = this.#ids;
    let size = 0;
    for (let index = 0; index < this.#size; index++) {
      const entry = entries[index];
      if (entry === tombstone) continue;
      entries[size] = entry;
      priorities[size] = priorities[index];
      ids[size] = ids[index];
      entry[heapIndex] = size;
      size++;
    }
    entries.length = size;
    this.#size = size;
    this.#tombstones = 0;
    for (let index = (size >> 1) - 1; index >= 0; index--) this.#siftDown(index, entries[index], priorities[index], ids[index]);
  }

  #grow(): void {
    const priorities = new Float64Array(this.#priorities.length * 2);
    priorities.set(this.#priorities);
    this.#priorities = priorities;
    const ids = new Float64Array(this.#ids.length * 2);
    ids.set(this.#ids);
    this.#ids = ids;
  }

  /**
   * Fills the hole at `index` with the last entry and restores the order. The array keeps its
   * length (the place is emptied, not cut off): setting `length` shrank and regrew its storage as
   * a queue emptied and filled again, about a tenth of an in-process pool's time per job.
   */
  #removeAt(index: number): void {
    const last = --this.#size;
    const entries = this.#entries;
    const moved = entries[last]!;
    entries[last] = undefined as unknown as T;
    if (index !== last) this.#place(index, moved, this.#priorities[last]!, this.#ids[last]!);
  }

  /** Puts `entry` (with its keys) at `index`, or wherever up or down from there it belongs. */
  #place(index: number, entry: T, priority: number, id: number): void {
    if (index > 0) {
      const parent = (index - 1) >> 1;
      const parentPriority = this.#priorities[parent];
      if (priority > parentPriority || (priority === parentPriority && id < this.#ids[parent])) {
        this.#siftUp(index, entry, priority, id);
        return;
      }
    }
    this.#siftDown(index, entry, priority, id);
  }

  #siftUp(index: number, entry: T, priority: number, id: number): void {
    const entries = this.#entries;
    const priorities = this.#priorities;
    const ids = this.#ids;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentPriority = priorities[parent];
      if (priority < parentPriority || (priority === parentPriority && id > ids[parent])) break;
      const parentEntry = entries[parent];
      entries[index] = parentEntry;
      priorities[index] = parentPriority;
      ids[index] = ids[parent];
      parentEntry[heapIndex] = index;
      index = parent;
    }
    entries[index] = entry;
    priorities[index] = priority;
    ids[index] = id;
    entry[heapIndex] = index;
  }

  #siftDown(index: number, entry: T, priority: number, id: number): void {
    const entries = this.#entries;
    const priorities = this.#priorities;
    const ids = this.#ids;
    const size = this.#size;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= size) break;
      let childPriority = priorities[child];
      let childId = ids[child];
      const right = child + 1;
      if (right < size) {
        const rightPriority = priorities[right];
        if (rightPriority > childPriority || (rightPriority === childPriority && ids[right] < childId)) {
          child = right;
          childPriority = rightPriority;
          childId = ids[right];
        }
      }
      if (priority > childPriority || (priority === childPriority && id < childId)) break;
      const childEntry = entries[child];
      entries[index] = childEntry;
      priorities[index] = childPriority;
      ids[index] = childId;
      childEntry[heapIndex] = index;
      index = child;
    }
    entries[index] = entry;
    priorities[index] = priority;
    ids[index] = id;
    entry[heapIndex] = index;
  }
}
