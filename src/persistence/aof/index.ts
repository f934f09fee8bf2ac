/**
 * The append-only file, Redis 7.0 style: a directory (`appenddirname`) with a
 * base file, incremental files and a manifest. This module owns the AOF state
 * (off / on / waiting for the first rewrite), the configuration hooks,
 * loading at startup, BGREWRITEAOF and automatic rewrites, and INFO's AOF
 * fields. The pieces: writer.ts (append + fsync policies), loader.ts,
 * rewrite.ts, manifest.ts.
 *
 * Wiring (see installAof): every propagated write reaches `feed` through
 * `server.propagateSinks`; the connection layer calls `server.replyBarrier`
 * before writing replies, which is where appendfsync always holds them until
 * the fsync.
 */
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, renameSync, unlink, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from '../../server/server.js';
import { PROPAGATE_AOF, type PropagateSink } from '../../server/propagate.js';
import type { Client } from '../../server/client.js';
import { Database } from '../../db/database.js';
import { scriptingIfUsed } from '../../scripting/context.js';
import type { InfoFields } from '../../observability/info.js';
import { AofWriter, type FsyncPolicy } from './writer.js';
import { AofRewrite, writeDatasetSync, type RewriteFiles, type RewriteOutcome } from './rewrite.js';
import { AofLoadError, loadAofFiles, readManifest } from './loader.js';
import {
  AofManifestError,
  baseFileName,
  cloneManifest,
  emptyManifest,
  formatManifest,
  incrFileName,
  manifestName,
  tempIncrName,
  tempManifestName,
  type AofInfo,
  type AofManifest,
} from './manifest.js';
import { fileSizeOr0, fsyncDir, strerror, writeFileAtomic } from './files.js';
import { log, type LogLevel } from '../log.js';
import { addPersistenceInfo, persistenceOf, LOADING_ERROR } from '../index.js';

export { AofLoadError, AofManifestError };

export type AofState = 'off' | 'on' | 'wait-rewrite';

/** Server fields the lead adds for the AOF (see installAof). */
interface AofServerHooks {
  replyBarrier?: ((c: Client) => boolean) | null;
}

const managers = new WeakMap<Server, Aof>();

/** The AOF of a server, if installed. */
export function getAof(server: Server): Aof | undefined {
  return managers.get(server);
}

/** True for the errors that must stop the server at startup (bad manifest, corrupt AOF, ...). */
export function isAofFatal(e: unknown): e is Error {
  return e instanceof AofLoadError || e instanceof AofManifestError;
}

export class Aof {
  private stateValue: AofState = 'off';
  private rewriteValue: AofRewrite | null = null;
  readonly writer: AofWriter;
  manifest: AofManifest = emptyManifest();

  get state(): AofState {
    return this.stateValue;
  }

  set state(v: AofState) {
    this.stateValue = v;
    this.syncSink();
  }

  get rewrite(): AofRewrite | null {
    return this.rewriteValue;
  }

  set rewrite(v: AofRewrite | null) {
    this.rewriteValue = v;
    this.syncSink();
  }

