/**
 * MEMORY USAGE's size model, MEMORY STATS, MEMORY DOCTOR and MEMORY MALLOC-STATS.
 *
 * ## The size model (MEMORY USAGE)
 *
 * Mnemo's own objects live in the V8 heap, whose per-object cost is neither
 * stable nor observable per key. MEMORY USAGE therefore answers what Redis
 * 7.0.15 (with jemalloc 5.3, as Debian builds it) would use for the same key
 * and value, computed from the value's contents with Redis's data layouts and
 * allocator size classes. It is deterministic: the same data gives the same
 * figure. Every figure is
 *
 *     value size + sds(key) + 24 (the main dictionary's dictEntry)
 *
 * with these building blocks:
 *
 *   class(n)   jemalloc's size class for n bytes: 8, then multiples of 16 up to
 *              128, then four classes per power of two (160, 192, 224, 256,
 *              320, ..., 1024, 1280, ...).
 *   sds(len)   class(header + len + 1); header 1 byte below 32 bytes (3 for the
 *              empty string), 3 below 256, 5 below 64 KB, 9 below 4 GB, else 17.
 *   lp(items)  a listpack: 6-byte header, each entry (integer encodings of 1, 2,
 *              3, 4, 5 or 9 bytes for canonical integers; otherwise 1, 2 or 5
 *              length bytes + the string) plus its 1-5 back-length bytes, and
 *              a 1-byte terminator; it costs class(total).
 *   robj       16 bytes (the value object header).
 *
 * Per type and encoding:
 *
 *   string int      16
 *   string embstr   class(16 + 3 + len + 1)                 (len <= 44)
 *   string raw      16 + sds(len); for strings grown in place (APPEND,
 *                   SETRANGE, SETBIT) sds of the current capacity, which grows
 *                   like sds does (doubling below 1 MB).
 *   list quicklist  16 + 40 + nodes * (40 + class(listpack of the node)); the
 *                   elements are packed into nodes from head to tail as RPUSH
 *                   would pack them under list-max-listpack-size (uncompressed).
 *   hash listpack   16 + class(lp(field, value, ...))
 *   hash hashtable  16 + 56 + 8 * slots + n * (24 + sds(field) + sds(value))
 *   set intset      16 + class(8 + width * n), width 2, 4 or 8 bytes
 *   set hashtable   16 + 56 + 8 * slots + n * (24 + sds(member))
 *   zset listpack   16 + class(lp(member, score, ...)), scores written as Redis
 *                   writes them (integers as integers, else %.17g)
 *   zset skiplist   16 + 16 + 32 + 56 + 8 * slots + 640 (skiplist header)
 *                   + n * (sds(member) + 24 + 53.34), the last figure being the
 *                   expected jemalloc size of a skiplist node whose level is
 *                   drawn with p = 1/4 (Redis draws it at random).
 *   stream          16 + 80 + rax(nodes) + listpacks + groups, where a node's
 *                   listpack costs class(its bytes), the open tail node at least
 *                   the 4096 bytes Redis preallocates (stream-node-max-bytes if
 *                   smaller), a radix tree of k keys 16k + 244 per rax node
 *                   (1 node when empty, 2 for one key, 2k + 2 beyond), each group
 *                   40 + rax(PEL) + 24 per pending entry, each consumer 24 +
 *                   name length + rax(its PEL).
 *
 * Hash tables ("slots") have a power-of-two size of at least 4 that doubles
 * when an insertion finds it full. Redis then rehashes incrementally, one
 * bucket per operation, and both tables exist meanwhile: we count the old
 * table too until the insertions since the growth reach the expected number
 * of non-empty buckets (63% of the old size). Hashes and sets converted from
 * listpack/intset because they outgrew the entry limit start with a table
 * sized for their entries, no rehash in flight.
 *
 * Like Redis, aggregates are sampled: SAMPLES elements (default 5, 0 = all)
 * give the average element cost, multiplied by the element count. Redis takes
 * the first ones in its table order, which amounts to random ones; we take
 * pseudo-random ones from a generator seeded by the element count, so the
 * figure is deterministic. Lists are sampled by quicklist node: a list that fits in
 * SAMPLES nodes is measured exactly, a longer one from SAMPLES nodes packed at
 * evenly spaced positions. Listpack-encoded values are always measured whole.
 *
 * Tolerance against redis-server 7.0.15 is checked in
 * test/client/observability.test.ts: strings, intsets and listpacks match
 * exactly; hash tables, quicklists and streams within a few percent (Redis's
 * own figures there depend on rehash timing, random skiplist levels and radix
 * tree shapes).
 *
 * ## MEMORY STATS / DOCTOR
 *
 * The figures are INFO memory's: total, peak, startup, overhead and dataset
 * come from the model maxmemory uses (src/server/eviction.ts; INFO's
 * used_memory), allocator and RSS figures from V8 / process.memoryUsage().
 * MEMORY DOCTOR's RSS check compares the RSS with the V8 heap, the
 * process's real allocations, rather than with the model.
 */
