/**
 * Writing values in Redis 7.0's RDB encoding (rdbSaveObject & co).
 *
 * Each of our types is written with the encoding Redis 7.0 would use for the
 * same data, so files and DUMP payloads read the same in Redis:
 *  - strings: a canonical 32-bit integer of at most 11 chars as an integer
 *    encoding; longer than 20 bytes LZF-compressed when rdbcompression is on
 *    and it saves at least 4 bytes; otherwise length + bytes;
 *  - lists: RDB_TYPE_LIST_QUICKLIST_2, listpack nodes cut where Redis's
 *    quicklist cuts them when the elements are pushed at the tail
 *    (list-max-listpack-size);
 *  - sets: RDB_TYPE_SET_INTSET (intset blob) or RDB_TYPE_SET;
 *  - hashes: RDB_TYPE_HASH_LISTPACK or RDB_TYPE_HASH;
 *  - sorted sets: RDB_TYPE_ZSET_LISTPACK (scores as Redis prints them) or
 *    RDB_TYPE_ZSET_2 (highest first, scores as binary doubles);
 *  - streams: RDB_TYPE_STREAM_LISTPACKS_2, one listpack per node exactly as
 *    Redis lays it out, then counters, groups, PELs and consumers.
 */
import { ByteWriter } from './bytes.js';
import { lzfCompress } from './lzf.js';
import { ListpackWriter, listpackEntrySize } from './listpack.js';
import { buildIntset } from './intset.js';
import * as C from './constants.js';
import { MutableString, type Value, type StringValue } from '../../data/values.js';
import type { ListValue } from '../../data/list.js';
import type { SetValue } from '../../data/set.js';
import type { HashValue } from '../../data/hash.js';
import type { ZSetValue } from '../../data/zset.js';
import type { StreamValue, StreamNode, StreamID, U64 } from '../../data/stream.js';
import { formatDouble17g, parseInt64 } from '../../util/numbers.js';

export interface EncodeOptions {
  /** rdbcompression: LZF-compress strings longer than 20 bytes. */
  compress: boolean;
  /** list-max-listpack-size: how list nodes are cut. */
  listFill: number;
}

export const DEFAULT_ENCODE_OPTIONS: EncodeOptions = { compress: true, listFill: -2 };

// ---- lengths and strings ------------------------------------------------------------

/** rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian length. */
export function writeLen(w: ByteWriter, n: number | bigint): void {
  if (typeof n === 'bigint') {
    if (n <= 0xffffffffn && n >= 0n) n = Number(n);
    else {
      w.u8(C.RDB_64BITLEN);
      w.u64be(n);
      return;
    }
  }
  if (n < 64) {
    w.u8(n);
  } else if (n < 16384) {
    w.u8(0x40 | (n >>> 8));
    w.u8(n & 0xff);
  } else if (n <= 0xffffffff) {
    w.u8(C.RDB_32BITLEN);
    w.u32be(n);
  } else {
    w.u8(C.RDB_64BITLEN);
    w.u64be(BigInt(n));
  }
}

/** The value when `s` is a canonical integer Redis would store in an integer encoding, else null. */
function intEncodable(s: string): number | null {
  const n = s.length;
  if (n === 0 || n > 11) return null;
  const c = s.charCodeAt(0);
  if (c !== 45 && (c < 48 || c > 57)) return null;
  const v = parseInt64(s);
  if (v === null || v < -2147483648 || v > 2147483647) return null;
  return v;
}

function writeIntEncoded(w: ByteWriter, v: number): void {
  if (v >= -128 && v <= 127) {
    w.u8(0xc0 | C.RDB_ENC_INT8);
    w.u8(v & 0xff);
  } else if (v >= -32768 && v <= 32767) {
    w.u8(0xc0 | C.RDB_ENC_INT16);
    w.ensure(2);
    w.buf.writeInt16LE(v, w.pos);
    w.pos += 2;
  } else {
    w.u8(0xc0 | C.RDB_ENC_INT32);
    w.ensure(4);
    w.buf.writeInt32LE(v, w.pos);
    w.pos += 4;
  }
}

let latin1Scratch = Buffer.allocUnsafe(64 * 1024);

