/**
 * Cluster mode (cluster-enabled yes): glues the node's state (state.ts), the
 * cluster-config-file (nodes-conf.ts), the bus (bus.ts) and the dispatcher's
 * routing check (routing.ts) to the server. installCluster sets
 * `server.cluster`; with cluster-enabled no it stays null and the dispatcher
 * pays one null check.
 */
import { resolve as resolvePath } from 'node:path';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import type { Command } from '../server/command-table.js';
import { ClusterState, type ClusterNode } from './state.js';
import { setFailoverPause } from '../server/pause.js';
import { log } from '../persistence/log.js';
import { strerror } from '../config/special.js';
import { isLoading } from '../persistence/index.js';
import { pubsubOf } from '../server/pubsub.js';
import { keyHashSlot } from './slot.js';
import { loadNodesConf, saveNodesConf } from './nodes-conf.js';
import { ClusterBus } from './bus.js';
import { blockedRedirect, routingRefusal, commandSlot, ERR_DOWN, ERR_DOWN_RO, type ClientFlags } from './routing.js';
import { replicationOf } from '../server/replication.js';
import { setInfoProvider } from '../observability/info.js';

/** What a running script's cluster check keeps (Redis's run_ctx flags and the caller's c->slot). */
export interface ScriptSlot {
  readonly allowCrossSlot: boolean;
  /** Slot of the declared keys (or of the first key touched), -1 while none. */
  clusterSlot: number;
}

export class Cluster {
  state: ClusterState;
  readonly bus: ClusterBus;
  readonly flags: ClientFlags = { readonly: new WeakSet(), asking: new WeakSet() };
  readonly configPath: string;
  private started = false;
  private saveScheduled = false;
  /** ip:port of the master our replication follows. */
  private following = '';
  /** The last error writing the cluster-config-file (CLUSTER SAVECONFIG reports it). */
  saveError: string | null = null;

  constructor(readonly server: Server) {
    const cfg = server.config;
    this.configPath = resolvePath(String(cfg.get('dir') ?? process.cwd()), cfg.get('cluster-config-file') ?? 'nodes.conf');
    this.state = loadNodesConf(this.configPath) ?? new ClusterState();
    this.state.onChange = () => this.changed();
    this.state.onSlotRemoved = (slot) => this.slotRemoved(slot);
    this.bus = new ClusterBus(this);
    // Redis's clusterUpdateMyselfHostname: the configured hostname is ours at once.
    this.state.myself.hostname = cfg.get('cluster-announce-hostname') ?? '';
    cfg.onChange('cluster-announce-hostname', (_name, value) => {
      this.state.myself.hostname = value;
      this.state.changed();
    });
    for (const name of ['cluster-announce-port', 'cluster-announce-bus-port', 'cluster-announce-tls-port']) {
      cfg.onChange(name, () => {
        if (this.started) this.deriveAnnouncedPorts();
      });
    }
  }

  nodeTimeout(): number {
    return this.server.config.getNumber('cluster-node-timeout');
  }

  replOffset(): number {
    const m = replicationOf(this.server);
    // Redis's replicationGetSlaveOffset: 0 while a full sync transfers and loads (no master
    // client, the cached one was discarded at FULLRESYNC).
    if (m.link !== null) return m.link.state === 'sync' ? 0 : Math.max(m.link.offset, 0);
    m.drain();
    return m.offset;
  }

  dataAge(): number {
    const link = replicationOf(this.server).link;
    if (link === null) return 0;
    const now = this.server.clock.now();
    if (link.state === 'connected') return link.lastIo < 0 ? 0 : now - link.lastIo;
    return link.downSince < 0 ? 0 : now - link.downSince;
  }

  replicaValidityFactor(): number {
    return this.server.config.getNumber('cluster-replica-validity-factor');
  }

  replicaNoFailover(): boolean {
    return this.server.config.getBool('cluster-replica-no-failover');
  }

  allowReplicaMigration(): boolean {
    return this.server.config.getBool('cluster-allow-replica-migration');
  }

  migrationBarrier(): number {
    return this.server.config.getNumber('cluster-migration-barrier');
  }

  linkSendBufferLimit(): number {
    return this.server.config.getNumber('cluster-link-sendbuf-limit');
  }

  replPingPeriod(): number {
    return this.server.config.getNumber('repl-ping-replica-period');
  }

