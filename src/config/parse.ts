/**
 * Low-level value parsers with the exact acceptance rules Redis 7.0 uses for
 * configuration values (memtoull, string2ll, strtoll, string2d, yes/no).
 * Numbers are bigint because several directives hold 64-bit values.
 */

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
export const UINT64_MAX = (1n << 64n) - 1n;
export const INT32_MIN = -(1n << 31n);
export const INT32_MAX = (1n << 31n) - 1n;
export const UINT32_MAX = (1n << 32n) - 1n;

/** Reinterprets the low 64 bits as a signed value (C cast to long long). */
export function toInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** Reinterprets the low 64 bits as an unsigned value (C cast to unsigned long long). */
export function toUint64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** Truncates to a C int, as assigning a long long to an int does. */
export function toInt32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

const MEMORY_UNITS: Record<string, bigint> = {
  '': 1n,
  b: 1n,
  k: 1000n,
  kb: 1024n,
  m: 1000n * 1000n,
  mb: 1024n * 1024n,
  g: 1000n * 1000n * 1000n,
  gb: 1024n * 1024n * 1024n,
};

/**
 * Parses a memory amount such as "100", "1k", "1kb", "5GB" into bytes.
 * Like Redis: only decimal digits before the unit, units are case-insensitive,
 * k/m/g are powers of 1000 and kb/mb/gb powers of 1024, an empty number counts
 * as 0, an oversized number saturates and the product wraps at 2^64.
 * Returns null when the text is not a memory value.
 */
export function parseMemory(s: string): bigint | null {
  if (s.startsWith('-')) return null;
  let u = 0;
  while (u < s.length && s.charCodeAt(u) >= 48 && s.charCodeAt(u) <= 57) u++;
  const mul = MEMORY_UNITS[s.slice(u).toLowerCase()];
  if (mul === undefined) return null;
  // Redis copies the digits into a 128-byte buffer first.
  if (u >= 128) return null;
  let n = u === 0 ? 0n : BigInt(s.slice(0, u));
  if (n > UINT64_MAX) n = UINT64_MAX;
  return toUint64(n * mul);
}

/** Strict integer parse (Redis string2ll): no sign '+', no spaces, no leading zeros. */
export function parseStrictInt(s: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

const C_SPACE = /^[ \t\n\v\f\r]*/;

/**
 * C strtoll() in the given base where the whole string must be consumed.
 * Leading whitespace and a sign are allowed; "" parses as 0 (nothing to
 * consume). Out-of-range values saturate unless `rangeError` is requested.
 * Returns null when characters are left over.
 */
export function parseStrtoll(s: string, base: 8 | 10 = 10, rangeError = false): bigint | null {
  if (s === '') return 0n;
  const lead = C_SPACE.exec(s)![0].length;
  const digitClass = base === 8 ? '[0-7]' : '[0-9]';
  const m = new RegExp(`^([+-]?)(${digitClass}+)$`).exec(s.slice(lead));
  if (!m) return null;
  let v = 0n;
  const b = BigInt(base);
  for (const ch of m[2]) v = v * b + BigInt(ch.charCodeAt(0) - 48);
  if (m[1] === '-') v = -v;
  if (v > INT64_MAX) return rangeError ? null : INT64_MAX;
  if (v < INT64_MIN) return rangeError ? null : INT64_MIN;
  return v;
}

/**
 * Float parse with Redis string2d rules: the whole string must be a number
 * (strtod syntax, including hex and inf), no leading space, NaN rejected.
 */
export function parseStrictDouble(s: string): number | null {
  if (s === '' || /^[ \t\n\v\f\r]/.test(s)) return null;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return Number(s);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/.exec(s);
  if (hex && (hex[2] || hex[3])) {
    const frac = hex[3] ?? '';
    let v = parseInt(hex[2] || '0', 16);
    for (let i = 0; i < frac.length; i++) v += parseInt(frac[i], 16) / 16 ** (i + 1);
    if (hex[4]) v *= 2 ** Number(hex[4]);
    return hex[1] === '-' ? -v : v;
  }
  return null;
}

/** yes/no, case-insensitive; null for anything else. */
export function parseYesNo(s: string): boolean | null {
  const l = s.toLowerCase();
  return l === 'yes' ? true : l === 'no' ? false : null;
}

/** printf("%f") then Redis's trimDoubleString: "99.900000" -> "99.9", "50.000000" -> "50". */
export function formatTrimmedDouble(d: number): string {
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : d < 0 ? '-inf' : 'nan';
  // toFixed drops the sign of -0 where printf keeps it.
  let s = (Object.is(d, -0) ? '-' : '') + d.toFixed(6);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}