/** Writes LZF form if it saves at least 4 bytes (rdbSaveLzfStringObject); returns whether it did. */
function tryWriteLzf(w: ByteWriter, bytes: Uint8Array): boolean {
  const len = bytes.length;
  const out = lzfCompress(bytes, len - 4);
  if (out === null) return false;
  w.u8(0xc0 | C.RDB_ENC_LZF);
  writeLen(w, out.length);
  writeLen(w, len);
  w.bytes(out);
  return true;
}

/** rdbSaveRawString for a latin1 string. */
export function writeString(w: ByteWriter, s: string, opts: EncodeOptions): void {
  const n = s.length;
  if (n <= 11) {
    const v = intEncodable(s);
    if (v !== null) {
      writeIntEncoded(w, v);
      return;
    }
  }
  if (opts.compress && n > 20) {
    if (latin1Scratch.length < n) latin1Scratch = Buffer.allocUnsafe(Math.max(n, latin1Scratch.length * 2));
    latin1Scratch.latin1Write(s, 0, n);
    if (tryWriteLzf(w, latin1Scratch.subarray(0, n))) return;
  }
  writeLen(w, n);
  w.latin1(s);
}

/** rdbSaveRawString for bytes (listpacks, intsets, MutableString contents). */
export function writeBytes(w: ByteWriter, b: Uint8Array, opts: EncodeOptions): void {
  const n = b.length;
  if (n <= 11) {
    const v = intEncodable(Buffer.from(b.buffer, b.byteOffset, n).latin1Slice(0, n));
    if (v !== null) {
      writeIntEncoded(w, v);
      return;
    }
  }
  if (opts.compress && n > 20 && tryWriteLzf(w, b)) return;
  writeLen(w, n);
  w.bytes(b);
}

export function writeStringValue(w: ByteWriter, v: StringValue, opts: EncodeOptions): void {
  if (typeof v === 'string') writeString(w, v, opts);
  else writeBytes(w, v.view(), opts);
}

/** rdbSaveMillisecondTime: int64 little-endian. */
export function writeMillis(w: ByteWriter, ms: number): void {
  w.i64le(Math.trunc(ms));
}

// ---- types ---------------------------------------------------------------------------------

/** The RDB type byte Redis 7.0 writes for a value with its current encoding. */
export function rdbTypeOf(v: Value): number {
  if (typeof v === 'string' || v instanceof MutableString) return C.RDB_TYPE_STRING;
  switch (v.type) {
    case 'list':
      return C.RDB_TYPE_LIST_QUICKLIST_2;
    case 'set':
      return v.encoding() === 'intset' ? C.RDB_TYPE_SET_INTSET : C.RDB_TYPE_SET;
    case 'hash':
      return v.encoding() === 'listpack' ? C.RDB_TYPE_HASH_LISTPACK : C.RDB_TYPE_HASH;
    case 'zset':
      return v.encoding() === 'listpack' ? C.RDB_TYPE_ZSET_LISTPACK : C.RDB_TYPE_ZSET_2;
    case 'stream':
      return C.RDB_TYPE_STREAM_LISTPACKS_2;
  }
  throw new Error(`cannot serialize a value of type ${(v as { type: string }).type}`);
}

const lp = new ListpackWriter();

/** rdbSaveObject: the value's payload (after its type byte). */
export function writeObject(w: ByteWriter, v: Value, opts: EncodeOptions): void {
  if (typeof v === 'string' || v instanceof MutableString) {
    writeStringValue(w, v, opts);
    return;
  }
  switch (v.type) {
    case 'list':
      writeList(w, v as ListValue, opts);
      return;
    case 'set':
      writeSet(w, v as SetValue, opts);
      return;
    case 'hash':
      writeHash(w, v as HashValue, opts);
      return;
    case 'zset':
      writeZSet(w, v as ZSetValue, opts);
      return;
    case 'stream':
      writeStream(w, v as StreamValue, opts);
      return;
  }
}

/** Type byte + payload (what DUMP serializes). */
export function writeTypedObject(w: ByteWriter, v: Value, opts: EncodeOptions): void {
  w.u8(rdbTypeOf(v));
  writeObject(w, v, opts);
}

// ---- lists -----------------------------------------------------------------------------------

/** quicklist's optimization_level: node byte limits for fill -1 .. -5. */
const FILL_BYTES = [4096, 8192, 16384, 32768, 65536];
const SIZE_SAFETY_LIMIT = 8192;
const SIZE_ESTIMATE_OVERHEAD = 8;

