/**
 * String commands: SET and its variants (SETNX, SETEX, PSETEX, GETSET, MSET,
 * MSETNX), GET, GETEX, GETDEL, MGET, the INCR family, INCRBYFLOAT, APPEND,
 * STRLEN, GETRANGE/SUBSTR, SETRANGE and LCS.
 *
 * Check order, replies and side effects (dirty, notifications, propagation)
 * follow Redis 7.0's t_string.c, so the same error wins and an error changes
 * nothing. GET and SET are the benchmarked hot path: their common forms take
 * no option parsing and allocate nothing beyond the reply.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Database } from '../db/database.js';
import { MutableString, isString, stringOf, stringLength, type StringValue } from '../data/values.js';
import { parseInt64, parseInteger, incrByParsedValue, incrErrorText, INT64_MAX, INT64_MIN, ERR_DECR_OVERFLOW } from '../util/numbers.js';
import { incrByFloat } from '../util/long-double.js';
import { WRONGTYPE, ERR_SYNTAX, ERR_NOT_INT, errWrongArity, ofTypeOrReply } from './errors.js';

const ERR_STRING_TOO_LONG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';
const ERR_OFFSET_RANGE = 'ERR offset is out of range';
const ERR_LCS_TYPES = 'ERR The specified keys must contain string values';
const ERR_LCS_LEN_AND_IDX = 'ERR If you want both the length and indexes, please just use IDX.';
const ERR_LCS_TOO_LONG = 'ERR String too long for LCS';
const ERR_LCS_MEMORY = 'ERR Insufficient memory, failed allocating transient memory for LCS';
/** Largest LCS table we allocate: 2^28 uint32 cells (1 GB). */
const MAX_LCS_CELLS = 2 ** 28;

// ---- encodings ---------------------------------------------------------------

/** Longest string Redis stores as "embstr" (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
const EMBSTR_LIMIT = 44;

/**
 * INCRBYFLOAT's result. Redis stores it as a fresh embstr/raw object without
 * trying the integer encoding, so "11" from INCRBYFLOAT reports "embstr" where
 * the same text from SET reports "int". It is a MutableString so every string
 * reader handles it; in-place writers replace it with a plain MutableString
 * first (see mutableString), as Redis turns it into "raw".
 */
export class FloatString extends MutableString {}

/**
 * OBJECT ENCODING of a string value, as Redis 7.0 reports it: plain stored
 * strings get the encoding tryObjectEncoding would give them (int for
 * string2l-valid integers of at most 20 chars, embstr up to 44 bytes, else
 * raw); strings changed in place (APPEND, SETRANGE, SETBIT, BITFIELD, BITOP
 * results) are raw.
 */
export function stringEncoding(v: StringValue): 'int' | 'embstr' | 'raw' {
  if (typeof v === 'string') {
    if (v.length <= 20 && parseInt64(v) !== null) return 'int';
    return v.length <= EMBSTR_LIMIT ? 'embstr' : 'raw';
  }
  if (v instanceof FloatString) return v.len <= EMBSTR_LIMIT ? 'embstr' : 'raw';
  return 'raw';
}

/**
 * The key's value as a MutableString that may be changed in place (Redis's
 * dbUnshareStringValue): an existing plain MutableString is returned as is,
 * anything else is copied into one and stored under the key, TTL kept.
 */
export function mutableString(db: Database, key: string, v: StringValue): MutableString {
  if (v instanceof MutableString && v.constructor === MutableString) return v;
  const m = new MutableString(typeof v === 'string' ? v : v.view());
  db.overwriteQuiet(key, m);
  return m;
}

// ---- shared helpers --------------------------------------------------------------

/**
 * True when `arg` names option `lower` (lowercase ASCII), case-insensitively.
 * Like Redis's strcasecmp on C strings, the argument ends at a NUL byte, so
 * "nx\0junk" still reads as NX.
 */
