/**
 * The replica side of Redis replication (REPLICAOF host port, or `replicaof`
 * in the configuration): a connection to the master that performs the
 * handshake a Redis replica performs, loads the master's snapshot and then
 * executes the stream of writes as the master client.
 *
 * Handshake, one request at a time: PING, AUTH when masterauth is set,
 * REPLCONF listening-port, REPLCONF capa psync2, then PSYNC with the cached
 * replication id and offset (or `? -1`). `+FULLRESYNC <id> <offset>` is
 * followed by `$<length>` and the RDB, or (we announce "capa eof", so a
 * diskless master streams it) `$EOF:<40-byte mark>`, the RDB and the mark;
 * newlines before it are the master's keepalives. The image replaces the
 * dataset once complete; `+CONTINUE` goes straight to the stream.
 *
 * The stream is parsed with the client parser and run through
 * Server.execute on a client without a socket flagged `isMaster`: it may
 * write on a read-only replica and its replies are dropped, except REPLCONF
 * GETACK, answered with REPLCONF ACK <offset>. The offset counts the stream's
 * bytes as they are executed; an ACK also goes every second. A link silent
 * for repl-timeout seconds, or closed, reconnects a second later and tries
 * to continue where it stopped.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tlsClientSetup } from '../net/tls.js';
import type { Server } from './server.js';
import { Client } from './client.js';
import { RespParser, ProtocolError } from '../resp/parser.js';
import { loadRdb, loadRdbAsync, persistenceOf } from '../persistence/index.js';
import { log } from '../persistence/log.js';
import { encodeCommand } from '../persistence/aof/resp.js';

/** REPL_STATE_* as ROLE names them. */
export type LinkState = 'connect' | 'connecting' | 'handshake' | 'sync' | 'connected';

/**
 * Where the master's stream goes on, for our own replicas (Redis 7 proxies it
 * byte for byte, under the master's replication id and offsets).
 */
export interface StreamHooks {
  /** Whether our PSYNC carries FAILOVER (we are failing over to this master). */
  failoverPsync(): boolean;
  /** The master answered our PSYNC: accepted (+FULLRESYNC, +CONTINUE) or not. */
  psyncDone(accepted: boolean): void;
  /** The master's id and offset are now ours; `full`: after a snapshot (our dataset was replaced). */
  adopt(replId: string, offset: number, full: boolean): void;
  /** Stream bytes that were executed here. */
  proxy(bytes: Buffer): void;
  /** The last bytes of our backlog in Redis's quoted form ('' if none), logged when the master's stream fails here. */
  latestBacklog(): string;
  /** Our own replication id (a full sync with the same id loads asynchronously under swapdb). */
  ownReplId(): string;
}

type Phase = 'pong' | 'auth' | 'port' | 'capa' | 'psync' | 'bulk-header' | 'bulk' | 'loading' | 'stream';

const CRLF = Buffer.from('\r\n');

export class ReplicaLink {
  state: LinkState = 'connect';
  /** Replication id and offset of the master's stream we hold (from FULLRESYNC/CONTINUE). */
  masterReplId = '';
  /** Bytes of the stream executed (slave_repl_offset); -1 before the first sync. */
  offset = -1;
  /** Bytes of the stream received (slave_read_repl_offset). */
  readOffset = -1;
  /** Server-clock ms of the last byte from the master, or -1. */
  lastIo = -1;
  /** When the link went down (ms), -1 if it never was up. */
  downSince = -1;
  private socket: Socket | null = null;
  private phase: Phase = 'pong';
  private input: Buffer = Buffer.alloc(0);
  private bulkLeft = 0;
  private bulkParts: Buffer[] = [];
  /** $EOF:<mark> transfers: the mark that ends the snapshot, and the bytes received so far. */
  private eofMark: Buffer | null = null;
  private eofTail: Buffer = Buffer.alloc(0);
  private master: Client | null = null;
  private parser: RespParser | null = null;
  private closed = false;
  private nextAttempt = 0;
  private lastAck = 0;
  /** When the current connection attempt began (handshake and transfer share repl-timeout). */
  private attemptStart = 0;
  /** Stream bytes handed to the parser, and the offset where the parser's input began. */
  private fed = 0;
  private streamBase = 0;

