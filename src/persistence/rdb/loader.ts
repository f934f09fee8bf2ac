/**
 * Reading a whole RDB image (file, AOF preamble or DEBUG RELOAD) into
 * databases: the opcode stream of rdbLoadRio, resumable between keys so a
 * large file can be loaded a slice at a time while the server answers
 * -LOADING.
 *
 * Keys go straight into the target databases' tables: no keyspace events, no
 * WATCH signals (as Redis's dbAddRDBLoad). Callers load into fresh databases
 * and swap them in only when the whole image, checksum included, was read:
 * a corrupt file never leaves a partial dataset behind.
 */
import { ByteReader, RdbFormatError } from './bytes.js';
import { Crc64 } from './crc64.js';
import * as C from './constants.js';
import { readLen, readLenU64, readMillis, readObject, readString, moduleName, skipModuleValue, type DecodeLimits } from './decode.js';
import { LFU_INIT_VAL, lfuWord } from '../../server/lfu.js';
import type { Database } from '../../db/database.js';

export interface RdbLoadOptions {
  limits: DecodeLimits;
  /** Server time in ms: keys whose TTL passed are skipped (unless keepExpired). */
  now: number;
  /** The server's LRU clock in seconds (access times are on it, as OBJECT IDLETIME reads them); default now / 1000. */
  lruSec?: number;
  /** AOF preamble: expired keys are loaded too (the AOF that follows decides). */
  keepExpired?: boolean;
  /** DEBUG RELOAD MERGE: a key already present is replaced instead of failing. */
  allowDuplicates?: boolean;
  /** rdbchecksum: verify the trailing CRC-64 (a zero checksum means "not computed"). */
  verifyChecksum: boolean;
  /** Non-fatal findings (module aux data skipped, empty keys, ...). */
  onWarning?: (msg: string) => void;
  /** A function library (FUNCTION2 opcode); without a handler it is skipped with a warning. */
  onFunction?: ((code: string) => void) | null;
  /** A key skipped because its TTL had passed (a restarted master sends its DEL to the backlog). */
  onExpiredKey?: (dbIndex: number, key: string) => void;
  /** Aux fields, for logging (redis-ver, ctime, used-mem, ...). */
  onAux?: (key: string, value: string) => void;
  /**
   * The maxmemory-policy is an LFU one: keys get an LFU word, from their FREQ
   * opcode or else Redis's initial counter (otherwise FREQ opcodes are ignored).
   */
  lfu?: boolean;
}

/** A load failure, with the byte offset where it was found. */
export class RdbLoadError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'RdbLoadError';
  }
}

export class RdbParser {
  readonly r: ByteReader;
  version = 0;
  done = false;
  keysLoaded = 0;
  keysExpired = 0;
  emptyKeysSkipped = 0;
  private db: Database;
  private expire = -1;
  private idle = -1;
  private freq = -1;
  private readonly start: number;

  constructor(
    buf: Buffer,
    private readonly dbs: readonly Database[],
    private readonly opts: RdbLoadOptions,
    start = 0,
  ) {
    this.r = new ByteReader(buf, start);
    this.start = start;
    this.db = dbs[0];
    this.guard(() => this.readSignature());
  }

  /** Bytes consumed so far (from the start of the image). */
  get consumed(): number {
    return this.r.pos - this.start;
  }

  private fail(msg: string): never {
    throw new RdbLoadError(msg, this.r.pos);
  }

  /** Runs fn, turning format errors into RdbLoadError with the offset. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof RdbLoadError) throw e;
      if (e instanceof RdbFormatError) throw new RdbLoadError(e.message, this.r.pos);
      throw e;
    }
  }

  private readSignature(): void {
    const r = this.r;
    if (r.remaining < 9) this.fail('Short read: not an RDB file (too short for a header)');
    const magic = r.latin1(5);
    const digits = r.latin1(4);
    if (magic !== 'REDIS' || !/^[0-9]{4}$/.test(digits)) this.fail('Wrong signature trying to load DB from file');
    this.version = Number(digits);
    if (this.version < 1 || this.version > C.RDB_VERSION) this.fail(`Can't handle RDB format version ${this.version}`);
  }

  /**
   * Parses up to `maxKeys` keys (or until `deadline`, a performance.now()
   * time); returns true once the EOF marker (and checksum) were read.
   */
  step(maxKeys = Infinity, deadline = Infinity): boolean {
    return this.guard(() => this.stepInner(maxKeys, deadline));
  }

