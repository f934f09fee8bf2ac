/**
 * Lua scripting through real clients: the seed's lock, compare-and-set,
 * increment-with-max and rate-limit code through ioredis, ioredis
 * defineCommand (EVALSHA with NOSCRIPT fallback), node-redis, the effects of
 * scripts (propagation, blocked clients), and busy scripts (BUSY, SCRIPT
 * KILL, UNKILLABLE, FUNCTION KILL).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startServer, type ServerHandle } from '../../src/index.js';
import { startTestServer } from '../helpers/server.js';
import { PROPAGATE_AOF, PROPAGATE_REPL } from '../../src/server/propagate.js';
import { isScriptBusy } from '../../src/scripting/busy.js';
import { scriptingIfUsed } from '../../src/scripting/context.js';
import { lua } from '../../src/scripting/engine.js';

let srv: ServerHandle;
let redis: Redis;
let other: Redis;

before(async () => {
  srv = await startServer({ port: 0 });
  redis = new Redis({ port: srv.port, lazyConnect: false });
  other = new Redis({ port: srv.port, lazyConnect: false });
});

after(async () => {
  redis.disconnect();
  other.disconnect();
  await srv.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the seed's patterns -------------------------------------------------------

async function acquireLock(r: Redis, key: string, ttl: number): Promise<string | null> {
  const token = randomUUID();
  const acquired = await r.set(key, token, 'EX', ttl, 'NX');
  return acquired ? token : null;
}

async function releaseLock(r: Redis, key: string, token: string): Promise<boolean> {
  const script = `
    if redis.call("get", KEYS[1]) == ARGV[1] then
      return redis.call("del", KEYS[1])
    else
      return 0
    end
  `;
  const result = await r.eval(script, 1, key, token);
  return result === 1;
}

test('the seed distributed lock: only the owner releases it', async () => {
  const lock = await acquireLock(redis, 'lock:order:123', 30);
  assert.ok(lock);
  assert.equal(await acquireLock(redis, 'lock:order:123', 30), null);
  assert.equal(await releaseLock(redis, 'lock:order:123', 'not-the-token'), false);
  assert.equal(await redis.exists('lock:order:123'), 1);
  assert.equal(await releaseLock(redis, 'lock:order:123', lock), true);
  assert.equal(await redis.exists('lock:order:123'), 0);
});

test('the seed compare-and-set and increment-with-max scripts', async () => {
  const cas = `
    local current = redis.call('GET', KEYS[1])
    if current == ARGV[1] then
      redis.call('SET', KEYS[1], ARGV[2])
      return 1
    else
      return 0
    end`;
  await redis.set('cas:key', 'expected');
  assert.equal(await redis.eval(cas, 1, 'cas:key', 'expected', 'newValue'), 1);
  assert.equal(await redis.eval(cas, 1, 'cas:key', 'expected', 'other'), 0);
  assert.equal(await redis.get('cas:key'), 'newValue');

  const incrMax = `
    local current = tonumber(redis.call('GET', KEYS[1]) or '0')
    local increment = tonumber(ARGV[1])
    local max = tonumber(ARGV[2])
    local new_value = math.min(current + increment, max)
    redis.call('SET', KEYS[1], new_value)
    return new_value`;
  assert.equal(await redis.eval(incrMax, 1, 'capped', 7, 10), 7);
  assert.equal(await redis.eval(incrMax, 1, 'capped', 7, 10), 10);
  assert.equal(await redis.get('capped'), '10');
});

test('the seed rate limiter, and the same rule as one atomic script', async () => {
  async function checkRateLimit(r: Redis, key: string, limit: number, windowSeconds: number) {
    const current = await r.incr(key);
    if (current === 1) await r.expire(key, windowSeconds);
    return { allowed: current <= limit, remaining: Math.max(0, limit - current) };
  }
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await checkRateLimit(redis, 'rl:plain', 3, 60));
  assert.deepEqual(results.map((r) => r.allowed), [true, true, true, false]);
  assert.ok((await redis.ttl('rl:plain')) > 0);

  const sliding = `
    local now = tonumber(ARGV[1])
    local window = tonumber(ARGV[2])
    local limit = tonumber(ARGV[3])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
    if redis.call('ZCARD', KEYS[1]) < limit then
      redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[4])
      redis.call('PEXPIRE', KEYS[1], window)
      return 1
    end
    return 0`;
  const now = 1_700_000_000_000;
  const allowed = [];
  for (let i = 0; i < 5; i++) allowed.push(await redis.eval(sliding, 1, 'rl:sliding', now + i, 1000, 3, randomUUID()));
  assert.deepEqual(allowed, [1, 1, 1, 0, 0]);
  // A millisecond timestamp above 2^31 stays exact in string.format('%d').
  assert.equal(await redis.eval("return string.format('%d', ARGV[1])", 0, now), String(now));
  assert.equal(await redis.eval(sliding, 1, 'rl:sliding', now + 5000, 1000, 3, 'late'), 1);
});

test('ioredis defineCommand: EVALSHA, and EVAL again after SCRIPT FLUSH', async () => {
  const seen: string[] = [];
  const hook = (_c: unknown, cmd: { fullName: string }) => seen.push(cmd.fullName);
  srv.server.afterCallHooks.push(hook as never);
  try {
    redis.defineCommand('addAndGet', {
      numberOfKeys: 1,
      lua: "return redis.call('incrby', KEYS[1], ARGV[1])",
    });
    const r = redis as Redis & { addAndGet(key: string, n: number): Promise<number> };
    assert.equal(await r.addAndGet('defined:counter', 2), 2);
    assert.equal(await r.addAndGet('defined:counter', 3), 5);
    await redis.script('FLUSH');
    assert.equal(await r.addAndGet('defined:counter', 4), 9);
    assert.ok(seen.includes('evalsha'), 'EVALSHA was used');
    assert.ok(seen.includes('eval'), 'EVAL was used after NOSCRIPT');
  } finally {
    srv.server.afterCallHooks.splice(srv.server.afterCallHooks.indexOf(hook as never), 1);
  }
});

test('EVALSHA of an unknown script answers NOSCRIPT', async () => {
  await assert.rejects(redis.evalsha('ffffffffffffffffffffffffffffffffffffffff', 0), /^ReplyError: NOSCRIPT No matching script/);
});

test('keys not declared in KEYS are allowed, as in Redis', async () => {
  await redis.eval("redis.call('set', 'undeclared:' .. ARGV[1], 'v') return 1", 0, 'x');
  assert.equal(await redis.get('undeclared:x'), 'v');
});

test('replies convert as Redis converts them', async () => {
  assert.deepEqual(await redis.eval("return {1, 'two', {3, {4}}, 3.7, true, false, nil, 'after nil'}", 0), [1, 'two', [3, [4]], 3, 1, null]);
  assert.equal(await redis.eval("return {ok = 'FINE'}", 0), 'FINE');
  await assert.rejects(redis.eval("return {err = 'MYERR custom'}", 0), /^ReplyError: MYERR custom$/);
  await assert.rejects(
    redis.eval("local x = nil\nreturn x.field", 0),
    /^ReplyError: ERR user_script:2: attempt to index local 'x' \(a nil value\) script: [0-9a-f]{40}, on @user_script:2\.$/,
  );
  const bin = Buffer.from([0, 255, 13, 10, 128]);
  const echoed = await redis.callBuffer('EVAL', 'return ARGV[1]', 0, bin);
  assert.deepEqual(echoed, bin);
});

test('a global write is refused with Redis error text', async () => {
  await assert.rejects(redis.eval('x = 1', 0), /Attempt to modify a readonly table script: /);
  await assert.rejects(redis.eval("rawset(_G, 'x', 1)", 0), /^ReplyError: ERR Attempt to modify a readonly table script/);
});

// ---- effects ------------------------------------------------------------------

test('a script propagates its writes as one MULTI/EXEC, a single write alone', async () => {
  const log: string[][] = [];
  const sink = (_db: number, argv: string[]) => log.push(argv);
  srv.server.propagateSinks.push(sink);
  try {
    await redis.eval("redis.call('set', 'p:a', '1') redis.call('incr', 'p:b') return 1", 0);
    assert.deepEqual(log, [['MULTI'], ['set', 'p:a', '1'], ['incr', 'p:b'], ['EXEC']]);
    log.length = 0;
    await redis.eval("return redis.call('set', 'p:c', '1')", 0);
    assert.deepEqual(log, [['set', 'p:c', '1']]);
    log.length = 0;
    await redis.eval("return redis.call('get', 'p:c')", 0);
    assert.deepEqual(log, []);
    await redis.eval("redis.set_repl(redis.REPL_NONE) redis.call('set', 'p:d', '1') return 1", 0);
    assert.deepEqual(log, []);
    assert.equal(await redis.get('p:d'), '1');
  } finally {
    srv.server.propagateSinks.splice(srv.server.propagateSinks.indexOf(sink), 1);
  }
});

test('redis.set_repl sends a write only to the streams it selects (AOF, replicas)', async () => {
  const aof: string[][] = [];
  const repl: string[][] = [];
  const aofSink = Object.assign((_db: number, argv: string[]) => aof.push(argv), { target: PROPAGATE_AOF });
  const replSink = Object.assign((_db: number, argv: string[]) => repl.push(argv), { target: PROPAGATE_REPL });
  srv.server.propagateSinks.push(aofSink, replSink);
  try {
    await redis.eval(
      "redis.call('set', 'sr:a', '1') redis.set_repl(redis.REPL_NONE) redis.call('set', 'sr:b', '2') " +
        "redis.set_repl(redis.REPL_AOF) redis.call('set', 'sr:c', '3') redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'sr:e', '5') " +
        "redis.set_repl(redis.REPL_ALL) redis.call('set', 'sr:d', '4') return 1",
      0,
    );
    assert.deepEqual(aof, [['MULTI'], ['set', 'sr:a', '1'], ['set', 'sr:c', '3'], ['set', 'sr:d', '4'], ['EXEC']]);
    assert.deepEqual(repl, [['MULTI'], ['set', 'sr:a', '1'], ['set', 'sr:e', '5'], ['set', 'sr:d', '4'], ['EXEC']]);
  } finally {
    srv.server.propagateSinks.splice(srv.server.propagateSinks.indexOf(aofSink), 2);
  }
});

test('time stands still for a running script: a key does not expire in the middle of it', async () => {
  const script =
    "redis.call('set', 'frozen', 'v', 'px', '1') local t = redis.call('time') local s = t[1] * 1000000 + t[2] " +
    "repeat local n = redis.call('time') until n[1] * 1000000 + n[2] - s > 5000 return redis.call('exists', 'frozen')";
  assert.equal(await redis.eval(script, 0), 1);
  assert.equal(await redis.exists('frozen'), 0);
});

test("a lazily expired key's DEL is propagated at once, outside the command's MULTI/EXEC", async () => {
  const log: string[][] = [];
  const sink = (_db: number, argv: string[]) => log.push(argv);
  srv.server.activeExpireEnabled = false;
  try {
    await redis.set('lazy:gone', 'v', 'PX', 1);
    await sleep(5);
    srv.server.propagateSinks.push(sink);
    await redis.multi().get('lazy:gone').set('lazy:x', '1').set('lazy:y', '2').exec();
    assert.deepEqual(log, [['DEL', 'lazy:gone'], ['MULTI'], ['set', 'lazy:x', '1'], ['set', 'lazy:y', '2'], ['EXEC']]);
    await redis.set('lazy:gone2', 'v', 'PX', 1);
    await sleep(5);
    log.length = 0;
    await redis.eval("redis.call('get', 'lazy:gone2') redis.call('set', 'lazy:x', '2') redis.call('set', 'lazy:y', '3') return 1", 0);
    assert.deepEqual(log, [['DEL', 'lazy:gone2'], ['MULTI'], ['set', 'lazy:x', '2'], ['set', 'lazy:y', '3'], ['EXEC']]);
  } finally {
    srv.server.activeExpireEnabled = true;
    const i = srv.server.propagateSinks.indexOf(sink);
    if (i >= 0) srv.server.propagateSinks.splice(i, 1);
  }
});

test('clients blocked on a key are served after the script, not during it', async () => {
  const blocked = new Redis({ port: srv.port });
  try {
    const pop = blocked.blpop('queue', 0);
    await sleep(50);
    const len = await redis.eval("redis.call('rpush', 'queue', 'a') redis.call('rpush', 'queue', 'b') return redis.call('llen', 'queue')", 0);
    assert.equal(len, 2);
    assert.deepEqual(await pop, ['queue', 'a']);
    assert.equal(await redis.llen('queue'), 1);
  } finally {
    blocked.disconnect();
  }
});

test('SELECT inside a script does not change the caller database', async () => {
  await redis.eval("redis.call('select', 3) redis.call('set', 'in3', 'yes') return 1", 0);
  assert.equal(await redis.get('in3'), null);
  await redis.select(3);
  assert.equal(await redis.get('in3'), 'yes');
  await redis.select(0);
});

test('node-redis: EVAL, SCRIPT LOAD + EVALSHA, FUNCTION LOAD + FCALL', async () => {
  const client = createClient({ socket: { port: srv.port } });
  await client.connect();
  try {
    assert.deepEqual(await client.eval("return {KEYS[1], ARGV[1]}", { keys: ['k'], arguments: ['a'] }), ['k', 'a']);
    const sha = await client.scriptLoad("return 'loaded'");
    assert.equal(await client.evalSha(sha), 'loaded');
    await client.functionLoad("#!lua name=nr\nredis.register_function('nr_hello', function(keys, args) return 'hello ' .. args[1] end)", { REPLACE: true });
    assert.equal(await client.fCall('nr_hello', { arguments: ['world'] }), 'hello world');
  } finally {
    await client.quit();
  }
});

// ---- busy scripts -----------------------------------------------------------------

/** Sends PING until it is refused with BUSY; returns the reply time. */
async function waitForBusy(client: Redis, since: number): Promise<{ after: number; message: string }> {
  for (;;) {
    try {
      await client.ping();
    } catch (e) {
      return { after: Date.now() - since, message: (e as Error).message };
    }
    await sleep(20);
  }
}

