/**
 * A Prometheus endpoint, so users need no separate exporter: with
 * `metrics-port <port>` (a Mnemo directive, 0 = off, the default) the server
 * also answers HTTP GET /metrics on <bind address>:<port>, in the Prometheus
 * text format (version 0.0.4), with the figures INFO reports:
 *
 *  - every numeric INFO field as `mnemo_<field>`; fields that only grow are
 *    counters named the Prometheus way (`total_commands_processed` ->
 *    `mnemo_commands_processed_total`, `expired_keys` ->
 *    `mnemo_expired_keys_total`, `used_cpu_sys` -> `mnemo_used_cpu_sys_seconds_total`),
 *    the rest gauges;
 *  - per command (commandstats): `mnemo_commands_total{cmd="get"}`,
 *    `mnemo_commands_duration_seconds_total`, `mnemo_commands_rejected_calls_total`,
 *    `mnemo_commands_failed_calls_total`;
 *  - latency percentiles (latencystats): `mnemo_latency_percentiles_usec{cmd,quantile}`;
 *  - errors by prefix (errorstats): `mnemo_errors_total{err="ERR"}`;
 *  - per database (keyspace): `mnemo_db_keys{db="db0"}`, `mnemo_db_keys_expiring`,
 *    `mnemo_db_avg_ttl_seconds`;
 *  - `mnemo_server_info{...} 1` carrying the version, mode, run id, role and policy;
 *  - `mnemo_maxmemory_accounted_bytes`: the figure maxmemory is compared with
 *    (server/eviction.ts), while maxmemory is set.
 *
 * The HTTP server listens on the main server's address, starts with it, and
 * follows CONFIG SET metrics-port (closing the old port, opening the new one).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { Server } from '../server/server.js';
import { INFO_SECTION_NAMES, sectionFields, type InfoValue } from './info.js';
import { accountedMemory } from '../server/eviction.js';
import { log } from '../persistence/log.js';

// ---- rendering --------------------------------------------------------------------------

/** INFO fields that only grow, and their Prometheus counter names (without the mnemo_ prefix). */
const COUNTERS: ReadonlyMap<string, string> = new Map([
  ['total_connections_received', 'connections_received_total'],
  ['total_commands_processed', 'commands_processed_total'],
  ['total_net_input_bytes', 'net_input_bytes_total'],
  ['total_net_output_bytes', 'net_output_bytes_total'],
  ['total_net_repl_input_bytes', 'net_repl_input_bytes_total'],
  ['total_net_repl_output_bytes', 'net_repl_output_bytes_total'],
  ['rejected_connections', 'rejected_connections_total'],
  ['sync_full', 'sync_full_total'],
  ['sync_partial_ok', 'sync_partial_ok_total'],
  ['sync_partial_err', 'sync_partial_err_total'],
  ['expired_keys', 'expired_keys_total'],
  ['expired_time_cap_reached_count', 'expired_time_cap_reached_total'],
  ['expire_cycle_cpu_milliseconds', 'expire_cycle_cpu_milliseconds_total'],
  ['evicted_keys', 'evicted_keys_total'],
  ['evicted_clients', 'evicted_clients_total'],
  ['total_eviction_exceeded_time', 'eviction_exceeded_time_milliseconds_total'],
  ['keyspace_hits', 'keyspace_hits_total'],
  ['keyspace_misses', 'keyspace_misses_total'],
  ['total_forks', 'forks_total'],
  ['active_defrag_hits', 'active_defrag_hits_total'],
  ['active_defrag_misses', 'active_defrag_misses_total'],
  ['active_defrag_key_hits', 'active_defrag_key_hits_total'],
  ['active_defrag_key_misses', 'active_defrag_key_misses_total'],
  ['total_active_defrag_time', 'active_defrag_time_milliseconds_total'],
  ['unexpected_error_replies', 'unexpected_error_replies_total'],
  ['total_error_replies', 'error_replies_total'],
  ['dump_payload_sanitizations', 'dump_payload_sanitizations_total'],
  ['total_reads_processed', 'reads_processed_total'],
  ['total_writes_processed', 'writes_processed_total'],
  ['io_threaded_reads_processed', 'io_threaded_reads_processed_total'],
  ['io_threaded_writes_processed', 'io_threaded_writes_processed_total'],
  ['reply_buffer_shrinks', 'reply_buffer_shrinks_total'],
  ['reply_buffer_expands', 'reply_buffer_expands_total'],
  ['rdb_saves', 'rdb_saves_total'],
  ['aof_rewrites', 'aof_rewrites_total'],
  ['used_cpu_sys', 'used_cpu_sys_seconds_total'],
  ['used_cpu_user', 'used_cpu_user_seconds_total'],
  ['used_cpu_sys_children', 'used_cpu_sys_children_seconds_total'],
  ['used_cpu_user_children', 'used_cpu_user_children_seconds_total'],
  ['used_cpu_sys_main_thread', 'used_cpu_sys_main_thread_seconds_total'],
  ['used_cpu_user_main_thread', 'used_cpu_user_main_thread_seconds_total'],
]);

