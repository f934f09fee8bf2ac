/**
 * SORT and SORT_RO through real clients (ioredis, node-redis): BY with
 * string keys and hash fields, GET, LIMIT, ALPHA, DESC, STORE (which wakes a
 * client blocked on the destination and touches WATCHed keys), the sorted
 * set conversion Redis performs, errors, propagation and keyspace events.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import type { ServerHandle } from '../../src/index.js';
import { serverWithClientPool } from '../helpers/server.js';
import { propagated } from '../helpers/observe.js';

let handle: ServerHandle;
const connect = serverWithClientPool((h) => (handle = h));

describe('ioredis', () => {
  test('numeric, DESC, ALPHA, LIMIT', async () => {
    const r = connect();
    await r.del('nums', 'words');
    await r.rpush('nums', 3, 1, 2, 10, -5, '2.5', '1e1');
    assert.deepEqual(await r.sort('nums'), ['-5', '1', '2', '2.5', '3', '10', '1e1']);
    assert.deepEqual(await r.sort('nums', 'DESC'), ['1e1', '10', '3', '2.5', '2', '1', '-5']);
    assert.deepEqual(await r.sort('nums', 'LIMIT', 1, 3), ['1', '2', '2.5']);
    await r.rpush('words', 'pear', 'apple', 'fig');
    assert.deepEqual(await r.sort('words', 'ALPHA'), ['apple', 'fig', 'pear']);
    assert.deepEqual(await r.sort('words', 'ALPHA', 'DESC', 'LIMIT', 0, 2), ['pear', 'fig']);
    await assert.rejects(r.sort('words'), /ERR One or more scores can't be converted into double/);
    assert.deepEqual(await r.call('SORT_RO', 'words', 'ALPHA'), ['apple', 'fig', 'pear']);
    await assert.rejects(r.call('SORT_RO', 'words', 'ALPHA', 'STORE', 'x'), /ERR syntax error/);
  });

  test('BY and GET with string keys and hash fields', async () => {
    const r = connect();
    await r.del('users');
    await r.rpush('users', 1, 2, 3);
    await r.hset('user:1', 'name', 'alice', 'age', '31');
    await r.hset('user:2', 'name', 'bob', 'age', '25');
    await r.hset('user:3', 'name', 'carol');
    await r.mset('rank_1', '2', 'rank_2', '3', 'rank_3', '1');
    assert.deepEqual(await r.sort('users', 'BY', 'rank_*'), ['3', '1', '2']);
    assert.deepEqual(await r.sort('users', 'BY', 'user:*->age', 'GET', 'user:*->name', 'GET', '#'), ['carol', '3', 'bob', '2', 'alice', '1']);
    assert.deepEqual(await r.sort('users', 'BY', 'user:*->name', 'ALPHA', 'DESC', 'GET', 'user:*->age'), [null, '25', '31']);
    assert.deepEqual(await r.sort('users', 'BY', 'nosort', 'GET', 'missing_*'), [null, null, null]);
    assert.deepEqual(await r.sort('users', 'BY', 'nosort', 'DESC'), ['3', '2', '1']);
  });

  test('STORE writes a list, an empty result deletes the destination', async () => {
    const r = connect();
    await r.del('src', 'dst');
    await r.rpush('src', 5, 4, 6);
    await r.set('dst', 'old', 'EX', 100);
    assert.equal(await r.sort('src', 'STORE', 'dst'), 3);
    assert.deepEqual(await r.lrange('dst', 0, -1), ['4', '5', '6']);
    assert.equal(await r.ttl('dst'), -1);
    assert.equal(await r.sort('src', 'GET', '#', 'GET', 'nokey_*', 'STORE', 'dst'), 6);
    assert.deepEqual(await r.lrange('dst', 0, -1), ['4', '', '5', '', '6', '']);
    assert.equal(await r.sort('src', 'LIMIT', 0, 0, 'STORE', 'dst'), 0);
    assert.equal(await r.exists('dst'), 0);
  });

  test('sorting a sorted set converts it to a skiplist, as Redis does', async () => {
    const r = connect();
    await r.del('z');
    await r.zadd('z', 1, '30', 2, '10', 3, '20');
    assert.equal(await r.object('ENCODING', 'z'), 'listpack');
    assert.deepEqual(await r.sort('z'), ['10', '20', '30']);
    assert.deepEqual(await r.sort('z', 'BY', 'nosort', 'DESC', 'LIMIT', 0, 2), ['20', '10']);
    assert.equal(await r.object('ENCODING', 'z'), 'skiplist');
  });

  test('wrong types', async () => {
    const r = connect();
    await r.set('s', 'x');
    await r.hset('h', 'f', 'v');
    await assert.rejects(r.sort('s'), /WRONGTYPE/);
    await assert.rejects(r.sort('h'), /WRONGTYPE/);
    // Option errors come first.
    await assert.rejects(r.sort('s', 'LIMIT', 'x', 1), /ERR value is not an integer or out of range/);
  });
});

describe('effects', () => {
  test('STORE wakes a client blocked on the destination', async () => {
    const r = connect();
    const blocked = connect();
    await r.del('wake', 'wsrc');
    await r.rpush('wsrc', 2, 1);
    const popped = blocked.blpop('wake', 5);
    const deadline = Date.now() + 2000;
    while (handle.server.blocking.count !== 1) {
      if (Date.now() > deadline) assert.fail('BLPOP did not block');
      await new Promise((res) => setTimeout(res, 2));
    }
    assert.equal(await r.sort('wsrc', 'STORE', 'wake'), 2);
    assert.deepEqual(await popped, ['wake', '1']);
    assert.deepEqual(await r.lrange('wake', 0, -1), ['2']);
  });

  test('STORE touches a WATCHed destination', async () => {
    const r = connect();
    const other = connect();
    await r.del('wdst', 'wsrc2');
    await r.rpush('wsrc2', 1);
    await r.watch('wdst');
    await other.sort('wsrc2', 'STORE', 'wdst');
    const res = await r.multi().get('x').exec();
    assert.equal(res, null);
  });

  test('propagation: SORT ... STORE as itself, nothing for a plain SORT', async () => {
    const r = connect();
    await r.del('p', 'pdst');
    await r.rpush('p', 2, 1);
    const log = await propagated(handle, async () => {
      await r.sort('p');
      await r.sort('p', 'STORE', 'pdst');
      await r.sort('nokey', 'STORE', 'pdst');
      await r.sort('nokey', 'STORE', 'pdst'); // nothing to delete: nothing changes
    });
    assert.deepEqual(log, [
      ['sort', 'p', 'STORE', 'pdst'],
      ['sort', 'nokey', 'STORE', 'pdst'],
    ]);
  });

  test('keyspace events: sortstore, then del for an empty result', async () => {
    const r = connect();
    await r.del('e', 'edst');
    await r.rpush('e', 1);
    const events: string[] = [];
    const notifier = handle.server.notifier;
    const savedPublish = notifier.publish;
    notifier.publish = (channel: string, message: string) => {
      if (channel.startsWith('__keyevent@')) events.push(`${channel.slice(channel.indexOf(':') + 1)} ${message}`);
      return 0;
    };
    await r.config('SET', 'notify-keyspace-events', 'KEA');
    try {
      await r.sort('e', 'STORE', 'edst');
      await r.sort('e', 'LIMIT', 0, 0, 'STORE', 'edst');
      await r.sort('e');
    } finally {
      await r.config('SET', 'notify-keyspace-events', '');
      notifier.publish = savedPublish;
    }
    assert.deepEqual(events, ['sortstore edst', 'del edst']);
  });

  test('dirty counts the stored elements', async () => {
    const r = connect();
    await r.del('d', 'ddst');
    await r.rpush('d', 3, 2, 1);
    const before = handle.server.dirty;
    await r.sort('d', 'GET', '#', 'GET', '#', 'STORE', 'ddst');
    assert.equal(handle.server.dirty - before, 6);
  });
});

describe('node-redis', () => {
  test('sort, sortRo and sortStore with options', async () => {
    const client = createClient({ url: `redis://${handle.host}:${handle.port}` });
    await client.connect();
    try {
      await client.del(['ids', 'out']);
      await client.rPush('ids', ['3', '1', '2']);
      await client.mSet({ w_1: '30', w_2: '10', w_3: '20', n_1: 'one', n_2: 'two', n_3: 'three' });
      assert.deepEqual(await client.sort('ids'), ['1', '2', '3']);
      assert.deepEqual(await client.sort('ids', { BY: 'w_*', GET: ['#', 'n_*'] }), ['2', 'two', '3', 'three', '1', 'one']);
      assert.deepEqual(await client.sort('ids', { BY: 'n_*', ALPHA: true, DIRECTION: 'DESC', LIMIT: { offset: 0, count: 2 } }), ['2', '3']);
      assert.deepEqual(await client.sortRo('ids', { DIRECTION: 'DESC' }), ['3', '2', '1']);
      assert.equal(await client.sortStore('ids', 'out', { BY: 'w_*' }), 3);
      assert.deepEqual(await client.lRange('out', 0, -1), ['2', '3', '1']);
    } finally {
      await client.quit();
    }
  });
});
