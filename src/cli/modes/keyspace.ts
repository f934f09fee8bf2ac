/**
 * The keyspace walking modes of mnemo-cli, with redis-cli 7.0's output:
 *   --scan [--pattern p] [--count n]   every key name, one per line
 *   --bigkeys / --memkeys              biggest key per type (by length or MEMORY USAGE)
 *   --hotkeys                          keys with the highest LFU counters (OBJECT FREQ)
 * Ctrl-C stops the walk and still prints the summary. Commands are pipelined per SCAN batch.
 */
import type { Session } from '../session.js';
import { SessionExit, sleep } from '../session.js';
import type { Reply } from '../reply.js';
import { repr } from '../format.js';
import { writeErr, writeOut } from '../output.js';
import { cString, fixed, padLeft, padRight, zeroPadFixed } from '../cformat.js';
import { CliConnection } from '../connection.js';
import { DictOrder } from './type-order.js';

/** Set by Ctrl-C: finish the current batch, then print what was found. */
let cancelled = false;
function stopOnSigint(): void {
  process.on('SIGINT', () => {
    cancelled = true;
  });
}

async function read(conn: CliConnection): Promise<Reply | null> {
  try {
    return await conn.readReply();
  } catch {
    return null;
  }
}

const ioError = (): never => {
  writeErr('\nI/O error\n');
  throw new SessionExit(1);
};

/** One SCAN step: returns the next cursor and the key names. */
export async function sendScan(session: Session, cursor: string): Promise<{ cursor: string; keys: string[] }> {
  const conn = session.conn!;
  const argv = ['SCAN', cursor];
  if (session.cfg.pattern !== null) argv.push('MATCH', session.cfg.pattern);
  if (session.cfg.count > 0) argv.push('COUNT', String(session.cfg.count));
  conn.send(argv);
  const r = await read(conn);
  if (r === null) return ioError();
  if (r.type === 'error') {
    writeErr(`SCAN error: ${r.str}\n`);
    throw new SessionExit(1);
  }
  if (r.type !== 'array') {
    writeErr('Non ARRAY response from SCAN!\n');
    throw new SessionExit(1);
  }
  if (r.elements.length !== 2) {
    writeErr('Invalid element count from SCAN!\n');
    throw new SessionExit(1);
  }
  const [cur, list] = r.elements;
  const keys = list.type === 'array' ? list.elements.map((k) => ('str' in k ? k.str : '')) : [];
  const next = 'str' in cur ? cur.str : '0';
  return { cursor: /^\d+$/.test(next) ? BigInt(next).toString() : '0', keys };
}

async function getDbSize(session: Session): Promise<number> {
  const conn = session.conn!;
  conn.send(['DBSIZE']);
  const r = await read(conn);
  if (r === null) return ioError();
  if (r.type === 'error') {
    writeErr(`Couldn't determine DBSIZE: ${r.str}\n`);
    throw new SessionExit(1);
  }
  if (r.type !== 'integer') {
    writeErr('Non INTEGER response from DBSIZE!\n');
    throw new SessionExit(1);
  }
  return Number(r.value);
}

export async function scanMode(session: Session): Promise<number> {
  stopOnSigint();
  let cursor = '0';
  do {
    const batch = await sendScan(session, cursor);
    cursor = batch.cursor;
    let out = '';
    for (const k of batch.keys) out += (session.cfg.output === 'standard' ? repr(k) : cString(k)) + '\n';
    writeOut(out);
    if (session.cfg.interval) await sleep(session.cfg.interval / 1000);
  } while (!cancelled && cursor !== '0');
  return 0;
}

interface TypeInfo {
  name: string;
  sizeCmd: string | null;
  sizeUnit: string;
  biggest: number;
  count: number;
  totalSize: number;
  biggestKey: string | null;
}

/** The per-type counters, and their order in the summary (see type-order.ts). */
class TypeTable {
  readonly byName = new Map<string, TypeInfo>();
  private readonly order = new DictOrder();

  constructor() {
    this.add('string', 'STRLEN', 'bytes');
    this.add('list', 'LLEN', 'items');
    this.add('set', 'SCARD', 'members');
    this.add('hash', 'HLEN', 'fields');
    this.add('zset', 'ZCARD', 'members');
    this.add('stream', 'XLEN', 'entries');
  }

