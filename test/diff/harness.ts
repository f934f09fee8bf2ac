/**
 * Differential test harness: runs the same case file, line by line, against a
 * real redis-server (the oracle) and against Mnemo, over raw sockets, and
 * compares the reply bytes. The case file format is described in README.md.
 *
 * Sections: case file parsing, RESP reply framing and canonical forms,
 * connections, server processes, the runner, and failure formatting.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/process.js';

/** Config directives given identically to both servers at startup. */
export const SHARED_CONFIG: Readonly<Record<string, string>> = {
  save: '',
  appendonly: 'no',
  // DEBUG (SLEEP, SET-ACTIVE-EXPIRE, OBJECT...) is refused by Redis 7.0 unless enabled at startup.
  'enable-debug-command': 'yes',
};

const envInt = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
/** How long a command may take to answer before the side is reported as silent. */
const REPLY_TIMEOUT_MS = envInt('DIFF_REPLY_TIMEOUT_MS', 5000);
/** How long a connection must stay silent after `!raw` before its output is considered complete. */
const QUIET_MS = envInt('DIFF_QUIET_MS', 100);
/** Mismatches listed per file before the rest of it is skipped. */
const MAX_MISMATCHES = 20;
/** DIFF_TRACE=1 logs every line with the oracle's reply. */
const TRACE = process.env.DIFF_TRACE === '1';

// ---------------------------------------------------------------------------
// Case file parsing
// ---------------------------------------------------------------------------

/** How two replies are compared. */
export type CompareMode = 'exact' | 'sort' | 'sortpairs' | 'type' | 'ignore';

export type Step =
  | { kind: 'command'; line: number; text: string; args: string[]; mode: CompareMode; noReply: boolean }
  | { kind: 'read'; line: number; text: string; mode: CompareMode }
  | { kind: 'raw'; line: number; text: string; bytes: Buffer }
  | { kind: 'sleep'; line: number; text: string; ms: number }
  | { kind: 'conn'; line: number; text: string; name: string };

export class CaseFileError extends Error {}

const MODE_DIRECTIVES: Record<string, CompareMode> = {
  '!sort': 'sort',
  '!sortpairs': 'sortpairs',
  '!type': 'type',
  '!ignore': 'ignore',
};

const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** `\{N}` after a byte: that byte N times in total. Returns [new string, chars consumed] or null. */
function applyRepeat(s: string, rest: string): [string, number] | null {
  const m = /^\\\{(\d+)\}/.exec(rest);
  if (!m) return null;
  const count = Number(m[1]);
  if (s.length === 0 || count < 1) throw new Error('\\{N} needs a byte before it and N >= 1');
  return [s + s[s.length - 1].repeat(count - 1), m[0].length];
}

/**
 * Splits a command line into arguments like redis-cli (sdssplitargs): double
 * quotes understand \xHH \n \r \t \b \a and \<any char>; single quotes only \';
 * a closing quote must be followed by a space or the end of the line.
 * Extension: `\{N}` inside double quotes repeats the byte before it (N in total).
 * Input and output are latin1 strings (one char per byte).
 */
export function splitArgs(line: string): string[] {
  const args: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return args;
    let cur = '';
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const c = line[i];
      if (inDouble) {
        if (i >= n) throw new Error('unbalanced double quote');
        if (c === '\\' && line[i + 1] === 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
        } else if (c === '\\' && line[i + 1] === '{') {
          const r = applyRepeat(cur, line.slice(i));
          if (!r) throw new Error('bad \\{N} repeat');
          cur = r[0];
          i += r[1];
        } else if (c === '\\' && i + 1 < n) {
          const e = line[i + 1];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
          i += 2;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) throw new Error('closing quote must be followed by a space');
          i++;
          break;
        } else {
          cur += c;
          i++;
        }
      } else if (inSingle) {
        if (i >= n) throw new Error('unbalanced single quote');
        if (c === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) throw new Error('closing quote must be followed by a space');
          i++;
          break;
        } else {
          cur += c;
          i++;
        }
      } else {
        if (i >= n || isSpace(c)) break;
        if (c === '"') inDouble = true;
        else if (c === "'") inSingle = true;
        else cur += c;
        i++;
      }
    }
    args.push(cur);
  }
}

