/**
 * Hash commands: HSET HSETNX HMSET HGET HMGET HGETALL HDEL HLEN HSTRLEN
 * HEXISTS HINCRBY HINCRBYFLOAT HKEYS HVALS HSCAN HRANDFIELD (Redis 7.0).
 *
 * Check order follows Redis so the same error wins and an error changes
 * nothing: argument syntax first (increments, counts, cursors), then the key's
 * type, then the stored field. A hash left empty is deleted.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { HashValue, type HashLimits } from '../data/hash.js';
import type { Value } from '../data/values.js';
import { hincrBy, parseInteger, parseInt64, parseLongLong } from '../util/numbers.js';
import { hincrByFloat, parseHashFloatIncrement } from '../util/long-double.js';
import { globMatch } from '../util/glob.js';
import { parseScanCursor } from './keys.js';
import { ERR_NOT_INT, ERR_SYNTAX, WRONGTYPE } from './errors.js';

const ERR_INVALID_CURSOR = 'ERR invalid cursor';
const ERR_OUT_OF_RANGE = 'ERR value is out of range';
const LONG_MAX = 9223372036854775807n;
const ERR_COUNT_RANGE = `ERR value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`;
/**
 * HRANDFIELD with a negative count repeats fields, so its reply can be endless
 * (Redis would fill memory until the client is dropped). We refuse counts whose
 * reply could not fit in a Node buffer anyway.
 */
const MAX_REPEATED_COUNT = 2 ** 31;

function limitsOf(c: Client): HashLimits {
  const cfg = c.server.config;
  return { maxEntries: cfg.hashMaxListpackEntries, maxValue: cfg.hashMaxListpackValue };
}

function isHash(v: Value): v is HashValue {
  return v instanceof HashValue;
}

/**
 * Read lookup with the type check: the hash, null for a missing key (caller
 * replies), or undefined after replying WRONGTYPE.
 */
function readHash(c: Client, key: string): HashValue | null | undefined {
  const v = c.db.lookupRead(key);
  if (v === undefined) return null;
  if (!isHash(v)) {
    c.addError(WRONGTYPE);
    return undefined;
  }
  return v;
}

/**
 * Write lookup: the existing hash, a new empty one (not yet stored: call
 * `commit` after the change), or undefined after replying WRONGTYPE.
 */
function writeHash(c: Client, key: string): { hash: HashValue; created: boolean } | undefined {
  const v = c.db.lookupWrite(key);
  if (v === undefined) return { hash: new HashValue(), created: true };
  if (!isHash(v)) {
    c.addError(WRONGTYPE);
    return undefined;
  }
  return { hash: v, created: false };
}

/** Stores a new hash or signals an in-place change, then notifies. */
function commit(c: Client, key: string, hash: HashValue, created: boolean, event: string): void {
  if (created) c.db.set(key, hash);
  else c.db.signalModified(key);
  c.server.notifier.notify('h', event, key, c.db.id);
}

/** Replies a stored int64 text as an integer (exact beyond 2^53). */
function addIntText(c: Client, s: string): void {
  const n = Number(s);
  c.addInt(Number.isSafeInteger(n) ? n : BigInt(s));
}

// ---- setters ---------------------------------------------------------------

/**
 * HSET and HMSET: field/value pairs; they differ only in the reply.
 * Returns the number of new fields, or -1 after replying an error.
 */
function setPairs(c: Client, argv: string[], name: string): number {
  if (argv.length % 2 === 1) {
    c.addError(`ERR wrong number of arguments for '${name}' command`);
    return -1;
  }
  const key = argv[1];
  const w = writeHash(c, key);
  if (w === undefined) return -1;
  const { hash, created } = w;
  const limits = limitsOf(c);
  hash.convertForArgs(argv, 2, argv.length - 1, limits.maxValue);
  let added = 0;
  for (let j = 2; j < argv.length; j += 2) {
    if (hash.set(argv[j], argv[j + 1], limits)) added++;
  }
  commit(c, key, hash, created, 'hset');
  c.server.dirty += (argv.length - 2) / 2;
  return added;
}

function hset(c: Client, argv: string[]): void {
  const added = setPairs(c, argv, 'hset');
  if (added >= 0) c.addInt(added);
}

function hmset(c: Client, argv: string[]): void {
  if (setPairs(c, argv, 'hmset') >= 0) c.addOK();
}

function hsetnx(c: Client, argv: string[]): void {
  const key = argv[1];
  const w = writeHash(c, key);
  if (w === undefined) return;
  const { hash, created } = w;
  if (!created && hash.has(argv[2])) {
    c.addInt(0);
    return;
  }
  const limits = limitsOf(c);
  hash.convertForArgs(argv, 2, 3, limits.maxValue);
  hash.set(argv[2], argv[3], limits);
  commit(c, key, hash, created, 'hset');
  c.server.dirty++;
  c.addInt(1);
}

// ---- readers ---------------------------------------------------------------

function hget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === undefined) return;
  const v = h === null ? undefined : h.get(argv[2]);
  if (v === undefined) c.addNull();
  else c.addBulk(v);
}

