/**
 * The cluster command group. With cluster-enabled no (server.cluster null),
 * CLUSTER and every one of its subcommands, READONLY, READWRITE and ASKING
 * reply "ERR This instance has cluster support disabled" once the command
 * table's arity checks passed, as a standalone Redis 7.0. With cluster-enabled
 * yes they act on the node's cluster state (src/cluster/), with Redis 7.0.15's
 * replies and error texts (checked against real cluster nodes: see
 * test/e2e/cluster.test.ts).
 *
 * RESTORE-ASKING is RESTORE under another name: its ASKING flag lets the
 * dispatcher run it on a slot being imported; otherwise it behaves exactly
 * like RESTORE (same handler, same checks and replies).
 */
import { isIP } from 'node:net';
import type { CommandImpl, Handler } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { commands as persistence } from './persistence.js';
import { replyHelp } from './client.js';
import { ERR_NOT_INT, ERR_SYNTAX } from './errors.js';
import { parseInt64 } from '../util/numbers.js';
import type { Cluster } from '../cluster/index.js';
import { ClusterState, ENDPOINT_HOSTNAME, ENDPOINT_IP, preferredEndpoint, type ClusterNode } from '../cluster/state.js';
import { CLUSTER_SLOTS, keyHashSlot } from '../cluster/slot.js';
import { nodeLine, nodesText } from '../cluster/nodes-conf.js';
import { MESSAGE_TYPES, type Link } from '../cluster/bus.js';
import { replicationOf } from '../server/replication.js';
import { log } from '../persistence/log.js';

const ERR_CLUSTER_DISABLED = 'ERR This instance has cluster support disabled';
const ERR_BAD_SLOT = 'ERR Invalid or out of range slot';

function clusterDisabled(c: Client): void {
  c.addError(ERR_CLUSTER_DISABLED);
}

type ClusterHandler = (c: Client, cl: Cluster, argv: string[]) => void;

/** A handler that runs `fn` in cluster mode and answers the standalone error otherwise. */
function inCluster(fn: ClusterHandler): Handler {
  return (c, argv) => {
    const cl = c.server.cluster;
    if (cl === null) {
      clusterDisabled(c);
      return;
    }
    cl.ensureStarted();
    fn(c, cl, argv);
  };
}

function parseSlot(s: string): number | null {
  const n = parseInt64(s);
  return n === null || n < 0 || n >= CLUSTER_SLOTS ? null : n;
}

function keysInSlot(c: Client, slot: number, max = Infinity): string[] {
  // No per-slot index: this walks db 0's keys (O(N) in the keyspace).
  const out: string[] = [];
  if (max <= 0) return out;
  const db = c.server.dbs[0];
  for (const key of db.keys.keys) {
    if (keyHashSlot(key) === slot) {
      out.push(key);
      if (out.length >= max) break;
    }
  }
  return out;
}

function dbSize(c: Client): number {
  return c.server.dbs[0].size;
}

function unknownNode(c: Client, id: string): void {
  c.addError(`ERR Unknown node ${id}`);
}

// ---- introspection ------------------------------------------------------------

function info(c: Client, cl: Cluster): void {
  cl.updateState();
  const st = cl.state;
  const slots = st.slotStats();
  const lines = [
    `cluster_state:${st.ok ? 'ok' : 'fail'}`,
    `cluster_slots_assigned:${slots.assigned}`,
    `cluster_slots_ok:${slots.ok}`,
    `cluster_slots_pfail:${slots.pfail}`,
    `cluster_slots_fail:${slots.fail}`,
    `cluster_known_nodes:${st.nodes.size}`,
    `cluster_size:${st.size()}`,
    `cluster_current_epoch:${st.currentEpoch}`,
    `cluster_my_epoch:${st.myself.master ? st.myself.configEpoch : st.masterOf(st.myself)?.configEpoch ?? 0}`,
  ];
  let sent = 0;
  let received = 0;
  for (const t of MESSAGE_TYPES) {
    const n = cl.bus.sent.get(t) ?? 0;
    if (n > 0) lines.push(`cluster_stats_messages_${t}_sent:${n}`);
    sent += n;
  }
  lines.push(`cluster_stats_messages_sent:${sent}`);
  for (const t of MESSAGE_TYPES) {
    const n = cl.bus.received.get(t) ?? 0;
    if (n > 0) lines.push(`cluster_stats_messages_${t}_received:${n}`);
    received += n;
  }
  lines.push(`cluster_stats_messages_received:${received}`, `total_cluster_links_buffer_limit_exceeded:${cl.bus.linksBufferLimitExceeded}`);
  c.addVerbatim(lines.join('\r\n') + '\r\n');
}

