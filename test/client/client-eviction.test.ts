/**
 * Client eviction (maxmemory-clients, Redis 7.0): when the buffers of all
 * normal and pub/sub connections together reach the limit, the biggest
 * evictable clients are disconnected, without a reply, until the total is
 * under it again; CLIENT NO-EVICT clients (and replicas) are never evicted,
 * though their memory counts. INFO stats counts evictions in evicted_clients.
 *
 * The expectations were taken from redis-server 7.0.15 running these very
 * scenarios: set CLIENT_EVICTION_ORACLE_PORT to a real server's port to run
 * them against it instead of an in-process Mnemo.
 *
 * Buffers are filled the way Redis's own tests do it: a SET whose value bulk
 * is announced but only partly sent stays in the query buffer.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Redis } from 'ioredis';
import { startServer, type ServerHandle } from '../../src/index.js';

const ORACLE_PORT = process.env.CLIENT_EVICTION_ORACLE_PORT;
const KB = 1024;
const MB = 1024 * 1024;

let handle: ServerHandle | null = null;
let port = 0;
/** The test's control connection: NO-EVICT, as Redis's tests keep theirs. */
let ctl: Redis;
const raws: Raw[] = [];

before(async () => {
  if (ORACLE_PORT) {
    port = Number(ORACLE_PORT);
  } else {
    handle = await startServer({ port: 0 });
    port = handle.port;
  }
  ctl = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, lazyConnect: true });
  await ctl.connect();
  assert.equal(await ctl.call('CLIENT', 'NO-EVICT', 'on'), 'OK');
  await ctl.client('SETNAME', 'ctl');
});

afterEach(async () => {
  await ctl.config('SET', 'maxmemory-clients', '0');
  await ctl.config('SET', 'maxmemory', '0');
  for (const r of raws.splice(0)) r.sock.destroy();
  // Wait until the server has seen them go, so the next test starts with only ctl.
  await waitFor(async () => (await clientNames()).length === 1, 'connections of the previous test to close');
});

after(async () => {
  ctl?.disconnect();
  await handle?.close();
});

// ---- helpers ---------------------------------------------------------------------------

/** A raw connection: what it was sent back, and whether the server closed it. */
class Raw {
  data = '';
  closed = false;
  constructor(readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (this.data += d));
    sock.on('error', () => undefined); // ECONNRESET when evicted mid-write
    sock.once('close', () => (this.closed = true));
  }

  send(...args: string[]): void {
    this.sock.write(`*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join(''), 'latin1');
  }

  /** Waits for `n` bytes of replies (after `from`) and returns them. */
  async read(n: number, from = 0): Promise<string> {
    await waitFor(async () => this.data.length - from >= n || this.closed, `${n} reply bytes`);
    return this.data.slice(from, from + n);
  }
}

async function connectRaw(name: string, noEvict = false): Promise<Raw> {
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const r = new Raw(sock);
  raws.push(r);
  r.send('CLIENT', 'SETNAME', name);
  if (noEvict) r.send('CLIENT', 'NO-EVICT', 'on');
  const expected = noEvict ? '+OK\r\n+OK\r\n' : '+OK\r\n';
  assert.equal(await r.read(expected.length), expected);
  r.data = '';
  return r;
}

/**
 * Starts `SET key <value of size + 16 bytes>` and sends `size` bytes of the
 * value: the client now holds about `size` bytes of query buffer. (Redis sizes
 * its buffer for the whole announced bulk; 16 bytes short keeps both figures equal.)
 */
function startBigSet(r: Raw, key: string, size: number): void {
  r.sock.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${size + 16}\r\n` + 'v'.repeat(size), 'latin1');
}

/** Sends the rest of a startBigSet value: the SET runs. */
function finishBigSet(r: Raw): void {
  r.sock.write('v'.repeat(16) + '\r\n', 'latin1');
}

