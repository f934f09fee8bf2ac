/**
 * maxmemory: memory accounting, key eviction under every Redis 7.0
 * maxmemory-policy, the LFU counters, and the -OOM refusal.
 *
 * ## What "used memory" means here
 *
 * Redis compares maxmemory with its allocator's figure, which INFO reports as
 * used_memory. Mnemo's data lives in the V8 heap, whose figure
 * (process.memoryUsage().heapUsed) can serve neither purpose: it includes
 * garbage until the next collection, so deleting keys does not lower it (an
 * eviction loop would empty the keyspace waiting for it to drop) and writing
 * makes it jump by whatever garbage the writes left. Instead Mnemo keeps a
 * deterministic, incrementally maintained model of what Redis 7.0 would use
 * for the same data, so that a maxmemory value holds about as many keys as in
 * Redis, and INFO's used_memory is that same figure:
 *
 *     used_memory = 876256               (Redis 7.0's used_memory at start-up)
 *          + sum over keys of keyBytes   (maintained on every write)
 *          + 8 * buckets(main table)     (per db)
 *          + 24 * volatile keys + 8 * buckets(expires table)
 *          + client buffers              (query, reply, socket queue; replicas' apart)
 *
 * keyBytes = sds(key) + 24 (dictEntry) + the value's size: strings exactly as
 * MEMORY USAGE models them (src/observability/memory.ts; plain strings through
 * plainStringKeyBytes, a direct path to the same figure); aggregates from the
 * same layouts (listpack, intset, hash table, skiplist, quicklist), their
 * elements measured whole up to 32 elements and beyond that averaged over 8
 * elements at fixed positions, so that a write costs O(1) whatever the
 * value's size; that average is reused (times the current length) until the
 * length moves 1/16 away from where it was sampled. (Like MEMORY USAGE's
 * SAMPLES, this under- or over-counts a large aggregate whose elements differ
 * much in size.)
 *
 * Buckets follow Redis's dicts (accountedMemory's tableSlots): a table
 * doubles when it outgrows them, but not while the doubled table would take
 * used memory past maxmemory and the table holds at most 1.618 keys per
 * bucket (dictExpandAllowed); it shrinks to fit once under 10% full.
 *
 * The per-key figure lives next to the key (KeyTable.evict in
 * src/db/database.ts); the table keeps the total as keys come and go. A
 * keyspace hook recomputes a key's figure after each write, always (not only
 * under maxmemory), so INFO can report it; keys loaded behind the hooks' back
 * (RDB, AOF) are counted on the next read of the figure, once, in O(keys).
 *
 * Client buffers are summed over the clients (O(clients)), so they are
 * measured each cron tick and at INFO (src/observability/info.ts), not per
 * command: eviction counts the last measure. As in Redis, replicas' buffers
 * are in used_memory (mem_clients_slaves) but eviction does not count them
 * (mem_not_counted_for_evict); normal and pub/sub clients' buffers count.
 * INFO keeps the process's own figure as used_memory_v8_heap, and
 * used_memory_rss is the real RSS.
 *
 * Measured (Node 20, this machine, in-process execute): the hook adds ~30 ns
 * to a SET (~320 ns without it), ~45 ns to an HSET and ~85 ns to an LPUSH on
 * small aggregates; recomputing a large aggregate's figure costs ~70 ns for a
 * 200k-element list and ~350 ns for a 100k-field hash table (8 sampled
 * elements, cache misses), against an end-to-end op of a few microseconds.
 * (MEMORY USAGE's exact model costs 25-300 us for a 500-element listpack,
 * hence the sampling here.)
 *
 * ## Eviction
 *
 * Before each command, when maxmemory is set and used memory is above it,
 * keys are evicted as Redis's performEvictions does: LRU/LFU/TTL policies
 * sample `maxmemory-samples` keys per db into a pool of the 16 best
 * candidates and evict the best; random policies pick a random key, dbs in
 * turn. An eviction deletes through db.delete (WATCH, tracking), counts in
 * INFO evicted_keys, fires the `evicted` keyspace event and propagates DEL
 * (UNLINK with lazyfree-lazy-eviction). When the time budget of
 * maxmemory-eviction-tenacity runs out, eviction goes on in the background.
 * When nothing can be evicted (noeviction, or no volatile keys for a volatile
 * policy), commands flagged denyoom are refused with -OOM.
 *
 * ## LFU
 *
 * Redis's 24-bit LFU word: the last decrement time in minutes (16 bits) and a
 * logarithmic counter (8 bits, starting at 5, incremented with probability
 * 1 / ((counter - 5) * lfu-log-factor + 1), decremented by one per
 * lfu-decay-time minutes). Kept per key while the policy is an LFU one.
 */
