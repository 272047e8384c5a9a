/**
 * BullMQ and ioredis are optional peer dependencies: loaded only by `lazypool/bullmq`, on first
 * use, with an error that says what to install when they are missing.
 */
import type * as BullmqModule from 'bullmq';
import type { Redis as RedisType, RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';

let bullmq: Promise<typeof BullmqModule> | undefined;

export function loadBullmq(): Promise<typeof BullmqModule> {
  bullmq ??= import('bullmq').catch((error: unknown) => {
    bullmq = undefined;
    throw missing('bullmq', error);
  });
  return bullmq;
}

function missing(name: string, error: unknown): Error {
  return new Error(`lazypool/bullmq needs the package '${name}': npm install bullmq ioredis`, { cause: error });
}

/**
 * A client of lazypool's own next to BullMQ's (worker registry, cancel channel), on the same
 * server: a duplicate of a client given as `connection`, else one made from the same options.
 */
export async function sideClient(connection: ConnectionOptions): Promise<RedisType> {
  if (typeof (connection as { duplicate?: unknown }).duplicate === 'function') {
    return (connection as unknown as RedisType).duplicate();
  }
  let Redis: typeof import('ioredis').Redis;
  try {
    ({ Redis } = await import('ioredis'));
  } catch (error) {
    throw missing('ioredis', error);
  }
  const { url, ...rest } = connection as RedisOptions & { url?: string };
  const options: RedisOptions = { ...rest, maxRetriesPerRequest: null };
  return url === undefined ? new Redis(options) : new Redis(url, options);
}
