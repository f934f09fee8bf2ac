/**
 * A Sentinel's outgoing connection to a monitored instance (Redis's
 * instanceLink, one hiredis context): commands go out in order and their
 * replies come back in order to the callbacks given with them. A link in
 * pub/sub mode hands every message to `onMessage` instead.
 *
 * Replies are parsed with mnemo-cli's RESP reader (src/cli/reply.ts), so a
 * Sentinel talks to Redis and Mnemo instances alike.
 */
import net from 'node:net';
import { ReplyParser, encodeCommand, type Reply } from '../cli/reply.js';

export type ReplyCallback = (reply: Reply | null) => void;

export class Link {
  private socket: net.Socket | null = null;
  private parser = new ReplyParser();
  private callbacks: Array<ReplyCallback | null> = [];
  /**
   * True from the moment the connection is started until it fails or drops, as
   * Redis's link (hiredis queues commands until the connection completes, and so
   * does a Node socket): commands sent meanwhile go out once it is up.
   */
  connected = false;

  constructor(
    readonly kind: 'cmd' | 'pubsub',
    private readonly onDown: (link: Link) => void,
  ) {}

  /** In pub/sub mode: a message on a channel the link subscribed to. */
  onMessage: ((channel: string, message: string) => void) | null = null;

  /** Commands sent whose replies have not come back yet (link-pending-commands). */
  get pending(): number {
    return this.callbacks.length;
  }

  connect(host: string, port: number): void {
    const socket = net.createConnection({ host, port, noDelay: true });
    this.socket = socket;
    this.connected = true;
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        this.parser.feed(chunk);
        for (let r = this.parser.next(); r !== undefined && this.socket === socket; r = this.parser.next()) this.dispatch(r);
      } catch {
        // Not a Redis server (a protocol error): drop the link, it is retried later.
        down();
      }
    });
    const down = (): void => {
      if (this.socket !== socket) return;
      this.close();
      this.onDown(this);
    };
    socket.on('error', down);
    socket.on('close', down);
  }

  private dispatch(r: Reply): void {
    if (this.kind === 'pubsub' && (r.type === 'array' || r.type === 'push') && r.elements.length === 3) {
      const kind = r.elements[0];
      if (kind.type === 'string' && kind.str === 'message') {
        const ch = r.elements[1];
        const msg = r.elements[2];
        if (ch.type === 'string' && msg.type === 'string') this.onMessage?.(ch.str, msg.str);
        return;
      }
    }
    const cb = this.callbacks.shift();
    if (cb) cb(r);
  }

  /** Sends a command; `cb` gets its reply, or null if the link drops first. */
  send(argv: readonly string[], cb: ReplyCallback | null = null): boolean {
    if (this.socket === null || !this.connected) return false;
    this.callbacks.push(cb);
    this.socket.write(encodeCommand(argv));
    return true;
  }

  /**
   * SUBSCRIBE on a pub/sub link. A refusal (NOAUTH, NOPERM) drops the link, as
   * hiredis drops a subscribed context on an unexpected error: a Sentinel whose
   * password is out of date shows the instance as disconnected.
   */
  sendSubscribe(argv: readonly string[]): void {
    const socket = this.socket;
    this.send(argv, (r) => {
      if (r !== null && r.type === 'error' && this.socket === socket) {
        this.close();
        this.onDown(this);
      }
    });
  }

  /** Drops the connection; waiting callbacks get null. */
  close(): void {
    const socket = this.socket;
    this.socket = null;
    this.connected = false;
    this.parser = new ReplyParser();
    const cbs = this.callbacks;
    this.callbacks = [];
    if (socket) {
      socket.removeAllListeners('data');
      socket.on('error', () => {});
      socket.destroy();
    }
    for (const cb of cbs) cb?.(null);
  }

  /** Our end's IP address on this connection ('' when not connected): a hello's default address. */
  get localAddress(): string {
    const a = this.socket?.localAddress ?? '';
    return a.startsWith('::ffff:') ? a.slice(7) : a;
  }
}
