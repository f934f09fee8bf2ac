/**
 * A replica whose full sync waits for repl-diskless-sync-delay is already a
 * replica in INFO replication (state wait_bgsave), as in Redis: Sentinels
 * discover replicas from this list, so a replica must not stay invisible for
 * the delay. Checked against redis-server with the same raw handshake.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Redis } from 'ioredis';
import { freePort, spawnServer, tempDir } from '../helpers/process.js';
import { infoFields } from '../helpers/info.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** Connects as a replica would (listening port 7777, capa eof) and asks for a full sync. */
async function fakeReplica(port: number): Promise<void> {
  const s = net.createConnection({ host: '127.0.0.1', port });
  cleanups.push(() => void s.destroy());
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  // One at a time: PSYNC is refused while a reply is pending ("invalid with pending output").
  s.write('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7777\r\n');
  await new Promise<void>((r) => s.once('data', () => r()));
  // A diskless master waits repl-diskless-sync-delay only for replicas that take an EOF-marked stream.
  s.write('*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n');
  await new Promise<void>((r) => s.once('data', () => r()));
  // No reply yet: +FULLRESYNC comes when the sync starts, after the delay.
  s.write('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
}

async function waitingLine(kind: 'redis' | 'mnemo'): Promise<[string | undefined, string | undefined]> {
  const port = await freePort();
  await spawnServer(kind, ['--port', String(port), '--dir', tempDir(`waiting-${kind}-`, cleanups), '--save', '', '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '30'], cleanups);
  await fakeReplica(port);
  const r = new Redis(port, '127.0.0.1');
  cleanups.push(() => void r.disconnect());
  let info = new Map<string, string>();
  await waitFor(async () => {
    info = infoFields(await r.info('replication'));
    return info.get('connected_slaves') !== '0';
  }, `${kind} to list the replica`, 5000).catch(() => {});
  return [info.get('connected_slaves'), info.get('slave0')];
}

test('INFO replication lists a replica waiting for its full sync, as Redis', { timeout: 30_000 }, async () => {
  const redis = await waitingLine('redis');
  const mnemo = await waitingLine('mnemo');
  assert.deepEqual(redis, ['1', 'ip=127.0.0.1,port=7777,state=wait_bgsave,offset=0,lag=0']);
  assert.deepEqual(mnemo, redis);
});
