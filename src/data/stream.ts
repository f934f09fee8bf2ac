/**
 * The stream type: entries in ID order, consumer groups and their pending
 * entries lists (PELs), with Redis 7.0's counters (entries-added,
 * max-deleted-entry-id, recorded-first-entry-id).
 *
 * IDs are `<ms>-<seq>` with two unsigned 64-bit parts. A part is held as a JS
 * number while it is a safe integer (the usual case, so XADD * never touches
 * BigInt) and as a bigint above 2^53; `U64` values are always normalised that
 * way, so `===` compares them. Relational operators compare mixed number and
 * bigint exactly.
 *
 * Layout (mirrors Redis's rax of listpacks, so `~` trimming and the node
 * counts of XINFO match Redis for the same history):
 *  - entries live in nodes of up to `stream-node-max-entries` entries, closed
 *    when the emulated listpack size reaches `stream-node-max-bytes`; the
 *    nodes are an array sorted by first ID (binary search, O(1) append);
 *  - a node keeps each entry as bytes in a latin1 string: its ID as varint
 *    distances from the node's first ID, then the values (integers as integers), the
 *    field names omitted when they equal the node's master fields as Redis
 *    does. A full node is one flat string with an offset table (see
 *    StreamNode). A sealed node whose entries LZF-compress to 3/4 or less
 *    keeps only the compressed bytes, in chunks of 32 entries, a chunk being
 *    inflated again when read, into a small ring of recently read chunks (see
 *    "Compressed nodes" below);
 *  - deleted entries stay in their node flagged as deleted until the node
 *    empties, exactly as Redis's listpacks keep tombstones.
 * The emulated listpack byte size (`lpBytes`) follows listpack.c's encoding
 * rules, because Redis decides node boundaries on it.
 */
import type { AggregateValue } from './values.js';
import { parseInt64, parseInteger } from '../util/numbers.js';
import { lzfCompress, lzfDecompress } from '../persistence/rdb/lzf.js';

// ---- 64-bit ID parts --------------------------------------------------------------

export type U64 = number | bigint;
export const U64_MAX = 18446744073709551615n;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;
const TWO32 = 4294967296;

export interface StreamID {
  ms: U64;
  seq: U64;
}

export const ZERO_ID: StreamID = { ms: 0, seq: 0 };
export const MAX_ID: StreamID = { ms: U64_MAX, seq: U64_MAX };

/** A bigint as a U64: a number when it is a safe integer. */
export function normU64(x: bigint): U64 {
  return x <= 9007199254740991n ? Number(x) : x;
}

function isMaxU64(x: U64): boolean {
  return typeof x === 'bigint' && x === U64_MAX;
}

function incU64(x: U64): U64 {
  if (typeof x === 'number') return x < SAFE_MAX ? x + 1 : BigInt(x) + 1n;
  return x + 1n;
}

function decU64(x: U64): U64 {
  return typeof x === 'number' ? x - 1 : normU64(x - 1n);
}

export function cmpId(a: StreamID, b: StreamID): number {
  if (a.ms < b.ms) return -1;
  if (a.ms > b.ms) return 1;
  if (a.seq < b.seq) return -1;
  if (a.seq > b.seq) return 1;
  return 0;
}

export function isZeroId(id: StreamID): boolean {
  return id.ms === 0 && id.seq === 0;
}

export function isMaxId(id: StreamID): boolean {
  return isMaxU64(id.ms) && isMaxU64(id.seq);
}

export function idToString(id: StreamID): string {
  return String(id.ms) + '-' + String(id.seq);
}

/** The next ID, or null after MAX-MAX (Redis's streamIncrID failing). */
export function incrId(id: StreamID): StreamID | null {
  if (isMaxU64(id.seq)) {
    if (isMaxU64(id.ms)) return null;
    return { ms: incU64(id.ms), seq: 0 };
  }
  return { ms: id.ms, seq: incU64(id.seq) };
}

/** The previous ID, or null before 0-0 (streamDecrID failing). */
export function decrId(id: StreamID): StreamID | null {
  if (id.seq === 0) {
    if (id.ms === 0) return null;
    return { ms: decU64(id.ms), seq: U64_MAX };
  }
  return { ms: id.ms, seq: decU64(id.seq) };
}

function hiWord(x: U64): number {
  return typeof x === 'number' ? Math.floor(x / TWO32) : Number(x >> 32n);
}

function loWord(x: U64): number {
  return typeof x === 'number' ? x >>> 0 : Number(x & 0xffffffffn);
}

function fromWords(hi: number, lo: number): U64 {
  return hi < 0x200000 ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

/** An ID as its two parts and the four u32 words a pending entries list compares. */
class IdWords {
  ms: U64 = 0;
  seq: U64 = 0;
  a = 0;
  b = 0;
  c = 0;
  d = 0;
  set(id: StreamID): this {
    this.ms = id.ms;
    this.seq = id.seq;
    this.a = hiWord(id.ms);
    this.b = loWord(id.ms);
    this.c = hiWord(id.seq);
    this.d = loWord(id.seq);
    return this;
  }
}

/** Compares the four words at w[at..] with `t`. */
function cmpWords(w: Uint32Array, at: number, t: IdWords): number {
  let x = w[at];
  if (x !== t.a) return x < t.a ? -1 : 1;
  x = w[at + 1];
  if (x !== t.b) return x < t.b ? -1 : 1;
  x = w[at + 2];
  if (x !== t.c) return x < t.c ? -1 : 1;
  x = w[at + 3];
  if (x !== t.d) return x < t.d ? -1 : 1;
  return 0;
}

function idFromWords(w: Uint32Array, at: number): StreamID {
  return { ms: fromWords(w[at], w[at + 1]), seq: fromWords(w[at + 2], w[at + 3]) };
}

// ---- ID parsing (streamGenericParseIDOrReply) ----------------------------------------

/** C-string view of an argument: Redis's parsers stop at the first NUL byte. */
export function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Redis's string2ull: string2ll when it parses (negative refused), else glibc
 * strtoull in base 10 over the whole string, which also takes leading
 * whitespace, a '+' or '-' sign (negation wraps modulo 2^64) and leading zeros.
 */
export function parseU64(s: string): U64 | null {
  const ll = parseInteger(s);
  if (ll !== null) {
    if (ll < 0) return null;
    return typeof ll === 'bigint' ? normU64(ll) : ll;
  }
  let i = 0;
  const n = s.length;
  while (i < n && isCSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) {
    neg = s.charCodeAt(i) === 45;
    i++;
  }
  const digitsStart = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    i++;
  }
  if (i === digitsStart) return null;
  let v = BigInt(s.slice(digitsStart));
  if (v > U64_MAX) return null;
  if (neg) v = (U64_MAX + 1n - v) & U64_MAX;
  return normU64(v);
}

export interface ParsedId {
  id: StreamID;
  /** False for the `<ms>-*` form (only when allowed). */
  seqGiven: boolean;
}

/**
 * Parses a stream ID argument. `strict` refuses "-" and "+"; `missingSeq` is
 * the sequence of a bare `<ms>`; `allowSeqStar` accepts `<ms>-*` (XADD).
 */