import v8 from 'node:v8';
import type { Server } from '../server/server.js';
import { MutableString, isString, typeOf, type Value } from '../data/values.js';
import { ListValue } from '../data/list.js';
import { HashValue } from '../data/hash.js';
import { SetValue } from '../data/set.js';
import { ZSetValue } from '../data/zset.js';
import { StreamValue } from '../data/stream.js';
import { encodingOf } from '../commands/keys.js';
import { formatDouble17g } from '../util/numbers.js';
import { dbOverheads, sectionFields } from './info.js';

// ---- building blocks -------------------------------------------------------------------

const ROBJ = 16;
const DICT_ENTRY = 24;
const DICT = 56;
const PTR = 8;
const QUICKLIST = 40;
const QUICKLIST_NODE = 40;
const ZSET = 16;
const ZSKIPLIST = 32;
/** class(24 + 32 levels * 16): the skiplist header node. */
const ZSKIPLIST_HEADER = 640;
/** Expected class() of a skiplist node of random level (P(level k) = 3/4 * (1/4)^(k-1)). */
const ZSKIPLIST_NODE_AVG = expectedSkiplistNode();
const STREAM = 80;
const STREAM_ID = 16;
const RAX_NODE = 4 + 8 * 30;
const STREAM_CG = 40;
const STREAM_NACK = 24;
const STREAM_CONSUMER = 24;
const STREAM_PREALLOC = 4096;
const DEFAULT_SAMPLES = 5;
/** Non-empty buckets of a table holding as many keys as buckets: 1 - 1/e. */
const NONEMPTY_RATIO = 0.632;

function expectedSkiplistNode(): number {
  let e = 0;
  let p = 0.75;
  for (let level = 1; level <= 32; level++) {
    e += p * jemallocSize(24 + 16 * level);
    p /= 4;
  }
  return e;
}

/** jemalloc's size class for an allocation of n bytes. */
export function jemallocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  // Four classes per power of two: spacing 2^(floor(log2(n - 1)) - 2). clz32 instead of
  // Math.log2: the accounting hook calls this on every write.
  const spacing = n <= 0x7fffffff ? 2 ** (29 - Math.clz32(n - 1)) : 2 ** Math.floor(Math.log2(n - 1)) / 4;
  return Math.ceil(n / spacing) * spacing;
}

function sdsHeader(len: number): number {
  if (len < 32) return len === 0 ? 3 : 1;
  if (len < 256) return 3;
  if (len < 65536) return 5;
  if (len < 2 ** 32) return 9;
  return 17;
}

/** Allocation of an sds string of `len` bytes with no spare room. */
export function sdsSize(len: number): number {
  return jemallocSize(sdsHeader(len) + len + 1);
}

