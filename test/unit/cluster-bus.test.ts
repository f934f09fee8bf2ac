/**
 * The cluster bus's decisions driven directly with a fake host and fake links:
 * replica migration (Redis's clusterHandleSlaveMigration) and following the
 * node that took our shard's slots (clusterUpdateSlotsConfigWith) under
 * cluster-allow-replica-migration; the nofailover flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterBus, Link, type BusHost } from '../../src/cluster/bus.js';
import { ClusterNode, ClusterState } from '../../src/cluster/state.js';
import { CLUSTER_SLOTS } from '../../src/cluster/slot.js';
import { loadNodesConf, saveNodesConf } from '../../src/cluster/nodes-conf.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Options {
  allowMigration?: boolean;
  barrier?: number;
  sendBufferLimit?: number;
}

function fakeHost(state: ClusterState, opts: Options = {}): BusHost & { followed: ClusterNode[] } {
  const followed: ClusterNode[] = [];
  return {
    state,
    followed,
    nodeTimeout: () => 15000,
    replOffset: () => 0,
    dataAge: () => 0,
    replicaValidityFactor: () => 10,
    replicaNoFailover: () => false,
    allowReplicaMigration: () => opts.allowMigration ?? true,
    migrationBarrier: () => opts.barrier ?? 1,
    linkSendBufferLimit: () => opts.sendBufferLimit ?? 0,
    replPingPeriod: () => 10,
    promoted: () => {},
    followNode: (n) => {
      followed.push(n);
      state.myself.masterId = n.id;
    },
    pauseWrites: () => {},
    log: () => {},
    deliverPublish: () => {},
    dropFilter: () => -1,
    roleChanged: () => {},
  };
}

function node(st: ClusterState, id: string, port: number, masterOf: ClusterNode | null = null): ClusterNode {
  const n = new ClusterNode(id.repeat(40), '127.0.0.1', port, port + 10000);
  if (masterOf !== null) {
    n.master = false;
    n.masterId = masterOf.id;
  }
  st.addNode(n);
  return n;
}

function own(st: ClusterState, n: ClusterNode, from: number, to: number): void {
  for (let s = from; s <= to; s++) st.setOwner(s, n);
}

/** A cluster where we replicate m1 beside a sibling, and m2's only replica has failed. */
function orphanScene(myId: string, siblingId: string) {
  const st = new ClusterState(myId.repeat(40));
  const me = st.myself;
  me.ip = '127.0.0.1';
  const m1 = node(st, '1', 7001);
  const m2 = node(st, '2', 7002);
  me.master = false;
  me.masterId = m1.id;
  node(st, siblingId, 7004, m1);
  const dead = node(st, '9', 7005, m2);
  dead.fail = true;
  own(st, m1, 0, 99);
  own(st, m2, 100, CLUSTER_SLOTS - 1);
  st.updateState(true);
  return { st, m1, m2 };
}

test('a replica of the master with the most replicas migrates to an orphaned master after 5 s, if it has the smallest id', (t) => {
  let now = 1_000_000;
  t.mock.method(Date, 'now', () => now);
  const { st, m2 } = orphanScene('0', '5');
  const host = fakeHost(st);
  const bus = new ClusterBus(host);
  bus.failoverCron();
  assert.deepEqual(host.followed, []);
  now += 4000;
  bus.failoverCron();
  assert.deepEqual(host.followed, []);
  now += 1500;
  bus.failoverCron();
  assert.deepEqual(host.followed, [m2]);
});

test('no replica migration under the barrier, without cluster-allow-replica-migration, or when a sibling has a smaller id', (t) => {
  let now = 1_000_000;
  t.mock.method(Date, 'now', () => now);
  for (const [scene, opts] of [
    [orphanScene('0', '5'), { barrier: 2 }],
    [orphanScene('0', '5'), { allowMigration: false }],
    [orphanScene('6', '5'), {}],
  ] as const) {
    const host = fakeHost(scene.st, opts);
    const bus = new ClusterBus(host);
    bus.failoverCron();
    now += 6000;
    bus.failoverCron();
    assert.deepEqual(host.followed, []);
  }
});

