// The job functions every contender runs, so that a difference between pools is the pool's.
// Plain JavaScript: Piscina, tinypool and lazypool load this module as it is (named exports,
// chosen per job with `name`); workerpool and poolifier load it through their own wrappers
// (workerpool.mjs, poolifier.mjs) that register these very functions.
import { createHash } from 'node:crypto';

/** The smallest job there is: what it costs is the pool's dispatch round trip. */
export function tiny(value) {
  return value;
}

/** Several tiny jobs in one message: what batching would gain over one message per job. */
export function tinyBatch(values) {
  return values.map(tiny);
}

/**
 * A CPU-bound job: sha256 of `bytes` bytes. The buffer is built here, in the worker, so the
 * measure is hashing and dispatch, not copying a mebibyte through postMessage; a Uint8Array
 * input is hashed as it is (sent or transferred by the caller).
 */
export function sha256(input) {
  const buffer = input instanceof Uint8Array ? input : Buffer.alloc(input.bytes, input.seed & 0xff);
  return createHash('sha256').update(buffer).digest('hex');
}

/**
 * Keeps the thread busy for `ms` milliseconds: a job of known length. The input is an object so
 * that a peer's priority queue can read its priority from it (Piscina's queueOptionsSymbol).
 */
export function busy({ ms }) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: a sleep would free the thread, which is not what a CPU-bound backlog does
  }
  return ms;
}

/**
 * Holds its thread until the main thread opens the gate, so that every later job is known
 * to be waiting (never running) while a benchmark measures the waiting jobs.
 * `gate` is an Int32Array on a SharedArrayBuffer: [0] is the gate (0 closed, 1 open),
 * [1] counts the threads held, so the main thread can wait until every thread is taken.
 */
export function gate({ gate }) {
  Atomics.add(gate, 1, 1);
  Atomics.notify(gate, 1);
  Atomics.wait(gate, 0, 0);
  return true;
}

/**
 * A tiny job that books itself in a shared ledger when it runs: [0] jobs that reached a worker,
 * [1] microseconds of worker time they used. A cancelled job should never appear there.
 */
export function counted({ ledger }) {
  const started = performance.now();
  Atomics.add(ledger, 0, 1);
  Atomics.add(ledger, 1, Math.round((performance.now() - started) * 1000));
  return true;
}

let jimp;

/**
 * An image job: decode a PNG, scale it to a `width`-pixel-wide thumbnail, encode it as PNG.
 * jimp is loaded on the first thumbnail only, so the other jobs do not pay for it.
 */
export async function thumbnail({ png, width }) {
  jimp ??= await import('jimp');
  const image = await jimp.Jimp.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  image.resize({ w: width });
  const encoded = await image.getBuffer('image/png');
  return encoded.byteLength;
}
