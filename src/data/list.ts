/**
 * The list type: a ring-buffer deque of latin1 strings.
 *
 * Elements live in one JS array whose capacity is a power of two; `head` is the
 * slot of element 0 and positions wrap with a mask. This gives O(1) push and pop
 * at both ends and O(1) access to any index (LINDEX/LSET are O(1) anywhere, not
 * just near the ends). Inserting or removing in the middle moves the shorter
 * side only, so it is O(min(i, n - i)).
 *
 * Memory: a new list starts with room for 4 elements (or exactly the power of two
 * that fits its first push), so a million small lists stay small. Capacity
 * doubles when full and halves when the list falls to a quarter of it, so a big
 * list that drains gives its memory back. Freed slots are cleared so popped
 * strings can be collected.
 *
 * Encoding: Redis 7.0 stores every list as a quicklist (the listpack list
 * encoding only arrived in 7.2), and OBJECT ENCODING answers "quicklist" for any
 * list, whatever list-max-listpack-size says. Checked on redis-server 7.0.15.
 */
import type { AggregateValue } from './values.js';

const MIN_CAPACITY = 4;

/** Smallest power of two >= n (n >= 1), at least MIN_CAPACITY. */
function capacityFor(n: number): number {
  let cap = MIN_CAPACITY;
  while (cap < n) cap *= 2;
  return cap;
}

export class ListValue implements AggregateValue {
  /** Defined on the prototype (below): one slot less in every list object. */
  declare readonly type: 'list';
  /** Slots; the capacity is items.length, a power of two, so the wrap mask is length - 1. */
  private items: (string | undefined)[];
  /** Slot of element 0. */
  private head = 0;
  private len = 0;

  constructor(capacity = MIN_CAPACITY) {
    this.items = new Array(capacityFor(capacity));
  }

  private get mask(): number {
    return this.items.length - 1;
  }

  /** A list holding `elements` in order. */
  static from(elements: readonly string[]): ListValue {
    const l = new ListValue(Math.max(1, elements.length));
    for (let i = 0; i < elements.length; i++) l.items[i] = elements[i];
    l.len = elements.length;
    return l;
  }

  get length(): number {
    return this.len;
  }

  /** What OBJECT ENCODING reports: always "quicklist" in Redis 7.0 (see the file comment). */
  encoding(): 'listpack' | 'quicklist' {
    return 'quicklist';
  }

  // ---- ends ----------------------------------------------------------------

  pushBack(value: string): void {
    if (this.len === this.items.length) this.resize(this.items.length * 2);
    this.items[(this.head + this.len) & this.mask] = value;
    this.len++;
  }

