/**
 * Exact emulation of the x86_64 C `long double` (x87 80-bit extended: 64-bit significand,
 * exponent range down to subnormals at 2^-16445) as Redis 7.0 uses it for INCRBYFLOAT and
 * HINCRBYFLOAT:
 *
 *   value = strtold(current) + strtold(increment)      (each step rounded half to even)
 *   reply = printf("%.17Lf", value), trailing zeros and '.' trimmed, "-0" -> "0"
 *
 * This is why INCRBYFLOAT of 0.1 on "0.2" gives "0.3": the 64-bit sum printed with 17
 * fractional digits rounds back to the short decimal.
 *
 * Parsing follows Redis's string2ld: the text must be 1..5119 bytes, must not start with
 * whitespace, must be consumed entirely by strtold (so an embedded NUL is rejected), must
 * not be NaN, and must not overflow to infinity or underflow to zero. "inf"/"infinity"
 * (any case, signed) parse fine; hex floats ("0x1p3") too. Everything is done with BigInt:
 * correct, but not meant for the hottest paths.
 */

import {
  ERR_NOT_FLOAT,
  bitLength,
  doubleParts,
  hexRatio,
  roundRatio,
  scanStrtod,
} from './numbers.js';

export { ERR_NOT_FLOAT };
export const ERR_NAN_OR_INFINITY = 'ERR increment would produce NaN or Infinity';
export const ERR_HASH_INCR_NAN_OR_INFINITY = 'ERR value is NaN or Infinity';
export const ERR_HASH_NOT_FLOAT = 'ERR hash value is not a float';

/** A long double value. Finite: (-1)^neg * mant * 2^exp with 0 <= mant < 2^64. */
export type LongDouble =
  | { kind: 'finite'; neg: boolean; mant: bigint; exp: number }
  | { kind: 'inf'; neg: boolean }
  | { kind: 'nan' };

const PRECISION = 64;
/** Exponent of the smallest subnormal, 2^-16445. */
const MIN_EXP = -16445;
/** Largest finite value is (2^64 - 1) * 2^16320. */
const MAX_EXP = 16320;
/** string2ld copies into a 5 KiB buffer including the terminating NUL. */
const MAX_CHARS = 5 * 1024 - 1;

/**
 * Decimal magnitude bounds (value in [10^(mag-1), 10^mag)) beyond which the result is
 * certainly an overflow (max ~1.19e4932) or an underflow to zero (half the smallest
 * subnormal ~1.8e-4951). Checked before any BigInt work so absurd exponents stay cheap.
 */
const DEC_OVERFLOW_MAG = 4934;
const DEC_UNDERFLOW_MAG = -4951;

type Rounded = { mant: bigint; exp: number } | 'overflow' | 'underflow';

function roundToLongDouble(num: bigint, den: bigint): Rounded {
  const r = roundRatio(num, den, PRECISION, MIN_EXP);
  if (r.mant === 0n) return 'underflow';
  if (r.exp > MAX_EXP) return 'overflow';
  return r;
}

/** strtold semantics for the number text; null where string2ld fails. */
function decimalToLongDouble(digits: string, exp10: number): Rounded | 'zero' {
  let first = 0;
  while (first < digits.length && digits.charCodeAt(first) === 48) first++;
  if (first === digits.length) return 'zero';
  let sig = digits.slice(first);
  // Trailing zeros only move the exponent; dropping them keeps the bigints small.
  let last = sig.length;
  while (sig.charCodeAt(last - 1) === 48) last--;
  exp10 += sig.length - last;
  sig = sig.slice(0, last);
  const mag = sig.length + exp10;
  if (mag > DEC_OVERFLOW_MAG) return 'overflow';
  if (mag < DEC_UNDERFLOW_MAG) return 'underflow';
  const n = BigInt(sig);
  return exp10 >= 0
    ? roundToLongDouble(n * 10n ** BigInt(exp10), 1n)
    : roundToLongDouble(n, 10n ** BigInt(-exp10));
}

function hexToLongDouble(digits: string, exp2: number): Rounded | 'zero' {
  let first = 0;
  while (first < digits.length && digits.charCodeAt(first) === 48) first++;
  if (first === digits.length) return 'zero';
  const sig = digits.slice(first);
  // The value lies in [2^(topBit-4), 2^topBit): decide hopeless cases without BigInt.
  const topBit = sig.length * 4 + exp2;
  if (topBit - 4 > MAX_EXP + PRECISION) return 'overflow';
  if (topBit < MIN_EXP - 2) return 'underflow';
  const [num, den] = hexRatio(sig, exp2);
  return roundToLongDouble(num, den);
}

