/**
 * The hash type. Like Redis, a hash has two representations:
 *
 *  - "listpack" (small hashes): the whole hash packed into ONE latin1 JS
 *    string, fields and values in insertion order (an updated field keeps its
 *    place, a deleted one leaves no gap), which is the order Redis's listpack
 *    replies show. Lookups are a linear scan, as in Redis. One string per hash
 *    keeps a million small hashes cheap: no Map, no array, no per-field strings.
 *  - "hashtable": an EntryTable (below): O(1) get/set/delete, O(1) uniform
 *    random entry, and a SCAN cursor with Redis's guarantee.
 *
 * A hash starts packed and becomes a table, never back, when (Redis 7.0 rules,
 * checked against redis-server 7.0.15):
 *  - a command is about to write a field or value longer than
 *    hash-max-listpack-value bytes (HSET/HMSET check all their arguments first,
 *    even for fields that only get updated; HSETNX only when it really sets;
 *    HINCRBY/HINCRBYFLOAT when the field or the new value is too long), or
 *  - an insertion takes it above hash-max-listpack-entries fields.
 *
 * Headers: a number (a length or a count) is one char when below 255,
 * otherwise char 255 followed by the number as 4 big-endian chars.
 * Packed layout: header(field count), then header(len) + bytes for each field
 * and each value. Keeping the count inside the string leaves the object with a
 * single slot.
 */
import type { AggregateValue } from './values.js';
import { putLatin1 } from '../util/latin1.js';

/** The two thresholds that decide the representation (hash-max-listpack-*). */
export interface HashLimits {
  maxEntries: number;
  maxValue: number;
}

const LONG_HEADER = 0xff;
/** Redis refuses to grow a listpack past 1 GiB (lpSafeToAdd); JS strings also stop near 512 MiB. */
const MAX_PACKED_BYTES = 256 * 1024 * 1024;

/** Chars a header takes for the number n. */
function headerSize(n: number): number {
  return n < LONG_HEADER ? 1 : 5;
}

// ---- building strings --------------------------------------------------------

/** Reused buffer for building strings; flat copies are then sliced out of it. */
let scratch = Buffer.allocUnsafe(16 * 1024);
const SCRATCH_MAX = 1024 * 1024;

function bufferFor(n: number): Buffer {
  if (n <= scratch.length) return scratch;
  if (n <= SCRATCH_MAX) {
    let size = scratch.length;
    while (size < n) size *= 2;
    scratch = Buffer.allocUnsafe(size);
    return scratch;
  }
  return Buffer.allocUnsafe(n);
}

/** Writes a header holding `n` at `pos`; returns the position after it. */
function writeHeader(buf: Buffer, pos: number, n: number): number {
  if (n < LONG_HEADER) {
    buf[pos] = n;
    return pos + 1;
  }
  buf[pos] = LONG_HEADER;
  buf.writeUInt32BE(n, pos + 1);
  return pos + 5;
}

/** Writes header + bytes of `s` at `pos`; returns the position after it. */
function writeEntry(buf: Buffer, pos: number, s: string): number {
  return putLatin1(buf, writeHeader(buf, pos, s.length), s);
}

/** Writes s[from, to) at pos; returns the position after it. */
const writePart = putLatin1;

// ---- reading headers -------------------------------------------------------------

/** The number held by the header at p. */
function readHeader(s: string, p: number): number {
  const c = s.charCodeAt(p);
  if (c !== LONG_HEADER) return c;
  return (
    s.charCodeAt(p + 1) * 0x1000000 +
    ((s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 8) | s.charCodeAt(p + 4))
  );
}

/** Position after the header + bytes entry that starts at p. */
function entryEnd(s: string, p: number): number {
  const len = readHeader(s, p);
  return p + headerSize(len) + len;
}

// ---- the packed (listpack) form ------------------------------------------------------

/** An empty packed hash: just a zero count. */
const EMPTY = '\x00';

function packedCount(s: string): number {
  return readHeader(s, 0);
}

/** Position of the first field's header. */
function packedFirst(s: string): number {
  return headerSize(readHeader(s, 0));
}

/** Header position of the VALUE of `field`, or -1. Compares lengths, then bytes in place. */
function packedFind(s: string, field: string): number {
  const flen = field.length;
  const end = s.length;
  let p = packedFirst(s);
  while (p < end) {
    const len = readHeader(s, p);
    const d = p + headerSize(len);
    const next = d + len;
    if (len === flen && (flen === 0 || s.startsWith(field, d))) return next;
    p = entryEnd(s, next);
  }
  return -1;
}

/** The bytes of the header + bytes entry at p. */
function readEntry(s: string, p: number): string {
  const len = readHeader(s, p);
  const d = p + headerSize(len);
  return s.slice(d, d + len);
}

