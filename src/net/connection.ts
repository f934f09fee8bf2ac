/**
 * Socket lifecycle of a client: read, parse every complete command in the
 * chunk, execute, and write all replies with one socket write per read.
 */
import type { Socket } from 'node:net';
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { ProtocolError } from '../resp/parser.js';

export function attachConnection(server: Server, c: Client, socket: Socket): void {
  socket.on('data', (chunk: Buffer) => {
    if (c.closed) return;
    server.stats.netInputBytes += chunk.length;
    c.inputBytes += chunk.length;
    c.lastInteraction = server.clock.now();
    c.parser.feed(chunk);
    processInput(server, c);
  });
  socket.on('error', () => {
    // ECONNRESET and friends: the 'close' event follows and cleans up.
  });
  socket.on('close', () => server.removeClient(c));
}

/** Executes buffered commands until input runs out or the client blocks, then flushes. */
export function processInput(server: Server, c: Client): void {
  const parser = c.parser;
  while (c.blocked === null && !c.closeAfterReply && !c.closed) {
    let argv: string[] | null;
    try {
      argv = parser.next();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      c.addError('ERR ' + e.message);
      c.closeAfterReply = true;
      break;
    }
    if (argv === null) break;
    if (argv.length === 0) continue;
    server.execute(c, argv);
  }
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
  // appendfsync always: replies wait until the writes they may reflect are fsynced.
  if (c.len > 0 && server.replyBarrier !== null && server.replyBarrier(c)) return;
  if (c.len > 0 && !socket.destroyed) {
    const out = c.takeOutput();
    server.stats.netOutputBytes += out.length;
    socket.write(out);
  } else if (c.len > 0) {
    c.len = 0;
  }
  if (c.closeAfterReply && !socket.destroyed) {
    socket.end();
    server.removeClient(c);
  }
}
