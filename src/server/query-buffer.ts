/**
 * Redis's query buffer, as a size model (CLIENT LIST qbuf-free and tot-mem).
 *
 * Mnemo reads every socket into one shared buffer and keeps only the bytes of
 * an incomplete command (RespParser), so it has no per-client query buffer to
 * measure. What Redis 7.0 reports follows from a few rules, which this applies
 * to each client's reads and cron:
 *
 *  - readQueryFromClient: a read wants 16 KB (PROTO_IOBUF_LEN) of room, or the
 *    rest of a big bulk argument (≥ 32 KB) being read. While the buffer is
 *    smaller than 16 KB, or for a big argument, the room is made exactly
 *    (sdsMakeRoomForNonGreedy); otherwise greedily (twice the length needed,
 *    or 1 MB more past 1 MB). The peak is the longest the buffer got.
 *  - processMultibulkBuffer: a big argument gets a buffer of its exact size;
 *    once read, that buffer becomes the argument and a new one of the same
 *    size replaces it ("we'll likely see another one").
 *  - clientsCronResizeQueryBuffer: when more than 4 KB is free, a client idle
 *    for more than 2 s loses all spare room; otherwise a buffer over 32 KB that
 *    is more than twice its recent peak shrinks to that peak (not below the
 *    unparsed bytes or a bulk being read). The peak then restarts from the
 *    bytes held.
 *
 * An allocation is sds's: the header for the length, jemalloc's size class,
 * and the usable size reported as the room (as Redis's s_malloc_usable), except
 * that the cron's resize sets the size asked for (sdsResize).
 *
 * Reads are Node's (up to 64 KB), not Redis's 16 KB reads interleaved with
 * parsing, so a pipelined burst is taken as one read: the room it makes is the
 * first read's, as the commands it holds would mostly be consumed between
 * Redis's reads.
 */
import { jemallocSize } from '../observability/memory.js';
import type { Client } from './client.js';

const PROTO_IOBUF_LEN = 16 * 1024;
const PROTO_RESIZE_THRESHOLD = 32 * 1024;
const SDS_MAX_PREALLOC = 1024 * 1024;

function sdsHeader(len: number): number {
  if (len < 256) return 3; // sds never grows into type 5
  if (len < 65536) return 5;
  if (len < 2 ** 32) return 9;
  return 17;
}

function sdsTypeMax(len: number): number {
  if (len < 256) return 255;
  if (len < 65536) return 65535;
  if (len < 2 ** 32) return 2 ** 32 - 1;
  return Number.MAX_SAFE_INTEGER;
}

/** The room (sdsalloc) of an sds made for `len` bytes: jemalloc's usable size less the header. */
export function sdsAllocFor(len: number): number {
  const hdr = sdsHeader(len);
  return Math.min(jemallocSize(hdr + len + 1) - hdr - 1, sdsTypeMax(len));
}

/** Grows the modelled buffer for a read of `chunk` bytes on top of the `held` unparsed ones. */
export function queryBufferRead(c: Client, held: number, bigRemaining: number, chunk: number): void {
  let alloc = c.qbufAlloc;
  if (bigRemaining > 0 || alloc < PROTO_IOBUF_LEN) {
    const want = bigRemaining > 0 ? bigRemaining : PROTO_IOBUF_LEN;
    if (alloc - held < want) alloc = sdsAllocFor(held + want);
  } else if (alloc - held < PROTO_IOBUF_LEN) {
    let want = held + PROTO_IOBUF_LEN;
    want = want < SDS_MAX_PREALLOC ? want * 2 : want + SDS_MAX_PREALLOC;
    alloc = sdsAllocFor(want);
  }
  c.qbufAlloc = alloc;
  const len = held + chunk;
  if (len > c.qbufPeak) c.qbufPeak = len;
}

/**
 * A big bulk argument (`size` bytes with its CRLF) was announced or read: Redis sizes the
 * buffer for it, and after reading it starts a new buffer of that size.
 */
export function queryBufferBigArg(c: Client, size: number): void {
  const alloc = sdsAllocFor(size);
  if (alloc > c.qbufAlloc) c.qbufAlloc = alloc;
  if (size > c.qbufPeak) c.qbufPeak = size;
}

/** clientsCronResizeQueryBuffer. `held`: unparsed bytes; `bulk`: length of a bulk being read, or -1. */
export function resizeQueryBuffer(c: Client, held: number, bulk: number, idleSec: number): void {
  const alloc = c.qbufAlloc;
  if (alloc - held > 4 * 1024) {
    if (idleSec > 2) {
      c.qbufAlloc = held;
    } else if (alloc > PROTO_RESIZE_THRESHOLD && alloc / 2 > c.qbufPeak) {
      let size = held;
      if (size < c.qbufPeak) size = c.qbufPeak;
      if (bulk !== -1 && size < bulk) size = bulk;
      c.qbufAlloc = size;
    }
  }
  c.qbufPeak = bulk !== -1 && bulk > held ? bulk : held;
}
