/**
 * COMMAND and its subcommands: COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP.
 * Everything reported comes from the command table, so only commands Mnemo implements are
 * listed, and a container lists only its implemented subcommands.
 *
 * Also the key extraction shared with cluster routing and ACL key checks (`getKeys`): Redis 7.0's
 * rules for walking a command's key specs, plus its per-command fallbacks ("getkeys procs") for the
 * commands whose specs cannot describe every call (SORT ... STORE, MIGRATE ... KEYS, SET ... GET,
 * EVAL with a bad numkeys, ...). The fallbacks reproduce Redis's quirks on purpose (atoi-style
 * numkeys, sources before the destination), because COMMAND GETKEYS shows them to clients.
 */
import type { Command, CommandImpl, CommandTable } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { ReplyWriter } from '../resp/writer.js';
import {
  writeCommandDocs,
  writeCommandInfo,
  type CommandFacts,
  type KeySpec,
  type SubcommandFilter,
} from './facts/encode.js';
import { globMatch } from '../util/glob.js';
import { parseLongLong } from '../util/numbers.js';
import { replyHelp } from './client.js';
import { ERR_SYNTAX } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Key extraction

/** One key argument: its index in argv (argv[0] is the command name) and its key-spec flags. */
export interface KeyRef {
  readonly pos: number;
  /** As Redis spells them (RO, RW, OW, RM, access, update, insert, delete, ...), in Redis's order. */
  readonly flags: readonly string[];
}

export interface GetKeysOptions {
  /** Also report arguments that key specs mark `not_key` (SPUBLISH's channel, ...). */
  includeNotKeys?: boolean;
  /** Skip specs that cannot be resolved (and keep what incomplete ones found) instead of failing over to the fallback. */
  returnPartial?: boolean;
}

type KeyProc = (argv: readonly string[]) => KeyRef[];

const NO_FLAGS: readonly string[] = [];
const RO_ACCESS: readonly string[] = ['RO', 'access'];
const RW_ACCESS_UPDATE: readonly string[] = ['RW', 'access', 'update'];
const RW_ACCESS_DELETE: readonly string[] = ['RW', 'access', 'delete'];
const OW_UPDATE: readonly string[] = ['OW', 'update'];

/** ASCII-only case-insensitive comparison, like C's strcasecmp in the "C" locale. */
function equalsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

/** C's atoi as glibc does it (strtol clamped to 64 bits, then truncated to int). */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  let v = BigInt(m[1]);
  const max = 9223372036854775807n;
  if (v > max) v = max;
  else if (v < -max - 1n) v = -max - 1n;
  return Number(BigInt.asIntN(32, v));
}

/** Redis's genericGetKeys: [store] numkeys key... — the numkeys keys first, then the store key. */
function numkeysProc(storeIdx: number, countIdx: number, firstIdx: number): KeyProc {
  return (argv) => {
    const num = atoi(argv[countIdx]);
    if (num < 1 || num > argv.length - firstIdx) return [];
    const keys: KeyRef[] = [];
    for (let i = 0; i < num; i++) keys.push({ pos: firstIdx + i, flags: NO_FLAGS });
    if (storeIdx) keys.push({ pos: storeIdx, flags: NO_FLAGS });
    return keys;
  };
}

/** SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dst]: the last STORE wins. */
function sortKeys(argv: readonly string[]): KeyRef[] {
  const keys: KeyRef[] = [{ pos: 1, flags: RO_ACCESS }];
  let store = 0;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    // Redis skips option arguments for LIMIT/GET/BY only; STORE is honoured only when followed by a value.
    if (equalsIgnoreCase(a, 'limit')) i += 2;
    else if (equalsIgnoreCase(a, 'get') || equalsIgnoreCase(a, 'by')) i += 1;
    else if (equalsIgnoreCase(a, 'store') && i + 1 < argv.length) store = i + 1;
  }
  if (store) keys.push({ pos: store, flags: OW_UPDATE });
  return keys;
}

/** MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS key ...]. */
function migrateKeys(argv: readonly string[]): KeyRef[] {
  let first = 3;
  let num = 1;
  if (argv.length > 6) {
    for (let i = 6; i < argv.length; i++) {
      const a = argv[i];
      if (equalsIgnoreCase(a, 'keys')) {
        // KEYS with a non-empty key argument is a syntax error, left for the command to report.
        if (argv[3].length > 0) num = 0;
        else {
          first = i + 1;
          num = argv.length - first;
        }
        break;
      }
      if (equalsIgnoreCase(a, 'auth')) i += 1;
      else if (equalsIgnoreCase(a, 'auth2')) i += 2;
    }
  }
  const keys: KeyRef[] = [];
  for (let i = 0; i < num; i++) keys.push({ pos: first + i, flags: RW_ACCESS_DELETE });
  return keys;
}

/** GEORADIUS[BYMEMBER] key ... [STORE key|STOREDIST key]: the last store option wins. */
function georadiusKeys(argv: readonly string[]): KeyRef[] {
  let stored = -1;
  for (let i = 5; i < argv.length; i++) {
    const a = argv[i];
    if ((equalsIgnoreCase(a, 'store') || equalsIgnoreCase(a, 'storedist')) && i + 1 < argv.length) {
      stored = i + 1;
      i++;
    }
  }
  const keys: KeyRef[] = [{ pos: 1, flags: NO_FLAGS }];
  if (stored !== -1) keys.push({ pos: stored, flags: NO_FLAGS });
  return keys;
}

/** XREAD/XREADGROUP [options] STREAMS key... id...: half of what follows STREAMS are keys. */
function xreadKeys(argv: readonly string[]): KeyRef[] {
  let streams = -1;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (equalsIgnoreCase(a, 'block') || equalsIgnoreCase(a, 'count')) i++;
    else if (equalsIgnoreCase(a, 'group')) i += 2;
    else if (equalsIgnoreCase(a, 'noack')) continue;
    else {
      if (equalsIgnoreCase(a, 'streams')) streams = i;
      break;
    }
  }
  if (streams === -1) return [];
  const rest = argv.length - streams - 1;
  if (rest === 0 || rest % 2 !== 0) return [];
  const keys: KeyRef[] = [];
  for (let i = streams + 1; i < argv.length - rest / 2; i++) keys.push({ pos: i, flags: NO_FLAGS });
  return keys;
}

/** SET key value [... GET ...]: reads the old value only with GET. */
function setKeys(argv: readonly string[]): KeyRef[] {
  for (let i = 3; i < argv.length; i++) {
    if (equalsIgnoreCase(argv[i], 'get')) return [{ pos: 1, flags: RW_ACCESS_UPDATE }];
  }
  return [{ pos: 1, flags: OW_UPDATE }];
}

/** BITFIELD key [GET ...] ...: read-only when every operation is a well-formed GET or OVERFLOW. */
function bitfieldKeys(argv: readonly string[]): KeyRef[] {
  let readonly = true;
  for (let i = 2; i < argv.length; i++) {
    const remaining = argv.length - i - 1;
    const a = argv[i];
    if (equalsIgnoreCase(a, 'get') && remaining >= 2) i += 2;
    else if ((equalsIgnoreCase(a, 'set') || equalsIgnoreCase(a, 'incrby')) && remaining >= 3) {
      readonly = false;
      break;
    } else if (equalsIgnoreCase(a, 'overflow') && remaining >= 1) i += 1;
    else {
      readonly = false; // a syntax error: assume a write, as Redis does
      break;
    }
  }
  return [{ pos: 1, flags: readonly ? RO_ACCESS : RW_ACCESS_UPDATE }];
}

/**
 * The commands whose key specs Redis backs with a custom key finder, used when a spec cannot be
 * resolved (unknown or incomplete specs, a bad numkeys) or its flags vary with the arguments.
 */
