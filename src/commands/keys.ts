/**
 * Generic keyspace commands: DEL/UNLINK, EXISTS, TYPE, the EXPIRE family and
 * TTL readers, PERSIST, RENAME(NX), KEYS, SCAN, RANDOMKEY, COPY, MOVE, TOUCH,
 * DBSIZE, FLUSHDB/FLUSHALL, SWAPDB and OBJECT.
 *
 * Check order, replies and side effects (dirty, notifications, WATCH signals)
 * follow Redis 7.0 so that the same error wins and an error changes nothing.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Database } from '../db/database.js';
import { MutableString, isString, typeOf, type Value } from '../data/values.js';
import { parseInt64, parseLongLong, INT64_MAX, INT64_MIN } from '../util/numbers.js';
import { globLiteral, globMatch } from '../util/glob.js';
import { stringEncoding } from './strings.js';
import { afterFlushAll } from '../persistence/index.js';
import { ERR_DB_RANGE, ERR_NOT_INT, ERR_NO_SUCH_KEY, ERR_SYNTAX } from './errors.js';
import { addScanReply, parseScanOptions, scanCursorOrReply, scanStart } from './scan.js';
import { lfuFrequency } from '../server/eviction.js';
import { emptyDbAsync, freeValueAsync } from '../server/lazyfree.js';

const ERR_SAME_OBJECT = 'ERR source and destination objects are the same';
const ERR_INT32_RANGE = 'ERR value is out of range, value must between -2147483648 and 2147483647';
/** Redis's refcount for shared objects (OBJ_SHARED_REFCOUNT = INT_MAX). */
const SHARED_REFCOUNT = 2147483647;
/** Integers 0..9999 are shared objects in Redis (OBJ_SHARED_INTEGERS). */
const SHARED_INTEGERS = 10000;
const TWO_POW_63 = 2 ** 63;

// ---- shared helpers --------------------------------------------------------

/**
 * A read lookup that, like Redis's LOOKUP_NOTOUCH, expires lazily and counts
 * hits/misses but leaves the key's access time alone (TYPE, EXISTS, TTL, OBJECT).
 */
function lookupNoTouch(db: Database, key: string): Value | undefined {
  const i = db.keys.find(key);
  if (i < 0) return db.lookupRead(key); // a miss: statistics and keymiss event
  const lastAccess = db.keys.access[i];
  const lfuWord = db.keys.evict[2 * i]; // the LFU counter is part of "access" too (server/eviction.ts)
  const v = db.lookupRead(key);
  // Still present means it was not deleted, so position i is still this key.
  if (v !== undefined) {
    db.keys.access[i] = lastAccess;
    db.keys.evict[2 * i] = lfuWord;
  }
  return v;
}

/** Whether the key has a TTL that already passed (without deleting it, as KEYS does). */
function isExpired(db: Database, key: string, now: number): boolean {
  if (db.expires.size === 0) return false;
  const when = db.expires.get(key);
  return when !== undefined && when <= now;
}

/**
 * Parses a DB index like Redis's getIntFromObjectOrReply; replies its error
 * (or `msg` when given) and returns null when not an int32.
 */
export function parseDbIndex(c: Client, s: string, msg?: string): number | null {
  const n = parseInt64(s);
  if (n === null || n < -2147483648 || n > 2147483647) {
    c.addError(msg ?? (n === null ? ERR_NOT_INT : ERR_INT32_RANGE));
    return null;
  }
  return n;
}

/** The database an argument names (COPY ... DB, MOVE), or null after replying the error. */
function databaseOrReply(c: Client, arg: string): Database | null {
  const id = parseDbIndex(c, arg);
  if (id === null) return null;
  const db = c.server.dbs[id];
  if (db === undefined) {
    c.addError(ERR_DB_RANGE);
    return null;
  }
  return db;
}

/** A stored expire time as an exact integer: doubles above 2^53 only come from huge PEXPIREAT values. */
function exactMs(ms: number): number | bigint {
  if (Number.isSafeInteger(ms)) return ms;
  return ms >= TWO_POW_63 ? INT64_MAX : BigInt(ms);
}

/**
 * Deep copy of a value for COPY. Strings are immutable JS strings or a
 * MutableString (copied, so the two keys do not share a buffer); aggregates
 * implement `clone()` in their own data files.
 */
