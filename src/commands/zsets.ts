/**
 * Sorted set commands (Redis 7.0): ZADD ZINCRBY ZREM ZCARD ZCOUNT ZLEXCOUNT
 * ZSCORE ZMSCORE ZRANK ZREVRANK, the ZRANGE family (ZRANGE with BYSCORE/BYLEX/
 * REV/LIMIT, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX,
 * ZREVRANGE, ZRANGESTORE), ZREMRANGEBYRANK/SCORE/LEX, ZPOPMIN ZPOPMAX ZMPOP,
 * the blocking BZPOPMIN BZPOPMAX BZMPOP, ZRANDMEMBER, ZUNION ZINTER ZDIFF and
 * their STORE forms, ZINTERCARD and ZSCAN.
 *
 * Check order, error texts, replies and effects follow Redis 7.0's t_zset.c,
 * so the same error wins and an error changes nothing. An emptied set is
 * deleted (with a "del" event). Scores are replied with c.addDouble: %.17g
 * bulk strings in RESP2, doubles in RESP3.
 *
 * Blocking pops work like the list ones (see blocking-pop.ts): served at once
 * when a key has elements (propagated as ZPOPMIN/ZPOPMAX [count]); otherwise
 * the client waits in server.blocking and `serve` pops for it when a set appears.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Value } from '../data/values.js';
import type { SetValue } from '../data/set.js';
import {
  ZSetValue,
  isZSet,
  LEX_MIN,
  LEX_MAX,
  type LexBound,
  type LexRange,
  type ScoreRange,
  type ZSetLimits,
} from '../data/zset.js';
import { ERR_NOT_FLOAT, parseDouble, parseDoubleStrtod, parseInt64, formatDouble17g } from '../util/numbers.js';
import { globMatch } from '../util/glob.js';
import {
  ERR_LIMIT_NEGATIVE,
  ERR_MUST_BE_POSITIVE,
  ERR_NOT_INT,
  ERR_OUT_OF_RANGE,
  ERR_SYNTAX,
  WRONGTYPE,
  ofTypeOrReply,
} from './errors.js';
import { blockingPop, parseMpop, type PopSource } from './blocking-pop.js';
import { addScanReply, beginKeyScan } from './scan.js';
import { MAX_REPEATED_COUNT, distinctIndexes, randomCountOrReply, removeMembers } from './sets.js';
import { optIs } from './strings.js';

const ERR_NAN = 'ERR resulting score is not a number (NaN)';
const ERR_XX_NX = 'ERR XX and NX options at the same time are not compatible';
const ERR_GT_LT_NX = 'ERR GT, LT, and/or NX options at the same time are not compatible';
const ERR_INCR_PAIR = 'ERR INCR option supports a single increment-element pair';
const ERR_RANGE_FLOAT = 'ERR min or max is not a float';
const ERR_RANGE_LEX = 'ERR min or max not valid string range item';
const ERR_LIMIT_RANK = 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX';
const ERR_WITHSCORES_LEX = 'ERR syntax error, WITHSCORES not supported in combination with BYLEX';
const ERR_WEIGHT = 'ERR weight value is not a float';

// ---- shared helpers ----------------------------------------------------------------

function limitsOf(c: Client): ZSetLimits {
  const cfg = c.server.config;
  return { maxEntries: cfg.zsetMaxListpackEntries, maxValue: cfg.zsetMaxListpackValue };
}

/** The set held by `v`: undefined when missing, null after replying WRONGTYPE. */
function asZSet(c: Client, v: Value | undefined): ZSetValue | undefined | null {
  return ofTypeOrReply(c, v, isZSet);
}

function notify(c: Client, event: string, key: string): void {
  c.server.notifier.notify('z', event, key, c.db.id);
}

/**
 * zslParseRange: "(" makes a bound exclusive; the rest is strtod text that
 * must end at the end of the string (or a NUL), NaN refused.
 */
export function parseScoreRange(minArg: string, maxArg: string): ScoreRange | null {
  const minex = minArg.charCodeAt(0) === 40;
  const min = parseDoubleStrtod(minex ? minArg.slice(1) : minArg);
  if (min === null) return null;
  const maxex = maxArg.charCodeAt(0) === 40;
  const max = parseDoubleStrtod(maxex ? maxArg.slice(1) : maxArg);
  if (max === null) return null;
  return { min, max, minex, maxex };
}

/** zslParseLexRangeItem: "[x" inclusive, "(x" exclusive, "-" and "+" the ends. */
function parseLexItem(arg: string): { bound: LexBound; ex: boolean } | null {
  const first = arg.charCodeAt(0);
  // Redis looks at the second byte of a C string: "+" followed by a NUL is still "+".
  const alone = arg.length === 1 || arg.charCodeAt(1) === 0;
  switch (first) {
    case 43: // '+'
      return alone ? { bound: LEX_MAX, ex: true } : null;
    case 45: // '-'
      return alone ? { bound: LEX_MIN, ex: true } : null;
    case 40: // '('
      return { bound: arg.slice(1), ex: true };
    case 91: // '['
      return { bound: arg.slice(1), ex: false };
    default:
      return null;
  }
}

