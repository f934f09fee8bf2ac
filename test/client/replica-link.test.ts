/**
 * The replica side of a master link, between in-process servers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';
import { setLogSink } from '../../src/persistence/log.js';

const info = async (io: Redis, section: string) => infoFields(await io.info(section));

/** Two quiet in-process servers (a master-to-be and a replica-to-be) with their clients. */
async function twoServers() {
  const config = { 'repl-diskless-sync-delay': '0', 'enable-debug-command': 'yes' };
  const a = await startTestServer(config);
  const b = await startTestServer(config);
  const [ia, ib] = [await connectIo(a), await connectIo(b)];
  setLogSink(a.server, () => {});
  setLogSink(b.server, () => {});
  return { a, b, ia, ib };
}

/** Runs a test on two fresh servers, and stops them whatever happens. */
async function withTwoServers(run: (p: Awaited<ReturnType<typeof twoServers>>) => Promise<void>): Promise<void> {
  const p = await twoServers();
  try {
    await run(p);
  } finally {
    await closeAll(p.a, p.ia);
    await closeAll(p.b, p.ib);
  }
}

test('killing the master client starts the link-down time at once (a blocking command after it counts as data age)', () =>
  withTwoServers(async ({ a, b, ia, ib }) => {
    await ib.call('REPLICAOF', a.host, String(a.port));
    await waitFor(async () => (await info(ib, 'replication')).get('master_link_status') === 'up', 'b in sync');
    // The master accepts no new replica for a while: the link stays down after the kill.
    await ia.call('CLIENT', 'PAUSE', '10000');
    // As Redis's cluster test 06: the kill and a sleep in one transaction (in-process, the
    // sleep also holds the socket's close event until it ends).
    const tx = ib.multi();
    tx.call('CLIENT', 'KILL', 'TYPE', 'master');
    tx.call('DEBUG', 'SLEEP', '1.2');
    const replies = await tx.exec();
    assert.deepEqual(replies, [[null, 1], [null, 'OK']]);
    const r = await info(ib, 'replication');
    assert.equal(r.get('master_link_status'), 'down');
    assert.ok(Number(r.get('master_link_down_since_seconds')) >= 1, r.get('master_link_down_since_seconds'));
    await ia.call('CLIENT', 'UNPAUSE');
  }));

test('a replica keeps the keys a snapshot holds past their TTL (full sync and DEBUG RELOAD), as Redis loads them when not a master', () =>
  withTwoServers(async ({ a, b, ia, ib }) => {
    // The master does not expire actively: the key is logically expired but still stored.
    await ia.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await ia.set('gone', 'v', 'PX', 50);
    await ia.set('kept', 'v');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await ia.dbsize(), 2);
    await ib.call('REPLICAOF', a.host, String(a.port));
    await waitFor(async () => (await info(ib, 'replication')).get('master_link_status') === 'up', 'b in sync');
    assert.equal(await ib.dbsize(), 2);
    assert.equal(await ib.call('DEBUG', 'RELOAD'), 'OK');
    assert.equal(await ib.dbsize(), 2);
    // A master's reload skips it.
    assert.equal(await ia.call('DEBUG', 'RELOAD'), 'OK');
    assert.equal(await ia.dbsize(), 1);
  }));

test('a snapshot received to disk loads a slice at a time: -LOADING and INFO loading:1 meanwhile, then the stream that waited follows', () =>
  withTwoServers(async ({ a, b, ia, ib }) => {
    for (let i = 0; i < 200; i++) await ia.set(`k${i}`, 'v');
    // 200 keys at 5 ms each: about a second of loading.
    await ib.config('SET', 'key-load-delay', '5000');
    await ib.call('REPLICAOF', a.host, String(a.port));
    await waitFor(async () => (await info(ib, 'persistence')).get('loading') === '1', 'b loading');
    // Clients are served while it loads, with -LOADING for data commands.
    await assert.rejects(ib.get('k1'), /^ReplyError: LOADING Redis is loading the dataset in memory/);
    const r = await info(ib, 'replication');
    assert.equal(r.get('master_link_status'), 'down');
    assert.equal(r.get('master_sync_in_progress'), '1');
    // Written on the master during the load: applied after it.
    await ia.set('after', 'x');
    await ib.config('SET', 'key-load-delay', '0');
    await waitFor(async () => (await info(ib, 'replication')).get('master_link_status') === 'up', 'b in sync');
    await waitFor(async () => (await ib.get('after')) === 'x', 'stream applied');
    assert.equal(await ib.dbsize(), 201);
    assert.equal((await info(ib, 'persistence')).get('loading'), '0');
  }));

test('replication traffic is counted apart (total_net_repl_output_bytes on the master, total_net_repl_input_bytes on the replica), not as client traffic', () =>
  withTwoServers(async ({ a, b, ia, ib }) => {
    await ib.call('REPLICAOF', a.host, String(a.port));
    await waitFor(async () => (await info(ib, 'replication')).get('master_link_status') === 'up', 'b in sync');
    const before = await info(ia, 'stats');
    const value = 'x'.repeat(200_000);
    await ia.set('big', value);
    await waitFor(async () => (await ib.strlen('big')) === value.length, 'the write to reach b');
    const after = await info(ia, 'stats');
    const grew = (m: Map<string, string>, n: Map<string, string>, f: string) => Number(n.get(f)) - Number(m.get(f));
    assert.ok(grew(before, after, 'total_net_repl_output_bytes') >= value.length, 'stream counted as replication output');
    // The client's own output (+OK and INFO replies) does not include the stream.
    assert.ok(grew(before, after, 'total_net_output_bytes') < value.length / 2, 'stream not counted as client output');
    const replicaStats = await info(ib, 'stats');
    assert.ok(Number(replicaStats.get('total_net_repl_input_bytes')) >= value.length);
    assert.ok(Number(replicaStats.get('total_net_input_bytes')) < value.length / 2);
  }));
