/**
 * Reply writer: appends RESP2/RESP3 frames to one growable output buffer.
 * Handlers call these methods directly, so a reply costs no intermediate objects;
 * the connection flushes the buffer once per socket read (see net/connection.ts).
 *
 * Strings are latin1 ("binary") JS strings: one char per byte, written with latin1.
 */

import { formatDouble17g } from '../util/numbers.js';
import { putDecimal, putLatin1 } from '../util/latin1.js';

const INITIAL_SIZE = 16 * 1024;

/** Redis 7.0 replies doubles as printf("%.17g"), with inf/-inf/nan spelled its way. */
export const formatDouble = formatDouble17g;

/** Redis's PROTO_REPLY_MIN_BYTES and PROTO_REPLY_CHUNK_BYTES: the reply buffer's size range. */
export const REPLY_BUFFER_MIN = 1024;
export const REPLY_BUFFER_MAX = INITIAL_SIZE;

export class ReplyWriter {
  out: Buffer = Buffer.allocUnsafe(INITIAL_SIZE);
  len = 0;
  /**
   * Size of the reply buffer proper (Redis's buf_usable_size, CLIENT LIST rbs): what `out`
   * returns to once flushed. A reply batch larger than it grows `out` for the time being,
   * as Redis spills into its reply list. The cron resizes it (resizeReplyBuffer).
   */
  bufSize = INITIAL_SIZE;
  /** Most of `bufSize` used at a flush since the last peak reset (Redis's buf_peak, rbp). */
  bufPeak = INITIAL_SIZE;
  /** When bufPeak was last reset (server clock, ms). */
  bufPeakResetAt = 0;
  /** Protocol version negotiated with HELLO: 2 or 3. */
  resp: 2 | 3 = 2;

