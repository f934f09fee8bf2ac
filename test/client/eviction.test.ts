/**
 * maxmemory and eviction (src/server/eviction.ts), with ioredis against an
 * in-process Mnemo: each policy fills the server well past maxmemory and the
 * test checks which keys survive and that the accounted memory stays within
 * 10% of maxmemory; the -OOM refusal; what an eviction does (event, stats,
 * propagation, WATCH); OBJECT FREQ as redis-server 7.0.15 reports it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import net from 'node:net';
import { accountedMemory, keyBytes, plainStringKeyBytes, REDIS_STARTUP_BYTES } from '../../src/server/eviction.js';
import { evictionClientMemory } from '../../src/observability/info.js';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { recordEvents, recordPropagation } from '../helpers/observe.js';
import { waitFor } from '../helpers/wait.js';

const MAXMEMORY = 2 * 1024 * 1024;
/** Batches of 1000 new keys a fill writes: about 2.5 times what fits in 2mb. */
const ROUNDS = 16;
const VALUE = 'v'.repeat(100);

const open: Array<[ServerHandle, Redis]> = [];
after(async () => {
  for (const [h, io] of open) await closeAll(h, io);
});

/** A server with these directives (maxmemory 4mb unless given) and a client, clock frozen. */
async function start(config: Record<string, string>): Promise<[ServerHandle, Redis]> {
  // No save points: the frozen clock moves by hours in some tests.
  const handle = await startTestServer({ save: '', maxmemory: String(MAXMEMORY), ...config });
  handle.clock.freeze();
  const io = await connectIo(handle);
  open.push([handle, io]);
  return [handle, io];
}

function used(handle: ServerHandle): number {
  return accountedMemory(handle.server);
}

/** Runs commands in one pipeline; fails on any error reply. */
async function run(io: Redis, cmds: Array<Array<string | number>>): Promise<unknown[]> {
  const res = (await io.pipeline(cmds.map(([name, ...args]) => [String(name).toLowerCase(), ...args.map(String)])).exec())!;
  for (const [err] of res) if (err) throw err;
  return res.map(([, v]) => v);
}

/** How many of the keys still exist. */
async function surviving(io: Redis, keys: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < keys.length; i += 1000) n += await io.exists(...keys.slice(i, i + 1000));
  return n;
}

/** A numeric INFO field. */
function statField(info: string, name: string): number {
  const m = new RegExp(`^${name}:(\\d+)\r$`, 'm').exec(info);
  assert.ok(m, name);
  return Number(m[1]);
}

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

/** Memory after a batch: never more than 10% over maxmemory. */
function assertBounded(handle: ServerHandle, when: string): void {
  const n = used(handle);
  assert.ok(n <= MAXMEMORY * 1.1, `${when}: used ${n} > maxmemory + 10%`);
}

/**
 * Fills the server with `rounds` batches of 1000 new keys (about 2.5 times
 * what fits), calling `between` before each batch; checks the memory bound
 * after every batch and that the server ends near maxmemory.
 */
async function fill(handle: ServerHandle, io: Redis, opts: { rounds: number; ttl?: (i: number) => number; between?: () => Promise<void> }): Promise<string[]> {
  const cold: string[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    if (opts.between) await opts.between();
    const batch: string[][] = [];
    for (let i = 0; i < 1000; i++) {
      const key = `cold:${r}:${i}`;
      cold.push(key);
      const ttl = opts.ttl?.(r * 1000 + i);
      batch.push(ttl === undefined ? ['SET', key, VALUE] : ['SET', key, VALUE, 'EX', String(ttl)]);
    }
    await run(io, batch);
    assertBounded(handle, `round ${r}`);
  }
  const n = used(handle);
  assert.ok(n >= MAXMEMORY * 0.9, `the server ends full (used ${n})`);
  return cold;
}

