/**
 * StreamValue and its helpers (src/data/stream.ts): a property test runs
 * random XADD / XDEL / XRANGE / XTRIM sequences against a sorted array model
 * (with tiny nodes, so entries spread over many nodes), another checks the
 * PEL map against a model; targeted tests cover ID parsing (Redis's
 * string2ull), 64-bit IDs beyond 2^53, node boundaries and clone independence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  StreamValue,
  IdMap,
  ConsumerGroup,
  Consumer,
  PendingEntry,
  parseStreamId,
  parseU64,
  idToString,
  incrId,
  decrId,
  cmpId,
  normU64,
  dropInflatedNodes,
  ZERO_ID,
  MAX_ID,
  U64_MAX,
  type StreamID,
} from '../../src/data/stream.js';

/** An ID as one sortable bigint (ms * 2^64 + seq). */
function key(id: StreamID): bigint {
  return (BigInt(id.ms) << 64n) | BigInt(id.seq);
}

/** An ID with its parts normalised as the stream keeps them (bigint above 2^53 - 1). */
function id(ms: number | bigint, seq: number | bigint): StreamID {
  return { ms: normU64(BigInt(ms)), seq: normU64(BigInt(seq)) };
}

interface ModelEntry {
  id: StreamID;
  fields: string[];
}

/** Live entries of the stream, in order, through the public range API. */
function entries(s: StreamValue, start = ZERO_ID, end = MAX_ID, count = 0, rev = false): ModelEntry[] {
  const out: ModelEntry[] = [];
  s.range(start, end, count, rev, (node, i) => {
    out.push({ id: node.idAt(i), fields: node.fieldsAt(i) });
  });
  return out;
}

function modelRange(model: ModelEntry[], start: StreamID, end: StreamID, count: number, rev: boolean): ModelEntry[] {
  const inRange = model.filter((e) => cmpId(e.id, start) >= 0 && cmpId(e.id, end) <= 0);
  if (rev) inRange.reverse();
  return count > 0 ? inRange.slice(0, count) : inRange;
}

/** IDs drawn from a small space (so deletes and ranges hit) plus values beyond 2^53. */
const msArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 53 - 1, 2 ** 53, 2 ** 53 + 1) },
  { weight: 1, arbitrary: fc.constantFrom(9007199254740993n, U64_MAX - 1n, U64_MAX) },
);
const seqArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(9007199254740993n, U64_MAX) },
);
const idArb = fc.tuple(msArb, seqArb).map(([ms, seq]) => id(ms, seq));
const fieldsArb = fc.oneof(
  fc.constant(['field', 'v']),
  fc.tuple(fc.constantFrom('1', 'x', '', 'long'.repeat(20), '-7', '99999999999'), fc.constantFrom('a', '12')).map(([a, b]) => ['field', a, 'other', b]),
  fc.constantFrom(['f1', 'a', 'f2', 'b'], ['g', '\x00\xff'], ['field', 'w']),
);

type Op =
  | { op: 'add'; id: StreamID; fields: string[] }
  | { op: 'del'; id: StreamID }
  | { op: 'delExisting'; i: number }
  | { op: 'range'; a: StreamID; b: StreamID; count: number; rev: boolean }
  | { op: 'maxlen'; n: number; approx: boolean; limit: number }
  | { op: 'minid'; id: StreamID; approx: boolean }
  | { op: 'clone' }
  | { op: 'dropInflated' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('add' as const), id: idArb, fields: fieldsArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), id: idArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delExisting' as const), i: fc.nat(50) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('range' as const), a: idArb, b: idArb, count: fc.nat(5), rev: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('maxlen' as const), n: fc.nat(20), approx: fc.boolean(), limit: fc.constantFrom(0, 0, 2, 5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('minid' as const), id: idArb, approx: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clone' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dropInflated' as const) }) },
);

