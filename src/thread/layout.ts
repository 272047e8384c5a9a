/**
 * The shared memory between the main thread and the pool's threads, written down once for both
 * sides. The main thread allocates blocks of `slotsPerBlock` job slots; a job sent to a thread
 * gets a slot for as long as its Piscina task is out (and, if it began, until it stopped).
 *
 * Each block is one SharedArrayBuffer:
 *   Int32 words  [0, controlWords)                  the block's control words (see `Control`)
 *   Int32 words  then `slotWords` per slot           a job's words (see `Word`)
 *   Float64      one per slot, after the words       when the job began (ms, main thread's clock)
 * and a result store of `storedResultBytes` per slot beside it (a second buffer).
 *
 * Who writes what, in which order:
 * - `claim` decides, once, whether a job begins: the main thread writes `waiting` before the job
 *   is posted; the thread compare-exchanges it `waiting` -> `begun` just before calling the
 *   handler; the main thread compare-exchanges it `waiting` -> `takenBack` to take the job back.
 *   Exactly one of the two exchanges succeeds. A taken-back job's slot is released only when its
 *   task has come back, so the thread can never mistake the slot's next job for it.
 * - Before its exchange, the thread writes `thread` (its id) and the start time; after it, it
 *   adds one to `Control.begun` and notifies it. The main thread waits on that word
 *   (Atomics.waitAsync) while it has jobs out that have not begun, and reads the time only after
 *   seeing `begun` in `claim` (the exchange orders the writes before it).
 * - `cancelled`: written by the main thread (1, then notify) to stop a job that began; read by the
 *   job (`cancelled()`, `signal()`).
 * - `reported`, `micros`: written by the thread while and after the job runs; read by the main
 *   thread once the job's result is in (the reply, or `outcome` below).
 * - In a batch, each job but the last the thread runs stores its result (`length` bytes in the
 *   result store) and then sets `outcome`; the main thread reads the result only after seeing
 *   `outcome` = `stored`. A thread begins the next job of a batch only after the outcome of the
 *   one before is written, so a job seen `begun` means every earlier job of its batch has one.
 * - `loading`: 1 while the thread loads the worker module for the job with require(): written by
 *   the thread before its claim of a job whose module it has yet to load (so that a job seen
 *   `begun` is seen loading too), then 0 and notify once loaded, or at once if the claim fails or
 *   the module is imported instead. Read by the main thread before it ends the thread (see
 *   `#forceStop` in executor.ts, and the wait at the process's exit).
 */

/** Control words at the start of each block. */
export const Control = {
  /** Counts jobs begun in this block; notified at each, for the main thread's waitAsync. */
  begun: 0,
  /**
   * 1 once the process is exiting: a thread that has yet to load the worker module for a job of
   * the block does not begin the load (written by the main thread before it reads the `loading`
   * words, read by the thread after it wrote its own: one of the two sees the other's).
   */
  exiting: 1,
} as const;
export const controlWords = 2;

/** Offsets of a job's words from `slotWord(slot)`. */
export const Word = { claim: 0, cancelled: 1, reported: 2, thread: 3, micros: 4, outcome: 5, length: 6, loading: 7 } as const;
export const slotWords = 8;

/** Values of `Word.claim`. */
export const Claim = { waiting: 0, begun: 1, takenBack: 2 } as const;

/** What became of a job sent in a batch. */
export const Outcome = {
  /** Not finished, or not reached. */
  none: 0,
  /** Its result is serialised in the result store. */
  stored: 1,
  /** Its result (or error) is the reply to the batch's Piscina task. */
  reply: 2,
  /** As `reply`, and the result could not be stored: its export is not worth batching. */
  replyUnstorable: 3,
} as const;

/** Jobs per block. */
export const slotsPerBlock = 1024;

/** Bytes of result store per slot: a batched result larger than this ends its batch. */
export const storedResultBytes = 256;

const wordsBytes = (controlWords + slotsPerBlock * slotWords) * Int32Array.BYTES_PER_ELEMENT;
const timesOffset = Math.ceil(wordsBytes / Float64Array.BYTES_PER_ELEMENT) * Float64Array.BYTES_PER_ELEMENT;
const blockBytes = timesOffset + slotsPerBlock * Float64Array.BYTES_PER_ELEMENT;

/** A new block's words (its start times share the buffer; see `timesOf`). */
export function newBlock(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(blockBytes), 0, wordsBytes / Int32Array.BYTES_PER_ELEMENT);
}

/** The start times of a block's slots. */
export function timesOf(block: Int32Array): Float64Array {
  return new Float64Array(block.buffer, timesOffset, slotsPerBlock);
}

/** Index of a slot's first word in its block. */
export function slotWord(slot: number): number {
  return controlWords + (slot % slotsPerBlock) * slotWords;
}

/** The message a thread posts (its id under this key) once its entry module has loaded. */
export const readyKey = 'lazypool:ready';
