/**
 * HyperLogLog sketches in Redis's exact byte layout, so an HLL is an ordinary
 * string value (GET/SET/APPEND see the same bytes Redis would produce).
 *
 * Layout: a 16-byte header — "HYLL", the encoding (0 dense, 1 sparse), three
 * unused bytes, and the cached cardinality as 8 bytes little-endian whose top
 * bit (bit 7 of byte 15) marks the cache as stale — then the registers:
 *
 *  - dense: 16384 registers of 6 bits packed LSB-first (12288 bytes);
 *  - sparse: run-length opcodes covering all 16384 registers:
 *      ZERO  00xxxxxx           1..64 zero registers
 *      XZERO 01xxxxxx xxxxxxxx  1..16384 zero registers
 *      VAL   1vvvvvxx           1..4 registers of value 1..32
 *
 * Elements hash with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the
 * register, and the register value is the 1-based position of the lowest set
 * bit in the remaining 50 bits (51 when they are all zero).
 *
 * Cardinality uses Otmar Ertl's improved raw estimator over the register
 * histogram (Redis >= 5), computed with the same double operations so the
 * integer result is identical.
 *
 * Functions work on a MutableString so the dense registers are mutated in
 * place; a sparse sketch that must grow past the configured size, or needs a
 * value above 32, is promoted to dense by swapping the buffer.
 */
import { MutableString, type StringValue } from './values.js';
import { murmurHash64AInto, murmurOut } from '../util/murmurhash64a.js';

export const HLL_P = 14;
export const HLL_REGISTERS = 1 << HLL_P;
const HLL_P_MASK = HLL_REGISTERS - 1;
/** Bits of the hash left after the index; the rank is at most HLL_Q + 1. */
export const HLL_Q = 64 - HLL_P;
export const HLL_BITS = 6;
export const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * HLL_BITS + 7) >> 3);
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;

const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;

/** Byte 15 holds the cache-invalid flag in its top bit. */
const CARD_LAST = 15;
const CACHE_INVALID = 0x80;

/** Hash seed, as halves of the 64-bit value. */
const SEED_HI = 0;
const SEED_LO = 0xadc83b19;

/** 1 / (2 ln 2): the estimator's constant for m -> infinity. */
const ALPHA_INF = 0.721347520444481703680;

// ---- opcodes ---------------------------------------------------------------------

const isZeroOp = (b: number): boolean => (b & 0xc0) === 0;
const isXzeroOp = (b: number): boolean => (b & 0xc0) === 0x40;
const valOp = (value: number, len: number): number => 0x80 | ((value - 1) << 2) | (len - 1);
const valValue = (b: number): number => ((b >> 2) & 0x1f) + 1;
const valLen = (b: number): number => (b & 3) + 1;

/** A zero run as opcode bytes written at buf[at]; returns the bytes used. */
function putZeroRun(buf: Uint8Array, at: number, len: number): number {
  if (len > SPARSE_ZERO_MAX_LEN) {
    buf[at] = 0x40 | ((len - 1) >> 8);
    buf[at + 1] = (len - 1) & 0xff;
    return 2;
  }
  buf[at] = len - 1;
  return 1;
}

/**
 * Length of an XZERO run at buf[p]. A truncated XZERO (the last byte of the
 * string) reads its second byte from just past the end, as Redis does: that
 * is normally the string's NUL terminator (0 here too: a buffer of exactly
 * the string's length reads undefined, i.e. 0), but a split of such a run
 * may have written a byte there (see sparseSet), which later reads must see.
 */
function xzeroLen(buf: Uint8Array, p: number): number {
  return (((buf[p] & 0x3f) << 8) | buf[p + 1]) + 1;
}

// ---- header ----------------------------------------------------------------------------

function byteAt(v: StringValue, i: number): number {
  return typeof v === 'string' ? v.charCodeAt(i) : v.buf[i];
}

