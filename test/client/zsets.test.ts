/**
 * Sorted set commands through real clients (ioredis, node-redis): the seed's
 * leaderboard and sliding-window rate limiter (on the frozen server clock),
 * big sets checked against a model, ZSCAN, blocking pops (FIFO, one ZADD
 * serving several waiters, BZMPOP, timeouts on a frozen clock, CLIENT
 * UNBLOCK, no blocking inside MULTI/scripts), propagation and keyspace events.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerHandle } from '../../src/index.js';
import { connectNodeRedis, serverWithClientPool } from '../helpers/server.js';
import { blockedCount, settled } from '../helpers/wait.js';
import { captureEvents, propagated } from '../helpers/observe.js';

let handle: ServerHandle;
/** A new ioredis connection of the test server, closed after the last test. */
const connect = serverWithClientPool((h) => (handle = h));

describe('seed examples', () => {
  test('a leaderboard: ZADD, ZREVRANGE WITHSCORES, ZREVRANK, ZRANGEBYSCORE, ZINCRBY', async () => {
    const r = connect();
    await r.del('leaderboard');
    assert.equal(await r.zadd('leaderboard', 100, 'player:1', 95, 'player:2', 110, 'player:3'), 3);
    assert.deepEqual(await r.zrevrange('leaderboard', 0, 9, 'WITHSCORES'), ['player:3', '110', 'player:1', '100', 'player:2', '95']);
    assert.equal(await r.zrevrank('leaderboard', 'player:1'), 1);
    assert.deepEqual(await r.zrangebyscore('leaderboard', 90, 100), ['player:2', 'player:1']);
    assert.equal(await r.zincrby('leaderboard', 5, 'player:1'), '105');
    assert.deepEqual(await r.zrevrange('leaderboard', 0, 0, 'WITHSCORES'), ['player:3', '110']);
    assert.equal(await r.zscore('leaderboard', 'player:1'), '105');
    assert.equal(await r.zrevrank('leaderboard', 'nobody'), null);
  });

  test('a sliding-window rate limiter on the frozen clock (no MULTI)', async () => {
    const r = connect();
    const key = 'ratelimit:user:42';
    const windowMs = 1000;
    const limit = 3;
    await r.del(key);
    /** One request at the server's current time: true when allowed. */
    const request = async (): Promise<boolean> => {
      const now = handle.clock.now();
      await r.zremrangebyscore(key, 0, now - windowMs);
      const count = await r.zcard(key);
      if (count >= limit) return false;
      await r.zadd(key, now, String(now));
      await r.pexpire(key, windowMs);
      return true;
    };
    handle.clock.freeze(1_700_000_000_000);
    try {
      const outcomes: boolean[] = [];
      for (let i = 0; i < 5; i++) {
        outcomes.push(await request());
        handle.clock.advance(100);
      }
      assert.deepEqual(outcomes, [true, true, true, false, false]);
      assert.equal(await r.zcard(key), 3);
      // At +1000 ms the first request (at +0) leaves the window; the others stay.
      handle.clock.advance(500); // now +1000
      assert.equal(await request(), true);
      assert.deepEqual(await r.zrange(key, 0, -1), ['1700000000100', '1700000000200', '1700000001000']);
      assert.equal(await request(), false);
      // PEXPIRE keeps pushing the TTL; once idle for a whole window the key is gone.
      assert.equal(await r.pttl(key), windowMs);
      handle.clock.advance(windowMs + 1);
      assert.equal(await r.exists(key), 0);
      assert.equal(await request(), true);
    } finally {
      handle.clock.resume();
    }
  });
});

