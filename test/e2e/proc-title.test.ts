/**
 * The server process's title (set-proc-title, proc-title-template), as Redis
 * sets its own: `ps` and /proc/<pid>/cmdline show it. Read from /proc, so
 * Linux only; an embedded server never renames the process it lives in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileCleanups, spawnMnemoWithClient } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { Redis } from 'ioredis';
import { startServer } from '../../src/index.js';

const { cleanups } = fileCleanups('mnemo-proc-title-');
const linuxOnly = { skip: process.platform !== 'linux' };

const cmdline = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+/g, ' ').trim();

test('mnemo-server titles its process from proc-title-template, and again on CONFIG SET', linuxOnly, async () => {
  const { proc, r, port } = await spawnMnemoWithClient(['--save', '', '--appendonly', 'no'], cleanups);
  const pid = proc.child.pid!;
  // The default template: {title} {listen-addr} {server-mode}.
  assert.match(cmdline(pid), new RegExp(`^mnemo-server \\S+:${port}$`));
  assert.equal(await r.config('SET', 'proc-title-template', 'T {port} {server-mode} {tls-port}'), 'OK');
  await waitFor(() => cmdline(pid) === `T ${port}  0`, 'the new title');
  await assert.rejects(r.config('SET', 'proc-title-template', '{nosuch}'), /template format is invalid or contains unknown variables/);
  assert.equal(cmdline(pid), `T ${port}  0`);
});

test('with set-proc-title no the command line stays as started', linuxOnly, async () => {
  const { proc } = await spawnMnemoWithClient(['--save', '', '--set-proc-title', 'no'], cleanups);
  assert.match(cmdline(proc.child.pid!), /mnemo-server\.js .*--set-proc-title no/);
});

test('an embedded server leaves its host process title alone', async () => {
  const before = process.title;
  const handle = await startServer({ port: 0 });
  const r = new Redis({ port: handle.port, lazyConnect: true });
  try {
    await r.connect();
    assert.equal(await r.config('SET', 'proc-title-template', 'embedded {port}'), 'OK');
    assert.equal(process.title, before);
  } finally {
    r.disconnect();
    await handle.close();
  }
});
