/**
 * Client tests of the generic keyspace commands, with ioredis and node-redis
 * against an in-process Mnemo. TTLs are tested with the server's clock frozen
 * and moved by hand, never by sleeping.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, startWithClients, type NodeRedisClient } from '../helpers/server.js';
import { recordEvents, recordPropagation, type Recording } from '../helpers/observe.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;

before(async () => ({ handle, io, nr } = await startWithClients(undefined, { enableReadyCheck: false })));
after(() => closeAll(handle, io, nr));

beforeEach(async () => {
  handle.clock.resume();
  handle.server.activeExpireEnabled = true;
  await io.flushall();
  await io.select(0);
});

/** Freezes the server clock; returns a function that moves it forward. */
function freeze(): (ms: number) => void {
  handle.clock.freeze();
  return (ms) => handle.clock.advance(ms);
}

/** What a propagation recording holds, as "db: CMD args" lines. */
function commandLines(rec: Recording<[number, string[]]>): string[] {
  return rec.log.map(([db, argv]) => `${db}: ${argv[0].toUpperCase()} ${argv.slice(1).join(' ')}`);
}

describe('DEL, UNLINK, EXISTS, TYPE, TOUCH (ioredis)', () => {
  test('delete counts existing keys once', async () => {
    await io.mset('a', '1', 'b', '2', 'c', '3');
    assert.equal(await io.del('a', 'a', 'nokey'), 1);
    assert.equal(await io.unlink('b', 'c'), 2);
    assert.equal(await io.dbsize(), 0);
  });

  test('EXISTS counts repeated keys; TYPE names types', async () => {
    await io.set('s', 'v');
    assert.equal(await io.exists('s', 's', 'nokey'), 2);
    assert.equal(await io.type('s'), 'string');
    assert.equal(await io.type('nokey'), 'none');
    assert.equal(await io.touch('s', 'nokey', 's'), 2);
  });

  test('wrong arity is rejected by name', async () => {
    await assert.rejects(io.call('DEL'), /ERR wrong number of arguments for 'del' command/);
    await assert.rejects(io.call('TYPE', 'a', 'b'), /ERR wrong number of arguments for 'type' command/);
  });

  test('dirty counter and "del" events per deleted key', async () => {
    await io.mset('a', '1', 'b', '2');
    const rec = recordEvents(handle, true);
    try {
      const dirty = handle.server.dirty;
      await io.del('a', 'b', 'nokey');
      assert.equal(handle.server.dirty - dirty, 2);
      assert.deepEqual(rec.log, ['0__:del a', '0__:del b']);
    } finally {
      rec.stop();
    }
  });
});

