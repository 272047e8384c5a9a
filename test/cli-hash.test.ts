import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = fileURLToPath(new URL('..', import.meta.url));
interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command to completion; resolves with its exit code and output, whatever the code. */
function run(command: string, args: readonly (string | Buffer)[], options: { cwd?: string; stdin?: Buffer } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Buffers as arguments: spawn takes only strings, so byte paths go through `sh -c` and "$@".
    const child = spawn(command, args as string[], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() }));
    child.stdin.end(options.stdin);
  });
}

/** The package as `npm run build` compiles it, in a folder of its own (see test.before). */
let installed: string;
let bin: string;

function lazypool(args: readonly string[], options: { cwd?: string; stdin?: Buffer } | string = {}): Promise<Run> {
  return run(process.execPath, [bin, ...args], typeof options === 'string' ? { cwd: options } : options);
}

/** What GNU coreutils prints for the same files, listed by a shell command (so paths stay bytes). */
function coreutils(script: string, cwd: string): Promise<Run> {
  return run('sh', ['-c', script], { cwd });
}

let root: string;

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lazypool-cli-'));
  // Compiled as `npm run build` does, into a package folder of its own whose node_modules holds
  // nothing but the runtime dependencies: a dev dependency needed at run time would fail here, and
  // a build running meanwhile (which empties dist/) cannot pull the command from under the tests.
  installed = join(root, 'installed', 'lazypool');
  await mkdir(join(installed, 'node_modules'), { recursive: true });
  const typescript = join(repository, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = await run(process.execPath, [typescript, '-p', join(repository, 'tsconfig.build.json'), '--outDir', join(installed, 'dist')]);
  if (build.code !== 0) throw new Error(`the build failed:\n${build.stdout.toString()}`);
  const bundle = await run(process.execPath, [join(repository, 'scripts', 'bundle-thread.mjs'), join(installed, 'dist')]);
  if (bundle.code !== 0) throw new Error(`bundling the thread entry failed:\n${bundle.stderr.toString()}`);
  await copyFile(join(repository, 'package.json'), join(installed, 'package.json'));
  const manifest = JSON.parse(await readFile(join(repository, 'package.json'), 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies)) {
    await symlink(join(repository, 'node_modules', dependency), join(installed, 'node_modules', dependency));
  }
  bin = join(installed, manifest.bin.lazypool);
});

test.after.always(async () => {
  await rm(root, { recursive: true, force: true });
});

async function folder(name: string): Promise<string> {
  const path = join(root, name);
  await mkdir(path, { recursive: true });
  return path;
}

async function put(path: string | Buffer, content: string | Buffer): Promise<void> {
  await writeFile(path, content);
}

test('a tree is printed exactly as sha256sum prints the same files, strange names included, and sha256sum -c accepts it', async (t) => {
  const cwd = await folder('tree');
  await mkdir(join(cwd, 'data/nested/deeper'), { recursive: true });
  await put(join(cwd, 'data/empty'), '');
  await put(join(cwd, 'data/big.bin'), Buffer.alloc(3 * 1024 * 1024 + 5, 0xa5));
  await put(join(cwd, 'data/back\\slash'), 'backslash');
  await put(join(cwd, 'data/new\nline'), 'newline');
  await put(join(cwd, 'data/carriage\rreturn'), 'carriage return');
  await put(join(cwd, 'data/-dash'), 'dash');
  await put(join(cwd, 'data/nested/deeper/z'), 'z');
  await put(join(cwd, 'data/nested/a'), 'a');
  await put(Buffer.concat([Buffer.from(join(cwd, 'data/latin1-')), Buffer.of(0xe9)]), 'not UTF-8');
  await put(join(cwd, 'data/UPPER'), 'upper case sorts first in byte order');

  const ours = await lazypool(['hash', '--threads', '2', 'data'], cwd);
  // find | sort gives the same order as a walk sorted per directory for these names (no name is a
  // prefix of a sibling's followed by a byte below '/').
  const theirs = await coreutils("find data -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum", cwd);
  t.is(ours.stderr, '');
  t.is(ours.code, 0);
  t.is(theirs.code, 0);
  t.true(ours.stdout.equals(theirs.stdout), `\n${ours.stdout.toString()}\n---\n${theirs.stdout.toString()}`);
  t.regex(ours.stdout.toString(), /^\\[\da-f]{64} {2}data\/new\\nline$/m, 'escaped as sha256sum does');

  const check = await run('sha256sum', ['-c', '--strict'], { cwd, stdin: ours.stdout });
  t.is(check.code, 0, check.stderr);
  t.is(check.stdout.toString().match(/: OK$/gm)?.length, 10);
});

