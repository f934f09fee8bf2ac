/**
 * Client-side caching against an in-process Mnemo: the exact invalidation
 * frames on raw RESP2/RESP3 connections, REDIRECT (RESP2 `message` on
 * __redis__:invalidate, RESP3 push, broken redirect), BCAST, INFO and CLIENT
 * LIST fields, expiry, and the tracking APIs of node-redis v4 and ioredis.
 *
 * node-redis v4 has no client-side cache of its own (that came in v5); it has
 * the CLIENT TRACKING commands and hands `__redis__:invalidate` messages to
 * the subscriber as arrays of keys, which is what is used here. The expected
 * bytes were checked against redis-server 7.0.15 (redirect scenarios cannot be
 * differential cases: they need the target's client id, which differs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startServer, type ServerHandle } from '../../src/index.js';
import { existingTracking } from '../../src/server/tracking.js';
import { connectIo, startTestServer } from '../helpers/server.js';

let handle: ServerHandle;

before(async () => {
  handle = await startServer({ port: 0, config: { 'enable-debug-command': 'yes' } });
});

after(async () => {
  await handle.close();
});

/** Resolves once `cond` holds, polling; fails after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const push = (...keys: string[]) => `>2\r\n$10\r\ninvalidate\r\n*${keys.length}\r\n${keys.map((k) => `$${k.length}\r\n${k}\r\n`).join('')}`;
const message = (payload: string) => `*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n${payload}`;
const keysValue = (...keys: string[]) => `*${keys.length}\r\n${keys.map((k) => `$${k.length}\r\n${k}\r\n`).join('')}`;

/** A raw connection that checks the exact bytes the server sends. */
class Raw {
  private text = '';
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => (this.text += d.toString('latin1')));
  }

  static async open(resp: 2 | 3 = 2): Promise<Raw> {
    const sock = net.connect(handle.port, handle.host);
    await once(sock, 'connect');
    const r = new Raw(sock);
    if (resp === 3) {
      r.send('HELLO', '3');
      await r.skipThrough('modules\r\n*0\r\n');
    }
    return r;
  }

  send(...args: string[]): void {
    let s = `*${args.length}\r\n`;
    for (const a of args) s += `$${a.length}\r\n${a}\r\n`;
    this.sock.write(Buffer.from(s, 'latin1'));
  }

  async expect(reply: string): Promise<void> {
    await until(() => this.text.length >= reply.length, 3000, `reply ${JSON.stringify(reply)} (have ${JSON.stringify(this.text)})`);
    assert.equal(this.text.slice(0, reply.length), reply);
    this.text = this.text.slice(reply.length);
  }

  async call(args: string[], reply: string): Promise<void> {
    this.send(...args);
    await this.expect(reply);
  }

  /** One line-terminated reply, whatever it is. */
  async line(): Promise<string> {
    await until(() => this.text.includes('\r\n'), 3000, 'a reply line');
    const i = this.text.indexOf('\r\n');
    const l = this.text.slice(0, i);
    this.text = this.text.slice(i + 2);
    return l;
  }

  async id(): Promise<number> {
    this.send('CLIENT', 'ID');
    const l = await this.line();
    assert.match(l, /^:\d+$/);
    return Number(l.slice(1));
  }

  /** CLIENT INFO's text (bulk in RESP2, verbatim in RESP3). */
  async info(): Promise<string> {
    this.send('CLIENT', 'INFO');
    await this.line();
    const l = await this.line();
    return l.startsWith('txt:') ? l.slice(4) : l;
  }

  async skipThrough(marker: string): Promise<void> {
    await until(() => this.text.includes(marker), 3000, `${JSON.stringify(marker)} (have ${JSON.stringify(this.text)})`);
    this.text = this.text.slice(this.text.indexOf(marker) + marker.length);
  }

  /** Nothing more arrived: PING's reply comes first. */
  async nothingPending(): Promise<void> {
    await sleep(20);
    await this.call(['PING'], '+PONG\r\n');
  }

  /** For a connection in RESP2 subscribed mode, where PING would answer differently. */
  async silentFor(ms: number): Promise<void> {
    await sleep(ms);
    assert.equal(this.text, '');
  }

  async close(): Promise<void> {
    if (this.sock.destroyed) return;
    const closed = once(this.sock, 'close');
    this.sock.destroy();
    await closed;
  }
}

