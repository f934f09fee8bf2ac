/**
 * Client-side RESP2/RESP3 reply parser for mnemo-cli (the server's parser in src/resp/
 * reads requests, not replies). It keeps the reply model of hiredis, which redis-cli
 * formats from: a map is a flat list of 2n elements, a verbatim string drops its
 * "txt:" prefix, integers keep their 64-bit value.
 *
 * Incremental: `feed()` socket chunks, take complete replies with `next()`. Aggregates in
 * progress are kept on a stack, and a large bulk is filled in its own buffer, so a reply
 * that arrives in many chunks is never re-scanned from its start.
 *
 * Attribute frames (`|`) are read and dropped: hiredis (and so redis-cli 7.0) stops with
 * a protocol error on them, which helps nobody; the reply they annotate is kept.
 * Strings are latin1 (one char per byte).
 */
import { quoteArg } from '../util/splitargs.js';

export type AggregateType = 'array' | 'set' | 'map' | 'push';

export type Reply =
  | { readonly type: 'status'; readonly str: string }
  | { readonly type: 'error'; readonly str: string }
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'double'; readonly str: string }
  | { readonly type: 'bignum'; readonly str: string }
  | { readonly type: 'string'; readonly str: string }
  | { readonly type: 'verbatim'; readonly str: string; readonly format: string }
  | { readonly type: 'nil' }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: AggregateType; readonly elements: Reply[] };

export type AggregateReply = Extract<Reply, { elements: Reply[] }>;

export class ReplyProtocolError extends Error {}

const NIL: Reply = { type: 'nil' };
const EMPTY = Buffer.alloc(0);

interface Frame {
  /** 'attribute' frames are parsed like maps and then discarded. */
  readonly type: AggregateType | 'attribute';
  readonly elements: Reply[];
  remaining: number;
}

export class ReplyParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private stack: Frame[] = [];
  /** A bulk/verbatim/error body being filled across chunks. */
  private big: { kind: number; body: Buffer; filled: number } | null = null;

  feed(chunk: Buffer): void {
    if (this.big) {
      const need = this.big.body.length - this.big.filled;
      const n = Math.min(need, chunk.length);
      chunk.copy(this.big.body, this.big.filled, 0, n);
      this.big.filled += n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length === 0) return;
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  /** Bytes received but not yet consumed (used by --rdb to hand raw bytes over). */
  takeBuffered(): Buffer {
    const rest = this.buf.subarray(this.pos);
    this.buf = EMPTY;
    this.pos = 0;
    return rest;
  }

  /** The next complete reply, or undefined when more bytes are needed. */
  next(): Reply | undefined {
    for (;;) {
      let item: Reply | undefined;
      if (this.big) {
        if (this.big.filled < this.big.body.length) return undefined;
        const { kind, body } = this.big;
        this.big = null;
        item = bulkReply(kind, body.latin1Slice(0, body.length - 2));
      } else {
        const r = this.parseItem();
        if (r === undefined) return undefined;
        if (r === null) continue; // an aggregate header was pushed
        item = r;
      }
      const done = this.complete(item);
      if (done) return done;
    }
  }

  /** Adds a finished item to the open aggregates; returns a finished top-level reply. */
  private complete(item: Reply): Reply | undefined {
    let cur: Reply | null = item;
    while (cur) {
      const top = this.stack[this.stack.length - 1];
      if (!top) return cur;
      top.elements.push(cur);
      top.remaining--;
      if (top.remaining > 0) return undefined;
      this.stack.pop();
      if (top.type === 'attribute') return undefined; // dropped; its reply follows
      cur = { type: top.type, elements: top.elements };
    }
    return undefined;
  }

  private readLine(): string | undefined {
    const end = this.buf.indexOf('\r\n', this.pos, 'latin1');
    if (end < 0) return undefined;
    const line = this.buf.latin1Slice(this.pos + 1, end);
    this.pos = end + 2;
    return line;
  }

  /**
   * Parses one item at pos: a scalar reply, null after pushing an aggregate frame
   * (or finishing an empty one), or undefined when the item is incomplete.
   */
  private parseItem(): Reply | null | undefined {
    if (this.pos >= this.buf.length) return undefined;
    const kind = this.buf[this.pos];
    const start = this.pos;
    switch (kind) {
      case 0x2b /* + */:
      case 0x2d /* - */:
      case 0x3a /* : */:
      case 0x2c /* , */:
      case 0x5f /* _ */:
      case 0x23 /* # */:
      case 0x28 /* ( */: {
        const line = this.readLine();
        if (line === undefined) return undefined;
        return lineReply(kind, line);
      }
      case 0x24 /* $ */:
      case 0x21 /* ! */:
      case 0x3d /* = */: {
        const line = this.readLine();
        if (line === undefined) return undefined;
        const len = parseLength(line, 'Bad bulk string length');
        if (len < 0) {
          if (kind !== 0x24) throw new ReplyProtocolError('Bad bulk string length');
          return NIL;
        }
        const avail = this.buf.length - this.pos;
        if (avail >= len + 2) {
          const s = this.buf.latin1Slice(this.pos, this.pos + len);
          this.pos += len + 2;
          return bulkReply(kind, s);
        }
        if (len + 2 > 64 * 1024) {
          // Fill a dedicated buffer as chunks arrive instead of concatenating.
          const body = Buffer.allocUnsafe(len + 2);
          this.buf.copy(body, 0, this.pos);
          this.big = { kind, body, filled: avail };
          this.buf = EMPTY;
          this.pos = 0;
          return undefined;
        }
        this.pos = start;
        return undefined;
      }
      case 0x2a /* * */:
      case 0x7e /* ~ */:
      case 0x25 /* % */:
      case 0x3e /* > */:
      case 0x7c /* | */: {
        const line = this.readLine();
        if (line === undefined) return undefined;
        const n = parseLength(line, 'Bad multi-bulk length');
        const type: Frame['type'] =
          kind === 0x2a ? 'array' : kind === 0x7e ? 'set' : kind === 0x25 ? 'map' : kind === 0x3e ? 'push' : 'attribute';
        if (n < 0) {
          if (kind !== 0x2a) throw new ReplyProtocolError('Bad multi-bulk length');
          return NIL;
        }
        const count = type === 'map' || type === 'attribute' ? n * 2 : n;
        if (count === 0) {
          if (type === 'attribute') return null;
          return { type, elements: [] };
        }
        this.stack.push({ type, elements: [], remaining: count });
        return null;
      }
      default:
        throw new ReplyProtocolError(`Protocol error, got ${quoteArg(String.fromCharCode(kind))} as reply type byte`);
    }
  }
}