export function parseLexRange(minArg: string, maxArg: string): LexRange | null {
  const min = parseLexItem(minArg);
  if (min === null) return null;
  const max = parseLexItem(maxArg);
  if (max === null) return null;
  return { min: min.bound, max: max.bound, minex: min.ex, maxex: max.ex };
}

/**
 * Replies elements as Redis's range replies do: a flat array (member, score)
 * in RESP2 with scores, an array of [member, score] pairs in RESP3.
 */
function replyElements(c: Client, n: number, withScores: boolean, each: (emit: (m: string, s: number) => void) => void): void {
  const nested = withScores && c.resp === 3;
  c.addArrayLen(withScores && !nested ? n * 2 : n);
  each((m, s) => {
    if (nested) c.addArrayLen(2);
    c.addBulk(m);
    if (withScores) c.addDouble(s);
  });
}

// ---- ZADD / ZINCRBY -------------------------------------------------------------------

/** ZADD (and ZINCRBY, which is ZADD with INCR preset; its options are parsed too, as Redis does). */
function zaddGeneric(c: Client, argv: string[], incrPreset: boolean): void {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = incrPreset;
  let at = 2;
  for (; at < argv.length; at++) {
    const opt = argv[at];
    if (optIs(opt, 'nx')) nx = true;
    else if (optIs(opt, 'xx')) xx = true;
    else if (optIs(opt, 'ch')) ch = true;
    else if (optIs(opt, 'incr')) incr = true;
    else if (optIs(opt, 'gt')) gt = true;
    else if (optIs(opt, 'lt')) lt = true;
    else break;
  }
  const rest = argv.length - at;
  if (rest === 0 || rest % 2 !== 0) {
    c.addError(ERR_SYNTAX);
    return;
  }
  const pairs = rest / 2;
  if (nx && xx) {
    c.addError(ERR_XX_NX);
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    c.addError(ERR_GT_LT_NX);
    return;
  }
  if (incr && pairs > 1) {
    c.addError(ERR_INCR_PAIR);
    return;
  }
  const scores: number[] = new Array(pairs);
  for (let j = 0; j < pairs; j++) {
    const s = parseDouble(argv[at + j * 2]);
    if (s === null) {
      c.addError(ERR_NOT_FLOAT);
      return;
    }
    scores[j] = s;
  }
  const db = c.db;
  const key = argv[1];
  let z = asZSet(c, db.lookupWrite(key));
  if (z === null) return;
  const created = z === undefined;
  if (z === undefined) {
    if (xx) {
      // No key and XX: nothing to do.
      if (incr) c.addNull();
      else c.addInt(0);
      return;
    }
    z = new ZSetValue();
  }
  const limits = limitsOf(c);
  let added = 0;
  let updated = 0;
  let processed = 0;
  let last = 0;
  for (let j = 0; j < pairs; j++) {
    const member = argv[at + 1 + j * 2];
    let score = scores[j];
    const cur = z.score(member);
    if (cur !== undefined) {
      if (nx) continue;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) {
          // INCR allows one pair only, so nothing was changed before this.
          c.addError(ERR_NAN);
          return;
        }
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      if (score !== cur) {
        z.update(member, cur, score);
        updated++;
      }
    } else {
      if (xx) continue;
      z.insert(member, score, limits);
      added++;
    }
    processed++;
    last = score;
  }
  c.server.dirty += added + updated;
  if (incr) {
    if (processed > 0) c.addDouble(last);
    else c.addNull();
  } else {
    c.addInt(ch ? added + updated : added);
  }
  if (added > 0 || updated > 0) {
    if (created) db.set(key, z);
    else db.signalModified(key);
    notify(c, incr ? 'zincr' : 'zadd', key);
  }
}

function zadd(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, false);
}

function zincrby(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, true);
}

// ---- simple reads and ZREM ---------------------------------------------------------------

function zrem(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  const z = asZSet(c, db.lookupWrite(key));
  if (z === null) return;
  if (z === undefined) c.addInt(0);
  else removeMembers(c, key, z, argv, 'z', 'zrem');
}

function zcard(c: Client, argv: string[]): void {
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  c.addInt(z === undefined ? 0 : z.size);
}

function zscore(c: Client, argv: string[]): void {
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  const s = z === undefined ? undefined : z.score(argv[2]);
  if (s === undefined) c.addNull();
  else c.addDouble(s);
}

function zmscore(c: Client, argv: string[]): void {
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const s = z === undefined ? undefined : z.score(argv[j]);
    if (s === undefined) c.addNull();
    else c.addDouble(s);
  }
}