/** Canonical int64 text (Redis's string2ll): no '+', no leading zeros, no "-0". */
function canonicalInt(s: string): bigint | null {
  if (s.length === 0 || s.length > 20 || !/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : null;
}

/** Bytes of one listpack entry: encoding + data, plus its back-length. */
export function listpackEntrySize(s: string): number {
  let enc: number;
  const n = s.length <= 20 ? canonicalInt(s) : null;
  if (n !== null) {
    if (n >= 0n && n <= 127n) enc = 1;
    else if (n >= -4096n && n <= 4095n) enc = 2;
    else if (n >= -32768n && n <= 32767n) enc = 3;
    else if (n >= -8388608n && n <= 8388607n) enc = 4;
    else if (n >= -2147483648n && n <= 2147483647n) enc = 5;
    else enc = 9;
  } else if (s.length < 64) enc = 1 + s.length;
  else if (s.length < 4096) enc = 2 + s.length;
  else enc = 5 + s.length;
  const back = enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5;
  return enc + back;
}

/** Header (6) and terminator (1) of a listpack. */
const LP_EMPTY = 7;

/** How Redis writes a zset score into a listpack (d2string). */
function scoreText(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  if (d > -4503599627370495 && d < 4503599627370496 && Number.isInteger(d)) return String(d);
  return formatDouble17g(d);
}

function nextPow2(n: number): number {
  let p = 4;
  while (p < n) p *= 2;
  return p;
}

/**
 * Buckets of a dict holding n entries that grew by insertion (see the file
 * comment), or that was converted at `convertedAt` entries and sized for them.
 */
export function dictSlots(n: number, convertedAt = 0): number {
  const size = nextPow2(n);
  if (convertedAt > 0 && size === nextPow2(convertedAt)) return size;
  if (size <= 4) return size;
  const old = size / 2;
  const rehashSteps = n - old - 1;
  return rehashSteps < NONEMPTY_RATIO * old ? size + old : size;
}

// ---- per type --------------------------------------------------------------------------

function sampleCount(samples: number, n: number): number {
  return samples === 0 || samples > n ? n : samples;
}

function stringSize(v: string | MutableString): number {
  if (v instanceof MutableString) return ROBJ + jemallocSize(sdsHeader(v.buf.length) + v.buf.length + 1);
  const enc = encodingOf(v);
  if (enc === 'int') return ROBJ;
  if (enc === 'embstr') return jemallocSize(ROBJ + 3 + v.length + 1);
  return ROBJ + sdsSize(v.length);
}

/** Quicklist fill limits: negative fill caps node bytes (-1: 4 KB .. -5: 64 KB), positive caps entries. */
const OPTIMIZATION_LEVEL = [4096, 8192, 16384, 32768, 65536];
const SIZE_SAFETY_LIMIT = 8192;

/** _quicklistNodeAllowInsert: may an element of `sz` bytes join a node of `nodeBytes` and `count`? */
function quicklistAllows(nodeBytes: number, count: number, sz: number, fill: number): boolean {
  const overhead = (sz < 254 ? 1 : 5) + (sz < 64 ? 1 : sz < 16384 ? 2 : 5);
  const next = nodeBytes + sz + overhead;
  if (fill < 0) {
    if (next <= OPTIMIZATION_LEVEL[Math.min(-fill, 5) - 1]) return true;
  }
  if (next > SIZE_SAFETY_LIMIT) return false;
  return count < fill;
}

/** A quicklist node packed greedily from element `from`: [listpack bytes, elements]. */
function packNode(l: ListValue, from: number, fill: number): [number, number] {
  let bytes = LP_EMPTY;
  let count = 0;
  for (let i = from; i < l.length; i++) {
    const e = l.at(i);
    if (count > 0 && !quicklistAllows(bytes, count, e.length, fill)) break;
    bytes += listpackEntrySize(e);
    count++;
  }
  return [bytes, count];
}

function listSize(server: Server, l: ListValue, samples: number): number {
  const n = l.length;
  if (n === 0) return ROBJ + QUICKLIST;
  const fill = Math.max(-5, server.config.listMaxListpackSize);
  // Pack from the head: a list that fits in `samples` nodes is measured exactly.
  let nodes = 0;
  let bytes = 0;
  let at = 0;
  while (at < n && (samples === 0 || nodes < samples)) {
    const [b, count] = packNode(l, at, fill);
    bytes += QUICKLIST_NODE + jemallocSize(b);
    nodes++;
    at += count;
  }
  if (at === n) return ROBJ + QUICKLIST + bytes;
  // Otherwise sample `samples` nodes spread evenly over the list (the head alone
  // may not be typical), and extrapolate the node count from their fill.
  let sampled = 0;
  let items = 0;
  for (let j = 0; j < samples; j++) {
    const [b, count] = packNode(l, Math.floor((j * n) / samples), fill);
    sampled += QUICKLIST_NODE + jemallocSize(b);
    items += count;
  }
  const total = Math.ceil(n / (items / samples));
  return Math.floor(ROBJ + QUICKLIST + (sampled / samples) * total);
}

/**
 * Positions of the elements to sample: all, or `samples` distinct pseudo-random
 * ones (xorshift seeded by the size). Redis's "first in table order" amounts to
 * random elements; a fixed seed keeps our figure deterministic, and unlike evenly
 * spaced positions it does not alias with periodic data.
 */
function samplePositions(samples: number, n: number): number[] {
  const k = sampleCount(samples, n);
  const out: number[] = [];
  if (k === n) {
    for (let j = 0; j < n; j++) out.push(j);
    return out;
  }
  let x = Math.imul(n, 0x9e3779b1) >>> 0 || 1;
  const seen = new Set<number>();
  while (out.length < k) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const pos = x % n;
    if (seen.has(pos)) continue;
    seen.add(pos);
    out.push(pos);
  }
  return out;
}