test('a long script: BUSY for others after the threshold, SCRIPT KILL ends it, then service as usual', async () => {
  await other.config('SET', 'busy-reply-threshold', '200');
  try {
    const start = Date.now();
    // About ten seconds of work if nobody stops it.
    const running = redis.eval('local i = 0 while i < 1e9 do i = i + 1 end return i', 0).then(
      (v) => ({ ok: true, v }),
      (e: Error) => ({ ok: false, v: e.message }),
    );
    const busy = await waitForBusy(other, start);
    assert.match(busy.message, /^BUSY Redis is busy running a script\. You can only call SCRIPT KILL or SHUTDOWN NOSAVE\.$/);
    assert.ok(busy.after >= 150, `BUSY came ${busy.after} ms after the start`);
    assert.equal(isScriptBusy(srv.server), true);
    await assert.rejects(other.get('anything'), /^ReplyError: BUSY /);
    await assert.rejects(other.call('FUNCTION', 'KILL'), /^ReplyError: BUSY Redis is busy running a script\. You can only call SCRIPT KILL/);
    assert.equal(await other.script('KILL'), 'OK');
    const result = await running;
    assert.deepEqual(result.ok, false);
    assert.match(String(result.v), /^ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:1\.$/);
    assert.ok(Date.now() - start < 5000);
    assert.equal(isScriptBusy(srv.server), false);
    assert.equal(await other.ping(), 'PONG');
    await other.set('after:kill', 'ok');
    assert.equal(await redis.get('after:kill'), 'ok');
    await assert.rejects(other.script('KILL'), /^ReplyError: NOTBUSY No scripts in execution right now\.$/);
  } finally {
    await other.config('SET', 'busy-reply-threshold', '5000');
  }
});

