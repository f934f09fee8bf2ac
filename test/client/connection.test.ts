/**
 * Connection-level behaviour over raw sockets: every accepted socket reads
 * into one buffer shared by all connections (net/connection.ts), so input a
 * client cannot run yet (it is blocked, or paused) must survive other
 * connections' reads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { ServerHandle } from '../../src/index.js';
import { startTestServer } from '../helpers/server.js';
import { blockedCount, waitFor } from '../helpers/wait.js';

let handle: ServerHandle;
const sockets: Socket[] = [];

before(async () => {
  handle = await startTestServer();
});
after(async () => {
  for (const s of sockets) s.destroy();
  await handle.close();
});

/** A raw connection that collects everything the server sends. */
async function rawClient(): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(handle.port, handle.host);
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let got = '';
  socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
  return { socket, received: () => got };
}

function resp(...argv: string[]): string {
  return `*${argv.length}\r\n` + argv.map((a) => `$${a.length}\r\n${a}\r\n`).join('');
}

test("a blocked client's pipelined commands survive other connections' reads", async () => {
  const a = await rawClient();
  const b = await rawClient();
  // One write: a blocking pop, then commands that must wait for it, the last one split mid-way.
  const tailCmd = resp('ECHO', 'after-unblock');
  a.socket.write(resp('BLPOP', 'conn:q', '0') + resp('SET', 'conn:k', 'pending-value') + resp('GET', 'conn:k') + tailCmd.slice(0, 9));
  await blockedCount(handle, 1);
  // Other reads overwrite the shared read buffer many times with different bytes.
  let expectB = '';
  for (let i = 0; i < 50; i++) {
    b.socket.write(resp('SET', `conn:other:${i}`, 'x'.repeat(200 + i)));
    expectB += '+OK\r\n';
  }
  await waitFor(() => b.received() === expectB, 'the other client to be served');
  a.socket.write(tailCmd.slice(9));
  b.socket.write(resp('RPUSH', 'conn:q', 'job'));
  const expectA = '*2\r\n$6\r\nconn:q\r\n$3\r\njob\r\n+OK\r\n$13\r\npending-value\r\n$13\r\nafter-unblock\r\n';
  await waitFor(() => a.received() === expectA, `the blocked client's replies (got ${JSON.stringify(a.received())})`);
});

test('a command split across many reads is assembled intact', async () => {
  const a = await rawClient();
  const value = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(i % 256)).join('');
  const bytes = Buffer.from(resp('SET', 'conn:split', value) + resp('STRLEN', 'conn:split') + resp('GET', 'conn:split'), 'latin1');
  const other = await rawClient();
  for (let i = 0; i < bytes.length; i += 97) {
    a.socket.write(bytes.subarray(i, i + 97));
    other.socket.write(resp('PING'));
    await new Promise((r) => setImmediate(r));
  }
  const expected = '+OK\r\n:3000\r\n$3000\r\n' + value + '\r\n';
  await waitFor(() => a.received() === expected, 'the split command replies');
});

test('after a protocol error the connection is closed, so a peer still sending gets an error', async () => {
  for (const seq of ['\x00', '*\x00', '$\x00']) {
    // Half-open allowed, like a Tcl socket: only the server closing its end makes writes fail.
    const socket = connect({ port: handle.port, host: handle.host, allowHalfOpen: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let got = '';
    socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
    const a = { socket, received: () => got };
    let failed = false;
    a.socket.on('error', () => (failed = true));
    a.socket.write(seq);
    const chunk = 'payload'.repeat(1000);
    for (let i = 0; i < 400 && !failed; i++) {
      a.socket.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(failed, `the server closed the connection after ${JSON.stringify(seq)}`);
    assert.match(a.received(), /^-ERR Protocol error: too big (inline request|mbulk count string)\r\n$/);
  }
});

test('a connection refused for maxclients that the peer resets does not take the server down', async () => {
  const a = await rawClient();
  a.socket.write(resp('CONFIG', 'GET', 'maxclients'));
  await waitFor(() => a.received().endsWith('\r\n') && a.received().startsWith('*2'), 'CONFIG GET');
  const original = a.received().split('\r\n')[4];
  a.socket.write(resp('CONFIG', 'SET', 'maxclients', String(handle.server.clients.size)));
  await waitFor(() => a.received().endsWith('+OK\r\n'), 'CONFIG SET');
  try {
    for (let i = 0; i < 5; i++) {
      const s = connect(handle.port, handle.host);
      sockets.push(s);
      s.on('error', () => {});
      // Reset (RST) as soon as the refusal arrives, while the server still has the socket.
      await new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 50));
    const before = a.received().length;
    a.socket.write(resp('PING'));
    await waitFor(() => a.received().slice(before) === '+PONG\r\n', 'the server to answer after the resets');
  } finally {
    a.socket.write(resp('CONFIG', 'SET', 'maxclients', original));
  }
});

test('replies queued by a socket the client does not read arrive intact', async () => {
  // Replies go to the socket straight from the client's reply buffer; once the kernel's
  // buffers are full the socket keeps the bytes, so later replies must not overwrite them.
  // Each read's replies stay well under 1 MB (a reply buffer that big is let go anyway).
  const a = await rawClient();
  const values = Array.from({ length: 8 }, (_, i) => String.fromCharCode(0x61 + i).repeat(300) + i);
  let setup = '';
  for (let i = 0; i < values.length; i++) setup += resp('SET', `cq:${i}`, values[i]);
  a.socket.write(setup);
  await waitFor(() => a.received() === '+OK\r\n'.repeat(values.length), 'the values to be set');
  a.socket.pause();
  const before = a.received().length;
  const expected: string[] = [];
  for (let j = 0; j < 60; j++) {
    let batch = '';
    for (let k = 0; k < 1000; k++) {
      const i = (j * 1000 + k) % values.length;
      batch += resp('GET', `cq:${i}`);
      expected.push(`$${values[i].length}\r\n${values[i]}\r\n`);
    }
    a.socket.write(batch);
  }
  const expect = expected.join('');
  // Let the server answer into full socket buffers before anything is read.
  await new Promise((r) => setTimeout(r, 300));
  a.socket.resume();
  await waitFor(() => a.received().length - before >= expect.length, 'all the replies', 20000);
  assert.equal(a.received().length - before, expect.length);
  assert.ok(a.received().slice(before) === expect, 'the replies are the values in order');
});
