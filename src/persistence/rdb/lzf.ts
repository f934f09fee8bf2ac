/**
 * LZF, the compression Redis applies to RDB strings longer than 20 bytes
 * (rdbcompression yes) and to compressed quicklist nodes.
 *
 * Format: a sequence of runs.
 *   000LLLLL + L+1 literal bytes
 *   LLLooooo oooooooo             back reference of L+2 bytes (L in 1..6)
 *   111ooooo LLLLLLLL oooooooo    back reference of L+9 bytes
 * where the offset o (13 bits) counts back from the current position minus 1.
 *
 * The compressor makes the same choices as the liblzf 3.6 build Redis ships
 * (hash of the next three bytes into a 2^16 table, VERY_FAST re-seeding after
 * a match), so the output matches Redis byte for byte: DUMP payloads of
 * compressible strings are identical to Redis's. Redis leaves its hash table
 * uninitialised; we start each call from an empty table, which is what a
 * zeroed table gives and what Redis gives whenever stale slots do not happen
 * to point into the current input.
 */

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/** Hash slots: input position of the last occurrence, valid when stamp[i] === generation. */
const slotPos = new Int32Array(HSIZE);
const slotStamp = new Uint32Array(HSIZE);
let generation = 0;

/** liblzf's IDX(h) for HLOG 16 and VERY_FAST: ((h >> 8) - h*5) & 0xffff, in uint32 arithmetic. */
function idx(h: number): number {
  return ((h >>> 8) - Math.imul(h, 5)) & (HSIZE - 1);
}

let outScratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Compresses `input` into at most `maxOut` bytes. Returns null when the
 * result would not fit (Redis's lzf_compress returning 0), otherwise a view
 * on a shared scratch buffer that stays valid until the next call.
 */
export function lzfCompress(input: Uint8Array, maxOut: number): Buffer | null {
  const inLen = input.length;
  if (inLen === 0 || maxOut <= 0) return null;
  if (outScratch.length < maxOut + 8) outScratch = Buffer.allocUnsafe(Math.max(maxOut + 8, outScratch.length * 2));
  const out = outScratch;
  generation = (generation + 1) >>> 0;
  if (generation === 0) {
    slotStamp.fill(0);
    generation = 1;
  }
  const gen = generation;
  const outEnd = maxOut;
  const inEnd = inLen;
  let ip = 0;
  let op = 0;
  let lit = 0;
  op++; // start a literal run

  let hval = ((input[0] << 8) | input[1]) >>> 0;
  while (ip < inEnd - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0;
    const slot = idx(hval);
    const ref = slotStamp[slot] === gen ? slotPos[slot] : -1;
    slotPos[slot] = ip;
    slotStamp[slot] = gen;
    let off = 0;
    if (
      ref > 0 &&
      (off = ip - ref - 1) < MAX_OFF &&
      ip + 4 < inEnd &&
      input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1] &&
      input[ref + 2] === input[ip + 2]
    ) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      out[op - lit - 1] = lit - 1; // close the literal run
      if (lit === 0) op--; // an empty run takes no byte
      if (op + 3 + 1 >= outEnd) return null;
      // Extend the match; liblzf checks 16 bytes unconditionally first when maxlen > 16.
      let stopped = false;
      if (maxlen > 16) {
        for (let k = 0; k < 16; k++) {
          len++;
          if (input[ref + len] !== input[ip + len]) {
            stopped = true;
            break;
          }
        }
      }
      if (!stopped) {
        do len++;
        while (len < maxlen && input[ref + len] === input[ip + len]);
      }
      len -= 2; // encoded length: bytes copied minus 2
      ip++;
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start a new literal run
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      // VERY_FAST: re-hash the two positions before the new ip.
      ip -= 2;
      hval = ((input[ip] << 8) | input[ip + 1]) >>> 0;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      let s = idx(hval);
      slotPos[s] = ip;
      slotStamp[s] = gen;
      ip++;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      s = idx(hval);
      slotPos[s] = ip;
      slotStamp[s] = gen;
      ip++;
    } else {
      if (op >= outEnd) return null;
      lit++;
      out[op++] = input[ip++];
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }
  if (op + 3 > outEnd) return null;
  while (ip < inEnd) {
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  return out.subarray(0, op);
}

/** Thrown for compressed data that does not decode to exactly the expected length. */
export class LzfError extends Error {}

/**
 * Decompresses `input` into exactly `outLen` bytes: a new Buffer, or the
 * first `outLen` bytes of `into` when given (it must be that large).
 */
export function lzfDecompress(input: Uint8Array, outLen: number, into?: Buffer): Buffer {
  const out = into ?? Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 0;
  const inEnd = input.length;
  while (ip < inEnd) {
    const ctrl = input[ip++];
    if (ctrl < 1 << 5) {
      const n = ctrl + 1;
      if (op + n > outLen) throw new LzfError('LZF output overflow');
      if (ip + n > inEnd) throw new LzfError('LZF input truncated');
      for (let k = 0; k < n; k++) out[op + k] = input[ip + k];
      op += n;
      ip += n;
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= inEnd) throw new LzfError('LZF input truncated');
        len += input[ip++];
      }
      if (ip >= inEnd) throw new LzfError('LZF input truncated');
      const ref = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++];
      len += 2;
      if (op + len > outLen) throw new LzfError('LZF output overflow');
      if (ref < 0) throw new LzfError('LZF back reference before the start');
      // Byte by byte: a reference may overlap the bytes it produces.
      for (let k = 0; k < len; k++) out[op + k] = out[ref + k];
      op += len;
    }
  }
  if (op !== outLen) throw new LzfError('LZF output shorter than declared');
  return into === undefined || into.length === outLen ? out : out.subarray(0, outLen);
}
