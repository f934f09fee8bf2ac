/**
 * The Lua engine adapter: the only module that knows how Lua is run.
 *
 * Lua 5.1 itself is the WebAssembly build shipped by the npm package
 * `wasmoon-lua5.1` (its `dist/liblua5.1.wasm`: PUC-Rio Lua 5.1 compiled with
 * Emscripten, exporting the whole C API). We do not use that package's
 * JavaScript glue: we instantiate the .wasm synchronously with our own small
 * set of imports, and call the raw C API exports directly. That gives us
 * synchronous start-up on first use, binary-safe strings (we copy bytes in and
 * out of the wasm memory ourselves), registry references for compiled scripts,
 * and `lua_resume` + count hooks, which is how a long script is run in slices
 * (see runner.ts).
 *
 * Everything above this file speaks the tiny C-API-shaped surface below.
 * Strings are latin1 JS strings (one char per byte) in both directions.
 *
 * Error handling contract: Lua raises errors with longjmp, which this build
 * implements by throwing the JS number `Infinity` through the JS frames of
 * our C functions. Our C functions therefore never catch a thrown number
 * (they may use try/finally); any other JS exception is turned into a Lua
 * error by the wrapper in `pushFunction`, so a bug cannot leave the Lua state
 * half unwound.
 */
import { putLatin1, readLatin1 } from '../util/latin1.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type LuaState = number;
/** A JavaScript function callable from Lua (lua_CFunction): returns the number of results. */
export type CFunction = (L: LuaState) => number;
/** A hook gets the state and the address of its lua_Debug (see hookEvent). */
export type HookFunction = (L: LuaState, ar: number) => void;

export const LUA_TNONE = -1;
export const LUA_TNIL = 0;
export const LUA_TBOOLEAN = 1;
export const LUA_TLIGHTUSERDATA = 2;
export const LUA_TNUMBER = 3;
export const LUA_TSTRING = 4;
export const LUA_TTABLE = 5;
export const LUA_TFUNCTION = 6;
export const LUA_TUSERDATA = 7;
export const LUA_TTHREAD = 8;

export const LUA_REGISTRYINDEX = -10000;
export const LUA_ENVIRONINDEX = -10001;
export const LUA_GLOBALSINDEX = -10002;
export const LUA_MULTRET = -1;

export const LUA_OK = 0;
export const LUA_YIELD = 1;
export const LUA_ERRRUN = 2;
export const LUA_ERRSYNTAX = 3;
export const LUA_ERRMEM = 4;
export const LUA_ERRERR = 5;

export const LUA_MASKCALL = 1;
export const LUA_MASKRET = 2;
export const LUA_MASKLINE = 4;
export const LUA_MASKCOUNT = 8;
export const LUA_HOOKLINE = 2;
export const LUA_HOOKCOUNT = 3;

export const LUA_GCSTOP = 0;
export const LUA_GCRESTART = 1;
export const LUA_GCCOLLECT = 2;
export const LUA_GCCOUNT = 3;
export const LUA_GCCOUNTB = 4;
export const LUA_GCSTEP = 5;

/** What lua_getinfo tells about one stack level. */
export interface FrameInfo {
  /** 'Lua', 'C', 'main' or 'tail'. */
  what: string;
  source: string;
  currentline: number;
  name: string | null;
}

/** Raw exports of the Lua wasm module (C API functions). */
type Exports = Record<string, any>;

/** Byte offsets inside Lua 5.1's `lua_State` on wasm32 (checked at start-up by `probeLayout`). */
const OFF_NCCALLS = 52;
const OFF_BASECCALLS = 54;
/** Offset of `savedpc` inside Lua 5.1's `lua_State` on wasm32 (after next, tt, marked, status, top, base, l_G, ci). */
const OFF_SAVEDPC = 24;
/** sizeof(lua_Debug) on wasm32: 9 int/pointer fields + short_src[60] + i_ci. */
const LUA_DEBUG_SIZE = 100;

class LuaEngine {
  private readonly x: Exports;
  private readonly memory: WebAssembly.Memory;

