// BGREWRITEAOF on an in-process server while writes keep coming: the files it
// leaves must load back into exactly the dataset of the live server, for both
// base formats, through FLUSHDB and SWAPDB, and with the AOF on or off.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from '../../src/server/server.js';
import { Client } from '../../src/server/client.js';
import { Config } from '../../src/config/config.js';
import { getAof, installAof, type Aof } from '../../src/persistence/aof/index.js';
import { persistenceOf, setLogSink } from '../../src/persistence/index.js';
import { CommandBuffer } from '../../src/persistence/aof/resp.js';
import { writeKeyCommands } from '../../src/persistence/aof/serialize.js';
import { sectionFields } from '../../src/observability/info.js';
import { stringOf, typeOf, type Value, type StringValue } from '../../src/data/values.js';
import type { ListValue } from '../../src/data/list.js';
import type { SetValue } from '../../src/data/set.js';
import type { HashValue } from '../../src/data/hash.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0)) await f();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aof-rewrite-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function start(dir: string, extra: Record<string, string> = {}): Promise<{ server: Server; aof: Aof; run: (...argv: string[]) => string }> {
  const server = new Server({ config: new Config({ dir, appendonly: 'yes', ...extra }) });
  setLogSink(server, () => {});
  const aof = installAof(server);
  cleanups.unshift(() => server.close());
  if (server.config.getBool('appendonly')) await aof.startup();
  const c = new Client(server, null);
  c.setAuthenticated(true);
  const run = (...argv: string[]) => {
    server.execute(c, argv);
    const out = c.out.latin1Slice(0, c.len);
    c.len = 0;
    return out;
  };
  return { server, aof, run };
}

/** A canonical text of the whole dataset: every db, key, type, value and TTL. */
function dump(server: Server): string {
  const lines: string[] = [];
  for (const db of server.dbs) {
    for (const key of [...db.keys.keys].sort()) {
      const v = db.peek(key) as Value;
      const ttl = db.getExpire(key);
      let text: string;
      switch (typeOf(v)) {
        case 'string':
          text = stringOf(v as StringValue);
          break;
        case 'list':
          text = JSON.stringify((v as ListValue).toArray());
          break;
        case 'set':
          text = JSON.stringify((v as SetValue).members().sort());
          break;
        case 'hash': {
          const pairs: string[] = [];
          (v as HashValue).forEach((f, x) => pairs.push(`${f}=${x}`));
          text = JSON.stringify(pairs.sort());
          break;
        }
        default: {
          // zsets and streams serialize deterministically (score order, ID order, sorted groups).
          const b = new CommandBuffer();
          writeKeyCommands(b, key, v, -1);
          text = b.view().toString('latin1');
        }
      }
      lines.push(`${db.id} ${JSON.stringify(key)} ${typeOf(v)} ${ttl} ${text}`);
    }
  }
  return lines.join('\n');
}

/** Loads an append-only dir into a fresh server. */
async function reload(dir: string): Promise<Server> {
  const { server } = await start(dir);
  return server;
}

function populate(run: (...argv: string[]) => string, n: number): void {
  const future = String(Date.now() + 3_600_000);
  for (let i = 0; i < n; i++) {
    const db = String(i % 3);
    run('SELECT', db);
    switch (i % 7) {
      case 0: run('SET', `s:${i}`, `value-${i}`); break;
      case 1: run('RPUSH', `l:${i}`, 'a', 'b', String(i)); break;
      case 2: run('SADD', `set:${i}`, 'x', 'y', String(i)); break;
      case 3: run('ZADD', `z:${i}`, '1.5', 'm1', String(i), 'm2'); break;
      case 4: run('HSET', `h:${i}`, 'f', String(i), 'g', 'v'); break;
      case 5: run('SET', `t:${i}`, 'ttl', 'PXAT', future); break;
      case 6: run('INCRBY', `n:${i % 50}`, String(i)); break;
    }
  }
  run('SELECT', '0');
  run('XADD', 'stream', '1-1', 'f', 'v');
  run('XADD', 'stream', '2-1', 'f', 'w');
  run('XGROUP', 'CREATE', 'stream', 'grp', '0');
  run('XREADGROUP', 'GROUP', 'grp', 'alice', 'COUNT', '1', 'STREAMS', 'stream', '>');
  run('SET', 'bin', '\x00\xff\r\n');
}

