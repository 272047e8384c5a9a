// The child side of runInChild: one request, one reply, then exit, whatever the pools left open.
import type { ChildReply, ChildRequest } from './child.js';

process.once('message', async (message) => {
  const request = message as ChildRequest;
  let reply: ChildReply;
  try {
    const module = (await import(request.moduleUrl)) as Record<string, unknown>;
    const measure = module[request.exportName];
    if (typeof measure !== 'function') throw new Error(`${request.moduleUrl} has no export ${request.exportName}`);
    reply = { ok: true, result: await measure(request.argument) };
  } catch (error) {
    reply = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  process.send?.(reply, () => process.exit(0));
});
