/**
 * Small synchronous file helpers for the AOF: complete writes, durable
 * renames (fsync of the directory), and Redis-worded error texts.
 */
import { closeSync, fsyncSync, openSync, renameSync, statSync, writeSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';

/** C's strerror text for a Node fs error (as Redis prints it). */
export function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EACCES': return 'Permission denied';
    case 'ENOSPC': return 'No space left on device';
    case 'EROFS': return 'Read-only file system';
    case 'EIO': return 'Input/output error';
    case 'EISDIR': return 'Is a directory';
    case 'ENOTDIR': return 'Not a directory';
    case 'EEXIST': return 'File exists';
    case 'EDQUOT': return 'Disk quota exceeded';
    case 'EBADF': return 'Bad file descriptor';
    case 'EFBIG': return 'File too large';
    default: return (e as Error)?.message ?? String(e);
  }
}

/** Writes all of `buf` at the file's current offset; returns bytes written before an error (rethrown with `.written`). */
export function writeAllSync(fd: number, buf: Buffer, offset = 0, length = buf.length - offset): void {
  let done = 0;
  while (done < length) {
    try {
      done += writeSync(fd, buf, offset + done, length - done);
    } catch (e) {
      (e as { written?: number }).written = done;
      throw e;
    }
  }
}

/** Makes a rename or a new file in `dir` durable. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, fsConstants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename itself still happened.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Writes `content` to dir/tempName, fsyncs it and renames it over dir/finalName. */
export function writeFileAtomic(dir: string, tempName: string, finalName: string, content: string): void {
  const tmp = join(dir, tempName);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeAllSync(fd, Buffer.from(content, 'latin1'));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, finalName));
  fsyncDir(dir);
}

/** Size of a file, or 0 when it cannot be read. */
export function fileSizeOr0(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
