/**
 * A real redis-server replica of Mnemo: `redis-server --replicaof` attaches
 * with PSYNC, loads Mnemo's snapshot, applies the write stream and
 * acknowledges it. The check is Redis's own: DEBUG DIGEST of the replica
 * equals the master's after WAIT, over every type, expiry, MULTI, scripts,
 * blocking pops and several dbs. Then the link is cut and the replica comes
 * back with a partial resynchronization from the backlog.
 *
 * redis-server comes from Debian's redis-server package (CI installs it):
 * when missing, these tests fail, they do not skip.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect } from 'node:net';
import { freePort, spawnServer, tempDir, type ServerProcess } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';

const cleanups: Array<() => void | Promise<void>> = [];
let master: Redis;
let replica: Redis;
let replicaProc: ServerProcess;
let replicaLog = '';
let masterPort = 0;

before(async () => {
  masterPort = await freePort();
  // Each server works in a temp dir: a replica writes the snapshot it received as dump.rdb
  // there, which a redis-server started later from the same cwd would load.
  const masterDir = tempDir('mnemo-repl-master-', cleanups);
  await spawnServer('mnemo', ['--port', String(masterPort), '--dir', masterDir, '--save', '', '--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0'], cleanups);
  master = new Redis(masterPort, '127.0.0.1', { lazyConnect: true });
  await master.connect();
  cleanups.push(() => void master.disconnect());
  // Data written before the replica attaches travels in the snapshot.
  await master.set('before:snapshot', 'in the rdb');
  await master.zadd('before:zset', 1, 'a', 2.5, 'b');
  const replicaPort = await freePort();
  replicaProc = await spawnServer(
    'redis',
    ['--port', String(replicaPort), '--dir', tempDir('mnemo-repl-replica-', cleanups), '--replicaof', '127.0.0.1', String(masterPort), '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes'],
    cleanups,
  );
  replicaProc.child.stdout!.on('data', (d) => (replicaLog += d));
  replica = new Redis(replicaPort, '127.0.0.1', { lazyConnect: true });
  await replica.connect();
  cleanups.push(() => void replica.disconnect());
  await waitFor(async () => infoFields(await replica.info('replication')).get('master_link_status') === 'up', 'the replica link', 10000);
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function digests(): Promise<[string, string]> {
  return [String(await master.call('DEBUG', 'DIGEST')), String(await replica.call('DEBUG', 'DIGEST'))];
}

test('replication: a redis-server replica applies the stream and WAIT counts its acknowledgement', async () => {
  assert.equal(await replica.get('before:snapshot'), 'in the rdb');
  const p = master.pipeline();
  p.set('s:ttl', 'v', 'EX', 1000);
  p.set('s:plain', 'x');
  p.incrbyfloat('s:float', '1.5');
  p.append('s:plain', 'yz');
  p.rpush('l', 'a', 'b', 'c');
  p.lpop('l');
  p.hset('h', 'f1', 'v1', 'f2', 'v2');
  p.hincrby('h', 'n', 7);
  p.sadd('set', 'a', 'b', 'c');
  p.spop('set'); // random: propagated as SREM of the member popped
  p.zadd('z', 1, 'x', 2, 'y');
  p.zincrby('z', 5, 'x');
  p.pfadd('hll', 'a', 'b', 'c');
  p.xadd('stream', '*', 'f', 'v');
  p.xgroup('CREATE', 'stream', 'g', '0');
  p.xreadgroup('GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', 'stream', '>');
  p.setbit('bits', 100, 1);
  p.geoadd('geo', 13.361389, 38.115556, 'Palermo');
  p.eval("redis.call('set', 'from:script', ARGV[1]); return redis.call('incr', 'counter')", 0, 'lua');
  p.select(3);
  p.set('db3:key', 'three');
  p.select(5);
  p.set('db5:key', 'gone');
  p.flushdb();
  p.select(0);
  p.set('short', 'lived', 'PX', 30);
  await p.exec();
  assert.deepEqual(await master.multi().set('tx:a', '1').incr('tx:a').exec(), [[null, 'OK'], [null, 2]]);
  // A blocked pop served by a push from another client propagates as the pop.
  const blocker = master.duplicate();
  cleanups.push(() => void blocker.disconnect());
  const popped = blocker.blpop('queue', 5);
  await waitFor(async () => infoFields(await master.info('clients')).get('blocked_clients') === '1', 'the blocked client');
  await master.rpush('queue', 'job1', 'job2');
  assert.deepEqual(await popped, ['queue', 'job1']);
  // The master expires 'short' (and propagates DEL); the replica never expires keys itself.
  await waitFor(async () => (await master.exists('short')) === 0, 'active expiry of short', 5000);
  assert.equal(await master.wait(1, 5000), 1);
  const [m, r] = await digests();
  assert.equal(r, m);
  assert.equal(await replica.get('from:script'), 'lua');
  assert.equal(await replica.exists('short'), 0);
  // Replicas refuse writes (Redis's replica-read-only), so nothing else changes its data.
  await assert.rejects(replica.set('x', '1'), /READONLY/);

  const info = infoFields(await master.info('replication'));
  assert.equal(info.get('role'), 'master');
  assert.equal(info.get('connected_slaves'), '1');
  assert.match(info.get('slave0') ?? '', /^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
  assert.equal(info.get('repl_backlog_active'), '1');
  assert.equal(info.get('repl_backlog_first_byte_offset'), '1');
  // The replica processed exactly the bytes the master produced.
  await waitFor(async () => infoFields(await replica.info('replication')).get('slave_repl_offset') === infoFields(await master.info('replication')).get('master_repl_offset'), 'offsets to meet');
  const role = (await master.call('ROLE')) as [string, number, string[][]];
  assert.equal(role[0], 'master');
  assert.equal(role[2].length, 1);
  assert.equal(role[2][0][0], '127.0.0.1');
  // The replica is flagged S and not counted in connected_clients.
  assert.match(String(await master.client('LIST')), /flags=S /);
  assert.equal(infoFields(await master.info('clients')).get('connected_clients'), '2');
});

test('replication: a replica that lost its link resumes with a partial resync from the backlog', async () => {
  await replica.call('CLIENT', 'KILL', 'TYPE', 'master');
  await master.set('after:reconnect', 'partial');
  await waitFor(() => /Successful partial resynchronization/.test(replicaLog), 'a partial resync', 10000);
  await waitFor(async () => infoFields(await replica.info('replication')).get('master_link_status') === 'up', 'the link back', 10000);
  await master.lpush('after:list', 'x');
  assert.equal(await master.wait(1, 5000), 1);
  const [m, r] = await digests();
  assert.equal(r, m);
  assert.equal(await replica.get('after:reconnect'), 'partial');
  assert.doesNotMatch(replicaLog.slice(replicaLog.indexOf('Successful partial')), /Full resync/);
  const stats = infoFields(await master.info('stats'));
  assert.deepEqual([stats.get('sync_full'), stats.get('sync_partial_ok'), stats.get('sync_partial_err')], ['1', '1', '0']);
});

test('replication: WAIT for more replicas than exist times out with the count it has', async () => {
  await master.set('wait:key', '1');
  const start = Date.now();
  assert.equal(await master.wait(2, 200), 1);
  assert.ok(Date.now() - start >= 190, 'WAIT returned before its timeout');
});

test('replication: DEBUG REPLICATE sends a command to the replicas only', async () => {
  assert.equal(await master.call('DEBUG', 'REPLICATE', 'SET', 'diverged', 'yes'), 'OK');
  await master.set('after:diverged', '1');
  assert.equal(await master.wait(1, 5000), 1);
  assert.equal(await replica.get('diverged'), 'yes');
  assert.equal(await master.exists('diverged'), 0);
  await master.call('DEBUG', 'REPLICATE', 'DEL', 'diverged');
  assert.equal(await master.wait(1, 5000), 1);
  assert.equal(await replica.exists('diverged'), 0);
});

test('replication: PUBLISH reaches the replica\'s subscribers (replicated, as Redis), inside MULTI too', async () => {
  const sub = replica.duplicate();
  try {
    const got: string[] = [];
    sub.on('message', (ch: string, msg: string) => got.push(`${ch}:${msg}`));
    await sub.subscribe('news');
    assert.equal(await master.publish('news', 'one'), 0); // nobody subscribed on the master itself
    await master.multi().publish('news', 'two').set('after:publish', '1').exec();
    assert.equal(await master.wait(1, 5000), 1);
    await waitFor(async () => got.length === 2, 'both messages on the replica', 5000);
    assert.deepEqual(got, ['news:one', 'news:two']);
  } finally {
    sub.disconnect();
  }
});

test('replication: the old SYNC protocol gets the snapshot, then the write stream', async () => {
  const sock = connect(masterPort, '127.0.0.1');
  cleanups.push(() => void sock.destroy());
  let got = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write('SYNC\r\n');
  // No +FULLRESYNC line: "$<length>\r\n" and the RDB image straight away.
  await waitFor(() => /^\$\d+\r\n/.test(got.toString('latin1')), 'the RDB length');
  const header = /^\$(\d+)\r\n/.exec(got.toString('latin1'))!;
  const rdbEnd = header[0].length + Number(header[1]);
  await waitFor(() => got.length >= rdbEnd, 'the RDB image');
  assert.equal(got.subarray(header[0].length, header[0].length + 9).toString('latin1'), 'REDIS0010');
  await master.select(7);
  await master.set('k7', 'v');
  await master.select(0);
  // The stream begins with a SELECT of the write's db; commands travel as the client sent them (ioredis: lower case).
  const stream = '*2\r\n$6\r\nSELECT\r\n$1\r\n7\r\n*3\r\n$3\r\nset\r\n$2\r\nk7\r\n$1\r\nv\r\n';
  await waitFor(() => got.subarray(rdbEnd).toString('latin1').includes(stream), 'the write stream');
  // Before it, at most the keepalive PINGs of repl-ping-replica-period.
  const after = got.subarray(rdbEnd).toString('latin1');
  assert.match(after.slice(0, after.indexOf(stream)), /^(\*1\r\n\$4\r\nPING\r\n)*$/);
  assert.equal(infoFields(await master.info('replication')).get('connected_slaves'), '2');
  // Commands a replica sends get no reply (it would land in its stream), as with Redis.
  const before = got.length;
  sock.write('PING\r\nECHO hi\r\n');
  await new Promise((r) => setTimeout(r, 200));
  assert.doesNotMatch(got.subarray(before).toString('latin1'), /PONG|hi/);
});

test('replication: a full sync does not stop the master; a capa eof replica gets the streamed snapshot, then the writes made meanwhile', async () => {
  const p = master.pipeline();
  for (let i = 0; i < 200; i++) p.set(`bulk:${i}`, `v${i}`);
  await p.exec();
  // 200+ keys at 5 ms each: the snapshot takes over a second.
  await master.config('SET', 'rdb-key-save-delay', '5000');
  try {
    const sock = connect(masterPort, '127.0.0.1');
    cleanups.push(() => void sock.destroy());
    let got = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    // One at a time, as replicas do: PSYNC with the REPLCONF reply still unsent is refused.
    sock.write('REPLCONF capa eof capa psync2\r\n');
    await waitFor(() => got.toString('latin1') === '+OK\r\n', 'the REPLCONF reply');
    got = Buffer.alloc(0);
    sock.write('PSYNC ? -1\r\n');
    await waitFor(() => /\$EOF:[0-9a-f]{40}\r\n/.test(got.toString('latin1')), 'the EOF header', 5000);
    const text = (): string => got.toString('latin1');
    const mark = /\$EOF:([0-9a-f]{40})\r\n/.exec(text())![1];
    // The master answers and writes while the snapshot is produced.
    const started = Date.now();
    assert.equal(await master.set('during:sync', 'held'), 'OK');
    assert.ok(Date.now() - started < 500, 'the master was blocked by the full sync');
    assert.match(infoFields(await master.info('replication')).get('slave2') ?? '', /state=wait_bgsave/);
    assert.equal(text().indexOf(mark, text().indexOf(mark) + 40), -1, 'the snapshot ended before the write: nothing was tested');
    await waitFor(() => text().indexOf(mark, text().indexOf(mark) + 40) >= 0, 'the end mark', 20000);
    const afterMark = text().slice(text().indexOf(mark, text().indexOf(mark) + 40) + 40);
    // The write made during the sync follows the image (after a SELECT, maybe a PING).
    await waitFor(() => text().includes('during:sync'), 'the held write');
    assert.ok(text().indexOf('during:sync') > text().indexOf(mark, text().indexOf(mark) + 40), `held write before the end mark: ${JSON.stringify(afterMark.slice(0, 80))}`);
    const image = got.subarray(got.indexOf('REDIS0010'), got.indexOf(mark, got.indexOf(mark) + 40));
    assert.ok(image.includes('bulk:199'), 'the image lacks the keys');
    assert.ok(!image.includes('during:sync'), 'the image is not the state at FULLRESYNC');
    await waitFor(async () => /state=online/.test(infoFields(await master.info('replication')).get('slave2') ?? ''), 'the replica online');
  } finally {
    await master.config('SET', 'rdb-key-save-delay', '0');
  }
});

test('replication: a replica that does not read is dropped at client-output-buffer-limit replica', async () => {
  await master.config('SET', 'client-output-buffer-limit', 'replica 1mb 0 0');
  try {
    const sock = connect(masterPort, '127.0.0.1');
    cleanups.push(() => void sock.destroy());
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let got = '';
    const onData = (d: Buffer): void => void (got += d.toString('latin1'));
    sock.on('data', onData);
    sock.write('SYNC\r\n');
    // Read the snapshot, then stop reading: the stream piles up on the master.
    await waitFor(() => {
      const m = /^\$(\d+)\r\n/.exec(got);
      return m !== null && got.length >= m[0].length + Number(m[1]);
    }, 'the snapshot');
    sock.off('data', onData);
    sock.pause();
    const before = Number(infoFields(await master.info('replication')).get('connected_slaves'));
    const big = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 64 && Number(infoFields(await master.info('replication')).get('connected_slaves')) === before; i++) {
      await master.set(`big:${i}`, big);
    }
    await waitFor(async () => Number(infoFields(await master.info('replication')).get('connected_slaves')) === before - 1, 'the replica to be dropped');
  } finally {
    await master.config('SET', 'client-output-buffer-limit', 'replica 256mb 64mb 60');
    for (let i = 0; i < 64; i++) await master.del(`big:${i}`);
  }
});
