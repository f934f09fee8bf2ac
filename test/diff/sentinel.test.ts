/**
 * Sentinel mode, differential: a real Redis Sentinel (`redis-server --sentinel`,
 * 7.0.15) and Mnemo's (`mnemo-server --sentinel`) start from the same config
 * and answer the same commands; replies must be byte for byte the same. The
 * monitored masters are not running (ports nobody listens on), so the state
 * both report is the same; down-after is long enough that nothing changes
 * during the test. Time-dependent fields (ms since ...) and the run ids are
 * compared by shape only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Conn, encodeCommand, type Reply } from './harness.js';
import { freePort, tempDir, spawnSentinel, MNEMO_BIN } from '../helpers/process.js';

const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

interface Sentinel {
  port: number;
  conf: string;
  conn: Conn;
}

async function startSentinel(kind: 'redis' | 'mnemo', masterPorts: number[]): Promise<Sentinel> {
  const dir = tempDir(`sentinel-diff-${kind}-`, cleanups);
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${masterPorts[0]} 2`,
      'sentinel down-after-milliseconds mymaster 60000',
      `sentinel monitor other 127.0.0.1 ${masterPorts[1]} 1`,
      'sentinel parallel-syncs other 3',
      `sentinel known-replica other 127.0.0.1 ${masterPorts[2]}`,
      '',
    ].join('\n'),
  );
  await spawnSentinel(kind, conf, cleanups, '+monitor master other');
  const conn = await Conn.open('127.0.0.1', port);
  cleanups.push(() => conn.close());
  return { port, conf, conn };
}

async function ask(s: Sentinel, args: string[]): Promise<Reply> {
  s.conn.write(encodeCommand(args));
  const r = await s.conn.readReply(5000);
  assert.equal(r.kind, 'reply', `${args.join(' ')}: ${r.kind}`);
  return (r as { reply: Reply }).reply;
}

/** Exact bytes, except the values of the named map fields, compared by type. */
function masked(r: Reply, volatileFields: ReadonlySet<string>): string {
  if (r.items === undefined) return r.raw.toString('latin1');
  let out = `${r.type}${r.items.length}|`;
  for (let i = 0; i < r.items.length; i++) {
    const item = r.items[i];
    const prev = i > 0 ? r.items[i - 1] : undefined;
    const key = prev && prev.items === undefined && i % 2 === 1 ? prev.raw.toString('latin1').split('\r\n')[1] : undefined;
    out += key !== undefined && volatileFields.has(key) ? `<${item.type}>` : masked(item, volatileFields);
    out += '|';
  }
  return out;
}

const VOLATILE = new Set(['runid', 'last-ping-sent', 'last-ok-ping-reply', 'last-ping-reply', 'info-refresh', 'role-reported-time', 'link-pending-commands', 'last-hello-message']);

