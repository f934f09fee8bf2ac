/**
 * Hash commands through real client libraries (ioredis and node-redis v4):
 * the seed's examples, binary safety with all 256 byte values, the listpack to
 * hashtable conversion, HSCAN/HRANDFIELD on big hashes, TTLs kept across
 * in-place writes, and the side effects Redis documents (keyspace events,
 * dirty counter, empty hashes deleted).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, setConfig, startWithClients, type NodeRedisClient } from '../helpers/server.js';
import { captureEvents } from '../helpers/observe.js';
import { HashValue } from '../../src/data/hash.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

before(async () => ({ handle, io, nr } = await startWithClients()));
after(() => closeAll(handle, io, nr));

beforeEach(() => {
  handle.clock.resume();
  handle.server.dbs[0].flush();
  setConfig(handle, 'hash-max-listpack-entries', '512');
  setConfig(handle, 'hash-max-listpack-value', '64');
});

/** The stored value's encoding, read straight from the keyspace. */
function encodingOf(key: string): string {
  const v = handle.server.dbs[0].peek(key);
  assert.ok(v instanceof HashValue, `${key} holds a hash`);
  return v.encoding();
}

describe('seed examples', () => {
  test('ioredis: HSET / HGET / HGETALL / HINCRBY / HEXISTS', async () => {
    assert.equal(await io.hset('user:123', 'name', 'John', 'email', 'john@test.com', 'age', 30), 3);
    assert.equal(await io.hget('user:123', 'name'), 'John');
    assert.deepEqual(await io.hgetall('user:123'), { name: 'John', email: 'john@test.com', age: '30' });
    assert.equal(await io.hincrby('user:123', 'login_count', 1), 1);
    assert.equal(await io.hincrby('user:123', 'login_count', 1), 2);
    assert.equal(await io.hexists('user:123', 'email'), 1);
    assert.equal(await io.hexists('user:123', 'phone'), 0);
    // HGETALL of a small hash comes back in insertion order, as Redis's listpack.
    assert.deepEqual(Object.keys(await io.hgetall('user:123')), ['name', 'email', 'age', 'login_count']);
  });

  test('node-redis: HSET / HGET / HGETALL / HINCRBY / HEXISTS', async () => {
    assert.equal(await nr.hSet('user:123', { name: 'John', email: 'john@test.com', age: 30 }), 3);
    assert.equal(await nr.hGet('user:123', 'name'), 'John');
    assert.deepEqual({ ...(await nr.hGetAll('user:123')) }, { name: 'John', email: 'john@test.com', age: '30' });
    assert.equal(await nr.hIncrBy('user:123', 'login_count', 1), 1);
    assert.equal(await nr.hExists('user:123', 'email'), true);
    assert.equal(await nr.hExists('user:123', 'phone'), false);
    assert.equal(await nr.hLen('user:123'), 4);
  });
});

