/**
 * BGSAVE's point-in-time guarantee: an image started at time T and written
 * while commands change the keyspace contains exactly the dataset as it was
 * at T (the Database.beforeWrite barrier), whatever the commands do in
 * between: overwrite, mutate in place, delete, expire, change TTLs, create
 * keys, FLUSHDB, SWAPDB, MOVE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newServer, populate, dataset, client, run, image } from './rdb-helpers.js';
import { beginSnapshot, endSnapshot, loadRdb, persistenceOf, runRdbSnapshot } from '../../src/persistence/index.js';
import type { Server } from '../../src/server/server.js';

/** Starts an image, runs `meddle` after every `every` keys written, returns the finished bytes. */
function imageWhile(server: Server, every: number, meddle: (round: number) => void): Buffer {
  const snap = beginSnapshot(server);
  const parts: Buffer[] = [];
  let round = 0;
  try {
    while (!snap.done) {
      parts.push(Buffer.from(snap.produce(every)));
      meddle(round++);
    }
  } finally {
    endSnapshot(server, snap);
  }
  return Buffer.concat(parts);
}

function loaded(buf: Buffer): unknown[] {
  const b = newServer();
  b.clock.freeze(0); // keep every key, even those that expire meanwhile
  loadRdb(b, buf);
  return dataset(b);
}

test('changes made while the image is written do not reach it', () => {
  const s = newServer();
  populate(s);
  const before = dataset(s);
  const c = client(s);
  const ops: string[][] = [
    ['SET', 'str:raw', 'changed'],
    ['APPEND', 'str:mutable', 'more'],
    ['SETRANGE', 'str:long', '0', 'ZZZ'],
    ['RPUSH', 'list:big', 'new-tail'],
    ['LPOP', 'list:small'],
    ['SADD', 'set:small', 'added'],
    ['SREM', 'set:intset', '3'],
    ['HSET', 'hash:small', 'f1', 'changed', 'new', 'field'],
    ['HDEL', 'hash:many', 'f1'],
    ['ZADD', 'zset:small', '100', 'a'],
    ['ZREM', 'zset:big', 'z1'],
    ['XADD', 'stream', '9-0', 'new', 'entry'],
    ['XGROUP', 'DESTROY', 'stream', 'g2'],
    ['XACK', 'stream', 'g1', '1-1', '2-0'],
    ['DEL', 'hll'],
    ['EXPIRE', 'str:int', '100'],
    ['PERSIST', 'ttl:ms'],
    ['SET', 'brand:new', 'not in the image'],
    ['RENAME', 'str:neg', 'str:renamed'],
    ['MOVE', 'str:big', '5'],
    ['PFADD', 'hll2', 'x'],
    ['SELECT', '5'],
    ['DEL', 'in:db5'],
    ['SELECT', '0'],
  ];
  let applied = 0;
  const buf = imageWhile(s, 1, (round) => {
    if (round >= ops.length) return;
    const r = run(s, c, ...ops[round]);
    assert.ok(!r.startsWith('-'), `${ops[round].join(' ')}: ${r}`);
    applied++;
  });
  assert.equal(applied, ops.length);
  assert.notDeepEqual(dataset(s), before);
  assert.deepEqual(loaded(buf), before);
});

test('FLUSHDB, FLUSHALL and SWAPDB during the image', () => {
  for (const op of [['FLUSHDB'], ['FLUSHALL'], ['SWAPDB', '0', '5']]) {
    const s = newServer();
    populate(s);
    const before = dataset(s);
    const c = client(s);
    const buf = imageWhile(s, 3, (round) => {
      if (round === 1) run(s, c, ...op);
      if (round === 2) {
        run(s, c, 'SET', 'str:raw', 'after');
        run(s, c, 'RPUSH', 'list:big', 'after');
        run(s, c, 'SELECT', '5');
        run(s, c, 'RPUSH', 'list:big', 'after');
        run(s, c, 'SET', 'in:db5', 'after');
        run(s, c, 'SELECT', '0');
      }
    });
    assert.deepEqual(loaded(buf), before, op.join(' '));
  }
});

test('keys that expire lazily or actively during the image keep their value and TTL in it', () => {
  const s = newServer();
  s.clock.freeze(1_000_000);
  const c = client(s);
  for (let i = 0; i < 200; i++) run(s, c, 'SET', `k${i}`, `v${i}`, 'PX', String(1000 + i));
  const before = dataset(s);
  const buf = imageWhile(s, 10, (round) => {
    if (round === 1) {
      s.clock.advance(5000);
      run(s, c, 'GET', 'k150'); // lazy expiry
      s.activeExpireCycle(); // active expiry
    }
  });
  assert.deepEqual(loaded(buf), before);
});

