/**
 * Set commands through real client libraries (ioredis and node-redis v4): the
 * seed's examples, binary-safe members, the intset to hashtable conversion,
 * SSCAN's guarantee on a big set being changed between calls, random picks,
 * TTLs kept across in-place writes, and the side effects Redis documents
 * (keyspace events, propagation of SPOP as SREM/DEL, dirty counter).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, setConfig, startTestServer, startWithClients, type NodeRedisClient } from '../helpers/server.js';
import { captureEvents, propagated } from '../helpers/observe.js';
import { SetValue } from '../../src/data/set.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;

before(async () => ({ handle, io, nr } = await startWithClients()));
after(() => closeAll(handle, io, nr));

beforeEach(() => {
  handle.clock.resume();
  handle.server.dbs[0].flush();
  setConfig(handle, 'set-max-intset-entries', '512');
});

/** The stored value's encoding, read straight from the keyspace. */
function encodingOf(key: string): string {
  const v = handle.server.dbs[0].peek(key);
  assert.ok(v instanceof SetValue, `${key} holds a set`);
  return v.encoding();
}

const sorted = (a: readonly string[]) => [...a].sort();

describe('seed examples', () => {
  test('ioredis: online users, tags, premium users', async () => {
    assert.equal(await io.sadd('online_users', 'user:123', 'user:456'), 2);
    assert.equal(await io.sismember('online_users', 'user:123'), 1);
    assert.equal(await io.sismember('online_users', 'user:999'), 0);
    assert.deepEqual(sorted(await io.smembers('online_users')), ['user:123', 'user:456']);

    await io.sadd('tags:post:1', 'redis', 'database', 'nosql');
    await io.sadd('tags:post:2', 'redis', 'cache', 'nosql');
    assert.deepEqual(sorted(await io.sinter('tags:post:1', 'tags:post:2')), ['nosql', 'redis']);
    assert.deepEqual(sorted(await io.sunion('tags:post:1', 'tags:post:2')), ['cache', 'database', 'nosql', 'redis']);

    await io.sadd('premium_users', 'user:456', 'user:789');
    assert.deepEqual(await io.sdiff('online_users', 'premium_users'), ['user:123']);
    assert.equal(await io.scard('online_users'), 2);
  });

  test('node-redis: online users, tags, premium users', async () => {
    assert.equal(await nr.sAdd('online_users', ['user:123', 'user:456']), 2);
    assert.equal(await nr.sIsMember('online_users', 'user:123'), true);
    assert.equal(await nr.sIsMember('online_users', 'user:999'), false);
    assert.deepEqual(sorted(await nr.sMembers('online_users')), ['user:123', 'user:456']);

    await nr.sAdd('tags:post:1', ['redis', 'database', 'nosql']);
    await nr.sAdd('tags:post:2', ['redis', 'cache', 'nosql']);
    assert.deepEqual(sorted(await nr.sInter(['tags:post:1', 'tags:post:2'])), ['nosql', 'redis']);
    assert.deepEqual(sorted(await nr.sUnion(['tags:post:1', 'tags:post:2'])), ['cache', 'database', 'nosql', 'redis']);

    await nr.sAdd('premium_users', ['user:456', 'user:789']);
    assert.deepEqual(await nr.sDiff(['online_users', 'premium_users']), ['user:123']);
    assert.equal(await nr.sCard('online_users'), 2);
    assert.equal(await nr.sRem('online_users', 'user:123'), 1);
    assert.equal(await nr.sMove('online_users', 'premium_users', 'user:456'), true);
    assert.equal(await nr.exists('online_users'), 0);
  });
});

