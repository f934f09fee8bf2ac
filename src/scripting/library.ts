/**
 * Function libraries (Redis 7.0 functions.c / function_lua.c): parsing the
 * `#!lua name=<lib>` header, loading a library (its top-level code runs with
 * only redis.register_function, redis.log and the constants visible, under a
 * 500 ms limit), linking its functions by case-insensitive name, and the
 * FUNCTION DUMP / RESTORE payload (see rdb-payload.ts).
 */
import {
  lua,
  LUA_MASKCOUNT,
  LUA_MASKLINE,
  LUA_OK,
  LUA_TFUNCTION,
  LUA_TNIL,
  LUA_TTABLE,
  type LuaState,
} from './engine.js';
import { cString, pushErrorTable } from './sandbox.js';
import { extractErrorInfo } from './convert.js';
import { splitArgs } from '../util/splitargs.js';
import { SCRIPT_FLAGS, type Scripting } from './context.js';

export interface FunctionInfo {
  /** As registered (FCALL matches it case-insensitively). */
  name: string;
  library: Library;
  /** Registry ref of the callback in the function state. */
  ref: number;
  description: string | null;
  flags: number;
}

export interface Library {
  name: string;
  engine: string;
  /** The whole code, header included (FUNCTION LIST WITHCODE, DUMP). */
  code: string;
  /** In registration order, by exact name. */
  functions: Map<string, FunctionInfo>;
}

/** A set of libraries and the functions they define (the live one, or RESTORE's staging). */
export interface LibrarySet {
  libraries: Map<string, Library>;
  functions: Map<string, FunctionInfo>;
}

export const LOAD_TIMEOUT_MS = 500;
const NAME_ERROR =
  'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';

/** functionsVerifyName: [A-Za-z0-9_]+ */
export function verifyName(name: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(name);
}

interface LibMetadata {
  engine: string;
  name: string;
  /** The code after the header line, from its newline on (line numbers stay right). */
  body: string;
}

function extractMetadata(code: string): LibMetadata | { error: string } {
  if (!code.startsWith('#!')) return { error: 'Missing library metadata' };
  const nl = code.indexOf('\n');
  if (nl < 0) return { error: 'Invalid library metadata' };
  const parts = splitArgs(cString(code.slice(0, nl)));
  if (parts === null || parts.length === 0) return { error: 'Invalid library metadata' };
  const engine = parts[0].slice(2);
  let name: string | null = null;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    if (part.slice(0, 5).toLowerCase() === 'name=') {
      if (name !== null) return { error: 'Invalid metadata value, name argument was given multiple times' };
      name = part.slice(5);
      continue;
    }
    return { error: `Invalid metadata value given: ${part}` };
  }
  if (name === null) return { error: 'Library name was not given' };
  return { engine, name, body: code.slice(nl) };
}

function unlink(set: LibrarySet, lib: Library): void {
  for (const fn of lib.functions.values()) set.functions.delete(fn.name.toLowerCase());
  set.libraries.delete(lib.name);
}

function link(set: LibrarySet, lib: Library): void {
  for (const fn of lib.functions.values()) set.functions.set(fn.name.toLowerCase(), fn);
  set.libraries.set(lib.name, lib);
}

function freeLibrary(ctx: Scripting, lib: Library): void {
  const env = ctx.functionState();
  for (const fn of lib.functions.values()) env.unref(fn.ref);
  lib.functions.clear();
}

/**
 * functionsCreateWithLibraryCtx: compiles and loads a library into `set`.
 * Returns the library name, or the error text (without the ERR code).
 */