/**
 * Redis's string2ld: the long double value of `s`, or null if Redis would reply
 * "value is not a valid float". May return an infinity ("inf", "-infinity").
 */
export function parseLongDouble(s: string): LongDouble | null {
  const len = s.length;
  if (len === 0 || len > MAX_CHARS) return null;
  const c0 = s.charCodeAt(0);
  if (c0 === 32 || (c0 >= 9 && c0 <= 13)) return null;
  const sc = scanStrtod(s);
  if (sc.end !== len) return null;
  if (sc.kind === 'nan') return null;
  if (sc.kind === 'inf') return { kind: 'inf', neg: sc.neg };
  const r = sc.kind === 'dec' ? decimalToLongDouble(sc.digits, sc.exp) : hexToLongDouble(sc.digits, sc.exp);
  if (r === 'overflow' || r === 'underflow') return null; // ERANGE
  if (r === 'zero') return { kind: 'finite', neg: sc.neg, mant: 0n, exp: 0 };
  return { kind: 'finite', neg: sc.neg, mant: r.mant, exp: r.exp };
}

/** The long double holding a double exactly (doubles are a subset). */
export function longDoubleFromNumber(d: number): LongDouble {
  if (d !== d) return { kind: 'nan' };
  if (d === Infinity || d === -Infinity) return { kind: 'inf', neg: d < 0 };
  const neg = d < 0 || (d === 0 && 1 / d < 0);
  const abs = Math.abs(d);
  if (abs === 0) return { kind: 'finite', neg, mant: 0n, exp: 0 };
  const { mant, exp } = doubleParts(abs);
  return { kind: 'finite', neg, mant, exp };
}

/** Rounds a long double to the nearest double (as a C cast would). */
export function longDoubleToNumber(x: LongDouble): number {
  if (x.kind === 'nan') return NaN;
  if (x.kind === 'inf') return x.neg ? -Infinity : Infinity;
  if (x.mant === 0n) return x.neg ? -0 : 0;
  const [num, den] = x.exp >= 0 ? [x.mant << BigInt(x.exp), 1n] : [x.mant, 1n << BigInt(-x.exp)];
  const r = roundRatio(num, den, 53, -1074);
  let abs: number;
  if (r.mant === 0n) abs = 0;
  else if (r.exp > 971) abs = Infinity;
  else abs = Number(r.mant) * 2 ** r.exp;
  return x.neg ? -abs : abs;
}

/** IEEE addition in long double precision (round half to even). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  if (a.kind === 'inf') {
    if (b.kind === 'inf' && b.neg !== a.neg) return { kind: 'nan' };
    return a;
  }
  if (b.kind === 'inf') return b;
  if (a.mant === 0n) {
    // -0 + -0 = -0; otherwise a zero contributes nothing (and +0 wins for 0 + -0).
    if (b.mant === 0n) return { kind: 'finite', neg: a.neg && b.neg, mant: 0n, exp: 0 };
    return b;
  }
  if (b.mant === 0n) return a;

  // Align both to the smaller exponent. A much smaller operand only matters as a
  // "sticky" nudge below the rounding point, so clamp the gap to keep bigints small.
  let hi = a;
  let lo = b;
  if (lo.exp > hi.exp) [hi, lo] = [lo, hi];
  let gap = hi.exp - lo.exp;
  let loMant = lo.mant;
  let loExp = lo.exp;
  const GAP_LIMIT = PRECISION * 2 + 4;
  if (gap > GAP_LIMIT) {
    // Replace lo by a tiny value of the same sign strictly between 0 and half an ulp of
    // any possible result: the rounding outcome is unchanged.
    loMant = 1n;
    loExp = hi.exp - GAP_LIMIT;
    gap = GAP_LIMIT;
    if (loExp < MIN_EXP) {
      // Both are tiny subnormals then, so the exact sum is representable: no clamp needed.
      loMant = lo.mant;
      loExp = lo.exp;
      gap = hi.exp - lo.exp;
    }
  }
  const hiSigned = (hi.neg ? -hi.mant : hi.mant) << BigInt(gap);
  const loSigned = lo.neg ? -loMant : loMant;
  const sum = hiSigned + loSigned;
  if (sum === 0n) return { kind: 'finite', neg: false, mant: 0n, exp: 0 };
  const neg = sum < 0n;
  const abs = neg ? -sum : sum;
  const r =
    loExp >= 0 ? roundToLongDouble(abs << BigInt(loExp), 1n) : roundToLongDouble(abs, 1n << BigInt(-loExp));
  if (r === 'overflow') return { kind: 'inf', neg };
  if (r === 'underflow') return { kind: 'finite', neg, mant: 0n, exp: 0 };
  return { kind: 'finite', neg, mant: r.mant, exp: r.exp };
}

const FRACTION_DIGITS = 17;
const SCALE = 10n ** BigInt(FRACTION_DIGITS);

/** printf("%.17Lf"): exact decimal expansion rounded half to even at 17 digits. */
export function formatLongDoubleFixed17(x: LongDouble): string {
  if (x.kind === 'nan') return 'nan';
  if (x.kind === 'inf') return x.neg ? '-inf' : 'inf';
  const sign = x.neg ? '-' : '';
  let scaled: bigint;
  if (x.exp >= 0) {
    scaled = (x.mant << BigInt(x.exp)) * SCALE;
  } else {
    const shift = -x.exp;
    const n = x.mant * SCALE;
    if (shift > bitLength(n || 1n) + 1) {
      scaled = 0n; // below half a unit in the 17th place
    } else {
      const bigShift = BigInt(shift);
      scaled = n >> bigShift;
      const rem = n - (scaled << bigShift);
      const half = 1n << (bigShift - 1n);
      if (rem > half || (rem === half && (scaled & 1n) === 1n)) scaled++;
    }
  }
  const digits = scaled.toString().padStart(FRACTION_DIGITS + 1, '0');
  const cut = digits.length - FRACTION_DIGITS;
  return sign + digits.slice(0, cut) + '.' + digits.slice(cut);
}

