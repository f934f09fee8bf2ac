/**
 * ListValue (src/data/list.ts): a property test runs random operation sequences
 * against a plain array model; targeted tests cover wrap-around, shrinking,
 * LREM directions, clone independence and the 7.0 encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ListValue, isList } from '../../src/data/list.js';

type Op =
  | { op: 'pushBack' | 'pushFront'; v: string }
  | { op: 'popBack' | 'popFront' }
  | { op: 'insert'; i: number; v: string }
  | { op: 'removeAt'; i: number }
  | { op: 'set'; i: number; v: string }
  | { op: 'removeFront' | 'removeBack'; n: number }
  | { op: 'trim'; a: number; b: number }
  | { op: 'removeValue'; v: string; count: number }
  | { op: 'clone' };

// A tiny alphabet so that removeValue and duplicates actually hit.
const value = fc.constantFrom('a', 'b', 'c', '', '\x00\xff');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('pushBack' as const), v: value }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('pushFront' as const), v: value }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('popBack' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('popFront' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), i: fc.nat(100), v: value }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeAt' as const), i: fc.nat(100) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('set' as const), i: fc.nat(100), v: value }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeFront' as const), n: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeBack' as const), n: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('trim' as const), a: fc.nat(30), b: fc.nat(30) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeValue' as const), v: value, count: fc.integer({ min: -3, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clone' as const) }) },
);

/** Applies op to both the list and the model; returns the (possibly cloned) list. */
function apply(list: ListValue, model: string[], o: Op): ListValue {
  const n = model.length;
  switch (o.op) {
    case 'pushBack':
      list.pushBack(o.v);
      model.push(o.v);
      break;
    case 'pushFront':
      list.pushFront(o.v);
      model.unshift(o.v);
      break;
    case 'popBack':
      assert.equal(list.popBack(), model.pop());
      break;
    case 'popFront':
      assert.equal(list.popFront(), model.shift());
      break;
    case 'insert': {
      const i = o.i % (n + 1);
      list.insert(i, o.v);
      model.splice(i, 0, o.v);
      break;
    }
    case 'removeAt':
      if (n > 0) {
        const i = o.i % n;
        list.removeAt(i);
        model.splice(i, 1);
      }
      break;
    case 'set':
      if (n > 0) {
        const i = o.i % n;
        list.set(i, o.v);
        model[i] = o.v;
      }
      break;
    case 'removeFront':
      list.removeFront(o.n);
      model.splice(0, Math.min(o.n, n));
      break;
    case 'removeBack':
      list.removeBack(o.n);
      model.splice(Math.max(0, n - o.n), Math.min(o.n, n));
      break;
    case 'trim': {
      // trim takes a clamped range: start in [0, n), end in [start - 1, n)
      if (n === 0) break;
      const start = o.a % n;
      const end = Math.min(n - 1, start - 1 + (o.b % (n - start + 1)));
      list.trim(start, end);
      model.splice(0, model.length, ...model.slice(start, end + 1));
      break;
    }
    case 'removeValue': {
      const limit = o.count === 0 ? Infinity : Math.abs(o.count);
      let removed = 0;
      const keep: boolean[] = model.map(() => true);
      if (o.count >= 0) {
        for (let i = 0; i < n && removed < limit; i++) if (model[i] === o.v) { keep[i] = false; removed++; }
      } else {
        for (let i = n - 1; i >= 0 && removed < limit; i--) if (model[i] === o.v) { keep[i] = false; removed++; }
      }
      assert.equal(list.removeValue(o.v, o.count), removed);
      model.splice(0, model.length, ...model.filter((_, i) => keep[i]));
      break;
    }
    case 'clone': {
      const copy = list.clone();
      // Mutating the copy must not touch the original.
      copy.pushBack('zzz');
      assert.equal(list.length, model.length);
      copy.popBack();
      return copy;
    }
  }
  return list;
}

test('ListValue matches an array model under random operations', () => {
  fc.assert(
    fc.property(fc.array(value, { maxLength: 20 }), fc.array(opArb, { maxLength: 200 }), (initial, ops) => {
      let list = ListValue.from(initial);
      const model = [...initial];
      for (const o of ops) {
        list = apply(list, model, o);
        assert.equal(list.length, model.length);
        // Capacity stays a power of two and never below the length.
        assert.ok(list.capacity >= list.length);
        assert.equal(list.capacity & (list.capacity - 1), 0);
      }
      assert.deepEqual(list.toArray(), model);
      for (let i = 0; i < model.length; i++) assert.equal(list.at(i), model[i]);
      if (model.length > 0) assert.deepEqual(list.range(0, model.length - 1), model);
    }),
    { numRuns: 500 },
  );
});

test('wrap-around: pushes at the front after pops keep order', () => {
  const l = new ListValue();
  for (let i = 0; i < 3; i++) l.pushBack(String(i));
  l.popFront();
  l.popFront();
  l.pushFront('x');
  l.pushFront('y');
  l.pushBack('z');
  l.pushBack('w');
  assert.deepEqual(l.toArray(), ['y', 'x', '2', 'z', 'w']);
  assert.equal(l.at(0), 'y');
  assert.equal(l.at(4), 'w');
});

