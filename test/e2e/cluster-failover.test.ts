/**
 * Cluster failover end to end, as Redis Cluster does it: three masters and a
 * replica (Mnemo processes, cluster-node-timeout 1000). A manual CLUSTER
 * FAILOVER swaps the roles after the replica caught up with its paused
 * master; killing a master makes its replica win an election (failure
 * reports from a majority of the masters turn PFAIL into FAIL, then the
 * masters vote) and the killed node comes back as a replica of the winner.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { fileCleanups, freePort, spawnServer, type ServerProcess } from '../helpers/process.js';

const run = promisify(execFile);
const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli';
const { cleanups, tempDir } = fileCleanups('mnemo-cluster-failover-');

interface Node {
  port: number;
  busPort: number;
  dir: string;
  args: string[];
  proc: ServerProcess;
  client: Redis;
}
const nodes: Node[] = [];

async function launch(port: number, dir: string, args: string[]): Promise<{ proc: ServerProcess; client: Redis }> {
  const proc = await spawnServer('mnemo', args, cleanups);
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await client.connect();
  cleanups.push(() => void client.disconnect());
  return { proc, client };
}

async function startNode(): Promise<Node> {
  const port = await freePort();
  const busPort = await freePort();
  const dir = tempDir();
  const args = ['--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-node-timeout', '1000', '--dir', dir, '--save', '', '--enable-debug-command', 'yes'];
  const { proc, client } = await launch(port, dir, args);
  return { port, busPort, dir, args, proc, client };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function role(n: Node): Promise<string> {
  return /role:(\w+)/.exec(String(await n.client.info('replication')))![1];
}

async function clusterInfo(n: Node, field: string): Promise<string> {
  return new RegExp(`${field}:(\\w+)`).exec(String(await n.client.cluster('INFO')))![1];
}

let masterA: Node;
let replica: Node;

before(async () => {
  for (let i = 0; i < 4; i++) nodes.push(await startNode());
  const { stdout } = await run(REDIS_CLI, ['--cluster', 'create', ...nodes.slice(0, 3).map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'], { timeout: 60000 });
  assert.match(stdout, /\[OK\] All 16384 slots covered/);
  [masterA, , , replica] = nodes;
  await replica.client.call('CLUSTER', 'MEET', '127.0.0.1', String(masterA.port), String(masterA.busPort));
  const idA = (await masterA.client.cluster('MYID')) as string;
  await waitFor('the replica to know every node', async () => String(await replica.client.cluster('NODES')).trim().split('\n').length === 4);
  assert.equal(await replica.client.cluster('REPLICATE', idA), 'OK');
  await waitFor('the replica in sync', async () => /master_link_status:up/.test(String(await replica.client.info('replication'))));
  await waitFor('cluster_state:ok everywhere', async () => {
    for (const n of nodes) if ((await clusterInfo(n, 'cluster_state')) !== 'ok') return false;
    return true;
  });
});

test('CLUSTER FAILOVER: the replica catches up with its paused master, wins the vote, and the master follows it', async () => {
  // A key served by master A, so the data must survive the swap.
  const slots = (await masterA.client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  const range = slots.find((r) => r[2][1] === masterA.port)!;
  let key = '';
  for (let i = 0; key === ''; i++) {
    const slot = Number(await masterA.client.cluster('KEYSLOT', `k${i}`));
    if (slot >= range[0] && slot <= range[1]) key = `k${i}`;
  }
  await masterA.client.set(key, 'before');
  const epoch = Number(await clusterInfo(masterA, 'cluster_current_epoch'));
  assert.equal(await masterA.client.call('CLUSTER', 'FAILOVER').catch((e: Error) => e.message), 'ERR You should send CLUSTER FAILOVER to a replica');
  assert.equal(await replica.client.call('CLUSTER', 'FAILOVER', 'bogus').catch((e: Error) => e.message), 'ERR syntax error');
  assert.equal(await replica.client.call('CLUSTER', 'FAILOVER'), 'OK');
  await waitFor('the replica to become master', async () => (await role(replica)) === 'master');
  await waitFor('the old master to become its replica', async () => (await role(masterA)) === 'slave');
  assert.ok(Number(await clusterInfo(replica, 'cluster_current_epoch')) > epoch);
  assert.equal(await replica.client.get(key), 'before');
  const idR = (await replica.client.cluster('MYID')) as string;
  await waitFor('every node to see the new roles', async () => {
    for (const n of nodes) {
      const lines = String(await n.client.cluster('NODES')).trim().split('\n');
      const a = lines.find((l) => l.includes(`:${masterA.port}@`))!;
      if (a.split(' ')[3] !== idR) return false;
    }
    return true;
  });
  // Writes paused on the old master during the failover are not left hanging.
  assert.equal(await masterA.client.set(key, 'x').catch((e: Error) => e.message.split(' ')[0]), 'MOVED');
});

test('a killed master is failed over by its replica after an election, and comes back as its replica', async () => {
  // Roles after the previous test: `replica` is master, `masterA` its replica.
  const winner = masterA;
  const victim = replica;
  const victimId = (await victim.client.cluster('MYID')) as string;
  const epoch = Number(await clusterInfo(winner, 'cluster_current_epoch'));
  await waitFor('the replica in sync', async () => /master_link_status:up/.test(String(await winner.client.info('replication'))));
  await victim.proc.stop();
  const others = nodes.filter((n) => n !== victim);
  // The other masters agree on the failure: failure reports reach the quorum.
  await waitFor('FAIL flag on the killed master', async () => {
    for (const n of others) if (!String(await n.client.cluster('NODES')).includes(`${victimId} 127.0.0.1:${victim.port}@`) || !new RegExp(`${victimId} \\S+ master,fail `).test(String(await n.client.cluster('NODES')))) return false;
    return true;
  });
  await waitFor('the replica to be elected', async () => (await role(winner)) === 'master');
  assert.ok(Number(await clusterInfo(winner, 'cluster_current_epoch')) > epoch);
  await waitFor('cluster_state:ok again', async () => {
    for (const n of others) if ((await clusterInfo(n, 'cluster_state')) !== 'ok') return false;
    return true;
  });
  // Restarted with its nodes.conf (still claiming the slots with the older epoch), it follows the winner.
  const { proc, client } = await launch(victim.port, victim.dir, victim.args);
  victim.proc = proc;
  victim.client = client;
  await waitFor('the old master to become a replica', async () => (await role(victim)) === 'slave');
  const winnerId = (await winner.client.cluster('MYID')) as string;
  const mine = String(await victim.client.cluster('NODES')).split('\n').find((l) => l.includes('myself'))!;
  assert.equal(mine.split(' ')[3], winnerId);
});

test('a replica restarted with an AOF follows its master only after loading it (no write applied twice)', async () => {
  // After the previous tests: `replica` follows `masterA`.
  const master = masterA;
  const follower = replica;
  await follower.client.config('SET', 'appendonly', 'yes');
  await waitFor('the AOF rewrite', async () => /aof_rewrite_in_progress:0/.test(String(await follower.client.info('persistence'))) && /aof_enabled:1/.test(String(await follower.client.info('persistence'))));
  const slots = (await master.client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  const range = slots.find((r) => r[2][1] === master.port)!;
  const keys: string[] = [];
  for (let i = 0; keys.length < 50; i++) {
    const slot = Number(await master.client.cluster('KEYSLOT', `l${i}`));
    if (slot >= range[0] && slot <= range[1]) keys.push(`l${i}`);
  }
  for (let round = 0; round < 40; round++) {
    const p = master.client.pipeline();
    for (let j = 0; j < 500; j++) p.rpush(keys[j % keys.length], `v${round}-${j}`);
    await p.exec();
  }
  const digest = async (n: Node) => String(await n.client.call('DEBUG', 'DIGEST'));
  await waitFor('the replica to catch up', async () => (await digest(follower)) === (await digest(master)));
  await follower.proc.stop();
  const { proc, client } = await launch(follower.port, follower.dir, [...follower.args, '--appendonly', 'yes']);
  follower.proc = proc;
  follower.client = client;
  await waitFor('the replica in sync again', async () => /master_link_status:up/.test(String(await follower.client.info('replication'))));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await digest(follower), await digest(master));
});

test("a replica restarted from its RDB continues its master's stream with a partial resync (Redis's cached master from the RDB)", async () => {
  // After the previous test: `replica` follows `masterA`, with an AOF.
  const master = masterA;
  const follower = replica;
  await follower.client.config('SET', 'appendonly', 'no');
  assert.equal(await follower.client.call('SAVE'), 'OK');
  const partial = async () => Number(/sync_partial_ok:(\d+)/.exec(String(await master.client.info('stats')))![1]);
  const before = await partial();
  await follower.proc.stop();
  const { proc, client } = await launch(follower.port, follower.dir, follower.args);
  follower.proc = proc;
  follower.client = client;
  await waitFor('the replica in sync again', async () => /master_link_status:up/.test(String(await follower.client.info('replication'))));
  assert.equal(await partial(), before + 1);
  // The bus links to the restarted node are back before the next test publishes.
  await waitFor('every bus link up', async () => {
    for (const n of nodes) if (/ disconnected/.test(String(await n.client.cluster('NODES')))) return false;
    return true;
  });
});

test('PUBLISH reaches subscribers on every node over the bus; SPUBLISH the replicas of its shard', async () => {
  const subscribers = await Promise.all(
    nodes.map(async (n) => {
      const sub = new Redis(n.port, '127.0.0.1', { lazyConnect: true });
      await sub.connect();
      cleanups.push(() => void sub.disconnect());
      const got: string[] = [];
      sub.on('message', (_ch: string, m: string) => got.push(`message:${m}`));
      sub.on('smessage', (_ch: string, m: string) => got.push(`smessage:${m}`));
      await sub.subscribe('news');
      return { n, sub, got };
    }),
  );
  const [from, ...rest] = subscribers;
  // The reply counts this node's receivers only, as Redis.
  assert.equal(await from.n.client.publish('news', 'caf\xe9\x00!'), 1);
  await waitFor('the message on every node', async () => rest.every((s) => s.got.includes('message:caf\xe9\x00!')));
  // A shard channel: the owner of its slot and that master's replica get it, the others do not.
  const ch = 'shardnews';
  const slot = Number(await from.n.client.cluster('KEYSLOT', ch));
  const slots = (await from.n.client.cluster('SLOTS')) as unknown as Array<[number, number, ...Array<[string, number, string]>]>;
  const range = slots.find((r) => r[0] <= slot && slot <= r[1])!;
  const shardPorts = new Set((range.slice(2) as Array<[string, number, string]>).map((x) => x[1]));
  const ownerPort = (range[2] as [string, number, string])[1];
  // Only the shard's nodes serve the channel (elsewhere SSUBSCRIBE is MOVED, see below).
  const shard = subscribers.filter((s) => shardPorts.has(s.n.port));
  assert.ok(shard.length >= 2);
  for (const s of shard) await s.sub.ssubscribe(ch);
  const owner = subscribers.find((s) => s.n.port === ownerPort)!;
  assert.equal(await owner.n.client.spublish(ch, 'shard-msg'), 1);
  await waitFor('the shard message in the shard', async () => shard.every((s) => s.got.includes('smessage:shard-msg')));
});

test('on a READONLY replica a script that may write is redirected with MOVED, a no-writes one runs', async () => {
  const master = (await role(masterA)) === 'master' ? masterA : replica;
  const follower = master === masterA ? replica : masterA;
  const slots = (await master.client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  const range = slots.find((r) => r[2][1] === master.port)!;
  let key = '';
  for (let i = 0; key === ''; i++) {
    const slot = Number(await master.client.cluster('KEYSLOT', `s${i}`));
    if (slot >= range[0] && slot <= range[1]) key = `s${i}`;
  }
  await follower.client.call('READONLY');
  const err = await follower.client.eval("#!lua\nreturn redis.call('del', KEYS[1])", 1, key).catch((e: Error) => e.message);
  assert.match(String(err), new RegExp(`^MOVED \\d+ 127\\.0\\.0\\.1:${master.port}$`));
  assert.equal(await follower.client.eval("#!lua flags=no-writes\nreturn redis.call('exists', KEYS[1])", 1, key), 0);
});

test('SSUBSCRIBE is routed by its channel (MOVED elsewhere); a slot moving away unsubscribes its shard channels with sunsubscribe', async () => {
  const ch = 'movingchan';
  const slot = Number(await nodes[0].client.cluster('KEYSLOT', ch));
  const slots = (await nodes[0].client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  const range = slots.find((r) => r[0] <= slot && slot <= r[1])!;
  const from = nodes.find((n) => n.port === range[2][1])!;
  const to = nodes.find((n) => n !== from && slots.some((r) => r[2][1] === n.port))!;
  const sock = await import('node:net');
  // Raw RESP on the node that does not serve the channel: MOVED.
  const raw = async (port: number, cmd: string[], wait = 300): Promise<string> => {
    const s = sock.createConnection(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.write(`*${cmd.length}\r\n` + cmd.map((a) => `$${a.length}\r\n${a}\r\n`).join(''));
    await new Promise((r) => setTimeout(r, wait));
    s.destroy();
    return out;
  };
  assert.match(await raw(to.port, ['SSUBSCRIBE', ch]), new RegExp(`^-MOVED ${slot} 127\\.0\\.0\\.1:${from.port}\\r\\n$`));
  const sub = sock.createConnection(from.port, '127.0.0.1');
  cleanups.push(() => void sub.destroy());
  let got = '';
  sub.on('data', (d) => (got += d.toString('latin1')));
  sub.write(`*2\r\n$10\r\nSSUBSCRIBE\r\n$${ch.length}\r\n${ch}\r\n`);
  await waitFor('the subscription', async () => got.includes(':1\r\n'));
  const toId = (await to.client.cluster('MYID')) as string;
  const fromId = (await from.client.cluster('MYID')) as string;
  assert.equal(await to.client.cluster('SETSLOT', slot, 'IMPORTING', fromId), 'OK');
  assert.equal(await from.client.cluster('SETSLOT', slot, 'MIGRATING', toId), 'OK');
  assert.equal(await from.client.cluster('SETSLOT', slot, 'NODE', toId), 'OK');
  await waitFor('the sunsubscribe push', async () => got.includes(`*3\r\n$12\r\nsunsubscribe\r\n$${ch.length}\r\n${ch}\r\n:0\r\n`));
  assert.equal(await to.client.cluster('SETSLOT', slot, 'NODE', toId), 'OK');
});
