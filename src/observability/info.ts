/**
 * INFO: the section builders, in Redis 7.0.15's field names and order.
 *
 * Each section is a list of [field, value] pairs. Where Mnemo has the real
 * figure we report it; fields that describe machinery Mnemo does not have
 * (fork, jemalloc, io-threads, ...) keep Redis's idle value so that tools that
 * parse INFO find every field they expect. Modules that arrive later
 * (persistence, replication, pub/sub, tracking, cluster, latency) install a
 * SectionProvider that rewrites their section's fields (setInfoProvider).
 *
 * Rates (instantaneous_ops_per_sec, *_kbps) come from sampleInfoMetrics(),
 * which the server cron calls every tick.
 */
import os from 'node:os';
import path from 'node:path';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { formatFixed } from '../util/numbers.js';
import { accountedMemory, modelledSlots, REDIS_STARTUP_BYTES } from '../server/eviction.js';
import { clientIntrospection, clientMemoryUsage, clientOverheadBytes, partialArgvMemory } from '../commands/client.js';
import { randomHex } from '../util/random-hex.js';

export type InfoValue = string | number;
export type InfoFields = Array<[string, InfoValue]>;
/** Receives the default fields of a section and returns the fields to print. */
export type SectionProvider = (server: Server, fields: InfoFields) => InfoFields;

interface SectionDef {
  name: string;
  title: string;
  build: (server: Server) => InfoFields;
  /** Part of plain `INFO` / `INFO default`. */
  isDefault: boolean;
}

// ---- per-server state: samplers, peak memory, ids ---------------------------

/** Redis keeps 16 samples of each rate and reports their mean. */
const RATE_SAMPLES = 16;
/** Redis samples its rates every 100 ms. */
const SAMPLE_PERIOD_MS = 100;

class RateSampler {
  private samples = new Float64Array(RATE_SAMPLES);
  private idx = 0;
  private lastTime = -1;
  private lastValue = 0;

  /** Records the rate (units per second) since the previous sample. */
  sample(nowMs: number, value: number): void {
    if (this.lastTime >= 0) {
      const dt = nowMs - this.lastTime;
      const rate = dt > 0 ? ((value - this.lastValue) * 1000) / dt : 0;
      this.samples[this.idx] = Math.max(0, rate);
      this.idx = (this.idx + 1) % RATE_SAMPLES;
    }
    this.lastTime = nowMs;
    this.lastValue = value;
  }

  mean(): number {
    let sum = 0;
    for (let i = 0; i < RATE_SAMPLES; i++) sum += this.samples[i];
    return sum / RATE_SAMPLES;
  }

  reset(): void {
    this.samples.fill(0);
    this.lastTime = -1;
  }
}

interface InfoState {
  ops: RateSampler;
  netIn: RateSampler;
  netOut: RateSampler;
  netReplIn: RateSampler;
  netReplOut: RateSampler;
  lastSample: number;
  /** Highest used_memory seen (sampled each cron tick and at every INFO). */
  peakMemory: number;
  /** Client buffers of normal (and pub/sub) clients and of replicas, as last measured (cron tick, INFO). */
  clientsNormal: number;
  clientsReplicas: number;
  /** The replicas' part of the shared replication buffer (set once replication is installed). */
  replicaBuffers: () => number;
  /** Replication id of this (master) server; fixed for its lifetime until replication exists. */
  replId: string;
  providers: Map<string, SectionProvider>;
}

const states = new WeakMap<Server, InfoState>();

function stateOf(server: Server): InfoState {
  let st = states.get(server);
  if (st === undefined) {
    st = {
      ops: new RateSampler(),
      netIn: new RateSampler(),
      netOut: new RateSampler(),
      netReplIn: new RateSampler(),
      netReplOut: new RateSampler(),
      lastSample: 0,
      peakMemory: REDIS_STARTUP_BYTES,
      clientsNormal: 0,
      clientsReplicas: 0,
      replicaBuffers: () => 0,
      replId: randomHex(40),
      providers: new Map(),
    };
    states.set(server, st);
  }
  return st;
}

