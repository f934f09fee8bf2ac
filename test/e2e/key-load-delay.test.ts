/**
 * key-load-delay (a test knob Redis's own suites use, e.g. Sentinel's master
 * reboot test): loading the dataset at start-up takes at least that many
 * microseconds per key, and meanwhile clients get -LOADING and INFO says
 * loading:1, as from Redis.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, spawnServer, tempDir, MNEMO_BIN } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

test('key-load-delay: the server answers -LOADING while it loads, then serves the keys', { timeout: 60_000 }, async () => {
  const dir = tempDir('mnemo-key-load-delay-', cleanups);
  const port = await freePort();
  const args = ['--port', String(port), '--dir', dir, '--save', '', '--enable-debug-command', 'yes'];
  const first = await spawnServer('mnemo', args, cleanups);
  const r1 = new Redis(port, '127.0.0.1');
  await r1.call('DEBUG', 'POPULATE', '2000');
  assert.equal(await r1.save(), 'OK');
  r1.disconnect();
  await first.stop();

  // 1 ms per key: about 2 s of loading. The Ready line comes after loading, so wait for the port.
  const child = spawn(process.execPath, [MNEMO_BIN, ...args, '--key-load-delay', '1000'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  const r = new Redis(port, '127.0.0.1', { retryStrategy: () => 50, maxRetriesPerRequest: 0, enableReadyCheck: false });
  cleanups.push(() => void r.disconnect());
  r.on('error', () => {}); // refused until the server listens
  let loadingSeen = false;
  await waitFor(
    async () => {
      const reply = await r.ping().catch((e: Error) => e.message);
      if (typeof reply === 'string' && reply.startsWith('LOADING')) loadingSeen = true;
      return reply === 'PONG';
    },
    'the load to finish',
    30000,
  );
  assert.ok(loadingSeen, 'clients got -LOADING during the load');
  assert.equal(await r.dbsize(), 2000);
  assert.equal(infoFields(await r.info('persistence')).get('loading'), '0');
});
