// poolifier needs its ThreadWorker wrapper around the shared jobs. `busyUrgent` is the same
// function as `busy` registered with a better priority (lower runs first): poolifier's way to
// let one job overtake a backlog, used by the urgent-job benchmark with its tasks queue on.
import { ThreadWorker } from 'poolifier';
import * as jobs from './jobs.mjs';

const backlogPriority = 1;
const urgentPriority = 0;

export default new ThreadWorker({
  tiny: jobs.tiny,
  tinyBatch: jobs.tinyBatch,
  sha256: jobs.sha256,
  busy: { taskFunction: jobs.busy, priority: backlogPriority },
  busyUrgent: { taskFunction: jobs.busy, priority: urgentPriority },
  gate: jobs.gate,
  counted: jobs.counted,
  thumbnail: jobs.thumbnail,
});
