/**
 * ZSetValue and its OrderTree (src/data/zset.ts): a fast-check model test
 * against a plain sorted array under random add/update/remove/rank/range
 * operations in both encodings; a long random run that grows the B+tree
 * several levels deep (splits, merges, refills, bulk rebuilds); and targeted
 * tests for Redis's rules: conversion thresholds, -0 in a listpack, lex scans
 * over mixed scores, encodings of stored results, cloning and the ZSCAN cursor.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ZSetValue,
  OrderTree,
  LEX_MIN,
  LEX_MAX,
  compareLex,
  type LexRange,
  type ScoreRange,
  type ZSetLimits,
} from '../../src/data/zset.js';

const LIMITS: ZSetLimits = { maxEntries: 128, maxValue: 64 };

type Entry = [string, number];

/** The model: entries sorted by score, then member. */
function sortModel(model: Entry[]): Entry[] {
  return model.slice().sort((a, b) => (a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function entriesOf(z: ZSetValue): Entry[] {
  const out: Entry[] = [];
  z.forEach((m, s) => void out.push([m, s]));
  return out;
}

function rangeOf(z: ZSetValue, [first, last]: [number, number]): string[] {
  const out: string[] = [];
  if (first <= last) z.forRange(first, last, false, (m) => void out.push(m));
  return out;
}

/** What a score range holds, by brute force over the model. */
function modelScoreRange(sorted: Entry[], r: ScoreRange): string[] {
  return sorted
    .filter(([, s]) => (r.minex ? s > r.min : s >= r.min) && (r.maxex ? s < r.max : s <= r.max))
    .map(([m]) => m);
}

function modelLexRange(sorted: Entry[], r: LexRange): string[] {
  return sorted
    .filter(([m]) => {
      const a = compareLex(m, r.min);
      const b = compareLex(m, r.max);
      return (r.minex ? a > 0 : a >= 0) && (r.maxex ? b < 0 : b <= 0);
    })
    .map(([m]) => m);
}

const member = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '', '\x00', '\xff', 'ab', 'ba', 'long-member');
const score = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(-Infinity, Infinity, 0.5, -0.5, 1e300),
);

type Op =
  | { op: 'add'; m: string; s: number }
  | { op: 'remove'; m: string }
  | { op: 'rank'; m: string }
  | { op: 'scoreRange'; min: number; max: number; minex: boolean; maxex: boolean }
  | { op: 'lexRange'; min: string; max: string; minex: boolean; maxex: boolean }
  | { op: 'removeRange'; a: number; b: number }
  | { op: 'clone' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), m: member, s: score }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), m: member }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rank' as const), m: member }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('scoreRange' as const), min: score, max: score, minex: fc.boolean(), maxex: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('lexRange' as const), min: member, max: member, minex: fc.boolean(), maxex: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeRange' as const), a: fc.nat(16), b: fc.nat(16) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clone' as const) }) },
);