export function parseStreamId(arg: string, missingSeq: U64, strict: boolean, allowSeqStar = false): ParsedId | null {
  if (arg.length > 127) return null;
  const s = cstr(arg);
  if (s === '-') return strict ? null : { id: ZERO_ID, seqGiven: true };
  if (s === '+') return strict ? null : { id: MAX_ID, seqGiven: true };
  const dash = s.indexOf('-');
  const ms = parseU64(dash < 0 ? s : s.slice(0, dash));
  if (ms === null) return null;
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const rest = s.slice(dash + 1);
  if (allowSeqStar && rest === '*') return { id: { ms, seq: 0 }, seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) return null;
  return { id: { ms, seq }, seqGiven: true };
}

// ---- emulated listpack sizes ------------------------------------------------------------

/** Bytes of a listpack integer element (encoding + 1 byte of back-length). */
function lpIntSize(v: number | bigint): number {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

function lpBacklenSize(len: number): number {
  if (len < 128) return 1;
  if (len < 16384) return 2;
  if (len < 2097152) return 3;
  if (len < 268435456) return 4;
  return 5;
}

/** Bytes of a listpack element holding `s` (stored as an integer when it is one). */
function lpStrSize(s: string): number {
  const n = s.length;
  if (n > 0 && n <= 20) {
    const v = parseInt64(s);
    if (v !== null) return lpIntSize(v);
  }
  const enc = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
  return enc + lpBacklenSize(enc);
}

/** Size class of the int64 (a - b) mod 2^64, as the listpack stores ID deltas. */
function lpDeltaSize(a: U64, b: U64): number {
  if (typeof a === 'number' && typeof b === 'number') return lpIntSize(a - b);
  return lpIntSize(BigInt.asIntN(64, BigInt(a) - BigInt(b)));
}

const LP_HEADER_AND_END = 7;
/** STREAM_LISTPACK_MAX_SIZE: a node never exceeds 1 GB. */
export const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

// ---- nodes ---------------------------------------------------------------------------------

/** Bit 0 of an entry's header: its field names are the node's master fields. */
const FLAG_SAMEFIELDS = 1;
/** Bit 1: the ID follows as four raw u32 words (IDs beyond 2^53 or far from the master). */
const FLAG_WIDE = 2;
/** Largest ms distance from the master a compact header holds (delta * 4 + flags stays a safe integer). */
const MAX_COMPACT_DELTA = 2 ** 51 - 1;
/** Sealed nodes whose entry bytes reach this size use 4-byte offsets, else 2-byte. */
const WIDE_OFFSETS_FROM = 65536;

/**
 * Compressed nodes. Most streams repeat themselves from entry to entry (the
 * same event types, statuses, JSON keys, IDs one apart), so a sealed node's
 * entries are LZF-compressed (the algorithm Redis uses for RDB strings and
 * quicklist nodes), CHUNK entries at a time: 1,000,000 `XADD * field1 value1
 * field2 value2` take about 6 bytes an entry instead of 18. A node is kept
 * compressed only when that saves a quarter or more, so nodes of random
 * values stay plain and cost nothing to read. A read inflates the one chunk
 * it needs (well under a microsecond for 32 small entries), which stays
 * inflated while it is among the last INFLATED_RING chunks inflated: tail
 * readers and ranges walking forward inflate each chunk once. Nodes of about
 * 60 KB or more (large values, where per-entry overhead is small) stay plain.
 */
const CHUNK_SHIFT = 5;
const CHUNK = 1 << CHUNK_SHIFT;
const INFLATED_RING = 256;
/** Below 64 KB with room for a chunk's lengths, so every size in a chunk's header fits 2 bytes. */
const COMPRESS_BELOW = 60000;
/** The inflated chunks, as (node, chunk) pairs, oldest overwritten first. */
const ringNodes: (StreamNode | null)[] = new Array(INFLATED_RING).fill(null);
const ringChunks = new Int32Array(INFLATED_RING);
let ringNext = 0;
/** Scratch for LZF input and output: a chunk's lengths (at most 3 bytes an entry) and entry bytes. */
const lzfIn = Buffer.allocUnsafe(COMPRESS_BELOW + 4 * CHUNK);
const lzfOut = Buffer.allocUnsafe(COMPRESS_BELOW + 4 * CHUNK);

/** Drops every inflated chunk, so the next read of each compressed node inflates again (tests use it). */
export function dropInflatedNodes(): void {
  for (let i = 0; i < INFLATED_RING; i++) keepInflated(null, 0);
}

/** Records that chunk `c` of `node` is inflated; the oldest recorded chunk drops its text. */
function keepInflated(node: StreamNode | null, c: number): void {
  const old = ringNodes[ringNext];
  const oldC = ringChunks[ringNext];
  if (old !== null && old.chunkTexts !== null && (old !== node || oldC !== c)) old.chunkTexts[oldC] = undefined;
  ringNodes[ringNext] = node;
  ringChunks[ringNext] = c;
  ringNext = (ringNext + 1) % INFLATED_RING;
}

/** One-character strings for byte values: short varints cost no allocation. */
const BYTE_CHARS: string[] = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i));

function varintString(n: number): string {
  if (n < 128) return BYTE_CHARS[n];
  let s = '';
  while (n >= 128) {
    s += BYTE_CHARS[(n % 128) | 0x80];
    n = Math.floor(n / 128);
  }
  return s + BYTE_CHARS[n];
}

function wordString(w: number): string {
  return BYTE_CHARS[w >>> 24] + BYTE_CHARS[(w >>> 16) & 255] + BYTE_CHARS[(w >>> 8) & 255] + BYTE_CHARS[w & 255];
}

/** A sealed node's offset table: the start of each entry, 2 bytes each (4 when `wide`), big-endian. */
function offsetTable(starts: readonly number[], wide: boolean): string {
  const codes: number[] = [];
  const table: string[] = [];
  for (let i = 0; i < starts.length; i++) {
    const off = starts[i];
    if (wide) codes.push(off >>> 24, (off >>> 16) & 255, (off >>> 8) & 255, off & 255);
    else codes.push(off >>> 8, off & 255);
    if (codes.length >= 4096) {
      table.push(String.fromCharCode.apply(null, codes));
      codes.length = 0;
    }
  }
  table.push(String.fromCharCode.apply(null, codes));
  return table.join('');
}

/**
 * The entry decoder's state: the string and position it reads, and the ID of
 * the last entry decoded. Module-level so decoding allocates nothing; every
 * read finishes before control leaves this module.
 */
let dStr = '';
let dPos = 0;
let dMs: U64 = 0;
let dSeq: U64 = 0;
/**
 * The entry decoded last, so a range's compare, ID and fields reads of one
 * entry decode it once. Valid because an entry's bytes never change once
 * written (sealing copies them; the strings read stay as they were).
 */
let cNode: StreamNode | null = null;
let cIndex = -1;
let cPos = 0;
let cFlags = 0;

function readVarint(): number {
  let b = dStr.charCodeAt(dPos++);
  if (b < 128) return b;
  let v = b & 0x7f;
  let mul = 128;
  for (;;) {
    b = dStr.charCodeAt(dPos++);
    v += (b & 0x7f) * mul;
    if (b < 128) return v;
    // charCodeAt past the end is NaN, which would loop forever: an internal bug, not bad input.
    if (dPos > dStr.length) throw new Error('stream node decoding ran past the end of its bytes');
    mul *= 128;
  }
}

function readWord(): number {
  const s = dStr;
  const p = dPos;
  dPos = p + 4;
  return ((s.charCodeAt(p) << 24) | (s.charCodeAt(p + 1) << 16) | (s.charCodeAt(p + 2) << 8) | s.charCodeAt(p + 3)) >>> 0;
}

