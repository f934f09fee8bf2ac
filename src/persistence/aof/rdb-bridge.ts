/**
 * The AOF's use of the RDB code (src/persistence/rdb, src/persistence/index.ts):
 * loading an RDB image at the start of an AOF file (a .base.rdb, or an old
 * single-file AOF with an RDB preamble), and writing a base file key by key
 * (aof-use-rdb-preamble), in Redis 7.0's RDB format with the aof-base aux field.
 */
import type { Server } from '../../server/server.js';
import type { Value } from '../../data/values.js';
import { ByteWriter } from '../rdb/bytes.js';
import { Crc64 } from '../rdb/crc64.js';
import * as C from '../rdb/constants.js';
import { writeAux, writeHeader, writeKeyValue, writeLen, writeString, type EncodeOptions } from '../rdb/encode.js';
import { encodeOptions, loadRdb } from '../index.js';

/** An RDB image produced in pieces, checksummed as it goes. */
export class RdbBaseWriter {
  private readonly w = new ByteWriter(256 * 1024);
  private readonly crc = new Crc64();
  private readonly opts: EncodeOptions;
  private readonly checksum: boolean;

  constructor(private readonly server: Server) {
    this.opts = encodeOptions(server);
    this.checksum = server.config.getBool('rdbchecksum');
  }

  /** Bytes produced and not taken yet. */
  get pending(): number {
    return this.w.pos;
  }

  /** Magic, version, the aux fields Redis writes for an AOF base, and the function libraries. */
  header(functions: readonly string[]): void {
    const w = this.w;
    writeHeader(w);
    writeAux(w, 'redis-ver', this.server.redisVersion, this.opts);
    writeAux(w, 'redis-bits', '64', this.opts);
    writeAux(w, 'ctime', String(Math.floor(this.server.clock.now() / 1000)), this.opts);
    const m = process.memoryUsage();
    writeAux(w, 'used-mem', String(m.heapUsed + m.external), this.opts);
    writeAux(w, 'aof-base', '1', this.opts);
    for (const code of functions) {
      w.u8(C.RDB_OPCODE_FUNCTION2);
      writeString(w, code, this.opts);
    }
  }

  selectDb(db: number, keys: number, expires: number): void {
    const w = this.w;
    w.u8(C.RDB_OPCODE_SELECTDB);
    writeLen(w, db);
    w.u8(C.RDB_OPCODE_RESIZEDB);
    writeLen(w, keys);
    writeLen(w, expires);
  }

  keyValue(key: string, value: Value, expireAt: number): void {
    writeKeyValue(this.w, key, value, expireAt, this.opts);
  }

  /** EOF opcode; the checksum follows when take() is called. */
  end(): void {
    this.w.u8(C.RDB_OPCODE_EOF);
    this.ended = true;
  }

  private ended = false;

  /** The bytes produced so far (with the checksum after end()). */
  take(): Buffer {
    const body = this.w.take();
    this.crc.update(body);
    if (!this.ended) return body;
    return Buffer.concat([body, this.checksum ? this.crc.bytesLE() : Buffer.alloc(8)]);
  }
}

/**
 * Loads the RDB image at the start of `buf` into the server (keys already
 * expired are kept, as for any AOF base) and returns its length in bytes:
 * AOF commands may follow it. Throws the RDB loader's error on corruption.
 */
export function loadRdbPreamble(server: Server, buf: Buffer): number {
  return loadRdb(server, buf, { aofPreamble: true }).consumed;
}
