/**
 * Stream commands through real clients (ioredis, node-redis): the seed's
 * order-events example, a worker pool over a consumer group (blocked
 * XREADGROUP workers, crashed workers' entries recovered with XAUTOCLAIM on a
 * frozen clock), blocking reads, idle times, propagation and keyspace events.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startServer, type ServerHandle } from '../../src/index.js';

let handle: ServerHandle;
let io: Redis;
const clients: Redis[] = [];

function connect(): Redis {
  const r = new Redis({ port: handle.port, host: handle.host, maxRetriesPerRequest: 0 });
  clients.push(r);
  return r;
}

/** Waits (polling the event loop) until `cond` holds; fails after 3 s. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const blockedCount = (n: number) => waitFor(() => handle.server.blocking.count === n, `${n} blocked client(s)`);

/** Records what the server propagates to AOF/replicas. */
function recordPropagation(): { cmds: string[][]; stop: () => void } {
  const cmds: string[][] = [];
  const sink = (_db: number, argv: string[]) => {
    cmds.push(argv);
  };
  handle.server.propagateSinks.push(sink);
  return {
    cmds,
    stop: () => {
      const i = handle.server.propagateSinks.indexOf(sink);
      if (i >= 0) handle.server.propagateSinks.splice(i, 1);
    },
  };
}

before(async () => {
  handle = await startServer({ port: 0 });
  io = connect();
});

after(async () => {
  for (const c of clients) c.disconnect();
  await handle.close();
});

beforeEach(async () => {
  handle.clock.resume();
  await io.flushall();
});

type Entry = [string, string[]];
type ReadReply = Array<[string, Entry[]]> | null;

describe('seed: order events', () => {
  test('XADD, XREAD, XGROUP CREATE $ MKSTREAM, XREADGROUP, XACK', async () => {
    const id = (await io.xadd('events:orders', '*', 'order_id', '123', 'total', '99.99')) as string;
    assert.match(id, /^\d+-\d+$/);
    const [ms] = id.split('-').map(Number);
    assert.ok(Math.abs(ms - Date.now()) < 5000);

    const read = (await io.xread('COUNT', 10, 'STREAMS', 'events:orders', '0')) as ReadReply;
    assert.deepEqual(read, [['events:orders', [[id, ['order_id', '123', 'total', '99.99']]]]]);

    assert.equal(await io.xgroup('CREATE', 'events:orders', 'processors', '$', 'MKSTREAM'), 'OK');
    // The group starts after the existing entry: nothing new yet.
    assert.equal(await io.xreadgroup('GROUP', 'processors', 'worker1', 'COUNT', 1, 'STREAMS', 'events:orders', '>'), null);
    assert.equal(await io.xack('events:orders', 'processors', id), 0);

    const id2 = (await io.xadd('events:orders', '*', 'order_id', '124', 'total', '5.00')) as string;
    assert.ok(id2 > id || id2.length > id.length);
    const got = (await io.xreadgroup('GROUP', 'processors', 'worker1', 'COUNT', 1, 'STREAMS', 'events:orders', '>')) as ReadReply;
    assert.deepEqual(got, [['events:orders', [[id2, ['order_id', '124', 'total', '5.00']]]]]);
    assert.deepEqual(await io.xpending('events:orders', 'processors'), [1, id2, id2, [['worker1', '1']]]);
    assert.equal(await io.xack('events:orders', 'processors', id2), 1);
    assert.equal(await io.xack('events:orders', 'processors', id2), 0);
    assert.deepEqual(await io.xpending('events:orders', 'processors'), [0, null, null, null]);
  });

  test('XGROUP CREATE MKSTREAM on a missing key makes an empty stream', async () => {
    assert.equal(await io.xgroup('CREATE', 'fresh', 'g', '$', 'MKSTREAM'), 'OK');
    assert.equal(await io.xlen('fresh'), 0);
    assert.equal(await io.type('fresh'), 'stream');
    await assert.rejects(io.xgroup('CREATE', 'fresh', 'g', '$'), /BUSYGROUP Consumer Group name already exists/);
  });

  test('node-redis reads the same replies', async () => {
    const nr = createClient({ socket: { port: handle.port, host: handle.host } });
    await nr.connect();
    try {
      const id = await nr.xAdd('nr', '1-1', { order_id: '7', total: '1.50' });
      assert.equal(id, '1-1');
      await nr.xAdd('nr', '2-1', { order_id: '8' });
      const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
      assert.deepEqual(plain(await nr.xRange('nr', '-', '+')), [
        { id: '1-1', message: { order_id: '7', total: '1.50' } },
        { id: '2-1', message: { order_id: '8' } },
      ]);
      assert.equal(await nr.xGroupCreate('nr', 'g', '0'), 'OK');
      const res = await nr.xReadGroup('g', 'c', { key: 'nr', id: '>' }, { COUNT: 1 });
      assert.deepEqual(plain(res), [{ name: 'nr', messages: [{ id: '1-1', message: { order_id: '7', total: '1.50' } }] }]);
      const info = await nr.xInfoStream('nr');
      assert.equal(info.length, 2);
      assert.equal(info.groups, 1);
      assert.equal(info.lastGeneratedId, '2-1');
    } finally {
      await nr.quit();
    }
  });
});

