/**
 * MIGRATE from Mnemo (in-process) to a real redis-server and to another
 * Mnemo: the keys arrive with their values and TTLs (RESTORE of Mnemo's DUMP
 * payloads), leave the source unless COPY, travel as one DEL to Mnemo's
 * AOF/replicas, and the target's errors (NOAUTH, BUSYKEY, a bad db) come back
 * as Redis words them. Only the calling client waits meanwhile.
 *
 * redis-server comes from Debian's redis-server package (CI installs it):
 * when missing, these tests fail, they do not skip.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createServer, type Socket } from 'node:net';
import { startServer, type ServerHandle } from '../../src/index.js';
import { freePort, spawnServer, tempDir } from '../helpers/process.js';
import { propagated } from '../helpers/observe.js';

const cleanups: Array<() => void | Promise<void>> = [];
let source: ServerHandle;
let src: Redis;
let target: Redis;
let targetPort = 0;

before(async () => {
  targetPort = await freePort();
  await spawnServer('redis', ['--port', String(targetPort), '--dir', tempDir('mnemo-migrate-', cleanups), '--save', '', '--requirepass', 'pw'], cleanups);
  target = new Redis(targetPort, '127.0.0.1', { password: 'pw', lazyConnect: true });
  await target.connect();
  cleanups.push(() => void target.disconnect());
  source = await startServer({ port: 0 });
  cleanups.push(() => source.close());
  src = new Redis(source.port, source.host, { lazyConnect: true });
  await src.connect();
  cleanups.push(() => void src.disconnect());
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const mig = (...args: Array<string | number>): Promise<unknown> => src.call('MIGRATE', '127.0.0.1', targetPort, ...args);

test('migrate: keys move to redis-server with their values and TTLs, and leave Mnemo as one propagated DEL', async () => {
  await src.set('plain', 'v');
  await src.set('ttl', 'x', 'PX', 60000);
  await src.rpush('list', 'a', 'b', 'c');
  await src.zadd('zset', 1.5, 'm');
  await src.xadd('stream', '1-1', 'f', 'v');
  await assert.rejects(mig('plain', 0, 5000), /^ReplyError: ERR Target instance replied with error: NOAUTH Authentication required\.$/);
  assert.equal(await src.exists('plain'), 1, 'a refused RESTORE keeps the key');
  const log = await propagated(source, () => mig('', 0, 5000, 'AUTH', 'pw', 'KEYS', 'plain', 'ttl', 'list', 'zset', 'stream', 'missing'));
  assert.deepEqual(log, [['DEL', 'plain', 'ttl', 'list', 'zset', 'stream']]);
  assert.equal(await src.exists('plain', 'ttl', 'list', 'zset', 'stream'), 0);
  assert.equal(await target.get('plain'), 'v');
  const ttl = await target.pttl('ttl');
  assert.ok(ttl > 50000 && ttl <= 60000, `ttl ${ttl}`);
  assert.equal(await target.pttl('plain'), -1);
  assert.deepEqual(await target.lrange('list', 0, -1), ['a', 'b', 'c']);
  assert.equal(await target.zscore('zset', 'm'), '1.5');
  assert.deepEqual(await target.xrange('stream', '-', '+'), [['1-1', ['f', 'v']]]);
});

test('migrate: COPY keeps the source, BUSYKEY without REPLACE, REPLACE overwrites, AUTH2 and another db', async () => {
  await src.set('k', 'one');
  assert.equal(await mig('k', 2, 5000, 'AUTH2', 'default', 'pw', 'COPY'), 'OK');
  assert.equal(await src.get('k'), 'one');
  await target.select(2);
  assert.equal(await target.get('k'), 'one');
  await src.set('k', 'two');
  await assert.rejects(mig('k', 2, 5000, 'AUTH', 'pw'), /^ReplyError: ERR Target instance replied with error: BUSYKEY Target key name already exists\.$/);
  assert.equal(await src.get('k'), 'two');
  assert.equal(await mig('k', 2, 5000, 'AUTH', 'pw', 'REPLACE'), 'OK');
  assert.equal(await target.get('k'), 'two');
  assert.equal(await src.exists('k'), 0);
  await target.select(0);
  await src.set('k', 'three');
  await assert.rejects(mig('k', 99, 5000, 'AUTH', 'pw'), /^ReplyError: ERR Target instance replied with error: ERR DB index is out of range$/);
  assert.equal(await mig('nokey', 0, 5000, 'AUTH', 'pw'), 'NOKEY');
});

test('migrate: with KEYS, the keys the target acknowledged leave even when others were refused', async () => {
  await target.select(3);
  await target.mset('busy1', '_', 'busy2', '_');
  await src.mset('ok1', '1', 'busy1', '2', 'ok2', '3', 'busy2', '4', 'ok3', '5');
  await assert.rejects(
    src.call('MIGRATE', '127.0.0.1', targetPort, '', 3, 5000, 'AUTH', 'pw', 'KEYS', 'ok1', 'busy1', 'ok2', 'busy2', 'ok3'),
    /^ReplyError: ERR Target instance replied with error: BUSYKEY Target key name already exists\.$/,
  );
  assert.deepEqual((await src.keys('*')).filter((k) => /^(ok|busy)/.test(k)).sort(), ['busy1', 'busy2']);
  assert.deepEqual(await target.mget('ok1', 'ok2', 'ok3', 'busy1'), ['1', '3', '5', '_']);
  await target.flushdb();
  await target.select(0);
  await src.del('busy1', 'busy2');
});

test('migrate: the connection to a target is cached, and replaced when the target closed it', async () => {
  const cached = async (): Promise<string> => /migrate_cached_sockets:(\d+)/.exec(await src.info('stats'))![1];
  await src.set('c1', 'v1');
  assert.equal(await mig('c1', 4, 5000, 'AUTH', 'pw'), 'OK');
  assert.equal(await cached(), '1');
  await src.set('c2', 'v2');
  assert.equal(await mig('c2', 4, 5000, 'AUTH', 'pw'), 'OK');
  assert.equal(await cached(), '1');
  // The target drops every other client, our cached connection included.
  await target.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await src.set('c3', 'v3');
  assert.equal(await mig('c3', 4, 5000, 'AUTH', 'pw'), 'OK');
  await target.select(4);
  assert.deepEqual(await target.mget('c1', 'c2', 'c3'), ['v1', 'v2', 'v3']);
  await target.flushdb();
  await target.select(0);
});

test('migrate: Mnemo to Mnemo, and other clients are served while a migration waits', async () => {
  const dest = await startServer({ port: 0 });
  cleanups.push(() => dest.close());
  const d = new Redis(dest.port, dest.host, { lazyConnect: true });
  await d.connect();
  cleanups.push(() => void d.disconnect());
  await src.hset('h', 'f', 'v', 'g', 'w');
  await src.sadd('s', 'a', 'b');
  assert.equal(await src.call('MIGRATE', dest.host, dest.port, '', 0, 5000, 'KEYS', 'h', 's'), 'OK');
  assert.deepEqual(await d.hgetall('h'), { f: 'v', g: 'w' });
  assert.deepEqual((await d.smembers('s')).sort(), ['a', 'b']);
  // A target that accepts the connection but never answers: MIGRATE waits for its timeout,
  // and meanwhile another client of the source is served.
  const accepted: Socket[] = [];
  const silent = createServer((sock) => void accepted.push(sock));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => {
    for (const sock of accepted) sock.destroy();
    return new Promise<void>((r) => silent.close(() => r()));
  });
  const silentPort = (silent.address() as { port: number }).port;
  await src.set('slow', 'v');
  const started = Date.now();
  const pending = src.call('MIGRATE', '127.0.0.1', silentPort, 'slow', 0, 300).catch((e: Error) => e.message);
  const other = src.duplicate();
  cleanups.push(() => void other.disconnect());
  assert.equal(await other.ping(), 'PONG');
  assert.ok(Date.now() - started < 300, 'another client waited for the migration');
  assert.equal(await pending, 'IOERR error or timeout reading to target instance');
  assert.equal(await src.get('slow'), 'v');
});

test('migrate: the timeout is the target\'s silence, not time the source spent serving other clients', async () => {
  // A target that answers 40 ms after the request, well within MIGRATE's 150 ms timeout. Right
  // when the request arrives, another client makes the source busy for 400 ms (DEBUG SLEEP
  // holds its event loop). Redis, which waits for the target before serving anyone else, gets
  // the answer in time: so must Mnemo, although its timer expired during the other command.
  const busySource = await startServer({ port: 0, config: { 'enable-debug-command': 'yes' } });
  cleanups.push(() => busySource.close());
  const migrating = new Redis(busySource.port, busySource.host, { lazyConnect: true });
  await migrating.connect();
  cleanups.push(() => void migrating.disconnect());
  const busy = migrating.duplicate();
  cleanups.push(() => void busy.disconnect());
  await busy.ping();
  const conns: Socket[] = [];
  let slept: Promise<unknown> | null = null;
  const slow = createServer((sock) => {
    conns.push(sock);
    sock.on('error', () => {});
    let input = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      input = Buffer.concat([input, d]);
      // SELECT then RESTORE: two commands.
      if (slept === null && countFrames(input) === 2) {
        slept = busy.call('DEBUG', 'SLEEP', '0.4');
        setTimeout(() => sock.write('+OK\r\n+OK\r\n'), 40);
      }
    });
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => {
    for (const sock of conns) sock.destroy();
    return new Promise<void>((r) => slow.close(() => r()));
  });
  await migrating.set('patient', 'v');
  const port = (slow.address() as { port: number }).port;
  assert.equal(await migrating.call('MIGRATE', '127.0.0.1', port, 'patient', 0, 150), 'OK');
  assert.equal(await slept, 'OK');
  assert.equal(await migrating.exists('patient'), 0);
});

/** How many complete RESP arrays of bulk strings `buf` holds. */
function countFrames(buf: Buffer): number {
  let pos = 0;
  let frames = 0;
  const line = (): number | null => {
    const end = buf.indexOf('\r\n', pos);
    if (end < 0) return null;
    const n = Number(buf.toString('latin1', pos + 1, end));
    pos = end + 2;
    return n;
  };
  for (;;) {
    const items = line();
    if (items === null) return frames;
    for (let i = 0; i < items; i++) {
      const len = line();
      if (len === null || pos + len + 2 > buf.length) return frames;
      pos += len + 2;
    }
    frames++;
  }
}
