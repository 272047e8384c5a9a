// The result store's encoding (src/thread/store.ts): whatever it keeps comes back exactly as
// structured clone would give it, by the fast paths (strings, numbers, constants) and by v8.
import test from 'ava';
import fc from 'fast-check';
import { slotsPerBlock, storedResultBytes } from '../src/thread/layout.js';
import { readStored, writeStored } from '../src/thread/store.js';
import { ciSeed } from './helpers.js';

const store = () => new Uint8Array(new SharedArrayBuffer(slotsPerBlock * storedResultBytes));

test('strings (lone surrogates included), numbers (-0, NaN) and constants come back exactly', (t) => {
  const kept = store();
  const values = ['', 'a', 'é∑😀', '\u{d800}', 'x'.repeat(127), 0, -0, NaN, Infinity, -1.5, 2 ** 53 + 2, undefined, null, true, false];
  for (const [index, value] of values.entries()) {
    const slot = index * 3 + 1;
    const length = writeStored(kept, slot, value);
    t.not(length, undefined, String(value));
    t.true(Object.is(readStored(kept, slot, length!), value), `${typeof value} ${String(value)}`);
  }
  t.is(writeStored(kept, 0, 'x'.repeat(128)), undefined, 'a string longer than the slot is not kept');
});

test('fast-check: whatever writeStored keeps, readStored gives back as structuredClone would', (t) => {
  const kept = store();
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.double(), fc.integer(), fc.constantFrom(undefined, null, true, false), fc.jsonValue({ maxDepth: 2 })), fc.nat(slotsPerBlock - 1), (value, slot) => {
      const length = writeStored(kept, slot, value);
      if (length === undefined) return;
      t.deepEqual(readStored(kept, slot, length), structuredClone(value));
      if (typeof value === 'number') t.true(Object.is(readStored(kept, slot, length), value));
    }),
    { numRuns: 500, ...ciSeed },
  );
});
