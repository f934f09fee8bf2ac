/**
 * A server's scripting state: the EVAL Lua state with its script cache, the
 * FUNCTION Lua state with its libraries, the fake client scripts run
 * commands on, math.random's generator, and the run in progress. Created on
 * first use and kept per Server (no change to the Server class needed).
 */
import { Client } from '../server/client.js';
import { Denied } from '../server/acl.js';
import type { Server } from '../server/server.js';
import { lua, LUA_GCCOUNT, LUA_GCCOUNTB, type LuaState } from './engine.js';
import { LuaEnv, pushErrorTable, type EnvHooks } from './sandbox.js';
import { Rand48 } from './libs/rand48.js';
import { lookupScriptCommand, scriptCommand } from './call.js';
import { ScriptRun, type RunRequest } from './runner.js';
import { BUSY_EVAL, BUSY_FUNCTION } from './busy.js';
import { registerFunction, type Library, type FunctionInfo } from './library.js';

/** Script flags (shebang flags= and register_function flags), in Redis's order. */
export const SCRIPT_FLAG_NO_WRITES = 1;
export const SCRIPT_FLAG_ALLOW_OOM = 2;
export const SCRIPT_FLAG_ALLOW_STALE = 4;
export const SCRIPT_FLAG_NO_CLUSTER = 8;
/** What a script or function flagged no-cluster answers in cluster mode (Redis's scriptPrepareForRun). */
export const NO_CLUSTER_ERROR = "ERR Can not run script on cluster, 'no-cluster' flag is set.";
export const SCRIPT_FLAG_ALLOW_CROSS_SLOT = 16;
/** An EVAL script without a shebang: Redis 6 rules (flags do not apply). */
export const SCRIPT_FLAG_EVAL_COMPAT_MODE = 32;

export const SCRIPT_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['no-writes', SCRIPT_FLAG_NO_WRITES],
  ['allow-oom', SCRIPT_FLAG_ALLOW_OOM],
  ['allow-stale', SCRIPT_FLAG_ALLOW_STALE],
  ['no-cluster', SCRIPT_FLAG_NO_CLUSTER],
  ['allow-cross-slot-keys', SCRIPT_FLAG_ALLOW_CROSS_SLOT],
];

export interface ScriptEntry {
  body: string;
  flags: number;
  /** Registry ref of the compiled function in the EVAL state. */
  ref: number;
}

const LOG_LEVELS: Record<string, number> = { debug: 0, verbose: 1, notice: 2, warning: 3, nothing: 4 };

export class Scripting implements EnvHooks {
  readonly rand = new Rand48();
  /** The client scripts run their commands on (Redis's lua_client). */
  readonly fake: Client;
  /** sha1 (lowercase hex) -> EVAL script. */
  readonly scripts = new Map<string, ScriptEntry>();
  /** Body -> sha1 of the cached scripts, so EVAL of a known body does not hash it again. */
  readonly shaOfBody = new Map<string, string>();
  /** Function libraries by name, and their functions by lowercase name. */
  libraries = new Map<string, Library>();
  functions = new Map<string, FunctionInfo>();
  /** The script or function call in progress, if any. */
  current: ScriptRun | null = null;
  /** While FUNCTION LOAD runs a library's code: where register_function puts functions. */
  loading: Library | null = null;
  /** Where redis.log writes (the server has no log file yet); replaceable. */
  logSink: ((level: number, message: string) => void) | null = null;
  private evalEnv: LuaEnv | null = null;
  private fnEnv: LuaEnv | null = null;
  private threshold: number;

  constructor(readonly server: Server) {
    this.threshold = server.config.getNumber('busy-reply-threshold');
    server.config.onChange('busy-reply-threshold', () => {
      this.threshold = server.config.getNumber('busy-reply-threshold');
    });
    this.fake = new Client(server, null);
    this.fake.setAuthenticated(true);
    this.fake.inScript = true;
    this.fake.name = '';
    server.closeHooks.push(() => this.release());
  }

  /** Set when the server closed while a script was still running: states go when it ends. */
  private releasePending = false;

  /** Frees both Lua states (their memory is in the WASM heap every server of the process shares). */
  private release(): void {
    if (this.current !== null) {
      this.releasePending = true;
      return;
    }
    this.evalEnv?.close();
    this.evalEnv = null;
    this.fnEnv?.close();
    this.fnEnv = null;
  }

  evalState(): LuaEnv {
    if (this.evalEnv === null) this.evalEnv = new LuaEnv('eval', this, this.server.redisVersion);
    return this.evalEnv;
  }

  functionState(): LuaEnv {
    if (this.fnEnv === null) this.fnEnv = new LuaEnv('function', this, this.server.redisVersion);
    return this.fnEnv;
  }

  /** SCRIPT FLUSH: a fresh EVAL state and an empty cache. */
  flushScripts(): void {
    this.scripts.clear();
    this.shaOfBody.clear();
    this.evalEnv?.close();
    this.evalEnv = null;
  }

  /** FUNCTION FLUSH (and RESTORE FLUSH): a fresh function state, no libraries. */
  flushFunctions(): void {
    this.libraries = new Map();
    this.functions = new Map();
    this.fnEnv?.close();
    this.fnEnv = null;
  }

  /** Starts a run; its reply reaches the caller when it ends (now, or later if it times out). */
  run(req: RunRequest): ScriptRun {
    const run = new ScriptRun(req, this);
    this.current = run;
    run.start();
    return run;
  }

