/**
 * The Server owns the databases, clients, configuration, command table and
 * clock. `execute` is the one place every command passes through (lookup,
 * arity, auth, stats, effects after the call); `KeyspaceEffects` is the one
 * place every write's side effects go through (see docs/ARCHITECTURE.md).
 */
import { PROPAGATE_ALL, type PendingWrite, type PropagateSink } from './propagate.js';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TlsOptions } from 'node:tls';
import { tlsServerSetup } from '../net/tls.js';
import { performance } from 'node:perf_hooks';
import { chmodSync, unlinkSync } from 'node:fs';
import { Clock } from './clock.js';
import { Client, ReplyMode } from './client.js';
import { CommandTable, CMD_MAY_REPLICATE, CMD_NO_AUTH, CMD_NO_MULTI, CMD_READONLY, CMD_WRITE, type Command } from './command-table.js';
import { Database, type KeyspaceEffects } from '../db/database.js';
import type { Value } from '../data/values.js';
import { ServerStats } from './stats.js';
import { Config, ConfigFileError } from '../config/config.js';
import { attachConnection, processInput } from '../net/connection.js';
import { buildCommandTable } from '../commands/index.js';
import { Sentinel } from '../sentinel/sentinel.js';
import { commands as sentinelCommands } from '../sentinel/commands.js';
import { Notifier } from './notify.js';
import { Blocking } from './blocking.js';
import { Watches } from './watch.js';
import { admitUnderMaxmemory, installEviction, OOM_ERROR } from './eviction.js';
import { checkPauseTimeout, isEvictionPaused, pauseGate, postponeIfPaused } from './pause.js';
import { startMetricsEndpoint, stopMetricsEndpoint } from '../observability/metrics-endpoint.js';
import { clientKind } from '../commands/client.js';
import { isLocalClient } from '../commands/server.js';
import { VERSION, REDIS_VERSION } from '../version.js';
import { sampleInfoMetrics } from '../observability/info.js';
import { installPubSub } from './pubsub.js';
import { installTracking } from './tracking.js';
import { freeValueAsync } from './lazyfree.js';
import type { ShutdownRequest } from '../commands/server.js';
import { installPersistence, loadingRefused, misconfRefused } from '../persistence/index.js';
import { installAof } from '../persistence/aof/index.js';
import { installObservability } from '../commands/observability.js';
import { clientEvictionCron, installClientEviction } from './client-eviction.js';
import { installOomScoreAdj } from './oom-score.js';
import { REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME, ReplyBufferCron, type ReplyBufferSettings } from './reply-buffer.js';
import { installReplication } from './replication.js';
import { installFunctionPersistence } from '../commands/functions.js';
import { busyCheck, isScriptBusy } from '../scripting/busy.js';
import { Acl } from './acl.js';
import { installOutputLimits, type OutputLimit } from './output-limit.js';
import { installCluster, type Cluster } from '../cluster/index.js';
import { randomHex } from '../util/random-hex.js';

/** Called before a change to a key (key null: the whole db); see Database.beforeWrite. */
type WriteBarrier = (db: Database, key: string | null, swap?: boolean) => void;

export interface ServerOptions {
  config?: Config;
  clock?: Clock;
}

export class Server implements KeyspaceEffects {
  readonly clock: Clock;
  readonly config: Config;
  readonly stats = new ServerStats();
  readonly table: CommandTable;
  dbs: Database[] = [];
  readonly clients = new Map<number, Client>();
  readonly notifier: Notifier;
  readonly blocking: Blocking;
  /** WATCHed keys and doomed transactions. */
  readonly watches: Watches;
  /** Number of changes since the last save (Redis's server.dirty). */
  dirty = 0;
  /** EXECs running (Redis's server.in_exec): background jobs asked for meanwhile are scheduled. */
  inExec = 0;
  readonly startTime: number;
  readonly runId: string;
  readonly version = VERSION;
  readonly redisVersion = REDIS_VERSION;
  private listener: NetServer | null = null;
  /** The `unixsocket` listener, when one is configured. */
  private unixListener: NetServer | null = null;
  /** Path of the unix socket listened on ('' when none). */
  unixSocketPath = '';
  /** The `tls-port` listener (src/net/tls.ts), when one is configured. */
  private tlsListener: TlsServer | null = null;
  /** The port the TLS listener accepts on (0 when none). */
  tlsPort = 0;
  private cronTimer: NodeJS.Timeout | null = null;
  /** Set by client tracking while tracking-table-max-keys is set: trims the table before each command. */
  trackingLimit: ((c: Client) => void) | null = null;
  /** DEBUG PAUSE-CRON: while set, the cron does nothing but refresh the clock. */
  cronPaused = false;
  /** Cached hot config values, refreshed on CONFIG SET. */
  requirepass = '';
  protoMaxBulkLen = 512 * 1024 * 1024;
  queryBufferLimit = 1024 * 1024 * 1024;
  hz = 10;
  /** appendfsync always: true while a client's replies must wait for an fsync (set by the AOF). */
  replyBarrier: ((c: Client) => boolean) | null = null;
  /** Propagation sinks (AOF, replicas); each receives (dbIndex, argv). */
  readonly propagateSinks: PropagateSink[] = [];
  /** Hooks run after every write to a key (WATCH, client tracking). */
  readonly modifiedHooks: Array<(db: Database, key: string) => void> = [];
  /**
   * Hooks run before a whole database changes at once: FLUSHDB/FLUSHALL empty it
   * (replacedWith null), SWAPDB replaces its contents with another db's. One call
   * per database instead of one `modified` per key (WATCH, tracking's null invalidation).
   */
  readonly flushHooks: Array<(emptied: Database, replacedWith: Database | null) => void> = [];
  /** RESP2 subscribed-mode check, set by the pub/sub module. */
  pubsubContext: ((c: Client) => boolean) | null = null;
  /** Per-module cleanup run by RESET (unsubscribe, unwatch, discard MULTI, ...). */
  readonly resetHooks: Array<(c: Client) => void> = [];
  port = 0;
  host = '127.0.0.1';
  shuttingDown = false;
  /** Following a master (REPLICAOF): writes are refused and keys do not expire, actively or lazily. */
  isReplica = false;
  /** True while the master's replication stream runs a command (replica side). */
  masterRunning = false;
  /**
   * Keys that clients of this replica (not its master) gave a TTL while it
   * was writable, per database: the replica expires them itself (Redis's
   * slaveKeysWithExpire), since no DEL for them comes from the master.
   */
  readonly replicaExpiring = new Map<Database, Set<string>>();

