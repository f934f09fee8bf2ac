/**
 * One node's view of the cluster: the node table, the 16384-slot map, the
 * epochs and the slots being migrated or imported. Pure data and the rules
 * that change it; the bus (bus.ts) feeds it what other nodes say, the
 * commands (commands/cluster.ts) change it on request, and nodes-conf.ts
 * writes it to the cluster-config-file.
 */
import { randomBytes } from 'node:crypto';
import { CLUSTER_SLOTS } from './slot.js';

export function randomNodeId(): string {
  return randomBytes(20).toString('hex');
}

export class ClusterNode {
  /** Our own node. */
  myself = false;
  /** Master (true) or replica (false). */
  master = true;
  /** Created by MEET or gossip, not yet answered: the id is a placeholder. */
  handshake = false;
  /** Not answering for cluster-node-timeout (PFAIL, "fail?"). */
  pfail = false;
  /** cluster-announce-hostname as the node announces it ('' for none). */
  hostname = '';
  /** Will never fail over its master (cluster-replica-no-failover, as it announces). */
  nofailover = false;
  /** Considered failed (FAIL). */
  fail = false;
  failTime = 0;
  /** The master's id for a replica. */
  masterId: string | null = null;
  /** When the pending PING was sent (0: none pending), and when the last PONG arrived (ms). */
  pingSent = 0;
  pongRecv = 0;
  configEpoch = 0;
  /** Its replication offset, as its last message said (a replica's stays 0 until it synced). */
  replOffset = 0;
  /** Whether our outbound bus link to it is connected (NODES link-state). */
  connected = false;
  /** Number of slots it owns in our map. */
  slotCount = 0;
  /** When a message from it last arrived (ms). */
  dataReceived = 0;
  /** The last slot claim applied from it (with the epochs and slot map it met), to skip repeats. */
  lastClaim = '';
  /**
   * Redis's CLUSTER_NODE_MIGRATE_TO: a master that had replicas (or is a replica that
   * took over, or got its first slot while other masters had replicas), so a valid
   * target for replica migration once it has no working replica.
   */
  migrateTo = false;
  /** Replicas it had at the last replica-migration check (the flag goes when this drops to 0). */
  knownReplicas = 0;
  /** Since when it is an orphaned master (ms, 0: not orphaned). */
  orphanedTime = 0;
  /** Failure reports: master id -> when it last reported this node PFAIL or FAIL (ms). */
  readonly failReports = new Map<string, number>();
  readonly createdAt = Date.now();

  constructor(
    public id: string,
    public ip: string,
    public port: number,
    public cport: number,
  ) {}

  get flagsText(): string {
    const f: string[] = [];
    if (this.myself) f.push('myself');
    f.push(this.master ? 'master' : 'slave');
    if (this.pfail) f.push('fail?');
    if (this.fail) f.push('fail');
    if (this.handshake) f.push('handshake');
    if (this.ip === '' && !this.myself) f.push('noaddr');
    if (this.nofailover) f.push('nofailover');
    return f.join(',');
  }
}

/** cluster-preferred-endpoint-type values, as the config's enum numbers them. */
export const ENDPOINT_IP = 0;
export const ENDPOINT_HOSTNAME = 1;
export const ENDPOINT_UNKNOWN = 2;

/** Redis's getPreferredEndpoint: what MOVED/ASK and CLUSTER SHARDS name a node by. */
export function preferredEndpoint(n: ClusterNode, type: number): string {
  if (type === ENDPOINT_IP) return n.ip;
  if (type === ENDPOINT_HOSTNAME) return n.hostname !== '' ? n.hostname : '?';
  return '';
}

export class ClusterState {
  myself: ClusterNode;
  /** Known nodes by id, in the order they were learnt. */
  readonly nodes = new Map<string, ClusterNode>();
  /** Owner of each slot, or null. */
  readonly slots: Array<ClusterNode | null> = new Array(CLUSTER_SLOTS).fill(null);
  readonly migrating = new Map<number, ClusterNode>();
  readonly importing = new Map<number, ClusterNode>();
  currentEpoch = 0;
  lastVoteEpoch = 0;
  /** Bumped on every slot owner change. */
  slotsVersion = 0;
  /** cluster_state: recomputed by updateState. */
  ok = false;
  /** Nodes removed by CLUSTER FORGET: not re-added from gossip until the time (ms) passes. */
  readonly forgotten = new Map<string, number>();
  /** A slot served by our shard changed owner (Redis's clusterDelSlot: shard channel subscribers go). */
  onSlotRemoved: (slot: number) => void = () => {};
  /** Called after every change that must reach the cluster-config-file. */
  onChange: () => void = () => {};

  constructor(id: string = randomNodeId()) {
    this.myself = new ClusterNode(id, '', 0, 0);
    this.myself.myself = true;
    this.nodes.set(id, this.myself);
  }

  changed(): void {
    this.onChange();
  }

  addNode(n: ClusterNode): void {
    this.nodes.set(n.id, n);
  }

