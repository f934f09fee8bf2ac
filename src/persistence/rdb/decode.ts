/**
 * Reading values in RDB encoding (rdbLoadObject & co): every type Redis 7.0
 * loads, including the encodings only older versions wrote (ziplists,
 * zipmaps, quicklist v1, linked lists, text scores, stream listpacks v1).
 *
 * Values are rebuilt with the representation Redis would choose on loading
 * under the current limits (hash-max-listpack-*, set-max-intset-entries,
 * zset-max-listpack-*). Every structure is validated as it is read; anything
 * inconsistent raises RdbFormatError, never a half-built value.
 */
import { ByteReader, RdbFormatError } from './bytes.js';
import { lzfDecompress, LzfError } from './lzf.js';
import { readListpack, elementString, type ListpackElement } from './listpack.js';
import { readIntset } from './intset.js';
import { readZiplist, readZipmap } from './legacy.js';
import * as C from './constants.js';
import type { Value } from '../../data/values.js';
import { ListValue } from '../../data/list.js';
import { SetValue, DenseSet } from '../../data/set.js';
import { HashValue, type HashLimits } from '../../data/hash.js';
import { ZSetValue, type ZSetLimits } from '../../data/zset.js';
import {
  StreamValue,
  StreamNode,
  ConsumerGroup,
  Consumer,
  PendingEntry,
  normU64,
  cmpId,
  ZERO_ID,
  type StreamID,
  type U64,
} from '../../data/stream.js';
import { parseDoubleStrtod } from '../../util/numbers.js';

/** The limits that decide the representation of loaded values (from the config). */
export interface DecodeLimits {
  hash: HashLimits;
  zset: ZSetLimits;
  setMaxIntsetEntries: number;
}

export interface ConfigLike {
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
  setMaxIntsetEntries: number;
}

export function limitsFrom(config: ConfigLike): DecodeLimits {
  return {
    hash: { maxEntries: config.hashMaxListpackEntries, maxValue: config.hashMaxListpackValue },
    zset: { maxEntries: config.zsetMaxListpackEntries, maxValue: config.zsetMaxListpackValue },
    setMaxIntsetEntries: config.setMaxIntsetEntries,
  };
}

function corrupt(why: string): never {
  throw new RdbFormatError(why);
}

/**
 * Runs a blob decoder, naming the value's type in its integrity errors as Redis does
 * ("Hash ziplist integrity check failed", "Zset listpack ..."). With `container`, any
 * other format error inside (a duplicate, a bad pair) is that container's integrity
 * failure too, as Redis's deep ziplist check reports them.
 */
function typedBlob<T>(typeName: string, fn: () => T, container?: 'Ziplist'): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof RdbFormatError)) throw e;
    const m = e.message;
    if (m.startsWith('Ziplist ') || m.startsWith('Listpack ')) corrupt(`${typeName} ${m[0].toLowerCase()}${m.slice(1)}`);
    if (container !== undefined) corrupt(`${typeName} ziplist integrity check failed: ${m}`);
    throw e;
  }
}

// ---- lengths and strings -----------------------------------------------------------------

/** A length or a special-encoding marker: {len, encoded}. */
export function readLenOrEnc(r: ByteReader): { len: number; encoded: boolean } {
  const b = r.u8();
  const t = b >> 6;
  if (t === C.RDB_ENCVAL) return { len: b & 0x3f, encoded: true };
  if (t === C.RDB_6BITLEN) return { len: b & 0x3f, encoded: false };
  if (t === C.RDB_14BITLEN) return { len: ((b & 0x3f) << 8) | r.u8(), encoded: false };
  if (b === C.RDB_32BITLEN) return { len: r.u32be(), encoded: false };
  if (b === C.RDB_64BITLEN) {
    const v = r.u64be();
    if (v > 9007199254740991n) corrupt('Length too large');
    return { len: Number(v), encoded: false };
  }
  return corrupt(`Unknown length encoding ${b} in rdbLoadLen()`);
}

/** A plain length (an encoded marker here is corruption). */
export function readLen(r: ByteReader): number {
  const l = readLenOrEnc(r);
  if (l.encoded) corrupt('Unexpected encoded length');
  return l.len;
}

