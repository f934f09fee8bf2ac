/**
 * Bounded fuzz: random bytes, mutated RESP frames and real commands with random
 * arguments, each on its own connection. After every frame the server must
 * still answer PING on a separate control connection.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { startServer, type ServerHandle } from '../../src/index.js';

let srv: ServerHandle;
let control: Socket;
let pending: Array<(s: string) => void> = [];

before(async () => {
  srv = await startServer({ port: 0 });
  control = connect(srv.port, srv.host);
  control.on('data', (d) => pending.shift()?.(d.toString('latin1')));
  await new Promise((r) => control.once('connect', r));
});

after(async () => {
  control.destroy();
  await srv.close();
});

function ping(): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not answer PING')), 5000);
    pending.push((s) => {
      clearTimeout(t);
      resolve(s);
    });
    control.write('*1\r\n$4\r\nPING\r\n');
  });
}

/** Sends bytes on a fresh connection, waits briefly for replies or a close. */
function sendFrame(bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(srv.port, srv.host);
    const done = () => {
      s.destroy();
      resolve();
    };
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => {
      s.write(bytes);
      setTimeout(done, 15);
    });
  });
}

function encode(argv: string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

const arg = fc.oneof(
  fc.constantFrom('0', '-1', '1', '9223372036854775807', '-9223372036854775808', '99999999999999999999', '1.5', 'inf', '-inf', 'nan', '', 'k', 'key', 'EX', 'PX', 'NX', 'XX', 'GET', 'COUNT', 'MATCH', '*', 'WITHSCORES', 'LIMIT', 'BYTE', 'BIT'),
  fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a).toString('latin1')),
);

test('server survives random bytes, mutated frames and random commands', async () => {
  const names = [...srv.server.table.commands.keys()].filter((n) => !['shutdown', 'debug', 'quit', 'client', 'reset'].includes(n));
  const frames = fc.sample(
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.array(arg, { maxLength: 5 }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([args, pos, byte]) => {
        const b = Buffer.from(encode(['SET', ...args]));
        if (b.length > 0) b[pos % b.length] = byte; // one flipped byte
        return b;
      }),
      fc.tuple(fc.constantFrom(...names), fc.array(arg, { maxLength: 6 })).map(([name, args]) => encode([name, ...args])),
    ),
    { numRuns: 400, seed: 42 },
  );
  for (const f of frames) {
    await sendFrame(f);
    assert.equal(await ping(), '+PONG\r\n');
  }
});
