/**
 * The AOF's use of the RDB code (src/persistence/rdb, src/persistence/index.ts):
 * loading an RDB image at the start of an AOF file (a .base.rdb, or an old
 * single-file AOF with an RDB preamble), and writing a base file key by key
 * (aof-use-rdb-preamble), in Redis 7.0's RDB format with the aof-base aux field.
 */
import type { Server } from '../../server/server.js';
import type { Value } from '../../data/values.js';
import type { Database } from '../../db/database.js';
import { lfuCounterAt } from '../../server/lfu.js';
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

  /** As rdbSaveKeyValuePair: idle times under an LRU policy, LFU counters under an LFU one. */
  private readonly saveLru: boolean;
  private readonly saveLfu: boolean;
  private readonly decayTime: number;

  constructor(private readonly server: Server) {
    this.opts = encodeOptions(server);
    this.checksum = server.config.getBool('rdbchecksum');
    const policy = server.config.maxmemoryPolicy;
    this.saveLru = policy.includes('lru');
    this.saveLfu = policy.includes('lfu');
    this.decayTime = server.config.getNumber('lfu-decay-time');
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

  /** One key; `db` and the key's position in it give the access data the policy saves. */
  keyValue(key: string, value: Value, expireAt: number, db: Database, at: number): void {
    let idle = -1;
    let freq = -1;
    if (at >= 0 && (this.saveLru || this.saveLfu)) {
      const table = db.keys;
      // On the LRU clock OBJECT IDLETIME reads, as the RDB save does.
      if (this.saveLru) idle = Math.max(0, this.server.lruClock - table.access[at]);
      if (this.saveLfu) freq = lfuCounterAt(table.evict[2 * at], this.server.clock.now(), this.decayTime);
    }
    writeKeyValue(this.w, key, value, expireAt, this.opts, idle, freq);
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
