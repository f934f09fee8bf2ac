/**
 * Persistence: RDB snapshots (SAVE, BGSAVE, save points, SHUTDOWN, DEBUG
 * RELOAD), loading at start-up, and the state INFO persistence reports.
 *
 * The server calls installPersistence() from its constructor. Everything
 * else (the AOF module, the dispatcher, the binary) goes through the
 * functions exported here:
 *
 *  - misconfRefused(server, cmd, c) / loadingRefused(server, cmd, c): the
 *    MISCONF and LOADING checks Server.execute applies;
 *  - loadDataAtStartup(server): what the binary awaits after listen();
 *  - writeRdbSync / runRdbSnapshot / loadRdb / loadRdbAsync: the RDB writer
 *    and reader for the AOF module (aof-use-rdb-preamble);
 *  - persistenceOf(server): hooks the AOF module sets (aofChildActive,
 *    aofStartupLoader) and the INFO field providers it adds.
 *
 * BGSAVE never stops the server: the image is produced a slice (a few ms) at
 * a time between client commands, and stays point-in-time through the
 * Database.beforeWrite barrier (rdb/snapshot.ts). The disk side runs in a
 * writer child process (child.ts, writer-child.ts), Redis's rdb child for the
 * tools and tests that look for it (pgrep -P, kill, temp-<pid>.rdb).
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, readFileSync } from 'node:fs';
import { unlink, readFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { CMD_LOADING, CMD_NO_ASYNC_LOADING, CMD_WRITE, type Command } from '../server/command-table.js';
import { Database } from '../db/database.js';
import { setInfoProvider, type InfoFields, type SectionProvider } from '../observability/info.js';
import type { ShutdownRequest } from '../commands/server.js';
import { debugObjectHooks } from '../commands/server.js';
import { RdbSnapshot, type ReplSaveInfo, type SnapshotInfo } from './rdb/snapshot.js';
import { serializedLength, type EncodeOptions } from './rdb/encode.js';
import { limitsFrom, type DecodeLimits } from './rdb/decode.js';
import { RdbParser, RdbLoadError, type RdbLoadOptions } from './rdb/loader.js';
import { lfuCounterAt } from '../server/lfu.js';
import { log } from './log.js';
import { WriterChild, CHILD_NOERROR_RETVAL, SIGUSR1_NUMBER, SIGTERM_NUMBER } from './child.js';
import { bgChildOomScore } from '../server/oom-score.js';
import { installDebugSubcommands } from '../commands/persistence.js';

export { RdbLoadError } from './rdb/loader.js';
export { setLogSink } from './log.js';

/** Redis's shared.bgsaveerr, without the leading '-'. */
export const MISCONF_ERROR =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. " +
  'Commands that may modify the data set are disabled, because this instance is configured to report errors ' +
  'during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). ' +
  'Please check the Redis logs for details about the RDB error.';
export const LOADING_ERROR = 'LOADING Redis is loading the dataset in memory';

/** Redis waits this long before retrying a failed BGSAVE from the save points. */
const BGSAVE_RETRY_DELAY_SEC = 5;
/** Time slice of a BGSAVE (and of start-up loading) between client commands. */
const SLICE_MS = 5;
/** Keys serialized between two clock checks. */
const SLICE_KEYS = 4096;

interface BgsaveJob {
  run: SnapshotRun;
  startMs: number;
  /** The writer child process and the temp file it writes. */
  child: WriterChild;
  tempPath: string;
  /** How it ended, set before `finished` settles: ok, err (failed or killed by a signal), killed (our SIGUSR1). */
  outcome: 'ok' | 'err' | 'killed' | null;
  /** Settles when the job has finished, renamed or cleaned up. */
  finished: Promise<void>;
}

export class PersistenceState {
  /** Unix time (s) of the last successful save (LASTSAVE). */
  lastsave: number;
  /** Unix time (s) of the last BGSAVE attempt (save point retry delay). */
  lastbgsaveTry = 0;
  lastbgsaveStatus: 'ok' | 'err' = 'ok';
  lastBgsaveTimeSec = -1;
  lastBgsaveError = '';
  bgsave: BgsaveJob | null = null;
  bgsaveScheduled = false;
  dirtyBeforeBgsave = 0;
  /** Successful saves (INFO rdb_saves). */
  rdbSaves = 0;
  lastCowSize = 0;
  /** Time to start the last writer child, in microseconds (INFO latest_fork_usec). */
  latestForkUsec = 0;

  loading = false;
  /** A replica loading its master's snapshot while it keeps serving the old dataset (repl-diskless-load swapdb, same replication id). */
  asyncLoading = false;
  loadingStartTime = 0;
  loadingTotalBytes = 0;
  loadingLoadedBytes = 0;
  loadingRdbUsedMem = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** The aux fields of the last RDB image loaded (repl-id, repl-offset, ...). */
  lastLoadAux = new Map<string, string>();

