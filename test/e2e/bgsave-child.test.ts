/**
 * BGSAVE's background child, as Redis's test suite and tools see it: a process
 * whose parent is the server (pgrep -P), writing `temp-<child pid>.rdb` in the
 * server's dir, renamed over dbfilename when it succeeds; killed by a signal
 * (kill -9, the OOM killer) it fails the save (rdb_last_bgsave_status:err,
 * MISCONF for writes, scripts' writes included) and its temp file is removed;
 * SHUTDOWN kills it and removes its temp file; with oom-score-adj on it sets
 * the background-child score on itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/wait.js';
import { infoOf } from '../helpers/info.js';
import { fileCleanups, spawnMnemoWithClient, type ServerProcess, childrenOf, alive } from '../helpers/process.js';

const { cleanups, tempDir } = fileCleanups('mnemo-bgsave-child-');

async function start(dir: string, extra: string[] = []): Promise<{ proc: ServerProcess; r: Redis }> {
  return spawnMnemoWithClient(['--dir', dir, '--save', '900 1', '--appendonly', 'no', '--enable-debug-command', 'yes', ...extra], cleanups);
}

const tempFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('temp-'));

test('BGSAVE runs a child of the server that writes temp-<child pid>.rdb, renamed over dbfilename and loadable', async () => {
  const dir = tempDir();
  const { proc, r } = await start(dir);
  await r.call('DEBUG', 'POPULATE', '2000');
  await r.config('SET', 'rdb-key-save-delay', '500');
  assert.equal(await r.bgsave(), 'Background saving started');
  const kids = childrenOf(proc.child.pid!);
  assert.equal(kids.length, 1, 'one child, found at once');
  const child = kids[0];
  assert.ok(existsSync(join(dir, `temp-${child}.rdb`)), 'its temp file exists at once');
  // Its title, once Node has started it (ps shows it as Redis's child).
  await waitFor(() => readFileSync(`/proc/${child}/cmdline`, 'latin1').startsWith('redis-rdb-bgsave'), 'the child title', 5000);
  await r.config('SET', 'rdb-key-save-delay', '0');
  await waitFor(async () => (await infoOf(r, 'persistence')).rdb_bgsave_in_progress === '0', 'the BGSAVE to end', 20000);
  const info = await infoOf(r, 'persistence');
  assert.equal(info.rdb_last_bgsave_status, 'ok');
  assert.ok(Number((await infoOf(r, 'stats')).latest_fork_usec) > 0);
  assert.ok(!alive(child));
  assert.deepEqual(tempFiles(dir), []);
  assert.ok(existsSync(join(dir, 'dump.rdb')));
  await proc.stop();
  // The file loads.
  const again = await start(dir);
  assert.equal(await again.r.dbsize(), 2000);
  assert.equal(await again.r.get('key:1999'), 'value:1999');
});

test('a BGSAVE child killed by SIGKILL fails the save: err status, MISCONF for writes and scripts, temp file removed', async () => {
  const dir = tempDir();
  const { proc, r } = await start(dir);
  await r.call('DEBUG', 'POPULATE', '100');
  await r.config('SET', 'rdb-key-save-delay', '10000000');
  await r.bgsave();
  const [child] = childrenOf(proc.child.pid!);
  assert.ok(child > 0);
  process.kill(child, 'SIGKILL');
  await waitFor(async () => (await infoOf(r, 'persistence')).rdb_bgsave_in_progress === '0', 'the parent to notice', 5000);
  assert.equal((await infoOf(r, 'persistence')).rdb_last_bgsave_status, 'err');
  assert.deepEqual(tempFiles(dir), []);
  assert.equal(await r.get('key:1'), 'value:1');
  await assert.rejects(r.set('x', 'y'), /^ReplyError: MISCONF /);
  await assert.rejects(r.eval("return redis.call('set','x','1')", 1, 'x'), /MISCONF /);
  // A successful BGSAVE makes the server writable again.
  await r.config('SET', 'rdb-key-save-delay', '0');
  await r.bgsave();
  await waitFor(async () => (await infoOf(r, 'persistence')).rdb_bgsave_in_progress === '0', 'the second BGSAVE', 20000);
  assert.equal(await r.set('x', 'y'), 'OK');
});

test('SHUTDOWN NOSAVE during a BGSAVE kills the child and removes its temp file', async () => {
  const dir = tempDir();
  const { proc, r } = await start(dir);
  await r.call('DEBUG', 'POPULATE', '100');
  await r.config('SET', 'rdb-key-save-delay', '100000');
  await r.bgsave();
  const [child] = childrenOf(proc.child.pid!);
  assert.ok(existsSync(join(dir, `temp-${child}.rdb`)));
  await r.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  await proc.exited;
  assert.ok(!existsSync(join(dir, `temp-${child}.rdb`)));
  await waitFor(() => !alive(child), 'the child to exit', 5000);
  assert.deepEqual(tempFiles(dir), []);
});

test('with oom-score-adj on, the BGSAVE child sets the background-child score on itself', { skip: process.platform !== 'linux' }, async () => {
  const dir = tempDir();
  const { proc, r } = await start(dir);
  const base = Number(readFileSync(`/proc/${proc.child.pid}/oom_score_adj`, 'latin1'));
  await r.config('SET', 'oom-score-adj-values', '10 20 30');
  await r.config('SET', 'oom-score-adj', 'yes');
  await r.set('a', 'b');
  await r.config('SET', 'rdb-key-save-delay', '1000000');
  await r.bgsave();
  const [child] = childrenOf(proc.child.pid!);
  await waitFor(() => Number(readFileSync(`/proc/${child}/oom_score_adj`, 'latin1')) === Math.min(1000, base + 30), 'the child score', 5000);
  assert.equal(Number(readFileSync(`/proc/${proc.child.pid}/oom_score_adj`, 'latin1')), Math.min(1000, base + 10));
});