describe('expiry with a frozen clock', () => {
  test('EXPIRE/TTL/PTTL round like Redis and the key disappears on time', async () => {
    const advance = freeze();
    await io.set('k', 'v');
    assert.equal(await io.expire('k', 10), 1);
    assert.equal(await io.ttl('k'), 10);
    assert.equal(await io.pttl('k'), 10_000);
    advance(9_499);
    assert.equal(await io.pttl('k'), 501);
    assert.equal(await io.ttl('k'), 1, '501 ms rounds to 1 s');
    advance(2);
    assert.equal(await io.ttl('k'), 0, '499 ms rounds to 0 s');
    assert.equal(await io.get('k'), 'v');
    advance(499);
    assert.equal(await io.get('k'), null);
    assert.equal(await io.ttl('k'), -2);
    assert.equal(await io.exists('k'), 0);
  });

  test('EXPIREAT/PEXPIREAT/EXPIRETIME/PEXPIRETIME use absolute times', async () => {
    const now = 1_800_000_000_000;
    handle.clock.freeze(now);
    await io.set('k', 'v');
    assert.equal(await io.pexpireat('k', now + 1234), 1);
    assert.equal(await io.call('PEXPIRETIME', 'k'), now + 1234);
    assert.equal(await io.call('EXPIRETIME', 'k'), now / 1000 + 1);
    assert.equal(await io.expireat('k', now / 1000 + 60), 1);
    assert.equal(await io.ttl('k'), 60);
    assert.equal(await io.call('EXPIRETIME', 'nokey'), -2);
    await io.set('p', 'v');
    assert.equal(await io.call('EXPIRETIME', 'p'), -1);
    assert.equal(await io.expireat('k', now / 1000), 1, 'a time not in the future deletes');
    assert.equal(await io.exists('k'), 0);
  });

  test('NX, XX, GT, LT', async () => {
    freeze();
    await io.set('k', 'v');
    assert.equal(await io.call('EXPIRE', 'k', '100', 'XX'), 0);
    assert.equal(await io.call('EXPIRE', 'k', '100', 'GT'), 0, 'no TTL counts as infinite');
    assert.equal(await io.call('EXPIRE', 'k', '100', 'NX'), 1);
    assert.equal(await io.call('EXPIRE', 'k', '200', 'NX'), 0);
    assert.equal(await io.call('EXPIRE', 'k', '50', 'GT'), 0);
    assert.equal(await io.call('EXPIRE', 'k', '150', 'GT'), 1);
    assert.equal(await io.call('EXPIRE', 'k', '200', 'LT'), 0);
    assert.equal(await io.call('EXPIRE', 'k', '20', 'LT'), 1);
    assert.equal(await io.ttl('k'), 20);
    await assert.rejects(io.call('EXPIRE', 'k', '1', 'NX', 'XX'), /^ReplyError: ERR NX and XX, GT or LT options at the same time are not compatible$/);
    await assert.rejects(io.call('EXPIRE', 'k', '1', 'GT', 'LT'), /^ReplyError: ERR GT and LT options at the same time are not compatible$/);
    await assert.rejects(io.call('EXPIRE', 'k', '9223372036854775807'), /^ReplyError: ERR invalid expire time in 'expire' command$/);
    await assert.rejects(io.call('PEXPIRE', 'k', '9223372036854775807'), /^ReplyError: ERR invalid expire time in 'pexpire' command$/);
    assert.equal(await io.ttl('k'), 20, 'errors change nothing');
  });

  test('a past time deletes the key, fires "del" and propagates DEL', async () => {
    freeze();
    await io.set('k', 'v');
    const rec = recordEvents(handle, true);
    const prop = recordPropagation(handle);
    try {
      assert.equal(await io.pexpire('k', -1), 1);
      assert.equal(await io.exists('k'), 0);
      assert.deepEqual(rec.log, ['0__:del k']);
      assert.deepEqual(commandLines(prop), ['0: DEL k']);
    } finally {
      rec.stop();
      prop.stop();
    }
  });

  test('relative EXPIRE is propagated as PEXPIREAT with the absolute time', async () => {
    const now = 1_800_000_000_000;
    handle.clock.freeze(now);
    await io.set('k', 'v');
    const rec = recordEvents(handle, true);
    const prop = recordPropagation(handle);
    try {
      await io.expire('k', 10);
      await io.call('PEXPIRE', 'k', '5000', 'LT');
      await io.pexpireat('k', now + 1000);
      assert.deepEqual(commandLines(prop), [
        `0: PEXPIREAT k ${now + 10_000}`,
        `0: PEXPIREAT k ${now + 5000} LT`,
        `0: PEXPIREAT k ${now + 1000}`,
      ]);
      assert.deepEqual(rec.log, ['0__:expire k', '0__:expire k', '0__:expire k']);
    } finally {
      rec.stop();
      prop.stop();
    }
  });

  test('PERSIST removes the TTL once', async () => {
    freeze();
    await io.set('k', 'v', 'EX', 100);
    const rec = recordEvents(handle, true);
    try {
      assert.equal(await io.persist('k'), 1);
      assert.equal(await io.persist('k'), 0);
      assert.equal(await io.persist('nokey'), 0);
      assert.equal(await io.ttl('k'), -1);
      assert.deepEqual(rec.log, ['0__:persist k']);
    } finally {
      rec.stop();
    }
  });

  test('lazily expired keys fire "expired" once', async () => {
    const advance = freeze();
    handle.server.activeExpireEnabled = false;
    await io.set('k', 'v', 'PX', 10);
    const rec = recordEvents(handle, true);
    try {
      advance(10);
      assert.equal(await io.get('k'), null);
      assert.equal(await io.get('k'), null);
      assert.deepEqual(rec.log, ['0__:expired k']);
    } finally {
      rec.stop();
    }
  });

  test('expired keys: hidden from KEYS, EXISTS, RANDOMKEY and SCAN; DBSIZE counts them until reclaimed', async () => {
    const advance = freeze();
    handle.server.activeExpireEnabled = false;
    await io.set('live', 'v');
    for (let i = 0; i < 50; i++) await io.set(`dead${i}`, 'v', 'PX', 100);
    advance(100);
    assert.equal(await io.dbsize(), 51, 'not reclaimed yet, as in Redis');
    assert.deepEqual(await io.keys('*'), ['live']);
    assert.deepEqual(await io.keys('dead1'), []);
    assert.equal(await io.dbsize(), 51, 'KEYS does not reclaim');
    for (let i = 0; i < 20; i++) assert.equal(await io.randomkey(), 'live');
    assert.deepEqual(await io.scan('0', 'COUNT', 1000), ['0', ['live']]);
    assert.equal(await io.dbsize(), 1, 'SCAN reclaimed what it met');
  });

  test('the active expiry cycle reclaims keys without any access', async () => {
    const advance = freeze();
    handle.server.activeExpireEnabled = false;
    for (let i = 0; i < 200; i++) await io.set(`k${i}`, 'v', 'PX', 100);
    await io.set('forever', 'v');
    advance(100);
    assert.equal(await io.dbsize(), 201);
    handle.server.activeExpireEnabled = true;
    handle.server.activeExpireCycle();
    assert.equal(await io.dbsize(), 1);
  });
});