  /** We won an election or took over: stop replicating, serve the slots. */
  promoted(): void {
    this.stopFollowing();
    this.updateState();
  }

  followNode(n: ClusterNode): void {
    this.becomeReplicaOf(n);
  }

  /** Turns this node into a replica of n (Redis's clusterSetMaster): no slot stays migrating or importing. */
  becomeReplicaOf(n: ClusterNode): void {
    const st = this.state;
    this.bus.resetManualFailover();
    st.migrating.clear();
    st.importing.clear();
    st.myself.master = false;
    st.myself.masterId = n.id;
    this.roleChanged();
    this.updateState();
    st.changed();
  }

  pauseWrites(on: boolean): void {
    setFailoverPause(this.server, on);
  }

  log(level: 'warning' | 'notice' | 'verbose', text: string): void {
    log(this.server, level, text);
  }

  deliverPublish(shard: boolean, channel: string, message: string): void {
    const ps = pubsubOf(this.server);
    if (shard) ps.spublish(channel, message);
    else ps.publish(channel, message);
  }

  slotRemoved(slot: number): void {
    pubsubOf(this.server).unsubscribeShardSlot(slot, keyHashSlot);
  }

  dropFilter(): number {
    return this.server.clusterDropPacketFilter;
  }

  endpointType(): number {
    return this.server.config.getNumber('cluster-preferred-endpoint-type');
  }

  allowPubsubshardWhenDown(): boolean {
    return this.server.config.getBool('cluster-allow-pubsubshard-when-down');
  }

  allowReadsWhenDown(): boolean {
    return this.server.config.getBool('cluster-allow-reads-when-down');
  }

  /** The bus port for a node serving clients on `port` (cluster-port, or port + 10000). */
  busPort(port: number): number {
    return this.server.config.getNumber('cluster-port') || port + 10000;
  }