test('stream: random operation sequences match a sorted array model', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 120 }), fc.constantFrom(1, 2, 3, 100), fc.constantFrom(0, 40, 4096), (ops, maxEntries, maxBytes) => {
      let s = new StreamValue();
      let model: ModelEntry[] = [];
      for (const o of ops) {
        switch (o.op) {
          case 'add': {
            const next = s.nextId(0, o.id, true);
            const last = model.length > 0 ? model[model.length - 1].id : null;
            // IDs only grow, also across deletions (last-generated-id).
            if (cmpId(o.id, s.lastId) <= 0) {
              assert.equal(next, null);
              break;
            }
            assert.ok(last === null || cmpId(o.id, last) > 0);
            assert.deepEqual(next, o.id);
            const argv = ['XADD', 'k', 'id', ...o.fields];
            s.append(o.id, argv, 3, o.fields.length / 2, maxBytes, maxEntries);
            model.push({ id: o.id, fields: o.fields });
            break;
          }
          case 'del': {
            const i = model.findIndex((e) => cmpId(e.id, o.id) === 0);
            assert.equal(s.delete(o.id), i >= 0);
            if (i >= 0) model.splice(i, 1);
            break;
          }
          case 'delExisting': {
            if (model.length === 0) break;
            const i = o.i % model.length;
            assert.equal(s.delete(model[i].id), true);
            assert.equal(s.delete(model[i].id), false);
            model.splice(i, 1);
            break;
          }
          case 'range': {
            assert.deepEqual(entries(s, o.a, o.b, o.count, o.rev), modelRange(model, o.a, o.b, o.count, o.rev));
            break;
          }
          case 'maxlen': {
            const before = model.length;
            const removed = s.trim({ strategy: 'maxlen', maxlen: o.n, minid: ZERO_ID, approx: o.approx, limit: o.approx ? o.limit : 0 });
            const kept = entries(s);
            // Trimming removes a prefix, never more than asked; exact trimming reaches the target.
            assert.equal(removed, before - kept.length);
            assert.deepEqual(kept, model.slice(before - kept.length));
            assert.ok(kept.length >= Math.min(o.n, before));
            if (!o.approx) assert.equal(kept.length, Math.min(o.n, before));
            if (o.approx && o.limit > 0) assert.ok(removed <= o.limit);
            model = kept;
            break;
          }
          case 'minid': {
            const removed = s.trim({ strategy: 'minid', maxlen: 0, minid: o.id, approx: o.approx, limit: 0 });
            const kept = entries(s);
            assert.equal(removed, model.length - kept.length);
            assert.deepEqual(kept, model.slice(model.length - kept.length));
            const wanted = model.filter((e) => cmpId(e.id, o.id) >= 0);
            if (o.approx) assert.ok(kept.length >= wanted.length);
            else assert.deepEqual(kept, wanted);
            model = kept;
            break;
          }
          case 'clone': {
            const copy = s.clone();
            // Changing the original must not change the copy.
            if (model.length > 0) s.delete(model[0].id);
            assert.deepEqual(entries(copy), model);
            s = copy;
            break;
          }
          case 'dropInflated':
            dropInflatedNodes();
            break;
        }
        assert.equal(s.length, model.length);
        assert.deepEqual(s.firstId, model.length > 0 ? model[0].id : ZERO_ID);
        assert.deepEqual(s.lastValidId(), model.length > 0 ? model[model.length - 1].id : ZERO_ID);
        if (maxEntries > 0 && maxBytes === 0) for (const n of s.nodes) assert.ok(n.count <= maxEntries);
        for (const n of s.nodes) assert.ok(n.live > 0 || n.count > 0);
      }
      assert.deepEqual(entries(s), model);
      assert.deepEqual(entries(s, ZERO_ID, MAX_ID, 0, true), [...model].reverse());
    }),
    { numRuns: 300 },
  );
});

test('stream: integer-looking fields and values read back as they were written', () => {
  const samples = ['0', '-0', '00', '007', '-', '+5', ' 5', '5 ', '1e3', '12.0', '-7', '42', '1700000000123',
    String(2 ** 50 - 1), String(2 ** 50), String(-(2 ** 50 - 1)), String(-(2 ** 50)), '9007199254740993',
    '18446744073709551615', '-9223372036854775808', '123456789012345678901'];
  const s = new StreamValue();
  const model: ModelEntry[] = [];
  for (let i = 0; i < samples.length; i++) {
    // As a value with the master's field names, and as field names of an entry with others.
    for (const fields of [['f', samples[i]], [samples[i], samples[(i + 1) % samples.length], 'x', samples[i]]]) {
      const e = { id: id(1 + model.length, 0), fields };
      s.append(e.id, fields, 0, fields.length / 2, 4096, 3);
      model.push(e);
    }
  }
  dropInflatedNodes();
  assert.deepEqual(entries(s), model);
});

