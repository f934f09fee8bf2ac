/**
 * Command help for mnemo-cli, as redis-cli 7.0 builds it: from the server's COMMAND DOCS
 * (every command, every subcommand, and an "@group" topic per command group), falling back
 * to Mnemo's own copy of Redis 7.0's command table (without summaries) when no server
 * answers. It serves `HELP <command>` / `HELP @group`, the grey argument hints shown while
 * typing, and tab completion of command names.
 */
import { isAggregate, type Reply } from './reply.js';
import { splitArgs } from '../util/splitargs.js';
import { writeErr } from './output.js';
import { loadCommandFacts, type ArgumentDoc, type CommandFacts } from '../commands/facts/encode.js';
import { PROGRAM, versionString } from './options.js';

/** One documented argument (a COMMAND DOCS argument map). */
export interface ArgDoc {
  name: string;
  type: string;
  token?: string;
  flags: string[];
  arguments?: ArgDoc[];
}

export interface HelpEntry {
  /** Upper-case words: ["SET"] or ["CONFIG", "GET"]; ["@string"] for a group. */
  argv: string[];
  full: string;
  kind: 'command' | 'group';
  params: string;
  summary: string;
  since: string;
  group: string;
}

/** An empty name or token shows as "" (sdscat_orempty). */
const orEmpty = (s: string): string => (s === '' ? '""' : s);

/** The argument syntax line: "key value [NX|XX] [GET] [EX seconds|PX milliseconds|...]". */
export function argumentsToParams(args: readonly ArgDoc[], separator = ' '): string {
  return args.map(argumentToParams).join(separator);
}

function argumentToParams(a: ArgDoc): string {
  const optional = a.flags.includes('optional');
  const multiple = a.flags.includes('multiple');
  const multipleToken = a.flags.includes('multiple_token');
  let tokenPart = a.token !== undefined ? orEmpty(a.token) : '';
  let repeatPart = '';
  switch (a.type) {
    case 'key':
    case 'string':
    case 'integer':
    case 'double':
    case 'pattern':
    case 'unix-time':
    case 'token':
      repeatPart = orEmpty(a.name);
      break;
    case 'oneof':
      repeatPart = argumentsToParams(a.arguments ?? [], '|');
      break;
    case 'block':
      repeatPart = argumentsToParams(a.arguments ?? [], ' ');
      break;
    case 'pure-token':
      break;
    default:
      writeErr(`Unknown type '${a.type}' set for argument '${a.name}'\n`);
  }
  if (tokenPart !== '' && a.type !== 'pure-token') tokenPart += ' ';
  let out = optional ? '[' : '';
  out += tokenPart + repeatPart;
  if (multiple) out += ' [' + (multipleToken ? tokenPart : '') + repeatPart + ' ...]';
  if (optional) out += ']';
  return out;
}

/** Key/value pairs of a RESP3 map or a RESP2 flat array. */
function pairs(r: Reply | undefined): [string, Reply][] {
  if (!r || !isAggregate(r)) return [];
  const out: [string, Reply][] = [];
  for (let i = 0; i + 1 < r.elements.length; i += 2) {
    const k = r.elements[i];
    out.push(['str' in k ? k.str : '', r.elements[i + 1]]);
  }
  return out;
}

const text = (r: Reply): string => ('str' in r ? r.str : '');

function argFromReply(r: Reply): ArgDoc {
  const a: ArgDoc = { name: '', type: '', flags: [] };
  for (const [k, v] of pairs(r)) {
    if (k === 'name') a.name = text(v);
    else if (k === 'type') a.type = text(v);
    else if (k === 'token') a.token = text(v);
    else if (k === 'flags' && isAggregate(v)) a.flags = v.elements.map(text);
    else if (k === 'arguments' && isAggregate(v)) a.arguments = v.elements.map(argFromReply);
  }
  return a;
}

function argFromFacts(d: ArgumentDoc): ArgDoc {
  const a: ArgDoc = { name: d.name, type: d.type, flags: [...(d.flags ?? [])] };
  if (d.token !== undefined) a.token = d.token;
  if (d.arguments) a.arguments = d.arguments.map(argFromFacts);
  return a;
}