function slotsReply(c: Client, cl: Cluster): void {
  const st = cl.state;
  const type = cl.endpointType();
  const ranges: Array<[number, number, ClusterNode]> = [];
  let start = -1;
  for (let s = 0; s <= CLUSTER_SLOTS; s++) {
    const n = s < CLUSTER_SLOTS ? st.slots[s] : null;
    const prev = start >= 0 ? st.slots[start] : null;
    if (start >= 0 && n !== prev) {
      ranges.push([start, s - 1, prev!]);
      start = -1;
    }
    if (n !== null && start < 0) start = s;
  }
  c.addArrayLen(ranges.length);
  for (const [a, b, n] of ranges) {
    // Redis's isReplicaAvailable: not failed, and it has a replication offset (it synced and
    // the stream moved); a node's own offset is read locally.
    const replicas = st.replicasOf(n).filter((r) => !r.fail && r.ip !== '' && (r.myself ? cl.replOffset() : r.replOffset) !== 0);
    c.addArrayLen(3 + replicas.length);
    c.addInt(a);
    c.addInt(b);
    for (const node of [n, ...replicas]) nodeForSlots(c, node, type);
  }
}

/**
 * One node of a CLUSTER SLOTS range (Redis's addNodeToNodeReply): the preferred endpoint
 * (unknown-endpoint: a null), port, id, then the other known endpoints: the ip unless it
 * came first, the hostname (when set) unless it came first.
 */
function nodeForSlots(c: Client, n: ClusterNode, type: number): void {
  c.addArrayLen(4);
  if (type === ENDPOINT_IP) c.addBulk(n.ip);
  else if (type === ENDPOINT_HOSTNAME) c.addBulk(n.hostname !== '' ? n.hostname : '?');
  else c.addNull();
  c.addInt(n.port);
  c.addBulk(n.id);
  const ip = type !== ENDPOINT_IP;
  const hostname = type !== ENDPOINT_HOSTNAME && n.hostname !== '';
  c.addMapLen((ip ? 1 : 0) + (hostname ? 1 : 0));
  if (ip) {
    c.addBulk('ip');
    c.addBulk(n.ip);
  }
  if (hostname) {
    c.addBulk('hostname');
    c.addBulk(n.hostname);
  }
}

function shards(c: Client, cl: Cluster): void {
  const st = cl.state;
  const type = cl.endpointType();
  const masters = [...st.nodes.values()].filter((n) => n.master);
  c.addArrayLen(masters.length);
  for (const m of masters) {
    c.addMapLen(2);
    c.addBulk('slots');
    const ranges = st.rangesOf(m);
    c.addArrayLen(ranges.length * 2);
    for (const [a, b] of ranges) {
      c.addInt(a);
      c.addInt(b);
    }
    c.addBulk('nodes');
    const members = [m, ...st.replicasOf(m)];
    c.addArrayLen(members.length);
    for (const n of members) {
      // Redis's addNodeDetailsToShardReply: a node's offset as its messages said (our own
      // read locally); a replica still at offset 0 is loading.
      const offset = n.myself ? cl.replOffset() : n.replOffset;
      c.addMapLen(n.hostname !== '' ? 8 : 7);
      c.addBulk('id');
      c.addBulk(n.id);
      c.addBulk('port');
      c.addInt(n.port);
      c.addBulk('ip');
      c.addBulk(n.ip);
      c.addBulk('endpoint');
      c.addBulk(preferredEndpoint(n, type));
      if (n.hostname !== '') {
        c.addBulk('hostname');
        c.addBulk(n.hostname);
      }
      c.addBulk('role');
      c.addBulk(n.master ? 'master' : 'replica');
      c.addBulk('replication-offset');
      c.addInt(offset);
      c.addBulk('health');
      c.addBulk(n.fail ? 'fail' : !n.master && offset === 0 ? 'loading' : 'online');
    }
  }
}

