/**
 * The set type. Redis 7.0 has two set encodings (no listpack sets: that came
 * in 7.2; checked against redis-server 7.0.15), and OBJECT ENCODING reports
 * exactly those. Internally there are three forms:
 *
 *  - "intset": every member is an integer in int64 range written in canonical
 *    form (Redis's string2ll: no "+", no leading zero, not "-0"), kept sorted,
 *    so SMEMBERS replies in ascending order exactly like Redis. The members are
 *    packed into ONE latin1 JS string: a width char (2, 4 or 8, as Redis's
 *    int16/int32/int64 encodings) followed by fixed-width big-endian numbers in
 *    offset binary (value + 2^(8w-1)), so comparing chars compares values,
 *    including int64 members beyond 2^53, exactly.
 *  - "hashtable", small: at most SMALL_MAX_MEMBERS members of at most
 *    SMALL_MAX_LENGTH bytes, packed into one string (a 0 tag char, a count
 *    char, then each member as a length char and its bytes). Every operation
 *    walks at most 32 short entries, so it is O(1) in practice, and a million
 *    small sets of tags cost one string each instead of a Map each.
 *  - "hashtable", large: a DenseSet (O(1) add/remove/has, O(1) uniform random
 *    member, SSCAN cursor guarantee).
 *
 * A set starts as an intset and becomes a hashtable, never back, when a
 * non-integer is added or an insertion takes it above set-max-intset-entries
 * (the limit is passed in by the caller, read from the config). A small table
 * becomes a DenseSet when it outgrows its limits, never back.
 *
 * Scan positions: both table forms only ever move members towards lower
 * positions (DenseSet swaps the last member into a hole, the small form closes
 * the gap), and promotion keeps positions, so one cursor scheme serves both.
 */
import { parseInteger } from '../util/numbers.js';
import type { AggregateValue } from './values.js';

// ---- the hashtable form ----------------------------------------------------------

/**
 * Members in a dense array, indexed by a Map. Delete swaps the last member into
 * the hole, so members only ever move towards lower positions; the scan cursor
 * walks positions from high to low, so a member present for the whole scan is
 * returned at least once (the same scheme as DenseMap, without a value array).
 *
 * Cursor: 0 starts and ends; otherwise the number of positions still to visit.
 */
export class DenseSet {
  private index = new Map<string, number>();
  items: string[] = [];

  get size(): number {
    return this.items.length;
  }

  has(m: string): boolean {
    return this.index.has(m);
  }

  /** Adds m; returns false when it was already there. */
  add(m: string): boolean {
    const index = this.index;
    if (index.has(m)) return false;
    index.set(m, this.items.length);
    this.items.push(m);
    return true;
  }

  delete(m: string): boolean {
    const i = this.index.get(m);
    if (i === undefined) return false;
    this.index.delete(m);
    const items = this.items;
    const last = items.length - 1;
    if (i !== last) {
      const moved = items[last];
      items[i] = moved;
      this.index.set(moved, i);
    }
    items.pop();
    return true;
  }

  scan(cursor: number, count: number, fn: (m: string) => void): number {
    const items = this.items;
    let pos = cursor === 0 ? items.length : Math.min(cursor, items.length);
    let visited = 0;
    while (pos > 0 && visited < count) {
      pos--;
      fn(items[pos]);
      visited++;
    }
    return pos;
  }
}

// ---- the packed intset form ---------------------------------------------------------

type Width = 2 | 4 | 8;

const TWO_32 = 4294967296;
const INT16_MIN = -32768;
const INT16_MAX = 32767;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** With |hi| below 2^21, hi * 2^32 + lo is exact in a double. */
const SAFE_HI = 0x200000;

/** An empty intset: just the width char. */
const EMPTY_INTSET = String.fromCharCode(2);

