/**
 * The master side of Redis replication: a Redis replica (or anything that
 * speaks the protocol) attaches with PSYNC or SYNC, receives an RDB snapshot
 * and then the stream of propagated writes, and reports its progress with
 * REPLCONF ACK.
 *
 *  - The stream is what `Server.propagate` hands its sinks (the single effects
 *    path), encoded as RESP commands with a SELECT whenever the db changes,
 *    exactly what Redis sends: the master replication offset counts its bytes.
 *  - The stream goes into one buffer shared by the backlog and every replica
 *    (src/server/repl-buffer.ts, Redis 7.0's replication buffer), created when
 *    the first replica attaches (as Redis's createReplicationBacklog) and kept:
 *    a replica that reconnects with the same replication id and an offset the
 *    buffer still holds gets `+CONTINUE` and only the bytes it missed. The
 *    backlog keeps `repl-backlog-size` bytes, more while a replica still needs
 *    older ones.
 *  - A full resync produces a point-in-time snapshot in slices (BGSAVE's
 *    machinery), the state at the offset sent in +FULLRESYNC; the stream
 *    written meanwhile waits in the shared buffer and follows the image.
 *  - Every `repl-ping-replica-period` seconds a PING goes down the stream, so
 *    replicas see traffic within their repl-timeout.
 *  - WAIT counts replicas whose acknowledged offset reached the offset of the
 *    client's last write; blocked WAITs are answered as ACKs arrive, and a
 *    REPLCONF GETACK * asks replicas to acknowledge at once.
 */
import type { Server } from './server.js';
import { PROPAGATE_REPL, type PropagateSink } from './propagate.js';
import { ReplyMode, type Client } from './client.js';
import { putDecimal, putLatin1 } from '../util/latin1.js';
import { bgsaveAbort, bgsaveStart, currentBgsave, hasActiveChild, iAmMaster, persistenceOf, rdbPath, runRdbSnapshot } from '../persistence/index.js';
import { readFileSync } from 'node:fs';
import type { ReplSaveInfo } from '../persistence/rdb/snapshot.js';
import { flush } from '../net/connection.js';
import { clientIntrospection } from '../commands/client.js';
import { resetStatHooks } from '../commands/server.js';
import { ReplicaLink } from './replica-link.js';
import { ReplBuffer } from './repl-buffer.js';
import { OUTPUT_CLASS_REPLICA, overOutputLimit, watchOutputLimit, type OutputLimit } from './output-limit.js';
import { log } from '../persistence/log.js';
import { CMD_STALE, CMD_WRITE, type Command } from './command-table.js';
import { dynamicCommandFlags, isHeldByPause, setFailoverPause } from './pause.js';
import { replicationId, setInfoProvider, setReplicaBuffersMemory, type InfoFields, type SectionProvider } from '../observability/info.js';
import { randomHex } from '../util/random-hex.js';

