/**
 * CLIENT PAUSE / UNPAUSE enforced (src/server/pause.ts), with ioredis and
 * node-redis against an in-process Mnemo. Behaviours checked against
 * redis-server 7.0.15: what WRITE and ALL hold, pipelines keeping their
 * order, held writes inside MULTI, CLIENT LIST/INFO/UNBLOCK on a held client,
 * merging of pauses, and no expiry or eviction while paused.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, connectNodeRedis, startTestServer, type NodeRedisClient } from '../helpers/server.js';
import { blockedCount, settled, waitFor } from '../helpers/wait.js';
import { accountedMemory } from '../../src/server/eviction.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;
/** Extra connections opened by the tests, closed in after(). */
const extra: Redis[] = [];

before(async () => {
  handle = await startTestServer({ save: '' });
  io = await connectIo(handle);
  nr = await connectNodeRedis(handle);
});
after(async () => {
  for (const r of extra) r.disconnect();
  await closeAll(handle, io, nr);
});
afterEach(async () => {
  await io.call('CLIENT', 'UNPAUSE');
  handle.clock.resume();
  await io.flushall();
});

/** A fresh ioredis client (its own connection, so it can be paused on its own). */
async function client(): Promise<Redis> {
  const r = await connectIo(handle);
  extra.push(r);
  return r;
}

describe('CLIENT PAUSE WRITE', () => {
  test('writes wait, reads go on; the held client keeps its pipeline order', async () => {
    await io.set('k', 'v0');
    const writer = await client();
    const reader = await client();
    assert.equal(await io.call('CLIENT', 'PAUSE', '100000', 'WRITE'), 'OK');
    const set = writer.set('k', 'v1');
    // The GET behind the SET on the same connection waits with it.
    const getAfter = writer.get('k');
    await blockedCount(handle, 1);
    assert.equal(await settled(set), false);
    assert.equal(await settled(getAfter), false);
    // Other clients read; the pausing client too.
    assert.equal(await reader.get('k'), 'v0');
    assert.equal(await io.get('k'), 'v0');
    // The held client shows up as blocked, running the held command.
    const list = String(await reader.call('CLIENT', 'LIST'));
    const line = list.split('\n').find((l) => / cmd=set /.test(l));
    assert.ok(line, list);
    assert.match(line, / flags=b /);
    assert.match(await reader.info('clients'), /blocked_clients:1\r\n/);
    const id = line.match(/^id=(\d+)/)![1];
    // CLIENT UNBLOCK leaves a paused client alone.
    assert.equal(await reader.call('CLIENT', 'UNBLOCK', id), 0);
    assert.equal(await io.call('CLIENT', 'UNPAUSE'), 'OK');
    assert.equal(await set, 'OK');
    assert.equal(await getAfter, 'v1');
    assert.equal(handle.server.blocking.count, 0);
  });

  test('EVAL, PUBLISH and PFCOUNT wait (may_replicate); a held write in MULTI waits before QUEUED', async () => {
    const a = await client();
    const b = await client();
    const c = await client();
    const d = await client();
    await io.call('CLIENT', 'PAUSE', '100000', 'WRITE');
    const evalP = a.eval('return 1', 0);
    const pub = b.publish('ch', 'x');
    const pf = c.pfcount('hll');
    assert.equal(await d.call('MULTI'), 'OK');
    assert.equal(await d.call('GET', 'k'), 'QUEUED');
    const queued = d.call('INCR', 'n');
    await blockedCount(handle, 4);
    for (const p of [evalP, pub, pf, queued]) assert.equal(await settled(p), false);
    // EXEC of reads only, PING and a MULTI of reads run.
    const e = await client();
    assert.deepEqual(await e.multi().get('k').exec(), [[null, null]]);
    assert.equal(await e.ping(), 'PONG');
    await io.call('CLIENT', 'UNPAUSE');
    assert.equal(await evalP, 1);
    assert.equal(await pub, 0);
    assert.equal(await pf, 0);
    assert.equal(await queued, 'QUEUED');
    assert.deepEqual(await d.call('EXEC'), [null, 1]);
  });

  test('the pause ends by itself when its time is up (frozen clock: when it is moved)', async () => {
    handle.clock.freeze();
    const w = await client();
    await io.call('CLIENT', 'PAUSE', '5000', 'WRITE');
    const set = w.set('t', '1');
    await blockedCount(handle, 1);
    handle.clock.advance(4000);
    assert.equal(await settled(set), false);
    handle.clock.advance(1001);
    assert.equal(await set, 'OK');
  });

  test('a held client may disconnect or be killed', async () => {
    const w1 = await client();
    const w2 = await client();
    await io.call('CLIENT', 'PAUSE', '100000', 'WRITE');
    const id2 = Number(await w2.call('CLIENT', 'ID'));
    void w1.set('x', '1').catch(() => {});
    void w2.set('y', '1').catch(() => {});
    await blockedCount(handle, 2);
    w1.disconnect();
    assert.equal(await io.call('CLIENT', 'KILL', 'ID', String(id2)), 1);
    await blockedCount(handle, 0);
    await io.call('CLIENT', 'UNPAUSE');
    assert.equal(await io.exists('x', 'y'), 0);
  });

  test('keys are neither actively expired nor evicted during a pause', async () => {
    handle.clock.freeze();
    await io.set('ttl', 'v', 'PX', '100');
    await io.call('CLIENT', 'PAUSE', '100000', 'WRITE');
    handle.clock.advance(1000);
    // Several cron ticks: the expired key stays while paused.
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(handle.server.dbs[0].keys.has('ttl'), true);
    // Lowering maxmemory evicts nothing while paused.
    for (let i = 0; i < 5000; i++) handle.server.dbs[0].set(`k:${i}`, 'v'.repeat(100));
    await io.config('SET', 'maxmemory-policy', 'allkeys-random');
    await io.config('SET', 'maxmemory', '1mb');
    assert.equal(await io.dbsize(), 5001);
    await io.call('CLIENT', 'UNPAUSE');
    await waitFor(() => !handle.server.dbs[0].keys.has('ttl'), 'active expiry after the pause');
    // The next command evicts.
    await io.ping();
    await waitFor(() => (accountedMemory(handle.server) ?? 0) <= 1024 * 1024, 'eviction after the pause');
    assert.ok((await io.dbsize()) < 5000);
    await io.config('SET', 'maxmemory', '0');
    await io.config('SET', 'maxmemory-policy', 'noeviction');
  });
});

