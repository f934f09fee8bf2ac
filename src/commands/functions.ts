/**
 * Functions: FUNCTION LOAD / DELETE / LIST / DUMP / RESTORE / FLUSH / KILL /
 * STATS / HELP and FCALL / FCALL_RO (Redis 7.0). Libraries are managed in
 * src/scripting/library.ts; calls run like EVAL (src/scripting/runner.ts).
 */
import { flushIsAsync } from './keys.js';
import { freeDictAsync } from '../server/lazyfree.js';
import { replicationOf } from '../server/replication.js';
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { persistenceOf, RdbLoadError } from '../persistence/index.js';
import { replyHelp, subcommandSyntaxError } from './client.js';
import { globMatch } from '../util/glob.js';
import {
  killRunningScript,
  scripting,
  scriptingIfUsed,
  scriptingMemoryInfo,
  SCRIPT_FLAGS,
  SCRIPT_FLAG_ALLOW_OOM,
  SCRIPT_FLAG_NO_CLUSTER,
  NO_CLUSTER_ERROR,
  SCRIPT_FLAG_ALLOW_CROSS_SLOT,
  SCRIPT_FLAG_NO_WRITES,
} from '../scripting/context.js';
import { isOutOfMemory, SCRIPT_OOM_ERROR } from '../scripting/oom.js';
import {
  createLibrary,
  deleteLibrary,
  discardLibraries,
  joinLibraries,
  LOAD_TIMEOUT_MS,
  type LibrarySet,
} from '../scripting/library.js';
import { decodeFunctionsPayload, encodeFunctionsPayload } from '../scripting/rdb-payload.js';
import { verifyDumpPayload } from '../persistence/rdb/dump.js';
import { BUSY_EVAL } from '../scripting/busy.js';
import { bytesToHuman, setInfoProvider, type InfoValue } from '../observability/info.js';
import { parseNumKeys, refuseIfRunning } from './scripting.js';

/** The C-string view Redis's %s formats show of an argument. */
function cstr(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

function fcallGeneric(c: Client, argv: string[], ro: boolean): void {
  const ctx = scripting(c.server);
  const fn = ctx.functions.get(argv[1].toLowerCase());
  if (fn === undefined) {
    c.addError('ERR Function not found');
    return;
  }
  const numkeys = parseNumKeys(c, argv, 'ERR Bad number of keys provided');
  if (numkeys === null || refuseIfRunning(c)) return;
  const noWrites = (fn.flags & SCRIPT_FLAG_NO_WRITES) !== 0;
  const allowOom = (fn.flags & SCRIPT_FLAG_ALLOW_OOM) !== 0;
  // no-writes implies allow-oom.
  if (!allowOom && !noWrites && isOutOfMemory(c.server)) {
    c.addError(SCRIPT_OOM_ERROR);
    return;
  }
  if ((fn.flags & SCRIPT_FLAG_NO_CLUSTER) !== 0 && c.server.cluster !== null) {
    c.addError(NO_CLUSTER_ERROR);
    return;
  }
  // A script that may write is refused where a write would be (NOREPLICAS, READONLY).
  const refused = !noWrites && c.server.replicationGate !== null ? replicationOf(c.server).refusal(c, true, true) : null;
  if (refused !== null) {
    c.addError(refused);
    return;
  }
  if (!noWrites && ro) {
    c.addError('ERR Can not execute a script with write flag using *_ro command.');
    return;
  }
  ctx.run({
    kind: 'function',
    env: ctx.functionState(),
    fnRef: fn.ref,
    funcName: fn.name,
    keys: argv.slice(3, 3 + numkeys),
    args: argv.slice(3 + numkeys),
    readOnly: ro || noWrites,
    allowOom,
    allowCrossSlot: (fn.flags & SCRIPT_FLAG_ALLOW_CROSS_SLOT) !== 0,
    caller: c,
    callerArgv: argv,
  });
}

function functionLoad(c: Client, argv: string[]): void {
  if (refuseIfRunning(c)) return;
  let replace = false;
  let pos = 2;
  while (pos < argv.length - 1) {
    const arg = argv[pos++];
    if (arg.toLowerCase() === 'replace') {
      replace = true;
      continue;
    }
    c.addError(`ERR Unknown option given: ${cstr(arg)}`);
    return;
  }
  if (pos >= argv.length) {
    c.addError('ERR Function code is missing');
    return;
  }
  const ctx = scripting(c.server);
  const res = createLibrary(ctx, argv[pos], replace, ctx, LOAD_TIMEOUT_MS);
  if ('error' in res) {
    c.addError('ERR ' + res.error);
    return;
  }
  c.server.dirty++;
  c.addBulk(res.name);
}

function functionDelete(c: Client, argv: string[]): void {
  if (refuseIfRunning(c)) return;
  if (!deleteLibrary(scripting(c.server), argv[2])) {
    c.addError('ERR Library not found');
    return;
  }
  c.server.dirty++;
  c.addOK();
}

function functionList(c: Client, argv: string[]): void {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i].toLowerCase();
    if (!withCode && arg === 'withcode') {
      withCode = true;
      continue;
    }
    if (pattern === null && arg === 'libraryname') {
      if (i >= argv.length - 1) {
        c.addError('ERR library name argument was not given');
        return;
      }
      pattern = argv[++i];
      continue;
    }
    c.addError(`ERR Unknown argument ${cstr(argv[i])}`);
    return;
  }
  const libs = [...scripting(c.server).libraries.values()].filter((l) => pattern === null || globMatch(pattern, l.name, true));
  c.addArrayLen(libs.length);
  for (const lib of libs) {
    c.addMapLen(withCode ? 4 : 3);
    c.addBulk('library_name');
    c.addBulk(lib.name);
    c.addBulk('engine');
    c.addBulk(lib.engine);
    c.addBulk('functions');
    c.addArrayLen(lib.functions.size);
    for (const fn of lib.functions.values()) {
      c.addMapLen(3);
      c.addBulk('name');
      c.addBulk(fn.name);
      c.addBulk('description');
      if (fn.description === null) c.addNull();
      else c.addBulk(fn.description);
      c.addBulk('flags');
      const flags = SCRIPT_FLAGS.filter(([, bit]) => (fn.flags & bit) !== 0);
      c.addSetLen(flags.length);
      for (const [name] of flags) c.addSimple(name);
    }
    if (withCode) {
      c.addBulk('library_code');
      c.addBulk(lib.code);
    }
  }
}

