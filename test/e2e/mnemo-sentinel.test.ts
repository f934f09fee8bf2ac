/**
 * Mnemo's own Sentinel mode, end to end: three Sentinels (two Mnemo, one
 * real Redis Sentinel, so the protocol between them is Redis's) watch a
 * Mnemo master and its Mnemo replica. They find the replica in the master's
 * INFO and each other through hello messages; ioredis finds the master
 * through a Mnemo Sentinel as in the seed's example. When the master dies
 * they agree it is down (+odown), elect a leader, promote the replica
 * (+switch-master on every Sentinel), ioredis follows, each config file
 * records the new master, and the old master, restarted, is turned into a
 * replica of the new one.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, spawnServer, spawnSentinel, tempDir, type ServerProcess } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function client(port: number): Promise<Redis> {
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 200, maxRetriesPerRequest: 1 });
  await r.connect();
  cleanups.push(() => void r.disconnect());
  return r;
}

test('mnemo sentinel: three Sentinels (Mnemo and Redis) fail a Mnemo master over; ioredis follows', { timeout: 120_000 }, async () => {
  const dir = tempDir('mnemo-own-sentinel-', cleanups);
  const [masterPort, replicaPort] = [await freePort(), await freePort()];
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  const dataArgs = (port: number, name: string): string[] => {
    mkdirSync(join(dir, name), { recursive: true });
    return ['--port', String(port), '--dir', join(dir, name), '--save', ''];
  };
  let masterProc: ServerProcess = await spawnServer('mnemo', dataArgs(masterPort, 'a'), cleanups);
  await spawnServer('mnemo', [...dataArgs(replicaPort, 'b'), '--replicaof', '127.0.0.1', String(masterPort)], cleanups);
  const confs = sentinelPorts.map((port, i) => {
    const conf = join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 10000',
        '',
      ].join('\n'),
    );
    return conf;
  });
  await spawnSentinel('mnemo', confs[0], cleanups);
  await spawnSentinel('mnemo', confs[1], cleanups);
  await spawnSentinel('redis', confs[2], cleanups);
  const sentinels = await Promise.all(sentinelPorts.map((p) => client(p)));
  // With down-after as short as 1 s, replicas' INFO must be as fresh for one to be electable
  // at once (Redis's rule: at most 5 ping periods old once the master is down).
  // A loaded test machine can stall a Sentinel's timer past tilt-trigger; Redis's own suite
  // shortens TILT to 5 s the same way, so a stall does not hold the Sentinels idle for 30 s.
  for (const s of sentinels) assert.equal(await s.call('SENTINEL', 'DEBUG', 'info-period', '1000', 'tilt-period', '5000'), 'OK');
  const s0 = sentinels[0];
  // Replica from the master's INFO, the other two Sentinels from their hellos.
  for (const s of sentinels) {
    await waitFor(async () => ((await s.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).length === 1, 'the replica to be found', 20000);
    await waitFor(async () => ((await s.call('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[]).length === 2, 'the other Sentinels to be found', 20000);
  }
  assert.equal(await s0.call('SENTINEL', 'CKQUORUM', 'mymaster'), 'OK 3 usable Sentinels. Quorum and failover authorization can be reached');
  assert.deepEqual(await s0.call('ROLE'), ['sentinel', ['mymaster']]);

  // The seed's ioredis Sentinel client, pointed at the Mnemo Sentinels.
  const app = new Redis({
    sentinels: sentinelPorts.slice(0, 2).map((port) => ({ host: '127.0.0.1', port })),
    name: 'mymaster',
    lazyConnect: true,
  });
  await app.connect();
  cleanups.push(() => void app.disconnect());
  await app.set('order:1', 'paid');
  assert.equal(await app.wait(1, 5000), 1);

  // Events, as Redis publishes them, on a Mnemo Sentinel's own pub/sub.
  // (On every Sentinel: the leader may finish before another one reaches +odown itself.)
  const seen: string[] = [];
  const perSentinel: string[][] = [];
  for (const port of sentinelPorts) {
    const events = new Redis(port, '127.0.0.1');
    cleanups.push(() => void events.disconnect());
    const mine: string[] = [];
    perSentinel.push(mine);
    await events.psubscribe('*');
    events.on('pmessage', (_p: string, channel: string, message: string) => {
      mine.push(`${channel} ${message}`);
      seen.push(`${port}: ${channel} ${message}`);
    });
  }

  await masterProc.stop();
  for (const s of sentinels) {
    await waitFor(
      async () => ((await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[])[1] === String(replicaPort),
      'every Sentinel to switch to the replica',
      40000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; events seen: ${seen.join('; ')}`);
    });
  }
  const all = seen.join('\n');
  // Each Mnemo Sentinel saw the master go down and switched; the leader (any of the three) saw it objectively down.
  for (const [i, mine] of perSentinel.slice(0, 2).entries()) {
    assert.ok(mine.includes(`+sdown master mymaster 127.0.0.1 ${masterPort}`), `sentinel ${i} +sdown:\n${all}`);
    const switched = `+switch-master mymaster 127.0.0.1 ${masterPort} 127.0.0.1 ${replicaPort}`;
    // Its event can arrive just after GET-MASTER-ADDR-BY-NAME already answers the new address.
    await waitFor(() => mine.includes(switched), `sentinel ${i} to publish ${switched}`, 5000);
  }
  assert.ok(perSentinel.some((mine) => mine.some((e) => e.startsWith(`+odown master mymaster 127.0.0.1 ${masterPort} #quorum `))), all);
  assert.ok(perSentinel.some((mine) => mine.includes(`+elected-leader master mymaster 127.0.0.1 ${masterPort}`)), all);
  const promoted = await client(replicaPort);
  assert.equal(infoFields(await promoted.info('replication')).get('role'), 'master');
  // ioredis asks the Sentinels again and writes to the new master; the data survived.
  await waitFor(async () => (await app.set('order:2', 'paid').catch(() => null)) === 'OK', 'ioredis to write to the new master', 20000);
  assert.equal(await app.get('order:1'), 'paid');
  // The new master is in every Mnemo Sentinel's config file, with the new epoch.
  for (const conf of confs.slice(0, 2)) {
    const text = readFileSync(conf, 'latin1');
    assert.match(text, new RegExp(`^sentinel monitor mymaster 127\\.0\\.0\\.1 ${replicaPort} 2$`, 'm'));
    assert.match(text, new RegExp(`^sentinel known-replica mymaster 127\\.0\\.0\\.1 ${masterPort}$`, 'm'));
    assert.doesNotMatch(text, /^sentinel config-epoch mymaster 0$/m);
  }

  // The old master comes back as a master; the Sentinels turn it into a replica of the new one.
  masterProc = await spawnServer('mnemo', dataArgs(masterPort, 'a'), cleanups);
  const old = new Redis(masterPort, '127.0.0.1');
  cleanups.push(() => void old.disconnect());
  await waitFor(
    async () => infoFields(await old.info('replication').catch(() => '')).get('master_link_status') === 'up',
    'the old master to follow the new one',
    60000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; events seen: ${seen.join('; ')}`);
  });
  await app.set('order:3', 'paid');
  assert.equal(await app.wait(1, 5000), 1);
  assert.equal(await old.get('order:3'), 'paid');
});
