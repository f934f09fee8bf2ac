// Loading an append-only directory into an in-process server: the manifest,
// base and incr files, Redis's truncation rules and its fatal errors.
import { waitFor } from '../helpers/wait.js';
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from '../../src/server/server.js';
import { Config } from '../../src/config/config.js';
import { installAof, isAofFatal, type Aof } from '../../src/persistence/aof/index.js';
import { setLogSink } from '../../src/persistence/index.js';
import { encodeCommand } from '../../src/persistence/aof/resp.js';
import { stringOf, type StringValue } from '../../src/data/values.js';
import type { StreamValue } from '../../src/data/stream.js';

const logs: string[] = [];

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
  logs.length = 0;
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aof-load-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const cmds = (...list: string[][]) => Buffer.concat(list.map((a) => encodeCommand(a)));

/** Writes an append-only dir: files in order (first = base unless baseless), manifest listing them. */
function writeAofDir(dir: string, files: Array<[name: string, type: 'b' | 'i', content: Buffer | string]>): string {
  const aofDir = join(dir, 'appendonlydir');
  mkdirSync(aofDir, { recursive: true });
  let manifest = '';
  let seq = 0;
  for (const [name, type, content] of files) {
    writeFileSync(join(aofDir, name), content);
    manifest += `file ${name} seq ${type === 'b' ? 1 : ++seq} type ${type}\n`;
  }
  writeFileSync(join(aofDir, 'appendonly.aof.manifest'), manifest);
  return aofDir;
}

async function startServer(dir: string, extra: Record<string, string> = {}): Promise<{ server: Server; aof: Aof }> {
  const server = new Server({ config: new Config({ dir, appendonly: 'yes', ...extra }) });
  // Log lines without their "pid:M date time *" prefix.
  setLogSink(server, (level, line) => logs.push(`${level}: ${line.replace(/^\d+:M \S+ \S+ \S+ \S+ . /, '')}`));
  const aof = installAof(server);
  cleanups.unshift(() => void server.close());
  await aof.startup();
  return { server, aof };
}

async function startupError(dir: string, extra: Record<string, string> = {}): Promise<Error> {
  try {
    await startServer(dir, extra);
  } catch (e) {
    assert.ok(isAofFatal(e), String(e));
    return e;
  }
  assert.fail('the server started');
}

const str = (server: Server, db: number, key: string) => {
  const v = server.dbs[db].peek(key);
  return v === undefined ? undefined : stringOf(v as StringValue);
};

test('loads a base and incr files in order: SELECT, MULTI/EXEC blocks, all commands', async () => {
  const dir = tempDir();
  writeAofDir(dir, [
    ['appendonly.aof.1.base.aof', 'b', cmds(['SELECT', '0'], ['SET', 'a', '1'], ['RPUSH', 'l', 'x', 'y'], ['SELECT', '5'], ['SET', 'a', 'five'])],
    ['appendonly.aof.1.incr.aof', 'i', cmds(['SELECT', '0'], ['INCR', 'a'], ['MULTI'], ['INCR', 'a'], ['SET', 'b', 'B'], ['EXEC'])],
    ['appendonly.aof.2.incr.aof', 'i', Buffer.from('#TS:1700000000\r\n' + cmds(['SELECT', '5'], ['APPEND', 'a', '!']).toString('latin1'), 'latin1')],
  ]);
  const { server, aof } = await startServer(dir);
  assert.equal(str(server, 0, 'a'), '3');
  assert.equal(str(server, 0, 'b'), 'B');
  assert.equal(str(server, 5, 'a'), 'five!');
  assert.equal(server.dbs[0].size, 3);
  assert.equal(aof.state, 'on');
  assert.ok(logs.some((l) => l.startsWith('notice: DB loaded from incr file appendonly.aof.2.incr.aof: ')));
  assert.ok(logs.some((l) => l.startsWith('notice: Opening AOF incr file appendonly.aof.2.incr.aof on server start')));
});

test('a truncated last file loads up to the last complete command and is truncated there (aof-load-truncated yes)', async () => {
  const dir = tempDir();
  const good = cmds(['SET', 'k', '1'], ['INCR', 'k']);
  const content = Buffer.concat([good, encodeCommand(['INCR', 'k']).subarray(0, 9)]);
  const aofDir = writeAofDir(dir, [
    ['appendonly.aof.1.base.aof', 'b', ''],
    ['appendonly.aof.1.incr.aof', 'i', content],
  ]);
  const { server } = await startServer(dir);
  assert.equal(str(server, 0, 'k'), '2');
  assert.equal(statSync(join(aofDir, 'appendonly.aof.1.incr.aof')).size, good.length);
  assert.deepEqual(
    logs.filter((l) => l.startsWith('warning')),
    [
      'warning: !!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!',
      `warning: !!! Truncating the AOF appendonly.aof.1.incr.aof at offset ${good.length} !!!`,
      'warning: AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled',
    ],
  );
});

