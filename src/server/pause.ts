/**
 * CLIENT PAUSE enforcement, as Redis 7.0 does it.
 *
 * While a pause is in effect, the dispatcher hands each command to
 * postponeIfPaused() before running (or queueing) it. A command the pause
 * covers is held: the client is blocked with no keys and no timeout (so
 * CLIENT LIST shows flag b and cmd=<the held command>, INFO counts it in
 * blocked_clients), and, like any blocked client, it reads no more input, so
 * its pipeline keeps its order. When the pause ends (CLIENT UNPAUSE, or its
 * time is up) the held commands run again through the dispatcher, in the
 * order they were held, then each client goes on with its input.
 *
 * What a pause covers (checked against redis-server 7.0.15):
 *  - ALL: every command of every client, the pausing client's own later
 *    commands included (CLIENT UNPAUSE too: an ALL pause ends when its time
 *    is up, unless the UNPAUSE runs in the same EXEC as the PAUSE).
 *  - WRITE: commands flagged write or may_replicate (EVAL/EVALSHA/FCALL
 *    unless the script declares no-writes, PUBLISH, SPUBLISH, PFCOUNT), and
 *    EXEC when its queue holds one. Reads, SCRIPT LOAD/FLUSH, WAIT, the
 *    *_RO variants, PING, CONFIG, INFO ... run. The check comes before MULTI
 *    queueing, so a write sent inside MULTI is held too.
 *  - Replicas are never paused.
 *  - A second PAUSE only makes the pause longer or stricter (ALL wins).
 *  - Meanwhile keys are neither evicted nor actively expired (isEvictionPaused).
 */
import type { Server } from './server.js';
import type { Client } from './client.js';
import { CMD_MAY_REPLICATE, CMD_WRITE, type Command } from './command-table.js';
import { clientIntrospection } from '../commands/client.js';

export type PauseMode = 'all' | 'write';

export interface PauseInfo {
  mode: PauseMode;
  /** End of the pause, server-clock ms. */
  until: number;
}

/**
 * Flags that depend on the arguments: EVAL/EVALSHA/FCALL take the flags the
 * script declares (Redis's getCommandFlags). The scripting module may install
 * a provider; it returns null for commands it does not know.
 */
export const dynamicCommandFlags: { provider: ((c: Client, cmd: Command, argv: string[]) => number | null) | null } = {
  provider: null,
};

/**
 * Commands Redis 7.0 flags may_replicate, which COMMAND INFO (hence our
 * facts) does not show; checked against redis-server 7.0.15 under
 * CLIENT PAUSE WRITE (SCRIPT LOAD/FLUSH, WAIT and the *_RO variants run).
 */
const MAY_REPLICATE = new Set(['eval', 'evalsha', 'fcall', 'publish', 'spublish', 'pfcount']);

/** A command's static flags with may_replicate where Redis 7.0 sets it. */
export function staticCommandFlags(cmd: Command): number {
  return MAY_REPLICATE.has(cmd.fullName) ? cmd.flags | CMD_MAY_REPLICATE : cmd.flags;
}

/** A command's flags as the dispatcher's checks see them (pause, maxmemory). */
export function effectiveCommandFlags(c: Client, cmd: Command, argv: string[]): number {
  const base = MAY_REPLICATE.has(cmd.fullName) ? cmd.flags | CMD_MAY_REPLICATE : cmd.flags;
  const provider = dynamicCommandFlags.provider;
  if (provider !== null) {
    const flags = provider(c, cmd, argv);
    // Null, or the static flags, leave them as they are (may_replicate included).
    if (flags !== null && flags !== cmd.flags) return flags;
  }
  return base;
}

interface PauseState {
  /** CLIENT PAUSE's mode while one is in effect. */
  mode: PauseMode | null;
  until: number;
  /** A coordinated FAILOVER holds writes until it ends (Redis's PAUSE_DURING_FAILOVER). */
  failover: boolean;
  /** A shutdown waiting for replicas holds writes (Redis's PAUSE_DURING_SHUTDOWN). */
  shutdown: boolean;
  /** Whether this server counts in pauseGate.active. */
  gated: boolean;
  timer: NodeJS.Timeout | null;
  /** Clients holding a command, in the order they were held. */
  held: Client[];
}

const states = new WeakMap<Server, PauseState>();
/** Clients blocked by a pause (rather than by BLPOP & co). */
const heldClients = new WeakSet<Client>();

/**
 * Number of servers with a pause in effect, for the dispatcher's fast path:
 * `if (pauseGate.active !== 0 && postponeIfPaused(...))`.
 */
export const pauseGate = { active: 0 };

function stateOf(server: Server): PauseState {
  let st = states.get(server);
  if (st === undefined) {
    st = { mode: null, until: 0, failover: false, shutdown: false, gated: false, timer: null, held: [] };
    states.set(server, st);
    const state = st;
    server.disconnectHooks.push((c) => {
      if (!heldClients.has(c)) return;
      heldClients.delete(c);
      const i = state.held.indexOf(c);
      if (i >= 0) state.held.splice(i, 1);
    });
  }
  return st;
}

/** Starts (or extends) a pause of `ms` milliseconds (CLIENT PAUSE). */
export function pauseClients(server: Server, mode: PauseMode, ms: number): void {
  const st = stateOf(server);
  const now = server.clock.now();
  if (st.mode !== null && st.until <= now) endPause(server, st);
  const until = now + ms;
  if (st.mode === null) {
    st.mode = mode;
    st.until = until;
    updateGate(st);
  } else {
    if (mode === 'all') st.mode = 'all';
    if (until > st.until) st.until = until;
  }
  armTimer(server, st);
}

