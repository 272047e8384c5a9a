// Every benchmark `npm run bench` knows, in the order a full run takes them.
// To add one: write benchmarks/<name>.ts exporting a `Benchmark` (see lib/benchmark.ts; any
// existing script is a template), import it here and append it to the list. The runner gives it
// `--quick`, `--rounds`, `--threads`, prints its tables and writes results/<name>.json and .svg.
import type { Benchmark } from './lib/benchmark.js';
import { bullmq } from './bullmq.js';
import { cancel } from './cancel.js';
import { concurrency } from './concurrency.js';
import { dispatch } from './dispatch.js';
import { graph } from './graph.js';
import { hash } from './hash.js';
import { lazy } from './lazy.js';
import { memory } from './memory.js';
import { scaling } from './scaling.js';
import { soak } from './soak.js';
import { streaming } from './streaming.js';
import { throughput } from './throughput.js';
import { urgent } from './urgent.js';

export const benchmarks: readonly Benchmark[] = [
  dispatch,
  throughput,
  concurrency,
  memory,
  urgent,
  cancel,
  lazy,
  graph,
  scaling,
  streaming,
  hash,
  soak,
  bullmq,
];
