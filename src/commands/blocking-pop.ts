/**
 * What the list and sorted set pops share: the blocking commands' timeout
 * (BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP, BZPOPMIN/BZPOPMAX/BZMPOP), whether a
 * client may block, the flow of a blocking pop, and the `numkeys key... <end>
 * [COUNT n]` arguments of LMPOP/BLMPOP and ZMPOP/BZMPOP.
 *
 * A blocking pop that finds data behaves like its non-blocking form and is
 * propagated as such (the dispatcher propagates `c.propagateAs`). Otherwise
 * the client is parked with server.blocking.block(); when a key it waits on
 * gets data, `serve` pops for it, replies, and propagates the pop itself (the
 * dispatcher's propagation is long over by then). Inside MULTI or a script a
 * blocking command cannot block and answers as if it timed out at once.
 */
import type { Client } from '../server/client.js';
import type { Database } from '../db/database.js';
import type { Value } from '../data/values.js';
import { parseInt64, roundRatio } from '../util/numbers.js';
import { parseLongDouble } from '../util/long-double.js';
import { ERR_COUNT_POSITIVE, ERR_NUMKEYS, ERR_SYNTAX, ofTypeOrReply } from './errors.js';
import { optIs } from './strings.js';

export const ERR_TIMEOUT_NOT_FLOAT = 'ERR timeout is not a float or out of range';
export const ERR_TIMEOUT_NEGATIVE = 'ERR timeout is negative';

// ---- timeouts -----------------------------------------------------------------------

const TWO_POW_63 = 2n ** 63n;
/** Largest timeout in ms Redis adds to the current time before it would overflow. */
const LLONG_MAX = 9223372036854775807;

/**
 * A blocking command's timeout in seconds, as Redis 7.0 reads it: the text is a
 * long double (strtold), multiplied by 1000 in long double precision and rounded
 * up to whole milliseconds. Returns the timeout in ms (0 = block forever) or the
 * error text. Consequences kept on purpose: 0.0001 is 1 ms, -0.0005 rounds up to
 * 0 and blocks forever, and values whose milliseconds do not fit in an int64
 * ("inf", 1e16) are reported as negative, as Redis's conversion makes them.
 */
export function parseTimeoutSeconds(arg: string): number | string {
  const n = parseInt64(arg);
  if (n !== null && n <= 1e12 && n >= -1e12) return n < 0 ? ERR_TIMEOUT_NEGATIVE : n * 1000;
  const x = parseLongDouble(arg);
  if (x === null || x.kind === 'nan') return ERR_TIMEOUT_NOT_FLOAT;
  if (x.kind === 'inf') return ERR_TIMEOUT_NEGATIVE;
  if (x.mant === 0n) return 0;
  // x * 1000 rounded to a 64-bit significand, as the x87 multiply does.
  let num = x.mant * 1000n;
  let den = 1n;
  if (x.exp >= 0) num <<= BigInt(x.exp);
  else den <<= BigInt(-x.exp);
  const p = roundRatio(num, den, 64, -16445);
  // |product| = p.mant * 2^p.exp; with exp >= 0 it is at least 2^63 (out of int64).
  if (p.exp >= 0) return ERR_TIMEOUT_NEGATIVE;
  const shift = BigInt(-p.exp);
  const floor = p.mant >> shift;
  const exact = floor << shift === p.mant;
  if (x.neg) {
    // ceil of a negative value: -floor(|v|); -0 means "forever".
    return floor === 0n ? 0 : ERR_TIMEOUT_NEGATIVE;
  }
  const ceil = exact ? floor : floor + 1n;
  if (ceil >= TWO_POW_63) return ERR_TIMEOUT_NEGATIVE;
  return Number(ceil);
}

/**
 * The timeout to hand to server.blocking: Redis adds the current time to the
 * timeout; when that overflows int64 the deadline never comes, so block forever.
 */
export function blockTimeoutMs(c: Client, ms: number): number {
  return ms > LLONG_MAX - c.server.clock.now() ? 0 : ms;
}