const KEY_PROCS: ReadonlyMap<string, KeyProc> = new Map<string, KeyProc>([
  ['sintercard', numkeysProc(0, 1, 2)],
  ['zdiff', numkeysProc(0, 1, 2)],
  ['zinter', numkeysProc(0, 1, 2)],
  ['zintercard', numkeysProc(0, 1, 2)],
  ['zunion', numkeysProc(0, 1, 2)],
  ['zdiffstore', numkeysProc(1, 2, 3)],
  ['zinterstore', numkeysProc(1, 2, 3)],
  ['zunionstore', numkeysProc(1, 2, 3)],
  ['eval', numkeysProc(0, 2, 3)],
  ['eval_ro', numkeysProc(0, 2, 3)],
  ['evalsha', numkeysProc(0, 2, 3)],
  ['evalsha_ro', numkeysProc(0, 2, 3)],
  ['fcall', numkeysProc(0, 2, 3)],
  ['fcall_ro', numkeysProc(0, 2, 3)],
  ['lmpop', numkeysProc(0, 1, 2)],
  ['zmpop', numkeysProc(0, 1, 2)],
  ['blmpop', numkeysProc(0, 2, 3)],
  ['bzmpop', numkeysProc(0, 2, 3)],
  ['sort', sortKeys],
  ['sort_ro', () => [{ pos: 1, flags: RO_ACCESS }]],
  ['migrate', migrateKeys],
  ['georadius', georadiusKeys],
  ['georadiusbymember', georadiusKeys],
  ['xread', xreadKeys],
  ['xreadgroup', xreadKeys],
  ['set', setKeys],
  ['bitfield', bitfieldKeys],
]);

/**
 * Walks the key specs. Returns null when a spec cannot be resolved for these arguments (unknown
 * spec, bad or out-of-range numkeys, keys past the end, or an incomplete spec), unless
 * returnPartial asks to skip such specs.
 */