export function copyValue(v: Value): Value {
  if (typeof v === 'string') return v;
  // Keep the subclass (strings.ts's FloatString reports a different encoding).
  if (v instanceof MutableString) return new (v.constructor as typeof MutableString)(v.view());
  return v.clone();
}

// ---- DEL, UNLINK, EXISTS, TYPE, TOUCH ------------------------------------

function del(c: Client, argv: string[]): void {
  delGeneric(c, argv, c.server.config.getBool('lazyfree-lazy-user-del'));
}

function unlink(c: Client, argv: string[]): void {
  delGeneric(c, argv, true);
}

/** `lazy`: values are freed as Redis's dbAsyncDelete (UNLINK, DEL with lazyfree-lazy-user-del). */
function delGeneric(c: Client, argv: string[], lazy: boolean): void {
  const db = c.db;
  let deleted = 0;
  for (let j = 1; j < argv.length; j++) {
    const key = argv[j];
    // An expired key is reclaimed (and reported as expired), not counted as deleted.
    if (db.expires.size !== 0 && db.expireIfNeeded(key)) continue;
    const value = lazy ? db.peek(key) : undefined;
    if (db.delete(key)) {
      if (lazy) freeValueAsync(c.server, value);
      c.server.notifier.notify('g', 'del', key, db.id);
      c.server.dirty++;
      deleted++;
    }
  }
  c.addInt(deleted);
}

function exists(c: Client, argv: string[]): void {
  const db = c.db;
  let count = 0;
  for (let j = 1; j < argv.length; j++) if (lookupNoTouch(db, argv[j]) !== undefined) count++;
  c.addInt(count);
}

function type(c: Client, argv: string[]): void {
  const v = lookupNoTouch(c.db, argv[1]);
  c.addSimple(v === undefined ? 'none' : typeOf(v));
}

function touch(c: Client, argv: string[]): void {
  const db = c.db;
  let count = 0;
  for (let j = 1; j < argv.length; j++) if (db.lookupRead(argv[j]) !== undefined) count++;
  c.addInt(count);
}

// ---- EXPIRE family -------------------------------------------------------

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Parses NX/XX/GT/LT from argv[3..]; returns the flags or replies an error and returns -1. */
function parseExpireFlags(c: Client, argv: string[]): number {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === 'nx') flags |= EXPIRE_NX;
    else if (opt === 'xx') flags |= EXPIRE_XX;
    else if (opt === 'gt') flags |= EXPIRE_GT;
    else if (opt === 'lt') flags |= EXPIRE_LT;
    else {
      c.addError(`ERR Unsupported option ${argv[j]}`);
      return -1;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    c.addError('ERR NX and XX, GT or LT options at the same time are not compatible');
    return -1;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    c.addError('ERR GT and LT options at the same time are not compatible');
    return -1;
  }
  return flags;
}

/** Whether NX/XX/GT/LT allow replacing `current` (-1 = no TTL, i.e. infinite) by `when`. */
function expireAllowed(flags: number, current: number, when: number): boolean {
  if (flags & EXPIRE_NX && current !== -1) return false;
  if (flags & EXPIRE_XX && current === -1) return false;
  if (flags & EXPIRE_GT && (current === -1 || when <= current)) return false;
  if (flags & EXPIRE_LT && current !== -1 && when >= current) return false;
  return true;
}

/** Below this magnitude, seconds * 1000 + now stays a safe integer: no BigInt needed. */
const SMALL_TIME = 2 ** 43;

/**
 * The absolute expiry time in ms for EXPIRE & co, as text (exact) and number;
 * null where Redis's int64 arithmetic (unit conversion, then adding `base`) overflows.
 */
function absoluteTime(n: number, arg: string, unitMs: number, base: number): { ms: number; text: string } | null {
  if (Math.abs(n) < SMALL_TIME) {
    const ms = n * unitMs + base;
    return { ms, text: String(ms) };
  }
  let when = parseLongLong(arg)!;
  if (unitMs === 1000) {
    // C division truncates towards zero, as BigInt division does.
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) return null;
    when *= 1000n;
  }
  if (when > INT64_MAX - BigInt(base)) return null;
  when += BigInt(base);
  return { ms: Number(when), text: when.toString() };
}

/**
 * EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT. `relative`: the time is added to now;
 * `unitMs`: 1000 for seconds. A time that is not in the future deletes the key.
 */