/** Decodes the payload of `!raw`: \r \n \t \\ \xHH and \{N}; everything else is literal. */
export function unescapeRaw(text: string): Buffer {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = text[i + 1];
    if (e === 'r' || e === 'n' || e === 't' || e === '\\') {
      out += e === 'r' ? '\r' : e === 'n' ? '\n' : e === 't' ? '\t' : '\\';
      i += 2;
    } else if (e === 'x' && isHex(text[i + 2]) && isHex(text[i + 3])) {
      out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (e === '{') {
      const r = applyRepeat(out, text.slice(i));
      if (!r) throw new Error('bad \\{N} repeat');
      out = r[0];
      i += r[1];
    } else {
      throw new Error(`unknown escape \\${e ?? ''} (use \\\\ for a backslash)`);
    }
  }
  return Buffer.from(out, 'latin1');
}

/** Parses a case file (as latin1 text, so every byte survives) into steps. */
export function parseCaseFile(text: string, fileName: string): Step[] {
  const steps: Step[] = [];
  const lines = text.split('\n');
  for (let idx = 0; idx < lines.length; idx++) {
    const line = idx + 1;
    const raw = lines[idx].replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    try {
      steps.push(parseLine(trimmed, line));
    } catch (err) {
      throw new CaseFileError(`${fileName}:${line}: ${(err as Error).message}\n  ${raw}`);
    }
  }
  return steps;
}

function parseLine(text: string, line: number): Step {
  if (!text.startsWith('!')) {
    const args = splitArgs(text);
    return { kind: 'command', line, text, args, mode: 'exact', noReply: false };
  }
  const space = text.search(/\s/);
  const word = space < 0 ? text : text.slice(0, space);
  const rest = space < 0 ? '' : text.slice(space + 1).trimStart();
  const needRest = (what: string): void => {
    if (rest === '') throw new Error(`${word} needs ${what}`);
  };
  const mode = MODE_DIRECTIVES[word];
  if (mode) {
    needRest('a command (or !read) after it');
    if (rest === '!read') return { kind: 'read', line, text, mode };
    if (rest.startsWith('!')) throw new Error(`${word} can only be followed by a command or !read`);
    return { kind: 'command', line, text, args: splitArgs(rest), mode, noReply: false };
  }
  switch (word) {
    case '!read':
      if (rest !== '') throw new Error('!read takes nothing after it');
      return { kind: 'read', line, text, mode: 'exact' };
    case '!send':
      needRest('a command after it');
      return { kind: 'command', line, text, args: splitArgs(rest), mode: 'exact', noReply: true };
    case '!raw': {
      // The bytes start right after the one space that follows !raw, so leading spaces count.
      const payload = text.slice(space + 1);
      if (space < 0 || payload === '') throw new Error('!raw needs bytes after it');
      return { kind: 'raw', line, text, bytes: unescapeRaw(payload) };
    }
    case '!sleep': {
      if (!/^\d+$/.test(rest)) throw new Error('!sleep needs a number of milliseconds');
      return { kind: 'sleep', line, text, ms: Number(rest) };
    }
    case '!conn':
      if (!/^\S+$/.test(rest)) throw new Error('!conn needs one connection name');
      return { kind: 'conn', line, text, name: rest };
    case '!resp3':
    case '!resp2':
      if (rest !== '') throw new Error(`${word} takes nothing after it`);
      // HELLO's reply carries the server version and client id, so only its shape is compared.
      return { kind: 'command', line, text, args: ['HELLO', word === '!resp3' ? '3' : '2'], mode: 'type', noReply: false };
    default:
      throw new Error(`unknown directive ${word}`);
  }
}

