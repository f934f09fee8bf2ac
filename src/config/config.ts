/**
 * The configuration registry: every Redis 7.0 directive with its current
 * value, CONFIG GET / CONFIG SET semantics (glob patterns, all-or-nothing
 * multi-set, Redis's exact error texts), redis.conf loading (quoting,
 * include, multi-line save) and redis-server's command-line syntax.
 *
 * Pure: no sockets and no server imports. The server reads values through
 * get()/getNumber() or the typed fields, and registers onChange() hooks to
 * react to CONFIG SET (a hook may veto the change by returning an error).
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { globMatch } from '../util/glob.js';
import { REDIS_VERSION } from '../version.js';
import { parseServerArgs } from './args.js';
import {
  DENY_LOADING,
  HIDDEN,
  IMMUTABLE,
  MULTI_ARG,
  numericToNumber,
  PROTECTED,
  SENSITIVE,
  type Directive,
  type SetContext,
} from './directive.js';
import { DEPRECATED_DIRECTIVES, DIRECTIVES, EFFECTIVE_DIRECTIVES } from './directives.js';
import { expandIncludeGlob, hasWildcard } from './include-glob.js';
import { splitArgs } from '../util/splitargs.js';
import {
  strerror,
  type OutputBufferLimits,
  type ReplicaOf,
  type SaveParam,
} from './special.js';

export { EFFECTIVE_DIRECTIVES, DIRECTIVES };
export { DENY_LOADING, HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED, SENSITIVE };
export type { Directive, OutputBufferLimits, ReplicaOf, SaveParam };
export * from './keyspace-events.js';

export interface ConfigOptions {
  /** Require `dir` to name an existing, enterable directory (Redis chdir()s into it). Default true. */
  checkDir?: boolean;
  /** Sentinel mode (`--sentinel`): port 26379 and protected-mode off by default, `sentinel` lines kept. */
  sentinel?: boolean;
}

/** A `sentinel ...` configuration line (Sentinel mode), with where it came from for errors. */
export interface SentinelConfigLine {
  argv: string[];
  fail: (reason: string) => never;
}

export interface ConfigSetOptions {
  /** The client is local (loopback or unix socket): enough for `enable-protected-configs local`. */
  localClient?: boolean;
  /** The dataset is being loaded: directives that cannot change meanwhile are refused. */
  loading?: boolean;
}

/**
 * Called after CONFIG SET changed a directive, with its canonical name and
 * new value as CONFIG GET prints it. Returning a non-empty string rejects
 * the change: every directive of that CONFIG SET is restored and the string
 * becomes the error reason (e.g. "Unable to listen on this port. Check server logs.").
 */
export type ChangeHook = (name: string, value: string) => string | void;

/** A fatal problem in a config file or the command line, worded like redis-server's. */
export class ConfigFileError extends Error {
  /** Why, e.g. "argument must be a memory value". */
  readonly reason: string;
  /** 1-based line number, when a line is to blame. */
  readonly line?: number;
  /** The offending line, trimmed. */
  readonly lineText?: string;
  /** The file (or "(command line)", "(stdin)", ...) the line came from. */
  readonly source?: string;

  constructor(reason: string, where?: { line: number; lineText: string; source?: string }, bare = false) {
    let message: string;
    if (bare) {
      message = reason;
    } else if (where) {
      const from = where.source ? ` (${where.source})` : '';
      message =
        `*** FATAL CONFIG FILE ERROR (Redis ${REDIS_VERSION}) ***\n` +
        `Reading the configuration file, at line ${where.line}${from}\n` +
        `>>> '${where.lineText}'\n${reason}`;
    } else {
      message = `*** FATAL CONFIG FILE ERROR (Redis ${REDIS_VERSION}) ***\n${reason}`;
    }
    super(message);
    this.name = 'ConfigFileError';
    this.reason = reason;
    this.line = where?.line;
    this.lineText = where?.lineText;
    this.source = where?.source;
  }
}

/** A name CONFIG GET/SET accepts: a directive's own name or its alias. */
interface Entry {
  name: string;
  def: Directive<any>;
}

