/**
 * Keyspace notifications (notify-keyspace-events). Every write calls
 * notify(); when the event class is enabled, a message is published on
 * __keyspace@<db>__:<key> and/or __keyevent@<db>__:<event>.
 * The class bits and their parsing live with the config directive.
 */
import type { Server } from './server.js';
import {
  NOTIFY_KEYSPACE,
  NOTIFY_KEYEVENT,
  NOTIFY_GENERIC,
  NOTIFY_STRING,
  NOTIFY_LIST,
  NOTIFY_SET,
  NOTIFY_HASH,
  NOTIFY_ZSET,
  NOTIFY_EXPIRED,
  NOTIFY_EVICTED,
  NOTIFY_STREAM,
  NOTIFY_KEY_MISS,
  NOTIFY_MODULE,
  NOTIFY_NEW,
} from '../config/keyspace-events.js';

/** Event classes by their notify-keyspace-events letter. */
const CLASS_BY_LETTER = {
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
} as const;

export type NotifyClass = keyof typeof CLASS_BY_LETTER;

export class Notifier {
  /** Current notify-keyspace-events bits (0 = off, the fast path). */
  flags = 0;
  /** Delivers a message to a channel's subscribers (set by the pub/sub module). */
  publish: ((channel: string, message: string) => number) | null = null;

  constructor(server: Server) {
    const refresh = () => {
      this.flags = server.config.notifyKeyspaceEvents;
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