import { freeValueAsync } from './lazyfree.js';
import { LFU_INIT_VAL, lfuDecayed, lfuMinutes } from './lfu.js';
import type { Server } from './server.js';
import type { Client } from './client.js';
import { CMD_DENYOOM, type Command } from './command-table.js';
import type { Database, LfuTracker } from '../db/database.js';
import type { DenseMap } from '../data/dense-map.js';
import { isString, typeOf, type MutableString, type Value } from '../data/values.js';
import type { ListValue } from '../data/list.js';
import type { HashValue } from '../data/hash.js';
import type { SetValue } from '../data/set.js';
import type { ZSetValue } from '../data/zset.js';
import { jemallocSize, sdsSize, streamGroupsSize, valueSize } from '../observability/memory.js';
import type { StreamValue } from '../data/stream.js';
import { parseInt64 } from '../util/numbers.js';
import { latencyAddSampleIfNeeded } from '../commands/observability.js';
import { evictionClientMemory, setInfoProvider, type InfoValue } from '../observability/info.js';
import { resetStatHooks } from '../commands/server.js';
import { effectiveCommandFlags, isEvictionPaused } from './pause.js';
import { existingPubSub } from './pubsub.js';

export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

// ---- policies ------------------------------------------------------------------------

const enum Kind {
  Lru,
  Lfu,
  Ttl,
  Random,
  None,
}

interface Policy {
  kind: Kind;
  /** allkeys-* sample the whole keyspace, volatile-* only keys with a TTL. */
  allKeys: boolean;
}

function parsePolicy(name: string): Policy {
  const allKeys = name.startsWith('allkeys-');
  if (name.endsWith('-lru')) return { kind: Kind.Lru, allKeys };
  if (name.endsWith('-lfu')) return { kind: Kind.Lfu, allKeys };
  if (name.endsWith('-random')) return { kind: Kind.Random, allKeys };
  if (name === 'volatile-ttl') return { kind: Kind.Ttl, allKeys: false };
  return { kind: Kind.None, allKeys: false };
}

// ---- LFU -------------------------------------------------------------------------------

/** Logarithmic increment: the higher the counter, the less likely one more access raises it. */
function lfuLogIncr(counter: number, logFactor: number): number {
  if (counter === 255) return 255;
  const base = Math.max(0, counter - LFU_INIT_VAL);
  return Math.random() < 1 / (base * logFactor + 1) ? counter + 1 : counter;
}

// ---- per-server state ------------------------------------------------------------------

const POOL_SIZE = 16;

interface EvictionState {
  policy: Policy;
  samples: number;
  logFactor: number;
  decayTime: number;
  /** Time budget of one eviction run, ms (Infinity: none). */
  budgetMs: number;
  lazy: boolean;
  /** A replica with replica-ignore-maxmemory does not evict (its master does). */
  ignoreMaxmemory: boolean;
  lfu: LfuTracker;
  /** The candidate pool: ascending by idle score, empty slots (null key) at the end. */
  poolKey: Array<string | null>;
  poolIdle: Float64Array;
  poolDb: Int32Array;
  /** Round-robin db for random policies. */
  nextDb: number;
  /** Eviction continues in the background (time budget ran out). */
  backgroundRun: boolean;
  /** Whether the last command started out of memory (Redis's pre_command_oom_state, for scripts). */
  preCommandOom: boolean;
  /** Since when (performance.now() ms) memory stays above maxmemory, or null (INFO *_eviction_exceeded_time). */
  exceededSince: number | null;
  /** Total ms spent above maxmemory in finished spells. */
  exceededTotal: number;
}

const states = new WeakMap<Server, EvictionState>();

/** Redis's evictionTimeLimitUs, in ms: linear up to tenacity 10, then +15% per step, none at 100. */
function budgetFor(tenacity: number): number {
  if (tenacity <= 10) return (50 * tenacity) / 1000;
  if (tenacity < 100) return (500 * 1.15 ** (tenacity - 10)) / 1000;
  return Infinity;
}

/**
 * Sets up maxmemory handling for a server: config hooks, the accounting
 * hook, LFU tracking when the policy asks for it. Idempotent; the Server
 * constructor calls it.
 */
