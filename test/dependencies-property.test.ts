// Random build graphs against a model (from a hostile probe's fuzz): every job settles once; a job
// runs once, and only after its dependencies settled; one whose dependency failed never runs and
// rejects with a DependencyError (unless afterSettled); priority flows up to what it waits for;
// and with concurrency 1, no job begins while a better one is ready: higher priority, then (with
// criticalPath) the longer chain through it, then submission order.
import test from 'ava';
import fc from 'fast-check';
import { DependencyError, Pool, type JobHandle } from '../src/index.js';
import { ciSeed } from './helpers.js';

interface Spec {
  priority: number;
  dependencies: number[];
  fails: boolean;
  afterSettled: boolean;
  inputFunction: boolean;
}

const graph: fc.Arbitrary<Spec[]> = fc.integer({ min: 1, max: 14 }).chain((size) =>
  fc.tuple(
    ...Array.from({ length: size }, (_, index) =>
      fc.record({
        priority: fc.integer({ min: 0, max: 2 }),
        dependencies: index === 0 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.integer({ min: 0, max: index - 1 }), { maxLength: 3 }),
        fails: fc.integer({ min: 0, max: 9 }).map((roll) => roll < 3),
        afterSettled: fc.integer({ min: 0, max: 5 }).map((roll) => roll === 0),
        inputFunction: fc.boolean(),
      }),
    ),
  ),
);

async function problemsOf(specs: Spec[], criticalPath: boolean, concurrency: number): Promise<string[]> {
  const size = specs.length;
  const started: number[] = [];
  const log: string[] = [];
  const pool = new Pool({
    concurrency,
    criticalPath,
    run: async (input: { index: number }) => {
      started.push(input.index);
      log.push(`start ${input.index}`);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`end ${input.index}`);
      if (specs[input.index]!.fails) throw new Error(`job ${input.index} fails`);
      return input.index;
    },
  });
  // Everything is submitted before anything runs: the order is then the pool's to choose.
  pool.pause();
  const handles: JobHandle[] = [];
  const settledCount = new Array<number>(size).fill(0);
  for (const [index, spec] of specs.entries()) {
    const options: { priority: number; after?: JobHandle[]; afterSettled?: boolean } = { priority: spec.priority };
    if (spec.dependencies.length > 0) {
      options.after = spec.dependencies.map((dependency) => handles[dependency]!);
      if (spec.afterSettled) options.afterSettled = true;
    }
    const handle = pool.submit(spec.inputFunction ? () => ({ index }) : { index }, options);
    handle.onDone(() => {
      settledCount[index]!++;
      log.push(`settle ${index}`);
    });
    handle.catch(() => {});
    handles.push(handle);
  }
  const priorities = handles.map((handle) => handle.priority);
  pool.resume();
  await pool.idle();
  // onDone callbacks run on a later microtask.
  await new Promise((resolve) => setImmediate(resolve));
  await pool.close();

  const problems: string[] = [];
  // Priority flows up: a dependency waits at the highest priority of what waits on it.
  const inherited = specs.map((spec) => spec.priority);
  for (let index = size - 1; index >= 0; index--) {
    for (const dependency of specs[index]!.dependencies) inherited[dependency] = Math.max(inherited[dependency]!, inherited[index]!);
  }
  const depth = new Array<number>(size).fill(0);
  const height = new Array<number>(size).fill(0);
  for (let index = 0; index < size; index++) for (const dependency of specs[index]!.dependencies) depth[index] = Math.max(depth[index]!, depth[dependency]! + 1);
  for (let index = size - 1; index >= 0; index--) for (const dependency of specs[index]!.dependencies) height[dependency] = Math.max(height[dependency]!, height[index]! + 1);
  const outcome: ('fulfilled' | 'rejected' | 'dependency')[] = [];
  for (const [index, spec] of specs.entries()) {
    const dependencyFailed = spec.dependencies.some((dependency) => outcome[dependency] !== 'fulfilled');
    outcome[index] = dependencyFailed && !spec.afterSettled ? 'dependency' : spec.fails ? 'rejected' : 'fulfilled';
  }
  for (let index = 0; index < size; index++) {
    const handle = handles[index]!;
    if (priorities[index] !== inherited[index]) problems.push(`job ${index} waited at priority ${priorities[index]}, the model says ${inherited[index]}`);
    if (settledCount[index] !== 1) problems.push(`job ${index} settled ${settledCount[index]} times`);
    const runs = started.filter((each) => each === index).length;
    if (outcome[index] === 'dependency') {
      if (runs > 0) problems.push(`job ${index} ran though a dependency failed`);
      if (!((handle.outcome as { reason?: unknown } | undefined)?.reason instanceof DependencyError)) problems.push(`job ${index} did not reject with a DependencyError (${handle.state})`);
    } else {
      if (runs !== 1) problems.push(`job ${index} ran ${runs} times`);
      if ((outcome[index] === 'fulfilled') !== (handle.state === 'fulfilled')) problems.push(`job ${index} is ${handle.state}, the model says ${outcome[index]}`);
    }
    const began = log.indexOf(`start ${index}`);
    if (began < 0) continue;
    for (const dependency of specs[index]!.dependencies) {
      const settled = log.indexOf(`settle ${dependency}`);
      if (settled < 0 || settled > began) problems.push(`job ${index} began before its dependency ${dependency} settled`);
    }
  }
  if (concurrency === 1) {
    const key = (index: number) => [inherited[index]!, criticalPath ? depth[index]! + height[index]! : 0, -index];
    const better = (a: number, b: number) => {
      const [ka, kb] = [key(a), key(b)];
      for (let part = 0; part < ka.length; part++) if (ka[part] !== kb[part]) return ka[part]! > kb[part]!;
      return false;
    };
    for (let position = 1; position < started.length; position++) {
      const chosen = started[position]!;
      // Known settled: what settled before the job before it began.
      const before = log.indexOf(`start ${started[position - 1]}`);
      const settled = new Set(log.slice(0, before).flatMap((line) => (line.startsWith('settle ') ? [Number(line.slice(7))] : [])));
      const begun = new Set(started.slice(0, position));
      for (let other = 0; other < size; other++) {
        if (begun.has(other) || other === chosen || outcome[other] === 'dependency') continue;
        const ready = specs[other]!.dependencies.every((dependency) => settled.has(dependency) && (specs[other]!.afterSettled || handles[dependency]!.state === 'fulfilled'));
        if (ready && better(other, chosen)) {
          problems.push(`job ${chosen} began while job ${other}, ready, went first by priority or chain (began: ${started.join(',')})`);
          break;
        }
      }
    }
  }
  return problems;
}

for (const [criticalPath, concurrency] of [
  [false, 1],
  [true, 1],
  [true, 3],
] as const) {
  test(`random graphs (criticalPath ${criticalPath}, concurrency ${concurrency}) settle, run and order as the model says`, async (t) => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(graph, async (specs) => {
        runs++;
        const problems = await problemsOf(specs, criticalPath, concurrency);
        if (problems.length > 0) throw new Error(`${problems.slice(0, 5).join('\n')}\ngraph: ${JSON.stringify(specs)}`);
      }),
      { ...ciSeed, numRuns: 300 },
    );
    t.is(runs, 300);
  });
}