/** ld2string(LD_STR_HUMAN): "%.17Lf" trimmed, "-0" -> "0", "inf"/"-inf". */
export function formatLongDoubleHuman(x: LongDouble): string {
  if (x.kind === 'inf') return x.neg ? '-inf' : 'inf';
  const s = formatLongDoubleFixed17(x);
  if (x.kind === 'nan') return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  const t = s.slice(0, end);
  return t === '-0' ? '0' : t;
}

export type FloatResult = { value: string } | { error: string };

function isNanOrInf(x: LongDouble): boolean {
  return x.kind !== 'finite';
}

/**
 * INCRBYFLOAT on a stored string (null = missing key = 0). Redis order: key type
 * (caller), then the stored value, then the increment — both "ERR value is not a valid
 * float" — then "ERR increment would produce NaN or Infinity".
 */
export function incrByFloat(current: string | null, incr: string): FloatResult {
  let cur: LongDouble = { kind: 'finite', neg: false, mant: 0n, exp: 0 };
  if (current !== null) {
    const c = parseLongDouble(current);
    if (c === null) return { error: ERR_NOT_FLOAT };
    cur = c;
  }
  const inc = parseLongDouble(incr);
  if (inc === null) return { error: ERR_NOT_FLOAT };
  const sum = addLongDouble(cur, inc);
  if (isNanOrInf(sum)) return { error: ERR_NAN_OR_INFINITY };
  return { value: formatLongDoubleHuman(sum) };
}

/**
 * HINCRBYFLOAT increment check, which Redis does before even looking the key up (so its
 * errors win over WRONGTYPE): "ERR value is not a valid float", then
 * "ERR value is NaN or Infinity". Returns the parsed increment or the error.
 */
export function parseHashFloatIncrement(incr: string): LongDouble | { error: string } {
  const inc = parseLongDouble(incr);
  if (inc === null) return { error: ERR_NOT_FLOAT };
  if (isNanOrInf(inc)) return { error: ERR_HASH_INCR_NAN_OR_INFINITY };
  return inc;
}

/**
 * HINCRBYFLOAT on a field value (null = missing field = 0): increment errors first (see
 * parseHashFloatIncrement; the caller's WRONGTYPE check comes after them), then
 * "ERR hash value is not a float", then "ERR increment would produce NaN or Infinity".
 */
export function hincrByFloat(current: string | null, incr: string): FloatResult {
  const inc = parseHashFloatIncrement(incr);
  if ('error' in inc) return inc;
  let cur: LongDouble = { kind: 'finite', neg: false, mant: 0n, exp: 0 };
  if (current !== null) {
    const c = parseLongDouble(current);
    if (c === null) return { error: ERR_HASH_NOT_FLOAT };
    cur = c;
  }
  const sum = addLongDouble(cur, inc);
  if (isNanOrInf(sum)) return { error: ERR_NAN_OR_INFINITY };
  return { value: formatLongDoubleHuman(sum) };
}