/** Encodes arguments as a RESP multibulk request. */
export function encodeCommand(args: string[]): Buffer {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

/** Config parameters a file changes with CONFIG SET, so the harness can put them back afterwards. */
export function configParamsSetBy(steps: Step[]): string[] {
  const params = new Set<string>();
  for (const s of steps) {
    if (s.kind !== 'command' || s.args.length < 3) continue;
    if (s.args[0].toLowerCase() !== 'config' || s.args[1].toLowerCase() !== 'set') continue;
    for (let i = 2; i < s.args.length; i += 2) params.add(s.args[i].toLowerCase());
  }
  return [...params];
}

// ---------------------------------------------------------------------------
// RESP reply framing (RESP2 and RESP3) and canonical forms for comparison
// ---------------------------------------------------------------------------

export interface Reply {
  /** The type byte: + - : $ * and RESP3's _ , # ( ! = ~ % > | */
  type: string;
  /** The exact bytes of this reply. */
  raw: Buffer;
  /** Elements of an aggregate (a map's keys and values alternate). */
  items?: Reply[];
  /** $-1 or *-1. */
  isNull?: boolean;
}

export class MalformedReply extends Error {}

function parseLength(header: string): number {
  if (!/^-?\d+$/.test(header)) throw new MalformedReply(`bad length ${JSON.stringify(header)}`);
  return Number(header);
}

/** Reads one complete reply from buf at pos; null when more bytes are needed. */
export function parseReply(buf: Buffer, pos: number): { reply: Reply; next: number } | null {
  if (pos >= buf.length) return null;
  const type = String.fromCharCode(buf[pos]);
  const eol = buf.indexOf('\r\n', pos, 'latin1');
  if (eol < 0) return null;
  const header = buf.toString("latin1", pos + 1, eol);
  let next = eol + 2;
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return { reply: { type, raw: buf.subarray(pos, next) }, next };
    case '$': case '!': case '=': {
      const len = parseLength(header);
      if (len < 0) {
        if (type !== '$' || len !== -1) throw new MalformedReply(`bad length ${len}`);
        return { reply: { type, raw: buf.subarray(pos, next), isNull: true }, next };
      }
      if (buf.length < next + len + 2) return null;
      next += len + 2;
      return { reply: { type, raw: buf.subarray(pos, next) }, next };
    }
    case '*': case '~': case '>': case '%': case '|': {
      const count = parseLength(header);
      if (count < 0) {
        if (type !== '*' || count !== -1) throw new MalformedReply(`bad count ${count}`);
        return { reply: { type, raw: buf.subarray(pos, next), isNull: true }, next };
      }
      // An attribute (|) is followed by the reply it annotates; keep both as one unit.
      const n = (type === '%' || type === '|' ? count * 2 : count) + (type === '|' ? 1 : 0);
      const items: Reply[] = [];
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, next);
        if (!r) return null;
        items.push(r.reply);
        next = r.next;
      }
      return { reply: { type, raw: buf.subarray(pos, next), items }, next };
    }
    default:
      throw new MalformedReply(`unknown reply type byte 0x${buf[pos].toString(16).padStart(2, '0')}`);
  }
}

/** The reply with the elements of every aggregate sorted (maps by key/value pair; with `pairs`, arrays too). */
export function sortedForm(r: Reply, pairs: boolean): Buffer {
  if (!r.items || r.type === '|') return r.raw;
  const group = r.type === '%' || (pairs && r.type === '*' && r.items.length % 2 === 0) ? 2 : 1;
  const units: Buffer[] = [];
  for (let i = 0; i < r.items.length; i += group) {
    units.push(Buffer.concat(r.items.slice(i, i + group).map((x) => sortedForm(x, pairs))));
  }
  units.sort(Buffer.compare);
  const header = r.raw.subarray(0, r.raw.indexOf('\r\n', 0, 'latin1') + 2);
  return Buffer.concat([header, ...units]);
}

/** The reply's shape: types and aggregate sizes, no contents. */
export function shapeOf(r: Reply): string {
  if (r.isNull) return `${r.type}null`;
  if (!r.items) return r.type;
  return `${r.type}${r.items.length}[${r.items.map(shapeOf).join(',')}]`;
}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

export type ReadResult =
  | { kind: 'reply'; reply: Reply }
  /** Connection closed before a complete reply; bytes holds what came. */
  | { kind: 'closed'; bytes: Buffer }
  | { kind: 'timeout'; bytes: Buffer }
  | { kind: 'malformed'; bytes: Buffer; message: string };

const EMPTY = Buffer.alloc(0);

