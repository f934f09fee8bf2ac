/**
 * CLIENT subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, REPLY, NO-EVICT,
 * UNBLOCK, PAUSE, UNPAUSE, HELP. TRACKING, CACHING, GETREDIR and TRACKINGINFO
 * belong to client-side caching: their handlers live in server/tracking.ts.
 *
 * Argument checks and their order follow Redis 7.0, so the same error wins.
 */
import type { CommandImpl } from '../server/command-table.js';
import { ReplyMode, type Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { parseInt64 } from '../util/numbers.js';
import { ERR_NOT_INT, ERR_SYNTAX } from './errors.js';
import { clientCaching, clientGetredir, clientTracking, clientTrackingInfo } from '../server/tracking.js';
import { isHeldByPause, pauseClients, unpauseClients, type PauseMode } from '../server/pause.js';

/** Client names may not contain spaces, newlines or other chars outside '!'..'~'. */
export function isValidClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

// ---- facts about a client that other modules own ------------------------------

export type ClientKind = 'normal' | 'master' | 'replica' | 'pubsub';

/**
 * Pub/sub, MULTI, WATCH, replication and tracking keep their own per-client
 * state; they fill in these functions when they load so that CLIENT LIST,
 * CLIENT KILL TYPE and INFO report them. Until then the defaults describe a
 * plain client.
 */
export interface ClientIntrospection {
  /** Channel, pattern and shard-channel subscription counts. */
  subscriptions(c: Client): [number, number, number];
  /** Commands queued in MULTI, or -1 when not in a transaction. */
  multiQueued(c: Client): number;
  /** Bytes held by the MULTI queue. */
  multiMemory(c: Client): number;
  /** A WATCHed key changed (flag 'd'). */
  dirtyCas(c: Client): boolean;
  /** Replication role of the connection: 'master' (our master's link) or 'replica'. */
  role(c: Client): 'master' | 'replica' | null;
  /** Client-side caching: tracking on, broadcast mode, redirect id (-1 for none). */
  tracking(c: Client): { on: boolean; bcast: boolean; brokenRedir: boolean; redirect: number };
  /** Number of BCAST prefixes of this client. */
  trackingPrefixes(c: Client): number;
  /** A replica's share of the shared replication buffer (its omem); 0 for other clients. */
  replicaOutput(c: Client): number;
}

export const clientIntrospection: ClientIntrospection = {
  subscriptions: () => [0, 0, 0],
  multiQueued: () => -1,
  multiMemory: () => 0,
  dirtyCas: () => false,
  role: () => null,
  tracking: () => ({ on: false, bcast: false, brokenRedir: false, redirect: -1 }),
  trackingPrefixes: () => 0,
  replicaOutput: () => 0,
};

/** Redis's getClientType: master link, replica, subscriber, or normal. */
export function clientKind(c: Client): ClientKind {
  const role = clientIntrospection.role(c);
  if (role !== null) return role;
  const [sub, psub, ssub] = clientIntrospection.subscriptions(c);
  return sub + psub + ssub > 0 ? 'pubsub' : 'normal';
}

/** Parses a client type name as CLIENT LIST/KILL TYPE accept it; null when unknown. */
export function parseClientKind(s: string): ClientKind | null {
  switch (s.toLowerCase()) {
    case 'normal':
      return 'normal';
    case 'slave':
    case 'replica':
      return 'replica';
    case 'master':
      return 'master';
    case 'pubsub':
      return 'pubsub';
    default:
      return null;
  }
}

// ---- CLIENT LIST / CLIENT INFO lines ------------------------------------------

/** Rough size of the per-client bookkeeping that tot-mem adds to the buffers. */
const CLIENT_STRUCT_BYTES = 1024;

function fdOf(c: Client): number {
  const handle = (c.socket as unknown as { _handle?: { fd?: number } } | null)?._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : c.fd;
}

/** Bytes a RESP multibulk for argv takes (the query buffer of the running command). */
function requestBytes(argv: readonly string[]): number {
  let n = 3 + String(argv.length).length;
  for (const a of argv) n += 5 + String(a.length).length + a.length;
  return n;
}

function flagsOf(c: Client): string {
  let f = '';
  const role = clientIntrospection.role(c);
  if (role === 'replica') f += 'S';
  if (role === 'master') f += 'M';
  const [sub, psub, ssub] = clientIntrospection.subscriptions(c);
  if (sub + psub + ssub > 0) f += 'P';
  if (clientIntrospection.multiQueued(c) >= 0) f += 'x';
  if (c.blocked !== null) f += 'b';
  const tr = clientIntrospection.tracking(c);
  if (tr.on) f += 't';
  if (tr.brokenRedir) f += 'R';
  if (tr.bcast) f += 'B';
  if (clientIntrospection.dirtyCas(c)) f += 'd';
  if (c.closeAfterReply) f += 'c';
  if (c.unixSocket) f += 'U';
  if (c.noEvict) f += 'e';
  return f === '' ? 'N' : f;
}

/**
 * One CLIENT LIST line, Redis 7.0's fields in order. `argv` is the running
 * command when describing the calling client (its query buffer and argv-mem).
 * Exact: id addr laddr fd name age idle flags db sub psub ssub multi obl omem
 * events cmd user redir resp. Modelled: qbuf-free (Redis's query buffer room, server/query-buffer.ts),
 * rbs/rbp (the reply buffer's size and peak, resized as Redis does). Estimated: oll (always 0: one flat buffer),
 * multi-mem (via introspection), tot-mem (buffers plus a fixed overhead).
 */
/**
 * Redis's per-client overheads of WATCHed keys (a list node and a watchedKey each,
 * multiStateMemOverhead), of subscriptions (a list node per pattern, a dict entry and
 * bucket share per channel, pubsubMemOverhead) and of tracking prefixes; the names
 * themselves are shared.
 */
export function clientOverheadBytes(c: Client): number {
  let n = c.server.watches.watchedBy(c) * 56;
  const [channels, patterns, shardChannels] = clientIntrospection.subscriptions(c);
  if (channels + patterns + shardChannels !== 0) n += patterns * 24 + dictBytes(channels) + dictBytes(shardChannels);
  // Tracking prefixes: Redis counts 32 bytes per node of the client's prefix rax; a rax of
  // N prefixes has at least N + 1 nodes (a lower bound, as Redis's own figure is).
  const prefixes = clientIntrospection.trackingPrefixes(c);
  if (prefixes !== 0) n += (prefixes + 1) * 32;
  return n;
}

/** dictEntry (24 bytes) per element plus 8 per bucket (at least 4, a power of two). */
function dictBytes(n: number): number {
  if (n === 0) return 0;
  let slots = 4;
  while (slots < n) slots *= 2;
  return n * 24 + slots * 8;
}

/**
 * Redis's getClientMemoryUsage without the subscription/WATCH/tracking overheads: the reply
 * buffer (or what is pending in it, if more), the query buffer's room (at least `qbuf`, its
 * bytes), `argvBytes` (the arguments of the running command, or of one still arriving, with a
 * pointer each), the MULTI queue, unsent socket bytes and a fixed per-client figure. CLIENT LIST
 * tot-mem and client eviction both use it.
 */
export function clientMemoryUsage(c: Client, qbuf: number, argvBytes: number): number {
  const room = Math.max(c.qbufAlloc, c.parser.reservedBytes, qbuf);
  const reply = c.len > c.bufSize ? c.len : c.bufSize;
  return reply + room + argvBytes + (c.multi === null ? 0 : c.multi.bytes) + (c.socket?.writableLength ?? 0) + CLIENT_STRUCT_BYTES;
}

/** The arguments of a command still arriving, with a pointer each (Redis's argv_len_sum + argc pointers). */
export function partialArgvMemory(c: Client): number {
  const argc = c.parser.partialArgc;
  return argc === 0 ? 0 : c.parser.partialArgvBytes + 8 * argc;
}

export function clientInfoLine(c: Client, argv: readonly string[] | null = null): string {
  const now = c.server.clock.now();
  const age = Math.max(0, Math.floor((now - c.createdAt) / 1000));
  const idle = Math.max(0, Math.floor((now - c.lastInteraction) / 1000));
  const [sub, psub, ssub] = clientIntrospection.subscriptions(c);
  const qbuf = c.parser.pendingBytes + (argv ? requestBytes(argv) : 0);
  // The room of Redis's query buffer (server/query-buffer.ts); an announced big argument has it whole.
  const room = Math.max(c.qbufAlloc, c.parser.reservedBytes);
  const qbufFree = room > qbuf ? room - qbuf : 0;
  let argvMem = 0;
  const running = argv ?? c.blocked?.argv ?? null;
  if (running) for (const a of running) argvMem += a.length;
  else argvMem = c.parser.partialArgvBytes; // a command still arriving (Redis's argv_len_sum)
  const multiMem = clientIntrospection.multiMemory(c);
  const rbs = c.bufSize;
  const obl = c.len;
  const unsent = c.socket?.writableLength ?? 0;
  // A replica's output is its share of the shared replication buffer, as Redis counts it.
  const replica = clientIntrospection.role(c) === 'replica';
  const omem = replica ? clientIntrospection.replicaOutput(c) : unsent;
  const totMem =
    clientMemoryUsage(c, qbuf, argvMem + 8 * (running ? running.length : c.parser.partialArgc)) + clientOverheadBytes(c) + (replica ? omem - unsent : 0);
  const events = unsent > 0 ? 'rw' : 'r';
  const cmd = c.current?.fullName ?? c.lastCommand;
  const redir = clientIntrospection.tracking(c).redirect;
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${fdOf(c)} name=${c.name} age=${age} idle=${idle}` +
    ` flags=${flagsOf(c)} db=${c.db.id} sub=${sub} psub=${psub} ssub=${ssub}` +
    ` multi=${clientIntrospection.multiQueued(c)} qbuf=${qbuf} qbuf-free=${qbufFree} argv-mem=${argvMem}` +
    ` multi-mem=${multiMem} rbs=${rbs} rbp=${c.bufPeak} obl=${obl} oll=0 omem=${omem} tot-mem=${totMem}` +
    ` events=${events} cmd=${cmd} user=${c.user} redir=${redir} resp=${c.resp}`
  );
}

// ---- shared helpers -------------------------------------------------------------

/** Redis's reply when a container's subcommand gets the wrong number of arguments in its handler. */
export function subcommandSyntaxError(c: Client, argv: string[]): void {
  const sub = argv[1].length > 128 ? argv[1].slice(0, 128) : argv[1];
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${sub}'. Try ${argv[0].toUpperCase()} HELP.`);
}

