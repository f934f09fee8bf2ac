/**
 * Set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SPOP
 * SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN
 * (Redis 7.0).
 *
 * Check order follows Redis so the same error wins and an error changes
 * nothing: argument syntax first (counts, numkeys, cursors), then the keys'
 * types (every key, before any work), then the work. A set left empty is
 * deleted; a store whose result is empty deletes its destination.
 *
 * Reply order follows Redis where Redis's order is deterministic: intsets are
 * sorted, SINTER walks its smallest set, and SUNION/SDIFF (and SPOP of a whole
 * set) reply from a freshly built result set, which is an intset, hence
 * sorted, whenever the members allow it.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { NotifyClass } from '../server/notify.js';
import { DenseSet, SetValue } from '../data/set.js';
import type { Value } from '../data/values.js';
import { parseInt64, parseInteger, parseLongLong } from '../util/numbers.js';
import { globMatch } from '../util/glob.js';
import {
  ERR_COUNT_RANGE,
  ERR_LIMIT_NEGATIVE,
  ERR_MUST_BE_POSITIVE,
  ERR_NOT_INT,
  ERR_NUMKEYS,
  ERR_OUT_OF_RANGE,
  ERR_SYNTAX,
  LONG_MAX,
  WRONGTYPE,
  ofTypeOrReply,
} from './errors.js';
import { addScanReply, beginKeyScan } from './scan.js';
import { optIs } from './strings.js';

const ERR_NUMKEYS_ARGS = "ERR Number of keys can't be greater than number of args";
/**
 * SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with a negative count repeat
 * members, so their reply can be endless (Redis would fill memory until the
 * client is dropped). We refuse counts whose reply could not fit in a Node
 * buffer anyway.
 */
export const MAX_REPEATED_COUNT = 2 ** 31;
/** Redis's SRANDMEMBER_SUB_STRATEGY_MUL and SPOP_MOVE_STRATEGY_MUL. */
const SRANDMEMBER_SUB_STRATEGY_MUL = 3;
const SPOP_MOVE_STRATEGY_MUL = 5;

function maxIntsetOf(c: Client): number {
  return c.server.config.setMaxIntsetEntries;
}

function isSet(v: Value): v is SetValue {
  return v instanceof SetValue;
}

/** The set at `key` (read lookup): undefined when missing, null after replying WRONGTYPE. */
function readSet(c: Client, key: string): SetValue | undefined | null {
  return ofTypeOrReply(c, c.db.lookupRead(key), isSet);
}

/** The set at `key` (write lookup): undefined when missing, null after replying WRONGTYPE. */
function writeSet(c: Client, key: string): SetValue | undefined | null {
  return ofTypeOrReply(c, c.db.lookupWrite(key), isSet);
}

/** Replies every member of a set as a RESP3 set (array in RESP2), in position order. */
function replySet(c: Client, set: SetValue): void {
  c.addSetLen(set.size);
  set.forEach((m) => c.addBulk(m));
}

/** Replies a list of members as a RESP3 set (array in RESP2). */
function replyMembers(c: Client, members: readonly string[]): void {
  c.addSetLen(members.length);
  for (let i = 0; i < members.length; i++) c.addBulk(members[i]);
}

/** Whether adding all members of `set` to a new set would leave it an intset. */
function fitsIntset(set: SetValue, maxIntset: number): boolean {
  if (set.size > maxIntset) return false;
  if (set.encoding() === 'intset') return true;
  for (let i = 0; i < set.size; i++) if (parseInteger(set.memberAt(i)) === null) return false;
  return true;
}

/**
 * `count` distinct positions in [0, size) (count < size), uniformly at random,
 * in no particular order; O(count) expected. Shared with HRANDFIELD and ZRANDMEMBER.
 */
