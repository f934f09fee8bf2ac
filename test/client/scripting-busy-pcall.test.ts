/**
 * Busy scripts whose long loop runs inside pcall(function() ... end): the
 * server must not freeze (other clients get BUSY after busy-reply-threshold),
 * SCRIPT KILL / FUNCTION KILL must reach the script (with Redis 7.0's results:
 * the kill error is caught by the innermost pcall and raised again at the
 * script's next line), and a pcall'd body suspended several times must still
 * hand pcall its results or its error.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startServer, type ServerHandle } from '../../src/index.js';
import { isScriptBusy } from '../../src/scripting/busy.js';

let srv: ServerHandle;
let redis: Redis;
let other: Redis;

before(async () => {
  srv = await startServer({ port: 0 });
  redis = new Redis({ port: srv.port });
  other = new Redis({ port: srv.port });
});

after(async () => {
  redis.disconnect();
  other.disconnect();
  await srv.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends PING until it is refused with BUSY; returns the reply time and message. */
async function waitForBusy(client: Redis, since: number): Promise<{ after: number; message: string }> {
  for (;;) {
    try {
      await client.ping();
    } catch (e) {
      return { after: Date.now() - since, message: (e as Error).message };
    }
    if (Date.now() - since > 5000) throw new Error('the server never answered BUSY');
    await sleep(20);
  }
}

function settle<T>(p: Promise<T>): Promise<{ ok: boolean; v: unknown }> {
  return p.then(
    (v) => ({ ok: true, v }),
    (e: Error) => ({ ok: false, v: e.message }),
  );
}

async function withThreshold(ms: number, fn: () => Promise<void>): Promise<void> {
  await other.config('SET', 'busy-reply-threshold', String(ms));
  try {
    await fn();
  } finally {
    await other.config('SET', 'busy-reply-threshold', '5000');
  }
}

test('a loop inside pcall: BUSY for others after the threshold, SCRIPT KILL ends it, then service as usual', async () => {
  await withThreshold(200, async () => {
    const start = Date.now();
    // Endless unless killed; the kill error is caught by pcall, then raised again on line 2.
    const running = settle(
      redis.eval('local ok, e = pcall(function() local i = 0 while true do i = i + 1 end end)\nreturn {ok and 1 or 0, e}', 0),
    );
    const busy = await waitForBusy(other, start);
    assert.equal(busy.message, 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.');
    assert.ok(busy.after >= 150, `BUSY came ${busy.after} ms after the start`);
    assert.equal(isScriptBusy(srv.server), true);
    await assert.rejects(other.get('anything'), /^ReplyError: BUSY /);
    // Still busy a while later: the script is paused between slices, not finished.
    await sleep(100);
    await assert.rejects(other.ping(), /^ReplyError: BUSY /);
    assert.equal(await other.script('KILL'), 'OK');
    const result = await running;
    assert.equal(result.ok, false);
    assert.match(String(result.v), /^ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:2\.$/);
    assert.equal(isScriptBusy(srv.server), false);
    assert.equal(await other.ping(), 'PONG');
    await other.set('after:pcall:kill', 'ok');
    assert.equal(await redis.get('after:pcall:kill'), 'ok');
    await assert.rejects(other.script('KILL'), /^ReplyError: NOTBUSY No scripts in execution right now\.$/);
    // The caller's connection and the Lua state are fine afterwards.
    assert.deepEqual(await redis.eval('return {pcall(function() return 1, 2 end)}', 0), [1, 1, 2]);
  });
});

test('a one-line script killed inside pcall returns what pcall caught, as Redis does', async () => {
  await withThreshold(100, async () => {
    const running = settle(redis.eval('local ok, e = pcall(function() while true do end end) return {ok and 1 or 0, e}', 0));
    await waitForBusy(other, Date.now());
    assert.equal(await other.script('KILL'), 'OK');
    assert.deepEqual(await running, { ok: true, v: [0, 'ERR Script killed by user with SCRIPT KILL...'] });
    assert.equal(await other.ping(), 'PONG');
  });
});

test('nested pcalls: the kill is caught by the innermost pcall, the next line of the outer body raises it again', async () => {
  await withThreshold(100, async () => {
    const running = settle(
      redis.eval(
        'local r = {pcall(function()\nlocal a, b = pcall(function() while true do end end)\nreturn a, b end)}\nreturn r',
        0,
      ),
    );
    await waitForBusy(other, Date.now());
    assert.equal(await other.script('KILL'), 'OK');
    const result = await running;
    assert.equal(result.ok, false);
    assert.match(String(result.v), /^ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:3\.$/);
  });
});

test('a pcall body that errors after being suspended returns false and the error to the script', async () => {
  await withThreshold(100, async () => {
    const start = Date.now();
    await redis.set('pcall:str', 'abc');
    // About a second of work in each body, then an error: a string, a redis.call error table, a yield.
    const script = [
      "local function spin(n) local i = 0 while i < n do i = i + 1 end return i end",
      "local a, ea = pcall(function() spin(1e7) error('late') end)",
      "local b, eb = pcall(function() spin(1e7) return redis.call('incr', KEYS[1]) end)",
      "local c, ec = pcall(function() spin(1e7) coroutine.yield(1) return 'not reached' end)",
      "local d, n1, n2 = pcall(function() local ok, v = pcall(function() spin(1e7) return 7 end) return v, spin(10) end)",
      "return {tostring(a), ea, tostring(b), eb, tostring(c), ec, tostring(d), n1, n2}",
    ].join('\n');
    const running = settle(redis.eval(script, 1, 'pcall:str'));
    const busy = await waitForBusy(other, start);
    assert.match(busy.message, /^BUSY /);
    const result = await running;
    assert.equal(result.ok, true, String(result.v));
    assert.deepEqual(result.v, [
      'false',
      'user_script:2: late',
      'false',
      'ERR value is not an integer or out of range',
      'false',
      'attempt to yield across metamethod/C-call boundary',
      'true',
      7,
      10,
    ]);
    assert.equal(isScriptBusy(srv.server), false);
    assert.equal(await other.ping(), 'PONG');
  });
});

test('FCALL: a loop inside pcall in a function is paused too, FUNCTION KILL stops it', async () => {
  await withThreshold(100, async () => {
    await redis.call(
      'FUNCTION',
      'LOAD',
      "#!lua name=pcallspin\nredis.register_function('pcallspin', function()\nlocal ok, e = pcall(function() while true do end end)\nreturn e end)",
    );
    try {
      const running = settle(redis.fcall('pcallspin', 0));
      const busy = await waitForBusy(other, Date.now());
      assert.equal(busy.message, 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.');
      assert.equal(await other.call('FUNCTION', 'KILL'), 'OK');
      const result = await running;
      assert.equal(result.ok, false);
      assert.match(String(result.v), /^ERR Script killed by user with SCRIPT KILL\.\.\. script: pcallspin, on @user_function:4\.$/);
      assert.equal(await other.ping(), 'PONG');
    } finally {
      await redis.call('FUNCTION', 'DELETE', 'pcallspin');
    }
  });
});
