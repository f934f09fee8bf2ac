/**
 * Running one script or function call to its end.
 *
 * The compiled function runs in a Lua coroutine with a count hook (every
 * 100k VM instructions, as Redis). A script that ends before
 * busy-reply-threshold runs synchronously inside its EVAL/FCALL: no slicing,
 * no timers. Past the threshold the hook yields the coroutine and the run
 * goes on in slices from setImmediate: the caller waits like a blocked
 * client, the server is marked busy (other clients get -BUSY, see busy.ts),
 * and SCRIPT KILL / FUNCTION KILL can stop it between slices. When it ends,
 * its reply goes to the caller, its writes are propagated as one
 * MULTI ... EXEC, and only then are blocked clients served.
 *
 * pcall of a Lua function runs it in a coroutine of its own while the run may
 * be suspended (sandbox.ts, RunChain), so a loop inside pcall is suspended
 * too: the run's thread and the pcall bodies form a chain, and a slice
 * resumes its innermost coroutine, handing each body's outcome to the pcall
 * waiting on it.
 *
 * A script that runs inside EXEC, or whose hook fires where Lua cannot yield
 * (a metamethod, a sort comparator, gsub callback, xpcall, a pcall'd C
 * function ...), keeps running synchronously until it can.
 */
import {
  lua,
  LUA_MASKCOUNT,
  LUA_MASKLINE,
  LUA_OK,
  LUA_REGISTRYINDEX,
  LUA_TBOOLEAN,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  LUA_YIELD,
  type LuaState,
} from './engine.js';
import { enterChain, moveBodyOutcome, pushErrorTable, RunChain, type LuaEnv } from './sandbox.js';
import { extractErrorInfo, luaToReply } from './convert.js';
import type { CallContext, CallDebugLog } from './call.js';
import { setScriptBusy } from './busy.js';
import { keyHashSlot } from '../cluster/slot.js';
import { isOutOfMemory } from './oom.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { log } from '../persistence/log.js';

/** VM instructions between two checks of the clock (Redis uses the same count). */
export const HOOK_COUNT = 100_000;
/** Once busy, check more often so slices stay short. */
const BUSY_HOOK_COUNT = 10_000;
/** Length of one slice of a busy script before other clients get their turn. */
const SLICE_MS = 20;

export interface RunRequest {
  kind: 'eval' | 'function';
  env: LuaEnv;
  /** Registry ref of the compiled function. */
  fnRef: number;
  /** The sha (EVAL) or function name (FCALL), as errors and FUNCTION STATS show it. */
  funcName: string;
  keys: string[];
  args: string[];
  readOnly: boolean;
  /** The script declared allow-oom. */
  allowOom: boolean;
  /** Keys of several cluster slots are allowed (EVAL without shebang, or allow-cross-slot-keys). */
  allowCrossSlot: boolean;
  caller: Client;
  /** The caller's command (FUNCTION STATS shows it). */
  callerArgv: string[];
  /** A Lua debugging session (SCRIPT DEBUG, ldb.ts) runs this script. */
  debug?: RunDebugger | null;
}

/** What a run being debugged reports to its debugging session (ldb.ts). */
export interface RunDebugger extends CallDebugLog {
  /** The line and count hook. */
  hook(run: ScriptRun, L: LuaState, ar: number): void;
  /** The run suspended at a stop (pauseAt). */
  paused(): void;
  /** The run ended: its reply is about to be written to the caller. */
  beforeReply(): void;
}

/** What a run needs from the server's scripting state. */
export interface RunOwner {
  readonly fake: Client;
  /** busy-reply-threshold in ms (0: never busy). */
  busyThreshold(): number;
  runDone(run: ScriptRun): void;
}

