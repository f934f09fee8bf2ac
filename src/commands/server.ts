/**
 * Server commands: INFO, CONFIG (GET, SET, RESETSTAT, REWRITE, HELP), DEBUG
 * (SLEEP, SET-ACTIVE-EXPIRE, PAUSE-CRON, OBJECT, POPULATE, ERROR, PROTOCOL, QUICKLIST-PACKED-THRESHOLD,
 * HTSTATS, HTSTATS-KEY, CONFIG-REWRITE-FORCE-ALL, REPLYBUFFER, CLUSTERLINK, HELP), TIME,
 * LASTSAVE and SHUTDOWN.
 *
 * Argument checks and their order follow Redis 7.0, so the same error wins.
 */
import { TLS_CONTEXT_DIRECTIVES, tlsServerSetup } from '../net/tls.js';
import { replicationOf } from '../server/replication.js';
import { scriptBusyError, setDenyScriptDisabled } from '../scripting/busy.js';
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import type { Database } from '../db/database.js';
import { isString, stringOf, type Value } from '../data/values.js';
import { parseInt64, scanStrtod, parseDoubleStrtod, formatFixed } from '../util/numbers.js';
import { replyInfo, resetInfoMetrics, lruClock } from '../observability/info.js';
import { encodingOf } from './keys.js';
import { ERR_SYNTAX } from './errors.js';
import { replyHelp, subcommandSyntaxError } from './client.js';
import { rewriteConfigFile } from '../config/rewrite.js';
import { log } from '../persistence/log.js';
import { parseMemory } from '../config/parse.js';
import { REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME } from '../server/reply-buffer.js';
import { persistenceOf } from '../persistence/index.js';
import { abortShutdown, requestShutdown } from '../server/shutdown.js';

// ---- INFO -------------------------------------------------------------------------

function info(c: Client, argv: string[]): void {
  replyInfo(c, argv.slice(1));
}

// ---- CONFIG -----------------------------------------------------------------------

/** Redis's islocalClient: a unix socket or a loopback TCP peer. */
export function isLocalClient(c: Client): boolean {
  if (c.unixSocket) return true;
  const colon = c.addr.lastIndexOf(':');
  const ip = colon < 0 ? c.addr : c.addr.slice(0, colon);
  return ip === '127.0.0.1' || ip === '::1' || ip === '[::1]';
}

function configGet(c: Client, argv: string[]): void {
  const pairs = c.server.config.configGet(argv.slice(2));
  c.addMapLen(pairs.length);
  for (const [name, value] of pairs) {
    c.addBulk(name);
    c.addBulk(value);
  }
}

function configSet(c: Client, argv: string[]): void {
  if ((argv.length - 2) % 2 !== 0) {
    c.addError(ERR_SYNTAX);
    return;
  }
  const pairs: Array<[string, string]> = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i], argv[i + 1]]);
  const config = c.server.config;
  const before = { port: config.get('port'), bind: config.get('bind'), tlsPort: config.get('tls-port') };
  // Every directive's old value: a failed re-listen rolls them all back (and re-applies them), as Redis.
  const previous: Array<[string, string | undefined]> = pairs.map(([name]) => [name, config.get(name)]);
  // dir, appendonly and repl-diskless-load cannot change while a dataset loads.
  const err = config.configSet(pairs, { localClient: isLocalClient(c), loading: persistenceOf(c.server).loading || persistenceOf(c.server).asyncLoading });
  if (err !== null) {
    c.addError(err);
    return;
  }
  const portChanged = config.get('port') !== before.port;
  const bindChanged = config.get('bind') !== before.bind;
  const undo = (): void => {
    for (const [name, value] of previous) if (value !== undefined) config.setInternal(name, value);
  };
  // tls-* certificates and settings: the listener takes them at once, or nothing changes (Redis's applyTlsCfg).
  const tlsNamed = pairs.find(([n]) => TLS_CONTEXT_DIRECTIVES.has(n.toLowerCase()));
  if (tlsNamed !== undefined && c.server.tlsActive) {
    const setup = tlsServerSetup(config);
    if (setup.errors !== null) {
      for (const line of setup.errors) log(c.server, 'warning', line);
      undo();
      c.addError(`ERR CONFIG SET failed (possibly related to argument '${tlsNamed[0]}') - Unable to update TLS configuration. Check server logs.`);
      return;
    }
    c.server.reloadTls(setup.options);
  }
  if (config.get('tls-port') !== before.tlsPort) {
    retlsForConfig(c, pairs, undo);
    return;
  }
  if (portChanged || bindChanged) {
    relistenForConfig(c, pairs, undo, portChanged);
    return;
  }
  c.addOK();
}

