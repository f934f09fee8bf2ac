/**
 * Mnemo as a replica of a real redis-server master (`replicaof` in its
 * configuration): it performs Redis's handshake, loads the master's snapshot
 * and executes its write stream, acknowledging offsets so the master's WAIT
 * counts it. DEBUG DIGEST of both must match. A read-only replica refuses
 * writes from clients and scripts with Redis's errors; REPLICAOF NO ONE makes
 * it a master whose replid2 is the old master's id.
 *
 * redis-server comes from Debian's redis-server package (CI installs it):
 * when missing, these tests fail, they do not skip.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { freePort, spawnServer, tempDir } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';

const cleanups: Array<() => void | Promise<void>> = [];
let master: Redis;
let replica: Redis;
let masterPort = 0;
let replicaPort = 0;
let replicaLog = '';

before(async () => {
  masterPort = await freePort();
  await spawnServer('redis', ['--port', String(masterPort), '--dir', tempDir('mnemo-replica-m-', cleanups), '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes', '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'], cleanups);
  master = new Redis(masterPort, '127.0.0.1', { lazyConnect: true });
  await master.connect();
  cleanups.push(() => void master.disconnect());
  await master.set('before:snapshot', 'from the rdb');
  await master.hset('before:hash', 'f', 'v');
  replicaPort = await freePort();
  const replicaProc = await spawnServer(
    'mnemo',
    ['--port', String(replicaPort), '--dir', tempDir('mnemo-replica-r-', cleanups), '--save', '', '--replicaof', '127.0.0.1', String(masterPort), '--enable-debug-command', 'yes'],
    cleanups,
  );
  replicaProc.child.stdout!.on('data', (d) => (replicaLog += d));
  replica = new Redis(replicaPort, '127.0.0.1', { lazyConnect: true });
  await replica.connect();
  cleanups.push(() => void replica.disconnect());
  await waitFor(async () => infoFields(await replica.info('replication')).get('master_link_status') === 'up', 'the link to the master', 10000);
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function sameDigest(): Promise<void> {
  assert.equal(String(await replica.call('DEBUG', 'DIGEST')), String(await master.call('DEBUG', 'DIGEST')));
}

test('replica: Mnemo follows a redis-server master, and WAIT on the master counts its ACK', async () => {
  assert.equal(await replica.get('before:snapshot'), 'from the rdb');
  // We announce capa eof: the diskless master streamed the snapshot with an end mark.
  assert.match(replicaLog, /MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk\n/);
  assert.match(replicaLog, /MASTER <-> REPLICA sync: Loading DB in memory\n/);
  const p = master.pipeline();
  p.set('s', 'v', 'EX', 1000);
  p.rpush('l', 'a', 'b', 'c');
  p.rpop('l');
  p.zadd('z', 1, 'a', 2, 'b');
  p.sadd('set', 'x', 'y');
  p.xadd('st', '1-1', 'f', 'v');
  p.xgroup('CREATE', 'st', 'g', '0');
  p.xreadgroup('GROUP', 'g', 'c', 'STREAMS', 'st', '>');
  p.pfadd('hll', 'a');
  p.eval("redis.call('incr', 'counter'); return redis.call('set', 'by:script', 'yes')", 0);
  p.select(4);
  p.set('db4', 'four');
  p.select(0);
  p.set('short', 'lived', 'PX', 20);
  await p.exec();
  await master.multi().incr('counter').lpush('l', 'z').exec();
  await waitFor(async () => (await master.exists('short')) === 0, 'the master to expire short', 5000);
  // The connection that wrote waits for the replica's acknowledgement of its writes.
  assert.equal(await master.wait(1, 5000), 1);
  await waitFor(async () => (await replica.exists('short')) === 0, 'the DEL of short');
  await sameDigest();
  const info = infoFields(await replica.info('replication'));
  assert.equal(info.get('role'), 'slave');
  assert.equal(info.get('master_port'), String(masterPort));
  assert.equal(info.get('slave_read_only'), '1');
  const masterInfo = infoFields(await master.info('replication'));
  assert.equal(info.get('master_replid'), masterInfo.get('master_replid'));
  await waitFor(async () => infoFields(await replica.info('replication')).get('slave_repl_offset') === infoFields(await master.info('replication')).get('master_repl_offset'), 'the offsets to meet');
  const role = (await replica.call('ROLE')) as [string, string, number, string, number];
  assert.deepEqual(role.slice(0, 4), ['slave', '127.0.0.1', masterPort, 'connected']);
  assert.match(masterInfo.get('slave0') ?? '', /state=online/);
});

test('replica: writes from clients and scripts get READONLY, reads work', async () => {
  await assert.rejects(replica.set('x', '1'), /^ReplyError: READONLY You can't write against a read only replica\.$/);
  await assert.rejects(replica.eval("return redis.call('set', 'x', '1')", 0), /READONLY You can't write against a read only replica/);
  await assert.rejects(replica.eval("#!lua\nreturn redis.call('set', 'x', '1')", 0), /^ReplyError: READONLY You can't write against a read only replica\.$/);
  assert.equal(await replica.eval("#!lua flags=no-writes\nreturn redis.call('get', 'by:script')", 0), 'yes');
  await assert.rejects(replica.wait(1, 10), /WAIT cannot be used with replica instances/);
  assert.equal(await replica.exists('x'), 0);
});

test('replica: CLIENT PAUSE WRITE holds the master\'s writes (the offset stays, what was read grows) until UNPAUSE', async () => {
  await master.set('pause:a', '1');
  assert.equal(await master.wait(1, 5000), 1);
  const masterOffset = async (): Promise<number> => Number(infoFields(await master.info('replication')).get('master_repl_offset'));
  const replicaField = async (name: string): Promise<number> => Number(infoFields(await replica.info('replication')).get(name));
  const before = await replicaField('slave_repl_offset');
  assert.equal(await replica.call('CLIENT', 'PAUSE', '100000', 'WRITE'), 'OK');
  try {
    await master.set('pause:b', '2');
    const target = await masterOffset();
    await waitFor(async () => (await replicaField('slave_read_repl_offset')) === target, 'the write to arrive', 5000);
    assert.equal(await replicaField('slave_repl_offset'), before);
    assert.equal(await replica.get('pause:b'), null);
  } finally {
    assert.equal(await replica.call('CLIENT', 'UNPAUSE'), 'OK');
  }
  await waitFor(async () => (await replica.get('pause:b')) === '2', 'the held write to run', 5000);
  assert.equal(await replicaField('slave_repl_offset'), await masterOffset());
  await sameDigest();
});

test('replica: an expired key reads as missing but stays until the master sends its DEL', async () => {
  await master.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  try {
    await master.set('fleeting', 'v', 'PX', 30);
    assert.equal(await master.wait(1, 5000), 1);
    await new Promise((r) => setTimeout(r, 80));
    const size = await replica.dbsize();
    assert.equal(await replica.get('fleeting'), null);
    assert.equal(await replica.exists('fleeting'), 0);
    // Still stored: DBSIZE counts it, as on a Redis replica.
    assert.equal(await replica.dbsize(), size);
    // The master expires it on access and propagates the DEL: now it is gone here too.
    assert.equal(await master.get('fleeting'), null);
    assert.equal(await master.wait(1, 5000), 1);
    assert.equal(await replica.dbsize(), size - 1);
  } finally {
    await master.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
  }
});

test('replica: a writable replica expires the TTLs its own clients set, and its writes replace logically expired keys', async () => {
  await master.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  await replica.config('SET', 'replica-read-only', 'no');
  try {
    await replica.select(7);
    await replica.set('own', '1', 'PX', 50);
    await waitFor(async () => (await replica.dbsize()) === 0, 'the replica to expire its own key actively', 3000);
    await master.select(7);
    await master.set('k1', '5', 'PX', 20);
    await master.set('k2', '5', 'PX', 20);
    assert.equal(await master.wait(1, 5000), 1);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await replica.dbsize(), 2);
    // INCR deletes the expired k1 and creates it anew, without TTL; GET only hides k2.
    assert.equal(await replica.incr('k1'), 1);
    assert.equal(await replica.ttl('k1'), -1);
    assert.equal(await replica.get('k2'), null);
    assert.equal(await replica.dbsize(), 2);
  } finally {
    await master.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    await master.del('k1', 'k2');
    await master.select(0);
    assert.equal(await master.wait(1, 5000), 1);
    await replica.config('SET', 'replica-read-only', 'yes');
    await replica.select(0);
  }
});

test('replica: a command of the master\'s stream that fails here is logged as CRITICAL with the latest backlog, and counted', async () => {
  const before = Number(infoFields(await replica.info('stats')).get('unexpected_error_replies'));
  await master.call('DEBUG', 'REPLICATE', 'fake-command-1');
  await master.set('after:fake', '1');
  assert.equal(await master.wait(1, 5000), 1);
  await waitFor(() => replicaLog.includes('fake-command-1'), 'the CRITICAL log line');
  const lines = replicaLog.split('\n').filter((l) => l.includes('fake-command-1'));
  assert.equal(lines.length, 1);
  assert.match(lines[0], / # == CRITICAL == This replica is sending an error to its master: 'ERR unknown command 'fake-command-1', with args beginning with: ' after processing the command '<unknown>'$/);
  assert.match(replicaLog, / # Latest backlog is: '.*\\r\\n'\n/);
  assert.equal(Number(infoFields(await replica.info('stats')).get('unexpected_error_replies')), before + 1);
  assert.equal(await replica.get('after:fake'), '1');
});

test('replica: the master link is a client (flags=M); killed, it resumes with a partial resync; MASTERDOWN meanwhile if stale data is refused', async () => {
  const list = String(await replica.call('CLIENT', 'LIST', 'TYPE', 'master'));
  assert.match(list, new RegExp(`^id=\\d+ addr=127\\.0\\.0\\.1:${masterPort} .* flags=M `));
  await replica.config('SET', 'replica-serve-stale-data', 'no');
  try {
    assert.equal(await replica.call('CLIENT', 'KILL', 'TYPE', 'master'), 1);
    // Until the link is back: data commands (and PING) get MASTERDOWN, commands flagged stale (INFO) run.
    await assert.rejects(replica.get('by:script'), /^ReplyError: MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'\.$/);
    await assert.rejects(replica.ping(), /MASTERDOWN/);
    assert.equal(infoFields(await replica.info('replication')).get('master_link_status'), 'down');
    await waitFor(async () => infoFields(await replica.info('replication')).get('master_link_status') === 'up', 'the link back', 10000);
    assert.equal(await replica.get('by:script'), 'yes');
    assert.equal(infoFields(await master.info('stats')).get('sync_partial_ok'), '1');
  } finally {
    await replica.config('SET', 'replica-serve-stale-data', 'yes');
  }
});

test('replica: a partial resync continues in the db the master\'s stream had selected', async () => {
  await master.select(3);
  try {
    await master.set('in:db3', 'first');
    assert.equal(await master.wait(1, 5000), 1);
    const partial = Number(infoFields(await master.info('stats')).get('sync_partial_ok'));
    assert.equal(await replica.call('CLIENT', 'KILL', 'TYPE', 'master'), 1);
    // The master's stream is still in db 3: what it missed comes without a SELECT.
    await master.set('in:db3', 'second');
    await waitFor(async () => infoFields(await replica.info('replication')).get('master_link_status') === 'up', 'the link back', 10000);
    assert.equal(Number(infoFields(await master.info('stats')).get('sync_partial_ok')), partial + 1);
    await master.set('in:db3', 'third');
    assert.equal(await master.wait(1, 5000), 1);
    await replica.select(3);
    assert.equal(await replica.get('in:db3'), 'third');
    await replica.select(0);
    assert.equal(await replica.exists('in:db3'), 0);
  } finally {
    await master.del('in:db3');
    await master.select(0);
  }
});

test('replica: REPLICAOF NO ONE makes it a master that keeps the data and the old replication id as replid2', async () => {
  const before = infoFields(await replica.info('replication'));
  assert.equal(await replica.call('REPLICAOF', 'NO', 'ONE'), 'OK');
  const after = infoFields(await replica.info('replication'));
  assert.equal(after.get('role'), 'master');
  assert.equal(after.get('master_replid2'), before.get('master_replid'));
  assert.equal(after.get('second_repl_offset'), String(Number(before.get('master_repl_offset')) + 1));
  assert.notEqual(after.get('master_replid'), before.get('master_replid'));
  assert.equal(await replica.set('x', 'writable'), 'OK');
  assert.equal(await replica.get('by:script'), 'yes');
  // Following the same master again resyncs: the local write is gone.
  assert.equal(await replica.call('REPLICAOF', '127.0.0.1', String(masterPort)), 'OK');
  assert.equal(await replica.call('REPLICAOF', '127.0.0.1', String(masterPort)), 'OK Already connected to specified master');
  await waitFor(async () => infoFields(await replica.info('replication')).get('master_link_status') === 'up', 'the link back', 10000);
  await master.set('after:rejoin', '1');
  assert.equal(await master.wait(1, 5000), 1);
  await sameDigest();
  assert.equal(await replica.exists('x'), 0);
  assert.equal(String(await replica.config('GET', 'replicaof').then((r) => (r as string[])[1])), `127.0.0.1 ${masterPort}`);
});

test('replica: a redis-server replica of Mnemo gets the master\'s stream proxied (same id and offsets) and continues after Mnemo is promoted', async () => {
  const subPort = await freePort();
  const sub = await spawnServer(
    'redis',
    ['--port', String(subPort), '--dir', tempDir('mnemo-replica-sub-', cleanups), '--replicaof', '127.0.0.1', String(replicaPort), '--save', '', '--enable-debug-command', 'yes'],
    cleanups,
  );
  let subLog = '';
  sub.child.stdout!.on('data', (d) => (subLog += d));
  const subClient = new Redis(subPort, '127.0.0.1', { lazyConnect: true });
  await subClient.connect();
  cleanups.push(() => void subClient.disconnect());
  await waitFor(async () => infoFields(await subClient.info('replication')).get('master_link_status') === 'up', 'the sub-replica link', 10000);
  await master.set('chained', 'through mnemo');
  await master.lpush('chained:list', 'a', 'b');
  assert.equal(await master.wait(1, 5000), 1);
  // Byte for byte the top master's stream: same replication id, same offset.
  await waitFor(
    async () => infoFields(await subClient.info('replication')).get('slave_repl_offset') === infoFields(await master.info('replication')).get('master_repl_offset'),
    'the sub-replica to reach the top master\'s offset',
  );
  assert.equal(infoFields(await subClient.info('replication')).get('master_replid'), infoFields(await master.info('replication')).get('master_replid'));
  assert.equal(String(await subClient.call('DEBUG', 'DIGEST')), String(await master.call('DEBUG', 'DIGEST')));
  // Mnemo becomes a master: its replica continues under replid2 instead of a full resync.
  assert.equal(await replica.call('REPLICAOF', 'NO', 'ONE'), 'OK');
  await waitFor(() => /Successful partial resynchronization/.test(subLog), 'a partial resync of the sub-replica', 10000);
  await replica.set('after:promotion', 'x');
  await waitFor(async () => (await subClient.get('after:promotion')) === 'x', 'the write to reach the sub-replica', 5000);
  assert.equal(String(await subClient.call('DEBUG', 'DIGEST')), String(await replica.call('DEBUG', 'DIGEST')));
});

test('replica: a master that accepts but never answers the handshake is left after repl-timeout, and tried again', async () => {
  const { createServer } = await import('node:net');
  const { startServer } = await import('../../src/index.js');
  let connections = 0;
  const accepted: Array<import('node:net').Socket> = [];
  const silent = createServer((sock) => {
    connections++;
    accepted.push(sock);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const silentPort = (silent.address() as { port: number }).port;
  const srv = await startServer({ port: 0, config: { 'repl-timeout': '1' } });
  const c = new Redis(srv.port, srv.host, { lazyConnect: true });
  await c.connect();
  try {
    assert.equal(await c.call('REPLICAOF', '127.0.0.1', String(silentPort)), 'OK');
    await waitFor(() => connections >= 2, 'a second attempt after the timeout', 6000);
    assert.equal(infoFields(await c.info('replication')).get('master_link_status'), 'down');
  } finally {
    c.disconnect();
    await srv.close();
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});
