/**
 * One logical database: the keyspace, the expiry table and per-key access
 * times. Reads expire keys lazily; Server runs the active expiry cycle.
 *
 * This class does not know about clients or replies. Writes report their
 * effects through the `KeyspaceEffects` the server provides (WATCH, tracking,
 * notifications, blocked-client wake-ups), see server/effects.ts.
 */
import { DenseMap } from '../data/dense-map.js';
import type { Value } from '../data/values.js';

export interface KeyspaceEffects {
  /** A key's value changed or the key was deleted/expired (WATCH, CLIENT TRACKING). */
  modified(db: Database, key: string): void;
  /** A key expired (lazily or actively): notification + propagation of a DEL. `value` was its value. */
  expired(db: Database, key: string, value: Value | undefined): void;
  /** A key was created (keyspace notification class 'n', fired before the command's own event). */
  keyCreated(db: Database, key: string): void;
  /** A key got a new value of a type clients may be blocked on. */
  keyReady(db: Database, key: string): void;
  /** A read found no key (keyspace notification class 'm'). */
  keyMiss(db: Database, key: string): void;
  now(): number;
  /**
   * Following a master (a replica): expired keys stay until the master's DEL.
   * Then an expired key reads as missing, except to the master's own stream,
   * to which it still exists (Redis's expireIfNeeded on a replica).
   */
  readonly isReplica: boolean;
  readonly masterRunning: boolean;
  /** During CLIENT PAUSE WRITE/ALL expired keys read as missing but are not deleted (Redis 7.0). */
  expiryPaused(): boolean;
  /**
   * A replica with replica-read-only off: its write commands delete the
   * expired keys they touch (Redis's LOOKUP_WRITE), and the TTLs its own
   * clients set are tracked for active expiry (replicaExpireSet).
   */
  readonly replicaWritable: boolean;
  /** A client other than the master set a TTL on a replica (Redis's rememberSlaveKeyWithExpire). */
  replicaExpireSet(db: Database, key: string): void;
  /** Server clock in whole seconds, refreshed by the cron and when the clock moves (Redis's LRU clock). */
  readonly lruClock: number;
}

/**
 * Keys plus aligned per-key arrays: last-access times (seconds, for OBJECT
 * IDLETIME and LRU) and the maxmemory metadata of src/server/eviction.ts.
 */
class KeyTable extends DenseMap<Value> {
  access: Uint32Array = new Uint32Array(1024);
  /**
   * maxmemory metadata, two words per key (one array, kept aligned like
   * `access`): [2i] the LFU word (minutes << 8 | logarithmic counter, used
   * under LFU policies), [2i+1] the key's accounted bytes (0 = not counted).
   * `accountedBytes`/`accountedKeys` total the second words; delete() keeps
   * them exact, so eviction knows the dataset size in O(1).
   */
  evict: Uint32Array = new Uint32Array(2048);
  accountedBytes = 0;
  accountedKeys = 0;

  /**
   * The last key found or stored and its position. A write command looks its key up,
   * stores the result and the accounting hook finds it again: one Map lookup for the
   * three. Checked against `keys` (a key has one position), so deletes need no upkeep.
   */
  private memoKey: string | null = null;
  private memoPos = 0;

  override find(key: string): number {
    const p = this.memoPos;
    if (key === this.memoKey && p < this.keys.length && this.keys[p] === key) return p;
    const i = this.index.get(key);
    if (i === undefined) return -1;
    this.memoKey = key;
    this.memoPos = i;
    return i;
  }

  override put(key: string, val: Value): number {
    const p = this.memoPos;
    if (key === this.memoKey && p < this.keys.length && this.keys[p] === key) {
      this.vals[p] = val;
      return p;
    }
    const i = super.put(key, val);
    this.memoKey = key;
    this.memoPos = i;
    return i;
  }