export function distinctIndexes(size: number, count: number): Iterable<number> {
  if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
    // Many of them: a partial Fisher-Yates shuffle (size < 3 * count, so still O(count)).
    const idx = new Int32Array(size);
    for (let i = 0; i < size; i++) idx[i] = i;
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx.subarray(0, count);
  }
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(Math.random() * size));
  return picked;
}

/**
 * The count argument (argv[2]) of SRANDMEMBER, HRANDFIELD and ZRANDMEMBER, and
 * the flag the latter two take (argv[3]: `withOpt`, WITHVALUES or WITHSCORES;
 * null for SRANDMEMBER), checked in Redis's order. Returns the count, or null
 * after replying the error.
 */
export function randomCountOrReply(c: Client, argv: string[], withOpt: string | null): bigint | null {
  const l = parseLongLong(argv[2]);
  if (l === null) {
    c.addError(ERR_NOT_INT);
    return null;
  }
  if (l < -LONG_MAX) {
    c.addError(ERR_COUNT_RANGE);
    return null;
  }
  if (argv.length > 4 || (argv.length === 4 && (withOpt === null || !optIs(argv[3], withOpt)))) {
    c.addError(ERR_SYNTAX);
    return null;
  }
  // With the flag Redis doubles the count for the reply length, so it caps it at LONG_MAX/2.
  if (argv.length === 4 && (l < -(LONG_MAX / 2n) || l > LONG_MAX / 2n)) {
    c.addError(ERR_OUT_OF_RANGE);
    return null;
  }
  return l;
}

// ---- SADD, SREM, SMOVE ----------------------------------------------------------

function sadd(c: Client, argv: string[]): void {
  const key = argv[1];
  const found = writeSet(c, key);
  if (found === null) return;
  const set = found ?? new SetValue();
  const max = maxIntsetOf(c);
  let added = 0;
  for (let j = 2; j < argv.length; j++) if (set.add(argv[j], max)) added++;
  if (found === undefined) c.db.set(key, set);
  else if (added > 0) c.db.signalModified(key);
  if (added > 0) c.server.notifier.notify('s', 'sadd', key, c.db.id);
  c.server.dirty += added;
  c.addInt(added);
}

function srem(c: Client, argv: string[]): void {
  const key = argv[1];
  const set = writeSet(c, key);
  if (set === null) return;
  if (set === undefined) c.addInt(0);
  else removeMembers(c, key, set, argv, 's', 'srem');
}

/** What HDEL, SREM and ZREM remove from. */
export interface MemberContainer {
  readonly size: number;
  delete(member: string): boolean;
}

/**
 * HDEL, SREM and ZREM once the key's value is found: removes argv[2..] from
 * `v`, deleting the key (and stopping) when it empties, as Redis does; then
 * the `event` of class `cls` and "del", the dirty count, and the reply: how
 * many were removed.
 */
export function removeMembers(c: Client, key: string, v: MemberContainer, argv: string[], cls: NotifyClass, event: string): void {
  const db = c.db;
  let deleted = 0;
  let removed = false;
  for (let j = 2; j < argv.length; j++) {
    if (v.delete(argv[j])) {
      deleted++;
      if (v.size === 0) {
        db.delete(key);
        removed = true;
        break;
      }
    }
  }
  if (deleted > 0) {
    if (!removed) db.signalModified(key);
    c.server.notifier.notify(cls, event, key, db.id);
    if (removed) c.server.notifier.notify('g', 'del', key, db.id);
    c.server.dirty += deleted;
  }
  c.addInt(deleted);
}

