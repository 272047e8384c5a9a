// Measures that need a clean process: heap and RSS per waiting job (a fresh heap, `global.gc`),
// peak RSS of a streaming run (maxRSS never goes down in a process that already peaked).
// The child imports a benchmark module, calls one of its exports and sends back the result.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repositoryRoot } from './machine.js';

const childMain = fileURLToPath(new URL('./child-main.ts', import.meta.url));

/** What the parent asks of the child: call `exportName` of `moduleUrl` with `argument`. */
export interface ChildRequest {
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly argument: unknown;
}

export type ChildReply = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };

/**
 * Runs `moduleUrl`'s export `exportName(argument)` in a fresh Node process (with tsx, `--expose-gc`
 * and room for a million waiting jobs) and resolves with what it returned.
 */
export function runInChild<T>(moduleUrl: string, exportName: string, argument: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(childMain, [], {
      cwd: fileURLToPath(repositoryRoot),
      execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=8192'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reply: ChildReply | undefined;
    child.on('message', (message) => {
      reply = message as ChildReply;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (reply?.ok) resolve(reply.result as T);
      else if (reply) reject(new Error(`${exportName} failed in its child process: ${reply.error}`));
      else reject(new Error(`${exportName}: child process exited (code ${code}, signal ${signal}) without a result`));
    });
    const request: ChildRequest = { moduleUrl, exportName, argument };
    child.send(request);
  });
}

/** Collects garbage until the heap stops shrinking, so a heap reading holds only live objects. */
export function settleHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('settleHeap needs --expose-gc (run it through runInChild)');
  let previous = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 10; pass++) {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= previous - 1024) return used;
    previous = used;
  }
  return process.memoryUsage().heapUsed;
}
