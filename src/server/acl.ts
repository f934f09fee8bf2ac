/**
 * Redis 7.0 ACL: users, their selectors (command, key and channel rules),
 * permission checks for the dispatcher and for scripts, the ACL LOG, and the
 * canonical rule text ACL LIST / GETUSER / SAVE print. Written from redis.io's
 * ACL documentation and replies observed on redis-server 7.0.15.
 *
 * Hot path: `Server.aclActive` is false while every user can run every
 * command on every key and channel (the default state), so the dispatcher's
 * check costs one field test until a restricted user exists.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { resolve as resolvePath, dirname, basename } from 'node:path';
import type { Server } from './server.js';
import type { Client } from './client.js';
import type { Command } from './command-table.js';
import { globMatch } from '../util/glob.js';
import { getKeys } from '../commands/command.js';
import { clientInfoLine, killClient } from '../commands/client.js';
import { splitArgs } from '../util/splitargs.js';
import { strerror } from '../config/special.js';
import { existingPubSub } from './pubsub.js';

/** Redis's category order (ACL CAT). */
export const ACL_CATEGORIES: readonly string[] = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
  'transaction', 'scripting',
];

const KEY_READ = 1;
const KEY_WRITE = 2;

export const enum Denied {
  None = 0,
  Cmd = 1,
  Key = 2,
  Auth = 3,
  Channel = 4,
}

interface KeyPattern {
  pattern: string;
  flags: number;
}

/** Thrown by rule parsing with the reason Redis gives. */
class RuleError extends Error {}

const ERR_SYNTAX = 'Syntax error';
const ERR_UNKNOWN = 'Unknown command or category name in ACL';
const ERR_HASH = 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
const ERR_NO_PASSWORD = 'The password you are trying to remove from the user does not exist';
const ERR_KEY_AFTER_ALL =
  "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
const ERR_CHANNEL_AFTER_ALL =
  "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";

/** One set of permissions: the user's root selector or one of its `(...)` selectors. */
export class Selector {
  /** Commands and subcommands allowed (Redis's command bitmap). */
  allowed = new Set<Command>();
  /** The bit for commands that do not exist yet: set by +@all, cleared by -@all. */
  future = false;
  /** `+cmd|arg` rules: first arguments allowed for a command not allowed as a whole. */
  firstArgs: Map<Command, string[]> | null = null;
  keys: KeyPattern[] = [];
  allKeys = false;
  channels: string[] = [];
  allChannels = false;

  constructor(readonly acl: Acl) {}

  clone(): Selector {
    const s = new Selector(this.acl);
    s.allowed = new Set(this.allowed);
    s.future = this.future;
    if (this.firstArgs) s.firstArgs = new Map([...this.firstArgs].map(([k, v]) => [k, [...v]]));
    s.keys = this.keys.map((k) => ({ ...k }));
    s.allKeys = this.allKeys;
    s.channels = [...this.channels];
    s.allChannels = this.allChannels;
    return s;
  }

  /** True when this selector allows everything (no check needed). */
  unrestricted(): boolean {
    return this.future && this.allKeys && this.allChannels && this.allowed.size === this.acl.commandCount;
  }

  private setCommand(cmd: Command, on: boolean): void {
    if (on) this.allowed.add(cmd);
    else this.allowed.delete(cmd);
    this.firstArgs?.delete(cmd);
    if (cmd.subcommands) for (const sub of cmd.subcommands.values()) this.setCommand(sub, on);
  }

  private setCategory(cat: string, on: boolean): void {
    const tag = '@' + cat;
    for (const cmd of this.acl.server.table.all()) {
      if (cmd.facts.aclCategories.includes(tag)) {
        if (on) this.allowed.add(cmd);
        else this.allowed.delete(cmd);
        this.firstArgs?.delete(cmd);
      }
    }
  }

