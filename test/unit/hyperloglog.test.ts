import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmurHash64A, murmurHash64AInto, murmurOut } from '../../src/util/murmurhash64a.js';
import {
  HLL_DENSE,
  HLL_DENSE_SIZE,
  HLL_REGISTERS,
  HLL_SPARSE,
  cardinalityReply,
  createHll,
  decodeSparse,
  denseGet,
  denseWrite,
  estimateFromHistogram,
  hasValidCache,
  hllAdd,
  hllCount,
  hllPatLen,
  hllSelfTest,
  isValidHll,
  mergeInto,
  newHistogram,
  patIndex,
  rawHistogram,
  readCachedCard,
  sparseSet,
  sparseToDense,
  writeCachedCard,
} from '../../src/data/hyperloglog.js';
import { MutableString } from '../../src/data/values.js';

const SEED = 0xadc83b19n;

/** MurmurHash64A written directly from its definition with BigInt, as an independent reference. */
function referenceMurmur(data: Uint8Array, seed: bigint): bigint {
  const mask = (1n << 64n) - 1n;
  const m = 0xc6a4a7935bd1e995n;
  const r = 47n;
  const len = data.length;
  let h = (seed ^ (BigInt(len) * m)) & mask;
  const blocks = Math.floor(len / 8);
  for (let i = 0; i < blocks; i++) {
    let k = 0n;
    for (let b = 7; b >= 0; b--) k = (k << 8n) | BigInt(data[i * 8 + b]);
    k = (k * m) & mask;
    k ^= k >> r;
    k = (k * m) & mask;
    h ^= k;
    h = (h * m) & mask;
  }
  const tail = len & 7;
  if (tail > 0) {
    for (let b = tail - 1; b >= 0; b--) h ^= BigInt(data[blocks * 8 + b]) << BigInt(8 * b);
    h = (h * m) & mask;
  }
  h ^= h >> r;
  h = (h * m) & mask;
  h ^= h >> r;
  return h;
}

/** Deterministic pseudo-random numbers (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

const latin1 = (bytes: number[]): string => String.fromCharCode(...bytes);
const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const bytesOf = (m: MutableString): string => m.toString();

// ---- hash ----------------------------------------------------------------------

test('murmurhash64a: matches a BigInt reference for every length 0..64 and random bytes', () => {
  const rand = rng(7);
  for (let len = 0; len <= 64; len++) {
    for (let rep = 0; rep < 20; rep++) {
      const bytes = Array.from({ length: len }, () => Math.floor(rand() * 256));
      const want = referenceMurmur(Uint8Array.from(bytes), SEED);
      assert.equal(murmurHash64A(latin1(bytes), SEED), want, `len ${len} bytes ${bytes}`);
      assert.equal(murmurHash64A(Uint8Array.from(bytes), SEED), want);
    }
  }
});

test('murmurhash64a: other seeds, including full 64-bit ones', () => {
  for (const seed of [0n, 1n, 0xffffffffn, 0x100000000n, 0xdeadbeefcafebaben, (1n << 64n) - 1n]) {
    for (const s of ['', 'a', 'hello world', 'x'.repeat(100)]) {
      assert.equal(murmurHash64A(s, seed), referenceMurmur(Buffer.from(s, 'latin1'), seed), `seed ${seed} '${s}'`);
    }
  }
});

test('murmurhash64a: the fast form leaves both halves in murmurOut', () => {
  const lo = murmurHash64AInto('foo', 0, 0xadc83b19);
  const want = referenceMurmur(Buffer.from('foo'), SEED);
  assert.equal(lo, Number(want & 0xffffffffn));
  assert.equal(murmurOut[0], Number(want & 0xffffffffn));
  assert.equal(murmurOut[1], Number(want >> 32n));
});

/** [element, register index, rank]: PFADD k <element> then PFDEBUG GETREG k on Redis 7.0.15. */
const REDIS_REGISTERS: Array<[string, number, number]> = [
  ['', 5938, 2],
  ['a', 12711, 2],
  ['foo', 7348, 5],
  ['hello', 9216, 1],
  ['12345678', 10579, 3],
  ['123456789', 9293, 2],
  ['abcdefghijklmnopq', 4271, 1],
  ['\x00\xff\x80', 16255, 2],
  // 8-byte elements built by running the hash backwards, to reach the high ranks
  ['\x3e\xdc\x8a\x41\xe8\x67\x21\x93', 200, 32],
  ['\x68\x53\x79\xc4\x5a\x4f\xf7\x98', 100, 33],
  ['\x34\xcb\x45\xdd\x12\xc2\x37\x6f', 101, 40],
  ['\x6b\x40\x38\x56\x5f\xa1\x10\x8a', 102, 51],
];

