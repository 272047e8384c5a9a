import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Jimp, JimpMime } from 'jimp';
import { Pool } from '../src/index.js';
import type { SynthesizeInput, Thumbnail, ThumbnailInput, ThumbnailProgress } from '../workers/image.js';

const pool = new Pool({ filename: new URL('../workers/image.ts', import.meta.url), maxThreads: 2 });
let folder: string;

test.before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'lazypool-image-'));
});

test.after.always(async () => {
  await pool.close({ cancelQueued: true });
  await rm(folder, { recursive: true, force: true });
});

/** A test picture, drawn by the worker's own `synthesize` export and written to a file. */
async function picture(name: string, input: SynthesizeInput): Promise<{ path: string; bytes: Buffer }> {
  const bytes = Buffer.from(await pool.submit<Uint8Array>(input, { name: 'synthesize' }));
  const path = join(folder, name);
  await writeFile(path, bytes);
  return { path, bytes };
}

function thumbnail(input: ThumbnailInput, onProgress?: (value: unknown) => void) {
  return pool.submit<Thumbnail>(input, onProgress === undefined ? {} : { onProgress });
}

test('a PNG thumbnail has the fitted size and exactly the pixels of a resize done on the main thread', async (t) => {
  const source = await picture('wide.png', { width: 300, height: 200, mime: JimpMime.png, seed: 3 });
  const result = await thumbnail({ path: source.path, maxWidth: 64 });
  t.like(result, { mime: JimpMime.png, width: 64, height: 43, sourceWidth: 300, sourceHeight: 200 });

  const reference = await Jimp.fromBuffer(source.bytes);
  reference.resize({ w: 64, h: 43 });
  const decoded = await Jimp.fromBuffer(Buffer.from(result.bytes));
  t.is(decoded.width, 64);
  t.is(decoded.height, 43);
  t.true(Buffer.from(decoded.bitmap.data).equals(Buffer.from(reference.bitmap.data)));
});

test('a JPEG thumbnail is byte for byte the main thread encoding of the same resize, at the default quality 80', async (t) => {
  const source = await picture('tall.jpg', { width: 120, height: 360, mime: JimpMime.jpeg, seed: 5 });
  const result = await thumbnail({ image: source.bytes, maxWidth: 50, maxHeight: 100 });
  t.like(result, { mime: JimpMime.jpeg, width: 33, height: 100, sourceWidth: 120, sourceHeight: 360 });

  const reference = await Jimp.fromBuffer(source.bytes);
  reference.resize({ w: 33, h: 100 });
  t.true(Buffer.from(result.bytes).equals(await reference.getBuffer(JimpMime.jpeg, { quality: 80 })));
  const decoded = await Jimp.fromBuffer(Buffer.from(result.bytes));
  t.deepEqual([decoded.width, decoded.height], [33, 100]);
});

test('the format can change: a PNG source to a JPEG thumbnail', async (t) => {
  const source = await picture('to-jpeg.png', { width: 80, height: 80, mime: JimpMime.png, seed: 7 });
  const result = await thumbnail({ path: source.path, maxWidth: 40, mime: JimpMime.jpeg, quality: 60 });
  t.is(result.mime, JimpMime.jpeg);
  const decoded = await Jimp.fromBuffer(Buffer.from(result.bytes));
  t.is(decoded.mime, JimpMime.jpeg);
  t.deepEqual([decoded.width, decoded.height], [40, 40]);
});

test('an image that already fits keeps its size and its pixels: a thumbnail is never enlarged', async (t) => {
  const source = await picture('small.png', { width: 20, height: 10, mime: JimpMime.png, seed: 9 });
  const result = await thumbnail({ path: source.path, maxWidth: 256 });
  t.like(result, { width: 20, height: 10, sourceWidth: 20, sourceHeight: 10 });
  const original = await Jimp.fromBuffer(source.bytes);
  const decoded = await Jimp.fromBuffer(Buffer.from(result.bytes));
  t.true(Buffer.from(decoded.bitmap.data).equals(Buffer.from(original.bitmap.data)));
});

test('progress names each stage once, in order, before the handle settles', async (t) => {
  const source = await picture('stages.png', { width: 64, height: 64, mime: JimpMime.png });
  const stages: string[] = [];
  await thumbnail({ path: source.path, maxWidth: 16 }, (value) => stages.push((value as ThumbnailProgress).stage));
  t.deepEqual(stages, ['read', 'decode', 'resize', 'encode']);
});

test('synthesize draws the same picture for the same seed, and another for another seed', async (t) => {
  const input = { width: 32, height: 24, mime: JimpMime.png } as const;
  const [first, again, other] = await Promise.all([
    pool.submit<Uint8Array>({ ...input, seed: 1 }, { name: 'synthesize' }),
    pool.submit<Uint8Array>({ ...input, seed: 1 }, { name: 'synthesize' }),
    pool.submit<Uint8Array>({ ...input, seed: 2 }, { name: 'synthesize' }),
  ]);
  t.true(Buffer.from(first).equals(Buffer.from(again)));
  t.false(Buffer.from(first).equals(Buffer.from(other)));
});

test('bytes that are no image reject the job with the error jimp gives on the main thread', async (t) => {
  const bytes = Buffer.from('not an image at all');
  const expected = await Jimp.fromBuffer(bytes).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  t.truthy(expected);
  await t.throwsAsync(thumbnail({ image: new Uint8Array(bytes) }), { name: expected!.name, message: expected!.message });
});

test('a bad box size rejects with a RangeError naming the option', async (t) => {
  const source = await picture('bad-box.png', { width: 8, height: 8, mime: JimpMime.png });
  await t.throwsAsync(thumbnail({ path: source.path, maxWidth: 0 }), { name: 'RangeError', message: /maxWidth/ });
});