/**
 * Redis's addReplyClusterLinksDescription: node by node, its outbound link then its inbound
 * one. `events` is Redis's connection handlers: always `r`, plus `w` while unsent bytes wait
 * (Redis installs the write handler only then), so an idle link reads `r` either way.
 */
function links(c: Client, cl: Cluster): void {
  const all: Array<readonly ['to' | 'from', Link]> = [];
  for (const n of cl.state.nodes.values()) {
    if (n.myself || n.handshake) continue;
    const out = cl.bus.outbound.get(n);
    if (out !== undefined && out.node === n) all.push(['to', out]);
    for (const l of cl.bus.inbound) if (l.node === n) all.push(['from', l]);
  }
  c.addArrayLen(all.length);
  for (const [dir, l] of all) {
    const pending = l.socket.writableLength;
    c.addMapLen(6);
    c.addBulk('direction');
    c.addBulk(dir);
    c.addBulk('node');
    c.addBulk(l.node!.id);
    c.addBulk('create-time');
    c.addInt(l.createTime);
    c.addBulk('events');
    c.addBulk(pending > 0 ? 'rw' : 'r');
    c.addBulk('send-buffer-allocated');
    c.addInt(pending);
    c.addBulk('send-buffer-used');
    c.addInt(pending);
  }
}

// ---- slots -----------------------------------------------------------------------

/** ADDSLOTS/DELSLOTS and their RANGE forms: every slot is checked before any changes. */
function changeSlots(c: Client, cl: Cluster, slots: number[], del: boolean): void {
  const st = cl.state;
  const seen = new Uint8Array(CLUSTER_SLOTS);
  for (const s of slots) {
    if (del && st.slots[s] === null) {
      c.addError(`ERR Slot ${s} is already unassigned`);
      return;
    }
    if (!del && st.slots[s] !== null) {
      c.addError(`ERR Slot ${s} is already busy`);
      return;
    }
    if (seen[s]++ === 1) {
      c.addError(`ERR Slot ${s} specified multiple times`);
      return;
    }
  }
  for (const s of slots) {
    st.importing.delete(s);
    if (del) st.migrating.delete(s);
    st.setOwner(s, del ? null : st.myself);
  }
  cl.updateState();
  st.changed();
  c.addOK();
}

function slotsArgs(c: Client, argv: string[]): number[] | null {
  const out: number[] = [];
  for (let i = 2; i < argv.length; i++) {
    const s = parseSlot(argv[i]);
    if (s === null) {
      c.addError(ERR_BAD_SLOT);
      return null;
    }
    out.push(s);
  }
  return out;
}

function rangeArgs(c: Client, argv: string[]): number[] | null {
  if (argv.length % 2 === 1) {
    c.addError(`ERR wrong number of arguments for 'cluster|${argv[1].toLowerCase()}' command`);
    return null;
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 2; i < argv.length; i += 2) {
    const a = parseSlot(argv[i]);
    const b = a === null ? null : parseSlot(argv[i + 1]);
    if (a === null || b === null) {
      c.addError(ERR_BAD_SLOT);
      return null;
    }
    if (a > b) {
      c.addError(`ERR start slot number ${a} is greater than end slot number ${b}`);
      return null;
    }
    pairs.push([a, b]);
  }
  const out: number[] = [];
  for (const [a, b] of pairs) for (let s = a; s <= b; s++) out.push(s);
  return out;
}

const addslots: ClusterHandler = (c, cl, argv) => {
  const s = slotsArgs(c, argv);
  if (s !== null) changeSlots(c, cl, s, false);
};
const delslots: ClusterHandler = (c, cl, argv) => {
  const s = slotsArgs(c, argv);
  if (s !== null) changeSlots(c, cl, s, true);
};
const addslotsrange: ClusterHandler = (c, cl, argv) => {
  const s = rangeArgs(c, argv);
  if (s !== null) changeSlots(c, cl, s, false);
};
const delslotsrange: ClusterHandler = (c, cl, argv) => {
  const s = rangeArgs(c, argv);
  if (s !== null) changeSlots(c, cl, s, true);
};

