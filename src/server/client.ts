/**
 * A connected client (or a fake one, for scripts): its protocol state, selected
 * database, reply buffer and per-connection flags. Handlers receive the Client
 * as their context and write replies to it directly (it is a ReplyWriter).
 */
import type { Socket } from 'node:net';
import { ReplyWriter } from '../resp/writer.js';
import { RespParser } from '../resp/parser.js';
import type { Database } from '../db/database.js';
import type { Server } from './server.js';
import type { Command } from './command-table.js';
import { checkOutputLimit } from './output-limit.js';

export const enum ReplyMode {
  On = 0,
  Off = 1,
  SkipNext = 2,
  SkipThis = 3,
}

/** State of a client blocked in BLPOP & co (see server/blocking.ts). */
export interface BlockState {
  keys: string[];
  db: Database;
  /** Absolute deadline in server-clock ms, or 0 for none. */
  deadline: number;
  /** Tries to serve the client now that `key` may have data; returns true when served. */
  serve(c: Client, key: string): boolean;
  /** Replies for a timeout (null array by default). */
  timeout(c: Client): void;
  argv: string[];
  cmd: Command;
  /** Duration of the call that blocked, µs (set by Server.call; the unblocking adds its own). */
  usec: number;
}

/** A MULTI in progress: the queued commands, and whether an error doomed it (EXECABORT). */
export interface MultiState {
  queue: Array<{ cmd: Command; argv: string[] }>;
  aborted: boolean;
  /** The queue's memory as Redis counts it (argument bytes plus a pointer each), kept as commands are queued. */
  bytes: number;
}

let nextClientId = 1;

export class Client extends ReplyWriter {
  readonly id = nextClientId++;
  readonly parser: RespParser;
  db: Database;
  name = '';
  authenticated: boolean;
  user = 'default';
  replyMode = ReplyMode.On;
  /** Close the connection once pending replies are written (QUIT, protocol errors). */
  closeAfterReply = false;
  closed = false;
  noEvict = false;
  readonly createdAt: number;
  lastInteraction: number;
  lastCommand = 'NULL';
  /** Number of errors replied during the current command (commandstats failed_calls). */
  errorCount = 0;
  blocked: BlockState | null = null;
  /** Set while the client's input processing is paused (blocked, or CLIENT PAUSE). */
  addr: string;
  laddr: string;
  /** Connected through the `unixsocket` listener (CLIENT LIST flag U). */
  unixSocket = false;
  fd = -1;
  /** Command being executed (for CLIENT LIST cmd=, MONITOR, errors). */
  current: Command | null = null;
  /** Output bytes queued in the socket (for CLIENT LIST omem). */
  inputBytes = 0;
  /**
   * Set by a handler whose effect must reach AOF/replicas as a different command
   * (SET EX -> SET PXAT, EXPIRE -> PEXPIREAT, BLPOP -> LPOP, ...). Reset per call.
   */
  propagateAs: string[] | null = null; // [] = propagate nothing
  /** Propagate this call even if it changed no key (Redis's forceCommandPropagation: FLUSHALL, FLUSHDB). */
  forcePropagation = false;
  /** The client that runs our master's replication stream (replica side): it may write on a read-only replica. */
  isMaster = false;
  /** An attached replica (master side): what it is sent counts as replication output. */
  replicaOutput = false;
  /**
   * Runs a command a CLIENT PAUSE held, when the pause ends, instead of the
   * dispatcher (the master link continues its stream from there); null for
   * ordinary clients.
   */
  heldResume: ((argv: string[]) => void) | null = null;
  /** The client that replays the AOF at load (Redis's CLIENT_ID_AOF): like the master's, obeyed as is. */
  aofLoader = false;
  /** Replication offset after this client's last command (Redis's woff): what WAIT waits for. */
  replOffset = 0;
  /** In MONITOR mode (set by the monitor module): keyspace commands are refused. */
  monitor = false;
  /** Set by MULTI; the dispatcher queues commands while it is set. */
  multi: MultiState | null = null;
  /** True while EXEC or a script runs this client's commands: blocking commands must not block. */
  inMulti = false;
  inScript = false;
  /**
   * Over its client-output-buffer-limit (Redis's CLIENT_CLOSE_ASAP): replies are
   * dropped from now on, no more input is run, and the connection is closed
   * without sending anything. Loops that can produce huge replies stop early.
   */
  closeAsap = false;
  /** Server time (seconds) since when the output has stayed over the soft limit; 0 = not over. */
  softLimitSince = 0;
  /** A script's client: the client running the script and its command (EVAL/FCALL ... keys), for client tracking. */
  scriptCaller: Client | null = null;
  scriptCallerArgv: string[] | null = null;
  /** Redis's query buffer, modelled (src/server/query-buffer.ts): its room (sdsalloc) and recent peak. */
  qbufAlloc = 0;
  qbufPeak = 0;
  /** This client's buffers as client eviction last noted them (its running total). */
  evictionNoted = 0;
  /**
   * While client eviction is on, input is run after the turn's reads (net/connection.ts):
   * the first command parsed at read time (or the protocol error met), waiting for that pass.
   */
  readAhead: string[] | Error | null = null;
  /** Queued for the turn's deferred input pass. */
  inputDeferred = false;
  /** Called when the server wants this client gone (CLIENT KILL, shutdown). */
  onKill: (() => void) | null = null;
  /** SCRIPT DEBUG: 0 off, 1 YES (a session whose writes are discarded), 2 SYNC (src/scripting/ldb.ts). */
  ldbMode: 0 | 1 | 2 = 0;
  /** The Lua debugging session this client drives: its input goes to the debugger. */
  ldbSession: { readonly waiting: boolean; input(argv: string[], inline: boolean): void } | null = null;

