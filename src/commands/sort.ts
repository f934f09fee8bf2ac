/**
 * SORT and SORT_RO (Redis 7.0's sort.c semantics).
 *
 * SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
 * [ALPHA] [STORE destination] sorts the elements of a list, set or sorted
 * set, numerically by default, and replies them (or what GET patterns point
 * to), or stores them as a list.
 *
 * What decides the exact output, as in Redis:
 *  - Options are parsed left to right (the last LIMIT/BY/STORE wins), all
 *    before the key is looked up, so a syntax error beats WRONGTYPE. A BY
 *    pattern without '*' turns sorting off for good ("dontsort"), even if a
 *    later BY has one.
 *  - Numeric values are read with strtod: leading blanks, hex and "inf" are
 *    accepted, trailing text, NaN, overflow and underflow are not, and any
 *    such value makes the whole command fail (after the other elements were
 *    still looked up). A missing BY key counts as 0 (ALPHA: sorts first).
 *  - Equal numeric scores are ordered by the elements' bytes. ALPHA compares
 *    with strcoll (byte order up to the first NUL in the C.UTF-8 locale
 *    Redis runs in) when replying, and with plain byte comparison when
 *    storing. Ties that remain (ALPHA BY with equal or missing values) keep
 *    the order Redis's sort leaves them in: glibc's qsort is a stable merge
 *    sort, and with BY plus a LIMIT that does not cover everything Redis uses
 *    its partial quicksort (pqsort, Bentley-McIlroy), reproduced below.
 *  - Without sorting, lists and sorted sets keep their order (reversed by
 *    DESC) and sets their iteration order, except that a set is sorted ALPHA
 *    when the result is stored or the command runs from a script, so
 *    replicas see the same thing.
 *  - A sorted set is converted to the skiplist encoding first (Redis does it
 *    destructively, even for SORT_RO and even when the command then fails).
 *  - STORE writes a list (a "sortstore" event) or deletes the destination
 *    when the result is empty, and replies the number of stored elements.
 */
import { optIs } from './strings.js';
import type { Command, CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Database } from '../db/database.js';
import { ListValue, isList } from '../data/list.js';
import { SetValue } from '../data/set.js';
import { HashValue } from '../data/hash.js';
import { isZSet } from '../data/zset.js';
import { isString, stringOf } from '../data/values.js';
import { parseDoubleStrtod, parseInt64, scanStrtod } from '../util/numbers.js';
import { ERR_NOT_INT, ERR_SYNTAX, WRONGTYPE } from './errors.js';

const ERR_SCORES = "ERR One or more scores can't be converted into double";

/**
 * True when `arg` equals `lower` (lowercase ASCII) case-insensitively, as
 * Redis's strcasecmp on C strings: the argument ends at its first NUL byte.
 */
/** Index of `ch` in `s` read as a C string (stopping at the first NUL), or -1. */
function cIndexOf(s: string, ch: string, from = 0): number {
  const nul = s.indexOf('\0', from);
  const i = s.indexOf(ch, from);
  return i >= 0 && (nul < 0 || i < nul) ? i : -1;
}

// ---- Redis's partial quicksort -------------------------------------------------------------

/**
 * Redis's pqsort: the Bentley-McIlroy quicksort of NetBSD's libc (median of
 * three, ninther above 40 elements, three-way partitioning, insertion sort
 * below 7 elements), which skips the partitions lying entirely outside
 * [lrange, rrange]. Redis 7.0's copy has no "nothing swapped: switch to
 * insertion sort" shortcut (checked against redis-server 7.0.15: with it,
 * ties come out in another order). Only the elements
 * in that range end up in sorted order. It is not stable, so elements that
 * compare equal land where this exact algorithm puts them; SORT and the GEO
 * searches rely on it to order ties as Redis does.
 */
export function pqsort<T>(a: T[], cmp: (x: T, y: T) => number, lrange: number, rrange: number): void {
  // Redis compares byte addresses: element i spans [i*es, i*es + es - 1]. With es = 2:
  sortPart(a, 0, a.length, cmp, 2 * lrange, 2 * (rrange + 1) - 1);
}

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function insertionSort<T>(a: T[], base: number, n: number, cmp: (x: T, y: T) => number): void {
  for (let pm = base + 1; pm < base + n; pm++) {
    for (let pl = pm; pl > base && cmp(a[pl - 1], a[pl]) > 0; pl--) swap(a, pl, pl - 1);
  }
}

