/**
 * Redis 7.0's shared replication buffer: the replication stream as a list of
 * append-only blocks that the backlog and every replica read from, instead of
 * a ring for the backlog plus a copy per replica.
 *
 *  - The backlog is the blocks from the first one on; it is trimmed a whole
 *    block at a time, only while it would still hold `repl-backlog-size`
 *    bytes and only when no replica still needs that block. A slow replica
 *    (or one waiting for its snapshot) therefore makes the backlog outgrow
 *    its size, and a PSYNC can continue from anything still held.
 *  - A replica's share of the buffer (its output memory, which
 *    client-output-buffer-limit replica checks) runs from the block it reads
 *    to the end of the buffer, as getClientOutputBufferMemoryUsage counts it.
 *  - Block sizes follow feedReplicationBuffer: at least 16 KB, at most
 *    repl-backlog-size / 16 (so one huge write does not pin a huge block),
 *    rounded up to the allocator's size class.
 *
 * Offsets are replication offsets of bytes: the first byte of the stream
 * after master_repl_offset N is N + 1 (Redis's block repl_offset).
 */
import { jemallocSize } from '../observability/memory.js';

/** Redis's PROTO_REPLY_CHUNK_BYTES: the smallest block. */
const MIN_BLOCK = 16 * 1024;
/** sizeof(replBufBlock) without its buffer, and of the list node holding it. */
const BLOCK_HEADER = 40;
const LIST_NODE = 24;
/** What each block costs beside its bytes, in a replica's output memory. */
const BLOCK_OVERHEAD = BLOCK_HEADER + LIST_NODE;

interface ReplBlock {
  buf: Buffer;
  used: number;
  /** Offset of its first byte. */
  start: number;
}

export class ReplBuffer {
  private blocks: ReplBlock[] = [];
  /** Index of the first block still held (blocks before it were trimmed). */
  private head = 0;
  /** Offset of the next byte appended (master_repl_offset + 1). */
  end = 1;
  /** Bytes allocated for the blocks (Redis's repl_buffer_mem). */
  mem = 0;

  /** Empties the buffer; the next byte appended has offset `next`. */
  reset(next: number): void {
    this.blocks = [];
    this.head = 0;
    this.end = next;
    this.mem = 0;
  }

  /** Offset of the oldest byte held (repl_backlog_first_byte_offset); `end` when empty. */
  get first(): number {
    return this.head < this.blocks.length ? this.blocks[this.head].start : this.end;
  }

  /** Bytes held (repl_backlog_histlen). */
  get histlen(): number {
    return this.end - this.first;
  }

  /** Appends the bytes; true when a new block was needed (Redis checks output limits then). */
  append(bytes: Buffer, backlogSize: number): boolean {
    let from = 0;
    let added = false;
    const n = bytes.length;
    const last = this.head < this.blocks.length ? this.blocks[this.blocks.length - 1] : null;
    if (last !== null && last.used < last.buf.length) {
      const k = Math.min(n, last.buf.length - last.used);
      bytes.copy(last.buf, last.used, 0, k);
      last.used += k;
      from = k;
    }
    const limit = Math.max(Math.floor(backlogSize / 16), MIN_BLOCK);
    while (from < n) {
      const want = Math.min(Math.max(n - from, MIN_BLOCK), limit);
      const usable = jemallocSize(want + BLOCK_HEADER);
      const block: ReplBlock = { buf: Buffer.allocUnsafe(usable - BLOCK_HEADER), used: 0, start: this.end + from };
      const k = Math.min(n - from, block.buf.length);
      bytes.copy(block.buf, 0, from, from + k);
      block.used = k;
      from += k;
      this.blocks.push(block);
      this.mem += usable + LIST_NODE;
      added = true;
    }
    this.end += n;
    return added;
  }

  /**
   * Redis's incrementalTrimReplicationBacklog: drops first blocks while the
   * rest still holds more than `backlogSize` bytes and no reader needs them
   * (`needed`: the lowest offset a replica has yet to send). One block always stays.
   */
  trim(backlogSize: number, needed: number): void {
    const blocks = this.blocks;
    while (blocks.length - this.head > 1) {
      const b = blocks[this.head];
      if (needed < b.start + b.used) break;
      if (this.histlen - b.buf.length <= backlogSize) break;
      this.mem -= b.buf.length + BLOCK_OVERHEAD;
      blocks[this.head] = undefined as unknown as ReplBlock;
      this.head++;
    }
    // Trimmed slots are compacted away once they are most of the array.
    if (this.head > 64 && this.head * 2 > blocks.length) {
      this.blocks = blocks.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the block holding `offset` (the last block for `end`). */
  private indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.blocks[mid].start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Hands the bytes from `from` to the end to `write`, a block's part at a time (no copy). */
  forEachFrom(from: number, write: (bytes: Buffer) => void): void {
    if (from >= this.end || this.head >= this.blocks.length) return;
    for (let i = this.indexOf(Math.max(from, this.first)); i < this.blocks.length; i++) {
      const b = this.blocks[i];
      const at = Math.max(0, from - b.start);
      if (at < b.used) write(b.buf.subarray(at, b.used));
    }
  }

  /**
   * A reader's share (getClientOutputBufferMemoryUsage of a replica): from the
   * block holding `pos` to the end of the last block, with each block's overhead.
   */
  readerMemory(pos: number): number {
    if (this.head >= this.blocks.length || pos < this.first) return 0;
    const i = this.indexOf(pos);
    const last = this.blocks[this.blocks.length - 1];
    return last.start + last.buf.length - this.blocks[i].start + (this.blocks.length - i) * BLOCK_OVERHEAD;
  }

  /** The last n bytes held (or fewer), for the replica's "Latest backlog" log line. */
  tail(n: number): Buffer {
    const parts: Buffer[] = [];
    this.forEachFrom(Math.max(this.first, this.end - n), (b) => parts.push(b));
    return Buffer.concat(parts);
  }
}