test('with aof-load-truncated no a truncated file stops the start, and the file is left alone', async () => {
  const dir = tempDir();
  const content = Buffer.concat([cmds(['SET', 'k', '1']), Buffer.from('*2\r\n$4\r\nINCR\r\n$1')]);
  const aofDir = writeAofDir(dir, [['appendonly.aof.1.incr.aof', 'i', content]]);
  const e = await startupError(dir, { 'aof-load-truncated': 'no' });
  assert.equal(
    e.message,
    'Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup of your AOF file, ' +
      "then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
  );
  assert.equal(statSync(join(aofDir, 'appendonly.aof.1.incr.aof')).size, content.length);
});

test('a MULTI without EXEC at the end is reverted and cut off, like a truncated command', async () => {
  const dir = tempDir();
  const before = cmds(['SET', 'k', '1']);
  const aofDir = writeAofDir(dir, [['appendonly.aof.1.incr.aof', 'i', Buffer.concat([before, cmds(['MULTI'], ['INCR', 'k'], ['SET', 'other', 'x'])])]]);
  const { server } = await startServer(dir);
  assert.equal(str(server, 0, 'k'), '1');
  assert.equal(str(server, 0, 'other'), undefined);
  assert.equal(statSync(join(aofDir, 'appendonly.aof.1.incr.aof')).size, before.length);
  assert.ok(logs.includes('warning: Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof'));
});

test('only the last file may be truncated', async () => {
  const dir = tempDir();
  writeAofDir(dir, [
    ['appendonly.aof.1.incr.aof', 'i', Buffer.concat([cmds(['SET', 'k', '1']), Buffer.from('*2\r\n$4\r\nIN')])],
    ['appendonly.aof.2.incr.aof', 'i', cmds(['SET', 'k', '2'])],
  ]);
  assert.equal((await startupError(dir)).message, 'Fatal error: the truncated file is not the last file');
});

test('corruption in the middle, unknown commands and missing files refuse to start', async () => {
  let dir = tempDir();
  const good = cmds(['SET', 'a', '1'], ['SET', 'b', '2']);
  const flipped = Buffer.from(good);
  flipped[good.length - 13] = 0x37; // "$1" -> "$7" for the key of the second command
  writeAofDir(dir, [['appendonly.aof.1.incr.aof', 'i', Buffer.concat([flipped, cmds(['SET', 'c', '3'])])]]);
  assert.equal(
    (await startupError(dir)).message,
    'Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>',
  );

  dir = tempDir();
  writeAofDir(dir, [['appendonly.aof.1.incr.aof', 'i', cmds(['SET', 'a', '1'], ['FOOP', 'a'])]]);
  assert.equal((await startupError(dir)).message, "Unknown command 'FOOP' reading the append only file appendonly.aof.1.incr.aof");

  dir = tempDir();
  const aofDir = writeAofDir(dir, [
    ['appendonly.aof.1.base.aof', 'b', cmds(['SET', 'a', '1'])],
    ['appendonly.aof.1.incr.aof', 'i', ''],
  ]);
  rmSync(join(aofDir, 'appendonly.aof.1.base.aof'));
  assert.equal((await startupError(dir)).message, 'Unable to obtain the AOF file appendonly.aof.1.base.aof length. stat: No such file or directory');

  dir = tempDir();
  writeAofDir(dir, [['appendonly.aof.1.incr.aof', 'i', '']]);
  writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'file x seq 1 type z\n');
  assert.match((await startupError(dir)).message, /^\*\*\* FATAL AOF MANIFEST FILE ERROR \*\*\*\nReading the manifest file, at line 1\n>>> 'file x seq 1 type z'\nUnknown AOF file type$/);
});

test('nothing expires while the log replays: later commands see the key as it was', async () => {
  const dir = tempDir();
  const past = Date.now() - 60_000;
  writeAofDir(dir, [
    ['appendonly.aof.1.incr.aof', 'i', cmds(['SET', 'k', '1'], ['PEXPIREAT', 'k', String(past)], ['INCR', 'k'], ['SET', 's', 'v', 'PXAT', String(past)], ['APPEND', 's', 'w'])],
  ]);
  const { server } = await startServer(dir);
  const db = server.dbs[0];
  // Redis ends with k = 2 (TTL in the past, so it is gone for clients): never a resurrected k = 1.
  assert.equal(str(server, 0, 'k'), '2');
  assert.equal(db.getExpire('k'), past);
  assert.equal(str(server, 0, 's'), 'vw');
  assert.equal(db.lookupRead('k'), undefined);
  assert.equal(db.lookupRead('s'), undefined);
});

