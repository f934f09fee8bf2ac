/**
 * A growable output buffer for building RDB bytes, and the bounds-checked
 * reader the decoder uses. Strings are latin1 (one char per byte) throughout.
 */

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  u16le(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  u32le(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  u32be(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** A 64-bit value (two's complement for negatives) little-endian. */
  i64le(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), this.pos);
    this.pos += 8;
  }

  u64be(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v)), this.pos);
    this.pos += 8;
  }

  f64le(d: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(d, this.pos);
    this.pos += 8;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  latin1(s: string): void {
    const n = s.length;
    if (n === 0) return;
    this.ensure(n);
    if (n <= 16) {
      // Short strings (most keys): a plain loop beats the native call's overhead.
      const b = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
    } else {
      this.buf.latin1Write(s, this.pos, n);
    }
    this.pos += n;
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far; the writer starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }

  reset(): void {
    this.pos = 0;
  }
}

/** A structural problem in RDB data: truncated, impossible lengths, bad encodings. */
export class RdbFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RdbFormatError';
  }
}

/** Reads from a buffer with every access bounds-checked (truncation is an error, never garbage). */
export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new RdbFormatError('Unexpected end of data (the file or payload is truncated)');
  }

  u8(): number {
    if (this.pos >= this.end) this.need(1);
    return this.buf[this.pos++];
  }

  u16le(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32le(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i32le(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u32be(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64be(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  i64le(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  f64le(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  f32le(): number {
    this.need(4);
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  /** n bytes as a view (no copy). */
  slice(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  latin1(n: number): string {
    this.need(n);
    const s = n === 0 ? '' : this.buf.latin1Slice(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