describe('RENAME, RENAMENX, COPY, MOVE', () => {
  test('RENAME keeps the TTL and replaces the destination', async () => {
    freeze();
    await io.set('a', '1', 'EX', 100);
    await io.set('b', '2', 'EX', 5);
    const rec = recordEvents(handle, true);
    try {
      assert.equal(await io.rename('a', 'b'), 'OK');
      assert.equal(await io.get('b'), '1');
      assert.equal(await io.ttl('b'), 100);
      assert.equal(await io.exists('a'), 0);
      assert.deepEqual(rec.log, ['0__:rename_from a', '0__:rename_to b']);
    } finally {
      rec.stop();
    }
    await assert.rejects(io.rename('nokey', 'x'), /^ReplyError: ERR no such key$/);
    assert.equal(await io.rename('b', 'b'), 'OK');
  });

  test('RENAMENX refuses an existing destination', async () => {
    await io.mset('a', '1', 'b', '2');
    assert.equal(await io.renamenx('a', 'b'), 0);
    assert.equal(await io.renamenx('a', 'c'), 1);
    assert.deepEqual(await io.mget('a', 'b', 'c'), [null, '2', '1']);
  });

  test('COPY within and across databases, with TTL, REPLACE and errors', async () => {
    freeze();
    await io.set('src', 'v', 'EX', 100);
    const rec = recordEvents(handle, true);
    try {
      assert.equal(await io.copy('src', 'dst'), 1);
      assert.equal(await io.copy('src', 'dst'), 0);
      assert.equal(await io.copy('src', 'dst', 'REPLACE'), 1);
      assert.equal(await io.ttl('dst'), 100);
      assert.equal(await io.copy('src', 'src', 'DB', 3), 1);
      assert.deepEqual(rec.log, ['0__:copy_to dst', '0__:copy_to dst', '3__:copy_to src']);
    } finally {
      rec.stop();
    }
    await assert.rejects(io.copy('src', 'src'), /^ReplyError: ERR source and destination objects are the same$/);
    await assert.rejects(io.copy('src', 'x', 'DB', 16), /^ReplyError: ERR DB index is out of range$/);
    await io.select(3);
    assert.equal(await io.get('src'), 'v');
    assert.equal(await io.ttl('src'), 100);
  });

  test('COPY of an in-place-modified string does not share its buffer', async () => {
    await io.set('s', 'ab');
    await io.append('s', 'c');
    assert.equal(await io.copy('s', 't'), 1);
    await io.append('t', 'd');
    await io.setrange('s', 0, 'X');
    assert.equal(await io.get('s'), 'Xbc');
    assert.equal(await io.get('t'), 'abcd');
  });

  test('MOVE moves the key and its TTL unless it exists there', async () => {
    freeze();
    await io.set('k', 'v', 'EX', 50);
    const rec = recordEvents(handle, true);
    try {
      assert.equal(await io.move('k', 1), 1);
      assert.deepEqual(rec.log, ['0__:move_from k', '1__:move_to k']);
    } finally {
      rec.stop();
    }
    assert.equal(await io.exists('k'), 0);
    await io.set('k', 'other');
    assert.equal(await io.move('k', 1), 0);
    await assert.rejects(io.move('k', 0), /^ReplyError: ERR source and destination objects are the same$/);
    await io.select(1);
    assert.equal(await io.get('k'), 'v');
    assert.equal(await io.ttl('k'), 50);
  });
});