test('hllPatLen: register index and rank as Redis computes them', () => {
  for (const [ele, index, rank] of REDIS_REGISTERS) {
    assert.equal(hllPatLen(ele), rank, `rank of ${JSON.stringify(ele)}`);
    assert.equal(patIndex, index, `index of ${JSON.stringify(ele)}`);
  }
});

test('hllPatLen: rank is the 1-based lowest set bit above the index, with the guard bit at 50', () => {
  const rand = rng(99);
  for (let i = 0; i < 2000; i++) {
    const s = 'r' + Math.floor(rand() * 1e9);
    const h = referenceMurmur(Buffer.from(s, 'latin1'), SEED);
    let rest = (h >> 14n) | (1n << 50n);
    let rank = 1;
    while ((rest & 1n) === 0n) {
      rest >>= 1n;
      rank++;
    }
    assert.equal(hllPatLen(s), rank);
    assert.equal(patIndex, Number(h & 0x3fffn));
  }
});

// ---- layout ------------------------------------------------------------------------

test('createHll: the empty sparse HLL is Redis\'s 18 bytes with a valid cache of 0', () => {
  const m = createHll();
  assert.equal(hex(bytesOf(m)), '48594c4c' + '01000000' + '0000000000000000' + '7fff');
  assert.equal(hasValidCache(m), true);
  assert.equal(readCachedCard(m), 0);
  assert.equal(decodeSparse(m), 'Z:16384');
});

test('hllAdd: one element gives Redis\'s exact bytes (PFADD a foo; GET a)', () => {
  const m = createHll();
  assert.equal(hllAdd(m, 'foo', 3000), 1);
  assert.equal(hllAdd(m, 'foo', 3000), 0);
  assert.equal(bytesOf(m), 'HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\\\xb3\x90cJ');
  assert.equal(decodeSparse(m), 'Z:7348 v:5,1 Z:9035');
  assert.equal(hllCount(m), 1);
});

test('isValidHll: magic, encoding and dense length', () => {
  const sparse = createHll();
  assert.equal(isValidHll(sparse), true);
  assert.equal(isValidHll(sparse.toString()), true);
  assert.equal(isValidHll('HYLL'), false);
  assert.equal(isValidHll('hyll\x01' + '\x00'.repeat(11)), false);
  assert.equal(isValidHll('HYLL\x02' + '\x00'.repeat(11)), false);
  assert.equal(isValidHll('HYLL\x01' + '\x00'.repeat(11)), true); // header only: valid until read
  assert.equal(isValidHll('HYLL\x00' + '\x00'.repeat(11)), false); // dense needs all registers
  assert.equal(isValidHll('HYLL\x00' + '\x00'.repeat(HLL_DENSE_SIZE - 5)), true);
  assert.equal(isValidHll('HYLL\x00' + '\x00'.repeat(HLL_DENSE_SIZE - 4)), false);
  assert.equal(HLL_DENSE_SIZE, 12304);
});

test('dense registers: 6-bit packing round-trips at every position', () => {
  const buf = Buffer.alloc(HLL_DENSE_SIZE);
  const want = new Uint8Array(HLL_REGISTERS);
  const rand = rng(3);
  for (let i = 0; i < HLL_REGISTERS; i++) {
    want[i] = Math.floor(rand() * 64);
    denseWrite(buf, i, want[i]);
  }
  for (let i = 0; i < HLL_REGISTERS; i++) assert.equal(denseGet(buf, i), want[i]);
  // neighbours are untouched by a write
  denseWrite(buf, 5, 0);
  assert.equal(denseGet(buf, 4), want[4]);
  assert.equal(denseGet(buf, 6), want[6]);
  assert.equal(buf.subarray(0, 16).every((b) => b === 0), true);
});

