/**
 * Bitmap commands through real client libraries (ioredis and node-redis v4):
 * bit numbering, ranges in BYTE and BIT units, BITOP on binary values,
 * BITFIELD overflow policies, and the side effects Redis documents (a
 * "setbit" event and a dirty change only when something was written).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, startWithClients, type NodeRedisClient } from '../helpers/server.js';
import { captureEvents, dirtyDelta } from '../helpers/observe.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;

before(async () => ({ handle, io, nr } = await startWithClients()));
after(() => closeAll(handle, io, nr));

beforeEach(async () => {
  handle.clock.resume();
  await io.flushall();
});

describe('SETBIT / GETBIT', () => {
  test('bit 0 is the most significant bit; the string grows with zeros', async () => {
    assert.equal(await io.setbit('b', 7, 1), 0);
    assert.deepEqual(await io.getBuffer('b'), Buffer.from([0x01]));
    assert.equal(await io.setbit('b', 0, 1), 0);
    assert.equal(await io.setbit('b', 0, 1), 1);
    assert.deepEqual(await io.getBuffer('b'), Buffer.from([0x81]));
    assert.equal(await io.setbit('b', 23, 1), 0);
    assert.deepEqual(await io.getBuffer('b'), Buffer.from([0x81, 0x00, 0x01]));
    assert.equal(await io.getbit('b', 23), 1);
    assert.equal(await io.getbit('b', 22), 0);
    assert.equal(await io.getbit('b', 1_000_000), 0);
    assert.equal(await io.getbit('missing', 3), 0);
    assert.equal(await io.object('ENCODING', 'b'), 'raw');
  });

  test('errors: offset and bit value are checked before the type', async () => {
    await nr.sendCommand(['RPUSH', 'list', 'a']);
    await assert.rejects(io.setbit('list', -1, 1), /ERR bit offset is not an integer or out of range/);
    await assert.rejects(io.setbit('list', 0, 2), /ERR bit is not an integer or out of range/);
    await assert.rejects(io.setbit('list', 0, 1), /WRONGTYPE/);
    await assert.rejects(io.setbit('b', 4294967296, 1), /bit offset is not an integer or out of range/);
    assert.equal(await io.exists('b'), 0);
  });

  test('the TTL survives SETBIT (frozen clock)', async () => {
    handle.clock.freeze();
    await io.set('t', 'abc', 'EX', 100);
    handle.clock.advance(40_000);
    await io.setbit('t', 0, 1);
    assert.equal(await io.ttl('t'), 60);
    assert.deepEqual(await io.getBuffer('t'), Buffer.from([0xe1, 0x62, 0x63]));
  });

  test('a "setbit" event and a dirty change only when the bitmap changes', async () => {
    await io.set('s', 'v'); // 0x76: bit 0 is clear
    let dirty = 0;
    const events = await captureEvents(handle, async () => {
      dirty += await dirtyDelta(handle, () => io.setbit('s', 0, 0)); // unchanged
      dirty += await dirtyDelta(handle, () => io.setbit('s', 0, 1)); // changed
      dirty += await dirtyDelta(handle, () => io.setbit('s', 20, 0)); // grows the string
      dirty += await dirtyDelta(handle, () => io.setbit('new', 3, 0)); // creates the key
    });
    assert.deepEqual(events, ['setbit s', 'setbit s', 'setbit new']);
    assert.equal(dirty, 3);
  });
});

describe('BITCOUNT / BITPOS', () => {
  test('byte and bit ranges', async () => {
    await io.set('mykey', 'foobar');
    assert.equal(await io.bitcount('mykey'), 26);
    assert.equal(await io.bitcount('mykey', 0, 0), 4);
    assert.equal(await io.bitcount('mykey', 1, 1), 6);
    assert.equal(await io.call('BITCOUNT', 'mykey', 1, 1, 'BYTE'), 6);
    assert.equal(await io.call('BITCOUNT', 'mykey', 5, 30, 'BIT'), 17);
    assert.equal(await io.bitcount('mykey', -2, -1), 7);
    assert.equal(await io.bitcount('missing', 0, -1), 0);
    await assert.rejects(io.call('BITCOUNT', 'mykey', 0), /ERR syntax error/);
    await assert.rejects(io.call('BITCOUNT', 'mykey', 0, 1, 'WORD'), /ERR syntax error/);
  });

  test('BITPOS: the string continues with zeros only when no end is given', async () => {
    await io.set('k', Buffer.from([0xff, 0xf0, 0x00]));
    assert.equal(await io.bitpos('k', 0), 12);
    assert.equal(await io.bitpos('k', 1, 2), -1);
    await io.set('ones', Buffer.from([0xff, 0xff]));
    assert.equal(await io.bitpos('ones', 0), 16);
    assert.equal(await io.bitpos('ones', 0, 0), 16);
    assert.equal(await io.bitpos('ones', 0, 0, -1), -1);
    assert.equal(await io.call('BITPOS', 'ones', 1, 3, 9, 'BIT'), 3);
    assert.equal(await io.bitpos('missing', 0), 0);
    assert.equal(await io.bitpos('missing', 1), -1);
    await assert.rejects(io.bitpos('k', 2), /ERR The bit argument must be 1 or 0\./);
  });

  test('node-redis range helpers', async () => {
    await nr.set('mykey', 'foobar');
    assert.equal(await nr.bitCount('mykey'), 26);
    assert.equal(await nr.bitCount('mykey', { start: 1, end: 1 }), 6);
    assert.equal(await nr.bitPos('mykey', 1, 1, 1), 9);
  });
});

describe('BITOP', () => {
  test('AND / OR / XOR / NOT pad shorter strings with zeros', async () => {
    await io.set('short', Buffer.from([0xff]));
    await io.set('long', Buffer.from([0x0f, 0x0f, 0x0f]));
    assert.equal(await io.bitop('AND', 'd', 'short', 'long'), 3);
    assert.deepEqual(await io.getBuffer('d'), Buffer.from([0x0f, 0x00, 0x00]));
    assert.equal(await io.bitop('OR', 'd', 'short', 'long'), 3);
    assert.deepEqual(await io.getBuffer('d'), Buffer.from([0xff, 0x0f, 0x0f]));
    assert.equal(await io.bitop('XOR', 'd', 'short', 'long', 'missing'), 3);
    assert.deepEqual(await io.getBuffer('d'), Buffer.from([0xf0, 0x0f, 0x0f]));
    assert.equal(await io.bitop('NOT', 'd', 'long'), 3);
    assert.deepEqual(await io.getBuffer('d'), Buffer.from([0xf0, 0xf0, 0xf0]));
    assert.equal(await io.object('ENCODING', 'd'), 'raw');
    await assert.rejects(io.bitop('NOT', 'd', 'short', 'long'), /BITOP NOT must be called with a single source key/);
  });

  test('an empty result deletes the destination ("del" event), else "set"', async () => {
    handle.clock.freeze();
    await io.set('d', 'x', 'EX', 100);
    await io.set('src', 'abc');
    const events = await captureEvents(handle, async () => {
      assert.equal(await io.bitop('AND', 'd', 'src'), 3);
      assert.equal(await io.bitop('AND', 'd', 'missing'), 0);
      assert.equal(await io.bitop('OR', 'd', 'missing'), 0); // nothing to delete: no event
    });
    assert.deepEqual(events, ['set d', 'del d']);
    assert.equal(await io.exists('d'), 0);
  });
});

describe('BITFIELD', () => {
  test('GET / SET / INCRBY with the three overflow policies', async () => {
    assert.deepEqual(await io.call('BITFIELD', 'bf', 'SET', 'i8', 0, 100, 'GET', 'i8', 0), [0, 100]);
    assert.deepEqual(await io.call('BITFIELD', 'bf', 'INCRBY', 'i8', 0, 100, 'GET', 'u8', 0), [-56, 200]);
    assert.deepEqual(await io.call('BITFIELD', 'bf', 'OVERFLOW', 'SAT', 'INCRBY', 'i8', 0, -1000), [-128]);
    assert.deepEqual(await io.call('BITFIELD', 'bf', 'OVERFLOW', 'FAIL', 'INCRBY', 'i8', 0, -1, 'GET', 'i8', 0), [null, -128]);
    assert.deepEqual(await io.call('BITFIELD', 'bf', 'OVERFLOW', 'WRAP', 'INCRBY', 'i8', 0, -1), [127]);
    assert.deepEqual(await io.call('BITFIELD', 'bf', 'SET', 'u8', '#1', 255, 'GET', 'u16', 0), [0, 0x7fff]);
    assert.deepEqual(await io.call('BITFIELD', 'u', 'OVERFLOW', 'SAT', 'SET', 'u8', 0, -1), [0]);
    assert.deepEqual(await io.call('BITFIELD', 'u', 'GET', 'u8', 0), [255]);
  });

  test('64-bit fields are exact', async () => {
    await io.call('BITFIELD', 'w', 'SET', 'i64', 0, '9223372036854775807');
    assert.deepEqual(await io.getBuffer('w'), Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    // -2^63 is exact as a JS number; the stored bytes below check the wrap-around exactly.
    assert.deepEqual(await nr.sendCommand(['BITFIELD', 'w', 'INCRBY', 'i64', '0', '1']), [-(2 ** 63)]);
    assert.deepEqual(await io.getBuffer('w'), Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0]));
  });

  test('FAIL writes nothing and counts no change, but still grows the string', async () => {
    let dirty = 0;
    const events = await captureEvents(handle, async () => {
      dirty += await dirtyDelta(handle, () => io.call('BITFIELD', 'f', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', 100, 9));
      dirty += await dirtyDelta(handle, () => io.call('BITFIELD', 'f', 'SET', 'u2', 100, 1, 'INCRBY', 'u2', 100, 1));
    });
    assert.deepEqual(events, ['setbit f']);
    assert.equal(dirty, 2);
    assert.equal(await io.strlen('f'), 13);
  });

  test('BITFIELD_RO reads only; errors come in Redis order', async () => {
    await io.set('r', 'A');
    assert.deepEqual(await io.call('BITFIELD_RO', 'r', 'GET', 'u8', 0, 'GET', 'u4', 4), [65, 1]);
    await assert.rejects(io.call('BITFIELD_RO', 'r', 'SET', 'u8', 0, 1), /BITFIELD_RO only supports the GET subcommand/);
    await assert.rejects(io.call('BITFIELD_RO', 'r', 'SET', 'u8', 0, 'x'), /value is not an integer or out of range/);
    await assert.rejects(io.call('BITFIELD', 'r', 'GET', 'u64', 0), /Invalid bitfield type/);
    await assert.rejects(io.call('BITFIELD', 'r', 'OVERFLOW', 'NOPE'), /Invalid OVERFLOW type specified/);
    assert.equal(await io.get('r'), 'A');
  });

  test('node-redis bitField helper', async () => {
    const r = await nr.bitField('nb', [
      { operation: 'SET', encoding: 'u4', offset: 0, value: 15 },
      { operation: 'INCRBY', encoding: 'u4', offset: 0, increment: 1 },
      { operation: 'GET', encoding: 'u8', offset: 0 },
    ]);
    assert.deepEqual(r, [0, 0, 0]);
  });
});
