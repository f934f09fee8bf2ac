/**
 * Client tests of the server commands (INFO, CONFIG, DEBUG, TIME, LASTSAVE,
 * SHUTDOWN) with ioredis and node-redis against an in-process Mnemo. Exact
 * replies and error paths are in test/diff/cases/server.txt; here we check
 * the figures INFO reports and the effects of the commands.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, startTestServer, startWithClients, type NodeRedisClient } from '../helpers/server.js';
import { infoFields } from '../helpers/info.js';
import { waitFor } from '../helpers/wait.js';
import { setLogSink } from '../../src/persistence/log.js';
import { bytesToHuman, sampleInfoMetrics } from '../../src/observability/info.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;

before(async () => ({ handle, io, nr } = await startWithClients({ 'enable-debug-command': 'yes' })));
after(() => closeAll(handle, io, nr));

beforeEach(async () => {
  handle.clock.resume();
  handle.server.activeExpireEnabled = true;
  await io.flushall();
  await io.select(0);
});

function titles(info: string): string[] {
  return info.split('\r\n').filter((l) => l.startsWith('# '));
}

/** Sends raw RESP and collects everything the server sends until `until` matches or it closes. */
function rawExchange(port: number, payload: string, until: (got: string) => boolean, timeoutMs = 2000): Promise<{ got: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let closed = false;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(got)}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ got, closed });
    };
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (until(got)) finish();
    });
    s.on('close', () => {
      closed = true;
      finish();
    });
    s.on('error', () => {});
    s.write(payload);
  });
}

function resp(...cmds: string[][]): string {
  return cmds.map((a) => `*${a.length}\r\n` + a.map((x) => `$${Buffer.byteLength(x, 'latin1')}\r\n${x}\r\n`).join('')).join('');
}

/**
 * A replica by hand (it acknowledges only when told to): REPLCONF listening-port, then a
 * full resync. `onSocket` gets the socket at once, so the caller can destroy it on failure.
 */
async function handReplica(port: number, listeningPort: number, onSocket: (s: net.Socket) => void): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  onSocket(socket);
  socket.on('error', () => {});
  let stream = '';
  socket.on('data', (b: Buffer) => (stream += b.toString('latin1')));
  await new Promise((res) => socket.once('connect', res));
  socket.write(resp(['REPLCONF', 'listening-port', String(listeningPort)]));
  await waitFor(() => stream === '+OK\r\n', 'REPLCONF');
  socket.write(resp(['PSYNC', '?', '-1']));
  await waitFor(() => stream.includes('+FULLRESYNC'), 'the full resync');
}