export function createLibrary(
  ctx: Scripting,
  code: string,
  replace: boolean,
  set: LibrarySet,
  timeoutMs: number,
): { name: string } | { error: string } {
  const md = extractMetadata(code);
  if ('error' in md) return md;
  if (!verifyName(md.name)) return { error: NAME_ERROR };
  if (md.engine.toLowerCase() !== 'lua') return { error: `Engine '${md.engine}' not found` };
  const old = set.libraries.get(md.name);
  if (old !== undefined && !replace) return { error: `Library '${md.name}' already exists` };
  if (old !== undefined) unlink(set, old);

  const lib: Library = { name: md.name, engine: 'LUA', code, functions: new Map() };
  const failed = (error: string) => {
    freeLibrary(ctx, lib);
    if (old !== undefined) link(set, old);
    return { error };
  };
  const loadError = runLibraryCode(ctx, lib, md.body, timeoutMs);
  if (loadError !== null) return failed(loadError);
  if (lib.functions.size === 0) return failed('No functions registered');
  for (const fn of lib.functions.values()) {
    if (set.functions.has(fn.name.toLowerCase())) return failed(`Function ${fn.name} already exists`);
  }
  link(set, lib);
  if (old !== undefined) freeLibrary(ctx, old);
  return { name: md.name };
}

/** luaEngineCreate: compiles the body and runs it with the load-time globals. */
function runLibraryCode(ctx: Scripting, lib: Library, body: string, timeoutMs: number): string | null {
  const E = lua();
  const env = ctx.functionState();
  const L = env.L;
  const compiled = env.compile(body, '@user_function');
  if ('error' in compiled) return `Error compiling function: ${compiled.error}`;
  const prevEnv = env.enter();
  const prevLoading = ctx.loading;
  ctx.loading = lib;
  env.setLoadMode(true);
  const start = performance.now();
  let timedOut = false;
  const hook = (l: LuaState): void => {
    if (timeoutMs <= 0 || timedOut === false && performance.now() - start <= timeoutMs) return;
    if (!timedOut) {
      timedOut = true;
      // From now on every line raises, so pcall cannot swallow the timeout.
      E.setHook(l, loadHook, LUA_MASKLINE, 0);
    }
    pushErrorTable(l, 'FUNCTION LOAD timeout');
    E.error(l);
  };
  activeLoadHook = hook;
  E.setHook(L, loadHook, LUA_MASKCOUNT, 100_000);
  let error: string | null = null;
  try {
    E.rawGetI(L, -10000 /* LUA_REGISTRYINDEX */, compiled.ref);
    env.unref(compiled.ref);
    if (E.pcall(L, 0, 0) !== LUA_OK) {
      const info = extractErrorInfo(L);
      E.pop(L, 1);
      error = `Error registering functions: ${info.msg ?? 'ERR unknown error'}`;
    }
  } finally {
    E.setHook(L, null, 0, 0);
    activeLoadHook = null;
    env.setLoadMode(false);
    ctx.loading = prevLoading;
    env.exit(prevEnv);
  }
  return error;
}

let activeLoadHook: ((L: LuaState) => void) | null = null;

function loadHook(L: LuaState): void {
  if (activeLoadHook !== null) activeLoadHook(L);
}

function raiseRegisterError(L: LuaState, message: string): never {
  pushErrorTable(L, message);
  return lua().error(L);
}