  /** Size of the WASM heap every Lua state of the process lives in (it grows, never shrinks). */
  get heapBytes(): number {
    return this.memory.buffer.byteLength;
  }
  private readonly table: WebAssembly.Table;
  private heap: Uint8Array;
  private buf: Buffer;
  private scratch = 0;
  private scratchSize = 0;
  private readonly lenPtr: number;
  private readonly arPtr: number;
  private readonly cstrings = new Map<string, number>();
  private readonly fnIndex = new Map<Function, number>();
  private readonly wrapperModules = new Map<string, WebAssembly.Module>();
  /** True when lua_State's C-call counters could be located (see canYield). */
  readonly yieldCheckReliable: boolean;

  constructor(wasm: Buffer) {
    let inst: WebAssembly.Instance | null = null;
    const ex = (): Exports => inst!.exports as Exports;
    const enosys = () => -52;
    const imports = {
      env: {
        exit: (code: number) => {
          throw new Error(`Lua engine called exit(${code})`);
        },
        // Lua's setjmp point (luaD_rawrunprotected): a thrown number is a longjmp.
        invoke_vii: (index: number, a: number, b: number) => {
          const sp = ex().stackSave();
          try {
            this.table.get(index)(a, b);
          } catch (e) {
            ex().stackRestore(sp);
            if (typeof e !== 'number') throw e;
            ex().setThrew(1, 0);
          }
        },
        _emscripten_throw_longjmp: () => {
          throw Infinity;
        },
        emscripten_memcpy_js: (dest: number, src: number, n: number) => {
          this.u8().copyWithin(dest, src, src + n);
        },
        emscripten_resize_heap: (requested: number) => {
          const have = this.memory.buffer.byteLength;
          const want = Math.max(requested >>> 0, have * 2);
          const pages = Math.ceil((want - have) / 65536);
          try {
            this.memory.grow(pages);
            return 1;
          } catch {
            try {
              this.memory.grow(Math.ceil(((requested >>> 0) - have) / 65536));
              return 1;
            } catch {
              return 0;
            }
          }
        },
        emscripten_date_now: () => Date.now(),
        _emscripten_get_now_is_monotonic: () => 1,
        strftime: () => 0,
        _mktime_js: () => 0,
        _localtime_js: () => {},
        _gmtime_js: () => {},
        _tzset_js: () => {},
        _emscripten_system: () => -1,
        __syscall_openat: enosys,
        __syscall_fcntl64: enosys,
        __syscall_ioctl: enosys,
        __syscall_dup3: enosys,
        __syscall_unlinkat: enosys,
        __syscall_rmdir: enosys,
        __syscall_renameat: enosys,
        __syscall_readlinkat: enosys,
      },
      wasi_snapshot_preview1: {
        // io and os are never opened; stdout/stderr writes are swallowed.
        fd_write: (_fd: number, iov: number, iovcnt: number, pnum: number) => {
          const v = new DataView(this.memory.buffer);
          let n = 0;
          for (let i = 0; i < iovcnt; i++) n += v.getUint32(iov + i * 8 + 4, true);
          v.setUint32(pnum, n, true);
          return 0;
        },
        fd_read: () => 8,
        fd_close: () => 0,
        fd_seek: () => 70,
        environ_sizes_get: (pcount: number, psize: number) => {
          const v = new DataView(this.memory.buffer);
          v.setUint32(pcount, 0, true);
          v.setUint32(psize, 0, true);
          return 0;
        },
        environ_get: () => 0,
      },
    };
    inst = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(wasm)), imports);
    this.x = inst.exports as Exports;
    this.memory = this.x.memory as WebAssembly.Memory;
    this.table = this.x.__indirect_function_table as WebAssembly.Table;
    this.heap = new Uint8Array(this.memory.buffer);
    this.buf = Buffer.from(this.memory.buffer);
    this.x.emscripten_stack_init();
    this.x.__wasm_call_ctors();
    this.lenPtr = this.x.malloc(8);
    this.arPtr = this.x.malloc(LUA_DEBUG_SIZE);
    this.yieldCheckReliable = this.probeLayout();
  }

  // ---- memory ------------------------------------------------------------

  private u8(): Uint8Array {
    // Growing the memory detaches the old ArrayBuffer, which empties views on it.
    if (this.heap.byteLength === 0) {
      this.heap = new Uint8Array(this.memory.buffer);
      this.buf = Buffer.from(this.memory.buffer);
    }
    return this.heap;
  }

  private view(): Buffer {
    this.u8();
    return this.buf;
  }

  private ensureScratch(n: number): number {
    if (n > this.scratchSize) {
      if (this.scratch !== 0) this.x.free(this.scratch);
      let size = Math.max(256, this.scratchSize * 2);
      while (size < n) size *= 2;
      this.scratch = this.x.malloc(size);
      this.scratchSize = size;
    }
    return this.scratch;
  }

  /** A NUL-terminated copy of a constant name, allocated once. */
  cstr(s: string): number {
    let p = this.cstrings.get(s);
    if (p === undefined) {
      p = this.x.malloc(s.length + 1) as number;
      const b = this.view();
      b.latin1Write(s, p, s.length);
      b[p + s.length] = 0;
      this.cstrings.set(s, p);
    }
    return p;
  }

  private readCString(p: number): string {
    if (p === 0) return '';
    const b = this.view();
    let e = p;
    while (b[e] !== 0) e++;
    return b.latin1Slice(p, e);
  }

  // ---- states --------------------------------------------------------------

  newState(): LuaState {
    const L = this.x.luaL_newstate() as number;
    if (L === 0) throw new Error('Lua: out of memory creating a state');
    return L;
  }

  close(L: LuaState): void {
    this.x.lua_close(L);
  }

  /** Opens base (with coroutine), table, string and math: what Redis loads before its own libraries. */
  openStandardLibs(L: LuaState): void {
    for (const open of ['luaopen_base', 'luaopen_table', 'luaopen_string', 'luaopen_math']) {
      this.x[open](L);
      this.x.lua_settop(L, 0);
    }
  }

  // ---- stack ---------------------------------------------------------------

  getTop(L: LuaState): number {
    return this.x.lua_gettop(L);
  }
  setTop(L: LuaState, idx: number): void {
    this.x.lua_settop(L, idx);
  }
  pop(L: LuaState, n: number): void {
    this.x.lua_settop(L, -n - 1);
  }
  pushValue(L: LuaState, idx: number): void {
    this.x.lua_pushvalue(L, idx);
  }
  remove(L: LuaState, idx: number): void {
    this.x.lua_remove(L, idx);
  }
  insert(L: LuaState, idx: number): void {
    this.x.lua_insert(L, idx);
  }
  replace(L: LuaState, idx: number): void {
    this.x.lua_replace(L, idx);
  }
  checkStack(L: LuaState, n: number): boolean {
    return this.x.lua_checkstack(L, n) !== 0;
  }
  /** Moves n values from one thread's stack to another's. */
  xmove(from: LuaState, to: LuaState, n: number): void {
    this.x.lua_xmove(from, to, n);
  }

  type(L: LuaState, idx: number): number {
    return this.x.lua_type(L, idx);
  }
  typeName(L: LuaState, idx: number): string {
    return this.readCString(this.x.lua_typename(L, this.x.lua_type(L, idx)));
  }
  isNumber(L: LuaState, idx: number): boolean {
    return this.x.lua_isnumber(L, idx) !== 0;
  }
  /** True for strings and numbers (lua_isstring). */
  isString(L: LuaState, idx: number): boolean {
    return this.x.lua_isstring(L, idx) !== 0;
  }
  isCFunction(L: LuaState, idx: number): boolean {
    return this.x.lua_iscfunction(L, idx) !== 0;
  }
  rawEqual(L: LuaState, a: number, b: number): boolean {
    return this.x.lua_rawequal(L, a, b) !== 0;
  }

  toNumber(L: LuaState, idx: number): number {
    return this.x.lua_tonumber(L, idx);
  }
  toBoolean(L: LuaState, idx: number): boolean {
    return this.x.lua_toboolean(L, idx) !== 0;
  }
  toPointer(L: LuaState, idx: number): number {
    return this.x.lua_topointer(L, idx);
  }
  toThread(L: LuaState, idx: number): LuaState {
    return this.x.lua_tothread(L, idx);
  }
  /**
   * The string at idx as a latin1 string, or null when it is neither a string
   * nor a number. As lua_tolstring, a number is converted in place.
   */
  toStr(L: LuaState, idx: number): string | null {
    const p = this.x.lua_tolstring(L, idx, this.lenPtr) as number;
    if (p === 0) return null;
    const b = this.view();
    const n = b.readUInt32LE(this.lenPtr);
    return readLatin1(b, p, n);
  }
  /** Raw bytes of the string at idx (a copy), or null. */
  toBytes(L: LuaState, idx: number): Buffer | null {
    const p = this.x.lua_tolstring(L, idx, this.lenPtr) as number;
    if (p === 0) return null;
    const b = this.view();
    const n = b.readUInt32LE(this.lenPtr);
    return Buffer.from(b.subarray(p, p + n));
  }
  objLen(L: LuaState, idx: number): number {
    return this.x.lua_objlen(L, idx) >>> 0;
  }

  pushNil(L: LuaState): void {
    this.x.lua_pushnil(L);
  }
  pushNumber(L: LuaState, n: number): void {
    this.x.lua_pushnumber(L, n);
  }
  pushBoolean(L: LuaState, b: boolean): void {
    this.x.lua_pushboolean(L, b ? 1 : 0);
  }
  pushString(L: LuaState, s: string): void {
    const n = s.length;
    const p = this.ensureScratch(n + 1);
    putLatin1(this.view(), p, s);
    this.x.lua_pushlstring(L, p, n);
  }
  /** Pushes a constant string (interned once as a C string; no NUL inside). */
  pushLiteral(L: LuaState, s: string): void {
    this.x.lua_pushstring(L, this.cstr(s));
  }
  pushBytes(L: LuaState, bytes: Uint8Array, start = 0, end = bytes.length): void {
    const n = end - start;
    const p = this.ensureScratch(n + 1);
    this.u8().set(bytes.subarray(start, end), p);
    this.x.lua_pushlstring(L, p, n);
  }
  pushLightUserdata(L: LuaState, p: number): void {
    this.x.lua_pushlightuserdata(L, p);
  }
  /** Pushes L itself; true when L is its state's main thread. */
  pushThread(L: LuaState): boolean {
    return this.x.lua_pushthread(L) === 1;
  }

  // ---- tables --------------------------------------------------------------

  newTable(L: LuaState, narr = 0, nrec = 0): void {
    this.x.lua_createtable(L, narr, nrec);
  }
  getField(L: LuaState, idx: number, name: string): void {
    this.x.lua_getfield(L, idx, this.cstr(name));
  }
  setField(L: LuaState, idx: number, name: string): void {
    this.x.lua_setfield(L, idx, this.cstr(name));
  }
  getTable(L: LuaState, idx: number): void {
    this.x.lua_gettable(L, idx);
  }
  setTable(L: LuaState, idx: number): void {
    this.x.lua_settable(L, idx);
  }
  rawGet(L: LuaState, idx: number): void {
    this.x.lua_rawget(L, idx);
  }
  rawSet(L: LuaState, idx: number): void {
    this.x.lua_rawset(L, idx);
  }
  rawGetI(L: LuaState, idx: number, n: number): void {
    this.x.lua_rawgeti(L, idx, n);
  }
  rawSetI(L: LuaState, idx: number, n: number): void {
    this.x.lua_rawseti(L, idx, n);
  }
  /** rawget of a string key, without interning the key as a C string. */
  rawGetString(L: LuaState, idx: number, key: string): void {
    const abs = idx < 0 && idx > LUA_REGISTRYINDEX ? this.getTop(L) + idx + 1 : idx;
    this.pushString(L, key);
    this.x.lua_rawget(L, abs);
  }
  next(L: LuaState, idx: number): boolean {
    return this.x.lua_next(L, idx) !== 0;
  }
  getMetatable(L: LuaState, idx: number): boolean {
    return this.x.lua_getmetatable(L, idx) !== 0;
  }
  setMetatable(L: LuaState, idx: number): void {
    this.x.lua_setmetatable(L, idx);
  }
  getFenv(L: LuaState, idx: number): void {
    this.x.lua_getfenv(L, idx);
  }
  setFenv(L: LuaState, idx: number): boolean {
    return this.x.lua_setfenv(L, idx) !== 0;
  }

  /** luaL_ref into the registry. */
  ref(L: LuaState): number {
    return this.x.luaL_ref(L, LUA_REGISTRYINDEX);
  }
  unref(L: LuaState, ref: number): void {
    this.x.luaL_unref(L, LUA_REGISTRYINDEX, ref);
  }

  // ---- functions -------------------------------------------------------------

  /** A wasm-callable wrapper around a JS function, for the function table. */
  private wasmCallable(fn: Function, params: number, result: boolean): WebAssembly.ExportValue {
    const sig = `${params}${result ? 'i' : 'v'}`;
    let mod = this.wrapperModules.get(sig);
    if (mod === undefined) {
      // A minimal module that imports `e.f` with this signature and re-exports it.
      const type = [0x60, params, ...new Array(params).fill(0x7f), result ? 1 : 0, ...(result ? [0x7f] : [])];
      const section = (id: number, body: number[]) => [id, body.length, ...body];
      const bytes = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        ...section(1, [1, ...type]),
        ...section(2, [1, 1, 0x65, 1, 0x66, 0x00, 0x00]),
        ...section(7, [1, 1, 0x66, 0x00, 0x00]),
      ];
      mod = new WebAssembly.Module(new Uint8Array(bytes));
      this.wrapperModules.set(sig, mod);
    }
    return new WebAssembly.Instance(mod, { e: { f: fn as any } }).exports.f;
  }

  private functionIndex(fn: Function, params: number, result: boolean): number {
    let idx = this.fnIndex.get(fn);
    if (idx === undefined) {
      idx = this.table.grow(1);
      this.table.set(idx, this.wasmCallable(fn, params, result) as any);
      this.fnIndex.set(fn, idx);
    }
    return idx;
  }

  /**
   * Pushes a JS function as a Lua C function (with `nup` upvalues taken from
   * the stack). The same JS function always maps to the same table slot.
   */
  pushFunction(L: LuaState, fn: CFunction, nup = 0): void {
    let guarded = this.guards.get(fn);
    if (guarded === undefined) {
      guarded = (l: LuaState): number => {
        try {
          return fn(l);
        } catch (e) {
          if (typeof e === 'number') throw e; // a Lua error (longjmp) on its way out
          this.pushString(l, `internal error in Mnemo: ${(e as Error)?.message ?? e}`);
          return this.error(l);
        }
      };
      this.guards.set(fn, guarded);
    }
    this.x.lua_pushcclosure(L, this.functionIndex(guarded, 1, true), nup);
  }
  private readonly guards = new Map<CFunction, CFunction>();

  upvalueIndex(i: number): number {
    return LUA_GLOBALSINDEX - i;
  }

  /** Compiles a chunk; pushes the function (LUA_OK) or the error message. */
  load(L: LuaState, code: string, chunkName: string): number {
    const n = code.length;
    const p = this.ensureScratch(n + 1);
    this.view().latin1Write(code, p, n);
    return this.x.luaL_loadbuffer(L, p, n, this.cstr(chunkName));
  }

  call(L: LuaState, nargs: number, nresults: number): void {
    this.x.lua_call(L, nargs, nresults);
  }
  pcall(L: LuaState, nargs: number, nresults: number, errfunc = 0): number {
    return this.x.lua_pcall(L, nargs, nresults, errfunc);
  }

  /** Raises the value on top of the stack as a Lua error. Never returns normally. */
  error(L: LuaState): never {
    this.x.lua_error(L);
    throw new Error('lua_error returned');
  }
  /** luaL_error with a literal message (position prefix of the calling Lua code added). */
  raise(L: LuaState, message: string): never {
    this.x.luaL_where(L, 1);
    this.pushString(L, message);
    this.x.lua_concat(L, 2);
    return this.error(L);
  }
  /** luaL_where(L, level): pushes "chunk:line:" of that level, or "". */
  where(L: LuaState, level: number): void {
    this.x.luaL_where(L, level);
  }
  concat(L: LuaState, n: number): void {
    this.x.lua_concat(L, n);
  }
  argError(L: LuaState, arg: number, message: string): never {
    this.x.luaL_argerror(L, arg, this.cstr(message));
    throw new Error('luaL_argerror returned');
  }
  typeError(L: LuaState, arg: number, expected: string): never {
    this.x.luaL_typerror(L, arg, this.cstr(expected));
    throw new Error('luaL_typerror returned');
  }
  checkNumber(L: LuaState, arg: number): number {
    return this.x.luaL_checknumber(L, arg);
  }
  optNumber(L: LuaState, arg: number, def: number): number {
    return this.x.luaL_optnumber(L, arg, def);
  }
  checkString(L: LuaState, arg: number): string {
    const p = this.x.luaL_checklstring(L, arg, this.lenPtr) as number;
    const b = this.view();
    return b.latin1Slice(p, p + b.readUInt32LE(this.lenPtr));
  }
  checkBytes(L: LuaState, arg: number): Buffer {
    const p = this.x.luaL_checklstring(L, arg, this.lenPtr) as number;
    const b = this.view();
    return Buffer.from(b.subarray(p, p + b.readUInt32LE(this.lenPtr)));
  }
  checkType(L: LuaState, arg: number, t: number): void {
    this.x.luaL_checktype(L, arg, t);
  }
  checkAny(L: LuaState, arg: number): void {
    this.x.luaL_checkany(L, arg);
  }

  // ---- coroutines and hooks ---------------------------------------------------

  /** Creates a thread, pushed on L's stack (keep it referenced while in use). */
  newThread(L: LuaState): LuaState {
    return this.x.lua_newthread(L);
  }
  resume(T: LuaState, nargs: number): number {
    return this.x.lua_resume(T, nargs);
  }
  /** From a count hook: suspends the running coroutine (see canYield). */
  yieldFromHook(L: LuaState): void {
    this.x.lua_yield(L, 0);
  }
  /** From a C function: `return E.yieldC(L, n)` suspends L's coroutine with the top n values (lua_yield). */
  yieldC(L: LuaState, nresults: number): number {
    return this.x.lua_yield(L, nresults);
  }
  status(L: LuaState): number {
    return this.x.lua_status(L);
  }
  /** L->nCcalls: nested C calls (pcall, metamethods ...) on L; Lua raises "C stack overflow" at 200. */
  cCalls(L: LuaState): number {
    return this.view().readUInt16LE(L + OFF_NCCALLS);
  }
  /** Sets a not-running coroutine's nCcalls (lua_resume adds one and makes that its yield base). */
  setCCalls(L: LuaState, n: number): void {
    this.view().writeUInt16LE(n, L + OFF_NCCALLS);
  }
  /**
   * True when a hook running on L may yield: no C function (pcall, sort,
   * gsub, a metamethod ...) sits between the coroutine's start and here.
   */
  canYield(L: LuaState): boolean {
    if (!this.yieldCheckReliable) return false;
    const b = this.view();
    return b.readUInt16LE(L + OFF_NCCALLS) === b.readUInt16LE(L + OFF_BASECCALLS);
  }
  setHook(L: LuaState, fn: HookFunction | null, mask: number, count: number): void {
    if (fn === null) {
      this.x.lua_sethook(L, 0, 0, 0);
      return;
    }
    let guarded = this.hookGuards.get(fn);
    if (guarded === undefined) {
      guarded = (l: LuaState, ar: number): void => {
        try {
          fn(l, ar);
        } catch (e) {
          if (typeof e === 'number') throw e; // a Lua error raised by the hook
          process.emitWarning(`Lua hook failed: ${(e as Error)?.stack ?? e}`);
        }
      };
      this.hookGuards.set(fn, guarded);
    }
    this.x.lua_sethook(L, this.functionIndex(guarded, 2, false), mask, count);
  }
  private readonly hookGuards = new Map<HookFunction, HookFunction>();
  /** lua_gethookcount: the instruction count between count events of L's hook. */
  hookCount(L: LuaState): number {
    return this.x.lua_gethookcount(L);
  }

  gc(L: LuaState, what: number, data: number): number {
    return this.x.lua_gc(L, what, data);
  }

  /**
   * Runs `fn` while a coroutine a hook suspended reports the instruction it
   * stopped at: Lua sets it back one instruction to run it again on resume,
   * so lua_getinfo/lua_getlocal at level 0 would see the one before.
   */
  atSuspendedInstruction<T>(L: LuaState, fn: () => T): T {
    const b = this.view();
    const pc = b.readUInt32LE(L + OFF_SAVEDPC);
    b.writeUInt32LE(pc + 4, L + OFF_SAVEDPC);
    try {
      return fn();
    } finally {
      this.view().writeUInt32LE(pc, L + OFF_SAVEDPC);
    }
  }

  /** The event (LUA_HOOKLINE, LUA_HOOKCOUNT ...) of the lua_Debug a hook received. */
  hookEvent(ar: number): number {
    return this.view().readInt32LE(ar);
  }

  /**
   * lua_getlocal of local `n` (1-based) at stack `level`: pushes its value and
   * returns its name, or returns null (nothing pushed) when there is none.
   */
  getLocal(L: LuaState, level: number, n: number): string | null {
    const ar = this.arPtr;
    if (this.x.lua_getstack(L, level, ar) === 0) return null;
    const name = this.x.lua_getlocal(L, ar, n);
    return name === 0 ? null : this.readCString(name);
  }

  /** lua_getstack + lua_getinfo("nSl") for a level, or null past the stack's end. */
  frame(L: LuaState, level: number): FrameInfo | null {
    const ar = this.arPtr;
    if (this.x.lua_getstack(L, level, ar) === 0) return null;
    this.x.lua_getinfo(L, this.cstr('nSl'), ar);
    const b = this.view();
    return {
      name: b.readUInt32LE(ar + 4) === 0 ? null : this.readCString(b.readUInt32LE(ar + 4)),
      what: this.readCString(b.readUInt32LE(ar + 12)),
      source: this.readCString(b.readUInt32LE(ar + 16)),
      currentline: b.readInt32LE(ar + 20),
    };
  }

  /**
   * Checks the lua_State offsets canYield relies on: inside a C function
   * called directly from a coroutine the two counters are equal; called
   * through pcall they differ.
   */
  private probeLayout(): boolean {
    const L = this.newState();
    try {
      this.openStandardLibs(L);
      const seen: boolean[] = [];
      const b = () => this.view();
      const probe = (l: LuaState): number => {
        seen.push(b().readUInt16LE(l + OFF_NCCALLS) === b().readUInt16LE(l + OFF_BASECCALLS));
        return 0;
      };
      const T = this.newThread(L);
      this.pushFunction(T, probe);
      this.setField(T, LUA_GLOBALSINDEX, 'probe');
      if (this.load(T, 'probe() pcall(probe)', '=probe') !== LUA_OK) return false;
      if (this.resume(T, 0) !== LUA_OK) return false;
      return seen.length === 2 && seen[0] === true && seen[1] === false;
    } finally {
      this.close(L);
    }
  }
}

let instance: LuaEngine | null = null;

/** The process-wide Lua engine (the wasm module is instantiated on first use). */
export function lua(): LuaEngine {
  if (instance === null) {
    const require = createRequire(import.meta.url);
    const pkgJson = require.resolve('wasmoon-lua5.1/package.json');
    const wasmPath = pkgJson.slice(0, -'package.json'.length) + 'dist/liblua5.1.wasm';
    instance = new LuaEngine(readFileSync(wasmPath));
  }
  return instance;
}

export type { LuaEngine };