test('stream: compressed nodes read back exactly, after eviction, cloning, deletion and reopening', () => {
  const s = new StreamValue();
  const model: ModelEntry[] = [];
  const add = (e: ModelEntry) => {
    s.append(e.id, e.fields, 0, e.fields.length / 2, 4096, 100);
    model.push(e);
  };
  // Repetitive entries (compress), random ones (stay plain), field sets that differ
  // from the node's master, IDs far apart and beyond 2^53 (wide headers), binary values.
  let rnd = 12345;
  const next = () => (rnd = (rnd * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < 3000; i++) {
    const block = Math.floor(i / 500);
    let fields: string[];
    if (block === 1) fields = ['r', String(next()) + String(next())];
    else if (i % 7 === 0) fields = ['type', 'order', 'extra', 'x\x00\xff'.repeat(i % 3)];
    else fields = ['type', i % 2 ? 'order' : 'refund', 'amount', String(i % 50)];
    const ms = block === 4 ? 1e9 + i * 100000 : block === 5 ? 2n ** 53n + BigInt(i) : 100000 + i;
    add({ id: id(ms, i % 3), fields });
  }
  const packed = s.nodes.filter((n) => n.packed !== null).length;
  assert.ok(packed >= 20, `compressed nodes: ${packed} of ${s.nodes.length}`);
  assert.ok(s.nodes.some((n, i) => i < s.nodes.length - 1 && n.packed === null), 'random-value nodes stay plain');
  dropInflatedNodes();
  assert.deepEqual(entries(s), model);
  assert.deepEqual(entries(s, ZERO_ID, MAX_ID, 0, true), [...model].reverse());
  // Random access after every node was dropped: each lookup inflates its node.
  for (let k = 0; k < 200; k++) {
    dropInflatedNodes();
    const e = model[next() % model.length];
    assert.deepEqual(entries(s, e.id, MAX_ID, 1), [e]);
    dropInflatedNodes();
    assert.deepEqual(entries(s, ZERO_ID, e.id, 1, true), [e]);
  }
  // A copy inflates on its own; deleting from the original leaves it as it was.
  const copy = s.clone();
  dropInflatedNodes();
  for (let k = 0; k < 40; k++) assert.equal(s.delete(model[k * 50].id), true);
  assert.deepEqual(entries(copy), model);
  const kept = model.filter((_, i) => i % 50 !== 0 || i >= 2000);
  assert.deepEqual(entries(s), kept);
  // Emptying the last node makes the compressed node before it the tail again: it takes new entries.
  const tail = s.nodes[s.nodes.length - 1];
  const before = s.nodes[s.nodes.length - 2];
  assert.notEqual(before.packed, null);
  dropInflatedNodes();
  for (const e of kept.filter((e) => cmpId(e.id, tail.idAt(0)) >= 0)) assert.equal(s.delete(e.id), true);
  const rest = kept.filter((e) => cmpId(e.id, tail.idAt(0)) < 0);
  const last = rest[rest.length - 1];
  const extra: ModelEntry = { id: id(BigInt(last.id.ms) + 1n, 0), fields: ['type', 'order', 'amount', '1'] };
  s.append(extra.id, extra.fields, 0, 2, 0, 0);
  assert.equal(s.nodes[s.nodes.length - 1], before);
  assert.equal(before.packed, null);
  dropInflatedNodes();
  assert.deepEqual(entries(s), [...rest, extra]);
});

test('stream: the ID after MAX-MAX does not exist; XADD * and <ms>-* follow the last ID', () => {
  const s = new StreamValue();
  assert.deepEqual(s.nextId(1000, null, true), id(1000, 0));
  s.append(id(1000, 0), ['f', 'v'], 0, 1, 4096, 100);
  // The clock went backwards: the sequence moves on instead.
  assert.deepEqual(s.nextId(900, null, true), id(1000, 1));
  assert.deepEqual(s.nextId(1000, id(1000, 0), false), id(1000, 1));
  assert.deepEqual(s.nextId(1000, id(2000, 0), false), id(2000, 0));
  assert.equal(s.nextId(1000, id(999, 0), false), null);
  assert.equal(s.nextId(1000, id(1000, 0), true), null);
  s.append(id(U64_MAX, U64_MAX - 1n), ['f', 'v'], 0, 1, 4096, 100);
  assert.deepEqual(s.nextId(5, null, true), id(U64_MAX, U64_MAX));
  s.append(id(U64_MAX, U64_MAX), ['f', 'v'], 0, 1, 4096, 100);
  assert.equal(s.nextId(5, null, true), null);
  assert.equal(s.nextId(5, id(U64_MAX, 0), false), 'overflow');
  assert.equal(incrId(MAX_ID), null);
  assert.equal(decrId(ZERO_ID), null);
  assert.deepEqual(incrId(id(5, U64_MAX)), id(6, 0));
  assert.deepEqual(decrId(id(6, 0)), id(5, U64_MAX));
  assert.deepEqual(incrId(id(2 ** 53 - 1, 0)), id(2 ** 53 - 1, 1));
  assert.deepEqual(incrId(id(0, 2 ** 53 - 1)), id(0, 9007199254740992n));
});

test('stream: IDs beyond 2^53 stay exact through storage', () => {
  const s = new StreamValue();
  const big = [id(9007199254740993n, 9007199254740995n), id(18446744073709551614n, 1), id(U64_MAX, 12345678901234567890n)];
  for (const b of big) s.append(b, ['f', 'v'], 0, 1, 4096, 100);
  assert.deepEqual(
    entries(s).map((e) => idToString(e.id)),
    ['9007199254740993-9007199254740995', '18446744073709551614-1', '18446744073709551615-12345678901234567890'],
  );
  assert.equal(s.has(id(9007199254740993n, 9007199254740995n)), true);
  assert.equal(s.has(id(9007199254740992n, 9007199254740995n)), false);
});

test('parseU64 follows string2ull: string2ll, then strtoull with its quirks', () => {
  assert.equal(parseU64('0'), 0);
  assert.equal(parseU64('123'), 123);
  assert.equal(parseU64('18446744073709551615'), U64_MAX);
  assert.equal(parseU64('9007199254740993'), 9007199254740993n);
  assert.equal(parseU64('18446744073709551616'), null);
  assert.equal(parseU64('-1'), null);
  assert.equal(parseU64(''), null);
  assert.equal(parseU64(' '), null);
  assert.equal(parseU64('0x10'), null);
  assert.equal(parseU64('1 '), null);
  // strtoull accepts leading spaces, a sign and leading zeros; "-N" wraps modulo 2^64.
  assert.equal(parseU64(' 7'), 7);
  assert.equal(parseU64('\t7'), 7);
  assert.equal(parseU64('+7'), 7);
  assert.equal(parseU64('007'), 7);
  assert.equal(parseU64('-0'), 0);
  assert.equal(parseU64('-01'), U64_MAX);
  assert.equal(parseU64('-18446744073709551615'), 1);
  assert.equal(parseU64('-18446744073709551616'), null);
});

test('parseStreamId: forms, strictness, <ms>-* and C-string truncation', () => {
  const p = (s: string, strict = false, star = false) => {
    const r = parseStreamId(s, 0, strict, star);
    return r === null ? null : idToString(r.id) + (r.seqGiven ? '' : ' (seq auto)');
  };
  assert.equal(p('5'), '5-0');
  assert.equal(parseStreamId('5', U64_MAX, false)?.id.seq, U64_MAX);
  assert.equal(p('5-3'), '5-3');
  assert.equal(p('-'), '0-0');
  assert.equal(p('+'), '18446744073709551615-18446744073709551615');
  assert.equal(p('-', true), null);
  assert.equal(p('+', true), null);
  assert.equal(p('5-*'), null);
  assert.equal(p('5-*', true, true), '5-0 (seq auto)');
  assert.equal(p('5-'), null);
  assert.equal(p('-5'), null);
  assert.equal(p('1-2-3'), null);
  assert.equal(p('5--01'), '5-18446744073709551615');
  assert.equal(p('5\x00junk'), '5-0');
  assert.equal(p('-\x00x', true), null);
  assert.equal(p('1'.repeat(128)), null);
  assert.equal(p('foo'), null);
});

test('nodes: entries fill nodes of stream-node-max-entries; ~ trims whole nodes only', () => {
  const s = new StreamValue();
  for (let i = 1; i <= 250; i++) s.append(id(i, 0), ['f', String(i)], 0, 1, 4096, 100);
  assert.deepEqual(s.nodes.map((n) => n.count), [100, 100, 50]);
  assert.equal(s.radixTreeNodes() > 3, true);
  assert.equal(s.trim({ strategy: 'maxlen', maxlen: 120, minid: ZERO_ID, approx: true, limit: 10000 }), 100);
  assert.equal(s.length, 150);
  assert.equal(s.trim({ strategy: 'maxlen', maxlen: 120, minid: ZERO_ID, approx: false, limit: 0 }), 30);
  assert.equal(s.length, 120);
  // Trimmed entries stay in their node as tombstones, as in Redis's listpacks.
  assert.deepEqual(s.nodes.map((n) => [n.count, n.live]), [[100, 70], [50, 50]]);
  assert.equal(new StreamValue().radixTreeNodes(), 1);
});

test('nodes: the emulated listpack size closes nodes at stream-node-max-bytes', () => {
  const s = new StreamValue();
  const big = 'x'.repeat(1000);
  for (let i = 1; i <= 10; i++) s.append(id(i, 0), ['f', big], 0, 1, 4096, 100);
  // Each entry takes ~1 KB of listpack: a node takes a 4th while it is below 4096 bytes.
  assert.deepEqual(s.nodes.map((n) => n.count), [4, 4, 2]);
  for (const n of s.nodes) assert.ok(n.lpBytes < 4096 + 1100);
});

test('fields: entries with the node master fields and others read back alike', () => {
  const s = new StreamValue();
  s.append(id(1, 0), ['a', '1', 'b', '2'], 0, 2, 4096, 100);
  s.append(id(2, 0), ['a', '3', 'b', '4'], 0, 2, 4096, 100);
  s.append(id(3, 0), ['b', '5', 'a', '6'], 0, 2, 4096, 100);
  s.append(id(4, 0), ['a', '', 'c', 'x'.repeat(300)], 0, 2, 4096, 100);
  s.append(id(5, 0), ['\x00', '\xff'], 0, 1, 4096, 100);
  const node = s.nodes[0];
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => node.sameFields(i)),
    [true, true, false, false, false],
  );
  assert.deepEqual(entries(s).map((e) => e.fields), [
    ['a', '1', 'b', '2'],
    ['a', '3', 'b', '4'],
    ['b', '5', 'a', '6'],
    ['a', '', 'c', 'x'.repeat(300)],
    ['\x00', '\xff'],
  ]);
});