describe('worker pool', () => {
  test('blocked workers share a group; entries of crashed workers are reclaimed with XAUTOCLAIM; each is acked once', async () => {
    handle.clock.freeze();
    const key = 'jobs';
    await io.xgroup('CREATE', key, 'workers', '$', 'MKSTREAM');

    const acks = new Map<string, number>();
    const ack = async (r: Redis, id: string) => {
      const n = await r.xack(key, 'workers', id);
      if (n === 1) acks.set(id, (acks.get(id) ?? 0) + 1);
      else assert.fail(`entry ${id} acked twice`);
    };

    // Healthy workers: read one entry at a time with BLOCK 0 and ack it.
    let stopping = false;
    const healthy = async (name: string) => {
      const r = connect();
      for (;;) {
        let reply: ReadReply;
        try {
          reply = (await r.xreadgroup('GROUP', 'workers', name, 'COUNT', 1, 'BLOCK', 0, 'STREAMS', key, '>')) as ReadReply;
        } catch {
          return; // disconnected at the end
        }
        if (stopping) return;
        for (const [, entries] of reply ?? []) for (const [id] of entries) await ack(r, id);
      }
    };
    // Crashing workers: take one entry each, never ack it, and stop.
    const held: string[] = [];
    const crashing = async (name: string) => {
      const r = connect();
      const reply = (await r.xreadgroup('GROUP', 'workers', name, 'COUNT', 1, 'BLOCK', 0, 'STREAMS', key, '>')) as ReadReply;
      for (const [, entries] of reply ?? []) for (const [id] of entries) held.push(id);
      r.disconnect();
    };

    const crashed = [crashing('crash1'), crashing('crash2')];
    await blockedCount(2);
    const workers = ['w1', 'w2', 'w3'].map((n) => healthy(n));
    await blockedCount(5);

    const producer = connect();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await producer.xadd(key, '*', 'job', String(i))) as string);
    await Promise.all(crashed);
    await waitFor(() => acks.size + held.length === ids.length, 'every entry delivered');
    assert.equal(held.length, 2);

    // The crashed workers' entries stay pending, owned by them.
    const summary = (await io.xpending(key, 'workers')) as [number, string, string, Array<[string, string]>];
    assert.equal(summary[0], 2);
    assert.deepEqual(summary[3].map(([c]) => c).sort(), ['crash1', 'crash2']);

    // Not idle long enough yet: nothing to claim.
    const early = (await io.xautoclaim(key, 'workers', 'w1', 60000, '0-0', 'COUNT', 10)) as [string, Entry[], string[]];
    assert.deepEqual(early, ['0-0', [], []]);

    handle.clock.advance(60001);
    const rescuer = connect();
    let cursor = '0-0';
    do {
      const [next, claimed] = (await rescuer.xautoclaim(key, 'workers', 'w1', 60000, cursor, 'COUNT', 1)) as [string, Entry[], string[]];
      for (const [id, fields] of claimed) {
        assert.ok(held.includes(id));
        assert.equal(fields[0], 'job');
        await ack(rescuer, id);
      }
      cursor = next;
    } while (cursor !== '0-0');

    assert.equal(acks.size, ids.length);
    for (const id of ids) assert.equal(acks.get(id), 1, `entry ${id} acked once`);
    assert.deepEqual(await io.xpending(key, 'workers'), [0, null, null, null]);
    const groups = (await io.xinfo('GROUPS', key)) as unknown[][];
    assert.deepEqual(groups[0].slice(0, 10), ['name', 'workers', 'consumers', 5, 'pending', 0, 'last-delivered-id', ids[ids.length - 1], 'entries-read', 30]);

    stopping = true;
    for (const c of clients.slice(1)) c.disconnect();
    await Promise.all(workers);
    await blockedCount(0);
  });
});

