/**
 * The demo's data set, made on the spot in a temporary folder: synthetic photos, blobs of random
 * bytes, and the sources of a real JavaScript library (terser's own) copied from node_modules.
 * Nothing is downloaded.
 */
import { randomFillSync } from 'node:crypto';
import { copyFile, mkdir, open, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Pool } from '../src/index.js';
import type { ImageMime, SynthesizeInput } from '../workers/image.js';

/** How big the data set is. */
export type DataSize = 'small' | 'medium' | 'large';

/** Per size: the photos' dimensions and each blob's length. */
export const dataSizes: Record<DataSize, { photo: { width: number; height: number }; blobMiB: number }> = {
  small: { photo: { width: 1024, height: 768 }, blobMiB: 16 },
  medium: { photo: { width: 1600, height: 1200 }, blobMiB: 48 },
  large: { photo: { width: 2400, height: 1800 }, blobMiB: 128 },
};

/** The files made, by workload; an empty list for a workload that was not asked for. */
export interface DataSet {
  photos: string[];
  blobs: string[];
  modules: string[];
}

const distinctPhotos = 4;
const distinctBlobs = 4;

/** Makes the files the chosen workloads need under `folder`; `say` hears what is being made. */
export async function createDataSet(
  folder: string,
  size: DataSize,
  workloads: ReadonlySet<string>,
  threads: number,
  say: (text: string) => void,
): Promise<DataSet> {
  const { photo, blobMiB } = dataSizes[size];
  const set: DataSet = { photos: [], blobs: [], modules: [] };
  if (workloads.has('image')) {
    set.photos = await drawPhotos(join(folder, 'photos'), photo.width, photo.height, threads);
    say(`${set.photos.length} photos of ${photo.width}x${photo.height} (JPEG and PNG), drawn on ${threads} threads`);
  }
  if (workloads.has('hash')) {
    set.blobs = await writeBlobs(join(folder, 'blobs'), blobMiB);
    say(`${set.blobs.length} files of ${blobMiB} MiB of random bytes to hash`);
  }
  if (workloads.has('transform')) {
    set.modules = await copyLibrary(join(folder, 'modules'));
    say(`${set.modules.length} JavaScript modules to minify: terser's own sources, copied from node_modules`);
  }
  return set;
}

/** Draws the photos with the image worker's `synthesize`, in parallel: the library making its own test data. */
async function drawPhotos(folder: string, width: number, height: number, threads: number): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const pool = new Pool({ filename: new URL('../workers/image.ts', import.meta.url), maxThreads: threads, minThreads: threads });
  try {
    return await Promise.all(
      Array.from({ length: distinctPhotos }, async (_, index) => {
        // Mostly JPEG, as photos are; one PNG so both decoders get work.
        const mime: ImageMime = index === distinctPhotos - 1 ? 'image/png' : 'image/jpeg';
        const input: SynthesizeInput = { width, height, mime, seed: index + 1 };
        const bytes = await pool.submit<Uint8Array>(input, { name: 'synthesize' });
        const path = join(folder, `photo-${index + 1}.${mime === 'image/png' ? 'png' : 'jpg'}`);
        await writeFile(path, bytes);
        return path;
      }),
    );
  } finally {
    await pool.close();
  }
}

async function writeBlobs(folder: string, mebibytes: number): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const chunk = Buffer.allocUnsafe(1 << 20);
  const paths: string[] = [];
  for (let index = 1; index <= distinctBlobs; index++) {
    const path = join(folder, `blob-${index}.bin`);
    const file = await open(path, 'w');
    try {
      for (let written = 0; written < mebibytes; written++) await file.write(randomFillSync(chunk));
    } finally {
      await file.close();
    }
    paths.push(path);
  }
  return paths;
}

/** terser's `lib/` tree (ES modules), flattened into one folder. */
async function copyLibrary(folder: string): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const library = join(dirname(createRequire(import.meta.url).resolve('terser/package.json')), 'lib');
  const entries = await readdir(library, { recursive: true, withFileTypes: true });
  const sources = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  const paths: string[] = [];
  for (const source of sources) {
    const path = join(folder, source.slice(library.length + 1).replaceAll('/', '-'));
    await copyFile(source, path);
    paths.push(path);
  }
  return paths;
}