describe('KEYS, SCAN, RANDOMKEY', () => {
  test('KEYS with glob patterns and escapes', async () => {
    await io.mset('one', '1', 'two', '2', 'three', '3', 'a*b', 'x');
    assert.deepEqual((await io.keys('*')).sort(), ['a*b', 'one', 'three', 'two']);
    assert.deepEqual((await io.keys('t*')).sort(), ['three', 'two']);
    assert.deepEqual(await io.keys('?ne'), ['one']);
    assert.deepEqual(await io.keys('a\\*b'), ['a*b']);
    assert.deepEqual(await io.keys('one'), ['one']);
    assert.deepEqual(await io.keys('none'), []);
  });

  test('KEYS with a literal pattern is a lookup, not a walk of the keyspace', async () => {
    const db = handle.server.dbs[0];
    for (let i = 0; i < 300_000; i++) db.set(`key:${i}`, 'v');
    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      const t = performance.now();
      await fn();
      return performance.now() - t;
    };
    const pipeline = (pattern: string, n: number) => () => {
      const p = io.pipeline();
      for (let i = 0; i < n; i++) p.keys(pattern);
      return p.exec();
    };
    await time(pipeline('key:1', 10)); // warm up
    await time(pipeline('key:1*', 1));
    // 100 literal lookups must cost less than 5 walks of 300k keys; were a literal pattern
    // walked too, they would cost 20 times more than those walks. Best of 3 against noise.
    let literal = Infinity;
    for (let r = 0; r < 3; r++) literal = Math.min(literal, await time(pipeline('key:12345', 100)));
    const walk = await time(pipeline('key:12345*', 5));
    assert.ok(literal < walk, `100 literal KEYS took ${literal.toFixed(1)} ms, 5 pattern walks ${walk.toFixed(1)} ms`);
    assert.deepEqual(await io.keys('key:12345'), ['key:12345']);
  });

  test('scanStream returns every key exactly as KEYS does, with MATCH, COUNT and TYPE', async () => {
    const p = io.pipeline();
    for (let i = 0; i < 1000; i++) p.set(`user:${i}`, 'v');
    for (let i = 0; i < 100; i++) p.set(`other:${i}`, 'v');
    p.rpush('alist', 'x');
    await p.exec();
    const collect = async (opts: { match?: string; count?: number; type?: string }): Promise<string[]> => {
      const seen = new Set<string>();
      for await (const batch of io.scanStream(opts)) for (const k of batch as string[]) seen.add(k);
      return [...seen].sort();
    };
    assert.equal((await collect({ count: 7 })).length, 1101);
    const users = await collect({ match: 'user:*', count: 50 });
    assert.deepEqual(users, (await io.keys('user:*')).sort());
    assert.equal(users.length, 1000);
    assert.deepEqual(await collect({ type: 'list' }), ['alist']);
    assert.equal((await collect({ type: 'string', match: 'other:*' })).length, 100);
  });

  test('SCAN guarantee: keys present for the whole scan are returned while others come and go', async () => {
    for (let i = 0; i < 500; i++) await io.set(`stable:${i}`, 'v');
    for (let i = 0; i < 500; i++) await io.set(`volatile:${i}`, 'v');
    const seen = new Set<string>();
    let cursor = '0';
    let round = 0;
    do {
      const [next, keys] = await io.scan(cursor, 'COUNT', 25);
      for (const k of keys) seen.add(k);
      cursor = next;
      // Between calls: delete some volatile keys, add new ones.
      await io.del(`volatile:${round * 7 % 500}`, `volatile:${(round * 13 + 1) % 500}`);
      await io.set(`new:${round}`, 'v');
      round++;
      assert.ok(round < 1000, 'scan must end');
    } while (cursor !== '0');
    for (let i = 0; i < 500; i++) assert.ok(seen.has(`stable:${i}`), `stable:${i} missing`);
  });

  test('SCAN errors and cursor format', async () => {
    await assert.rejects(io.scan('abc'), /^ReplyError: ERR invalid cursor$/);
    await assert.rejects(io.call('SCAN', '0', 'COUNT', '0'), /^ReplyError: ERR syntax error$/);
    await assert.rejects(io.call('SCAN', '0', 'COUNT', 'x'), /^ReplyError: ERR value is not an integer or out of range$/);
    await io.set('k', 'v');
    const [cursor, keys] = await io.scan('0');
    assert.equal(typeof cursor, 'string');
    assert.equal(cursor, '0');
    assert.deepEqual(keys, ['k']);
  });

  test('RANDOMKEY samples all keys and replies null when empty', async () => {
    assert.equal(await io.randomkey(), null);
    await io.mset('a', '1', 'b', '2', 'c', '3');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add((await io.randomkey())!);
    assert.deepEqual([...seen].sort(), ['a', 'b', 'c']);
  });
});

