/**
 * Unit tests for HashValue: a model test against a Map (contents, insertion
 * order while packed, encoding transitions), the thresholds observed on
 * redis-server 7.0.15, long entries, cloning and the HSCAN cursor guarantee.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HashValue, type HashLimits } from '../../src/data/hash.js';

const DEFAULT_LIMITS: HashLimits = { maxEntries: 512, maxValue: 64 };

function pairsOf(h: HashValue): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  h.forEach((f, v) => out.push([f, v]));
  return out;
}

function scanAll(h: HashValue, count: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let cursor = 0;
  do {
    cursor = h.scan(cursor, count, (f, v) => out.push([f, v]));
  } while (cursor !== 0);
  return out;
}

/** Latin1 strings with the bytes that tend to break encodings: NUL, 0xff, header-like values. */
const byteString = (maxLength: number) =>
  fc
    .array(fc.constantFrom(0, 1, 0x61, 0x62, 0x63, 0xfe, 0xff), { maxLength })
    .map((codes) => String.fromCharCode(...codes));

type Op =
  | { op: 'set'; field: string; value: string }
  | { op: 'del'; field: string }
  | { op: 'convertForArgs'; args: string[] };

const opArb = (maxLen: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), field: byteString(maxLen), value: byteString(maxLen) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), field: byteString(maxLen) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('convertForArgs' as const), args: fc.array(byteString(maxLen), { minLength: 1, maxLength: 4 }) }) },
  );