test('paths print in the order given, each directory in byte order of names, depth first', async (t) => {
  const cwd = await folder('order');
  await mkdir(join(cwd, 'd/a'), { recursive: true });
  await put(join(cwd, 'd/a/x'), '1');
  await put(join(cwd, 'd/a b'), '2'); // ' ' sorts before '/': a plain sort of full paths would put it first
  await put(join(cwd, 'd/B'), '3');
  await put(join(cwd, 'second'), '4');
  await put(join(cwd, 'first'), '5');

  const result = await lazypool(['hash', 'second', 'd/', 'first'], cwd);
  t.is(result.code, 0);
  const paths = result.stdout.toString().trimEnd().split('\n').map((line) => line.slice(66));
  t.deepEqual(paths, ['second', 'd/B', 'd/a/x', 'd/a b', 'first']);
});

test('hundreds of files stream through the pool in order, equal to sha256sum', async (t) => {
  const cwd = await folder('many');
  for (let directory = 0; directory < 6; directory++) {
    await mkdir(join(cwd, 'm', `dir${directory}`), { recursive: true });
    await Promise.all(
      Array.from({ length: 60 }, (_, file) =>
        put(join(cwd, 'm', `dir${directory}`, `file${String(file).padStart(3, '0')}`), `content ${directory} ${file}\n`.repeat(file)),
      ),
    );
  }
  const ours = await lazypool(['hash', '-j', '2', 'm'], cwd);
  const theirs = await coreutils('find m -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum', cwd);
  t.is(ours.code, 0);
  t.is(ours.stdout.toString().split('\n').length, 361);
  t.true(ours.stdout.equals(theirs.stdout));
});

test('large files found in a walk, among small ones, are each hashed in their place, equal to sha256sum', async (t) => {
  const cwd = await folder('large');
  await mkdir(join(cwd, 'l/sub'), { recursive: true });
  // Sparse files of 32 MiB and more: large enough to be sent to a thread alone, yet no disk space.
  for (const [name, size] of [['a-large', 33 << 20], ['c-large', 32 << 20], ['sub/b-large', 40 << 20]] as const) {
    await put(join(cwd, 'l', name), '');
    await truncate(join(cwd, 'l', name), size);
  }
  for (let index = 0; index < 300; index++) await put(join(cwd, 'l', `b-small-${String(index).padStart(3, '0')}`), `small ${index}`);
  await put(join(cwd, 'l/sub/a-small'), 'small');
  await put(join(cwd, 'l/sub/c-small'), 'small');
  const ours = await lazypool(['hash', '-j', '2', 'l'], cwd);
  const theirs = await coreutils('find l -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum', cwd);
  t.is(ours.stderr, '');
  t.is(ours.code, 0);
  t.true(ours.stdout.equals(theirs.stdout));
});

test('a missing file is reported on stderr in sha256sum\'s words, the other files are still hashed, and the exit code is 1', async (t) => {
  const cwd = await folder('missing');
  await put(join(cwd, 'one'), 'one');
  await put(join(cwd, 'two'), 'two');
  const ours = await lazypool(['hash', 'one', 'nowhere', 'two'], cwd);
  const theirs = await run('sha256sum', ['one', 'nowhere', 'two'], { cwd });
  t.is(ours.code, 1);
  t.is(theirs.code, 1);
  t.true(ours.stdout.equals(theirs.stdout));
  t.is(ours.stderr, 'lazypool: nowhere: No such file or directory\n');
  t.is(theirs.stderr, 'sha256sum: nowhere: No such file or directory\n');
});

