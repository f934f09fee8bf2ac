/**
 * Reply buffer resizing (src/server/reply-buffer.ts), step by step as Redis's
 * clientsCronResizeOutputBuffer: shrink to the peak when it stays under half,
 * double up to 16 KB when the peak filled the buffer, reset the peak on its timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyWriter } from '../../src/resp/writer.js';
import { resizeReplyBuffer, type ReplyBufferSettings } from '../../src/server/reply-buffer.js';
import type { Client } from '../../src/server/client.js';

function settings(peakResetTime: number): ReplyBufferSettings {
  return { peakResetTime, resizing: true, shrinks: 0, expands: 0 };
}

/** A reply of n bytes, flushed. */
function reply(w: ReplyWriter, n: number): void {
  w.addRaw('x'.repeat(n));
  w.takeOutput();
}

test('an idle client shrinks to 1 KB; a busy one grows back to 16 KB, one doubling per visit', () => {
  const w = new ReplyWriter();
  const c = w as unknown as Client;
  const s = settings(100);
  assert.equal(w.bufSize, 16384);
  assert.equal(w.bufPeak, 16384, 'the peak starts at the full size, as Redis');
  resizeReplyBuffer(c, s, 100); // peak reset (to 0: nothing pending), no resize yet
  assert.equal(w.bufSize, 16384);
  resizeReplyBuffer(c, s, 150);
  assert.equal(w.bufSize, 1024);
  assert.equal(w.out.length, 1024, 'the memory follows the size');
  assert.equal(s.shrinks, 1);

  s.peakResetTime = -1; // never
  const sizes: number[] = [];
  for (let i = 0; i < 6; i++) {
    reply(w, 32768); // fills the buffer: the peak is its size
    resizeReplyBuffer(c, s, 1000 + i);
    sizes.push(w.bufSize);
  }
  assert.deepEqual(sizes, [2048, 4096, 8192, 16384, 16384, 16384]);
  assert.equal(s.expands, 4);
  assert.equal(w.out.length, 16384, 'a buffer grown for a big reply goes back to the size once flushed');
});

test('a peak under half shrinks to peak + 1 (at least 1 KB); resizing off changes nothing', () => {
  const w = new ReplyWriter();
  const c = w as unknown as Client;
  const s = settings(0);
  resizeReplyBuffer(c, s, 1); // resets the peak to 0
  reply(w, 3000);
  resizeReplyBuffer(c, s, 2);
  assert.equal(w.bufSize, 3001);
  const off = { ...settings(0), resizing: false };
  resizeReplyBuffer(c, off, 3);
  assert.equal(w.bufSize, 3001);
  assert.equal(off.shrinks + off.expands, 0);
});
