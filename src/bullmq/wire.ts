/**
 * What travels through Redis between the submitting process and `lazypool worker`, and how each
 * side reads it: pure functions, no state, no BullMQ.
 *
 * Values (inputs, progress, results) travel as `v8.serialize` in base64, so a job sees on another
 * machine what structured clone would have given it on a thread: Maps, Dates, typed arrays,
 * BigInts. Errors travel taken apart (thread/replies.ts), so name, message, stack, `cause` and
 * own properties arrive. A value structured clone refuses (a function, a symbol) is refused here
 * too, with an error naming it.
 *
 * A lazypool job in BullMQ: its name is the export to run (`default` for the default export), its
 * data `{ lazypool: 1, input }`, its id `<mark>.<n>` (the mark names the submitting process, whose
 * ask channel decides whether it may begin). Progress reports are `{ p: value }`; the return value
 * is `{ v: value }`, `{ e: error }` or `{ c: 1 }` (dropped before it began: refused, or cancelled). A job always completes at the BullMQ level: a failure there means the job
 * could not be run at all (malformed data, its worker gone), never an error of the user's code.
 */
import { deserialize, serialize } from 'node:v8';
import { revive, transportable, type TransportedError } from '../thread/replies.js';

export const wireVersion = 1;
/** Job data larger than this (base64 characters of the input) is refused on both sides. */
export const defaultMaxInputBytes = 16 * 1024 * 1024;
/** The longest export name a job may carry. */
export const maxNameLength = 256;

export interface JobData {
  lazypool: typeof wireVersion;
  input: string;
}

export type Reply = { v: string } | { e: string } | { c: 1 };
export type Report = { p: string };

/** A value as base64 of its v8 serialisation; throws a TypeError naming `what` if it cannot travel. */
export function encode(value: unknown, what: string): string {
  try {
    return serialize(value).toString('base64');
  } catch (error) {
    throw new TypeError(`${what} cannot travel through Redis: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

export function decode(text: string): unknown {
  return deserialize(Buffer.from(text, 'base64'));
}

/** Anything thrown, as it travels; never throws. */
export function encodeError(thrown: unknown): string {
  return serialize(transportable(thrown)).toString('base64');
}

export function decodeError(text: string): unknown {
  return revive(deserialize(Buffer.from(text, 'base64')) as TransportedError);
}

/** The BullMQ job name for an export (`undefined`: the default export). */
export function jobName(name: string | undefined): string {
  return name ?? 'default';
}

/**
 * What a worker reads from a BullMQ job, checked: the export to run and the input. Throws an
 * error saying what is wrong with anything else.
 */
export function readJob(name: unknown, data: unknown, maxInputBytes: number): { name: string | undefined; input: unknown } {
  if (typeof name !== 'string' || name.length === 0 || name.length > maxNameLength) {
    throw new TypeError(`job name must be an export name of 1 to ${maxNameLength} characters`);
  }
  if (typeof data !== 'object' || data === null || (data as JobData).lazypool !== wireVersion || typeof (data as JobData).input !== 'string') {
    throw new TypeError(`job data is not a lazypool job (expected { lazypool: ${wireVersion}, input: <base64> })`);
  }
  const text = (data as JobData).input;
  if (text.length > maxInputBytes) throw new RangeError(`job input is ${text.length} bytes, more than the worker's limit of ${maxInputBytes}`);
  let input: unknown;
  try {
    input = decode(text);
  } catch (error) {
    throw new TypeError(`job input could not be read: ${(error as Error)?.message ?? String(error)}`);
  }
  return { name: name === 'default' ? undefined : name, input };
}

/** Redis keys of lazypool's own, next to BullMQ's for the queue. */
export function keys(prefix: string, queue: string): { workers: string; cancel: string; ask: (mark: string) => string; answer: (worker: string) => string } {
  const base = `${prefix}:${queue}:lazypool`;
  return {
    /** Sorted set: member `<capacity>:<worker id>`, score the ms (Redis clock) it expires at. */
    workers: `${base}:workers`,
    /** Pub/sub channel: ids of jobs to cancel. */
    cancel: `${base}:cancel`,
    /** Pub/sub channel of a submitting process: `<answer channel> <job id>`, may the job begin? */
    ask: (mark) => `${base}:ask:${mark}`,
    /** Pub/sub channel of a worker: `<job id> 1` (begin it) or `<job id> 0` (drop it). */
    answer: (worker) => `${base}:answer:${worker}`,
  };
}

/** A lazypool job id: `<mark of the submitting process>.<n>`; undefined for any other. */
export function markOf(jobId: unknown): string | undefined {
  if (typeof jobId !== 'string') return undefined;
  const match = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[1-9][0-9]{0,15}$/.exec(jobId);
  return match?.[1];
}

/** A Redis URL with its password (and user) masked: fit for logs and errors. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    if (parsed.username !== '' && parsed.password === '') parsed.username = '***';
    return parsed.toString();
  } catch {
    return '<a Redis URL that could not be parsed>';
  }
}