test('a script that wrote is UNKILLABLE and runs to its end', async () => {
  await other.config('SET', 'busy-reply-threshold', '100');
  const log: string[][] = [];
  const sink = (_db: number, argv: string[]) => log.push(argv);
  srv.server.propagateSinks.push(sink);
  try {
    const running = redis.eval("redis.call('set', 'unkillable', 'started') local i = 0 while i < 3e7 do i = i + 1 end redis.call('set', 'unkillable', 'done') return i", 0);
    await waitForBusy(other, Date.now());
    await assert.rejects(
      other.script('KILL'),
      /^ReplyError: UNKILLABLE Sorry the script already executed write commands against the dataset\. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command\.$/,
    );
    assert.equal(await running, 3e7);
    assert.equal(await other.get('unkillable'), 'done');
    // Its writes still reach AOF/replicas as one transaction, although the EVAL returned long before.
    assert.deepEqual(log.slice(0, 4), [['MULTI'], ['set', 'unkillable', 'started'], ['set', 'unkillable', 'done'], ['EXEC']]);
  } finally {
    srv.server.propagateSinks.splice(srv.server.propagateSinks.indexOf(sink), 1);
    await other.config('SET', 'busy-reply-threshold', '5000');
  }
});

test('a busy script whose caller disconnected can still be killed', async () => {
  await other.config('SET', 'busy-reply-threshold', '100');
  const caller = new Redis({ port: srv.port });
  try {
    caller.eval('while true do end', 0).catch(() => {});
    await waitForBusy(other, Date.now());
    caller.disconnect();
    await sleep(50);
    assert.equal(await other.script('KILL'), 'OK');
    await sleep(50);
    assert.equal(await other.ping(), 'PONG');
  } finally {
    await other.config('SET', 'busy-reply-threshold', '5000');
  }
});