describe('sorted set commands', () => {
  test('a 3000-member set (skiplist) agrees with a model on ranks, ranges and removals', async () => {
    const r = connect();
    await r.del('big');
    const model: Array<[string, number]> = [];
    const args: (string | number)[] = [];
    for (let i = 0; i < 3000; i++) {
      const m = `m${(i * 7919) % 3000}`;
      const s = (i * 37) % 101;
      model.push([m, s]);
      args.push(s, m);
    }
    assert.equal(await r.zadd('big', ...args), 3000);
    assert.equal(await r.object('ENCODING', 'big'), 'skiplist');
    model.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    const members = model.map(([m]) => m);
    assert.deepEqual(await r.zrange('big', 0, -1), members);
    assert.deepEqual(await r.zrange('big', 1234, 1243), members.slice(1234, 1244));
    assert.deepEqual(await r.zrevrange('big', 0, 4), members.slice(-5).reverse());
    assert.equal(await r.zrank('big', members[2222]), 2222);
    assert.equal(await r.zcount('big', 10, '(20'), model.filter(([, s]) => s >= 10 && s < 20).length);
    assert.deepEqual(
      await r.zrangebyscore('big', 50, 60, 'LIMIT', 5, 7),
      model.filter(([, s]) => s >= 50 && s <= 60).slice(5, 12).map(([m]) => m),
    );
    assert.equal(await r.zremrangebyrank('big', 100, 2899), 2800);
    const left = members.slice(0, 100).concat(members.slice(2900));
    assert.deepEqual(await r.zrange('big', 0, -1), left);
    assert.deepEqual(await r.zpopmin('big', 2), [left[0], String(model[0][1]), left[1], String(model[1][1])]);
    assert.equal(await r.zcard('big'), 198);
  });

  test('encoding turns to skiplist at 129 members and never back', async () => {
    const r = connect();
    await r.del('enc');
    for (let i = 0; i < 128; i++) await r.zadd('enc', i, `e${i}`);
    assert.equal(await r.object('ENCODING', 'enc'), 'listpack');
    await r.zadd('enc', 128, 'e128');
    assert.equal(await r.object('ENCODING', 'enc'), 'skiplist');
    await r.zremrangebyrank('enc', 0, 120);
    assert.equal(await r.object('ENCODING', 'enc'), 'skiplist');
    // A stored copy of a small result is a listpack again.
    assert.equal(await r.zunionstore('enc:copy', 1, 'enc'), 8);
    assert.equal(await r.object('ENCODING', 'enc:copy'), 'listpack');
  });

  test('ZSCAN walks a skiplist whole; members are binary safe', async () => {
    const r = connect();
    await r.del('scan');
    const args: (string | number)[] = [];
    for (let i = 0; i < 500; i++) args.push(i, `s${i}`);
    await r.zadd('scan', ...args);
    const seen = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await r.zscan('scan', cursor, 'COUNT', 37);
      for (let i = 0; i < flat.length; i += 2) seen.set(flat[i], flat[i + 1]);
      cursor = next;
    } while (cursor !== '0');
    assert.equal(seen.size, 500);
    assert.equal(seen.get('s123'), '123');
    const bytes = Buffer.from([0, 255, 13, 10, 128]);
    await r.zadd('scan:bin', 1.5, bytes);
    assert.deepEqual(await r.zrangeBuffer('scan:bin', 0, -1), [bytes]);
    assert.equal(await r.zscore('scan:bin', bytes), '1.5');
  });

  test('errors: WRONGTYPE, bad floats, incompatible options', async () => {
    const r = connect();
    await r.set('zstr', 'v');
    await assert.rejects(r.zadd('zstr', 1, 'a'), /^ReplyError: WRONGTYPE/);
    await assert.rejects(r.zadd('zerr', 'abc', 'a'), /ERR value is not a valid float/);
    await assert.rejects(r.zadd('zerr', 'NX', 'XX', 1, 'a'), /ERR XX and NX options at the same time are not compatible/);
    await assert.rejects(r.zadd('zerr', 'GT', 'LT', 1, 'a'), /ERR GT, LT, and\/or NX options at the same time are not compatible/);
    await r.zadd('zerr', 'inf', 'a');
    await assert.rejects(r.zincrby('zerr', '-inf', 'a'), /ERR resulting score is not a number \(NaN\)/);
    await assert.rejects(r.zrangebyscore('zerr', 'x', 1), /ERR min or max is not a float/);
    await assert.rejects(r.zrangebylex('zerr', 'a', '+'), /ERR min or max not valid string range item/);
    assert.equal(await r.zscore('zerr', 'a'), 'inf');
  });
});

