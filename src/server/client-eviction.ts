/**
 * Client eviction (Redis 7.0's maxmemory-clients): when the memory held by
 * client connections reaches the limit, the biggest evictable clients are
 * disconnected, without a reply, until the total is under the limit again.
 *
 * What Redis does, and what we do:
 *
 *  - The limit is `maxmemory-clients`: bytes, or N% of maxmemory (no limit
 *    when maxmemory is 0), 0 = off (the default). Redis never uses less than
 *    128 KB, so that a bad setting cannot cut every connection.
 *  - The total is the memory of normal and pub/sub clients. Replicas and the
 *    master link neither count nor get evicted; CLIENT NO-EVICT clients count
 *    but are never evicted (so while they alone are over the limit, every
 *    other client goes, and Redis warns in its log).
 *  - A client's memory is its CLIENT LIST tot-mem, as in Redis (both are
 *    getClientMemoryUsage; ours is clientMemoryUsage + clientOverheadBytes in
 *    commands/client.ts): the query buffer's modelled room, the arguments of a
 *    command still arriving, the reply buffer (16 KB, 1 KB once the cron shrank
 *    it), replies the socket has not sent yet (writableLength), the MULTI
 *    queue, a fixed per-client figure, and the overheads of WATCHed keys,
 *    subscriptions and tracking prefixes. At a small limit idle clients are
 *    evicted too, as there.
 *  - Redis buckets clients by powers of two and evicts from the biggest
 *    bucket; we sort by size, biggest first (the same order up to ties within
 *    a bucket). The total must be under the limit: Redis evicts while
 *    total >= limit.
 *  - Each eviction counts in INFO stats evicted_clients (CONFIG RESETSTAT
 *    zeroes it) and logs "Evicting client: <CLIENT LIST line>".
 *  - Redis checks in beforeSleep (after each event loop round of reads and
 *    writes) and before each command. We check from the server cron (every
 *    tick: one pass over the clients, no allocation when under the limit) and
 *    as soon as the clients' memory reaches the limit: flush() calls
 *    noteClientBuffers, which moves a running total by that client's change
 *    (Redis's updateClientMemUsage; each check recounts it exactly), and when
 *    the total reaches the limit schedules a check for the end of this event
 *    loop round (setImmediate, at most one pending), Redis's beforeSleep. A
 *    scheduled check also runs before the next command any client runs in this
 *    round (processInput, one counter test while none is pending), as Redis's
 *    processCommand calls evictClients. While a limit is set, reads are
 *    parsed and noted at once but their commands run after all of the turn's
 *    reads (net/connection.ts, deferInput), so a batch's order cannot let a
 *    command run before another client's oversized input of the same batch.
 *    CONFIG SET of maxmemory-clients or maxmemory schedules a check too.
 *    After evicting, the client memory maxmemory counts is measured again, so
 *    keys are not evicted for clients already gone (Redis evicts clients first).
 *
 * Differences: a pipelined batch runs whole before the check (Redis checks
 * before each command), so a batch of big replies may overshoot before its
 * client is evicted. The query buffer counts, as Redis's, the room reserved
 * for an announced big bulk argument (parser.reservedBytes).
 *
 * Hot path: flush() reads one module field (`clientEvictionGate.enabled`) and
 * does nothing more while no server has a limit.
 */
import type { Server } from './server.js';
import type { Client } from './client.js';
import { clientInfoLine, clientKind, clientMemoryUsage, clientOverheadBytes, partialArgvMemory } from '../commands/client.js';
import { measureClientMemory, setInfoProvider, type InfoValue } from '../observability/info.js';
import { log } from '../persistence/log.js';

/** Redis's floor for the effective limit. */
export const MIN_CLIENT_EVICTION_LIMIT = 128 * 1024;

/**
 * Number of servers in this process with client eviction on: flush() calls
 * noteClientBuffers only when it is not 0. (A server closed with a limit set
 * stays counted; that only costs the others a lookup per flush.)
 */