export class ScriptRun implements CallContext {
  readonly server: Server;
  readonly fake: Client;
  readonly readOnly: boolean;
  readonly kind: 'eval' | 'function';
  readonly funcName: string;
  readonly caller: Client;
  readonly callerArgv: string[];
  readonly allowOom: boolean;
  readonly allowCrossSlot: boolean;
  clusterSlot: number;
  writeDirty = false;
  replFlags = 3;
  private oomState: boolean | null = null;
  resp: 2 | 3 = 2;
  /** SCRIPT KILL / FUNCTION KILL asked to stop it. */
  killed = false;
  /** Past busy-reply-threshold. */
  timedOut = false;
  /** Continuing in slices from the event loop. */
  async = false;
  readonly startTime = performance.now();
  private sliceStart = 0;
  private threshold = 0;
  private canSuspend = false;
  /** The run's thread and the pcall bodies running in it (see sandbox.ts). */
  private chain: RunChain | null = null;
  private thread: { T: LuaState; ref: number; hooked?: boolean } | null = null;
  private readonly env: LuaEnv;
  readonly debug: RunDebugger | null;

  constructor(
    private readonly req: RunRequest,
    private readonly owner: RunOwner,
  ) {
    this.server = req.caller.server;
    this.fake = owner.fake;
    this.readOnly = req.readOnly;
    this.allowOom = req.allowOom;
    this.allowCrossSlot = req.allowCrossSlot;
    // Cluster mode: the declared keys' slot (they share one, or the call got CROSSSLOT).
    this.clusterSlot = this.server.cluster !== null && req.keys.length > 0 ? keyHashSlot(req.keys[0]) : -1;
    this.kind = req.kind;
    this.funcName = req.funcName;
    this.caller = req.caller;
    this.callerArgv = req.callerArgv;
    this.env = req.env;
    this.debug = req.debug ?? null;
  }

  scriptOom(): boolean {
    if (this.oomState === null) this.oomState = isOutOfMemory(this.server);
    return this.oomState;
  }

  /** Elapsed time in ms (FUNCTION STATS duration_ms). */
  durationMs(): number {
    return Math.floor(performance.now() - this.startTime);
  }

  start(): void {
    const E = lua();
    const server = this.server;
    const req = this.req;
    server.blocking.deferDepth++;
    // Keys' TTLs are checked against the script's start time while it runs.
    server.scriptTime = server.clock.now();
    this.fake.db = this.caller.db;
    this.fake.resp = 2;
    this.fake.user = this.caller.user;
    this.fake.scriptCaller = this.caller;
    this.fake.scriptCallerArgv = this.callerArgv;
    this.thread = this.env.acquireThread();
    const T = this.thread.T;
    E.rawGetI(T, LUA_REGISTRYINDEX, req.fnRef);
    let nargs = 0;
    if (req.kind === 'eval') {
      this.env.setGlobalArray('KEYS', req.keys);
      this.env.setGlobalArray('ARGV', req.args);
    } else {
      this.env.pushArray(T, req.keys);
      this.env.pushArray(T, req.args);
      nargs = 2;
    }
    this.threshold = this.owner.busyThreshold();
    // The AOF loader's client too: while loading, Redis serves other clients (-LOADING) from a slow script's hook.
    this.canSuspend = (this.caller.socket !== null || this.caller.aofLoader) && !this.caller.inMulti && callDepth(server) <= 1;
    this.chain = new RunChain({ T, ref: this.thread.ref, parked: false }, this.canSuspend && (this.threshold > 0 || this.debug !== null));
    if (this.debug !== null) {
      // Redis's luaLdbLineHook: every new line, and the instruction count for the timeout stop.
      this.setDebugHookCount(T);
      this.thread.hooked = false;
    } else if (!this.thread.hooked) {
      // The hook stays on a reused coroutine; it does nothing when the threshold is 0.
      E.setHook(T, countHook, LUA_MASKCOUNT, HOOK_COUNT);
      this.thread.hooked = true;
    }
    this.sliceStart = this.startTime;
    this.step(nargs);
  }

  // ---- the Lua debugger's side (ldb.ts) -------------------------------------------------

  /** True when the debugger may stop the script where the hook runs on L. */
  canPauseAt(L: LuaState): boolean {
    return this.canSuspend && this.chain !== null && this.chain.mayYield(L);
  }

