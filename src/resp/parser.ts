/**
 * Incremental RESP request parser (multibulk and inline), pull-based:
 * the connection appends socket chunks with `feed()` and takes one command at a
 * time with `next()`, so a blocked client simply stops pulling and resumes later.
 *
 * Arguments come out as latin1 strings (one char per byte): binary safe, and
 * never a view on the socket chunk, so no read buffer is kept alive by a value.
 * Error texts and limits follow Redis 7.0's networking.c.
 */
import { splitArgs } from '../util/splitargs.js';
import { readLatin1 } from '../util/latin1.js';

/** Longest inline request or count line Redis accepts (PROTO_INLINE_MAX_SIZE). */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/** Bulk arguments at least this big are assembled in their own buffer (PROTO_MBULK_BIG_ARG). */
const BIG_ARG = 32 * 1024;

export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulkLen: number;
  /** When true, the unauthenticated limits apply (10 args, 16 KB bulks). */
  authRequired: boolean;
}

export class ProtocolError extends Error {}

export { splitArgs };

const EMPTY = Buffer.alloc(0);

export class RespParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Arguments of a multibulk command still being read, or null. */
  private argv: string[] | null = null;
  private remaining = 0;
  /** Length of the bulk being read, or -1 when the `$` line is still to come. */
  private bulkLen = -1;
  /** Target for a big bulk argument that arrives over several chunks. */
  private big: Buffer | null = null;
  private bigFilled = 0;

  /**
   * The largest bulk argument of at least 32 KB (with its CRLF) announced or read since
   * the connection last took it (Redis sizes its query buffer for such an argument).
   */
  bigSeen = 0;

  constructor(readonly limits: ParserLimits) {}

  /** Bytes of a big argument still to come (Redis's readlen for it), or 0. */
  get bigRemaining(): number {
    return this.big ? this.big.length - this.bigFilled : 0;
  }

  /** Bytes of the arguments of an incomplete command parsed so far (Redis's c->argv_len_sum), or 0. */
  get partialArgvBytes(): number {
    const argv = this.argv;
    if (argv === null) return 0;
    let n = 0;
    for (let i = 0; i < argv.length; i++) n += argv[i].length;
    return n;
  }

  /** Arguments of an incomplete command parsed so far (Redis's c->argc while reading one). */
  get partialArgc(): number {
    return this.argv === null ? 0 : this.argv.length;
  }

  /** Length of the bulk argument being read, or -1 (Redis's c->bulklen). */
  get bulkPending(): number {
    return this.argv !== null ? this.bulkLen : -1;
  }

  /** Bytes received but not consumed yet (for client-query-buffer-limit and CLIENT LIST qbuf). */
  get pendingBytes(): number {
    return this.buf.length - this.pos + (this.big ? this.bigFilled : 0);
  }

  /**
   * Bytes the query buffer holds room for: what was received plus the rest of an
   * announced big bulk argument (its buffer is allocated whole, as Redis sizes its
   * query buffer for it). Client eviction and CLIENT LIST's qbuf-free/tot-mem count it.
   */
  get reservedBytes(): number {
    return this.buf.length - this.pos + (this.big ? this.big.length : 0);
  }

  feed(chunk: Buffer): void {
    if (this.big) {
      // Fill the big argument buffer first, without re-copying what came before.
      const need = this.big.length - this.bigFilled;
      const n = Math.min(need, chunk.length);
      chunk.copy(this.big, this.bigFilled, 0, n);
      this.bigFilled += n;
      chunk = chunk.subarray(n);
      if (this.bigFilled === this.big.length) {
        const b = this.big;
        this.big = null;
        if (b[b.length - 2] !== 0x0d || b[b.length - 1] !== 0x0a) {
          // Redis does not check the CRLF after a bulk; it skips two bytes. Do the same.
        }
        this.argv!.push(b.latin1Slice(0, b.length - 2));
        this.remaining--;
        this.bulkLen = -1;
      }
      if (chunk.length === 0) return;
    }
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
    }
  }

  /**
   * Stops using `shared` (a read buffer the connection reuses): the bytes
   * still to parse are copied, so the next read can overwrite it.
   */
  detach(shared: Buffer): void {
    if (this.buf.buffer !== shared.buffer) return;
    this.buf = this.pos < this.buf.length ? Buffer.from(this.buf.subarray(this.pos)) : EMPTY;
    this.pos = 0;
  }

  /**
   * Returns the next complete command, an empty array for an empty request
   * (skipped by the caller), or null when more bytes are needed.
   * Throws ProtocolError with Redis's reply text on malformed input.
   */
  next(): string[] | null {
    if (this.big) return null;
    if (this.argv === null) {
      if (this.pos < this.buf.length && this.buf[this.pos] === 0x2a) {
        const whole = this.wholeCommand();
        if (whole !== null) return whole;
      }
      if (this.pos >= this.buf.length) {
        this.release();
        return null;
      }
      if (this.buf[this.pos] !== 0x2a /* '*' */) return this.inline();
      const nl = this.buf.indexOf(0x0d, this.pos);
      if (nl < 0 || nl + 1 >= this.buf.length) {
        if (this.buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError('Protocol error: too big mbulk count string');
        return null;
      }
      const ll = parseLongLong(this.buf, this.pos + 1, nl);
      if (ll === null || ll > 2147483647) throw new ProtocolError('Protocol error: invalid multibulk length');
      if (ll > 10 && this.limits.authRequired) throw new ProtocolError('Protocol error: unauthenticated multibulk length');
      this.pos = nl + 2;
      if (ll <= 0) return EMPTY_ARGV;
      this.argv = [];
      this.remaining = ll;
      this.bulkLen = -1;
    }
    const buf = this.buf;
    while (this.remaining > 0) {
      if (this.bulkLen < 0) {
        const nl = buf.indexOf(0x0d, this.pos);
        if (nl < 0 || nl + 1 >= buf.length) {
          if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError('Protocol error: too big bulk count string');
          return null;
        }
        if (buf[this.pos] !== 0x24 /* '$' */) {
          throw new ProtocolError("Protocol error: expected '$', got '" + String.fromCharCode(buf[this.pos]) + "'");
        }
        const ll = parseLongLong(buf, this.pos + 1, nl);
        if (ll === null || ll < 0 || ll > this.limits.maxBulkLen) throw new ProtocolError('Protocol error: invalid bulk length');
        if (ll > 16384 && this.limits.authRequired) throw new ProtocolError('Protocol error: unauthenticated bulk length');
        this.pos = nl + 2;
        this.bulkLen = ll;
      }
      const len = this.bulkLen;
      if (buf.length - this.pos < len + 2) {
        if (len >= BIG_ARG) {
          // Assemble a big argument in a buffer of its exact size (plus CRLF).
          if (len + 2 > this.bigSeen) this.bigSeen = len + 2;
          this.big = Buffer.allocUnsafe(len + 2);
          this.bigFilled = buf.copy(this.big, 0, this.pos);
          this.pos = buf.length;
          this.release();
        }
        return null;
      }
      if (len >= BIG_ARG && len + 2 > this.bigSeen) this.bigSeen = len + 2;
      this.argv!.push(buf.latin1Slice(this.pos, this.pos + len));
      this.pos += len + 2;
      this.bulkLen = -1;
      this.remaining--;
    }
    const argv = this.argv!;
    this.argv = null;
    return argv;
  }

  /**
   * Fast path for the common case: a well-formed multibulk command that is
   * entirely in the buffer. One pass, no indexOf calls, no per-argument state
   * writes. Anything else (partial input, big or refused lengths, malformed
   * lines) returns null and is left to the general path, which owns the errors.
   */
  private wholeCommand(): string[] | null {
    const buf = this.buf;
    const end = buf.length;
    let p = this.pos + 1;
    let n = 0;
    const countStart = p;
    for (let c = buf[p]; p < end && c >= 0x30 && c <= 0x39; c = buf[++p]) n = n * 10 + c - 0x30;
    const digits = p - countStart;
    if (digits === 0 || digits > 9 || (digits > 1 && buf[countStart] === 0x30) || p + 1 >= end || buf[p] !== 0x0d) return null;
    if (n === 0 || (n > 10 && this.limits.authRequired)) return null;
    p += 2;
    const maxLen = this.limits.authRequired ? Math.min(16384, this.limits.maxBulkLen) : this.limits.maxBulkLen;
    const argv = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      if (p >= end || buf[p] !== 0x24) return null;
      const lenStart = ++p;
      let len = 0;
      for (let c = buf[p]; p < end && c >= 0x30 && c <= 0x39; c = buf[++p]) len = len * 10 + c - 0x30;
      const d = p - lenStart;
      if (d === 0 || d > 9 || (d > 1 && buf[lenStart] === 0x30) || p + 1 >= end || buf[p] !== 0x0d) return null;
      p += 2;
      // Redis does not check the CRLF after a bulk; it skips two bytes.
      if (len > maxLen || p + len + 2 > end) return null;
      if (len >= BIG_ARG && len + 2 > this.bigSeen) this.bigSeen = len + 2;
      argv[i] = i === 0 ? commandName(buf, p, len) : readLatin1(buf, p, len);
      p += len + 2;
    }
    this.pos = p;
    return argv;
  }

  /**
   * Set when an inline request is returned; whoever needs to know clears it
   * (the Lua debugger, whose protocol is multibulk only).
   */
  inlineSeen = false;

  private inline(): string[] | null {
    const buf = this.buf;
    const nl = buf.indexOf(0x0a, this.pos);
    if (nl < 0) {
      if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError('Protocol error: too big inline request');
      return null;
    }
    let end = nl;
    if (end > this.pos && buf[end - 1] === 0x0d) end--;
    const line = buf.latin1Slice(this.pos, end);
    this.pos = nl + 1;
    const argv = splitArgs(line);
    if (argv === null) throw new ProtocolError('Protocol error: unbalanced quotes in request');
    this.inlineSeen = true;
    if (argv.length > 0 && this.limits.authRequired && argv.length > 10) {
      // Redis applies no such check to inline requests; keep parity by not rejecting.
    }
    return argv;
  }

  private release(): void {
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
  }
}

