/**
 * Latency monitoring, as Redis 7.0 does it, in two independent parts:
 *
 *  - The latency monitor (LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR):
 *    named events ("command", "fast-command", "expire-cycle", ...) record a
 *    sample when something took at least latency-monitor-threshold ms. Each
 *    event keeps a ring of 160 per-second samples (the worst of each second)
 *    and its all-time maximum.
 *
 *  - Per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats),
 *    recorded for every call while latency-tracking is on. Redis keeps an
 *    HdrHistogram per command (1 ns .. 1 s, 2 significant digits) fed with
 *    the call's duration in microseconds times 1000. We keep the same bucket
 *    layout in a fixed Float64Array per command (allocated on the command's
 *    first call): recording is a few integer operations and one increment, no
 *    allocation. Because the layout is the same, the bucket keys of LATENCY
 *    HISTOGRAM (1, 2, 4, 8, 16, 33, 66, 132, ...) and the percentiles of INFO
 *    latencystats (5.023, 54.015, ...) are computed exactly as Redis computes
 *    them from the same durations.
 */
import { readFileSync } from 'node:fs';
import type { Command } from '../server/command-table.js';
import { formatFixed } from '../util/numbers.js';

// ---- per-command histograms ---------------------------------------------------------

/*
 * HdrHistogram geometry for Redis's parameters (lowest 1, highest 1e9,
 * 2 significant digits): 256 sub-buckets per bucket (half = 128, magnitude 7),
 * unit magnitude 0, 23 buckets, (23 + 1) * 128 counters. Bucket b holds values
 * in [128 << b, 256 << b) with a resolution of 1 << b (bucket 0 also holds 0..127).
 */
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = 7;
const SUB_BUCKET_HALF_COUNT = 128;
const SUB_BUCKET_MASK = 255;
const BUCKET_COUNT = 23;
const COUNTS_LEN = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT;
/** Redis records durations in ns, clamped to [1 ns, 1 s]. */
const HIST_MIN_NS = 1;
const HIST_MAX_NS = 1_000_000_000;
/** LATENCY HISTOGRAM's buckets: powers of two from 1024 ns. */
const REPORT_FIRST_LEVEL = 1024;

