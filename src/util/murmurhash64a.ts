/**
 * MurmurHash64A (Austin Appleby's 64-bit MurmurHash2 variant for 64-bit
 * platforms), the hash Redis's HyperLogLog applies to every element.
 *
 * The 64-bit arithmetic is done on two uint32 halves so the hot path
 * (PFADD) allocates nothing and never touches BigInt. Blocks and the tail are
 * read little-endian, as Redis does on every platform.
 */

/** The multiplier m = 0xc6a4a7935bd1e995, as 32-bit halves and the low half's 16-bit limbs. */
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const M_LO_0 = M_LO & 0xffff;
const M_LO_1 = M_LO >>> 16;

/** The result of the last hash: out[0] = low 32 bits, out[1] = high 32 bits. */
export const murmurOut = new Uint32Array(2);

// A 64-bit product x * m mod 2^64 is computed as two pure functions of x's
// halves, so V8 inlines them and keeps everything in registers (returning a
// pair through module state was twice as slow).

/** Low 32 bits of x * m: only x's low half contributes. */
function mulLo(lo: number): number {
  return Math.imul(lo, M_LO);
}

/** High 32 bits of (hi:lo) * m mod 2^64. */
function mulHi(hi: number, lo: number): number {
  // The carry out of lo * M_LO, from 16-bit limbs (every partial product < 2^32, exact in doubles).
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const p00 = a0 * M_LO_0;
  const p01 = a0 * M_LO_1;
  const p10 = a1 * M_LO_0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const carry = a1 * M_LO_1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  // The cross terms only matter modulo 2^32.
  return (carry + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) | 0;
}

/**
 * Hashes the bytes of a latin1 string (one char per byte) with a 64-bit seed
 * given as halves. The 64-bit result goes to `murmurOut`; the low half is
 * also returned.
 */
export function murmurHash64AInto(data: string, seedHi: number, seedLo: number): number {
  const len = data.length;
  // h = seed ^ (len * m); a JS string is far shorter than 2^32 bytes.
  let hLo = mulLo(len) ^ seedLo;
  let hHi = mulHi(0, len) ^ seedHi;
  let t: number;

  const blocksEnd = len - (len & 7);
  let i = 0;
  for (; i < blocksEnd; i += 8) {
    let kLo = data.charCodeAt(i) | (data.charCodeAt(i + 1) << 8) | (data.charCodeAt(i + 2) << 16) | (data.charCodeAt(i + 3) << 24);
    let kHi = data.charCodeAt(i + 4) | (data.charCodeAt(i + 5) << 8) | (data.charCodeAt(i + 6) << 16) | (data.charCodeAt(i + 7) << 24);
    // k *= m; k ^= k >> 47; k *= m
    t = mulHi(kHi, kLo);
    kLo = mulLo(kLo);
    kHi = t;
    kLo ^= kHi >>> 15;
    t = mulHi(kHi, kLo);
    kLo = mulLo(kLo);
    kHi = t;
    // h ^= k; h *= m
    hLo ^= kLo;
    hHi ^= kHi;
    t = mulHi(hHi, hLo);
    hLo = mulLo(hLo);
    hHi = t;
  }

  // The 1..7 tail bytes go in at their little-endian positions, then one multiply.
  switch (len & 7) {
    case 7:
      hHi ^= data.charCodeAt(i + 6) << 16;
    // falls through
    case 6:
      hHi ^= data.charCodeAt(i + 5) << 8;
    // falls through
    case 5:
      hHi ^= data.charCodeAt(i + 4);
    // falls through
    case 4:
      hLo ^= data.charCodeAt(i + 3) << 24;
    // falls through
    case 3:
      hLo ^= data.charCodeAt(i + 2) << 16;
    // falls through
    case 2:
      hLo ^= data.charCodeAt(i + 1) << 8;
    // falls through
    case 1:
      hLo ^= data.charCodeAt(i);
      t = mulHi(hHi, hLo);
      hLo = mulLo(hLo);
      hHi = t;
  }

  // h ^= h >> 47; h *= m; h ^= h >> 47
  hLo ^= hHi >>> 15;
  t = mulHi(hHi, hLo);
  hLo = mulLo(hLo);
  hHi = t;
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  murmurOut[0] = hLo;
  murmurOut[1] = hHi;
  return hLo;
}

/** Convenience form for tests and tools: the 64-bit hash as a BigInt. */
export function murmurHash64A(data: string | Uint8Array, seed: bigint): bigint {
  const s = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).latin1Slice();
  const seed64 = BigInt.asUintN(64, seed);
  murmurHash64AInto(s, Number(seed64 >> 32n), Number(seed64 & 0xffffffffn));
  return (BigInt(murmurOut[1]) << 32n) | BigInt(murmurOut[0]);
}
