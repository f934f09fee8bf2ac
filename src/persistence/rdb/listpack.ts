/**
 * Listpacks, the compact encoding Redis 7.0 stores small hashes and sorted
 * sets in, list nodes as, and stream nodes as; RDB files and DUMP payloads
 * carry them verbatim.
 *
 * Layout: total bytes (u32 LE), element count (u16 LE, 65535 = unknown),
 * elements, 0xFF. An element is an encoding byte (+ data) followed by a
 * "back length" (the encoded element's size, written so it can be read
 * backwards). Integers use the smallest of: 7-bit unsigned, 13-bit, 16, 24,
 * 32, 64-bit signed; strings a 6-bit, 12-bit or 32-bit length. A string that
 * reads as a canonical int64 of at most 20 chars is stored as an integer
 * (lpAppend's rule), so ours are byte-identical to Redis's.
 */
import { ByteWriter, RdbFormatError } from './bytes.js';
import { parseInteger } from '../../util/numbers.js';

const HEADER = 6;
const EOF_BYTE = 0xff;
const NUMELE_UNKNOWN = 65535;

/** Bytes of the back length of an element whose encoding+data is l bytes. */
function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

function writeBacklen(w: ByteWriter, l: number): void {
  if (l <= 127) {
    w.u8(l);
  } else if (l < 16383) {
    w.u8(l >>> 7);
    w.u8((l & 127) | 128);
  } else if (l < 2097151) {
    w.u8(l >>> 14);
    w.u8(((l >>> 7) & 127) | 128);
    w.u8((l & 127) | 128);
  } else if (l < 268435455) {
    w.u8(l >>> 21);
    w.u8(((l >>> 14) & 127) | 128);
    w.u8(((l >>> 7) & 127) | 128);
    w.u8((l & 127) | 128);
  } else {
    w.u8(Math.floor(l / 2 ** 28));
    w.u8(((l >>> 21) & 127) | 128);
    w.u8(((l >>> 14) & 127) | 128);
    w.u8(((l >>> 7) & 127) | 128);
    w.u8((l & 127) | 128);
  }
}

/** Encoding+data size of an integer element. */
function intEncodedSize(v: number | bigint): number {
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

/** The integer a string element is stored as, or null (lpStringToInt64: canonical, at most 20 chars). */
export function listpackInt(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  const c = s.charCodeAt(0);
  // Fast reject: integers start with a digit or '-'.
  if (c !== 45 && (c < 48 || c > 57)) return null;
  return parseInteger(s);
}

/** Bytes one element holding `s` takes in a listpack (encoding, data and back length). */
export function listpackEntrySize(s: string): number {
  const v = listpackInt(s);
  let enc: number;
  if (v !== null) enc = intEncodedSize(v);
  else {
    const n = s.length;
    enc = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
  }
  return enc + backlenSize(enc);
}

/** Builds one listpack at a time in a reusable buffer. */
export class ListpackWriter {
  private w = new ByteWriter(4096);
  private count = 0;

  begin(): this {
    this.w.reset();
    this.w.ensure(HEADER);
    this.w.pos = HEADER;
    this.count = 0;
    return this;
  }

  /** Appends a string the way lpAppend does (integers are stored as integers). */
  addString(s: string): void {
    const v = listpackInt(s);
    if (v !== null) {
      this.addInt(v);
      return;
    }
    const w = this.w;
    const n = s.length;
    let enc: number;
    if (n < 64) {
      w.u8(0x80 | n);
      enc = 1 + n;
    } else if (n < 4096) {
      w.u8(0xe0 | (n >>> 8));
      w.u8(n & 0xff);
      enc = 2 + n;
    } else {
      w.u8(0xf0);
      w.u32le(n);
      enc = 5 + n;
    }
    w.latin1(s);
    writeBacklen(w, enc);
    this.count++;
  }

  /** Appends an int64 (lpAppendInteger). */
  addInt(v: number | bigint): void {
    const w = this.w;
    if (typeof v === 'bigint' && v >= -9007199254740991n && v <= 9007199254740991n) v = Number(v);
    if (typeof v === 'number' && v >= 0 && v <= 127) {
      w.u8(v);
      w.u8(1);
    } else if (typeof v === 'number' && v >= -4096 && v <= 4095) {
      const u = v < 0 ? v + 8192 : v;
      w.u8(0xc0 | (u >>> 8));
      w.u8(u & 0xff);
      w.u8(2);
    } else if (typeof v === 'number' && v >= -32768 && v <= 32767) {
      w.u8(0xf1);
      w.ensure(2);
      w.buf.writeInt16LE(v, w.pos);
      w.pos += 2;
      w.u8(3);
    } else if (typeof v === 'number' && v >= -8388608 && v <= 8388607) {
      w.u8(0xf2);
      const u = v < 0 ? v + 16777216 : v;
      w.u8(u & 0xff);
      w.u8((u >>> 8) & 0xff);
      w.u8((u >>> 16) & 0xff);
      w.u8(4);
    } else if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) {
      w.u8(0xf3);
      w.ensure(4);
      w.buf.writeInt32LE(v, w.pos);
      w.pos += 4;
      w.u8(5);
    } else {
      w.u8(0xf4);
      w.i64le(v);
      w.u8(9);
    }
    this.count++;
  }

  /** Finishes the listpack; returns a view valid until the next begin(). */
  finish(): Buffer {
    const w = this.w;
    w.u8(EOF_BYTE);
    w.buf.writeUInt32LE(w.pos, 0);
    w.buf.writeUInt16LE(this.count < NUMELE_UNKNOWN ? this.count : NUMELE_UNKNOWN, 4);
    return w.view();
  }
}

