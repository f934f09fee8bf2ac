/**
 * DUMP / RESTORE payloads, as Redis builds them (createDumpPayload /
 * verifyDumpPayload): the value's RDB type byte and encoding, then the RDB
 * version as 2 little-endian bytes, then the CRC-64 of everything before it,
 * 8 bytes little-endian.
 */
import { ByteWriter, ByteReader, RdbFormatError } from './bytes.js';
import { Crc64 } from './crc64.js';
import { RDB_VERSION } from './constants.js';
import { writeTypedObject, type EncodeOptions } from './encode.js';
import { readObject, type DecodeLimits } from './decode.js';
import type { Value } from '../../data/values.js';

const w = new ByteWriter(4096);

export function createDumpPayload(v: Value, opts: EncodeOptions): Buffer {
  w.reset();
  writeTypedObject(w, v, opts);
  return sealDumpPayload(w);
}

/** Appends the footer (RDB version, 2 bytes little-endian, and the CRC-64 of all before it) and returns a copy of the payload. */
export function sealDumpPayload(w: ByteWriter): Buffer {
  w.u8(RDB_VERSION & 0xff);
  w.u8((RDB_VERSION >> 8) & 0xff);
  const crc = new Crc64().update(w.buf, 0, w.pos);
  w.bytes(crc.bytesLE());
  return Buffer.from(w.view());
}

/** verifyDumpPayload: long enough, a version we read, and (unless skipChecksum) a matching CRC. */
export function verifyDumpPayload(p: Buffer, skipChecksum = false): boolean {
  if (p.length < 10) return false;
  const footer = p.length - 10;
  const version = p[footer] | (p[footer + 1] << 8);
  if (version > RDB_VERSION) return false;
  if (skipChecksum) return true;
  const crc = new Crc64().update(p, 0, p.length - 8);
  return crc.matchesLE(p, p.length - 8);
}

/**
 * Decodes a verified payload's value. Returns null when it does not decode
 * (Redis's "Bad data format"), including empty aggregates; `onError` gets the
 * reason (e.g. "Ziplist integrity check failed: ...").
 */
export function decodeDumpPayload(p: Buffer, limits: DecodeLimits, onError?: (why: string) => void): Value | null {
  const r = new ByteReader(p, 0, p.length - 10);
  try {
    const type = r.u8();
    return readObject(r, type, limits);
  } catch (e) {
    if (e instanceof RdbFormatError) {
      onError?.(e.message);
      return null;
    }
    throw e;
  }
}
