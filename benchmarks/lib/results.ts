// Writes what a benchmark measured to benchmarks/results/<name>.json and <name>.svg.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Benchmark, BenchmarkReport } from './benchmark.js';
import { renderSvg } from './chart.js';
import { describeMachine, packageVersions } from './machine.js';

export interface RunRecord {
  readonly benchmark: Benchmark;
  readonly report: BenchmarkReport;
  readonly quick: boolean;
  readonly threads: number;
  readonly startedAt: Date;
  readonly seconds: number;
  /** os.loadavg() when the benchmark started: other work on the machine shows up here. */
  readonly loadAverageAtStart: readonly number[];
}

/** Writes `<name>.json` (everything needed to check or redraw the figures) and `<name>.svg`. */
export async function writeResults(directory: string, record: RunRecord): Promise<{ json: string; svg: string }> {
  await mkdir(directory, { recursive: true });
  const { benchmark, report } = record;
  const json = join(directory, `${benchmark.name}.json`);
  const svg = join(directory, `${benchmark.name}.svg`);
  const document = {
    benchmark: benchmark.name,
    question: benchmark.question,
    startedAt: record.startedAt.toISOString(),
    seconds: Math.round(record.seconds * 10) / 10,
    quick: record.quick,
    threads: record.threads,
    machine: { ...describeMachine(), loadAverageAtStart: record.loadAverageAtStart },
    versions: packageVersions(),
    settings: report.settings,
    targets: report.targets,
    notes: report.notes,
    medians: report.medians,
    samples: report.samples,
  };
  await writeFile(json, `${JSON.stringify(document, null, 2)}\n`);
  await writeFile(svg, await renderSvg(report.chart));
  return { json, svg };
}