  constructor(
    readonly server: Server,
    readonly socket: Socket | null,
  ) {
    super();
    this.db = server.dbs[0];
    this.authenticated = server.config.requirepass === '';
    this.parser = new RespParser({
      maxBulkLen: server.config.protoMaxBulkLen,
      authRequired: !this.authenticated,
    });
    this.createdAt = this.lastInteraction = server.clock.now();
    // As Redis 7.0's createClient, which stores this time in seconds while the cron compares it
    // with milliseconds: the first cron tick resets the peak, so an idle client's reply buffer
    // shrinks to 1 KB within two ticks (CLIENT LIST rbs=1024), not after 5 s.
    this.bufPeakResetAt = Math.floor(this.createdAt / 1000);
    if (socket && socket.remoteAddress === undefined && server.unixSocketPath !== '') {
      // A unix socket connection: Redis shows the socket path with port 0.
      this.unixSocket = true;
      this.addr = this.laddr = `${server.unixSocketPath}:0`;
    } else {
      this.addr = socket ? `${socket.remoteAddress}:${socket.remotePort}` : '';
      this.laddr = socket ? `${socket.localAddress}:${socket.localPort}` : '';
    }
    if (this.addr.startsWith('::ffff:')) this.addr = this.addr.slice(7);
    if (this.laddr.startsWith('::ffff:')) this.laddr = this.laddr.slice(7);
  }

  setAuthenticated(v: boolean): void {
    this.authenticated = v;
    this.parser.limits.authRequired = !v;
  }

  /**
   * The reply buffer is about to grow: the moment to check the output buffer
   * limit (Redis checks whenever a reply spills past its static buffer). A
   * client scheduled to close keeps writing over the same bytes instead.
   */
  protected override grow(need: number): void {
    if (this.socket !== null && !this.closeAsap && need > this.server.outputLimitFloor) checkOutputLimit(this.server, this, need);
    if (this.closeAsap) {
      const extra = need - this.len;
      this.len = 0;
      if (extra <= this.out.length) return;
      need = extra;
    }
    super.grow(need);
  }

  protected override onError(msg: string): void {
    this.errorCount++;
    this.server.stats.countError(msg);
    if (this.onErrorReply !== null) this.onErrorReply(msg);
  }

  /** Set on the master link's client (replica-link.ts): an error "replied" to the master is logged. */
  onErrorReply: ((msg: string) => void) | null = null;

  /** Selects database `index`; returns false when out of range. */
  select(index: number): boolean {
    const db = this.server.dbs[index];
    if (db === undefined) return false;
    this.db = db;
    return true;
  }
}