export function installEviction(server: Server): void {
  if (states.has(server)) return;
  const cfg = server.config;
  const st: EvictionState = {
    policy: parsePolicy(cfg.maxmemoryPolicy),
    samples: 5,
    logFactor: 10,
    decayTime: 1,
    budgetMs: budgetFor(10),
    lazy: false,
    ignoreMaxmemory: false,
    lfu: {
      init: () => (lfuMinutes(server.clock.now()) << 8) | LFU_INIT_VAL,
      touch: (word) => {
        const now = lfuMinutes(server.clock.now());
        const counter = lfuLogIncr(lfuDecayed(word, now, st.decayTime), st.logFactor);
        return (now << 8) | counter;
      },
    },
    poolKey: new Array<string | null>(POOL_SIZE).fill(null),
    poolIdle: new Float64Array(POOL_SIZE),
    poolDb: new Int32Array(POOL_SIZE),
    nextDb: 0,
    backgroundRun: false,
    preCommandOom: false,
    exceededSince: null,
    exceededTotal: 0,
  };
  states.set(server, st);

  const refresh = (): void => {
    const policy = parsePolicy(cfg.maxmemoryPolicy);
    // Candidates scored under another policy would compete with scores of a different kind.
    if (policy.kind !== st.policy.kind || policy.allKeys !== st.policy.allKeys) st.poolKey.fill(null);
    st.policy = policy;
    st.samples = cfg.getNumber('maxmemory-samples');
    st.logFactor = cfg.getNumber('lfu-log-factor');
    st.decayTime = cfg.getNumber('lfu-decay-time');
    st.budgetMs = budgetFor(cfg.getNumber('maxmemory-eviction-tenacity'));
    st.lazy = cfg.getBool('lazyfree-lazy-eviction');
    st.ignoreMaxmemory = cfg.replicaOf() !== null && cfg.getBool('replica-ignore-maxmemory');
    // LFU counters are kept whenever the policy is an LFU one, maxmemory or not (OBJECT FREQ).
    const tracker = st.policy.kind === Kind.Lfu ? st.lfu : null;
    for (const db of server.dbs) db.lfu = tracker;
  };
  refresh();
  for (const name of [
    'maxmemory-policy',
    'maxmemory-samples',
    'lfu-log-factor',
    'lfu-decay-time',
    'maxmemory-eviction-tenacity',
    'lazyfree-lazy-eviction',
    'replicaof',
    'replica-ignore-maxmemory',
  ]) {
    cfg.onChange(name, refresh);
  }
  cfg.onChange('maxmemory', (_name, value) => {
    refresh();
    // As Redis's CONFIG SET maxmemory (startEvictionTimeProc): eviction starts on the next
    // event-loop turn, not inside the command (nor inside a MULTI that set it).
    if (value !== '0') startBackgroundEviction(server, st);
  });
  // The accounting hook: always on, so that INFO's used_memory is the figure eviction uses.
  // Plain strings (most writes) take a direct path, the same figure as keyBytes.
  server.modifiedHooks.push((db, key) => {
    const t = db.keys;
    const i = t.find(key);
    if (i < 0) return;
    const v = t.vals[i];
    t.account(i, typeof v === 'string' ? plainStringKeyBytes(key.length, v) : keyBytes(server, key, v));
  });
  // INFO stats: how long memory has been, and was in all, above maxmemory (ms).
  setInfoProvider(server, 'stats', (_srv, fields) => {
    const current = st.exceededSince === null ? 0 : Math.floor(performance.now() - st.exceededSince);
    return fields.map(([k, v]): [string, InfoValue] => {
      if (k === 'total_eviction_exceeded_time') return [k, Math.floor(st.exceededTotal) + current];
      if (k === 'current_eviction_exceeded_time') return [k, current];
      return [k, v];
    });
  });
  if (!resetHooked) {
    // One hook for all servers (a per-server closure would keep every server alive).
    resetHooked = true;
    resetStatHooks.push((srv) => {
      const state = states.get(srv);
      if (state === undefined) return;
      state.exceededTotal = 0;
      if (state.exceededSince !== null) state.exceededSince = performance.now();
    });
  }
}

let resetHooked = false;

function stateOf(server: Server): EvictionState {
  let st = states.get(server);
  if (st === undefined) {
    installEviction(server);
    st = states.get(server)!;
  }
  return st;
}