  /** Removes a node: its slots become unassigned, migrations to/from it stop. */
  removeNode(n: ClusterNode): void {
    for (let s = 0; s < CLUSTER_SLOTS; s++) if (this.slots[s] === n) this.setOwner(s, null);
    for (const [s, m] of this.migrating) if (m === n) this.migrating.delete(s);
    for (const [s, m] of this.importing) if (m === n) this.importing.delete(s);
    this.nodes.delete(n.id);
  }

  /** A handshake node learnt its real id. */
  rename(n: ClusterNode, id: string): void {
    this.nodes.delete(n.id);
    n.id = id;
    this.nodes.set(id, n);
  }

  setOwner(slot: number, n: ClusterNode | null): void {
    const old = this.slots[slot];
    if (old === n) return;
    this.slotsVersion++;
    // The slot leaves our shard (we served it, or our master did): its shard channels go.
    const me = this.myself;
    if (old !== null && (old === me || (!me.master && me.masterId === old.id))) this.onSlotRemoved(slot);
    if (old !== null) old.slotCount--;
    if (n !== null) {
      n.slotCount++;
      // Redis's clusterNodeSetSlotBit: a master's first slot makes it a migration target
      // when some master has replicas.
      if (n.slotCount === 1 && !n.migrateTo && this.mastersHaveReplicas()) n.migrateTo = true;
    }
    this.slots[slot] = n;
  }

  /** Contiguous slot ranges owned by `n`. */
  rangesOf(n: ClusterNode): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (n.slotCount === 0) return out;
    let start = -1;
    for (let s = 0; s <= CLUSTER_SLOTS; s++) {
      const mine = s < CLUSTER_SLOTS && this.slots[s] === n;
      if (mine && start < 0) start = s;
      else if (!mine && start >= 0) {
        out.push([start, s - 1]);
        start = -1;
      }
    }
    return out;
  }

  replicasOf(n: ClusterNode): ClusterNode[] {
    const out: ClusterNode[] = [];
    for (const r of this.nodes.values()) if (!r.master && r.masterId === n.id) out.push(r);
    return out;
  }

  /** Whether any master has a replica (Redis's clusterMastersHaveSlaves). */
  mastersHaveReplicas(): boolean {
    for (const r of this.nodes.values()) {
      if (r.master || r.masterId === null) continue;
      const m = this.nodes.get(r.masterId);
      if (m !== undefined && m.master) return true;
    }
    return false;
  }

  /** Replicas of n not flagged FAIL (Redis's clusterCountNonFailingSlaves). */
  workingReplicas(n: ClusterNode): number {
    let k = 0;
    for (const r of this.nodes.values()) if (!r.master && r.masterId === n.id && !r.fail) k++;
    return k;
  }

  masterOf(n: ClusterNode): ClusterNode | null {
    return n.masterId === null ? null : this.nodes.get(n.masterId) ?? null;
  }

  /** Node lookup by the address a client would use. */
  byAddress(ip: string, port: number): ClusterNode | undefined {
    for (const n of this.nodes.values()) if (n.ip === ip && n.port === port) return n;
    return undefined;
  }

  /** Masters that serve at least one slot (cluster_size). */
  size(): number {
    let k = 0;
    for (const n of this.nodes.values()) if (n.master && n.slotCount > 0) k++;
    return k;
  }

  /**
   * cluster_state: ok when every slot has an owner that is not failing (with
   * cluster-require-full-coverage yes) and a majority of the slot-serving
   * masters is reachable from here.
   */
  updateState(requireFullCoverage: boolean): boolean {
    let ok = true;
    if (requireFullCoverage) {
      for (let s = 0; s < CLUSTER_SLOTS; s++) {
        const n = this.slots[s];
        if (n === null || n.fail) {
          ok = false;
          break;
        }
      }
    }
    if (ok) {
      let size = 0;
      let reachable = 0;
      for (const n of this.nodes.values()) {
        if (!n.master || n.slotCount === 0) continue;
        size++;
        if (!n.pfail && !n.fail) reachable++;
      }
      if (size > 0 && reachable < Math.floor(size / 2) + 1) ok = false;
    }
    this.ok = ok;
    return ok;
  }

  /** The highest config epoch known, or currentEpoch if greater (Redis's clusterGetMaxEpoch). */
  maxConfigEpoch(): number {
    let max = this.currentEpoch;
    for (const n of this.nodes.values()) if (n.configEpoch > max) max = n.configEpoch;
    return max;
  }

  /**
   * CLUSTER BUMPEPOCH: a new config epoch without agreement from the others,
   * unless ours is already the highest and non-zero. Returns whether it bumped.
   */
  bumpEpoch(): boolean {
    const me = this.myself;
    if (me.configEpoch !== 0 && me.configEpoch === this.maxConfigEpoch()) return false;
    this.currentEpoch++;
    me.configEpoch = this.currentEpoch;
    this.changed();
    return true;
  }

  /** Slot counts by owner health, for CLUSTER INFO. */
  slotStats(): { assigned: number; ok: number; pfail: number; fail: number } {
    const st = { assigned: 0, ok: 0, pfail: 0, fail: 0 };
    for (let s = 0; s < CLUSTER_SLOTS; s++) {
      const n = this.slots[s];
      if (n === null) continue;
      st.assigned++;
      if (n.fail) st.fail++;
      else if (n.pfail) st.pfail++;
      else st.ok++;
    }
    return st;
  }
}
