/**
 * Persistence's log lines, in Redis's format ("pid:M 12 Jan 2024 10:00:00.123 * text"),
 * to `logfile` (relative to `dir`) when set, else to standard output; filtered by `loglevel`.
 * Tests and embedders can redirect them with setLogSink.
 */
import { appendFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Server } from '../server/server.js';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';

const RANK: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3 };
const MARK: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const sinks = new WeakMap<Server, (level: LogLevel, line: string) => void>();

/** Sends this server's persistence log lines to `sink` instead of the log file / stdout. */
export function setLogSink(server: Server, sink: (level: LogLevel, line: string) => void): void {
  sinks.set(server, sink);
}

function timestamp(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * Logs one line. `role` is Redis's role character: M master, S replica, X sentinel,
 * C before the server is initialised (and in children).
 */
export function log(server: Server, level: LogLevel, msg: string, role?: 'M' | 'S' | 'C' | 'X'): void {
  if (!logs(server, level)) return;
  const r = role ?? (server.config.sentinelMode ? 'X' : server.isReplica ? 'S' : 'M');
  write(server, level, `${process.pid}:${r} ${timestamp(Date.now())} ${MARK[level]} ${msg}`);
}

/** Logs text as it is, without the pid/time prefix (Redis's LL_RAW, used for the startup banner). */
export function logRaw(server: Server, level: LogLevel, text: string): void {
  if (logs(server, level)) write(server, level, text);
}

function logs(server: Server, level: LogLevel): boolean {
  const configured = (server.config.loglevel as LogLevel) in RANK ? (server.config.loglevel as LogLevel) : 'notice';
  return RANK[level] >= RANK[configured];
}

function write(server: Server, level: LogLevel, line: string): void {
  const sink = sinks.get(server);
  if (sink) {
    sink(level, line);
    return;
  }
  const file = server.config.logfile;
  try {
    // A relative logfile is under `dir`, as Redis (which chdir()s there) opens it per line.
    if (file) appendFileSync(resolvePath(String(server.config.get('dir') ?? '.'), file), line + '\n');
    else process.stdout.write(line + '\n');
  } catch {
    // Logging must never take the server down.
  }
}
