/**
 * The EVAL script cache (eval.c luaCreateFunction): scripts are compiled once
 * per sha1 of their body (by EVAL or SCRIPT LOAD) and kept until SCRIPT FLUSH.
 * A body may start with a `#!lua flags=...` line; scripts without one keep
 * Redis 6's rules (flags do not apply).
 */
import { sha1hex } from './sandbox.js';
import { splitArgs } from '../util/splitargs.js';
import {
  SCRIPT_FLAG_EVAL_COMPAT_MODE,
  SCRIPT_FLAGS,
  type ScriptEntry,
  type Scripting,
} from './context.js';

/** Parses a `#!lua ...` header: the flags and where the code starts, or Redis's error. */
export function parseShebang(body: string): { flags: number; codeStart: number } | { error: string } {
  if (!body.startsWith('#!')) return { flags: SCRIPT_FLAG_EVAL_COMPAT_MODE, codeStart: 0 };
  const nl = body.indexOf('\n');
  if (nl < 0) return { error: 'ERR Invalid script shebang' };
  const parts = splitArgs(body.slice(0, nl));
  if (parts === null || parts.length === 0) return { error: 'ERR Invalid engine in script shebang' };
  if (parts[0] !== '#!lua') return { error: `ERR Unexpected engine in script shebang: ${parts[0]}` };
  let flags = 0;
  for (let j = 1; j < parts.length; j++) {
    const part = parts[j];
    if (!part.startsWith('flags=')) return { error: `ERR Unknown lua shebang option: ${part}` };
    const list = part.slice(6);
    if (list.length === 0) continue;
    for (const name of list.split(',')) {
      const def = SCRIPT_FLAGS.find(([str]) => str === name);
      if (def === undefined) return { error: `ERR Unexpected flag in script shebang: ${name}` };
      flags |= def[1];
    }
  }
  // The code keeps the header's newline so line numbers count the header.
  return { flags, codeStart: nl };
}

/**
 * The cached script for this body, compiling it if new. Returns its sha, or
 * the error to reply (compile errors, bad shebang).
 */
export function createScript(ctx: Scripting, body: string): { sha: string; entry: ScriptEntry } | { error: string } {
  // EVAL of a cached body skips hashing it again.
  const known = ctx.shaOfBody.get(body);
  if (known !== undefined) {
    const entry = ctx.scripts.get(known);
    if (entry !== undefined) return { sha: known, entry };
  }
  const sha = sha1hex(body);
  const cached = ctx.scripts.get(sha);
  if (cached !== undefined) {
    ctx.shaOfBody.set(body, sha);
    return { sha, entry: cached };
  }
  const header = parseShebang(body);
  if ('error' in header) return header;
  const compiled = ctx.evalState().compile(body.slice(header.codeStart), '@user_script');
  if ('error' in compiled) return { error: `ERR Error compiling script (new function): ${compiled.error}` };
  const entry: ScriptEntry = { body, flags: header.flags, ref: compiled.ref };
  ctx.scripts.set(sha, entry);
  ctx.shaOfBody.set(body, sha);
  return { sha, entry };
}
