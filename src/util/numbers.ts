/**
 * Byte-exact integer and double parsing/formatting, matching Redis 7.0 (glibc, x86_64).
 *
 * Integers follow Redis's string2ll: an optional '-', then digits with no leading zero
 * (except the single string "0"), at most 20 characters, within int64. "+1", " 1",
 * "01", "-0" and "" are all rejected.
 *
 * Because JS numbers are exact only up to 2^53, the integer API is split:
 *  - parseInt64(s): number | null    fast; validates the full int64 syntax and range and
 *                                    returns the nearest double (exact iff
 *                                    Number.isSafeInteger(result)). Use for indexes,
 *                                    counts, offsets, where > 2^53 only needs to be "huge".
 *  - parseLongLong(s): bigint | null exact over the full int64 range.
 *  - parseInteger(s): number | bigint | null  a number when safe, else a bigint.
 *  - incrBy / decrBy / hincrBy        INCR-family arithmetic on stored strings, exact over
 *                                    int64, with no BigInt when operands and result are safe.
 *
 * Doubles: which parser matches which command
 *  - parseDouble(s):      getDoubleFromObject. ZADD/ZINCRBY scores, GEOADD, ZUNIONSTORE
 *                         WEIGHTS, ... strtod over the whole string; leading whitespace,
 *                         NaN, overflow to +-inf and underflow to 0 are rejected; "inf",
 *                         "infinity" (any case), hex ("0x10", "0x1p3"), "1.", ".5" accepted.
 *  - parseDoubleStrtod(s): zslParseRange (ZRANGEBYSCORE/ZCOUNT/... min and max, after the
 *                         caller strips a leading '('): plain strtod that must stop at the
 *                         end (or at a NUL byte). Leading whitespace, "" (= 0), overflow
 *                         ("1e400" = inf) and underflow are accepted; NaN rejected.
 *  - INCRBYFLOAT / HINCRBYFLOAT use long double: see long-double.ts.
 *
 * Formatting:
 *  - formatDouble17g(d):  printf("%.17g") with inf/-inf/nan: addReplyDouble (ZSCORE,
 *                         ZINCRBY, RESP3 doubles, ZRANGE WITHSCORES, ...).
 *  - formatFixed(d, n):   printf("%.nf"), e.g. GEODIST/GEOSEARCH WITHDIST ("%.4f").
 *  - formatDoubleHuman(d): ld2string(LD_STR_HUMAN) of a double: "%.17Lf" with trailing
 *                         zeros and '.' trimmed, "-0" -> "0". GEOPOS coordinates.
 */

export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
export const ERR_NOT_FLOAT = 'ERR value is not a valid float';
export const ERR_OVERFLOW = 'ERR increment or decrement would overflow';
export const ERR_DECR_OVERFLOW = 'ERR decrement would overflow';
export const ERR_HASH_NOT_INTEGER = 'ERR hash value is not an integer';

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

const CH_0 = 48;
const CH_9 = 57;
const CH_MINUS = 45;
const CH_PLUS = 43;
const CH_DOT = 46;

/** Longest accepted integer text: "-9223372036854775808". */
const MAX_INT_CHARS = 20;

/**
 * Checks string2ll syntax. Returns the number of digits (>0), or 0 if invalid.
 * Range is not checked here (only that there are at most 19 digits).
 */
function int64Syntax(s: string): number {
  const len = s.length;
  if (len === 0 || len > MAX_INT_CHARS) return 0;
  let i = 0;
  if (s.charCodeAt(0) === CH_MINUS) {
    i = 1;
    if (len === 1) return 0;
  }
  const first = s.charCodeAt(i);
  if (first === CH_0) {
    // Only the exact string "0" may start with a zero ("-0" and "01" are rejected).
    return len === 1 ? 1 : 0;
  }
  if (first < CH_0 || first > CH_9) return 0;
  for (let j = i + 1; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c < CH_0 || c > CH_9) return 0;
  }
  const digits = len - i;
  return digits > 19 ? 0 : digits;
}

/** For 19-digit magnitudes: compare digit text against the int64 limit. */
function int64InRange(s: string, digits: number): boolean {
  if (digits < 19) return true;
  const neg = s.charCodeAt(0) === CH_MINUS;
  const mag = neg ? s.slice(1) : s;
  return mag <= (neg ? '9223372036854775808' : '9223372036854775807');
}