  add(name: string, sizeCmd: string | null, sizeUnit: string): TypeInfo {
    const info = { name, sizeCmd, sizeUnit, biggest: 0, count: 0, totalSize: 0, biggestKey: null };
    this.byName.set(name, info);
    this.order.add(name);
    return info;
  }

  find(name: string): TypeInfo | undefined {
    this.order.find();
    return this.byName.get(name);
  }

  /** In redis-cli's summary order. */
  values(): TypeInfo[] {
    return this.order.keys().map((k) => this.byName.get(k)!);
  }
}

async function getKeyTypes(conn: CliConnection, types: TypeTable, keys: string[]): Promise<(TypeInfo | null)[]> {
  for (const k of keys) conn.send(['TYPE', k]);
  const out: (TypeInfo | null)[] = [];
  for (const k of keys) {
    const r = await read(conn);
    if (r === null) {
      writeErr(`Error getting type for key '${cString(k)}' (1: ${conn.err?.message ?? ''})\n`);
      throw new SessionExit(1);
    }
    if (r.type !== 'status') {
      if (r.type === 'error') writeErr(`TYPE returned an error: ${r.str}\n`);
      else writeErr(`Invalid reply type (${r.type}) for TYPE on key '${cString(k)}'!\n`);
      throw new SessionExit(1);
    }
    let info = types.find(r.str) ?? null;
    // A module type: counted, but it has no size command.
    if (!info && r.str !== 'none') info = types.add(r.str, null, '?');
    out.push(info);
  }
  return out;
}

async function getKeySizes(conn: CliConnection, keys: string[], types: (TypeInfo | null)[], memkeys: boolean, samples: number): Promise<number[]> {
  const skip = (i: number) => !types[i] || (!types[i]!.sizeCmd && !memkeys);
  keys.forEach((k, i) => {
    if (skip(i)) return;
    if (!memkeys) conn.send([types[i]!.sizeCmd!, k]);
    else if (samples === 0) conn.send(['MEMORY', 'USAGE', k]);
    else conn.send(['MEMORY', 'USAGE', k, 'SAMPLES', String(samples)]);
  });
  const sizes: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (skip(i)) {
      sizes.push(0);
      continue;
    }
    const r = await read(conn);
    if (r === null) {
      writeErr(`Error getting size for key '${cString(keys[i])}' (1: ${conn.err?.message ?? ''})\n`);
      throw new SessionExit(1);
    }
    if (r.type !== 'integer') {
      writeErr(`Warning:  ${!memkeys ? types[i]!.sizeCmd : 'MEMORY USAGE'} on '${cString(keys[i])}' failed (may have changed type)\n`);
      sizes.push(0);
    } else {
      sizes.push(Number(r.value));
    }
  }
  return sizes;
}

const HEADER_BIG =
  '\n# Scanning the entire keyspace to find biggest keys as well as\n' +
  '# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n' +
  '# per 100 SCAN commands (not usually needed).\n\n';

export async function findBigKeys(session: Session, memkeys: boolean, samples: number): Promise<number> {
  const conn = session.conn!;
  const types = new TypeTable();
  stopOnSigint();
  const totalKeys = await getDbSize(session);
  writeOut(HEADER_BIG);
  let sampled = 0;
  let totlen = 0;
  let scanLoops = 0;
  let pct = 0;
  let cursor = '0';
  do {
    pct = (100 * sampled) / totalKeys;
    const batch = await sendScan(session, cursor);
    cursor = batch.cursor;
    scanLoops++;
    const keyTypes = await getKeyTypes(conn, types, batch.keys);
    const sizes = await getKeySizes(conn, batch.keys, keyTypes, memkeys, samples);
    let out = '';
    batch.keys.forEach((key, i) => {
      const type = keyTypes[i];
      if (!type) return; // the key disappeared between SCAN and TYPE
      type.totalSize += sizes[i];
      type.count++;
      totlen += key.length;
      sampled++;
      if (type.biggest < sizes[i]) {
        type.biggestKey = repr(key);
        out += `[${zeroPadFixed(pct, 5, 2)}%] Biggest ${padRight(type.name, 6)} found so far '${type.biggestKey}' with ${sizes[i]} ${!memkeys ? type.sizeUnit : 'bytes'}\n`;
        type.biggest = sizes[i];
      }
      if (sampled % 1000000 === 0) out += `[${zeroPadFixed(pct, 5, 2)}%] Sampled ${sampled} keys so far\n`;
    });
    writeOut(out);
    if (session.cfg.interval && scanLoops % 100 === 0) await sleep(session.cfg.interval / 1000);
  } while (!cancelled && cursor !== '0');

  let out = '\n-------- summary -------\n\n';
  if (cancelled) out += `[${zeroPadFixed(pct, 5, 2)}%] `;
  out += `Sampled ${sampled} keys in the keyspace!\n`;
  out += `Total key length in bytes is ${totlen} (avg len ${fixed(totlen ? totlen / sampled : 0, 2)})\n\n`;
  for (const t of types.values()) {
    if (t.biggestKey !== null) {
      out += `Biggest ${padLeft(t.name, 6)} found '${t.biggestKey}' has ${t.biggest} ${!memkeys ? t.sizeUnit : 'bytes'}\n`;
    }
  }
  out += '\n';
  for (const t of types.values()) {
    const share = sampled ? (100 * t.count) / sampled : 0;
    const avg = t.count ? t.totalSize / t.count : 0;
    out += `${t.count} ${t.name}s with ${t.totalSize} ${!memkeys ? t.sizeUnit : 'bytes'} (${zeroPadFixed(share, 5, 2)}% of keys, avg size ${fixed(avg, 2)})\n`;
  }
  writeOut(out);
  return 0;
}