// ---- accounting --------------------------------------------------------------------------

/** Redis 7.0's used_memory right after start-up (redis-server 7.0.15, empty dataset). */
export const REDIS_STARTUP_BYTES = 876256;

const ROBJ = 16;
const DICT_ENTRY = 24;
const DICT = 56;
const PTR = 8;
const QUICKLIST = 40;
const QUICKLIST_NODE = 40;
const LISTPACK_EMPTY = 7;
/** zset header, skiplist header, its 32-level head node, and a random-level node on average. */
const ZSET_FIXED = 16 + 32 + 640;
const ZSKIPLIST_NODE = 53;
/** Aggregates up to this many elements are measured whole; larger ones are sampled. */
const EXACT_MAX = 32;
/** Elements sampled to estimate a larger aggregate's element size. */
const SAMPLES = 8;

function buckets(n: number): number {
  let p = 4;
  while (p < n) p *= 2;
  return p;
}

/** Bytes of one listpack entry holding a string of `len` bytes (encoding + data + back-length). */
function lpEntry(len: number): number {
  const enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  return enc + (enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5);
}

/** Listpack bytes of a zset score: small integers pack into a few bytes, other doubles print as up to 17 digits. */
function scoreEntry(score: number): number {
  return Number.isInteger(score) && Math.abs(score) < 2 ** 31 ? 4 : 20;
}

/**
 * The cost of n elements, `cost(i)` being element i's: summed when n is
 * small, else the average of SAMPLES elements spread evenly (deterministic
 * positions) times n.
 */
function elementsCost(owner: object, n: number, cost: (i: number) => number): number {
  let sum = 0;
  if (n <= EXACT_MAX) {
    for (let i = 0; i < n; i++) sum += cost(i);
    return sum;
  }
  // A write to a large aggregate reuses its sampled element size (see perUnit): sampling
  // costs 8 scattered reads (~350 ns on a 100k-field hash) on every write otherwise.
  return (
    perUnit(owner, n, () => {
      for (let j = 0; j < SAMPLES; j++) sum += cost(Math.floor(((2 * j + 1) * n) / (2 * SAMPLES)));
      return sum / SAMPLES;
    }) * n
  );
}

/** Per large aggregate or stream: the size (elements, nodes) its per-unit figure was sampled at, and that figure. */
const sampledPerUnit = new WeakMap<object, { n: number; perUnit: number }>();

/**
 * The per-unit figure of `owner` at size n: the one sampled last while n stays
 * within 1/16 of the size it was sampled at, else `sample()` again.
 */
function perUnit(owner: object, n: number, sample: () => number): number {
  const cached = sampledPerUnit.get(owner);
  if (cached !== undefined && Math.abs(n - cached.n) * 16 <= cached.n) return cached.perUnit;
  const v = sample();
  if (cached !== undefined) {
    cached.n = n;
    cached.perUnit = v;
  } else sampledPerUnit.set(owner, { n, perUnit: v });
  return v;
}

function listBytes(server: Server, l: ListValue): number {
  const n = l.length;
  if (n === 0) return ROBJ + QUICKLIST;
  const packed = elementsCost(l, n, (i) => lpEntry(l.at(i).length));
  // list-max-listpack-size: negative caps a node's bytes (-1: 4 KB .. -5: 64 KB), positive its entries.
  const fill = server.config.listMaxListpackSize;
  const nodes = fill > 0 ? Math.ceil(n / fill) : Math.max(1, Math.ceil(packed / (4096 * 2 ** (Math.min(-fill, 5) - 1))));
  return ROBJ + QUICKLIST + nodes * (QUICKLIST_NODE + LISTPACK_EMPTY) + packed;
}

/** The packed (listpack-form) string of a hash, when the hash has that form (see src/data/hash.ts). */
function packedHash(h: HashValue): string | null {
  const data = (h as unknown as { data?: unknown }).data;
  return typeof data === 'string' ? data : null;
}

function hashBytes(h: HashValue): number {
  const n = h.size;
  if (h.encoding() === 'listpack') {
    // The packed string is the listpack minus its 2 bytes per entry and 6-byte header (O(1)).
    const packed = packedHash(h);
    if (packed !== null) return ROBJ + jemallocSize(packed.length + 2 * 2 * n + LISTPACK_EMPTY - 1);
    let bytes = LISTPACK_EMPTY;
    h.forEach((f, v) => (bytes += lpEntry(f.length) + lpEntry(v.length)));
    return ROBJ + jemallocSize(bytes);
  }
  const idx = h.index();
  const elements = elementsCost(h, n, (i) => DICT_ENTRY + sdsSize(idx.field(i).length) + sdsSize(idx.value(i).length));
  return ROBJ + DICT + PTR * buckets(n) + elements;
}

