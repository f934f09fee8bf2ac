/**
 * The background writer child: the process Redis's forked BGSAVE (or AOF
 * rewrite) child is, for the disk side only. The server produces the image
 * itself (in slices, see persistence/index.ts and aof/rewrite.ts) and streams
 * it here over standard input; this process writes it to `temp-<its pid>.rdb`
 * in the server's dir, fsyncs it and renames it over the final file, as
 * Redis's rdbSave does in the child (kind `aof`: `temp-rewriteaof-bg-<its
 * pid>.aof` in the AOF dir, fsynced and left for the server to rename).
 *
 * It imports nothing of the server, so it starts in the time Node itself takes.
 *
 * Arguments: <kind: rdb|aof> <dir> <final path or ''> <oom_score_adj or ''> <process title>.
 * Input: frames of [u32 length, little-endian][bytes]; a frame of length 0
 * ends the image. Standard input closing before that frame (the server died
 * or gave up) removes the temp file and exits 1, as a failed rdbSave does.
 * Output: "ready" once SIGUSR1 is handled, then log lines on standard error,
 * "<level> <text>", which the server logs.
 * SIGUSR1 (the server's killRDBChild) exits with 255, Redis's
 * SERVER_CHILD_NOERROR_RETVAL, which the server reads as "killed on purpose".
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [kind, dir, finalPath, oomScore, title] = process.argv.slice(2);
const aof = kind === 'aof';
const tempName = aof ? `temp-rewriteaof-bg-${process.pid}.aof` : `temp-${process.pid}.rdb`;
const tempPath = join(dir, tempName);

function say(level: 'notice' | 'warning', text: string): void {
  process.stderr.write(`${level} ${text}\n`);
}

function strerror(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'ENOSPC':
      return 'No space left on device';
    case 'EISDIR':
      return 'Is a directory';
    case 'EROFS':
      return 'Read-only file system';
    case 'EDQUOT':
      return 'Disk quota exceeded';
    case 'EIO':
      return 'Input/output error';
    default:
      return String(err?.message ?? e);
  }
}

function quit(code: number): void {
  // Let the log lines reach the server before exiting.
  process.stderr.write('', () => process.exit(code));
}

process.on('SIGUSR1', () => process.exit(255));
// A dead server leaves the log pipe broken: that must not end this process before its cleanup.
process.stderr.on('error', () => undefined);
// From now on SIGUSR1 ends this process (before, Node would start its inspector).
process.stderr.write('ready\n');
if (title) process.title = title;
if (oomScore !== undefined && oomScore !== '') {
  try {
    writeFileSync('/proc/self/oom_score_adj', `${oomScore}\n`);
  } catch (e) {
    say('warning', `Unable to write oom_score_adj: ${strerror(e)}`);
  }
}

let fd = -1;
try {
  fd = openSync(tempPath, 'w');
} catch (e) {
  if (aof) say('warning', `Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): ${strerror(e)}`);
  else say('warning', `Failed opening the temp RDB file ${tempName} (in server root dir ${dir}) for saving: ${strerror(e)}`);
  process.stdin.destroy();
  quit(1);
}

let failed = false;
let ended = false;
let header = Buffer.alloc(0);
let remaining = 0;

/** Gives the temp file up: closed and removed (either may already have happened). */
function discardTemp(): void {
  failed = true;
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
  try {
    unlinkSync(tempPath);
  } catch {
    /* may be gone */
  }
}

function fail(op: string, e: unknown): void {
  if (aof) say('warning', `Write error writing append only file on disk: ${strerror(e)}`);
  else say('warning', `Write error saving DB on disk(${op}): ${strerror(e)}`);
  discardTemp();
  process.stdin.destroy();
  quit(1);
}

function writeAll(buf: Buffer, start: number, end: number): void {
  let off = start;
  while (off < end) off += writeSync(fd, buf, off, end - off);
}

function finish(): void {
  ended = true;
  try {
    fsyncSync(fd);
  } catch (e) {
    fail('fsync', e);
    return;
  }
  try {
    closeSync(fd);
  } catch (e) {
    fail('fclose', e);
    return;
  }
  if (finalPath === '') {
    // The server renames it (the AOF base, once its incremental part is written too).
    say('notice', 'SYNC append only file rewrite performed');
    process.stdin.destroy();
    quit(0);
    return;
  }
  try {
    renameSync(tempPath, finalPath);
  } catch (e) {
    failed = true;
    say('warning', `Error moving temp DB file ${tempName} on the final destination ${finalPath} (in server root dir ${dir}): ${strerror(e)}`);
    try {
      unlinkSync(tempPath);
    } catch {
      /* may be gone */
    }
    quit(1);
    return;
  }
  try {
    const dfd = openSync(dir, 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    /* best effort, as fsyncFileDir on filesystems that refuse it */
  }
  say('notice', 'DB saved on disk');
  process.stdin.destroy();
  quit(0);
}

if (fd >= 0) {
  process.stdin.on('data', (chunk: Buffer) => {
    if (failed || ended) return;
    let i = 0;
    try {
      while (i < chunk.length && !ended) {
        if (remaining > 0) {
          const n = Math.min(remaining, chunk.length - i);
          writeAll(chunk, i, i + n);
          remaining -= n;
          i += n;
          continue;
        }
        const need = 4 - header.length;
        const take = Math.min(need, chunk.length - i);
        header = Buffer.concat([header, chunk.subarray(i, i + take)]);
        i += take;
        if (header.length < 4) break;
        remaining = header.readUInt32LE(0);
        header = Buffer.alloc(0);
        if (remaining === 0) {
          finish();
          return;
        }
      }
    } catch (e) {
      fail('rdbSaveRio', e);
    }
  });
  // The input ends (or breaks) before the end frame: the server died or gave up.
  const abandon = (): void => {
    if (failed || ended) return;
    // The server went away before the end of the image: nothing to keep.
    discardTemp();
    // Nothing to log, and nobody to log to when the server died: exit at once.
    process.exit(1);
  };
  process.stdin.on('end', abandon);
  process.stdin.on('error', abandon);
  process.stdin.on('close', abandon);
}