function smove(c: Client, argv: string[]): void {
  const srcKey = argv[1];
  const dstKey = argv[2];
  const member = argv[3];
  const srcVal = c.db.lookupWrite(srcKey);
  const dstVal = c.db.lookupWrite(dstKey);
  // A missing source answers 0 before the destination's type is looked at (as Redis).
  if (srcVal === undefined) {
    c.addInt(0);
    return;
  }
  if (!isSet(srcVal) || (dstVal !== undefined && !isSet(dstVal))) {
    c.addError(WRONGTYPE);
    return;
  }
  if (srcVal === dstVal) {
    c.addInt(srcVal.has(member) ? 1 : 0);
    return;
  }
  if (!srcVal.delete(member)) {
    c.addInt(0);
    return;
  }
  const notifier = c.server.notifier;
  const db = c.db;
  notifier.notify('s', 'srem', srcKey, db.id);
  if (srcVal.size === 0) {
    db.delete(srcKey);
    notifier.notify('g', 'del', srcKey, db.id);
  } else {
    db.signalModified(srcKey);
  }
  c.server.dirty++;
  const dst = dstVal ?? new SetValue();
  if (dst.add(member, maxIntsetOf(c))) {
    if (dstVal === undefined) db.set(dstKey, dst);
    else db.signalModified(dstKey);
    c.server.dirty++;
    notifier.notify('s', 'sadd', dstKey, db.id);
  }
  c.addInt(1);
}

// ---- readers ---------------------------------------------------------------------

function scard(c: Client, argv: string[]): void {
  const set = readSet(c, argv[1]);
  if (set === null) return;
  c.addInt(set === undefined ? 0 : set.size);
}

function sismember(c: Client, argv: string[]): void {
  const set = readSet(c, argv[1]);
  if (set === null) return;
  c.addInt(set !== undefined && set.has(argv[2]) ? 1 : 0);
}

function smismember(c: Client, argv: string[]): void {
  const set = readSet(c, argv[1]);
  if (set === null) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) c.addInt(set !== undefined && set.has(argv[j]) ? 1 : 0);
}

/** SMEMBERS: in Redis 7.0 this is SINTER of one key (a RESP3 set, `~0` when missing). */
function smembers(c: Client, argv: string[]): void {
  const set = readSet(c, argv[1]);
  if (set === null) return;
  if (set === undefined) c.addSetLen(0);
  else replySet(c, set);
}

// ---- SRANDMEMBER -------------------------------------------------------------------

function srandmember(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    c.addError(ERR_SYNTAX);
    return;
  }
  if (argv.length === 3) {
    srandmemberWithCount(c, argv);
    return;
  }
  const set = readSet(c, argv[1]);
  if (set === null) return;
  if (set === undefined) c.addNull();
  else c.addBulk(set.memberAt(set.randomIndex()));
}

function srandmemberWithCount(c: Client, argv: string[]): void {
  const l = randomCountOrReply(c, argv, null);
  if (l === null) return;
  const set = readSet(c, argv[1]);
  if (set === null) return;
  if (set === undefined || l === 0n) {
    c.addEmptyArray();
    return;
  }
  const size = set.size;
  // A negative count may repeat members (and so may a count of 1, trivially).
  if (l < 0n || l === 1n) {
    const big = l < 0n ? -l : l;
    if (big > BigInt(MAX_REPEATED_COUNT)) {
      c.addError(ERR_OUT_OF_RANGE);
      return;
    }
    const count = Number(big);
    c.addArrayLen(count);
    for (let i = 0; i < count; i++) {
      c.addBulk(set.memberAt(Math.floor(Math.random() * size)));
      if (c.closeAsap) break; // over its output limit: the reply would be dropped anyway, as Redis stops
    }
    return;
  }
  if (l >= BigInt(size)) {
    // The whole set, in its own order (sorted for an intset, as Redis).
    c.addArrayLen(size);
    set.forEach((m) => c.addBulk(m));
    return;
  }
  const count = Number(l);
  c.addArrayLen(count);
  for (const i of distinctIndexes(size, count)) c.addBulk(set.memberAt(i));
}

// ---- SPOP ----------------------------------------------------------------------------