function fakeLink(n: ClusterNode, outbound = true, writableLength = 0): Link {
  const socket = {
    localAddress: '127.0.0.1',
    remoteAddress: '127.0.0.1',
    destroyed: false,
    writableLength,
    write: () => true,
    destroy() {
      this.destroyed = true;
    },
  };
  return new Link(socket as never, outbound, n);
}

function bitmap(from: number, to: number): string {
  const bits = Buffer.alloc(CLUSTER_SLOTS / 8);
  for (let k = from; k <= to; k++) bits[k >> 3] |= 1 << (k & 7);
  return bits.toString('base64');
}

/** m2 (epoch 5) now claims [from, to], which covers all of m1's slots (0-99). */
function claimScene(allowMigration: boolean, from: number, to: number): { host: ReturnType<typeof fakeHost>; m2: ClusterNode } {
  const st = new ClusterState('0'.repeat(40));
  const me = st.myself;
  me.ip = '127.0.0.1';
  const m1 = node(st, '1', 7001);
  const m2 = node(st, '2', 7002);
  m1.configEpoch = 1;
  m2.configEpoch = 2;
  me.master = false;
  me.masterId = m1.id;
  own(st, m1, 0, 99);
  if (from > 0) own(st, m2, 100, to);
  const host = fakeHost(st, { allowMigration });
  const bus = new ClusterBus(host);
  const msg = { t: 'ping', cur: 5, from: { id: m2.id, ip: '127.0.0.1', port: 7002, cport: 17002, master: true, masterId: null, epoch: 5, slots: bitmap(0, to), off: 0 }, gossip: [] };
  (bus as unknown as { process(l: Link, m: unknown): void }).process(fakeLink(m2), msg);
  assert.equal(m1.slotCount, 0);
  return { host, m2 };
}

test('a replica whose master lost its last slot follows the taker; without replica migration only when the taker claims just those slots', () => {
  // A rebalance moved our master's slots to a master that serves others too.
  assert.deepEqual(claimScene(true, 100, CLUSTER_SLOTS - 1).host.followed.length, 1);
  assert.deepEqual(claimScene(false, 100, CLUSTER_SLOTS - 1).host.followed, []);
  // A failover: the new master claims exactly our master's slots.
  const failover = claimScene(false, 0, 99);
  assert.deepEqual(failover.host.followed, [failover.m2]);
});