/** A full uint64 length (stream IDs and counters), as a U64. */
export function readLenU64(r: ByteReader): U64 {
  const b = r.buf[r.pos];
  if (b === C.RDB_64BITLEN) {
    r.pos++;
    return normU64(r.u64be());
  }
  return readLen(r);
}

/** A string value's bytes: plain, integer-encoded (as its decimal text) or LZF. */
export function readStringBytes(r: ByteReader): Buffer {
  const l = readLenOrEnc(r);
  if (!l.encoded) return r.slice(l.len);
  return Buffer.from(encodedString(r, l.len), 'latin1');
}

function encodedString(r: ByteReader, enc: number): string {
  switch (enc) {
    case C.RDB_ENC_INT8: {
      const b = r.u8();
      return String(b > 127 ? b - 256 : b);
    }
    case C.RDB_ENC_INT16: {
      const v = r.u16le();
      return String(v > 32767 ? v - 65536 : v);
    }
    case C.RDB_ENC_INT32:
      return String(r.i32le());
    case C.RDB_ENC_LZF: {
      const clen = readLen(r);
      const len = readLen(r);
      const data = r.slice(clen);
      checkLzfLengths(clen, len);
      try {
        return lzfDecompress(data, len).latin1Slice(0, len);
      } catch (e) {
        if (e instanceof LzfError) corrupt(`Invalid LZF compressed string: ${e.message}`);
        throw e;
      }
    }
    default:
      return corrupt(`Unknown RDB string encoding type ${enc}`);
  }
}

/**
 * LZF expands at most 264 bytes per 3-byte back reference, so a declared
 * length far beyond that is corruption (and must not become a huge allocation).
 */
function checkLzfLengths(clen: number, len: number): void {
  if (clen === 0 || len === 0 || len > clen * 90 + 64) corrupt('Invalid LZF compressed string: impossible lengths');
}

/** A string value as a latin1 string. */
export function readString(r: ByteReader): string {
  const l = readLenOrEnc(r);
  if (l.encoded) return encodedString(r, l.len);
  return r.latin1(l.len);
}

/** A blob (listpack, ziplist, intset, zipmap) as a Buffer. */
function readBlob(r: ByteReader): Buffer {
  const l = readLenOrEnc(r);
  if (!l.encoded) return r.slice(l.len);
  if (l.len === C.RDB_ENC_LZF) {
    const clen = readLen(r);
    const len = readLen(r);
    const data = r.slice(clen);
    checkLzfLengths(clen, len);
    try {
      return lzfDecompress(data, len);
    } catch (e) {
      if (e instanceof LzfError) corrupt(`Invalid LZF compressed string: ${e.message}`);
      throw e;
    }
  }
  return Buffer.from(encodedString(r, l.len), 'latin1');
}

/** rdbLoadMillisecondTime: int64 little-endian. */
export function readMillis(r: ByteReader): number {
  return Number(r.i64le());
}

/** rdbLoadDoubleValue (ZSET v1 scores): a length byte, 253/254/255 for nan/inf/-inf, or text. */
function readTextDouble(r: ByteReader): number {
  const len = r.u8();
  if (len === 253) return NaN;
  if (len === 254) return Infinity;
  if (len === 255) return -Infinity;
  return parseScore(r.latin1(len));
}

function parseScore(s: string): number {
  const d = parseDoubleStrtod(s);
  if (d === null || Number.isNaN(d)) corrupt(`Invalid score '${s.slice(0, 40)}'`);
  return d;
}

function elementScore(e: ListpackElement): number {
  return typeof e === 'string' ? parseScore(e) : Number(e);
}

// ---- value builders --------------------------------------------------------------------------

function buildSet(members: string[], limits: DecodeLimits): SetValue {
  const table = new DenseSet();
  for (const m of members) if (!table.add(m)) corrupt('Duplicate set members detected');
  return SetValue.fromTable(table, limits.setMaxIntsetEntries);
}

