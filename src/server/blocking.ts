/**
 * Blocked clients (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...).
 *
 * A blocking command that finds no data calls `block()` with its keys and a
 * `serve` callback. Writes that create a key of a waitable type signal it as
 * ready through the effects path (Database.set -> Server.keyReady); after the
 * current command (or the whole EXEC / script) returns, `serveReadyKeys()`
 * offers each ready key to its waiters in FIFO order, as Redis does. Nothing
 * polls. Timeouts follow the server clock: a frozen clock holds them.
 */
import type { Server } from './server.js';
import type { Client, BlockState } from './client.js';
import type { Database } from '../db/database.js';
import type { Command } from './command-table.js';
import { isScriptBusy } from '../scripting/busy.js';

interface ReadyKey {
  db: Database;
  key: string;
}

export interface BlockRequest {
  keys: string[];
  /** Timeout in ms; 0 blocks forever. */
  timeoutMs: number;
  serve(c: Client, key: string): boolean;
  /** Reply on timeout; defaults to a null array. */
  timeout?(c: Client): void;
}

export class Blocking {
  private ready: ReadyKey[] = [];
  private readySet = new Set<string>();
  private timers = new Map<Client, NodeJS.Timeout>();
  /** Total clients currently blocked (INFO blocked_clients). */
  count = 0;
  /** Keys with at least one waiter, across dbs (INFO blocked_keys). */
  keyCount = 0;
  /** Depth of EXEC/script execution: ready keys wait until it returns to 0. */
  deferDepth = 0;

  constructor(private server: Server) {}

  /** Blocks the client on keys; its reply comes later from serve() or the timeout. */
  block(c: Client, cmd: Command, argv: string[], req: BlockRequest): void {
    const db = c.db;
    const now = this.server.clock.now();
    const state: BlockState = {
      keys: req.keys,
      db,
      deadline: req.timeoutMs > 0 ? now + req.timeoutMs : 0,
      serve: req.serve,
      timeout: req.timeout ?? ((cl: Client) => cl.addNullArray()),
      argv,
      cmd,
      usec: 0,
    };
    c.blocked = state;
    this.count++;
    if (db.blockingKeys === null) db.blockingKeys = new Map();
    const seen = new Set<string>();
    for (const key of req.keys) {
      if (seen.has(key)) continue;
      seen.add(key);
      let list = db.blockingKeys.get(key) as Client[] | undefined;
      if (list === undefined) {
        list = [];
        db.blockingKeys.set(key, list);
        this.keyCount++;
      }
      list.push(c);
    }
    if (state.deadline > 0) this.armTimer(c, req.timeoutMs);
  }

  private armTimer(c: Client, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(c);
      this.checkTimeout(c);
    }, Math.min(Math.max(1, ms), 2 ** 31 - 1)); // Node fires at once beyond 2^31-1 ms; checkTimeout re-arms
    t.unref();
    this.timers.set(c, t);
  }

  /** Removes the client from every wait list (served, timed out, killed or disconnected). */
  unblock(c: Client): void {
    const state = c.blocked;
    if (state === null) return;
    c.blocked = null;
    this.count--;
    const t = this.timers.get(c);
    if (t) {
      clearTimeout(t);
      this.timers.delete(c);
    }
    const bk = state.db.blockingKeys;
    if (bk === null) return;
    for (const key of state.keys) {
      const list = bk.get(key) as Client[] | undefined;
      if (list === undefined) continue;
      const i = list.indexOf(c);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) {
        bk.delete(key);
        this.keyCount--;
      }
    }
  }

  signalKeyReady(db: Database, key: string): void {
    if (db.blockingKeys === null || !db.blockingKeys.has(key)) return;
    const id = db.id + '\0' + key;
    if (this.readySet.has(id)) return;
    this.readySet.add(id);
    this.ready.push({ db, key });
  }

  hasReadyKeys(): boolean {
    return this.ready.length !== 0 && this.deferDepth === 0;
  }

  /** Offers every ready key to its waiters, first come first served. */
  serveReadyKeys(): void {
    const woken: Client[] = [];
    while (this.ready.length > 0) {
      const batch = this.ready;
      this.ready = [];
      this.readySet.clear();
      for (const { db, key } of batch) {
        const list = db.blockingKeys?.get(key) as Client[] | undefined;
        if (list === undefined) continue;
        // Offer the key to every waiter in FIFO order; serve() returns false when it has nothing for one.
        for (const c of list.slice()) {
          if (c.blocked === null) continue;
          const state = c.blocked;
          const prevDb = c.db;
          c.db = state.db;
          const errors = c.errorCount;
          const start = performance.now();
          // The served client's command runs now (client tracking: its own changes are
          // announced after its reply, as for any command).
          const prevCmd = c.current;
          c.current = state.cmd;
          const served = state.serve(c, key);
          c.current = prevCmd;
          c.db = prevDb;
          // Not served: keep offering the key to later waiters. Some of them are served
          // even when the key is gone (XREADGROUP answers -UNBLOCKED on a deleted stream).
          if (!served) continue;
          this.unblock(c);
          this.completeStats(c, state, Math.round((performance.now() - start) * 1000), c.errorCount !== errors);
          woken.push(c);
        }
      }
    }
    for (const c of woken) this.resumeLater(c);
  }

  private resumeLater(c: Client): void {
    // The reply is already in c's buffer; flush it and go on with its pipeline.
    setImmediate(() => {
      if (!c.closed) this.server.resume(c);
    });
  }

  /**
   * Redis's updateStatsOnUnblock, for a blocked command served or unblocked with an
   * error: its duration grows by the time spent replying, an error counts as a failed
   * call, and the latency histogram and slowlog (unblockHooks) see it now. As in Redis
   * 7.0, a timeout or a plain CLIENT UNBLOCK does not come here.
   */
  private completeStats(c: Client, state: BlockState, replyUsec: number, failed: boolean): void {
    const st = state.cmd.stats;
    st.usec += replyUsec;
    if (failed) st.failed++;
    const hooks = this.server.unblockHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i](c, state.cmd, state.argv, state.usec + replyUsec, replyUsec);
  }

  /** Times out a client whose deadline passed on the server clock. */
  private checkTimeout(c: Client): void {
    const state = c.blocked;
    if (state === null || state.deadline === 0) return;
    if (isScriptBusy(this.server)) {
      // A busy script holds the dataset: time out later, after it ends.
      this.armTimer(c, 10);
      return;
    }
    const now = this.server.clock.now();
    // As Redis: timed out only once the deadline has passed.
    if (now <= state.deadline) {
      if (!this.server.clock.frozen) this.armTimer(c, state.deadline - now + 1);
      return;
    }
    this.unblock(c);
    state.timeout(c);
    this.server.resume(c);
  }

  checkTimeouts(): void {
    if (this.count === 0) return;
    for (const c of this.server.clients.values()) if (c.blocked) this.checkTimeout(c);
  }

  /** CLIENT UNBLOCK: times out (or errors) a blocked client now. */
  forceUnblock(c: Client, withError: boolean): boolean {
    const state = c.blocked;
    if (state === null) return false;
    this.unblock(c);
    if (withError) {
      c.addError('UNBLOCKED client unblocked via CLIENT UNBLOCK');
      this.completeStats(c, state, 0, true);
    } else state.timeout(c);
    this.server.resume(c);
    return true;
  }

  /** Ends a blocked command with an error (a cluster redirect): unblocked, answered, resumed. */
  failBlocked(c: Client, err: string): void {
    if (c.blocked === null) return;
    this.unblock(c);
    c.addError(err);
    this.server.resume(c);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