/** Redis 7.0's _quicklistNodeAllowInsert: may an element of `sz` bytes join a node of `nodeBytes`/`count`? */
function allowInsert(nodeBytes: number, count: number, sz: number, fill: number): boolean {
  const newSz = nodeBytes + sz + SIZE_ESTIMATE_OVERHEAD;
  if (fill < 0) {
    const off = -fill - 1;
    if (off < FILL_BYTES.length && newSz <= FILL_BYTES[off]) return true;
  }
  if (newSz > SIZE_SAFETY_LIMIT) return false;
  return count < fill;
}

function writeList(w: ByteWriter, list: ListValue, opts: EncodeOptions): void {
  const n = list.length;
  // First pass: where the nodes end (as pushing every element at the tail would cut them).
  const nodeCounts: number[] = [];
  let nodeBytes = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const s = list.at(i);
    if (count === 0 || !allowInsert(nodeBytes, count, s.length, opts.listFill)) {
      if (count > 0) nodeCounts.push(count);
      nodeBytes = 7; // an empty listpack: header and terminator
      count = 0;
    }
    nodeBytes += listpackEntrySize(s);
    count++;
  }
  if (count > 0) nodeCounts.push(count);
  writeLen(w, nodeCounts.length);
  let i = 0;
  for (const c of nodeCounts) {
    writeLen(w, C.QUICKLIST_NODE_CONTAINER_PACKED);
    lp.begin();
    for (let k = 0; k < c; k++) lp.addString(list.at(i++));
    writeBytes(w, lp.finish(), opts);
  }
}

// ---- sets ------------------------------------------------------------------------------------

function writeSet(w: ByteWriter, set: SetValue, opts: EncodeOptions): void {
  if (set.encoding() === 'intset') {
    // forEach visits an intset in ascending order, the order of the blob.
    writeBytes(w, buildIntset(set.members()), opts);
    return;
  }
  writeLen(w, set.size);
  set.forEach((m) => writeString(w, m, opts));
}

// ---- hashes ----------------------------------------------------------------------------------

function writeHash(w: ByteWriter, h: HashValue, opts: EncodeOptions): void {
  if (h.encoding() === 'listpack') {
    lp.begin();
    h.forEach((f, v) => {
      lp.addString(f);
      lp.addString(v);
    });
    writeBytes(w, lp.finish(), opts);
    return;
  }
  writeLen(w, h.size);
  h.forEach((f, v) => {
    writeString(w, f, opts);
    writeString(w, v, opts);
  });
}

// ---- sorted sets ----------------------------------------------------------------------------

/** A score as Redis's listpack stores it (d2string: integers plainly, else %.17g; inf, -inf). */
export function scoreText(d: number): string {
  return formatDouble17g(d);
}

function writeZSet(w: ByteWriter, z: ZSetValue, opts: EncodeOptions): void {
  if (z.encoding() === 'listpack') {
    lp.begin();
    z.forEach((m, s) => {
      lp.addString(m);
      lp.addString(scoreText(s));
    });
    writeBytes(w, lp.finish(), opts);
    return;
  }
  const n = z.size;
  writeLen(w, n);
  // Highest first, as Redis walks its skiplist from the tail.
  if (n > 0) {
    z.forRange(0, n - 1, true, (m, s) => {
      writeString(w, m, opts);
      w.f64le(s);
    });
  }
}

// ---- streams --------------------------------------------------------------------------------

/** (a - b) as the int64 Redis computes from two uint64 ID parts. */
function idDelta(a: U64, b: U64): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return BigInt.asIntN(64, BigInt(a) - BigInt(b));
}

/** An ID as the 16 big-endian bytes Redis uses for rax keys and PEL entries. */
export function writeRawId(w: ByteWriter, id: StreamID): void {
  w.u64be(id.ms);
  w.u64be(id.seq);
}

const idScratch = Buffer.allocUnsafe(16);

