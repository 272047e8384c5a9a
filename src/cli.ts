#!/usr/bin/env node
/**
 * The `lazypool` command. One subcommand, `hash`: sha256sum's output, computed on worker threads.
 *
 * The walk, the pool and the output form one stream. The walk hands out files a batch at a time
 * (many small files per job, a large file alone), only as far ahead as the threads can use, and
 * the digests are printed in input order as each batch comes back: a tree of 100,000 files costs
 * memory for a few dozen batches, plus the entries of the directory being read.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool, type JobHandle } from './index.js';
import { parseWorkerCommand, runWorkerCommand, WorkerUsageError, workerSynopsis, workerUsage, type WorkerCommand } from './cli-worker.js';
import { hashFiles, largeFileBytes, type HashFailure, type HashFilesInput, type HashFilesProgress, type HashResult } from '../workers/hash.js';

/**
 * The worker file next to this module: `dist/workers/hash.js` in the published package,
 * `workers/hash.ts` when this file runs from source under tsx.
 */
const hashWorker = new URL(`../workers/hash${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

const exitFailedFiles = 1;
const exitUsage = 2;

const commandUsage = `Usage: lazypool <command> [options]

Commands:
  hash    print the digests of files, as sha256sum does, computed on worker threads
  worker  serve a worker module to a BullMQ queue on Redis (lazypool/bullmq)
  help    print this help, or a command's ("lazypool help hash")

Options:
  -h, --help       print this help and exit
      --version    print lazypool's version and exit
`;

const hashSynopsis = 'Usage: lazypool hash [options] <file or directory>...';

const hashUsage = `${hashSynopsis}

Prints "<hex digest>  <path>" for each file, one line each, in the order given: byte for byte
what sha256sum (or md5sum, sha512sum, ...) prints, so "sha256sum -c" accepts the output. A path
containing a backslash, newline or carriage return is escaped, and its line starts with "\\",
as sha256sum does. Directories are walked recursively, the entries of each directory in byte
order of their names. Files are hashed in parallel on worker threads, many small files to a
job; the order of the output does not depend on which finishes first.

Options:
  -a, --algo <name>    digest algorithm: any that node:crypto offers (sha256, sha512, sha1,
                       md5, sha3-256, blake2b512, ...). Default: sha256
  -j, --threads <n>    number of worker threads. Default: ${availableParallelism()} (this machine's available parallelism)
      --json           print one JSON object per line instead:
                       {"path","algorithm","digest","bytes"} for a hashed file,
                       {"path","algorithm","error","code"} for one that could not be read
      --progress       draw the progress bar on stderr (files, bytes, rate, ETA) even when
                       stderr is not a terminal
      --no-progress    never draw it. Default: drawn only when stderr is a terminal
  -h, --help           print this help and exit

"-" is standard input, as for sha256sum (hashed on the main thread, printed as "-"); "./-" is
a file of that name. Unlike sha256sum, no path at all is a usage error rather than a read of
standard input. Put "--" before paths that start with "-". Inside a walked directory, symbolic
links to files are hashed, symbolic links to directories are not followed, and FIFOs, sockets
and devices are skipped; paths named on the command line are always read.

Exit status:
  0  every file was hashed
  1  some file could not be read: "lazypool: <path>: <reason>" on stderr; the others were
     still hashed and printed (or the hashing itself failed, with its reason on stderr)
  2  bad usage (unknown option, bad value, no path)
`;

/** A command line that cannot be run; reported with a one-line usage hint and exit status 2. */
class UsageError extends Error {}

/** What `lazypool hash` was asked to do. */
interface HashCommand {
  algorithm: string;
  threads: number;
  json: boolean;
  progress: boolean;
  paths: string[];
}

const hashOptions = {
  algo: { type: 'string', short: 'a' },
  threads: { type: 'string', short: 'j' },
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Options that `--no-<name>` turns off. */
const negatable = new Set(['progress']);

/**
 * Reads the command line token by token (parseArgs in its lenient mode) and checks each option
 * here, so that a mistake is reported in one short sentence naming the option as it was typed,
 * rather than in parseArgs' own message.
 */
function parseHashCommand(args: string[]): HashCommand | 'help' {
  const { tokens } = parseArgs({ args, options: hashOptions, strict: false, allowPositionals: true, allowNegative: true, tokens: true });
  let algorithm = 'sha256';
  let threadsText: string | undefined;
  let json = false;
  let progress: boolean | undefined;
  const paths: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      paths.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const { name, rawName } = token;
    const negated = rawName.startsWith('--no-');
    if (!Object.hasOwn(hashOptions, name) || (negated && !negatable.has(name))) {
      throw new UsageError(`unknown option '${rawName}'`);
    }
    const type = hashOptions[name as keyof typeof hashOptions].type;
    if (type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`option '${rawName}' takes no value, got '${token.value}'`);
    }
    // parseArgs' lenient mode takes the next argument as the value even when it is an option.
    if (type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))) {
      throw new UsageError(`option '${rawName}' needs a value`);
    }
    switch (name) {
      case 'help':
        return 'help';
      case 'algo':
        algorithm = token.value!;
        break;
      case 'threads':
        threadsText = token.value!;
        break;
      case 'json':
        json = true;
        break;
      case 'progress':
        progress = !negated;
        break;
    }
  }

  try {
    createHash(algorithm);
  } catch {
    throw new UsageError(`unknown digest algorithm '${algorithm}' (node -p "crypto.getHashes()" lists them)`);
  }
  let threads = availableParallelism();
  if (threadsText !== undefined) {
    threads = Number(threadsText);
    if (!/^\d+$/.test(threadsText) || !Number.isSafeInteger(threads) || threads < 1) {
      throw new UsageError(`--threads must be a positive integer, got '${threadsText}'`);
    }
  }
  if (paths.length === 0) throw new UsageError('no file or directory given ("-" is standard input)');
  return { algorithm, threads, json, progress: progress ?? process.stderr.isTTY === true, paths };
}

/** The version in lazypool's package.json: two folders up from `dist/src/cli.js`, one from `src/cli.ts`. */
function version(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'lazypool' && manifest.version !== undefined) return manifest.version;
    } catch {
      // not this folder
    }
  }
  return 'unknown';
}

// ---------------------------------------------------------------------------------------------
// The hashing: batches of files out to the threads, digests back in order.

/**
 * A job carries up to this many files: a few milliseconds of work for small files, so that what
 * a job costs (a message each way, tens of µs) is a small part of it, and short enough that the
 * threads finish the last batches close together.
 */
const batchFiles = 128;
/** Jobs handed to the pool ahead of the one being printed, per thread. */
const jobsAheadPerThread = 4;
/** Steps (done or not) held ahead of the one being printed: bounds what waits to be printed. */
const stepsAhead = 64;

/**
 * A path as the walk gives it: a string when its bytes are valid UTF-8 (almost always), else its
 * bytes over a buffer of their own (see {@link bytesPath}).
 */
type Path = string | Buffer;

type Outcome = HashResult | HashFailure;

/** One step of the output, in order: its files, and where their digests come from. */
interface Step {
  readonly paths: Path[];
  /** A single file known to be large: left to the threads, never hashed on the main thread. */
  readonly large: boolean;
  /** Its job, while the threads have it. */
  handle: JobHandle<Outcome[]> | undefined;
  /**
   * One outcome per path, or fewer when the job stopped before a large file (the rest is sent
   * again). Already there when the main thread hashed the step itself.
   */
  result: PromiseLike<Outcome[]> | Outcome[];
}

async function runHashCommand(command: HashCommand): Promise<number> {
  let failedFiles = 0;
  const bar = command.progress ? new ProgressBar(process.stderr) : undefined;
  // On a shared terminal the bar is lifted off its line before digests are printed, then redrawn.
  const sharesTerminal = bar !== undefined && process.stdout.isTTY === true && process.stderr.isTTY === true;
  const print = async (output: Buffer): Promise<void> => {
    if (output.length === 0) return;
    if (sharesTerminal) bar.clear();
    if (!process.stdout.write(output)) await once(process.stdout, 'drain');
    if (sharesTerminal) bar.draw();
  };
  const report = (path: Path, reason: string): void => {
    failedFiles++;
    bar?.clear();
    process.stderr.write(Buffer.concat([Buffer.from('lazypool: '), Buffer.from(path), Buffer.from(`: ${reason}\n`)]));
    bar?.draw();
  };

  // Created before the walk starts, so the threads start up while the first directories are read.
  // Two tasks per thread: a thread has its next batch at hand when it finishes one, even while the
  // main thread is busy hashing a batch of its own (see hashOneHere) and cannot answer at once.
  const pool = new Pool({ filename: hashWorker, maxThreads: command.threads, minThreads: command.threads, concurrentTasksPerWorker: 2 });
  const onInterrupt = (): void => {
    bar?.stop();
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  if (bar !== undefined) {
    bar.start();
    // A walk of its own, metadata only, runs ahead of the hashing to give the bar its totals (and
    // so an ETA); the hashing walk stays lazy. Its errors are the hashing walk's to report.
    countFiles(command.paths).then(
      (totals) => bar.setTotals(totals.files, totals.bytes),
      () => {},
    );
  }
  const onProgress = (value: unknown): void => bar?.addBytes((value as HashFilesProgress).delta);
  const inputOf = (paths: Path[]): HashFilesInput => ({
    paths,
    algorithm: command.algorithm,
    reportProgress: bar !== undefined,
    stopBeforeLarge: true,
  });
  const submit = (paths: Path[], large: boolean): Step => {
    const handle = pool.submit<Outcome[]>(inputOf(paths), { name: 'hashFiles', onProgress });
    return { paths, large, handle, result: handle };
  };

  const work = batches(walk(command.paths, (directory, error) => report(directory, reasonOf(error))));
  const ahead: Step[] = [];
  let jobsOut = 0;
  /** Walks on until enough jobs are out to keep every thread busy. */
  const keepThreadsFed = (): void => {
    while (jobsOut < jobsAheadPerThread * command.threads && ahead.length < stepsAhead) {
      const next = work.next();
      if (next.done) return;
      const batch = next.value;
      if (batch === 'stdin') {
        ahead.push({ paths: ['-'], large: false, handle: undefined, result: hashStandardInput(command.algorithm) });
      } else {
        ahead.push(submit(batch.paths, batch.large));
        jobsOut++;
      }
    }
  };
  /**
   * While the main thread would only wait, it hashes a batch itself: the last one still queued,
   * taken back with a free `cancel()`, so that the jobs next in line stay with the threads. That
   * is most of the work while the threads start up (about 0.1 s), and a share of it afterwards.
   * A batch of one file may be a large one, which would hold up the event loop: those stay queued.
   */
  const hashOneHere = (): boolean => {
    for (let index = ahead.length - 1; index >= 0; index--) {
      const step = ahead[index];
      if (step.handle === undefined || step.large || step.paths.length < 2) continue;
      if (step.handle.state !== 'queued') return false;
      if (!step.handle.cancel()) return false;
      step.handle = undefined;
      jobsOut--;
      step.result = hashFiles({ ...inputOf(step.paths), reportProgress: false });
      if (bar !== undefined) for (const outcome of step.result) if ('bytes' in outcome) bar.addBytes(outcome.bytes);
      return true;
    }
    return false;
  };

  try {
    keepThreadsFed();
    while (ahead.length > 0) {
      const step = ahead[0];
      while (step.handle !== undefined && step.handle.outcome === undefined && hashOneHere()) {
        keepThreadsFed();
        // Lets the results that came in meanwhile be delivered before deciding again.
        await nextTurn();
      }
      const outcomes = await step.result;
      // A handful of steps: shifting them is cheaper than any structure that avoids it.
      ahead.shift();
      if (step.handle !== undefined) jobsOut--;
      if (outcomes.length < step.paths.length) {
        // The job stopped before a large file: that file goes alone, the rest after it, both next.
        const [large, ...rest] = step.paths.slice(outcomes.length);
        const again = [submit([large], true)];
        if (rest.length > 0) again.push(submit(rest, false));
        for (const next of again) next.handle!.promote();
        jobsOut += again.length;
        ahead.unshift(...again);
      }
      keepThreadsFed();
      await printOutcomes(step.paths, outcomes);
    }
  } finally {
    bar?.stop();
    process.off('SIGINT', onInterrupt);
    // After a failure, what is still out must not end up as unhandled rejections.
    for (const step of ahead) step.handle?.cancel();
    await pool.close({ cancelQueued: true });
  }
  return failedFiles > 0 ? exitFailedFiles : 0;

  /** Prints the digests of a step's files in one write, and reports those that could not be read. */
  async function printOutcomes(paths: Path[], outcomes: Outcome[]): Promise<void> {
    let text = '';
    const chunks: Buffer[] = [];
    for (let index = 0; index < outcomes.length; index++) {
      const outcome = outcomes[index];
      bar?.addFile();
      // The step's own paths, not the worker's copies: they are the bytes the walk found.
      const path = paths[index];
      if ('digest' in outcome) {
        if (command.json) text += jsonText({ path: path.toString(), algorithm: outcome.algorithm, digest: outcome.digest, bytes: outcome.bytes });
        else if (typeof path === 'string') text += digestText(outcome.digest, path);
        else {
          chunks.push(Buffer.from(text), digestLine(outcome.digest, path));
          text = '';
        }
        continue;
      }
      const reason = reasonOf(outcome);
      if (command.json) text += jsonText({ path: path.toString(), algorithm: outcome.algorithm, error: reason, code: outcome.code ?? null });
      // What came before the failure is printed before it is reported, as sha256sum does.
      chunks.push(Buffer.from(text));
      text = '';
      await print(Buffer.concat(chunks));
      chunks.length = 0;
      report(path, reason);
    }
    chunks.push(Buffer.from(text));
    await print(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  }
}

/**
 * Standard input, hashed here as it arrives. A second "-" finds it at its end and gets the digest
 * of nothing, as sha256sum's does.
 */
async function hashStandardInput(algorithm: string): Promise<Outcome[]> {
  const digest = createHash(algorithm);
  let bytes = 0;
  try {
    if (!process.stdin.readableEnded) {
      for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
        digest.update(chunk);
        bytes += chunk.length;
      }
    }
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return [{ path: '-', algorithm, ...(code === undefined ? {} : { code }), message }];
  }
  return [{ path: '-', algorithm, digest: digest.digest('hex'), bytes }];
}

// ---------------------------------------------------------------------------------------------
// The walk. Synchronous: the command has nothing else to do meanwhile but print, and a blocking
// readdir costs a few µs where the promise API costs a trip through libuv's thread pool. It is
// pulled a batch at a time, so it never runs far ahead of the hashing. It does not stat the files
// it finds (the workers split large files off, see `stopBeforeLarge`): on 10,000 files, a stat
// each would be some 50 ms more of the main thread's time.

/** A file to hash (with its size when known), or standard input, in output order. */
type Entry = { kind: 'file'; path: Path; bytes: number | undefined } | { kind: 'stdin' };

const slash = '/';

/**
 * Every file to hash, in output order: each path as given, a directory replaced by the files under
 * it. A path that cannot even be examined is given anyway, so the worker's attempt to open it
 * reports the error in its place in the output order; a directory that cannot be listed is
 * reported through `onUnreadableDirectory`.
 */
function* walk(paths: readonly string[], onUnreadableDirectory: (directory: Path, error: unknown) => void): Generator<Entry> {
  for (const path of paths) {
    if (path === '-') {
      yield { kind: 'stdin' };
      continue;
    }
    const stats = statIfPossible(path);
    if (stats?.isDirectory()) yield* filesInDirectory(path, onUnreadableDirectory);
    else yield { kind: 'file', path, bytes: stats?.size };
  }
}

function* filesInDirectory(directory: Path, onUnreadableDirectory: (directory: Path, error: unknown) => void): Generator<Entry> {
  let entries;
  try {
    entries = readdirSync(directory, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    onUnreadableDirectory(directory, error);
    return;
  }
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  const textPrefix = typeof directory === 'string' ? (directory.endsWith(slash) ? directory : directory + slash) : undefined;
  for (const entry of entries) {
    const path = textPrefix !== undefined && isUtf8(entry.name) ? textPrefix + entry.name.toString() : bytesPath(directory, entry.name);
    if (entry.isDirectory()) {
      yield* filesInDirectory(path, onUnreadableDirectory);
    } else if (entry.isFile()) {
      yield { kind: 'file', path, bytes: undefined };
    } else if (entry.isSymbolicLink()) {
      // Followed only to a file, so that a link cannot lead the walk round in a cycle. A dangling
      // link is given: reading it reports the error, as `sha256sum dir/*` would.
      const stats = statIfPossible(path);
      if (stats === undefined || stats.isFile()) yield { kind: 'file', path, bytes: stats?.size };
    }
  }
}

/**
 * The path's stats, or `undefined` if it cannot be examined for any reason (missing, a loop of
 * links, a name too long, a component that is not a directory, no permission): it is hashed all
 * the same, and opening it reports the error in its place in the output, as sha256sum does.
 */
function statIfPossible(path: Path): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * `directory/name` as bytes, over an ArrayBuffer of its own: a `Buffer` from Node's shared pool
 * would carry the whole 8 KiB slab with it into every structured clone.
 */
function bytesPath(directory: Path, name: Buffer): Buffer {
  const prefix = Buffer.from(directory);
  const separator = prefix.at(-1) === slash.charCodeAt(0) ? 0 : 1;
  const path = Buffer.from(new ArrayBuffer(prefix.length + separator + name.length));
  path.set(prefix);
  if (separator) path[prefix.length] = slash.charCodeAt(0);
  path.set(name, prefix.length + separator);
  return path;
}

/** Groups the walk's files into jobs of up to `batchFiles` files; a file known to be large goes alone. */
function* batches(entries: Iterable<Entry>): Generator<{ paths: Path[]; large: boolean } | 'stdin'> {
  let paths: Path[] = [];
  for (const entry of entries) {
    if (entry.kind === 'file' && !(entry.bytes! >= largeFileBytes)) {
      paths.push(entry.path);
      if (paths.length < batchFiles) continue;
    }
    if (paths.length > 0) yield { paths, large: false };
    paths = [];
    if (entry.kind === 'stdin') yield 'stdin';
    else if (entry.bytes! >= largeFileBytes) yield { paths: [entry.path], large: true };
  }
  if (paths.length > 0) yield { paths, large: false };
}

/** How many files, and bytes, the walk will find: the progress bar's totals. Yields to the event loop as it goes. */
async function countFiles(paths: readonly string[]): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of walk(paths.filter((path) => path !== '-'), () => {})) {
    files++;
    if (entry.kind === 'file') bytes += entry.bytes ?? statSync(entry.path, { throwIfNoEntry: false })?.size ?? 0;
    if (files % 256 === 0) await nextTurn();
  }
  return { files, bytes };
}

