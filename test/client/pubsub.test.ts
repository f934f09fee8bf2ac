/**
 * Client tests of Pub/Sub with ioredis and node-redis v4 against an
 * in-process Mnemo: the usual publisher/subscriber code, introspection
 * (PUBSUB, CLIENT LIST, INFO), and the output buffer limit that disconnects
 * a subscriber which stops reading while others keep receiving.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, connectNodeRedis, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let handle: ServerHandle;
let pub: Redis;

before(async () => {
  handle = await startTestServer();
  pub = await connectIo(handle);
});

after(() => closeAll(handle, pub));

beforeEach(async () => {
  handle.clock.resume();
  await pub.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
});

/** Subscribers of a channel as PUBSUB NUMSUB reports them. */
async function numsub(channel: string): Promise<number> {
  const r = (await pub.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
  return r[1];
}

/** A raw connection: sends inline commands and checks the exact reply bytes. */
async function rawConnection(): Promise<{
  send(bytes: string): void;
  exchange(send: string, reply: string): Promise<void>;
  expect(reply: string): Promise<void>;
  skipThrough(marker: string): Promise<void>;
  close(): void;
}> {
  const sock = net.connect(handle.port, handle.host);
  await once(sock, 'connect');
  let text = '';
  sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const expect = async (reply: string): Promise<void> => {
    await waitFor(() => text.length >= reply.length, `reply ${JSON.stringify(reply)} (have ${JSON.stringify(text)})`, 3000);
    assert.equal(text.slice(0, reply.length), reply);
    text = text.slice(reply.length);
  };
  return {
    send: (bytes) => void sock.write(bytes),
    async exchange(send, reply) {
      sock.write(send);
      await expect(reply);
    },
    expect,
    /** Drops everything up to and including `marker` (for replies that hold ids). */
    async skipThrough(marker) {
      await waitFor(() => text.includes(marker), `${JSON.stringify(marker)} (have ${JSON.stringify(text)})`, 3000);
      text = text.slice(text.indexOf(marker) + marker.length);
    },
    close: () => sock.destroy(),
  };
}

describe('ioredis', () => {
  test('publisher and subscriber via duplicate(): subscribe, message, unsubscribe', async () => {
    const sub = pub.duplicate();
    try {
      const got: Array<[string, string]> = [];
      sub.on('message', (channel: string, message: string) => got.push([channel, message]));
      assert.equal(await sub.subscribe('news', 'sports'), 2);
      assert.equal(await pub.publish('news', 'hello'), 1);
      assert.equal(await pub.publish('sports', 'goal'), 1);
      assert.equal(await pub.publish('weather', 'rain'), 0);
      for (let i = 0; i < 100; i++) void pub.publish('news', `n${i}`);
      await waitFor(() => got.length === 102, '102 messages', 3000);
      assert.deepEqual(got.slice(0, 2), [['news', 'hello'], ['sports', 'goal']]);
      // Publish order is kept per receiver.
      assert.deepEqual(got.slice(2).map(([, m]) => m), Array.from({ length: 100 }, (_, i) => `n${i}`));

      assert.equal(await numsub('news'), 1);
      await sub.unsubscribe('news');
      assert.equal(await numsub('news'), 0);
      assert.equal(await pub.publish('news', 'nobody'), 0);
      assert.equal(await pub.publish('sports', 'still'), 1);
      await waitFor(() => got.length === 103, 'condition', 3000);
      assert.deepEqual(got[102], ['sports', 'still']);
      await sub.unsubscribe();
      assert.equal(await numsub('sports'), 0);
    } finally {
      sub.disconnect();
    }
  });

  test('psubscribe and pmessage; a client matching both ways gets it twice', async () => {
    const sub = pub.duplicate();
    try {
      const pm: string[] = [];
      const m: string[] = [];
      sub.on('pmessage', (pattern: string, channel: string, message: string) => pm.push(`${pattern}|${channel}|${message}`));
      sub.on('message', (channel: string, message: string) => m.push(`${channel}|${message}`));
      await sub.psubscribe('user:*', 'h?llo');
      await sub.subscribe('user:1');
      assert.equal(await pub.publish('user:1', 'x'), 2);
      assert.equal(await pub.publish('hallo', 'y'), 1);
      assert.equal(await pub.publish('user', 'z'), 0);
      assert.equal(Number(await pub.call('PUBSUB', 'NUMPAT')), 2);
      await waitFor(() => pm.length === 2 && m.length === 1, 'condition', 3000);
      assert.deepEqual(m, ['user:1|x']);
      assert.deepEqual(pm, ['user:*|user:1|x', 'h?llo|hallo|y']);
      await sub.punsubscribe('user:*');
      assert.equal(await pub.publish('user:2', 'gone'), 0);
      assert.equal(Number(await pub.call('PUBSUB', 'NUMPAT')), 1);
    } finally {
      sub.disconnect();
    }
    await waitFor(async () => Number(await pub.call('PUBSUB', 'NUMPAT')) === 0, 'cleanup on disconnect', 3000);
  });

  test('binary-safe channels and payloads', async () => {
    const sub = pub.duplicate();
    try {
      const got: Buffer[] = [];
      sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => got.push(message));
      const channel = Buffer.from([0x63, 0x00, 0xff]);
      await sub.subscribe(channel as unknown as string);
      const payload = Buffer.from([0, 1, 2, 0xfe, 0xff, 13, 10]);
      assert.equal(await pub.publish(channel as unknown as string, payload as unknown as string), 1);
      const big = Buffer.alloc(300_000, 0xab);
      assert.equal(await pub.publish(channel as unknown as string, big as unknown as string), 1);
      await waitFor(() => got.length === 2, 'condition', 3000);
      assert.deepEqual(got[0], payload);
      assert.deepEqual(got[1], big);
    } finally {
      sub.disconnect();
    }
  });

  test('SPUBLISH reaches shard subscribers only', async () => {
    const sub = pub.duplicate();
    try {
      const got: string[] = [];
      sub.on('smessage', (channel: string, message: string) => got.push(`${channel}|${message}`));
      assert.equal(await sub.ssubscribe('orders'), 1);
      await sub.psubscribe('*');
      assert.equal(await pub.call('SPUBLISH', 'orders', 'o1'), 1);
      // Patterns never see shard messages; the shard channel is no regular channel.
      assert.equal(await pub.publish('orders', 'plain'), 1);
      assert.deepEqual(await pub.call('PUBSUB', 'SHARDCHANNELS'), ['orders']);
      assert.deepEqual(await pub.call('PUBSUB', 'SHARDNUMSUB', 'orders', 'x'), ['orders', 1, 'x', 0]);
      await waitFor(() => got.length === 1, 'condition', 3000);
      assert.deepEqual(got, ['orders|o1']);
    } finally {
      sub.disconnect();
    }
  });
});

