import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { minify } from 'terser';
import { Pool } from '../src/index.js';
import type { MinifyProgress, MinifyResult } from '../workers/transform.js';

const pool = new Pool({ filename: new URL('../workers/transform.ts', import.meta.url), maxThreads: 2 });
let folder: string;
/** terser's own sources: real library code, ES modules. */
const terserLib = join(dirname(createRequire(import.meta.url).resolve('terser/package.json')), 'lib');

test.before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'lazypool-transform-'));
});

test.after.always(async () => {
  await pool.close({ cancelQueued: true });
  await rm(folder, { recursive: true, force: true });
});

test('minifying a real library module gives what terser called directly gives: code and source map', async (t) => {
  for (const file of ['size.js', 'sourcemap.js', 'equivalent-to.js']) {
    const path = join(terserLib, file);
    const result = await pool.submit<MinifyResult>({ path, module: true });
    const stem = file.replace(/\.js$/, '');
    const expected = await minify(
      { [file]: await readFile(path, 'utf8') },
      { module: true, compress: true, mangle: true, sourceMap: { filename: `${stem}.min.js`, url: `${stem}.min.js.map` } },
    );
    t.deepEqual({ code: result.code, map: result.map }, { code: expected.code, map: expected.map }, file);
    t.is(result.filename, file);
  }
});

test('a script given as code: sizes, the source map names its source, the code points at the map', async (t) => {
  const code = `function add(first, second) {\n  const total = first + second;\n  return total;\n}\nconsole.log(add(1, 2));\n`;
  const result = await pool.submit<MinifyResult>({ code, filename: 'add.js' });
  t.is(result.originalBytes, Buffer.byteLength(code));
  t.is(result.minifiedBytes, Buffer.byteLength(result.code));
  t.true(result.minifiedBytes < result.originalBytes);
  t.true(result.code.endsWith('//# sourceMappingURL=add.min.js.map'));
  const map = JSON.parse(result.map) as { version: number; file: string; sources: string[]; sourcesContent?: string[] };
  t.is(map.version, 3);
  t.is(map.file, 'add.min.js');
  t.deepEqual(map.sources, ['add.js']);
});

test('compress and mangle can be turned off, as in terser', async (t) => {
  const code = 'function keep(longName) { if (true) { return longName * 2; } }\n';
  const path = join(folder, 'keep.js');
  await writeFile(path, code);
  const result = await pool.submit<MinifyResult>({ path, compress: false, mangle: false });
  const expected = await minify({ 'keep.js': code }, {
    module: false,
    compress: false,
    mangle: false,
    sourceMap: { filename: 'keep.min.js', url: 'keep.min.js.map' },
  });
  t.deepEqual({ code: result.code }, { code: expected.code });
  t.regex(result.code, /longName/);
});

test('progress reports reading, then minifying', async (t) => {
  const stages: string[] = [];
  await pool.submit<MinifyResult>(
    { code: 'let a = 1; console.log(a);' },
    { onProgress: (value) => stages.push((value as MinifyProgress).stage) },
  );
  t.deepEqual(stages, ['read', 'minify']);
});

test('a syntax error rejects with terser\'s own SyntaxError, name and message intact', async (t) => {
  const code = 'a = ;';
  const expected = await minify({ 'broken.js': code }).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  t.is(expected?.name, 'SyntaxError');
  await t.throwsAsync(pool.submit({ code, filename: 'broken.js' }), { name: 'SyntaxError', message: expected!.message });
});
