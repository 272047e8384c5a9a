// Contenders by a stable key, so that a measure run in a child process (which cannot be handed
// a function) can name the contender it should open. Benchmarks pick their lists from here.
import { type Contender, piscina, poolifier, pQueuePiscina, tinypool, workerpoolPeer } from './contenders.js';
import { lazypool } from './lazypool-contender.js';

export const catalog = {
  lazypool: () => lazypool(),
  piscina: () => piscina(),
  'piscina-priority': () => piscina({ priorityQueue: true }),
  'p-queue': () => pQueuePiscina(),
  tinypool: () => tinypool(),
  'tinypool-priority': () => tinypool({ priorityQueue: true }),
  workerpool: () => workerpoolPeer(),
  'workerpool-priority': () => workerpoolPeer({ priorityQueue: true }),
  poolifier: () => poolifier(),
  /** Round-robin worker choice, for benchmarks that hold every thread with gates (see contenders.ts). */
  'poolifier-round-robin': () => poolifier({ workerChoiceStrategy: 'ROUND_ROBIN' }),
  'poolifier-tasks-queue': () => poolifier({ tasksQueue: true }),
} satisfies Record<string, () => Contender>;

export type ContenderKey = keyof typeof catalog;

export function contender(key: ContenderKey): Contender {
  return catalog[key]();
}