function expireGeneric(name: string, relative: boolean, unitMs: 1 | 1000) {
  const errInvalid = `ERR invalid expire time in '${name}' command`;
  return (c: Client, argv: string[]): void => {
    const flags = parseExpireFlags(c, argv);
    if (flags < 0) return;
    const n = parseInt64(argv[2]);
    if (n === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    const now = c.server.clock.now();
    const when = absoluteTime(n, argv[2], unitMs, relative ? now : 0);
    if (when === null) {
      c.addError(errInvalid);
      return;
    }
    const db = c.db;
    const key = argv[1];
    if (db.lookupWrite(key) === undefined) {
      c.addInt(0);
      return;
    }
    if (flags !== 0 && !expireAllowed(flags, db.getExpire(key), when.ms)) {
      c.addInt(0);
      return;
    }
    if (when.ms <= now) {
      db.delete(key);
      c.server.notifier.notify('g', 'del', key, db.id);
      c.server.dirty++;
      // Replicas and the AOF replay the effect, not the relative time: DEL here, PEXPIREAT below.
      c.propagateAs = [c.server.config.getBool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key];
      c.addInt(1);
      return;
    }
    db.setExpire(key, when.ms);
    db.signalModified(key);
    c.server.notifier.notify('g', 'expire', key, db.id);
    c.server.dirty++;
    if (name !== 'pexpireat') c.propagateAs = ['PEXPIREAT', key, when.text, ...argv.slice(3)];
    c.addInt(1);
  };
}

/**
 * TTL, PTTL (remaining time) and EXPIRETIME, PEXPIRETIME (absolute Unix time):
 * -2 without key, -1 without TTL. Seconds are rounded to the nearest, as Redis
 * does for both ((ms + 500) / 1000).
 */
function ttlGeneric(inMs: boolean, absolute: boolean) {
  return (c: Client, argv: string[]): void => {
    const db = c.db;
    const key = argv[1];
    if (lookupNoTouch(db, key) === undefined) {
      c.addInt(-2);
      return;
    }
    const expire = db.getExpire(key);
    if (expire === -1) {
      c.addInt(-1);
      return;
    }
    const exact = exactMs(expire);
    const now = absolute ? 0 : c.server.clock.now();
    if (typeof exact === 'number') {
      const ttl = Math.max(0, exact - now);
      c.addInt(inMs ? ttl : Math.floor((ttl + 500) / 1000));
    } else {
      // Near int64's limit: no overflow here, which is what Redis's arithmetic ends up giving too.
      let ttl = exact - BigInt(now);
      if (ttl < 0n) ttl = 0n;
      c.addInt(inMs ? ttl : (ttl + 500n) / 1000n);
    }
  };
}

function persist(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  if (db.lookupWrite(key) === undefined || !db.persist(key)) {
    c.addInt(0);
    return;
  }
  db.signalModified(key);
  c.server.notifier.notify('g', 'persist', key, db.id);
  c.server.dirty++;
  c.addInt(1);
}

// ---- RENAME, RENAMENX, COPY, MOVE ---------------------------------------

function renameGeneric(nx: boolean) {
  return (c: Client, argv: string[]): void => {
    const db = c.db;
    const src = argv[1];
    const dst = argv[2];
    const value = db.lookupWrite(src);
    if (value === undefined) {
      c.addError(ERR_NO_SUCH_KEY);
      return;
    }
    if (src === dst) {
      if (nx) c.addInt(0);
      else c.addOK();
      return;
    }
    const expire = db.getExpire(src);
    if (db.lookupWrite(dst) !== undefined) {
      if (nx) {
        c.addInt(0);
        return;
      }
      db.delete(dst);
    }
    db.set(dst, value);
    if (expire !== -1) db.setExpire(dst, expire);
    db.delete(src);
    const n = c.server.notifier;
    n.notify('g', 'rename_from', src, db.id);
    n.notify('g', 'rename_to', dst, db.id);
    c.server.dirty++;
    if (nx) c.addInt(1);
    else c.addOK();
  };
}

function copy(c: Client, argv: string[]): void {
  const src = c.db;
  let dst = src;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === 'replace') {
      replace = true;
    } else if (opt === 'db' && j + 1 < argv.length) {
      const target = databaseOrReply(c, argv[j + 1]);
      if (target === null) return;
      dst = target;
      j++;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  const key = argv[1];
  const newKey = argv[2];
  if (src === dst && key === newKey) {
    c.addError(ERR_SAME_OBJECT);
    return;
  }
  const value = src.lookupRead(key);
  if (value === undefined) {
    c.addInt(0);
    return;
  }
  const expire = src.getExpire(key);
  const exists = dst.lookupWrite(newKey) !== undefined;
  if (exists && !replace) {
    c.addInt(0);
    return;
  }
  const dup = copyValue(value);
  if (exists) dst.delete(newKey);
  dst.set(newKey, dup);
  if (expire !== -1) dst.setExpire(newKey, expire);
  c.server.notifier.notify('g', 'copy_to', newKey, dst.id);
  c.server.dirty++;
  c.addInt(1);
}

function move(c: Client, argv: string[]): void {
  const src = c.db;
  const key = argv[1];
  const dst = databaseOrReply(c, argv[2]);
  if (dst === null) return;
  if (dst === src) {
    c.addError(ERR_SAME_OBJECT);
    return;
  }
  const value = src.lookupWrite(key);
  if (value === undefined) {
    c.addInt(0);
    return;
  }
  const expire = src.getExpire(key);
  if (dst.lookupWrite(key) !== undefined) {
    c.addInt(0);
    return;
  }
  dst.set(key, value);
  if (expire !== -1) dst.setExpire(key, expire);
  src.delete(key);
  const n = c.server.notifier;
  n.notify('g', 'move_from', key, src.id);
  n.notify('g', 'move_to', key, dst.id);
  c.server.dirty++;
  c.addInt(1);
}

// ---- KEYS, SCAN, RANDOMKEY, DBSIZE ---------------------------------------

function keys(c: Client, argv: string[]): void {
  const db = c.db;
  const pattern = argv[1];
  const now = c.server.clock.now();
  const allKeys = pattern === '*';
  // A pattern without wildcards can match one key only: look it up instead of walking the keyspace.
  const literal = allKeys ? null : globLiteral(pattern);
  if (literal !== null) {
    if (db.keys.has(literal) && !isExpired(db, literal, now)) c.addBulks([literal]);
    else c.addEmptyArray();
    return;
  }
  const all = db.keys.keys;
  const out: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const key = all[i];
    if ((allKeys || globMatch(pattern, key)) && !isExpired(db, key, now)) out.push(key);
  }
  c.addBulks(out);
}

