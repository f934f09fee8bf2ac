/**
 * Unit tests for the keyspace building blocks: DenseMap (O(1) map with random
 * sampling and a SCAN cursor) and Database (lazy/active expiry, access times,
 * effects reported to the server). Time comes from a fake, frozen clock.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DenseMap } from '../../src/data/dense-map.js';
import { Database, type KeyspaceEffects } from '../../src/db/database.js';
import type { Value } from '../../src/data/values.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** Checks that the dense arrays and the index agree with a reference Map. */
function assertConsistent(m: DenseMap<number>, ref: Map<string, number>): void {
  assert.equal(m.size, ref.size);
  assert.equal(m.keys.length, m.vals.length);
  for (let i = 0; i < m.keys.length; i++) {
    const k = m.keys[i];
    assert.equal(m.find(k), i, `index of ${k}`);
    assert.equal(m.vals[i], ref.get(k), `value of ${k}`);
  }
  for (const [k, v] of ref) {
    assert.ok(m.has(k), `has ${k}`);
    assert.equal(m.get(k), v);
  }
}

/** Runs a full scan with a fixed count; returns the keys in visit order. */
function fullScan<V>(m: DenseMap<V>, count: number): string[] {
  const seen: string[] = [];
  let cursor = 0;
  let calls = 0;
  do {
    cursor = m.scan(cursor, count, (k) => seen.push(k));
    assert.ok(++calls <= m.size + 2, 'scan must terminate');
  } while (cursor !== 0);
  return seen;
}

/** A fake server side: records the effects a Database reports, with a hand-moved clock. */
class FakeEffects implements KeyspaceEffects {
  time = 1_700_000_000_000;
  isReplica = false;
  masterRunning = false;
  paused = false;
  expiryPaused(): boolean {
    return this.paused;
  }
  replicaWritable = false;
  replicaExpireSets: string[] = [];
  replicaExpireSet(_db: Database, key: string): void {
    this.replicaExpireSets.push(key);
  }
  modifiedKeys: string[] = [];
  expiredKeys: string[] = [];
  readyKeys: string[] = [];
  missedKeys: string[] = [];
  createdKeys: string[] = [];
  modified(_db: Database, key: string): void {
    this.modifiedKeys.push(key);
  }
  expired(_db: Database, key: string): void {
    this.expiredKeys.push(key);
  }
  keyReady(_db: Database, key: string): void {
    this.readyKeys.push(key);
  }
  keyCreated(_db: Database, key: string): void {
    this.createdKeys.push(key);
  }
  keyMiss(_db: Database, key: string): void {
    this.missedKeys.push(key);
  }
  now(): number {
    return this.time;
  }
  get lruClock(): number {
    return Math.floor(this.time / 1000);
  }
}

function newDb(): { db: Database; fx: FakeEffects } {
  const fx = new FakeEffects();
  return { db: new Database(0, fx), fx };
}

/** A stand-in aggregate (lists etc. live in their own files). */
const aList = (): Value => ({ type: 'list' }) as Value;

// ---------------------------------------------------------------------------
// DenseMap
// ---------------------------------------------------------------------------