  /**
   * Binds the bus before the server serves anything, as Redis's clusterInit: the
   * caller (mnemo-server) exits when this fails, so a launcher sees the node down
   * and can retry on other ports, instead of a node that serves without a bus.
   */
  async listenBus(port: number, host: string): Promise<void> {
    try {
      await this.bus.listen(this.busPort(port), host);
    } catch (e) {
      // A host without IPv6: every IPv4 interface instead, as the client listener does.
      const code = (e as NodeJS.ErrnoException).code;
      if (host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw e;
      await this.bus.listen(this.busPort(port), '0.0.0.0');
    }
  }

  /**
   * Redis's deriveAnnouncedPorts: the port and bus port we announce are the listening ones
   * unless cluster-announce-port / cluster-announce-bus-port say otherwise (no TLS, so
   * cluster-announce-tls-port is not used). CONFIG SET of either applies at once, and the
   * next ping carries it to the other nodes, as clusterUpdateMyselfAnnouncedPorts.
   */
  private deriveAnnouncedPorts(): void {
    const cfg = this.server.config;
    const me = this.state.myself;
    me.port = cfg.getNumber('cluster-announce-port') || this.server.port;
    me.cport = cfg.getNumber('cluster-announce-bus-port') || this.busPort(this.server.port);
  }

  /** Once the server listens: our address, the bus listener, replication of a configured master. */
  ensureStarted(): void {
    if (this.started || this.server.port === 0) return;
    this.started = true;
    const cfg = this.server.config;
    const me = this.state.myself;
    this.deriveAnnouncedPorts();
    const announceIp = cfg.get('cluster-announce-ip') ?? '';
    if (announceIp !== '') me.ip = announceIp;
    if (!this.bus.listening) {
      const busPort = this.busPort(this.server.port);
      this.bus.listen(busPort, this.server.host).catch((e: Error) => {
        process.stderr.write(`Could not bind the cluster bus port ${busPort}: ${e.message}\n`);
      });
    }
    this.updateState();
    this.saveNow();
    this.roleChanged();
  }

  /** A change that other nodes and the config file must see. */
  changed(): void {
    this.bus.broadcastSoon();
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    setImmediate(() => {
      this.saveScheduled = false;
      this.saveNow();
    });
  }

  saveNow(): boolean {
    try {
      saveNodesConf(this.state, this.configPath);
      this.saveError = null;
      return true;
    } catch (e) {
      this.saveError = (e as Error).message;
      return false;
    }
  }

  updateState(): void {
    this.state.updateState(this.server.config.getBool('cluster-require-full-coverage'));
  }

  /** Replicas follow their master with the server's replication (REPLICAOF's machinery). */
  roleChanged(): void {
    const me = this.state.myself;
    if (me.master || me.masterId === null) {
      this.following = '';
      return;
    }
    // Not while the dataset loads (the AOF replayed after a snapshot from the master would apply
    // its writes twice): the cron tries again, as Redis connects to its master after loading.
    if (isLoading(this.server)) return;
    const m = this.state.nodes.get(me.masterId);
    if (m === undefined || m.ip === '' || m.port === 0) return;
    const target = `${m.ip}:${m.port}`;
    if (target === this.following) return;
    this.following = target;
    replicationOf(this.server).replicaOf(m.ip, m.port);
  }

  /** Stops replicating (CLUSTER RESET on a replica, a replica taking over). */
  stopFollowing(): void {
    this.following = '';
    replicationOf(this.server).promote();
  }

  cron(): void {
    this.ensureStarted();
    // Redis's clusterUpdateMyselfFlags: the nofailover flag follows the config.
    const me = this.state.myself;
    const nofailover = this.replicaNoFailover();
    if (me.nofailover !== nofailover) {
      me.nofailover = nofailover;
      this.state.changed();
    }
    this.bus.cron();
    this.updateState();
    this.bus.failoverCron();
    if (this.following === '' && !this.state.myself.master) this.roleChanged();
    this.redirectBlockedClients();
  }

  /** Blocked clients whose slots went elsewhere get -MOVED (or -CLUSTERDOWN) now. */
  private redirectBlockedClients(): void {
    const blocking = this.server.blocking;
    if (blocking.count === 0) return;
    for (const c of this.server.clients.values()) {
      const b = c.blocked;
      if (b === null || b.keys.length === 0) continue;
      const err = blockedRedirect(this, c, b.keys, b.cmd);
      if (err !== null) blocking.failBlocked(c, err);
    }
  }

  /**
   * The dispatcher's check: null to run the command here, else the error to
   * reply. '' means the reply was written already (a refused EXEC ends the
   * transaction and answers the plain error, as Redis).
   */
  refusal(c: Client, cmd: Command, argv: string[]): string | null {
    const err = routingRefusal(this, c, cmd, argv);
    if (err !== null && cmd.fullName === 'exec' && c.multi !== null) {
      this.server.watches.discard(c);
      c.addError(err);
      return '';
    }
    return err;
  }

  /**
   * A command a script calls (Redis's scriptVerifyClusterState): it must be
   * served here, judged with the calling client's READONLY/ASKING state.
   * Returns the script error text, or null.
   */
  scriptRefusal(caller: Client, cmd: Command, argv: string[], run: ScriptSlot): string | null {
    if (caller.isMaster || caller.socket === null) return null;
    const err = routingRefusal(this, caller, cmd, argv);
    if (err === ERR_DOWN) return 'Script attempted to execute a command while the cluster is down';
    if (err === ERR_DOWN_RO) return 'Script attempted to execute a write command while the cluster is down and readonly';
    if (err !== null) return 'Script attempted to access a non local key in a cluster node';
    // Keys the script did not declare must hash to the slot of the declared ones (or of the
    // first key it touched), unless it runs without a shebang or with allow-cross-slot-keys.
    if (run.allowCrossSlot) return null;
    const slot = commandSlot(cmd, argv);
    if (slot === -1) return null;
    if (run.clusterSlot === -1) run.clusterSlot = slot;
    else if (run.clusterSlot !== slot) return 'Script attempted to access keys that do not hash to the same slot';
    return null;
  }
}

export function installCluster(server: Server): Cluster | null {
  if (!server.config.getBool('cluster-enabled')) return null;
  const cluster = new Cluster(server);
  server.cronHooks.push(() => cluster.cron());
  server.closeHooks.push(() => cluster.bus.close());
  // ASKING lasts for one command.
  const clearAsking = (c: Client, cmd: Command | null): void => {
    if (cmd === null || cmd.fullName !== 'asking') cluster.flags.asking.delete(c);
  };
  server.afterCallHooks.push((c, cmd) => clearAsking(c, cmd));
  server.rejectHooks.push(clearAsking);
  server.resetHooks.push((c) => {
    cluster.flags.readonly.delete(c);
    cluster.flags.asking.delete(c);
  });
  setInfoProvider(server, 'cluster', () => [['cluster_enabled', 1]]);
  return cluster;
}
