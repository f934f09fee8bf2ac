/**
 * The command table: every command declared once, as data. The facts of
 * Redis's interface (arity, flags, key positions, ACL categories, key specs,
 * docs metadata) come from src/commands/facts/redis-7.0.json, generated from
 * the reference server; each group file in src/commands/ adds the handler and
 * our own one-line summary. Dispatch, COMMAND INFO/DOCS/GETKEYS, MULTI rules
 * and docs/COMPATIBILITY.md all read this one table.
 */
import type { Client } from './client.js';
import type { CommandFacts } from '../commands/facts/encode.js';

export type Handler = (c: Client, argv: string[]) => void;

/** What a command group file declares for each command it implements. */
export interface CommandImpl {
  /** Lowercase name; subcommands as 'parent|sub' (e.g. 'config|get'). */
  name: string;
  /** One line, our own words. */
  summary: string;
  /** Absent for container commands (CONFIG, CLIENT, ...), which dispatch to subcommands. */
  handler?: Handler;
}

// Flag bits, for cheap checks on the hot path.
export const CMD_WRITE = 1 << 0;
export const CMD_READONLY = 1 << 1;
export const CMD_DENYOOM = 1 << 2;
export const CMD_ADMIN = 1 << 3;
export const CMD_PUBSUB = 1 << 4;
export const CMD_NOSCRIPT = 1 << 5;
export const CMD_BLOCKING = 1 << 6;
export const CMD_LOADING = 1 << 7;
export const CMD_STALE = 1 << 8;
export const CMD_SKIP_MONITOR = 1 << 9;
export const CMD_SKIP_SLOWLOG = 1 << 10;
export const CMD_ASKING = 1 << 11;
export const CMD_FAST = 1 << 12;
export const CMD_NO_AUTH = 1 << 13;
export const CMD_MAY_REPLICATE = 1 << 14;
export const CMD_NO_MANDATORY_KEYS = 1 << 15;
export const CMD_NO_MULTI = 1 << 16;
export const CMD_MOVABLE_KEYS = 1 << 17;
export const CMD_ALLOW_BUSY = 1 << 18;
export const CMD_NO_ASYNC_LOADING = 1 << 19;

const FLAG_BITS: Record<string, number> = {
  write: CMD_WRITE,
  readonly: CMD_READONLY,
  denyoom: CMD_DENYOOM,
  admin: CMD_ADMIN,
  pubsub: CMD_PUBSUB,
  noscript: CMD_NOSCRIPT,
  blocking: CMD_BLOCKING,
  loading: CMD_LOADING,
  stale: CMD_STALE,
  skip_monitor: CMD_SKIP_MONITOR,
  skip_slowlog: CMD_SKIP_SLOWLOG,
  asking: CMD_ASKING,
  fast: CMD_FAST,
  no_auth: CMD_NO_AUTH,
  may_replicate: CMD_MAY_REPLICATE,
  no_mandatory_keys: CMD_NO_MANDATORY_KEYS,
  no_multi: CMD_NO_MULTI,
  movablekeys: CMD_MOVABLE_KEYS,
  allow_busy: CMD_ALLOW_BUSY,
  no_async_loading: CMD_NO_ASYNC_LOADING,
};

export function flagBits(flags: readonly string[]): number {
  let bits = 0;
  for (const f of flags) bits |= FLAG_BITS[f] ?? 0;
  return bits;
}

/** Per-command statistics (INFO commandstats). */
export interface CommandStats {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}


export class Command {
  readonly flags: number;
  readonly arity: number;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  /** Subcommands by lowercase name, for containers. */
  subcommands: Map<string, Command> | null = null;
  readonly stats: CommandStats = { calls: 0, usec: 0, rejected: 0, failed: 0 };

  constructor(
    /** Full name as Redis prints it: 'get', 'config|get'. */
    readonly fullName: string,
    readonly facts: CommandFacts,
    readonly summary: string,
    readonly handler: Handler | null,
    readonly parent: Command | null,
  ) {
    this.flags = flagBits(facts.flags);
    this.arity = facts.arity;
    this.firstKey = facts.firstKey;
    this.lastKey = facts.lastKey;
    this.step = facts.step;
  }

  /** The name used in error messages and stats: 'get', 'config|get'. */
  get name(): string {
    return this.fullName;
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }
}

export class CommandTable {
  /** Top-level commands, by lowercase name. */
  readonly commands = new Map<string, Command>();
  /** The same, also keyed by the UPPERCASE name, so the common case skips toLowerCase. */
  private fast = new Map<string, Command>();

  add(cmd: Command): void {
    this.lastName = null;
    this.commands.set(cmd.fullName, cmd);
    this.fast.set(cmd.fullName, cmd);
    this.fast.set(cmd.fullName.toUpperCase(), cmd);
  }

  /**
   * Names clients call commands by, lowercase, when `rename-command` changed any
   * (null otherwise). `commands` keeps the original names, as Redis's orig_commands
   * (ACL rules, COMMAND INFO and DOCS).
   */
  private dispatch: Map<string, Command> | null = null;

  /** Finds a top-level command by name as sent by the client (any case). */
  lookup(name: string): Command | undefined {
    // Pipelines repeat a command: the parser interns names, so this is mostly a pointer test.
    if (name === this.lastName) return this.lastCommand;
    const cmd = this.fast.get(name);
    if (cmd === undefined) return (this.dispatch ?? this.commands).get(name.toLowerCase());
    this.lastName = name;
    this.lastCommand = cmd;
    return cmd;
  }

  /** The last name found in `fast` and its command (reset whenever `fast` changes). */
  private lastName: string | null = null;
  private lastCommand: Command | undefined = undefined;

  /**
   * `rename-command from to`: the command answers to `to` only (`to` empty: to no
   * name at all). Returns null, or Redis's config error text.
   */
  rename(from: string, to: string): string | null {
    const dispatch = (this.dispatch ??= new Map(this.commands));
    this.lastName = null;
    const cmd = dispatch.get(from.toLowerCase());
    if (cmd === undefined) return 'No such command in rename-command';
    dispatch.delete(from.toLowerCase());
    for (const [k, v] of this.fast) if (v === cmd) this.fast.delete(k);
    if (to === '') return null;
    const lower = to.toLowerCase();
    if (dispatch.has(lower)) return 'Target command name already exists';
    dispatch.set(lower, cmd);
    this.fast.set(lower, cmd);
    this.fast.set(to.toUpperCase(), cmd);
    return null;
  }

  /** Finds 'get' or 'config|get' style names (COMMAND INFO, ACL). */
  lookupFullName(name: string): Command | undefined {
    const lower = name.toLowerCase();
    const bar = lower.indexOf('|');
    if (bar < 0) return this.commands.get(lower);
    const parent = this.commands.get(lower.slice(0, bar));
    return parent?.subcommands?.get(lower.slice(bar + 1));
  }

  /** All commands and subcommands. */
  *all(): IterableIterator<Command> {
    for (const c of this.commands.values()) {
      yield c;
      if (c.subcommands) yield* c.subcommands.values();
    }
  }

  get size(): number {
    return this.commands.size;
  }
}
