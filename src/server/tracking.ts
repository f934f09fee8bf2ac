/**
 * Client-side caching: CLIENT TRACKING and its invalidation messages, with
 * Redis 7.0's semantics.
 *
 * Default mode remembers, for each key a tracking client read (keys of the
 * read-only commands it ran), the ids of the clients that may cache it. The
 * table is global, not per database: Redis 7.0 tracks key names only. When a
 * key changes (every write and expiry reaches `Server.modifiedHooks`), each
 * remembered client gets one invalidation and is forgotten (one-shot).
 * BCAST mode remembers nothing: every change of a key under a registered
 * prefix is collected and sent once per event-loop turn, sorted, one message
 * per prefix. FLUSHDB/FLUSHALL send the null invalidation to every tracking
 * client, once per command, and forget the whole table.
 *
 * Delivery: a RESP3 client gets `>2 invalidate [keys]`; with REDIRECT the
 * message goes to the other client instead, as a push if it speaks RESP3, or
 * as a `message` on `__redis__:invalidate` if it is a RESP2 subscriber (any
 * subscription), otherwise it is lost, as in Redis. A redirect to a client
 * that is gone marks the redirect broken and tells a RESP3 tracking client
 * with a `tracking-redir-broken` push. Frames travel through pub/sub's
 * delivery (server/pubsub.ts: muted replies, output limits, batched flush).
 * Invalidations caused by the tracking client's own command are held until
 * that command (or its whole EXEC) has replied, as Redis 7.0 does.
 *
 * installTracking() wires the hooks; while no client tracks and the table is
 * empty, a write costs two size checks.
 */
import type { Server } from './server.js';
import type { Client } from './client.js';
import { CMD_PUBSUB, CMD_READONLY, type Command } from './command-table.js';
import type { Database } from '../db/database.js';
import { pubsubOf, existingPubSub } from './pubsub.js';
import { setInfoProvider } from '../observability/info.js';
import { getKeys } from '../commands/command.js';
import { clientIntrospection } from '../commands/client.js';
import { parseInt64 } from '../util/numbers.js';
import { ERR_NOT_INT, ERR_SYNTAX } from '../commands/errors.js';

/** Tracking state of one client (Redis's CLIENT_TRACKING_* flags); exists while tracking is on. */
interface ClientTracking {
  readonly client: Client;
  /** Client id invalidations go to; 0 = the client itself. */
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** CLIENT CACHING yes/no was given for the next command (or transaction). */
  caching: boolean;
  /** The redirect target disconnected. */
  brokenRedirect: boolean;
  /** BCAST prefixes of this client. */
  readonly prefixes: Set<string>;
}

/** One BCAST prefix: its clients and the keys under it changed since the last broadcast. */
interface PrefixState {
  readonly clients: Set<ClientTracking>;
  /** How many of `clients` use NOLOOP (only then is a key's modifier looked for). */
  noloopClients: number;
  /** Changed key -> the NOLOOP client of this prefix that changed it last, or null. */
  pending: Map<string, Client | null>;
}

const CHANNEL = '__redis__:invalidate';
/** RESP2 headers; pub/sub delivery turns the `*` into `>` for RESP3 receivers. */
const INVALIDATE_HEADER = '*2\r\n$10\r\ninvalidate\r\n';
const MESSAGE_HEADER = `*3\r\n$7\r\nmessage\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n`;

/** Read-only script commands: Redis tracks the keys their commands read, not their declared keys. */
const SCRIPT_READS = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

export class Tracking {
  /** Clients with tracking on, by id. */
  private readonly states = new Map<number, ClientTracking>();
  /** Key -> ids of the clients that read it since its last change (Redis's TrackingTable). */
  private readonly table = new Map<string, Set<number>>();
  /** Sum of the id sets' sizes (INFO tracking_total_items). */
  private items = 0;
  /** BCAST prefixes of all clients (Redis's PrefixTable). */
  private readonly prefixes = new Map<string, PrefixState>();
  /** Invalidations for the client whose command is running, sent once it has replied. */
  private pendingSelf: Array<[Client, string | null]> = [];
  private broadcastScheduled = false;
  /** FLUSHALL reports each database; one null invalidation per command is enough. */
  private flushSignalled = false;