function buildHash(pairs: string[], limits: DecodeLimits): HashValue {
  if (pairs.length % 2 !== 0) corrupt('Hash listpack with an odd number of elements');
  const h = new HashValue();
  for (let i = 0; i < pairs.length; i += 2) {
    if (!h.set(pairs[i], pairs[i + 1], limits.hash)) corrupt('Duplicate hash fields detected');
  }
  return h;
}

/** A sorted set from (member, score) pairs in any order; duplicates and NaN are corruption. */
function buildZSet(members: string[], scores: number[], limits: DecodeLimits): ZSetValue {
  const n = members.length;
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) corrupt('Zset with NAN score detected');
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    const a = scores[i - 1];
    const b = scores[i];
    if (a > b || (a === b && !(members[i - 1] < members[i]))) sorted = false;
  }
  if (!sorted) {
    const order = members.map((_, i) => i);
    order.sort((x, y) => scores[x] - scores[y] || (members[x] < members[y] ? -1 : members[x] > members[y] ? 1 : 0));
    members = order.map((i) => members[i]);
    scores = order.map((i) => scores[i]);
  }
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m)) corrupt('Duplicate zset fields detected');
    seen.add(m);
  }
  return ZSetValue.fromSorted(members, scores, limits.zset);
}

function zsetFromElements(els: ListpackElement[], limits: DecodeLimits): ZSetValue {
  if (els.length % 2 !== 0) corrupt('Zset listpack with an odd number of elements');
  const members: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < els.length; i += 2) {
    members.push(elementString(els[i]));
    scores.push(elementScore(els[i + 1]));
  }
  return buildZSet(members, scores, limits);
}

// ---- streams -----------------------------------------------------------------------------------

function intOf(e: ListpackElement | undefined, what: string): number {
  if (typeof e === 'number') return e;
  if (typeof e === 'bigint') return Number(e);
  if (typeof e === 'string' && /^-?[0-9]+$/.test(e)) return Number(e);
  return corrupt(`Stream listpack integrity check failed: ${what} is not an integer`);
}

function deltaOf(e: ListpackElement | undefined): number | bigint {
  if (typeof e === 'number' || typeof e === 'bigint') return e;
  if (typeof e === 'string' && /^-?[0-9]+$/.test(e)) return BigInt(e);
  return corrupt('Stream listpack integrity check failed: ID delta is not an integer');
}

/** base + int64 delta, modulo 2^64 as Redis adds them. */
function addDelta(base: U64, delta: number | bigint): U64 {
  if (typeof base === 'number' && typeof delta === 'number') {
    const r = base + delta;
    if (r >= 0 && Number.isSafeInteger(r)) return r;
  }
  return normU64(BigInt.asUintN(64, BigInt(base) + BigInt(delta)));
}

function rawId(r: ByteReader): StreamID {
  const ms = normU64(r.u64be());
  const seq = normU64(r.u64be());
  return { ms, seq };
}