test('relative TTLs of old or hand-written files count from the load, absolute times are kept', async () => {
  const dir = tempDir();
  const at = Date.now() + 3_600_000;
  writeAofDir(dir, [
    ['appendonly.aof.1.incr.aof', 'i', cmds(['SET', 'a', '1', 'EX', '100'], ['SETEX', 'b', '100', 'v'], ['SET', 'c', 'v'], ['EXPIRE', 'c', '100'], ['SET', 'd', 'v'], ['PEXPIREAT', 'd', String(at)])],
  ]);
  const before = Date.now();
  const { server } = await startServer(dir);
  const db = server.dbs[0];
  for (const k of ['a', 'b', 'c']) {
    const t = db.getExpire(k);
    assert.ok(t >= before + 100_000 && t <= Date.now() + 100_000, `${k}: ${t}`);
  }
  assert.equal(db.getExpire('d'), at);
  // Access times are the load's, not the epoch.
  assert.ok(db.idleSeconds('d') <= 1);
});

test('stream consumer groups keep their pending entries, delivery times and counts', async () => {
  const dir = tempDir();
  const delivered = Date.now() - 5000;
  writeAofDir(dir, [
    [
      'appendonly.aof.1.base.aof',
      'b',
      cmds(
        ['XADD', 'st', '1-1', 'f', 'v'],
        ['XADD', 'st', '2-1', 'g', 'w'],
        ['XSETID', 'st', '2-1', 'ENTRIESADDED', '2', 'MAXDELETEDID', '0-0'],
        ['XGROUP', 'CREATE', 'st', 'grp', '2-1', 'ENTRIESREAD', '2'],
        ['XCLAIM', 'st', 'grp', 'alice', '0', '1-1', 'TIME', String(delivered), 'RETRYCOUNT', '3', 'JUSTID', 'FORCE'],
        ['XGROUP', 'CREATECONSUMER', 'st', 'grp', 'bob'],
      ),
    ],
  ]);
  const { server } = await startServer(dir);
  const s = server.dbs[0].peek('st') as StreamValue;
  assert.equal(s.length, 2);
  const g = s.groups.get('grp')!;
  assert.deepEqual([...g.consumers.keys()].sort(), ['alice', 'bob']);
  const [[id, nack]] = g.pel.entries();
  assert.equal(`${id.ms}-${id.seq}`, '1-1');
  assert.equal(nack.deliveryTime, delivered);
  assert.equal(nack.deliveryCount, 3);
});

test('an empty directory gets a base file, an incr file and a manifest, as Redis creates them', async () => {
  const dir = tempDir();
  const { aof } = await startServer(dir, { 'aof-use-rdb-preamble': 'no' });
  const aofDir = join(dir, 'appendonlydir');
  assert.deepEqual(readdirSync(aofDir).sort(), ['appendonly.aof.1.base.aof', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
  assert.equal(
    readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1'),
    'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
  );
  assert.equal(aof.currentSize, 0);
});

test('a pre-7.0 single AOF file in dir becomes the base of the new directory', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'appendonly.aof'), cmds(['SET', 'old', 'style']));
  const { server } = await startServer(dir);
  assert.equal(str(server, 0, 'old'), 'style');
  assert.ok(!existsSync(join(dir, 'appendonly.aof')));
  assert.equal(
    readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1'),
    'file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
  );
});

test('an upgrade interrupted after the manifest was written (old file not moved yet) is completed at startup', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'appendonly.aof'), cmds(['SET', 'k1', 'v1']));
  mkdirSync(join(dir, 'appendonlydir'));
  writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'file appendonly.aof seq 1 type b\n');
  const { server } = await startServer(dir);
  assert.equal(str(server, 0, 'k1'), 'v1');
  assert.ok(!existsSync(join(dir, 'appendonly.aof')));
  assert.ok(existsSync(join(dir, 'appendonlydir', 'appendonly.aof')));
  assert.equal(
    readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1'),
    'file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
  );
  assert.ok(logs.includes('notice: Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir).'), logs.join('\n'));
});

test('an old file in dir is left alone when the directory already has its own base of that name', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'appendonly.aof'), cmds(['SET', 'k1', 'v1']));
  writeAofDir(dir, [['appendonly.aof', 'b', cmds(['SET', 'k4', 'v4'])]]);
  const { server } = await startServer(dir);
  assert.equal(str(server, 0, 'k1'), undefined);
  assert.equal(str(server, 0, 'k4'), 'v4');
  assert.ok(existsSync(join(dir, 'appendonly.aof')));
});

test('history files listed in the manifest are deleted at startup', async () => {
  const dir = tempDir();
  const aofDir = writeAofDir(dir, [
    ['appendonly.aof.2.base.aof', 'b', cmds(['SET', 'a', '1'])],
    ['appendonly.aof.2.incr.aof', 'i', ''],
  ]);
  writeFileSync(join(aofDir, 'appendonly.aof.1.base.aof'), 'old');
  writeFileSync(
    join(aofDir, 'appendonly.aof.manifest'),
    'file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.base.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
  );
  await startServer(dir);
  // The unlink runs in the background (Redis's bio thread): wait for it rather than race it.
  await waitFor(() => !existsSync(join(aofDir, 'appendonly.aof.1.base.aof')), 'the history file to be deleted');
  assert.equal(
    readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1'),
    'file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
  );
});
