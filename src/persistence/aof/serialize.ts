/**
 * A key as the commands that rebuild it, in the form Redis 7.0's AOF rewrite
 * writes (rewriteAppendOnlyFileRio): SET, RPUSH/SADD/ZADD/HMSET in batches of
 * 64 items, streams as XADD + XSETID + XGROUP CREATE + XCLAIM / XGROUP
 * CREATECONSUMER, then PEXPIREAT for a TTL. Used for AOF-format base files
 * and for the fix-up commands of a rewrite.
 */
import type { CommandBuffer } from './resp.js';
import { stringOf, typeOf, type StringValue, type Value } from '../../data/values.js';
import type { ListValue } from '../../data/list.js';
import type { SetValue } from '../../data/set.js';
import type { HashValue } from '../../data/hash.js';
import type { ZSetValue } from '../../data/zset.js';
import { idToString, MAX_ID, ZERO_ID, type StreamValue, type StreamID } from '../../data/stream.js';
import { formatDouble17g } from '../../util/numbers.js';

/** Items per command when a collection is rewritten (Redis's AOF_REWRITE_ITEMS_PER_CMD). */
export const ITEMS_PER_CMD = 64;

/** Appends the commands that recreate `key` with `value` and expiry (`expireAt` ms, -1 for none). */
export function writeKeyCommands(out: CommandBuffer, key: string, value: Value, expireAt: number): void {
  switch (typeOf(value)) {
    case 'string':
      out.appendCommand(['SET', key, stringOf(value as StringValue)]);
      break;
    case 'list':
      writeList(out, key, value as ListValue);
      break;
    case 'set':
      writeBatched(out, 'SADD', key, (fn) => (value as SetValue).forEach(fn), 1);
      break;
    case 'zset':
      writeBatched(out, 'ZADD', key, (fn) => (value as ZSetValue).forEach((m, s) => fn(formatDouble17g(s), m)), 2);
      break;
    case 'hash':
      writeBatched(out, 'HMSET', key, (fn) => (value as HashValue).forEach((f, v) => fn(f, v)), 2);
      break;
    case 'stream':
      writeStream(out, key, value as StreamValue);
      break;
  }
  if (expireAt !== -1) out.appendCommand(['PEXPIREAT', key, String(expireAt)]);
}

function writeList(out: CommandBuffer, key: string, list: ListValue): void {
  const n = list.length;
  for (let i = 0; i < n; i += ITEMS_PER_CMD) {
    const end = Math.min(n, i + ITEMS_PER_CMD);
    const argv = ['RPUSH', key];
    for (let j = i; j < end; j++) argv.push(list.at(j));
    out.appendCommand(argv);
  }
}

/** Emits `cmd key item...` commands of at most ITEMS_PER_CMD items (an item is `width` arguments). */
function writeBatched(
  out: CommandBuffer,
  cmd: string,
  key: string,
  each: (fn: (a: string, b?: string) => void) => void,
  width: 1 | 2,
): void {
  let argv: string[] = [cmd, key];
  let items = 0;
  each((a, b) => {
    argv.push(a);
    if (width === 2) argv.push(b!);
    if (++items === ITEMS_PER_CMD) {
      out.appendCommand(argv);
      argv = [cmd, key];
      items = 0;
    }
  });
  if (items > 0) out.appendCommand(argv);
}

function idStr(id: StreamID): string {
  return idToString(id);
}

function writeStream(out: CommandBuffer, key: string, s: StreamValue): void {
  if (s.length > 0) {
    s.range(ZERO_ID, MAX_ID, 0, false, (node, i) => {
      out.appendCommand(['XADD', key, idStr(node.idAt(i)), ...node.fieldsAt(i)]);
    });
  } else {
    // An empty stream is created by adding an entry and trimming it away at once.
    out.appendCommand(['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y']);
  }
  // XSETID restores the last ID (entries may have been deleted) and the counters.
  out.appendCommand(['XSETID', key, idStr(s.lastId), 'ENTRIESADDED', String(s.entriesAdded), 'MAXDELETEDID', idStr(s.maxDeletedId)]);
  for (const g of s.sortedGroups()) {
    out.appendCommand(['XGROUP', 'CREATE', key, g.name, idStr(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
    for (const c of g.sortedConsumers()) {
      if (c.pel.size === 0) {
        out.appendCommand(['XGROUP', 'CREATECONSUMER', key, g.name, c.name]);
        continue;
      }
      for (let i = c.pel.first(); i >= 0; i = c.pel.next(i)) {
        const nack = c.pel.valAt(i);
        out.appendCommand([
          'XCLAIM', key, g.name, c.name, '0', idStr(c.pel.idAt(i)),
          'TIME', String(nack.deliveryTime), 'RETRYCOUNT', String(nack.deliveryCount), 'JUSTID', 'FORCE',
        ]);
      }
    }
  }
}
