/**
 * RDB end to end, with real processes: Mnemo's dump.rdb loads in Debian's
 * redis-server 7.0.15 (and passes redis-check-rdb), redis-server's dump.rdb
 * loads in Mnemo, both with identical contents compared through ordinary
 * commands (TYPE, GET, LRANGE, SMEMBERS, HGETALL, ZRANGE, XRANGE, XINFO,
 * PTTL: no DEBUG); corrupt files stop Mnemo at start-up with a clear error;
 * BGSAVE serves clients while it writes a point-in-time image; a failing
 * BGSAVE shows in INFO and refuses writes with MISCONF; -LOADING while a big
 * file loads; SHUTDOWN and SIGTERM save.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, readFileSync, writeFileSync, existsSync, statSync, copyFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, fileCleanups } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { infoOf } from '../helpers/info.js';

const BIN = fileURLToPath(new URL('../../src/bin/mnemo-server.js', import.meta.url));
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
const REDIS_CHECK_RDB = process.env.REDIS_CHECK_RDB ?? 'redis-check-rdb';

const { cleanups, tempDir } = fileCleanups('mnemo-rdb-');

interface Proc {
  port: number;
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Spawns a server and waits for `ready` on stdout (or its exit). */
function launch(cmd: string, args: string[], port: number, ready: RegExp): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let done = false;
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const proc: Proc = {
      port,
      child,
      out: () => out,
      err: () => err,
      exited,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    };
    cleanups.push(() => proc.stop());
    child.stdout!.on('data', (d) => {
      out += d;
      if (!done && ready.test(out)) {
        done = true;
        resolve(proc);
      }
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', reject);
    void exited.then((code) => {
      if (!done) {
        done = true;
        resolve(proc);
      }
      void code;
    });
  });
}