describe('node-redis v4', () => {
  test('duplicate(), subscribe(channel, listener), pSubscribe, unsubscribe', async () => {
    const client = await connectNodeRedis(handle);
    const sub = client.duplicate();
    await sub.connect();
    try {
      const got: string[] = [];
      await sub.subscribe('jobs', (message, channel) => got.push(`${channel}:${message}`));
      await sub.pSubscribe('job*', (message, channel) => got.push(`p ${channel}:${message}`));
      assert.equal(await client.publish('jobs', 'j1'), 2);
      assert.equal(await client.publish('jobless', 'j2'), 1);
      await waitFor(() => got.length === 3, 'condition', 3000);
      assert.deepEqual(got, ['jobs:j1', 'p jobs:j1', 'p jobless:j2']);
      assert.deepEqual({ ...(await client.pubSubNumSub('jobs')) }, { jobs: 1 });
      assert.deepEqual(await client.pubSubChannels(), ['jobs']);
      assert.equal(await client.pubSubNumPat(), 1);
      await sub.unsubscribe('jobs');
      await sub.pUnsubscribe('job*');
      assert.equal(await client.publish('jobs', 'none'), 0);
      assert.deepEqual({ ...(await client.pubSubNumSub('jobs')) }, { jobs: 0 });
      // Out of subscribed mode: ordinary commands work again.
      assert.equal(await sub.ping(), 'PONG');
    } finally {
      await sub.quit();
      await client.quit();
    }
  });
});

