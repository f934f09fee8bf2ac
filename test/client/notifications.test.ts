/**
 * Keyspace notifications seen by real subscribers (ioredis and node-redis v4)
 * against an in-process Mnemo: event names and order for common commands,
 * the class letters of notify-keyspace-events, and `expired` fired by the
 * active expiry cycle after the server clock was frozen and moved forward.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, connectNodeRedis, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let handle: ServerHandle;
let io: Redis;

before(async () => {
  handle = await startTestServer();
  io = await connectIo(handle);
});

after(() => closeAll(handle, io));

beforeEach(async () => {
  handle.clock.resume();
  handle.server.activeExpireEnabled = true;
  await io.config('SET', 'notify-keyspace-events', '');
  await io.flushall();
});

/** An ioredis subscriber on a pattern, recording "channel message" lines. */
async function listen(pattern: string): Promise<{ events: string[]; close: () => void }> {
  const sub = io.duplicate();
  const events: string[] = [];
  sub.on('pmessage', (_p: string, channel: string, message: string) => events.push(`${channel} ${message}`));
  await sub.psubscribe(pattern);
  return { events, close: () => sub.disconnect() };
}

/** Lets the server flush pending messages, then returns what arrived. */
async function settle(events: string[], count: number): Promise<string[]> {
  await waitFor(() => events.length >= count, `${count} events (got ${events.length}: ${events.join(', ')})`, 3000);
  await new Promise((r) => setTimeout(r, 20));
  return events;
}

describe('events of common commands (ioredis)', () => {
  test('KEA: keyspace then keyevent message for each event, in command order', async () => {
    await io.config('SET', 'notify-keyspace-events', 'KEA');
    const l = await listen('__key*__:*');
    try {
      await io.set('k', 'v');
      await io.expire('k', 100);
      await io.rename('k', 'k2');
      await io.del('k2');
      assert.deepEqual(await settle(l.events, 10), [
        '__keyspace@0__:k set',
        '__keyevent@0__:set k',
        '__keyspace@0__:k expire',
        '__keyevent@0__:expire k',
        '__keyspace@0__:k rename_from',
        '__keyevent@0__:rename_from k',
        '__keyspace@0__:k2 rename_to',
        '__keyevent@0__:rename_to k2',
        '__keyspace@0__:k2 del',
        '__keyevent@0__:del k2',
      ]);
    } finally {
      l.close();
    }
  });

  test('lists, hashes, strings and bitmaps name their events like Redis', async () => {
    await io.config('SET', 'notify-keyspace-events', 'E$lhg');
    const l = await listen('__keyevent@0__:*');
    try {
      await io.rpush('l', 'a', 'b');
      await io.lpop('l');
      await io.rpop('l'); // empties the list: rpop, then del
      await io.hset('h', 'f', '1');
      await io.hincrby('h', 'f', 2);
      await io.hdel('h', 'f');
      await io.incr('n');
      await io.append('s', 'x');
      await io.setbit('b', 3, 1);
      const names = (await settle(l.events, 11)).map((e) => e.slice('__keyevent@0__:'.length));
      assert.deepEqual(names, [
        'rpush l',
        'lpop l',
        'rpop l',
        'del l',
        'hset h',
        'hincrby h',
        'hdel h',
        'del h',
        'incrby n',
        'append s',
        'setbit b',
      ]);
    } finally {
      l.close();
    }
  });

  test('a blocked BLPOP served by RPUSH: rpush, then lpop and del', async () => {
    await io.config('SET', 'notify-keyspace-events', 'El');
    const l = await listen('__keyevent@0__:*');
    const blocker = io.duplicate();
    try {
      const popped = blocker.blpop('q', 5);
      await waitFor(() => handle.server.blocking.count === 1, 'BLPOP to block', 3000);
      await io.config('SET', 'notify-keyspace-events', 'Elg');
      await io.rpush('q', 'job');
      assert.deepEqual(await popped, ['q', 'job']);
      assert.deepEqual(await settle(l.events, 3), ['__keyevent@0__:rpush q', '__keyevent@0__:lpop q', '__keyevent@0__:del q']);
    } finally {
      blocker.disconnect();
      l.close();
    }
  });

  test('class letters select events: Kx, Em, En', async () => {
    const l = await listen('__key*__:*');
    try {
      await io.config('SET', 'notify-keyspace-events', 'Em');
      await io.get('missing');
      await io.set('present', '1');
      await io.get('present');
      await io.config('SET', 'notify-keyspace-events', 'En');
      await io.set('fresh', '1');
      await io.set('fresh', '2');
      await io.config('SET', 'notify-keyspace-events', 'Kx');
      await io.set('gone', '1', 'PX', 1);
      await new Promise((r) => setTimeout(r, 5));
      await io.get('gone');
      assert.deepEqual(await settle(l.events, 3), [
        '__keyevent@0__:keymiss missing',
        '__keyevent@0__:new fresh',
        '__keyspace@0__:gone expired',
      ]);
    } finally {
      l.close();
    }
  });

  test('events carry the database number', async () => {
    await io.config('SET', 'notify-keyspace-events', 'E$');
    const l = await listen('__keyevent@*');
    const other = io.duplicate();
    try {
      await other.select(5);
      await other.set('k5', 'v');
      await io.set('k0', 'v');
      assert.deepEqual(await settle(l.events, 2), ['__keyevent@5__:set k5', '__keyevent@0__:set k0']);
    } finally {
      other.disconnect();
      l.close();
    }
  });
});