test('a small list stays small; a drained big list gives its capacity back', () => {
  const small = new ListValue();
  small.pushBack('a');
  assert.equal(small.capacity, 4);
  const big = new ListValue();
  for (let i = 0; i < 100_000; i++) big.pushBack('v' + i);
  assert.equal(big.length, 100_000);
  assert.equal(big.capacity, 131072);
  for (let i = 0; i < 99_990; i++) big.popFront();
  assert.ok(big.capacity <= 32, `capacity ${big.capacity} after draining`);
  assert.deepEqual(big.toArray(), Array.from({ length: 10 }, (_, i) => 'v' + (99_990 + i)));
});

test('from() allocates just enough', () => {
  assert.equal(ListValue.from(['a', 'b', 'c', 'd', 'e']).capacity, 8);
  assert.equal(ListValue.from([]).capacity, 4);
});

test('removeValue directions and limits', () => {
  const mk = () => ListValue.from(['a', 'b', 'a', 'c', 'a']);
  let l = mk();
  assert.equal(l.removeValue('a', 2), 2);
  assert.deepEqual(l.toArray(), ['b', 'c', 'a']);
  l = mk();
  assert.equal(l.removeValue('a', -2), 2);
  assert.deepEqual(l.toArray(), ['a', 'b', 'c']);
  l = mk();
  assert.equal(l.removeValue('a', 0), 3);
  assert.deepEqual(l.toArray(), ['b', 'c']);
  l = mk();
  assert.equal(l.removeValue('a', -Infinity), 3);
  assert.deepEqual(l.toArray(), ['b', 'c']);
  assert.equal(l.removeValue('zz', 0), 0);
});

test('trim keeps an inclusive range; start > end empties', () => {
  const l = ListValue.from(['0', '1', '2', '3', '4', '5']);
  l.trim(1, 3);
  assert.deepEqual(l.toArray(), ['1', '2', '3']);
  l.trim(1, 0);
  assert.equal(l.length, 0);
  const big = ListValue.from(Array.from({ length: 1000 }, (_, i) => String(i)));
  big.trim(10, 12);
  assert.deepEqual(big.toArray(), ['10', '11', '12']);
  assert.equal(big.capacity, 4);
});

test('clone is deep: the copy and the original change independently', () => {
  const a = ListValue.from(['x', 'y']);
  const b = a.clone();
  b.set(0, 'changed');
  b.pushBack('z');
  a.popBack();
  assert.deepEqual(a.toArray(), ['x']);
  assert.deepEqual(b.toArray(), ['changed', 'y', 'z']);
});

test('encoding is quicklist whatever the size (Redis 7.0 has no listpack lists)', () => {
  const l = new ListValue();
  assert.equal(l.encoding(), 'quicklist');
  l.pushBack('a');
  assert.equal(l.encoding(), 'quicklist');
  l.pushBack('x'.repeat(100_000));
  l.popBack();
  assert.equal(l.encoding(), 'quicklist');
  assert.equal(l.type, 'list');
  assert.ok(isList(l));
  assert.ok(!isList('a string'));
});

test('pops on an empty list return undefined', () => {
  const l = new ListValue();
  assert.equal(l.popFront(), undefined);
  assert.equal(l.popBack(), undefined);
  assert.equal(l.length, 0);
});

test('blocking timeouts are read like Redis 7.0 (long double seconds, rounded up to ms)', async () => {
  const { parseTimeoutSeconds, ERR_TIMEOUT_NEGATIVE, ERR_TIMEOUT_NOT_FLOAT } = await import('../../src/commands/lists.js');
  // Each expectation was checked against redis-server 7.0.15 (blocks forever = 0).
  const cases: Array<[string, number | string]> = [
    ['0', 0],
    ['30', 30_000],
    ['0.01', 10],
    ['0.0005', 1], // rounds up: times out after 1 ms
    ['1e-10', 1],
    ['1e-400', 1], // representable as a long double
    ['-0.0005', 0], // rounds up to -0: blocks forever
    ['-0.001', 0], // -0.001 * 1000 is just above -1 in long double
    ['-0', 0],
    ['0x10', 16_000],
    ['1.', 1000],
    ['.01', 10],
    ['9223372036854775', 9223372036854775000],
    ['-0.0015', ERR_TIMEOUT_NEGATIVE],
    ['-1', ERR_TIMEOUT_NEGATIVE],
    ['9223372036854775.808', ERR_TIMEOUT_NEGATIVE], // 2^63 ms does not fit in an int64
    ['1e16', ERR_TIMEOUT_NEGATIVE],
    ['inf', ERR_TIMEOUT_NEGATIVE],
    ['-inf', ERR_TIMEOUT_NEGATIVE],
    ['nan', ERR_TIMEOUT_NOT_FLOAT],
    [' 1', ERR_TIMEOUT_NOT_FLOAT],
    ['1 ', ERR_TIMEOUT_NOT_FLOAT],
    ['', ERR_TIMEOUT_NOT_FLOAT],
    ['abc', ERR_TIMEOUT_NOT_FLOAT],
  ];
  for (const [text, expected] of cases) assert.equal(parseTimeoutSeconds(text), expected, JSON.stringify(text));
});
