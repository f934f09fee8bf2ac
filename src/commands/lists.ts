/**
 * List commands: the push/pop family, LLEN, LRANGE, LINDEX, LSET, LINSERT,
 * LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP, and the blocking BLPOP, BRPOP,
 * BLMOVE, BRPOPLPUSH and BLMPOP.
 *
 * Check order, replies and effects (dirty, keyspace events, propagation)
 * follow Redis 7.0's t_list.c, so the same error wins and an error changes
 * nothing. An emptied list is deleted (with a "del" event), as Redis does.
 *
 * Blocking (see blocking-pop.ts): a blocking command that finds data behaves
 * like its non-blocking form and is propagated as such (BLPOP -> LPOP key,
 * BLMOVE -> LMOVE, BLMPOP -> LPOP key n); otherwise the client waits and
 * `serve` pops for it when a key it waits on gets a list.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Database } from '../db/database.js';
import type { Value } from '../data/values.js';
import { ListValue, isList } from '../data/list.js';
import { parseInt64 } from '../util/numbers.js';
import { WRONGTYPE, ERR_SYNTAX, ERR_NOT_INT, ERR_MUST_BE_POSITIVE, ERR_NO_SUCH_KEY, errWrongArity, ofTypeOrReply } from './errors.js';
import { blockTimeoutMs, blockingPop, mayBlock, parseMpop, parseTimeoutSeconds, type PopSource } from './blocking-pop.js';
import { optIs } from './strings.js';

// Kept here for callers that imported them from lists.ts before blocking-pop.ts existed.
export { parseTimeoutSeconds, ERR_TIMEOUT_NEGATIVE, ERR_TIMEOUT_NOT_FLOAT } from './blocking-pop.js';

const ERR_INDEX_OUT_OF_RANGE = 'ERR index out of range';
const ERR_RANK_ZERO =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const ERR_LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative";
const ERR_LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative";

/** LONG_MIN: LPOS accepts it as a RANK and Redis's negation of it wraps (see lpos). */
const LONG_MIN = -9223372036854775808;

// ---- shared helpers ---------------------------------------------------------------

/** LEFT -> true (head), RIGHT -> false (tail), anything else null (syntax error). */
function parseSide(arg: string): boolean | null {
  if (optIs(arg, 'left')) return true;
  if (optIs(arg, 'right')) return false;
  return null;
}

/** The list held by `v` (a lookup's result): undefined when missing, null after replying WRONGTYPE. */
function getList(c: Client, v: Value | undefined): ListValue | undefined | null {
  return ofTypeOrReply(c, v, isList);
}

/** Redis's getPositiveLongFromObjectOrReply: an int64 >= 0, or null after replying `msg`. */
function parseNonNegative(c: Client, arg: string, msg: string): number | null {
  const n = parseInt64(arg);
  if (n === null || n < 0) {
    c.addError(msg);
    return null;
  }
  return n;
}

/** Redis's getLongFromObjectOrReply with the default message. */
function parseLong(c: Client, arg: string): number | null {
  const n = parseInt64(arg);
  if (n === null) c.addError(ERR_NOT_INT);
  return n;
}

/**
 * Redis's range normalisation for LRANGE and the count forms of pops: negative
 * indexes count from the tail; returns [start, end] clamped, or null for an empty range.
 */