  /**
   * The propagation sink is registered only while the AOF (or a rewrite) needs the
   * stream: with `appendonly no` writes queue nothing for it (the hot path stays clear).
   */
  private syncSink(): void {
    const sinks = this.server.propagateSinks;
    const i = sinks.indexOf(this.feed);
    const wanted = this.stateValue === 'on' || this.rewriteValue !== null;
    if (wanted && i < 0) sinks.push(this.feed);
    else if (!wanted && i >= 0) sinks.splice(i, 1);
  }
  /** A rewrite to start from the cron (retry while turning the AOF on). */
  rewriteScheduled = false;
  rewrites = 0;
  consecutiveFailures = 0;
  lastBgrewriteStatus: 'ok' | 'err' = 'ok';
  lastRewriteTimeSec = -1;
  /** Size when the last rewrite ended (or of the base at startup): auto-rewrite growth is measured from it. */
  rewriteBaseSize = 0;
  /** Bytes of the base and of the incremental files before the current one. */
  private closedSize = 0;
  /** aofRewriteLimited's state: the current delay, and when automatic rewrites may run again (0: not limited). */
  private limitDelayMinutes = 0;
  private limitUntil = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly server: Server) {
    this.writer = new AofWriter(server);
    const config = server.config;
    this.writer.policy = (config.get('appendfsync') ?? 'everysec') as FsyncPolicy;
    this.writer.timestamps = config.getBool('aof-timestamp-enabled');
    this.writer.flushSleepMicros = () => persistenceOf(server).aofFlushSleepMicros;
    this.writer.fsyncSuppressed = () => this.rewrite !== null && config.getBool('no-appendfsync-on-rewrite');
  }

  // ---- paths -----------------------------------------------------------------------------

  get dir(): string {
    return join(this.server.config.get('dir') ?? process.cwd(), this.server.config.get('appenddirname') ?? 'appendonlydir');
  }

  get prefix(): string {
    return this.server.config.get('appendfilename') ?? 'appendonly.aof';
  }

  /** aof_current_size: base plus incremental files, as written so far. */
  get currentSize(): number {
    return this.closedSize + this.writer.fileSize;
  }

  private log(level: LogLevel, message: string): void {
    log(this.server, level, message);
  }

  private useRdbPreamble(): boolean {
    return this.server.config.getBool('aof-use-rdb-preamble');
  }

  /** The manifest on disk is read once, when the AOF is first needed. */
  private manifestRead = false;

  private ensureManifest(): void {
    if (this.manifestRead) return;
    this.manifestRead = true;
    this.manifest = readManifest(this.dir, this.prefix) ?? emptyManifest();
  }

  // ---- startup -----------------------------------------------------------------------------

  /**
   * Startup with appendonly yes (persistence's aofStartupLoader): reads the
   * manifest, loads the dataset from the AOF (clients get -LOADING meanwhile)
   * and opens the incremental file, creating the first files in an empty
   * directory. Rejects with AofLoadError / AofManifestError when the server
   * must not start (messages as Redis's); nothing is opened then.
   */
  async startup(): Promise<void> {
    try {
      this.manifestRead = true;
      this.manifest = this.maybeUpgradeOldAof(readManifest(this.dir, this.prefix)) ?? emptyManifest();
      const result = await loadAofFiles(this.server, this.dir, this.manifest, {
        loadTruncated: this.server.config.getBool('aof-load-truncated'),
        log: (level, msg) => this.log(level, msg),
      });
      this.rewriteBaseSize = result.baseSize;
      this.openOnStart(result.sizes);
      this.state = 'on';
      this.deleteHistory();
    } catch (e) {
      if (isAofFatal(e)) this.log('warning', e.message);
      throw e;
    }
  }

  /**
   * A pre-7.0 single AOF file in `dir` becomes the base of the AOF directory, as Redis
   * decides it: when there is no AOF directory, or no manifest (or one listing nothing),
   * or the manifest lists only a base named like the old file that is not in the
   * directory yet (an upgrade interrupted between the manifest and the rename).
   * Otherwise the manifest read (or null) is returned as it is.
   */
  private maybeUpgradeOldAof(read: AofManifest | null): AofManifest | null {
    const old = join(this.server.config.get('dir') ?? process.cwd(), this.prefix);
    if (!existsSync(old)) return read;
    const upgrade =
      !existsSync(this.dir) ||
      read === null ||
      (read.base === null && read.incrs.length === 0) ||
      (read.base !== null && read.incrs.length === 0 && read.base.name === this.prefix && !existsSync(join(this.dir, this.prefix)));
    if (!upgrade) return read;
    this.ensureDir();
    const m = read ?? emptyManifest();
    m.base = { name: this.prefix, seq: 1, type: 'b' };
    m.baseSeq = 1;
    this.persistManifest(m);
    try {
      renameSync(old, join(this.dir, this.prefix));
    } catch (e) {
      throw new AofLoadError(
        `Error trying to move the old AOF file ${this.prefix} into dir ${this.server.config.get('appenddirname')}: ${strerror(e)}`,
      );
    }
    this.log(
      'notice',
      `Successfully migrated an old-style AOF file (${this.prefix}) into the AOF directory (${this.server.config.get('appenddirname')}).`,
    );
    return m;
  }

  private ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new AofLoadError(`Can't open or create append-only dir ${this.server.config.get('appenddirname')}: ${strerror(e)}`);
    }
  }

  /** Creates the first base and incr files if needed and opens the incr file for appending. */
  private openOnStart(sizes: Map<string, number>): void {
    this.ensureDir();
    const m = cloneManifest(this.manifest);
    let changed = false;
    if (m.base === null && m.incrs.length === 0) {
      const rdb = this.useRdbPreamble();
      const name = baseFileName(this.prefix, m.baseSeq + 1, rdb);
      const fd = this.openOrDie(name, 'w');
      try {
        sizes.set(name, writeDatasetSync(this.server, fd, rdb, this.writer.timestamps));
      } finally {
        closeSync(fd);
      }
      m.baseSeq++;
      m.base = { name, seq: m.baseSeq, type: 'b' };
      changed = true;
      this.log('notice', `Creating AOF base file ${name} on server start`);
    }
    let incr: AofInfo;
    if (m.incrs.length === 0) {
      m.incrSeq++;
      incr = { name: incrFileName(this.prefix, m.incrSeq), seq: m.incrSeq, type: 'i' };
      m.incrs.push(incr);
      changed = true;
      this.log('notice', `Creating AOF incr file ${incr.name} on server start`);
    } else {
      incr = m.incrs[m.incrs.length - 1];
      this.log('notice', `Opening AOF incr file ${incr.name} on server start`);
    }
    const fd = this.openOrDie(incr.name, 'a');
    if (changed) this.persistManifest(m);
    this.manifest = m;
    let closed = 0;
    if (m.base) closed += sizes.get(m.base.name) ?? fileSizeOr0(join(this.dir, m.base.name));
    for (const i of m.incrs) if (i !== incr) closed += sizes.get(i.name) ?? fileSizeOr0(join(this.dir, i.name));
    this.closedSize = closed;
    this.writer.switchTo(fd, fileSizeOr0(join(this.dir, incr.name)));
  }

  private openOrDie(name: string, flags: 'w' | 'a'): number {
    try {
      return openSync(join(this.dir, name), flags, 0o644);
    } catch (e) {
      throw new AofLoadError(`Can't open the append-only file ${name}: ${strerror(e)}`);
    }
  }

  private persistManifest(m: AofManifest): void {
    writeFileAtomic(this.dir, tempManifestName(this.prefix), manifestName(this.prefix), formatManifest(m));
  }

  /**
   * Deletes files the manifest lists as history (in the background, as Redis's
   * bio thread does), then drops them from the manifest, unless aof-disable-auto-gc.
   */
  private deleteHistory(gcDisabled = this.server.config.getBool('aof-disable-auto-gc')): void {
    if (this.manifest.history.length === 0 || gcDisabled) return;
    for (const h of this.manifest.history) {
      this.log('notice', `Removing the history file ${h.name} in the background`);
      unlink(join(this.dir, h.name), () => {
        // already gone is fine
      });
    }
    const m = cloneManifest(this.manifest);
    m.history = [];
    try {
      this.persistManifest(m);
      this.manifest = m;
    } catch (e) {
      this.log('warning', `Error trying to persist the AOF manifest after deleting history files: ${strerror(e)}`);
    }
  }

  /** Deletes the history files now (CONFIG SET aof-disable-auto-gc no). */
  collectHistory(): void {
    this.deleteHistory(false);
  }

  // ---- the live stream ---------------------------------------------------------------------

  /** The propagation sink. */
  readonly feed: PropagateSink = Object.assign(
    (db: number, argv: string[]): void => {
      if (this.state === 'on') this.writer.feed(db, argv);
      if (this.rewrite !== null && argv[0].length === 8 && argv[0].toLowerCase() === 'function') this.rewrite.recordFunctionCommand(argv);
    },
    { target: PROPAGATE_AOF },
  );

  /** MISCONF text while the AOF cannot be written (writes are refused meanwhile, as Redis). */
  writeDeniedError(): string | null {
    if (this.state !== 'on' || this.writer.lastError === null) return null;
    return `MISCONF Errors writing to the AOF file: ${this.writer.lastError}`;
  }

  // ---- turning on and off ---------------------------------------------------------------------

  /** CONFIG SET appendonly yes: a rewrite creates the files; writes are appended once it is done. */
  enable(): string | null {
    if (this.state !== 'off') return null;
    try {
      this.ensureManifest();
    } catch (e) {
      this.log('warning', (e as Error).message);
      return 'Unable to turn on AOF. Check server logs.';
    }
    this.state = 'wait-rewrite';
    if (this.bgsaveActive()) {
      // One background job at a time, as Redis: the rewrite starts once the BGSAVE is done.
      this.rewriteScheduled = true;
      this.log('warning', 'AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.');
      return null;
    }
    if (this.server.inExec > 0) {
      // As Redis, no background job starts inside a transaction: the cron starts it.
      this.rewriteScheduled = true;
      this.log('warning', 'AOF was enabled during a transaction. An AOF background was scheduled to start when possible.');
      return null;
    }
    if (this.rewrite !== null) {
      this.log('warning', 'AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.');
      this.cancelRewrite();
    }
    const err = this.startRewrite();
    if (err !== null) {
      this.state = 'off';
      this.log('warning', 'Redis needs to enable the AOF but can\'t trigger a background AOF rewrite operation. Check the above logs for more info about the error.');
      return 'Unable to turn on AOF. Check server logs.';
    }
    return null;
  }

  /** CONFIG SET appendonly no: flush, fsync and close; the files stay. */
  disable(): void {
    if (this.state === 'off') return;
    if (this.rewrite !== null) this.cancelRewrite();
    this.writer.close();
    this.closedSize = 0;
    this.state = 'off';
    this.rewriteScheduled = false;
  }

  private bgsaveActive(): boolean {
    return persistenceOf(this.server).bgsave !== null;
  }

  private cancelRewrite(): void {
    const rw = this.rewrite;
    if (rw === null) return;
    // Redis's killAppendOnlyChild line (the fix-up phase runs in the server: its writer child has exited then).
    const pid = rw.childPid;
    this.log('notice', pid >= 0 ? `Killing running AOF rewrite child: ${pid}` : 'Killing running AOF rewrite child');
    rw.cancel();
    this.rewrite = null;
  }

  // ---- rewriting ---------------------------------------------------------------------------

  /** BGREWRITEAOF. Returns null when started, or the reason it could not start. */
  startRewrite(): string | null {
    if (this.rewrite !== null) return 'in-progress';
    this.rewriteScheduled = false;
    try {
      this.ensureManifest();
    } catch (e) {
      this.log('warning', (e as Error).message);
      this.rewriteFailed();
      return (e as Error).message;
    }
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      this.log('warning', `Can't open or create append-only dir ${this.server.config.get('appenddirname')}: ${strerror(e)}`);
      this.rewriteFailed();
      return strerror(e);
    }
    // With the AOF on, later writes go to a new incr file from now on (openNewIncrAofForAppend).
    const live = this.state === 'on';
    if (live) {
      const err = this.openNewIncr();
      if (err !== null) {
        this.rewriteFailed();
        return err;
      }
    }
    const rw = new AofRewrite(
      this.server,
      this.dir,
      this.prefix,
      this.server.config.getBool('aof-use-rdb-preamble'),
      this.writer.timestamps,
      (outcome) => this.rewriteDone(rw, outcome),
      live ? (bytes) => this.writer.feedRaw(bytes) : null,
    );
    const spawnStart = performance.now();
    try {
      rw.start();
    } catch (e) {
      const why = strerror(e);
      this.log('warning', why.startsWith('fork: ') ? `Can't rewrite append only file in background: ${why}` : `Can't start the AOF rewrite: ${why}`);
      this.rewriteFailed();
      return why;
    }
    this.rewrite = rw;
    const st = persistenceOf(this.server);
    st.latestForkUsec = Math.round((performance.now() - spawnStart) * 1000);
    st.backgroundJobs++;
    this.log('notice', `Background append only file rewriting started by pid ${rw.childPid}`);
    return null;
  }

  /**
   * Redis's openNewIncrAofForAppend for an AOF that is on: flushes the current
   * incr file, creates the next one, persists the manifest with it and appends
   * there. Returns null, or the error (nothing changed then).
   */
  private openNewIncr(): string | null {
    this.writer.writePending();
    const m = cloneManifest(this.manifest);
    m.incrSeq++;
    const incr: AofInfo = { name: incrFileName(this.prefix, m.incrSeq), seq: m.incrSeq, type: 'i' };
    let fd: number;
    try {
      fd = openSync(join(this.dir, incr.name), 'w', 0o644);
    } catch (e) {
      this.log('warning', `Can't open the append-only file ${incr.name}: ${strerror(e)}`);
      return strerror(e);
    }
    m.incrs.push(incr);
    try {
      this.persistManifest(m);
    } catch (e) {
      closeSync(fd);
      unlinkQuietly(join(this.dir, incr.name));
      this.log('warning', `Can't persist the AOF manifest: ${strerror(e)}`);
      return strerror(e);
    }
    this.log('notice', `Creating AOF incr file ${incr.name} on background rewrite`);
    this.manifest = m;
    this.closedSize += this.writer.fileSize;
    // The old file is complete: synced before it is closed (Redis: aof_background_fsync_and_close).
    if (this.writer.fd >= 0) {
      try {
        fdatasyncSync(this.writer.fd);
      } catch {
        // A failing disk shows in the next write's error.
      }
    }
    this.writer.switchTo(fd, 0);
    return null;
  }

  private rewriteFailed(): void {
    this.lastBgrewriteStatus = 'err';
    this.consecutiveFailures++;
    if (this.state === 'wait-rewrite') this.rewriteScheduled = true;
  }

  private rewriteDone(rw: AofRewrite, outcome: RewriteOutcome): void {
    if (this.rewrite !== rw) return;
    this.rewrite = null;
    if (!outcome.ok) {
      if (outcome.logged !== true) this.log('warning', `Background AOF rewrite failed: ${outcome.error}`);
      // The rewrite removed its temporary incr file; Redis logs that while the AOF is being turned on.
      if (this.state === 'wait-rewrite') this.log('notice', `Removing the temp incr aof file ${tempIncrName(this.prefix)} in the background`);
      // The server's own kill of the child (SIGUSR1) is not a failure, as in Redis.
      if (outcome.killed === true) {
        if (this.state === 'wait-rewrite') this.rewriteScheduled = true;
      } else this.rewriteFailed();
      return;
    }
    try {
      this.commitRewrite(outcome.files, rw.startedAt);
    } catch (e) {
      this.log('warning', `Error committing the rewritten AOF: ${strerror(e)}`);
      this.rewriteFailed();
    }
  }

  /** Renames the new files into place, persists the manifest and moves the append stream to the new incr file. */
  private commitRewrite(files: RewriteFiles, startedAt: number): void {
    const dir = this.dir;
    const old = this.manifest;
    const live = this.state !== 'off';
    // The fix-ups went to the incr file opened when the rewrite started, which goes on.
    const inPlace = files.incrTemp === '';
    // Writes still buffered belong to the old incr file (used if we crash before the manifest changes).
    if (this.state === 'on') this.writer.writePending();
    const next = cloneManifest(old);
    next.baseSeq = old.baseSeq + 1;
    const base: AofInfo = { name: baseFileName(this.prefix, next.baseSeq, files.rdbBase), seq: next.baseSeq, type: 'b' };
    const keepIncr = !inPlace && (live || files.incrSize > 0);
    const created: string[] = [];
    try {
      renameSync(join(dir, files.baseTemp), join(dir, base.name));
      created.push(base.name);
      next.base = base;
      // As Redis prepends them: the old base, then the rewritten incr files ahead of it, oldest first
      // (markRewrittenIncrAofAsHistory: all but the one being written).
      next.history = [...old.history];
      if (old.base) next.history.unshift({ ...old.base, type: 'h' });
      const rewritten = inPlace ? old.incrs.slice(0, -1) : old.incrs;
      for (let k = rewritten.length - 1; k >= 0; k--) next.history.unshift({ ...rewritten[k], type: 'h' });
      next.incrs = inPlace ? old.incrs.slice(-1) : [];
      if (keepIncr) {
        next.incrSeq = old.incrSeq + 1;
        const incr: AofInfo = { name: incrFileName(this.prefix, next.incrSeq), seq: next.incrSeq, type: 'i' };
        renameSync(join(dir, files.incrTemp), join(dir, incr.name));
        created.push(incr.name);
        next.incrs.push(incr);
        this.log('notice', `Successfully renamed the temporary AOF incr file ${files.incrTemp} into ${incr.name}`);
      }
      this.persistManifest(next);
    } catch (e) {
      // Not committed: the old manifest and files are still the AOF.
      if (!inPlace) closeQuietly(files.incrFd);
      for (const name of [files.baseTemp, files.incrTemp, ...created]) if (name !== '') unlinkQuietly(join(dir, name));
      throw e;
    }
    fsyncDir(dir);
    this.log('notice', `Successfully renamed the temporary AOF base file ${files.baseTemp} into ${base.name}`);
    this.manifest = next;
    if (inPlace) {
      // Appending goes on where it is.
    } else if (live) {
      this.writer.switchTo(files.incrFd, files.incrSize);
      if (this.state === 'wait-rewrite') {
        this.state = 'on';
        this.log('notice', 'AOF rewrite: the append only file is now enabled');
      }
    } else {
      closeQuietly(files.incrFd);
      if (!keepIncr) unlinkQuietly(join(dir, files.incrTemp));
    }
    this.closedSize = files.baseSize;
    if (!live) this.closedSize += files.incrSize;
    this.rewriteBaseSize = this.currentSize;
    this.rewrites++;
    this.consecutiveFailures = 0;
    this.lastBgrewriteStatus = 'ok';
    this.lastRewriteTimeSec = Math.round((Date.now() - startedAt) / 1000);
    this.log('notice', 'Background AOF rewrite finished successfully');
    // At once, as Redis's rewrite-done handler: a client that sees the rewrite finished
    // (INFO aof_rewrite_in_progress:0) must find the manifest without history entries.
    this.deleteHistory();
  }

  // ---- DEBUG LOADAOF -------------------------------------------------------------------------

  /**
   * DEBUG LOADAOF, as Redis 7.0: write what is pending to the AOF, empty the
   * dataset (function libraries included) and load it again from the files
   * of the manifest, whether appendonly is on or not (the manifest read at
   * start-up, or kept since the AOF was turned off). Other clients get
   * -LOADING meanwhile; dirty is reset (nothing of it propagates).
   *
   * Resolves with null when loaded, or the reason it could not load. Where
   * Redis exits (no AOF files, a corrupt file) we reply an error instead and
   * put the previous keys back (function libraries stay flushed).
   */
  async debugLoadAof(): Promise<string | null> {
    const server = this.server;
    const st = persistenceOf(server);
    if (st.loading) return LOADING_ERROR;
    if (this.state === 'on') this.writer.sync();
    try {
      // As Redis (aofLoadManifestFromDisk): the manifest is read again, so the next
      // incr file's number follows the incr files listed, not the ones made since.
      this.manifestRead = false;
      this.ensureManifest();
    } catch (e) {
      this.log('warning', (e as Error).message);
      return `ERR ${(e as Error).message}`;
    }
    const manifest = this.manifest;
    if (manifest.base === null && manifest.incrs.length === 0) {
      this.log('warning', 'DEBUG LOADAOF: there are no AOF files to load');
      return 'ERR There are no AOF files to load (no AOF manifest, or an empty one).';
    }
    // A rewrite would follow the dataset while it is replaced: start it again afterwards.
    if (this.rewrite !== null) {
      this.cancelRewrite();
      this.rewriteScheduled = true;
    }
    // Empty the dataset, keeping the old keys aside until the load succeeded.
    const aside = server.dbs.map((db) => {
      const held = new Database(db.id, server);
      if (db.size > 0) server.databaseReplaced(db, null);
      db.swapWith(held);
      return held;
    });
    scriptingIfUsed(server)?.flushFunctions();
    try {
      await loadAofFiles(server, this.dir, manifest, {
        loadTruncated: server.config.getBool('aof-load-truncated'),
        log: (level, msg) => this.log(level, msg),
      });
    } catch (e) {
      for (let i = 0; i < server.dbs.length; i++) {
        const db = server.dbs[i];
        if (db.size > 0) server.databaseReplaced(db, null);
        db.swapWith(aside[i]);
      }
      const why = (e as Error).message;
      this.log('warning', `DEBUG LOADAOF failed, the previous dataset is back: ${why}`);
      return 'ERR Error trying to load the AOF files, check server logs.';
    }
    server.dirty = 0;
    this.log('warning', 'Append Only File loaded by DEBUG LOADAOF');
    return null;
  }

  // ---- periodic work -----------------------------------------------------------------------

  /** Write retries, the everysec fsync, scheduled and automatic rewrites. */
  cron(): void {
    if (persistenceOf(this.server).loading) return;
    if (this.state === 'on') this.writer.sync();
    if (this.rewrite !== null || this.bgsaveActive()) return;
    if (this.rewriteScheduled) {
      if (!this.rewriteLimited()) this.startRewrite();
      return;
    }
    if (this.state !== 'on') return;
    const config = this.server.config;
    const perc = config.getNumber('auto-aof-rewrite-percentage');
    const size = this.currentSize;
    if (perc > 0 && size > config.getNumber('auto-aof-rewrite-min-size')) {
      const base = this.rewriteBaseSize > 0 ? this.rewriteBaseSize : 1;
      const growth = Math.floor((size * 100) / base) - 100;
      if (growth >= perc && !this.rewriteLimited()) {
        this.log('notice', `Starting automatic rewriting of AOF on ${growth}% growth`);
        this.startRewrite();
      }
    }
  }

  /**
   * Redis's aofRewriteLimited: after 3 failed rewrites in a row, the cron's
   * rewrites (scheduled or automatic; not BGREWRITEAOF) wait 1 minute, then 2,
   * 4, ... at most 60; the wait starts when one is first due, with a log line.
   */
  private rewriteLimited(): boolean {
    if (this.consecutiveFailures < 3) {
      this.limitDelayMinutes = 0;
      this.limitUntil = 0;
      return false;
    }
    if (this.limitUntil !== 0) {
      if (Date.now() < this.limitUntil) return true;
      this.limitUntil = 0;
      return false;
    }
    this.limitDelayMinutes = this.limitDelayMinutes === 0 ? 1 : Math.min(this.limitDelayMinutes * 2, 60);
    this.limitUntil = Date.now() + this.limitDelayMinutes * 60_000;
    this.log('warning', `Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.limitDelayMinutes} minutes`);
    return true;
  }

  startTimer(): void {
    if (this.timer !== null) return;
    const hz = Math.max(1, this.server.config.getNumber('hz'));
    this.timer = setInterval(() => this.cron(), Math.max(1, Math.floor(1000 / hz)));
    this.timer.unref();
  }

  /** Server shutdown: stop a rewrite, write and fsync what is pending, close. */
  shutdown(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.rewrite !== null) this.cancelRewrite();
    if (this.state !== 'off') {
      this.log('notice', 'Calling fsync() on the AOF file.');
      this.writer.close();
    }
  }

  // ---- INFO ----------------------------------------------------------------------------------

  /** Sets the aof_* fields of INFO persistence (and adds the ones Redis shows while AOF is on). */
  infoFields(fields: InfoFields): InfoFields {
    const rw = this.rewrite;
    const set: Record<string, string | number> = {
      aof_enabled: this.state !== 'off' ? 1 : 0,
      aof_rewrite_in_progress: rw !== null ? 1 : 0,
      aof_rewrite_scheduled: this.rewriteScheduled ? 1 : 0,
      aof_last_rewrite_time_sec: this.lastRewriteTimeSec,
      aof_current_rewrite_time_sec: rw !== null ? Math.floor((Date.now() - rw.startedAt) / 1000) : -1,
      aof_last_bgrewrite_status: this.lastBgrewriteStatus,
      aof_rewrites: this.rewrites,
      aof_rewrites_consecutive_failures: this.consecutiveFailures,
      aof_last_write_status: this.writer.lastError === null ? 'ok' : 'err',
    };
    const out: InfoFields = fields.map(([k, v]) => [k, k in set ? set[k] : v] as InfoFields[number]);
    if (this.state !== 'off') {
      const extra: InfoFields = [
        ['aof_current_size', this.currentSize],
        ['aof_base_size', this.rewriteBaseSize],
        ['aof_pending_rewrite', this.rewriteScheduled ? 1 : 0],
        ['aof_buffer_length', this.writer.buf.len],
        ['aof_pending_bio_fsync', this.writer.pendingFsync],
        ['aof_delayed_fsync', this.writer.delayedFsync],
      ];
      // Redis prints them after module_fork_last_cow_size, before the loading fields.
      const at = out.findIndex(([k]) => k === 'module_fork_last_cow_size');
      out.splice(at >= 0 ? at + 1 : out.length, 0, ...extra);
    }
    return out;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

/**
 * Creates the server's AOF and wires it: the propagation sink, config hooks,
 * the reply barrier, INFO fields, the start-up loader persistence calls when
 * appendonly is yes (loadDataAtStartup), the cron and a clean close.
 */
export function installAof(server: Server): Aof {
  const existing = managers.get(server);
  if (existing) return existing;
  const aof = new Aof(server);
  managers.set(server, aof);
  // aof.feed joins server.propagateSinks when the AOF turns on (Aof.syncSink).
  (server as Server & AofServerHooks).replyBarrier = (c: Client) => aof.writer.replyBarrier(c);
  const config = server.config;
  config.onChange('appendonly', (_name, value) => {
    if (value === 'yes') return aof.enable() ?? undefined;
    aof.disable();
    return undefined;
  });
  config.onChange('appendfsync', (_name, value) => {
    aof.writer.policy = value as FsyncPolicy;
  });
  // Turning the automatic clean-up back on deletes the history kept meanwhile (Redis's updateAofAutoGCEnabled).
  config.onChange('aof-disable-auto-gc', (_name, value) => {
    if (value === 'no') aof.collectHistory();
  });
  config.onChange('aof-timestamp-enabled', (_name, value) => {
    aof.writer.timestamps = value === 'yes';
  });
  addPersistenceInfo(server, (_s, fields) => aof.infoFields(fields));
  const st = persistenceOf(server);
  st.aofStartupLoader = () => aof.startup();
  st.aofChildActive = () => aof.rewrite !== null;
  st.aofWaitingRewrite = () => aof.state === 'wait-rewrite';
  aof.startTimer();
  // Close the AOF cleanly whenever the server closes (SHUTDOWN, SIGTERM, embedders).
  const close = server.close.bind(server);
  server.close = async () => {
    aof.shutdown();
    return close();
  };
  return aof;
}
