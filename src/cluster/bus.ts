/**
 * The cluster bus between Mnemo nodes (port + 10000, or cluster-port). Only
 * Mnemo nodes talk to each other on it, so the protocol is our own: one JSON
 * object per line over TCP.
 *
 *   { t: 'meet'|'ping'|'pong'|'fail', cur, from: {id, ip, port, cport, master, masterId, epoch, slots}, gossip, failed? }
 *
 * Every node keeps one outbound link to each node it knows and answers the
 * PINGs (and MEETs) that arrive on inbound links with a PONG carrying its own
 * view. A message's `from` is the sender's own claim: its role, its config
 * epoch and the slots it serves; `gossip` lists the nodes it knows, so a node
 * introduced to one member meets all of them. Slot conflicts go to the higher
 * config epoch; two masters with the same config epoch are split by the node
 * with the greater id taking a new epoch (as Redis's collision rule).
 *
 * Failure detection is the simple form: a node whose PING has gone unanswered
 * for cluster-node-timeout is flagged PFAIL ("fail?"), and FAIL after twice
 * that; the node that decides so broadcasts a FAIL message, and any message
 * from the node clears both flags. (Redis requires FAIL reports from a
 * majority of masters; this does not.)
 */
import { createServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { ClusterNode, type ClusterState, randomNodeId } from './state.js';
import { CLUSTER_SLOTS } from './slot.js';

export type MessageType = 'meet' | 'ping' | 'pong' | 'fail';

/** Redis's numbers for the message types (CLUSTERMSG_TYPE_*), as DEBUG DROP-CLUSTER-PACKET-FILTER names them. */
export const MESSAGE_TYPE_NUMBER: Readonly<Record<MessageType, number>> = { ping: 0, pong: 1, meet: 2, fail: 3 };

interface SenderInfo {
  id: string;
  ip: string;
  port: number;
  cport: number;
  master: boolean;
  masterId: string | null;
  epoch: number;
  /** Flattened inclusive ranges: [start, end, start, end, ...]. */
  slots: number[];
}

interface GossipEntry {
  id: string;
  ip: string;
  port: number;
  cport: number;
}

interface Message {
  t: MessageType;
  cur: number;
  from: SenderInfo;
  gossip: GossipEntry[];
  failed?: string;
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
  private lastConnect = new Map<ClusterNode, number>();
  private lastPing = new Map<ClusterNode, number>();
  private broadcastScheduled = false;
  private closed = false;

  constructor(private readonly host: BusHost) {}

  private get state(): ClusterState {
    return this.host.state;
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
    const slots: number[] = [];
    if (me.master) for (const [a, b] of this.state.rangesOf(me)) slots.push(a, b);
    return { id: me.id, ip: me.ip, port: me.port, cport: me.cport, master: me.master, masterId: me.masterId, epoch: me.configEpoch, slots };
  }

  private gossip(except: ClusterNode | null): GossipEntry[] {
    const out: GossipEntry[] = [];
    for (const n of this.state.nodes.values()) {
      if (n.myself || n === except || n.handshake || n.ip === '') continue;
      out.push({ id: n.id, ip: n.ip, port: n.port, cport: n.cport });
    }
    return out;
  }

  private send(link: Link, t: MessageType, failed?: string): void {
    if (!link.ready || link.socket.destroyed) return;
    const msg: Message = { t, cur: this.state.currentEpoch, from: this.info(), gossip: this.gossip(link.node) };
    if (failed !== undefined) msg.failed = failed;
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
      sender = hs;
      st.changed();
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
    sender.pfail = false;
    if (sender.fail) {
      sender.fail = false;
      st.changed();
    }
    if (msg.t === 'pong') {
      sender.pongRecv = Date.now();
      sender.pingSent = 0;
    }
    this.apply(sender, msg, link);
    if (msg.t === 'ping' || msg.t === 'meet') this.send(link, 'pong');
    if (msg.t === 'fail' && msg.failed !== undefined) {
      const failed = st.nodes.get(msg.failed);
      if (failed !== undefined && !failed.myself && !failed.fail) {
        failed.fail = true;
        failed.failTime = Date.now();
        st.changed();
      }
    }
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
    if (f.master !== s.master || f.masterId !== s.masterId) {
      if (!f.master) for (let k = 0; k < CLUSTER_SLOTS; k++) if (st.slots[k] === s) st.setOwner(k, null);
      s.master = f.master;
      s.masterId = f.master ? null : f.masterId;
      changed = true;
      if (me.masterId === s.id || (!me.master && me.masterId === f.id)) this.host.roleChanged();
    }
    if (s.master) {
      const claimed = new Uint8Array(CLUSTER_SLOTS);
      for (let i = 0; i + 1 < f.slots.length; i += 2) for (let k = f.slots[i]; k <= f.slots[i + 1]; k++) claimed[k] = 1;
      for (let k = 0; k < CLUSTER_SLOTS; k++) {
        const owner = st.slots[k];
        if (claimed[k] === 1) {
          if (owner === s || st.importing.has(k)) continue;
          if (owner === null || owner.configEpoch < s.configEpoch) {
            st.setOwner(k, s);
            if (owner === me) st.migrating.delete(k);
            changed = true;
          }
        }
        // A slot the sender no longer claims stays its own in our view until another
        // master claims it, as Redis (only claimed slots update the configuration).
      }
      // Config epoch collision between two masters: the greater id takes a new epoch.
      if (me.master && s.configEpoch === me.configEpoch && me.id > s.id) {
        st.currentEpoch++;
        me.configEpoch = st.currentEpoch;
        changed = true;
      }
    }
    // Gossip: nodes the sender knows and we do not are met.
    if (Array.isArray(msg.gossip)) {
      for (const g of msg.gossip) {
        if (g.id === me.id || st.nodes.has(g.id)) continue;
        const until = st.forgotten.get(g.id);
        if (until !== undefined && until > Date.now()) continue;
        if (st.byAddress(g.ip, g.port) !== undefined) continue;
        this.meet(g.ip, g.port, g.cport);
      }
    }
    if (changed) st.changed();
  }

  /** Called every server cron tick: connections, PINGs, handshake timeouts, failure detection. */
  cron(): void {
    if (this.closed) return;
    const st = this.state;
    const now = Date.now();
    const timeout = this.host.nodeTimeout();
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
          n.pfail = true;
          st.changed();
        }
        if (waited > 2 * timeout && !n.fail) {
          n.pfail = false;
          n.fail = true;
          n.failTime = now;
          st.changed();
          for (const l of this.outbound.values()) if (l.node !== null && l.node !== n && !l.node.handshake) this.send(l, 'fail', n.id);
        }
        // A link that stays silent for half the timeout is dropped and reconnected.
        if (link !== undefined && link.ready && waited > timeout / 2) {
          this.dropNode(n);
          n.connected = false;
        }
      }
    }
  }

  linkCount(): number {
    return this.outbound.size + this.inbound.size;
  }
}

export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