describe('commands', () => {
  test('HSET counts new fields only; HMSET replies OK; HSETNX never overwrites', async () => {
    assert.equal(await io.hset('h', 'a', '1', 'b', '2'), 2);
    assert.equal(await io.hset('h', 'a', '9', 'c', '3'), 1);
    assert.equal(await io.hmset('h', 'd', '4'), 'OK');
    assert.equal(await io.hsetnx('h', 'a', 'x'), 0);
    assert.equal(await io.hsetnx('h', 'e', '5'), 1);
    assert.deepEqual(await io.hmget('h', 'a', 'zz', 'e'), ['9', null, '5']);
    assert.deepEqual(await io.hkeys('h'), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(await io.hvals('h'), ['9', '2', '3', '4', '5']);
    assert.equal(await io.hstrlen('h', 'a'), 1);
    assert.equal(await io.hstrlen('h', 'zz'), 0);
  });

  test('HDEL deletes the key with its last field', async () => {
    await io.hset('h', 'a', '1', 'b', '2');
    assert.equal(await io.hdel('h', 'a', 'zz'), 1);
    assert.equal(handle.server.dbs[0].has('h'), true);
    assert.equal(await io.hdel('h', 'b', 'b'), 1);
    assert.equal(handle.server.dbs[0].has('h'), false);
    assert.equal(await io.hlen('h'), 0);
    assert.deepEqual(await io.hgetall('h'), {});
  });

  test('HINCRBY / HINCRBYFLOAT arithmetic and errors', async () => {
    // Beyond 2^53: ioredis parses replies as doubles, so check the stored text.
    await io.hincrby('n', 'i', '9223372036854775806');
    await io.hincrby('n', 'i', '1');
    assert.equal(await io.hget('n', 'i'), '9223372036854775807');
    await assert.rejects(io.hincrby('n', 'i', 1), /ERR increment or decrement would overflow/);
    assert.equal(await io.hget('n', 'i'), '9223372036854775807');
    await io.hset('n', 's', 'abc');
    await assert.rejects(io.hincrby('n', 's', 1), /ERR hash value is not an integer/);
    await assert.rejects(io.hincrbyfloat('n', 's', 1), /ERR hash value is not a float/);
    await assert.rejects(io.hincrby('n', 'x', 'abc'), /ERR value is not an integer or out of range/);
    assert.equal(await io.hincrbyfloat('f', 'x', '10.5'), '10.5');
    assert.equal(await io.hincrbyfloat('f', 'x', '0.1'), '10.6');
    assert.equal(await io.hincrbyfloat('f', 'x', '-5.6'), '5');
    assert.equal(await nr.hIncrByFloat('f', 'x', 1.25), '6.25');
    await assert.rejects(io.hincrbyfloat('f', 'x', 'inf'), /ERR value is NaN or Infinity/);
    assert.equal(await io.hget('f', 'x'), '6.25');
  });

  test('wrong type errors leave the key alone', async () => {
    await io.set('s', 'x');
    for (const p of [io.hset('s', 'a', '1'), io.hget('s', 'a'), io.hgetall('s'), io.hdel('s', 'a'), io.hincrby('s', 'a', 1)]) {
      await assert.rejects(p, /^ReplyError: WRONGTYPE Operation against a key holding the wrong kind of value/);
    }
    assert.equal(await io.get('s'), 'x');
  });

  test('binary safe: every byte value in fields and values', async () => {
    const field = Buffer.concat([Buffer.from('f'), ALL_BYTES]);
    assert.equal(await io.hset('bin', field, ALL_BYTES, ALL_BYTES, field), 2);
    assert.deepEqual(await io.hgetBuffer('bin', field), ALL_BYTES);
    assert.deepEqual(await io.hgetBuffer('bin', ALL_BYTES), field);
    const all = await io.hgetallBuffer('bin');
    assert.equal(Object.keys(all).length, 2);
    assert.equal(await io.hstrlen('bin', field), 256);
    // Long entries made it a hashtable; small binary entries stay packed.
    assert.equal(encodingOf('bin'), 'hashtable');
    const small = Buffer.from([0, 255, 13, 10, 0]);
    await io.hset('binsmall', small, small);
    assert.equal(encodingOf('binsmall'), 'listpack');
    assert.deepEqual(await io.hgetBuffer('binsmall', small), small);
  });
});

describe('encodings and big hashes', () => {
  test('converts to hashtable above hash-max-listpack-entries / -value, never back', async () => {
    setConfig(handle, 'hash-max-listpack-entries', '4');
    await io.hset('h', 'a', '1', 'b', '2', 'c', '3', 'd', '4');
    assert.equal(encodingOf('h'), 'listpack');
    await io.hset('h', 'e', '5');
    assert.equal(encodingOf('h'), 'hashtable');
    await io.hdel('h', 'a', 'b', 'c', 'd');
    assert.equal(encodingOf('h'), 'hashtable');
    await io.hset('v', 'a', 'x'.repeat(64));
    assert.equal(encodingOf('v'), 'listpack');
    await io.hset('v', 'a', 'x'.repeat(65));
    assert.equal(encodingOf('v'), 'hashtable');
  });

  test('HSCAN walks a 3000-field hashtable exactly once when nothing changes', async () => {
    const args: string[] = [];
    for (let i = 0; i < 3000; i++) args.push('field:' + i, 'v' + i);
    await io.hset('big', ...args);
    assert.equal(encodingOf('big'), 'hashtable');
    assert.equal(await io.hlen('big'), 3000);
    const seen = new Map<string, string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, items] = await io.hscan('big', cursor, 'COUNT', 100);
      for (let i = 0; i < items.length; i += 2) {
        assert.equal(seen.has(items[i]), false, `duplicate ${items[i]}`);
        seen.set(items[i], items[i + 1]);
      }
      cursor = next;
      calls++;
    } while (cursor !== '0');
    assert.equal(seen.size, 3000);
    assert.ok(calls > 10, 'iterated in several steps');
    assert.equal(seen.get('field:1234'), 'v1234');
    const matched = await io.hscan('big', 0, 'MATCH', 'field:12??', 'COUNT', 10000);
    assert.equal(matched[0], '0');
    assert.equal(matched[1].length, 200);
  });

  test('HRANDFIELD: distinct for positive counts, repeats for negative ones', async () => {
    const args: string[] = [];
    for (let i = 0; i < 1000; i++) args.push('f' + i, 'v' + i);
    await io.hset('big', ...args);
    await io.hset('small', 'a', '1', 'b', '2', 'c', '3');
    const expected = new Map<string, string>([['a', '1'], ['b', '2'], ['c', '3']]);
    for (let i = 0; i < 1000; i++) expected.set('f' + i, 'v' + i);
    for (const key of ['big', 'small']) {
      const n = key === 'big' ? 1000 : 3;
      for (const count of [1, 2, Math.floor(n / 2), n - 1, n, n + 5]) {
        const got = (await io.call('hrandfield', key, count)) as string[];
        assert.equal(got.length, Math.min(count, n));
        assert.equal(new Set(got).size, got.length, 'distinct');
      }
      const repeated = (await io.call('hrandfield', key, -(n * 3))) as string[];
      assert.equal(repeated.length, n * 3);
      const withValues = (await io.call('hrandfield', key, -20, 'WITHVALUES')) as string[];
      assert.equal(withValues.length, 40);
      for (let i = 0; i < 40; i += 2) assert.equal(withValues[i + 1], expected.get(withValues[i]));
    }
    const one = (await io.call('hrandfield', 'small')) as string;
    assert.ok(['a', 'b', 'c'].includes(one));
    assert.equal(await io.call('hrandfield', 'missing'), null);
    assert.deepEqual(await io.call('hrandfield', 'missing', 3), []);
  });

  test('a 50000-field HSET in one command; lookups stay fast', async () => {
    // Built server-side in batches, like a pipelined load.
    const batch: string[] = [];
    for (let i = 0; i < 50000; i++) batch.push('k' + i, String(i));
    await io.hset('huge', ...batch);
    await io.hset('tiny', 'k0', '0');
    // Lookups in the big hash cost about what they cost in a one-field hash (a ratio in
    // one run, best of 3 rounds, since the machine is shared and noisy).
    const time = async (key: string, field: (i: number) => string): Promise<number> => {
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const start = performance.now();
        for (let i = 0; i < 200; i++) await io.hget(key, field(i));
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    for (let i = 0; i < 200; i++) assert.equal(await io.hget('huge', 'k' + i * 7), String(i * 7));
    const big = await time('huge', (i) => 'k' + i * 7);
    const small = await time('tiny', () => 'k0');
    assert.ok(big < small * 5, `200 HGETs: ${big.toFixed(1)} ms on 50000 fields vs ${small.toFixed(1)} ms on 1 field`);
    assert.equal(await io.hlen('huge'), 50000);
  });
});