describe('RESP2 subscribed mode (raw protocol)', () => {
  test('only (P|S)(UN)SUBSCRIBE, PING, QUIT, RESET are allowed; PING replies ["pong", msg]', async () => {
    const conn = await rawConnection();
    try {
      await conn.exchange('SUBSCRIBE c\r\n', '*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n');
      await conn.exchange(
        'GET x\r\n',
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
      );
      await conn.exchange('PING\r\nPING hi\r\n', '*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n');
      await conn.exchange('UNSUBSCRIBE\r\n', '*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n');
      await conn.exchange('GET x\r\n', '$-1\r\n');
      await conn.exchange('UNSUBSCRIBE\r\n', '*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n');
    } finally {
      conn.close();
    }
  });

  test('RESP3: confirmations and messages are push frames, other commands still work', async () => {
    const conn = await rawConnection();
    try {
      conn.send('HELLO 3\r\n');
      await conn.skipThrough('$7\r\nmodules\r\n*0\r\n');
      await conn.exchange('SUBSCRIBE c3\r\n', '>3\r\n$9\r\nsubscribe\r\n$2\r\nc3\r\n:1\r\n');
      await conn.exchange('GET x\r\n', '_\r\n');
      assert.equal(await pub.publish('c3', 'hi'), 1);
      await conn.expect('>3\r\n$7\r\nmessage\r\n$2\r\nc3\r\n$2\r\nhi\r\n');
      await conn.exchange('UNSUBSCRIBE\r\nUNSUBSCRIBE\r\n', '>3\r\n$11\r\nunsubscribe\r\n$2\r\nc3\r\n:0\r\n>3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n');
    } finally {
      conn.close();
    }
  });
});