  private stepInner(maxKeys: number, deadline: number): boolean {
    const r = this.r;
    const opts = this.opts;
    let budget = maxKeys;
    while (!this.done && budget > 0) {
      const type = r.u8();
      switch (type) {
        case C.RDB_OPCODE_EXPIRETIME:
          this.expire = r.i32le() * 1000;
          continue;
        case C.RDB_OPCODE_EXPIRETIME_MS:
          this.expire = readMillis(r);
          continue;
        case C.RDB_OPCODE_FREQ:
          this.freq = r.u8();
          continue;
        case C.RDB_OPCODE_IDLE: {
          const idle = readLenU64(r);
          this.idle = typeof idle === 'number' ? idle : Number.MAX_SAFE_INTEGER;
          continue;
        }
        case C.RDB_OPCODE_EOF:
          this.finish();
          return true;
        case C.RDB_OPCODE_SELECTDB: {
          const id = readLen(r);
          if (id >= this.dbs.length) {
            this.fail(`The RDB file was created with a server configured for more than ${this.dbs.length} databases (it selects db ${id})`);
          }
          this.db = this.dbs[id];
          continue;
        }
        case C.RDB_OPCODE_RESIZEDB:
          readLen(r);
          readLen(r);
          continue;
        case C.RDB_OPCODE_AUX: {
          const key = readString(r);
          const value = readString(r);
          opts.onAux?.(key, value);
          continue;
        }
        case C.RDB_OPCODE_MODULE_AUX: {
          const id = readLenU64(r);
          const whenOpcode = readLen(r);
          readLen(r); // when
          if (whenOpcode !== C.RDB_MODULE_OPCODE_UINT) this.fail('Bad when_opcode in module aux data');
          skipModuleValue(r);
          opts.onWarning?.(`The RDB file contains AUX module data of module '${moduleName(id)}', which Mnemo has no module for: skipped`);
          continue;
        }
        case C.RDB_OPCODE_FUNCTION_PRE_GA:
          this.fail('Pre-release function format not supported');
          break;
        case C.RDB_OPCODE_FUNCTION2: {
          const code = readString(r);
          if (opts.onFunction) opts.onFunction(code);
          else opts.onWarning?.('The RDB file contains a function library, which Mnemo cannot load yet: skipped');
          continue;
        }
        default:
          if (!C.isValueType(type)) this.fail(`Unknown RDB opcode or value type ${type}`);
      }
      const key = readString(r);
      const value = readObject(r, type, opts.limits);
      const expire = this.expire;
      const idle = this.idle;
      const freq = this.freq;
      this.expire = -1;
      this.idle = -1;
      this.freq = -1;
      budget--;
      if ((budget & 63) === 0 && performance.now() > deadline) budget = 0;
      if (value === null) {
        // Older servers could write empty aggregates: skipped, the first ten named (as Redis).
        if (this.emptyKeysSkipped++ < 10) this.opts.onWarning?.(`rdbLoadObject skipping empty key: ${key}`);
        continue;
      }
      if (!opts.keepExpired && expire !== -1 && expire < opts.now) {
        this.keysExpired++;
        opts.onExpiredKey?.(this.db.id, key);
        continue;
      }
      const db = this.db;
      const table = db.keys;
      if (!table.set(key, value)) {
        if (!opts.allowDuplicates) this.fail(`Duplicate key '${key.slice(0, 128)}' found in RDB file`);
        db.expires.delete(key);
      }
      const at = table.find(key);
      const nowSec = opts.lruSec ?? Math.floor(opts.now / 1000);
      table.access[at] = (idle >= 0 ? Math.max(0, nowSec - idle) : nowSec) >>> 0;
      // As objectSetLRUOrLFU: the saved counter, stamped now; without one, a new key's counter.
      if (opts.lfu === true) table.evict[2 * at] = lfuWord(opts.now, freq >= 0 ? freq : LFU_INIT_VAL);
      if (expire !== -1) db.expires.set(key, expire);
      this.keysLoaded++;
    }
    return this.done;
  }

  private finish(): void {
    const r = this.r;
    const eofEnd = r.pos;
    if (this.version >= 5) {
      const stored = r.slice(8);
      const zero = stored.every((b) => b === 0);
      if (zero) {
        this.opts.onWarning?.('RDB file was saved with checksum disabled: no check performed.');
      } else if (this.opts.verifyChecksum) {
        const crc = new Crc64().update(r.buf, this.start, eofEnd);
        if (!crc.matchesLE(stored, 0)) {
          const got = stored.readBigUInt64LE(0).toString(16);
          const wrong = `Wrong RDB checksum expected: (${got}) got: (${crc.value().toString(16)})`;
          // Redis logs the mismatch, then fails the load with "RDB CRC error".
          this.opts.onWarning?.(`${wrong}. Aborting now.`);
          this.fail(`RDB CRC error: ${wrong}`);
        }
      }
    }
    this.done = true;
  }
}