  /** Applies one selector rule; throws RuleError. */
  apply(op: string): void {
    const lower = op.toLowerCase();
    if (lower === 'allkeys' || op === '~*') {
      this.allKeys = true;
      this.keys = [];
    } else if (lower === 'resetkeys') {
      this.allKeys = false;
      this.keys = [];
    } else if (lower === 'allchannels' || op === '&*') {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === 'resetchannels') {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === 'allcommands' || lower === '+@all') {
      this.allowed = new Set(this.acl.server.table.all());
      this.future = true;
      this.firstArgs = null;
    } else if (lower === 'nocommands' || lower === '-@all') {
      this.allowed = new Set();
      this.future = false;
      this.firstArgs = null;
    } else if (op[0] === '~' || op[0] === '%') {
      let flags = 0;
      let pattern: string;
      if (op[0] === '%') {
        let i = 1;
        for (; i < op.length && op[i] !== '~'; i++) {
          const ch = op[i].toUpperCase();
          if (ch === 'R' && (flags & KEY_READ) === 0) flags |= KEY_READ;
          else if (ch === 'W' && (flags & KEY_WRITE) === 0) flags |= KEY_WRITE;
          else throw new RuleError(ERR_SYNTAX);
        }
        if (flags === 0 || (i < op.length && op[i] !== '~')) throw new RuleError(ERR_SYNTAX);
        pattern = op.slice(i + 1);
      } else {
        flags = KEY_READ | KEY_WRITE;
        pattern = op.slice(1);
      }
      if (this.allKeys) throw new RuleError(ERR_KEY_AFTER_ALL);
      const same = this.keys.find((k) => k.pattern === pattern);
      if (same) same.flags |= flags;
      else this.keys.push({ pattern, flags });
    } else if (op[0] === '&') {
      if (this.allChannels) throw new RuleError(ERR_CHANNEL_AFTER_ALL);
      const pattern = op.slice(1);
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
    } else if ((op[0] === '+' || op[0] === '-') && op[1] === '@') {
      const cat = lower.slice(2);
      if (!ACL_CATEGORIES.includes(cat)) throw new RuleError(ERR_UNKNOWN);
      this.setCategory(cat, op[0] === '+');
    } else if (op[0] === '+' || op[0] === '-') {
      const on = op[0] === '+';
      const name = op.slice(1);
      const table = this.acl.server.table;
      const bar = name.indexOf('|');
      if (bar < 0) {
        const cmd = table.lookup(name);
        if (cmd === undefined) throw new RuleError(ERR_UNKNOWN);
        this.setCommand(cmd, on);
        return;
      }
      const parent = table.lookup(name.slice(0, bar));
      if (parent === undefined) throw new RuleError(ERR_UNKNOWN);
      const rest = name.slice(bar + 1);
      if (parent.subcommands !== null) {
        const bar2 = rest.indexOf('|');
        const sub = parent.subcommands.get((bar2 < 0 ? rest : rest.slice(0, bar2)).toLowerCase());
        if (sub === undefined) throw new RuleError(ERR_UNKNOWN);
        if (bar2 >= 0) throw new RuleError('Allowing first-arg of a subcommand is not supported');
        this.setCommand(sub, on);
        return;
      }
      // First-arg rules: only to allow, one argument, no '|' in it.
      if (!on || rest.includes('|') || rest === '') throw new RuleError(ERR_UNKNOWN);
      if (this.allowed.has(parent)) return;
      if (this.firstArgs === null) this.firstArgs = new Map();
      const list = this.firstArgs.get(parent);
      if (list === undefined) this.firstArgs.set(parent, [rest.toLowerCase()]);
      else if (!list.includes(rest.toLowerCase())) list.push(rest.toLowerCase());
    } else {
      throw new RuleError(ERR_SYNTAX);
    }
  }

  // ---- checks --------------------------------------------------------------