test('the barrier is only installed while an image is written', async () => {
  const s = newServer();
  populate(s);
  assert.equal(s.dbs[0].beforeWrite, null);
  const chunks: Buffer[] = [];
  const before = image(s);
  const runHandle = runRdbSnapshot(s, async (b) => {
    chunks.push(Buffer.from(b));
  });
  assert.notEqual(s.dbs[0].beforeWrite, null);
  run(s, client(s), 'SET', 'str:raw', 'during');
  await runHandle.done;
  assert.equal(s.dbs[0].beforeWrite, null);
  assert.equal(persistenceOf(s).snapshots.size, 0);
  const buf = Buffer.concat(chunks);
  assert.deepEqual(loaded(buf), loaded(before));
});

test('stream consumer-group changes during the image (XREADGROUP, XACK, XCLAIM, XAUTOCLAIM) do not reach it', () => {
  const s = newServer();
  const c = client(s);
  // The stream is the last key, so it is still pending when the group commands run.
  for (let i = 0; i < 20; i++) run(s, c, 'SET', `pad${i}`, 'x');
  run(s, c, 'XADD', 'st', '1-0', 'f', '1');
  run(s, c, 'XADD', 'st', '2-0', 'f', '2');
  run(s, c, 'XADD', 'st', '3-0', 'f', '3');
  run(s, c, 'XGROUP', 'CREATE', 'st', 'g', '0');
  run(s, c, 'XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 'st', '>');
  const before = dataset(s);
  const buf = imageWhile(s, 1, (round) => {
    if (round !== 0) return;
    run(s, c, 'XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '1', 'STREAMS', 'st', '>');
    run(s, c, 'XACK', 'st', 'g', '1-0');
    run(s, c, 'XCLAIM', 'st', 'g', 'carol', '0', '2-0');
    run(s, c, 'XAUTOCLAIM', 'st', 'g', 'dave', '0', '0');
  });
  assert.deepEqual(loaded(buf), before);
});

test('every kind of write right after the image starts leaves the image as it was', () => {
  const s = newServer();
  populate(s);
  const c = client(s);
  run(s, c, 'SET', 'counter', '10');
  run(s, c, 'SET', 'float', '1.5');
  run(s, c, 'SADD', 'set:other', 'q');
  run(s, c, 'SET', 'getdel', 'x');
  run(s, c, 'SET', 'getex', 'x', 'EX', '100');
  run(s, c, 'PFADD', 'hll:b', 'z');
  const before = dataset(s);
  const ops: string[][] = [
    ['LSET', 'list:small', '0', 'changed'],
    ['LINSERT', 'list:big', 'BEFORE', 'item-0-', 'inserted'],
    ['LTRIM', 'list:big', '0', '100'],
    ['LREM', 'list:small', '0', '1'],
    ['LMOVE', 'list:small', 'list:db-new', 'LEFT', 'RIGHT'],
    ['HINCRBY', 'hash:small', 'num', '5'],
    ['HINCRBYFLOAT', 'hash:many', 'f3', '0.5'],
    ['HSETNX', 'hash:big', 'fresh', 'v'],
    ['ZINCRBY', 'zset:small', '5', 'b'],
    ['ZPOPMIN', 'zset:big'],
    ['ZREMRANGEBYRANK', 'zset:big', '0', '10'],
    ['SMOVE', 'set:small', 'set:other', 'a'],
    ['SPOP', 'set:big'],
    ['SINTERSTORE', 'set:intset', 'set:bigint', 'set:bigint'],
    ['SETRANGE', 'str:raw', '0', 'HELLO'],
    ['BITFIELD', 'str:bits', 'SET', 'u8', '0', '255'],
    ['INCR', 'counter'],
    ['INCRBYFLOAT', 'float', '2'],
    ['GETDEL', 'getdel'],
    ['GETEX', 'getex', 'PERSIST'],
    ['PFMERGE', 'hll', 'hll:b'],
    ['COPY', 'str:long', 'str:text', 'REPLACE'],
    ['EXPIREAT', 'str:empty', '4000000000'],
    ['XTRIM', 'stream:big', 'MAXLEN', '10'],
    ['XSETID', 'stream', '99-0'],
    ['XGROUP', 'SETID', 'stream', 'g1', '0'],
    ['XGROUP', 'DELCONSUMER', 'stream', 'g1', 'alice'],
    ['SORT', 'list:db5', 'ALPHA', 'STORE', 'hash:small'],
    ['UNLINK', 'zset:long-member'],
  ];
  const buf = imageWhile(s, 1, (round) => {
    if (round !== 0) return;
    for (const op of ops) {
      const r = run(s, c, ...op);
      assert.ok(!r.startsWith('-'), `${op.join(' ')}: ${r}`);
    }
  });
  assert.deepEqual(loaded(buf), before);
});