const ENTRIES = new Map<string, Entry>();
const ORDERED_ENTRIES: Entry[] = [];
for (const def of DIRECTIVES) {
  for (const name of def.alias ? [def.name, def.alias] : [def.name]) {
    const e = { name, def };
    ENTRIES.set(name, e);
    ORDERED_ENTRIES.push(e);
  }
}

const MAX_INCLUDE_DEPTH = 64;

function unknownOption(name: string): string {
  return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
}

function setFailed(name: string, reason: string): string {
  return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${reason}`;
}

function trimLine(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

function readConfigFile(path: string, shownAs: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch (e) {
    throw new ConfigFileError(`Fatal error, can't open config file '${shownAs}': ${strerror(e)}`, undefined, true);
  }
}

export class Config {
  /** Absolute path of the config file given on the command line, if any. */
  configFile?: string;
  /** Started with --sentinel (src/sentinel). */
  readonly sentinelMode: boolean;
  /** The `sentinel ...` lines (arguments after "sentinel"), applied by the Sentinel once loaded. */
  readonly sentinelLines: SentinelConfigLine[] = [];
  /** CONFIG REWRITE's `sentinel` lines: set by the Sentinel (src/sentinel) to describe its state. */
  sentinelState: (() => string[]) | null = null;
  /** `rename-command old new` lines, in order (new "" = remove the command). */
  readonly renameCommands: Array<[string, string]> = [];
  /** `user ...` lines: the arguments after "user" (name then ACL rules). */
  readonly users: string[][] = [];
  /** CONFIG REWRITE's `user` lines: set by the ACL module (server/acl.ts) to describe the current users. */
  userLines: (() => string[]) | null = null;
  /** `loadmodule path args...` lines. */
  readonly modules: Array<{ path: string; args: string[] }> = [];
  /** Module directives (`name.option value`), for modules Mnemo does not have. */
  readonly moduleConfigs = new Map<string, string>();

  // Hot values as plain fields, kept in sync with every change. Read-only for users.
  port = 6379;
  databases = 16;
  maxclients = 10000;
  timeout = 0;
  hz = 10;
  requirepass = '';
  maxmemory = 0;
  maxmemoryPolicy = 'noeviction';
  protoMaxBulkLen = 512 * 1024 * 1024;
  clientQueryBufferLimit = 1024 * 1024 * 1024;
  /** notify-keyspace-events as NOTIFY_* flag bits. */
  notifyKeyspaceEvents = 0;
  hashMaxListpackEntries = 512;
  hashMaxListpackValue = 64;
  listMaxListpackSize = -2;
  listCompressDepth = 0;
  setMaxIntsetEntries = 512;
  zsetMaxListpackEntries = 128;
  zsetMaxListpackValue = 64;
  streamNodeMaxBytes = 4096;
  streamNodeMaxEntries = 100;
  slowlogLogSlowerThan = 10000;
  slowlogMaxLen = 128;
  latencyMonitorThreshold = 0;
  appendonly = false;
  dir = '';
  dbfilename = 'dump.rdb';
  loglevel = 'notice';
  logfile = '';

  private readonly values = new Map<string, unknown>();
  private readonly hooks = new Map<string, ChangeHook[]>();
  private readonly checkDir: boolean;
  /** Multi-line directives already met while loading files (first `save` line replaces the defaults). */
  private readonly seenInLoad = new Set<string>();

  /** Embedded defaults, then `overrides` (directive name -> value, applied as at startup). */
  constructor(overrides?: Record<string, string>, options: ConfigOptions = {}) {
    this.checkDir = options.checkDir ?? true;
    this.sentinelMode = options.sentinel ?? false;
    for (const def of DIRECTIVES) {
      const d = def.defaultValue;
      this.setValue(def, typeof d === 'function' ? (d as () => unknown)() : d);
    }
    if (this.sentinelMode) {
      // As Redis's initSentinelConfig: Sentinel's port, and it must be reachable from other hosts.
      this.setValue(ENTRIES.get('port')!.def, 26379);
      this.setValue(ENTRIES.get('protected-mode')!.def, false);
      // No dataset to save.
      this.parseAndSet(ENTRIES.get('save')!.def, [''], true);
    }
    if (overrides) {
      let line = 0;
      for (const [name, value] of Object.entries(overrides)) {
        line++;
        const where = { line, lineText: `${name} ${value}`, source: '(overrides)' };
        const entry = ENTRIES.get(name.toLowerCase());
        if (!entry) throw new ConfigFileError('Bad directive or wrong number of arguments', where);
        const err = this.parseAndSet(entry.def, this.splitValue(entry.def, value), false);
        if (err) throw new ConfigFileError(err, where);
      }
    }
  }