function scan(c: Client, argv: string[]): void {
  const cursor = scanCursorOrReply(c, argv[1]);
  if (cursor === null) return;
  const opts = parseScanOptions(c, argv, 2, true);
  if (opts === null) return;
  const { pattern, typeName } = opts;
  const db = c.db;
  // Collect first, filter after: filtering may delete expired keys, which moves entries.
  const visited: string[] = [];
  const next = db.keys.scan(scanStart(cursor, db.keys.size), opts.count, (key) => visited.push(key));
  const out: string[] = [];
  for (const key of visited) {
    if (pattern !== null && !globMatch(pattern, key)) continue;
    if (typeName !== null) {
      // Redis checks the type with a read lookup, which also reclaims an expired key ("none").
      const v = lookupNoTouch(db, key);
      if ((v === undefined ? 'none' : typeOf(v)) !== typeName) continue;
    }
    if (db.expires.size !== 0 && db.expireIfNeeded(key)) continue;
    out.push(key);
  }
  addScanReply(c, next, out);
}

function randomkey(c: Client): void {
  const key = c.db.randomKey();
  if (key === null) c.addNull();
  else c.addBulk(key);
}

function dbsize(c: Client): void {
  // Like Redis, counts keys whose TTL passed but that were not reclaimed yet.
  c.addInt(c.db.size);
}

// ---- FLUSHDB, FLUSHALL, SWAPDB -------------------------------------------

/** FLUSHDB/FLUSHALL take an optional ASYNC or SYNC; returns false after replying an error. */
function checkFlushArgs(c: Client, argv: string[]): boolean {
  if (argv.length > 2) {
    c.addError(ERR_SYNTAX);
    return false;
  }
  if (argv.length === 2) {
    const mode = argv[1].toLowerCase();
    if (mode !== 'sync' && mode !== 'async') {
      c.addError(ERR_SYNTAX);
      return false;
    }
  }
  return true;
}