  /** From the debugger's hook: suspends the script (after canPauseAt said it can). */
  pauseAt(L: LuaState): void {
    this.chain!.hookYielded = L;
    lua().yieldFromHook(L);
  }

  /** Continues a script stopped by the debugger. */
  resumeDebug(): void {
    for (const link of this.chain!.links) link.parked = true;
    this.step(0);
  }

  /**
   * The debugger raises an error where the script stopped (abort): its hook
   * runs again at the next instruction of the innermost coroutine.
   */
  raiseOnResume(): void {
    const links = this.chain!.links;
    this.setDebugHookCount(links[links.length - 1].T, 1);
  }

  /** The debugger's hook on L, checking every `count` instructions (HOOK_COUNT when omitted). */
  setDebugHookCount(L: LuaState, count = HOOK_COUNT): void {
    lua().setHook(L, ldbHook, LUA_MASKLINE | LUA_MASKCOUNT, count);
  }

  /** The coroutines of the run, innermost (where the script is) first. */
  threadsInnermostFirst(): LuaState[] {
    const links = this.chain!.links;
    const out: LuaState[] = [];
    for (let i = links.length - 1; i >= 0; i--) out.push(links[i].T);
    return out;
  }

  /** SCRIPT KILL / FUNCTION KILL: stop before the next slice. */
  kill(): void {
    this.killed = true;
  }

  /** Called by the count hook while this run's Lua code executes. */
  onHook(L: LuaState): void {
    if (this.threshold <= 0) return;
    const now = performance.now();
    if (!this.timedOut) {
      const elapsed = now - this.startTime;
      if (elapsed < this.threshold) return;
      this.timedOut = true;
      log(
        this.server,
        'warning',
        `Slow script detected: still in execution after ${Math.floor(elapsed)} milliseconds. ` +
          `You can try killing the script using the ${this.kind === 'eval' ? 'SCRIPT KILL' : 'FUNCTION KILL'} command. Script name is: ${this.funcName}.`,
      );
    } else if (now - this.sliceStart < SLICE_MS) {
      return;
    }
    const E = lua();
    const chain = this.chain;
    // L is the run's thread or the innermost pcall body, and every pcall up to the run's thread can yield.
    if (!this.canSuspend || chain === null || !chain.mayYield(L)) return;
    chain.hookYielded = L;
    E.yieldFromHook(L);
  }

  /**
   * Resumes the innermost coroutine of the chain (the run's thread at first).
   * When a pcall body ends, its outcome becomes the results of the pcall
   * waiting on it in the coroutine below, which is resumed in turn.
   */
  private step(nargs: number): void {
    const E = lua();
    const T = this.thread!.T;
    const chain = this.chain!;
    const links = chain.links;
    const prevRun = executing;
    const prevEnv = this.env.enter();
    const prevChain = enterChain(chain);
    executing = this;
    let rc: number;
    let byHook = false;
    try {
      for (;;) {
        const top = links[links.length - 1];
        chain.hookYielded = 0;
        rc = E.resume(top.T, nargs);
        if (rc === LUA_YIELD && chain.hookYielded === top.T) {
          byHook = true;
          break;
        }
        if (top.T === T) break;
        links.pop();
        nargs = moveBodyOutcome(top.T, links[links.length - 1].T, rc);
        this.env.releaseBody(top, rc === LUA_OK && !this.killed);
      }
    } catch (e) {
      // Not a Lua error (those come back as return codes): a bug. Answer and give up the coroutine.
      this.dropBodies();
      E.pushString(T, `internal error in Mnemo: ${(e as Error)?.message ?? e}`);
      rc = -1;
    } finally {
      chain.hookYielded = 0;
      executing = prevRun;
      enterChain(prevChain);
      this.env.exit(prevEnv);
    }
    if (byHook && this.debug !== null) {
      this.debug.paused();
    } else if (byHook) {
      this.suspend();
    } else if (rc === LUA_OK) {
      this.finishOk();
    } else if (rc === LUA_YIELD) {
      // coroutine.yield() outside a coroutine: Redis's pcall makes it this error.
      E.pushString(T, 'attempt to yield across metamethod/C-call boundary');
      this.finishError(false);
    } else {
      this.finishError(false);
    }
  }

