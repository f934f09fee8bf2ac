/**
 * Pub/Sub registry and delivery: who listens on which channel, pattern and
 * shard channel, and how a message reaches them.
 *
 * A message is appended to each receiver's reply buffer at once, so the order
 * of messages per receiver is the publish order, and receivers that got data
 * are flushed together once per event-loop turn (one socket write each). A
 * subscriber whose pending output passes `client-output-buffer-limit pubsub`
 * is disconnected, as Redis does, so a slow reader never slows the others.
 *
 * One PubSub per Server, created by installPubSub(), which also wires the
 * server's hooks (subscribed-mode check, RESET, disconnect, keyspace
 * notifications, INFO). The command handlers call pubsubOf(), which installs
 * it on first use, so nothing depends on the order modules load in.
 */
import { OUTPUT_CLASS_PUBSUB, overOutputLimit, watchOutputLimit, type OutputLimit } from './output-limit.js';
import type { Server } from './server.js';
import { ReplyMode, type Client } from './client.js';
import { flush } from '../net/connection.js';
import { globMatch } from '../util/glob.js';
import { putDecimal, putLatin1 } from '../util/latin1.js';
import { setInfoProvider } from '../observability/info.js';

/** One client's subscriptions, in the order they were made. */
export class Subscriber {
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shardChannels = new Set<string>();
  /** Server time (seconds) since when the output has stayed over the soft limit; 0 = not over. */
  softLimitSince = 0;
  /** Over an output limit: gets no more data and is closed at the next flush. */
  closing = false;
  /** In the pending set (output waiting for this turn's flush). */
  queued = false;

  /** `limited` false: a receiver outside the pubsub output-buffer class (see deliverFrame). */
  constructor(
    readonly client: Client,
    readonly limited = true,
  ) {}

  /** What SUBSCRIBE/PSUBSCRIBE confirmations count: channels plus patterns. */
  get count(): number {
    return this.channels.size + this.patterns.size;
  }

  get total(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }
}

/** The three kinds of subscription share the same bookkeeping. */
export type Kind = 'channel' | 'pattern' | 'shard';

/** client-output-buffer-limit pubsub, as plain numbers (0 = no limit). */
/** Unflushed bytes at which a receiver is written to at once instead of at the end of the turn. */
const EAGER_FLUSH_BYTES = 64 * 1024;

export class PubSub {
  /** channel -> subscribers, in subscription order (Redis delivers in that order). */
  readonly channels = new Map<string, Set<Subscriber>>();
  readonly patterns = new Map<string, Set<Subscriber>>();
  readonly shardChannels = new Map<string, Set<Subscriber>>();
  /** Clients with at least one subscription. */
  private readonly subscribers = new Map<Client, Subscriber>();
  /** Receivers with unflushed messages, flushed together on the next turn. */
  private readonly pending = new Set<Subscriber>();
  /** Frames for a client whose running command's reply is muted (see writePush). */
  private readonly deferred = new Map<Client, Buffer[]>();
  private flushScheduled = false;
  private limit: OutputLimit = { hard: 0, soft: 0, softSeconds: 0 };

  constructor(readonly server: Server) {
    watchOutputLimit(server, OUTPUT_CLASS_PUBSUB, (l) => (this.limit = l));
    server.cronHooks.push(() => this.checkIdleReceivers());
  }

  /**
   * From the cron, as Redis's clientsCron: a receiver whose output stays over the
   * soft limit is closed even when no more messages come (the check on delivery
   * would never run again).
   */
  private checkIdleReceivers(): void {
    const limit = this.limit;
    if (limit.soft === 0 && limit.hard === 0) return;
    for (const s of this.subscribers.values()) {
      const c = s.client;
      if (s.closing || c.closed || c.socket === null) continue;
      if (c.len + c.socket.writableLength === 0) {
        s.softLimitSince = 0;
        continue;
      }
      if (this.overLimit(s)) {
        s.closing = true;
        c.len = 0;
        c.socket.destroy();
        this.server.removeClient(c);
      }
    }
  }

  // ---- subscriptions ------------------------------------------------------

  /** The client's subscriptions, or undefined when it has none. */
  of(c: Client): Subscriber | undefined {
    return this.subscribers.get(c);
  }

  /** Whether any client subscribes to anything (the dispatcher's fast path checks this first). */
  get anySubscriber(): boolean {
    return this.subscribers.size !== 0;
  }