test('sentinel: replies and errors match a Redis Sentinel byte for byte', { timeout: 60_000 }, async () => {
  const masterPorts = [await freePort(), await freePort(), await freePort()];
  const redis = await startSentinel('redis', masterPorts);
  const mnemo = await startSentinel('mnemo', masterPorts);
  const cases: string[][] = [
    ['PING'],
    ['SENTINEL', 'HELP'],
    ['SENTINEL', 'MASTERS'],
    ['SENTINEL', 'MASTER', 'mymaster'],
    ['SENTINEL', 'MASTER', 'nosuch'],
    ['SENTINEL', 'MASTER'],
    ['SENTINEL', 'REPLICAS', 'other'],
    ['SENTINEL', 'SLAVES', 'mymaster'],
    ['SENTINEL', 'SENTINELS', 'mymaster'],
    ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'],
    ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'nosuch'],
    ['SENTINEL', 'CKQUORUM', 'mymaster'],
    ['SENTINEL', 'CKQUORUM', 'other'],
    ['SENTINEL', 'FAILOVER', 'mymaster'],
    ['SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', String(masterPorts[0]), '0', '*'],
    ['SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', 'x', '0', '*'],
    ['SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '10.0.0.1', '1', '0', '*'],
    ['SENTINEL', 'SET', 'mymaster', 'quorum', '0'],
    ['SENTINEL', 'SET', 'mymaster', 'nosuch', '1'],
    ['SENTINEL', 'SET', 'mymaster', 'down-after-milliseconds'],
    ['SENTINEL', 'SET', 'mymaster', 'notification-script', '/bin/true'],
    ['SENTINEL', 'SET', 'nosuch', 'quorum', '1'],
    ['SENTINEL', 'SET', 'other', 'quorum', '2', 'failover-timeout', '5000', 'parallel-syncs', '2'],
    ['SENTINEL', 'MASTER', 'other'],
    ['SENTINEL', 'MONITOR', 'mymaster', '127.0.0.1', '1', '2'],
    ['SENTINEL', 'MONITOR', 'new', '127.0.0.1', '1', '0'],
    ['SENTINEL', 'MONITOR', 'new', '127.0.0.1', 'x', '1'],
    ['SENTINEL', 'MONITOR', 'new', 'not-an-ip', '1', '1'],
    ['SENTINEL', 'MONITOR', 'new', '127.0.0.1', String(masterPorts[2]), '1'],
    ['SENTINEL', 'REMOVE', 'new'],
    ['SENTINEL', 'REMOVE', 'new'],
    ['SENTINEL', 'CONFIG', 'GET', '*'],
    ['SENTINEL', 'CONFIG', 'GET', 'announce-*'],
    ['SENTINEL', 'CONFIG', 'SET', 'announce-port', 'x'],
    ['SENTINEL', 'CONFIG', 'SET', 'nosuch', '1'],
    ['SENTINEL', 'CONFIG', 'SET', 'resolve-hostnames', 'maybe'],
    ['SENTINEL', 'CONFIG', 'FOO'],
    ['SENTINEL', 'DEBUG'],
    ['SENTINEL', 'DEBUG', 'ping-period', '0'],
    ['SENTINEL', 'DEBUG', 'nosuch', '1'],
    ['SENTINEL', 'SIMULATE-FAILURE', 'HELP'],
    ['SENTINEL', 'SIMULATE-FAILURE', 'nosuch'],
    ['SENTINEL', 'PENDING-SCRIPTS'],
    ['SENTINEL', 'INFO-CACHE', 'nosuch'],
    ['SENTINEL', 'NOSUCH'],
    ['SENTINEL', 'RESET', 'nomatch*'],
    ['ROLE'],
    ['PUBLISH', 'chan', 'msg'],
    ['GET', 'x'],
    ['CONFIG', 'GET', 'port'],
    ['COMMAND', 'COUNT'],
    ['COMMAND', 'INFO', 'sentinel|masters', 'ping'],
    ['CLIENT', 'SETNAME', 'x'],
  ];
  // Masters are kept in a hash table whose order changes from run to run in Redis: compared as sets.
  const unordered = (r: Reply): string => (r.items ? r.items.map((i) => unorderedItem(i)).sort().join('\n') : masked(r, VOLATILE));
  const unorderedItem = (r: Reply): string => (r.type === '*' && r.items && r.items.every((i) => i.items === undefined) && r.items.length < 8 ? [...r.items.map((i) => i.raw.toString('latin1'))].sort().join('') : masked(r, VOLATILE));
  const UNORDERED = new Set(['SENTINEL MASTERS', 'ROLE']);
  for (const c of cases) {
    const a = await ask(redis, c);
    const b = await ask(mnemo, c);
    if (UNORDERED.has(c.join(' '))) assert.equal(unordered(b), unordered(a), `reply to ${c.join(' ')}`);
    else assert.equal(masked(b, VOLATILE), masked(a, VOLATILE), `reply to ${c.join(' ')}`);
  }
  // INFO: the same sections and fields (values differ: pids, ports, times).
  const fields = (r: Reply): string[] =>
    r.raw
      .toString('latin1')
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(':')[0])
      .filter((l) => l !== '');
  const sections = (r: Reply): string[] => fields(r).filter((l) => l.startsWith('#'));
  const infoRedis = await ask(redis, ['INFO']);
  const infoMnemo = await ask(mnemo, ['INFO']);
  assert.deepEqual(sections(infoMnemo), sections(infoRedis));
  // Masters in Redis's hash order, which varies: compared as a set of lines.
  const sentinelPart = (r: Reply): string =>
    r.raw
      .toString('latin1')
      .split('# Sentinel\r\n')[1]
      .replace(/address=[^,]+/g, '')
      .replace(/^master\d+:/gm, 'master:')
      .split('\r\n')
      .sort()
      .join('\n');
  assert.equal(sentinelPart(infoMnemo), sentinelPart(infoRedis));
  // The state in the config file: the same sentinel lines (ids aside).
  const sentinelLines = (conf: string): string[] =>
    readFileSync(conf, 'latin1')
      .split('\n')
      .filter((l) => l.startsWith('sentinel ') && !l.startsWith('sentinel myid'))
      .sort();
  assert.equal((await ask(mnemo, ['SENTINEL', 'FLUSHCONFIG'])).raw.toString(), '+OK\r\n');
  await ask(redis, ['SENTINEL', 'FLUSHCONFIG']);
  assert.deepEqual(sentinelLines(mnemo.conf), sentinelLines(redis.conf));
});

test('sentinel: start-up refuses a missing config file and bad sentinel lines as Redis does', async () => {
  const dir = tempDir('sentinel-conf-', cleanups);
  const run = (args: string[]): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [MNEMO_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      child.once('exit', (code) => resolve({ code, out }));
    });
  const none = await run(['--sentinel']);
  assert.equal(none.code, 1);
  assert.match(none.out, /Sentinel needs config file on disk to save state\. Exiting\.\.\./);
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, 'sentinel monitor m 127.0.0.1 6379 0\n');
  const quorum = await run([bad, '--sentinel']);
  assert.equal(quorum.code, 1);
  assert.match(quorum.out, /Quorum must be 1 or greater\./);
  writeFileSync(bad, 'sentinel down-after-milliseconds nosuch 100\n');
  assert.match((await run([bad, '--sentinel'])).out, /No such master with specified name\./);
  writeFileSync(bad, 'sentinel frobnicate\n');
  assert.match((await run([bad, '--sentinel'])).out, /Unrecognized sentinel configuration statement\./);
  // Outside sentinel mode a sentinel line is an error.
  writeFileSync(bad, 'sentinel monitor m 127.0.0.1 6379 1\n');
  assert.match((await run([bad])).out, /sentinel directive while not in sentinel mode/);
});