/** Ends the pause now (CLIENT UNPAUSE). */
export function unpauseClients(server: Server): void {
  const st = states.get(server);
  if (st !== undefined && st.mode !== null) endPause(server, st);
}

/** Starts or ends the write pause of a coordinated FAILOVER (no time limit: it lasts until the failover ends). */
export function setFailoverPause(server: Server, on: boolean): void {
  const st = stateOf(server);
  if (st.failover === on) return;
  st.failover = on;
  updateGate(st);
  if (!on) releaseHeld(server, st);
}

/** Starts or ends the write pause of a shutdown waiting for its replicas (no time limit). */
export function setShutdownPause(server: Server, on: boolean): void {
  const st = stateOf(server);
  if (st.shutdown === on) return;
  st.shutdown = on;
  updateGate(st);
  if (!on) releaseHeld(server, st);
}

/** The pause in effect, or null (a pause whose time is up ends here). */
export function currentPause(server: Server): PauseInfo | null {
  const st = states.get(server);
  if (st === undefined) return null;
  if (st.mode !== null && st.until <= server.clock.now()) endPause(server, st);
  if (st.mode === 'all') return { mode: 'all', until: st.until };
  if (st.failover || st.shutdown) return { mode: 'write', until: st.mode === null ? Infinity : st.until };
  if (st.mode === null) return null;
  return { mode: st.mode, until: st.until };
}

function updateGate(st: PauseState): void {
  const on = st.mode !== null || st.failover || st.shutdown;
  if (on === st.gated) return;
  st.gated = on;
  pauseGate.active += on ? 1 : -1;
}

/** Whether eviction and active expiry must wait (any pause in effect, as Redis 7.0). */
export function isEvictionPaused(server: Server): boolean {
  return pauseGate.active !== 0 && currentPause(server) !== null;
}

/** Whether the client is blocked by a pause (CLIENT UNBLOCK leaves such clients alone). */
export function isHeldByPause(c: Client): boolean {
  return heldClients.has(c);
}

/** Ends a pause whose time is up: for the server cron and clock jumps. */
export function checkPauseTimeout(server: Server): void {
  if (pauseGate.active !== 0) currentPause(server);
}

function armTimer(server: Server, st: PauseState): void {
  if (st.timer !== null) clearTimeout(st.timer);
  const wait = st.until - server.clock.now();
  st.timer = setTimeout(() => {
    st.timer = null;
    currentPause(server);
    if (st.mode === null) return; // only CLIENT PAUSE's part has a time limit
    // A frozen test clock only moves by hand: the clock-advance hook ends the pause then.
    if (!server.clock.frozen) armTimer(server, st);
  }, Math.min(Math.max(1, wait + 1), 2 ** 31 - 1));
  st.timer.unref();
}

/** Ends CLIENT PAUSE's part; a failover's write pause may remain (held writes are then held again). */
function endPause(server: Server, st: PauseState): void {
  st.mode = null;
  st.until = 0;
  updateGate(st);
  if (st.timer !== null) clearTimeout(st.timer);
  st.timer = null;
  releaseHeld(server, st);
}

function releaseHeld(server: Server, st: PauseState): void {
  const held = st.held;
  st.held = [];
  if (held.length === 0) return;
  // Run the held commands after the current one (UNPAUSE's reply goes first), as Redis reprocesses them.
  setImmediate(() => {
    for (const c of held) release(server, c);
  });
}

/** Runs a held command again through the dispatcher, then the rest of the client's input. */
function release(server: Server, c: Client): void {
  if (c.closed || !heldClients.has(c) || c.blocked === null) return;
  heldClients.delete(c);
  const argv = c.blocked.argv;
  server.blocking.unblock(c);
  if (c.heldResume !== null) {
    c.heldResume(argv); // the master link runs it and goes on with its stream
    return;
  }
  server.execute(c, argv);
  server.resume(c);
}

/** Whether a command writes or may propagate (what a WRITE pause holds). */
function mayReplicate(c: Client, cmd: Command, argv: string[]): boolean {
  if ((effectiveCommandFlags(c, cmd, argv) & (CMD_WRITE | CMD_MAY_REPLICATE)) !== 0) return true;
  if (cmd.fullName === 'exec' && c.multi !== null) {
    for (const q of c.multi.queue) {
      if ((effectiveCommandFlags(c, q.cmd, q.argv) & (CMD_WRITE | CMD_MAY_REPLICATE)) !== 0) return true;
    }
  }
  return false;
}

/**
 * The dispatcher's pause step (Server.execute, before MULTI queueing): when
 * the pause covers this command, holds it and blocks the client, and returns
 * true (the caller stops there).
 */
export function postponeIfPaused(server: Server, c: Client, cmd: Command, argv: string[]): boolean {
  const pause = currentPause(server);
  if (pause === null) return false;
  if (clientIntrospection.role(c) === 'replica') return false;
  if (pause.mode === 'write' && !mayReplicate(c, cmd, argv)) return false;
  const st = stateOf(server);
  // CLIENT LIST shows the held command as cmd=, as Redis sets lastcmd before pausing.
  c.lastCommand = cmd.fullName;
  server.blocking.block(c, cmd, argv, { keys: [], timeoutMs: 0, serve: () => false });
  heldClients.add(c);
  st.held.push(c);
  return true;
}
