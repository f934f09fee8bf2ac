/**
 * oom-score-adj: as Redis's setOOMScoreAdj, the server writes its OOM killer score to
 * /proc/self/oom_score_adj from `oom-score-adj-values` (master, replica, background
 * child: the BGSAVE writer child sets the third value on itself, bgChildOomScore). `relative`
 * (or `yes`) adds the value to the score the process had when Mnemo first took over,
 * `absolute` writes it as is; `no` writes that original score back. Applied at start,
 * on CONFIG SET of either directive (a failed write fails the CONFIG SET, which rolls
 * back) and when REPLICAOF changes the role.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { log } from '../persistence/log.js';
import type { Server } from './server.js';

const PROC_FILE = '/proc/self/oom_score_adj';
const MODE_NO = '0';
const MODE_ABSOLUTE = '2';

export const OOM_SCORE_ERROR = 'Failed to set current oom_score_adj. Check server logs.';

/** What Redis keeps in its statics: whether it changed the score, and the score before. */
interface OomState {
  adjusted: boolean;
  base: number;
}

function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES') return 'Permission denied';
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'EPERM') return 'Operation not permitted';
  return String((e as Error)?.message ?? e);
}

/** Applies the configured score for the server's current role; false when /proc could not be read or written. */
function apply(server: Server, st: OomState): boolean {
  const config = server.config;
  const mode = String(config.getNumber('oom-score-adj'));
  let val: number;
  if (mode !== MODE_NO) {
    if (!st.adjusted) {
      try {
        st.base = parseInt(readFileSync(PROC_FILE, 'latin1'), 10) || 0;
      } catch (e) {
        log(server, 'warning', `Unable to read oom_score_adj: ${strerror(e)}`);
        return false;
      }
      st.adjusted = true;
    }
    const values = (config.get('oom-score-adj-values') ?? '0 200 800').split(' ').map(Number);
    val = values[config.replicaOf() !== null ? 1 : 0];
    if (mode !== MODE_ABSOLUTE) val += st.base;
    if (val > 1000) val = 1000;
    if (val < -1000) val = -1000;
  } else if (st.adjusted) {
    st.adjusted = false;
    val = st.base;
  } else {
    return true;
  }
  try {
    writeFileSync(PROC_FILE, `${val}\n`);
  } catch (e) {
    log(server, 'warning', `Unable to write oom_score_adj: ${strerror(e)}`);
    return false;
  }
  return true;
}

const states = new WeakMap<Server, OomState>();

/**
 * The score a background child sets on itself (Redis's setOOMScoreAdj(CONFIG_OOM_BGCHILD)
 * in the forked child): the third value, relative to the same base; null when
 * oom-score-adj is off (the child keeps the score it inherits).
 */
export function bgChildOomScore(server: Server): number | null {
  const st = states.get(server);
  const mode = String(server.config.getNumber('oom-score-adj'));
  if (st === undefined || !st.adjusted || mode === MODE_NO) return null;
  const values = (server.config.get('oom-score-adj-values') ?? '0 200 800').split(' ').map(Number);
  let val = values[2];
  if (mode !== MODE_ABSOLUTE) val += st.base;
  return Math.max(-1000, Math.min(1000, val));
}

export function installOomScoreAdj(server: Server): void {
  const st: OomState = { adjusted: false, base: 0 };
  states.set(server, st);
  const hook = (): string | void => (apply(server, st) ? undefined : OOM_SCORE_ERROR);
  server.config.onChange('oom-score-adj', hook);
  server.config.onChange('oom-score-adj-values', hook);
  // REPLICAOF: the replica's value applies (setInternal ignores the result, as Redis does).
  server.config.onChange('replicaof', hook);
  if (process.platform === 'linux') apply(server, st);
}