/** Replication supplies the replicas' part of its shared buffer (Redis's mem_clients_slaves). */
export function setReplicaBuffersMemory(server: Server, measure: () => number): void {
  stateOf(server).replicaBuffers = measure;
}

/**
 * Lets a later module supply or adjust the fields of one section (e.g. 'persistence').
 * Several modules may adjust the same section (pub/sub and tracking both fill 'stats'):
 * each new provider runs on the fields the earlier ones returned.
 */
export function setInfoProvider(server: Server, section: string, provider: SectionProvider): void {
  const providers = stateOf(server).providers;
  const earlier = providers.get(section);
  providers.set(section, earlier === undefined ? provider : (srv, fields) => provider(srv, earlier(srv, fields)));
}

/** The master replication id INFO reports (master_replid). */
export function replicationId(server: Server): string {
  return stateOf(server).replId;
}

/** Called from the server cron: samples the per-second rates and the memory peak. */
export function sampleInfoMetrics(server: Server): void {
  const st = stateOf(server);
  const now = performance.now();
  if (now - st.lastSample < SAMPLE_PERIOD_MS) return;
  st.lastSample = now;
  st.ops.sample(now, server.stats.totalCommands);
  st.netIn.sample(now, server.stats.netInputBytes);
  st.netOut.sample(now, server.stats.netOutputBytes);
  st.netReplIn.sample(now, server.stats.netReplInputBytes);
  st.netReplOut.sample(now, server.stats.netReplOutputBytes);
  const used = usedMemory(server);
  if (used > st.peakMemory) st.peakMemory = used;
}

/** CONFIG RESETSTAT: forget the rates and the memory peak, as Redis does. */
export function resetInfoMetrics(server: Server): void {
  const st = stateOf(server);
  st.ops.reset();
  st.netIn.reset();
  st.netOut.reset();
  st.netReplIn.reset();
  st.netReplOut.reset();
  st.peakMemory = usedMemory(server);
}

// ---- formatting helpers ------------------------------------------------------

/** Redis's bytesToHuman: 1023B, 1.00K, 991.34K, 6.43M, ... */
export function bytesToHuman(n: number): string {
  const units: Array<[number, string]> = [
    [1024, 'K'],
    [1024 ** 2, 'M'],
    [1024 ** 3, 'G'],
    [1024 ** 4, 'T'],
    [1024 ** 5, 'P'],
  ];
  if (n < 1024) return `${n}B`;
  for (let i = 0; i < units.length; i++) {
    const next = i + 1 < units.length ? units[i + 1][0] : 1024 ** 6;
    if (n < next) return formatFixed(n / units[i][0], 2) + units[i][1];
  }
  return `${n}B`;
}

/** printf("%.2f") of a C float, as Redis prints ratios it keeps in floats. */
function fixed2f(x: number): string {
  return formatFixed(Math.fround(x), 2);
}

/** "%ld.%06ld" of a time in microseconds. */
function secondsMicros(us: number): string {
  const whole = Math.floor(us / 1e6);
  return `${whole}.${String(Math.floor(us - whole * 1e6)).padStart(6, '0')}`;
}

/**
 * Our used_memory: the deterministic model of what Redis 7.0 would use for
 * the same dataset (start-up figure, keys, db hash tables), which maxmemory
 * is compared with (src/server/eviction.ts), plus the client buffers. The
 * process's own figure (V8 heap in use plus memory outside it) is reported
 * apart, as used_memory_v8_heap: it holds garbage until the next collection,
 * so it cannot say what the dataset costs (see eviction.ts).
 */
export function usedMemory(server: Server): number {
  const st = stateOf(server);
  measureClientBuffers(server, st);
  return accountedMemory(server) + st.clientsNormal + st.clientsReplicas;
}

/**
 * The client buffers maxmemory counts (Redis counts every client's but the
 * replicas', mem_not_counted_for_evict), as last measured: summing them is
 * O(clients), so it is done each cron tick and at INFO, not per command.
 */
