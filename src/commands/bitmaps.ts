/**
 * Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
 * BITFIELD and BITFIELD_RO. Bits are numbered from the most significant bit
 * of the first byte, as in Redis; reading past the end of a string reads
 * zeros, and writing past it zero-extends the string.
 *
 * Check order, replies and side effects follow Redis 7.0's bitops.c.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { MutableString, isString, type StringValue } from '../data/values.js';
import { parseInt64, parseInteger, parseLongLong } from '../util/numbers.js';
import { WRONGTYPE, ERR_SYNTAX, ERR_NOT_INT, ofTypeOrReply } from './errors.js';
import { mutableString, optIs } from './strings.js';

const ERR_BIT_OFFSET = 'ERR bit offset is not an integer or out of range';
const ERR_BIT_VALUE = 'ERR bit is not an integer or out of range';
const ERR_BIT_ARG = 'ERR The bit argument must be 1 or 0.';
const ERR_BITOP_NOT = 'ERR BITOP NOT must be called with a single source key.';
const ERR_BITFIELD_TYPE = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
const ERR_OVERFLOW_TYPE = 'ERR Invalid OVERFLOW type specified';
const ERR_BITFIELD_RO = 'ERR BITFIELD_RO only supports the GET subcommand';

// ---- helpers -------------------------------------------------------------------------

/** Number of set bits in each byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/** The bytes of a string value, without copying a MutableString. */
function bytesOf(v: StringValue): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v.view();
}

/** Byte `i` of a string value (the caller keeps i within the length). */
function byteAt(v: StringValue, i: number): number {
  return typeof v === 'string' ? v.charCodeAt(i) : v.buf[i];
}

function lengthOf(v: StringValue): number {
  return typeof v === 'string' ? v.length : v.len;
}

/**
 * Redis's getBitOffsetFromArgument: a bit offset, or -1 after replying the
 * error. With `bits` (BITFIELD), "#N" means N * bits. Offsets must address a
 * byte below proto-max-bulk-len.
 */
function bitOffsetOrReply(c: Client, arg: string, bits = 0): number {
  const hash = bits > 0 && arg.charCodeAt(0) === 35; /* # */
  const v = parseInteger(hash ? arg.slice(1) : arg);
  if (v === null) {
    c.addError(ERR_BIT_OFFSET);
    return -1;
  }
  let offset: number;
  if (typeof v === 'number' && Number.isSafeInteger(hash ? v * bits : v)) {
    offset = hash ? v * bits : v;
  } else {
    // The C multiplication wraps around int64; do the same, exactly.
    const big = BigInt.asIntN(64, BigInt(v) * BigInt(hash ? bits : 1));
    offset = Number(big);
  }
  if (offset < 0 || Math.floor(offset / 8) >= c.server.protoMaxBulkLen) {
    c.addError(ERR_BIT_OFFSET);
    return -1;
  }
  return offset;
}

/** Set by stringForBitWrite: whether it created the key or grew the string. */
let grew = false;

/**
 * Redis's lookupStringForBitCommand: the key's string, as a MutableString
 * grown (zero-filled) to hold bit `maxBit`, created if missing. Replies
 * WRONGTYPE and returns null for other types.
 */
function stringForBitWrite(c: Client, key: string, maxBit: number): MutableString | null {
  const db = c.db;
  const bytes = Math.floor(maxBit / 8) + 1;
  const v = db.lookupWrite(key);
  if (v === undefined) {
    const m = new MutableString('', bytes);
    m.setLength(bytes);
    db.set(key, m);
    grew = true;
    return m;
  }
  if (!isString(v)) {
    c.addError(WRONGTYPE);
    return null;
  }
  const m = mutableString(db, key, v);
  grew = m.len < bytes;
  if (grew) m.setLength(bytes);
  return m;
}

/** Set by bitRange: the inclusive range in bits. */
let rangeFirst = 0;
let rangeLast = 0;

/**
 * BITCOUNT/BITPOS's start and end (bytes, or bits when `isBit`) over a string
 * of `len` bytes, as Redis normalises them: negative indexes count from the
 * end, then both are clamped to the string. Sets rangeFirst/rangeLast (in
 * bits) and returns true, or returns false when the range is empty.
 */