test('the nofailover flag comes with each message from its node, shows in NODES lines and survives nodes.conf', () => {
  const st = new ClusterState('0'.repeat(40));
  st.myself.ip = '127.0.0.1';
  const m1 = node(st, '1', 7001);
  const r = node(st, '3', 7003, m1);
  own(st, m1, 0, CLUSTER_SLOTS - 1);
  const bus = new ClusterBus(fakeHost(st));
  const ping = (nofailover: boolean) => {
    const from = { id: r.id, ip: '127.0.0.1', port: 7003, cport: 17003, master: false, masterId: m1.id, epoch: 0, slots: '', off: 0, ...(nofailover ? { nofailover: true } : {}) };
    (bus as unknown as { process(l: Link, m: unknown): void }).process(fakeLink(r), { t: 'ping', cur: 0, from, gossip: [] });
  };
  ping(true);
  assert.equal(r.flagsText, 'slave,nofailover');
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-nofailover-'));
  try {
    saveNodesConf(st, join(dir, 'nodes.conf'));
    assert.equal(loadNodesConf(join(dir, 'nodes.conf'))!.nodes.get(r.id)!.nofailover, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  ping(false);
  assert.equal(r.flagsText, 'slave');
});

test('the PONG that completes a handshake names the node only: its slots and hostname come with its next message', () => {
  const st = new ClusterState('0'.repeat(40));
  st.myself.ip = '127.0.0.1';
  const hs = node(st, 'e', 7009);
  hs.handshake = true;
  const bus = new ClusterBus(fakeHost(st));
  const realId = '7'.repeat(40);
  const pong = { t: 'pong', cur: 1, from: { id: realId, ip: '127.0.0.1', port: 7009, cport: 17009, master: true, masterId: null, epoch: 1, slots: bitmap(0, 9), off: 0, hostname: 'n.example' }, gossip: [] };
  const link = fakeLink(hs);
  const proc = (bus as unknown as { process(l: Link, m: unknown): void }).process.bind(bus);
  proc(link, pong);
  assert.equal(hs.id, realId);
  assert.equal(hs.handshake, false);
  assert.equal(hs.slotCount, 0);
  assert.equal(hs.hostname, '');
  proc(link, pong);
  assert.equal(hs.slotCount, 10);
  assert.equal(hs.hostname, 'n.example');
  // nodes.conf keeps the hostname after the address, as Redis: ip:port@cport,hostname
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-hostname-'));
  try {
    saveNodesConf(st, join(dir, 'nodes.conf'));
    const back = loadNodesConf(join(dir, 'nodes.conf'))!.nodes.get(realId)!;
    assert.deepEqual([back.ip, back.port, back.cport, back.hostname], ['127.0.0.1', 7009, 17009, 'n.example']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a link whose unsent bytes pass cluster-link-sendbuf-limit is freed and counted; an outbound one is reconnected at once', () => {
  const st = new ClusterState('0'.repeat(40));
  st.myself.ip = '127.0.0.1';
  // A peer on a port nothing listens on: the reconnection attempt just fails.
  const peer = node(st, '4', 1);
  const bus = new ClusterBus(fakeHost(st, { sendBufferLimit: 1000 }));
  try {
    const stuck = fakeLink(peer, true, 1001);
    const inboundOk = fakeLink(peer, false, 1000);
    bus.outbound.set(peer, stuck);
    bus.inbound.add(inboundOk);
    bus.cron();
    assert.equal(stuck.socket.destroyed, true);
    assert.equal(bus.linksBufferLimitExceeded, 1);
    assert.notEqual(bus.outbound.get(peer), stuck); // a new link, connecting
    assert.equal(bus.outbound.has(peer), true);
    assert.equal(bus.inbound.has(inboundOk), true);
  } finally {
    bus.close();
  }
});

test('UPDATE: a master claiming slots a newer node serves is told so, and the told node gives them up and follows that node', () => {
  // We know m5 (epoch 5) took slots 0-99; the old master m0 (epoch 1) comes back claiming them.
  const st = new ClusterState('0'.repeat(40));
  st.myself.ip = '127.0.0.1';
  const m0 = node(st, 'a', 7000);
  const m5 = node(st, '5', 7005);
  m0.configEpoch = 1;
  m5.configEpoch = 5;
  own(st, m5, 0, 99);
  const bus = new ClusterBus(fakeHost(st));
  const written: string[] = [];
  const out = fakeLink(m0);
  out.ready = true;
  (out.socket as unknown as { write: (s: string) => boolean }).write = (line: string) => written.push(line) > 0;
  bus.outbound.set(m0, out);
  const proc = (bus as unknown as { process(l: Link, m: unknown): void }).process.bind(bus);
  proc(fakeLink(m0, false), { t: 'ping', cur: 5, from: { id: m0.id, ip: '127.0.0.1', port: 7000, cport: 17000, master: true, masterId: null, epoch: 1, slots: bitmap(0, 99), off: 0 }, gossip: [] });
  assert.equal(st.slots[0], m5);
  const update = written.map((l) => JSON.parse(l)).find((m) => m.t === 'update');
  assert.deepEqual(update?.upd, { id: m5.id, epoch: 5, slots: bitmap(0, 99) });

  // The old master's side: it serves 0-99 with epoch 1 and learns of m5's newer claim.
  const st2 = new ClusterState(m0.id);
  st2.myself.ip = '127.0.0.1';
  st2.myself.configEpoch = 1;
  const peer = node(st2, '0', 7001);
  const m5b = node(st2, '5', 7005);
  m5b.master = false;
  m5b.masterId = st2.myself.id;
  own(st2, st2.myself, 0, 99);
  const host2 = fakeHost(st2);
  const bus2 = new ClusterBus(host2);
  (bus2 as unknown as { process(l: Link, m: unknown): void }).process(fakeLink(peer), { ...update, from: { id: peer.id, ip: '127.0.0.1', port: 7001, cport: 17001, master: true, masterId: null, epoch: 0, slots: '', off: 0 }, gossip: [] });
  assert.equal(st2.slots[0], m5b);
  assert.equal(m5b.master, true);
  assert.deepEqual(host2.followed, [m5b]);
});