/** Smallest width that holds v (Redis's _intsetValueEncoding). */
function widthOf(v: number | bigint): Width {
  if (typeof v === 'bigint') return 8;
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

/** v as w chars: big-endian, offset binary (so char order is numeric order). */
function encode(v: number | bigint, w: Width): string {
  if (w === 2) {
    const u = (v as number) + 0x8000;
    return String.fromCharCode(u >>> 8, u & 0xff);
  }
  if (w === 4) {
    const u = (v as number) + 0x80000000;
    return String.fromCharCode(u >>> 24, (u >>> 16) & 0xff, (u >>> 8) & 0xff, u & 0xff);
  }
  let hi: number;
  let lo: number;
  if (typeof v === 'bigint') {
    hi = Number(BigInt.asIntN(32, v >> 32n));
    lo = Number(BigInt.asUintN(32, v));
  } else {
    hi = Math.floor(v / TWO_32);
    lo = v - hi * TWO_32;
  }
  const h = hi + 0x80000000;
  return String.fromCharCode(
    h >>> 24, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff,
    lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff,
  );
}

function readUint32(s: string, p: number): number {
  return (
    ((s.charCodeAt(p) << 24) | (s.charCodeAt(p + 1) << 16) | (s.charCodeAt(p + 2) << 8) | s.charCodeAt(p + 3)) >>> 0
  );
}

/** The value at char position p: a number when exact, else a bigint. */
function decodeAt(s: string, p: number, w: Width): number | bigint {
  if (w === 2) return ((s.charCodeAt(p) << 8) | s.charCodeAt(p + 1)) - 0x8000;
  if (w === 4) return readUint32(s, p) - 0x80000000;
  const hi = readUint32(s, p) - 0x80000000;
  const lo = readUint32(s, p + 4);
  if (hi >= -SAFE_HI && hi < SAFE_HI) return hi * TWO_32 + lo;
  return (BigInt(hi) << 32n) + BigInt(lo);
}

function widthOfPacked(s: string): Width {
  return s.charCodeAt(0) as Width;
}

function countOfPacked(s: string): number {
  return (s.length - 1) / s.charCodeAt(0);
}

/**
 * Binary search for the encoded key (same width as the set): its index, or
 * -(insertion point) - 1 when absent.
 */
function search(s: string, key: string, w: Width): number {
  let lo = 0;
  let hi = (s.length - 1) / w - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const p = 1 + mid * w;
    let d = 0;
    for (let k = 0; k < w && d === 0; k++) d = s.charCodeAt(p + k) - key.charCodeAt(k);
    if (d === 0) return mid;
    if (d < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** Reused buffer for building packed strings; flat copies are then sliced out of it. */
let scratch = Buffer.allocUnsafe(8 * 1024);

function bufferFor(n: number): Buffer {
  if (n > scratch.length) {
    let size = scratch.length;
    while (size < n) size *= 2;
    scratch = Buffer.allocUnsafe(size);
  }
  return scratch;
}

/**
 * Writes s with `insert` placed at char position p and [p, p + removeLen)
 * dropped into the scratch buffer; returns its length.
 */
function spliceToScratch(s: string, p: number, removeLen: number, insert: string): number {
  const buf = bufferFor(s.length - removeLen + insert.length);
  buf.latin1Write(s, 0, p);
  let pos = p;
  if (insert.length > 0) pos += buf.latin1Write(insert, pos, insert.length);
  const rest = s.length - p - removeLen;
  // latin1Write copies from a string's start: slice the suffix first (O(1) for a flat string).
  if (rest > 0) pos += buf.latin1Write(s.slice(p + removeLen), pos, rest);
  return pos;
}

/** s with `insert` placed at char position p and [p, p + removeLen) dropped, as a flat string. */
function splice(s: string, p: number, removeLen: number, insert: string): string {
  const len = spliceToScratch(s, p, removeLen, insert);
  return scratch.latin1Slice(0, len);
}

/** Packs sorted, distinct values at the smallest width that holds them all. */
function pack(values: ReadonlyArray<number | bigint>): string {
  let w: Width = 2;
  for (let i = 0; i < values.length && w !== 8; i++) {
    const vw = widthOf(values[i]);
    if (vw > w) w = vw;
  }
  const buf = bufferFor(1 + values.length * w);
  buf[0] = w;
  let pos = 1;
  for (let i = 0; i < values.length; i++) pos += buf.latin1Write(encode(values[i], w), pos, w);
  return buf.latin1Slice(0, pos);
}

function unpack(s: string): Array<number | bigint> {
  const w = widthOfPacked(s);
  const n = countOfPacked(s);
  const out = new Array<number | bigint>(n);
  for (let i = 0; i < n; i++) out[i] = decodeAt(s, 1 + i * w, w);
  return out;
}

/** Numeric order of parsed int64 values (numbers and bigints compare exactly in JS). */
function compareInts(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- the small packed table form ------------------------------------------------------

/** First char of a small table (an intset's first char is its width: 2, 4 or 8). */
const SMALL_TAG = 0;
const SMALL_MAX_MEMBERS = 32;
const SMALL_MAX_LENGTH = 64;
/** Entries start after the tag and count chars. */
const SMALL_START = 2;
const EMPTY_SMALL = String.fromCharCode(SMALL_TAG, 0);

function isSmall(s: string): boolean {
  return s.charCodeAt(0) === SMALL_TAG;
}

/** Whether a member may live in a small table. */
function fitsSmall(m: string): boolean {
  return m.length <= SMALL_MAX_LENGTH;
}

/** Char position of member m's length char, or -1. */
function smallFind(s: string, m: string): number {
  const len = m.length;
  const end = s.length;
  for (let p = SMALL_START; p < end; ) {
    const l = s.charCodeAt(p);
    if (l === len && (len === 0 || s.startsWith(m, p + 1))) return p;
    p += 1 + l;
  }
  return -1;
}

/** Char position of the i-th member's length char. */
function smallPosition(s: string, i: number): number {
  let p = SMALL_START;
  for (let k = 0; k < i; k++) p += 1 + s.charCodeAt(p);
  return p;
}

/** V8 shares the parent's chars for slices this long (SlicedString): copy those instead. */
const SLICE_MIN = 13;

/** The member whose length char is at p, as a flat string that does not keep `s` alive. */
function smallRead(s: string, p: number): string {
  const len = s.charCodeAt(p);
  const part = s.slice(p + 1, p + 1 + len);
  if (len < SLICE_MIN) return part;
  const buf = bufferFor(len);
  buf.latin1Write(part, 0, len);
  return buf.latin1Slice(0, len);
}

/** Packs members (each fitsSmall, at most SMALL_MAX_MEMBERS) into a small table. */
function packSmall(members: readonly string[]): string {
  let size = SMALL_START;
  for (let i = 0; i < members.length; i++) size += 1 + members[i].length;
  const buf = bufferFor(size);
  buf[0] = SMALL_TAG;
  buf[1] = members.length;
  let pos = SMALL_START;
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    buf[pos++] = m.length;
    if (m.length > 0) pos += buf.latin1Write(m, pos, m.length);
  }
  return buf.latin1Slice(0, pos);
}

/** Decodes a small table into fresh flat strings (no slices keeping `s` alive). */
function unpackSmall(s: string): string[] {
  const n = s.charCodeAt(1);
  const out = new Array<string>(n);
  const buf = bufferFor(s.length);
  buf.latin1Write(s, 0, s.length);
  let p = SMALL_START;
  for (let i = 0; i < n; i++) {
    const l = s.charCodeAt(p);
    out[i] = buf.latin1Slice(p + 1, p + 1 + l);
    p += 1 + l;
  }
  return out;
}

/** A small table s with its count char set to n and [p, p + removeLen) replaced by `insert`. */
function spliceSmall(s: string, n: number, p: number, removeLen: number, insert: string): string {
  const len = spliceToScratch(s, p, removeLen, insert);
  scratch[1] = n;
  return scratch.latin1Slice(0, len);
}

// ---- the value ------------------------------------------------------------------------

export class SetValue implements AggregateValue {
  declare readonly type: 'set';
  /** A packed intset, a packed small table (see isSmall), or a DenseSet. */
  private data: string | DenseSet;

  constructor() {
    this.data = EMPTY_INTSET;
  }

  /** A set from members, inserted one by one through `add` (tests). */
  static from(members: Iterable<string>, maxIntset: number): SetValue {
    const s = new SetValue();
    for (const m of members) s.add(m, maxIntset);
    return s;
  }

  /**
   * A set holding exactly the (distinct) members of `table`, in the form Redis
   * would end with after adding them one by one to a new set: an intset when
   * they are all integers and at most maxIntset, else a table. Takes
   * ownership of `table`. O(n log n), with no quadratic packed inserts.
   */
  static fromTable(table: DenseSet, maxIntset: number): SetValue {
    const s = new SetValue();
    const items = table.items;
    if (items.length <= maxIntset) {
      const values: Array<number | bigint> = new Array(items.length);
      let allInts = true;
      for (let i = 0; i < items.length; i++) {
        const v = parseInteger(items[i]);
        if (v === null) {
          allInts = false;
          break;
        }
        values[i] = v;
      }
      if (allInts) {
        values.sort(compareInts);
        s.data = pack(values);
        return s;
      }
    }
    s.data = items.length <= SMALL_MAX_MEMBERS && items.every(fitsSmall) ? packSmall(items) : table;
    return s;
  }

  get size(): number {
    const d = this.data;
    if (typeof d !== 'string') return d.size;
    return isSmall(d) ? d.charCodeAt(1) : countOfPacked(d);
  }

  /** What OBJECT ENCODING reports (both table forms are Redis's "hashtable"). */
  encoding(): 'intset' | 'hashtable' {
    const d = this.data;
    return typeof d === 'string' && !isSmall(d) ? 'intset' : 'hashtable';
  }

  has(m: string): boolean {
    const d = this.data;
    if (typeof d !== 'string') return d.has(m);
    if (isSmall(d)) return fitsSmall(m) && smallFind(d, m) >= 0;
    const v = parseInteger(m);
    if (v === null) return false;
    const w = widthOfPacked(d);
    if (widthOf(v) > w) return false;
    return search(d, encode(v, w), w) >= 0;
  }

  /**
   * Adds a member (Redis's setTypeAdd): a non-integer converts an intset to a
   * table first; an insertion that takes an intset above maxIntset converts it
   * after. Returns true when the member is new.
   */
  add(m: string, maxIntset: number): boolean {
    const d = this.data;
    if (typeof d !== 'string') return d.add(m);
    if (isSmall(d)) return this.addSmall(d, m);
    const v = parseInteger(m);
    if (v === null) {
      this.convert();
      return this.add(m, maxIntset);
    }
    const w = widthOfPacked(d);
    let next: string;
    if (widthOf(v) > w) {
      // Upgrade (intsetUpgradeAndAdd): the new value is beyond every member, so it is new.
      const values = unpack(d);
      if (v < 0) values.unshift(v);
      else values.push(v);
      next = pack(values);
    } else {
      const key = encode(v, w);
      const i = search(d, key, w);
      if (i >= 0) return false;
      next = splice(d, 1 + (-i - 1) * w, 0, key);
    }
    this.data = next;
    if (countOfPacked(next) > maxIntset) this.convert();
    return true;
  }

  private addSmall(d: string, m: string): boolean {
    if (fitsSmall(m) && smallFind(d, m) >= 0) return false;
    const n = d.charCodeAt(1);
    if (n >= SMALL_MAX_MEMBERS || !fitsSmall(m)) {
      this.promote();
      return (this.data as DenseSet).add(m);
    }
    this.data = spliceSmall(d, n + 1, d.length, 0, String.fromCharCode(m.length) + m);
    return true;
  }

  /** Removes a member; returns whether it was there. */
  delete(m: string): boolean {
    const d = this.data;
    if (typeof d !== 'string') return d.delete(m);
    if (isSmall(d)) {
      if (!fitsSmall(m)) return false;
      const p = smallFind(d, m);
      if (p < 0) return false;
      this.data = spliceSmall(d, d.charCodeAt(1) - 1, p, 1 + m.length, '');
      return true;
    }
    const v = parseInteger(m);
    if (v === null) return false;
    const w = widthOfPacked(d);
    if (widthOf(v) > w) return false;
    const i = search(d, encode(v, w), w);
    if (i < 0) return false;
    this.data = splice(d, 1 + i * w, w, '');
    return true;
  }

  /** The member at position i (0 <= i < size): ascending for an intset, table order otherwise. O(1). */
  memberAt(i: number): string {
    const d = this.data;
    if (typeof d !== 'string') return d.items[i];
    if (isSmall(d)) return smallRead(d, smallPosition(d, i));
    const w = widthOfPacked(d);
    return String(decodeAt(d, 1 + i * w, w));
  }

  /** A uniformly random position, or -1 when empty. */
  randomIndex(): number {
    const n = this.size;
    return n === 0 ? -1 : Math.floor(Math.random() * n);
  }

  /** Removes and returns the member at position i (SPOP). */
  removeAt(i: number): string {
    const d = this.data;
    if (typeof d !== 'string') {
      const m = d.items[i];
      d.delete(m);
      return m;
    }
    if (isSmall(d)) {
      const p = smallPosition(d, i);
      const m = smallRead(d, p);
      this.data = spliceSmall(d, d.charCodeAt(1) - 1, p, 1 + m.length, '');
      return m;
    }
    const w = widthOfPacked(d);
    const p = 1 + i * w;
    const m = String(decodeAt(d, p, w));
    this.data = splice(d, p, w, '');
    return m;
  }

  /** Calls fn for every member, in position order. */
  forEach(fn: (m: string) => void): void {
    const d = this.data;
    if (typeof d !== 'string') {
      const items = d.items;
      for (let i = 0; i < items.length; i++) fn(items[i]);
    } else if (isSmall(d)) {
      for (let p = SMALL_START; p < d.length; p += 1 + d.charCodeAt(p)) fn(smallRead(d, p));
    } else {
      const w = widthOfPacked(d);
      for (let p = 1; p < d.length; p += w) fn(String(decodeAt(d, p, w)));
    }
  }

  /** All members as a new array, in position order. */
  members(): string[] {
    const out = new Array<string>(this.size);
    let i = 0;
    this.forEach((m) => (out[i++] = m));
    return out;
  }

  /**
   * One SSCAN step: calls fn for visited members and returns the next cursor.
   * An intset is returned whole with cursor 0, whatever the cursor (as Redis).
   * Tables visit about `count` positions, from high to low (see the top).
   */
  scan(cursor: number, count: number, fn: (m: string) => void): number {
    const d = this.data;
    if (typeof d !== 'string') return d.scan(cursor, count, fn);
    if (!isSmall(d)) {
      this.forEach(fn);
      return 0;
    }
    const members = this.members();
    let pos = cursor === 0 ? members.length : Math.min(cursor, members.length);
    for (let visited = 0; pos > 0 && visited < count; visited++) fn(members[--pos]);
    return pos;
  }

  /** An independent copy with the same representation (COPY). */
  clone(): SetValue {
    const s = new SetValue();
    const d = this.data;
    if (typeof d === 'string') {
      s.data = d; // strings are immutable: sharing is a copy
    } else {
      const t = new DenseSet();
      const items = d.items;
      for (let i = 0; i < items.length; i++) t.add(items[i]);
      s.data = t;
    }
    return s;
  }

  /** Switches an intset to a table form (no-op for tables). Members stay in ascending order. */
  convert(): void {
    const d = this.data;
    if (typeof d !== 'string' || isSmall(d)) return;
    const members = this.members();
    if (members.length <= SMALL_MAX_MEMBERS) {
      this.data = members.length === 0 ? EMPTY_SMALL : packSmall(members);
      return;
    }
    const t = new DenseSet();
    for (let i = 0; i < members.length; i++) t.add(members[i]);
    this.data = t;
  }

  /** Switches to the DenseSet form, keeping positions (no-op if already there). */
  private promote(): void {
    this.convert();
    const d = this.data;
    if (typeof d !== 'string') return;
    const t = new DenseSet();
    const members = unpackSmall(d);
    for (let i = 0; i < members.length; i++) t.add(members[i]);
    this.data = t;
  }
}

// The type tag lives on the prototype: one less slot in every set.
Object.defineProperty(SetValue.prototype, 'type', { value: 'set', enumerable: true });
