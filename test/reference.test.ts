/**
 * docs/api.md is the project's API reference: every export of `lazypool`, `lazypool/worker` and `lazypool/bullmq`
 * has a `###` entry there, and every `###` entry is an export (nothing documented that is not there).
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const entryPoints = {
  lazypool: new URL('../src/index.ts', import.meta.url),
  'lazypool/worker': new URL('../src/worker.ts', import.meta.url),
  'lazypool/bullmq': new URL('../src/bullmq/index.ts', import.meta.url),
} as const;

/** The `###` headings of docs/api.md, and the export each names (its first `name` in backticks). */
async function entries(): Promise<Map<string, string>> {
  const reference = await readFile(new URL('../docs/api.md', import.meta.url), 'utf8');
  const named = new Map<string, string>();
  for (const heading of reference.split('\n').filter((line) => line.startsWith('### '))) {
    const name = heading.match(/`(?:new )?([A-Za-z_$][\w$]*)/)?.[1];
    if (name !== undefined) named.set(name, heading);
  }
  return named;
}

/** Every export of an entry point, types included, as the TypeScript compiler sees it. */
function exportsOf(entryPoint: URL): string[] {
  const file = fileURLToPath(entryPoint);
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker.getExportsOfModule(module).map((symbol) => symbol.name);
}

test('every runtime export of each entry point has a ### entry in docs/api.md', async (t) => {
  const documented = await entries();
  for (const [entryPoint, url] of Object.entries(entryPoints)) {
    const module = (await import(url.href)) as Record<string, unknown>;
    const names = Object.keys(module);
    t.true(names.length > 0, entryPoint);
    for (const name of names) t.true(documented.has(name), `${entryPoint} exports ${name}, which docs/api.md has no ### entry for`);
  }
});

test('every export, types included, has a ### entry, and every ### entry names an export', async (t) => {
  const documented = await entries();
  const exported = new Set(Object.values(entryPoints).flatMap(exportsOf));
  t.true(exported.has('PoolOptions'), 'type exports are seen');
  const undocumented = [...exported].filter((name) => !documented.has(name));
  t.deepEqual(undocumented, [], 'exports without a ### entry in docs/api.md');
  const unknown = [...documented].filter(([name]) => !exported.has(name)).map(([, heading]) => heading);
  t.deepEqual(unknown, [], '### entries in docs/api.md that name no export');
});
