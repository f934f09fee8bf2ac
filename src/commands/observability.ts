/**
 * Observability commands: SLOWLOG, LATENCY, MEMORY and MONITOR (Redis 7.0).
 *
 * installObservability(server) creates the per-server state (slow log,
 * latency events and histograms, monitors) and hooks it into the server:
 * one after-call hook does all the per-command work, cheaply enough for the
 * hot path (a few comparisons when nothing is enabled; with latency-tracking
 * on, a few integer operations and one counter increment per call, plus a Map
 * lookup when the command differs from the previous one):
 *
 *   - latency-tracking: the command's histogram (LATENCY HISTOGRAM, INFO latencystats);
 *   - latency-monitor-threshold: "command" / "fast-command" events;
 *   - slowlog-log-slower-than: the slow log (not for skip_slowlog commands);
 *   - MONITOR: every command not flagged skip_monitor or admin (scripts, the
 *     skip_monitor commands, are shown when they start).
 *
 * Commands still queued in MULTI or refused before running (unknown, arity,
 * auth) reach none of these, as in Redis. A command that blocks is not
 * counted in the histogram or the slow log at the moment it blocks (Redis
 * counts it when it is served); MONITOR shows it when it is received.
 *
 * Settings are cached and refreshed by CONFIG SET hooks, so the hot path
 * reads plain fields.
 */
import { exposeGc } from '../server/memory-reclaim.js';
import type { CommandImpl, Command, Handler } from '../server/command-table.js';
import { CMD_ADMIN, CMD_FAST, CMD_SKIP_MONITOR, CMD_SKIP_SLOWLOG } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { parseInt64 } from '../util/numbers.js';
import { setInfoProvider, type InfoFields } from '../observability/info.js';
import { Slowlog } from '../observability/slowlog.js';
import { Latency, percentilesLine, type LatencyHistogram } from '../observability/latency.js';
import { Monitors, redactArgv } from '../observability/monitor.js';
import {
  DEFAULT_SAMPLES,
  keyMemoryUsage,
  mallocStats,
  memoryDoctor,
  memoryOverview,
  takeBaseline,
  type MemoryBaseline,
} from '../observability/memory.js';
import { resetStatHooks } from './server.js';
import { replyHelp, subcommandSyntaxError } from './client.js';
import { ERR_NOT_INT, ERR_SYNTAX } from './errors.js';

// ---- per-server state ---------------------------------------------------------------------

export class Observability {
  readonly slowlog = new Slowlog();
  readonly latency: Latency;
  readonly monitors: Monitors;
  /** Process memory when observability was installed (MEMORY DOCTOR's baseline). */
  readonly baseline: MemoryBaseline = takeBaseline();

  // Cached settings (refreshed on CONFIG SET).
  slowlogSlowerThan = 10000;
  slowlogMaxLen = 128;
  /** latency-monitor-threshold in ms (0: off) and in µs. */
  latencyThreshold = 0;
  latencyThresholdUs = 0;
  tracking = true;
  percentiles: number[] = [50, 99, 99.9];

  /** The last command's histogram: pipelines and benchmarks repeat a command, skipping the Map lookup. */
  private lastCmd: Command | null = null;
  private lastHist: LatencyHistogram | null = null;

  constructor(readonly server: Server) {
    this.latency = new Latency(() => Math.floor(server.clock.now() / 1000));
    this.monitors = new Monitors(server);
    this.refresh();
  }

  refresh(): void {
    const cfg = this.server.config;
    this.slowlogSlowerThan = cfg.getNumber('slowlog-log-slower-than');
    this.slowlogMaxLen = cfg.getNumber('slowlog-max-len');
    this.latencyThreshold = cfg.getNumber('latency-monitor-threshold');
    this.latencyThresholdUs = this.latencyThreshold * 1000;
    this.tracking = cfg.getBool('latency-tracking');
    const p = cfg.get('latency-tracking-info-percentiles') ?? '';
    this.percentiles = p === '' ? [] : p.split(' ').map(Number);
  }

  /** latencyAddSampleIfNeeded: records an event when it reached the threshold. */
  addLatencyIfNeeded(event: string, ms: number): void {
    if (this.latencyThreshold !== 0 && ms >= this.latencyThreshold) this.latency.addSample(event, ms);
  }