export const clientEvictionGate = { enabled: 0, pending: 0 };

interface ClientEvictionState {
  /** Effective limit in bytes; 0 = off. */
  limit: number;
  /** INFO stats evicted_clients. */
  evicted: number;
  /** The clients' memory: counted exactly by each check, then moved by each client's noted change. */
  total: number;
  /** A check is queued with setImmediate. */
  scheduled: boolean;
  /** Counted in clientEvictionGate. */
  gated: boolean;
  /** Warned that only non-evictable clients are left over the limit (once until it is under again). */
  warnedOver: boolean;
}

const states = new WeakMap<Server, ClientEvictionState>();

/** The effective limit for a maxmemory-clients value (-N for N%) and maxmemory; 0 = off. */
export function clientEvictionLimit(maxmemoryClients: number, maxmemory: number): number {
  let limit: number;
  if (maxmemoryClients < 0) {
    if (maxmemory === 0) return 0; // a percentage of no limit is no limit
    limit = Math.floor((maxmemory * -maxmemoryClients) / 100);
  } else if (maxmemoryClients > 0) {
    limit = maxmemoryClients;
  } else {
    return 0;
  }
  return Math.max(limit, MIN_CLIENT_EVICTION_LIMIT);
}

/**
 * A client's memory as client eviction counts it (see the file comment): the same figure
 * as its CLIENT LIST tot-mem, as in Redis (getClientMemoryUsage serves both).
 */
export function clientMemory(c: Client): number {
  return clientMemoryUsage(c, c.parser.pendingBytes, partialArgvMemory(c)) + clientOverheadBytes(c);
}

/** Whether this client's memory counts towards the limit (normal and pub/sub connections). */
function counted(c: Client): boolean {
  if (c.closed || c.socket === null) return false;
  const kind = clientKind(c);
  return kind === 'normal' || kind === 'pubsub';
}

/**
 * Sets up client eviction for a server: reads maxmemory-clients and follows
 * its CONFIG SET (and maxmemory's). The server must call clientEvictionCron
 * from its cron, and flush() must call noteClientBuffers (see the file comment).
 */
export function installClientEviction(server: Server): void {
  const st: ClientEvictionState = { limit: 0, evicted: 0, total: 0, scheduled: false, gated: false, warnedOver: false };
  states.set(server, st);
  refreshLimit(server, st);
  const onChange = (): void => {
    refreshLimit(server, st);
    // As Redis, a lower limit disconnects clients at once (at the end of this round).
    scheduleCheck(server, st);
  };
  server.config.onChange('maxmemory-clients', onChange);
  server.config.onChange('maxmemory', onChange);
  setInfoProvider(server, 'stats', (_srv, fields) =>
    fields.map(([k, v]): [string, InfoValue] => (k === 'evicted_clients' ? [k, st.evicted] : [k, v])),
  );
  hookResetStat();
}

let resetHooked = false;

/**
 * CONFIG RESETSTAT zeroes evicted_clients. commands/server.js is imported
 * lazily: net/connection.ts loads this module before the command modules, and
 * a static import would run commands/server.js ahead of the modules that must
 * come first in their import cycle. It is loaded long before any client can
 * send CONFIG RESETSTAT. One hook serves all servers.
 */
function hookResetStat(): void {
  if (resetHooked) return;
  resetHooked = true;
  void import('../commands/server.js').then(({ resetStatHooks }) =>
    resetStatHooks.push((srv) => {
      const st = states.get(srv);
      if (st !== undefined) st.evicted = 0;
    }),
  );
}

function refreshLimit(server: Server, st: ClientEvictionState): void {
  // getBigInt: the signed value (-N for N%); getNumber reads memory directives as unsigned.
  const setting = Number(server.config.getBigInt('maxmemory-clients'));
  st.limit = clientEvictionLimit(setting, server.config.getNumber('maxmemory'));
  // Unknown until the next check: the first client to flush asks for one.
  st.total = st.limit;
  st.warnedOver = false;
  const on = st.limit !== 0;
  if (on !== st.gated) {
    st.gated = on;
    clientEvictionGate.enabled += on ? 1 : -1;
  }
}

