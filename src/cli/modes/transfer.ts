/**
 * Bulk transfer modes of mnemo-cli, as redis-cli 7.0 does them:
 *   --pipe        mass insertion: stdin (RESP or inline commands) is streamed to the server
 *                 while replies are counted; a final ECHO of random bytes tells when the
 *                 last reply arrived; errors are printed and make the exit code 1.
 *   --rdb <file>  asks for a snapshot like a replica (REPLCONF capa eof / rdb-only, SYNC) and
 *                 writes the payload (sized or EOF-marked) to the file or stdout ("-").
 *   --replica     the same handshake, then prints the replication stream as CSV.
 * A server that refuses SYNC gets redis-cli's message and exit code 1.
 */
import { randomBytes } from 'node:crypto';
import { openSync, writeSync, ftruncateSync, fsyncSync, closeSync, constants as fsConstants } from 'node:fs';
import type { Readable } from 'node:stream';
import { ConnError, type CliConnection } from '../connection.js';
import { SessionExit, sleep, type Session } from '../session.js';
import { fromBinary, writeErr, writeOut } from '../output.js';
import { formatReply } from '../format.js';

// ---------------------------------------------------------------------------------------------
// --pipe

const PIPEMODE_WRITE_LOOP_MAX_BYTES = 128 * 1024;

export async function pipeMode(session: Session, stdin: Readable): Promise<number> {
  const conn = session.conn!;
  let errors = 0;
  let replies = 0;
  let eof = false;
  let done = false;
  const magic = randomBytes(20);
  let lastReadTime = Date.now();
  const timeoutMs = session.cfg.pipeTimeout * 1000;

  // Replies are consumed as they arrive, while stdin is still being sent.
  const readReplies = (): void => {
    for (let r = conn.tryReadReply(); r !== undefined; r = conn.tryReadReply()) {
      lastReadTime = Date.now();
      if (r.type === 'error') {
        writeErr(r.str + '\n');
        errors++;
      } else if (eof && r.type === 'string' && r.str.length === 20 && Buffer.from(r.str, 'latin1').equals(magic)) {
        writeOut('Last reply received from server.\n');
        done = true;
        replies--;
      }
      replies++;
    }
  };

  let failure: unknown = null;
  const reader = (async () => {
    while (!done) {
      // Wake on replies, or every second to check the timeout.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
        void conn.waitReadable().then(resolve);
      });
      clearTimeout(timer);
      readReplies();
      if (conn.err && !done) {
        // A broken reply stream is reported; a closed connection just ends with code 1.
        if (conn.err.kind === 'protocol') writeErr('Error reading replies from server\n');
        throw new SessionExit(1);
      }
      if (eof && timeoutMs > 0 && Date.now() - lastReadTime > timeoutMs && !done) {
        writeErr(`No replies for ${session.cfg.pipeTimeout} seconds: exiting.\n`);
        errors++;
        break;
      }
    }
  })().catch((e) => {
    // Stop sending too; the error is rethrown below.
    failure = e;
    stdin.destroy();
  });

  let sinceDrain = 0;
  try {
    for await (const chunk of stdin) {
      if (failure) break;
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer);
      if (!conn.write(buf) || (sinceDrain += buf.length) > PIPEMODE_WRITE_LOOP_MAX_BYTES) {
        await conn.drain();
        sinceDrain = 0;
      }
      if (conn.err) break;
    }
  } catch (e) {
    if (!failure) {
      writeErr(`Error reading from stdin: ${(e as Error).message}\n`);
      throw new SessionExit(1);
    }
  }
  if (failure) throw failure;
  if (conn.err && conn.err.kind !== 'eof') {
    writeErr(`Error writing to the server: ${conn.err.message}\n`);
    throw new SessionExit(1);
  }
  // The CRLF first: if stdin ended with a broken command, the ECHO is still parsed.
  eof = true;
  conn.write(Buffer.concat([Buffer.from('\r\n*2\r\n$4\r\nECHO\r\n$20\r\n'), magic, Buffer.from('\r\n')]));
  writeOut('All data transferred. Waiting for the last reply...\n');
  lastReadTime = Date.now();
  await reader;
  if (failure) throw failure;
  writeOut(`errors: ${errors}, replies: ${replies}\n`);
  return errors ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// SYNC handshake (--rdb, --replica, SYNC typed as a command)

