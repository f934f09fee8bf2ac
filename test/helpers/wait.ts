/**
 * Polling helpers for client tests: wait for a condition on the in-process
 * server (a client blocked, a message arrived) instead of sleeping a fixed time.
 */
import assert from 'node:assert/strict';
import type { ServerHandle } from '../../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` (sync or async) until it holds; fails naming `what` after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what = 'condition', ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Waits until exactly `n` clients are blocked on the server. */
export function blockedCount(handle: ServerHandle, n: number): Promise<void> {
  return waitFor(() => handle.server.blocking.count === n, `${n} blocked client(s)`);
}

/** Whether the promise has settled 20 ms from now (without waiting for it longer). */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(20);
  return done;
}
