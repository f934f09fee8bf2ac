/**
 * SIGTERM / SIGINT shut the server down from its cron, as Redis's serverCron
 * acts on shutdown_asap: with DEBUG PAUSE-CRON 1 the shutdown waits, and
 * SHUTDOWN ABORT cancels it meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { fileCleanups, freePort, spawnServer } from '../helpers/process.js';

const { cleanups, tempDir } = fileCleanups('mnemo-shutdown-signal-');

test('SHUTDOWN ABORT cancels a SIGTERM while the cron is paused; the server carries on', async () => {
  const dir = tempDir();
  const port = await freePort();
  const proc = await spawnServer('mnemo', ['--port', String(port), '--dir', dir, '--save', '', '--enable-debug-command', 'yes'], cleanups);
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await r.connect();
  cleanups.push(() => {
    r.disconnect();
  });
  await r.call('DEBUG', 'PAUSE-CRON', '1');
  proc.child.kill('SIGTERM');
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(await r.call('SHUTDOWN', 'ABORT'), 'OK');
  await r.call('DEBUG', 'PAUSE-CRON', '0');
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(await r.ping(), 'PONG');
  assert.equal(proc.child.exitCode, null);
  // A SIGTERM with the cron running shuts down.
  proc.child.kill('SIGTERM');
  assert.equal(await proc.exited, 0);
});
