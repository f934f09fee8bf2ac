/**
 * A point-in-time RDB image of the whole keyspace, written incrementally.
 *
 * Redis forks and lets the kernel copy the pages the parent changes. We get
 * the same guarantee without stopping the server, with the same idea:
 *
 *  - at the start we only remember, per database, its key table and the
 *    table's key and value arrays (references: nothing is copied, so starting
 *    costs the same for ten keys or ten million);
 *  - the writer walks those arrays by position, a slice at a time between
 *    client commands;
 *  - every change to a key goes through Database.beforeWrite first (the
 *    "barrier"). Before a change can move or overwrite array positions of
 *    the image (a delete moves the last entry into the hole; a SET overwrites
 *    a value), the barrier copies the 4096-position page(s) concerned, once:
 *    copy-on-write, like fork's pages. And if the key belongs to the image
 *    and is not written yet, it keeps the key's current value (cloned when it
 *    is a mutable object: aggregates and MutableStrings change in place) and
 *    TTL, which the writer then uses.
 *
 * So a key changed, deleted or expired during the save is written as it was
 * when the save started; keys created after it are not written. The extra
 * memory is the pages and keys touched during the save, released as the
 * writer passes them.
 *
 * Whether a key still awaits writing is O(1): entries of a key table only
 * ever move towards lower positions, so a key found at position p >= n (the
 * table's size at the start) is new, and a key found at p < n whose image
 * key at p is itself has not moved and is done iff p < cursor. Anything else
 * is treated as pending (at worst one needless copy per key).
 */
import type { Database } from '../../db/database.js';
import type { DenseMap } from '../../data/dense-map.js';
import { MutableString, type Value } from '../../data/values.js';
import { ByteWriter } from './bytes.js';
import { Crc64 } from './crc64.js';
import * as C from './constants.js';
import { writeHeader, writeAux, writeLen, writeKeyValue, writeString, type EncodeOptions } from './encode.js';

/** A key's state captured by the barrier, or WRITTEN once the writer used it. */
interface Preserved {
  value: Value | undefined;
  expire: number;
  /** Its access time (s) and LFU word then: the change about to happen touches them. */
  access: number;
  lfuWord: number;
}
const WRITTEN: Preserved = { value: undefined, expire: -1, access: 0, lfuWord: 0 };

/** Output produced per slice at most (roughly): its copy and CRC then take about a millisecond. */
const MAX_SLICE_BYTES = 256 * 1024;

/** Positions per copy-on-write page. */
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE - 1;

interface Source {
  /** The database number the image writes this content under (its index at the start). */
  dbIndex: number;
  /** The key table at the start; null once the db was flushed (nothing live can change the image then). */
  table: Database['keys'] | null;
  /** TTLs: the live map (changes to it pass the barrier), or a frozen copy after a flush. */
  expires: DenseMap<number> | null;
  frozenExpires: Map<string, number> | null;
  /** The table's arrays at the start (live until a flush replaces them; positions < n stay valid via pages). */
  keysArr: string[];
  valsArr: Value[];
  /** Copied pages: positions [k * PAGE, (k + 1) * PAGE) as they were at the start. */
  keyPages: Array<string[] | undefined>;
  valPages: Array<Value[] | undefined>;
  pagesCopied: number;
  n: number;
  cursor: number;
  expiresAtStart: number;
  preserved: Map<string, Preserved>;
  started: boolean;
}

function readKey(src: Source, i: number): string {
  const pg = src.keyPages[i >>> PAGE_SHIFT];
  return pg !== undefined ? pg[i & PAGE_MASK] : src.keysArr[i];
}

function readVal(src: Source, i: number): Value {
  const pg = src.valPages[i >>> PAGE_SHIFT];
  return pg !== undefined ? pg[i & PAGE_MASK] : src.valsArr[i];
}

/** Copies the page holding position i before the live arrays change there (once; not for written pages). */
function copyPage(src: Source, i: number): void {
  if (i < 0 || i >= src.n) return;
  const k = i >>> PAGE_SHIFT;
  if (src.keyPages[k] !== undefined) return;
  const from = k << PAGE_SHIFT;
  const to = Math.min(src.n, from + PAGE);
  if (to <= src.cursor) return;
  src.keyPages[k] = src.keysArr.slice(from, to);
  src.valPages[k] = src.valsArr.slice(from, to);
  src.pagesCopied++;
}

