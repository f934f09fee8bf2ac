/**
 * The master's replication backlog lives while replicas come and go, and is
 * freed after repl-backlog-ttl seconds without any (Redis's replicationCron):
 * the replication id changes then, so a replica that comes back later gets a
 * full resync instead of continuing a stream that was not recorded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';
import { setLogSink } from '../../src/persistence/log.js';

let handle: ServerHandle;
let io: Redis;

before(async () => {
  handle = await startTestServer();
  io = await connectIo(handle);
});

after(async () => closeAll(handle, io));

async function replication(): Promise<Map<string, string>> {
  return infoFields(await io.info('replication'));
}

/** A replica speaking the protocol by hand: PSYNC, and what the master answered first. */
async function psync(id: string, offset: string, capaEof = false, target?: ServerHandle): Promise<{ socket: Socket; first: () => string }> {
  const to = target ?? handle;
  const socket = connect(to.port, to.host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let got = '';
  socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
  if (capaEof) {
    socket.write('*3\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n');
    await waitFor(() => got === '+OK\r\n', 'REPLCONF capa eof');
    got = '';
  }
  socket.write(`*3\r\n$5\r\nPSYNC\r\n$${id.length}\r\n${id}\r\n$${offset.length}\r\n${offset}\r\n`);
  await waitFor(() => got.includes('\r\n'), 'the PSYNC reply');
  return { socket, first: () => got.slice(0, got.indexOf('\r\n')) };
}

test('the backlog is freed after repl-backlog-ttl seconds without replicas, with a new replication id', async () => {
  const first = await psync('?', '-1');
  assert.match(first.first(), /^\+FULLRESYNC [0-9a-f]{40} \d+$/);
  await io.set('k', 'v');
  const before = await replication();
  assert.equal(before.get('repl_backlog_active'), '1');
  first.socket.destroy();
  await waitFor(async () => (await replication()).get('connected_slaves') === '0', 'the replica to detach');
  await io.config('SET', 'repl-backlog-ttl', '1');
  handle.clock.freeze();
  try {
    // Within the time to live the backlog stays.
    handle.clock.advance(900);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await replication()).get('repl_backlog_active'), '1');
    handle.clock.advance(2000);
    await waitFor(async () => (await replication()).get('repl_backlog_active') === '0', 'the backlog to be freed');
  } finally {
    handle.clock.resume();
  }
  const now = await replication();
  assert.notEqual(now.get('master_replid'), before.get('master_replid'));
  assert.equal(now.get('master_replid2'), '0'.repeat(40));
  assert.equal(now.get('master_repl_offset'), before.get('master_repl_offset'));
  // The old id cannot continue: a full resync, counted as a refused partial one.
  const offset = String(Number(before.get('master_repl_offset')) + 1);
  const again = await psync(before.get('master_replid')!, offset);
  try {
    assert.match(again.first(), new RegExp(`^\\+FULLRESYNC ${now.get('master_replid')} \\d+$`));
    assert.equal(infoFields(await io.info('stats')).get('sync_partial_err'), '1');
    assert.equal((await replication()).get('repl_backlog_active'), '1');
  } finally {
    again.socket.destroy();
  }
});

test('CONFIG RESETSTAT zeroes sync_full, sync_partial_ok and sync_partial_err', async () => {
  const full = await psync('?', '-1');
  try {
    const r = await replication();
    const cont = await psync(r.get('master_replid')!, String(Number(r.get('master_repl_offset')) + 1));
    cont.socket.destroy();
    const refused = await psync('f'.repeat(40), '1');
    refused.socket.destroy();
    const stats = infoFields(await io.info('stats'));
    assert.ok(Number(stats.get('sync_full')) >= 1);
    assert.ok(Number(stats.get('sync_partial_ok')) >= 1);
    assert.ok(Number(stats.get('sync_partial_err')) >= 1);
    await io.config('RESETSTAT');
    const after = infoFields(await io.info('stats'));
    assert.deepEqual(['sync_full', 'sync_partial_ok', 'sync_partial_err'].map((k) => after.get(k)), ['0', '0', '0']);
  } finally {
    full.socket.destroy();
  }
});