/** Small-magnitude digit accumulation; only called with <= 15 digits (exact in a double). */
function smallValue(s: string): number {
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === CH_MINUS) {
    neg = true;
    i = 1;
  }
  let v = 0;
  for (; i < s.length; i++) v = v * 10 + (s.charCodeAt(i) - CH_0);
  return neg ? -v : v;
}

/**
 * string2ll as a double: null if not a valid int64 text. The result is exact when
 * Number.isSafeInteger(result); beyond 2^53 it is the nearest double.
 */
export function parseInt64(s: string): number | null {
  const digits = int64Syntax(s);
  if (digits === 0) return null;
  if (digits <= 15) return smallValue(s);
  if (!int64InRange(s, digits)) return null;
  return Number(s);
}

/** string2ll, exact: null if not a valid int64 text. */
export function parseLongLong(s: string): bigint | null {
  const digits = int64Syntax(s);
  if (digits === 0) return null;
  if (digits <= 15) return BigInt(smallValue(s));
  if (!int64InRange(s, digits)) return null;
  return BigInt(s);
}

/** string2ll: a number when the value is a safe integer, otherwise a bigint. */
export function parseInteger(s: string): number | bigint | null {
  const digits = int64Syntax(s);
  if (digits === 0) return null;
  if (digits <= 15) return smallValue(s);
  if (!int64InRange(s, digits)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

export type IntResult = { value: string } | { error: string };

/** Adds two parsed int64s; null on int64 overflow. */
function addInt64(a: number | bigint, b: number | bigint): string | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    // Both operands are safe, so a safe sum is exact.
    if (Number.isSafeInteger(sum)) return String(sum);
  }
  const big = BigInt(a) + BigInt(b);
  if (big > INT64_MAX || big < INT64_MIN) return null;
  return big.toString();
}

/**
 * INCR / INCRBY semantics on a stored string (null = missing key = 0).
 * Redis order: the increment is parsed first (INCRBY replies ERR_NOT_INTEGER before even
 * looking at the key; the WRONGTYPE check is the caller's and comes after that), then the
 * stored value, then the overflow check.
 */
export function incrBy(current: string | null, delta: string): IntResult {
  const d = parseInteger(delta);
  if (d === null) return { error: ERR_NOT_INTEGER };
  return incrByParsed(current, d);
}

/** INCR/DECR/INCRBY with an already-parsed increment (INCR is incrByParsed(cur, 1)). */
export function incrByParsed(current: string | null, delta: number | bigint): IntResult {
  const value = incrByParsedValue(current, delta);
  return typeof value === 'string' ? { value } : { error: value === NOT_INTEGER ? ERR_NOT_INTEGER : ERR_OVERFLOW };
}

const NOT_INTEGER = 0;
const OVERFLOW = 1;

/**
 * incrByParsed without a result object (INCR's hot path): the new value's text,
 * or NOT_INTEGER / OVERFLOW.
 */
export function incrByParsedValue(current: string | null, delta: number | bigint): string | typeof NOT_INTEGER | typeof OVERFLOW {
  let cur: number | bigint = 0;
  if (current !== null) {
    const c = parseInteger(current);
    if (c === null) return NOT_INTEGER;
    cur = c;
  }
  const value = addInt64(cur, delta);
  return value === null ? OVERFLOW : value;
}

/** The error text for a non-string incrByParsedValue result. */
export function incrErrorText(code: typeof NOT_INTEGER | typeof OVERFLOW): string {
  return code === NOT_INTEGER ? ERR_NOT_INTEGER : ERR_OVERFLOW;
}

/**
 * DECRBY: the decrement is parsed, then -9223372036854775808 is refused with
 * "ERR decrement would overflow" (before the key is looked up, so even before WRONGTYPE),
 * then it behaves as INCRBY with the negated amount.
 */
export function decrBy(current: string | null, delta: string): IntResult {
  const d = parseInteger(delta);
  if (d === null) return { error: ERR_NOT_INTEGER };
  if (typeof d === 'bigint' && d === INT64_MIN) return { error: ERR_DECR_OVERFLOW };
  return incrByParsed(current, -d);
}

/**
 * HINCRBY on a field value (null = missing field = 0). Redis order: increment parsed first
 * (ERR_NOT_INTEGER), then the key type (caller), then the field value
 * ("ERR hash value is not an integer"), then overflow.
 */