describe('blocking reads', () => {
  test('XREAD BLOCK $ gets only entries added after it blocked; a timeout follows the frozen clock', async () => {
    await io.xadd('s', '1-1', 'a', '1');
    const reader = connect();
    const p = reader.xread('BLOCK', 0, 'STREAMS', 's', '$');
    await blockedCount(1);
    await io.xadd('s', '2-1', 'b', '2');
    assert.deepEqual(await p, [['s', [['2-1', ['b', '2']]]]]);

    handle.clock.freeze();
    const q = reader.xread('BLOCK', 5000, 'STREAMS', 's', '$');
    await blockedCount(1);
    handle.clock.advance(4999);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(handle.server.blocking.count, 1);
    handle.clock.advance(2);
    assert.equal(await q, null);
  });

  test('waiters are served first come, first served; each XREADGROUP waiter gets a different entry', async () => {
    await io.xgroup('CREATE', 'q', 'g', '$', 'MKSTREAM');
    const a = connect();
    const b = connect();
    const pa = a.xreadgroup('GROUP', 'g', 'a', 'COUNT', 1, 'BLOCK', 0, 'STREAMS', 'q', '>');
    await blockedCount(1);
    const pb = b.xreadgroup('GROUP', 'g', 'b', 'COUNT', 1, 'BLOCK', 0, 'STREAMS', 'q', '>');
    await blockedCount(2);
    await io.xadd('q', '1-1', 'n', '1');
    assert.deepEqual(await pa, [['q', [['1-1', ['n', '1']]]]]);
    await io.xadd('q', '2-1', 'n', '2');
    assert.deepEqual(await pb, [['q', [['2-1', ['n', '2']]]]]);
  });

  test('XGROUP DESTROY and DEL wake XREADGROUP waiters with errors', async () => {
    await io.xgroup('CREATE', 'q', 'g', '$', 'MKSTREAM');
    const a = connect();
    const pa = a.xreadgroup('GROUP', 'g', 'a', 'BLOCK', 0, 'STREAMS', 'q', '>');
    await blockedCount(1);
    await io.xgroup('DESTROY', 'q', 'g');
    await assert.rejects(pa, /NOGROUP the consumer group this client was blocked on no longer exists/);
    await io.xgroup('CREATE', 'q', 'g', '$');
    const pb = a.xreadgroup('GROUP', 'g', 'a', 'BLOCK', 0, 'STREAMS', 'q', '>');
    await blockedCount(1);
    await io.del('q');
    await assert.rejects(pb, /UNBLOCKED the stream key no longer exists/);
  });

  test('inside MULTI a blocking read answers at once', async () => {
    const r = connect();
    const res = await r.multi().xread('BLOCK', 0, 'STREAMS', 'nothing', '$').exec();
    assert.deepEqual(res, [[null, null]]);
  });
});

