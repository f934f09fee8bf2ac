/**
 * Unit tests for SetValue: a model test against a JS Set (contents, sorted
 * order while an intset, encoding transitions), the integer rules and
 * thresholds observed on redis-server 7.0.15 (512/513 members, "01", "-0",
 * int64 bounds, exactness beyond 2^53), cloning, fromTable, and the SSCAN
 * cursor guarantee.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DenseSet, SetValue } from '../../src/data/set.js';
import { parseInteger } from '../../src/util/numbers.js';

const MAX = 512;

function scanAll(s: SetValue, count: number): string[] {
  const out: string[] = [];
  let cursor = 0;
  do {
    cursor = s.scan(cursor, count, (m) => out.push(m));
  } while (cursor !== 0);
  return out;
}

/** Numeric order of canonical integer strings, exact for int64. */
function byValue(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Members that exercise every intset width and the int64 edges, plus near-integers. */
const memberArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -40, max: 40 }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: -70000, max: 70000 }).map(String) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '9223372036854775807', '-9223372036854775808', '9007199254740993', '-9007199254740993',
      '2147483647', '2147483648', '-2147483648', '-2147483649', '32767', '32768', '-32768', '-32769',
      '4294967296', '-4294967296', '4294967295',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('01', '-0', '+1', ' 1', '1.0', 'a', '', '\x00', '\xff', '9223372036854775808'),
  },
  // Strings around the small-table length limit (64) and beyond the one-char length (255).
  { weight: 1, arbitrary: fc.constantFrom(63, 64, 65, 254, 255, 300).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 14 }).map((s) => 'k' + s) },
);

type Op = { op: 'add' | 'del' | 'has'; m: string } | { op: 'pop' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('add' as const), m: memberArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), m: memberArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('has' as const), m: memberArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pop' as const) }) },
);

describe('SetValue model test', () => {
  test('behaves like a JS Set, stays sorted while an intset, converts like Redis', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.array(opArb, { maxLength: 80 }), (maxIntset, ops) => {
        const s = new SetValue();
        const model = new Set<string>();
        let table = false; // what Redis's encoding would be
        for (const o of ops) {
          if (o.op === 'add') {
            const isNew = !model.has(o.m);
            model.add(o.m);
            if (parseInteger(o.m) === null || model.size > maxIntset) table = true;
            assert.equal(s.add(o.m, maxIntset), isNew);
          } else if (o.op === 'del') {
            assert.equal(s.delete(o.m), model.delete(o.m));
          } else if (o.op === 'has') {
            assert.equal(s.has(o.m), model.has(o.m));
          } else if (model.size > 0) {
            const m = s.removeAt(s.randomIndex());
            assert.ok(model.delete(m), `popped ${JSON.stringify(m)} was a member`);
          } else {
            assert.equal(s.randomIndex(), -1);
          }
          assert.equal(s.encoding(), table ? 'hashtable' : 'intset');
          assert.equal(s.size, model.size);
        }
        const members = s.members();
        assert.deepEqual([...members].sort(), [...model].sort());
        if (!table) assert.deepEqual(members, [...model].sort(byValue));
        for (let i = 0; i < members.length; i++) assert.equal(s.memberAt(i), members[i]);
        for (const m of model) assert.equal(s.has(m), true);
      }),
      { numRuns: 400 },
    );
  });
});

