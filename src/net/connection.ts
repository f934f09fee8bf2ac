/**
 * Socket lifecycle of a client: read, parse every complete command in the
 * chunk, execute, and write all replies with one socket write per read.
 */
import { Socket as NetSocket, type Socket } from 'node:net';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { ProtocolError } from '../resp/parser.js';
import { clientEvictionGate, evictBeforeCommand, noteClientBuffers } from '../server/client-eviction.js';
import { checkOutputLimit } from '../server/output-limit.js';
import { queryBufferBigArg, queryBufferRead } from '../server/query-buffer.js';

export function attachConnection(server: Server, c: Client, socket: Socket): void {
  const onData = (chunk: Buffer): void => {
    if (c.closed) return;
    server.stats.netInputBytes += chunk.length;
    c.inputBytes += chunk.length;
    c.lastInteraction = server.clock.now();
    const parser = c.parser;
    queryBufferRead(c, parser.pendingBytes, parser.bigRemaining, chunk.length);
    parser.feed(chunk);
    if (clientEvictionGate.enabled !== 0) deferInput(server, c);
    else runInput(server, c);
  };
  if (!readIntoSharedBuffer(socket, c, onData)) socket.on('data', onData);
  socket.on('error', () => {
    // ECONNRESET and friends: the 'close' event follows and cleans up.
  });
  socket.on('close', () => server.removeClient(c));
  // The server accepts connections paused (pauseOnConnect), so the read mode is set before the first read.
  socket.resume();
}

/**
 * Node's `onread` socket option, applied to an accepted socket: the kernel
 * copies every read into one buffer shared by all connections, instead of
 * Node allocating (and later freeing, on another thread) a 64 KB buffer per
 * read and pushing it through the Readable stream. Safe because a read is
 * consumed synchronously: the parser copies out whatever it keeps (see
 * RespParser.detach). `net.createServer` has no such option, so this sets the
 * same fields `new net.Socket({ onread })` sets; if this Node lacks them, the
 * caller falls back to 'data' events.
 */
function readIntoSharedBuffer(socket: Socket, c: Client, onData: (chunk: Buffer) => void): boolean {
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Buffer) => void } })._handle;
  if (ONREAD_FIELDS === null || typeof handle?.useUserBuffer !== 'function') return false;
  const s = socket as unknown as Record<symbol, unknown>;
  s[ONREAD_FIELDS.buffer] = SHARED_READ_BUFFER;
  s[ONREAD_FIELDS.callback] = (nread: number, buf: Buffer): void => {
    onData(buf.subarray(0, nread));
    c.parser.detach(buf);
  };
  handle.useUserBuffer(SHARED_READ_BUFFER);
  return true;
}

const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** The symbols behind net.Socket's `onread` option, found on a probe socket; null if absent. */
const ONREAD_FIELDS = findOnreadFields();

function findOnreadFields(): { buffer: symbol; callback: symbol } | null {
  // `onread` is documented for net.Socket (and net.connect) but missing from @types/node's constructor options.
  const options = { onread: { buffer: Buffer.alloc(1), callback: () => undefined } } as ConstructorParameters<typeof NetSocket>[0];
  const probe = new NetSocket(options);
  let buffer: symbol | null = null;
  let callback: symbol | null = null;
  const fields = probe as unknown as Record<symbol, unknown>;
  for (const sym of Object.getOwnPropertySymbols(probe)) {
    if (sym.description === 'kBuffer' && Buffer.isBuffer(fields[sym])) buffer = sym;
    if (sym.description === 'kBufferCb' && typeof fields[sym] === 'function') callback = sym;
  }
  probe.destroy();
  return buffer !== null && callback !== null ? { buffer, callback } : null;
}

/** Runs what a read brought: its commands, then the query buffer model's note of a big argument. */
function runInput(server: Server, c: Client): void {
  processInput(server, c);
  const parser = c.parser;
  if (parser.bigSeen !== 0) {
    queryBufferBigArg(c, parser.bigSeen);
    parser.bigSeen = 0;
  }
}

/**
 * Clients whose input waits for the turn's deferred pass (client eviction on), in read order.
 * While maxmemory-clients is set, a read only parses (up to the first complete command, so an
 * announced big argument is sized) and notes the client's memory; the commands run after every
 * read of this event-loop turn, in setImmediate. So a command never runs before the input of
 * another client that arrived with it was seen: Redis, back in epoll_wait within microseconds
 * of a reply, reads a client's big input before the next command of another client, but Node
 * may take a fraction of a millisecond to poll again, and then receives both in one batch, in
 * the kernel's order, not necessarily the order they were sent (unit/client-eviction's
 * 'client evicted due to percentage of maxmemory' lost that race). A scheduled eviction check
 * runs before the first command (evictBeforeCommand), as Redis's processCommand.
 */
