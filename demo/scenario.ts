/**
 * One workload's scenario, run twice with the same jobs and threads: on a lazypool Pool, and on a
 * plain (eager) Piscina pool loading the very same worker file. The script is the same for both:
 * queue a backlog; submit an urgent job last and promote it; submit an important one and raise
 * its priority; once both are done, cancel whatever is left. Only the lazy pool can act on the
 * last three steps; the eager one shows what waiting costs.
 */
import { setMaxListeners } from 'node:events';
import { Piscina } from 'piscina';
import { Pool, type JobHandle } from '../src/index.js';
import { bar, duration, seconds, style, type Screen } from './screen.js';
import type { Workload } from './workloads.js';

/** What one run measured, in ms from the first submission unless said otherwise. */
export interface Measurement {
  /** Submission of the urgent job to its result. */
  urgentMs: number;
  /** Of that, the time before a thread began it (its first progress); unknown on the eager pool. */
  urgentWaitMs?: number;
  /** Submission of the important job to its result. */
  importantMs: number;
  /** Of that, the time before a thread began it; unknown on the eager pool. */
  importantWaitMs?: number;
  /** Backlog jobs still waiting when both were done, dropped by the cancel. */
  cancelled: number;
  /** How long the cancel itself took, until every dropped job had settled. */
  cancelMs: number;
  /** Threads terminated because of the cancel. */
  threadsEnded: number;
  /** Backlog jobs that ran on a thread (work spent whether anyone still wanted it or not). */
  backlogRan: number;
  /** First submission until nothing is running. */
  totalMs: number;
}

type Role = 'urgent' | 'important' | 'backlog';

interface Watched {
  role: Role;
  label: string;
  progress?: { text: string; fraction: number };
  /** performance.now() of its first progress: when a thread really began it. */
  begunAt?: number;
}

const roleTitle: Record<Role, string> = { urgent: 'urgent   ', important: 'important', backlog: 'backlog  ' };

/** The scenario on a lazypool `Pool`: promote, reprioritise, cancel. */
export async function runLazy(workload: Workload, threads: number, concurrency: number, screen: Screen): Promise<Measurement> {
  const pool = new Pool({ filename: workload.worker, maxThreads: threads, minThreads: threads, concurrency });
  await Promise.all(Array.from({ length: threads }, () => pool.submit(workload.warmup)));

  const startedAt = performance.now();
  const clock = () => performance.now() - startedAt;
  const say = (text: string) => screen.log(`  ${style.dim(seconds(clock()).padStart(7))}  lazy   ${text}`);
  const watched = new Map<JobHandle, Watched>();
  const watch = (handle: JobHandle, role: Role, label: string): JobHandle => {
    const entry: Watched = { role, label };
    // Backlog jobs are shown while they run; the two that matter from submission on.
    if (role !== 'backlog') watched.set(handle, entry);
    else handle.onStart(() => watched.set(handle, entry));
    let quarter = -1;
    handle.onProgress((value) => {
      entry.begunAt ??= performance.now();
      entry.progress = workload.describe(value);
      // Off a terminal the log is the only display: a line per quarter of the job is enough.
      const reached = Math.floor(entry.progress.fraction * 4);
      if (role !== 'backlog' && !screen.live && reached > quarter) say(`#${handle.id} ${role}: ${entry.progress.text}`);
      quarter = Math.max(quarter, reached);
    });
    handle.onDone(() => watched.delete(handle));
    return handle;
  };
  const warmupJobs = pool.stats.fulfilled;
  screen.beginBlock(() => {
    const { queued, running, fulfilled, cancelled, threads: alive } = pool.stats;
    const lines = [
      `  ${style.bold('lazy ')} ${seconds(clock()).padStart(7)}   queued ${queued}  running ${running}  done ${fulfilled - warmupJobs}  cancelled ${cancelled}  threads ${alive}`,
    ];
    for (const [handle, { role, label, progress }] of watched) {
      const state = handle.state.padEnd(8);
      // "running" starts at the hand-over to Piscina; until its first progress it may still wait there for a thread.
      const shown =
        progress !== undefined ? `${bar(progress.fraction)} ${progress.text}` : handle.state === 'running' ? 'handed to Piscina' : '';
      lines.push(`    ${roleTitle[role]} #${String(handle.id).padEnd(4)} ${state} ${shown.padEnd(36)} ${style.dim(label)}`);
    }
    return lines;
  });

  const backlog = workload.backlog.map((job) => watch(pool.submit(job.input), 'backlog', job.label));
  say(`${backlog.length} jobs submitted: ${pool.stats.running} handed to the ${threads} threads (concurrency ${pool.concurrency}), ${pool.stats.queued} wait in lazypool's queue`);

  const urgent = watch(pool.submit(workload.urgent.input), 'urgent', workload.urgent.label);
  const urgentEntry = watched.get(urgent)!;
  const queuedAs = urgent.state;
  urgent.promote();
  say(`#${urgent.id} urgent, submitted last (${queuedAs}), promote() -> ${urgent.state}: ${workload.urgent.label}`);

  const important = watch(pool.submit(workload.important.input), 'important', workload.important.label);
  const importantEntry = watched.get(important)!;
  important.setPriority(10);
  say(`#${important.id} important, submitted after it, setPriority(10): ahead of all ${pool.stats.queued - 1} others: ${workload.important.label}`);

  // A thread is not taken from a job half-way: the wait is for one of the running jobs to end.
  const doneText = (handle: JobHandle, entry: Watched) => {
    const waited = (entry.begunAt ?? handle.timing.settledAt!) - handle.timing.submittedAt;
    return `${style.green('done')} in ${seconds(handle.timing.settledAt! - handle.timing.submittedAt)}: waited ${seconds(waited)} for a thread to finish its job, then ran ${seconds(handle.timing.settledAt! - handle.timing.submittedAt - waited)}`;
  };
  urgent.onDone(() => say(`#${urgent.id} urgent ${doneText(urgent, urgentEntry)}`));
  important.onDone(() => say(`#${important.id} important ${doneText(important, importantEntry)}`));
  await Promise.all([urgent, important]);

  const threadsBefore = pool.stats.threads;
  const cancelStart = performance.now();
  let cancelled = 0;
  for (const handle of backlog) if (handle.state === 'queued' && handle.cancel('no longer needed')) cancelled++;
  const cancelMs = performance.now() - cancelStart;
  const stillRunning = backlog.filter((handle) => handle.state === 'running').length;
  say(
    `cancelled the ${cancelled} queued jobs in ${duration(cancelMs)}: none had reached a thread (threads ${threadsBefore} -> ${pool.stats.threads}); ` +
      `${stillRunning} running ones finish`,
  );

  await pool.idle();
  const totalMs = clock();
  const backlogRan = backlog.filter((handle) => handle.timing.startedAt !== undefined).length;
  say(`idle: ${backlogRan} of ${backlog.length} backlog jobs ran, ${cancelled} never started`);
  screen.endBlock();
  await pool.close();
  return {
    urgentMs: urgent.timing.settledAt! - urgent.timing.submittedAt,
    urgentWaitMs: (urgentEntry.begunAt ?? urgent.timing.settledAt!) - urgent.timing.submittedAt,
    importantMs: important.timing.settledAt! - important.timing.submittedAt,
    importantWaitMs: (importantEntry.begunAt ?? important.timing.settledAt!) - important.timing.submittedAt,
    cancelled,
    cancelMs,
    threadsEnded: 0,
    backlogRan,
    totalMs,
  };
}

