/**
 * Keyspace notifications (notify-keyspace-events). Every write calls
 * notify(); when the event class is enabled, a message is published on
 * __keyspace@<db>__:<key> and/or __keyevent@<db>__:<event>.
 */
import type { Server } from './server.js';

// Class flags, as notify-keyspace-events letters.
export const NOTIFY_KEYSPACE = 1 << 0; // K
export const NOTIFY_KEYEVENT = 1 << 1; // E
export const NOTIFY_GENERIC = 1 << 2; // g
export const NOTIFY_STRING = 1 << 3; // $
export const NOTIFY_LIST = 1 << 4; // l
export const NOTIFY_SET = 1 << 5; // s
export const NOTIFY_HASH = 1 << 6; // h
export const NOTIFY_ZSET = 1 << 7; // z
export const NOTIFY_EXPIRED = 1 << 8; // x
export const NOTIFY_EVICTED = 1 << 9; // e
export const NOTIFY_STREAM = 1 << 10; // t
export const NOTIFY_KEY_MISS = 1 << 11; // m
export const NOTIFY_LOADED = 1 << 12; // module only
export const NOTIFY_MODULE = 1 << 13; // d
export const NOTIFY_NEW = 1 << 14; // n

const CLASS_BY_LETTER: Record<string, number> = {
  g: NOTIFY_GENERIC,
  $: NOTIFY_STRING,
  l: NOTIFY_LIST,
  s: NOTIFY_SET,
  h: NOTIFY_HASH,
  z: NOTIFY_ZSET,
  x: NOTIFY_EXPIRED,
  e: NOTIFY_EVICTED,
  t: NOTIFY_STREAM,
  m: NOTIFY_KEY_MISS,
  d: NOTIFY_MODULE,
  n: NOTIFY_NEW,
};

/** Parses notify-keyspace-events letters into flags; null on an invalid letter. */
export function parseNotifyFlags(s: string): number | null {
  let flags = 0;
  for (const ch of s) {
    if (ch === 'A') flags |= NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE;
    else if (ch === 'K') flags |= NOTIFY_KEYSPACE;
    else if (ch === 'E') flags |= NOTIFY_KEYEVENT;
    else if (CLASS_BY_LETTER[ch] !== undefined) flags |= CLASS_BY_LETTER[ch];
    else return null;
  }
  return flags;
}

export type NotifyClass = 'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'm' | 'n' | 'd';

export class Notifier {
  flags = 0;
  /** Delivers a message to a channel's subscribers (set by the pub/sub module). */
  publish: ((channel: string, message: string) => number) | null = null;

  constructor(private server: Server) {
    const refresh = () => {
      this.flags = parseNotifyFlags(server.config.get('notify-keyspace-events') ?? '') ?? 0;
    };
    refresh();
    server.config.onChange('notify-keyspace-events', refresh);
  }

  notify(cls: NotifyClass, event: string, key: string, dbid: number): void {
    const flags = this.flags;
    if (flags === 0) return;
    if ((flags & CLASS_BY_LETTER[cls]) === 0 || this.publish === null) return;
    if (flags & NOTIFY_KEYSPACE) this.publish(`__keyspace@${dbid}__:${key}`, event);
    if (flags & NOTIFY_KEYEVENT) this.publish(`__keyevent@${dbid}__:${event}`, key);
  }
}
