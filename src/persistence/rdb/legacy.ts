/**
 * Readers for encodings older Redis versions wrote and Redis 7.0 still
 * loads: ziplists (lists, hashes and sorted sets before 7.0, quicklist v1
 * nodes) and zipmaps (hashes before 2.6). Mnemo never writes them.
 */
import { RdbFormatError } from './bytes.js';

export type ZiplistElement = string | number | bigint;

/** Decodes and validates a ziplist. */
export function readZiplist(buf: Buffer): ZiplistElement[] {
  const bad = (why: string): never => {
    throw new RdbFormatError(`Ziplist integrity check failed: ${why}`);
  };
  const n = buf.length;
  if (n < 11) bad('too short');
  if (buf.readUInt32LE(0) !== n) bad('header size does not match the data');
  if (buf[n - 1] !== 0xff) bad('missing terminator');
  const declared = buf.readUInt16LE(8);
  const out: ZiplistElement[] = [];
  let p = 10;
  const end = n - 1;
  let prevLen = 0;
  while (p < end) {
    const start = p;
    // prevlen: one byte, or 0xFE and four bytes.
    let pl: number;
    if (buf[p] < 254) {
      pl = buf[p];
      p += 1;
    } else {
      if (buf[p] === 255) bad('bad previous-entry length');
      if (p + 5 > end) bad('entry past the end');
      pl = buf.readUInt32LE(p + 1);
      p += 5;
    }
    if (pl !== prevLen) bad('previous-entry length does not match');
    if (p >= end) bad('entry past the end');
    const b = buf[p];
    let value: ZiplistElement;
    const top = b >> 6;
    if (top === 0 || top === 1 || b === 0x80) {
      let len: number;
      if (top === 0) {
        len = b & 0x3f;
        p += 1;
      } else if (top === 1) {
        if (p + 2 > end) bad('entry past the end');
        len = ((b & 0x3f) << 8) | buf[p + 1];
        p += 2;
      } else {
        if (p + 5 > end) bad('entry past the end');
        len = buf.readUInt32BE(p + 1);
        p += 5;
      }
      if (p + len > end) bad('string past the end');
      value = buf.latin1Slice(p, p + len);
      p += len;
    } else {
      p += 1;
      let size: number;
      if (b === 0xc0) size = 2;
      else if (b === 0xd0) size = 4;
      else if (b === 0xe0) size = 8;
      else if (b === 0xf0) size = 3;
      else if (b === 0xfe) size = 1;
      else if (b >= 0xf1 && b <= 0xfd) size = 0;
      else return bad(`invalid encoding byte 0x${b.toString(16)}`);
      if (p + size > end) bad('integer past the end');
      if (size === 0) value = (b & 0x0f) - 1;
      else if (size === 1) value = buf.readInt8(p);
      else if (size === 2) value = buf.readInt16LE(p);
      else if (size === 3) value = buf.readIntLE(p, 3);
      else if (size === 4) value = buf.readInt32LE(p);
      else {
        const big = buf.readBigInt64LE(p);
        value = big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
      }
      p += size;
    }
    out.push(value);
    prevLen = p - start;
  }
  if (declared !== 65535 && declared !== out.length) bad('element count does not match the header');
  return out;
}

/** Decodes a zipmap (field, value, field, value, ...). */
export function readZipmap(buf: Buffer): string[] {
  const bad = (why: string): never => {
    throw new RdbFormatError(`Zipmap integrity check failed: ${why}`);
  };
  const out: string[] = [];
  const end = buf.length;
  if (end < 2) bad('too short');
  let p = 1; // skip zmlen
  const readLen = (): number => {
    if (p >= end) bad('entry past the end');
    const b = buf[p];
    if (b < 254) {
      p += 1;
      return b;
    }
    if (b === 254) {
      if (p + 5 > end) bad('entry past the end');
      const len = buf.readUInt32LE(p + 1);
      p += 5;
      return len;
    }
    return bad('unexpected terminator');
  };
  for (;;) {
    if (p >= end) bad('missing terminator');
    if (buf[p] === 255) break;
    const klen = readLen();
    if (p + klen > end) bad('key past the end');
    out.push(buf.latin1Slice(p, p + klen));
    p += klen;
    const vlen = readLen();
    if (p >= end) bad('entry past the end');
    const free = buf[p++];
    if (p + vlen + free > end) bad('value past the end');
    out.push(buf.latin1Slice(p, p + vlen));
    p += vlen + free;
  }
  if (p !== end - 1) bad('data after the terminator');
  // As Redis's zipmapValidateIntegrity: not empty, and a header count (254: unknown) that matches.
  if (out.length === 0) bad('empty');
  if (buf[0] !== 254 && buf[0] !== out.length / 2) bad('count does not match the header');
  return out;
}
