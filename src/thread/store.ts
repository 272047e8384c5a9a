/**
 * The encoding of results kept in a block's result store (see layout.ts), written by the thread
 * and read by the main thread. Strings and numbers, most brief jobs' results, are written as they
 * are (a tag byte, then UTF-16 code units or a float64); anything else that `isStorable` accepts
 * goes through `v8.serialize`, whose output starts with its version byte 0xFF, so the tags never
 * clash with it.
 */
import { slotsPerBlock, storedResultBytes } from './layout.js';
import { isStorable } from './replies.js';

let v8Module: typeof import('node:v8') | undefined;
/** node:v8, loaded when a result is first stored or read: a thread that never batches, and the
 *  time to a pool's first result, do without it (about 0.7 ms of a fresh thread's start). */
function v8(): typeof import('node:v8') {
  return (v8Module ??= process.getBuiltinModule('node:v8'));
}

const Tag = { string: 1, number: 2, constant: 3 } as const;
const constants = [undefined, null, false, true] as const;

/** Writes `value` into the slot's place in `store`; returns its byte length, or `undefined` if it cannot be kept. */
export function writeStored(store: Uint8Array, slot: number, value: unknown): number | undefined {
  const offset = (slot % slotsPerBlock) * storedResultBytes;
  if (typeof value === 'string') {
    const length = 1 + 2 * value.length;
    if (length > storedResultBytes) return undefined;
    store[offset] = Tag.string;
    for (let index = 0; index < value.length; index++) {
      const unit = value.charCodeAt(index);
      store[offset + 1 + 2 * index] = unit & 0xff;
      store[offset + 2 + 2 * index] = unit >>> 8;
    }
    return length;
  }
  if (typeof value === 'number') {
    store[offset] = Tag.number;
    new DataView(store.buffer, store.byteOffset + offset + 1, 8).setFloat64(0, value, true);
    return 9;
  }
  const constant = constants.indexOf(value as never);
  if (constant !== -1) {
    store[offset] = Tag.constant;
    store[offset + 1] = constant;
    return 2;
  }
  let bytes: Buffer | undefined;
  try {
    bytes = isStorable(value) ? v8().serialize(value) : undefined;
  } catch {
    // Whatever v8 cannot serialise travels as the reply, where Piscina's clone gives its error.
  }
  if (bytes === undefined || bytes.length > storedResultBytes) return undefined;
  store.set(bytes, offset);
  return bytes.length;
}

/** Reads back what `writeStored` wrote for the slot (`length` bytes). */
export function readStored(store: Uint8Array, slot: number, length: number): unknown {
  const offset = (slot % slotsPerBlock) * storedResultBytes;
  switch (store[offset]) {
    case Tag.string: {
      let text = '';
      for (let at = offset + 1; at < offset + length; at += 2) text += String.fromCharCode(store[at]! | (store[at + 1]! << 8));
      return text;
    }
    case Tag.number:
      return new DataView(store.buffer, store.byteOffset + offset + 1, 8).getFloat64(0, true);
    case Tag.constant:
      return constants[store[offset + 1]!];
    default:
      return v8().deserialize(store.subarray(offset, offset + length));
  }
}