/** A client socket that buffers everything it receives and hands it out reply by reply. */
export class Conn {
  private buf: Buffer = EMPTY;
  closed = false;
  private wake: (() => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.notify();
    });
    // A reset (e.g. the server closes with our bytes unread) counts as a close.
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static open(host: string, port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new Conn(socket));
      });
    });
  }

  get pending(): Buffer {
    return this.buf;
  }

  write(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves when bytes arrive, the socket closes, or ms pass. */
  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Takes the next complete reply from the stream. */
  async readReply(timeoutMs: number): Promise<ReadResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let parsed: { reply: Reply; next: number } | null;
      try {
        parsed = parseReply(this.buf, 0);
      } catch (err) {
        return { kind: 'malformed', bytes: this.take(this.buf.length), message: (err as Error).message };
      }
      if (parsed) {
        this.take(parsed.next);
        return { kind: 'reply', reply: parsed.reply };
      }
      if (this.closed) return { kind: 'closed', bytes: this.take(this.buf.length) };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout', bytes: this.take(this.buf.length) };
      await this.waitForChange(left);
    }
  }

  /** Takes everything received until the server closes the connection or stays silent for quietMs. */
  async readUntilQuiet(quietMs: number, maxMs: number): Promise<{ bytes: Buffer; closed: boolean }> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      if (this.closed) break;
      const before = this.buf.length;
      const wait = Math.min(quietMs, deadline - Date.now());
      if (wait <= 0) break;
      await this.waitForChange(wait);
      // A whole quiet period passed with nothing new: the server has said all it will.
      if (!this.closed && this.buf.length === before) break;
    }
    return { bytes: this.take(this.buf.length), closed: this.closed };
  }
}

// ---------------------------------------------------------------------------
// Server processes
// ---------------------------------------------------------------------------

export interface ServerHandle {
  label: string;
  host: string;
  port: number;
  /** Stops the server; `force` kills it at once (it may be stuck in a long command). */
  stop(force?: boolean): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** redis-servers still running; killed if this process exits or is stopped by a signal. */
const liveChildren = new Set<ChildProcess>();

function killLiveChildren(): void {
  for (const c of liveChildren) c.kill('SIGKILL');
}

function onFatalSignal(signal: NodeJS.Signals): void {
  killLiveChildren();
  // Die of the same signal, as if no handler had been installed.
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onFatalSignal);
  process.kill(process.pid, signal);
}

function trackChild(child: ChildProcess): void {
  if (liveChildren.size === 0) {
    process.on('exit', killLiveChildren);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onFatalSignal);
  }
  liveChildren.add(child);
  child.once('exit', () => {
    liveChildren.delete(child);
    if (liveChildren.size === 0) {
      process.off('exit', killLiveChildren);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onFatalSignal);
    }
  });
}

/** A port the OS just handed out, released again for the server to take (it may clash; callers retry). */

/** True once the server answers PING with +PONG. */
async function answersPing(host: string, port: number): Promise<boolean> {
  let conn: Conn;
  try {
    conn = await Conn.open(host, port);
  } catch {
    return false;
  }
  try {
    conn.write(Buffer.from('PING\r\n'));
    const r = await conn.readReply(1000);
    return r.kind === 'reply' && r.reply.raw.toString('latin1') === '+PONG\r\n';
  } finally {
    conn.close();
  }
}

const REDIS_MISSING_HELP =
  'The differential tests compare Mnemo with a real Redis 7.0 and cannot run without redis-server. ' +
  'Install it (e.g. `apt-get install redis-server`) or point REDIS_SERVER at the binary.';

/** Checks that redis-server exists and is 7.0.x (the version whose replies Mnemo copies). */
export function checkRedisServer(bin: string): void {
  let out: string;
  try {
    out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `"${bin}" was not found on PATH` : `"${bin} --version" failed: ${(err as Error).message}`;
    throw new Error(`${why}. ${REDIS_MISSING_HELP}`);
  }
  const m = /v=(\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!m || m[1] !== '7' || m[2] !== '0') {
    if (process.env.DIFF_ANY_REDIS === '1') return;
    throw new Error(
      `redis-server reports "${out.trim()}", but the oracle must be Redis 7.0.x ` +
        '(set DIFF_ANY_REDIS=1 to compare against it anyway).',
    );
  }
}