  /** Unexecuted stream bytes (kept to hand the executed ones on), and the offset handed on so far. */
  private raw: Buffer = Buffer.alloc(0);
  private proxiedOffset = 0;
  /** The db the master's stream had selected when the link dropped (a CONTINUE goes on there). */
  private streamDb = 0;

  constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
    private readonly stream: StreamHooks,
  ) {}

  /** Opens the connection now (REPLICAOF), or after the retry delay from the cron. */
  connect(): void {
    if (this.closed || this.socket !== null) return;
    this.state = 'connecting';
    this.attemptStart = this.server.clock.now();
    this.phase = 'pong';
    this.input = Buffer.alloc(0);
    this.bulkParts = [];
    this.eofMark = null;
    this.eofTail = Buffer.alloc(0);
    // bind-source-addr: the local address the master sees this replica connect from.
    const localAddress = this.server.config.get('bind-source-addr') || undefined;
    // tls-replication: the master's TLS port, with our client certificate (src/net/tls.ts).
    const tls = this.server.config.getBool('tls-replication') ? tlsClientSetup(this.server.config) : null;
    if (tls !== null && tls.errors !== null) {
      // Never in clear instead: no attempt until the certificates load (retried each second).
      for (const line of tls.errors) log(this.server, 'warning', line);
      log(this.server, 'warning', `Unable to connect to MASTER: TLS configuration failed`);
      this.state = 'connect';
      this.nextAttempt = this.server.clock.now() + 1000;
      return;
    }
    const socket =
      tls !== null
        ? tlsConnect({ host: this.host, port: this.port, ...tls.options, ...({ localAddress } as object) })
        : connect({ host: this.host, port: this.port, localAddress });
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on(tls !== null ? 'secureConnect' : 'connect', () => {
      log(this.server, 'notice', `MASTER <-> REPLICA sync started`);
      this.state = 'handshake';
      this.send(['PING']);
    });
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => log(this.server, 'warning', `Error condition on socket for SYNC: ${e.message}`));
    socket.on('close', () => this.onClose(socket));
  }

  /**
   * PSYNC2 across a change of master: the stream we hold (our replication id
   * and offset, and the db it had selected) is where the new link starts, so
   * a sibling replica or our own former replica can continue it (Redis's
   * cached master, or replicationCacheMasterUsingMyself for a former master).
   */
  resumeFrom(replId: string, offset: number, db: number): void {
    this.masterReplId = replId;
    this.offset = this.readOffset = offset;
    this.streamDb = db;
  }

  /** The db the master's stream has selected now. */
  get selectedDb(): number {
    return this.master !== null ? this.master.db.id : this.streamDb;
  }

  /** REPLICAOF NO ONE or another master: the link goes for good. */
  close(): void {
    this.closed = true;
    this.abortTransfer();
    this.socket?.destroy();
    this.socket = null;
    this.dropMasterClient();
  }

  private dropMasterClient(): void {
    // The db the stream has selected survives the link, as Redis's cached master: a partial resync continues in it.
    if (this.master !== null) this.streamDb = this.master.db.id;
    if (this.master !== null) this.server.removeClient(this.master);
    this.master = null;
    this.parser = null;
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.abortTransfer();
    this.socket = null;
    this.dropMasterClient();
    if (this.state === 'connected') {
      log(this.server, 'notice', 'Connection with master lost.');
      this.downSince = this.server.clock.now();
    }
    this.state = 'connect';
    this.nextAttempt = this.server.clock.now() + 1000;
  }

  /** From the server cron: reconnects, sends the ACK each second, notices a silent master. */
  cron(): void {
    if (this.closed) return;
    const now = this.server.clock.now();
    // No new attempt and no transfer timeout while a received snapshot loads (Redis runs no cron then).
    if (this.loadingReceived) return;
    if (this.socket === null) {
      if (now >= this.nextAttempt) this.connect();
      return;
    }
    const timeoutMs = this.server.config.getNumber('repl-timeout') * 1000;
    if (this.state !== 'connected' && now - this.attemptStart > timeoutMs) {
      // A master that accepts but never finishes the handshake or the transfer: try again.
      log(this.server, 'warning', 'Timeout connecting to the MASTER...');
      this.socket.destroy();
      return;
    }
    if (this.lastIo >= 0 && now - this.lastIo > timeoutMs && this.state === 'connected') {
      log(this.server, 'warning', 'MASTER timeout: no data nor PING received...');
      this.socket.destroy();
      return;
    }
    // One ACK a second, as Redis's replicationCron.
    if (this.state === 'connected' && now - this.lastAck >= 1000) this.sendAck();
  }

  /** REPLCONF ACK <offset>: from the cron, and when the master asks with GETACK. */
  sendAck(): void {
    if (this.state !== 'connected') return;
    this.lastAck = this.server.clock.now();
    this.send(['REPLCONF', 'ACK', String(this.offset)]);
  }

  private send(argv: string[]): void {
    this.socket?.write(encodeCommand(argv));
  }

  private onData(d: Buffer): void {
    this.lastIo = this.server.clock.now();
    this.server.stats.netReplInputBytes += d.length;
    if (this.phase === 'stream') {
      this.readOffset += d.length;
      this.runStream(d);
      return;
    }
    if (this.phase === 'loading') {
      // Read before the pause took effect: the stream's beginning, kept for startStream.
      this.input = this.input.length === 0 ? d : Buffer.concat([this.input, d]);
      return;
    }
    this.input = this.input.length === 0 ? d : Buffer.concat([this.input, d]);
    try {
      this.advance();
    } catch (e) {
      log(this.server, 'warning', `Replication error: ${(e as Error).message}`);
      this.socket?.destroy();
    }
  }

  /** Takes one reply line, skipping the bare newlines masters send as keepalives; null if incomplete. */
  private line(): string | null {
    let start = 0;
    while (start < this.input.length && this.input[start] === 0x0a) start++;
    const end = this.input.indexOf(CRLF, start);
    if (end < 0) {
      this.input = this.input.subarray(start);
      return null;
    }
    const s = this.input.toString('latin1', start, end);
    this.input = this.input.subarray(end + 2);
    return s;
  }

  /** The handshake, a reply at a time. */
  private advance(): void {
    for (;;) {
      if (this.phase === 'bulk' && this.eofMark !== null) {
        if (this.input.length === 0) return;
        const chunk = this.input;
        this.input = Buffer.alloc(0);
        const mark = this.eofMark;
        // The mark may arrive split across reads: search it in the end of the previous data plus this read.
        const prev = this.eofTail;
        const win = prev.length > 0 ? Buffer.concat([prev, chunk]) : chunk;
        const at = win.indexOf(mark);
        if (at < 0) {
          this.bulkParts.push(chunk);
          this.eofTail = Buffer.from(win.subarray(Math.max(0, win.length - (mark.length - 1))));
          return;
        }
        const cut = at - prev.length; // bytes of this read before the mark (negative: it began earlier)
        let image = Buffer.concat(cut >= 0 ? [...this.bulkParts, chunk.subarray(0, cut)] : this.bulkParts);
        if (cut < 0) image = image.subarray(0, image.length + cut);
        this.input = win.subarray(at + mark.length);
        this.bulkParts = [];
        this.eofTail = Buffer.alloc(0);
        this.eofMark = null;
        this.snapshotReceived(image);
        return;
      }
      if (this.phase === 'bulk') {
        const n = Math.min(this.bulkLeft, this.input.length);
        if (n > 0) {
          this.bulkParts.push(this.input.subarray(0, n));
          this.input = this.input.subarray(n);
          this.bulkLeft -= n;
        }
        if (this.bulkLeft > 0) return;
        const image = Buffer.concat(this.bulkParts);
        this.bulkParts = [];
        this.snapshotReceived(image);
        return;
      }
      const reply = this.line();
      if (reply === null) return;
      const cfg = this.server.config;
      switch (this.phase) {
        case 'pong':
          // -NOAUTH and -NOPERM are fine here: AUTH comes next.
          if (cfg.get('masterauth')) {
            const user = cfg.get('masteruser');
            this.send(user ? ['AUTH', user, cfg.get('masterauth')!] : ['AUTH', cfg.get('masterauth')!]);
            this.phase = 'auth';
          } else this.sendPort();
          break;
        case 'auth':
          if (reply.startsWith('-')) throw new Error(`Unable to AUTH to MASTER: ${reply}`);
          this.sendPort();
          break;
        case 'port':
          // Errors are only logged, as Redis does: older masters may not know the option.
          this.send(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
          this.phase = 'capa';
          break;
        case 'capa':
          {
            const psync = this.masterReplId !== '' && this.offset >= 0 ? ['PSYNC', this.masterReplId, String(this.offset + 1)] : ['PSYNC', '?', '-1'];
            // A master failing over tells its target to become the master (Redis 7.0's PSYNC ... FAILOVER).
            if (this.stream.failoverPsync()) psync.push('FAILOVER');
            this.send(psync);
          }
          this.phase = 'psync';
          break;
        case 'psync': {
          const full = /^\+FULLRESYNC (\S+) (\d+)$/.exec(reply);
          if (full !== null) {
            // Ours only once the snapshot has loaded: a transfer that breaks off leaves the stream we held.
            this.beforeFull = { replId: this.masterReplId, offset: this.offset, readOffset: this.readOffset };
            this.masterReplId = full[1];
            this.offset = this.readOffset = Number(full[2]);
            log(this.server, 'notice', `Full resync from master: ${full[1]}:${full[2]}`);
            this.state = 'sync';
            this.phase = 'bulk-header';
            this.stream.psyncDone(true);
            break;
          }
          const cont = /^\+CONTINUE(?: (\S+))?$/.exec(reply);
          if (cont !== null) {
            if (cont[1] !== undefined) this.masterReplId = cont[1];
            log(this.server, 'notice', 'Successful partial resynchronization with master.');
            this.stream.psyncDone(true);
            this.stream.adopt(this.masterReplId, this.offset, false);
            this.startStream(this.streamDb);
            return;
          }
          if (reply.startsWith('-NOMASTERLINK') || reply.startsWith('-LOADING')) {
            // A transient refusal: try again at the next attempt, with the stream we hold.
            log(this.server, 'notice', `Master is currently unable to PSYNC but should be in the future: ${reply}`);
            this.socket?.destroy();
            return;
          }
          if (this.stream.failoverPsync()) {
            log(this.server, 'warning', `Unexpected reply to PSYNC from master: ${reply}`);
            // Undoes the failover: we are a master again and this link is closed.
            this.stream.psyncDone(false);
            return;
          }
          throw new Error(`Unexpected reply to PSYNC from master: ${reply}`);
        }
        case 'bulk-header': {
          const eof = /^\$EOF:(.{40})$/s.exec(reply);
          const m = eof === null ? /^\$(\d+)$/.exec(reply) : null;
          if (eof === null && m === null) throw new Error(`Bad protocol from MASTER, the first byte is not '$' (we received '${reply}')`);
          this.diskless = this.useDisklessLoad();
          const to = this.diskless !== null ? 'to parser' : 'to disk';
          if (eof !== null) {
            // A snapshot streamed as it is produced: it ends with the 40-byte mark.
            this.eofMark = Buffer.from(eof[1], 'latin1');
            log(this.server, 'notice', `MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF ${to}`);
          } else {
            this.bulkLeft = Number(m![1]);
            log(this.server, 'notice', `MASTER <-> REPLICA sync: receiving ${this.bulkLeft} bytes from master ${to}`);
          }
          this.phase = 'bulk';
          if (this.diskless !== null) this.beginDisklessLoad(eof !== null ? 0 : this.bulkLeft);
          break;
        }
        default:
          return;
      }
    }
  }

  private sendPort(): void {
    this.send(['REPLCONF', 'listening-port', String(this.server.port)]);
    this.phase = 'port';
  }

  /**
   * repl-diskless-load (Redis's useDisklessLoad): 'swapdb' always, 'on-empty-db' when we
   * hold no keys; null: the snapshot is received first ("to disk") and loaded at its end.
   */
  private useDisklessLoad(): 'swapdb' | 'on-empty-db' | null {
    const mode = this.server.config.get('repl-diskless-load');
    if (mode === 'swapdb') return 'swapdb';
    if (mode === 'on-empty-db' && this.server.dbs.every((db) => db.size === 0)) return 'on-empty-db';
    return null;
  }

  /** How the diskless load in progress loads: async (the old dataset stays readable) or not. */
  private diskless: 'swapdb' | 'on-empty-db' | null = null;

  /**
   * A diskless load starts with the transfer, as Redis parses the snapshot as it
   * arrives: INFO loading:1 (clients get -LOADING), or async_loading:1 under swapdb
   * when the master's replication id is ours (the old dataset is served meanwhile,
   * and only no-async-loading commands are refused). The dataset is replaced only
   * once the whole snapshot has loaded, so a failed transfer leaves the old one.
   */
  private beginDisklessLoad(size: number): void {
    const st = persistenceOf(this.server);
    if (this.diskless === 'on-empty-db') log(this.server, 'notice', 'MASTER <-> REPLICA sync: Flushing old data');
    log(this.server, 'notice', 'MASTER <-> REPLICA sync: Loading DB in memory');
    if (this.diskless === 'swapdb' && this.stream.ownReplId() === this.masterReplId) st.asyncLoading = true;
    else st.loading = true;
    st.loadingStartTime = Math.floor(this.server.clock.now() / 1000);
    st.loadingTotalBytes = size;
    st.loadingLoadedBytes = 0;
  }

  private endDisklessLoad(): void {
    const st = persistenceOf(this.server);
    st.loading = false;
    st.asyncLoading = false;
  }

  /** The stream we held before a +FULLRESYNC, until its snapshot loads (see abortTransfer). */
  private beforeFull: { replId: string; offset: number; readOffset: number } | null = null;

  /**
   * The link dropped during a full sync's transfer: the FULLRESYNC's id and offset do not
   * describe our dataset (the snapshot never loaded), so the next PSYNC asks for what we held
   * before, as Redis keeps its cached master until a sync succeeds.
   */
  private abortTransfer(): void {
    if (this.phase === 'bulk-header' || this.phase === 'bulk') this.restoreBeforeFull();
    this.beforeFull = null;
    this.abortDisklessLoad();
  }

  /** The FULLRESYNC's snapshot never became ours: back to the stream held before it. */
  private restoreBeforeFull(): void {
    const b = this.beforeFull;
    if (b !== null) {
      this.masterReplId = b.replId;
      this.offset = b.offset;
      this.readOffset = b.readOffset;
    }
    this.beforeFull = null;
  }

  /** The transfer of a diskless load broke off: the old dataset stays, as Redis discards its temporary db. */
  private abortDisklessLoad(): void {
    if (this.diskless === null || this.phase !== 'bulk') return;
    const mode = this.diskless;
    this.diskless = null;
    this.endDisklessLoad();
    this.bulkParts = [];
    log(this.server, 'warning', 'Internal error in RDB reading offset 0, function at rdb.c -> Unexpected EOF reading RDB file');
    log(this.server, 'warning', 'Failed trying to load the MASTER synchronization DB from socket: Unexpected EOF');
    if (mode === 'swapdb') log(this.server, 'notice', 'MASTER <-> REPLICA sync: Discarding temporary DB in background');
  }

  /** A snapshot received to disk is being loaded a slice at a time (see loadReceived). */
  private loadingReceived = false;

  /** The whole snapshot has arrived: load it, then the stream follows. */
  private snapshotReceived(image: Buffer): void {
    const mode = this.diskless;
    if (mode === null) {
      this.loadReceived(image);
      return;
    }
    // A diskless load was under way during the transfer (async under swapdb, where the
    // old dataset is served meanwhile): it ends here in one go.
    this.diskless = null;
    try {
      loadRdb(this.server, image);
    } finally {
      this.endDisklessLoad();
    }
    if (mode === 'swapdb') {
      log(this.server, 'notice', 'MASTER <-> REPLICA sync: Swapping active DB with loaded DB');
      log(this.server, 'notice', 'MASTER <-> REPLICA sync: Discarding old DB in background');
    }
    this.synced();
  }

  /**
   * Loads a snapshot received "to disk" a slice at a time, as Redis's rdbLoad
   * processes events while it loads: clients get -LOADING (INFO loading:1), the
   * cluster bus keeps gossiping (a loading replica's offset is 0, so it is left
   * out of CLUSTER SLOTS and shown as loading by CLUSTER SHARDS), and
   * key-load-delay slows it down. The master's stream waits unread meanwhile.
   */
  private loadReceived(image: Buffer): void {
    const server = this.server;
    const sock = this.socket;
    this.phase = 'loading';
    this.loadingReceived = true;
    sock?.pause();
    log(server, 'notice', 'MASTER <-> REPLICA sync: Flushing old data');
    log(server, 'notice', 'MASTER <-> REPLICA sync: Loading DB in memory');
    loadRdbAsync(server, image).then(
      () => {
        this.loadingReceived = false;
        if (this.closed) return;
        if (this.socket !== sock || sock === null) {
          // The link dropped while we loaded: the dataset is the FULLRESYNC's, so the
          // next PSYNC continues from it, as Redis's master client cached at its close.
          log(server, 'notice', 'MASTER <-> REPLICA sync: Finished with success');
          this.stream.adopt(this.masterReplId, this.offset, true);
          return;
        }
        this.synced();
        sock.resume();
      },
      (e: unknown) => {
        this.loadingReceived = false;
        log(server, 'warning', `Failed trying to load the MASTER synchronization DB from disk: ${(e as Error).message}`);
        this.restoreBeforeFull();
        if (this.socket === sock && sock !== null) {
          sock.destroy();
          this.onClose(sock);
        }
      },
    );
  }

  /** The snapshot is loaded: its replication id and offset are ours, and the stream follows. */
  private synced(): void {
    log(this.server, 'notice', 'MASTER <-> REPLICA sync: Finished with success');
    this.stream.adopt(this.masterReplId, this.offset, true);
    this.startStream(0);
  }

  /** Online: what follows is the write stream; the input left over is its beginning. */
  private startStream(db: number): void {
    const server = this.server;
    const master = new Client(server, null);
    master.isMaster = true;
    master.heldResume = (argv) => this.resumeHeld(master, argv);
    master.select(db);
    master.setAuthenticated(true);
    // Listed by CLIENT LIST (flags=M) like Redis's master client; killing it drops the link, which reconnects.
    const sock = this.socket;
    master.addr = `${this.host}:${this.port}`;
    master.laddr = sock !== null ? `${sock.localAddress}:${sock.localPort}` : '';
    master.onKill = () => {
      // The link is down from now on (Redis's replicationHandleMasterDisconnection at
      // freeClient), not from when the socket's close event arrives: a command that kills
      // the master client and then blocks (DEBUG SLEEP) counts that time as data age.
      if (sock === null) return;
      sock.destroy();
      this.onClose(sock);
    };
    master.onErrorReply = (msg) => this.errorFromStream(master, msg);
    server.clients.set(master.id, master);
    this.master = master;
    this.parser = new RespParser({ maxBulkLen: server.protoMaxBulkLen, authRequired: false });
    this.phase = 'stream';
    this.state = 'connected';
    this.fed = 0;
    this.streamBase = this.offset;
    this.raw = Buffer.alloc(0);
    this.proxiedOffset = this.offset;
    this.downSince = -1;
    const rest = this.input;
    this.input = Buffer.alloc(0);
    // Tell the master where we are at once, as Redis's replica does after syncing.
    this.sendAck();
    if (rest.length > 0) {
      this.readOffset += rest.length;
      this.runStream(rest);
    }
  }

  /**
   * A command of the master's stream failed here: the datasets may have
   * diverged. Logged as Redis does (the error, the command, our latest
   * backlog) and counted in unexpected_error_replies.
   */
  private errorFromStream(master: Client, msg: string): void {
    const server = this.server;
    const cmd = master.current?.fullName ?? '<unknown>';
    log(server, 'warning', `== CRITICAL == This replica is sending an error to its master: '${msg.slice(0, 4096)}' after processing the command '${cmd}'`);
    const backlog = this.stream.latestBacklog();
    if (backlog !== '') log(server, 'warning', `Latest backlog is: '${backlog}'`);
    server.stats.unexpectedErrorReplies++;
  }

  /** Executes every complete command of the stream as the master client. */
  private runStream(d: Buffer): void {
    const parser = this.parser;
    const master = this.master;
    if (parser === null || master === null) return;
    parser.feed(d);
    this.fed += d.length;
    this.raw = this.raw.length === 0 ? d : Buffer.concat([this.raw, d]);
    this.runParsed(parser, master, null);
  }

  /**
   * A write CLIENT PAUSE held (a paused replica applies nothing, as Redis: its
   * offset stays while slave_read_repl_offset grows) runs once the pause ends,
   * and the stream goes on after it.
   */
  private resumeHeld(master: Client, argv: string[]): void {
    const parser = this.parser;
    if (parser === null || this.master !== master) return;
    this.runParsed(parser, master, argv);
  }

  private runParsed(parser: RespParser, master: Client, held: string[] | null): void {
    try {
      if (held !== null) {
        this.runMasterCommand(master, held);
        if (master.blocked !== null || this.master !== master) return; // held again (a new pause)
        this.offset = this.heldEnd;
      }
      this.execute(parser, master);
    } finally {
      // What ran goes on to our replicas, exactly as received.
      const applied = this.offset - this.proxiedOffset;
      if (applied > 0) {
        this.stream.proxy(this.raw.subarray(0, applied));
        this.raw = this.raw.subarray(applied);
        this.proxiedOffset = this.offset;
      }
    }
  }

  /** Stream offset just past the command a pause holds. */
  private heldEnd = 0;

  private runMasterCommand(master: Client, argv: string[]): void {
    this.server.masterRunning = true;
    try {
      this.server.execute(master, argv);
    } finally {
      this.server.masterRunning = false;
    }
    master.len = 0;
  }

  private execute(parser: RespParser, master: Client): void {
    for (;;) {
      if (master.blocked !== null) return; // a command of the stream is held by CLIENT PAUSE
      const before = this.streamBase + this.fed - parser.pendingBytes;
      let argv: string[] | null;
      try {
        argv = parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        log(this.server, 'warning', `Protocol error from master: ${e.message}`);
        this.socket?.destroy();
        return;
      }
      if (argv === null) break;
      if (argv.length > 0) this.runMasterCommand(master, argv);
      master.len = 0;
      if (master.blocked !== null) {
        // Held by CLIENT PAUSE: not applied yet, so the offset stays before it.
        this.heldEnd = this.streamBase + this.fed - parser.pendingBytes;
        this.offset = before;
        return;
      }
      // The offset covers a command once it ran (a GETACK answers with the offset before itself).
      this.offset = this.streamBase + this.fed - parser.pendingBytes;
      if (this.master !== master) return; // the command closed the link (REPLICAOF from the master)
    }
  }
}