  protected override onAdd(i: number): void {
    if (i >= this.access.length) {
      const next = new Uint32Array(this.access.length * 2);
      next.set(this.access);
      this.access = next;
      const ev = new Uint32Array(this.evict.length * 2);
      ev.set(this.evict);
      this.evict = ev;
    }
    // A slot freed by delete() keeps its old words: a new key starts clean.
    this.evict[2 * i] = 0;
    this.evict[2 * i + 1] = 0;
  }

  protected override onMove(from: number, to: number): void {
    this.access[to] = this.access[from];
    this.evict[2 * to] = this.evict[2 * from];
    this.evict[2 * to + 1] = this.evict[2 * from + 1];
  }

  /** Sets the accounted bytes of the key at position i (eviction.ts), keeping the totals. */
  account(i: number, bytes: number): void {
    const ev = this.evict;
    const old = ev[2 * i + 1];
    if (old === 0) this.accountedKeys++;
    ev[2 * i + 1] = bytes;
    this.accountedBytes += bytes - old;
  }

  override delete(key: string): boolean {
    const i = this.index.get(key);
    if (i !== undefined) {
      const bytes = this.evict[2 * i + 1];
      if (bytes !== 0) {
        this.accountedBytes -= bytes;
        this.accountedKeys--;
      }
    }
    return super.delete(key);
  }

  override clear(): void {
    super.clear();
    this.access = new Uint32Array(1024);
    this.evict = new Uint32Array(2048);
    this.accountedBytes = 0;
    this.accountedKeys = 0;
  }
}

/** LFU bookkeeping installed on each Database while an LFU maxmemory-policy is on (src/server/eviction.ts). */
export interface LfuTracker {
  /** The LFU word of a new key. */
  init(): number;
  /** The LFU word after one more access. */
  touch(word: number): number;
}

export class Database {
  keys = new KeyTable();
  /** key -> absolute expiry time in ms; dense, so active expiry can sample it. */
  expires = new DenseMap<number>();
  /** Keys that have clients blocked on them (maintained by the blocking module). */
  blockingKeys: Map<string, unknown[]> | null = null;
  avgTtl = 0;
  /**
   * Snapshot barrier (persistence, src/persistence/rdb/snapshot.ts): while a
   * BGSAVE is writing a point-in-time image, called before a key changes
   * (`key`), before the whole db is flushed (`key` null) or swapped
   * (`key` null, `swap` true), so the image can keep the old state first.
   * Null when no snapshot runs: one null check on the write paths.
   */
  beforeWrite: ((db: Database, key: string | null, swap?: boolean) => void) | null = null;

  /** Set while an LFU maxmemory-policy is on: accesses update the keys' LFU words. */
  lfu: LfuTracker | null = null;

  constructor(
    public id: number,
    private effects: KeyspaceEffects,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  private accessClock(): number {
    return this.effects.lruClock;
  }

  /**
   * Deletes the key if its TTL passed. Returns true if it did (or, on a
   * replica, if the key is logically expired). `write`: the lookup of a write
   * command, which deletes the expired key even on a writable replica.
   */
  expireIfNeeded(key: string, write = false): boolean {
    const when = this.expires.get(key);
    if (when === undefined || when > this.effects.now()) return false;
    if (this.effects.isReplica) {
      if (this.effects.masterRunning) return false;
      if (!write || !this.effects.replicaWritable) return true;
    }
    if (this.effects.expiryPaused()) return true;
    this.removeExpired(key);
    return true;
  }

  /** Keyspace hits and misses of read lookups (INFO stats). */
  hits = 0;
  misses = 0;

  /** Lookup by a read command: lazy expiry, access time, hit/miss statistics. */
  lookupRead(key: string): Value | undefined {
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) {
      this.misses++;
      this.effects.keyMiss(this, key);
      return undefined;
    }
    const i = this.keys.find(key);
    if (i < 0) {
      this.misses++;
      this.effects.keyMiss(this, key);
      return undefined;
    }
    this.hits++;
    this.keys.access[i] = this.accessClock();
    if (this.lfu !== null) this.keys.evict[2 * i] = this.lfu.touch(this.keys.evict[2 * i]);
    return this.keys.vals[i];
  }