describe('DenseMap', () => {
  test('set/get/has/find/delete', () => {
    const m = new DenseMap<number>();
    assert.equal(m.set('a', 1), true, 'new key is added');
    assert.equal(m.set('b', 2), true);
    assert.equal(m.set('a', 3), false, 'existing key is replaced');
    assert.equal(m.get('a'), 3);
    assert.equal(m.size, 2);
    assert.equal(m.find('b'), 1);
    assert.equal(m.find('zz'), -1);
    assert.equal(m.get('zz'), undefined);
    assert.equal(m.delete('zz'), false);
    assert.equal(m.delete('a'), true);
    assert.equal(m.has('a'), false);
    assert.equal(m.size, 1);
    assert.equal(m.find('b'), 0, 'the last entry moved into the hole');
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.has('b'), false);
  });

  test('binary-safe keys (latin1, NUL bytes, empty key)', () => {
    const m = new DenseMap<string>();
    const keys = ['', '\x00', '\x00\x00', '\xff\xfe', 'a\r\nb'];
    keys.forEach((k, i) => m.set(k, String(i)));
    keys.forEach((k, i) => assert.equal(m.get(k), String(i)));
    assert.equal(m.size, keys.length);
  });

  test('swap-remove keeps arrays and index aligned under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.integer()), { maxLength: 300 }),
        (ops) => {
          const m = new DenseMap<number>();
          const ref = new Map<string, number>();
          for (const [isSet, k, v] of ops) {
            const key = 'k' + k;
            if (isSet) {
              assert.equal(m.set(key, v), !ref.has(key));
              ref.set(key, v);
            } else {
              assert.equal(m.delete(key), ref.delete(key));
            }
          }
          assertConsistent(m, ref);
        },
      ),
    );
  });

  test('subclass hooks keep a parallel array aligned', () => {
    class Tagged extends DenseMap<number> {
      tags: string[] = [];
      protected override onAdd(i: number): void {
        this.tags[i] = 'tag:' + this.keys[i];
      }
      protected override onMove(from: number, to: number): void {
        this.tags[to] = this.tags[from];
      }
    }
    const m = new Tagged();
    for (let i = 0; i < 50; i++) m.set('k' + i, i);
    for (let i = 0; i < 50; i += 3) m.delete('k' + i);
    for (let i = 0; i < m.size; i++) assert.equal(m.tags[i], 'tag:' + m.keys[i]);
  });

  test('scan visits every entry exactly once when nothing changes', () => {
    const m = new DenseMap<number>();
    for (let i = 0; i < 1000; i++) m.set('k' + i, i);
    for (const count of [1, 7, 10, 999, 1000, 5000]) {
      const seen = fullScan(m, count);
      assert.equal(seen.length, 1000, `count ${count}`);
      assert.equal(new Set(seen).size, 1000);
    }
  });

  test('scan edge cases: empty map, cursor past the end, exact count', () => {
    const m = new DenseMap<number>();
    assert.equal(m.scan(0, 10, () => assert.fail('empty map has nothing to visit')), 0);
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    const seen: string[] = [];
    // A cursor larger than the map (it shrank since) is clamped.
    assert.equal(m.scan(1000, 10, (k) => seen.push(k)), 0);
    assert.deepEqual(seen.sort(), ['a', 'b', 'c']);
    // count = size visits everything in one call.
    assert.equal(m.scan(0, 3, () => {}), 0);
    // A cursor is the number of positions still to visit.
    assert.equal(m.scan(0, 1, () => {}), 2);
    assert.equal(m.scan(2, 1, () => {}), 1);
    assert.equal(m.scan(1, 1, () => {}), 0);
  });

  test('scan guarantee: keys present for the whole scan are returned, whatever happens between calls', () => {
    // Between scan calls: random adds (new and existing keys) and deletes.
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), key: fc.integer({ min: 0, max: 80 }) }),
      fc.record({ kind: fc.constant('del' as const), key: fc.integer({ min: 0, max: 80 }) }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 80 }), { maxLength: 60 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.array(opArb, { maxLength: 8 })), { maxLength: 100 }),
        (initial, rounds) => {
          const m = new DenseMap<number>();
          for (const k of initial) m.set('k' + k, k);
          const everPresent = new Set(m.keys);
          // Keys present at the start and never deleted during the scan.
          const stable = new Set(m.keys);
          const returned = new Set<string>();
          let cursor = 0;
          let round = 0;
          let calls = 0;
          do {
            const [count, ops] = rounds.length > 0 ? rounds[round % rounds.length] : [5, []];
            round++;
            const before = cursor;
            cursor = m.scan(cursor, count, (k, v) => {
              assert.equal(v, Number(k.slice(1)), 'value travels with its key');
              returned.add(k);
            });
            calls++;
            if (cursor !== 0) assert.ok(before === 0 || cursor < before, 'the cursor always progresses');
            assert.ok(calls <= 200, 'scan must terminate');
            if (cursor === 0) break;
            for (const op of ops) {
              const key = 'k' + op.key;
              if (op.kind === 'add') {
                m.set(key, op.key);
                everPresent.add(key);
              } else if (m.delete(key)) {
                stable.delete(key);
              }
            }
          } while (cursor !== 0);
          for (const k of stable) assert.ok(returned.has(k), `stable key ${k} was not returned`);
          for (const k of returned) assert.ok(everPresent.has(k), `returned ${k}, which never existed`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('randomIndex: -1 when empty, otherwise uniform over positions', () => {
    const m = new DenseMap<number>();
    assert.equal(m.randomIndex(), -1);
    const n = 10;
    for (let i = 0; i < n; i++) m.set('k' + i, i);
    const hits = new Array<number>(n).fill(0);
    const samples = 100_000;
    for (let s = 0; s < samples; s++) {
      const i = m.randomIndex();
      assert.ok(Number.isInteger(i) && i >= 0 && i < n);
      hits[i]++;
    }
    // Each bucket expects 10000 (standard deviation ~95): 5% off is over 5 sigma.
    for (const h of hits) assert.ok(Math.abs(h - samples / n) < samples / n * 0.05, `bucket count ${h}`);
  });

  test('randomIndex after deletes only returns live positions', () => {
    const m = new DenseMap<number>();
    for (let i = 0; i < 100; i++) m.set('k' + i, i);
    for (let i = 0; i < 100; i += 2) m.delete('k' + i);
    for (let s = 0; s < 2000; s++) {
      const i = m.randomIndex();
      assert.ok(i >= 0 && i < 50);
      assert.equal(Number(m.keys[i].slice(1)) % 2, 1);
    }
  });
});