/**
 * CONFIG SET tls-port: the TLS listener moves (or closes, for 0) at once. As
 * for `port`, the caller waits for the listen, and a failure undoes the change.
 */
function retlsForConfig(c: Client, pairs: Array<[string, string]>, undo: () => void): void {
  const server = c.server;
  const port = server.config.getNumber('tls-port');
  if (port === 0) {
    server.closeTls();
    c.addOK();
    return;
  }
  const named = pairs.find(([n]) => n.toLowerCase() === 'tls-port')?.[0] ?? 'tls-port';
  const host = server.bindHost() ?? '::';
  const waiting = c.inMulti ? null : (server.blocking.block(c, c.current!, ['config', 'set'], { keys: [], timeoutMs: 0, serve: () => false }), c.blocked);
  if (waiting === null) c.addOK();
  void server.startTls(host, port).then((errors) => {
    if (errors !== null) {
      for (const line of errors.lines) log(server, 'warning', line);
      undo();
    }
    if (waiting === null || c.closed || c.blocked !== waiting) return;
    server.blocking.unblock(c);
    if (errors === null) c.addOK();
    else {
      const why = errors.configError ? 'Unable to update TLS configuration.' : 'Unable to listen on this port.';
      c.addError(`ERR CONFIG SET failed (possibly related to argument '${named}') - ${why} Check server logs.`);
    }
    server.resume(c);
  });
}

/**
 * CONFIG SET port / bind re-listen at once, as Redis 7.0 does. Listening is
 * asynchronous in Node, so the caller waits like a blocked client for the
 * outcome; on failure the old values come back and the error is Redis's.
 * Inside MULTI nothing may wait: the listen happens after the reply, and a
 * failure is logged and undone.
 */
function relistenForConfig(c: Client, pairs: Array<[string, string]>, undo: () => void, portChanged: boolean): void {
  const server = c.server;
  const config = server.config;
  const port = portChanged ? config.getNumber('port') : server.port;
  const host = server.bindHost();
  // The name the client used for the directive that failed (an alias stays an alias).
  const named = (canonical: string): string => pairs.find(([n]) => n.toLowerCase() === canonical)?.[0] ?? canonical;
  const failure = portChanged
    ? `ERR CONFIG SET failed (possibly related to argument '${named('port')}') - Unable to listen on this port. Check server logs.`
    : `ERR CONFIG SET failed (possibly related to argument '${named('bind')}') - Failed to bind to specified addresses.`;
  const waiting = c.inMulti ? null : (server.blocking.block(c, c.current!, ['config', 'set'], { keys: [], timeoutMs: 0, serve: () => false }), c.blocked);
  if (waiting === null) c.addOK();
  void server.relisten(port, host).then((err) => {
    if (err !== null) {
      log(server, 'warning', `Could not create server TCP listening socket ${host}:${port}: ${err}`);
      undo();
    }
    if (waiting === null || c.closed || c.blocked !== waiting) return;
    server.blocking.unblock(c);
    if (err === null) c.addOK();
    else c.addError(failure);
    server.resume(c);
  });
}

/** CONFIG RESETSTAT: server counters, command and error statistics, keyspace hits/misses, rates. */
export function resetStats(server: Server): void {
  server.stats.reset();
  server.replyBuffer.shrinks = 0;
  server.replyBuffer.expands = 0;
  for (const cmd of server.table.all()) {
    const s = cmd.stats;
    s.calls = 0;
    s.usec = 0;
    s.rejected = 0;
    s.failed = 0;
  }
  for (const db of server.dbs) {
    db.hits = 0;
    db.misses = 0;
  }
  resetInfoMetrics(server);
  for (const hook of resetStatHooks) hook(server);
}

/** Other modules' statistics that RESETSTAT clears too (latency histograms, ...). */
export const resetStatHooks: Array<(server: Server) => void> = [];

function configResetstat(c: Client): void {
  resetStats(c.server);
  c.addOK();
}

function configRewrite(c: Client): void {
  const config = c.server.config;
  if (!config.configFile) {
    c.addError('ERR The server is running without a config file');
    return;
  }
  // Keeps the file's comments and order (src/config/rewrite.ts).
  const err = rewriteConfigFile(config);
  if (err) c.addError(`ERR Rewriting config file: ${err}`);
  else c.addOK();
}