  /**
   * Background jobs started that Redis runs in a forked child (BGSAVE, AOF rewrite, a
   * replica's snapshot): INFO total_forks. Mnemo produces their images in slices
   * in-process; BGSAVE and the AOF rewrite's base are written by a writer child process.
   */
  backgroundJobs = 0;
  /** Full syncs producing a snapshot for a replica (INFO rdb_bgsave_in_progress counts them, as Redis's rdb child). */
  replicationSnapshots = 0;
  /** Active point-in-time images: the barrier forwards to each. */
  readonly snapshots = new Set<RdbSnapshot>();

  /** DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE payloads and RDB files skip the CRC-64 check. */
  skipChecksumValidation = false;
  /** DEBUG AOF-FLUSH-SLEEP: microseconds each AOF write with data blocks first (0: off). */
  aofFlushSleepMicros = 0;

  /** Set by the AOF module: an AOF rewrite is running (BGSAVE must wait or be scheduled). */
  aofChildActive: () => boolean = () => false;
  /** AOF turned on and its first rewrite not written yet (a shutdown must not exit then). */
  aofWaitingRewrite: () => boolean = () => false;
  /** Set by the AOF module: its MISCONF error while AOF writes fail ("MISCONF Errors writing to the AOF file: ..."), or null. */
  aofWriteRefusal: () => string | null = () => null;
  /** Set by the AOF module: loads the AOF at start-up when appendonly is yes. */
  aofStartupLoader: ((server: Server) => Promise<void>) | null = null;
  /**
   * Set by the replication module: the stream a snapshot is at (written as
   * aux fields), and what to do with the one an RDB loaded at start-up was at.
   */
  replSaveInfo: (() => ReplSaveInfo | null) | null = null;
  replLoaded: ((info: ReplSaveInfo, expired: Array<[number, string]>) => void) | null = null;
  /** During the start-up load: the keys skipped as expired (db, key), in file order. */
  startupExpired: Array<[number, string]> | null = null;
  /** Function libraries (FUNCTION2 records), when a functions module exists. */
  functions: { dump(): string[]; load(code: string, replace: boolean): void; flush(): void } | null = null;
  /** Extra INFO persistence providers (AOF), applied after ours, in order. */
  readonly infoProviders: SectionProvider[] = [];

  cronTimer: NodeJS.Timeout | null = null;

  constructor(server: Server) {
    this.lastsave = Math.floor(server.startTime / 1000);
  }
}

const states = new WeakMap<Server, PersistenceState>();
// The dispatcher asks for a server's state on every command (MISCONF, LOADING): the last
// answer is kept, so that one process's usual single server costs no WeakMap lookups.
let lastServer: Server | null = null;
let lastState: PersistenceState | undefined;

function stateOf(server: Server): PersistenceState | undefined {
  if (server === lastServer) return lastState;
  const st = states.get(server);
  lastServer = server;
  lastState = st;
  return st;
}

/** The persistence state of a server (created by installPersistence). */
export function persistenceOf(server: Server): PersistenceState {
  let st = states.get(server);
  if (st === undefined) {
    st = new PersistenceState(server);
    states.set(server, st);
    if (lastServer === server) lastState = st;
  }
  return st;
}

// ---- options from the configuration -------------------------------------------------

export function encodeOptions(server: Server): EncodeOptions {
  return { compress: server.config.getBool('rdbcompression'), listFill: server.config.listMaxListpackSize };
}

export function decodeLimits(server: Server): DecodeLimits {
  return limitsFrom(server.config);
}

function usedMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function snapshotInfo(server: Server, aofBase: boolean): SnapshotInfo {
  const now = server.clock.now();
  const policy = server.config.maxmemoryPolicy;
  const decayTime = server.config.getNumber('lfu-decay-time');
  return {
    redisVersion: server.redisVersion,
    ctime: Math.floor(now / 1000),
    usedMem: usedMemory(),
    aofBase,
    // As rdbSaveKeyValuePair: idle times under LRU policies, LFU counters under LFU ones.
    saveLru: policy.includes('lru'),
    lfuCounter: policy.includes('lfu') ? (word) => lfuCounterAt(word, now, decayTime) : null,
    checksum: server.config.getBool('rdbchecksum'),
    nowMs: now,
    lruSec: server.lruClock,
    functions: persistenceOf(server).functions?.dump() ?? [],
    repl: persistenceOf(server).replSaveInfo?.() ?? null,
  };
}

export function rdbPath(server: Server): string {
  return join(server.config.dir || process.cwd(), server.config.dbfilename);
}

function nowSec(server: Server): number {
  return Math.floor(server.clock.now() / 1000);
}

// ---- the barrier ------------------------------------------------------------------------

function barrierFor(st: PersistenceState): (db: Database, key: string | null, swap?: boolean) => void {
  return (db, key, swap) => {
    for (const s of st.snapshots) s.barrier(db, key, swap === true);
  };
}

export interface SnapshotOptions {
  /** An AOF base (aof-base aux field). */
  aofBase?: boolean;
  /** REPLCONF rdb-filter-only: leave the keys out, or the functions. */
  excludeData?: boolean;
  excludeFunctions?: boolean;
}

