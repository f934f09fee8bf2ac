/**
 * One connection of mnemo-cli to a server (TCP, unix socket or TLS), with hiredis-like
 * semantics that redis-cli's behaviour depends on:
 * - replies are queued as they arrive and handed out one by one by readReply();
 * - RESP3 push messages are dropped, given to a handler, or returned as replies,
 *   decided when they are read (as hiredis does inside redisGetReply);
 * - a failed connection keeps an error (kind + the C library's text: "Server closed the
 *   connection", "Connection reset by peer", ...) that later reads report.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ReplyParser, ReplyProtocolError, encodeCommand, type Reply } from './reply.js';

export type ConnErrorKind = 'io' | 'eof' | 'protocol' | 'other';

export class ConnError extends Error {
  constructor(
    readonly kind: ConnErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface TlsSettings {
  sni: string | null;
  cacert: string | null;
  cacertdir: string | null;
  cert: string | null;
  key: string | null;
  insecure: boolean;
  ciphers: string | null;
}

export interface ConnectTarget {
  host: string;
  port: number;
  socket: string | null;
  tls: TlsSettings | null;
}

/** strerror()/gai_strerror() texts for the errors Node reports by code. */
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EPIPE: 'Broken pipe',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EACCES: 'Permission denied',
  ENOENT: 'No such file or directory',
  ENOTSOCK: 'Socket operation on non-socket',
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EAI_FAIL: 'Non-recoverable failure in name resolution',
};

export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  return (e as Error)?.message ?? String(e);
}

export type PushHandler = ((r: Reply) => void) | 'discard' | null;