function med3<T>(a: T[], i: number, j: number, k: number, cmp: (x: T, y: T) => number): number {
  return cmp(a[i], a[j]) < 0
    ? cmp(a[j], a[k]) < 0
      ? j
      : cmp(a[i], a[k]) < 0
        ? k
        : i
    : cmp(a[j], a[k]) > 0
      ? j
      : cmp(a[i], a[k]) < 0
        ? i
        : k;
}

/** True when the partition [base, base + n) holds nothing of the wanted range (in "byte" units). */
function outsideRange(base: number, n: number, lb: number, rb: number): boolean {
  const l = 2 * base;
  const r = 2 * (base + n) - 1;
  return (lb < l && rb < l) || (lb > r && rb > r);
}

function sortPart<T>(a: T[], base: number, n: number, cmp: (x: T, y: T) => number, lb: number, rb: number): void {
  for (;;) {
    if (n < 7) {
      insertionSort(a, base, n, cmp);
      return;
    }
    let pm = base + Math.floor(n / 2);
    if (n > 7) {
      let pl = base;
      let pn = base + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(a, pm - d, pm, pm + d, cmp);
        pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(a, pl, pm, pn, cmp);
    }
    swap(a, base, pm);
    let pa = base + 1;
    let pb = pa;
    let pc = base + n - 1;
    let pd = pc;
    for (;;) {
      let r: number;
      while (pb <= pc && (r = cmp(a[pb], a[base])) <= 0) {
        if (r === 0) {
          swap(a, pa, pb);
          pa++;
        }
        pb++;
      }
      while (pb <= pc && (r = cmp(a[pc], a[base])) >= 0) {
        if (r === 0) {
          swap(a, pc, pd);
          pd--;
        }
        pc--;
      }
      if (pb > pc) break;
      swap(a, pb, pc);
      pb++;
      pc--;
    }
    const end = base + n;
    // Move the elements equal to the pivot from both ends to the middle.
    let r = Math.min(pa - base, pb - pa);
    for (let i = 0; i < r; i++) swap(a, base + i, pb - r + i);
    r = Math.min(pd - pc, end - pd - 1);
    for (let i = 0; i < r; i++) swap(a, pb + i, end - r + i);
    if ((r = pb - pa) > 1 && !outsideRange(base, r, lb, rb)) sortPart(a, base, r, cmp, lb, rb);
    if ((r = pd - pc) > 1) {
      const next = end - r;
      if (!outsideRange(next, r, lb, rb)) {
        base = next;
        n = r;
        continue;
      }
    }
    return;
  }
}

// ---- comparisons ---------------------------------------------------------------------

