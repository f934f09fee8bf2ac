/**
 * HyperLogLog commands through real client libraries (ioredis and node-redis
 * v4): estimates, the raw string form an HLL takes (GET/SET round trips,
 * binary elements), merges, errors, and the side effects Redis has (a
 * "pfadd" event for PFADD and PFMERGE, dirty counts, PFCOUNT writing its
 * cached cardinality as a key modification, TTLs kept).
 */
import { after, before, beforeEach, test } from 'node:test';
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

async function pfaddMany(key: string, from: number, to: number): Promise<void> {
  const batch: string[] = [];
  for (let i = from; i < to; i++) {
    batch.push(`user:${i}`);
    if (batch.length === 1000) await io.pfadd(key, ...batch.splice(0));
  }
  if (batch.length) await io.pfadd(key, ...batch);
}

test('ioredis: PFADD reports changes, PFCOUNT estimates within the standard error', async () => {
  assert.equal(await io.pfadd('visits', 'a', 'b', 'c'), 1);
  assert.equal(await io.pfadd('visits', 'a', 'b'), 0);
  assert.equal(await io.pfcount('visits'), 3);
  await pfaddMany('visits', 0, 50_000);
  const n = await io.pfcount('visits');
  assert.ok(Math.abs(n - 50_003) < 50_003 * 0.0081 * 4, `estimate ${n}`);
  assert.equal(await io.pfcount('missing'), 0);
});

test('ioredis: an HLL is a string with the HYLL header; sparse becomes dense', async () => {
  await io.pfadd('h', 'x');
  let raw = await io.getBuffer('h');
  assert.ok(raw);
  assert.equal(raw.subarray(0, 4).toString('latin1'), 'HYLL');
  assert.equal(raw[4], 1, 'sparse');
  assert.equal(await io.type('h'), 'string');
  await pfaddMany('h', 0, 2000);
  raw = await io.getBuffer('h');
  assert.ok(raw);
  assert.equal(raw[4], 0, 'dense');
  assert.equal(raw.length, 12304);
  assert.equal(await io.call('PFDEBUG', 'ENCODING', 'h'), 'dense');
});

test('ioredis: the raw bytes round-trip through GET and SET', async () => {
  await pfaddMany('src', 0, 5000);
  const count = await io.pfcount('src');
  const raw = await io.getBuffer('src');
  assert.ok(raw);
  await io.set('copy', raw);
  assert.equal(await io.pfcount('copy'), count);
  assert.equal(await io.pfadd('copy', 'user:1'), 0);
  // the cached cardinality is part of the bytes
  assert.equal(raw[15] & 0x80, 0, 'PFCOUNT left a valid cache');
  assert.equal(raw.readUInt32LE(8), count);
});

test('ioredis: binary elements are hashed byte for byte', async () => {
  const elements = [Buffer.from([0]), Buffer.from([0, 0]), Buffer.from([0xff, 0xfe]), Buffer.alloc(0), Buffer.from('é', 'utf8')];
  assert.equal(await io.pfadd('bin', ...elements), 1);
  assert.equal(await io.pfcount('bin'), 5);
  // 'foo' lands in register 7348 with rank 5, as on Redis
  await io.pfadd('foo', 'foo');
  const regs = (await io.call('PFDEBUG', 'GETREG', 'foo')) as number[];
  assert.equal(regs.length, 16384);
  assert.equal(regs[7348], 5);
  assert.equal(regs.filter((r) => r !== 0).length, 1);
});

test('ioredis: PFCOUNT of several keys is the union and changes nothing', async () => {
  await pfaddMany('a', 0, 3000);
  await pfaddMany('b', 2000, 5000);
  const before = await io.getBuffer('a');
  const union = await io.pfcount('a', 'b', 'missing');
  assert.ok(Math.abs(union - 5000) < 5000 * 0.0081 * 4, `union ${union}`);
  assert.deepEqual(await io.getBuffer('a'), before);
  assert.equal(await io.pfmerge('ab', 'a', 'b'), 'OK');
  assert.equal(await io.pfcount('ab'), union);
});