describe('introspection', () => {
  test('CLIENT LIST sub/psub/ssub and flag P, CLIENT KILL TYPE pubsub, INFO stats', async () => {
    const sub = pub.duplicate();
    try {
      await sub.client('SETNAME', 'listener');
      await sub.subscribe('a', 'b');
      await sub.psubscribe('p*');
      await sub.call('SSUBSCRIBE', 's1');
      const line = ((await pub.client('LIST')) as string).split('\n').find((l) => l.includes('name=listener'))!;
      assert.match(line, / flags=P /);
      assert.match(line, / sub=2 psub=1 ssub=1 /);
      const stats = (await pub.info('stats')) as string;
      assert.match(stats, /\r\npubsub_channels:2\r\n/);
      assert.match(stats, /\r\npubsub_patterns:1\r\n/);
      assert.match(stats, /\r\npubsubshard_channels:1\r\n/);
      assert.match((await pub.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string, /name=listener/);
      assert.equal(await pub.call('CLIENT', 'KILL', 'TYPE', 'pubsub'), 1);
      await waitFor(async () => (await numsub('a')) === 0, 'killed subscriber cleaned up', 3000);
      assert.match((await pub.info('stats')) as string, /\r\npubsub_channels:0\r\n/);
    } finally {
      sub.disconnect();
    }
  });

  test('RESET unsubscribes from everything', async () => {
    const conn = await rawConnection();
    try {
      await conn.exchange('SUBSCRIBE r\r\nPSUBSCRIBE r*\r\n', '*3\r\n$9\r\nsubscribe\r\n$1\r\nr\r\n:1\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\nr*\r\n:2\r\n');
      assert.equal(await numsub('r'), 1);
      await conn.exchange('RESET\r\n', '+RESET\r\n');
      assert.equal(await numsub('r'), 0);
      assert.equal(Number(await pub.call('PUBSUB', 'NUMPAT')), 0);
      assert.equal(await pub.publish('r', 'x'), 0);
      // Back to a normal connection.
      await conn.exchange('PING\r\n', '+PONG\r\n');
    } finally {
      conn.close();
    }
  });
});

// ---- client-output-buffer-limit pubsub ---------------------------------------------

/** A raw subscriber that can stop reading (its socket paused), named so the server side can be found. */
async function rawSubscriber(name: string, channel: string): Promise<net.Socket> {
  const sock = net.connect(handle.port, handle.host);
  await once(sock, 'connect');
  sock.write(`CLIENT SETNAME ${name}\r\nSUBSCRIBE ${channel}\r\n`);
  let text = '';
  const onData = (d: Buffer) => (text += d.toString('latin1'));
  sock.on('data', onData);
  await waitFor(() => text.includes(`$${channel.length}\r\n${channel}\r\n:1\r\n`), 'subscribe confirmation', 3000);
  sock.off('data', onData);
  sock.pause();
  return sock;
}

function serverClient(name: string) {
  return [...handle.server.clients.values()].find((c) => c.name === name);
}

describe('client-output-buffer-limit pubsub', () => {
  test('hard limit: a subscriber that stops reading is disconnected, a reading one gets everything', async () => {
    await pub.config('SET', 'client-output-buffer-limit', 'pubsub 1mb 0 0');
    const slow = await rawSubscriber('slow', 'feed');
    const fast = pub.duplicate();
    let received = 0;
    let inOrder = true;
    fast.on('message', (_c: string, m: string) => {
      if (!m.startsWith(`${received}:`)) inOrder = false;
      received++;
    });
    await fast.subscribe('feed');
    try {
      assert.ok(serverClient('slow'), 'slow subscriber connected');
      const chunk = 'x'.repeat(256 * 1024);
      let n = 0;
      // Kernel socket buffers absorb some megabytes first; keep publishing until the server gives up on it.
      while (serverClient('slow') !== undefined) {
        assert.ok(n < 400, 'slow subscriber was never disconnected');
        await pub.publish('feed', `${n}:${chunk}`);
        n++;
      }
      assert.equal(await numsub('feed'), 1);
      await waitFor(() => received === n, 'fast subscriber to receive every message', 10000);
      assert.ok(inOrder, 'messages arrive in publish order');
    } finally {
      slow.destroy();
      fast.disconnect();
    }
  });

  test('soft limit: disconnected only after staying over it longer than the seconds given (server clock)', async () => {
    await pub.config('SET', 'client-output-buffer-limit', 'pubsub 0 512kb 5');
    handle.clock.freeze();
    const slow = await rawSubscriber('soft', 'feed2');
    try {
      const chunk = 'y'.repeat(256 * 1024);
      let n = 0;
      // Fill the kernel buffers until the server holds more than the soft limit for this client.
      while ((serverClient('soft')?.socket?.writableLength ?? 0) <= 1024 * 1024) {
        assert.ok(n < 400, 'output never backed up');
        await pub.publish('feed2', chunk);
        n++;
      }
      // Over the soft limit, but not for longer than 5 s: still connected.
      await pub.publish('feed2', chunk);
      handle.clock.advance(5000);
      await pub.publish('feed2', chunk);
      assert.ok(serverClient('soft') !== undefined, 'not disconnected within the soft period');
      assert.equal(await numsub('feed2'), 1);
      handle.clock.advance(1500);
      await pub.publish('feed2', chunk);
      await waitFor(() => serverClient('soft') === undefined, 'soft-limit disconnect', 3000);
      assert.equal(await numsub('feed2'), 0);
    } finally {
      slow.destroy();
    }
  });

  test('no limit configured: a slow subscriber stays connected', async () => {
    await pub.config('SET', 'client-output-buffer-limit', 'pubsub 0 0 0');
    const slow = await rawSubscriber('unlimited', 'feed3');
    try {
      const chunk = 'z'.repeat(256 * 1024);
      for (let n = 0; n < 40; n++) await pub.publish('feed3', chunk);
      assert.ok(serverClient('unlimited') !== undefined);
      assert.equal(await numsub('feed3'), 1);
    } finally {
      slow.destroy();
    }
  });
});