function clampRange(len: number, start: number, end: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

/**
 * Array reply of elements [start, end], reversed (tail first) when `reverse`. Each element
 * is framed straight into the reply buffer (addBulk copies short strings by a JS loop), which
 * costs less than joining the frames into a string first (measured: 3-4x for LRANGE of
 * 3-byte values, and no worse for long ones).
 */
function replyRange(c: Client, list: ListValue, start: number, end: number, reverse: boolean): void {
  c.addArrayLen(end - start + 1);
  if (reverse) for (let i = end; i >= start; i--) c.addBulk(list.at(i));
  else for (let i = start; i <= end; i++) c.addBulk(list.at(i));
}

/**
 * After elements were popped from `key`: the lpop/rpop event, deletion of an
 * emptied list (with its "del" event), WATCH signal and dirty, as Redis's
 * listElementsRemoved. Returns true if the key was deleted.
 */
function elementsRemoved(c: Client, db: Database, key: string, list: ListValue, front: boolean, count: number): boolean {
  const server = c.server;
  server.notifier.notify('l', front ? 'lpop' : 'rpop', key, db.id);
  let deleted = false;
  if (list.length === 0) {
    db.delete(key);
    server.notifier.notify('g', 'del', key, db.id);
    deleted = true;
  } else {
    db.signalModified(key);
  }
  server.dirty += count;
  return deleted;
}

/**
 * Pushes `value` onto `dstKey` (creating the list if `dst` is undefined) and
 * replies with it: Redis's lmoveHandlePush. A new list wakes its waiters
 * through db.set, which is how a served BLMOVE chains to the next waiter.
 */
function pushForMove(c: Client, db: Database, dstKey: string, dst: ListValue | undefined, value: string, front: boolean): void {
  if (dst === undefined) {
    dst = new ListValue();
    if (front) dst.pushFront(value);
    else dst.pushBack(value);
    db.set(dstKey, dst);
  } else {
    if (front) dst.pushFront(value);
    else dst.pushBack(value);
    db.signalModified(dstKey);
    db.signalReady(dstKey);
  }
  c.server.notifier.notify('l', front ? 'lpush' : 'rpush', dstKey, db.id);
  c.addBulk(value);
}

/**
 * Moves one element from `src` (non-empty) to `dstKey` and replies with it:
 * Redis's lmoveGenericCommand once the checks passed. `dst` must have been
 * looked up before the pop, so LMOVE k k rotates a one-element list in place.
 */
function moveElement(
  c: Client,
  db: Database,
  srcKey: string,
  src: ListValue,
  dstKey: string,
  dst: ListValue | undefined,
  fromFront: boolean,
  toFront: boolean,
): void {
  const value = (fromFront ? src.popFront() : src.popBack()) as string;
  pushForMove(c, db, dstKey, dst, value, toFront);
  const server = c.server;
  server.notifier.notify('l', fromFront ? 'lpop' : 'rpop', srcKey, db.id);
  if (src.length === 0) {
    db.delete(srcKey);
    server.notifier.notify('g', 'del', srcKey, db.id);
  } else {
    db.signalModified(srcKey);
  }
  server.dirty++;
}

/** The argv an LMOVE/RPOPLPUSH is propagated as. */
function moveArgv(rpoplpush: boolean, src: string, dst: string, fromFront: boolean, toFront: boolean): string[] {
  if (rpoplpush) return ['RPOPLPUSH', src, dst];
  return ['LMOVE', src, dst, fromFront ? 'LEFT' : 'RIGHT', toFront ? 'LEFT' : 'RIGHT'];
}

/**
 * Pops one element for BLPOP/BRPOP: replies [key, value] and returns the
 * command to propagate (LPOP key / RPOP key).
 */
function popOneWithKey(c: Client, db: Database, key: string, list: ListValue, front: boolean): string[] {
  const value = (front ? list.popFront() : list.popBack()) as string;
  c.addArrayLen(2);
  c.addBulk(key);
  c.addBulk(value);
  elementsRemoved(c, db, key, list, front, 1);
  return [front ? 'LPOP' : 'RPOP', key];
}

/**
 * Pops up to `count` elements for LMPOP/BLMPOP: replies [key, [elements]] and
 * returns the command to propagate (LPOP key n / RPOP key n).
 */
function popRangeWithKey(c: Client, db: Database, key: string, list: ListValue, front: boolean, count: number): string[] {
  c.addArrayLen(2);
  c.addBulk(key);
  const n = popRange(c, db, key, list, front, count);
  return [front ? 'LPOP' : 'RPOP', key, String(n)];
}

/**
 * Pops up to `count` elements from a non-empty list, replies them as an array
 * (in pop order) and returns how many were popped.
 */
function popRange(c: Client, db: Database, key: string, list: ListValue, front: boolean, count: number): number {
  const n = Math.min(count, list.length);
  if (front) {
    replyRange(c, list, 0, n - 1, false);
    list.removeFront(n);
  } else {
    replyRange(c, list, list.length - n, list.length - 1, true);
    list.removeBack(n);
  }
  elementsRemoved(c, db, key, list, front, n);
  return n;
}

// ---- push -----------------------------------------------------------------------------

/** LPUSH/RPUSH (create the list) and LPUSHX/RPUSHX (only if it exists). */
function pushCommand(front: boolean, onlyIfExists: boolean) {
  const event = front ? 'lpush' : 'rpush';
  return (c: Client, argv: string[]): void => {
    const db = c.db;
    const key = argv[1];
    const list = getList(c, db.lookupWrite(key));
    if (list === null) return;
    const n = argv.length - 2;
    if (list === undefined) {
      if (onlyIfExists) {
        c.addInt(0);
        return;
      }
      const created = new ListValue(n);
      for (let i = 2; i < argv.length; i++) {
        if (front) created.pushFront(argv[i]);
        else created.pushBack(argv[i]);
      }
      db.set(key, created);
      c.addInt(created.length);
    } else {
      for (let i = 2; i < argv.length; i++) {
        if (front) list.pushFront(argv[i]);
        else list.pushBack(argv[i]);
      }
      db.signalModified(key);
      db.signalReady(key);
      c.addInt(list.length);
    }
    c.server.dirty += n;
    c.server.notifier.notify('l', event, key, db.id);
  };
}

// ---- pop ------------------------------------------------------------------------------

/** LPOP/RPOP key [count]. */
function popCommand(front: boolean) {
  const name = front ? 'lpop' : 'rpop';
  return (c: Client, argv: string[]): void => {
    if (argv.length > 3) {
      c.addError(errWrongArity(name));
      return;
    }
    const hasCount = argv.length === 3;
    let count = 0;
    if (hasCount) {
      const n = parseNonNegative(c, argv[2], ERR_MUST_BE_POSITIVE);
      if (n === null) return;
      count = n;
    }
    const db = c.db;
    const key = argv[1];
    const list = getList(c, db.lookupWrite(key));
    if (list === null) return;
    if (list === undefined) {
      if (hasCount) c.addNullArray();
      else c.addNull();
      return;
    }
    if (hasCount && count === 0) {
      c.addEmptyArray();
      return;
    }
    if (!hasCount) {
      c.addBulk((front ? list.popFront() : list.popBack()) as string);
      elementsRemoved(c, db, key, list, front, 1);
      return;
    }
    popRange(c, db, key, list, front, count);
  };
}

// ---- reads -----------------------------------------------------------------------------

function llen(c: Client, argv: string[]): void {
  const list = getList(c, c.db.lookupRead(argv[1]));
  if (list === null) return;
  c.addInt(list === undefined ? 0 : list.length);
}

function lrange(c: Client, argv: string[]): void {
  const start = parseLong(c, argv[2]);
  if (start === null) return;
  const end = parseLong(c, argv[3]);
  if (end === null) return;
  const list = getList(c, c.db.lookupRead(argv[1]));
  if (list === null) return;
  if (list === undefined) {
    c.addEmptyArray();
    return;
  }
  const r = clampRange(list.length, start, end);
  if (r === null) c.addEmptyArray();
  else replyRange(c, list, r[0], r[1], false);
}

function lindex(c: Client, argv: string[]): void {
  const list = getList(c, c.db.lookupRead(argv[1]));
  if (list === null) return;
  if (list === undefined) {
    c.addNull();
    return;
  }
  let index = parseLong(c, argv[2]);
  if (index === null) return;
  if (index < 0) index += list.length;
  if (index < 0 || index >= list.length) c.addNull();
  else c.addBulk(list.at(index));
}

/** LPOS key element [RANK r] [COUNT n] [MAXLEN m]. */
function lpos(c: Client, argv: string[]): void {
  const element = argv[2];
  let rank = 1;
  let count = -1; // -1: no COUNT option
  let maxlen = 0; // 0: no limit
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j];
    const more = argv.length - 1 - j;
    if (optIs(opt, 'rank') && more > 0) {
      const r = parseLong(c, argv[++j]);
      if (r === null) return;
      if (r === 0) {
        c.addError(ERR_RANK_ZERO);
        return;
      }
      rank = r;
    } else if (optIs(opt, 'count') && more > 0) {
      const n = parseNonNegative(c, argv[++j], ERR_LPOS_COUNT_NEGATIVE);
      if (n === null) return;
      count = n;
    } else if (optIs(opt, 'maxlen') && more > 0) {
      const n = parseNonNegative(c, argv[++j], ERR_LPOS_MAXLEN_NEGATIVE);
      if (n === null) return;
      maxlen = n;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  // A negative rank scans from the tail. Redis negates LONG_MIN into itself, so
  // then every match qualifies and COUNT never stops the scan.
  const fromTail = rank < 0;
  const unbounded = rank === LONG_MIN;
  if (unbounded) rank = 1;
  else if (fromTail) rank = -rank;

  const list = getList(c, c.db.lookupRead(argv[1]));
  if (list === null) return;
  if (list === undefined) {
    if (count !== -1) c.addEmptyArray();
    else c.addNull();
    return;
  }
  const len = list.length;
  const limit = maxlen === 0 ? len : Math.min(maxlen, len);
  const found: number[] = [];
  let matches = 0;
  for (let k = 0; k < limit; k++) {
    const index = fromTail ? len - 1 - k : k;
    if (list.at(index) !== element) continue;
    matches++;
    if (matches < rank) continue;
    found.push(index);
    if (count === -1) break;
    if (count !== 0 && !unbounded && matches - rank + 1 >= count) break;
  }
  if (count !== -1) {
    c.addArrayLen(found.length);
    for (const i of found) c.addInt(i);
  } else if (found.length > 0) {
    c.addInt(found[0]);
  } else {
    c.addNull();
  }
}

// ---- in-place writes ---------------------------------------------------------------------

function lset(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  const list = getList(c, db.lookupWrite(key));
  if (list === null) return;
  if (list === undefined) {
    c.addError(ERR_NO_SUCH_KEY);
    return;
  }
  let index = parseLong(c, argv[2]);
  if (index === null) return;
  if (index < 0) index += list.length;
  if (index < 0 || index >= list.length) {
    c.addError(ERR_INDEX_OUT_OF_RANGE);
    return;
  }
  list.set(index, argv[3]);
  c.addOK();
  db.signalModified(key);
  c.server.notifier.notify('l', 'lset', key, db.id);
  c.server.dirty++;
}

/** LINSERT key BEFORE|AFTER pivot element: inserts next to the first pivot from the head. */
function linsert(c: Client, argv: string[]): void {
  let after: boolean;
  if (optIs(argv[2], 'after')) after = true;
  else if (optIs(argv[2], 'before')) after = false;
  else {
    c.addError(ERR_SYNTAX);
    return;
  }
  const db = c.db;
  const key = argv[1];
  const list = getList(c, db.lookupWrite(key));
  if (list === null) return;
  if (list === undefined) {
    c.addInt(0);
    return;
  }
  const pivot = list.indexOf(argv[3]);
  if (pivot < 0) {
    c.addInt(-1);
    return;
  }
  list.insert(after ? pivot + 1 : pivot, argv[4]);
  db.signalModified(key);
  c.server.notifier.notify('l', 'linsert', key, db.id);
  c.server.dirty++;
  c.addInt(list.length);
}

/** LREM key count element. */
function lrem(c: Client, argv: string[]): void {
  const count = parseLong(c, argv[2]);
  if (count === null) return;
  const db = c.db;
  const key = argv[1];
  const list = getList(c, db.lookupWrite(key));
  if (list === null) return;
  if (list === undefined) {
    c.addInt(0);
    return;
  }
  // count = LONG_MIN stays negative when Redis negates it: remove all, from the tail.
  const removed = list.removeValue(argv[3], count === LONG_MIN ? -Infinity : count);
  if (removed > 0) {
    c.server.dirty += removed;
    c.server.notifier.notify('l', 'lrem', key, db.id);
  }
  if (list.length === 0) {
    db.delete(key);
    c.server.notifier.notify('g', 'del', key, db.id);
  } else if (removed > 0) {
    db.signalModified(key);
  }
  c.addInt(removed);
}

/** LTRIM key start stop. */
function ltrim(c: Client, argv: string[]): void {
  const start = parseLong(c, argv[2]);
  if (start === null) return;
  const end = parseLong(c, argv[3]);
  if (end === null) return;
  const db = c.db;
  const key = argv[1];
  const list = getList(c, db.lookupWrite(key));
  if (list === null) return;
  if (list === undefined) {
    c.addOK();
    return;
  }
  const len = list.length;
  const r = clampRange(len, start, end);
  let removed: number;
  if (r === null) {
    removed = len;
    list.trim(1, 0);
  } else {
    removed = len - (r[1] - r[0] + 1);
    list.trim(r[0], r[1]);
  }
  c.server.notifier.notify('l', 'ltrim', key, db.id);
  if (list.length === 0) {
    db.delete(key);
    c.server.notifier.notify('g', 'del', key, db.id);
  } else {
    db.signalModified(key);
  }
  c.server.dirty += removed;
  c.addOK();
}

// ---- moves --------------------------------------------------------------------------------

/**
 * LMOVE/RPOPLPUSH once the sides are parsed. The reply for a missing source is
 * a null bulk. `propagate` is the argv to propagate as (for the blocking forms).
 */
function lmoveGeneric(c: Client, argv: string[], fromFront: boolean, toFront: boolean, propagate: string[] | null): void {
  const db = c.db;
  const srcKey = argv[1];
  const dstKey = argv[2];
  const src = getList(c, db.lookupWrite(srcKey));
  if (src === null) return;
  if (src === undefined || src.length === 0) {
    c.addNull();
    return;
  }
  const dst = getList(c, db.lookupWrite(dstKey));
  if (dst === null) return;
  moveElement(c, db, srcKey, src, dstKey, dst, fromFront, toFront);
  if (propagate !== null) c.propagateAs = propagate;
}

function lmove(c: Client, argv: string[]): void {
  const from = parseSide(argv[3]);
  const to = from === null ? null : parseSide(argv[4]);
  if (from === null || to === null) {
    c.addError(ERR_SYNTAX);
    return;
  }
  lmoveGeneric(c, argv, from, to, null);
}

function rpoplpush(c: Client, argv: string[]): void {
  lmoveGeneric(c, argv, false, true, null);
}

// ---- multi-key pops ------------------------------------------------------------------------

function lmpop(c: Client, argv: string[]): void {
  const args = parseMpop(c, argv, 1, 'left', 'right');
  if (args === null) return;
  const db = c.db;
  for (const key of args.keys) {
    const list = getList(c, db.lookupWrite(key));
    if (list === null) return;
    if (list === undefined || list.length === 0) continue;
    c.propagateAs = popRangeWithKey(c, db, key, list, args.fromStart, args.count);
    return;
  }
  c.addNullArray();
}

// ---- blocking ---------------------------------------------------------------------------------

const LISTS: PopSource<ListValue> = {
  is: isList,
  isEmpty: (list) => list.length === 0,
};

function blpopCommand(front: boolean) {
  return (c: Client, argv: string[]): void => {
    blockingPop(c, argv, argv.slice(1, -1), argv[argv.length - 1], LISTS, (cl, db, key, list) => popOneWithKey(cl, db, key, list, front));
  };
}

function blmpop(c: Client, argv: string[]): void {
  // Redis parses numkeys, the side and COUNT before the timeout.
  const args = parseMpop(c, argv, 2, 'left', 'right');
  if (args === null) return;
  const { fromStart, count } = args;
  blockingPop(c, argv, args.keys, argv[1], LISTS, (cl, db, key, list) => popRangeWithKey(cl, db, key, list, fromStart, count));
}

/** BLMOVE/BRPOPLPUSH once the sides are parsed. */
function blmoveGeneric(c: Client, argv: string[], fromFront: boolean, toFront: boolean, timeoutArg: string, rpoplpush: boolean): void {
  const timeout = parseTimeoutSeconds(timeoutArg);
  if (typeof timeout === 'string') {
    c.addError(timeout);
    return;
  }
  const db = c.db;
  const srcKey = argv[1];
  const dstKey = argv[2];
  const src = getList(c, db.lookupWrite(srcKey));
  if (src === null) return;
  if (src !== undefined && src.length > 0) {
    lmoveGeneric(c, argv, fromFront, toFront, moveArgv(rpoplpush, srcKey, dstKey, fromFront, toFront));
    return;
  }
  if (!mayBlock(c)) {
    // Redis answers a null bulk here, unlike the null array of a real timeout.
    c.addNull();
    return;
  }
  c.server.blocking.block(c, c.current!, argv, {
    keys: [srcKey],
    timeoutMs: blockTimeoutMs(c, timeout),
    serve: (cl: Client): boolean => {
      const sdb = cl.db;
      const list = sdb.lookupWrite(srcKey);
      if (!isList(list) || list.length === 0) return false;
      const dv = sdb.lookupWrite(dstKey);
      if (dv !== undefined && !isList(dv)) {
        // Redis 7.0 unblocks the client with the error and leaves the source alone.
        cl.addError(WRONGTYPE);
        return true;
      }
      moveElement(cl, sdb, srcKey, list, dstKey, dv, fromFront, toFront);
      cl.server.propagate(sdb.id, moveArgv(rpoplpush, srcKey, dstKey, fromFront, toFront));
      return true;
    },
  });
}

function blmove(c: Client, argv: string[]): void {
  const from = parseSide(argv[3]);
  const to = from === null ? null : parseSide(argv[4]);
  if (from === null || to === null) {
    c.addError(ERR_SYNTAX);
    return;
  }
  blmoveGeneric(c, argv, from, to, argv[5], false);
}

function brpoplpush(c: Client, argv: string[]): void {
  blmoveGeneric(c, argv, false, true, argv[3], true);
}

export const commands: CommandImpl[] = [
  { name: 'lpush', summary: 'Prepends elements to a list, creating it if needed.', handler: pushCommand(true, false) },
  { name: 'rpush', summary: 'Appends elements to a list, creating it if needed.', handler: pushCommand(false, false) },
  { name: 'lpushx', summary: 'Prepends elements to a list only if it already exists.', handler: pushCommand(true, true) },
  { name: 'rpushx', summary: 'Appends elements to a list only if it already exists.', handler: pushCommand(false, true) },
  { name: 'lpop', summary: 'Removes and returns the first element(s) of a list.', handler: popCommand(true) },
  { name: 'rpop', summary: 'Removes and returns the last element(s) of a list.', handler: popCommand(false) },
  { name: 'llen', summary: 'Returns the number of elements in a list.', handler: llen },
  { name: 'lrange', summary: 'Returns the elements between two indexes of a list.', handler: lrange },
  { name: 'lindex', summary: 'Returns the element at an index of a list.', handler: lindex },
  { name: 'lset', summary: 'Replaces the element at an index of a list.', handler: lset },
  { name: 'linsert', summary: 'Inserts an element before or after the first occurrence of a pivot.', handler: linsert },
  { name: 'lrem', summary: 'Removes occurrences of an element from a list.', handler: lrem },
  { name: 'ltrim', summary: 'Keeps only the elements between two indexes of a list.', handler: ltrim },
  { name: 'lpos', summary: 'Returns the index(es) of matching elements in a list.', handler: lpos },
  { name: 'lmove', summary: 'Pops an element from one list and pushes it onto another.', handler: lmove },
  { name: 'rpoplpush', summary: 'Moves the last element of a list to the head of another.', handler: rpoplpush },
  { name: 'lmpop', summary: 'Pops elements from the first non-empty list among several.', handler: lmpop },
  { name: 'blpop', summary: 'Pops the first element of the first non-empty list, waiting for one if needed.', handler: blpopCommand(true) },
  { name: 'brpop', summary: 'Pops the last element of the first non-empty list, waiting for one if needed.', handler: blpopCommand(false) },
  { name: 'blmove', summary: 'Moves an element between lists, waiting for the source to have one.', handler: blmove },
  { name: 'brpoplpush', summary: 'Moves the last element of a list to another, waiting if needed.', handler: brpoplpush },
  { name: 'blmpop', summary: 'Pops elements from the first non-empty list among several, waiting if needed.', handler: blmpop },
];