describe('DBSIZE, FLUSHDB, FLUSHALL, SWAPDB', () => {
  test('FLUSHDB empties only the selected database; FLUSHALL all of them', async () => {
    await io.set('a', '1');
    await io.select(1);
    await io.set('b', '1');
    assert.equal(await io.flushdb(), 'OK');
    assert.equal(await io.dbsize(), 0);
    await io.select(0);
    assert.equal(await io.dbsize(), 1);
    await io.select(2);
    await io.set('c', '1');
    assert.equal(await io.call('FLUSHALL', 'SYNC'), 'OK');
    for (const db of handle.server.dbs) assert.equal(db.size, 0);
    await assert.rejects(io.call('FLUSHDB', 'now'), /^ReplyError: ERR syntax error$/);
  });

  test('FLUSHDB, FLUSHALL and SWAPDB signal whole databases once (WATCH, tracking)', async () => {
    await io.mset('a', '1', 'b', '2');
    await io.select(1);
    await io.set('c', '3');
    await io.select(0);
    const calls: string[] = [];
    const hook = (emptied: { id: number; size: number }, replacedWith: { id: number } | null): void => {
      calls.push(`${emptied.id}<-${replacedWith === null ? 'empty' : replacedWith.id}:${emptied.size}`);
    };
    handle.server.flushHooks.push(hook);
    try {
      await io.swapdb(0, 1);
      // Called before the swap, with each side's old contents.
      assert.deepEqual(calls, ['0<-1:2', '1<-0:1']);
      calls.length = 0;
      await io.flushdb();
      assert.deepEqual(calls, ['0<-empty:1']);
      calls.length = 0;
      await io.flushall();
      assert.equal(calls.length, handle.server.dbs.length);
      assert.ok(calls.includes('1<-empty:2'), calls.join());
    } finally {
      handle.server.flushHooks.splice(handle.server.flushHooks.indexOf(hook), 1);
    }
  });

  test('SWAPDB exchanges contents and TTLs; clients keep their db index', async () => {
    freeze();
    await io.set('k', 'zero');
    await io.select(1);
    await io.set('k', 'one', 'EX', 30);
    assert.equal(await io.swapdb(0, 1), 'OK');
    assert.equal(await io.get('k'), 'zero');
    assert.equal(await io.ttl('k'), -1);
    await io.select(0);
    assert.equal(await io.get('k'), 'one');
    assert.equal(await io.ttl('k'), 30);
    await assert.rejects(io.swapdb(0, 16), /^ReplyError: ERR DB index is out of range$/);
    await assert.rejects(io.call('SWAPDB', 'x', '0'), /^ReplyError: ERR invalid first DB index$/);
    await assert.rejects(io.call('SWAPDB', '0', 'x'), /^ReplyError: ERR invalid second DB index$/);
  });
});