/** Commands whose flags come from the script or function they run. */
const SCRIPT_RUNNERS = new Set(['eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'fcall', 'fcall_ro']);

/** Pending stream bytes that trigger a drain before the end of the turn. */
const DRAIN_BYTES = 256 * 1024;

export const READONLY_REPLICA_ERROR = "READONLY You can't write against a read only replica.";
export const NOREPLICAS_ERROR = 'NOREPLICAS Not enough good replicas to write.';
export const MASTERDOWN_ERROR = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

/** A replica attached to this master. */
export interface Replica {
  client: Client;
  /** REPLCONF listening-port (0 until told). */
  port: number;
  /** REPLCONF ip-address, else the connection's address. */
  ip: string;
  /** Offset acknowledged by REPLCONF ACK. */
  ackOffset: number;
  /** Server-clock ms of the last ACK (INFO's lag). */
  ackTime: number;
  /** wait_bgsave while its snapshot is produced (the stream waits in the shared buffer), then online. */
  state: 'wait_bgsave' | 'online';
  /** Stops the snapshot of a replica that went away mid-sync. */
  abortSync: (() => void) | null;
  /** Offset of the first stream byte it gets (after its snapshot, or its PSYNC offset). */
  from: number;
  /** Offset up to which the stream was handed to its socket. */
  handed: number;
  /** Stream was fed since it attached (Redis's ref_repl_buf_node is set): its share of the buffer counts. */
  fed: boolean;
  /** False while it waits for a disk BGSAVE to start (WAIT_BGSAVE_START): it needs no stream yet. */
  started: boolean;
  /** When the output first reached the soft limit. */
  softLimitSince: number;
}

/** What a connection said in the handshake before PSYNC. */
interface Handshake {
  port: number;
  ip: string;
  /** REPLCONF capa eof: the snapshot may stream with an end mark instead of a length. */
  capaEof: boolean;
  /** REPLCONF rdb-filter-only: what the snapshot leaves out. */
  filter: { excludeData: boolean; excludeFunctions: boolean };
}

/** A client blocked in WAIT. */
interface Waiter {
  client: Client;
  replicas: number;
  offset: number;
}

/** A coordinated FAILOVER in progress (Redis's failover_state and its target). */
export interface FailoverState {
  state: 'waiting-for-sync' | 'failover-in-progress';
  /** The target replica; null until one caught up when FAILOVER named none. */
  host: string | null;
  port: number;
  /** When waiting ends (ms), 0 without TIMEOUT. */
  endTime: number;
  force: boolean;
}

export class ReplicationMaster {
  /** The coordinated FAILOVER in progress, or null (INFO master_failover_state no-failover). */
  failover: FailoverState | null = null;

  /** master_repl_offset: bytes of stream produced since the replication id was made. */
  offset = 0;
  /** master_replid, and the previous one with the offset where it ended (after a promotion). */
  replId: string;
  replId2 = '0'.repeat(40);
  secondOffset = -1;
  /** The link to our master while this server is a replica (REPLICAOF host port). */
  link: ReplicaLink | null = null;
  readonly replicas: Replica[] = [];
  private readonly byClient = new Map<Client, Replica>();
  private readonly handshakes = new WeakMap<Client, Handshake>();
  /** Whether the backlog exists (from the first replica on, until repl-backlog-ttl frees it). */
  backlogActive = false;
  /** The stream shared by the backlog and the replicas. */
  private readonly buffer = new ReplBuffer();
  /** Offset of the db the stream last selected; -1 forces a SELECT before the next write. */
  private selectedDb = -1;
  /** Stream bytes produced since the last drain (see drain()). */
  private out: Buffer = Buffer.allocUnsafe(64 * 1024);
  private outLen = 0;
  private readonly pending = new Set<Client>();
  private flushScheduled = false;
  private waiters: Waiter[] = [];
  /** Set when a WAIT blocked: a GETACK goes out once the current work is done. */
  private getAckWanted = false;
  /** When the last PING went down the stream; the period counts from start-up, as Redis's cron loops. */
  private lastPing: number;
  /** INFO stats: full resyncs, and PSYNCs that did or did not continue from the backlog. */
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  private readonly sink: PropagateSink = Object.assign((db: number, argv: string[]): void => this.feed(db, argv), { target: PROPAGATE_REPL });

  private outputLimit: OutputLimit = { hard: 0, soft: 0, softSeconds: 0 };
  private configuredLimit: OutputLimit = { hard: 0, soft: 0, softSeconds: 0 };

  /**
   * client-output-buffer-limit replica, with a hard limit below repl-backlog-size raised to
   * it, as Redis does (a replica that continued from the backlog would be cut off at once).
   */
  private updateOutputLimit(): void {
    const l = this.configuredLimit;
    const backlog = this.server.config.getNumber('repl-backlog-size');
    this.outputLimit = l.hard > 0 && l.hard < backlog ? { ...l, hard: backlog } : l;
  }

  constructor(readonly server: Server) {
    this.replId = replicationId(server);
    this.noReplicasSince = server.clock.now();
    // PINGs go every repl-ping-replica-period seconds counted from the start, not at once (Redis's cron loops).
    this.lastPing = server.clock.now();
    watchOutputLimit(server, OUTPUT_CLASS_REPLICA, (l) => {
      this.configuredLimit = l;
      this.updateOutputLimit();
    });
    server.config.onChange('repl-backlog-size', () => this.updateOutputLimit());
  }

  /** Whether writes from ordinary clients are refused (a replica with replica-read-only). */
  readOnly(): boolean {
    return this.link !== null && this.server.config.getBool('replica-read-only');
  }

  /**
   * REPLICAOF host port: follow that master. Our own replicas are dropped
   * (they resync with us later), and the dataset is replaced once the
   * master's snapshot arrives.
   */
  replicaOf(host: string, port: number): void {
    const previous = this.link;
    previous?.close();
    this.drain();
    this.dropReplicas();
    // Clients blocked on keys or in WAIT cannot wait for a master's data (Redis's disconnectAllBlockedClients).
    for (const c of this.server.clients.values()) {
      if (c.blocked === null || isHeldByPause(c)) continue;
      this.server.blocking.unblock(c);
      this.removeWaiter(c);
      c.addError('UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)');
      this.server.resume(c);
    }
    this.link = new ReplicaLink(this.server, host, port, {
      failoverPsync: () => this.failover !== null && this.failover.state === 'failover-in-progress',
      psyncDone: (accepted) => this.failoverPsyncDone(accepted),
      adopt: (replId, offset, full) => this.adoptMaster(replId, offset, full),
      proxy: (bytes) => this.proxy(bytes),
      latestBacklog: () => this.latestBacklog(),
      ownReplId: () => this.replId,
    });
    // The stream we hold may continue with the new master (PSYNC2): as a replica the one we
    // followed (our id and offset are our master's), as a master our own, if a backlog recorded it.
    if (previous !== null) {
      if (previous.offset >= 0) this.link.resumeFrom(this.replId, this.offset, previous.selectedDb);
    } else if (this.restored !== null) {
      // Restarted from an RDB that recorded our master's stream (Redis's cached master from the RDB).
      this.link.resumeFrom(this.replId, this.offset, this.restored.streamDb);
      this.restored = null;
    } else if (this.backlogActive) {
      log(
        this.server,
        'notice',
        'Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.',
      );
      this.link.resumeFrom(this.replId, this.offset, 0);
    }
    this.server.isReplica = true;
    this.updateGate();
    this.link.connect();
  }

  /**
   * REPLICAOF NO ONE: a master again. As Redis's shiftReplicationId, the
   * master's replication id becomes our replid2 (valid up to the offset we
   * reached) and a new id starts where that stream stopped.
   */
  promote(): void {
    const link = this.link;
    if (link === null) return;
    link.close();
    this.drain();
    this.link = null;
    this.server.isReplica = false;
    this.updateGate();
    // The backlog (the master's stream, proxied) stays: our replicas continue under replid2.
    if (link.masterReplId !== '') {
      this.replId2 = this.replId;
      this.secondOffset = this.offset + 1;
    }
    this.replId = randomHex(40);
    // As Redis: they reconnect, and PSYNC with the old id tells them the new one (+CONTINUE).
    this.dropReplicas();
    // The backlog's time to live counts from the promotion.
    this.noReplicasSince = this.server.clock.now();
    this.selectedDb = -1;
  }

  /**
   * Replica side: the master's replication id and offset become ours, so our
   * replicas follow the same stream (PSYNC2). After a full sync our dataset
   * is new: our replicas must resync and the backlog restarts. A CONTINUE
   * under a new id (the master failed over) keeps the old one as replid2.
   */
  adoptMaster(replId: string, offset: number, full: boolean): void {
    this.drain();
    if (full) {
      this.dropReplicas();
      this.replId = replId;
      this.replId2 = '0'.repeat(40);
      this.secondOffset = -1;
      this.offset = offset;
      this.buffer.reset(offset + 1);
    } else if (replId !== this.replId) {
      this.replId2 = this.replId;
      this.secondOffset = this.offset + 1;
      this.replId = replId;
      // Our replicas must learn the new id: they reconnect and continue (+CONTINUE <new id>), as Redis's disconnectSlaves.
      this.dropReplicas();
    }
    this.ensureBacklog();
  }

  /** Replica side: master stream bytes that ran here, on to the backlog and our replicas. */
  proxy(bytes: Buffer): void {
    if (!this.backlogActive) return;
    const n = bytes.length;
    this.reserve(n);
    bytes.copy(this.out, this.outLen);
    this.outLen += n;
    this.offset += n;
    if (this.outLen >= DRAIN_BYTES) this.drain();
    this.scheduleFlush();
  }

  /**
   * DEBUG REPLICATE: a command straight into the stream to our replicas (not
   * the AOF), in the db the stream has selected. Datasets may diverge.
   */
  replicateRaw(argv: string[]): void {
    this.feed(-1, argv);
  }

  /**
   * CONFIG SET repl-backlog-size: takes effect at once, as Redis's
   * resizeReplicationBacklog: the history beyond the new size is trimmed
   * (whole blocks no replica still needs), so a PSYNC from before it gets a
   * full resync.
   */
  resizeBacklog(): void {
    if (!this.backlogActive) return;
    this.drain();
    this.trim();
  }

  /** repl-backlog-size as the backlog uses it (at least 16 KB, as Redis). */
  private backlogLimit(): number {
    return Math.max(16 * 1024, this.server.config.getNumber('repl-backlog-size'));
  }

  /** Drops the history no replica needs beyond repl-backlog-size. */
  private trim(): void {
    let needed = Infinity;
    for (const r of this.replicas) if (r.started) needed = Math.min(needed, this.readerPos(r));
    this.buffer.trim(this.backlogLimit(), needed);
  }

  /**
   * Where a replica has got to in the stream: what was handed to its socket
   * minus what still waits there (Redis's ref_block_pos moves as writes complete).
   */
  private readerPos(r: Replica): number {
    const unsent = r.client.socket?.writableLength ?? 0;
    return Math.max(r.from, r.handed - unsent);
  }

  /** A replica's share of the shared buffer (its omem, and what its output limit checks). */
  replicaOutputMemory(c: Client): number {
    const r = this.byClient.get(c);
    if (r === undefined || !r.fed) return 0;
    this.drain();
    return this.buffer.readerMemory(this.readerPos(r));
  }

  /** The last 256 bytes of the backlog, quoted as Redis's sdscatrepr ('' when there is none). */
  latestBacklog(): string {
    this.drain();
    if (!this.backlogActive) return '';
    let out = '';
    for (const b of this.buffer.tail(256)) out += reprByte(b);
    return out;
  }

  /** mem_total_replication_buffers: the shared buffer's blocks (Redis's repl_buffer_mem). */
  replicationBuffers(): number {
    this.drain();
    return this.backlogActive ? this.buffer.mem : 0;
  }

  /**
   * mem_replication_backlog and mem_clients_slaves, split as Redis's
   * getMemoryOverheadData: with replicas attached, what the buffer holds
   * beyond repl-backlog-size counts as theirs.
   */
  replicationMemory(): { backlog: number; replicas: number } {
    const mem = this.replicationBuffers();
    const size = this.server.config.getNumber('repl-backlog-size');
    if (this.replicas.length > 0 && mem > size) return { backlog: size, replicas: mem - size };
    return { backlog: mem, replicas: 0 };
  }

  /** repl_backlog_histlen: bytes of history the backlog holds. */
  get backlogHistlen(): number {
    return this.backlogActive ? this.buffer.histlen : 0;
  }

  get backlogSize(): number {
    return this.backlogActive ? this.replicationMemory().backlog : 0;
  }

  /** repl_backlog_first_byte_offset: the offset of the oldest byte the backlog holds. */
  get backlogFirstByteOffset(): number {
    return this.backlogActive ? this.buffer.first : 0;
  }

  isReplica(c: Client): boolean {
    return this.byClient.has(c);
  }

  // ---- handshake ---------------------------------------------------------------

  setListeningPort(c: Client, port: number): void {
    const r = this.byClient.get(c);
    if (r !== undefined) r.port = port;
    else this.handshakeOf(c).port = port;
  }

  setIpAddress(c: Client, ip: string): void {
    const r = this.byClient.get(c);
    if (r !== undefined) r.ip = ip;
    else this.handshakeOf(c).ip = ip;
  }

  /** REPLCONF rdb-filter-only: an include list ("" keeps nothing; "functions" keeps only them). */
  setFilter(c: Client, includeFunctions: boolean): void {
    this.handshakeOf(c).filter = { excludeData: true, excludeFunctions: !includeFunctions };
  }

  /** What the snapshot for this connection leaves out. */
  snapshotFilter(c: Client): { excludeData: boolean; excludeFunctions: boolean } {
    return this.handshakes.get(c)?.filter ?? { excludeData: false, excludeFunctions: false };
  }

  wantsEof(c: Client): boolean {
    return this.handshakes.get(c)?.capaEof === true;
  }

  setCapa(c: Client, capa: string): void {
    if (capa.toLowerCase() === 'eof') this.handshakeOf(c).capaEof = true;
  }

  private handshakeOf(c: Client): Handshake {
    let h = this.handshakes.get(c);
    if (h === undefined) {
      h = { port: 0, ip: '', capaEof: false, filter: { excludeData: false, excludeFunctions: false } };
      this.handshakes.set(c, h);
    }
    return h;
  }

  /**
   * PSYNC <replid> <offset>: +CONTINUE with the missed bytes when the backlog
   * holds them, else +FULLRESYNC and a snapshot. SYNC (psync false) is the
   * old protocol: the snapshot without the header line.
   *
   * The snapshot is produced between other clients' commands (BGSAVE's
   * point-in-time slices), so a big dataset does not stop the server. It is
   * the state at the offset sent in +FULLRESYNC; writes after it wait for the
   * replica in the shared buffer until the image is sent. With
   * repl-diskless-sync, a replica that announced `capa eof` gets it as it is
   * produced (`$EOF:<mark>` ... `<mark>`, Redis's diskless format); otherwise
   * the target is disk (a BGSAVE, then the file with its length).
   */
  sync(c: Client, psync: boolean, replId: string, fromOffset: number): void {
    // The backlog and the replicas' buffers must hold everything produced so far.
    this.drain();
    if (psync && this.tryPartial(c, replId, fromOffset)) {
      this.syncPartialOk++;
      return;
    }
    // A replica that asked to continue ("?" asks for a full sync) counts as a failed partial sync.
    if (psync && replId !== '?') this.syncPartialErr++;
    const cfg = this.server.config;
    // Disk target (repl-diskless-sync no, or a replica that cannot read the EOF format): a BGSAVE, then the file.
    if (!cfg.getBool('repl-diskless-sync') || !this.wantsEof(c)) {
      this.diskFullSync(c, psync);
      return;
    }
    if (cfg.getNumber('repl-diskless-sync-delay') > 0) {
      // Diskless: wait repl-diskless-sync-delay seconds for more replicas (or until
      // repl-diskless-sync-max-replicas wait) before the transfer and its +FULLRESYNC start.
      this.waitingStart.push({ client: c, psync, since: this.server.clock.now() });
      this.startWaitingFullSyncs();
      return;
    }
    this.fullSync(c, psync);
  }

  /** Disk-target full syncs waiting for a BGSAVE to start (Redis's WAIT_BGSAVE_START). */
  private diskWaiting: Array<{ r: Replica; psync: boolean }> = [];
  /** The BGSAVE producing the file for replicas (WAIT_BGSAVE_END), and the offset it stands for. */
  private diskSave: { replicas: Array<{ r: Replica; psync: boolean }>; offset: number; finished: Promise<void> } | null = null;

  /**
   * A full sync with target disk, as Redis's syncCommand: the replica waits for a
   * BGSAVE (dump.rdb through the writer child, a normal BGSAVE that also resets
   * dirty and LASTSAVE), started now when no child runs, else at the next
   * chance; once it succeeds the file is sent as `$<length>`, then the stream
   * held since the save's start.
   */
  private diskFullSync(c: Client, psync: boolean): void {
    this.syncFull++;
    this.ensureBacklog();
    const r = this.attach(c, 'wait_bgsave', this.offset + 1);
    r.started = false;
    this.diskWaiting.push({ r, psync });
    this.startDiskSync();
  }

  private live(r: Replica): boolean {
    return !r.client.closed && this.byClient.get(r.client) === r;
  }

  /** The replica's sync starts at `offset`: +FULLRESYNC, and the stream held from here. */
  private beginDiskSync(w: { r: Replica; psync: boolean }, offset: number): void {
    const c = w.r.client;
    // Its stream starts where the save's image ends, and waits in the shared buffer.
    w.r.from = w.r.handed = offset + 1;
    w.r.started = true;
    w.r.fed = false;
    if (w.psync) {
      c.addRaw(`+FULLRESYNC ${this.replId} ${offset}\r\n`);
      flush(this.server, c);
    }
  }

  /** replicationStartPendingFork for the disk target: a BGSAVE for the replicas waiting, when none runs. */
  private startDiskSync(): void {
    if (this.diskWaiting.length === 0) return;
    this.diskWaiting = this.diskWaiting.filter((w) => this.live(w.r));
    if (this.diskWaiting.length === 0) return;
    const server = this.server;
    this.drain();
    const running = this.diskSave;
    const job = currentBgsave(server);
    // (Not one being killed: its file will never come.)
    if (running !== null && running.offset === this.offset && job !== null && job.finished === running.finished && !job.child.killedOnPurpose) {
      // Nothing written since that save started: its file is this replica's snapshot too.
      log(server, 'notice', 'Waiting for end of BGSAVE for SYNC');
      for (const w of this.diskWaiting) {
        this.beginDiskSync(w, running.offset);
        running.replicas.push(w);
      }
      this.diskWaiting = [];
      return;
    }
    if (hasActiveChild(server)) return;
    // The stream after the snapshot must start with a SELECT.
    this.selectedDb = -1;
    const offset = this.offset;
    log(server, 'notice', 'Starting BGSAVE for SYNC with target: disk');
    const waiting = this.diskWaiting;
    this.diskWaiting = [];
    if (!bgsaveStart(server)) {
      log(server, 'warning', 'BGSAVE for replication failed');
      for (const w of waiting) w.r.client.socket?.destroy();
      return;
    }
    const started = currentBgsave(server)!;
    const save = { replicas: waiting, offset, finished: started.finished };
    this.diskSave = save;
    for (const w of waiting) this.beginDiskSync(w, offset);
    void started.finished.then(() => this.diskSyncDone(save, started.outcome));
  }

  /** updateSlavesWaitingBgsave: the file goes to the replicas that waited for it. */
  private diskSyncDone(save: { replicas: Array<{ r: Replica; psync: boolean }> }, outcome: 'ok' | 'err' | 'killed' | null): void {
    if (this.diskSave === save) this.diskSave = null;
    const server = this.server;
    let image: Buffer | null = null;
    if (outcome === 'ok') {
      try {
        image = readFileSync(rdbPath(server));
      } catch (e) {
        log(server, 'warning', `SYNC failed. Can't open/stat DB after BGSAVE: ${(e as Error).message}`);
      }
    } else log(server, 'warning', 'SYNC failed. BGSAVE child returned an error');
    for (const { r } of save.replicas) {
      if (!this.live(r)) continue;
      const c = r.client;
      if (image === null) {
        c.socket?.destroy();
        continue;
      }
      c.addRaw(`$${image.length}\r\n`);
      c.addRawBuffer(image);
      r.state = 'online';
      this.writeStream(r);
      log(server, 'notice', `Synchronization with replica ${r.ip}:${r.port} succeeded`);
    }
    // Replicas that arrived meanwhile get the next BGSAVE.
    setImmediate(() => this.startDiskSync());
  }

  /**
   * A replica waiting for a disk BGSAVE went away: with no other replica waiting for
   * that file and no save points (nobody needs it), the child is killed, as Redis does.
   */
  private dropDiskSync(r: Replica): void {
    this.diskWaiting = this.diskWaiting.filter((w) => w.r !== r);
    const save = this.diskSave;
    if (save === null) return;
    save.replicas = save.replicas.filter((w) => w.r !== r);
    if (save.replicas.some((w) => this.live(w.r))) return;
    if (this.server.config.saveParams().length > 0) return;
    if (currentBgsave(this.server)?.finished !== save.finished) return;
    void bgsaveAbort(this.server);
  }

  /** Full syncs waiting for the diskless delay (Redis's WAIT_BGSAVE_START). */
  private waitingStart: Array<{ client: Client; psync: boolean; since: number }> = [];

  /** The replicas waiting for their full sync to start: INFO lists them too (state wait_bgsave), as Redis. */
  waitingReplicas(): Array<{ ip: string; port: number; since: number }> {
    return this.waitingStart
      .filter((w) => !w.client.closed)
      .map((w) => {
        const h = this.handshakes.get(w.client);
        return { ip: h?.ip || w.client.addr.slice(0, w.client.addr.lastIndexOf(':')), port: h?.port ?? 0, since: w.since };
      });
  }

  /** Starts the waiting full syncs once the oldest waited the delay, or enough replicas wait. */
  private startWaitingFullSyncs(): void {
    if (this.waitingStart.length === 0) return;
    this.waitingStart = this.waitingStart.filter((w) => !w.client.closed);
    if (this.waitingStart.length === 0) return;
    const cfg = this.server.config;
    const delayMs = cfg.getNumber('repl-diskless-sync-delay') * 1000;
    const max = cfg.getNumber('repl-diskless-sync-max-replicas');
    const waited = this.server.clock.now() - this.waitingStart[0].since;
    if (waited < delayMs && (max === 0 || this.waitingStart.length < max)) return;
    const start = this.waitingStart;
    this.waitingStart = [];
    for (const w of start) this.fullSync(w.client, w.psync);
  }

  /** The snapshot and then the stream, for one replica. */
  private fullSync(c: Client, psync: boolean): void {
    this.drain();
    this.syncFull++;
    this.ensureBacklog();
    // A new snapshot: the stream after it must start with a SELECT.
    this.selectedDb = -1;
    if (psync) c.addRaw(`+FULLRESYNC ${this.replId} ${this.offset}\r\n`);
    const r = this.attach(c, 'wait_bgsave', this.offset + 1);
    const server = this.server;
    const eof = this.wantsEof(c);
    const mark = eof ? randomHex(40) : '';
    const parts: Buffer[] = [];
    if (eof) {
      c.addRaw(`$EOF:${mark}\r\n`);
      flush(server, c);
    }
    const delay = server.config.getNumber('rdb-key-save-delay');
    persistenceOf(server).backgroundJobs++;
    const run = runRdbSnapshot(
      server,
      async (chunk) => {
        // (The first chunk is written before runRdbSnapshot returns: abort from a microtask.)
        if (c.closed) return queueMicrotask(() => run.abort());
        if (!eof) {
          parts.push(Buffer.from(chunk));
          return;
        }
        c.addRawBuffer(chunk);
        flush(server, c);
        // A slow replica holds the snapshot back rather than piling it up in memory.
        const socket = c.socket;
        if (socket !== null && socket.writableLength > 4 << 20) await new Promise((res) => socket.once('drain', res));
      },
      { keyDelayMicros: delay > 0 ? delay : 0, ...this.snapshotFilter(c) },
    );
    r.abortSync = () => run.abort();
    const persistence = persistenceOf(server);
    persistence.replicationSnapshots++;
    void run.done.finally(() => persistence.replicationSnapshots--).catch(() => {});
    run.done.then(
      () => {
        r.abortSync = null;
        if (c.closed || this.byClient.get(c) !== r) return;
        if (eof) c.addRaw(mark);
        else {
          const image = Buffer.concat(parts);
          c.addRaw(`$${image.length}\r\n`);
          c.addRawBuffer(image);
        }
        r.state = 'online';
        this.writeStream(r);
      },
      (e: unknown) => {
        process.emitWarning(`replica sync failed: ${(e as Error)?.message ?? e}`);
        c.socket?.destroy();
      },
    );
  }

  private tryPartial(c: Client, replId: string, fromOffset: number): boolean {
    // Our id, or the previous one up to where it ended (after a promotion: PSYNC2).
    const known = replId === this.replId || (replId === this.replId2 && fromOffset <= this.secondOffset);
    if (!this.backlogActive || !known) return false;
    if (fromOffset < this.buffer.first || fromOffset > this.offset + 1) return false;
    c.addRaw(`+CONTINUE ${this.replId}\r\n`);
    const r = this.attach(c, 'online', fromOffset);
    // The missed bytes follow from the shared buffer at the end of the turn.
    r.fed = fromOffset < this.buffer.end;
    this.pending.add(c);
    this.scheduleFlush();
    return true;
  }

  private attach(c: Client, state: Replica['state'], from: number): Replica {
    const h = this.handshakes.get(c);
    const ip = h?.ip || c.addr.slice(0, c.addr.lastIndexOf(':'));
    const r: Replica = {
      client: c,
      port: h?.port ?? 0,
      ip,
      ackOffset: 0,
      ackTime: this.server.clock.now(),
      state,
      abortSync: null,
      from,
      handed: from,
      fed: false,
      started: true,
      softLimitSince: 0,
    };
    this.replicas.push(r);
    this.byClient.set(c, r);
    c.replicaOutput = true;
    // As Redis: a replica's own commands get no replies, which would corrupt its stream.
    // From the next turn on: PSYNC's header and the backlog bytes above are replies too.
    setImmediate(() => {
      if (this.byClient.get(c) === r) c.replyMode = ReplyMode.Off;
    });
    return r;
  }

  /** A replica's connection closed. */
  detach(c: Client): void {
    const r = this.byClient.get(c);
    if (r === undefined) return;
    this.byClient.delete(c);
    this.replicas.splice(this.replicas.indexOf(r), 1);
    if (this.replicas.length === 0) this.noReplicasSince = this.server.clock.now();
    this.pending.delete(c);
    r.abortSync?.();
    if (r.state === 'wait_bgsave') this.dropDiskSync(r);
    // What only it still needed goes (Redis's freeReplicaReferencedReplBuffer).
    if (this.backlogActive) this.trim();
  }

  private ensureBacklog(): void {
    if (this.backlogActive) return;
    this.backlogActive = true;
    this.buffer.reset(this.offset + 1);
    this.selectedDb = -1;
    this.server.propagateSinks.push(this.sink);
    if (this.offsetHooked) return;
    this.offsetHooked = true;
    // From now on each command records the offset its writes reached (Redis's c->woff), for WAIT.
    this.server.afterCallHooks.push((c) => {
      c.replOffset = this.offset;
    });
  }

  private offsetHooked = false;
  /** A replica restarted from an RDB with replication info: the stream its first link continues. */
  private restored: ReplSaveInfo | null = null;

  /**
   * What a snapshot records of the replication stream (Redis's
   * rdbPopulateSaveInfo): a master with a backlog, or a replica that synced,
   * saves its replication id, offset and the db the stream has selected.
   */
  saveInfo(): ReplSaveInfo | null {
    const link = this.link;
    if (link === null) {
      if (!this.backlogActive) return null;
      return { streamDb: this.selectedDb === -1 ? 0 : this.selectedDb, replId: this.replId, offset: this.offset };
    }
    if (link.offset < 0) return null;
    return { streamDb: link.selectedDb, replId: this.replId, offset: this.offset };
  }

  /**
   * Start-up loaded an RDB with replication info (Redis's loadDataFromDisk).
   * A replica takes the id and offset as its master's and asks to continue
   * from there; a master keeps them as replid2 (a new id starts at the same
   * offset) with an empty backlog, so its replicas continue with +CONTINUE.
   */
  restoreFromRdb(info: ReplSaveInfo, expired: Array<[number, string]> = []): void {
    // A replica (by replicaof, or a cluster node that nodes.conf says is one) continues its
    // master's stream, as Redis's cached master made from the RDB.
    if (!iAmMaster(this.server)) {
      this.replId = info.replId;
      this.offset = info.offset;
      this.restored = info;
      return;
    }
    this.ensureBacklog();
    this.replId2 = info.replId;
    this.secondOffset = info.offset + 1;
    this.offset = info.offset;
    this.buffer.reset(info.offset + 1);
    this.noReplicasSince = this.server.clock.now();
    // Keys that expired while we were down were not loaded: their DELs go down the stream, as Redis's RDBFLAGS_FEED_REPL.
    const del = this.server.config.getBool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL';
    for (const [db, key] of expired) this.feed(db, [del, key]);
    this.drain();
  }

  /** Server-clock ms since when no replica is attached (Redis's repl_no_slaves_since). */
  private noReplicasSince = 0;

  /**
   * A master without replicas for more than repl-backlog-ttl seconds frees its
   * backlog, and takes a new replication id (and forgets replid2), so no
   * replica continues a stream whose writes were not recorded (Redis's
   * replicationCron). A replica keeps its backlog: it may be promoted.
   */
  private expireBacklog(): void {
    const ttl = this.server.config.getNumber('repl-backlog-ttl');
    if (ttl === 0 || !this.backlogActive || this.link !== null) return;
    const idleSeconds = Math.floor((this.server.clock.now() - this.noReplicasSince) / 1000);
    if (idleSeconds <= ttl) return;
    this.drain();
    this.replId = randomHex(40);
    this.replId2 = '0'.repeat(40);
    this.secondOffset = -1;
    this.backlogActive = false;
    this.buffer.reset(this.offset + 1);
    const i = this.server.propagateSinks.indexOf(this.sink);
    if (i >= 0) this.server.propagateSinks.splice(i, 1);
    log(this.server, 'notice', `Replication backlog freed after ${ttl} seconds without connected replicas.`);
  }

  // ---- the stream ----------------------------------------------------------------

  /** A propagated write: appended to the backlog and sent to every replica. */
  private feed(db: number, argv: string[]): void {
    // A replica's stream is its master's (proxy()): its own effects do not go to its replicas.
    if (!this.backlogActive || this.link !== null) return;
    if (db >= 0 && db !== this.selectedDb) {
      this.encode(['SELECT', String(db)]);
      this.selectedDb = db;
    }
    this.encode(argv);
    if (this.outLen >= DRAIN_BYTES) this.drain();
    this.scheduleFlush();
  }

  /** Room for n more bytes in the pending stream buffer. */
  private reserve(n: number): void {
    if (this.outLen + n <= this.out.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.outLen + n));
    this.out.copy(next, 0, 0, this.outLen);
    this.out = next;
  }

  /** Disconnects our replicas: they reconnect, and resync or continue with PSYNC. */
  private dropReplicas(): void {
    for (const r of [...this.replicas]) this.dropClient(r.client);
  }

  private dropClient(c: Client): void {
    c.socket?.destroy();
    this.server.removeClient(c);
  }

  /** Appends one command as RESP to the pending stream; the offset counts it at once (WAIT, INFO). */
  private encode(argv: readonly string[]): void {
    let need = 16;
    for (let i = 0; i < argv.length; i++) need += argv[i].length + 16;
    this.reserve(need);
    const b = this.out;
    let p = this.outLen;
    b[p++] = 0x2a; // '*'
    p = putDecimal(b, p, argv.length);
    b[p++] = 0x0d;
    b[p++] = 0x0a;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      b[p++] = 0x24; // '$'
      p = putDecimal(b, p, a.length);
      b[p++] = 0x0d;
      b[p++] = 0x0a;
      p = putLatin1(b, p, a);
      b[p++] = 0x0d;
      b[p++] = 0x0a;
    }
    this.offset += p - this.outLen;
    this.outLen = p;
  }

  /**
   * Moves the pending stream into the shared buffer, once per turn (or per
   * DRAIN_BYTES): one copy, whatever the number of replicas. Whatever reads
   * the buffer drains first. Output limits are checked when a block is added,
   * as Redis does, and the backlog is trimmed then.
   */
  drain(): void {
    const n = this.outLen;
    if (n === 0 || !this.backlogActive) return;
    this.outLen = 0;
    const added = this.buffer.append(this.out.subarray(0, n), this.backlogLimit());
    const nowSec = Math.floor(this.server.clock.now() / 1000);
    for (let i = this.replicas.length - 1; i >= 0; i--) {
      const r = this.replicas[i];
      const c = r.client;
      if (!r.started) continue;
      r.fed = true;
      // A replica still receiving its snapshot gets the stream after it.
      if (r.state === 'online') this.pending.add(c);
      if (!added) continue;
      // client-output-buffer-limit replica: one that cannot keep up is dropped (it resyncs later).
      if (overOutputLimit(this.outputLimit, this.buffer.readerMemory(this.readerPos(r)), r, nowSec)) {
        log(this.server, 'warning', `Client id=${c.id} addr=${c.addr} scheduled to be closed ASAP for overcoming of output buffer limits.`);
        c.len = 0;
        this.dropClient(c);
      }
    }
    if (added) this.trim();
    // A burst of huge writes must not keep a huge buffer.
    if (this.out.length > 4 << 20) this.out = Buffer.allocUnsafe(64 * 1024);
  }

  /** Sends a replica its own replies (the snapshot) and then the stream it has not been handed. */
  private writeStream(r: Replica): void {
    const c = r.client;
    flush(this.server, c);
    const socket = c.socket;
    if (socket === null || socket.destroyed || c.closed) return;
    const end = this.buffer.end;
    if (r.handed >= end) return;
    this.buffer.forEachFrom(r.handed, (bytes) => {
      socket.write(bytes);
    });
    this.server.stats.netReplOutputBytes += end - r.handed;
    r.handed = end;
  }

  /** Replicas get their stream in one write per event-loop turn, as Redis writes them in beforeSleep. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      // A WAIT blocked during this turn: ask for ACKs behind what was written (Redis's get_ack_from_slaves).
      if (this.getAckWanted) {
        this.getAckWanted = false;
        if (this.replicas.length > 0) this.feed(-1, ['REPLCONF', 'GETACK', '*']);
      }
      this.drain();
      this.flushScheduled = false;
      for (const c of this.pending) {
        const r = this.byClient.get(c);
        if (r !== undefined && !c.closed) this.writeStream(r);
      }
      this.pending.clear();
    });
  }

  /** Replicas whose last ACK is at most min-replicas-max-lag seconds old (repl_good_slaves_count). */
  goodReplicas(): number {
    const maxLagMs = this.server.config.getNumber('min-replicas-max-lag') * 1000;
    const now = this.server.clock.now();
    let n = 0;
    for (const r of this.replicas) if (now - r.ackTime <= maxLagMs) n++;
    return n;
  }

  /**
   * Installs Server.replicationGate when something can refuse commands, in
   * Redis's processCommand order: NOREPLICAS (a master with
   * min-replicas-to-write), READONLY (a read-only replica), MASTERDOWN (a
   * replica whose link is down and that must not serve stale data).
   */
  updateGate(): void {
    const server = this.server;
    const cfg = server.config;
    const minToWrite = cfg.getNumber('min-replicas-to-write');
    if (this.link === null && (minToWrite === 0 || cfg.getNumber('min-replicas-max-lag') === 0)) {
      server.replicationGate = null;
      return;
    }
    const effectiveFlags = (c: Client, cmd: Command, argv: string[]): number => {
      if (!SCRIPT_RUNNERS.has(cmd.fullName)) return cmd.flags;
      // What the script declared; one without a shebang (or unknown) is not allowed on stale data.
      const declared = dynamicCommandFlags.provider?.(c, cmd, argv) ?? null;
      return declared === null ? cmd.flags & ~CMD_STALE : declared;
    };
    server.replicationGate = (c, cmd, argv) => {
      let write = false;
      let stale = true;
      if (cmd.fullName === 'exec' && c.multi !== null) {
        // As Redis: EXEC is a write if any queued command is one, and may run on stale
        // data only if every queued command may (the state may have changed since queuing).
        for (const q of c.multi.queue) {
          const f = effectiveFlags(c, q.cmd, q.argv);
          if ((f & CMD_WRITE) !== 0) write = true;
          if ((f & CMD_STALE) === 0) stale = false;
        }
        if ((cmd.flags & CMD_STALE) === 0) stale = false;
      } else {
        const flags = effectiveFlags(c, cmd, argv);
        write = (flags & CMD_WRITE) !== 0;
        stale = (flags & CMD_STALE) !== 0;
      }
      return this.refusal(c, write, stale);
    };
  }

  /** The error a command (a write or not, allowed on stale data or not) gets, or null. */
  refusal(c: Client, write: boolean, stale: boolean): string | null {
    if (c.isMaster) return null;
    const cfg = this.server.config;
    const link = this.link;
    if (link === null) {
      const minToWrite = cfg.getNumber('min-replicas-to-write');
      const enforced = minToWrite > 0 && cfg.getNumber('min-replicas-max-lag') > 0;
      return write && enforced && this.goodReplicas() < minToWrite ? NOREPLICAS_ERROR : null;
    }
    if (write && cfg.getBool('replica-read-only')) return READONLY_REPLICA_ERROR;
    if (link.state !== 'connected' && !cfg.getBool('replica-serve-stale-data') && !stale) return MASTERDOWN_ERROR;
    return null;
  }

  /** From the cron: the replica link's work, and a PING every repl-ping-replica-period seconds to our replicas. */
  cron(): void {
    this.updateFailoverStatus();
    this.link?.cron();
    // The PING's cadence runs whether or not replicas are attached (Redis counts cron
    // loops since start): a replica that just attached waits for the next beat, so a
    // fresh stream starts with the SELECT of its first write, not with a PING.
    this.startWaitingFullSyncs();
    this.startDiskSync();
    if (this.replicas.length === 0) {
      this.expireBacklog();
      if (this.backlogActive) this.trim();
      return;
    }
    // Replicas that caught up release blocks (Redis trims as their writes complete).
    this.trim();
    const now = this.server.clock.now();
    const period = this.server.config.getNumber('repl-ping-replica-period') * 1000;
    if (now - this.lastPing < period) return;
    // Writes are paused for a FAILOVER with a timeout: no PING moves the offset then (as Redis).
    if (this.failover !== null && this.failover.endTime !== 0) return;
    this.lastPing = now;
    if (this.replicas.length === 0) return;
    // PING goes to the db the stream has selected: no SELECT of its own.
    this.feed(this.selectedDb, ['PING']);
  }

  // ---- coordinated failover (FAILOVER) ----------------------------------------------------

  /** The attached replica at host:port (Redis's findReplica), or undefined. */
  findReplica(host: string, port: number): Replica | undefined {
    const h = host.toLowerCase();
    return this.replicas.find((r) => r.ip.toLowerCase() === h && r.port === port);
  }

  /** FAILOVER accepted: writes pause while a replica catches up (Redis's failoverCommand). */
  startFailover(host: string | null, port: number, timeoutMs: number, force: boolean): void {
    log(this.server, 'notice', host !== null ? `FAILOVER requested to ${host}:${port}.` : 'FAILOVER requested to any replica.');
    this.failover = {
      state: 'waiting-for-sync',
      host,
      port,
      endTime: timeoutMs > 0 ? this.server.clock.now() + timeoutMs : 0,
      force,
    };
    setFailoverPause(this.server, true);
  }

  /** The failover ended, done or not: writes resume (Redis's clearFailoverState). */
  private clearFailover(): void {
    this.failover = null;
    setFailoverPause(this.server, false);
  }

  /** Redis's abortFailover: a master again if we had already turned into the target's replica. */
  abortFailover(reason: string): void {
    const f = this.failover;
    if (f === null) return;
    log(this.server, 'notice', f.host !== null ? `FAILOVER to ${f.host}:${f.port} aborted: ${reason}` : `FAILOVER to any replica aborted: ${reason}`);
    if (f.state === 'failover-in-progress' && this.link !== null) {
      this.promote();
      this.server.config.setInternal('replicaof', 'no one');
    }
    this.clearFailover();
  }

  /**
   * Redis's updateFailoverStatus (each event-loop turn and the cron): on timeout abort,
   * or with FORCE fail over anyway; else once the target (or, with no target, any
   * replica) acknowledged our whole stream, become its replica: the PSYNC we send
   * it then carries FAILOVER, which makes it a master.
   */
  updateFailoverStatus(): void {
    const f = this.failover;
    if (f === null || f.state !== 'waiting-for-sync') return;
    if (f.endTime !== 0 && f.endTime <= this.server.clock.now()) {
      if (f.force && f.host !== null) {
        log(this.server, 'notice', `FAILOVER to ${f.host}:${f.port} time out exceeded, failing over.`);
        this.failOverTo(f, f.host, f.port);
      } else {
        this.abortFailover('Replica never caught up before timeout');
      }
      return;
    }
    this.drain();
    let target: Replica | undefined;
    if (f.host !== null) target = this.findReplica(f.host, f.port);
    else {
      target = this.replicas.find((r) => r.ackOffset === this.offset);
      if (target !== undefined) {
        f.host = target.ip;
        f.port = target.port;
      }
    }
    if (target !== undefined && target.ackOffset === this.offset) {
      log(this.server, 'notice', `Failover target ${f.host}:${f.port} is synced, failing over.`);
      this.failOverTo(f, f.host!, f.port);
    }
  }

  private failOverTo(f: FailoverState, host: string, port: number): void {
    f.state = 'failover-in-progress';
    this.replicaOf(host, port);
    this.server.config.setInternal('replicaof', `${host} ${port}`);
  }

  /** Our PSYNC FAILOVER was answered: accepted, the failover is done; refused, it is undone. */
  private failoverPsyncDone(accepted: boolean): void {
    if (this.failover === null || this.failover.state !== 'failover-in-progress') return;
    if (accepted) this.clearFailover();
    else this.abortFailover('Failover target rejected psync request');
  }

  // ---- acknowledgements and WAIT ---------------------------------------------------------

  ack(c: Client, offset: number): void {
    const r = this.byClient.get(c);
    if (r === undefined) return;
    if (offset > r.ackOffset) r.ackOffset = offset;
    r.ackTime = this.server.clock.now();
    this.serveWaiters();
    // Not from here: failing over drops the replicas, this one included (Redis checks in beforeSleep).
    if (this.failover !== null) setImmediate(() => this.updateFailoverStatus());
  }

  /** Replicas that acknowledged at least `offset` (replicationCountAcksByOffset). */
  countAcks(offset: number): number {
    let n = 0;
    for (const r of this.replicas) if (r.ackOffset >= offset) n++;
    return n;
  }

  /** Asks every replica for an ACK now (REPLCONF GETACK down the stream), as Redis's sendGetackToReplicas. */
  requestAcks(): void {
    if (this.replicas.length === 0) return;
    this.feed(-1, ['REPLCONF', 'GETACK', '*']);
  }

  /** Registers a blocked WAIT; the caller has blocked the client. */
  addWaiter(client: Client, replicas: number, offset: number): void {
    this.waiters.push({ client, replicas, offset });
    this.getAckWanted = true;
    this.scheduleFlush();
  }

  removeWaiter(client: Client): void {
    this.waiters = this.waiters.filter((w) => w.client !== client);
  }

  private serveWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      const acks = this.countAcks(w.offset);
      if (w.client.blocked === null || w.client.closed) continue;
      if (acks < w.replicas) {
        still.push(w);
        continue;
      }
      this.server.blocking.unblock(w.client);
      w.client.addInt(acks);
      const c = w.client;
      setImmediate(() => {
        if (!c.closed) this.server.resume(c);
      });
    }
    this.waiters = still;
  }
}