describe('commands', () => {
  test('integer members stay sorted (intset) until a string or the 513th member arrives', async () => {
    assert.equal(await io.sadd('ids', 30, 10, 20, -5), 4);
    assert.deepEqual(await io.smembers('ids'), ['-5', '10', '20', '30']);
    assert.equal(encodingOf('ids'), 'intset');
    assert.equal(await io.sadd('ids', '9223372036854775807', '-9223372036854775808', '9007199254740993'), 3);
    assert.deepEqual(await io.smembers('ids'), [
      '-9223372036854775808', '-5', '10', '20', '30', '9007199254740993', '9223372036854775807',
    ]);
    assert.equal(await io.sismember('ids', '9007199254740992'), 0);
    assert.equal(encodingOf('ids'), 'intset');
    await io.sadd('ids', 'x');
    assert.equal(encodingOf('ids'), 'hashtable');
    await io.srem('ids', 'x');
    assert.equal(encodingOf('ids'), 'hashtable'); // never back

    const many = Array.from({ length: 512 }, (_, i) => String(i));
    await io.sadd('many', ...many);
    assert.equal(encodingOf('many'), 'intset');
    await io.sadd('many', 512);
    assert.equal(encodingOf('many'), 'hashtable');
    assert.equal(await io.scard('many'), 513);
  });

  test('binary-safe members: every byte value, empty member', async () => {
    const members = Array.from({ length: 256 }, (_, i) => Buffer.from([i, 0x41]));
    members.push(Buffer.alloc(0));
    assert.equal(await io.sadd('bin', ...members), 257);
    const back = await io.smembersBuffer('bin');
    assert.equal(back.length, 257);
    const hex = (bs: Buffer[]) => bs.map((b) => b.toString('hex')).sort();
    assert.deepEqual(hex(back), hex(members));
    assert.equal(await io.sismember('bin', Buffer.from([0xff, 0x41])), 1);
    assert.deepEqual(await io.smismember('bin', Buffer.from([0, 0x41]), Buffer.from([0, 0x42]), ''), [1, 0, 1]);
  });

  test('SRANDMEMBER: distinct for positive counts, repeats for negative ones', async () => {
    const members = Array.from({ length: 100 }, (_, i) => `m${i}`);
    await io.sadd('r', ...members);
    for (const count of [1, 5, 40, 99, 100, 150]) {
      const got = await io.srandmember('r', count);
      assert.equal(got.length, Math.min(count, 100));
      assert.equal(new Set(got).size, got.length, `count ${count} gives distinct members`);
      for (const m of got) assert.ok(members.includes(m));
    }
    const repeated = await io.srandmember('r', -500);
    assert.equal(repeated.length, 500);
    assert.ok(new Set(repeated).size < 500, 'a negative count repeats members');
    assert.equal(await io.scard('r'), 100);
    // Every member can come out (uniform random positions).
    const seen = new Set<string>();
    for (let i = 0; i < 2000 && seen.size < 100; i++) seen.add((await io.srandmember('r')) as string);
    assert.equal(seen.size, 100);
  });

  test('SPOP with a count pops distinct members until the set is gone', async () => {
    const members = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? `s${i}` : String(i)));
    await io.sadd('p', ...members);
    const popped: string[] = [];
    for (const count of [1, 10, 300, 600, 50, 100]) {
      const got = await io.spop('p', count);
      popped.push(...got);
      assert.equal(await io.scard('p'), Math.max(0, 1000 - popped.length));
    }
    assert.equal(popped.length, 1000);
    assert.deepEqual(sorted(popped), sorted(members));
    assert.equal(await io.exists('p'), 0);
    assert.deepEqual(await io.spop('p', 3), []);
    assert.equal(await io.spop('p'), null);
  });

  test('SPOP keeping few members rebuilds the rest as an intset when it can', async () => {
    await io.sadd('pbig', ...Array.from({ length: 600 }, (_, i) => i));
    assert.equal(encodingOf('pbig'), 'hashtable');
    assert.equal((await io.spop('pbig', 590)).length, 590);
    assert.equal(await io.scard('pbig'), 10);
    assert.equal(encodingOf('pbig'), 'intset');
  });

  test('SINTERCARD with LIMIT; store commands overwrite any type and drop the TTL', async () => {
    await io.sadd('a', 1, 2, 3, 4, 'x');
    await io.sadd('b', 2, 3, 4, 5, 'x');
    assert.equal(await io.call('SINTERCARD', 2, 'a', 'b'), 4);
    assert.equal(await io.call('SINTERCARD', 2, 'a', 'b', 'LIMIT', 2), 2);
    assert.equal(await nr.sInterCard(['a', 'b']), 4);
    await io.set('dst', 'string', 'EX', 100);
    assert.equal(await io.sinterstore('dst', 'a', 'b'), 4);
    assert.equal(await io.ttl('dst'), -1);
    assert.equal(await io.type('dst'), 'set');
    assert.equal(encodingOf('dst'), 'hashtable');
    assert.equal(await io.sdiffstore('dst', 'a', 'b'), 1);
    assert.deepEqual(await io.smembers('dst'), ['1']);
    assert.equal(encodingOf('dst'), 'intset');
    assert.equal(await io.sunionstore('dst', 'a', 'b'), 6);
    assert.equal(await io.sinterstore('dst', 'a', 'nokey'), 0);
    assert.equal(await io.exists('dst'), 0);
  });

  test('in-place writes keep the TTL; the last member removed deletes the key', async () => {
    handle.clock.freeze();
    await io.sadd('t', 1, 2, 3);
    await io.expire('t', 100);
    await io.sadd('t', 4);
    await io.srem('t', 1);
    await io.spop('t');
    await io.smove('t', 'other', '2');
    assert.equal(await io.ttl('t'), 100);
    handle.clock.advance(101_000);
    assert.equal(await io.exists('t'), 0);
    await io.sadd('gone', 'a');
    assert.equal(await io.srem('gone', 'a', 'b'), 1);
    assert.equal(await io.exists('gone'), 0);
  });

  test('WRONGTYPE leaves every key untouched', async () => {
    await io.set('str', 'x');
    await io.sadd('s', 'a');
    await assert.rejects(io.sadd('str', 'a'), /WRONGTYPE/);
    await assert.rejects(io.smove('s', 'str', 'a'), /WRONGTYPE/);
    await assert.rejects(io.sunionstore('dst', 's', 'str'), /WRONGTYPE/);
    assert.deepEqual(await io.smembers('s'), ['a']);
    assert.equal(await io.exists('dst'), 0);
    assert.equal(await io.get('str'), 'x');
  });
});

