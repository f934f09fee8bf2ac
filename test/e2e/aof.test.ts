/**
 * The append-only file end to end, with real processes: mnemo-server keeps
 * its data across restarts (clean or kill -9), redis-server 7.0.15 loads
 * Mnemo's append-only directory and Mnemo loads Redis's (RDB and AOF base
 * files, incr files with MULTI/EXEC), comparing every key's type, value and
 * TTL; broken files stop the start with a clear error.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from '../helpers/process.js';

const BIN = fileURLToPath(new URL('../../src/bin/mnemo-server.js', import.meta.url));
const procs = new Set<ChildProcess>();
const dirs: string[] = [];

after(() => {
  for (const p of procs) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aof-e2e-'));
  dirs.push(d);
  return d;
}


interface Proc {
  port: number;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts mnemo-server or redis-server; resolves once it answers PING (not LOADING), or when it exits. */
async function launch(kind: 'mnemo' | 'redis', args: string[]): Promise<Proc & { client: Redis | null }> {
  const port = await freePort();
  const all = ['--port', String(port), '--save', '', ...args];
  const proc = kind === 'mnemo' ? spawn(process.execPath, [BIN, ...all]) : spawn('redis-server', all);
  procs.add(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    procs.delete(proc);
  });
  const deadline = Date.now() + 15_000;
  while (!done && Date.now() < deadline) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return { port, proc, output: () => out, exited, client };
    } catch {
      // not listening or still loading
    }
    client.disconnect();
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!done) throw new Error(`${kind} did not start:\n${out}`);
  return { port, proc, output: () => out, exited, client: null };
}

async function stop(p: Proc & { client: Redis | null }, how: 'kill' | 'shutdown'): Promise<void> {
  if (how === 'kill') {
    p.client?.disconnect();
    p.proc.kill('SIGKILL');
  } else {
    await p.client!.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    p.client!.disconnect();
  }
  await p.exited;
}

const text = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString('latin1') : Array.isArray(v) ? v.map(text) : v);

/** Every key of every database: type, value and absolute expiry, in a canonical form. */
async function dataset(c: Redis): Promise<string[]> {
  const out: string[] = [];
  const call = async (...args: string[]) => text(await c.callBuffer(args[0], ...args.slice(1)));
  for (let db = 0; db < 16; db++) {
    await c.select(db);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = (await call('SCAN', cursor, 'COUNT', '1000')) as [string, string[]];
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    for (const key of keys.sort()) {
      const type = (await c.type(key)) as string;
      let value: unknown;
      switch (type) {
        case 'string': value = await call('GET', key); break;
        case 'list': value = await call('LRANGE', key, '0', '-1'); break;
        case 'set': value = ((await call('SMEMBERS', key)) as string[]).sort(); break;
        case 'zset': value = await call('ZRANGE', key, '0', '-1', 'WITHSCORES'); break;
        case 'hash': {
          const flat = (await call('HGETALL', key)) as string[];
          const pairs: string[] = [];
          for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
          value = pairs.sort();
          break;
        }
        case 'stream': {
          const info = (await call('XINFO', 'STREAM', key)) as unknown[];
          const pick = (names: string[]) => names.map((n) => info[info.indexOf(n) + 1]);
          const groups = ((await call('XINFO', 'GROUPS', key)) as unknown[][]).map((g) => {
            const get = (n: string) => g[g.indexOf(n) + 1];
            return [get('name'), get('consumers'), get('pending'), get('last-delivered-id'), get('entries-read')];
          });
          const pending: unknown[] = [];
          for (const g of groups) {
            const rows = (await call('XPENDING', key, String(g[0]), '-', '+', '1000')) as unknown[][];
            pending.push(rows.map((r) => [r[0], r[1], r[3]])); // id, consumer, delivery count (not the idle time)
          }
          value = [await call('XRANGE', key, '-', '+'), pick(['length', 'last-generated-id', 'max-deleted-entry-id', 'entries-added']), groups, pending];
          break;
        }
      }
      const ttl = await call('PEXPIRETIME', key);
      out.push(`${db} ${JSON.stringify(key)} ${type} ${ttl} ${JSON.stringify(value)}`);
    }
  }
  await c.select(0);
  return out;
}