const flushslots: ClusterHandler = (c, cl) => {
  if (dbSize(c) !== 0) {
    c.addError('ERR DB must be empty to perform CLUSTER FLUSHSLOTS.');
    return;
  }
  const st = cl.state;
  for (let s = 0; s < CLUSTER_SLOTS; s++) if (st.slots[s] === st.myself) st.setOwner(s, null);
  cl.updateState();
  st.changed();
  c.addOK();
};

const setslot: ClusterHandler = (c, cl, argv) => {
  const st = cl.state;
  const me = st.myself;
  if (!me.master) {
    c.addError('ERR Please use SETSLOT only with masters.');
    return;
  }
  const slot = parseSlot(argv[2]);
  if (slot === null) {
    c.addError(ERR_BAD_SLOT);
    return;
  }
  const action = argv[3].toLowerCase();
  const withNode = action === 'migrating' || action === 'importing' || action === 'node';
  if (!((withNode && argv.length === 5) || (action === 'stable' && argv.length === 4))) {
    c.addError('ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP');
    return;
  }
  if (action === 'stable') {
    st.migrating.delete(slot);
    st.importing.delete(slot);
    st.changed();
    c.addOK();
    return;
  }
  const n = st.nodes.get(argv[4]);
  if (action === 'migrating') {
    if (st.slots[slot] !== me) return void c.addError(`ERR I'm not the owner of hash slot ${slot}`);
    if (n === undefined) return void c.addError(`ERR I don't know about node ${argv[4]}`);
    if (!n.master) return void c.addError('ERR Target node is not a master');
    st.migrating.set(slot, n);
  } else if (action === 'importing') {
    if (st.slots[slot] === me) return void c.addError(`ERR I'm already the owner of hash slot ${slot}`);
    if (n === undefined) return void c.addError(`ERR I don't know about node ${argv[4]}`);
    if (!n.master) return void c.addError('ERR Target node is not a master');
    st.importing.set(slot, n);
  } else {
    if (n === undefined) return void unknownNode(c, argv[4]);
    if (!n.master) return void c.addError('ERR Target node is not a master');
    if (st.slots[slot] === me && n !== me && keysInSlot(c, slot, 1).length > 0) {
      c.addError(`ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`);
      return;
    }
    if (n !== me) st.migrating.delete(slot);
    if (n === me && st.importing.has(slot)) {
      // The import is complete: a new config epoch makes our ownership win everywhere.
      st.importing.delete(slot);
      st.bumpEpoch();
    }
    const wasMine = st.slots[slot] === me;
    st.setOwner(slot, n);
    cl.updateState();
    // A master left without slots follows the node that took its last one, as Redis.
    if (wasMine && n !== me && me.slotCount === 0 && c.server.config.getBool('cluster-allow-replica-migration')) {
      log(c.server, 'warning', `Configuration change detected. Reconfiguring myself as a replica of ${n.id}`);
      becomeReplicaOf(cl, n);
      c.addOK();
      return;
    }
  }
  st.changed();
  c.addOK();
};

const countkeysinslot: ClusterHandler = (c, _cl, argv) => {
  const n = parseInt64(argv[2]);
  if (n === null) return void c.addError(ERR_NOT_INT);
  if (n < 0 || n >= CLUSTER_SLOTS) return void c.addError('ERR Invalid slot');
  c.addInt(keysInSlot(c, n).length);
};

const getkeysinslot: ClusterHandler = (c, _cl, argv) => {
  const slot = parseInt64(argv[2]);
  const count = slot === null ? null : parseInt64(argv[3]);
  if (slot === null || count === null) return void c.addError(ERR_NOT_INT);
  if (slot < 0 || slot >= CLUSTER_SLOTS || count < 0) return void c.addError('ERR Invalid slot or number of keys');
  c.addBulks(keysInSlot(c, slot, count));
};

// ---- nodes -----------------------------------------------------------------------

