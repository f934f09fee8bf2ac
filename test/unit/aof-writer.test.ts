// The live append path on an in-process server: what reaches the incr file
// (SELECT, MULTI/EXEC, absolute expiries, DEL of expired keys, timestamps),
// and the fsync policies' promise about when a reply may leave.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs, { fstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Server } from '../../src/server/server.js';
import { Config } from '../../src/config/config.js';
import { installAof, type Aof } from '../../src/persistence/aof/index.js';
import { setLogSink } from '../../src/persistence/index.js';
import { encodeCommand } from '../../src/persistence/aof/resp.js';
import { sectionFields } from '../../src/observability/info.js';


const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0)) await f();
});

interface Running {
  server: Server;
  aof: Aof;
  client: Redis;
  dir: string;
  incrPath: () => string;
}

async function start(extra: Record<string, string> = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'aof-writer-'));
  const server = new Server({ config: new Config({ dir, appendonly: 'yes', 'aof-use-rdb-preamble': 'no', ...extra }) });
  setLogSink(server, () => {});
  const aof = installAof(server);
  await aof.startup();
  await server.listen(0, '127.0.0.1');
  const client = new Redis({ port: server.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  cleanups.push(async () => {
    client.disconnect();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const incrPath = () => join(dir, 'appendonlydir', aof.manifest.incrs[aof.manifest.incrs.length - 1].name);
  return { server, aof, client, dir, incrPath };
}

const cmds = (...list: string[][]) => Buffer.concat(list.map((a) => encodeCommand(a))).toString('latin1');

test('writes Redis 7.0 propagation: SELECT on db change, absolute expiries, MULTI/EXEC for multi-write units', async () => {
  const { client, incrPath, server } = await start();
  const at = Date.now() + 100_000;
  await client.set('a', '1');
  await client.set('b', 'x', 'PXAT', at);
  await client.select(3);
  await client.incr('n');
  await client.pexpireat('n', at);
  await client.multi().incr('n').set('m', 'v').exec();
  await client.multi().incr('n').exec();
  await client.get('n'); // reads are not logged
  await client.select(0);
  server.dbs[0].setExpire('a', Date.now() - 1);
  assert.equal(await client.get('a'), null); // expired on access: logged as DEL
  await client.flushall();
  const expected = cmds(
    ['SELECT', '0'],
    ['set', 'a', '1'],
    ['SET', 'b', 'x', 'PXAT', String(at)],
    ['SELECT', '3'],
    ['incr', 'n'],
    ['pexpireat', 'n', String(at)],
    ['MULTI'],
    ['incr', 'n'],
    ['set', 'm', 'v'],
    ['EXEC'],
    ['incr', 'n'],
    ['SELECT', '0'],
    ['DEL', 'a'],
    ['flushall'],
  );
  assert.equal(readFileSync(incrPath(), 'latin1'), expected);
});

test('EXPIRE and SET EX reach the file as absolute times', async () => {
  const { client, incrPath } = await start();
  const before = Date.now();
  await client.set('k', 'v', 'EX', 100);
  await client.expire('k', 200);
  const text = readFileSync(incrPath(), 'latin1');
  const m = /\$4\r\nPXAT\r\n\$13\r\n(\d{13})\r\n[\s\S]*\$9\r\nPEXPIREAT\r\n\$1\r\nk\r\n\$13\r\n(\d{13})\r\n$/.exec(text);
  assert.ok(m, JSON.stringify(text));
  assert.ok(Number(m[1]) >= before + 100_000 && Number(m[1]) <= Date.now() + 100_000);
  assert.ok(Number(m[2]) >= before + 200_000 && Number(m[2]) <= Date.now() + 200_000);
});

/** Replaces fs.fdatasyncSync / fs.fdatasync (seen by our ESM imports) to record each fsync's file size. */
function recordFsyncs(): { sizes: number[]; restore: () => void } {
  const sizes: number[] = [];
  const sync = fs.fdatasyncSync;
  const async = fs.fdatasync;
  fs.fdatasyncSync = (fd: number) => {
    sizes.push(fstatSync(fd).size);
    sync(fd);
  };
  (fs as { fdatasync: unknown }).fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    sizes.push(fstatSync(fd).size);
    async(fd, cb);
  };
  syncBuiltinESMExports();
  const restore = () => {
    fs.fdatasyncSync = sync;
    (fs as { fdatasync: unknown }).fdatasync = async;
    syncBuiltinESMExports();
  };
  cleanups.push(restore);
  return { sizes, restore };
}

/** Records, at each reply handed to a server-side socket, whether every write executed so far was fsynced. */
function watchReplies(server: Server, rec: { sizes: number[] }, aof: Aof): string[] {
  const violations: string[] = [];
  for (const c of server.clients.values()) {
    const socket = c.socket;
    if (socket === null) continue;
    const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
    (socket as unknown as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
      // Everything executed so far: what reached the file plus what is still buffered.
      const size = aof.writer.fileSize + aof.writer.buf.len;
      const synced = rec.sizes.length > 0 ? rec.sizes[rec.sizes.length - 1] : 0;
      if (synced < size) violations.push(`reply ${JSON.stringify(chunk.toString('latin1').slice(0, 20))} sent with ${synced} of ${size} bytes fsynced`);
      return write(chunk);
    };
  }
  return violations;
}

test('appendfsync always: no reply leaves before the write it acknowledges is fsynced', async () => {
  const { client, incrPath, server, aof } = await start({ appendfsync: 'always' });
  await client.ping();
  const rec = recordFsyncs();
  const violations = watchReplies(server, rec, aof);
  for (let i = 0; i < 50; i++) {
    const key = `key:${i}`;
    await client.set(key, 'value');
    assert.ok(readFileSync(incrPath(), 'latin1').endsWith(cmds(['set', key, 'value'])));
  }
  // Replies of a pipeline share one fsync (group commit), and reads wait for unsynced writes too.
  const n = rec.sizes.length;
  const p = client.pipeline();
  for (let i = 0; i < 100; i++) p.incr('counter');
  p.get('counter');
  const res = await p.exec();
  assert.equal(res?.at(-1)?.[1], '100');
  assert.ok(rec.sizes.length - n <= 3, `${rec.sizes.length - n} fsyncs for one pipeline`);
  assert.deepEqual(violations, []);
  assert.ok(rec.sizes.length >= 50);
});

function statSizeOf(path: string): number {
  return fs.statSync(path).size;
}

test('appendfsync everysec: written before the reply, fsynced in the background about once a second', async () => {
  const { client, incrPath } = await start({ appendfsync: 'everysec' });
  const rec = recordFsyncs();
  const started = Date.now();
  let i = 0;
  while (Date.now() - started < 2300) {
    await client.set(`k${i}`, 'v');
    // A killed process loses nothing: the command is in the file when the reply comes.
    assert.ok(readFileSync(incrPath(), 'latin1').endsWith(cmds(['set', `k${i}`, 'v'])));
    i++;
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(rec.sizes.length >= 2 && rec.sizes.length <= 4, `${rec.sizes.length} fsyncs in 2.3 s`);
});

test('appendfsync no: written before the reply, never fsynced', async () => {
  const { client, incrPath } = await start({ appendfsync: 'no' });
  const rec = recordFsyncs();
  for (let i = 0; i < 20; i++) await client.set(`k${i}`, 'v');
  assert.ok(readFileSync(incrPath(), 'latin1').endsWith(cmds(['set', 'k19', 'v'])));
  await new Promise((r) => setTimeout(r, 1200));
  assert.deepEqual(rec.sizes, []);
});

test('CONFIG SET appendfsync switches the policy at run time', async () => {
  const { client, aof } = await start({ appendfsync: 'no' });
  assert.equal(aof.writer.policy, 'no');
  await client.config('SET', 'appendfsync', 'always');
  assert.equal(aof.writer.policy, 'always');
  assert.deepEqual(await client.config('GET', 'appendfsync'), ['appendfsync', 'always']);
});

test('aof-timestamp-enabled annotates the file with #TS lines that loading skips', async () => {
  const { client, incrPath } = await start({ 'aof-timestamp-enabled': 'yes' });
  await client.set('a', '1');
  const text = readFileSync(incrPath(), 'latin1');
  assert.match(text, /^#TS:\d{10}\r\n\*2\r\n\$6\r\nSELECT\r\n/);
});

test('INFO persistence shows the AOF state and sizes', async () => {
  const { client, server, aof } = await start();
  await client.set('a', '1');
  const fields = new Map(sectionFields(server, 'persistence'));
  assert.equal(fields.get('aof_enabled'), 1);
  assert.equal(fields.get('aof_rewrite_in_progress'), 0);
  assert.equal(fields.get('aof_last_write_status'), 'ok');
  assert.equal(fields.get('aof_current_size'), aof.currentSize);
  assert.ok(aof.currentSize > 0);
  assert.equal(fields.get('aof_buffer_length'), 0);
  const keys = [...fields.keys()];
  assert.deepEqual(keys.slice(keys.indexOf('module_fork_last_cow_size') + 1, keys.indexOf('module_fork_last_cow_size') + 7), [
    'aof_current_size',
    'aof_base_size',
    'aof_pending_rewrite',
    'aof_buffer_length',
    'aof_pending_bio_fsync',
    'aof_delayed_fsync',
  ]);
  await client.config('SET', 'appendonly', 'no');
  const off = new Map(sectionFields(server, 'persistence'));
  assert.equal(off.get('aof_enabled'), 0);
  assert.equal(off.has('aof_current_size'), false);
});