test('IdMap: set/delete/seek/next match a sorted model', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('set', 'set', 'delete', 'seek'), fc.integer({ min: 0, max: 60 })), { maxLength: 300 }),
      (ops) => {
        const m = new IdMap<number>();
        const model = new Map<number, number>();
        let n = 0;
        for (const [op, k] of ops) {
          const kid = id(Math.floor(k / 4), k % 4);
          if (op === 'set') {
            m.set(kid, ++n);
            model.set(k, n);
          } else if (op === 'delete') {
            assert.equal(m.delete(kid), model.get(k));
            model.delete(k);
          } else {
            const sorted = [...model.keys()].sort((a, b) => a - b);
            const want = sorted.filter((x) => x >= k);
            const got: number[] = [];
            for (let i = m.seek(kid); i >= 0; i = m.next(i)) got.push(Number(m.idAt(i).ms) * 4 + Number(m.idAt(i).seq));
            assert.deepEqual(got, want);
          }
          assert.equal(m.size, model.size);
          const sorted = [...model.keys()].sort((a, b) => a - b);
          assert.deepEqual(m.entries().map(([i, v]) => [Number(i.ms) * 4 + Number(i.seq), v]), sorted.map((x) => [x, model.get(x)]));
          if (sorted.length > 0) {
            assert.equal(key(m.idAt(m.first())), key(id(Math.floor(sorted[0] / 4), sorted[0] % 4)));
            const last = sorted[sorted.length - 1];
            assert.equal(key(m.idAt(m.last())), key(id(Math.floor(last / 4), last % 4)));
          } else {
            assert.equal(m.first(), -1);
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('groups: lag and entries-read follow Redis 7.0 (tombstones make them unknown)', () => {
  const s = new StreamValue();
  const g = new ConsumerGroup('g', ZERO_ID, -1);
  assert.equal(s.lag(g), 0);
  for (let i = 1; i <= 5; i++) s.append(id(i, 0), ['f', 'v'], 0, 1, 4096, 100);
  assert.equal(s.lag(g), 5);
  s.advanceGroup(g, id(1, 0));
  s.advanceGroup(g, id(2, 0));
  assert.equal(g.entriesRead, 2);
  assert.equal(s.lag(g), 3);
  s.delete(id(4, 0));
  s.maxDeletedId = id(4, 0);
  // A tombstone ahead of the group: the lag cannot be known.
  assert.equal(s.lag(g), null);
  s.advanceGroup(g, id(3, 0));
  assert.equal(g.entriesRead, -1);
  s.advanceGroup(g, id(5, 0));
  // The last entry's counter is always known: entries-added.
  assert.equal(g.entriesRead, 5);
  assert.equal(s.lag(g), 0);
});

test('groups: clone copies PELs with the consumer links rebuilt', () => {
  const s = new StreamValue();
  s.append(id(1, 0), ['f', 'v'], 0, 1, 4096, 100);
  const g = new ConsumerGroup('g', id(1, 0), 1);
  const c = new Consumer('alice', 10);
  g.consumers.set('alice', c);
  const nack = new PendingEntry(c, 10, 1);
  g.pel.set(id(1, 0), nack);
  c.pel.set(id(1, 0), nack);
  s.groups.set('g', g);
  const copy = s.clone();
  const cg = copy.groups.get('g')!;
  const cc = cg.consumers.get('alice')!;
  const cn = cg.pel.get(id(1, 0))!;
  assert.equal(cn.consumer, cc);
  assert.equal(cc.pel.get(id(1, 0)), cn);
  assert.notEqual(cn, nack);
  cg.pel.delete(id(1, 0));
  assert.equal(g.pel.size, 1);
  assert.equal(copy.encoding(), 'stream');
  assert.equal(copy.type, 'stream');
});

test('stream: XDEL emptying the tail node makes the sealed node before it the tail again', () => {
  // Found by the model test: node-max-entries 3, node-max-bytes 40.
  const s = new StreamValue();
  const add = (ms: number | bigint, seq: number | bigint, fields: string[]): void =>
    s.append(id(ms, seq), ['XADD', 'k', 'id', ...fields], 3, fields.length / 2, 40, 3);
  add(0, 9007199254740993n, ['field', 'v']);
  // Too big for the first node's 40 bytes: the first node is sealed, a second one opens.
  add(2 ** 53 - 1, 0, ['field', '1', 'other', 'a']);
  assert.ok(s.delete(id(2 ** 53 - 1, 0)));
  // The second node went away with its only entry; the sealed first one takes the next entry.
  add(2n ** 53n, 0, ['field', 'v']);
  assert.deepEqual(
    entries(s).map((e) => [key(e.id), e.fields]),
    [
      [key(id(0, 9007199254740993n)), ['field', 'v']],
      [key(id(2n ** 53n, 0)), ['field', 'v']],
    ],
  );
});

test('nodes: large nodes, long values and distant IDs survive sealing (4-byte offsets, multi-byte varints)', () => {
  // stream-node-max-bytes 0 and max-entries 0: one node without bounds, so its
  // sealed string passes 64 KB and uses the wide offset table.
  const s = new StreamValue();
  const model: ModelEntry[] = [];
  let ms = 1_700_000_000_000;
  for (let i = 0; i < 400; i++) {
    // ms distances of 0, 1, 40 (2-byte header) and 2^40 (long header) from the node's first ID.
    ms += [0, 1, 40, 2 ** 40][i % 4];
    const value = 'v'.repeat(i % 7 === 0 ? 2000 : i % 5) + String(i);
    const fields = i % 3 === 0 ? ['name', value] : ['name', value, 'extra', '\x80\xff'];
    s.append(id(ms, i), ['XADD', 'k', 'id', ...fields], 3, fields.length / 2, 0, 0);
    model.push({ id: id(ms, i), fields });
  }
  assert.equal(s.nodes.length, 1);
  s.append(id(ms + 1, 0), ['XADD', 'k', 'id', 'name', 'last'], 3, 1, 1, 1);
  model.push({ id: id(ms + 1, 0), fields: ['name', 'last'] });
  // The first node was sealed by the append that opened a second one.
  assert.equal(s.nodes.length, 2);
  assert.ok(s.nodes[0].dataLen >= 65536);
  assert.deepEqual(entries(s), model);
  for (const probe of [0, 1, 2, 3, 199, 398, 399]) {
    assert.deepEqual(entries(s, model[probe].id, MAX_ID, 1), [model[probe]]);
    assert.deepEqual(entries(s, ZERO_ID, model[probe].id, 1, true), [model[probe]]);
  }
  // Deleting in a sealed node flags the entry without touching its neighbours.
  assert.ok(s.delete(model[200].id));
  assert.deepEqual(entries(s), [...model.slice(0, 200), ...model.slice(201)]);
});
