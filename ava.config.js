// Tests are TypeScript run through tsx; worker threads inherit the loader from execArgv,
// so worker modules written in TypeScript load in tests as they do under `tsx` at the command line.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

// test/bullmq*.test.ts start their own Redis (test/fixtures/redis.ts). Without a redis-server they
// are left out, with one line saying so, unless CI is set: there they run and fail, saying why.
// The lookup is test/fixtures/redis.ts's redisServerPath(), repeated here in plain JavaScript (this
// file loads without tsx); keep the two alike. LAZYPOOL_REDIS_SERVER=/nonexistent npx ava shows
// the selection without Redis.
const redisTests = 'test/bullmq*.test.ts';

function isExecutableFile(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function redisServerPath() {
  const chosen = process.env.LAZYPOOL_REDIS_SERVER;
  if (chosen) return isExecutableFile(chosen) ? chosen : undefined;
  const folders = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin'];
  return folders.map((folder) => join(folder, 'redis-server')).find(isExecutableFile);
}

const files = ['test/**/*.test.ts'];
if (!process.env.CI && redisServerPath() === undefined) {
  files.push(`!${redisTests}`);
  console.warn(`redis-server not found: the BullMQ tests (${redisTests}) are not run; install it with: apt-get install redis-server`);
}

export default {
  files,
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '60s',
  workerThreads: false,
  concurrency: 2,
};