  constructor(readonly server: Server) {}

  // ---- state --------------------------------------------------------------------

  /** The client's tracking state, or undefined when tracking is off. */
  of(c: Client): ClientTracking | undefined {
    return this.states.get(c.id);
  }

  get clientCount(): number {
    return this.states.size;
  }

  get keyCount(): number {
    return this.table.size;
  }

  get itemCount(): number {
    return this.items;
  }

  get prefixCount(): number {
    return this.prefixes.size;
  }

  /**
   * CLIENT TRACKING ON with already validated options. Flags not given are
   * cleared, CACHING stays; BCAST prefixes add to the existing ones, and BCAST
   * without PREFIX registers the empty prefix (every key).
   */
  enable(c: Client, redirect: number, opts: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean }, prefixes: readonly string[]): void {
    let st = this.states.get(c.id);
    if (st === undefined) {
      st = {
        client: c,
        redirect: 0,
        bcast: false,
        optin: false,
        optout: false,
        noloop: false,
        caching: false,
        brokenRedirect: false,
        prefixes: new Set(),
      };
      this.states.set(c.id, st);
    }
    if (st.noloop) this.countNoloop(st, -1);
    st.redirect = redirect;
    st.brokenRedirect = false;
    st.bcast = opts.bcast;
    st.optin = opts.optin;
    st.optout = opts.optout;
    st.noloop = opts.noloop;
    if (st.noloop) this.countNoloop(st, 1);
    if (opts.bcast) {
      if (prefixes.length === 0) this.addPrefix(st, '');
      for (const p of prefixes) this.addPrefix(st, p);
    }
  }

  /** CLIENT TRACKING OFF, RESET, disconnect. Keys it read stay in the table until they change, as in Redis. */
  disable(c: Client): void {
    const st = this.states.get(c.id);
    if (st === undefined) return;
    this.states.delete(c.id);
    for (const p of st.prefixes) {
      const bs = this.prefixes.get(p)!;
      bs.clients.delete(st);
      if (st.noloop) bs.noloopClients--;
      if (bs.clients.size === 0) this.prefixes.delete(p);
    }
  }

  private addPrefix(st: ClientTracking, prefix: string): void {
    let bs = this.prefixes.get(prefix);
    if (bs === undefined) {
      bs = { clients: new Set(), noloopClients: 0, pending: new Map() };
      this.prefixes.set(prefix, bs);
    }
    if (bs.clients.has(st)) return;
    bs.clients.add(st);
    if (st.noloop) bs.noloopClients++;
    st.prefixes.add(prefix);
  }

  private countNoloop(st: ClientTracking, delta: number): void {
    for (const p of st.prefixes) this.prefixes.get(p)!.noloopClients += delta;
  }

  // ---- remembering reads ----------------------------------------------------------

  /** After every executed command (nested ones too): remember reads, end CACHING, send held invalidations. */
  /**
   * A refused command ends CACHING's scope as a run one does (Redis clears the
   * flag in resetClient), except a refused CLIENT subcommand (wrong arity), or
   * inside MULTI. A bare CLIENT or an unknown subcommand does clear it.
   */
  private readonly afterReject = (c: Client, cmd: Command | null): void => {
    if (this.states.size === 0) return;
    const st = this.states.get(c.id);
    if (st === undefined || !st.caching || c.multi !== null) return;
    if (cmd !== null && cmd.parent?.fullName === 'client') return;
    st.caching = false;
  };

  private readonly afterCall = (c: Client, cmd: Command, argv: string[]): void => {
    this.flushSignalled = false;
    if (this.states.size !== 0) {
      const st = this.states.get(c.id);
      // A script's read-only command makes its caller track the keys the script
      // declared (EVAL/FCALL's keys), as Redis's call() does with script_caller.
      if (c.inScript && (cmd.flags & CMD_READONLY) !== 0 && c.scriptCaller !== null && c.scriptCallerArgv !== null) {
        const cst = this.states.get(c.scriptCaller.id);
        const argv0 = c.scriptCallerArgv;
        const evalCmd = cst === undefined || cst.bcast ? undefined : this.server.table.lookup(argv0[0]);
        if (evalCmd !== undefined && cst !== undefined) this.rememberKeys(cst, evalCmd, argv0);
      }
      if (st !== undefined) {
        if ((cmd.flags & CMD_READONLY) !== 0 && !st.bcast) this.remember(st, cmd, argv);
        // CACHING covers the next command, or the whole MULTI ... EXEC; CLIENT subcommands keep it.
        if (st.caching && c.multi === null && cmd.parent?.fullName !== 'client') st.caching = false;
      }
    }
    if (this.pendingSelf.length !== 0 && !c.inMulti && !c.inScript) this.sendPendingSelf();
  };

  private remember(st: ClientTracking, cmd: Command, argv: string[]): void {
    if ((cmd.flags & CMD_PUBSUB) !== 0 || SCRIPT_READS.has(cmd.fullName)) return;
    this.rememberKeys(st, cmd, argv);
  }

  private rememberKeys(st: ClientTracking, cmd: Command, argv: string[]): void {
    if (st.optin ? !st.caching : st.optout && st.caching) return;
    const refs = getKeys(cmd, argv);
    const id = st.client.id;
    for (let i = 0; i < refs.length; i++) {
      const key = argv[refs[i].pos];
      let ids = this.table.get(key);
      if (ids === undefined) {
        ids = new Set();
        this.table.set(key, ids);
      }
      if (!ids.has(id)) {
        ids.add(id);
        this.items++;
      }
    }
  }

  // ---- invalidation ---------------------------------------------------------------

  /** Every change of a key: one-shot invalidation of its readers, and BCAST collection. */
  private readonly onModified = (_db: Database, key: string): void => {
    if (this.prefixes.size !== 0) this.collectForBroadcast(key);
    if (this.table.size === 0) return;
    this.invalidateReaders(key);
  };

  /** tracking-table-max-keys (0 = no limit), kept current by CONFIG SET. */
  private maxKeys = 0;

  /**
   * Redis's trackingLimitUsedSlots: while the table holds more keys than
   * tracking-table-max-keys, keys are dropped (the oldest first; Redis walks at
   * random) and their readers told, as if the keys had changed (by no client:
   * NOLOOP readers hear of it too, except `current`, the client whose command is
   * about to run, as Redis compares with its current client). Run by the cron and
   * before each command, as Redis.
   */
  private limitTable(current: Client | null): void {
    const max = this.maxKeys;
    if (max === 0 || this.table.size <= max) return;
    for (const key of this.table.keys()) {
      this.invalidateReaders(key, current);
      if (this.table.size <= max) return;
    }
  }

  private readonly limitBeforeCommand = (c: Client): void => {
    if (this.table.size > this.maxKeys) this.limitTable(c);
  };

  /** One-shot invalidation of the clients that read `key` (not BCAST). */
  private invalidateReaders(key: string, current: Client | null = null): void {
    const ids = this.table.get(key);
    if (ids === undefined) return;
    this.table.delete(key);
    this.items -= ids.size;
    for (const id of ids) {
      const st = this.states.get(id);
      // Gone, tracking turned off, or switched to BCAST since the read: nothing to say.
      if (st === undefined || st.bcast) continue;
      const target = st.client;
      if (target === current && st.noloop) continue;
      if (isExecuting(target)) {
        if (!st.noloop) this.pendingSelf.push([target, key]);
      } else {
        this.send(target, keysPayload([key]));
      }
    }
  }

  private collectForBroadcast(key: string): void {
    let any = false;
    for (const [prefix, bs] of this.prefixes) {
      if (!key.startsWith(prefix)) continue;
      // An expired key's deletion is nobody's change, as Redis's signalModifiedKey(NULL, ...):
      // even a NOLOOP client running the command that found it expired hears of it.
      bs.pending.set(key, bs.noloopClients === 0 || this.server.signallingExpiry ? null : noloopModifier(bs));
      any = true;
    }
    if (any && !this.broadcastScheduled) {
      this.broadcastScheduled = true;
      setImmediate(this.broadcast);
    }
  }

  /** Once per event-loop turn: each prefix's changed keys, sorted, to each of its clients. */
  private readonly broadcast = (): void => {
    this.broadcastScheduled = false;
    const names: string[] = [];
    for (const [prefix, bs] of this.prefixes) if (bs.pending.size !== 0) names.push(prefix);
    names.sort(compareBytes);
    for (const prefix of names) {
      const bs = this.prefixes.get(prefix)!;
      const changed = [...bs.pending].sort((a, b) => compareBytes(a[0], b[0]));
      bs.pending = new Map();
      const all = keysPayload(changed.map((e) => e[0]));
      for (const st of bs.clients) {
        if (!st.noloop) {
          this.send(st.client, all);
          continue;
        }
        const others = changed.filter((e) => e[1] !== st.client).map((e) => e[0]);
        if (others.length !== 0) this.send(st.client, keysPayload(others));
      }
    }
  };

  /** FLUSHDB/FLUSHALL (one call per emptied db): the null invalidation, once per command. */
  private readonly onFlush = (_emptied: Database, replacedWith: Database | null): void => {
    // SWAPDB: Redis 7.0 tells tracking clients nothing.
    if (replacedWith !== null || this.flushSignalled) return;
    this.flushSignalled = true;
    queueMicrotask(() => (this.flushSignalled = false)); // a flush outside any command
    if (this.states.size !== 0) {
      // In connection order, as Redis walks its client list.
      const all = [...this.states.values()].sort((a, b) => a.client.id - b.client.id);
      for (const st of all) {
        if (isExecuting(st.client)) this.pendingSelf.push([st.client, null]);
        else this.send(st.client, nullPayload(st.client));
      }
    }
    this.table.clear();
    this.items = 0;
  };

  private sendPendingSelf(): void {
    const list = this.pendingSelf;
    this.pendingSelf = [];
    for (const [owner, key] of list) {
      if (!owner.closed) this.send(owner, key === null ? nullPayload(owner) : keysPayload([key]));
    }
  }

  /** Redis's sendTrackingMessage: to the client, or to its redirect target. `payload` is the RESP value. */
  private send(owner: Client, payload: string): void {
    const st = this.states.get(owner.id);
    let target = owner;
    let redirected = false;
    if (st !== undefined && st.redirect !== 0) {
      const r = this.server.clients.get(st.redirect);
      if (r === undefined || r.closed) {
        st.brokenRedirect = true;
        if (owner.resp === 3) this.deliver(owner, `*2\r\n$21\r\ntracking-redir-broken\r\n:${st.redirect}\r\n`);
        return;
      }
      target = r;
      redirected = true;
    }
    if (target.resp === 3) {
      this.deliver(target, INVALIDATE_HEADER + payload);
    } else if (redirected && existingPubSub(this.server)?.of(target) !== undefined) {
      this.deliver(target, MESSAGE_HEADER + payload);
    }
    // Otherwise a RESP2 connection cannot take pushes: the invalidation is lost, as in Redis.
  }

  private deliver(c: Client, frame: string): void {
    pubsubOf(this.server).deliverFrame(c, Buffer.from(frame, 'latin1'));
  }

  // ---- wiring -----------------------------------------------------------------------

  install(): void {
    const server = this.server;
    server.modifiedHooks.push(this.onModified);
    server.flushHooks.push(this.onFlush);
    server.afterCallHooks.push(this.afterCall);
    // A client served after blocking (BLMOVE) hears of its own changes right after its reply.
    server.unblockHooks.push(() => {
      if (this.pendingSelf.length !== 0) this.sendPendingSelf();
    });
    const refreshMax = (): void => {
      this.maxKeys = server.config.getNumber('tracking-table-max-keys');
      server.trackingLimit = this.maxKeys === 0 ? null : this.limitBeforeCommand;
    };
    refreshMax();
    server.config.onChange('tracking-table-max-keys', refreshMax);
    server.cronHooks.push(() => this.limitTable(null));
    server.rejectHooks.push(this.afterReject);
    server.resetHooks.push((c) => this.disable(c));
    server.disconnectHooks.push((c) => this.disable(c));
    setInfoProvider(server, 'clients', (_srv, fields) =>
      fields.map(([name, value]) => [name, name === 'tracking_clients' ? this.states.size : value]),
    );
    setInfoProvider(server, 'stats', (_srv, fields) =>
      fields.map(([name, value]) => {
        if (name === 'tracking_total_keys') return [name, this.table.size];
        if (name === 'tracking_total_items') return [name, this.items];
        if (name === 'tracking_total_prefixes') return [name, this.prefixes.size];
        return [name, value];
      }),
    );
  }
}

