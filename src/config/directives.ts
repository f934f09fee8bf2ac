/**
 * Every configuration directive of Redis 7.0.15 (what CONFIG GET * lists,
 * plus the hidden ones an exact name reaches), with Redis's types, bounds,
 * defaults and flags. Defaults are what redis-server reports when started
 * without a config file; bounds and error texts were checked against it.
 */
import {
  boolDirective as bool,
  DENY_LOADING,
  enumDirective as enumeration,
  HIDDEN,
  IMMUTABLE,
  numericDirective as num,
  PROTECTED,
  SENSITIVE,
  stringDirective as str,
  type Directive,
} from './directive.js';
import { INT32_MAX, INT32_MIN, INT64_MAX, UINT32_MAX, UINT64_MAX } from './parse.js';
import {
  bindDirective,
  clientOutputBufferLimitDirective,
  dirDirective,
  latencyPercentilesDirective,
  notifyKeyspaceEventsDirective,
  oomScoreAdjValuesDirective,
  replicaofDirective,
  saveDirective,
  validateAppendDirname,
  validateAppendFilename,
  validateDbFilename,
  validateHostname,
  validateProcTitleTemplate,
} from './special.js';

const INT_MAX = INT32_MAX;
const INT_MIN = INT32_MIN;
const LONG_MAX = INT64_MAX;
const LLONG_MAX = INT64_MAX;

// Redis's hz is a hint: out-of-range values are clamped, not refused.
const clampHz = (v: bigint): bigint => (v < 1n ? 1n : v > 500n ? 500n : v);
// Resizing the replication backlog enforces a 16kb minimum (CONFIG SET only).
const minBacklog = (v: bigint): bigint => (v < 16384n ? 16384n : v);

const YES_NO_LOCAL: Array<[string, number]> = [
  ['no', 0],
  ['yes', 1],
  ['local', 2],
];

const SHUTDOWN_FLAGS: Array<[string, number]> = [
  ['default', 0],
  ['save', 1],
  ['nosave', 2],
  ['now', 4],
  ['force', 8],
];

const validateShutdownFlags = (v: number): string | null =>
  v & 1 && v & 2 ? "shutdown options SAVE and NOSAVE can't be used simultaneously" : null;

