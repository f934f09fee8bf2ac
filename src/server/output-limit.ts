/**
 * client-output-buffer-limit as Redis's checkClientOutputBufferLimits applies
 * it, shared by the classes that enforce it (pub/sub receivers, replicas): a
 * client is over when its pending output reaches the hard limit, or has
 * stayed at or above the soft limit for more than the soft seconds.
 */
import type { Server } from './server.js';
import type { Client } from './client.js';
import { clientKind } from '../commands/client.js';
import { log } from '../persistence/log.js';

export interface OutputLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

/** What a client carries between checks: when it first reached the soft limit (seconds), or 0. */
export interface SoftLimitState {
  softLimitSince: number;
}

/** Indexes of the classes in the directive: normal, replica ("slave"), pubsub. */
export const OUTPUT_CLASS_REPLICA = 1;
export const OUTPUT_CLASS_PUBSUB = 2;

/** The configured limit of a class, kept current across CONFIG SET. */
export function watchOutputLimit(server: Server, cls: number, apply: (l: OutputLimit) => void): void {
  const refresh = (): void => {
    const l = server.config.clientOutputBufferLimits()[cls];
    apply({ hard: Number(l.hardBytes), soft: Number(l.softBytes), softSeconds: l.softSeconds });
  };
  refresh();
  server.config.onChange('client-output-buffer-limit', refresh);
}

/** Whether `used` bytes of pending output are over the limit now (server-clock seconds). */
export function overOutputLimit(limit: OutputLimit, used: number, st: SoftLimitState, nowSec: number): boolean {
  const { hard, soft, softSeconds } = limit;
  if (hard > 0 && used >= hard) return true;
  if (soft > 0 && used >= soft) {
    if (st.softLimitSince === 0) {
      st.softLimitSince = nowSec;
      return false;
    }
    return nowSec - st.softLimitSince > softSeconds;
  }
  st.softLimitSince = 0;
  return false;
}

/**
 * client-output-buffer-limit normal: keeps Server.normalOutputLimit current and
 * Server.outputLimitFloor at its smallest non-zero byte count (Infinity while
 * the class is unlimited, the default, so the checks on the reply path are one
 * comparison). The cron checks idle clients, as Redis's clientsCron does, so a
 * soft limit also fires when the client sends nothing more.
 */
export function installOutputLimits(server: Server): void {
  watchOutputLimit(server, 0, (l) => {
    server.normalOutputLimit = l;
    const floor = Math.min(l.hard > 0 ? l.hard : Infinity, l.soft > 0 ? l.soft : Infinity);
    server.outputLimitFloor = floor;
  });
  server.cronHooks.push(() => {
    if (server.outputLimitFloor === Infinity) return;
    for (const c of server.clients.values()) {
      if (c.closeAsap || c.socket === null) continue;
      const used = c.len + c.socket.writableLength;
      if (used === 0) {
        c.softLimitSince = 0;
        continue;
      }
      checkOutputLimit(server, c, c.len);
    }
  });
}

/**
 * Redis's closeClientOnOutputBufferLimitReached for the normal class: `replyBytes`
 * of reply (pending or about to be) plus what the socket still holds. A client over
 * the limit is scheduled to close: its replies are dropped from here on and the
 * connection is closed on the next turn without sending anything more. Returns
 * whether the client is (now) scheduled to close.
 */
export function checkOutputLimit(server: Server, c: Client, replyBytes: number): boolean {
  if (c.closeAsap) return true;
  const socket = c.socket;
  if (socket === null || c.closed || clientKind(c) !== 'normal') return false;
  const used = replyBytes + socket.writableLength;
  if (!overOutputLimit(server.normalOutputLimit, used, c, Math.floor(server.clock.now() / 1000))) return false;
  c.closeAsap = true;
  c.len = 0;
  log(server, 'warning', `Client id=${c.id} addr=${c.addr} laddr=${c.laddr} name=${c.name} scheduled to be closed ASAP for overcoming of output buffer limits.`);
  setImmediate(() => {
    if (c.closed) return;
    socket.destroy();
    server.removeClient(c);
  });
  return true;
}