  private suspend(): void {
    const server = this.server;
    for (const link of this.chain!.links) link.parked = true;
    if (!this.async) {
      this.async = true;
      setScriptBusy(server, this.kind);
      // The caller waits like a blocked client: its pipeline pauses until the reply.
      // (The AOF loader waits for the script's end itself: whenScriptDone.)
      if (!this.caller.aofLoader) {
        server.blocking.block(this.caller, this.caller.current!, this.callerArgv, {
          keys: [],
          timeoutMs: 0,
          serve: () => false,
        });
      }
      holdPropagation(server);
      lua().setHook(this.thread!.T, countHook, LUA_MASKCOUNT, BUSY_HOOK_COUNT);
    }
    // Bodies started before the first suspension check at the normal interval: shorten theirs too.
    const links = this.chain!.links;
    for (let i = 1; i < links.length; i++) lua().setHook(links[i].T, countHook, LUA_MASKCOUNT, BUSY_HOOK_COUNT);
    setImmediate(() => this.resumeSlice());
  }

  private resumeSlice(): void {
    if (this.server.shuttingDown) {
      this.cleanup(false);
      return;
    }
    if (this.killed) {
      if (this.chain!.links.length > 1) this.killInsidePcall();
      else this.finishError(true);
      return;
    }
    this.sliceStart = performance.now();
    this.step(0);
  }

  /**
   * SCRIPT KILL while suspended inside pcall, as Redis: the kill error is
   * raised where the script is, so the innermost pcall returns it (false,
   * "ERR Script killed ..."), and from then on every new line raises it
   * again, so the script ends at its next line (or returns normally when
   * none comes: a one-line script).
   */
  private killInsidePcall(): void {
    const E = lua();
    const links = this.chain!.links;
    this.env.releaseBody(links.pop()!, false);
    const parent = links[links.length - 1].T;
    E.pushBoolean(parent, false);
    E.pushString(parent, 'ERR ' + KILLED);
    for (const link of links) E.setHook(link.T, killedHook, LUA_MASKLINE, 0);
    this.sliceStart = performance.now();
    this.step(2);
  }

  private finishOk(): void {
    this.debug?.beforeReply();
    const E = lua();
    const T = this.thread!.T;
    const n = E.getTop(T);
    if (n === 0) E.pushNil(T);
    else if (n > 1) E.setTop(T, 1);
    // Redis converts the result with its error handler still below it on the stack; the
    // same slot here makes a too-deep result stop at the same depth ("reached lua stack limit").
    E.pushNil(T);
    E.insert(T, 1);
    luaToReply(T, this.caller, this.resp, (msg) => uncountError(this.server, msg));
    E.setTop(T, 0);
    this.cleanup(true);
  }

  /** Replies the error on top of the thread's stack, decorated with where it happened. */
  private finishError(killed: boolean): void {
    this.debug?.beforeReply();
    const E = lua();
    const T = this.thread!.T;
    let frame = E.frame(T, 0);
    if (frame !== null && frame.what === 'C') frame = E.frame(T, 1);
    let msg: string | null;
    let ignoreStats = false;
    if (killed) {
      msg = 'ERR ' + KILLED;
    } else if (E.type(T, -1) === LUA_TTABLE) {
      const info = extractErrorInfo(T);
      msg = info.msg;
      ignoreStats = info.ignoreStats;
    } else {
      msg = 'ERR ' + cut(plainTostring(T, -1));
    }
    let text = msg ?? 'ERR Error running script';
    if (frame !== null) text += ` script: ${this.funcName}, on ${frame.source}:${frame.currentline}.`;
    this.caller.addError(text);
    if (ignoreStats) uncountError(this.server, text);
    this.cleanup(false);
  }