describe('blocking pops', () => {
  test('BZPOPMIN waiters are served first come, first served by one ZADD', async () => {
    const p = connect();
    await p.del('bz:fifo');
    const ws = [connect(), connect(), connect()];
    const pops: Promise<unknown>[] = [];
    for (let i = 0; i < ws.length; i++) {
      pops.push(ws[i].bzpopmin('bz:fifo', 0));
      await blockedCount(handle, i + 1);
    }
    await p.zadd('bz:fifo', 3, 'c', 1, 'a', 2, 'b', 4, 'd');
    assert.deepEqual(await Promise.all(pops), [
      ['bz:fifo', 'a', '1'],
      ['bz:fifo', 'b', '2'],
      ['bz:fifo', 'c', '3'],
    ]);
    assert.deepEqual(await p.zrange('bz:fifo', 0, -1, 'WITHSCORES'), ['d', '4']);
    assert.equal(handle.server.blocking.count, 0);
  });

  test('BZPOPMAX on several keys is served from the key that gets a set; BZMPOP pops COUNT', async () => {
    const p = connect();
    const w = connect();
    await p.del('bk1', 'bk2');
    const popped = w.bzpopmax('bk1', 'bk2', 0);
    await blockedCount(handle, 1);
    await p.rpush('bk1', 'not-a-zset'); // wrong type: the waiter keeps waiting
    assert.equal(await settled(popped), false);
    await p.zadd('bk2', 1, 'low', 9, 'high');
    assert.deepEqual(await popped, ['bk2', 'high', '9']);
    assert.equal(handle.server.dbs[0].blockingKeys?.has('bk1') ?? false, false);

    const mpopped = w.call('BZMPOP', '0', '2', 'bk3', 'bk4', 'MIN', 'COUNT', '2');
    await blockedCount(handle, 1);
    await p.zadd('bk4', 3, 'x', 1, 'y', 2, 'z');
    assert.deepEqual(await mpopped, ['bk4', [['y', '1'], ['z', '2']]]);
    await p.del('bk1');
  });

  test('a timeout does not fire on a frozen clock until it is advanced', async () => {
    const w = connect();
    handle.clock.freeze();
    try {
      const popped = w.bzpopmin('bz:frozen', 0.05);
      await blockedCount(handle, 1);
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(await settled(popped), false, 'timed out on a frozen clock');
      handle.clock.advance(40);
      assert.equal(await settled(popped), false, 'timed out before the deadline');
      handle.clock.advance(20);
      assert.equal(await popped, null);
      assert.equal(handle.server.blocking.count, 0);
    } finally {
      handle.clock.resume();
    }
    await assert.rejects(w.bzpopmin('bz:never', -1), /ERR timeout is negative/);
    await assert.rejects(w.bzpopmin('bz:never', 'soon'), /ERR timeout is not a float or out of range/);
  });

  test('a client that may not block (MULTI, scripts) answers at once as on timeout', async () => {
    const w = connect();
    const id = (await w.client('ID')) as number;
    const serverSide = handle.server.clients.get(id) as unknown as { inMulti?: boolean; inScript?: boolean };
    for (const flag of ['inMulti', 'inScript'] as const) {
      serverSide[flag] = true;
      try {
        assert.equal(await w.bzpopmin('bz:deny', 0), null);
        assert.equal(await w.call('BZMPOP', '0', '1', 'bz:deny', 'MAX'), null);
        assert.equal(handle.server.blocking.count, 0);
        await w.zadd('bz:deny', 1, 'v');
        assert.deepEqual(await w.bzpopmax('bz:deny', 0), ['bz:deny', 'v', '1']);
      } finally {
        serverSide[flag] = false;
      }
    }
  });

  test('CLIENT UNBLOCK ends a wait as a timeout or as an error', async () => {
    const admin = connect();
    const w = connect();
    const id = (await w.client('ID')) as number;
    const first = w.bzpopmin('bz:unblock', 0);
    await blockedCount(handle, 1);
    assert.equal(await admin.client('UNBLOCK', id), 1);
    assert.equal(await first, null);
    const second = w.call('BZMPOP', '0', '1', 'bz:unblock', 'MIN').then(
      (v) => ({ ok: v }),
      (e: Error) => ({ err: e.message }),
    );
    await blockedCount(handle, 1);
    assert.equal(await admin.client('UNBLOCK', id, 'ERROR'), 1);
    assert.deepEqual(await second, { err: 'UNBLOCKED client unblocked via CLIENT UNBLOCK' });
    assert.equal(await w.ping(), 'PONG');
  });
});