function hashSize(server: Server, h: HashValue, samples: number): number {
  const n = h.size;
  if (h.encoding() === 'listpack') {
    let bytes = LP_EMPTY;
    h.forEach((f, v) => {
      bytes += listpackEntrySize(f) + listpackEntrySize(v);
    });
    return ROBJ + jemallocSize(bytes);
  }
  const idx = h.index();
  const positions = samplePositions(samples, n);
  const k = positions.length;
  let elements = 0;
  let short = true;
  const maxValue = server.config.getNumber('hash-max-listpack-value');
  for (const i of positions) {
    const f = idx.field(i);
    const v = idx.value(i);
    if (f.length > maxValue || v.length > maxValue) short = false;
    elements += DICT_ENTRY + sdsSize(f.length) + sdsSize(v.length);
  }
  // Short fields and values: the hash most likely outgrew the entry limit and was converted then.
  const convertedAt = short ? server.config.getNumber('hash-max-listpack-entries') + 1 : 0;
  const avg = k === 0 ? 0 : elements / k;
  return Math.floor(ROBJ + DICT + PTR * dictSlots(n, convertedAt) + avg * n);
}

function setSize(server: Server, s: SetValue, samples: number): number {
  const n = s.size;
  if (s.encoding() === 'intset') {
    let width = 2;
    s.forEach((m) => {
      const v = Number(m);
      if (v < -2147483648 || v > 2147483647) width = 8;
      else if ((v < -32768 || v > 32767) && width < 4) width = 4;
    });
    return ROBJ + jemallocSize(8 + width * n);
  }
  const positions = samplePositions(samples, n);
  const k = positions.length;
  let elements = 0;
  let ints = true;
  for (const i of positions) {
    const m = s.memberAt(i);
    if (canonicalInt(m) === null) ints = false;
    elements += DICT_ENTRY + sdsSize(m.length);
  }
  // Integer members: the set most likely was an intset that outgrew set-max-intset-entries.
  const convertedAt = ints ? server.config.getNumber('set-max-intset-entries') + 1 : 0;
  const avg = k === 0 ? 0 : elements / k;
  return Math.floor(ROBJ + DICT + PTR * dictSlots(n, convertedAt) + avg * n);
}

function zsetSize(z: ZSetValue, samples: number): number {
  const n = z.size;
  if (z.encoding() === 'listpack') {
    let bytes = LP_EMPTY;
    z.forEach((m, score) => {
      bytes += listpackEntrySize(m) + listpackEntrySize(scoreText(score));
    });
    return ROBJ + jemallocSize(bytes);
  }
  const positions = samplePositions(samples, n);
  const k = positions.length;
  let elements = 0;
  for (const i of positions) elements += sdsSize(z.memberAt(i).length) + DICT_ENTRY + ZSKIPLIST_NODE_AVG;
  const avg = k === 0 ? 0 : elements / k;
  const fixed = ROBJ + ZSET + ZSKIPLIST + DICT + PTR * dictSlots(n) + ZSKIPLIST_HEADER;
  return Math.floor(fixed + avg * n);
}

