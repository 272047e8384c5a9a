/**
 * The executor that dispatches jobs through BullMQ on Redis, to `lazypool worker` processes on any
 * machine. Jobs stay lazy in the submitting process: the pool keeps them (held, queued,
 * reprioritised, promoted, cancelled for free) and this executor adds one to Redis only when the
 * workers have room for it: at most their free capacity plus `margin` jobs wait in Redis.
 *
 * How a job travels (wire.ts says what each message holds):
 * - `take()` gives a job; it is added to Redis with the next batch (one `addBulk` per turn).
 * - **This process decides every begin.** A worker that takes a job from Redis asks this process
 *   (pub/sub: the job id on this process's ask channel) before it begins it, and begins it only on
 *   a yes. The answer is given synchronously here, in turn with `takeBack()`: exactly one of them
 *   wins, as a thread's claim word does for threads. So a job added to Redis is still reachable:
 *   taken back (priority, hold, promote, a free cancel), it is a ghost in Redis, removed if still
 *   waiting, refused if a worker asks for it, and never runs. A yes makes the job `running`.
 * - Its progress, then its return value, arrive in order through `QueueEvents`.
 * - `stop()` publishes the job's id on the queue's cancel channel: its worker cancels it
 *   (`cancelled()`, `signal()`), and ends its thread after its own `abortGrace`. This side gives up
 *   after `abortGrace` (default 2,000 ms: the worker's 1,000 plus transit) and frees the slot.
 * - A worker that waits in vain for an answer (this process is gone) drops the job unrun.
 * - Every `checkInterval` ms, the jobs in Redis not heard from lately are looked up, so a missed
 *   event (a reconnection, a trimmed event stream) or a job Redis lost (restarted without
 *   persistence) never leaves a handle waiting: a lost job that had not begun goes again; one that
 *   had is rejected, saying so. Redis unreachable for `lostAfter` ms fails every job in it.
 *
 * The workers' capacity is what they register (wire.ts `keys().workers`, refreshed by each
 * worker); `capacity` fixes it instead.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions, Job, Queue as QueueType, QueueEvents as QueueEventsType } from 'bullmq';
import type { Redis as RedisType } from 'ioredis';
import { CancelledError } from '../errors.js';
import type { Executor, ExecutorJob, JobSource } from '../executor.js';
import { Timer, withTimeout } from '../timer.js';
import { transfers } from '../thread/replies.js';
import { decode, decodeError, defaultMaxInputBytes, encode, jobName, keys, type JobData, wireVersion } from './wire.js';
import { loadBullmq, sideClient } from './load.js';

export interface BullmqExecutorOptions {
  /** BullMQ's own `connection`: `{ host, port }`, `{ url }`, other ioredis options, or a client. */
  connection: ConnectionOptions;
  /** The BullMQ queue's name; the workers serve the same one. */
  queue: string;
  /** BullMQ's key prefix. @default `bull` */
  prefix?: string;
  /** Jobs that run at once: fixed, instead of what the workers register. @default what the workers register */
  capacity?: number;
  /** Jobs added to Redis beyond the workers' free capacity, so none waits for a round trip. @default the capacity, at least 1 */
  margin?: number;
  /** ms after `stop()` (cancel, timeout) before a job that has not stopped is given up. @default 2000 */
  abortGrace?: number;
  /** ms between looks at jobs in Redis not heard from. @default 1000 */
  checkInterval?: number;
  /** ms of Redis not answering after which the jobs in it fail. @default 30000 */
  lostAfter?: number;
  /** The largest input accepted, in bytes of its encoding. @default 16 MiB */
  maxInputBytes?: number;
}

/** A job handed to this executor, and added (or about to be) to Redis under `id`. */
class Remote {
  readonly job: ExecutorJob;
  readonly id: string;
  /** In the batch not yet added. */
  pending = true;
  /** A worker asked, and was told yes: the job is `running`. */
  begun = false;
  /** Asked to stop; the timer that gives it up. */
  graceTimer: Timer | undefined;
  stopping = false;
  /** When it was last heard of (performance.now()). */
  heard = performance.now();
  /** What goes to Redis, until it has gone. */
  data: JobData | undefined;
  /** What went: kept while the job is in Redis, in case it must go again (see #sendAgain). */
  dataSent: JobData | undefined;
  /** A worker asked and was told yes. */
  approved = false;