function configHelp(c: Client): void {
  replyHelp(c, 'CONFIG', [
    'GET <pattern>',
    '    Return parameters matching the glob-like <pattern> and their values.',
    'SET <directive> <value>',
    '    Set the configuration <directive> to <value>.',
    'RESETSTAT',
    '    Reset statistics reported by the INFO command.',
    'REWRITE',
    '    Rewrite the configuration file.',
  ]);
}

// ---- DEBUG --------------------------------------------------------------------------

/** Redis's allowProtectedAction for enable-debug-command: yes, or local from a loopback peer. */
function debugAllowed(c: Client): boolean {
  const mode = c.server.config.get('enable-debug-command') ?? 'no';
  return mode === 'yes' || (mode === 'local' && isLocalClient(c));
}

/** strtod without error checking, as DEBUG SLEEP reads its argument ("abc" is 0). */
function looseStrtod(s: string): number {
  const sc = scanStrtod(s);
  if (sc.end === 0) return 0;
  const v = parseDoubleStrtod(s.slice(0, sc.end));
  return v === null || Number.isNaN(v) ? 0 : v;
}

/** C's atoi: leading blanks, a sign, digits; anything else reads as 0. */
function atoi(s: string): number {
  const n = parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the whole event loop, as Redis's DEBUG SLEEP blocks its one thread. */
function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

function debugSleep(c: Client, argv: string[]): void {
  const seconds = looseStrtod(argv[2]);
  // Redis truncates to whole microseconds; a negative time would hang it, we treat it as 0.
  const micros = Math.trunc(seconds * 1e6);
  blockFor(Number.isFinite(micros) ? micros / 1000 : 0);
  c.addOK();
}

/** DEBUG PAUSE-CRON <0|1>: stop (and restart) the periodic cron work (atoi, as Redis). */
function debugPauseCron(c: Client, argv: string[]): void {
  c.server.cronPaused = atoi(argv[2]) !== 0;
  c.addOK();
}

/** DEBUG DROP-CLUSTER-PACKET-FILTER <type>: cluster bus messages of Redis's type number are dropped on receipt (-1: none). */
function debugDropClusterPacketFilter(c: Client, argv: string[]): void {
  const n = parseInt64(argv[2]);
  if (n === null) {
    c.addError('ERR value is not an integer or out of range');
    return;
  }
  c.server.clusterDropPacketFilter = n;
  c.addOK();
}

/** DEBUG CLUSTERLINK KILL <to|from|all> <node-id>: drops cluster bus links to test their recovery. */
function debugClusterlink(c: Client, argv: string[]): void {
  if (argv[2].toLowerCase() !== 'kill') {
    subcommandSyntaxError(c, argv);
    return;
  }
  const cluster = c.server.cluster;
  if (cluster === null) {
    c.addError('ERR Debug option only available for cluster mode enabled setup!');
    return;
  }
  const n = cluster.state.nodes.get(argv[4]);
  if (n === undefined) {
    c.addError(`ERR Unknown node ${argv[4]}`);
    return;
  }
  const dir = argv[3].toLowerCase();
  if (dir !== 'to' && dir !== 'from' && dir !== 'all') {
    // Redis 7.0 sends this error and then +OK too (two replies to one command): we send the error only.
    c.addError(`ERR Unknown direction ${argv[3]}`);
    return;
  }
  cluster.bus.killLinks(n, dir !== 'from', dir !== 'to');
  c.addOK();
}

function debugSetActiveExpire(c: Client, argv: string[]): void {
  c.server.activeExpireEnabled = atoi(argv[2]) !== 0;
  c.addOK();
}

/** Functions the persistence module can supply so DEBUG OBJECT reports exact RDB sizes. */
export const debugObjectHooks: { serializedLength: ((v: Value) => number) | null } = { serializedLength: null };

/** Size of an RDB length prefix (rdbSaveLen). */
function rdbLenSize(n: number): number {
  if (n < 1 << 6) return 1;
  if (n < 1 << 14) return 2;
  if (n <= 0xffffffff) return 5;
  return 9;
}

/** Bytes of an integer in RDB int encoding (rdbEncodeInteger), or 0 when it does not fit 32 bits. */
function rdbIntSize(n: number): number {
  if (n >= -128 && n <= 127) return 2;
  if (n >= -32768 && n <= 32767) return 3;
  if (n >= -2147483648 && n <= 2147483647) return 5;
  return 0;
}

/**
 * RDB size of a string value: integer encoding when the text is a canonical
 * 32-bit integer of at most 11 chars, else length prefix plus bytes. Redis
 * LZF-compresses strings over 20 bytes when that saves space; without an
 * RDB writer we report the uncompressed size for those.
 */
function stringSerializedLength(s: string): number {
  if (s.length <= 11) {
    const n = parseInt64(s);
    if (n !== null) {
      const size = rdbIntSize(n);
      if (size > 0) return size;
    }
  }
  return rdbLenSize(s.length) + s.length;
}

/** Element count of an aggregate, whatever its class calls it. */
function elementCount(v: Value): number {
  const o = v as unknown as { length?: unknown; size?: unknown };
  for (const x of [o.length, o.size]) {
    if (typeof x === 'number') return x;
    if (typeof x === 'function') {
      const r = (x as () => unknown).call(v);
      if (typeof r === 'number') return r;
    }
  }
  return 0;
}

/** Bytes one element takes in a listpack: encoding (integer or string) plus back-length. */
function listpackEntrySize(s: string): number {
  let enc: number;
  const n = s.length <= 20 ? parseInt64(s) : null;
  if (n !== null && Number.isSafeInteger(n)) {
    if (n >= 0 && n <= 127) enc = 1;
    else if (n >= -4096 && n <= 4095) enc = 2;
    else if (n >= -32768 && n <= 32767) enc = 3;
    else if (n >= -8388608 && n <= 8388607) enc = 4;
    else if (n >= -2147483648 && n <= 2147483647) enc = 5;
    else enc = 9;
  } else {
    enc = s.length < 64 ? 1 + s.length : s.length < 4096 ? 2 + s.length : 5 + s.length;
  }
  const back = enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5;
  return enc + back;
}

/** How Redis would lay a list out as a quicklist of listpacks (list-max-listpack-size). */
interface QuicklistLayout {
  nodes: number;
  items: number;
  /** Sum of the listpacks' sizes (6-byte header and end byte included). */
  bytes: number;
}

export function quicklistLayout(server: Server, v: Value): QuicklistLayout {
  const items = (v as unknown as { toArray?: () => string[] }).toArray?.() ?? [];
  const fill = server.config.listMaxListpackSize;
  // Negative fill caps a node's bytes (-1: 4 KB ... -5: 64 KB); positive caps its entries.
  const maxBytes = fill < 0 ? 4096 * 2 ** (Math.min(-fill, 5) - 1) : Infinity;
  const maxItems = fill > 0 ? fill : Infinity;
  let nodes = 0;
  let bytes = 0;
  let nodeBytes = 0;
  let nodeItems = 0;
  const packedThreshold = server.quicklistPackedThreshold;
  for (const it of items) {
    if (it.length >= packedThreshold) {
      // A plain node: the element alone, not in a listpack; the next element starts a new node.
      nodes++;
      bytes += it.length;
      nodeBytes = Infinity;
      continue;
    }
    const size = listpackEntrySize(it);
    if (nodes === 0 || nodeBytes + size > maxBytes || nodeItems + 1 > maxItems) {
      nodes++;
      bytes += 7;
      nodeBytes = 7;
      nodeItems = 0;
    }
    nodeBytes += size;
    nodeItems++;
    bytes += size;
  }
  return { nodes, items: items.length, bytes };
}

function serializedLength(server: Server, v: Value, encoding: string): number {
  if (debugObjectHooks.serializedLength) return debugObjectHooks.serializedLength(v);
  if (isString(v)) return stringSerializedLength(stringOf(v));
  if (encoding === 'quicklist') {
    // Node count, then per node: container type, length prefix, listpack bytes (uncompressed).
    const q = quicklistLayout(server, v);
    const avg = q.nodes === 0 ? 0 : Math.ceil(q.bytes / q.nodes);
    return rdbLenSize(q.nodes) + q.nodes * (1 + rdbLenSize(avg)) + q.bytes;
  }
  // Other aggregates, until the RDB writer exists: a small header plus ~10 bytes per element.
  return 2 + 10 * elementCount(v);
}

/** A stable fake address for a key's value (Redis prints the object's pointer). */
function fakeAddress(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return '0x7f' + (h >>> 0).toString(16).padStart(8, '0') + '00';
}

/** Redis shares the integers 0..9999 unless maxmemory evicts by LRU/LFU. */
function refcountOf(server: Server, v: Value, encoding: string): number {
  if (typeof v !== 'string' || encoding !== 'int') return 1;
  const n = Number(v);
  if (n < 0 || n >= 10000) return 1;
  const policy = server.config.maxmemoryPolicy;
  const evictsByUse = server.config.maxmemory !== 0 && (policy.includes('lru') || policy.includes('lfu'));
  return evictsByUse ? 1 : 2147483647;
}

/** The quicklist fields DEBUG OBJECT appends for lists. */
function quicklistDetails(server: Server, v: Value): string {
  const q = quicklistLayout(server, v);
  const avg = q.nodes === 0 ? 0 : q.items / q.nodes;
  return (
    ` ql_nodes:${q.nodes} ql_avg_node:${formatFixed(avg, 2)} ql_listpack_max:${server.config.listMaxListpackSize}` +
    ` ql_compressed:${server.config.listCompressDepth !== 0 ? 1 : 0} ql_uncompressed_size:${q.bytes}`
  );
}

function debugObject(c: Client, argv: string[]): void {
  const key = argv[2];
  // The raw keyspace, as Redis's DEBUG OBJECT: no lazy expiry (an expired key a replica keeps is shown), no stats.
  const i = c.db.keys.find(key);
  if (i < 0) {
    c.addError('ERR no such key');
    return;
  }
  const v = c.db.keys.vals[i];
  const encoding = encodingOf(v);
  const lru = c.db.keys.access[i] & 0xffffff;
  const idle = c.db.idleSeconds(key);
  const extra = encoding === 'quicklist' ? quicklistDetails(c.server, v) : '';
  c.addSimple(
    `Value at:${fakeAddress(key)} refcount:${refcountOf(c.server, v, encoding)} encoding:${encoding}` +
      ` serializedlength:${serializedLength(c.server, v, encoding)} lru:${lru} lru_seconds_idle:${idle}${extra}`,
  );
}

/** getPositiveLongFromObjectOrReply's check, with the message Redis gives DEBUG POPULATE. */
function parsePositive(c: Client, s: string): number | null {
  const n = parseInt64(s);
  if (n === null || n < 0) {
    c.addError('ERR value is out of range, must be positive');
    return null;
  }
  return n;
}

function debugPopulate(c: Client, argv: string[]): void {
  const count = parsePositive(c, argv[2]);
  if (count === null) return;
  const prefix = argv.length >= 4 ? argv[3] : 'key';
  let size = 0;
  if (argv.length === 5) {
    const s = parsePositive(c, argv[4]);
    if (s === null) return;
    size = s;
  }
  const db = c.db;
  for (let j = 0; j < count; j++) {
    const key = `${prefix}:${j}`;
    if (db.lookupWrite(key) !== undefined) continue;
    let val = `value:${j}`;
    // A size pads with NUL bytes or cuts the value, as Redis does.
    if (size > 0) val = size <= val.length ? val.slice(0, size) : val + '\0'.repeat(size - val.length);
    db.set(key, val);
  }
  c.addOK();
}

/** Replies the text as an error, raw: like Redis, it does not count in the error statistics. */
function debugError(c: Client, argv: string[]): void {
  c.addRaw('-' + argv[2].replace(/[\r\n]/g, ' ') + '\r\n');
}

const PROTOCOL_TYPES = 'string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false';

function debugProtocol(c: Client, argv: string[]): void {
  switch (argv[2].toLowerCase()) {
    case 'string':
      c.addBulk('Hello World');
      break;
    case 'integer':
      c.addInt(12345);
      break;
    case 'double':
      c.addDouble(3.141);
      break;
    case 'bignum':
      c.addBigNumber('1234567999999999999999999999999999999');
      break;
    case 'null':
      c.addNull();
      break;
    case 'array':
    case 'set':
      if (argv[2].toLowerCase() === 'array') c.addArrayLen(3);
      else c.addSetLen(3);
      for (let j = 0; j < 3; j++) c.addInt(j);
      break;
    case 'map':
      c.addMapLen(3);
      for (let j = 0; j < 3; j++) {
        c.addInt(j);
        c.addBool(j === 1);
      }
      break;
    case 'attrib':
      if (c.resp === 3) {
        // An attribute map is RESP3-only; RESP2 clients get just the reply after it.
        c.addRaw('|1\r\n');
        c.addBulk('key-popularity');
        c.addArrayLen(2);
        c.addBulk('key:123');
        c.addInt(90);
      }
      c.addBulk('Some real reply following the attribute');
      break;
    case 'push':
      if (c.resp < 3) {
        c.addError('ERR RESP2 is not supported by this command');
        return;
      }
      c.addPushLen(2);
      c.addBulk('server-cpu-usage');
      c.addInt(42);
      c.addBulk('Some real reply following the push reply');
      break;
    case 'verbatim':
      c.addVerbatim('This is a verbatim\nstring');
      break;
    case 'true':
      c.addBool(true);
      break;
    case 'false':
      c.addBool(false);
      break;
    default:
      c.addError(`ERR Wrong protocol type name. Please use one of the following: ${PROTOCOL_TYPES}`);
  }
}

function debugQuicklistPackedThreshold(c: Client, argv: string[]): void {
  const sz = parseMemory(argv[2]);
  // quicklistisSetPackedThreshold: at most 4 GB - 1 MB; 0 restores the default (1 GB).
  if (sz === null || sz > (1n << 32n) - (1n << 20n)) {
    c.addError('ERR argument must be a memory value bigger than 1 and smaller than 4gb');
    return;
  }
  c.server.quicklistPackedThreshold = sz === 0n ? 1 << 30 : Number(sz);
  c.addOK();
}

/**
 * dictGetStats's header for a table of `used` entries. Mnemo's tables are V8 Maps,
 * whose buckets cannot be inspected: the size is the one Redis's dict would have
 * (the power of two that holds `used`, at least 4), and the chain statistics are left out.
 */
function htStatsText(used: number): string {
  if (used === 0) return 'Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n';
  let size = 4;
  while (size < used) size *= 2;
  return `Hash table 0 stats (main hash table):\n table size: ${size}\n number of elements: ${used}\n`;
}

function debugHtstats(c: Client, argv: string[]): void {
  const id = parseInt64(argv[2]);
  if (id === null) {
    c.addError('ERR value is not an integer or out of range');
    return;
  }
  if (id < 0 || id >= c.server.dbs.length) {
    c.addError('ERR Out of range database');
    return;
  }
  const db = c.server.dbs[id];
  c.addVerbatim(`[Dictionary HT]\n${htStatsText(db.keys.size)}[Expires HT]\n${htStatsText(db.expires.size)}`);
}

function debugHtstatsKey(c: Client, argv: string[]): void {
  const v = c.db.peek(argv[2]);
  if (v === undefined) {
    c.addError('ERR no such key');
    return;
  }
  const encoding = encodingOf(v);
  if (encoding !== 'hashtable' && encoding !== 'skiplist') {
    c.addError('ERR The value stored at the specified key is not represented using an hash table');
    return;
  }
  c.addVerbatim(htStatsText(elementCount(v)));
}

function debugConfigRewriteForceAll(c: Client): void {
  const err = rewriteConfigFile(c.server.config, { forceAll: true });
  if (err) c.addError(`ERR CONFIG-REWRITE-FORCE-ALL failed: ${err}`);
  else c.addOK();
}

function debugReplybuffer(c: Client, argv: string[]): void {
  const settings = c.server.replyBuffer;
  const what = argv[2].toLowerCase();
  if (what === 'peak-reset-time') {
    const arg = argv[3].toLowerCase();
    if (arg === 'never') settings.peakResetTime = -1;
    else if (arg === 'reset') settings.peakResetTime = REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME;
    else {
      const n = parseInt64(argv[3]);
      if (n === null) {
        c.addError('ERR value is not an integer or out of range');
        return;
      }
      settings.peakResetTime = n;
    }
  } else if (what === 'resizing') {
    settings.resizing = atoi(argv[3]) !== 0;
  } else {
    subcommandSyntaxError(c, argv);
    return;
  }
  c.addOK();
}

/** Our DEBUG subcommands: handler and the exact argument count each accepts. */
const DEBUG_SUBCOMMANDS: ReadonlyMap<string, { argc: (n: number) => boolean; run: (c: Client, argv: string[]) => void }> = new Map([
  ['sleep', { argc: (n: number) => n === 3, run: debugSleep }],
  ['set-active-expire', { argc: (n: number) => n === 3, run: debugSetActiveExpire }],
  ['drop-cluster-packet-filter', { argc: (n: number) => n === 3, run: debugDropClusterPacketFilter }],
  ['clusterlink', { argc: (n: number) => n === 5, run: debugClusterlink }],
  ['pause-cron', { argc: (n: number) => n === 3, run: debugPauseCron }],
  ['object', { argc: (n: number) => n === 3, run: debugObject }],
  ['populate', { argc: (n: number) => n >= 3 && n <= 5, run: debugPopulate }],
  ['error', { argc: (n: number) => n === 3, run: debugError }],
  ['protocol', { argc: (n: number) => n === 3, run: debugProtocol }],
  ['quicklist-packed-threshold', { argc: (n: number) => n === 3, run: debugQuicklistPackedThreshold }],
  ['htstats', { argc: (n: number) => n === 3, run: debugHtstats }],
  ['htstats-key', { argc: (n: number) => n === 3, run: debugHtstatsKey }],
  ['config-rewrite-force-all', { argc: (n: number) => n === 2, run: debugConfigRewriteForceAll }],
  ['replybuffer', { argc: (n: number) => n === 4, run: debugReplybuffer }],
  ['replicate', { argc: (n: number) => n >= 3, run: debugReplicate }],
  ['help', { argc: (n: number) => n === 2, run: debugHelp }],
  ['set-disable-deny-scripts', { argc: (n: number) => n === 3, run: debugSetDisableDenyScripts }],
]);

/** DEBUG SET-DISABLE-DENY-SCRIPTS <0|1>: let scripts run commands flagged noscript (atoi, as Redis). */
function debugSetDisableDenyScripts(c: Client, argv: string[]): void {
  setDenyScriptDisabled(c.server, (parseInt(argv[2], 10) || 0) !== 0);
  c.addOK();
}

/** DEBUG REPLICATE <command...>: sent to the replicas only, so their data may diverge (tests of that). */
function debugReplicate(c: Client, argv: string[]): void {
  replicationOf(c.server).replicateRaw(argv.slice(2));
  c.addSimple('OK');
}

function debugHelp(c: Client): void {
  // Only what Mnemo implements, in Redis's wording.
  replyHelp(c, 'DEBUG', [
    'CLUSTERLINK KILL <to|from|all> <node-id>',
    '    Kills the link based on the direction to/from (both) with the provided node.',
    'CONFIG-REWRITE-FORCE-ALL',
    '    Like CONFIG REWRITE but writes all configuration options, including',
    '    keywords not listed in original configuration file or default values.',
    'DIGEST',
    '    Output a hex signature representing the current DB content.',
    'DIGEST-VALUE <key> [<key> ...]',
    '    Output a hex signature of the values of all the specified keys.',
    'DROP-CLUSTER-PACKET-FILTER <packet-type>',
    '    Drop all packets that match the filtered type. Set to -1 allow all packets.',
    'ERROR <string>',
    '    Return a Redis protocol error with <string> as message. Useful for clients',
    '    unit tests to simulate Redis errors.',
    'HTSTATS <dbid>',
    '    Return hash table statistics of the specified Redis database.',
    'HTSTATS-KEY <key>',
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    'LOADAOF',
    '    Flush the AOF buffers on disk and reload the AOF in memory.',
    'OBJECT <key>',
    '    Show low level info about `key` and associated value.',
    'POPULATE <count> [<prefix>] [<size>]',
    '    Create <count> string keys named key:<num>. If <prefix> is specified then',
    "    it is used instead of the 'key' prefix. These are not propagated to",
    '    replicas.',
    'PROTOCOL <type>',
    '    Reply with a test value of the specified type. <type> can be: string,',
    '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
    '    true, false.',
    'RELOAD [option ...]',
    '    Save the RDB on disk and reload it back to memory. Valid <option> values:',
    '    * MERGE: conflicting keys will be loaded from RDB.',
    '    * NOFLUSH: the existing database will not be removed before load, but',
    '      conflicting keys will generate an exception and kill the server.',
    '    * NOSAVE: the database will be loaded from an existing RDB file.',
    '    Examples:',
    '    * DEBUG RELOAD: verify that the server is able to persist, flush and reload',
    '      the database.',
    '    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an',
    '      existing RDB file.',
    '    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB',
    '      file to the database.',
    'REPLICATE <string>',
    '    Replicates the provided string to replicas, allowing data divergence.',
    'SET-ACTIVE-EXPIRE <0|1>',
    '    Setting it to 0 disables expiring keys in background when they are not',
    '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
    '    default.',
    'QUICKLIST-PACKED-THRESHOLD <size>',
    '    Sets the threshold for elements to be inserted as plain vs packed nodes',
    '    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.',
    'SLEEP <seconds>',
    '    Stop the server for <seconds>. Decimals allowed.',
    'PAUSE-CRON <0|1>',
    '    Stop periodic cron job processing.',
    'REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>',
    '    Sets the time (in milliseconds) to wait between client reply buffer peak resets.',
    '    In case NEVER is provided the last observed peak will never be reset',
    '    In case RESET is provided the peak reset time will be restored to the default value',
    'REPLYBUFFER RESIZING <0|1>',
    '    Enable or disable the reply buffer resize cron job',
    'SET-DISABLE-DENY-SCRIPTS <0|1>',
    '    Enable or disable commands that are flagged as no-script (when enabled,',
    '    scripts may run them).',
  ]);
}

function debug(c: Client, argv: string[]): void {
  if (!debugAllowed(c)) {
    c.addError(
      'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.',
    );
    return;
  }
  const sub = DEBUG_SUBCOMMANDS.get(argv[1].toLowerCase());
  if (sub === undefined || !sub.argc(argv.length)) {
    subcommandSyntaxError(c, argv);
    return;
  }
  sub.run(c, argv);
}

// ---- TIME, LASTSAVE, SHUTDOWN -------------------------------------------------------------

function time(c: Client): void {
  const us = c.server.clock.nowMicros();
  const seconds = Math.floor(us / 1e6);
  c.addArrayLen(2);
  c.addBulk(String(seconds));
  c.addBulk(String(us - seconds * 1e6));
}

export interface ShutdownRequest {
  /** true: SAVE, false: NOSAVE, null: neither (save if save points are configured). */
  save: boolean | null;
  now: boolean;
  force: boolean;
}

/**
 * Hooks the lead wires on Server: `saveForShutdown` (persistence: write the
 * snapshot, false on failure) and `onShutdown` (called once the server has
 * closed; the mnemo-server binary exits the process there, embedded servers
 * just stay closed).
 */
export interface ShutdownHooks {
  saveForShutdown?: ((req: ShutdownRequest) => boolean) | null;
  onShutdown?: ((req: ShutdownRequest) => void) | null;
}

function shutdown(c: Client, argv: string[]): void {
  const req: ShutdownRequest = { save: null, now: false, force: false };
  let nosave = false;
  let save = false;
  let abort = false;
  for (let i = 1; i < argv.length; i++) {
    const opt = argv[i].toLowerCase();
    if (opt === 'nosave') nosave = true;
    else if (opt === 'save') save = true;
    else if (opt === 'now') req.now = true;
    else if (opt === 'force') req.force = true;
    else if (opt === 'abort') abort = true;
    else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  if ((abort && (nosave || save || req.now || req.force)) || (nosave && save)) {
    c.addError(ERR_SYNTAX);
    return;
  }
  if (abort) {
    if (abortShutdown(c.server)) c.addOK();
    else c.addError('ERR No shutdown in progress.');
    return;
  }
  // A client that may not block (inside MULTI) cannot wait for replicas, as Redis's CLIENT_DENY_BLOCKING.
  if (!req.now && c.inMulti) {
    c.addError("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
    return;
  }
  // During a busy script only SHUTDOWN NOSAVE is allowed (it is why SHUTDOWN is allow_busy).
  const busy = nosave ? null : scriptBusyError(c.server);
  if (busy !== null) {
    c.addError(busy);
    return;
  }
  req.save = save ? true : nosave ? false : null;
  // Waits for lagging replicas first unless NOW (server/shutdown.ts); the caller waits for the outcome.
  requestShutdown(c.server, req, c, c.current, argv);
}

/** ROLE of a master: its replication offset and each replica's address and acknowledged offset. */
function role(c: Client): void {
  const m = replicationOf(c.server);
  const link = m.link;
  if (link !== null) {
    // A replica: its master, the link state and the offset it processed.
    c.addArrayLen(5);
    c.addBulk('slave');
    c.addBulk(link.host);
    c.addInt(link.port);
    c.addBulk(link.state);
    c.addInt(link.offset);
    return;
  }
  c.addArrayLen(3);
  c.addBulk('master');
  c.addInt(m.offset);
  c.addArrayLen(m.replicas.length);
  for (const r of m.replicas) {
    c.addArrayLen(3);
    c.addBulk(r.ip);
    c.addBulk(String(r.port));
    c.addBulk(String(r.ackOffset));
  }
}

export const commands: CommandImpl[] = [
  { name: 'info', summary: 'Reports server state and statistics, by section.', handler: info },
  { name: 'role', summary: 'Reports the replication role: a master with its offset and replicas.', handler: role },
  { name: 'config', summary: 'Reads and changes the configuration at run time.' },
  { name: 'config|get', summary: 'Returns the configuration directives matching glob patterns, with their values.', handler: configGet },
  { name: 'config|set', summary: 'Changes one or more configuration directives, all or none.', handler: configSet },
  { name: 'config|resetstat', summary: 'Zeroes the statistics INFO reports.', handler: configResetstat },
  { name: 'config|rewrite', summary: 'Writes the running configuration back to the config file.', handler: configRewrite },
  { name: 'config|help', summary: 'Lists the CONFIG subcommands.', handler: configHelp },
  { name: 'debug', summary: 'Testing aids: sleep, inspect a value, fill the keyspace, toggle active expiry, tune internals.', handler: debug },
  { name: 'time', summary: 'Returns the server time as seconds and microseconds.', handler: time },
  { name: 'shutdown', summary: 'Stops the server, optionally saving first.', handler: shutdown },
];
