/**
 * A script in the AOF that runs past busy-reply-threshold while the AOF loads
 * (aof.tcl "EVAL timeout with slow verbatim Lua script from AOF"): as Redis,
 * the slow script is logged and the server keeps serving other clients
 * meanwhile, with -LOADING (the loading check comes before the busy one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { setLogSink } from '../../src/persistence/log.js';

function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('');
}

test('a slow script loaded from the AOF is logged, and other clients get -LOADING until it ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-aof-slow-'));
  const handle = await startTestServer({ dir, 'aof-use-rdb-preamble': 'no', 'busy-reply-threshold': '1', 'enable-debug-command': 'yes' });
  const lines: string[] = [];
  setLogSink(handle.server, (level, line) => lines.push(`${level}: ${line}`));
  const r = await connectIo(handle);
  const other = await connectIo(handle);
  try {
    await r.config('SET', 'appendonly', 'yes');
    await waitFor(async () => /aof_rewrite_in_progress:0[\s\S]*aof_rewrite_scheduled:0/.test(await r.info('persistence')), 'the first AOF rewrite');
    const aofDir = join(dir, 'appendonlydir');
    const incrFile = (): string | undefined => (existsSync(aofDir) ? readdirSync(aofDir).find((f) => f.endsWith('.incr.aof')) : undefined);
    await waitFor(() => incrFile() !== undefined, 'the AOF files');
    const incr = incrFile()!;
    const script = "redis.call('set',KEYS[1],'y') local t = 0 for i=1,3000000 do t = t + i end return 'ok'";
    appendFileSync(join(aofDir, incr), resp('select', '9') + resp('eval', script, '1', 'x'), 'latin1');
    const load = r.call('DEBUG', 'LOADAOF');
    let finished = false;
    void load.then(() => (finished = true));
    const seen = new Set<string>();
    while (!finished) {
      try {
        seen.add(String(await other.ping()));
      } catch (e) {
        seen.add((e as Error).message);
      }
    }
    assert.equal(await load, 'OK');
    assert.ok(seen.has('LOADING Redis is loading the dataset in memory'), [...seen].join(', '));
    assert.ok(![...seen].some((s) => s.startsWith('BUSY')), [...seen].join(', '));
    assert.ok(
      lines.some((l) => /^warning: .*Slow script detected: still in execution after \d+ milliseconds\. You can try killing the script using the SCRIPT KILL command\. Script name is: [0-9a-f]{40}\.$/.test(l)),
      lines.join('\n'),
    );
    await other.select(9);
    assert.equal(await other.get('x'), 'y');
  } finally {
    await closeAll(handle, r, other);
    rmSync(dir, { recursive: true, force: true });
  }
});
