/**
 * The background child of BGSAVE and BGREWRITEAOF: a small Node process
 * (writer-child.ts) that does the disk side of Redis's forked child. The server streams the image
 * to it in frames; the child writes `temp-<its pid>.rdb`, fsyncs and renames
 * it. This module spawns it, feeds it with backpressure, relays its log lines
 * and reports how it ended, in the terms of Redis's checkChildrenDone
 * (exit code, or the signal that killed it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LogLevel } from './log.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./writer-child.js', import.meta.url));

/** Redis's SERVER_CHILD_NOERROR_RETVAL: the exit code of a child killed on purpose (SIGUSR1). */
export const CHILD_NOERROR_RETVAL = 255;
export const SIGUSR1_NUMBER = osConstants.signals.SIGUSR1;
export const SIGTERM_NUMBER = osConstants.signals.SIGTERM;

export interface ChildEnd {
  /** Exit code, -1 when killed by a signal. */
  exitcode: number;
  /** The signal number that killed it, else 0. */
  bysignal: number;
}

export interface WriterChildOptions {
  /** rdb: temp-<pid>.rdb renamed to finalPath; aof: temp-rewriteaof-bg-<pid>.aof, left in place. */
  kind: 'rdb' | 'aof';
  /** The server's dir (the AOF dir for an AOF base): the temp file goes there. */
  dir: string;
  /** Where the finished image is renamed to ('' for none). */
  finalPath: string;
  /** oom_score_adj for the child (its bg-child class), or null to leave it. */
  oomScore: number | null;
  title: string;
  /** Receives the child's log lines. */
  log: (level: LogLevel, text: string) => void;
}

export class WriterChild {
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<ChildEnd>;
  private readonly proc: ChildProcess;
  private alive = true;
  private ready = false;
  private killed = false;
  private logBuf = '';

  private constructor(proc: ChildProcess, pid: number, private readonly logLine: (level: LogLevel, text: string) => void) {
    this.proc = proc;
    this.pid = pid;
    // A dead child makes writes fail with EPIPE: the exit, not the error, decides the outcome.
    proc.stdin?.on('error', () => undefined);
    proc.stderr?.setEncoding('latin1');
    proc.stderr?.on('data', (s: string) => this.onLog(s));
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.alive = false;
        const bysignal = signal !== null ? (osConstants.signals as Record<string, number>)[signal] ?? -1 : 0;
        resolve({ exitcode: code ?? -1, bysignal });
      });
    });
  }

  /** Spawns the child; a string is the reason it could not start (Redis's fork failure). */
  static spawn(opts: WriterChildOptions): WriterChild | string {
    let proc: ChildProcess;
    try {
      proc = spawn(process.execPath, [CHILD_SCRIPT, opts.kind, opts.dir, opts.finalPath, opts.oomScore === null ? '' : String(opts.oomScore), opts.title], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
    } catch (e) {
      return errnoText(e);
    }
    proc.on('error', () => undefined);
    if (proc.pid === undefined) return 'Resource temporarily unavailable';
    return new WriterChild(proc, proc.pid, opts.log);
  }

  get running(): boolean {
    return this.alive;
  }

  private onLog(s: string): void {
    this.logBuf += s;
    let nl: number;
    while ((nl = this.logBuf.indexOf('\n')) >= 0) {
      const line = this.logBuf.slice(0, nl);
      this.logBuf = this.logBuf.slice(nl + 1);
      if (line === 'ready') {
        this.ready = true;
        continue;
      }
      const sp = line.indexOf(' ');
      const level = line.slice(0, sp);
      if (level === 'notice' || level === 'warning') this.logLine(level, line.slice(sp + 1));
      else if (line !== '') this.logLine('warning', line);
    }
  }

  /** Sends one piece of the image; resolves once the pipe took it (rejects if the child is gone). */
  write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return Promise.resolve();
    const stdin = this.proc.stdin;
    if (!this.alive || stdin === null || stdin.destroyed) return Promise.reject(new Error('child exited'));
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32LE(chunk.length, 0);
    stdin.write(header);
    return new Promise((resolve, reject) => {
      stdin.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The image is complete: the child syncs and renames it, then exits. */
  end(): void {
    const stdin = this.proc.stdin;
    if (!this.alive || stdin === null || stdin.destroyed) return;
    stdin.end(Buffer.alloc(4));
  }

  /**
   * killRDBChild: SIGUSR1, which the child turns into exit(255). Before the child
   * installed its handler, Node would take SIGUSR1 for its inspector, so a child
   * not ready yet gets SIGTERM. Either way the server reads it as a SIGUSR1 kill.
   */
  kill(): void {
    this.killed = true;
    if (!this.alive) return;
    try {
      this.proc.kill(this.ready ? 'SIGUSR1' : 'SIGTERM');
    } catch {
      /* already gone */
    }
    this.proc.stdin?.destroy();
  }

  /** Whether the server killed it on purpose (kill()). */
  get killedOnPurpose(): boolean {
    return this.killed;
  }
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EAGAIN') return 'Resource temporarily unavailable';
  if (code === 'ENOMEM') return 'Cannot allocate memory';
  return String((e as Error)?.message ?? e);
}
