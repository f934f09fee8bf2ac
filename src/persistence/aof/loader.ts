/**
 * Loading the append-only directory at startup, as Redis 7.0 does: the
 * manifest, then the base file (an RDB image, or AOF commands), then every
 * incremental file in order. Commands run on a fake client straight through
 * their handlers (no stats, no propagation, no MONITOR), MULTI/EXEC blocks
 * are applied whole.
 *
 * Problems are fatal with Redis's messages (AofLoadError), except a last file
 * that ends in the middle of a command: with aof-load-truncated yes the
 * complete part is loaded and the file is truncated there, as Redis does.
 * An incomplete MULTI at the end counts as truncated (the block is dropped).
 */
import { closeSync, existsSync, readFileSync, readSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from '../../server/server.js';
import { Client } from '../../server/client.js';
import type { Command } from '../../server/command-table.js';
import { AofCommandReader, bufferSource, fdSource, openForRead, type ByteSource } from './reader.js';
import { parseManifest, type AofManifest, type AofInfo, manifestName } from './manifest.js';
import { strerror } from './files.js';
import { absolutizeTtl } from './relative-ttl.js';
import { persistenceOf, loadRdbAsync } from '../index.js';
import type { LogLevel } from '../log.js';
import { isScriptBusy, whenScriptDone } from '../../scripting/busy.js';

/** A reason not to start: the message is what Redis logs before exiting. */
export class AofLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AofLoadError';
  }
}

export interface LoadOptions {
  /** aof-load-truncated */
  loadTruncated: boolean;
  log(level: LogLevel, message: string): void;
}

export type FileStatus = 'ok' | 'empty' | 'truncated';

export interface LoadResult {
  /** 'not-exist': no AOF files at all (the dataset stays empty); 'empty': files exist but hold nothing. */
  status: 'ok' | 'empty' | 'not-exist' | 'truncated';
  /** Size of the base file (aof_base_size after a start). */
  baseSize: number;
  /** Size of each file by name, after any truncation. */
  sizes: Map<string, number>;
}

const RDB_MAGIC = 'REDIS';
/** Loading runs in slices of this many ms, so the server answers -LOADING meanwhile. */
const SLICE_MS = 8;

/** Reads and parses the manifest of `dir`, or null when there is none. */
export function readManifest(dir: string, prefix: string): AofManifest | null {
  const path = join(dir, manifestName(prefix));
  if (!existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw new AofLoadError(`Fail to open AOF manifest file ${manifestName(prefix)}: ${strerror(e)}`);
  }
  return parseManifest(text);
}

/** Progress of a load, as INFO's loading_* fields report it. */
class Progress {
  private done = 0;
  constructor(
    private readonly server: Server,
    readonly total: number,
  ) {}

  begin(): void {
    const st = persistenceOf(this.server);
    st.loading = true;
    st.loadingStartTime = Math.floor(this.server.clock.now() / 1000);
    st.loadingTotalBytes = this.total;
    st.loadingLoadedBytes = 0;
  }

  /** `bytes` of the current file are loaded. */
  at(bytes: number): void {
    const st = persistenceOf(this.server);
    st.loading = true;
    st.loadingTotalBytes = this.total;
    st.loadingLoadedBytes = this.done + bytes;
  }

  fileDone(size: number): void {
    this.done += size;
    this.at(0);
  }

  end(): void {
    persistenceOf(this.server).loading = false;
  }
}

/**
 * Loads every file of the manifest into the server's databases, a slice at a
 * time (clients get -LOADING meanwhile). The caller has checked that AOF is
 * enabled. Rejects with AofLoadError when the server must not start.
 */
