/**
 * Directives with their own syntax: save, bind, dir, replicaof,
 * client-output-buffer-limit, oom-score-adj-values, notify-keyspace-events,
 * latency-tracking-info-percentiles; plus validators some string directives
 * use (file names, hostnames, proc-title templates).
 */
import { accessSync, constants as fsConstants, realpathSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { DENY_LOADING, IMMUTABLE, MULTI_ARG, PROTECTED, type Directive } from './directive.js';
import { formatKeyspaceEvents, NOTIFY_EVENTS_ERROR, parseKeyspaceEvents } from './keyspace-events.js';
import { formatTrimmedDouble, parseMemory, parseStrictDouble, parseStrtoll, toInt32 } from './parse.js';

/** strerror() text for the errno codes file and directory access can give. */
export function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EPERM':
      return 'Operation not permitted';
    case 'EISDIR':
      return 'Is a directory';
    case 'ELOOP':
      return 'Too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'File name too long';
    case 'EADDRINUSE':
      return 'Address already in use';
    case 'EADDRNOTAVAIL':
      return 'Cannot assign requested address';
    default:
      return (e as Error)?.message ?? String(e);
  }
}

/** A single "" argument stands for an empty list (save "", bind ""). */
function emptyListArgs(args: string[]): string[] {
  return args.length === 1 && args[0] === '' ? [] : args;
}

// ---- save -------------------------------------------------------------------

export interface SaveParam {
  /** Seconds (C time_t). */
  seconds: bigint;
  /** Changes (C int). */
  changes: number;
}

const SAVE_ERROR = 'Invalid save parameters';

export const saveDirective: Directive<SaveParam[]> = {
  name: 'save',
  flags: MULTI_ARG,
  type: 'special',
  defaultValue: [
    { seconds: 3600n, changes: 1 },
    { seconds: 300n, changes: 100 },
    { seconds: 60n, changes: 10000 },
  ],
  parse(rawArgs, prev, ctx) {
    const args = emptyListArgs(rawArgs);
    if (args.length % 2) return { error: SAVE_ERROR };
    const params: SaveParam[] = [];
    for (let j = 0; j < args.length; j += 2) {
      const seconds = parseStrtoll(args[j]);
      const changes = parseStrtoll(args[j + 1]);
      if (seconds === null || changes === null || seconds < 1n || changes < 0n) return { error: SAVE_ERROR };
      params.push({ seconds, changes: toInt32(changes) });
    }
    // In a config file the first `save` line replaces the defaults and later
    // lines add to it; `save ""` always clears. CONFIG SET replaces.
    const append = ctx.fromFile && ctx.seenInLoad.has('save') && params.length > 0;
    if (ctx.fromFile) ctx.seenInLoad.add('save');
    return { value: append ? [...prev, ...params] : params };
  },
  format: (v) => v.map((p) => `${p.seconds} ${p.changes}`).join(' '),
};

// ---- bind -------------------------------------------------------------------

const BIND_MAX = 16;

export const bindDirective: Directive<string[]> = {
  name: 'bind',
  flags: MULTI_ARG,
  type: 'special',
  defaultValue: ['*', '-::*'],
  parse(rawArgs) {
    if (rawArgs.length > BIND_MAX) return { error: 'Too many bind addresses specified.' };
    return { value: emptyListArgs(rawArgs) };
  },
  format: (v) => v.join(' '),
};

// ---- dir --------------------------------------------------------------------

export const dirDirective: Directive<string> = {
  name: 'dir',
  flags: PROTECTED | DENY_LOADING,
  type: 'special',
  defaultValue: () => process.cwd(),
  parse(args, _prev, ctx) {
    if (args.length !== 1) return { error: 'wrong number of arguments' };
    if (args[0] === '') return { error: 'No such file or directory' };
    // Redis chdir()s here; we only record the directory, resolved the same way.
    const target = resolvePath(ctx.dir, args[0]);
    if (!ctx.checkDir) return { value: target };
    try {
      if (!statSync(target).isDirectory()) return { error: 'Not a directory' };
      accessSync(target, fsConstants.X_OK);
      return { value: realpathSync(target) };
    } catch (e) {
      return { error: strerror(e) };
    }
  },
  format: (v) => v,
};