/** Bytes of an integer in an intset of its width. */
function intWidth(m: string): number {
  const v = Number(m);
  return v >= -32768 && v <= 32767 ? 2 : v >= -2147483648 && v <= 2147483647 ? 4 : 8;
}

function setBytes(s: SetValue): number {
  const n = s.size;
  if (n === 0) return ROBJ;
  if (s.encoding() === 'intset') {
    // Ascending order: the extremes decide the width.
    const width = Math.max(intWidth(s.memberAt(0)), intWidth(s.memberAt(n - 1)));
    return ROBJ + jemallocSize(8 + width * n);
  }
  return ROBJ + DICT + PTR * buckets(n) + elementsCost(s, n, (i) => DICT_ENTRY + sdsSize(s.memberAt(i).length));
}

function zsetBytes(z: ZSetValue): number {
  const n = z.size;
  if (n === 0) return ROBJ;
  const listpack = z.encoding() === 'listpack';
  const elements = elementsCost(z, n, (i) => {
    const [member, score] = z.entryAtSlot(i);
    return listpack ? lpEntry(member.length) + scoreEntry(score) : sdsSize(member.length) + DICT_ENTRY + ZSKIPLIST_NODE;
  });
  if (listpack) return ROBJ + jemallocSize(LISTPACK_EMPTY + elements);
  return ROBJ + ZSET_FIXED + DICT + PTR * buckets(n) + elements;
}

function valueBytes(server: Server, v: Value): number {
  if (isString(v)) return valueSize(server, v as string | MutableString, 0);
  switch (typeOf(v)) {
    case 'list':
      return listBytes(server, v as ListValue);
    case 'hash':
      return hashBytes(v as HashValue);
    case 'set':
      return setBytes(v as SetValue);
    case 'zset':
      return zsetBytes(v as ZSetValue);
    default:
      return streamBytes(server, v as StreamValue);
  }
}

/**
 * Streams: MEMORY USAGE's model (5 nodes sampled, plus the consumer groups). A
 * stream of many nodes reuses its per-node figure until the node count moves
 * 1/16 away, as large aggregates do: XADD runs this hook on every entry.
 */
function streamBytes(server: Server, s: StreamValue): number {
  const n = s.nodes.length;
  if (n <= 16) return valueSize(server, s, 5);
  const groups = streamGroupsSize(s);
  return perUnit(s, n, () => (valueSize(server, s, 5) - groups) / n) * n + groups;
}

/** The accounted size of one key: its name, its dictEntry and its value. At least 1 (0 means "not counted"). */
export function keyBytes(server: Server, key: string, v: Value): number {
  const n = Math.round(sdsSize(key.length) + DICT_ENTRY + valueBytes(server, v));
  return n < 1 ? 1 : n > 0xffffffff ? 0xffffffff : n;
}

/**
 * keyBytes of a key holding a plain JS string, without the generic dispatch:
 * key sds + dictEntry + the string object as MEMORY USAGE models it (shared
 * integer: the robj only; embstr up to 44 bytes: one allocation; else robj + sds).
 */
export function plainStringKeyBytes(keyLen: number, v: string): number {
  const len = v.length;
  const value =
    len <= 20 && parseInt64(v) !== null ? ROBJ : len <= EMBSTR_LIMIT ? jemallocSize(ROBJ + 3 + len + 1) : ROBJ + sdsSize(len);
  const n = sdsSize(keyLen) + DICT_ENTRY + value;
  return n > 0xffffffff ? 0xffffffff : n;
}

/** Strings up to this length are embstr-encoded (one allocation with their robj). */
const EMBSTR_LIMIT = 44;

type Table = Database['keys'];

/** Counts the keys of a table that have no figure yet (loaded behind the hooks' back). */
function countMissing(server: Server, t: Table): void {
  const ev = t.evict;
  for (let i = 0; i < t.size; i++) if (ev[2 * i + 1] === 0) t.account(i, keyBytes(server, t.keys[i], t.vals[i]));
}

/**
 * The memory figure maxmemory is compared with and INFO reports as
 * used_memory (see the file comment). O(dbs): the per-key figures are kept
 * up to date by the accounting hook.
 */
