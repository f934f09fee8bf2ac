/**
 * C number conversions and printf formatting as Redis's x86-64 build does
 * them: (long long)d casts that overflow to INT64_MIN, and glibc's %d %x %e
 * %f %g output (correctly rounded, ties to even). Used by string.format,
 * struct, cjson and the Lua-to-RESP conversion.
 */
import { doubleParts, formatFixed } from '../../util/numbers.js';

const TWO63 = 9223372036854775808;
const INT64_MIN = -(1n << 63n);
const M64 = (1n << 64n) - 1n;

/** (long long)d on x86-64: truncation; NaN and out-of-range give INT64_MIN. */
export function doubleToInt64(d: number): bigint {
  if (!(d >= -TWO63 && d < TWO63)) return INT64_MIN;
  return BigInt(Math.trunc(d));
}

/** The 64-bit pattern of (long long)d, as an unsigned bigint. */
export function doubleToInt64Bits(d: number): bigint {
  return doubleToInt64(d) & M64;
}

/** (unsigned long long)d as gcc compiles it for x86-64 (SSE2), as an unsigned bigint. */
export function doubleToUint64Bits(d: number): bigint {
  if (d >= TWO63) {
    // cvttsd2si(d - 2^63) ^ 2^63: overflows to 0 from 2^64 on.
    const hi = d - TWO63;
    return hi >= TWO63 ? 0n : (BigInt(Math.trunc(hi)) ^ (1n << 63n)) & M64;
  }
  return doubleToInt64Bits(d);
}

/** (int)d on x86-64: NaN and out-of-range give INT32_MIN. */
export function doubleToInt32(d: number): number {
  if (!(d > -2147483649 && d < 2147483648)) return -2147483648;
  return Math.trunc(d) | 0;
}

// A NaN's sign is read through a typed array store, which keeps its bits: an array literal
// ([d]) goes through a double array, whose NaNs V8's optimized code canonicalizes (the sign is lost).
const NAN_F64 = new Float64Array(1);
const NAN_U32 = new Uint32Array(NAN_F64.buffer);

function isNegative(d: number): boolean {
  if (d !== d) {
    NAN_F64[0] = d;
    return (NAN_U32[1] & 0x80000000) !== 0;
  }
  return d < 0 || (d === 0 && 1 / d < 0);
}

/** True when positive finite `abs` equals digits * 10^pow10 exactly. */
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
 * `sig` significant digits of positive finite abs, rounded to nearest with
 * ties to even, as [digits, exponent] (value ~ d.ddd x 10^exponent).
 */
export function significantDigits(abs: number, sig: number): [string, number] {
  if (abs === 0) return ['0'.repeat(sig), 0];
  const s = abs.toExponential(sig - 1);
  const e = s.indexOf('e');
  let digits = s[0] + s.slice(2, e);
  let exp = Number(s.slice(e + 1));
  if (sig <= 99) {
    // JS rounds exact ties up; glibc rounds them to even.
    const longer = abs.toExponential(sig);
    const le = longer.indexOf('e');
    const ld = longer[0] + longer.slice(2, le);
    if (ld.charCodeAt(ld.length - 1) === 53) {
      const lexp = Number(longer.slice(le + 1));
      if (equalsDecimal(abs, ld, lexp - sig) && (ld.charCodeAt(ld.length - 2) - 48) % 2 === 0) {
        digits = ld.slice(0, -1);
        exp = lexp;
      }
    }
  }
  return [digits, exp];
}

function expSuffix(exp: number, upper: boolean): string {
  const a = Math.abs(exp);
  return (upper ? 'E' : 'e') + (exp < 0 ? '-' : '+') + (a < 10 ? '0' + a : String(a));
}

/** printf %e body (no sign) of a positive finite value. */
function formatE(abs: number, prec: number, upper: boolean, alt: boolean): string {
  const [d, exp] = significantDigits(abs, prec + 1);
  let body = d[0];
  if (prec > 0 || alt) body += '.';
  body += d.slice(1);
  return body + expSuffix(abs === 0 ? 0 : exp, upper);
}

