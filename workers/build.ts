/**
 * The stages of a small JavaScript build, one export per stage, as `npm run demo:build` drives
 * them (each file: parse, link, minify, gzip size; one summary after all):
 *
 * - {@link parse}: terser's parser on one ES module; what it imports and exports.
 * - {@link link}: a module's full export list (its `export *` followed through the modules it
 *   re-exports, whose own lists come from their link) and a check that every name it imports
 *   from another module of the build is exported there.
 * - {@link minify}: terser, as workers/transform.ts runs it (the same function), for an ES module.
 * - {@link gzipSize}: the gzip size of the minified code, as bundlers report it.
 * - {@link summary}: totals over every file's report.
 *
 * Plain data in and out: each stage can run on any thread, in any process, or be called directly.
 */
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { minify as terserMinify } from 'terser';
import transformMinify, { type MinifyResult } from './transform.js';

/** One `import … from`, `export … from` or bare `import '…'` statement of a module. */
export interface ParsedImport {
  /** As written: `'./job'`, `'@jimp/utils'`, `'node:fs'`. */
  specifier: string;
  /**
   * `import`: names it imports (`'default'` for a default import, `'*'` for a namespace);
   * `reexport`: names it re-exports (`export { a as b } from`: `'a'`); `star`: `export * from`
   * (no names: everything but the default); `side-effect`: `import '…'`.
   */
  kind: 'import' | 'reexport' | 'star' | 'side-effect';
  names: string[];
}

export interface ParseInput {
  /** The name the build knows the file by (a path relative to node_modules). */
  file: string;
  /** Read from here, unless `code` is given. */
  path?: string;
  /** The source text (an edited file that was not written to disk). */
  code?: string;
}

export interface ParseResult {
  file: string;
  /** Size of the source in bytes (UTF-8). */
  bytes: number;
  imports: ParsedImport[];
  /**
   * The names the module exports itself (declarations, `export { x as y }`, `export default`,
   * `export { a as b } from`, `export * as ns from`): without what `export *` brings in, which
   * only {@link link} knows.
   */
  exports: string[];
  /** Top-level statements: a rough measure of the module's size as code. */
  statements: number;
}

/** A terser AST node, as far as this module reads one. */
interface Node {
  TYPE: string;
  [key: string]: unknown;
}

function nameOf(node: unknown): string {
  return (node as { name: string }).name;
}

/** Every name a declaration binds: `const a = 1, { b, c: [d] } = …` gives a, b, d. */
function boundNames(node: unknown, into: string[]): void {
  if (node === null || node === undefined || typeof node !== 'object') return;
  const current = node as Node;
  if (current.TYPE.startsWith('Symbol')) {
    into.push(nameOf(current));
    return;
  }
  // Destructuring patterns: AST_Destructuring (names), AST_ObjectKeyVal (value),
  // AST_DefaultAssign (left), AST_Expansion (expression).
  if (Array.isArray(current.names)) for (const child of current.names) boundNames(child, into);
  if (current.TYPE === 'ObjectKeyVal') boundNames(current.value, into);
  if (current.TYPE === 'DefaultAssign') boundNames(current.left, into);
  if (current.TYPE === 'Expansion') boundNames(current.expression, into);
}

/** Parses one ES module with terser's parser and lists its imports and own exports. */
export async function parse(input: ParseInput): Promise<ParseResult> {
  const code = input.code ?? (input.path === undefined ? undefined : await readFile(input.path, 'utf8'));
  if (code === undefined) throw new TypeError('parse needs `path` or `code`');
  // terser's minify with nothing to do but parse, keeping the AST: its parser is not exported alone.
  const output = await terserMinify(
    { [input.file]: code },
    { module: true, compress: false, mangle: false, format: { ast: true, code: false } } as Parameters<typeof terserMinify>[1],
  );
  const body = ((output as { ast?: { body: Node[] } }).ast?.body ?? []) as Node[];
  const imports: ParsedImport[] = [];
  const exports: string[] = [];
  for (const statement of body) {
    const specifier = (statement.module_name as { value?: string } | undefined)?.value;
    if (statement.TYPE === 'Import') {
      const names: string[] = [];
      if (statement.imported_name) names.push('default');
      const mapped = statement.imported_names as { foreign_name: unknown }[] | null | undefined;
      for (const mapping of mapped ?? []) names.push(nameOf(mapping.foreign_name));
      imports.push({ specifier: specifier!, kind: names.length === 0 ? 'side-effect' : 'import', names });
    } else if (statement.TYPE === 'Export') {
      // In an export's name mapping `foreign_name` is the exported name, `name` the local one.
      const mapped = statement.exported_names as { foreign_name: unknown; name: unknown }[] | null | undefined;
      if (statement.is_default) exports.push('default');
      if (statement.exported_definition) {
        const definition = statement.exported_definition as Node;
        if (Array.isArray(definition.definitions)) {
          for (const declaration of definition.definitions as Node[]) boundNames(declaration.name, exports);
        } else if (definition.name) {
          exports.push(nameOf(definition.name));
        }
      }
      if (specifier === undefined) {
        for (const mapping of mapped ?? []) exports.push(nameOf(mapping.foreign_name));
        continue;
      }
      const reexported: string[] = [];
      let star = false;
      for (const mapping of mapped ?? []) {
        const exported = nameOf(mapping.foreign_name);
        const local = nameOf(mapping.name);
        if (local === '*' && exported === '*') star = true;
        else {
          exports.push(exported);
          if (local !== '*') reexported.push(local);
        }
      }
      if (star) imports.push({ specifier, kind: 'star', names: [] });
      if (reexported.length > 0 || !star) imports.push({ specifier, kind: 'reexport', names: reexported });
    }
  }
  return { file: input.file, bytes: Buffer.byteLength(code), imports, exports: [...new Set(exports)].sort(), statements: body.length };
}