describe('OBJECT', () => {
  test('ENCODING and REFCOUNT of strings', async () => {
    await io.mset('int', '123', 'small', '7', 'str', 'hello', 'long', 'x'.repeat(45));
    assert.equal(await io.object('ENCODING', 'int'), 'int');
    assert.equal(await io.object('ENCODING', 'str'), 'embstr');
    assert.equal(await io.object('ENCODING', 'long'), 'raw');
    assert.equal(await io.object('ENCODING', 'nokey'), null);
    assert.equal(await io.object('REFCOUNT', 'small'), 2147483647, 'shared integer');
    assert.equal(await io.object('REFCOUNT', 'str'), 1);
    await io.append('str', '!');
    assert.equal(await io.object('ENCODING', 'str'), 'raw');
  });

  test('IDLETIME grows with the clock; reads reset it, TTL/TYPE/EXISTS/OBJECT do not', async () => {
    const advance = freeze();
    await io.set('k', 'v');
    advance(10_000);
    assert.equal(await io.object('IDLETIME', 'k'), 10);
    await io.ttl('k');
    await io.type('k');
    await io.exists('k');
    await io.object('ENCODING', 'k');
    assert.equal(await io.object('IDLETIME', 'k'), 10);
    await io.get('k');
    assert.equal(await io.object('IDLETIME', 'k'), 0);
    advance(3_000);
    await io.touch('k');
    assert.equal(await io.object('IDLETIME', 'k'), 0);
  });

  test('FREQ needs an LFU policy; IDLETIME refuses one', async () => {
    await io.set('k', 'v');
    await assert.rejects(io.object('FREQ', 'k'), /^ReplyError: ERR An LFU maxmemory policy is not selected/);
    const cfg = handle.server.config;
    assert.equal(cfg.configSet([['maxmemory-policy', 'allkeys-lfu']]), null);
    try {
      assert.equal(typeof (await io.object('FREQ', 'k')), 'number');
      await assert.rejects(io.object('IDLETIME', 'k'), /^ReplyError: ERR An LFU maxmemory policy is selected/);
    } finally {
      cfg.configSet([['maxmemory-policy', 'noeviction']]);
    }
  });

  test('HELP lists the subcommands', async () => {
    const help = (await io.object('HELP')) as string[];
    assert.equal(help[0], 'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    assert.ok(help.includes('ENCODING <key>'));
    assert.equal(help.length, 15);
  });
});

describe('node-redis', () => {
  test('generic commands', async () => {
    await nr.set('a', '1');
    assert.equal(await nr.exists(['a', 'nokey']), 1);
    assert.equal(await nr.type('a'), 'string');
    assert.equal(await nr.copy('a', 'b'), true);
    assert.equal(await nr.rename('b', 'c'), 'OK');
    assert.equal(await nr.renameNX('c', 'a'), false);
    assert.deepEqual((await nr.keys('*')).sort(), ['a', 'c']);
    assert.equal(await nr.dbSize(), 2);
    assert.equal(await nr.objectEncoding('a'), 'int');
    assert.equal(await nr.del(['a', 'c']), 2);
    assert.equal(await nr.randomKey(), null);
  });

  test('expiry with a frozen clock', async () => {
    const advance = freeze();
    await nr.set('k', 'v');
    assert.equal(await nr.expire('k', 30), true);
    assert.equal(await nr.ttl('k'), 30);
    advance(20_000);
    assert.equal(await nr.pTTL('k'), 10_000);
    assert.equal(await nr.persist('k'), true);
    assert.equal(await nr.ttl('k'), -1);
    assert.equal(await nr.pExpire('k', 5), true);
    advance(5);
    assert.equal(await nr.exists('k'), 0);
  });

  test('scanIterator visits every key once on a stable keyspace', async () => {
    for (let i = 0; i < 300; i++) await nr.set(`k${i}`, 'v');
    const seen: string[] = [];
    for await (const key of nr.scanIterator({ COUNT: 20, MATCH: 'k*' })) seen.push(key);
    assert.equal(seen.length, 300);
    assert.equal(new Set(seen).size, 300);
  });

  test('MOVE and SWAPDB', async () => {
    await nr.set('m', 'v');
    assert.equal(await nr.move('m', 4), true);
    assert.equal(await nr.exists('m'), 0);
    assert.equal(await nr.swapDb(0, 4), 'OK');
    assert.equal(await nr.get('m'), 'v');
  });
});
