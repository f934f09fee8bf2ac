/**
 * LDB, the Lua debugger (SCRIPT DEBUG YES|SYNC), as Redis 7.0's eval.c
 * `ldb*` functions: after SCRIPT DEBUG, the client's next EVAL runs its script
 * with a line hook that stops at each new line while stepping, at
 * breakpoints and after `redis.breakpoint()`, and the client's commands go
 * to the debugger (step, continue, list, print, eval, redis, ...) instead of
 * the dispatcher. Every answer is an array of status lines, as Redis writes
 * them. When the script ends, `<endsession>` and the EVAL reply are sent and
 * the connection is closed, in both modes.
 *
 * Redis runs the debugger inside the hook and reads the socket blocking. Here
 * the hook suspends the script's coroutine instead (the same suspension the
 * busy-script slices use, runner.ts) and a debugger command that continues
 * resumes it. So:
 *  - SYNC: the server is held for the session, as Redis blocks: other clients'
 *    input waits unread (Server.ldbHolder), the cron and blocked-client
 *    timeouts wait (busy.ts setDebugHold); the script's changes stay and are
 *    propagated as one MULTI/EXEC at its end.
 *  - YES: Redis forks and debugs in the child, so the server goes on serving
 *    and the session's changes vanish with the child. Mnemo has no fork: the
 *    session runs in its own Lua state and fake client while other clients
 *    are served between debugger commands; the keys it changes are copied
 *    before their first change and put back when it ends, and its writes are
 *    not propagated. Differences that remain are listed in
 *    src/scripting/README.md (other clients can see the keys it changed while
 *    it runs, and WATCH/notifications/blocked clients react to them).
 */