/** Random writes of every kind, a batch per event-loop turn, until `until()` is true. */
async function writeWhile(run: (...argv: string[]) => string, until: () => boolean, flushdbAt = -1): Promise<number> {
  let turns = 0;
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  while (!until()) {
    run('SELECT', String(rnd(3)));
    for (let j = 0; j < 40; j++) {
      const i = rnd(6000);
      switch (rnd(9)) {
        case 0: run('SET', `s:${i}`, `new-${turns}-${j}`); break;
        case 1: run('DEL', `l:${i}`, `s:${i}`); break;
        case 2: run('RPUSH', `l:${i}`, `p${turns}`); break;
        case 3: run('INCR', `n:${i % 50}`); break;
        case 4: run('HSET', `h:${i}`, 'f', `x${turns}`); break;
        case 5: run('ZINCRBY', `z:${i}`, '2', 'm1'); break;
        case 6: run('PEXPIREAT', `s:${i}`, String(Date.now() + 1_000_000)); break;
        case 7: run('SADD', `set:${i}`, `n${turns}`); break;
        case 8: run('XADD', 'stream', '*', 'turn', String(turns)); break;
      }
    }
    if (turns === flushdbAt) {
      run('SELECT', '2');
      run('FLUSHDB');
      run('SET', 'after-flush', String(turns));
    }
    turns++;
    await new Promise((r) => setImmediate(r));
  }
  return turns;
}

/** Waits for the rewrite (and the history clean-up that follows it a turn later). */
async function waitRewrite(aof: Aof): Promise<void> {
  while (aof.rewrite !== null || aof.rewriteScheduled) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
}

/** Fails the running rewrite as a crash would: SIGKILL to its writer child. */
async function killRewriteChild(aof: Aof): Promise<void> {
  while (aof.rewrite!.childPid < 0) await new Promise((r) => setTimeout(r, 5));
  process.kill(aof.rewrite!.childPid, 'SIGKILL');
  await waitRewrite(aof);
}

for (const preamble of ['yes', 'no']) {
  test(`a rewrite under concurrent writes loads back into the same dataset (aof-use-rdb-preamble ${preamble})`, async () => {
    const dir = tempDir();
    const { server, aof, run } = await start(dir, { 'aof-use-rdb-preamble': preamble });
    populate(run, 6000);
    assert.equal(aof.startRewrite(), null);
    assert.match(run('BGREWRITEAOF'), /^-ERR Background append only file rewriting already in progress/);
    const turns = await writeWhile(run, () => aof.rewrite === null, 3);
    assert.ok(turns >= 3, `only ${turns} turns of writes during the rewrite`);
    await waitRewrite(aof);
    // More writes after the switch go to the new incr file.
    run('SET', 'after-rewrite', '1');
    run('DEL', 'bin');
    const aofDir = join(dir, 'appendonlydir');
    const ext = preamble === 'yes' ? 'rdb' : 'aof';
    assert.equal(
      readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1'),
      `file appendonly.aof.2.base.${ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n`,
    );
    assert.deepEqual(readdirSync(aofDir).sort(), [`appendonly.aof.2.base.${ext}`, 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
    if (preamble === 'yes') assert.equal(readFileSync(join(aofDir, 'appendonly.aof.2.base.rdb')).latin1Slice(0, 9), 'REDIS0010');
    const expected = dump(server);
    const fields = new Map(sectionFields(server, 'persistence'));
    assert.equal(fields.get('aof_rewrites'), 1);
    assert.equal(fields.get('aof_last_bgrewrite_status'), 'ok');
    await server.close();
    const loaded = await reload(dir);
    assert.equal(dump(loaded), expected);
  });
}

test('SWAPDB and a whole-dataset reload during a rewrite still give the exact dataset', async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir, { 'aof-use-rdb-preamble': 'no', 'enable-debug-command': 'yes' });
  populate(run, 3000);
  assert.equal(aof.startRewrite(), null);
  run('SWAPDB', '0', '1');
  await new Promise((r) => setImmediate(r));
  // DEBUG RELOAD replaces every db's contents without per-key notifications.
  assert.equal(run('DEBUG', 'RELOAD'), '+OK\r\n');
  await writeWhile(run, () => aof.rewrite === null);
  assert.equal(aof.rewrites, 1);
  const expected = dump(server);
  await server.close();
  assert.equal(dump(await reload(dir)), expected);
});