  get replicaWritable(): boolean {
    return this.isReplica && !this.config.getBool('replica-read-only');
  }

  replicaExpireSet(db: Database, key: string): void {
    if (!this.replicaWritable) return;
    let keys = this.replicaExpiring.get(db);
    if (keys === undefined) this.replicaExpiring.set(db, (keys = new Set()));
    keys.add(key);
  }
  /** Set by the replication module while min-replicas-to-write or a master link can refuse commands. */
  replicationGate: ((c: Client, cmd: Command, argv: string[]) => string | null) | null = null;
  /** SHUTDOWN: persistence saves here (false = failed); the bin exits the process in onShutdown. */
  saveForShutdown: ((req: ShutdownRequest) => boolean) | null = null;
  onShutdown: ((req: ShutdownRequest) => void) | null = null;
  /** ACL users and log (server/acl.ts). */
  readonly acl: Acl;
  /** False while every user may run everything: the dispatcher's ACL check is then one field test. */
  aclActive = false;
  /** client-output-buffer-limit normal, and its smallest non-zero limit (Infinity: unlimited); see output-limit.ts. */
  normalOutputLimit: OutputLimit = { hard: 0, soft: 0, softSeconds: 0 };
  outputLimitFloor = Infinity;
  /** Cluster mode (src/cluster); null when cluster-enabled is no. */
  cluster: Cluster | null = null;
  /** Sentinel mode (src/sentinel); null unless started with --sentinel. */
  readonly sentinel: Sentinel | null = null;

  /** What INFO's redis_mode and HELLO's mode say. */
  get mode(): 'standalone' | 'cluster' | 'sentinel' {
    return this.sentinel !== null ? 'sentinel' : this.cluster !== null ? 'cluster' : 'standalone';
  }
  /** DEBUG DROP-CLUSTER-PACKET-FILTER: the cluster bus drops received messages of this type number (-1: none). */
  clusterDropPacketFilter = -1;

  constructor(opts: ServerOptions = {}) {
    this.clock = opts.clock ?? new Clock();
    this.config = opts.config ?? new Config();
    this.startTime = this.clock.now();
    this.runId = randomHex(40);
    // Sentinel mode answers its own, smaller command table (src/sentinel/commands.ts).
    this.table = buildCommandTable(this.config.sentinelMode ? sentinelCommands : null);
    for (const [from, to] of this.config.renameCommands) {
      const err = this.table.rename(from, to);
      if (err !== null) throw new ConfigFileError(`>>> 'rename-command "${from}" "${to}"'\n${err}`);
    }
    this.acl = new Acl(this);
    this.notifier = new Notifier(this);
    this.blocking = new Blocking(this);
    installPubSub(this);
    installTracking(this);
    this.watches = new Watches(this);
    this.refreshConfig();
    // ACL: requirepass sets the default user's password; users come from the aclfile or `user` lines.
    if (this.requirepass !== '') this.acl.setRequirepass(this.requirepass);
    this.acl.loadAtStartup();
    this.config.onChange('requirepass', () => this.acl.setRequirepass(this.config.get('requirepass') ?? ''));
    const n = this.config.getNumber('databases');
    for (let i = 0; i < n; i++) this.dbs.push(new Database(i, this));
    // maxmemory: accounting, eviction policies, LFU counters (server/eviction.ts).
    installEviction(this);
    for (const name of ['requirepass', 'proto-max-bulk-len', 'client-query-buffer-limit', 'hz']) {
      this.config.onChange(name, () => this.refreshConfig());
    }
    this.clock.onAdvance = () => this.onClockAdvance();
    this.refreshLruClock();
    // Persistence (RDB save points, SAVE/BGSAVE state, INFO persistence, SHUTDOWN save).
    installPersistence(this);
    installFunctionPersistence(this);
    installAof(this);
    installObservability(this);
    // maxmemory-clients: disconnects the biggest clients when client buffers pass the limit.
    installClientEviction(this);
    // client-output-buffer-limit normal (pub/sub receivers and replicas check their own classes).
    installOutputLimits(this);
    // Replicas attached with PSYNC/SYNC get the propagated write stream.
    installReplication(this);
    // oom-score-adj writes /proc/self/oom_score_adj.
    installOomScoreAdj(this);
    this.cluster = installCluster(this);
    if (this.config.sentinelMode) this.sentinel = new Sentinel(this);
  }