// ---- replicaof --------------------------------------------------------------

export interface ReplicaOf {
  host: string;
  port: number;
}

export const replicaofDirective: Directive<ReplicaOf | null> = {
  name: 'replicaof',
  alias: 'slaveof',
  flags: IMMUTABLE | MULTI_ARG,
  type: 'special',
  defaultValue: null,
  parse(args) {
    if (args.length !== 2) return { error: 'wrong number of arguments' };
    if (args[0].toLowerCase() === 'no' && args[1].toLowerCase() === 'one') return { value: null };
    const p = parseStrtoll(args[1]);
    const port = p === null ? -1 : toInt32(p);
    if (port < 0 || port > 65535) return { error: 'Invalid master port' };
    return { value: { host: args[0], port } };
  },
  format: (v) => (v ? `${v.host} ${v.port}` : ''),
};

// ---- client-output-buffer-limit ---------------------------------------------

export interface OutputBufferLimit {
  hardBytes: bigint;
  softBytes: bigint;
  softSeconds: number;
}

/** Limits per client class, in Redis's order: normal, slave (replica), pubsub. */
export type OutputBufferLimits = [OutputBufferLimit, OutputBufferLimit, OutputBufferLimit];

export const OUTPUT_BUFFER_CLASSES = ['normal', 'slave', 'pubsub'] as const;

function outputBufferClass(name: string): number {
  switch (name.toLowerCase()) {
    case 'normal':
      return 0;
    case 'slave':
    case 'replica':
      return 1;
    case 'pubsub':
      return 2;
    default:
      return -1; // includes "master", which exists as a client type but has no limit
  }
}

export const clientOutputBufferLimitDirective: Directive<OutputBufferLimits> = {
  name: 'client-output-buffer-limit',
  flags: MULTI_ARG,
  type: 'special',
  defaultValue: [
    { hardBytes: 0n, softBytes: 0n, softSeconds: 0 },
    { hardBytes: 256n * 1024n * 1024n, softBytes: 64n * 1024n * 1024n, softSeconds: 60 },
    { hardBytes: 32n * 1024n * 1024n, softBytes: 8n * 1024n * 1024n, softSeconds: 60 },
  ],
  parse(args, prev) {
    if (args.length % 4) return { error: 'Wrong number of arguments in buffer limit configuration.' };
    const next = prev.map((l) => ({ ...l })) as OutputBufferLimits;
    for (let j = 0; j < args.length; j += 4) {
      const cls = outputBufferClass(args[j]);
      if (cls < 0) return { error: 'Invalid client class specified in buffer limit configuration.' };
      const hard = parseMemory(args[j + 1]);
      const soft = parseMemory(args[j + 2]);
      const secs = parseStrtoll(args[j + 3]);
      const softSeconds = secs === null ? -1 : toInt32(secs);
      if (hard === null || soft === null || softSeconds < 0) {
        return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
      }
      next[cls] = { hardBytes: hard, softBytes: soft, softSeconds };
    }
    return { value: next };
  },
  format: (v) =>
    v.map((l, i) => `${OUTPUT_BUFFER_CLASSES[i]} ${l.hardBytes} ${l.softBytes} ${l.softSeconds}`).join(' '),
};

// ---- oom-score-adj-values ---------------------------------------------------

export const oomScoreAdjValuesDirective: Directive<[number, number, number]> = {
  name: 'oom-score-adj-values',
  flags: MULTI_ARG,
  type: 'special',
  defaultValue: [0, 200, 800],
  parse(args) {
    if (args.length !== 3) return { error: 'wrong number of arguments' };
    const out: number[] = [];
    for (const a of args) {
      const v = parseStrtoll(a);
      if (v === null || v < -2000n || v > 2000n) {
        return { error: 'Invalid oom-score-adj-values, elements must be between -2000 and 2000.' };
      }
      out.push(Number(v));
    }
    return { value: out as [number, number, number] };
  },
  format: (v) => v.join(' '),
};