// ---------------------------------------------------------------------------------------------
// Output.

const backslash = 0x5c;
const newline = 0x0a;
const carriageReturn = 0x0d;

/** {@link digestLine} for a path held as a string, the common case, without a Buffer per line. */
function digestText(digest: string, path: string): string {
  if (!/[\\\n\r]/.test(path)) return `${digest}  ${path}\n`;
  const escaped = path.replace(/[\\\n\r]/g, (character) => (character === '\\' ? '\\\\' : character === '\n' ? '\\n' : '\\r'));
  return `\\${digest}  ${escaped}\n`;
}

/**
 * One line as sha256sum prints it: `<hex>  <path>\n`. A path with a backslash, newline or carriage
 * return has them escaped (`\\`, `\n`, `\r`) and the line starts with a backslash, which tells
 * `sha256sum -c` to unescape it (GNU coreutils 9.x).
 */
function digestLine(digest: string, path: Buffer): Buffer {
  const needsEscape = path.includes(backslash) || path.includes(newline) || path.includes(carriageReturn);
  if (!needsEscape) return Buffer.concat([Buffer.from(`${digest}  `), path, Buffer.of(newline)]);
  const escaped: number[] = [];
  for (const byte of path) {
    if (byte === backslash) escaped.push(backslash, backslash);
    else if (byte === newline) escaped.push(backslash, 0x6e);
    else if (byte === carriageReturn) escaped.push(backslash, 0x72);
    else escaped.push(byte);
  }
  return Buffer.concat([Buffer.from(`\\${digest}  `), Buffer.from(escaped), Buffer.of(newline)]);
}

