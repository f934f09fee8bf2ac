/**
 * The sorted set type. Elements are ordered by score, ties by member bytes
 * (latin1 strings compare char by char, which is byte order). Like Redis 7.0
 * a sorted set has two representations:
 *
 *  - "listpack" (small sets): two parallel arrays, members and scores, kept
 *    sorted. Lookups by member are a linear scan, as in Redis; ranges are
 *    binary searches. A score of -0 is stored as 0, as Redis's listpack does
 *    (it keeps scores as text and prints -0 as "0").
 *  - "skiplist": an order-statistic B+tree (OrderTree below: leaves hold
 *    members and scores in plain arrays, inner nodes hold subtree sizes, so
 *    rank, select and range searches are O(log n)) plus a dense member index
 *    (MemberIndex: Map member -> slot, slots hold member and score) for O(1)
 *    ZSCORE, O(1) random members and a SCAN cursor with Redis's guarantee.
 *
 * A set starts as a listpack and becomes a skiplist, never back, when an
 * insertion takes it above zset-max-listpack-entries members or inserts a
 * member longer than zset-max-listpack-value bytes. Results stored by
 * ZUNIONSTORE & co pick their encoding from the result (`fromSorted`).
 *
 * Lex ranges on a listpack follow Redis's linear scans exactly, so replies
 * match even for sets whose members do not share one score (where the lex
 * order and the set order disagree); on a skiplist they are binary searches,
 * as in Redis (whose answer there depends on the skiplist's random levels).
 */
import type { AggregateValue } from './values.js';

/** zset-max-listpack-entries / zset-max-listpack-value. */
export interface ZSetLimits {
  maxEntries: number;
  maxValue: number;
}

/** A score interval (Redis's zrangespec): min/max, each inclusive or exclusive. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** The "-" and "+" lex bounds: below and above every string. */
export const LEX_MIN: unique symbol = Symbol('-');
export const LEX_MAX: unique symbol = Symbol('+');
export type LexBound = string | typeof LEX_MIN | typeof LEX_MAX;

/** A lex interval (Redis's zlexrangespec). */
export interface LexRange {
  min: LexBound;
  max: LexBound;
  minex: boolean;
  maxex: boolean;
}

/** Redis's sdscmplex: compares strings and the +/- sentinels. */
export function compareLex(a: LexBound, b: LexBound): number {
  if (a === b) return 0;
  if (a === LEX_MIN || b === LEX_MAX) return -1;
  if (a === LEX_MAX || b === LEX_MIN) return 1;
  return a < b ? -1 : 1;
}

export function lexGteMin(m: string, r: LexRange): boolean {
  const c = compareLex(m, r.min);
  return r.minex ? c > 0 : c >= 0;
}

export function lexLteMax(m: string, r: LexRange): boolean {
  const c = compareLex(m, r.max);
  return r.maxex ? c < 0 : c <= 0;
}

export function scoreGteMin(s: number, r: ScoreRange): boolean {
  return r.minex ? s > r.min : s >= r.min;
}

export function scoreLteMax(s: number, r: ScoreRange): boolean {
  return r.maxex ? s < r.max : s <= r.max;
}

/** True for ranges that can hold nothing (min above max, or equal with an open end). */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

export function lexRangeEmpty(r: LexRange): boolean {
  const c = compareLex(r.min, r.max);
  return c > 0 || (c === 0 && (r.minex || r.maxex));
}

/** (s1, m1) < (s2, m2) in set order. */
function keyLess(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

// ---- the B+tree ---------------------------------------------------------------------

/**
 * Node sizes. Leaves split at LEAF_MAX + 1 into halves and are merged or
 * refilled from a sibling below LEAF_MIN, so they stay 25-100% full; bulk
 * builds fill them to LEAF_FILL.
 */
const LEAF_MAX = 64;
const LEAF_MIN = 16;
const LEAF_FILL = 56;
const INNER_MAX = 64;
const INNER_MIN = 16;
const INNER_FILL = 48;

class Leaf {
  prev: Leaf | null = null;
  next: Leaf | null = null;
  constructor(
    public m: string[],
    public s: number[],
  ) {}
}

/**
 * An inner node: children, their element counts, and separators. For j >= 1,
 * (sepS[j], sepM[j]) is above every key of child j-1 and at most every key of
 * child j: a lower bound set when the child was split off or refilled, which
 * inserts and deletes never invalidate. Index 0 is unused (its value means
 * nothing). Scores sit in a plain number array (unboxed doubles), so routing
 * reads one contiguous array and touches member strings only on equal scores.
 */
class Inner {
  constructor(
    public kids: Node[],
    public counts: number[],
    public sepS: number[],
    public sepM: string[],
  ) {}
}

type Node = Leaf | Inner;

function sum(a: number[]): number {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i];
  return t;
}

