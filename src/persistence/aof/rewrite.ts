/**
 * BGREWRITEAOF without fork and without stopping the server.
 *
 * The rewrite writes a new base file key by key in short time slices while
 * clients are served. Node has no copy-on-write snapshot, so the result is
 * made exact with the keys that change meanwhile:
 *
 * 1. At the start the key names of every database are copied (a snapshot of
 *    names only) and a hook records every key modified from then on (the
 *    server's modifiedHooks: writes, deletes, expiries).
 * 2. Base phase: each snapshot key not modified so far is written with its
 *    current value, which is still its value at the start. Modified keys are
 *    skipped: the base never holds the same key twice.
 * 3. Fix-up phase: the modified keys are written again, in rounds, as
 *    "DEL key" + the commands that rebuild their current value (or only DEL
 *    when gone), into what becomes the new incremental file. A key modified
 *    after its round is recorded again and goes into a later round. A
 *    database emptied or replaced as a whole (FLUSHDB, FLUSHALL, SWAPDB, a
 *    reload) gets a FLUSHDB in place and all its keys in the next round.
 *    Rounds go on while the set of changed keys shrinks.
 * 4. Finish, in one synchronous step: the last modified keys are written,
 *    both files are fsynced, and the caller commits them in the manifest and
 *    appends every later write to the new incremental file.
 *
 * With the AOF on, Redis opens the new incremental file when the rewrite
 * starts (it is in the manifest from then on, and stays there if the rewrite
 * fails). Then the fix-ups have no file of their own: they go to that live
 * file through `fixupSink`, at the point of the stream where they were taken
 * (handed over at the end of each slice, before any other command runs).
 * Loading the new base and then that file gives the dataset: a key the base
 * holds has its value from the start (it was not modified before it was
 * written) and every write since follows; a key the base skipped gets its
 * fix-up (DEL and the commands that rebuild it) after the writes that found
 * it missing, and the writes after the fix-up apply on top of it.
 *
 * The base file is written by a writer child process (persistence/child.ts),
 * as Redis's rewrite child writes it: the base bytes stream to it, it writes
 * `temp-rewriteaof-bg-<its pid>.aof`, fsyncs it at the end of the base and
 * exits 0. Killed by a signal, or failing, it fails the rewrite (and its temp
 * file is removed); the server's own kill (SIGUSR1) is not an error.
 *
 * Loading base + fix-ups gives exactly the dataset at the finish instant, and
 * the incremental file goes on from there.
 */