  /** Channels + patterns (what SUBSCRIBE, PSUBSCRIBE and their UN- forms reply). */
  count(c: Client): number {
    const s = this.subscribers.get(c);
    return s === undefined ? 0 : s.count;
  }

  shardCount(c: Client): number {
    const s = this.subscribers.get(c);
    return s === undefined ? 0 : s.shardChannels.size;
  }

  /** Adds a subscription; returns false when the client already had it. */
  subscribe(c: Client, kind: Kind, name: string): boolean {
    let s = this.subscribers.get(c);
    if (s === undefined) {
      s = new Subscriber(c);
      this.subscribers.set(c, s);
    }
    const own = ownSet(s, kind);
    if (own.has(name)) return false;
    own.add(name);
    const registry = this.registry(kind);
    let set = registry.get(name);
    if (set === undefined) {
      set = new Set();
      registry.set(name, set);
    }
    set.add(s);
    return true;
  }

  /** Removes a subscription; returns false when the client did not have it. */
  unsubscribe(c: Client, kind: Kind, name: string): boolean {
    const s = this.subscribers.get(c);
    if (s === undefined || !ownSet(s, kind).delete(name)) return false;
    const registry = this.registry(kind);
    const set = registry.get(name);
    if (set !== undefined) {
      set.delete(s);
      if (set.size === 0) registry.delete(name);
    }
    if (s.total === 0) this.subscribers.delete(c);
    return true;
  }

  /** The client's subscriptions of one kind, in subscription order (a copy, safe to iterate while removing). */
  list(c: Client, kind: Kind): string[] {
    const s = this.subscribers.get(c);
    return s === undefined ? [] : [...ownSet(s, kind)];
  }

  /** Drops every subscription of a client without replying (RESET, disconnect). */
  removeClient(c: Client): void {
    const s = this.subscribers.get(c);
    if (s === undefined) return;
    for (const kind of ['channel', 'pattern', 'shard'] as const) {
      for (const name of this.list(c, kind)) this.unsubscribe(c, kind, name);
    }
    this.subscribers.delete(c);
    this.pending.delete(s);
    s.queued = false;
  }

  /** Forgets everything about a client that went away. */
  forget(c: Client): void {
    this.removeClient(c);
    this.deferred.delete(c);
  }

  /**
   * The shard channels of a slot this node's shard stopped serving: every subscriber is
   * unsubscribed and gets a sunsubscribe push with its remaining count (Redis's removeChannelsInSlot).
   */
  unsubscribeShardSlot(slot: number, slotOf: (channel: string) => number): void {
    if (this.shardChannels.size === 0) return;
    for (const [name, subs] of [...this.shardChannels]) {
      if (slotOf(name) !== slot) continue;
      for (const s of [...subs]) {
        const c = s.client;
        this.unsubscribe(c, 'shard', name);
        const count = String(this.shardCount(c));
        const frame = Buffer.from(`*3\r\n$12\r\nsunsubscribe\r\n$${name.length}\r\n${name}\r\n:${count}\r\n`, 'latin1');
        this.deliverFrame(c, frame);
      }
    }
  }

  registry(kind: Kind): Map<string, Set<Subscriber>> {
    return kind === 'channel' ? this.channels : kind === 'pattern' ? this.patterns : this.shardChannels;
  }

  // ---- delivery -----------------------------------------------------------

  /**
   * Runs `write`, which appends pub/sub frames (confirmations) to the client's
   * replies. Redis sends these even under CLIENT REPLY OFF/SKIP, which drop the
   * running command's reply, so muted frames are set aside and appended after it.
   */
  writePush(c: Client, write: () => void): void {
    if (!muted(c)) {
      write();
      return;
    }
    const mark = c.len;
    write();
    const bytes = Buffer.from(c.out.subarray(mark, c.len));
    c.len = mark;
    this.defer(c, bytes);
  }

  private defer(c: Client, bytes: Buffer): void {
    const list = this.deferred.get(c);
    if (list === undefined) this.deferred.set(c, [bytes]);
    else list.push(bytes);
  }

  /** After a command (and its reply mode) ran: appends the frames set aside for it. */
  releaseDeferred(c: Client): void {
    if (this.deferred.size === 0) return;
    const list = this.deferred.get(c);
    if (list === undefined) return;
    this.deferred.delete(c);
    for (const b of list) c.addRawBuffer(b);
  }

