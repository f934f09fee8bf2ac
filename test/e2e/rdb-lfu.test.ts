/**
 * Access data in RDB files between Mnemo and real redis-server 7.0.15:
 * LFU counters (FREQ opcode) under allkeys-lfu and idle times (IDLE opcode)
 * under allkeys-lru, both ways. Each side reads the values back with
 * OBJECT FREQ / OBJECT IDLETIME; Mnemo's file must also pass redis-check-rdb.
 * lfu-log-factor 0 and lfu-decay-time 0 make counters exact: every access
 * adds one, nothing decays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, fileCleanups, spawnServer } from '../helpers/process.js';

const REDIS_CHECK_RDB = process.env.REDIS_CHECK_RDB ?? 'redis-check-rdb';

const LFU = ['--maxmemory-policy', 'allkeys-lfu', '--lfu-log-factor', '0', '--lfu-decay-time', '0'];
const LRU = ['--maxmemory-policy', 'allkeys-lru'];

const { cleanups, tempDir } = fileCleanups('mnemo-rdb-lfu-');

interface Proc {
  client: Redis;
  stop(): Promise<void>;
}

/** Spawns a server on `dir`/dump.rdb and waits until it is ready (its file loaded). */
async function launch(kind: 'redis' | 'mnemo', dir: string, extra: string[]): Promise<Proc> {
  const port = await freePort();
  const common = ['--port', String(port), '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no', ...extra];
  const { stop } = await spawnServer(kind, common, cleanups);
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  cleanups.push(() => client.disconnect());
  return {
    client,
    stop: async () => {
      client.disconnect();
      await stop();
    },
  };
}

/** Keys of several types, each read `touches` times (GET-like commands count as accesses). */
const KEYS: Array<{ key: string; create: string[]; read: string[]; touches: number }> = [
  { key: 'hot', create: ['SET', 'hot', 'value'], read: ['GET', 'hot'], touches: 50 },
  { key: 'warm', create: ['SET', 'warm', 'value', 'EX', '100000'], read: ['GET', 'warm'], touches: 10 },
  { key: 'cold', create: ['SET', 'cold', 'value'], read: ['GET', 'cold'], touches: 0 },
  { key: 'capped', create: ['SET', 'capped', 'value'], read: ['GET', 'capped'], touches: 300 },
  { key: 'list', create: ['RPUSH', 'list', 'a', 'b', 'c'], read: ['LRANGE', 'list', '0', '-1'], touches: 7 },
  { key: 'hash', create: ['HSET', 'hash', 'f', 'v'], read: ['HGET', 'hash', 'f'], touches: 3 },
  { key: 'zset', create: ['ZADD', 'zset', '1', 'm'], read: ['ZSCORE', 'zset', 'm'], touches: 20 },
];

async function fillAndTouch(r: Redis): Promise<void> {
  for (const k of KEYS) {
    await r.call(k.create[0], ...k.create.slice(1));
    const p = r.pipeline();
    for (let i = 0; i < k.touches; i++) p.call(k.read[0], ...k.read.slice(1));
    await p.exec();
  }
}

async function freqs(r: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const k of KEYS) out[k.key] = (await r.call('OBJECT', 'FREQ', k.key)) as number;
  return out;
}

const EXPECTED = { hot: 55, warm: 15, cold: 5, capped: 255, list: 12, hash: 8, zset: 25 };

test('an RDB written by redis-server under allkeys-lfu loads into Mnemo with the same OBJECT FREQ', async () => {
  const dir = tempDir();
  const redis = await launch('redis', dir, LFU);
  await fillAndTouch(redis.client);
  const before = await freqs(redis.client);
  assert.deepEqual(before, EXPECTED);
  assert.equal(await redis.client.call('SAVE'), 'OK');
  await redis.stop();

  const mnemo = await launch('mnemo', dir, LFU);
  assert.deepEqual(await freqs(mnemo.client), before);
  assert.equal(await mnemo.client.dbsize(), KEYS.length);
  await mnemo.stop();
});

test("Mnemo's RDB under allkeys-lfu passes redis-check-rdb and loads into redis-server with the same OBJECT FREQ", async () => {
  const dir = tempDir();
  const mnemo = await launch('mnemo', dir, LFU);
  await fillAndTouch(mnemo.client);
  const before = await freqs(mnemo.client);
  assert.deepEqual(before, EXPECTED);
  assert.equal(await mnemo.client.call('SAVE'), 'OK');
  await mnemo.stop();

  const check = spawnSync(REDIS_CHECK_RDB, [join(dir, 'dump.rdb')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /RDB looks OK!/);

  const redis = await launch('redis', dir, LFU);
  assert.deepEqual(await freqs(redis.client), before);
  await redis.stop();
});

/** Under allkeys-lru: keys restored with given idle times, saved by `from`, loaded by `to`. */
async function idleRoundTrip(from: 'redis' | 'mnemo', to: 'redis' | 'mnemo'): Promise<void> {
  const dir = tempDir();
  const src = await launch(from, dir, LRU);
  await src.client.set('seed', 'value');
  const payload = (await src.client.dumpBuffer('seed'))!;
  const idles: Record<string, number> = { a: 1000, b: 86400, c: 0 };
  for (const [k, secs] of Object.entries(idles)) {
    assert.equal(await src.client.call('RESTORE', k, '0', payload, 'IDLETIME', String(secs)), 'OK');
  }
  await src.client.del('seed');
  assert.equal(await src.client.call('SAVE'), 'OK');
  await src.stop();
  if (from === 'mnemo') {
    const check = spawnSync(REDIS_CHECK_RDB, [join(dir, 'dump.rdb')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  }
  const dst = await launch(to, dir, LRU);
  for (const [k, secs] of Object.entries(idles)) {
    const got = (await dst.client.call('OBJECT', 'IDLETIME', k)) as number;
    // A few seconds pass between the save and this read.
    assert.ok(got >= secs && got <= secs + 5, `${from} -> ${to}: ${k} idle ${got}, saved ${secs}`);
  }
  await dst.stop();
}

test('idle times under allkeys-lru: redis-server -> Mnemo', () => idleRoundTrip('redis', 'mnemo'));
test('idle times under allkeys-lru: Mnemo -> redis-server', () => idleRoundTrip('mnemo', 'redis'));

test('an LFU file saved by redis-server loads into Mnemo under noeviction (FREQ ignored)', async () => {
  const dir = tempDir();
  const redis = await launch('redis', dir, LFU);
  await fillAndTouch(redis.client);
  assert.equal(await redis.client.call('SAVE'), 'OK');
  await redis.stop();
  const copy = tempDir();
  copyFileSync(join(dir, 'dump.rdb'), join(copy, 'dump.rdb'));
  const mnemo = await launch('mnemo', copy, []);
  assert.equal(await mnemo.client.dbsize(), KEYS.length);
  assert.equal(await mnemo.client.get('hot'), 'value');
  await assert.rejects(mnemo.client.call('OBJECT', 'FREQ', 'hot'), /An LFU maxmemory policy is not selected/);
  await mnemo.stop();
});