describe('idle times and claims on a frozen clock', () => {
  test('XPENDING, XINFO CONSUMERS and XCLAIM see idle time move with the clock', async () => {
    handle.clock.freeze(1_700_000_000_000);
    await io.xadd('s', '1-1', 'a', '1');
    await io.xadd('s', '2-1', 'b', '2');
    await io.xgroup('CREATE', 's', 'g', '0');
    await io.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', 's', '>');
    handle.clock.advance(1500);
    assert.deepEqual(await io.xpending('s', 'g', '-', '+', 10), [
      ['1-1', 'alice', 1500, 1],
      ['2-1', 'alice', 1500, 1],
    ]);
    assert.deepEqual(await io.xpending('s', 'g', 'IDLE', 2000, '-', '+', 10), []);
    assert.deepEqual(await io.xinfo('CONSUMERS', 's', 'g'), [['name', 'alice', 'pending', 2, 'idle', 1500]]);
    assert.deepEqual(await io.xclaim('s', 'g', 'bob', 2000, '1-1'), []);
    assert.deepEqual(await io.xclaim('s', 'g', 'bob', 1000, '1-1', 'JUSTID'), ['1-1']);
    assert.deepEqual(await io.xpending('s', 'g', '-', '+', 10), [
      ['1-1', 'bob', 0, 1],
      ['2-1', 'alice', 1500, 1],
    ]);
    assert.deepEqual(await io.xclaim('s', 'g', 'bob', 0, '2-1', 'IDLE', 500, 'RETRYCOUNT', 7), [['2-1', ['b', '2']]]);
    assert.deepEqual(await io.xpending('s', 'g', '-', '+', 10, 'bob'), [
      ['1-1', 'bob', 0, 1],
      ['2-1', 'bob', 500, 7],
    ]);
    // History reads count as deliveries.
    await io.xreadgroup('GROUP', 'g', 'bob', 'STREAMS', 's', '0');
    assert.deepEqual(await io.xpending('s', 'g', '-', '+', 10), [
      ['1-1', 'bob', 0, 2],
      ['2-1', 'bob', 0, 8],
    ]);
  });

  test('XAUTOCLAIM reports entries deleted from the stream and drops them from the PEL', async () => {
    handle.clock.freeze();
    for (let i = 1; i <= 4; i++) await io.xadd('s', `${i}-1`, 'n', String(i));
    await io.xgroup('CREATE', 's', 'g', '0');
    await io.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', 's', '>');
    await io.xdel('s', '2-1', '3-1');
    handle.clock.advance(10);
    assert.deepEqual(await io.xautoclaim('s', 'g', 'bob', 5, '0', 'COUNT', 2), ['3-1', [['1-1', ['n', '1']]], ['2-1']]);
    assert.deepEqual(await io.xautoclaim('s', 'g', 'bob', 5, '3-1', 'COUNT', 2, 'JUSTID'), ['0-0', ['4-1'], ['3-1']]);
    assert.deepEqual(await io.xpending('s', 'g'), [2, '1-1', '4-1', [['bob', '2']]]);
  });
});

