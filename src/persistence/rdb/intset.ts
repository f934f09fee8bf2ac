/**
 * Intsets, Redis's encoding of small all-integer sets (RDB_TYPE_SET_INTSET):
 * width in bytes (u32 LE: 2, 4 or 8), member count (u32 LE), then the members
 * sorted ascending, each `width` bytes little-endian two's complement.
 */
import { ByteWriter, RdbFormatError } from './bytes.js';
import { parseInteger } from '../../util/numbers.js';

const scratch = new ByteWriter(1024);

function widthOf(v: number | bigint): number {
  if (v >= -32768 && v <= 32767) return 2;
  if (v >= -2147483648 && v <= 2147483647) return 4;
  return 8;
}

/**
 * The intset blob for members (canonical integer strings, ascending), at the
 * smallest width holding them all. A view valid until the next call.
 */
export function buildIntset(members: readonly string[]): Buffer {
  const values: Array<number | bigint> = new Array(members.length);
  let width = 2;
  for (let i = 0; i < members.length; i++) {
    const v = parseInteger(members[i]);
    if (v === null) throw new Error(`intset member is not an integer: ${members[i]}`);
    values[i] = v;
    const w = widthOf(v);
    if (w > width) width = w;
  }
  const w = scratch;
  w.reset();
  w.u32le(width);
  w.u32le(values.length);
  w.ensure(values.length * width);
  for (const v of values) {
    if (width === 2) w.buf.writeInt16LE(Number(v), w.pos);
    else if (width === 4) w.buf.writeInt32LE(Number(v), w.pos);
    else w.buf.writeBigInt64LE(BigInt(v), w.pos);
    w.pos += width;
  }
  return w.view();
}

/** Decodes and validates an intset: sizes, and members strictly ascending. */
export function readIntset(buf: Buffer): string[] {
  if (buf.length < 8) throw new RdbFormatError('Intset integrity check failed: too short');
  const width = buf.readUInt32LE(0);
  const count = buf.readUInt32LE(4);
  if (width !== 2 && width !== 4 && width !== 8) throw new RdbFormatError('Intset integrity check failed: bad encoding');
  if (8 + count * width !== buf.length) throw new RdbFormatError('Intset integrity check failed: size does not match the count');
  const out: string[] = new Array(count);
  let prev: number | bigint | null = null;
  for (let i = 0; i < count; i++) {
    const p = 8 + i * width;
    const v: number | bigint = width === 2 ? buf.readInt16LE(p) : width === 4 ? buf.readInt32LE(p) : buf.readBigInt64LE(p);
    if (prev !== null && !(v > prev)) throw new RdbFormatError('Intset integrity check failed: members not sorted or repeated');
    prev = v;
    out[i] = String(v);
  }
  return out;
}
