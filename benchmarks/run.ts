// `npm run bench [-- <name>...] [--quick] [--rounds n] [--threads n] [--out dir]`
// Runs the benchmarks one after the other in this process (each opens and closes its own pools;
// measures that need a clean heap run in child processes), prints their tables, and writes
// results/<name>.json and results/<name>.svg.
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderTable } from './lib/format.js';
import { describeMachine, packageVersions } from './lib/machine.js';
import { writeResults } from './lib/results.js';
import { benchmarks } from './registry.js';

const usage = `Usage: npm run bench -- [name...] [options]

Runs every benchmark, or the ones named, and writes benchmarks/results/<name>.json and .svg.

Options:
  --quick          small sizes and few rounds: checks that everything runs, measures nothing
                   (results go to benchmarks/results/quick/ unless --out says otherwise)
  --rounds <n>     rounds per measure, instead of each benchmark's default
  --threads <n>    worker threads for every contender (default 2)
  --out <dir>      directory for the JSON and SVG files
  --list           list the benchmarks and the question each answers
  -h, --help       this text

Benchmarks:
${benchmarks.map((benchmark) => `  ${benchmark.name.padEnd(12)} ${benchmark.question}`).join('\n')}
`;

function positiveInteger(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new RangeError(`--${option} must be a positive integer, got ${value}`);
  return parsed;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help || values.list) {
  process.stdout.write(usage);
  process.exit(0);
}

const unknown = positionals.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark: ${unknown.join(', ')}\n\n${usage}`);
  process.exit(2);
}

const selected = positionals.length > 0 ? benchmarks.filter((benchmark) => positionals.includes(benchmark.name)) : benchmarks;
const quick = values.quick;
const threads = positiveInteger('threads', values.threads) ?? 2;
const rounds = positiveInteger('rounds', values.rounds);
const outDirectory =
  values.out ?? fileURLToPath(new URL(quick ? './results/quick/' : './results/', import.meta.url));

// A job rejected after a pool was destroyed, with nobody listening, must not end the whole run.
let strayRejections = 0;
process.on('unhandledRejection', (reason) => {
  strayRejections += 1;
  if (strayRejections <= 3) console.error('unhandled rejection (ignored):', reason);
});

const machine = describeMachine();
const versions = packageVersions();
console.log(
  `lazypool benchmarks${quick ? ' (quick: smoke run, not a measure)' : ''}: ${threads} threads per contender\n` +
    `${machine.model}, ${machine.cpus} CPUs, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${machine.node}\n` +
    Object.entries(versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', '),
);

// A promise that never settles with nothing else alive ends Node with code 13 and no word:
// say which benchmark was running and what it last reported.
let lastStep = 'starting';
process.on('exit', (code) => {
  if (code === 13) console.error(`\nexited with a promise never settled (code 13) during: ${lastStep}`);
});

const suiteStarted = performance.now();
let failures = 0;
for (const benchmark of selected) {
  console.log(`\n## ${benchmark.name}: ${benchmark.question}\n`);
  lastStep = `${benchmark.name}, at its start`;
  const startedAt = new Date();
  const started = performance.now();
  const loadAverageAtStart = os.loadavg();
  if (loadAverageAtStart[0] > machine.cpus) {
    console.log(`(the machine is busy: load average ${loadAverageAtStart[0].toFixed(1)} on ${machine.cpus} CPUs; expect noisy figures)\n`);
  }
  try {
    const report = await benchmark.run({
      quick,
      threads,
      rounds,
      log: (line) => {
        lastStep = `${benchmark.name}, after: ${line}`;
        process.stderr.write(`  [${benchmark.name}] ${line}\n`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    for (const table of report.tables) console.log(`${renderTable(table)}\n`);
    if (report.targets.length > 0) {
      console.log('Targets');
      for (const target of report.targets) {
        console.log(`  ${target.met ? 'met   ' : 'MISSED'}  ${target.target}: ${target.measured}`);
      }
      console.log();
    }
    for (const note of report.notes) console.log(`Note: ${note}`);
    const files = await writeResults(outDirectory, { benchmark, report, quick, threads, startedAt, seconds, loadAverageAtStart });
    console.log(`(${seconds.toFixed(1)} s; ${files.json}, ${files.svg})`);
  } catch (error) {
    failures += 1;
    console.error(`${benchmark.name} failed:`, error);
  }
}
console.log(`\nAll done in ${((performance.now() - suiteStarted) / 1000).toFixed(0)} s${failures ? `, ${failures} failed` : ''}.`);
if (strayRejections > 0) console.log(`${strayRejections} stray rejections from destroyed pools were ignored.`);
process.exit(failures > 0 ? 1 : 0);