  /** Lookup by a write command: lazy expiry, access time, no statistics. */
  lookupWrite(key: string): Value | undefined {
    if (this.beforeWrite !== null) this.beforeWrite(this, key); // snapshot barrier
    if (this.expires.size !== 0 && this.expireIfNeeded(key, true)) return undefined;
    const i = this.keys.find(key);
    if (i < 0) return undefined;
    this.keys.access[i] = this.accessClock();
    if (this.lfu !== null) this.keys.evict[2 * i] = this.lfu.touch(this.keys.evict[2 * i]);
    return this.keys.vals[i];
  }

  /**
   * For a command that changes a value it found with lookupRead or peek
   * (stream group commands do, to count keyspace hits as Redis): call before
   * changing it, so a BGSAVE in progress keeps the old value.
   */
  willModify(key: string): void {
    if (this.beforeWrite !== null) this.beforeWrite(this, key); // snapshot barrier
  }

  /**
   * Reports an in-place change of a key's value (HSET on an existing hash,
   * APPEND, ...): WATCH and client tracking. db.set/delete signal by themselves.
   */
  signalModified(key: string): void {
    this.effects.modified(this, key);
  }

  /** Wakes clients blocked on `key` (XADD to an existing stream, ...). */
  signalReady(key: string): void {
    if (this.blockingKeys !== null && this.blockingKeys.has(key)) this.effects.keyReady(this, key);
  }

  /** Lookup that neither expires nor touches access time (OBJECT IDLETIME, DEBUG, SCAN filters). */
  peek(key: string): Value | undefined {
    return this.keys.get(key);
  }

  /** Whether the key exists and its TTL has not passed, without expiring it (Redis's LOOKUP_NOEXPIRE). */
  existsUnexpired(key: string): boolean {
    if (!this.keys.has(key)) return false;
    const when = this.expires.get(key);
    return when === undefined || when > this.effects.now();
  }

  has(key: string): boolean {
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return false;
    return this.keys.has(key);
  }

  /**
   * Stores a value. Drops any TTL unless keepTtl. Signals the modification.
   * Aggregates notify waiters via `keyReady` when the key is new.
   */
  set(key: string, value: Value, keepTtl = false): void {
    if (this.beforeWrite !== null) this.beforeWrite(this, key); // snapshot barrier
    const keys = this.keys;
    const before = keys.size;
    const i = keys.put(key, value);
    const added = keys.size !== before;
    keys.access[i] = this.accessClock();
    // A new key starts with Redis's initial LFU counter; an overwritten one keeps its own.
    if (added && this.lfu !== null) keys.evict[2 * i] = this.lfu.init();
    if (added) this.effects.keyCreated(this, key);
    if (!keepTtl && !added && this.expires.size !== 0) this.expires.delete(key);
    if (added && this.blockingKeys !== null && typeof value !== 'string' && this.blockingKeys.has(key)) {
      this.effects.keyReady(this, key);
    }
    this.effects.modified(this, key);
  }

  /** Replaces the value in place without touching TTL or signalling (caller signals). */
  overwriteQuiet(key: string, value: Value): void {
    if (this.beforeWrite !== null) this.beforeWrite(this, key); // snapshot barrier
    this.keys.set(key, value);
  }

  /** Deletes a key; returns whether it existed. Signals the modification. */
  delete(key: string): boolean {
    if (!this.removeKey(key)) return false;
    this.effects.modified(this, key);
    return true;
  }

  /** Removes an expired key and signals it (with its value, for lazyfree accounting). */
  private removeExpired(key: string): void {
    const value = this.keys.get(key);
    this.removeKey(key);
    this.effects.expired(this, key, value);
  }

