/**
 * rdb-key-save-delay slows the AOF rewrite's base down per key, as Redis's
 * rewrite sleeps per key (tests use it to catch a rewrite in progress).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { infoFields } from '../helpers/info.js';

test('BGREWRITEAOF takes about rdb-key-save-delay per key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-aof-delay-'));
  const handle = await startTestServer({ dir, 'aof-use-rdb-preamble': 'no' });
  const r = await connectIo(handle);
  try {
    for (let i = 0; i < 20; i++) await r.set(`k${i}`, 'v');
    // 20 keys at 20 ms each: at least 400 ms.
    await r.config('SET', 'rdb-key-save-delay', '20000');
    const started = Date.now();
    await r.bgrewriteaof();
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(infoFields(await r.info('persistence')).get('aof_rewrite_in_progress'), '1');
    await waitFor(async () => infoFields(await r.info('persistence')).get('aof_rewrite_in_progress') === '0', 'the rewrite to end', 5000);
    assert.ok(Date.now() - started >= 380, `took ${Date.now() - started} ms`);
  } finally {
    await closeAll(handle, r);
    rmSync(dir, { recursive: true, force: true });
  }
});