function newSnapshot(server: Server, opts: SnapshotOptions): RdbSnapshot {
  const info = snapshotInfo(server, opts.aofBase === true);
  if (opts.excludeFunctions === true) info.functions = [];
  return new RdbSnapshot(opts.excludeData === true ? [] : server.dbs, encodeOptions(server), info);
}

/** Starts a point-in-time image of the keyspace; the barrier stays on until endSnapshot. */
export function beginSnapshot(server: Server, opts: SnapshotOptions = {}): RdbSnapshot {
  const st = persistenceOf(server);
  const snap = newSnapshot(server, opts);
  st.snapshots.add(snap);
  server.setSnapshotBarrier(barrierFor(st));
  return snap;
}

export function endSnapshot(server: Server, snap: RdbSnapshot): void {
  const st = persistenceOf(server);
  if (!snap.done) snap.abort();
  st.snapshots.delete(snap);
  if (st.snapshots.size === 0) server.setSnapshotBarrier(null);
}

// ---- writing ------------------------------------------------------------------------------

/** Writes a complete RDB image synchronously (SAVE, DEBUG RELOAD, an AOF base written in one go). */
export function writeRdbSync(server: Server, write: (chunk: Buffer) => void, opts: SnapshotOptions = {}): void {
  // Nothing runs in between, so no barrier is needed.
  const snap = newSnapshot(server, opts);
  while (!snap.done) write(snap.produce(SLICE_KEYS * 16));
}

export interface SnapshotRun {
  /** Resolves when the whole image was handed to `write`; rejects with write's error. */
  done: Promise<void>;
  /** Stops producing: `done` then resolves without the rest of the image. */
  abort(): void;
  readonly snapshot: RdbSnapshot;
}

/**
 * Produces a point-in-time RDB image in slices between client commands,
 * awaiting `write` for each chunk (for the AOF rewrite's preamble, and BGSAVE).
 * `keyDelayMicros` slows it down like rdb-key-save-delay (tests).
 */
export function runRdbSnapshot(
  server: Server,
  write: (chunk: Buffer) => Promise<void>,
  opts: SnapshotOptions & { keyDelayMicros?: number } = {},
): SnapshotRun {
  const snap = beginSnapshot(server, opts);
  let aborted = false;
  // The pending rdb-key-save-delay sleep, cut short by abort().
  let wake: (() => void) | null = null;
  const delay = opts.keyDelayMicros ?? 0;
  const done = (async () => {
    try {
      while (!snap.done && !aborted) {
        // A closing server (SHUTDOWN, close()) writes no more of the image.
        if (server.shuttingDown) {
          aborted = true;
          break;
        }
        let chunk: Buffer;
        if (delay > 0) {
          // A key per 1 ms tick at most (setTimeout's resolution), as many as the delay allows.
          const perTick = Math.max(1, Math.floor(1000 / delay));
          chunk = snap.produce(perTick);
          await new Promise<void>((r) => {
            const t = setTimeout(r, Math.max(1, Math.round((delay * perTick) / 1000)));
            wake = () => {
              clearTimeout(t);
              r();
            };
          });
          wake = null;
        } else {
          chunk = snap.produce(SLICE_KEYS * 64, performance.now() + SLICE_MS);
        }
        if (aborted) break;
        await write(chunk);
        // Let clients run even when the write completed synchronously.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      endSnapshot(server, snap);
    }
  })();
  return {
    done,
    abort: () => {
      aborted = true;
      (wake as (() => void) | null)?.();
    },
    snapshot: snap,
  };
}

/** Result of a save: null on success, else the reason. */
export type SaveError = string | null;

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.message ?? String(e);
}

/**
 * rdbSave: writes the whole image to a temp file, fsyncs it and renames it
 * over `dbfilename`. On success resets dirty and sets lastsave. The server
 * is blocked meanwhile, as SAVE blocks Redis.
 */
export function rdbSaveSync(server: Server): SaveError {
  const st = persistenceOf(server);
  const dir = server.config.dir || process.cwd();
  const tmp = join(dir, `temp-${process.pid}.rdb`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    writeRdbSync(server, (chunk) => {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    });
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, rdbPath(server));
  } catch (e) {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* may not exist */
    }
    const why = errorText(e);
    log(server, 'warning', `Failed saving the DB: ${why}`);
    return why;
  }
  log(server, 'notice', 'DB saved on disk');
  server.dirty = 0;
  st.lastsave = nowSec(server);
  st.lastbgsaveStatus = 'ok';
  st.rdbSaves++;
  return null;
}

/** Whether a background child (BGSAVE or AOF rewrite) is running. */
export function hasActiveChild(server: Server): boolean {
  const st = persistenceOf(server);
  return st.bgsave !== null || st.aofChildActive();
}