describe('accounting', () => {
  test('the figure follows writes and deletes, deterministically', async () => {
    const [handle, io] = await start({ maxmemory: '100mb' });
    const empty = used(handle);
    assert.equal(empty, REDIS_STARTUP_BYTES);
    await io.set('k', 'x'.repeat(1000));
    const one = used(handle);
    // sds(1000) rounds to 1024, plus the robj, the key's sds and dictEntry, the table's buckets.
    assert.ok(one - empty > 1000 && one - empty < 1200, `one 1000-byte string costs ${one - empty}`);
    await io.rpush('l', ...range('e', 500));
    await io.hset('h', Object.fromEntries(range('f', 20).map((f) => [f, 'x'.repeat(20)])));
    await io.sadd('s', ...range('m', 300));
    await io.zadd('z', ...range('m', 200).flatMap((m, i) => [String(i * 1.5), m]));
    await io.xadd('x', '*', 'a', '1');
    const all = used(handle);
    // The same data gives the same figure on another server.
    const [other, io2] = await start({ maxmemory: '100mb' });
    await io2.set('k', 'x'.repeat(1000));
    await io2.rpush('l', ...range('e', 500));
    await io2.hset('h', Object.fromEntries(range('f', 20).map((f) => [f, 'x'.repeat(20)])));
    await io2.sadd('s', ...range('m', 300));
    await io2.zadd('z', ...range('m', 200).flatMap((m, i) => [String(i * 1.5), m]));
    // Streams stamp IDs with the (frozen) clock: same time, same IDs, same size.
    other.clock.freeze(handle.clock.now());
    await io2.xadd('x', '*', 'a', '1');
    assert.equal(used(other), all);
    // Growing an aggregate in place is seen; deleting everything returns to the start.
    await io.hset('h', 'big', 'y'.repeat(5000));
    assert.ok(used(handle) > all + 5000, 'a big field makes a small hash a hash table with a big entry');
    await io.del('k', 'l', 'h', 's', 'z', 'x');
    assert.equal(used(handle), empty);
    // INFO: used_memory is our figure plus the client buffers, which eviction counts too (but
    // replicas', mem_not_counted_for_evict), as in Redis.
    const info = await io.info('memory');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)\r$`, 'm').exec(info)![1]);
    assert.ok(field('mem_clients_normal') > 0, 'the client reply buffer');
    assert.equal(field('used_memory'), used(handle) + field('mem_clients_normal') + field('mem_clients_slaves'));
    assert.equal(field('mem_not_counted_for_evict'), field('mem_clients_slaves'));
    assert.equal(field('used_memory_startup'), REDIS_STARTUP_BYTES);
    assert.ok(field('used_memory_v8_heap') > 0, 'the V8 heap figure stays available');
  });

  test('the figure is kept without maxmemory, and INFO used_memory reports it', async () => {
    const [handle, io] = await start({ maxmemory: '0' });
    await run(io, range('k', 1000).map((k) => ['SET', k, VALUE]));
    const n = used(handle);
    assert.ok(n > REDIS_STARTUP_BYTES + 1000 * 100, `1000 keys counted (${n})`);
    const field = async (name: string) => Number(new RegExp(`^${name}:(\\d+)\r$`, 'm').exec(await io.info('memory'))![1]);
    const before = await field('used_memory');
    assert.equal(before - (await field('mem_clients_normal')), n);
    // Deterministic: deleting the keys lowers used_memory at once (no garbage collection needed).
    await run(io, range('k', 1000).map((k) => ['DEL', k]));
    assert.equal(used(handle), REDIS_STARTUP_BYTES);
    assert.ok((await field('used_memory_peak')) >= before);
    await io.config('SET', 'maxmemory', '100mb');
    assert.equal(used(handle), REDIS_STARTUP_BYTES);
  });
});

describe('accounting as Redis counts', () => {
  test('plain strings take a direct path to the same figure', () => {
    const values = ['', 'x', '0', '12345', '-7', '007', '9223372036854775807', '9223372036854775808', 'v'.repeat(44), 'v'.repeat(45), 'v'.repeat(5000)];
    for (const key of ['k', 'k'.repeat(40), 'k'.repeat(300)]) {
      for (const v of values) assert.equal(plainStringKeyBytes(key.length, v), keyBytes(null as never, key, v), `${key.length} ${v.length}`);
    }
  });

  test('a db table does not grow its buckets past maxmemory (dictExpandAllowed)', async () => {
    const [, io] = await start({ maxmemory: '0', 'maxmemory-policy': 'allkeys-random' });
    await run(io, range('k', 4096).map((k) => ['SET', k, 'v']));
    const used = Number(/^used_memory:(\d+)\r$/m.exec(await io.info('memory'))![1]);
    await io.config('SET', 'maxmemory', String(used + 10 * 1024));
    // 4097 keys would double the buckets (+64 KB): not allowed, so nothing is evicted.
    await io.set('x1', 'v');
    await io.set('x2', 'v');
    assert.equal(await io.dbsize(), 4098);
    // Without maxmemory the table grows as usual.
    await io.config('SET', 'maxmemory', '0');
    const grown = Number(/^used_memory:(\d+)\r$/m.exec(await io.info('memory'))![1]);
    assert.ok(grown >= used + 4096 * 8, `buckets doubled (${used} -> ${grown})`);
  });

  test("mem_clients_normal is the sum of the clients' CLIENT LIST tot-mem, the figure client eviction counts", async () => {
    const [, io] = await start({ maxmemory: '0' });
    // A 600 KB reply, sent and read: the reply buffer that carried it is not client memory any more
    // (Redis's reply buffer is back to its modelled size), so neither maxmemory nor client eviction
    // counts it. Before, mem_clients_normal counted the grown buffer while client eviction did not,
    // so keys could be evicted for client memory that client eviction had not yet seen.
    await io.setrange('big', 600 * 1024 - 1, 'x'); // a short command: no big query buffer
    assert.equal((await io.get('big'))!.length, 600 * 1024);
    const list = (await io.client('LIST')) as string;
    let totMem = 0;
    for (const m of list.matchAll(/ tot-mem=(\d+) /g)) totMem += Number(m[1]);
    const normal = Number(/^mem_clients_normal:(\d+)\r$/m.exec(await io.info('memory'))![1]);
    assert.ok(normal < 200 * 1024, `mem_clients_normal ${normal} holds no 600 KB reply buffer`);
    // Up to the running command's own arguments (CLIENT LIST then, INFO memory now).
    assert.ok(Math.abs(normal - totMem) < 256, `mem_clients_normal ${normal}, CLIENT LIST tot-mem sum ${totMem}`);
  });

  test('client buffers count towards maxmemory: a big query buffer evicts keys', async () => {
    const [handle, io] = await start({ maxmemory: '0', 'maxmemory-policy': 'allkeys-lru' });
    await run(io, range('k', 1000).map((k) => ['SET', k, VALUE]));
    const used = Number(/^used_memory:(\d+)\r$/m.exec(await io.info('memory'))![1]);
    await io.config('SET', 'maxmemory', String(used + 50 * 1024));
    // Half of a 1 MB argument: it waits in the query buffer.
    const sock = net.connect(handle.port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${1 << 20}\r\n` + 'x'.repeat(500 * 1024));
    try {
      await waitFor(async () => Number(/^mem_clients_normal:(\d+)\r$/m.exec(await io.info('memory'))![1]) > 400 * 1024);
      await io.ping();
      assert.ok((await io.dbsize()) < 1000, 'keys were evicted to make room for the client buffer');
    } finally {
      sock.destroy();
    }
  });
});