function bitRange(start: number, end: number, len: number, isBit: boolean): boolean {
  const total = isBit ? len * 8 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (start > end) return false;
  rangeFirst = isBit ? start : start * 8;
  rangeLast = isBit ? end : end * 8 + 7;
  return true;
}

/** Parses BITCOUNT/BITPOS's BYTE|BIT argument: true for BIT, null after a syntax error. */
function bitUnitOrReply(c: Client, arg: string): boolean | null {
  if (optIs(arg, 'bit')) return true;
  if (optIs(arg, 'byte')) return false;
  c.addError(ERR_SYNTAX);
  return null;
}

// ---- SETBIT / GETBIT -------------------------------------------------------------------

function setbit(c: Client, argv: string[]): void {
  const offset = bitOffsetOrReply(c, argv[2]);
  if (offset < 0) return;
  const on = parseInt64(argv[3]);
  if (on === null || (on !== 0 && on !== 1)) {
    c.addError(ERR_BIT_VALUE);
    return;
  }
  const key = argv[1];
  const m = stringForBitWrite(c, key, offset);
  if (m === null) return;
  const byte = Math.floor(offset / 8);
  const mask = 1 << (7 - (offset & 7));
  const old = (m.buf[byte] & mask) !== 0 ? 1 : 0;
  // Only a real change (or a new/grown string) counts as a write.
  if (grew || old !== on) {
    if (on) m.buf[byte] |= mask;
    else m.buf[byte] &= ~mask;
    c.db.signalModified(key);
    c.server.notifier.notify('$', 'setbit', key, c.db.id);
    c.server.dirty++;
  }
  c.addRaw(old ? ':1\r\n' : ':0\r\n');
}

function getbit(c: Client, argv: string[]): void {
  const offset = bitOffsetOrReply(c, argv[2]);
  if (offset < 0) return;
  const v = ofTypeOrReply(c, c.db.lookupRead(argv[1]), isString);
  if (v === null) return;
  if (v === undefined) {
    c.addRaw(':0\r\n');
    return;
  }
  const byte = Math.floor(offset / 8);
  let bit = 0;
  if (byte < lengthOf(v)) bit = (byteAt(v, byte) >> (7 - (offset & 7))) & 1;
  c.addRaw(bit ? ':1\r\n' : ':0\r\n');
}

// ---- BITCOUNT / BITPOS -------------------------------------------------------------------

