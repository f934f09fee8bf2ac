/**
 * notify-keyspace-events: the class letters, their flag bits (same values as
 * Redis, so code reading the flags can share them), parsing and the
 * normalised spelling CONFIG GET prints.
 */

export const NOTIFY_KEYSPACE = 1 << 0; // K
export const NOTIFY_KEYEVENT = 1 << 1; // E
export const NOTIFY_GENERIC = 1 << 2; // g
export const NOTIFY_STRING = 1 << 3; // $
export const NOTIFY_LIST = 1 << 4; // l
export const NOTIFY_SET = 1 << 5; // s
export const NOTIFY_HASH = 1 << 6; // h
export const NOTIFY_ZSET = 1 << 7; // z
export const NOTIFY_EXPIRED = 1 << 8; // x
export const NOTIFY_EVICTED = 1 << 9; // e
export const NOTIFY_STREAM = 1 << 10; // t
export const NOTIFY_KEY_MISS = 1 << 11; // m (not part of A)
export const NOTIFY_LOADED = 1 << 12; // module-only, no letter
export const NOTIFY_MODULE = 1 << 13; // d
export const NOTIFY_NEW = 1 << 14; // n (not part of A)

/** What 'A' stands for: every data class except key-miss and new-key events. */
export const NOTIFY_ALL =
  NOTIFY_GENERIC |
  NOTIFY_STRING |
  NOTIFY_LIST |
  NOTIFY_SET |
  NOTIFY_HASH |
  NOTIFY_ZSET |
  NOTIFY_EXPIRED |
  NOTIFY_EVICTED |
  NOTIFY_STREAM |
  NOTIFY_MODULE;

export const NOTIFY_EVENTS_ERROR = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

// Class letters in the order Redis prints them when 'A' does not cover them.
const CLASS_LETTERS: Array<[string, number]> = [
  ['g', NOTIFY_GENERIC],
  ['$', NOTIFY_STRING],
  ['l', NOTIFY_LIST],
  ['s', NOTIFY_SET],
  ['h', NOTIFY_HASH],
  ['z', NOTIFY_ZSET],
  ['x', NOTIFY_EXPIRED],
  ['e', NOTIFY_EVICTED],
  ['t', NOTIFY_STREAM],
  ['d', NOTIFY_MODULE],
  ['n', NOTIFY_NEW],
];

const LETTER_FLAGS: Record<string, number> = {
  A: NOTIFY_ALL,
  K: NOTIFY_KEYSPACE,
  E: NOTIFY_KEYEVENT,
  m: NOTIFY_KEY_MISS,
  ...Object.fromEntries(CLASS_LETTERS),
};

/** Parses the letters (case-sensitive) into flag bits; null on an unknown letter. */
export function parseKeyspaceEvents(s: string): number | null {
  let flags = 0;
  for (const ch of s) {
    const f = LETTER_FLAGS[ch];
    if (f === undefined) return null;
    flags |= f;
  }
  return flags;
}

/**
 * The spelling CONFIG GET prints: "A" when all classes are on, otherwise the
 * class letters, then K, E and m. Like Redis 7.0, 'n' is only printed when 'A'
 * is not (the bit itself is kept).
 */
export function formatKeyspaceEvents(flags: number): string {
  let out = '';
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) {
    out = 'A';
  } else {
    for (const [letter, bit] of CLASS_LETTERS) if (flags & bit) out += letter;
  }
  if (flags & NOTIFY_KEYSPACE) out += 'K';
  if (flags & NOTIFY_KEYEVENT) out += 'E';
  if (flags & NOTIFY_KEY_MISS) out += 'm';
  return out;
}
