/**
 * What test/diff/cases/cluster-modules.txt cannot compare with a real Redis:
 * the random LOLWUT drawings (checked by shape), MODULE under
 * enable-module-command yes/local (immutable, so not settable in the diff
 * run), and FAILOVER's checks with a replica attached or as a replica.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { schotter, skyline } from '../../src/commands/lolwut.js';
import { setLogSink } from '../../src/persistence/log.js';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { infoOf } from '../helpers/info.js';

let handle: ServerHandle;
let io: Redis;

before(async () => {
  handle = await startTestServer();
  io = await connectIo(handle);
});
after(() => closeAll(handle, io));

const SCHOTTER_TRAILER = '\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n';
const SKYLINE_TRAILER = 'Dedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n';
const PIXEL = /\x1b\[0;(30;40|90;100|37;47|97;107)m \x1b\[0m/g;

async function lolwut(...args: string[]): Promise<string> {
  const reply = (await io.callBuffer('LOLWUT', ...args)) as Buffer;
  return reply.toString('utf8');
}

/** The braille rows of a version 5 reply, after checking its trailer. */
function schotterRows(text: string): string[] {
  assert.ok(text.endsWith(SCHOTTER_TRAILER), 'schotter trailer');
  return text.slice(0, -SCHOTTER_TRAILER.length).split('\n').filter((l) => l !== '');
}

function assertBraille(rows: string[], cols: number, count: number): void {
  assert.equal(rows.length, count, 'rows');
  for (const r of rows) {
    const chars = [...r];
    assert.equal(chars.length, cols, 'columns');
    for (const ch of chars) assert.ok(ch.codePointAt(0)! >= 0x2800 && ch.codePointAt(0)! <= 0x28ff, `braille: ${ch}`);
  }
}

test('LOLWUT without VERSION, or another version, is the version string', async () => {
  assert.equal(await lolwut(), 'Redis ver. 7.0.15\n');
  assert.equal(await lolwut('VERSION', '7'), 'Redis ver. 7.0.15\n');
  assert.equal(await lolwut('VERSION', '-3', 'x'), 'Redis ver. 7.0.15\n');
  await assert.rejects(io.call('LOLWUT', 'VERSION', 'x'), /^ReplyError: ERR value is not an integer or out of range$/);
});

test('LOLWUT VERSION 5 draws Schotter: rows of braille, one character per column', async () => {
  // Default 66 columns, 8 x 12 squares: 132 x 196 pixels, 49 rows of characters.
  for (let i = 0; i < 5; i++) {
    const text = await lolwut('VERSION', '5');
    assert.ok(text.includes('\n\nGeorg Nees'), 'a blank line before the trailer');
    assertBraille(schotterRows(text), 66, 49);
  }
  // 20 columns, 4 x 30 squares of 9 pixels: 274 pixel rows, 69 character rows.
  assertBraille(schotterRows(await lolwut('VERSION', '5', '20', '4', '30')), 20, 69);
  // Sizes are clamped: 1000 columns at most, at least one column and one square.
  // 2000 x 13 pixels: 4 rows, the last without its newline (its first pixel row is the canvas's last).
  const wide = await lolwut('VERSION', '5', '5000', '200', '1');
  assert.ok(!wide.includes('\n\nGeorg'));
  assertBraille(schotterRows(wide), 1000, 4);
  assertBraille(schotterRows(await lolwut('VERSION', '5', '-1', '0', '0')), 1, 1);
  await assert.rejects(io.call('LOLWUT', 'VERSION', '5', '66', 'x'), /ERR value is not an integer or out of range/);
});

test('Schotter: the first two rows of squares are fixed, the ones below move with the random source', () => {
  const still = () => 0;
  const noisy = (() => {
    let s = 12345;
    return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  })();
  assert.deepEqual(schotter(66, 8, 2, noisy), schotter(66, 8, 2, still));
  const a = schotter(66, 8, 12, still).toString('utf8').split('\n');
  const b = schotter(66, 8, 12, noisy).toString('utf8').split('\n');
  assert.equal(a.length, b.length);
  // Squares of rows 0 and 1 fill pixel rows 2..34 (character rows 0..7); row 2 may reach up into row 7.
  assert.deepEqual(b.slice(0, 7), a.slice(0, 7));
  assert.notDeepEqual(b.slice(10), a.slice(10));
  // With no randomness every square is in place: the top row of characters is the grid's top edge.
  assert.equal(a[0], '⠀⡤' + ('⠤'.repeat(7) + '⡤').repeat(7) + '⠤'.repeat(7) + '⡄');
});

test('LOLWUT VERSION 6 draws a skyline: one coloured space per pixel, then the dedication', async () => {
  const check = (text: string, cols: number, rows: number): void => {
    assert.ok(text.endsWith(SKYLINE_TRAILER), 'skyline trailer');
    const lines = text.slice(0, -SKYLINE_TRAILER.length).split('\n');
    assert.equal(lines.pop(), '', 'every row ends with a newline');
    assert.equal(lines.length, rows);
    for (const l of lines) {
      assert.equal(l.match(PIXEL)?.length, cols);
      assert.equal(l.replace(PIXEL, ''), '');
    }
  };
  check(await lolwut('VERSION', '6'), 80, 20);
  check(await lolwut('VERSION', '6', '12', '7'), 12, 7);
  check(await lolwut('VERSION', '6', '0', '-4'), 1, 1);
  check(await lolwut('VERSION', '6', '1500', '2'), 1000, 2);
  await assert.rejects(io.call('LOLWUT', 'VERSION', '6', '10', 'x'), /ERR value is not an integer or out of range/);
  // The picture: sky on top, buildings standing on the bottom row.
  const px = skyline(80, 20);
  assert.ok(px.subarray(0, 80).every((c) => c === 3), 'the top row is sky');
  assert.ok(px.subarray(19 * 80).every((c) => c !== 3), 'no sky on the bottom row');
});