  /**
   * PUBLISH: delivers `message` to the channel's subscribers, then to every
   * pattern subscription matching the channel (a client subscribed both ways
   * gets it twice). Returns the number of deliveries.
   */
  publish(channel: string, message: string): number {
    let receivers = 0;
    const direct = this.channels.get(channel);
    if (direct !== undefined) {
      if (direct.size === 1) {
        // The common one-receiver case: built in place, no shared frame to copy.
        for (const s of direct) this.deliverMessage(s, 'message', channel, message);
        receivers++;
      } else {
        const frame = messageFrame('message', null, channel, message);
        for (const s of direct) {
          this.deliver(s, frame);
          receivers++;
        }
      }
    }
    if (this.patterns.size !== 0) {
      for (const [pattern, subs] of this.patterns) {
        if (!globMatch(pattern, channel)) continue;
        const frame = messageFrame('pmessage', pattern, channel, message);
        for (const s of subs) {
          this.deliver(s, frame);
          receivers++;
        }
      }
    }
    return receivers;
  }

  /** SPUBLISH: shard channels only; patterns never see shard messages. */
  spublish(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (subs === undefined) return 0;
    const frame = messageFrame('smessage', null, channel, message);
    for (const s of subs) this.deliver(s, frame);
    return subs.size;
  }

  /**
   * Delivers a ready-made frame that is not a channel message (client-side
   * caching invalidations, server/tracking.ts) the way messages go: kept past a
   * muted reply, flushed with the turn's batch, and under the pubsub output
   * limit when the receiver is a subscriber (other clients are in Redis's
   * normal class, unlimited by default). `frame` has a RESP2 `*` header.
   */
  deliverFrame(c: Client, frame: Buffer): void {
    this.deliver(this.subscribers.get(c) ?? new Subscriber(c, false), frame);
  }

  /** Appends a message frame (built with a RESP2 `*` header) to one receiver. */
  private deliver(s: Subscriber, frame: Buffer): void {
    const c = s.client;
    // Redis counts a receiver that is being closed but sends it nothing.
    if (s.closing || c.closed) return;
    if (muted(c)) {
      // The receiver is running a command whose reply CLIENT REPLY OFF/SKIP drops (a RESP3
      // client publishing to itself, or its own keyspace event): the message still goes out.
      const copy = Buffer.from(frame);
      if (c.resp === 3) copy[0] = 0x3e;
      this.defer(c, copy);
      return;
    }
    const at = c.len;
    c.addRawBuffer(frame);
    this.appended(s, at);
  }

  /** Like deliver(messageFrame('message', null, channel, message)), writing the frame straight into the receiver's buffer. */
  private deliverMessage(s: Subscriber, kind: string, channel: string, message: string): void {
    const c = s.client;
    if (s.closing || c.closed) return;
    if (muted(c)) {
      this.deliver(s, messageFrame(kind, null, channel, message));
      return;
    }
    const at = c.len;
    c.ensure(frameRoom(kind, null, channel, message));
    c.len = writeMessageFrame(c.out, at, kind, null, channel, message);
    this.appended(s, at);
  }

  /** After a frame was appended at `at` to a receiver's buffer: RESP3 header, output limits, flush scheduling. */
  private appended(s: Subscriber, at: number): void {
    const c = s.client;
    if (c.resp === 3) c.out[at] = 0x3e; // '>' push header instead of '*'
    if (this.overLimit(s)) {
      s.closing = true;
      c.len = 0; // what did not reach the socket is dropped, as Redis frees the client
    } else if (c.len >= EAGER_FLUSH_BYTES && c.current === null) {
      // A burst of publishes must not pile up here, where it would count against the
      // limit even for a fast reader: hand it to the socket now (never mid-command).
      flush(this.server, c);
      return;
    }
    if (!s.queued) {
      s.queued = true;
      this.pending.add(s);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushPending);
    }
  }

  /** Redis's checkClientOutputBufferLimits for the pubsub class, on the server clock. */
  private overLimit(s: Subscriber): boolean {
    const limit = this.limit;
    if ((limit.hard === 0 && limit.soft === 0) || !s.limited) return false;
    const c = s.client;
    return overOutputLimit(limit, c.len + (c.socket?.writableLength ?? 0), s, Math.floor(this.server.clock.now() / 1000));
  }

  /**
   * Writes the pending receivers' buffers now, for work that runs outside a client's
   * command (an event-loop callback such as background eviction): a setImmediate queued
   * from there would only run after the next poll phase had run new commands, which
   * would see these messages still unsent (Redis writes them in beforeSleep, before
   * it polls again).
   */
  flushPendingNow(): void {
    if (this.flushScheduled) this.flushPending();
  }

  /** Writes every pending receiver's buffer (one write each) and closes those over their limit. */
  private readonly flushPending = (): void => {
    this.flushScheduled = false;
    const server = this.server;
    for (const s of this.pending) {
      s.queued = false;
      const c = s.client;
      if (c.closed) continue;
      if (s.closing) {
        c.len = 0;
        c.socket?.destroy();
        server.removeClient(c);
        continue;
      }
      if (c.len > 0) flush(server, c);
    }
    this.pending.clear();
  };
}

