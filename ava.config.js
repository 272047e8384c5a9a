// Tests are TypeScript run through tsx; worker threads inherit the loader from execArgv,
// so worker modules written in TypeScript load in tests as they do under `tsx` at the command line.
export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '60s',
  workerThreads: false,
  concurrency: 2,
};
