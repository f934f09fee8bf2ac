/**
 * The FUNCTION DUMP payload, in Redis 7.0's format: for each library the RDB
 * opcode FUNCTION2 (245) and the library code as an RDB string, then the RDB
 * version (10, two bytes little endian) and a CRC64 (Jones polynomial, as
 * Redis's crc64.c) of everything before it, eight bytes little endian.
 *
 * We write strings uncompressed (a valid RDB string Redis reads back); Redis
 * LZF-compresses strings over 20 bytes when that saves space, so DUMP bytes
 * can differ from Redis's for such libraries, while RESTORE reads both.
 */

const RDB_OPCODE_FUNCTION2 = 245;
const RDB_OPCODE_FUNCTION_PRE_GA = 246;
const RDB_VERSION = 10;

// ---- CRC64 (reflected Jones polynomial, init 0, no final xor) -------------------------

const CRC_TABLE: bigint[] = (() => {
  const poly = 0x95ac9329ac4bc9b5n;
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let crc = BigInt(i);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
    table.push(crc);
  }
  return table;
})();

export function crc64(data: Uint8Array, crc = 0n): bigint {
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[Number((crc ^ BigInt(data[i])) & 0xffn)] ^ (crc >> 8n);
  return crc;
}

// ---- RDB strings ---------------------------------------------------------------

function saveLen(out: number[], len: number): void {
  if (len < 1 << 6) out.push(len);
  else if (len < 1 << 14) out.push(0x40 | (len >> 8), len & 0xff);
  else if (len <= 0xffffffff) out.push(0x80, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  else {
    out.push(0x81);
    const b = BigInt(len);
    for (let i = 7; i >= 0; i--) out.push(Number((b >> BigInt(i * 8)) & 0xffn));
  }
}

/** Library codes, one FUNCTION2 record each, with the version and CRC footer. */
export function encodeFunctionsPayload(codes: readonly string[]): string {
  const out: number[] = [];
  for (const code of codes) {
    out.push(RDB_OPCODE_FUNCTION2);
    saveLen(out, code.length);
    for (let i = 0; i < code.length; i++) out.push(code.charCodeAt(i) & 0xff);
  }
  out.push(RDB_VERSION & 0xff, (RDB_VERSION >> 8) & 0xff);
  const body = Uint8Array.from(out);
  let crc = crc64(body);
  const tail: number[] = [];
  for (let i = 0; i < 8; i++) {
    tail.push(Number(crc & 0xffn));
    crc >>= 8n;
  }
  return Buffer.from([...body, ...tail]).toString('latin1');
}

/** verifyDumpPayload: the RDB version is not newer than ours and the CRC matches. */
export function verifyPayload(payload: Buffer): boolean {
  const len = payload.length;
  if (len < 10) return false;
  const rdbver = payload[len - 10] | (payload[len - 9] << 8);
  if (rdbver > RDB_VERSION) return false;
  let crc = crc64(payload.subarray(0, len - 8));
  for (let i = 0; i < 8; i++) {
    if (payload[len - 8 + i] !== Number(crc & 0xffn)) return false;
    crc >>= 8n;
  }
  return true;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  byte(): number {
    if (this.pos >= this.buf.length) throw new PayloadError();
    return this.buf[this.pos++];
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new PayloadError();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** rdbLoadLen: [value, isEncoded]. */
  len(): [number, boolean] {
    const b = this.byte();
    const type = b >> 6;
    if (type === 0) return [b & 0x3f, false];
    if (type === 1) return [((b & 0x3f) << 8) | this.byte(), false];
    if (type === 3) return [b & 0x3f, true];
    if (b === 0x80) return [this.bytes(4).readUInt32BE(0), false];
    if (b === 0x81) return [Number(this.bytes(8).readBigUInt64BE(0)), false];
    throw new PayloadError();
  }
  /** rdbGenericLoadStringObject. */
  string(): string {
    const [len, encoded] = this.len();
    if (!encoded) return this.bytes(len).toString('latin1');
    switch (len) {
      case 0: return String(this.bytes(1).readInt8(0));
      case 1: return String(this.bytes(2).readInt16LE(0));
      case 2: return String(this.bytes(4).readInt32LE(0));
      case 3: {
        const [clen] = this.len();
        const [ulen] = this.len();
        return lzfDecompress(this.bytes(clen), ulen).toString('latin1');
      }
      default:
        throw new PayloadError();
    }
  }
}

class PayloadError extends Error {}

/** lzf_decompress (liblzf's format, as Redis writes it). */
function lzfDecompress(input: Buffer, outLen: number): Buffer {
  const out = Buffer.alloc(outLen);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    let ctrl = input[ip++];
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLen || ip + ctrl > input.length) throw new PayloadError();
      input.copy(out, op, ip, ip + ctrl);
      op += ctrl;
      ip += ctrl;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (len === 7) len += input[ip++];
      ref -= input[ip++];
      len += 2;
      if (op + len > outLen || ref < 0) throw new PayloadError();
      for (let i = 0; i < len; i++) out[op++] = out[ref++];
    }
  }
  if (op !== outLen) throw new PayloadError();
  return out;
}

/** The library codes in a verified payload, or the error Redis gives. */
export function decodeFunctionsPayload(payload: Buffer): { codes: string[] } | { error: string } {
  const r = new Reader(payload);
  const codes: string[] = [];
  try {
    while (payload.length - r.pos > 10) {
      const type = r.byte();
      if (type === RDB_OPCODE_FUNCTION_PRE_GA) return { error: 'Pre-GA function format not supported' };
      if (type !== RDB_OPCODE_FUNCTION2) return { error: 'given type is not a function' };
      codes.push(r.string());
    }
  } catch (e) {
    if (e instanceof PayloadError) return { error: 'Failed loading library payload' };
    throw e;
  }
  return { codes };
}
