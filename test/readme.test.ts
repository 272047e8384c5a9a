/**
 * The README's tour is real code: its worker module and each script are written next to this
 * repository's package.json (so `import 'lazypool'` resolves to the built package, as it does for
 * users) and run with node.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repo = new URL('..', import.meta.url);
const scratch = new URL('./.readme-tour/', import.meta.url);

test('every code block of the README tour runs', async (t) => {
  const readme = await readFile(new URL('README.md', repo), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]);
  const worker = blocks.find((block) => block.startsWith('// worker.mjs'));
  const scripts = blocks.filter((block) => block !== worker);
  t.truthy(worker);
  t.true(scripts.length >= 2);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    await writeFile(new URL('worker.mjs', scratch), worker!);
    const outputs: string[] = [];
    for (const [index, script] of scripts.entries()) {
      const file = new URL(`tour-${index}.mjs`, scratch);
      await writeFile(file, script);
      const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(file)], { timeout: 60_000 });
      outputs.push(stdout);
    }
    const tour = outputs[0];
    t.regex(tour, /^49$/m);
    t.regex(tour, /primes below 200,000: 17984/);
    t.regex(tour, /urgent: 1000000 while 10000 wait/);
    t.regex(tour, /true 10000/);
    t.regex(tour, /sum of squares: 30/);
    t.regex(tour, /\[ 'rejected', 'rejected' \]/);
    t.regex(outputs[1], /^true$/m);
    t.regex(outputs[2], /^report of min\(ast\)$/m);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
