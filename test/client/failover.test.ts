/**
 * FAILOVER (Redis 7.0's coordinated failover) between in-process servers:
 * writes pause until the target acknowledged the whole stream, then the
 * master follows it and its PSYNC ... FAILOVER makes the target the master
 * (a partial resync, no full one); FAILOVER ABORT, a TIMEOUT without FORCE and
 * a target that refuses the PSYNC each leave the master as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';
import { setLogSink } from '../../src/persistence/log.js';

const info = async (io: Redis, section: string) => infoFields(await io.info(section));

test('FAILOVER TO a replica: it becomes the master, the old master its replica, with a partial resync', async () => {
  const config = { 'repl-diskless-sync-delay': '0' };
  const a = await startTestServer(config);
  const b = await startTestServer(config);
  const [ia, ib] = [await connectIo(a), await connectIo(b)];
  const logs: string[] = [];
  setLogSink(a.server, (_level, msg) => logs.push(msg));
  setLogSink(b.server, () => {});
  try {
    await ia.set('k', '1');
    await ib.call('REPLICAOF', a.host, String(a.port));
    await waitFor(async () => (await info(ia, 'replication')).get('slave0')?.includes('state=online') === true, 'b online');
    await ia.set('k', '2');
    const fullBefore = (await info(ib, 'stats')).get('sync_full');
    const bPort = String(b.port);
    assert.equal(await ia.call('FAILOVER', 'TO', '127.0.0.1', bPort), 'OK');
    assert.equal((await info(ia, 'replication')).get('master_failover_state'), 'waiting-for-sync');
    await assert.rejects(ia.call('FAILOVER'), /^ReplyError: ERR FAILOVER already in progress\.$/);
    await assert.rejects(ia.call('REPLICAOF', 'NO', 'ONE'), /^ReplyError: ERR REPLICAOF not allowed while failing over\.$/);
    await waitFor(async () => (await info(ia, 'replication')).get('master_failover_state') === 'no-failover', 'the failover to end', 5000);
    assert.equal((await info(ia, 'replication')).get('role'), 'slave');
    assert.equal((await info(ib, 'replication')).get('role'), 'master');
    await waitFor(async () => (await info(ib, 'replication')).get('connected_slaves') === '1', 'a to follow b');
    assert.equal((await info(ib, 'stats')).get('sync_partial_ok'), '1');
    assert.equal((await info(ib, 'stats')).get('sync_full'), fullBefore);
    assert.ok(logs.some((l) => l.includes('is synced, failing over.')), logs.join('\n'));
    await ib.set('k', '3');
    await waitFor(async () => (await ia.get('k')) === '3', 'b\'s write to reach a');
  } finally {
    await closeAll(a, ia);
    await closeAll(b, ib);
  }
});

test('FAILOVER to a replica that refuses the PSYNC is undone: a master again, held writes then run', async () => {
  const config = { 'repl-diskless-sync-delay': '0' };
  const a = await startTestServer(config);
  const b = await startTestServer(config);
  const [ia, ib, writer] = [await connectIo(a), await connectIo(b), await connectIo(a)];
  const logs: string[] = [];
  setLogSink(a.server, (_level, msg) => logs.push(msg));
  setLogSink(b.server, () => {});
  try {
    await ib.call('REPLICAOF', a.host, String(a.port));
    await waitFor(async () => (await info(ia, 'replication')).get('slave0')?.includes('state=online') === true, 'b online');
    await ib.call('ACL', 'SETUSER', 'default', '-psync');
    assert.equal(await ia.call('FAILOVER', 'TO', '127.0.0.1', String(b.port)), 'OK');
    // Writes wait for the failover to end; reads do not.
    const held = writer.set('foo', 'bar');
    assert.equal(await ia.get('foo'), null);
    await waitFor(async () => (await info(ia, 'replication')).get('master_failover_state') === 'no-failover', 'the failover to end', 5000);
    assert.equal(await held, 'OK');
    assert.equal((await info(ia, 'replication')).get('role'), 'master');
    assert.ok(logs.some((l) => l.includes('Failover target rejected psync request')), logs.join('\n'));
  } finally {
    await ib.call('ACL', 'SETUSER', 'default', '+psync').catch(() => {});
    writer.disconnect();
    await closeAll(a, ia);
    await closeAll(b, ib);
  }
});

test('FAILOVER waiting for a replica that never acknowledges: ABORT, and TIMEOUT without FORCE, undo it', async () => {
  const a = await startTestServer();
  const [ia, writer] = [await connectIo(a), await connectIo(a)];
  const logs: string[] = [];
  setLogSink(a.server, (_level, msg) => logs.push(msg));
  // A replica that completes the handshake and never sends REPLCONF ACK.
  const replica: Socket = connect(a.port, a.host);
  try {
    await new Promise<void>((resolve, reject) => replica.once('connect', resolve).once('error', reject));
    let got = '';
    replica.on('data', (d: Buffer) => (got += d.toString('latin1')));
    replica.write('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7777\r\n');
    await waitFor(() => got === '+OK\r\n', 'REPLCONF to be answered');
    replica.write('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
    await waitFor(async () => (await info(ia, 'replication')).get('slave0')?.includes('state=online') === true, 'the replica online');
    await ia.set('k', '1');
    assert.equal(await ia.call('FAILOVER', 'TO', '127.0.0.1', '7777', 'TIMEOUT', '60000'), 'OK');
    const held = writer.set('k', '2');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await ia.get('k'), '1');
    assert.equal(await ia.call('FAILOVER', 'ABORT'), 'OK');
    assert.equal((await info(ia, 'replication')).get('master_failover_state'), 'no-failover');
    assert.equal(await held, 'OK');
    await assert.rejects(ia.call('FAILOVER', 'ABORT'), /^ReplyError: ERR No failover in progress\.$/);
    // TIMEOUT without FORCE: aborted when the time is up.
    assert.equal(await ia.call('FAILOVER', 'TIMEOUT', '100'), 'OK');
    await waitFor(async () => (await info(ia, 'replication')).get('master_failover_state') === 'no-failover', 'the timeout', 3000);
    assert.equal((await info(ia, 'replication')).get('role'), 'master');
    assert.ok(logs.some((l) => l.includes('FAILOVER to any replica aborted: Replica never caught up before timeout')), logs.join('\n'));
  } finally {
    replica.destroy();
    writer.disconnect();
    await closeAll(a, ia);
  }
});
