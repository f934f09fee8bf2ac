/**
 * Transaction state outside the MULTI queue: which clients WATCH which keys,
 * and which clients' next EXEC is doomed because a watched key changed
 * (Redis's CLIENT_DIRTY_CAS).
 *
 * A watch is a (client, database, key) triple. Every write reaches `touch`
 * through the effects path (`Server.modifiedHooks`); while nobody watches
 * anything the hook returns at its first test. A client whose watch fires is
 * marked dirty and stops watching at once, as nothing can make it clean again
 * but UNWATCH or the end of its transaction.
 *
 * Stale keys (expired by TTL but not reclaimed yet) follow Redis 7.0: watching
 * one remembers that, so that reclaiming it later is no change; a watched live
 * key that becomes stale before EXEC fails the EXEC even if it was never
 * reclaimed.
 */
import type { Server } from './server.js';
import type { Client } from './client.js';
import type { Database } from '../db/database.js';

interface WatchedKey {
  client: Client;
  db: Database;
  key: string;
  /** The key was already stale when watched: its removal is not a change. */
  expired: boolean;
}

interface ClientWatches {
  keys: WatchedKey[];
  /** A watched key changed: the next EXEC replies a null array. */
  dirty: boolean;
}

export class Watches {
  /** db -> key -> watches of that key, in WATCH order. */
  private readonly byDb = new Map<Database, Map<string, WatchedKey[]>>();
  /** Clients with watched keys or the dirty flag. */
  private readonly byClient = new Map<Client, ClientWatches>();
  /** Watches across all clients; 0 makes the per-write hook free. */
  private count = 0;

  constructor(private readonly server: Server) {
    server.modifiedHooks.push((db, key) => {
      if (this.count !== 0) this.touch(db, key);
    });
    // RESET and a closed connection end any transaction: queue, watches and dirty flag.
    server.resetHooks.push((c) => this.discard(c));
    server.disconnectHooks.push((c) => this.discard(c));
    // FLUSHDB/FLUSHALL/SWAPDB: one pass over the watched keys of the db, with Redis's stale-key rules.
    server.flushHooks.push((emptied, replacedWith) => {
      if (this.count !== 0) this.touchAllInDb(emptied, replacedWith);
    });
  }

  /** Number of (client, key) watches, for tests and introspection. */
  get size(): number {
    return this.count;
  }

  /** WATCH of one key in the client's selected database (no-op if already watched there). */
  /** Keys this client WATCHes (Redis counts a list node and a watchedKey for each as client memory). */
  watchedBy(c: Client): number {
    return this.count === 0 ? 0 : this.byClient.get(c)?.keys.length ?? 0;
  }

  watch(c: Client, key: string): void {
    const db = c.db;
    let keys = this.byDb.get(db);
    if (keys === undefined) {
      keys = new Map();
      this.byDb.set(db, keys);
    }
    let list = keys.get(key);
    if (list === undefined) {
      list = [];
      keys.set(key, list);
    } else {
      for (let i = 0; i < list.length; i++) if (list[i].client === c) return;
    }
    let cw = this.byClient.get(c);
    if (cw === undefined) {
      cw = { keys: [], dirty: false };
      this.byClient.set(c, cw);
    }
    const wk: WatchedKey = { client: c, db, key, expired: this.isStale(db, key) };
    list.push(wk);
    cw.keys.push(wk);
    this.count++;
  }

  /** Drops every watch of the client; the dirty flag stays (see `discard`). */
  unwatchAll(c: Client): void {
    const cw = this.byClient.get(c);
    if (cw === undefined || cw.keys.length === 0) return;
    for (const wk of cw.keys) {
      const keys = this.byDb.get(wk.db)!;
      const list = keys.get(wk.key)!;
      list.splice(list.indexOf(wk), 1);
      if (list.length === 0) {
        keys.delete(wk.key);
        if (keys.size === 0) this.byDb.delete(wk.db);
      }
    }
    this.count -= cw.keys.length;
    cw.keys = [];
    if (!cw.dirty) this.byClient.delete(c);
  }

  /** UNWATCH: no watches and a clean slate for the next EXEC. */
  unwatch(c: Client): void {
    this.unwatchAll(c);
    this.byClient.delete(c);
  }

  /** Ends the client's transaction (EXEC done, DISCARD, RESET, disconnect): Redis's discardTransaction. */
  discard(c: Client): void {
    c.multi = null;
    this.unwatch(c);
  }

  isDirty(c: Client): boolean {
    return this.byClient.get(c)?.dirty === true;
  }

  /**
   * EXEC's check: a key that was live when watched and is stale now fails the
   * transaction, even though nothing reclaimed it (so no write touched it).
   */
  expiredSinceWatch(c: Client): boolean {
    const cw = this.byClient.get(c);
    if (cw === undefined) return false;
    for (const wk of cw.keys) if (!wk.expired && this.isStale(wk.db, wk.key)) return true;
    return false;
  }

  /** A key was written, deleted or expired: its watchers' transactions are doomed. */
  private touch(db: Database, key: string): void {
    const list = this.byDb.get(db)?.get(key);
    if (list === undefined) return;
    const exists = db.keys.has(key); // raw presence: a stale key is still there
    const stale = exists && this.isStale(db, key);
    // Copy: marking a client dirty removes its watches from this list.
    for (const wk of list.slice()) {
      if (wk.expired) {
        // The stale key was reclaimed: logically it was already gone.
        if (!exists) {
          wk.expired = false;
          continue;
        }
        // Still the same stale key (FLUSHDB signals keys before removing them).
        if (stale) continue;
      }
      this.markDirty(wk.client);
    }
  }

  /**
   * Whole-database change with Redis's exact rules for stale keys: `emptied`
   * loses its contents (FLUSHDB/FLUSHALL: `replacedWith` null) or gets those of
   * `replacedWith` (SWAPDB, called for each side before swapping). Costs one
   * pass over the watched keys of `emptied`, not over its keyspace.
   */
  touchAllInDb(emptied: Database, replacedWith: Database | null): void {
    const keys = this.byDb.get(emptied);
    if (keys === undefined) return;
    for (const [key, list] of [...keys]) {
      const inEmptied = emptied.keys.has(key);
      const inReplacement = replacedWith !== null && replacedWith.keys.has(key);
      if (!inEmptied && !inReplacement) continue;
      for (const wk of list.slice()) {
        if (wk.expired) {
          if (!inReplacement) {
            wk.expired = false; // the stale key is removed: no logical change
            continue;
          }
          if (this.isStale(replacedWith!, key)) continue; // stale replaced by stale
        } else if (!inEmptied && this.isStale(replacedWith!, key)) {
          wk.expired = true; // a missing key replaced by a stale one: still missing
          continue;
        }
        this.markDirty(wk.client);
      }
    }
  }

  private markDirty(c: Client): void {
    let cw = this.byClient.get(c);
    if (cw === undefined) {
      cw = { keys: [], dirty: false };
      this.byClient.set(c, cw);
    }
    cw.dirty = true;
    // Nothing can make it clean again short of UNWATCH/EXEC/DISCARD: stop watching.
    this.unwatchAll(c);
  }

  /** Has a TTL that has passed, but is still stored. */
  private isStale(db: Database, key: string): boolean {
    const when = db.expires.get(key);
    return when !== undefined && when <= this.server.clock.now();
  }
}
