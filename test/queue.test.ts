import test from 'ava';
import fc from 'fast-check';
import { heapIndex, JobQueue, rankKey, type QueueEntry } from '../src/queue.js';
import { ciSeed } from './helpers.js';

class Entry implements QueueEntry {
  [heapIndex] = -1;
  [rankKey]: number;
  constructor(
    readonly id: number,
    public priority: number,
  ) {
    this[rankKey] = id;
  }
}

/** The reference order: higher priority first, then smaller id. */
function expectedOrder(entries: Entry[]): number[] {
  return [...entries].sort((a, b) => b.priority - a.priority || a.id - b.id).map((e) => e.id);
}

/** Pops every entry left, in the order the queue gives them; their ids. */
function popAll(queue: JobQueue<Entry>): number[] {
  const ids: number[] = [];
  for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) ids.push(entry.id);
  return ids;
}

test('the queue pops by priority, then submission order, through any mix of push, remove and update', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: -3, max: 3 }), fc.nat(5), fc.integer({ min: -3, max: 3 })), { maxLength: 200 }),
      (operations) => {
        const queue = new JobQueue<Entry>();
        const inside: Entry[] = [];
        let nextId = 0;
        for (const [priority, action, newPriority] of operations) {
          if (action <= 2 || inside.length === 0) {
            const entry = new Entry(nextId++, priority);
            queue.push(entry);
            inside.push(entry);
          } else if (action === 3) {
            const [entry] = inside.splice(Math.abs(priority) % inside.length, 1);
            if (!queue.remove(entry)) return false;
            if (queue.remove(entry)) return false;
          } else if (action === 4) {
            const entry = inside[Math.abs(newPriority) % inside.length];
            entry.priority = newPriority;
            queue.update(entry);
          } else {
            const expected = expectedOrder(inside)[0];
            const popped = queue.pop()!;
            if (popped.id !== expected) return false;
            inside.splice(inside.indexOf(popped), 1);
          }
          if (queue.size !== inside.length) return false;
        }
        const drained = popAll(queue);
        t.deepEqual(drained, expectedOrder(inside));
        return true;
      },
    ),
    { numRuns: 300, ...ciSeed },
  );
});

test('drain empties the queue and clears every position', (t) => {
  const queue = new JobQueue<Entry>();
  const entries = [3, 1, 2].map((p, i) => new Entry(i, p));
  for (const entry of entries) queue.push(entry);
  t.is(queue.drain().length, 3);
  t.is(queue.size, 0);
  t.true(entries.every((entry) => !queue.has(entry)));
  t.is(queue.peek(), undefined);
  t.is(queue.pop(), undefined);
});

test('removing most entries (past the rebuild threshold) keeps the order of the rest', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 200, maxLength: 2000 }),
      fc.double({ min: 0.5, max: 0.99, noNaN: true }),
      fc.integer(),
      (priorities, share, seed) => {
        const queue = new JobQueue<Entry>();
        const entries = priorities.map((priority, id) => new Entry(id, priority));
        for (const entry of entries) queue.push(entry);
        let state = seed;
        const random = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
        const kept: Entry[] = [];
        for (const entry of entries) {
          if (random() < share) {
            if (!queue.remove(entry) || queue.has(entry)) return false;
          } else kept.push(entry);
        }
        if (queue.size !== kept.length) return false;
        // Changing priorities after the rebuild still re-orders correctly.
        for (const entry of kept.slice(0, 10)) {
          entry.priority = -entry.priority;
          queue.update(entry);
        }
        const drained = popAll(queue);
        t.deepEqual(drained, expectedOrder(kept));
        return queue.size === 0;
      },
    ),
    { numRuns: 100, ...ciSeed },
  );
});

test('entries pushed in queue order (the run beside the heap) and out of it, mixed with pops, removals and updates, come out in the model order', (t) => {
  // Mostly equal priorities in submission order, so that most entries go to the run and some to
  // the heap (a higher priority, or an update), and pops take from both.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat(9), fc.integer({ min: -2, max: 2 })), { maxLength: 400 }),
      (operations) => {
        const queue = new JobQueue<Entry>();
        const inside: Entry[] = [];
        let nextId = 0;
        for (const [roll, action, value] of operations) {
          if (action <= 4 || inside.length === 0) {
            // 8 in 10 at priority 0; the rest above or below.
            const entry = new Entry(nextId++, roll < 8 ? 0 : value);
            queue.push(entry);
            inside.push(entry);
          } else if (action === 5) {
            const [entry] = inside.splice(roll % inside.length, 1);
            if (!queue.remove(entry!) || queue.has(entry!)) return false;
          } else if (action === 6) {
            const entry = inside[roll % inside.length]!;
            entry.priority = value;
            queue.update(entry);
          } else {
            const expected = expectedOrder(inside)[0];
            if (queue.peek()?.id !== expected) return false;
            const popped = queue.pop()!;
            if (popped.id !== expected || queue.has(popped)) return false;
            inside.splice(inside.indexOf(popped), 1);
          }
          if (queue.size !== inside.length || !inside.every((entry) => queue.has(entry))) return false;
        }
        const drained = popAll(queue);
        t.deepEqual(drained, expectedOrder(inside));
        return queue.size === 0;
      },
    ),
    { numRuns: 300, ...ciSeed },
  );
});

test('a queue that never empties (one entry in, one out, with a thousand waiting) keeps its order over many cycles, and removals past the threshold with it', (t) => {
  const queue = new JobQueue<Entry>();
  const inside: Entry[] = [];
  let nextId = 0;
  for (let index = 0; index < 1_000; index++) {
    const entry = new Entry(nextId++, 0);
    queue.push(entry);
    inside.push(entry);
  }
  const popped: number[] = [];
  for (let cycle = 0; cycle < 20_000; cycle++) {
    const entry = new Entry(nextId++, 0);
    queue.push(entry);
    inside.push(entry);
    // Every 7th cycle a removal from the middle, and one more in for it, so that run tombstones
    // pile up and are compacted while the count stays.
    if (cycle % 7 === 0) {
      const [removed] = inside.splice(inside.length >> 1, 1);
      t.true(queue.remove(removed!));
      const extra = new Entry(nextId++, 0);
      queue.push(extra);
      inside.push(extra);
    }
    popped.push(queue.pop()!.id);
    inside.shift();
  }
  t.is(queue.size, inside.length);
  // Popped in increasing ids: each was the oldest waiting.
  t.true(popped.every((id, index) => index === 0 || id > popped[index - 1]!));
  const drained = popAll(queue);
  t.deepEqual(drained, inside.map((entry) => entry.id));
});
