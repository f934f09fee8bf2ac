/**
 * redis.call / redis.pcall: runs a command for a script through the
 * dispatcher's `call` on the script's fake client (no socket), with Redis
 * 7.0's checks and error texts (script.c scriptCall), then parses the reply
 * the command wrote back into a Lua value, as Redis does.
 */
import { MASTERDOWN_ERROR } from '../server/replication.js';
import { lua, LUA_TNUMBER, LUA_TSTRING, type LuaState } from './engine.js';
import { pushErrorTable } from './sandbox.js';
import { pushRespAsLua } from './convert.js';
import { formatDouble17g } from '../util/numbers.js';
import { CMD_DENYOOM, CMD_MAY_REPLICATE, CMD_NOSCRIPT, CMD_WRITE, type Command } from '../server/command-table.js';
import type { Server } from '../server/server.js';
import { PROPAGATE_ALL, type PendingWrite } from '../server/propagate.js';
import type { Client } from '../server/client.js';
import { Denied } from '../server/acl.js';
import { denyScriptDisabled } from './busy.js';
import { diskWritesRefused } from '../persistence/index.js';
import { staticCommandFlags } from '../server/pause.js';

/** What redis.call needs to know about the script running. */
export interface CallContext {
  readonly server: Server;
  readonly fake: Client;
  readonly readOnly: boolean;
  /** Set once the script ran a write command (it can no longer be killed). */
  writeDirty: boolean;
  /** redis.set_repl flags: 0 keeps this script's writes out of AOF and replicas. */
  replFlags: number;
  /** The script declared allow-oom. */
  readonly allowOom: boolean;
  /** Whether the server was out of memory when the script started (computed on first need). */
  scriptOom(): boolean;
  resp: 2 | 3;
  /** Cluster mode: the script may touch keys of several slots (no shebang, or allow-cross-slot-keys). */
  readonly allowCrossSlot: boolean;
  /** Cluster mode: the slot the script's keys must hash to, -1 until known. */
  clusterSlot: number;
  /** A Lua debugging session (ldb.ts): while it steps, commands and replies are logged. */
  readonly debug?: CallDebugLog | null;
}

/** The part of a Lua debugging session that redis.call reports to. */
export interface CallDebugLog {
  /** redis.call logs the command and its reply while this is true (stepping). */
  logging(): boolean;
  logCommand(argv: string[]): void;
  logReply(buf: Buffer, len: number): void;
}

/** Reads the command arguments off the Lua stack (numbers as %.17g), or null. */
function readArgv(L: LuaState): string[] | null | 'empty' {
  const E = lua();
  const argc = E.getTop(L);
  if (argc === 0) return 'empty';
  const argv: string[] = new Array(argc);
  let ok = true;
  for (let j = 1; j <= argc; j++) {
    const t = E.type(L, j);
    if (t === LUA_TNUMBER) argv[j - 1] = formatDouble17g(E.toNumber(L, j));
    else if (t === LUA_TSTRING) argv[j - 1] = E.toStr(L, j)!;
    else {
      ok = false;
      break;
    }
  }
  E.setTop(L, 0);
  return ok ? argv : null;
}

/** lookupCommand(argv, argc): the command or subcommand, or undefined. */
export function lookupScriptCommand(server: Server, argv: string[]): Command | undefined {
  const base = server.table.lookup(argv[0]);
  if (base === undefined || base.subcommands === null || argv.length === 1) return base;
  return base.subcommands.get(argv[1].toLowerCase());
}

/**
 * A command the script may not run (scriptCall's error path): the error and
 * the command's rejection are counted now, as Redis's afterErrorReply, and the
 * error table says so, so that the script's error reply is not counted again.
 */
function fail(L: LuaState, raise: boolean, error: string, server: Server, cmd: Command | undefined): number {
  server.stats.countError(error.startsWith('-') ? error.slice(1) : 'ERR ' + error);
  if (cmd !== undefined) cmd.stats.rejected++;
  pushErrorTable(L, error, true);
  return raise ? lua().error(L) : 1;
}

