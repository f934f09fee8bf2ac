/**
 * Redis's lazyfree accounting (lazyfree.c). Redis hands a value whose "free effort"
 * exceeds LAZYFREE_THRESHOLD to a background thread when it is deleted
 * asynchronously (UNLINK, FLUSHALL/FLUSHDB ASYNC, the lazyfree-lazy-* options), and
 * INFO counts those objects: `lazyfree_pending_objects` while queued,
 * `lazyfreed_objects` once freed. Mnemo frees everything through V8's GC, so nothing
 * is ever pending; an object is counted as freed when Redis would have queued it,
 * by the same effort rule.
 */
import type { Server } from './server.js';
import type { Database } from '../db/database.js';
import { isString, type Value } from '../data/values.js';
import { SetValue } from '../data/set.js';
import { ZSetValue } from '../data/zset.js';
import { HashValue } from '../data/hash.js';
import { StreamValue } from '../data/stream.js';
import { isList } from '../data/list.js';
import { quicklistLayout } from '../commands/server.js';

/** Below this effort Redis frees synchronously: fewer allocations are cheaper freed at once. */
export const LAZYFREE_THRESHOLD = 64;

/**
 * Redis's lazyfreeGetFreeEffort: a number proportional to the allocations the value
 * is made of. Lists: quicklist nodes; hash tables and skiplists: their elements;
 * streams: nodes, plus each group and the first group's PEL for every group;
 * anything else (strings, listpack and intset encodings) is one allocation.
 *
 * Deviation: for a stream Redis counts the nodes of its radix tree, which holds
 * one leaf per macro node plus inner nodes; we count the macro nodes (each one
 * allocation, which is what Redis's estimate stands for), so a stream with a
 * few dozen nodes may fall below the threshold here and above it in Redis.
 */
export function freeEffort(server: Server, v: Value): number {
  if (isString(v)) return 1;
  if (isList(v)) {
    // A list of at most THRESHOLD elements has at most THRESHOLD nodes: no need to lay it out.
    if (v.length <= LAZYFREE_THRESHOLD) return v.length;
    return quicklistLayout(server, v).nodes;
  }
  if (v instanceof SetValue) return v.encoding() === 'hashtable' ? v.size : 1;
  if (v instanceof ZSetValue) return v.encoding() === 'skiplist' ? v.size : 1;
  if (v instanceof HashValue) return v.encoding() === 'hashtable' ? v.size : 1;
  if (v instanceof StreamValue) {
    let effort = v.nodes.length;
    if (v.groups.size !== 0) {
      // Redis samples the first group of its radix tree: the least name in byte order.
      let first: string | null = null;
      for (const name of v.groups.keys()) if (first === null || name < first) first = name;
      effort += v.groups.size * (1 + v.groups.get(first!)!.pel.size);
    }
    return effort;
  }
  return 1;
}

/** Redis's freeObjAsync: a value deleted asynchronously, counted when Redis would queue it. */
export function freeValueAsync(server: Server, v: Value | undefined): void {
  if (v !== undefined && freeEffort(server, v) > LAZYFREE_THRESHOLD) server.stats.lazyfreedObjects++;
}

/** Redis's emptyDbAsync: every key of the database goes to the lazyfree thread. */
export function emptyDbAsync(server: Server, db: Database): void {
  server.stats.lazyfreedObjects += db.size;
}

/** Redis's freeLuaScriptsAsync / freeFunctionsAsync: a dictionary of `count` entries. */
export function freeDictAsync(server: Server, count: number): void {
  if (count > LAZYFREE_THRESHOLD) server.stats.lazyfreedObjects += count;
}