async function startRedis(dir: string, dbfilename = 'dump.rdb', extra: string[] = []): Promise<Proc> {
  const port = await freePort();
  const p = await launch(
    REDIS_SERVER,
    ['--port', String(port), '--dir', dir, '--dbfilename', dbfilename, '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra],
    port,
    /Ready to accept connections/,
  );
  assert.equal(p.child.exitCode, null, `redis-server did not start: ${p.out()} ${p.err()}`);
  return p;
}

async function startMnemo(dir: string, dbfilename = 'dump.rdb', extra: string[] = [], ready = /Ready to accept connections/): Promise<Proc> {
  const port = await freePort();
  return launch(
    process.execPath,
    [BIN, '--port', String(port), '--dir', dir, '--dbfilename', dbfilename, '--save', '', '--appendonly', 'no', ...extra],
    port,
    ready,
  );
}

function client(p: Proc): Redis {
  const r = new Redis(p.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  cleanups.push(() => r.disconnect());
  return r;
}


const info = (r: Redis, section: string): Promise<Record<string, string>> => infoOf(r, section);

// ---- the dataset, written and compared with ordinary commands --------------------

/** Fills a server with every type and encoding, binary data, TTLs and several dbs. */
async function populate(r: Redis): Promise<void> {
  const cmds: Array<Array<string | Buffer>> = [
    ['SET', 'str:int', '12345'],
    ['SET', 'str:neg', '-2147483648'],
    ['SET', 'str:big', '9223372036854775807'],
    ['SET', 'str:text', 'hello world'],
    ['SET', 'str:compressible', 'abc'.repeat(200)],
    ['SET', 'str:bin', Buffer.from([0, 1, 0xfe, 0xff, 13, 10])],
    ['SET', 'str:empty', ''],
    ['APPEND', 'str:appended', 'xyz'],
    ['APPEND', 'str:appended', '0123456789'.repeat(5)],
    ['SETBIT', 'str:bits', '100', '1'],
    ['PFADD', 'hll', 'a', 'b', 'c', 'd'],
    ['SET', 'ttl:px', 'v', 'PX', '86400000'],
    ['HSET', 'ttl:hash', 'f', 'v'],
    ['PEXPIRE', 'ttl:hash', '7200000'],
    ['RPUSH', 'list:small', 'a', '1', '-5', '70000', 'x'.repeat(80), Buffer.from([0xff, 0])],
    ['SADD', 'set:intset', '3', '1', '2', '-40000'],
    ['SADD', 'set:int64', '1', '9223372036854775807', '-9223372036854775808'],
    ['SADD', 'set:strings', 'a', 'b', '1'],
    ['HSET', 'hash:small', 'f1', 'v1', 'num', '42', 'neg', '-3'],
    ['HSET', 'hash:big-value', 'long', 'v'.repeat(100), 'x', 'y'],
    ['ZADD', 'zset:small', '1', 'a', '2.5', 'b', '-1e-5', 'c', 'inf', 'd', '-inf', 'e', '3.141592653589793', 'pi'],
    ['ZADD', 'zset:long-member', '1', 'm'.repeat(100), '2', 'short'],
    ['XADD', 'stream', '1-1', 'f', 'v'],
    ['XADD', 'stream', '1-2', 'f', 'w'],
    ['XADD', 'stream', '2-0', 'g', '1', 'h', '2'],
    ['XADD', 'stream', '3-0', 'f', 'z'],
    ['XDEL', 'stream', '1-2'],
    ['XGROUP', 'CREATE', 'stream', 'g1', '0'],
    ['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '2', 'STREAMS', 'stream', '>'],
    ['XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '1', 'STREAMS', 'stream', '>'],
    ['XACK', 'stream', 'g1', '1-1'],
    ['XGROUP', 'CREATE', 'stream', 'g2', '$'],
    ['XADD', 'stream:trimmed', 'MAXLEN', '0', '5-5', 'f', 'v'],
    ['SELECT', '3'],
    ['SET', 'in:db3', 'three'],
    ['LPUSH', 'list:db3', 'z'],
    ['SELECT', '15'],
    ['ZADD', 'z:db15', '1', 'one'],
    ['SELECT', '0'],
  ];
  for (const c of cmds) await r.call(...(c as [string, ...Array<string | Buffer>]));
  const big: string[] = [];
  for (let i = 0; i < 3000; i++) big.push(i % 3 === 0 ? `item-${i}-${'p'.repeat(i % 50)}` : String(i * 7 - 1000));
  await r.rpush('list:big', ...big);
  const ints: string[] = [];
  for (let i = 0; i < 600; i++) ints.push(String(i * 3));
  await r.sadd('set:bigint', ...ints);
  await r.sadd('set:big', ...ints.map((m) => 'm' + m));
  const z: string[] = [];
  for (let i = 0; i < 300; i++) z.push(String(i / 7), `z${i}`);
  await r.zadd('zset:big', ...z);
  const h: string[] = [];
  for (let i = 0; i < 700; i++) h.push(`f${i}`, String(i));
  await r.hset('hash:many', ...h);
  for (let i = 0; i < 250; i++) {
    await r.call('XADD', 'stream:big', `${1000 + i}-0`, 'temp', String(i), ...(i % 5 === 0 ? ['extra', 'yes'] : []));
  }
  await r.call('XDEL', 'stream:big', '1000-0', '1100-0');
}

type Dump = Record<string, unknown>;

function hex(b: unknown): unknown {
  if (Buffer.isBuffer(b)) return b.toString('hex');
  if (Array.isArray(b)) return b.map(hex);
  return b;
}

/** Every key of every db: type, value and TTL, read with ordinary commands. */
async function dumpAll(r: Redis): Promise<Dump> {
  const out: Dump = {};
  for (let db = 0; db < 16; db++) {
    await r.select(db);
    const keys: Buffer[] = [];
    let cursor = '0';
    do {
      const [next, batch] = (await r.callBuffer('SCAN', cursor, 'COUNT', '1000')) as [Buffer, Buffer[]];
      cursor = next.toString();
      keys.push(...batch);
    } while (cursor !== '0');
    for (const k of keys) {
      const type = (await r.type(k)) as string;
      let value: unknown;
      switch (type) {
        case 'string':
          value = await r.getBuffer(k);
          break;
        case 'list':
          value = await r.lrangeBuffer(k, 0, -1);
          break;
        case 'set':
          value = ((await r.smembersBuffer(k)) as Buffer[]).map((b) => b.toString('hex')).sort();
          break;
        case 'hash': {
          const flat = (await r.callBuffer('HGETALL', k)) as Buffer[];
          const pairs: string[] = [];
          for (let i = 0; i < flat.length; i += 2) pairs.push(flat[i].toString('hex') + '=' + flat[i + 1].toString('hex'));
          value = pairs.sort();
          break;
        }
        case 'zset':
          value = await r.callBuffer('ZRANGE', k, '0', '-1', 'WITHSCORES');
          break;
        case 'stream':
          value = [await r.callBuffer('XRANGE', k, '-', '+'), await r.callBuffer('XINFO', 'STREAM', k, 'FULL')];
          break;
      }
      const pttl = await r.pttl(k);
      // TTLs are compared to the second: time passes between the two reads.
      out[`${db}/${k.toString('hex')}`] = [type, hex(value), pttl < 0 ? pttl : Math.round(pttl / 10000)];
    }
  }
  await r.select(0);
  return out;
}

// ---- Mnemo -> Redis ------------------------------------------------------------------

test("Mnemo's dump.rdb (SAVE and BGSAVE) loads in redis-server 7.0.15 with identical contents and passes redis-check-rdb", async () => {
  const dir = tempDir();
  const m = await startMnemo(dir, 'mnemo.rdb');
  const mc = client(m);
  await populate(mc);
  const expected = await dumpAll(mc);
  assert.ok(Object.keys(expected).length > 30);

  for (const how of ['SAVE', 'BGSAVE'] as const) {
    if (how === 'SAVE') {
      assert.equal(await mc.save(), 'OK');
    } else {
      assert.equal(await mc.bgsave(), 'Background saving started');
      await waitFor(async () => (await info(mc, 'persistence')).rdb_bgsave_in_progress === '0', 'the server state', 20000);
      assert.equal((await info(mc, 'persistence')).rdb_last_bgsave_status, 'ok');
    }
    const file = join(dir, 'mnemo.rdb');
    assert.equal(readFileSync(file).latin1Slice(0, 9), 'REDIS0010');
    const check = spawnSync(REDIS_CHECK_RDB, [file], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /RDB looks OK/);
    assert.match(check.stdout, /Checksum OK/);

    const r = await startRedis(dir, 'mnemo.rdb');
    const rc = client(r);
    assert.deepEqual(await dumpAll(rc), expected, `redis-server loading Mnemo's ${how} file`);
    rc.disconnect();
    await r.stop();
  }
});

// ---- Redis -> Mnemo ------------------------------------------------------------------

test("redis-server's dump.rdb (every encoding, compressed strings, TTLs, stream groups) loads in Mnemo with identical contents", async () => {
  const dir = tempDir();
  const r = await startRedis(dir, 'redis.rdb');
  const rc = client(r);
  await populate(rc);
  const expected = await dumpAll(rc);
  assert.equal(await rc.save(), 'OK');
  rc.disconnect();
  await r.stop();

  const m = await startMnemo(dir, 'redis.rdb');
  assert.equal(m.child.exitCode, null, m.err());
  const mc = client(m);
  assert.deepEqual(await dumpAll(mc), expected);
  const p = await info(mc, 'persistence');
  assert.equal(p.rdb_last_load_keys_loaded, String(Object.keys(expected).length));
  assert.equal(p.loading, '0');
});

// ---- corrupt files ----------------------------------------------------------------------

test('a corrupt dump.rdb (truncated, flipped byte, wrong checksum, not an RDB) stops Mnemo at start-up with a clear error', async () => {
  const src = tempDir();
  const m = await startMnemo(src);
  const mc = client(m);
  await populate(mc);
  await mc.save();
  mc.disconnect();
  await m.stop();
  const good = readFileSync(join(src, 'dump.rdb'));
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated', good.subarray(0, Math.floor(good.length / 2)), /truncated/],
    ['flipped byte', Buffer.from(good.map((b, i) => (i === Math.floor(good.length * 0.7) ? b ^ 0x10 : b))), /corrupt|checksum|integrity|Invalid/i],
    ['wrong checksum', Buffer.concat([good.subarray(0, good.length - 8), Buffer.from('0123456789abcdef', 'hex')]), /RDB CRC error: Wrong RDB checksum/],
    ['not an RDB', Buffer.from('*1\r\n$4\r\nPING\r\n'), /Wrong signature/],
  ];
  for (const [name, bytes, why] of cases) {
    const dir = tempDir();
    writeFileSync(join(dir, 'dump.rdb'), bytes);
    const p = await startMnemo(dir);
    const code = await p.exited;
    assert.equal(code, 1, `${name}: exit code (stdout: ${p.out()})`);
    assert.match(p.err(), /Fatal error loading the DB/, name);
    assert.match(p.err(), why, `${name}: ${p.err()}`);
    // The log (stdout here) says it too, as Redis's does.
    assert.match(p.out(), /# Fatal error loading the DB/, name);
    assert.match(p.out(), /# Internal error in RDB reading offset \d+, function at rdb\.c -> /, name);
    assert.match(p.out(), /# Terminating server after rdb file reading failure\.\n/, name);
    assert.match(p.out(), why, `${name} (log): ${p.out()}`);
    assert.doesNotMatch(p.out(), /Ready to accept connections/, name);
  }
});

// ---- BGSAVE is point-in-time and does not block ---------------------------------------

test('BGSAVE serves clients while it writes, and writes the dataset as it was when it started', async () => {
  const dir = tempDir();
  // rdb-key-save-delay (microseconds per key) stretches the save so we can act during it.
  const m = await startMnemo(dir, 'dump.rdb', ['--rdb-key-save-delay', '2000']);
  const mc = client(m);
  const pipe = mc.pipeline();
  for (let i = 0; i < 1000; i++) pipe.set(`k${i}`, `v${i}`);
  pipe.rpush('list', 'a', 'b');
  pipe.hset('hash', 'f', 'old');
  pipe.set('gone', 'still here in the image');
  await pipe.exec();
  const expected = await dumpAll(mc);

  assert.equal(await mc.bgsave(), 'Background saving started');
  await assert.rejects(mc.bgsave(), /ERR Background save already in progress/);
  await assert.rejects(mc.save(), /ERR Background save already in progress/);
  await assert.rejects(mc.call('BGSAVE', 'SCHEDULE'), /ERR Background save already in progress/);
  const p = await info(mc, 'persistence');
  assert.equal(p.rdb_bgsave_in_progress, '1');
  let longest = 0;
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await mc.ping();
    longest = Math.max(longest, performance.now() - t);
    if (i % 4 === 0) {
      await mc.set(`k${i}`, 'changed');
      await mc.rpush('list', `new${i}`);
      await mc.hset('hash', 'f', `new${i}`);
      await mc.set(`created${i}`, 'x');
    }
  }
  await mc.del('gone');
  assert.equal(await mc.flushdb(), 'OK'); // the image keeps what was there before
  await waitFor(async () => (await info(mc, 'persistence')).rdb_bgsave_in_progress === '0', 'the server state', 60000);
  assert.equal((await info(mc, 'persistence')).rdb_last_bgsave_status, 'ok');
  assert.ok(longest < 500, `longest PING during BGSAVE: ${longest.toFixed(1)} ms`);
  mc.disconnect();
  await m.stop();

  const r = await startRedis(dir);
  assert.deepEqual(await dumpAll(client(r)), expected);
});

// ---- failures: MISCONF ----------------------------------------------------------------

test('BGSAVE into a missing dir fails: INFO says err, writes get MISCONF, the server keeps running', async () => {
  const dir = tempDir();
  const gone = tempDir();
  const m = await startMnemo(dir, 'dump.rdb', ['--save', '3600 1', '--enable-protected-configs', 'yes']);
  const mc = client(m);
  await mc.set('a', '1');
  await mc.config('SET', 'dir', gone);
  rmSync(gone, { recursive: true, force: true });
  assert.equal(await mc.bgsave(), 'Background saving started');
  await waitFor(async () => (await info(mc, 'persistence')).rdb_bgsave_in_progress === '0', 'the server state', 20000);
  assert.equal((await info(mc, 'persistence')).rdb_last_bgsave_status, 'err');
  await assert.rejects(mc.set('b', '2'), /^ReplyError: MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk\./);
  assert.equal(await mc.get('a'), '1'); // reads still work
  await assert.rejects(mc.ping(), /MISCONF/);
  await assert.rejects(mc.save(), /^ReplyError: ERR$/); // SAVE is not a write: it runs, and fails
  await mc.config('SET', 'stop-writes-on-bgsave-error', 'no');
  assert.equal(await mc.set('b', '2'), 'OK');
  await mc.config('SET', 'stop-writes-on-bgsave-error', 'yes');
  await mc.config('SET', 'dir', dir);
  assert.equal(await mc.bgsave(), 'Background saving started');
  await waitFor(async () => (await info(mc, 'persistence')).rdb_bgsave_in_progress === '0', 'the server state', 20000);
  assert.equal((await info(mc, 'persistence')).rdb_last_bgsave_status, 'ok');
  assert.equal(await mc.set('c', '3'), 'OK');
});

// ---- loading ------------------------------------------------------------------------------

test('while a large dump.rdb loads, clients get -LOADING and INFO shows loading:1 with progress', async () => {
  const dir = tempDir();
  const m = await startMnemo(dir, 'dump.rdb', ['--enable-debug-command', 'yes']);
  const mc = client(m);
  await mc.call('DEBUG', 'POPULATE', '1500000', 'key', '20');
  await mc.save();
  const keys = await mc.dbsize();
  mc.disconnect();
  await m.stop();

  // Wait only for the banner with the port: the dataset loads after it.
  const l = await startMnemo(dir, 'dump.rdb', [], /port=\d+/);
  const replies: string[] = [];
  let sawLoadingInfo = false;
  await waitFor(async () => {
    const got = await rawCommand(l.port, ['GET', 'key:1']).catch(() => '');
    replies.push(got);
    if (got.startsWith('-LOADING')) {
      const inf = await rawCommand(l.port, ['INFO', 'persistence']).catch(() => '');
      if (/loading:1/.test(inf) && /loading_loaded_perc:/.test(inf)) sawLoadingInfo = true;
    }
    return got.startsWith('$20\r\n');
  }, 'the loaded dataset', 120000);
  assert.ok(replies.some((x) => x === '-LOADING Redis is loading the dataset in memory\r\n'), JSON.stringify(replies.slice(0, 5)));
  assert.ok(sawLoadingInfo, 'INFO persistence during loading');
  const lc = client(l);
  assert.equal(await lc.dbsize(), keys);
  assert.equal((await info(lc, 'persistence')).loading, '0');
});

/** Sends one command on a fresh connection and returns the first reply's raw bytes. */
function rawCommand(port: number, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(got);
    }, 2000);
    s.on('connect', () => s.write(`*${argv.length}\r\n` + argv.map((a) => `$${a.length}\r\n${a}\r\n`).join('')));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (/\r\n$/.test(got) && (!got.startsWith('$') || got.split('\r\n').length >= 3)) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

// ---- shutdown ---------------------------------------------------------------------------

test('SHUTDOWN and SIGTERM save when save points are configured; SHUTDOWN NOSAVE does not', async () => {
  const dir = tempDir();
  const file = join(dir, 'dump.rdb');
  // SHUTDOWN with save points: saved.
  let m = await startMnemo(dir, 'dump.rdb', ['--save', '3600 1']);
  let mc = client(m);
  await mc.set('k', 'one');
  await mc.call('SHUTDOWN').catch(() => undefined);
  assert.equal(await m.exited, 0);
  assert.ok(existsSync(file));
  // SIGTERM with save points: saved.
  m = await startMnemo(dir, 'dump.rdb', ['--save', '3600 1']);
  mc = client(m);
  assert.equal(await mc.get('k'), 'one');
  await mc.set('k', 'two');
  m.child.kill('SIGTERM');
  assert.equal(await m.exited, 0);
  // SHUTDOWN NOSAVE: the file keeps "two".
  m = await startMnemo(dir, 'dump.rdb', ['--save', '3600 1']);
  mc = client(m);
  assert.equal(await mc.get('k'), 'two');
  await mc.set('k', 'three');
  const before = statSync(file).mtimeMs;
  await mc.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  await m.exited;
  assert.equal(statSync(file).mtimeMs, before);
  m = await startMnemo(dir);
  assert.equal(await client(m).get('k'), 'two');
});

test('save points: N changes in M seconds start a BGSAVE; LASTSAVE and rdb_changes_since_last_save follow', async () => {
  const dir = tempDir();
  const m = await startMnemo(dir, 'dump.rdb', ['--save', '1 2']);
  const mc = client(m);
  const start = await mc.lastsave();
  await mc.set('a', '1');
  await mc.set('b', '2');
  await mc.set('c', '3');
  assert.equal((await info(mc, 'persistence')).rdb_changes_since_last_save, '3');
  await waitFor(async () => (await info(mc, 'persistence')).rdb_changes_since_last_save === '0', 'the server state', 10000);
  assert.ok(existsSync(join(dir, 'dump.rdb')));
  assert.ok((await mc.lastsave()) >= start);
  assert.equal((await info(mc, 'persistence')).rdb_last_bgsave_status, 'ok');
});

// ---- DEBUG RELOAD, DUMP/RESTORE across servers ------------------------------------------

test('DEBUG RELOAD keeps the dataset; DEBUG DIGEST equals redis-server\'s for the same data', async () => {
  const dir = tempDir();
  const m = await startMnemo(dir, 'dump.rdb', ['--enable-debug-command', 'yes']);
  const mc = client(m);
  await populate(mc);
  const digest = await mc.call('DEBUG', 'DIGEST');
  const before = await dumpAll(mc);
  assert.equal(await mc.call('DEBUG', 'RELOAD'), 'OK');
  assert.equal(await mc.call('DEBUG', 'DIGEST'), digest);
  assert.deepEqual(await dumpAll(mc), before);
  copyFileSync(join(dir, 'dump.rdb'), join(dir, 'copy.rdb'));
  const r = await startRedis(dir, 'copy.rdb', ['--enable-debug-command', 'yes']);
  assert.equal(await client(r).call('DEBUG', 'DIGEST'), digest);
});

test('DUMP payloads move values between Mnemo and redis-server both ways', async () => {
  const dir = tempDir();
  const m = await startMnemo(dir);
  const r = await startRedis(dir, 'unused.rdb');
  const mc = client(m);
  const rc = client(r);
  await populate(mc);
  const expected = await dumpAll(mc);
  for (let db = 0; db < 16; db++) {
    await mc.select(db);
    await rc.select(db);
    for (const k of (await mc.keys('*')) as string[]) {
      const payload = await mc.dumpBuffer(k);
      const ttl = await mc.pttl(k);
      await rc.call('RESTORE', k, String(ttl > 0 ? ttl : 0), payload);
    }
  }
  await mc.select(0);
  await rc.select(0);
  assert.deepEqual(await dumpAll(rc), expected);
  await mc.flushall();
  for (let db = 0; db < 16; db++) {
    await mc.select(db);
    await rc.select(db);
    for (const k of (await rc.keys('*')) as string[]) {
      const ttl = await rc.pttl(k);
      await mc.call('RESTORE', k, String(ttl > 0 ? ttl : 0), await rc.dumpBuffer(k));
    }
  }
  await mc.select(0);
  assert.deepEqual(await dumpAll(mc), expected);
});

// ---- BGSAVE of a million keys: pauses and memory ------------------------------------------

test('BGSAVE of 1,000,000 keys: longest client pause and extra memory (measured and bounded)', async (t) => {
  const { startServer } = await import('../../src/index.js');
  const { persistenceOf, setLogSink } = await import('../../src/persistence/index.js');
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose_gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const dir = tempDir();
  const srv = await startServer({ port: 0, config: { save: '', dir, 'enable-debug-command': 'yes' } });
  cleanups.push(() => srv.close());
  setLogSink(srv.server, () => {});
  const r = new Redis(srv.port, '127.0.0.1');
  const pinger = new Redis(srv.port, '127.0.0.1');
  const writer = new Redis(srv.port, '127.0.0.1');
  cleanups.push(() => {
    r.disconnect();
    pinger.disconnect();
    writer.disconnect();
  });
  const N = 1_000_000;
  for (let i = 0; i < N; i += 10_000) {
    const args: string[] = [];
    for (let j = i; j < i + 10_000; j++) args.push(`key:${j}`, `value:${j}`);
    await r.mset(...args);
  }
  assert.equal(await r.dbsize(), N);
  const heap = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  gc();
  gc();
  const dataset = heap();
  const st = persistenceOf(srv.server);

  // Run 1: the longest PING round trip while BGSAVE runs and another client keeps writing.
  let stop = false;
  let longest = 0;
  let pings = 0;
  const pingLoop = (async () => {
    while (!stop) {
      const s = performance.now();
      await pinger.ping();
      longest = Math.max(longest, performance.now() - s);
      pings++;
    }
  })();
  let writes = 0;
  const writeLoop = (async () => {
    while (!stop) {
      await writer.set(`key:${Math.floor(Math.random() * N)}`, 'changed');
      writes++;
    }
  })();
  await new Promise((res) => setTimeout(res, 200));
  longest = 0;
  const started = performance.now();
  assert.equal(await r.bgsave(), 'Background saving started');
  while (st.bgsave !== null) await new Promise((res) => setTimeout(res, 5));
  const took = performance.now() - started;
  stop = true;
  await pingLoop;
  await writeLoop;
  assert.equal(st.lastbgsaveStatus, 'ok');

  const accounted = st.lastCowSize; // pages copied and keys kept by the barrier (INFO rdb_last_cow_size)

  // Run 2: live memory above the dataset while BGSAVE runs and a client writes (garbage collected before each sample).
  stop = false;
  const writeLoop2 = (async () => {
    while (!stop) await writer.set(`key:${Math.floor(Math.random() * N)}`, 'changed2');
  })();
  await new Promise((res) => setTimeout(res, 100));
  gc();
  const base = heap();
  assert.equal(await r.bgsave(), 'Background saving started');
  let extra = 0;
  while (st.bgsave !== null) {
    await new Promise((res) => setTimeout(res, 40));
    gc();
    extra = Math.max(extra, heap() - base);
  }
  stop = true;
  await writeLoop2;
  const pct = (100 * extra) / dataset;
  t.diagnostic(
    `BGSAVE of ${N} keys took ${took.toFixed(0)} ms; longest PING round trip ${longest.toFixed(1)} ms over ${pings} PINGs ` +
      `(${writes} SETs meanwhile); extra live memory ${(extra / 1e6).toFixed(1)} MB = ${pct.toFixed(1)}% of the ${(dataset / 1e6).toFixed(0)} MB dataset ` +
      `(barrier copies: ${(accounted / 1e6).toFixed(1)} MB)`,
  );
  // Targets: 50 ms and 25%. The pause bound here is loose because shared test machines stall
  // processes (young-generation GCs alone take ~50 ms on a loaded 2-core box); a blocking save of a
  // million keys would take about a second.
  assert.ok(longest < 500, `longest pause ${longest.toFixed(1)} ms`);
  assert.ok(pct <= 25, `extra memory ${pct.toFixed(1)}%`);
  // The file holds every key.
  const check = spawnSync(REDIS_CHECK_RDB, [join(dir, 'dump.rdb')], { encoding: 'utf8' });
  assert.match(check.stdout, /1000000 keys read/);
});
