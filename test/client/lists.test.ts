/**
 * List commands through real clients (ioredis, node-redis): the seed's queue,
 * stack and feed examples, and blocking pops: FIFO service, one push waking
 * several waiters, multi-key waits, BLMOVE chains, timeouts on a frozen clock,
 * CLIENT UNBLOCK, disconnects, propagation and keyspace events.
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
  test('a task queue: LPUSH then RPOP', async () => {
    const r = connect();
    await r.del('queue:tasks');
    assert.equal(await r.lpush('queue:tasks', 'task1'), 1);
    assert.equal(await r.lpush('queue:tasks', 'task2'), 2);
    assert.equal(await r.rpop('queue:tasks'), 'task1');
    assert.equal(await r.rpop('queue:tasks'), 'task2');
    assert.equal(await r.rpop('queue:tasks'), null);
    assert.equal(await r.exists('queue:tasks'), 0);
  });

  test('a stack: LPUSH then LPOP', async () => {
    const r = connect();
    await r.del('stack:items');
    await r.lpush('stack:items', 'item1');
    await r.lpush('stack:items', 'item2');
    assert.equal(await r.lpop('stack:items'), 'item2');
    assert.equal(await r.lpop('stack:items'), 'item1');
    assert.equal(await r.lpop('stack:items'), null);
  });

  test('BRPOP queue:tasks 30 is served by a push from another connection', async () => {
    const worker = connect();
    const producer = connect();
    await producer.del('queue:tasks');
    const popped = worker.brpop('queue:tasks', 30);
    await blockedCount(handle, 1);
    assert.equal(await settled(popped), false, 'BRPOP answered before any push');
    await producer.lpush('queue:tasks', 'task1');
    assert.deepEqual(await popped, ['queue:tasks', 'task1']);
    assert.equal(await producer.exists('queue:tasks'), 0);
    assert.equal(handle.server.blocking.count, 0);
  });

  test('a capped feed: LRANGE notifications:user:123 0 9 returns the ten newest', async () => {
    const r = connect();
    await r.del('notifications:user:123');
    for (let i = 1; i <= 15; i++) await r.lpush('notifications:user:123', `n${i}`);
    const newest = await r.lrange('notifications:user:123', 0, 9);
    assert.deepEqual(newest, ['n15', 'n14', 'n13', 'n12', 'n11', 'n10', 'n9', 'n8', 'n7', 'n6']);
    await r.ltrim('notifications:user:123', 0, 9);
    assert.equal(await r.llen('notifications:user:123'), 10);
  });
});

describe('list commands', () => {
  test('index, set, insert, remove, position and move', async () => {
    const r = connect();
    await r.del('l', 'd');
    await r.rpush('l', 'a', 'b', 'c', 'b');
    assert.equal(await r.lindex('l', -1), 'b');
    assert.equal(await r.lset('l', 0, 'A'), 'OK');
    assert.equal(await r.linsert('l', 'AFTER', 'b', 'x'), 5);
    assert.deepEqual(await r.lrange('l', 0, -1), ['A', 'b', 'x', 'c', 'b']);
    assert.equal(await r.lpos('l', 'b', 'RANK', -1), 4);
    assert.deepEqual(await r.lpos('l', 'b', 'COUNT', 0), [1, 4]);
    assert.equal(await r.lrem('l', 0, 'b'), 2);
    assert.equal(await r.lmove('l', 'd', 'LEFT', 'RIGHT'), 'A');
    assert.equal(await r.rpoplpush('l', 'd'), 'c');
    assert.deepEqual(await r.lrange('d', 0, -1), ['c', 'A']);
    assert.deepEqual(await r.lmpop(2, 'nolist', 'd', 'RIGHT', 'COUNT', 5), ['d', ['A', 'c']]);
    assert.equal(await r.exists('d'), 0);
    await assert.rejects(r.lset('nolist', 0, 'x'), /ERR no such key/);
    await assert.rejects(r.lset('l', 99, 'x'), /ERR index out of range/);
    await r.set('str', 'v');
    await assert.rejects(r.lpush('str', 'x'), /^ReplyError: WRONGTYPE/);
  });

  test('binary-safe elements survive a round trip', async () => {
    const r = connect();
    await r.del('bin');
    const bytes = Buffer.from([0, 255, 13, 10, 128, 1]);
    await r.rpush('bin', bytes);
    assert.deepEqual(await r.lindexBuffer('bin', 0), bytes);
  });

  test('OBJECT ENCODING of a list is quicklist, as in Redis 7.0', async () => {
    const r = connect();
    await r.del('enc');
    await r.rpush('enc', 'a');
    assert.equal(await r.object('ENCODING', 'enc'), 'quicklist');
  });
});

describe('blocking pops', () => {
  test('waiters are served first come, first served', async () => {
    const p = connect();
    await p.del('fifo');
    const ws = [connect(), connect(), connect()];
    const pops: Promise<unknown>[] = [];
    for (let i = 0; i < ws.length; i++) {
      pops.push(ws[i].blpop('fifo', 0));
      await blockedCount(handle, i + 1);
    }
    await p.rpush('fifo', 'one', 'two', 'three');
    assert.deepEqual(await Promise.all(pops), [
      ['fifo', 'one'],
      ['fifo', 'two'],
      ['fifo', 'three'],
    ]);
    assert.equal(await p.exists('fifo'), 0);
  });

  test('one push of 3 elements wakes 3 of 4 waiters; the 4th keeps waiting', async () => {
    const p = connect();
    await p.del('four');
    const ws = [connect(), connect(), connect(), connect()];
    const pops: Promise<unknown>[] = [];
    for (let i = 0; i < ws.length; i++) {
      pops.push(ws[i].brpop('four', 0));
      await blockedCount(handle, i + 1);
    }
    await p.lpush('four', 'a', 'b', 'c'); // list is c b a: BRPOP takes a, b, c in turn
    assert.deepEqual(await Promise.all(pops.slice(0, 3)), [
      ['four', 'a'],
      ['four', 'b'],
      ['four', 'c'],
    ]);
    assert.equal(handle.server.blocking.count, 1);
    assert.equal(await settled(pops[3]), false);
    await p.rpush('four', 'd');
    assert.deepEqual(await pops[3], ['four', 'd']);
  });

  test('a waiter on several keys is served from the key that gets data', async () => {
    const p = connect();
    const w = connect();
    await p.del('mk1', 'mk2', 'mk3');
    const popped = w.blpop('mk1', 'mk2', 'mk3', 0);
    await blockedCount(handle, 1);
    await p.rpush('mk3', 'v3');
    assert.deepEqual(await popped, ['mk3', 'v3']);
    // No trace left on the other keys.
    assert.equal(handle.server.dbs[0].blockingKeys?.has('mk1') ?? false, false);
    await p.rpush('mk1', 'stays');
    assert.equal(await p.llen('mk1'), 1);
  });

  test('BLMPOP waits, then pops up to COUNT from the first key with data', async () => {
    const p = connect();
    const w = connect();
    await p.del('bm1', 'bm2');
    const popped = w.blmpop(0, 2, 'bm1', 'bm2', 'LEFT', 'COUNT', 2);
    await blockedCount(handle, 1);
    await p.rpush('bm2', 'x', 'y', 'z');
    assert.deepEqual(await popped, ['bm2', ['x', 'y']]);
    assert.deepEqual(await p.lrange('bm2', 0, -1), ['z']);
  });

  test("BLMOVE chains: its push onto the destination serves that key's waiter", async () => {
    const p = connect();
    const mover = connect();
    const last = connect();
    await p.del('chain:src', 'chain:dst');
    const moved = mover.blmove('chain:src', 'chain:dst', 'LEFT', 'RIGHT', 0);
    await blockedCount(handle, 1);
    const popped = last.blpop('chain:dst', 0);
    await blockedCount(handle, 2);
    await p.rpush('chain:src', 'job');
    assert.equal(await moved, 'job');
    assert.deepEqual(await popped, ['chain:dst', 'job']);
    assert.equal(await p.exists('chain:src', 'chain:dst'), 0);
  });

  test('BRPOPLPUSH is served and the element lands on the destination', async () => {
    const p = connect();
    const w = connect();
    await p.del('rp:src', 'rp:dst');
    const moved = w.brpoplpush('rp:src', 'rp:dst', 0);
    await blockedCount(handle, 1);
    await p.rpush('rp:src', '1', '2');
    assert.equal(await moved, '2');
    assert.deepEqual(await p.lrange('rp:dst', 0, -1), ['2']);
    assert.deepEqual(await p.lrange('rp:src', 0, -1), ['1']);
  });

  test('a timeout does not fire on a frozen clock until it is advanced', async () => {
    const w = connect();
    handle.clock.freeze();
    try {
      const popped = w.blpop('frozen', 0.05);
      await blockedCount(handle, 1);
      // Well past 50 ms of real time: the frozen clock holds the timeout.
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
  });

  test('a short timeout answers a null array (nil)', async () => {
    const w = connect();
    assert.equal(await w.brpop('never', 0.01), null);
    assert.equal(await w.blmove('never', 'x', 'LEFT', 'LEFT', 0.01), null);
    await assert.rejects(w.blpop('never', -1), /ERR timeout is negative/);
    await assert.rejects(w.blpop('never', 'soon'), /ERR timeout is not a float or out of range/);
  });

  test('a client that may not block (MULTI, scripts) answers at once as on timeout', async () => {
    const w = connect();
    const id = (await w.client('ID')) as number;
    const serverSide = handle.server.clients.get(id) as unknown as { inMulti?: boolean; inScript?: boolean };
    for (const flag of ['inMulti', 'inScript'] as const) {
      serverSide[flag] = true;
      try {
        assert.equal(await w.blpop('deny', 0), null);
        assert.equal(await w.blmpop(0, 1, 'deny', 'LEFT'), null);
        // BLMOVE answers a null bulk here (a real timeout gives a null array).
        assert.equal(await w.call('BLMOVE', 'deny', 'd', 'LEFT', 'LEFT', '0'), null);
        assert.equal(handle.server.blocking.count, 0);
        await w.rpush('deny', 'v');
        assert.deepEqual(await w.brpop('deny', 0), ['deny', 'v']);
      } finally {
        serverSide[flag] = false;
      }
    }
  });

  test('CLIENT UNBLOCK ends a wait as a timeout or as an error', async () => {
    const admin = connect();
    const w = connect();
    const id = (await w.client('ID')) as number;
    const first = w.blpop('unblock:me', 0);
    await blockedCount(handle, 1);
    assert.equal(await admin.client('UNBLOCK', id), 1);
    assert.equal(await first, null);
    // Observe the outcome at once, so the rejection is never unhandled.
    const second = w.blpop('unblock:me', 0).then(
      (v) => ({ ok: v }),
      (e: Error) => ({ err: e.message }),
    );
    await blockedCount(handle, 1);
    assert.equal(await admin.client('UNBLOCK', id, 'ERROR'), 1);
    assert.deepEqual(await second, { err: 'UNBLOCKED client unblocked via CLIENT UNBLOCK' });
    assert.equal(await admin.client('UNBLOCK', id), 0);
    // The connection is usable afterwards and was left on no key.
    assert.equal(await w.ping(), 'PONG');
    assert.equal(handle.server.dbs[0].blockingKeys?.has('unblock:me') ?? false, false);
  });

  test('a client that disconnects while blocked leaves no trace', async () => {
    const p = connect();
    const w = connect();
    await p.del('gone');
    w.blpop('gone', 0).catch(() => {});
    await blockedCount(handle, 1);
    w.disconnect();
    await blockedCount(handle, 0);
    assert.equal(handle.server.dbs[0].blockingKeys?.has('gone') ?? false, false);
    await p.rpush('gone', 'kept');
    assert.deepEqual(await p.lrange('gone', 0, -1), ['kept']);
  });

  test('pipelined commands after a blocking pop run once it is served', async () => {
    const p = connect();
    const w = connect();
    await p.del('pipe');
    const results = w.pipeline().blpop('pipe', 0).rpush('pipe:after', 'ran').llen('pipe:after').exec();
    await blockedCount(handle, 1);
    assert.equal(await p.exists('pipe:after'), 0, 'a command queued behind BLPOP ran early');
    await p.rpush('pipe', 'go');
    const out = (await results)!.map(([err, v]) => (err ? err.message : v));
    assert.deepEqual(out, [['pipe', 'go'], 1, 1]);
    await p.del('pipe:after');
  });
});

describe('effects', () => {
  test('a served BLPOP is propagated as LPOP, BLMOVE as LMOVE, BLMPOP as LPOP key n', async () => {
    const p = connect();
    const w = connect();
    await p.del('prop', 'prop:dst');
    const log = await propagated(handle, async () => {
      const popped = w.blpop('prop', 0);
      await blockedCount(handle, 1);
      await p.rpush('prop', 'a');
      await popped;
      const moved = w.blmove('prop', 'prop:dst', 'RIGHT', 'LEFT', 0);
      await blockedCount(handle, 1);
      await p.rpush('prop', 'b');
      await moved;
      const mpopped = w.blmpop(0, 1, 'prop', 'RIGHT', 'COUNT', 5);
      await blockedCount(handle, 1);
      await p.rpush('prop', 'c', 'd');
      await mpopped;
    });
    assert.deepEqual(log.filter((a) => a[0].toLowerCase() !== 'del'), [
      ['rpush', 'prop', 'a'],
      ['LPOP', 'prop'],
      ['rpush', 'prop', 'b'],
      ['LMOVE', 'prop', 'prop:dst', 'RIGHT', 'LEFT'],
      ['rpush', 'prop', 'c', 'd'],
      ['RPOP', 'prop', '2'],
    ]);
  });

  test('a blocking pop served at once is propagated as its non-blocking form', async () => {
    const r = connect();
    await r.del('now', 'now:dst');
    await r.rpush('now', '1', '2', '3', '4');
    const log = await propagated(handle, async () => {
      await r.blpop('now', 0);
      await r.brpoplpush('now', 'now:dst', 0);
      await r.blmpop(0, 1, 'now', 'LEFT', 'COUNT', 9);
      await r.lmpop(1, 'now:dst', 'RIGHT');
      await r.brpop('now', 0.01); // times out: nothing to propagate
    });
    assert.deepEqual(log, [
      ['LPOP', 'now'],
      ['RPOPLPUSH', 'now', 'now:dst'],
      ['LPOP', 'now', '2'],
      ['RPOP', 'now:dst', '1'],
    ]);
  });

  test('keyspace events follow Redis: LMOVE fires rpush/lpush on dst, then lpop/rpop and del on src', async () => {
    const r = connect();
    await r.del('ev:src', 'ev:dst');
    const events = await captureEvents(handle, async () => {
      await r.rpush('ev:src', 'a');
      await r.lmove('ev:src', 'ev:dst', 'LEFT', 'RIGHT');
      await r.rpush('ev:dst', 'b', 'c');
      await r.ltrim('ev:dst', 0, 1);
      await r.lrem('ev:dst', 0, 'b');
      await r.linsert('ev:dst', 'BEFORE', 'a', 'z');
      await r.lset('ev:dst', 0, 'y');
      await r.rpop('ev:dst', 5);
    });
    assert.deepEqual(events, [
      'rpush ev:src',
      'rpush ev:dst',
      'lpop ev:src',
      'del ev:src',
      'rpush ev:dst',
      'ltrim ev:dst',
      'lrem ev:dst',
      'linsert ev:dst',
      'lset ev:dst',
      'rpop ev:dst',
      'del ev:dst',
    ]);
  });
});

describe('node-redis', () => {
  test('BLPOP on an isolated connection is served by RPUSH', async () => {
    const producer = await connectNodeRedis(handle);
    const worker = await connectNodeRedis(handle);
    try {
      await producer.del('nr:q');
      const popped = worker.blPop('nr:q', 0);
      await blockedCount(handle, 1);
      assert.equal(await producer.rPush('nr:q', ['job']), 1);
      assert.deepEqual(await popped, { key: 'nr:q', element: 'job' });
      assert.deepEqual(await producer.lRange('nr:q', 0, -1), []);
      assert.equal(await producer.lPush('nr:q', ['x', 'y']), 2);
      assert.equal(await producer.lIndex('nr:q', 0), 'y');
    } finally {
      await producer.quit();
      await worker.quit();
    }
  });
});
