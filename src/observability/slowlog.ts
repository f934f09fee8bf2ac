/**
 * The slow log (SLOWLOG GET / LEN / RESET), as Redis 7.0 keeps it.
 *
 * A command that ran for at least slowlog-log-slower-than µs (0 logs every
 * command, a negative value logs none) is remembered with an id, the server
 * clock's Unix time, its duration, its arguments, the client's address and
 * name. Only the newest slowlog-max-len entries are kept; a smaller limit set
 * with CONFIG SET takes effect at the next logged command, as in Redis.
 *
 * Arguments are stored the way Redis stores them so the log stays small: at
 * most 32 (the 32nd becomes "... (N more arguments)") and each at most 128
 * bytes (then "... (N more bytes)").
 */

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGC = 32;
const MAX_STRING = 128;

export interface SlowlogEntry {
  id: number;
  /** Unix time, seconds. */
  time: number;
  /** Duration, µs. */
  duration: number;
  argv: string[];
  addr: string;
  name: string;
}

/** A flat copy of a string prefix: a plain slice could keep a huge argument alive. */
function detachedPrefix(s: string, n: number): string {
  return Buffer.from(s.slice(0, n), 'latin1').toString('latin1');
}

/** The arguments as the log keeps them (count and length limits). */
export function slowlogArgv(argv: readonly string[]): string[] {
  const argc = argv.length;
  const kept = argc > MAX_ARGC ? MAX_ARGC : argc;
  const out = new Array<string>(kept);
  for (let j = 0; j < kept; j++) {
    if (kept !== argc && j === kept - 1) {
      out[j] = `... (${argc - kept + 1} more arguments)`;
    } else {
      const a = argv[j];
      out[j] = a.length > MAX_STRING ? detachedPrefix(a, MAX_STRING) + `... (${a.length - MAX_STRING} more bytes)` : a;
    }
  }
  return out;
}

export class Slowlog {
  /** Ring buffer of entries: `head` is the oldest, `len` entries from it. */
  private ring: Array<SlowlogEntry | undefined> = new Array(16);
  private head = 0;
  private len = 0;
  /** Ids keep counting across SLOWLOG RESET, as in Redis. */
  private nextId = 0;

  get length(): number {
    return this.len;
  }

  push(time: number, duration: number, argv: readonly string[], addr: string, name: string, maxLen: number): void {
    const entry: SlowlogEntry = { id: this.nextId++, time, duration, argv: slowlogArgv(argv), addr, name };
    if (this.len === this.ring.length) this.grow();
    this.ring[(this.head + this.len) % this.ring.length] = entry;
    this.len++;
    while (this.len > maxLen) this.dropOldest();
  }

  /** The newest `count` entries, newest first. */
  newest(count: number): SlowlogEntry[] {
    const n = Math.min(count, this.len);
    const out = new Array<SlowlogEntry>(n);
    for (let i = 0; i < n; i++) out[i] = this.ring[(this.head + this.len - 1 - i) % this.ring.length]!;
    return out;
  }

  reset(): void {
    this.ring = new Array(16);
    this.head = 0;
    this.len = 0;
  }

  private dropOldest(): void {
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.len--;
    // Give memory back when a big log was trimmed down.
    if (this.ring.length > 64 && this.len < this.ring.length / 4) this.resize(this.ring.length / 2);
  }

  private grow(): void {
    this.resize(this.ring.length * 2);
  }

  private resize(size: number): void {
    const next = new Array<SlowlogEntry | undefined>(size);
    for (let i = 0; i < this.len; i++) next[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = next;
    this.head = 0;
  }
}
