/**
 * The flags the dispatcher sees for EVAL/EVALSHA/FCALL (Redis's
 * getCommandFlags): a script with a `#!lua` header, or a function, replaces
 * the command's write / denyoom / stale flags with what it declared, so that
 * maxmemory, CLIENT PAUSE WRITE and replicas treat it as what it is.
 * Installed into the dispatcher's `dynamicCommandFlags` provider on import.
 */
import { CMD_DENYOOM, CMD_MAY_REPLICATE, CMD_STALE, CMD_WRITE, type Command } from '../server/command-table.js';
import { dynamicCommandFlags } from '../server/pause.js';
import type { Client } from '../server/client.js';
import {
  scriptingIfUsed,
  SCRIPT_FLAG_ALLOW_OOM,
  SCRIPT_FLAG_ALLOW_STALE,
  SCRIPT_FLAG_EVAL_COMPAT_MODE,
  SCRIPT_FLAG_NO_WRITES,
} from './context.js';
import { parseShebang } from './scripts.js';

/** scriptFlagsToCmdFlags. */
export function scriptFlagsToCmdFlags(cmdFlags: number, scriptFlags: number): number {
  cmdFlags &= ~(CMD_STALE | CMD_DENYOOM | CMD_WRITE);
  // no-writes implies allow-oom.
  if ((scriptFlags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES)) === 0) cmdFlags |= CMD_DENYOOM;
  if ((scriptFlags & SCRIPT_FLAG_NO_WRITES) === 0) cmdFlags |= CMD_WRITE;
  if ((scriptFlags & SCRIPT_FLAG_ALLOW_STALE) !== 0) cmdFlags |= CMD_STALE;
  return cmdFlags & ~CMD_MAY_REPLICATE;
}

/** The flags a script declared, or null for a script without a shebang or one not known. */
function evalFlags(c: Client, cmd: Command, argv: string[], isSha: boolean): number | null {
  if (argv.length < 2 || (isSha && argv[1].length !== 40)) return null;
  const ctx = scriptingIfUsed(c.server);
  let scriptFlags: number;
  if (isSha) {
    const entry = ctx?.scripts.get(argv[1].toLowerCase());
    if (entry === undefined) return null;
    scriptFlags = entry.flags;
  } else {
    const known = ctx?.shaOfBody.get(argv[1]);
    const entry = known === undefined ? undefined : ctx?.scripts.get(known);
    if (entry !== undefined) {
      scriptFlags = entry.flags;
    } else {
      const header = parseShebang(argv[1]);
      if ('error' in header) return null;
      scriptFlags = header.flags;
    }
  }
  if ((scriptFlags & SCRIPT_FLAG_EVAL_COMPAT_MODE) !== 0) return null;
  return scriptFlagsToCmdFlags(cmd.flags, scriptFlags);
}

function commandFlags(c: Client, cmd: Command, argv: string[]): number | null {
  switch (cmd.fullName) {
    case 'eval':
    case 'eval_ro':
      return evalFlags(c, cmd, argv, false);
    case 'evalsha':
    case 'evalsha_ro':
      return evalFlags(c, cmd, argv, true);
    case 'fcall':
    case 'fcall_ro': {
      if (argv.length < 2) return null;
      const fn = scriptingIfUsed(c.server)?.functions.get(argv[1].toLowerCase());
      return fn === undefined ? null : scriptFlagsToCmdFlags(cmd.flags, fn.flags);
    }
    default:
      return null;
  }
}

/** Null: the static flags apply (a command that runs no script, or a script that declared nothing). */
dynamicCommandFlags.provider = commandFlags;