/** strcasecmp() ordering: byte by byte on ASCII-lowered characters. */
export function strcasecmp(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

function commandEntry(cmd: string, sub: string | null): HelpEntry {
  const argv = [cmd.toUpperCase()];
  if (sub !== null) {
    const bar = sub.indexOf('|');
    argv.push((bar >= 0 ? sub.slice(bar + 1) : sub).toUpperCase());
  }
  return { argv, full: argv.join(' '), kind: 'command', params: '', summary: '', since: '', group: '' };
}

export interface Hint {
  text: string;
  color: number;
  bold: number;
}

export class HelpTable {
  readonly entries: HelpEntry[];

  private constructor(entries: HelpEntry[], groups: Set<string>) {
    for (const g of groups) {
      entries.push({ argv: ['@' + g], full: '@' + g, kind: 'group', params: '', summary: '', since: '', group: '' });
    }
    // strcmp() order of the upper-case names (so EVALSHA sorts before EVAL_RO).
    entries.sort((a, b) => (a.full < b.full ? -1 : a.full > b.full ? 1 : 0));
    this.entries = entries;
  }

  /** From a COMMAND DOCS reply (RESP2 flat array or RESP3 map). */
  static fromCommandDocs(reply: Reply): HelpTable {
    const entries: HelpEntry[] = [];
    const groups = new Set<string>();
    const add = (cmd: string, sub: string | null, docs: Reply) => {
      const e = commandEntry(cmd, sub);
      entries.push(e);
      for (const [k, v] of pairs(docs)) {
        if (k === 'summary') e.summary = text(v);
        else if (k === 'since') e.since = text(v);
        else if (k === 'group') {
          e.group = text(v);
          groups.add(e.group);
        } else if (k === 'arguments' && isAggregate(v)) e.params = argumentsToParams(v.elements.map(argFromReply));
        else if (k === 'subcommands') {
          for (const [subName, subDocs] of pairs(v)) add(cmd, subName, subDocs);
        }
      }
    };
    for (const [name, docs] of pairs(reply)) add(name, null, docs);
    return new HelpTable(entries, groups);
  }

  /** From Mnemo's built-in copy of Redis 7.0's command table (no server needed). */
  static fromBuiltinFacts(): HelpTable {
    const entries: HelpEntry[] = [];
    const groups = new Set<string>();
    const add = (cmd: string, facts: CommandFacts, sub: string | null) => {
      const e = commandEntry(cmd, sub);
      e.since = facts.docs.since ?? '';
      e.group = facts.docs.group;
      groups.add(e.group);
      e.params = argumentsToParams((facts.docs.arguments ?? []).map(argFromFacts));
      entries.push(e);
      for (const s of facts.subcommands) add(cmd, s, s.name);
    };
    try {
      for (const facts of loadCommandFacts().values()) add(facts.name, facts, null);
    } catch {
      // No table shipped: help, hints and completion are simply empty.
    }
    return new HelpTable(entries, groups);
  }

  /** HELP [command words | @group]. */
  output(args: readonly string[]): string {
    if (args.length === 0) return genericHelp();
    const group = args[0][0] === '@' ? args[0].slice(1) : null;
    let out = '';
    for (const e of this.entries) {
      if (e.kind !== 'command') continue;
      if (group === null) {
        if (args.length <= e.argv.length && args.every((a, j) => strcasecmp(a, e.argv[j]) === 0)) out += commandHelp(e, true);
      } else if (strcasecmp(group, e.group) === 0) {
        out += commandHelp(e, false);
      }
    }
    return out + '\r\n';
  }

  /**
   * The grey hint after the typed text: the syntax of the longest matching command, minus
   * the arguments already typed (up to the first optional one).
   */
  hint(buf: string): Hint | null {
    const argv = splitArgs(buf) ?? [];
    if (argv.length === 0) return null;
    const endspace = buf.length > 0 && /[ \t\n\v\f\r]/.test(buf[buf.length - 1]);
    let match: HelpEntry | null = null;
    let matchlen = 0;
    for (const e of this.entries) {
      if (e.kind !== 'command') continue;
      if (e.argv.length <= argv.length && e.argv.length > matchlen && e.argv.every((w, j) => strcasecmp(w, argv[j]) === 0)) {
        match = e;
        matchlen = e.argv.length;
      }
    }
    if (!match) return null;
    let hint = match.params;
    let toremove = argv.length - matchlen;
    while (toremove > 0 && hint.length > 0) {
      if (hint[0] === '[') break;
      if (hint[0] === ' ') toremove--;
      hint = hint.slice(1);
    }
    if (!endspace) hint = ' ' + hint;
    return { text: hint, color: 90, bold: 0 };
  }

  /** Tab completions of command names (and of help topics after "help "). */
  completions(buf: string): string[] {
    let start = 0;
    let groupsToo = false;
    if (strcasecmp(buf.slice(0, 5), 'help ') === 0) {
      start = 5;
      while (start < buf.length && /[ \t\n\v\f\r]/.test(buf[start])) start++;
      groupsToo = true;
    }
    const typed = buf.slice(start);
    const out: string[] = [];
    for (const e of this.entries) {
      if (e.kind === 'group' && !groupsToo) continue;
      if (strcasecmp(e.full.slice(0, typed.length), typed) === 0 && e.full.length >= typed.length) {
        out.push(buf.slice(0, start) + e.full);
      }
    }
    return out;
  }
}

function commandHelp(e: HelpEntry, withGroup: boolean): string {
  let out = `\r\n  \x1b[1m${e.full}\x1b[0m \x1b[90m${e.params}\x1b[0m\r\n`;
  out += `  \x1b[33msummary:\x1b[0m ${e.summary}\r\n`;
  out += `  \x1b[33msince:\x1b[0m ${e.since}\r\n`;
  if (withGroup) out += `  \x1b[33mgroup:\x1b[0m ${e.group}\r\n`;
  return out;
}

export function genericHelp(): string {
  return (
    `${versionString()}\n` +
    'To get help about Redis commands type:\n' +
    '      "help @<group>" to get a list of commands in <group>\n' +
    '      "help <command>" for help on <command>\n' +
    '      "help <tab>" to get a list of possible help topics\n' +
    '      "quit" to exit\n' +
    '\n' +
    `To set ${PROGRAM} preferences:\n` +
    '      ":set hints" enable online hints\n' +
    '      ":set nohints" disable online hints\n' +
    `Set your preferences in ~/.${PROGRAM.replace('-', '')}rc\n`
  );
}