  private refreshConfig(): void {
    this.requirepass = this.config.get('requirepass') ?? '';
    this.protoMaxBulkLen = this.config.getNumber('proto-max-bulk-len');
    this.queryBufferLimit = this.config.getNumber('client-query-buffer-limit');
    const hz = this.config.getNumber('hz');
    if (hz !== this.hz) {
      this.hz = hz;
      if (this.cronTimer) this.startCron();
    }
    for (const c of this.clients.values()) c.parser.limits.maxBulkLen = this.protoMaxBulkLen;
  }

  // ---- listening ---------------------------------------------------------

  listen(port: number, host: string | null): Promise<void> {
    if (host === null) {
      // An empty `bind`: no TCP listener (clients may still come by the unix socket).
      this.port = port;
      this.startCron();
      return startMetricsEndpoint(this);
    }
    return this.openListener(port, host).then(async (err) => {
      // The errno name (EADDRINUSE, ...) stays available as the error's code.
      if (err !== null) throw Object.assign(new Error(err), { code: /\b(E[A-Z0-9]+)\b/.exec(err)?.[1] });
      this.startCron();
      // The Prometheus endpoint (metrics-port) listens on the same address.
      try {
        await startMetricsEndpoint(this);
      } catch (e) {
        await this.close();
        throw e;
      }
    });
  }

  /**
   * CONFIG SET port / bind at runtime. A new port is listened on first and the
   * old listener closed only once that worked; a new address on the same port
   * needs the old listener closed first and re-opened if the new one fails (as
   * Redis does). Either way a refused address leaves the server reachable where
   * it was. Port 0 closes the TCP listener, as Redis.
   * Resolves to null, or the error of the failed listen.
   */
  async relisten(port: number, host: string | null): Promise<string | null> {
    const old = this.listener;
    const oldPort = this.port;
    const oldHost = this.host;
    if (port === 0 || host === null) {
      this.listener = null;
      old?.close();
      return null;
    }
    // The same port on another address: the old listener must let go of it first.
    const closeFirst = old !== null && port === oldPort;
    if (closeFirst) {
      this.listener = null;
      old.close(); // stops accepting at once; the 'close' event would wait for every connection
    }
    const err = await this.openListener(port, host);
    if (err === null) {
      if (!closeFirst) old?.close(); // connections already accepted stay
      return null;
    }
    if (closeFirst && !this.shuttingDown) await this.openListener(oldPort, oldHost);
    return err;
  }

  /** Where `bind` says to listen now (see listenHost). */
  bindHost(): string | null {
    return listenHost(this.config);
  }

