/**
 * repl-diskless-load swapdb on a replica (replication.tcl "Diskless load swapdb"):
 * the load starts with the transfer. From a master with another replication id
 * the replica is loading (-LOADING); with the same id it loads asynchronously,
 * serving its old dataset and refusing only no-async-loading commands. A
 * transfer cut short leaves the old dataset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';
import { setLogSink } from '../../src/persistence/log.js';

test('repl-diskless-load swapdb: loading, then async loading with the same replication id; a broken transfer keeps the old dataset', async () => {
  const master = await startTestServer({ 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': '0', 'enable-debug-command': 'yes' });
  const replica = await startTestServer({ 'repl-diskless-load': 'swapdb', 'replica-read-only': 'no' });
  const lines: string[] = [];
  setLogSink(master.server, () => {});
  setLogSink(replica.server, (level, line) => lines.push(`${level}: ${line}`));
  const m = await connectIo(master);
  const r = await connectIo(replica);
  const persistence = async () => infoFields(await r.info('persistence'));
  try {
    await m.call('DEBUG', 'POPULATE', '50');
    await r.set('mykey', 'myvalue');
    // 20 ms per key: the transfer takes about a second.
    await m.config('SET', 'rdb-key-save-delay', '20000');
    await r.call('REPLICAOF', master.host, String(master.port));
    await waitFor(async () => (await persistence()).get('loading') === '1', 'the replica to load', 5000);
    assert.equal((await persistence()).get('async_loading'), '0');
    assert.ok(lines.some((l) => /MASTER <-> REPLICA sync: Loading DB in memory$/.test(l)), lines.join('\n'));
    await m.call('CLIENT', 'KILL', 'TYPE', 'replica');
    await waitFor(async () => (await persistence()).get('loading') === '0', 'the load to stop');
    assert.equal(await r.get('mykey'), 'myvalue');
    assert.equal(await r.dbsize(), 1);
    assert.ok(lines.some((l) => /Discarding temporary DB in background$/.test(l)), lines.join('\n'));
    // The next attempt completes: the master's dataset replaces ours.
    await m.config('SET', 'rdb-key-save-delay', '0');
    await waitFor(async () => infoFields(await r.info('replication')).get('master_link_status') === 'up', 'the sync', 5000);
    assert.equal(await r.get('mykey'), null);
    assert.equal(await r.dbsize(), 50);
    // Same replication id: a new full sync (the backlog no longer holds what the replica missed) loads asynchronously.
    await r.set('mykey', 'myvalue');
    await m.config('SET', 'rdb-key-save-delay', '20000');
    await m.config('SET', 'repl-backlog-size', '16384');
    const tx = m.multi();
    tx.call('CLIENT', 'KILL', 'TYPE', 'replica');
    for (let i = 0; i < 10; i++) tx.set(`big:${i}`, 'A'.repeat(16384));
    await tx.exec();
    await waitFor(async () => (await persistence()).get('async_loading') === '1', 'the async load', 5000);
    assert.equal((await persistence()).get('loading'), '0');
    assert.equal(await r.get('mykey'), 'myvalue');
    await assert.rejects(r.call('REPLICAOF', 'NO', 'ONE'), /^ReplyError: LOADING/);
    await assert.rejects(r.config('SET', 'appendonly', 'no'), /LOADING/);
    await m.config('SET', 'rdb-key-save-delay', '0');
    await waitFor(async () => (await persistence()).get('async_loading') === '0', 'the async load to end', 10000);
    await waitFor(async () => infoFields(await r.info('replication')).get('master_link_status') === 'up', 'the sync', 5000);
    assert.equal(await r.get('mykey'), null);
    assert.equal(await r.dbsize(), 60);
  } finally {
    await r.call('REPLICAOF', 'NO', 'ONE').catch(() => {});
    await closeAll(replica, r);
    await closeAll(master, m);
  }
});