/**
 * Hot path, from flush() after a client's replies were handed to its socket
 * (and so after each read): the running total of the clients' memory takes
 * this client's change (as last noted; closed clients stay in it until the next
 * check recounts), and when it reaches the limit a check runs at the end of
 * this event loop round, or before the next command.
 * Never evicts by itself (flush() runs inside loops over clients).
 */
export function noteClientBuffers(server: Server, c: Client): void {
  const st = states.get(server);
  if (st === undefined || st.limit === 0 || !counted(c)) return;
  // Redis's updateClientMemUsage: the running total follows this client's change.
  const m = clientMemory(c);
  st.total += m - c.evictionNoted;
  c.evictionNoted = m;
  if (!st.scheduled && st.total >= st.limit) scheduleCheck(server, st);
}

function scheduleCheck(server: Server, st: ClientEvictionState): void {
  if (st.scheduled || st.limit === 0) return;
  st.scheduled = true;
  clientEvictionGate.pending++;
  setImmediate(() => {
    if (!st.scheduled) return; // already run before a command
    st.scheduled = false;
    clientEvictionGate.pending--;
    if (!server.shuttingDown) evictClients(server, st);
  });
}

/**
 * Before a client's command (processInput, while clientEvictionGate.pending is
 * not 0): a check scheduled for the end of this round runs now, as Redis's
 * processCommand calls evictClients, so a command read in the same round as
 * another client's oversized input runs after that client is gone. Returns
 * true when `c` itself was evicted (its command must not run).
 */
export function evictBeforeCommand(server: Server, c: Client): boolean {
  const st = states.get(server);
  if (st === undefined || !st.scheduled) return false;
  st.scheduled = false;
  clientEvictionGate.pending--;
  if (st.limit !== 0 && !server.shuttingDown) evictClients(server, st);
  return c.closed;
}

/** From the server cron: the periodic check (catches many clients growing together). */
export function clientEvictionCron(server: Server): void {
  const st = states.get(server);
  if (st !== undefined && st.limit !== 0) evictClients(server, st);
}

/** Evicts the biggest evictable clients while the total is at or above the limit; returns how many. */
function evictClients(server: Server, st: ClientEvictionState): number {
  const limit = st.limit;
  let total = 0;
  for (const c of server.clients.values()) {
    if (!counted(c)) continue;
    const mem = clientMemory(c);
    c.evictionNoted = mem;
    total += mem;
  }
  st.total = total;
  if (total < limit) {
    st.warnedOver = false;
    return 0;
  }
  // Over the limit (rare): rank the evictable clients, biggest first.
  const candidates: Array<{ c: Client; mem: number }> = [];
  for (const c of server.clients.values()) {
    if (!c.noEvict && counted(c)) candidates.push({ c, mem: clientMemory(c) });
  }
  candidates.sort((a, b) => b.mem - a.mem); // stable: among equals, the oldest connection first
  let evicted = 0;
  for (const { c, mem } of candidates) {
    if (total < limit) break;
    log(server, 'notice', `Evicting client: ${clientInfoLine(c)}`);
    c.onKill?.();
    c.socket?.destroy();
    server.removeClient(c);
    total -= mem;
    st.evicted++;
    evicted++;
  }
  st.total = total;
  if (total >= limit) {
    if (!st.warnedOver) log(server, 'warning', 'Over client maxmemory after evicting all evictable clients');
    st.warnedOver = true;
  } else {
    st.warnedOver = false;
  }
  // maxmemory then counts the clients that are left (Redis evicts clients before keys).
  if (evicted > 0) measureClientMemory(server);
  return evicted;
}
