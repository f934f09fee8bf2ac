/**
 * Shared client-test setup: an in-process Mnemo on an ephemeral port and the
 * client libraries connected to it (ioredis, node-redis v4), closed together
 * in after(). Test files keep their own `handle`/`io`/`nr` variables:
 *
 *   before(async () => ({ handle, io, nr } = await startWithClients()));
 *   after(() => closeAll(handle, io, nr));
 *
 * or, for many connections opened on demand, serverWithClientPool().
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Redis, type RedisOptions } from 'ioredis';
import { createClient } from 'redis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerHandle } from '../../src/index.js';

export type NodeRedisClient = ReturnType<typeof createClient>;

export interface ServerWithClients {
  handle: ServerHandle;
  io: Redis;
  nr: NodeRedisClient;
}

let scratchDir: string | null = null;

/** One temp dir per test process for servers given no `dir` (removed at exit): files they write (a replica's disk sync) stay out of the repository. */
function defaultDir(): string {
  if (scratchDir === null) {
    const d = mkdtempSync(join(tmpdir(), 'mnemo-test-dir-'));
    scratchDir = d;
    process.once('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return scratchDir;
}

/** Starts a server on a free port, with config directives as redis.conf names (`dir` a temp dir unless given). */
export function startTestServer(config?: Record<string, string>): Promise<ServerHandle> {
  return startServer({ port: 0, config: { dir: defaultDir(), ...config } });
}

/**
 * An ioredis client of the server, connected. No retries: a command that
 * cannot be sent fails the test at once instead of waiting for a reconnect.
 */
export async function connectIo(handle: ServerHandle, options: RedisOptions = {}): Promise<Redis> {
  const io = new Redis({ port: handle.port, host: handle.host, lazyConnect: true, maxRetriesPerRequest: 0, ...options });
  await io.connect();
  return io;
}

/** A node-redis v4 client of the server, connected. */
export async function connectNodeRedis(handle: ServerHandle): Promise<NodeRedisClient> {
  const nr = createClient({ socket: { port: handle.port, host: handle.host } });
  await nr.connect();
  return nr;
}

/** A server plus one connected client of each library. */
export async function startWithClients(config?: Record<string, string>, ioOptions?: RedisOptions): Promise<ServerWithClients> {
  const handle = await startTestServer(config);
  const io = await connectIo(handle, ioOptions);
  const nr = await connectNodeRedis(handle);
  return { handle, io, nr };
}

/** Closes the clients (any of them may be missing after a failed before()), then the server. */
export async function closeAll(handle: ServerHandle | undefined, ...clients: Array<Redis | NodeRedisClient | undefined>): Promise<void> {
  for (const c of clients) {
    if (c === undefined) continue;
    if (c instanceof Redis) c.disconnect();
    else if (c.isOpen) await c.quit();
  }
  await handle?.close();
}

/**
 * For files whose tests open many connections (blocking pops, WATCH races):
 * registers before/after hooks that start a server for the file (handed to
 * `onStart`) and in the end close it and every client opened. Returns
 * `connect`: a new ioredis client of that server, which connects on its own
 * (commands queue until then).
 *
 *   let handle: ServerHandle;
 *   const connect = serverWithClientPool((h) => (handle = h));
 */
export function serverWithClientPool(onStart: (handle: ServerHandle) => void): () => Redis {
  let handle: ServerHandle | undefined;
  const clients: Redis[] = [];
  before(async () => {
    handle = await startTestServer();
    onStart(handle);
  });
  after(() => closeAll(handle, ...clients.splice(0)));
  return () => {
    assert.ok(handle, 'connect() runs inside a test, after the server started');
    const r = new Redis({ port: handle.port, host: handle.host, maxRetriesPerRequest: 0 });
    clients.push(r);
    return r;
  };
}

/** Sets a config directive straight on the server (no client round trip); it must be accepted. */
export function setConfig(handle: ServerHandle, name: string, value: string): void {
  assert.equal(handle.server.config.configSet([[name, value]]), null);
}
