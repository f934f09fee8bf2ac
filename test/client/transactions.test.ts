/**
 * Transactions through real clients (ioredis, node-redis v4): MULTI/EXEC
 * replies, queueing vs runtime errors, WATCH optimistic locking with retries,
 * WATCH invalidation (other clients, expiry on a frozen clock, FLUSHDB,
 * SWAPDB with stale keys), blocked clients woken after EXEC, propagation of a
 * transaction's writes as MULTI ... EXEC, and CLIENT LIST / commandstats.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { WatchError } from 'redis';
import type { ServerHandle } from '../../src/index.js';
import { connectNodeRedis, serverWithClientPool } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { propagatedWithDb } from '../helpers/observe.js';

let handle: ServerHandle;
/** A new ioredis connection of the test server, closed after the last test. */
const connect = serverWithClientPool((h) => (handle = h));

describe('MULTI / EXEC with ioredis', () => {
  test('queued commands run in order and EXEC returns every reply', async () => {
    const r = connect();
    await r.del('tx:counter', 'tx:list');
    const res = await r.multi().set('tx:counter', '10').incr('tx:counter').rpush('tx:list', 'a', 'b').get('tx:counter').exec();
    assert.deepEqual(res, [
      [null, 'OK'],
      [null, 11],
      [null, 2],
      [null, '11'],
    ]);
    assert.deepEqual(await r.multi().exec(), []);
  });

  test('a runtime error is returned in place and the other commands still run', async () => {
    const r = connect();
    await r.set('tx:str', 'abc');
    const res = await r.multi().incr('tx:str').set('tx:after', 'yes').lpush('tx:str', 'x').get('tx:after').exec();
    assert.ok(res);
    assert.match(String(res[0][0]), /ERR value is not an integer or out of range/);
    assert.deepEqual(res[1], [null, 'OK']);
    assert.match(String(res[2][0]), /WRONGTYPE/);
    assert.deepEqual(res[3], [null, 'yes']);
  });

  test('a queueing error discards the whole transaction with EXECABORT', async () => {
    const r = connect();
    await r.del('tx:never');
    await assert.rejects(
      r.multi().set('tx:never', '1').call('nosuchcommand', 'x').exec(),
      /EXECABORT Transaction discarded because of previous errors/,
    );
    assert.equal(await r.exists('tx:never'), 0);
  });

  test('step by step: +QUEUED, DISCARD, and the control-command errors', async () => {
    const r = connect();
    assert.equal(await r.call('multi'), 'OK');
    assert.equal(await r.call('set', 'tx:discarded', '1'), 'QUEUED');
    await assert.rejects(r.call('multi'), /ERR MULTI calls can not be nested/);
    await assert.rejects(r.call('watch', 'x'), /ERR WATCH inside MULTI is not allowed/);
    assert.equal(await r.call('discard'), 'OK');
    assert.equal(await r.exists('tx:discarded'), 0);
    await assert.rejects(r.call('exec'), /ERR EXEC without MULTI/);
    await assert.rejects(r.call('discard'), /ERR DISCARD without MULTI/);
    await assert.rejects(r.call('exec', 'extra'), /EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command/);
  });

  test('blocking commands inside EXEC answer at once instead of blocking', async () => {
    const r = connect();
    await r.del('tx:empty', 'tx:dst');
    const res = await r.multi().blpop('tx:empty', 0).blmove('tx:empty', 'tx:dst', 'LEFT', 'RIGHT', 0).exec();
    assert.deepEqual(res, [
      [null, null],
      [null, null],
    ]);
    assert.equal(handle.server.blocking.count, 0);
  });

  test('SELECT inside a transaction keeps its effect after EXEC', async () => {
    const r = connect();
    await r.multi().select(4).set('tx:db4', 'here').exec();
    assert.equal(await r.get('tx:db4'), 'here');
    await r.select(0);
    assert.equal(await r.get('tx:db4'), null);
  });
});