  /** Every removal (DEL, lazy and active expiry) passes here. */
  private removeKey(key: string): boolean {
    if (this.beforeWrite !== null) this.beforeWrite(this, key); // snapshot barrier
    if (!this.keys.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  /** Absolute expiry in ms, or -1 when the key has no TTL. */
  getExpire(key: string): number {
    const t = this.expires.get(key);
    return t === undefined ? -1 : t;
  }

  setExpire(key: string, when: number): void {
    if (this.beforeWrite !== null) this.beforeWrite(this, key); // snapshot barrier
    this.expires.set(key, when);
    if (this.effects.isReplica && !this.effects.masterRunning) this.effects.replicaExpireSet(this, key);
  }

  /** Removes the TTL; returns whether there was one. */
  persist(key: string): boolean {
    if (this.beforeWrite !== null) this.beforeWrite(this, key); // snapshot barrier
    return this.expires.delete(key);
  }

  /** Seconds since last access, as OBJECT IDLETIME reports it. */
  idleSeconds(key: string): number {
    const i = this.keys.find(key);
    if (i < 0) return -1;
    const now = this.accessClock();
    return Math.max(0, now - this.keys.access[i]);
  }

  /**
   * A random live key, or null. O(1) expected: each pass returns a key or
   * reclaims an expired one, so it ends even when every key has expired.
   */
  randomKey(): string | null {
    // On a replica expired keys stay: when every key has a TTL they may all be
    // expired, so after 100 tries one is returned anyway (as Redis does).
    let tries = 100;
    const allVolatile = this.keys.size === this.expires.size;
    for (;;) {
      const i = this.keys.randomIndex();
      if (i < 0) return null;
      const key = this.keys.keys[i];
      if (allVolatile && (this.effects.isReplica || this.effects.expiryPaused()) && --tries === 0) return key;
      if (this.expires.size !== 0 && this.expireIfNeeded(key)) continue;
      return key;
    }
  }

  /** Removes everything (FLUSHDB). Returns the number of keys removed. */
  flush(): number {
    if (this.beforeWrite !== null) this.beforeWrite(this, null); // snapshot barrier
    const n = this.keys.size;
    this.keys.clear();
    this.expires.clear();
    this.avgTtl = 0;
    return n;
  }

  /**
   * One pass of active expiry over a random sample of keys with a TTL.
   * Returns [sampled, expired], so the caller can repeat while the ratio is high.
   */
  activeExpireSample(sample: number, now: number): [number, number] {
    const ex = this.expires;
    let sampled = 0;
    let expired = 0;
    let ttlSum = 0;
    let ttlCount = 0;
    for (let n = 0; n < sample && ex.size > 0; n++) {
      const i = ex.randomIndex();
      const key = ex.keys[i];
      const when = ex.vals[i];
      sampled++;
      if (when <= now) {
        this.removeExpired(key);
        expired++;
      } else {
        ttlSum += when - now;
        ttlCount++;
      }
    }
    if (ttlCount > 0) {
      const avg = ttlSum / ttlCount;
      this.avgTtl = this.avgTtl === 0 ? avg : Math.round(this.avgTtl / 50 * 49 + avg / 50);
    }
    return [sampled, expired];
  }

  /**
   * For the active expiry of keys a writable replica's clients gave a TTL:
   * deletes the key if it expired. Returns 'expired', 'live' (a TTL not yet
   * reached) or 'none' (no key or no TTL: no longer tracked).
   */
  expireTracked(key: string, now: number): 'expired' | 'live' | 'none' {
    const when = this.expires.get(key);
    if (when === undefined) return 'none';
    if (when > now) return 'live';
    this.removeExpired(key);
    return 'expired';
  }

  /** Swaps contents with another database (SWAPDB). */
  swapWith(other: Database): void {
    if (this.beforeWrite !== null) this.beforeWrite(this, null, true); // snapshot barrier
    if (other.beforeWrite !== null) other.beforeWrite(other, null, true);
    const k = this.keys, e = this.expires, t = this.avgTtl;
    this.keys = other.keys; this.expires = other.expires; this.avgTtl = other.avgTtl;
    other.keys = k; other.expires = e; other.avgTtl = t;
  }
}