function spop(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    c.addError(ERR_SYNTAX);
    return;
  }
  if (argv.length === 3) {
    spopWithCount(c, argv);
    return;
  }
  const key = argv[1];
  const set = writeSet(c, key);
  if (set === null) return;
  if (set === undefined) {
    c.addNull();
    return;
  }
  const member = set.removeAt(set.randomIndex());
  const db = c.db;
  c.server.notifier.notify('s', 'spop', key, db.id);
  // Replicas and the AOF must remove the same member: propagate as SREM (as Redis).
  c.propagateAs = ['SREM', key, member];
  c.addBulk(member);
  if (set.size === 0) {
    db.delete(key);
    c.server.notifier.notify('g', 'del', key, db.id);
  } else {
    db.signalModified(key);
  }
  c.server.dirty++;
}

/**
 * SPOP key count, Redis 7.0's three cases: the whole set (then the key is
 * deleted and the command propagates as DEL); a few random members popped one
 * by one; or, when most of the set goes, the members that stay are picked and
 * become a NEW set (so a table can become an intset again, as in Redis).
 * Redis propagates cases 2 and 3 as one `SREM key member` per popped member
 * inside MULTI/EXEC; we propagate a single `SREM key m1 m2 ...`, which has the
 * same effect on a replica or AOF replay.
 */
function spopWithCount(c: Client, argv: string[]): void {
  const n = parseInt64(argv[2]);
  if (n === null || n < 0) {
    c.addError(ERR_MUST_BE_POSITIVE);
    return;
  }
  const key = argv[1];
  const set = writeSet(c, key);
  if (set === null) return;
  if (set === undefined || n === 0) {
    c.addSetLen(0);
    return;
  }
  const db = c.db;
  const notifier = c.server.notifier;
  const max = maxIntsetOf(c);
  const size = set.size;
  notifier.notify('s', 'spop', key, db.id);
  c.server.dirty += n;

  if (n >= size) {
    // Case 1: reply as SUNION of the set would, then delete the key.
    const copy = new DenseSet();
    set.forEach((m) => copy.add(m));
    replySet(c, SetValue.fromTable(copy, max));
    db.delete(key);
    notifier.notify('g', 'del', key, db.id);
    c.propagateAs = ['DEL', key];
    return;
  }

  const count = n;
  const remaining = size - count;
  const popped: string[] = ['SREM', key];
  c.addSetLen(count);
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    // Case 2: pop random members one by one.
    for (let i = 0; i < count; i++) {
      const m = set.removeAt(set.randomIndex());
      c.addBulk(m);
      popped.push(m);
    }
    db.signalModified(key);
  } else {
    // Case 3: pick the members that stay, reply the rest, store the survivors as a new set.
    const kept = new Uint8Array(size);
    const survivors = new DenseSet();
    for (const i of distinctIndexes(size, remaining)) {
      kept[i] = 1;
      survivors.add(set.memberAt(i));
    }
    for (let i = 0; i < size; i++) {
      if (kept[i] === 1) continue;
      const m = set.memberAt(i);
      c.addBulk(m);
      popped.push(m);
    }
    db.set(key, SetValue.fromTable(survivors, max), true);
  }
  c.propagateAs = popped;
}

// ---- SINTER, SINTERCARD, SINTERSTORE ---------------------------------------------------

/**
 * Looks up every key, checking the types of all of them first as Redis does.
 * Read lookups even for the STORE forms (keyspace misses count), as in Redis
 * 7.0. Missing keys are null. Returns undefined after replying WRONGTYPE.
 */
function lookupSets(c: Client, keys: readonly string[]): Array<SetValue | null> | undefined {
  const sets = new Array<SetValue | null>(keys.length);
  for (let j = 0; j < keys.length; j++) {
    const v = ofTypeOrReply(c, c.db.lookupRead(keys[j]), isSet);
    if (v === null) return undefined;
    sets[j] = v ?? null;
  }
  return sets;
}

/**
 * Walks the members of the smallest set that are in all the others, in that
 * set's order (Redis sorts the sets by size, stably, and walks the first).
 * `fn` returns true to stop early.
 */