export function optIs(arg: string, lower: string): boolean {
  const n = lower.length;
  if (arg.length < n) return false;
  for (let i = 0; i < n; i++) {
    if ((arg.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return arg.length === n || arg.charCodeAt(n) === 0;
}

/** Replies with a string value (plain or Buffer-backed) as a bulk string. */
function addStringValue(c: Client, v: StringValue): void {
  if (typeof v === 'string') c.addBulk(v);
  else c.addBulkBuffer(v.view());
}

/**
 * Redis's getGenericCommand: replies with the key's value (or null) and
 * returns true, or replies WRONGTYPE and returns false.
 */
function getGeneric(c: Client, key: string): boolean {
  const v = c.db.lookupRead(key);
  if (v === undefined) {
    c.addNull();
    return true;
  }
  if (typeof v === 'string') {
    c.addBulk(v);
    return true;
  }
  if (v instanceof MutableString) {
    c.addBulkBuffer(v.view());
    return true;
  }
  c.addError(WRONGTYPE);
  return false;
}

/** Redis's checkStringLength: replies and returns false when the result would be too long. */
function checkStringLength(c: Client, size: number, append: number): boolean {
  if (size + append > c.server.protoMaxBulkLen) {
    c.addError(ERR_STRING_TOO_LONG);
    return false;
  }
  return true;
}

// ---- SET and friends: option parsing and expire times ----------------------------

const OPT_NX = 1 << 0;
const OPT_XX = 1 << 1;
const OPT_GET = 1 << 2;
const OPT_KEEPTTL = 1 << 3;
const OPT_PERSIST = 1 << 4;
const OPT_EX = 1 << 5;
const OPT_PX = 1 << 6;
const OPT_EXAT = 1 << 7;
const OPT_PXAT = 1 << 8;
const ANY_EXPIRE = OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT;

/** Result slots of parseExtendedOptions (module-level, so parsing allocates nothing). */
let parsedFlags = 0;
let parsedExpire: string | null = null;

/**
 * Redis's parseExtendedStringArgumentsOrReply for SET (isSet) and GETEX:
 * options from argv[from] on, each allowed only when it does not conflict
 * with one given before it. Replies a syntax error and returns false otherwise.
 */
function parseExtendedOptions(c: Client, argv: string[], from: number, isSet: boolean): boolean {
  let flags = 0;
  let expire: string | null = null;
  const argc = argv.length;
  for (let j = from; j < argc; j++) {
    const opt = argv[j];
    const hasNext = j < argc - 1;
    if (isSet && optIs(opt, 'nx') && !(flags & OPT_XX)) {
      flags |= OPT_NX;
    } else if (isSet && optIs(opt, 'xx') && !(flags & OPT_NX)) {
      flags |= OPT_XX;
    } else if (isSet && optIs(opt, 'get')) {
      flags |= OPT_GET;
    } else if (isSet && optIs(opt, 'keepttl') && !(flags & (OPT_PERSIST | ANY_EXPIRE))) {
      flags |= OPT_KEEPTTL;
    } else if (!isSet && optIs(opt, 'persist') && !(flags & (ANY_EXPIRE | OPT_KEEPTTL))) {
      flags |= OPT_PERSIST;
    } else if (hasNext && optIs(opt, 'ex') && !(flags & (OPT_KEEPTTL | OPT_PERSIST | OPT_EXAT | OPT_PX | OPT_PXAT))) {
      flags |= OPT_EX;
      expire = argv[++j];
    } else if (hasNext && optIs(opt, 'px') && !(flags & (OPT_KEEPTTL | OPT_PERSIST | OPT_EX | OPT_EXAT | OPT_PXAT))) {
      flags |= OPT_PX;
      expire = argv[++j];
    } else if (hasNext && optIs(opt, 'exat') && !(flags & (OPT_KEEPTTL | OPT_PERSIST | OPT_EX | OPT_PX | OPT_PXAT))) {
      flags |= OPT_EXAT;
      expire = argv[++j];
    } else if (hasNext && optIs(opt, 'pxat') && !(flags & (OPT_KEEPTTL | OPT_PERSIST | OPT_EX | OPT_EXAT | OPT_PX))) {
      flags |= OPT_PXAT;
      expire = argv[++j];
    } else {
      c.addError(ERR_SYNTAX);
      return false;
    }
  }
  parsedFlags = flags;
  parsedExpire = expire;
  return true;
}

/** Largest seconds value whose milliseconds fit in int64 (LLONG_MAX / 1000). */
const MAX_EXPIRE_SECONDS = INT64_MAX / 1000n;

/**
 * Redis's getExpireMillisecondsOrReply: the absolute expire time in ms for an
 * EX/PX/EXAT/PXAT argument, or -1 after replying the error. Relative times
 * are added to the server clock; a result that leaves int64 is invalid (in C
 * it wraps negative), so the check is done exactly, with BigInt past 2^53.
 */
function expireTimeOrReply(c: Client, arg: string, inSeconds: boolean, relative: boolean, cmd: string): number {
  const v = parseInteger(arg);
  if (v === null) {
    c.addError(ERR_NOT_INT);
    return -1;
  }
  if (typeof v === 'number') {
    if (v <= 0) return invalidExpire(c, cmd);
    let ms = inSeconds ? v * 1000 : v;
    if (relative) ms += c.server.clock.now();
    if (Number.isSafeInteger(ms)) return ms;
  }
  // Past 2^53: decide exactly.
  const b = BigInt(v);
  if (b <= 0n || (inSeconds && b > MAX_EXPIRE_SECONDS)) return invalidExpire(c, cmd);
  let ms = inSeconds ? b * 1000n : b;
  if (relative) ms += BigInt(c.server.clock.now());
  if (ms > INT64_MAX) return invalidExpire(c, cmd);
  return Number(ms);
}

function invalidExpire(c: Client, cmd: string): number {
  c.addError(`ERR invalid expire time in '${cmd}' command`);
  return -1;
}

/** How setGeneric replies: SET's OK / null, or SETNX's 1 / 0. */
const enum SetReply {
  OkNull = 0,
  OneZero = 1,
}

/**
 * Redis's setGenericCommand. `flags` are the parsed options, `expire` the
 * EX/PX/EXAT/PXAT argument. Validates the expire time, runs GET's reply,
 * then applies NX/XX, stores, and sets the TTL.
 */
function setGeneric(
  c: Client,
  flags: number,
  key: string,
  val: string,
  expire: string | null,
  reply: SetReply,
  cmd: string,
): void {
  let when = 0;
  if (expire !== null) {
    when = expireTimeOrReply(c, expire, (flags & (OPT_EX | OPT_EXAT)) !== 0, (flags & (OPT_EX | OPT_PX)) !== 0, cmd);
    if (when < 0) return;
  }
  if (flags & OPT_GET && !getGeneric(c, key)) return;
  const db = c.db;
  const found = db.lookupWrite(key) !== undefined;
  if ((flags & OPT_NX && found) || (flags & OPT_XX && !found)) {
    if (!(flags & OPT_GET)) {
      if (reply === SetReply.OkNull) c.addNull();
      else c.addRaw(':0\r\n');
    }
    return;
  }
  db.set(key, val, (flags & OPT_KEEPTTL) !== 0);
  const server = c.server;
  server.dirty++;
  server.notifier.notify('$', 'set', key, db.id);
  if (expire !== null) {
    db.setExpire(key, when);
    c.propagateAs = ['SET', key, val, 'PXAT', String(when)];
    server.notifier.notify('g', 'expire', key, db.id);
  }
  if (!(flags & OPT_GET)) {
    if (reply === SetReply.OkNull) c.addOK();
    else c.addRaw(':1\r\n');
  }
}

// ---- handlers ----------------------------------------------------------------------

function set(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    // The benchmarked form: no options, so no parsing and no expire work.
    const key = argv[1];
    const db = c.db;
    // Redis looks the key up for writing first, which expires a stale key (event, stats).
    if (db.expires.size !== 0) db.expireIfNeeded(key);
    db.set(key, argv[2]);
    const server = c.server;
    server.dirty++;
    if (server.notifier.flags !== 0) server.notifier.notify('$', 'set', key, db.id);
    c.addOK();
    return;
  }
  if (!parseExtendedOptions(c, argv, 3, true)) return;
  setGeneric(c, parsedFlags, argv[1], argv[2], parsedExpire, SetReply.OkNull, 'set');
}

function setnx(c: Client, argv: string[]): void {
  setGeneric(c, OPT_NX, argv[1], argv[2], null, SetReply.OneZero, 'setnx');
}

function setex(c: Client, argv: string[]): void {
  setGeneric(c, OPT_EX, argv[1], argv[3], argv[2], SetReply.OkNull, 'setex');
}

function psetex(c: Client, argv: string[]): void {
  setGeneric(c, OPT_PX, argv[1], argv[3], argv[2], SetReply.OkNull, 'psetex');
}

function get(c: Client, argv: string[]): void {
  getGeneric(c, argv[1]);
}

function getex(c: Client, argv: string[]): void {
  if (!parseExtendedOptions(c, argv, 2, false)) return;
  const flags = parsedFlags;
  const expire = parsedExpire;
  const key = argv[1];
  const db = c.db;
  const v = ofTypeOrReply(c, db.lookupRead(key), isString);
  if (v === null) return;
  if (v === undefined) {
    c.addNull();
    return;
  }
  let when = 0;
  if (expire !== null) {
    when = expireTimeOrReply(c, expire, (flags & (OPT_EX | OPT_EXAT)) !== 0, (flags & (OPT_EX | OPT_PX)) !== 0, 'getex');
    if (when < 0) return;
  }
  // Reply first: the key may be deleted below.
  addStringValue(c, v);
  const server = c.server;
  if (flags & (OPT_EXAT | OPT_PXAT) && when <= server.clock.now()) {
    // An absolute time already in the past deletes the key.
    db.delete(key);
    c.propagateAs = ['DEL', key];
    server.notifier.notify('g', 'del', key, db.id);
    server.dirty++;
  } else if (expire !== null) {
    db.setExpire(key, when);
    c.propagateAs = ['PEXPIREAT', key, String(when)];
    db.signalModified(key);
    server.notifier.notify('g', 'expire', key, db.id);
    server.dirty++;
  } else if (flags & OPT_PERSIST) {
    if (db.persist(key)) {
      db.signalModified(key);
      c.propagateAs = ['PERSIST', key];
      server.notifier.notify('g', 'persist', key, db.id);
      server.dirty++;
    }
  }
}

function getdel(c: Client, argv: string[]): void {
  const key = argv[1];
  if (!getGeneric(c, key)) return;
  const db = c.db;
  if (db.delete(key)) {
    c.propagateAs = ['DEL', key];
    c.server.notifier.notify('g', 'del', key, db.id);
    c.server.dirty++;
  }
}

function getset(c: Client, argv: string[]): void {
  const key = argv[1];
  if (!getGeneric(c, key)) return;
  const db = c.db;
  db.set(key, argv[2]);
  c.server.notifier.notify('$', 'set', key, db.id);
  c.server.dirty++;
  c.propagateAs = ['SET', key, argv[2]];
}

function msetGeneric(c: Client, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) {
    c.addError(errWrongArity(nx ? 'msetnx' : 'mset'));
    return;
  }
  const db = c.db;
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (db.lookupWrite(argv[j]) !== undefined) {
        c.addRaw(':0\r\n');
        return;
      }
    }
  }
  const notifier = c.server.notifier;
  for (let j = 1; j < argv.length; j += 2) {
    if (db.expires.size !== 0) db.expireIfNeeded(argv[j]);
    db.set(argv[j], argv[j + 1]);
    notifier.notify('$', 'set', argv[j], db.id);
  }
  c.server.dirty += (argv.length - 1) / 2;
  if (nx) c.addRaw(':1\r\n');
  else c.addOK();
}