import { closeSync, fdatasyncSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from '../../server/server.js';
import type { Database } from '../../db/database.js';
import { CommandBuffer } from './resp.js';
import { writeKeyCommands } from './serialize.js';
import { strerror, writeAllSync } from './files.js';
import { tempBaseName, tempIncrName } from './manifest.js';
import { RdbBaseWriter } from './rdb-bridge.js';
import { persistenceOf } from '../index.js';
import { WriterChild, CHILD_NOERROR_RETVAL, SIGUSR1_NUMBER, SIGTERM_NUMBER, type ChildEnd } from '../child.js';
import { bgChildOomScore } from '../../server/oom-score.js';
import { log } from '../log.js';

/** Work per slice before yielding to clients. */
const SLICE_MS = 4;
/** Bytes gathered before a write to the file (small enough to keep a slice short: RDB bytes are checksummed then). */
const WRITE_CHUNK = 128 * 1024;
/** Finish once no more than this many changed keys remain to be written... */
const FINAL_KEYS = 2000;
/** ...or after this many fix-up rounds (a write rate faster than the rewrite). */
const MAX_ROUNDS = 16;

export interface RewriteFiles {
  /** Temporary names in the AOF directory, to be renamed by the caller. */
  baseTemp: string;
  baseSize: number;
  rdbBase: boolean;
  incrTemp: string;
  /** Open for appending: the new incremental file continues after the fix-ups. */
  incrFd: number;
  incrSize: number;
}

/**
 * `logged`: the failure was already logged in Redis's terms (the child's end);
 * `killed`: the server's own SIGUSR1, not counted as a failure.
 */
export type RewriteOutcome = { ok: true; files: RewriteFiles } | { ok: false; error: string; logged?: boolean; killed?: boolean };

export class AofRewrite {
  readonly startedAt = Date.now();
  private readonly snapshot: string[][] = [];
  private dirty: Set<string>[] = [];
  private db = 0;
  private idx = 0;
  private phase: 'base' | 'fixup' | 'done' = 'base';
  private child: WriterChild | null = null;
  /** Base writes the child's pipe has not taken yet; the base phase waits for them. */
  private inflight = 0;
  private waitingWrite = false;
  private incrFd = -1;
  private baseTemp = '';
  private readonly incrTemp: string;
  private baseSize = 0;
  private incrSize = 0;
  private baseSynced = false;
  private readonly out = new CommandBuffer(WRITE_CHUNK + 64 * 1024);
  private readonly fix = new CommandBuffer();
  private fixSelected = -1;
  private readonly rdb: RdbBaseWriter | null;
  private round: Array<[number, string]> = [];
  private roundIdx = 0;
  private rounds = 0;
  private readonly onModified = (db: Database, key: string): void => {
    this.dirty[db.id]?.add(key);
  };
  /** Databases emptied or replaced as a whole (FLUSHDB, FLUSHALL, SWAPDB, a reload) since the last round. */
  private readonly resetDbs = new Set<number>();
  private readonly onFlush = (emptied: Database): void => {
    if (this.phase === 'done') return;
    // Everything written before for this db is void: say so in place, then write
    // the db's whole content again at the next round (after a swap or a reload
    // it holds keys no modification hook reported).
    const id = emptied.id;
    this.fixSelect(id);
    this.fix.appendCommand(['FLUSHDB']);
    if (this.fixupSink !== null) this.writeIncr();
    this.resetDbs.add(id);
    this.dirty[id]?.clear();
    if (this.phase === 'base') {
      if (id > this.db) this.snapshot[id] = [];
      else if (id === this.db) this.idx = this.snapshot[id].length;
    }
  };

  constructor(
    private readonly server: Server,
    private readonly dir: string,
    prefix: string,
    useRdb: boolean,
    private readonly timestamps: boolean,
    private readonly onDone: (outcome: RewriteOutcome) => void,
    /** Where fix-ups go when the live incremental file takes them (the AOF is on); else a temporary incr file. */
    private readonly fixupSink: ((bytes: Buffer) => void) | null = null,
  ) {
    this.incrTemp = fixupSink === null ? tempIncrName(prefix) : '';
    this.rdb = useRdb ? new RdbBaseWriter(server) : null;
  }

  get rdbBase(): boolean {
    return this.rdb !== null;
  }

  /** The writer child's pid while it runs (INFO, logs), else -1. */
  get childPid(): number {
    return this.child !== null && this.child.running ? this.child.pid : -1;
  }

  /**
   * Starts the writer child and opens the temporary files; throws (with nothing
   * left behind) when they cannot be created, or the child cannot start
   * (message "fork: <reason>").
   */
  start(): void {
    const child = WriterChild.spawn({
      kind: 'aof',
      dir: this.dir,
      finalPath: '',
      oomScore: bgChildOomScore(this.server),
      title: 'redis-aof-rewrite',
      log: (level, text) => log(this.server, level, text, 'C'),
    });
    if (typeof child === 'string') throw new Error(`fork: ${child}`);
    this.child = child;
    this.baseTemp = tempBaseName(child.pid);
    try {
      // The temp base exists from now on, as a forked child's would.
      closeSync(openSync(join(this.dir, this.baseTemp), 'w', 0o644));
      if (this.fixupSink === null) this.incrFd = openSync(join(this.dir, this.incrTemp), 'w', 0o644);
    } catch (e) {
      child.kill();
      this.cleanup();
      throw e;
    }
    void child.exited.then((end) => this.childExited(child, end));
    for (const db of this.server.dbs) {
      this.snapshot.push(db.keys.keys.slice());
      this.dirty.push(new Set());
    }
    this.server.modifiedHooks.push(this.onModified);
    this.server.flushHooks.push(this.onFlush);
    writeBaseHeader(this.server, this.out, this.rdb, this.timestamps);
    setImmediate(this.step);
  }

  /**
   * A propagated FUNCTION LOAD/DELETE/FLUSH/RESTORE: function libraries are not
   * keys, so their changes during the rewrite are replayed after the base as they came.
   */
  recordFunctionCommand(argv: readonly string[]): void {
    // The live incremental file has them already, in their place.
    if (this.phase !== 'done' && this.fixupSink === null) this.fix.appendCommand(argv);
  }

  /** Stops (killing the child) and deletes the temporary files (AOF turned off, shutdown). */
  cancel(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.child?.kill();
    this.cleanup();
  }

  /** backgroundRewriteDoneHandler's reading of the child's end. */
  private childExited(child: WriterChild, end: ChildEnd): void {
    let { exitcode, bysignal } = end;
    if (bysignal === 0 && exitcode === CHILD_NOERROR_RETVAL) {
      bysignal = SIGUSR1_NUMBER;
      exitcode = 1;
    }
    if (child.killedOnPurpose && (bysignal === SIGTERM_NUMBER || (bysignal === 0 && exitcode !== 0))) bysignal = SIGUSR1_NUMBER;
    if (bysignal === 0 && exitcode === 0) {
      // The base is on disk (fsynced by the child): the fix-ups can finish.
      if (this.phase === 'fixup') {
        this.baseSynced = true;
        return;
      }
      // It ended before the base did (its input closed early): a failure.
      exitcode = 1;
    }
    if (this.phase === 'done') {
      // Cancelled (killAppendOnlyChild): cleanup() removed the files already.
      return;
    }
    if (bysignal === 0) {
      log(this.server, 'warning', 'Background AOF rewrite terminated with error');
      this.fail(`exit code ${exitcode}`, true);
    } else {
      log(this.server, 'warning', `Background AOF rewrite terminated by signal ${bysignal}`);
      this.fail(`killed by signal ${bysignal}`, true, bysignal === SIGUSR1_NUMBER);
    }
  }

  get inProgress(): boolean {
    return this.phase !== 'done';
  }

  private readonly step = (): void => {
    if (this.phase === 'done') return;
    // The child's pipe paces the base: wait until it took what was written.
    if (this.inflight > 0) {
      this.waitingWrite = true;
      return;
    }
    const deadline = performance.now() + SLICE_MS;
    let idle = false;
    // rdb-key-save-delay (µs per key, as Redis's rewrite sleeps): a few keys per timer tick.
    const delay = this.phase === 'base' ? this.server.config.getNumber('rdb-key-save-delay') : 0;
    const perTick = delay > 0 ? Math.max(1, Math.floor(1000 / delay)) : Infinity;
    try {
      if (this.phase === 'base') this.baseSlice(deadline, perTick);
      if (this.phase === 'fixup') idle = this.fixupSlice(deadline);
      // Before any other command runs, so the fix-ups sit where they were taken.
      if (this.fixupSink !== null && this.inProgress) this.writeIncr();
    } catch (e) {
      this.fail(strerror(e));
      return;
    }
    if (!this.inProgress) return;
    if (delay > 0 && this.phase === 'base') {
      setTimeout(this.step, Math.min(2 ** 31 - 1, Math.max(1, Math.round((delay * perTick) / 1000))));
      return;
    }
    // Waiting for the base file's fsync with nothing else to do: do not spin.
    if (idle) setTimeout(this.step, 1);
    else setImmediate(this.step);
  };

  // ---- base phase ---------------------------------------------------------------

  private baseSlice(deadline: number, maxKeys: number): void {
    const server = this.server;
    const now = server.clock.now();
    let n = 0;
    while (this.db < this.snapshot.length) {
      const keys = this.snapshot[this.db];
      const db = server.dbs[this.db];
      const dirty = this.dirty[this.db];
      if (this.idx === 0 && keys.length > 0) this.beginDb(this.db, keys.length, db.expires.size);
      while (this.idx < keys.length) {
        const key = keys[this.idx++];
        if (!dirty.has(key)) {
          const value = db.peek(key);
          if (value !== undefined) {
            const exp = db.getExpire(key);
            if (exp === -1 || exp > now) {
              if (this.rdb) this.rdb.keyValue(key, value, exp, db, db.keys.find(key));
              else writeKeyCommands(this.out, key, value, exp);
              if (this.out.len >= WRITE_CHUNK || (this.rdb !== null && this.rdb.pending >= WRITE_CHUNK)) this.writeBase();
            }
          }
        }
        if (++n >= maxKeys || ((n & 63) === 0 && performance.now() >= deadline)) return;
      }
      this.snapshot[this.db] = [];
      this.db++;
      this.idx = 0;
    }
    if (this.rdb) this.rdb.end();
    this.writeBase();
    // The base is complete: the child syncs it and exits 0 (childExited) while the fix-ups start.
    this.child?.end();
    this.phase = 'fixup';
    this.startRound();
  }

  private beginDb(db: number, keys: number, expires: number): void {
    if (this.rdb) this.rdb.selectDb(db, keys, expires);
    else this.out.appendCommand(['SELECT', String(db)]);
  }

  private writeBase(): void {
    if (this.rdb !== null) this.out.appendBuffer(this.rdb.take());
    if (this.out.len === 0) return;
    const child = this.child!;
    // A copy: the buffer is reused at once, the pipe takes the bytes later.
    const chunk = Buffer.from(this.out.buf.subarray(0, this.out.len));
    this.baseSize += chunk.length;
    this.out.reset();
    this.inflight++;
    const taken = (): void => {
      this.inflight--;
      if (this.inflight === 0 && this.waitingWrite) {
        this.waitingWrite = false;
        setImmediate(this.step);
      }
    };
    // A failed write means the child is gone: its end (childExited) decides.
    child.write(chunk).then(taken, () => {
      this.inflight--;
    });
  }

  // ---- fix-up phase ---------------------------------------------------------------

  private pendingDirty(): number {
    let n = 0;
    for (const id of this.resetDbs) n += this.server.dbs[id].size + 1;
    for (const d of this.dirty) n += d.size;
    return n;
  }

  private startRound(): void {
    this.round = [];
    this.roundIdx = 0;
    this.rounds++;
    for (const id of this.resetDbs) for (const key of this.server.dbs[id].keys.keys) this.dirty[id].add(key);
    this.resetDbs.clear();
    for (let i = 0; i < this.dirty.length; i++) {
      for (const key of this.dirty[i]) this.round.push([i, key]);
      this.dirty[i] = new Set();
    }
  }

  /** Returns true when it only waits (for the base fsync). */
  private fixupSlice(deadline: number): boolean {
    for (;;) {
      while (this.roundIdx < this.round.length) {
        const [db, key] = this.round[this.roundIdx++];
        this.writeFixup(db, key);
        if ((this.roundIdx & 63) === 0 && performance.now() >= deadline) return false;
      }
      const pending = this.pendingDirty();
      if (pending <= FINAL_KEYS || this.rounds >= MAX_ROUNDS) {
        if (this.baseSynced) {
          this.finish();
          return false;
        }
        // Few enough keys for the finish: wait for the child's fsync of the base
        // rather than rewrite the same keys again and again meanwhile.
        return true;
      }
      this.startRound();
      if (performance.now() >= deadline) return false;
    }
  }

  private fixSelect(db: number): void {
    if (db === this.fixSelected) return;
    this.fix.appendCommand(['SELECT', String(db)]);
    this.fixSelected = db;
  }

  private writeFixup(dbIndex: number, key: string): void {
    const db = this.server.dbs[dbIndex];
    this.fixSelect(dbIndex);
    this.fix.appendCommand(['DEL', key]);
    const value = db.peek(key);
    if (value !== undefined) writeKeyCommands(this.fix, key, value, db.getExpire(key));
    if (this.fix.len >= WRITE_CHUNK) this.writeIncr();
  }

  private writeIncr(): void {
    if (this.fix.len === 0) return;
    if (this.fixupSink !== null) {
      this.fixupSink(this.fix.buf.subarray(0, this.fix.len));
      // Other writes come between: the next fix-up says its database again.
      this.fixSelected = -1;
    } else {
      writeAllSync(this.incrFd, this.fix.buf, 0, this.fix.len);
      this.incrSize += this.fix.len;
    }
    this.fix.reset();
  }

  /** The synchronous end: last changed keys, fsync both files, hand them over. */
  private finish(): void {
    this.startRound();
    while (this.roundIdx < this.round.length) {
      const [db, key] = this.round[this.roundIdx++];
      this.writeFixup(db, key);
    }
    this.writeIncr();
    if (this.incrFd >= 0) fdatasyncSync(this.incrFd);
    this.phase = 'done';
    this.unhook();
    const files: RewriteFiles = {
      baseTemp: this.baseTemp,
      baseSize: this.baseSize,
      rdbBase: this.rdb !== null,
      incrTemp: this.incrTemp,
      incrFd: this.incrFd,
      incrSize: this.incrSize,
    };
    this.incrFd = -1;
    this.onDone({ ok: true, files });
  }

  private fail(error: string, logged = false, killed = false): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.child?.kill();
    this.cleanup();
    this.onDone({ ok: false, error, logged, killed });
  }

  private unhook(): void {
    const m = this.server.modifiedHooks.indexOf(this.onModified);
    if (m >= 0) this.server.modifiedHooks.splice(m, 1);
    const f = this.server.flushHooks.indexOf(this.onFlush);
    if (f >= 0) this.server.flushHooks.splice(f, 1);
  }

  private cleanup(): void {
    this.unhook();
    if (this.incrFd >= 0) {
      try {
        closeSync(this.incrFd);
      } catch {
        // already closed
      }
    }
    this.incrFd = -1;
    for (const name of [this.baseTemp, this.incrTemp]) {
      if (name === '') continue;
      try {
        unlinkSync(join(this.dir, name));
      } catch {
        // never created
      }
    }
    this.snapshot.length = 0;
    this.dirty = [];
  }
}

