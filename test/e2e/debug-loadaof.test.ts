/**
 * DEBUG LOADAOF against real redis-server 7.0.15, same steps on both, same
 * replies: with appendonly yes (pending writes are flushed, the dataset and
 * the function libraries are replaced by the AOF's contents, INFO shows a
 * fresh load and no changes since), and with appendonly turned off while
 * the AOF files stay (they are loaded, later writes are lost). Where Redis
 * exits (no AOF at all) Mnemo replies an error and keeps its data. Other
 * clients get -LOADING while a large AOF loads; the caller's pipelined
 * commands wait for the reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, fileCleanups, spawnServer } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { infoOf } from '../helpers/info.js';


type Kind = 'redis' | 'mnemo';

const { cleanups, tempDir } = fileCleanups('mnemo-loadaof-');

interface Proc {
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  connect(): Redis;
}

async function launch(kind: Kind, extra: string[]): Promise<Proc> {
  const dir = tempDir();
  const port = await freePort();
  const args = ['--port', String(port), '--dir', dir, '--save', '', '--enable-debug-command', 'yes', ...extra];
  const { child, exited } = await spawnServer(kind, args, cleanups);
  return {
    port,
    child,
    exited,
    connect() {
      const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
      r.on('error', () => undefined);
      cleanups.push(() => r.disconnect());
      return r;
    },
  };
}

async function ready(r: Redis): Promise<Redis> {
  if (r.status !== 'ready') await new Promise((res) => r.once('ready', res));
  return r;
}

const info = (r: Redis, section: string): Promise<Record<string, string>> => infoOf(r, section);


/** A reply, or the error text: replies and errors are compared alike. */
async function reply(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

const LIB1 = "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)";
const LIB2 = "#!lua name=lib2\nredis.register_function('f2', function() return 2 end)";

/** The same steps on either server; returns everything observed. */
async function appendonlyScenario(kind: Kind): Promise<Record<string, unknown>> {
  const p = await launch(kind, ['--appendonly', 'yes']);
  const r = await ready(p.connect());
  const seen: Record<string, unknown> = {};
  await r.set('a', '1');
  await r.set('b', '2');
  await r.hset('h', 'f', 'v');
  assert.equal(await r.bgrewriteaof(), 'Background append only file rewriting started');
  await waitFor(async () => {
    const i = await info(r, 'persistence');
    return i.aof_rewrite_in_progress === '0' && i.aof_rewrite_scheduled === '0' && i.aof_rewrites === '1';
  }, 'the server state', 20000);
  // After the rewrite: in the incr file.
  await r.set('c', '3');
  await r.expire('a', 100000);
  await r.rpush('l', 'x', 'y');
  await r.del('b');
  seen.fload = await reply(r.call('FUNCTION', 'LOAD', LIB1));
  seen.dirtyBefore = Number((await info(r, 'persistence')).rdb_changes_since_last_save) > 0;

  seen.loadaof = await reply(r.call('DEBUG', 'LOADAOF'));
  seen.keys = (await r.keys('*')).sort();
  seen.c = await r.get('c');
  const ttl = await r.ttl('a');
  seen.ttlKept = ttl > 99000 && ttl <= 100000;
  seen.l = await r.lrange('l', 0, -1);
  seen.h = await r.hgetall('h');
  seen.f1 = await reply(r.call('FCALL', 'f1', '0'));
  const i = await info(r, 'persistence');
  seen.info = {
    loading: i.loading,
    rdb_changes_since_last_save: i.rdb_changes_since_last_save,
    rdb_last_load_keys_loaded: i.rdb_last_load_keys_loaded,
    aof_enabled: i.aof_enabled,
  };

  // Writes after the reload reach the AOF as before; a second reload keeps them.
  await r.set('d', '4');
  seen.loadaofArgs = await reply(r.call('DEBUG', 'LOADAOF', 'ignored', 'args'));
  seen.d = await r.get('d');
  seen.dbsize = await r.dbsize();

  // appendonly off: the files stay and load; what was written since is gone, libraries too.
  seen.off = await r.config('SET', 'appendonly', 'no');
  await r.set('z', 'lost');
  seen.fload2 = await reply(r.call('FUNCTION', 'LOAD', LIB2));
  seen.loadaofOff = await reply(r.call('DEBUG', 'LOADAOF'));
  seen.zAfterOff = await r.exists('z');
  seen.keysAfterOff = (await r.keys('*')).sort();
  seen.f2AfterOff = await reply(r.call('FCALL', 'f2', '0'));
  seen.f1AfterOff = await reply(r.call('FCALL', 'f1', '0'));
  seen.aofEnabledAfterOff = (await info(r, 'persistence')).aof_enabled;
  r.disconnect();
  return seen;
}

test('DEBUG LOADAOF with appendonly yes, then with the AOF turned off: same replies as redis-server', async () => {
  const redis = await appendonlyScenario('redis');
  const mnemo = await appendonlyScenario('mnemo');
  // The facts themselves, so the comparison cannot pass on two equal mistakes.
  assert.equal(redis.loadaof, 'OK');
  assert.deepEqual(redis.keys, ['a', 'c', 'h', 'l']);
  assert.deepEqual(redis.info, { loading: '0', rdb_changes_since_last_save: '0', rdb_last_load_keys_loaded: '3', aof_enabled: '1' });
  assert.equal(redis.f1, 1);
  assert.equal(redis.zAfterOff, 0);
  assert.deepEqual(mnemo, redis);
});

test('DEBUG LOADAOF without any AOF: redis-server exits, Mnemo replies an error and keeps its data', async () => {
  const redisProc = await launch('redis', ['--appendonly', 'no']);
  const r = await ready(redisProc.connect());
  await r.set('k', 'v');
  const got = await reply(r.call('DEBUG', 'LOADAOF'));
  assert.match(String(got), /^error: /); // the connection closed without a reply
  assert.equal(await redisProc.exited, 1);

  const mnemoProc = await launch('mnemo', ['--appendonly', 'no']);
  const m = await ready(mnemoProc.connect());
  await m.set('k', 'v');
  assert.equal(await reply(m.call('DEBUG', 'LOADAOF')), 'error: ERR There are no AOF files to load (no AOF manifest, or an empty one).');
  assert.equal(await m.get('k'), 'v');
  assert.equal(mnemoProc.child.exitCode, null);
});

test('Mnemo: other clients get -LOADING during DEBUG LOADAOF; the caller waits for its reload', async () => {
  const p = await launch('mnemo', ['--appendonly', 'yes', '--aof-use-rdb-preamble', 'no']);
  const r = await ready(p.connect());
  const other = await ready(p.connect());
  const n = 300000;
  assert.equal(await r.call('DEBUG', 'POPULATE', String(n)), 'OK');
  await r.bgrewriteaof();
  await waitFor(async () => {
    const i = await info(r, 'persistence');
    return i.aof_rewrite_in_progress === '0' && i.aof_rewrites === '1';
  }, 'the server state', 20000);
  await r.set('extra', 'x');
  // The reload and a command pipelined after it.
  const pipeline = r.pipeline().call('DEBUG', 'LOADAOF').dbsize().exec();
  let loadingSeen = false;
  let infoLoading = false;
  let finished = false;
  void pipeline.then(() => (finished = true));
  while (!finished) {
    const got = await reply(other.get('key:1'));
    if (got === 'error: LOADING Redis is loading the dataset in memory') {
      loadingSeen = true;
      if ((await info(other, 'persistence')).loading === '1') infoLoading = true;
    }
  }
  const results = (await pipeline)!;
  assert.deepEqual(results, [
    [null, 'OK'],
    [null, n + 1],
  ]);
  assert.ok(loadingSeen, 'another client got -LOADING while the AOF loaded');
  assert.ok(infoLoading, 'INFO persistence said loading:1 meanwhile');
  assert.equal(await other.get('key:1'), 'value:1');
  const i = await info(other, 'persistence');
  assert.equal(i.loading, '0');
  assert.equal(i.rdb_changes_since_last_save, '0');
});