test('ioredis: errors for other types and for strings that are not HLLs', async () => {
  await io.set('str', 'hello');
  await io.rpush('list', 'x');
  await io.pfadd('ok', 'x');
  await assert.rejects(io.pfadd('str', 'a'), /^ReplyError: WRONGTYPE Key is not a valid HyperLogLog string value\.$/);
  await assert.rejects(io.pfcount('ok', 'str'), /WRONGTYPE Key is not a valid HyperLogLog string value\./);
  await assert.rejects(io.pfadd('list', 'a'), /WRONGTYPE Operation against a key holding the wrong kind of value/);
  await assert.rejects(io.pfmerge('dest', 'ok', 'list'), /WRONGTYPE Operation against a key/);
  assert.equal(await io.exists('dest'), 0);
  // sparse runs covering too few registers
  await io.set('bad', Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe', 'latin1'));
  await assert.rejects(io.pfcount('bad'), /^ReplyError: INVALIDOBJ Corrupted HLL object detected$/);
  await assert.rejects(io.call('PFDEBUG', 'ENCODING', 'nokey'), /ERR The specified key does not exist/);
  await assert.rejects(io.call('PFDEBUG', 'FOO', 'ok'), /ERR Unknown PFDEBUG subcommand 'FOO'/);
  assert.equal(await io.call('PFSELFTEST'), 'OK');
});

test('node-redis: pfAdd, pfCount, pfMerge', async () => {
  assert.equal(await nr.pfAdd('n1', ['a', 'b', 'c']), true);
  assert.equal(await nr.pfAdd('n1', 'a'), false);
  assert.equal(await nr.pfAdd('n2', ['c', 'd']), true);
  assert.equal(await nr.pfCount(['n1', 'n2']), 4);
  assert.equal(await nr.pfMerge('n3', ['n1', 'n2']), 'OK');
  assert.equal(await nr.pfCount('n3'), 4);
});

test('effects: events and dirty counts as in Redis', async () => {
  let dirty = 0;
  const events = await captureEvents(handle, async () => {
    dirty = await dirtyDelta(handle, () => io.pfadd('e', 'a', 'b', 'c'));
    assert.equal(dirty, 4, 'creation plus one per changed register');
    assert.equal(await dirtyDelta(handle, () => io.pfadd('e', 'a')), 0);
    assert.equal(await dirtyDelta(handle, () => io.pfcount('e')), 1, 'caching the count is a write');
    assert.equal(await dirtyDelta(handle, () => io.pfcount('e')), 0, 'cache already valid');
    assert.equal(await dirtyDelta(handle, () => io.pfmerge('m', 'e')), 1);
    assert.equal(await dirtyDelta(handle, () => io.call('PFDEBUG', 'TODENSE', 'm')), 1);
    assert.equal(await dirtyDelta(handle, () => io.call('PFDEBUG', 'TODENSE', 'm')), 0);
  });
  assert.deepEqual(events, ['pfadd e', 'pfadd m']);
});

/** Keys reported as modified (what WATCH and client tracking see) while `fn` runs. */
async function modifiedKeys(fn: () => Promise<unknown>): Promise<string[]> {
  const server = handle.server;
  const keys: string[] = [];
  const original = server.modified;
  server.modified = function (this: typeof server, db, key) {
    keys.push(key);
    return original.call(this, db, key);
  };
  try {
    await fn();
  } finally {
    server.modified = original;
  }
  return keys;
}

test('effects: PFCOUNT refreshing the cache signals a modification; a cached count does not', async () => {
  await io.pfadd('w', 'a');
  assert.deepEqual(await modifiedKeys(() => io.pfcount('w')), ['w']);
  assert.deepEqual(await modifiedKeys(() => io.pfcount('w')), []);
  assert.deepEqual(await modifiedKeys(() => io.pfadd('w', 'a')), []);
  assert.deepEqual(await modifiedKeys(() => io.pfadd('w', 'b')), ['w']);
  assert.deepEqual(await modifiedKeys(() => io.pfcount('w', 'x')), [], 'several keys: nothing is written');
});

test('effects: PFADD and PFMERGE keep the TTL of an existing key', async () => {
  handle.clock.freeze();
  await io.pfadd('t', 'a');
  await io.expire('t', 1000);
  await io.pfadd('t', 'b');
  await io.pfmerge('t', 't');
  await io.pfcount('t');
  assert.equal(await io.ttl('t'), 1000);
});