/** Whether the client's command is running now (it is the one changing keys). */
function isExecuting(c: Client): boolean {
  return c.current !== null || c.inMulti;
}

/** The NOLOOP client of a prefix that is running the command changing the key, if any. */
function noloopModifier(bs: PrefixState): Client | null {
  for (const st of bs.clients) if (st.noloop && isExecuting(st.client)) return st.client;
  return null;
}

/** Byte order of latin1 strings, as Redis's radix trees sort keys. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keysPayload(keys: readonly string[]): string {
  let s = `*${keys.length}\r\n`;
  for (const k of keys) s += `$${k.length}\r\n${k}\r\n`;
  return s;
}

/** The null of the tracking client's own protocol, even when redirected (as Redis). */
function nullPayload(owner: Client): string {
  return owner.resp === 3 ? '_\r\n' : '$-1\r\n';
}

// ---- one Tracking per server --------------------------------------------------------

const instances = new WeakMap<Server, Tracking>();

/**
 * Creates the server's Tracking and installs its hooks. Idempotent: the Server
 * constructor may call it; CLIENT TRACKING calls it on first use.
 */
export function installTracking(server: Server): Tracking {
  const existing = instances.get(server);
  if (existing !== undefined) return existing;
  const t = new Tracking(server);
  instances.set(server, t);
  t.install();
  // CLIENT LIST flags t/R/B and redir=.
  clientIntrospection.tracking = (c) => {
    const st = instances.get(c.server)?.of(c);
    if (st === undefined) return { on: false, bcast: false, brokenRedir: false, redirect: -1 };
    return { on: true, bcast: st.bcast, brokenRedir: st.brokenRedirect, redirect: st.redirect };
  };
  clientIntrospection.trackingPrefixes = (c) => instances.get(c.server)?.of(c)?.prefixes.size ?? 0;
  return t;
}