/** Redis's isHLLObjectOrReply test on the bytes of a string value. */
export function isValidHll(v: StringValue): boolean {
  const len = typeof v === 'string' ? v.length : v.len;
  if (len < HLL_HDR_SIZE) return false;
  // "HYLL"
  if (byteAt(v, 0) !== 0x48 || byteAt(v, 1) !== 0x59 || byteAt(v, 2) !== 0x4c || byteAt(v, 3) !== 0x4c) return false;
  const enc = byteAt(v, 4);
  if (enc > HLL_SPARSE) return false;
  return enc !== HLL_DENSE || len === HLL_DENSE_SIZE;
}

/** A new empty sparse HLL: one XZERO run over every register, valid cache of 0. */
export function createHll(): MutableString {
  const runs = Math.ceil(HLL_REGISTERS / SPARSE_XZERO_MAX_LEN);
  const m = new MutableString('', HLL_HDR_SIZE + runs * 2);
  m.setLength(HLL_HDR_SIZE + runs * 2);
  const buf = m.buf;
  buf.latin1Write('HYLL', 0);
  buf[4] = HLL_SPARSE;
  let p = HLL_HDR_SIZE;
  for (let left = HLL_REGISTERS; left > 0; ) {
    const run = Math.min(left, SPARSE_XZERO_MAX_LEN);
    p += putZeroRun(buf, p, run);
    left -= run;
  }
  return m;
}

/** HLL_DENSE or HLL_SPARSE (byte 4 of the header). */
export function encodingOf(m: { buf: Uint8Array }): number {
  return m.buf[4];
}

export function invalidateCache(m: MutableString): void {
  m.buf[CARD_LAST] |= CACHE_INVALID;
}

export function hasValidCache(m: MutableString): boolean {
  return (m.buf[CARD_LAST] & CACHE_INVALID) === 0;
}

/**
 * The cached cardinality (only meaningful when the cache is valid). A
 * hand-written header can hold any 63-bit value, so large ones come back
 * as a BigInt to stay exact.
 */