function zrankCommand(reverse: boolean) {
  return (c: Client, argv: string[]): void => {
    const z = asZSet(c, c.db.lookupRead(argv[1]));
    if (z === null) return;
    const r = z === undefined ? -1 : z.rank(argv[2]);
    if (r < 0) c.addNull();
    else c.addInt(reverse ? z!.size - 1 - r : r);
  };
}

function zcount(c: Client, argv: string[]): void {
  const range = parseScoreRange(argv[2], argv[3]);
  if (range === null) {
    c.addError(ERR_RANGE_FLOAT);
    return;
  }
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  if (z === undefined) {
    c.addInt(0);
    return;
  }
  const [first, last] = z.scoreRange(range);
  c.addInt(Math.max(0, last - first + 1));
}

function zlexcount(c: Client, argv: string[]): void {
  const range = parseLexRange(argv[2], argv[3]);
  if (range === null) {
    c.addError(ERR_RANGE_LEX);
    return;
  }
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  if (z === undefined) {
    c.addInt(0);
    return;
  }
  const [first, last] = z.lexRange(range, false);
  c.addInt(Math.max(0, last - first + 1));
}

// ---- the ZRANGE family -----------------------------------------------------------------

const enum RangeType {
  Auto,
  Rank,
  Score,
  Lex,
}

const enum Direction {
  Auto,
  Forward,
  Reverse,
}

/** Rank interval [first, last] (first > last when empty) after Redis's index rules. */
function rankInterval(size: number, start: number, end: number): [number, number] {
  if (start < 0) start = size + start;
  if (end < 0) end = size + end;
  if (start < 0) start = 0;
  if (start > end || start >= size) return [0, -1];
  if (end >= size) end = size - 1;
  return [start, end];
}

/**
 * Applies LIMIT offset count to the ranks [first, last] of a score or lex range
 * walked forward or backward. Returns the ranks to emit, low to high. Redis skips
 * `offset` elements one by one, so a negative offset skips everything.
 */
function applyLimit(first: number, last: number, offset: number, limit: number, reverse: boolean): [number, number] {
  if (first > last || offset < 0) return [0, -1];
  let n = last - first + 1 - offset;
  if (n <= 0) return [0, -1];
  if (limit >= 0 && limit < n) n = limit;
  if (n === 0) return [0, -1];
  return reverse ? [last - offset - n + 1, last - offset] : [first + offset, first + offset + n - 1];
}

/**
 * zrangeGenericCommand: ZRANGE and its older forms, and ZRANGESTORE (store).
 * `at` is the index of the source key in argv.
 */
