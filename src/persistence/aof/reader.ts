/**
 * Reads the commands of an AOF file (a base .aof or an incr file) as Redis's
 * loader does: RESP multibulk arrays of bulk strings, with "#..." annotation
 * lines (timestamps) skipped. The file is read in chunks, so a base file of
 * any size streams through a bounded window.
 *
 * Two kinds of failure are told apart, because Redis treats them differently:
 * an AOF that simply ends in the middle of a command is *truncated* (a crash
 * while appending; recoverable under aof-load-truncated), while bytes that can
 * never be a command are a *format error* (corruption; never loaded).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const CHUNK = 4 * 1024 * 1024;
/** Longest header line accepted ("*<argc>" or "$<len>"); Redis reads them with a 128-byte fgets. */
const MAX_LINE = 128;

export type ReadResult =
  | { kind: 'command'; argv: string[]; start: number; end: number }
  | { kind: 'eof' }
  | { kind: 'truncated'; at: number }
  | { kind: 'format-error'; at: number; reason: string };

/** Where the bytes of a command stream come from. */
export interface ByteSource {
  /** Reads up to `length` bytes at `position` into `into[offset..]`; returns the count (0 at end). */
  read(into: Buffer, offset: number, length: number, position: number): number;
}

export function bufferSource(data: Buffer): ByteSource {
  return {
    read(into, offset, length, position) {
      if (position >= data.length) return 0;
      const n = Math.min(length, data.length - position);
      data.copy(into, offset, position, position + n);
      return n;
    },
  };
}

export function fdSource(fd: number): ByteSource {
  return { read: (into, offset, length, position) => readSync(fd, into, offset, length, position) };
}

/** Sequential reader of AOF commands starting at byte `start` of the source. */
export class AofCommandReader {
  private win: Buffer = Buffer.allocUnsafe(0);
  /** File offset of win[0]. */
  private winStart: number;
  /** Next byte to parse, as a file offset. */
  pos: number;
  private atEof = false;

  constructor(
    private readonly src: ByteSource,
    start = 0,
  ) {
    this.winStart = start;
    this.pos = start;
  }

  /** Makes at least `n` bytes from `pos` available; false when the source ends first. */
  private want(n: number): boolean {
    const have = this.winStart + this.win.length - this.pos;
    if (have >= n) return true;
    if (this.atEof) return false;
    // Keep the unread tail, read enough more for n bytes (at least a chunk).
    const keepFrom = this.pos - this.winStart;
    const tail = this.win.length - keepFrom;
    const size = Math.max(n, CHUNK) + tail;
    const next = Buffer.allocUnsafe(size);
    this.win.copy(next, 0, keepFrom);
    let filled = tail;
    while (filled < size) {
      const got = this.src.read(next, filled, size - filled, this.pos + filled);
      if (got === 0) {
        this.atEof = true;
        break;
      }
      filled += got;
    }
    this.win = next.subarray(0, filled);
    this.winStart = this.pos;
    return filled >= n;
  }

  private byteAt(fileOffset: number): number {
    return this.win[fileOffset - this.winStart];
  }

  /**
   * Reads one "<prefix><digits>\r\n" header line at pos. Returns the number,
   * 'truncated' when the file ends inside it, or an error reason.
   */
  private readHeader(prefix: number, what: string): number | 'truncated' | string {
    // Find the line end within MAX_LINE bytes.
    let len = 0;
    for (;;) {
      if (!this.want(len + 1)) return 'truncated';
      if (this.byteAt(this.pos + len) === 0x0a) break;
      len++;
      if (len > MAX_LINE) return `${what} header line too long`;
    }
    const start = this.pos;
    if (this.byteAt(start) !== prefix) return `expected '${String.fromCharCode(prefix)}'`;
    if (len < 2 || this.byteAt(start + len - 1) !== 0x0d) return `malformed ${what} header`;
    let n = 0;
    let digits = 0;
    for (let i = start + 1; i < start + len - 1; i++) {
      const ch = this.byteAt(i);
      if (ch < 0x30 || ch > 0x39) return `invalid ${what} '${this.win.latin1Slice(start - this.winStart + 1, start - this.winStart + len - 1)}'`;
      n = n * 10 + (ch - 0x30);
      digits++;
    }
    if (digits === 0 || digits > 15) return `invalid ${what}`;
    this.pos = start + len + 1;
    return n;
  }

  /** Reads the next command (or annotation-free end, truncation, error). */
  next(): ReadResult {
    for (;;) {
      if (!this.want(1)) return { kind: 'eof' };
      // Annotations ("#TS:...") are whole lines to skip.
      if (this.byteAt(this.pos) !== 0x23) break;
      let len = 0;
      for (;;) {
        if (!this.want(len + 1)) return { kind: 'truncated', at: this.pos };
        if (this.byteAt(this.pos + len) === 0x0a) break;
        len++;
      }
      this.pos += len + 1;
    }
    const start = this.pos;
    const argc = this.readHeader(0x2a, 'argument count');
    if (argc === 'truncated') return { kind: 'truncated', at: start };
    if (typeof argc === 'string') return { kind: 'format-error', at: start, reason: argc };
    if (argc < 1) return { kind: 'format-error', at: start, reason: 'empty command' };
    const argv: string[] = new Array(argc);
    for (let i = 0; i < argc; i++) {
      const at = this.pos;
      const len = this.readHeader(0x24, 'bulk length');
      if (len === 'truncated') return { kind: 'truncated', at: start };
      if (typeof len === 'string') return { kind: 'format-error', at, reason: len };
      if (!this.want(len + 2)) return { kind: 'truncated', at: start };
      const off = this.pos - this.winStart;
      argv[i] = this.win.latin1Slice(off, off + len);
      if (this.win[off + len] !== 0x0d || this.win[off + len + 1] !== 0x0a) {
        return { kind: 'format-error', at: this.pos + len, reason: 'bulk string not terminated by CRLF' };
      }
      this.pos += len + 2;
    }
    return { kind: 'command', argv, start, end: this.pos };
  }
}

/** Opens a file for reading and returns its fd and size. */
export function openForRead(path: string): { fd: number; size: number } {
  const fd = openSync(path, 'r');
  try {
    return { fd, size: fstatSync(fd).size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