/** Whether the value entry at header position p holds exactly `value`. */
function packedValueIs(s: string, p: number, value: string): boolean {
  const len = readHeader(s, p);
  return len === value.length && (len === 0 || s.startsWith(value, p + headerSize(len)));
}

/** s with the value entry at header position p replaced by `value`. */
function packedReplace(s: string, p: number, value: string): string {
  const end = entryEnd(s, p);
  const buf = bufferFor(p + 5 + value.length + (s.length - end));
  let pos = writePart(buf, 0, s, 0, p);
  pos = writeEntry(buf, pos, value);
  pos = writePart(buf, pos, s, end, s.length);
  return buf.latin1Slice(0, pos);
}

/** s with a field/value pair appended (and its count incremented). */
function packedAppend(s: string, field: string, value: string): string {
  const buf = bufferFor(15 + s.length + field.length + value.length);
  let pos = writeHeader(buf, 0, packedCount(s) + 1);
  pos = writePart(buf, pos, s, packedFirst(s), s.length);
  pos = writeEntry(buf, pos, field);
  pos = writeEntry(buf, pos, value);
  return buf.latin1Slice(0, pos);
}

/** s without the pair at [from, to) (and its count decremented). */
function packedRemove(s: string, from: number, to: number): string {
  const count = packedCount(s) - 1;
  if (count === 0) return EMPTY;
  const buf = bufferFor(5 + s.length - (to - from));
  let pos = writeHeader(buf, 0, count);
  pos = writePart(buf, pos, s, packedFirst(s), from);
  pos = writePart(buf, pos, s, to, s.length);
  return buf.latin1Slice(0, pos);
}

/** Calls fn for each pair of a packed string, in order. */
function packedForEach(s: string, fn: (field: string, value: string) => void): void {
  let p = packedFirst(s);
  const end = s.length;
  while (p < end) {
    let len = readHeader(s, p);
    let d = p + headerSize(len);
    const field = s.slice(d, d + len);
    p = d + len;
    len = readHeader(s, p);
    d = p + headerSize(len);
    fn(field, s.slice(d, d + len));
    p = d + len;
  }
}

// ---- the table (hashtable) form --------------------------------------------------------

/** Per-process seed, so colliding fields cannot be precomputed (Redis seeds SipHash likewise). */
const SEED = (Math.random() * 0x100000000) | 0;

