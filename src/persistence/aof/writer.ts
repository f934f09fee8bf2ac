/**
 * The live append path: propagated writes are encoded into a buffer (Redis's
 * aof_buf) and written to the current incremental file before any reply
 * that could depend on them leaves the server, with the configured fsync policy:
 *
 * - always:   replies wait. A client's reply is held (the reply barrier) until
 *             one write + fdatasync at the end of the event-loop turn covers every
 *             write executed so far; then every held reply is sent. One fsync per
 *             turn serves all clients, like Redis's beforeSleep.
 * - everysec: the buffer is written (write(2), no fsync) before the reply, and an
 *             fdatasync runs in the background (libuv thread pool) at most once a
 *             second, so a killed process loses nothing and a crashed machine
 *             about one second.
 * - no:       written before the reply, never fsynced by us.
 */
import { closeSync, fdatasync, fdatasyncSync, ftruncateSync } from 'node:fs';
import type { Server } from '../../server/server.js';
import type { Client } from '../../server/client.js';
import { flush } from '../../net/connection.js';
import { CommandBuffer } from './resp.js';
import { strerror, writeAllSync } from './files.js';
import { log } from '../log.js';

/** A cell nobody notifies: Atomics.wait on it blocks the thread for a given time. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

export type FsyncPolicy = 'always' | 'everysec' | 'no';

export class AofWriter {
  /** The incremental file being appended to, or -1. */
  fd = -1;
  readonly buf = new CommandBuffer();
  /** Database of the last SELECT written to the current file (-1: none yet). */
  selectedDb = -1;
  policy: FsyncPolicy = 'everysec';
  /** Write "#TS:<unix seconds>" annotations (aof-timestamp-enabled). */
  timestamps = false;
  /** Size of the current incremental file. */
  fileSize = 0;
  /** Set while fsync must be skipped (no-appendfsync-on-rewrite during a rewrite). */
  fsyncSuppressed: () => boolean = () => false;
  /** DEBUG AOF-FLUSH-SLEEP: microseconds to block before each write that has data. */
  flushSleepMicros: () => number = () => 0;
  /** Last write/fsync error (strerror text), null when the last attempt worked. */
  lastError: string | null = null;
  /** everysec fsyncs that had to wait for the previous one (aof_delayed_fsync). */
  delayedFsync = 0;
  lastFsyncMs = 0;
  fsyncInFlight = false;

  private lastTimestamp = -1;
  private inMulti = false;
  /** Bytes reached the file since the last fsync. */
  private unsynced = false;
  private turnScheduled = false;
  /** Clients whose replies wait for the next fsync (always). */
  private readonly held = new Set<Client>();
  /** An fd to close once the background fsync using it ends. */
  private closeAfterFsync: number[] = [];

  constructor(private readonly server: Server) {}

  /** Appends a propagated command (with SELECT when the database changes). */
  feed(db: number, argv: readonly string[]): void {
    const buf = this.buf;
    if (this.timestamps && !this.inMulti) {
      const sec = Math.floor(Date.now() / 1000);
      if (sec !== this.lastTimestamp) {
        this.lastTimestamp = sec;
        buf.appendRaw(`#TS:${sec}\r\n`);
      }
    }
    if (db !== this.selectedDb) {
      buf.appendCommand(['SELECT', String(db)]);
      this.selectedDb = db;
    }
    buf.appendCommand(argv);
    if (argv.length === 1) {
      const name = argv[0];
      if (name === 'MULTI') this.inMulti = true;
      else if (name === 'EXEC') this.inMulti = false;
    }
    this.scheduleTurn();
  }

  /** Appends commands already in RESP (an AOF rewrite's fix-ups, with their own SELECTs). */
  feedRaw(bytes: Buffer): void {
    this.buf.appendBuffer(bytes);
    this.selectedDb = -1;
    this.scheduleTurn();
  }

  /** Forgets the SELECT state, so the next command starts with a SELECT (new file). */
  resetSelectedDb(): void {
    this.selectedDb = -1;
    this.lastTimestamp = -1;
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.endOfTurn);
  }

  /**
   * Called by the connection layer before a client's replies are written.
   * Returns true when the reply must wait for the next fsync (always); the
   * writer flushes the client itself afterwards.
   */
  replyBarrier(c: Client): boolean {
    if (this.fd < 0) return false;
    if (this.policy === 'always' && !this.fsyncSuppressed()) {
      if (this.buf.len === 0 && !this.unsynced) return false;
      this.held.add(c);
      this.scheduleTurn();
      return true;
    }
    if (this.buf.len > 0) this.writePending();
    return false;
  }

  /** End of an event-loop turn: write what is pending, fsync per policy, release held replies. */
  private readonly endOfTurn = (): void => {
    this.turnScheduled = false;
    this.sync();
    if (this.held.size !== 0) this.releaseHeld();
  };

  /** Writes the buffer and, for always, fsyncs; for everysec, maybe starts a background fsync. */
  sync(): void {
    if (this.fd < 0) return;
    if (this.buf.len > 0 && !this.writePending()) return;
    if (!this.unsynced || this.fsyncSuppressed()) return;
    if (this.policy === 'always') this.fsyncNow();
    else if (this.policy === 'everysec') this.maybeBackgroundFsync();
  }

  private releaseHeld(): void {
    // Replies may only go once everything executed before them is on disk.
    if (this.buf.len > 0 || (this.unsynced && this.policy === 'always' && !this.fsyncSuppressed())) {
      if (this.lastError !== null) return; // retried by the cron
      this.scheduleTurn();
      return;
    }
    const clients = [...this.held];
    this.held.clear();
    for (const c of clients) if (!c.closed) flush(this.server, c);
  }

  /** Releases replies held for a file that is no longer written (AOF turned off). */
  releaseAll(): void {
    const clients = [...this.held];
    this.held.clear();
    for (const c of clients) if (!c.closed) flush(this.server, c);
  }

  /** write(2)s the buffer; false (and the buffer kept) on error. */
  writePending(): boolean {
    const buf = this.buf;
    if (buf.len === 0 || this.fd < 0) return true;
    const sleep = this.flushSleepMicros();
    if (sleep > 0) Atomics.wait(sleepCell, 0, 0, sleep / 1000);
    try {
      writeAllSync(this.fd, buf.buf, 0, buf.len);
    } catch (e) {
      this.onWriteError(e, (e as { written?: number }).written ?? 0);
      return false;
    }
    this.fileSize += buf.len;
    buf.reset();
    this.unsynced = true;
    if (this.lastError !== null) {
      this.lastError = null;
      log(this.server, 'warning', 'AOF write error looks solved, Redis can write again.');
    }
    return true;
  }

  private onWriteError(e: unknown, written: number): void {
    const reason = strerror(e);
    if (this.policy === 'always') {
      // Acknowledged writes could no longer be guaranteed: stop as Redis does.
      log(this.server, 'warning', `Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...`);
      process.exit(1);
    }
    if (written > 0) {
      // Take the partial command back out of the file, so the file stays loadable.
      try {
        ftruncateSync(this.fd, this.fileSize);
      } catch {
        this.fileSize += written;
        this.buf.consume(written);
      }
    }
    if (this.lastError === null) log(this.server, 'warning', `Error writing to the AOF file: ${reason}`);
    this.lastError = reason;
  }

  private fsyncNow(): void {
    try {
      fdatasyncSync(this.fd);
    } catch (e) {
      log(this.server, 'warning', `Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${strerror(e)}. Exiting...`);
      process.exit(1);
    }
    this.unsynced = false;
    this.lastFsyncMs = Date.now();
  }

  /** everysec: starts an fdatasync in the thread pool when a second has passed and none runs. */
  maybeBackgroundFsync(): void {
    if (!this.unsynced || this.fd < 0 || this.fsyncSuppressed()) return;
    const now = Date.now();
    if (now - this.lastFsyncMs < 1000) return;
    if (this.fsyncInFlight) {
      this.delayedFsync++;
      return;
    }
    const fd = this.fd;
    this.fsyncInFlight = true;
    this.unsynced = false;
    this.lastFsyncMs = now;
    fdatasync(fd, (err) => {
      this.fsyncInFlight = false;
      if (err) {
        this.unsynced = true;
        if (this.lastError === null) log(this.server, 'warning', `Error syncing the AOF file: ${strerror(err)}`);
        this.lastError = strerror(err);
      }
      for (const pending of this.closeAfterFsync.splice(0)) closeQuietly(pending);
    });
  }

  /**
   * Switches to another file (rewrite done, AOF turned on/off). The old fd is
   * written out first by the caller; it is closed now, or after the background
   * fsync that uses it.
   */
  switchTo(fd: number, size: number): void {
    const old = this.fd;
    this.fd = fd;
    this.fileSize = size;
    this.unsynced = false;
    this.resetSelectedDb();
    if (old >= 0 && old !== fd) {
      if (this.fsyncInFlight) this.closeAfterFsync.push(old);
      else closeQuietly(old);
    }
  }

  /** Clean stop: write, fsync, close (SHUTDOWN, CONFIG SET appendonly no). */
  close(): void {
    if (this.fd >= 0) {
      this.writePending();
      try {
        fdatasyncSync(this.fd);
      } catch {
        // Reported by the write path already, if the disk is the problem.
      }
    }
    this.switchTo(-1, 0);
    this.buf.reset();
    this.releaseAll();
  }

  /** Whether a background fsync is running (INFO aof_pending_bio_fsync). */
  get pendingFsync(): number {
    return this.fsyncInFlight ? 1 : 0;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
