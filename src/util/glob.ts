/**
 * Glob-style matching with exactly the rules of Redis 7.0's stringmatchlen (KEYS, SCAN
 * MATCH, PSUBSCRIBE, CONFIG GET, COMMAND LIST FILTERBY PATTERN, ...):
 *
 *  - `*` any run of bytes, `?` one byte, `\x` the byte x literally.
 *  - `[...]` one byte from a set: `^` first negates; `\x` inside is a literal x (compared
 *    case-sensitively even in nocase mode); `a-z` a range, where reversed ranges like
 *    `[z-a]` are swapped and bytes >= 0x80 compare as negative (C signed char);
 *    `]` right after `[` or `[^` closes an empty set; a missing `]` ends the set at the
 *    end of the pattern; in `[a-]` the `]` is the range end, leaving the set unterminated.
 *  - A trailing lone `\` matches a literal backslash.
 *  - A `*` never matches against the empty remainder of the string once the string is
 *    exhausted mid-pattern, which is why "*" does not match "" (KEYS/SCAN special-case a
 *    pattern of exactly "*" and never call the matcher for it).
 *  - Like Redis, recursion deeper than 1000 nested stars gives "no match", and once the
 *    rest of a pattern failed at every position after a star, earlier stars stop
 *    retrying, so pathological patterns (a*a*a*...b) run in polynomial time.
 *
 * Strings are latin1 JS strings (one char per byte).
 */

const STAR = 42; // *
const QUESTION = 63; // ?
const LBRACKET = 91; // [
const RBRACKET = 93; // ]
const BACKSLASH = 92; // \
const CARET = 94; // ^
const DASH = 45; // -

const MAX_NESTING = 1000;

/** Set when the rest of a pattern failed at every start position after some star. */
let giveUp = false;

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** A byte as C's signed char (x86_64), for range comparisons. */
function signedByte(c: number): number {
  return c >= 128 && c < 256 ? c - 256 : c;
}

/** Char code or 0 past the end (Redis patterns are NUL-terminated sds strings). */
function at(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0;
}

function matchFrom(p: string, pi: number, s: string, si: number, nocase: boolean, depth: number): boolean {
  if (depth > MAX_NESTING) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    if (pc === STAR) {
      while (pi + 1 < plen && p.charCodeAt(pi + 1) === STAR) pi++;
      if (pi + 1 === plen) return true; // trailing star matches the rest
      for (; si < slen; si++) {
        if (matchFrom(p, pi + 1, s, si, nocase, depth + 1)) return true;
        if (giveUp) return false;
      }
      // The rest matched nowhere: longer matches for earlier stars cannot help either.
      giveUp = true;
      return false;
    } else if (pc === QUESTION) {
      si++;
    } else if (pc === LBRACKET) {
      const sc = s.charCodeAt(si);
      pi++;
      const negate = at(p, pi) === CARET;
      if (negate) pi++;
      let found = false;
      for (;;) {
        const c = at(p, pi);
        if (c === BACKSLASH && plen - pi >= 2) {
          pi++;
          if (p.charCodeAt(pi) === sc) found = true;
        } else if (c === RBRACKET && pi < plen) {
          break;
        } else if (pi >= plen) {
          pi--; // unterminated set: stop on the last pattern char
          break;
        } else if (plen - pi >= 3 && p.charCodeAt(pi + 1) === DASH) {
          let start = signedByte(c);
          let end = signedByte(p.charCodeAt(pi + 2));
          let ch = signedByte(sc);
          if (start > end) {
            const t = start;
            start = end;
            end = t;
          }
          if (nocase) {
            start = lower(start);
            end = lower(end);
            ch = lower(ch);
          }
          pi += 2;
          if (ch >= start && ch <= end) found = true;
        } else if (nocase ? lower(c) === lower(sc) : c === sc) {
          found = true;
        }
        pi++;
      }
      if (found === negate) return false;
      si++;
    } else {
      let c = pc;
      if (c === BACKSLASH && plen - pi >= 2) {
        pi++;
        c = p.charCodeAt(pi);
      }
      const sc = s.charCodeAt(si);
      if (nocase ? lower(c) !== lower(sc) : c !== sc) return false;
      si++;
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p.charCodeAt(pi) === STAR) pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}

/** Redis stringmatchlen(pattern, str, nocase). */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  giveUp = false;
  return matchFrom(pattern, 0, str, 0, nocase, 0);
}

/**
 * If the pattern (case-sensitive) can only ever match one string, returns that string
 * (escapes resolved), else null. KEYS/SCAN can then do a direct lookup.
 */
export function globLiteral(pattern: string): string | null {
  let out = '';
  let runStart = 0;
  const len = pattern.length;
  for (let i = 0; i < len; i++) {
    const c = pattern.charCodeAt(i);
    if (c === STAR || c === QUESTION || c === LBRACKET) return null;
    if (c === BACKSLASH && i + 1 < len) {
      out += pattern.slice(runStart, i);
      i++;
      runStart = i; // the escaped char starts the next literal run
    }
  }
  return out + pattern.slice(runStart);
}

/**
 * The literal text every match must start with (escapes resolved), i.e. everything
 * before the first unescaped `*`, `?` or `[`. "" when the pattern starts with a wildcard.
 */
export function globPrefix(pattern: string): string {
  let out = '';
  let runStart = 0;
  const len = pattern.length;
  for (let i = 0; i < len; i++) {
    const c = pattern.charCodeAt(i);
    if (c === STAR || c === QUESTION || c === LBRACKET) return out + pattern.slice(runStart, i);
    if (c === BACKSLASH && i + 1 < len) {
      out += pattern.slice(runStart, i);
      i++;
      runStart = i;
    }
  }
  return out + pattern.slice(runStart);
}