/** Counter index of a value (hdr's counts_index_for; values < 2^30 fit 32-bit math). */
function countsIndex(v: number): number {
  const pow2ceiling = 32 - Math.clz32(v | SUB_BUCKET_MASK);
  const bucket = pow2ceiling - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1);
  const sub = v >>> bucket;
  return ((bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (sub - SUB_BUCKET_HALF_COUNT);
}

/** Lowest value a counter index stands for. */
function valueAtIndex(idx: number): number {
  let bucket = (idx >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
  let sub = (idx & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

/** Width of the range of values that share v's counter. */
function equivalentRange(v: number): number {
  const bucket = 32 - Math.clz32(v | SUB_BUCKET_MASK) - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1);
  return 2 ** bucket;
}

function lowestEquivalent(v: number): number {
  return valueAtIndex(countsIndex(v));
}

function highestEquivalent(v: number): number {
  return lowestEquivalent(v) + equivalentRange(v) - 1;
}

export class LatencyHistogram {
  readonly counts = new Float64Array(COUNTS_LEN);
  total = 0;

  /** Records one call of `usec` microseconds. */
  record(usec: number): void {
    let ns = usec * 1000;
    if (ns < HIST_MIN_NS) ns = HIST_MIN_NS;
    else if (ns > HIST_MAX_NS) ns = HIST_MAX_NS;
    this.counts[countsIndex(ns)]++;
    this.total++;
  }

  /** hdr_value_at_percentile, in ns. */
  valueAtPercentile(p: number): number {
    const requested = p < 100 ? p : 100;
    const wanted = Math.max(1, Math.trunc((requested / 100) * this.total + 0.5));
    let running = 0;
    for (let i = 0; i < COUNTS_LEN; i++) {
      running += this.counts[i];
      if (running >= wanted) {
        const v = valueAtIndex(i);
        return p === 0 ? lowestEquivalent(v) : highestEquivalent(v);
      }
    }
    return 0;
  }

  /**
   * The cumulative distribution LATENCY HISTOGRAM shows: for each power-of-two
   * level from 1024 ns that adds calls, [level's highest equivalent in µs,
   * calls up to it], as Redis's log iterator reports them.
   */
  cumulative(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let next = 0;
    let cum = 0;
    let prev = 0;
    for (let level = REPORT_FIRST_LEVEL; ; level *= 2) {
      const last = countsIndex(level);
      if (last >= COUNTS_LEN) {
        // Past the last level inside the range (about 0.54 s): the iterator runs off
        // the end and reports the rest under the last counter's highest value.
        for (; next < COUNTS_LEN; next++) cum += this.counts[next];
        if (cum > prev) out.push([Math.floor(highestEquivalent(valueAtIndex(COUNTS_LEN - 1)) / 1000), cum]);
        break;
      }
      for (; next <= last; next++) cum += this.counts[next];
      if (cum > prev) out.push([Math.floor(highestEquivalent(level) / 1000), cum]);
      prev = cum;
      if (cum >= this.total) break;
    }
    return out;
  }
}

/** "%f" then trailing zeros trimmed, as Redis names percentiles (p50, p99.9). */
function percentileName(p: number): string {
  let s = p.toFixed(6);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** One INFO latencystats value: "p50=5.023,p99=5.023,p99.9=5.023". */
export function percentilesLine(h: LatencyHistogram, percentiles: readonly number[]): string {
  let s = '';
  for (let i = 0; i < percentiles.length; i++) {
    if (i > 0) s += ',';
    s += `p${percentileName(percentiles[i])}=${formatFixed(h.valueAtPercentile(percentiles[i]) / 1000, 3)}`;
  }
  return s;
}

// ---- the latency monitor (events) ---------------------------------------------------

/** Samples kept per event (Redis's LATENCY_TS_LEN). */
export const LATENCY_TS_LEN = 160;
/** Width of LATENCY GRAPH. */
const GRAPH_COLS = 80;

/** One event's samples: a ring of per-second worst latencies (time 0 = empty slot). */
export class LatencyTimeSeries {
  idx = 0;
  max = 0;
  readonly times = new Float64Array(LATENCY_TS_LEN);
  readonly latencies = new Float64Array(LATENCY_TS_LEN);

  add(nowSec: number, ms: number): void {
    if (ms > this.max) this.max = ms;
    const prev = (this.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
    // Several spikes in the same second keep the worst.
    if (this.times[prev] === nowSec) {
      if (ms > this.latencies[prev]) this.latencies[prev] = ms;
      return;
    }
    this.times[this.idx] = nowSec;
    this.latencies[this.idx] = ms;
    this.idx = (this.idx + 1) % LATENCY_TS_LEN;
  }

  /** The latest sample's slot. */
  get last(): number {
    return (this.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
  }

  /** Occupied slots, oldest first. */
  slots(): number[] {
    const out: number[] = [];
    for (let j = 0; j < LATENCY_TS_LEN; j++) {
      const i = (this.idx + j) % LATENCY_TS_LEN;
      if (this.times[i] !== 0) out.push(i);
    }
    return out;
  }
}

export interface LatencyConfig {
  /** latency-monitor-threshold, ms; 0 disables the monitor. */
  threshold: number;
  slowlogSlowerThan: number;
  slowlogMaxLen: number;
  hz: number;
}

/** The per-server latency state: events and command histograms. */
export class Latency {
  /** Events in creation order. */
  readonly events = new Map<string, LatencyTimeSeries>();
  readonly histograms = new Map<Command, LatencyHistogram>();

  constructor(private readonly nowSec: () => number) {}

  /** latencyAddSample: records unconditionally. */
  addSample(event: string, ms: number): void {
    let ts = this.events.get(event);
    if (ts === undefined) {
      ts = new LatencyTimeSeries();
      this.events.set(event, ts);
    }
    ts.add(this.nowSec(), ms);
  }

  /** Forgets one event (true if it existed), or every event (returns how many). */
  reset(events: readonly string[] | null): number {
    if (events === null) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const e of events) if (this.events.delete(e)) n++;
    return n;
  }

  /** The histogram of a command, created on first use. */
  histogram(cmd: Command): LatencyHistogram {
    let h = this.histograms.get(cmd);
    if (h === undefined) {
      h = new LatencyHistogram();
      this.histograms.set(cmd, h);
    }
    return h;
  }

  /** LATENCY GRAPH's text for one event. */
  graph(event: string, ts: LatencyTimeSeries): string {
    const now = this.nowSec();
    const values: number[] = [];
    const labels: string[] = [];
    let min = 0;
    let max = 0;
    for (const i of ts.slots()) {
      const v = ts.latencies[i];
      if (values.length === 0) min = max = v;
      else {
        if (v > max) max = v;
        if (v < min) min = v;
      }
      // Label: how long ago, in the largest unit that fits.
      const elapsed = Math.trunc(now - ts.times[i]);
      let label: string;
      if (elapsed < 60) label = `${elapsed}s`;
      else if (elapsed < 3600) label = `${Math.trunc(elapsed / 60)}m`;
      else if (elapsed < 86400) label = `${Math.trunc(elapsed / 3600)}h`;
      else label = `${Math.trunc(elapsed / 86400)}d`;
      values.push(v);
      labels.push(label);
    }
    let out = `${event} - high ${max} ms, low ${min} ms (all time high ${ts.max} ms)\n`;
    out += '-'.repeat(GRAPH_COLS) + '\n';
    return out + renderSparkline(values, labels, GRAPH_COLS, 4);
  }

  /** LATENCY DOCTOR's report, in Redis's words, from our events and settings. */
  doctor(cfg: LatencyConfig): string {
    if (this.events.size === 0 && cfg.threshold === 0) {
      return (
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. " +
        'You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. ' +
        "If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
      );
    }
    let report = '';
    let eventnum = 0;
    let advices = 0;
    const advise = {
      slowlogEnabled: false,
      slowlogTuning: false,
      slowlogInspect: false,
      scheduler: false,
      hz: false,
      largeObjects: false,
      massEviction: false,
      disableThp: false,
    };
    for (const [event, ts] of this.events) {
      eventnum++;
      if (eventnum === 1) {
        report += "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
      }
      const st = analyze(ts, this.nowSec());
      report +=
        `${eventnum}. ${event}: ${st.samples} latency spikes (average ${st.avg}ms, mean deviation ${st.mad}ms, ` +
        `period ${formatFixed(st.period / st.samples, 2)} sec). Worst all time event ${ts.max}ms.`;
      if (event === 'command') {
        if (cfg.slowlogSlowerThan < 0 || cfg.slowlogMaxLen === 0) {
          advise.slowlogEnabled = true;
          advices++;
        } else if (Math.trunc(cfg.slowlogSlowerThan / 1000) > cfg.threshold) {
          advise.slowlogTuning = true;
          advices++;
        }
        advise.slowlogInspect = true;
        advise.largeObjects = true;
        advices += 2;
      }
      if (event === 'fast-command') {
        advise.scheduler = true;
        advices++;
      }
      if (event === 'expire-cycle') {
        advise.hz = true;
        advise.largeObjects = true;
        advices += 2;
      }
      if (event === 'eviction-del') {
        advise.largeObjects = true;
        advices++;
      }
      if (event === 'eviction-cycle') {
        advise.massEviction = true;
        advices++;
      }
      report += '\n';
    }
    if (anonHugePagesBytes() > 0) {
      advise.disableThp = true;
      advices++;
    }
    if (eventnum === 0 && advices === 0) {
      return (
        report +
        'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. ' +
        'I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n'
      );
    }
    if (eventnum > 0 && advices === 0) {
      return (
        report +
        "\nWhile there are latency events logged, I'm not able to suggest any easy fix. " +
        'Please use the Redis community to get some help, providing this report in your help request.\n'
      );
    }
    report += '\nI have a few advices for you:\n\n';
    const suggested = cfg.threshold * 1000;
    if (advise.slowlogEnabled) {
      report +=
        "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than " +
        `${suggested}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`;
    }
    if (advise.slowlogTuning) {
      report +=
        "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than " +
        `${suggested}'.\n`;
    }
    if (advise.slowlogInspect) {
      report +=
        '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n';
    }
    if (advise.scheduler) {
      report +=
        '- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n' +
        '  1) Lower the system load.\n' +
        '  2) Use a computer / VM just for Redis if you are running other software in the same system.\n' +
        '  3) Check if you have a "noisy neighbour" problem.\n' +
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
        '  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n';
    }
    if (advise.hz && cfg.hz < 100) {
      report +=
        "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n";
    }
    if (advise.largeObjects) {
      report +=
        '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n';
    }
    if (advise.massEviction) {
      report +=
        "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n";
    }
    if (advise.disableThp) {
      report +=
        "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n";
    }
    return report;
  }
}

interface EventStats {
  samples: number;
  avg: number;
  mad: number;
  /** Seconds since the oldest sample (at least 1). */
  period: number;
}

/** analyzeLatencyForEvent: sample count, integer mean, mean absolute deviation, period. */
function analyze(ts: LatencyTimeSeries, nowSec: number): EventStats {
  let samples = 0;
  let sum = 0;
  let oldest = 0;
  for (let j = 0; j < LATENCY_TS_LEN; j++) {
    if (ts.times[j] === 0) continue;
    samples++;
    sum += ts.latencies[j];
    if (oldest === 0 || ts.times[j] < oldest) oldest = ts.times[j];
  }
  if (samples === 0) return { samples: 0, avg: 0, mad: 0, period: 0 };
  const avg = Math.floor(sum / samples);
  let period = nowSec - oldest;
  if (period === 0) period = 1;
  let dev = 0;
  for (let j = 0; j < LATENCY_TS_LEN; j++) {
    if (ts.times[j] === 0) continue;
    dev += Math.abs(avg - ts.latencies[j]);
  }
  return { samples, avg, mad: Math.floor(dev / samples), period };
}

/** Anonymous huge pages of this process, bytes (0 when unknown or not Linux). */
function anonHugePagesBytes(): number {
  try {
    const text = readFileSync('/proc/self/smaps_rollup', 'latin1');
    const m = /^AnonHugePages:\s+(\d+) kB/m.exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

// ---- sparkline (LATENCY GRAPH) --------------------------------------------------------

const SPARK_CHARS = '_o#';

/**
 * Renders samples as Redis's filled ASCII sparkline: `rows` text rows with three
 * levels per row ('_', 'o', '#', and '|' below the top of a column), then one
 * blank spacing row and the labels written vertically, one char per row.
 * Long sequences wrap every `columns` samples, blocks separated by a newline.
 */
export function renderSparkline(values: readonly number[], labels: readonly string[], columns: number, rows: number): string {
  let out = '';
  for (let j = 0; j < values.length; j += columns) {
    const len = Math.min(columns, values.length - j);
    if (j !== 0) out += '\n';
    out += renderRange(values, labels, j, len, rows);
  }
  return out;
}

function renderRange(values: readonly number[], labels: readonly string[], offset: number, len: number, rows: number): string {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let relmax = max - min;
  if (relmax === 0) relmax = 1;
  const steps = SPARK_CHARS.length * rows;
  const hasLabels = labels.some((l) => l !== '');
  let out = '';
  for (let row = 0; ; row++) {
    let loop = false;
    const chars: string[] = new Array(len).fill(' ');
    for (let j = 0; j < len; j++) {
      const relval = values[j + offset] - min;
      let step = Math.trunc(Math.trunc(relval * steps) / relmax);
      if (step < 0) step = 0;
      if (step >= steps) step = steps - 1;
      if (row < rows) {
        loop = true;
        const charidx = step - (rows - row - 1) * SPARK_CHARS.length;
        if (charidx >= 0 && charidx < SPARK_CHARS.length) chars[j] = SPARK_CHARS[charidx];
        else if (charidx >= SPARK_CHARS.length) chars[j] = '|';
      } else {
        // One blank row between the graph and the labels.
        if (hasLabels && row - rows < 1) {
          loop = true;
          break;
        }
        const label = labels[j + offset];
        const at = row - rows - 1;
        if (label !== '' && label.length > at) {
          loop = true;
          chars[j] = label[at];
        }
      }
    }
    if (!loop) break;
    out += chars.join('') + '\n';
  }
  return out;
}