describe('HashValue model test', () => {
  test('behaves like a Map, keeps insertion order while packed, converts like Redis', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(opArb(7), { maxLength: 60 }),
        (maxEntries, maxValue, ops) => {
          const limits = { maxEntries, maxValue };
          const h = new HashValue();
          const model = new Map<string, string>();
          let table = false; // what Redis's encoding would be
          for (const o of ops) {
            if (o.op === 'set') {
              if (o.field.length > maxValue || o.value.length > maxValue) table = true;
              const isNew = !model.has(o.field);
              model.set(o.field, o.value);
              if (model.size > maxEntries) table = true;
              assert.equal(h.set(o.field, o.value, limits), isNew);
            } else if (o.op === 'del') {
              assert.equal(h.delete(o.field), model.delete(o.field));
            } else {
              if (o.args.some((a) => a.length > maxValue)) table = true;
              h.convertForArgs(o.args, 0, o.args.length - 1, maxValue);
            }
            assert.equal(h.encoding(), table ? 'hashtable' : 'listpack');
            assert.equal(h.size, model.size);
          }
          for (const [f, v] of model) {
            assert.equal(h.get(f), v);
            assert.equal(h.has(f), true);
            assert.equal(h.valueLength(f), v.length);
          }
          assert.equal(h.get('\x00absent'), undefined);
          assert.equal(h.has('\x00absent'), false);
          assert.equal(h.valueLength('\x00absent'), 0);
          const pairs = pairsOf(h);
          if (table) {
            assert.deepEqual(new Map(pairs), model);
            assert.equal(pairs.length, model.size);
          } else {
            // Listpack order: a Map's order is exactly insertion order with in-place updates.
            assert.deepEqual(pairs, [...model]);
          }
          const index = h.index();
          assert.equal(index.size, pairs.length);
          assert.deepEqual(pairs.map((_p, i) => [index.field(i), index.value(i)]), pairs);
          assert.deepEqual(new Map(scanAll(h, 3)), model);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('HashValue table form model test', () => {
  test('long random runs of set/delete (growth, shrinking, probe-run deletions) match a Map', () => {
    const limits = { maxEntries: 0, maxValue: 64 };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 400 })), { minLength: 1, maxLength: 3000 }),
        (ops) => {
          const h = new HashValue();
          const model = new Map<string, string>();
          let step = 0;
          for (const [kind, n] of ops) {
            const field = 'field:' + n;
            if (kind < 6) {
              const value = 'v' + step;
              assert.equal(h.set(field, value, limits), !model.has(field));
              model.set(field, value);
            } else {
              assert.equal(h.delete(field), model.delete(field));
            }
            step++;
          }
          assert.equal(h.size, model.size);
          for (let n = 0; n <= 400; n++) {
            const field = 'field:' + n;
            assert.equal(h.get(field), model.get(field));
            assert.equal(h.has(field), model.has(field));
          }
          assert.deepEqual(new Map(pairsOf(h)), model);
          assert.equal(pairsOf(h).length, model.size);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('100000 fields: insert, look up, delete half, look up again', () => {
    const limits = { maxEntries: 0, maxValue: 64 };
    const h = new HashValue();
    for (let i = 0; i < 100000; i++) h.set('f' + i, 'v' + i, limits);
    assert.equal(h.size, 100000);
    for (let i = 0; i < 100000; i += 997) assert.equal(h.get('f' + i), 'v' + i);
    for (let i = 0; i < 100000; i += 2) assert.equal(h.delete('f' + i), true);
    assert.equal(h.size, 50000);
    for (let i = 0; i < 100000; i++) assert.equal(h.get('f' + i), i % 2 === 0 ? undefined : 'v' + i);
    const index = h.index();
    assert.equal(index.size, 50000);
    assert.equal(h.get(index.field(123)), index.value(123));
  });
});

describe('HashValue encodings (thresholds observed on redis-server 7.0.15)', () => {
  test('listpack up to hash-max-listpack-entries fields, hashtable above', () => {
    const h = new HashValue();
    for (let i = 0; i < 512; i++) h.set('f' + i, 'v', DEFAULT_LIMITS);
    assert.equal(h.encoding(), 'listpack');
    h.set('f0', 'updated', DEFAULT_LIMITS);
    assert.equal(h.encoding(), 'listpack');
    h.set('f512', 'v', DEFAULT_LIMITS);
    assert.equal(h.encoding(), 'hashtable');
    assert.equal(h.size, 513);
    assert.equal(h.get('f0'), 'updated');
  });

  test('a value or field of 64 bytes stays listpack, 65 converts', () => {
    const a = new HashValue();
    a.set('f', 'x'.repeat(64), DEFAULT_LIMITS);
    assert.equal(a.encoding(), 'listpack');
    a.set('x'.repeat(65), '1', DEFAULT_LIMITS);
    assert.equal(a.encoding(), 'hashtable');
    const b = new HashValue();
    b.set('f', 'x'.repeat(65), DEFAULT_LIMITS);
    assert.equal(b.encoding(), 'hashtable');
  });

  test('HSET checks every argument first: updating with a long value converts', () => {
    const h = new HashValue();
    h.set('a', '1', DEFAULT_LIMITS);
    const argv = ['HSET', 'k', 'a', 'y'.repeat(65)];
    h.convertForArgs(argv, 2, 3, DEFAULT_LIMITS.maxValue);
    assert.equal(h.encoding(), 'hashtable');
    assert.equal(h.get('a'), '1');
  });

  test('never converts back, even when emptied', () => {
    const limits = { maxEntries: 2, maxValue: 64 };
    const h = new HashValue();
    for (const f of ['a', 'b', 'c']) h.set(f, '1', limits);
    assert.equal(h.encoding(), 'hashtable');
    for (const f of ['a', 'b']) h.delete(f);
    assert.equal(h.encoding(), 'hashtable');
    assert.deepEqual(pairsOf(h), [['c', '1']]);
  });

  test('hash-max-listpack-entries 0 makes every non-empty hash a hashtable', () => {
    const h = new HashValue();
    h.set('a', '1', { maxEntries: 0, maxValue: 64 });
    assert.equal(h.encoding(), 'hashtable');
  });
});

describe('HashValue packed form details', () => {
  test('entries of 254, 255 and long lengths round-trip (both header sizes)', () => {
    const limits = { maxEntries: 512, maxValue: 1 << 20 };
    const h = new HashValue();
    const cases: Array<[string, string]> = [
      ['a'.repeat(254), 'b'.repeat(255)],
      ['\xff'.repeat(255), '\x00'.repeat(70000)],
      ['', ''],
      ['\xff', '\xff\xff\xff\xff\xff'],
    ];
    for (const [f, v] of cases) h.set(f, v, limits);
    assert.equal(h.encoding(), 'listpack');
    assert.deepEqual(pairsOf(h), cases);
    for (const [f, v] of cases) {
      assert.equal(h.get(f), v);
      assert.equal(h.valueLength(f), v.length);
    }
    assert.equal(h.delete('\xff'.repeat(255)), true);
    assert.deepEqual(pairsOf(h), [cases[0], cases[2], cases[3]]);
    h.set(cases[0][0], 'short', limits);
    assert.deepEqual(pairsOf(h)[0], [cases[0][0], 'short']);
  });

  test('field counts across the one-char/five-char count header boundary (255)', () => {
    const limits = { maxEntries: 600, maxValue: 64 };
    const h = new HashValue();
    const model = new Map<string, string>();
    for (let i = 0; i < 300; i++) {
      h.set('f' + i, 'v' + i, limits);
      model.set('f' + i, 'v' + i);
      assert.equal(h.size, model.size);
    }
    assert.equal(h.encoding(), 'listpack');
    assert.deepEqual(pairsOf(h), [...model]);
    for (let i = 0; i < 300; i += 2) {
      assert.equal(h.delete('f' + i), true);
      model.delete('f' + i);
      assert.equal(h.size, model.size);
    }
    assert.deepEqual(pairsOf(h), [...model]);
    assert.equal(h.get('f299'), 'v299');
    for (const f of [...model.keys()]) h.delete(f);
    assert.equal(h.size, 0);
    assert.deepEqual(pairsOf(h), []);
    h.set('again', '1', limits);
    assert.deepEqual(pairsOf(h), [['again', '1']]);
  });

  test('a field that matches a value is not found through the value', () => {
    const h = new HashValue();
    h.set('a', 'b', DEFAULT_LIMITS);
    assert.equal(h.has('b'), false);
    assert.equal(h.get('b'), undefined);
    assert.equal(h.delete('b'), false);
    assert.equal(h.size, 1);
  });

  test('scan of a packed hash returns everything with cursor 0, whatever the cursor', () => {
    const h = HashValue.from([['a', '1'], ['b', '2'], ['c', '3']], DEFAULT_LIMITS);
    const seen: string[] = [];
    assert.equal(h.scan(12345, 1, (f) => seen.push(f)), 0);
    assert.deepEqual(seen, ['a', 'b', 'c']);
  });

  test('clone is independent and keeps the encoding', () => {
    for (const limits of [DEFAULT_LIMITS, { maxEntries: 1, maxValue: 64 }]) {
      const h = HashValue.from([['a', '1'], ['b', '2']], limits);
      const c = h.clone();
      assert.equal(c.encoding(), h.encoding());
      c.set('c', '3', limits);
      c.delete('a');
      h.set('b', 'changed', limits);
      assert.deepEqual(new Map(pairsOf(h)), new Map([['a', '1'], ['b', 'changed']]));
      assert.deepEqual(new Map(pairsOf(c)), new Map([['b', '2'], ['c', '3']]));
      assert.equal(c.type, 'hash');
    }
  });
});

describe('HashValue table scan', () => {
  test('every field present for the whole scan is returned, despite changes between calls', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 120 })), { maxLength: 80 }),
        (initial, count, changes) => {
          const limits = { maxEntries: 0, maxValue: 64 };
          const h = new HashValue();
          for (let i = 0; i < initial; i++) h.set('f' + i, 'v', limits);
          const stable = new Set<string>();
          for (let i = 0; i < initial; i++) stable.add('f' + i);
          const seen = new Set<string>();
          let cursor = 0;
          let step = 0;
          do {
            cursor = h.scan(cursor, count, (f) => seen.add(f));
            // Mutate between calls: additions and deletions (deleted fields leave the stable set).
            const change = changes[step++ % Math.max(1, changes.length)];
            if (change !== undefined) {
              const f = 'f' + change[1];
              if (change[0]) {
                h.set(f, 'w', limits);
              } else {
                h.delete(f);
                stable.delete(f);
              }
            }
          } while (cursor !== 0);
          for (const f of stable) if (h.has(f)) assert.ok(seen.has(f), `missed ${f}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('HashValue rewriting a field', () => {
  test('the same value, a value sharing its tail, an empty value: both forms read back what was set', () => {
    for (const limits of [DEFAULT_LIMITS, { maxEntries: 0, maxValue: 64 }]) {
      const h = new HashValue();
      assert.equal(h.set('f', 'xyz', limits), true);
      assert.equal(h.set('g', '', limits), true);
      for (const [field, value] of [['f', 'xyz'], ['f', 'yz'], ['f', 'ayz'], ['f', 'xyz'], ['g', ''], ['g', 'z'], ['g', ''], ['f', '']] as const) {
        assert.equal(h.set(field, value, limits), false);
        assert.equal(h.get(field), value, `${field}=${JSON.stringify(value)} with ${JSON.stringify(limits)}`);
      }
      assert.equal(h.get('g'), '');
      assert.equal(h.size, 2);
    }
  });
});
