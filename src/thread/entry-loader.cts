/**
 * What Piscina loads in each thread of the built package: a CommonJS file, so that Piscina's
 * `require()` of it is a plain CommonJS load. Node 20's require() of an ES module (entry.js) can
 * abort the whole process when its thread is ended while the load is under way
 * (ModuleWrap::CreateRequiredModuleFacade asserts), which a pool closed as its threads start did.
 * The ES module entry is imported instead, and each task goes to it once it is there (at once,
 * after the first).
 */
type RunTask = (task: unknown) => unknown;

// `import()` stays an import in this CommonJS output (module: NodeNext).
const loading = import('./entry.js') as unknown as Promise<{ default: RunTask }>;
let runTask: RunTask | undefined;

module.exports = function runTaskWhenLoaded(task: unknown): unknown {
  if (runTask !== undefined) return runTask(task);
  return loading.then((entry) => (runTask = entry.default)(task));
};