const RDB_EOF_MARK_SIZE = 40;

/** Raw byte reader over a connection switched out of RESP parsing. */
class RawStream {
  private chunks: Buffer[] = [];
  private ended: ConnError | null = null;
  private waiter: (() => void) | null = null;

  constructor(private readonly conn: CliConnection) {
    conn.rawMode(
      (chunk) => {
        this.chunks.push(chunk);
        this.wake();
      },
      (e) => {
        this.ended = e;
        this.wake();
      },
    );
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Up to `max` bytes; an empty buffer at end of stream. */
  async read(max: number): Promise<Buffer> {
    for (;;) {
      const head = this.chunks[0];
      if (head) {
        if (head.length <= max) {
          this.chunks.shift();
          return head;
        }
        this.chunks[0] = head.subarray(max);
        return head.subarray(0, max);
      }
      if (this.ended) return Buffer.alloc(0);
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** Hands the unread bytes back to the RESP parser. */
  release(): void {
    this.conn.replyMode(Buffer.concat(this.chunks));
    this.chunks = [];
  }
}

/** REPLCONF arg1 arg2; false when the server refused it. */
async function sendReplconf(session: Session, arg1: string, arg2: string): Promise<boolean> {
  writeErr(`sending REPLCONF ${arg1} ${arg2}\n`);
  let r;
  try {
    r = await session.conn!.command('REPLCONF', arg1, arg2);
  } catch {
    writeErr('\nI/O error\n');
    throw new SessionExit(1);
  }
  // Usually not fatal: older servers do not know every option.
  if (r.type === 'error') {
    writeErr(`REPLCONF ${arg1} error: ${r.str}\n`);
    return false;
  }
  return true;
}

/** Sends SYNC; returns the payload size, or 0 and the end mark for a diskless transfer. */
async function sendSync(session: Session, raw: RawStream): Promise<{ payload: bigint; eofMark: Buffer | null }> {
  session.conn!.write('SYNC\r\n');
  // "$<len>\r\n" or "$EOF:<40 bytes>\r\n", skipping the newlines sent as keepalives.
  const line: number[] = [];
  for (;;) {
    const b = await raw.read(1);
    if (b.length === 0) {
      writeErr('Error reading bulk length while SYNCing\n');
      throw new SessionExit(1);
    }
    if (b[0] === 0x0a && line.length > 0) break;
    if (b[0] !== 0x0a) line.push(b[0]);
  }
  const text = Buffer.from(line).toString('latin1');
  if (text[0] === '-') {
    writeErr(`SYNC with master failed: ${text}\n`);
    throw new SessionExit(1);
  }
  if (text.slice(1, 5) === 'EOF:' && text.length - 5 >= RDB_EOF_MARK_SIZE) {
    return { payload: 0n, eofMark: Buffer.from(text.slice(5, 5 + RDB_EOF_MARK_SIZE), 'latin1') };
  }
  const m = /^\s*\d+/.exec(text.slice(1));
  return { payload: m ? BigInt(m[0]) : 0n, eofMark: null };
}

/** Tracks the last 40 bytes of a diskless payload to spot its end mark. */
class MarkWatcher {
  private last = Buffer.alloc(RDB_EOF_MARK_SIZE);
  constructor(private readonly mark: Buffer) {}
  push(chunk: Buffer): boolean {
    if (chunk.length >= RDB_EOF_MARK_SIZE) {
      this.last = Buffer.from(chunk.subarray(chunk.length - RDB_EOF_MARK_SIZE));
    } else {
      this.last = Buffer.concat([this.last.subarray(chunk.length), chunk]);
    }
    return this.last.equals(this.mark);
  }
}

export async function getRdb(session: Session): Promise<number> {
  const cfg = session.cfg;
  const filename = cfg.rdbFilename!;
  await sendReplconf(session, 'capa', 'eof');
  await sendReplconf(session, 'rdb-only', '1');
  if (cfg.functionsRdb && !(await sendReplconf(session, 'rdb-filter-only', 'functions'))) {
    writeErr('Failed requesting functions only RDB from server, aborting\n');
    throw new SessionExit(1);
  }
  const raw = new RawStream(session.conn!);
  let { payload, eofMark } = await sendSync(session, raw);
  const ULLONG_MAX = 2n ** 64n - 1n;
  const watcher = eofMark ? new MarkWatcher(eofMark) : null;
  if (watcher) {
    payload = ULLONG_MAX;
    writeErr(`SYNC sent to master, writing bytes of bulk transfer until EOF marker to '${filename}'\n`);
  } else {
    writeErr(`SYNC sent to master, writing ${payload} bytes to '${filename}'\n`);
  }
  const toStdout = filename === '-';
  let fd = 1;
  if (!toStdout) {
    try {
      fd = openSync(fromBinary(filename), fsConstants.O_CREAT | fsConstants.O_WRONLY, 0o644);
    } catch (e) {
      writeErr(`Error opening '${filename}': ${errText(e)}\n`);
      throw new SessionExit(1);
    }
  }
  while (payload > 0n) {
    const chunk = await raw.read(Number(payload > 4096n ? 4096n : payload));
    if (chunk.length === 0) {
      writeErr('I/O Error reading RDB payload from socket\n');
      throw new SessionExit(1);
    }
    try {
      if (toStdout) writeOut(chunk);
      else writeSync(fd, chunk);
    } catch (e) {
      writeErr(`Error writing data to file: ${errText(e)}\n`);
      throw new SessionExit(1);
    }
    payload -= BigInt(chunk.length);
    if (watcher?.push(chunk)) break;
  }
  if (watcher) {
    const size = ULLONG_MAX - payload - BigInt(RDB_EOF_MARK_SIZE);
    if (!toStdout) {
      try {
        ftruncateSync(fd, Number(size));
      } catch (e) {
        writeErr(`ftruncate failed: ${errText(e)}.\n`);
      }
    }
    writeErr(`Transfer finished with success after ${size} bytes\n`);
  } else {
    writeErr('Transfer finished with success.\n');
  }
  session.conn!.close();
  if (!toStdout) {
    try {
      fsyncSync(fd);
    } catch (e) {
      writeErr(`Fail to fsync '${filename}': ${errText(e)}\n`);
      throw new SessionExit(1);
    }
    closeSync(fd);
  }
  return 0;
}

function errText(e: unknown): string {
  const msg = (e as Error).message ?? String(e);
  // Node: "ENOENT: no such file or directory, open 'x'" -> "No such file or directory"
  const m = /^[A-Z]+: ([^,]+)/.exec(msg);
  if (!m) return msg;
  return m[1][0].toUpperCase() + m[1].slice(1);
}

/**
 * Replica output: after the snapshot (discarded), every command the server propagates is
 * printed as CSV. Returns when the connection ends.
 */
export async function replicaMode(session: Session, handshake: boolean): Promise<void> {
  if (handshake) {
    await sendReplconf(session, 'capa', 'eof');
    await sendReplconf(session, 'rdb-filter-only', '');
  }
  const raw = new RawStream(session.conn!);
  let { payload, eofMark } = await sendSync(session, raw);
  const ULLONG_MAX = 2n ** 64n - 1n;
  const watcher = eofMark ? new MarkWatcher(eofMark) : null;
  if (watcher) {
    payload = ULLONG_MAX;
    writeErr('SYNC with master, discarding bytes of bulk transfer until EOF marker...\n');
  } else {
    writeErr(`SYNC with master, discarding ${payload} bytes of bulk transfer...\n`);
  }
  while (payload > 0n) {
    const chunk = await raw.read(Number(payload > 1024n ? 1024n : payload));
    if (chunk.length === 0) {
      writeErr('Error reading RDB payload while SYNCing\n');
      throw new SessionExit(1);
    }
    payload -= BigInt(chunk.length);
    if (watcher?.push(chunk)) break;
  }
  raw.release();
  if (watcher) {
    writeErr(`SYNC done after ${ULLONG_MAX - payload} bytes. Logging commands from master.\n`);
    await sleep(1000);
    await sendReplconf(session, 'ACK', '0');
  } else {
    writeErr('SYNC done. Logging commands from master.\n');
  }
  const conn = session.conn!;
  for (;;) {
    let r;
    try {
      r = await conn.readReply();
    } catch {
      return;
    }
    writeOut(formatReply(r, 'csv', false));
  }
}