describe('integers and thresholds (as redis-server 7.0.15)', () => {
  test('canonical int64 text is an integer; "01", "-0", "+1", " 1", "1.0" and 2^63 are not', () => {
    for (const m of ['0', '-1', '9223372036854775807', '-9223372036854775808', '12345678901234567']) {
      const s = SetValue.from([m], MAX);
      assert.equal(s.encoding(), 'intset', m);
      assert.deepEqual(s.members(), [m]);
    }
    for (const m of ['01', '-0', '+1', ' 1', '1 ', '1.0', '9223372036854775808', '-9223372036854775809', '', 'x']) {
      assert.equal(SetValue.from([m], MAX).encoding(), 'hashtable', JSON.stringify(m));
    }
    // "01" and "1" are different members.
    const s = SetValue.from(['1', '01'], MAX);
    assert.equal(s.size, 2);
    assert.equal(s.has('01'), true);
    assert.equal(s.has('1'), true);
    const t = SetValue.from(['1'], MAX);
    assert.equal(t.has('01'), false);
    assert.equal(t.has('-0'), false);
    assert.equal(t.delete('01'), false);
  });

  test('512 integers stay an intset, the 513th converts, and it never goes back', () => {
    const s = new SetValue();
    for (let i = 512; i >= 1; i--) assert.equal(s.add(String(i), MAX), true);
    assert.equal(s.encoding(), 'intset');
    assert.equal(s.size, 512);
    assert.equal(s.add('300', MAX), false);
    assert.equal(s.encoding(), 'intset');
    assert.equal(s.add('513', MAX), true);
    assert.equal(s.encoding(), 'hashtable');
    assert.equal(s.size, 513);
    for (let i = 1; i <= 500; i++) s.delete(String(i));
    assert.equal(s.encoding(), 'hashtable');
    assert.deepEqual(s.members().sort(byValue), Array.from({ length: 13 }, (_, i) => String(501 + i)));
  });

  test('a non-integer converts at once; limit 0 converts on the first member', () => {
    const s = SetValue.from(['3', '1', '2'], MAX);
    s.add('a', MAX);
    assert.equal(s.encoding(), 'hashtable');
    assert.deepEqual(s.members(), ['1', '2', '3', 'a']);
    assert.equal(SetValue.from(['1'], 0).encoding(), 'hashtable');
  });

  test('members beyond 2^53 are exact, across width upgrades', () => {
    const big = ['9007199254740993', '9007199254740992', '9007199254740994', '-9007199254740993', '-9007199254740992'];
    const s = SetValue.from(['1', '-70000', '70000'], MAX);
    for (const m of big) assert.equal(s.add(m, MAX), true, m);
    assert.equal(s.encoding(), 'intset');
    assert.deepEqual(s.members(), [
      '-9007199254740993', '-9007199254740992', '-70000', '1', '70000',
      '9007199254740992', '9007199254740993', '9007199254740994',
    ]);
    assert.equal(s.has('9007199254740995'), false);
    assert.equal(s.delete('9007199254740993'), true);
    assert.equal(s.has('9007199254740993'), false);
    assert.equal(s.has('9007199254740992'), true);
    s.add('9223372036854775807', MAX);
    s.add('-9223372036854775808', MAX);
    assert.equal(s.memberAt(0), '-9223372036854775808');
    assert.equal(s.memberAt(s.size - 1), '9223372036854775807');
    // A small value searched in a wide set, and a wide value in a narrow one.
    assert.equal(s.has('-70000'), true);
    assert.equal(SetValue.from(['1', '2'], MAX).has('4294967297'), false);
  });
});

describe('table forms', () => {
  test('small and large tables behave the same across the 32-member boundary', () => {
    const s = new SetValue();
    const members = Array.from({ length: 40 }, (_, i) => `member:${i}:` + '\xff'.repeat(i));
    for (const m of members) {
      assert.equal(s.add(m, MAX), true);
      assert.equal(s.add(m, MAX), false);
      assert.equal(s.has(m), true);
    }
    assert.equal(s.encoding(), 'hashtable');
    assert.deepEqual(s.members(), members); // insertion order, kept by the promotion
    for (let i = 0; i < 40; i += 2) assert.equal(s.delete(members[i]), true);
    assert.equal(s.size, 20);
    assert.deepEqual([...s.members()].sort(), members.filter((_, i) => i % 2 === 1).sort());
  });

  test('long members and members that are not strings of the set never collide', () => {
    const long = 'y'.repeat(1000);
    const s = SetValue.from(['a', 'b'], MAX);
    assert.equal(s.has(long), false);
    assert.equal(s.delete(long), false);
    s.add(long, MAX);
    assert.equal(s.has(long), true);
    assert.equal(s.has('y'.repeat(999)), false);
    assert.deepEqual([...s.members()].sort(), ['a', 'b', long]);
    // Entries are length-prefixed: a member that looks like a header plus bytes is not confused.
    const t = SetValue.from(['\x01a', 'a', ''], MAX);
    assert.equal(t.has('\x01'), false);
    assert.equal(t.has(''), true);
    assert.equal(t.delete('a'), true);
    assert.deepEqual(t.members(), ['\x01a', '']);
  });

  test('removeAt and memberAt agree in every form', () => {
    for (const members of [['3', '1', '2'], ['a', 'b', 'c'], Array.from({ length: 50 }, (_, i) => `m${i}`)]) {
      const s = SetValue.from(members, MAX);
      const order = s.members();
      for (let i = 0; i < order.length; i++) assert.equal(s.memberAt(i), order[i]);
      const out: string[] = [];
      while (s.size > 0) out.push(s.removeAt(s.randomIndex()));
      assert.deepEqual(out.sort(), [...members].sort());
    }
  });
});