const masters = new WeakMap<Server, ReplicationMaster>();

/** The server's replication master state (created with the server by installReplication). */
/** One byte as Redis's sdscatrepr writes it (inside its quotes). */
function reprByte(b: number): string {
  switch (b) {
    case 0x5c:
      return '\\\\';
    case 0x22:
      return '\\"';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    default:
      return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '\\x' + b.toString(16).padStart(2, '0');
  }
}

export function replicationOf(server: Server): ReplicationMaster {
  let m = masters.get(server);
  if (m === undefined) {
    m = new ReplicationMaster(server);
    masters.set(server, m);
  }
  return m;
}

let roleHookInstalled = false;

/** Wires replication into the server: disconnects, CLIENT LIST's S flag, the offset of each client's writes. */
export function installReplication(server: Server): void {
  const m = replicationOf(server);
  server.disconnectHooks.push((c) => {
    m.detach(c);
    m.removeWaiter(c);
  });
  if (!roleHookInstalled) {
    // Once per process: the hook finds each client's server itself.
    roleHookInstalled = true;
    const earlierRole = clientIntrospection.role;
    clientIntrospection.replicaOutput = (c) => replicationOf(c.server).replicaOutputMemory(c);
    clientIntrospection.role = (c) => (c.isMaster ? 'master' : replicationOf(c.server).isReplica(c) ? 'replica' : earlierRole(c));
    // CONFIG RESETSTAT zeroes the resync counters too, as Redis's resetServerStats.
    resetStatHooks.push((srv) => {
      const r = masters.get(srv);
      if (r === undefined) return;
      r.syncFull = 0;
      r.syncPartialOk = 0;
      r.syncPartialErr = 0;
    });
  }
  // A closing server drops its link to a master (embedded servers must leave nothing open).
  server.closeHooks.push(() => m.link?.close());
  const persistence = persistenceOf(server);
  persistence.replSaveInfo = () => m.saveInfo();
  persistence.replLoaded = (info, expired) => m.restoreFromRdb(info, expired);
  for (const name of ['min-replicas-to-write', 'min-replicas-max-lag']) server.config.onChange(name, () => m.updateGate());
  server.config.onChange('repl-backlog-size', () => m.resizeBacklog());
  m.updateGate();
  let configChecked = false;
  server.cronHooks.push(() => {
    // `replicaof` in the configuration: follow that master once the server listens.
    if (!configChecked) {
      configChecked = true;
      const r = server.config.replicaOf();
      if (r !== null && m.link === null) m.replicaOf(r.host, r.port);
    }
    m.cron();
  });
  setInfoProvider(server, 'replication', () => replicationFields(m));
  setReplicaBuffersMemory(server, () => m.replicationMemory().replicas);
  const counters = new Map<string, () => number>([
    ['sync_full', () => m.syncFull],
    ['sync_partial_ok', () => m.syncPartialOk],
    ['sync_partial_err', () => m.syncPartialErr],
    ['mem_replication_backlog', () => m.backlogSize],
    ['mem_total_replication_buffers', () => m.replicationBuffers()],
  ]);
  const withCounters: SectionProvider = (_srv, fields) => fields.map(([k, v]) => [k, counters.get(k)?.() ?? v]);
  setInfoProvider(server, 'stats', withCounters);
  setInfoProvider(server, 'memory', withCounters);
  // As Redis: connected_clients leaves out replicas.
  setInfoProvider(server, 'clients', (_srv, fields) =>
    fields.map(([k, v]) => (k === 'connected_clients' ? [k, Number(v) - m.replicas.length] : [k, v])),
  );
}

