/**
 * The FUNCTION DUMP payload, in Redis 7.0's format: for each library the RDB
 * opcode FUNCTION2 (245) and the library code as an RDB string (LZF-compressed
 * over 20 bytes when rdbcompression is on, as Redis's rdbSaveRawString does),
 * then the RDB version and CRC-64 footer of every DUMP payload. Built from the
 * RDB encoder's own pieces, so the bytes are Redis's.
 */
import { ByteReader, ByteWriter, RdbFormatError } from '../persistence/rdb/bytes.js';
import { RDB_OPCODE_FUNCTION2, RDB_OPCODE_FUNCTION_PRE_GA } from '../persistence/rdb/constants.js';
import { readString } from '../persistence/rdb/decode.js';
import { writeString } from '../persistence/rdb/encode.js';
import { sealDumpPayload } from '../persistence/rdb/dump.js';

/** Library codes, one FUNCTION2 record each, with the version and CRC footer. */
export function encodeFunctionsPayload(codes: readonly string[], compress: boolean): string {
  const w = new ByteWriter(1024);
  for (const code of codes) {
    w.u8(RDB_OPCODE_FUNCTION2);
    writeString(w, code, { compress, listFill: -2 });
  }
  return sealDumpPayload(w).latin1Slice();
}

/** The library codes in a verified payload, or the error Redis gives. */
export function decodeFunctionsPayload(payload: Buffer): { codes: string[] } | { error: string } {
  const r = new ByteReader(payload, 0, payload.length - 10);
  const codes: string[] = [];
  try {
    while (r.remaining > 0) {
      const type = r.u8();
      if (type === RDB_OPCODE_FUNCTION_PRE_GA) return { error: 'Pre-GA function format not supported' };
      if (type !== RDB_OPCODE_FUNCTION2) return { error: 'given type is not a function' };
      codes.push(readString(r));
    }
  } catch (e) {
    if (e instanceof RdbFormatError) return { error: 'Failed loading library payload' };
    throw e;
  }
  return { codes };
}