// ---- sparse ------------------------------------------------------------------------

/** Sets registers in a sparse HLL and checks it against a plain array after every step. */
function sparseRoundTrip(seed: number, steps: number, maxValue: number): void {
  const rand = rng(seed);
  const m = createHll();
  const want = new Uint8Array(HLL_REGISTERS);
  for (let s = 0; s < steps; s++) {
    // cluster indexes sometimes so runs split and merge next to each other
    const index = rand() < 0.5 ? Math.floor(rand() * HLL_REGISTERS) : 100 + Math.floor(rand() * 40);
    const value = 1 + Math.floor(rand() * maxValue);
    const changed = sparseSet(m, index, value, 1_000_000);
    assert.equal(changed, value > want[index] ? 1 : 0);
    if (value > want[index]) want[index] = value;
    assert.equal(m.buf[4], HLL_SPARSE);
    const got = new Uint8Array(HLL_REGISTERS);
    assert.equal(mergeInto(got, m.buf, m.len), true);
    assert.deepEqual(got, want, `after step ${s}`);
  }
  // the encoding is canonical enough that no two neighbouring VALs could merge
  const ops = decodeSparse(m).split(' ');
  for (let i = 1; i < ops.length; i++) {
    if (ops[i].startsWith('v:') && ops[i - 1].startsWith('v:')) {
      const [a, la] = ops[i - 1].slice(2).split(',').map(Number);
      const [b, lb] = ops[i].slice(2).split(',').map(Number);
      assert.ok(a !== b || la + lb > 4, `mergeable ${ops[i - 1]} ${ops[i]}`);
    }
  }
  // the run lengths cover every register exactly once
  let covered = 0;
  for (const op of ops) covered += op.startsWith('v:') ? Number(op.split(',')[1]) : Number(op.slice(2));
  assert.equal(covered, HLL_REGISTERS);
  // and converting to dense keeps every register and the header
  const header = m.buf.subarray(5, 16).toString('hex');
  assert.equal(sparseToDense(m), true);
  assert.equal(m.len, HLL_DENSE_SIZE);
  assert.equal(m.buf[4], HLL_DENSE);
  assert.equal(m.buf.subarray(5, 16).toString('hex'), header);
  for (let i = 0; i < HLL_REGISTERS; i++) assert.equal(denseGet(m.buf, i), want[i]);
}

test('sparse: random register updates decode to the same registers (small values)', () => {
  sparseRoundTrip(11, 300, 3);
});

test('sparse: random register updates decode to the same registers (all VAL values)', () => {
  sparseRoundTrip(12, 300, 32);
});

test('hllAdd: rank 32 still fits a sparse VAL, rank 33 promotes (as PFDEBUG ENCODING shows on Redis)', () => {
  const m = createHll();
  assert.equal(hllAdd(m, '\x3e\xdc\x8a\x41\xe8\x67\x21\x93', 3000), 1);
  assert.equal(m.buf[4], HLL_SPARSE);
  assert.equal(decodeSparse(m), 'Z:200 v:32,1 Z:16183');
  assert.equal(hllAdd(m, '\x68\x53\x79\xc4\x5a\x4f\xf7\x98', 3000), 1);
  assert.equal(m.buf[4], HLL_DENSE);
  assert.equal(denseGet(m.buf, 100), 33);
  assert.equal(denseGet(m.buf, 200), 32);
});

test('sparse: a value above 32 promotes to dense', () => {
  const m = createHll();
  sparseSet(m, 10, 3, 3000);
  assert.equal(sparseSet(m, 20, 33, 3000), 1);
  assert.equal(m.buf[4], HLL_DENSE);
  assert.equal(m.len, HLL_DENSE_SIZE);
  assert.equal(denseGet(m.buf, 10), 3);
  assert.equal(denseGet(m.buf, 20), 33);
});