/** Redis's compareStringObjects: memcmp on the common prefix, then the shorter first. */
function compareBinary(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** strcoll in the C.UTF-8 locale: byte order of the C strings (up to the first NUL). */
function compareCollate(a: string, b: string): number {
  const na = a.indexOf('\0');
  const nb = b.indexOf('\0');
  return compareBinary(na < 0 ? a : a.slice(0, na), nb < 0 ? b : b.slice(0, nb));
}

/**
 * The numeric value of a sort key read as Redis does (strtod on the C
 * string, all of it consumed; NaN and ERANGE refused), or null.
 */
function sortScore(s: string): number | null {
  const sc = scanStrtod(s);
  if (sc.end < s.length && s.charCodeAt(sc.end) !== 0) return null;
  if (sc.kind === 'nan') return null;
  const v = parseDoubleStrtod(s.slice(0, sc.end));
  if (v === null) return null;
  if (sc.kind === 'dec' || sc.kind === 'hex') {
    // glibc reports ERANGE on overflow and on results below the normal range.
    const abs = Math.abs(v);
    if (abs === Infinity || (abs < 2.2250738585072014e-308 && /[1-9a-fA-F]/.test(sc.digits))) return null;
  }
  return v;
}

// ---- pattern lookups ---------------------------------------------------------------------

/**
 * Redis's lookupKeyByPattern: "#" is the element itself; otherwise the first
 * '*' is replaced by the element and the key read (a string), or with
 * "->field" after the '*' a hash field. Null when there is no '*', the key is
 * missing or of another type, or the field is missing. Patterns are C
 * strings there: a NUL ends the search for '*' and "->".
 */
function lookupByPattern(db: Database, pattern: string, subst: string): string | null {
  if (pattern.charCodeAt(0) === 35 /* # */ && (pattern.length === 1 || pattern.charCodeAt(1) === 0)) return subst;
  const star = cIndexOf(pattern, '*');
  if (star < 0) return null;
  const arrow = cIndexOf(pattern, '->', star + 1);
  let field: string | null = null;
  let keyEnd = pattern.length;
  if (arrow >= 0 && arrow + 2 < pattern.length && pattern.charCodeAt(arrow + 2) !== 0) {
    field = pattern.slice(arrow + 2);
    keyEnd = arrow;
  }
  const key = pattern.slice(0, star) + subst + pattern.slice(star + 1, keyEnd);
  const v = db.lookupRead(key);
  if (v === undefined) return null;
  if (field !== null) {
    if (!(v instanceof HashValue)) return null;
    return v.get(field) ?? null;
  }
  return isString(v) ? stringOf(v) : null;
}

// ---- the command -----------------------------------------------------------------------------

interface SortItem {
  obj: string;
  score: number;
  /** ALPHA with BY: the looked-up value, null when missing. */
  cmp: string | null;
}

function item(obj: string): SortItem {
  return { obj, score: 0, cmp: null };
}

function sortGeneric(c: Client, argv: string[], readonly: boolean): void {
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storekey: string | null = null;
  const gets: string[] = [];

  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const a = argv[j];
    if (optIs(a, 'asc')) {
      desc = false;
    } else if (optIs(a, 'desc')) {
      desc = true;
    } else if (optIs(a, 'alpha')) {
      alpha = true;
    } else if (optIs(a, 'limit') && left >= 2) {
      const s = parseInt64(argv[j + 1]);
      const n = s === null ? null : parseInt64(argv[j + 2]);
      if (s === null || n === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      limitStart = s;
      limitCount = n;
      j += 2;
    } else if (!readonly && optIs(a, 'store') && left >= 1) {
      storekey = argv[++j];
    } else if (optIs(a, 'by') && left >= 1) {
      sortby = argv[++j];
      // A pattern without '*' names one constant key: nothing to sort by.
      if (cIndexOf(sortby, '*') < 0) dontsort = true;
      else {
        // A real pattern reads keys nobody declared: refused in cluster mode and without full read access.
        const refused = patternRefusal(c, cmd(c), argv, 'BY');
        if (refused !== null) {
          c.addError(refused);
          return;
        }
      }
    } else if (optIs(a, 'get') && left >= 1) {
      const refused = patternRefusal(c, cmd(c), argv, 'GET');
      if (refused !== null) {
        c.addError(refused);
        return;
      }
      gets.push(argv[++j]);
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }

  const db = c.db;
  const v = db.lookupRead(argv[1]);
  if (v !== undefined && !isList(v) && !(v instanceof SetValue) && !isZSet(v)) {
    c.addError(WRONGTYPE);
    return;
  }

  // A set has no order of its own: sort it when the result must be reproducible.
  if (dontsort && v instanceof SetValue && (storekey !== null || c.inScript)) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }
  if (isZSet(v)) v.convert();

  const size = v === undefined ? 0 : isList(v) ? v.length : v.size;
  // LIMIT, clamped to the object's size first (no overflow on huge values).
  let start = Math.min(Math.max(limitStart, 0), size);
  const count = Math.min(Math.max(limitCount, -1), size);
  let end = count < 0 ? size - 1 : start + count - 1;
  if (start >= size) {
    start = size - 1;
    end = size - 2;
  }
  if (end >= size) end = size - 1;

  const vector: SortItem[] = [];
  if (v === undefined) {
    // An empty list.
  } else if (isList(v)) {
    if (dontsort) {
      // The list's own order (reversed by DESC), only the LIMIT range.
      if (end >= start) {
        const n = end - start + 1;
        if (desc) for (let i = 0; i < n; i++) vector.push(item(v.at(size - 1 - start - i)));
        else for (let i = 0; i < n; i++) vector.push(item(v.at(start + i)));
        end -= start;
        start = 0;
      }
    } else {
      for (let i = 0; i < size; i++) vector.push(item(v.at(i)));
    }
  } else if (v instanceof SetValue) {
    v.forEach((m) => {
      vector.push(item(m));
    });
  } else if (dontsort) {
    // The sorted set's order (reversed by DESC), only the LIMIT range.
    const n = end - start + 1;
    if (n > 0) v.forRange(desc ? size - 1 - end : start, desc ? size - 1 - start : end, desc, (m) => {
        vector.push(item(m));
      });
    end -= start;
    start = 0;
  } else {
    v.forEach((m) => {
      vector.push(item(m));
    });
  }

  let conversionError = false;
  if (!dontsort) {
    for (const it of vector) {
      let byval: string | null;
      if (sortby !== null) {
        byval = lookupByPattern(db, sortby, it.obj);
        if (byval === null) continue;
      } else {
        byval = it.obj;
      }
      if (alpha) {
        if (sortby !== null) it.cmp = byval;
      } else {
        const s = sortScore(byval);
        if (s === null) conversionError = true;
        else it.score = s;
      }
    }
    if (!conversionError) {
      const cmp = comparator(desc, alpha, sortby !== null, storekey !== null);
      if (sortby !== null && (start !== 0 || end !== vector.length - 1)) pqsort(vector, cmp, start, end);
      else vector.sort(cmp); // stable, like glibc's merge-sort qsort
    }
  }

  const outputLen = gets.length > 0 ? gets.length * (end - start + 1) : end - start + 1;
  if (conversionError) {
    c.addError(ERR_SCORES);
    return;
  }
  if (storekey === null) {
    c.addArrayLen(outputLen);
    for (let j = start; j <= end; j++) {
      const obj = vector[j].obj;
      if (gets.length === 0) c.addBulk(obj);
      for (const pattern of gets) {
        const val = lookupByPattern(db, pattern, obj);
        if (val === null) c.addNull();
        else c.addBulk(val);
      }
    }
    return;
  }
  const out: string[] = [];
  for (let j = start; j <= end; j++) {
    const obj = vector[j].obj;
    if (gets.length === 0) out.push(obj);
    for (const pattern of gets) out.push(lookupByPattern(db, pattern, obj) ?? '');
  }
  const server = c.server;
  if (outputLen > 0) {
    db.set(storekey, ListValue.from(out));
    server.notifier.notify('l', 'sortstore', storekey, db.id);
    server.dirty += outputLen;
  } else if (db.delete(storekey)) {
    server.notifier.notify('g', 'del', storekey, db.id);
    server.dirty++;
  }
  c.addInt(outputLen);
}

/** Redis's sortCompare for the given options. */
function comparator(desc: boolean, alpha: boolean, byPattern: boolean, store: boolean): (a: SortItem, b: SortItem) => number {
  const strcmp = store ? compareBinary : compareCollate;
  let cmp: (a: SortItem, b: SortItem) => number;
  if (!alpha) {
    cmp = (a, b) => (a.score > b.score ? 1 : a.score < b.score ? -1 : compareBinary(a.obj, b.obj));
  } else if (byPattern) {
    cmp = (a, b) => {
      if (a.cmp === null || b.cmp === null) return a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
      return strcmp(a.cmp, b.cmp);
    };
  } else {
    cmp = (a, b) => strcmp(a.obj, b.obj);
  }
  return desc ? (a, b) => -cmp(a, b) : cmp;
}

function sort(c: Client, argv: string[]): void {
  sortGeneric(c, argv, false);
}

function sortRo(c: Client, argv: string[]): void {
  sortGeneric(c, argv, true);
}

export const commands: CommandImpl[] = [
  { name: 'sort', summary: 'Sorts the elements of a list, set or sorted set, replying or storing them as a list.', handler: sort },
  { name: 'sort_ro', summary: 'Sorts the elements of a list, set or sorted set and replies them (no STORE).', handler: sortRo },
];

function cmd(c: Client): Command | null {
  return c.current;
}

/**
 * SORT's BY (with a pattern) and GET read keys computed from the elements, which
 * no key spec declares: as Redis, they are refused in cluster mode, and unless
 * one of the user's selectors allows the command with read access to every key.
 */
function patternRefusal(c: Client, command: Command | null, argv: string[], option: 'BY' | 'GET'): string | null {
  const server = c.server;
  if (server.cluster !== null) return `ERR ${option} option of SORT denied in Cluster mode.`;
  if (!server.aclActive || command === null) return null;
  if (server.acl.hasUnrestrictedReadAccess(c, command, argv)) return null;
  return `ERR ${option} option of SORT denied due to insufficient ACL permissions.`;
}
