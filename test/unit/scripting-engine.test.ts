/**
 * The Lua engine adapter (src/scripting/engine.ts) and the sandbox built on
 * it: Lua 5.1 semantics of the wasm build, binary-safe strings, errors from
 * JS functions, yielding from the count hook, and read-only globals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  lua,
  LUA_GLOBALSINDEX,
  LUA_MASKCOUNT,
  LUA_OK,
  LUA_YIELD,
  type LuaState,
} from '../../src/scripting/engine.js';
import { LuaEnv, type EnvHooks } from '../../src/scripting/sandbox.js';
import { Rand48 } from '../../src/scripting/libs/rand48.js';

const E = lua();

function freshState(): LuaState {
  const L = E.newState();
  E.openStandardLibs(L);
  return L;
}

/** Runs a chunk with pcall; returns [ok, first result as a string]. */
function run(L: LuaState, code: string): [boolean, string | null] {
  assert.equal(E.load(L, code, '@test'), LUA_OK, `compiles: ${code}`);
  const rc = E.pcall(L, 0, 1);
  const out = E.toStr(L, -1);
  E.setTop(L, 0);
  return [rc === LUA_OK, out];
}

test('the engine is Lua 5.1 with its number formatting', () => {
  const L = freshState();
  try {
    assert.deepEqual(run(L, 'return _VERSION'), [true, 'Lua 5.1']);
    assert.deepEqual(run(L, 'return tostring(10/2)'), [true, '5']);
    assert.deepEqual(run(L, 'return tostring(0.1)'), [true, '0.1']);
    assert.deepEqual(run(L, 'return tostring(1/3)'), [true, '0.33333333333333']);
    assert.deepEqual(run(L, 'return tostring(2^53)'), [true, '9.007199254741e+15']);
    assert.deepEqual(run(L, 'return tostring(-0)'), [true, '-0']);
    assert.deepEqual(run(L, 'return math.mod(7, 3) .. table.getn({1, 2}) .. select("#", unpack({1, 2, 3}))'), [true, '123']);
    assert.deepEqual(run(L, 'return type(loadstring)'), [true, 'function']);
  } finally {
    E.close(L);
  }
});

test('strings cross the boundary byte for byte', () => {
  const L = freshState();
  try {
    let all = '';
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    E.pushString(L, all);
    E.setField(L, LUA_GLOBALSINDEX, 'bytes');
    assert.deepEqual(run(L, 'return #bytes'), [true, '256']);
    assert.deepEqual(run(L, 'return bytes'), [true, all]);
    assert.deepEqual(run(L, "return string.byte(bytes, 1) .. ',' .. string.byte(bytes, 256)"), [true, '0,255']);
  } finally {
    E.close(L);
  }
});

test('a large allocation grows the wasm memory and strings stay readable', () => {
  const L = freshState();
  try {
    const [ok, s] = run(L, "return string.rep('ab', 20000000)");
    assert.equal(ok, true);
    assert.equal(s!.length, 40000000);
    assert.equal(s!.slice(0, 4), 'abab');
  } finally {
    E.close(L);
  }
});

test('JS functions raise Lua errors; a JS exception becomes a Lua error, not a crash', () => {
  const L = freshState();
  try {
    E.pushFunction(L, (l) => E.raise(l, 'refused'));
    E.setField(L, LUA_GLOBALSINDEX, 'refuse');
    E.pushFunction(L, () => {
      throw new Error('bug');
    });
    E.setField(L, LUA_GLOBALSINDEX, 'buggy');
    assert.deepEqual(run(L, 'refuse()'), [false, 'test:1: refused']);
    assert.deepEqual(run(L, 'return select(2, pcall(refuse))'), [true, 'refused']);
    assert.deepEqual(run(L, 'buggy()'), [false, 'internal error in Mnemo: bug']);
    assert.deepEqual(run(L, 'return 1 + 1'), [true, '2']);
  } finally {
    E.close(L);
  }
});

