/**
 * Error replies shared by several command groups (exact Redis 7.0 texts), and
 * the type check that replies WRONGTYPE. Texts used by one group only stay in
 * that group's file; texts that differ on purpose (Redis words the same
 * problem differently per command) are kept apart.
 */
import type { Client } from '../server/client.js';
import type { Value } from '../data/values.js';

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_NOT_INT = 'ERR value is not an integer or out of range';
export const ERR_NO_SUCH_KEY = 'ERR no such key';
export const ERR_DB_RANGE = 'ERR DB index is out of range';
/** getPositiveLongFromObjectOrReply's default text (LPOP/SPOP/ZPOPMIN counts). */
export const ERR_MUST_BE_POSITIVE = 'ERR value is out of range, must be positive';
/** getRangeLongFromObjectOrReply without a custom text. */
export const ERR_OUT_OF_RANGE = 'ERR value is out of range';
/** The *MPOP/*INTERCARD numkeys check. */
export const ERR_NUMKEYS = 'ERR numkeys should be greater than 0';
/** LMPOP/ZMPOP's COUNT check (XREAD's COUNT has its own text). */
export const ERR_COUNT_POSITIVE = 'ERR count should be greater than 0';
/** SINTERCARD/ZINTERCARD's LIMIT check (XADD's LIMIT has its own text). */
export const ERR_LIMIT_NEGATIVE = "ERR LIMIT can't be negative";

/** The arity error, for the commands whose arity the command table cannot express (odd/even argument counts). */
export function errWrongArity(name: string): string {
  return `ERR wrong number of arguments for '${name}' command`;
}

/** LONG_MAX, for the count range of HRANDFIELD/SRANDMEMBER/ZRANDMEMBER. */
export const LONG_MAX = 9223372036854775807n;
/** The random-member commands accept counts in [-LONG_MAX, LONG_MAX]. */
export const ERR_COUNT_RANGE = `ERR value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`;

/**
 * Redis's checkType for commands that read or write one type: `v` (a lookup's
 * result) when `is` accepts it, undefined for a missing key, or null after
 * replying WRONGTYPE. `is` is a module-level guard (isList, isZSet, ...), so a
 * call allocates nothing.
 */
export function ofTypeOrReply<T extends Value>(c: Client, v: Value | undefined, is: (v: Value) => v is T): T | undefined | null {
  if (v === undefined) return undefined;
  if (is(v)) return v;
  c.addError(WRONGTYPE);
  return null;
}
