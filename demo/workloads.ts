/**
 * The three workloads as the demo drives them: which worker file, which inputs make the backlog,
 * which job is urgent and which important, and how to read each worker's progress values.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSet } from './dataset.js';
import type { HashInput, HashProgress } from '../workers/hash.js';
import type { ThumbnailInput, ThumbnailProgress } from '../workers/image.js';
import type { MinifyInput, MinifyProgress } from '../workers/transform.js';

/** Names accepted by `--workloads`. */
export const workloadNames = ['image', 'hash', 'transform'] as const;
export type WorkloadName = (typeof workloadNames)[number];

/** One job of a scenario: what the worker gets, and how the demo shows it. */
export interface DemoJob {
  input: unknown;
  label: string;
}

/** A workload, with the story the demo tells about it. */
export interface Workload {
  name: WorkloadName;
  title: string;
  worker: URL;
  /** A small job run once per thread first, so module loading is not counted as job time. */
  warmup: unknown;
  backlog: DemoJob[];
  /** Submitted after the whole backlog, then promoted. */
  urgent: DemoJob;
  /** Submitted after the urgent one, then raised to priority 10. */
  important: DemoJob;
  story: string;
  /** A job's progress value as a short text and a fraction done. */
  describe(progress: unknown): { text: string; fraction: number };
}

/** The backlog cycles through the distinct files: what matters is a realistic amount of queued work. */
function cycle<T>(items: readonly T[], length: number): T[] {
  return Array.from({ length }, (_, index) => items[index % items.length]);
}

/** The workloads for this data set, with `backlog` jobs each. */
export function workloads(data: DataSet, backlog: number): Record<WorkloadName, Workload | undefined> {
  const image: Workload | undefined =
    data.photos.length === 0
      ? undefined
      : {
          name: 'image',
          title: 'thumbnails (jimp: decode, resize, encode)',
          worker: new URL('../workers/image.ts', import.meta.url),
          // A JPEG, as most of the backlog is: its decoder is what needs warming up.
          warmup: { path: data.photos[0], maxWidth: 8 } satisfies ThumbnailInput,
          backlog: cycle(data.photos, backlog).map((path, index) => ({
            input: { path, maxWidth: 256 } satisfies ThumbnailInput,
            label: `thumbnail ${index + 1} (${basename(path)})`,
          })),
          urgent: { input: { path: data.photos[0], maxWidth: 1024 } satisfies ThumbnailInput, label: `preview of the photo the user clicked` },
          important: { input: { path: data.photos[1], maxWidth: 512 } satisfies ThumbnailInput, label: 'the photo under the pointer' },
          story: 'a gallery queues a thumbnail per photo; the user clicks one (promote), points at another (priority), then leaves the page (cancel the rest)',
          describe(progress) {
            const { stage, step, steps } = progress as ThumbnailProgress;
            return { text: `${stage} ${step + 1}/${steps}`, fraction: step / steps };
          },
        };
  const hash: Workload | undefined =
    data.blobs.length === 0
      ? undefined
      : {
          name: 'hash',
          title: 'file digests (sha3-512, read in 1 MiB chunks)',
          worker: new URL('../workers/hash.ts', import.meta.url),
          warmup: { path: fileURLToPath(import.meta.url), algorithm: 'sha3-512' } satisfies HashInput,
          backlog: cycle(data.blobs, backlog).map((path, index) => ({
            // sha3-512 rather than sha256: slow enough that one file is a visible amount of CPU work.
            input: { path, algorithm: 'sha3-512' } satisfies HashInput,
            label: `verify download ${index + 1} (${basename(path)})`,
          })),
          urgent: { input: { path: data.blobs[0], algorithm: 'sha3-512' } satisfies HashInput, label: 'the file the user is about to open' },
          important: { input: { path: data.blobs[1], algorithm: 'sha3-512' } satisfies HashInput, label: 'the file the user selected' },
          story: 'a sync client verifies every download; the user opens one (promote), selects another (priority), then pauses sync (cancel the rest)',
          describe(progress) {
            const { bytes, total } = progress as HashProgress;
            const fraction = total === 0 ? 1 : bytes / total;
            return { text: `${Math.round(fraction * 100)}% of ${(total / 2 ** 20).toFixed(0)} MiB`, fraction };
          },
        };
  const transform: Workload | undefined =
    data.modules.length === 0
      ? undefined
      : {
          name: 'transform',
          title: "minify (terser 5, with source maps) terser's own modules",
          worker: new URL('../workers/transform.ts', import.meta.url),
          warmup: { code: 'export const warm = 1;', module: true } satisfies MinifyInput,
          backlog: cycle(data.modules, backlog).map((path, index) => ({
            input: { path, module: true } satisfies MinifyInput,
            label: `module ${index + 1} (${basename(path)})`,
          })),
          urgent: { input: { path: pick(data.modules, 'scope.js'), module: true } satisfies MinifyInput, label: 'the module the dev server is waiting for' },
          important: { input: { path: pick(data.modules, 'output.js'), module: true } satisfies MinifyInput, label: 'the module open in the editor' },
          story: 'a build queues every module; the dev server needs one now (promote), the editor another (priority), then the build is restarted (cancel the rest)',
          describe(progress) {
            const { stage } = progress as MinifyProgress;
            return { text: stage, fraction: stage === 'read' ? 0 : 0.5 };
          },
        };
  return { image, hash, transform };
}

function pick(paths: readonly string[], name: string): string {
  return paths.find((path) => basename(path) === name) ?? paths[0];
}
