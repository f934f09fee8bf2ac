/**
 * TLS client connections (tls-port and the tls-* directives), through ioredis
 * and node-redis as applications use them, with test certificates from
 * test/fixtures/tls (see its README).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { createServer as createNetServer } from 'node:net';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startServer, type ServerHandle } from '../../src/index.js';
import { connectIo } from '../helpers/server.js';
import { fixture } from '../helpers/fixtures.js';
import { setLogSink } from '../../src/persistence/log.js';

const file = (name: string) => fixture(`tls/${name}`);
const pem = (name: string) => readFileSync(file(name));
let handle: ServerHandle;
let plain: Redis;
const logged: string[] = [];

before(async () => {
  handle = await startServer({
    port: 0,
    tlsPort: 0,
    config: { 'tls-cert-file': file('server.crt'), 'tls-key-file': file('server.key'), 'tls-ca-cert-file': file('ca.crt') },
  });
  setLogSink(handle.server, (_level, line) => logged.push(line));
  plain = await connectIo(handle);
});

after(async () => {
  plain.disconnect();
  await handle.close();
});

const tlsPort = () => handle.server.tlsPort;
const withCert = { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') };

/** An ioredis client over TLS (no retries: a refused handshake fails at once). */
async function tlsClient(tls: object): Promise<Redis> {
  const io = new Redis({ host: '127.0.0.1', port: tlsPort(), tls, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  io.on('error', () => undefined);
  await io.connect();
  return io;
}

/** Whether a TLS handshake without a client certificate is accepted and a PING answered. */
function pingWithoutCert(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: tlsPort(), ca: pem('ca.crt') });
    let got = '';
    s.on('secureConnect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        s.destroy();
        resolve(got === '+PONG\r\n');
      }
    });
    s.on('error', () => resolve(false));
    s.on('close', () => resolve(got === '+PONG\r\n'));
  });
}

test('ioredis and node-redis work over TLS with a client certificate: the same replies as over TCP, big values and pipelines included', async () => {
  const io = await tlsClient(withCert);
  try {
    assert.equal(await io.ping(), 'PONG');
    const big = 'v'.repeat(3 << 20);
    assert.equal(await io.set('tls:big', big), 'OK');
    assert.equal(await plain.strlen('tls:big'), big.length);
    assert.equal(await io.get('tls:big'), big);
    const p = io.pipeline();
    for (let i = 0; i < 1000; i++) p.incr('tls:n');
    const replies = await p.exec();
    assert.deepEqual(replies!.at(-1), [null, 1000]);
    // A TLS client is an ordinary client: listed with its TLS port as laddr.
    assert.match(String(await io.call('CLIENT', 'LIST')), new RegExp(`laddr=127\\.0\\.0\\.1:${tlsPort()} `));
  } finally {
    io.disconnect();
  }
  const nr = createClient({ socket: { host: '127.0.0.1', port: tlsPort(), tls: true, ...withCert } });
  await nr.connect();
  try {
    assert.equal(await nr.get('tls:n'), '1000');
    assert.equal(await nr.hSet('tls:h', { a: '1', b: '2' }), 2);
    assert.deepEqual({ ...(await nr.hGetAll('tls:h')) }, { a: '1', b: '2' });
  } finally {
    await nr.quit();
  }
});

test('tls-auth-clients: yes (the default) refuses a client without a certificate, optional accepts it, no does not ask', async () => {
  assert.equal(await pingWithoutCert(), false);
  await assert.rejects(tlsClient({ ca: pem('ca.crt') }));
  assert.equal(await plain.config('SET', 'tls-auth-clients', 'optional'), 'OK');
  assert.equal(await pingWithoutCert(), true);
  assert.equal(await plain.config('SET', 'tls-auth-clients', 'no'), 'OK');
  assert.equal(await pingWithoutCert(), true);
  assert.equal(await plain.config('SET', 'tls-auth-clients', 'yes'), 'OK');
  assert.equal(await pingWithoutCert(), false);
});

