import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { currentJob, stopIfCancelled } from './job.js';

/** What to hash. */
export interface HashInput {
  /**
   * The file. Bytes (a `Buffer` or `Uint8Array`) are accepted as well as a string so that file
   * names which are not valid UTF-8 reach the file system unchanged.
   */
  path: string | Uint8Array;
  /** Any algorithm `crypto.getHashes()` lists; default `'sha256'`. */
  algorithm?: string;
  /** Bytes read per step; default 1 MiB. Memory used by a job is about this much, whatever the file's size. */
  chunkSize?: number;
  /**
   * Default `true`. `false` sends no {@link HashProgress} at all: for a batch of small files that
   * nobody watches, two progress messages per file cost more than the hashing.
   */
  reportProgress?: boolean;
}

/** The digest of one file. */
export interface HashResult {
  path: string | Uint8Array;
  algorithm: string;
  /** Lower-case hexadecimal, as `sha256sum` prints it. */
  digest: string;
  /** How many bytes were hashed. */
  bytes: number;
}

/**
 * Progress value sent while hashing: bytes hashed so far, out of the size the file had when opened.
 * `delta` is what this report adds to the previous one of the same job, so that a caller watching
 * many jobs through one callback (a `pool.map`) can sum bytes without telling the jobs apart.
 */
export interface HashProgress {
  bytes: number;
  total: number;
  delta: number;
}

/** A file that could not be hashed, as {@link hashSettled} reports it. */
export interface HashFailure {
  path: string | Uint8Array;
  algorithm: string;
  /** Node's error code (`'ENOENT'`, `'EACCES'`, `'EISDIR'`, …) when the system gave one. */
  code?: string;
  message: string;
}

const defaultChunkSize = 1 << 20;
/**
 * A fast digest goes through well over a gigabyte a second, which would be a thousand progress
 * messages a second per job at 1 MiB chunks; the main thread needs a few per second to draw a bar.
 */
const progressIntervalMs = 50;

/**
 * Hashes a file in chunks (never holding it whole), reporting {@link HashProgress}, and stopping
 * early once the job is cancelled. Throws the file system's error (`ENOENT`, …).
 *
 * Synchronous on purpose: a worker thread is there to block, and its own blocking reads skip the
 * process-wide libuv pool (four threads, shared by every worker) and the round trip per `open`,
 * `stat`, `read` and `close` that the promise API costs. On a tree of 8,800 small files that was
 * 0.55 s against 2.0 s through plain Piscina. `cancelled()` is shared memory, so the loop still
 * sees a cancellation between chunks.
 */
export default function hash(input: HashInput): HashResult {
  const job = currentJob();
  const reporting = job.inPool && input.reportProgress !== false;
  const algorithm = input.algorithm ?? 'sha256';
  const chunkSize = input.chunkSize ?? defaultChunkSize;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
  // Validated before the file is opened, so an unknown algorithm is reported as such even for a missing file.
  const digest = createHash(algorithm);
  const file = openSync(toPath(input.path), 'r');
  try {
    const total = fstatSync(file).size;
    // A small file needs no 1 MiB buffer; a file that grows while read still fits through a small one.
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(chunkSize, total)));
    let bytes = 0;
    let reportedBytes = 0;
    let reportedAt = performance.now();
    if (reporting) job.progress({ bytes, total, delta: 0 } satisfies HashProgress);
    for (;;) {
      stopIfCancelled(job);
      const bytesRead = readSync(file, buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      digest.update(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      bytes += bytesRead;
      if (reporting && performance.now() - reportedAt >= progressIntervalMs) {
        reportedAt = performance.now();
        job.progress({ bytes, total, delta: bytes - reportedBytes } satisfies HashProgress);
        reportedBytes = bytes;
      }
    }
    // The last report says "done" unless a periodic one already said exactly that.
    if (reporting && (bytes !== reportedBytes || total !== bytes)) {
      job.progress({ bytes, total: Math.max(total, bytes), delta: bytes - reportedBytes } satisfies HashProgress);
    }
    return { path: input.path, algorithm, digest: digest.digest('hex'), bytes };
  } finally {
    closeSync(file);
  }
}

/**
 * Like the default export, but a file that cannot be read gives a {@link HashFailure} instead of
 * an error. For batches through `pool.map`, where one failing job would end the whole iteration:
 * `lazypool hash` reports an unreadable file and goes on with the others. An unknown algorithm or
 * a bad `chunkSize` still throws, since every other file would fail too.
 */
export function hashSettled(input: HashInput): HashResult | HashFailure {
  try {
    return hash(input);
  } catch (error) {
    // Only errors from a system call are about this one file; anything else (an unknown algorithm,
    // a cancellation) is thrown on.
    return failureOf(input.path, input.algorithm ?? 'sha256', error);
  }
}