function keysFromSpecs(specs: readonly KeySpec[], argv: readonly string[], opts: GetKeysOptions): KeyRef[] | null {
  const argc = argv.length;
  const keys: KeyRef[] = [];
  for (const spec of specs) {
    if (!opts.includeNotKeys && spec.flags.includes('not_key')) continue;
    let valid = true;
    let first = 0;
    let last = 0;
    let step = 1;
    const bs = spec.beginSearch;
    if (bs.type === 'index') {
      first = bs.index;
    } else if (bs.type === 'keyword') {
      // Searches forward from startfrom, or backward from argc+startfrom when it is negative.
      const start = bs.startFrom > 0 ? bs.startFrom : argc + bs.startFrom;
      const end = bs.startFrom > 0 ? argc - 1 : 1;
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (equalsIgnoreCase(argv[i], bs.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue; // keyword absent: this spec has no keys here
    } else {
      valid = false;
    }

    const fk = spec.findKeys;
    if (!valid) {
      // begin_search already failed
    } else if (fk.type === 'range') {
      step = fk.keyStep;
      if (fk.lastKey >= 0) last = first + fk.lastKey;
      else if (fk.limit === 0) last = argc + fk.lastKey;
      else last = first + (Math.trunc((argc - first) / fk.limit) + fk.lastKey);
    } else if (fk.type === 'keynum') {
      step = fk.keyStep;
      const at = first + fk.keyNumIdx;
      const n = at < argc ? parseLongLong(argv[at]) : null;
      if (n === null || n < 0n) valid = false;
      else {
        first += fk.firstKey;
        // Redis narrows numkeys to a C int, so 2^32+1 counts as 1.
        last = (first + Number(BigInt.asIntN(32, n)) - 1) | 0;
      }
    } else {
      valid = false;
    }

    if (valid && (last >= argc || last < first || first >= argc)) valid = false;
    if (valid) {
      for (let i = first; i <= last; i += step) keys.push({ pos: i, flags: spec.flags });
      if (spec.flags.includes('incomplete')) valid = false;
    }
    if (!valid && !opts.returnPartial) return null;
  }
  return keys;
}

/** True when COMMAND GETKEYS can say anything about the command (Redis's doesCommandHaveKeys). */
export function factsHaveKeys(facts: CommandFacts): boolean {
  return KEY_PROCS.has(facts.name) || facts.keySpecs.some((s) => !s.flags.includes('not_key'));
}

/**
 * The key arguments of a call, by Redis 7.0's rules: the key specs when they resolve and their
 * flags are fixed, otherwise the command's own key finder. argv[0] is the command name (for a
 * subcommand argv[1] is the subcommand). An empty result means "no keys found", which for most
 * commands means the call is malformed.
 */
export function getKeysFromFacts(facts: CommandFacts, argv: readonly string[], opts: GetKeysOptions = {}): KeyRef[] {
  let hasKeySpec = false;
  let variableFlags = false;
  for (const s of facts.keySpecs) {
    if (opts.includeNotKeys || !s.flags.includes('not_key')) hasKeySpec = true;
    if (s.flags.includes('variable_flags')) variableFlags = true;
  }
  if (hasKeySpec && !variableFlags) {
    const keys = keysFromSpecs(facts.keySpecs, argv, opts);
    if (keys !== null) return keys;
  }
  const proc = KEY_PROCS.get(facts.name);
  return proc ? proc(argv) : [];
}

/** getKeysFromFacts for a command of the table (cluster routing, ACL key checks). */
export function getKeys(cmd: Command, argv: readonly string[], opts: GetKeysOptions = {}): KeyRef[] {
  return getKeysFromFacts(cmd.facts, argv, opts);
}

/** Just the key positions of a call. */
export function keyPositions(cmd: Command, argv: readonly string[]): number[] {
  return getKeys(cmd, argv).map((k) => k.pos);
}

/**
 * The command that COMMAND GETKEYS asks about: the first word, and the second one when the first is a
 * container (Redis's non-strict lookup). Undefined when Mnemo does not implement it.
 */
export function lookupCall(table: CommandTable, args: readonly string[]): Command | undefined {
  const base = table.lookup(args[0]);
  if (base === undefined || args.length === 1 || base.facts.subcommands.length === 0) return base;
  return base.subcommands?.get(args[1].toLowerCase());
}

/**
 * Writes COMMAND GETKEYS / GETKEYSANDFLAGS's reply for `args` (the call being asked about), `facts`
 * being the command it names, or null when no such command exists. Exported for the tests, which
 * check it against Redis for every Redis command, implemented or not.
 */
export function writeGetKeysReply(w: ReplyWriter, facts: CommandFacts | null, args: readonly string[], withFlags: boolean): void {
  if (facts === null) {
    w.addError('ERR Invalid command specified');
    return;
  }
  if (!factsHaveKeys(facts)) {
    w.addError('ERR The command has no key arguments');
    return;
  }
  const arity = facts.arity;
  if ((arity > 0 && args.length !== arity) || args.length < -arity) {
    w.addError('ERR Invalid number of arguments specified for command');
    return;
  }
  const keys = getKeysFromFacts(facts, args);
  if (keys.length === 0) {
    if (facts.flags.includes('no_mandatory_keys')) w.addArrayLen(0);
    else w.addError('ERR Invalid arguments specified for command');
    return;
  }
  w.addArrayLen(keys.length);
  for (const k of keys) {
    if (!withFlags) {
      w.addBulk(args[k.pos]);
      continue;
    }
    w.addArrayLen(2);
    w.addBulk(args[k.pos]);
    w.addSetLen(k.flags.length);
    for (const f of k.flags) w.addSimple(f);
  }
}

// ---------------------------------------------------------------------------------------------
// COMMAND INFO / DOCS / LIST

/** A container lists only the subcommands Mnemo implements. */
function implementedSubcommands(cmd: Command): SubcommandFilter {
  const prefix = cmd.fullName.length + 1;
  return (sub) => cmd.subcommands?.has(sub.name.slice(prefix)) ?? false;
}

function writeInfo(c: Client, cmd: Command | undefined): void {
  if (cmd === undefined) c.addNull();
  else writeCommandInfo(c, cmd.facts, implementedSubcommands(cmd));
}

function writeDocs(c: Client, cmd: Command): void {
  const table = c.server.table;
  c.addBulk(cmd.fullName);
  writeCommandDocs(c, cmd.facts, (name) => table.lookupFullName(name)?.summary, implementedSubcommands(cmd));
}

function commandAll(c: Client): void {
  const table = c.server.table;
  c.addArrayLen(table.size);
  for (const cmd of table.commands.values()) writeInfo(c, cmd);
}

function commandCount(c: Client): void {
  c.addInt(c.server.table.size);
}

function commandInfo(c: Client, argv: string[]): void {
  if (argv.length === 2) {
    commandAll(c);
    return;
  }
  const table = c.server.table;
  c.addArrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) writeInfo(c, table.lookupFullName(argv[i]));
}

function commandDocs(c: Client, argv: string[]): void {
  const table = c.server.table;
  if (argv.length === 2) {
    c.addMapLen(table.size);
    for (const cmd of table.commands.values()) writeDocs(c, cmd);
    return;
  }
  // Unknown names are left out, so count first.
  const found: Command[] = [];
  for (let i = 2; i < argv.length; i++) {
    const cmd = table.lookupFullName(argv[i]);
    if (cmd !== undefined) found.push(cmd);
  }
  c.addMapLen(found.length);
  for (const cmd of found) writeDocs(c, cmd);
}

type ListFilter = (cmd: Command) => boolean;

function commandList(c: Client, argv: string[]): void {
  let filter: ListFilter | null = null;
  for (let i = 2; i < argv.length; i++) {
    // Only "FILTERBY <type> <arg>" as the last three arguments is accepted.
    if (!equalsIgnoreCase(argv[i], 'filterby') || argv.length - 1 - i !== 2) {
      c.addError(ERR_SYNTAX);
      return;
    }
    const type = argv[i + 1];
    const arg = argv[i + 2];
    if (equalsIgnoreCase(type, 'module')) {
      filter = () => false; // Mnemo loads no modules
    } else if (equalsIgnoreCase(type, 'aclcat')) {
      filter = (cmd) => cmd.facts.aclCategories.some((cat) => equalsIgnoreCase(cat.slice(1), arg));
    } else if (equalsIgnoreCase(type, 'pattern')) {
      filter = (cmd) => globMatch(arg, cmd.fullName, true);
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
    i += 2;
  }
  const names: string[] = [];
  for (const cmd of c.server.table.all()) {
    if (filter === null || filter(cmd)) names.push(cmd.fullName);
  }
  c.addBulks(names);
}

function commandGetKeys(c: Client, argv: string[]): void {
  const args = argv.slice(2);
  const cmd = lookupCall(c.server.table, args);
  writeGetKeysReply(c, cmd?.facts ?? null, args, false);
}

function commandGetKeysAndFlags(c: Client, argv: string[]): void {
  const args = argv.slice(2);
  const cmd = lookupCall(c.server.table, args);
  writeGetKeysReply(c, cmd?.facts ?? null, args, true);
}

const HELP_LINES: readonly string[] = [
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
];

function commandHelp(c: Client): void {
  replyHelp(c, 'COMMAND', HELP_LINES);
}

export const commands: CommandImpl[] = [
  { name: 'command', summary: 'Describes every command the server implements.', handler: commandAll },
  { name: 'command|count', summary: 'Counts the top-level commands the server implements.', handler: commandCount },
  { name: 'command|info', summary: 'Describes the named commands (arity, flags, key specs, ...), or all of them.', handler: commandInfo },
  { name: 'command|docs', summary: 'Documents the named commands (arguments, history, ...), or all of them.', handler: commandDocs },
  { name: 'command|list', summary: 'Lists command names, optionally filtered by ACL category or glob pattern.', handler: commandList },
  { name: 'command|getkeys', summary: 'Tells which arguments of a full command line are keys.', handler: commandGetKeys },
  { name: 'command|getkeysandflags', summary: 'Tells which arguments of a full command line are keys, and how each is accessed.', handler: commandGetKeysAndFlags },
  { name: 'command|help', summary: 'Explains the COMMAND subcommands.', handler: commandHelp },
];