export function readCachedCard(m: MutableString): number | bigint {
  const b = m.buf;
  let lo = 0;
  for (let i = 3; i >= 0; i--) lo = lo * 256 + b[8 + i];
  let hi = 0;
  for (let i = 3; i >= 0; i--) hi = hi * 256 + b[12 + i];
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * Stores the cardinality in the header, 8 bytes little-endian. That marks the
 * cache valid, except for values >= 2^63 whose top bit is the invalid flag.
 */
export function writeCachedCard(m: MutableString, card: number | bigint): void {
  const b = m.buf;
  if (typeof card === 'bigint') {
    b.writeBigUInt64LE(BigInt.asUintN(64, card), 8);
    return;
  }
  let lo = card % 0x100000000;
  let hi = Math.floor(card / 0x100000000);
  for (let i = 0; i < 4; i++) {
    b[8 + i] = lo & 0xff;
    lo = Math.floor(lo / 256);
    b[12 + i] = hi & 0xff;
    hi = Math.floor(hi / 256);
  }
}

// ---- hashing --------------------------------------------------------------------------

/** Register index of the last hllPatLen call. */
export let patIndex = 0;

/** Hashes an element; sets `patIndex` and returns the rank (1..51). */
export function hllPatLen(ele: string): number {
  const lo = murmurHash64AInto(ele, SEED_HI, SEED_LO);
  const hi = murmurOut[1];
  patIndex = lo & HLL_P_MASK;
  // The 50 bits above the index, with a guard bit at position 50 so the rank is at most 51.
  const low18 = lo >>> HLL_P;
  if (low18 !== 0) return 32 - Math.clz32(low18 & -low18);
  if (hi !== 0) return 18 + 32 - Math.clz32(hi & -hi);
  return HLL_Q + 1;
}

// ---- dense ------------------------------------------------------------------------------

/** Register `index` of a dense buffer (registers start at HLL_HDR_SIZE). */
export function denseGet(buf: Uint8Array, index: number): number {
  const pos = index * HLL_BITS;
  const byte = HLL_HDR_SIZE + (pos >> 3);
  const fb = pos & 7;
  if (fb <= 8 - HLL_BITS) return (buf[byte] >> fb) & HLL_REGISTER_MAX;
  return ((buf[byte] >> fb) | (buf[byte + 1] << (8 - fb))) & HLL_REGISTER_MAX;
}

export function denseWrite(buf: Uint8Array, index: number, val: number): void {
  const pos = index * HLL_BITS;
  const byte = HLL_HDR_SIZE + (pos >> 3);
  const fb = pos & 7;
  buf[byte] = (buf[byte] & ~(HLL_REGISTER_MAX << fb)) | (val << fb);
  if (fb > 8 - HLL_BITS) {
    buf[byte + 1] = (buf[byte + 1] & ~(HLL_REGISTER_MAX >> (8 - fb))) | (val >> (8 - fb));
  }
}

/** Raises register `index` to `count`; returns 1 if it changed. */
export function denseSet(buf: Uint8Array, index: number, count: number): number {
  if (count <= denseGet(buf, index)) return 0;
  denseWrite(buf, index, count);
  return 1;
}

// ---- sparse -----------------------------------------------------------------------------

/**
 * Converts a sparse HLL to dense in place (the MutableString gets a new
 * buffer; header and cached cardinality are kept). Returns false, leaving it
 * unchanged, if the opcodes do not cover exactly HLL_REGISTERS registers.
 */
export function sparseToDense(m: MutableString): boolean {
  const src = m.buf;
  if (src[4] === HLL_DENSE) return true;
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  src.copy(dense, 0, 0, HLL_HDR_SIZE);
  dense[4] = HLL_DENSE;
  const end = m.len;
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const b = src[p];
    if (isZeroOp(b)) {
      idx += (b & 0x3f) + 1;
      p++;
    } else if (isXzeroOp(b)) {
      idx += xzeroLen(src, p);
      p += 2;
    } else {
      let run = valLen(b);
      const val = valValue(b);
      if (idx + run > HLL_REGISTERS) break;
      while (run-- > 0) denseWrite(dense, idx++, val);
      p++;
    }
  }
  if (idx !== HLL_REGISTERS) return false;
  m.buf = dense;
  m.len = HLL_DENSE_SIZE;
  return true;
}

/**
 * Raises register `index` of a sparse HLL to `count` (Redis's hllSparseSet):
 * finds the opcode covering the register, replaces it by up to three opcodes,
 * then merges equal adjacent VAL runs near the change. Promotes to dense when
 * the value does not fit a VAL opcode or the string would exceed `maxBytes`.
 * Returns 1 if the register changed, 0 if not, -1 if the HLL is corrupted.
 */
