/**
 * Copying latin1 ("binary") strings into Buffers on hot paths. A call into
 * Buffer#latin1Write costs more than copying a short string char by char in
 * JS, so short copies take the loop (measured: replies and packed hashes).
 */

/** Strings up to this length are copied by the JS loop. */
const SHORT = 96;

/** Writes s[from, to) at buf[pos] (room already ensured); returns the position after it. */
export function putLatin1(buf: Buffer, pos: number, s: string, from = 0, to = s.length): number {
  const n = to - from;
  if (n <= 0) return pos;
  if (n <= SHORT) {
    for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(from + i);
    return pos + n;
  }
  // latin1Write copies from the string's start: slice first (O(1) for a flat string).
  return pos + buf.latin1Write(from === 0 && to === s.length ? s : s.slice(from, to), pos, n);
}

/** Writes n in decimal at p (room for 25 bytes ensured: the longest String(n)); returns the end position. */
export function putDecimal(o: Buffer, p: number, n: number): number {
  if (n >= 0 && n < 10) {
    o[p] = 0x30 + n;
    return p + 1;
  }
  if (n >= 10 && n < 100) {
    o[p] = 0x30 + ((n / 10) | 0);
    o[p + 1] = 0x30 + (n % 10);
    return p + 2;
  }
  return putLatin1(o, p, String(n));
}

const f = String.fromCharCode;

/**
 * buf[p, p + n) as a latin1 string. Up to 24 bytes, String.fromCharCode with
 * the bytes as arguments makes the (flat, one-byte) string about three times
 * faster than Buffer#latin1Slice, whose cost is mostly the call into native
 * code; commands are mostly short keys and values, so the parser reads them this way.
 */
export function readLatin1(b: Buffer, p: number, n: number): string {
  switch (n) {
    case 0: return '';
    case 1: return f(b[p]);
    case 2: return f(b[p], b[p + 1]);
    case 3: return f(b[p], b[p + 1], b[p + 2]);
    case 4: return f(b[p], b[p + 1], b[p + 2], b[p + 3]);
    case 5: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4]);
    case 6: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5]);
    case 7: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6]);
    case 8: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    case 9: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8]);
    case 10: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9]);
    case 11: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10]);
    case 12: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11]);
    case 13: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12]);
    case 14: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13]);
    case 15: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14]);
    case 16: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15]);
    case 17: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15], b[p + 16]);
    case 18: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15], b[p + 16], b[p + 17]);
    case 19: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15], b[p + 16], b[p + 17], b[p + 18]);
    case 20: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15], b[p + 16], b[p + 17], b[p + 18], b[p + 19]);
    case 21: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15], b[p + 16], b[p + 17], b[p + 18], b[p + 19], b[p + 20]);
    case 22: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15], b[p + 16], b[p + 17], b[p + 18], b[p + 19], b[p + 20], b[p + 21]);
    case 23: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15], b[p + 16], b[p + 17], b[p + 18], b[p + 19], b[p + 20], b[p + 21], b[p + 22]);
    case 24: return f(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15], b[p + 16], b[p + 17], b[p + 18], b[p + 19], b[p + 20], b[p + 21], b[p + 22], b[p + 23]);
    default: return b.latin1Slice(p, p + n);
  }
}