  /** The after-call hook (a bound property, installed as is): everything done per executed command. */
  readonly afterCall = (c: Client, cmd: Command, argv: string[], usec: number): void => {
    const flags = cmd.flags;
    if (this.tracking && c.blocked === null) {
      let h = this.lastHist;
      if (cmd !== this.lastCmd || h === null) {
        h = this.latency.histogram(cmd);
        this.lastCmd = cmd;
        this.lastHist = h;
      }
      h.record(usec);
    }
    if (this.latencyThreshold !== 0 && usec >= this.latencyThresholdUs) {
      this.latency.addSample((flags & CMD_FAST) !== 0 ? 'fast-command' : 'command', Math.floor(usec / 1000));
    }
    if (this.slowlogSlowerThan >= 0 && usec >= this.slowlogSlowerThan && (flags & CMD_SKIP_SLOWLOG) === 0 && c.blocked === null) {
      const time = Math.floor(this.server.clock.now() / 1000);
      this.slowlog.push(time, usec, redactArgv(cmd.fullName, argv, this.sensitiveConfig), c.addr, c.name, this.slowlogMaxLen);
    }
    if (this.monitors.size !== 0 && (flags & (CMD_SKIP_MONITOR | CMD_ADMIN)) === 0) {
      this.monitors.feed(c, cmd.fullName, argv);
    }
  };

  private readonly sensitiveConfig = (name: string): boolean => this.server.config.isSensitive(name);

  /** A blocked command completed (Redis's updateStatsOnUnblock): histogram, slowlog, unblocking latency. */
  readonly afterUnblock = (c: Client, cmd: Command, argv: string[], totalUsec: number, replyUsec: number): void => {
    if (this.tracking) this.latency.histogram(cmd).record(totalUsec);
    if (this.slowlogSlowerThan >= 0 && totalUsec >= this.slowlogSlowerThan && (cmd.flags & CMD_SKIP_SLOWLOG) === 0) {
      const time = Math.floor(this.server.clock.now() / 1000);
      this.slowlog.push(time, totalUsec, redactArgv(cmd.fullName, argv, this.sensitiveConfig), c.addr, c.name, this.slowlogMaxLen);
    }
    this.addLatencyIfNeeded('command-unblocking', Math.floor(replyUsec / 1000));
  };

  /** CONFIG RESETSTAT: forget the histograms (and the cached one). */
  resetHistograms(): void {
    this.latency.histograms.clear();
    this.lastCmd = null;
    this.lastHist = null;
  }

  /** INFO latencystats: one line per command with a histogram, while latency-tracking is on. */
  latencyStats(): InfoFields {
    if (!this.tracking) return [];
    const out: InfoFields = [];
    for (const cmd of this.server.table.all()) {
      const h = this.latency.histograms.get(cmd);
      if (h !== undefined) out.push([`latency_percentiles_usec_${cmd.fullName}`, percentilesLine(h, this.percentiles)]);
    }
    return out;
  }
}

const states = new WeakMap<Server, Observability>();

const WATCHED_SETTINGS = [
  'slowlog-log-slower-than',
  'slowlog-max-len',
  'latency-monitor-threshold',
  'latency-tracking',
  'latency-tracking-info-percentiles',
];

/**
 * Creates the server's observability state and installs its hooks. Idempotent.
 * The Server constructor calls it so that logging starts with the first command.
 */
export function installObservability(server: Server): Observability {
  const existing = states.get(server);
  if (existing !== undefined) return existing;
  const o = new Observability(server);
  states.set(server, o);
  for (const name of WATCHED_SETTINGS) server.config.onChange(name, () => o.refresh());
  server.afterCallHooks.push(o.afterCall);
  server.unblockHooks.push(o.afterUnblock);
  server.disconnectHooks.push((c) => o.monitors.remove(c));
  server.resetHooks.push((c) => o.monitors.remove(c));
  setInfoProvider(server, 'latencystats', () => o.latencyStats());
  // Scripts (EVAL*, FCALL*: the commands flagged skip_monitor) are shown to MONITOR
  // when they start, as Redis does, so their line comes before the lines of the
  // commands the script runs ("[0 lua]"), and even when they fail.
  for (const cmd of server.table.all()) {
    const run = cmd.handler;
    if ((cmd.flags & CMD_SKIP_MONITOR) === 0 || run === null) continue;
    (cmd as { handler: Handler | null }).handler = (c, argv) => {
      if (o.monitors.size !== 0) o.monitors.feed(c, cmd.fullName, argv);
      run(c, argv);
    };
  }
  // The active expire cycle is an "expire-cycle" latency event, as in Redis.
  const expireCycle = server.activeExpireCycle.bind(server);
  server.activeExpireCycle = () => {
    if (o.latencyThreshold === 0) return expireCycle();
    const start = performance.now();
    expireCycle();
    o.addLatencyIfNeeded('expire-cycle', Math.floor(performance.now() - start));
  };
  return o;
}