function functionDump(c: Client): void {
  c.addBulk(encodeFunctionsPayload([...scripting(c.server).libraries.values()].map((l) => l.code), c.server.config.getBool('rdbcompression')));
}

function functionRestore(c: Client, argv: string[]): void {
  if (refuseIfRunning(c)) return;
  if (argv.length > 4) {
    subcommandSyntaxError(c, argv);
    return;
  }
  let policy = 'append';
  if (argv.length === 4) {
    policy = argv[3].toLowerCase();
    if (policy !== 'append' && policy !== 'replace' && policy !== 'flush') {
      c.addError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
      return;
    }
  }
  const payload = Buffer.from(argv[2], 'latin1');
  if (!verifyDumpPayload(payload)) {
    c.addError('ERR DUMP payload version or checksum are wrong');
    return;
  }
  const decoded = decodeFunctionsPayload(payload);
  if ('error' in decoded) {
    c.addError('ERR ' + decoded.error);
    return;
  }
  const ctx = scripting(c.server);
  const staged: LibrarySet = { libraries: new Map(), functions: new Map() };
  for (const code of decoded.codes) {
    const res = createLibrary(ctx, code, false, staged, 0);
    if ('error' in res) {
      discardLibraries(ctx, staged);
      c.addError('ERR ' + res.error);
      return;
    }
  }
  if (policy === 'flush') {
    discardLibraries(ctx, ctx);
    ctx.libraries = staged.libraries;
    ctx.functions = staged.functions;
  } else {
    const err = joinLibraries(ctx, staged, policy === 'replace');
    if (err !== null) {
      discardLibraries(ctx, staged);
      c.addError('ERR ' + err);
      return;
    }
  }
  c.server.dirty++;
  c.addOK();
}

function functionFlush(c: Client, argv: string[]): void {
  if (refuseIfRunning(c)) return;
  if (argv.length > 3) {
    subcommandSyntaxError(c, argv);
    return;
  }
  const mode = argv.length === 3 ? argv[2].toLowerCase() : null;
  if (mode !== null && mode !== 'sync' && mode !== 'async') {
    c.addError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
    return;
  }
  const ctx = scripting(c.server);
  if (flushIsAsync(c, argv, 2)) freeDictAsync(c.server, ctx.functions.size);
  ctx.flushFunctions();
  c.server.dirty++;
  c.addOK();
}

function functionStats(c: Client): void {
  const ctx = scripting(c.server);
  const run = ctx.current;
  if (run !== null && run.kind === 'eval') {
    c.addError(BUSY_EVAL);
    return;
  }
  c.addMapLen(2);
  c.addBulk('running_script');
  if (run === null) {
    c.addNull();
  } else {
    c.addMapLen(3);
    c.addBulk('name');
    c.addBulk(run.funcName);
    c.addBulk('command');
    c.addBulks(run.callerArgv);
    c.addBulk('duration_ms');
    c.addInt(run.durationMs());
  }
  c.addBulk('engines');
  c.addMapLen(1);
  c.addBulk('LUA');
  c.addMapLen(2);
  c.addBulk('libraries_count');
  c.addInt(ctx.libraries.size);
  c.addBulk('functions_count');
  c.addInt(ctx.functions.size);
}

