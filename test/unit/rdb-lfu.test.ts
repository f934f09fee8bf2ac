/**
 * Access data in RDB images, as Redis 7.0's rdbSaveKeyValuePair and
 * rdbLoadRio handle it: under an LFU maxmemory-policy every key is preceded
 * by a FREQ opcode (its counter, decayed to the save time) and gets it back
 * on load; under an LRU policy an IDLE opcode (seconds since last access),
 * applied on load under any non-LFU policy. lfu-log-factor 0 makes every
 * access add exactly one to the counter, so the expected values are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newServer, client, run, image } from './rdb-helpers.js';
import { beginSnapshot, endSnapshot, loadRdb } from '../../src/persistence/index.js';
import { Clock } from '../../src/server/clock.js';
import type { Server } from '../../src/server/server.js';
import type { Client } from '../../src/server/client.js';

const T0 = 1_700_000_000_000;
const LFU = { 'maxmemory-policy': 'allkeys-lfu', 'lfu-log-factor': '0' };
const LRU = { 'maxmemory-policy': 'allkeys-lru' };

function frozenServer(config: Record<string, string>, at = T0): { s: Server; c: Client; clock: Clock } {
  const clock = new Clock();
  clock.freeze(at);
  const s = newServer(config, clock);
  return { s, c: client(s), clock };
}

function intReply(reply: string): number {
  assert.match(reply, /^:-?\d+\r\n$/, `expected an integer reply, got ${JSON.stringify(reply)}`);
  return Number(reply.slice(1, -2));
}

function freq(s: Server, c: Client, key: string): number {
  return intReply(run(s, c, 'OBJECT', 'FREQ', key));
}

function idle(s: Server, c: Client, key: string): number {
  return intReply(run(s, c, 'OBJECT', 'IDLETIME', key));
}

function touch(s: Server, c: Client, key: string, times: number): void {
  for (let i = 0; i < times; i++) run(s, c, 'GET', key);
}

test('LFU counters survive a save and a load (FREQ opcode)', () => {
  const a = frozenServer(LFU);
  run(a.s, a.c, 'SET', 'hot', 'v');
  run(a.s, a.c, 'SET', 'warm', 'v', 'EX', '1000');
  run(a.s, a.c, 'SET', 'cold', 'v');
  run(a.s, a.c, 'SET', 'capped', 'v');
  run(a.s, a.c, 'SELECT', '3');
  run(a.s, a.c, 'RPUSH', 'list', 'a', 'b');
  touch(a.s, a.c, 'list', 7); // GET on a list still counts as an access
  run(a.s, a.c, 'SELECT', '0');
  touch(a.s, a.c, 'hot', 50);
  touch(a.s, a.c, 'warm', 10);
  touch(a.s, a.c, 'capped', 300);
  const expected = { hot: 55, warm: 15, cold: 5, capped: 255 };
  for (const [k, v] of Object.entries(expected)) assert.equal(freq(a.s, a.c, k), v, k);

  const b = frozenServer(LFU);
  loadRdb(b.s, image(a.s));
  for (const [k, v] of Object.entries(expected)) assert.equal(freq(b.s, b.c, k), v, k);
  run(b.s, b.c, 'SELECT', '3');
  assert.equal(freq(b.s, b.c, 'list'), 12);
  // Loaded counters keep counting from there.
  run(b.s, b.c, 'SELECT', '0');
  touch(b.s, b.c, 'hot', 3);
  assert.equal(freq(b.s, b.c, 'hot'), 58);
});

test('the saved counter is decayed to the save time and stamped with the load time', () => {
  const a = frozenServer({ ...LFU, 'lfu-decay-time': '1' });
  run(a.s, a.c, 'SET', 'k', 'v');
  touch(a.s, a.c, 'k', 20);
  a.clock.advance(3 * 60_000);
  assert.equal(freq(a.s, a.c, 'k'), 22);
  const buf = image(a.s);

  // Loaded ten minutes later: the counter is the saved one, and decays from the load on.
  const b = frozenServer({ ...LFU, 'lfu-decay-time': '1' }, T0 + 13 * 60_000);
  loadRdb(b.s, buf);
  assert.equal(freq(b.s, b.c, 'k'), 22);
  b.clock.advance(2 * 60_000);
  assert.equal(freq(b.s, b.c, 'k'), 20);
});

test('without an LFU policy no FREQ is written, and loaded keys start at the initial counter', () => {
  const a = frozenServer(LFU);
  run(a.s, a.c, 'SET', 'k', 'v');
  touch(a.s, a.c, 'k', 40);
  assert.equal(freq(a.s, a.c, 'k'), 45);
  assert.equal(run(a.s, a.c, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction'), '+OK\r\n');
  const b = frozenServer(LFU);
  loadRdb(b.s, image(a.s));
  assert.equal(freq(b.s, b.c, 'k'), 5);
});

test('an LFU image loads under an LRU policy: FREQ is ignored, keys count as just accessed', () => {
  const a = frozenServer(LFU);
  run(a.s, a.c, 'SET', 'k', 'v');
  touch(a.s, a.c, 'k', 40);
  const b = frozenServer(LRU);
  loadRdb(b.s, image(a.s));
  assert.equal(run(b.s, b.c, 'GET', 'k'), '$1\r\nv\r\n');
  assert.equal(idle(b.s, b.c, 'k'), 0);
  assert.match(run(b.s, b.c, 'OBJECT', 'FREQ', 'k'), /^-ERR An LFU maxmemory policy is not selected/);
});

test('LRU idle times survive a save and a load (IDLE opcode), under any non-LFU policy', () => {
  const a = frozenServer(LRU);
  run(a.s, a.c, 'SET', 'old', 'v');
  run(a.s, a.c, 'SET', 'recent', 'v');
  a.clock.advance(100_000);
  run(a.s, a.c, 'GET', 'recent');
  a.clock.advance(20_000);
  assert.equal(idle(a.s, a.c, 'old'), 120);
  assert.equal(idle(a.s, a.c, 'recent'), 20);
  const buf = image(a.s);

  for (const policy of ['allkeys-lru', 'volatile-lru', 'noeviction', 'allkeys-random']) {
    // Loaded later: the idle time is the saved one, counted from the load.
    const b = frozenServer({ 'maxmemory-policy': policy }, T0 + 3_600_000);
    loadRdb(b.s, buf);
    assert.equal(idle(b.s, b.c, 'old'), 120, policy);
    assert.equal(idle(b.s, b.c, 'recent'), 20, policy);
    b.clock.advance(5_000);
    assert.equal(idle(b.s, b.c, 'old'), 125, policy);
  }
});

test('without an LRU policy no IDLE is written: loaded keys count as just accessed', () => {
  const a = frozenServer({ 'maxmemory-policy': 'noeviction' });
  run(a.s, a.c, 'SET', 'k', 'v');
  a.clock.advance(500_000);
  assert.equal(idle(a.s, a.c, 'k'), 500);
  const b = frozenServer(LRU, T0 + 500_000);
  loadRdb(b.s, image(a.s));
  assert.equal(idle(b.s, b.c, 'k'), 0);
});

test('a key changed while the image is written keeps the access data of the start of the save', () => {
  // LRU: the write during the save makes the key idle 0, the image says 100.
  const a = frozenServer(LRU);
  for (const k of ['k0', 'k1', 'k2']) run(a.s, a.c, 'SET', k, 'v');
  a.clock.advance(100_000);
  let snap = beginSnapshot(a.s);
  const parts: Buffer[] = [Buffer.from(snap.produce(1))];
  run(a.s, a.c, 'APPEND', 'k2', 'x');
  assert.equal(idle(a.s, a.c, 'k2'), 0);
  while (!snap.done) parts.push(Buffer.from(snap.produce(100)));
  endSnapshot(a.s, snap);
  const b = frozenServer(LRU, T0 + 100_000);
  loadRdb(b.s, Buffer.concat(parts));
  assert.equal(idle(b.s, b.c, 'k2'), 100);
  assert.equal(run(b.s, b.c, 'GET', 'k2'), '$1\r\nv\r\n');

  // LFU: the access by the write during the save is not in the image.
  const l = frozenServer(LFU);
  for (const k of ['k0', 'k1', 'k2']) run(l.s, l.c, 'SET', k, 'v');
  touch(l.s, l.c, 'k2', 10);
  snap = beginSnapshot(l.s);
  const lparts: Buffer[] = [Buffer.from(snap.produce(1))];
  run(l.s, l.c, 'APPEND', 'k2', 'x');
  assert.equal(freq(l.s, l.c, 'k2'), 16);
  while (!snap.done) lparts.push(Buffer.from(snap.produce(100)));
  endSnapshot(l.s, snap);
  const m = frozenServer(LFU);
  loadRdb(m.s, Buffer.concat(lparts));
  assert.equal(freq(m.s, m.c, 'k2'), 15);
});

test('DEBUG RELOAD keeps LFU counters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-rdb-lfu-'));
  try {
    const a = frozenServer({ ...LFU, dir });
    run(a.s, a.c, 'SET', 'k', 'v');
    touch(a.s, a.c, 'k', 33);
    assert.equal(run(a.s, a.c, 'DEBUG', 'RELOAD'), '+OK\r\n');
    assert.equal(freq(a.s, a.c, 'k'), 38);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RESTORE ... FREQ sets the counter under an LFU policy; IDLETIME is ignored there', () => {
  const a = frozenServer(LFU);
  run(a.s, a.c, 'SET', 'src', 'hello');
  const dump = run(a.s, a.c, 'DUMP', 'src');
  const payload = dump.slice(dump.indexOf('\r\n') + 2, -2);
  assert.equal(run(a.s, a.c, 'RESTORE', 'f', '0', payload, 'FREQ', '100'), '+OK\r\n');
  assert.equal(freq(a.s, a.c, 'f'), 100);
  assert.equal(run(a.s, a.c, 'RESTORE', 'i', '0', payload, 'IDLETIME', '100'), '+OK\r\n');
  assert.equal(freq(a.s, a.c, 'i'), 5);
});