describe('ZSetValue model test', () => {
  test('matches a sorted array under random operations, in both encodings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 }), fc.array(opArb, { maxLength: 80 }), (maxEntries, maxValue, ops) => {
        const limits = { maxEntries, maxValue };
        let z = new ZSetValue();
        let model: Entry[] = [];
        let skiplist = false; // what Redis's encoding would be
        for (const o of ops) {
          if (o.op === 'add') {
            const cur = z.score(o.m);
            const i = model.findIndex(([m]) => m === o.m);
            assert.equal(cur, i < 0 ? undefined : model[i][1]);
            if (cur === undefined) {
              if (model.length + 1 > maxEntries || o.m.length > maxValue) skiplist = true;
              z.insert(o.m, o.s, limits);
              model.push([o.m, skiplist ? o.s : o.s === 0 ? 0 : o.s]);
            } else {
              z.update(o.m, cur, o.s);
              model[i] = [o.m, skiplist ? o.s : o.s === 0 ? 0 : o.s];
            }
          } else if (o.op === 'remove') {
            const i = model.findIndex(([m]) => m === o.m);
            assert.equal(z.delete(o.m), i >= 0);
            if (i >= 0) model.splice(i, 1);
          } else if (o.op === 'rank') {
            const sorted = sortModel(model);
            assert.equal(z.rank(o.m), sorted.findIndex(([m]) => m === o.m));
          } else if (o.op === 'scoreRange') {
            const r: ScoreRange = { min: o.min, max: o.max, minex: o.minex, maxex: o.maxex };
            assert.deepEqual(rangeOf(z, z.scoreRange(r)), modelScoreRange(sortModel(model), r));
          } else if (o.op === 'lexRange') {
            // With one shared score, lex order is the set order in both encodings.
            const same = new ZSetValue();
            for (const [m] of model) same.insert(m, 0, limits);
            const r: LexRange = { min: o.min, max: o.max, minex: o.minex, maxex: o.maxex };
            const want = modelLexRange(sortModel(model.map(([m]) => [m, 0])), r);
            assert.deepEqual(rangeOf(same, same.lexRange(r, false)), want);
            assert.deepEqual(rangeOf(same, same.lexRange(r, true)), want);
          } else if (o.op === 'removeRange') {
            const sorted = sortModel(model);
            const a = Math.min(o.a, o.b);
            const b = Math.min(Math.max(o.a, o.b), sorted.length - 1);
            const removed: string[] = [];
            const n = a <= b ? z.removeRange(a, b, (m) => removed.push(m)) : 0;
            const want = a <= b ? sorted.slice(a, b + 1).map(([m]) => m) : [];
            assert.equal(n, want.length);
            assert.deepEqual(removed, want);
            model = model.filter(([m]) => !want.includes(m));
          } else {
            const copy = z.clone();
            assert.equal(copy.encoding(), z.encoding());
            z = copy;
          }
          z.check();
          assert.equal(z.encoding(), skiplist ? 'skiplist' : 'listpack');
          assert.equal(z.size, model.length);
          assert.deepEqual(entriesOf(z), sortModel(model));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('OrderTree', () => {
  test('stays consistent through a long random run (several levels, splits, merges, rebuilds)', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const z = new ZSetValue();
    z.convert();
    const model = new Map<string, number>();
    const check = (): void => {
      z.check();
      const sorted = sortModel([...model.entries()]);
      assert.deepEqual(entriesOf(z), sorted);
      for (let k = 0; k < 50 && sorted.length > 0; k++) {
        const i = rnd(sorted.length);
        assert.equal(z.rank(sorted[i][0]), i);
        assert.equal(z.memberAt(i), sorted[i][0]);
        assert.equal(z.scoreAt(i), sorted[i][1]);
      }
    };
    // Grow to 40k members (three levels of inner nodes with 64-entry leaves).
    for (let i = 0; i < 40000; i++) {
      const m = 'm' + rnd(60000);
      const s = rnd(1000);
      const cur = z.score(m);
      if (cur === undefined) z.insert(m, s, LIMITS);
      else z.update(m, cur, s);
      model.set(m, s);
    }
    check();
    // Churn: deletes, updates, small range removals.
    for (let i = 0; i < 30000; i++) {
      const r = rnd(10);
      if (r < 5) {
        const m = 'm' + rnd(60000);
        assert.equal(z.delete(m), model.delete(m));
      } else if (r < 9) {
        const m = 'm' + rnd(60000);
        const s = rnd(1000) - 500;
        const cur = z.score(m);
        if (cur === undefined) z.insert(m, s, LIMITS);
        else z.update(m, cur, s);
        model.set(m, s);
      } else if (z.size > 0) {
        const a = rnd(z.size);
        const b = Math.min(z.size - 1, a + rnd(40));
        z.removeRange(a, b, (m) => model.delete(m));
      }
    }
    check();
    // A large range removal (bulk rebuild), then drain to empty from the front.
    z.removeRange(100, z.size - 100, (m) => model.delete(m));
    check();
    while (z.size > 0) {
      z.removeRange(0, Math.min(z.size - 1, rnd(7)), (m) => model.delete(m));
    }
    check();
    assert.equal(model.size, 0);
  });

  test('build() gives a valid tree for every size around the node limits', () => {
    for (const n of [0, 1, 15, 16, 55, 56, 57, 64, 65, 127, 3000, 3137, 200000]) {
      const members: string[] = [];
      const scores: number[] = [];
      for (let i = 0; i < n; i++) {
        members.push('k' + String(i).padStart(7, '0'));
        scores.push(Math.floor(i / 3));
      }
      const t = OrderTree.build(members, scores);
      t.check();
      assert.equal(t.size, n);
      if (n > 0) {
        assert.equal(t.rank(scores[n - 1], members[n - 1]), n - 1);
        assert.equal(t.memberAt(Math.floor(n / 2)), members[Math.floor(n / 2)]);
      }
    }
  });

  test('countBefore finds score bounds and forRange walks both ways across leaves', () => {
    const members: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < 1000; i++) {
      members.push('e' + String(i).padStart(4, '0'));
      scores.push(i * 2);
    }
    const t = OrderTree.build(members, scores);
    assert.equal(t.countBefore((s) => s < 501), 251);
    assert.equal(t.countBefore((s) => s <= 500), 251);
    assert.equal(t.countBefore(() => true), 1000);
    assert.equal(t.countBefore(() => false), 0);
    const fwd: string[] = [];
    t.forRange(60, 200, false, (m) => void fwd.push(m));
    assert.deepEqual(fwd, members.slice(60, 201));
    const back: string[] = [];
    t.forRange(60, 200, true, (m) => void back.push(m));
    assert.deepEqual(back, members.slice(60, 201).reverse());
  });
});

describe('Redis rules', () => {
  test('converts above zset-max-listpack-entries or -value, never back', () => {
    const limits = { maxEntries: 3, maxValue: 5 };
    const z = ZSetValue.from(
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ],
      limits,
    );
    assert.equal(z.encoding(), 'listpack');
    z.update('a', 1, 10); // updates never convert
    assert.equal(z.encoding(), 'listpack');
    z.insert('d', 4, limits);
    assert.equal(z.encoding(), 'skiplist');
    z.delete('a');
    z.delete('b');
    z.delete('c');
    assert.equal(z.encoding(), 'skiplist');
    const long = new ZSetValue();
    long.insert('abcdef', 1, limits);
    assert.equal(long.encoding(), 'skiplist');
    const none = new ZSetValue();
    none.insert('a', 1, { maxEntries: 0, maxValue: 64 });
    assert.equal(none.encoding(), 'skiplist');
  });

  test('a listpack stores -0 as 0; a skiplist keeps -0', () => {
    const packed = new ZSetValue();
    packed.insert('m', -0, LIMITS);
    assert.ok(Object.is(packed.score('m'), 0));
    const big = new ZSetValue();
    big.convert();
    big.insert('m', -0, LIMITS);
    assert.ok(Object.is(big.score('m'), -0));
    // -0 and 0 are the same score for ordering.
    big.insert('a', 0, LIMITS);
    assert.deepEqual(entriesOf(big).map(([m]) => m), ['a', 'm']);
  });

  test('lex ranges on a listpack with mixed scores scan like Redis', () => {
    // Set order: d(1) a(2) c(3) b(4) e(5).
    const z = ZSetValue.from(
      [
        ['d', 1],
        ['a', 2],
        ['c', 3],
        ['b', 4],
        ['e', 5],
      ],
      LIMITS,
    );
    const r: LexRange = { min: 'b', max: 'd', minex: false, maxex: false };
    // Forward: the first member >= "b" is d, then members while <= "d": d a c b (e stops it).
    assert.deepEqual(rangeOf(z, z.lexRange(r, false)), ['d', 'a', 'c', 'b']);
    // Backward: from the tail, the first member <= "d" is b, then back while >= "b": c, b.
    assert.deepEqual(rangeOf(z, z.lexRange(r, true)), ['c', 'b']);
    const all: LexRange = { min: LEX_MIN, max: LEX_MAX, minex: true, maxex: true };
    assert.deepEqual(rangeOf(z, z.lexRange(all, false)), ['d', 'a', 'c', 'b', 'e']);
    const empty: LexRange = { min: 'd', max: 'b', minex: false, maxex: false };
    assert.deepEqual(z.lexRange(empty, false), [0, -1]);
  });

  test('fromSorted picks the encoding a stored result gets', () => {
    assert.equal(ZSetValue.fromSorted(['a', 'b'], [1, 2], LIMITS).encoding(), 'listpack');
    assert.equal(ZSetValue.fromSorted(['a', 'x'.repeat(65)], [1, 2], LIMITS).encoding(), 'skiplist');
    const many = Array.from({ length: 129 }, (_, i) => 'm' + String(i).padStart(3, '0'));
    const z = ZSetValue.fromSorted(many, many.map(() => 1), LIMITS);
    assert.equal(z.encoding(), 'skiplist');
    z.check();
    assert.equal(z.rank('m128'), 128);
    assert.ok(Object.is(ZSetValue.fromSorted(['a'], [-0], LIMITS).score('a'), 0));
  });

  test('clone() is independent', () => {
    for (const big of [false, true]) {
      const z = ZSetValue.from(
        [
          ['a', 1],
          ['b', 2],
        ],
        LIMITS,
      );
      if (big) z.convert();
      const copy = z.clone();
      copy.insert('c', 3, LIMITS);
      copy.delete('a');
      assert.deepEqual(entriesOf(z), [
        ['a', 1],
        ['b', 2],
      ]);
      assert.deepEqual(entriesOf(copy), [
        ['b', 2],
        ['c', 3],
      ]);
      assert.equal(copy.encoding(), z.encoding());
      copy.check();
    }
  });

  test('ZSCAN: a listpack comes whole; a skiplist cursor returns every member present throughout', () => {
    const small = ZSetValue.from(
      [
        ['a', 1],
        ['b', 2],
      ],
      LIMITS,
    );
    const seen: string[] = [];
    assert.equal(small.scan(7, 1, (m) => seen.push(m)), 0);
    assert.deepEqual(seen, ['a', 'b']);

    const z = new ZSetValue();
    for (let i = 0; i < 1000; i++) z.insert('s' + i, i, LIMITS);
    assert.equal(z.encoding(), 'skiplist');
    const stable = new Set<string>();
    for (let i = 0; i < 1000; i += 2) stable.add('s' + i);
    const got = new Set<string>();
    let cursor = 0;
    let step = 0;
    do {
      cursor = z.scan(cursor, 10, (m) => got.add(m));
      // Between calls: delete odd members and add new ones.
      step++;
      z.delete('s' + (step * 2 - 1));
      z.insert('new' + step, step, LIMITS);
    } while (cursor !== 0);
    for (const m of stable) assert.ok(got.has(m), `missed ${m}`);
  });
});