// ---------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------

describe('Database', () => {
  test('during a client pause an expired key reads as missing but is not deleted', () => {
    const { db, fx } = newDb();
    db.set('k', 'v');
    db.setExpire('k', fx.time + 10);
    fx.time += 10;
    fx.paused = true;
    assert.equal(db.lookupRead('k'), undefined);
    assert.deepEqual(fx.expiredKeys, []);
    assert.equal(db.size, 1, 'still stored');
    fx.paused = false;
    assert.equal(db.lookupRead('k'), undefined);
    assert.deepEqual(fx.expiredKeys, ['k']);
    assert.equal(db.size, 0);
  });

  test('lazy expiry on read: a key is gone exactly when its time comes', () => {
    const { db, fx } = newDb();
    db.set('k', 'v');
    db.setExpire('k', fx.time + 1000);
    fx.time += 999;
    assert.equal(db.lookupRead('k'), 'v');
    assert.equal(db.hits, 1);
    assert.deepEqual(fx.expiredKeys, []);
    fx.time += 1; // when <= now: expired
    assert.equal(db.lookupRead('k'), undefined);
    assert.deepEqual(fx.expiredKeys, ['k']);
    assert.deepEqual(fx.missedKeys, ['k']);
    assert.equal(db.misses, 1);
    assert.equal(db.size, 0);
    assert.equal(db.expires.size, 0, 'the TTL entry goes with the key');
    assert.equal(db.getExpire('k'), -1);
    // A second read finds nothing and does not report another expiry.
    assert.equal(db.lookupRead('k'), undefined);
    assert.deepEqual(fx.expiredKeys, ['k']);
  });

  test('lookupWrite and has expire lazily but keep no hit/miss statistics', () => {
    const { db, fx } = newDb();
    db.set('a', '1');
    db.set('b', '2');
    db.setExpire('a', fx.time + 10);
    db.setExpire('b', fx.time + 10);
    fx.time += 10;
    assert.equal(db.lookupWrite('a'), undefined);
    assert.equal(db.has('b'), false);
    assert.deepEqual(fx.expiredKeys, ['a', 'b']);
    assert.equal(db.hits + db.misses, 0);
    assert.deepEqual(fx.missedKeys, []);
  });

  test('peek neither expires nor touches', () => {
    const { db, fx } = newDb();
    db.set('k', 'v');
    db.setExpire('k', fx.time + 5);
    fx.time += 60_000;
    assert.equal(db.peek('k'), 'v');
    assert.deepEqual(fx.expiredKeys, []);
    assert.equal(db.idleSeconds('k'), 60);
    assert.equal(db.size, 1);
  });

  test('keys without TTL never expire', () => {
    const { db, fx } = newDb();
    db.set('a', 'x');
    db.set('b', 'y');
    db.setExpire('b', fx.time + 1);
    fx.time += 10 ** 12;
    assert.equal(db.lookupRead('a'), 'x');
    assert.equal(db.lookupRead('b'), undefined);
  });

  test('set drops the TTL unless keepTtl; delete reports existence and removes the TTL', () => {
    const { db, fx } = newDb();
    db.set('k', '1');
    db.setExpire('k', fx.time + 1000);
    db.set('k', '2', true);
    assert.equal(db.getExpire('k'), fx.time + 1000);
    db.set('k', '3');
    assert.equal(db.getExpire('k'), -1);
    db.setExpire('k', fx.time + 1000);
    assert.equal(db.delete('k'), true);
    assert.equal(db.delete('k'), false);
    assert.equal(db.expires.size, 0);
    // A new key of the same name starts without the old TTL.
    db.set('k', '4');
    assert.equal(db.getExpire('k'), -1);
  });

  test('persist removes a TTL and reports whether there was one', () => {
    const { db, fx } = newDb();
    db.set('k', 'v');
    assert.equal(db.persist('k'), false);
    db.setExpire('k', fx.time + 1000);
    assert.equal(db.persist('k'), true);
    fx.time += 2000;
    assert.equal(db.lookupRead('k'), 'v');
  });

  test('writes signal modifications (WATCH, tracking); failed deletes do not', () => {
    const { db, fx } = newDb();
    db.set('a', '1');
    db.delete('a');
    db.delete('a');
    db.signalModified('b');
    assert.deepEqual(fx.modifiedKeys, ['a', 'a', 'b']);
    db.overwriteQuiet('c', '1');
    assert.deepEqual(fx.modifiedKeys, ['a', 'a', 'b'], 'overwriteQuiet leaves signalling to the caller');
  });

  test('only new keys are reported as created (the "new" keyspace event)', () => {
    const { db, fx } = newDb();
    db.set('a', '1');
    db.set('a', '2');
    db.delete('a');
    db.set('a', '3');
    db.set('b', '1', true);
    assert.deepEqual(fx.createdKeys, ['a', 'a', 'b']);
  });

  test('new aggregates wake clients blocked on the key; strings and existing keys do not', () => {
    const { db, fx } = newDb();
    db.set('q', aList());
    assert.deepEqual(fx.readyKeys, [], 'nobody blocked');
    db.blockingKeys = new Map([['q2', []], ['s', []]]);
    db.set('s', 'plain');
    db.set('q2', aList());
    assert.deepEqual(fx.readyKeys, ['q2']);
    db.set('q2', aList()); // replaced, not added
    assert.deepEqual(fx.readyKeys, ['q2']);
    db.signalReady('q2');
    db.signalReady('other');
    assert.deepEqual(fx.readyKeys, ['q2', 'q2']);
  });

  test('access times: idle seconds grow with the clock, reads and writes reset them', () => {
    const { db, fx } = newDb();
    db.set('k', 'v');
    assert.equal(db.idleSeconds('k'), 0);
    fx.time += 5_000;
    assert.equal(db.idleSeconds('k'), 5);
    db.lookupRead('k');
    assert.equal(db.idleSeconds('k'), 0);
    fx.time += 3_000;
    db.lookupWrite('k');
    assert.equal(db.idleSeconds('k'), 0);
    fx.time += 2_000;
    db.set('k', 'w');
    assert.equal(db.idleSeconds('k'), 0);
    assert.equal(db.idleSeconds('missing'), -1);
  });

  test('access times follow their keys through swap-removes and table growth', () => {
    const { db, fx } = newDb();
    const n = 3000; // beyond the initial 1024-entry access table
    const createdAt = new Map<string, number>();
    const start = fx.time;
    for (let i = 0; i < n; i++) {
      fx.time = start + i * 1000;
      db.set('k' + i, 'v');
      createdAt.set('k' + i, fx.time);
    }
    for (let i = 0; i < n; i += 3) {
      db.delete('k' + i);
      createdAt.delete('k' + i);
    }
    fx.time = start + n * 1000;
    for (const [k, t] of createdAt) assert.equal(db.idleSeconds(k), (fx.time - t) / 1000, k);
  });

  test('randomKey: null when empty, never an expired key, O(1) sampling', () => {
    const { db, fx } = newDb();
    assert.equal(db.randomKey(), null);
    for (let i = 0; i < 100; i++) {
      db.set('k' + i, 'v');
      if (i % 2 === 0) db.setExpire('k' + i, fx.time + 10);
    }
    fx.time += 10;
    const seen = new Set<string>();
    for (let s = 0; s < 500; s++) {
      const k = db.randomKey();
      assert.ok(k !== null);
      assert.equal(Number(k.slice(1)) % 2, 1, `returned expired key ${k}`);
      seen.add(k);
    }
    assert.ok(seen.size > 40, 'samples spread over the live keys');
  });

  test('randomKey: when every key has expired, replies null (as a Redis master does)', () => {
    const { db, fx } = newDb();
    for (let i = 0; i < 300; i++) {
      db.set('k' + i, 'v');
      db.setExpire('k' + i, fx.time + 1);
    }
    fx.time += 1;
    assert.equal(db.randomKey(), null);
    assert.equal(db.size, 0);
  });

  test('on a replica, expired keys read as missing but stay until the master deletes them; the master stream still sees them', () => {
    const { db, fx } = newDb();
    fx.isReplica = true;
    db.set('k', 'v');
    db.setExpire('k', fx.time + 10);
    fx.time += 10;
    assert.equal(db.lookupRead('k'), undefined);
    assert.equal(db.has('k'), false);
    assert.equal(db.size, 1, 'still stored');
    assert.deepEqual(fx.expiredKeys, [], 'no expiry effect (no DEL propagated)');
    fx.masterRunning = true;
    assert.equal(db.lookupWrite('k'), 'v', 'the master stream sees the key until its DEL');
    fx.masterRunning = false;
    // RANDOMKEY on a replica whose keys are all expired gives one up after 100 tries instead of looping.
    assert.equal(db.randomKey(), 'k');
    fx.isReplica = false;
    assert.equal(db.randomKey(), null);
    assert.equal(db.size, 0);
  });

  test('on a writable replica, a write lookup deletes an expired key (Redis LOOKUP_WRITE), a read lookup does not; its own TTLs are reported for tracking', () => {
    const { db, fx } = newDb();
    fx.isReplica = true;
    db.set('k', 'v');
    db.setExpire('k', fx.time + 10);
    assert.deepEqual(fx.replicaExpireSets, ['k']);
    fx.time += 10;
    assert.equal(db.lookupWrite('k'), undefined);
    assert.equal(db.size, 1, 'read-only replica: a write lookup keeps the key too');
    fx.replicaWritable = true;
    assert.equal(db.lookupRead('k'), undefined);
    assert.equal(db.size, 1);
    assert.equal(db.lookupWrite('k'), undefined);
    assert.equal(db.size, 0);
    assert.deepEqual(fx.expiredKeys, ['k']);
    fx.masterRunning = true;
    db.set('m', 'v');
    db.setExpire('m', fx.time + 10);
    assert.deepEqual(fx.replicaExpireSets, ['k'], 'the master stream\'s TTLs are not tracked');
  });

  test('activeExpireSample removes only expired keys and reports counts', () => {
    const { db, fx } = newDb();
    for (let i = 0; i < 200; i++) {
      db.set('k' + i, 'v');
      db.setExpire('k' + i, fx.time + (i < 100 ? 100 : 100_000));
    }
    db.set('forever', 'v');
    fx.time += 100;
    const [sampled, expired] = db.activeExpireSample(20, fx.time);
    assert.equal(sampled, 20);
    assert.ok(expired >= 1 && expired <= 20);
    assert.equal(fx.expiredKeys.length, expired);
    assert.equal(db.size, 201 - expired);
    // Repeating the cycle (as the server's loop does) reclaims every expired key.
    for (let round = 0; round < 1000 && db.size > 101; round++) db.activeExpireSample(20, fx.time);
    assert.equal(db.size, 101);
    assert.equal(db.expires.size, 100);
    for (const k of fx.expiredKeys) assert.ok(Number(k.slice(1)) < 100, `${k} was not expired yet`);
    assert.equal(new Set(fx.expiredKeys).size, 100, 'each key expires once');
    assert.ok(db.has('forever'));
    assert.ok(db.avgTtl > 0 && db.avgTtl <= 100_000, `avgTtl ${db.avgTtl}`);
  });

  test('activeExpireSample on a database without TTLs does nothing', () => {
    const { db, fx } = newDb();
    db.set('a', '1');
    assert.deepEqual(db.activeExpireSample(20, fx.time), [0, 0]);
    assert.equal(db.size, 1);
  });

  test('flush empties keys and TTLs, returns the count, and resets the average TTL', () => {
    const { db, fx } = newDb();
    for (let i = 0; i < 10; i++) db.set('k' + i, 'v');
    db.setExpire('k1', fx.time + 50_000);
    db.activeExpireSample(5, fx.time);
    assert.ok(db.avgTtl > 0);
    assert.equal(db.flush(), 10);
    assert.equal(db.size, 0);
    assert.equal(db.expires.size, 0);
    assert.equal(db.avgTtl, 0, 'INFO keyspace avg_ttl restarts after FLUSHDB, as in Redis');
    db.set('again', 'v');
    assert.equal(db.idleSeconds('again'), 0);
  });

  test('swapWith exchanges keys and TTLs but not the database identity', () => {
    const a = newDb();
    const b = new Database(1, a.fx);
    a.db.set('x', '1');
    a.db.setExpire('x', a.fx.time + 1000);
    b.set('y', '2');
    a.db.swapWith(b);
    assert.equal(a.db.id, 0);
    assert.equal(b.id, 1);
    assert.equal(a.db.peek('y'), '2');
    assert.equal(b.peek('x'), '1');
    assert.equal(b.getExpire('x'), a.fx.time + 1000);
    assert.equal(a.db.getExpire('y'), -1);
  });
});

test('a replica remembers the TTLs its own clients set, not its master\'s, and expires them itself', () => {
  const { db, fx } = newDb();
  fx.isReplica = true;
  fx.masterRunning = true;
  db.set('frommaster', 'v');
  db.setExpire('frommaster', fx.time + 10);
  fx.masterRunning = false;
  db.set('own', 'v');
  db.setExpire('own', fx.time + 10);
  assert.deepEqual(fx.replicaExpireSets, ['own']);
  assert.equal(db.expireTracked('own', fx.time), 'live'); // TTL not reached: still waiting
  fx.time += 11;
  assert.equal(db.expireTracked('own', fx.time), 'expired');
  assert.equal(db.peek('own'), undefined);
  assert.deepEqual(fx.expiredKeys, ['own']);
  assert.equal(db.expireTracked('missing', fx.time), 'none');
});
