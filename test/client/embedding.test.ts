/** The embedding API and the mnemo-server binary, as a user meets them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startServer } from '../../src/index.js';

const BIN = fileURLToPath(new URL('../../src/bin/mnemo-server.js', import.meta.url));

test('startServer: ephemeral port, frozen clock moves TTLs without sleeping', async () => {
  const srv = await startServer({ port: 0 });
  const redis = new Redis(srv.port, srv.host, { lazyConnect: true });
  try {
    await redis.connect();
    srv.clock.freeze();
    await redis.set('session:abc', 'data', 'EX', 3600);
    srv.clock.advance(3599_000);
    assert.equal(await redis.get('session:abc'), 'data');
    assert.equal(await redis.ttl('session:abc'), 1);
    srv.clock.advance(1000);
    assert.equal(await redis.get('session:abc'), null);
    srv.clock.resume();
    assert.ok(Math.abs(srv.clock.now() - Date.now()) > 3500_000, 'resume keeps the advanced time');
  } finally {
    redis.disconnect();
    await srv.close();
  }
});

test('startServer: config record and requirepass', async () => {
  const srv = await startServer({ port: 0, config: { requirepass: 'pw', databases: '4' } });
  const client = createClient({ socket: { port: srv.port, host: srv.host }, password: 'pw' });
  try {
    await client.connect();
    assert.equal(await client.ping(), 'PONG');
    await assert.rejects(client.select(4), /DB index is out of range/);
    const anon = new Redis(srv.port, srv.host, { lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null });
    try {
      await anon.connect();
      await assert.rejects(anon.get('x'), /NOAUTH Authentication required/);
    } finally {
      anon.disconnect();
    }
  } finally {
    await client.quit();
    await srv.close();
  }
});

function runBin(args: string[], untilBanner: boolean): Promise<{ code: number | null; out: string; err: string; kill: () => void }> {
  return new Promise((resolve) => {
    // A scratch working directory: the binary saves dump.rdb there on SIGTERM, as redis-server does.
    const cwd = mkdtempSync(join(tmpdir(), 'mnemo-bin-'));
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    p.on('exit', () => rmSync(cwd, { recursive: true, force: true }));
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (untilBanner && out.includes('Ready to accept connections')) resolve({ code: null, out, err, kill: () => p.kill() });
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => resolve({ code, out, err, kill: () => {} }));
  });
}

test('mnemo-server --port 0 prints its port, pid and answers redis clients', async () => {
  const r = await runBin(['--port', '0', '--databases', '2'], true);
  try {
    const port = Number(/port=(\d+)/.exec(r.out)?.[1]);
    assert.ok(port > 0, r.out);
    assert.match(r.out, /pid=\d+/);
    const redis = new Redis(port, '127.0.0.1');
    assert.equal(await redis.ping(), 'PONG');
    await assert.rejects(redis.select(2), /DB index is out of range/);
    redis.disconnect();
  } finally {
    r.kill();
  }
});

test('mnemo-server loads a redis.conf and rejects unknown directives naming the line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-conf-'));
  try {
    const good = join(dir, 'good.conf');
    writeFileSync(good, '# a comment\nport 0\nhash-max-listpack-entries 64\nsave ""\n');
    const ok = await runBin([good], true);
    try {
      assert.match(ok.out, /Configuration loaded/);
      const redis = new Redis(Number(/port=(\d+)/.exec(ok.out)?.[1]), '127.0.0.1');
      assert.deepEqual(await redis.config('GET', 'hash-max-listpack-entries'), ['hash-max-listpack-entries', '64']);
      redis.disconnect();
    } finally {
      ok.kill();
    }
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'port 0\nno-such-directive yes\n');
    const res = await runBin([bad], false);
    assert.notEqual(res.code, 0);
    assert.match(res.err, /line 2/);
    assert.match(res.err, /no-such-directive/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mnemo-server writes pidfile at start-up and removes it when SIGTERM stops it, as redis-server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-pid-'));
  try {
    const pidfile = join(dir, 'mnemo.pid');
    const r = await runBin(['--port', '0', '--save', '', '--pidfile', pidfile], true);
    const pid = Number(/pid=(\d+)/.exec(r.out)?.[1]);
    assert.equal(readFileSync(pidfile, 'latin1'), `${pid}\n`);
    r.kill(); // SIGTERM
    const deadline = Date.now() + 5000;
    while (existsSync(pidfile) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    assert.equal(existsSync(pidfile), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