  constructor(job: ExecutorJob, id: string) {
    this.job = job;
    this.id = id;
  }
}

export class BullmqExecutor implements Executor {
  readonly threads = 0;
  readonly #options: Checked;
  /** This process's mark on its job ids, `<mark>.<n>`, and the name of its ask channel. */
  readonly #mark = randomUUID();
  #sent = 0;
  readonly #remotes = new Map<string, Remote>();
  readonly #remoteOf = new Map<ExecutorJob, Remote>();
  /** Jobs taken back after they were added to Redis: never to run. Id → when (performance.now()). */
  readonly #ghosts = new Map<string, number>();
  #batch: Remote[] = [];
  #source: JobSource | undefined;
  #registered = 0;
  /** Jobs in Redis (or about to be) that have not begun; and those that have. */
  #unbegun = 0;
  #begun = 0;
  #queue: QueueType | undefined;
  #events: QueueEventsType | undefined;
  #side: RedisType | undefined;
  #subscriber: RedisType | undefined;
  #ready = false;
  #closed = false;
  #waking = false;
  #wakeAgain = false;
  #failure: Error | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #checking = false;
  /** Since when Redis has not answered a look (performance.now()); undefined: it answers. */
  #silentSince: number | undefined;
  #opening: Promise<void> | undefined;

  constructor(options: BullmqExecutorOptions) {
    this.#options = checkOptions(options);
  }

  get capacity(): number {
    return this.#options.capacity ?? this.#registered;
  }