/**
 * What a base file starts with: the RDB header (with the function libraries),
 * or for an AOF base a timestamp annotation and one FUNCTION LOAD per library,
 * as Redis's rewrite writes them.
 */
function writeBaseHeader(server: Server, out: CommandBuffer, rdb: RdbBaseWriter | null, timestamps: boolean): void {
  const functions = persistenceOf(server).functions?.dump() ?? [];
  if (rdb) {
    rdb.header(functions);
    return;
  }
  if (timestamps) out.appendRaw(`#TS:${Math.floor(Date.now() / 1000)}\r\n`);
  for (const code of functions) out.appendCommand(['FUNCTION', 'LOAD', code]);
}

/**
 * Writes the whole dataset as a base file in one go (the base created when
 * AOF starts on an empty directory). Returns the bytes written.
 */
export function writeDatasetSync(server: Server, fd: number, useRdb: boolean, timestamps: boolean): number {
  const rdb = useRdb ? new RdbBaseWriter(server) : null;
  const out = new CommandBuffer();
  let size = 0;
  const drain = () => {
    if (rdb !== null) out.appendBuffer(rdb.take());
    writeAllSync(fd, out.buf, 0, out.len);
    size += out.len;
    out.reset();
  };
  writeBaseHeader(server, out, rdb, timestamps);
  for (const db of server.dbs) {
    if (db.size === 0) continue;
    if (rdb) rdb.selectDb(db.id, db.size, db.expires.size);
    else out.appendCommand(['SELECT', String(db.id)]);
    const keys = db.keys.keys;
    const vals = db.keys.vals;
    for (let i = 0; i < keys.length; i++) {
      if (rdb) rdb.keyValue(keys[i], vals[i], db.getExpire(keys[i]), db, i);
      else writeKeyCommands(out, keys[i], vals[i], db.getExpire(keys[i]));
      if (out.len >= WRITE_CHUNK || (rdb !== null && rdb.pending >= WRITE_CHUNK)) drain();
    }
  }
  if (rdb) rdb.end();
  drain();
  return size;
}