/** Elements of a node (leaf) or its children count (inner). */
function nodeLen(n: Node): number {
  return n instanceof Leaf ? n.m.length : n.kids.length;
}

/**
 * An order-statistic B+tree of (score, member) pairs with distinct members.
 * The caller guarantees an inserted pair is absent and a removed one present.
 */
export class OrderTree {
  private root: Node = new Leaf([], []);
  /** Levels of inner nodes above the leaves. */
  private height = 0;
  size = 0;
  head: Leaf;
  tail: Leaf;
  /** Descent path scratch: inner node and chosen child at each depth. */
  private pathNode: Inner[] = [];
  private pathIdx: number[] = [];

  constructor() {
    this.head = this.tail = this.root as Leaf;
  }

  /** A tree holding already sorted pairs, built bottom-up in O(n). */
  static build(members: readonly string[], scores: readonly number[]): OrderTree {
    const t = new OrderTree();
    const n = members.length;
    if (n === 0) return t;
    const leafCount = Math.ceil(n / LEAF_FILL);
    let level: Node[] = [];
    let counts: number[] = [];
    let prev: Leaf | null = null;
    for (let i = 0, from = 0; i < leafCount; i++) {
      const to = Math.round(((i + 1) * n) / leafCount);
      const leaf = new Leaf(members.slice(from, to), scores.slice(from, to));
      leaf.prev = prev;
      if (prev) prev.next = leaf;
      else t.head = leaf;
      prev = leaf;
      level.push(leaf);
      counts.push(to - from);
      from = to;
    }
    t.tail = prev!;
    // Lower bound of each node of the current level: the first key under it.
    let lowS = level.map((l) => (l as Leaf).s[0]);
    let lowM = level.map((l) => (l as Leaf).m[0]);
    let height = 0;
    while (level.length > 1) {
      const groups = Math.ceil(level.length / INNER_FILL);
      const up: Node[] = [];
      const upCounts: number[] = [];
      const upS: number[] = [];
      const upM: string[] = [];
      for (let g = 0, from = 0; g < groups; g++) {
        const to = Math.round(((g + 1) * level.length) / groups);
        const cs = counts.slice(from, to);
        up.push(new Inner(level.slice(from, to), cs, lowS.slice(from, to), lowM.slice(from, to)));
        upCounts.push(sum(cs));
        upS.push(lowS[from]);
        upM.push(lowM[from]);
        from = to;
      }
      level = up;
      counts = upCounts;
      lowS = upS;
      lowM = upM;
      height++;
    }
    t.root = level[0];
    t.height = height;
    t.size = n;
    return t;
  }