/** What {@link link} knows of a module one of its imports resolved to. */
export interface LinkedModule {
  file: string;
  /** Its full export list, or its own exports only when it could not be linked first (an import cycle). */
  exports: string[];
  /** Some of its exports are unknown: it has an `export *` from outside the build, or it was not linked first. */
  open: boolean;
}

export interface LinkInput {
  file: string;
  parsed: ParseResult;
  /**
   * For each specifier the module imports: the module of the build it resolved to, `'external'`
   * (a package or built-in outside the build, not checked), or absent when the build's scan did
   * not see that import (reported as `unscanned`: the build's graph has no edge for it).
   */
  resolved: Record<string, LinkedModule | 'external'>;
}

export interface LinkResult {
  file: string;
  /** Every name the module exports, `export *` followed. */
  exports: string[];
  /** Some names it exports cannot be known here (an `export *` from outside the build or across a cycle). */
  open: boolean;
  /** Imported or re-exported names checked against the module they come from. */
  checked: number;
  /** `'<specifier>: <name>'` for each name imported from a module of the build that does not export it. */
  missing: string[];
  /** Specifiers the parse found that the build's scan did not: a bug in the scan, never expected. */
  unscanned: string[];
  /** Specifiers the build's scan found that the parse did not (an edge of the graph for nothing): never expected. */
  phantom: string[];
}

/** Links one module: its full export list, and its imports checked against their modules. */
export function link(input: LinkInput): LinkResult {
  const exports = new Set(input.parsed.exports);
  let open = false;
  let checked = 0;
  const missing: string[] = [];
  const unscanned: string[] = [];
  for (const entry of input.parsed.imports) {
    const target = input.resolved[entry.specifier];
    if (target === undefined) {
      if (!unscanned.includes(entry.specifier)) unscanned.push(entry.specifier);
      continue;
    }
    if (target === 'external') {
      if (entry.kind === 'star') open = true;
      continue;
    }
    if (entry.kind === 'star') {
      for (const name of target.exports) if (name !== 'default') exports.add(name);
      open ||= target.open;
      continue;
    }
    const known = new Set(target.exports);
    for (const name of entry.names) {
      if (name === '*') continue;
      checked++;
      if (!known.has(name) && !target.open) missing.push(`${entry.specifier}: ${name}`);
    }
  }
  const parsed = new Set(input.parsed.imports.map((entry) => entry.specifier));
  const phantom = Object.keys(input.resolved).filter((specifier) => !parsed.has(specifier));
  return { file: input.file, exports: [...exports].sort(), open, checked, missing, unscanned, phantom };
}

export interface MinifyInput {
  file: string;
  path?: string;
  code?: string;
}

/** terser, exactly as workers/transform.ts runs it, on an ES module; the source map comes along. */
export function minify(input: MinifyInput): Promise<MinifyResult> {
  return transformMinify({ path: input.path, code: input.code, filename: input.file, module: true });
}

/** The zlib level bundlers report gzip sizes at (gzip-size, size-limit, Vite). */
export const gzipLevel = 9;

export interface GzipInput {
  file: string;
  /** The minified code. */
  code: string;
  /** Carried through to the report: the source's size. */
  originalBytes: number;
}

/** One file's line of the build report. */
export interface FileReport {
  file: string;
  originalBytes: number;
  minifiedBytes: number;
  gzipBytes: number;
}

/** The gzip size (level {@link gzipLevel}) of minified code, and the file's other sizes. */
export function gzipSize(input: GzipInput): FileReport {
  return {
    file: input.file,
    originalBytes: input.originalBytes,
    minifiedBytes: Buffer.byteLength(input.code),
    gzipBytes: gzipSync(input.code, { level: gzipLevel }).byteLength,
  };
}

export interface SummaryInput {
  reports: FileReport[];
  links: LinkResult[];
}

export interface BuildSummary {
  files: number;
  originalBytes: number;
  minifiedBytes: number;
  gzipBytes: number;
  /** The five largest files after gzip, largest first. */
  largest: FileReport[];
  importsChecked: number;
  /** `'<file>: <specifier>: <name>'` for every import that did not link. */
  missing: string[];
  unscanned: string[];
  phantom: string[];
}

/** Totals over every file's report and link, once all are done. */
export function summary(input: SummaryInput): BuildSummary {
  const sum = (field: 'originalBytes' | 'minifiedBytes' | 'gzipBytes') => input.reports.reduce((total, report) => total + report[field], 0);
  return {
    files: input.reports.length,
    originalBytes: sum('originalBytes'),
    minifiedBytes: sum('minifiedBytes'),
    gzipBytes: sum('gzipBytes'),
    largest: [...input.reports].sort((a, b) => b.gzipBytes - a.gzipBytes || (a.file < b.file ? -1 : 1)).slice(0, 5),
    importsChecked: input.links.reduce((total, result) => total + result.checked, 0),
    missing: input.links.flatMap((result) => result.missing.map((entry) => `${result.file}: ${entry}`)),
    unscanned: input.links.flatMap((result) => result.unscanned.map((entry) => `${result.file}: ${entry}`)),
    phantom: input.links.flatMap((result) => result.phantom.map((entry) => `${result.file}: ${entry}`)),
  };
}