  /** Redis's per-selector check; `at` receives the argv index of the denied key/channel. */
  check(cmd: Command, argv: readonly string[], at: { pos: number }): Denied {
    if (!this.allowed.has(cmd) && (cmd.flags & CMD_NO_AUTH_FLAG) === 0) {
      const args = this.firstArgs?.get(cmd);
      if (args === undefined || argv.length < 2 || !args.includes(argv[1].toLowerCase())) {
        at.pos = 0;
        return Denied.Cmd;
      }
    }
    if (!this.allKeys && (cmd.firstKey !== 0 || cmd.facts.keySpecs.length !== 0)) {
      for (const k of getKeys(cmd, argv)) {
        let need = 0;
        if (k.flags.includes('access')) need |= KEY_READ;
        if (k.flags.includes('insert') || k.flags.includes('delete') || k.flags.includes('update')) need |= KEY_WRITE;
        if (!this.keyAllowed(argv[k.pos], need)) {
          at.pos = k.pos;
          return Denied.Key;
        }
      }
    }
    if (!this.allChannels) {
      const ch = channelArgs(cmd.fullName, argv.length);
      if (ch !== null) {
        for (let i = ch.from; i < ch.to; i++) {
          if (!this.channelAllowed(argv[i], ch.pattern)) {
            at.pos = i;
            return Denied.Channel;
          }
        }
      }
    }
    return Denied.None;
  }

  /** Redis's ACLSelectorHasUnrestrictedKeyAccess: every key, with the `need` permissions. */
  unrestrictedKeyAccess(need: number): boolean {
    if (this.allKeys) return true;
    for (const p of this.keys) if ((p.flags & need) === need && p.pattern === '*') return true;
    return false;
  }

  keyAllowed(key: string, need: number): boolean {
    if (this.allKeys) return true;
    for (const p of this.keys) {
      if ((p.flags & need) !== need) continue;
      if (globMatch(p.pattern, key)) return true;
    }
    return false;
  }

  channelAllowed(channel: string, isPattern: boolean): boolean {
    if (this.allChannels) return true;
    for (const p of this.channels) {
      if (isPattern ? p === channel : globMatch(p, channel)) return true;
    }
    return false;
  }

  // ---- description -----------------------------------------------------------

  describeKeys(): string {
    if (this.allKeys) return '~*';
    return this.keys
      .map((k) => (k.flags === (KEY_READ | KEY_WRITE) ? '~' : k.flags === KEY_READ ? '%R~' : '%W~') + k.pattern)
      .join(' ');
  }

  describeChannels(): string {
    if (this.allChannels) return '&*';
    return this.channels.map((c) => '&' + c).join(' ');
  }

  /**
   * The command rules as Redis 7.0 prints them: +@all or -@all (by the bit of future
   * commands), then the categories that best fit what differs, chosen greedily (fewest
   * commands that would be wrong, then most right), then single commands and first-args.
   */
  describeCommands(): string {
    const additive = !this.future;
    const parts: string[] = [additive ? '-@all' : '+@all'];
    const fake = new Selector(this.acl);
    fake.apply(additive ? '-@all' : '+@all');
    // temp: the commands still to explain are those where temp has `additive` bits.
    const temp = new Set(this.allowed);
    const all = [...this.acl.server.table.all()];
    for (;;) {
      let best = -1;
      let minDiff = Infinity;
      let maxSame = 0;
      for (let j = 0; j < ACL_CATEGORIES.length; j++) {
        const tag = '@' + ACL_CATEGORIES[j];
        let on = 0;
        let off = 0;
        for (const cmd of all) {
          if (!cmd.facts.aclCategories.includes(tag)) continue;
          if (temp.has(cmd)) on++;
          else off++;
        }
        const diff = additive ? off : on;
        const same = additive ? on : off;
        if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
          best = j;
          minDiff = diff;
          maxSame = same;
        }
      }
      if (best < 0) break;
      const cat = ACL_CATEGORIES[best];
      parts.push((additive ? '+@' : '-@') + cat);
      fake.apply((additive ? '+@' : '-@') + cat);
      const tag = '@' + cat;
      for (const cmd of all) {
        if (!cmd.facts.aclCategories.includes(tag)) continue;
        if (additive) temp.delete(cmd);
        else temp.add(cmd);
      }
    }
    const visit = (cmd: Command): void => {
      const mine = this.allowed.has(cmd);
      if (mine !== fake.allowed.has(cmd)) {
        const op = (mine ? '+' : '-') + cmd.fullName;
        parts.push(op);
        fake.apply(op);
      }
      if (!mine) {
        const args = this.firstArgs?.get(cmd);
        if (args) for (const a of args) parts.push('+' + cmd.fullName + '|' + a);
      }
      if (cmd.subcommands) for (const sub of cmd.subcommands.values()) visit(sub);
    };
    for (const cmd of this.acl.server.table.commands.values()) visit(cmd);
    return parts.join(' ');
  }

  /** keys, channels and commands, as in ACL LIST (the root selector's part). */
  describe(root: boolean): string {
    const parts: string[] = [];
    const keys = this.describeKeys();
    if (keys !== '') parts.push(keys);
    if (this.allChannels) parts.push('&*');
    else {
      parts.push('resetchannels');
      const ch = this.describeChannels();
      if (ch !== '') parts.push(ch);
    }
    parts.push(this.describeCommands());
    void root;
    return parts.join(' ');
  }
}