/**
 * Recently seen command names, by a hash of length and end bytes. A pipeline
 * repeats a few names, so returning the same string saves a copy per command,
 * and the command table's Map lookup reuses the string's cached hash.
 */
const NAMES: string[] = new Array<string>(64).fill('');

function commandName(buf: Buffer, p: number, len: number): string {
  if (len === 0 || len > 32) return buf.latin1Slice(p, p + len);
  const slot = (len * 7 + buf[p] * 3 + buf[p + len - 1]) & 63;
  const s = NAMES[slot];
  if (s.length === len) {
    let i = 0;
    while (i < len && s.charCodeAt(i) === buf[p + i]) i++;
    if (i === len) return s;
  }
  return (NAMES[slot] = buf.latin1Slice(p, p + len));
}

const EMPTY_ARGV: string[] = [];
Object.freeze(EMPTY_ARGV);

/** Strict signed decimal parse of buf[start, end) as Redis's string2ll; null if invalid. */
function parseLongLong(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 20) return null;
  let i = start;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
    if (i === end) return null;
  }
  if (buf[i] === 0x30 && end - i > 1) return null;
  let v = 0;
  for (; i < end; i++) {
    const c = buf[i] - 0x30;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  if (v > Number.MAX_SAFE_INTEGER) return neg ? null : Number.MAX_SAFE_INTEGER;
  return neg ? -v : v;
}
