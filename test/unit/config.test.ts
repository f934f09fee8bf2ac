/**
 * The configuration registry (src/config). Expected values and error texts
 * are literals recorded from redis-server 7.0.15 (CONFIG GET / CONFIG SET
 * replies and its "FATAL CONFIG FILE ERROR" output).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Config,
  ConfigFileError,
  EFFECTIVE_DIRECTIVES,
  formatKeyspaceEvents,
  NOTIFY_ALL,
  NOTIFY_GENERIC,
  NOTIFY_KEYEVENT,
  NOTIFY_KEYSPACE,
  NOTIFY_NEW,
  NOTIFY_STRING,
  parseKeyspaceEvents,
} from '../../src/config/config.js';
import { parseMemory } from '../../src/config/parse.js';
import { splitArgs, quoteArg } from '../../src/util/splitargs.js';
import { parseServerArgs } from '../../src/config/args.js';
import { fixture } from '../helpers/fixtures.js';

function withTempDir(fn: (dir: string) => void): void {
  // realpath: `dir` values are physical paths, like getcwd().
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mnemo-config-')));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fail = (arg: string, reason: string) => `ERR CONFIG SET failed (possibly related to argument '${arg}') - ${reason}`;

// Every name CONFIG GET * lists on redis-server 7.0.15.
const REDIS_NAMES = [
  'acl-pubsub-default', 'aclfile', 'acllog-max-len', 'active-defrag-cycle-max',
  'active-defrag-cycle-min', 'active-defrag-ignore-bytes', 'active-defrag-max-scan-fields', 'active-defrag-threshold-lower',
  'active-defrag-threshold-upper', 'active-expire-effort', 'activedefrag', 'activerehashing',
  'always-show-logo', 'aof-disable-auto-gc', 'aof-load-truncated', 'aof-rewrite-incremental-fsync',
  'aof-timestamp-enabled', 'aof-use-rdb-preamble', 'aof_rewrite_cpulist', 'appenddirname',
  'appendfilename', 'appendfsync', 'appendonly', 'auto-aof-rewrite-min-size',
  'auto-aof-rewrite-percentage', 'bgsave_cpulist', 'bind', 'bind-source-addr',
  'bio_cpulist', 'busy-reply-threshold', 'client-output-buffer-limit', 'client-query-buffer-limit',
  'cluster-allow-pubsubshard-when-down', 'cluster-allow-reads-when-down', 'cluster-allow-replica-migration', 'cluster-announce-bus-port',
  'cluster-announce-hostname', 'cluster-announce-ip', 'cluster-announce-port', 'cluster-announce-tls-port',
  'cluster-config-file', 'cluster-enabled', 'cluster-link-sendbuf-limit', 'cluster-migration-barrier',
  'cluster-node-timeout', 'cluster-port', 'cluster-preferred-endpoint-type', 'cluster-replica-no-failover',
  'cluster-replica-validity-factor', 'cluster-require-full-coverage', 'cluster-slave-no-failover', 'cluster-slave-validity-factor',
  'crash-log-enabled', 'crash-memcheck-enabled', 'daemonize', 'databases',
  'dbfilename', 'dir', 'disable-thp', 'dynamic-hz',
  'enable-debug-command', 'enable-module-command', 'enable-protected-configs', 'hash-max-listpack-entries',
  'hash-max-listpack-value', 'hash-max-ziplist-entries', 'hash-max-ziplist-value', 'hll-sparse-max-bytes',
  'hz', 'ignore-warnings', 'io-threads', 'io-threads-do-reads',
  'jemalloc-bg-thread', 'latency-monitor-threshold', 'latency-tracking', 'latency-tracking-info-percentiles',
  'lazyfree-lazy-eviction', 'lazyfree-lazy-expire', 'lazyfree-lazy-server-del', 'lazyfree-lazy-user-del',
  'lazyfree-lazy-user-flush', 'lfu-decay-time', 'lfu-log-factor', 'list-compress-depth',
  'list-max-listpack-size', 'list-max-ziplist-size', 'logfile', 'loglevel',
  'lua-time-limit', 'masterauth', 'masteruser', 'maxclients',
  'maxmemory', 'maxmemory-clients', 'maxmemory-eviction-tenacity', 'maxmemory-policy',
  'maxmemory-samples', 'min-replicas-max-lag', 'min-replicas-to-write', 'min-slaves-max-lag',
  'min-slaves-to-write', 'no-appendfsync-on-rewrite', 'notify-keyspace-events', 'oom-score-adj',
  'oom-score-adj-values', 'pidfile', 'port', 'proc-title-template',
  'propagation-error-behavior', 'protected-mode', 'proto-max-bulk-len', 'rdb-del-sync-files',
  'rdb-save-incremental-fsync', 'rdbchecksum', 'rdbcompression', 'repl-backlog-size',
  'repl-backlog-ttl', 'repl-disable-tcp-nodelay', 'repl-diskless-load', 'repl-diskless-sync',
  'repl-diskless-sync-delay', 'repl-diskless-sync-max-replicas', 'repl-ping-replica-period', 'repl-ping-slave-period',
  'repl-timeout', 'replica-announce-ip', 'replica-announce-port', 'replica-announced',
  'replica-ignore-disk-write-errors', 'replica-ignore-maxmemory', 'replica-lazy-flush', 'replica-priority',
  'replica-read-only', 'replica-serve-stale-data', 'replicaof', 'requirepass',
  'sanitize-dump-payload', 'save', 'server_cpulist', 'set-max-intset-entries',
  'set-proc-title', 'shutdown-on-sigint', 'shutdown-on-sigterm', 'shutdown-timeout',
  'slave-announce-ip', 'slave-announce-port', 'slave-ignore-maxmemory', 'slave-lazy-flush',
  'slave-priority', 'slave-read-only', 'slave-serve-stale-data', 'slaveof',
  'slowlog-log-slower-than', 'slowlog-max-len', 'socket-mark-id', 'stop-writes-on-bgsave-error',
  'stream-node-max-bytes', 'stream-node-max-entries', 'supervised', 'syslog-enabled',
  'syslog-facility', 'syslog-ident', 'tcp-backlog', 'tcp-keepalive',
  'timeout', 'tls-auth-clients', 'tls-ca-cert-dir', 'tls-ca-cert-file',
  'tls-cert-file', 'tls-ciphers', 'tls-ciphersuites', 'tls-client-cert-file',
  'tls-client-key-file', 'tls-client-key-file-pass', 'tls-cluster', 'tls-dh-params-file',
  'tls-key-file', 'tls-key-file-pass', 'tls-port', 'tls-prefer-server-ciphers',
  'tls-protocols', 'tls-replication', 'tls-session-cache-size', 'tls-session-cache-timeout',
  'tls-session-caching', 'tracking-table-max-keys', 'unixsocket', 'unixsocketperm',
  'zset-max-listpack-entries', 'zset-max-listpack-value', 'zset-max-ziplist-entries', 'zset-max-ziplist-value',
];

// Defaults reported by `redis-server --port N` (no config file).
const REDIS_DEFAULTS: Array<[string, string]> = [
  ['acl-pubsub-default', 'resetchannels'],
  ['acllog-max-len', '128'],
  ['active-defrag-ignore-bytes', '104857600'],
  ['appendfsync', 'everysec'],
  ['appendonly', 'no'],
  ['auto-aof-rewrite-min-size', '67108864'],
  ['bind', '* -::*'],
  ['busy-reply-threshold', '5000'],
  ['client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'],
  ['client-query-buffer-limit', '1073741824'],
  ['cluster-config-file', 'nodes.conf'],
  ['daemonize', 'no'],
  ['databases', '16'],
  ['hash-max-listpack-entries', '512'],
  ['hash-max-ziplist-value', '64'],
  ['hz', '10'],
  ['latency-tracking-info-percentiles', '50 99 99.9'],
  ['list-max-listpack-size', '-2'],
  ['loglevel', 'notice'],
  ['lua-time-limit', '5000'],
  ['maxclients', '10000'],
  ['maxmemory', '0'],
  ['maxmemory-clients', '0'],
  ['maxmemory-policy', 'noeviction'],
  ['notify-keyspace-events', ''],
  ['oom-score-adj-values', '0 200 800'],
  ['pidfile', ''],
  ['port', '6379'],
  ['proc-title-template', '{title} {listen-addr} {server-mode}'],
  ['proto-max-bulk-len', '536870912'],
  ['repl-backlog-size', '1048576'],
  ['replicaof', ''],
  ['sanitize-dump-payload', 'no'],
  ['save', '3600 1 300 100 60 10000'],
  ['set-max-intset-entries', '512'],
  ['shutdown-on-sigint', 'default'],
  ['slave-priority', '100'],
  ['slowlog-log-slower-than', '10000'],
  ['stream-node-max-bytes', '4096'],
  ['syslog-facility', 'local0'],
  ['tcp-backlog', '511'],
  ['timeout', '0'],
  ['tls-auth-clients', 'yes'],
  ['tls-session-cache-size', '20480'],
  ['tracking-table-max-keys', '1000000'],
  ['unixsocketperm', '0'],
  ['zset-max-listpack-entries', '128'],
  // Hidden: only reachable by exact name.
  ['key-load-delay', '0'],
  ['loading-process-events-interval-bytes', '2097152'],
  ['use-exit-on-panic', 'no'],
];

// ---- registry contents and defaults --------------------------------------------

test('CONFIG GET * lists exactly the names Redis 7.0.15 lists', () => {
  const names = new Config().configGet(['*']).map(([n]) => n);
  assert.equal(names.length, new Set(names).size, 'no duplicates');
  assert.deepEqual([...names].sort(), [...REDIS_NAMES].sort());
});

test('defaults equal redis-server 7.0.15 compiled-in defaults', () => {
  const cfg = new Config();
  for (const [name, value] of REDIS_DEFAULTS) assert.equal(cfg.get(name), value, name);
  assert.equal(cfg.get('dir'), process.cwd());
  assert.equal(cfg.get('no-such-directive'), undefined);
});

test('typed access and fast fields', () => {
  const cfg = new Config({ maxmemory: '1gb', requirepass: 'secret', 'notify-keyspace-events': 'KEA' });
  assert.equal(cfg.getNumber('maxmemory'), 1073741824);
  assert.equal(cfg.maxmemory, 1073741824);
  assert.equal(cfg.requirepass, 'secret');
  assert.equal(cfg.notifyKeyspaceEvents, NOTIFY_ALL | NOTIFY_KEYSPACE | NOTIFY_KEYEVENT);
  assert.equal(cfg.getBool('appendonly'), false);
  assert.equal(cfg.getNumber('list-max-ziplist-size'), -2);
  assert.equal(cfg.protoMaxBulkLen, 536870912);
  assert.equal(cfg.configSet([['hash-max-ziplist-entries', '7']]), null);
  assert.equal(cfg.hashMaxListpackEntries, 7);
  assert.equal(cfg.getBigInt('cluster-node-timeout'), 15000n);
  assert.deepEqual(cfg.saveParams(), [
    { seconds: 3600, changes: 1 },
    { seconds: 300, changes: 100 },
    { seconds: 60, changes: 10000 },
  ]);
  assert.deepEqual(cfg.bindAddresses(), ['*', '-::*']);
  assert.equal(cfg.isSensitive('requirepass'), true);
  assert.equal(cfg.isSensitive('maxmemory'), false);
  assert.ok(EFFECTIVE_DIRECTIVES.has('maxmemory'));
  for (const name of EFFECTIVE_DIRECTIVES) assert.notEqual(cfg.get(name), undefined, name);
  assert.throws(() => new Config({ maxmemory: 'lots' }), (e: ConfigFileError) => e.reason === 'argument must be a memory value');
});

// ---- value parsing and printing ----------------------------------------------

test('memory values parse like memtoull', () => {
  const cases: Array<[string, bigint | null]> = [
    ['0', 0n], ['', 0n], ['b', 0n], ['100', 100n], ['1B', 1n], ['1k', 1000n], ['1kb', 1024n], ['1KB', 1024n],
    ['1Mb', 1048576n], ['1m', 1000000n], ['1G', 1000000000n], ['1gb', 1073741824n], ['010', 10n],
    ['99999999999999999999', 18446744073709551615n], ['20000000000gb', 3028092406290448384n], ['17179869184gb', 0n],
    ['-1', null], ['-0', null], ['1t', null], ['1 kb', null], ['1.5k', null], [' 1', null], ['1 ', null], ['0x10', null], ['+1', null],
  ];
  for (const [s, want] of cases) assert.equal(parseMemory(s), want, JSON.stringify(s));

  const cfg = new Config();
  const setGet = (name: string, v: string) => (cfg.configSet([[name, v]]) ?? cfg.get(name));
  assert.equal(setGet('maxmemory', '1KB'), '1024');
  assert.equal(setGet('maxmemory', '18446744073709551616'), '18446744073709551615');
  assert.equal(setGet('hash-max-listpack-value', '1k'), '1000');
  assert.equal(setGet('maxmemory-clients', '10%'), '10%');
  assert.equal(cfg.getNumber('maxmemory-clients'), -10); // a percentage reads as -percent
  assert.equal(setGet('maxmemory-clients', '2mb'), '2097152');
  assert.equal(cfg.getNumber('maxmemory-clients'), 2097152);
  assert.equal(setGet('maxmemory-clients', '18446744073709551615'), '1%'); // -1 read as a percentage, as in Redis
  assert.equal(setGet('repl-backlog-size', '1k'), '16384'); // runtime minimum
  assert.equal(setGet('hz', '0'), '1');
  assert.equal(setGet('hz', '100000'), '500');
  assert.equal(setGet('latency-tracking-info-percentiles', '12.3456789 1e1 0x10 100.0'), '12.345679 10 16 100');
  assert.equal(setGet('save', '+5 1 010 2'), '5 1 10 2');
  assert.equal(setGet('save', '1 4294967297'), '1 1');
  assert.equal(setGet('save', ''), '');
  assert.equal(setGet('client-output-buffer-limit', 'pubsub 1mb 2k 3 replica 4 5 6'), 'normal 0 0 0 slave 4 5 6 pubsub 1048576 2000 3');
  assert.equal(setGet('client-output-buffer-limit', 'normal 1 2 99999999999'), 'normal 1 2 1215752191 slave 4 5 6 pubsub 1048576 2000 3');
  assert.equal(setGet('oom-score-adj-values', '+1 010 '), '1 10 0'); // the empty third value reads as 0
  assert.equal(setGet('oom-score-adj-values', '+1 010 -2000'), '1 10 -2000');
  assert.equal(setGet('oom-score-adj-values', '1 2'), fail('oom-score-adj-values', 'wrong number of arguments'));
  assert.equal(setGet('shutdown-on-sigint', 'now nosave force'), 'nosave now force');
  assert.equal(setGet('shutdown-on-sigint', 'default NOW'), 'now');
  assert.equal(setGet('oom-score-adj', 'relative'), 'yes');
  assert.equal(setGet('loglevel', 'WARNING'), 'warning');
  assert.equal(setGet('activerehashing', 'No'), 'no');
  assert.equal(setGet('bind', '127.0.0.1 ::1'), '127.0.0.1 ::1');
  assert.equal(setGet('slowlog-log-slower-than', '-1'), '-1');
});

test('notify-keyspace-events flags and Redis spelling', () => {
  const cases: Array<[string, string]> = [
    ['KEA', 'AKE'], ['Elg', 'glE'], ['KA', 'AK'], ['En', 'nE'], ['KEAmn', 'AKEm'], ['ndt', 'tdn'], ['nx$', '$xn'],
    ['g$lshzxetd', 'A'], ['g$lshzxet', 'g$lshzxet'], ['mnE', 'nEm'], ['', ''],
  ];
  const cfg = new Config();
  for (const [input, printed] of cases) {
    assert.equal(cfg.configSet([['notify-keyspace-events', input]]), null, input);
    assert.equal(cfg.get('notify-keyspace-events'), printed, input);
    assert.equal(formatKeyspaceEvents(parseKeyspaceEvents(input)!), printed);
  }
  assert.equal(parseKeyspaceEvents('K$g'), NOTIFY_KEYSPACE | NOTIFY_STRING | NOTIFY_GENERIC);
  assert.equal(parseKeyspaceEvents('AKEmn')! & NOTIFY_NEW, NOTIFY_NEW); // kept even though not printed
  assert.equal(parseKeyspaceEvents('a'), null);
});

// ---- CONFIG SET errors ----------------------------------------------------------

test('CONFIG SET error texts match Redis', () => {
  const cfg = new Config();
  const cases: Array<[Array<[string, string]>, string]> = [
    [[['foo', '1']], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"],
    [[['Foo', '1'], ['maxmemory', '1']], "ERR Unknown option or number of arguments for CONFIG SET - 'Foo'"],
    [[['daemonize', 'no']], fail('daemonize', "can't set immutable config")],
    [[['DAEMONIZE', 'no']], fail('DAEMONIZE', "can't set immutable config")],
    [[['slaveof', 'no one']], fail('slaveof', "can't set immutable config")],
    [[['dir', '/tmp']], fail('dir', "can't set protected config")],
    [[['dbfilename', 'x.rdb']], fail('dbfilename', "can't set protected config")],
    [[['maxmemory', '1'], ['maxmemory', '2']], fail('maxmemory', 'duplicate parameter')],
    [[['maxmemory', '1'], ['MAXMEMORY', '2']], fail('MAXMEMORY', 'duplicate parameter')],
    // The first problem wins, whatever comes after it.
    [[['daemonize', 'no'], ['foo', '1']], fail('daemonize', "can't set immutable config")],
    [[['maxmemory', '1'], ['maxmemory', '2'], ['foo', '3']], fail('maxmemory', 'duplicate parameter')],
    // Names are all checked before any value.
    [[['maxmemory', 'x'], ['daemonize', 'no']], fail('daemonize', "can't set immutable config")],
    [[['maxmemory', 'x'], ['hz', 'y']], fail('maxmemory', 'argument must be a memory value')],
    // Value errors name the directive as registered (an alias stays the alias, lowercased).
    [[['HASH-MAX-ZIPLIST-ENTRIES', 'x']], fail('hash-max-ziplist-entries', "argument couldn't be parsed into an integer")],
    [[['activerehashing', 'y']], fail('activerehashing', "argument must be 'yes' or 'no'")],
    [[['hz', '010']], fail('hz', "argument couldn't be parsed into an integer")],
    [[['hz', '-1']], fail('hz', 'argument must be between 0 and 2147483647 inclusive')],
    [[['maxclients', '0']], fail('maxclients', 'argument must be between 1 and 4294967295 inclusive')],
    [[['hash-max-listpack-entries', '-1']], fail('hash-max-listpack-entries', 'argument must be between 0 and 9223372036854775807 inclusive')],
    [[['client-query-buffer-limit', '1k']], fail('client-query-buffer-limit', 'argument must be between 1048576 and 9223372036854775807 inclusive')],
    [[['maxmemory', '-1']], fail('maxmemory', 'argument must be a memory value')],
    [[['maxmemory-clients', 'x']], fail('maxmemory-clients', 'argument must be a memory or percent value')],
    [[['maxmemory-clients', '101%']], fail('maxmemory-clients', 'percentage argument must be less or equal to 100')],
    [[['loglevel', 'notice warning']], fail('loglevel', 'argument(s) must be one of the following: debug, verbose, notice, warning')],
    [[['shutdown-on-sigterm', 'save nosave']], fail('shutdown-on-sigterm', "shutdown options SAVE and NOSAVE can't be used simultaneously")],
    [[['save', '0 1']], fail('save', 'Invalid save parameters')],
    [[['save', '900 1  300 10']], fail('save', 'Invalid save parameters')],
    [[['client-output-buffer-limit', 'normal 1 2']], fail('client-output-buffer-limit', 'Wrong number of arguments in buffer limit configuration.')],
    [[['client-output-buffer-limit', 'master 1 2 3']], fail('client-output-buffer-limit', 'Invalid client class specified in buffer limit configuration.')],
    [[['client-output-buffer-limit', 'normal 1 2 2147483648']], fail('client-output-buffer-limit', 'Error in hard, soft or soft_seconds setting in buffer limit configuration.')],
    [[['oom-score-adj-values', '0 0 2001']], fail('oom-score-adj-values', 'Invalid oom-score-adj-values, elements must be between -2000 and 2000.')],
    [[['notify-keyspace-events', 'KEA!']], fail('notify-keyspace-events', "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")],
    [[['latency-tracking-info-percentiles', 'nan']], fail('latency-tracking-info-percentiles', 'Invalid latency-tracking-info-percentiles parameters')],
    [[['latency-tracking-info-percentiles', 'inf']], fail('latency-tracking-info-percentiles', 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]')],
    [[['cluster-announce-hostname', 'a_b']], fail('cluster-announce-hostname', 'Hostnames may only contain alphanumeric characters, hyphens or dots')],
    [[['cluster-announce-hostname', 'a'.repeat(256)]], fail('cluster-announce-hostname', 'Hostnames must be less than 256 characters')],
    [[['proc-title-template', '{title}']], fail('proc-title-template', 'template format is invalid or contains unknown variables')],
  ];
  for (const [pairs, want] of cases) assert.equal(cfg.configSet(pairs), want, JSON.stringify(pairs));
  assert.equal(cfg.configSet([['appendonly', 'yes']], { loading: true }), 'LOADING Redis is loading the dataset in memory');
  // Nothing above changed anything.
  const fresh = new Config();
  for (const name of REDIS_NAMES) assert.equal(cfg.get(name), fresh.get(name), name);
});

test('a name and its alias in one CONFIG SET are not duplicates; the last one wins', () => {
  const cfg = new Config();
  assert.equal(cfg.configSet([['hash-max-ziplist-entries', '1'], ['hash-max-listpack-entries', '2']]), null);
  assert.equal(cfg.get('hash-max-ziplist-entries'), '2');
  assert.equal(cfg.get('hash-max-listpack-entries'), '2');
});

test('protected directives follow enable-protected-configs', () => {
  const local = new Config({ 'enable-protected-configs': 'local' });
  assert.equal(local.configSet([['dbfilename', 'a.rdb']]), fail('dbfilename', "can't set protected config"));
  assert.equal(local.configSet([['dbfilename', 'a.rdb']], { localClient: true }), null);
  assert.equal(local.get('dbfilename'), 'a.rdb');
  assert.equal(local.configSet([['dbfilename', 'a/b.rdb']], { localClient: true }), fail('dbfilename', "dbfilename can't be a path, just a filename"));
  withTempDir((dir) => {
    const open = new Config({ 'enable-protected-configs': 'yes' });
    assert.equal(open.configSet([['dir', dir]]), null);
    assert.equal(open.configSet([['dir', join(dir, 'missing')]]), fail('dir', 'No such file or directory'));
    writeFileSync(join(dir, 'file'), '');
    assert.equal(open.configSet([['dir', join(dir, 'file')]]), fail('dir', 'Not a directory'));
    mkdirSync(join(dir, 'sub'));
    assert.equal(open.configSet([['dir', 'sub']]), null); // relative to the current dir, like chdir
    assert.equal(open.get('dir'), join(dir, 'sub'));
    assert.equal(open.dir, join(dir, 'sub'));
  });
});

test('multi-set is all-or-nothing, and change hooks can veto', () => {
  const cfg = new Config();
  assert.equal(cfg.configSet([['maxmemory', '10mb'], ['hz', 'x']]), fail('hz', "argument couldn't be parsed into an integer"));
  assert.equal(cfg.get('maxmemory'), '0');
  assert.equal(cfg.maxmemory, 0);

  const calls: string[] = [];
  cfg.onChange('maxmemory', (name, value) => {
    calls.push(`${name}=${value}`);
  });
  cfg.onChange('port', (_name, value) => (value === '1' ? 'Unable to listen on this port. Check server logs.' : undefined));
  assert.equal(cfg.configSet([['maxmemory', '1mb'], ['timeout', '5']]), null);
  assert.deepEqual(calls, ['maxmemory=1048576']);
  assert.equal(cfg.configSet([['maxmemory', '1mb']]), null);
  assert.equal(calls.length, 1, 'no hook call when the value does not change');

  assert.equal(cfg.configSet([['maxmemory', '2mb'], ['port', '1']]), fail('port', 'Unable to listen on this port. Check server logs.'));
  assert.equal(cfg.get('maxmemory'), '1048576');
  assert.equal(cfg.get('port'), '6379');
  assert.deepEqual(calls, ['maxmemory=1048576', 'maxmemory=2097152', 'maxmemory=1048576'], 'hooks see the restore');

  const off = cfg.onChange('hz', () => 'nope');
  off();
  assert.equal(cfg.configSet([['hz', '20']]), null);
  assert.equal(cfg.hz, 20);
});

// ---- CONFIG GET patterns --------------------------------------------------------

test('CONFIG GET patterns, exact names and de-duplication', () => {
  const cfg = new Config();
  const keys = (patterns: string[]) => cfg.configGet(patterns).map(([k]) => k).sort();
  assert.deepEqual(keys(['hash-max-*']), ['hash-max-listpack-entries', 'hash-max-listpack-value', 'hash-max-ziplist-entries', 'hash-max-ziplist-value']);
  assert.deepEqual(keys(['HASH-MAX-*-VALUE']), ['hash-max-listpack-value', 'hash-max-ziplist-value']);
  // Exact names answer under the spelling asked for; case-insensitive de-duplication.
  assert.deepEqual(cfg.configGet(['PORT', 'port', 'Port']), [['PORT', '6379']]);
  assert.deepEqual(keys(['HASH-max-ziplist-entries', 'hash-max-*']), ['HASH-max-ziplist-entries', 'hash-max-listpack-entries', 'hash-max-listpack-value', 'hash-max-ziplist-value']);
  assert.deepEqual(keys(['maxmemory', 'maxmemory*']), ['maxmemory', 'maxmemory-clients', 'maxmemory-eviction-tenacity', 'maxmemory-policy', 'maxmemory-samples']);
  // Hidden directives need the exact name.
  assert.deepEqual(cfg.configGet(['key-load-delay']), [['key-load-delay', '0']]);
  assert.deepEqual(keys(['key-load-*']), []);
  assert.deepEqual(keys(['*-?ag']), ['min-replicas-max-lag', 'min-slaves-max-lag']);
  assert.deepEqual(keys(['[s]ave', 'nonexistent']), ['save']);
  assert.deepEqual(keys(['slaveof', 'replicaof']), ['replicaof', 'slaveof']);
  assert.equal(cfg.configGet(['*']).length, REDIS_NAMES.length);
});

// ---- config files ---------------------------------------------------------------

test("Debian's redis.conf for 7.0 loads unchanged", () => {
  const cfg = new Config(undefined, { checkDir: false });
  cfg.loadFile(fixture('redis-7.0.conf'));
  assert.equal(cfg.get('bind'), '127.0.0.1 -::1');
  assert.equal(cfg.get('daemonize'), 'yes');
  assert.equal(cfg.get('pidfile'), '/run/redis/redis-server.pid');
  assert.equal(cfg.get('logfile'), '/var/log/redis/redis-server.log');
  assert.equal(cfg.get('dir'), '/var/lib/redis');
  assert.equal(cfg.get('save'), '3600 1 300 100 60 10000');
  assert.equal(cfg.get('auto-aof-rewrite-min-size'), '67108864');
  assert.equal(cfg.get('client-output-buffer-limit'), 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
  assert.equal(cfg.get('proc-title-template'), '{title} {listen-addr} {server-mode}');
});

test('a bad directive is reported with its line', () => {
  const cfg = new Config();
  assert.throws(
    () => cfg.loadText('# comment\n\nport 7000\n  maxmemory 1mb 2mb  \n', 'test.conf'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigFileError);
      assert.equal(e.line, 4);
      assert.equal(e.lineText, 'maxmemory 1mb 2mb');
      assert.equal(e.reason, 'wrong number of arguments');
      assert.equal(e.source, 'test.conf');
      assert.equal(
        e.message,
        "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 4 (test.conf)\n>>> 'maxmemory 1mb 2mb'\nwrong number of arguments",
      );
      return true;
    },
  );
  const reasons: Array<[string, string]> = [
    ['foo bar', 'Bad directive or wrong number of arguments'],
    ['port "123', 'Unbalanced quotes in configuration line'],
    ['requirepass "a"b', 'Unbalanced quotes in configuration line'],
    ['maxmemory x', 'argument must be a memory value'],
    ['maxmemory 1mb # comment', 'wrong number of arguments'],
    ['unixsocketperm 800', "argument couldn't be parsed as an octal number"],
    ['unixsocketperm 7777', 'argument must be between 0 and 777 inclusive'],
    ['dbfilename a/b', "dbfilename can't be a path, just a filename"],
    ['appendfilename ""', "appendfilename can't be empty"],
    ['supervised foo', 'argument(s) must be one of the following: upstart, systemd, auto, no'],
    ['replicaof host', 'wrong number of arguments'],
    ['replicaof host 70000', 'Invalid master port'],
    ['sentinel monitor x', 'sentinel directive while not in sentinel mode'],
    ['rename-command FOO', 'Bad directive or wrong number of arguments'],
    ['foo.bar', 'Module config specified without value'],
    ['list-max-ziplist-entries 512 1', 'Bad directive or wrong number of arguments'],
  ];
  for (const [line, reason] of reasons) {
    assert.throws(() => new Config().loadText(line), (e: ConfigFileError) => e.reason === reason && e.line === 1, line);
  }
  assert.throws(
    () => new Config().loadText('user foo on\nuser foo off'),
    (e: ConfigFileError) => e.reason === "Error in user declaration 'foo': Duplicate user found. A user can only be defined once in config files" && e.line === 2,
  );
  assert.throws(
    () => new Config().loadText('cluster-enabled yes\nreplicaof 127.0.0.1 7000'),
    (e: ConfigFileError) => e.message === '*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode',
  );
});

test('config file syntax: quoting, case, save lines, extra directives', () => {
  const cfg = new Config();
  cfg.loadText(
    [
      'MAXMEMORY 2mb',
      '\trequirepass "a b\\x41\\n"',
      "masterauth 'it\\'s'",
      'masteruser a"b c"',
      'save 900 1',
      'save 300 10',
      'hz 0',
      'slaveof 127.0.0.1 6380',
      'oom-score-adj-values "1 2 3"', // a lone value of a multi-argument directive is split
      'rename-command FLUSHALL ""',
      'rename-command CONFIG MYCONFIG',
      'user alice on >pw ~* +@all',
      'loadmodule /x/mod.so a b',
      'list-max-ziplist-entries 512', // deprecated, ignored
      'lua-replicate-commands yes',
      'sentinel',
      'mymod.opt 5',
      'unixsocketperm 755',
    ].join('\r\n'),
  );
  assert.equal(cfg.get('maxmemory'), '2097152');
  assert.equal(cfg.requirepass, 'a bA\n');
  assert.equal(cfg.get('masterauth'), "it's");
  assert.equal(cfg.get('masteruser'), 'ab c');
  assert.equal(cfg.get('save'), '900 1 300 10');
  assert.equal(cfg.get('hz'), '1');
  assert.deepEqual(cfg.replicaOf(), { host: '127.0.0.1', port: 6380 });
  assert.equal(cfg.get('oom-score-adj-values'), '1 2 3');
  assert.deepEqual(cfg.renameCommands, [['FLUSHALL', ''], ['CONFIG', 'MYCONFIG']]);
  assert.deepEqual(cfg.users, [['alice', 'on', '>pw', '~*', '+@all']]);
  assert.deepEqual(cfg.modules, [{ path: '/x/mod.so', args: ['a', 'b'] }]);
  assert.equal(cfg.moduleConfigs.get('mymod.opt'), '5');
  assert.equal(cfg.get('unixsocketperm'), '755');

  // The first save line of a load replaces the defaults, `save ""` clears.
  const s = new Config();
  s.loadText('save 900 1\nsave ""\nsave 300 10');
  assert.equal(s.get('save'), '300 10');
});

test('include: relative to dir, wildcards, nested line numbers', () => {
  withTempDir((dir) => {
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', 'a.conf'), 'maxmemory 5mb\nhz 7\n');
    writeFileSync(join(dir, 'conf.d', 'b.conf'), 'hz 9\n');
    writeFileSync(join(dir, 'main.conf'), `dir ${dir}\nhz 3\ninclude conf.d/*.conf\ninclude nothing/*.conf\ntimeout 4\n`);
    const cfg = Config.fromArgs([join(dir, 'main.conf'), '--timeout', '6']);
    assert.equal(cfg.get('maxmemory'), '5242880');
    assert.equal(cfg.get('hz'), '9');
    assert.equal(cfg.get('timeout'), '6');
    assert.equal(cfg.configFile, join(dir, 'main.conf'));

    // Files matched by one wildcard are read as one text, so line numbers run on.
    writeFileSync(join(dir, 'conf.d', 'c.conf'), '\n\nport 1 2\n');
    assert.throws(
      () => Config.fromArgs([join(dir, 'main.conf')]),
      (e: ConfigFileError) => e.line === 6 && e.lineText === 'port 1 2' && e.source === join(dir, 'conf.d', 'c.conf'),
    );
    writeFileSync(join(dir, 'bad.conf'), `dir ${dir}\ninclude missing.conf\n`);
    assert.throws(
      () => new Config().loadFile(join(dir, 'bad.conf')),
      (e: ConfigFileError) => e.message === "Fatal error, can't open config file 'missing.conf': No such file or directory",
    );
  });
});

// ---- command line -----------------------------------------------------------------

test('command-line arguments follow redis-server', () => {
  assert.equal(Config.fromArgs(['--port', '0']).get('port'), '0');
  assert.equal(Config.fromArgs(['--save', '']).get('save'), '');
  assert.equal(Config.fromArgs(['--save']).get('save'), '');
  const a = Config.fromArgs(['--save', '--hz', '20']);
  assert.equal(a.get('save'), '');
  assert.equal(a.get('hz'), '20');
  assert.equal(Config.fromArgs(['--save', '900', '1', '300', '10']).get('save'), '900 1 300 10');
  assert.equal(Config.fromArgs(['--save', '900 1']).get('save'), '900 1');
  assert.equal(Config.fromArgs(['--requirepass', '--foo']).get('requirepass'), '--foo');
  assert.equal(Config.fromArgs(['--hz 7', '--maxmemory', '3mb']).get('hz'), '7');
  assert.equal(Config.fromArgs(['--requirepass', 'a"b\\c\n']).get('requirepass'), 'a"b\\c\n');
  assert.equal(Config.fromArgs(['--hz', '5', '--HZ', '6']).get('hz'), '6');

  // Options are lines after the (empty) file: the first is line 2, as in Redis.
  assert.throws(
    () => Config.fromArgs(['--hz', '5', '--maxmemory', '1', '2']),
    (e: ConfigFileError) => e.line === 3 && e.lineText === 'maxmemory "1" "2"' && e.reason === 'wrong number of arguments' && e.source === '(command line)',
  );
  assert.throws(() => Config.fromArgs(['--hz']), (e: ConfigFileError) => e.line === 2 && e.lineText === 'hz');
  assert.throws(
    () => Config.fromArgs(['/nonexistent/redis.conf']),
    (e: ConfigFileError) => e.message === "Fatal error, can't open config file '/nonexistent/redis.conf': No such file or directory",
  );
  assert.deepEqual(parseServerArgs(['x.conf', '--port', '1', '-']), { configFile: 'x.conf', readStdin: true, optionsText: 'port "1" ' });
  assert.deepEqual(parseServerArgs(['--a', '-', '--b', 'c']), { readStdin: false, optionsText: 'a "-" \nb "c" ' });
});

test('line splitting follows sdssplitargs', () => {
  const cases: Array<[string, string[] | null]> = [
    ['a b  c', ['a', 'b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ['"\\x41\\x4a\\n\\t\\"" x', ['AJ\n\t"', 'x']],
    ['"\\x4" y', ['x4', 'y']],
    ["'a\\'b' c", ["a'b", 'c']],
    ["'a\\nb'", ['a\\nb']],
    ['a"b c"d', null],
    ['a"b c" d', ['ab c', 'd']],
    ['"" x', ['', 'x']],
    ['"abc', null],
    ["'abc", null],
    ['', []],
    ['   ', []],
  ];
  for (const [line, want] of cases) assert.deepEqual(splitArgs(line), want, line);
  for (const s of ['plain', 'a b', 'q"\\', '\x00\x7f\xff\r\n\t\x07\b']) assert.deepEqual(splitArgs(quoteArg(s)), [s]);
});

test('rename-command: the command answers to its new name only (or to none); an unknown or taken name is a config error', async () => {
  const { Server } = await import('../../src/server/server.js');
  const { Client } = await import('../../src/server/client.js');
  const server = new Server({ config: Config.fromArgs(['--rename-command', 'flushdb', 'badger', '--rename-command', 'keys', '""']) });
  const c = new Client(server, null);
  const run = (...argv: string[]): string => {
    server.execute(c, argv);
    return c.takeOutput().latin1Slice();
  };
  try {
    assert.match(run('FLUSHDB'), /^-ERR unknown command 'FLUSHDB'/);
    assert.equal(run('badger'), '+OK\r\n');
    assert.equal(run('BADGER'), '+OK\r\n');
    assert.match(run('keys', '*'), /^-ERR unknown command 'keys'/);
    // ACL rules and COMMAND INFO keep the original names, as Redis's orig_commands.
    assert.match(run('COMMAND', 'INFO', 'flushdb'), /flushdb/);
  } finally {
    await server.close();
  }
  assert.throws(() => new Server({ config: Config.fromArgs(['--rename-command', 'nosuch', 'x']) }), /No such command in rename-command/);
  assert.throws(() => new Server({ config: Config.fromArgs(['--rename-command', 'get', 'set']) }), /Target command name already exists/);
});
