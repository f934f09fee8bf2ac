/**
 * Live monitoring modes of mnemo-cli, printing what redis-cli 7.0 prints:
 *   --stat              a line of INFO figures per interval (keys, mem, clients, ...)
 *   --latency           PING round-trip min/max/avg, redrawn in place on a terminal
 *   --latency-history   the same, one line per interval (15 s by default, -i to change)
 *   --intrinsic-latency the longest scheduling stall of this process, for N seconds
 * They reconnect (plainly, as redis-cli does) if the server goes away.
 */
import { CliConnection, ConnError } from '../connection.js';
import type { Reply } from '../reply.js';
import { SessionExit, sleep, type Session } from '../session.js';
import { writeErr, writeOut } from '../output.js';
import { bytesToHuman, fixed, padRight } from '../cformat.js';

/** redisCommand that waits for the server to come back (reconnectingRedisCommand). */
async function reconnectingCommand(session: Session, ...argv: string[]): Promise<Reply> {
  let tries = 0;
  for (;;) {
    while (session.conn === null || (session.conn.err && session.conn.err.kind !== 'protocol')) {
      tries++;
      writeOut('\r\x1b[0K');
      writeOut(`Reconnecting... ${tries}\r`);
      session.conn?.close();
      try {
        session.conn = await CliConnection.connect(session.target);
      } catch {
        session.conn = null;
      }
      await sleep(1000);
    }
    try {
      const r = await session.conn.command(...argv);
      if (tries > 0) writeOut('\r\x1b[0K');
      return r;
    } catch (e) {
      if (e instanceof ConnError && e.kind === 'protocol') {
        writeErr(`Error: ${e.message}\n`);
        throw new SessionExit(1);
      }
    }
  }
}

/** getInfoField(): the value after "field:" (or "field=") up to "\r" or ",". */
function infoField(info: string, field: string): string | null {
  const at = info.indexOf(field);
  if (at < 0) return null;
  const p = at + field.length + 1;
  let end = info.indexOf('\r', p);
  if (end < 0) end = info.length;
  const comma = info.indexOf(',', p);
  if (comma >= 0 && comma < end) end = comma;
  return info.slice(p, end);
}

const LONG_MIN = -(2 ** 63);

function longInfoField(info: string, field: string): number {
  const v = infoField(info, field);
  if (v === null) return LONG_MIN;
  const m = /^\s*[-+]?\d+/.exec(v);
  return m ? Number(m[0]) : 0;
}

export async function statMode(session: Session): Promise<never> {
  let requests = 0;
  for (let i = 0; ; i++) {
    const r = await reconnectingCommand(session, 'INFO');
    if (r.type === 'error') {
      writeErr(`ERROR: ${r.str}\n`);
      throw new SessionExit(1);
    }
    const info = 'str' in r ? r.str : '';
    let out = '';
    if (i % 20 === 0) {
      out +=
        '------- data ------ --------------------- load -------------------- - child -\n' +
        'keys       mem      clients blocked requests            connections          \n';
    }
    let keys = 0;
    for (let j = 0; j < 20; j++) {
      const k = longInfoField(info, `db${j}:keys`);
      if (k !== LONG_MIN) keys += k;
    }
    out += padRight(String(keys), 11);
    out += padRight(bytesToHuman(longInfoField(info, 'used_memory')), 8);
    out += ' ' + padRight(String(longInfoField(info, 'connected_clients')), 8);
    out += padRight(String(longInfoField(info, 'blocked_clients')), 8);
    const total = longInfoField(info, 'total_commands_processed');
    out += padRight(`${total} (+${requests === 0 ? 0 : total - requests})`, 19);
    requests = total;
    out += ' ' + padRight(String(longInfoField(info, 'total_connections_received')), 12);
    const child =
      longInfoField(info, 'bgsave_in_progress') | (longInfoField(info, 'aof_rewrite_in_progress') << 1) | (longInfoField(info, 'loading') << 2);
    out += ['', 'SAVE', 'AOF', 'SAVE+AOF', 'LOAD'][child] ?? '';
    writeOut(out + '\n');
    await sleep(session.cfg.interval / 1000);
  }
}