  /**
   * A config built from redis-server style arguments:
   * `[config-file] [-] [--directive value ...]`. The file is read first, then
   * stdin when "-" is the first or last argument, then the options.
   */
  static fromArgs(argv: readonly string[], options: ConfigOptions = {}): Config {
    // Redis's checkForSentinelMode: a --sentinel anywhere on the command line.
    const cfg = new Config(undefined, { ...options, sentinel: options.sentinel ?? argv.includes('--sentinel') });
    if (argv.length === 0) return cfg;
    const parsed = parseServerArgs(argv);
    let fileText = '';
    if (parsed.configFile !== undefined) {
      cfg.configFile = resolvePath(parsed.configFile);
      fileText = readConfigFile(cfg.configFile, cfg.configFile);
    }
    const stdinText = parsed.readStdin ? readFileSync(0, 'latin1') : '';
    // Same layout as redis-server, so line numbers in errors match it.
    const text = fileText + stdinText + '\n' + parsed.optionsText;
    cfg.loadConfigText(
      text,
      (offset) =>
        offset < fileText.length ? cfg.configFile : offset < fileText.length + stdinText.length ? '(stdin)' : '(command line)',
      0,
    );
    cfg.checkLoadedConfig();
    return cfg;
  }

  /** Loads a redis.conf file (errors name the file). */
  loadFile(path: string): void {
    const abs = resolvePath(this.dir, path);
    this.loadConfigText(readConfigFile(abs, path), () => abs, 0);
    this.checkLoadedConfig();
  }

  /** Loads redis.conf-format text; `sourceName` is shown in errors. */
  loadText(text: string, sourceName = '(config)'): void {
    this.loadConfigText(text, () => sourceName, 0);
    this.checkLoadedConfig();
  }

  // ---- reading ----------------------------------------------------------------

  /** The value as CONFIG GET prints it; undefined for an unknown name. Names are case-insensitive. */
  get(name: string): string | undefined {
    const e = ENTRIES.get(name.toLowerCase());
    return e ? e.def.format(this.values.get(e.def.name)) : undefined;
  }

  /**
   * A numeric directive as a JS number (memory and unsigned types read as
   * unsigned; maxmemory-clients set as a percentage reads as -percent).
   * Yes/no reads as 1/0 and enums as their internal index.
   */
  getNumber(name: string): number {
    const def = this.requireDirective(name);
    const v = this.values.get(def.name);
    if (def.numeric) return numericToNumber(def.numeric, v as bigint);
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    throw new TypeError(`config directive '${name}' is not numeric`);
  }

  /** A numeric directive exactly, as the signed 64-bit value Redis stores. */
  getBigInt(name: string): bigint {
    const def = this.requireDirective(name);
    if (!def.numeric) throw new TypeError(`config directive '${name}' is not numeric`);
    return this.values.get(def.name) as bigint;
  }

  getBool(name: string): boolean {
    const def = this.requireDirective(name);
    if (def.type !== 'bool') throw new TypeError(`config directive '${name}' is not yes/no`);
    return this.values.get(def.name) as boolean;
  }

  /** `save` as (seconds, changes) pairs. */
  saveParams(): Array<{ seconds: number; changes: number }> {
    return (this.values.get('save') as SaveParam[]).map((p) => ({ seconds: Number(p.seconds), changes: p.changes }));
  }

  /** `bind` addresses, e.g. ["*", "-::*"] ("-" prefix: optional address). */
  bindAddresses(): string[] {
    return [...(this.values.get('bind') as string[])];
  }

  /** Output buffer limits for the normal, replica and pubsub classes. */
  clientOutputBufferLimits(): OutputBufferLimits {
    return (this.values.get('client-output-buffer-limit') as OutputBufferLimits).map((l) => ({
      ...l,
    })) as OutputBufferLimits;
  }

  replicaOf(): ReplicaOf | null {
    const r = this.values.get('replicaof') as ReplicaOf | null;
    return r ? { ...r } : null;
  }