// CMD_NO_AUTH from command-table (AUTH, HELLO are always allowed).
const CMD_NO_AUTH_FLAG = 1 << 13;

/** Which arguments of a command are channels (PUBLISH, SUBSCRIBE, ...), or null. */
function channelArgs(name: string, argc: number): { from: number; to: number; pattern: boolean } | null {
  switch (name) {
    case 'publish':
    case 'spublish':
      return { from: 1, to: Math.min(2, argc), pattern: false };
    case 'subscribe':
    case 'ssubscribe':
      return { from: 1, to: argc, pattern: false };
    case 'psubscribe':
      return { from: 1, to: argc, pattern: true };
    default:
      return null;
  }
}

export class User {
  enabled = false;
  nopass = false;
  /** SHA-256 hex digests, in the order added. */
  passwords: string[] = [];
  sanitize: 'sanitize-payload' | 'skip-sanitize-payload' | null = null;
  root: Selector;
  selectors: Selector[] = [];

  constructor(
    readonly name: string,
    readonly acl: Acl,
  ) {
    this.root = new Selector(acl);
    this.root.allChannels = acl.pubsubDefaultAll();
  }

  clone(): User {
    const u = new User(this.name, this.acl);
    u.enabled = this.enabled;
    u.nopass = this.nopass;
    u.passwords = [...this.passwords];
    u.sanitize = this.sanitize;
    u.root = this.root.clone();
    u.selectors = this.selectors.map((s) => s.clone());
    return u;
  }

  copyFrom(o: User): void {
    this.enabled = o.enabled;
    this.nopass = o.nopass;
    this.passwords = o.passwords;
    this.sanitize = o.sanitize;
    this.root = o.root;
    this.selectors = o.selectors;
  }

  unrestricted(): boolean {
    return this.root.unrestricted();
  }

