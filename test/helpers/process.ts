/**
 * Helpers for tests that run servers as child processes (Mnemo's bin, real
 * redis-server): a free port to hand them, and temp directories removed by
 * the test file's cleanup.
 */
import { after } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A port that was free a moment ago (for a child process that needs a port number up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A new temp directory named after `prefix`; `cleanups` gets the function that removes it. */
export function tempDir(prefix: string, cleanups: Array<() => void | Promise<void>>): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/**
 * The calling test file's cleanups: functions run last-first by its after()
 * (stop processes, remove directories), and temp directories removed there.
 */
export function fileCleanups(prefix: string): { cleanups: Array<() => void | Promise<void>>; tempDir: () => string } {
  const cleanups: Array<() => void | Promise<void>> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return { cleanups, tempDir: () => tempDir(prefix, cleanups) };
}

/** Mnemo's server binary in the build. */
export const MNEMO_BIN = fileURLToPath(new URL('../../src/bin/mnemo-server.js', import.meta.url));
export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

export interface ServerProcess {
  child: ChildProcess;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** Kills it (SIGKILL) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Spawns redis-server or Mnemo's bin with redis-server style arguments and
 * waits for "Ready to accept connections" (after its data loaded); `cleanups`
 * gets the stop. Rejects with the output if it exits first.
 */
export async function spawnServer(kind: 'redis' | 'mnemo', args: string[], cleanups: Array<() => void | Promise<void>>): Promise<ServerProcess> {
  const child =
    kind === 'redis'
      ? spawn(REDIS_SERVER, [...args, '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [MNEMO_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  cleanups.push(stop);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) resolve();
    });
    child.stderr!.on('data', (d) => (out += d));
    void exited.then(() => reject(new Error(`${kind} exited at start: ${out}`)));
  });
  return { child, exited, stop };
}

/**
 * A Mnemo server process on a free port (`args` follow `--port`) and an ioredis
 * client of it that never retries; `cleanups` gets the stops of both.
 */
export async function spawnMnemoWithClient(args: string[], cleanups: Array<() => void | Promise<void>>): Promise<{ proc: ServerProcess; r: Redis; port: number }> {
  const port = await freePort();
  const proc = await spawnServer('mnemo', ['--port', String(port), ...args], cleanups);
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await r.connect();
  cleanups.push(() => {
    r.disconnect();
  });
  return { proc, r, port };
}

/**
 * Starts a Sentinel (`redis-server --sentinel`, or Mnemo's `--sentinel` mode) on
 * `conf`. Sentinels log no "Ready" line: resolves once the log says `readyText`
 * (by default the +monitor line of the first master). Rejects with the output if
 * it exits first; `cleanups` gets the stop.
 */
export async function spawnSentinel(kind: 'redis' | 'mnemo', conf: string, cleanups: Array<() => void | Promise<void>>, readyText = '+monitor master'): Promise<void> {
  const child =
    kind === 'redis'
      ? spawn(REDIS_SERVER, [conf, '--sentinel', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [MNEMO_BIN, conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes(readyText)) resolve();
    });
    child.stderr!.on('data', (d) => (out += d));
    void exited.then(() => reject(new Error(`${kind} sentinel exited at start: ${out}`)));
  });
}

/** A server's child processes, as `pgrep -P <pid>` lists them (Redis's test suite's get_child_pid). */
export function childrenOf(pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'latin1' }).stdout;
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
}

/** Whether a process exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