  /** The directive (canonical definition) behind a name or alias. */
  directive(name: string): Directive | undefined {
    return ENTRIES.get(name.toLowerCase())?.def;
  }

  /** Whether values of this directive must be redacted (requirepass, masterauth, ...). */
  isSensitive(name: string): boolean {
    return ((this.directive(name)?.flags ?? 0) & SENSITIVE) !== 0;
  }

  /**
   * CONFIG GET: name/value pairs for the patterns. A pattern without glob
   * characters is an exact, case-insensitive lookup (hidden directives
   * included) answered under the name as given; glob patterns match
   * case-insensitively against all names and aliases. Each directive name
   * appears once.
   */
  configGet(patterns: readonly string[]): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (const pattern of patterns) {
      if (!/[[*?]/.test(pattern)) {
        const key = pattern.toLowerCase();
        const e = ENTRIES.get(key);
        if (e && !seen.has(key)) {
          seen.add(key);
          out.push([pattern, e.def.format(this.values.get(e.def.name))]);
        }
        continue;
      }
      for (const e of ORDERED_ENTRIES) {
        if (e.def.flags & HIDDEN || seen.has(e.name)) continue;
        if (globMatch(pattern, e.name, true)) {
          seen.add(e.name);
          out.push([e.name, e.def.format(this.values.get(e.def.name))]);
        }
      }
    }
    return out;
  }

  // ---- changing -----------------------------------------------------------------

  /**
   * CONFIG SET name value [name value ...]. All names are checked first, then
   * all values are set in order; if any value is invalid, or a change hook
   * rejects the result, everything is restored. Returns null on success or
   * the error reply text (without the leading "-"). An odd argument count is
   * the caller's "ERR syntax error".
   */
  configSet(pairs: ReadonlyArray<readonly [string, string]>, opts: ConfigSetOptions = {}): string | null {
    const entries: Entry[] = [];
    for (const [name] of pairs) {
      const e = ENTRIES.get(name.toLowerCase());
      if (!e) return unknownOption(name);
      if (e.def.flags & IMMUTABLE) return setFailed(name, "can't set immutable config");
      if (e.def.flags & PROTECTED && !this.protectedAllowed(opts.localClient ?? false)) {
        return setFailed(name, "can't set protected config");
      }
      if (opts.loading && e.def.flags & DENY_LOADING) return 'LOADING Redis is loading the dataset in memory';
      // A name and its alias are different entries, so "x 1 alias-of-x 2" is allowed.
      if (entries.some((prev) => prev.name === e.name)) return setFailed(name, 'duplicate parameter');
      entries.push(e);
    }

    const backup = new Map<string, unknown>();
    for (const e of entries) if (!backup.has(e.def.name)) backup.set(e.def.name, this.values.get(e.def.name));
    const restore = () => {
      for (const [name, v] of backup) this.setValue(ENTRIES.get(name)!.def, v);
    };

    for (let i = 0; i < entries.length; i++) {
      const def = entries[i].def;
      const err = this.parseAndSet(def, this.splitValue(def, pairs[i][1]), false);
      if (err) {
        restore();
        return setFailed(entries[i].name, err);
      }
      if (def.runtimeAdjust) this.setValue(def, def.runtimeAdjust(this.values.get(def.name)));
    }

    // Hooks run for directives whose value really changed, each hook once.
    const called = new Set<ChangeHook>();
    const toRun: Array<{ hook: ChangeHook; entry: Entry }> = [];
    for (const e of entries) {
      const def = e.def;
      if (def.format(backup.get(def.name)) === def.format(this.values.get(def.name))) continue;
      for (const hook of this.hooks.get(def.name) ?? []) {
        if (called.has(hook)) continue;
        called.add(hook);
        toRun.push({ hook, entry: e });
      }
    }
    for (const { hook, entry } of toRun) {
      const err = hook(entry.def.name, this.get(entry.def.name)!);
      if (err) {
        restore();
        for (const r of toRun) r.hook(r.entry.def.name, this.get(r.entry.def.name)!);
        return setFailed(entry.name, err);
      }
    }
    return null;
  }