import { lua, LUA_HOOKCOUNT, LUA_OK, LUA_TBOOLEAN, LUA_TFUNCTION, LUA_TLIGHTUSERDATA, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TTHREAD, LUA_TUSERDATA, LUA_GLOBALSINDEX, type LuaState } from './engine.js';
import { cString, LuaEnv, pushErrorTable, enterChain, type EnvHooks } from './sandbox.js';
import { cFormatDouble } from './libs/cnum.js';
import { Rand48 } from './libs/rand48.js';
import { scriptCommand } from './call.js';
import { setDebugHold } from './busy.js';
import { ScriptRun, HOOK_COUNT, holdPropagation, releasePropagation, type RunDebugger, type RunOwner, type RunRequest } from './runner.js';
import type { Scripting } from './context.js';
import { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import type { Database } from '../db/database.js';
import type { Value } from '../data/values.js';
import { cloneValue } from '../persistence/rdb/snapshot.js';
import { log } from '../persistence/log.js';
import { quoteArg } from '../util/splitargs.js';

const BREAKPOINTS_MAX = 64;
/** YES: how long the script runs before other clients get a turn (ms). */
const SLICE_MS = 20;
const MAX_LEN_DEFAULT = 256;
/** LUA_MINSTACK / 2: how deep nested tables are shown. */
const MAX_VALUES_DEPTH = 10;

const HELP = [
  'Redis Lua debugger help:',
  '[h]elp               Show this help.',
  '[s]tep               Run current line and stop again.',
  '[n]ext               Alias for step.',
  '[c]ontinue           Run till next breakpoint.',
  '[l]ist               List source code around current line.',
  '[l]ist [line]        List source code around [line].',
  '                     line = 0 means: current position.',
  '[l]ist [line] [ctx]  In this form [ctx] specifies how many lines',
  '                     to show before/after [line].',
  "[w]hole              List all source code. Alias for 'list 1 1000000'.",
  '[p]rint              Show all the local variables.',
  '[p]rint <var>        Show the value of the specified variable.',
  '                     Can also show global vars KEYS and ARGV.',
  '[b]reak              Show all breakpoints.',
  '[b]reak <line>       Add a breakpoint to the specified line.',
  '[b]reak -<line>      Remove breakpoint from the specified line.',
  '[b]reak 0            Remove all breakpoints.',
  '[t]race              Show a backtrace.',
  '[e]val <code>        Execute some Lua code (in a different callframe).',
  '[r]edis <cmd>        Execute a Redis command.',
  '[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.',
  '                     Specifying zero as <len> means unlimited.',
  '[a]bort              Stop the execution of the script. In sync',
  '                     mode dataset changes will be retained.',
  '',
  'Debugger functions you can call from Lua scripts:',
  'redis.debug()        Produce logs in the debugger console.',
  'redis.breakpoint()   Stop execution like if there was a breakpoint in the',
  '                     next line of code.',
];

/** What a finished YES session puts back: a key's value and TTL before the session first changed it. */
interface SavedKey {
  key: string;
  value: Value | undefined;
  /** Absolute expiry in ms, -1 for none. */
  expire: number;
}

export class LdbSession implements EnvHooks, RunOwner, RunDebugger {
  readonly server: Server;
  readonly fake: Client;
  readonly rand: Rand48;
  readonly forked: boolean;
  readonly env: LuaEnv;
  private run: ScriptRun | null = null;
  private src: string[] = [];
  private logs: string[] = [];
  private bp: number[] = [];
  /** Stop at the next line regardless of breakpoints. */
  private step = true;
  /** Stop at the next line because redis.breakpoint() was called. */
  private luabp = false;
  private currentline = -1;
  private maxlen = MAX_LEN_DEFAULT;
  private maxlenHintSent = false;
  /** Stopped at a line, waiting for a debugger command (the client's input is read only then). */
  waiting = false;
  /** YES: suspended between two slices of a running script. */
  private slicing = false;
  private sliceStart = 0;
  /** YES: the script's time snapshot while other clients run. */
  private snapshotTime = -1;
  /** The stop we wait at was a timeout (the script may loop forever). */
  private stoppedByTimeout = false;
  /** The client disconnected: the script runs to its end without stops. */
  private gone = false;
  /** The session's Lua code is executing (its errors and commands may be logged). */
  private inLua = false;
  /** When the script (re)started running: the timeout stop counts from here. */
  private startTime = performance.now();
  /** Where the EVAL reply starts in the client's buffer: `<endsession>` goes before it. */
  private replyMark = 0;
  /** Set by abort/protocol errors: the script raises this at its next instruction. */
  private pendingError: string | null = null;
  /** SYNC: the script's writes are held for one MULTI/EXEC at its end. */
  private propagationHeld = false;
  private ended = false;
  /** Where the script stopped, and whether at a line event (its repeat is skipped on resume). */
  private stopThread: LuaState = 0;
  private stopAtLine = false;
  /** 1: resumed after a line stop, 2: its first instruction is traced (a line event now is the repeat). */
  private refirePhase = 0;
  private refireThread: LuaState = 0;
  /** YES: keys saved before the session's first change to them, by db then key. */
  private saved: Map<Database, Map<string, SavedKey>> | null = null;
  /** YES: dbs flushed or swapped by the session: all their keys were saved. */
  private wholeDbs: Set<Database> | null = null;
  /** YES, while stopped: the session's versions of the keys it changed (swapOut). */
  private sessionView: Map<Database, SavedKey[]> | null = null;
  /** YES: keys are being swapped (the write barrier ignores these writes). */
  private swapping = false;
  private dirtyDelta = 0;

  constructor(
    readonly caller: Client,
    private readonly ctx: Scripting,
  ) {
    this.server = caller.server;
    this.forked = caller.ldbMode === 1;
    this.fake = new Client(this.server, null);
    this.fake.setAuthenticated(true);
    this.fake.inScript = true;
    this.fake.name = '';
    // A forked child has a copy of the random generator; SYNC uses the server's.
    this.rand = this.forked ? ctx.rand.copy() : ctx.rand;
    this.env = new LuaEnv('eval', this, this.server.redisVersion);
  }

  /** ldbStartSession: before the EVAL is looked at. */
  begin(script: string): void {
    const server = this.server;
    const c = this.caller;
    if (this.forked) {
      log(server, 'warning', 'Redis forked for debugging eval');
      this.saved = new Map();
      this.wholeDbs = new Set();
      server.addWriteBarrier(this);
    } else {
      log(server, 'warning', 'Redis synchronous debugging eval session started');
      server.ldbHolder = c;
      setDebugHold(server, true);
    }
    installDisconnectHook(server);
    c.ldbSession = this;
    c.parser.inlineSeen = false;
    let end = script.length;
    while (end > 0 && (script.charCodeAt(end - 1) === 10 || script.charCodeAt(end - 1) === 13)) end--;
    // As sdssplitlen: an empty script has no lines.
    this.src = end === 0 ? [] : script.slice(0, end).split('\n');
    this.replyMark = c.len;
  }

  /** Compiles the script in the session's own Lua state: its registry ref, or the compile error. */
  compile(code: string): { ref: number } | { error: string } {
    return this.env.compile(code, '@user_script');
  }

  /** Runs the script; returns when it stops at a line (waiting for commands) or ends. */
  start(req: Omit<RunRequest, 'debug'>): void {
    const run = new ScriptRun({ ...req, debug: this }, this);
    this.run = run;
    if (this.forked) run.replFlags = 0;
    this.startTime = this.sliceStart = performance.now();
    this.enterLua(() => run.start());
  }

  /** The EVAL failed before running (numkeys, compile error ...): the session ends with that reply. */
  endWithoutRun(): void {
    this.end();
  }

  // ---- RunOwner -------------------------------------------------------------------

  busyThreshold(): number {
    return 0;
  }

  runDone(): void {
    this.end();
  }

  // ---- RunDebugger ----------------------------------------------------------------

  /** The line/count hook (luaLdbLineHook). */
  hook(run: ScriptRun, L: LuaState, ar: number): void {
    const E = lua();
    // After a suspension at a count event Lua still reports the instruction's line event, while suspended.
    if (this.waiting || this.slicing) return;
    if (this.pendingError !== null) {
      const error = this.pendingError;
      this.pendingError = null;
      pushErrorTable(L, error);
      E.error(L);
    }
    const event = E.hookEvent(ar);
    // Lua 5.1 runs again the instruction a hook suspended at, and reports its line event again
    // when it starts a line. After a stop at a line event the stopped coroutine's hook counts
    // every instruction for a moment: a line event traced with the first one is that repeat.
    // These count events (and those of coroutines created meanwhile, which copy the hook) are
    // not Redis's count events: they only put the normal count back.
    if (event === LUA_HOOKCOUNT && E.hookCount(L) !== HOOK_COUNT) {
      if (L === this.refireThread && this.refirePhase === 1) {
        this.refirePhase = 2;
        return;
      }
      if (L === this.refireThread) this.refirePhase = 0;
      run.setDebugHookCount(L);
      return;
    }
    if (L === this.refireThread && this.refirePhase === 2) {
      this.refirePhase = 0;
      run.setDebugHookCount(L);
      return;
    }
    const frame = E.frame(L, 0);
    if (frame === null) return;
    this.currentline = frame.currentline;
    const bp = this.isBreakpoint(this.currentline) || this.luabp;
    let timeout = false;
    // Events outside the script are not interesting.
    if (frame.source.indexOf('user_script') < 0) return;
    if (event === LUA_HOOKCOUNT && !this.step && !bp) {
      const threshold = this.server.config.getNumber('busy-reply-threshold');
      const now = performance.now();
      if (now - this.startTime >= (threshold > 0 ? threshold : 5000)) {
        timeout = true;
        this.step = true;
      } else {
        // YES: other clients get their turn while the script runs, as the parent of Redis's fork serves them.
        if (this.forked && !this.gone && now - this.sliceStart >= SLICE_MS && run.canPauseAt(L)) {
          this.slicing = true;
          run.pauseAt(L);
        }
        return;
      }
    }
    if (!this.step && !bp) return;
    // Where Lua cannot suspend (a metamethod, a sort comparator ...) the stop waits for the next line.
    if (!this.gone && !run.canPauseAt(L)) return;
    const reason = bp ? (this.luabp ? 'redis.breakpoint() called' : 'break point') : timeout ? 'timeout reached, infinite loop?' : 'step over';
    this.step = false;
    this.luabp = false;
    this.put(`* Stopped at ${this.currentline}, stop reason = ${reason}`);
    this.logSourceLine(this.currentline);
    this.sendLogs();
    if (this.gone) {
      this.bp = [];
      if (timeout) {
        // Nobody can stop this script any more: end it rather than block forever.
        pushErrorTable(L, 'timeout during Lua debugging with client closing connection');
        E.error(L);
      }
      this.restarted();
      return;
    }
    this.stoppedByTimeout = timeout;
    this.waiting = true;
    this.stopThread = L;
    this.stopAtLine = event !== LUA_HOOKCOUNT;
    run.pauseAt(L);
  }

  /** The run suspended at a stop: the caller's EVAL returns, the session waits for commands. */
  paused(): void {
    const server = this.server;
    if (this.forked) {
      // Other clients run meanwhile: they must not wait for this script to end, nor see its changes.
      server.blocking.deferDepth--;
      this.snapshotTime = server.scriptTime;
      server.scriptTime = -1;
      this.swapOut();
      if (this.slicing) setImmediate(() => this.continueSlice());
    } else if (!this.propagationHeld) {
      this.propagationHeld = true;
      holdPropagation(server);
    }
  }

  /** YES: the next slice of a script that runs between stops. */
  private continueSlice(): void {
    const server = this.server;
    if (this.ended || server.shuttingDown) return;
    this.slicing = false;
    server.blocking.deferDepth++;
    server.scriptTime = this.snapshotTime;
    this.swapIn();
    this.sliceStart = performance.now();
    this.enterLua(() => this.run!.resumeDebug());
    // It stopped or ended: the debugging client's waiting commands, and the replies.
    if (!this.caller.closed) server.resume(this.caller);
  }

  /** The script's reply is about to be written: remember where it starts. */
  beforeReply(): void {
    this.replyMark = this.caller.len;
  }

  // ---- the debugging client's input ---------------------------------------------------

  /** A command from the debugging client (ldbRepl). */
  input(argv: string[], inline: boolean): void {
    if (!this.waiting || this.ended) return;
    // Redis's debugger protocol parser refuses what the server's would accept: inline or empty requests too.
    let bad = inline || argv.length === 0 || argv.length > 1024;
    for (let i = 0; i < argv.length && !bad; i++) bad = argv[i].length === 0 || argv[i].length > 1024;
    if (bad) {
      this.resume('protocol error');
      return;
    }
    const name = cString(argv[0]).toLowerCase();
    const argc = argv.length;
    switch (name) {
      case 'h':
      case 'help':
        for (const line of HELP) this.put(line);
        break;
      case 's':
      case 'step':
      case 'n':
      case 'next':
        this.step = true;
        this.resume(null);
        return;
      case 'c':
      case 'continue':
        this.resume(null);
        return;
      case 't':
      case 'trace':
        this.trace();
        break;
      case 'm':
      case 'maxlen':
        this.maxlenCommand(argv);
        break;
      case 'b':
      case 'break':
        this.breakCommand(argv);
        break;
      case 'e':
      case 'eval':
        this.evalCommand(argv);
        break;
      case 'a':
      case 'abort':
        this.resume('script aborted for user request');
        return;
      case 'p':
      case 'print':
        if (argc === 2) this.atStop(() => this.print(cString(argv[1])));
        else this.atStop(() => this.printAll());
        break;
      case 'l':
      case 'list': {
        let around = this.currentline;
        let context = 5;
        if (argc > 1) {
          const num = atoi(argv[1]);
          if (num > 0) around = num;
        }
        if (argc > 2) context = atoi(argv[2]);
        this.list(around, context);
        break;
      }
      case 'w':
      case 'whole':
        this.list(1, 1000000);
        break;
      default:
        if (argc > 1 && (name === 'r' || name === 'redis')) this.redisCommand(argv);
        else this.put('<error> Unknown Redis Lua debugger command or wrong number of arguments.');
    }
    this.sendLogs();
  }

  /** The debugging client disconnected. */
  clientGone(): void {
    if (this.ended) return;
    this.gone = true;
    this.step = false;
    this.bp = [];
    // Not inside whatever closed the client (CLIENT KILL runs in another client's command).
    if (this.waiting) {
      setImmediate(() => {
        if (this.waiting && !this.ended) this.resume(this.stoppedByTimeout ? 'timeout during Lua debugging with client closing connection' : null);
      });
    }
  }

  /** Continues the script from its stop (raising `error` there first, if given). */
  private resume(error: string | null): void {
    const run = this.run!;
    this.waiting = false;
    this.stoppedByTimeout = false;
    this.pendingError = error;
    this.restarted();
    if (this.forked) {
      this.server.blocking.deferDepth++;
      this.server.scriptTime = this.server.clock.now();
      this.swapIn();
    }
    if (error !== null) {
      run.raiseOnResume();
    } else if (this.stopAtLine) {
      this.refirePhase = 1;
      this.refireThread = this.stopThread;
      run.setDebugHookCount(this.stopThread, 1);
    }
    this.enterLua(() => run.resumeDebug());
  }

  /** The script starts running again (rctx start_time and snapshot_time). */
  private restarted(): void {
    this.startTime = this.sliceStart = performance.now();
    if (this.server.scriptTime >= 0) this.server.scriptTime = this.server.clock.now();
  }

  private enterLua(fn: () => void): void {
    const prev = this.inLua;
    this.inLua = true;
    try {
      if (this.forked) this.quietly(fn);
      else fn();
    } finally {
      this.inLua = prev;
    }
  }

  /**
   * YES: what a forked session does sends no keyspace notification (the child's
   * would never reach a subscriber), nor do the swaps of its keys.
   */
  private quietly(fn: () => void): void {
    const notifier = this.server.notifier;
    const flags = notifier.flags;
    notifier.flags = 0;
    try {
      fn();
    } finally {
      notifier.flags = flags;
    }
  }

  /** ldbEndSession, after the script's reply was written. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    const server = this.server;
    const c = this.caller;
    // `<endsession>` is written before the script's reply, as Redis writes it straight to the socket.
    const tail = c.len > this.replyMark ? Buffer.from(c.out.subarray(this.replyMark, c.len)) : null;
    c.len = this.replyMark;
    this.put('<endsession>');
    this.sendLogs();
    if (tail !== null) c.addRawBuffer(tail);
    c.ldbSession = null;
    c.ldbMode = 0;
    // The client is closed once the reply is written, in both modes.
    c.closeAfterReply = true;
    if (this.forked) {
      log(server, 'warning', 'Lua debugging session child exiting');
      this.restoreDataset();
      server.dirty -= this.dirtyDelta;
    } else {
      log(server, 'warning', 'Redis synchronous debugging eval session ended');
      if (server.ldbHolder === c) server.ldbHolder = null;
      setDebugHold(server, false);
      if (this.propagationHeld) releasePropagation(server);
      // Clients whose input waited during the session.
      setImmediate(() => {
        for (const other of server.clients.values()) {
          if (other !== c && !other.closed && other.blocked === null) server.resume(other);
        }
      });
    }
    // The session's Lua state goes once the run's stack is unwound.
    setImmediate(() => this.env.close());
  }

  // ---- logs ---------------------------------------------------------------------------

  private put(entry: string): void {
    this.logs.push(entry);
  }

  /** ldbLogWithMaxLen: trims to maxlen, with a one-time hint. */
  private logWithMaxLen(entry: string): void {
    let trimmed = false;
    if (this.maxlen !== 0 && entry.length > this.maxlen) {
      entry = entry.slice(0, this.maxlen) + ' ...';
      trimmed = true;
    }
    this.put(entry);
    if (trimmed && !this.maxlenHintSent) {
      this.maxlenHintSent = true;
      this.put("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
    }
  }

  /** ldbSendLogs: the pending entries as an array of status replies (newlines become spaces). */
  private sendLogs(): void {
    const c = this.caller;
    if (this.gone || c.closed) {
      this.logs = [];
      return;
    }
    c.addArrayLen(this.logs.length);
    for (const entry of this.logs) c.addSimple(entry.replace(/[\r\n]/g, ' '));
    this.logs = [];
  }

  private sourceLine(line: number): string {
    const idx = line - 1;
    if (idx < 0 || idx >= this.src.length) return '<out of range source code line>';
    return this.src[idx];
  }

  private logSourceLine(lnum: number): void {
    const bp = this.isBreakpoint(lnum);
    const current = this.currentline === lnum;
    const prefix = current && bp ? '->#' : current ? '-> ' : bp ? '  #' : '   ';
    this.put(`${prefix}${String(lnum).padEnd(3)} ${this.sourceLine(lnum)}`);
  }

  private list(around: number, context: number): void {
    for (let j = 1; j <= this.src.length; j++) {
      if (around !== 0 && Math.abs(around - j) > context) continue;
      this.logSourceLine(j);
    }
  }

  // ---- breakpoints ----------------------------------------------------------------------

  private isBreakpoint(line: number): boolean {
    return this.bp.length !== 0 && this.bp.includes(line);
  }

  private breakCommand(argv: string[]): void {
    if (argv.length === 1) {
      if (this.bp.length === 0) {
        this.put("No breakpoints set. Use 'b <line>' to add one.");
        return;
      }
      this.put(`${this.bp.length} breakpoints set:`);
      for (const line of this.bp) this.logSourceLine(line);
      return;
    }
    for (let j = 1; j < argv.length; j++) {
      const arg = argv[j];
      const line = parseLong(arg);
      if (line === null) {
        this.put(`Invalid argument:'${cString(arg)}'`);
      } else if (line === 0) {
        this.bp = [];
        this.put('All breakpoints removed.');
      } else if (line > 0) {
        if (this.bp.length === BREAKPOINTS_MAX) {
          this.put('Too many breakpoints set.');
        } else if (line <= this.src.length && !this.isBreakpoint(line)) {
          this.bp.push(line);
          this.list(line, 1);
        } else {
          this.put('Wrong line number.');
        }
      } else {
        const i = this.bp.indexOf(-line);
        if (i >= 0) {
          this.bp.splice(i, 1);
          this.put('Breakpoint removed.');
        } else {
          this.put('No breakpoint in the specified line.');
        }
      }
    }
  }

  private maxlenCommand(argv: string[]): void {
    if (argv.length === 2) {
      let newval = atoi(argv[1]);
      this.maxlenHintSent = true; // the user knows about this command
      if (newval !== 0 && newval <= 60) newval = 60;
      this.maxlen = newval;
    }
    if (this.maxlen !== 0) this.put(`<value> replies are truncated at ${this.maxlen} bytes.`);
    else this.put('<value> replies are unlimited.');
  }

  // ---- inspecting the suspended script ------------------------------------------------------

  /** The script's coroutines, innermost (where it stopped) first. */
  private threads(): LuaState[] {
    return this.run!.threadsInnermostFirst();
  }

  private trace(): void {
    this.atStop(() => this.traceNow());
  }

  /** Inspects the stopped script with its top frame at the instruction it stopped at. */
  private atStop(fn: () => void): void {
    lua().atSuspendedInstruction(this.threads()[0], fn);
  }

  private traceNow(): void {
    const E = lua();
    let level = 0;
    for (const T of this.threads()) {
      for (let l = 0; ; l++) {
        const frame = E.frame(T, l);
        if (frame === null) break;
        if (frame.source.indexOf('user_script') >= 0) {
          this.put(`${level === 0 ? 'In' : 'From'} ${frame.name ?? 'top level'}:`);
          this.logSourceLine(frame.currentline);
        }
        level++;
      }
    }
    if (level === 0) this.put("<error> Can't retrieve Lua stack.");
  }

  private print(varname: string): void {
    const E = lua();
    for (const T of this.threads()) {
      for (let level = 0; E.frame(T, level) !== null; level++) {
        for (let i = 1; ; i++) {
          const name = E.getLocal(T, level, i);
          if (name === null) break;
          if (name === varname) {
            this.logWithMaxLen('<value> ' + catValue(T, -1, 0));
            E.pop(T, 1);
            return;
          }
          E.pop(T, 1);
        }
      }
    }
    if (varname === 'ARGV' || varname === 'KEYS') {
      const L = this.env.L;
      E.getField(L, LUA_GLOBALSINDEX, varname);
      this.logWithMaxLen('<value> ' + catValue(L, -1, 0));
      E.pop(L, 1);
    } else {
      this.put('No such variable.');
    }
  }

  private printAll(): void {
    const E = lua();
    const T = this.threads()[0];
    let vars = 0;
    if (E.frame(T, 0) !== null) {
      for (let i = 1; ; i++) {
        const name = E.getLocal(T, 0, i);
        if (name === null) break;
        if (name.indexOf('(*temporary)') < 0) {
          this.logWithMaxLen(`<value> ${name} = ` + catValue(T, -1, 0));
          vars++;
        }
        E.pop(T, 1);
      }
    }
    if (vars === 0) this.put('No local variables in the current context.');
  }

  /** Runs `fn` with the session's Lua state current (its C functions find it), in no pcall chain. */
  private inSessionState(fn: (L: LuaState) => void): void {
    const server = this.server;
    const prevEnv = this.env.enter();
    const prevChain = enterChain(null);
    // Commands run as from the stopped script: the session's view of the data (YES), its time snapshot.
    if (this.forked) {
      server.blocking.deferDepth++;
      this.swapIn();
    }
    const prevTime = server.scriptTime;
    server.scriptTime = server.clock.now();
    try {
      this.enterLua(() => fn(this.env.L));
    } finally {
      server.scriptTime = prevTime;
      if (this.forked) {
        this.swapOut();
        server.blocking.deferDepth--;
      }
      enterChain(prevChain);
      this.env.exit(prevEnv);
    }
  }

  /** ldbEval: the code as an expression (`return ...`), else as statements, in a new call frame. */
  private evalCommand(argv: string[]): void {
    const E = lua();
    const code = argv.slice(1).join(' ');
    this.inSessionState((L) => {
      const top = E.getTop(L);
      if (E.load(L, 'return ' + code, '@ldb_eval') !== LUA_OK) {
        E.pop(L, 1);
        if (E.load(L, code, '@ldb_eval') !== LUA_OK) {
          this.put(`<error> ${cString(E.toStr(L, -1) ?? '(null)')}`);
          E.setTop(L, top);
          return;
        }
      }
      if (E.pcall(L, 0, 1) !== LUA_OK) {
        this.put(`<error> ${cString(E.toStr(L, -1) ?? '(null)')}`);
        E.setTop(L, top);
        return;
      }
      this.logWithMaxLen('<retval> ' + catValue(L, -1, 0));
      E.setTop(L, top);
    });
  }

  /** ldbRedis: redis.call with the arguments, logged as a step would log it. */
  private redisCommand(argv: string[]): void {
    const E = lua();
    this.inSessionState((L) => {
      // redis, redis.call and the arguments.
      if (!E.checkStack(L, argv.length + 1)) {
        this.logReply(Buffer.from('max lua stack reached'), 21);
        return;
      }
      const top = E.getTop(L);
      E.getField(L, LUA_GLOBALSINDEX, 'redis');
      E.getField(L, -1, 'call');
      for (let j = 1; j < argv.length; j++) E.pushString(L, argv[j]);
      this.step = true; // redis.call logs the command and its reply
      E.pcall(L, argv.length - 1, 1);
      this.step = false;
      E.setTop(L, top);
    });
  }

  // ---- EnvHooks ---------------------------------------------------------------------------

  call(L: LuaState, raise: boolean): number {
    const run = this.run;
    if (run === null) {
      pushErrorTable(L, 'redis.call/pcall can only be called inside a script invocation');
      return lua().error(L);
    }
    const dirty = this.server.dirty;
    try {
      return scriptCommand(run, L, raise);
    } finally {
      if (this.forked) this.dirtyDelta += this.server.dirty - dirty;
    }
  }

  /** luaPushError's logging while stepping (ldbIsEnabled). */
  logError(error: string): void {
    if (this.logging()) this.put(`<error> ${error}`);
  }

  /** redis.call's logging: on while stepping (ldbIsEnabled). */
  logging(): boolean {
    return this.inLua && this.step && !this.ended;
  }

  logCommand(argv: string[]): void {
    let s = '<redis>';
    for (let j = 0; j < argv.length; j++) {
      if (j === 10) {
        s += ` ... (${argv.length - j - 1} more)`;
        break;
      }
      s += ' ' + cString(argv[j]);
    }
    this.put(s);
  }

  logReply(buf: Buffer, len: number): void {
    const out = { s: '<reply> ' };
    if (len > 0) protocolToHuman(out, buf, 0);
    this.logWithMaxLen(out.s);
  }

  aclCheck(L: LuaState): number {
    return this.ctx.aclCheck(L);
  }

  setResp(resp: 2 | 3): void {
    if (this.run !== null) this.run.resp = resp;
  }

  setRepl(flags: number): void {
    // A forked session's writes never reach the AOF or replicas.
    if (this.run !== null && !this.forked) this.run.replFlags = flags;
  }

  logLevel(): number {
    return this.ctx.logLevel();
  }

  log(level: number, message: string): void {
    this.ctx.log(level, message);
  }

  registerFunction(L: LuaState): number {
    return this.ctx.registerFunction(L);
  }

  /** redis.debug(): logs its arguments. */
  debug(L: LuaState): number {
    const E = lua();
    let argc = E.getTop(L);
    let s = `<debug> line ${this.currentline}: `;
    while (argc--) {
      s += catValue(L, -1 - argc, 0);
      if (argc !== 0) s += ', ';
    }
    this.put(s);
    return 0;
  }

  /** redis.breakpoint(): stop at the next line. */
  breakpoint(L: LuaState): number {
    this.luabp = true;
    lua().pushBoolean(L, true);
    return 1;
  }

  // ---- YES: the dataset as it was -------------------------------------------------------------

  /** Before the session's first change to a key (or to a whole db: key null), keep what was there. */
  beforeWrite(db: Database, key: string | null): void {
    if (this.ended || !this.inLua || this.swapping) return;
    let keys = this.saved!.get(db);
    if (keys === undefined) this.saved!.set(db, (keys = new Map()));
    if (key !== null) {
      if (!keys.has(key)) keys.set(key, savedKey(db, key));
      return;
    }
    // FLUSHDB / FLUSHALL / SWAPDB: keep every key of the db; keys it gains later did not exist before.
    this.wholeDbs!.add(db);
    const names = db.keys.keys;
    for (let i = 0; i < names.length; i++) if (!keys.has(names[i])) keys.set(names[i], savedKey(db, names[i]));
  }

  /**
   * The session stopped: other clients run until it continues, and see the
   * keys as they were before the session (a forked session's changes are the
   * child's). The session's versions are kept for swapIn.
   */
  private swapOut(): void {
    this.quietly(() => this.swapOutNow());
  }

  private swapOutNow(): void {
    const view = new Map<Database, SavedKey[]>();
    this.swapping = true;
    try {
      for (const [db, keys] of this.saved!) {
        this.completeWholeDb(db, keys);
        const mine: SavedKey[] = [];
        for (const k of keys.values()) {
          mine.push(savedKey(db, k.key));
          applySaved(db, k);
        }
        view.set(db, mine);
      }
    } finally {
      this.swapping = false;
    }
    this.sessionView = view;
  }

  /** The session continues: its versions of the keys come back (what others left there is what gets restored at the end). */
  private swapIn(): void {
    this.quietly(() => this.swapInNow());
  }

  private swapInNow(): void {
    const view = this.sessionView;
    if (view === null) return;
    this.sessionView = null;
    this.swapping = true;
    try {
      for (const [db, mine] of view) {
        const keys = this.saved!.get(db)!;
        for (const k of mine) {
          keys.set(k.key, savedKey(db, k.key));
          applySaved(db, k);
        }
      }
    } finally {
      this.swapping = false;
    }
  }

  /** A flushed or swapped db: the keys it has now that were not saved did not exist before the session. */
  private completeWholeDb(db: Database, keys: Map<string, SavedKey>): void {
    if (!this.wholeDbs!.has(db)) return;
    for (const name of db.keys.keys) if (!keys.has(name)) keys.set(name, { key: name, value: undefined, expire: -1 });
  }

  /** The session ended: every key it changed is put back as it was. */
  private restoreDataset(): void {
    this.quietly(() => this.restoreDatasetNow());
  }

  private restoreDatasetNow(): void {
    this.server.removeWriteBarrier(this);
    this.swapping = true;
    try {
      for (const [db, keys] of this.saved!) {
        this.completeWholeDb(db, keys);
        for (const k of keys.values()) applySaved(db, k);
      }
    } finally {
      this.swapping = false;
    }
    this.saved = null;
    this.wholeDbs = null;
  }
}

function applySaved(db: Database, k: SavedKey): void {
  if (k.value === undefined) {
    db.delete(k.key);
    return;
  }
  db.set(k.key, k.value);
  if (k.expire >= 0) db.setExpire(k.key, k.expire);
}

function savedKey(db: Database, key: string): SavedKey {
  const value = db.peek(key);
  return { key, value: value === undefined ? undefined : cloneValue(value), expire: db.getExpire(key) };
}

// ---- value and reply rendering -----------------------------------------------------------------

/** ldbCatStackValueRec: a Lua value as the debugger shows it. */
export function catValue(L: LuaState, idx: number, level: number): string {
  const E = lua();
  if (level++ === MAX_VALUES_DEPTH) return '<max recursion level reached! Nested table?>';
  const t = E.type(L, idx);
  switch (t) {
    case LUA_TSTRING:
      return quoteArg(E.toStr(L, idx)!);
    case LUA_TBOOLEAN:
      return E.toBoolean(L, idx) ? 'true' : 'false';
    case LUA_TNUMBER:
      return cFormatDouble({ flags: '', width: 0, precision: 6 }, 'g', E.toNumber(L, idx));
    case LUA_TNIL:
      return 'nil';
    case LUA_TTABLE: {
      let expected = 1;
      let isArray = true;
      const repr1: string[] = [];
      const repr2: string[] = [];
      const abs = idx > 0 ? idx : E.getTop(L) + idx + 1;
      E.pushNil(L);
      while (E.next(L, abs)) {
        if (isArray && (E.type(L, -2) !== LUA_TNUMBER || E.toNumber(L, -2) !== expected)) isArray = false;
        const value = catValue(L, -1, level);
        repr1.push(value);
        repr2.push(`[${catValue(L, -2, level)}]=${value}`);
        E.pop(L, 1);
        expected++;
      }
      return '{' + (isArray ? repr1 : repr2).join('; ') + '}';
    }
    case LUA_TFUNCTION:
    case LUA_TUSERDATA:
    case LUA_TTHREAD:
    case LUA_TLIGHTUSERDATA: {
      const name = t === LUA_TFUNCTION ? 'function' : t === LUA_TUSERDATA ? 'userdata' : t === LUA_TTHREAD ? 'thread' : 'light-userdata';
      const p = E.toPointer(L, idx);
      return `"${name}@${p === 0 ? '(nil)' : '0x' + p.toString(16)}"`;
    }
    default:
      return '"<unknown-lua-type>"';
  }
}

/** The n replies of an array or set at `p`, comma-separated between `open` and `close`. */
function humanList(out: { s: string }, buf: Buffer, p: number, n: number, open: string, close: string): number {
  out.s += open;
  for (let j = 0; j < n; j++) {
    p = protocolToHuman(out, buf, p);
    if (j !== n - 1) out.s += ',';
  }
  out.s += close;
  return p;
}

/** ldbRedisProtocolToHuman: one RESP reply at `pos`, appended to out.s; returns the position after it. */
function protocolToHuman(out: { s: string }, buf: Buffer, pos: number): number {
  const type = buf[pos];
  const eol = buf.indexOf(13, pos + 1);
  if (eol < 0) return buf.length;
  const line = buf.latin1Slice(pos + 1, eol);
  let p = eol + 2;
  switch (type) {
    case 0x3a /* : */:
      out.s += line;
      return p;
    case 0x24 /* $ */: {
      const len = Number(line);
      if (len === -1) {
        out.s += 'NULL';
        return p;
      }
      out.s += quoteArg(buf.latin1Slice(p, p + len));
      return p + len + 2;
    }
    case 0x2b /* + */:
    case 0x2d /* - */:
      out.s += quoteArg(buf.latin1Slice(pos, eol));
      return p;
    case 0x2a /* * */: {
      const n = Number(line);
      if (n === -1) {
        out.s += 'NULL';
        return p;
      }
      return humanList(out, buf, p, n, '[', ']');
    }
    case 0x7e /* ~ */: {
      const n = Number(line);
      return humanList(out, buf, p, n, '~(', ')');
    }
    case 0x25 /* % */: {
      const n = Number(line);
      out.s += '{';
      for (let j = 0; j < n; j++) {
        p = protocolToHuman(out, buf, p);
        out.s += ' => ';
        p = protocolToHuman(out, buf, p);
        if (j !== n - 1) out.s += ',';
      }
      out.s += '}';
      return p;
    }
    case 0x5f /* _ */:
      out.s += '(null)';
      return p;
    case 0x23 /* # */:
      out.s += line[0] === 't' ? '#true' : '#false';
      return p;
    case 0x2c /* , */:
      out.s += '(double) ' + line;
      return p;
    default:
      return p;
  }
}

/** atoi: leading blanks, sign, digits; 0 when none. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (m === null) return 0;
  return Number(BigInt.asIntN(32, BigInt(m[1])));
}

/** string2l: the whole string is a decimal long, or null. */
function parseLong(s: string): number | null {
  if (!/^(0|-?[1-9]\d*)$/.test(s)) return null;
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return null;
  return Number(n);
}

// ---- server hooks -----------------------------------------------------------------------------

const hooked = new WeakSet<Server>();

/** The debugging client disconnecting ends its session's stops (the script runs to its end). */
function installDisconnectHook(server: Server): void {
  if (hooked.has(server)) return;
  hooked.add(server);
  server.disconnectHooks.push((c) => {
    const session = c.ldbSession;
    if (session instanceof LdbSession) session.clientGone();
  });
}
