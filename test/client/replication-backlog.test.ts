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
async function psync(id: string, offset: string): Promise<{ socket: Socket; first: () => string }> {
  const socket = connect(handle.port, handle.host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let got = '';
  socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
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