/** One stream node: its 16-byte key (first ID) and listpack, rebuilt as a StreamNode. */
function readStreamNode(key: Buffer, lpBuf: Buffer, prevLast: StreamID | null): { node: StreamNode; last: StreamID } {
  if (key.length !== 16) corrupt('Stream node key entry is not the size of a stream ID');
  const master: StreamID = { ms: normU64(key.readBigUInt64BE(0)), seq: normU64(key.readBigUInt64BE(8)) };
  let els: ListpackElement[];
  try {
    els = readListpack(lpBuf);
  } catch (e) {
    // Redis names a stream's listpack in its message ("Stream listpack integrity check failed").
    if (e instanceof RdbFormatError && e.message.startsWith('Listpack ')) corrupt(`Stream listpack ${e.message.slice(9)}`);
    throw e;
  }
  if (els.length === 0) corrupt('Empty listpack inside stream');
  let p = 0;
  const live = intOf(els[p++], 'count');
  const deleted = intOf(els[p++], 'deleted count');
  const nMaster = intOf(els[p++], 'master field count');
  if (nMaster < 0 || p + nMaster >= els.length) corrupt('Stream listpack integrity check failed: bad master entry');
  const fields: string[] = [];
  for (let k = 0; k < nMaster; k++) fields.push(elementString(els[p++]));
  if (intOf(els[p++], 'master terminator') !== 0) corrupt('Stream listpack integrity check failed: bad master entry terminator');
  const node = new StreamNode(fields);
  let seenLive = 0;
  let seenDeleted = 0;
  let prev = prevLast;
  let first = true;
  const argv: string[] = [];
  while (p < els.length) {
    const flags = intOf(els[p++], 'flags');
    const id: StreamID = { ms: addDelta(master.ms, deltaOf(els[p++])), seq: addDelta(master.seq, deltaOf(els[p++])) };
    if (first && cmpId(id, master) !== 0) corrupt('Stream node key does not match its first entry');
    first = false;
    if (prev !== null && cmpId(id, prev) <= 0) corrupt('Stream entries are not in ID order');
    prev = id;
    const same = (flags & C.STREAM_ITEM_FLAG_SAMEFIELDS) !== 0;
    argv.length = 0;
    let nf: number;
    if (same) {
      nf = nMaster;
      if (p + nf > els.length) corrupt('Stream listpack integrity check failed: entry past the end');
      for (let k = 0; k < nf; k++) argv.push(fields[k], elementString(els[p++]));
    } else {
      nf = intOf(els[p++], 'field count');
      if (nf < 0 || p + 2 * nf > els.length) corrupt('Stream listpack integrity check failed: entry past the end');
      for (let k = 0; k < 2 * nf; k++) argv.push(elementString(els[p++]));
    }
    const lpCount = intOf(els[p++], 'lp-count');
    if (lpCount !== (same ? nf + 3 : 2 * nf + 4)) corrupt('Stream listpack integrity check failed: bad entry lp-count');
    node.push(id, argv, 0, nf, same);
    if ((flags & C.STREAM_ITEM_FLAG_DELETED) !== 0) {
      node.markDeleted(node.count - 1);
      seenDeleted++;
    } else {
      seenLive++;
    }
  }
  if (seenLive !== live || seenDeleted !== deleted) corrupt('Stream listpack integrity check failed: master counts do not match the entries');
  if (node.count === 0) corrupt('Stream node without entries');
  node.live = live;
  node.lpBytes = lpBuf.length;
  return { node, last: prev as StreamID };
}

function readStream(r: ByteReader, type: number): StreamValue {
  const s = new StreamValue();
  const nodes = readLen(r);
  let last: StreamID | null = null;
  for (let i = 0; i < nodes; i++) {
    const key = readBlob(r);
    const lpBuf = readBlob(r);
    const built = readStreamNode(Buffer.from(key), lpBuf, last);
    if (built.node.live === 0) {
      // Redis never stores a node whose entries are all deleted; drop it rather than keep a husk.
      last = built.last;
      continue;
    }
    s.nodes.push(built.node);
    last = built.last;
  }
  // Full nodes are closed as Redis shrinks them; the tail stays open for appends.
  for (let i = 0; i < s.nodes.length - 1; i++) s.nodes[i].seal();
  let live = 0;
  for (const n of s.nodes) live += n.live;
  s.length = readLen(r);
  if (s.length !== live) corrupt('Stream length does not match its entries');
  s.lastId = { ms: readLenU64(r), seq: readLenU64(r) };
  if (type === C.RDB_TYPE_STREAM_LISTPACKS_2) {
    s.firstId = { ms: readLenU64(r), seq: readLenU64(r) };
    s.maxDeletedId = { ms: readLenU64(r), seq: readLenU64(r) };
    s.entriesAdded = toInt64(readLenU64(r));
  } else {
    // Version 1 has no counters: Redis derives them the same way on load.
    s.maxDeletedId = ZERO_ID;
    s.entriesAdded = s.length;
    const first = s.firstPos();
    s.firstId = first === null ? ZERO_ID : s.idAt(first);
  }
  if (last !== null && cmpId(last, s.lastId) > 0) corrupt('Stream last ID is below its entries');
  const groups = readLen(r);
  for (let g = 0; g < groups; g++) {
    const name = readString(r);
    const lastId: StreamID = { ms: readLenU64(r), seq: readLenU64(r) };
    let entriesRead: number | bigint;
    if (type === C.RDB_TYPE_STREAM_LISTPACKS_2) entriesRead = toInt64(readLenU64(r));
    else entriesRead = s.estimateDistance(lastId);
    if (s.groups.has(name)) corrupt('Duplicated consumer group name');
    const group = new ConsumerGroup(name, lastId, entriesRead);
    s.groups.set(name, group);
    const pelSize = readLen(r);
    for (let i = 0; i < pelSize; i++) {
      const id = rawId(r);
      const deliveryTime = readMillis(r);
      const deliveryCount = readLen(r);
      if (group.pel.has(id)) corrupt('Duplicated global PEL entry');
      group.pel.set(id, new PendingEntry(null, deliveryTime, deliveryCount));
    }
    const consumers = readLen(r);
    for (let i = 0; i < consumers; i++) {
      const cname = readString(r);
      const seen = readMillis(r);
      if (group.consumers.has(cname)) corrupt('Duplicate stream consumer detected');
      const consumer = new Consumer(cname, seen);
      group.consumers.set(cname, consumer);
      const n = readLen(r);
      for (let k = 0; k < n; k++) {
        const id = rawId(r);
        const nack = group.pel.get(id);
        if (nack === undefined) corrupt('Consumer entry not found in group global PEL');
        if (nack.consumer !== null) corrupt('Stream PEL entry owned by two consumers');
        nack.consumer = consumer;
        consumer.pel.set(id, nack);
      }
    }
    for (const [, nack] of group.pel.entries()) {
      if (nack.consumer === null) corrupt('Stream CG PEL entry without consumer');
    }
  }
  return s;
}

