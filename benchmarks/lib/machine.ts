// What a result was measured on and with: without it a figure cannot be compared or reproduced.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The repository root, where package.json and node_modules live. */
export const repositoryRoot = new URL('../../', import.meta.url);

/** The pools compared against lazypool; their versions are read from their own package.json. */
export const peerPackages = ['piscina', 'tinypool', 'workerpool', 'poolifier', 'p-queue'] as const;

/** Libraries that shape the measure or its output, recorded alongside the peers. */
const toolPackages = ['tinybench', 'jimp', 'vega', 'vega-lite', 'tsx'] as const;

export interface Machine {
  readonly cpus: number;
  readonly availableParallelism: number;
  readonly model: string;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly arch: string;
  readonly release: string;
  readonly node: string;
  readonly v8: string;
  readonly loadAverage: readonly number[];
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    model: cpus[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: os.platform(),
    arch: os.arch(),
    release: os.release(),
    node: process.version,
    v8: process.versions.v8,
    loadAverage: os.loadavg(),
  };
}

/** The installed version of a package, from node_modules/<name>/package.json. */
export function installedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, repositoryRoot), 'utf8'));
  return String(manifest.version);
}

/**
 * lazypool's version as the benchmark ran it: the package version and the commit, marked
 * `-dirty` when src/ had uncommitted changes (so a figure is never credited to the wrong code).
 */
export function lazypoolVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('package.json', repositoryRoot), 'utf8'));
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repositoryRoot, encoding: 'utf8' }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `${manifest.version} (${commit}${dirty ? '-dirty' : ''})`;
  } catch {
    return String(manifest.version);
  }
}

/** Every package whose version bears on the figures: lazypool, its peers, and the tools. */
export function packageVersions(): Record<string, string> {
  const versions: Record<string, string> = { lazypool: lazypoolVersion() };
  for (const name of [...peerPackages, ...toolPackages]) versions[name] = installedVersion(name);
  return versions;
}