test('a path that cannot be examined (not a directory, a loop of links, a name too long, a loop inside a walked directory) is reported in its place as sha256sum does; the rest is hashed (regression: the whole run stopped)', async (t) => {
  const cwd = await folder('unexaminable');
  await put(join(cwd, 'one'), 'one');
  await put(join(cwd, 'file'), 'file');
  await symlink('loopB', join(cwd, 'loopA'));
  await symlink('loopA', join(cwd, 'loopB'));
  await mkdir(join(cwd, 'walk'));
  await symlink('l2', join(cwd, 'walk/l1'));
  await symlink('l1', join(cwd, 'walk/l2'));
  await put(join(cwd, 'walk/w'), 'w');
  const long = 'x'.repeat(300);
  const ours = await lazypool(['hash', 'one', 'file/sub', 'loopA', long, 'walk'], cwd);
  const theirs = await run('sha256sum', ['one', 'file/sub', 'loopA', long, 'walk/l1', 'walk/l2', 'walk/w'], { cwd });
  t.is(ours.code, 1);
  t.is(theirs.code, 1);
  t.is(ours.stdout.toString(), theirs.stdout.toString());
  t.is(ours.stderr, theirs.stderr.replaceAll('sha256sum: ', 'lazypool: '));
});

test('a dangling symbolic link in a walked directory is reported; a link to a directory is not followed', async (t) => {
  const cwd = await folder('links');
  await mkdir(join(cwd, 'l/real'), { recursive: true });
  await put(join(cwd, 'l/real/file'), 'file');
  await symlink('real', join(cwd, 'l/loop'));
  await symlink('real/file', join(cwd, 'l/to-file'));
  await symlink('gone', join(cwd, 'l/dangling'));
  const result = await lazypool(['hash', 'l'], cwd);
  t.is(result.code, 1);
  t.is(result.stderr, 'lazypool: l/dangling: No such file or directory\n');
  const digest = createHash('sha256').update('file').digest('hex');
  t.is(result.stdout.toString(), `${digest}  l/real/file\n${digest}  l/to-file\n`);
});

test('--algo takes any node:crypto digest and matches md5sum, sha1sum and sha512sum', async (t) => {
  const cwd = await folder('algorithms');
  await put(join(cwd, 'a'), 'alpha');
  await put(join(cwd, 'b'), Buffer.alloc(100_000, 1));
  for (const [algorithm, tool] of [['md5', 'md5sum'], ['sha1', 'sha1sum'], ['sha512', 'sha512sum']]) {
    const ours = await lazypool(['hash', '--algo', algorithm, 'a', 'b'], cwd);
    const theirs = await run(tool, ['a', 'b'], { cwd });
    t.is(ours.code, 0);
    t.true(ours.stdout.equals(theirs.stdout), algorithm);
  }
});

test('--json prints one object per file, in order, failures included', async (t) => {
  const cwd = await folder('json');
  await put(join(cwd, 'a'), 'alpha');
  await put(join(cwd, 'b'), 'beta');
  const result = await lazypool(['hash', '--json', '--algo', 'sha512', 'b', 'missing', 'a'], cwd);
  t.is(result.code, 1);
  t.is(result.stderr, 'lazypool: missing: No such file or directory\n');
  const records = result.stdout.toString().trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
  const sha512 = (text: string) => createHash('sha512').update(text).digest('hex');
  t.deepEqual(records, [
    { path: 'b', algorithm: 'sha512', digest: sha512('beta'), bytes: 4 },
    { path: 'missing', algorithm: 'sha512', error: 'No such file or directory', code: 'ENOENT' },
    { path: 'a', algorithm: 'sha512', digest: sha512('alpha'), bytes: 5 },
  ]);
});