describe('propagation and events', () => {
  test('XADD goes out with its generated ID and ~ trimming as = with the result', async () => {
    const rec = recordPropagation();
    try {
      const id = (await io.xadd('s', '*', 'a', '1')) as string;
      await io.xadd('s2', '5-*', 'a', '1');
      for (let i = 0; i < 150; i++) await io.xadd('t', `${i + 1}-1`, 'f', 'v');
      await io.xadd('t', 'MAXLEN', '~', '10', '1000-1', 'f', 'v');
      await io.xtrim('t', 'MINID', '~', '140');
      await io.xtrim('t', 'MAXLEN', '~', '10000');
      assert.deepEqual(rec.cmds[0], ['xadd', 's', id, 'a', '1']);
      assert.deepEqual(rec.cmds[1], ['xadd', 's2', '5-0', 'a', '1']);
      assert.deepEqual(rec.cmds[152], ['xadd', 't', 'MAXLEN', '=', '51', '1000-1', 'f', 'v']);
      // Trims that remove nothing are not propagated.
      assert.equal(rec.cmds.length, 153);
    } finally {
      rec.stop();
    }
  });

  test('consumer-group deliveries go out as XCLAIM / XGROUP commands', async () => {
    handle.clock.freeze(1_700_000_000_000);
    await io.xadd('s', '1-1', 'a', '1');
    await io.xadd('s', '2-1', 'a', '2');
    await io.xgroup('CREATE', 's', 'g', '0');
    const rec = recordPropagation();
    try {
      await io.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 1, 'STREAMS', 's', '>');
      await io.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', 's', '0');
      await io.xreadgroup('GROUP', 'g', 'nack', 'NOACK', 'STREAMS', 's', '>');
      await io.xdel('s', '1-1');
      await io.xautoclaim('s', 'g', 'bob', 0, '0');
      assert.deepEqual(rec.cmds, [
        ['XCLAIM', 's', 'g', 'alice', '0', '1-1', 'TIME', '1700000000000', 'RETRYCOUNT', '1', 'FORCE', 'JUSTID', 'LASTID', '1-1'],
        // Several writes of one command reach replicas as a transaction.
        ['MULTI'],
        ['XGROUP', 'CREATECONSUMER', 's', 'g', 'nack'],
        ['XGROUP', 'SETID', 's', 'g', '2-1', 'ENTRIESREAD', '2'],
        ['EXEC'],
        ['xdel', 's', '1-1'],
        ['XCLAIM', 's', 'g', 'alice', '0', '1-1', 'TIME', '1700000000000', 'RETRYCOUNT', '2', 'FORCE', 'JUSTID', 'LASTID', '2-1'],
      ]);
      assert.deepEqual(await io.xpending('s', 'g'), [0, null, null, null]);
    } finally {
      rec.stop();
    }
  });

  test('a blocked XREADGROUP served by XADD propagates its delivery after the XADD', async () => {
    handle.clock.freeze(1_700_000_000_000);
    await io.xgroup('CREATE', 's', 'g', '$', 'MKSTREAM');
    const reader = connect();
    const p = reader.xreadgroup('GROUP', 'g', 'alice', 'BLOCK', 0, 'STREAMS', 's', '>');
    await blockedCount(1);
    const rec = recordPropagation();
    try {
      await io.xadd('s', '1-1', 'a', '1');
      assert.deepEqual(await p, [['s', [['1-1', ['a', '1']]]]]);
      assert.deepEqual(rec.cmds, [
        ['xadd', 's', '1-1', 'a', '1'],
        ['XCLAIM', 's', 'g', 'alice', '0', '1-1', 'TIME', '1700000000000', 'RETRYCOUNT', '1', 'FORCE', 'JUSTID', 'LASTID', '1-1'],
      ]);
    } finally {
      rec.stop();
    }
  });

  test('keyspace events for stream writes', async () => {
    const events: string[] = [];
    const notifier = handle.server.notifier;
    const saved = notifier.publish;
    assert.equal(handle.server.config.configSet([['notify-keyspace-events', 'Et']]), null);
    notifier.publish = (channel: string, message: string) => {
      if (channel.startsWith('__keyevent@')) events.push(channel.slice(channel.indexOf(':') + 1) + ' ' + message);
      return 0;
    };
    try {
      await io.xadd('s', 'MAXLEN', '1', '1-1', 'a', '1');
      await io.xadd('s', 'MAXLEN', '1', '2-1', 'a', '1');
      await io.xgroup('CREATE', 's', 'g', '0');
      await io.xreadgroup('GROUP', 'g', 'c', 'STREAMS', 's', '>');
      await io.xdel('s', '2-1');
      await io.xsetid('s', '9-9');
      await io.xgroup('DESTROY', 's', 'g');
      assert.deepEqual(events, ['xadd s', 'xadd s', 'xtrim s', 'xgroup-create s', 'xgroup-createconsumer s', 'xdel s', 'xsetid s', 'xgroup-destroy s']);
    } finally {
      handle.server.config.configSet([['notify-keyspace-events', '']]);
      notifier.publish = saved;
    }
  });
});