/** printf %g body (no sign) of a positive finite value. */
function formatG(abs: number, prec: number, upper: boolean, alt: boolean): string {
  const P = prec === 0 ? 1 : prec;
  const exp = abs === 0 ? 0 : significantDigits(abs, P)[1];
  let out: string;
  if (P > exp && exp >= -4) {
    out = formatFixed(abs, P - 1 - exp);
    if (alt && out.indexOf('.') < 0) out += '.';
  } else {
    out = formatE(abs, P - 1, upper, alt);
  }
  if (!alt) {
    const epos = out.search(/[eE]/);
    let mant = epos < 0 ? out : out.slice(0, epos);
    const tail = epos < 0 ? '' : out.slice(epos);
    if (mant.indexOf('.') >= 0) {
      mant = mant.replace(/0+$/, '');
      if (mant.endsWith('.')) mant = mant.slice(0, -1);
    }
    out = mant + tail;
  }
  return out;
}

export interface FormatSpec {
  /** Any of "-+ #0". */
  flags: string;
  width: number;
  /** null when no precision was given. */
  precision: number | null;
}

function pad(body: string, spec: FormatSpec, zeroOk: boolean, signLen: number): string {
  if (body.length >= spec.width) return body;
  if (spec.flags.includes('-')) return body + ' '.repeat(spec.width - body.length);
  if (zeroOk && spec.flags.includes('0')) {
    return body.slice(0, signLen) + '0'.repeat(spec.width - body.length) + body.slice(signLen);
  }
  return ' '.repeat(spec.width - body.length) + body;
}

/** printf of a double with conversion e, E, f, F, g or G. */
export function cFormatDouble(spec: FormatSpec, conv: string, d: number): string {
  const upper = conv === 'E' || conv === 'G' || conv === 'F';
  const neg = isNegative(d);
  const sign = neg ? '-' : spec.flags.includes('+') ? '+' : spec.flags.includes(' ') ? ' ' : '';
  const alt = spec.flags.includes('#');
  const prec = spec.precision ?? 6;
  if (!Number.isFinite(d)) {
    const word = d !== d ? 'nan' : 'inf';
    return pad(sign + (upper ? word.toUpperCase() : word), spec, false, 0);
  }
  const abs = Math.abs(d);
  let body: string;
  const c = conv.toLowerCase();
  if (c === 'f') {
    body = formatFixed(abs, prec);
    if (alt && prec === 0) body += '.';
  } else if (c === 'e') {
    body = formatE(abs, prec, upper, alt);
  } else {
    body = formatG(abs, prec, upper, alt);
  }
  return pad(sign + body, spec, true, sign.length);
}

/**
 * printf of a 64-bit integer with conversion d, i, o, u, x or X. `value` is
 * the signed value for d/i and the unsigned pattern for the others.
 */
export function cFormatInt(spec: FormatSpec, conv: string, value: bigint): string {
  const signed = conv === 'd' || conv === 'i';
  const neg = signed && value < 0n;
  const mag = neg ? -value : value;
  let digits: string;
  if (conv === 'o') digits = mag.toString(8);
  else if (conv === 'x') digits = mag.toString(16);
  else if (conv === 'X') digits = mag.toString(16).toUpperCase();
  else digits = mag.toString(10);
  const prec = spec.precision;
  if (prec !== null) {
    if (prec === 0 && mag === 0n) digits = '';
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  }
  let prefix = '';
  if (spec.flags.includes('#')) {
    if (conv === 'o' && digits[0] !== '0') digits = '0' + digits;
    else if ((conv === 'x' || conv === 'X') && mag !== 0n) prefix = conv === 'x' ? '0x' : '0X';
  }
  if (signed) prefix = neg ? '-' : spec.flags.includes('+') ? '+' : spec.flags.includes(' ') ? ' ' : '';
  return pad(prefix + digits, spec, prec === null, prefix.length);
}

/** printf("%.<prec>g") as Lua's tostring (prec 14) and cjson use it. */
export function formatG14(d: number, prec = 14): string {
  return cFormatDouble({ flags: '', width: 0, precision: prec }, 'g', d);
}