/**
 * streamRadixTreeMemoryUsage for a tree of k stream IDs, with our estimate of
 * its node count: about two nodes per key (a compressed tail and a leaf) plus
 * the shared prefix and a branch; Redis's trees of time-based IDs have 1.8 to
 * 2 nodes per key, of IDs spread far apart up to 2.5.
 */
function raxSize(k: number): number {
  const nodes = k === 0 ? 1 : k === 1 ? 2 : 2 * k + 2;
  return k * STREAM_ID + nodes * RAX_NODE;
}

function streamSize(server: Server, s: StreamValue, samples: number): number {
  let size = ROBJ + STREAM + raxSize(s.nodes.length);
  const maxBytes = server.config.getNumber('stream-node-max-bytes');
  const maxEntries = server.config.getNumber('stream-node-max-entries');
  const prealloc = maxBytes > 0 && maxBytes < STREAM_PREALLOC ? maxBytes : STREAM_PREALLOC;
  const nodes = s.nodes;
  const last = nodes.length - 1;
  // A node closed because it reached max entries was shrunk to fit; the others keep their preallocation.
  const nodeSize = (i: number): number => {
    const node = nodes[i];
    const shrunk = i !== last && maxEntries > 0 && node.count >= maxEntries;
    return jemallocSize(shrunk ? node.lpBytes : Math.max(node.lpBytes, prealloc));
  };
  const k = sampleCount(samples, nodes.length);
  let lpsize = 0;
  for (let i = 0; i < k; i++) lpsize += nodeSize(i);
  if (nodes.length <= k) size += lpsize;
  else size += Math.floor(lpsize / k) * last + nodeSize(last);
  return size + streamGroupsSize(s);
}

/** The consumer groups' part of a stream's modelled size (PELs and consumers). */
export function streamGroupsSize(s: StreamValue): number {
  let size = 0;
  for (const g of s.groups.values()) {
    size += STREAM_CG + raxSize(g.pel.size) + STREAM_NACK * g.pel.size;
    for (const c of g.consumers.values()) size += STREAM_CONSUMER + c.name.length + raxSize(c.pel.size);
  }
  return size;
}

/** The value's modelled size (objectComputeSize). */
export function valueSize(server: Server, v: Value, samples: number): number {
  if (isString(v)) return stringSize(v);
  switch (typeOf(v)) {
    case 'list':
      return listSize(server, v as ListValue, samples);
    case 'hash':
      return hashSize(server, v as HashValue, samples);
    case 'set':
      return setSize(server, v as SetValue, samples);
    case 'zset':
      return zsetSize(v as ZSetValue, samples);
    case 'stream':
      return streamSize(server, v as StreamValue, samples);
    default:
      return ROBJ;
  }
}

/** MEMORY USAGE's figure for a key: value, key sds, and its dictEntry in the keyspace. */
export function keyMemoryUsage(server: Server, key: string, v: Value, samples = DEFAULT_SAMPLES): number {
  return valueSize(server, v, samples) + sdsSize(key.length) + DICT_ENTRY;
}

export { DEFAULT_SAMPLES };

// ---- MEMORY STATS ------------------------------------------------------------------------

/** Process figures at install time: MEMORY DOCTOR judges growth against them. */
export interface MemoryBaseline {
  /** RSS without V8's young generation, whose semi-spaces are reserved by design. */
  rss: number;
  used: number;
}

/** Physical size of V8's young generation (new space). */
function newSpaceBytes(): number {
  let n = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name.startsWith('new_')) n += s.physical_space_size;
  return n;
}

/** Reserved and used bytes of V8's old-generation spaces (where long-lived data lives). */
function oldGeneration(): { reserved: number; used: number } {
  let reserved = 0;
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name.startsWith('new_') || s.space_name.startsWith('read_only')) continue;
    reserved += s.space_size;
    used += s.space_used_size;
  }
  return { reserved, used };
}