function mset(c: Client, argv: string[]): void {
  msetGeneric(c, argv, false);
}

function msetnx(c: Client, argv: string[]): void {
  msetGeneric(c, argv, true);
}

function mget(c: Client, argv: string[]): void {
  const db = c.db;
  c.addArrayLen(argv.length - 1);
  for (let j = 1; j < argv.length; j++) {
    const v = db.lookupRead(argv[j]);
    if (v === undefined) c.addNull();
    else if (typeof v === 'string') c.addBulk(v);
    else if (v instanceof MutableString) c.addBulkBuffer(v.view());
    else c.addNull();
  }
}

/** INCR/DECR/INCRBY/DECRBY once the increment is parsed: type, value, overflow, store. */
function incrDecr(c: Client, key: string, delta: number | bigint): void {
  const db = c.db;
  const v = ofTypeOrReply(c, db.lookupWrite(key), isString);
  if (v === null) return;
  const value = incrByParsedValue(v === undefined ? null : stringOf(v), delta);
  if (typeof value !== 'string') {
    c.addError(incrErrorText(value));
    return;
  }
  // The result replaces the value but keeps its TTL (Redis's dbOverwrite).
  db.set(key, value, true);
  const server = c.server;
  if (server.notifier.flags !== 0) server.notifier.notify('$', 'incrby', key, db.id);
  server.dirty++;
  c.addIntText(value);
}