describe('CLIENT PAUSE ALL', () => {
  test('every command waits, the pausing client\'s own next ones too, until the time is up', async () => {
    handle.clock.freeze();
    const pauser = await client();
    const other = await client();
    const [ok, ping, unpause] = await Promise.all([
      pauser.call('CLIENT', 'PAUSE', '2000', 'ALL'),
      // Pipelined behind the PAUSE: held, UNPAUSE included.
      Promise.race([pauser.ping(), new Promise((r) => setTimeout(() => r('held'), 50))]),
      Promise.race([pauser.call('CLIENT', 'UNPAUSE'), new Promise((r) => setTimeout(() => r('held'), 50))]),
    ]);
    assert.deepEqual([ok, ping, unpause], ['OK', 'held', 'held']);
    const otherPing = other.ping();
    const nodeRedisGet = nr.get('k');
    await blockedCount(handle, 3);
    assert.equal(await settled(otherPing), false);
    assert.equal(await settled(nodeRedisGet), false);
    handle.clock.advance(2001);
    assert.equal(await otherPing, 'PONG');
    assert.equal(await nodeRedisGet, null);
    await blockedCount(handle, 0);
  });

  test('a second pause makes it longer or stricter, never shorter or laxer', async () => {
    handle.clock.freeze();
    const r = await client();
    await io.call('CLIENT', 'PAUSE', '4000', 'WRITE');
    await io.call('CLIENT', 'PAUSE', '1000', 'ALL');
    // ALL for the longer time: even reads wait past 1000 ms.
    const get = r.get('k');
    await blockedCount(handle, 1);
    handle.clock.advance(2000);
    assert.equal(await settled(get), false);
    handle.clock.advance(2001);
    assert.equal(await get, null);
  });

  test('PAUSE 0 pauses nothing; argument errors as Redis', async () => {
    assert.equal(await io.call('CLIENT', 'PAUSE', '0'), 'OK');
    assert.equal(await io.set('k', 'v'), 'OK');
    await assert.rejects(io.call('CLIENT', 'PAUSE', '-1'), /ERR timeout is negative/);
    await assert.rejects(io.call('CLIENT', 'PAUSE', 'x'), /ERR timeout is not an integer or out of range/);
    await assert.rejects(io.call('CLIENT', 'PAUSE', '10', 'READ'), /ERR CLIENT PAUSE mode must be WRITE or ALL/);
    assert.equal(handle.server.blocking.count, 0);
  });
});
