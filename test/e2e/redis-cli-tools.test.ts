/**
 * Debian's redis-cli 7.0 monitoring modes against Mnemo: `--bigkeys`,
 * `--memkeys` and `--stat` run as child processes and their output is parsed.
 *
 * The same dataset goes into Mnemo and into a real redis-server started here.
 * Each type has one key with the most elements ("many": what --bigkeys ranks
 * by STRLEN/LLEN/SCARD/ZCARD/HLEN/XLEN) and another with a few huge elements
 * ("fat": what --memkeys ranks by MEMORY USAGE), so the two modes must name
 * different keys. Real Redis running the same tool on the same data checks
 * that these expectations are Redis's, not just what Mnemo happens to print.
 *
 * redis-cli and redis-server come from Debian's redis-tools/redis-server
 * (CI installs them): when missing, these tests fail, they do not skip.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { startServer, type ServerHandle } from '../../src/index.js';
import { freePort } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

// ---- the dataset ----------------------------------------------------------------------

/** A 6000-byte element: five of them outweigh hundreds of short ones. */
const fat = (i: number): string => `F${i}`.repeat(3000);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The biggest string: a binary name (NUL, quotes, 0xff) checks SCAN and redis-cli's quoting. */
const BIG_STRING_KEY = Buffer.from('s:big\x00 "q"\xff', 'latin1');

async function loadDataset(r: Redis): Promise<void> {
  const p = r.pipeline();
  p.set('s:small', 'x');
  p.set('s:medium', 'm'.repeat(100));
  p.set(BIG_STRING_KEY, 'b'.repeat(5000));
  p.rpush('l:many', ...range(200).map((i) => `i${i}`));
  p.rpush('l:fat', ...range(5).map(fat));
  p.rpush('l:small', 'a', 'b', 'c');
  p.sadd('set:many', ...range(150).map((i) => `m${i}`));
  p.sadd('set:ints', ...range(300)); // an intset that outgrew set-max-intset-entries
  p.sadd('set:fat', ...range(5).map(fat));
  p.sadd('set:small', 'a', 'b');
  p.zadd('z:many', ...range(120).flatMap((i) => [i, `z${i}`]));
  p.zadd('z:fat', ...range(5).flatMap((i) => [i, fat(i)]));
  p.zadd('z:small', 1, 'a');
  p.hset('h:many', ...range(130).flatMap((i) => [`f${i}`, `v${i}`]));
  p.hset('h:fat', ...range(5).flatMap((i) => [`f${i}`, fat(i)]));
  p.hset('h:small', 'a', '1');
  for (const i of range(50)) p.xadd('st:many', '*', 'f', `v${i}`);
  for (const i of range(5)) p.xadd('st:fat', '*', 'f', fat(i));
  p.xadd('st:small', '*', 'a', '1');
  const replies = await p.exec();
  assert.ok(replies);
  for (const [err] of replies) assert.equal(err, null);
}

/** sdscatrepr of BIG_STRING_KEY, as redis-cli prints it. */
const BIG_STRING_REPR = '"s:big\\x00 \\"q\\"\\xff"';

/** What --bigkeys must report: per type, the key with the most elements. */
const BIGGEST_BY_COUNT: Record<string, Biggest> = {
  string: { key: BIG_STRING_REPR, size: 5000, unit: 'bytes' },
  list: { key: '"l:many"', size: 200, unit: 'items' },
  set: { key: '"set:ints"', size: 300, unit: 'members' },
  zset: { key: '"z:many"', size: 120, unit: 'members' },
  hash: { key: '"h:many"', size: 130, unit: 'fields' },
  stream: { key: '"st:many"', size: 50, unit: 'entries' },
};

/** What --memkeys must name: per type, the key MEMORY USAGE finds heaviest. */
const BIGGEST_BY_MEMORY: Record<string, string> = {
  string: BIG_STRING_REPR,
  list: '"l:fat"',
  set: '"set:fat"',
  zset: '"z:fat"',
  hash: '"h:fat"',
  stream: '"st:fat"',
};

/** Raw key of each quoted name above, for MEMORY USAGE. */
function rawKey(repr: string): string | Buffer {
  return repr === BIG_STRING_REPR ? BIG_STRING_KEY : repr.slice(1, -1);
}