describe('WATCH', () => {
  /** The classic check-and-set: WATCH, read, MULTI, write, EXEC; retry when EXEC says null. */
  async function incrementWithRetry(r: Redis, key: string): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      await r.watch(key);
      const current = Number((await r.get(key)) ?? '0');
      const res = await r.multi().set(key, String(current + 1)).exec();
      if (res !== null) return attempt;
    }
  }

  test('optimistic locking: a concurrent change fails EXEC with null, the retry succeeds', async () => {
    const a = connect();
    const b = connect();
    await a.set('tx:balance', '100');
    await a.watch('tx:balance');
    const seen = Number(await a.get('tx:balance'));
    await b.incrby('tx:balance', 50); // another client moves first
    const failed = await a.multi().set('tx:balance', String(seen - 30)).exec();
    assert.equal(failed, null);
    assert.equal(await a.get('tx:balance'), '150');
    // retry: read again under a fresh WATCH
    await a.watch('tx:balance');
    const again = Number(await a.get('tx:balance'));
    assert.deepEqual(await a.multi().set('tx:balance', String(again - 30)).exec(), [[null, 'OK']]);
    assert.equal(await a.get('tx:balance'), '120');
  });

  test('many clients incrementing with WATCH retry loops lose no update', async () => {
    await connect().del('tx:shared');
    const workers = Array.from({ length: 6 }, () => connect());
    const perWorker = 15;
    let attempts = 0;
    await Promise.all(
      workers.map(async (r) => {
        for (let i = 0; i < perWorker; i++) {
          const n = await incrementWithRetry(r, 'tx:shared');
          attempts += n;
        }
      }),
    );
    assert.equal(await workers[0].get('tx:shared'), String(workers.length * perWorker));
    assert.ok(attempts > workers.length * perWorker, `interleaved workers must have conflicted (attempts: ${attempts})`);
    assert.equal(handle.server.watches.size, 0, 'every EXEC released its watches');
  });

  test('changes that do not touch the watched key leave EXEC alone', async () => {
    const a = connect();
    const b = connect();
    await a.set('tx:w', '1');
    await a.watch('tx:w');
    await b.set('tx:unrelated', 'x');
    await b.del('tx:w-missing');
    await b.select(1);
    await b.set('tx:w', 'other db');
    assert.deepEqual(await a.multi().get('tx:w').exec(), [[null, '1']]);
  });

  test('UNWATCH, DISCARD, RESET and disconnecting release the watches', async () => {
    const a = connect();
    const b = connect();
    await a.watch('tx:u1', 'tx:u2');
    assert.equal(handle.server.watches.size, 2);
    await b.set('tx:u1', 'changed');
    assert.equal(handle.server.watches.size, 0, 'a doomed client stops watching');
    assert.equal(await a.unwatch(), 'OK');
    assert.deepEqual(await a.multi().get('tx:u1').exec(), [[null, 'changed']], 'UNWATCH cleans the dirty flag');

    await a.watch('tx:u1');
    await a.call('multi');
    await a.call('discard');
    await b.set('tx:u1', 'again');
    assert.deepEqual(await a.multi().get('tx:u1').exec(), [[null, 'again']]);

    await a.watch('tx:u1');
    assert.equal(await a.call('reset'), 'RESET');
    await b.set('tx:u1', 'third');
    assert.deepEqual(await a.multi().get('tx:u1').exec(), [[null, 'third']]);

    const c = connect();
    await c.watch('tx:u1', 'tx:u2', 'tx:u3');
    assert.equal(handle.server.watches.size, 3);
    c.disconnect();
    await waitFor(() => handle.server.watches.size === 0, 'disconnect to drop the watches');
  });

  test('a watched key that expires before EXEC fails it; a key already stale when watched does not', async () => {
    const a = connect();
    handle.clock.freeze();
    try {
      handle.server.activeExpireEnabled = false;
      await a.set('tx:ttl', 'v', 'PX', 1000);
      await a.watch('tx:ttl');
      handle.clock.advance(1500); // stale, but nothing reclaimed it
      assert.equal(await a.multi().ping().exec(), null);

      await a.set('tx:stale', 'v', 'PX', 1000);
      handle.clock.advance(1500);
      await a.watch('tx:stale');
      assert.equal(await a.get('tx:stale'), null); // lazily reclaimed: no logical change
      assert.deepEqual(await a.multi().ping().exec(), [[null, 'PONG']]);

      await a.set('tx:stale', 'v', 'PX', 1000);
      handle.clock.advance(1500);
      await a.watch('tx:stale');
      await connect().set('tx:stale', 'new value'); // a real change
      assert.equal(await a.multi().ping().exec(), null);
    } finally {
      handle.server.activeExpireEnabled = true;
      handle.clock.resume();
    }
  });

  test('FLUSHDB, SWAPDB, RENAME and MOVE touch watched keys', async () => {
    const a = connect();
    const b = connect();
    await a.set('tx:f', '1');
    await a.watch('tx:f');
    await b.flushdb();
    assert.equal(await a.multi().ping().exec(), null);

    await a.watch('tx:absent');
    await b.flushdb();
    assert.deepEqual(await a.multi().ping().exec(), [[null, 'PONG']], 'flushing a missing key changes nothing');

    await b.select(1);
    await b.set('tx:s', 'in db 1');
    await a.watch('tx:s'); // missing in db 0, exists in db 1
    await b.swapdb(0, 1);
    assert.deepEqual(await a.multi().get('tx:s').exec(), null);
    await b.swapdb(0, 1);
    await b.flushall();
    await b.select(0);

    await a.set('tx:src', 'v');
    await a.watch('tx:dst');
    await b.rename('tx:src', 'tx:dst');
    assert.equal(await a.multi().ping().exec(), null);

    await a.watch('tx:dst');
    await b.move('tx:dst', 3);
    assert.equal(await a.multi().ping().exec(), null);
  });

  test('touchAllInDb follows Redis for stale keys swapped in and out', async () => {
    // The exact whole-database rules, driven directly: a watched missing key
    // replaced by a stale one stays untouched; a stale key swapped away is no change.
    const { server } = handle;
    const a = connect();
    handle.clock.freeze();
    server.activeExpireEnabled = false;
    try {
      await a.flushall();
      await a.select(2);
      await a.set('tx:x', 'v', 'PX', 1000);
      await a.select(0);
      handle.clock.advance(1500);
      await a.watch('tx:x'); // missing in db 0
      const [db0, db2] = [server.dbs[0], server.dbs[2]];
      server.watches.touchAllInDb(db0, db2);
      server.watches.touchAllInDb(db2, db0);
      db0.swapWith(db2);
      assert.deepEqual(await a.multi().ping().exec(), [[null, 'PONG']]);

      await a.watch('tx:x'); // now a stale key in db 0
      server.watches.touchAllInDb(db0, db2);
      server.watches.touchAllInDb(db2, db0);
      db0.swapWith(db2);
      assert.deepEqual(await a.multi().ping().exec(), [[null, 'PONG']]);

      await a.set('tx:live', 'v');
      await a.watch('tx:live');
      server.watches.touchAllInDb(db0, null);
      db0.flush();
      assert.equal(await a.multi().ping().exec(), null);
    } finally {
      server.activeExpireEnabled = true;
      handle.clock.resume();
      await a.flushall();
    }
  });
});

