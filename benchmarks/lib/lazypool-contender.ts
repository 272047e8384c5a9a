// Stand-in until the core lands in src/: opening it fails, and each benchmark skips the
// contender with a note. Replaced by the real adapter over `Pool` from src/index.ts.
import type { Contender } from './contenders.js';

export interface LazypoolSettings {
  readonly name?: string;
  readonly concurrency?: (threads: number) => number;
  readonly urgent?: 'promote' | 'priority';
}

export function lazypool(settings: LazypoolSettings = {}): Contender {
  return {
    name: settings.name ?? 'lazypool',
    urgentWay: settings.urgent === 'priority' ? 'submit with priority 1' : 'submit, then handle.promote()',
    cancelWay: 'handle.cancel() on each handle',
    open: () => Promise.reject(new Error('lazypool is not built yet (src/index.ts missing)')),
  };
}