export function takeBaseline(): MemoryBaseline {
  const m = process.memoryUsage();
  return { rss: m.rss - newSpaceBytes(), used: m.heapUsed + m.external };
}

export interface DbOverhead {
  id: number;
  main: number;
  expires: number;
}

export interface MemoryOverview {
  peak: number;
  total: number;
  startup: number;
  replBacklog: number;
  clientsReplicas: number;
  clientsNormal: number;
  clusterLinks: number;
  aofBuffer: number;
  luaCaches: number;
  functionsCaches: number;
  dbs: DbOverhead[];
  overheadTotal: number;
  keys: number;
  bytesPerKey: number;
  dataset: number;
  datasetPerc: number;
  peakPerc: number;
  allocatorAllocated: number;
  allocatorActive: number;
  allocatorResident: number;
  allocatorFragRatio: number;
  allocatorFragBytes: number;
  allocatorRssRatio: number;
  allocatorRssBytes: number;
  rssOverheadRatio: number;
  rssOverheadBytes: number;
  rss: number;
  fragmentation: number;
  fragmentationBytes: number;
  cachedScripts: number;
}

/** A C float divided as Redis does for its ratios (0 when the divisor is 0). */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : Math.fround(a / b);
}

/** getMemoryOverheadData: INFO memory's process figures plus the keyspace's modelled overhead. */
export function memoryOverview(server: Server): MemoryOverview {
  const info = new Map(sectionFields(server, 'memory'));
  const num = (k: string): number => Number(info.get(k) ?? 0);
  const total = num('used_memory');
  const startup = num('used_memory_startup');
  // INFO's used_memory_overhead already holds the per-db figures broken down here.
  const dbs: DbOverhead[] = dbOverheads(server);
  let keys = 0;
  for (const db of server.dbs) keys += db.size;
  const overheadTotal = num('used_memory_overhead');
  const net = total > startup ? total - startup : 0;
  const dataset = total - overheadTotal;
  const allocated = num('allocator_allocated');
  const active = num('allocator_active');
  const resident = num('allocator_resident');
  const rss = num('used_memory_rss');
  return {
    peak: num('used_memory_peak'),
    total,
    startup,
    replBacklog: num('mem_replication_backlog'),
    clientsReplicas: num('mem_clients_slaves'),
    clientsNormal: num('mem_clients_normal'),
    clusterLinks: num('mem_cluster_links'),
    aofBuffer: num('mem_aof_buffer'),
    luaCaches: num('used_memory_scripts_eval'),
    functionsCaches: num('used_memory_functions'),
    dbs,
    overheadTotal,
    keys,
    bytesPerKey: keys === 0 ? 0 : Math.floor(net / keys),
    dataset,
    datasetPerc: ratio(dataset * 100, net),
    peakPerc: ratio(total * 100, num('used_memory_peak')),
    allocatorAllocated: allocated,
    allocatorActive: active,
    allocatorResident: resident,
    allocatorFragRatio: ratio(active, allocated),
    allocatorFragBytes: active - allocated,
    allocatorRssRatio: ratio(resident, active),
    allocatorRssBytes: resident - active,
    rssOverheadRatio: ratio(rss, resident),
    rssOverheadBytes: rss - resident,
    rss,
    fragmentation: ratio(rss, total),
    fragmentationBytes: rss - total,
    cachedScripts: num('number_of_cached_scripts'),
  };
}

// ---- MEMORY DOCTOR -----------------------------------------------------------------------

const MB = 1024 * 1024;

/** The figures MEMORY DOCTOR judges. */
export interface DoctorFigures {
  /** used_memory and used_memory_startup / _peak (INFO memory). */
  total: number;
  startup: number;
  peak: number;
  /** Growth since start-up of the RSS (without V8's young generation) and of the V8 heap in use (plus external). */
  rssGrowth: number;
  usedGrowth: number;
  /** V8 old generation: reserved and used bytes. */
  oldReserved: number;
  oldUsed: number;
  clientsNormal: number;
  clients: number;
  cachedScripts: number;
}

