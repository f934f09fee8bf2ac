/**
 * Reply buffer resizing, as Redis's clientsCronResizeOutputBuffer: each client's
 * reply buffer (ReplyWriter.bufSize, CLIENT LIST rbs) shrinks to what its peak use
 * needs when that peak stays under half of it, and doubles (up to 16 KB) when the
 * peak filled it. The peak is reset every `replyBufferPeakResetTime` ms (DEBUG
 * REPLYBUFFER PEAK-RESET-TIME, default 5 s), so an idle client shrinks to 1 KB.
 * The buffer's memory follows its new size as soon as it holds nothing unsent.
 */
import { REPLY_BUFFER_MAX, REPLY_BUFFER_MIN } from '../resp/writer.js';
import type { Client } from './client.js';
import { resizeQueryBuffer } from './query-buffer.js';
import type { Server } from './server.js';

/** Redis's REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME. */
export const REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME = 5000;

export interface ReplyBufferSettings {
  /** ms between peak resets; -1: never. */
  peakResetTime: number;
  /** DEBUG REPLYBUFFER RESIZING 0 turns resizing off. */
  resizing: boolean;
  shrinks: number;
  expands: number;
}

export function resizeReplyBuffer(c: Client, settings: ReplyBufferSettings, now: number): void {
  if (!settings.resizing) return;
  const size = c.bufSize;
  let next = 0;
  if (size / 2 >= REPLY_BUFFER_MIN && c.bufPeak < size / 2) {
    next = Math.max(REPLY_BUFFER_MIN, c.bufPeak + 1);
    settings.shrinks++;
  } else if (size * 2 < REPLY_BUFFER_MAX * 2 && c.bufPeak === size) {
    next = Math.min(REPLY_BUFFER_MAX, size * 2);
    settings.expands++;
  }
  if (settings.peakResetTime >= 0 && now - c.bufPeakResetAt >= settings.peakResetTime) {
    c.bufPeak = c.len < c.bufSize ? c.len : c.bufSize;
    c.bufPeakResetAt = now;
  }
  if (next !== 0) c.bufSize = next;
  // The memory follows the size once nothing is pending (a big batch may have grown it too).
  if (c.len === 0 && c.out.length !== c.bufSize) c.out = Buffer.allocUnsafe(c.bufSize);
}

/**
 * Visits the clients as Redis's clientsCron does: each tick a share of them
 * (all of them once a second, at least 5 per tick), in rotation.
 */
export class ReplyBufferCron {
  private queue: Client[] = [];
  private at = 0;

  constructor(private readonly server: Server) {}

  run(settings: ReplyBufferSettings): void {
    const clients = this.server.clients;
    const n = clients.size;
    if (n === 0) return;
    let iterations = Math.floor(n / this.server.hz);
    if (iterations < 5) iterations = Math.min(n, 5);
    const now = this.server.clock.now();
    while (iterations-- > 0) {
      if (this.at >= this.queue.length) {
        this.queue = Array.from(clients.values());
        this.at = 0;
      }
      const c = this.queue[this.at];
      this.queue[this.at++] = undefined as unknown as Client;
      if (c.closed) continue;
      resizeReplyBuffer(c, settings, now);
      // Redis's clientsCronResizeQueryBuffer (idle time in whole seconds, as server.unixtime).
      resizeQueryBuffer(c, c.parser.pendingBytes, c.parser.bulkPending, Math.floor(now / 1000) - Math.floor(c.lastInteraction / 1000));
    }
  }
}