const HOTKEYS_SAMPLE = 16;

export async function findHotKeys(session: Session): Promise<number> {
  const conn = session.conn!;
  const counters: number[] = new Array(HOTKEYS_SAMPLE).fill(0);
  const hotkeys: (string | null)[] = new Array(HOTKEYS_SAMPLE).fill(null);
  stopOnSigint();
  const totalKeys = await getDbSize(session);
  writeOut(
    '\n# Scanning the entire keyspace to find hot keys as well as\n' +
      '# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n' +
      '# per 100 SCAN commands (not usually needed).\n\n',
  );
  let sampled = 0;
  let scanLoops = 0;
  let pct = 0;
  let cursor = '0';
  do {
    pct = (100 * sampled) / totalKeys;
    const batch = await sendScan(session, cursor);
    cursor = batch.cursor;
    scanLoops++;
    for (const k of batch.keys) conn.send(['OBJECT', 'FREQ', k]);
    const freqs: number[] = [];
    for (const k of batch.keys) {
      const r = await read(conn);
      if (r === null) {
        writeErr(`Error getting freq for key '${repr(k)}' (1: ${conn.err?.message ?? ''})\n`);
        throw new SessionExit(1);
      }
      if (r.type === 'integer') freqs.push(Number(r.value));
      else if (r.type === 'error') {
        writeErr(`Error: ${r.str}\n`);
        throw new SessionExit(1);
      } else {
        writeErr(`Warning: OBJECT FREQ on key '${repr(k)}' failed (may have changed type)\n`);
        freqs.push(0);
      }
    }
    let out = '';
    batch.keys.forEach((key, i) => {
      sampled++;
      if (sampled % 1000000 === 0) out += `[${zeroPadFixed(pct, 5, 2)}%] Sampled ${sampled} keys so far\n`;
      // A small pool kept in ascending counter order; the coldest entry falls out.
      let k = 0;
      while (k < HOTKEYS_SAMPLE && freqs[i] > counters[k]) k++;
      if (k === 0) return;
      k--;
      if (!(k === 0 || counters[k] === 0)) {
        counters.splice(0, 1);
        counters.splice(k, 0, 0);
        hotkeys.splice(0, 1);
        hotkeys.splice(k, 0, null);
      }
      counters[k] = freqs[i];
      hotkeys[k] = repr(key);
      out += `[${zeroPadFixed(pct, 5, 2)}%] Hot key '${hotkeys[k]}' found so far with counter ${freqs[i]}\n`;
    });
    writeOut(out);
    if (session.cfg.interval && scanLoops % 100 === 0) await sleep(session.cfg.interval / 1000);
  } while (!cancelled && cursor !== '0');

  let out = '\n-------- summary -------\n\n';
  if (cancelled) out += `[${zeroPadFixed(pct, 5, 2)}%] `;
  out += `Sampled ${sampled} keys in the keyspace!\n`;
  for (let i = 1; i <= HOTKEYS_SAMPLE; i++) {
    const k = HOTKEYS_SAMPLE - i;
    if (counters[k] > 0) out += `hot key found with counter: ${counters[k]}\tkeyname: ${hotkeys[k]}\n`;
  }
  writeOut(out);
  return 0;
}
