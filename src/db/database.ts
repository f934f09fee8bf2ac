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
  /** A key expired (lazily or actively): notification + propagation of a DEL. */
  expired(db: Database, key: string): void;
  /** A key was created (keyspace notification class 'n', fired before the command's own event). */
  keyCreated(db: Database, key: string): void;
  /** A key got a new value of a type clients may be blocked on. */
  keyReady(db: Database, key: string): void;
  /** A read found no key (keyspace notification class 'm'). */
  keyMiss(db: Database, key: string): void;
  now(): number;
}

/** Keys plus an aligned array of last-access times (seconds, for OBJECT IDLETIME and LRU). */
class KeyTable extends DenseMap<Value> {
  access: Uint32Array = new Uint32Array(1024);

  protected override onAdd(i: number): void {
    if (i >= this.access.length) {
      const next = new Uint32Array(this.access.length * 2);
      next.set(this.access);
      this.access = next;
    }
  }

  protected override onMove(from: number, to: number): void {
    this.access[to] = this.access[from];
  }

  override clear(): void {
    super.clear();
    this.access = new Uint32Array(1024);
  }
}

export class Database {
  keys = new KeyTable();
  /** key -> absolute expiry time in ms; dense, so active expiry can sample it. */
  expires = new DenseMap<number>();
  /** Keys that have clients blocked on them (maintained by the blocking module). */
  blockingKeys: Map<string, unknown[]> | null = null;
  avgTtl = 0;

  constructor(
    public id: number,
    private effects: KeyspaceEffects,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  private accessClock(): number {
    return Math.floor(this.effects.now() / 1000) >>> 0;
  }

  /** Deletes the key if its TTL passed. Returns true if it did. */
  expireIfNeeded(key: string): boolean {
    const when = this.expires.get(key);
    if (when === undefined || when > this.effects.now()) return false;
    this.removeKey(key);
    this.effects.expired(this, key);
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
    return this.keys.vals[i];
  }

  /** Lookup by a write command: lazy expiry, access time, no statistics. */
  lookupWrite(key: string): Value | undefined {
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    const i = this.keys.find(key);
    if (i < 0) return undefined;
    this.keys.access[i] = this.accessClock();
    return this.keys.vals[i];
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

  has(key: string): boolean {
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return false;
    return this.keys.has(key);
  }

  /**
   * Stores a value. Drops any TTL unless keepTtl. Signals the modification.
   * Aggregates notify waiters via `keyReady` when the key is new.
   */
  set(key: string, value: Value, keepTtl = false): void {
    const keys = this.keys;
    const added = keys.set(key, value);
    // set() leaves a new key last; an existing one keeps its position.
    keys.access[added ? keys.size - 1 : keys.find(key)] = this.accessClock();
    if (added) this.effects.keyCreated(this, key);
    if (!keepTtl && !added && this.expires.size !== 0) this.expires.delete(key);
    if (added && this.blockingKeys !== null && typeof value !== 'string' && this.blockingKeys.has(key)) {
      this.effects.keyReady(this, key);
    }
    this.effects.modified(this, key);
  }

  /** Replaces the value in place without touching TTL or signalling (caller signals). */
  overwriteQuiet(key: string, value: Value): void {
    this.keys.set(key, value);
  }

  /** Deletes a key; returns whether it existed. Signals the modification. */
  delete(key: string): boolean {
    if (!this.removeKey(key)) return false;
    this.effects.modified(this, key);
    return true;
  }

  private removeKey(key: string): boolean {
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
    this.expires.set(key, when);
  }

  /** Removes the TTL; returns whether there was one. */
  persist(key: string): boolean {
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
    for (;;) {
      const i = this.keys.randomIndex();
      if (i < 0) return null;
      const key = this.keys.keys[i];
      if (this.expires.size !== 0 && this.expireIfNeeded(key)) continue;
      return key;
    }
  }

  /** Removes everything (FLUSHDB). Returns the number of keys removed. */
  flush(): number {
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
        this.removeKey(key);
        this.effects.expired(this, key);
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

  /** Swaps contents with another database (SWAPDB). */
  swapWith(other: Database): void {
    const k = this.keys, e = this.expires, t = this.avgTtl;
    this.keys = other.keys; this.expires = other.expires; this.avgTtl = other.avgTtl;
    other.keys = k; other.expires = e; other.avgTtl = t;
  }
}