export function hincrBy(current: string | null, delta: string): IntResult {
  const d = parseInteger(delta);
  if (d === null) return { error: ERR_NOT_INTEGER };
  let cur: number | bigint = 0;
  if (current !== null) {
    const c = parseInteger(current);
    if (c === null) return { error: ERR_HASH_NOT_INTEGER };
    cur = c;
  }
  const value = addInt64(cur, d);
  return value === null ? { error: ERR_OVERFLOW } : { value };
}

// ---------------------------------------------------------------------------
// strtod-style scanning, shared with long-double.ts.

/** Kind of text strtod recognised: decimal or hex significand, infinity, or NaN. */
export type NumKind = 'dec' | 'hex' | 'inf' | 'nan';

/** What glibc's strtod/strtold would consume from a string. */
export interface ScannedNumber {
  /** Index after the consumed text; equals the scan start when nothing was converted. */
  end: number;
  /** Index of the sign or first digit (after any leading whitespace). */
  numStart: number;
  neg: boolean;
  kind: NumKind;
  /**
   * Significand digits with the point removed (decimal or hex digits), leading zeros kept.
   * Empty for Inf/NaN.
   */
  digits: string;
  /**
   * Decimal: value = digits * 10^exp. Hex: value = digits(hex) * 2^exp.
   * May be a huge or fractional-free approximation for absurd exponents; only its
   * magnitude matters then.
   */
  exp: number;
}

