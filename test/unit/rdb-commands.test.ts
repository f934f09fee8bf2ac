/**
 * SAVE, BGSAVE (SCHEDULE, inside MULTI), LASTSAVE, save points, INFO
 * persistence, the MISCONF and LOADING checks, DEBUG RELOAD, and SHUTDOWN's
 * save hook, on an in-process server writing to a temporary directory.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newServer, client, run, populate, dataset } from './rdb-helpers.js';
import {
  persistenceOf,
  misconfRefused,
  loadingRefused,
  writesRefused,
  bgsaveWait,
  persistenceCron,
  MISCONF_ERROR,
  LOADING_ERROR,
} from '../../src/persistence/index.js';
import { sectionFields } from '../../src/observability/info.js';
import type { Server } from '../../src/server/server.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function withDir(config: Record<string, string> = {}): Server {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-rdbcmd-'));
  dirs.push(dir);
  return newServer({ dir, ...config });
}

function infoOf(s: Server): Record<string, string> {
  return Object.fromEntries(sectionFields(s, 'persistence').map(([k, v]) => [k, String(v)]));
}

test('SAVE writes dbfilename, resets the change count and sets LASTSAVE', () => {
  const s = withDir({ dbfilename: 'my.rdb' });
  s.clock.freeze(1_800_000_000_000);
  const c = client(s);
  run(s, c, 'SET', 'a', '1');
  run(s, c, 'SET', 'b', '2');
  assert.equal(infoOf(s).rdb_changes_since_last_save, '2');
  assert.equal(run(s, c, 'SAVE'), '+OK\r\n');
  const file = join(s.config.dir, 'my.rdb');
  assert.equal(readFileSync(file).latin1Slice(0, 9), 'REDIS0010');
  assert.equal(run(s, c, 'LASTSAVE'), ':1800000000\r\n');
  const inf = infoOf(s);
  assert.equal(inf.rdb_changes_since_last_save, '0');
  assert.equal(inf.rdb_last_save_time, '1800000000');
  assert.equal(inf.rdb_saves, '1');
});

test('BGSAVE: started, refused while running (also SAVE), then ok; SCHEDULE and MULTI schedule it', async () => {
  const s = withDir();
  const c = client(s);
  populate(s);
  assert.equal(run(s, c, 'BGSAVE'), '+Background saving started\r\n');
  assert.equal(infoOf(s).rdb_bgsave_in_progress, '1');
  assert.equal(run(s, c, 'BGSAVE'), '-ERR Background save already in progress\r\n');
  assert.equal(run(s, c, 'BGSAVE', 'SCHEDULE'), '-ERR Background save already in progress\r\n');
  assert.equal(run(s, c, 'SAVE'), '-ERR Background save already in progress\r\n');
  await bgsaveWait(s);
  const inf = infoOf(s);
  assert.deepEqual([inf.rdb_bgsave_in_progress, inf.rdb_last_bgsave_status, inf.rdb_changes_since_last_save], ['0', 'ok', '0']);
  assert.ok(existsSync(join(s.config.dir, 'dump.rdb')));
  // Inside a transaction BGSAVE is only scheduled; the cron starts it.
  run(s, c, 'MULTI');
  run(s, c, 'BGSAVE');
  assert.equal(run(s, c, 'EXEC'), '*1\r\n+Background saving scheduled\r\n');
  assert.equal(persistenceOf(s).bgsaveScheduled, true);
  persistenceCron(s);
  assert.equal(infoOf(s).rdb_bgsave_in_progress, '1');
  await bgsaveWait(s);
  // An AOF rewrite in progress: an error, or scheduled with SCHEDULE.
  persistenceOf(s).aofChildActive = () => true;
  assert.match(run(s, c, 'BGSAVE'), /^-ERR Another child process is active \(AOF\?\): can't BGSAVE right now\./);
  assert.equal(run(s, c, 'BGSAVE', 'SCHEDULE'), '+Background saving scheduled\r\n');
  persistenceCron(s);
  assert.equal(infoOf(s).rdb_bgsave_in_progress, '0');
  persistenceOf(s).aofChildActive = () => false;
  persistenceCron(s);
  assert.equal(infoOf(s).rdb_bgsave_in_progress, '1');
  await bgsaveWait(s);
  assert.equal(run(s, c, 'BGSAVE', 'NOW'), '-ERR syntax error\r\n');
});

test('save points start a BGSAVE after N changes in M seconds, with a retry delay after a failure', async () => {
  const s = withDir({ save: '100 3' });
  s.clock.freeze(2_000_000_000_000);
  persistenceOf(s).lastsave = 2_000_000_000;
  const c = client(s);
  run(s, c, 'SET', 'a', '1');
  run(s, c, 'SET', 'b', '1');
  run(s, c, 'SET', 'c', '1');
  s.clock.advance(100_000);
  persistenceCron(s);
  assert.equal(persistenceOf(s).bgsave, null, 'not more than 100 s yet');
  s.clock.advance(1000);
  persistenceCron(s);
  assert.notEqual(persistenceOf(s).bgsave, null);
  await bgsaveWait(s);
  assert.equal(infoOf(s).rdb_changes_since_last_save, '0');
});

test('MISCONF: a failed BGSAVE refuses writes and PING (not reads), until a save succeeds or the option is off', async () => {
  const s = withDir({ save: '3600 1' });
  const c = client(s);
  const tx = client(s);
  run(s, c, 'SET', 'a', '1');
  // A transaction that queued a write before the failure: its EXEC is refused afterwards.
  run(s, tx, 'MULTI');
  run(s, tx, 'SET', 'a', '2');
  const good = s.config.dir;
  s.config.setInternal('dir', join(good, 'missing-subdir'));
  run(s, c, 'BGSAVE');
  await bgsaveWait(s);
  assert.equal(infoOf(s).rdb_last_bgsave_status, 'err');
  const table = s.table;
  assert.equal(writesRefused(s), MISCONF_ERROR);
  assert.equal(misconfRefused(s, table.lookup('set')!, c), MISCONF_ERROR);
  assert.equal(misconfRefused(s, table.lookup('ping')!, c), MISCONF_ERROR);
  assert.equal(misconfRefused(s, table.lookup('get')!, c), null);
  assert.equal(misconfRefused(s, table.lookup('exec')!, tx), MISCONF_ERROR);
  run(s, tx, 'DISCARD');
  run(s, c, 'MULTI');
  run(s, c, 'GET', 'a');
  assert.equal(misconfRefused(s, table.lookup('exec')!, c), null);
  run(s, c, 'DISCARD');
  // Through the dispatcher.
  assert.equal(run(s, c, 'SET', 'a', '3'), `-${MISCONF_ERROR}\r\n`);
  assert.equal(run(s, c, 'PING'), `-${MISCONF_ERROR}\r\n`);
  assert.equal(run(s, c, 'GET', 'a'), '$1\r\n1\r\n');
  s.config.setInternal('stop-writes-on-bgsave-error', 'no');
  assert.equal(writesRefused(s), null);
  s.config.setInternal('stop-writes-on-bgsave-error', 'yes');
  s.config.setInternal('save', '');
  assert.equal(writesRefused(s), null, 'no save points: no MISCONF');
  s.config.setInternal('save', '3600 1');
  s.config.setInternal('dir', good);
  assert.equal(run(s, c, 'SAVE'), '+OK\r\n');
  assert.equal(writesRefused(s), null, 'a successful save clears it');
});

test('LOADING: while loading, commands without the loading flag are refused (EXEC too when it queued one)', () => {
  const s = withDir();
  const c = client(s);
  const t = s.table;
  assert.equal(loadingRefused(s, t.lookup('get')!, c), null);
  persistenceOf(s).loading = true;
  assert.equal(loadingRefused(s, t.lookup('get')!, c), LOADING_ERROR);
  assert.equal(loadingRefused(s, t.lookup('info')!, c), null);
  assert.equal(infoOf(s).loading, '1');
  assert.ok('loading_loaded_perc' in infoOf(s));
  persistenceOf(s).loading = false;
  run(s, c, 'MULTI');
  run(s, c, 'GET', 'x');
  persistenceOf(s).loading = true;
  assert.equal(loadingRefused(s, t.lookup('exec')!, c), LOADING_ERROR);
  persistenceOf(s).loading = false;
});

test('DEBUG RELOAD saves and reloads (MERGE, NOFLUSH, NOSAVE); DEBUG DIGEST is unchanged', () => {
  const s = withDir();
  const c = client(s);
  populate(s);
  const before = dataset(s);
  const digest = run(s, c, 'DEBUG', 'DIGEST');
  assert.equal(run(s, c, 'DEBUG', 'RELOAD'), '+OK\r\n');
  assert.deepEqual(dataset(s), before);
  assert.equal(run(s, c, 'DEBUG', 'DIGEST'), digest);
  run(s, c, 'SET', 'extra', 'x');
  assert.equal(run(s, c, 'DEBUG', 'RELOAD', 'NOSAVE'), '+OK\r\n');
  assert.equal(run(s, c, 'EXISTS', 'extra'), ':0\r\n');
  assert.equal(run(s, c, 'DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH'), '-ERR Error trying to load the RDB dump\r\n');
  assert.equal(run(s, c, 'DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH', 'MERGE'), '+OK\r\n');
  assert.equal(run(s, c, 'DEBUG', 'RELOAD', 'FAST'), '-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n');
  assert.equal(run(s, c, 'DEBUG', 'DIGEST'), digest);
});

test("SHUTDOWN's save hook writes the file and stops a BGSAVE in progress", () => {
  const s = withDir({ save: '3600 1' });
  const c = client(s);
  run(s, c, 'SET', 'k', 'v');
  run(s, c, 'BGSAVE');
  assert.equal(s.saveForShutdown!({ save: null, now: false, force: false }), true);
  assert.ok(existsSync(join(s.config.dir, 'dump.rdb')));
  assert.equal(infoOf(s).rdb_changes_since_last_save, '0');
});

test('FLUSHALL adds the keys it removed to the change count, saves with save points (count back to 0), and is always propagated', () => {
  const s = withDir();
  const c = client(s);
  const sent: string[][] = [];
  s.propagateSinks.push((_db, argv) => sent.push(argv));
  run(s, c, 'SET', 'a', '1');
  run(s, c, 'SET', 'b', '1');
  run(s, c, 'FLUSHALL');
  assert.equal(infoOf(s).rdb_changes_since_last_save, '4', 'two SETs and two keys removed, as Redis counts');
  run(s, c, 'FLUSHDB');
  assert.equal(infoOf(s).rdb_changes_since_last_save, '4', 'nothing removed');
  s.config.configSet([['save', '3600 1']]);
  run(s, c, 'SET', 'a', '1');
  run(s, c, 'FLUSHALL');
  assert.equal(infoOf(s).rdb_changes_since_last_save, '0');
  assert.ok(existsSync(join(s.config.dir, 'dump.rdb')));
  run(s, c, 'FLUSHALL');
  assert.deepEqual(
    sent.map((a) => a[0]),
    ['SET', 'SET', 'FLUSHALL', 'FLUSHDB', 'SET', 'FLUSHALL', 'FLUSHALL'],
  );
});

test('LOADING: CONFIG SET of dir, appendonly or repl-diskless-load is refused while loading; other directives change', () => {
  const s = withDir({ 'enable-protected-configs': 'yes' });
  const c = client(s);
  persistenceOf(s).loading = true;
  try {
    assert.equal(run(s, c, 'CONFIG', 'SET', 'loglevel', 'debug'), '+OK\r\n');
    assert.equal(run(s, c, 'CONFIG', 'SET', 'dir', 'asdf'), `-${LOADING_ERROR}\r\n`);
    assert.equal(run(s, c, 'CONFIG', 'SET', 'maxmemory', '1mb', 'appendonly', 'yes'), `-${LOADING_ERROR}\r\n`);
    assert.equal(s.config.get('maxmemory'), '0', 'nothing set');
  } finally {
    persistenceOf(s).loading = false;
  }
});