/** Writes a bit of everything, over several dbs, with TTLs and transactions. */
async function fill(c: Redis, tag: string): Promise<void> {
  const at = String(Date.now() + 3_600_000);
  const cmd = (...args: string[]) => c.call(args[0], ...args.slice(1));
  await cmd('SET', `str:${tag}`, 'hello');
  await cmd('SET', `bin:${tag}`, '\x00\xff\r\n\x80 binary');
  await cmd('SET', `ex:${tag}`, 'v', 'EX', '3600');
  await cmd('SET', `big:${tag}`, 'B'.repeat(100_000));
  await cmd('INCRBY', `int:${tag}`, '12345');
  await cmd('APPEND', `str:${tag}`, ' world');
  await cmd('SETRANGE', `str:${tag}`, '0', 'J');
  await cmd('PEXPIREAT', `str:${tag}`, at);
  await cmd('RPUSH', `list:${tag}`, 'a', 'b', 'c');
  for (let i = 0; i < 300; i++) await cmd('LPUSH', `biglist:${tag}`, `item-${i}`);
  await cmd('SADD', `intset:${tag}`, '1', '2', '3', '-7');
  await cmd('SADD', `set:${tag}`, 'x', 'y', 'z');
  await cmd('ZADD', `zset:${tag}`, '1.5', 'a', '-inf', 'b', '3', 'c', 'inf', 'd');
  for (let i = 0; i < 200; i++) await cmd('ZADD', `bigzset:${tag}`, String(i / 3), `m${i}`);
  await cmd('HSET', `hash:${tag}`, 'f1', 'v1', 'f2', 'v2');
  for (let i = 0; i < 600; i++) await cmd('HSET', `bighash:${tag}`, `f${i}`, 'v'.repeat(i % 70));
  await cmd('PFADD', `hll:${tag}`, 'a', 'b', 'c', 'd');
  await cmd('SETBIT', `bits:${tag}`, '1000', '1');
  await cmd('XADD', `stream:${tag}`, '1-1', 'f', 'v');
  await cmd('XADD', `stream:${tag}`, '2-1', 'f', 'w', 'g', 'x');
  await cmd('XADD', `stream:${tag}`, '3-1', 'h', 'y');
  await cmd('XDEL', `stream:${tag}`, '2-1');
  await cmd('XGROUP', 'CREATE', `stream:${tag}`, 'g1', '0');
  await cmd('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '1', 'STREAMS', `stream:${tag}`, '>');
  await cmd('XGROUP', 'CREATECONSUMER', `stream:${tag}`, 'g1', 'bob');
  await cmd('XGROUP', 'CREATE', `stream:${tag}`, 'g2', '$');
  await cmd('XGROUP', 'CREATE', `empty:${tag}`, 'g', '$', 'MKSTREAM');
  await c.multi().incr(`int:${tag}`).set(`tx:${tag}`, 'in-multi').del(`bin:gone`).exec();
  await cmd('SELECT', '3');
  await cmd('SET', `db3:${tag}`, 'three');
  await cmd('RPUSH', `db3list:${tag}`, '1');
  await cmd('SELECT', '15');
  await cmd('HSET', `db15:${tag}`, 'k', 'v');
  await cmd('SELECT', '0');
  await cmd('SET', `gone:${tag}`, 'x');
  await cmd('DEL', `gone:${tag}`);
}

const mnemoArgs = (dir: string, extra: string[] = []) => ['--dir', dir, '--appendonly', 'yes', ...extra];

test('mnemo-server keeps every key across a clean restart and across kill -9', async () => {
  const dir = tempDir();
  let m = await launch('mnemo', mnemoArgs(dir));
  await fill(m.client!, 'a');
  await m.client!.call('BGREWRITEAOF');
  await fill(m.client!, 'b');
  const before = await dataset(m.client!);
  assert.ok(before.length > 30);
  await stop(m, 'shutdown');
  m = await launch('mnemo', mnemoArgs(dir));
  assert.deepEqual(await dataset(m.client!), before);
  await fill(m.client!, 'c');
  const again = await dataset(m.client!);
  await stop(m, 'kill');
  m = await launch('mnemo', mnemoArgs(dir));
  assert.deepEqual(await dataset(m.client!), again);
  await stop(m, 'kill');
});

for (const preamble of ['yes', 'no']) {
  test(`redis-server 7.0.15 loads the append-only dir Mnemo wrote (aof-use-rdb-preamble ${preamble})`, async () => {
    const dir = tempDir();
    const m = await launch('mnemo', mnemoArgs(dir, ['--aof-use-rdb-preamble', preamble]));
    await fill(m.client!, 'before-rewrite');
    await m.client!.call('BGREWRITEAOF');
    while ((await m.client!.info('persistence')).includes('aof_rewrite_in_progress:1')) await new Promise((r) => setTimeout(r, 20));
    await fill(m.client!, 'after-rewrite');
    const expected = await dataset(m.client!);
    assert.ok(expected.length > 30, `only ${expected.length} keys`);
    await stop(m, 'shutdown');
    const files = readdirSync(join(dir, 'appendonlydir'));
    assert.ok(files.includes(`appendonly.aof.2.base.${preamble === 'yes' ? 'rdb' : 'aof'}`), files.join(' '));
    const r = await launch('redis', ['--dir', dir, '--appendonly', 'yes']);
    assert.ok(r.client, `redis-server refused the directory:\n${r.output()}`);
    assert.deepEqual(await dataset(r.client!), expected);
    assert.match(r.output(), /DB loaded from append only file/);
    await stop(r, 'shutdown');
  });

  test(`Mnemo loads the append-only dir redis-server 7.0.15 wrote (aof-use-rdb-preamble ${preamble})`, async () => {
    const dir = tempDir();
    const r = await launch('redis', ['--dir', dir, '--appendonly', 'yes', '--aof-use-rdb-preamble', preamble]);
    await fill(r.client!, 'before-rewrite');
    await r.client!.call('BGREWRITEAOF');
    while ((await r.client!.info('persistence')).includes('aof_rewrite_in_progress:1')) await new Promise((res) => setTimeout(res, 20));
    await fill(r.client!, 'after-rewrite');
    await r.client!.call('EVAL', "redis.call('SET', 'script-a', '1'); redis.call('INCR', 'script-n')", '0');
    const expected = await dataset(r.client!);
    assert.ok(expected.length > 30, `only ${expected.length} keys`);
    await stop(r, 'shutdown');
    const m = await launch('mnemo', mnemoArgs(dir));
    assert.ok(m.client, `mnemo-server refused the directory:\n${m.output()}`);
    assert.deepEqual(await dataset(m.client!), expected);
    await stop(m, 'shutdown');
  });
}

/** A directory with one incr file holding `content` (and an empty base). */
function aofDirWith(content: Buffer): string {
  const dir = tempDir();
  const aofDir = join(dir, 'appendonlydir');
  mkdirSync(aofDir);
  writeFileSync(join(aofDir, 'appendonly.aof.1.base.aof'), '');
  writeFileSync(join(aofDir, 'appendonly.aof.1.incr.aof'), content);
  writeFileSync(join(aofDir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  return dir;
}

const resp = (...cmds: string[][]) => Buffer.from(cmds.map((a) => `*${a.length}\r\n` + a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')).join(''), 'latin1');

test('a truncated last command: loaded up to it with aof-load-truncated yes, a refusal with no', async () => {
  const good = resp(['SET', 'k', '1'], ['INCR', 'k']);
  const content = Buffer.concat([good, resp(['INCR', 'k']).subarray(0, 10)]);
  let dir = aofDirWith(content);
  const m = await launch('mnemo', mnemoArgs(dir));
  assert.equal(await m.client!.get('k'), '2');
  assert.match(m.output(), /!!! Warning: short read while loading the AOF file appendonly\.aof\.1\.incr\.aof!!!/);
  assert.match(m.output(), new RegExp(`Truncating the AOF appendonly\\.aof\\.1\\.incr\\.aof at offset ${good.length} `));
  assert.equal(statSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof')).size, good.length);
  // The server goes on appending after the cut.
  await m.client!.incr('k');
  await stop(m, 'kill');
  const m2 = await launch('mnemo', mnemoArgs(dir));
  assert.equal(await m2.client!.get('k'), '3');
  await stop(m2, 'kill');

  dir = aofDirWith(content);
  const refused = await launch('mnemo', mnemoArgs(dir, ['--aof-load-truncated', 'no']));
  assert.equal(refused.client, null);
  assert.equal(await refused.exited, 1);
  assert.match(refused.output(), /Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof/);
  assert.equal(statSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof')).size, content.length);
});

test('corruption never loads partially: flipped bytes and garbage stop the start with a clear error', async () => {
  const good = resp(['SET', 'a', '1'], ['SET', 'b', '2'], ['SET', 'c', '3']);
  const flipped = Buffer.from(good);
  flipped[good.indexOf('$1\r\nb') + 1] = 0x39; // the length of "b" becomes 9
  for (const [content, pattern] of [
    [flipped, /Bad file format reading the append only file appendonly\.aof\.1\.incr\.aof/],
    [Buffer.concat([good, Buffer.from('garbage\r\n'), good]), /Bad file format reading the append only file/],
    [Buffer.concat([good, resp(['NOSUCHCMD', 'x'])]), /Unknown command 'NOSUCHCMD' reading the append only file/],
  ] as const) {
    const dir = aofDirWith(content);
    const p = await launch('mnemo', mnemoArgs(dir));
    assert.equal(p.client, null, 'the server started');
    assert.equal(await p.exited, 1);
    assert.match(p.output(), pattern);
  }
  // A corrupt RDB base is refused too.
  const dir = tempDir();
  const m = await launch('mnemo', mnemoArgs(dir));
  await fill(m.client!, 'x');
  await m.client!.call('BGREWRITEAOF');
  while ((await m.client!.info('persistence')).includes('aof_rewrite_in_progress:1')) await new Promise((r) => setTimeout(r, 20));
  await stop(m, 'shutdown');
  const base = join(dir, 'appendonlydir', 'appendonly.aof.2.base.rdb');
  const bytes = readFileSync(base);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(base, bytes);
  const bad = await launch('mnemo', mnemoArgs(dir));
  assert.equal(bad.client, null);
  assert.equal(await bad.exited, 1);
  assert.match(bad.output(), /Error reading the RDB base file appendonly\.aof\.2\.base\.rdb, AOF loading aborted/);
  // And a truncated base that is not the last file.
  truncateSync(base, 20);
  const cut = await launch('mnemo', mnemoArgs(dir));
  assert.equal(cut.client, null);
  assert.equal(await cut.exited, 1);
});

test('CONFIG SET appendonly yes at run time creates the AOF from the dataset, and it survives a restart', async () => {
  const dir = tempDir();
  const m = await launch('mnemo', ['--dir', dir, '--appendonly', 'no']);
  await fill(m.client!, 'plain');
  assert.equal(await m.client!.config('SET', 'appendonly', 'yes'), 'OK');
  while (!(await m.client!.info('persistence')).includes('aof_rewrite_in_progress:0')) await new Promise((r) => setTimeout(r, 20));
  await m.client!.set('after', 'enabled');
  const expected = await dataset(m.client!);
  assert.match(await m.client!.info('persistence'), /aof_enabled:1\r\n/);
  await stop(m, 'kill');
  const again = await launch('mnemo', mnemoArgs(dir));
  assert.deepEqual(await dataset(again.client!), expected);
  await stop(again, 'kill');
});