function zrangeGeneric(c: Client, argv: string[], at: number, store: boolean, type: RangeType, dir: Direction): void {
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = at + 3; j < argv.length; j++) {
    const arg = argv[j];
    const left = argv.length - j - 1;
    if (!store && optIs(arg, 'withscores')) {
      withScores = true;
    } else if (optIs(arg, 'limit') && left >= 2) {
      const o = parseInt64(argv[j + 1]);
      const l = o === null ? null : parseInt64(argv[j + 2]);
      if (o === null || l === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      offset = o;
      limit = l;
      j += 2;
    } else if (dir === Direction.Auto && optIs(arg, 'rev')) {
      dir = Direction.Reverse;
    } else if (type === RangeType.Auto && optIs(arg, 'bylex')) {
      type = RangeType.Lex;
    } else if (type === RangeType.Auto && optIs(arg, 'byscore')) {
      type = RangeType.Score;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  if (dir === Direction.Auto) dir = Direction.Forward;
  if (type === RangeType.Auto) type = RangeType.Rank;
  // Redis's "no limit" is -1, so an explicit LIMIT x -1 passes this check.
  if (limit !== -1 && type === RangeType.Rank) {
    c.addError(ERR_LIMIT_RANK);
    return;
  }
  if (withScores && type === RangeType.Lex) {
    c.addError(ERR_WITHSCORES_LEX);
    return;
  }
  const reverse = dir === Direction.Reverse;
  let minArg = argv[at + 1];
  let maxArg = argv[at + 2];
  // Score and lex ranges are given as max, min when reversed.
  if (reverse && type !== RangeType.Rank) [minArg, maxArg] = [maxArg, minArg];

  let start = 0;
  let end = 0;
  let scoreRange: ScoreRange | null = null;
  let lexRange: LexRange | null = null;
  if (type === RangeType.Rank) {
    const s = parseInt64(minArg);
    const e = s === null ? null : parseInt64(maxArg);
    if (s === null || e === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    start = s;
    end = e;
  } else if (type === RangeType.Score) {
    scoreRange = parseScoreRange(minArg, maxArg);
    if (scoreRange === null) {
      c.addError(ERR_RANGE_FLOAT);
      return;
    }
  } else {
    lexRange = parseLexRange(minArg, maxArg);
    if (lexRange === null) {
      c.addError(ERR_RANGE_LEX);
      return;
    }
  }

  const src = argv[at];
  const z = asZSet(c, c.db.lookupRead(src));
  if (z === null) return;
  if (z === undefined) {
    if (store) storeResult(c, argv[1], [], [], 'zrangestore');
    else c.addEmptyArray();
    return;
  }

  let first: number;
  let last: number;
  const size = z.size;
  if (type === RangeType.Rank) {
    [first, last] = rankInterval(size, start, end);
    if (reverse && first <= last) [first, last] = [size - 1 - last, size - 1 - first];
  } else if (offset > 0 && offset >= size) {
    first = 0;
    last = -1;
  } else {
    const [f, l] = scoreRange !== null ? z.scoreRange(scoreRange) : z.lexRange(lexRange!, reverse);
    [first, last] = applyLimit(f, l, offset, limit, reverse);
  }
  const n = Math.max(0, last - first + 1);

  if (store) {
    const members: string[] = [];
    const scores: number[] = [];
    if (n > 0) {
      z.forRange(first, last, false, (m, s) => {
        members.push(m);
        scores.push(s);
      });
    }
    storeResult(c, argv[1], members, scores, 'zrangestore');
    return;
  }
  replyElements(c, n, withScores, (emit) => {
    if (n > 0) z.forRange(first, last, reverse, emit);
  });
}

/**
 * Stores a computed result at `dst` (ZRANGESTORE, ZUNIONSTORE, ...): the set
 * replaces whatever was there (and its TTL) with Redis's event, or an empty
 * result deletes `dst`. Replies the result's size. Pairs must be sorted.
 */
function storeResult(c: Client, dst: string, members: string[], scores: number[], event: string): void {
  const db = c.db;
  if (members.length > 0) {
    db.set(dst, ZSetValue.fromSorted(members, scores, limitsOf(c)));
    c.addInt(members.length);
    notify(c, event, dst);
    c.server.dirty++;
    return;
  }
  c.addInt(0);
  if (db.delete(dst)) {
    c.server.notifier.notify('g', 'del', dst, db.id);
    c.server.dirty++;
  }
}

function rangeCommand(at: number, store: boolean, type: RangeType, dir: Direction) {
  return (c: Client, argv: string[]): void => zrangeGeneric(c, argv, at, store, type, dir);
}

// ---- ZREMRANGEBY* -------------------------------------------------------------------------

const REMRANGE_EVENTS = ['', 'zremrangebyrank', 'zremrangebyscore', 'zremrangebylex'];

function zremrangeCommand(type: RangeType) {
  return (c: Client, argv: string[]): void => {
    let start = 0;
    let end = 0;
    let scoreRange: ScoreRange | null = null;
    let lexRange: LexRange | null = null;
    if (type === RangeType.Rank) {
      const s = parseInt64(argv[2]);
      const e = s === null ? null : parseInt64(argv[3]);
      if (s === null || e === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      start = s;
      end = e;
    } else if (type === RangeType.Score) {
      scoreRange = parseScoreRange(argv[2], argv[3]);
      if (scoreRange === null) {
        c.addError(ERR_RANGE_FLOAT);
        return;
      }
    } else {
      lexRange = parseLexRange(argv[2], argv[3]);
      if (lexRange === null) {
        c.addError(ERR_RANGE_LEX);
        return;
      }
    }
    const db = c.db;
    const key = argv[1];
    const z = asZSet(c, db.lookupWrite(key));
    if (z === null) return;
    if (z === undefined) {
      c.addInt(0);
      return;
    }
    let first: number;
    let last: number;
    if (type === RangeType.Rank) [first, last] = rankInterval(z.size, start, end);
    else if (scoreRange !== null) [first, last] = z.scoreRange(scoreRange);
    else [first, last] = z.lexRange(lexRange!, false);
    const deleted = first <= last ? z.removeRange(first, last) : 0;
    if (deleted > 0) {
      const removed = z.size === 0;
      if (removed) db.delete(key);
      else db.signalModified(key);
      notify(c, REMRANGE_EVENTS[type], key);
      if (removed) c.server.notifier.notify('g', 'del', key, db.id);
    }
    c.server.dirty += deleted;
    c.addInt(deleted);
  };
}

// ---- pops ---------------------------------------------------------------------------------

/** What a pop took: the key and how many elements. */
interface Popped {
  key: string;
  n: number;
}

/**
 * genericZpopCommand. Pops up to `count` elements (-1: one, the plain form)
 * from the first existing key among `keys`, with the reply shape selected by
 * emitKey/nested. Replies and returns what it popped, or null.
 */
function genericZpop(
  c: Client,
  keys: readonly string[],
  max: boolean,
  emitKey: boolean,
  count: number,
  nested: boolean,
  nilWhenEmpty: boolean,
): Popped | null {
  const db = c.db;
  let z: ZSetValue | undefined;
  let key = '';
  for (const k of keys) {
    const found = asZSet(c, db.lookupWrite(k));
    if (found === null) return null;
    if (found === undefined) continue;
    z = found;
    key = k;
    break;
  }
  if (z === undefined) {
    if (nilWhenEmpty) c.addNullArray();
    else c.addEmptyArray();
    return null;
  }
  if (count === 0) {
    c.addEmptyArray();
    return null;
  }
  const n = Math.min(count === -1 ? 1 : count, z.size);
  if (!nested && !emitKey) {
    c.addArrayLen(n * 2);
  } else if (nested && !emitKey) {
    c.addArrayLen(n);
  } else if (!nested && emitKey) {
    c.addArrayLen(n * 2 + 1);
    c.addBulk(key);
  } else {
    c.addArrayLen(2);
    c.addBulk(key);
    c.addArrayLen(n);
  }
  const members: string[] = [];
  const scores: number[] = [];
  const size = z.size;
  z.removeRange(max ? size - n : 0, max ? size - 1 : n - 1, (m, s) => {
    members.push(m);
    scores.push(s);
  });
  for (let i = 0; i < n; i++) {
    const k = max ? n - 1 - i : i;
    if (nested) c.addArrayLen(2);
    c.addBulk(members[k]);
    c.addDouble(scores[k]);
  }
  notify(c, max ? 'zpopmax' : 'zpopmin', key);
  if (z.size === 0) {
    db.delete(key);
    c.server.notifier.notify('g', 'del', key, db.id);
  } else {
    db.signalModified(key);
  }
  c.server.dirty += n;
  return { key, n };
}

/**
 * What a pop is propagated as: ZPOPMIN/ZPOPMAX key for the plain form,
 * ZPOPMIN/ZPOPMAX key n (the number actually popped) for COUNT forms, as Redis.
 */
function popArgv(max: boolean, p: Popped, count: number): string[] {
  const name = max ? 'ZPOPMAX' : 'ZPOPMIN';
  return count === -1 ? [name, p.key] : [name, p.key, String(p.n)];
}

function zpopCommand(max: boolean) {
  return (c: Client, argv: string[]): void => {
    if (argv.length > 3) {
      c.addError(ERR_SYNTAX);
      return;
    }
    let count = -1;
    if (argv.length === 3) {
      const n = parseInt64(argv[2]);
      if (n === null || n < 0) {
        c.addError(ERR_MUST_BE_POSITIVE);
        return;
      }
      count = n;
    }
    genericZpop(c, [argv[1]], max, false, count, c.resp === 3 && count !== -1, false);
  };
}

function zmpop(c: Client, argv: string[]): void {
  const args = parseMpop(c, argv, 1, 'min', 'max');
  if (args === null) return;
  const max = !args.fromStart;
  const popped = genericZpop(c, args.keys, max, true, args.count, true, true);
  if (popped !== null) c.propagateAs = popArgv(max, popped, args.count);
}

const ZSETS: PopSource<ZSetValue> = {
  is: isZSet,
  isEmpty: (z) => z.size === 0,
};

/**
 * BZPOPMIN/BZPOPMAX (count -1) and BZMPOP once their other arguments are parsed:
 * see blockingPop. BZMPOP replies [key, [[member, score], ...]].
 */
function blockingZpop(c: Client, argv: string[], keys: string[], max: boolean, count: number, timeoutArg: string): void {
  const nested = count !== -1;
  blockingPop(c, argv, keys, timeoutArg, ZSETS, (cl, _db, key) => {
    const popped = genericZpop(cl, [key], max, true, count, nested, nested);
    return popped === null ? null : popArgv(max, popped, count);
  });
}

function bzpopCommand(max: boolean) {
  return (c: Client, argv: string[]): void => {
    blockingZpop(c, argv, argv.slice(1, -1), max, -1, argv[argv.length - 1]);
  };
}

function bzmpop(c: Client, argv: string[]): void {
  // Redis parses numkeys, MIN/MAX and COUNT before the timeout.
  const args = parseMpop(c, argv, 2, 'min', 'max');
  if (args === null) return;
  blockingZpop(c, argv, args.keys, !args.fromStart, args.count, argv[1]);
}

// ---- ZRANDMEMBER --------------------------------------------------------------------------

function zrandmember(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const l = randomCountOrReply(c, argv, 'withscores');
    if (l === null) return;
    randomWithCount(c, argv[1], l, argv.length === 4);
    return;
  }
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  if (z === undefined) c.addNull();
  else c.addBulk(z.randomEntry()[0]);
}

function randomWithCount(c: Client, key: string, l: bigint, withScores: boolean): void {
  const z = asZSet(c, c.db.lookupRead(key));
  if (z === null) return;
  if (z === undefined || l === 0n) {
    c.addEmptyArray();
    return;
  }
  const unique = l > 0n;
  const big = unique ? l : -l;
  const size = z.size;
  const nested = withScores && c.resp === 3;
  const emit = (m: string, s: number): void => {
    if (nested) c.addArrayLen(2);
    c.addBulk(m);
    if (withScores) c.addDouble(s);
  };

  if (!unique || big === 1n) {
    // Repeats allowed: independent picks.
    if (big > BigInt(MAX_REPEATED_COUNT)) {
      c.addError(ERR_OUT_OF_RANGE);
      return;
    }
    const count = Number(big);
    c.addArrayLen(withScores && !nested ? count * 2 : count);
    for (let i = 0; i < count; i++) {
      const [m, s] = z.randomEntry();
      emit(m, s);
      if (c.closeAsap) break; // over its output limit: the reply would be dropped anyway, as Redis stops
    }
    return;
  }
  if (big >= BigInt(size)) {
    // The whole set, highest first: Redis walks sorted sets from the tail here.
    c.addArrayLen(withScores && !nested ? size * 2 : size);
    z.forRange(0, size - 1, true, emit);
    return;
  }
  const count = Number(big);
  c.addArrayLen(withScores && !nested ? count * 2 : count);
  if (z.encoding() === 'listpack') {
    // Distinct members in set order, as Redis samples a listpack (selection sampling).
    let needed = count;
    for (let i = 0; i < size && needed > 0; i++) {
      if (Math.random() * (size - i) < needed) {
        const [m, s] = z.entryAtSlot(i);
        emit(m, s);
        needed--;
      }
    }
    return;
  }
  for (const i of distinctIndexes(size, count)) {
    const [m, s] = z.entryAtSlot(i);
    emit(m, s);
  }
}

// ---- ZUNION / ZINTER / ZDIFF (and STORE), ZINTERCARD -------------------------------------

/** One input of a set operation: a sorted set, a plain set (all scores 1, as Redis) or a missing key. */
class OpSource {
  constructor(
    readonly value: ZSetValue | SetValue | null,
    public weight: number,
  ) {}

  get size(): number {
    return this.value === null ? 0 : this.value.size;
  }

  /** Score of member in this input (1 for a plain set), or undefined. */
  find(member: string): number | undefined {
    const v = this.value;
    if (v === null) return undefined;
    if (v instanceof ZSetValue) return v.score(member);
    return v.has(member) ? 1 : undefined;
  }

  /** Calls fn for each member; fn returning false stops (early for sorted sets, at once for plain sets). */
  forEach(fn: (member: string, score: number) => void | boolean): void {
    const v = this.value;
    if (v === null) return;
    if (v instanceof ZSetValue) {
      v.forEach(fn);
      return;
    }
    let stopped = false;
    v.forEach((m) => {
      if (!stopped && fn(m, 1) === false) stopped = true;
    });
  }
}

const enum SetOp {
  Union,
  Inter,
  Diff,
}

const enum Aggregate {
  Sum,
  Min,
  Max,
}

/** zunionInterAggregate: SUM turns inf + -inf (NaN) into 0; MIN/MAX keep the target on NaN. */
function aggregate(target: number, val: number, agg: Aggregate): number {
  if (agg === Aggregate.Sum) {
    const r = target + val;
    return Number.isNaN(r) ? 0 : r;
  }
  if (agg === Aggregate.Min) return val < target ? val : target;
  return val > target ? val : target;
}

/**
 * zunionInterDiffGenericCommand. `dst` is the destination key (STORE forms)
 * or null; `name` is the command name for the numkeys error.
 */
function zsetOperation(c: Client, argv: string[], dst: string | null, numkeysAt: number, op: SetOp, cardOnly: boolean, name: string): void {
  const setnum = parseInt64(argv[numkeysAt]);
  if (setnum === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  if (setnum < 1) {
    c.addError(`ERR at least 1 input key is needed for '${name}' command`);
    return;
  }
  if (setnum > argv.length - (numkeysAt + 1)) {
    c.addError(ERR_SYNTAX);
    return;
  }
  const db = c.db;
  const srcs: OpSource[] = [];
  let j = numkeysAt + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = dst !== null ? db.lookupWrite(argv[j]) : db.lookupRead(argv[j]);
    if (v === undefined) {
      srcs.push(new OpSource(null, 1));
      continue;
    }
    if (isZSet(v)) srcs.push(new OpSource(v, 1));
    else if ((v as { type?: string }).type === 'set') srcs.push(new OpSource(v as SetValue, 1)); // a plain set: scores 1
    else {
      c.addError(WRONGTYPE);
      return;
    }
  }
  let agg = Aggregate.Sum;
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const arg = argv[j];
    if (op !== SetOp.Diff && !cardOnly && remaining >= setnum + 1 && optIs(arg, 'weights')) {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = parseDouble(argv[j]);
        if (w === null) {
          c.addError(ERR_WEIGHT);
          return;
        }
        srcs[i].weight = w;
      }
    } else if (op !== SetOp.Diff && !cardOnly && remaining >= 2 && optIs(arg, 'aggregate')) {
      const a = argv[j + 1];
      if (optIs(a, 'sum')) agg = Aggregate.Sum;
      else if (optIs(a, 'min')) agg = Aggregate.Min;
      else if (optIs(a, 'max')) agg = Aggregate.Max;
      else {
        c.addError(ERR_SYNTAX);
        return;
      }
      j += 2;
    } else if (dst === null && !cardOnly && optIs(arg, 'withscores')) {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && optIs(arg, 'limit')) {
      const l = parseInt64(argv[j + 1]);
      if (l === null || l < 0) {
        c.addError(ERR_LIMIT_NEGATIVE);
        return;
      }
      limit = l;
      j += 2;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }

  // Smallest inputs first (a stable sort, like the qsort Redis gets from glibc).
  if (op !== SetOp.Diff) srcs.sort((a, b) => a.size - b.size);

  const members: string[] = [];
  const scores: number[] = [];
  let cardinality = 0;
  if (op === SetOp.Inter) {
    const first = srcs[0];
    if (first.size > 0) {
      first.forEach((m, s) => {
        let score = first.weight * s;
        if (Number.isNaN(score)) score = 0;
        for (let k = 1; k < srcs.length; k++) {
          const other = srcs[k];
          // The same key twice: reuse the score instead of looking it up.
          const v = other.value === first.value ? s : other.find(m);
          if (v === undefined) return true;
          score = aggregate(score, v * other.weight, agg);
        }
        if (cardOnly) {
          cardinality++;
          // ZINTERCARD LIMIT: stop counting once it is reached.
          return limit === 0 || cardinality < limit;
        }
        members.push(m);
        scores.push(score);
        return true;
      });
    }
  } else if (op === SetOp.Union) {
    const acc = new Map<string, number>();
    for (const src of srcs) {
      src.forEach((m, s) => {
        let score = src.weight * s;
        if (Number.isNaN(score)) score = 0;
        const cur = acc.get(m);
        acc.set(m, cur === undefined ? score : aggregate(cur, score, agg));
      });
    }
    for (const [m, s] of acc) {
      members.push(m);
      scores.push(s);
    }
  } else {
    const first = srcs[0];
    // A key repeated after the first removes everything (Redis's shortcut).
    const repeated = srcs.some((s, i) => i > 0 && s.value !== null && s.value === first.value);
    if (first.size > 0 && !repeated) {
      first.forEach((m, s) => {
        for (let k = 1; k < srcs.length; k++) if (srcs[k].find(m) !== undefined) return;
        members.push(m);
        scores.push(s);
      });
    }
  }

  if (cardOnly) {
    c.addInt(cardinality);
    return;
  }
  const [sm, ss] = sortPairs(members, scores);
  if (dst !== null) {
    const event = op === SetOp.Union ? 'zunionstore' : op === SetOp.Inter ? 'zinterstore' : 'zdiffstore';
    storeResult(c, dst, sm, ss, event);
    return;
  }
  replyElements(c, sm.length, withScores, (emit) => {
    for (let i = 0; i < sm.length; i++) emit(sm[i], ss[i]);
  });
}

/** Sorts pairs into set order (score, then member bytes). */
function sortPairs(members: string[], scores: number[]): [string[], number[]] {
  const n = members.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    const a = scores[i - 1];
    const b = scores[i];
    if (a > b || (a === b && members[i - 1] > members[i])) sorted = false;
  }
  if (sorted) return [members, scores];
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => {
    const a = scores[x];
    const b = scores[y];
    if (a !== b) return a < b ? -1 : 1;
    const ma = members[x];
    const mb = members[y];
    return ma < mb ? -1 : ma > mb ? 1 : 0;
  });
  const sm = new Array<string>(n);
  const ss = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    sm[i] = members[order[i]];
    ss[i] = scores[order[i]];
  }
  return [sm, ss];
}

