// Build step after tsc: the thread entry and everything it imports, as one CommonJS file
// (dist/src/thread/entry.cjs), which Piscina loads in each thread.
//
// Why one file: a thread pays for every module it loads before its first job. Loaded as tsc
// leaves them, the entry's seven ES modules took 13-15 ms of a fresh thread; the same code in
// one CommonJS file takes under 2 ms (node:v8 and node:module load on first use), with no ES
// module loader at all until the worker module itself is imported. Why CommonJS: Piscina require()s its filename, and Node 20's require() of
// an ES module can abort the whole process when the thread is ended while it loads.
//
// The copies of errors.js and job-context.js inside the bundle are a second copy of those
// modules in the thread, beside the one a worker module loads through `lazypool/worker`: the two
// agree through globalThis (see job-context.ts), as two installed copies of lazypool must anyway.
//
// Usage: node scripts/bundle-thread.mjs [dist folder, default dist] (tests that compile the
// package into a folder of their own run it on that folder).
import { join } from 'node:path';
import { build } from 'esbuild';

const dist = process.argv[2] ?? 'dist';
await build({
  entryPoints: [join(dist, 'src', 'thread', 'entry.js')],
  outfile: join(dist, 'src', 'thread', 'entry.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // tsc's source maps are read and carried through: the bundle's map points at src/*.ts.
  sourcemap: true,
  // import.meta.url, which the entry needs for createRequire, is the bundle's own URL.
  banner: { js: "const __lazypoolModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__lazypoolModuleUrl' },
  logLevel: 'warning',
});