describe('effects', () => {
  test('pops are propagated as ZPOPMIN/ZPOPMAX [n], served or not', async () => {
    const p = connect();
    const w = connect();
    await p.del('zp', 'zp2', 'zp:now');
    await p.zadd('zp:now', 1, 'a', 2, 'b', 3, 'c', 4, 'd');
    const log = await propagated(handle, async () => {
      await p.bzpopmin('zp:now', 0);
      await p.call('BZMPOP', '0', '1', 'zp:now', 'MAX', 'COUNT', '1');
      await p.call('ZMPOP', '1', 'zp:now', 'MIN', 'COUNT', '10');
      const served = w.bzpopmax('zp', 0);
      await blockedCount(handle, 1);
      await p.zadd('zp', 1, 'x', 2, 'y');
      await served;
      const mserved = w.call('BZMPOP', '0', '1', 'zp2', 'MIN', 'COUNT', '5');
      await blockedCount(handle, 1);
      await p.zadd('zp2', 5, 'z', 6, 'zz');
      await mserved;
      await p.bzpopmin('zp:none', 0.01); // times out: nothing to propagate
    });
    assert.deepEqual(log, [
      ['ZPOPMIN', 'zp:now'],
      ['ZPOPMAX', 'zp:now', '1'],
      ['ZPOPMIN', 'zp:now', '2'],
      ['zadd', 'zp', '1', 'x', '2', 'y'],
      ['ZPOPMAX', 'zp'],
      ['zadd', 'zp2', '5', 'z', '6', 'zz'],
      ['ZPOPMIN', 'zp2', '2'],
    ]);
  });

  test('keyspace events follow Redis, with del after the emptying event', async () => {
    const r = connect();
    await r.del('ev', 'ev2', 'ev3');
    const events = await captureEvents(handle, async () => {
      await r.zadd('ev', 1, 'a', 2, 'b');
      await r.zincrby('ev', 1, 'a');
      await r.zadd('ev', 'INCR', 1, 'a');
      await r.zadd('ev', 'NX', 1, 'a'); // no change: no event
      await r.zpopmin('ev', 2);
      await r.zadd('ev', 1, 'a');
      await r.zrem('ev', 'a', 'b');
      await r.zadd('ev', 1, 'a');
      await r.zremrangebyscore('ev', 0, 5);
      await r.zadd('ev', 1, 'a');
      await r.zunionstore('ev2', 1, 'ev');
      await r.zinterstore('ev2', 1, 'nokey');
      await r.zrangestore('ev3', 'ev', 0, -1);
      await r.zdiffstore('ev3', 1, 'ev');
      await r.zremrangebylex('ev', '-', '+');
      await r.zadd('ev', 0, 'a');
      await r.zremrangebyrank('ev', 0, -1);
      await r.zadd('ev', 0, 'a');
      await r.zpopmax('ev');
    });
    assert.deepEqual(events, [
      'zadd ev',
      'zincr ev',
      'zincr ev',
      'zpopmin ev',
      'del ev',
      'zadd ev',
      'zrem ev',
      'del ev',
      'zadd ev',
      'zremrangebyscore ev',
      'del ev',
      'zadd ev',
      'zunionstore ev2',
      'del ev2',
      'zrangestore ev3',
      'zdiffstore ev3',
      'zremrangebylex ev',
      'del ev',
      'zadd ev',
      'zremrangebyrank ev',
      'del ev',
      'zadd ev',
      'zpopmax ev',
      'del ev',
    ]);
  });
});

describe('node-redis', () => {
  test('leaderboard and BZPOPMIN on an isolated connection', async () => {
    const producer = await connectNodeRedis(handle);
    const worker = await connectNodeRedis(handle);
    try {
      await producer.del('nr:lb');
      assert.equal(
        await producer.zAdd('nr:lb', [
          { score: 100, value: 'player:1' },
          { score: 95, value: 'player:2' },
          { score: 110, value: 'player:3' },
        ]),
        3,
      );
      assert.deepEqual(await producer.zRangeWithScores('nr:lb', 0, 9, { REV: true }), [
        { value: 'player:3', score: 110 },
        { value: 'player:1', score: 100 },
        { value: 'player:2', score: 95 },
      ]);
      assert.equal(await producer.zIncrBy('nr:lb', 5, 'player:1'), 105);
      await producer.del('nr:q');
      const popped = worker.bzPopMin('nr:q', 0);
      await blockedCount(handle, 1);
      await producer.zAdd('nr:q', { score: 7, value: 'job' });
      assert.deepEqual(await popped, { key: 'nr:q', value: 'job', score: 7 });
    } finally {
      await producer.quit();
      await worker.quit();
    }
  });
});