const FUNCTION_HELP = [
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries:',
  '    * Library name',
  '    * The engine used to run the Library',
  '    * Library description',
  '    * Functions list',
  '    * Library code (if WITHCODE is given)',
  '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
  'STATS',
  '    Return information about the current function running:',
  '    * Function name',
  '    * Command used to run the function',
  '    * Duration in MS that the function is running',
  '    If no function is running, return nil',
  '    In addition, returns a list of available engines.',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the libraries.',
  '    * SYNC: Synchronously flush the libraries.',
  'DUMP',
  '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
  '    control how to handle existing libraries (default APPEND):',
  '    * FLUSH: delete all existing libraries.',
  '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
  '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
  '      libraries with the new libraries (notice that even on this option there is a chance of failure',
  '      in case of functions name collision with another library).',
];

/**
 * Function libraries in RDB snapshots and AOF rewrites (FUNCTION2 records, as
 * Redis 7.0 writes them), and back when a snapshot is loaded (startup, DEBUG
 * RELOAD, a replica's full sync). A library of the same name is replaced.
 */
export function installFunctionPersistence(server: Server): void {
  // INFO memory: the scripting figures (Lua heaps, cached scripts, functions and libraries).
  setInfoProvider(server, 'memory', (srv, fields) => {
    const m = scriptingMemoryInfo(srv);
    const vmTotal = m.evalVmBytes + m.functionsVmBytes;
    const scripts = m.evalScriptsBytes + m.functionsBytes;
    const values: Record<string, InfoValue> = {
      used_memory_lua: m.evalVmBytes,
      used_memory_vm_eval: m.evalVmBytes,
      used_memory_lua_human: bytesToHuman(m.evalVmBytes),
      used_memory_scripts_eval: m.evalScriptsBytes,
      number_of_cached_scripts: m.cachedScripts,
      number_of_functions: m.functions,
      number_of_libraries: m.libraries,
      used_memory_vm_functions: m.functionsVmBytes,
      used_memory_vm_total: vmTotal,
      used_memory_vm_total_human: bytesToHuman(vmTotal),
      used_memory_functions: m.functionsBytes,
      used_memory_scripts: scripts,
      used_memory_scripts_human: bytesToHuman(scripts),
    };
    return fields.map((f) => (f[0] in values ? [f[0], values[f[0]]] : f));
  });
  persistenceOf(server).functions = {
    dump: () => {
      const ctx = scriptingIfUsed(server);
      return ctx === undefined ? [] : [...ctx.libraries.values()].map((l) => l.code);
    },
    load: (code, replace) => {
      const ctx = scripting(server);
      const res = createLibrary(ctx, code, replace, ctx, 0);
      if ('error' in res) throw new RdbLoadError(`Failed loading library: ${res.error}`, 0);
    },
    flush: () => scriptingIfUsed(server)?.flushFunctions(),
  };
}

export const commands: CommandImpl[] = [
  { name: 'fcall', summary: 'Calls a function of a loaded library.', handler: (c, argv) => fcallGeneric(c, argv, false) },
  { name: 'fcall_ro', summary: 'Calls a function that may only read.', handler: (c, argv) => fcallGeneric(c, argv, true) },
  { name: 'function', summary: 'Manages function libraries.' },
  { name: 'function|load', summary: 'Loads a Lua library of functions (REPLACE to overwrite one).', handler: functionLoad },
  { name: 'function|delete', summary: 'Deletes a library and its functions.', handler: functionDelete },
  { name: 'function|list', summary: 'Lists libraries, their functions and flags, optionally with code.', handler: functionList },
  { name: 'function|dump', summary: 'Serializes every library into a payload for FUNCTION RESTORE.', handler: functionDump },
  { name: 'function|restore', summary: 'Loads libraries from a FUNCTION DUMP payload.', handler: functionRestore },
  { name: 'function|flush', summary: 'Deletes every library.', handler: functionFlush },
  { name: 'function|kill', summary: 'Stops the running function if it has not written yet.', handler: (c) => killRunningScript(c, false) },
  { name: 'function|stats', summary: 'Shows the running function and the library counts.', handler: functionStats },
  { name: 'function|help', summary: 'Lists the FUNCTION subcommands.', handler: (c) => replyHelp(c, 'FUNCTION', FUNCTION_HELP) },
];