/** Reads a string stored by storedString. */
function readString(): string {
  const h = readVarint();
  if (h % 2 === 0) {
    const p = dPos;
    dPos = p + h / 2;
    return dStr.slice(p, dPos);
  }
  const z = (h - 1) / 2;
  return String(z % 2 === 0 ? z / 2 : -(z + 1) / 2);
}

/** Magnitudes below this are stored as integers: zigzag(n) * 2 + 1 stays a safe integer. */
const INT_VALUE_LIMIT = 2 ** 50;

/** The integer `v` spells exactly as String(n) would (no sign on 0, no leading zeros), or null. */
function canonicalInt(v: string): number | null {
  const len = v.length;
  if (len === 0 || len > 16) return null;
  let i = 0;
  const neg = v.charCodeAt(0) === 45;
  if (neg) {
    if (len === 1) return null;
    i = 1;
  }
  if (v.charCodeAt(i) === 48) return len === 1 ? 0 : null;
  let n = 0;
  for (; i < len; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  if (n >= INT_VALUE_LIMIT) return null;
  return neg ? -n : n;
}

/**
 * A field or value as a node stores it: a varint `length * 2` and the bytes,
 * or, for an integer in canonical form, the varint `zigzag(n) * 2 + 1` (as a
 * listpack stores integer-looking strings as integers: "1700000000123"
 * takes 6 bytes instead of 14). String(n) gives the original back.
 */
function storedString(v: string): string {
  const n = canonicalInt(v);
  if (n === null) return varintString(v.length * 2) + v;
  return varintString((n >= 0 ? n * 2 : -n * 2 - 1) * 2 + 1);
}

/** Reads an entry's ID (relative to its node's master `f`) into dMs/dSeq; returns the entry's header. */
function readId(f: StreamID): number {
  const h = readVarint();
  if ((h & FLAG_WIDE) !== 0) {
    const a = readWord();
    const b = readWord();
    const c = readWord();
    const d = readWord();
    dMs = fromWords(a, b);
    dSeq = fromWords(c, d);
  } else {
    const delta = Math.floor(h / 4);
    const seq = readVarint();
    if (delta === 0) {
      dMs = f.ms;
      dSeq = (f.seq as number) + seq;
    } else {
      dMs = (f.ms as number) + delta;
      dSeq = seq;
    }
  }
  return h;
}

/** Where chunkInfo found a chunk in `packed`: its header entry and its compressed bytes. */
let zHead = 0;
let zData = 0;

/** Sign of a - b for normalised U64 values (equal values have the same representation). */
function cmpU64(a: U64, b: U64): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * One listpack's worth of entries. Entry 0 is the node's first (master) ID
 * forever. Each entry is encoded as bytes in a latin1 string:
 *  - a varint header: `msDelta * 4 + flags`, msDelta being the ms distance
 *    from the master ID; then a varint sequence, relative to the master's when
 *    msDelta is 0. IDs that do not fit (parts beyond 2^53, a huge distance)
 *    set FLAG_WIDE and follow as four big-endian u32 words;
 *  - the values (see storedString: a varint length and the bytes, or an
 *    integer), when the field names are the master's (FLAG_SAMEFIELDS, as
 *    Redis omits them); otherwise a varint field count and every field and value.
 * While the node is open (the tail) its entries are separate strings, so an
 * append copies nothing; sealing joins them into one flat string followed by
 * an offset table (2 bytes an entry, 4 in nodes of 64 KB or more) for
 * O(1) access to entry i and binary search over IDs. A sealed node may then
 * keep only its entries LZF-compressed (`packed`; see "Compressed nodes"), a
 * chunk's text (its offset table, then its entries) being rebuilt when read.
 * Deleted flags live apart, allocated at the node's first deletion, because
 * the strings are immutable.
 */
export class StreamNode {
  /** Encoded entries while the node is open, one string each; null once sealed. */
  parts: string[] | null = [];
  /** Sealed and plain: every entry's bytes, then the offset table ('' when compressed). */
  text = '';
  /**
   * Sealed and compressed, else null: the header's length (2 bytes), then for
   * each chunk of CHUNK entries its compressed and raw sizes (2 bytes each,
   * big-endian) and its first entry's ID bytes (a length byte, then the ID
   * as stored; none for chunk 0), then the chunks, each the LZF of its
   * entries' lengths (one byte, or 255 and two) and their bytes.
   */
  packed: string | null = null;
  /** The inflated chunks' texts (2-byte offsets of its entries, then the entries), by chunk. */
  chunkTexts: (string | undefined)[] | null = null;
  /** Bytes of encoded entries (where the sealed offset table starts). */
  dataLen = 0;
  /** Entries stored, deleted ones included. */
  count = 0;
  /** Entries not deleted (the listpack's master "count"). */
  live = 0;
  /** Deleted flag per entry, or null while nothing was deleted. */
  deleted: Uint8Array | null = null;
  /** Field names of the first entry: later entries with the same names store values only. */
  fields: string[];
  /** Emulated size of Redis's listpack for this node. */
  lpBytes = 0;
  /** ID of entry 0 (the listpack's master ID, its key in Redis's radix tree). */
  first: StreamID = ZERO_ID;

  constructor(fields: string[]) {
    this.fields = fields;
  }

  /** Points the decoder at entry i's bytes. */
  private seek(i: number): void {
    const parts = this.parts;
    if (parts !== null) {
      dStr = parts[i];
      dPos = 0;
      return;
    }
    if (this.packed !== null) {
      const c = i >>> CHUNK_SHIFT;
      const texts = this.chunkTexts;
      let t = texts === null ? undefined : texts[c];
      if (t === undefined) t = this.inflateChunk(c);
      dStr = t;
      const j = (i & (CHUNK - 1)) * 2;
      dPos = (t.charCodeAt(j) << 8) | t.charCodeAt(j + 1);
      return;
    }
    const s = this.text;
    dStr = s;
    if (this.dataLen < WIDE_OFFSETS_FROM) {
      const p = this.dataLen + 2 * i;
      dPos = (s.charCodeAt(p) << 8) | s.charCodeAt(p + 1);
    } else {
      dPos = this.dataLen + 4 * i;
      dPos = readWord();
    }
  }

  /** Decodes entry i's ID into dMs/dSeq and leaves dPos at its fields; returns its flags. */
  private decode(i: number): number {
    if (this === cNode && i === cIndex) {
      dPos = cPos;
      return cFlags;
    }
    this.seek(i);
    const h = readId(this.first);
    cNode = this;
    cIndex = i;
    cPos = dPos;
    cFlags = h & 3;
    return cFlags;
  }

  idAt(i: number): StreamID {
    this.decode(i);
    return { ms: dMs, seq: dSeq };
  }

  isDeleted(i: number): boolean {
    const d = this.deleted;
    return d !== null && d[i] === 1;
  }

  markDeleted(i: number): void {
    let d = this.deleted;
    if (d === null || d.length <= i) {
      const next = new Uint8Array(Math.max(this.count, i + 1));
      if (d !== null) next.set(d);
      this.deleted = d = next;
    }
    d[i] = 1;
  }

  /** Compares entry i's ID with t. */
  cmpAt(i: number, t: IdWords): number {
    this.decode(i);
    return cmpU64(dMs, t.ms) || cmpU64(dSeq, t.seq);
  }