describe('SSCAN', () => {
  test('an intset comes back whole with cursor 0', async () => {
    await io.sadd('i', 5, 1, 3);
    assert.deepEqual(await io.sscan('i', 0, 'COUNT', 1), ['0', ['1', '3', '5']]);
    assert.deepEqual(await io.sscan('i', 77), ['0', ['1', '3', '5']]);
  });

  test('returns every member present for the whole scan, even while the set changes', async () => {
    const stable = Array.from({ length: 2000 }, (_, i) => `stable:${i}`);
    await io.sadd('big', ...stable);
    await io.sadd('big', ...Array.from({ length: 500 }, (_, i) => `temp:${i}`));
    const seen = new Set<string>();
    let cursor = '0';
    let step = 0;
    do {
      const [next, batch] = await io.sscan('big', cursor, 'COUNT', 25);
      for (const m of batch) seen.add(m);
      cursor = next;
      // Churn between calls: drop temporaries, add new members.
      await io.srem('big', `temp:${step}`, `temp:${step + 250}`);
      await io.sadd('big', `new:${step}`);
      step++;
    } while (cursor !== '0');
    for (const m of stable) assert.ok(seen.has(m), `${m} was returned`);
  });

  test('MATCH filters; node-redis iterator sees everything', async () => {
    await io.sadd('u', 'user:1', 'user:2', 'admin:1', 'user:3');
    const [, users] = await io.sscan('u', 0, 'MATCH', 'user:*', 'COUNT', 100);
    assert.deepEqual(sorted(users), ['user:1', 'user:2', 'user:3']);
    const all: string[] = [];
    for await (const m of nr.sScanIterator('u', { COUNT: 1 })) all.push(m);
    assert.deepEqual(sorted(all), ['admin:1', 'user:1', 'user:2', 'user:3']);
  });
});

describe('side effects', () => {
  test('keyspace events as Redis fires them', async () => {
    const events = await captureEvents(handle, async () => {
      await io.sadd('a', 1, 2, 3);
      await io.sadd('a', 1); // nothing new: no event
      await io.srem('a', 1);
      await io.srem('a', 2, 3);
      await io.sadd('b', 1, 2);
      await io.smove('b', 'c', 1);
      await io.smove('b', 'c', 2);
      await io.smove('c', 'c', 1);
      await io.sadd('d', 1, 2, 3, 4, 5, 6);
      await io.spop('d');
      await io.spop('d', 2);
      await io.spop('d', 10);
      await io.sadd('e', 1);
      await io.sinterstore('f', 'e');
      await io.sunionstore('g', 'e');
      await io.sdiffstore('h', 'e');
      await io.sinterstore('h', 'nokey');
      await io.sdiffstore('g', 'nokey');
      await io.sunionstore('zz', 'nokey');
    });
    assert.deepEqual(events, [
      'sadd a', 'srem a', 'srem a', 'del a',
      'sadd b', 'srem b', 'sadd c', 'srem b', 'del b', 'sadd c',
      'sadd d', 'spop d', 'spop d', 'spop d', 'del d',
      'sadd e', 'sinterstore f', 'sunionstore g', 'sdiffstore h', 'del h', 'del g',
    ]);
  });

  test('SPOP propagates as SREM of the popped members, or DEL of the whole set; a replay converges', async () => {
    const members = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const log = await propagated(handle, async () => {
      await io.sadd('q', ...members);
      await io.spop('q');
      await io.spop('q', 3);
      await io.spop('q', 40); // most of the set: the survivors become a new set
      await io.spop('q', 0); // no change, not propagated
      await io.sadd('w', 'a', 'b');
      await io.spop('w', 5);
    });
    assert.deepEqual(log.map((a) => a[0].toUpperCase()), ['SADD', 'SREM', 'SREM', 'SREM', 'SADD', 'DEL']);
    assert.equal(log[1].length, 3);
    assert.equal(log[2].length, 2 + 3);
    assert.equal(log[3].length, 2 + 40);
    assert.deepEqual(log[5], ['DEL', 'w']);

    // Replaying the log on another server gives the same set.
    const replica = await startTestServer();
    const r = await connectIo(replica);
    try {
      for (const argv of log) await r.call(argv[0], ...argv.slice(1));
      assert.deepEqual(sorted(await r.smembers('q')), sorted(await io.smembers('q')));
      assert.equal(await r.exists('w'), 0);
    } finally {
      await closeAll(replica, r);
    }
  });

  test('dirty counts real changes only', async () => {
    const srv = handle.server;
    let before = srv.dirty;
    await io.sadd('s', 1, 2, 2, 3);
    assert.equal(srv.dirty - before, 3);
    before = srv.dirty;
    await io.sadd('s', 1);
    await io.srem('s', 9);
    await io.smove('s', 's', 1);
    await io.sinterstore('none', 'nokey');
    assert.equal(srv.dirty - before, 0);
    await io.smove('s', 't', 1);
    assert.equal(srv.dirty - before, 2);
  });
});
