/**
 * RESP encoding of commands as the AOF stores them: every command is a
 * multibulk array of bulk strings ("*<n>\r\n$<len>\r\n<arg>\r\n..."), the
 * format Redis writes and reads. Arguments are latin1 strings (one char per
 * byte), so byte lengths are string lengths.
 */

const INITIAL_SIZE = 64 * 1024;

/** A growable byte buffer that commands are appended to (Redis's aof_buf). */
export class CommandBuffer {
  buf: Buffer;
  len = 0;

  constructor(initialSize = INITIAL_SIZE) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Appends one command as a RESP array of bulk strings. */
  appendCommand(argv: readonly string[]): void {
    let size = 16;
    for (let i = 0; i < argv.length; i++) size += argv[i].length + 16;
    this.ensure(size);
    const b = this.buf;
    let p = this.len;
    b[p++] = 0x2a; // '*'
    p += b.latin1Write(String(argv.length), p);
    b[p++] = 0x0d;
    b[p++] = 0x0a;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const n = a.length;
      b[p++] = 0x24; // '$'
      p += b.latin1Write(String(n), p);
      b[p++] = 0x0d;
      b[p++] = 0x0a;
      if (n > 0) p += b.latin1Write(a, p, n);
      b[p++] = 0x0d;
      b[p++] = 0x0a;
    }
    this.len = p;
  }

  /** Appends raw protocol text (annotations such as "#TS:...\r\n"). */
  appendRaw(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.latin1Write(s, this.len, s.length);
  }

  appendBuffer(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /** The pending bytes (a view, valid until the next append or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** Forgets the pending bytes, shrinking a buffer that a huge command grew. */
  reset(): void {
    this.len = 0;
    if (this.buf.length > 4 * 1024 * 1024) this.buf = Buffer.allocUnsafe(INITIAL_SIZE);
  }

  /** Drops the first n bytes (after a partial write). */
  consume(n: number): void {
    if (n >= this.len) {
      this.reset();
      return;
    }
    this.buf.copy(this.buf, 0, n, this.len);
    this.len -= n;
  }
}

/** One command as a RESP array of bulk strings. */
export function encodeCommand(argv: readonly string[]): Buffer {
  const b = new CommandBuffer(256);
  b.appendCommand(argv);
  return Buffer.from(b.view());
}