  /** Child of `node` whose subtree holds the place of (s, m): the last child whose separator <= it. */
  private static route(node: Inner, s: number, m: string): number {
    const ss = node.sepS;
    const ms = node.sepM;
    let lo = 1;
    let hi = ss.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keyLess(s, m, ss[mid], ms[mid])) hi = mid;
      else lo = mid + 1;
    }
    return lo - 1;
  }

  insert(s: number, m: string): void {
    let node = this.root;
    for (let d = 0; d < this.height; d++) {
      const inner = node as Inner;
      const j = OrderTree.route(inner, s, m);
      this.pathNode[d] = inner;
      this.pathIdx[d] = j;
      inner.counts[j]++;
      node = inner.kids[j];
    }
    const leaf = node as Leaf;
    const pos = leafUpperBound(leaf, s, m);
    leaf.m.splice(pos, 0, m);
    leaf.s.splice(pos, 0, s);
    this.size++;
    if (leaf.m.length > LEAF_MAX) this.split(leaf);
  }

  /** Splits an overfull node and its ancestors, bottom-up along the recorded path. */
  private split(node: Node): void {
    for (let d = this.height - 1; ; d--) {
      let right: Node;
      let leftCount: number;
      let rightCount: number;
      let sepS: number;
      let sepM: string;
      if (node instanceof Leaf) {
        if (node.m.length <= LEAF_MAX) return;
        const half = node.m.length >>> 1;
        const r = new Leaf(node.m.splice(half), node.s.splice(half));
        r.next = node.next;
        r.prev = node;
        if (node.next) node.next.prev = r;
        else this.tail = r;
        node.next = r;
        right = r;
        leftCount = node.m.length;
        rightCount = r.m.length;
        sepS = r.s[0];
        sepM = r.m[0];
      } else {
        if (node.kids.length <= INNER_MAX) return;
        const half = node.kids.length >>> 1;
        const r = new Inner(node.kids.splice(half), node.counts.splice(half), node.sepS.splice(half), node.sepM.splice(half));
        right = r;
        leftCount = sum(node.counts);
        rightCount = sum(r.counts);
        // The separator of the right half's first child moves up.
        sepS = r.sepS[0];
        sepM = r.sepM[0];
      }
      if (d < 0) {
        // The root split: grow a level.
        this.root = new Inner([node, right], [leftCount, rightCount], [-Infinity, sepS], ['', sepM]);
        this.height++;
        return;
      }
      const parent = this.pathNode[d];
      const j = this.pathIdx[d];
      parent.kids.splice(j + 1, 0, right);
      parent.counts[j] = leftCount;
      parent.counts.splice(j + 1, 0, rightCount);
      parent.sepS.splice(j + 1, 0, sepS);
      parent.sepM.splice(j + 1, 0, sepM);
      node = parent;
    }
  }

  /** Removes (s, m); returns false if absent. */
  remove(s: number, m: string): boolean {
    let node = this.root;
    for (let d = 0; d < this.height; d++) {
      const inner = node as Inner;
      const j = OrderTree.route(inner, s, m);
      this.pathNode[d] = inner;
      this.pathIdx[d] = j;
      node = inner.kids[j];
    }
    const leaf = node as Leaf;
    const pos = leafUpperBound(leaf, s, m) - 1;
    if (pos < 0 || leaf.m[pos] !== m || leaf.s[pos] !== s) return false;
    this.removeFromLeaf(leaf, pos);
    return true;
  }

  /** Score of the element removed by the last removeAt. */
  removedScore = 0;

  /** Removes the element at `rank` (0-based, in range); returns its member (score in removedScore). */
  removeAt(rank: number): string {
    const leaf = this.descendToRank(rank);
    const i = this.foundIdx;
    const m = leaf.m[i];
    this.removedScore = leaf.s[i];
    this.removeFromLeaf(leaf, i);
    return m;
  }

  /** Removes leaf[pos]; the path to the leaf is recorded. Rebalances bottom-up. */
  private removeFromLeaf(leaf: Leaf, pos: number): void {
    leaf.m.splice(pos, 1);
    leaf.s.splice(pos, 1);
    this.size--;
    for (let d = 0; d < this.height; d++) this.pathNode[d].counts[this.pathIdx[d]]--;
    let node: Node = leaf;
    for (let d = this.height - 1; d >= 0; d--) {
      const isLeaf = node instanceof Leaf;
      if (nodeLen(node) >= (isLeaf ? LEAF_MIN : INNER_MIN)) break;
      const parent = this.pathNode[d];
      const j = this.pathIdx[d];
      const li = j + 1 < parent.kids.length ? j : j - 1;
      this.rebalance(parent, li);
      node = parent;
    }
    while (this.height > 0 && (this.root as Inner).kids.length === 1) {
      this.root = (this.root as Inner).kids[0];
      this.height--;
    }
  }

  /** Merges or evens out the siblings parent.kids[li] and parent.kids[li + 1]. */
  private rebalance(parent: Inner, li: number): void {
    const ri = li + 1;
    const left = parent.kids[li];
    const right = parent.kids[ri];
    if (left instanceof Leaf) {
      const r = right as Leaf;
      const total = left.m.length + r.m.length;
      if (total <= LEAF_MAX) {
        for (let i = 0; i < r.m.length; i++) {
          left.m.push(r.m[i]);
          left.s.push(r.s[i]);
        }
        left.next = r.next;
        if (r.next) r.next.prev = left;
        else this.tail = left;
        this.dropChild(parent, li, ri);
        return;
      }
      const want = total >>> 1;
      if (left.m.length > want) {
        const k = left.m.length - want;
        r.m = left.m.splice(want, k).concat(r.m);
        r.s = left.s.splice(want, k).concat(r.s);
      } else {
        const k = want - left.m.length;
        for (let i = 0; i < k; i++) {
          left.m.push(r.m[i]);
          left.s.push(r.s[i]);
        }
        r.m.splice(0, k);
        r.s.splice(0, k);
      }
      parent.counts[li] = left.m.length;
      parent.counts[ri] = r.m.length;
      parent.sepS[ri] = r.s[0];
      parent.sepM[ri] = r.m[0];
      return;
    }
    const r = right as Inner;
    // The right node's first child has no separator of its own: its bound is the parent's.
    r.sepS[0] = parent.sepS[ri];
    r.sepM[0] = parent.sepM[ri];
    const total = left.kids.length + r.kids.length;
    if (total <= INNER_MAX) {
      for (let i = 0; i < r.kids.length; i++) {
        left.kids.push(r.kids[i]);
        left.counts.push(r.counts[i]);
        left.sepS.push(r.sepS[i]);
        left.sepM.push(r.sepM[i]);
      }
      this.dropChild(parent, li, ri);
      return;
    }
    const want = total >>> 1;
    if (left.kids.length > want) {
      const k = left.kids.length - want;
      r.kids = left.kids.splice(want, k).concat(r.kids);
      r.counts = left.counts.splice(want, k).concat(r.counts);
      r.sepS = left.sepS.splice(want, k).concat(r.sepS);
      r.sepM = left.sepM.splice(want, k).concat(r.sepM);
    } else {
      const k = want - left.kids.length;
      for (let i = 0; i < k; i++) {
        left.kids.push(r.kids[i]);
        left.counts.push(r.counts[i]);
        left.sepS.push(r.sepS[i]);
        left.sepM.push(r.sepM[i]);
      }
      r.kids.splice(0, k);
      r.counts.splice(0, k);
      r.sepS.splice(0, k);
      r.sepM.splice(0, k);
    }
    parent.counts[li] = sum(left.counts);
    parent.counts[ri] = sum(r.counts);
    parent.sepS[ri] = r.sepS[0];
    parent.sepM[ri] = r.sepM[0];
  }

  /** After merging kids[ri] into kids[li]: removes kids[ri] from the parent. */
  private dropChild(parent: Inner, li: number, ri: number): void {
    parent.counts[li] += parent.counts[ri];
    parent.kids.splice(ri, 1);
    parent.counts.splice(ri, 1);
    parent.sepS.splice(ri, 1);
    parent.sepM.splice(ri, 1);
  }

  /** Index inside the leaf found by the last descendToRank. */
  private foundIdx = 0;

  /** Descends to the leaf holding `rank` (recording the path); sets foundIdx. */
  private descendToRank(rank: number): Leaf {
    let node = this.root;
    let r = rank;
    for (let d = 0; d < this.height; d++) {
      const inner = node as Inner;
      const counts = inner.counts;
      let j = 0;
      while (j < counts.length - 1 && r >= counts[j]) {
        r -= counts[j];
        j++;
      }
      this.pathNode[d] = inner;
      this.pathIdx[d] = j;
      node = inner.kids[j];
    }
    this.foundIdx = r;
    return node as Leaf;
  }

  /** Rank of (s, m), or -1 if absent. */
  rank(s: number, m: string): number {
    let node = this.root;
    let rank = 0;
    for (let d = 0; d < this.height; d++) {
      const inner = node as Inner;
      const j = OrderTree.route(inner, s, m);
      for (let k = 0; k < j; k++) rank += inner.counts[k];
      node = inner.kids[j];
    }
    const leaf = node as Leaf;
    const pos = leafUpperBound(leaf, s, m) - 1;
    if (pos < 0 || leaf.m[pos] !== m) return -1;
    return rank + pos;
  }

  /**
   * Number of elements for which `before(score, member)` holds, assuming it
   * holds for a prefix of the order: the rank of the first element where it fails.
   */
  countBefore(before: (s: number, m: string) => boolean): number {
    let node = this.root;
    let rank = 0;
    for (let d = 0; d < this.height; d++) {
      const inner = node as Inner;
      const ss = inner.sepS;
      const ms = inner.sepM;
      // Last child whose separator is still "before" (or child 0): every key
      // left of that child is before, none right of it is.
      let lo = 1;
      let hi = ss.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(ss[mid], ms[mid])) lo = mid + 1;
        else hi = mid;
      }
      const j = lo - 1;
      for (let k = 0; k < j; k++) rank += inner.counts[k];
      node = inner.kids[j];
    }
    const leaf = node as Leaf;
    let lo = 0;
    let hi = leaf.m.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(leaf.s[mid], leaf.m[mid])) lo = mid + 1;
      else hi = mid;
    }
    return rank + lo;
  }

  /** Calls fn for ranks start..end (inclusive, in range), backwards when reverse; fn returning false stops. */
  forRange(start: number, end: number, reverse: boolean, fn: (m: string, s: number) => void | boolean): void {
    if (start > end) return;
    let left = end - start + 1;
    let leaf = this.descendToRank(reverse ? end : start);
    let i = this.foundIdx;
    if (!reverse) {
      for (;;) {
        const ms = leaf.m;
        const ss = leaf.s;
        for (; i < ms.length && left > 0; i++, left--) if (fn(ms[i], ss[i]) === false) return;
        if (left === 0) return;
        leaf = leaf.next!;
        i = 0;
      }
    }
    for (;;) {
      const ms = leaf.m;
      const ss = leaf.s;
      for (; i >= 0 && left > 0; i--, left--) if (fn(ms[i], ss[i]) === false) return;
      if (left === 0) return;
      leaf = leaf.prev!;
      i = leaf.m.length - 1;
    }
  }

  memberAt(rank: number): string {
    const leaf = this.descendToRank(rank);
    return leaf.m[this.foundIdx];
  }

  scoreAt(rank: number): number {
    const leaf = this.descendToRank(rank);
    return leaf.s[this.foundIdx];
  }

  /** Checks the structure (tests): order, counts, separators, links, fill. */
  check(): void {
    let prevKey: [number, string] | null = null;
    /** Returns [count, first key, last key] of the subtree. */
    const walk = (n: Node, depth: number, isRoot: boolean): [number, number, string, number, string] => {
      if (n instanceof Leaf) {
        if (depth !== this.height) throw new Error('leaf at wrong depth');
        if (!isRoot && n.m.length < LEAF_MIN) throw new Error(`underfull leaf ${n.m.length}`);
        if (n.m.length > LEAF_MAX) throw new Error('overfull leaf');
        if (n.m.length !== n.s.length) throw new Error('leaf arrays differ');
        for (let i = 0; i < n.m.length; i++) {
          if (prevKey && !keyLess(prevKey[0], prevKey[1], n.s[i], n.m[i])) throw new Error('out of order');
          prevKey = [n.s[i], n.m[i]];
        }
        const k = n.m.length - 1;
        return [n.m.length, n.s[0], n.m[0], n.s[k], n.m[k]];
      }
      if (!isRoot && n.kids.length < INNER_MIN) throw new Error('underfull inner');
      if (isRoot && n.kids.length < 2) throw new Error('root with one child');
      if (n.kids.length > INNER_MAX) throw new Error('overfull inner');
      const arrays = [n.counts, n.sepS, n.sepM];
      if (arrays.some((a) => a.length !== n.kids.length)) throw new Error('inner arrays differ');
      let total = 0;
      let first: [number, string] = [0, ''];
      let last: [number, string] = [0, ''];
      for (let j = 0; j < n.kids.length; j++) {
        const [c, fs, fm, ls, lm] = walk(n.kids[j], depth + 1, false);
        if (c !== n.counts[j]) throw new Error('bad count');
        if (j > 0) {
          // Separator j: above every key of child j-1, at most every key of child j.
          if (!keyLess(last[0], last[1], n.sepS[j], n.sepM[j])) throw new Error('separator not above the left child');
          if (keyLess(fs, fm, n.sepS[j], n.sepM[j])) throw new Error('separator above the right child');
        } else {
          first = [fs, fm];
        }
        last = [ls, lm];
        total += c;
      }
      return [total, first[0], first[1], last[0], last[1]];
    };
    if (this.size > 0 && walk(this.root, 0, true)[0] !== this.size) throw new Error('bad size');
    if (this.size === 0 && (this.height !== 0 || (this.root as Leaf).m.length !== 0)) throw new Error('bad empty tree');
    let count = 0;
    let back: Leaf | null = null;
    for (let l: Leaf | null = this.head; l; l = l.next) {
      if (l.prev !== back) throw new Error('bad prev link');
      back = l;
      count += l.m.length;
    }
    if (back !== this.tail || count !== this.size) throw new Error('bad leaf chain');
  }
}