/** The same script on a plain Piscina pool: every job is posted at once, in submission order. */
export async function runEager(workload: Workload, threads: number, screen: Screen): Promise<Measurement> {
  const piscina = new Piscina({ filename: workload.worker.href, maxThreads: threads, minThreads: threads, idleTimeout: 30_000 });
  // A reply from a task aborted while it ran makes Piscina emit 'error'; without a listener that would throw.
  piscina.on('error', (error: unknown) => screen.log(`  eager pool error: ${String(error)}`));
  let threadsEnded = 0;
  piscina.on('workerDestroy', () => threadsEnded++);
  await Promise.all(Array.from({ length: threads }, () => piscina.run(workload.warmup)));

  const startedAt = performance.now();
  const clock = () => performance.now() - startedAt;
  const say = (text: string) => screen.log(`  ${style.dim(seconds(clock()).padStart(7))}  eager  ${text}`);
  // Signals let the rest be aborted at the end, as Piscina offers; they cost a little per task.
  const controller = new AbortController();
  // One signal for every task: Piscina adds a listener per task, past Node's warning threshold of 10.
  setMaxListeners(workload.backlog.length + 2, controller.signal);
  interface Task {
    settled: boolean;
    ran: boolean;
    promise: Promise<unknown>;
  }
  const post = (input: unknown): Task => {
    const task: Task = { settled: false, ran: false, promise: piscina.run(input, { signal: controller.signal }) };
    task.promise = task.promise.then(
      () => {
        task.settled = true;
        task.ran = true;
      },
      () => {
        task.settled = true;
      },
    );
    return task;
  };

  const backlog = workload.backlog.map((job) => post(job.input));
  say(`${backlog.length} tasks posted to Piscina at once (${piscina.queueSize} in its queue)`);
  const urgent = post(workload.urgent.input);
  say(`urgent, posted last: there is no handle to promote; it waits behind ${piscina.queueSize - 1} tasks`);
  const important = post(workload.important.input);
  say(`important, posted after it: no priorities; it waits too`);

  let urgentMs = 0;
  let importantMs = 0;
  screen.beginBlock(() => {
    const done = backlog.filter((task) => task.settled).length;
    const waiting = (task: Task) => (task.settled ? style.green('done') : `waiting, ${piscina.queueSize} tasks in Piscina's queue`);
    return [
      `  ${style.bold('eager')} ${seconds(clock()).padStart(7)}   backlog done ${done}/${backlog.length}  threads ${piscina.threads.length}`,
      `    urgent     ${waiting(urgent)}  ${style.dim(workload.urgent.label)}`,
      `    important  ${waiting(important)}  ${style.dim(workload.important.label)}`,
    ];
  });
  await Promise.all([
    urgent.promise.then(() => {
      urgentMs = clock();
      say(`urgent ${style.green('done')} in ${seconds(urgentMs)}`);
    }),
    important.promise.then(() => {
      importantMs = clock();
      say(`important ${style.green('done')} in ${seconds(importantMs)}`);
    }),
  ]);

  const pending = backlog.filter((task) => !task.settled);
  threadsEnded = 0;
  const cancelStart = performance.now();
  controller.abort();
  await Promise.all(pending.map((task) => task.promise));
  const cancelMs = performance.now() - cancelStart;
  // Piscina ends a running task's thread inside abort() itself; destroy() below must not count.
  const endedByCancel = threadsEnded;
  say(
    pending.length === 0
      ? `nothing left to cancel: all ${backlog.length} backlog tasks ran before the urgent one`
      : `aborted the ${pending.length} unfinished tasks in ${duration(cancelMs)}; ${endedByCancel} threads terminated with their running task`,
  );
  const totalMs = clock();
  screen.endBlock();
  const backlogRan = backlog.filter((task) => task.ran).length;
  await piscina.destroy();
  return { urgentMs, importantMs, cancelled: pending.length, cancelMs, threadsEnded: endedByCancel, backlogRan, totalMs };
}