// ---- notify-keyspace-events -------------------------------------------------

export const notifyKeyspaceEventsDirective: Directive<number> = {
  name: 'notify-keyspace-events',
  flags: 0,
  type: 'special',
  defaultValue: 0,
  parse(args) {
    if (args.length !== 1) return { error: 'wrong number of arguments' };
    const flags = parseKeyspaceEvents(args[0]);
    return flags === null ? { error: NOTIFY_EVENTS_ERROR } : { value: flags };
  },
  format: formatKeyspaceEvents,
};

// ---- latency-tracking-info-percentiles --------------------------------------

export const latencyPercentilesDirective: Directive<number[]> = {
  name: 'latency-tracking-info-percentiles',
  flags: MULTI_ARG,
  type: 'special',
  defaultValue: [50, 99, 99.9],
  parse(rawArgs) {
    const out: number[] = [];
    for (const a of emptyListArgs(rawArgs)) {
      const v = parseStrictDouble(a);
      if (v === null) return { error: 'Invalid latency-tracking-info-percentiles parameters' };
      if (v > 100 || v < 0) {
        return { error: 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]' };
      }
      out.push(v);
    }
    return { value: out };
  },
  format: (v) => v.map(formatTrimmedDouble).join(' '),
};

// ---- validators for string directives ---------------------------------------

function isBaseName(s: string): boolean {
  return !s.includes('/') && !s.includes('\\');
}

export function validateDbFilename(v: string): string | null {
  return isBaseName(v) ? null : "dbfilename can't be a path, just a filename";
}

export function validateAppendFilename(v: string): string | null {
  if (v === '') return "appendfilename can't be empty";
  return isBaseName(v) ? null : "appendfilename can't be a path, just a filename";
}

export function validateAppendDirname(v: string): string | null {
  if (v === '') return "appenddirname can't be empty";
  return isBaseName(v) ? null : "appenddirname can't be a path, just a dirname";
}

export function validateHostname(v: string): string | null {
  if (v.length >= 256) return 'Hostnames must be less than 256 characters';
  if (!/^[A-Za-z0-9.-]*$/.test(v)) return 'Hostnames may only contain alphanumeric characters, hyphens or dots';
  return null;
}

// Sample values used to check a template; the empty ones make a template
// that only uses them invalid, as in Redis (which has no title at check time).
const PROC_TITLE_SAMPLE = new Map<string, string>([
  ['title', ''],
  ['listen-addr', '*:6379'],
  ['server-mode', ''],
  ['port', '6379'],
  ['tls-port', '0'],
  ['unixsocket', ''],
  ['config-file', 'redis.conf'],
]);

/**
 * Expands a proc-title-template (Redis's expandProcTitleTemplate): {name}
 * variables from `vars`, "{{" for a literal brace, trimmed of spaces. Null
 * when the template is malformed or names an unknown variable.
 */
export function expandProcTitleTemplate(t: string, vars: (name: string) => string | undefined): string | null {
  let out = '';
  let p = 0;
  while (p < t.length) {
    const open = t.indexOf('{', p);
    if (open < 0) {
      out += t.slice(p);
      break;
    }
    out += t.slice(p, open);
    if (open + 1 >= t.length) return null;
    if (t[open + 1] === '{') {
      out += '{';
      p = open + 2;
      continue;
    }
    const close = t.indexOf('}', open + 1);
    if (close < 0) return null;
    const value = vars(t.slice(open + 1, close));
    if (value === undefined) return null;
    out += value;
    p = close + 1;
  }
  return out.replace(/^ +| +$/g, '');
}

/** proc-title-template: {name} variables, "{{" for a literal brace, non-blank expansion. */
export function validateProcTitleTemplate(t: string): string | null {
  const out = expandProcTitleTemplate(t, (name) => PROC_TITLE_SAMPLE.get(name));
  return out === null || out === '' ? 'template format is invalid or contains unknown variables' : null;
}
