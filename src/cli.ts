#!/usr/bin/env node
/**
 * The `lazypool` command. One subcommand, `hash`: sha256sum's output, computed on worker threads.
 *
 * The walk, the pool and the output form one stream: `pool.map` pulls the next path from the
 * directory walk only when a slot is free and yields digests in input order, so a tree of 100,000
 * files costs memory for a few dozen jobs (plus the entries of the directory being read).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Pool } from './index.js';
import type { HashFailure, HashInput, HashProgress, HashResult } from '../workers/hash.js';

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

Run "lazypool hash --help" for its options.
`;

const hashUsage = `Usage: lazypool hash [options] <file or directory>...

Prints "<hex digest>  <path>" for each file, one line each, in the order given: byte for byte
what sha256sum (or md5sum, sha512sum, ...) prints, so "sha256sum -c" accepts the output. A path
containing a backslash, newline or carriage return is escaped, and its line starts with "\\",
as sha256sum does. Directories are walked recursively, the entries of each directory in byte
order of their names. Files are hashed in parallel on worker threads; the order of the output
does not depend on which finishes first.

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

Inside a walked directory, symbolic links to files are hashed, symbolic links to directories
are not followed, and FIFOs, sockets and devices are skipped; paths named on the command line
are always read. Standard input is never read: "-" is a file of that name. Put "--" before
paths that start with "-".

Exit status:
  0  every file was hashed
  1  some file could not be read: "lazypool: <path>: <reason>" on stderr; the others were
     still hashed and printed (or the hashing itself failed, with its reason on stderr)
  2  bad usage (unknown option, bad value, no path)
`;

/** A command line that cannot be run; reported with the usage text and exit status 2. */
class UsageError extends Error {}

/** What `lazypool hash` was asked to do. */
interface HashCommand {
  algorithm: string;
  threads: number;
  json: boolean;
  progress: boolean;
  paths: string[];
}

function parseHashCommand(args: string[]): HashCommand | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
      options: {
        algo: { type: 'string', short: 'a', default: 'sha256' },
        threads: { type: 'string', short: 'j' },
        json: { type: 'boolean', default: false },
        progress: { type: 'boolean' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';

  try {
    createHash(values.algo);
  } catch {
    throw new UsageError(`unknown digest algorithm '${values.algo}' (node -p "crypto.getHashes()" lists them)`);
  }
  let threads = availableParallelism();
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!/^\d+$/.test(values.threads) || !Number.isSafeInteger(threads) || threads < 1) {
      throw new UsageError(`--threads must be a positive integer, got '${values.threads}'`);
    }
  }
  if (positionals.length === 0) throw new UsageError('no file or directory given');
  return {
    algorithm: values.algo,
    threads,
    json: values.json,
    progress: values.progress ?? process.stderr.isTTY === true,
    paths: positionals,
  };
}

async function runHashCommand(command: HashCommand): Promise<number> {
  let failedFiles = 0;
  const bar = command.progress ? new ProgressBar(process.stderr) : undefined;
  // On a shared terminal the bar is lifted off its line before a digest is printed, then redrawn.
  const sharesTerminal = bar !== undefined && process.stdout.isTTY === true && process.stderr.isTTY === true;
  const print = async (line: Buffer): Promise<void> => {
    if (sharesTerminal) bar.clear();
    if (!process.stdout.write(line)) await once(process.stdout, 'drain');
    if (sharesTerminal) bar.draw();
  };
  const report = (path: Buffer, reason: string): void => {
    failedFiles++;
    bar?.clear();
    process.stderr.write(Buffer.concat([Buffer.from('lazypool: '), path, Buffer.from(`: ${reason}\n`)]));
    bar?.draw();
  };

  const pool = new Pool({ filename: hashWorker, maxThreads: command.threads, minThreads: command.threads });
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

  async function* jobs(): AsyncGenerator<HashInput> {
    for await (const path of filesToHash(command.paths, (directory, error) => report(directory, reasonOf(error)))) {
      // Progress costs two messages per file: asked for only when a bar will show it.
      yield { path: cloneablePath(path), algorithm: command.algorithm, reportProgress: bar !== undefined };
    }
  }

  try {
    const results = pool.map<HashResult | HashFailure>(jobs(), {
      ordered: true,
      name: 'hashSettled',
      ...(bar === undefined ? {} : { onProgress: (value: unknown) => bar.addBytes((value as HashProgress).delta) }),
    });
    for await (const outcome of results) {
      bar?.addFile();
      // The worker hands the path back, so nothing needs to remember the paths in flight.
      const path = Buffer.from(outcome.path);
      if ('digest' in outcome) {
        const { algorithm, digest, bytes } = outcome;
        await print(command.json ? jsonLine({ path: path.toString(), algorithm, digest, bytes }) : digestLine(digest, path));
      } else {
        const reason = reasonOf(outcome);
        if (command.json) {
          await print(jsonLine({ path: path.toString(), algorithm: outcome.algorithm, error: reason, code: outcome.code ?? null }));
        }
        report(path, reason);
      }
    }
  } finally {
    bar?.stop();
    process.off('SIGINT', onInterrupt);
    await pool.close({ cancelQueued: true });
  }
  return failedFiles > 0 ? exitFailedFiles : 0;
}

