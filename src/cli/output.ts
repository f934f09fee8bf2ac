/**
 * Synchronous writes to stdout/stderr. redis-cli mixes stdout and stderr lines and often
 * exits right after printing; writing synchronously keeps the order and never loses
 * output on process.exit(). Strings are latin1 (one char per byte).
 */
import { writeSync } from 'node:fs';

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue; // a non-blocking pipe is full: retry
      if (code === 'EPIPE') process.exit(1); // reader went away, as a C program dies of SIGPIPE
      throw e;
    }
  }
}

export function writeOut(s: string | Buffer): void {
  writeAll(1, typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
}

export function writeErr(s: string): void {
  writeAll(2, Buffer.from(s, 'latin1'));
}

/** Converts a UTF-16 JS string (process.argv, environment) to its latin1 byte form. */
export function toBinary(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** Back from latin1 bytes to a JS string, for names the OS gets (paths, host names). */
export function fromBinary(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}
