/**
 * Watching a command's side effects on the in-process server, without extra
 * clients: the keyspace events it fires, what it propagates to the AOF and
 * replicas, and how much it moves the dirty counter.
 */
import type { ServerHandle } from '../../src/index.js';
import { setConfig } from './server.js';

export interface Recording<T> {
  /** What was recorded so far. */
  readonly log: T[];
  /** Stops recording and puts the server back as it was. */
  stop(): void;
}

/**
 * Records keyevent notifications with notify-keyspace-events KEA, intercepted
 * before pub/sub: each as "<event> <key>", or "<db>__:<event> <key>" with
 * `withDb`. stop() turns notifications off again.
 */
export function recordEvents(handle: ServerHandle, withDb = false): Recording<string> {
  const notifier = handle.server.notifier;
  const saved = notifier.publish;
  const log: string[] = [];
  setConfig(handle, 'notify-keyspace-events', 'KEA');
  notifier.publish = (channel: string, message: string) => {
    if (!channel.startsWith('__keyevent@')) return 0;
    const event = withDb ? channel.slice('__keyevent@'.length) : channel.slice(channel.indexOf(':') + 1);
    log.push(`${event} ${message}`);
    return 0;
  };
  return {
    log,
    stop: () => {
      notifier.publish = saved;
      setConfig(handle, 'notify-keyspace-events', '');
    },
  };
}

/** The keyevent notifications ("<event> <key>") fired while `fn` runs. */
export async function captureEvents(handle: ServerHandle, fn: () => Promise<unknown>): Promise<string[]> {
  const rec = recordEvents(handle);
  try {
    await fn();
  } finally {
    rec.stop();
  }
  return rec.log;
}

/** Records what the server propagates (AOF/replicas): [db, copy of argv] per command. */
export function recordPropagation(handle: ServerHandle): Recording<[number, string[]]> {
  const sinks = handle.server.propagateSinks;
  const log: Array<[number, string[]]> = [];
  const sink = (db: number, argv: string[]): void => void log.push([db, [...argv]]);
  sinks.push(sink);
  return {
    log,
    stop: () => {
      const i = sinks.indexOf(sink);
      if (i >= 0) sinks.splice(i, 1);
    },
  };
}

/** What the server propagates while `fn` runs, as [db, argv] pairs. */
export async function propagatedWithDb(handle: ServerHandle, fn: () => Promise<unknown>): Promise<Array<[number, string[]]>> {
  const rec = recordPropagation(handle);
  try {
    await fn();
  } finally {
    rec.stop();
  }
  return rec.log;
}

/** The argv of every command the server propagates while `fn` runs. */
export async function propagated(handle: ServerHandle, fn: () => Promise<unknown>): Promise<string[][]> {
  return (await propagatedWithDb(handle, fn)).map(([, argv]) => argv);
}

/** How much the server's dirty counter moves while `fn` runs. */
export async function dirtyDelta(handle: ServerHandle, fn: () => Promise<unknown>): Promise<number> {
  const before = handle.server.dirty;
  await fn();
  return handle.server.dirty - before;
}
