/**
 * The TCP listener at runtime: CONFIG SET port / bind re-listen at once (as
 * Redis 7.0), a refused address leaves the server where it was, an empty bind
 * stops TCP, and protected-mode turns away non-loopback peers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { ServerHandle } from '../../src/index.js';
import { startServer } from '../../src/index.js';
import { connectIo } from '../helpers/server.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileCleanups, MNEMO_BIN, spawnServer } from '../helpers/process.js';

const { cleanups } = fileCleanups('mnemo-listen-');

let handle: ServerHandle;

before(async () => {
  handle = await startServer({ port: 0 });
});
after(() => handle.close());

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Sends PING on a fresh connection: the reply, or the connection error's code. */
function pingAt(port: number, host = '127.0.0.1', localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host, localAddress });
    let got = '';
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (b) => {
      got += b.toString('latin1');
      if (got.endsWith('\r\n')) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

test('CONFIG SET port moves the listener; a busy port is refused and nothing moves', async () => {
  const io = await connectIo(handle, { port: handle.server.port });
  try {
    const oldPort = handle.server.port;
    const port = await freePort();
    assert.equal(await io.config('SET', 'port', String(port)), 'OK');
    assert.equal(await pingAt(port), '+PONG\r\n');
    assert.equal(await pingAt(oldPort), 'ECONNREFUSED');
    // The existing connection stays.
    assert.equal(await io.ping(), 'PONG');
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as net.AddressInfo).port;
    await assert.rejects(
      io.config('SET', 'port', String(busyPort)),
      /^ReplyError: ERR CONFIG SET failed \(possibly related to argument 'port'\) - Unable to listen on this port\. Check server logs\.$/,
    );
    busy.close();
    assert.deepEqual(await io.config('GET', 'port'), ['port', String(port)]);
    assert.equal(await pingAt(port), '+PONG\r\n');
  } finally {
    io.disconnect();
  }
});

test('a refused port rolls back every directive of the same CONFIG SET, as Redis', async () => {
  const io = await connectIo(handle, { port: handle.server.port });
  const busy = net.createServer();
  try {
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const before = await io.config('GET', 'maxmemory');
    await assert.rejects(
      io.config('SET', 'maxmemory', '10000001', 'port', String(busyPort), 'client-query-buffer-limit', '10m', 'lazyfree-lazy-eviction', 'yes'),
      /Unable to listen on this port/,
    );
    assert.deepEqual(await io.config('GET', 'maxmemory'), before);
    assert.deepEqual(await io.config('GET', 'client-query-buffer-limit'), ['client-query-buffer-limit', '1073741824']);
    assert.deepEqual(await io.config('GET', 'lazyfree-lazy-eviction'), ['lazyfree-lazy-eviction', 'no']);
    assert.equal(await io.ping(), 'PONG');
  } finally {
    busy.close();
    io.disconnect();
  }
});

test('CONFIG SET bind: a bad address is refused, "" stops TCP, a good one listens again', async () => {
  const io = await connectIo(handle, { port: handle.server.port });
  try {
    const port = handle.server.port;
    await assert.rejects(io.config('SET', 'bind', '999.999.999.999'), /Failed to bind to specified addresses\./);
    assert.equal(await pingAt(port), '+PONG\r\n');
    assert.equal(await io.config('SET', 'bind', ''), 'OK');
    assert.equal(await pingAt(port), 'ECONNREFUSED');
    assert.equal(await io.config('SET', 'bind', '127.0.0.1'), 'OK');
    assert.equal(await pingAt(port), '+PONG\r\n');
  } finally {
    io.disconnect();
  }
});

test('protected-mode denies non-loopback peers while the default user has no password', async () => {
  // Redis admits exactly 127.0.0.1 and ::1: a peer at 127.0.0.2 is another host for it,
  // and every Linux host can connect from there.
  const srv = await startServer({ port: 0, host: '0.0.0.0' });
  try {
    assert.match(await pingAt(srv.port, '127.0.0.1', '127.0.0.2'), /^-DENIED Redis is running in protected mode because protected mode is enabled/);
    assert.equal(await pingAt(srv.port, '127.0.0.1'), '+PONG\r\n');
    srv.server.config.configSet([['protected-mode', 'no']]);
    assert.equal(await pingAt(srv.port, '127.0.0.1', '127.0.0.2'), '+PONG\r\n');
  } finally {
    await srv.close();
  }
});

test('mnemo-server without bind listens on every interface, IPv6 and IPv4, as Redis\'s "* -::*"', async () => {
  const port = await freePort();
  // spawnServer's cleanup stops it after the file's tests.
  await spawnServer('mnemo', ['--port', String(port), '--save', ''], cleanups);
  assert.equal(await pingAt(port, '127.0.0.1'), '+PONG\r\n');
  assert.equal(await pingAt(port, '::1'), '+PONG\r\n');
  assert.match(await pingAt(port, '127.0.0.1', '127.0.0.2'), /^-DENIED /);
});

test("mnemo-server on a busy port logs Redis's two lines (stdout, where Redis's test suite looks to retry) and exits 1", async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const child = spawn(process.execPath, [MNEMO_BIN, '--port', String(port), '--bind', '127.0.0.1', '--save', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 1);
    assert.match(out, new RegExp(`# Warning: Could not create server TCP listening socket 127\\.0\\.0\\.1:${port}: bind: Address already in use\\n`));
    assert.match(out, new RegExp(`# Failed listening on port ${port} \\(TCP\\), aborting\\.\\n`));
  } finally {
    busy.close();
  }
});

test('mnemo-server in cluster mode whose bus port is busy logs Redis\'s two lines and exits 1, as clusterInit', async () => {
  // A busy port B with B - 10000 free: the server's port, whose bus port (port + 10000) is B.
  let busy: net.Server | null = null;
  let port = 0;
  for (let i = 0; i < 50 && port === 0; i++) {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const b = (s.address() as net.AddressInfo).port;
    const free = b > 11024 && (await new Promise<boolean>((r) => {
      const t = net.createServer().once('error', () => r(false)).listen(b - 10000, '127.0.0.1', () => t.close(() => r(true)));
    }));
    if (free) {
      busy = s;
      port = b - 10000;
    } else s.close();
  }
  assert.ok(busy !== null, 'no port pair found');
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-busport-'));
  try {
    const child = spawn(process.execPath, [MNEMO_BIN, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--cluster-enabled', 'yes'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // A server that carries on without its bus is stopped, and fails the exit-code check.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    clearTimeout(timer);
    assert.equal(code, 1);
    assert.match(out, new RegExp(`# Warning: Could not create server TCP listening socket 127\\.0\\.0\\.1:${port + 10000}: bind: Address already in use\\n`));
    assert.match(out, new RegExp(`# Failed listening on port ${port + 10000} \\(cluster\\), aborting\\.\\n`));
    assert.doesNotMatch(out, /PID: |Running mode=/);
  } finally {
    busy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