test('CONFIG SET repl-backlog-size takes effect at once: the history beyond it is trimmed a whole block at a time, as Redis 7.0', async () => {
  const first = await psync('?', '-1');
  try {
    // Online, so it pins nothing: a replica still waiting for its snapshot would keep the history.
    await waitFor(async () => /state=online/.test((await replication()).get('slave0') ?? ''), 'the replica online');
    await io.config('SET', 'repl-backlog-size', '1mb');
    for (let i = 0; i < 10; i++) await io.set(`big:${i}`, 'A'.repeat(16384));
    const big = await replication();
    const offset = Number(big.get('master_repl_offset'));
    assert.ok(Number(big.get('repl_backlog_histlen')) > 160000);
    await io.config('SET', 'repl-backlog-size', '16384');
    const small = await replication();
    const histlen = Number(small.get('repl_backlog_histlen'));
    // Blocks of 20440 bytes (a 16 KB block in jemalloc's 20 KB size class) go while more than 16384 bytes stay.
    assert.ok(histlen > 16384 && histlen <= 16384 + 20440, String(histlen));
    assert.equal(small.get('repl_backlog_first_byte_offset'), String(offset - histlen + 1));
    assert.equal(small.get('master_repl_offset'), String(offset));
    // From before the history kept: a full resync; from within it: the bytes that followed.
    const old = await psync(small.get('master_replid')!, String(offset - histlen - 1000));
    assert.match(old.first(), /^\+FULLRESYNC /);
    old.socket.destroy();
    const recent = await psync(small.get('master_replid')!, String(offset - 99));
    assert.equal(recent.first(), `+CONTINUE ${small.get('master_replid')}`);
    recent.socket.destroy();
    // Growing keeps what there is.
    await io.config('SET', 'repl-backlog-size', '1mb');
    assert.equal((await replication()).get('repl_backlog_histlen'), String(histlen));
  } finally {
    first.socket.destroy();
  }
});