describe('node-redis v4', () => {
  test('multi().exec() and executeIsolated with WATCH', async () => {
    const client = await connectNodeRedis(handle);
    try {
      await client.del('nr:tx');
      assert.deepEqual(await client.multi().set('nr:tx', '1').incr('nr:tx').get('nr:tx').exec(), ['OK', 2, '2']);

      await assert.rejects(
        client.executeIsolated(async (isolated) => {
          await isolated.watch('nr:tx');
          await client.set('nr:tx', 'changed elsewhere');
          return isolated.multi().set('nr:tx', 'mine').exec();
        }),
        WatchError,
      );
      assert.equal(await client.get('nr:tx'), 'changed elsewhere');

      const ok = await client.executeIsolated(async (isolated) => {
        await isolated.watch('nr:tx');
        const v = await isolated.get('nr:tx');
        return isolated.multi().set('nr:tx', `${v}+mine`).exec();
      });
      assert.deepEqual(ok, ['OK']);
      assert.equal(await client.get('nr:tx'), 'changed elsewhere+mine');
    } finally {
      await client.quit();
    }
  });
});

describe('blocked clients', () => {
  test('a client blocked on a key wakes only after EXEC, seeing the final state', async () => {
    const r = connect();
    const w = connect();
    await r.del('tx:wake');
    const popped = w.blpop('tx:wake', 0);
    await waitFor(() => handle.server.blocking.count === 1, 'the BLPOP to block');
    const res = await r.multi().rpush('tx:wake', 'first', 'second').lpop('tx:wake').exec();
    assert.deepEqual(res, [
      [null, 2],
      [null, 'first'],
    ]);
    assert.deepEqual(await popped, ['tx:wake', 'second']);
  });
});