/**
 * rdbSaveBackground. The image is produced here, in slices between client
 * commands (point-in-time through the barrier), and streamed to a writer
 * child process (child.ts) that writes `temp-<child pid>.rdb`, fsyncs it and
 * renames it over dbfilename, as Redis's forked child does. The child's end
 * decides the outcome (backgroundSaveDoneHandlerDisk): exit 0 is a success,
 * another exit code a "Background saving error", a signal other than the
 * server's own SIGUSR1 an error too; either way INFO rdb_last_bgsave_status:err
 * and MISCONF with stop-writes-on-bgsave-error. A child killed by a signal
 * leaves its temp file, which is removed here.
 * Returns false if one is already running or the child could not be started.
 */
export function bgsaveStart(server: Server): boolean {
  const st = persistenceOf(server);
  if (st.bgsave !== null) return false;
  const startMs = server.clock.now();
  st.lastbgsaveTry = Math.floor(startMs / 1000);
  st.dirtyBeforeBgsave = server.dirty;
  st.bgsaveScheduled = false;
  const dir = resolvePath(server.config.dir || process.cwd());
  const finalPath = resolvePath(dir, server.config.dbfilename);
  const delay = server.config.getNumber('rdb-key-save-delay');
  const spawnStart = performance.now();
  const child = WriterChild.spawn({
    kind: 'rdb',
    dir,
    finalPath,
    oomScore: bgChildOomScore(server),
    title: 'redis-rdb-bgsave',
    log: (level, text) => log(server, level, text, 'C'),
  });
  if (typeof child === 'string') {
    st.lastbgsaveStatus = 'err';
    st.lastBgsaveError = child;
    log(server, 'warning', `Can't save in background: fork: ${child}`);
    return false;
  }
  st.latestForkUsec = Math.round((performance.now() - spawnStart) * 1000);
  st.backgroundJobs++;
  const tempPath = join(dir, `temp-${child.pid}.rdb`);
  // The temp file exists from now on, as a forked child's would (the child opens it again once started).
  try {
    closeSync(openSync(tempPath, 'w'));
  } catch {
    /* the child reports it */
  }
  const started = performance.now();
  log(server, 'notice', `Background saving started by pid ${child.pid}`);
  // The image's point in time is now: runRdbSnapshot takes it before any await.
  const run = runRdbSnapshot(server, (chunk) => child.write(chunk), { keyDelayMicros: delay > 0 ? delay : 0 });
  const job: BgsaveJob = { run, startMs, child, tempPath, outcome: null, finished: Promise.resolve() };
  st.bgsave = job;
  run.done.then(
    () => {
      // A complete image is committed; one cut short (the server closing) is not.
      if (run.snapshot.done) child.end();
      else child.kill();
    },
    // A write failed: the child is gone or going (its end is the outcome).
    () => undefined,
  );
  job.finished = (async () => {
    const end = await child.exited;
    run.abort();
    let { exitcode, bysignal } = end;
    // sigKillChildHandler's exit code: the server's own SIGUSR1 (checkChildrenDone).
    if (bysignal === 0 && exitcode === CHILD_NOERROR_RETVAL) {
      bysignal = SIGUSR1_NUMBER;
      exitcode = 1;
    }
    // Killed by us before it could handle SIGUSR1 (kill() sent SIGTERM, or its input closed first).
    if (child.killedOnPurpose && (bysignal === SIGTERM_NUMBER || (bysignal === 0 && exitcode !== 0))) bysignal = SIGUSR1_NUMBER;
    if (bysignal !== 0) await unlink(tempPath).catch(() => undefined);
    st.lastCowSize = run.snapshot.peakOverhead;
    if (st.bgsave === job) st.bgsave = null;
    st.lastBgsaveTimeSec = Math.round((performance.now() - started) / 1000);
    job.outcome = bysignal === 0 && exitcode === 0 ? 'ok' : bysignal === SIGUSR1_NUMBER ? 'killed' : 'err';
    if (bysignal === 0 && exitcode === 0) {
      log(server, 'notice', 'Background saving terminated with success');
      server.dirty = Math.max(0, server.dirty - st.dirtyBeforeBgsave);
      st.lastsave = nowSec(server);
      st.lastbgsaveStatus = 'ok';
      st.rdbSaves++;
    } else if (bysignal === 0) {
      log(server, 'warning', 'Background saving error');
      st.lastbgsaveStatus = 'err';
      st.lastBgsaveError = `exit code ${exitcode}`;
    } else {
      log(server, 'warning', `Background saving terminated by signal ${bysignal}`);
      // SIGUSR1 is the server's own way to stop a child: not a failure.
      if (bysignal !== SIGUSR1_NUMBER) {
        st.lastbgsaveStatus = 'err';
        st.lastBgsaveError = `killed by signal ${bysignal}`;
      }
    }
  })();
  return true;
}

/** killRDBChild: stops a BGSAVE in progress; resolves once the child is reaped and its temp file gone. */
export async function bgsaveAbort(server: Server): Promise<void> {
  const job = persistenceOf(server).bgsave;
  if (job === null) return;
  job.child.kill();
  job.run.abort();
  await job.finished;
}

/**
 * finishShutdown's part for a BGSAVE in progress: kill the child and remove its
 * temp file now (the server exits before the child's end is handled).
 */