function hmget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === undefined) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const v = h === null ? undefined : h.get(argv[j]);
    if (v === undefined) c.addNull();
    else c.addBulk(v);
  }
}

function hlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === undefined) return;
  c.addInt(h === null ? 0 : h.size);
}

function hstrlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === undefined) return;
  c.addInt(h === null ? 0 : h.valueLength(argv[2]));
}

function hexists(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === undefined) return;
  c.addInt(h !== null && h.has(argv[2]) ? 1 : 0);
}

const KEYS = 1;
const VALUES = 2;

/** HKEYS, HVALS, HGETALL: fields and/or values; both make a map (RESP3). */
function replyAll(c: Client, key: string, what: number): void {
  const h = readHash(c, key);
  if (h === undefined) return;
  const both = what === (KEYS | VALUES);
  const n = h === null ? 0 : h.size;
  if (both) c.addMapLen(n);
  else c.addArrayLen(n);
  if (h === null) return;
  if (both) {
    h.forEach((f, v) => {
      c.addBulk(f);
      c.addBulk(v);
    });
  } else if (what === KEYS) {
    h.forEach((f) => c.addBulk(f));
  } else {
    h.forEach((_f, v) => c.addBulk(v));
  }
}

function hgetall(c: Client, argv: string[]): void {
  replyAll(c, argv[1], KEYS | VALUES);
}

function hkeys(c: Client, argv: string[]): void {
  replyAll(c, argv[1], KEYS);
}

function hvals(c: Client, argv: string[]): void {
  replyAll(c, argv[1], VALUES);
}

// ---- HDEL ------------------------------------------------------------------

function hdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const v = c.db.lookupWrite(key);
  if (v === undefined) {
    c.addInt(0);
    return;
  }
  if (!isHash(v)) {
    c.addError(WRONGTYPE);
    return;
  }
  let deleted = 0;
  let removed = false;
  for (let j = 2; j < argv.length; j++) {
    if (v.delete(argv[j])) {
      deleted++;
      if (v.size === 0) {
        c.db.delete(key);
        removed = true;
        break;
      }
    }
  }
  if (deleted > 0) {
    if (!removed) c.db.signalModified(key);
    c.server.notifier.notify('h', 'hdel', key, c.db.id);
    if (removed) c.server.notifier.notify('g', 'del', key, c.db.id);
    c.server.dirty += deleted;
  }
  c.addInt(deleted);
}

// ---- increments --------------------------------------------------------------