async function waitFor(cond: () => Promise<boolean> | boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits (5 s at most) until the server has closed this connection. */
async function evictedSoon(r: Raw): Promise<void> {
  await waitFor(() => r.closed, 'the server to close the connection');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CLIENT LIST as name -> fields. */
async function clientList(): Promise<Map<string, Record<string, string>>> {
  const text = (await ctl.client('LIST')) as string;
  const out = new Map<string, Record<string, string>>();
  for (const line of text.trim().split('\n')) {
    const fields: Record<string, string> = {};
    for (const kv of line.trim().split(' ')) {
      const i = kv.indexOf('=');
      fields[kv.slice(0, i)] = kv.slice(i + 1);
    }
    out.set(fields.name, fields);
  }
  return out;
}

async function clientNames(): Promise<string[]> {
  return [...(await clientList()).keys()].sort();
}

/** Waits until the named client's query buffer holds at least `bytes`. */
async function waitQueryBuffer(name: string, bytes: number): Promise<void> {
  await waitFor(async () => Number((await clientList()).get(name)?.qbuf ?? -1) >= bytes, `${name}'s query buffer to reach ${bytes}`);
}

async function evictedClients(): Promise<number> {
  const m = /evicted_clients:(\d+)/.exec((await ctl.info('stats')) as string);
  assert.ok(m, 'INFO stats has evicted_clients');
  return Number(m[1]);
}

/** Gives the server several cron ticks (hz 10) to act. */
const settle = (): Promise<void> => sleep(350);

// ---- tests -------------------------------------------------------------------------------

test('maxmemory-clients 0 (the default): a big query buffer is kept', async () => {
  assert.deepEqual(await ctl.config('GET', 'maxmemory-clients'), ['maxmemory-clients', '0']);
  const a = await connectRaw('a');
  startBigSet(a, 'k', 1536 * KB);
  await waitQueryBuffer('a', 1536 * KB);
  await settle();
  assert.equal(a.closed, false);
  finishBigSet(a);
  assert.equal(await a.read(5), '+OK\r\n');
  assert.equal(await ctl.strlen('k'), 1536 * KB + 16);
});

test('a client whose query buffer passes maxmemory-clients is disconnected without a reply', async () => {
  const before = await evictedClients();
  await ctl.config('SET', 'maxmemory-clients', '1mb');
  const a = await connectRaw('a');
  startBigSet(a, 'k', 1536 * KB);
  await evictedSoon(a);
  assert.equal(a.data, '', 'evicted clients get no reply');
  assert.equal(await evictedClients(), before + 1);
  assert.deepEqual(await clientNames(), ['ctl']);
  assert.equal(await ctl.ping(), 'PONG');
});

test('an announced big argument counts whole, as Redis sizes its query buffer for it', async () => {
  await ctl.config('SET', 'maxmemory-clients', '1mb');
  const a = await connectRaw('announced');
  // 2 MB announced, 100 KB sent: the buffer for the whole argument is already held.
  a.sock.write(`*2\r\n$4\r\nECHO\r\n$${2048 * KB}\r\n` + 'v'.repeat(100 * KB), 'latin1');
  await evictedSoon(a);
  assert.equal(a.data, '');
  await ctl.config('SET', 'maxmemory-clients', '0');
  const b = await connectRaw('announced2');
  b.sock.write(`*2\r\n$4\r\nECHO\r\n$${2048 * KB}\r\n` + 'v'.repeat(100 * KB), 'latin1');
  await waitQueryBuffer('announced2', 100 * KB);
  const fields = (await clientList()).get('announced2')!;
  assert.ok(Number(fields['qbuf-free']) >= 2048 * KB - 100 * KB, `qbuf-free ${fields['qbuf-free']}`);
  assert.ok(Number(fields['tot-mem']) >= 2048 * KB, `tot-mem ${fields['tot-mem']}`);
  b.sock.destroy();
});

test('a CLIENT NO-EVICT client with the same buffer stays, and its command then runs', async () => {
  const before = await evictedClients();
  await ctl.config('SET', 'maxmemory-clients', '1mb');
  const b = await connectRaw('b', true);
  startBigSet(b, 'k', 1536 * KB);
  await waitQueryBuffer('b', 1536 * KB);
  await settle();
  assert.equal(b.closed, false);
  assert.equal(await evictedClients(), before);
  assert.match((await clientList()).get('b')!.flags, /e/);
  finishBigSet(b);
  assert.equal(await b.read(5), '+OK\r\n');
  assert.equal(await ctl.strlen('k'), 1536 * KB + 16);
});

test('while NO-EVICT clients alone are over the limit, other clients are evicted', async () => {
  await ctl.config('SET', 'maxmemory-clients', '1mb');
  const b = await connectRaw('b', true);
  startBigSet(b, 'k', 1536 * KB);
  await waitQueryBuffer('b', 1536 * KB);
  const before = await evictedClients();
  // An idle newcomer, evictable: the total is over the limit, so it goes.
  const sock = net.connect(port, '127.0.0.1');
  const c = new Raw(sock);
  raws.push(c);
  c.send('PING');
  await evictedSoon(c);
  assert.equal(await evictedClients(), before + 1);
  assert.equal(b.closed, false);
  assert.deepEqual(await clientNames(), ['b', 'ctl']);
});

test('the biggest clients are evicted first, and only until the total is under the limit', async () => {
  await ctl.config('SET', 'maxmemory-clients', '1mb');
  const before = await evictedClients();
  const small = await connectRaw('small');
  const medium = await connectRaw('medium');
  const big = await connectRaw('big');
  startBigSet(small, 'k1', 100 * KB);
  await waitQueryBuffer('small', 100 * KB);
  startBigSet(medium, 'k2', 300 * KB);
  await waitQueryBuffer('medium', 300 * KB);
  startBigSet(big, 'k3', 700 * KB);
  await evictedSoon(big);
  await settle();
  assert.equal(small.closed, false);
  assert.equal(medium.closed, false);
  assert.equal(await evictedClients(), before + 1);
  assert.deepEqual(await clientNames(), ['ctl', 'medium', 'small']);
  finishBigSet(small);
  finishBigSet(medium);
  assert.equal(await small.read(5), '+OK\r\n');
  assert.equal(await medium.read(5), '+OK\r\n');
});

test('maxmemory-clients below 128 KB acts as 128 KB', async () => {
  await ctl.config('SET', 'maxmemory-clients', '1');
  assert.deepEqual(await ctl.config('GET', 'maxmemory-clients'), ['maxmemory-clients', '1']);
  const before = await evictedClients();
  const a = await connectRaw('a');
  startBigSet(a, 'k1', 40 * KB);
  await waitQueryBuffer('a', 40 * KB);
  await settle();
  assert.equal(a.closed, false, '40 KB of buffers stay under the 128 KB floor');
  const b = await connectRaw('b');
  startBigSet(b, 'k2', 200 * KB);
  await evictedSoon(b);
  await settle();
  assert.equal(a.closed, false);
  assert.equal(await evictedClients(), before + 1);
});

test('maxmemory-clients as a percentage of maxmemory', async () => {
  // 1% of 100 MB: about 1 MB.
  await ctl.config('SET', 'maxmemory', '100mb');
  await ctl.config('SET', 'maxmemory-clients', '1%');
  assert.deepEqual(await ctl.config('GET', 'maxmemory-clients'), ['maxmemory-clients', '1%']);
  const before = await evictedClients();
  const a = await connectRaw('a');
  startBigSet(a, 'k1', 512 * KB);
  await waitQueryBuffer('a', 512 * KB);
  await settle();
  assert.equal(a.closed, false);
  const b = await connectRaw('b');
  startBigSet(b, 'k2', 1536 * KB);
  await evictedSoon(b);
  assert.equal(await evictedClients(), before + 1);
  // Without maxmemory a percentage means no limit.
  await ctl.config('SET', 'maxmemory', '0');
  const c = await connectRaw('c');
  startBigSet(c, 'k3', 1536 * KB);
  await waitQueryBuffer('c', 1536 * KB);
  await settle();
  assert.equal(c.closed, false);
  assert.equal(await evictedClients(), before + 1);
});

test("a command read in the same round as another client's oversized input runs after that client is evicted", async () => {
  await ctl.config('SET', 'maxmemory-clients', '200kb');
  const a = await connectRaw('a');
  const b = await connectRaw('b');
  await settle();
  // Both arrive while the (in-process) server cannot run: it reads a's input first, then
  // b's command, in one round. Redis evicts before each command (processCommand), so the
  // CLIENT LIST no longer shows a.
  startBigSet(a, 'k', 300 * KB);
  b.send('CLIENT', 'LIST');
  const until = Date.now() + 100;
  while (Date.now() < until) {
    // busy: the server's event loop is this one
  }
  const list = await b.read(1);
  await waitFor(() => /\r\n$/.test(b.data) && b.data.length >= 6 && b.data.length >= Number(/^\$(\d+)/.exec(b.data)?.[1] ?? 1e9), 'the CLIENT LIST reply');
  assert.equal(list, '$');
  assert.doesNotMatch(b.data, /name=a /);
  assert.match(b.data, /name=b /);
  await evictedSoon(a);
});

test("another client's command polled before an oversized input sent ahead of it still runs after the eviction", async (t) => {
  if (handle === null) {
    t.skip('needs the in-process server (it shares the event loop)');
    return;
  }
  await ctl.config('SET', 'maxmemory-clients', '200kb');
  const a = await connectRaw('a');
  const b = await connectRaw('b');
  // A socket pair of our own, to run code right after the server has read b in the same poll.
  const relay = net.createServer();
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const near = net.connect((relay.address() as net.AddressInfo).port, '127.0.0.1');
  const far = await new Promise<net.Socket>((resolve) => relay.once('connection', resolve));
  await new Promise<void>((resolve) => (near.connecting ? near.once('connect', () => resolve()) : resolve()));
  try {
    await settle();
    far.once('data', () => {
      // The server has just read (and answered) b's PING in this poll: b's descriptor stays
      // first in the kernel's ready list, so b's next command is polled before a's input,
      // though a sent first. The server must still see a's input before running it.
      startBigSet(a, 'k', 300 * KB);
      b.send('CLIENT', 'LIST');
    });
    b.send('PING');
    near.write('x');
    const until = Date.now() + 50;
    while (Date.now() < until) {
      // busy: both become readable before the event loop polls
    }
    await waitFor(() => b.data.startsWith('+PONG\r\n$') && /\r\n$/.test(b.data) && b.data.length > 20, 'the CLIENT LIST reply');
    await waitFor(() => b.data.length >= 7 + Number(/^\+PONG\r\n\$(\d+)/.exec(b.data)![1]), 'the whole CLIENT LIST reply');
    assert.doesNotMatch(b.data, /name=a /);
    assert.match(b.data, /name=b /);
    await evictedSoon(a);
  } finally {
    near.destroy();
    far.destroy();
    relay.close();
  }
});

test('the arguments of a command still arriving count (Redis counts argv_len_sum)', async () => {
  await ctl.config('SET', 'maxmemory-clients', '200kb');
  const a = await connectRaw('a');
  // 249 of 250 arguments of 1000 bytes: parsed, so no longer unparsed input, but held.
  let req = '*250\r\n';
  for (let j = 0; j < 150; j++) req += '$1000\r\n' + 'x'.repeat(1000) + '\r\n';
  a.sock.write(req, 'latin1');
  await waitFor(async () => a.closed || Number((await clientList()).get('a')?.['argv-mem'] ?? 0) >= 150_000, 'the arguments to be read');
  if (!a.closed) {
    for (let j = 0; j < 99; j++) a.sock.write('$1000\r\n' + 'x'.repeat(1000) + '\r\n', 'latin1');
  }
  await evictedSoon(a);
});

test('many clients growing together are evicted without waiting for the cron (a running total, as Redis)', async () => {
  await ctl.config('SET', 'maxmemory-clients', '400kb');
  const clients: Raw[] = [];
  for (let i = 0; i < 8; i++) clients.push(await connectRaw(`m${i}`));
  await settle();
  // DEBUG PAUSE-CRON 1 (an oracle server needs enable-debug-command).
  const pauseCron = async (on: boolean): Promise<void> => {
    if (handle !== null) handle.server.cronPaused = on;
    else await ctl.call('DEBUG', 'PAUSE-CRON', on ? '1' : '0');
  };
  await pauseCron(true);
  try {
    // 8 x 60 KB: no client alone is near the limit; together they pass it.
    for (const r of clients) startBigSet(r, 'k', 60 * KB);
    await waitFor(() => clients.some((r) => r.closed), 'a client to be evicted with the cron paused');
  } finally {
    await pauseCron(false);
  }
});

test("WATCHed keys, subscriptions and tracking prefixes count as client memory (Redis's overheads)", async () => {
  await ctl.config('SET', 'maxmemory-clients', '200kb');
  for (const cmd of ['WATCH', 'SUBSCRIBE', 'PSUBSCRIBE']) {
    const r = await connectRaw(cmd.toLowerCase());
    // 10000 names a command: far more than 200 KB of overhead, none of it buffers.
    for (let i = 0; i < 10000 && !r.closed; i += 500) {
      r.send(cmd, ...Array.from({ length: 500 }, (_, j) => `n${i + j}`));
      await sleep(5);
    }
    await evictedSoon(r);
  }
  const t = await connectRaw('prefixes');
  for (let i = 0; i < 10000 && !t.closed; i += 500) {
    const args = ['CLIENT', 'TRACKING', 'on', 'BCAST'];
    for (let j = i; j < i + 500; j++) args.push('PREFIX', `p${String(j).padStart(8, '0')}`);
    t.send(...args);
    await sleep(5);
  }
  await evictedSoon(t);
});

test('lowering maxmemory-clients evicts the clients now over it at once', async () => {
  await ctl.config('SET', 'maxmemory-clients', '2mb');
  const a = await connectRaw('a');
  startBigSet(a, 'k', 600 * KB);
  await waitQueryBuffer('a', 600 * KB);
  await settle();
  assert.equal(a.closed, false);
  const before = await evictedClients();
  await ctl.config('SET', 'maxmemory-clients', '300kb');
  await evictedSoon(a);
  assert.equal(await evictedClients(), before + 1);
});

test('replies a client does not read count too: it is evicted when they pile up', async () => {
  await ctl.set('big', 'x'.repeat(MB));
  await ctl.config('SET', 'maxmemory-clients', '4mb');
  const before = await evictedClients();
  const r = await connectRaw('reader');
  r.sock.pause(); // read nothing: the replies stay in kernel buffers, then in the server's
  for (let i = 0; i < 60; i++) r.send('GET', 'big');
  // A paused socket does not notice the close: watch the server's client list instead.
  await waitFor(async () => !(await clientNames()).includes('reader'), 'the reader to be evicted');
  assert.equal(await evictedClients(), before + 1);
  assert.deepEqual(await clientNames(), ['ctl']);
});

test('CONFIG RESETSTAT zeroes evicted_clients', async () => {
  // The previous test's 1 MB SET left ctl (NO-EVICT) a query buffer sized for it until the cron
  // shrinks it: over a 1 MB limit, a newcomer would be evicted before its first command ran.
  await waitFor(async () => Number((await clientList()).get('ctl')!['tot-mem']) < 256 * KB, "ctl's query buffer to shrink");
  await ctl.config('SET', 'maxmemory-clients', '1mb');
  const a = await connectRaw('a');
  startBigSet(a, 'k', 1536 * KB);
  await evictedSoon(a);
  assert.ok((await evictedClients()) > 0);
  await ctl.config('RESETSTAT');
  assert.equal(await evictedClients(), 0);
});
