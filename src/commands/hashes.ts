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
import { hincrBy, parseInteger } from '../util/numbers.js';
import { hincrByFloat, parseHashFloatIncrement } from '../util/long-double.js';
import { globMatch } from '../util/glob.js';
import { ERR_NOT_INT, ERR_OUT_OF_RANGE, errWrongArity, ofTypeOrReply } from './errors.js';
import { addScanReply, beginKeyScan } from './scan.js';
import { MAX_REPEATED_COUNT, distinctIndexes, randomCountOrReply, removeMembers } from './sets.js';

function limitsOf(c: Client): HashLimits {
  const cfg = c.server.config;
  return { maxEntries: cfg.hashMaxListpackEntries, maxValue: cfg.hashMaxListpackValue };
}

function isHash(v: Value): v is HashValue {
  return v instanceof HashValue;
}

/** The hash at `key` (read lookup): undefined when missing, null after replying WRONGTYPE. */
function readHash(c: Client, key: string): HashValue | undefined | null {
  return ofTypeOrReply(c, c.db.lookupRead(key), isHash);
}

/** The hash at `key` (write lookup): undefined when missing, null after replying WRONGTYPE. */
function writeHash(c: Client, key: string): HashValue | undefined | null {
  return ofTypeOrReply(c, c.db.lookupWrite(key), isHash);
}

/** Stores a new hash (`created`: it was missing) or signals an in-place change, then notifies. */
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
    c.addError(errWrongArity(name));
    return -1;
  }
  const key = argv[1];
  const found = writeHash(c, key);
  if (found === null) return -1;
  const hash = found ?? new HashValue();
  const limits = limitsOf(c);
  hash.convertForArgs(argv, 2, argv.length - 1, limits.maxValue);
  let added = 0;
  for (let j = 2; j < argv.length; j += 2) {
    if (hash.set(argv[j], argv[j + 1], limits)) added++;
  }
  commit(c, key, hash, found === undefined, 'hset');
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
  const found = writeHash(c, key);
  if (found === null) return;
  if (found !== undefined && found.has(argv[2])) {
    c.addInt(0);
    return;
  }
  const hash = found ?? new HashValue();
  const limits = limitsOf(c);
  hash.convertForArgs(argv, 2, 3, limits.maxValue);
  hash.set(argv[2], argv[3], limits);
  commit(c, key, hash, found === undefined, 'hset');
  c.server.dirty++;
  c.addInt(1);
}

// ---- readers ---------------------------------------------------------------

function hget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  const v = h?.get(argv[2]);
  if (v === undefined) c.addNull();
  else c.addBulk(v);
}

function hmget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const v = h?.get(argv[j]);
    if (v === undefined) c.addNull();
    else c.addBulk(v);
  }
}

function hlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.addInt(h === undefined ? 0 : h.size);
}

function hstrlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.addInt(h === undefined ? 0 : h.valueLength(argv[2]));
}

function hexists(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.addInt(h !== undefined && h.has(argv[2]) ? 1 : 0);
}

const KEYS = 1;
const VALUES = 2;

/** HKEYS, HVALS, HGETALL: fields and/or values; both make a map (RESP3). */
function replyAll(c: Client, key: string, what: number): void {
  const h = readHash(c, key);
  if (h === null) return;
  const both = what === (KEYS | VALUES);
  const n = h === undefined ? 0 : h.size;
  if (both) c.addMapLen(n);
  else c.addArrayLen(n);
  if (h === undefined) return;
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
  const h = writeHash(c, key);
  if (h === null) return;
  if (h === undefined) c.addInt(0);
  else removeMembers(c, key, h, argv, 'h', 'hdel');
}

// ---- increments --------------------------------------------------------------

function hincrby(c: Client, argv: string[]): void {
  if (parseInteger(argv[3]) === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  const key = argv[1];
  const found = writeHash(c, key);
  if (found === null) return;
  const field = argv[2];
  const r = hincrBy(found?.get(field) ?? null, argv[3]);
  if ('error' in r) {
    c.addError(r.error);
    return;
  }
  const hash = found ?? new HashValue();
  hash.set(field, r.value, limitsOf(c));
  commit(c, key, hash, found === undefined, 'hincrby');
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
  const found = writeHash(c, key);
  if (found === null) return;
  const field = argv[2];
  const r = hincrByFloat(found?.get(field) ?? null, argv[3]);
  if ('error' in r) {
    c.addError(r.error);
    return;
  }
  const hash = found ?? new HashValue();
  hash.set(field, r.value, limitsOf(c));
  commit(c, key, hash, found === undefined, 'hincrbyfloat');
  c.server.dirty++;
  // Replicas and the AOF get the result, so float rounding cannot diverge.
  c.propagateAs = ['HSET', key, field, r.value];
  c.addBulk(r.value);
}

// ---- HSCAN -------------------------------------------------------------------

function hscan(c: Client, argv: string[]): void {
  const s = beginKeyScan(c, argv, isHash);
  if (s === null) return;
  const pattern = s.pattern;
  const out: string[] = [];
  const next = s.value.scan(s.start, s.count, (f, v) => {
    if (pattern === null || globMatch(pattern, f)) out.push(f, v);
  });
  addScanReply(c, next, out);
}

// ---- HRANDFIELD ----------------------------------------------------------------

function hrandfield(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const l = randomCountOrReply(c, argv, 'withvalues');
    if (l === null) return;
    randomWithCount(c, argv[1], l, argv.length === 4);
    return;
  }
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) {
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
  if (h === null) return;
  if (h === undefined || l === 0n) {
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
      if (c.closeAsap) break; // over its output limit: the reply would be dropped anyway, as Redis stops
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
