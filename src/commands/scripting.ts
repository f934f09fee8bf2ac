/**
 * Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis 7.0).
 * The Lua side lives in src/scripting/ (see its README.md).
 */
import { flushIsAsync } from './keys.js';
import { freeDictAsync } from '../server/lazyfree.js';
import { replicationOf } from '../server/replication.js';
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { parseInt64 } from '../util/numbers.js';
import { ERR_NOT_INT } from './errors.js';
import { replyHelp } from './client.js';
import {
  killRunningScript,
  scripting,
  SCRIPT_FLAG_ALLOW_OOM,
  SCRIPT_FLAG_NO_CLUSTER,
  NO_CLUSTER_ERROR,
  SCRIPT_FLAG_ALLOW_CROSS_SLOT,
  SCRIPT_FLAG_EVAL_COMPAT_MODE,
  SCRIPT_FLAG_NO_WRITES,
  type ScriptEntry,
} from '../scripting/context.js';
import { isOutOfMemory, SCRIPT_OOM_ERROR } from '../scripting/oom.js';
import { createScript, parseShebang } from '../scripting/scripts.js';
import { LdbSession } from '../scripting/ldb.js';
import { sha1hex } from '../scripting/sandbox.js';
import { BUSY_EVAL, BUSY_FUNCTION } from '../scripting/busy.js';
import '../scripting/command-flags.js';

const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';

/** Lowercases A-Z only, as evalGenericCommand does for EVALSHA. */
function lowerSha(s: string): string {
  // Clients send lowercase SHAs: look for an uppercase letter before running the regex.
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 65 && ch <= 90) return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  }
  return s;
}

/**
 * The number of keys of EVAL/FCALL-style commands, or null after replying
 * the error (`badNumber` is the text for a non-integer).
 */
export function parseNumKeys(c: Client, argv: string[], badNumber: string): number | null {
  const numkeys = parseInt64(argv[2]);
  if (numkeys === null) {
    c.addError(badNumber);
    return null;
  }
  if (numkeys > argv.length - 3) {
    c.addError("ERR Number of keys can't be greater than number of args");
    return null;
  }
  if (numkeys < 0) {
    c.addError("ERR Number of keys can't be negative");
    return null;
  }
  return numkeys;
}

/** A second run cannot start while one is in progress (the dispatcher's BUSY check also stops it). */
export function refuseIfRunning(c: Client): boolean {
  const run = scripting(c.server).current;
  if (run === null) return false;
  c.addError(run.kind === 'eval' ? BUSY_EVAL : BUSY_FUNCTION);
  return true;
}

function evalGeneric(c: Client, argv: string[], isSha: boolean, ro: boolean): void {
  if (isSha && argv[1].length !== 40) {
    c.addError(NOSCRIPT);
    return;
  }
  // SCRIPT DEBUG YES|SYNC: this EVAL runs in a debugging session (scripting/ldb.ts).
  let session: LdbSession | null = null;
  if (c.ldbMode !== 0 && c.socket !== null && !c.inMulti) {
    if (isSha) {
      c.addError('ERR Please use EVAL instead of EVALSHA for debugging');
      return;
    }
    session = new LdbSession(c, scripting(c.server));
    session.begin(argv[1]);
  }
  const fail = (error: string): void => {
    c.addError(error);
    session?.endWithoutRun();
  };
  const numkeys = parseNumKeys(c, argv, ERR_NOT_INT);
  if (numkeys === null || refuseIfRunning(c)) {
    session?.endWithoutRun();
    return;
  }
  const ctx = scripting(c.server);
  let sha: string;
  let entry: ScriptEntry | undefined;
  if (isSha) {
    sha = lowerSha(argv[1]);
    entry = ctx.scripts.get(sha);
    if (entry === undefined) return fail(NOSCRIPT);
  } else if (session !== null && session.forked) {
    // A forked session compiles the script in its own state; the server's cache does not see it.
    const header = parseShebang(argv[1]);
    if ('error' in header) return fail(header.error);
    sha = sha1hex(argv[1]);
    entry = { body: argv[1], flags: header.flags, ref: 0 };
  } else {
    const created = createScript(ctx, argv[1]);
    if ('error' in created) return fail(created.error);
    sha = created.sha;
    entry = created.entry;
  }
  const compat = (entry.flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) !== 0;
  const noWrites = !compat && (entry.flags & SCRIPT_FLAG_NO_WRITES) !== 0;
  const allowOom = !compat && (entry.flags & SCRIPT_FLAG_ALLOW_OOM) !== 0;
  // no-writes implies allow-oom.
  if (!compat && !allowOom && !noWrites && isOutOfMemory(c.server)) return fail(SCRIPT_OOM_ERROR);
  if (!compat && (entry.flags & SCRIPT_FLAG_NO_CLUSTER) !== 0 && c.server.cluster !== null) return fail(NO_CLUSTER_ERROR);
  // A script that may write is refused where a write would be (NOREPLICAS, READONLY).
  const refused = !compat && !noWrites && c.server.replicationGate !== null ? replicationOf(c.server).refusal(c, true, true) : null;
  if (refused !== null) return fail(refused);
  if (!compat && !noWrites && ro) return fail('ERR Can not execute a script with write flag using *_ro command.');
  const req = {
    kind: 'eval' as const,
    env: ctx.evalState(),
    fnRef: entry.ref,
    funcName: sha,
    keys: argv.slice(3, 3 + numkeys),
    args: argv.slice(3 + numkeys),
    readOnly: ro || noWrites,
    allowOom,
    allowCrossSlot: compat || (entry.flags & SCRIPT_FLAG_ALLOW_CROSS_SLOT) !== 0,
    caller: c,
    callerArgv: argv,
  };
  if (session === null) {
    ctx.run(req);
    return;
  }
  // The session runs the script in its own Lua state.
  const header = parseShebang(entry.body);
  const compiled = session.compile(entry.body.slice('error' in header ? 0 : header.codeStart));
  if ('error' in compiled) return fail(`ERR Error compiling script (new function): ${compiled.error}`);
  session.start({ ...req, env: session.env, fnRef: compiled.ref });
}