export function accountedMemory(server: Server): number {
  let used = REDIS_STARTUP_BYTES;
  let growing = false;
  for (const db of server.dbs) {
    const t = db.keys;
    const n = t.size;
    if (n === 0) continue;
    if (t.accountedKeys !== n) countMissing(server, t);
    used += t.accountedBytes + PTR * currentSlots(t, n);
    if (n > (tableSlots.get(t) ?? 0)) growing = true;
    const e = db.expires.size;
    if (e !== 0) {
      used += DICT_ENTRY * e + PTR * currentSlots(db.expires, e);
      if (e > (tableSlots.get(db.expires) ?? 0)) growing = true;
    }
  }
  if (!growing) return used;
  // Tables that outgrew their buckets double them, unless that would cross maxmemory (below).
  const max = server.config.maxmemory;
  for (const db of server.dbs) {
    for (const t of [db.keys, db.expires] as Array<DenseMap<unknown>>) {
      const n = t.size;
      const slots = tableSlots.get(t) ?? 0;
      if (n === 0 || n <= slots) continue;
      const next = buckets(n);
      if (max !== 0 && n / slots <= MAX_LOAD_FACTOR && used + evictionClientMemory(server) + PTR * next > max) continue;
      used += PTR * (next - slots);
      tableSlots.set(t, next);
    }
  }
  return used;
}

/**
 * Buckets of each db's main and expires tables, as Redis's dicts size them:
 * doubled when a table outgrows them, but not while the new table would take
 * used memory past maxmemory, unless it holds more than 1.618 keys per bucket
 * (dictExpandAllowed: the eviction that would follow could empty the db);
 * shrunk to fit when under 10% full (the cron's tryResizeHashTables).
 */
const tableSlots = new WeakMap<object, number>();
const MAX_LOAD_FACTOR = 1.618;

/** The table's buckets before any growth (see tableSlots): a fresh table is sized to fit; an emptied one shrinks. */
function currentSlots(t: object, n: number): number {
  const slots = tableSlots.get(t);
  if (slots === undefined || (slots > 4 && n * 10 < slots)) {
    const fit = buckets(n);
    tableSlots.set(t, fit);
    return fit;
  }
  return slots;
}

/** The modelled bucket count of a db table holding n keys (INFO and MEMORY STATS overheads). */
export function modelledSlots(t: object, n: number): number {
  return tableSlots.get(t) ?? buckets(n);
}

// ---- the candidate pool -----------------------------------------------------------------

/**
 * Adds a key to the pool if it beats the worst candidate (Redis's
 * evictionPoolPopulate insertion): the pool stays sorted by ascending idle
 * score, so the best candidate is the rightmost one.
 */
function poolInsert(st: EvictionState, idle: number, key: string, dbid: number): void {
  const keys = st.poolKey;
  const idles = st.poolIdle;
  const dbs = st.poolDb;
  for (let j = 0; j < POOL_SIZE && keys[j] !== null; j++) if (keys[j] === key && dbs[j] === dbid) return;
  let k = 0;
  while (k < POOL_SIZE && keys[k] !== null && idles[k] < idle) k++;
  // Worse than every candidate of a full pool.
  if (k === 0 && keys[POOL_SIZE - 1] !== null) return;
  if (k < POOL_SIZE && keys[k] === null) {
    // An empty slot: take it.
  } else if (keys[POOL_SIZE - 1] === null) {
    // Room at the end: shift the better ones right.
    for (let j = POOL_SIZE - 1; j > k; j--) {
      keys[j] = keys[j - 1];
      idles[j] = idles[j - 1];
      dbs[j] = dbs[j - 1];
    }
  } else {
    // Full: drop the worst (leftmost) one, shifting the worse ones left.
    k--;
    for (let j = 0; j < k; j++) {
      keys[j] = keys[j + 1];
      idles[j] = idles[j + 1];
      dbs[j] = dbs[j + 1];
    }
  }
  keys[k] = key;
  idles[k] = idle;
  dbs[k] = dbid;
}