/** The node's listpack, element for element as streamAppendItem built it. */
function nodeListpack(node: StreamNode): Buffer {
  lp.begin();
  lp.addInt(node.live);
  lp.addInt(node.count - node.live);
  const master = node.fields;
  lp.addInt(master.length);
  for (const f of master) lp.addString(f);
  lp.addInt(0);
  const first = node.idAt(0);
  for (let i = 0; i < node.count; i++) {
    const id = node.idAt(i);
    const same = node.sameFields(i);
    const flags = (node.isDeleted(i) ? C.STREAM_ITEM_FLAG_DELETED : 0) | (same ? C.STREAM_ITEM_FLAG_SAMEFIELDS : 0);
    lp.addInt(flags);
    lp.addInt(idDelta(id.ms, first.ms));
    lp.addInt(idDelta(id.seq, first.seq));
    const fv = node.fieldsAt(i);
    const nf = fv.length / 2;
    if (same) {
      for (let k = 0; k < nf; k++) lp.addString(fv[2 * k + 1]);
      lp.addInt(nf + 3);
    } else {
      lp.addInt(nf);
      for (let k = 0; k < fv.length; k++) lp.addString(fv[k]);
      lp.addInt(2 * nf + 4);
    }
  }
  return lp.finish();
}

function writeStream(w: ByteWriter, s: StreamValue, opts: EncodeOptions): void {
  writeLen(w, s.nodes.length);
  for (const node of s.nodes) {
    const first = node.idAt(0);
    idScratch.writeBigUInt64BE(BigInt(first.ms), 0);
    idScratch.writeBigUInt64BE(BigInt(first.seq), 8);
    writeBytes(w, idScratch, opts);
    writeBytes(w, nodeListpack(node), opts);
  }
  writeLen(w, s.length);
  writeLen(w, s.lastId.ms);
  writeLen(w, s.lastId.seq);
  writeLen(w, s.firstId.ms);
  writeLen(w, s.firstId.seq);
  writeLen(w, s.maxDeletedId.ms);
  writeLen(w, s.maxDeletedId.seq);
  writeLen(w, BigInt.asUintN(64, BigInt(s.entriesAdded)));
  const groups = s.sortedGroups();
  writeLen(w, groups.length);
  for (const g of groups) {
    writeString(w, g.name, opts);
    writeLen(w, g.lastId.ms);
    writeLen(w, g.lastId.seq);
    // -1 (unknown) is written as the uint64 it is in Redis.
    writeLen(w, BigInt.asUintN(64, BigInt(g.entriesRead)));
    const pel = g.pel.entries();
    writeLen(w, pel.length);
    for (const [id, nack] of pel) {
      writeRawId(w, id);
      writeMillis(w, nack.deliveryTime);
      writeLen(w, nack.deliveryCount);
    }
    const consumers = g.sortedConsumers();
    writeLen(w, consumers.length);
    for (const c of consumers) {
      writeString(w, c.name, opts);
      writeMillis(w, c.seenTime);
      const cpel = c.pel.entries();
      writeLen(w, cpel.length);
      for (const [id] of cpel) writeRawId(w, id);
    }
  }
}

// ---- file framing --------------------------------------------------------------------------

/** "REDIS0010". */
export function writeHeader(w: ByteWriter): void {
  w.latin1('REDIS' + String(C.RDB_VERSION).padStart(4, '0'));
}

/** An AUX field (key and value as strings, integers integer-encoded as Redis does). */
export function writeAux(w: ByteWriter, key: string, value: string, opts: EncodeOptions): void {
  w.u8(C.RDB_OPCODE_AUX);
  writeString(w, key, opts);
  writeString(w, value, opts);
}

/**
 * One key: optional expire time, idle time (LRU policies) and LFU counter
 * (LFU policies), in that order as rdbSaveKeyValuePair, then type, key and value.
 */
export function writeKeyValue(
  w: ByteWriter,
  key: string,
  v: Value,
  expireMs: number,
  opts: EncodeOptions,
  idleSeconds = -1,
  lfuCounter = -1,
): void {
  if (expireMs !== -1) {
    w.u8(C.RDB_OPCODE_EXPIRETIME_MS);
    writeMillis(w, expireMs);
  }
  if (idleSeconds >= 0) {
    w.u8(C.RDB_OPCODE_IDLE);
    writeLen(w, idleSeconds);
  }
  if (lfuCounter >= 0) {
    // One byte: the counter is logarithmic, 0-255.
    w.u8(C.RDB_OPCODE_FREQ);
    w.u8(lfuCounter);
  }
  w.u8(rdbTypeOf(v));
  writeString(w, key, opts);
  writeObject(w, v, opts);
}

const measure = new ByteWriter(1024);

/** rdbSavedObjectLen: the bytes of a value's payload (DEBUG OBJECT serializedlength). */
export function serializedLength(v: Value, opts: EncodeOptions): number {
  measure.reset();
  writeObject(measure, v, opts);
  return measure.pos;
}