test('a long function: FUNCTION variant of BUSY, FUNCTION STATS, FUNCTION KILL', async () => {
  await other.config('SET', 'busy-reply-threshold', '100');
  await other.call('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=spinlib\nredis.register_function('spin', function()\n  local i = 0\n  while true do i = i + 1 end\nend)");
  try {
    const running = redis.fcall('spin', 0).then(
      () => 'finished',
      (e: Error) => e.message,
    );
    const busy = await waitForBusy(other, Date.now());
    assert.equal(busy.message, 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.');
    const stats = (await other.call('FUNCTION', 'STATS')) as unknown[];
    assert.equal(stats[0], 'running_script');
    const running0 = stats[1] as unknown[];
    assert.deepEqual(running0.slice(0, 4), ['name', 'spin', 'command', ['fcall', 'spin', '0']]);
    await assert.rejects(other.script('KILL'), /^ReplyError: BUSY Redis is busy running a script\. You can only call FUNCTION KILL/);
    assert.equal(await other.call('FUNCTION', 'KILL'), 'OK');
    assert.match(await running, /^ERR Script killed by user with SCRIPT KILL\.\.\. script: spin, on @user_function:3\.$/);
    assert.equal(await other.ping(), 'PONG');
  } finally {
    await other.config('SET', 'busy-reply-threshold', '5000');
    await other.call('FUNCTION', 'DELETE', 'spinlib');
  }
});

test('nothing else touches the dataset while a script is busy (no active expiry)', async () => {
  await other.config('SET', 'busy-reply-threshold', '100');
  try {
    await other.set('short-lived', 'x', 'PX', 50);
    const running = redis.eval("local i = 0 while i < 1e9 do i = i + 1 end return i", 0).catch((e: Error) => e.message);
    await waitForBusy(other, Date.now());
    await sleep(100);
    // The key's TTL has passed; the expiry cycle must wait for the script.
    srv.server.cron();
    assert.equal(srv.server.dbs[0].peek('short-lived') !== undefined, true);
    assert.equal(await other.script('KILL'), 'OK');
    assert.match(String(await running), /Script killed by user/);
    srv.server.cron();
    assert.equal(await other.exists('short-lived'), 0);
  } finally {
    await other.config('SET', 'busy-reply-threshold', '5000');
  }
});

test("the caller's pipelined commands run after its busy script ends", async () => {
  await other.config('SET', 'busy-reply-threshold', '100');
  try {
    const pipeline = redis.pipeline();
    pipeline.eval('local i = 0 while true do i = i + 1 end', 0);
    pipeline.set('pipelined:after', 'yes');
    pipeline.get('pipelined:after');
    const results = pipeline.exec();
    await waitForBusy(other, Date.now());
    assert.equal(srv.server.dbs[0].peek('pipelined:after'), undefined);
    assert.equal(await other.script('KILL'), 'OK');
    const replies = (await results)!;
    assert.match(String(replies[0][0]), /Script killed by user/);
    assert.deepEqual(replies.slice(1), [
      [null, 'OK'],
      [null, 'yes'],
    ]);
  } finally {
    await other.config('SET', 'busy-reply-threshold', '5000');
  }
});

test('closing a server frees its Lua states in the shared WASM heap', async () => {
  const cycle = async (): Promise<ServerHandle> => {
    const h = await startServer({ port: 0 });
    const r = new Redis({ port: h.port, host: h.host, lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    // Fill the state with some garbage-collectable and live data, in both states.
    assert.equal(await r.eval("local t = {} for i = 1, 20000 do t[i] = tostring(i) end return #t", 0), 20000);
    await r.call('FUNCTION', 'LOAD', "#!lua name=cyclelib\nredis.register_function('cyclefn', function() return 1 end)");
    assert.equal(await r.call('FCALL', 'cyclefn', '0'), 1);
    r.disconnect();
    await h.close();
    return h;
  };
  const first = await cycle();
  const ctx = scriptingIfUsed(first.server);
  assert.ok(ctx !== undefined);
  assert.equal(ctx.luaHeapBytes('eval'), 0, 'EVAL state freed');
  assert.equal(ctx.luaHeapBytes('function'), 0, 'function state freed');
  // Many cycles reuse the freed memory: the shared heap does not grow by a state per server.
  const before = lua().heapBytes;
  for (let i = 0; i < 30; i++) await cycle();
  const grown = lua().heapBytes - before;
  assert.ok(grown < 4 * 1024 * 1024, `WASM heap grew by ${grown} bytes over 30 servers`);
});

test('INFO memory reports the cached scripts, functions and the Lua heaps', async () => {
  const field = async (name: string): Promise<string> => new RegExp(`${name}:(\\S+)`).exec(await other.info('memory'))![1];
  await other.script('FLUSH');
  for (let j = 0; j < 5; j++) await other.script('LOAD', `return ${j}`);
  assert.equal(await field('number_of_cached_scripts'), '5');
  assert.ok(Number(await field('used_memory_lua')) > 0);
  assert.ok(Number(await field('used_memory_scripts_eval')) > 0);
  await other.script('FLUSH', 'ASYNC');
  assert.equal(await field('number_of_cached_scripts'), '0');
  const libs = Number(await field('number_of_libraries'));
  const fns = Number(await field('number_of_functions'));
  await other.function('LOAD', "#!lua name=infolib\nredis.register_function('infofn', function() return 1 end)");
  assert.equal(Number(await field('number_of_libraries')), libs + 1);
  assert.equal(Number(await field('number_of_functions')), fns + 1);
  await other.function('DELETE', 'infolib');
});

test('a script that already wrote goes on writing when the good replicas drop (scriptVerifyWriteCommandAllow)', async () => {
  // (A temp dir: this replica's sync, without capa eof, writes dump.rdb there.)
  const s = await startTestServer({ 'min-replicas-to-write': '1', 'busy-reply-threshold': '10', 'repl-diskless-sync-delay': '0' });
  const { connect } = await import('node:net');
  const replica = connect(s.port, s.host);
  const io = new Redis({ port: s.port, lazyConnect: false });
  try {
    await new Promise<void>((resolve) => replica.once('connect', () => resolve()));
    replica.on('error', () => undefined);
    let got = '';
    replica.on('data', (b: Buffer) => (got += b.toString('latin1')));
    replica.write('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n6380\r\n');
    while (!got.includes('+OK\r\n')) await sleep(5);
    replica.write('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
    const ack = () => replica.write('*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$1\r\n0\r\n');
    for (let i = 0; i < 100; i++) {
      ack();
      if ((await io.info('replication')).includes('state=online')) break;
      await sleep(20);
    }
    assert.match(await io.info('replication'), /state=online/);
    const script = io.eval(
      `redis.call('set','x','during')
       while true do
         local info = redis.call('info','replication')
         if string.match(info, 'connected_slaves:0') then
           redis.call('set','x','after')
           break
         end
       end
       return 1`,
      0,
    );
    await sleep(100);
    replica.destroy();
    assert.equal(await script, 1);
    assert.equal(await io.get('x'), 'after');
    // A script that did not write yet is still refused.
    await assert.rejects(io.eval("return redis.call('set','y','1')", 0), /NOREPLICAS/);
  } finally {
    replica.destroy();
    io.disconnect();
    await s.close();
  }
});
