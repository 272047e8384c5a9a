// Plain BullMQ's own way for CPU jobs: a sandboxed processor (here on worker threads,
// `useWorkerThreads: true`), running the same functions as every other contender (bullmq.mjs).
import { spin, tiny } from './bullmq.mjs';

export default function process(job) {
  return job.name === 'tiny' ? tiny(job.data) : spin(job.data);
}