test('a usage mistake prints what is wrong and a one-line usage hint on stderr, nothing on stdout, and exits with 2', async (t) => {
  const cwd = await folder('usage');
  await put(join(cwd, 'a'), 'a');
  const hashHint = "Usage: lazypool hash [options] <file or directory>...\nRun 'lazypool help hash' for the options.\n";
  const commandHint = "Usage: lazypool <command> [options]\nRun 'lazypool help' for the options.\n";
  const workerHint = "Usage: lazypool worker --redis <url> --queue <name> [options] <worker module>\nRun 'lazypool help worker' for the options.\n";
  const cases: [string[], string][] = [
    [['hash', '--no-such-flag', 'a'], `lazypool hash: unknown option '--no-such-flag'\n${hashHint}`],
    [['hash', '-x', 'a'], `lazypool hash: unknown option '-x'\n${hashHint}`],
    [['hash', '--no-json', 'a'], `lazypool hash: unknown option '--no-json'\n${hashHint}`],
    [['hash', '--json=yes', 'a'], `lazypool hash: option '--json' takes no value, got 'yes'\n${hashHint}`],
    [['hash', '--algo'], `lazypool hash: option '--algo' needs a value\n${hashHint}`],
    [['hash', '-a', '--json', 'a'], `lazypool hash: option '-a' needs a value\n${hashHint}`],
    [['hash', '--threads', '0', 'a'], `lazypool hash: --threads must be a positive integer, got '0'\n${hashHint}`],
    [['hash', '--threads', 'two', 'a'], `lazypool hash: --threads must be a positive integer, got 'two'\n${hashHint}`],
    [['hash', '--algo', 'no-such-digest', 'a'], `lazypool hash: unknown digest algorithm 'no-such-digest' (node -p "crypto.getHashes()" lists them)\n${hashHint}`],
    [['hash'], `lazypool hash: no file or directory given ("-" is standard input)\n${hashHint}`],
    [['frobnicate'], `lazypool: unknown command 'frobnicate'\n${commandHint}`],
    [['--frobnicate'], `lazypool: unknown option '--frobnicate'\n${commandHint}`],
    [[], `lazypool: no command given\n${commandHint}`],
    [['help', 'frobnicate'], `lazypool help: no help for 'frobnicate'; the commands are: hash, worker, help\n${commandHint}`],
    [['worker', '--queue', 'q', 'w.js'], `lazypool worker: --redis <url> is required\n${workerHint}`],
    [['worker', '--redis', 'http://user:secret@host', '--queue', 'q', 'w.js'], `lazypool worker: --redis: the URL must start with redis:// or rediss://, not http://\n${workerHint}`],
    [['worker', '--redis', 'redis://:secret@host:1', 'w.js'], `lazypool worker: --queue <name> is required\n${workerHint}`],
    [['worker', '--redis', 'redis://:secret@host:1', '--queue', 'q'], `lazypool worker: no worker module given\n${workerHint}`],
    [['worker', '--redis', 'redis://:secret@host:1', '--queue', 'q', '--threads', '0', 'w.js'], `lazypool worker: --threads must be a whole number of at least 1, not '0'\n${workerHint}`],
    [['worker', '--redis', 'redis://:secret@host:1', '--queue', 'q', '--frobnicate', 'w.js'], `lazypool worker: Unknown option '--frobnicate'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "--frobnicate"\n${workerHint}`],
  ];
  for (const [args, message] of cases) {
    const result = await lazypool(args, cwd);
    t.is(result.code, 2, args.join(' '));
    t.is(result.stdout.length, 0, args.join(' '));
    t.is(result.stderr, message, args.join(' '));
  }
});

test('--version prints the version in package.json', async (t) => {
  const { version } = JSON.parse(await readFile(join(repository, 'package.json'), 'utf8')) as { version: string };
  const result = await lazypool(['--version']);
  t.is(result.code, 0);
  t.is(result.stderr, '');
  t.is(result.stdout.toString(), `lazypool ${version}\n`);
});