/** ASYNC, or no mode and lazyfree-lazy-user-flush (Redis's getFlushCommandFlags). */
export function flushIsAsync(c: Client, argv: string[], modeIndex: number): boolean {
  return argv.length > modeIndex ? argv[modeIndex].toLowerCase() === 'async' : c.server.config.getBool('lazyfree-lazy-user-flush');
}

function flushDatabase(c: Client, db: Database, async: boolean): number {
  if (async) emptyDbAsync(c.server, db);
  c.server.databaseReplaced(db, null);
  return db.flush();
}

function flushdb(c: Client, argv: string[]): void {
  if (!checkFlushArgs(c, argv)) return;
  c.server.dirty += flushDatabase(c, c.db, flushIsAsync(c, argv, 1));
  // Redis propagates FLUSHDB even when the database was already empty.
  c.forcePropagation = true;
  c.addOK();
}

function flushall(c: Client, argv: string[]): void {
  if (!checkFlushArgs(c, argv)) return;
  let removed = 0;
  const async = flushIsAsync(c, argv, 1);
  for (const db of c.server.dbs) removed += flushDatabase(c, db, async);
  c.server.dirty += removed;
  // With save points this saves, which zeroes the dirty counter, as Redis's flushAllDataAndResetRDB.
  afterFlushAll(c.server);
  // Propagated even when nothing was removed.
  c.forcePropagation = true;
  c.addOK();
}

function swapdb(c: Client, argv: string[]): void {
  const id1 = parseDbIndex(c, argv[1], 'ERR invalid first DB index');
  if (id1 === null) return;
  const id2 = parseDbIndex(c, argv[2], 'ERR invalid second DB index');
  if (id2 === null) return;
  const a = c.server.dbs[id1];
  const b = c.server.dbs[id2];
  if (a === undefined || b === undefined) {
    c.addError(ERR_DB_RANGE);
    return;
  }
  if (a !== b) {
    // Clients stay on their db index and see new contents: WATCHed keys of either
    // side changed, and clients blocked on a key that now exists may be served.
    c.server.databaseReplaced(a, b);
    c.server.databaseReplaced(b, a);
    a.swapWith(b);
    for (const db of [a, b]) {
      if (db.blockingKeys !== null) {
        for (const key of [...db.blockingKeys.keys()]) if (db.keys.has(key)) db.signalReady(key);
      }
    }
  }
  c.server.dirty++;
  c.addOK();
}

// ---- OBJECT --------------------------------------------------------------

const LFU_POLICIES = new Set(['allkeys-lfu', 'volatile-lfu']);

function lfuPolicy(c: Client): boolean {
  return LFU_POLICIES.has(c.server.config.maxmemoryPolicy);
}

/** Redis stops sharing small integers when maxmemory is set with an LRU/LFU policy. */
function sharedIntegersAllowed(c: Client): boolean {
  const cfg = c.server.config;
  if (cfg.maxmemory === 0) return true;
  return !cfg.maxmemoryPolicy.includes('lru') && !cfg.maxmemoryPolicy.includes('lfu');
}

/** The value's internal encoding name, as OBJECT ENCODING reports it. */
export function encodingOf(v: Value): string {
  if (isString(v)) return stringEncoding(v);
  return v.encoding();
}

/** OBJECT's key lookup: no access-time update; a missing key replies null. */
function objectLookup(c: Client, key: string): Value | undefined {
  // Redis looks up with LOOKUP_NONOTIFY: a miss is counted but fires no keymiss event.
  if (!c.db.has(key)) {
    c.db.misses++;
    c.addNull();
    return undefined;
  }
  const v = lookupNoTouch(c.db, key);
  if (v === undefined) c.addNull();
  return v;
}

function objectEncoding(c: Client, argv: string[]): void {
  const v = objectLookup(c, argv[2]);
  if (v !== undefined) c.addBulk(encodingOf(v));
}

function objectRefcount(c: Client, argv: string[]): void {
  const v = objectLookup(c, argv[2]);
  if (v === undefined) return;
  let shared = false;
  if (typeof v === 'string' && stringEncoding(v) === 'int') {
    const n = Number(v);
    shared = n >= 0 && n < SHARED_INTEGERS && sharedIntegersAllowed(c);
  }
  c.addInt(shared ? SHARED_REFCOUNT : 1);
}

