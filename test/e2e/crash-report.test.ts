/**
 * Redis's crash report: a SIGABRT or DEBUG SEGFAULT logs "crashed by signal" between the
 * bug-report markers, and the process dies by that signal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'node:net';
import { freePort } from '../helpers/process.js';

const BIN = fileURLToPath(new URL('../../src/bin/mnemo-server.js', import.meta.url));

async function start(extra: string[] = []) {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, '--port', String(port), '--save', '', '--enable-debug-command', 'yes', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
  while (!/Ready to accept connections/.test(out)) {
    if (child.exitCode !== null) assert.fail(`did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, child, out: () => out, exited };
}

test('SIGABRT writes a crash report and the server dies by SIGABRT', async () => {
  const s = await start();
  s.child.kill('SIGABRT');
  assert.equal(await s.exited, 'SIGABRT');
  assert.match(s.out(), /=== REDIS BUG REPORT START/);
  assert.match(s.out(), /# Redis 7\.0\.15 crashed by signal: 6, si_code: 0\n/);
  assert.match(s.out(), /=== REDIS BUG REPORT END/);
});

test('DEBUG SEGFAULT writes a crash report and the server dies by SIGSEGV', async () => {
  const s = await start();
  const sock = createConnection(s.port, '127.0.0.1');
  sock.on('error', () => {});
  sock.write('DEBUG SEGFAULT\r\n');
  assert.equal(await s.exited, 'SIGSEGV');
  sock.destroy();
  assert.match(s.out(), /# Redis 7\.0\.15 crashed by signal: 11, si_code: 1\n/);
});

test('with crash-log-enabled no there is no report', async () => {
  const s = await start(['--crash-log-enabled', 'no']);
  s.child.kill('SIGABRT');
  assert.equal(await s.exited, 'SIGABRT');
  assert.doesNotMatch(s.out(), /crashed by signal/);
});