  /** Gives up the pcall bodies still in the chain (the run ends while they are suspended). */
  private dropBodies(): void {
    const links = this.chain?.links;
    if (links === undefined) return;
    while (links.length > 1) this.env.releaseBody(links.pop()!, false);
  }

  private cleanup(threadReusable: boolean): void {
    const E = lua();
    const server = this.server;
    this.dropBodies();
    this.chain = null;
    if (this.thread !== null) {
      // Back to the normal check interval after a busy run.
      if (this.async && threadReusable) E.setHook(this.thread.T, countHook, LUA_MASKCOUNT, HOOK_COUNT);
      this.env.releaseThread(this.thread, threadReusable);
      this.thread = null;
    }
    const wasAsync = this.async;
    if (wasAsync) {
      setScriptBusy(server, null);
      if (this.caller.blocked !== null) server.blocking.unblock(this.caller);
    }
    this.owner.runDone(this);
    server.scriptTime = -1;
    if (wasAsync) releasePropagation(server);
    server.blocking.deferDepth--;
    if (wasAsync) {
      if (server.blocking.hasReadyKeys()) server.blocking.serveReadyKeys();
      if (!this.caller.closed && !server.shuttingDown && !this.caller.aofLoader) server.resume(this.caller);
    }
  }
}

/** The run whose Lua code is executing (one at a time); the count hook serves it. */
let executing: ScriptRun | null = null;

function countHook(L: LuaState): void {
  if (executing !== null) executing.onHook(L);
}

/** The hook of a run being debugged. */
function ldbHook(L: LuaState, ar: number): void {
  const run = executing;
  if (run !== null && run.debug !== null) run.debug.hook(run, L, ar);
}

const KILLED = 'Script killed by user with SCRIPT KILL...';

/** Line hook of a run killed inside pcall: every new line raises the kill error. */
function killedHook(L: LuaState): void {
  pushErrorTable(L, KILLED);
  lua().error(L);
}

/**
 * tostring() of an error value without running Lua code (the coroutine that
 * raised it is dead or suspended).
 */
function plainTostring(T: LuaState, idx: number): string {
  const E = lua();
  switch (E.type(T, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER:
      return E.toStr(T, idx)!;
    case LUA_TNIL:
      return 'nil';
    case LUA_TBOOLEAN:
      return E.toBoolean(T, idx) ? 'true' : 'false';
    default:
      return `${E.typeName(T, idx)}: 0x${E.toPointer(T, idx).toString(16).padStart(8, '0')}`;
  }
}

function cut(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

/** Undoes the error statistics of a reply Redis flags ERR_REPLY_FLAG_NO_STATS_UPDATE. */
export function uncountError(server: Server, msg: string): void {
  const stats = server.stats;
  stats.totalErrorReplies--;
  const sp = msg.indexOf(' ');
  const code = sp < 0 || sp >= 32 ? 'ERR' : msg.slice(0, sp);
  const n = stats.errorCodes.get(code);
  if (n === undefined) return;
  if (n <= 1) stats.errorCodes.delete(code);
  else stats.errorCodes.set(code, n - 1);
}

// The dispatcher batches the writes of one top-level command and sends them
// as MULTI ... EXEC when it returns (Server.callDepth / flushPropagation). A
// script that goes on after its EVAL returned keeps that batch open until it
// ends. These reach the Server's private members; see the report for the
// small public API that would replace them.
interface PropagationInternals {
  callDepth: number;
  pendingPropagation: unknown[];
  flushPropagation(): void;
}

function callDepth(server: Server): number {
  return (server as unknown as PropagationInternals).callDepth;
}

export function holdPropagation(server: Server): void {
  (server as unknown as PropagationInternals).callDepth++;
}

export function releasePropagation(server: Server): void {
  const s = server as unknown as PropagationInternals;
  if (--s.callDepth === 0 && s.pendingPropagation.length !== 0) s.flushPropagation();
}
