/**
 * A Lua state set up the way Redis 7.0 sets up its scripting states: the
 * standard libraries it keeps, cjson / cmsgpack / struct / bit, the `redis`
 * table, Redis's math.random, its pcall, and read-only globals.
 *
 * Read-only globals without Redis's patched VM: the real global table R and
 * each library table stay hidden behind empty proxy tables whose metatables
 * read through (__index = the real table, fast in the VM) and refuse writes
 * (__newindex raises "Attempt to modify a readonly table"); R itself raises
 * "Script attempted to access nonexistent global variable" for missing names.
 * The few base functions that could see through a proxy (rawget, rawset,
 * next, pairs, getmetatable, setmetatable, table.insert) are replaced by
 * versions that treat a proxy as the read-only table it stands for. Binary
 * chunks are refused by loadstring/load as Redis's parser does.
 */
import { createHash } from 'node:crypto';
import {
  lua,
  LUA_GLOBALSINDEX,
  LUA_OK,
  LUA_REGISTRYINDEX,
  LUA_TFUNCTION,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  LUA_YIELD,
  type LuaState,
} from './engine.js';
import { bitFunctions } from './libs/bit.js';
import { structFunctions } from './libs/struct.js';
import { cmsgpackFields, cmsgpackFunctions } from './libs/cmsgpack.js';
import { pushCjson } from './libs/cjson.js';
import { stringFormat } from './libs/strformat.js';
import { doubleToInt64, doubleToInt32 } from './libs/cnum.js';
import { LRAND48_MAX, type Rand48 } from './libs/rand48.js';

export type EnvKind = 'eval' | 'function';

/** What the redis.* functions need from the server; set by the scripting context. */
export interface EnvHooks {
  /** redis.call (raise = true) and redis.pcall: runs the command on the stack's arguments. */
  call(L: LuaState, raise: boolean): number;
  /** redis.acl_check_cmd. */
  aclCheck(L: LuaState): number;
  setResp(resp: 2 | 3): void;
  setRepl(flags: number): void;
  /** Minimum level logged (Redis's verbosity: 0 debug .. 3 warning). */
  logLevel(): number;
  log(level: number, message: string): void;
  readonly rand: Rand48;
  /** redis.register_function, only while a library loads (function states). */
  registerFunction(L: LuaState): number;
  /** redis.debug and redis.breakpoint in a Lua debugging session (src/scripting/ldb.ts); absent elsewhere. */
  debug?(L: LuaState): number;
  breakpoint?(L: LuaState): number;
  /** An error pushed for the script (luaPushError): a debugging session logs it while stepping. */
  logError?(error: string): void;
}

export const READONLY_ERROR = 'Attempt to modify a readonly table';
export const REDIS_VERSION_NUM = 0x07000f;

/** Library tables that become read-only proxies, in both kinds of state. */
const LIBRARIES = ['string', 'table', 'math', 'coroutine', 'redis', 'cjson', 'bit', 'struct', 'cmsgpack'];

export function sha1hex(s: string): string {
  return createHash('sha1').update(Buffer.from(s, 'latin1')).digest('hex');
}

/** luaL_checkint: the argument's (int) value after a (lua_Integer) cast. */
function checkInt(L: LuaState, arg: number): number {
  const E = lua();
  return Number(BigInt.asIntN(32, doubleToInt64(E.checkNumber(L, arg))));
}

/**
 * The environment whose Lua code is running. Lua code of one environment runs
 * at a time (a script cannot start another), so the C functions below are
 * plain module functions that find their environment here, instead of one
 * closure (and one wasm table slot) per environment.
 */
let current: LuaEnv | null = null;

function env(): LuaEnv {
  if (current === null) throw new Error('Lua code ran outside a script run');
  return current;
}

export class LuaEnv {
  readonly L: LuaState;
  /** Registry refs: the real globals R, the proxy -> real table map, the globals' metatable. */
  private readonly realGlobals: number;
  private readonly proxies: number;
  private readonly globalsMeta: number;
  /** Function states: the globals seen while a library loads. */
  private readonly loadGlobals: number;
  /** Read-only views returned by getmetatable('') and getmetatable(_G). */
  private stringMetaView = 0;
  private globalsMetaView = 0;
  private spareThread: { T: LuaState; ref: number; hooked?: boolean } | null = null;
  /** Finished pcall bodies kept for the next pcall (see takeBody). */
  private readonly spareBodies: ChainLink[] = [];
  private closed = false;