describe('INFO', () => {
  test('has the fields clients read at connect (ioredis ready check)', async () => {
    const f = infoFields(await io.info());
    assert.equal(f.get('redis_version'), '7.0.15');
    assert.equal(f.get('loading'), '0');
    assert.equal(f.get('redis_mode'), 'standalone');
    assert.equal(f.get('role'), 'master');
    assert.equal(f.get('tcp_port'), String(handle.port));
    assert.equal(f.get('process_id'), String(process.pid));
    assert.equal(f.get('run_id'), handle.server.runId);
    assert.equal(f.get('arch_bits'), '64');
    assert.equal(f.get('cluster_enabled'), '0');
    assert.equal(f.get('aof_enabled'), '0');
    assert.match(f.get('master_replid')!, /^[0-9a-f]{40}$/);
    // node-redis parses the same text.
    const text = await nr.info('server');
    assert.match(text, /^# Server\r\nredis_version:7\.0\.15\r\n/);
  });

  test('section selection and layout follow Redis', async () => {
    const def = await io.info();
    assert.deepEqual(titles(def), [
      '# Server', '# Clients', '# Memory', '# Persistence', '# Stats', '# Replication',
      '# CPU', '# Modules', '# Errorstats', '# Cluster', '# Keyspace',
    ]);
    const all = (await io.call('INFO', 'everything')) as string;
    assert.deepEqual(titles(all), [
      '# Server', '# Clients', '# Memory', '# Persistence', '# Stats', '# Replication', '# CPU',
      '# Modules', '# Commandstats', '# Errorstats', '# Latencystats', '# Cluster', '# Keyspace',
    ]);
    assert.deepEqual(titles((await io.call('INFO', 'all')) as string), titles(all));
    // Several sections, any case, printed in Redis's order whatever the argument order.
    const two = (await io.call('INFO', 'KEYSPACE', 'server')) as string;
    assert.deepEqual(titles(two), ['# Server', '# Keyspace']);
    // Sections are separated by one blank line; every line ends with CRLF.
    assert.match(two, /\r\n\r\n# Keyspace\r\n$/);
    assert.equal((await io.call('INFO', 'cluster')) as string, '# Cluster\r\ncluster_enabled:0\r\n');
    assert.equal((await io.call('INFO', 'nosuchsection')) as string, '');
  });

  test('keyspace lines count keys and keys with a TTL, per database', async () => {
    assert.equal(await io.info('keyspace'), '# Keyspace\r\n');
    await io.set('a', '1');
    assert.equal(await io.info('keyspace'), '# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n');
    await io.set('b', '2', 'EX', 100);
    await io.select(5);
    await io.set('c', '3');
    await io.select(0);
    const f = infoFields(await io.info('keyspace'));
    assert.match(f.get('db0')!, /^keys=2,expires=1,avg_ttl=\d+$/);
    assert.equal(f.get('db5'), 'keys=1,expires=0,avg_ttl=0');
  });

  test('stats: commands, connections, hits and misses, errors; RESETSTAT clears them', async () => {
    await io.config('RESETSTAT');
    await io.set('k', 'v');
    await io.get('k');
    await io.get('k');
    await io.get('missing');
    await assert.rejects(io.call('GET'), /wrong number of arguments/);
    await assert.rejects(io.call('NOSUCHCOMMAND'), /unknown command/);
    const f = infoFields((await io.call('INFO', 'everything')) as string);
    assert.equal(f.get('keyspace_hits'), '2');
    assert.equal(f.get('keyspace_misses'), '1');
    assert.equal(f.get('total_error_replies'), '2');
    assert.equal(f.get('errorstat_ERR'), 'count=2');
    assert.match(f.get('cmdstat_get')!, /^calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0$/);
    assert.match(f.get('cmdstat_set')!, /^calls=1,/);
    assert.match(f.get('cmdstat_config|resetstat')!, /^calls=1,/);
    // set + 3 get + config|resetstat; rejected commands are not processed.
    assert.equal(f.get('total_commands_processed'), '5');
    assert.equal(f.get('total_connections_received'), '0'); // reset above, no new connection since
    assert.ok(Number(f.get('total_net_input_bytes')) > 0);
    assert.ok(Number(f.get('total_net_output_bytes')) > 0);
    assert.equal(f.get('connected_clients'), String(handle.server.clients.size));

    await io.config('RESETSTAT');
    const g = infoFields((await io.call('INFO', 'everything')) as string);
    assert.equal(g.get('keyspace_hits'), '0');
    assert.equal(g.get('keyspace_misses'), '0');
    assert.equal(g.get('total_error_replies'), '0');
    assert.equal(g.get('errorstat_ERR'), undefined);
    assert.equal(g.get('cmdstat_get'), undefined);
    // RESETSTAT itself is counted once it returns, as in Redis.
    assert.equal(g.get('total_commands_processed'), '1');
    assert.match(g.get('cmdstat_config|resetstat')!, /^calls=1,/);
  });

  test('persistence and memory figures', async () => {
    await io.config('RESETSTAT');
    const before = Number(infoFields(await io.info('persistence')).get('rdb_changes_since_last_save'));
    await io.set('x', '1');
    await io.set('y', '2');
    const p = infoFields(await io.info('persistence'));
    assert.equal(Number(p.get('rdb_changes_since_last_save')), before + 2);
    assert.equal(p.get('rdb_bgsave_in_progress'), '0');
    assert.equal(p.get('rdb_last_save_time'), String(Math.floor(handle.server.startTime / 1000)));

    const m = infoFields(await io.info('memory'));
    const used = Number(m.get('used_memory'));
    assert.ok(used > 0);
    assert.equal(m.get('used_memory_human'), bytesToHuman(used));
    assert.ok(Number(m.get('used_memory_rss')) > 0);
    assert.ok(Number(m.get('used_memory_peak')) >= used);
    assert.equal(m.get('maxmemory'), '0');
    assert.equal(m.get('maxmemory_policy'), 'noeviction');
    await io.config('SET', 'maxmemory', '1mb', 'maxmemory-policy', 'allkeys-lru');
    const m2 = infoFields(await io.info('memory'));
    assert.equal(m2.get('maxmemory'), '1048576');
    assert.equal(m2.get('maxmemory_human'), '1.00M');
    assert.equal(m2.get('maxmemory_policy'), 'allkeys-lru');
    await io.config('SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction');
  });

  test('blocked_clients and clients_in_timeout_table follow the blocking registry', async () => {
    const victim = await connectIo(handle);
    try {
      const id = Number(await victim.client('ID'));
      const c = handle.server.clients.get(id)!;
      const cmd = handle.server.table.lookup('ping')!;
      handle.server.blocking.block(c, cmd, ['BLPOP', 'q', '5'], { keys: ['q'], timeoutMs: 5000, serve: () => false });
      const f = infoFields(await io.info('clients'));
      assert.equal(f.get('blocked_clients'), '1');
      assert.equal(f.get('clients_in_timeout_table'), '1');
      handle.server.blocking.unblock(c);
      assert.equal(infoFields(await io.info('clients')).get('blocked_clients'), '0');
    } finally {
      victim.disconnect();
    }
  });

  test('instantaneous_ops_per_sec comes from the sampler the cron calls', async () => {
    // The cron samples too; on a loaded machine one of its samples may land between ours
    // and see no commands, so a few rounds are allowed (a broken sampler stays at 0).
    let f = new Map<string, string>();
    for (let round = 0; round < 5; round++) {
      sampleInfoMetrics(handle.server);
      for (let i = 0; i < 50; i++) await io.ping();
      await new Promise((r) => setTimeout(r, 120));
      sampleInfoMetrics(handle.server);
      f = infoFields(await io.info('stats'));
      if (Number(f.get('instantaneous_ops_per_sec')) > 0) break;
    }
    assert.ok(Number(f.get('instantaneous_ops_per_sec')) > 0, `ops/sec ${f.get('instantaneous_ops_per_sec')}`);
    assert.match(f.get('instantaneous_input_kbps')!, /^\d+\.\d\d$/);
  });

  test('RESP3 replies INFO as a verbatim string', async () => {
    const { got } = await rawExchange(handle.port, resp(['HELLO', '3'], ['INFO', 'cluster']), (g) => g.endsWith('cluster_enabled:0\r\n\r\n'));
    assert.ok(got.endsWith('=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n'), JSON.stringify(got));
  });

  test('bytesToHuman matches Redis', () => {
    assert.equal(bytesToHuman(0), '0B');
    assert.equal(bytesToHuman(1023), '1023B');
    assert.equal(bytesToHuman(1024), '1.00K');
    assert.equal(bytesToHuman(1015136), '991.34K');
    assert.equal(bytesToHuman(6746112), '6.43M');
    assert.equal(bytesToHuman(25276502016), '23.54G');
  });
});

describe('CONFIG', () => {
  test('GET and SET through both clients', async () => {
    assert.deepEqual(await io.config('GET', 'maxmemory'), ['maxmemory', '0']);
    assert.equal(await io.config('SET', 'hz', '20'), 'OK');
    assert.equal((await nr.configGet('hz')).hz, '20');
    assert.equal(handle.server.hz, 20);
    assert.equal(infoFields(await io.info('server')).get('hz'), '20');
    await nr.configSet('hz', '10');
    assert.equal(handle.server.hz, 10);
    const many = (await io.config('GET', 'maxmemory*')) as string[];
    assert.ok(many.includes('maxmemory-policy'));
    assert.equal(many.length % 2, 0);
  });

  test('a failed SET changes nothing', async () => {
    await assert.rejects(io.config('SET', 'hz', '15', 'maxmemory', 'lots'), /CONFIG SET failed/);
    assert.deepEqual(await io.config('GET', 'hz'), ['hz', '10']);
    await assert.rejects(io.config('SET', 'hz', '15', 'maxmemory'), /syntax error/);
  });

  test('REWRITE without a config file', async () => {
    await assert.rejects(io.config('REWRITE'), /ERR The server is running without a config file/);
  });
});

describe('TIME and LASTSAVE', () => {
  test('TIME reads the server clock', async () => {
    handle.clock.freeze(1_700_000_000_123);
    assert.deepEqual(await io.time(), ['1700000000', '123000']);
    handle.clock.advance(1500);
    const d = await nr.time();
    assert.equal(d.getTime(), 1700000001623);
    assert.equal((d as Date & { microseconds: number }).microseconds, 623000);
    handle.clock.resume();
  });

  test('freezing the clock moves the cached LRU clock at once (OBJECT IDLETIME counts from there)', () => {
    handle.clock.freeze(1_600_000_000_900);
    assert.equal(handle.server.lruClock, 1_600_000_000);
    handle.clock.resume();
  });

  test('LASTSAVE is the start-up time until something saves', async () => {
    assert.equal(await io.lastsave(), Math.floor(handle.server.startTime / 1000));
  });
});

describe('DEBUG', () => {
  test('refused unless enable-debug-command allows it', async () => {
    const other = await startTestServer();
    const c = await connectIo(other);
    try {
      await assert.rejects(c.call('DEBUG', 'SLEEP', '0'), /ERR DEBUG command not allowed/);
    } finally {
      await closeAll(other, c);
    }
    const local = await startTestServer({ 'enable-debug-command': 'local' });
    const l = await connectIo(local);
    try {
      assert.equal(await l.call('DEBUG', 'SLEEP', '0'), 'OK');
    } finally {
      await closeAll(local, l);
    }
  });

  test('SLEEP stops the whole server', async () => {
    // A 5 ms interval shows the event loop itself was held for the whole sleep.
    const ticks: number[] = [];
    const interval = setInterval(() => ticks.push(performance.now()), 5);
    await new Promise((r) => setTimeout(r, 30));
    const t0 = performance.now();
    const [slept, pong] = await Promise.all([io.call('DEBUG', 'SLEEP', '0.2'), nr.ping()]);
    await new Promise((r) => setTimeout(r, 30));
    clearInterval(interval);
    assert.equal(slept, 'OK');
    assert.equal(pong, 'PONG');
    assert.ok(performance.now() - t0 >= 195);
    let maxGap = 0;
    for (let i = 1; i < ticks.length; i++) maxGap = Math.max(maxGap, ticks[i] - ticks[i - 1]);
    assert.ok(maxGap >= 190, `longest event-loop stall ${maxGap} ms`);
  });

  test('SET-ACTIVE-EXPIRE switches the active expiry cycle', async () => {
    handle.clock.freeze();
    await io.set('gone', 'x', 'PX', 10);
    handle.clock.advance(50);
    assert.equal(await io.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0'), 'OK');
    assert.equal(handle.server.activeExpireEnabled, false);
    handle.server.activeExpireCycle();
    assert.equal(handle.server.dbs[0].size, 1);
    assert.equal(await io.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1'), 'OK');
    handle.server.activeExpireCycle();
    assert.equal(handle.server.dbs[0].size, 0);
  });

  test('PAUSE-CRON stops the periodic work until it is turned off', async () => {
    handle.clock.freeze();
    await io.set('gone', 'x', 'PX', 10);
    handle.clock.advance(50);
    assert.equal(await io.call('DEBUG', 'PAUSE-CRON', '1'), 'OK');
    try {
      handle.server.cron();
      assert.equal(handle.server.dbs[0].size, 1, 'the paused cron expired a key');
    } finally {
      assert.equal(await io.call('DEBUG', 'PAUSE-CRON', '0'), 'OK');
    }
    handle.server.cron();
    assert.equal(handle.server.dbs[0].size, 0);
  });

  test('OBJECT describes the value in Redis format', async () => {
    handle.clock.freeze();
    await io.set('s', 'hello');
    await io.set('n', '123');
    await io.set('big', '70000');
    await io.set('long', 'x'.repeat(50));
    handle.clock.advance(7000);
    const line = (await io.call('DEBUG', 'OBJECT', 's')) as string;
    assert.match(line, /^Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:6 lru:\d+ lru_seconds_idle:7$/);
    assert.match((await io.call('DEBUG', 'OBJECT', 'n')) as string, / refcount:2147483647 encoding:int serializedlength:2 /);
    assert.match((await io.call('DEBUG', 'OBJECT', 'big')) as string, / refcount:1 encoding:int serializedlength:5 /);
    assert.match((await io.call('DEBUG', 'OBJECT', 'long')) as string, / encoding:raw /);
    // DEBUG OBJECT does not touch the key.
    assert.match((await io.call('DEBUG', 'OBJECT', 's')) as string, /lru_seconds_idle:7$/);
    await assert.rejects(io.call('DEBUG', 'OBJECT', 'nokey'), /^ReplyError: ERR no such key$/);
    // It reads the keyspace as stored: an expired key not yet deleted is shown, and is not expired by it.
    await io.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      await io.set('gone', 'v', 'PX', 100);
      handle.clock.advance(200);
      assert.match((await io.call('DEBUG', 'OBJECT', 'gone')) as string, / encoding:embstr /);
      assert.equal(handle.server.dbs[0].size, 5);
      assert.equal(await io.exists('gone'), 0);
      await assert.rejects(io.call('DEBUG', 'OBJECT', 'gone'), /^ReplyError: ERR no such key$/);
    } finally {
      await io.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });

  test('POPULATE creates missing keys only', async () => {
    await io.set('key:1', 'mine');
    assert.equal(await io.call('DEBUG', 'POPULATE', '100'), 'OK');
    assert.equal(await io.dbsize(), 100);
    assert.equal(await io.get('key:1'), 'mine');
    assert.equal(await io.get('key:99'), 'value:99');
    await io.call('DEBUG', 'POPULATE', '2', 'pad', '12');
    assert.equal(await io.get('pad:1'), 'value:1\0\0\0\0\0');
  });

  test('ERROR replies the text as an error and PROTOCOL the test values', async () => {
    await assert.rejects(io.call('DEBUG', 'ERROR', 'MYERR something'), /^ReplyError: MYERR something$/);
    assert.equal(await io.call('DEBUG', 'PROTOCOL', 'bignum'), '1234567999999999999999999999999999999');
    assert.deepEqual(await io.call('DEBUG', 'PROTOCOL', 'map'), [0, 0, 1, 1, 2, 0]);
  });
});

test('a replica attached by SYNC gets its first PING on the repl-ping-replica-period beat, not at once', async () => {
  const h = await startTestServer({ 'repl-ping-replica-period': '3' });
  const sock = net.connect(h.port, '127.0.0.1');
  try {
    let got = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    await new Promise((res) => setTimeout(res, 500));
    sock.write('SYNC\r\n');
    const deadline = Date.now() + 5000;
    let header: RegExpExecArray | null = null;
    while ((header = /^\$(\d+)\r\n/.exec(got.toString('latin1'))) === null || got.length < header[0].length + Number(header[1])) {
      assert.ok(Date.now() < deadline, 'the RDB image');
      await new Promise((res) => setTimeout(res, 10));
    }
    const rdbEnd = header[0].length + Number(header[1]);
    // Three cron ticks later, still nothing: the beat is 3 seconds after the server started.
    await new Promise((res) => setTimeout(res, 300));
    await rawExchange(h.port, resp(['SET', 'k', 'v']), (g) => g.endsWith('\r\n'));
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(got.subarray(rdbEnd).toString('latin1'), '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
  } finally {
    sock.destroy();
    await h.close();
  }
});

describe('SHUTDOWN', () => {
  test('SAVE that cannot write errors and keeps the server up; NOSAVE closes it and calls the hook', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnemo-shutdown-'));
    const h = await startTestServer({ dir });
    let hookCalls = 0;
    h.server.onShutdown = () => hookCalls++;
    rmSync(dir, { recursive: true, force: true }); // the save has nowhere to go
    const saved = await rawExchange(h.port, resp(['SHUTDOWN', 'SAVE']), (g) => g.endsWith('\r\n'));
    assert.equal(saved.got, '-ERR Errors trying to SHUTDOWN. Check logs.\r\n');
    const r = await rawExchange(h.port, resp(['SHUTDOWN', 'NOSAVE'], ['PING']), () => false);
    assert.equal(r.got, '');
    assert.equal(r.closed, true);
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(hookCalls, 1);
    await assert.rejects(
      new Promise((res, rej) => {
        const s = net.connect(h.port, '127.0.0.1', () => res(s));
        s.on('error', rej);
      }),
      /ECONNREFUSED/,
    );
  });

  test('SAVE writes the dataset to dir/dbfilename before closing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnemo-shutdown-'));
    try {
      const h = await startTestServer({ dir, dbfilename: 'saved.rdb' });
      let hookCalls = 0;
      h.server.onShutdown = () => hookCalls++;
      await rawExchange(h.port, resp(['SET', 'k', 'v']), (g) => g.endsWith('\r\n'));
      const r = await rawExchange(h.port, resp(['SHUTDOWN', 'SAVE']), () => false);
      assert.equal(r.got, '');
      assert.equal(r.closed, true);
      await new Promise((res) => setTimeout(res, 20));
      assert.equal(hookCalls, 1);
      const file = readFileSync(join(dir, 'saved.rdb'));
      assert.equal(file.subarray(0, 9).toString('latin1'), 'REDIS0010');
      assert.ok(file.includes(Buffer.from('k')) && file.includes(Buffer.from('v')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('NOSAVE during a timed-out script: the port refuses connections as soon as the reply connection closes', async () => {
    const h = await startTestServer({ 'busy-reply-threshold': '20' });
    h.server.onShutdown = () => {};
    const busy = net.connect(h.port, '127.0.0.1');
    busy.on('error', () => {});
    busy.write(resp(['EVAL', 'while true do end', '0']));
    await new Promise((res) => setTimeout(res, 100));
    const r = await rawExchange(h.port, resp(['SHUTDOWN', 'NOSAVE']), () => false);
    assert.equal(r.closed, true);
    await assert.rejects(
      new Promise((res, rej) => {
        const s = net.connect(h.port, '127.0.0.1', () => res(s));
        s.on('error', rej);
      }),
      /ECONNREFUSED/,
    );
    busy.destroy();
  });

  test('with a lagging replica: waits (writes paused, shutdown_in_milliseconds), ABORT answers the waiting callers, and it completes once the replica acknowledged', async () => {
    const h = await startTestServer({ 'shutdown-timeout': '10', 'repl-diskless-sync-delay': '0' });
    let hookCalls = 0;
    h.server.onShutdown = () => hookCalls++;
    const lines: string[] = [];
    setLogSink(h.server, (level, line) => lines.push(`${level}: ${line}`));
    const c = await connectIo(h);
    let replica: net.Socket | undefined;
    try {
      await handReplica(h.port, 6390, (s) => (replica = s));
      await c.set('k', '1');
      const waiter = net.connect(h.port, '127.0.0.1');
      let answer = '';
      waiter.on('data', (b: Buffer) => (answer += b.toString('latin1')));
      waiter.write(resp(['SHUTDOWN']));
      await waitFor(async () => /shutdown_in_milliseconds:\d+/.test(await c.info('server')), 'the shutdown to wait');
      assert.ok(lines.some((l) => /Waiting for replicas before shutting down\.$/.test(l)), lines.join('\n'));
      // Writes are held meanwhile; reads are served.
      const writer = await connectIo(h);
      const held = writer.set('k', '2');
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(await c.get('k'), '1');
      assert.equal(await c.call('SHUTDOWN', 'ABORT'), 'OK');
      assert.equal(await held, 'OK');
      assert.equal(await c.get('k'), '2');
      writer.disconnect();
      await waitFor(() => answer !== '', 'the answer to the waiting SHUTDOWN');
      assert.equal(answer, '-ERR Errors trying to SHUTDOWN. Check logs.\r\n');
      assert.ok(!/shutdown_in_milliseconds/.test(await c.info('server')));
      waiter.destroy();
      // Again, and this time the replica catches up: the shutdown completes.
      const again = net.connect(h.port, '127.0.0.1');
      again.on('error', () => {});
      again.write(resp(['SHUTDOWN', 'NOSAVE']));
      await waitFor(async () => /shutdown_in_milliseconds:\d+/.test(await c.info('server')), 'the second shutdown to wait');
      const offset = (await c.info('replication')).match(/master_repl_offset:(\d+)/)![1];
      replica!.write(resp(['REPLCONF', 'ACK', offset]));
      await waitFor(() => hookCalls === 1, 'the shutdown to complete', 5000);
      assert.ok(lines.some((l) => /1 of 1 replicas are in sync when shutting down\.$/.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /Redis is now ready to exit, bye bye\.\.\.$/.test(l)), lines.join('\n'));
      assert.ok(!lines.some((l) => /Lagging replica/.test(l)), lines.join('\n'));
      again.destroy();
    } finally {
      replica?.destroy();
      c.disconnect();
      await h.close();
    }
  });

  test('shutdown-timeout passed: the lagging replica is logged and the server exits anyway; NOW does not wait', async () => {
    const h = await startTestServer({ 'shutdown-timeout': '1', 'repl-diskless-sync-delay': '0' });
    let hookCalls = 0;
    h.server.onShutdown = () => hookCalls++;
    const lines: string[] = [];
    setLogSink(h.server, (level, line) => lines.push(`${level}: ${line}`));
    let replica: net.Socket | undefined;
    try {
      await handReplica(h.port, 6391, (s) => (replica = s));
      await rawExchange(h.port, resp(['SET', 'k', 'v']), (g) => g.endsWith('\r\n'));
      const r = await rawExchange(h.port, resp(['SHUTDOWN', 'NOSAVE']), () => false, 5000);
      assert.equal(r.got, '');
      await waitFor(() => hookCalls === 1, 'the shutdown to complete');
      assert.ok(lines.some((l) => /^warning: .*Lagging replica 127\.0\.0\.1:6391 reported offset \d+ behind master, lag=\d+, state=online\.$/.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /0 of 1 replicas are in sync when shutting down\.$/.test(l)), lines.join('\n'));
    } finally {
      replica?.destroy();
      await h.close();
    }
    const h2 = await startTestServer({ 'shutdown-timeout': '10', 'repl-diskless-sync-delay': '0' });
    let calls2 = 0;
    h2.server.onShutdown = () => calls2++;
    const replica2 = net.connect(h2.port, '127.0.0.1');
    replica2.on('error', () => {});
    replica2.write(resp(['PSYNC', '?', '-1']));
    try {
      await rawExchange(h2.port, resp(['SET', 'k', 'v']), (g) => g.endsWith('\r\n'));
      const r = await rawExchange(h2.port, resp(['SHUTDOWN', 'NOW', 'NOSAVE']), () => false);
      assert.equal(r.closed, true);
      await waitFor(() => calls2 === 1, 'SHUTDOWN NOW to complete');
    } finally {
      replica2.destroy();
      await h2.close();
    }
  });

  test('ABORT with no shutdown pending', async () => {
    await assert.rejects(io.call('SHUTDOWN', 'ABORT'), /ERR No shutdown in progress\./);
  });
});

describe('oom-score-adj', () => {
  const read = (): number => Number(readFileSync('/proc/self/oom_score_adj', 'latin1').trim());

  test('writes /proc/self/oom_score_adj: relative to the score before, absolute, the replica value, restored by no', { skip: process.platform !== 'linux' }, async () => {
    const base = read();
    try {
      await io.config('SET', 'oom-score-adj-values', '10 20 30', 'oom-score-adj', 'yes');
      assert.equal(read(), base + 10);
      await io.config('SET', 'oom-score-adj-values', '15 20 30');
      assert.equal(read(), base + 15);
      await io.config('SET', 'oom-score-adj', 'absolute');
      assert.equal(read(), 15);
      await io.call('REPLICAOF', '127.0.0.1', '1');
      assert.equal(read(), 20);
      await io.call('REPLICAOF', 'NO', 'ONE');
      assert.equal(read(), 15);
      await io.config('SET', 'oom-score-adj', 'no');
      assert.equal(read(), base);
      // While off, the values are not written.
      await io.config('SET', 'oom-score-adj-values', '1 1 1');
      assert.equal(read(), base);
    } finally {
      await io.config('SET', 'oom-score-adj', 'no', 'oom-score-adj-values', '0 200 800');
    }
  });
});

describe('replication keepalive', () => {
  test('repl-ping-replica-period counts from start-up: a replica attaching later gets no PING before its period', async () => {
    const h = await startTestServer({ 'repl-ping-replica-period': '3600' });
    const sock = net.connect(h.port, h.host);
    try {
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write('SYNC\r\n');
      for (let i = 0; i < 100 && !/^\$(\d+)\r\n/.test(got); i++) await new Promise((r) => setTimeout(r, 10));
      const header = /^\$(\d+)\r\n/.exec(got)!;
      const rdbEnd = header[0].length + Number(header[1]);
      // A few cron ticks (hz 10): Redis pings when its cron loop count is a multiple of the period.
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(got.slice(rdbEnd), '');
    } finally {
      sock.destroy();
      await h.close();
    }
  });
});