const SCRIPT_HELP = [
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
];

function scriptLoad(c: Client, argv: string[]): void {
  const created = createScript(scripting(c.server), argv[2]);
  if ('error' in created) c.addError(created.error);
  else c.addBulk(created.sha);
}

function scriptExists(c: Client, argv: string[]): void {
  const scripts = scripting(c.server).scripts;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) c.addInt(scripts.has(argv[j].toLowerCase()) ? 1 : 0);
}

function scriptFlush(c: Client, argv: string[]): void {
  if (refuseIfRunning(c)) return;
  const mode = argv.length === 3 ? argv[2].toLowerCase() : null;
  if (argv.length > 3 || (mode !== null && mode !== 'sync' && mode !== 'async')) {
    c.addError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
    return;
  }
  const ctx = scripting(c.server);
  if (flushIsAsync(c, argv, 2)) freeDictAsync(c.server, ctx.scripts.size);
  ctx.flushScripts();
  c.addOK();
}

function scriptDebug(c: Client, argv: string[]): void {
  // The debugger answers on the connection as soon as the EVAL runs: replies still pending would interleave.
  if (c.len > 0) {
    c.addError('ERR SCRIPT DEBUG must be called outside a pipeline');
    return;
  }
  const mode = argv[2].toLowerCase();
  if (mode === 'no') c.ldbMode = 0;
  else if (mode === 'yes') c.ldbMode = 1;
  else if (mode === 'sync') c.ldbMode = 2;
  else {
    c.addError('ERR Use SCRIPT DEBUG YES/SYNC/NO');
    return;
  }
  c.addOK();
}

export const commands: CommandImpl[] = [
  { name: 'eval', summary: 'Runs a Lua script on the server, atomically.', handler: (c, argv) => evalGeneric(c, argv, false, false) },
  { name: 'evalsha', summary: 'Runs a cached Lua script by its SHA1 digest.', handler: (c, argv) => evalGeneric(c, argv, true, false) },
  { name: 'eval_ro', summary: 'Runs a Lua script that may only read.', handler: (c, argv) => evalGeneric(c, argv, false, true) },
  { name: 'evalsha_ro', summary: 'Runs a cached Lua script that may only read.', handler: (c, argv) => evalGeneric(c, argv, true, true) },
  { name: 'script', summary: 'Manages the Lua script cache.' },
  { name: 'script|load', summary: 'Compiles a script into the cache and returns its SHA1.', handler: scriptLoad },
  { name: 'script|exists', summary: 'Tells which SHA1 digests are in the script cache.', handler: scriptExists },
  { name: 'script|flush', summary: 'Empties the script cache.', handler: scriptFlush },
  { name: 'script|kill', summary: 'Stops the running script if it has not written yet.', handler: (c) => killRunningScript(c, true) },
  { name: 'script|debug', summary: 'Sets the Lua debugger mode of the next EVAL.', handler: scriptDebug },
  { name: 'script|help', summary: 'Lists the SCRIPT subcommands.', handler: (c) => replyHelp(c, 'SCRIPT', SCRIPT_HELP) },
];