test('sparse: growing past the size limit promotes to dense', () => {
  const m = createHll();
  let n = 0;
  while (m.buf[4] === HLL_SPARSE) {
    assert.ok(m.len <= 40, `sparse length ${m.len} exceeds the limit`);
    hllAdd(m, 'e' + n++, 40);
  }
  assert.equal(m.len, HLL_DENSE_SIZE);
  const regs = new Uint8Array(HLL_REGISTERS);
  mergeInto(regs, m.buf, m.len);
  const want = new Uint8Array(HLL_REGISTERS);
  for (let i = 0; i < n; i++) {
    const rank = hllPatLen('e' + i);
    if (rank > want[patIndex]) want[patIndex] = rank;
  }
  assert.deepEqual(regs, want);
});

test('sparse: runs that do not cover 16384 registers are corrupted', () => {
  const header = 'HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80';
  const short = new MutableString(header + '\x7f\xfe'); // 16383 zeros
  assert.equal(hllCount(short), null);
  assert.equal(mergeInto(new Uint8Array(HLL_REGISTERS), short.buf, short.len), false);
  assert.equal(sparseToDense(short), false);
  assert.equal(short.buf[4], HLL_SPARSE, 'unchanged after a failed conversion');
  assert.equal(sparseSet(short, 16383, 1, 3000), -1);
  const long = new MutableString(header + '\x7f\xff\x00'); // 16385
  assert.equal(hllCount(long), null);
  assert.equal(sparseToDense(long), false);
  const empty = new MutableString(header);
  assert.equal(hllAdd(empty, 'a', 3000), -1);
});

// ---- counting ------------------------------------------------------------------------

/** PFADD c ele:1 .. ele:N then PFCOUNT c, on Redis 7.0.15. */
const REDIS_COUNTS: Array<[number, number]> = [
  [10, 10],
  [1000, 1002],
  [100000, 99790],
];

test('hllCount: the same estimates as Redis, sparse and dense', () => {
  for (const [n, want] of REDIS_COUNTS) {
    const sparse = createHll();
    const dense = createHll();
    sparseToDense(dense);
    for (let i = 1; i <= n; i++) {
      hllAdd(sparse, 'ele:' + i, 3000);
      hllAdd(dense, 'ele:' + i, 3000);
    }
    assert.equal(hllCount(sparse), want, `sparse ${n}`);
    assert.equal(hllCount(dense), want, `dense ${n}`);
    const regs = new Uint8Array(HLL_REGISTERS);
    mergeInto(regs, dense.buf, dense.len);
    const histo = newHistogram();
    rawHistogram(regs, histo);
    assert.equal(estimateFromHistogram(histo), want, `raw ${n}`);
  }
});

test('estimator: no counted registers gives llroundl\'s overflow value, replied as LLONG_MIN', () => {
  const histo = newHistogram();
  histo[63] = HLL_REGISTERS; // only registers the estimator ignores
  const card = estimateFromHistogram(histo);
  assert.equal(card, 1n << 63n);
  assert.equal(cardinalityReply(card), -(1n << 63n));
  const empty = newHistogram();
  empty[0] = HLL_REGISTERS;
  assert.equal(estimateFromHistogram(empty), 0);
});

test('cached cardinality: little-endian, top bit of the last byte is the invalid flag', () => {
  const m = createHll();
  writeCachedCard(m, 0x0102030405);
  assert.equal(m.buf.subarray(8, 16).toString('hex'), '0504030201000000');
  assert.equal(hasValidCache(m), true);
  assert.equal(readCachedCard(m), 0x0102030405);
  writeCachedCard(m, 0x7fffffffffffffffn);
  assert.equal(readCachedCard(m), 0x7fffffffffffffffn);
  writeCachedCard(m, 1n << 63n);
  assert.equal(hasValidCache(m), false);
  assert.equal(m.buf.subarray(8, 16).toString('hex'), '0000000000000080');
});

test('PFSELFTEST: the self-test passes', () => {
  assert.equal(hllSelfTest(), null);
});