/** The server's observability state (installed on first use). */
export function observabilityOf(server: Server): Observability {
  return states.get(server) ?? installObservability(server);
}

/** For other modules (eviction, persistence): record a latency event if it reached the threshold. */
export function latencyAddSampleIfNeeded(server: Server, event: string, ms: number): void {
  observabilityOf(server).addLatencyIfNeeded(event, ms);
}

/** Shows a command to the monitors now (for callers outside the dispatcher). */
export function feedMonitors(c: Client, name: string, argv: readonly string[]): void {
  const o = states.get(c.server);
  if (o !== undefined && o.monitors.size !== 0) o.monitors.feed(c, name, argv);
}

/** Whether the client is in MONITOR mode (CLIENT LIST flag O, keyspace commands refused). */
export function isMonitor(c: Client): boolean {
  return c.monitor;
}

// CONFIG RESETSTAT forgets the latency histograms, as Redis's resetCommandTableStats.
resetStatHooks.push((server) => states.get(server)?.resetHistograms());

// ---- SLOWLOG ---------------------------------------------------------------------------------

function slowlogGet(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    subcommandSyntaxError(c, argv);
    return;
  }
  const log = observabilityOf(c.server).slowlog;
  let count = 10;
  if (argv.length === 3) {
    const n = parseInt64(argv[2]);
    if (n === null || n < -1) {
      c.addError('ERR count should be greater than or equal to -1');
      return;
    }
    count = n === -1 ? log.length : n;
  }
  const entries = log.newest(count);
  c.addArrayLen(entries.length);
  for (const e of entries) {
    c.addArrayLen(6);
    c.addInt(e.id);
    c.addInt(e.time);
    c.addInt(e.duration);
    c.addBulks(e.argv);
    c.addBulk(e.addr);
    c.addBulk(e.name);
  }
}

function slowlogLen(c: Client): void {
  c.addInt(observabilityOf(c.server).slowlog.length);
}

function slowlogReset(c: Client): void {
  observabilityOf(c.server).slowlog.reset();
  c.addOK();
}

function slowlogHelp(c: Client): void {
  replyHelp(c, 'SLOWLOG', [
    'GET [<count>]',
    '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
    '    Entries are made of:',
    '    id, timestamp, time in microseconds, arguments array, client IP and port,',
    '    client name',
    'LEN',
    '    Return the length of the slowlog.',
    'RESET',
    '    Reset the slowlog.',
  ]);
}

// ---- LATENCY ---------------------------------------------------------------------------------

function latencyLatest(c: Client): void {
  const events = observabilityOf(c.server).latency.events;
  c.addArrayLen(events.size);
  for (const [name, ts] of events) {
    const last = ts.last;
    c.addArrayLen(4);
    c.addBulk(name);
    c.addInt(ts.times[last]);
    c.addInt(ts.latencies[last]);
    c.addInt(ts.max);
  }
}

function latencyHistory(c: Client, argv: string[]): void {
  const ts = observabilityOf(c.server).latency.events.get(argv[2]);
  if (ts === undefined) {
    c.addArrayLen(0);
    return;
  }
  const slots = ts.slots();
  c.addArrayLen(slots.length);
  for (const i of slots) {
    c.addArrayLen(2);
    c.addInt(ts.times[i]);
    c.addInt(ts.latencies[i]);
  }
}

function latencyReset(c: Client, argv: string[]): void {
  const latency = observabilityOf(c.server).latency;
  c.addInt(latency.reset(argv.length === 2 ? null : argv.slice(2)));
}

function latencyGraph(c: Client, argv: string[]): void {
  const latency = observabilityOf(c.server).latency;
  const ts = latency.events.get(argv[2]);
  if (ts === undefined) {
    c.addError(`ERR No samples available for event '${argv[2]}'`);
    return;
  }
  c.addVerbatim(latency.graph(argv[2], ts));
}

function latencyDoctor(c: Client): void {
  const o = observabilityOf(c.server);
  c.addVerbatim(
    o.latency.doctor({
      threshold: o.latencyThreshold,
      slowlogSlowerThan: o.slowlogSlowerThan,
      slowlogMaxLen: o.slowlogMaxLen,
      hz: c.server.hz,
    }),
  );
}