/** 32-bit hash of a latin1 string: seeded FNV-1a over the bytes, then a murmur3 finalizer. */
function hashOf(s: string): number {
  let h = SEED ^ 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Builds the stored form of a pair: header(field length) + field + value, one flat string. */
function makeEntry(field: string, value: string): string {
  const buf = bufferFor(5 + field.length + value.length);
  const pos = putLatin1(buf, writeEntry(buf, 0, field), value);
  return buf.latin1Slice(0, pos);
}

function entryField(e: string): string {
  const len = readHeader(e, 0);
  const d = headerSize(len);
  return e.slice(d, d + len);
}

/** Where the value starts in a stored entry. */
function entryValueStart(e: string): number {
  const len = readHeader(e, 0);
  return headerSize(len) + len;
}

function entryValue(e: string): string {
  const len = readHeader(e, 0);
  return e.slice(headerSize(len) + len);
}

function entryHasField(e: string, field: string): boolean {
  const len = readHeader(e, 0);
  return len === field.length && (len === 0 || e.startsWith(field, headerSize(len)));
}

const MIN_SLOTS = 16;

/**
 * A hash table of field/value pairs built for memory: each pair is ONE string
 * (see makeEntry) in a dense array, found through an open-addressing index
 * (linear probing, slots hold position + 1, 0 = empty, deletions shift back, so
 * no tombstones) with every entry's hash cached in a typed array. About 70
 * bytes per short pair, against ~115 for a Map plus key/value arrays.
 *
 * Dense positions work like DenseMap: deleting swaps the last entry into the
 * hole, so entries only move towards lower positions and the SCAN cursor
 * (positions still to visit, walked from high to low) returns every entry that
 * is present for the whole scan at least once. Random entry: a random position.
 */
class EntryTable {
  entries: string[] = [];
  /** hashes[i] = hashOf(field of entries[i]). */
  private hashes = new Int32Array(MIN_SLOTS);
  private slots = new Int32Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;

  get size(): number {
    return this.entries.length;
  }

  /** Position of field, or -1. */
  find(field: string): number {
    return this.findHashed(field, hashOf(field));
  }

  private findHashed(field: string, h: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = slots[i];
      if (s === 0) return -1;
      const pos = s - 1;
      if (this.hashes[pos] === h && entryHasField(this.entries[pos], field)) return pos;
    }
  }

  /** Slot index holding position `pos` (which must be present). */
  private slotOf(pos: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.hashes[pos] & mask; ; i = (i + 1) & mask) {
      if (slots[i] === pos + 1) return i;
    }
  }

  get(field: string): string | undefined {
    const pos = this.find(field);
    return pos < 0 ? undefined : entryValue(this.entries[pos]);
  }

  /** Sets a pair; returns true if the field is new. */
  set(field: string, value: string): boolean {
    const h = hashOf(field);
    const pos = this.findHashed(field, h);
    if (pos >= 0) {
      const e = this.entries[pos];
      const start = e.length - value.length;
      // The same value again leaves the entry as it is (see the packed form).
      if (start < 0 || !e.endsWith(value) || entryValueStart(e) !== start) this.entries[pos] = makeEntry(field, value);
      return false;
    }
    const n = this.entries.length;
    if ((n + 1) * 4 > this.slots.length * 3) this.resize(this.slots.length * 2);
    if (n >= this.hashes.length) {
      const grown = new Int32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.entries.push(makeEntry(field, value));
    this.hashes[n] = h;
    this.placeSlot(h, n + 1);
    return true;
  }

  private placeSlot(h: number, value: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = value;
  }

  delete(field: string): boolean {
    const pos = this.find(field);
    if (pos < 0) return false;
    this.clearSlot(this.slotOf(pos));
    const last = this.entries.length - 1;
    if (pos !== last) {
      // Move the last entry into the hole and repoint its slot.
      this.slots[this.slotOf(last)] = pos + 1;
      this.entries[pos] = this.entries[last];
      this.hashes[pos] = this.hashes[last];
    }
    this.entries.pop();
    const n = this.entries.length;
    if (this.slots.length > MIN_SLOTS && n * 8 < this.slots.length) this.resize(this.slots.length / 2);
    if (this.hashes.length > MIN_SLOTS && n * 4 < this.hashes.length) this.hashes = this.hashes.slice(0, this.hashes.length / 2);
    return true;
  }

  /** Empties slot i and shifts back the entries of its probe run (linear probing deletion). */
  private clearSlot(i: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let hole = i;
    for (let j = (i + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[slots[j] - 1] & mask;
      // Move slot j into the hole unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        slots[hole] = slots[j];
        hole = j;
      }
    }
    slots[hole] = 0;
  }

  private resize(size: number): void {
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let pos = 0; pos < this.entries.length; pos++) this.placeSlot(this.hashes[pos], pos + 1);
  }

  fieldAt(pos: number): string {
    return entryField(this.entries[pos]);
  }

  valueAt(pos: number): string {
    return entryValue(this.entries[pos]);
  }

  forEach(fn: (field: string, value: string) => void): void {
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) fn(entryField(entries[i]), entryValue(entries[i]));
  }

  /** Visits about `count` positions from `cursor` down; returns the next cursor (0 when done). */
  scan(cursor: number, count: number, fn: (field: string, value: string) => void): number {
    let pos = cursor === 0 ? this.entries.length : Math.min(cursor, this.entries.length);
    for (let visited = 0; pos > 0 && visited < count; visited++) {
      pos--;
      const e = this.entries[pos];
      fn(entryField(e), entryValue(e));
    }
    return pos;
  }

  clone(): EntryTable {
    const t = new EntryTable();
    t.entries = this.entries.slice(); // strings are immutable: sharing them is copying
    t.hashes = this.hashes.slice();
    t.slots = this.slots.slice();
    t.mask = this.mask;
    return t;
  }
}

// ---- the value ---------------------------------------------------------------

/** Random access to a hash's pairs by position, for HRANDFIELD. */
export interface HashIndex {
  readonly size: number;
  field(i: number): string;
  value(i: number): string;
}

export class HashValue implements AggregateValue {
  declare readonly type: 'hash';
  /** The packed string (listpack form) or the table (hashtable form). */
  private data: string | EntryTable;

  constructor() {
    this.data = EMPTY;
  }

  /** A hash from field/value pairs (tests). Inserts through `set`, so limits apply. */
  static from(pairs: Iterable<readonly [string, string]>, limits: HashLimits): HashValue {
    const h = new HashValue();
    for (const [f, v] of pairs) h.set(f, v, limits);
    return h;
  }

  get size(): number {
    const d = this.data;
    return typeof d === 'string' ? packedCount(d) : d.size;
  }

  /** What OBJECT ENCODING reports. */
  encoding(): 'listpack' | 'hashtable' {
    return typeof this.data === 'string' ? 'listpack' : 'hashtable';
  }