function setOpCommand(op: SetOp, store: boolean, name: string) {
  return (c: Client, argv: string[]): void => {
    if (store) zsetOperation(c, argv, argv[1], 2, op, false, name);
    else zsetOperation(c, argv, null, 1, op, false, name);
  };
}

function zintercard(c: Client, argv: string[]): void {
  zsetOperation(c, argv, null, 1, SetOp.Inter, true, 'zintercard');
}

// ---- ZSCAN -----------------------------------------------------------------------------------

function zscan(c: Client, argv: string[]): void {
  const s = beginKeyScan(c, argv, isZSet);
  if (s === null) return;
  const pattern = s.pattern;
  const out: string[] = [];
  const next = s.value.scan(s.start, s.count, (m, score) => {
    if (pattern === null || globMatch(pattern, m)) out.push(m, formatDouble17g(score));
  });
  addScanReply(c, next, out);
}

export const commands: CommandImpl[] = [
  { name: 'zadd', summary: 'Adds members with scores to a sorted set, or updates their scores.', handler: zadd },
  { name: 'zincrby', summary: "Adds to a member's score in a sorted set, starting from 0.", handler: zincrby },
  { name: 'zrem', summary: 'Removes members from a sorted set; the key goes away with its last member.', handler: zrem },
  { name: 'zcard', summary: 'Counts the members of a sorted set.', handler: zcard },
  { name: 'zcount', summary: 'Counts the members whose score lies in a range.', handler: zcount },
  { name: 'zlexcount', summary: 'Counts the members between two lexicographic bounds.', handler: zlexcount },
  { name: 'zscore', summary: "Returns a member's score.", handler: zscore },
  { name: 'zmscore', summary: 'Returns the scores of several members, nil for missing ones.', handler: zmscore },
  { name: 'zrank', summary: "Returns a member's position, lowest score first.", handler: zrankCommand(false) },
  { name: 'zrevrank', summary: "Returns a member's position, highest score first.", handler: zrankCommand(true) },
  { name: 'zrange', summary: 'Returns members by position, score or lexicographic range, optionally reversed.', handler: rangeCommand(1, false, RangeType.Auto, Direction.Auto) },
  { name: 'zrangestore', summary: 'Stores a ZRANGE result as a new sorted set.', handler: rangeCommand(2, true, RangeType.Auto, Direction.Auto) },
  { name: 'zrevrange', summary: 'Returns members by position, highest score first.', handler: rangeCommand(1, false, RangeType.Rank, Direction.Reverse) },
  { name: 'zrangebyscore', summary: 'Returns members whose score lies in a range, lowest first.', handler: rangeCommand(1, false, RangeType.Score, Direction.Forward) },
  { name: 'zrevrangebyscore', summary: 'Returns members whose score lies in a range, highest first.', handler: rangeCommand(1, false, RangeType.Score, Direction.Reverse) },
  { name: 'zrangebylex', summary: 'Returns members between two lexicographic bounds.', handler: rangeCommand(1, false, RangeType.Lex, Direction.Forward) },
  { name: 'zrevrangebylex', summary: 'Returns members between two lexicographic bounds, in reverse order.', handler: rangeCommand(1, false, RangeType.Lex, Direction.Reverse) },
  { name: 'zremrangebyrank', summary: 'Removes the members between two positions.', handler: zremrangeCommand(RangeType.Rank) },
  { name: 'zremrangebyscore', summary: 'Removes the members whose score lies in a range.', handler: zremrangeCommand(RangeType.Score) },
  { name: 'zremrangebylex', summary: 'Removes the members between two lexicographic bounds.', handler: zremrangeCommand(RangeType.Lex) },
  { name: 'zpopmin', summary: 'Removes and returns the members with the lowest scores.', handler: zpopCommand(false) },
  { name: 'zpopmax', summary: 'Removes and returns the members with the highest scores.', handler: zpopCommand(true) },
  { name: 'zmpop', summary: 'Pops the lowest or highest members of the first non-empty sorted set among several.', handler: zmpop },
  { name: 'bzpopmin', summary: 'Pops the lowest member of the first non-empty sorted set, waiting for one if needed.', handler: bzpopCommand(false) },
  { name: 'bzpopmax', summary: 'Pops the highest member of the first non-empty sorted set, waiting for one if needed.', handler: bzpopCommand(true) },
  { name: 'bzmpop', summary: 'Pops members from the first non-empty sorted set among several, waiting if needed.', handler: bzmpop },
  { name: 'zrandmember', summary: 'Returns random members of a sorted set, optionally with scores.', handler: zrandmember },
  { name: 'zunion', summary: 'Returns the union of sorted sets (and sets), with weighted, aggregated scores.', handler: setOpCommand(SetOp.Union, false, 'zunion') },
  { name: 'zinter', summary: 'Returns the intersection of sorted sets (and sets), with weighted, aggregated scores.', handler: setOpCommand(SetOp.Inter, false, 'zinter') },
  { name: 'zdiff', summary: 'Returns the members of the first sorted set missing from the others.', handler: setOpCommand(SetOp.Diff, false, 'zdiff') },
  { name: 'zunionstore', summary: 'Stores the union of sorted sets (and sets) at a key.', handler: setOpCommand(SetOp.Union, true, 'zunionstore') },
  { name: 'zinterstore', summary: 'Stores the intersection of sorted sets (and sets) at a key.', handler: setOpCommand(SetOp.Inter, true, 'zinterstore') },
  { name: 'zdiffstore', summary: 'Stores the difference of sorted sets at a key.', handler: setOpCommand(SetOp.Diff, true, 'zdiffstore') },
  { name: 'zintercard', summary: 'Counts the members of the intersection of sorted sets, optionally up to a limit.', handler: zintercard },
  { name: 'zscan', summary: 'Iterates over the members and scores of a sorted set with a cursor.', handler: zscan },
];
