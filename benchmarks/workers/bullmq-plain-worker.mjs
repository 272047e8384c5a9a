// Plain BullMQ's worker side for benchmarks/bullmq.ts, in a process of its own:
//   node bullmq-plain-worker.mjs <redis url> <queue> <concurrency> inline|sandboxed
// inline: a Worker whose processor calls bullmq.mjs's functions in this process (BullMQ's
// concurrency then interleaves async work only: synchronous CPU jobs run one at a time).
// sandboxed: a Worker with a processor file run on worker threads (`useWorkerThreads`), BullMQ's
// documented way for CPU-bound jobs, `concurrency` threads at most.
// Prints 'ready' once the worker is connected; SIGTERM closes it and exits.
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import { spin, tiny } from './bullmq.mjs';

const [url, queue, concurrencyText, mode] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const { hostname, port } = new URL(url);
const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
const sandboxed = fileURLToPath(new URL('./bullmq-sandboxed.mjs', import.meta.url));

const processor = mode === 'sandboxed' ? sandboxed : (job) => (job.name === 'tiny' ? tiny(job.data) : spin(job.data));
const worker = new Worker(queue, processor, {
  connection,
  concurrency,
  ...(mode === 'sandboxed' ? { useWorkerThreads: true } : {}),
  // Finished jobs are not kept: the benchmark reads results from QueueEvents.
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 1000 },
});
worker.on('error', (error) => process.stderr.write(`plain BullMQ worker: ${error.message}\n`));
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker.close(true).finally(() => process.exit(0));
});
