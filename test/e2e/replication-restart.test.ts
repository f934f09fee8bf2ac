/**
 * PSYNC2 across restarts, as Redis 7: an RDB records the replication stream
 * the dataset is at (repl-id, repl-offset, repl-stream-db aux fields). A
 * master restarted from it keeps that id as replid2 with an empty backlog, so
 * its replicas continue with +CONTINUE; a replica restarted from it asks its
 * master to continue from its offset instead of a full resync.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { freePort, spawnServer, tempDir, type ServerProcess } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function start(port: number, dir: string, extra: string[] = []): Promise<{ proc: ServerProcess; io: Redis }> {
  const proc = await spawnServer('mnemo', ['--port', String(port), '--dir', dir, '--save', '3600 1', '--repl-ping-replica-period', '3600', '--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0', ...extra], cleanups);
  const io = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  await io.connect();
  cleanups.push(() => void io.disconnect());
  return { proc, io };
}

async function shutdown(s: { proc: ServerProcess; io: Redis }): Promise<void> {
  // NOW: a master with a replica behind its last GETACK would otherwise wait for it and send
  // another REPLCONF GETACK first (as Redis does), moving the offsets this test compares.
  await s.io.call('SHUTDOWN', 'SAVE', 'NOW').catch(() => {});
  await s.proc.exited;
  s.io.disconnect();
}

const info = async (io: Redis, section: string) => infoFields(await io.info(section));

test('replication across restarts: a restarted master and a restarted replica continue with partial resyncs', async () => {
  const [mp, rp] = [await freePort(), await freePort()];
  const [mdir, rdir] = [tempDir('mnemo-rr-m-', cleanups), tempDir('mnemo-rr-r-', cleanups)];
  let master = await start(mp, mdir);
  let replica = await start(rp, rdir);
  await replica.io.call('REPLICAOF', '127.0.0.1', String(mp));
  await waitFor(async () => (await info(replica.io, 'replication')).get('master_link_status') === 'up', 'the replica link', 10000);
  // A replica of the replica: it is told the new id after the master's restart.
  const sub = await start(await freePort(), tempDir('mnemo-rr-s-', cleanups));
  await sub.io.call('REPLICAOF', '127.0.0.1', String(rp));
  await waitFor(async () => (await info(sub.io, 'replication')).get('master_link_status') === 'up', 'the sub-replica link', 10000);
  await master.io.select(5);
  await master.io.set('a', '1');
  // Keys that expire while the master is down: it does not load them and sends their DELs.
  await master.io.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  for (const db of [0, 7]) {
    await master.io.select(db);
    await master.io.set(`short:${db}`, 'v', 'PX', 10);
  }
  await master.io.select(5);
  assert.equal(await master.io.wait(1, 5000), 1);
  await new Promise((r) => setTimeout(r, 30));
  const before = await info(master.io, 'replication');

  // The master restarts from its RDB.
  await shutdown(master);
  master = await start(mp, mdir);
  await waitFor(async () => (await info(master.io, 'replication')).get('connected_slaves') === '1', 'the replica back', 15000);
  let now = await info(master.io, 'replication');
  assert.equal(now.get('master_replid2'), before.get('master_replid'));
  assert.equal(now.get('second_repl_offset'), String(Number(before.get('master_repl_offset')) + 1));
  assert.notEqual(now.get('master_replid'), before.get('master_replid'));
  assert.equal((await info(master.io, 'stats')).get('sync_partial_ok'), '1');
  assert.equal((await info(master.io, 'stats')).get('sync_full'), '0');
  assert.equal((await info(master.io, 'persistence')).get('rdb_last_load_keys_expired'), '2');
  // The replica continued under the new id and made its own replica reconnect to learn it.
  await waitFor(async () => (await info(sub.io, 'replication')).get('master_replid') === now.get('master_replid'), 'the new id at the sub-replica');
  assert.equal((await info(replica.io, 'stats')).get('sync_partial_ok'), '1');
  assert.equal((await info(replica.io, 'stats')).get('sync_full'), '1');
  // SELECT 0, DEL short:0, SELECT 7, DEL short:7 went to the backlog after the saved offset.
  const dels = '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*2\r\n$3\r\nDEL\r\n$7\r\nshort:0\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n7\r\n*2\r\n$3\r\nDEL\r\n$7\r\nshort:7\r\n';
  assert.equal(now.get('repl_backlog_histlen'), String(dels.length));
  assert.equal(now.get('master_repl_offset'), String(Number(before.get('master_repl_offset')) + dels.length));
  await waitFor(async () => (await replica.io.dbsize()) === 0, 'the DEL of short:0 on the replica');
  await master.io.select(5);
  await master.io.set('b', '2');
  assert.equal(await master.io.wait(1, 5000), 1);
  await replica.io.select(5);
  assert.equal(await replica.io.get('b'), '2');

  // The replica restarts from its RDB (replicaof in its configuration).
  const offset = Number((await info(master.io, 'replication')).get('master_repl_offset'));
  await shutdown(replica);
  await master.io.set('c', '3'); // missed while it was down, in the db the stream selected
  replica = await start(rp, rdir, ['--replicaof', '127.0.0.1', String(mp)]);
  await waitFor(async () => (await info(replica.io, 'replication')).get('master_link_status') === 'up', 'the restarted replica link', 15000);
  assert.equal((await info(master.io, 'stats')).get('sync_partial_ok'), '2');
  assert.equal((await info(master.io, 'stats')).get('sync_full'), '0');
  await replica.io.select(5);
  assert.equal(await replica.io.get('c'), '3');
  now = await info(replica.io, 'replication');
  assert.ok(Number(now.get('master_repl_offset')) > offset);
  assert.equal(String(await replica.io.call('DEBUG', 'DIGEST')), String(await master.io.call('DEBUG', 'DIGEST')));
});