export function killRdbChildForShutdown(server: Server): void {
  const job = stateOf(server)?.bgsave ?? null;
  if (job === null || !job.child.running || job.child.killedOnPurpose) return;
  log(server, 'warning', 'There is a child saving an .rdb. Killing it!');
  job.child.kill();
  job.run.abort();
  try {
    unlinkSync(job.tempPath);
  } catch {
    /* not created */
  }
}

/** The BGSAVE in progress, if any: its `finished` promise and `outcome` (replication's disk-target syncs). */
export function currentBgsave(
  server: Server,
): { readonly finished: Promise<void>; readonly outcome: 'ok' | 'err' | 'killed' | null; readonly child: { readonly killedOnPurpose: boolean } } | null {
  return persistenceOf(server).bgsave;
}

/** Resolves when the BGSAVE in progress (if any) has finished. */
export async function bgsaveWait(server: Server): Promise<void> {
  const job = persistenceOf(server).bgsave;
  if (job !== null) await job.finished;
}

// ---- save points, cron ---------------------------------------------------------------------

/** The save-point part of Redis's serverCron. */
export function persistenceCron(server: Server): void {
  const st = persistenceOf(server);
  if (st.loading) return;
  if (st.bgsave === null && !st.aofChildActive()) {
    if (st.bgsaveScheduled) {
      bgsaveStart(server);
      return;
    }
    const now = nowSec(server);
    for (const sp of server.config.saveParams()) {
      if (
        server.dirty >= sp.changes &&
        now - st.lastsave > sp.seconds &&
        (now - st.lastbgsaveTry > BGSAVE_RETRY_DELAY_SEC || st.lastbgsaveStatus === 'ok')
      ) {
        log(server, 'notice', `${sp.changes} changes in ${sp.seconds} seconds. Saving...`);
        bgsaveStart(server);
        break;
      }
    }
  }
}

function startCron(server: Server): void {
  const st = persistenceOf(server);
  if (st.cronTimer !== null) return;
  st.cronTimer = setInterval(() => {
    if (server.shuttingDown) {
      if (st.cronTimer !== null) clearInterval(st.cronTimer);
      st.cronTimer = null;
      return;
    }
    persistenceCron(server);
  }, Math.max(1, Math.floor(1000 / server.hz)));
  st.cronTimer.unref();
}

// ---- checks for the dispatcher ----------------------------------------------------------

/**
 * The MISCONF check (writeCommandsDeniedByDiskError, RDB part): the error
 * Server.execute must reply to write commands and PING, or null.
 */
export function writesRefused(server: Server): string | null {
  return bgsaveErrorRefusal(server, stateOf(server));
}

/**
 * writeCommandsDeniedByDiskError with its message: a failed BGSAVE (with
 * stop-writes-on-bgsave-error) or failing AOF writes; for a script's write
 * commands (scriptVerifyWriteCommandAllow).
 */
export function diskWritesRefused(server: Server): string | null {
  const st = stateOf(server);
  if (st === undefined) return null;
  return bgsaveErrorRefusal(server, st) ?? st.aofWriteRefusal();
}

function bgsaveErrorRefusal(server: Server, st: PersistenceState | undefined): string | null {
  if (st === undefined || st.lastbgsaveStatus !== 'err') return null;
  if (!server.config.getBool('stop-writes-on-bgsave-error')) return null;
  if (server.config.saveParams().length === 0) return null;
  return MISCONF_ERROR;
}

/**
 * The MISCONF check as Server.execute applies it (processCommand's
 * deny_write_type test): write commands, EXEC of a transaction holding one,
 * and PING are refused while writesRefused() (or the AOF's write error) says so.
 */
export function misconfRefused(server: Server, cmd: Command, c?: Client): string | null {
  const st = stateOf(server);
  if (st === undefined) return null;
  let isWrite = (cmd.flags & CMD_WRITE) !== 0;
  if (!isWrite && cmd.fullName === 'exec' && c?.multi) isWrite = c.multi.queue.some((q) => (q.cmd.flags & CMD_WRITE) !== 0);
  if (!isWrite && cmd.fullName !== 'ping') return null;
  return bgsaveErrorRefusal(server, st) ?? st.aofWriteRefusal();
}

/**
 * The LOADING check: while the dataset loads, commands without the `loading`
 * flag (and EXEC of a transaction holding one) are refused with this error.
 */
export function loadingRefused(server: Server, cmd: Command, c?: Client): string | null {
  const st = stateOf(server);
  if (st === undefined || !st.loading) return st !== undefined && st.asyncLoading ? asyncLoadingRefused(cmd, c) : null;
  if ((cmd.flags & CMD_LOADING) === 0) return LOADING_ERROR;
  if (cmd.fullName === 'exec' && c?.multi) {
    for (const q of c.multi.queue) if ((q.cmd.flags & CMD_LOADING) === 0) return LOADING_ERROR;
  }
  return null;
}