/** Replies Redis's HELP format: "<CMD> <subcommand> ..." header, the lines, then HELP itself. */
export function replyHelp(c: Client, command: string, lines: readonly string[]): void {
  const all = [
    `${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    'HELP',
    '    Prints this help.',
  ];
  c.addArrayLen(all.length);
  for (const l of all) c.addSimple(l);
}

/** Disconnects a client: the caller after its reply, anyone else right away. */
export function killClient(target: Client, caller: Client): void {
  if (target === caller) {
    caller.closeAfterReply = true;
    return;
  }
  target.onKill?.();
  target.socket?.destroy();
  target.server.removeClient(target);
}

// ---- handlers --------------------------------------------------------------------

function clientId(c: Client): void {
  c.addInt(c.id);
}

function clientSetname(c: Client, argv: string[]): void {
  if (!isValidClientName(argv[2])) {
    c.addError('ERR Client names cannot contain spaces, newlines or special characters.');
    return;
  }
  c.name = argv[2];
  c.addOK();
}

function clientGetname(c: Client): void {
  if (c.name === '') c.addNull();
  else c.addBulk(c.name);
}

function clientInfo(c: Client, argv: string[]): void {
  c.addVerbatim(clientInfoLine(c, argv) + '\n');
}

function clientList(c: Client, argv: string[]): void {
  const server = c.server;
  const line = (x: Client) => clientInfoLine(x, x === c ? argv : null) + '\n';
  let text = '';
  if (argv.length === 2) {
    for (const x of server.clients.values()) text += line(x);
  } else if (argv.length === 4 && argv[2].toLowerCase() === 'type') {
    const kind = parseClientKind(argv[3]);
    if (kind === null) {
      c.addError(`ERR Unknown client type '${argv[3]}'`);
      return;
    }
    for (const x of server.clients.values()) if (clientKind(x) === kind) text += line(x);
  } else if (argv.length >= 4 && argv[2].toLowerCase() === 'id') {
    // Each id in the order given; all must be integers.
    for (let j = 3; j < argv.length; j++) {
      const id = parseInt64(argv[j]);
      if (id === null) {
        c.addError('ERR Invalid client ID');
        return;
      }
      const x = server.clients.get(id);
      if (x !== undefined) text += line(x);
    }
  } else {
    c.addError(ERR_SYNTAX);
    return;
  }
  c.addVerbatim(text);
}

interface KillFilter {
  id: number | null;
  addr: string | null;
  laddr: string | null;
  kind: ClientKind | null;
  user: string | null;
  skipMe: boolean;
}

/** Whether a user of that name exists (only `default` until ACL users arrive). */
function userExists(server: Server, name: string): boolean {
  const acl = (server as unknown as { acl?: { hasUser?(n: string): boolean } }).acl;
  if (acl?.hasUser) return acl.hasUser(name);
  return name === 'default';
}

/** Parses CLIENT KILL's filter pairs; replies the error and returns null when invalid. */
function parseKillFilter(c: Client, argv: string[]): KillFilter | null {
  const f: KillFilter = { id: null, addr: null, laddr: null, kind: null, user: null, skipMe: true };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i].toLowerCase();
    const hasValue = i + 1 < argv.length;
    if (!hasValue) {
      c.addError(ERR_SYNTAX);
      return null;
    }
    const val = argv[i + 1];
    if (opt === 'id') {
      const id = parseInt64(val);
      if (id === null || id < 1) {
        c.addError('ERR client-id should be greater than 0');
        return null;
      }
      f.id = id;
    } else if (opt === 'type') {
      const kind = parseClientKind(val);
      if (kind === null) {
        c.addError(`ERR Unknown client type '${val}'`);
        return null;
      }
      f.kind = kind;
    } else if (opt === 'addr') {
      f.addr = val;
    } else if (opt === 'laddr') {
      f.laddr = val;
    } else if (opt === 'user') {
      if (!userExists(c.server, val)) {
        c.addError(`ERR No such user '${val}'`);
        return null;
      }
      f.user = val;
    } else if (opt === 'skipme') {
      const v = val.toLowerCase();
      if (v === 'yes') f.skipMe = true;
      else if (v === 'no') f.skipMe = false;
      else {
        c.addError(ERR_SYNTAX);
        return null;
      }
    } else {
      c.addError(ERR_SYNTAX);
      return null;
    }
  }
  return f;
}

function clientKill(c: Client, argv: string[]): void {
  const server = c.server;
  if (argv.length === 3) {
    // Old form: CLIENT KILL addr:port. It may kill the caller too.
    const addr = argv[2];
    const victims = [...server.clients.values()].filter((x) => x.addr === addr);
    if (victims.length === 0) {
      c.addError('ERR No such client');
      return;
    }
    c.addOK();
    for (const x of victims) killClient(x, c);
    return;
  }
  const f = parseKillFilter(c, argv);
  if (f === null) return;
  const victims: Client[] = [];
  for (const x of server.clients.values()) {
    if (f.addr !== null && x.addr !== f.addr) continue;
    if (f.laddr !== null && x.laddr !== f.laddr) continue;
    if (f.kind !== null && clientKind(x) !== f.kind) continue;
    if (f.id !== null && x.id !== f.id) continue;
    if (f.user !== null && x.user !== f.user) continue;
    if (x === c && f.skipMe) continue;
    victims.push(x);
  }
  c.addInt(victims.length);
  for (const x of victims) killClient(x, c);
}

function clientReply(c: Client, argv: string[]): void {
  const mode = argv[2].toLowerCase();
  if (mode === 'on') {
    c.replyMode = ReplyMode.On;
    c.addOK();
  } else if (mode === 'off') {
    // No reply: the dispatcher discards whatever this client is sent while OFF.
    c.replyMode = ReplyMode.Off;
  } else if (mode === 'skip') {
    // Unless replies are already off, skip the reply of the next command.
    if (c.replyMode !== ReplyMode.Off) c.replyMode = ReplyMode.SkipNext;
  } else {
    c.addError(ERR_SYNTAX);
  }
}

function clientNoEvict(c: Client, argv: string[]): void {
  const v = argv[2].toLowerCase();
  if (v === 'on') c.noEvict = true;
  else if (v === 'off') c.noEvict = false;
  else {
    c.addError(ERR_SYNTAX);
    return;
  }
  c.addOK();
}

function clientUnblock(c: Client, argv: string[]): void {
  if (argv.length > 4) {
    subcommandSyntaxError(c, argv);
    return;
  }
  let withError = false;
  if (argv.length === 4) {
    const reason = argv[3].toLowerCase();
    if (reason === 'error') withError = true;
    else if (reason !== 'timeout') {
      c.addError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
      return;
    }
  }
  const id = parseInt64(argv[2]);
  if (id === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  const target = c.server.clients.get(id);
  // A client held by CLIENT PAUSE is not blocked by a command: UNBLOCK leaves it alone (as Redis).
  const done =
    target !== undefined && target.blocked !== null && !isHeldByPause(target) && c.server.blocking.forceUnblock(target, withError);
  c.addInt(done ? 1 : 0);
}

// ---- CLIENT PAUSE / UNPAUSE: enforced by the dispatcher through server/pause.ts -----

export { currentPause, type PauseInfo as PauseState } from '../server/pause.js';

function clientPause(c: Client, argv: string[]): void {
  if (argv.length > 4) {
    subcommandSyntaxError(c, argv);
    return;
  }
  let mode: PauseMode = 'all';
  if (argv.length === 4) {
    const m = argv[3].toLowerCase();
    if (m === 'write') mode = 'write';
    else if (m !== 'all') {
      c.addError('ERR CLIENT PAUSE mode must be WRITE or ALL');
      return;
    }
  }
  const ms = parseInt64(argv[2]);
  if (ms === null) {
    c.addError('ERR timeout is not an integer or out of range');
    return;
  }
  if (ms < 0) {
    c.addError('ERR timeout is negative');
    return;
  }
  // As Redis: a pause only ever gets longer or stricter until UNPAUSE.
  pauseClients(c.server, mode, ms);
  c.addOK();
}

function clientUnpause(c: Client): void {
  unpauseClients(c.server);
  c.addOK();
}

const HELP_LINES = [
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
];

function clientHelp(c: Client): void {
  replyHelp(c, 'CLIENT', HELP_LINES);
}

export const commands: CommandImpl[] = [
  { name: 'client', summary: 'Inspects and controls client connections.' },
  { name: 'client|id', summary: 'Returns the unique id of this connection.', handler: clientId },
  { name: 'client|setname', summary: 'Names this connection.', handler: clientSetname },
  { name: 'client|getname', summary: 'Returns the name of this connection.', handler: clientGetname },
  { name: 'client|info', summary: 'Describes this connection in CLIENT LIST format.', handler: clientInfo },
  { name: 'client|list', summary: 'Describes connected clients, optionally filtered by type or id.', handler: clientList },
  { name: 'client|kill', summary: 'Disconnects clients by address or by filters; replies how many.', handler: clientKill },
  { name: 'client|reply', summary: 'Turns replies to this connection on, off, or off for the next command.', handler: clientReply },
  { name: 'client|no-evict', summary: 'Exempts this connection from client eviction, or not.', handler: clientNoEvict },
  { name: 'client|unblock', summary: 'Ends the blocking command of another client as a timeout or an error.', handler: clientUnblock },
  { name: 'client|pause', summary: 'Suspends clients, or only their writes, for some milliseconds.', handler: clientPause },
  { name: 'client|unpause', summary: 'Ends a client pause.', handler: clientUnpause },
  { name: 'client|help', summary: 'Lists the CLIENT subcommands.', handler: clientHelp },
  { name: 'client|tracking', summary: 'Turns server-assisted client-side caching on or off, with its options.', handler: clientTracking },
  { name: 'client|caching', summary: 'In OPTIN/OPTOUT tracking, caches (or not) the keys read by the next command.', handler: clientCaching },
  { name: 'client|getredir', summary: 'Returns the client id invalidations are redirected to (0 none, -1 not tracking).', handler: clientGetredir },
  { name: 'client|trackinginfo', summary: 'Describes the tracking mode, redirect and prefixes of this connection.', handler: clientTrackingInfo },
];
