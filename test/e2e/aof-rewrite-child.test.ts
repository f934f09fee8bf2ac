/**
 * BGREWRITEAOF's background child, as Redis's tests see it: a process whose
 * parent is the server (pgrep -P) writing `temp-rewriteaof-bg-<child pid>.aof`
 * in the AOF dir. Killed by a signal it fails the rewrite
 * (aof_last_bgrewrite_status:err) and its temp file is removed; the AOF keeps
 * working and the next rewrite succeeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { infoOf } from '../helpers/info.js';
import { fileCleanups, spawnMnemoWithClient, childrenOf } from '../helpers/process.js';

const { cleanups, tempDir } = fileCleanups('mnemo-aofrw-child-');

test('a BGREWRITEAOF child killed by SIGKILL fails the rewrite and its temp base is removed; the next rewrite succeeds', async () => {
  const dir = tempDir();
  const { proc, r } = await spawnMnemoWithClient(['--dir', dir, '--save', '', '--appendonly', 'yes', '--enable-debug-command', 'yes'], cleanups);
  const aofDir = join(dir, 'appendonlydir');
  await waitFor(async () => (await infoOf(r, 'persistence')).aof_rewrite_in_progress === '0', 'the first rewrite', 10000);
  await r.call('DEBUG', 'POPULATE', '100');
  await r.config('SET', 'rdb-key-save-delay', '10000000');
  assert.equal(await r.bgrewriteaof(), 'Background append only file rewriting started');
  const kids = childrenOf(proc.child.pid!);
  assert.equal(kids.length, 1);
  const temp = join(aofDir, `temp-rewriteaof-bg-${kids[0]}.aof`);
  assert.ok(existsSync(temp), 'the temp base exists at once');
  process.kill(kids[0], 'SIGKILL');
  await waitFor(async () => (await infoOf(r, 'persistence')).aof_rewrite_in_progress === '0', 'the parent to notice', 5000);
  const info = await infoOf(r, 'persistence');
  assert.equal(info.aof_last_bgrewrite_status, 'err');
  assert.ok(!existsSync(temp));
  assert.deepEqual(readdirSync(aofDir).filter((f) => f.startsWith('temp-')), []);
  // The AOF still takes writes, and a rewrite without the delay succeeds.
  assert.equal(await r.set('after', '1'), 'OK');
  await r.config('SET', 'rdb-key-save-delay', '0');
  await r.bgrewriteaof();
  await waitFor(async () => (await infoOf(r, 'persistence')).aof_rewrite_in_progress === '0', 'the second rewrite', 10000);
  assert.equal((await infoOf(r, 'persistence')).aof_last_bgrewrite_status, 'ok');
  assert.deepEqual(readdirSync(aofDir).filter((f) => f.startsWith('temp-')), []);
  const digest = await r.call('DEBUG', 'DIGEST');
  await r.call('DEBUG', 'LOADAOF');
  assert.equal(await r.call('DEBUG', 'DIGEST'), digest);
  assert.equal(await r.dbsize(), 101);
});
