/**
 * The cluster bus between Mnemo nodes (port + 10000, or cluster-port). Only
 * Mnemo nodes talk to each other on it, so the protocol is our own: one JSON
 * object per line over TCP.
 *
 *   { t: 'meet'|'ping'|'pong'|'fail'|..., cur, from: {id, ip, port, cport, master, masterId, epoch, slots (base64 bitmap), off}, gossip, failed? }
 *
 * Every node keeps one outbound link to each node it knows and answers the
 * PINGs (and MEETs) that arrive on inbound links with a PONG carrying its own
 * view. A message's `from` is the sender's own claim: its role, its config
 * epoch and the slots it serves; `gossip` lists the nodes it knows, so a node
 * introduced to one member meets all of them. Slot conflicts go to the higher
 * config epoch; two masters with the same config epoch are split by the node
 * with the greater id taking a new epoch (as Redis's collision rule).
 *
 * Failure detection and failover follow Redis: a node whose PING has gone
 * unanswered for cluster-node-timeout is flagged PFAIL ("fail?"); masters'
 * gossip about it are failure reports, and PFAIL plus reports from a
 * majority of the masters make it FAIL (broadcast). Replicas of a failed
 * master hold an election (auth-req / auth-ack, one vote per master per
 * epoch); the winner takes the slots with the new epoch, and whoever sees its
 * master lose its last slot to it follows it. CLUSTER FAILOVER runs the
 * manual form (mfstart: the master pauses until the replica caught up).
 */
import { createServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { ClusterNode, type ClusterState, randomNodeId } from './state.js';
import { CLUSTER_SLOTS } from './slot.js';

export type MessageType = 'meet' | 'ping' | 'pong' | 'fail' | 'publish' | 'auth-req' | 'auth-ack' | 'update' | 'mfstart' | 'publishshard';

/** Redis's numbers for the message types (CLUSTERMSG_TYPE_*), as DEBUG DROP-CLUSTER-PACKET-FILTER names them. */
export const MESSAGE_TYPE_NUMBER: Readonly<Record<MessageType, number>> = { ping: 0, pong: 1, meet: 2, fail: 3, publish: 4, 'auth-req': 5, 'auth-ack': 6, update: 7, mfstart: 8, publishshard: 10 };

/** The types in Redis's order, for CLUSTER INFO's per-type statistics. */
export const MESSAGE_TYPES: readonly MessageType[] = ['ping', 'pong', 'meet', 'fail', 'publish', 'publishshard', 'auth-req', 'auth-ack', 'update', 'mfstart'];

/** CLUSTER_MF_TIMEOUT: how long a manual failover may take (ms). */
const MF_TIMEOUT = 5000;

/** CLUSTER_SLAVE_MIGRATION_DELAY: how long a master stays orphaned before a replica migrates to it (ms). */
const MIGRATION_DELAY = 5000;

interface SenderInfo {
  id: string;
  ip: string;
  port: number;
  cport: number;
  master: boolean;
  masterId: string | null;
  epoch: number;
  /** The slots it serves: a 16384-bit bitmap (bit k of byte k>>3, low bit first), base64. */
  slots: string;
  /** Replication offset (a master's stream offset, a replica's processed offset). */
  off?: number;
  /** A master paused for a manual failover (CLUSTERMSG_FLAG0_PAUSED). */
  paused?: boolean;
  /** cluster-replica-no-failover (CLUSTER_NODE_NOFAILOVER). */
  nofailover?: boolean;
  /** cluster-announce-hostname (Redis's hostname ping extension), absent when none. */
  hostname?: string;
}

interface GossipEntry {
  id: string;
  ip: string;
  port: number;
  cport: number;
  /** The sender sees it as PFAIL or FAIL: a failure report when the sender is a master. */
  pfail?: boolean;
  fail?: boolean;
  /** When the sender last had a PONG from it, in seconds (Redis's gossip pong_received); absent when never. */
  pong?: number;
}

interface Message {
  t: MessageType;
  cur: number;
  from: SenderInfo;
  gossip: GossipEntry[];
  failed?: string;
  /** auth-req: the config epoch and slots of the requesting replica's master, and the manual-failover force flag. */
  claimEpoch?: number;
  claim?: number[];
  force?: boolean;
  /** update: a newer configuration of a node than the receiver claims (its id, config epoch, slots bitmap). */
  upd?: { id: string; epoch: number; slots: string };
  /** publish / publishshard: the channel and message (latin1 strings, binary-safe). */
  channel?: string;
  message?: string;
}

export class Link {
  buffered = '';
  readonly createTime = Date.now();
  /** Established (outbound: connected). */
  ready = false;

  constructor(
    readonly socket: Socket,
    readonly outbound: boolean,
    public node: ClusterNode | null,
  ) {}
}

export interface BusHost {
  readonly state: ClusterState;
  nodeTimeout(): number;
  /** Our replication offset (Redis's replicationGetSlaveOffset for a replica, master_repl_offset for a master). */
  replOffset(): number;
  /** Milliseconds since a replica last heard from its master (data age), 0 for a master. */
  dataAge(): number;
  /** Configuration a failover looks at. */
  replicaValidityFactor(): number;
  replicaNoFailover(): boolean;
  allowReplicaMigration(): boolean;
  /** cluster-migration-barrier: replicas a master keeps before one of them may migrate. */
  migrationBarrier(): number;
  replPingPeriod(): number;
  /** cluster-link-sendbuf-limit in bytes (0: no limit). */
  linkSendBufferLimit(): number;
  /** A replica won an election (or a TAKEOVER): become a master with the old master's slots. */
  promoted(): void;
  /** This node now follows n (its master lost all slots to n, or so did we). */
  followNode(n: ClusterNode): void;
  /** Pause or resume writes for a manual failover on the master side. */
  pauseWrites(on: boolean): void;
  log(level: 'warning' | 'notice' | 'verbose', text: string): void;
  /** A PUBLISH (shard: SPUBLISH) that arrived from another node: deliver it to our subscribers. */
  deliverPublish(shard: boolean, channel: string, message: string): void;
  /** Type number of received messages to drop (DEBUG DROP-CLUSTER-PACKET-FILTER), -1 for none. */
  dropFilter(): number;
  /** The master we follow changed or became known (replicas start replicating). */
  roleChanged(): void;
}

export class ClusterBus {
  private listener: NetServer | null = null;
  /** Outbound links by node. */
  readonly outbound = new Map<ClusterNode, Link>();
  readonly inbound = new Set<Link>();
  readonly sent = new Map<MessageType, number>();
  readonly received = new Map<MessageType, number>();
  /** Links freed for exceeding cluster-link-sendbuf-limit (CLUSTER INFO total_cluster_links_buffer_limit_exceeded). */
  linksBufferLimitExceeded = 0;
  private lastConnect = new Map<ClusterNode, number>();
  private lastPing = new Map<ClusterNode, number>();
  private broadcastScheduled = false;
  private bitmap = '';
  private bitmapVersion = -1;
  private closed = false;
  /** Replica side of an election (Redis's failover_auth_*). */
  private authTime = 0;
  private authCount = 0;
  private authSent = false;
  private authRank = 0;
  private authEpoch = 0;
  /** Manual failover: deadline (0: none), the master's offset once it paused, whether the election may start. */
  mfEnd = 0;
  private mfMasterOffset = -1;
  private mfCanStart = false;
  /** Master side: the replica a manual failover is for. */
  private mfReplica: ClusterNode | null = null;
  private mfPaused = false;
  /** When we last voted for a replica of a master (Redis's voted_time, by master). */
  private votedTime = new WeakMap<ClusterNode, number>();

  constructor(private readonly host: BusHost) {}

  private get state(): ClusterState {
    return this.host.state;
  }

  get listening(): boolean {
    return this.listener !== null;
  }

  listen(port: number, bindHost: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const srv = createServer({ noDelay: true }, (socket) => this.accept(socket));
      srv.once('error', reject);
      srv.listen(port, bindHost, () => {
        srv.off('error', reject);
        this.listener = srv;
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    this.listener?.close();
    this.listener = null;
    for (const l of this.outbound.values()) l.socket.destroy();
    for (const l of this.inbound) l.socket.destroy();
    this.outbound.clear();
    this.inbound.clear();
  }

  private accept(socket: Socket): void {
    const link = new Link(socket, false, null);
    link.ready = true;
    this.inbound.add(link);
    this.wire(link);
  }

  private wire(link: Link): void {
    const s = link.socket;
    s.setEncoding('latin1');
    s.on('data', (chunk: string) => {
      link.buffered += chunk;
      let nl: number;
      while ((nl = link.buffered.indexOf('\n')) >= 0) {
        const line = link.buffered.slice(0, nl);
        link.buffered = link.buffered.slice(nl + 1);
        let msg: Message;
        try {
          msg = JSON.parse(line) as Message;
        } catch {
          s.destroy();
          return;
        }
        this.process(link, msg);
        if (s.destroyed) return;
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (link.outbound) {
        if (link.node !== null && this.outbound.get(link.node) === link) {
          this.outbound.delete(link.node);
          link.node.connected = false;
        }
      } else this.inbound.delete(link);
    });
  }

  /** Starts a handshake with ip:port (CLUSTER MEET, or a node learnt from gossip). */
  meet(ip: string, port: number, cport: number): void {
    for (const n of this.state.nodes.values()) if (n.handshake && n.ip === ip && n.port === port) return;
    const n = new ClusterNode(randomNodeId(), ip, port, cport);
    n.handshake = true;
    this.state.addNode(n);
    this.connectTo(n);
  }

  private connectTo(n: ClusterNode): void {
    if (this.closed || n.ip === '') return;
    this.lastConnect.set(n, Date.now());
    const socket = connect({ host: n.ip, port: n.cport, noDelay: true });
    const link = new Link(socket, true, n);
    this.outbound.set(n, link);
    this.wire(link);
    socket.on('connect', () => {
      link.ready = true;
      if (link.node === null) return;
      link.node.connected = true;
      this.learnMyIp(socket);
      this.send(link, link.node.handshake ? 'meet' : 'ping');
    });
  }

  /**
   * DEBUG CLUSTERLINK KILL: closes our link to n (`to`), n's link to us (`from`), or both, as
   * Redis's freeClusterLink. Nothing more is sent on a killed link; the cron connects again,
   * and n connects again from its side.
   */
  killLinks(n: ClusterNode, to: boolean, from: boolean): void {
    if (to) {
      const l = this.outbound.get(n);
      if (l !== undefined) {
        this.outbound.delete(n);
        n.connected = false;
        l.socket.destroy();
      }
    }
    if (from) {
      for (const il of this.inbound) {
        if (il.node !== n) continue;
        this.inbound.delete(il);
        il.socket.destroy();
      }
    }
  }

  dropNode(n: ClusterNode): void {
    const l = this.outbound.get(n);
    if (l !== undefined) {
      l.node = null;
      l.socket.destroy();
      this.outbound.delete(n);
    }
    for (const il of this.inbound) if (il.node === n) il.node = null;
  }

  private learnMyIp(socket: Socket): void {
    const me = this.state.myself;
    if (me.ip !== '' || socket.localAddress === undefined) return;
    me.ip = normalizeIp(socket.localAddress);
    this.state.changed();
  }

  private info(): SenderInfo {
    const me = this.state.myself;
    const slots = me.master ? this.mySlotsBitmap() : '';
    const info: SenderInfo = { id: me.id, ip: me.ip, port: me.port, cport: me.cport, master: me.master, masterId: me.masterId, epoch: me.configEpoch, slots, off: this.host.replOffset() };
    if (me.master && this.mfPaused) info.paused = true;
    if (me.nofailover) info.nofailover = true;
    if (me.hostname !== '') info.hostname = me.hostname;
    return info;
  }

  /** Our slots as sent in every message, rebuilt only when the slot map changed. */
  private mySlotsBitmap(): string {
    const st = this.state;
    if (this.bitmapVersion !== st.slotsVersion) {
      const bits = Buffer.alloc(CLUSTER_SLOTS / 8);
      const me = st.myself;
      for (let k = 0; k < CLUSTER_SLOTS; k++) if (st.slots[k] === me) bits[k >> 3] |= 1 << (k & 7);
      this.bitmap = bits.toString('base64');
      this.bitmapVersion = st.slotsVersion;
    }
    return this.bitmap;
  }

  /**
   * The gossip section: every node we know but ourselves. As in Redis's clusterSendPing, the
   * receiver is not left out: what we say about it (its last PONG time) is how a node learns
   * the pong_received that CLUSTER NODES shows on its own line.
   */
  private gossip(): GossipEntry[] {
    const out: GossipEntry[] = [];
    for (const n of this.state.nodes.values()) {
      if (n.myself || n.handshake || n.ip === '') continue;
      const g: GossipEntry = { id: n.id, ip: n.ip, port: n.port, cport: n.cport };
      if (n.pfail) g.pfail = true;
      if (n.fail) g.fail = true;
      const pong = Math.floor(n.pongRecv / 1000);
      if (pong > 0) g.pong = pong;
      out.push(g);
    }
    return out;
  }

  private send(link: Link, t: MessageType, failed?: string, extra?: Partial<Message>): void {
    if (!link.ready || link.socket.destroyed) return;
    const msg: Message = { t, cur: this.state.currentEpoch, from: this.info(), gossip: this.gossip() };
    if (failed !== undefined) msg.failed = failed;
    if (extra !== undefined) Object.assign(msg, extra);
    link.socket.write(JSON.stringify(msg) + '\n');
    this.sent.set(t, (this.sent.get(t) ?? 0) + 1);
    if (t === 'ping' && link.node !== null && link.node.pingSent === 0) link.node.pingSent = Date.now();
  }

  /** Sends our view to every connected node soon (after a change: slots, epochs, roles). */
  broadcastSoon(): void {
    if (this.broadcastScheduled || this.closed) return;
    this.broadcastScheduled = true;
    setImmediate(() => {
      this.broadcastScheduled = false;
      for (const l of this.outbound.values()) if (l.node !== null && !l.node.handshake) this.send(l, 'ping');
    });
  }

  private process(link: Link, msg: Message): void {
    this.received.set(msg.t, (this.received.get(msg.t) ?? 0) + 1);
    if (link.node !== null) link.node.dataReceived = Date.now();
    if (MESSAGE_TYPE_NUMBER[msg.t] === this.host.dropFilter()) return;
    const st = this.state;
    const me = st.myself;
    const f = msg.from;
    if (f === undefined || typeof f.id !== 'string' || f.id === me.id) return;
    this.learnMyIp(link.socket);
    let sender = st.nodes.get(f.id);
    if (link.outbound && link.node !== null && link.node.handshake) {
      const hs = link.node;
      if (sender !== undefined && sender !== hs) {
        // Already known under its real id: the handshake node goes away.
        this.dropNode(hs);
        st.removeNode(hs);
        return;
      }
      st.rename(hs, f.id);
      hs.handshake = false;
      hs.master = f.master;
      st.changed();
      // As Redis, the reply that completes a handshake only names the node (and its role):
      // the sender was unknown when it arrived, so its slots, gossip and hostname wait for
      // its next message.
      if (msg.t === 'pong') {
        hs.pongRecv = Date.now();
        hs.pingSent = 0;
      }
      if (msg.t === 'ping' || msg.t === 'meet') this.send(link, 'pong');
      return;
    }
    if (sender === undefined) {
      if (msg.t !== 'meet') return; // only MEET introduces a node we never heard of
      const until = st.forgotten.get(f.id);
      if (until !== undefined && until > Date.now()) return;
      const ip = f.ip !== '' ? f.ip : normalizeIp(link.socket.remoteAddress ?? '');
      sender = new ClusterNode(f.id, ip, f.port, f.cport);
      st.addNode(sender);
      st.changed();
    }
    if (!link.outbound) link.node = sender;
    if (sender.pfail) {
      sender.pfail = false;
      st.changed();
    }
    if (msg.t === 'pong') {
      sender.pongRecv = Date.now();
      sender.pingSent = 0;
    }
    this.apply(sender, msg, link);
    // Redis's clearNodeFailureIfNeeded: a replica or a master without slots is back at once; a
    // master with slots only after twice the node timeout (its replicas may be failing over).
    if (sender.fail && (msg.t === 'ping' || msg.t === 'pong' || msg.t === 'meet')) {
      if (!sender.master || sender.slotCount === 0 || Date.now() - sender.failTime > 2 * this.host.nodeTimeout()) {
        sender.fail = false;
        this.host.log('notice', `Clear FAIL state for node ${sender.id}: ${sender.master ? 'is reachable again and nobody is serving its slots after some time' : 'replica is reachable again'}.`);
        st.changed();
      }
    }
    if (msg.t === 'ping' || msg.t === 'meet') this.send(link, 'pong');
    if (msg.t === 'fail' && msg.failed !== undefined) {
      const failed = st.nodes.get(msg.failed);
      if (failed !== undefined && !failed.myself && !failed.fail) {
        failed.fail = true;
        failed.pfail = false;
        failed.failTime = Date.now();
        st.changed();
      }
    }
    if (msg.t === 'auth-req') this.voteIfNeeded(sender, msg);
    if (msg.t === 'auth-ack' && sender.master && sender.slotCount > 0 && msg.cur >= this.authEpoch) {
      this.authCount++;
      this.handleReplicaFailover();
    }
    if (msg.t === 'mfstart') this.manualFailoverRequested(sender);
    if (msg.t === 'update') this.processUpdate(msg);
    if ((msg.t === 'publish' || msg.t === 'publishshard') && typeof msg.channel === 'string' && typeof msg.message === 'string') {
      this.host.deliverPublish(msg.t === 'publishshard', msg.channel, msg.message);
    }
    // A replica in a manual failover learns the offset its paused master stopped at.
    if (!me.master && me.masterId === sender.id && this.mfEnd > 0 && msg.from.paused === true && this.mfMasterOffset === -1) {
      this.mfMasterOffset = msg.from.off ?? 0;
      this.host.log('warning', `Received replication offset for paused master manual failover: ${this.mfMasterOffset}`);
    }
  }

  // ---- failure reports ---------------------------------------------------------

  /** Redis's markNodeAsFailingIfNeeded: PFAIL here plus reports from a majority of the masters make it FAIL. */
  private markFailingIfNeeded(n: ClusterNode): void {
    const st = this.state;
    if (!n.pfail || n.fail) return;
    const needed = Math.floor(st.size() / 2) + 1;
    let failures = this.validReports(n);
    if (st.myself.master) failures++;
    if (failures < needed) return;
    this.host.log('notice', `Marking node ${n.id} as failing (quorum reached).`);
    n.pfail = false;
    n.fail = true;
    n.failTime = Date.now();
    st.changed();
    for (const l of this.outbound.values()) if (l.node !== null && !l.node.handshake) this.send(l, 'fail', n.id);
  }

  /** Failure reports about n no older than twice the node timeout (older ones are dropped). */
  validReports(n: ClusterNode): number {
    const maxAge = 2 * this.host.nodeTimeout();
    const now = Date.now();
    let k = 0;
    for (const [id, t] of n.failReports) {
      if (now - t > maxAge || !this.state.nodes.has(id)) n.failReports.delete(id);
      else k++;
    }
    return k;
  }

  // ---- failover ------------------------------------------------------------------

  /** Replicas of our master with a better replication offset than ours (Redis's clusterGetSlaveRank). */
  private replicaRank(): number {
    const st = this.state;
    const me = st.myself;
    const m = st.masterOf(me);
    if (m === null) return 0;
    const mine = this.host.replOffset();
    let rank = 0;
    for (const r of st.replicasOf(m)) if (r !== me && !r.fail && !r.nofailover && r.replOffset > mine) rank++;
    return rank;
  }

  /** Ends a manual failover (done, timed out, or the node changed role): a paused master resumes writes. */
  resetManualFailover(): void {
    if (this.mfPaused) {
      this.mfPaused = false;
      this.host.pauseWrites(false);
    }
    this.mfEnd = 0;
    this.mfCanStart = false;
    this.mfMasterOffset = -1;
    this.mfReplica = null;
  }

  /** CLUSTER FAILOVER [FORCE] on a replica: MFSTART to the master (or straight to the election with FORCE). */
  startManualFailover(force: boolean): void {
    const st = this.state;
    const m = st.masterOf(st.myself);
    this.resetManualFailover();
    this.mfEnd = Date.now() + MF_TIMEOUT;
    if (force) {
      this.mfCanStart = true;
      return;
    }
    const link = m === null ? undefined : this.outbound.get(m);
    if (link !== undefined) this.send(link, 'mfstart');
  }

  /** Master side of MFSTART: pause writes and tell the replica our offset. */
  private manualFailoverRequested(sender: ClusterNode): void {
    const me = this.state.myself;
    if (!me.master || sender.master || sender.masterId !== me.id) return;
    this.resetManualFailover();
    this.mfEnd = Date.now() + MF_TIMEOUT;
    this.mfReplica = sender;
    this.host.log('warning', `Manual failover requested by replica ${sender.id}.`);
    this.mfPaused = true;
    this.host.pauseWrites(true);
    const link = this.outbound.get(sender);
    if (link !== undefined) this.send(link, 'ping');
  }

  /** Per cron tick: time out a manual failover; a replica starts once its offset reached the paused master's. */
  private manualFailoverCron(): void {
    if (this.mfEnd === 0) return;
    if (Date.now() > this.mfEnd) {
      this.host.log('warning', 'Manual failover timed out.');
      this.resetManualFailover();
      return;
    }
    const me = this.state.myself;
    if (me.master) {
      // Keep the replica informed of our (paused) offset.
      const link = this.mfReplica === null ? undefined : this.outbound.get(this.mfReplica);
      if (link !== undefined) this.send(link, 'ping');
      return;
    }
    if (this.mfCanStart || this.mfMasterOffset === -1) return;
    if (this.mfMasterOffset === this.host.replOffset()) {
      this.mfCanStart = true;
      this.host.log('warning', 'All master replication stream processed, manual failover can start.');
    }
  }

  /** Master side of an election (Redis's clusterSendFailoverAuthIfNeeded). */
  private voteIfNeeded(requester: ClusterNode, msg: Message): void {
    const st = this.state;
    const me = st.myself;
    if (!me.master || me.slotCount === 0) return;
    if (msg.cur < st.currentEpoch) return;
    if (st.lastVoteEpoch === st.currentEpoch) return;
    const master = st.masterOf(requester);
    if (requester.master || master === null) return;
    if (!master.fail && msg.force !== true) return;
    const now = Date.now();
    const timeout = this.host.nodeTimeout();
    if (now - (this.votedTime.get(master) ?? 0) < timeout * 2) return;
    const claimEpoch = msg.claimEpoch ?? 0;
    const claim = msg.claim ?? [];
    for (let i = 0; i + 1 < claim.length; i += 2) {
      for (let k = claim[i]; k <= claim[i + 1]; k++) {
        const owner = st.slots[k];
        if (owner !== null && owner.configEpoch > claimEpoch) return;
      }
    }
    st.lastVoteEpoch = st.currentEpoch;
    this.votedTime.set(master, now);
    st.changed();
    const link = this.outbound.get(requester);
    if (link !== undefined) this.send(link, 'auth-ack');
    this.host.log('warning', `Failover auth granted to ${requester.id} for epoch ${st.currentEpoch}`);
  }

  /** Replica side of an election (Redis's clusterHandleSlaveFailover), each cron tick and on each vote. */
  handleReplicaFailover(): void {
    const st = this.state;
    const me = st.myself;
    if (me.master) return;
    const master = st.masterOf(me);
    if (master === null) return;
    const manual = this.mfEnd > 0 && this.mfCanStart;
    if ((!master.fail && !manual) || master.slotCount === 0) return;
    if (this.host.replicaNoFailover() && !manual) return;
    const now = Date.now();
    const timeout = this.host.nodeTimeout();
    let dataAge = this.host.dataAge();
    if (dataAge > timeout) dataAge -= timeout;
    const factor = this.host.replicaValidityFactor();
    if (factor > 0 && dataAge > this.host.replPingPeriod() * 1000 + timeout * factor && !manual) return;
    const authTimeout = Math.max(timeout * 2, 2000);
    const authRetry = authTimeout * 2;
    if (now - this.authTime > authRetry) {
      this.authTime = now + 500 + Math.floor(Math.random() * 500);
      this.authCount = 0;
      this.authSent = false;
      this.authRank = this.replicaRank();
      this.authTime += this.authRank * 1000;
      if (manual) {
        this.authTime = now;
        this.authRank = 0;
      }
      this.host.log('warning', `Start of election delayed for ${this.authTime - now} milliseconds (rank #${this.authRank}, offset ${this.host.replOffset()}).`);
      return;
    }
    if (!this.authSent && !manual) {
      const rank = this.replicaRank();
      if (rank > this.authRank) {
        this.authTime += (rank - this.authRank) * 1000;
        this.authRank = rank;
      }
    }
    if (now < this.authTime) return;
    if (now - this.authTime > authTimeout) return;
    if (!this.authSent) {
      st.currentEpoch++;
      this.authEpoch = st.currentEpoch;
      this.host.log('warning', `Starting a failover election for epoch ${st.currentEpoch}.`);
      const claim: number[] = [];
      for (const [a, b] of st.rangesOf(master)) claim.push(a, b);
      for (const l of this.outbound.values()) {
        if (l.node !== null && !l.node.handshake) this.send(l, 'auth-req', undefined, { claimEpoch: master.configEpoch, claim, force: manual });
      }
      this.authSent = true;
      st.changed();
      return;
    }
    const needed = Math.floor(st.size() / 2) + 1;
    if (this.authCount >= needed) {
      this.host.log('warning', 'Failover election won: I\'m the new master.');
      if (me.configEpoch < this.authEpoch) me.configEpoch = this.authEpoch;
      this.takeOver(master);
    }
  }

  /** Redis's clusterFailoverReplaceYourMaster: we are a master with the old master's slots. */
  takeOver(master: ClusterNode): void {
    const st = this.state;
    const me = st.myself;
    me.master = true;
    me.masterId = null;
    for (let s = 0; s < CLUSTER_SLOTS; s++) if (st.slots[s] === master) st.setOwner(s, me);
    this.resetManualFailover();
    this.authTime = 0;
    this.host.promoted();
    st.changed();
    for (const l of this.outbound.values()) if (l.node !== null && !l.node.handshake) this.send(l, 'pong');
  }

  /** What the sender says about itself and the nodes it knows. */
  private apply(s: ClusterNode, msg: Message, link: Link): void {
    const st = this.state;
    const me = st.myself;
    const f = msg.from;
    let changed = false;
    if (typeof msg.cur === 'number' && msg.cur > st.currentEpoch) {
      st.currentEpoch = msg.cur;
      changed = true;
    }
    const ip = f.ip !== '' ? f.ip : link.outbound ? s.ip : normalizeIp(link.socket.remoteAddress ?? '');
    if (ip !== '' && (s.ip !== ip || s.port !== f.port || s.cport !== f.cport)) {
      s.ip = ip;
      s.port = f.port;
      s.cport = f.cport;
      changed = true;
    }
    if (f.epoch !== s.configEpoch) {
      s.configEpoch = f.epoch;
      changed = true;
    }
    if (typeof f.off === 'number') s.replOffset = f.off;
    // Redis's ping extensions: a PING, PONG or MEET without a hostname means the sender has none.
    if (msg.t === 'ping' || msg.t === 'pong' || msg.t === 'meet') {
      const hostname = typeof f.hostname === 'string' ? f.hostname : '';
      if (s.hostname !== hostname) {
        s.hostname = hostname;
        changed = true;
      }
    }
    // A dynamic flag: the sender's latest word is trusted (its siblings' election ranks need it).
    const nofailover = f.nofailover === true;
    if (s.nofailover !== nofailover) {
      s.nofailover = nofailover;
      changed = true;
    }
    if (f.master !== s.master || f.masterId !== s.masterId) {
      if (!f.master) for (let k = 0; k < CLUSTER_SLOTS; k++) if (st.slots[k] === s) st.setOwner(k, null);
      // Redis's clusterSetNodeAsMaster: a replica turned master is a migration target (it took
      // over a master that had replicas); a master turned replica no longer is.
      if (f.master && !s.master) s.migrateTo = true;
      else if (!f.master && s.master) s.migrateTo = false;
      s.master = f.master;
      s.masterId = f.master ? null : f.masterId;
      changed = true;
      if (me.masterId === s.id || (!me.master && me.masterId === f.id)) this.host.roleChanged();
    }
    // The master whose slots we follow: ourselves, or the one we replicate.
    if (s.master) {
      const claimKey = typeof f.slots === 'string' ? `${f.epoch}/${st.slotsVersion}/${st.importing.size}/${f.slots}` : '';
      // The same claim, epoch and slot map as last time changes nothing (Redis compares the bitmaps too).
      if (claimKey !== s.lastClaim) {
        const r = this.updateSlotsConfigWith(s, claimKey === '' ? '' : f.slots);
        if (r.changed) changed = true;
        s.lastClaim = `${f.epoch}/${st.slotsVersion}/${st.importing.size}/${f.slots}`;
        // Redis's UPDATE: the sender claims a slot a node with a newer config epoch serves.
        if (r.newer !== null && (msg.t === 'ping' || msg.t === 'pong' || msg.t === 'meet')) {
          const out = this.outbound.get(s);
          if (out !== undefined) {
            this.host.log('verbose', `Node ${s.id} has old slots configuration, sending an UPDATE message about ${r.newer.id}`);
            this.send(out, 'update', undefined, { upd: { id: r.newer.id, epoch: r.newer.configEpoch, slots: this.slotsBitmapOf(r.newer) } });
          }
        }
      }
      // Config epoch collision between two masters: the greater id takes a new epoch.
      if (me.master && s.configEpoch === me.configEpoch && me.id > s.id) {
        st.currentEpoch++;
        me.configEpoch = st.currentEpoch;
        changed = true;
      }
    }
    // Gossip: nodes the sender knows and we do not are met; a master's view of failing nodes
    // counts as a failure report.
    if (Array.isArray(msg.gossip)) {
      for (const g of msg.gossip) {
        const known = st.nodes.get(g.id);
        if (known !== undefined && !known.myself && s.master) {
          if (g.pfail === true || g.fail === true) {
            known.failReports.set(s.id, Date.now());
            this.markFailingIfNeeded(known);
          } else known.failReports.delete(s.id);
        }
        // Redis's clusterProcessGossipSection: a node the sender sees up, with no PING of ours
        // pending and no failure reports, takes the sender's last PONG time when it is newer
        // than ours and not in the future (500 ms of tolerance). Myself included: that is
        // where the pong_received on CLUSTER NODES's myself line comes from.
        if (known !== undefined && g.pfail !== true && g.fail !== true && typeof g.pong === 'number' && known.pingSent === 0 && this.validReports(known) === 0) {
          const pongTime = g.pong * 1000;
          if (pongTime <= Date.now() + 500 && pongTime > known.pongRecv) known.pongRecv = pongTime;
        }
        if (g.id === me.id || known !== undefined) continue;
        const until = st.forgotten.get(g.id);
        if (until !== undefined && until > Date.now()) continue;
        if (st.byAddress(g.ip, g.port) !== undefined) continue;
        this.meet(g.ip, g.port, g.cport);
      }
    }
    if (changed) st.changed();
  }

  /** The slots `n` serves in our map, as the bitmap messages carry. */
  private slotsBitmapOf(n: ClusterNode): string {
    if (n.myself) return this.mySlotsBitmap();
    const bits = Buffer.alloc(CLUSTER_SLOTS / 8);
    for (let k = 0; k < CLUSTER_SLOTS; k++) if (this.state.slots[k] === n) bits[k >> 3] |= 1 << (k & 7);
    return bits.toString('base64');
  }

  /**
   * Redis's clusterUpdateSlotsConfigWith: the slots `s` claims (base64 bitmap) go to it where
   * unassigned or held with an older config epoch. When our master (or we) lost its last slot
   * to it, we follow it, as after a failover the old master and its other replicas do; with
   * cluster-allow-replica-migration no, only when it took exactly our shard's slots (a
   * failover), not when slots were moved away one by one (a rebalance). Returns whether the
   * map changed, and a node with a newer epoch serving a slot `s` claims (for an UPDATE).
   */
  private updateSlotsConfigWith(s: ClusterNode, slotsB64: string): { changed: boolean; newer: ClusterNode | null } {
    const st = this.state;
    const me = st.myself;
    const curPrimary = me.master ? me : st.masterOf(me);
    let takenFromPrimary = 0;
    let changed = false;
    let newer: ClusterNode | null = null;
    const claimed = Buffer.from(slotsB64, 'base64');
    for (let k = 0; k < CLUSTER_SLOTS; k++) {
      if (((claimed[k >> 3] ?? 0) & (1 << (k & 7))) === 0) continue;
      // A slot the sender no longer claims stays its own in our view until another
      // master claims it, as Redis (only claimed slots update the configuration).
      const owner = st.slots[k];
      if (owner === s) continue;
      if (owner !== null && owner.configEpoch > s.configEpoch && newer === null) newer = owner;
      if (st.importing.has(k)) continue;
      if (owner === null || owner.configEpoch < s.configEpoch) {
        st.setOwner(k, s);
        if (owner === me) st.migrating.delete(k);
        if (owner !== null && owner === curPrimary) takenFromPrimary++;
        changed = true;
      }
    }
    const myMaster = me.master ? null : st.masterOf(me);
    if (
      takenFromPrimary > 0 &&
      curPrimary !== null &&
      curPrimary.slotCount === 0 &&
      s !== curPrimary &&
      (this.host.allowReplicaMigration() || s.slotCount === takenFromPrimary)
    ) {
      this.host.log('warning', `Configuration change detected. Reconfiguring myself as a replica of ${s.id}`);
      this.host.followNode(s);
      changed = true;
    } else if (myMaster !== null && !myMaster.master && myMaster.masterId !== null && myMaster.masterId !== me.id) {
      // Redis's safeguard against sub-replicas: our master turned into a replica of another node.
      const grand = st.nodes.get(myMaster.masterId);
      if (grand !== undefined) {
        this.host.log('warning', `I'm a sub-replica! Reconfiguring myself as a replica of grandmaster ${grand.id}`);
        this.host.followNode(grand);
        changed = true;
      }
    }
    return { changed, newer };
  }

  /** Redis's UPDATE handling: a newer configuration of a node we know replaces ours. */
  private processUpdate(msg: Message): void {
    const u = msg.upd;
    if (u === undefined || typeof u.id !== 'string' || typeof u.slots !== 'string') return;
    const st = this.state;
    const n = st.nodes.get(u.id);
    if (n === undefined || n.configEpoch >= u.epoch) return;
    if (!n.master) {
      n.master = true;
      n.masterId = null;
    }
    n.configEpoch = u.epoch;
    this.updateSlotsConfigWith(n, u.slots);
    st.changed();
  }

  /** Called every server cron tick: connections, PINGs, handshake timeouts, failure detection. */
  cron(): void {
    if (this.closed) return;
    const st = this.state;
    const now = Date.now();
    const timeout = this.host.nodeTimeout();
    this.freeLinksOverBufferLimit();
    for (const n of [...st.nodes.values()]) {
      if (n.myself) continue;
      if (n.handshake && now - n.createdAt > Math.max(timeout, 1000)) {
        this.dropNode(n);
        st.removeNode(n);
        continue;
      }
      const link = this.outbound.get(n);
      if (link === undefined) {
        if (now - (this.lastConnect.get(n) ?? 0) >= 1000) this.connectTo(n);
        if (n.pingSent === 0 && !n.handshake) n.pingSent = now;
      } else if (link.ready && n.pingSent === 0 && now - (this.lastPing.get(n) ?? 0) >= 1000) {
        this.lastPing.set(n, now);
        this.send(link, 'ping');
      }
      if (n.pingSent !== 0 && !n.handshake) {
        const waited = now - n.pingSent;
        if (waited > timeout && !n.pfail && !n.fail) {
          this.host.log('verbose', `*** NODE ${n.id} possibly failing`);
          n.pfail = true;
          st.changed();
        }
        this.markFailingIfNeeded(n);
        // A link that stays silent for half the timeout is dropped and reconnected.
        if (link !== undefined && link.ready && waited > timeout / 2 && now - n.dataReceived > timeout / 2) {
          this.dropNode(n);
          n.connected = false;
        }
      }
    }
  }

  /**
   * Redis's freeClusterLinkOnBufferLimitReached: a link whose unsent bytes passed
   * cluster-link-sendbuf-limit (a peer that stopped reading) is freed; an outbound one is
   * reconnected at once, in the same cron pass, as Redis's.
   */
  private freeLinksOverBufferLimit(): void {
    const limit = this.host.linkSendBufferLimit();
    if (limit === 0) return;
    for (const [n, l] of [...this.outbound]) {
      if (l.socket.writableLength <= limit) continue;
      this.host.log('warning', `Freeing cluster link(to node ${n.id}, used memory: ${l.socket.writableLength}) due to exceeding send buffer memory limit.`);
      l.node = null;
      l.socket.destroy();
      this.outbound.delete(n);
      n.connected = false;
      this.lastConnect.delete(n);
      this.linksBufferLimitExceeded++;
    }
    for (const l of [...this.inbound]) {
      if (l.socket.writableLength <= limit) continue;
      this.host.log('warning', `Freeing cluster link(from node ${l.node?.id ?? ''}, used memory: ${l.socket.writableLength}) due to exceeding send buffer memory limit.`);
      l.socket.destroy();
      this.inbound.delete(l);
      this.linksBufferLimitExceeded++;
    }
  }

  /**
   * PUBLISH in cluster mode goes to every node (Redis's clusterPropagatePublish); SPUBLISH to
   * the nodes of our shard (our master and its replicas, or our replicas).
   */
  propagatePublish(shard: boolean, channel: string, message: string): void {
    const st = this.state;
    const me = st.myself;
    const primary = me.master ? me : st.masterOf(me);
    for (const l of this.outbound.values()) {
      const n = l.node;
      if (n === null || n.handshake) continue;
      if (shard && !(n === primary || (primary !== null && !n.master && n.masterId === primary.id))) continue;
      this.sendLight(l, shard ? 'publishshard' : 'publish', channel, message);
    }
  }

  /** A message without our view (PUBLISH carries only the header and its payload, as Redis's). */
  private sendLight(link: Link, t: MessageType, channel: string, message: string): void {
    if (!link.ready || link.socket.destroyed) return;
    const me = this.state.myself;
    const msg = { t, cur: this.state.currentEpoch, from: { id: me.id, ip: me.ip, port: me.port, cport: me.cport, master: me.master, masterId: me.masterId, epoch: me.configEpoch, slots: me.master ? this.mySlotsBitmap() : '' }, gossip: [], channel, message };
    link.socket.write(JSON.stringify(msg) + '\n', 'latin1');
    this.sent.set(t, (this.sent.get(t) ?? 0) + 1);
  }

  /** The per-tick failover work (after the links and failure detection). */
  failoverCron(): void {
    if (this.closed) return;
    this.updateMigrationTargets();
    this.manualFailoverCron();
    this.handleReplicaFailover();
    this.replicaMigrationCron();
  }

  /**
   * The MIGRATE_TO flags as Redis keeps them with each master's replica list: a master
   * that gains a replica becomes a target, one whose last replica left (followed another
   * master, or was forgotten) stops being one. A failed replica is still listed.
   */
  private updateMigrationTargets(): void {
    const st = this.state;
    for (const n of st.nodes.values()) {
      if (!n.master) {
        n.knownReplicas = 0;
        continue;
      }
      let k = 0;
      for (const r of st.nodes.values()) if (!r.master && r.masterId === n.id) k++;
      if (k > 0) n.migrateTo = true;
      else if (n.knownReplicas > 0) n.migrateTo = false;
      n.knownReplicas = k;
    }
  }

  /**
   * Redis's replica migration (clusterCron + clusterHandleSlaveMigration): when a master
   * serving slots is left without working replicas, a replica of a master with the most
   * working replicas (the one with the smallest id) migrates to it, if its own master keeps
   * more than cluster-migration-barrier working replicas and the orphan stays so for 5 s.
   */
  private replicaMigrationCron(): void {
    const st = this.state;
    const me = st.myself;
    if (me.master || !this.host.allowReplicaMigration()) return;
    let orphaned = 0;
    let maxReplicas = 0;
    let myReplicas = 0;
    for (const n of st.nodes.values()) {
      if (!n.master || n.fail) continue;
      const ok = st.workingReplicas(n);
      if (ok === 0 && n.slotCount > 0 && n.migrateTo) orphaned++;
      if (ok > maxReplicas) maxReplicas = ok;
      if (me.masterId === n.id) myReplicas = ok;
    }
    if (orphaned === 0 || maxReplicas < 2 || myReplicas !== maxReplicas) return;
    if (!st.ok) return;
    const myMaster = st.masterOf(me);
    if (myMaster === null) return;
    let okSiblings = 0;
    for (const r of st.replicasOf(myMaster)) if (!r.fail && !r.pfail) okSiblings++;
    if (okSiblings <= this.host.migrationBarrier()) return;
    let target: ClusterNode | null = null;
    let candidate = me;
    const now = Date.now();
    for (const n of st.nodes.values()) {
      const ok = n.master ? st.workingReplicas(n) : 0;
      const isOrphaned = n.master && !n.fail && n.migrateTo && ok === 0;
      if (isOrphaned) {
        if (target === null && n.slotCount > 0) target = n;
        if (n.orphanedTime === 0) n.orphanedTime = now;
      } else n.orphanedTime = 0;
      if (n.master && ok === maxReplicas) {
        for (const r of st.replicasOf(n)) if (r.id < candidate.id) candidate = r;
      }
    }
    if (target !== null && candidate === me && now - target.orphanedTime > MIGRATION_DELAY) {
      this.host.log('notice', `Migrating to orphaned master ${target.id}`);
      this.host.followNode(target);
    }
  }

  linkCount(): number {
    return this.outbound.size + this.inbound.size;
  }
}

export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