  pushFront(value: string): void {
    if (this.len === this.items.length) this.resize(this.items.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.items[this.head] = value;
    this.len++;
  }

  popFront(): string | undefined {
    if (this.len === 0) return undefined;
    const value = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    this.maybeShrink();
    return value;
  }

  popBack(): string | undefined {
    if (this.len === 0) return undefined;
    const slot = (this.head + this.len - 1) & this.mask;
    const value = this.items[slot];
    this.items[slot] = undefined;
    this.len--;
    this.maybeShrink();
    return value;
  }

  // ---- positions (0 <= index < length; callers convert negative indexes) ----

  /** Element at `index`, which must be in [0, length). */
  at(index: number): string {
    return this.items[(this.head + index) & this.mask] as string;
  }

  /** Replaces the element at `index`, which must be in [0, length). */
  set(index: number, value: string): void {
    this.items[(this.head + index) & this.mask] = value;
  }

  /** Elements [start, end] (inclusive, already clamped to the list). */
  range(start: number, end: number): string[] {
    const out: string[] = [];
    for (let i = start; i <= end; i++) out.push(this.at(i));
    return out;
  }

  toArray(): string[] {
    return this.len === 0 ? [] : this.range(0, this.len - 1);
  }

  /** Index of the first element equal to `value` from the head, or -1. */
  indexOf(value: string): number {
    for (let i = 0; i < this.len; i++) if (this.at(i) === value) return i;
    return -1;
  }

  /** Inserts `value` so that it ends up at `index` (0 <= index <= length). */
  insert(index: number, value: string): void {
    if (index === 0) return this.pushFront(value);
    if (index === this.len) return this.pushBack(value);
    if (this.len === this.items.length) this.resize(this.items.length * 2);
    if (index < this.len - index) {
      // Shift the front part one slot towards the head.
      this.head = (this.head - 1) & this.mask;
      for (let i = 0; i < index; i++) this.set(i, this.at(i + 1));
    } else {
      // Shift the back part one slot towards the tail.
      for (let i = this.len; i > index; i--) this.items[(this.head + i) & this.mask] = this.at(i - 1);
    }
    this.len++;
    this.set(index, value);
  }

  /** Removes the element at `index` (0 <= index < length). */
  removeAt(index: number): void {
    if (index < this.len - 1 - index) {
      for (let i = index; i > 0; i--) this.set(i, this.at(i - 1));
      this.items[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
    } else {
      for (let i = index; i < this.len - 1; i++) this.set(i, this.at(i + 1));
      this.items[(this.head + this.len - 1) & this.mask] = undefined;
    }
    this.len--;
    this.maybeShrink();
  }

  /** Removes `count` elements from the head: O(min(count, length - count)). */
  removeFront(count: number): void {
    count = Math.min(count, this.len);
    if (count * 2 > this.len) return this.keepRange(count, this.len - count);
    for (let i = 0; i < count; i++) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
    }
    this.len -= count;
    this.maybeShrink();
  }

  /** Removes `count` elements from the tail: O(min(count, length - count)). */
  removeBack(count: number): void {
    count = Math.min(count, this.len);
    if (count * 2 > this.len) return this.keepRange(0, this.len - count);
    for (let i = 0; i < count; i++) {
      this.items[(this.head + this.len - 1) & this.mask] = undefined;
      this.len--;
    }
    this.maybeShrink();
  }

  /** Keeps only elements [start, end] (inclusive, clamped; start > end empties the list). */
  trim(start: number, end: number): void {
    const kept = start > end ? 0 : end - start + 1;
    if (kept * 2 < this.len) return this.keepRange(start, kept);
    this.removeBack(this.len - 1 - end);
    this.removeFront(start);
  }

  /**
   * Removes elements equal to `value`: up to `count` of them scanning from the
   * head (count > 0) or from the tail (count < 0), or all (count = 0), as LREM.
   * Returns how many were removed. One O(n) compaction pass.
   */
  removeValue(value: string, count: number): number {
    const n = this.len;
    const limit = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    if (count >= 0) {
      let w = 0;
      for (let r = 0; r < n; r++) {
        const v = this.at(r);
        if (removed < limit && v === value) {
          removed++;
          continue;
        }
        if (w !== r) this.set(w, v);
        w++;
      }
      for (let i = w; i < n; i++) this.items[(this.head + i) & this.mask] = undefined;
    } else {
      let w = n - 1;
      for (let r = n - 1; r >= 0; r--) {
        const v = this.at(r);
        if (removed < limit && v === value) {
          removed++;
          continue;
        }
        if (w !== r) this.set(w, v);
        w--;
      }
      for (let i = 0; i <= w; i++) this.items[(this.head + i) & this.mask] = undefined;
      this.head = (this.head + removed) & this.mask;
    }
    this.len = n - removed;
    this.maybeShrink();
    return removed;
  }

  /** A deep copy (COPY): strings are immutable, so copying the slots is enough. */
  clone(): ListValue {
    const l = new ListValue(Math.max(1, this.len));
    for (let i = 0; i < this.len; i++) l.items[i] = this.at(i);
    l.len = this.len;
    return l;
  }

  /** Current slot capacity (for tests and memory estimates). */
  get capacity(): number {
    return this.items.length;
  }

  // ---- storage -------------------------------------------------------------

  private maybeShrink(): void {
    const cap = this.items.length;
    if (cap > MIN_CAPACITY && this.len <= cap >>> 2) this.resize(Math.max(MIN_CAPACITY, capacityFor(this.len * 2)));
  }

  /** Moves the elements into a fresh array of `cap` slots, element 0 at slot 0. */
  private resize(cap: number): void {
    const next: (string | undefined)[] = new Array(cap);
    for (let i = 0; i < this.len; i++) next[i] = this.at(i);
    this.items = next;
    this.head = 0;
  }

  /**
   * Keeps `kept` elements from `start` in a fresh, right-sized array: dropping
   * most of a big list costs what is kept, not what is dropped.
   */
  private keepRange(start: number, kept: number): void {
    const cap = capacityFor(Math.max(1, kept));
    const next: (string | undefined)[] = new Array(cap);
    for (let i = 0; i < kept; i++) next[i] = this.at(start + i);
    this.items = next;
    this.head = 0;
    this.len = kept;
  }
}

Object.defineProperty(ListValue.prototype, 'type', { value: 'list', enumerable: true });

/** True if `v` is a list value (as opposed to a string or another aggregate). */
export function isList(v: unknown): v is ListValue {
  return v instanceof ListValue;
}
