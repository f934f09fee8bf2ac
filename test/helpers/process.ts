/**
 * Helpers for tests that run servers as child processes (Mnemo's bin, real
 * redis-server): a free port to hand them, and temp directories removed by
 * the test file's cleanup.
 */
import { after } from 'node:test';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port that was free a moment ago (for a child process that needs a port number up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A new temp directory named after `prefix`; `cleanups` gets the function that removes it. */
export function tempDir(prefix: string, cleanups: Array<() => void | Promise<void>>): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/**
 * The calling test file's cleanups: functions run last-first by its after()
 * (stop processes, remove directories), and temp directories removed there.
 */
export function fileCleanups(prefix: string): { cleanups: Array<() => void | Promise<void>>; tempDir: () => string } {
  const cleanups: Array<() => void | Promise<void>> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return { cleanups, tempDir: () => tempDir(prefix, cleanups) };
}