function forEachCommon(sets: SetValue[], fn: (m: string) => boolean | void): void {
  const sorted = sets.slice().sort((a, b) => a.size - b.size);
  const first = sorted[0];
  const n = first.size;
  outer: for (let i = 0; i < n; i++) {
    const m = first.memberAt(i);
    for (let j = 1; j < sorted.length; j++) {
      if (sorted[j] === first) continue;
      if (!sorted[j].has(m)) continue outer;
    }
    if (fn(m) === true) return;
  }
}

/** Stores a computed result at dst (or deletes dst when empty) and replies its size. */
function storeResult(c: Client, dstKey: string, result: SetValue, event: string): void {
  const db = c.db;
  if (result.size > 0) {
    db.set(dstKey, result);
    c.addInt(result.size);
    c.server.notifier.notify('s', event, dstKey, db.id);
    c.server.dirty++;
    return;
  }
  c.addInt(0);
  if (db.delete(dstKey)) {
    c.server.dirty++;
    c.server.notifier.notify('g', 'del', dstKey, db.id);
  }
}

function sinter(c: Client, argv: string[]): void {
  const sets = lookupSets(c, argv.slice(1));
  if (sets === undefined) return;
  if (sets.some((s) => s === null)) {
    c.addSetLen(0);
    return;
  }
  const out: string[] = [];
  forEachCommon(sets as SetValue[], (m) => {
    out.push(m);
  });
  replyMembers(c, out);
}

function sinterstore(c: Client, argv: string[]): void {
  const dstKey = argv[1];
  const sets = lookupSets(c, argv.slice(2));
  if (sets === undefined) return;
  const result = new DenseSet();
  if (!sets.some((s) => s === null)) forEachCommon(sets as SetValue[], (m) => void result.add(m));
  storeResult(c, dstKey, SetValue.fromTable(result, maxIntsetOf(c)), 'sinterstore');
}

