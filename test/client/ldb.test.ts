/**
 * The Lua debugger's sessions as seen by other clients (test/diff/cases/ldb.txt
 * compares the debugger's own replies with Redis): SCRIPT DEBUG SYNC holds the
 * server and keeps the script's changes, SCRIPT DEBUG YES (a forked session in
 * Redis) lets other clients run and discards its changes, and the debugging
 * client is closed when the session ends.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { setLogSink } from '../../src/persistence/log.js';

let handle: ServerHandle;
let io: Redis;
const logs: string[] = [];

before(async () => {
  handle = await startTestServer();
  setLogSink(handle.server, (_level, line) => logs.push(line));
  io = await connectIo(handle);
});

after(async () => closeAll(handle, io));

interface Raw {
  socket: Socket;
  /** Everything received and not yet taken. */
  take(): string;
  closed(): boolean;
  send(...argv: string[]): void;
}

async function raw(): Promise<Raw> {
  const socket = connect(handle.port, handle.host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let got = '';
  let closed = false;
  socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return {
    socket,
    take: () => {
      const s = got;
      got = '';
      return s;
    },
    closed: () => closed,
    send: (...argv) => socket.write(`*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')),
  };
}

/** Sends a command and waits until a reply containing `tail` (and ending a line) arrived. */
async function ask(r: Raw, tail: string, ...argv: string[]): Promise<string> {
  let got = '';
  r.send(...argv);
  await waitFor(() => {
    got += r.take();
    return got.includes(tail) && got.endsWith('\r\n');
  }, `reply to ${argv.join(' ')}`);
  return got;
}

const SCRIPT = "redis.call('set','a','new')\nredis.call('del','l')\nredis.call('set','fresh','1')\nreturn redis.call('get','a')";

async function setUp(): Promise<void> {
  await io.flushall();
  await io.set('a', 'old', 'PX', 100000);
  await io.rpush('l', 'x', 'y');
}

test('SCRIPT DEBUG SYNC holds the server for the session and keeps the changes; the client is closed at the end', async () => {
  await setUp();
  const d = await raw();
  assert.equal(await ask(d, '+OK\r\n', 'SCRIPT', 'DEBUG', 'SYNC'), '+OK\r\n');
  await ask(d, "-> 1   redis.call('set','a','new')\r\n", 'EVAL', SCRIPT, '0');
  await ask(d, "-> 2   redis.call('del','l')\r\n", 's');
  // Another client's command waits for the session, as on a blocked Redis.
  const other = await raw();
  other.send('GET', 'a');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(other.take(), '');
  assert.equal(await ask(d, '$3\r\nnew\r\n', 'c'), '*1\r\n+<endsession>\r\n$3\r\nnew\r\n');
  await waitFor(() => d.closed(), 'the debugging client to be closed');
  await waitFor(() => other.take() === '$3\r\nnew\r\n', 'the held command to run after the session');
  assert.deepEqual(await io.mget('a', 'l', 'fresh'), ['new', null, '1']);
  assert.equal(await io.pttl('a'), -1);
  assert.ok(logs.some((l) => l.endsWith('Redis synchronous debugging eval session started')));
  assert.ok(logs.some((l) => l.endsWith('Redis synchronous debugging eval session ended')));
  other.socket.destroy();
});

test('SCRIPT DEBUG YES: other clients are served and do not see the changes, which are undone at the end', async () => {
  await setUp();
  const d = await raw();
  await ask(d, '+OK\r\n', 'SCRIPT', 'DEBUG', 'YES');
  await ask(d, "-> 1   redis.call('set','a','new')\r\n", 'EVAL', SCRIPT, '0');
  await ask(d, "-> 2   redis.call('del','l')\r\n", 's');
  await ask(d, "-> 3   redis.call('set','fresh','1')\r\n", 's');
  await ask(d, "-> 4   return redis.call('get','a')\r\n", 's');
  // The session's own view: its changes.
  assert.equal(await ask(d, '"new"\r\n', 'r', 'get', 'a'), '*2\r\n+<redis> get a\r\n+<reply> "new"\r\n');
  // Others: the dataset as it was, and their own changes.
  assert.deepEqual(await io.mget('a', 'fresh'), ['old', null]);
  assert.deepEqual(await io.lrange('l', 0, -1), ['x', 'y']);
  await io.set('untouched', 'by-other');
  assert.equal(await ask(d, '$3\r\nnew\r\n', 'c'), '*1\r\n+<endsession>\r\n$3\r\nnew\r\n');
  await waitFor(() => d.closed(), 'the debugging client to be closed');
  assert.deepEqual(await io.mget('a', 'fresh', 'untouched'), ['old', null, 'by-other']);
  assert.deepEqual(await io.lrange('l', 0, -1), ['x', 'y']);
  const ttl = await io.pttl('a');
  assert.ok(ttl > 0 && ttl <= 100000, `TTL kept: ${ttl}`);
});

test('SCRIPT DEBUG YES sends no keyspace notifications (a forked child would not); SYNC does', async () => {
  await setUp();
  await io.config('SET', 'notify-keyspace-events', 'KA');
  try {
    const sub = await raw();
    await ask(sub, ':1\r\n', 'PSUBSCRIBE', '__keyspace@0__:*');
    for (const mode of ['YES', 'SYNC']) {
      const d = await raw();
      await ask(d, '+OK\r\n', 'SCRIPT', 'DEBUG', mode);
      await ask(d, '-> 1   ', 'EVAL', SCRIPT, '0');
      await ask(d, '-> 2   ', 's');
      await ask(d, '<endsession>', 'c');
      await waitFor(() => d.closed(), 'the session to end');
      await io.ping();
      await new Promise((r) => setTimeout(r, 50));
      const got = sub.take();
      if (mode === 'YES') assert.equal(got, '');
      else assert.match(got, /__keyspace@0__:a\r\n\$3\r\nset\r\n/);
    }
    sub.socket.destroy();
  } finally {
    await io.config('SET', 'notify-keyspace-events', '');
  }
});

test('SCRIPT DEBUG YES: a FLUSHALL in the session is undone too', async () => {
  await setUp();
  const d = await raw();
  await ask(d, '+OK\r\n', 'SCRIPT', 'DEBUG', 'YES');
  await ask(d, '-> 1   ', 'EVAL', "redis.call('flushall')\nredis.call('set','n','1')\nreturn 1", '0');
  await ask(d, '-> 2   ', 's');
  assert.equal(await io.dbsize(), 2);
  assert.equal(await ask(d, ':1\r\n', 'c'), '*1\r\n+<endsession>\r\n:1\r\n');
  assert.deepEqual(await io.keys('*').then((k) => k.sort()), ['a', 'l']);
  assert.equal(await io.get('a'), 'old');
});

test('SCRIPT DEBUG YES: other clients are served while the script runs between stops', async () => {
  await setUp();
  await io.config('SET', 'busy-reply-threshold', '300');
  try {
    const d = await raw();
    await ask(d, '+OK\r\n', 'SCRIPT', 'DEBUG', 'YES');
    await ask(d, '-> 1   ', 'EVAL', "redis.call('set','a','new')\nlocal i = 0\nwhile true do i = i + 1 end", '0');
    await ask(d, '-> 2   ', 's');
    await ask(d, '-> 3   ', 's');
    const started = Date.now();
    d.send('c');
    await new Promise((r) => setTimeout(r, 30));
    // A command sent while the script runs waits for the next stop.
    d.send('p', 'i');
    assert.equal(await io.get('a'), 'old');
    assert.ok(Date.now() - started < 250, 'served before the timeout stop');
    let got = '';
    await waitFor(() => (got += d.take()).includes('<value> '), 'the stop and the print');
    assert.match(got, /^\*2\r\n\+\* Stopped at 3, stop reason = timeout reached, infinite loop\?\r\n.*\*1\r\n\+<value> \d/s);
    await ask(d, '<endsession>', 'a');
    assert.equal(await io.get('a'), 'old');
  } finally {
    await io.config('SET', 'busy-reply-threshold', '5000');
  }
});

test('the debugging client disconnecting lets the script run to its end without stops', async () => {
  await setUp();
  const d = await raw();
  await ask(d, '+OK\r\n', 'SCRIPT', 'DEBUG', 'SYNC');
  await ask(d, '-> 1   ', 'EVAL', SCRIPT, '0');
  d.socket.destroy();
  // SYNC keeps the script's changes; the server serves others again.
  await waitFor(async () => (await io.get('fresh')) === '1', 'the script to finish');
  assert.equal(await io.get('a'), 'new');
});

test('SCRIPT DEBUG is refused inside a pipeline; SCRIPT DEBUG NO turns debugging off', async () => {
  const d = await raw();
  d.socket.write('*1\r\n$4\r\nPING\r\n*3\r\n$6\r\nSCRIPT\r\n$5\r\nDEBUG\r\n$3\r\nYES\r\n');
  let got = '';
  await waitFor(() => (got += d.take()).endsWith('pipeline\r\n'), 'the pipeline replies');
  assert.equal(got, '+PONG\r\n-ERR SCRIPT DEBUG must be called outside a pipeline\r\n');
  await ask(d, '+OK\r\n', 'SCRIPT', 'DEBUG', 'YES');
  await ask(d, '+OK\r\n', 'SCRIPT', 'DEBUG', 'NO');
  assert.equal(await ask(d, ':7\r\n', 'EVAL', 'return 7', '0'), ':7\r\n');
  assert.equal(d.closed(), false);
  d.socket.destroy();
});