export function sparseSet(m: MutableString, index: number, count: number, maxBytes: number): number {
  if (count > SPARSE_VAL_MAX_VALUE) return promoteAndSet(m, index, count);
  // The split below grows the string by at most 3 bytes, and may write one
  // byte past the new end (see step 3).
  if (m.buf.length < m.len + 4) growKeepingTail(m, m.len + 4);
  const buf = m.buf;
  let end = m.len;

  // Step 1: the opcode covering `index`, and the one before it.
  let p = HLL_HDR_SIZE;
  let first = 0;
  let prev = -1;
  let span = 0;
  let oplen = 1;
  while (p < end) {
    const b = buf[p];
    oplen = 1;
    if (isZeroOp(b)) span = (b & 0x3f) + 1;
    else if (b & 0x80) span = valLen(b);
    else {
      span = xzeroLen(buf, p);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  let next = p + oplen;
  if (next >= end) next = -1;

  const op = buf[p];
  const zero = isZeroOp(op);
  const xzero = isXzeroOp(op);
  const runlen = span;

  // Step 2: cases that rewrite the opcode in place.
  let simple = false;
  if (op & 0x80) {
    if (valValue(op) >= count) return 0;
    if (runlen === 1) simple = true;
  } else if (zero && runlen === 1) {
    simple = true;
  }

  if (simple) {
    buf[p] = valOp(count, 1);
  } else {
    // Step 3: split the run into [before][the new value][after].
    const seq = SEQ;
    let n = 0;
    const last = first + span - 1;
    if (zero || xzero) {
      if (index !== first) n += putZeroRun(seq, n, index - first);
      seq[n++] = valOp(count, 1);
      if (index !== last) n += putZeroRun(seq, n, last - index);
    } else {
      const cur = valValue(op);
      if (index !== first) seq[n++] = valOp(cur, index - first);
      seq[n++] = valOp(count, 1);
      if (index !== last) seq[n++] = valOp(cur, last - index);
    }
    const delta = n - (xzero ? 2 : 1);
    if (delta > 0 && m.len + delta > maxBytes) return promoteAndSet(m, index, count);
    if (delta !== 0 && next >= 0) buf.copyWithin(next + delta, next, end);
    m.len += delta;
    // Like Redis: terminate at the new length, then copy the opcodes. A
    // truncated XZERO at the very end was counted as 2 bytes, so its
    // replacement can spill one byte past the end; Redis keeps that byte in
    // its buffer and later reads of a truncated XZERO see it.
    buf[m.len] = 0;
    for (let i = 0; i < n; i++) buf[p + i] = seq[i];
    end += delta;
  }

  // Step 4: merge equal adjacent VAL opcodes, looking at a few opcodes from
  // the one before the change (each merge also uses up one look).
  p = prev >= 0 ? prev : HLL_HDR_SIZE;
  let scan = 5;
  while (p < end && scan-- > 0) {
    const b = buf[p];
    if (isXzeroOp(b)) {
      p += 2;
      continue;
    }
    if (isZeroOp(b)) {
      p++;
      continue;
    }
    if (p + 1 < end && buf[p + 1] & 0x80) {
      const v = valValue(b);
      if (v === valValue(buf[p + 1])) {
        const len = valLen(b) + valLen(buf[p + 1]);
        if (len <= SPARSE_VAL_MAX_LEN) {
          buf[p + 1] = valOp(v, len);
          buf.copyWithin(p, p + 1, end);
          m.len--;
          end--;
          buf[end] = 0;
          continue;
        }
      }
    }
    p++;
  }

  buf[CARD_LAST] |= CACHE_INVALID;
  return 1;
}

/**
 * Grows the buffer like realloc: unlike MutableString.reserve it also keeps
 * the byte just past the end, which a truncated XZERO reads.
 */
function growKeepingTail(m: MutableString, need: number): void {
  const next = Buffer.alloc(Math.max(need * 2, 32));
  m.buf.copy(next, 0, 0, Math.min(m.buf.length, m.len + 1));
  m.buf = next;
}

/** Scratch space for the opcodes replacing one run (at most 5 bytes). */
const SEQ = new Uint8Array(8);

function promoteAndSet(m: MutableString, index: number, count: number): number {
  if (!sparseToDense(m)) return -1;
  // The register held at most 32 in sparse form, so this always changes it.
  return denseSet(m.buf, index, count);
}

// ---- adding elements ------------------------------------------------------------------------

/**
 * Adds one element (Redis's hllAdd). Returns 1 if a register changed, 0 if
 * not, -1 for a corrupted sparse HLL or an unknown encoding.
 */
export function hllAdd(m: MutableString, ele: string, maxBytes: number): number {
  const count = hllPatLen(ele);
  const enc = m.buf[4];
  if (enc === HLL_DENSE) return denseSet(m.buf, patIndex, count);
  if (enc === HLL_SPARSE) return sparseSet(m, patIndex, count, maxBytes);
  return -1;
}

// ---- register histograms and the estimator --------------------------------------------

/**
 * Histogram of register values (index = value). Dense registers can hold up
 * to 63 (a hand-written string); the estimator only reads 0..HLL_Q + 1.
 */
export function newHistogram(): Float64Array {
  return new Float64Array(HLL_REGISTER_MAX + 1);
}

function denseHistogram(buf: Uint8Array, histo: Float64Array): void {
  // Four registers are three bytes: walk the packed bytes in groups.
  let p = HLL_HDR_SIZE;
  for (let j = 0; j < HLL_REGISTERS; j += 4, p += 3) {
    const b0 = buf[p];
    const b1 = buf[p + 1];
    const b2 = buf[p + 2];
    histo[b0 & 63]++;
    histo[((b0 >> 6) | (b1 << 2)) & 63]++;
    histo[((b1 >> 4) | (b2 << 4)) & 63]++;
    histo[b2 >> 2]++;
  }
}

/** Returns false when the opcodes do not cover exactly HLL_REGISTERS registers. */
function sparseHistogram(buf: Uint8Array, end: number, histo: Float64Array): boolean {
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const b = buf[p];
    if (isZeroOp(b)) {
      const run = (b & 0x3f) + 1;
      idx += run;
      histo[0] += run;
      p++;
    } else if (isXzeroOp(b)) {
      const run = xzeroLen(buf, p);
      idx += run;
      histo[0] += run;
      p += 2;
    } else {
      const run = valLen(b);
      idx += run;
      histo[valValue(b)] += run;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

/** Histogram of a plain register array (one byte per register). */
export function rawHistogram(regs: Uint8Array, histo: Float64Array): void {
  for (let j = 0; j < HLL_REGISTERS; j++) histo[regs[j]]++;
}

/** sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), summed until it stops changing. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrev: number;
  do {
    x *= x;
    zPrev = z;
    z += x * y;
    y += y;
  } while (zPrev !== z);
  return z;
}

/** tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let zPrev: number;
  do {
    x = Math.sqrt(x);
    zPrev = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrev !== z);
  return z / 3;
}

/** 2^63: what llroundl gives (as uint64) for a result it cannot represent. */
const LLROUND_OVERFLOW = 1n << 63n;

/**
 * Ertl's improved raw estimator over a register histogram, as the uint64
 * Redis computes: a safe integer as a number, anything larger as a BigInt.
 * Registers above HLL_Q + 1 (only in hand-written dense strings) are not
 * counted, which can leave the sum at 0 and the estimate infinite; x86's
 * llroundl then yields LLONG_MIN, i.e. 2^63 as uint64.
 */
export function estimateFromHistogram(histo: Float64Array): number | bigint {
  const m = HLL_REGISTERS;
  let z = m * tau((m - histo[HLL_Q + 1]) / m);
  for (let j = HLL_Q; j >= 1; j--) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * sigma(histo[0] / m);
  // llroundl: half away from zero; the value is never negative.
  const e = Math.round((ALPHA_INF * m * m) / z);
  if (e <= Number.MAX_SAFE_INTEGER) return e;
  if (e < 2 ** 63) return BigInt(e);
  return LLROUND_OVERFLOW;
}

/**
 * Cardinality of an HLL (Redis's hllCount), or null when a sparse HLL is
 * corrupted (its runs do not cover every register).
 */
export function hllCount(m: MutableString): number | bigint | null {
  const histo = newHistogram();
  if (m.buf[4] === HLL_DENSE) {
    denseHistogram(m.buf, histo);
    return estimateFromHistogram(histo);
  }
  if (!sparseHistogram(m.buf, m.len, histo)) return null;
  return estimateFromHistogram(histo);
}

/** A uint64 cardinality as Redis replies it (addReplyLongLong: signed). */
export function cardinalityReply(card: number | bigint): number | bigint {
  return typeof card === 'number' ? card : BigInt.asIntN(64, card);
}

// ---- merging -----------------------------------------------------------------------------

/**
 * Folds an HLL's registers into `max` (one byte per register, keeping the
 * maximum). `buf`/`len` are the value's bytes. Returns false for a corrupted
 * sparse HLL.
 */
export function mergeInto(max: Uint8Array, buf: Uint8Array, len: number): boolean {
  if (buf[4] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(buf, i);
      if (v > max[i]) max[i] = v;
    }
    return true;
  }
  let i = 0;
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const b = buf[p];
    if (isZeroOp(b)) {
      i += (b & 0x3f) + 1;
      p++;
    } else if (isXzeroOp(b)) {
      i += xzeroLen(buf, p);
      p += 2;
    } else {
      let run = valLen(b);
      const val = valValue(b);
      if (i + run > HLL_REGISTERS) break;
      while (run-- > 0) {
        if (val > max[i]) max[i] = val;
        i++;
      }
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

// ---- introspection (PFDEBUG) ---------------------------------------------------------------

/** PFDEBUG DECODE's text: "z:N" / "Z:N" for zero runs, "v:value,len" for VAL runs. */
export function decodeSparse(m: MutableString): string {
  const buf = m.buf;
  const end = m.len;
  const parts: string[] = [];
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const b = buf[p];
    if (isZeroOp(b)) {
      parts.push(`z:${(b & 0x3f) + 1}`);
      p++;
    } else if (isXzeroOp(b)) {
      parts.push(`Z:${xzeroLen(buf, p)}`);
      p += 2;
    } else {
      parts.push(`v:${valValue(b)},${valLen(b)}`);
      p++;
    }
  }
  return parts.join(' ');
}

// ---- self-test (PFSELFTEST) ------------------------------------------------------------

/**
 * Exercises this implementation: dense register packing, sparse/dense
 * agreement while elements are added, and the estimator's error against the
 * true count. Returns null when everything holds, else a "TESTFAILED ..." error.
 */
export function hllSelfTest(): string | null {
  // 1. Dense packing: random values into every register read back unchanged,
  //    in two rounds so every register is overwritten with another value.
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  const expect = new Uint8Array(HLL_REGISTERS);
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      expect[i] = rand() & HLL_REGISTER_MAX;
      denseWrite(dense, i, expect[i]);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      if (denseGet(dense, i) !== expect[i]) return `TESTFAILED Register error at ${i}`;
    }
  }

  // 2. A known hash: Redis maps "foo" to register 7348 with rank 5.
  if (hllPatLen('foo') !== 5 || patIndex !== 7348) return 'TESTFAILED hash of a known element is wrong';

  // 3. The same elements into a sparse sketch (promoted at the default
  //    3000 bytes) and a dense one: identical registers and counts, and an
  //    error within 5 standard errors (1.04 / sqrt(m)) at each checkpoint.
  const sparse = createHll();
  const full = createHll();
  if (!sparseToDense(full)) return 'TESTFAILED empty sparse HLL does not convert to dense';
  const relErr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const regsA = new Uint8Array(HLL_REGISTERS);
  const regsB = new Uint8Array(HLL_REGISTERS);
  let checkpoint = 1;
  for (let n = 1; n <= 100000; n++) {
    const ele = 'selftest:' + n;
    if (hllAdd(sparse, ele, 3000) < 0) return `TESTFAILED sparse HLL corrupted after ${n} elements`;
    hllAdd(full, ele, 3000);
    if (n !== checkpoint) continue;
    checkpoint = checkpoint < 10 ? checkpoint + 1 : checkpoint * 10;
    regsA.fill(0);
    regsB.fill(0);
    if (!mergeInto(regsA, sparse.buf, sparse.len) || !mergeInto(regsB, full.buf, full.len)) {
      return `TESTFAILED corrupted registers after ${n} elements`;
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      if (regsA[i] !== regsB[i]) return `TESTFAILED sparse and dense registers differ at ${i} after ${n} elements`;
    }
    const a = hllCount(sparse);
    const b = hllCount(full);
    if (typeof a !== 'number' || a !== b) return `TESTFAILED sparse and dense cardinality disagree: ${a} vs ${b}`;
    const err = Math.abs(a - n);
    if (err > Math.max(1, 5 * relErr * n)) return `TESTFAILED too big error. card:${a} abserr:${err}`;
  }
  return null;
}
