/**
 * The RDB preamble of a rewritten AOF carries each key's access data as an RDB
 * save does (rdbSaveKeyValuePair): LFU counters under an LFU policy, idle times
 * under an LRU one. DEBUG LOADAOF reloads the AOF, so what OBJECT FREQ /
 * OBJECT IDLETIME read before the rewrite must read the same after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startServer } from '../../src/index.js';
import { fileCleanups } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { infoOf } from '../helpers/info.js';

const { cleanups, tempDir } = fileCleanups('mnemo-aof-access-');

async function rewriteAndReload(policy: string, prepare: (r: Redis, advance: (ms: number) => void) => Promise<void>): Promise<Redis> {
  const handle = await startServer({
    port: 0,
    frozenClock: true,
    config: { dir: tempDir(), appendonly: 'yes', 'aof-use-rdb-preamble': 'yes', 'maxmemory-policy': policy, 'enable-debug-command': 'yes' },
  });
  cleanups.push(() => handle.close());
  const r = new Redis({ port: handle.port, host: handle.host, maxRetriesPerRequest: 0 });
  cleanups.push(() => r.disconnect());
  await prepare(r, (ms) => handle.clock.advance(ms));
  await r.bgrewriteaof();
  await waitFor(async () => {
    const i = await infoOf(r, 'persistence');
    return i.aof_rewrite_in_progress === '0' && i.aof_rewrite_scheduled === '0' && i.aof_rewrites === '1';
  }, 'the AOF rewrite', 20000);
  assert.equal(await r.call('DEBUG', 'LOADAOF'), 'OK');
  return r;
}

test('LFU counters survive an AOF rewrite and DEBUG LOADAOF', async () => {
  let before = { hot: 0, cold: 0 };
  const r = await rewriteAndReload('allkeys-lfu', async (c) => {
    await c.set('hot', '1');
    await c.set('cold', '1');
    const p = c.pipeline();
    for (let i = 0; i < 2000; i++) p.get('hot');
    await p.exec();
    before = { hot: Number(await c.object('FREQ', 'hot')), cold: Number(await c.object('FREQ', 'cold')) };
  });
  assert.ok(before.hot > before.cold, `hot ${before.hot} > cold ${before.cold}`);
  assert.equal(Number(await r.object('FREQ', 'hot')), before.hot);
  assert.equal(Number(await r.object('FREQ', 'cold')), before.cold);
});

test('LRU idle times survive an AOF rewrite and DEBUG LOADAOF', async () => {
  const r = await rewriteAndReload('allkeys-lru', async (c, advance) => {
    await c.set('old', '1');
    advance(300_000);
    await c.set('new', '1');
  });
  assert.equal(Number(await r.object('IDLETIME', 'old')), 300);
  assert.equal(Number(await r.object('IDLETIME', 'new')), 0);
});