/** Starts a real redis-server as a child process on a free port, with the given config directives. */
export async function startRedis(config: Record<string, string>, label = 'redis'): Promise<ServerHandle> {
  const bin = process.env.REDIS_SERVER ?? 'redis-server';
  checkRedisServer(bin);
  const host = '127.0.0.1';
  let lastLog = '';
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mnemo-diff-redis-'));
    const directives: Record<string, string> = {
      port: String(port),
      bind: host,
      daemonize: 'no',
      dir,
      logfile: '',
      loglevel: 'warning',
      ...config,
    };
    const args = Object.entries(directives).flatMap(([k, v]) => [`--${k}`, v]);
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    // Always drain the pipes: a full pipe would block the server on its next log line.
    const keep = (chunk: Buffer): void => {
      log = (log + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    let spawnError: Error | null = null;
    const exitPromise = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exited = true;
        resolve();
      });
      child.once('error', (err) => {
        spawnError = err;
        exited = true;
        resolve();
      });
    });
    trackChild(child);

    const deadline = Date.now() + 10_000;
    let up = false;
    while (!exited && Date.now() < deadline) {
      if (await answersPing(host, port)) {
        up = true;
        break;
      }
      await sleep(20);
    }
    if (up) {
      return {
        label,
        host,
        port,
        async stop(force = false) {
          if (!exited) {
            child.kill(force ? 'SIGKILL' : 'SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exitPromise;
            clearTimeout(t);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
    rmSync(dir, { recursive: true, force: true });
    if (spawnError) throw new Error(`could not start ${bin}: ${(spawnError as Error).message}. ${REDIS_MISSING_HELP}`);
    lastLog = log;
    if (!/Address already in use/i.test(log)) break;
  }
  throw new Error(`redis-server did not come up. Its log:\n${lastLog}`);
}

/** Starts Mnemo in this process. */
export async function startMnemo(config: Record<string, string>): Promise<ServerHandle> {
  const { startServer } = await import('../../src/index.js');
  // Its own dir, as the Redis side has: DEBUG RELOAD and SAVE must not leave dump.rdb in the cwd.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mnemo-diff-mnemo-'));
  const handle = await startServer({ port: 0, host: '127.0.0.1', config: { dir, ...config } });
  return {
    label: 'mnemo',
    host: handle.host,
    port: handle.port,
    stop: async () => {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------

export interface Mismatch {
  file: string;
  line: number;
  text: string;
  /** What the oracle (first server) sent, escaped. */
  expected: string;
  /** What the server under test sent, escaped. */
  actual: string;
  note?: string;
}

/** One server and the connections a case file opened on it. */
class Side {
  private conns = new Map<string, Conn>();
  private admin: Conn | null = null;
  private server!: ServerHandle;

  private constructor(private readonly launch: () => Promise<ServerHandle>) {}

  static async start(launch: () => Promise<ServerHandle>): Promise<Side> {
    const side = new Side(launch);
    side.server = await launch();
    return side;
  }

  get label(): string {
    return this.server.label;
  }

  /** The named connection, opened (fresh: db 0, RESP2) if it does not exist or was closed. */
  async conn(name: string): Promise<Conn> {
    let c = this.conns.get(name);
    if (!c || c.closed) {
      c = await Conn.open(this.server.host, this.server.port);
      this.conns.set(name, c);
    }
    return c;
  }

  existing(name: string): Conn | undefined {
    return this.conns.get(name);
  }

  drop(name: string): void {
    this.conns.get(name)?.close();
    this.conns.delete(name);
  }

  closeAll(): void {
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }

  /** Unread bytes left on any connection, by connection name. */
  leftovers(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [name, c] of this.conns) if (c.pending.length > 0) out.set(name, c.pending);
    return out;
  }

  /** Runs a command on the harness's own connection (used for setup/teardown, never compared). */
  async adminCommand(args: string[]): Promise<Reply> {
    if (!this.admin || this.admin.closed) this.admin = await Conn.open(this.server.host, this.server.port);
    this.admin.write(encodeCommand(args));
    const r = await this.admin.readReply(REPLY_TIMEOUT_MS);
    if (r.kind !== 'reply') {
      this.admin.close();
      throw new Error(`${this.label}: no reply to ${args.join(' ')} (${r.kind})`);
    }
    return r.reply;
  }

  resetAdmin(): void {
    this.admin?.close();
    this.admin = null;
  }

  async stop(force = false): Promise<void> {
    this.closeAll();
    this.resetAdmin();
    await this.server.stop(force);
  }

  /** A new server in place of this one, for when it stopped answering. */
  async restart(): Promise<void> {
    await this.stop(true);
    this.server = await this.launch();
  }
}

/** What one side produced for one step, ready for comparison and display. */
interface Outcome {
  /** Compared between the sides. */
  key: string;
  /** Shown after the escaped bytes (a close, a timeout, the shape). */
  suffix: string;
  /** The raw bytes, for locating the first difference. */
  bytes: Buffer;
}

function outcomeOfRead(r: ReadResult, mode: CompareMode): Outcome {
  if (r.kind !== 'reply') {
    const marker =
      r.kind === 'closed'
        ? '<connection closed>'
        : r.kind === 'timeout'
          ? `<no complete reply within ${REPLY_TIMEOUT_MS} ms>`
          : `<malformed reply: ${r.message}>`;
    return { key: `${r.kind}:${r.bytes.toString('latin1')}`, suffix: marker, bytes: r.bytes };
  }
  const reply = r.reply;
  let key: string;
  switch (mode) {
    case 'exact': key = reply.raw.toString('latin1'); break;
    case 'sort': key = sortedForm(reply, false).toString('latin1'); break;
    case 'sortpairs': key = sortedForm(reply, true).toString('latin1'); break;
    case 'type': key = shapeOf(reply); break;
    case 'ignore': key = ''; break;
  }
  const suffix = mode === 'type' ? `  (shape ${shapeOf(reply)})` : '';
  return { key: `reply:${key}`, suffix, bytes: reply.raw };
}

export interface HarnessOptions {
  /** 'mnemo' (default) compares Redis with Mnemo; 'redis' compares two Redis servers (self-check). */
  target?: 'mnemo' | 'redis';
  /** Config directives for both servers; defaults to SHARED_CONFIG. */
  config?: Record<string, string>;
}

export class DiffHarness {
  /** What the oracle sent for the step just run (for DIFF_TRACE). */
  private lastOracleOutput: string | null = null;
  /** Set when a server did not answer in time: the file stops and the servers are replaced. */
  private stalled = false;

  private constructor(
    private readonly oracle: Side,
    private readonly target: Side,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<DiffHarness> {
    const config = { ...(options.config ?? SHARED_CONFIG) };
    const oracle = await Side.start(() => startRedis(config, 'redis'));
    let target: Side;
    try {
      target = await Side.start(() => (options.target === 'redis' ? startRedis(config, 'redis#2') : startMnemo(config)));
    } catch (err) {
      await oracle.stop();
      throw err;
    }
    return new DiffHarness(oracle, target);
  }

  get labels(): [string, string] {
    return [this.oracle.label, this.target.label];
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.oracle.stop(), this.target.stop()]);
  }

  private both<T>(fn: (side: Side) => Promise<T>): Promise<[T, T]> {
    return Promise.all([fn(this.oracle), fn(this.target)]);
  }

  /**
   * Setup/teardown on both sides' admin connections. Waits for both even if one
   * fails, and then starts both admin connections afresh, so that a reply left
   * in flight on one side cannot be taken as the answer to the next file's setup.
   */
  private async bothAdmin<T>(fn: (side: Side) => Promise<T>): Promise<[T, T]> {
    const results = await Promise.allSettled([fn(this.oracle), fn(this.target)]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.oracle.resetAdmin();
      this.target.resetAdmin();
      throw failed.reason;
    }
    return results.map((r) => (r as PromiseFulfilledResult<T>).value) as [T, T];
  }

  /** Runs one case file on both servers; returns the mismatches (empty when the file passes). */
  async runFile(filePath: string): Promise<Mismatch[]> {
    const file = path.basename(filePath);
    const steps = parseCaseFile(readFileSync(filePath).toString('latin1'), file);
    const params = configParamsSetBy(steps);
    const mismatches: Mismatch[] = [];

    // Fresh keyspace, and remember the config the file is about to change.
    const saved = await this.bothAdmin(async (side) => {
      const r = await side.adminCommand(['FLUSHALL']);
      if (r.raw.toString('latin1') !== '+OK\r\n') {
        throw new Error(`${side.label}: FLUSHALL before ${file} failed: ${escapeBytes(r.raw)}`);
      }
      const values = new Map<string, string>();
      for (const p of params) {
        const got = await side.adminCommand(['CONFIG', 'GET', p]);
        const items = got.items ?? [];
        if (items.length === 2 && items[1].type === '$' && !items[1].isNull) values.set(p, bulkValue(items[1]));
      }
      return values;
    });

    let current = 'main';
    try {
      for (const step of steps) {
        if (mismatches.length >= MAX_MISMATCHES) {
          mismatches.push({ file, line: step.line, text: step.text, expected: '', actual: '', note: `stopped after ${MAX_MISMATCHES} mismatches` });
          break;
        }
        const started = Date.now();
        const m = await this.runStep(step, current, file);
        if (TRACE) this.trace(file, step, Date.now() - started, m);
        if (step.kind === 'conn') current = step.name;
        if (m) mismatches.push(m);
        if (this.stalled) {
          const rest = steps.length - steps.indexOf(step) - 1;
          const stop = `the file stops here (${rest} line(s) not run) and both servers are restarted`;
          if (m) m.note = m.note ? `${m.note}; ${stop}` : stop;
          else mismatches.push({ file, line: step.line, text: step.text, expected: '', actual: '', note: stop });
          break;
        }
      }
      if (!this.stalled && mismatches.length < MAX_MISMATCHES) {
        // Replies still in flight would otherwise slip past the check depending on timing.
        await sleep(QUIET_MS);
        mismatches.push(...this.checkLeftovers(file));
      }
    } finally {
      this.oracle.closeAll();
      this.target.closeAll();
      if (this.stalled) {
        // A server may still be busy (or blocked) with that command: later files get new ones.
        this.stalled = false;
        await this.both((side) => side.restart());
      } else {
        await this.bothAdmin(async (side) => {
          for (const [p, v] of saved[side === this.oracle ? 0 : 1]) await side.adminCommand(['CONFIG', 'SET', p, v]);
        });
      }
    }
    return mismatches;
  }

  private async runStep(step: Step, current: string, file: string): Promise<Mismatch | null> {
    this.lastOracleOutput = null;
    switch (step.kind) {
      case 'conn':
        return null;
      case 'sleep':
        await sleep(step.ms);
        return null;
      case 'command':
      case 'read': {
        const request = step.kind === 'command' ? encodeCommand(step.args) : null;
        const noReply = step.kind === 'command' && step.noReply;
        const results = await this.both(async (side) => {
          const conn = await side.conn(current);
          if (request) conn.write(request);
          return noReply ? null : conn.readReply(REPLY_TIMEOUT_MS);
        });
        if (!results[0] || !results[1]) return null;
        const [a, b] = [outcomeOfRead(results[0], step.mode), outcomeOfRead(results[1], step.mode)];
        this.lastOracleOutput = escapeBytes(a.bytes) + a.suffix;
        // A side that sent garbage is out of step with its replies: both continue on fresh connections.
        if (results[0].kind === 'malformed' || results[1].kind === 'malformed') {
          this.oracle.drop(current);
          this.target.drop(current);
        }
        if (results[0].kind === 'timeout' || results[1].kind === 'timeout') this.stalled = true;
        if (results[0].kind === 'timeout' && results[1].kind === 'timeout') {
          return { ...mismatch(file, step, a, b, step.mode), note: 'neither server answered: a command that blocks needs !send, then !read' };
        }
        if (step.mode === 'ignore' && results[0].kind === 'reply' && results[1].kind === 'reply') return null;
        return a.key === b.key ? null : mismatch(file, step, a, b, step.mode);
      }
      case 'raw': {
        const results = await this.both(async (side) => {
          const conn = await side.conn(current);
          conn.write(step.bytes);
          return conn.readUntilQuiet(QUIET_MS, REPLY_TIMEOUT_MS);
        });
        // If either server closed, both sides continue on fresh connections, so they stay in step.
        if (results[0].closed || results[1].closed) {
          this.oracle.drop(current);
          this.target.drop(current);
        }
        const [a, b] = results.map((got): Outcome => {
          const marker = got.closed ? '<connection closed>' : '';
          return { key: got.bytes.toString('latin1') + marker, suffix: marker, bytes: got.bytes };
        });
        this.lastOracleOutput = escapeBytes(a.bytes) + a.suffix;
        return a.key === b.key ? null : mismatch(file, step, a, b, 'exact');
      }
    }
  }

  /** DIFF_TRACE=1: each line, its time and whether it matched, on stderr (to see what Redis answers). */
  private trace(file: string, step: Step, ms: number, m: Mismatch | null): void {
    const last = this.lastOracleOutput;
    process.stderr.write(`${file}:${step.line} [${ms} ms] ${m ? 'MISMATCH' : 'ok'} ${step.text}\n`);
    if (last !== null) process.stderr.write(`    ${this.oracle.label}: ${last}\n`);
    if (m) process.stderr.write(`    ${this.target.label}: ${m.actual}\n`);
  }

  /** Replies nobody read (e.g. a second SUBSCRIBE confirmation without `!read`) are reported. */
  private checkLeftovers(file: string): Mismatch[] {
    const a = this.oracle.leftovers();
    const b = this.target.leftovers();
    const out: Mismatch[] = [];
    for (const name of new Set([...a.keys(), ...b.keys()])) {
      const ea = a.get(name) ?? EMPTY;
      const eb = b.get(name) ?? EMPTY;
      out.push({
        file,
        line: 0,
        text: `(end of file, connection "${name}")`,
        expected: escapeBytes(ea),
        actual: escapeBytes(eb),
        note: ea.equals(eb)
          ? 'both servers sent replies that no line read: add !read lines for them'
          : 'unread bytes left at the end of the file differ',
      });
    }
    return out;
  }
}

function bulkValue(r: Reply): string {
  const start = r.raw.indexOf('\r\n', 0, 'latin1') + 2;
  return r.raw.toString("latin1", start, r.raw.length - 2);
}

function mismatch(file: string, step: Step, a: Outcome, b: Outcome, mode: CompareMode): Mismatch {
  let note: string | undefined;
  // Long replies are shown from a little before their first difference.
  let from = 0;
  if (mode === 'exact') {
    let i = 0;
    while (i < a.bytes.length && i < b.bytes.length && a.bytes[i] === b.bytes[i]) i++;
    if (a.bytes.length > 80 || b.bytes.length > 80) note = `first difference at byte ${i}`;
    if (i > 200) from = i - 100;
  } else {
    note = `compared as ${mode === 'type' ? 'shape only' : mode === 'sort' ? 'sorted elements' : 'sorted pairs'}`;
  }
  const show = (o: Outcome): string => escapeBytes(o.bytes, from) + o.suffix;
  return { file, line: step.line, text: step.text, expected: show(a), actual: show(b), note };
}

// ---------------------------------------------------------------------------
// Display and case discovery
// ---------------------------------------------------------------------------

/** Bytes as one readable line: printable ASCII as is, \r \n \t \\ and \xHH otherwise. */
export function escapeBytes(bytes: Buffer, from = 0, max = 1500): string {
  let s = from > 0 ? `(from byte ${from}) ...` : '';
  const n = Math.min(bytes.length, from + max);
  for (let i = from; i < n; i++) {
    const b = bytes[i];
    if (b === 0x5c) s += '\\\\';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x09) s += '\\t';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  if (bytes.length > n) s += `...(${bytes.length} bytes in all)`;
  return s;
}

export function formatMismatches(mismatches: Mismatch[], labels: [string, string]): string {
  const width = Math.max(labels[0].length, labels[1].length);
  const lines: string[] = [];
  for (const m of mismatches) {
    lines.push(`${m.file}:${m.line > 0 ? m.line : 'end'}: ${m.text}`);
    if (m.expected !== '' || m.actual !== '') {
      lines.push(`  ${labels[0].padEnd(width)}: ${m.expected}`);
      lines.push(`  ${labels[1].padEnd(width)}: ${m.actual}`);
    }
    if (m.note) lines.push(`  (${m.note})`);
  }
  return lines.join('\n');
}

/** test/diff/cases in the source tree; compiled code runs from dist/test/diff/. */
export function casesDir(): string {
  if (process.env.DIFF_CASES_DIR) return path.resolve(process.env.DIFF_CASES_DIR);
  return fileURLToPath(new URL('../../../test/diff/cases/', import.meta.url));
}

/**
 * The case files to run, sorted by name. `only` is a comma-separated list of
 * file names (with or without .txt); an unknown name is an error, never a silent skip.
 */
export function listCaseFiles(only?: string): string[] {
  const dir = casesDir();
  if (!existsSync(dir)) throw new Error(`case directory ${dir} not found`);
  const all = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  if (!only) return all.map((f) => path.join(dir, f));
  const wanted = only.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (s.endsWith('.txt') ? s : `${s}.txt`));
  for (const w of wanted) if (!all.includes(w)) throw new Error(`no case file ${w} in ${dir} (have: ${all.join(', ')})`);
  return wanted.map((f) => path.join(dir, f));
}