/**
 * Whether the client may block. Inside MULTI/EXEC or a script Redis sets
 * CLIENT_DENY_BLOCKING and blocking commands answer at once as on timeout.
 * The transactions/scripting modules set these flags on the client.
 */
export function mayBlock(c: Client): boolean {
  return !c.inMulti && !c.inScript && c.current !== null;
}

// ---- the blocking pop flow --------------------------------------------------------------

/** The type a blocking pop takes from (module-level constants in lists.ts and zsets.ts). */
export interface PopSource<T extends Value> {
  is(v: Value): v is T;
  /** Whether the value has nothing to pop. */
  isEmpty(v: T): boolean;
}

/**
 * Pops from `v` (at `key`, not empty) for client `c`, replies, and returns the
 * argv the pop is propagated as (null: nothing to propagate).
 */
export type PopFn<T> = (c: Client, db: Database, key: string, v: T) => string[] | null;

/**
 * BLPOP/BRPOP/BLMPOP and BZPOPMIN/BZPOPMAX/BZMPOP once their other arguments
 * are parsed: parse the timeout; pop from the first key with data (a key of
 * another type answers WRONGTYPE); else answer a null array when the client
 * cannot block, or block on all the keys.
 */
export function blockingPop<T extends Value>(c: Client, argv: string[], keys: string[], timeoutArg: string, source: PopSource<T>, pop: PopFn<T>): void {
  const timeout = parseTimeoutSeconds(timeoutArg);
  if (typeof timeout === 'string') {
    c.addError(timeout);
    return;
  }
  const db = c.db;
  for (const key of keys) {
    const v = ofTypeOrReply(c, db.lookupWrite(key), source.is);
    if (v === null) return;
    if (v === undefined || source.isEmpty(v)) continue;
    const prop = pop(c, db, key, v);
    if (prop !== null) c.propagateAs = prop;
    return;
  }
  if (!mayBlock(c)) {
    c.addNullArray();
    return;
  }
  c.server.blocking.block(c, c.current!, argv, {
    keys,
    timeoutMs: blockTimeoutMs(c, timeout),
    serve: (cl: Client, key: string): boolean => {
      const sdb = cl.db;
      const v = sdb.lookupWrite(key);
      if (v === undefined || !source.is(v) || source.isEmpty(v)) return false;
      const prop = pop(cl, sdb, key, v);
      if (prop !== null) cl.server.propagate(sdb.id, prop);
      return true;
    },
  });
}

// ---- LMPOP / ZMPOP arguments --------------------------------------------------------------

export interface MpopArgs {
  keys: string[];
  /** LEFT (lists) or MIN (sorted sets): pop from the start; RIGHT or MAX: from the end. */
  fromStart: boolean;
  count: number;
}

/**
 * Parses `numkeys key... <start>|<end> [COUNT n]` from argv[at] (LMPOP/ZMPOP: 1,
 * BLMPOP/BZMPOP: 2, whose timeout Redis parses after these). `startName` and
 * `endName` are the lowercase end names: left/right or min/max. Replies the
 * error and returns null when invalid.
 */
export function parseMpop(c: Client, argv: string[], at: number, startName: string, endName: string): MpopArgs | null {
  const numkeys = parseInt64(argv[at]);
  if (numkeys === null || numkeys < 1) {
    c.addError(ERR_NUMKEYS);
    return null;
  }
  const whereAt = at + numkeys + 1;
  if (whereAt >= argv.length) {
    c.addError(ERR_SYNTAX);
    return null;
  }
  let fromStart: boolean;
  if (optIs(argv[whereAt], startName)) fromStart = true;
  else if (optIs(argv[whereAt], endName)) fromStart = false;
  else {
    c.addError(ERR_SYNTAX);
    return null;
  }
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && optIs(argv[j], 'count') && more > 0) {
      const n = parseInt64(argv[++j]);
      if (n === null || n < 1) {
        c.addError(ERR_COUNT_POSITIVE);
        return null;
      }
      count = n;
    } else {
      c.addError(ERR_SYNTAX);
      return null;
    }
  }
  return { keys: argv.slice(at + 1, whereAt), fromStart, count: count === -1 ? 1 : count };
}