function bitcount(c: Client, argv: string[]): void {
  const v = ofTypeOrReply(c, c.db.lookupRead(argv[1]), isString);
  if (v === null) return;
  if (v === undefined) {
    c.addRaw(':0\r\n');
    return;
  }
  const argc = argv.length;
  // Without a range: the whole string (start 0, end -1).
  let start = 0;
  let end = -1;
  let isBit = false;
  if (argc === 4 || argc === 5) {
    const s = parseInt64(argv[2]);
    if (s === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    const e = parseInt64(argv[3]);
    if (e === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    if (s < 0 && e < 0 && s > e) {
      c.addRaw(':0\r\n');
      return;
    }
    if (argc === 5) {
      const u = bitUnitOrReply(c, argv[4]);
      if (u === null) return;
      isBit = u;
    }
    start = s;
    end = e;
  } else if (argc !== 2) {
    c.addError(ERR_SYNTAX);
    return;
  }
  if (!bitRange(start, end, lengthOf(v), isBit)) c.addRaw(':0\r\n');
  else c.addInt(countBits(v, rangeFirst, rangeLast));
}

/** Set bits in the inclusive bit range [first, last] of a string value. */
function countBits(v: StringValue, first: number, last: number): number {
  const firstByte = Math.floor(first / 8);
  const lastByte = Math.floor(last / 8);
  let count = 0;
  if (typeof v === 'string') {
    for (let i = firstByte; i <= lastByte; i++) count += POPCOUNT[v.charCodeAt(i)];
  } else {
    const buf = v.buf;
    for (let i = firstByte; i <= lastByte; i++) count += POPCOUNT[buf[i]];
  }
  // Take away the bits of the edge bytes that lie outside the range.
  const headMask = (0xff00 >> (first & 7)) & 0xff; // bits before `first`
  const tailMask = (1 << (7 - (last & 7))) - 1; // bits after `last`
  count -= POPCOUNT[byteAt(v, firstByte) & headMask];
  count -= POPCOUNT[byteAt(v, lastByte) & tailMask];
  return count;
}

function bitpos(c: Client, argv: string[]): void {
  const bit = parseInt64(argv[2]);
  if (bit === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  if (bit !== 0 && bit !== 1) {
    c.addError(ERR_BIT_ARG);
    return;
  }
  const v = ofTypeOrReply(c, c.db.lookupRead(argv[1]), isString);
  if (v === null) return;
  if (v === undefined) {
    // A missing key is an endless run of zero bits.
    c.addInt(bit ? -1 : 0);
    return;
  }
  const argc = argv.length;
  // Without an end: to the end of the string (-1).
  let start = 0;
  let end = -1;
  let isBit = false;
  let endGiven = false;
  if (argc >= 4 && argc <= 6) {
    const s = parseInt64(argv[3]);
    if (s === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    start = s;
    if (argc === 6) {
      const u = bitUnitOrReply(c, argv[5]);
      if (u === null) return;
      isBit = u;
    }
    if (argc >= 5) {
      const e = parseInt64(argv[4]);
      if (e === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      end = e;
      endGiven = true;
    }
  } else if (argc !== 3) {
    c.addError(ERR_SYNTAX);
    return;
  }
  if (!bitRange(start, end, lengthOf(v), isBit)) {
    c.addRaw(':-1\r\n');
    return;
  }
  const pos = findBit(v, bit, rangeFirst, rangeLast);
  if (pos >= 0) c.addInt(pos);
  // Looking for a clear bit without an explicit end: the string continues
  // with zeros, so the first bit after the range is the answer.
  else if (bit === 0 && !endGiven) c.addInt(rangeLast + 1);
  else c.addRaw(':-1\r\n');
}

/** Position of the first bit equal to `bit` in the inclusive bit range, or -1. */
function findBit(v: StringValue, bit: number, first: number, last: number): number {
  const skip = bit ? 0 : 0xff; // a byte with no candidate bit
  const firstByte = Math.floor(first / 8);
  const lastByte = Math.floor(last / 8);
  for (let i = firstByte; i <= lastByte; i++) {
    const b = byteAt(v, i);
    if (b === skip) continue;
    const from = i === firstByte ? first & 7 : 0;
    const to = i === lastByte ? last & 7 : 7;
    for (let k = from; k <= to; k++) {
      if (((b >> (7 - k)) & 1) === bit) return i * 8 + k;
    }
  }
  return -1;
}

// ---- BITOP ----------------------------------------------------------------------------------

function bitop(c: Client, argv: string[]): void {
  const opName = argv[1];
  let op: 'and' | 'or' | 'xor' | 'not';
  if (optIs(opName, 'and')) op = 'and';
  else if (optIs(opName, 'or')) op = 'or';
  else if (optIs(opName, 'xor')) op = 'xor';
  else if (optIs(opName, 'not')) op = 'not';
  else {
    c.addError(ERR_SYNTAX);
    return;
  }
  if (op === 'not' && argv.length !== 4) {
    c.addError(ERR_BITOP_NOT);
    return;
  }
  const db = c.db;
  const sources: Array<Buffer | null> = [];
  let maxLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const v = db.lookupRead(argv[j]);
    if (v === undefined) {
      sources.push(null); // a missing key reads as an empty string
      continue;
    }
    if (!isString(v)) {
      c.addError(WRONGTYPE);
      return;
    }
    const bytes = bytesOf(v);
    sources.push(bytes);
    if (bytes.length > maxLen) maxLen = bytes.length;
  }
  const dest = argv[2];
  if (maxLen === 0) {
    // An empty result deletes the destination.
    if (db.delete(dest)) {
      c.server.notifier.notify('g', 'del', dest, db.id);
      c.server.dirty++;
    }
    c.addRaw(':0\r\n');
    return;
  }
  const res = new MutableString('', maxLen);
  res.setLength(maxLen);
  const out = res.buf;
  const src0 = sources[0];
  if (op === 'not') {
    for (let i = 0; i < maxLen; i++) out[i] = ~src0![i] & 0xff;
  } else {
    // Bytes past the end of a shorter source count as zero.
    if (src0 !== null) src0.copy(out, 0);
    for (let s = 1; s < sources.length; s++) {
      const src = sources[s];
      const n = src === null ? 0 : src.length;
      if (op === 'and') {
        for (let i = 0; i < n; i++) out[i] &= src![i];
        out.fill(0, n, maxLen);
      } else if (op === 'or') {
        for (let i = 0; i < n; i++) out[i] |= src![i];
      } else {
        for (let i = 0; i < n; i++) out[i] ^= src![i];
      }
    }
  }
  // Like Redis's setKey, look the destination up for writing first, so a stale one expires (with its event).
  if (db.expires.size !== 0) db.expireIfNeeded(dest);
  db.set(dest, res);
  c.server.notifier.notify('$', 'set', dest, db.id);
  c.server.dirty++;
  c.addInt(maxLen);
}

// ---- BITFIELD ---------------------------------------------------------------------------------

const enum Overflow {
  Wrap = 0,
  Sat = 1,
  Fail = 2,
}

const enum FieldOp {
  Get = 0,
  Set = 1,
  Incrby = 2,
}

interface FieldCommand {
  op: FieldOp;
  signed: boolean;
  bits: number;
  offset: number;
  value: bigint;
  overflow: Overflow;
}

/**
 * Redis's getBitfieldTypeFromArgument: [signed, bits] for "i1".."i64" or
 * "u1".."u63", or null after replying the error. The width is read as a C
 * string, so it ends at a NUL byte.
 */
function fieldTypeOrReply(c: Client, arg: string): [boolean, number] | null {
  const kind = arg.charCodeAt(0);
  if (kind === 105 /* i */ || kind === 117 /* u */) {
    const nul = arg.indexOf('\0', 1);
    const bits = parseInt64(nul < 0 ? arg.slice(1) : arg.slice(1, nul));
    const signed = kind === 105;
    if (bits !== null && bits >= 1 && bits <= (signed ? 64 : 63)) return [signed, bits];
  }
  c.addError(ERR_BITFIELD_TYPE);
  return null;
}

/** Reads an unsigned `bits`-wide field at bit `offset` (bits past the end read as 0). */
function readField(buf: Buffer, len: number, offset: number, bits: number): bigint {
  let value = 0n;
  for (let k = 0; k < bits; k++) {
    const pos = offset + k;
    const byte = Math.floor(pos / 8);
    const bit = byte < len ? (buf[byte] >> (7 - (pos & 7))) & 1 : 0;
    value = (value << 1n) | BigInt(bit);
  }
  return value;
}

/** Writes the low `bits` bits of `value` at bit `offset` (the buffer is already long enough). */
function writeField(buf: Buffer, offset: number, bits: number, value: bigint): void {
  for (let k = 0; k < bits; k++) {
    const pos = offset + k;
    const byte = Math.floor(pos / 8);
    const mask = 1 << (7 - (pos & 7));
    if ((value >> BigInt(bits - 1 - k)) & 1n) buf[byte] |= mask;
    else buf[byte] &= ~mask;
  }
}

/**
 * Applies SET (increment 0 on the new value) or INCRBY to a field under the
 * overflow policy: the resulting field value, or null when FAIL refuses it.
 * For unsigned fields a negative SET value is out of range from above (C
 * sees a huge uint64), so SAT turns it into the maximum, as Redis does.
 */
function applyOverflow(base: bigint, incr: bigint, signed: boolean, bits: number, policy: Overflow): bigint | null {
  const b = BigInt(bits);
  let min: bigint;
  let max: bigint;
  let value = base;
  if (signed) {
    max = (1n << (b - 1n)) - 1n;
    min = -max - 1n;
  } else {
    max = (1n << b) - 1n;
    min = 0n;
    value = BigInt.asUintN(64, base);
  }
  const sum = value + incr;
  const high = value > max || sum > max;
  const low = !high && sum < min;
  if (!high && !low) return sum;
  if (policy === Overflow.Fail) return null;
  if (policy === Overflow.Sat) return high ? max : min;
  return signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum);
}

function bitfieldGeneric(c: Client, argv: string[], readOnlyCommand: boolean): void {
  const ops: FieldCommand[] = [];
  let overflow = Overflow.Wrap;
  let readOnly = true;
  let highestWrite = 0;
  for (let j = 2; j < argv.length; j++) {
    const more = argv.length - j - 1;
    const sub = argv[j];
    let op: FieldOp;
    if (optIs(sub, 'get') && more >= 2) op = FieldOp.Get;
    else if (optIs(sub, 'set') && more >= 3) op = FieldOp.Set;
    else if (optIs(sub, 'incrby') && more >= 3) op = FieldOp.Incrby;
    else if (optIs(sub, 'overflow') && more >= 1) {
      const name = argv[++j];
      if (optIs(name, 'wrap')) overflow = Overflow.Wrap;
      else if (optIs(name, 'sat')) overflow = Overflow.Sat;
      else if (optIs(name, 'fail')) overflow = Overflow.Fail;
      else {
        c.addError(ERR_OVERFLOW_TYPE);
        return;
      }
      continue;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
    const type = fieldTypeOrReply(c, argv[j + 1]);
    if (type === null) return;
    const [signed, bits] = type;
    const offset = bitOffsetOrReply(c, argv[j + 2], bits);
    if (offset < 0) return;
    let value = 0n;
    if (op !== FieldOp.Get) {
      readOnly = false;
      if (offset + bits - 1 > highestWrite) highestWrite = offset + bits - 1;
      const v = parseLongLong(argv[j + 3]);
      if (v === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      value = v;
    }
    ops.push({ op, signed, bits, offset, value, overflow });
    j += op === FieldOp.Get ? 2 : 3;
  }

  const key = argv[1];
  const db = c.db;
  let target: StringValue | undefined;
  // A write counts as a change only if the string was created/grown or a field's bits changed (as Redis 7.0).
  let dirty = false;
  if (readOnly) {
    const v = db.lookupRead(key);
    if (v !== undefined && !isString(v)) {
      c.addError(WRONGTYPE);
      return;
    }
    target = v;
  } else {
    if (readOnlyCommand) {
      c.addError(ERR_BITFIELD_RO);
      return;
    }
    const m = stringForBitWrite(c, key, highestWrite);
    if (m === null) return;
    target = m;
    dirty = grew;
  }

  c.addArrayLen(ops.length);
  let changes = 0;
  const buf = target === undefined ? Buffer.alloc(0) : typeof target === 'string' ? Buffer.from(target, 'latin1') : null;
  for (const f of ops) {
    const bytes = buf ?? (target as MutableString).buf;
    const len = buf ? buf.length : (target as MutableString).len;
    const raw = readField(bytes, len, f.offset, f.bits);
    const old = f.signed ? BigInt.asIntN(f.bits, raw) : raw;
    if (f.op === FieldOp.Get) {
      c.addInt(old);
      continue;
    }
    const next = f.op === FieldOp.Set
      ? applyOverflow(f.value, 0n, f.signed, f.bits, f.overflow)
      : applyOverflow(old, f.value, f.signed, f.bits, f.overflow);
    if (next === null) {
      c.addNull();
      continue;
    }
    const nextRaw = BigInt.asUintN(f.bits, next);
    writeField(bytes, f.offset, f.bits, nextRaw);
    c.addInt(f.op === FieldOp.Set ? old : next);
    if (dirty || nextRaw !== raw) changes++;
  }
  if (changes > 0) {
    db.signalModified(key);
    c.server.notifier.notify('$', 'setbit', key, db.id);
    c.server.dirty += changes;
  }
}

function bitfield(c: Client, argv: string[]): void {
  bitfieldGeneric(c, argv, false);
}

function bitfieldRo(c: Client, argv: string[]): void {
  bitfieldGeneric(c, argv, true);
}

export const commands: CommandImpl[] = [
  { name: 'setbit', summary: 'Sets or clears one bit of a string, growing it as needed; replies with the old bit.', handler: setbit },
  { name: 'getbit', summary: 'Replies with the value of one bit of a string.', handler: getbit },
  { name: 'bitcount', summary: 'Counts the set bits of a string, optionally within a byte or bit range.', handler: bitcount },
  { name: 'bitpos', summary: 'Finds the first set or clear bit of a string, optionally within a byte or bit range.', handler: bitpos },
  { name: 'bitop', summary: 'Stores the bitwise AND, OR, XOR or NOT of strings under a destination key.', handler: bitop },
  { name: 'bitfield', summary: 'Reads, writes and increments integers of any width at bit offsets of a string.', handler: bitfield },
  { name: 'bitfield_ro', summary: 'Reads integers of any width at bit offsets of a string (GET only).', handler: bitfieldRo },
];