describe('expired events from the active expiry cycle', () => {
  test('frozen clock: nothing expires; after advancing it the cycle fires `expired` without any access', async () => {
    await io.config('SET', 'notify-keyspace-events', 'Ex');
    const l = await listen('__keyevent@0__:expired');
    try {
      handle.clock.freeze();
      await io.set('session:1', 'a', 'PX', 1000);
      await io.set('session:2', 'b', 'PX', 60_000);
      // Several cron ticks pass with the clock frozen: no expiry.
      await new Promise((r) => setTimeout(r, 250));
      assert.deepEqual(l.events, []);
      handle.clock.advance(1500);
      await settle(l.events, 1);
      assert.deepEqual(l.events, ['__keyevent@0__:expired session:1']);
      assert.equal(handle.server.dbs[0].peek('session:1'), undefined, 'removed by the cycle');
      assert.notEqual(handle.server.dbs[0].peek('session:2'), undefined);
      handle.clock.advance(60_000);
      await settle(l.events, 2);
      assert.deepEqual(l.events, ['__keyevent@0__:expired session:1', '__keyevent@0__:expired session:2']);
    } finally {
      l.close();
    }
  });

  test('with the active cycle off, `expired` fires on access (lazy expiry)', async () => {
    await io.config('SET', 'notify-keyspace-events', 'Exm');
    const l = await listen('__keyevent@0__:*');
    try {
      handle.server.activeExpireEnabled = false;
      handle.clock.freeze();
      await io.set('lazy', 'v', 'PX', 100);
      handle.clock.advance(200);
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(l.events, []);
      assert.equal(await io.get('lazy'), null);
      assert.deepEqual(await settle(l.events, 2), ['__keyevent@0__:expired lazy', '__keyevent@0__:keymiss lazy']);
    } finally {
      l.close();
    }
  });
});

describe('node-redis v4', () => {
  test('pSubscribe to keyspace channels of a key', async () => {
    await io.config('SET', 'notify-keyspace-events', 'KA');
    const client = await connectNodeRedis(handle);
    const sub = client.duplicate();
    await sub.connect();
    try {
      const got: string[] = [];
      await sub.pSubscribe('__keyspace@0__:user:*', (message, channel) => got.push(`${channel} ${message}`));
      await client.hSet('user:1', 'name', 'ann');
      await client.expire('user:1', 10);
      await client.persist('user:1');
      await client.set('other', 'x');
      await client.unlink('user:1');
      await waitFor(() => got.length === 4, 'condition', 3000);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got, [
        '__keyspace@0__:user:1 hset',
        '__keyspace@0__:user:1 expire',
        '__keyspace@0__:user:1 persist',
        '__keyspace@0__:user:1 del',
      ]);
    } finally {
      await sub.quit();
      await client.quit();
    }
  });
});