  /** Makes room for `extra` more bytes in `out` (for code that writes frames in place). */
  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.out.length) return;
    this.grow(need);
  }

  /** Enlarges `out` to hold `need` bytes. Client overrides it to apply output buffer limits. */
  protected grow(need: number): void {
    let size = this.out.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.out.copy(next, 0, 0, this.len);
    this.out = next;
  }

  /** Takes the pending bytes and resets the buffer (shrinking it if a huge reply grew it). */
  takeOutput(): Buffer {
    const n = this.len;
    const chunk = Buffer.allocUnsafe(n);
    this.out.copy(chunk, 0, 0, n);
    this.len = 0;
    const used = n < this.bufSize ? n : this.bufSize;
    if (used > this.bufPeak) this.bufPeak = used;
    if (this.out.length > 1024 * 1024) this.out = Buffer.allocUnsafe(this.bufSize);
    return chunk;
  }

  /**
   * The pending bytes as a view of `out`, without a copy, for one socket write; resets the
   * buffer. The caller then says with outputWritten whether the socket kept the bytes.
   */
  outputView(): Buffer {
    const n = this.len;
    this.len = 0;
    const used = n < this.bufSize ? n : this.bufSize;
    if (used > this.bufPeak) this.bufPeak = used;
    return this.out.subarray(0, n);
  }

  /**
   * After writing outputView(): `kept` when the socket could not send everything at once
   * and holds on to the bytes (they are still `out`'s memory), so `out` is replaced; a
   * buffer a huge reply grew is given up too, as takeOutput does.
   */
  outputWritten(kept: boolean): void {
    if (kept || this.out.length > 1024 * 1024) this.out = Buffer.allocUnsafe(this.bufSize);
  }

  /** Appends raw protocol text (ASCII/latin1). */
  addRaw(s: string): void {
    const n = s.length;
    this.ensure(n);
    this.len = putLatin1(this.out, this.len, s);
  }

  /** Appends bytes (a short frame is copied by a JS loop, cheaper than a call into native code). */
  addRawBuffer(b: Buffer): void {
    const n = b.length;
    this.ensure(n);
    const o = this.out;
    const p = this.len;
    if (n <= 64) for (let i = 0; i < n; i++) o[p + i] = b[i];
    else o.set(b, p);
    this.len = p + n;
  }

  /** prefix char + decimal n + CRLF (array, map, set and push headers, integers). */
  private prefixed(prefix: string, n: number): void {
    this.ensure(32); // prefix, up to 25 chars of String(n), CRLF
    const o = this.out;
    o[this.len] = prefix.charCodeAt(0);
    let p = putDecimal(o, this.len + 1, n);
    o[p++] = 0x0d;
    o[p++] = 0x0a;
    this.len = p;
  }

  addOK(): void {
    this.ensure(5);
    const o = this.out;
    let p = this.len;
    o[p++] = 0x2b; o[p++] = 0x4f; o[p++] = 0x4b; o[p++] = 0x0d; o[p++] = 0x0a;
    this.len = p;
  }

  addSimple(s: string): void {
    this.ensure(s.length + 3);
    const o = this.out;
    o[this.len] = 0x2b;
    let p = putLatin1(o, this.len + 1, s);
    o[p++] = 0x0d;
    o[p++] = 0x0a;
    this.len = p;
  }

  /** Error reply; `msg` is the full text including its code, e.g. "ERR syntax error". */
  addError(msg: string): void {
    // Redis replaces newlines in error text so the reply stays one line.
    if (msg.indexOf('\r') >= 0 || msg.indexOf('\n') >= 0) msg = msg.replace(/[\r\n]/g, ' ');
    this.ensure(msg.length + 3);
    const o = this.out;
    o[this.len] = 0x2d;
    let p = putLatin1(o, this.len + 1, msg);
    o[p++] = 0x0d;
    o[p++] = 0x0a;
    this.len = p;
    this.onError(msg);
  }

  /** Hook for error statistics; overridden by Client. */
  protected onError(_msg: string): void {}

  /** An integer reply from its decimal text (a value INCR just stored, say), without concatenating. */
  addIntText(digits: string): void {
    this.ensure(digits.length + 3);
    const o = this.out;
    o[this.len] = 0x3a; // ':'
    let p = putLatin1(o, this.len + 1, digits);
    o[p++] = 0x0d;
    o[p++] = 0x0a;
    this.len = p;
  }

  addInt(n: number | bigint): void {
    if (typeof n === 'bigint') this.addRaw(':' + n + '\r\n');
    else this.prefixed(':', n);
  }

  addBulk(s: string): void {
    const l = s.length;
    this.ensure(l + 24);
    const o = this.out;
    o[this.len] = 0x24;
    let p = putDecimal(o, this.len + 1, l);
    o[p++] = 0x0d;
    o[p++] = 0x0a;
    p = putLatin1(o, p, s);
    o[p++] = 0x0d;
    o[p++] = 0x0a;
    this.len = p;
  }

  addBulkBuffer(b: Buffer): void {
    this.prefixed('$', b.length);
    this.ensure(b.length + 2);
    b.copy(this.out, this.len);
    let p = this.len + b.length;
    this.out[p++] = 0x0d;
    this.out[p++] = 0x0a;
    this.len = p;
  }

  /** Null bulk string (RESP2 `$-1`, RESP3 `_`). */
  addNull(): void {
    this.addRaw(this.resp === 3 ? '_\r\n' : '$-1\r\n');
  }

  /** Null array (RESP2 `*-1`, RESP3 `_`). */
  addNullArray(): void {
    this.addRaw(this.resp === 3 ? '_\r\n' : '*-1\r\n');
  }

  addArrayLen(n: number): void {
    this.prefixed('*', n);
  }

  /** A map header: RESP3 `%n`, RESP2 a flat array of 2n elements. */
  addMapLen(n: number): void {
    if (this.resp === 3) this.prefixed('%', n);
    else this.prefixed('*', n * 2);
  }

  /** A set header: RESP3 `~n`, RESP2 an array. */
  addSetLen(n: number): void {
    this.prefixed(this.resp === 3 ? '~' : '*', n);
  }

  /** Push header (RESP3 `>n`; RESP2 clients get an array, as Redis does for pub/sub). */
  addPushLen(n: number): void {
    this.prefixed(this.resp === 3 ? '>' : '*', n);
  }

  /** A double: RESP3 `,d`, RESP2 a bulk string in Redis's %.17g form. */
  addDouble(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) this.addRaw(',' + s + '\r\n');
    else this.addBulk(s);
  }

  /** Boolean: RESP3 `#t`/`#f`, RESP2 integer 1/0. */
  addBool(b: boolean): void {
    if (this.resp === 3) this.addRaw(b ? '#t\r\n' : '#f\r\n');
    else this.addRaw(b ? ':1\r\n' : ':0\r\n');
  }

  /** Big number: RESP3 `(`, RESP2 bulk string. */
  addBigNumber(s: string): void {
    if (this.resp === 3) this.addRaw('(' + s + '\r\n');
    else this.addBulk(s);
  }

  /** Verbatim string: RESP3 `=len\r\ntxt:...`, RESP2 bulk string. */
  addVerbatim(s: string, format = 'txt'): void {
    if (this.resp === 3) {
      this.prefixed('=', s.length + 4);
      this.addRaw(format + ':');
      this.addRaw(s);
      this.addRaw('\r\n');
    } else this.addBulk(s);
  }

  addBulks(items: readonly string[]): void {
    this.addArrayLen(items.length);
    for (let i = 0; i < items.length; i++) this.addBulk(items[i]);
  }

  /** An empty array `*0`. */
  addEmptyArray(): void {
    this.addRaw('*0\r\n');
  }
}