// ---------------------------------------------------------------------------------------------
// The walk. Paths are bytes (Buffers) from end to end, so that a file name which is not valid
// UTF-8 is opened and printed exactly as the file system holds it, as sha256sum does.

const slash = 0x2f;

/**
 * Every file to hash, in output order: each path as given, a directory replaced by the files under
 * it. A path that cannot even be examined is yielded anyway, so the worker's attempt to open it
 * reports the error in its place in the output order; a directory that cannot be listed is
 * reported through `onUnreadableDirectory`.
 */
async function* filesToHash(
  paths: readonly string[],
  onUnreadableDirectory: (directory: Buffer, error: unknown) => void,
): AsyncGenerator<Buffer> {
  for (const given of paths) {
    const path = Buffer.from(given);
    const stats = await stat(path).catch(() => undefined);
    if (stats?.isDirectory()) yield* filesInDirectory(path, onUnreadableDirectory);
    else yield path;
  }
}

async function* filesInDirectory(
  directory: Buffer,
  onUnreadableDirectory: (directory: Buffer, error: unknown) => void,
): AsyncGenerator<Buffer> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    onUnreadableDirectory(directory, error);
    return;
  }
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  const prefix = directory.at(-1) === slash ? directory : Buffer.concat([directory, Buffer.of(slash)]);
  for (const entry of entries) {
    const path = Buffer.concat([prefix, entry.name]);
    if (entry.isDirectory()) {
      yield* filesInDirectory(path, onUnreadableDirectory);
    } else if (entry.isFile()) {
      yield path;
    } else if (entry.isSymbolicLink()) {
      // Followed only to a file, so that a link cannot lead the walk round in a cycle. A dangling
      // link is yielded: reading it reports the error, as `sha256sum dir/*` would.
      const target = await stat(path).catch(() => undefined);
      if (target === undefined || target.isFile()) yield path;
    }
  }
}

/** How many files, and bytes, the walk will find: the progress bar's totals. */
async function countFiles(paths: readonly string[]): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const path of filesToHash(paths, () => {})) {
    files++;
    bytes += (await stat(path).catch(() => undefined))?.size ?? 0;
  }
  return { files, bytes };
}

/**
 * A path as the job input carries it: a string when the bytes are valid UTF-8 (almost always),
 * otherwise a copy in a buffer of its own, since cloning a `Buffer` from Node's shared pool
 * would copy the whole 8 KiB pool slab with it.
 */
function cloneablePath(path: Buffer): string | Uint8Array {
  const text = path.toString();
  return Buffer.byteLength(text) === path.length && Buffer.from(text).equals(path) ? text : new Uint8Array(path);
}

// ---------------------------------------------------------------------------------------------
// Output.

const backslash = 0x5c;
const newline = 0x0a;
const carriageReturn = 0x0d;

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

function jsonLine(record: object): Buffer {
  return Buffer.from(`${JSON.stringify(record)}\n`);
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

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === '--help' || command === '-h') {
    process.stdout.write(commandUsage);
    return 0;
  }
  if (command !== 'hash') {
    process.stderr.write(`${command === undefined ? '' : `lazypool: unknown command '${command}'\n`}${commandUsage}`);
    return exitUsage;
  }
  let parsed: HashCommand | 'help';
  try {
    parsed = parseHashCommand(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`lazypool hash: ${error.message}\n\n${hashUsage}`);
    return exitUsage;
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

// A reader that goes away (`lazypool hash dir | head`) ends the command quietly, as SIGPIPE ends sha256sum.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(141);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