test('LOLWUT replies verbatim text in RESP3', async () => {
  const socket = connect(handle.port, handle.host);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let got = '';
    socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
    socket.write('*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*1\r\n$6\r\nLOLWUT\r\n');
    await waitFor(() => got.endsWith('=22\r\ntxt:Redis ver. 7.0.15\n\r\n'), 'the verbatim reply');
  } finally {
    socket.destroy();
  }
});

test('MODULE: refused while enable-module-command is no, loads nothing when allowed', async () => {
  await assert.rejects(io.call('MODULE', 'LOAD', '/x.so'), /ERR MODULE command not allowed\. If the enable-module-command option is set to "local"/);
  for (const mode of ['yes', 'local']) {
    const h = await startTestServer({ 'enable-module-command': mode });
    const lines: string[] = [];
    setLogSink(h.server, (_level, line) => lines.push(line));
    const c = await connectIo(h);
    try {
      assert.deepEqual(await c.call('MODULE', 'LIST'), []);
      await assert.rejects(c.call('MODULE', 'LOAD', '/x.so', 'a'), /^ReplyError: ERR Error loading the extension\. Please check the server logs\.$/);
      await assert.rejects(c.call('MODULE', 'LOADEX', '/x.so', 'CONFIG', 'n', 'v'), /ERR Error loading the extension/);
      await assert.rejects(c.call('MODULE', 'UNLOAD', 'x'), /^ReplyError: ERR Error unloading module: no such module with that name$/);
      assert.ok(lines.some((l) => l.includes('Module /x.so failed to load')), mode);
    } finally {
      await closeAll(h, c);
    }
  }
});

test('FAILOVER with a replica attached: FORCE and TO are checked, then a valid request starts (and is aborted)', async () => {
  // A replica: the handshake of a real one, then PSYNC for a full resync.
  const replica: Socket = connect(handle.port, handle.host);
  try {
    await new Promise<void>((resolve, reject) => replica.once('connect', resolve).once('error', reject));
    let got = '';
    replica.on('data', (b: Buffer) => (got += b.toString('latin1')));
    replica.write('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7777\r\n');
    // PSYNC is refused while a reply is pending: wait for REPLCONF's first.
    await waitFor(() => got === '+OK\r\n', 'REPLCONF to be answered');
    replica.write('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
    await waitFor(async () => (await infoOf(io, 'replication')).connected_slaves === '1', 'the replica to attach');
    // Without capa eof its sync goes through a BGSAVE to disk: FAILOVER TO wants it online.
    await waitFor(async () => /state=online/.test((await infoOf(io, 'replication')).slave0 ?? ''), 'the replica to be online', 10000);
    await assert.rejects(io.call('FAILOVER', 'ABORT'), /^ReplyError: ERR No failover in progress\.$/);
    await assert.rejects(io.call('FAILOVER', 'TIMEOUT', '0'), /ERR FAILOVER timeout must be greater than 0/);
    await assert.rejects(io.call('FAILOVER', 'FORCE'), /^ReplyError: ERR FAILOVER with force option requires both a timeout and target HOST and IP\.$/);
    await assert.rejects(io.call('FAILOVER', 'TO', 'h', '1', 'FORCE'), /requires both a timeout and target HOST and IP/);
    await assert.rejects(io.call('FAILOVER', 'TO', '127.0.0.1', '1'), /^ReplyError: ERR FAILOVER target HOST and PORT is not a replica\.$/);
    assert.equal(await io.call('FAILOVER', 'TO', '127.0.0.1', '7777', 'TIMEOUT', '60000', 'FORCE'), 'OK');
    await assert.rejects(io.call('FAILOVER'), /^ReplyError: ERR FAILOVER already in progress\.$/);
    assert.equal(await io.call('FAILOVER', 'ABORT'), 'OK');
  } finally {
    replica.destroy();
  }
  await waitFor(async () => (await infoOf(io, 'replication')).connected_slaves === '0', 'the replica to detach');
  await assert.rejects(io.call('FAILOVER'), /^ReplyError: ERR FAILOVER requires connected replicas\.$/);
});

test('FAILOVER on a replica is not valid', async () => {
  // Following a master that is not there still makes this server a replica (its failed connects are logged).
  setLogSink(handle.server, () => {});
  assert.equal(await io.call('REPLICAOF', '127.0.0.1', '1'), 'OK');
  try {
    await assert.rejects(io.call('FAILOVER'), /^ReplyError: ERR FAILOVER is not valid when server is a replica\.$/);
    await assert.rejects(io.call('FAILOVER', 'ABORT'), /ERR No failover in progress/);
    await assert.rejects(io.call('FAILOVER', 'bogus'), /ERR syntax error/);
  } finally {
    assert.equal(await io.call('REPLICAOF', 'NO', 'ONE'), 'OK');
  }
});