function jsonText(record: object): string {
  return `${JSON.stringify(record)}\n`;
}

/** strerror's words for the usual codes, so messages read like those of sha256sum itself. */
const systemReasons: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  ENODEV: 'No such device',
  ESTALE: 'Stale file handle',
};

/** Why a file could not be hashed, in sha256sum's words where they are known. */
function reasonOf(error: unknown): string {
  const { code, message } = (error ?? {}) as Partial<HashFailure>;
  if (code !== undefined && code in systemReasons) return systemReasons[code];
  // Node's system errors read "ECODE: what happened, syscall 'path'": keep "what happened".
  const what = message?.match(/^[A-Z0-9_]+: ([^,]+)/)?.[1];
  if (what !== undefined) return what.charAt(0).toUpperCase() + what.slice(1);
  return message ?? String(error);
}

// ---------------------------------------------------------------------------------------------
// The progress bar. Written here rather than taken from cli-progress: the package's runtime
// dependencies are piscina and comlink only, and a bar loaded "optionally" from a dev dependency
// would be missing for every user who installs the package, so its fallback would be the real
// bar anyway. This one is a single line redrawn at most ten times a second.

const redrawIntervalMs = 100;

class ProgressBar {
  #files = 0;
  #bytes = 0;
  #totalFiles: number | undefined;
  #totalBytes: number | undefined;
  #startedAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
  }

  start(): void {
    this.#startedAt = performance.now();
    // unref: the bar must never be what keeps the process alive.
    this.#timer = setInterval(() => this.draw(), redrawIntervalMs).unref();
    this.draw();
  }

  setTotals(files: number, bytes: number): void {
    this.#totalFiles = files;
    this.#totalBytes = bytes;
  }

  addFile(): void {
    this.#files++;
  }

  addBytes(bytes: number): void {
    if (Number.isFinite(bytes)) this.#bytes += bytes;
  }

  draw(): void {
    if (this.#timer === undefined) return;
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const rate = seconds > 0 ? this.#bytes / seconds : 0;
    const files = `${this.#files}${this.#totalFiles === undefined ? '' : `/${this.#totalFiles}`} files`;
    const bytes = `${formatBytes(this.#bytes)}${this.#totalBytes === undefined ? '' : `/${formatBytes(this.#totalBytes)}`}`;
    const remaining = this.#totalBytes === undefined ? undefined : Math.max(0, this.#totalBytes - this.#bytes);
    const eta = remaining === undefined || rate === 0 ? '--:--' : formatDuration(remaining / rate);
    const text = ` ${files}  ${bytes}  ${formatBytes(rate)}/s  ETA ${eta}`;
    const columns = this.#stream.columns || 80;
    // A fixed width while it fits, so the bar does not shrink as the numbers grow.
    const barWidth = columns - text.length - 3 >= 24 ? 24 : Math.max(0, columns - text.length - 3);
    const fraction = this.#totalBytes ? Math.min(1, this.#bytes / this.#totalBytes) : this.#totalFiles ? this.#files / this.#totalFiles : 0;
    const filled = Math.round(barWidth * fraction);
    const bar = barWidth > 0 ? `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]` : '';
    this.#stream.write(`\r\x1b[K${(bar + text).slice(0, columns - 1)}`);
  }

  /** Erases the bar's line, so that something else can be written there. */
  clear(): void {
    if (this.#timer !== undefined) this.#stream.write('\r\x1b[K');
  }

  stop(): void {
    this.clear();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

// ---------------------------------------------------------------------------------------------

/** Writes a usage mistake as two short lines (what is wrong, where the help is) and returns exit status 2. */
function usageError(command: string, message: string, synopsis: string, helpCommand: string): number {
  process.stderr.write(`${command}: ${message}\n${synopsis}\nRun '${helpCommand}' for the options.\n`);
  return exitUsage;
}

const helpTexts: Record<string, string> = { hash: hashUsage, help: commandUsage, worker: workerUsage };

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === '--help' || command === '-h' || (command === 'help' && rest.length === 0)) {
    process.stdout.write(commandUsage);
    return 0;
  }
  if (command === '--version') {
    process.stdout.write(`lazypool ${version()}\n`);
    return 0;
  }
  const commandSynopsis = 'Usage: lazypool <command> [options]';
  if (command === 'help') {
    const text = Object.hasOwn(helpTexts, rest[0]) ? helpTexts[rest[0]] : undefined;
    if (text === undefined || rest.length > 1) {
      return usageError('lazypool help', `no help for '${rest.join(' ')}'; the commands are: hash, worker, help`, commandSynopsis, 'lazypool help');
    }
    process.stdout.write(text);
    return 0;
  }
  if (command === 'worker') return await workerCommand(rest);
  if (command !== 'hash') {
    const message = command === undefined ? 'no command given' : command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`;
    return usageError('lazypool', message, commandSynopsis, 'lazypool help');
  }
  let parsed: HashCommand | 'help';
  try {
    parsed = parseHashCommand(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError('lazypool hash', error.message, hashSynopsis, 'lazypool help hash');
  }
  if (parsed === 'help') {
    process.stdout.write(hashUsage);
    return 0;
  }
  try {
    return await runHashCommand(parsed);
  } catch (error) {
    // Not about one file (those are reported and skipped): a worker that died, an unknown failure.
    process.stderr.write(`lazypool: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitFailedFiles;
  }
}

async function workerCommand(args: string[]): Promise<number> {
  let parsed: WorkerCommand | 'help';
  try {
    parsed = parseWorkerCommand(args);
  } catch (error) {
    if (!(error instanceof WorkerUsageError)) throw error;
    return usageError('lazypool worker', error.message, workerSynopsis, 'lazypool help worker');
  }
  if (parsed === 'help') {
    process.stdout.write(workerUsage);
    return 0;
  }
  try {
    return await runWorkerCommand(parsed);
  } catch (error) {
    process.stderr.write(`lazypool worker: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitFailedFiles;
  }
}

// A reader that goes away (`lazypool hash dir | head`) ends the command quietly, as SIGPIPE ends sha256sum.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(141);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