function isCSpace(c: number): boolean {
  // C locale isspace: space, \t \n \v \f \r
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isHexDigit(c: number): boolean {
  return (c >= CH_0 && c <= CH_9) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** Case-insensitive ASCII match of `word` (lowercase) at position i. */
function matchWordCI(s: string, i: number, word: string): boolean {
  if (i + word.length > s.length) return false;
  for (let k = 0; k < word.length; k++) {
    if ((s.charCodeAt(i + k) | 0x20) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Parses an optional exponent ([eE] or [pP], sign, digits) at i. Returns [newIndex, value];
 * newIndex === i when there is no complete exponent (strtod then leaves it unconsumed).
 */
function scanExponent(s: string, i: number, marker: number): [number, number] {
  if (i >= s.length || (s.charCodeAt(i) | 0x20) !== marker) return [i, 0];
  let j = i + 1;
  let neg = false;
  const sc = s.charCodeAt(j);
  if (sc === CH_PLUS || sc === CH_MINUS) {
    neg = sc === CH_MINUS;
    j++;
  }
  if (j >= s.length || !isDigit(s.charCodeAt(j))) return [i, 0];
  let v = 0;
  while (j < s.length && isDigit(s.charCodeAt(j))) {
    // Saturate: anything this large over/underflows every format we handle.
    if (v < 1e15) v = v * 10 + (s.charCodeAt(j) - CH_0);
    j++;
  }
  return [j, neg ? -v : v];
}

/** Scans a number the way glibc strtod/strtold do (C locale), starting at `start`. */
export function scanStrtod(s: string, start = 0): ScannedNumber {
  const len = s.length;
  let i = start;
  while (i < len && isCSpace(s.charCodeAt(i))) i++;
  const numStart = i;
  let neg = false;
  const sc = s.charCodeAt(i);
  if (sc === CH_PLUS || sc === CH_MINUS) {
    neg = sc === CH_MINUS;
    i++;
  }
  const none: ScannedNumber = { end: start, numStart, neg, kind: 'dec', digits: '', exp: 0 };
  if (i >= len) return none;
  const c = s.charCodeAt(i);

  if ((c | 0x20) === 105 /* i */) {
    if (!matchWordCI(s, i, 'inf')) return none;
    const end = matchWordCI(s, i + 3, 'inity') ? i + 8 : i + 3;
    return { end, numStart, neg, kind: 'inf', digits: '', exp: 0 };
  }
  if ((c | 0x20) === 110 /* n */) {
    if (!matchWordCI(s, i, 'nan')) return none;
    let end = i + 3;
    if (end < len && s.charCodeAt(end) === 40 /* ( */) {
      let j = end + 1;
      while (j < len) {
        const k = s.charCodeAt(j);
        if (isDigit(k) || ((k | 0x20) >= 97 && (k | 0x20) <= 122) || k === 95) j++;
        else break;
      }
      if (j < len && s.charCodeAt(j) === 41 /* ) */) end = j + 1;
    }
    return { end, numStart, neg, kind: 'nan', digits: '', exp: 0 };
  }

  if (c === CH_0 && i + 1 < len && (s.charCodeAt(i + 1) | 0x20) === 120 /* x */) {
    // Hex float, if a hex digit follows (possibly after the point); else just "0".
    let j = i + 2;
    let intDigits = '';
    while (j < len && isHexDigit(s.charCodeAt(j))) j++;
    intDigits = s.slice(i + 2, j);
    let fracDigits = '';
    if (j < len && s.charCodeAt(j) === CH_DOT) {
      let k = j + 1;
      while (k < len && isHexDigit(s.charCodeAt(k))) k++;
      fracDigits = s.slice(j + 1, k);
      if (intDigits.length > 0 || fracDigits.length > 0) j = k;
    }
    if (intDigits.length > 0 || fracDigits.length > 0) {
      const [end, e] = scanExponent(s, j, 112 /* p */);
      return {
        end,
        numStart,
        neg,
        kind: 'hex',
        digits: intDigits + fracDigits,
        exp: e - 4 * fracDigits.length,
      };
    }
    return { end: i + 1, numStart, neg, kind: 'dec', digits: '0', exp: 0 };
  }

  let j = i;
  while (j < len && isDigit(s.charCodeAt(j))) j++;
  const intDigits = s.slice(i, j);
  let fracDigits = '';
  if (j < len && s.charCodeAt(j) === CH_DOT) {
    let k = j + 1;
    while (k < len && isDigit(s.charCodeAt(k))) k++;
    fracDigits = s.slice(j + 1, k);
    if (intDigits.length > 0 || fracDigits.length > 0) j = k;
  }
  if (intDigits.length === 0 && fracDigits.length === 0) return none;
  const [end, e] = scanExponent(s, j, 101 /* e */);
  return {
    end,
    numStart,
    neg,
    kind: 'dec',
    digits: intDigits + fracDigits,
    exp: e - fracDigits.length,
  };
}

function hasNonZeroDigit(digits: string): boolean {
  for (let k = 0; k < digits.length; k++) {
    const c = digits.charCodeAt(k);
    if (c !== CH_0) return true;
  }
  return false;
}

/** Number of bits in a positive bigint. */
export function bitLength(n: bigint): number {
  const h = n.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0], 16)));
}

/**
 * Rounds the positive rational num/den to a binary float with `precision` significand
 * bits (round half to even), allowing subnormals down to 2^minExp.
 * Returns mant * 2^exp with mant < 2^precision; mant === 0n means it rounded to zero.
 */
export function roundRatio(
  num: bigint,
  den: bigint,
  precision: number,
  minExp: number,
): { mant: bigint; exp: number } {
  let exp = bitLength(num) - bitLength(den) - precision;
  // num/den / 2^exp is now in [2^(precision-1), 2^(precision+1)); fix the top case.
  const top = precision + exp;
  if (top >= 0 ? num >= den << BigInt(top) : num << BigInt(-top) >= den) exp++;
  if (exp < minExp) exp = minExp;
  let n = num;
  let d = den;
  if (exp >= 0) d <<= BigInt(exp);
  else n <<= BigInt(-exp);
  let q = n / d;
  const twiceRem = (n - q * d) * 2n;
  if (twiceRem > d || (twiceRem === d && (q & 1n) === 1n)) q++;
  if (q === 1n << BigInt(precision)) {
    q >>= 1n;
    exp++;
  }
  return { mant: q, exp };
}

/** Value of a scanned finite hex significand as an exact ratio pair (num/den). */
export function hexRatio(digits: string, exp: number): [bigint, bigint] {
  const m = BigInt('0x' + digits);
  return exp >= 0 ? [m << BigInt(exp), 1n] : [m, 1n << BigInt(-exp)];
}

/** Converts a scanned number to a double: NaN/Infinity propagate, range errors flagged. */
function scannedToDouble(s: string, sc: ScannedNumber): { value: number; rangeError: boolean } {
  if (sc.kind === 'inf') return { value: sc.neg ? -Infinity : Infinity, rangeError: false };
  if (sc.kind === 'nan') return { value: NaN, rangeError: false };
  const nonZero = hasNonZeroDigit(sc.digits);
  let abs: number;
  if (!nonZero) {
    abs = 0;
  } else if (sc.kind === 'dec') {
    // JS number parsing is correctly rounded (ties to even), like glibc strtod; the
    // scanned text (digits, '.', exponent) is always valid JS numeric syntax.
    const text = s.slice(sc.numStart, sc.end);
    abs = Math.abs(Number(text));
  } else {
    abs = hexToDouble(sc.digits, sc.exp);
  }
  const value = sc.neg ? -abs : abs;
  return { value, rangeError: nonZero && (abs === 0 || abs === Infinity) };
}

function hexToDouble(digits: string, exp: number): number {
  let first = 0;
  while (digits.charCodeAt(first) === CH_0) first++; // caller ensured a non-zero digit
  const sig = digits.slice(first);
  // The value lies in [2^(topBit-4), 2^topBit): absurd exponents saturate without BigInt.
  const topBit = sig.length * 4 + exp;
  if (topBit - 4 > 1024) return Infinity;
  if (topBit < -1080) return 0;
  const [num, den] = hexRatio(sig, exp);
  const { mant, exp: e } = roundRatio(num, den, 53, -1074);
  if (mant === 0n) return 0;
  if (e > 971) return Infinity;
  return Number(mant) * 2 ** e;
}

/**
 * getDoubleFromObject (ZADD, ZINCRBY, GEOADD, WEIGHTS, ...): null when Redis replies
 * "ERR value is not a valid float" (or the command's own float error).
 */
export function parseDouble(s: string): number | null {
  if (s.length === 0 || isCSpace(s.charCodeAt(0))) return null;
  if (isPlainDecimal(s)) return Number(s);
  return parseDoubleScanned(s);
}

/** parseDouble through the strtod scanner, whatever the text (exported for tests of the fast path). */
export function parseDoubleScanned(s: string): number | null {
  if (s.length === 0 || isCSpace(s.charCodeAt(0))) return null;
  const sc = scanStrtod(s);
  if (sc.end !== s.length || sc.kind === 'nan') return null;
  const r = scannedToDouble(s, sc);
  return r.rangeError ? null : r.value;
}

/**
 * A short plain decimal ([-+]digits[.digits], at least one digit, no exponent):
 * the common case of scores and coordinates. JS's Number() rounds such text
 * exactly as strtod does, and at most 64 chars it can neither overflow nor underflow.
 */
function isPlainDecimal(s: string): boolean {
  const n = s.length;
  if (n > 64) return false;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === CH_MINUS || c === CH_PLUS) i++;
  let digits = 0;
  let dot = false;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= CH_0 && c <= CH_9) digits++;
    else if (c === 46 /* . */ && !dot) dot = true;
    else return false;
  }
  return digits > 0;
}