const meet: ClusterHandler = (c, cl, argv) => {
  const port = parseInt64(argv[3]);
  if (port === null) return void c.addError(`ERR Invalid TCP base port specified: ${argv[3]}`);
  let cport = port + 10000;
  if (argv.length === 5) {
    const p = parseInt64(argv[4]);
    if (p === null) return void c.addError(`ERR Invalid TCP bus port specified: ${argv[4]}`);
    cport = p;
  }
  const ip = argv[2].startsWith('::ffff:') ? argv[2].slice(7) : argv[2];
  if (isIP(ip) === 0 || port <= 0 || port > 65535 || cport <= 0 || cport > 65535) {
    c.addError(`ERR Invalid node address specified: ${argv[2]}:${argv[3]}`);
    return;
  }
  cl.bus.meet(ip, port, cport);
  c.addOK();
};

const forget: ClusterHandler = (c, cl, argv) => {
  const st = cl.state;
  const n = st.nodes.get(argv[2]);
  if (n === undefined) return void unknownNode(c, argv[2]);
  if (n.myself) return void c.addError("ERR I tried hard but I can't forget myself...");
  if (!st.myself.master && st.myself.masterId === n.id) return void c.addError("ERR Can't forget my master!");
  st.forgotten.set(n.id, Date.now() + 60_000);
  cl.bus.dropNode(n);
  st.removeNode(n);
  cl.updateState();
  st.changed();
  c.addOK();
};

const replicate: ClusterHandler = (c, cl, argv) => {
  const st = cl.state;
  const me = st.myself;
  const n = st.nodes.get(argv[2]);
  if (n === undefined) return void unknownNode(c, argv[2]);
  if (n.myself) return void c.addError("ERR Can't replicate myself");
  if (!n.master) return void c.addError('ERR I can only replicate a master, not a replica.');
  if (me.master && (me.slotCount > 0 || dbSize(c) !== 0)) {
    c.addError('ERR To set a master the node must be empty and without assigned slots.');
    return;
  }
  becomeReplicaOf(cl, n);
  c.addOK();
};

function becomeReplicaOf(cl: Cluster, n: ClusterNode): void {
  cl.becomeReplicaOf(n);
}

const replicas: ClusterHandler = (c, cl, argv) => {
  const st = cl.state;
  const n = st.nodes.get(argv[2]);
  if (n === undefined) return void unknownNode(c, argv[2]);
  if (!n.master) return void c.addError('ERR The specified node is not a master');
  c.addBulks(st.replicasOf(n).map((r) => nodeLine(st, r) + '\n'));
};

const countFailureReports: ClusterHandler = (c, cl, argv) => {
  const n = cl.state.nodes.get(argv[2]);
  if (n === undefined) return void unknownNode(c, argv[2]);
  c.addInt(cl.bus.validReports(n));
};

const setConfigEpoch: ClusterHandler = (c, cl, argv) => {
  const st = cl.state;
  const epoch = parseInt64(argv[2]);
  if (epoch === null || epoch < 0) return void c.addError(`ERR Invalid config epoch specified: ${argv[2]}`);
  if (st.nodes.size > 1) {
    c.addError('ERR The user can assign a config epoch only when the node does not know any other node.');
    return;
  }
  if (st.myself.configEpoch !== 0) return void c.addError('ERR Node config epoch is already non-zero');
  st.myself.configEpoch = epoch;
  if (st.currentEpoch < epoch) st.currentEpoch = epoch;
  st.changed();
  c.addOK();
};

const bumpepoch: ClusterHandler = (c, cl) => {
  const bumped = cl.state.bumpEpoch();
  c.addSimple(`${bumped ? 'BUMPED' : 'STILL'} ${cl.state.myself.configEpoch}`);
};

const reset: ClusterHandler = (c, cl, argv) => {
  let hard = false;
  if (argv.length === 3) {
    const mode = argv[2].toLowerCase();
    if (mode === 'hard') hard = true;
    else if (mode !== 'soft') return void c.addError(ERR_SYNTAX);
  }
  const old = cl.state;
  if (old.myself.master && dbSize(c) !== 0) {
    c.addError("ERR CLUSTER RESET can't be called with master nodes containing keys");
    return;
  }
  // Redis's clusterReset deletes every slot: those of our shard unsubscribe their shard
  // channels (a sunsubscribe push each), on a master and on its replicas.
  for (let s = 0; s < CLUSTER_SLOTS; s++) old.setOwner(s, null);
  if (!old.myself.master) {
    cl.stopFollowing();
    for (const db of c.server.dbs) db.flush();
  }
  for (const n of [...old.nodes.values()]) if (!n.myself) cl.bus.dropNode(n);
  const fresh = new ClusterState(hard ? undefined : old.myself.id);
  const me = fresh.myself;
  me.ip = old.myself.ip;
  me.port = old.myself.port;
  me.cport = old.myself.cport;
  if (!hard) {
    me.configEpoch = old.myself.configEpoch;
    fresh.currentEpoch = old.currentEpoch;
  }
  me.hostname = old.myself.hostname;
  me.nofailover = old.myself.nofailover;
  fresh.onChange = old.onChange;
  fresh.onSlotRemoved = old.onSlotRemoved;
  cl.state = fresh;
  cl.updateState();
  fresh.changed();
  c.addOK();
};