/** Whether the reply being written now will be dropped by CLIENT REPLY OFF/SKIP. */
function muted(c: Client): boolean {
  return c.current !== null && (c.replyMode === ReplyMode.Off || c.replyMode === ReplyMode.SkipThis);
}

function ownSet(s: Subscriber, kind: Kind): Set<string> {
  return kind === 'channel' ? s.channels : kind === 'pattern' ? s.patterns : s.shardChannels;
}

/** Reused frame storage: a frame is copied into each receiver's buffer before the next is built. */
const scratch = Buffer.allocUnsafe(64 * 1024);
/** Bytes a message frame may take (an upper bound). */
function frameRoom(kind: string, pattern: string | null, channel: string, message: string): number {
  return 64 + kind.length + channel.length + message.length + (pattern === null ? 0 : pattern.length + 24);
}

/**
 * `*3 kind channel message` or `*4 pmessage pattern channel message`, as bytes.
 * The result is a view of shared storage, valid until the next call.
 */
function messageFrame(kind: string, pattern: string | null, channel: string, message: string): Buffer {
  const need = frameRoom(kind, pattern, channel, message);
  // Big messages get their own buffer, so the shared one never stays huge.
  const b = need <= scratch.length ? scratch : Buffer.allocUnsafe(need);
  return b.subarray(0, writeMessageFrame(b, 0, kind, pattern, channel, message));
}

/** Writes a message frame at b[at] (room ensured); returns the position after it. */
function writeMessageFrame(b: Buffer, at: number, kind: string, pattern: string | null, channel: string, message: string): number {
  b[at] = 0x2a; // '*'
  b[at + 1] = pattern === null ? 0x33 : 0x34;
  b[at + 2] = 13;
  b[at + 3] = 10;
  let n = writeBulk(b, at + 4, kind);
  if (pattern !== null) n = writeBulk(b, n, pattern);
  n = writeBulk(b, n, channel);
  return writeBulk(b, n, message);
}

function writeBulk(b: Buffer, at: number, s: string): number {
  b[at] = 0x24; // '$'
  at = putDecimal(b, at + 1, s.length);
  b[at++] = 13;
  b[at++] = 10;
  at = putLatin1(b, at, s);
  b[at++] = 13;
  b[at++] = 10;
  return at;
}

// ---- one PubSub per server --------------------------------------------------

const instances = new WeakMap<Server, PubSub>();

/**
 * Creates the server's PubSub and installs its hooks. Idempotent: the Server
 * constructor may call it, and command handlers call it through pubsubOf().
 */
export function installPubSub(server: Server): PubSub {
  const existing = instances.get(server);
  if (existing !== undefined) return existing;
  const p = new PubSub(server);
  instances.set(server, p);
  // RESP2 clients with a subscription may only run (P|S)(UN)SUBSCRIBE, PING, QUIT, RESET.
  server.pubsubContext = (c) => c.resp === 2 && p.anySubscriber && p.of(c) !== undefined;
  server.resetHooks.push((c) => p.removeClient(c));
  server.disconnectHooks.push((c) => p.forget(c));
  server.afterCallHooks.push((c) => p.releaseDeferred(c));
  server.notifier.publish = (channel, message) => p.publish(channel, message);
  setInfoProvider(server, 'stats', (_srv, fields) =>
    fields.map(([name, value]) => {
      if (name === 'pubsub_channels') return [name, p.channels.size];
      if (name === 'pubsub_patterns') return [name, p.patterns.size];
      if (name === 'pubsubshard_channels') return [name, p.shardChannels.size];
      return [name, value];
    }),
  );
  return p;
}

/** The server's PubSub (installed on first use). */
export function pubsubOf(server: Server): PubSub {
  return instances.get(server) ?? installPubSub(server);
}

/** The server's PubSub if anything installed it yet (introspection must not install). */
export function existingPubSub(server: Server): PubSub | undefined {
  return instances.get(server);
}