/** Closes the connections after the test body, even when it fails. */
async function withConns(body: (open: (resp?: 2 | 3) => Promise<Raw>) => Promise<void>): Promise<void> {
  const opened: Raw[] = [];
  try {
    await body(async (resp = 2) => {
      const r = await Raw.open(resp);
      opened.push(r);
      return r;
    });
  } finally {
    for (const r of opened) await r.close();
  }
}

async function infoField(name: string): Promise<number> {
  const r = await Raw.open();
  try {
    r.send('INFO', 'everything');
    await r.line();
    await r.skipThrough(`${name}:`);
    return Number(await r.line());
  } finally {
    await r.close();
  }
}

describe('RESP3 tracking client', () => {
  test('another client’s write sends one invalidation; own writes push after the reply', async () => {
    await withConns(async (open) => {
      const t = await open(3);
      const w = await open();
      await t.call(['CLIENT', 'TRACKING', 'on'], '+OK\r\n');
      await t.call(['GET', 'rk'], '_\r\n');
      await t.call(['MGET', 'rk2', 'rk3'], '*2\r\n_\r\n_\r\n');
      await w.call(['MSET', 'rk', '1', 'rk3', '1'], '+OK\r\n');
      await t.expect(push('rk') + push('rk3'));
      // One-shot: forgotten until read again.
      await w.call(['SET', 'rk', '2'], '+OK\r\n');
      await t.nothingPending();
      await t.call(['GET', 'rk'], '$1\r\n2\r\n');
      await t.call(['INCR', 'rk'], ':3\r\n' + push('rk'));
      // Inside EXEC every invalidation waits for the whole reply.
      await t.call(['GET', 'rk'], '$1\r\n3\r\n');
      t.send('MULTI');
      t.send('SET', 'rk', 'a');
      t.send('GET', 'rk');
      t.send('DEL', 'rk');
      await t.call(['EXEC'], '+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n$1\r\na\r\n:1\r\n' + push('rk') + push('rk'));
    });
  });

  test('expiry invalidates, driven by the server clock', async () => {
    await withConns(async (open) => {
      const t = await open(3);
      const w = await open();
      handle.clock.freeze();
      try {
        await w.call(['SET', 'ek', 'v', 'PX', '100'], '+OK\r\n');
        await t.call(['CLIENT', 'TRACKING', 'on'], '+OK\r\n');
        await t.call(['GET', 'ek'], '$1\r\nv\r\n');
        handle.clock.advance(200);
        handle.server.activeExpireCycle();
        await t.expect(push('ek'));
        // Lazy expiry in the tracking client's own read: the push follows the reply.
        await w.call(['SET', 'ek', 'v', 'PX', '100'], '+OK\r\n');
        await t.call(['GET', 'ek'], '$1\r\nv\r\n');
        handle.clock.advance(200);
        await t.call(['GET', 'ek'], '_\r\n' + push('ek'));
      } finally {
        handle.clock.resume();
      }
    });
  });

  test('FLUSHALL sends one null invalidation to every tracking client and forgets all keys', async () => {
    await withConns(async (open) => {
      const t = await open(3);
      const b = await open(3);
      const w = await open();
      await t.call(['CLIENT', 'TRACKING', 'on'], '+OK\r\n');
      await b.call(['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'zz'], '+OK\r\n');
      await t.call(['GET', 'fk'], '_\r\n');
      await w.call(['FLUSHALL'], '+OK\r\n');
      await t.expect('>2\r\n$10\r\ninvalidate\r\n_\r\n');
      await b.expect('>2\r\n$10\r\ninvalidate\r\n_\r\n');
      await w.call(['SET', 'fk', '1'], '+OK\r\n');
      await t.nothingPending();
      await b.nothingPending();
      await t.call(['FLUSHDB'], '+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n');
      await b.expect('>2\r\n$10\r\ninvalidate\r\n_\r\n');
    });
  });
});

describe('REDIRECT', () => {
  test('to a RESP2 subscriber: `message` frames on __redis__:invalidate, keys as an array', async () => {
    await withConns(async (open) => {
      const sub = await open();
      const subId = await sub.id();
      await sub.call(['SUBSCRIBE', '__redis__:invalidate'], '*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n');
      const t = await open();
      const w = await open();
      await t.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', String(subId)], '+OK\r\n');
      await t.call(['CLIENT', 'GETREDIR'], `:${subId}\r\n`);
      const info = await t.info();
      assert.match(info, / flags=t /);
      assert.match(info, new RegExp(` redir=${subId} `));
      await t.call(['MGET', 'x1', 'x2'], '*2\r\n$-1\r\n$-1\r\n');
      await w.call(['MSET', 'x2', '1', 'x1', '1'], '+OK\r\n');
      await sub.expect(message(keysValue('x2')) + message(keysValue('x1')));
      await t.nothingPending();
      // The null is the tracking client's own protocol's null, as in Redis.
      await t.call(['FLUSHALL'], '+OK\r\n');
      await sub.expect(message('$-1\r\n'));
      t.send('HELLO', '3');
      await t.skipThrough('modules\r\n*0\r\n');
      await w.call(['FLUSHALL'], '+OK\r\n');
      await sub.expect(message('_\r\n'));
      await t.nothingPending();
      // Any subscription makes a RESP2 client a receiver, not only this channel.
      await sub.call(['UNSUBSCRIBE'], '*3\r\n$11\r\nunsubscribe\r\n$20\r\n__redis__:invalidate\r\n:0\r\n');
      await sub.call(['PSUBSCRIBE', 'other*'], '*3\r\n$10\r\npsubscribe\r\n$6\r\nother*\r\n:1\r\n');
      await t.call(['GET', 'x1'], '_\r\n');
      await w.call(['SET', 'x1', '2'], '+OK\r\n');
      await sub.expect(message(keysValue('x1')));
    });
  });

  test('to a RESP3 client: a push; to a RESP2 client without subscriptions: lost', async () => {
    await withConns(async (open) => {
      const r3 = await open(3);
      const r2 = await open();
      const t = await open(3);
      const w = await open();
      await t.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', String(await r3.id())], '+OK\r\n');
      await t.call(['GET', 'y1'], '_\r\n');
      await w.call(['SET', 'y1', '1'], '+OK\r\n');
      await r3.expect(push('y1'));
      await t.nothingPending();
      await t.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', String(await r2.id())], '+OK\r\n');
      await t.call(['GET', 'y1'], '$1\r\n1\r\n');
      await w.call(['SET', 'y1', '2'], '+OK\r\n');
      await r2.nothingPending();
      await t.nothingPending();
      await r3.nothingPending();
      // Redirecting to itself is allowed.
      await t.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', String(await t.id())], '+OK\r\n');
      await t.call(['GET', 'y1'], '$1\r\n2\r\n');
      await w.call(['SET', 'y1', '3'], '+OK\r\n');
      await t.expect(push('y1'));
      const id = String(await r2.id());
      await t.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', id, 'REDIRECT', id], '-ERR A client can only redirect to a single other client\r\n');
    });
  });

  test('BCAST to a RESP2 subscriber: one message per prefix with the sorted keys', async () => {
    await withConns(async (open) => {
      const sub = await open();
      const subId = await sub.id();
      await sub.call(['SUBSCRIBE', '__redis__:invalidate'], '*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n');
      const t = await open();
      const w = await open();
      await t.call(['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'u:', 'PREFIX', 'v:', 'REDIRECT', String(subId)], '+OK\r\n');
      assert.match(await t.info(), / flags=tB /);
      await w.call(['MSET', 'v:1', '1', 'u:b', '1', 'u:a', '1', 'w', '1', 'u:b', '2'], '+OK\r\n');
      await sub.expect(message(keysValue('u:a', 'u:b')) + message(keysValue('v:1')));
      await sub.silentFor(20);
    });
  });

  test('a redirect target that left: tracking-redir-broken each time, flags and TRACKINGINFO', async () => {
    await withConns(async (open) => {
      const target = await Raw.open();
      const targetId = await target.id();
      const t = await open(3);
      const t2 = await open();
      const w = await open();
      await t.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', String(targetId)], '+OK\r\n');
      await t2.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', String(targetId)], '+OK\r\n');
      await t.call(['GET', 'bk'], '_\r\n');
      await t2.call(['GET', 'bk'], '$-1\r\n');
      await target.close();
      await until(() => !handle.server.clients.has(targetId), 3000, 'target gone');
      const broken = `>2\r\n$21\r\ntracking-redir-broken\r\n:${targetId}\r\n`;
      await w.call(['SET', 'bk', '1'], '+OK\r\n');
      await t.expect(broken);
      await t.call(['GET', 'bk'], '$1\r\n1\r\n');
      await t.call(['SET', 'bk', '2'], '+OK\r\n' + broken);
      await t.call(['CLIENT', 'GETREDIR'], `:${targetId}\r\n`);
      await t.call(
        ['CLIENT', 'TRACKINGINFO'],
        `%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:${targetId}\r\n$8\r\nprefixes\r\n*0\r\n`,
      );
      const info = await t.info();
      assert.match(info, / flags=tR /);
      assert.match(info, new RegExp(` redir=${targetId} `));
      // A RESP2 client is marked too, without a push.
      await t2.call(
        ['CLIENT', 'TRACKINGINFO'],
        `*6\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:${targetId}\r\n$8\r\nprefixes\r\n*0\r\n`,
      );
      // Enabling again without REDIRECT clears it.
      await t.call(['CLIENT', 'TRACKING', 'on'], '+OK\r\n');
      await t.call(['CLIENT', 'GETREDIR'], ':0\r\n');
      assert.match(await t.info(), / flags=t .* redir=0 /);
      await t.call(['CLIENT', 'TRACKING', 'off'], '+OK\r\n');
      assert.match(await t.info(), / flags=N .* redir=-1 /);
    });
  });
});

describe('INFO', () => {
  test('tracking_clients, tracking_total_keys/items/prefixes; keys outlive their reader', async () => {
    await withConns(async (open) => {
      const w = await open();
      await w.call(['FLUSHALL'], '+OK\r\n');
      const clients0 = await infoField('tracking_clients');
      const prefixes0 = await infoField('tracking_total_prefixes');
      const a = await open(3);
      const b = await open(3);
      await a.call(['CLIENT', 'TRACKING', 'on'], '+OK\r\n');
      await b.call(['CLIENT', 'TRACKING', 'on'], '+OK\r\n');
      await a.call(['MGET', 'i1', 'i2'], '*2\r\n_\r\n_\r\n');
      await b.call(['GET', 'i1'], '_\r\n');
      assert.equal(await infoField('tracking_clients'), clients0 + 2);
      assert.equal(await infoField('tracking_total_keys'), 2);
      assert.equal(await infoField('tracking_total_items'), 3);
      const c = await open(3);
      await c.call(['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'p1', 'PREFIX', 'p2'], '+OK\r\n');
      await b.call(['CLIENT', 'TRACKING', 'off'], '+OK\r\n');
      assert.equal(await infoField('tracking_total_prefixes'), prefixes0 + 2);
      assert.equal(await infoField('tracking_clients'), clients0 + 2);
      await c.close();
      await a.close();
      await until(async () => (await infoField('tracking_clients')) === clients0, 3000, 'clients gone');
      assert.equal(await infoField('tracking_total_prefixes'), prefixes0);
      // As in Redis, what they read stays until the key changes (or a flush).
      assert.equal(await infoField('tracking_total_keys'), 2);
      await w.call(['SET', 'i1', 'x'], '+OK\r\n');
      assert.equal(await infoField('tracking_total_keys'), 1);
      assert.equal(await infoField('tracking_total_items'), 1);
      await w.call(['FLUSHDB'], '+OK\r\n');
      assert.equal(await infoField('tracking_total_keys'), 0);
    });
  });
});

test('while nobody tracks, reads remember nothing and writes send nothing', async () => {
  const h = await startServer({ port: 0 });
  const r = new Redis({ port: h.port, host: h.host, lazyConnect: true, maxRetriesPerRequest: 0 });
  const info = async (field: string): Promise<number> => {
    const text = (await r.info('clients')) + (await r.info('stats'));
    return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(text)?.[1]);
  };
  try {
    await r.connect();
    // Tracking is installed with the server; its hooks cost a counter check until someone tracks.
    assert.notEqual(existingTracking(h.server), undefined);
    const hooks = h.server.modifiedHooks.length;
    await r.set('a', '1');
    await r.get('a');
    assert.equal(await info('tracking_clients'), 0);
    assert.equal(await info('tracking_total_keys'), 0);
    assert.equal(await r.call('CLIENT', 'TRACKING', 'on'), 'OK');
    await r.get('a');
    assert.equal(await info('tracking_clients'), 1);
    assert.equal(await info('tracking_total_keys'), 1);
    assert.equal(h.server.modifiedHooks.length, hooks, 'turning tracking on adds no hook');
  } finally {
    r.disconnect();
    await h.close();
  }
});

describe('node-redis v4', () => {
  test('CLIENT TRACKING with REDIRECT to a subscriber; TRACKINGINFO, GETREDIR, OPTIN + CACHING', async () => {
    const client = createClient({ socket: { port: handle.port, host: handle.host } });
    const writer = client.duplicate();
    const sub = client.duplicate();
    await Promise.all([client.connect(), writer.connect(), sub.connect()]);
    try {
      const subId = await sub.clientId();
      const got: Array<string[] | null> = [];
      await sub.subscribe('__redis__:invalidate', (msg: unknown) => got.push(msg as string[] | null));
      assert.equal(await client.clientTracking(true, { REDIRECT: subId }), 'OK');
      assert.equal(await client.clientGetRedir(), subId);
      const info = await client.clientTrackingInfo();
      assert.deepEqual([...info.flags], ['on']);
      assert.equal(info.redirect, subId);
      assert.deepEqual(info.prefixes, []);

      await client.get('nr:1');
      await client.hGetAll('nr:h');
      await writer.set('nr:1', 'a');
      await writer.hSet('nr:h', 'f', 'v');
      await until(() => got.length === 2, 3000, 'two invalidations');
      assert.deepEqual(got, [['nr:1'], ['nr:h']]);
      await writer.flushAll();
      await until(() => got.length === 3, 3000, 'the flush');
      assert.equal(got[2], null);

      // OPTIN: only reads right after CLIENT CACHING yes are tracked.
      assert.equal(await client.clientTracking(true, { REDIRECT: subId, OPTIN: true }), 'OK');
      await client.get('nr:2');
      await client.clientCaching(true);
      await client.get('nr:3');
      assert.deepEqual([...(await client.clientTrackingInfo()).flags], ['on', 'optin']);
      await writer.mSet(['nr:2', '1', 'nr:3', '1']);
      await until(() => got.length === 4, 3000, 'one invalidation');
      assert.deepEqual(got[3], ['nr:3']);
      await assert.rejects(client.clientCaching(false), /CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode/);

      assert.equal(await client.clientTracking(false), 'OK');
      assert.equal(await client.clientGetRedir(), -1);
      await client.get('nr:4');
      await writer.set('nr:4', '1');
      await sleep(30);
      assert.equal(got.length, 4);
    } finally {
      await Promise.all([client.quit(), writer.quit(), sub.quit()]);
    }
  });

  test('BCAST with prefixes through node-redis', async () => {
    const client = createClient({ socket: { port: handle.port, host: handle.host } });
    const sub = client.duplicate();
    await Promise.all([client.connect(), sub.connect()]);
    try {
      const subId = await sub.clientId();
      const got: Array<string[] | null> = [];
      await sub.subscribe('__redis__:invalidate', (msg: unknown) => got.push(msg as string[] | null));
      await client.clientTracking(true, { REDIRECT: subId, BCAST: true, PREFIX: ['nb:x', 'nb:y'] });
      const info = await client.clientTrackingInfo();
      assert.deepEqual([...info.flags], ['on', 'bcast']);
      assert.deepEqual(info.prefixes, ['nb:x', 'nb:y']);
      await client.mSet(['nb:y1', '1', 'nb:x2', '1', 'nb:z', '1', 'nb:x1', '1']);
      await until(() => got.length === 2, 3000, 'two prefixes');
      assert.deepEqual(got, [['nb:x1', 'nb:x2'], ['nb:y1']]);
      await assert.rejects(
        client.clientTracking(true, { REDIRECT: subId, BCAST: true, PREFIX: 'nb:' }),
        /Prefix 'nb:' overlaps with an existing prefix 'nb:x'/,
      );
    } finally {
      await Promise.all([client.quit(), sub.quit()]);
    }
  });
});

describe('ioredis (RESP2)', () => {
  test('tracking redirected to a subscriber connection; NOLOOP keeps own writes quiet', async () => {
    const client = new Redis({ port: handle.port, host: handle.host, lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    const writer = client.duplicate();
    const sub = client.duplicate();
    try {
      const subId = Number(await sub.call('CLIENT', 'ID'));
      const got: Array<string[] | null> = [];
      sub.on('messageBuffer', (channel: Buffer, payload: Buffer[] | null) => {
        if (channel.toString() === '__redis__:invalidate') got.push(payload === null ? null : payload.map((b) => b.toString()));
      });
      await sub.subscribe('__redis__:invalidate');
      assert.equal(await client.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(subId), 'NOLOOP'), 'OK');
      await client.get('io:1');
      await client.get('io:2');
      await client.set('io:1', 'mine');
      await writer.set('io:2', 'theirs');
      await until(() => got.length === 1, 3000, 'one invalidation');
      await sleep(20);
      assert.deepEqual(got, [['io:2']]);
      await client.flushdb();
      await until(() => got.length === 2, 3000, 'the flush');
      assert.equal(got[1], null);
      assert.deepEqual(await client.call('CLIENT', 'TRACKINGINFO'), ['flags', ['on', 'noloop'], 'redirect', subId, 'prefixes', []]);
      const list = (await client.call('CLIENT', 'LIST')) as string;
      assert.match(list, new RegExp(`flags=t .* redir=${subId} `));
    } finally {
      client.disconnect();
      writer.disconnect();
      sub.disconnect();
    }
  });
});

test('tracking-table-max-keys is enforced before each command, even one queued in MULTI (#11715)', async () => {
  const rd = await Raw.open(3);
  const r = await Raw.open(2);
  try {
    // With the cron paused, only the check before a command trims the table.
    await r.call(['DEBUG', 'PAUSE-CRON', '1'], '+OK\r\n');
    await rd.call(['CLIENT', 'TRACKING', 'on'], '+OK\r\n');
    await rd.call(['MGET', '1{tag}', '2{tag}'], '*2\r\n_\r\n_\r\n');
    await rd.call(['MULTI'], '+OK\r\n');
    await r.call(['CONFIG', 'SET', 'tracking-table-max-keys', '1'], '+OK\r\n');
    rd.send('PING');
    rd.send('EXEC');
    const first = await rd.line();
    assert.equal(first, '>2');
    await rd.expect('$10\r\ninvalidate\r\n*1\r\n$');
    const len = await rd.line();
    const key = await rd.line();
    assert.equal(len, String(key.length));
    assert.ok(['1{tag}', '2{tag}'].includes(key), key);
    await rd.expect('+QUEUED\r\n*1\r\n+PONG\r\n');
  } finally {
    await r.call(['CONFIG', 'SET', 'tracking-table-max-keys', '0'], '+OK\r\n');
    await r.call(['DEBUG', 'PAUSE-CRON', '0'], '+OK\r\n');
    await rd.close();
    await r.close();
  }
});

test('tracking-table-max-keys: keys over the limit are dropped from the table and their readers told', async () => {
  const srv = await startTestServer();
  const a = await connectIo(srv);
  const inv: string[][] = [];
  const r = await connectIo(srv);
  try {
    const id = (await r.client('ID')) as number;
    await r.subscribe('__redis__:invalidate');
    r.on('message', (_ch: string, msg: string | string[]) => inv.push(Array.isArray(msg) ? msg : [msg]));
    await a.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), 'NOLOOP');
    await a.mset('mk1', '1', 'mk2', '2');
    await a.mget('mk1', 'mk2');
    await a.config('SET', 'tracking-table-max-keys', '1');
    const deadline = Date.now() + 3000;
    while (inv.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    assert.equal(inv.length, 1);
    assert.ok(['mk1', 'mk2'].includes(inv[0][0]), JSON.stringify(inv));
  } finally {
    a.disconnect();
    r.disconnect();
    await srv.close();
  }
});