/** The directive table, in a stable order (CONFIG GET lists matches in this order). */
export const DIRECTIVES: ReadonlyArray<Directive<any>> = [
  // ---- booleans
  bool('rdbchecksum', true, { flags: IMMUTABLE }),
  bool('daemonize', false, { flags: IMMUTABLE }),
  bool('io-threads-do-reads', false, { flags: IMMUTABLE }),
  bool('always-show-logo', false, { flags: IMMUTABLE }),
  bool('protected-mode', true),
  bool('rdbcompression', true),
  bool('rdb-del-sync-files', false),
  bool('activerehashing', true),
  bool('stop-writes-on-bgsave-error', true),
  bool('set-proc-title', true, { flags: IMMUTABLE }),
  bool('dynamic-hz', true),
  bool('lazyfree-lazy-eviction', false),
  bool('lazyfree-lazy-expire', false),
  bool('lazyfree-lazy-server-del', false),
  bool('lazyfree-lazy-user-del', false),
  bool('lazyfree-lazy-user-flush', false),
  bool('repl-disable-tcp-nodelay', false),
  bool('repl-diskless-sync', true),
  bool('aof-rewrite-incremental-fsync', true),
  bool('no-appendfsync-on-rewrite', false),
  bool('cluster-require-full-coverage', true),
  bool('rdb-save-incremental-fsync', true),
  bool('aof-load-truncated', true),
  bool('aof-use-rdb-preamble', true),
  bool('aof-timestamp-enabled', false),
  bool('cluster-replica-no-failover', false, { alias: 'cluster-slave-no-failover' }),
  bool('replica-lazy-flush', false, { alias: 'slave-lazy-flush' }),
  bool('replica-serve-stale-data', true, { alias: 'slave-serve-stale-data' }),
  bool('replica-read-only', true, { alias: 'slave-read-only' }),
  bool('replica-ignore-maxmemory', true, { alias: 'slave-ignore-maxmemory' }),
  bool('jemalloc-bg-thread', true),
  bool('activedefrag', false),
  bool('syslog-enabled', false, { flags: IMMUTABLE }),
  bool('cluster-enabled', false, { flags: IMMUTABLE }),
  bool('appendonly', false, { flags: DENY_LOADING }),
  bool('cluster-allow-reads-when-down', false),
  bool('cluster-allow-pubsubshard-when-down', true),
  bool('crash-log-enabled', true),
  bool('crash-memcheck-enabled', true),
  bool('use-exit-on-panic', false, { flags: HIDDEN }),
  bool('disable-thp', true, { flags: IMMUTABLE }),
  bool('cluster-allow-replica-migration', true),
  bool('replica-announced', true),
  bool('latency-tracking', true),
  bool('aof-disable-auto-gc', false),
  bool('replica-ignore-disk-write-errors', false),

  // ---- strings
  str('aclfile', '', { flags: IMMUTABLE }),
  str('unixsocket', '', { flags: IMMUTABLE }),
  str('pidfile', '', { flags: IMMUTABLE }),
  str('replica-announce-ip', '', { alias: 'slave-announce-ip' }),
  str('masteruser', '', { flags: SENSITIVE }),
  str('cluster-announce-ip', ''),
  str('cluster-config-file', 'nodes.conf', { flags: IMMUTABLE }),
  str('cluster-announce-hostname', '', { validate: validateHostname }),
  str('syslog-ident', 'redis', { flags: IMMUTABLE }),
  str('dbfilename', 'dump.rdb', { flags: PROTECTED, validate: validateDbFilename }),
  str('appendfilename', 'appendonly.aof', { flags: IMMUTABLE, validate: validateAppendFilename }),
  str('appenddirname', 'appendonlydir', { flags: IMMUTABLE, validate: validateAppendDirname }),
  str('server_cpulist', '', { flags: IMMUTABLE }),
  str('bio_cpulist', '', { flags: IMMUTABLE }),
  str('aof_rewrite_cpulist', '', { flags: IMMUTABLE }),
  str('bgsave_cpulist', '', { flags: IMMUTABLE }),
  str('ignore-warnings', ''),
  str('proc-title-template', '{title} {listen-addr} {server-mode}', { validate: validateProcTitleTemplate }),
  str('bind-source-addr', ''),
  str('logfile', '', { flags: IMMUTABLE }),
  str('masterauth', '', { flags: SENSITIVE }),
  str('requirepass', '', { flags: SENSITIVE }),

  // ---- enums
  enumeration(
    'supervised',
    [
      ['upstart', 3],
      ['systemd', 2],
      ['auto', 1],
      ['no', 0],
    ],
    0,
    { flags: IMMUTABLE },
  ),
  enumeration(
    'syslog-facility',
    ['user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'].map((n, i) => [n, i]),
    1,
    { flags: IMMUTABLE },
  ),
  enumeration(
    'repl-diskless-load',
    [
      ['disabled', 0],
      ['on-empty-db', 1],
      ['swapdb', 2],
    ],
    0,
    { flags: DENY_LOADING },
  ),
  enumeration(
    'loglevel',
    [
      ['debug', 0],
      ['verbose', 1],
      ['notice', 2],
      ['warning', 3],
    ],
    2,
  ),
  enumeration(
    'maxmemory-policy',
    [
      ['volatile-lru', 0],
      ['volatile-lfu', 1],
      ['volatile-random', 2],
      ['volatile-ttl', 3],
      ['allkeys-lru', 4],
      ['allkeys-lfu', 5],
      ['allkeys-random', 6],
      ['noeviction', 7],
    ],
    7,
  ),
  enumeration(
    'appendfsync',
    [
      ['everysec', 0],
      ['always', 1],
      ['no', 2],
    ],
    0,
  ),
  // "yes" and "relative" are the same setting; CONFIG GET prints "yes".
  enumeration(
    'oom-score-adj',
    [
      ['no', 0],
      ['yes', 1],
      ['relative', 1],
      ['absolute', 2],
    ],
    0,
  ),
  enumeration(
    'acl-pubsub-default',
    [
      ['allchannels', 1],
      ['resetchannels', 0],
    ],
    0,
  ),
  enumeration(
    'sanitize-dump-payload',
    [
      ['no', 0],
      ['yes', 1],
      ['clients', 2],
    ],
    0,
  ),
  enumeration('enable-protected-configs', YES_NO_LOCAL, 0, { flags: IMMUTABLE }),
  enumeration('enable-debug-command', YES_NO_LOCAL, 0, { flags: IMMUTABLE }),
  enumeration('enable-module-command', YES_NO_LOCAL, 0, { flags: IMMUTABLE }),
  enumeration(
    'cluster-preferred-endpoint-type',
    [
      ['ip', 0],
      ['hostname', 1],
      ['unknown-endpoint', 2],
    ],
    0,
  ),
  enumeration(
    'propagation-error-behavior',
    [
      ['ignore', 0],
      ['panic', 1],
      ['panic-on-replicas', 2],
    ],
    0,
  ),
  enumeration('shutdown-on-sigint', SHUTDOWN_FLAGS, 0, { bitFlags: true, validate: validateShutdownFlags }),
  enumeration('shutdown-on-sigterm', SHUTDOWN_FLAGS, 0, { bitFlags: true, validate: validateShutdownFlags }),

  // ---- int
  num('databases', 'int', 1n, INT_MAX, 16n, { flags: IMMUTABLE }),
  num('port', 'int', 0n, 65535n, 6379n),
  num('io-threads', 'int', 1n, 128n, 1n, { flags: IMMUTABLE }),
  num('auto-aof-rewrite-percentage', 'int', 0n, INT_MAX, 100n),
  num('cluster-replica-validity-factor', 'int', 0n, INT_MAX, 10n, { alias: 'cluster-slave-validity-factor' }),
  num('list-max-listpack-size', 'int', INT_MIN, INT_MAX, -2n, { alias: 'list-max-ziplist-size' }),
  num('tcp-keepalive', 'int', 0n, INT_MAX, 300n),
  num('cluster-migration-barrier', 'int', 0n, INT_MAX, 1n),
  num('active-defrag-cycle-min', 'int', 1n, 99n, 1n),
  num('active-defrag-cycle-max', 'int', 1n, 99n, 25n),
  num('active-defrag-threshold-lower', 'int', 0n, 1000n, 10n),
  num('active-defrag-threshold-upper', 'int', 0n, 1000n, 100n),
  num('lfu-log-factor', 'int', 0n, INT_MAX, 10n),
  num('lfu-decay-time', 'int', 0n, INT_MAX, 1n),
  num('replica-priority', 'int', 0n, INT_MAX, 100n, { alias: 'slave-priority' }),
  num('repl-diskless-sync-delay', 'int', 0n, INT_MAX, 5n),
  num('maxmemory-samples', 'int', 1n, INT_MAX, 5n),
  num('maxmemory-eviction-tenacity', 'int', 0n, 100n, 10n),
  num('timeout', 'int', 0n, INT_MAX, 0n),
  num('replica-announce-port', 'int', 0n, 65535n, 0n, { alias: 'slave-announce-port' }),
  num('tcp-backlog', 'int', 0n, INT_MAX, 511n, { flags: IMMUTABLE }),
  num('cluster-port', 'int', 0n, 65535n, 0n, { flags: IMMUTABLE }),
  num('cluster-announce-bus-port', 'int', 0n, 65535n, 0n),
  num('cluster-announce-port', 'int', 0n, 65535n, 0n),
  num('cluster-announce-tls-port', 'int', 0n, 65535n, 0n),
  num('repl-timeout', 'int', 1n, INT_MAX, 60n),
  num('repl-ping-replica-period', 'int', 1n, INT_MAX, 10n, { alias: 'repl-ping-slave-period' }),
  num('list-compress-depth', 'int', 0n, INT_MAX, 0n),
  num('rdb-key-save-delay', 'int', INT_MIN, INT_MAX, 0n, { flags: HIDDEN }),
  num('key-load-delay', 'int', INT_MIN, INT_MAX, 0n, { flags: HIDDEN }),
  num('active-expire-effort', 'int', 1n, 10n, 1n),
  num('hz', 'int', 0n, INT_MAX, 10n, { clamp: clampHz }),
  num('min-replicas-to-write', 'int', 0n, INT_MAX, 0n, { alias: 'min-slaves-to-write' }),
  num('min-replicas-max-lag', 'int', 0n, INT_MAX, 10n, { alias: 'min-slaves-max-lag' }),
  num('watchdog-period', 'int', 0n, INT_MAX, 0n, { flags: HIDDEN }),
  num('shutdown-timeout', 'int', 0n, INT_MAX, 10n),
  num('repl-diskless-sync-max-replicas', 'int', 0n, INT_MAX, 0n),
  // Mnemo-specific, not in Redis: TCP port of the Prometheus text endpoint
  // (GET /metrics, src/observability/metrics-endpoint.ts); 0 = off. HIDDEN so
  // that CONFIG GET patterns list exactly Redis's directives; an exact
  // CONFIG GET/SET metrics-port, redis.conf and --metrics-port all work.
  num('metrics-port', 'int', 0n, 65535n, 0n, { flags: HIDDEN }),

  // ---- unsigned int / unsigned long
  num('maxclients', 'uint', 1n, UINT32_MAX, 10000n),
  num('unixsocketperm', 'uint', 0n, 0o777n, 0n, { flags: IMMUTABLE, octal: true }),
  num('socket-mark-id', 'uint', 0n, UINT32_MAX, 0n, { flags: IMMUTABLE }),
  num('active-defrag-max-scan-fields', 'ulong', 1n, LONG_MAX, 1000n),
  num('slowlog-max-len', 'ulong', 0n, LONG_MAX, 128n),
  num('acllog-max-len', 'ulong', 0n, LONG_MAX, 128n),

  // ---- long long / unsigned long long
  num('busy-reply-threshold', 'longlong', 0n, LONG_MAX, 5000n, { alias: 'lua-time-limit' }),
  num('cluster-node-timeout', 'longlong', 0n, LLONG_MAX, 15000n),
  num('slowlog-log-slower-than', 'longlong', -1n, LLONG_MAX, 10000n),
  num('latency-monitor-threshold', 'longlong', 0n, LLONG_MAX, 0n),
  num('proto-max-bulk-len', 'longlong', 1024n * 1024n, LONG_MAX, 512n * 1024n * 1024n, { memory: true }),
  num('stream-node-max-entries', 'longlong', 0n, LLONG_MAX, 100n),
  num('repl-backlog-size', 'longlong', 1n, LLONG_MAX, 1024n * 1024n, { memory: true, runtimeAdjust: minBacklog }),
  num('maxmemory', 'ulonglong', 0n, UINT64_MAX, 0n, { memory: true }),
  num('cluster-link-sendbuf-limit', 'ulonglong', 0n, UINT64_MAX, 0n, { memory: true }),

  // ---- size_t / ssize_t / time_t / off_t
  num('hash-max-listpack-entries', 'size_t', 0n, LONG_MAX, 512n, { alias: 'hash-max-ziplist-entries' }),
  num('set-max-intset-entries', 'size_t', 0n, LONG_MAX, 512n),
  num('zset-max-listpack-entries', 'size_t', 0n, LONG_MAX, 128n, { alias: 'zset-max-ziplist-entries' }),
  num('active-defrag-ignore-bytes', 'size_t', 1n, LLONG_MAX, 100n << 20n, { memory: true }),
  num('hash-max-listpack-value', 'size_t', 0n, LONG_MAX, 64n, { memory: true, alias: 'hash-max-ziplist-value' }),
  num('stream-node-max-bytes', 'size_t', 0n, LONG_MAX, 4096n, { memory: true }),
  num('zset-max-listpack-value', 'size_t', 0n, LONG_MAX, 64n, { memory: true, alias: 'zset-max-ziplist-value' }),
  num('hll-sparse-max-bytes', 'size_t', 0n, LONG_MAX, 3000n, { memory: true }),
  num('tracking-table-max-keys', 'size_t', 0n, LONG_MAX, 1000000n),
  num('client-query-buffer-limit', 'size_t', 1024n * 1024n, LONG_MAX, 1024n * 1024n * 1024n, { memory: true }),
  num('maxmemory-clients', 'ssize_t', -100n, INT64_MAX, 0n, { memory: true, percent: true }),
  num('repl-backlog-ttl', 'time_t', 0n, LONG_MAX, 3600n),
  num('auto-aof-rewrite-min-size', 'off_t', 0n, LLONG_MAX, 64n * 1024n * 1024n, { memory: true }),
  num('loading-process-events-interval-bytes', 'off_t', 1024n, INT_MAX, 2n * 1024n * 1024n, { flags: HIDDEN }),

  // ---- TLS (Redis 7.0.15 as shipped is built with TLS support)
  num('tls-port', 'int', 0n, 65535n, 0n),
  num('tls-session-cache-size', 'int', 0n, INT_MAX, 20n * 1024n),
  num('tls-session-cache-timeout', 'int', 0n, INT_MAX, 300n),
  bool('tls-cluster', false),
  bool('tls-replication', false),
  enumeration(
    'tls-auth-clients',
    [
      ['no', 0],
      ['yes', 1],
      ['optional', 2],
    ],
    1,
  ),
  bool('tls-prefer-server-ciphers', false),
  bool('tls-session-caching', true),
  str('tls-cert-file', ''),
  str('tls-key-file', ''),
  str('tls-key-file-pass', ''),
  str('tls-client-cert-file', ''),
  str('tls-client-key-file', ''),
  str('tls-client-key-file-pass', ''),
  str('tls-dh-params-file', ''),
  str('tls-ca-cert-file', ''),
  str('tls-ca-cert-dir', ''),
  str('tls-protocols', ''),
  str('tls-ciphers', ''),
  str('tls-ciphersuites', ''),

  // ---- special syntax
  dirDirective,
  saveDirective,
  clientOutputBufferLimitDirective,
  oomScoreAdjValuesDirective,
  notifyKeyspaceEventsDirective,
  bindDirective,
  replicaofDirective,
  latencyPercentilesDirective,
];