function objectIdletime(c: Client, argv: string[]): void {
  const key = argv[2];
  const v = objectLookup(c, key);
  if (v === undefined) return;
  if (lfuPolicy(c)) {
    c.addError('ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
    return;
  }
  c.addInt(c.db.idleSeconds(key));
}

function objectFreq(c: Client, argv: string[]): void {
  const v = objectLookup(c, argv[2]);
  if (v === undefined) return;
  if (!lfuPolicy(c)) {
    c.addError('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
    return;
  }
  // The decayed LFU counter kept by server/eviction.ts.
  c.addInt(lfuFrequency(c.server, c.db, argv[2]));
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

function objectHelp(c: Client): void {
  c.addArrayLen(OBJECT_HELP.length);
  for (const line of OBJECT_HELP) c.addSimple(line);
}

export const commands: CommandImpl[] = [
  { name: 'del', summary: 'Removes keys; replies how many existed.', handler: del },
  { name: 'unlink', summary: 'Removes keys like DEL (values are freed right away here); replies how many existed.', handler: unlink },
  { name: 'exists', summary: 'Counts how many of the given keys exist (a key named twice counts twice).', handler: exists },
  { name: 'type', summary: "Names the type of a key's value, or none.", handler: type },
  { name: 'touch', summary: 'Refreshes the access time of keys; replies how many exist.', handler: touch },
  { name: 'expire', summary: 'Sets a time to live in seconds on a key.', handler: expireGeneric('expire', true, 1000) },
  { name: 'pexpire', summary: 'Sets a time to live in milliseconds on a key.', handler: expireGeneric('pexpire', true, 1) },
  { name: 'expireat', summary: 'Sets the Unix time, in seconds, at which a key expires.', handler: expireGeneric('expireat', false, 1000) },
  { name: 'pexpireat', summary: 'Sets the Unix time, in milliseconds, at which a key expires.', handler: expireGeneric('pexpireat', false, 1) },
  { name: 'ttl', summary: "Replies a key's remaining time to live in seconds.", handler: ttlGeneric(false, false) },
  { name: 'pttl', summary: "Replies a key's remaining time to live in milliseconds.", handler: ttlGeneric(true, false) },
  { name: 'expiretime', summary: 'Replies the Unix time in seconds at which a key expires.', handler: ttlGeneric(false, true) },
  { name: 'pexpiretime', summary: 'Replies the Unix time in milliseconds at which a key expires.', handler: ttlGeneric(true, true) },
  { name: 'persist', summary: 'Removes the time to live of a key.', handler: persist },
  { name: 'rename', summary: 'Gives a key a new name, replacing any key of that name.', handler: renameGeneric(false) },
  { name: 'renamenx', summary: 'Gives a key a new name unless that name is taken.', handler: renameGeneric(true) },
  { name: 'copy', summary: "Copies a key's value (and time to live) to another key, possibly in another database.", handler: copy },
  { name: 'move', summary: 'Moves a key to another database unless it exists there.', handler: move },
  { name: 'keys', summary: 'Lists the keys matching a glob pattern.', handler: keys },
  { name: 'scan', summary: 'Iterates over the keyspace with a cursor, optionally filtered by pattern and type.', handler: scan },
  { name: 'randomkey', summary: 'Replies a random key of the database.', handler: randomkey },
  { name: 'dbsize', summary: 'Replies the number of keys in the database.', handler: dbsize },
  { name: 'flushdb', summary: 'Removes every key of the selected database.', handler: flushdb },
  { name: 'flushall', summary: 'Removes every key of every database.', handler: flushall },
  { name: 'swapdb', summary: 'Exchanges the contents of two databases.', handler: swapdb },
  { name: 'object', summary: 'Inspects how a key is stored.' },
  { name: 'object|encoding', summary: "Names the internal representation of a key's value.", handler: objectEncoding },
  { name: 'object|freq', summary: 'Replies the logarithmic access frequency of a key (LFU policies only).', handler: objectFreq },
  { name: 'object|idletime', summary: 'Replies the seconds since a key was last accessed.', handler: objectIdletime },
  { name: 'object|refcount', summary: "Replies the reference count of a key's value.", handler: objectRefcount },
  { name: 'object|help', summary: 'Describes the OBJECT subcommands.', handler: objectHelp },
];