  /** Applies one rule (user-level or selector); throws RuleError. */
  apply(op: string): void {
    const lower = op.toLowerCase();
    if (lower === 'on') this.enabled = true;
    else if (lower === 'off') this.enabled = false;
    else if (lower === 'nopass') {
      this.nopass = true;
      this.passwords = [];
    } else if (lower === 'resetpass') {
      this.nopass = false;
      this.passwords = [];
    } else if (lower === 'skip-sanitize-payload' || lower === 'sanitize-payload') {
      this.sanitize = lower;
    } else if (lower === 'clearselectors') {
      this.selectors = [];
    } else if (lower === 'reset') {
      for (const r of ['resetpass', 'resetkeys', this.acl.pubsubDefaultAll() ? 'allchannels' : 'resetchannels', 'off', 'clearselectors', '-@all']) {
        this.apply(r);
      }
      this.sanitize = 'sanitize-payload';
    } else if (op[0] === '>' || op[0] === '#') {
      const hash = op[0] === '>' ? sha256(op.slice(1)) : op.slice(1);
      if (op[0] === '#' && !isHash(hash)) throw new RuleError(ERR_HASH);
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.nopass = false;
    } else if (op[0] === '<' || op[0] === '!') {
      const hash = op[0] === '<' ? sha256(op.slice(1)) : op.slice(1);
      if (op[0] === '!' && !isHash(hash)) throw new RuleError(ERR_HASH);
      const i = this.passwords.indexOf(hash);
      if (i < 0) throw new RuleError(ERR_NO_PASSWORD);
      this.passwords.splice(i, 1);
      this.nopass = false;
    } else if (op[0] === '(' && op[op.length - 1] === ')') {
      const sel = new Selector(this.acl);
      sel.allChannels = this.acl.pubsubDefaultAll();
      const inner = splitArgs(op.slice(1, -1)) ?? [];
      for (const r of inner) sel.apply(r);
      this.selectors.push(sel);
    } else {
      this.root.apply(op);
    }
  }

  /** ACL LIST's line without the leading "user name". */
  describe(): string {
    const parts: string[] = [this.enabled ? 'on' : 'off'];
    if (this.nopass) parts.push('nopass');
    if (this.sanitize) parts.push(this.sanitize);
    for (const p of this.passwords) parts.push('#' + p);
    parts.push(this.root.describe(true));
    for (const s of this.selectors) parts.push('(' + s.describe(false) + ')');
    return parts.join(' ');
  }

  flagList(): string[] {
    const f: string[] = [this.enabled ? 'on' : 'off'];
    if (this.nopass) f.push('nopass');
    if (this.sanitize) f.push(this.sanitize);
    return f;
  }
}

export function sha256(s: string): string {
  return createHash('sha256').update(Buffer.from(s, 'latin1')).digest('hex');
}