test('BGREWRITEAOF with the AOF off writes a base only; turning the AOF on at run time rewrites and appends', async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir, { appendonly: 'no', 'aof-use-rdb-preamble': 'no' });
  populate(run, 500);
  assert.equal(run('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
  await waitRewrite(aof);

  const aofDir = join(dir, 'appendonlydir');
  assert.equal(readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1'), 'file appendonly.aof.1.base.aof seq 1 type b\n');
  assert.equal(new Map(sectionFields(server, 'persistence')).get('aof_enabled'), 0);

  assert.equal(run('CONFIG', 'SET', 'appendonly', 'yes'), '+OK\r\n');
  assert.equal(aof.state, 'wait-rewrite');
  assert.equal(new Map(sectionFields(server, 'persistence')).get('aof_rewrite_in_progress'), 1);
  await writeWhile(run, () => aof.state === 'on');
  await waitRewrite(aof);
  run('SET', 'appended', 'yes');
  await new Promise((r) => setImmediate(r)); // written at the end of the event-loop turn
  assert.equal(
    readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1'),
    'file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
  );
  assert.ok(readFileSync(join(aofDir, 'appendonly.aof.1.incr.aof'), 'latin1').endsWith('*3\r\n$3\r\nSET\r\n$8\r\nappended\r\n$3\r\nyes\r\n'));
  const expected = dump(server);
  await server.close();
  assert.equal(dump(await reload(dir)), expected);
});

test('CONFIG SET appendonly no stops appending; the files stay', async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir);
  assert.equal(getAof(server), aof);
  run('SET', 'a', '1');
  const size = aof.currentSize;
  assert.equal(run('CONFIG', 'SET', 'appendonly', 'no'), '+OK\r\n');
  run('SET', 'b', '2');
  assert.equal(aof.state, 'off');
  assert.ok(readdirSync(join(dir, 'appendonlydir')).includes('appendonly.aof.1.incr.aof'));
  assert.ok(size > 0);
  assert.ok(!readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), 'latin1').includes('$1\r\nb\r\n'));
});

test('after 3 failed rewrites in a row automatic ones wait, with Redis\'s log line when one is first due; BGREWRITEAOF still runs', async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir, { 'rdb-key-save-delay': '100000' });
  const lines: string[] = [];
  setLogSink(server, (_level, text) => lines.push(text));
  populate(run, 100);
  for (let k = 0; k < 3; k++) {
    assert.equal(aof.startRewrite(), null);
    await killRewriteChild(aof);
  }
  assert.equal(aof.consecutiveFailures, 3);
  const limited = () => lines.filter((l) => l.includes('repeatedly failed and triggered the limit')).length;
  assert.equal(limited(), 0);
  run('CONFIG', 'SET', 'auto-aof-rewrite-percentage', '1');
  run('CONFIG', 'SET', 'auto-aof-rewrite-min-size', '1');
  run('SET', 'grow', 'x'.repeat(5000));
  aof.cron();
  aof.cron();
  assert.equal(aof.rewrite, null);
  assert.equal(limited(), 1);
  assert.ok(lines.some((l) => l.endsWith('Background AOF rewrite has repeatedly failed and triggered the limit, will retry in 1 minutes')));
  run('CONFIG', 'SET', 'rdb-key-save-delay', '0');
  assert.match(run('BGREWRITEAOF'), /^\+Background append only file rewriting started/);
  await waitRewrite(aof);
  assert.equal(aof.consecutiveFailures, 0);
});