export class CliConnection {
  private readonly parser = new ReplyParser();
  private readonly queue: Reply[] = [];
  private waiter: { resolve: (r: Reply) => void; reject: (e: ConnError) => void } | null = null;
  /** Set once the connection failed; reads report it after the queued replies. */
  err: ConnError | null = null;
  /**
   * The failure as a reader has seen it (hiredis's context->err): a server that closed an
   * idle connection is only noticed when the next command's reply is read.
   */
  reportedErr: ConnError | null = null;
  /** What readReply() does with RESP3 pushes: drop (hiredis's default), hand over, or return. */
  pushHandler: PushHandler = 'discard';
  /** When set, incoming bytes bypass the reply parser (SYNC payloads). */
  private rawSink: ((chunk: Buffer) => void) | null = null;
  private rawEnd: ((e: ConnError) => void) | null = null;
  private closedByUs = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.fail(new ConnError('eof', 'Server closed the connection')));
    socket.on('error', (e) => this.fail(new ConnError('io', errnoText(e))));
    socket.on('close', () => this.fail(new ConnError('eof', 'Server closed the connection')));
  }

  static connect(target: ConnectTarget): Promise<CliConnection> {
    return new Promise((resolve, reject) => {
      if (target.socket === null && (target.port <= 0 || target.port > 65535)) {
        const text = target.port === 0 ? 'Connection refused' : 'Servname not supported for ai_socktype';
        reject(new ConnError('other', text));
        return;
      }
      let socket: net.Socket;
      const ready = target.tls ? 'secureConnect' : 'connect';
      if (target.tls) {
        socket = tls.connect({ ...tlsOptions(target.tls), host: target.host, port: target.port });
      } else if (target.socket !== null) {
        socket = net.connect({ path: target.socket });
      } else {
        socket = net.connect({ host: target.host, port: target.port });
      }
      const onError = (e: Error) => {
        socket.destroy();
        reject(new ConnError('io', errnoText(e)));
      };
      socket.once('error', onError);
      socket.once(ready, () => {
        socket.off('error', onError);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 15000);
        resolve(new CliConnection(socket));
      });
    });
  }

  private onData(chunk: Buffer): void {
    if (this.rawSink) {
      this.rawSink(chunk);
      return;
    }
    try {
      this.parser.feed(chunk);
      for (let r = this.parser.next(); r !== undefined; r = this.parser.next()) this.queue.push(r);
    } catch (e) {
      if (!(e instanceof ReplyProtocolError)) throw e;
      this.fail(new ConnError('protocol', e.message));
      this.socket.destroy();
    }
    this.wake();
  }

  private fail(e: ConnError): void {
    if (this.err) return;
    this.err = this.closedByUs ? new ConnError('eof', 'Server closed the connection') : e;
    this.rawEnd?.(this.err);
    this.wake();
  }

  /** Delivers to a pending readReply() what it waits for, if it is there. */
  private wake(): void {
    while (this.waiter) {
      const r = this.queue.shift();
      if (r === undefined) {
        if (this.err) {
          const w = this.waiter;
          this.waiter = null;
          this.reportedErr = this.err;
          w.reject(this.err);
        }
        return;
      }
      if (this.takePush(r)) continue;
      const w = this.waiter;
      this.waiter = null;
      w.resolve(r);
    }
  }

  /** True when a push reply is consumed by the push policy instead of being returned. */
  private takePush(r: Reply): boolean {
    if (r.type !== 'push' || this.pushHandler === null) return false;
    if (this.pushHandler !== 'discard') this.pushHandler(r);
    return true;
  }

  get connected(): boolean {
    return this.err === null;
  }

  /** Appends a command to the output (like redisAppendCommandArgv). */
  send(argv: readonly string[]): void {
    this.write(encodeCommand(argv));
  }

  /** Writes bytes; returns false when the socket buffer is full (wait for drain()). */
  write(data: Buffer | string): boolean {
    if (this.err) return true;
    return this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  drain(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.err) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Replies already parsed and waiting to be read. */
  get pending(): number {
    return this.queue.length;
  }

  /** Next reply; rejects with the connection's error when none can come. */
  readReply(): Promise<Reply> {
    while (this.queue.length > 0) {
      const r = this.queue.shift()!;
      if (!this.takePush(r)) return Promise.resolve(r);
    }
    if (this.err) {
      this.reportedErr = this.err;
      return Promise.reject(this.err);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** A reply if one is already parsed, else undefined (non-blocking read for --pipe). */
  tryReadReply(): Reply | undefined {
    while (this.queue.length > 0) {
      const r = this.queue.shift()!;
      if (!this.takePush(r)) return r;
    }
    return undefined;
  }

  /** Resolves when replies are queued or the connection fails. */
  waitReadable(): Promise<void> {
    if (this.queue.length > 0 || this.err) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.queue.length > 0 || this.err) {
          this.socket.off('data', check);
          this.socket.off('close', check);
          resolve();
        }
      };
      this.socket.on('data', check);
      this.socket.on('close', check);
    });
  }

  /** Sends a command and reads its reply (like redisCommand). */
  async command(...argv: string[]): Promise<Reply> {
    this.send(argv);
    return this.readReply();
  }

  /**
   * Switches to raw byte mode: every byte not yet parsed, then every byte received, goes
   * to `sink` (for SYNC payloads, which are not RESP). `onEnd` hears of the connection end.
   */
  rawMode(sink: (chunk: Buffer) => void, onEnd: (e: ConnError) => void): void {
    this.rawSink = sink;
    this.rawEnd = onEnd;
    const rest = this.parser.takeBuffered();
    if (rest.length > 0) sink(rest);
    if (this.err) onEnd(this.err);
  }

  /** Back to parsing replies, starting with `leftover` bytes. */
  replyMode(leftover: Buffer): void {
    this.rawSink = null;
    this.rawEnd = null;
    if (leftover.length > 0) this.onData(leftover);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Closes the socket abruptly (redis-cli closes the fd on Ctrl-C in MONITOR/SUBSCRIBE). */
  close(): void {
    this.closedByUs = true;
    this.socket.destroy();
  }
}

function tlsOptions(t: TlsSettings): tls.ConnectionOptions {
  const opts: tls.ConnectionOptions = { rejectUnauthorized: !t.insecure };
  const ca: Buffer[] = [];
  if (t.cacert) ca.push(readFileSync(t.cacert));
  if (t.cacertdir) {
    for (const f of readdirSync(t.cacertdir)) {
      if (/\.(pem|crt)$/i.test(f) || /^[0-9a-f]{8}\.\d+$/i.test(f)) ca.push(readFileSync(path.join(t.cacertdir, f)));
    }
  }
  if (ca.length > 0) opts.ca = ca;
  if (t.cert) opts.cert = readFileSync(t.cert);
  if (t.key) opts.key = readFileSync(t.key);
  if (t.sni) opts.servername = t.sni;
  if (t.ciphers) opts.ciphers = t.ciphers;
  return opts;
}