/** Numeric INFO fields that mean nothing as a time series (build ids, the current time). */
const SKIPPED = new Set(['redis_git_sha1', 'redis_git_dirty', 'server_time_usec', 'lru_clock']);

/** A latency percentile name (p99.9) as a quantile (0.999), without binary noise. */
function quantileOf(p: string): number {
  return Number((Number(p.slice(1)) / 100).toPrecision(12));
}

/** Sections whose fields are labelled families rather than one metric per field. */
const LABELLED_SECTIONS = new Set(['commandstats', 'errorstats', 'latencystats', 'keyspace']);

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** An INFO value as a number, or null when it is text ("ok", "1.23M", "50.00%"). */
function numeric(v: InfoValue): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  return NUMBER.test(v) ? Number(v) : null;
}

/** Prometheus label value escaping: backslash, double quote, newline. */
function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

type Labels = Record<string, string>;

/** Collects samples by family, so each family gets its HELP and TYPE once. */
class Exposition {
  private readonly families = new Map<string, { help: string; type: string; samples: string[] }>();

  add(name: string, type: 'gauge' | 'counter', help: string, value: number, labels?: Labels): void {
    let fam = this.families.get(name);
    if (fam === undefined) {
      fam = { help, type, samples: [] };
      this.families.set(name, fam);
    }
    let sel = '';
    if (labels !== undefined) {
      sel = '{' + Object.entries(labels).map(([k, v]) => `${k}="${labelValue(v)}"`).join(',') + '}';
    }
    fam.samples.push(`${name}${sel} ${formatValue(value)}`);
  }

  text(): string {
    let out = '';
    for (const [name, fam] of this.families) {
      out += `# HELP ${name} ${fam.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
      out += `# TYPE ${name} ${fam.type}\n`;
      for (const s of fam.samples) out += s + '\n';
    }
    return out;
  }
}

