/**
 * The DEBUG subcommands the persistence code answers (LOG, SET-SKIP-CHECKSUM-VALIDATION,
 * AOF-FLUSH-SLEEP) and what RESTORE logs when a payload does not decode.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, startWithClients, type NodeRedisClient } from '../helpers/server.js';
import { setLogSink } from '../../src/persistence/log.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;
const lines: string[] = [];

before(async () => {
  ({ handle, io, nr } = await startWithClients({ 'enable-debug-command': 'yes', loglevel: 'verbose' }));
  setLogSink(handle.server, (level, line) => lines.push(`${level}: ${line}`));
});
after(() => closeAll(handle, io, nr));

test('DEBUG LOG writes its message to the log at warning level', async () => {
  assert.equal(await io.call('DEBUG', 'LOG', 'hello there'), 'OK');
  assert.ok(lines.some((l) => /^warning: .* # DEBUG LOG: hello there$/.test(l)), lines.join('\n'));
  await assert.rejects(io.call('DEBUG', 'LOG'), /unknown subcommand or wrong number of arguments for 'LOG'/i);
});

// A hash ziplist whose third entry's length runs past the end (corrupt-dump.tcl), with a valid CRC.
const corruptZiplistHash = Buffer.from(
  '0d1b1b00000016000000040000026100040262000414630004026400ff0900d910549215f55f52',
  'hex',
);

test('RESTORE of a payload that fails its integrity check answers Bad data format and logs why at verbose level', async () => {
  lines.length = 0;
  await assert.rejects(io.restore('k', 0, corruptZiplistHash), /ERR Bad data format/);
  assert.ok(lines.some((l) => /^verbose: .*Internal error in RDB reading .*integrity check failed/.test(l)), lines.join('\n'));
});

test('a stream whose node listpack is corrupt is reported as Redis names it', async () => {
  lines.length = 0;
  // corrupt-dump.tcl "listpack invalid size header" (valid CRC).
  const payload = Buffer.from(
    '0f01100000000000000002000000000000000240555f0000000f00010100010201883100000000000000098832000000000000000900010001000100010202883100000000000000098861000000000000000988320000000000000009886200000000000000090801ff0a010000090045910a872fa5f92e',
    'hex',
  );
  await assert.rejects(io.restore('s', 0, payload), /ERR Bad data format/);
  assert.ok(lines.some((l) => /Stream listpack integrity check failed/.test(l)), lines.join('\n'));
});

test('ziplist errors name the value type, and a hash ziplist with duplicate fields fails its integrity check', async () => {
  lines.length = 0;
  // corrupt-dump.tcl "valid zipped hash header, dup records" (valid CRC).
  const dup = Buffer.from('0d1b1b00000016000000040000026100040262000402610004026400ff0900a1983678cc8e932e', 'hex');
  await assert.rejects(io.restore('h', 0, dup), /ERR Bad data format/);
  assert.ok(lines.some((l) => /Hash ziplist integrity check failed/.test(l)), lines.join('\n'));
  lines.length = 0;
  await assert.rejects(io.restore('h', 0, corruptZiplistHash), /ERR Bad data format/);
  assert.ok(lines.some((l) => /Hash ziplist integrity check failed/.test(l)), lines.join('\n'));
});

test('DEBUG SET-SKIP-CHECKSUM-VALIDATION 1 makes RESTORE accept a payload whose CRC does not match', async () => {
  await io.set('src', 'value');
  const good = (await io.dumpBuffer('src'))!;
  const bad = Buffer.from(good);
  bad[bad.length - 1] ^= 0xff;
  await assert.rejects(io.restore('dst', 0, bad), /ERR DUMP payload version or checksum are wrong/);
  assert.equal(await io.call('DEBUG', 'SET-SKIP-CHECKSUM-VALIDATION', '1'), 'OK');
  try {
    assert.equal(await io.restore('dst', 0, bad), 'OK');
    assert.equal(await io.get('dst'), 'value');
  } finally {
    await io.call('DEBUG', 'SET-SKIP-CHECKSUM-VALIDATION', '0');
  }
  await assert.rejects(io.restore('dst2', 0, bad), /checksum are wrong/);
});

test('DEBUG AOF-FLUSH-SLEEP takes a number of microseconds', async () => {
  assert.equal(await io.call('DEBUG', 'AOF-FLUSH-SLEEP', '1000'), 'OK');
  assert.equal(await io.call('DEBUG', 'AOF-FLUSH-SLEEP', '0'), 'OK');
});

test('a relative logfile is written under dir, as Redis opens it after chdir()ing there', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { startServer } = await import('../../src/index.js');
  const { Redis } = await import('ioredis');
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-logfile-'));
  const h = await startServer({ config: { dir, logfile: 'log.txt', 'enable-debug-command': 'yes' } });
  const c = new Redis(h.port, '127.0.0.1');
  try {
    assert.equal(await c.call('DEBUG', 'LOG', 'in the dir'), 'OK');
    assert.match(readFileSync(join(dir, 'log.txt'), 'latin1'), /# DEBUG LOG: in the dir\n/);
  } finally {
    c.disconnect();
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