/** During async loading only the commands flagged no-async-loading are refused (as Redis). */
function asyncLoadingRefused(cmd: Command, c?: Client): string | null {
  if ((cmd.flags & CMD_NO_ASYNC_LOADING) !== 0) return LOADING_ERROR;
  if (cmd.fullName === 'exec' && c?.multi) {
    for (const q of c.multi.queue) if ((q.cmd.flags & CMD_NO_ASYNC_LOADING) !== 0) return LOADING_ERROR;
  }
  return null;
}

/** Whether the server is loading its dataset (INFO loading:1). */
export function isLoading(server: Server): boolean {
  return states.get(server)?.loading === true;
}

// ---- loading ---------------------------------------------------------------------------------

export interface LoadResult {
  /** Bytes of the RDB image (for an AOF preamble: where the AOF part starts). */
  consumed: number;
  keysLoaded: number;
  keysExpired: number;
}

/**
 * Redis's iAmMaster: a cluster node by its role in the cluster, otherwise a server that
 * follows no master. Only a master skips the keys an RDB holds past their TTL; a replica
 * keeps them until its master's DELs arrive (the master decides what expires).
 */
export function iAmMaster(server: Server): boolean {
  return server.cluster !== null ? server.cluster.state.myself.master : server.config.replicaOf() === null;
}

function loadOptions(server: Server, extra: Partial<RdbLoadOptions> = {}): RdbLoadOptions {
  const st = persistenceOf(server);
  return {
    keepExpired: !iAmMaster(server),
    limits: decodeLimits(server),
    now: server.clock.now(),
    lruSec: server.lruClock,
    verifyChecksum: server.config.getBool('rdbchecksum') && !st.skipChecksumValidation,
    lfu: server.config.maxmemoryPolicy.includes('lfu'),
    onWarning: (msg) => log(server, 'warning', msg),
    // A library already loaded is replaced, except on DEBUG RELOAD NOFLUSH without MERGE,
    // where (as in Redis, whose other loads start with no functions) it fails the load.
    onFunction: st.functions ? (code) => st.functions!.load(code, extra.allowDuplicates !== false) : null,
    onExpiredKey: st.startupExpired !== null ? (db, key) => st.startupExpired?.push([db, key]) : undefined,
    onAux: (k, v) => {
      st.lastLoadAux.set(k, v);
      if (k === 'redis-ver') log(server, 'notice', `Loading RDB produced by version ${v}`);
      else if (k === 'used-mem') st.loadingRdbUsedMem = Number(v) || 0;
    },
    ...extra,
  };
}

function freshDatabases(server: Server): Database[] {
  return server.dbs.map((db) => new Database(db.id, server));
}

/** Moves loaded databases into the live ones (whose old contents are dropped). */
function installLoaded(server: Server, staged: Database[]): void {
  for (let i = 0; i < server.dbs.length; i++) {
    const live = server.dbs[i];
    if (live.size > 0) server.databaseReplaced(live, null);
    live.swapWith(staged[i]);
  }
}

/**
 * Loads an RDB image synchronously into the live databases, all or nothing:
 * the keys are read into fresh databases that replace the current contents
 * only once the whole image (checksum included) was read. For the AOF
 * preamble (`aofPreamble`: expired keys kept) and DEBUG RELOAD.
 * Throws RdbLoadError on a corrupt image.
 */
export function loadRdb(server: Server, buf: Buffer, opts: { aofPreamble?: boolean; start?: number } = {}): LoadResult {
  const staged = freshDatabases(server);
  const parser = new RdbParser(buf, staged, loadOptions(server, opts.aofPreamble === true ? { keepExpired: true } : {}), opts.start ?? 0);
  while (!parser.step()) {
    /* step() reads to the end */
  }
  installLoaded(server, staged);
  return finishLoad(server, parser);
}

function finishLoad(server: Server, parser: RdbParser): LoadResult {
  const st = persistenceOf(server);
  st.lastLoadKeysLoaded = parser.keysLoaded;
  st.lastLoadKeysExpired = parser.keysExpired;
  const done = `Done loading RDB, keys loaded: ${parser.keysLoaded}, keys expired: ${parser.keysExpired}`;
  if (parser.emptyKeysSkipped > 0) log(server, 'warning', `${done}, empty keys skipped: ${parser.emptyKeysSkipped}.`);
  else log(server, 'notice', `${done}.`);
  return { consumed: parser.consumed, keysLoaded: parser.keysLoaded, keysExpired: parser.keysExpired };
}

/**
 * Loads an RDB image a slice at a time, with INFO loading:1 and progress
 * fields meanwhile (clients get -LOADING through loadingRefused). All or
 * nothing, as loadRdb.
 */