export function scriptCommand(ctx: CallContext, L: LuaState, raise: boolean): number {
  const E = lua();
  const argv = readArgv(L);
  if (argv === 'empty') {
    pushErrorTable(L, 'Please specify at least one argument for this redis lib call');
    return raise ? E.error(L) : 1;
  }
  if (argv === null) {
    pushErrorTable(L, 'Lua redis lib command arguments must be strings or integers');
    return raise ? E.error(L) : 1;
  }
  const server = ctx.server;
  const debug = ctx.debug ?? null;
  if (debug !== null && debug.logging()) debug.logCommand(argv);
  const cmd = lookupScriptCommand(server, argv);
  if (cmd === undefined) return fail(L, raise, 'Unknown Redis command called from script', server, cmd);
  const arity = cmd.arity;
  if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
    return fail(L, raise, 'Wrong number of args calling Redis command from script', server, cmd);
  }
  if ((cmd.flags & CMD_NOSCRIPT) !== 0 && !denyScriptDisabled(server)) return fail(L, raise, 'This Redis command is not allowed from script', server, cmd);
  if (cmd.handler === null) return fail(L, raise, 'Unknown Redis command called from script', server, cmd);
  // ACL: the script runs as its caller's user (server/acl.ts); refusals are logged with context lua.
  if (server.aclActive) {
    const refusal = scriptAclRefusal(ctx, cmd, argv);
    if (refusal !== null) return fail(L, raise, refusal, server, cmd);
  }
  const isWrite = (cmd.flags & CMD_WRITE) !== 0;
  // As Redis, a may-replicate command (PUBLISH, ...) counts as a write for a read-only script
  // (so that such scripts can run during CLIENT PAUSE WRITE).
  if (ctx.readOnly && (staticCommandFlags(cmd) & (CMD_WRITE | CMD_MAY_REPLICATE)) !== 0) return fail(L, raise, 'Write commands are not allowed from read-only scripts.', server, cmd);
  // Replication refuses a script's commands as it refuses a client's (NOREPLICAS, READONLY, MASTERDOWN).
  let refused = server.replicationGate !== null ? server.replicationGate(ctx.fake, cmd, argv) : null;
  // A script that already wrote is not failed by the server's state (scriptVerifyWriteCommandAllow): only staleness stops it.
  if (refused !== null && isWrite && ctx.writeDirty && refused !== MASTERDOWN_ERROR) refused = null;
  if (refused !== null) return fail(L, raise, refused === MASTERDOWN_ERROR ? 'Can not execute the command on a stale replica' : '-' + refused, server, cmd);
  // Nor may it write while the disk refuses writes (MISCONF), until it wrote.
  if (isWrite && !ctx.writeDirty) {
    const disk = diskWritesRefused(server);
    if (disk !== null) return fail(L, raise, '-' + disk, server, cmd);
  }
  // Cluster mode: only keys this node serves (scriptVerifyClusterState).
  if (server.cluster !== null) {
    const caller = (ctx as { caller?: Client }).caller;
    const denied = caller === undefined ? null : server.cluster.scriptRefusal(caller, cmd, argv, ctx);
    if (denied !== null) return fail(L, raise, denied, server, cmd);
  }
  // Until it wrote, a script may not grow memory past maxmemory (scriptVerifyOOM).
  if ((cmd.flags & CMD_DENYOOM) !== 0 && !ctx.allowOom && !ctx.writeDirty && ctx.scriptOom()) {
    return fail(L, raise, "-OOM command not allowed when used memory > 'maxmemory'.", server, cmd);
  }
  if (isWrite) ctx.writeDirty = true;

  const fake = ctx.fake;
  fake.resp = ctx.resp;
  fake.len = 0;
  const pending = pendingPropagation(server);
  const before = pending.length;
  server.call(fake, cmd, argv);
  // redis.set_repl: the command's writes go only to the streams selected (none: dropped).
  if (ctx.replFlags !== PROPAGATE_ALL && pending.length > before) {
    if (ctx.replFlags === 0) pending.splice(before);
    else for (let i = before; i < pending.length; i++) pending[i].target = ctx.replFlags;
  }
  const isError = pushRespAsLua(L, fake.out, fake.len);
  if (debug !== null && debug.logging()) debug.logReply(fake.out, fake.len);
  fake.len = 0;
  if (raise && isError) return E.error(L);
  return 1;
}

/** Redis's script-side ACL texts, or null when the caller's user may run the command. */
function scriptAclRefusal(ctx: CallContext, cmd: Command, argv: string[]): string | null {
  const acl = ctx.server.acl;
  const user = acl.users.get(ctx.fake.user);
  if (user === undefined) return null;
  const at = { pos: 0 };
  const denied = acl.check(user, cmd, argv, at);
  if (denied === Denied.None) return null;
  const caller = (ctx as { caller?: Client }).caller ?? ctx.fake;
  acl.addLog(caller, denied, 'lua', denied === Denied.Cmd ? cmd.fullName : argv[at.pos], user.name);
  if (denied === Denied.Cmd) return "The user executing the script can't run this command or subcommand";
  if (denied === Denied.Key) return "The user executing the script can't access at least one of the keys mentioned in the command arguments";
  return "The user executing the script can't publish to the channel mentioned in the command";
}

/**
 * The dispatcher's list of writes waiting for the outermost command to end
 * (Server.pendingPropagation). Read here to drop the writes of a script that
 * called redis.set_repl(redis.REPL_NONE).
 */
function pendingPropagation(server: Server): PendingWrite[] {
  return (server as unknown as { pendingPropagation: PendingWrite[] }).pendingPropagation;
}