test('DEBUG LOADAOF reads the manifest again: the next incr number follows the incr files it lists (as Redis)', async () => {
  const dir = tempDir();
  const { aof, run } = await start(dir);
  run('SET', 'k', 'v');
  for (let k = 0; k < 2; k++) {
    assert.equal(aof.startRewrite(), null);
    await waitRewrite(aof);
  }
  const manifest = () => readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');
  assert.equal(manifest(), 'file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n');
  // With the AOF off a rewrite leaves a base only.
  run('CONFIG', 'SET', 'appendonly', 'no');
  assert.equal(aof.startRewrite(), null);
  await waitRewrite(aof);
  assert.equal(manifest(), 'file appendonly.aof.4.base.rdb seq 4 type b\n');
  await aof.debugLoadAof();
  run('CONFIG', 'SET', 'appendonly', 'yes');
  await waitRewrite(aof);
  assert.equal(manifest(), 'file appendonly.aof.5.base.rdb seq 5 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  assert.equal(run('GET', 'k'), '$1\r\nv\r\n');
});

test('the AOF is rewritten automatically once it grew by auto-aof-rewrite-percentage', async () => {
  const dir = tempDir();
  const { aof, run } = await start(dir, { 'auto-aof-rewrite-min-size': '1', 'auto-aof-rewrite-percentage': '100', hz: '100' });
  run('SET', 'seed', 'x'.repeat(200));
  while (aof.rewrites === 0) {
    run('SET', 'seed', 'x'.repeat(200));
    await new Promise((r) => setTimeout(r, 5));
  }
  await waitRewrite(aof);
  // After the rewrite the size starts again from the new base (and the incr file opened when it began).
  const base = readdirSync(join(dir, 'appendonlydir')).find((f) => f.includes('.base.'))!;
  assert.ok(statSync(join(dir, 'appendonlydir', base)).size < 1000);
  assert.equal(aof.rewriteBaseSize, aof.currentSize);
});

test('with the AOF on, a rewrite opens the next incr file as it starts; failed ones leave theirs, the next success makes the others history (as Redis)', async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir, { 'rdb-key-save-delay': '100000' });
  populate(run, 300);
  const aofDir = join(dir, 'appendonlydir');
  const manifest = () => readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1');
  const incrs = (seqs: number[]) => seqs.map((n) => `file appendonly.aof.${n}.incr.aof seq ${n} type i\n`).join('');
  for (let k = 0; k < 3; k++) {
    assert.equal(aof.startRewrite(), null);
    // In the manifest from the start, before the rewrite ends.
    assert.equal(manifest(), 'file appendonly.aof.1.base.rdb seq 1 type b\n' + incrs([1, 2, 3, 4].slice(0, k + 2)));
    run('INCR', 'counter');
    run('SET', `during-${k}`, 'x');
    await killRewriteChild(aof);
    run('INCR', 'counter');
  }
  assert.equal(new Map(sectionFields(server, 'persistence')).get('aof_last_bgrewrite_status'), 'err');
  assert.equal(manifest(), 'file appendonly.aof.1.base.rdb seq 1 type b\n' + incrs([1, 2, 3, 4]));
  run('CONFIG', 'SET', 'rdb-key-save-delay', '0');
  assert.equal(aof.startRewrite(), null);
  const turns = await writeWhile(run, () => aof.rewrite === null);
  assert.ok(turns >= 1);
  await waitRewrite(aof);
  assert.equal(manifest(), 'file appendonly.aof.2.base.rdb seq 2 type b\n' + incrs([5]));
  assert.deepEqual(readdirSync(aofDir).sort(), ['appendonly.aof.2.base.rdb', 'appendonly.aof.5.incr.aof', 'appendonly.aof.manifest']);
  const expected = dump(server);
  await server.close();
  assert.equal(dump(await reload(dir)), expected);
});

test('BGREWRITEAOF during a BGSAVE is scheduled and runs once the BGSAVE is done, as in Redis', async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir);
  populate(run, 200);
  run('CONFIG', 'SET', 'rdb-key-save-delay', '2000');
  assert.equal(run('BGSAVE'), '+Background saving started\r\n');
  assert.equal(run('BGREWRITEAOF'), '+Background append only file rewriting scheduled\r\n');
  const fields = new Map(sectionFields(server, 'persistence'));
  assert.equal(fields.get('aof_rewrite_scheduled'), 1);
  assert.equal(fields.get('aof_rewrite_in_progress'), 0);
  assert.equal(fields.get('aof_pending_rewrite'), 1);
  run('CONFIG', 'SET', 'rdb-key-save-delay', '0');
  while (aof.rewrites === 0) await new Promise((r) => setTimeout(r, 10));
  assert.equal(new Map(sectionFields(server, 'persistence')).get('rdb_bgsave_in_progress'), 0);
  await waitRewrite(aof);
  // Inside MULTI it is scheduled too.
  assert.equal(run('MULTI'), '+OK\r\n');
  run('BGREWRITEAOF');
  assert.equal(run('EXEC'), '*1\r\n+Background append only file rewriting scheduled\r\n');
  await waitRewrite(aof);
  assert.equal(aof.rewrites, 2);
});

test('CONFIG SET appendonly yes inside MULTI schedules the rewrite (logged as Redis); total_forks counts background jobs', async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir, { appendonly: 'no' });
  const lines: string[] = [];
  setLogSink(server, (_level, line) => lines.push(line));
  const forks = () => Number(new Map(sectionFields(server, 'stats')).get('total_forks'));
  assert.equal(forks(), 0);
  populate(run, 50);
  run('MULTI');
  run('SET', 'foo', 'bar');
  run('CONFIG', 'SET', 'appendonly', 'yes');
  assert.equal(run('EXEC'), '*2\r\n+OK\r\n+OK\r\n');
  assert.equal(aof.rewrite, null);
  assert.ok(lines.some((l) => l.endsWith('# AOF was enabled during a transaction. An AOF background was scheduled to start when possible.')));
  assert.equal(new Map(sectionFields(server, 'persistence')).get('aof_rewrite_scheduled'), 1);
  // The cron starts it.
  while (aof.rewrites === 0) await new Promise((r) => setTimeout(r, 10));
  await waitRewrite(aof);
  assert.equal(aof.state, 'on');
  assert.equal(forks(), 1);
  assert.equal(run('BGSAVE'), '+Background saving started\r\n');
  assert.equal(forks(), 2);
  while (persistenceOf(server).bgsave !== null) await new Promise((r) => setTimeout(r, 10));
});