/** "k1=v1,k2=v2" (commandstats, keyspace, errorstats values) as a map. */
function parsePairs(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

function addLabelled(x: Exposition, server: Server, section: string): void {
  if (section === 'commandstats') {
    for (const cmd of server.table.all()) {
      const s = cmd.stats;
      if (s.calls === 0 && s.failed === 0 && s.rejected === 0) continue;
      const labels = { cmd: cmd.fullName };
      x.add('mnemo_commands_total', 'counter', 'Calls of each command (INFO commandstats calls).', s.calls, labels);
      x.add('mnemo_commands_duration_seconds_total', 'counter', 'Time spent in each command (INFO commandstats usec).', s.usec / 1e6, labels);
      x.add('mnemo_commands_rejected_calls_total', 'counter', 'Calls refused before running (INFO commandstats rejected_calls).', s.rejected, labels);
      x.add('mnemo_commands_failed_calls_total', 'counter', 'Calls that replied an error (INFO commandstats failed_calls).', s.failed, labels);
    }
    return;
  }
  for (const [field, value] of sectionFields(server, section)) {
    const pairs = parsePairs(String(value));
    if (section === 'errorstats' && field.startsWith('errorstat_')) {
      const n = Number(pairs.get('count'));
      if (Number.isFinite(n)) x.add('mnemo_errors_total', 'counter', 'Error replies by error prefix (INFO errorstats).', n, { err: field.slice(10) });
    } else if (section === 'keyspace') {
      const db = { db: field };
      x.add('mnemo_db_keys', 'gauge', 'Keys in each database (INFO keyspace keys).', Number(pairs.get('keys') ?? 0), db);
      x.add('mnemo_db_keys_expiring', 'gauge', 'Keys with a TTL in each database (INFO keyspace expires).', Number(pairs.get('expires') ?? 0), db);
      x.add('mnemo_db_avg_ttl_seconds', 'gauge', 'Average TTL of the keys with one (INFO keyspace avg_ttl).', Number(pairs.get('avg_ttl') ?? 0) / 1000, db);
    } else if (section === 'latencystats' && field.startsWith('latency_percentiles_usec_')) {
      const cmd = field.slice('latency_percentiles_usec_'.length);
      for (const [p, v] of pairs) {
        const q = quantileOf(p);
        const n = Number(v);
        if (p[0] !== 'p' || !Number.isFinite(q) || !Number.isFinite(n)) continue;
        x.add('mnemo_latency_percentiles_usec', 'gauge', 'Latency percentiles of each command in microseconds (INFO latencystats).', n, {
          cmd,
          quantile: String(q),
        });
      }
    }
  }
}

/** The /metrics body. */
export function renderMetrics(server: Server): string {
  const x = new Exposition();
  const text = new Map<string, string>();
  for (const section of INFO_SECTION_NAMES) {
    if (LABELLED_SECTIONS.has(section)) {
      addLabelled(x, server, section);
      continue;
    }
    for (const [field, value] of sectionFields(server, section)) {
      if (SKIPPED.has(field)) continue;
      const n = numeric(value);
      if (n === null) {
        text.set(field, String(value));
        continue;
      }
      const counter = COUNTERS.get(field);
      if (counter !== undefined) x.add(`mnemo_${counter}`, 'counter', `INFO ${section} ${field}.`, n);
      else x.add(`mnemo_${field}`, 'gauge', `INFO ${section} ${field}.`, n);
    }
  }
  const info: Labels = { mnemo_version: server.version };
  for (const f of ['redis_version', 'redis_mode', 'os', 'run_id', 'role', 'maxmemory_policy']) {
    const v = text.get(f);
    if (v !== undefined) info[f] = v;
  }
  x.add('mnemo_server_info', 'gauge', 'Constant 1, labelled with the server version, mode, run id, role and eviction policy.', 1, info);
  x.add(
    'mnemo_maxmemory_accounted_bytes',
    'gauge',
    'The memory figure maxmemory is compared with (dataset estimate, see server/eviction.ts).',
    accountedMemory(server),
  );
  return x.text();
}

// ---- the HTTP server -------------------------------------------------------------------

interface EndpointState {
  http: HttpServer | null;
  /** Serialises restarts (CONFIG SET metrics-port while one is in progress). */
  pending: Promise<void>;
  hooked: boolean;
}

const states = new WeakMap<Server, EndpointState>();

function stateOf(server: Server): EndpointState {
  let st = states.get(server);
  if (st === undefined) {
    st = { http: null, pending: Promise.resolve(), hooked: false };
    states.set(server, st);
  }
  return st;
}

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function handler(server: Server) {
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method Not Allowed\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found: the metrics are at /metrics\n');
      return;
    }
    let body: string;
    try {
      body = renderMetrics(server);
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`error: ${(e as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

function closeHttp(http: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
}

async function apply(server: Server, st: EndpointState): Promise<void> {
  if (st.http !== null) {
    const old = st.http;
    st.http = null;
    await closeHttp(old);
  }
  const port = server.config.getNumber('metrics-port');
  if (port === 0 || server.shuttingDown) return;
  const http = createServer(handler(server));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, server.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  http.unref();
  st.http = http;
}

/**
 * Opens the endpoint when metrics-port is set (the server calls it once
 * listening; rejects when the port cannot be bound, as the main port would),
 * and from then on follows CONFIG SET metrics-port.
 */
export function startMetricsEndpoint(server: Server): Promise<void> {
  const st = stateOf(server);
  if (!st.hooked) {
    st.hooked = true;
    server.config.onChange('metrics-port', () => {
      st.pending = st.pending
        .then(() => apply(server, st))
        .catch((e) => log(server, 'warning', `Could not open the metrics endpoint on port ${server.config.get('metrics-port')}: ${(e as Error).message}`));
    });
  }
  const run = st.pending.then(() => apply(server, st));
  st.pending = run.catch(() => {});
  return run;
}

/** Closes the endpoint (server shutdown). */
export async function stopMetricsEndpoint(server: Server): Promise<void> {
  const st = states.get(server);
  if (st === undefined) return;
  await st.pending;
  if (st.http !== null) {
    const http = st.http;
    st.http = null;
    await closeHttp(http);
  }
}

/** Where the endpoint listens, or null when it is off. */
export function metricsAddress(server: Server): { host: string; port: number } | null {
  const addr = stateOf(server).http?.address();
  return addr && typeof addr === 'object' ? { host: addr.address, port: addr.port } : null;
}