describe('policies', () => {
  test('allkeys-lru: recently used keys survive', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'allkeys-lru' });
    const hot = range('hot', 500);
    await run(io, hot.map((k) => ['SET', k, VALUE]));
    // Each second: read the hot keys, then write new ones.
    const cold = await fill(handle, io, {
      rounds: ROUNDS,
      between: async () => {
        handle.clock.advance(1000);
        await run(io, hot.map((k) => ['GET', k]));
      },
    });
    const hotRate = (await surviving(io, hot)) / hot.length;
    const coldRate = (await surviving(io, cold)) / cold.length;
    assert.ok(hotRate >= 0.95, `hot keys kept: ${hotRate}`);
    assert.ok(coldRate < 0.5, `most cold keys evicted: ${coldRate}`);
    // LRU order: the newest cold keys survive more than the oldest.
    const oldest = (await surviving(io, cold.slice(0, 4000))) / 4000;
    const newest = (await surviving(io, cold.slice(-4000))) / 4000;
    assert.ok(oldest < 0.1 && newest > 0.9, `oldest ${oldest}, newest ${newest}`);
    const stats = await io.info('stats');
    assert.match(stats, /evicted_keys:[1-9]\d{3,}/);
  });

  test('volatile-lru: only keys with a TTL go, least recently used first', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'volatile-lru' });
    const keep = range('keep', 500);
    await run(io, keep.map((k) => ['SET', k, VALUE]));
    const hot = range('hot', 500);
    await run(io, hot.map((k) => ['SET', k, VALUE, 'EX', '100000']));
    const cold = await fill(handle, io, {
      rounds: ROUNDS,
      ttl: () => 100000,
      between: async () => {
        handle.clock.advance(1000);
        await run(io, hot.map((k) => ['GET', k]));
      },
    });
    assert.equal(await surviving(io, keep), keep.length, 'keys without TTL are never evicted');
    const hotRate = (await surviving(io, hot)) / hot.length;
    const coldRate = (await surviving(io, cold)) / cold.length;
    assert.ok(hotRate >= 0.95 && coldRate < 0.5, `hot ${hotRate}, cold ${coldRate}`);
  });

  test('allkeys-lfu: frequently used keys survive', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'allkeys-lfu' });
    const hot = range('hot', 500);
    await run(io, hot.map((k) => ['SET', k, VALUE]));
    for (let j = 0; j < 50; j++) await run(io, hot.map((k) => ['GET', k]));
    // Hot keys' counters climbed above the 5 new keys start with (log factor 10).
    assert.ok(Number(await io.object('FREQ', 'hot:0')) > 5);
    const cold = await fill(handle, io, { rounds: ROUNDS });
    const hotRate = (await surviving(io, hot)) / hot.length;
    const coldRate = (await surviving(io, cold)) / cold.length;
    assert.ok(hotRate >= 0.95, `hot keys kept: ${hotRate}`);
    assert.ok(coldRate < 0.5, `most cold keys evicted: ${coldRate}`);
  });

  test('volatile-lfu: only keys with a TTL go, least frequently used first', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'volatile-lfu' });
    const keep = range('keep', 500);
    await run(io, keep.map((k) => ['SET', k, VALUE]));
    const hot = range('hot', 500);
    await run(io, hot.map((k) => ['SET', k, VALUE, 'EX', '100000']));
    for (let j = 0; j < 50; j++) await run(io, hot.map((k) => ['GET', k]));
    const cold = await fill(handle, io, { rounds: ROUNDS, ttl: () => 100000 });
    assert.equal(await surviving(io, keep), keep.length);
    const hotRate = (await surviving(io, hot)) / hot.length;
    const coldRate = (await surviving(io, cold)) / cold.length;
    assert.ok(hotRate >= 0.95 && coldRate < 0.5, `hot ${hotRate}, cold ${coldRate}`);
  });

  test('volatile-ttl: the keys closest to expiring go first', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'volatile-ttl' });
    const keep = range('keep', 500);
    await run(io, keep.map((k) => ['SET', k, VALUE]));
    // Odd keys expire in a day, even ones in an hour.
    const cold = await fill(handle, io, { rounds: ROUNDS, ttl: (i) => (i % 2 === 1 ? 86400 : 3600) });
    assert.equal(await surviving(io, keep), keep.length);
    const long = cold.filter((_, i) => i % 2 === 1);
    const short = cold.filter((_, i) => i % 2 === 0);
    const longRate = (await surviving(io, long)) / long.length;
    const shortRate = (await surviving(io, short)) / short.length;
    // Sampling makes it approximate, as in Redis: some long-TTL keys go before the last short ones.
    assert.ok(longRate > 0.5 && shortRate < 0.15 && longRate > 4 * shortRate, `long TTL kept ${longRate}, short TTL kept ${shortRate}`);
  });

  test('allkeys-random: any key may go, whatever its use', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'allkeys-random' });
    const hot = range('hot', 500);
    await run(io, hot.map((k) => ['SET', k, VALUE]));
    const cold = await fill(handle, io, {
      rounds: ROUNDS,
      between: async () => void (await run(io, hot.map((k) => ['GET', k]))),
    });
    const hotRate = (await surviving(io, hot)) / hot.length;
    const coldRate = (await surviving(io, cold)) / cold.length;
    // Use does not protect a key: the hot keys were evicted too, much more than under LRU.
    assert.ok(hotRate < 0.8, `hot keys evicted like the others: ${hotRate}`);
    assert.ok(coldRate > 0.1 && coldRate < 0.6, `cold ${coldRate}`);
  });

  test('volatile-random: only keys with a TTL go', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'volatile-random' });
    const keep = range('keep', 1000);
    await run(io, keep.map((k) => ['SET', k, VALUE]));
    const cold = await fill(handle, io, { rounds: ROUNDS, ttl: () => 100000 });
    assert.equal(await surviving(io, keep), keep.length);
    assert.ok((await surviving(io, cold)) / cold.length < 0.5);
  });

  test('noeviction: writes that need memory get -OOM, reads and deletes go on', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'noeviction' });
    let refused: Error | null = null;
    let stored = 0;
    for (let r = 0; r < ROUNDS && refused === null; r++) {
      const res = (await io.pipeline(range(`k${r}`, 1000).map((k) => ['set', k, VALUE])).exec())!;
      for (const [err] of res) {
        if (err) refused ??= err;
        else stored++;
      }
    }
    assert.ok(refused, 'some SET was refused');
    assert.equal(refused.message, "OOM command not allowed when used memory > 'maxmemory'.");
    assert.equal(await io.dbsize(), stored);
    // Within one command of maxmemory: only the last write before the refusal went over.
    assertBounded(handle, 'full');
    assert.equal(await io.get('k0:0'), VALUE);
    await assert.rejects(io.rpush('list', 'x'), /^ReplyError: OOM command not allowed/);
    // INFO times the spell above maxmemory (real time, ms).
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(statField(await io.info('stats'), 'current_eviction_exceeded_time') >= 20);
    // Not denyoom: DEL runs, and frees room for writes again.
    assert.equal(await io.del(...range('k0', 1000)), 1000);
    assert.equal(await io.set('again', 'x'), 'OK');
    const stats = await io.info('stats');
    assert.match(stats, /evicted_keys:0\r\n/);
    assert.equal(statField(stats, 'current_eviction_exceeded_time'), 0);
    assert.ok(statField(stats, 'total_eviction_exceeded_time') >= 20);
    assert.match(await io.info('errorstats'), /errorstat_OOM:count=\d+/);
    await io.config('RESETSTAT');
    assert.equal(statField(await io.info('stats'), 'total_eviction_exceeded_time'), 0);
  });

  test('a volatile policy with no volatile keys cannot free anything: -OOM', async () => {
    const [, io] = await start({ 'maxmemory-policy': 'volatile-lru', maxmemory: '1mb' });
    const res = (await io.pipeline(range('k', 3000).map((k) => ['set', k, VALUE])).exec())!;
    assert.ok(res.some(([err]) => err?.message.startsWith('OOM ')));
  });

  test('out of memory, MULTI refuses what it would queue and EXEC aborts', async () => {
    const [, io] = await start({ 'maxmemory-policy': 'noeviction', maxmemory: '1mb' });
    await io.pipeline(range('k', 3000).map((k) => ['set', k, VALUE])).exec();
    assert.equal(await io.call('MULTI'), 'OK');
    // GET is refused too: inside MULTI anything but EXEC/DISCARD would consume memory.
    await assert.rejects(io.call('GET', 'k:0'), /^ReplyError: OOM command not allowed/);
    await assert.rejects(io.call('SET', 'x', '1'), /^ReplyError: OOM command not allowed/);
    // EXEC itself is not refused (nothing queued needs memory): it reports the refusals, as Redis.
    await assert.rejects(io.call('EXEC'), /^ReplyError: EXECABORT Transaction discarded because of previous errors\.$/);
    // Outside MULTI, reads run.
    assert.equal(await io.get('k:0'), VALUE);
  });
});