test('the count hook can suspend a coroutine, except inside pcall', () => {
  assert.equal(E.yieldCheckReliable, true);
  const L = freshState();
  try {
    let hooks = 0;
    let yieldable = 0;
    const T = E.newThread(L);
    const hook = (l: LuaState) => {
      hooks++;
      if (E.canYield(l)) {
        yieldable++;
        E.yieldFromHook(l);
      }
    };
    E.setHook(T, hook, LUA_MASKCOUNT, 1000);
    assert.equal(E.load(T, 'local n = 0 for i = 1, 100000 do n = n + i end return n', '@loop'), LUA_OK);
    let resumes = 0;
    let rc: number;
    do {
      rc = E.resume(T, 0);
      resumes++;
    } while (rc === LUA_YIELD);
    assert.equal(rc, LUA_OK);
    assert.equal(E.toStr(T, -1), '5000050000');
    assert.ok(resumes > 10, `resumed ${resumes} times`);
    assert.equal(resumes - 1, yieldable);

    // Inside pcall the hook still runs but cannot yield.
    const T2 = E.newThread(L);
    E.setHook(T2, hook, LUA_MASKCOUNT, 1000);
    hooks = 0;
    yieldable = 0;
    E.load(T2, 'return select(2, pcall(function() local n = 0 for i = 1, 100000 do n = n + i end return n end))', '@pcall');
    assert.equal(E.resume(T2, 0), LUA_OK);
    assert.ok(hooks > 10);
    assert.equal(yieldable, 0);
    assert.equal(E.toStr(T2, -1), '5000050000');
  } finally {
    E.close(L);
  }
});

const noHooks: EnvHooks = {
  call: (L) => E.raise(L, 'no server'),
  aclCheck: () => 0,
  setResp: () => {},
  setRepl: () => {},
  logLevel: () => 2,
  log: () => {},
  rand: new Rand48(),
  registerFunction: () => 0,
};

/** Runs a chunk in a sandboxed environment (as the script runner does, but with pcall). */
function runInEnv(env: LuaEnv, code: string): [boolean, string | null] {
  const prev = env.enter();
  try {
    return run(env.L, code);
  } finally {
    env.exit(prev);
  }
}

test('the sandbox has exactly Redis 7.0 globals, read-only', () => {
  const env = new LuaEnv('eval', noHooks, '7.0.15');
  try {
    env.setGlobalArray('KEYS', ['k']);
    env.setGlobalArray('ARGV', []);
    assert.deepEqual(runInEnv(env, "local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return table.concat(t, ' ')"), [
      true,
      'ARGV KEYS _G _VERSION __redis__err__handler assert bit cjson cmsgpack collectgarbage coroutine error gcinfo getmetatable ipairs load loadstring math next pairs pcall rawequal rawget rawset redis select setmetatable string struct table tonumber tostring type unpack xpcall',
    ]);
    assert.deepEqual(runInEnv(env, 'x = 1'), [false, 'test:1: Attempt to modify a readonly table']);
    assert.deepEqual(runInEnv(env, 'string.len = nil'), [false, 'test:1: Attempt to modify a readonly table']);
    assert.deepEqual(runInEnv(env, "rawset(string, 'len', nil)"), [false, 'Attempt to modify a readonly table']);
    assert.deepEqual(runInEnv(env, "getmetatable('').__index = {}"), [false, 'test:1: Attempt to modify a readonly table']);
    assert.deepEqual(runInEnv(env, 'return nosuch'), [false, "test:1: Script attempted to access nonexistent global variable 'nosuch'"]);
    assert.deepEqual(runInEnv(env, 'return KEYS[1]'), [true, 'k']);
    assert.deepEqual(runInEnv(env, "return ('x'):rep(3)"), [true, 'xxx']);
    // Bytecode never loads: the parser reads it as text, as Redis's does.
    assert.deepEqual(runInEnv(env, 'return tostring(loadstring(string.dump(function() end)) == nil)'), [true, 'true']);
    assert.match(runInEnv(env, 'return select(2, loadstring(string.dump(function() end)))')[1]!, /unexpected symbol near 'char\(27\)'/);
  } finally {
    env.close();
  }
});

test('functions states see no KEYS/ARGV and only the load API while a library loads', () => {
  const env = new LuaEnv('function', noHooks, '7.0.15');
  try {
    assert.deepEqual(runInEnv(env, 'return KEYS'), [false, "test:1: Script attempted to access nonexistent global variable 'KEYS'"]);
    env.setLoadMode(true);
    assert.deepEqual(runInEnv(env, 'return string'), [false, "test:1: Script attempted to access nonexistent global variable 'string'"]);
    assert.deepEqual(runInEnv(env, 'return redis.call'), [false, "test:1: Script attempted to access nonexistent global variable 'call'"]);
    assert.deepEqual(runInEnv(env, 'return redis.REDIS_VERSION'), [true, '7.0.15']);
    env.setLoadMode(false);
    assert.deepEqual(runInEnv(env, 'return type(string)'), [true, 'table']);
  } finally {
    env.close();
  }
});