export interface SnapshotInfo {
  redisVersion: string;
  /** Seconds since the epoch (ctime aux field). */
  ctime: number;
  usedMem: number;
  aofBase: boolean;
  /** Write an IDLE opcode before each key (maxmemory-policy is an LRU policy). */
  saveLru: boolean;
  /**
   * Write a FREQ opcode before each key (maxmemory-policy is an LFU policy):
   * the counter of a key's LFU word as of the save (decayed). Null otherwise.
   */
  lfuCounter: ((word: number) => number) | null;
  checksum: boolean;
  nowMs: number;
  /** The server's LRU clock in seconds, for idle times (default nowMs / 1000). */
  lruSec?: number;
  /** Function libraries' code (FUNCTION2 records, written after the aux fields as Redis 7.0 does). */
  functions: readonly string[];
  /**
   * The replication stream this dataset is at (repl-stream-db, repl-id and
   * repl-offset aux fields), so a restart can continue it with PSYNC; null
   * when there is none (Redis's rdbPopulateSaveInfo).
   */
  repl?: ReplSaveInfo | null;
}

export interface ReplSaveInfo {
  streamDb: number;
  replId: string;
  offset: number;
}

function isMutable(v: Value): boolean {
  return typeof v !== 'string';
}

/** A copy of a value that later in-place changes to the original cannot reach. */
export function cloneValue(v: Value): Value {
  if (typeof v === 'string') return v;
  if (v instanceof MutableString) return new MutableString(v.view());
  return v.clone() as Value;
}

function releaseSource(s: Source): void {
  s.keysArr = [];
  s.valsArr = [];
  s.keyPages = [];
  s.valPages = [];
  s.preserved.clear();
  s.frozenExpires = null;
}

export class RdbSnapshot {
  private readonly sources: Source[] = [];
  private readonly byTable = new Map<object, Source>();
  private srcIndex = 0;
  private headerWritten = false;
  private readonly w = new ByteWriter(256 * 1024);
  readonly crc = new Crc64();
  done = false;
  keysWritten = 0;
  readonly keysTotal: number;
  /** Bytes produced so far. */
  bytes = 0;
  /** Highest overheadBytes() seen (INFO current_cow_peak / rdb_last_cow_size). */
  peakOverhead = 0;

  constructor(
    dbs: readonly Database[],
    private readonly opts: EncodeOptions,
    private readonly info: SnapshotInfo,
  ) {
    let total = 0;
    for (const db of dbs) {
      const table = db.keys;
      if (table.size === 0) continue;
      const src: Source = {
        dbIndex: db.id,
        table,
        expires: db.expires,
        frozenExpires: null,
        keysArr: table.keys,
        valsArr: table.vals,
        keyPages: [],
        valPages: [],
        pagesCopied: 0,
        n: table.size,
        cursor: 0,
        expiresAtStart: db.expires.size,
        preserved: new Map(),
        started: false,
      };
      total += src.n;
      this.sources.push(src);
      this.byTable.set(table, src);
    }
    this.keysTotal = total;
    this.peakOverhead = this.overheadBytes();
  }

  /**
   * The barrier: `key` of `db` is about to change (key null: the whole db is
   * about to be emptied; swap: its contents move to another db index).
   */
  barrier(db: Database, key: string | null, swap: boolean): void {
    if (this.done) return;
    const src = this.byTable.get(db.keys);
    if (src === undefined || src.cursor >= src.n) return;
    if (key === null) {
      // A swap moves the table object, which the image follows by identity: nothing to do.
      if (!swap) this.detach(src);
      return;
    }
    const table = db.keys;
    const p = table.find(key);
    // Positions a delete of this key or a new value for it would touch: its own and the last one.
    copyPage(src, p);
    copyPage(src, table.size - 1);
    if (p < 0 || p >= src.n) return;
    if (p < src.cursor && readKey(src, p) === key) return;
    const pres = src.preserved;
    if (pres.has(key)) return;
    const v = table.vals[p];
    const exp = src.expires!.get(key);
    pres.set(key, {
      value: isMutable(v) ? cloneValue(v) : v,
      expire: exp === undefined ? -1 : exp,
      access: table.access[p],
      lfuWord: table.evict[2 * p],
    });
  }

  /** The db is being flushed: keep its TTLs, stop watching its table (its old values are now unreachable). */
  private detach(src: Source): void {
    const frozen = new Map<string, number>();
    const ex = src.expires!;
    for (let i = 0; i < ex.keys.length; i++) frozen.set(ex.keys[i], ex.vals[i]);
    src.frozenExpires = frozen;
    src.expires = null;
    if (src.table !== null) this.byTable.delete(src.table);
    src.table = null;
  }

  /** Stops the image: barriers become no-ops and references are released. */
  abort(): void {
    this.done = true;
    this.release();
  }

  private release(): void {
    for (const s of this.sources) releaseSource(s);
    this.byTable.clear();
  }