export type ListpackElement = string | number | bigint;

/**
 * Decodes and validates a listpack: header size, terminator, every element's
 * bounds and back length, and the element count. Integers come back as
 * numbers (or bigints beyond 2^53), strings as latin1 strings.
 */
export function readListpack(buf: Uint8Array): ListpackElement[] {
  const bad = (why: string): never => {
    throw new RdbFormatError(`Listpack integrity check failed: ${why}`);
  };
  const n = buf.length;
  if (n < HEADER + 1) bad('too short');
  const total = (buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24)) >>> 0;
  if (total !== n) bad('header size does not match the data');
  if (buf[n - 1] !== EOF_BYTE) bad('missing terminator');
  const declared = buf[4] | (buf[5] << 8);
  const out: ListpackElement[] = [];
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = HEADER;
  const end = n - 1;
  while (p < end) {
    const b = buf[p];
    let enc: number;
    let value: ListpackElement;
    if (b < 0x80) {
      enc = 1;
      value = b;
    } else if ((b & 0xc0) === 0x80) {
      const len = b & 0x3f;
      enc = 1 + len;
      if (p + enc > end) bad('string past the end');
      value = view.latin1Slice(p + 1, p + 1 + len);
    } else if ((b & 0xe0) === 0xc0) {
      if (p + 2 > end) bad('integer past the end');
      const u = ((b & 0x1f) << 8) | buf[p + 1];
      enc = 2;
      value = u >= 4096 ? u - 8192 : u;
    } else if ((b & 0xf0) === 0xe0) {
      if (p + 2 > end) bad('length past the end');
      const len = ((b & 0x0f) << 8) | buf[p + 1];
      enc = 2 + len;
      if (p + enc > end) bad('string past the end');
      value = view.latin1Slice(p + 2, p + 2 + len);
    } else if (b === 0xf0) {
      if (p + 5 > end) bad('length past the end');
      const len = view.readUInt32LE(p + 1);
      enc = 5 + len;
      if (p + enc > end) bad('string past the end');
      value = view.latin1Slice(p + 5, p + 5 + len);
    } else if (b === 0xf1) {
      if (p + 3 > end) bad('integer past the end');
      enc = 3;
      value = view.readInt16LE(p + 1);
    } else if (b === 0xf2) {
      if (p + 4 > end) bad('integer past the end');
      enc = 4;
      const u = buf[p + 1] | (buf[p + 2] << 8) | (buf[p + 3] << 16);
      value = u >= 0x800000 ? u - 0x1000000 : u;
    } else if (b === 0xf3) {
      if (p + 5 > end) bad('integer past the end');
      enc = 5;
      value = view.readInt32LE(p + 1);
    } else if (b === 0xf4) {
      if (p + 9 > end) bad('integer past the end');
      enc = 9;
      const big = view.readBigInt64LE(p + 1);
      value = big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
    } else {
      return bad(`invalid encoding byte 0x${b.toString(16)}`);
    }
    // The back length must describe this element.
    const bl = backlenSize(enc);
    if (p + enc + bl > end) bad('back length past the end');
    let l = 0;
    for (let k = 0; k < bl; k++) l = l * 128 + (buf[p + enc + k] & 127);
    if (l !== enc) bad('back length does not match the element');
    out.push(value);
    p += enc + bl;
  }
  if (declared !== NUMELE_UNKNOWN && declared !== out.length) bad('element count does not match the header');
  return out;
}

/** A listpack element as the string Redis would return for it. */
export function elementString(e: ListpackElement): string {
  return typeof e === 'string' ? e : String(e);
}