// ---- servers ------------------------------------------------------------------------

let mnemo: ServerHandle;
let mnemoClient: Redis;
let redisProc: ChildProcess | null = null;
let redisPort = 0;
let redisDir = '';
let redisClient: Redis;


/** Starts redis-server in the foreground on a free port; resolves once it accepts connections. */
async function startRedis(): Promise<void> {
  redisPort = await freePort();
  redisDir = mkdtempSync(join(tmpdir(), 'mnemo-cli-tools-redis-'));
  const child = spawn(
    REDIS_SERVER,
    // Its own dir: a dump.rdb left in the cwd by anything else must not be loaded.
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  redisProc = child;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
}

before(async () => {
  mnemo = await startServer({ port: 0 });
  mnemoClient = new Redis({ port: mnemo.port, host: mnemo.host, maxRetriesPerRequest: 0 });
  await startRedis();
  redisClient = new Redis({ port: redisPort, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  await loadDataset(mnemoClient);
  await loadDataset(redisClient);
});

after(async () => {
  mnemoClient?.disconnect();
  redisClient?.disconnect();
  await mnemo?.close();
  const child = redisProc;
  if (child !== null && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  if (redisDir !== '') rmSync(redisDir, { recursive: true, force: true });
});

// ---- running redis-cli ----------------------------------------------------------------

/** Runs redis-cli against a port to completion; rejects (fails the test) if it cannot run or fails. */
function redisCli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      REDIS_CLI,
      ['-h', '127.0.0.1', '-p', String(port), ...args],
      { timeout: 30_000, encoding: 'latin1', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

interface Biggest {
  key: string;
  size: number;
  unit: string;
}

/** The summary's "Biggest <type> found '<key>' has N <unit>" lines, by type (key as printed, quoted). */
function parseBiggest(out: string): Record<string, Biggest> {
  const found: Record<string, Biggest> = {};
  for (const line of out.split('\n')) {
    const m = /^Biggest\s+(\S+) found '(.*)' has (\d+) (\S+)$/.exec(line);
    if (m === null) continue;
    assert.equal(found[m[1]], undefined, `type ${m[1]} reported twice`);
    found[m[1]] = { key: m[2], size: Number(m[3]), unit: m[4] };
  }
  return found;
}

/** From the summary marker to the end, as a sorted list of lines (redis-cli orders types by a seeded dict). */
function summaryLines(out: string): string[] {
  const at = out.indexOf('-------- summary -------');
  assert.ok(at >= 0, `no summary in:\n${out}`);
  return out
    .slice(at)
    .split('\n')
    .filter((l) => l.length > 0)
    .sort();
}

function sampledKeys(out: string): number {
  const m = /^Sampled (\d+) keys in the keyspace!$/m.exec(out);
  assert.ok(m, `no "Sampled N keys" line in:\n${out}`);
  return Number(m[1]);
}

// ---- --bigkeys ----------------------------------------------------------------------------

test('redis-cli --bigkeys names the key with the most elements of each type', async () => {
  const out = await redisCli(mnemo.port, '--bigkeys');
  assert.deepEqual(parseBiggest(out), BIGGEST_BY_COUNT);
  assert.equal(sampledKeys(out), await mnemoClient.dbsize());
  // The per-type totals: every key scanned once, sized by the right command.
  for (const line of [
    '3 strings with 5101 bytes',
    '3 lists with 208 items',
    '4 sets with 457 members',
    '3 zsets with 126 members',
    '3 hashs with 136 fields',
    '3 streams with 56 entries',
  ]) {
    assert.ok(out.includes(line + ' ('), `missing "${line}" in:\n${out}`);
  }
});

test('redis-cli --bigkeys prints the same summary for Mnemo as for redis-server', async () => {
  const [ours, theirs] = await Promise.all([redisCli(mnemo.port, '--bigkeys'), redisCli(redisPort, '--bigkeys')]);
  assert.deepEqual(parseBiggest(theirs), BIGGEST_BY_COUNT, 'the dataset ranks as expected in real Redis');
  assert.deepEqual(summaryLines(ours), summaryLines(theirs));
});

test('redis-cli --bigkeys and --memkeys on an empty database print what redis-server prints', async () => {
  for (const mode of ['--bigkeys', '--memkeys']) {
    const [ours, theirs] = await Promise.all([redisCli(mnemo.port, '-n', '5', mode), redisCli(redisPort, '-n', '5', mode)]);
    assert.equal(sampledKeys(ours), 0);
    assert.deepEqual(summaryLines(ours), summaryLines(theirs), mode);
  }
});

// ---- --memkeys ---------------------------------------------------------------------------

test('redis-cli --memkeys names the heaviest key of each type, with its MEMORY USAGE', async () => {
  const out = await redisCli(mnemo.port, '--memkeys');
  const found = parseBiggest(out);
  assert.deepEqual(Object.keys(found).sort(), Object.keys(BIGGEST_BY_MEMORY).sort());
  for (const [type, key] of Object.entries(BIGGEST_BY_MEMORY)) {
    assert.equal(found[type].key, key, `biggest ${type}`);
    assert.equal(found[type].unit, 'bytes');
    const usage = (await mnemoClient.call('MEMORY', 'USAGE', rawKey(key))) as number;
    assert.equal(found[type].size, usage, `${type} ${key}: size is MEMORY USAGE`);
  }
  assert.equal(sampledKeys(out), await mnemoClient.dbsize());
});

test('redis-cli --memkeys agrees with redis-server on the keys and, within 10%, on their sizes', async () => {
  const [ours, theirs] = await Promise.all([redisCli(mnemo.port, '--memkeys'), redisCli(redisPort, '--memkeys')]);
  const o = parseBiggest(ours);
  const t = parseBiggest(theirs);
  for (const [type, key] of Object.entries(BIGGEST_BY_MEMORY)) {
    assert.equal(t[type]?.key, key, `real Redis's biggest ${type}`);
    assert.equal(o[type]?.key, key, `Mnemo's biggest ${type}`);
    // Streams' radix trees and zsets' random skiplist levels are estimated, not replayed.
    const ratio = o[type].size / t[type].size;
    assert.ok(ratio > 0.9 && ratio < 1.1, `${type}: Mnemo ${o[type].size} bytes, Redis ${t[type].size}`);
  }
});

// ---- --stat ------------------------------------------------------------------------------

interface StatRow {
  keys: number;
  mem: string;
  clients: number;
  blocked: number;
  requests: number;
  delta: number;
  connections: number;
}

const STAT_ROW = /^(\d+)\s+(\d+(?:\.\d+)?[BKMGTP])\s+(\d+)\s+(\d+)\s+(\d+) \(\+(\d+)\)\s+(\d+)\s*$/;

/**
 * Runs `redis-cli --stat -i 0.1` for about a second and returns its lines.
 * redis-cli does not flush stdout when it is a pipe, and it dies by signal
 * here, so it runs under stdbuf -oL (coreutils) to get its lines as printed.
 */
function runStat(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('stdbuf', ['-oL', REDIS_CLI, '-h', '127.0.0.1', '-p', String(port), '--stat', '-i', '0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (d: string) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const started = Date.now();
    const poll = setInterval(() => {
      const rows = out.split('\n').filter((l) => STAT_ROW.test(l)).length;
      // About a second, and at least two data rows (10 s at most).
      if ((Date.now() - started >= 1000 && rows >= 2) || Date.now() - started > 10_000) child.kill('SIGTERM');
    }, 50);
    child.once('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      if (signal !== 'SIGTERM') reject(new Error(`redis-cli --stat exited early (${code ?? signal}): ${out}${err}`));
      else resolve(out.split('\n'));
    });
  });
}

function parseStatRows(lines: string[]): StatRow[] {
  const rows: StatRow[] = [];
  for (const l of lines) {
    const m = STAT_ROW.exec(l);
    if (m === null) continue;
    rows.push({
      keys: Number(m[1]),
      mem: m[2],
      clients: Number(m[3]),
      blocked: Number(m[4]),
      requests: Number(m[5]),
      delta: Number(m[6]),
      connections: Number(m[7]),
    });
  }
  return rows;
}

test('redis-cli --stat shows its header and rows whose keys column is DBSIZE', async () => {
  const lines = await runStat(mnemo.port);
  const redisLines = await runStat(redisPort);
  // The two header lines, exactly as against redis-server.
  assert.match(lines[0], /^------- data ------ -+ load -+ - child -/);
  assert.match(lines[1], /^keys\s+mem\s+clients\s+blocked\s+requests\s+connections/);
  assert.deepEqual(lines.slice(0, 2), redisLines.slice(0, 2));

  const rows = parseStatRows(lines);
  assert.ok(rows.length >= 2, `data rows expected in:\n${lines.join('\n')}`);
  const dbsize = await mnemoClient.dbsize();
  for (const r of rows) {
    assert.equal(r.keys, dbsize);
    assert.ok(r.clients >= 2, 'this test client and redis-cli itself are connected');
    assert.equal(r.blocked, 0);
  }
  // Each refresh is one INFO: the request counter moves by what the "(+N)" column says.
  for (let i = 1; i < rows.length; i++) {
    assert.equal(rows[i].requests - rows[i - 1].requests, rows[i].delta);
    assert.ok(rows[i].delta >= 1);
    assert.equal(rows[i].connections, rows[0].connections);
  }
  // Real Redis shows the same key count for the same dataset.
  const redisRows = parseStatRows(redisLines);
  assert.ok(redisRows.length >= 1);
  assert.equal(redisRows[0].keys, rows[0].keys);
});

test('redis-cli --rdb and mnemo-cli --rdb fetch a snapshot of Mnemo that redis-check-rdb accepts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-cli-rdb-'));
  try {
    const keys = await mnemoClient.dbsize();
    const mnemoCli = fileURLToPath(new URL('../../src/bin/mnemo-cli.js', import.meta.url));
    for (const [name, cmd, pre] of [
      ['redis-cli', REDIS_CLI, []],
      ['mnemo-cli', process.execPath, [mnemoCli]],
    ] as const) {
      const file = join(dir, `${name}.rdb`);
      const stderr = await new Promise<string>((resolve, reject) => {
        execFile(cmd, [...pre, '-h', '127.0.0.1', '-p', String(mnemo.port), '--rdb', file], { timeout: 30_000 }, (err, _out, errText) =>
          err ? reject(new Error(`${name} --rdb failed: ${err.message}\n${errText}`)) : resolve(String(errText)),
        );
      });
      assert.match(stderr, /Transfer finished with success/, name);
      const image = readFileSync(file);
      assert.equal(image.subarray(0, 9).toString('latin1'), 'REDIS0010', name);
      const check = await new Promise<string>((resolve, reject) => {
        execFile('redis-check-rdb', [file], { timeout: 30_000 }, (err, out) => (err ? reject(err) : resolve(String(out))));
      });
      assert.match(check, new RegExp(`\\b${keys} keys read`), `${name}: ${check}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('redis-cli --functions-rdb fetches only the function libraries (REPLCONF rdb-filter-only), and --replica prints the write stream', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-cli-frdb-'));
  try {
    await mnemoClient.call('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=clitoolslib\nredis.register_function('clitoolsfn', function() return 1 end)");
    const file = join(dir, 'functions.rdb');
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(mnemo.port), '--functions-rdb', file], { timeout: 30_000 }, (err, _out, errText) =>
        err ? reject(new Error(`--functions-rdb failed: ${err.message}\n${errText}`)) : resolve(String(errText)),
      );
    });
    // Streamed in the diskless format (redis-cli announces capa eof), as from Redis 7.0.
    assert.match(stderr, /Transfer finished with success after \d+ bytes/);
    const image = readFileSync(file);
    assert.ok(image.includes('clitoolslib'), 'the library is in the file');
    const check = await new Promise<string>((resolve, reject) => {
      execFile('redis-check-rdb', [file], { timeout: 30_000 }, (err, out) => (err ? reject(err) : resolve(String(out))));
    });
    assert.match(check, /\b0 keys read/);
  } finally {
    await mnemoClient.call('FUNCTION', 'DELETE', 'clitoolslib');
    rmSync(dir, { recursive: true, force: true });
  }
  // --replica: an (empty, filtered) snapshot, then each write as redis-cli prints it.
  const child = spawn(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(mnemo.port), '--replica'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    await waitFor(() => out.includes('Logging commands from master'), 'redis-cli --replica to sync', 10000);
    await mnemoClient.set('replica:seen', 'yes');
    await waitFor(() => out.includes('"set","replica:seen","yes"'), 'the write in the stream', 10000);
  } finally {
    child.kill('SIGTERM');
  }
});