describe('propagation', () => {
  test('writes of a transaction reach the sinks as MULTI ... EXEC, with the right dbs', async () => {
    const r = connect();
    await r.del('tx:p1', 'tx:p2');
    const log = await propagatedWithDb(handle, () => r.multi().set('tx:p1', 'a').get('tx:p1').select(5).incr('tx:p2').select(0).exec());
    assert.deepEqual(log, [
      [0, ['MULTI']],
      [0, ['set', 'tx:p1', 'a']],
      [5, ['incr', 'tx:p2']],
      [5, ['EXEC']],
    ]);
    await r.select(5);
    await r.del('tx:p2');
    await r.select(0);
  });

  test('a read-only or doomed transaction propagates nothing; a single write is not wrapped', async () => {
    const a = connect();
    const b = connect();
    await a.set('tx:ro', '1');
    assert.deepEqual(await propagatedWithDb(handle, () => a.multi().get('tx:ro').exists('tx:ro').exec()), []);
    assert.deepEqual(await propagatedWithDb(handle, () => a.multi().del('tx:nothing-here').exec()), []);
    assert.deepEqual(await propagatedWithDb(handle, () => a.multi().set('tx:one', 'x').exec()), [[0, ['set', 'tx:one', 'x']]]);
    await a.watch('tx:ro');
    await b.set('tx:ro', '2');
    assert.deepEqual(await propagatedWithDb(handle, () => a.multi().set('tx:ro', '3').incr('tx:ro').exec()), []);
  });

  test('a client woken by EXEC propagates its pop after the transaction', async () => {
    const r = connect();
    const w = connect();
    await r.del('tx:pq');
    const popped = w.blpop('tx:pq', 0);
    await waitFor(() => handle.server.blocking.count === 1, 'the BLPOP to block');
    const log = await propagatedWithDb(handle, async () => {
      await r.multi().rpush('tx:pq', 'a').set('tx:marker', '1').exec();
      await popped;
    });
    assert.deepEqual(log.map(([, argv]) => argv), [['MULTI'], ['rpush', 'tx:pq', 'a'], ['set', 'tx:marker', '1'], ['EXEC'], ['LPOP', 'tx:pq']]);
  });

  test("outside MULTI, a lazily expired key's DEL goes out on its own, before the write (as Redis 7.0)", async () => {
    const r = connect();
    handle.clock.freeze();
    handle.server.activeExpireEnabled = false;
    try {
      await r.set('tx:lazy', 'old', 'PX', 10);
      handle.clock.advance(20);
      const log = await propagatedWithDb(handle, () => r.rpush('tx:lazy', 'x'));
      assert.deepEqual(log.map(([, argv]) => argv), [['DEL', 'tx:lazy'], ['rpush', 'tx:lazy', 'x']]);
    } finally {
      handle.server.activeExpireEnabled = true;
      handle.clock.resume();
    }
  });
});

describe('introspection', () => {
  test('CLIENT LIST shows the x and d flags, multi= and multi-mem=', async () => {
    const a = connect();
    const b = connect();
    const id = await a.client('ID');
    const line = async () => (await b.client('LIST', 'ID', String(id))) as string;
    assert.match(await line(), / flags=N .* multi=-1 .* multi-mem=0 /);
    await a.watch('tx:i');
    await b.set('tx:i', 'touched');
    assert.match(await line(), / flags=d /);
    await a.call('multi');
    // A touched watch dooms the transaction: Redis still answers QUEUED but stops collecting.
    await a.call('set', 'tx:i', 'v');
    await a.call('get', 'tx:i');
    assert.match(await line(), / flags=xd .* multi=0 .* multi-mem=0 /);
    assert.equal(await a.call('exec'), null);
    await a.call('multi');
    await a.call('set', 'tx:i', 'v'); // 3+4+1 bytes + 3 pointers = 32
    await a.call('get', 'tx:i'); // 3+4 bytes + 2 pointers = 23
    assert.match(await line(), / flags=x .* multi=2 .* multi-mem=55 /);
    assert.deepEqual(await a.call('exec'), ['OK', 'v']);
    assert.match(await line(), / flags=N .* multi=-1 /);
  });

  test('errors inside EXEC count for the failing command, not for EXEC', async () => {
    const r = connect();
    await r.config('RESETSTAT');
    await r.set('tx:notnum', 'abc');
    await r.multi().incr('tx:notnum').exec();
    const stats = (await r.info('commandstats')) as string;
    assert.match(stats, /cmdstat_incr:calls=1,.*rejected_calls=0,failed_calls=1/);
    assert.match(stats, /cmdstat_exec:calls=1,.*rejected_calls=0,failed_calls=0/);
  });
});
