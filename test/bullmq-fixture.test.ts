/**
 * The private Redis the BullMQ tests run against (test/fixtures/redis.ts): it starts on a free
 * port, honours a password, comes back on the same port after restart(), and stop() frees the
 * port and is safe to call twice. Named bullmq-* so that ava.config.js selects it with the other
 * tests that need redis-server.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { startRedis } from './fixtures/redis.js';

/** Errors each client emitted (ioredis emits them besides rejecting the command or connect()). */
const errors = new WeakMap<Redis, Error[]>();

/**
 * A client that does not retry (a refused connection fails at once) and sends nothing before the
 * test's own commands (no ready check, which an unauthenticated client would fail with NOAUTH).
 */
function client(options: { port: number; password?: string } | string): Redis {
  const settings = { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null };
  const redis = typeof options === 'string' ? new Redis(options, settings) : new Redis({ host: '127.0.0.1', ...options, ...settings });
  errors.set(redis, []);
  redis.on('error', (error: Error) => errors.get(redis)!.push(error));
  return redis;
}

/** Resolves with whether the port can be bound on 127.0.0.1 right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

test('startRedis starts a server that answers, on a free port of 127.0.0.1', async (t) => {
  const server = await startRedis();
  const redis = client(server.connection);
  try {
    t.is(server.host, '127.0.0.1');
    t.true(server.port > 0);
    t.is(server.password, undefined);
    t.is(server.url, `redis://127.0.0.1:${server.port}`);
    t.deepEqual(server.connection, { host: '127.0.0.1', port: server.port });
    await redis.connect();
    t.is(await redis.ping(), 'PONG');
    await redis.set('key', 'value');
    t.is(await redis.get('key'), 'value');
    t.false(await portIsFree(server.port));
  } finally {
    redis.disconnect();
    await server.stop();
  }
});

test('a server with a password refuses an unauthenticated PING (NOAUTH) and answers an authenticated one', async (t) => {
  const password = 'p@ss word/:1';
  const server = await startRedis({ password });
  const anonymous = client({ port: server.port });
  const authenticated = client(server.connection);
  const fromUrl = client(server.url);
  try {
    t.is(server.password, password);
    t.deepEqual(server.connection, { host: '127.0.0.1', port: server.port, password });
    t.is(server.url, `redis://:${encodeURIComponent(password)}@127.0.0.1:${server.port}`);
    await anonymous.connect();
    await t.throwsAsync(anonymous.ping(), { message: /NOAUTH/ });
    await authenticated.connect();
    t.is(await authenticated.ping(), 'PONG');
    await fromUrl.connect();
    t.is(await fromUrl.ping(), 'PONG');
  } finally {
    anonymous.disconnect();
    authenticated.disconnect();
    fromUrl.disconnect();
    await server.stop();
  }
});

test('restart() comes back on the same port with the same password; data is not kept', async (t) => {
  const server = await startRedis({ password: 'secret' });
  const { port } = server;
  const before = client(server.connection);
  const after = client(server.connection);
  try {
    await before.connect();
    await before.set('key', 'value');
    await server.restart();
    t.is(server.port, port);
    await after.connect();
    t.is(await after.ping(), 'PONG');
    t.is(await after.get('key'), null); // --save '' and no append-only file: a restart starts empty
    // After a crash too.
    await server.kill();
    t.true(await portIsFree(port));
    await server.restart();
    const again = client(server.connection);
    try {
      await again.connect();
      t.is(await again.ping(), 'PONG');
    } finally {
      again.disconnect();
    }
  } finally {
    before.disconnect();
    after.disconnect();
    await server.stop();
  }
});

test('stop() is idempotent, frees the port and removes the folder; restart() after it rejects', async (t) => {
  const server = await startRedis();
  const redis = client(server.connection);
  let folder: string;
  try {
    await redis.connect();
    folder = ((await redis.config('GET', 'dir')) as string[])[1];
    t.true(existsSync(folder));
  } finally {
    redis.disconnect();
  }
  await Promise.all([server.stop(), server.stop()]);
  await server.stop();
  await server.kill();
  t.true(await portIsFree(server.port));
  t.false(existsSync(folder));
  await t.throwsAsync(server.restart(), { message: /after stop\(\)/ });
  const late = client(server.connection);
  try {
    await t.throwsAsync(late.connect());
    t.regex(errors.get(late)!.map(String).join('\n'), /ECONNREFUSED/);
  } finally {
    late.disconnect();
  }
});

test('two servers at once get different ports and separate data', async (t) => {
  const [first, second] = await Promise.all([startRedis(), startRedis()]);
  const one = client(first.connection);
  const two = client(second.connection);
  try {
    t.not(first.port, second.port);
    await Promise.all([one.connect(), two.connect()]);
    await one.set('key', 'first');
    await two.set('key', 'second');
    t.is(await one.get('key'), 'first');
    t.is(await two.get('key'), 'second');
  } finally {
    one.disconnect();
    two.disconnect();
    await Promise.all([first.stop(), second.stop()]);
  }
});