  constructor(
    readonly kind: EnvKind,
    readonly hooks: EnvHooks,
    readonly redisVersion: string,
  ) {
    const E = lua();
    const L = E.newState();
    this.L = L;
    E.openStandardLibs(L);
    for (const name of ['print', 'dofile', 'loadfile', 'getfenv', 'setfenv', 'newproxy']) {
      E.pushNil(L);
      E.setField(L, LUA_GLOBALSINDEX, name);
    }
    // proxy -> real table, with weak keys.
    E.newTable(L);
    E.newTable(L);
    E.pushString(L, 'k');
    E.setField(L, -2, '__mode');
    E.setMetatable(L, -2);
    this.proxies = E.ref(L);

    this.openLibraries();
    this.registerRedisApi();
    for (const name of Object.keys(BASE_FUNCTIONS)) {
      E.pushFunction(L, BASE_FUNCTIONS[name]);
      E.setField(L, LUA_GLOBALSINDEX, name);
    }
    E.getField(L, LUA_GLOBALSINDEX, 'table');
    E.pushFunction(L, tableInsert);
    E.setField(L, -2, 'insert');
    E.pop(L, 1);
    E.getField(L, LUA_GLOBALSINDEX, 'coroutine');
    E.pushFunction(L, coroutineRunning);
    E.setField(L, -2, 'running');
    E.pop(L, 1);
    if (kind === 'eval') {
      E.pushFunction(L, errorHandler);
      E.setField(L, LUA_GLOBALSINDEX, '__redis__err__handler');
    }

    // Library tables go behind read-only proxies.
    for (const name of LIBRARIES) {
      E.getField(L, LUA_GLOBALSINDEX, name);
      this.pushProxyOf(-1);
      E.remove(L, -2);
      E.setField(L, LUA_GLOBALSINDEX, name);
    }
    // Strings find their methods through the string proxy; getmetatable('') sees a view.
    E.pushString(L, '');
    E.getMetatable(L, -1);
    E.getField(L, LUA_GLOBALSINDEX, 'string');
    E.setField(L, -2, '__index');
    this.pushProxyOf(-1);
    this.stringMetaView = E.ref(L);
    E.setTop(L, 0);

    // R (the real globals): reading a missing name raises Redis's error.
    E.pushValue(L, LUA_GLOBALSINDEX);
    E.pushValue(L, LUA_GLOBALSINDEX);
    this.realGlobals = E.ref(L);
    E.newTable(L);
    E.pushFunction(L, nonexistentGlobal);
    E.setField(L, -2, '__index');
    E.setMetatable(L, -2);
    E.getMetatable(L, -1);
    this.pushProxyOf(-1);
    this.globalsMetaView = E.ref(L);
    E.pop(L, 1);
    // P (the globals scripts see): empty, reads through to R, refuses writes.
    E.newTable(L);
    E.newTable(L);
    E.pushValue(L, -3);
    E.setField(L, -2, '__index');
    E.pushFunction(L, readonlyNewIndex);
    E.setField(L, -2, '__newindex');
    E.pushValue(L, -1);
    this.globalsMeta = E.ref(L);
    E.setMetatable(L, -2);
    this.registerProxy(-1, -2);
    E.pushValue(L, -1);
    E.setField(L, -3, '_G'); // R has no __newindex: a plain store
    E.replace(L, LUA_GLOBALSINDEX);
    E.setTop(L, 0);

    this.loadGlobals = kind === 'function' ? this.buildLoadGlobals() : 0;
  }

  /** Makes this the environment the C functions serve; returns the previous one for `exit`. */
  enter(): LuaEnv | null {
    const prev = current;
    current = this;
    return prev;
  }

  exit(prev: LuaEnv | null): void {
    current = prev;
  }

  /** A coroutine to run a call in (reused after calls that ended normally). */
  acquireThread(): { T: LuaState; ref: number; hooked?: boolean } {
    const spare = this.spareThread;
    if (spare !== null) {
      this.spareThread = null;
      return spare;
    }
    const E = lua();
    const T = E.newThread(this.L);
    const ref = E.ref(this.L);
    return { T, ref };
  }

  releaseThread(t: { T: LuaState; ref: number; hooked?: boolean }, reusable: boolean): void {
    if (this.closed) return;
    const E = lua();
    if (reusable && this.spareThread === null) {
      E.setTop(t.T, 0);
      this.spareThread = t;
    } else {
      E.unref(this.L, t.ref);
    }
  }

  /** A coroutine to run a pcall'd function in, created from L (so it inherits L's count hook). */
  takeBody(L: LuaState): ChainLink {
    const spare = this.spareBodies.pop();
    if (spare !== undefined) {
      spare.parked = false;
      return spare;
    }
    const E = lua();
    const T = E.newThread(L);
    return { T, ref: E.ref(L), parked: false };
  }