function hincrby(c: Client, argv: string[]): void {
  if (parseInteger(argv[3]) === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  const key = argv[1];
  const w = writeHash(c, key);
  if (w === undefined) return;
  const { hash, created } = w;
  const field = argv[2];
  const r = hincrBy(created ? null : hash.get(field) ?? null, argv[3]);
  if ('error' in r) {
    c.addError(r.error);
    return;
  }
  hash.set(field, r.value, limitsOf(c));
  commit(c, key, hash, created, 'hincrby');
  c.server.dirty++;
  addIntText(c, r.value);
}

function hincrbyfloat(c: Client, argv: string[]): void {
  const inc = parseHashFloatIncrement(argv[3]);
  if ('error' in inc) {
    c.addError(inc.error);
    return;
  }
  const key = argv[1];
  const w = writeHash(c, key);
  if (w === undefined) return;
  const { hash, created } = w;
  const field = argv[2];
  const r = hincrByFloat(created ? null : hash.get(field) ?? null, argv[3]);
  if ('error' in r) {
    c.addError(r.error);
    return;
  }
  hash.set(field, r.value, limitsOf(c));
  commit(c, key, hash, created, 'hincrbyfloat');
  c.server.dirty++;
  // Replicas and the AOF get the result, so float rounding cannot diverge.
  c.propagateAs = ['HSET', key, field, r.value];
  c.addBulk(r.value);
}

// ---- HSCAN -------------------------------------------------------------------

function hscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]);
  if (cursor === null) {
    c.addError(ERR_INVALID_CURSOR);
    return;
  }
  const h = readHash(c, argv[1]);
  if (h === undefined) return;
  if (h === null) {
    c.addArrayLen(2);
    c.addBulk('0');
    c.addEmptyArray();
    return;
  }
  let count = 10;
  let pattern: string | null = null;
  for (let i = 3; i < argv.length; i += 2) {
    const opt = argv[i].toLowerCase();
    if (i + 1 >= argv.length) {
      c.addError(ERR_SYNTAX);
      return;
    }
    if (opt === 'count') {
      const n = parseInt64(argv[i + 1]);
      if (n === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      if (n < 1) {
        c.addError(ERR_SYNTAX);
        return;
      }
      count = n;
    } else if (opt === 'match') {
      pattern = argv[i + 1] === '*' ? null : argv[i + 1];
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  const out: string[] = [];
  const start = cursor > BigInt(h.size) ? h.size : Number(cursor);
  const next = h.scan(start, count, (f, v) => {
    if (pattern !== null && !globMatch(pattern, f)) return;
    out.push(f, v);
  });
  c.addArrayLen(2);
  c.addBulk(String(next));
  c.addBulks(out);
}

// ---- HRANDFIELD ----------------------------------------------------------------

function hrandfield(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const l = parseLongLong(argv[2]);
    if (l === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    if (l < -LONG_MAX) {
      c.addError(ERR_COUNT_RANGE);
      return;
    }
    let withValues = false;
    if (argv.length > 4 || (argv.length === 4 && argv[3].toLowerCase() !== 'withvalues')) {
      c.addError(ERR_SYNTAX);
      return;
    }
    if (argv.length === 4) {
      withValues = true;
      // Redis doubles the count for the reply length, so it caps it at LONG_MAX/2.
      if (l < -(LONG_MAX / 2n) || l > LONG_MAX / 2n) {
        c.addError(ERR_OUT_OF_RANGE);
        return;
      }
    }
    randomWithCount(c, argv[1], l, withValues);
    return;
  }
  const h = readHash(c, argv[1]);
  if (h === undefined) return;
  if (h === null) {
    c.addNull();
    return;
  }
  const index = h.index();
  c.addBulk(index.field(Math.floor(Math.random() * index.size)));
}

function addRandomEntry(c: Client, field: string, value: string, withValues: boolean): void {
  if (withValues && c.resp === 3) c.addArrayLen(2);
  c.addBulk(field);
  if (withValues) c.addBulk(value);
}

function randomWithCount(c: Client, key: string, l: bigint, withValues: boolean): void {
  const h = readHash(c, key);
  if (h === undefined) return;
  if (h === null || l === 0n) {
    c.addEmptyArray();
    return;
  }
  const unique = l > 0n;
  const big = unique ? l : -l;
  const size = h.size;
  // Flat pairs in RESP2, an array of [field, value] arrays in RESP3.
  const perItem = withValues && c.resp === 2 ? 2 : 1;

  if (!unique || big === 1n) {
    if (big > BigInt(MAX_REPEATED_COUNT)) {
      c.addError(ERR_OUT_OF_RANGE);
      return;
    }
    const count = Number(big);
    const index = h.index();
    c.addArrayLen(count * perItem);
    for (let i = 0; i < count; i++) {
      const j = Math.floor(Math.random() * size);
      addRandomEntry(c, index.field(j), withValues ? index.value(j) : '', withValues);
    }
    return;
  }

  if (big >= BigInt(size)) {
    // The whole hash, in its own order.
    c.addArrayLen(size * perItem);
    h.forEach((f, v) => addRandomEntry(c, f, v, withValues));
    return;
  }

  const count = Number(big);
  const index = h.index();
  c.addArrayLen(count * perItem);
  if (h.encoding() === 'listpack') {
    // Distinct entries in listpack order, as Redis samples a listpack (selection sampling).
    let needed = count;
    for (let i = 0; i < size && needed > 0; i++) {
      if (Math.random() * (size - i) < needed) {
        addRandomEntry(c, index.field(i), index.value(i), withValues);
        needed--;
      }
    }
    return;
  }
  for (const j of distinctIndexes(size, count)) addRandomEntry(c, index.field(j), withValues ? index.value(j) : '', withValues);
}

/** `count` distinct random positions below `size` (count < size), in no particular order. */
function distinctIndexes(size: number, count: number): Iterable<number> {
  if (count * 3 > size) {
    // Partial Fisher-Yates: cheap when we need a large share of the positions.
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

export const commands: CommandImpl[] = [
  { name: 'hset', summary: 'Sets one or more fields of a hash; replies how many fields were new.', handler: hset },
  { name: 'hsetnx', summary: 'Sets a hash field only if it does not exist yet.', handler: hsetnx },
  { name: 'hmset', summary: 'Sets one or more fields of a hash; replies OK (older form of HSET).', handler: hmset },
  { name: 'hget', summary: "Returns one field's value from a hash.", handler: hget },
  { name: 'hmget', summary: 'Returns the values of several hash fields, nil for missing ones.', handler: hmget },
  { name: 'hgetall', summary: 'Returns every field and value of a hash.', handler: hgetall },
  { name: 'hdel', summary: 'Removes fields from a hash; the key goes away with its last field.', handler: hdel },
  { name: 'hlen', summary: 'Counts the fields of a hash.', handler: hlen },
  { name: 'hstrlen', summary: "Returns the byte length of a hash field's value.", handler: hstrlen },
  { name: 'hexists', summary: 'Tells whether a hash has a field.', handler: hexists },
  { name: 'hincrby', summary: 'Adds an integer to a hash field, starting from 0.', handler: hincrby },
  { name: 'hincrbyfloat', summary: 'Adds a floating-point number to a hash field, starting from 0.', handler: hincrbyfloat },
  { name: 'hkeys', summary: 'Returns all field names of a hash.', handler: hkeys },
  { name: 'hvals', summary: 'Returns all values of a hash.', handler: hvals },
  { name: 'hscan', summary: 'Iterates over the fields and values of a hash with a cursor.', handler: hscan },
  { name: 'hrandfield', summary: 'Returns random fields of a hash, optionally with their values.', handler: hrandfield },
];