/**
 * Plain strtod that must reach the end of the string or a NUL byte, NaN rejected
 * (zslParseRange: ZRANGEBYSCORE/ZCOUNT/ZREMRANGEBYSCORE bounds after the '(' is removed).
 * Accepts leading whitespace, "" (as 0), overflow (as +-Infinity) and underflow.
 */
export function parseDoubleStrtod(s: string): number | null {
  const sc = scanStrtod(s);
  if (sc.end < s.length && s.charCodeAt(sc.end) !== 0) return null;
  if (sc.end === 0) return 0; // no conversion: strtod returns 0 (only reachable for "" / "\0...")
  if (sc.kind === 'nan') return null;
  return scannedToDouble(s, sc).value;
}

// ---------------------------------------------------------------------------
// Formatting.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Exact decomposition of a finite positive double: value = mant * 2^exp. */
export function doubleParts(d: number): { mant: bigint; exp: number } {
  f64[0] = d;
  const lo = u32[0];
  const hi = u32[1];
  const biased = (hi >>> 20) & 0x7ff;
  const fracHi = hi & 0xfffff;
  let mant = (BigInt(fracHi) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) {
    exp = -1074;
  } else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  return { mant, exp };
}

/** True when positive finite `abs` equals the integer `digits` * 10^pow10 exactly. */
function equalsDecimal(abs: number, digits: string, pow10: number): boolean {
  const { mant, exp } = doubleParts(abs);
  let left = mant;
  let right = BigInt(digits);
  if (exp >= 0) left <<= BigInt(exp);
  else right <<= BigInt(-exp);
  if (pow10 >= 0) right *= 10n ** BigInt(pow10);
  else left *= 10n ** BigInt(-pow10);
  return left === right;
}

/**
 * 17 significant digits of positive finite `abs`, correctly rounded with ties to even
 * (glibc), as [digits, decimalExponent] with value ~ d.dddd * 10^exp.
 * JS toExponential rounds exact ties up, so ties are detected and fixed here.
 */
