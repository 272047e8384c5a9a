import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { minify as terserMinify, type MinifyOptions } from 'terser';
import { currentJob, stopIfCancelled } from './job.js';

/** The JavaScript to minify. */
export interface MinifyInput {
  /** The file to read; give this or `code`. */
  path?: string;
  /** The source text; give this or `path`. */
  code?: string;
  /** Name the source map records for the source; default the base name of `path`, else `'input.js'`. */
  filename?: string;
  /** Parse as an ES module (`import`/`export`, strict mode, top-level scope not global); default `false`. */
  module?: boolean;
  /** Default `true`. */
  compress?: boolean;
  /** Default `true`. */
  mangle?: boolean;
}

/** The minified code, its source map, and both sizes. */
export interface MinifyResult {
  filename: string;
  /** Ends with a `//# sourceMappingURL=<filename without .js>.min.js.map` comment. */
  code: string;
  /** The source map, as JSON text. */
  map: string;
  originalBytes: number;
  minifiedBytes: number;
}

/** Progress value sent by {@link minify} as each stage begins. */
export interface MinifyProgress {
  stage: 'read' | 'minify';
}

/**
 * Minifies JavaScript with terser 5 into code and a source map, the step build tools run on every
 * file in parallel. terser has no way to stop half-way, so a cancelled job stops only between
 * reading and minifying; past that, `abortGrace` decides.
 */
export default async function minify(input: MinifyInput): Promise<MinifyResult> {
  const job = currentJob();
  job.progress({ stage: 'read' } satisfies MinifyProgress);
  const code = input.code ?? (input.path === undefined ? undefined : await readFile(input.path, 'utf8'));
  if (code === undefined) throw new TypeError('minify needs `path` or `code`');
  const filename = input.filename ?? (input.path === undefined ? 'input.js' : basename(input.path));

  stopIfCancelled(job);
  job.progress({ stage: 'minify' } satisfies MinifyProgress);
  const output = await terserMinify({ [filename]: code }, minifyOptions(filename, input));
  if (output.code === undefined || typeof output.map !== 'string') {
    throw new Error(`terser returned no code or no source map for ${filename}`);
  }
  return {
    filename,
    code: output.code,
    map: output.map,
    originalBytes: Buffer.byteLength(code),
    minifiedBytes: Buffer.byteLength(output.code),
  };
}

/** The terser options {@link minify} uses; exported so that a caller can reproduce a result exactly. */
export function minifyOptions(filename: string, input: Pick<MinifyInput, 'module' | 'compress' | 'mangle'> = {}): MinifyOptions {
  const stem = filename.replace(/\.[cm]?js$/, '');
  return {
    module: input.module ?? false,
    compress: input.compress ?? true,
    mangle: input.mangle ?? true,
    sourceMap: { filename: `${stem}.min.js`, url: `${stem}.min.js.map` },
  };
}