function isHash(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

/** Joins `(` ... `)` arguments split by spaces into one selector rule, as Redis's ACL SETUSER. */
export function mergeSelectorArgs(args: readonly string[]): string[] | { error: string } {
  const out: string[] = [];
  let open: string | null = null;
  let startArg = '';
  for (const a of args) {
    if (open === null) {
      if (a[0] === '(' && a[a.length - 1] !== ')') {
        open = a;
        startArg = a;
      } else out.push(a);
    } else {
      open += ' ' + a;
      if (a[a.length - 1] === ')') {
        out.push(open);
        open = null;
      }
    }
  }
  if (open !== null) return { error: `ERR Unmatched parenthesis in acl selector starting at '${startArg}'.` };
  return out;
}

export interface AclLogEntry {
  count: number;
  reason: string;
  context: string;
  object: string;
  username: string;
  ctime: number;
  clientInfo: string;
}

const LOG_GROUPING_MS = 60000;

export class Acl {
  readonly users = new Map<string, User>();
  readonly defaultUser: User;
  log: AclLogEntry[] = [];
  commandCount = 0;

  constructor(readonly server: Server) {
    for (const _ of server.table.all()) this.commandCount++;
    this.defaultUser = new User('default', this);
    for (const r of ['+@all', '~*', '&*', 'on', 'nopass']) this.defaultUser.apply(r);
    this.users.set('default', this.defaultUser);
    // CONFIG REWRITE writes the users as `user` lines (unless an aclfile holds them).
    server.config.userLines = () => this.listLines();
  }

  pubsubDefaultAll(): boolean {
    return String(this.server.config.get('acl-pubsub-default')) === 'allchannels';
  }

  hasUser(name: string): boolean {
    return this.users.has(name);
  }

  /** Recomputes Server.aclActive: whether any user has restrictions. */
  refresh(): void {
    let active = false;
    for (const u of this.users.values()) {
      if (!u.unrestricted()) {
        active = true;
        break;
      }
    }
    this.server.aclActive = active;
  }

  /** A new connection starts authenticated when the default user needs no password. */
  defaultAuthFree(): boolean {
    return this.defaultUser.nopass && this.defaultUser.enabled;
  }

  /** CONFIG SET requirepass / startup: resets the default user's passwords. */
  setRequirepass(pass: string): void {
    this.defaultUser.apply('resetpass');
    this.defaultUser.apply(pass === '' ? 'nopass' : '>' + pass);
  }

  /** ACL SETUSER: all rules or none. Returns an error text or null. */
  setUser(name: string, rawRules: readonly string[], caller: Client | null = null): string | null {
    const rules = mergeSelectorArgs(rawRules);
    if (!Array.isArray(rules)) return rules.error;
    const existing = this.users.get(name);
    const u = existing ? existing.clone() : new User(name, this);
    for (const r of rules) {
      try {
        u.apply(r);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        return `ERR Error in ACL SETUSER modifier '${r}': ${e.message}`;
      }
    }
    if (existing) existing.copyFrom(u);
    else this.users.set(name, u);
    this.refresh();
    if (existing) this.killRevokedSubscribers(existing, caller);
    return null;
  }

  /** A user allowed to use a channel (or, literally, a pattern) by any selector. */
  channelAllowed(u: User, name: string, isPattern: boolean): boolean {
    if (u.root.channelAllowed(name, isPattern)) return true;
    for (const s of u.selectors) if (s.channelAllowed(name, isPattern)) return true;
    return false;
  }

  /** As Redis: clients of a user subscribed to channels it may no longer use are disconnected. */
  killRevokedSubscribers(u: User, caller: Client | null): void {
    const ps = existingPubSub(this.server);
    if (ps === undefined || !ps.anySubscriber) return;
    for (const c of [...this.server.clients.values()]) {
      if (c.user !== u.name || ps.of(c) === undefined) continue;
      const revoked =
        ps.list(c, 'channel').some((ch) => !this.channelAllowed(u, ch, false)) ||
        ps.list(c, 'shard').some((ch) => !this.channelAllowed(u, ch, false)) ||
        ps.list(c, 'pattern').some((p) => !this.channelAllowed(u, p, true));
      if (!revoked) continue;
      this.drop(c, caller);
    }
  }

  /** Disconnects a client: the caller once its reply is written, anyone else at once. */
  private drop(c: Client, caller: Client | null): void {
    if (caller !== null) killClient(c, caller);
    else {
      c.onKill?.();
      c.socket?.destroy();
      this.server.removeClient(c);
    }
  }

  /** Checks a password; null when the user does not exist or is disabled. */
  authenticate(name: string, pass: string): boolean {
    const u = this.users.get(name);
    if (u === undefined || !u.enabled) return false;
    return u.nopass || u.passwords.includes(sha256(pass));
  }

  /** Disconnects every client authenticated as one of these users. */
  killClientsOf(names: Set<string>, caller: Client | null): void {
    for (const c of [...this.server.clients.values()]) {
      if (names.has(c.user)) this.drop(c, caller);
    }
  }

  deleteUser(name: string): boolean {
    if (!this.users.delete(name)) return false;
    return true;
  }

  /**
   * Checks a command for a client's user. Returns Denied.None, or the reason
   * with `at.pos` the argv index of the key or channel refused.
   */
  check(user: User, cmd: Command, argv: readonly string[], at: { pos: number }): Denied {
    let err = user.root.check(cmd, argv, at);
    if (err === Denied.None || user.selectors.length === 0) return err;
    let best = err;
    let bestPos = at.pos;
    for (const s of user.selectors) {
      err = s.check(cmd, argv, at);
      if (err === Denied.None) return err;
      if (err > best || (err === best && at.pos > bestPos)) {
        best = err;
        bestPos = at.pos;
      }
    }
    at.pos = bestPos;
    return best;
  }

  /**
   * Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess for reads: one selector
   * both allows the command and may read every key (SORT BY/GET patterns).
   */
  hasUnrestrictedReadAccess(c: Client, cmd: Command, argv: readonly string[]): boolean {
    if (c.isMaster) return true;
    const user = this.users.get(c.user);
    if (user === undefined) return true;
    const at = { pos: 0 };
    if (user.root.check(cmd, argv, at) === Denied.None && user.root.unrestrictedKeyAccess(KEY_READ)) return true;
    for (const s of user.selectors) if (s.check(cmd, argv, at) === Denied.None && s.unrestrictedKeyAccess(KEY_READ)) return true;
    return false;
  }

  userOf(c: Client): User | undefined {
    return this.users.get(c.user);
  }

  addLog(c: Client, reason: Denied, context: string, object: string, username: string): void {
    const max = this.server.config.getNumber('acllog-max-len');
    const r = reason === Denied.Cmd ? 'command' : reason === Denied.Key ? 'key' : reason === Denied.Channel ? 'channel' : 'auth';
    const now = this.server.clock.now();
    const info = clientInfoLine(c);
    const i = this.log.findIndex(
      (e) => e.reason === r && e.context === context && e.object === object && e.username === username && now - e.ctime < LOG_GROUPING_MS,
    );
    if (i >= 0) {
      const e = this.log[i];
      e.count++;
      e.ctime = now;
      e.clientInfo = info;
      this.log.splice(i, 1);
      this.log.unshift(e);
    } else {
      this.log.unshift({ count: 1, reason: r, context, object, username, ctime: now, clientInfo: info });
    }
    if (this.log.length > max) this.log.length = max;
  }

  /** Logs a refusal and returns the NOPERM error text for clients. */
  denialError(reason: Denied, cmd: Command): string {
    if (reason === Denied.Cmd) return `NOPERM this user has no permissions to run the '${cmd.fullName}' command`;
    if (reason === Denied.Key) return 'NOPERM this user has no permissions to access one of the keys used as arguments';
    return 'NOPERM this user has no permissions to access one of the channels used as arguments';
  }

  /** Checks a client's command against its user; a refusal is logged. Our master's stream is never checked. */
  private checkAndLog(c: Client, cmd: Command, argv: readonly string[], context: string): Denied {
    if (c.isMaster) return Denied.None;
    const user = this.users.get(c.user);
    if (user === undefined) return Denied.None;
    const at = { pos: 0 };
    const denied = this.check(user, cmd, argv, at);
    if (denied !== Denied.None) this.addLog(c, denied, context, denied === Denied.Cmd ? cmd.fullName : argv[at.pos], user.name);
    return denied;
  }

  /** The dispatcher's check (Server.execute). Returns an error to reject with, or null. */
  checkClient(c: Client, cmd: Command, argv: readonly string[]): string | null {
    const denied = this.checkAndLog(c, cmd, argv, c.multi !== null || c.inMulti ? 'multi' : 'toplevel');
    return denied === Denied.None ? null : this.denialError(denied, cmd);
  }

  /**
   * EXEC's second look at a queued command: the user's rules may have changed
   * since it was queued. Returns the error that command replies instead, or null.
   */
  checkQueued(c: Client, cmd: Command, argv: readonly string[]): string | null {
    const denied = this.checkAndLog(c, cmd, argv, 'multi');
    if (denied === Denied.None) return null;
    const reason =
      denied === Denied.Cmd
        ? 'no permission to execute the command or subcommand'
        : denied === Denied.Key
          ? 'no permission to touch the specified keys'
          : 'no permission to access one of the channels used as arguments';
    return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${reason}`;
  }

  /** ACL LIST lines. */
  listLines(): string[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((u) => `user ${u.name} ${u.describe()}`);
  }

  genpass(bits: number): string {
    const chars = Math.ceil(bits / 4);
    return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars);
  }

  // ---- ACL file ---------------------------------------------------------------

  aclfilePath(): string {
    const f = String(this.server.config.get('aclfile') ?? '');
    if (f === '') return '';
    return resolvePath(String(this.server.config.get('dir') ?? process.cwd()), f);
  }

  /**
   * Parses an ACL file's text into a fresh user set, or returns Redis's error
   * text (every problem found, then the "no change" warning).
   */
  parseFile(text: string, path: string): Map<string, User> | string {
    const users = new Map<string, User>();
    let errors = '';
    text.split('\n').forEach((raw, i) => {
      const n = i + 1;
      const line = raw.replace(/\r$/, '').trim();
      if (line === '' || line.startsWith('#')) return;
      const argv = splitArgs(line);
      if (argv === null) {
        errors += `${path}:${n}: unbalanced quotes in acl line. `;
        return;
      }
      if (argv.length < 2 || argv[0] !== 'user') {
        errors += `${path}:${n} should start with user keyword followed by the username. `;
        return;
      }
      const name = argv[1];
      if (users.has(name)) {
        errors += `WARNING: Duplicate user '${name}' found on line ${n}. `;
        return;
      }
      const rules = mergeSelectorArgs(argv.slice(2));
      if (!Array.isArray(rules)) {
        errors += `${path}:${n}: Unmatched parenthesis in selector definition.`;
        return;
      }
      const u = new User(name, this);
      for (const r of rules) {
        try {
          u.apply(r);
        } catch (e) {
          if (!(e instanceof RuleError)) throw e;
          errors += `${path}:${n}: ${e.message}. `;
          return;
        }
      }
      users.set(name, u);
    });
    if (errors !== '') return errors + 'WARNING: ACL errors detected, no change to the previously active ACL rules was performed';
    return users;
  }

  /** Replaces the user set (ACL LOAD, startup). The default user object stays the same. */
  installUsers(users: Map<string, User>, caller: Client | null): void {
    const old = new Set([...this.users.keys()].filter((n) => n !== 'default'));
    const def = users.get('default');
    if (def) this.defaultUser.copyFrom(def);
    else {
      const fresh = new User('default', this);
      for (const r of ['+@all', '~*', '&*', 'on', 'nopass']) fresh.apply(r);
      this.defaultUser.copyFrom(fresh);
    }
    this.users.clear();
    this.users.set('default', this.defaultUser);
    for (const [n, u] of users) if (n !== 'default') this.users.set(n, u);
    this.killClientsOf(old, caller);
    this.refresh();
  }

  /** Loads the aclfile; returns an error text or null. */
  loadFile(caller: Client | null): string | null {
    const path = this.aclfilePath();
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (e) {
      return `Error loading ACLs, opening file '${path}': ${strerror(e)}`;
    }
    const users = this.parseFile(text, path);
    if (typeof users === 'string') return users;
    this.installUsers(users, caller);
    return null;
  }

  /** Startup: `user` lines of the config file, or the aclfile (not both, as Redis). Throws on errors. */
  loadAtStartup(): void {
    const configured = this.server.config.users;
    const file = this.aclfilePath();
    if (configured.length > 0 && file !== '') {
      throw new Error(
        'Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.',
      );
    }
    for (const argv of configured) {
      // As Redis: a `user default ...` line starts from a reset default user (so without
      // the &* it was created with, under acl-pubsub-default resetchannels).
      const rules = argv[0] === 'default' ? ['reset', ...argv.slice(1)] : argv.slice(1);
      const err = this.setUser(argv[0], rules);
      if (err !== null) throw new Error(`Error in user declaration '${argv[0]}': ${err.replace(/^ERR /, '')}`);
    }
    if (file !== '') {
      const err = this.loadFile(null);
      if (err !== null) throw new Error(err);
    }
    this.refresh();
  }

  saveFile(): string | null {
    const path = this.aclfilePath();
    const text = this.listLines().join('\n') + '\n';
    const tmp = resolvePath(dirname(path), `${basename(path)}.tmp-${process.pid}-${Date.now()}`);
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, path);
    } catch (e) {
      return (e as Error).message;
    }
    return null;
  }
}