const saveconfig: ClusterHandler = (c, cl) => {
  if (cl.saveNow()) c.addOK();
  else c.addError(`ERR error saving the cluster node config: ${cl.saveError}`);
};

const failover: ClusterHandler = (c, cl, argv) => {
  let force = false;
  let takeover = false;
  if (argv.length === 3) {
    const mode = argv[2].toLowerCase();
    if (mode === 'force') force = true;
    else if (mode === 'takeover') takeover = force = true;
    else return void c.addError(ERR_SYNTAX);
  }
  const st = cl.state;
  const me = st.myself;
  if (me.master) return void c.addError('ERR You should send CLUSTER FAILOVER to a replica');
  const m = st.masterOf(me);
  if (m === null) return void c.addError("ERR I'm a replica but my master is unknown to me");
  if (!force && (m.fail || !m.connected)) return void c.addError('ERR Master is down or failed, please use CLUSTER FAILOVER FORCE');
  if (takeover) {
    // No election: a new config epoch without consensus, the master's slots, and we are a master.
    log(c.server, 'warning', 'Taking over the master (user request).');
    st.bumpEpoch();
    cl.bus.takeOver(m);
  } else {
    // FORCE starts the election at once; otherwise the master pauses and we catch up first.
    log(c.server, 'warning', force ? 'Forced failover user request accepted.' : 'Manual failover user request accepted.');
    cl.bus.startManualFailover(force);
  }
  c.addOK();
};

const HELP_LINES = [
  'ADDSLOTS <slot> [<slot> ...]',
  '    Assign slots to current node.',
  'ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Assign slots which are between <start-slot> and <end-slot> to current node.',
  'BUMPEPOCH',
  '    Advance the cluster config epoch.',
  'COUNT-FAILURE-REPORTS <node-id>',
  '    Return number of failure reports for <node-id>.',
  'COUNTKEYSINSLOT <slot>',
  '    Return the number of keys in <slot>.',
  'DELSLOTS <slot> [<slot> ...]',
  '    Delete slots information from current node.',
  'DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Delete slots information which are between <start-slot> and <end-slot> from current node.',
  'FAILOVER [FORCE|TAKEOVER]',
  '    Promote current replica node to being a master.',
  'FORGET <node-id>',
  '    Remove a node from the cluster.',
  'GETKEYSINSLOT <slot> <count>',
  '    Return key names stored by current node in a slot.',
  'FLUSHSLOTS',
  '    Delete current node own slots information.',
  'INFO',
  '    Return information about the cluster.',
  'KEYSLOT <key>',
  '    Return the hash slot for <key>.',
  'MEET <ip> <port> [<bus-port>]',
  '    Connect nodes into a working cluster.',
  'MYID',
  '    Return the node id.',
  'NODES',
  '    Return cluster configuration seen by node. Output format:',
  '    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...',
  'REPLICATE <node-id>',
  '    Configure current node as replica to <node-id>.',
  'RESET [HARD|SOFT]',
  '    Reset current node (default: soft).',
  'SET-CONFIG-EPOCH <epoch>',
  '    Set config epoch of current node.',
  'SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)',
  '    Set slot state.',
  'REPLICAS <node-id>',
  '    Return <node-id> replicas.',
  'SAVECONFIG',
  '    Force saving cluster configuration on disk.',
  'SLOTS',
  '    Return information about slots range mappings. Each range is made of:',
  '    start, end, master and replicas IP addresses, ports and ids',
  'SHARDS',
  '    Return information about slot range mappings and the nodes associated with them.',
  'LINKS',
  '    Return information about all network links between this node and its peers.',
  '    Output format is an array where each array element is a map containing attributes of a link',
];