export function evictionClientMemory(server: Server): number {
  return stateOf(server).clientsNormal;
}

/** The V8 heap in use plus memory held outside it (Buffers, ArrayBuffers): what the process allocated. */
function v8HeapMemory(m: NodeJS.MemoryUsage): number {
  return m.heapUsed + m.external;
}

/**
 * The keyspace's overhead as Redis's getMemoryOverheadData counts it: per db,
 * the main table's entries, buckets and key objects, and the expires table's
 * entries and buckets.
 */
export function dbOverheads(server: Server): Array<{ id: number; main: number; expires: number }> {
  const out: Array<{ id: number; main: number; expires: number }> = [];
  for (const db of server.dbs) {
    const n = db.size;
    if (n === 0) continue;
    const e = db.expires.size;
    const main = n * 24 + modelledSlots(db.keys, n) * 8 + n * 16;
    const expires = e === 0 ? 0 : e * 24 + modelledSlots(db.expires, e) * 8;
    out.push({ id: db.id, main, expires });
  }
  return out;
}

/** Redis's LRU clock: seconds, 24 bits. */
export function lruClock(server: Server): number {
  return Math.floor(server.clock.now() / 1000) & 0xffffff;
}

/** A build id derived from our version, stable across runs like Redis's. */
function buildId(server: Server): string {
  let h = 0x811c9dc5;
  const s = `mnemo-${server.version}-redis-${server.redisVersion}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return (h.toString(16).padStart(8, '0') + 'd4e1f0a9').slice(0, 15);
}

function multiplexingApi(): string {
  // libuv's poller on each platform.
  switch (process.platform) {
    case 'linux':
      return 'epoll';
    case 'darwin':
    case 'freebsd':
    case 'openbsd':
      return 'kqueue';
    case 'sunos':
      return 'evport';
    default:
      return 'select';
  }
}

function executablePath(): string {
  // The script that started Node (bin/mnemo-server.js) when there is one.
  const script = process.argv[1];
  return script ? path.resolve(script) : process.execPath;
}

// ---- sections ------------------------------------------------------------------

function serverSection(server: Server): InfoFields {
  const uptime = Math.max(0, Math.floor((server.clock.now() - server.startTime) / 1000));
  return [
    ['redis_version', server.redisVersion],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', buildId(server)],
    ['redis_mode', server.mode],
    ['os', `${os.type()} ${os.release()} ${os.machine()}`],
    ['arch_bits', 64],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', multiplexingApi()],
    ['atomicvar_api', 'c11-builtin'],
    // Redis prints 0.0.0 when not built by gcc.
    ['gcc_version', '0.0.0'],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', server.runId],
    ['tcp_port', server.port],
    ['server_time_usec', server.clock.nowMicros()],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', server.hz],
    ['configured_hz', server.config.hz],
    ['lru_clock', lruClock(server)],
    ['executable', executablePath()],
    ['config_file', server.config.configFile ?? ''],
    ['io_threads_active', 0],
  ];
}

function clientsSection(server: Server): InfoFields {
  let maxInput = 0;
  let maxOutput = 0;
  let inTimeoutTable = 0;
  for (const c of server.clients.values()) {
    const qbuf = c.parser.pendingBytes;
    if (qbuf > maxInput) maxInput = qbuf;
    const out = c.len + (c.socket?.writableLength ?? 0);
    if (out > maxOutput) maxOutput = out;
    if (c.blocked !== null && c.blocked.deadline > 0) inTimeoutTable++;
  }
  return [
    ['connected_clients', server.clients.size],
    ['cluster_connections', 0],
    ['maxclients', server.config.maxclients],
    ['client_recent_max_input_buffer', maxInput],
    ['client_recent_max_output_buffer', maxOutput],
    ['blocked_clients', server.blocking.count],
    ['tracking_clients', 0],
    ['clients_in_timeout_table', inTimeoutTable],
  ];
}

/** Re-measures the client buffers maxmemory counts (after client eviction disconnected some). */
export function measureClientMemory(server: Server): void {
  measureClientBuffers(server, stateOf(server));
}

/**
 * Measures the clients' memory: the replicas' part of the shared replication
 * buffer (what it holds beyond repl-backlog-size) as Redis's mem_clients_slaves;
 * every other client's CLIENT LIST
 * tot-mem as mem_clients_normal, as Redis sums getClientMemoryUsage. That is
 * the figure client eviction counts too, so maxmemory never sees more client
 * memory than maxmemory-clients does (a client's idle reply buffer capacity
 * is not counted apart from the modelled reply buffer).
 */
function measureClientBuffers(server: Server, st: InfoState): void {
  let normal = 0;
  for (const c of server.clients.values()) {
    if (clientIntrospection.role(c) === 'replica') continue;
    normal += clientMemoryUsage(c, c.parser.pendingBytes, partialArgvMemory(c)) + clientOverheadBytes(c);
  }
  st.clientsNormal = normal;
  st.clientsReplicas = st.replicaBuffers();
}

function memorySection(server: Server): InfoFields {
  const st = stateOf(server);
  const m = process.memoryUsage();
  const used = usedMemory(server);
  const clientsMem = st.clientsNormal;
  const replicasMem = st.clientsReplicas;
  if (used > st.peakMemory) st.peakMemory = used;
  const peak = st.peakMemory;
  const startup = REDIS_STARTUP_BYTES;
  // Overhead as Redis's: start-up, client buffers, the keyspace's tables and key objects.
  let dbOverhead = 0;
  for (const d of dbOverheads(server)) dbOverhead += d.main + d.expires;
  const overhead = Math.min(used, startup + clientsMem + replicasMem + dbOverhead);
  const dataset = used - overhead;
  const netUsed = used - startup;
  const maxmemory = server.config.maxmemory;
  // The "allocator" figures are V8's: allocated = in use, active = reserved heap + external, resident = RSS.
  const heap = v8HeapMemory(m);
  const allocated = heap;
  const active = m.heapTotal + m.external;
  const resident = m.rss;
  const totalSystem = os.totalmem();
  return [
    ['used_memory', used],
    ['used_memory_human', bytesToHuman(used)],
    ['used_memory_rss', m.rss],
    ['used_memory_rss_human', bytesToHuman(m.rss)],
    ['used_memory_peak', peak],
    ['used_memory_peak_human', bytesToHuman(peak)],
    ['used_memory_peak_perc', fixed2f(peak > 0 ? (used * 100) / peak : 0) + '%'],
    ['used_memory_overhead', overhead],
    ['used_memory_startup', startup],
    ['used_memory_dataset', dataset],
    ['used_memory_dataset_perc', fixed2f(netUsed > 0 ? (dataset * 100) / netUsed : 0) + '%'],
    ['allocator_allocated', allocated],
    ['allocator_active', active],
    ['allocator_resident', resident],
    // Not Redis's: the process's own figure, which used_memory (a model) is not.
    ['used_memory_v8_heap', heap],
    ['used_memory_v8_heap_human', bytesToHuman(heap)],
    ['total_system_memory', totalSystem],
    ['total_system_memory_human', bytesToHuman(totalSystem)],
    ['used_memory_lua', 0],
    ['used_memory_vm_eval', 0],
    ['used_memory_lua_human', bytesToHuman(0)],
    ['used_memory_scripts_eval', 0],
    ['number_of_cached_scripts', 0],
    ['number_of_functions', 0],
    ['number_of_libraries', 0],
    ['used_memory_vm_functions', 0],
    ['used_memory_vm_total', 0],
    ['used_memory_vm_total_human', bytesToHuman(0)],
    ['used_memory_functions', 0],
    ['used_memory_scripts', 0],
    ['used_memory_scripts_human', bytesToHuman(0)],
    ['maxmemory', maxmemory],
    ['maxmemory_human', bytesToHuman(maxmemory)],
    ['maxmemory_policy', server.config.maxmemoryPolicy],
    ['allocator_frag_ratio', fixed2f(allocated > 0 ? active / allocated : 0)],
    ['allocator_frag_bytes', active - allocated],
    ['allocator_rss_ratio', fixed2f(active > 0 ? resident / active : 0)],
    ['allocator_rss_bytes', resident - active],
    ['rss_overhead_ratio', fixed2f(1)],
    ['rss_overhead_bytes', 0],
    ['mem_fragmentation_ratio', fixed2f(used > 0 ? m.rss / used : 0)],
    ['mem_fragmentation_bytes', m.rss - used],
    // As Redis: replicas' output buffers are in used_memory, but maxmemory does not count them.
    ['mem_not_counted_for_evict', replicasMem],
    ['mem_replication_backlog', 0],
    ['mem_total_replication_buffers', 0],
    ['mem_clients_slaves', replicasMem],
    ['mem_clients_normal', clientsMem],
    ['mem_cluster_links', 0],
    ['mem_aof_buffer', 0],
    // Not jemalloc: Redis's name for "the system allocator" is libc (V8 and Node's malloc here).
    ['mem_allocator', 'libc'],
    ['active_defrag_running', 0],
    // Nothing waits for a lazyfree thread here (server/lazyfree.ts).
    ['lazyfree_pending_objects', 0],
    ['lazyfreed_objects', server.stats.lazyfreedObjects],
  ];
}

function persistenceSection(server: Server): InfoFields {
  return [
    ['loading', 0],
    ['async_loading', 0],
    ['current_cow_peak', 0],
    ['current_cow_size', 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'],
    ['current_save_keys_processed', 0],
    ['current_save_keys_total', 0],
    ['rdb_changes_since_last_save', server.dirty],
    ['rdb_bgsave_in_progress', 0],
    // Until persistence exists, "last save" is the start-up time, as Redis reports before its first save.
    ['rdb_last_save_time', Math.floor(server.startTime / 1000)],
    ['rdb_last_bgsave_status', 'ok'],
    ['rdb_last_bgsave_time_sec', -1],
    ['rdb_current_bgsave_time_sec', -1],
    ['rdb_saves', 0],
    ['rdb_last_cow_size', 0],
    ['rdb_last_load_keys_expired', 0],
    ['rdb_last_load_keys_loaded', 0],
    ['aof_enabled', 0],
    ['aof_rewrite_in_progress', 0],
    ['aof_rewrite_scheduled', 0],
    ['aof_last_rewrite_time_sec', -1],
    ['aof_current_rewrite_time_sec', -1],
    ['aof_last_bgrewrite_status', 'ok'],
    ['aof_rewrites', 0],
    ['aof_rewrites_consecutive_failures', 0],
    ['aof_last_write_status', 'ok'],
    ['aof_last_cow_size', 0],
    ['module_fork_in_progress', 0],
    ['module_fork_last_cow_size', 0],
  ];
}

/** Keyspace hits and misses: the databases count them, RESETSTAT zeroes them. */
export function keyspaceHitsMisses(server: Server): [number, number] {
  let hits = server.stats.keyspaceHits;
  let misses = server.stats.keyspaceMisses;
  for (const db of server.dbs) {
    hits += db.hits;
    misses += db.misses;
  }
  return [hits, misses];
}

function statsSection(server: Server): InfoFields {
  const st = stateOf(server);
  const s = server.stats;
  const [hits, misses] = keyspaceHitsMisses(server);
  return [
    ['total_connections_received', s.totalConnections],
    ['total_commands_processed', s.totalCommands],
    ['instantaneous_ops_per_sec', Math.floor(st.ops.mean())],
    ['total_net_input_bytes', s.netInputBytes],
    ['total_net_output_bytes', s.netOutputBytes],
    ['total_net_repl_input_bytes', s.netReplInputBytes],
    ['total_net_repl_output_bytes', s.netReplOutputBytes],
    ['instantaneous_input_kbps', fixed2f(st.netIn.mean() / 1024)],
    ['instantaneous_output_kbps', fixed2f(st.netOut.mean() / 1024)],
    ['instantaneous_input_repl_kbps', fixed2f(st.netReplIn.mean() / 1024)],
    ['instantaneous_output_repl_kbps', fixed2f(st.netReplOut.mean() / 1024)],
    ['rejected_connections', s.rejectedConnections],
    ['sync_full', 0],
    ['sync_partial_ok', 0],
    ['sync_partial_err', 0],
    ['expired_keys', s.expiredKeys],
    ['expired_stale_perc', '0.00'],
    ['expired_time_cap_reached_count', 0],
    ['expire_cycle_cpu_milliseconds', 0],
    ['evicted_keys', s.evictedKeys],
    ['evicted_clients', 0],
    ['total_eviction_exceeded_time', 0],
    ['current_eviction_exceeded_time', 0],
    ['keyspace_hits', hits],
    ['keyspace_misses', misses],
    ['pubsub_channels', 0],
    ['pubsub_patterns', 0],
    ['pubsubshard_channels', 0],
    ['latest_fork_usec', 0],
    ['total_forks', 0],
    ['migrate_cached_sockets', 0],
    ['slave_expires_tracked_keys', 0],
    ['active_defrag_hits', 0],
    ['active_defrag_misses', 0],
    ['active_defrag_key_hits', 0],
    ['active_defrag_key_misses', 0],
    ['total_active_defrag_time', 0],
    ['current_active_defrag_time', 0],
    ['tracking_total_keys', 0],
    ['tracking_total_items', 0],
    ['tracking_total_prefixes', 0],
    ['unexpected_error_replies', s.unexpectedErrorReplies],
    ['total_error_replies', s.totalErrorReplies],
    ['dump_payload_sanitizations', 0],
    // Socket reads/writes are not counted separately from commands yet.
    ['total_reads_processed', 0],
    ['total_writes_processed', 0],
    ['io_threaded_reads_processed', 0],
    ['io_threaded_writes_processed', 0],
    ['reply_buffer_shrinks', server.replyBuffer.shrinks],
    ['reply_buffer_expands', server.replyBuffer.expands],
  ];
}

function replicationSection(server: Server): InfoFields {
  return [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', replicationId(server)],
    ['master_replid2', '0'.repeat(40)],
    ['master_repl_offset', 0],
    ['second_repl_offset', -1],
    ['repl_backlog_active', 0],
    ['repl_backlog_size', server.config.getNumber('repl-backlog-size')],
    ['repl_backlog_first_byte_offset', 0],
    ['repl_backlog_histlen', 0],
  ];
}

function cpuSection(): InfoFields {
  // Node 20 has no per-thread CPU figure: the process figures stand in for the main thread's.
  const cpu = process.cpuUsage();
  return [
    ['used_cpu_sys', secondsMicros(cpu.system)],
    ['used_cpu_user', secondsMicros(cpu.user)],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', secondsMicros(cpu.system)],
    ['used_cpu_user_main_thread', secondsMicros(cpu.user)],
  ];
}

function commandstatsSection(server: Server): InfoFields {
  const out: InfoFields = [];
  for (const cmd of server.table.all()) {
    const s = cmd.stats;
    if (s.calls === 0 && s.failed === 0 && s.rejected === 0) continue;
    // Redis divides in single precision: (float)usec / calls.
    const perCall = s.calls === 0 ? 0 : Math.fround(s.usec) / s.calls;
    out.push([
      `cmdstat_${cmd.fullName}`,
      `calls=${s.calls},usec=${s.usec},usec_per_call=${fixed2f(perCall)},rejected_calls=${s.rejected},failed_calls=${s.failed}`,
    ]);
  }
  return out;
}

function errorstatsSection(server: Server): InfoFields {
  // Redis keeps error codes in a radix tree: byte order.
  const codes = [...server.stats.errorCodes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return codes.map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);
}

function keyspaceSection(server: Server): InfoFields {
  const out: InfoFields = [];
  for (const db of server.dbs) {
    const keys = db.size;
    if (keys === 0) continue;
    out.push([`db${db.id}`, `keys=${keys},expires=${db.expires.size},avg_ttl=${Math.floor(db.avgTtl)}`]);
  }
  return out;
}

const SECTIONS: readonly SectionDef[] = [
  { name: 'server', title: 'Server', build: serverSection, isDefault: true },
  { name: 'clients', title: 'Clients', build: clientsSection, isDefault: true },
  { name: 'memory', title: 'Memory', build: memorySection, isDefault: true },
  { name: 'persistence', title: 'Persistence', build: persistenceSection, isDefault: true },
  { name: 'stats', title: 'Stats', build: statsSection, isDefault: true },
  { name: 'replication', title: 'Replication', build: replicationSection, isDefault: true },
  { name: 'cpu', title: 'CPU', build: cpuSection, isDefault: true },
  { name: 'modules', title: 'Modules', build: () => [], isDefault: true },
  { name: 'commandstats', title: 'Commandstats', build: commandstatsSection, isDefault: false },
  { name: 'errorstats', title: 'Errorstats', build: errorstatsSection, isDefault: true },
  // Per-command latency percentiles arrive with the latency module (its provider fills this).
  { name: 'latencystats', title: 'Latencystats', build: () => [], isDefault: false },
  { name: 'cluster', title: 'Cluster', build: () => [['cluster_enabled', 0]], isDefault: true },
  { name: 'keyspace', title: 'Keyspace', build: keyspaceSection, isDefault: true },
  // Sentinel mode only (see SENTINEL_SECTIONS).
  { name: 'sentinel', title: 'Sentinel', build: (server) => server.sentinel?.infoFields() ?? [], isDefault: true },
];

/** The sections a Sentinel reports (Redis's sentinelInfoCommand): no dataset, no replication. */
const SENTINEL_SECTIONS = new Set(['server', 'clients', 'cpu', 'stats', 'sentinel']);

export const INFO_SECTION_NAMES: readonly string[] = SECTIONS.map((s) => s.name);

/**
 * Which sections INFO's arguments ask for (names as sent, any case). No
 * argument means `default`; unknown names select nothing, as in Redis.
 */
export function selectSections(args: readonly string[]): Set<string> {
  const want = new Set<string>();
  const add = (pred: (s: SectionDef) => boolean) => {
    for (const s of SECTIONS) if (pred(s)) want.add(s.name);
  };
  if (args.length === 0) add((s) => s.isDefault);
  for (const raw of args) {
    const a = raw.toLowerCase();
    if (a === 'all' || a === 'everything') add(() => true);
    else if (a === 'default') add((s) => s.isDefault);
    else want.add(a);
  }
  return want;
}

/** The fields of one section after any provider's changes. */
export function sectionFields(server: Server, name: string): InfoFields {
  const def = SECTIONS.find((s) => s.name === name);
  if (def === undefined) return [];
  const fields = def.build(server);
  const provider = stateOf(server).providers.get(name);
  return provider ? provider(server, fields) : fields;
}

/** The INFO text for the given arguments: "# Title\r\nfield:value\r\n" blocks separated by a blank line. */
export function buildInfo(server: Server, args: readonly string[]): string {
  const want = selectSections(args);
  const blocks: string[] = [];
  const sentinel = server.sentinel !== null;
  for (const def of SECTIONS) {
    if (!want.has(def.name)) continue;
    if (sentinel ? !SENTINEL_SECTIONS.has(def.name) : def.name === 'sentinel') continue;
    let block = `# ${def.title}\r\n`;
    for (const [k, v] of sectionFields(server, def.name)) block += `${k}:${v}\r\n`;
    blocks.push(block);
  }
  return blocks.join('\r\n');
}

/** Replies INFO's text: a verbatim string in RESP3, a bulk string in RESP2. */
export function replyInfo(c: Client, args: readonly string[]): void {
  c.addVerbatim(buildInfo(c.server, args));
}
