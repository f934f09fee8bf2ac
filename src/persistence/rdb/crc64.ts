/**
 * CRC-64 as Redis computes it for RDB files and DUMP payloads: the "Jones"
 * polynomial 0xad93d23594c935a9, reflected input and output, initial value 0,
 * no final xor. Check value: crc64("123456789") = 0xe9c6d914c4b8d9ca.
 *
 * The 64-bit state is kept as two uint32 halves (no BigInt on the hot path)
 * and the input is consumed 8 bytes at a time with eight lookup tables
 * ("slicing by 8"), which is what makes checksumming a whole RDB cheap.
 */

const POLY = 0xad93d23594c935a9n;

/** The polynomial with its 64 bits reversed: the reflected algorithm shifts right. */
function reflect64(x: bigint): bigint {
  let r = 0n;
  for (let i = 0; i < 64; i++) {
    r = (r << 1n) | (x & 1n);
    x >>= 1n;
  }
  return r;
}

/** lo[k * 256 + i] / hi[k * 256 + i]: the tables of slicing-by-8, as uint32 halves. */
const LO = new Uint32Array(8 * 256);
const HI = new Uint32Array(8 * 256);

(function buildTables(): void {
  const rpoly = reflect64(POLY);
  for (let i = 0; i < 256; i++) {
    let crc = BigInt(i);
    for (let b = 0; b < 8; b++) crc = crc & 1n ? (crc >> 1n) ^ rpoly : crc >> 1n;
    LO[i] = Number(crc & 0xffffffffn);
    HI[i] = Number(crc >> 32n);
  }
  // T[k][i] = T[k-1][i] >> 8 ^ T[0][T[k-1][i] & 0xff]
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const plo = LO[(k - 1) * 256 + i];
      const phi = HI[(k - 1) * 256 + i];
      const idx = plo & 0xff;
      LO[k * 256 + i] = (((plo >>> 8) | (phi << 24)) ^ LO[idx]) >>> 0;
      HI[k * 256 + i] = ((phi >>> 8) ^ HI[idx]) >>> 0;
    }
  }
})();

/** An incremental CRC-64 (Redis's crc64(crc, buf, len) with a running crc). */
export class Crc64 {
  lo = 0;
  hi = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    // 8 bytes at a time (two little-endian words xored into the state), then single bytes.
    const stop8 = end - 8;
    while (i <= stop8) {
      const a = lo ^ view.getUint32(i, true);
      const b = hi ^ view.getUint32(i + 4, true);
      const i7 = 7 * 256 + (a & 0xff);
      const i6 = 6 * 256 + ((a >>> 8) & 0xff);
      const i5 = 5 * 256 + ((a >>> 16) & 0xff);
      const i4 = 4 * 256 + (a >>> 24);
      const i3 = 3 * 256 + (b & 0xff);
      const i2 = 2 * 256 + ((b >>> 8) & 0xff);
      const i1 = 256 + ((b >>> 16) & 0xff);
      const i0 = b >>> 24;
      lo = LO[i7] ^ LO[i6] ^ LO[i5] ^ LO[i4] ^ LO[i3] ^ LO[i2] ^ LO[i1] ^ LO[i0];
      hi = HI[i7] ^ HI[i6] ^ HI[i5] ^ HI[i4] ^ HI[i3] ^ HI[i2] ^ HI[i1] ^ HI[i0];
      i += 8;
    }
    for (; i < end; i++) {
      const idx = (lo ^ buf[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ LO[idx];
      hi = (hi >>> 8) ^ HI[idx];
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  /** The checksum as a 64-bit unsigned bigint. */
  value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  /** The 8 bytes Redis appends: the checksum little-endian. */
  bytesLE(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32LE(this.lo >>> 0, 0);
    out.writeUInt32LE(this.hi >>> 0, 4);
    return out;
  }

  /** Whether buf[at..at+8) holds this checksum (little-endian). */
  matchesLE(buf: Uint8Array, at: number): boolean {
    const lo = (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
    const hi = (buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24)) >>> 0;
    return lo === this.lo >>> 0 && hi === this.hi >>> 0;
  }
}

/** CRC-64 of buf[start, end). */
export function crc64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  return new Crc64().update(buf, start, end).value();
}