  get(field: string): string | undefined {
    const d = this.data;
    if (typeof d !== 'string') return d.get(field);
    const p = packedFind(d, field);
    return p < 0 ? undefined : readEntry(d, p);
  }

  has(field: string): boolean {
    const d = this.data;
    return typeof d === 'string' ? packedFind(d, field) >= 0 : d.find(field) >= 0;
  }

  /** Length of the field's value, 0 when absent (HSTRLEN). */
  valueLength(field: string): number {
    const d = this.data;
    if (typeof d !== 'string') {
      const pos = d.find(field);
      if (pos < 0) return 0;
      const e = d.entries[pos];
      const flen = readHeader(e, 0);
      return e.length - headerSize(flen) - flen;
    }
    const p = packedFind(d, field);
    return p < 0 ? 0 : readHeader(d, p);
  }

  /**
   * Redis's hashTypeTryConversion: converts to a table if any of args[from..to]
   * is longer than maxValue (or the packed form would grow too big).
   */
  convertForArgs(args: readonly string[], from: number, to: number, maxValue: number): void {
    const d = this.data;
    if (typeof d !== 'string') return;
    let sum = 0;
    for (let i = from; i <= to; i++) {
      const len = args[i].length;
      if (len > maxValue) {
        this.convert();
        return;
      }
      sum += len;
    }
    if (d.length + sum > MAX_PACKED_BYTES) this.convert();
  }

  /**
   * Sets field to value (Redis's hashTypeSet): converts first if either is
   * longer than maxValue, and after an insertion that exceeds maxEntries.
   * Returns true when the field is new.
   */
  set(field: string, value: string, limits: HashLimits): boolean {
    let d = this.data;
    if (
      typeof d === 'string' &&
      (field.length > limits.maxValue ||
        value.length > limits.maxValue ||
        d.length + field.length + value.length + 10 > MAX_PACKED_BYTES)
    ) {
      this.convert();
      d = this.data;
    }
    if (typeof d !== 'string') return d.set(field, value);

    const p = packedFind(d, field);
    if (p >= 0) {
      // Rewriting a field with the value it holds (counters, caches refreshed) leaves the string as it is.
      if (!packedValueIs(d, p, value)) this.data = packedReplace(d, p, value);
      return false;
    }
    const next = packedAppend(d, field, value);
    this.data = next;
    if (packedCount(next) > limits.maxEntries) this.convert();
    return true;
  }

  /** Removes a field; returns whether it existed. */
  delete(field: string): boolean {
    const d = this.data;
    if (typeof d !== 'string') return d.delete(field);
    const vp = packedFind(d, field);
    if (vp < 0) return false;
    // The field entry ends where its value starts; its header size follows from its length.
    const fp = vp - field.length - headerSize(field.length);
    this.data = packedRemove(d, fp, entryEnd(d, vp));
    return true;
  }

  /** Calls fn for every pair: in insertion order when packed, table order otherwise. */
  forEach(fn: (field: string, value: string) => void): void {
    const d = this.data;
    if (typeof d === 'string') packedForEach(d, fn);
    else d.forEach(fn);
  }

  /** Positional access: O(1) on a table; a packed hash is decoded once (it is small). */
  index(): HashIndex {
    const d = this.data;
    if (typeof d !== 'string') {
      return { size: d.size, field: (i) => d.fieldAt(i), value: (i) => d.valueAt(i) };
    }
    const fields: string[] = [];
    const values: string[] = [];
    packedForEach(d, (f, v) => {
      fields.push(f);
      values.push(v);
    });
    return { size: fields.length, field: (i) => fields[i], value: (i) => values[i] };
  }

  /**
   * One HSCAN step: calls fn for visited pairs and returns the next cursor.
   * A packed hash is returned whole with cursor 0, whatever the cursor (as Redis).
   */
  scan(cursor: number, count: number, fn: (field: string, value: string) => void): number {
    const d = this.data;
    if (typeof d === 'string') {
      packedForEach(d, fn);
      return 0;
    }
    return d.scan(cursor, count, fn);
  }

  /** An independent copy with the same representation (COPY). */
  clone(): HashValue {
    const h = new HashValue();
    const d = this.data;
    h.data = typeof d === 'string' ? d : d.clone(); // strings are immutable: sharing is copying
    return h;
  }

  /** Switches to the table form (no-op if already there). */
  convert(): void {
    const d = this.data;
    if (typeof d !== 'string') return;
    const t = new EntryTable();
    // makeEntry copies through a buffer, so the table keeps no slices of the old string.
    packedForEach(d, (f, v) => t.set(f, v));
    this.data = t;
  }
}

// The type tag lives on the prototype: one less slot in every hash.
Object.defineProperty(HashValue.prototype, 'type', { value: 'hash', enumerable: true });