function sintercard(c: Client, argv: string[]): void {
  const numkeys = parseInt64(argv[1]);
  if (numkeys === null || numkeys < 1) {
    c.addError(ERR_NUMKEYS);
    return;
  }
  if (numkeys > argv.length - 2) {
    c.addError(ERR_NUMKEYS_ARGS);
    return;
  }
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    if (argv[j].toLowerCase() === 'limit' && j + 1 < argv.length) {
      j++;
      const l = parseInt64(argv[j]);
      if (l === null || l < 0) {
        c.addError(ERR_LIMIT_NEGATIVE);
        return;
      }
      limit = l;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  const sets = lookupSets(c, argv.slice(2, 2 + numkeys));
  if (sets === undefined) return;
  if (sets.some((s) => s === null)) {
    c.addInt(0);
    return;
  }
  let n = 0;
  forEachCommon(sets as SetValue[], () => ++n === limit);
  c.addInt(n);
}

// ---- SUNION, SDIFF and their STORE variants ---------------------------------------------

/** SUNION/SDIFF result as Redis builds it (a new set that starts as an intset). */
function unionOrDiff(sets: Array<SetValue | null>, diff: boolean, maxIntset: number): SetValue {
  const result = new DenseSet();
  if (!diff) {
    for (const s of sets) if (s !== null) s.forEach((m) => void result.add(m));
    return SetValue.fromTable(result, maxIntset);
  }
  const first = sets[0];
  if (first === null) return new SetValue();
  // Redis picks the cheaper of two algorithms; they differ in the result's encoding.
  let oneWork = 0;
  let twoWork = 0;
  for (const s of sets) {
    if (s === null) continue;
    oneWork += first.size;
    twoWork += s.size;
  }
  oneWork = Math.floor(oneWork / 2);
  if (oneWork <= twoWork) {
    // 1: keep members of the first set found in no other (checking big sets first).
    const others = sets.slice(1).sort((a, b) => (b === null ? 0 : b.size) - (a === null ? 0 : a.size));
    first.forEach((m) => {
      for (const s of others) {
        if (s === null) continue;
        if (s === first || s.has(m)) return;
      }
      result.add(m);
    });
    return SetValue.fromTable(result, maxIntset);
  }
  // 2: copy the first set, remove the others' members. The copy's encoding sticks.
  first.forEach((m) => void result.add(m));
  for (let j = 1; j < sets.length && result.size > 0; j++) {
    const s = sets[j];
    if (s !== null) s.forEach((m) => void result.delete(m));
  }
  return SetValue.fromTable(result, fitsIntset(first, maxIntset) ? maxIntset : -1);
}

function sunion(c: Client, argv: string[]): void {
  const sets = lookupSets(c, argv.slice(1));
  if (sets === undefined) return;
  replySet(c, unionOrDiff(sets, false, maxIntsetOf(c)));
}

function sdiff(c: Client, argv: string[]): void {
  const sets = lookupSets(c, argv.slice(1));
  if (sets === undefined) return;
  replySet(c, unionOrDiff(sets, true, maxIntsetOf(c)));
}

function sunionstore(c: Client, argv: string[]): void {
  const sets = lookupSets(c, argv.slice(2));
  if (sets === undefined) return;
  storeResult(c, argv[1], unionOrDiff(sets, false, maxIntsetOf(c)), 'sunionstore');
}

function sdiffstore(c: Client, argv: string[]): void {
  const sets = lookupSets(c, argv.slice(2));
  if (sets === undefined) return;
  storeResult(c, argv[1], unionOrDiff(sets, true, maxIntsetOf(c)), 'sdiffstore');
}

// ---- SSCAN -------------------------------------------------------------------------------

function sscan(c: Client, argv: string[]): void {
  const s = beginKeyScan(c, argv, isSet);
  if (s === null) return;
  const pattern = s.pattern;
  const out: string[] = [];
  const next = s.value.scan(s.start, s.count, (m) => {
    if (pattern === null || globMatch(pattern, m)) out.push(m);
  });
  addScanReply(c, next, out);
}

export const commands: CommandImpl[] = [
  { name: 'sadd', summary: 'Adds members to a set, creating it if needed; replies how many were new.', handler: sadd },
  { name: 'srem', summary: 'Removes members from a set; replies how many were there.', handler: srem },
  { name: 'scard', summary: 'Replies the number of members of a set.', handler: scard },
  { name: 'sismember', summary: 'Tells whether a value is a member of a set.', handler: sismember },
  { name: 'smismember', summary: 'Tells, for each of several values, whether it is a member of a set.', handler: smismember },
  { name: 'smembers', summary: 'Replies every member of a set.', handler: smembers },
  { name: 'srandmember', summary: 'Replies one or more random members of a set without removing them.', handler: srandmember },
  { name: 'spop', summary: 'Removes and replies one or more random members of a set.', handler: spop },
  { name: 'smove', summary: 'Moves a member from one set to another.', handler: smove },
  { name: 'sinter', summary: 'Replies the members common to all the given sets.', handler: sinter },
  { name: 'sintercard', summary: 'Counts the members common to all the given sets, optionally stopping at a limit.', handler: sintercard },
  { name: 'sinterstore', summary: 'Stores the intersection of sets in a key; replies its size.', handler: sinterstore },
  { name: 'sunion', summary: 'Replies the members of all the given sets together.', handler: sunion },
  { name: 'sunionstore', summary: 'Stores the union of sets in a key; replies its size.', handler: sunionstore },
  { name: 'sdiff', summary: 'Replies the members of the first set that are in none of the others.', handler: sdiff },
  { name: 'sdiffstore', summary: 'Stores the difference of sets in a key; replies its size.', handler: sdiffstore },
  { name: 'sscan', summary: 'Iterates over the members of a set with a cursor, optionally filtered by a pattern.', handler: sscan },
];