  /**
   * Sets a directive from server code (e.g. REPLICAOF changing replicaof),
   * bypassing the immutable/protected checks of CONFIG SET. Runs the change
   * hooks. Returns null or the reason the value was refused.
   */
  setInternal(name: string, value: string): string | null {
    const def = this.requireDirective(name);
    const before = this.get(def.name);
    const err = this.parseAndSet(def, this.splitValue(def, value), false);
    if (err) return err;
    const now = this.get(def.name)!;
    if (now !== before) for (const hook of this.hooks.get(def.name) ?? []) hook(def.name, now);
    return null;
  }

  /** Registers a hook for CONFIG SET changes of a directive (name or alias). Returns an unsubscribe function. */
  onChange(name: string, hook: ChangeHook): () => void {
    const def = this.requireDirective(name);
    const list = this.hooks.get(def.name) ?? [];
    list.push(hook);
    this.hooks.set(def.name, list);
    return () => {
      const i = list.indexOf(hook);
      if (i >= 0) list.splice(i, 1);
    };
  }

  // ---- internals ----------------------------------------------------------------

  private requireDirective(name: string): Directive<any> {
    const def = this.directive(name);
    if (!def) throw new TypeError(`unknown config directive '${name}'`);
    return def;
  }

  private protectedAllowed(localClient: boolean): boolean {
    const mode = this.get('enable-protected-configs');
    return mode === 'yes' || (mode === 'local' && localClient);
  }

  /** CONFIG SET's argument split: multi-argument directives split on single spaces. */
  private splitValue(def: Directive<any>, value: string): string[] {
    if (!(def.flags & MULTI_ARG)) return [value];
    return value === '' ? [] : value.split(' ');
  }

  private context(fromFile: boolean): SetContext {
    return { fromFile, dir: this.dir, checkDir: this.checkDir, seenInLoad: this.seenInLoad };
  }

  /** Parses and stores a value; returns the error reason or null. */
  private parseAndSet(def: Directive<any>, args: string[], fromFile: boolean): string | null {
    const r = def.parse(args, this.values.get(def.name), this.context(fromFile));
    if ('error' in r) return r.error;
    this.setValue(def, r.value);
    return null;
  }

  private setValue(def: Directive<any>, value: unknown): void {
    this.values.set(def.name, value);
    this.syncField(def, value);
  }

  /** Mirrors hot directives into the typed fields. */
  private syncField(def: Directive<any>, value: unknown): void {
    const n = () => numericToNumber(def.numeric!, value as bigint);
    switch (def.name) {
      case 'port': this.port = n(); break;
      case 'databases': this.databases = n(); break;
      case 'maxclients': this.maxclients = n(); break;
      case 'timeout': this.timeout = n(); break;
      case 'hz': this.hz = n(); break;
      case 'requirepass': this.requirepass = value as string; break;
      case 'maxmemory': this.maxmemory = n(); break;
      case 'maxmemory-policy': this.maxmemoryPolicy = def.format(value); break;
      case 'proto-max-bulk-len': this.protoMaxBulkLen = n(); break;
      case 'client-query-buffer-limit': this.clientQueryBufferLimit = n(); break;
      case 'notify-keyspace-events': this.notifyKeyspaceEvents = value as number; break;
      case 'hash-max-listpack-entries': this.hashMaxListpackEntries = n(); break;
      case 'hash-max-listpack-value': this.hashMaxListpackValue = n(); break;
      case 'list-max-listpack-size': this.listMaxListpackSize = n(); break;
      case 'list-compress-depth': this.listCompressDepth = n(); break;
      case 'set-max-intset-entries': this.setMaxIntsetEntries = n(); break;
      case 'zset-max-listpack-entries': this.zsetMaxListpackEntries = n(); break;
      case 'zset-max-listpack-value': this.zsetMaxListpackValue = n(); break;
      case 'stream-node-max-bytes': this.streamNodeMaxBytes = n(); break;
      case 'stream-node-max-entries': this.streamNodeMaxEntries = n(); break;
      case 'slowlog-log-slower-than': this.slowlogLogSlowerThan = n(); break;
      case 'slowlog-max-len': this.slowlogMaxLen = n(); break;
      case 'latency-monitor-threshold': this.latencyMonitorThreshold = n(); break;
      case 'appendonly': this.appendonly = value as boolean; break;
      case 'dir': this.dir = value as string; break;
      case 'dbfilename': this.dbfilename = value as string; break;
      case 'loglevel': this.loglevel = def.format(value); break;
      case 'logfile': this.logfile = value as string; break;
    }
  }

