/**
 * What SCAN, HSCAN, SSCAN and ZSCAN share (Redis's parseScanCursorOrReply and
 * scanGenericCommand): the cursor, the MATCH/COUNT/TYPE options with Redis
 * 7.0's checks in its order, and the [cursor, elements] reply. Each command
 * keeps its own walk and filter (keys expire, hashes reply pairs, sorted sets
 * format scores).
 *
 * Redis checks in this order: the cursor; then (H/S/ZSCAN) the key's type,
 * a missing key answering an empty scan without looking at the options; then
 * the options left to right, the first bad one answering its error. Option
 * names compare like strcasecmp on C strings ("COUNT\0x" is COUNT).
 */
import type { Client } from '../server/client.js';
import type { Value } from '../data/values.js';
import { parseInt64 } from '../util/numbers.js';
import { ERR_NOT_INT, ERR_SYNTAX, ofTypeOrReply } from './errors.js';
import { optIs } from './strings.js';

const ERR_INVALID_CURSOR = 'ERR invalid cursor';
const TWO_POW_64 = 1n << 64n;

/**
 * Parses a SCAN cursor as Redis does (strtoul, but no leading space): an optional
 * sign, decimal digits, nothing after; "" is 0 and "-n" wraps modulo 2^64.
 */
export function parseScanCursor(s: string): bigint | null {
  if (s.length === 0) return 0n;
  let i = 0;
  const first = s.charCodeAt(0);
  if (first === 45 || first === 43) i = 1; // '-' or '+'
  // strtoul stops at a NUL byte, which Redis then takes as the end of the string.
  let end = s.indexOf('\0', i);
  if (end < 0) end = s.length;
  if (end === i) return null;
  for (let j = i; j < end; j++) {
    const ch = s.charCodeAt(j);
    if (ch < 48 || ch > 57) return null;
  }
  const v = BigInt(s.slice(i, end));
  if (v >= TWO_POW_64) return null;
  return first === 45 && v !== 0n ? TWO_POW_64 - v : v;
}

/** The cursor, or null after replying "invalid cursor". */
export function scanCursorOrReply(c: Client, arg: string): bigint | null {
  const cursor = parseScanCursor(arg);
  if (cursor === null) c.addError(ERR_INVALID_CURSOR);
  return cursor;
}

export interface ScanOptions {
  /** COUNT: how much work one call does (default 10). */
  count: number;
  /** MATCH pattern, null when absent or "*" (everything matches). */
  pattern: string | null;
  /** TYPE (SCAN only), lowercased; null when absent. */
  typeName: string | null;
}

/**
 * Parses `[MATCH pattern] [COUNT n] [TYPE t]` from argv[from] on. Each option
 * needs its value; the last of a repeated option wins; COUNT must be an
 * integer (ERR_NOT_INT) of at least 1 (syntax error); TYPE is an option of
 * SCAN only (`withType`). Replies the first error and returns null.
 */
export function parseScanOptions(c: Client, argv: string[], from: number, withType: boolean): ScanOptions | null {
  const opts: ScanOptions = { count: 10, pattern: null, typeName: null };
  for (let i = from; i < argv.length; i += 2) {
    const opt = argv[i];
    if (i + 1 >= argv.length) {
      c.addError(ERR_SYNTAX);
      return null;
    }
    const value = argv[i + 1];
    if (optIs(opt, 'count')) {
      const n = parseInt64(value);
      if (n === null) {
        c.addError(ERR_NOT_INT);
        return null;
      }
      if (n < 1) {
        c.addError(ERR_SYNTAX);
        return null;
      }
      opts.count = n;
    } else if (optIs(opt, 'match')) {
      opts.pattern = value === '*' ? null : value;
    } else if (withType && optIs(opt, 'type')) {
      opts.typeName = value.toLowerCase();
    } else {
      c.addError(ERR_SYNTAX);
      return null;
    }
  }
  return opts;
}

/** Where to resume in a table of `size` slots: a cursor past the end resumes at the end (and finishes). */
export function scanStart(cursor: bigint, size: number): number {
  return cursor > BigInt(size) ? size : Number(cursor);
}

/** What HSCAN, SSCAN and ZSCAN go on with once their arguments are checked. */
export interface KeyScan<T> {
  /** The hash, set or sorted set. */
  value: T;
  /** The slot to resume at (see scanStart). */
  start: number;
  count: number;
  pattern: string | null;
}

/**
 * `HSCAN|SSCAN|ZSCAN key cursor [MATCH pattern] [COUNT n]` up to the walk, in
 * Redis's order: the cursor, the key's type (`is`), the options. A missing
 * key answers an empty scan without looking at the options. Returns null
 * after replying (an error or that empty scan).
 */
export function beginKeyScan<T extends Value & { readonly size: number }>(c: Client, argv: string[], is: (v: Value) => v is T): KeyScan<T> | null {
  const cursor = scanCursorOrReply(c, argv[2]);
  if (cursor === null) return null;
  const value = ofTypeOrReply(c, c.db.lookupRead(argv[1]), is);
  if (value === null) return null;
  if (value === undefined) {
    c.addArrayLen(2);
    c.addBulk('0');
    c.addEmptyArray();
    return null;
  }
  const opts = parseScanOptions(c, argv, 3, false);
  if (opts === null) return null;
  return { value, start: scanStart(cursor, value.size), count: opts.count, pattern: opts.pattern };
}

/** The reply: the next cursor (0 when done) and the elements found. */
export function addScanReply(c: Client, next: number, elements: string[]): void {
  c.addArrayLen(2);
  c.addBulk(String(next));
  c.addBulks(elements);
}
