/**
 * client-output-buffer-limit as Redis's checkClientOutputBufferLimits applies
 * it, shared by the classes that enforce it (pub/sub receivers, replicas): a
 * client is over when its pending output reaches the hard limit, or has
 * stayed at or above the soft limit for more than the soft seconds.
 */
import type { Server } from './server.js';

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