/** First index in the leaf whose key is greater than (s, m). */
function leafUpperBound(leaf: Leaf, s: number, m: string): number {
  const ms = leaf.m;
  const ss = leaf.s;
  let lo = 0;
  let hi = ms.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyLess(s, m, ss[mid], ms[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// ---- the member index -------------------------------------------------------------

/**
 * Member -> score for the skiplist form: a Map from member to a slot in dense
 * arrays (the Map holds small integers, so no boxed doubles). Deleting moves
 * the last slot into the hole, so entries only move to lower slots: the SCAN
 * cursor (slots still to visit, walked from high to low) returns every entry
 * present for the whole scan at least once, whatever happens between calls.
 */
class MemberIndex {
  slot = new Map<string, number>();
  members: string[] = [];
  scores: number[] = [];

  get size(): number {
    return this.members.length;
  }

  score(m: string): number | undefined {
    const i = this.slot.get(m);
    return i === undefined ? undefined : this.scores[i];
  }

  add(m: string, s: number): void {
    this.slot.set(m, this.members.length);
    this.members.push(m);
    this.scores.push(s);
  }

  setScore(m: string, s: number): void {
    this.scores[this.slot.get(m)!] = s;
  }

  delete(m: string): void {
    const i = this.slot.get(m)!;
    this.slot.delete(m);
    const last = this.members.length - 1;
    if (i !== last) {
      const lm = this.members[last];
      this.members[i] = lm;
      this.scores[i] = this.scores[last];
      this.slot.set(lm, i);
    }
    this.members.pop();
    this.scores.pop();
  }

  scan(cursor: number, count: number, fn: (m: string, s: number) => void): number {
    let pos = cursor === 0 ? this.members.length : Math.min(cursor, this.members.length);
    for (let visited = 0; pos > 0 && visited < count; visited++) {
      pos--;
      fn(this.members[pos], this.scores[pos]);
    }
    return pos;
  }

  clone(): MemberIndex {
    const c = new MemberIndex();
    c.slot = new Map(this.slot);
    c.members = this.members.slice();
    c.scores = this.scores.slice();
    return c;
  }
}

/** The skiplist form: the ordered tree plus the member index. */
class BigZSet {
  constructor(
    public tree: OrderTree,
    public index: MemberIndex,
  ) {}
}

// ---- the value ------------------------------------------------------------------

/** Redis's listpack keeps scores as text and writes -0 as "0". */
function packedScore(s: number): number {
  return s === 0 ? 0 : s;
}

export class ZSetValue implements AggregateValue {
  declare readonly type: 'zset';
  /** Listpack form: members and scores, sorted. Empty when `big` is set. */
  private m: string[] = [];
  private s: number[] = [];
  private big: BigZSet | null = null;

  get size(): number {
    return this.big !== null ? this.big.tree.size : this.m.length;
  }

  /** What OBJECT ENCODING reports. */
  encoding(): 'listpack' | 'skiplist' {
    return this.big === null ? 'listpack' : 'skiplist';
  }

  /**
   * A set from sorted, distinct pairs (results of ZUNIONSTORE, ZRANGESTORE, ...),
   * with the encoding Redis gives a stored result: listpack if it fits the limits.
   */
  static fromSorted(members: string[], scores: number[], limits: ZSetLimits): ZSetValue {
    const z = new ZSetValue();
    let fits = members.length <= limits.maxEntries;
    for (let i = 0; fits && i < members.length; i++) if (members[i].length > limits.maxValue) fits = false;
    if (fits) {
      z.m = members;
      z.s = scores.map(packedScore);
    } else {
      z.setBig(members, scores);
    }
    return z;
  }

  /** A set built by inserting pairs one by one (tests). */
  static from(pairs: Iterable<readonly [string, number]>, limits: ZSetLimits): ZSetValue {
    const z = new ZSetValue();
    for (const [m, s] of pairs) {
      const cur = z.score(m);
      if (cur === undefined) z.insert(m, s, limits);
      else z.update(m, cur, s);
    }
    return z;
  }

  private setBig(members: string[], scores: number[]): void {
    const index = new MemberIndex();
    for (let i = 0; i < members.length; i++) index.add(members[i], scores[i]);
    this.big = new BigZSet(OrderTree.build(members, scores), index);
    this.m = [];
    this.s = [];
  }

  /** Switches to the skiplist form (no-op if there already). */
  convert(): void {
    if (this.big === null) this.setBig(this.m, this.s);
  }

  score(member: string): number | undefined {
    const big = this.big;
    if (big !== null) return big.index.score(member);
    const i = this.m.indexOf(member);
    return i < 0 ? undefined : this.s[i];
  }

  /**
   * Adds a member that is not in the set (Redis's zsetAdd insertion path):
   * converts first when the set would outgrow the listpack limits.
   */
  insert(member: string, score: number, limits: ZSetLimits): void {
    if (this.big === null && (this.m.length + 1 > limits.maxEntries || member.length > limits.maxValue)) this.convert();
    const big = this.big;
    if (big !== null) {
      big.tree.insert(score, member);
      big.index.add(member, score);
      return;
    }
    score = packedScore(score);
    const pos = this.upperBound(score, member);
    this.m.splice(pos, 0, member);
    this.s.splice(pos, 0, score);
  }

  /** Changes the score of a present member from `old` to `score`. */
  update(member: string, old: number, score: number): void {
    const big = this.big;
    if (big !== null) {
      big.tree.remove(old, member);
      big.tree.insert(score, member);
      big.index.setScore(member, score);
      return;
    }
    const i = this.m.indexOf(member);
    this.m.splice(i, 1);
    this.s.splice(i, 1);
    score = packedScore(score);
    const pos = this.upperBound(score, member);
    this.m.splice(pos, 0, member);
    this.s.splice(pos, 0, score);
  }

  /** Removes a member; returns whether it was there. */
  delete(member: string): boolean {
    const big = this.big;
    if (big !== null) {
      const s = big.index.score(member);
      if (s === undefined) return false;
      big.tree.remove(s, member);
      big.index.delete(member);
      return true;
    }
    const i = this.m.indexOf(member);
    if (i < 0) return false;
    this.m.splice(i, 1);
    this.s.splice(i, 1);
    return true;
  }

  /** 0-based rank in ascending order, or -1. */
  rank(member: string): number {
    const big = this.big;
    if (big !== null) {
      const s = big.index.score(member);
      return s === undefined ? -1 : big.tree.rank(s, member);
    }
    return this.m.indexOf(member);
  }

  memberAt(rank: number): string {
    return this.big !== null ? this.big.tree.memberAt(rank) : this.m[rank];
  }

  scoreAt(rank: number): number {
    return this.big !== null ? this.big.tree.scoreAt(rank) : this.s[rank];
  }

  /**
   * Calls fn for the elements of ranks start..end (inclusive, in range),
   * backwards when reverse; fn returning false stops the walk.
   */
  forRange(start: number, end: number, reverse: boolean, fn: (member: string, score: number) => void | boolean): void {
    const big = this.big;
    if (big !== null) {
      big.tree.forRange(start, end, reverse, fn);
      return;
    }
    const m = this.m;
    const s = this.s;
    if (reverse) {
      for (let i = end; i >= start; i--) if (fn(m[i], s[i]) === false) return;
    } else {
      for (let i = start; i <= end; i++) if (fn(m[i], s[i]) === false) return;
    }
  }

  /** Every element in order; fn returning false stops. */
  forEach(fn: (member: string, score: number) => void | boolean): void {
    if (this.size > 0) this.forRange(0, this.size - 1, false, fn);
  }

  /** Rank of the first element where `before` fails (before holds for a prefix). */
  private countBefore(before: (s: number, m: string) => boolean): number {
    const big = this.big;
    if (big !== null) return big.tree.countBefore(before);
    let lo = 0;
    let hi = this.m.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.s[mid], this.m[mid])) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index of the listpack form whose key is greater than (score, member). */
  private upperBound(score: number, member: string): number {
    let lo = 0;
    let hi = this.m.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keyLess(score, member, this.s[mid], this.m[mid])) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Ranks [first, last] of the elements in a score range; first > last when empty. */
  scoreRange(r: ScoreRange): [number, number] {
    if (scoreRangeEmpty(r) || this.size === 0) return [0, -1];
    const first = this.countBefore((s) => !scoreGteMin(s, r));
    const last = this.countBefore((s) => scoreLteMax(s, r)) - 1;
    return [first, last];
  }

  /**
   * Ranks [first, last] of a lex range; first > last when empty. `reverse`
   * selects the scan direction Redis uses on a listpack (from the tail, for
   * ZREVRANGEBYLEX), which only matters when members have different scores.
   */
  lexRange(r: LexRange, reverse: boolean): [number, number] {
    const n = this.size;
    if (lexRangeEmpty(r) || n === 0) return [0, -1];
    // zzlIsInLexRange / zslIsInLexRange: the last element must reach min, the first max.
    if (!lexGteMin(this.memberAt(n - 1), r) || !lexLteMax(this.memberAt(0), r)) return [0, -1];
    if (this.big !== null) {
      const first = this.countBefore((_s, m) => !lexGteMin(m, r));
      const last = this.countBefore((_s, m) => lexLteMax(m, r)) - 1;
      return [first, last];
    }
    const m = this.m;
    if (!reverse) {
      // zzlFirstInLexRange, then forward while <= max.
      let i = 0;
      while (i < n && !lexGteMin(m[i], r)) i++;
      let j = i;
      while (j < n && lexLteMax(m[j], r)) j++;
      return [i, j - 1];
    }
    // zzlLastInLexRange, then backward while >= min.
    let j = n - 1;
    while (j >= 0 && !lexLteMax(m[j], r)) j--;
    let i = j;
    while (i >= 0 && lexGteMin(m[i], r)) i--;
    return [i + 1, j];
  }

  /**
   * Removes ranks start..end (inclusive, in range); calls onRemove for each
   * removed member. Large ranges rebuild the tree in O(n) instead of paying
   * O(log n) per element.
   */
  removeRange(start: number, end: number, onRemove?: (member: string, score: number) => void): number {
    const count = end - start + 1;
    if (count <= 0) return 0;
    const big = this.big;
    if (big === null) {
      const removed = this.m.splice(start, count);
      const removedScores = this.s.splice(start, count);
      if (onRemove) for (let i = 0; i < removed.length; i++) onRemove(removed[i], removedScores[i]);
      return count;
    }
    const tree = big.tree;
    if (count > 64 && count * 4 > tree.size) {
      const keepM: string[] = [];
      const keepS: number[] = [];
      let rank = 0;
      tree.forRange(0, tree.size - 1, false, (m, s) => {
        if (rank < start || rank > end) {
          keepM.push(m);
          keepS.push(s);
        } else {
          big.index.delete(m);
          if (onRemove) onRemove(m, s);
        }
        rank++;
      });
      big.tree = OrderTree.build(keepM, keepS);
      return count;
    }
    for (let i = 0; i < count; i++) {
      const m = tree.removeAt(start);
      big.index.delete(m);
      if (onRemove) onRemove(m, tree.removedScore);
    }
    return count;
  }

  /**
   * One ZSCAN step: calls fn for visited elements, returns the next cursor.
   * A listpack is returned whole with cursor 0, whatever the cursor (as Redis).
   */
  scan(cursor: number, count: number, fn: (member: string, score: number) => void): number {
    const big = this.big;
    if (big !== null) return big.index.scan(cursor, count, fn);
    for (let i = 0; i < this.m.length; i++) fn(this.m[i], this.s[i]);
    return 0;
  }

  /** A uniformly random element. */
  randomEntry(): [string, number] {
    const big = this.big;
    if (big !== null) {
      const i = Math.floor(Math.random() * big.index.size);
      return [big.index.members[i], big.index.scores[i]];
    }
    const i = Math.floor(Math.random() * this.m.length);
    return [this.m[i], this.s[i]];
  }

  /** Element by position in the member index (skiplist) or rank (listpack); 0 <= i < size. */
  entryAtSlot(i: number): [string, number] {
    const big = this.big;
    return big !== null ? [big.index.members[i], big.index.scores[i]] : [this.m[i], this.s[i]];
  }

  /** An independent copy with the same representation (COPY). */
  clone(): ZSetValue {
    const z = new ZSetValue();
    const big = this.big;
    if (big === null) {
      z.m = this.m.slice();
      z.s = this.s.slice();
    } else {
      const members: string[] = [];
      const scores: number[] = [];
      big.tree.forRange(0, big.tree.size - 1, false, (m, s) => {
        members.push(m);
        scores.push(s);
      });
      z.big = new BigZSet(OrderTree.build(members, scores), big.index.clone());
    }
    return z;
  }

  /** Structure check for tests. */
  check(): void {
    if (this.big !== null) {
      this.big.tree.check();
      if (this.big.index.size !== this.big.tree.size) throw new Error('index and tree sizes differ');
      return;
    }
    for (let i = 1; i < this.m.length; i++) {
      if (!keyLess(this.s[i - 1], this.m[i - 1], this.s[i], this.m[i])) throw new Error('listpack out of order');
    }
  }
}

// The type tag lives on the prototype: one less slot in every sorted set.
Object.defineProperty(ZSetValue.prototype, 'type', { value: 'zset', enumerable: true });

export function isZSet(v: unknown): v is ZSetValue {
  return v instanceof ZSetValue;
}