/** One command's distribution: {calls, histogram_usec: {bucket: cumulative calls}}. */
function replyCommandHistogram(c: Client, h: LatencyHistogram): void {
  c.addMapLen(2);
  c.addBulk('calls');
  c.addInt(h.total);
  c.addBulk('histogram_usec');
  const buckets = h.cumulative();
  c.addMapLen(buckets.length);
  for (const [usec, count] of buckets) {
    c.addInt(usec);
    c.addInt(count);
  }
}

function latencyHistogram(c: Client, argv: string[]): void {
  const server = c.server;
  const histograms = observabilityOf(server).latency.histograms;
  const chosen: Array<[Command, LatencyHistogram]> = [];
  const consider = (cmd: Command) => {
    const h = histograms.get(cmd);
    if (h !== undefined) chosen.push([cmd, h]);
  };
  if (argv.length === 2) {
    for (const cmd of server.table.all()) consider(cmd);
  } else {
    // Each name in turn (repeats repeat); a container brings its subcommands; unknown names are skipped.
    for (let j = 2; j < argv.length; j++) {
      const cmd = server.table.lookupFullName(argv[j]);
      if (cmd === undefined) continue;
      consider(cmd);
      if (cmd.subcommands !== null) for (const sub of cmd.subcommands.values()) consider(sub);
    }
  }
  c.addMapLen(chosen.length);
  for (const [cmd, h] of chosen) {
    c.addBulk(cmd.fullName);
    replyCommandHistogram(c, h);
  }
}

function latencyHelp(c: Client): void {
  replyHelp(c, 'LATENCY', [
    'DOCTOR',
    '    Return a human readable latency analysis report.',
    'GRAPH <event>',
    '    Return an ASCII latency graph for the <event> class.',
    'HISTORY <event>',
    '    Return time-latency samples for the <event> class.',
    'LATEST',
    '    Return the latest latency samples for all events.',
    'RESET [<event> ...]',
    '    Reset latency data of one or more <event> classes.',
    '    (default: reset all data for all event classes)',
    'HISTOGRAM [COMMAND ...]',
    '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
    '    If no commands are specified then all histograms are replied.',
  ]);
}

// ---- MEMORY ----------------------------------------------------------------------------------