/** Directives Redis 7.0 still accepts in a config file but ignores. */
export const DEPRECATED_DIRECTIVES: ReadonlyMap<string, number> = new Map([
  ['list-max-ziplist-entries', 2],
  ['list-max-ziplist-value', 2],
  ['lua-replicate-commands', 2],
]);

/**
 * Directives Mnemo acts on. Everything else is accepted, stored and reported
 * by CONFIG GET but has no effect yet.
 */
/** The directives that make the TLS listener's context (CONFIG SET reloads it, as Redis's applyTlsCfg). */
export const TLS_CONTEXT_DIRECTIVES: ReadonlySet<string> = new Set([
  'tls-cert-file',
  'tls-key-file',
  'tls-key-file-pass',
  'tls-ca-cert-file',
  'tls-ca-cert-dir',
  'tls-auth-clients',
  'tls-protocols',
  'tls-ciphers',
  'tls-ciphersuites',
  'tls-prefer-server-ciphers',
  'tls-session-caching',
  'tls-session-cache-timeout',
  'tls-dh-params-file',
]);

export const EFFECTIVE_DIRECTIVES: ReadonlySet<string> = new Set([
  'port',
  // TLS for client connections and replication links (src/net/tls.ts); tls-cluster,
  // cluster-announce-tls-port and tls-session-cache-size are not used yet.
  'tls-port',
  ...TLS_CONTEXT_DIRECTIVES,
  'tls-replication',
  'tls-client-cert-file',
  'tls-client-key-file',
  'tls-client-key-file-pass',
  'bind',
  'bind-source-addr',
  'protected-mode',
  'databases',
  'requirepass',
  // ACL (server/acl.ts)
  'aclfile',
  'acllog-max-len',
  'acl-pubsub-default',
  'maxclients',
  'timeout',
  'hz',
  'proto-max-bulk-len',
  'client-query-buffer-limit',
  'client-output-buffer-limit',
  'tracking-table-max-keys',
  'notify-keyspace-events',
  'hash-max-listpack-entries',
  'hash-max-listpack-value',
  'list-max-listpack-size',
  'set-max-intset-entries',
  'zset-max-listpack-entries',
  'zset-max-listpack-value',
  'save',
  'dir',
  'dbfilename',
  'appendonly',
  'maxmemory',
  // client eviction (server/client-eviction.ts)
  'maxmemory-clients',
  'maxmemory-policy',
  'maxmemory-samples',
  'maxmemory-eviction-tenacity',
  'lfu-log-factor',
  'lfu-decay-time',
  'lazyfree-lazy-eviction',
  'lazyfree-lazy-expire',
  'lazyfree-lazy-user-del',
  'lazyfree-lazy-user-flush',
  'replica-ignore-maxmemory',
  'tcp-keepalive',
  'metrics-port',
  'slowlog-log-slower-than',
  'slowlog-max-len',
  'latency-monitor-threshold',
  'latency-tracking',
  'latency-tracking-info-percentiles',
  // src/server/proc-title.ts
  'set-proc-title',
  'proc-title-template',
  // written at start-up by the server process (bin/mnemo-server.ts)
  'pidfile',
  // no fsync while a rewrite runs (persistence/aof)
  'no-appendfsync-on-rewrite',
  // src/server/oom-score.ts
  'oom-score-adj',
  'oom-score-adj-values',
  'loglevel',
  'logfile',
  // src/server/shutdown.ts
  'shutdown-timeout',
  'shutdown-on-sigint',
  'shutdown-on-sigterm',
  // BGSAVE, full syncs and the AOF rewrite (a test hook, as in Redis)
  'rdb-key-save-delay',
  // src/server/replication.ts, src/server/replica-link.ts
  'replicaof',
  'masterauth',
  'masteruser',
  'repl-backlog-size',
  'repl-backlog-ttl',
  'repl-diskless-sync',
  'repl-diskless-sync-delay',
  'repl-diskless-sync-max-replicas',
  'repl-diskless-load',
  'repl-ping-replica-period',
  'repl-timeout',
  'replica-read-only',
  'replica-serve-stale-data',
  'min-replicas-to-write',
  'min-replicas-max-lag',
  // src/cluster/
  'cluster-enabled',
  'cluster-config-file',
  'cluster-node-timeout',
  'cluster-port',
  'cluster-announce-ip',
  'cluster-announce-port',
  'cluster-announce-bus-port',
  'cluster-require-full-coverage',
  'cluster-allow-reads-when-down',
  'cluster-allow-pubsubshard-when-down',
  'cluster-allow-replica-migration',
  'cluster-migration-barrier',
  'cluster-replica-no-failover',
  'cluster-replica-validity-factor',
  'cluster-announce-hostname',
  'cluster-preferred-endpoint-type',
  'cluster-link-sendbuf-limit',
]);