function incr(c: Client, argv: string[]): void {
  incrDecr(c, argv[1], 1);
}

function decr(c: Client, argv: string[]): void {
  incrDecr(c, argv[1], -1);
}

function incrby(c: Client, argv: string[]): void {
  const d = parseInteger(argv[2]);
  if (d === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  incrDecr(c, argv[1], d);
}

function decrby(c: Client, argv: string[]): void {
  const d = parseInteger(argv[2]);
  if (d === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  if (d === INT64_MIN) {
    c.addError(ERR_DECR_OVERFLOW);
    return;
  }
  incrDecr(c, argv[1], typeof d === 'number' ? -d : -d);
}

function incrbyfloat(c: Client, argv: string[]): void {
  const key = argv[1];
  const db = c.db;
  const v = ofTypeOrReply(c, db.lookupWrite(key), isString);
  if (v === null) return;
  const r = incrByFloat(v === undefined ? null : stringOf(v), argv[2]);
  if ('error' in r) {
    c.addError(r.error);
    return;
  }
  db.set(key, new FloatString(r.value), true);
  c.server.notifier.notify('$', 'incrbyfloat', key, db.id);
  c.server.dirty++;
  c.addBulk(r.value);
  // Replicas and the AOF get the result, so float formatting can never diverge.
  c.propagateAs = ['SET', key, r.value, 'KEEPTTL'];
}

function append(c: Client, argv: string[]): void {
  const key = argv[1];
  const tail = argv[2];
  const db = c.db;
  const v = db.lookupWrite(key);
  let total: number;
  if (v === undefined) {
    db.set(key, tail);
    total = tail.length;
  } else {
    if (!isString(v)) {
      c.addError(WRONGTYPE);
      return;
    }
    if (!checkStringLength(c, stringLength(v), tail.length)) return;
    const m = mutableString(db, key, v);
    m.append(tail);
    db.signalModified(key);
    total = m.len;
  }
  c.server.notifier.notify('$', 'append', key, db.id);
  c.server.dirty++;
  c.addInt(total);
}

function strlen(c: Client, argv: string[]): void {
  const v = c.db.lookupRead(argv[1]);
  if (v === undefined) c.addRaw(':0\r\n');
  else if (!isString(v)) c.addError(WRONGTYPE);
  else c.addInt(stringLength(v));
}

function getrange(c: Client, argv: string[]): void {
  let start = parseInt64(argv[2]);
  if (start === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  let end = parseInt64(argv[3]);
  if (end === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  const v = ofTypeOrReply(c, c.db.lookupRead(argv[1]), isString);
  if (v === null) return;
  if (v === undefined) {
    c.addBulk('');
    return;
  }
  const len = stringLength(v);
  if (start < 0 && end < 0 && start > end) {
    c.addBulk('');
    return;
  }
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) {
    c.addBulk('');
    return;
  }
  if (typeof v === 'string') c.addBulk(v.slice(start, end + 1));
  else c.addBulkBuffer(v.buf.subarray(start, end + 1));
}

function setrange(c: Client, argv: string[]): void {
  const offset = parseInt64(argv[2]);
  if (offset === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  if (offset < 0) {
    c.addError(ERR_OFFSET_RANGE);
    return;
  }
  const key = argv[1];
  const value = argv[3];
  const db = c.db;
  const v = db.lookupWrite(key);
  let m: MutableString;
  if (v === undefined) {
    // Setting nothing on a missing key creates nothing.
    if (value.length === 0) {
      c.addRaw(':0\r\n');
      return;
    }
    if (!checkStringLength(c, offset, value.length)) return;
    m = new MutableString('', offset + value.length);
    db.set(key, m);
  } else {
    if (!isString(v)) {
      c.addError(WRONGTYPE);
      return;
    }
    if (value.length === 0) {
      c.addInt(stringLength(v));
      return;
    }
    if (!checkStringLength(c, offset, value.length)) return;
    m = mutableString(db, key, v);
  }
  const needed = offset + value.length;
  if (needed > m.len) m.setLength(needed);
  m.buf.latin1Write(value, offset, value.length);
  db.signalModified(key);
  c.server.notifier.notify('$', 'setrange', key, db.id);
  c.server.dirty++;
  c.addInt(m.len);
}

// ---- LCS ---------------------------------------------------------------------------

function lcs(c: Client, argv: string[]): void {
  const db = c.db;
  const va = db.lookupRead(argv[1]);
  const vb = db.lookupRead(argv[2]);
  if ((va !== undefined && !isString(va)) || (vb !== undefined && !isString(vb))) {
    c.addError(ERR_LCS_TYPES);
    return;
  }
  const a = va === undefined ? '' : stringOf(va as StringValue);
  const b = vb === undefined ? '' : stringOf(vb as StringValue);
  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j];
    const more = argv.length - 1 - j;
    if (optIs(opt, 'idx')) getIdx = true;
    else if (optIs(opt, 'len')) getLen = true;
    else if (optIs(opt, 'withmatchlen')) withMatchLen = true;
    else if (optIs(opt, 'minmatchlen') && more > 0) {
      const n = parseInt64(argv[j + 1]);
      if (n === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      minMatchLen = n < 0 ? 0 : n;
      j++;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  if (getIdx && getLen) {
    c.addError(ERR_LCS_LEN_AND_IDX);
    return;
  }
  if (a.length >= 0xfffffffe || b.length >= 0xfffffffe) {
    c.addError(ERR_LCS_TOO_LONG);
    return;
  }
  const alen = a.length;
  const blen = b.length;
  const width = blen + 1;
  // table[i * width + j] = length of the LCS of a[0..i) and b[0..j).
  let table: Uint32Array;
  try {
    // Redis fails with this error when malloc does; we refuse tables past 1 GB
    // rather than risk the process on one command.
    const cells = (alen + 1) * width;
    if (cells > MAX_LCS_CELLS) throw new RangeError('LCS table too large');
    table = new Uint32Array(cells);
  } catch {
    c.addError(ERR_LCS_MEMORY);
    return;
  }
  for (let i = 1; i <= alen; i++) {
    const ac = a.charCodeAt(i - 1);
    const row = i * width;
    const prev = row - width;
    for (let j = 1; j <= blen; j++) {
      if (ac === b.charCodeAt(j - 1)) table[row + j] = table[prev + j - 1] + 1;
      else {
        const up = table[prev + j];
        const left = table[row + j - 1];
        table[row + j] = up > left ? up : left;
      }
    }
  }
  const total = table[alen * width + blen];
  if (getLen) {
    c.addInt(total);
    return;
  }

  // Walk back from the end collecting the LCS and, for IDX, the matching
  // ranges, from the last one to the first, exactly as Redis emits them.
  const out = Buffer.allocUnsafe(total);
  let idx = total;
  const ranges: number[] = []; // flat: aStart, aEnd, bStart, bEnd, per range
  let aStart = alen; // alen means "no range open"
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      out[idx - 1] = a.charCodeAt(i - 1);
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        // Contiguous with the open range: extend it backwards.
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      const up = table[(i - 1) * width + j];
      const left = table[i * width + j - 1];
      if (up > left) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (getIdx && (minMatchLen === 0 || matchLen >= minMatchLen)) ranges.push(aStart, aEnd, bStart, bEnd);
      aStart = alen;
    }
  }

  if (!getIdx) {
    c.addBulkBuffer(out);
    return;
  }
  c.addMapLen(2);
  c.addBulk('matches');
  c.addArrayLen(ranges.length / 4);
  for (let k = 0; k < ranges.length; k += 4) {
    c.addArrayLen(withMatchLen ? 3 : 2);
    c.addArrayLen(2);
    c.addInt(ranges[k]);
    c.addInt(ranges[k + 1]);
    c.addArrayLen(2);
    c.addInt(ranges[k + 2]);
    c.addInt(ranges[k + 3]);
    if (withMatchLen) c.addInt(ranges[k + 1] - ranges[k] + 1);
  }
  c.addBulk('len');
  c.addInt(total);
}

export const commands: CommandImpl[] = [
  { name: 'set', summary: 'Stores a string under a key, with optional expiry, conditions (NX/XX) and GET of the old value.', handler: set },
  { name: 'setnx', summary: 'Stores a string only if the key does not exist yet; replies 1 if it did so.', handler: setnx },
  { name: 'setex', summary: 'Stores a string with a time to live in seconds.', handler: setex },
  { name: 'psetex', summary: 'Stores a string with a time to live in milliseconds.', handler: psetex },
  { name: 'get', summary: 'Replies with the string stored at a key, or null.', handler: get },
  { name: 'getex', summary: 'Replies with a string value and optionally changes or removes its expiry.', handler: getex },
  { name: 'getdel', summary: 'Replies with a string value and deletes the key.', handler: getdel },
  { name: 'getset', summary: 'Stores a new string and replies with the previous one.', handler: getset },
  { name: 'mset', summary: 'Stores several key/value pairs at once.', handler: mset },
  { name: 'msetnx', summary: 'Stores several key/value pairs only if none of the keys exists.', handler: msetnx },
  { name: 'mget', summary: 'Replies with the string values of several keys (null for missing or non-string keys).', handler: mget },
  { name: 'incr', summary: 'Adds one to the integer stored at a key.', handler: incr },
  { name: 'decr', summary: 'Subtracts one from the integer stored at a key.', handler: decr },
  { name: 'incrby', summary: 'Adds an integer to the integer stored at a key.', handler: incrby },
  { name: 'decrby', summary: 'Subtracts an integer from the integer stored at a key.', handler: decrby },
  { name: 'incrbyfloat', summary: 'Adds a floating point number to the number stored at a key.', handler: incrbyfloat },
  { name: 'append', summary: 'Appends bytes to a string, creating it if needed; replies with the new length.', handler: append },
  { name: 'strlen', summary: 'Replies with the length in bytes of a string value.', handler: strlen },
  { name: 'getrange', summary: 'Replies with a byte range of a string value.', handler: getrange },
  { name: 'substr', summary: 'Old name of GETRANGE: replies with a byte range of a string value.', handler: getrange },
  { name: 'setrange', summary: 'Overwrites part of a string at a byte offset, zero-padding as needed.', handler: setrange },
  { name: 'lcs', summary: 'Finds the longest common subsequence of two string values, its length or its match positions.', handler: lcs },
];