describe('side effects', () => {
  test('keyspace events: hset, hdel (+ del when emptied), hincrby, hincrbyfloat', async () => {
    const events = await captureEvents(handle, async () => {
      await io.hset('h', 'a', '1', 'b', '2');
      await io.hsetnx('h', 'a', '1'); // no change: no event
      await io.hsetnx('h', 'c', '3');
      await io.hmset('h', 'd', '4');
      await io.hincrby('h', 'a', 1);
      await io.hincrbyfloat('h', 'a', 1.5);
      await io.hdel('h', 'zz'); // nothing deleted: no event
      await io.hdel('h', 'a', 'b');
      await io.hdel('h', 'c', 'd');
    });
    assert.deepEqual(events, [
      'hset h',
      'hset h',
      'hset h',
      'hincrby h',
      'hincrbyfloat h',
      'hdel h',
      'hdel h',
      'del h',
    ]);
  });

  test('dirty counts pairs set, fields deleted and increments; errors change nothing', async () => {
    const srv = handle.server;
    let before = srv.dirty;
    await io.hset('h', 'a', '1', 'a', '2', 'b', '3');
    assert.equal(srv.dirty - before, 3);
    before = srv.dirty;
    await io.hsetnx('h', 'a', 'x');
    assert.equal(srv.dirty - before, 0);
    await io.hdel('h', 'a', 'b', 'zz');
    assert.equal(srv.dirty - before, 2);
    before = srv.dirty;
    await io.hset('h', 's', 'abc');
    await assert.rejects(io.hincrby('h', 's', 1));
    await assert.rejects(io.hset('h', 'odd'));
    assert.equal(srv.dirty - before, 1);
  });

  test('HSET keeps the TTL; an expired hash is gone', async () => {
    handle.clock.freeze();
    const db = handle.server.dbs[0];
    await io.hset('t', 'a', '1');
    db.setExpire('t', handle.clock.now() + 10_000);
    await io.hset('t', 'b', '2');
    await io.hincrby('t', 'c', 1);
    await io.hdel('t', 'a');
    assert.equal(db.getExpire('t'), handle.clock.now() + 10_000);
    handle.clock.advance(10_001);
    assert.equal(await io.hget('t', 'b'), null);
    assert.equal(await io.hlen('t'), 0);
    assert.equal(await io.hset('t', 'x', '1'), 1);
    assert.equal(db.getExpire('t'), -1);
  });
});