const deferredInput: Client[] = [];
let deferredScheduled = false;

function deferInput(server: Server, c: Client): void {
  if (c.readAhead === null && c.blocked === null && !c.closeAfterReply && !c.closeAsap) {
    try {
      c.readAhead = c.parser.next();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      c.readAhead = e;
    }
  }
  noteClientBuffers(server, c);
  if (c.inputDeferred) return;
  c.inputDeferred = true;
  deferredInput.push(c);
  if (!deferredScheduled) {
    deferredScheduled = true;
    setImmediate(runDeferredInput);
  }
}

function runDeferredInput(): void {
  deferredScheduled = false;
  for (let i = 0; i < deferredInput.length; i++) {
    const c = deferredInput[i];
    c.inputDeferred = false;
    if (!c.closed) runInput(c.server, c);
  }
  deferredInput.length = 0;
}

/** Executes buffered commands until input runs out or the client blocks, then flushes. */
export function processInput(server: Server, c: Client): void {
  const parser = c.parser;
  // A SCRIPT DEBUG SYNC session holds the server: other clients' input waits (src/scripting/ldb.ts).
  if (server.ldbHolder !== null && server.ldbHolder !== c) return;
  server.setChaining(true);
  while (c.blocked === null && !c.closeAfterReply && !c.closed && !c.closeAsap) {
    // A debugging session reads commands only while the script is stopped.
    if (c.ldbSession !== null && !c.ldbSession.waiting) break;
    let argv: string[] | null;
    const ahead = c.readAhead;
    if (ahead !== null) {
      // Parsed when it was read (client eviction's deferred pass).
      c.readAhead = null;
      if (ahead instanceof Error) {
        c.addError('ERR ' + ahead.message);
        c.closeAfterReply = true;
        break;
      }
      argv = ahead;
    } else {
      try {
        argv = parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        c.addError('ERR ' + e.message);
        c.closeAfterReply = true;
        break;
      }
    }
    if (argv === null) break;
    if (c.ldbSession !== null) {
      const inline = parser.inlineSeen;
      parser.inlineSeen = false;
      c.ldbSession.input(argv, inline);
      continue;
    }
    if (argv.length === 0) continue;
    // maxmemory-clients: a check scheduled this round runs before the command, as Redis's processCommand.
    if (clientEvictionGate.pending !== 0 && evictBeforeCommand(server, c)) break;
    server.execute(c, argv);
    // client-output-buffer-limit normal: one comparison while the class is unlimited.
    if (c.len > server.outputLimitFloor) checkOutputLimit(server, c, c.len);
  }
  server.setChaining(false);
  if (!c.closeAfterReply && parser.pendingBytes > server.queryBufferLimit) {
    // Redis closes such clients without a reply (client-query-buffer-limit).
    c.socket?.destroy();
    server.removeClient(c);
    return;
  }
  flush(server, c);
}

/** Writes pending replies; closes the connection if a reply asked for it. */
export function flush(server: Server, c: Client): void {
  const socket = c.socket;
  if (socket === null) return;
  if (c.closeAsap) {
    // Over its output buffer limit: nothing more is sent (output-limit.ts closes it).
    c.len = 0;
    return;
  }
  // appendfsync always: replies wait until the writes they may reflect are fsynced.
  if (c.len > 0 && server.replyBarrier !== null && server.replyBarrier(c)) return;
  if (c.len > 0 && !socket.destroyed) {
    if (c.replicaOutput) server.stats.netReplOutputBytes += c.len;
    else server.stats.netOutputBytes += c.len;
    // The reply buffer itself goes to the socket (no copy): written at once, the usual
    // case, it is free again; if the socket queued any of it, the client takes a new one.
    socket.write(c.outputView());
    const queued = socket.writableLength;
    c.outputWritten(queued !== 0);
    // Output the peer does not read piles up in the socket: it counts against the limit too.
    if (queued > server.outputLimitFloor) checkOutputLimit(server, c, 0);
  } else if (c.len > 0) {
    c.len = 0;
  }
  // maxmemory-clients: a client whose buffers grew past the room left gets a check soon.
  if (clientEvictionGate.enabled !== 0) noteClientBuffers(server, c);
  if (c.closeAfterReply && !socket.destroyed) {
    // As Redis closes the descriptor once the reply is written: a peer still
    // sending (a protocol desync) gets a reset instead of a half-open socket.
    socket.end(() => socket.destroy());
    server.removeClient(c);
  }
}