  /** A body whose function returned is reused; one that raised or yielded is dropped. */
  releaseBody(body: ChainLink, reusable: boolean): void {
    if (this.closed) return;
    if (reusable && this.spareBodies.length < SPARE_BODIES) {
      // Its results were moved out: its stack is empty again.
      this.spareBodies.push(body);
    } else {
      lua().unref(this.L, body.ref);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (current === this) current = null;
    lua().close(this.L);
  }

  // ---- proxies ------------------------------------------------------------

  /** Records proxy (at proxyIdx) -> real table (at realIdx). */
  private registerProxy(proxyIdx: number, realIdx: number): void {
    const E = lua();
    const L = this.L;
    const p = E.getTop(L) + proxyIdx + 1;
    const r = E.getTop(L) + realIdx + 1;
    E.rawGetI(L, LUA_REGISTRYINDEX, this.proxies);
    E.pushValue(L, p);
    E.pushValue(L, r);
    E.rawSet(L, -3);
    E.pop(L, 1);
  }

  /** Pushes a read-only proxy of the table at idx. */
  private pushProxyOf(idx: number): void {
    const E = lua();
    const L = this.L;
    const real = E.getTop(L) + idx + 1;
    E.newTable(L);
    E.newTable(L);
    E.pushValue(L, real);
    E.setField(L, -2, '__index');
    E.pushFunction(L, readonlyNewIndex);
    E.setField(L, -2, '__newindex');
    E.setMetatable(L, -2);
    this.registerProxy(-1, real - E.getTop(L) - 1);
  }

  /** True when the value at idx is one of this state's read-only proxies. */
  isProxy(L: LuaState, idx: number): boolean {
    const E = lua();
    if (E.type(L, idx) !== LUA_TTABLE) return false;
    const abs = idx > 0 ? idx : E.getTop(L) + idx + 1;
    E.rawGetI(L, LUA_REGISTRYINDEX, this.proxies);
    E.pushValue(L, abs);
    E.rawGet(L, -2);
    const found = E.type(L, -1) !== LUA_TNIL;
    E.pop(L, 2);
    return found;
  }

  /** Replaces the proxy at (absolute) idx by the table it stands for. */
  unproxy(L: LuaState, idx: number): void {
    const E = lua();
    E.rawGetI(L, LUA_REGISTRYINDEX, this.proxies);
    E.pushValue(L, idx);
    E.rawGet(L, -2);
    if (E.type(L, -1) === LUA_TTABLE) E.replace(L, idx);
    else E.pop(L, 1);
    E.pop(L, 1);
  }

  /** getmetatable for the values the proxies hide: strings and proxies. Pushes and returns true when handled. */
  pushMetatableView(L: LuaState, idx: number): boolean {
    const E = lua();
    if (E.type(L, idx) === LUA_TSTRING) {
      E.rawGetI(L, LUA_REGISTRYINDEX, this.stringMetaView);
      return true;
    }
    if (!this.isProxy(L, idx)) return false;
    this.unproxy(L, idx);
    E.rawGetI(L, LUA_REGISTRYINDEX, this.realGlobals);
    const isGlobals = E.rawEqual(L, idx, -1);
    E.pop(L, 1);
    if (isGlobals) {
      E.rawGetI(L, LUA_REGISTRYINDEX, this.globalsMetaView);
      return true;
    }
    return false;
  }

  // ---- libraries ------------------------------------------------------------

  private setFunctions(fns: Record<string, (L: LuaState) => number>): void {
    const E = lua();
    for (const name of Object.keys(fns)) {
      E.pushFunction(this.L, fns[name]);
      E.setField(this.L, -2, name);
    }
  }

  private openLibraries(): void {
    const E = lua();
    const L = this.L;
    pushCjson(L);
    E.setField(L, LUA_GLOBALSINDEX, 'cjson');
    E.newTable(L);
    this.setFunctions(structFunctions);
    E.setField(L, LUA_GLOBALSINDEX, 'struct');
    E.newTable(L);
    this.setFunctions(cmsgpackFunctions);
    for (const [k, v] of Object.entries(cmsgpackFields)) {
      E.pushString(L, v);
      E.setField(L, -2, k);
    }
    E.setField(L, LUA_GLOBALSINDEX, 'cmsgpack');
    E.newTable(L);
    this.setFunctions(bitFunctions);
    E.setField(L, LUA_GLOBALSINDEX, 'bit');

    E.getField(L, LUA_GLOBALSINDEX, 'string');
    E.pushFunction(L, stringFormat);
    E.setField(L, -2, 'format');
    E.pop(L, 1);

    E.getField(L, LUA_GLOBALSINDEX, 'math');
    this.setFunctions({ random: mathRandom, randomseed: mathRandomseed });
    E.pop(L, 1);
  }

  // ---- the redis table -----------------------------------------------------------

  private registerRedisApi(): void {
    const E = lua();
    const L = this.L;
    E.newTable(L);
    this.setFunctions(REDIS_FUNCTIONS);
    if (this.kind === 'eval') this.setFunctions(REDIS_EVAL_FUNCTIONS);
    this.setLogConstants(-1);
    const consts: Array<[string, number]> = [
      ['REPL_NONE', 0],
      ['REPL_AOF', 1],
      ['REPL_SLAVE', 2],
      ['REPL_REPLICA', 2],
      ['REPL_ALL', 3],
    ];
    for (const [k, v] of consts) {
      E.pushNumber(L, v);
      E.setField(L, -2, k);
    }
    E.setField(L, LUA_GLOBALSINDEX, 'redis');
  }

  /** redis.log, the LOG_* levels and the version fields, into the table at idx. */
  private setLogConstants(idx: number): void {
    const E = lua();
    const L = this.L;
    const t = E.getTop(L) + idx + 1;
    const consts: Array<[string, number]> = [
      ['LOG_DEBUG', 0],
      ['LOG_VERBOSE', 1],
      ['LOG_NOTICE', 2],
      ['LOG_WARNING', 3],
      ['REDIS_VERSION_NUM', REDIS_VERSION_NUM],
    ];
    for (const [k, v] of consts) {
      E.pushNumber(L, v);
      E.setField(L, t, k);
    }
    E.pushString(L, this.redisVersion);
    E.setField(L, t, 'REDIS_VERSION');
    E.pushFunction(L, redisLog);
    E.setField(L, t, 'log');
  }

  /** Globals while a library loads: only redis.register_function, redis.log and the constants. */
  private buildLoadGlobals(): number {
    const E = lua();
    const L = this.L;
    E.newTable(L); // the load-time globals
    E.newTable(L); // their redis table
    E.pushFunction(L, registerFunction);
    E.setField(L, -2, 'register_function');
    this.setLogConstants(-1);
    this.pushErrorMetatable();
    E.setMetatable(L, -2);
    this.pushProxyOf(-1);
    E.remove(L, -2);
    E.setField(L, -2, 'redis');
    this.pushErrorMetatable();
    E.setMetatable(L, -2);
    return E.ref(L);
  }

  private pushErrorMetatable(): void {
    const E = lua();
    E.newTable(this.L);
    E.pushFunction(this.L, nonexistentGlobal);
    E.setField(this.L, -2, '__index');
  }

  /** While a library's top-level code runs, globals resolve to the load API (or back). */
  setLoadMode(loading: boolean): void {
    const E = lua();
    const L = this.L;
    E.rawGetI(L, LUA_REGISTRYINDEX, this.globalsMeta);
    E.rawGetI(L, LUA_REGISTRYINDEX, loading ? this.loadGlobals : this.realGlobals);
    E.setField(L, -2, '__index');
    E.pop(L, 1);
  }

  // ---- what the runner uses ------------------------------------------------------------

  /** Sets KEYS or ARGV (in R) to a new array of the strings. */
  setGlobalArray(name: 'KEYS' | 'ARGV', items: readonly string[]): void {
    const E = lua();
    const L = this.L;
    E.rawGetI(L, LUA_REGISTRYINDEX, this.realGlobals);
    this.pushArray(L, items);
    E.setField(L, -2, name);
    E.pop(L, 1);
  }

  pushArray(L: LuaState, items: readonly string[]): void {
    const E = lua();
    E.newTable(L, items.length, 0);
    for (let i = 0; i < items.length; i++) {
      E.pushString(L, items[i]);
      E.rawSetI(L, -2, i + 1);
    }
  }

  /** Compiles a chunk; returns a registry ref to the function, or the error text. */
  compile(code: string, chunkName: string): { ref: number } | { error: string } {
    const E = lua();
    const L = this.L;
    if (E.load(L, code.charCodeAt(0) === 0x1b ? ' ' + code : code, chunkName) !== LUA_OK) {
      const error = E.toStr(L, -1) ?? 'unknown error';
      E.pop(L, 1);
      return { error };
    }
    return { ref: E.ref(L) };
  }

  unref(ref: number): void {
    if (!this.closed) lua().unref(this.L, ref);
  }
}

// ---- C functions ---------------------------------------------------------------------

function mathRandom(L: LuaState): number {
  const E = lua();
  const r = (env().hooks.rand.next() % LRAND48_MAX) / LRAND48_MAX;
  switch (E.getTop(L)) {
    case 0:
      E.pushNumber(L, r);
      break;
    case 1: {
      const u = checkInt(L, 1);
      if (!(1 <= u)) E.argError(L, 1, 'interval is empty');
      E.pushNumber(L, Math.floor(r * u) + 1);
      break;
    }
    case 2: {
      const l = checkInt(L, 1);
      const u = checkInt(L, 2);
      if (!(l <= u)) E.argError(L, 2, 'interval is empty');
      E.pushNumber(L, Math.floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      E.raise(L, 'wrong number of arguments');
  }
  return 1;
}

function mathRandomseed(L: LuaState): number {
  env().hooks.rand.seed(checkInt(L, 1));
  return 0;
}

function redisLog(L: LuaState): number {
  const E = lua();
  const argc = E.getTop(L);
  if (argc < 2) return pushErrorAndRaise(L, 'redis.log() requires two arguments or more.');
  if (!E.isNumber(L, 1)) return pushErrorAndRaise(L, 'First argument must be a number (log level).');
  const level = doubleToInt32(E.toNumber(L, 1));
  if (level < 0 || level > 3) return pushErrorAndRaise(L, 'Invalid debug level.');
  const hooks = env().hooks;
  if (level < hooks.logLevel()) return 0;
  const parts: string[] = [];
  for (let j = 2; j <= argc; j++) {
    const s = E.toStr(L, j);
    if (s !== null) parts.push(s);
  }
  hooks.log(level, parts.join(' '));
  return 0;
}

function registerFunction(L: LuaState): number {
  return env().hooks.registerFunction(L);
}

const REDIS_FUNCTIONS: Record<string, (L: LuaState) => number> = {
  call: (L) => env().hooks.call(L, true),
  pcall: (L) => env().hooks.call(L, false),
  log: redisLog,
  setresp: (L) => {
    const E = lua();
    if (E.getTop(L) !== 1) return pushErrorAndRaise(L, 'redis.setresp() requires one argument.');
    const resp = doubleToInt32(E.toNumber(L, -1));
    if (resp !== 2 && resp !== 3) return pushErrorAndRaise(L, 'RESP version must be 2 or 3.');
    env().hooks.setResp(resp);
    return 0;
  },
  sha1hex: (L) => {
    const E = lua();
    if (E.getTop(L) !== 1) return pushErrorAndRaise(L, 'wrong number of arguments');
    E.pushString(L, sha1hex(E.toStr(L, 1) ?? ''));
    return 1;
  },
  error_reply: (L) => {
    const E = lua();
    if (E.getTop(L) !== 1 || E.type(L, -1) !== LUA_TSTRING) {
      pushErrorTable(L, 'wrong number or type of arguments');
      return 1;
    }
    const err = cString(E.toStr(L, -1)!);
    pushErrorTable(L, err.startsWith('-') ? err : '-' + err);
    return 1;
  },
  status_reply: (L) => {
    const E = lua();
    if (E.getTop(L) !== 1 || E.type(L, -1) !== LUA_TSTRING) {
      pushErrorTable(L, 'wrong number or type of arguments');
      return 1;
    }
    E.newTable(L);
    E.pushValue(L, -2);
    E.setField(L, -2, 'ok');
    return 1;
  },
  set_repl: (L) => {
    const E = lua();
    if (E.getTop(L) !== 1) return pushErrorAndRaise(L, 'redis.set_repl() requires two arguments.');
    const flags = doubleToInt32(E.toNumber(L, -1));
    if ((flags & ~3) !== 0) return pushErrorAndRaise(L, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.');
    env().hooks.setRepl(flags);
    return 0;
  },
  acl_check_cmd: (L) => env().hooks.aclCheck(L),
};

/** Debugger helpers EVAL scripts have: outside a debugging session they do nothing. */
const REDIS_EVAL_FUNCTIONS: Record<string, (L: LuaState) => number> = {
  breakpoint: (L) => {
    const hooks = env().hooks;
    if (hooks.breakpoint !== undefined) return hooks.breakpoint(L);
    lua().pushBoolean(L, false);
    return 1;
  },
  debug: (L) => {
    const hooks = env().hooks;
    return hooks.debug !== undefined ? hooks.debug(L) : 0;
  },
  replicate_commands: (L) => {
    lua().pushBoolean(L, true);
    return 1;
  },
};

function luaNext(L: LuaState): number {
  const E = lua();
  E.checkType(L, 1, LUA_TTABLE);
  E.setTop(L, 2);
  env().unproxy(L, 1);
  if (E.next(L, 1)) return 2;
  E.pushNil(L);
  return 1;
}

/** Base functions that must treat a proxy as the read-only table it stands for. */
const BASE_FUNCTIONS: Record<string, (L: LuaState) => number> = {
  next: luaNext,
  pairs: (L) => {
    const E = lua();
    E.checkType(L, 1, LUA_TTABLE);
    E.pushFunction(L, luaNext);
    E.pushValue(L, 1);
    E.pushNil(L);
    return 3;
  },
  rawget: (L) => {
    const E = lua();
    E.checkType(L, 1, LUA_TTABLE);
    E.checkAny(L, 2);
    E.setTop(L, 2);
    env().unproxy(L, 1);
    E.rawGet(L, 1);
    return 1;
  },
  rawset: (L) => {
    const E = lua();
    E.checkType(L, 1, LUA_TTABLE);
    E.checkAny(L, 2);
    E.checkAny(L, 3);
    E.setTop(L, 3);
    if (env().isProxy(L, 1)) return raiseNoPosition(L, READONLY_ERROR);
    E.rawSet(L, 1);
    return 1;
  },
  setmetatable: (L) => {
    const E = lua();
    const t = E.type(L, 2);
    E.checkType(L, 1, LUA_TTABLE);
    if (t !== LUA_TNIL && t !== LUA_TTABLE) E.argError(L, 2, 'nil or table expected');
    if (env().isProxy(L, 1)) return raiseNoPosition(L, READONLY_ERROR);
    if (E.getMetatable(L, 1)) {
      E.pushString(L, '__metatable');
      E.rawGet(L, -2);
      if (E.type(L, -1) !== LUA_TNIL) E.raise(L, 'cannot change a protected metatable');
      E.pop(L, 2);
    }
    E.setTop(L, 2);
    E.setMetatable(L, 1);
    return 1;
  },
  getmetatable: (L) => {
    const E = lua();
    E.checkAny(L, 1);
    E.setTop(L, 1);
    if (env().pushMetatableView(L, 1)) return 1;
    if (!E.getMetatable(L, 1)) {
      E.pushNil(L);
      return 1;
    }
    E.pushString(L, '__metatable');
    E.rawGet(L, -2);
    if (E.type(L, -1) === LUA_TNIL) E.pop(L, 1);
    return 1;
  },
  loadstring: (L) => {
    const E = lua();
    const s = E.checkString(L, 1);
    const name = E.type(L, 2) <= LUA_TNIL ? s : E.checkString(L, 2);
    return loadResult(L, s, name);
  },
  load: (L) => {
    const E = lua();
    E.checkType(L, 1, LUA_TFUNCTION);
    const name = E.type(L, 2) <= LUA_TNIL ? '=(load)' : E.checkString(L, 2);
    const pieces: string[] = [];
    for (;;) {
      E.pushValue(L, 1);
      if (E.pcall(L, 0, 1) !== LUA_OK) {
        E.pushNil(L);
        E.insert(L, -2);
        return 2;
      }
      const t = E.type(L, -1);
      if (t === LUA_TNIL) {
        E.pop(L, 1);
        break;
      }
      if (t !== LUA_TSTRING && t !== LUA_TNUMBER) {
        E.pop(L, 1);
        E.pushNil(L);
        E.pushString(L, 'reader function must return a string');
        return 2;
      }
      const piece = E.toStr(L, -1)!;
      E.pop(L, 1);
      if (piece.length === 0) break;
      pieces.push(piece);
    }
    return loadResult(L, pieces.join(''), name);
  },
  pcall: redisPcall,
};

/** table.insert (ltablib.c tinsert), refusing read-only tables as Redis's VM does. */
function tableInsert(L: LuaState): number {
  const E = lua();
  E.checkType(L, 1, LUA_TTABLE);
  let e = E.objLen(L, 1) + 1;
  let pos: number;
  switch (E.getTop(L)) {
    case 2:
      pos = e;
      break;
    case 3: {
      pos = checkInt(L, 2);
      if (pos > e) e = pos;
      if (env().isProxy(L, 1)) return raiseNoPosition(L, READONLY_ERROR);
      for (let i = e; i > pos; i--) {
        E.rawGetI(L, 1, i - 1);
        E.rawSetI(L, 1, i);
      }
      break;
    }
    default:
      return E.raise(L, "wrong number of arguments to 'insert'");
  }
  if (env().isProxy(L, 1)) return raiseNoPosition(L, READONLY_ERROR);
  E.rawSetI(L, 1, pos);
  return 0;
}

/** __redis__err__handler, callable by scripts (xpcall): Redis's error table. */
function errorHandler(L: LuaState): number {
  const E = lua();
  let i = E.frame(L, 1);
  if (i !== null && i.what === 'C') i = E.frame(L, 2);
  E.setTop(L, 1);
  if (E.type(L, 1) !== LUA_TTABLE) {
    const msg = tostringValue(L, 1);
    E.newTable(L);
    E.pushString(L, 'ERR ' + msg);
    E.setField(L, -2, 'err');
    E.replace(L, 1);
  }
  if (i !== null) {
    E.pushString(L, i.source);
    E.setField(L, 1, 'source');
    E.pushNumber(L, i.currentline);
    E.setField(L, 1, 'line');
  }
  return 1;
}

// ---- helpers shared by the C functions ----------------------------------------------------

/** C string view of a Lua string: what sdsnew(lua_tostring(...)) keeps. */
export function cString(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

/** Trims \r and \n at both ends (sdstrim(s, "\r\n")). */
function trimCRLF(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === '\r' || s[a] === '\n')) a++;
  while (b > a && (s[b - 1] === '\r' || s[b - 1] === '\n')) b--;
  return s.slice(a, b);
}

/**
 * luaPushError: pushes {err = "CODE message"}. A message starting with '-'
 * carries its own code (up to the first space); otherwise the code is ERR.
 */
export function pushErrorTable(L: LuaState, error: string, ignoreStats = false): void {
  const E = lua();
  let code: string;
  let msg: string;
  error = cString(error);
  // A Lua debugging session logs the errors of a script it steps (ldb.ts).
  if (current !== null && current.hooks.logError !== undefined) current.hooks.logError(error);
  if (error.startsWith('-')) {
    const sp = error.indexOf(' ');
    if (sp < 0) {
      code = 'ERR';
      msg = error.slice(1);
    } else {
      code = error.slice(1, sp);
      msg = error.slice(sp + 1);
    }
  } else {
    code = 'ERR';
    msg = error;
  }
  E.newTable(L);
  E.pushString(L, code + ' ' + trimCRLF(msg));
  E.setField(L, -2, 'err');
  if (ignoreStats) {
    E.pushBoolean(L, true);
    E.setField(L, -2, 'ignore_error_stats_update');
  }
}

export function pushErrorAndRaise(L: LuaState, error: string): never {
  pushErrorTable(L, error);
  return lua().error(L);
}

function raiseNoPosition(L: LuaState, message: string): never {
  const E = lua();
  E.pushString(L, message);
  return E.error(L);
}

function nonexistentGlobal(L: LuaState): number {
  const E = lua();
  if (E.getTop(L) !== 2) E.raise(L, 'Wrong number of arguments to luaProtectedTableError');
  const t = E.type(L, -1);
  if (t !== LUA_TSTRING && t !== LUA_TNUMBER) E.raise(L, 'Second argument to luaProtectedTableError must be a string or number');
  return E.raise(L, `Script attempted to access nonexistent global variable '${cString(E.toStr(L, -1)!)}'`);
}

function readonlyNewIndex(L: LuaState): number {
  return lua().raise(L, READONLY_ERROR);
}

/** tostring() of the value at idx, without calling metamethods we did not plan for. */
export function tostringValue(L: LuaState, idx: number): string {
  const E = lua();
  const abs = idx > 0 ? idx : E.getTop(L) + idx + 1;
  E.getField(L, LUA_GLOBALSINDEX, 'tostring');
  E.pushValue(L, abs);
  if (E.pcall(L, 1, 1) !== LUA_OK) {
    E.pop(L, 1);
    return '?';
  }
  const s = E.toStr(L, -1) ?? '';
  E.pop(L, 1);
  return s;
}

/** loadstring/load result: the function, or nil plus the message. Binary chunks never load as bytecode. */
function loadResult(L: LuaState, code: string, name: string): number {
  const E = lua();
  // Redis's parser reads a binary chunk as text (and fails on char(27)); so do we.
  const text = code.charCodeAt(0) === 0x1b ? ' ' + code : code;
  if (E.load(L, text, name) === LUA_OK) return 1;
  E.pushNil(L);
  E.insert(L, -2);
  return 2;
}

// ---- pcall ---------------------------------------------------------------------------

/** LUAI_MAXCCALLS: Lua 5.1 raises "C stack overflow" when nested C calls reach it. */
const MAX_C_CALLS = 200;
/**
 * Free stack slots Lua guarantees without lua_checkstack (LUA_MINSTACK): in a
 * C function, and above an empty coroutine or one suspended by pcall (which
 * holds nothing of its own then).
 */
const FREE_SLOTS = 20;
/** Finished pcall bodies an environment keeps for reuse. */
const SPARE_BODIES = 8;

/** A coroutine in a run's chain: the run's own thread, then pcall bodies, innermost last. */
export interface ChainLink {
  T: LuaState;
  /** Registry ref that keeps the coroutine alive. */
  ref: number;
  /** Suspended by the busy hook; the runner resumes it (its pcall is no longer on the C stack). */
  parked: boolean;
}

/**
 * What the yieldable pcall shares with the runner for one run. Lua 5.1
 * cannot yield across a C function, and pcall is one: a long loop inside
 * pcall(function() ... end) could not be suspended. So, while the run may be
 * suspended, pcall of a Lua function runs it in a coroutine of its own (a
 * "body") and resumes it. When the busy hook suspends the innermost body,
 * each pcall up the chain sees its body suspended by the hook and yields its
 * own thread in turn (pcall is called from Lua there, so that is allowed),
 * up to the run's thread. The runner then resumes the innermost body; when a
 * body ends, its outcome becomes the results of the pcall waiting on it
 * (lua_resume's values become a yielded C function's results).
 */
export class RunChain {
  /** [the run's thread, pcall bodies being run ...]. */
  readonly links: ChainLink[];
  /** The thread the busy hook suspended, or the pcall passing that suspension up; 0 otherwise. Set only by host code. */
  hookYielded: LuaState = 0;

  constructor(
    root: ChainLink,
    /** The run may be suspended (a socket caller, not in EXEC ...): pcall bodies run in coroutines. */
    readonly suspendable: boolean,
  ) {
    this.links = [root];
  }

  /** True when the busy hook, running on L, may suspend L and every pcall up to the run's thread. */
  mayYield(L: LuaState): boolean {
    const E = lua();
    const links = this.links;
    let i = links.length - 1;
    if (links[i].T !== L || !E.canYield(L)) return false;
    for (i--; i >= 0; i--) {
      if (!links[i].parked && !E.canYield(links[i].T)) return false;
    }
    return true;
  }
}

let chain: RunChain | null = null;

/** Makes `c` the chain pcall and coroutine.running see; returns the previous one for restoring. */
export function enterChain(c: RunChain | null): RunChain | null {
  const prev = chain;
  chain = c;
  return prev;
}

/**
 * Redis 7's pcall: like Lua's, but an error that is a table with an `err`
 * string is returned as that string (scripts written for Redis 6 expect it).
 * A Lua function called directly from the run's thread (or a body) while the
 * run may be suspended runs in a body coroutine; anything else (C functions,
 * callable tables, inside metamethods or the script's own coroutines) takes
 * the plain path, which is exactly Redis's.
 */
function redisPcall(L: LuaState): number {
  const E = lua();
  const c = chain;
  if (
    c !== null &&
    c.suspendable &&
    E.type(L, 1) === LUA_TFUNCTION &&
    !E.isCFunction(L, 1) &&
    c.links[c.links.length - 1].T === L &&
    E.canYield(L) &&
    E.cCalls(L) + 1 < MAX_C_CALLS
  ) {
    return pcallInBody(L, c);
  }
  return plainPcall(L);
}

function plainPcall(L: LuaState): number {
  const E = lua();
  const argc = E.getTop(L);
  if (argc === 0) {
    E.pushBoolean(L, false);
    E.pushString(L, 'attempt to call a boolean value');
    return 2;
  }
  E.pushBoolean(L, true);
  E.insert(L, 1);
  if (E.pcall(L, argc - 1, -1) !== LUA_OK) {
    E.remove(L, 1);
    if (E.type(L, -1) === LUA_TTABLE) {
      E.getField(L, -1, 'err');
      if (E.isString(L, -1)) E.replace(L, -2);
    }
    E.pushBoolean(L, false);
    E.insert(L, 1);
  }
  return E.getTop(L);
}

function pcallInBody(L: LuaState, c: RunChain): number {
  const E = lua();
  const e = env();
  const body = e.takeBody(L);
  const B = body.T;
  const n = E.getTop(L);
  if (n > FREE_SLOTS) E.checkStack(B, n);
  E.xmove(L, B, n);
  // The body counts the C calls of the thread that called pcall, plus pcall's own (as lua_pcall would).
  E.setCCalls(B, E.cCalls(L));
  const depth = c.links.length;
  c.links.push(body);
  let rc = -1;
  try {
    c.hookYielded = 0;
    rc = E.resume(B, n - 1);
  } finally {
    if (!(rc === LUA_YIELD && c.hookYielded === B)) c.links.length = depth;
  }
  if (rc === LUA_YIELD && c.hookYielded === B) {
    // Suspended by the busy hook: suspend this thread too; the runner resumes B and
    // hands its outcome to this pcall's caller as the results.
    body.parked = true;
    c.hookYielded = L;
    return E.yieldC(L, 0);
  }
  const count = moveBodyOutcome(B, L, rc);
  e.releaseBody(body, rc === LUA_OK);
  return count;
}

/**
 * Pushes on `to` what pcall returns for a body that ended with `rc`: true and
 * its results, or false and the error (an error table's `err` string instead
 * of the table, as Redis's pcall), or false and Lua's error for a
 * coroutine.yield inside pcall. Returns the number of values pushed.
 */
export function moveBodyOutcome(B: LuaState, to: LuaState, rc: number): number {
  const E = lua();
  if (rc === LUA_OK) {
    const n = E.getTop(B);
    if (n + 1 > FREE_SLOTS) E.checkStack(to, n + 1);
    E.pushBoolean(to, true);
    E.xmove(B, to, n);
    return n + 1;
  }
  E.pushBoolean(to, false);
  if (rc === LUA_YIELD) {
    E.pushString(to, 'attempt to yield across metamethod/C-call boundary');
    return 2;
  }
  E.xmove(B, to, 1);
  if (E.type(to, -1) !== LUA_TTABLE) return 2;
  E.getField(to, -1, 'err');
  if (!E.isString(to, -1)) return 3; // Redis leaves the field (nil ...) as a third value
  E.replace(to, -2);
  return 2;
}

/** coroutine.running(): nil in the run's thread and pcall bodies, which stand for Redis's main thread. */
function coroutineRunning(L: LuaState): number {
  const E = lua();
  const c = chain;
  if (c !== null) {
    for (const link of c.links) {
      if (link.T === L) {
        E.pushNil(L);
        return 1;
      }
    }
  }
  if (E.pushThread(L)) E.pushNil(L); // the main thread is not a coroutine
  return 1;
}