test('one replication buffer shared by the backlog and the replicas: a replica waiting for its snapshot keeps the history, and the backlog outgrows its size until it goes', async () => {
  const h = await startTestServer({ 'repl-diskless-sync-delay': '0', 'repl-backlog-size': '16384', 'client-output-buffer-limit': 'replica 0 0 0' });
  setLogSink(h.server, () => {});
  const c = await connectIo(h);
  const sockets: Socket[] = [];
  const fields = async (section: string) => infoFields(await c.info(section));
  try {
    await c.set('k', 'v');
    // Two replicas whose snapshots take a long while: the stream waits for them.
    await c.config('SET', 'rdb-key-save-delay', '3000000');
    for (let i = 0; i < 2; i++) {
      const s = connect(h.port, h.host);
      sockets.push(s);
      s.on('error', () => {});
      let got = '';
      s.on('data', (b: Buffer) => (got += b.toString('latin1')));
      await new Promise<void>((resolve) => s.once('connect', resolve));
      s.write('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
      await waitFor(() => got.includes('+FULLRESYNC'), 'the full resync');
    }
    const start = Number((await fields('replication')).get('master_repl_offset'));
    for (let i = 0; i < 64; i++) await c.set(`big:${i}`, 'A'.repeat(16 * 1024));
    const repl = await fields('replication');
    const histlen = Number(repl.get('repl_backlog_histlen'));
    // Everything since the snapshots began is kept, 1 MB against a 16 KB backlog.
    assert.ok(histlen >= Number(repl.get('master_repl_offset')) - start, String(histlen));
    const mem = await fields('memory');
    const total = Number(mem.get('mem_total_replication_buffers'));
    // Held once, not once per replica (a copy each would be 2 MB).
    assert.ok(total > histlen && total < histlen * 1.3, `${total} for ${histlen}`);
    assert.equal(Number(mem.get('mem_clients_slaves')), total - 16384);
    assert.equal(Number(mem.get('mem_replication_backlog')), 16384);
    // Each replica's output is its share of the buffer: all of it.
    const list = String(await c.call('CLIENT', 'LIST', 'TYPE', 'replica'));
    const omems = [...list.matchAll(/ omem=(\d+) /g)].map((m) => Number(m[1]));
    assert.equal(omems.length, 2);
    for (const o of omems) assert.ok(o >= histlen, `${o} < ${histlen}`);
    // A PSYNC from the start of that history continues, far beyond repl-backlog-size.
    const id = repl.get('master_replid')!;
    const cont = await psync(id, String(start + 1), false, h);
    sockets.push(cont.socket);
    assert.equal(cont.first(), `+CONTINUE ${id}`);
    // Once the waiting replicas are gone, the history shrinks back to about the backlog's size.
    for (const s of sockets) s.destroy();
    await waitFor(async () => (await fields('replication')).get('connected_slaves') === '0', 'the replicas to go');
    await c.set('after', 'x');
    await waitFor(async () => Number((await fields('replication')).get('repl_backlog_histlen')) < 16384 + 20440, 'the backlog to be trimmed');
    assert.ok(Number((await fields('memory')).get('mem_total_replication_buffers')) < 3 * 20504);
  } finally {
    for (const s of sockets) s.destroy();
    await c.config('SET', 'rdb-key-save-delay', '0').catch(() => {});
    await closeAll(h, c);
  }
});

test('client-output-buffer-limit replica: a hard limit below repl-backlog-size counts as repl-backlog-size, as Redis', async () => {
  const h = await startTestServer({ 'repl-diskless-sync-delay': '0', 'repl-backlog-size': '1mb', 'client-output-buffer-limit': 'replica 64kb 0 0' });
  setLogSink(h.server, () => {});
  const c = await connectIo(h);
  let s: Socket | null = null;
  try {
    await c.set('k', 'v');
    // The snapshot takes a while: meanwhile the stream waits for the replica (held, counted in its output).
    await c.config('SET', 'rdb-key-save-delay', '3000000');
    let got = '';
    s = connect(h.port, h.host);
    s.on('error', () => {});
    s.on('data', (b: Buffer) => (got += b.toString('latin1')));
    await new Promise<void>((resolve) => s!.once('connect', resolve));
    s.write('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
    await waitFor(() => got.includes('+FULLRESYNC'), 'the full resync');
    const slaves = async () => infoFields(await c.info('replication')).get('connected_slaves');
    for (let i = 0; i < 4; i++) await c.set(`big:${i}`, 'A'.repeat(64 * 1024));
    await new Promise((r) => setTimeout(r, 50));
    // 256 KB held: past the configured 64 KB, within the backlog's 1 MB.
    assert.equal(await slaves(), '1');
    for (let i = 0; i < 16; i++) await c.set(`big:${i}`, 'A'.repeat(64 * 1024));
    await waitFor(async () => (await slaves()) === '0', 'the replica to be dropped past 1 MB');
  } finally {
    s?.destroy();
    await c.config('SET', 'rdb-key-save-delay', '0').catch(() => {});
    await closeAll(h, c);
  }
});

test('PSYNC2 across a change of master: a master that becomes the replica of its promoted replica, and a replica moved to a sibling, continue with partial resyncs', async () => {
  const config = { 'repl-diskless-sync-delay': '0' };
  const a = await startTestServer(config);
  const b = await startTestServer(config);
  const c = await startTestServer(config);
  const [ia, ib, ic] = [await connectIo(a), await connectIo(b), await connectIo(c)];
  for (const h of [a, b, c]) setLogSink(h.server, () => {});
  const info = async (io: Redis, section: string) => infoFields(await io.info(section));
  try {
    await ia.select(2);
    await ia.set('k', '1');
    for (const io of [ib, ic]) await io.call('REPLICAOF', a.host, String(a.port));
    await waitFor(async () => (await info(ia, 'replication')).get('connected_slaves') === '2', 'both replicas');
    await ia.set('k', '2');
    assert.equal(await ia.wait(2, 5000), 2);
    // c moves to its sibling b: same stream, same offset: a partial resync in db 2.
    await ic.call('REPLICAOF', b.host, String(b.port));
    await waitFor(async () => (await info(ib, 'replication')).get('connected_slaves') === '1', 'c attached to b');
    assert.equal((await info(ib, 'stats')).get('sync_partial_ok'), '1');
    assert.equal((await info(ib, 'stats')).get('sync_full'), '0');
    await ia.set('k', '3');
    await waitFor(async () => {
      await ic.select(2);
      return (await ic.get('k')) === '3';
    }, 'the write to reach c through b');
    // b is promoted; a follows it and continues its own stream, now under b's new id.
    await ib.call('REPLICAOF', 'NO', 'ONE');
    await ia.call('REPLICAOF', b.host, String(b.port));
    await waitFor(async () => (await info(ia, 'replication')).get('master_link_status') === 'up', 'a to follow b');
    assert.equal((await info(ib, 'stats')).get('sync_full'), '0');
    await ib.select(2);
    await ib.set('k', '4');
    await waitFor(async () => (await ia.get('k')) === '4', 'the write to reach a');
    assert.equal((await info(ia, 'replication')).get('master_replid'), (await info(ib, 'replication')).get('master_replid'));
  } finally {
    await closeAll(a, ia);
    await closeAll(b, ib);
    await closeAll(c, ic);
  }
});

test('a full sync in progress shows as rdb_bgsave_in_progress, as Redis\'s rdb child does', async () => {
  for (let i = 0; i < 20; i++) await io.set(`slow:${i}`, 'v');
  await io.config('SET', 'rdb-key-save-delay', '200000');
  const persistence = async () => infoFields(await io.info('persistence'));
  try {
    assert.equal((await persistence()).get('rdb_bgsave_in_progress'), '0');
    const r = await psync('?', '-1');
    try {
      assert.match(r.first(), /^\+FULLRESYNC /);
      assert.equal((await persistence()).get('rdb_bgsave_in_progress'), '1');
      assert.match(String((await replication()).get('slave0')), /state=wait_bgsave/);
    } finally {
      r.socket.destroy();
    }
    await waitFor(async () => (await persistence()).get('rdb_bgsave_in_progress') === '0', 'the snapshot of a gone replica to stop');
  } finally {
    await io.config('SET', 'rdb-key-save-delay', '0');
  }
});

test('a diskless full sync waits repl-diskless-sync-delay seconds before its +FULLRESYNC, or until repl-diskless-sync-max-replicas wait', async () => {
  await io.config('SET', 'repl-diskless-sync-delay', '1');
  try {
    const started = Date.now();
    const r = await psync('?', '-1', true);
    try {
      assert.ok(Date.now() - started >= 900, 'the transfer started before the delay');
      assert.match(r.first(), /^\+FULLRESYNC /);
    } finally {
      r.socket.destroy();
    }
    await io.config('SET', 'repl-diskless-sync-max-replicas', '1');
    const t0 = Date.now();
    const quick = await psync('?', '-1', true);
    quick.socket.destroy();
    assert.ok(Date.now() - t0 < 900, 'enough replicas were waiting: no delay');
    // A replica that cannot take the streamed format gets the disk format at once.
    await io.config('SET', 'repl-diskless-sync-max-replicas', '0');
    const t1 = Date.now();
    const disk = await psync('?', '-1');
    disk.socket.destroy();
    assert.ok(Date.now() - t1 < 900);
  } finally {
    await io.config('SET', 'repl-diskless-sync-delay', '0');
    await io.config('SET', 'repl-diskless-sync-max-replicas', '0');
  }
});