/** CLUSTER's subcommands (all of Redis 7.0's): what each does, and its cluster-mode handler. */
const SUBCOMMANDS: ReadonlyArray<readonly [name: string, does: string, run: ClusterHandler]> = [
  ['addslots', 'Assigns hash slots to this node.', addslots],
  ['addslotsrange', 'Assigns ranges of hash slots to this node.', addslotsrange],
  ['bumpepoch', 'Advances the cluster config epoch.', bumpepoch],
  ['count-failure-reports', 'Counts the failure reports about a node.', countFailureReports],
  ['countkeysinslot', 'Counts the keys in a hash slot (scans db 0: O(N) in the keyspace, no slot index).', countkeysinslot],
  ['delslots', 'Unassigns hash slots from this node.', delslots],
  ['delslotsrange', 'Unassigns ranges of hash slots from this node.', delslotsrange],
  ['failover', "Makes a replica take over its master's slots: an election after catching up with the paused master, FORCE without catching up, TAKEOVER without an election.", failover],
  ['flushslots', 'Unassigns all hash slots from this node.', flushslots],
  ['forget', 'Removes a node from the node table.', forget],
  ['getkeysinslot', 'Lists keys in a hash slot (scans db 0 until count keys are found).', getkeysinslot],
  ['help', 'Lists the CLUSTER subcommands.', (c) => replyHelp(c, 'CLUSTER', HELP_LINES)],
  ['info', 'Reports the cluster state.', info],
  ['keyslot', 'Returns the hash slot of a key.', (c, _cl, argv) => c.addInt(keyHashSlot(argv[2]))],
  ['links', 'Lists the cluster bus links.', links],
  ['meet', 'Connects this node to another cluster node.', meet],
  ['myid', "Returns this node's ID.", (c, cl) => c.addBulk(cl.state.myself.id)],
  ['nodes', "Returns this node's view of the cluster.", (c, cl) => c.addVerbatim(nodesText(cl.state))],
  ['replicas', 'Lists the replicas of a master node.', replicas],
  ['replicate', 'Makes this node a replica of a master node.', replicate],
  ['reset', 'Resets the cluster state of this node.', reset],
  ['saveconfig', 'Saves the cluster configuration file.', saveconfig],
  ['set-config-epoch', 'Sets the config epoch of a new node.', setConfigEpoch],
  ['setslot', 'Binds a hash slot to a node or marks it migrating/importing.', setslot],
  ['shards', 'Describes the shards of the cluster.', shards],
  ['slaves', 'Lists the replicas of a master node (old name of REPLICAS).', replicas],
  ['slots', 'Maps hash slot ranges to nodes.', slotsReply],
];

const STANDALONE = ' Standalone: replies that cluster support is disabled.';

const restore: Handler = (() => {
  const impl = persistence.find((cmd) => cmd.name === 'restore');
  if (impl?.handler === undefined) throw new Error('RESTORE has no handler');
  return impl.handler;
})();

export const commands: CommandImpl[] = [
  { name: 'cluster', summary: 'Cluster node management (a container).' + STANDALONE },
  ...SUBCOMMANDS.map(([name, does, run]) => ({ name: `cluster|${name}`, summary: does + STANDALONE, handler: inCluster(run) })),
  {
    name: 'readonly',
    summary: 'Lets a cluster connection read from replicas.' + STANDALONE,
    handler: inCluster((c, cl) => {
      cl.flags.readonly.add(c);
      c.addOK();
    }),
  },
  {
    name: 'readwrite',
    summary: 'Ends READONLY mode on a cluster connection.' + STANDALONE,
    handler: inCluster((c, cl) => {
      cl.flags.readonly.delete(c);
      c.addOK();
    }),
  },
  {
    name: 'asking',
    summary: 'Allows the next command on a slot being imported.' + STANDALONE,
    handler: inCluster((c, cl) => {
      cl.flags.asking.add(c);
      c.addOK();
    }),
  },
  {
    name: 'restore-asking',
    summary: 'RESTORE for slot migration between cluster nodes; standalone it is exactly RESTORE.',
    handler: restore,
  },
];