/** INFO replication of a master (Redis 7.0's field names and order). */
function replicationFields(m: ReplicationMaster): InfoFields {
  m.drain();
  const server = m.server;
  const now = server.clock.now();
  const link = m.link;
  const fields: InfoFields = [];
  if (link === null) fields.push(['role', 'master']);
  else {
    const up = link.state === 'connected';
    fields.push(
      ['role', 'slave'],
      ['master_host', link.host],
      ['master_port', link.port],
      ['master_link_status', up ? 'up' : 'down'],
      ['master_last_io_seconds_ago', link.lastIo < 0 ? -1 : Math.floor((now - link.lastIo) / 1000)],
      ['master_sync_in_progress', link.state === 'sync' ? 1 : 0],
      ['slave_read_repl_offset', Math.max(link.readOffset, 0)],
      ['slave_repl_offset', Math.max(link.offset, 0)],
    );
    if (!up) fields.push(['master_link_down_since_seconds', link.downSince < 0 ? -1 : Math.floor((now - link.downSince) / 1000)]);
    fields.push(
      ['slave_priority', server.config.getNumber('replica-priority')],
      ['slave_read_only', server.config.getBool('replica-read-only') ? 1 : 0],
      ['replica_announced', server.config.getBool('replica-announced') ? 1 : 0],
    );
  }
  const waiting = m.waitingReplicas();
  fields.push(['connected_slaves', m.replicas.length + waiting.length]);
  m.replicas.forEach((r, i) => {
    const lag = Math.floor((now - r.ackTime) / 1000);
    fields.push([`slave${i}`, `ip=${r.ip},port=${r.port},state=${r.state},offset=${r.ackOffset},lag=${lag}`]);
  });
  waiting.forEach((w, i) => {
    fields.push([`slave${m.replicas.length + i}`, `ip=${w.ip},port=${w.port},state=wait_bgsave,offset=0,lag=${Math.floor((now - w.since) / 1000)}`]);
  });
  // A replica reports its master's stream: the id and the offset it reached.
  const following = link !== null && link.masterReplId !== '';
  fields.push(
    ['master_failover_state', m.failover === null ? 'no-failover' : m.failover.state],
    ['master_replid', following ? link.masterReplId : m.replId],
    ['master_replid2', m.replId2],
    ['master_repl_offset', following ? Math.max(link.offset, 0) : m.offset],
    ['second_repl_offset', m.secondOffset],
    ['repl_backlog_active', m.backlogActive ? 1 : 0],
    ['repl_backlog_size', server.config.getNumber('repl-backlog-size')],
    ['repl_backlog_first_byte_offset', m.backlogFirstByteOffset],
    ['repl_backlog_histlen', m.backlogHistlen],
  );
  return fields;
}

