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

/** Options that have no default: leaving them out means "none" (or one of a required set). */
const withoutDefault = new Set([
  'PoolOptions.filename',
  'PoolOptions.run',
  'PoolOptions.maxQueue',
  'PoolOptions.resourceLimits',
  'PoolOptions.argv',
  'PoolOptions.workerData',
  'SubmitOptions.transferList',
  'SubmitOptions.signal',
  'SubmitOptions.onProgress',
  'ServeOptions.worker',
]);

test('every option has a doc comment, with @default unless leaving it out means none', async (t) => {
  const files = ['../src/options.ts', '../src/submit-options.ts', '../src/group.ts', '../src/bullmq/executor.ts', '../src/bullmq/serve.ts'];
  const problems: string[] = [];
  let checked = 0;
  for (const file of files) {
    const source = ts.createSourceFile(file, await readFile(new URL(file, import.meta.url), 'utf8'), ts.ScriptTarget.ES2022, true);
    ts.forEachChild(source, (node) => {
      if (!ts.isInterfaceDeclaration(node) || !node.name.text.endsWith('Options')) return;
      for (const member of node.members) {
        if (!ts.isPropertySignature(member) || member.questionToken === undefined) continue;
        const name = `${node.name.text}.${(member.name as ts.Identifier).text}`;
        checked++;
        if (ts.getJSDocCommentsAndTags(member).length === 0) problems.push(`${name}: no doc comment`);
        else if (!withoutDefault.has(name) && !ts.getJSDocTags(member).some((tag) => tag.tagName.text === 'default')) problems.push(`${name}: no @default`);
      }
    });
  }
  t.true(checked > 40, `options found: ${checked}`);
  t.deepEqual(problems, []);
});