// ---- CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO ------------------------------

/** A C string of the text: Redis's error messages print prefixes with %s. */
function cText(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

/** One of two strings is a prefix of the other (Redis's stringCheckPrefix). */
function overlaps(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

/**
 * Redis's checkPrefixCollisionsOrReply, including its quirk: an overlap
 * between two new prefixes past the first one is replied as an error but
 * tracking is still enabled (and +OK follows). Returns whether to go on.
 */
function checkPrefixes(c: Client, existing: Set<string> | undefined, prefixes: readonly string[]): boolean {
  const own = existing === undefined ? [] : [...existing].sort(compareBytes);
  for (let i = 0; i < prefixes.length; i++) {
    for (const p of own) {
      if (overlaps(p, prefixes[i])) {
        c.addError(
          `ERR Prefix '${cText(prefixes[i])}' overlaps with an existing prefix '${cText(p)}'. Prefixes for a single client must not overlap.`,
        );
        return false;
      }
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      if (overlaps(prefixes[i], prefixes[j])) {
        c.addError(
          `ERR Prefix '${cText(prefixes[i])}' overlaps with another provided prefix '${cText(prefixes[j])}'. Prefixes for a single client must not overlap.`,
        );
        return i !== 0;
      }
    }
  }
  return true;
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
export function clientTracking(c: Client, argv: string[]): void {
  const server = c.server;
  let redirect = 0;
  const opts = { bcast: false, optin: false, optout: false, noloop: false };
  const prefixes: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = j < argv.length - 1;
    if (opt === 'redirect' && more) {
      j++;
      if (redirect !== 0) {
        c.addError('ERR A client can only redirect to a single other client');
        return;
      }
      const id = parseInt64(argv[j]);
      if (id === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      // The target must exist now; it may still go away later (broken redirect).
      if (!server.clients.has(id)) {
        c.addError('ERR The client ID you want redirect to does not exist');
        return;
      }
      redirect = id;
    } else if (opt === 'bcast') {
      opts.bcast = true;
    } else if (opt === 'optin') {
      opts.optin = true;
    } else if (opt === 'optout') {
      opts.optout = true;
    } else if (opt === 'noloop') {
      opts.noloop = true;
    } else if (opt === 'prefix' && more) {
      j++;
      prefixes.push(argv[j]);
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  const mode = argv[2].toLowerCase();
  if (mode === 'off') {
    existingTracking(server)?.disable(c);
    c.addOK();
    return;
  }
  if (mode !== 'on') {
    c.addError(ERR_SYNTAX);
    return;
  }
  const tracking = installTracking(server);
  const st = tracking.of(c);
  if (!opts.bcast && prefixes.length !== 0) {
    c.addError('ERR PREFIX option requires BCAST mode to be enabled');
    return;
  }
  if (st !== undefined && st.bcast !== opts.bcast) {
    c.addError(
      "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
    );
    return;
  }
  if (opts.bcast && (opts.optin || opts.optout)) {
    c.addError('ERR OPTIN and OPTOUT are not compatible with BCAST');
    return;
  }
  if (opts.optin && opts.optout) {
    c.addError("ERR You can't specify both OPTIN mode and OPTOUT mode");
    return;
  }
  if ((opts.optin && st?.optout) || (opts.optout && st?.optin)) {
    c.addError(
      "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
    );
    return;
  }
  if (opts.bcast && !checkPrefixes(c, st?.prefixes, prefixes)) return;
  tracking.enable(c, redirect, opts, prefixes);
  c.addOK();
}

/** CLIENT CACHING YES|NO: track (OPTIN) or skip (OPTOUT) the keys of the next command. */
export function clientCaching(c: Client, argv: string[]): void {
  const st = existingTracking(c.server)?.of(c);
  if (st === undefined) {
    c.addError('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
    return;
  }
  const v = argv[2].toLowerCase();
  if (v === 'yes') {
    if (!st.optin) {
      c.addError('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
      return;
    }
  } else if (v === 'no') {
    if (!st.optout) {
      c.addError('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
      return;
    }
  } else {
    c.addError(ERR_SYNTAX);
    return;
  }
  st.caching = true;
  c.addOK();
}

/** CLIENT GETREDIR: the redirect id, 0 when tracking without redirect, -1 when not tracking. */
export function clientGetredir(c: Client): void {
  const st = existingTracking(c.server)?.of(c);
  c.addInt(st === undefined ? -1 : st.redirect);
}

/** CLIENT TRACKINGINFO: flags, redirect and prefixes, as Redis 7.0 orders them. */
export function clientTrackingInfo(c: Client): void {
  const st = existingTracking(c.server)?.of(c);
  const flags: string[] = [];
  if (st === undefined) {
    flags.push('off');
  } else {
    flags.push('on');
    if (st.bcast) flags.push('bcast');
    if (st.optin) {
      flags.push('optin');
      if (st.caching) flags.push('caching-yes');
    }
    if (st.optout) {
      flags.push('optout');
      if (st.caching) flags.push('caching-no');
    }
    if (st.noloop) flags.push('noloop');
    if (st.brokenRedirect) flags.push('broken_redirect');
  }
  c.addMapLen(3);
  c.addBulk('flags');
  c.addSetLen(flags.length);
  for (const f of flags) c.addBulk(f);
  c.addBulk('redirect');
  c.addInt(st === undefined ? -1 : st.redirect);
  c.addBulk('prefixes');
  const prefixes = st === undefined ? [] : [...st.prefixes].sort(compareBytes);
  c.addArrayLen(prefixes.length);
  for (const p of prefixes) c.addBulk(p);
}

/** The server's Tracking if CLIENT TRACKING was ever used (introspection must not install it). */
export function existingTracking(server: Server): Tracking | undefined {
  return instances.get(server);
}