test("turning the AOF off or on during a rewrite stops it with Redis's log lines", async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir, { 'aof-use-rdb-preamble': 'no' });
  const lines: string[] = [];
  setLogSink(server, (_level, line) => lines.push(line));
  populate(run, 50);
  run('CONFIG', 'SET', 'rdb-key-save-delay', '1000000');
  assert.equal(run('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
  assert.equal(run('CONFIG', 'SET', 'appendonly', 'no'), '+OK\r\n');
  assert.equal(aof.rewrite, null);
  // Redis's killAppendOnlyChild line, with the writer child's pid.
  assert.ok(lines.some((l) => /\* Killing running AOF rewrite child: \d+$/.test(l)), lines.join('\n'));
  lines.length = 0;
  assert.equal(run('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
  assert.equal(run('CONFIG', 'SET', 'appendonly', 'yes'), '+OK\r\n');
  assert.ok(lines.some((l) => l.endsWith('# AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.')));
  assert.ok(lines.some((l) => /\* Killing running AOF rewrite child: \d+$/.test(l)));
  assert.notEqual(aof.rewrite, null);
  run('CONFIG', 'SET', 'rdb-key-save-delay', '0');
  await waitRewrite(aof);
});

test('function libraries survive a rewrite: loaded before it (base) and during it (replayed after the base)', async () => {
  const dir = tempDir();
  const { server, aof, run } = await start(dir, { 'aof-use-rdb-preamble': 'no' });
  const lib = (name: string) => `#!lua name=${name}\nredis.register_function('${name}_f', function(keys, args) return args[1] end)`;
  assert.equal(run('FUNCTION', 'LOAD', lib('before')), '$6\r\nbefore\r\n');
  const st = persistenceOf(server);
  // The functions module provides the libraries' code; stand in for it if it is not wired.
  st.functions ??= { dump: () => [lib('before')], load: () => undefined, flush: () => undefined };
  populate(run, 2000);
  assert.equal(aof.startRewrite(), null);
  assert.equal(run('FUNCTION', 'LOAD', lib('during')), '$6\r\nduring\r\n');
  await writeWhile(run, () => aof.rewrite === null);
  await waitRewrite(aof);
  const base = readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.2.base.aof'), 'latin1');
  assert.ok(base.startsWith(`*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$${lib('before').length}\r\n${lib('before')}\r\n`), base.slice(0, 80));
  await server.close();
  const { run: run2 } = await start(dir);
  const list = run2('FUNCTION', 'LIST');
  assert.ok(list.includes('before') && list.includes('during'), list);
  assert.equal(run2('FCALL', 'during_f', '0', 'hi'), '$2\r\nhi\r\n');
});

test('when a rewrite is seen finished, the manifest already lists no history files (as Redis)', async () => {
  const dir = tempDir();
  const { aof, run } = await start(dir, { 'aof-use-rdb-preamble': 'no' });
  populate(run, 200);
  assert.equal(aof.startRewrite(), null);
  // Checked in the very turn the rewrite is seen done: no wait for a later clean-up.
  while (aof.rewrite !== null || aof.rewriteScheduled) await new Promise((r) => setTimeout(r, 1));
  assert.equal(
    readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1'),
    'file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
  );
});

test('aof-disable-auto-gc keeps history files; setting it back to no deletes them at once', async () => {
  const dir = tempDir();
  const { aof, run } = await start(dir, { 'aof-use-rdb-preamble': 'no', 'aof-disable-auto-gc': 'yes' });
  populate(run, 50);
  assert.equal(aof.startRewrite(), null);
  await waitRewrite(aof);
  const manifest = join(dir, 'appendonlydir', 'appendonly.aof.manifest');
  assert.equal(
    readFileSync(manifest, 'latin1'),
    'file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.1.base.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
  );
  // A second rewrite puts its files ahead of the older history (Redis's order).
  assert.equal(aof.startRewrite(), null);
  await waitRewrite(aof);
  assert.equal(
    readFileSync(manifest, 'latin1'),
    'file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.2.incr.aof seq 2 type h\nfile appendonly.aof.2.base.aof seq 2 type h\n' +
      'file appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.1.base.aof seq 1 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\n',
  );
  assert.equal(run('CONFIG', 'SET', 'aof-disable-auto-gc', 'no'), '+OK\r\n');
  assert.equal(readFileSync(manifest, 'latin1'), 'file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n');
});