describe('what an eviction does', () => {
  test('invalidations of a background eviction are sent before the next command runs (no feedback loop)', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'allkeys-lru', maxmemory: '0' });
    const keys = range('k'.repeat(1000), 100);
    await run(io, keys.map((k) => ['SET', k, 'x']));
    // A RESP3 client caching every key: each eviction sends it an invalidation push.
    const sock = net.connect(handle.port, '127.0.0.1');
    let received = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (received += d));
    sock.write('HELLO 3\r\nCLIENT TRACKING on\r\n' + keys.map((k) => `GET ${k}\r\n`).join(''));
    try {
      await waitFor(() => (received.match(/\$1\r\nx\r\n/g) ?? []).length === keys.length, 'the GET replies');
      const used = Number(/^used_memory:(\d+)\r$/m.exec(await io.info('memory'))![1]);
      // CONFIG SET starts eviction on the next event-loop turn; its reply reaches us after it ran.
      await io.config('SET', 'maxmemory', String(used - 20000));
      // Redis writes the invalidations before polling again: none is left in the server's
      // buffer for INFO to count as client memory (which made the next command evict more).
      const tracker = [...handle.server.clients.values()].find((c) => c.resp === 3)!;
      const unsent = tracker.len;
      assert.ok(Number(/^evicted_keys:(\d+)\r$/m.exec(await io.info('stats'))![1]) > 0, 'keys were evicted');
      assert.equal(unsent, 0, 'the invalidations were handed to the socket');
    } finally {
      sock.destroy();
    }
  });

  test('evicted event, INFO evicted_keys, DEL propagated, WATCH and memory bound on CONFIG SET', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'allkeys-random', maxmemory: '0' });
    await run(io, range('k', 20000).map((k) => ['SET', k, VALUE]));
    const watcher = await connectIo(handle);
    open.push([handle, watcher]);
    await watcher.watch(...range('k', 2000));
    const events = recordEvents(handle);
    const props = recordPropagation(handle);
    try {
      // Lowering maxmemory evicts at once (what does not fit the time budget, just after).
      await io.config('SET', 'maxmemory', String(MAXMEMORY));
      // Eviction counts the client buffers too (the watcher's 2000 WATCHed keys among them).
      await waitFor(() => used(handle) + evictionClientMemory(handle.server) <= MAXMEMORY, 'eviction down to maxmemory');
    } finally {
      events.stop();
      props.stop();
    }
    const evicted = 20000 - (await io.dbsize());
    assert.ok(evicted > 10000, `evicted ${evicted}`);
    assert.equal(events.log.length, evicted);
    assert.ok(events.log.every((e) => e.startsWith('evicted k:')));
    // One DEL per evicted key (those CONFIG SET evicted come wrapped in MULTI/EXEC, as a command's writes).
    const dels = props.log.filter(([, argv]) => argv[0] !== 'MULTI' && argv[0] !== 'EXEC');
    assert.equal(dels.length, evicted);
    assert.ok(dels.every(([db, argv]) => db === 0 && argv[0] === 'DEL' && argv.length === 2));
    assert.match(await io.info('stats'), new RegExp(`evicted_keys:${evicted}\r\n`));
    // Some watched key went: the transaction fails.
    assert.equal(await watcher.multi().set('w', '1').exec(), null);
  });

  test('lazyfree-lazy-eviction propagates UNLINK', async () => {
    const [handle, io] = await start({ 'maxmemory-policy': 'allkeys-lru', 'lazyfree-lazy-eviction': 'yes', maxmemory: '1mb' });
    const props = recordPropagation(handle);
    try {
      await run(io, range('k', 3000).map((k) => ['SET', k, VALUE]));
    } finally {
      props.stop();
    }
    assert.ok(props.log.some(([, argv]) => argv[0] === 'UNLINK'));
    assert.ok(!props.log.some(([, argv]) => argv[0] === 'DEL'));
  });
});