describe('other operations', () => {
  test('clone is independent and keeps the encoding', () => {
    for (const members of [['1', '2', '3'], ['a', 'b', '1']]) {
      const s = SetValue.from(members, MAX);
      const c = s.clone();
      assert.equal(c.encoding(), s.encoding());
      c.add('zz', MAX);
      c.delete(members[0]);
      assert.deepEqual([...s.members()].sort(), [...members].sort());
      assert.equal(c.has('zz'), true);
      assert.equal(s.has('zz'), false);
    }
  });

  test('fromTable builds an intset only when every member is an integer and they fit', () => {
    const table = (ms: string[]) => {
      const t = new DenseSet();
      for (const m of ms) t.add(m);
      return t;
    };
    const a = SetValue.fromTable(table(['30', '-2', '9223372036854775807', '7']), MAX);
    assert.equal(a.encoding(), 'intset');
    assert.deepEqual(a.members(), ['-2', '7', '30', '9223372036854775807']);
    assert.equal(SetValue.fromTable(table(['1', 'x']), MAX).encoding(), 'hashtable');
    assert.equal(SetValue.fromTable(table(['1', '2', '3']), 2).encoding(), 'hashtable');
    assert.equal(SetValue.fromTable(table(['1', '2']), -1).encoding(), 'hashtable');
    assert.equal(SetValue.fromTable(table([]), MAX).size, 0);
  });

  test('an intset scan returns everything with cursor 0, whatever the cursor', () => {
    const s = SetValue.from(['5', '1', '3'], MAX);
    const seen: string[] = [];
    assert.equal(s.scan(12345, 1, (m) => seen.push(m)), 0);
    assert.deepEqual(seen, ['1', '3', '5']);
  });

  test('a table scan returns every member present for the whole scan, despite changes between calls', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 120 })), { maxLength: 200 }),
        (n, count, changes) => {
          const s = new SetValue();
          for (let i = 0; i < n; i++) s.add(`m${i}`, MAX);
          // Members m0..m(n/2) are never touched: they must all be returned.
          const stable = Array.from({ length: Math.ceil(n / 2) }, (_, i) => `m${i}`);
          const seen = new Set<string>();
          let cursor = 0;
          let k = 0;
          do {
            cursor = s.scan(cursor, count, (m) => seen.add(m));
            for (let j = 0; j < 3 && k < changes.length; j++, k++) {
              const [add, x] = changes[k];
              const m = `c${x}`;
              if (add) s.add(m, MAX);
              else s.delete(m);
              if (x % 5 === 0) s.delete(`m${Math.ceil(n / 2) + (x % 30)}`);
            }
          } while (cursor !== 0);
          for (const m of stable) assert.ok(seen.has(m), `${m} returned`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('scan with a big count visits everything in one call', () => {
    const s = SetValue.from(['a', 'b', 'c'], MAX);
    const all = scanAll(s, 1000);
    assert.deepEqual([...all].sort(), ['a', 'b', 'c']);
    assert.deepEqual([...scanAll(s, 1)].sort(), ['a', 'b', 'c']);
  });

  test('type tag and uniform random positions', () => {
    const s = SetValue.from(['1', '2', '3', '4'], MAX);
    assert.equal(s.type, 'set');
    const hits = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) hits[s.randomIndex()]++;
    for (const h of hits) assert.ok(h > 800 && h < 1200, `roughly uniform: ${hits}`);
  });
});