  /**
   * Parses config-file text. `sourceOf` names where the line starting at a
   * character offset came from, for error messages.
   */
  private loadConfigText(text: string, sourceOf: (offset: number) => string | undefined, depth: number): void {
    const lines = text.split('\n');
    let offset = 0;
    for (let i = 0; i < lines.length; i++) {
      const start = offset;
      offset += lines[i].length + 1;
      const line = trimLine(lines[i]);
      if (line === '' || line[0] === '#') continue;
      const fail = (reason: string): never => {
        throw new ConfigFileError(reason, { line: i + 1, lineText: line, source: sourceOf(start) });
      };
      const argv = splitArgs(line);
      if (!argv) fail('Unbalanced quotes in configuration line');
      if (argv!.length === 0) continue;
      this.applyConfigLine(argv!, fail, depth);
    }
  }

  private applyConfigLine(argv: string[], fail: (reason: string) => never, depth: number): void {
    const name = argv[0].toLowerCase();
    const argc = argv.length;
    const entry = ENTRIES.get(name);
    if (entry) {
      if (!(entry.def.flags & MULTI_ARG) && argc !== 2) fail('wrong number of arguments');
      // A lone non-empty value of a multi-argument directive is split again,
      // so `save "900 1 300 10"` (or --save "900 1") works.
      const args = entry.def.flags & MULTI_ARG && argc === 2 && argv[1] !== '' ? splitArgs(argv[1]) ?? [] : argv.slice(1);
      const err = this.parseAndSet(entry.def, args, true);
      if (err) fail(err);
      return;
    }
    if (DEPRECATED_DIRECTIVES.get(name) === argc) return;
    if (name === 'include' && argc === 2) {
      if (depth >= MAX_INCLUDE_DEPTH) fail('Too many nested include directives');
      this.include(argv[1], depth + 1);
    } else if (name === 'rename-command' && argc === 3) {
      this.renameCommands.push([argv[1], argv[2]]);
    } else if (name === 'user' && argc >= 2) {
      // As Redis's ACLAppendUserForLoading: a user is declared once (default included).
      if (this.users.some((u) => u[0] === argv[1])) {
        fail(`Error in user declaration '${argv[1]}': Duplicate user found. A user can only be defined once in config files`);
      }
      this.users.push(argv.slice(1));
    } else if (name === 'loadmodule' && argc >= 2) {
      this.modules.push({ path: argv[1], args: argv.slice(2) });
    } else if (name.includes('.')) {
      if (argc < 2) fail('Module config specified without value');
      this.moduleConfigs.set(name, argv.slice(1).join(' '));
    } else if (name === 'sentinel') {
      // A bare "sentinel" line is the sentinel-mode switch redis-server handles before parsing.
      if (argc !== 1 && !this.sentinelMode) fail('sentinel directive while not in sentinel mode');
      if (argc !== 1) this.sentinelLines.push({ argv: argv.slice(1), fail });
    } else {
      fail('Bad directive or wrong number of arguments');
    }
  }

  /**
   * `include path`: relative to the current `dir` (Redis's working directory).
   * With wildcards, the matching files are joined and parsed as one text, so
   * line numbers in errors run on across them as in Redis.
   */
  private include(path: string, depth: number): void {
    const files = hasWildcard(path) ? expandIncludeGlob(path, this.dir) : [path];
    if (files.length === 0) return;
    const starts: Array<[number, string]> = [];
    let text = '';
    for (const file of files) {
      const abs = resolvePath(this.dir, file);
      starts.push([text.length, abs]);
      text += readConfigFile(abs, file);
    }
    const sourceOf = (offset: number) => {
      let src = starts[0][1];
      for (const [start, file] of starts) if (offset >= start) src = file;
      return src;
    };
    this.loadConfigText(text, sourceOf, depth);
  }

  /** Checks Redis makes once the whole configuration is read. */
  private checkLoadedConfig(): void {
    if (this.getBool('cluster-enabled') && this.values.get('replicaof')) {
      throw new ConfigFileError('replicaof directive not allowed in cluster mode');
    }
  }
}