function digits17(abs: number): [string, number] {
  const s17 = abs.toExponential(16);
  // A tie needs an exact expansion of 18 significant digits. A double m/2^k (m odd,
  // m < 2^53) has at least 0.699k of them, so k <= 26; and no double >= 2^53 ties
  // either (its ulp exceeds the power of two dividing any 18-digit tie value).
  // Multiplying by 2^26 is exact, so this cheaply rules out almost every value.
  if (Number.isInteger(abs * 67108864) && abs < 9007199254740992) {
    const tie = tieDigits17(abs);
    if (tie !== null) return tie;
  }
  const e17 = Number(s17.slice(19));
  return [s17[0] + s17.slice(2, 18), e17];
}

/** digits17 for an exact tie whose 17th digit is even (round down), else null. */
function tieDigits17(abs: number): [string, number] | null {
  const s18 = abs.toExponential(17);
  // s18 = "d.ddddddddddddddddde+X": index 18 holds the 18th significant digit.
  if (s18.charCodeAt(18) === 53 /* '5' */) {
    const e18 = Number(s18.slice(20));
    const d18 = s18[0] + s18.slice(2, 19);
    if (equalsDecimal(abs, d18, e18 - 17) && (s18.charCodeAt(17) - CH_0) % 2 === 0) {
      // Exact tie with an even 17th digit: round down, i.e. truncate.
      return [d18.slice(0, 17), e18];
    }
  }
  return null;
}

function trimFraction(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === CH_0) end--;
  if (end > 0 && s.charCodeAt(end - 1) === CH_DOT) end--;
  return s.slice(0, end);
}

/** printf("%.17g"), with Redis's spelling of non-finite values: "inf", "-inf", "nan". */
export function formatDouble17g(d: number): string {
  if (Number.isSafeInteger(d)) {
    // Integers below 2^53 have at most 16 digits: %.17g prints them in full.
    return d === 0 && 1 / d < 0 ? '-0' : String(d);
  }
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  const sign = d < 0 ? '-' : '';
  const [digits, exp] = digits17(Math.abs(d));
  if (exp < -4 || exp >= 17) {
    const mant = trimFraction(digits[0] + '.' + digits.slice(1));
    const ae = Math.abs(exp);
    return sign + mant + (exp < 0 ? 'e-' : 'e+') + (ae < 10 ? '0' + ae : String(ae));
  }
  if (exp >= 0) {
    return sign + trimFraction(digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1));
  }
  return sign + trimFraction('0.' + '0'.repeat(-exp - 1) + digits);
}

/**
 * printf("%.<precision>f") for a double (precision 0..99), exact with glibc's
 * ties-to-even. Non-finite values are spelled "inf", "-inf", "nan" ("-nan" never occurs).
 */
export function formatFixed(d: number, precision: number): string {
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  const sign = d < 0 || (d === 0 && 1 / d < 0) ? '-' : '';
  const abs = Math.abs(d);
  if (abs >= 1e21) {
    // Such doubles are integers; toFixed would switch to exponent form.
    const int = BigInt(abs).toString();
    return sign + (precision > 0 ? int + '.' + '0'.repeat(precision) : int);
  }
  // An exact tie needs exactly precision+1 fractional bits (and as many decimal digits);
  // scaling by powers of two is exact, so test that before the costlier toFixed.
  if (!Number.isInteger(abs * 2 ** (precision + 1)) || Number.isInteger(abs * 2 ** precision)) {
    return sign + abs.toFixed(precision);
  }
  const longer = abs.toFixed(precision + 1);
  if (longer.charCodeAt(longer.length - 1) === 53 /* '5' */) {
    const digits = longer.replace('.', '');
    if (equalsDecimal(abs, digits, -(precision + 1))) {
      const prev = longer.charCodeAt(longer.length - 2);
      const prevDigit = prev === CH_DOT ? longer.charCodeAt(longer.length - 3) : prev;
      if ((prevDigit - CH_0) % 2 === 0) {
        // Exact tie, even last kept digit: truncate instead of toFixed's round-up.
        let t = longer.slice(0, -1);
        if (t.charCodeAt(t.length - 1) === CH_DOT) t = t.slice(0, -1);
        return sign + t;
      }
    }
  }
  return sign + abs.toFixed(precision);
}

/**
 * ld2string(LD_STR_HUMAN) applied to a double: "%.17Lf", trailing zeros and '.' removed,
 * "-0" printed as "0"; "inf"/"-inf" for infinities. (GEOPOS; addReplyHumanLongDouble.)
 */
export function formatDoubleHuman(d: number): string {
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isSafeInteger(d)) return d === 0 ? '0' : String(d);
  const s = trimFraction(formatFixed(d, 17));
  return s === '-0' ? '0' : s;
}