  /** Where the jobs go, for messages: never the password. */
  get #where(): string {
    return `queue '${this.#options.queue}'`;
  }

  get #keys(): ReturnType<typeof keys> {
    return keys(this.#options.prefix, this.#options.queue);
  }

  attach(source: JobSource): void {
    this.#source = source;
    // BullMQ retries a connection for ever: a Redis that never answers fails the jobs after lostAfter.
    const giveUp = new Timer(() => this.#fail(new Error(`no answer within lostAfter (${this.#options.lostAfter} ms)`)), this.#options.lostAfter);
    this.#opening = this.#open().then(
      () => giveUp.clear(),
      (error: unknown) => {
        giveUp.clear();
        this.#fail(error);
      },
    );
  }

  /** Redis cannot be reached: every job handed over fails, and the pool hands over every waiting job so that it does too. */
  #fail(error: unknown): void {
    if (this.#ready || this.#closed) return;
    this.#failure = new Error(`lazypool/bullmq could not reach Redis for ${this.#where}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    this.#ready = true;
    this.wake();
  }

  async #open(): Promise<void> {
    const { Queue, QueueEvents } = await loadBullmq();
    const { connection, queue, prefix } = this.#options;
    this.#queue = new Queue(queue, { connection, prefix });
    this.#events = new QueueEvents(queue, { connection, prefix });
    this.#events.on('progress', ({ jobId, data }) => this.#onProgress(jobId, data as unknown));
    this.#events.on('completed', ({ jobId, returnvalue }) => this.#onReply(jobId, returnvalue as unknown));
    this.#events.on('failed', ({ jobId, failedReason }) => this.#onFailed(jobId, failedReason));
    // Connection trouble is reported by the look at jobs (#check); BullMQ retries meanwhile.
    this.#events.on('error', () => {});
    this.#queue.on('error', () => {});
    this.#side = await sideClient(connection);
    this.#side.on('error', () => {});
    this.#subscriber = this.#side.duplicate();
    this.#subscriber.on('error', () => {});
    this.#subscriber.on('message', (_channel: string, message: string) => this.#onAsk(message));
    await this.#subscriber.subscribe(this.#keys.ask(this.#mark));
    // Events are read from now on: no job is added before, so none is missed.
    await Promise.all([this.#events.waitUntilReady(), this.#queue.waitUntilReady()]);
    // Read again by every look (#check) if it fails now.
    await this.#readCapacity().catch(() => {});
    if (this.#closed) return;
    // Late (the jobs handed over meanwhile failed), but here: the jobs from now on go to Redis.
    this.#failure = undefined;
    this.#ready = true;
    this.#checkTimer = setInterval(() => void this.#check(), this.#options.checkInterval);
    this.wake();
  }

  wake(): void {
    if (!this.#ready || this.#closed) return;
    // Giving a job back (below) wakes this again from inside: the loop here goes on instead.
    if (this.#waking) {
      this.#wakeAgain = true;
      return;
    }
    this.#waking = true;
    try {
      const source = this.#source!;
      for (this.#wakeAgain = true; this.#wakeAgain; ) {
        this.#wakeAgain = false;
        this.#handOver(source);
      }
    } finally {
      this.#waking = false;
    }
  }

  /** Takes what there is room for. */
  #handOver(source: JobSource): void {
    for (;;) {
      if (this.#room() > 0) {
        const job = source.take();
        if (job === undefined) return;
        this.#hand(job);
        continue;
      }
      // No room: a promoted job still goes, in place of the last job handed over that is not
      // promoted and has not begun (it goes back to the pool), so that Redis never holds more
      // than the workers' free capacity plus the margin.
      const displaced = this.#displaceable();
      if (displaced === undefined) return;
      const job = source.take(true);
      if (job === undefined) return;
      this.#giveBackUnbegun(displaced);
      this.#hand(job);
    }
  }

  /** The last job handed over that is not promoted and has not begun, if any. */
  #displaceable(): Remote | undefined {
    let last: Remote | undefined;
    for (const remote of this.#remotes.values()) if (!remote.begun && !remote.job.promoted && !remote.stopping) last = remote;
    return last;
  }

  /** How many more jobs may be handed over (not counting promoted ones, which go past it). */
  #room(): number {
    if (this.#failure !== undefined) return Infinity;
    const capacity = this.capacity;
    if (capacity === 0) return 0;
    const margin = this.#options.margin ?? Math.max(1, capacity);
    return Math.max(0, capacity - this.#begun) + margin - this.#unbegun - this.#ghosts.size;
  }

  #hand(job: ExecutorJob): void {
    const source = this.#source!;
    if (this.#failure !== undefined) {
      source.stopped(job, true, this.#failure);
      return;
    }
    const refusal = refuse(job, this.#options.maxInputBytes);
    if (typeof refusal !== 'string') {
      source.stopped(job, true, refusal);
      return;
    }
    const remote = new Remote(job, `${this.#mark}.${++this.#sent}`);
    remote.data = { lazypool: wireVersion, input: refusal };
    this.#remotes.set(remote.id, remote);
    this.#remoteOf.set(job, remote);
    this.#unbegun++;
    if (this.#batch.length === 0) setImmediate(this.#flush);
    this.#batch.push(remote);
  }

  /** Adds the turn's jobs to Redis, in one round trip; the promoted ones at the head of the line. */
  readonly #flush = (): void => {
    const batch = this.#batch.filter((remote) => this.#remotes.get(remote.id) === remote);
    this.#batch = [];
    if (batch.length === 0 || this.#closed) return;
    const now = performance.now();
    const jobs = batch.map((remote) => {
      remote.pending = false;
      remote.heard = now;
      const data = remote.data!;
      remote.data = undefined;
      remote.dataSent = data;
      return {
        name: jobName(remote.job.name),
        data,
        opts: {
          jobId: remote.id,
          lifo: remote.job.promoted,
          // Kept a while after it ends, so that a missed event can be made up for by a look (#check).
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 1000 },
        },
      };
    });
    this.#queue!.addBulk(jobs).catch(() => {
      // Not added (Redis did not answer): the looks find them missing, and they go again.
    });
  };

  /** A worker asks whether it may begin a job: yes only for a job of ours still handed over. */
  #onAsk(message: string): void {
    const space = message.indexOf(' ');
    if (space <= 0) return;
    const answerTo = message.slice(0, space);
    const id = message.slice(space + 1);
    const remote = this.#remotes.get(id);
    let yes = false;
    if (remote !== undefined && !remote.pending && !remote.approved && !remote.stopping && !this.#closed) {
      remote.heard = performance.now();
      remote.approved = true;
      // A job sent again (see #onReply) is running already.
      if (!remote.begun) this.#begin(remote);
      yes = true;
    } else {
      // A ghost: its worker drops it, unrun.
      this.#ghosts.delete(id);
    }
    void this.#side!.publish(answerTo, `${id} ${yes ? 1 : 0}`).catch(() => {});
    if (!yes) this.wake();
  }

  #begin(remote: Remote): void {
    remote.begun = true;
    this.#unbegun--;
    this.#begun++;
    this.#source!.started(remote.job, performance.now());
  }

  #onProgress(id: string, report: unknown): void {
    const remote = this.#remotes.get(id);
    if (remote === undefined || !remote.begun || remote.stopping) return;
    remote.heard = performance.now();
    const text = typeof report === 'object' && report !== null ? (report as { p?: unknown }).p : undefined;
    if (typeof text !== 'string') return;
    let value: unknown;
    try {
      value = decode(text);
    } catch {
      return;
    }
    remote.job.progress(value);
  }

  #onReply(id: string, reply: unknown): void {
    if (this.#ghosts.delete(id)) return this.wake();
    const remote = this.#remotes.get(id);
    if (remote === undefined) return;
    if (typeof reply !== 'object' || reply === null) {
      this.#end(remote, true, new Error(`job ${remote.job.id} came back from ${this.#where} without a lazypool reply (is the worker 'lazypool worker'?)`));
      return;
    }
    const { v, e, c } = reply as { v?: unknown; e?: unknown; c?: unknown };
    if (c === 1) {
      // Dropped by its worker before it began: it waited in vain for a yes (this process was slow
      // to answer, or the answer was lost), or it was cancelled first.
      if (!remote.begun) return this.#giveBack(remote);
      if (remote.stopping) return this.#end(remote, true, new CancelledError());
      // Its worker stopped waiting before this process's yes reached it (this process was busy
      // for longer than askTimeout): it never ran, and it is `running` here already. It goes to
      // Redis again, and the next worker that asks is told yes.
      return this.#sendAgain(remote);
    }
    try {
      if (typeof v === 'string') return this.#end(remote, false, decode(v));
      if (typeof e === 'string') return this.#end(remote, true, decodeError(e));
    } catch (error) {
      return this.#end(remote, true, new Error(`job ${remote.job.id}: its reply could not be read: ${(error as Error).message}`, { cause: error }));
    }
    this.#end(remote, true, new Error(`job ${remote.job.id} came back from ${this.#where} with a reply lazypool does not know`));
  }

  #sendAgain(remote: Remote): void {
    this.#remotes.delete(remote.id);
    const again = new Remote(remote.job, `${this.#mark}.${++this.#sent}`);
    again.begun = true;
    again.data = remote.dataSent;
    again.dataSent = remote.dataSent;
    this.#remotes.set(again.id, again);
    this.#remoteOf.set(again.job, again);
    if (this.#batch.length === 0) setImmediate(this.#flush);
    this.#batch.push(again);
  }

  #onFailed(id: string, reason: string): void {
    if (this.#ghosts.delete(id)) return this.wake();
    const remote = this.#remotes.get(id);
    if (remote === undefined) return;
    const stalled = /stalled/i.test(reason);
    this.#end(
      remote,
      true,
      new Error(
        stalled
          ? `job ${remote.job.id}: its worker stopped answering while it ran (killed, or its machine gone?); BullMQ gave it up (${this.#where}: ${reason}) and it is not run again`
          : `job ${remote.job.id} failed in BullMQ (${this.#where}): ${reason}`,
      ),
    );
  }

  #forget(remote: Remote): boolean {
    if (this.#remotes.get(remote.id) !== remote) return false;
    this.#remotes.delete(remote.id);
    if (this.#remoteOf.get(remote.job) === remote) this.#remoteOf.delete(remote.job);
    remote.graceTimer?.clear();
    if (remote.begun) this.#begun--;
    else this.#unbegun--;
    return true;
  }

  /** The job is over for this side: its slot is free. */
  #end(remote: Remote, failed: boolean, value: unknown): void {
    if (!this.#forget(remote)) return;
    this.#source!.stopped(remote.job, failed, value);
    this.wake();
  }

  /** It never began: it waits in the pool again. */
  #giveBack(remote: Remote): void {
    if (!this.#forget(remote)) return;
    this.#source!.returned(remote.job);
  }

  takeBack(job: ExecutorJob, _cancelling: boolean): boolean {
    const remote = this.#remoteOf.get(job);
    if (remote === undefined) return true;
    if (remote.begun) return false;
    this.#withdraw(remote);
    return true;
  }

  /** A job not begun is this executor's no more: if in Redis, a ghost, refused to any worker that asks, removed if still waiting. */
  #withdraw(remote: Remote): void {
    this.#forget(remote);
    if (remote.pending) return;
    this.#ghosts.set(remote.id, performance.now());
    this.#queue!.remove(remote.id).then(
      (removed) => {
        if (removed === 1 && this.#ghosts.delete(remote.id)) this.wake();
      },
      () => {},
    );
  }

  /** Gives a job not begun back to the pool, where it waits in its place again. */
  #giveBackUnbegun(remote: Remote): void {
    this.#withdraw(remote);
    this.#source!.returned(remote.job);
  }

  stop(job: ExecutorJob): void {
    const remote = this.#remoteOf.get(job);
    if (remote === undefined || remote.stopping) return;
    remote.stopping = true;
    remote.graceTimer = new Timer(() => this.#end(remote, true, new Error(`job ${job.id} did not stop within abortGrace on ${this.#where}`)), this.#options.abortGrace);
    void this.#side!.publish(this.#keys.cancel, remote.id).catch(() => {});
  }

  /** The workers' capacity, as they registered it (those whose registration has not expired). */
  async #readCapacity(): Promise<void> {
    if (this.#options.capacity !== undefined) return;
    const members = (await this.#side!.eval(readWorkersScript, 1, this.#keys.workers)) as string[];
    let capacity = 0;
    for (const member of members) capacity += Number.parseInt(member, 10) || 0;
    if (capacity !== this.#registered) {
      const more = capacity > this.#registered;
      this.#registered = capacity;
      if (more) this.wake();
    }
  }

  /** A look at Redis: the workers' capacity, and the jobs (and ghosts) in Redis not heard from lately. */
  async #check(): Promise<void> {
    if (this.#checking || this.#closed) return;
    this.#checking = true;
    try {
      await withTimeout(this.#readCapacity(), this.#options.checkInterval * 2);
      const now = performance.now();
      const quiet = [...this.#remotes.values()].filter((remote) => !remote.pending && now - remote.heard > this.#options.checkInterval);
      const ghosts = [...this.#ghosts].filter(([, at]) => now - at > this.#options.checkInterval).map(([id]) => id);
      if (quiet.length > 0 || ghosts.length > 0) {
        const queue = this.#queue!;
        const [states, ghostStates] = await withTimeout(
          Promise.all([Promise.all(quiet.map((remote) => queue.getJobState(remote.id))), Promise.all(ghosts.map((id) => queue.getJobState(id)))]),
          this.#options.checkInterval * 2,
        );
        for (let index = 0; index < ghosts.length; index++) {
          if (ghostStates[index] === 'completed' || ghostStates[index] === 'failed' || ghostStates[index] === 'unknown') this.#ghosts.delete(ghosts[index]!);
        }
        for (let index = 0; index < quiet.length; index++) await this.#lookedUp(quiet[index]!, states[index]!);
        this.wake();
      }
      this.#silentSince = undefined;
      if (this.#failure !== undefined) {
        // Redis answers again: jobs go to it again.
        this.#failure = undefined;
        this.wake();
      }
    } catch {
      this.#silentSince ??= performance.now();
      const silent = Math.round(performance.now() - this.#silentSince);
      if (silent >= this.#options.lostAfter) {
        // Every handle settles, whatever Redis does: the jobs in it fail, and so does every job
        // handed over until Redis answers again.
        const error = new Error(`Redis has not answered for ${silent} ms (${this.#where}): job given up`);
        this.#failure = error;
        for (const remote of [...this.#remotes.values()]) {
          if (remote.pending) continue;
          this.#end(remote, true, new Error(`job ${remote.job.id} given up: Redis has not answered for ${silent} ms (${this.#where})`));
        }
        this.wake();
      }
    } finally {
      this.#checking = false;
    }
  }

  async #lookedUp(remote: Remote, state: string): Promise<void> {
    if (this.#remotes.get(remote.id) !== remote) return;
    if (state === 'completed' || state === 'failed') {
      const job = (await this.#queue!.getJob(remote.id)) as Job | undefined;
      if (this.#remotes.get(remote.id) !== remote) return;
      if (job === undefined) return this.#lost(remote);
      if (state === 'completed') this.#onReply(remote.id, job.returnvalue);
      else this.#onFailed(remote.id, job.failedReason);
      return;
    }
    if (state === 'unknown') return this.#lost(remote);
    remote.heard = performance.now();
  }

  /** Redis no longer has the job (restarted without persistence, or removed by someone else). */
  #lost(remote: Remote): void {
    if (remote.begun) {
      this.#end(remote, true, new Error(`job ${remote.job.id} was lost by Redis after it began (was Redis restarted, or the job removed?); it is not run again`));
      return;
    }
    // Never begun: it goes again, from the pool.
    this.#giveBack(remote);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#checkTimer);
    // Still opening (a Redis that does not answer): not waited for more than a second.
    await withTimeout(this.#opening!, 1000).catch(() => {});
    // Ghosts still waiting in Redis are removed: no worker waits for an answer about them.
    const queue = this.#queue;
    if (queue !== undefined && this.#ghosts.size > 0) {
      await withTimeout(Promise.all([...this.#ghosts.keys()].map((id) => queue.remove(id))), 1000).catch(() => {});
    }
    const closing = [queue?.close(), this.#events?.close()];
    // Closed within a second, answering or not: a dead Redis must not hold close() up.
    await withTimeout(Promise.allSettled(closing), 1000).catch(() => {});
    for (const client of [this.#subscriber, this.#side]) {
      if (client !== undefined) await withTimeout(client.quit(), 1000).catch(() => client.disconnect());
    }
    await withTimeout(Promise.allSettled([queue?.disconnect(), this.#events?.disconnect()]), 1000).catch(() => {});
  }
}

/** ZSET members of workers whose registration has not expired (by Redis' own clock). */
const readWorkersScript = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

/** The input, encoded; or why it cannot travel. */
function refuse(job: ExecutorJob, maxInputBytes: number): string | Error {
  if (transfers(job)) {
    return new TypeError(`job ${job.id}: a transferred input (move(), transferList) cannot travel through Redis`);
  }
  let text: string;
  try {
    text = encode(job.input, `job ${job.id}'s input`);
  } catch (error) {
    return error as Error;
  }
  if (text.length > maxInputBytes) return new RangeError(`job ${job.id}'s input is ${text.length} bytes encoded, more than maxInputBytes (${maxInputBytes})`);
  return text;
}

type Checked = Required<Omit<BullmqExecutorOptions, 'capacity' | 'margin'>> & { capacity: number | undefined; margin: number | undefined };

function checkOptions(options: BullmqExecutorOptions): Checked {
  if (typeof options !== 'object' || options === null) throw new TypeError('bullmq() needs options: { connection, queue }');
  const { connection, queue } = options;
  if (typeof connection !== 'object' || connection === null) throw new TypeError('bullmq(): connection must be BullMQ connection options ({ host, port }, { url }) or a client');
  if (typeof queue !== 'string' || queue.length === 0) throw new TypeError('bullmq(): queue must be a non-empty string');
  const count = (name: keyof BullmqExecutorOptions, value: unknown, fallback: number | undefined, least: number): number | undefined => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || Number.isNaN(value) || value < least || (!Number.isInteger(value) && value !== Infinity)) {
      throw new TypeError(`bullmq(): ${name} must be an integer of at least ${least}, got ${typeof value === 'number' ? value : typeof value}`);
    }
    return value;
  };
  const prefix = options.prefix ?? 'bull';
  if (typeof prefix !== 'string' || prefix.length === 0) throw new TypeError('bullmq(): prefix must be a non-empty string');
  return {
    connection,
    queue,
    prefix,
    capacity: count('capacity', options.capacity, undefined, 1),
    margin: count('margin', options.margin, undefined, 0),
    abortGrace: count('abortGrace', options.abortGrace, 2000, 0)!,
    checkInterval: count('checkInterval', options.checkInterval, 1000, 1)!,
    lostAfter: count('lostAfter', options.lostAfter, 30_000, 0)!,
    maxInputBytes: count('maxInputBytes', options.maxInputBytes, defaultMaxInputBytes, 1)!,
  };
}
