import { readFile } from 'node:fs/promises';
import { Jimp, JimpMime } from 'jimp';
import { currentJob, stopIfCancelled } from './job.js';

/** The two formats these examples read and write. */
export type ImageMime = typeof JimpMime.png | typeof JimpMime.jpeg;

/** What to make a thumbnail of, and how. */
export interface ThumbnailInput {
  /** The PNG or JPEG file to read; give this or `image`. */
  path?: string;
  /** The encoded PNG or JPEG bytes; give this or `path`. */
  image?: Uint8Array;
  /** The box the thumbnail must fit in, in pixels; default 256. */
  maxWidth?: number;
  /** Default: `maxWidth`. */
  maxHeight?: number;
  /** The thumbnail's format; default the source's. */
  mime?: ImageMime;
  /** JPEG quality, 1 to 100; default 80. */
  quality?: number;
}

/** An encoded thumbnail with its dimensions and those of the source. */
export interface Thumbnail {
  mime: ImageMime;
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
  /** The encoded thumbnail. */
  bytes: Uint8Array;
}

/** The steps of {@link thumbnail}, in order; each is reported through `progress()` as it begins. */
export const thumbnailStages = ['read', 'decode', 'resize', 'encode'] as const;

/** Progress value sent by {@link thumbnail}: the stage now starting, and its index among {@link thumbnailStages}. */
export interface ThumbnailProgress {
  stage: (typeof thumbnailStages)[number];
  step: number;
  steps: number;
}

/**
 * Decodes a PNG or JPEG, shrinks it to fit `maxWidth` x `maxHeight` keeping its aspect ratio (an
 * image that already fits keeps its size: a thumbnail is never larger than its source), and encodes
 * it. jimp is pure JavaScript, so all of it is work on the worker's CPU. Between stages it stops
 * if the job has been cancelled.
 */
export default async function thumbnail(input: ThumbnailInput): Promise<Thumbnail> {
  const job = currentJob();
  const report = (stage: ThumbnailProgress['stage']): void => {
    stopIfCancelled(job);
    job.progress({ stage, step: thumbnailStages.indexOf(stage), steps: thumbnailStages.length } satisfies ThumbnailProgress);
  };

  report('read');
  const encoded = input.image ?? (input.path === undefined ? undefined : await readFile(input.path));
  if (encoded === undefined) throw new TypeError('thumbnail needs `path` or `image`');

  report('decode');
  const image = await Jimp.fromBuffer(asBuffer(encoded));
  const sourceWidth = image.width;
  const sourceHeight = image.height;
  const sourceMime = image.mime === JimpMime.png ? JimpMime.png : JimpMime.jpeg;

  report('resize');
  const { width, height } = thumbnailSize(sourceWidth, sourceHeight, input.maxWidth ?? 256, input.maxHeight);
  if (width !== sourceWidth || height !== sourceHeight) image.resize({ w: width, h: height });

  report('encode');
  const mime = input.mime ?? sourceMime;
  const bytes =
    mime === JimpMime.jpeg
      ? await image.getBuffer(JimpMime.jpeg, { quality: input.quality ?? 80 })
      : await image.getBuffer(JimpMime.png);
  return { mime, width, height, sourceWidth, sourceHeight, bytes };
}

/**
 * The size {@link thumbnail} gives an image of `width` x `height`: scaled down by one factor to fit
 * the box, each side rounded and at least one pixel; never scaled up.
 */
export function thumbnailSize(
  width: number,
  height: number,
  maxWidth: number,
  maxHeight: number = maxWidth,
): { width: number; height: number } {
  for (const [name, value] of [['maxWidth', maxWidth], ['maxHeight', maxHeight]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/** What to draw with {@link synthesize}. */
export interface SynthesizeInput {
  width: number;
  height: number;
  mime: ImageMime;
  /** Same seed, same picture. */
  seed?: number;
  /** JPEG quality; default 90. */
  quality?: number;
}

/**
 * Draws a deterministic test picture (smooth gradients, rings and some noise, so that a codec has
 * real work to do) and encodes it: the demo and the tests make their images with this instead of
 * shipping binary files.
 */
export async function synthesize(input: SynthesizeInput): Promise<Uint8Array> {
  const { width, height, seed = 1 } = input;
  const image = new Jimp({ width, height });
  const pixels = image.bitmap.data;
  let noise = seed >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // xorshift32: cheap, seedable, and the same on every platform.
      noise ^= noise << 13;
      noise ^= noise >>> 17;
      noise ^= noise << 5;
      const grain = (noise >>> 0) % 24;
      const ring = Math.sin(Math.hypot(x - width / 2, y - height / 2) / (6 + (seed % 7))) * 48;
      const offset = (y * width + x) * 4;
      pixels[offset] = clampByte((255 * x) / width + ring + grain);
      pixels[offset + 1] = clampByte((255 * y) / height - ring + grain);
      pixels[offset + 2] = clampByte(((x ^ y) + seed * 37) % 256);
      pixels[offset + 3] = 255;
    }
  }
  return input.mime === JimpMime.jpeg
    ? await image.getBuffer(JimpMime.jpeg, { quality: input.quality ?? 90 })
    : await image.getBuffer(JimpMime.png);
}

function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
}

/** A structured clone delivers a `Buffer` as a plain `Uint8Array`; a view over the same memory, not a copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