test('CONFIG SET of an unusable tls-* setting is refused and changes nothing; tls-port moves or closes the listener', async () => {
  await assert.rejects(
    plain.config('SET', 'tls-cert-file', '/nonexistent/server.crt'),
    /^ReplyError: ERR CONFIG SET failed \(possibly related to argument 'tls-cert-file'\) - Unable to update TLS configuration\. Check server logs\.$/,
  );
  assert.deepEqual(await plain.config('GET', 'tls-cert-file'), ['tls-cert-file', file('server.crt')]);
  assert.ok(logged.some((l) => l.includes('Failed to load certificate: /nonexistent/server.crt')), logged.join('\n'));
  await assert.rejects(plain.config('SET', 'tls-protocols', 'TLSv9'), /Unable to update TLS configuration/);
  const io = await tlsClient(withCert);
  assert.equal(await io.ping(), 'PONG');
  io.disconnect();
  // Moving the TLS port: clients find it on the new one.
  const free = await new Promise<number>((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
  assert.equal(await plain.config('SET', 'tls-port', String(free)), 'OK');
  assert.equal(tlsPort(), free);
  const moved = await tlsClient(withCert);
  assert.equal(await moved.ping(), 'PONG');
  moved.disconnect();
  // Closing the TLS port: new TLS connections are refused.
  const before = tlsPort();
  assert.equal(await plain.config('SET', 'tls-port', '0'), 'OK');
  const refused = new Redis({ host: '127.0.0.1', port: before, tls: withCert, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  refused.on('error', () => undefined);
  await assert.rejects(refused.connect());
  refused.disconnect();
});

test('tls-replication: a replica follows its master over TLS with its client certificate (the master checks it, as tls-auth-clients yes says)', async () => {
  const tlsConfig = { 'tls-cert-file': file('server.crt'), 'tls-key-file': file('server.key'), 'tls-ca-cert-file': file('ca.crt') };
  const master = await startServer({ port: 0, tlsPort: 0, config: { ...tlsConfig, 'repl-diskless-sync-delay': '0' } });
  const replica = await startServer({ port: 0, config: { ...tlsConfig, 'tls-replication': 'yes' } });
  for (const h of [master, replica]) setLogSink(h.server, () => undefined);
  const [m, r] = [await connectIo(master), await connectIo(replica)];
  try {
    await m.set('before', '1');
    await r.call('REPLICAOF', '127.0.0.1', String(master.server.tlsPort));
    const linkUp = async () => /master_link_status:up/.test(await r.info('replication'));
    for (let i = 0; i < 100 && !(await linkUp()); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(await linkUp(), await r.info('replication'));
    assert.equal(await r.get('before'), '1');
    await m.set('after', '2');
    assert.equal(await m.wait(1, 5000), 1);
    assert.equal(await r.get('after'), '2');
    // The replica's connection is a TLS client of the master's tls-port.
    assert.match(String(await m.call('CLIENT', 'LIST', 'TYPE', 'replica')), new RegExp(`laddr=127\\.0\\.0\\.1:${master.server.tlsPort} `));
  } finally {
    m.disconnect();
    r.disconnect();
    await replica.close();
    await master.close();
  }
});

test('tls-replication with certificates that do not load: the replica does not fall back to a connection in clear', async () => {
  const master = await startServer({ port: 0, config: { 'repl-diskless-sync-delay': '0' } });
  const replica = await startServer({
    port: 0,
    config: { 'tls-replication': 'yes', 'tls-cert-file': '/nonexistent/client.crt', 'tls-key-file': file('client.key'), 'tls-ca-cert-file': file('ca.crt') },
  });
  const lines: string[] = [];
  setLogSink(master.server, () => undefined);
  setLogSink(replica.server, (_level, line) => lines.push(line));
  const [m, r] = [await connectIo(master), await connectIo(replica)];
  try {
    await r.call('REPLICAOF', '127.0.0.1', String(master.port));
    await new Promise((res) => setTimeout(res, 1500));
    assert.match(await r.info('replication'), /master_link_status:down/);
    assert.match(await m.info('replication'), /connected_slaves:0/);
    assert.ok(lines.some((l) => l.includes('Failed to load certificate: /nonexistent/client.crt')), lines.join('\n'));
  } finally {
    m.disconnect();
    r.disconnect();
    await replica.close();
    await master.close();
  }
});
