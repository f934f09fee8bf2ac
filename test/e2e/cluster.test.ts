/**
 * Cluster mode end to end: three Mnemo processes with cluster-enabled yes,
 * joined the way users do it (Debian's `redis-cli --cluster create ...
 * --cluster-yes`, which talks to the nodes only through commands), then
 * ioredis's Redis.Cluster, redirections seen by a plain client, and
 * `redis-cli --cluster check`.
 *
 * Replies and error texts were compared by hand with real Redis 7.0.15
 * cluster nodes (redis-server --cluster-enabled yes, three masters created
 * with redis-cli --cluster create, plus a fourth node as a replica), for:
 *   SET foo bar (MOVED 12182 ...), MSET a 1 b 2 (CROSSSLOT), SELECT 1, SELECT 0,
 *   CLUSTER KEYSLOT foo / {user1000}.following / a{}b, COUNTKEYSINSLOT 99999 / x,
 *   GETKEYSINSLOT 1 -1 / 1 x / 16384 1, ADDSLOTS 1 / 99999 / x / 1 1,
 *   DELSLOTS 1 1 / 5 (unassigned), ADDSLOTSRANGE 1 0 / 1 / 1 2 3 / 1 3 2 5,
 *   DELSLOTSRANGE, MEET 1.2.3.4 x / nohost 123, FORGET <myself> / abc,
 *   SET-CONFIG-EPOCH 5 (others known) / -1 / twice, BUMPEPOCH (BUMPED/STILL),
 *   RESET foo, SETSLOT 1 IMPORTING abc / 1 foo / 99999 STABLE / MIGRATING a slot
 *   not owned / NODE abc, REPLICATE abc / <myself>, REPLICAS abc,
 *   COUNT-FAILURE-REPORTS abc, SAVECONFIG, FAILOVER on a master, CLUSTER foo,
 *   READONLY/READWRITE/ASKING, REPLICAOF (both forms), MULTI with a MOVED command
 *   (EXECABORT) and with two local slots (CROSSSLOT at EXEC), migrating slot
 *   GET of a missing key (ASK) and MGET with one present (TRYAGAIN), a
 *   replica's SET (MOVED to its master), CLUSTER INFO/NODES/SLOTS/SHARDS/LINKS
 *   shapes, the nodes.conf file.
 *
 * redis-cli comes from Debian's redis-tools package (CI installs it): when
 * missing, these tests fail, they do not skip.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { Redis, Cluster } from 'ioredis';
import { fileCleanups, freePort, spawnServer, MNEMO_BIN, type ServerProcess } from '../helpers/process.js';

const run = promisify(execFile);
const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli';
const { cleanups, tempDir } = fileCleanups('mnemo-cluster-');

interface Node {
  port: number;
  busPort: number;
  dir: string;
  proc: ServerProcess;
  client: Redis;
}
const nodes: Node[] = [];

async function startNode(): Promise<Node> {
  const port = await freePort();
  const busPort = await freePort();
  const dir = tempDir();
  const args = ['--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--dir', dir, '--save', '', '--enable-debug-command', 'yes'];
  const proc = await spawnServer('mnemo', args, cleanups);
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  cleanups.push(() => void client.disconnect());
  return { port, busPort, dir, proc, client };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

test('a node whose bus port is taken exits at start-up with Redis’s log lines (clusterInit), so launchers retry elsewhere', async () => {
  const busPort = await freePort();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(busPort, '0.0.0.0', r));
  try {
    const port = await freePort();
    const dir = tempDir();
    const args = [MNEMO_BIN, '--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--dir', dir, '--save', ''];
    const failed = await run(process.execPath, args, { timeout: 20000 }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(failed?.code, 1);
    const err = failed.stdout;
    assert.match(err, new RegExp(`Could not create server TCP listening socket \\*:${busPort}: bind: Address already in use`));
    assert.match(err, new RegExp(`Failed listening on port ${busPort} \\(cluster\\), aborting\\.`));
  } finally {
    blocker.close();
  }
});

before(async () => {
  for (let i = 0; i < 3; i++) nodes.push(await startNode());
  const { stdout } = await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'], { timeout: 60000 });
  assert.match(stdout, /\[OK\] All 16384 slots covered/);
  await waitFor('cluster_state:ok everywhere', async () => {
    for (const n of nodes) if (!/cluster_state:ok/.test(String(await n.client.cluster('INFO')))) return false;
    return true;
  });
});

test('every node sees the same three masters, with Redis’s NODES line format', async () => {
  const ids = await Promise.all(nodes.map((n) => n.client.cluster('MYID') as Promise<string>));
  for (const n of nodes) {
    const text = String(await n.client.cluster('NODES'));
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) {
      assert.match(line, /^[0-9a-f]{40} 127\.0\.0\.1:\d+@\d+ (myself,)?master - \d+ \d+ \d+ connected( \d+(-\d+)?)+$/);
    }
    for (const id of ids) assert.ok(text.includes(id));
    const info = String(await n.client.cluster('INFO'));
    assert.match(info, /cluster_slots_assigned:16384\r\n/);
    assert.match(info, /cluster_known_nodes:3\r\n/);
    assert.match(info, /cluster_size:3\r\n/);
    assert.match(String(await n.client.info('cluster')), /cluster_enabled:1/);
  }
  // The bus port announced is the one configured with cluster-port.
  const mine = String(await nodes[0].client.cluster('NODES')).split('\n').find((l) => l.includes('myself'))!;
  assert.ok(mine.includes(`127.0.0.1:${nodes[0].port}@${nodes[0].busPort} myself,master`));
  const slots = (await nodes[1].client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  assert.deepEqual(
    slots.map((r) => [r[0], r[1]]).sort((a, b) => a[0] - b[0]),
    [
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ],
  );
  // nodes.conf keeps the node id for a restart.
  const conf = readFileSync(join(nodes[0].dir, 'nodes.conf'), 'latin1');
  assert.ok(conf.includes(`${ids[0]} 127.0.0.1:${nodes[0].port}@${nodes[0].busPort} myself,master`));
  assert.match(conf, /vars currentEpoch 3 lastVoteEpoch 0\n$/);
});

test("the myself line of CLUSTER NODES shows the pong time the other nodes gossip about us, in whole seconds (Redis's clusterProcessGossipSection)", async () => {
  // Redis 7.0.15 (three masters): `... myself,master - 0 1795730847000 1 connected 0-5460`.
  const myPong = async (n: Node): Promise<number> => Number(String(await n.client.cluster('NODES')).split('\n').find((l) => l.includes('myself'))!.split(' ')[5]);
  for (const n of nodes) await waitFor('a pong time on the myself line', async () => (await myPong(n)) > 0, 10000);
  for (const n of nodes) {
    const pong = await myPong(n);
    assert.equal(pong % 1000, 0);
    assert.ok(pong <= Date.now() + 500);
  }
});

test("CLUSTER LINKS lists node by node (its outbound link, then its inbound one), and idle links read events r, as Redis's", async () => {
  // Redis 7.0.15: `direction to node <a> ... events r send-buffer-allocated 0 send-buffer-used 0`,
  // then `direction from node <a> ... events r ...`, then node <b>'s pair.
  await waitFor('two links with each other node', async () => ((await nodes[0].client.cluster('LINKS')) as unknown[]).length === 4);
  const links = ((await nodes[0].client.cluster('LINKS')) as unknown as string[][]).map((l) => Object.fromEntries(l.flatMap((v, i) => (i % 2 === 0 ? [[v, l[i + 1]]] : []))));
  assert.deepEqual(
    links.map((l) => l.direction),
    ['to', 'from', 'to', 'from'],
  );
  assert.equal(links[0].node, links[1].node);
  assert.equal(links[2].node, links[3].node);
  for (const l of links) {
    assert.equal(l.events, 'r');
    assert.equal(l['send-buffer-used'], 0);
  }
});

test("ioredis's Redis.Cluster runs the seed's lines, multi-key commands with hash tags", async () => {
  const cluster = new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
  try {
    assert.equal(await cluster.set('user:{123}:profile', '...'), 'OK');
    assert.equal(await cluster.set('user:{123}:settings', '...'), 'OK');
    assert.deepEqual(await cluster.mget('user:{123}:profile', 'user:{123}:settings'), ['...', '...']);
    assert.equal(await cluster.mset('{tag}a', '1', '{tag}b', '2'), 'OK');
    assert.deepEqual(await cluster.mget('{tag}a', '{tag}b'), ['1', '2']);
    for (let i = 0; i < 50; i++) await cluster.set(`key:${i}`, String(i));
    for (let i = 0; i < 50; i++) assert.equal(await cluster.get(`key:${i}`), String(i));
    assert.equal(await errorOf(cluster.mset('a', '1', 'b', '2')), "CROSSSLOT Keys in request don't hash to the same slot");
    // The key lives only on the node serving its slot.
    const slot = Number(await nodes[0].client.cluster('KEYSLOT', 'user:{123}:profile'));
    let holders = 0;
    for (const n of nodes) holders += Number(await n.client.cluster('COUNTKEYSINSLOT', slot));
    assert.equal(holders, 2);
  } finally {
    cluster.disconnect();
  }
});

test('a plain client is redirected with MOVED, and cluster-mode refusals read as Redis’s', async () => {
  const slot = Number(await nodes[0].client.cluster('KEYSLOT', 'foo'));
  assert.equal(slot, 12182);
  const slotsReply = (await nodes[0].client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  const owner = slotsReply.find((r) => r[0] <= slot && slot <= r[1])!;
  const wrong = nodes.find((n) => n.port !== owner[2][1])!;
  const right = nodes.find((n) => n.port === owner[2][1])!;
  assert.equal(await errorOf(wrong.client.set('foo', 'bar')), `MOVED 12182 127.0.0.1:${right.port}`);
  assert.equal(await right.client.set('foo', 'bar'), 'OK');
  assert.equal(await errorOf(right.client.mset('foo', '1', 'bar', '2')), "CROSSSLOT Keys in request don't hash to the same slot");
  assert.equal(await errorOf(right.client.select(1)), 'ERR SELECT is not allowed in cluster mode');
  assert.equal(await right.client.select(0), 'OK');
  assert.equal(await errorOf(right.client.call('REPLICAOF', 'NO', 'ONE')), 'ERR REPLICAOF not allowed in cluster mode.');
  assert.equal(await errorOf(right.client.cluster('ADDSLOTS', '1')), 'ERR Slot 1 is already busy');
  assert.equal(await errorOf(right.client.cluster('ADDSLOTS', '99999')), 'ERR Invalid or out of range slot');
  assert.equal(await errorOf(right.client.cluster('FORGET', 'abc')), 'ERR Unknown node abc');
  assert.equal(await errorOf(right.client.cluster('SET-CONFIG-EPOCH', '5')), 'ERR The user can assign a config epoch only when the node does not know any other node.');
  assert.equal(await errorOf(right.client.cluster('MEET', 'nohost', '123')), 'ERR Invalid node address specified: nohost:123');
  assert.equal(await errorOf(right.client.cluster('COUNTKEYSINSLOT', '99999')), 'ERR Invalid slot');
  assert.equal(await errorOf(right.client.cluster('GETKEYSINSLOT', '1', '-1')), 'ERR Invalid slot or number of keys');
  assert.equal(await errorOf(right.client.call('CLUSTER', 'SETSLOT', '1', 'foo')), 'ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP');
  assert.equal(await errorOf(right.client.cluster('FAILOVER')), 'ERR You should send CLUSTER FAILOVER to a replica');
  assert.equal(await right.client.call('READONLY'), 'OK');
  assert.equal(await right.client.call('READWRITE'), 'OK');
  // MULTI: a command for another node dooms the transaction; two local slots fail EXEC with CROSSSLOT.
  // foo (12182) and d (11298) are both served by the node owning 10923-16383; b (3300) is not.
  assert.equal(await errorOf(right.client.multi().set('foo', '1').set('d', '2').exec()), "CROSSSLOT Keys in request don't hash to the same slot");
  assert.equal(await errorOf(right.client.multi().set('foo', '1').set('b', '2').exec()), 'EXECABORT Transaction discarded because of previous errors.');
});

test("scripts may touch only this node's keys, with Redis's script error", async () => {
  // foo (12182) and d (11298) belong to the node serving 10923-16383; b (3300) does not.
  const slotsReply = (await nodes[0].client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  const ownerPort = slotsReply.find((r) => r[0] <= 12182 && 12182 <= r[1])![2][1];
  const node = nodes.find((n) => n.port === ownerPort)!;
  assert.equal(await node.client.eval("return redis.call('set', 'foo', 'from-script')", 0), 'OK');
  assert.match(await errorOf(node.client.eval("return redis.call('get', 'b')", 0)), /^ERR Script attempted to access a non local key in a cluster node script: [0-9a-f]{40}, on @user_script:1\.$/);
  // Redis 7.0.15 lets a script without shebang touch local keys of two slots (checked on a real cluster node).
  assert.equal(await node.client.eval("redis.call('get', 'foo'); return redis.call('get', 'd')", 0), null);
  // With a shebang (and in functions) undeclared keys must share the declared keys' slot, or the first one's.
  const crossSlot = /^ERR Script attempted to access keys that do not hash to the same slot script: [0-9a-f]{40}, on @user_script:2\.$/;
  assert.match(await errorOf(node.client.eval("#!lua\nredis.call('get', 'foo'); return redis.call('get', 'd')", 0)), crossSlot);
  assert.match(await errorOf(node.client.eval("#!lua\nreturn redis.call('get', 'foo')", 1, 'd')), crossSlot);
  assert.equal(await node.client.eval("#!lua\nreturn redis.call('get', 'foo')", 1, 'foo'), 'from-script');
  assert.equal(await node.client.eval("#!lua flags=allow-cross-slot-keys\nredis.call('get', 'foo'); return redis.call('get', 'd')", 0), null);
  // A script or function flagged no-cluster does not run on a cluster node.
  const noCluster = "ERR Can not run script on cluster, 'no-cluster' flag is set.";
  assert.equal(await errorOf(node.client.eval('#!lua flags=no-cluster\nreturn 1', 0)), noCluster);
  await node.client.call('FUNCTION', 'LOAD', "#!lua name=nc\nredis.register_function{function_name='nc1', callback=function() return 'hello' end, flags={'no-cluster'}}");
  assert.equal(await errorOf(node.client.call('FCALL', 'nc1', '0')), noCluster);
  // Keys declared in KEYS are routed by the dispatcher: CROSSSLOT before the script runs.
  assert.equal(await errorOf(node.client.eval('return 1', 2, 'foo', 'd')), "CROSSSLOT Keys in request don't hash to the same slot");
});

test('ASK and TRYAGAIN while a slot migrates, and SETSLOT NODE moves it', async () => {
  const key = '{mig}k';
  const slot = Number(await nodes[0].client.cluster('KEYSLOT', key));
  const ids = await Promise.all(nodes.map((n) => n.client.cluster('MYID') as Promise<string>));
  const slotsReply = (await nodes[0].client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  const ownerPort = slotsReply.find((r) => r[0] <= slot && slot <= r[1])![2][1];
  const src = nodes.findIndex((n) => n.port === ownerPort);
  const dst = (src + 1) % 3;
  await nodes[src].client.set(key, 'v');
  // A key whose TTL passes during the migration counts as missing (ASK), expired or not.
  await nodes[src].client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  await nodes[src].client.set('{mig}short', 'v', 'PX', 50);
  assert.equal(await nodes[src].client.cluster('SETSLOT', slot, 'MIGRATING', ids[dst]), 'OK');
  assert.equal(await nodes[dst].client.cluster('SETSLOT', slot, 'IMPORTING', ids[src]), 'OK');
  assert.match(String(await nodes[src].client.cluster('NODES')), new RegExp(`\\[${slot}->-${ids[dst]}\\]`));
  assert.equal(await errorOf(nodes[src].client.get('{mig}missing')), `ASK ${slot} 127.0.0.1:${nodes[dst].port}`);
  assert.equal(await errorOf(nodes[src].client.mget(key, '{mig}missing')), 'TRYAGAIN Multiple keys request during rehashing of slot');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(await errorOf(nodes[src].client.get('{mig}short')), `ASK ${slot} 127.0.0.1:${nodes[dst].port}`);
  await nodes[src].client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
  await waitFor('active expiry to remove it', async () => Number(await nodes[src].client.cluster('COUNTKEYSINSLOT', slot)) === 1);
  assert.equal(await nodes[src].client.get(key), 'v');
  // MIGRATE sends RESTORE-ASKING, which the importing node accepts.
  assert.equal(await nodes[src].client.migrate('127.0.0.1', nodes[dst].port, key, 0, 5000), 'OK');
  assert.equal(await errorOf(nodes[dst].client.get(key)), `MOVED ${slot} 127.0.0.1:${nodes[src].port}`);
  for (const n of [nodes[dst], nodes[src]]) assert.equal(await n.client.cluster('SETSLOT', slot, 'NODE', ids[dst]), 'OK');
  assert.equal(await nodes[dst].client.get(key), 'v');
  await waitFor('the new owner everywhere', async () => {
    for (const n of nodes) {
      const e = await errorOf(n.client.get(key));
      if (n === nodes[dst] ? e !== 'no error' : e !== `MOVED ${slot} 127.0.0.1:${nodes[dst].port}`) return false;
    }
    return true;
  });
});

test('redis-cli --cluster check reports OK', async () => {
  const { stdout } = await run(REDIS_CLI, ['--cluster', 'check', `127.0.0.1:${nodes[1].port}`], { timeout: 30000 });
  assert.match(stdout, /\[OK\] All nodes agree about slots configuration\./);
  assert.match(stdout, /\[OK\] All 16384 slots covered\./);
});

async function ownerOf(slot: number): Promise<number> {
  const slotsReply = (await nodes[0].client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  const port = slotsReply.find((r) => r[0] <= slot && slot <= r[1])![2][1];
  return nodes.findIndex((n) => n.port === port);
}

test('DELSLOTS and CLUSTER RESET unsubscribe the shard channels of the slots they remove (sunsubscribe pushes), also after a reset', async () => {
  const solo = await startNode();
  // A raw connection: the sunsubscribe pushes arrive without a request (ioredis refuses them).
  const sock = connect(solo.port, '127.0.0.1');
  cleanups.push(() => void sock.destroy());
  let got = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => (got += d));
  const ch = 'solo-news';
  const frame = (kind: string, count: number) => `*3\r\n$${kind.length}\r\n${kind}\r\n$${ch.length}\r\n${ch}\r\n:${count}\r\n`;
  const slot = Number(await solo.client.cluster('KEYSLOT', ch));
  const subscribed = async (): Promise<void> => {
    assert.equal(await solo.client.cluster('ADDSLOTS', slot), 'OK');
    // The cluster is down (one slot served), but cluster-allow-pubsubshard-when-down is yes.
    got = '';
    sock.write(`SSUBSCRIBE ${ch}\r\n`);
    await waitFor('the subscription', async () => got === frame('ssubscribe', 1));
    got = '';
  };
  await subscribed();
  assert.equal(await solo.client.cluster('RESET', 'HARD'), 'OK');
  await waitFor('the reset to unsubscribe', async () => got === frame('sunsubscribe', 0));
  await subscribed();
  assert.equal(await solo.client.cluster('DELSLOTS', slot), 'OK');
  await waitFor('DELSLOTS after a reset to unsubscribe', async () => got === frame('sunsubscribe', 0));
});

test('cluster-announce-hostname reaches the other nodes; CLUSTER SLOTS/SHARDS/NODES and MOVED follow cluster-preferred-endpoint-type', async () => {
  // Reply shapes as redis-server 7.0.15's addNodeToNodeReply / addNodeDetailsToShardReply / clusterRedirectClient.
  const key = 'hostkey';
  const slot = Number(await nodes[0].client.cluster('KEYSLOT', key));
  const owner = nodes[await ownerOf(slot)];
  const other = nodes.find((n) => n !== owner)!;
  const ownerId = (await owner.client.cluster('MYID')) as string;
  type SlotNode = [string | null, number, string, unknown];
  const slotNode = async (): Promise<SlotNode> => {
    const ranges = (await other.client.cluster('SLOTS')) as unknown as Array<[number, number, SlotNode]>;
    return ranges.find((r) => r[0] <= slot && slot <= r[1])![2];
  };
  const moved = async (): Promise<string> => {
    try {
      await other.client.set(key, 'v');
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  try {
    assert.equal(await owner.client.config('SET', 'cluster-announce-hostname', 'owner.example'), 'OK');
    await waitFor('the hostname to reach the other node', async () => JSON.stringify(await slotNode()).includes('owner.example'));
    // Default (ip): the ip first, the hostname in the map.
    assert.deepEqual(await slotNode(), ['127.0.0.1', owner.port, ownerId, ['hostname', 'owner.example']]);
    const line = String(await other.client.cluster('NODES')).split('\n').find((l) => l.startsWith(ownerId))!;
    assert.equal(line.split(' ')[1], `127.0.0.1:${owner.port}@${owner.busPort},owner.example`);
    assert.equal(await moved(), `MOVED ${slot} 127.0.0.1:${owner.port}`);
    const shardNode = async (): Promise<string[]> => {
      const shards = (await other.client.cluster('SHARDS')) as unknown as Array<[string, unknown, string, string[][]]>;
      for (const sh of shards) for (const n of sh[3]) if (n[1] === ownerId) return n.map(String);
      throw new Error('owner not in CLUSTER SHARDS');
    };
    const sn = await shardNode();
    assert.deepEqual(sn.slice(0, 10), ['id', ownerId, 'port', String(owner.port), 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'hostname', 'owner.example']);
    assert.deepEqual([sn[10], sn[11], sn[12], sn[14], sn[15]], ['role', 'master', 'replication-offset', 'health', 'online']);
    // hostname: the hostname first (or '?' for a node without one), the ip in the map.
    assert.equal(await other.client.config('SET', 'cluster-preferred-endpoint-type', 'hostname'), 'OK');
    assert.deepEqual(await slotNode(), ['owner.example', owner.port, ownerId, ['ip', '127.0.0.1']]);
    assert.equal(await moved(), `MOVED ${slot} owner.example:${owner.port}`);
    assert.equal((await shardNode())[7], 'owner.example');
    // unknown-endpoint: a null first, then both.
    assert.equal(await other.client.config('SET', 'cluster-preferred-endpoint-type', 'unknown-endpoint'), 'OK');
    assert.deepEqual(await slotNode(), [null, owner.port, ownerId, ['ip', '127.0.0.1', 'hostname', 'owner.example']]);
    assert.equal(await moved(), `MOVED ${slot} :${owner.port}`);
    assert.equal(await owner.client.config('SET', 'cluster-announce-hostname', ''), 'OK');
    await waitFor('the hostname to be removed', async () => !JSON.stringify(await slotNode()).includes('owner.example'));
  } finally {
    await other.client.config('SET', 'cluster-preferred-endpoint-type', 'ip');
    await owner.client.config('SET', 'cluster-announce-hostname', '');
  }
});

test('a client blocked on a slot that moves away is answered MOVED, as Redis does from its clients cron', async () => {
  const key = '{blk}list';
  const slot = Number(await nodes[0].client.cluster('KEYSLOT', key));
  const src = await ownerOf(slot);
  const dst = (src + 1) % 3;
  const ids = await Promise.all(nodes.map((n) => n.client.cluster('MYID') as Promise<string>));
  const blocked = new Redis(nodes[src].port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  try {
    const reply = errorOf(blocked.brpop(key, 0));
    await waitFor('the client to block', async () => /blocked_clients:1/.test(await nodes[src].client.info('clients')));
    assert.equal(await nodes[src].client.cluster('SETSLOT', slot, 'NODE', ids[dst]), 'OK');
    assert.equal(await reply, `MOVED ${slot} 127.0.0.1:${nodes[dst].port}`);
    assert.match(await nodes[src].client.info('clients'), /blocked_clients:0/);
  } finally {
    blocked.disconnect();
    // Give the slot back: the other nodes never heard of the move.
    assert.equal(await nodes[src].client.cluster('SETSLOT', slot, 'NODE', ids[src]), 'OK');
  }
});

test('a master whose last slot moves away becomes a replica of the node that took it', async () => {
  const extra = await startNode();
  nodes.push(extra);
  const extraId = (await extra.client.cluster('MYID')) as string;
  assert.equal(await extra.client.call('CLUSTER', 'MEET', '127.0.0.1', nodes[0].port, nodes[0].busPort), 'OK');
  await waitFor('every node to know all four', async () => {
    for (const n of nodes) if (String(await n.client.cluster('NODES')).trim().split('\n').length !== 4) return false;
    return true;
  });
  // A slot with no keys, moved to the new node and back.
  const slot = Number(await nodes[0].client.cluster('KEYSLOT', '{lastslot}'));
  const owner = await ownerOf(slot);
  const ownerId = (await nodes[owner].client.cluster('MYID')) as string;
  assert.equal(await nodes[owner].client.cluster('SETSLOT', slot, 'NODE', extraId), 'OK');
  // A ping the owner sent before giving the slot away may still arrive and take it back
  // (its epoch is higher): claim it until the new node's view has settled.
  const extraOwns = async (): Promise<boolean> => {
    const ranges = (await extra.client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>;
    return ranges.some((r) => r[0] <= slot && slot <= r[1] && r[2][1] === extra.port);
  };
  await waitFor('the new node to own the slot', async () => {
    assert.equal(await extra.client.cluster('SETSLOT', slot, 'NODE', extraId), 'OK');
    await new Promise((r) => setTimeout(r, 300));
    return extraOwns();
  });
  assert.equal(await extra.client.cluster('COUNTKEYSINSLOT', slot), 0);
  assert.equal(await extra.client.cluster('SETSLOT', slot, 'NODE', ownerId), 'OK');
  assert.equal(await nodes[owner].client.cluster('SETSLOT', slot, 'NODE', ownerId), 'OK');
  const myself = String(await extra.client.cluster('NODES')).split('\n').find((l) => l.includes('myself'))!;
  assert.match(myself, /myself,slave/);
  assert.equal(myself.split(' ')[3], ownerId);
  await waitFor('the owner to list its new replica', async () => String(await nodes[owner].client.cluster('REPLICAS', ownerId)).includes(extraId));
});

test("CLUSTER SLOTS lists a replica only once it has a replication offset (Redis's isReplicaAvailable)", async () => {
  // The previous test left `extra` replicating the owner of {lastslot}.
  const extra = nodes[nodes.length - 1];
  const extraId = (await extra.client.cluster('MYID')) as string;
  const slot = Number(await nodes[0].client.cluster('KEYSLOT', '{lastslot}'));
  const owner = nodes[await ownerOf(slot)];
  const listed = async (): Promise<boolean> => {
    const ranges = (await owner.client.cluster('SLOTS')) as unknown as Array<[number, number, ...Array<[string, number, string]>]>;
    const r = ranges.find((x) => x[0] <= slot && slot <= x[1])!;
    return r.slice(3).some((n) => (n as [string, number, string])[2] === extraId);
  };
  await waitFor('the replica to sync', async () => /master_link_status:up/.test(String(await extra.client.info('replication'))));
  const offset = Number(/master_repl_offset:(\d+)/.exec(String(await owner.client.info('replication')))![1]);
  if (offset === 0) assert.equal(await listed(), false);
  await owner.client.set('{lastslot}k', 'v');
  await waitFor('the replica to be listed once its offset moved', listed);
});

test('CONFIG SET cluster-announce-port / cluster-announce-bus-port apply to myself at once and reach the others by gossip', async () => {
  const [a, b] = nodes;
  const id = (await a.client.cluster('MYID')) as string;
  const lineOf = async (n: Node): Promise<string> => String(await n.client.cluster('NODES')).split('\n').find((l) => l.startsWith(id))!;
  const announced = 1 + (a.port === 65535 ? 1 : a.port);
  await a.client.config('SET', 'cluster-announce-port', String(announced));
  assert.match(await lineOf(a), new RegExp(`:${announced}@${a.busPort} `));
  await waitFor('the announced port to reach another node', async () => (await lineOf(b)).includes(`:${announced}@`));
  await a.client.config('SET', 'cluster-announce-port', '0');
  assert.match(await lineOf(a), new RegExp(`:${a.port}@${a.busPort} `));
  await a.client.config('SET', 'cluster-announce-bus-port', String(announced));
  assert.match(await lineOf(a), new RegExp(`:${a.port}@${announced} `));
  await waitFor('the announced bus port to reach another node', async () => (await lineOf(b)).includes(`@${announced} `));
  await a.client.config('SET', 'cluster-announce-bus-port', '0');
  assert.match(await lineOf(a), new RegExp(`:${a.port}@${a.busPort} `));
  await waitFor('the bus port to be restored on another node', async () => (await lineOf(b)).includes(`:${a.port}@${a.busPort} `));
});

test('DEBUG CLUSTERLINK KILL drops the links with a node, which come back; unknown node and direction are refused', async () => {
  const [a, b] = nodes;
  const bId = (await b.client.cluster('MYID')) as string;
  const linksWith = async (id: string): Promise<string[]> => {
    const links = (await a.client.cluster('LINKS')) as unknown as string[][];
    return links.filter((l) => l[l.indexOf('node') + 1] === id).map((l) => l[l.indexOf('direction') + 1]).sort();
  };
  await waitFor('both links with b', async () => (await linksWith(bId)).join() === 'from,to');
  assert.equal(await a.client.call('DEBUG', 'CLUSTERLINK', 'KILL', 'to', bId), 'OK');
  assert.deepEqual(await linksWith(bId), ['from']);
  assert.equal(await a.client.call('DEBUG', 'CLUSTERLINK', 'KILL', 'all', bId), 'OK');
  assert.deepEqual(await linksWith(bId), []);
  await waitFor('both links with b again', async () => (await linksWith(bId)).join() === 'from,to');
  assert.equal(await errorOf(a.client.call('DEBUG', 'CLUSTERLINK', 'KILL', 'to', 'nosuchnode')), 'ERR Unknown node nosuchnode');
  assert.equal(await errorOf(a.client.call('DEBUG', 'CLUSTERLINK', 'KILL', 'sideways', bId)), 'ERR Unknown direction sideways');
});
