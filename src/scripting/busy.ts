/**
 * Which servers are busy running a script past busy-reply-threshold, and the
 * hooks the dispatcher and the cron use to honour it. Kept free of other
 * scripting imports so server.ts can import it without a cycle.
 *
 * While a server is busy, every command without the allow_busy flag is
 * refused with -BUSY, and periodic work that could touch the dataset (active
 * expiry, blocked-client timeouts) waits, so the script stays atomic.
 */
import { CMD_ALLOW_BUSY, type Command } from '../server/command-table.js';
import type { Server } from '../server/server.js';

export const BUSY_EVAL = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
export const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';

const busyServers = new Map<Server, 'eval' | 'function'>();
/** Who waits for a server's timed-out script to end (the AOF loader, see whenScriptDone). */
const doneWaiters = new Map<Server, Array<() => void>>();

/** Marks a server busy (a script of this kind timed out) or not (kind null). */
export function setScriptBusy(server: Server, kind: 'eval' | 'function' | null): void {
  if (kind === null) {
    busyServers.delete(server);
    const waiters = doneWaiters.get(server);
    if (waiters !== undefined) {
      doneWaiters.delete(server);
      for (const w of waiters) w();
    }
  } else {
    busyServers.set(server, kind);
  }
}

/** Resolves when the server's timed-out script ends (at once when none runs). */
export function whenScriptDone(server: Server): Promise<void> {
  if (!busyServers.has(server)) return Promise.resolve();
  return new Promise((resolve) => {
    let list = doneWaiters.get(server);
    if (list === undefined) doneWaiters.set(server, (list = []));
    list.push(resolve);
  });
}

/** Servers held by a SCRIPT DEBUG SYNC session (src/scripting/ldb.ts). */
const heldServers = new Set<Server>();

/** A synchronous debugging session holds (or releases) the server: periodic work waits, as for a busy script. */
export function setDebugHold(server: Server, held: boolean): void {
  if (held) heldServers.add(server);
  else heldServers.delete(server);
}

/** True while a timed-out script runs on this server, or a synchronous debugging session holds it. */
export function isScriptBusy(server: Server): boolean {
  return (busyServers.size !== 0 && busyServers.has(server)) || (heldServers.size !== 0 && heldServers.has(server));
}

/** The -BUSY error for the running script's kind (SHUTDOWN without NOSAVE uses it too), or null. */
export function scriptBusyError(server: Server): string | null {
  if (busyServers.size === 0) return null;
  const kind = busyServers.get(server);
  if (kind === undefined) return null;
  return kind === 'eval' ? BUSY_EVAL : BUSY_FUNCTION;
}

/**
 * The dispatcher's check (Server.execute, after the pub/sub context check and
 * before MULTI queueing): the error to reject `cmd` with, or null to run it.
 */
export function busyCheck(server: Server, cmd: Command): string | null {
  if (busyServers.size === 0 || (cmd.flags & CMD_ALLOW_BUSY) !== 0) return null;
  return scriptBusyError(server);
}

const denyDisabled = new WeakSet<Server>();

/** DEBUG SET-DISABLE-DENY-SCRIPTS: whether scripts may run commands flagged noscript. */
export function setDenyScriptDisabled(server: Server, disabled: boolean): void {
  if (disabled) denyDisabled.add(server);
  else denyDisabled.delete(server);
}

export function denyScriptDisabled(server: Server): boolean {
  return denyDisabled.has(server);
}