describe('OBJECT FREQ and IDLETIME', () => {
  test('LFU counters as redis-server 7.0.15 reports them (lfu-log-factor 0: +1 per access)', async () => {
    const [handle, io] = await start({ maxmemory: '0' });
    await io.config('SET', 'maxmemory-policy', 'allkeys-lfu');
    await io.config('SET', 'lfu-log-factor', '0');
    await io.set('foo', 'bar');
    assert.equal(await io.object('FREQ', 'foo'), 5);
    for (let i = 0; i < 10; i++) await io.get('foo');
    assert.equal(await io.object('FREQ', 'foo'), 15);
    await io.append('foo', 'x');
    assert.equal(await io.object('FREQ', 'foo'), 16);
    // OBJECT, EXISTS and TYPE do not count as accesses.
    await io.exists('foo');
    await io.type('foo');
    assert.equal(await io.object('FREQ', 'foo'), 16);
    assert.equal(await io.object('FREQ', 'nokey'), null);
    await assert.rejects(io.object('IDLETIME', 'foo'), /ERR An LFU maxmemory policy is selected, idle time not tracked/);
    // One point less per lfu-decay-time minutes without access.
    handle.clock.advance(3 * 60_000);
    assert.equal(await io.object('FREQ', 'foo'), 13);
    // OBJECT FREQ does not store the decayed value: with decay off, the stored counter shows again.
    await io.config('SET', 'lfu-decay-time', '0');
    handle.clock.advance(60 * 60_000);
    assert.equal(await io.object('FREQ', 'foo'), 16);
    await io.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await assert.rejects(io.object('FREQ', 'foo'), /ERR An LFU maxmemory policy is not selected, access frequency not tracked/);
    // The last access was the APPEND, 3 min + 1 h ago; OBJECT itself does not touch the key.
    handle.clock.advance(7000);
    assert.equal(await io.object('IDLETIME', 'foo'), 3 * 60 + 3600 + 7);
  });

  test('the log factor makes counters grow ever slower; they saturate at 255', async () => {
    const [, io] = await start({ maxmemory: '0', 'maxmemory-policy': 'allkeys-lfu' });
    await io.set('k', 'v');
    for (let j = 0; j < 20; j++) await run(io, Array.from({ length: 100 }, () => ['GET', 'k']));
    // 2000 accesses with factor 10: about 5 + log-like growth, far below 2005.
    const f = Number(await io.object('FREQ', 'k'));
    assert.ok(f > 10 && f < 40, `counter ${f}`);
    await io.config('SET', 'lfu-log-factor', '0');
    await run(io, Array.from({ length: 400 }, () => ['GET', 'k']));
    assert.equal(await io.object('FREQ', 'k'), 255);
  });
});

describe('CONFIG SET maxmemory', () => {
  test('evicts from the next event-loop turn: not inside a MULTI that set it, and the DELs follow its EXEC', async () => {
    const [handle, io] = await start({ maxmemory: '0', 'maxmemory-policy': 'allkeys-lru' });
    const rec = recordPropagation(handle);
    try {
      const res = await io.multi().incr('x').config('SET', 'maxmemory', '1').incr('x').exec();
      assert.deepEqual(res, [[null, 1], [null, 'OK'], [null, 2]]);
      await waitFor(async () => (await io.dbsize()) === 0, 'the eviction');
      assert.deepEqual(
        rec.log.map(([, argv]) => argv),
        [['MULTI'], ['incr', 'x'], ['incr', 'x'], ['EXEC'], ['DEL', 'x']],
      );
    } finally {
      rec.stop();
      await io.config('SET', 'maxmemory', '0');
    }
  });
});