/** redis.register_function(name, callback) or redis.register_function{...named arguments}. */
export function registerFunction(ctx: Scripting, L: LuaState): number {
  const E = lua();
  const lib = ctx.loading;
  if (lib === null) return raiseRegisterError(L, 'redis.register_function can only be called on FUNCTION LOAD command');
  const argc = E.getTop(L);
  if (argc < 1 || argc > 2) return raiseRegisterError(L, 'wrong number of arguments to redis.register_function');
  const env = ctx.functionState();
  let name: string | null = null;
  let description: string | null = null;
  let ref: number | null = null;
  let flags = 0;
  const fail = (message: string): never => {
    if (ref !== null) env.unref(ref);
    return raiseRegisterError(L, message);
  };
  if (argc === 1) {
    if (E.type(L, 1) !== LUA_TTABLE) {
      return fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).');
    }
    E.pushNil(L);
    while (E.next(L, 1)) {
      if (!E.isString(L, -2)) fail('named argument key given to redis.register_function is not a string');
      // A copy: lua_tolstring would turn a number key into a string in place.
      E.pushValue(L, -2);
      const key = cString(E.toStr(L, -1)!).toLowerCase();
      E.pop(L, 1);
      if (key === 'function_name') {
        if (!E.isString(L, -1)) fail('function_name argument given to redis.register_function must be a string');
        name = E.toStr(L, -1)!;
      } else if (key === 'description') {
        if (!E.isString(L, -1)) fail('description argument given to redis.register_function must be a string');
        description = E.toStr(L, -1)!;
      } else if (key === 'callback') {
        if (E.type(L, -1) !== LUA_TFUNCTION) fail('callback argument given to redis.register_function must be a function');
        if (ref !== null) env.unref(ref);
        E.pushValue(L, -1);
        ref = E.ref(L);
      } else if (key === 'flags') {
        if (E.type(L, -1) !== LUA_TTABLE) fail('flags argument to redis.register_function must be a table representing function flags');
        const f = readFlags(L);
        if (f === null) fail('unknown flag given');
        flags = f!;
      } else {
        fail('unknown argument given to redis.register_function');
      }
      E.pop(L, 1);
    }
    if (name === null) fail('redis.register_function must get a function name argument');
    if (ref === null) fail('redis.register_function must get a callback argument');
  } else {
    if (!E.isString(L, 1)) fail('first argument to redis.register_function must be a string');
    name = E.toStr(L, 1)!;
    if (E.type(L, 2) !== LUA_TFUNCTION) fail('second argument to redis.register_function must be a function');
    E.pushValue(L, 2);
    ref = E.ref(L);
  }
  // The whole Lua string (luaGetStringSds): a NUL in it fails the name check, it does not end the name.
  const fname = name!;
  if (!verifyName(fname)) fail(NAME_ERROR);
  if (lib.functions.has(fname)) fail('Function already exists in the library');
  lib.functions.set(fname, { name: fname, library: lib, ref: ref!, description, flags });
  return 0;
}

/** The flags table {'no-writes', ...}: their bits, or null for an unknown flag. */
function readFlags(L: LuaState): number | null {
  const E = lua();
  let flags = 0;
  for (let j = 1; ; j++) {
    E.pushNumber(L, j);
    E.getTable(L, -2);
    const t = E.type(L, -1);
    if (t === LUA_TNIL) {
      E.pop(L, 1);
      return flags;
    }
    if (!E.isString(L, -1)) {
      E.pop(L, 1);
      return null;
    }
    const s = cString(E.toStr(L, -1)!).toLowerCase();
    E.pop(L, 1);
    const def = SCRIPT_FLAGS.find(([str]) => str === s);
    if (def === undefined) return null;
    flags |= def[1];
  }
}

/** FUNCTION DELETE. */
export function deleteLibrary(ctx: Scripting, name: string): boolean {
  const lib = ctx.libraries.get(name);
  if (lib === undefined) return false;
  unlink(ctx, lib);
  freeLibrary(ctx, lib);
  return true;
}

/**
 * libraryJoin: moves the staged libraries into the live set. On a name
 * collision, replaces (replace) or fails; a function name collision always
 * fails. Nothing changes on failure.
 */
export function joinLibraries(ctx: Scripting, staged: LibrarySet, replace: boolean): string | null {
  const replaced: Library[] = [];
  const rollback = () => {
    for (const lib of replaced) link(ctx, lib);
  };
  for (const lib of staged.libraries.values()) {
    const old = ctx.libraries.get(lib.name);
    if (old === undefined) continue;
    if (!replace) {
      rollback();
      return `Library ${lib.name} already exists`;
    }
    unlink(ctx, old);
    replaced.push(old);
  }
  for (const fn of staged.functions.values()) {
    if (ctx.functions.has(fn.name.toLowerCase())) {
      rollback();
      return `Function ${fn.name} already exists`;
    }
  }
  for (const lib of staged.libraries.values()) link(ctx, lib);
  for (const old of replaced) freeLibrary(ctx, old);
  return null;
}

/** Frees the functions of staged libraries that were not kept. */
export function discardLibraries(ctx: Scripting, staged: LibrarySet): void {
  for (const lib of staged.libraries.values()) freeLibrary(ctx, lib);
}