/** Several files for one job: what `lazypool hash` sends, so that a small file costs no job of its own. */
export interface HashFilesInput {
  /** The files, hashed in this order; strings or bytes, as {@link HashInput.path}. */
  paths: (string | Uint8Array)[];
  /** Any algorithm `crypto.getHashes()` lists; default `'sha256'`. */
  algorithm?: string;
  /** Default `false`: when `true`, {@link HashFilesProgress} is reported at most every 50 ms and once at the end. */
  reportProgress?: boolean;
  /**
   * Default `false`. When `true`, a file of {@link largeFileBytes} or more that is not the only file
   * of the job ends the job before it is hashed: the result holds the files before it, and the
   * caller sends the rest again (that file alone, so that large files found in a walk are hashed
   * side by side). It costs nothing for most files: only one whose first read fills the 1 MiB
   * buffer has its size looked up.
   */
  stopBeforeLarge?: boolean;
}

/**
 * Progress value of {@link hashFiles}: files finished and bytes hashed so far in this job, and
 * `delta`, the bytes this report adds to the previous one (for a caller summing over many jobs).
 */
export interface HashFilesProgress {
  files: number;
  bytes: number;
  delta: number;
}

/** From this size on, {@link HashFilesInput.stopBeforeLarge} gives a file a job of its own: some 20 ms of hashing. */
export const largeFileBytes = 32 << 20;

/**
 * One buffer per thread for {@link hashFiles}: allocating it per file costs more than reading a
 * small file. Reads go straight into it and the digest copies what it needs, so reuse is safe.
 */
let readBuffer: Buffer | undefined;

/**
 * Hashes the files of `input.paths` in order and returns one entry per file: a
 * {@link HashResult}, or a {@link HashFailure} for a file that could not be read (as
 * {@link hashSettled}). With `stopBeforeLarge`, the list can end early (see there). An unknown
 * algorithm throws before any file is opened.
 *
 * Per file it costs `open`, one `read` per MiB plus the one that finds the end, and `close`: no
 * `fstat`, since nothing needs the size beforehand, and no allocation but the digest. Cancellation
 * is checked between files and between chunks.
 */
export function hashFiles(input: HashFilesInput): (HashResult | HashFailure)[] {
  const job = currentJob();
  const reporting = job.inPool && input.reportProgress === true;
  const algorithm = input.algorithm ?? 'sha256';
  createHash(algorithm);
  readBuffer ??= Buffer.allocUnsafe(defaultChunkSize);
  const buffer = readBuffer;
  const { paths } = input;
  const results: (HashResult | HashFailure)[] = [];
  let bytes = 0;
  let reportedBytes = 0;
  let reportedAt = performance.now();
  const report = (): void => {
    job.progress({ files: results.length, bytes, delta: bytes - reportedBytes } satisfies HashFilesProgress);
    reportedBytes = bytes;
    reportedAt = performance.now();
  };
  for (const path of paths) {
    stopIfCancelled(job);
    let file: number;
    try {
      file = openSync(toPath(path), 'r');
    } catch (error) {
      results.push(failureOf(path, algorithm, error));
      continue;
    }
    try {
      const digest = createHash(algorithm);
      let fileBytes = 0;
      for (;;) {
        const bytesRead = readSync(file, buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        if (fileBytes === 0 && bytesRead === buffer.length && input.stopBeforeLarge && paths.length > 1 && fstatSync(file).size >= largeFileBytes) {
          if (reporting) report();
          return results;
        }
        digest.update(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
        fileBytes += bytesRead;
        bytes += bytesRead;
        if (bytesRead === buffer.length) {
          stopIfCancelled(job);
          if (reporting && performance.now() - reportedAt >= progressIntervalMs) report();
        }
      }
      results.push({ path, algorithm, digest: digest.digest('hex'), bytes: fileBytes });
    } catch (error) {
      results.push(failureOf(path, algorithm, error));
    } finally {
      closeSync(file);
    }
  }
  if (reporting) report();
  return results;
}

/** A system call's error as the {@link HashFailure} of `path`; anything else (a cancellation) is thrown on. */
function failureOf(path: string | Uint8Array, algorithm: string, error: unknown): HashFailure {
  const systemError = error as NodeJS.ErrnoException | null;
  if (typeof systemError?.syscall !== 'string') throw error;
  return { path, algorithm, ...(systemError.code === undefined ? {} : { code: systemError.code }), message: systemError.message };
}

/** A structured clone turns a `Buffer` into a plain `Uint8Array`, which the fs typings do not take. */
function toPath(path: string | Uint8Array): string | Buffer {
  if (typeof path === 'string' || Buffer.isBuffer(path)) return path;
  return Buffer.from(path.buffer, path.byteOffset, path.byteLength);
}
