/**
 * `npm run demo:build`: a build of real packages from node_modules as a graph of lazypool jobs.
 *
 * Every ES module of the chosen package trees (default: jimp with its @jimp/* packages, bullmq,
 * terser; 252 files, 2.3 MiB) goes through four jobs on worker threads (workers/build.ts):
 *
 *   parse(F)  ->  minify(F)  ->  gzip(F)                        the size report of F
 *   parse(F)  ->  link(F), which also waits for link(G) for every module G that F imports
 *
 * and one summary job waits for every report and link. link(F) needs the full export lists of the
 * modules F imports (an `export *` brings in whatever the re-exported module exports, its own
 * `export *` included), so the link jobs follow the real import edges: chains as deep as the
 * import graph (a dozen jobs in bullmq). The edges are known before any job runs, from a scan of
 * each file's import statements on the main thread (as bundlers pre-scan with a lexer), so the
 * whole graph is submitted at once and the pool orders it with `criticalPath: true`: the jobs with
 * the longest chains of dependants waiting on them go first. An import that closes a cycle cannot
 * wait for its own link: that module is linked against the other's own exports (its parse).
 *
 * `--watch` then plays a scripted editing session on top of the build (no file system watching:
 * the edits are made in memory, in a fixed order, at fixed times, and the run ends by itself):
 * a file is opened in the editor (its report and everything it waits for are promoted), and
 * another is saved twice (each save makes the jobs of the save before it stale: they are
 * cancelled, and their dependants fail with DependencyError without running).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CancelledError, DependencyError, Pool, type JobHandle } from '../src/index.js';
import type { MinifyResult } from '../workers/transform.js';
import type {
  BuildSummary,
  FileReport,
  GzipInput,
  LinkedModule,
  LinkInput,
  LinkResult,
  MinifyInput,
  ParseInput,
  ParseResult,
  SummaryInput,
} from '../workers/build.js';
import { seconds, style } from './screen.js';

const worker = new URL('../workers/build.ts', import.meta.url);
const require = createRequire(import.meta.url);

/**
 * The package trees the demo can build: a root package, the dependencies of it that belong to the
 * tree (followed transitively), and where each keeps its ES modules.
 */
const trees = {
  jimp: { root: 'jimp', member: (name: string) => name.startsWith('@jimp/'), folders: ['dist/esm'] },
  bullmq: { root: 'bullmq', member: () => false, folders: ['dist/esm'] },
  terser: { root: 'terser', member: () => false, folders: ['lib', 'main.js'] },
} as const;
type TreeName = keyof typeof trees;
const treeNames = Object.keys(trees) as TreeName[];

const defaultThreads = Math.min(availableParallelism(), 8);

/** The watch script: when each step happens, in ms after the build was submitted. */
const script = { openAt: 20, firstSaveAt: 50, secondSaveAt: 100 } as const;

const usage = `Usage: npm run demo:build -- [options]

Builds the ES modules of real packages from node_modules on worker threads: parse, minify and
gzip size per file, link checks along the real import edges, one summary after all.

Options:
  -p, --packages <list>   comma-separated, any of ${treeNames.join(', ')}. Default: all
                            jimp    jimp and its @jimp/* packages, dist/esm
                            bullmq  bullmq, dist/esm
                            terser  terser, lib/ and main.js
  -q, --quick             jimp only (a small build, for a quick look and the tests)
  -w, --watch             then a scripted editing session (in memory, no file watching, a few
                          seconds): open a file in the editor (promoted with its chain), save
                          another twice (the first save's jobs become stale: cancelled, never run)
  -j, --threads <n>       worker threads. Default: ${defaultThreads} (this machine, at most 8)
      --submission-order  ready jobs in submission order, lazypool's default, instead of
                          criticalPath: true (to compare makespans)
      --json <file>       also write every figure and each file's report to <file>
  -h, --help              print this help
`;

interface Options {
  packages: TreeName[];
  watch: boolean;
  threads: number;
  criticalPath: boolean;
  json: string | undefined;
}