/** A uint64 read from the file as the int64 Redis keeps (entries_read -1, counters). */
function toInt64(v: U64): number | bigint {
  if (typeof v === 'number') return v;
  const r = BigInt.asIntN(64, v);
  return r >= -9007199254740991n && r <= 9007199254740991n ? Number(r) : r;
}

// ---- modules ------------------------------------------------------------------------------------

const MODULE_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The 9-char module type name packed in a module id (the low 10 bits are the encoding version). */
export function moduleName(id: U64): string {
  let v = BigInt(id) >> 10n;
  let name = '';
  for (let j = 0; j < 9; j++) {
    name = MODULE_CHARSET[Number(v & 63n)] + name;
    v >>= 6n;
  }
  return name;
}

/** Skips a module value in the self-describing MODULE_2 format, up to its EOF opcode. */
export function skipModuleValue(r: ByteReader): void {
  for (;;) {
    const op = readLen(r);
    switch (op) {
      case C.RDB_MODULE_OPCODE_EOF:
        return;
      case C.RDB_MODULE_OPCODE_SINT:
      case C.RDB_MODULE_OPCODE_UINT:
        readLenU64(r);
        break;
      case C.RDB_MODULE_OPCODE_FLOAT:
        r.f32le();
        break;
      case C.RDB_MODULE_OPCODE_DOUBLE:
        r.f64le();
        break;
      case C.RDB_MODULE_OPCODE_STRING:
        readStringBytes(r);
        break;
      default:
        corrupt(`Unknown module opcode ${op} in module data`);
    }
  }
}

// ---- values -------------------------------------------------------------------------------------

/**
 * Reads a value of RDB type `type`. Returns null for an empty aggregate
 * (Redis skips such keys when loading).
 */