  /** Field/value pairs of entry i, flattened. */
  fieldsAt(i: number): string[] {
    const flags = this.decode(i);
    const out: string[] = [];
    if ((flags & FLAG_SAMEFIELDS) !== 0) {
      const f = this.fields;
      for (let k = 0; k < f.length; k++) {
        out.push(f[k]);
        out.push(readString());
      }
    } else {
      const n = readVarint();
      for (let k = 0; k < 2 * n; k++) out.push(readString());
    }
    return out;
  }

  /** Number of field/value pairs of entry i. */
  numFieldsAt(i: number): number {
    if (this.sameFields(i)) return this.fields.length;
    return readVarint();
  }

  /** Whether entry i is stored with the master field names (leaves the decoder at its fields). */
  sameFields(i: number): boolean {
    return (this.decode(i) & FLAG_SAMEFIELDS) !== 0;
  }

  /** Index of the first entry (deleted ones included) with ID >= t, or count. */
  lowerBound(t: IdWords): number {
    let lo = 0;
    let hi = this.count;
    if (this.packed !== null && hi > CHUNK) {
      // By the chunks' first IDs (kept apart), so only one chunk is inflated.
      const a = this.chunksStartingBelow(t, false);
      if (a === 0) return 0;
      lo = ((a - 1) << CHUNK_SHIFT) + 1;
      hi = Math.min(hi, a << CHUNK_SHIFT);
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmpAt(mid, t) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the last entry with ID <= t, or -1. */
  upperBoundLast(t: IdWords): number {
    let lo = 0;
    let hi = this.count;
    if (this.packed !== null && hi > CHUNK) {
      const a = this.chunksStartingBelow(t, true);
      if (a === 0) return -1;
      lo = (a - 1) << CHUNK_SHIFT;
      hi = Math.min(hi, a << CHUNK_SHIFT);
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmpAt(mid, t) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Chunks of CHUNK entries (the last one maybe shorter). */
  private chunkCount(): number {
    return (this.count + CHUNK - 1) >>> CHUNK_SHIFT;
  }

  /** How many chunks of a compressed node start below t (or at t too, with `orAt`): a binary search on the header. */
  private chunksStartingBelow(t: IdWords, orAt: boolean): number {
    let a = 0;
    let b = this.chunkCount();
    while (a < b) {
      const mid = (a + b) >>> 1;
      const r = this.cmpChunkFirst(mid, t);
      if (r < 0 || (orAt && r === 0)) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /** Compares the first ID of chunk c of a compressed node with t, from the chunk's header. */
  private cmpChunkFirst(c: number, t: IdWords): number {
    if (c === 0) return this.cmpFirst(t);
    this.chunkInfo(c);
    cNode = null; // the decoder leaves the entry it cached
    dStr = this.packed!;
    dPos = zHead + 5;
    readId(this.first);
    return cmpU64(dMs, t.ms) || cmpU64(dSeq, t.seq);
  }

  /** Sets zHead and zData to chunk c's header entry and compressed bytes in `packed`. */
  private chunkInfo(c: number): void {
    const z = this.packed!;
    let head = 2;
    let data = (z.charCodeAt(0) << 8) | z.charCodeAt(1);
    for (let k = 0; k < c; k++) {
      data += (z.charCodeAt(head) << 8) | z.charCodeAt(head + 1);
      head += 5 + z.charCodeAt(head + 4);
    }
    zHead = head;
    zData = data;
  }

  cmpFirst(t: IdWords): number {
    const f = this.first;
    return cmpU64(f.ms, t.ms) || cmpU64(f.seq, t.seq);
  }

  /** Appends an entry (the node must be open); `same` says its field names equal the master fields. */
  push(id: StreamID, argv: readonly string[], from: number, numFields: number, same: boolean): void {
    if (this.count === 0) this.first = id;
    const f = this.first;
    const flag = same ? FLAG_SAMEFIELDS : 0;
    const { ms, seq } = id;
    let s: string;
    if (
      typeof ms === 'number' && typeof seq === 'number' && typeof f.ms === 'number' && typeof f.seq === 'number' &&
      ms >= f.ms && ms - f.ms <= MAX_COMPACT_DELTA && (ms !== f.ms || seq >= f.seq)
    ) {
      const delta = ms - f.ms;
      s = varintString(delta * 4 + flag) + varintString(delta === 0 ? seq - f.seq : seq);
    } else {
      s = BYTE_CHARS[FLAG_WIDE | flag] + wordString(hiWord(ms)) + wordString(loWord(ms)) + wordString(hiWord(seq)) + wordString(loWord(seq));
    }
    if (same) {
      for (let k = 0; k < numFields; k++) {
        s += storedString(argv[from + 2 * k + 1]);
      }
    } else {
      s += varintString(numFields);
      for (let k = from; k < from + 2 * numFields; k++) s += storedString(argv[k]);
    }
    this.parts!.push(s);
    this.dataLen += s.length;
    this.count++;
    this.live++;
  }

  /**
   * Makes a sealed node appendable again: when XDEL empties the node after it,
   * it is the tail once more and takes new entries while it has room (Redis
   * appends to the last listpack whatever its past).
   */
  reopen(): void {
    if (this.parts !== null) return;
    cNode = null;
    const count = this.count;
    const parts: string[] = new Array(count);
    for (let i = 0; i < count; i++) {
      this.seek(i);
      const str = dStr;
      const start = dPos;
      let end: number;
      if (this.packed !== null) {
        // The next offset of the same chunk, or the chunk's end.
        const j = (i & (CHUNK - 1)) + 1;
        end = j < CHUNK && i + 1 < count ? (str.charCodeAt(2 * j) << 8) | str.charCodeAt(2 * j + 1) : str.length;
      } else {
        end = i + 1 < count ? this.plainOffset(i + 1) : this.dataLen;
      }
      parts[i] = str.slice(start, end);
    }
    this.parts = parts;
    this.text = '';
    this.packed = null;
    this.chunkTexts = null;
  }

  /** Start of entry i in a plain sealed node below 64 KB (its 2-byte offset table). */
  private plainOffset(i: number): number {
    const p = this.dataLen + 2 * i;
    return (this.text.charCodeAt(p) << 8) | this.text.charCodeAt(p + 1);
  }

  /** Closes a full node: its entries joined into one flat string with the offset table (Redis's lpShrinkToFit). */
  seal(): void {
    const parts = this.parts;
    if (parts === null) return;
    const starts: number[] = new Array(parts.length);
    let off = 0;
    for (let i = 0; i < parts.length; i++) {
      starts[i] = off;
      off += parts[i].length;
    }
    // One join: a flat one-byte string, not a rope of the parts.
    parts.push(offsetTable(starts, this.dataLen >= WIDE_OFFSETS_FROM));
    this.text = parts.join('');
    this.parts = null;
    this.compress();
  }

  /** Keeps the entries LZF-compressed, by chunk, when that saves a quarter or more (see "Compressed nodes"). */
  private compress(): void {
    const n = this.dataLen;
    if (n >= COMPRESS_BELOW || n < 64) return;
    const text = this.text;
    const count = this.count;
    const chunks = this.chunkCount();
    const header: number[] = [];
    const pieces: string[] = [''];
    const budget = n - (n >> 2);
    let total = 2;
    cNode = null; // the decoder reads the IDs below
    for (let c = 0; c < chunks; c++) {
      const from = c << CHUNK_SHIFT;
      const to = Math.min(count, from + CHUNK);
      const start = this.plainOffset(from);
      // The header keeps each chunk's first ID as stored (chunk 0's is the node's master).
      let idLen = 0;
      if (c > 0) {
        dStr = text;
        dPos = start;
        readId(this.first);
        idLen = dPos - start;
      }
      // Alike entries make the lengths compress to almost nothing; they spare inflateChunk a walk.
      let p = 0;
      let end = start;
      for (let i = from; i < to; i++) {
        const next = i + 1 < count ? this.plainOffset(i + 1) : n;
        const len = next - end;
        end = next;
        if (len < 255) lzfIn[p++] = len;
        else {
          lzfIn[p++] = 255;
          lzfIn[p++] = len >>> 8;
          lzfIn[p++] = len & 255;
        }
      }
      p += lzfIn.latin1Write(text.slice(start, end), p);
      // Room for LZF's worst case (one control byte per 32 literals), so it always fits.
      const z = lzfCompress(lzfIn.subarray(0, p), p + (p >> 5) + 16);
      if (z === null) return;
      total += z.length + 5 + idLen;
      if (total > budget) return;
      header.push(z.length >>> 8, z.length & 255, p >>> 8, p & 255, idLen);
      for (let k = 0; k < idLen; k++) header.push(text.charCodeAt(start + k));
      pieces.push(z.latin1Slice(0, z.length));
    }
    const headerLen = 2 + header.length;
    pieces[0] = String.fromCharCode.apply(null, [headerLen >>> 8, headerLen & 255, ...header]);
    this.packed = pieces.join('');
    this.chunkTexts = null;
    this.text = '';
  }

  /** Rebuilds chunk c's text from `packed`: its offset table (from the stored lengths), then its entries. */
  private inflateChunk(c: number): string {
    const z = this.packed!;
    const chunks = this.chunkCount();
    this.chunkInfo(c);
    const clen = (z.charCodeAt(zHead) << 8) | z.charCodeAt(zHead + 1);
    const raw = (z.charCodeAt(zHead + 2) << 8) | z.charCodeAt(zHead + 3);
    lzfIn.latin1Write(z.slice(zData, zData + clen), 0);
    lzfDecompress(lzfIn.subarray(0, clen), raw, lzfOut);
    const m = Math.min(CHUNK, this.count - (c << CHUNK_SHIFT));
    // The table goes to lzfIn (free again), the entries after it.
    let p = 0;
    let pos = 2 * m;
    for (let j = 0; j < m; j++) {
      lzfIn[2 * j] = pos >>> 8;
      lzfIn[2 * j + 1] = pos & 255;
      let len = lzfOut[p++];
      if (len === 255) {
        len = (lzfOut[p] << 8) | lzfOut[p + 1];
        p += 2;
      }
      pos += len;
    }
    lzfOut.copy(lzfIn, 2 * m, p, raw);
    const t = lzfIn.latin1Slice(0, 2 * m + raw - p);
    (this.chunkTexts ??= new Array(chunks))[c] = t;
    keepInflated(this, c);
    return t;
  }

  clone(): StreamNode {
    const n = new StreamNode(this.fields);
    n.parts = this.parts === null ? null : this.parts.slice();
    n.packed = this.packed;
    // A compressed copy inflates its own chunks when read, so no text outlives the ring.
    n.text = this.text;
    n.dataLen = this.dataLen;
    n.count = this.count;
    n.live = this.live;
    n.deleted = this.deleted === null ? null : this.deleted.slice();
    n.lpBytes = this.lpBytes;
    n.first = this.first;
    return n;
  }
}

// ---- pending entries lists --------------------------------------------------------------

/** A delivered, not yet acknowledged entry (Redis's streamNACK), shared by the group and consumer PELs. */
export class PendingEntry {
  constructor(
    public consumer: Consumer | null,
    public deliveryTime: number,
    public deliveryCount: number,
  ) {}
}

/**
 * An ordered map from stream ID to V: IDs as u32 words in one typed array,
 * binary search for lookups. Entries mostly arrive in increasing ID order
 * (appended in O(1)); removals leave a tombstone, the ends are trimmed at once
 * and the array compacts when half of it is tombstones, so removal is O(log n)
 * amortised. Middle insertions (XCLAIM FORCE, SETID backwards) shift.
 */
export class IdMap<V> {
  private w = new Uint32Array(0);
  private vals: (V | undefined)[] = [];
  /** Slots used, tombstones included. */
  private n = 0;
  /** First slot that may be live. */
  private head = 0;
  private dead = 0;
  size = 0;

  private static t = new IdWords();

  private lowerBound(t: IdWords): number {
    let lo = this.head;
    let hi = this.n;
    const w = this.w;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpWords(w, mid * 4, t) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(id: StreamID): V | undefined {
    const t = IdMap.t.set(id);
    const i = this.lowerBound(t);
    if (i < this.n && cmpWords(this.w, i * 4, t) === 0) return this.vals[i];
    return undefined;
  }

  has(id: StreamID): boolean {
    return this.get(id) !== undefined;
  }

  set(id: StreamID, v: V): void {
    const t = IdMap.t.set(id);
    const n = this.n;
    if (n === this.head || cmpWords(this.w, (n - 1) * 4, t) < 0) {
      this.reserve(n + 1);
      this.writeKey(n, t);
      this.vals[n] = v;
      this.n = n + 1;
      this.size++;
      return;
    }
    const i = this.lowerBound(t);
    if (i < n && cmpWords(this.w, i * 4, t) === 0) {
      if (this.vals[i] === undefined) {
        this.dead--;
        this.size++;
      }
      this.vals[i] = v;
      return;
    }
    if (i === this.head && this.head > 0) {
      // Reuse the tombstone slot before the head.
      this.head--;
      this.dead--;
      this.writeKey(this.head, t);
      this.vals[this.head] = v;
      this.size++;
      return;
    }
    this.reserve(n + 1);
    this.w.copyWithin((i + 1) * 4, i * 4, n * 4);
    this.vals.splice(i, 0, v);
    this.writeKey(i, t);
    this.n = n + 1;
    this.size++;
  }

  delete(id: StreamID): V | undefined {
    const t = IdMap.t.set(id);
    const i = this.lowerBound(t);
    if (i >= this.n || cmpWords(this.w, i * 4, t) !== 0) return undefined;
    const v = this.vals[i];
    if (v === undefined) return undefined;
    this.vals[i] = undefined;
    this.size--;
    this.dead++;
    while (this.head < this.n && this.vals[this.head] === undefined) this.head++;
    while (this.n > this.head && this.vals[this.n - 1] === undefined) {
      this.n--;
      this.dead--;
      this.vals.pop();
    }
    if (this.head === this.n) this.clear();
    else if (this.dead > 32 && this.dead * 2 > this.n) this.compact();
    return v;
  }

  private clear(): void {
    this.w = new Uint32Array(0);
    this.vals = [];
    this.n = this.head = this.dead = this.size = 0;
  }

  private compact(): void {
    let j = 0;
    const w = this.w;
    for (let i = this.head; i < this.n; i++) {
      const v = this.vals[i];
      if (v === undefined) continue;
      if (i !== j) {
        w.copyWithin(j * 4, i * 4, i * 4 + 4);
        this.vals[j] = v;
      }
      j++;
    }
    this.vals.length = j;
    this.n = j;
    this.head = 0;
    this.dead = 0;
    if (w.length > 64 && w.length > j * 16) this.w = w.slice(0, j * 8);
  }

  private reserve(n: number): void {
    if (n * 4 <= this.w.length) return;
    const next = new Uint32Array(Math.max(16, n * 2) * 4);
    next.set(this.w.subarray(0, this.n * 4));
    this.w = next;
  }

  private writeKey(i: number, t: IdWords): void {
    const w = this.w;
    w[i * 4] = t.a;
    w[i * 4 + 1] = t.b;
    w[i * 4 + 2] = t.c;
    w[i * 4 + 3] = t.d;
  }

  /** Cursor of the first live entry with ID >= id (or -1). */
  seek(id: StreamID): number {
    let i = this.lowerBound(IdMap.t.set(id));
    while (i < this.n && this.vals[i] === undefined) i++;
    return i < this.n ? i : -1;
  }

  /** Cursor of the first live entry, or -1. */
  first(): number {
    return this.head < this.n ? this.head : -1;
  }

  /** Cursor of the last live entry, or -1. */
  last(): number {
    return this.n > this.head ? this.n - 1 : -1;
  }

  /** Cursor after `i`, or -1. Cursors stay valid only while the map is not changed. */
  next(i: number): number {
    i++;
    while (i < this.n && this.vals[i] === undefined) i++;
    return i < this.n ? i : -1;
  }

  idAt(i: number): StreamID {
    return idFromWords(this.w, i * 4);
  }

  valAt(i: number): V {
    return this.vals[i] as V;
  }

  /** Live entries in ID order (a snapshot, safe to modify the map while using it). */
  entries(limit = Infinity): Array<[StreamID, V]> {
    const out: Array<[StreamID, V]> = [];
    for (let i = this.first(); i >= 0 && out.length < limit; i = this.next(i)) out.push([this.idAt(i), this.vals[i] as V]);
    return out;
  }
}

export class Consumer {
  pel = new IdMap<PendingEntry>();
  constructor(
    readonly name: string,
    public seenTime: number,
  ) {}
}

/** entries_read value meaning "unknown" (SCG_INVALID_ENTRIES_READ). */
export const INVALID_ENTRIES_READ = -1;

export class ConsumerGroup {
  pel = new IdMap<PendingEntry>();
  consumers = new Map<string, Consumer>();
  constructor(
    readonly name: string,
    public lastId: StreamID,
    /** Logical read counter; number|bigint (int64, exact), -1 when unknown. */
    public entriesRead: number | bigint,
  ) {}

  /** Consumers in name order (Redis keeps them in a radix tree). */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Removes a consumer and its entries from the group PEL (streamDelConsumer). */
  deleteConsumer(consumer: Consumer): void {
    for (let i = consumer.pel.first(); i >= 0; i = consumer.pel.next(i)) this.pel.delete(consumer.pel.idAt(i));
    this.consumers.delete(consumer.name);
  }
}

// ---- int64 helpers for counters ---------------------------------------------------------

/** a + 1 for an int64 counter kept as number|bigint. */
export function incCounter(a: number | bigint): number | bigint {
  if (typeof a === 'number') return a < SAFE_MAX ? a + 1 : BigInt(a) + 1n;
  const r = BigInt.asIntN(64, a + 1n);
  return r <= 9007199254740991n && r >= -9007199254740991n ? Number(r) : r;
}

/** (long long)a - b with int64 wrap-around, as Redis computes the lag. */
export function subInt64(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  const r = BigInt.asIntN(64, BigInt(a) - BigInt(b));
  return r <= 9007199254740991n && r >= -9007199254740991n ? Number(r) : r;
}

// ---- the stream ---------------------------------------------------------------------------

/** A position in the stream: node index and entry index in that node. */
export interface StreamPos {
  node: number;
  entry: number;
}

export type TrimStrategy = 'maxlen' | 'minid';

export interface TrimArgs {
  strategy: TrimStrategy;
  maxlen: number;
  minid: StreamID;
  approx: boolean;
  /** 0 = no limit. */
  limit: number;
}

const scratch = new IdWords();
/** Bounds of range(); used by it alone, so visitors may call other methods. */
const rangeFrom = new IdWords();
const rangeTo = new IdWords();

export class StreamValue implements AggregateValue {
  declare readonly type: 'stream';
  nodes: StreamNode[] = [];
  length = 0;
  lastId: StreamID = ZERO_ID;
  firstId: StreamID = ZERO_ID;
  maxDeletedId: StreamID = ZERO_ID;
  /** Entries ever added (uint64 in Redis; at most int64 max here). */
  entriesAdded: number | bigint = 0;
  groups = new Map<string, ConsumerGroup>();

  encoding(): 'stream' {
    return 'stream';
  }

  // ---- appending ------------------------------------------------------------------------

  /**
   * The ID XADD would use (streamAppendItem's ID choice), or null when it is not
   * greater than the last one. `useId` is an explicit ID; with `seqGiven`
   * false only its ms part was given (`<ms>-*`): when that ms is the last ID's
   * and its sequence is exhausted the result is 'overflow' (Redis then fails
   * without setting errno and reports "Elements are too large to be stored").
   */
  nextId(now: number, useId: StreamID | null, seqGiven: boolean): StreamID | null | 'overflow' {
    const last = this.lastId;
    let id: StreamID;
    if (useId !== null) {
      if (seqGiven) id = useId;
      else if (last.ms === useId.ms) {
        if (isMaxU64(last.seq)) return 'overflow';
        id = { ms: last.ms, seq: incU64(last.seq) };
      } else id = useId;
    } else if (now > last.ms) {
      id = { ms: now, seq: 0 };
    } else {
      const next = incrId(last);
      if (next === null) return null;
      id = next;
    }
    return cmpId(id, last) > 0 ? id : null;
  }

  /**
   * Appends an entry with `numFields` field/value pairs taken from argv[from..].
   * Opens a new node as Redis does: when the tail's listpack would reach
   * `maxBytes` or the tail holds `maxEntries` entries (deleted ones count).
   */
  append(id: StreamID, argv: readonly string[], from: number, numFields: number, maxBytes: number, maxEntries: number): void {
    let totelelen = 0;
    for (let k = from; k < from + 2 * numFields; k++) totelelen += argv[k].length;
    const nodeMaxBytes = maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE ? STREAM_LISTPACK_MAX_SIZE : maxBytes;
    let tail: StreamNode | undefined = this.nodes[this.nodes.length - 1];
    if (tail !== undefined) {
      if (tail.lpBytes + totelelen >= nodeMaxBytes || (maxEntries > 0 && tail.count >= maxEntries)) {
        tail.seal();
        tail = undefined;
      }
    }
    let same: boolean;
    let masterMs: U64;
    let masterSeq: U64;
    if (tail === undefined) {
      // Nodes with the same field names share one array of them.
      const prev = this.nodes.length > 0 ? this.nodes[this.nodes.length - 1].fields : null;
      let fields: string[] | null = prev !== null && prev.length === numFields ? prev : null;
      let lp = LP_HEADER_AND_END + lpIntSize(1) + lpIntSize(0) + lpIntSize(numFields) + lpIntSize(0);
      for (let k = 0; k < numFields; k++) {
        const name = argv[from + 2 * k];
        if (fields !== null && fields[k] !== name) fields = null;
        lp += lpStrSize(name);
      }
      if (fields === null) {
        fields = new Array(numFields);
        for (let k = 0; k < numFields; k++) fields[k] = argv[from + 2 * k];
      }
      tail = new StreamNode(fields);
      tail.lpBytes = lp;
      this.nodes.push(tail);
      same = true;
      masterMs = id.ms;
      masterSeq = id.seq;
    } else {
      tail.reopen();
      // The master "count" grows by one.
      tail.lpBytes += lpIntSize(tail.live + 1) - lpIntSize(tail.live);
      const f = tail.fields;
      same = f.length === numFields;
      for (let k = 0; same && k < numFields; k++) if (f[k] !== argv[from + 2 * k]) same = false;
      const master = tail.first!;
      masterMs = master.ms;
      masterSeq = master.seq;
    }
    // flags, ms-diff, seq-diff, [num-fields, fields], values, lp-count
    let entry = lpIntSize(same ? FLAG_SAMEFIELDS : 0) + lpDeltaSize(id.ms, masterMs) + lpDeltaSize(id.seq, masterSeq);
    if (same) {
      for (let k = 0; k < numFields; k++) entry += lpStrSize(argv[from + 2 * k + 1]);
      entry += lpIntSize(numFields + 3);
    } else {
      entry += lpIntSize(numFields);
      for (let k = from; k < from + 2 * numFields; k++) entry += lpStrSize(argv[k]);
      entry += lpIntSize(2 * numFields + 4);
    }
    tail.lpBytes += entry;
    tail.push(id, argv, from, numFields, same);
    this.length++;
    this.entriesAdded = incCounter(this.entriesAdded);
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  // ---- positions and lookups ----------------------------------------------------------------

  /** Index of the node that would hold `t` (last node whose first ID <= t), or -1. */
  private nodeFor(t: IdWords): number {
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nodes[mid].cmpFirst(t) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Position of the first live entry with ID >= id, or null. */
  seekGE(id: StreamID): StreamPos | null {
    const t = scratch.set(id);
    let ni = this.nodeFor(t);
    let ei: number;
    if (ni < 0) {
      ni = 0;
      ei = 0;
    } else {
      ei = this.nodes[ni].lowerBound(t);
    }
    return this.skipForward(ni, ei);
  }

  /** Position of the last live entry with ID <= id, or null. */
  seekLE(id: StreamID): StreamPos | null {
    const t = scratch.set(id);
    const ni = this.nodeFor(t);
    if (ni < 0) return null;
    return this.skipBackward(ni, this.nodes[ni].upperBoundLast(t));
  }

  private skipForward(ni: number, ei: number): StreamPos | null {
    const nodes = this.nodes;
    while (ni < nodes.length) {
      const node = nodes[ni];
      for (; ei < node.count; ei++) if (!node.isDeleted(ei)) return { node: ni, entry: ei };
      ni++;
      ei = 0;
    }
    return null;
  }

  private skipBackward(ni: number, ei: number): StreamPos | null {
    const nodes = this.nodes;
    while (ni >= 0) {
      const node = nodes[ni];
      for (; ei >= 0; ei--) if (!node.isDeleted(ei)) return { node: ni, entry: ei };
      ni--;
      if (ni >= 0) ei = nodes[ni].count - 1;
    }
    return null;
  }

  /** The live entry after `p` (p is advanced in place), or null at the end. */
  nextPos(p: StreamPos): StreamPos | null {
    const r = this.skipForward(p.node, p.entry + 1);
    if (r === null) return null;
    p.node = r.node;
    p.entry = r.entry;
    return p;
  }

  prevPos(p: StreamPos): StreamPos | null {
    const r = this.skipBackward(p.node, p.entry - 1);
    if (r === null) return null;
    p.node = r.node;
    p.entry = r.entry;
    return p;
  }

  idAt(p: StreamPos): StreamID {
    return this.nodes[p.node].idAt(p.entry);
  }

  fieldsAt(p: StreamPos): string[] {
    return this.nodes[p.node].fieldsAt(p.entry);
  }

  /**
   * Visits live entries with start <= ID <= end in order (reverse from `end`
   * when `rev`), at most `count` of them (0 = all). `visit` may return false to
   * stop. O(log n) to find the start, then O(1) per entry, without allocating.
   */
  range(start: StreamID, end: StreamID, count: number, rev: boolean, visit: (node: StreamNode, entry: number) => boolean | void): number {
    if (cmpId(start, end) > 0) return 0;
    const nodes = this.nodes;
    let n = 0;
    if (!rev) {
      const t = rangeFrom.set(start);
      let ni = this.nodeFor(t);
      let ei = 0;
      if (ni < 0) ni = 0;
      else ei = nodes[ni].lowerBound(t);
      const stop = rangeTo.set(end);
      for (; ni < nodes.length; ni++, ei = 0) {
        const node = nodes[ni];
        for (; ei < node.count; ei++) {
          if (node.isDeleted(ei)) continue;
          if (node.cmpAt(ei, stop) > 0) return n;
          n++;
          if (visit(node, ei) === false || (count > 0 && n >= count)) return n;
        }
      }
    } else {
      const t = rangeFrom.set(end);
      let ni = this.nodeFor(t);
      if (ni < 0) return 0;
      let ei = nodes[ni].upperBoundLast(t);
      const stop = rangeTo.set(start);
      for (; ni >= 0; ni--, ei = ni >= 0 ? nodes[ni].count - 1 : 0) {
        const node = nodes[ni];
        for (; ei >= 0; ei--) {
          if (node.isDeleted(ei)) continue;
          if (node.cmpAt(ei, stop) < 0) return n;
          n++;
          if (visit(node, ei) === false || (count > 0 && n >= count)) return n;
        }
      }
    }
    return n;
  }

  /** Whether a live entry with exactly this ID exists. */
  has(id: StreamID): boolean {
    const p = this.seekGE(id);
    return p !== null && cmpId(this.idAt(p), id) === 0;
  }

  /** The first or last live entry's position, or null when empty. */
  firstPos(): StreamPos | null {
    return this.length === 0 ? null : this.skipForward(0, 0);
  }

  lastPos(): StreamPos | null {
    const n = this.nodes.length;
    return this.length === 0 ? null : this.skipBackward(n - 1, this.nodes[n - 1].count - 1);
  }

  /** Last live entry's ID, or 0-0 when empty (streamLastValidID). */
  lastValidId(): StreamID {
    const p = this.lastPos();
    return p === null ? ZERO_ID : this.idAt(p);
  }

  // ---- removal -------------------------------------------------------------------------------

  /**
   * XDEL of one ID: marks the entry deleted (a node left empty goes away) and
   * keeps recorded-first-entry-id and max-deleted-entry-id as Redis does.
   */
  delete(id: StreamID): boolean {
    const p = this.seekGE(id);
    if (p === null) return false;
    const node = this.nodes[p.node];
    if (cmpId(node.idAt(p.entry), id) !== 0) return false;
    if (node.live === 1) {
      this.nodes.splice(p.node, 1);
    } else {
      node.markDeleted(p.entry);
      this.setNodeCounts(node, node.live - 1);
    }
    this.length--;
    if (cmpId(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
    if (this.length === 0) this.firstId = ZERO_ID;
    else if (cmpId(id, this.firstId) === 0) this.firstId = this.idAt(this.firstPos()!);
    return true;
  }

  /** Changes a node's live count (deleted = count - live), keeping lpBytes in step. */
  private setNodeCounts(node: StreamNode, live: number): void {
    const delOld = node.count - node.live;
    const delNew = node.count - live;
    node.lpBytes += lpIntSize(live) - lpIntSize(node.live) + lpIntSize(delNew) - lpIntSize(delOld);
    node.live = live;
  }

  /**
   * XTRIM / XADD trimming, node by node as Redis's streamTrim: whole nodes
   * go first; with `approx` it stops at the first node it cannot drop whole,
   * otherwise entries of that node are marked deleted. `limit` caps the
   * entries removed (approx only). Returns the number of entries removed.
   */
  trim(args: TrimArgs): number {
    let deleted = 0;
    const nodes = this.nodes;
    const minT = args.strategy === 'minid' ? new IdWords().set(args.minid) : null;
    let drop = 0;
    while (drop < nodes.length) {
      if (minT === null && this.length <= args.maxlen) break;
      const node = nodes[drop];
      const entries = node.live;
      if (args.limit && deleted + entries > args.limit) break;
      let remove: boolean;
      if (minT === null) remove = this.length - entries >= args.maxlen;
      else remove = node.cmpAt(node.count - 1, minT) < 0;
      if (remove) {
        drop++;
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (args.approx) break;
      let removed = 0;
      for (let i = 0; i < node.count; i++) {
        const stop = minT === null ? this.length <= args.maxlen : node.cmpAt(i, minT) >= 0;
        if (stop) break;
        if (!node.isDeleted(i)) {
          node.markDeleted(i);
          removed++;
          this.length--;
        }
      }
      deleted += removed;
      this.setNodeCounts(node, node.live - removed);
      break;
    }
    if (drop > 0) nodes.splice(0, drop);
    const first = this.firstPos();
    this.firstId = first === null ? ZERO_ID : this.idAt(first);
    return deleted;
  }

  /** ID of the first stored entry, tombstones included (max ID when empty): streamGetEdgeID(first, no skip). */
  firstStoredId(): StreamID {
    return this.nodes.length === 0 ? MAX_ID : this.nodes[0].idAt(0);
  }

  // ---- consumer-group counters ------------------------------------------------------------------

  /** Whether a tombstone may lie between `start` and `end` (null = open), as streamRangeHasTombstones. */
  rangeHasTombstones(start: StreamID | null, end: StreamID | null): boolean {
    if (this.length === 0 || isZeroId(this.maxDeletedId)) return false;
    if (cmpId(this.firstId, this.maxDeletedId) > 0) return false;
    const s = start ?? ZERO_ID;
    const e = end ?? MAX_ID;
    return cmpId(s, this.maxDeletedId) <= 0 && cmpId(this.maxDeletedId, e) <= 0;
  }

  /**
   * The logical read counter of `id` (its distance from the first entry ever
   * added) when it can be known, else -1: streamEstimateDistanceFromFirstEverEntry.
   */
  estimateDistance(id: StreamID): number | bigint {
    if (this.entriesAdded === 0) return 0;
    const cmpLast = cmpId(id, this.lastId);
    if (this.length === 0 && cmpLast < 1) return this.entriesAdded;
    if (cmpLast === 0) return this.entriesAdded;
    if (cmpLast > 0) return INVALID_ENTRIES_READ;
    const cmpFirst = cmpId(id, this.firstId);
    if (isZeroId(this.maxDeletedId) || cmpId(this.maxDeletedId, this.firstId) < 0) {
      if (cmpFirst < 0) return subInt64(this.entriesAdded, this.length);
      if (cmpFirst === 0) return incCounter(subInt64(this.entriesAdded, this.length));
    }
    return INVALID_ENTRIES_READ;
  }

  /** A group's lag, or null when it cannot be known (streamReplyWithCGLag). */
  lag(group: ConsumerGroup): number | bigint | null {
    if (this.entriesAdded === 0) return 0;
    if (group.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(group.lastId, null)) {
      return subInt64(this.entriesAdded, group.entriesRead);
    }
    const read = this.estimateDistance(group.lastId);
    return read === INVALID_ENTRIES_READ ? null : subInt64(this.entriesAdded, read);
  }

  /** Moves a group past `id` as a delivery does (streamReplyWithRange's counter update). */
  advanceGroup(group: ConsumerGroup, id: StreamID): void {
    if (group.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(id, null)) {
      group.entriesRead = incCounter(group.entriesRead);
    } else if (this.entriesAdded !== 0) {
      group.entriesRead = this.estimateDistance(id);
    }
    group.lastId = id;
  }

  /** Groups in name order. */
  sortedGroups(): ConsumerGroup[] {
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- radix tree statistics ------------------------------------------------------------------

  /**
   * Number of nodes of Redis's radix tree over the node keys (16-byte big-endian
   * IDs), as XINFO STREAM reports in radix-tree-nodes: the compressed trie of
   * the keys, counting Redis's node shapes (compressed runs, branch nodes, leaves).
   */
  radixTreeNodes(): number {
    const keys: Uint8Array[] = [];
    const t = new IdWords();
    for (const node of this.nodes) {
      const k = new Uint8Array(16);
      const view = new DataView(k.buffer);
      t.set(node.idAt(0));
      view.setUint32(0, t.a);
      view.setUint32(4, t.b);
      view.setUint32(8, t.c);
      view.setUint32(12, t.d);
      keys.push(k);
    }
    if (keys.length === 0) return 1;
    return countRaxNodes(keys, 0, keys.length, 0);
  }

  // ---- copying -------------------------------------------------------------------------------

  clone(): StreamValue {
    const s = new StreamValue();
    s.nodes = this.nodes.map((n) => n.clone());
    s.length = this.length;
    s.lastId = this.lastId;
    s.firstId = this.firstId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    for (const g of this.groups.values()) {
      const ng = new ConsumerGroup(g.name, g.lastId, g.entriesRead);
      const owners = new Map<Consumer, Consumer>();
      for (const c of g.consumers.values()) {
        const nc = new Consumer(c.name, c.seenTime);
        owners.set(c, nc);
        ng.consumers.set(c.name, nc);
      }
      for (const [id, nack] of g.pel.entries()) {
        const owner = nack.consumer === null ? null : owners.get(nack.consumer) ?? null;
        const copy = new PendingEntry(owner, nack.deliveryTime, nack.deliveryCount);
        ng.pel.set(id, copy);
        owner?.pel.set(id, copy);
      }
      s.groups.set(g.name, ng);
    }
    return s;
  }
}

Object.defineProperty(StreamValue.prototype, 'type', { value: 'stream' });

export function isStream(v: unknown): v is StreamValue {
  return v instanceof StreamValue;
}

/**
 * Rax nodes below the position at `depth` holding keys[lo..hi) (sorted,
 * distinct, 16 bytes): a single key is a compressed run plus its leaf (just
 * the leaf at full depth); several keys share a compressed run up to the byte
 * where they diverge, then a branch node whose children are counted alike.
 */
function countRaxNodes(keys: Uint8Array[], lo: number, hi: number, depth: number): number {
  if (hi - lo === 1) return depth === 16 ? 1 : 2;
  const a = keys[lo];
  const b = keys[hi - 1];
  let d = depth;
  while (a[d] === b[d]) d++;
  let total = d > depth ? 2 : 1; // compressed run (if any) + the branch node
  let i = lo;
  while (i < hi) {
    let j = i + 1;
    while (j < hi && keys[j][d] === keys[i][d]) j++;
    total += countRaxNodes(keys, i, j, d + 1);
    i = j;
  }
  return total;
}