export async function loadAofFiles(server: Server, dir: string, manifest: AofManifest, opts: LoadOptions): Promise<LoadResult> {
  const files: AofInfo[] = [];
  if (manifest.base) files.push(manifest.base);
  files.push(...manifest.incrs);
  const result: LoadResult = { status: 'not-exist', baseSize: 0, sizes: new Map() };
  if (files.length === 0) return result;
  // As Redis, every file must exist before anything loads.
  let total = 0;
  for (const info of files) {
    try {
      const size = statSync(join(dir, info.name)).size;
      result.sizes.set(info.name, size);
      total += size;
    } catch (e) {
      throw new AofLoadError(`Unable to obtain the AOF file ${info.name} length. stat: ${strerror(e)}`);
    }
  }
  const progress = new Progress(server, total);
  const started = performance.now();
  let anyData = false;
  let truncated = false;
  progress.begin();
  try {
    await withoutExpiry(server, async () => {
      for (let i = 0; i < files.length; i++) {
        const info = files[i];
        const fileStarted = performance.now();
        const size = result.sizes.get(info.name)!;
        const status = size === 0 ? 'empty' : await loadOneFile(server, dir, info.name, i === files.length - 1, opts, result, progress);
        progress.fileDone(size);
        if (status === 'empty') continue;
        anyData = true;
        if (status === 'truncated') truncated = true;
        const kind = info.type === 'b' ? 'base' : 'incr';
        opts.log('notice', `DB loaded from ${kind} file ${info.name}: ${((performance.now() - fileStarted) / 1000).toFixed(3)} seconds`);
      }
    });
  } finally {
    progress.end();
  }
  if (manifest.base) result.baseSize = result.sizes.get(manifest.base.name) ?? 0;
  result.status = !anyData ? 'empty' : truncated ? 'truncated' : 'ok';
  if (anyData) opts.log('notice', `DB loaded from append only file: ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
  return result;
}

/** Loads one non-empty base or incr file. */
async function loadOneFile(
  server: Server,
  dir: string,
  name: string,
  isLast: boolean,
  opts: LoadOptions,
  result: LoadResult,
  progress: Progress,
): Promise<FileStatus> {
  const path = join(dir, name);
  let fd: number;
  try {
    fd = openForRead(path).fd;
  } catch (e) {
    throw new AofLoadError(`Fatal error: can't open the append log file ${name} for reading: ${strerror(e)}`);
  }
  let outcome: ReplayOutcome;
  try {
    const head = Buffer.alloc(5);
    const isRdb = readSync(fd, head, 0, 5, 0) === 5 && head.latin1Slice(0, 5) === RDB_MAGIC;
    if (isRdb) {
      // An RDB image (the base, or an old file's preamble), maybe followed by AOF commands.
      opts.log('notice', 'Reading RDB base file on AOF loading...');
      const buf = readFileSync(path);
      let consumed: number;
      try {
        consumed = (await loadRdbAsync(server, buf, { aofPreamble: true })).consumed;
      } catch (e) {
        throw new AofLoadError(`Error reading the RDB base file ${name}, AOF loading aborted: ${(e as Error).message ?? e}`);
      }
      progress.at(consumed);
      if (consumed >= buf.length) return 'ok';
      opts.log('notice', 'Reading the remaining AOF tail...');
      outcome = await replayCommands(server, bufferSource(buf), consumed, name, progress, opts);
    } else {
      outcome = await replayCommands(server, fdSource(fd), 0, name, progress, opts);
    }
  } finally {
    closeSync(fd);
  }
  if (outcome.kind === 'ok') return 'ok';
  // Truncated (or an unfinished MULTI at the end).
  if (!opts.loadTruncated) {
    throw new AofLoadError(
      `Unexpected end of file reading the append only file ${name}. You can: ` +
        '1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. ' +
        "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
    );
  }
  opts.log('warning', `!!! Warning: short read while loading the AOF file ${name}!!!`);
  opts.log('warning', `!!! Truncating the AOF ${name} at offset ${outcome.validUpTo} !!!`);
  try {
    truncateSync(path, outcome.validUpTo);
  } catch (e) {
    throw new AofLoadError(`Error truncating the AOF file ${name}: ${strerror(e)}`);
  }
  result.sizes.set(name, outcome.validUpTo);
  opts.log('warning', `AOF ${name} loaded anyway because aof-load-truncated is enabled`);
  if (!isLast) throw new AofLoadError('Fatal error: the truncated file is not the last file');
  return 'truncated';
}

type ReplayOutcome = { kind: 'ok' } | { kind: 'truncated'; validUpTo: number };