const LATENCY_SAMPLE_RATE = 10; // ms between PINGs
const LATENCY_HISTORY_DEFAULT_INTERVAL = 15000; // ms

function latencyLine(session: Session, min: number, max: number, avg: number, count: number): string {
  switch (session.cfg.output) {
    case 'standard':
      return `min: ${min}, max: ${max}, avg: ${fixed(avg, 2)} (${count} samples)`;
    case 'csv':
      return `${min},${max},${fixed(avg, 2)},${count}\n`;
    case 'raw':
      return `${min} ${max} ${fixed(avg, 2)} ${count}\n`;
    default:
      return `{"min": ${min}, "max": ${max}, "avg": ${fixed(avg, 2)}, "count": ${count}}\n`;
  }
}

export async function latencyMode(session: Session): Promise<never | number> {
  const cfg = session.cfg;
  const historyInterval = cfg.interval ? cfg.interval / 1000 : LATENCY_HISTORY_DEFAULT_INTERVAL;
  // Outside a terminal --latency samples for one interval (1 s by default) and prints once.
  const interval = cfg.interval === 0 ? 1000 : cfg.interval / 1000;
  let historyStart = Date.now();
  let min = 0;
  let max = 0;
  let tot = 0;
  let count = 0;
  let avg = 0;
  if (!session.conn) throw new SessionExit(1);
  for (;;) {
    const start = Date.now();
    await reconnectingCommand(session, 'PING');
    const latency = Date.now() - start;
    count++;
    if (count === 1) {
      min = max = tot = latency;
      avg = latency;
    } else {
      if (latency < min) min = latency;
      if (latency > max) max = latency;
      tot += latency;
      avg = tot / count;
    }
    if (cfg.output === 'standard') {
      writeOut('\x1b[0G\x1b[2K' + latencyLine(session, min, max, avg, count));
    } else if (cfg.latencyHistory) {
      writeOut(latencyLine(session, min, max, avg, count));
    } else if (Date.now() - historyStart > interval) {
      writeOut(latencyLine(session, min, max, avg, count));
      return 0;
    }
    if (cfg.latencyHistory && Date.now() - historyStart > historyInterval) {
      writeOut(` -- ${fixed((Date.now() - historyStart) / 1000, 2)} seconds range\n`);
      historyStart = Date.now();
      min = max = tot = count = 0;
    }
    await sleep(LATENCY_SAMPLE_RATE);
  }
}

/**
 * --intrinsic-latency: measures how late this process gets to run, by timing a busy loop
 * (the latency no server on this machine can beat).
 */
export async function intrinsicLatencyMode(seconds: number): Promise<number> {
  const now = () => Number(process.hrtime.bigint() / 1000n);
  const testEnd = now() + seconds * 1000000;
  let maxLatency = 0;
  let runs = 0;
  let end = 0;
  let lastChunk = now();
  for (;;) {
    const start = now();
    // A little work, so the loop measures scheduling rather than the clock.
    let x = 0;
    for (let j = 0; j < 100; j++) x += Math.sqrt(j);
    void x;
    end = now();
    const latency = end - start;
    runs++;
    if (latency <= 0) continue;
    if (latency > maxLatency) {
      maxLatency = latency;
      writeOut(`Max latency so far: ${maxLatency} microseconds.\n`);
    }
    if (end - lastChunk > 50000) {
      // Let Ctrl-C and timers run now and then.
      await new Promise((r) => setImmediate(r));
      lastChunk = now();
    }
    if (end > testEnd) break;
  }
  const avg = (seconds * 1e6) / runs;
  writeOut(`\n${runs} total runs (avg latency: ${fixed(avg * 1000, 4)} nanoseconds / ${fixed(avg, 2)} microseconds).\n`);
  writeOut(`Worst run took ${fixed(maxLatency / avg, 0)}x longer than the average latency.\n`);
  return 0;
}
