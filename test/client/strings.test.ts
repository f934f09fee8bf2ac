/**
 * String commands through real client libraries (ioredis and node-redis v4):
 * the seed's examples, TTLs driven by the frozen server clock, binary safety
 * with all 256 byte values, OBJECT ENCODING, and the side effects Redis
 * documents (keyspace notification events, dirty counter).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, startWithClients, type NodeRedisClient } from '../helpers/server.js';
import { captureEvents, dirtyDelta } from '../helpers/observe.js';
import { stringEncoding, FloatString } from '../../src/commands/strings.js';
import { MutableString } from '../../src/data/values.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;

/** Every byte value once, as a Buffer and as the latin1 string the server stores. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

before(async () => ({ handle, io, nr } = await startWithClients()));
after(() => closeAll(handle, io, nr));

beforeEach(async () => {
  handle.clock.resume();
  await io.flushall();
});

describe('seed examples (ioredis)', () => {
  test('SET/GET, SET EX, INCR/INCRBY, SETNX, MSET/MGET', async () => {
    handle.clock.freeze();
    assert.equal(await io.set('user:123:name', 'John'), 'OK');
    assert.equal(await io.get('user:123:name'), 'John');
    assert.equal(await io.set('session:abc', 'data', 'EX', 3600), 'OK');
    assert.equal(await io.ttl('session:abc'), 3600);
    assert.equal(await io.get('session:abc'), 'data');
    assert.equal(await io.incr('views:page:456'), 1);
    assert.equal(await io.incrby('views:page:456', 10), 11);
    assert.equal(await io.setnx('lock:resource', 'holder'), 1);
    assert.equal(await io.setnx('lock:resource', 'other'), 0);
    assert.equal(await io.get('lock:resource'), 'holder');
    assert.equal(await io.mset('user:1', 'Alice', 'user:2', 'Bob'), 'OK');
    assert.deepEqual(await io.mget('user:1', 'user:2', 'user:3'), ['Alice', 'Bob', null]);
  });

  test('the session expires when the frozen clock passes its TTL', async () => {
    handle.clock.freeze();
    await io.set('session:abc', 'data', 'EX', 3600);
    handle.clock.advance(3599_999);
    assert.equal(await io.get('session:abc'), 'data');
    assert.equal(await io.pttl('session:abc'), 1);
    handle.clock.advance(1);
    assert.equal(await io.get('session:abc'), null);
    assert.equal(await io.exists('session:abc'), 0);
  });
});

describe('expiry options with the frozen clock', () => {
  test('PX, EXAT, PXAT set absolute times from the server clock', async () => {
    handle.clock.freeze(1_700_000_000_000);
    await io.set('a', '1', 'PX', 1500);
    assert.equal(await io.pttl('a'), 1500);
    await io.set('b', '1', 'EXAT', 1_700_000_100);
    assert.equal(await io.pttl('b'), 100_000);
    await io.set('c', '1', 'PXAT', 1_700_000_000_250);
    assert.equal(await io.pttl('c'), 250);
    handle.clock.advance(250);
    assert.equal(await io.get('c'), null);
    assert.equal(await io.get('a'), '1');
  });

  test('EXAT/PXAT in the past leave no key; GETEX with a past time deletes it', async () => {
    handle.clock.freeze(1_700_000_000_000);
    assert.equal(await io.set('p', 'v', 'PXAT', 1_699_999_999_999), 'OK');
    assert.equal(await io.exists('p'), 0);
    await io.set('g', 'v');
    assert.equal(await io.getex('g', 'EXAT', 1_600_000_000), 'v');
    assert.equal(await io.exists('g'), 0);
  });

  test('KEEPTTL keeps the TTL; a plain SET, GETSET drop it; INCR and APPEND keep it', async () => {
    handle.clock.freeze();
    await io.set('k', 'v', 'EX', 100);
    await io.set('k', 'w', 'KEEPTTL');
    assert.equal(await io.ttl('k'), 100);
    await io.set('k', 'x');
    assert.equal(await io.ttl('k'), -1);
    await io.set('n', '1', 'EX', 100);
    handle.clock.advance(10_000);
    await io.incr('n');
    await io.append('n', '0');
    await io.incrbyfloat('n', '0.5');
    await io.setrange('n', 0, '3');
    assert.equal(await io.ttl('n'), 90);
    assert.equal(await io.get('n'), '30.5');
    await io.getset('n', 'fresh');
    assert.equal(await io.ttl('n'), -1);
  });

  test('GETEX changes or removes the TTL; SETEX and PSETEX set one', async () => {
    handle.clock.freeze();
    await io.set('g', 'v');
    assert.equal(await io.getex('g', 'EX', 50), 'v');
    assert.equal(await io.ttl('g'), 50);
    assert.equal(await io.getex('g', 'PX', 2500), 'v');
    assert.equal(await io.pttl('g'), 2500);
    assert.equal(await io.getex('g', 'PERSIST'), 'v');
    assert.equal(await io.ttl('g'), -1);
    assert.equal(await io.setex('s', 20, 'v'), 'OK');
    assert.equal(await io.ttl('s'), 20);
    assert.equal(await io.psetex('ps', 1234, 'v'), 'OK');
    assert.equal(await io.pttl('ps'), 1234);
    handle.clock.advance(1234);
    assert.equal(await io.get('ps'), null);
  });

  test('an expire time that overflows int64 milliseconds is refused', async () => {
    await assert.rejects(io.set('k', 'v', 'EX', '9223372036854775'), /invalid expire time in 'set' command/);
    await assert.rejects(io.set('k', 'v', 'PX', '9223372036854775807'), /invalid expire time in 'set' command/);
    await assert.rejects(io.setex('k', '0', 'v'), /invalid expire time in 'setex' command/);
    // GETEX looks the key up before it checks the time: a missing key is just null.
    assert.equal(await io.getex('k', 'EX', '-1'), null);
    assert.equal(await io.exists('k'), 0);
  });
});

describe('binary safety', () => {
  test('keys and values with all 256 byte values round-trip', async () => {
    await io.set(ALL_BYTES, ALL_BYTES);
    assert.deepEqual(await io.getBuffer(ALL_BYTES), ALL_BYTES);
    assert.equal(await io.strlen(ALL_BYTES), 256);
    assert.deepEqual(await io.getrangeBuffer(ALL_BYTES, 254, -1), Buffer.from([254, 255]));
    await io.append(ALL_BYTES, Buffer.from([0, 0xff]));
    assert.equal(await io.strlen(ALL_BYTES), 258);
    await io.setrange(ALL_BYTES, 0, Buffer.from([0xff, 0x00]));
    const got = (await io.getBuffer(ALL_BYTES))!;
    assert.deepEqual(got.subarray(0, 3), Buffer.from([0xff, 0x00, 2]));
    assert.deepEqual(got.subarray(256), Buffer.from([0, 0xff]));
    const [a, b] = await io.mgetBuffer(ALL_BYTES, 'missing');
    assert.equal(a!.length, 258);
    assert.equal(b, null);
  });

  test('LCS works on binary strings', async () => {
    await io.mset('la', Buffer.from([0, 0xff, 0x61, 0x62, 0x63, 0]), 'lb', Buffer.from([0x61, 0x62, 0x63, 0, 0xff, 0]));
    assert.deepEqual(await io.callBuffer('LCS', 'la', 'lb'), Buffer.from([0x61, 0x62, 0x63, 0]));
    assert.equal(await io.call('LCS', 'la', 'lb', 'LEN'), 4);
    assert.deepEqual(await io.call('LCS', 'la', 'lb', 'IDX', 'WITHMATCHLEN'), [
      'matches',
      [
        [[5, 5], [5, 5], 1],
        [[2, 4], [0, 2], 3],
      ],
      'len',
      4,
    ]);
  });
});

describe('integers and floats', () => {
  test('INCR family replies and errors', async () => {
    await io.set('n', '9223372036854775806');
    // ioredis parses integer replies as JS numbers; read the stored text instead.
    await io.incr('n');
    assert.equal(await io.get('n'), '9223372036854775807');
    await assert.rejects(io.incr('n'), /increment or decrement would overflow/);
    assert.equal(await io.get('n'), '9223372036854775807');
    await assert.rejects(io.decrby('n', '-9223372036854775808'), /ERR decrement would overflow/);
    assert.equal(await io.decrby('x', 5), -5);
    await io.set('s', 'abc');
    await assert.rejects(io.incr('s'), /value is not an integer or out of range/);
  });

  test('INCRBYFLOAT uses long double precision and formatting', async () => {
    await io.set('f', '0.2');
    assert.equal(await io.incrbyfloat('f', '0.1'), '0.3');
    await io.set('f', '10.50');
    assert.equal(await io.incrbyfloat('f', '0.1'), '10.6');
    assert.equal(await io.incrbyfloat('f', '-5'), '5.6');
    assert.equal(await io.incrbyfloat('new', '5.0e3'), '5000');
    await assert.rejects(io.incrbyfloat('f', 'abc'), /ERR value is not a valid float/);
    await assert.rejects(io.incrbyfloat('f', 'inf'), /ERR increment would produce NaN or Infinity/);
    assert.equal(await io.get('f'), '5.6');
  });
});

describe('OBJECT ENCODING of strings', () => {
  test('stringEncoding derives int / embstr / raw as Redis does', () => {
    for (const v of ['0', '-1', '10000', '9223372036854775807', '-9223372036854775808']) assert.equal(stringEncoding(v), 'int', v);
    for (const v of ['01', ' 1', '1 ', '+1', '-0', '', '1.5', '9223372036854775808', '12345678901234567890', 'a'.repeat(44)]) {
      assert.equal(stringEncoding(v), 'embstr', JSON.stringify(v));
    }
    assert.equal(stringEncoding('a'.repeat(45)), 'raw');
    assert.equal(stringEncoding(new MutableString('12')), 'raw');
    assert.equal(stringEncoding(new FloatString('11')), 'embstr');
    assert.equal(stringEncoding(new FloatString('1'.repeat(45))), 'raw');
  });

  test('after SET, APPEND, INCR, SETRANGE and INCRBYFLOAT', async () => {
    const enc = (k: string) => io.object('ENCODING', k);
    await io.set('e', '123');
    assert.equal(await enc('e'), 'int');
    await io.append('e', '4');
    assert.equal(await enc('e'), 'raw');
    await io.incr('e');
    assert.equal(await enc('e'), 'int');
    await io.set('e', 'abc');
    assert.equal(await enc('e'), 'embstr');
    await io.setrange('e', 0, '');
    assert.equal(await enc('e'), 'embstr');
    await io.setrange('e', 0, 'x');
    assert.equal(await enc('e'), 'raw');
    await io.del('e');
    await io.incrbyfloat('e', '11');
    assert.equal(await enc('e'), 'embstr');
    await io.append('e', '0');
    assert.equal(await enc('e'), 'raw');
    assert.equal(await io.get('e'), '110');
    await io.del('e');
    await io.append('e', '12');
    assert.equal(await enc('e'), 'int');
  });
});

describe('side effects', () => {
  test('keyspace events match Redis', async () => {
    handle.clock.freeze();
    const events = await captureEvents(handle, async () => {
      await io.set('k', 'v', 'EX', 100);
      await io.set('k', 'v2', 'NX'); // no change: no event
      await io.getex('k', 'PERSIST');
      await io.getex('k', 'PERSIST'); // no TTL left: no event
      await io.getex('k', 'EX', 10);
      await io.getdel('k');
      await io.getdel('k');
      await io.incr('n');
      await io.decrby('n', 3);
      await io.incrbyfloat('f', '1.5');
      await io.append('a', 'x');
      await io.setrange('a', 3, 'y');
      await io.setrange('a', 0, ''); // nothing written: no event
      await io.mset('m1', '1', 'm2', '2');
      await io.getset('m1', 'z');
      await io.getex('m2', 'PXAT', 1);
      await io.set('old', 'v', 'PX', 5);
    });
    assert.deepEqual(events, [
      'set k', 'expire k',
      'persist k',
      'expire k',
      'del k',
      'incrby n', 'incrby n',
      'incrbyfloat f',
      'append a', 'setrange a',
      'set m1', 'set m2',
      'set m1',
      'del m2',
      'set old', 'expire old',
    ]);
  });

  test('dirty counts each change and nothing for no-ops or errors', async () => {
    assert.equal(await dirtyDelta(handle, () => io.set('k', 'v')), 1);
    assert.equal(await dirtyDelta(handle, () => io.mset('a', '1', 'b', '2', 'c', '3')), 3);
    assert.equal(await dirtyDelta(handle, () => io.msetnx('a', '1', 'z', '2')), 0);
    assert.equal(await dirtyDelta(handle, () => io.set('k', 'v', 'NX')), 0);
    assert.equal(await dirtyDelta(handle, () => io.set('k', 'v', 'EX', 0).catch(() => null)), 0);
    assert.equal(await dirtyDelta(handle, () => io.getex('k')), 0);
    assert.equal(await dirtyDelta(handle, () => io.getex('k', 'PERSIST')), 0);
    assert.equal(await dirtyDelta(handle, () => io.getex('k', 'EX', 10)), 1);
    assert.equal(await dirtyDelta(handle, () => io.getdel('nosuch')), 0);
    assert.equal(await dirtyDelta(handle, () => io.setrange('k', 0, '')), 0);
    assert.equal(await dirtyDelta(handle, () => io.append('k', '')), 1);
    assert.equal(await dirtyDelta(handle, () => io.incr('k').catch(() => null)), 0);
  });

  test('an error changes nothing', async () => {
    await io.set('k', 'v', 'EX', 100);
    await assert.rejects(io.set('k', 'new', 'EX', 'abc', 'GET'), /not an integer/);
    await assert.rejects(io.call('SET', 'k', 'new', 'NX', 'XX'), /syntax error/);
    await assert.rejects(io.getex('k', 'EX', 0), /invalid expire time in 'getex' command/);
    assert.equal(await io.get('k'), 'v');
    assert.ok((await io.ttl('k')) > 0);
  });
});

describe('node-redis v4', () => {
  test('typed helpers map to the same commands', async () => {
    handle.clock.freeze();
    assert.equal(await nr.set('k', 'v', { EX: 10, NX: true }), 'OK');
    assert.equal(await nr.set('k', 'w', { NX: true }), null);
    assert.equal(await nr.set('k', 'w', { GET: true, KEEPTTL: true }), 'v');
    assert.equal(await nr.ttl('k'), 10);
    assert.equal(await nr.getEx('k', { PERSIST: true }), 'w');
    assert.equal(await nr.ttl('k'), -1);
    assert.equal(await nr.getDel('k'), 'w');
    assert.equal(await nr.exists('k'), 0);
    assert.equal(await nr.incrBy('n', 5), 5);
    assert.equal(await nr.decr('n'), 4);
    assert.equal(await nr.incrByFloat('n', 0.25), '4.25');
    assert.equal(await nr.append('s', 'Hello'), 5);
    assert.equal(await nr.setRange('s', 6, 'World'), 11);
    assert.equal(await nr.get('s'), 'Hello\x00World');
    assert.equal(await nr.getRange('s', -5, -1), 'World');
    assert.equal(await nr.strLen('s'), 11);
    assert.deepEqual(await nr.mGet(['s', 'nope']), ['Hello\x00World', null]);
    assert.equal(await nr.mSetNX(['x', '1', 'y', '2']), true);
    assert.equal(await nr.mSetNX(['y', '3', 'z', '4']), false);
  });

  test('LCS and errors through node-redis', async () => {
    await nr.mSet(['key1', 'ohmytext', 'key2', 'mynewtext']);
    assert.equal(await nr.sendCommand(['LCS', 'key1', 'key2']), 'mytext');
    assert.equal(await nr.sendCommand(['LCS', 'key1', 'key2', 'LEN']), 6);
    assert.deepEqual(await nr.sendCommand(['LCS', 'key1', 'key2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN']), [
      'matches',
      [[[4, 7], [5, 8], 4]],
      'len',
      6,
    ]);
    await assert.rejects(nr.sendCommand(['LCS', 'key1', 'key2', 'LEN', 'IDX']), /If you want both the length and indexes/);
    await nr.sendCommand(['RPUSH', 'list', 'a']);
    await assert.rejects(nr.get('list'), /WRONGTYPE/);
    await assert.rejects(nr.sendCommand(['LCS', 'key1', 'list']), /The specified keys must contain string values/);
  });
});