function parseOptions(args: string[]): Options | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      packages: { type: 'string', short: 'p' },
      quick: { type: 'boolean', short: 'q', default: false },
      watch: { type: 'boolean', short: 'w', default: false },
      threads: { type: 'string', short: 'j' },
      'submission-order': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument '${positionals[0]}'`);
  if (values.quick && values.packages !== undefined) throw new Error('--quick and --packages do not go together');
  const chosen = values.quick ? ['jimp'] : (values.packages ?? treeNames.join(',')).split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of chosen) {
    if (!(treeNames as string[]).includes(name)) throw new Error(`--packages takes ${treeNames.join(', ')}; got '${name}'`);
  }
  if (chosen.length === 0) throw new Error('--packages names no package');
  const threadsText = values.threads ?? String(defaultThreads);
  const threads = Number(threadsText);
  if (!/^\d+$/.test(threadsText) || threads < 1) throw new Error(`--threads must be a positive integer, got '${threadsText}'`);
  return {
    packages: treeNames.filter((name) => chosen.includes(name)),
    watch: values.watch,
    threads,
    criticalPath: !values['submission-order'],
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------
// The files and their import graph, found on the main thread before any job runs.

interface SourceFile {
  /** Its path from node_modules: `bullmq/dist/esm/classes/job.js`. */
  readonly file: string;
  readonly path: string;
  /** The package it belongs to, and the tree it was found in. */
  readonly pkg: string;
  readonly tree: TreeName;
  /** Each specifier its import statements name, resolved: a file of the build, or 'external'. */
  readonly resolved: Map<string, string | 'external'>;
  /** The files of the build it imports (each once). */
  readonly imports: string[];
}

interface PackageInfo {
  readonly name: string;
  readonly directory: string;
  readonly manifest: { exports?: unknown; module?: string; main?: string; dependencies?: Record<string, string> };
}

function packageInfo(name: string, from: string): PackageInfo {
  const manifestPath = createRequire(from).resolve(`${name}/package.json`);
  return { name, directory: dirname(manifestPath), manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) };
}

/** The package and its dependencies that belong to `tree`, followed transitively. */
function packagesOf(tree: TreeName): PackageInfo[] {
  const recipe = trees[tree];
  const found = new Map<string, PackageInfo>();
  const visit = (name: string, from: string) => {
    if (found.has(name)) return;
    const info = packageInfo(name, from);
    found.set(name, info);
    for (const dependency of Object.keys(info.manifest.dependencies ?? {}).sort()) {
      if (recipe.member(dependency)) visit(dependency, join(info.directory, 'package.json'));
    }
  };
  visit(recipe.root, fileURLToPath(import.meta.url));
  return [...found.values()];
}

function javascriptFiles(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.js') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => javascriptFiles(join(path, entry)));
}

/** The target of a package's `exports` entry for an ES module import (conditions import, then default). */
function exportTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const conditions = entry as Record<string, unknown>;
  for (const condition of ['import', 'default']) {
    if (condition in conditions) {
      const target = exportTarget(conditions[condition]);
      if (target !== undefined) return target;
    }
  }
  return undefined;
}

/**
 * The specifiers of a module's static import and re-export statements, found by a regular
 * expression on statements that begin a line, as in every package's dist code (so that an example
 * in a comment, ` * import { Jimp } from "jimp"`, is not taken for one); dynamic `import()` is not
 * an edge of the build. The parse job lists them again from the AST, and each link reports a
 * difference (`unscanned`, `phantom`), so a wrong scan cannot go unseen.
 */
const importStatement =
  /^[ \t]*(?:import|export)\s*(?:(?:[\w$]+\s*,?\s*)?(?:\*\s*(?:as\s+[\w$]+\s*)?|\{[^}]*\}\s*)?from\s*)?(['"])([^'"\n]+)\1/gm;

function scanImports(code: string): string[] {
  return [...new Set([...code.matchAll(importStatement)].map((match) => match[2]!))];
}

interface Graph {
  readonly files: Map<string, SourceFile>;
  /** Files in an order where each comes after the files it imports (cycles aside). */
  readonly order: string[];
  /** `from -> to` import edges that close a cycle: link(from) uses parse(to) instead of link(to). */
  readonly cycleEdges: Set<string>;
  readonly externalImports: number;
}

function loadGraph(treesWanted: readonly TreeName[]): Graph {
  const nodeModules = resolve(dirname(require.resolve('terser/package.json')), '..');
  const files = new Map<string, SourceFile>();
  const packages = new Map<string, { info: PackageInfo; tree: TreeName }>();
  const sources = new Map<string, string>();
  for (const tree of treesWanted) {
    for (const info of packagesOf(tree)) {
      packages.set(info.name, { info, tree });
      for (const folder of trees[tree].folders) {
        for (const path of javascriptFiles(join(info.directory, folder))) {
          const file = relative(nodeModules, path).split(sep).join('/');
          sources.set(file, readFileSync(path, 'utf8'));
          files.set(file, { file, path, pkg: info.name, tree, resolved: new Map(), imports: [] });
        }
      }
    }
  }
  const byPath = new Map([...files.values()].map((source) => [source.path, source.file]));
  const resolveSpecifier = (source: SourceFile, specifier: string): string | 'external' => {
    if (specifier.startsWith('.')) {
      const base = resolve(dirname(source.path), specifier);
      for (const candidate of [base, `${base}.js`, join(base, 'index.js')]) {
        const file = byPath.get(candidate);
        if (file !== undefined) return file;
      }
      return 'external'; // a file of the package outside the folders built (terser's tools/)
    }
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    const target = packages.get(name);
    if (target === undefined) return 'external';
    const subpath = `.${specifier.slice(name.length)}`;
    const manifest = target.info.manifest;
    const entry = manifest.exports === undefined ? (subpath === '.' ? (manifest.module ?? manifest.main) : subpath) : exportTarget((manifest.exports as Record<string, unknown>)[subpath]);
    return (entry === undefined ? undefined : byPath.get(resolve(target.info.directory, entry))) ?? 'external';
  };
  let externalImports = 0;
  for (const source of files.values()) {
    for (const specifier of scanImports(sources.get(source.file)!)) {
      const target = resolveSpecifier(source, specifier);
      source.resolved.set(specifier, target);
      if (target === 'external') externalImports++;
      else if (target !== source.file && !source.imports.includes(target)) source.imports.push(target);
    }
  }
  // Depth-first, in file order: post-order puts each file after what it imports; an edge to a
  // file still on the stack closes a cycle.
  const order: string[] = [];
  const cycleEdges = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string) => {
    state.set(file, 'open');
    for (const target of files.get(file)!.imports) {
      const seen = state.get(target);
      if (seen === 'open') cycleEdges.add(`${file} -> ${target}`);
      else if (seen === undefined) visit(target);
    }
    state.set(file, 'done');
    order.push(file);
  };
  for (const file of files.keys()) if (!state.has(file)) visit(file);
  return { files, order, cycleEdges, externalImports };
}

/** Every file `file` imports, directly or not. */
function importClosure(graph: Graph, file: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...graph.files.get(file)!.imports];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...graph.files.get(next)!.imports);
  }
  return seen;
}

/** Files that import `file`, directly or not, in the graph's order (what they import first). */
function importersOf(graph: Graph, file: string): string[] {
  const importedBy = new Map<string, string[]>();
  for (const source of graph.files.values()) {
    for (const target of source.imports) importedBy.set(target, [...(importedBy.get(target) ?? []), source.file]);
  }
  const importers = new Set<string>();
  const stack = [file];
  while (stack.length > 0) {
    for (const importer of importedBy.get(stack.pop()!) ?? []) {
      if (importer !== file && !importers.has(importer)) {
        importers.add(importer);
        stack.push(importer);
      }
    }
  }
  return graph.order.filter((other) => importers.has(other));
}

// ---------------------------------------------------------------------------------------------
// The build: jobs on a lazypool pool, tracked per file.

type Stage = 'parse' | 'link' | 'minify' | 'gzip' | 'summary';

interface TrackedJob {
  readonly stage: Stage;
  readonly file: string;
  readonly handle: JobHandle;
}

interface Current {
  parse: JobHandle<ParseResult>;
  link: JobHandle<LinkResult>;
  minify: JobHandle<MinifyResult>;
  gzip: JobHandle<FileReport>;
}

class Build {
  readonly pool: Pool;
  readonly jobs: TrackedJob[] = [];
  /** What each job waits for (its `after`). */
  readonly dependencies = new Map<JobHandle, readonly JobHandle[]>();
  readonly current = new Map<string, Current>();
  /** Files open in the editor: whatever is submitted for them is promoted. */
  readonly open = new Set<string>();
  /** Source text of edited files (not written to disk). */
  readonly edited = new Map<string, string>();

  constructor(
    readonly graph: Graph,
    threads: number,
    criticalPath: boolean,
  ) {
    this.pool = new Pool({ filename: worker, maxThreads: threads, minThreads: threads, criticalPath });
  }

  #track<T>(stage: Stage, file: string, handle: JobHandle<T>, after: readonly JobHandle[] = []): JobHandle<T> {
    this.jobs.push({ stage, file, handle: handle as JobHandle });
    this.dependencies.set(handle as JobHandle, after);
    // A job that fails for a reason of its own is reported by the summary (or the end of the run);
    // these keep it from being reported a second time as an unhandled rejection.
    handle.catch(() => undefined);
    if (stage !== 'summary' && this.open.has(file)) handle.promote();
    return handle;
  }

  #parse(file: string): JobHandle<ParseResult> {
    const source = this.graph.files.get(file)!;
    const code = this.edited.get(file);
    const input: ParseInput = code === undefined ? { file, path: source.path } : { file, code };
    return this.#track('parse', file, this.pool.submit<ParseResult>(input, { name: 'parse' }));
  }

  #link(file: string, parse: JobHandle<ParseResult>): JobHandle<LinkResult> {
    const source = this.graph.files.get(file)!;
    const linked = source.imports.filter((target) => !this.graph.cycleEdges.has(`${file} -> ${target}`));
    const acrossCycle = source.imports.filter((target) => this.graph.cycleEdges.has(`${file} -> ${target}`));
    const after = [parse, ...linked.map((target) => this.current.get(target)!.link), ...acrossCycle.map((target) => this.current.get(target)!.parse)];
    const build = (parsed: ParseResult, ...others: (LinkResult | ParseResult)[]): LinkInput => {
      const modules = new Map<string, LinkedModule>();
      others.forEach((other, index) => {
        const isLink = index < linked.length;
        // A module across a cycle is open when it has an `export *`: what that brings in is unknown here.
        const open = isLink ? (other as LinkResult).open : (other as ParseResult).imports.some((entry) => entry.kind === 'star');
        modules.set(other.file, { file: other.file, exports: other.exports, open });
      });
      const resolved: LinkInput['resolved'] = {};
      for (const [specifier, target] of source.resolved) {
        resolved[specifier] = target === 'external' ? 'external' : target === file ? { file, exports: parsed.exports, open: true } : modules.get(target)!;
      }
      return { file, parsed, resolved };
    };
    return this.#track('link', file, this.pool.submit<LinkResult>(build, { name: 'link', after }), after);
  }

  #minify(file: string, parse: JobHandle<ParseResult>): JobHandle<MinifyResult> {
    const source = this.graph.files.get(file)!;
    const code = this.edited.get(file);
    const input: MinifyInput = code === undefined ? { file, path: source.path } : { file, code };
    // It waits for the parse: a file that does not parse is reported once, by its parse job.
    return this.#track('minify', file, this.pool.submit<MinifyResult>(() => input, { name: 'minify', after: [parse] }), [parse]);
  }

  #gzip(file: string, minify: JobHandle<MinifyResult>): JobHandle<FileReport> {
    const input = (minified: MinifyResult): GzipInput => ({ file, code: minified.code, originalBytes: minified.originalBytes });
    return this.#track('gzip', file, this.pool.submit<FileReport>(input, { name: 'gzipSize', after: [minify] }), [minify]);
  }

  /** Submits the jobs of `file` but its parse, given (the jobs of what it imports must be submitted already). */
  #submitRest(file: string, parse: JobHandle<ParseResult>): Current {
    const current = { parse } as Current;
    this.current.set(file, current);
    current.link = this.#link(file, parse);
    current.minify = this.#minify(file, parse);
    current.gzip = this.#gzip(file, current.minify);
    return current;
  }

  /** Submits every job of `file` anew (it was edited). */
  submitFile(file: string): Current {
    return this.#submitRest(file, this.#parse(file));
  }

  /** A new link job for `file` (one of its imports changed), its parse kept. */
  relink(file: string): JobHandle<LinkResult> {
    const current = this.current.get(file)!;
    current.link = this.#link(file, current.parse);
    return current.link;
  }

  /**
   * The whole build: every parse first (a link across an import cycle waits for a parse submitted
   * after it in the graph's order), then each file's other jobs, each after what it imports.
   */
  submitAll(): void {
    const parses = new Map(this.graph.order.map((file) => [file, this.#parse(file)]));
    for (const file of this.graph.order) this.current.set(file, { parse: parses.get(file)! } as Current);
    for (const file of this.graph.order) this.#submitRest(file, parses.get(file)!);
  }

  /** One job after every file's report and link: the totals. */
  submitSummary(): JobHandle<BuildSummary> {
    const files = this.graph.order;
    const after = [...files.map((file) => this.current.get(file)!.gzip), ...files.map((file) => this.current.get(file)!.link)];
    const input = (...results: unknown[]): SummaryInput => ({
      reports: results.slice(0, files.length) as FileReport[],
      links: results.slice(files.length) as LinkResult[],
    });
    return this.#track('summary', '', this.pool.submit<BuildSummary>(input, { name: 'summary', after }), after);
  }

  /** Every unsettled job of `handles` and of what they wait for, directly or not. */
  unfinishedChain(handles: readonly JobHandle[]): number {
    const seen = new Set<JobHandle>();
    const stack = [...handles];
    while (stack.length > 0) {
      const handle = stack.pop()!;
      if (seen.has(handle) || (handle.state !== 'queued' && handle.state !== 'held' && handle.state !== 'running')) continue;
      seen.add(handle);
      stack.push(...(this.dependencies.get(handle) ?? []));
    }
    return seen.size;
  }
}

// ---------------------------------------------------------------------------------------------
// The watch script.

interface StaleChain {
  readonly file: string;
  /** Which save made these jobs stale (1: the build's own jobs, 2: the first save's). */
  readonly save: number;
  readonly jobs: number;
  /** Not yet begun when they went stale: only these can be saved from running. */
  readonly waitingAtCancel: number;
  /** Already begun or done when they went stale (they run to their end). */
  readonly begunBeforeCancel: number;
  /** Cancelled by the save itself (the first jobs of the stale chain that were still waiting). */
  cancelled: number;
  /** Rejected with a DependencyError, without running, because a job they wait for was cancelled. */
  dependencyErrors: number;
  /** Of those waiting at the cancel, how many began on a thread anyway (never expected). */
  ranAfterCancel: number;
}

interface WatchReport {
  readonly open: {
    file: string;
    openedAtMs: number;
    /** Unsettled jobs promoted with its report (its gzip and link jobs and all they wait for). */
    promotedJobs: number;
    readyAtMs?: number;
    /** Jobs still queued in the pool when its report was ready. */
    queuedWhenReady?: number;
  };
  readonly stale: StaleChain[];
  readonly edited: { file: string; code: string; saves: number; importers: string[] };
}

/** For each file, the longest chain of link jobs ending with its own (the import edges followed, cycles closed aside). */
function linkDepths(graph: Graph): Map<string, number> {
  const depth = new Map<string, number>();
  for (const file of graph.order) {
    const imports = graph.files.get(file)!.imports.filter((target) => !graph.cycleEdges.has(`${file} -> ${target}`));
    depth.set(file, 1 + Math.max(0, ...imports.map((target) => depth.get(target) ?? 0)));
  }
  return depth;
}

/** The file opened in the editor: one of the deepest in the import graph, so its chain is long. */
function pickOpenFile(graph: Graph): string {
  const depth = linkDepths(graph);
  // Not an entry point that imports the whole package: a module something else imports.
  const imported = new Set([...graph.files.values()].flatMap((source) => source.imports));
  const candidates = graph.order.filter((file) => imported.has(file));
  return candidates.reduce((best, file) => (depth.get(file)! > depth.get(best)! ? file : best), candidates[0] ?? graph.order[0]!);
}

/**
 * The file saved twice: one that something imports (so its saves re-link its importers), whose
 * importers are few and import nothing of the open file's chain, and which the open file does not
 * import (so the two stories do not mix).
 */
function pickEditedFile(graph: Graph, openFile: string): string {
  const closure = importClosure(graph, openFile);
  let best: { file: string; importers: number } | undefined;
  for (const file of graph.order) {
    if (file === openFile || closure.has(file)) continue;
    const importers = importersOf(graph, file);
    if (importers.length === 0 || importers.includes(openFile)) continue;
    if (best === undefined || importers.length < best.importers) best = { file, importers: importers.length };
  }
  return best?.file ?? graph.order.find((file) => file !== openFile)!;
}

/** The source of `file` after its `save`-th edit: one more export, so its importers re-link. */
function editedSource(original: string, save: number): string {
  return `${original}\nexport const lazypoolDemoEdit = ${save};\n`;
}

interface WatchFiles {
  readonly openFile: string;
  readonly editedFile: string;
  readonly importers: string[];
  readonly original: string;
}

/** The files the script opens and edits, picked before the build starts (the graph is searched). */
function watchFiles(graph: Graph): WatchFiles {
  const openFile = pickOpenFile(graph);
  const editedFile = pickEditedFile(graph, openFile);
  return { openFile, editedFile, importers: importersOf(graph, editedFile), original: readFileSync(graph.files.get(editedFile)!.path, 'utf8') };
}

/**
 * Plays the script on a build just submitted: opens a file in the editor, saves another twice.
 * Resolves once the script has played (the jobs current for every file are then final); `counted`
 * resolves once every stale job has settled and the counts of each stale chain are final.
 */
async function runWatchScript(
  build: Build,
  { openFile, editedFile, importers, original }: WatchFiles,
  startedAt: number,
  log: (text: string) => void,
): Promise<{ report: WatchReport; counted: Promise<void> }> {
  const { pool } = build;
  const clock = () => performance.now() - startedAt;

  await delay(Math.max(0, script.openAt - clock()));
  build.open.add(openFile);
  const openCurrent = build.current.get(openFile)!;
  const promotedJobs = build.unfinishedChain([openCurrent.gzip, openCurrent.link]);
  openCurrent.gzip.promote();
  openCurrent.link.promote();
  const open: WatchReport['open'] = { file: openFile, openedAtMs: clock(), promotedJobs };
  log(`${style.bold('open')}   ${openFile} in the editor: its report and the ${promotedJobs} unfinished jobs it waits for are promoted`);
  void Promise.allSettled([openCurrent.gzip, openCurrent.link]).then(() => {
    open.readyAtMs = clock();
    open.queuedWhenReady = pool.stats.queued;
    log(`${style.green('ready')}  ${openFile} (open in the editor): report and link done, ${pool.stats.queued} jobs still waiting`);
  });

  const stale: StaleChain[] = [];
  const counts: Promise<void>[] = [];
  for (const [save, at] of [[1, script.firstSaveAt], [2, script.secondSaveAt]] as const) {
    await delay(Math.max(0, at - clock()));
    // What this save makes stale: the file's own jobs, and the links of every file importing it.
    const current = build.current.get(editedFile)!;
    const handles: JobHandle[] = [current.parse, current.link, current.minify, current.gzip, ...importers.map((file) => build.current.get(file)!.link)];
    const waiting = handles.filter((handle) => handle.state === 'queued' || handle.state === 'held');
    const chain: StaleChain = {
      file: editedFile,
      save,
      jobs: handles.length,
      waitingAtCancel: waiting.length,
      begunBeforeCancel: handles.length - waiting.length,
      cancelled: 0,
      dependencyErrors: 0,
      ranAfterCancel: 0,
    };
    stale.push(chain);
    // Cancel the stale jobs that wait for no other waiting stale job; the others then fail with a
    // DependencyError, never having run.
    for (const handle of waiting) {
      if (!(build.dependencies.get(handle) ?? []).some((dependency) => waiting.includes(dependency))) handle.cancel(`${editedFile} saved again`);
    }
    counts.push(
      Promise.allSettled(waiting).then(() => {
        for (const handle of waiting) {
          const reason = handle.outcome?.status === 'rejected' ? handle.outcome.reason : undefined;
          if (reason instanceof CancelledError) chain.cancelled++;
          else if (reason instanceof DependencyError) chain.dependencyErrors++;
        }
      }),
    );
    build.edited.set(editedFile, editedSource(original, save));
    build.submitFile(editedFile);
    for (const file of importers) build.relink(file);
    log(
      `${style.bold('save')}   ${editedFile}${save === 2 ? ' again' : ''}: ${chain.jobs} jobs stale (its own 4, the links of its ${importers.length} ${importers.length === 1 ? 'importer' : 'importers'}), ` +
        `${chain.waitingAtCancel} of them waiting: cancelled (their dependants fail with a DependencyError), ${chain.begunBeforeCancel} begun already; ${4 + importers.length} new jobs`,
    );
    // Whether a job that was waiting began after all can only be known once nothing can begin any more.
    counts.push(
      pool.idle().then(() => {
        chain.ranAfterCancel = waiting.filter((handle) => handle.timing.startedAt !== undefined).length;
      }),
    );
  }
  const report: WatchReport = { open, stale, edited: { file: editedFile, code: build.edited.get(editedFile)!, saves: 2, importers } };
  return { report, counted: Promise.all(counts).then(() => undefined) };
}

// ---------------------------------------------------------------------------------------------
// Printing.

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function printTable(rows: string[][], log: (text: string) => void): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  rows.forEach((row, index) => {
    const line = row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
    log(index === 0 ? style.bold(line) : line);
  });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`demo:build: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  const log = (text = '') => process.stdout.write(`${text}\n`);

  const graph = loadGraph(options.packages);
  const edges = [...graph.files.values()].reduce((total, source) => total + source.imports.length, 0);
  log(style.bold(`lazypool build graph: ${options.packages.join(', ')} from node_modules`));
  log(
    `${graph.files.size} ES modules, ${edges} import edges between them (${graph.cycleEdges.size} closing a cycle), ` +
      `${graph.externalImports} imports of packages outside the build; the longest chain: a parse and ` +
      `${Math.max(...linkDepths(graph).values())} links, then the summary; ${options.threads} threads, ` +
      `${options.criticalPath ? 'criticalPath: true' : 'ready jobs in submission order'}`,
  );

  const build = new Build(graph, options.threads, options.criticalPath);
  try {
    // One parse per thread first, so that loading terser on each thread is not counted as build time.
    const warmup = graph.order[0]!;
    await Promise.all(Array.from({ length: options.threads }, () => build.pool.submit({ file: warmup, code: 'export {};' }, { name: 'parse' })));

    const scripted = options.watch ? watchFiles(graph) : undefined;
    const startedAt = performance.now();
    const clock = () => performance.now() - startedAt;
    const say = (text: string) => log(`  ${style.dim(seconds(clock()).padStart(7))}  ${text}`);
    build.submitAll();
    say(`${build.jobs.length} jobs submitted (parse, link, minify, gzip per file): ${build.pool.stats.queued} waiting`);

    let watch: { report: WatchReport; counted: Promise<void> } | undefined;
    if (scripted) {
      say('watch: a scripted editing session (in memory, no file system watching)');
      watch = await runWatchScript(build, scripted, startedAt, say);
    }
    // The summary waits for the jobs current for each file (after the script's last save).
    const summary = await build.submitSummary();
    const makespanMs = clock();
    say(`build done: summary of ${summary.files} files`);
    await watch?.counted;
    return await finish(options, build, summary, makespanMs, watch?.report, log);
  } finally {
    await build.pool.close({ cancelQueued: true });
  }
}