test('lazypool help is --help; lazypool help hash is hash --help; both on stdout with exit 0', async (t) => {
  const help = await lazypool(['help']);
  t.is(help.code, 0);
  t.is(help.stderr, '');
  t.true(help.stdout.equals((await lazypool(['--help'])).stdout));
  t.regex(help.stdout.toString(), /^Usage: lazypool <command>/);
  for (const command of ['hash', 'help', '--version']) t.true(help.stdout.toString().includes(command), command);

  const hashHelp = await lazypool(['help', 'hash']);
  t.is(hashHelp.code, 0);
  t.true(hashHelp.stdout.equals((await lazypool(['hash', '--help'])).stdout));
  t.regex(hashHelp.stdout.toString(), /^Usage: lazypool hash/);
});

test('"-" hashes standard input where it stands, as sha256sum does; a second "-" finds it at its end', async (t) => {
  const cwd = await folder('stdin');
  await put(join(cwd, 'file'), 'a file');
  const stdin = Buffer.concat([Buffer.from('from a pipe\n'), Buffer.alloc(3 * 1024 * 1024, 9)]);
  const ours = await lazypool(['hash', '-', 'file', '-'], { cwd, stdin });
  const theirs = await run('sha256sum', ['-', 'file', '-'], { cwd, stdin });
  t.is(ours.stderr, '');
  t.is(ours.code, 0);
  t.true(ours.stdout.equals(theirs.stdout), `\n${ours.stdout.toString()}\n---\n${theirs.stdout.toString()}`);

  const json = await lazypool(['hash', '--json', '-'], { cwd, stdin: Buffer.from('json') });
  t.deepEqual(JSON.parse(json.stdout.toString()), {
    path: '-',
    algorithm: 'sha256',
    digest: createHash('sha256').update('json').digest('hex'),
    bytes: 4,
  });
  // "./-" is the file of that name.
  await put(join(cwd, '-'), 'dash');
  const file = await lazypool(['hash', './-'], { cwd, stdin: Buffer.from('not this') });
  t.is(file.stdout.toString(), `${createHash('sha256').update('dash').digest('hex')}  ./-\n`);
});

test('--help documents every flag and exits with 0', async (t) => {
  const result = await lazypool(['hash', '--help']);
  t.is(result.code, 0);
  t.is(result.stderr, '');
  const help = result.stdout.toString();
  for (const flag of ['-a, --algo', '-j, --threads', '--json', '--progress', '--no-progress', '-h, --help']) {
    t.true(help.includes(flag), flag);
  }
  t.regex(help, /Exit status/);
  t.is((await lazypool(['--help'])).code, 0);
});

test('--progress draws the bar on stderr (here a pipe) without changing stdout; by default a pipe gets none', async (t) => {
  const cwd = await folder('progress');
  await put(join(cwd, 'a'), Buffer.alloc(2 * 1024 * 1024, 7));
  await put(join(cwd, 'b'), 'b');
  const plain = await lazypool(['hash', 'a', 'b'], cwd);
  const withBar = await lazypool(['hash', '--progress', 'a', 'b'], cwd);
  t.is(plain.stderr, '');
  t.true(withBar.stdout.equals(plain.stdout));
  t.regex(withBar.stderr, /files .* ETA /);
  t.true(withBar.stderr.endsWith('\r\x1b[K'), 'the bar erases itself at the end');
  const file = await readFile(join(cwd, 'a'));
  t.true(plain.stdout.toString().startsWith(createHash('sha256').update(file).digest('hex')));
});

test('the bin named in package.json runs through its #! line, with the compiled worker and only the runtime dependencies', async (t) => {
  const manifest = JSON.parse(await readFile(join(repository, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  t.deepEqual(Object.keys(manifest.dependencies).sort(), ['comlink', 'piscina']);
  await chmod(bin, 0o755); // as npm does when it links a bin

  const cwd = await folder('compiled');
  await put(join(cwd, 'a'), 'alpha');
  await mkdir(join(cwd, 'd'));
  await put(join(cwd, 'd/b'), 'beta');
  const ours = await run(bin, ['hash', 'a', 'd'], { cwd });
  const theirs = await run('sha256sum', ['a', 'd/b'], { cwd });
  t.is(ours.stderr, '');
  t.is(ours.code, 0);
  t.true(ours.stdout.equals(theirs.stdout));
});