  /** Listens on port/host as the TCP listener; null, or the error's message. */
  private openListener(port: number, host: string): Promise<string | null> {
    return new Promise((resolve) => {
      const srv = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.accept(socket));
      const fail = (e: NodeJS.ErrnoException): void => {
        // A host without IPv6: every IPv4 interface instead (Redis's "-::*" is optional).
        if (host === '::' && (e.code === 'EAFNOSUPPORT' || e.code === 'EADDRNOTAVAIL')) resolve(this.openListener(port, '0.0.0.0'));
        else resolve(e.message);
      };
      srv.once('error', fail);
      srv.listen(port, host, () => {
        srv.off('error', fail);
        if (this.shuttingDown) {
          srv.close();
          resolve(null);
          return;
        }
        const addr = srv.address();
        this.port = typeof addr === 'object' && addr ? addr.port : port;
        this.host = host;
        this.listener = srv;
        resolve(null);
      });
    });
  }

  /**
   * Also accepts clients on a unix domain socket (`unixsocket`), as Redis does
   * beside TCP: a stale socket file is replaced, and the file gets
   * `unixsocketperm` when that is set.
   */
  listenUnix(path: string, perm: number): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        unlinkSync(path);
      } catch {
        // none left over
      }
      const srv = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
      srv.once('error', reject);
      srv.listen(path, () => {
        srv.off('error', reject);
        if (perm !== 0) chmodSync(path, perm);
        this.unixListener = srv;
        this.unixSocketPath = path;
        resolve();
      });
    });
  }

  /**
   * Accepts TLS clients on `tls-port` (Redis's TLS connections): once the
   * handshake is done, a TLS socket is an ordinary client connection.
   */
  listenTls(port: number, host: string, options: TlsOptions): Promise<string | null> {
    return new Promise((resolve) => {
      const srv = createTlsServer(options, (socket) => this.accept(socket));
      // A failed handshake (no or a bad client certificate) only closes that connection.
      srv.on('tlsClientError', () => undefined);
      srv.once('error', (e) => resolve(e.message));
      srv.listen(port, host, () => {
        const addr = srv.address();
        this.tlsPort = typeof addr === 'object' && addr ? addr.port : port;
        const old = this.tlsListener;
        this.tlsListener = srv;
        old?.close();
        resolve(null);
      });
    });
  }

  /**
   * Opens the `tls-port` listener from the configuration (start-up, CONFIG SET tls-port);
   * null, or the lines to log when the TLS settings are unusable or the port is taken.
   */
  async startTls(host: string, port = this.config.getNumber('tls-port')): Promise<{ configError: boolean; lines: string[] } | null> {
    const setup = tlsServerSetup(this.config);
    if (setup.errors !== null) return { configError: true, lines: [...setup.errors, 'Failed to configure TLS. Check logs for more info.'] };
    const err = await this.listenTls(port, host, setup.options);
    return err === null ? null : { configError: false, lines: [`Could not create server TLS listening socket ${host}:${port}: ${err}`] };
  }

  /** CONFIG SET of a tls-* directive: new connections use the new certificates and settings. */
  reloadTls(options: TlsOptions): void {
    const srv = this.tlsListener;
    if (srv === null) return;
    srv.setSecureContext(options);
    // Asking for and checking client certificates are the listener's, not the context's.
    const fields = srv as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
    fields.requestCert = options.requestCert === true;
    fields.rejectUnauthorized = options.rejectUnauthorized === true;
  }

  /** CONFIG SET tls-port 0: no more TLS connections (those accepted stay). */
  closeTls(): void {
    this.tlsListener?.close();
    this.tlsListener = null;
    this.tlsPort = 0;
  }

  get tlsActive(): boolean {
    return this.tlsListener !== null;
  }

  private accept(socket: Socket): void {
    const maxClients = this.config.getNumber('maxclients');
    if (this.clients.size >= maxClients) {
      this.stats.rejectedConnections++;
      socket.on('error', ignoreSocketError); // a peer that resets must not crash the server
      socket.end('-ERR max number of clients reached\r\n');
      socket.resume(); // accepted paused: read (and drop) until the peer closes
      return;
    }
    const c = new Client(this, socket);
    // protected-mode: with no password for the default user, only local peers get in (as Redis 7.0,
    // whatever `bind` says).
    if (this.acl.defaultUser.nopass && this.config.getBool('protected-mode') && !isLocalClient(c)) {
      this.stats.rejectedConnections++;
      socket.on('error', ignoreSocketError);
      socket.end(PROTECTED_MODE_DENIED);
      socket.resume();
      return;
    }
    this.stats.totalConnections++;
    // tcp-keepalive: probe idle peers after that many seconds, as Redis's anetKeepAlive.
    const keepalive = this.config.getNumber('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    c.setAuthenticated(this.acl.defaultAuthFree());
    this.clients.set(c.id, c);
    attachConnection(this, c, socket);
  }

  /** Forgets a client whose connection closed. */
  removeClient(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    if (c.blocked) this.blocking.unblock(c);
    this.clients.delete(c.id);
    for (const hook of this.disconnectHooks) hook(c);
  }

  readonly disconnectHooks: Array<(c: Client) => void> = [];
  /** Periodic work of other modules, run by the cron after the server's own (replication pings). */
  readonly cronHooks: Array<() => void> = [];
  /** Run by close(): modules free what outlives the server otherwise (Lua states in the shared WASM heap). */
  readonly closeHooks: Array<() => void> = [];

  async close(): Promise<void> {
    this.shuttingDown = true;
    // Stop accepting at once: a client connecting after SHUTDOWN's reply is refused, as by Redis.
    const l = this.listener;
    this.listener = null;
    const lClosed = l ? new Promise<void>((r) => l.close(() => r())) : null;
    const u = this.unixListener;
    this.unixListener = null;
    const uClosed = u ? new Promise<void>((r) => u.close(() => r())) : null;
    const t = this.tlsListener;
    this.tlsListener = null;
    const tClosed = t ? new Promise<void>((r) => t.close(() => r())) : null;
    if (this.cronTimer) clearInterval(this.cronTimer);
    this.cronTimer = null;
    this.sentinel?.stop();
    this.blocking.stop();
    for (const c of this.clients.values()) c.socket?.destroy();
    this.clients.clear();
    for (const hook of this.closeHooks) hook();
    await stopMetricsEndpoint(this);
    if (lClosed) await lClosed;
    if (uClosed) await uClosed;
    if (tClosed) await tClosed;
  }

  // ---- command execution -------------------------------------------------

  /** Runs one command for a client: lookup, checks, call, stats, effects. */
  execute(c: Client, argv: string[]): void {
    let cmd = this.table.lookup(argv[0]);
    if (cmd === undefined) {
      this.reject(c, null, unknownCommandError(argv));
      return;
    }
    if (cmd.subcommands !== null && argv.length >= 2) {
      const sub = cmd.subcommands.get(argv[1].toLowerCase());
      if (sub === undefined) {
        this.reject(c, cmd, `ERR unknown subcommand '${truncate(argv[1], 128)}'. Try ${cmd.fullName.toUpperCase()} HELP.`);
        return;
      }
      cmd = sub;
    }
    const arity = cmd.arity;
    if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
      this.reject(c, cmd, `ERR wrong number of arguments for '${cmd.fullName}' command`);
      return;
    }
    if (!c.authenticated && (cmd.flags & CMD_NO_AUTH) === 0) {
      this.reject(c, cmd, 'NOAUTH Authentication required.');
      return;
    }
    // ACL (server/acl.ts): one field test while no user is restricted. A no-multi command
    // inside MULTI is refused below first, as Redis.
    if (this.aclActive && (c.multi === null || (cmd.flags & CMD_NO_MULTI) === 0 || TX_CONTROL_COMMANDS.has(cmd.fullName))) {
      const denied = this.acl.checkClient(c, cmd, argv);
      if (denied !== null) {
        this.reject(c, cmd, denied);
        return;
      }
    }
    // Cluster mode: MOVED/ASK/CROSSSLOT/CLUSTERDOWN and cluster refusals ('' = already answered).
    if (this.cluster !== null) {
      const refused = this.cluster.refusal(c, cmd, argv);
      if (refused !== null) {
        if (refused !== '') this.reject(c, cmd, refused);
        return;
      }
    }
    // maxmemory: evict first; refuse what needs memory when nothing can be freed (server/eviction.ts).
    if (this.config.maxmemory !== 0 && !admitUnderMaxmemory(this, c, cmd, argv)) {
      this.reject(c, cmd, OOM_ERROR);
      return;
    }
    // Client tracking's table limit (tracking-table-max-keys), checked before every command as Redis.
    if (this.trackingLimit !== null) this.trackingLimit(c);
    const misconf = misconfRefused(this, cmd, c);
    if (misconf !== null) {
      this.reject(c, cmd, misconf);
      return;
    }
    // Replication's refusals (NOREPLICAS, READONLY, MASTERDOWN), set only while one can apply.
    if (this.replicationGate !== null) {
      const refused = this.replicationGate(c, cmd, argv);
      if (refused !== null) {
        this.reject(c, cmd, refused);
        return;
      }
    }
    if (this.pubsubContext !== null && this.pubsubContext(c) && !PUBSUB_CONTEXT_COMMANDS.has(cmd.fullName)) {
      this.reject(c, cmd, `ERR Can't execute '${cmd.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
      return;
    }
    // As Redis's processCommand: LOADING, then BUSY, then a replica/monitor touching the keyspace.
    const loading = loadingRefused(this, cmd, c);
    if (loading !== null) {
      this.reject(c, cmd, loading);
      return;
    }
    const busy = busyCheck(this, cmd);
    if (busy !== null) {
      this.reject(c, cmd, busy);
      return;
    }
    if (c.monitor && (cmd.flags & (CMD_WRITE | CMD_READONLY | CMD_MAY_REPLICATE)) !== 0) {
      this.reject(c, cmd, "ERR Replica can't interact with the keyspace");
      return;
    }
    // CLIENT PAUSE: a paused client holds this command and reads no more input (server/pause.ts).
    if (pauseGate.active !== 0 && postponeIfPaused(this, c, cmd, argv)) return;
    if (c.multi !== null && !TX_CONTROL_COMMANDS.has(cmd.fullName)) {
      if ((cmd.flags & CMD_NO_MULTI) !== 0) {
        this.reject(c, cmd, 'ERR Command not allowed inside a transaction');
        return;
      }
      // A doomed transaction stops collecting commands but still answers QUEUED, as Redis.
      if (!c.multi.aborted && !this.watches.isDirty(c)) {
        c.multi.queue.push({ cmd, argv });
        let bytes = 8 * argv.length;
        for (let i = 0; i < argv.length; i++) bytes += argv[i].length;
        c.multi.bytes += bytes;
      }
      c.addSimple('QUEUED');
      return;
    }
    this.call(c, cmd, argv);
  }

  /** A command refused before it ran: counts as rejected, and obeys CLIENT REPLY OFF/SKIP. */
  private reject(c: Client, cmd: Command | null, error: string): void {
    if (cmd !== null) cmd.stats.rejected++;
    if (c.multi !== null) c.multi.aborted = true; // EXEC will answer EXECABORT
    if (cmd !== null && cmd.fullName === 'exec') {
      // A refused EXEC ends the transaction (and any WATCH) and says why, as Redis's execCommandAbort.
      this.watches.discard(c);
      error = 'EXECABORT Transaction discarded because of: ' + (error.startsWith('ERR ') ? error.slice(4) : error);
    }
    const mark = c.len;
    c.addError(error);
    if (c.replyMode !== ReplyMode.On) this.applyReplyMode(c, mark);
    for (const hook of this.rejectHooks) hook(c, cmd);
  }

  /** Observers of refused commands (client tracking's CACHING flag is used up by them too). */
  readonly rejectHooks: Array<(c: Client, cmd: Command | null) => void> = [];

  /** Calls a resolved command, with stats, reply modes and effects. */
  call(c: Client, cmd: Command, argv: string[]): void {
    const handler = cmd.handler!;
    const dirty = this.dirty;
    const errors = c.errorCount;
    const mark = c.len;
    // Within a pipelined batch, a command starts when the previous one ended (see chainStart).
    const start = this.chainStart >= 0 && this.callDepth === 0 ? this.chainStart : performance.now();
    this.chainStart = -1;
    c.current = cmd;
    const blockedBefore = c.blocked;
    this.callDepth++;
    try {
      handler(c, argv);
    } catch (e) {
      // A bug in a handler must not take the server down: report it to this client only.
      c.len = mark;
      c.addError('ERR internal error in Mnemo: ' + String((e as Error)?.message ?? e).slice(0, 200));
      process.emitWarning(`command ${cmd.fullName} threw: ${(e as Error)?.stack ?? e}`);
    }
    const end = performance.now();
    const usec = Math.round((end - start) * 1000);
    // The command blocked: its stats are completed when it is unblocked (Blocking.completeStats).
    if (c.blocked !== null && c.blocked !== blockedBefore) c.blocked.usec = usec;
    c.current = null;
    c.lastCommand = cmd.fullName;
    const st = cmd.stats;
    st.calls++;
    st.usec += usec;
    if (c.errorCount !== errors) st.failed++;
    this.stats.totalCommands++;
    if (c.replyMode !== ReplyMode.On) this.applyReplyMode(c, mark);
    // propagateAs: another command to log instead of argv; an empty array logs nothing.
    if ((this.dirty !== dirty || c.forcePropagation) && (cmd.flags & CMD_WRITE) !== 0) {
      const prop = c.propagateAs ?? argv;
      if (prop.length > 0) this.propagate(c.db.id, prop);
    }
    c.propagateAs = null;
    c.forcePropagation = false;
    // The outermost command sends what it and its nested commands propagated, before
    // clients it woke run (their pops are propagated after it, as in Redis).
    if (--this.callDepth === 0 && this.pendingPropagation.length !== 0) this.flushPropagation();
    let chain = this.callDepth === 0 && this.chaining;
    for (const hook of this.afterCallHooks) hook(c, cmd, argv, usec);
    // Clients blocked on keys this command made ready are served after it is done
    // (its slowlog entry comes first), as Redis's handleClientsBlockedOnKeys.
    if (this.blocking.hasReadyKeys()) {
      this.blocking.serveReadyKeys();
      chain = false;
    }
    if (chain) this.chainStart = end;
  }

  /**
   * One clock read per command instead of two: while processInput runs a
   * client's pipelined commands (`chaining`), the next command's start time is
   * this one's end (what lies between is parsing the next command and a few
   * counters). Anything else that runs a command reads the clock afresh.
   */
  chaining = false;
  private chainStart = -1;

  /** Called by processInput around a batch of pipelined commands. */
  setChaining(on: boolean): void {
    this.chaining = on;
    this.chainStart = -1;
  }

  /**
   * Observers of a blocked command's completion (Redis's updateStatsOnUnblock): the
   * command with its original argv, its total duration and the part spent replying, µs.
   */
  readonly unblockHooks: Array<(c: Client, cmd: Command, argv: string[], totalUsec: number, replyUsec: number) => void> = [];

  /** Observers of every executed command (slowlog, latency, MONITOR). */
  readonly afterCallHooks: Array<(c: Client, cmd: Command, argv: string[], usec: number) => void> = [];

  private applyReplyMode(c: Client, mark: number): void {
    if (c.replyMode === ReplyMode.Off || c.replyMode === ReplyMode.SkipThis) c.len = mark;
    if (c.replyMode === ReplyMode.SkipThis) c.replyMode = ReplyMode.On;
    else if (c.replyMode === ReplyMode.SkipNext) c.replyMode = ReplyMode.SkipThis;
  }

  /** Nesting of call(): EXEC (and scripts) run commands from inside a command. */
  private callDepth = 0;
  /** Writes propagated while a command runs; sent when the outermost call returns. */
  private pendingPropagation: PendingWrite[] = [];

  /**
   * Feeds AOF and replicas with a write's effect. During a command the write
   * waits for the command's end, so that everything one command did (the
   * writes of an EXEC, a lazily expired key's DEL plus the write) reaches the
   * sinks as one unit.
   */
  propagate(db: number, argv: string[], target: number = PROPAGATE_ALL): void {
    if (this.propagateSinks.length === 0) return;
    if (this.callDepth > 0) {
      this.pendingPropagation.push({ db, argv, target });
      return;
    }
    for (const sink of this.propagateSinks) if ((target & (sink.target ?? PROPAGATE_ALL)) !== 0) sink(db, argv);
  }

  /**
   * Sends a command's pending writes. As Redis 7.0 does, more than one write is
   * wrapped in MULTI ... EXEC so replicas and the AOF apply them atomically;
   * MULTI takes the first write's db and EXEC the last's, so no extra SELECT.
   */
  private flushPropagation(): void {
    const ops = this.pendingPropagation;
    this.pendingPropagation = [];
    const sinks = this.propagateSinks;
    const wrap = ops.length > 1;
    if (wrap) for (const sink of sinks) sink(ops[0].db, ['MULTI']);
    for (const op of ops) {
      for (const sink of sinks) if ((op.target & (sink.target ?? PROPAGATE_ALL)) !== 0) sink(op.db, op.argv);
    }
    if (wrap) for (const sink of sinks) sink(ops[ops.length - 1].db, ['EXEC']);
  }

  /** Runs the pipelined input a client has buffered (after it was unblocked, say). */
  resume(c: Client): void {
    processInput(this, c);
  }

  // ---- keyspace effects (the one path every write goes through) ---------

  /**
   * The time keys' TTLs are checked against. While a script runs it is the
   * script's start time (scriptTime), as Redis blocks time for a script: a key
   * expires at its first access, never in the middle of the script.
   */
  now(): number {
    return this.scriptTime >= 0 ? this.scriptTime : this.clock.now();
  }

  /** Start time of the running script (ms on the server clock), -1 when none runs. */
  scriptTime = -1;

  /** The client whose SCRIPT DEBUG SYNC session holds the server (others' input waits), or null. */
  ldbHolder: Client | null = null;

  // Write barriers (Database.beforeWrite): a BGSAVE's snapshot and SCRIPT DEBUG YES sessions share it.
  private snapshotBarrier: WriteBarrier | null = null;
  private readonly writeBarriers: Array<{ beforeWrite(db: Database, key: string | null): void }> = [];

  /** Persistence: the barrier of the snapshots being written (null when none). */
  setSnapshotBarrier(hook: WriteBarrier | null): void {
    this.snapshotBarrier = hook;
    this.applyWriteBarriers();
  }

  /** Someone to call before every change to a key (or to a whole db: key null), until removed. */
  addWriteBarrier(b: { beforeWrite(db: Database, key: string | null): void }): void {
    this.writeBarriers.push(b);
    this.applyWriteBarriers();
  }

  removeWriteBarrier(b: { beforeWrite(db: Database, key: string | null): void }): void {
    const i = this.writeBarriers.indexOf(b);
    if (i >= 0) this.writeBarriers.splice(i, 1);
    this.applyWriteBarriers();
  }

  private applyWriteBarriers(): void {
    const snap = this.snapshotBarrier;
    const extra = this.writeBarriers.slice();
    const hook: WriteBarrier | null =
      extra.length === 0
        ? snap
        : (db, key, swap) => {
            for (const b of extra) b.beforeWrite(db, key);
            if (snap !== null) snap(db, key, swap);
          };
    for (const db of this.dbs) db.beforeWrite = hook;
  }

  /**
   * Seconds on the server clock for per-key access times (OBJECT IDLETIME, LRU).
   * Cached like Redis's LRU clock: refreshed by the cron and whenever the clock is
   * moved, so a key lookup does not read the system clock.
   */
  lruClock = 0;

  private refreshLruClock(): void {
    this.lruClock = Math.floor(this.clock.now() / 1000) >>> 0;
  }

  modified(db: Database, key: string): void {
    const hooks = this.modifiedHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i](db, key);
  }

  /** See flushHooks. */
  databaseReplaced(emptied: Database, replacedWith: Database | null): void {
    const hooks = this.flushHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i](emptied, replacedWith);
  }

  /** True while an expired key's deletion is signalled: no client made that change (BCAST NOLOOP). */
  signallingExpiry = false;

  expired(db: Database, key: string, value: Value | undefined): void {
    this.stats.expiredKeys++;
    if (this.config.getBool('lazyfree-lazy-expire')) freeValueAsync(this, value);
    this.notifier.notify('x', 'expired', key, db.id);
    this.signallingExpiry = true;
    try {
      this.modified(db, key);
    } finally {
      this.signallingExpiry = false;
    }
    this.propagateNow(db.id, ['DEL', key]);
  }

  /**
   * Sends a write to AOF and replicas at once, even in the middle of a command:
   * a lazily expired or evicted key's DEL (Redis's propagateDeletion). It goes
   * ahead of the writes the command itself propagates, never inside their
   * MULTI ... EXEC, as in Redis 7.0.
   */
  propagateNow(db: number, argv: string[]): void {
    const sinks = this.propagateSinks;
    for (let i = 0; i < sinks.length; i++) sinks[i](db, argv);
  }

  expiryPaused(): boolean {
    return isEvictionPaused(this);
  }

  keyCreated(db: Database, key: string): void {
    if (this.notifier.flags !== 0) this.notifier.notify('n', 'new', key, db.id);
  }

  keyMiss(db: Database, key: string): void {
    if (this.notifier.flags !== 0) this.notifier.notify('m', 'keymiss', key, db.id);
  }

  keyReady(db: Database, key: string): void {
    this.blocking.signalKeyReady(db, key);
  }

  // ---- periodic work -----------------------------------------------------

  private startCron(): void {
    if (this.cronTimer) clearInterval(this.cronTimer);
    this.cronTimer = setInterval(() => this.cron(), Math.max(1, Math.floor(1000 / this.hz)));
    this.cronTimer.unref();
  }

  /** Redis's serverCron: active expiry, blocked-client timeouts, idle clients. */
  cron(): void {
    this.refreshLruClock();
    if (this.cronPaused) return; // DEBUG PAUSE-CRON 1: skip the periodic work, as Redis's pause_cron
    checkPauseTimeout(this);
    if (isScriptBusy(this)) return; // nothing touches the dataset while a script runs
    sampleInfoMetrics(this);
    clientEvictionCron(this);
    this.activeExpireCycle();
    this.blocking.checkTimeouts();
    this.closeIdleClients();
    this.replyBufferCron.run(this.replyBuffer);
    for (const hook of this.cronHooks) hook();
  }

  private onClockAdvance(): void {
    this.refreshLruClock();
    checkPauseTimeout(this);
    if (isScriptBusy(this)) return;
    this.blocking.checkTimeouts();
  }

  /** Samples keys with a TTL in each db, bounded to 25% of a tick's time, as Redis's slow cycle. */
  activeExpireCycle(): void {
    // During CLIENT PAUSE keys do not expire actively, as in Redis.
    // A replica waits for its master's DELs, as Redis's replicas do.
    if (!this.activeExpireEnabled || isEvictionPaused(this)) return;
    if (this.isReplica) {
      if (this.replicaExpiring.size !== 0) this.expireReplicaKeys();
      return;
    }
    const budgetMs = (1000 / this.hz) * 0.25;
    const start = performance.now();
    const now = this.clock.now();
    for (const db of this.dbs) {
      if (db.expires.size === 0) continue;
      for (;;) {
        const [sampled, expired] = db.activeExpireSample(20, now);
        if (sampled === 0 || expired <= sampled / 10) break;
        if (performance.now() - start > budgetMs) return;
      }
    }
  }

  activeExpireEnabled = true;

  /** Reply buffer resizing (DEBUG REPLYBUFFER) and its INFO counters. */
  readonly replyBuffer: ReplyBufferSettings = {
    peakResetTime: REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME,
    resizing: true,
    shrinks: 0,
    expands: 0,
  };
  private readonly replyBufferCron = new ReplyBufferCron(this);

  /** Elements of at least this many bytes get a quicklist node of their own (DEBUG QUICKLIST-PACKED-THRESHOLD). */
  quicklistPackedThreshold = 1 << 30;

  /**
   * A replica's active expiry (Redis's expireSlaveKeys): only the keys its own
   * clients gave a TTL. Stops after finding more than 3 keys not yet expired
   * (they move to the back, so the next round looks at others) or after 1 ms.
   */
  private expireReplicaKeys(): void {
    const start = performance.now();
    const now = this.clock.now();
    let live = 0;
    let checked = 0;
    for (const [db, keys] of this.replicaExpiring) {
      if (this.dbs[db.id] !== db) {
        this.replicaExpiring.delete(db); // replaced by a full sync or a load
        continue;
      }
      for (const key of keys) {
        const r = db.expireTracked(key, now);
        keys.delete(key);
        if (r === 'live') {
          keys.add(key);
          if (++live > 3) return;
        }
        if (++checked % 64 === 0 && performance.now() - start > 1) return;
        if (checked > keys.size + 64) break;
      }
      if (keys.size === 0) this.replicaExpiring.delete(db);
    }
  }

  private closeIdleClients(): void {
    const timeout = this.config.getNumber('timeout');
    if (timeout <= 0) return;
    const now = this.clock.now();
    for (const c of this.clients.values()) {
      // As Redis: replicas, masters, subscribers and blocked (or paused) clients never time out.
      if (c.blocked || c.socket === null || clientKind(c) !== 'normal') continue;
      if (now - c.lastInteraction > timeout * 1000) c.socket.destroy();
    }
  }
}

/**
 * The address to listen on for the `bind` directive. The default ("* -::*", as
 * Redis's) is every interface, IPv6 and IPv4 on one dual-stack socket ('::',
 * IPv4 only where the host has no IPv6); protected-mode keeps non-loopback peers
 * out while the default user has no password, as in Redis. An explicit `bind`
 * is honoured; its first address is used ("-" marks an optional address; "*" is
 * every IPv4 interface).
 */
export function listenHost(config: Config): string | null {
  if (config.bindAddresses().length === 0) return null; // bind "": no TCP listener, as Redis
  const bind = config.bindAddresses().map((a: string) => a.replace(/^-/, ''));
  const explicit = config.get('bind') !== '* -::*';
  return !explicit ? '::' : bind[0] === '*' ? '0.0.0.0' : bind[0] === '::*' ? '::' : bind[0] ?? '::';
}

const PROTECTED_MODE_DENIED =
  '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. ' +
  'If you want to connect from external computers to Redis you may adopt one of the following solutions: ' +
  "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface " +
  'by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible ' +
  'from internet if you do so. Use CONFIG REWRITE to make this change permanent. ' +
  '2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the ' +
  "protected mode option to 'no', and then restarting the server. " +
  "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
  '4) Setup a an authentication password for the default user. ' +
  'NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n';

/** Commands that run at once inside MULTI instead of being queued. */
const TX_CONTROL_COMMANDS = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);
/** What a RESP2 client in subscribed mode may still run. */
const PUBSUB_CONTEXT_COMMANDS = new Set(['subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) : s;
}

/** Redis 7.0's text: ERR unknown command 'x', with args beginning with: 'a' 'b' */
export function unknownCommandError(argv: string[]): string {
  let args = '';
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    args += `'${truncate(argv[i], 128 - args.length)}' `;
  }
  return `ERR unknown command '${truncate(argv[0], 128)}', with args beginning with: ${args}`;
}

/** Errors of a refused connection's socket (the peer reset it): nothing to do, it is being closed. */
function ignoreSocketError(): void {}