/** Runs the commands of a file from byte `start`; format errors and unknown commands are fatal. */
async function replayCommands(server: Server, src: ByteSource, start: number, name: string, progress: Progress, opts: LoadOptions): Promise<ReplayOutcome> {
  const reader = new AofCommandReader(src, start);
  const c = new Client(server, null);
  c.setAuthenticated(true);
  c.aofLoader = true;
  let tx: Array<{ cmd: Command; argv: string[] }> | null = null;
  let validUpTo = start;
  let validBeforeMulti = start;
  let deadline = performance.now() + SLICE_MS;
  for (let n = 1; ; n++) {
    if ((n & 255) === 0 && performance.now() > deadline) {
      progress.at(reader.pos);
      await new Promise((r) => setImmediate(r));
      deadline = performance.now() + SLICE_MS;
    }
    const r = reader.next();
    if (r.kind === 'eof' || r.kind === 'truncated') {
      if (tx !== null) {
        opts.log('warning', `Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
        return { kind: 'truncated', validUpTo: validBeforeMulti };
      }
      return r.kind === 'eof' ? { kind: 'ok' } : { kind: 'truncated', validUpTo };
    }
    if (r.kind === 'format-error') {
      throw new AofLoadError(
        `Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`,
      );
    }
    const argv = absolutizeTtl(r.argv, server.clock.now());
    const cmd = resolveCommand(server, argv);
    if (cmd === null) throw new AofLoadError(`Unknown command '${argv[0]}' reading the append only file ${name}`);
    const arity = cmd.arity;
    if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
      throw new AofLoadError(`Wrong number of arguments for '${cmd.fullName}' reading the append only file ${name}`);
    }
    if (tx === null) validBeforeMulti = r.start;
    const fullName = cmd.fullName;
    if (fullName === 'multi') {
      tx = tx ?? [];
    } else if (fullName === 'exec') {
      if (tx !== null) {
        c.inMulti = true;
        for (const q of tx) runHandler(c, q.cmd, q.argv);
        c.inMulti = false;
        tx = null;
      }
    } else if (fullName === 'discard') {
      tx = null;
    } else if (tx !== null) {
      tx.push({ cmd, argv });
    } else {
      runHandler(c, cmd, argv);
      if (isScriptBusy(server)) {
        // A script past busy-reply-threshold goes on in slices (others get -LOADING meanwhile).
        await whenScriptDone(server);
        c.len = 0;
        deadline = performance.now() + SLICE_MS;
      }
    }
    validUpTo = r.end;
  }
}

function resolveCommand(server: Server, argv: string[]): Command | null {
  let cmd = server.table.lookup(argv[0]);
  if (cmd === undefined) return null;
  if (cmd.subcommands !== null && argv.length >= 2) {
    const sub = cmd.subcommands.get(argv[1].toLowerCase());
    if (sub === undefined) return null;
    cmd = sub;
  }
  return cmd.handler === null ? null : cmd;
}

/** Runs a handler as Redis's loader does (cmd->proc): the reply is discarded. */
function runHandler(c: Client, cmd: Command, argv: string[]): void {
  c.current = cmd;
  try {
    if (TTL_COMMANDS.has(cmd.fullName)) runAtEpoch(c.server, () => cmd.handler!(c, argv));
    else cmd.handler!(c, argv);
  } finally {
    c.current = null;
    c.propagateAs = null;
    c.len = 0;
  }
}

/**
 * Runs `fn` with lazy and active expiry off: Redis does not expire
 * keys while loading, so a later command of the log finds the key as it was
 * when that command ran. Keys whose TTL passed expire once the server runs.
 */
export async function withoutExpiry<T>(server: Server, fn: () => Promise<T>): Promise<T> {
  const dbs = server.dbs.slice();
  for (const db of dbs) (db as unknown as { expireIfNeeded: (key: string) => boolean }).expireIfNeeded = () => false;
  const activeExpire = server.activeExpireEnabled;
  server.activeExpireEnabled = false;
  try {
    return await fn();
  } finally {
    server.activeExpireEnabled = activeExpire;
    for (const db of dbs) delete (db as unknown as { expireIfNeeded?: unknown }).expireIfNeeded;
    // Keys stamped while the clock stood at the epoch (see TTL_COMMANDS) were accessed now.
    const nowSec = Math.floor(server.clock.now() / 1000) >>> 0;
    for (const db of server.dbs) {
      const keys = db.keys;
      for (let i = 0; i < keys.size; i++) if (keys.access[i] === 0) keys.access[i] = nowSec;
    }
  }
}

/**
 * Commands that delete a key at once when given an absolute time already
 * past (EXPIREAT & co, SET PXAT, GETEX PXAT, RESTORE ABSTTL). While loading,
 * Redis sets such a TTL instead, so they run with the clock at the epoch.
 */
const TTL_COMMANDS = new Set(['expire', 'pexpire', 'expireat', 'pexpireat', 'set', 'getex', 'restore']);

function runAtEpoch(server: Server, fn: () => void): void {
  const clock = server.clock as unknown as { now: () => number };
  const own = Object.prototype.hasOwnProperty.call(clock, 'now');
  const previous = clock.now;
  clock.now = () => 0;
  try {
    fn();
  } finally {
    if (own) clock.now = previous;
    else delete (clock as { now?: unknown }).now;
  }
}