/** Samples `maxmemory-samples` keys of a db into the pool, scored by the policy (higher = evict first). */
function poolPopulate(server: Server, st: EvictionState, db: Database, sampled: DenseMap<unknown>): void {
  const keys = db.keys;
  const now = server.clock.now();
  const nowSec = Math.floor(now / 1000);
  const nowMin = lfuMinutes(now);
  for (let s = 0; s < st.samples; s++) {
    const p = sampled.randomIndex();
    if (p < 0) return;
    const key = sampled.keys[p];
    let idle: number;
    if (st.policy.kind === Kind.Ttl) {
      // The sooner it expires, the better a candidate.
      idle = Number.MAX_SAFE_INTEGER - (sampled.vals[p] as number);
    } else {
      const i = sampled === (keys as DenseMap<unknown>) ? p : keys.find(key);
      if (i < 0) continue;
      if (st.policy.kind === Kind.Lru) idle = (nowSec - keys.access[i]) * 1000;
      else idle = 255 - lfuDecayed(keys.evict[2 * i], nowMin, st.decayTime);
    }
    poolInsert(st, idle, key, db.id);
  }
}

/** The next key to evict under an LRU/LFU/TTL policy, or null when there is none. */
function poolVictim(server: Server, st: EvictionState): [Database, string] | null {
  const keys = st.poolKey;
  for (;;) {
    let total = 0;
    for (const db of server.dbs) {
      const sampled: DenseMap<unknown> = st.policy.allKeys ? db.keys : db.expires;
      if (sampled.size === 0) continue;
      poolPopulate(server, st, db, sampled);
      total += sampled.size;
    }
    if (total === 0) return null;
    // The best candidate that still exists (pool entries can be stale).
    for (let k = POOL_SIZE - 1; k >= 0; k--) {
      const key = keys[k];
      if (key === null) continue;
      const db = server.dbs[st.poolDb[k]];
      keys[k] = null;
      st.poolIdle[k] = 0;
      const present = st.policy.allKeys ? db.keys.has(key) : db.expires.has(key);
      if (present) return [db, key];
    }
  }
}

/** The next key to evict under a random policy: a random key of the next db that has one. */
function randomVictim(server: Server, st: EvictionState): [Database, string] | null {
  const dbs = server.dbs;
  for (let n = 0; n < dbs.length; n++) {
    const db = dbs[st.nextDb++ % dbs.length];
    const sampled: DenseMap<unknown> = st.policy.allKeys ? db.keys : db.expires;
    const p = sampled.randomIndex();
    if (p >= 0) return [db, sampled.keys[p]];
  }
  return null;
}

// ---- eviction ---------------------------------------------------------------------------

export const enum EvictResult {
  /** Under maxmemory (or eviction does not apply now). */
  Ok,
  /** Still above, the time budget ran out: eviction goes on in the background. */
  Running,
  /** Above maxmemory and nothing can be evicted. */
  Fail,
}

/** Removes one key as Redis evicts it: delete (signals WATCH/tracking), count, notify, propagate. */
function evictKey(server: Server, st: EvictionState, db: Database, key: string): void {
  const start = performance.now();
  if (st.lazy) freeValueAsync(server, db.peek(key));
  db.delete(key);
  latencyAddSampleIfNeeded(server, 'eviction-del', Math.floor(performance.now() - start));
  server.stats.evictedKeys++;
  server.notifier.notify('e', 'evicted', key, db.id);
  server.propagateNow(db.id, [st.lazy ? 'UNLINK' : 'DEL', key]);
}

/**
 * Redis's performEvictions: evicts keys until used memory fits maxmemory,
 * within the time budget of maxmemory-eviction-tenacity.
 */
export function performEvictions(server: Server): EvictResult {
  const st = stateOf(server);
  const max = server.config.maxmemory;
  if (max === 0 || st.ignoreMaxmemory || isEvictionPaused(server)) return EvictResult.Ok;
  return trackExceeded(st, evictDownTo(server, st, max));
}

/** Redis's update_metrics step: times the spells spent above maxmemory. */
function trackExceeded(st: EvictionState, result: EvictResult): EvictResult {
  if (result !== EvictResult.Ok) {
    if (st.exceededSince === null) st.exceededSince = performance.now();
  } else if (st.exceededSince !== null) {
    st.exceededTotal += performance.now() - st.exceededSince;
    st.exceededSince = null;
  }
  return result;
}

/** What maxmemory is compared with: the dataset model plus the client buffers Redis counts (as last measured). */
function evictionMemory(server: Server): number {
  return accountedMemory(server) + evictionClientMemory(server);
}