function parseLength(line: string, message: string): number {
  if (!/^-?\d+$/.test(line)) throw new ReplyProtocolError(`Protocol error: ${message}`);
  const n = Number(line);
  if (n < -1) throw new ReplyProtocolError(`Protocol error: ${message}`);
  return n;
}

function lineReply(kind: number, line: string): Reply {
  switch (kind) {
    case 0x2b:
      return { type: 'status', str: line };
    case 0x2d:
      return { type: 'error', str: line };
    case 0x3a:
      if (!/^[-+]?\d+$/.test(line)) throw new ReplyProtocolError('Bad integer value');
      return { type: 'integer', value: BigInt.asIntN(64, BigInt(line)) };
    case 0x2c:
      if (!/^([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]?inf|nan)$/i.test(line)) {
        throw new ReplyProtocolError('Bad double value');
      }
      return { type: 'double', str: line };
    case 0x5f:
      if (line !== '') throw new ReplyProtocolError('Bad nil value');
      return NIL;
    case 0x23:
      if (line !== 't' && line !== 'f') throw new ReplyProtocolError('Bad bool value');
      return { type: 'bool', value: line === 't' };
    default: // '(' big number
      if (!/^[-+]?\d+$/.test(line)) throw new ReplyProtocolError('Bad bignum value');
      return { type: 'bignum', str: line };
  }
}

function bulkReply(kind: number, s: string): Reply {
  if (kind === 0x24) return { type: 'string', str: s };
  if (kind === 0x21) return { type: 'error', str: s };
  if (s.length < 4 || s[3] !== ':') {
    throw new ReplyProtocolError('Verbatim string 4 bytes of content type are missing or incorrectly encoded.');
  }
  return { type: 'verbatim', format: s.slice(0, 3), str: s.slice(4) };
}

export function isAggregate(r: Reply): r is AggregateReply {
  return r.type === 'array' || r.type === 'set' || r.type === 'map' || r.type === 'push';
}

/** Encodes a command as a RESP multibulk request (latin1 arguments). */
export function encodeCommand(argv: readonly string[]): Buffer {
  let head = `*${argv.length}\r\n`;
  const parts: Buffer[] = [];
  let size = 0;
  for (const a of argv) {
    head += `$${a.length}\r\n`;
    const b = Buffer.from(head + a + '\r\n', 'latin1');
    parts.push(b);
    size += b.length;
    head = '';
  }
  if (argv.length === 0) return Buffer.from(head, 'latin1');
  return Buffer.concat(parts, size);
}