function memoryUsage(c: Client, argv: string[]): void {
  let samples = DEFAULT_SAMPLES;
  for (let j = 3; j < argv.length; j++) {
    if (argv[j].toLowerCase() === 'samples' && j + 1 < argv.length) {
      const n = parseInt64(argv[j + 1]);
      if (n === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      if (n < 0) {
        c.addError(ERR_SYNTAX);
        return;
      }
      samples = n; // 0: every element
      j++;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  // Like Redis: a plain dictionary lookup, no expiry and no hit/miss counting.
  const v = c.db.peek(argv[2]);
  if (v === undefined) {
    c.addNull();
    return;
  }
  c.addInt(keyMemoryUsage(c.server, argv[2], v, samples));
}

function memoryStats(c: Client): void {
  const m = memoryOverview(c.server);
  c.addMapLen(27 + m.dbs.length);
  const int = (name: string, v: number) => {
    c.addBulk(name);
    c.addInt(v);
  };
  const dbl = (name: string, v: number) => {
    c.addBulk(name);
    c.addDouble(v);
  };
  int('peak.allocated', m.peak);
  int('total.allocated', m.total);
  int('startup.allocated', m.startup);
  int('replication.backlog', m.replBacklog);
  int('clients.slaves', m.clientsReplicas);
  int('clients.normal', m.clientsNormal);
  int('cluster.links', m.clusterLinks);
  int('aof.buffer', m.aofBuffer);
  int('lua.caches', m.luaCaches);
  int('functions.caches', m.functionsCaches);
  for (const db of m.dbs) {
    c.addBulk(`db.${db.id}`);
    c.addMapLen(3);
    int('overhead.hashtable.main', db.main);
    int('overhead.hashtable.expires', db.expires);
    int('overhead.hashtable.slot-to-keys', 0);
  }
  int('overhead.total', m.overheadTotal);
  int('keys.count', m.keys);
  int('keys.bytes-per-key', m.bytesPerKey);
  int('dataset.bytes', m.dataset);
  dbl('dataset.percentage', m.datasetPerc);
  dbl('peak.percentage', m.peakPerc);
  int('allocator.allocated', m.allocatorAllocated);
  int('allocator.active', m.allocatorActive);
  int('allocator.resident', m.allocatorResident);
  dbl('allocator-fragmentation.ratio', m.allocatorFragRatio);
  int('allocator-fragmentation.bytes', m.allocatorFragBytes);
  dbl('allocator-rss.ratio', m.allocatorRssRatio);
  int('allocator-rss.bytes', m.allocatorRssBytes);
  dbl('rss-overhead.ratio', m.rssOverheadRatio);
  int('rss-overhead.bytes', m.rssOverheadBytes);
  dbl('fragmentation', m.fragmentation);
  int('fragmentation.bytes', m.fragmentationBytes);
}

function memoryDoctorCmd(c: Client): void {
  c.addVerbatim(memoryDoctor(c.server, observabilityOf(c.server).baseline));
}

function memoryMallocStats(c: Client): void {
  c.addVerbatim(mallocStats());
}

function memoryPurge(c: Client): void {
  // The closest thing to jemalloc's purge: a full collection (gc() is made available without node flags).
  exposeGc()?.();
  c.addOK();
}

function memoryHelp(c: Client): void {
  replyHelp(c, 'MEMORY', [
    'DOCTOR',
    '    Return memory problems reports.',
    'MALLOC-STATS',
    '    Return internal statistics report from the memory allocator.',
    'PURGE',
    '    Attempt to purge dirty pages for reclamation by the allocator.',
    'STATS',
    '    Return information about the memory usage of the server.',
    'USAGE <key> [SAMPLES <count>]',
    '    Return memory in bytes used by <key> and its value. Nested values are',
    '    sampled up to <count> times (default: 5, 0 means sample all).',
  ]);
}

// ---- MONITOR ---------------------------------------------------------------------------------

function monitor(c: Client): void {
  // Inside MULTI/EXEC or a script the client must get one reply per command.
  if (c.inMulti || c.inScript) {
    c.addError("ERR MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  const monitors = observabilityOf(c.server).monitors;
  // Already monitoring: Redis ignores the command, without a reply.
  if (monitors.clients.has(c)) return;
  monitors.add(c);
  c.addOK();
}

export const commands: CommandImpl[] = [
  { name: 'slowlog', summary: 'Reads and clears the log of commands that ran longer than a threshold.' },
  { name: 'slowlog|get', summary: 'Returns the newest slow log entries (10 by default, -1 for all).', handler: slowlogGet },
  { name: 'slowlog|len', summary: 'Returns how many entries the slow log holds.', handler: slowlogLen },
  { name: 'slowlog|reset', summary: 'Empties the slow log.', handler: slowlogReset },
  { name: 'slowlog|help', summary: 'Lists the SLOWLOG subcommands.', handler: slowlogHelp },
  { name: 'latency', summary: 'Inspects latency spikes and per-command latency distributions.' },
  { name: 'latency|latest', summary: 'Returns the latest and worst sample of every latency event.', handler: latencyLatest },
  { name: 'latency|history', summary: 'Returns the per-second samples of one latency event.', handler: latencyHistory },
  { name: 'latency|reset', summary: 'Forgets the samples of some or all latency events.', handler: latencyReset },
  { name: 'latency|graph', summary: 'Draws the samples of one latency event as an ASCII graph.', handler: latencyGraph },
  { name: 'latency|doctor', summary: 'Explains the recorded latency events and suggests fixes.', handler: latencyDoctor },
  { name: 'latency|histogram', summary: 'Returns the cumulative latency distribution of commands.', handler: latencyHistogram },
  { name: 'latency|help', summary: 'Lists the LATENCY subcommands.', handler: latencyHelp },
  { name: 'memory', summary: 'Reports how memory is used, per key and for the whole server.' },
  { name: 'memory|usage', summary: 'Estimates the bytes a key and its value take.', handler: memoryUsage },
  { name: 'memory|stats', summary: 'Breaks down the memory the server uses.', handler: memoryStats },
  { name: 'memory|doctor', summary: 'Looks for memory problems and explains them.', handler: memoryDoctorCmd },
  { name: 'memory|malloc-stats', summary: "Describes the memory manager's state.", handler: memoryMallocStats },
  { name: 'memory|purge', summary: 'Asks the memory manager to give unused memory back.', handler: memoryPurge },
  { name: 'memory|help', summary: 'Lists the MEMORY subcommands.', handler: memoryHelp },
  { name: 'monitor', summary: 'Streams every command the server executes to this connection.', handler: monitor },
];