  /** Bytes in use by one of the Lua states (0 when it was never created). */
  luaHeapBytes(kind: 'eval' | 'function'): number {
    const env = kind === 'eval' ? this.evalEnv : this.fnEnv;
    if (env === null) return 0;
    const E = lua();
    return E.gc(env.L, LUA_GCCOUNT, 0) * 1024 + E.gc(env.L, LUA_GCCOUNTB, 0);
  }

  busyThreshold(): number {
    return this.threshold;
  }

  /** Called by a run when it is over. */
  runDone(run: ScriptRun): void {
    if (this.current === run) this.current = null;
    if (this.releasePending && this.current === null) this.release();
  }

  // ---- EnvHooks: what redis.* calls reach -----------------------------------------

  call(L: LuaState, raise: boolean): number {
    const run = this.current;
    if (run === null) {
      pushErrorTable(L, 'redis.call/pcall can only be called inside a script invocation');
      return lua().error(L);
    }
    return scriptCommand(run, L, raise);
  }

  aclCheck(L: LuaState): number {
    const E = lua();
    const argc = E.getTop(L);
    if (argc === 0) {
      pushErrorTable(L, 'Please specify at least one argument for this redis lib call');
      return E.error(L);
    }
    const argv: string[] = [];
    for (let j = 1; j <= argc; j++) {
      const s = E.toStr(L, j);
      if (s === null) {
        E.setTop(L, 0);
        pushErrorTable(L, 'Lua redis lib command arguments must be strings or integers');
        return E.error(L);
      }
      argv.push(s);
    }
    E.setTop(L, 0);
    if (lookupScriptCommand(this.server, argv) === undefined) {
      pushErrorTable(L, 'Invalid command passed to redis.acl_check_cmd()');
      return E.error(L);
    }
    // The caller's user (the script's fake client runs as it), as redis.call checks it.
    const cmd = lookupScriptCommand(this.server, argv)!;
    const user = this.server.aclActive ? this.server.acl.users.get(this.fake.user) : undefined;
    E.pushBoolean(L, user === undefined || this.server.acl.check(user, cmd, argv, { pos: 0 }) === Denied.None);
    return 1;
  }

  setResp(resp: 2 | 3): void {
    if (this.current !== null) this.current.resp = resp;
  }

  setRepl(flags: number): void {
    if (this.current !== null) this.current.replFlags = flags;
  }

  logLevel(): number {
    return LOG_LEVELS[(this.server.config.get('loglevel') ?? 'notice').toLowerCase()] ?? 2;
  }

  log(level: number, message: string): void {
    this.logSink?.(level, message);
  }

  registerFunction(L: LuaState): number {
    return registerFunction(this, L);
  }
}

const contexts = new WeakMap<Server, Scripting>();

/** The server's scripting state (created on first use). */
export function scripting(server: Server): Scripting {
  let ctx = contexts.get(server);
  if (ctx === undefined) {
    ctx = new Scripting(server);
    contexts.set(server, ctx);
  }
  return ctx;
}

/** The server's scripting state if scripts were ever used. */
export function scriptingIfUsed(server: Server): Scripting | undefined {
  return contexts.get(server);
}

/** SCRIPT KILL (isEval) and FUNCTION KILL, with Redis's replies. */
export function killRunningScript(c: Client, isEval: boolean): void {
  const run = scriptingIfUsed(c.server)?.current ?? null;
  if (run === null) {
    c.addError('NOTBUSY No scripts in execution right now.');
    return;
  }
  if (run.writeDirty) {
    c.addError(
      'UNKILLABLE Sorry the script already executed write commands against the dataset. ' +
        'You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.',
    );
    return;
  }
  if (isEval && run.kind === 'function') {
    c.addError(BUSY_FUNCTION);
    return;
  }
  if (!isEval && run.kind === 'eval') {
    c.addError(BUSY_EVAL);
    return;
  }
  run.kill();
  c.addOK();
}

/** Memory and counts for INFO memory (used_memory_lua, number_of_cached_scripts, ...). */
export interface ScriptingMemoryInfo {
  /** used_memory_lua / used_memory_vm_eval: the EVAL Lua state's heap (0 before the first script). */
  evalVmBytes: number;
  /** used_memory_scripts_eval: cached script bodies and their entries. */
  evalScriptsBytes: number;
  cachedScripts: number;
  functions: number;
  libraries: number;
  /** used_memory_vm_functions: the FUNCTION Lua state's heap (0 before the first library). */
  functionsVmBytes: number;
  /** used_memory_functions: library code and function entries. */
  functionsBytes: number;
}

export function scriptingMemoryInfo(server: Server): ScriptingMemoryInfo {
  const ctx = scriptingIfUsed(server);
  const info: ScriptingMemoryInfo = {
    evalVmBytes: 0,
    evalScriptsBytes: 0,
    cachedScripts: 0,
    functions: 0,
    libraries: 0,
    functionsVmBytes: 0,
    functionsBytes: 0,
  };
  if (ctx === undefined) return info;
  info.evalVmBytes = ctx.luaHeapBytes('eval');
  info.functionsVmBytes = ctx.luaHeapBytes('function');
  info.cachedScripts = ctx.scripts.size;
  for (const entry of ctx.scripts.values()) info.evalScriptsBytes += entry.body.length + 40 + 64;
  info.libraries = ctx.libraries.size;
  info.functions = ctx.functions.size;
  for (const lib of ctx.libraries.values()) {
    info.functionsBytes += lib.code.length + lib.name.length + 64;
    for (const fn of lib.functions.values()) info.functionsBytes += fn.name.length + (fn.description?.length ?? 0) + 64;
  }
  return info;
}