async function finish(
  options: Options,
  build: Build,
  summary: BuildSummary,
  makespanMs: number,
  watch: WatchReport | undefined,
  log: (text?: string) => void,
): Promise<number> {
  const { graph } = build;
  const reports = graph.order.map((file) => build.current.get(file)!.gzip.outcome);
  const byFile = new Map<string, FileReport>();
  for (const outcome of reports) if (outcome?.status === 'fulfilled') byFile.set(outcome.value.file, outcome.value);

  log();
  const rows: string[][] = [['package tree', 'packages', 'files', 'source', 'minified', 'gzip', 'gzip/source']];
  const totals = (files: string[]) => {
    const list = files.map((file) => byFile.get(file)!);
    return {
      packages: new Set(files.map((file) => graph.files.get(file)!.pkg)).size,
      files: list.length,
      originalBytes: list.reduce((sum, report) => sum + report.originalBytes, 0),
      minifiedBytes: list.reduce((sum, report) => sum + report.minifiedBytes, 0),
      gzipBytes: list.reduce((sum, report) => sum + report.gzipBytes, 0),
    };
  };
  const row = (name: string, figures: ReturnType<typeof totals>) => [
    name,
    String(figures.packages),
    String(figures.files),
    formatBytes(figures.originalBytes),
    formatBytes(figures.minifiedBytes),
    formatBytes(figures.gzipBytes),
    `${((100 * figures.gzipBytes) / figures.originalBytes).toFixed(1)}%`,
  ];
  for (const tree of options.packages) rows.push(row(tree, totals(graph.order.filter((file) => graph.files.get(file)!.tree === tree))));
  // The summary job's totals, not the table's own sums: the two must agree.
  const all = totals(graph.order);
  if (all.originalBytes !== summary.originalBytes || all.minifiedBytes !== summary.minifiedBytes || all.gzipBytes !== summary.gzipBytes || all.files !== summary.files) {
    throw new Error('the summary job and the reports it was given disagree');
  }
  rows.push(row('total', all));
  printTable(rows, log);
  log();
  const ran = build.jobs.filter((job) => job.handle.timing.startedAt !== undefined).length;
  const cancelled = build.jobs.filter((job) => job.handle.state === 'cancelled').length;
  const dependencyErrors = build.jobs.filter((job) => job.handle.outcome?.status === 'rejected' && (job.handle.outcome.reason instanceof DependencyError)).length;
  log(
    `makespan ${seconds(makespanMs)} on ${options.threads} threads (${options.criticalPath ? 'criticalPath' : 'submission order'}); ` +
      `${build.jobs.length} jobs: ${ran} ran, ${cancelled} cancelled, ${dependencyErrors} rejected by a DependencyError without running`,
  );
  log(
    `links: ${summary.importsChecked} imported names checked, ${summary.missing.length} missing` +
      `${summary.missing.length > 0 ? ` (${summary.missing.slice(0, 3).join('; ')}${summary.missing.length > 3 ? '; …' : ''})` : ''}; ` +
      `${graph.cycleEdges.size} imports close a cycle (linked against the module's own exports)` +
      (summary.unscanned.length > 0 ? `; ${style.red(`${summary.unscanned.length} imports the scan missed`)}` : '') +
      (summary.phantom.length > 0 ? `; ${style.red(`${summary.phantom.length} imports the scan saw and the parse did not`)}` : ''),
  );
  log(`largest after gzip: ${summary.largest.map((report) => `${report.file} ${formatBytes(report.gzipBytes)}`).join(', ')}`);

  if (watch) {
    log();
    log(style.bold('watch'));
    const { open } = watch;
    log(
      `  open in the editor: ${open.file}: ${open.promotedJobs} jobs promoted at ${seconds(open.openedAtMs)}, ready at ` +
        `${open.readyAtMs === undefined ? '-' : seconds(open.readyAtMs)} with ${open.queuedWhenReady ?? '-'} jobs still waiting; the build took ${seconds(makespanMs)}`,
    );
    for (const chain of watch.stale) {
      log(
        `  save ${chain.save} of ${chain.file}: ${chain.jobs} jobs stale (${chain.save === 1 ? "the build's" : "save 1's"}); ` +
          `${chain.waitingAtCancel} were waiting: ${chain.cancelled} cancelled, ${chain.dependencyErrors} rejected with a DependencyError, ` +
          `${chain.ranAfterCancel} of them ran; ${chain.begunBeforeCancel} had begun before the save`,
      );
    }
  }

  if (options.json !== undefined) {
    const document = {
      packages: options.packages,
      threads: options.threads,
      criticalPath: options.criticalPath,
      makespanMs,
      jobs: { submitted: build.jobs.length, ran, cancelled, dependencyErrors },
      graph: { files: graph.files.size, importEdges: [...graph.files.values()].reduce((sum, source) => sum + source.imports.length, 0), cycleEdges: [...graph.cycleEdges], externalImports: graph.externalImports },
      summary,
      files: graph.order.map((file) => {
        const link = build.current.get(file)!.link.outcome;
        const linked = link?.status === 'fulfilled' ? (link.value as LinkResult) : undefined;
        return { ...byFile.get(file)!, path: graph.files.get(file)!.path, exports: linked?.exports.length, missing: linked?.missing };
      }),
      ...(watch
        ? {
            watch: {
              ...watch,
              edited: { ...watch.edited, exports: (build.current.get(watch.edited.file)!.link.outcome as { value?: LinkResult }).value?.exports },
            },
          }
        : {}),
    };
    await writeFile(options.json, `${JSON.stringify(document, null, 2)}\n`);
    log(`(figures written to ${options.json})`);
  }
  // Every job of the build must have ended well, but the stale ones, which must have ended without running.
  const failed = build.jobs.filter(
    (job) => job.handle.outcome?.status === 'rejected' && !(job.handle.outcome.reason instanceof CancelledError) && !(job.handle.outcome.reason instanceof DependencyError),
  );
  for (const job of failed.slice(0, 5)) log(style.red(`${job.stage} ${job.file} failed: ${String((job.handle.outcome as { reason: unknown }).reason)}`));
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