export async function loadRdbAsync(server: Server, buf: Buffer, opts: { aofPreamble?: boolean; start?: number } = {}): Promise<LoadResult> {
  const st = persistenceOf(server);
  const staged = freshDatabases(server);
  st.loading = true;
  st.loadingStartTime = nowSec(server);
  st.loadingTotalBytes = buf.length;
  st.loadingLoadedBytes = 0;
  try {
    const parser = new RdbParser(buf, staged, loadOptions(server, opts.aofPreamble === true ? { keepExpired: true } : {}), opts.start ?? 0);
    for (;;) {
      // key-load-delay (microseconds per key, for tests): a few keys per timer tick, clients served between.
      const delay = server.config.getNumber('key-load-delay');
      const perTick = delay > 0 ? Math.max(1, Math.floor(1000 / delay)) : SLICE_KEYS * 64;
      const done = parser.step(perTick, delay > 0 ? Infinity : performance.now() + SLICE_MS);
      st.loadingLoadedBytes = parser.consumed;
      if (done) break;
      if (delay > 0) await new Promise((r) => setTimeout(r, Math.max(1, Math.round((delay * perTick) / 1000))));
      else await new Promise((r) => setImmediate(r));
    }
    installLoaded(server, staged);
    return finishLoad(server, parser);
  } finally {
    st.loading = false;
  }
}

/**
 * Start-up: loads the AOF (when appendonly is yes and the AOF module set a
 * loader) or dbfilename from dir when it exists. While it loads, clients get
 * -LOADING. A corrupt file rejects with an Error whose message says what is
 * wrong and where; nothing of it is loaded.
 */