export function doctorFigures(server: Server, baseline: MemoryBaseline): DoctorFigures {
  const m = memoryOverview(server);
  const old = oldGeneration();
  const p = process.memoryUsage();
  return {
    total: m.total,
    startup: m.startup,
    peak: m.peak,
    rssGrowth: m.rss - newSpaceBytes() - baseline.rss,
    // The RSS check compares the process with what the process allocated (V8), not with the model.
    usedGrowth: p.heapUsed + p.external - baseline.used,
    oldReserved: old.reserved,
    oldUsed: old.used,
    clientsNormal: m.clientsNormal,
    clients: server.clients.size,
    cachedScripts: m.cachedScripts,
  };
}

export function memoryDoctor(server: Server, baseline: MemoryBaseline): string {
  return doctorReport(doctorFigures(server, baseline));
}

/**
 * Redis's memory doctor, with its thresholds, applied to our figures. The
 * node process starts with several MB of V8 heap and tens of MB of RSS
 * (code, reserved heap) before holding any data, so "empty" and the RSS
 * check look at what the process gained since start-up, leaving out the
 * young generation that V8 reserves by design; jemalloc's fragmentation
 * checks become one check on V8's old generation (reserved vs. used).
 * Advice that holds for Mnemo keeps Redis's words; the rest says what to do here.
 */
export function doctorReport(f: DoctorFigures): string {
  const gained = f.total - f.startup;
  const issues: string[] = [];
  let empty = false;
  if (gained < 5 * MB) {
    empty = true;
  } else {
    if (f.peak / f.total > 1.5) {
      issues.push(
        ' * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n',
      );
    }
    if (f.usedGrowth > 0 && f.rssGrowth / f.usedGrowth > 1.4 && f.rssGrowth - f.usedGrowth > 10 * MB) {
      issues.push(
        ' * High total RSS: Since it started, this instance grew its Resident Set Size more than 1.4 times as much as the memory it actually uses (this means that the process holds much more memory than the sum of the logical allocations Mnemo performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or to garbage the V8 heap has not given back to the system yet. If the problem is a large peak memory, then there is no issue. Otherwise, try the MEMORY PURGE command, which runs a full garbage collection.\n\n',
      );
    }
    if (f.oldUsed > 0 && f.oldReserved / f.oldUsed > 1.1 && f.oldReserved - f.oldUsed > 10 * MB) {
      issues.push(
        ' * High heap fragmentation: The old generation of the V8 heap reserves more than 1.1 times the memory it holds. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that creates and drops many objects. V8 compacts its heap during full garbage collections; you can try the MEMORY PURGE command.\n\n',
      );
    }
    if (f.clients > 0 && f.clientsNormal / f.clients > 200 * 1024) {
      issues.push(
        ' * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n',
      );
    }
    if (f.cachedScripts > 1000) {
      issues.push(
        " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n",
      );
    }
  }
  if (empty) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
  }
  if (issues.length === 0) {
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  }
  return (
    'Sam, I detected a few issues in this Redis instance memory implants:\n\n' +
    issues.join('') +
    "I'm here to keep you safe, Sam. I want to help you.\n"
  );
}

// ---- MEMORY MALLOC-STATS -------------------------------------------------------------------

/** What stands in for jemalloc's statistics: V8's heap spaces, honestly labelled. */
export function mallocStats(): string {
  const pad = (s: string | number, n: number): string => String(s).padStart(n);
  let out = '___ Begin V8 heap statistics ___\n';
  out += `Mnemo does not use jemalloc: its memory is managed by V8 ${process.versions.v8} (Node.js ${process.version}).\n`;
  out += 'space                          size        used   available    physical\n';
  for (const s of v8.getHeapSpaceStatistics()) {
    out +=
      s.space_name.padEnd(24) +
      pad(s.space_size, 12) +
      pad(s.space_used_size, 12) +
      pad(s.space_available_size, 12) +
      pad(s.physical_space_size, 12) +
      '\n';
  }
  const m = process.memoryUsage();
  out += `external (Buffers): ${m.external} bytes, of which array buffers: ${m.arrayBuffers} bytes\n`;
  out += `resident set size: ${m.rss} bytes\n`;
  out += '--- End V8 heap statistics ---\n';
  return out;
}