function evictDownTo(server: Server, st: EvictionState, max: number): EvictResult {
  let used = evictionMemory(server);
  if (used <= max) return EvictResult.Ok;
  if (st.policy.kind === Kind.None) return EvictResult.Fail;
  const start = performance.now();
  let evicted = 0;
  let result = EvictResult.Ok;
  while (used > max) {
    const victim = st.policy.kind === Kind.Random ? randomVictim(server, st) : poolVictim(server, st);
    if (victim === null) {
      result = EvictResult.Fail;
      break;
    }
    evictKey(server, st, victim[0], victim[1]);
    used = evictionMemory(server);
    // Every 16 keys, check the time budget; past it, go on in the background.
    if (++evicted % 16 === 0 && performance.now() - start > st.budgetMs) {
      if (used > max) {
        result = EvictResult.Running;
        startBackgroundEviction(server, st);
      }
      break;
    }
  }
  latencyAddSampleIfNeeded(server, 'eviction-cycle', Math.floor(performance.now() - start));
  return result;
}

/** Redis's evictionTimeProc: keep evicting between events until memory fits. */
function startBackgroundEviction(server: Server, st: EvictionState): void {
  if (st.backgroundRun) return;
  st.backgroundRun = true;
  const step = (): void => {
    if (server.shuttingDown || performEvictions(server) !== EvictResult.Running) st.backgroundRun = false;
    else setImmediate(step);
    // Invalidations (client tracking) and keyspace events of these evictions go out before
    // the next commands run, as Redis's beforeSleep writes them after its time events: left
    // in the clients' buffers, they would count as client memory and make the next command
    // evict more keys (a feedback loop).
    existingPubSub(server)?.flushPendingNow();
  };
  setImmediate(step);
}

/** Commands that run even out of memory inside MULTI (everything else there would be queued). */
const MULTI_ALLOWED_ON_OOM = new Set(['exec', 'discard', 'quit', 'reset']);

function isDenyoom(c: Client, cmd: Command, argv: string[]): boolean {
  if ((effectiveCommandFlags(c, cmd, argv) & CMD_DENYOOM) !== 0) return true;
  // EXEC is denied when it would run a command that is.
  if (cmd.fullName === 'exec' && c.multi !== null) {
    for (const q of c.multi.queue) if ((effectiveCommandFlags(c, q.cmd, q.argv) & CMD_DENYOOM) !== 0) return true;
  }
  return false;
}

/**
 * The dispatcher's maxmemory step (Server.execute, when maxmemory is set):
 * evicts what it must, then says whether the command may run. False means
 * reply OOM_ERROR: eviction could not make room and the command needs memory
 * (a denyoom command, EXEC of one, or anything queued into a MULTI).
 */
export function admitUnderMaxmemory(server: Server, c: Client, cmd: Command, argv: string[]): boolean {
  const oom = performEvictions(server) === EvictResult.Fail;
  stateOf(server).preCommandOom = oom;
  if (!oom) return true;
  if (c.multi !== null && !MULTI_ALLOWED_ON_OOM.has(cmd.fullName)) return false;
  return !isDenyoom(c, cmd, argv);
}

/**
 * Whether the running command started out of memory. Scripts check it before
 * each denyoom command they call (unless the script allows OOM), as Redis's
 * scriptCall does with pre_command_oom_state.
 */
export function startedOutOfMemory(server: Server): boolean {
  return server.config.maxmemory !== 0 && stateOf(server).preCommandOom;
}

// ---- OBJECT FREQ and persistence helpers ------------------------------------------------------

/** OBJECT FREQ: the key's decayed LFU counter (not stored, as Redis's LFUDecrAndReturn). */
export function lfuFrequency(server: Server, db: Database, key: string): number {
  const st = stateOf(server);
  const i = db.keys.find(key);
  if (i < 0) return 0;
  return lfuDecayed(db.keys.evict[2 * i], lfuMinutes(server.clock.now()), st.decayTime);
}

/** Sets a key's LFU counter (an RDB's FREQ opcode, RESTORE ... FREQ), stamped now. */
export function setLfuFrequency(server: Server, db: Database, key: string, freq: number): void {
  const i = db.keys.find(key);
  if (i < 0) return;
  db.keys.evict[2 * i] = (lfuMinutes(server.clock.now()) << 8) | Math.max(0, Math.min(255, freq));
}

/** Whether the policy keeps LFU counters (OBJECT FREQ allowed, IDLETIME refused). */
export function isLfuPolicy(server: Server): boolean {
  return stateOf(server).policy.kind === Kind.Lfu;
}