export async function loadDataAtStartup(server: Server): Promise<void> {
  const st = persistenceOf(server);
  if (server.config.appendonly && st.aofStartupLoader !== null) {
    await st.aofStartupLoader(server);
    return;
  }
  const path = rdbPath(server);
  let buf: Buffer;
  // Loading starts now: clients connecting while the file is read already get -LOADING.
  st.loading = true;
  st.loadingStartTime = nowSec(server);
  st.loadingTotalBytes = 0;
  st.loadingLoadedBytes = 0;
  try {
    buf = await readFile(path);
  } catch (e) {
    st.loading = false;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    // In the log too (where Redis writes it), not only on standard error.
    const msg = `Fatal error loading the DB from ${path}: ${errorText(e)}. Exiting.`;
    log(server, 'warning', msg);
    throw new Error(msg);
  }
  const started = performance.now();
  st.lastLoadAux.clear();
  const expired: Array<[number, string]> = [];
  st.startupExpired = expired;
  try {
    await loadRdbAsync(server, buf);
  } catch (e) {
    if (e instanceof RdbLoadError) {
      const msg =
        `Fatal error loading the DB from ${path}: ${e.message} (at byte ${e.offset} of ${buf.length}). ` +
        'The file is corrupt or truncated; nothing was loaded. Exiting.';
      // Redis's rdbReportError line, then our summary.
      log(server, 'warning', `Internal error in RDB reading offset ${e.offset}, function at rdb.c -> ${e.message}`);
      log(server, 'warning', msg);
      log(server, 'warning', 'Terminating server after rdb file reading failure.');
      throw new Error(msg);
    }
    throw e;
  } finally {
    st.startupExpired = null;
  }
  log(server, 'notice', `DB loaded from disk: ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
  // The replication stream the file was at: a master or a replica restarted from it may continue it.
  const aux = st.lastLoadAux;
  const replId = aux.get('repl-id');
  const offset = Number(aux.get('repl-offset') ?? -1);
  const streamDb = Number(aux.get('repl-stream-db') ?? -1);
  if (replId !== undefined && replId.length === 40 && Number.isSafeInteger(offset) && offset >= 0 && Number.isInteger(streamDb) && streamDb >= 0) {
    st.replLoaded?.({ replId, offset, streamDb }, expired);
  }
}

// ---- DEBUG RELOAD, FLUSHALL, SHUTDOWN -------------------------------------------------------

export interface ReloadFlags {
  save: boolean;
  flush: boolean;
  merge: boolean;
}

/**
 * DEBUG RELOAD: save (unless NOSAVE), then replace the dataset with the file's
 * contents (NOFLUSH: load on top of it; MERGE: a key in both is replaced).
 * Returns null, 'save' (the save failed) or the load error.
 */
export function debugReload(server: Server, flags: ReloadFlags): string | null {
  if (flags.save && rdbSaveSync(server) !== null) return 'save';
  let buf: Buffer;
  try {
    buf = readFileSync(rdbPath(server));
  } catch (e) {
    return errorText(e);
  }
  try {
    if (flags.flush) {
      // Redis empties the data before the load, function libraries included (emptyData
      // without EMPTYDB_NOFUNCTIONS); the libraries come back if the load fails.
      const fns = persistenceOf(server).functions;
      const previous = fns?.dump() ?? [];
      fns?.flush();
      try {
        loadRdb(server, buf);
      } catch (e) {
        fns?.flush();
        for (const code of previous) fns!.load(code, true);
        throw e;
      }
    } else {
      // On top of the current data: straight into the live databases (as Redis does).
      const parser = new RdbParser(buf, server.dbs, loadOptions(server, { allowDuplicates: flags.merge }));
      while (!parser.step()) {
        /* to the end */
      }
      finishLoad(server, parser);
    }
  } catch (e) {
    log(server, 'warning', `DEBUG RELOAD failed: ${errorText(e)}`);
    return errorText(e);
  }
  log(server, 'warning', 'DB reloaded by DEBUG RELOAD');
  return null;
}

/**
 * What FLUSHALL does for persistence in Redis (flushAllDataAndResetRDB): stop
 * a BGSAVE in progress and, when save points are configured, save the now
 * empty dataset, which zeroes the dirty counter (FLUSHALL forces its propagation).
 */
export function afterFlushAll(server: Server): void {
  const st = persistenceOf(server);
  if (st.bgsave !== null) void bgsaveAbort(server);
  if (server.config.saveParams().length > 0) rdbSaveSync(server);
}

/**
 * SHUTDOWN's save (finishShutdown): stop a BGSAVE in progress, then save
 * synchronously. False when the save failed (SHUTDOWN then errors unless FORCE).
 */
export function saveForShutdown(server: Server, req: ShutdownRequest): boolean {
  killRdbChildForShutdown(server);
  log(server, 'notice', 'Saving the final RDB snapshot before exiting.');
  if (rdbSaveSync(server) !== null) {
    log(server, 'warning', req.force ? 'Error trying to save the DB. Exit anyway.' : 'Error trying to save the DB, can\'t exit.');
    return false;
  }
  return true;
}

// ---- INFO persistence ---------------------------------------------------------------------

/** Adds a provider that adjusts INFO persistence after ours (the AOF module's fields). */
export function addPersistenceInfo(server: Server, provider: SectionProvider): void {
  persistenceOf(server).infoProviders.push(provider);
}

function persistenceInfo(server: Server, fields: InfoFields): InfoFields {
  const st = persistenceOf(server);
  const job = st.bgsave;
  const now = server.clock.now();
  const values: Record<string, string | number> = {
    loading: st.loading ? 1 : 0,
    async_loading: st.asyncLoading ? 1 : 0,
    current_cow_size: job ? job.run.snapshot.overheadBytes() : 0,
    current_cow_peak: job ? job.run.snapshot.peakOverhead : 0,
    current_save_keys_processed: job ? job.run.snapshot.keysWritten : 0,
    current_save_keys_total: job ? job.run.snapshot.keysTotal : 0,
    rdb_changes_since_last_save: server.dirty,
    rdb_bgsave_in_progress: job || st.replicationSnapshots > 0 ? 1 : 0,
    rdb_last_save_time: st.lastsave,
    rdb_last_bgsave_status: st.lastbgsaveStatus,
    rdb_last_bgsave_time_sec: st.lastBgsaveTimeSec,
    rdb_current_bgsave_time_sec: job ? Math.floor((now - job.startMs) / 1000) : -1,
    rdb_saves: st.rdbSaves,
    rdb_last_cow_size: st.lastCowSize,
    rdb_last_load_keys_expired: st.lastLoadKeysExpired,
    rdb_last_load_keys_loaded: st.lastLoadKeysLoaded,
  };
  let out: InfoFields = fields.map(([k, v]) => [k, k in values ? values[k] : v]);
  for (const p of st.infoProviders) out = p(server, out);
  if (st.loading) {
    const elapsed = nowSec(server) - st.loadingStartTime;
    const total = st.loadingTotalBytes;
    const loaded = st.loadingLoadedBytes;
    const perc = total > 0 ? (loaded / total) * 100 : 0;
    const remaining = Math.max(1, total - loaded);
    const eta = elapsed === 0 ? 1 : Math.floor((elapsed * remaining) / (loaded + 1));
    out.push(
      ['loading_start_time', st.loadingStartTime],
      ['loading_total_bytes', total],
      ['loading_rdb_used_mem', st.loadingRdbUsedMem],
      ['loading_loaded_bytes', loaded],
      ['loading_loaded_perc', perc.toFixed(2)],
      ['loading_eta_seconds', eta],
    );
  }
  return out;
}

// ---- installation --------------------------------------------------------------------------

/** Wires persistence into a new server (called from the Server constructor). */
export function installPersistence(server: Server): void {
  persistenceOf(server);
  setInfoProvider(server, 'persistence', persistenceInfo);
  setInfoProvider(server, 'stats', (_srv, fields) =>
    fields.map(([k, v]) =>
      k === 'total_forks' ? [k, persistenceOf(server).backgroundJobs] : k === 'latest_fork_usec' ? [k, persistenceOf(server).latestForkUsec] : [k, v],
    ),
  );
  // A server closed without SHUTDOWN (embedders, tests) leaves no writer child behind.
  server.closeHooks.push(() => {
    const job = stateOf(server)?.bgsave ?? null;
    if (job === null || !job.child.running) return;
    job.child.kill();
    job.run.abort();
    try {
      unlinkSync(job.tempPath);
    } catch {
      /* not created */
    }
  });
  server.saveForShutdown = (req) => saveForShutdown(server, req);
  debugObjectHooks.serializedLength = (v) => serializedLength(v, encodeOptions(server));
  installDebugSubcommands(server);
  startCron(server);
}
