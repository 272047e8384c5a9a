import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('./fixtures/unhandled.ts', import.meta.url));

async function reports(scenario: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import=tsx', script, scenario]);
  const lines = stdout.trim().split('\n');
  if (lines.pop() !== 'end') throw new Error(`the scenario did not finish: ${stdout}`);
  return lines;
}

test('a job that fails with nobody listening is reported like an unhandled promise rejection', async (t) => {
  t.deepEqual(await reports('failure-nobody-listens'), ['Error: job failed']);
});

for (const scenario of ['failure-awaited', 'failure-ondone', 'failure-in-group', 'cancelled-never-awaited', 'closed-pool-handled']) {
  test(`no unhandled rejection: ${scenario}`, async (t) => {
    t.deepEqual(await reports(scenario), []);
  });
}
