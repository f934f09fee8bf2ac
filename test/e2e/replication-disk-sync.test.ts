/**
 * Full syncs with target disk (repl-diskless-sync no), as Redis does them: a
 * BGSAVE through the writer child writes dump.rdb, the replica waits in
 * wait_bgsave and then gets the file and the writes made meanwhile. The child
 * dies with a killed master (its input closes) and is killed when no replica
 * waits for its file any more and no save points need it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/wait.js';
import { infoOf } from '../helpers/info.js';
import { fileCleanups, spawnMnemoWithClient, type ServerProcess, childrenOf, alive } from '../helpers/process.js';

const { cleanups, tempDir } = fileCleanups('mnemo-disk-sync-');

async function start(extra: string[] = []): Promise<{ proc: ServerProcess; r: Redis; port: number; dir: string }> {
  const dir = tempDir();
  const started = await spawnMnemoWithClient(['--dir', dir, '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes', ...extra], cleanups);
  return { ...started, dir };
}

const slave0 = async (r: Redis): Promise<string> => (await infoOf(r, 'replication')).slave0 ?? '';

test('a disk-target full sync: BGSAVE child, replica in wait_bgsave, then the file and the writes made meanwhile', async () => {
  const m = await start(['--repl-diskless-sync', 'no']);
  const s = await start();
  await m.r.call('DEBUG', 'POPULATE', '200');
  await m.r.config('SET', 'rdb-key-save-delay', '5000');
  await s.r.replicaof('127.0.0.1', String(m.port));
  await waitFor(async () => /state=wait_bgsave/.test(await slave0(m.r)), 'the replica to wait for the BGSAVE', 5000);
  assert.equal((await infoOf(m.r, 'persistence')).rdb_bgsave_in_progress, '1');
  const [child] = childrenOf(m.proc.child.pid!);
  assert.ok(child > 0 && existsSync(`${m.dir}/temp-${child}.rdb`));
  await m.r.set('during', 'sync');
  await m.r.config('SET', 'rdb-key-save-delay', '0');
  await waitFor(async () => (await infoOf(s.r, 'replication')).master_link_status === 'up', 'the sync', 20000);
  await waitFor(async () => (await s.r.get('during')) === 'sync', 'the write made during the save', 5000);
  assert.equal(await s.r.dbsize(), 201);
  assert.ok(existsSync(`${m.dir}/dump.rdb`));
  await m.r.set('after', '1');
  await waitFor(async () => (await s.r.get('after')) === '1', 'the stream', 5000);
});

test('the disk sync child exits when the master is killed, and is killed when no replica waits for its file', async () => {
  const m = await start(['--repl-diskless-sync', 'no']);
  const s = await start();
  await m.r.call('DEBUG', 'POPULATE', '1000');
  await m.r.config('SET', 'rdb-key-save-delay', '100000');
  await s.r.replicaof('127.0.0.1', String(m.port));
  await waitFor(async () => (await infoOf(m.r, 'persistence')).rdb_bgsave_in_progress === '1', 'the BGSAVE', 5000);
  // The only replica goes away, and no save points: the file is of no use, the child is killed (not an error).
  await s.r.replicaof('NO', 'ONE');
  await waitFor(async () => (await infoOf(m.r, 'persistence')).rdb_bgsave_in_progress === '0', 'the child to be killed', 5000);
  assert.equal((await infoOf(m.r, 'persistence')).rdb_last_bgsave_status, 'ok');
  assert.deepEqual(readdirSync(m.dir).filter((f) => f.startsWith('temp-')), []);
  // Again, and this time the master dies: the child notices and exits, removing its file.
  await s.r.replicaof('127.0.0.1', String(m.port));
  await waitFor(async () => (await infoOf(m.r, 'persistence')).rdb_bgsave_in_progress === '1', 'the second BGSAVE', 5000);
  const [child] = childrenOf(m.proc.child.pid!);
  assert.ok(child > 0);
  m.proc.child.kill('SIGKILL');
  await waitFor(() => !alive(child), 'the child to exit', 5000);
  assert.deepEqual(readdirSync(m.dir).filter((f) => f.startsWith('temp-')), []);
});