  /**
   * Writes up to `maxKeys` more keys (stopping early past `deadline`, a
   * performance.now() time) and returns the bytes produced, already
   * checksummed. After the last key the EOF marker and checksum follow and
   * `done` becomes true.
   */
  produce(maxKeys: number, deadline = Infinity): Buffer {
    const w = this.w;
    const opts = this.opts;
    if (!this.headerWritten) {
      this.headerWritten = true;
      writeHeader(w);
      const i = this.info;
      writeAux(w, 'redis-ver', i.redisVersion, opts);
      writeAux(w, 'redis-bits', '64', opts);
      writeAux(w, 'ctime', String(i.ctime), opts);
      writeAux(w, 'used-mem', String(i.usedMem), opts);
      if (i.repl) {
        writeAux(w, 'repl-stream-db', String(i.repl.streamDb), opts);
        writeAux(w, 'repl-id', i.repl.replId, opts);
        writeAux(w, 'repl-offset', String(i.repl.offset), opts);
      }
      writeAux(w, 'aof-base', i.aofBase ? '1' : '0', opts);
      for (const code of i.functions) {
        w.u8(C.RDB_OPCODE_FUNCTION2);
        writeString(w, code, opts);
      }
    }
    const overhead = this.overheadBytes();
    if (overhead > this.peakOverhead) this.peakOverhead = overhead;
    let budget = maxKeys;
    const nowSec = this.info.lruSec ?? Math.floor(this.info.nowMs / 1000);
    const saveLru = this.info.saveLru;
    const lfuCounter = this.info.lfuCounter;
    while (this.srcIndex < this.sources.length && budget > 0) {
      const src = this.sources[this.srcIndex];
      if (!src.started) {
        src.started = true;
        w.u8(C.RDB_OPCODE_SELECTDB);
        writeLen(w, src.dbIndex);
        w.u8(C.RDB_OPCODE_RESIZEDB);
        writeLen(w, src.n);
        writeLen(w, src.expiresAtStart);
      }
      const pres = src.preserved;
      while (src.cursor < src.n && budget > 0) {
        const i = src.cursor;
        const key = readKey(src, i);
        let value: Value;
        let expire: number;
        let idle = -1;
        let freq = -1;
        const p = pres.size !== 0 ? pres.get(key) : undefined;
        if (p !== undefined && p !== WRITTEN) {
          value = p.value!;
          expire = p.expire;
          if (saveLru) idle = Math.max(0, nowSec - p.access);
          if (lfuCounter !== null) freq = lfuCounter(p.lfuWord);
          pres.set(key, WRITTEN);
        } else {
          value = readVal(src, i);
          const e = src.frozenExpires !== null ? src.frozenExpires.get(key) : src.expires!.get(key);
          expire = e === undefined ? -1 : e;
          // Access data lives in the table's aligned arrays, at the key's current position.
          const table = src.table;
          if ((saveLru || lfuCounter !== null) && table !== null) {
            const at = table.keys[i] === key ? i : table.find(key);
            if (saveLru) idle = at < 0 ? 0 : Math.max(0, nowSec - table.access[at]);
            if (lfuCounter !== null && at >= 0) freq = lfuCounter(table.evict[2 * at]);
          }
        }
        writeKeyValue(w, key, value, expire, opts, idle, freq);
        src.cursor = i + 1;
        // A page the writer has passed is of no further use.
        if ((src.cursor & PAGE_MASK) === 0) {
          const k = (src.cursor >>> PAGE_SHIFT) - 1;
          src.keyPages[k] = undefined;
          src.valPages[k] = undefined;
        }
        this.keysWritten++;
        budget--;
        // Bounded slices: a time budget, and an output size that keeps the copy and checksum short.
        if ((budget & 31) === 0 && (w.pos > MAX_SLICE_BYTES || performance.now() > deadline)) budget = 0;
      }
      if (src.cursor >= src.n) {
        // Release this db's references as soon as it is written.
        releaseSource(src);
        this.srcIndex++;
      }
    }
    let out: Buffer;
    if (this.srcIndex >= this.sources.length) {
      w.u8(C.RDB_OPCODE_EOF);
      const body = w.take();
      this.crc.update(body);
      const sum = this.info.checksum ? this.crc.bytesLE() : Buffer.alloc(8);
      out = Buffer.concat([body, sum]);
      this.done = true;
      this.release();
    } else {
      out = w.take();
      this.crc.update(out);
    }
    this.bytes += out.length;
    return out;
  }

  /** Rough extra memory held for the image (reference arrays and copies of changed keys). */
  overheadBytes(): number {
    let b = 0;
    for (let i = this.srcIndex; i < this.sources.length; i++) {
      const s = this.sources[i];
      for (const pg of s.keyPages) if (pg !== undefined) b += pg.length * 16;
      b += s.preserved.size * 96;
    }
    return b;
  }

  /** Pages copied so far (all databases). */
  get pagesCopied(): number {
    let n = 0;
    for (const s of this.sources) n += s.pagesCopied;
    return n;
  }
}
