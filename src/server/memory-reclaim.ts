/**
 * Idle-time return of V8's young generation to the system, the counterpart
 * of jemalloc giving back dirty pages once Redis stops allocating.
 *
 * During a write burst V8 grows the young generation to its maximum (two
 * 16 MB semi-spaces on 64-bit Node 20), which is what keeps scavenges cheap
 * and throughput high. V8 shrinks it again only at a collection that sees an
 * allocation rate below 1 KB/ms averaged over the last 5 s. A server that
 * goes quiet after a burst allocates almost nothing, so no collection comes:
 * the 32 MB stay resident for tens of seconds until V8's memory reducer
 * watchdog fires (measured: about 45 s after 1M XADDs, when RSS growth falls
 * from 57 MB to 26 MB).
 *
 * This reclaimer watches the command and input counters; after a quiet
 * second with a grown young generation it runs a minor collection, which
 * restarts V8's allocation accounting, and once the 5 s window has passed
 * quietly, a second one, at which V8 finds the rate low and shrinks the
 * young generation to its minimum. Only minor collections (scavenges, a few
 * ms, proportional to live young objects, not to the dataset) are used, and
 * only while the server is quiet, so throughput under load is unchanged: the
 * semi-spaces grow back within a few scavenges of the next burst.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Server } from './server.js';

/** What the reclaimer observes and does; injectable so tests drive it without V8. */
export interface ReclaimHooks {
  /** Monotonic milliseconds (real time: idleness is wall-clock, not the server's logical clock). */
  now(): number;
  /** Commands processed so far (any counter that moves with work). */
  commands(): number;
  /** Request bytes read so far. */
  inputBytes(): number;
  /** Bytes committed to the young generation. */
  youngBytes(): number;
  /** Runs a minor collection. */
  collectYoung(): void;
}

export interface ReclaimOptions {
  /** Quiet time before the first collection. */
  quietMs?: number;
  /** Time between the two collections: V8 averages the allocation rate over 5 s. */
  rateWindowMs?: number;
  /** Young generation above this many bytes counts as grown. */
  grownBytes?: number;
  /** Activity per second still counted as quiet (a monitor's PING/INFO). */
  quietCommandsPerSec?: number;
  quietInputPerSec?: number;
  /** Shrink attempts per quiet period before giving up until the next burst. */
  maxAttempts?: number;
}

const DEFAULTS: Required<ReclaimOptions> = {
  quietMs: 1000,
  rateWindowMs: 5500,
  grownBytes: 4 << 20,
  quietCommandsPerSec: 100,
  quietInputPerSec: 256 << 10,
  maxAttempts: 3,
};

export class MemoryReclaimer {
  private readonly opts: Required<ReclaimOptions>;
  private lastTick: number;
  private lastCommands: number;
  private lastInput: number;
  /** Start of the current quiet period. */
  private quietSince: number;
  /** Time of the collection that restarted V8's rate accounting, or -1. */
  private resetAt = -1;
  private attempts = 0;
  /** Nothing more to do until activity resumes. */
  private settled = false;
  /** Minor collections run, and how many of them left the young generation small. */
  collections = 0;
  shrinks = 0;

  constructor(
    private readonly hooks: ReclaimHooks,
    opts: ReclaimOptions = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.lastTick = hooks.now();
    this.quietSince = this.lastTick;
    this.lastCommands = hooks.commands();
    this.lastInput = hooks.inputBytes();
  }

  /** Called periodically (a few times a second). */
  tick(): void {
    const h = this.hooks;
    const now = h.now();
    const commands = h.commands();
    const input = h.inputBytes();
    const secs = Math.max(now - this.lastTick, 1) / 1000;
    // Counters go backwards on CONFIG RESETSTAT: count that as activity.
    const busy =
      commands < this.lastCommands ||
      input < this.lastInput ||
      commands - this.lastCommands > this.opts.quietCommandsPerSec * secs ||
      input - this.lastInput > this.opts.quietInputPerSec * secs;
    this.lastTick = now;
    this.lastCommands = commands;
    this.lastInput = input;
    if (busy) {
      this.quietSince = now;
      this.resetAt = -1;
      this.attempts = 0;
      this.settled = false;
      return;
    }
    if (this.settled || now - this.quietSince < this.opts.quietMs) return;
    if (this.resetAt < 0) {
      if (h.youngBytes() <= this.opts.grownBytes) {
        this.settled = true;
        return;
      }
      this.collect(now);
      return;
    }
    if (now - this.resetAt < this.opts.rateWindowMs) return;
    this.collect(now);
    this.attempts++;
    if (h.youngBytes() <= this.opts.grownBytes) {
      this.shrinks++;
      this.settled = true;
    } else if (this.attempts >= this.opts.maxAttempts) {
      this.settled = true;
    }
  }

  private collect(now: number): void {
    this.hooks.collectYoung();
    this.collections++;
    this.resetAt = now;
  }
}

type GcFunction = (options?: { type?: 'major' | 'minor' }) => void;

/**
 * V8's gc() without starting node with --expose-gc: the flag applies to
 * contexts created after it is set, so a fresh context hands it over.
 * Null if this V8 refuses.
 */
export function exposeGc(): GcFunction | null {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (typeof existing === 'function') return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as GcFunction) : null;
  } catch {
    return null;
  }
}

/** Bytes committed to V8's young generation (new space and its large-object space). */
export function youngGenerationBytes(): number {
  let n = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name.startsWith('new_')) n += s.physical_space_size;
  return n;
}

export interface ReclaimHandle {
  reclaimer: MemoryReclaimer;
  stop(): void;
}

/**
 * Starts the idle reclaimer for a standalone server (the binary, not embedded
 * test servers). Returns null when gc() cannot be had; the server works the
 * same, its RSS just stays higher after bursts.
 */
export function startMemoryReclaim(server: Server, opts: ReclaimOptions & { intervalMs?: number } = {}): ReclaimHandle | null {
  const gc = exposeGc();
  if (gc === null) return null;
  const reclaimer = new MemoryReclaimer(
    {
      now: () => performance.now(),
      commands: () => server.stats.totalCommands,
      inputBytes: () => server.stats.netInputBytes,
      youngBytes: youngGenerationBytes,
      collectYoung: () => gc({ type: 'minor' }),
    },
    opts,
  );
  const timer = setInterval(() => reclaimer.tick(), opts.intervalMs ?? 250);
  timer.unref();
  return { reclaimer, stop: () => clearInterval(timer) };
}