export function readObject(r: ByteReader, type: number, limits: DecodeLimits): Value | null {
  switch (type) {
    case C.RDB_TYPE_STRING:
      return readString(r);

    case C.RDB_TYPE_LIST: {
      const n = readLen(r);
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(readString(r));
      return n === 0 ? null : ListValue.from(items);
    }

    case C.RDB_TYPE_SET: {
      const n = readLen(r);
      const members: string[] = [];
      for (let i = 0; i < n; i++) members.push(readString(r));
      return n === 0 ? null : buildSet(members, limits);
    }

    case C.RDB_TYPE_ZSET:
    case C.RDB_TYPE_ZSET_2: {
      const n = readLen(r);
      const members: string[] = [];
      const scores: number[] = [];
      for (let i = 0; i < n; i++) {
        members.push(readString(r));
        scores.push(type === C.RDB_TYPE_ZSET_2 ? r.f64le() : readTextDouble(r));
      }
      return n === 0 ? null : buildZSet(members, scores, limits);
    }

    case C.RDB_TYPE_HASH: {
      const n = readLen(r);
      const pairs: string[] = [];
      for (let i = 0; i < n; i++) pairs.push(readString(r), readString(r));
      return n === 0 ? null : buildHash(pairs, limits);
    }

    case C.RDB_TYPE_HASH_ZIPMAP: {
      const pairs = readZipmap(readBlob(r));
      return pairs.length === 0 ? null : buildHash(pairs, limits);
    }

    case C.RDB_TYPE_LIST_ZIPLIST: {
      const items = typedBlob('List', () => readZiplist(readBlob(r))).map(elementString);
      return items.length === 0 ? null : ListValue.from(items);
    }

    case C.RDB_TYPE_SET_INTSET: {
      const members = readIntset(readBlob(r));
      return members.length === 0 ? null : buildSet(members, limits);
    }

    case C.RDB_TYPE_ZSET_ZIPLIST:
    case C.RDB_TYPE_ZSET_LISTPACK: {
      const blob = readBlob(r);
      if (type === C.RDB_TYPE_ZSET_LISTPACK) {
        const els = typedBlob('Zset', () => readListpack(blob));
        return els.length === 0 ? null : zsetFromElements(els, limits);
      }
      // A ziplist is always checked deep, pairs and duplicates included (Redis converts it).
      return typedBlob('Zset', () => {
        const els = readZiplist(blob);
        return els.length === 0 ? null : zsetFromElements(els, limits);
      }, 'Ziplist');
    }

    case C.RDB_TYPE_HASH_ZIPLIST:
    case C.RDB_TYPE_HASH_LISTPACK: {
      const blob = readBlob(r);
      if (type === C.RDB_TYPE_HASH_LISTPACK) {
        const els = typedBlob('Hash', () => readListpack(blob));
        return els.length === 0 ? null : buildHash(els.map(elementString), limits);
      }
      return typedBlob('Hash', () => {
        const els = readZiplist(blob);
        return els.length === 0 ? null : buildHash(els.map(elementString), limits);
      }, 'Ziplist');
    }

    case C.RDB_TYPE_LIST_QUICKLIST:
    case C.RDB_TYPE_LIST_QUICKLIST_2: {
      const nodes = readLen(r);
      const items: string[] = [];
      for (let i = 0; i < nodes; i++) {
        let container = C.QUICKLIST_NODE_CONTAINER_PACKED;
        if (type === C.RDB_TYPE_LIST_QUICKLIST_2) {
          container = readLen(r);
          if (container !== C.QUICKLIST_NODE_CONTAINER_PACKED && container !== C.QUICKLIST_NODE_CONTAINER_PLAIN) {
            corrupt(`Quicklist integrity check failed: unknown node container ${container}`);
          }
        }
        const blob = readBlob(r);
        // Redis refuses a node of zero bytes, plain or packed.
        if (blob.length === 0) corrupt('Quicklist node of zero length');
        if (container === C.QUICKLIST_NODE_CONTAINER_PLAIN) {
          items.push(blob.latin1Slice(0, blob.length));
          continue;
        }
        const els = type === C.RDB_TYPE_LIST_QUICKLIST_2 ? readListpack(blob) : readZiplist(blob);
        // Redis silently skips empty nodes.
        for (const e of els) items.push(elementString(e));
      }
      return items.length === 0 ? null : ListValue.from(items);
    }

    case C.RDB_TYPE_STREAM_LISTPACKS:
    case C.RDB_TYPE_STREAM_LISTPACKS_2:
      return readStream(r, type);

    case C.RDB_TYPE_MODULE:
      return corrupt('The RDB file contains a pre-release module value (RDB_TYPE_MODULE), which cannot be loaded');

    case C.RDB_TYPE_MODULE_2: {
      const id = readLenU64(r);
      return corrupt(`The RDB file contains a value of module type '${moduleName(id)}', which Mnemo cannot load (no modules)`);
    }

    default:
      return corrupt(`Unknown RDB value type ${type}`);
  }
}
