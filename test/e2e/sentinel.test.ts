/**
 * The seed's Sentinel setup with Mnemo as the data nodes: a real Redis
 * Sentinel (`redis-server --sentinel`, Debian's 7.0.15) monitors a Mnemo
 * master and a Mnemo replica. ioredis finds the master through the Sentinel.
 * When the master dies, the Sentinel promotes the replica (REPLICAOF NO ONE
 * after reading INFO replication), ioredis follows it to the new master, and
 * the old master, restarted, is turned into a replica of the new one
 * (REPLICAOF inside MULTI with CONFIG REWRITE) and receives its writes.
 *
 * redis-server comes from Debian's redis-server package (CI installs it):
 * when missing, these tests fail, they do not skip.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
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
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
  await r.connect();
  cleanups.push(() => void r.disconnect());
  return r;
}

test('sentinel: a Redis Sentinel fails a Mnemo master over to its Mnemo replica, and ioredis follows', { timeout: 90_000 }, async () => {
  const dir = tempDir('mnemo-sentinel-', cleanups);
  const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
  const mnemoArgs = (port: number, name: string): string[] => ['--port', String(port), '--dir', join(dir, name), '--save', ''];
  for (const name of ['a', 'b']) tempDirAt(join(dir, name));
  let masterProc: ServerProcess = await spawnServer('mnemo', mnemoArgs(masterPort, 'a'), cleanups);
  await spawnServer('mnemo', [...mnemoArgs(replicaPort, 'b'), '--replicaof', '127.0.0.1', String(masterPort)], cleanups);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 10000',
      '',
    ].join('\n'),
  );
  await spawnSentinel('redis', conf, cleanups, '+monitor master mymaster');
  const sentinel = await client(sentinelPort);
  // With down-after as short as 1 s, the replica's INFO must be as fresh for it to be electable at
  // once (at most 5 ping periods old once the master is down); the default 10 s period could make
  // the first attempt abort with -failover-abort-no-good-slave and the next one come 20 s later.
  assert.equal(await sentinel.call('SENTINEL', 'DEBUG', 'info-period', '1000'), 'OK');
  // The Sentinel learns the replica from the master's INFO replication.
  await waitFor(async () => ((await sentinel.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).length === 1, 'the Sentinel to see the replica', 20000);

  const app = new Redis({ sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'mymaster', lazyConnect: true });
  await app.connect();
  cleanups.push(() => void app.disconnect());
  await app.set('order:1', 'paid');
  assert.equal(await app.wait(1, 5000), 1);

  await masterProc.stop();
  await waitFor(
    async () => ((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[])[1] === String(replicaPort),
    'the Sentinel to promote the replica',
    30000,
  );
  const promoted = await client(replicaPort);
  assert.equal(infoFields(await promoted.info('replication')).get('role'), 'master');
  // ioredis reconnects through the Sentinel to the new master; the data survived.
  await waitFor(async () => (await app.set('order:2', 'paid').catch(() => null)) === 'OK', 'ioredis to write to the new master', 20000);
  assert.equal(await app.get('order:1'), 'paid');

  // The old master comes back and the Sentinel turns it into a replica of the new one.
  masterProc = await spawnServer('mnemo', mnemoArgs(masterPort, 'a'), cleanups);
  // Converting it, the Sentinel kills its normal clients (CLIENT KILL TYPE normal), as with Redis: this one reconnects.
  const old = new Redis(masterPort, '127.0.0.1');
  cleanups.push(() => void old.disconnect());
  await waitFor(
    async () => infoFields(await old.info('replication').catch(() => '')).get('master_link_status') === 'up',
    'the old master to follow the new one',
    40000,
  );
  await app.set('order:3', 'paid');
  assert.equal(await app.wait(1, 5000), 1);
  assert.equal(await old.get('order:3'), 'paid');
  assert.equal(infoFields(await old.info('replication')).get('master_port'), String(replicaPort));
});

function tempDirAt(path: string): void {
  // mnemo-server needs its --dir to exist.
  mkdirSync(path, { recursive: true });
}
