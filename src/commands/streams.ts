/**
 * Stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD,
 * the consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
 * XAUTOCLAIM) and XINFO.
 *
 * Check order, error texts, replies and effects follow Redis 7.0's
 * t_stream.c, checked against redis-server 7.0.15: options are parsed before
 * the key is looked up where Redis does so, so the same error wins and an
 * error changes nothing.
 *
 * Propagation, as Redis does it: XADD goes out with the ID it generated and
 * `~` trimming rewritten as `=` with the resulting length or first ID; a
 * consumer-group delivery (XREADGROUP, XCLAIM, XAUTOCLAIM) goes out as one
 * `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id`
 * per entry; a NOACK read, which leaves no pending entry to claim, goes out as
 * `XGROUP SETID ... ENTRIESREAD n` (after `XGROUP CREATECONSUMER` for a new
 * consumer). History reads propagate nothing.
 *
 * Blocking (XREAD/XREADGROUP BLOCK): a client that finds nothing is parked
 * with server.blocking.block(); XADD signals the key and `serve` replies with
 * what arrived after the IDs it waits for (a `$` is resolved at call time).
 * XREADGROUP waiters are also woken, with Redis's errors, when their group is
 * destroyed or the key is deleted or overwritten: see watchDeletedKeys().
 */
import { optIs } from './strings.js';
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Database } from '../db/database.js';
import type { Server } from '../server/server.js';
import {
  StreamValue,
  StreamNode,
  ConsumerGroup,
  Consumer,
  PendingEntry,
  isStream,
  parseStreamId,
  idToString,
  incrId,
  decrId,
  cmpId,
  isMaxId,
  isZeroId,
  cstr,
  ZERO_ID,
  MAX_ID,
  U64_MAX,
  INVALID_ENTRIES_READ,
  STREAM_LISTPACK_MAX_SIZE,
  type StreamID,
  type TrimArgs,
} from '../data/stream.js';
import { parseInt64 } from '../util/numbers.js';
import { typeOf } from '../data/values.js';
import { WRONGTYPE, ERR_SYNTAX, ERR_NOT_INT } from './errors.js';

const ERR_INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';
const ERR_START_ID = 'ERR invalid start ID for the interval';
const ERR_END_ID = 'ERR invalid end ID for the interval';
const ERR_NO_SUCH_KEY = 'ERR no such key';
const ERR_XADD_ZERO = 'ERR The ID specified in XADD must be greater than 0-0';
const ERR_XADD_SMALLER = 'ERR The ID specified in XADD is equal or smaller than the target stream top item';
const ERR_XADD_EXHAUSTED = 'ERR The stream has exhausted the last possible ID, unable to add more items';
const ERR_TOO_LARGE = 'ERR Elements are too large to be stored';
const ERR_TRIM_BOTH = 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible';
const ERR_MAXLEN_NEGATIVE = 'ERR The MAXLEN argument must be >= 0.';
const ERR_LIMIT_NEGATIVE = 'ERR The LIMIT argument must be >= 0.';
const ERR_LIMIT_NO_STRATEGY = 'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy';
const ERR_XTRIM_NO_STRATEGY = 'ERR syntax error, XTRIM must be called with a trimming strategy';
const ERR_LIMIT_NO_APPROX = 'ERR syntax error, LIMIT cannot be used without the special ~ option';
const ERR_TIMEOUT_NOT_INT = 'ERR timeout is not an integer or out of range';
const ERR_TIMEOUT_NEGATIVE = 'ERR timeout is negative';
const ERR_UNBALANCED = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
const ERR_GROUP_XREAD = 'ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.';
const ERR_NOACK_XREAD = 'ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.';
const ERR_MISSING_GROUP = 'ERR Missing GROUP option for XREADGROUP';
const ERR_DOLLAR_GROUP =
  'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.';
const ERR_GT_XREAD = 'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.';
const ERR_KEY_REQUIRED =
  'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.';
const ERR_BUSYGROUP = 'BUSYGROUP Consumer Group name already exists';
const ERR_ENTRIESREAD = 'ERR value for ENTRIESREAD must be positive or -1';
const ERR_ENTRIES_ADDED_NEGATIVE = 'ERR entries_added must be positive';
const ERR_SETID_MAXDEL = 'ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id';
const ERR_SETID_SMALLER = 'ERR The ID specified in XSETID is smaller than the target stream top item';
const ERR_SETID_ENTRIES_ADDED = 'ERR The entries_added specified in XSETID is smaller than the target stream length';
const ERR_UNBLOCKED_DELETED = 'UNBLOCKED the stream key no longer exists';
const ERR_NOGROUP_BLOCKED = 'NOGROUP the consumer group this client was blocked on no longer exists';
const ERR_COUNT_POSITIVE = 'ERR COUNT must be > 0';

/** XREAD BLOCK without COUNT serves at most this many entries (XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_DEFAULT_COUNT = 1000;
/** XAUTOCLAIM COUNT upper bound: LONG_MAX / max(sizeof(streamID), attempts factor). */
const XAUTOCLAIM_MAX_COUNT_EXACT = 576460752303423487n;
const XAUTOCLAIM_MAX_COUNT = Number(XAUTOCLAIM_MAX_COUNT_EXACT);
/**
 * Redis allocates COUNT stream IDs up front and fails when malloc does; where
 * that happens depends on the machine (64 TiB still succeeds on x86-64 Linux
 * with overcommit, ~112 TiB does not). We fail above 2^42 IDs (64 TiB).
 */
const XAUTOCLAIM_ALLOC_LIMIT = 2 ** 42;
const ERR_COUNT_TOO_HIGH = 'ERR Insufficient memory, failed allocating transient memory, COUNT too high.';
const XAUTOCLAIM_ATTEMPTS_FACTOR = 10;
const LLONG_MAX = 9223372036854775807;

// ---- shared helpers ------------------------------------------------------------------

/** The value at a key as a stream: undefined when missing, null after replying WRONGTYPE. */
function asStream(c: Client, v: unknown): StreamValue | undefined | null {
  if (v === undefined) return undefined;
  if (!isStream(v)) {
    c.addError(WRONGTYPE);
    return null;
  }
  return v;
}

function addId(c: Client, id: StreamID): void {
  c.addBulk(idToString(id));
}

/** The time Redis's mstime() would give. */
function now(c: Client): number {
  return c.server.clock.now();
}

function notify(c: Client, event: string, key: string, db: Database): void {
  c.server.notifier.notify('t', event, key, db.id);
}

/**
 * Writes entries as `[id, [field, value, ...]]` arrays, each string framed straight into
 * the reply buffer (cheaper than joining the frames into a string first).
 */
class EntryWriter {
  constructor(private c: Client) {}

  entry(node: StreamNode, i: number, id = idToString(node.idAt(i))): void {
    this.fields(id, node.fieldsAt(i));
  }

  fields(id: string, fv: string[]): void {
    const c = this.c;
    c.addArrayLen(2);
    c.addBulk(id);
    c.addArrayLen(fv.length);
    for (let k = 0; k < fv.length; k++) c.addBulk(fv[k]);
  }

  /** Nothing is held back any more; kept so callers mark where a reply's entries end. */
  flush(): void {}
}

/**
 * Replies the entries of [start, end] (end null = open), at most `count`
 * (0 = all), as an array. With a `delivery`, each entry is delivered to a
 * consumer of a group as it is sent (streamReplyWithRange with a group).
 */
function replyRange(
  c: Client,
  s: StreamValue,
  start: StreamID,
  end: StreamID | null,
  count: number,
  rev: boolean,
  delivery: Delivery | null,
): number {
  const nodes: StreamNode[] = [];
  const entries: number[] = [];
  s.range(start, end ?? MAX_ID, count, rev, (node, i) => {
    nodes.push(node);
    entries.push(i);
  });
  c.addArrayLen(nodes.length);
  const w = new EntryWriter(c);
  for (let k = 0; k < nodes.length; k++) {
    const node = nodes[k];
    const id = node.idAt(entries[k]);
    if (delivery !== null) delivery.deliver(s, id);
    w.entry(node, entries[k], idToString(id));
  }
  w.flush();
  if (delivery !== null) delivery.finish();
  return nodes.length;
}

/** Replies one entry as `[id, [fields]]`, or returns false when it does not exist. */
function replyOneEntry(c: Client, s: StreamValue, id: StreamID): boolean {
  const p = s.seekGE(id);
  if (p === null || cmpId(s.idAt(p), id) !== 0) return false;
  const w = new EntryWriter(c);
  w.entry(s.nodes[p.node], p.entry);
  w.flush();
  return true;
}

/**
 * Interval bound of XRANGE/XPENDING/XAUTOCLAIM (streamParseIntervalIDOrReply):
 * "(id" is exclusive and parsed strictly, else "-"/"+" are allowed.
 */
function parseIntervalId(arg: string, missingSeq: number | bigint): { id: StreamID; exclusive: boolean } | null {
  const exclusive = arg.length > 1 && arg.charCodeAt(0) === 40;
  const p = exclusive ? parseStreamId(arg.slice(1), missingSeq, true) : parseStreamId(arg, missingSeq, false);
  return p === null ? null : { id: p.id, exclusive };
}

/**
 * Parses a range bound; an exclusive "(" bound moves one ID inwards (up for a
 * start, down for an end). Replies and returns null on error.
 */
function parseRangeBound(c: Client, arg: string, isStart: boolean): StreamID | null {
  const r = parseIntervalId(arg, isStart ? 0 : U64_MAX);
  if (r === null) {
    c.addError(ERR_INVALID_ID);
    return null;
  }
  if (!r.exclusive) return r.id;
  const id = isStart ? incrId(r.id) : decrId(r.id);
  if (id === null) c.addError(isStart ? ERR_START_ID : ERR_END_ID);
  return id;
}

function parseRangeStart(c: Client, arg: string): StreamID | null {
  return parseRangeBound(c, arg, true);
}

function parseRangeEnd(c: Client, arg: string): StreamID | null {
  return parseRangeBound(c, arg, false);
}

/** streamParseStrictIDOrReply with missing seq 0; replies on error. */
function parseStrictId(c: Client, arg: string): StreamID | null {
  const p = parseStreamId(arg, 0, true);
  if (p === null) {
    c.addError(ERR_INVALID_ID);
    return null;
  }
  return p.id;
}

/** getLongLongFromObjectOrReply with a custom message (or the default one). */
function parseLongLong(c: Client, arg: string, msg = ERR_NOT_INT): number | null {
  const n = parseInt64(arg);
  if (n === null) c.addError(msg);
  return n;
}

/** Like parseLongLong but exact beyond 2^53 (for counters shown back to the user). */
function parseExactLongLong(c: Client, arg: string): number | bigint | null {
  const n = parseInt64(arg);
  if (n === null) {
    c.addError(ERR_NOT_INT);
    return null;
  }
  if (Number.isSafeInteger(n)) return n;
  return BigInt(arg);
}

// ---- propagation -------------------------------------------------------------------------

/**
 * Commands a call must propagate instead of its own argv: the last one goes
 * through c.propagateAs (the dispatcher sends it when dirty changed), the
 * others straight to the server, in order. Outside a command (a served
 * blocked client) every one goes to the server.
 */
class Propagation {
  private list: string[][] = [];
  add(argv: string[]): void {
    this.list.push(argv);
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
  /** Emits the commands; `inCall` when the dispatcher will propagate the last one. */
  emit(c: Client, db: Database, inCall: boolean): void {
    const n = this.list.length;
    for (let i = 0; i < n; i++) {
      if (inCall && i === n - 1) c.propagateAs = this.list[i];
      else c.server.propagate(db.id, this.list[i]);
    }
    this.list = [];
  }
}

/** streamPropagateXCLAIM: the idempotent XCLAIM that reproduces a delivery on replicas. */
function xclaimArgv(key: string, group: ConsumerGroup, groupName: string, id: string, nack: PendingEntry): string[] {
  return [
    'XCLAIM', key, groupName, nack.consumer!.name, '0', id,
    'TIME', String(nack.deliveryTime), 'RETRYCOUNT', String(nack.deliveryCount),
    'FORCE', 'JUSTID', 'LASTID', idToString(group.lastId),
  ];
}

function setIdArgv(key: string, group: ConsumerGroup, groupName: string): string[] {
  return ['XGROUP', 'SETID', key, groupName, idToString(group.lastId), 'ENTRIESREAD', String(group.entriesRead)];
}

/** Records consumer-group deliveries made while replying a range (streamReplyWithRange with a group). */
class Delivery {
  private movedGroup = false;
  constructor(
    private c: Client,
    private key: string,
    private group: ConsumerGroup,
    private consumer: Consumer,
    private noack: boolean,
    private prop: Propagation,
  ) {}

  deliver(s: StreamValue, id: StreamID): void {
    const group = this.group;
    if (cmpId(id, group.lastId) > 0) {
      s.advanceGroup(group, id);
      // Without NOACK the XCLAIMs carry the new last ID (LASTID): no SETID needed.
      if (this.noack) this.movedGroup = true;
    }
    if (this.noack) return;
    const t = now(this.c);
    let nack = group.pel.get(id);
    if (nack === undefined) {
      nack = new PendingEntry(this.consumer, t, 1);
      group.pel.set(id, nack);
      this.consumer.pel.set(id, nack);
    } else {
      // Already pending (the group was moved back with SETID): it changes hands.
      nack.consumer?.pel.delete(id);
      nack.consumer = this.consumer;
      nack.deliveryTime = t;
      nack.deliveryCount = 1;
      this.consumer.pel.set(id, nack);
    }
    this.prop.add(xclaimArgv(this.key, group, this.group.name, idToString(id), nack));
  }

  finish(): void {
    if (this.movedGroup) this.prop.add(setIdArgv(this.key, this.group, this.group.name));
    this.movedGroup = false;
  }
}

// ---- XADD / XTRIM argument parsing ---------------------------------------------------------

interface AddTrimArgs {
  trim: TrimArgs | null;
  /** Index of the MAXLEN/MINID threshold argument. */
  trimArgIdx: number;
  nomkstream: boolean;
  idGiven: boolean;
  seqGiven: boolean;
  id: StreamID;
  /** Index of the ID argument (XADD). */
  idPos: number;
}

/** streamParseAddOrTrimArgsOrReply; replies and returns null on error. */
function parseAddTrimArgs(c: Client, argv: string[], xadd: boolean): AddTrimArgs | null {
  let strategy: 'none' | 'maxlen' | 'minid' = 'none';
  let approx = false;
  let maxlen = -1;
  let minid: StreamID = ZERO_ID;
  let limit = 0;
  let limitGiven = false;
  let trimArgIdx = 0;
  let nomkstream = false;
  let idGiven = false;
  let seqGiven = true;
  let id: StreamID = ZERO_ID;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i];
    if (xadd && opt.charCodeAt(0) === 42 /* * */ && (opt.length === 1 || opt.charCodeAt(1) === 0)) {
      break;
    } else if ((optIs(opt, 'maxlen') || optIs(opt, 'minid')) && more > 0) {
      const isMaxlen = optIs(opt, 'maxlen');
      if (strategy !== 'none') {
        c.addError(ERR_TRIM_BOTH);
        return null;
      }
      approx = false;
      const next = cstr(argv[i + 1]);
      if (more >= 2 && next === '~') {
        approx = true;
        i++;
      } else if (more >= 2 && next === '=') {
        i++;
      }
      if (isMaxlen) {
        const n = parseLongLong(c, argv[i + 1]);
        if (n === null) return null;
        if (n < 0) {
          c.addError(ERR_MAXLEN_NEGATIVE);
          return null;
        }
        maxlen = n;
        strategy = 'maxlen';
      } else {
        const m = parseStrictId(c, argv[i + 1]);
        if (m === null) return null;
        minid = m;
        strategy = 'minid';
      }
      i++;
      trimArgIdx = i;
    } else if (optIs(opt, 'limit') && more > 0) {
      const n = parseLongLong(c, argv[i + 1]);
      if (n === null) return null;
      if (n < 0) {
        c.addError(ERR_LIMIT_NEGATIVE);
        return null;
      }
      limit = n;
      limitGiven = true;
      i++;
    } else if (xadd && optIs(opt, 'nomkstream')) {
      nomkstream = true;
    } else if (xadd) {
      const p = parseStreamId(opt, 0, true, true);
      if (p === null) {
        c.addError(ERR_INVALID_ID);
        return null;
      }
      id = p.id;
      seqGiven = p.seqGiven;
      idGiven = true;
      break;
    } else {
      c.addError(ERR_SYNTAX);
      return null;
    }
  }
  if (limit !== 0 && strategy === 'none') {
    c.addError(ERR_LIMIT_NO_STRATEGY);
    return null;
  }
  if (!xadd && strategy === 'none') {
    c.addError(ERR_XTRIM_NO_STRATEGY);
    return null;
  }
  if (c.isMaster || c.aofLoader) {
    // Our master's stream and the AOF are obeyed as is (mustObeyClient): their trim argument
    // was rewritten to the exact result, so no LIMIT applies (and LIMIT with = is accepted).
    limit = 0;
  } else if (limitGiven) {
    if (!approx) {
      c.addError(ERR_LIMIT_NO_APPROX);
      return null;
    }
  } else if (approx) {
    // Without LIMIT, approximate trimming does at most 100 nodes' worth of work.
    limit = 100 * c.server.config.streamNodeMaxEntries;
    if (limit <= 0 || limit > 1000000) limit = 10000;
  } else {
    limit = 0;
  }
  const trim: TrimArgs | null = strategy === 'none' ? null : { strategy, maxlen, minid, approx, limit };
  return { trim, trimArgIdx, nomkstream, idGiven, seqGiven, id, idPos: i };
}

/**
 * After an approximate trim, the argv to propagate says exactly what was kept
 * (`=` and the resulting length or first ID), so replicas trim the same.
 */
function rewriteApproxTrim(out: string[], args: AddTrimArgs, s: StreamValue): void {
  const t = args.trim!;
  out[args.trimArgIdx - 1] = '=';
  out[args.trimArgIdx] = t.strategy === 'maxlen' ? String(s.length) : idToString(s.firstStoredId());
}

// ---- XADD, XTRIM, XRANGE, XLEN, XDEL, XSETID -------------------------------------------------

function xadd(c: Client, argv: string[]): void {
  const args = parseAddTrimArgs(c, argv, true);
  if (args === null) return;
  const fieldPos = args.idPos + 1;
  const nfv = argv.length - fieldPos;
  if (nfv < 2 || nfv % 2 === 1) {
    c.addError("ERR wrong number of arguments for 'xadd' command");
    return;
  }
  if (args.idGiven && args.seqGiven && isZeroId(args.id)) {
    c.addError(ERR_XADD_ZERO);
    return;
  }
  const db = c.db;
  const key = argv[1];
  let s = asStream(c, db.lookupWrite(key));
  if (s === null) return;
  if (s === undefined) {
    if (args.nomkstream) {
      c.addNull();
      return;
    }
    s = new StreamValue();
    db.set(key, s);
  }
  if (isMaxId(s.lastId)) {
    c.addError(ERR_XADD_EXHAUSTED);
    return;
  }
  const id = s.nextId(now(c), args.idGiven ? args.id : null, args.seqGiven);
  if (id === null || id === 'overflow') {
    c.addError(id === null ? ERR_XADD_SMALLER : ERR_TOO_LARGE);
    return;
  }
  let totelelen = 0;
  for (let k = fieldPos; k < argv.length; k++) totelelen += argv[k].length;
  if (totelelen > STREAM_LISTPACK_MAX_SIZE) {
    c.addError(ERR_TOO_LARGE);
    return;
  }
  const cfg = c.server.config;
  s.append(id, argv, fieldPos, nfv / 2, cfg.streamNodeMaxBytes, cfg.streamNodeMaxEntries);
  const idText = idToString(id);
  c.addBulk(idText);
  db.signalModified(key);
  notify(c, 'xadd', key, db);
  c.server.dirty++;
  let out: string[] | null = null;
  if (args.trim !== null) {
    if (s.trim(args.trim) > 0) notify(c, 'xtrim', key, db);
    if (args.trim.approx) {
      out = argv.slice();
      rewriteApproxTrim(out, args, s);
    }
  }
  if (!args.idGiven || !args.seqGiven) {
    out ??= argv.slice();
    out[args.idPos] = idText;
  }
  if (out !== null) c.propagateAs = out;
  db.signalReady(key);
}

function xtrim(c: Client, argv: string[]): void {
  const args = parseAddTrimArgs(c, argv, false);
  if (args === null) return;
  const db = c.db;
  const key = argv[1];
  const s = asStream(c, db.lookupWrite(key));
  if (s === null) return;
  if (s === undefined) {
    c.addInt(0);
    return;
  }
  const deleted = s.trim(args.trim!);
  if (deleted > 0) {
    notify(c, 'xtrim', key, db);
    if (args.trim!.approx) {
      const out = argv.slice();
      rewriteApproxTrim(out, args, s);
      c.propagateAs = out;
    }
    db.signalModified(key);
    c.server.dirty += deleted;
  }
  c.addInt(deleted);
}

function xrangeGeneric(rev: boolean) {
  return (c: Client, argv: string[]): void => {
    const start = parseRangeStart(c, rev ? argv[3] : argv[2]);
    if (start === null) return;
    const end = parseRangeEnd(c, rev ? argv[2] : argv[3]);
    if (end === null) return;
    let count = -1;
    for (let j = 4; j < argv.length; j++) {
      if (optIs(argv[j], 'count') && argv.length - j - 1 >= 1) {
        const n = parseLongLong(c, argv[j + 1]);
        if (n === null) return;
        count = n < 0 ? 0 : n;
        j++;
      } else {
        c.addError(ERR_SYNTAX);
        return;
      }
    }
    const s = asStream(c, c.db.lookupRead(argv[1]));
    if (s === null) return;
    if (s === undefined) {
      c.addEmptyArray();
      return;
    }
    if (count === 0) {
      c.addNullArray();
      return;
    }
    replyRange(c, s, start, end, count === -1 ? 0 : count, rev, null);
  };
}

function xlen(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookupRead(argv[1]));
  if (s === null) return;
  c.addInt(s === undefined ? 0 : s.length);
}

function xdel(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  const s = asStream(c, db.lookupWrite(key));
  if (s === null) return;
  if (s === undefined) {
    c.addInt(0);
    return;
  }
  const ids: StreamID[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = parseStrictId(c, argv[j]);
    if (id === null) return;
    ids.push(id);
  }
  let deleted = 0;
  for (const id of ids) if (s.delete(id)) deleted++;
  if (deleted > 0) {
    db.signalModified(key);
    notify(c, 'xdel', key, db);
    c.server.dirty += deleted;
  }
  c.addInt(deleted);
}

function xsetid(c: Client, argv: string[]): void {
  const id = parseStrictId(c, argv[2]);
  if (id === null) return;
  let entriesAdded: number | bigint = -1;
  let maxDeleted: StreamID = ZERO_ID;
  for (let i = 3; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    if (optIs(argv[i], 'entriesadded') && more > 0) {
      const n = parseExactLongLong(c, argv[i + 1]);
      if (n === null) return;
      if (n < 0) {
        c.addError(ERR_ENTRIES_ADDED_NEGATIVE);
        return;
      }
      entriesAdded = n;
      i++;
    } else if (optIs(argv[i], 'maxdeletedid') && more > 0) {
      const m = parseStrictId(c, argv[i + 1]);
      if (m === null) return;
      if (cmpId(id, m) < 0) {
        c.addError(ERR_SETID_MAXDEL);
        return;
      }
      maxDeleted = m;
      i++;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  const db = c.db;
  const key = argv[1];
  const s = asStream(c, db.lookupWrite(key));
  if (s === null) return;
  if (s === undefined) {
    c.addError(ERR_NO_SUCH_KEY);
    return;
  }
  if (s.length > 0) {
    if (cmpId(id, s.lastValidId()) < 0) {
      c.addError(ERR_SETID_SMALLER);
      return;
    }
    if (entriesAdded !== -1 && s.length > entriesAdded) {
      c.addError(ERR_SETID_ENTRIES_ADDED);
      return;
    }
  }
  s.lastId = id;
  if (entriesAdded !== -1) s.entriesAdded = entriesAdded;
  if (!isZeroId(maxDeleted)) s.maxDeletedId = maxDeleted;
  c.addOK();
  db.signalModified(key);
  notify(c, 'xsetid', key, db);
  c.server.dirty++;
}

// ---- consumers ------------------------------------------------------------------------------

/** streamLookupConsumer: refreshes the seen time unless `refresh` is false. */
function lookupConsumer(c: Client, group: ConsumerGroup, name: string, refresh = true): Consumer | undefined {
  const consumer = group.consumers.get(name);
  if (consumer !== undefined && refresh) consumer.seenTime = now(c);
  return consumer;
}

/** streamCreateConsumer: null when it exists; counts as a change and notifies. */
function createConsumer(c: Client, group: ConsumerGroup, name: string, key: string, db: Database): Consumer | null {
  if (group.consumers.has(name)) return null;
  const consumer = new Consumer(name, now(c));
  group.consumers.set(name, consumer);
  c.server.dirty++;
  notify(c, 'xgroup-createconsumer', key, db);
  return consumer;
}

function lookupOrCreateConsumer(c: Client, group: ConsumerGroup, name: string, key: string, db: Database): Consumer {
  return lookupConsumer(c, group, name) ?? createConsumer(c, group, name, key, db)!;
}

// ---- XREAD / XREADGROUP ------------------------------------------------------------------------

interface ReadArgs {
  keys: string[];
  /** Per key: entries must be greater than this ID (MAX-MAX means ">"). */
  ids: StreamID[];
  groups: ConsumerGroup[] | null;
  groupName: string;
  consumerName: string;
  count: number;
  /** -1 without BLOCK, else ms (0 = forever). */
  timeout: number;
  noack: boolean;
}

function parseReadArgs(c: Client, argv: string[], group: boolean): ReadArgs | null {
  let timeout = -1;
  let count = 0;
  let streamsArg = 0;
  let streamsCount = 0;
  let groupName: string | null = null;
  let consumerName = '';
  let noack = false;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = argv[i];
    if (optIs(o, 'block') && more > 0) {
      if (c.inScript) {
        c.addError(`ERR ${cstr(argv[0])} command is not allowed with BLOCK option from scripts`);
        return null;
      }
      i++;
      const t = parseInt64(argv[i]);
      if (t === null) {
        c.addError(ERR_TIMEOUT_NOT_INT);
        return null;
      }
      if (t < 0) {
        c.addError(ERR_TIMEOUT_NEGATIVE);
        return null;
      }
      timeout = t;
    } else if (optIs(o, 'count') && more > 0) {
      i++;
      const n = parseLongLong(c, argv[i]);
      if (n === null) return null;
      count = n < 0 ? 0 : n;
    } else if (optIs(o, 'streams') && more > 0) {
      streamsArg = i + 1;
      streamsCount = argv.length - streamsArg;
      if (streamsCount % 2 !== 0) {
        c.addError(ERR_UNBALANCED);
        return null;
      }
      streamsCount /= 2;
      break;
    } else if (optIs(o, 'group') && more >= 2) {
      if (!group) {
        c.addError(ERR_GROUP_XREAD);
        return null;
      }
      groupName = argv[i + 1];
      consumerName = argv[i + 2];
      i += 2;
    } else if (optIs(o, 'noack')) {
      if (!group) {
        c.addError(ERR_NOACK_XREAD);
        return null;
      }
      noack = true;
    } else {
      c.addError(ERR_SYNTAX);
      return null;
    }
  }
  if (streamsArg === 0) {
    c.addError(ERR_SYNTAX);
    return null;
  }
  if (group && groupName === null) {
    c.addError(ERR_MISSING_GROUP);
    return null;
  }
  const db = c.db;
  const keys = argv.slice(streamsArg, streamsArg + streamsCount);
  const ids: StreamID[] = [];
  const groups: ConsumerGroup[] | null = groupName !== null ? [] : null;
  for (let k = 0; k < streamsCount; k++) {
    const key = keys[k];
    const s = asStream(c, db.lookupRead(key));
    if (groups !== null) db.willModify(key); // group reads change the PEL: snapshot barrier
    if (s === null) return null;
    if (groups !== null) {
      const g = s?.groups.get(groupName!);
      if (g === undefined) {
        c.addError(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(groupName!)}' in XREADGROUP with GROUP option`);
        return null;
      }
      groups.push(g);
    }
    const arg = cstr(argv[streamsArg + streamsCount + k]);
    if (arg === '$') {
      if (group) {
        c.addError(ERR_DOLLAR_GROUP);
        return null;
      }
      ids.push(s !== undefined ? s.lastId : ZERO_ID);
      continue;
    }
    if (arg === '>') {
      if (!group) {
        c.addError(ERR_GT_XREAD);
        return null;
      }
      ids.push(MAX_ID);
      continue;
    }
    const id = parseStrictId(c, argv[streamsArg + streamsCount + k]);
    if (id === null) return null;
    ids.push(id);
  }
  return { keys, ids, groups, groupName: groupName ?? '', consumerName, count, timeout, noack };
}

/**
 * Serves one stream of an XREADGROUP: `>` delivers new entries after the
 * group's last ID, any other ID replays the consumer's own pending history.
 */
function serveGroupStream(
  c: Client,
  key: string,
  s: StreamValue,
  group: ConsumerGroup,
  consumer: Consumer,
  start: StreamID,
  count: number,
  history: boolean,
  noack: boolean,
  prop: Propagation,
): void {
  if (history) {
    replyConsumerHistory(c, s, consumer, start, count);
    return;
  }
  replyRange(c, s, start, null, count, false, new Delivery(c, key, group, consumer, noack, prop));
}

/** streamReplyWithRangeFromConsumerPEL: the consumer's pending entries from `start`. */
function replyConsumerHistory(c: Client, s: StreamValue, consumer: Consumer, start: StreamID, count: number): void {
  const items: Array<[StreamID, PendingEntry]> = [];
  for (let i = consumer.pel.seek(start); i >= 0 && (count === 0 || items.length < count); i = consumer.pel.next(i)) {
    items.push([consumer.pel.idAt(i), consumer.pel.valAt(i)]);
  }
  c.addArrayLen(items.length);
  const t = now(c);
  for (const [id, nack] of items) {
    if (replyOneEntry(c, s, id)) {
      nack.deliveryTime = t;
      nack.deliveryCount++;
    } else {
      // Pending but deleted from the stream: the ID with a null entry.
      c.addArrayLen(2);
      addId(c, id);
      c.addNullArray();
    }
  }
}

function xreadGeneric(group: boolean) {
  return (c: Client, argv: string[]): void => {
    const args = parseReadArgs(c, argv, group);
    if (args === null) return;
    const db = c.db;
    const prop = new Propagation();
    let served = 0;
    // Redis writes the top-level length once it knows it (serving a stream can
    // change whether a later one is served): write the body, then put the header first.
    const mark = c.len;
    for (let k = 0; k < args.keys.length; k++) {
      const key = args.keys[k];
      const s = db.lookupRead(key) as StreamValue | undefined;
      if (s === undefined) continue;
      let gt = args.ids[k];
      let serve = false;
      let history = false;
      const g = args.groups?.[k];
      if (g !== undefined) {
        if (!isMaxId(gt)) {
          serve = true;
          history = true;
        } else if (s.length > 0 && cmpId(s.lastValidId(), g.lastId) > 0) {
          serve = true;
          gt = g.lastId;
        }
      } else if (s.length > 0 && cmpId(s.lastValidId(), gt) > 0) {
        serve = true;
      }
      if (!serve) continue;
      served++;
      const start = incrId(gt) ?? ZERO_ID;
      if (c.resp === 2) c.addArrayLen(2);
      c.addBulk(key);
      if (g !== undefined) {
        let consumer = lookupConsumer(c, g, args.consumerName);
        if (consumer === undefined) {
          consumer = createConsumer(c, g, args.consumerName, key, db)!;
          if (args.noack) prop.add(['XGROUP', 'CREATECONSUMER', key, args.groupName, args.consumerName]);
        }
        serveGroupStream(c, key, s, g, consumer, start, args.count, history, args.noack, prop);
        c.server.dirty++;
      } else {
        replyRange(c, s, start, null, args.count, false, null);
      }
    }
    if (served > 0) {
      const body = Buffer.from(c.out.subarray(mark, c.len));
      c.len = mark;
      if (c.resp === 2) c.addArrayLen(served);
      else c.addMapLen(served);
      c.addRawBuffer(body);
      if (group) emitOrSuppress(c, db, prop);
      return;
    }
    if (args.timeout !== -1) {
      if (!mayBlock(c)) {
        c.addNullArray();
        return;
      }
      blockRead(c, argv, args);
      return;
    }
    c.addNullArray();
  };
}

/** The dirty counter at the start of the current command (see emitOrSuppress). */
const dirtyAtStart = new WeakMap<Client, number>();
function dirtyBefore(c: Client): number {
  return dirtyAtStart.get(c) ?? c.server.dirty;
}

/**
 * Whether the client may block. Inside MULTI/EXEC or a script Redis sets
 * CLIENT_DENY_BLOCKING and answers at once as on a timeout.
 */
function mayBlock(c: Client): boolean {
  return !c.inMulti && !c.inScript && c.current !== null;
}

/** Serve functions of XREADGROUP waiters: woken with an error when their key goes away. */
const groupWaiters = new WeakSet<object>();

function blockRead(c: Client, argv: string[], args: ReadArgs): void {
  const ids = args.ids.slice();
  const count = args.count !== 0 ? args.count : BLOCKED_DEFAULT_COUNT;
  const group = args.groups !== null;
  const serve = (cl: Client, key: string): boolean => {
    const sdb = cl.db;
    const k = args.keys.indexOf(key);
    if (k < 0) return false;
    const v = sdb.peek(key);
    if (group) sdb.willModify(key); // snapshot barrier
    if (v === undefined || !isStream(v)) {
      if (!group) return false;
      cl.addError(ERR_UNBLOCKED_DELETED);
      return true;
    }
    const s = v;
    let g: ConsumerGroup | undefined;
    if (group) {
      g = s.groups.get(args.groupName);
      if (g === undefined) {
        cl.addError(ERR_NOGROUP_BLOCKED);
        return true;
      }
      ids[k] = g.lastId;
    }
    if (cmpId(s.lastId, ids[k]) <= 0) return false;
    const start = incrId(ids[k]) ?? ZERO_ID;
    const prop = new Propagation();
    let consumer: Consumer | null = null;
    if (g !== undefined) {
      consumer = lookupConsumer(cl, g, args.consumerName) ?? null;
      if (consumer === null) {
        consumer = createConsumer(cl, g, args.consumerName, key, sdb)!;
        if (args.noack) prop.add(['XGROUP', 'CREATECONSUMER', key, args.groupName, args.consumerName]);
      }
    }
    if (cl.resp === 2) {
      cl.addArrayLen(1);
      cl.addArrayLen(2);
    } else {
      cl.addMapLen(1);
    }
    cl.addBulk(key);
    const delivery = g !== undefined ? new Delivery(cl, key, g, consumer!, args.noack, prop) : null;
    replyRange(cl, s, start, null, count, false, delivery);
    prop.emit(cl, sdb, false);
    return true;
  };
  if (group) {
    groupWaiters.add(serve);
    watchDeletedKeys(c.server);
  }
  c.server.blocking.block(c, c.current!, argv, {
    keys: args.keys,
    timeoutMs: args.timeout > LLONG_MAX - now(c) ? 0 : args.timeout,
    serve,
  });
}

const watchedServers = new WeakSet<Server>();

/**
 * Redis wakes XREADGROUP clients when their key is deleted or replaced
 * (DEL, SET, RENAME, expiry, FLUSHALL, ...) so they get an error instead of
 * waiting on a key that no longer holds their group. Every such change goes
 * through the server's modified hooks; this one signals the key as ready when
 * an XREADGROUP waits on it, and its serve function decides what to answer.
 */
function watchDeletedKeys(server: Server): void {
  if (watchedServers.has(server)) return;
  watchedServers.add(server);
  server.modifiedHooks.push((db: Database, key: string) => {
    if (hasGroupWaiter(db, key)) server.keyReady(db, key);
  });
  // FLUSHDB/FLUSHALL empty a database, SWAPDB replaces its contents: a key that
  // goes away or changes type wakes its XREADGROUP waiters (scanDatabaseForDeletedKeys).
  server.flushHooks.push((emptied: Database, replacedWith: Database | null) => {
    if (emptied.blockingKeys === null) return;
    for (const key of emptied.blockingKeys.keys()) {
      if (!hasGroupWaiter(emptied, key)) continue;
      const before = emptied.peek(key);
      const after = replacedWith?.peek(key);
      const typeBefore = before === undefined ? null : typeOf(before);
      const typeAfter = after === undefined ? null : typeOf(after);
      if ((before !== undefined && after === undefined) || typeBefore !== typeAfter) server.keyReady(emptied, key);
    }
  });
}

function hasGroupWaiter(db: Database, key: string): boolean {
  const waiters = db.blockingKeys?.get(key) as Client[] | undefined;
  if (waiters === undefined) return false;
  for (const w of waiters) if (w.blocked !== null && groupWaiters.has(w.blocked.serve)) return true;
  return false;
}

// ---- XGROUP ---------------------------------------------------------------------------------------

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

function addHelp(c: Client, lines: readonly string[]): void {
  c.addArrayLen(lines.length);
  for (const l of lines) c.addSimple(l);
}

/** addReplySubcommandSyntaxError. */
function subcommandSyntaxError(c: Client, argv: string[]): void {
  c.addError(
    `ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]).slice(0, 128)}'. Try ${cstr(argv[0]).toUpperCase()} HELP.`,
  );
}

/** XGROUP CREATE/SETID/CREATECONSUMER/DELCONSUMER/DESTROY: Redis's shared xgroupCommand. */
function xgroup(c: Client, argv: string[]): void {
  const sub = argv[1];
  const isCreate = optIs(sub, 'create');
  const isSetId = optIs(sub, 'setid');
  let mkstream = false;
  let entriesRead: number | bigint = INVALID_ENTRIES_READ;
  for (let i = 5; i < argv.length; ) {
    if (isCreate && optIs(argv[i], 'mkstream')) {
      mkstream = true;
      i++;
    } else if ((isCreate || isSetId) && optIs(argv[i], 'entriesread') && i + 1 < argv.length) {
      const n = parseExactLongLong(c, argv[i + 1]);
      if (n === null) return;
      if (n < 0 && n !== INVALID_ENTRIES_READ) {
        c.addError(ERR_ENTRIESREAD);
        return;
      }
      entriesRead = n;
      i += 2;
    } else {
      subcommandSyntaxError(c, argv);
      return;
    }
  }
  const db = c.db;
  const key = argv[2];
  let s = asStream(c, db.lookupWrite(key));
  if (s === null) return;
  const groupName = argv[3];
  if (s === undefined && !mkstream) {
    c.addError(ERR_KEY_REQUIRED);
    return;
  }
  const cg = s?.groups.get(groupName);
  const isCreateConsumer = optIs(sub, 'createconsumer');
  const isDelConsumer = optIs(sub, 'delconsumer');
  if (cg === undefined && (isSetId || isCreateConsumer || isDelConsumer)) {
    c.addError(`NOGROUP No such consumer group '${cstr(groupName)}' for key name '${cstr(key)}'`);
    return;
  }
  const argc = argv.length;
  if (isCreate && argc >= 5 && argc <= 8) {
    let id: StreamID;
    if (cstr(argv[4]) === '$') {
      id = s !== undefined ? s.lastId : ZERO_ID;
    } else {
      const p = parseStrictId(c, argv[4]);
      if (p === null) return;
      id = p;
    }
    if (s === undefined) {
      s = new StreamValue();
      db.set(key, s);
    }
    if (s.groups.has(groupName)) {
      c.addError(ERR_BUSYGROUP);
      return;
    }
    s.groups.set(groupName, new ConsumerGroup(groupName, id, entriesRead));
    c.addOK();
    c.server.dirty++;
    notify(c, 'xgroup-create', key, db);
  } else if (isSetId && (argc === 5 || argc === 7)) {
    let id: StreamID;
    if (cstr(argv[4]) === '$') {
      id = s!.lastId;
    } else {
      const p = parseStreamId(argv[4], 0, false);
      if (p === null) {
        c.addError(ERR_INVALID_ID);
        return;
      }
      id = p.id;
    }
    cg!.lastId = id;
    cg!.entriesRead = entriesRead;
    c.addOK();
    c.server.dirty++;
    notify(c, 'xgroup-setid', key, db);
  } else if (optIs(sub, 'destroy') && argc === 4) {
    if (cg !== undefined) {
      s!.groups.delete(groupName);
      c.addInt(1);
      c.server.dirty++;
      notify(c, 'xgroup-destroy', key, db);
      // Blocked XREADGROUP clients of the group get -NOGROUP.
      db.signalReady(key);
    } else {
      c.addInt(0);
    }
  } else if (isCreateConsumer && argc === 5) {
    const created = createConsumer(c, cg!, argv[4], key, db);
    c.addInt(created !== null ? 1 : 0);
  } else if (isDelConsumer && argc === 5) {
    let pending = 0;
    const consumer = lookupConsumer(c, cg!, argv[4], false);
    if (consumer !== undefined) {
      pending = consumer.pel.size;
      cg!.deleteConsumer(consumer);
      c.server.dirty++;
      notify(c, 'xgroup-delconsumer', key, db);
    }
    c.addInt(pending);
  } else {
    subcommandSyntaxError(c, argv);
  }
}

function xgroupHelp(c: Client): void {
  addHelp(c, XGROUP_HELP);
}

// ---- XACK, XPENDING ----------------------------------------------------------------------------------

function xack(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookupRead(argv[1]));
  c.db.willModify(argv[1]); // snapshot barrier: XACK changes what it read
  if (s === null) return;
  const group = s?.groups.get(argv[2]);
  if (s === undefined || group === undefined) {
    c.addInt(0);
    return;
  }
  const ids: StreamID[] = [];
  for (let j = 3; j < argv.length; j++) {
    const id = parseStrictId(c, argv[j]);
    if (id === null) return;
    ids.push(id);
  }
  let acked = 0;
  for (const id of ids) {
    const nack = group.pel.delete(id);
    if (nack === undefined) continue;
    nack.consumer?.pel.delete(id);
    acked++;
    c.server.dirty++;
  }
  c.addInt(acked);
}

function xpending(c: Client, argv: string[]): void {
  const argc = argv.length;
  const justInfo = argc === 3;
  if (argc !== 3 && (argc < 6 || argc > 9)) {
    c.addError(ERR_SYNTAX);
    return;
  }
  let start: StreamID = ZERO_ID;
  let end: StreamID = MAX_ID;
  let count = 0;
  let minIdle = 0;
  let consumerName: string | null = null;
  if (argc >= 6) {
    let startIdx = 3;
    if (optIs(argv[3], 'idle')) {
      const n = parseLongLong(c, argv[4]);
      if (n === null) return;
      minIdle = n;
      if (argc < 8) {
        c.addError(ERR_SYNTAX);
        return;
      }
      startIdx += 2;
    }
    const n = parseLongLong(c, argv[startIdx + 2]);
    if (n === null) return;
    count = n < 0 ? 0 : n;
    const st = parseRangeStart(c, argv[startIdx]);
    if (st === null) return;
    const en = parseRangeEnd(c, argv[startIdx + 1]);
    if (en === null) return;
    start = st;
    end = en;
    if (startIdx + 3 < argc) consumerName = argv[startIdx + 3];
  }
  const s = asStream(c, c.db.lookupRead(argv[1]));
  if (s === null) return;
  const group = s?.groups.get(argv[2]);
  if (s === undefined || group === undefined) {
    c.addError(`NOGROUP No such key '${cstr(argv[1])}' or consumer group '${cstr(argv[2])}'`);
    return;
  }
  const pel = group.pel;
  if (justInfo) {
    c.addArrayLen(4);
    c.addInt(pel.size);
    if (pel.size === 0) {
      c.addNull();
      c.addNull();
      c.addNullArray();
      return;
    }
    addId(c, pel.idAt(pel.first()));
    addId(c, pel.idAt(pel.last()));
    const owners = group.sortedConsumers().filter((cons) => cons.pel.size > 0);
    c.addArrayLen(owners.length);
    for (const cons of owners) {
      c.addArrayLen(2);
      c.addBulk(cons.name);
      c.addBulk(String(cons.pel.size));
    }
    return;
  }
  let map = pel;
  if (consumerName !== null) {
    const consumer = lookupConsumer(c, group, consumerName, false);
    if (consumer === undefined) {
      c.addEmptyArray();
      return;
    }
    map = consumer.pel;
  }
  const t = now(c);
  const rows: Array<[StreamID, PendingEntry]> = [];
  for (let i = map.seek(start); i >= 0 && count > 0; i = map.next(i)) {
    const id = map.idAt(i);
    if (cmpId(id, end) > 0) break;
    const nack = map.valAt(i);
    if (minIdle !== 0 && t - nack.deliveryTime < minIdle) continue;
    rows.push([id, nack]);
    count--;
  }
  c.addArrayLen(rows.length);
  for (const [id, nack] of rows) {
    c.addArrayLen(4);
    addId(c, id);
    c.addBulk(nack.consumer!.name);
    c.addInt(t - nack.deliveryTime);
    c.addInt(nack.deliveryCount);
  }
}

// ---- XCLAIM, XAUTOCLAIM --------------------------------------------------------------------------------

function xclaim(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  const s = asStream(c, db.lookupRead(key));
  db.willModify(key); // snapshot barrier
  if (s === null) return;
  const group = s?.groups.get(argv[2]);
  if (s === undefined || group === undefined) {
    c.addError(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(argv[2])}'`);
    return;
  }
  let minIdle = parseLongLong(c, argv[4], 'ERR Invalid min-idle-time argument for XCLAIM');
  if (minIdle === null) return;
  if (minIdle < 0) minIdle = 0;
  const ids: StreamID[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const p = parseStreamId(argv[j], 0, true);
    if (p === null) break;
    ids.push(p.id);
  }
  const t = now(c);
  let force = false;
  let justid = false;
  let deliveryTime = -1;
  let retryCount = -1;
  let lastId: StreamID = ZERO_ID;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j];
    if (optIs(opt, 'force')) {
      force = true;
    } else if (optIs(opt, 'justid')) {
      justid = true;
    } else if (optIs(opt, 'idle') && more > 0) {
      const n = parseLongLong(c, argv[++j], 'ERR Invalid IDLE option argument for XCLAIM');
      if (n === null) return;
      deliveryTime = t - n;
    } else if (optIs(opt, 'time') && more > 0) {
      const n = parseLongLong(c, argv[++j], 'ERR Invalid TIME option argument for XCLAIM');
      if (n === null) return;
      deliveryTime = n;
    } else if (optIs(opt, 'retrycount') && more > 0) {
      const n = parseLongLong(c, argv[++j], 'ERR Invalid RETRYCOUNT option argument for XCLAIM');
      if (n === null) return;
      retryCount = n;
    } else if (optIs(opt, 'lastid') && more > 0) {
      const id = parseStrictId(c, argv[++j]);
      if (id === null) return;
      lastId = id;
    } else {
      c.addError(`ERR Unrecognized XCLAIM option '${cstr(opt)}'`);
      return;
    }
  }
  let propagateLastId = false;
  if (cmpId(lastId, group.lastId) > 0) {
    group.lastId = lastId;
    propagateLastId = true;
  }
  if (deliveryTime !== -1) {
    // A bogus time (negative or in the future) becomes now, as Redis does.
    if (deliveryTime < 0 || deliveryTime > t) deliveryTime = t;
  } else {
    deliveryTime = t;
  }
  const prop = new Propagation();
  let consumer: Consumer | null = null;
  const name = argv[3];
  const replies: Array<() => void> = [];
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    const idArg = argv[5 + k];
    let nack = group.pel.get(id);
    if (!s.has(id)) {
      // The entry is gone from the stream: drop it from the PEL too.
      if (nack !== undefined) {
        prop.add(xclaimArgv(key, group, argv[2], idArg, nack));
        propagateLastId = false;
        c.server.dirty++;
        group.pel.delete(id);
        nack.consumer?.pel.delete(id);
      }
      continue;
    }
    if (force && nack === undefined) {
      nack = new PendingEntry(null, t, 1);
      group.pel.set(id, nack);
    }
    if (nack === undefined) continue;
    if (nack.consumer !== null && minIdle !== 0 && t - nack.deliveryTime < minIdle) continue;
    consumer ??= lookupOrCreateConsumer(c, group, name, key, db);
    if (nack.consumer !== consumer) nack.consumer?.pel.delete(id);
    nack.deliveryTime = deliveryTime;
    if (retryCount >= 0) nack.deliveryCount = retryCount;
    else if (!justid) nack.deliveryCount++;
    if (nack.consumer !== consumer) {
      consumer.pel.set(id, nack);
      nack.consumer = consumer;
    }
    replies.push(justid ? () => addId(c, id) : () => {
      if (!replyOneEntry(c, s, id)) c.addNull();
    });
    prop.add(xclaimArgv(key, group, argv[2], idArg, nack));
    propagateLastId = false;
    c.server.dirty++;
  }
  if (propagateLastId) {
    prop.add(setIdArgv(key, group, argv[2]));
    c.server.dirty++;
  }
  c.addArrayLen(replies.length);
  for (const r of replies) r();
  emitOrSuppress(c, db, prop);
}

/** Propagates a command's deliveries instead of its argv; nothing when there are none. */
function emitOrSuppress(c: Client, db: Database, prop: Propagation): void {
  if (prop.empty) {
    c.server.dirty = dirtyBefore(c);
    return;
  }
  prop.emit(c, db, true);
}

function xautoclaim(c: Client, argv: string[]): void {
  let minIdle = parseLongLong(c, argv[4], 'ERR Invalid min-idle-time argument for XAUTOCLAIM');
  if (minIdle === null) return;
  if (minIdle < 0) minIdle = 0;
  const start = parseRangeStart(c, argv[5]);
  if (start === null) return;
  let count = 100;
  let justid = false;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (optIs(argv[j], 'count') && more > 0) {
      const n = parseInt64(argv[j + 1]);
      if (n === null || n < 1 || (n >= XAUTOCLAIM_MAX_COUNT && BigInt(argv[j + 1]) > XAUTOCLAIM_MAX_COUNT_EXACT)) {
        c.addError(ERR_COUNT_POSITIVE);
        return;
      }
      count = n;
      j++;
    } else if (optIs(argv[j], 'justid')) {
      justid = true;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  const db = c.db;
  const key = argv[1];
  const s = asStream(c, db.lookupRead(key));
  db.willModify(key); // snapshot barrier
  if (s === null) return;
  const group = s?.groups.get(argv[2]);
  if (s === undefined || group === undefined) {
    c.addError(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(argv[2])}'`);
    return;
  }
  if (count > XAUTOCLAIM_ALLOC_LIMIT) {
    c.addError(ERR_COUNT_TOO_HIGH);
    return;
  }
  let attempts = count * XAUTOCLAIM_ATTEMPTS_FACTOR;
  // The PEL entries the scan may look at (plus one for the cursor), taken up
  // front: claiming only changes each examined entry itself.
  const scan: Array<[StreamID, PendingEntry]> = [];
  for (let i = group.pel.seek(start); i >= 0 && scan.length <= attempts; i = group.pel.next(i)) {
    scan.push([group.pel.idAt(i), group.pel.valAt(i)]);
  }
  const t = now(c);
  const name = argv[3];
  const prop = new Propagation();
  const claimed: StreamID[] = [];
  const deletedIds: StreamID[] = [];
  let consumer: Consumer | null = null;
  let k = 0;
  while (attempts-- > 0 && count > 0 && k < scan.length) {
    const [id, nack] = scan[k++];
    if (!s.has(id)) {
      prop.add(xclaimArgv(key, group, argv[2], idToString(id), nack));
      c.server.dirty++;
      group.pel.delete(id);
      nack.consumer?.pel.delete(id);
      deletedIds.push(id);
      count--;
      continue;
    }
    if (minIdle !== 0 && t - nack.deliveryTime < minIdle) continue;
    consumer ??= lookupOrCreateConsumer(c, group, name, key, db);
    if (nack.consumer !== consumer) nack.consumer?.pel.delete(id);
    nack.deliveryTime = t;
    if (!justid) nack.deliveryCount++;
    if (nack.consumer !== consumer) {
      consumer.pel.set(id, nack);
      nack.consumer = consumer;
    }
    claimed.push(id);
    count--;
    prop.add(xclaimArgv(key, group, argv[2], idToString(id), nack));
    c.server.dirty++;
  }
  const cursor = k < scan.length ? scan[k][0] : ZERO_ID;
  c.addArrayLen(3);
  addId(c, cursor);
  c.addArrayLen(claimed.length);
  for (const id of claimed) {
    if (justid) addId(c, id);
    else replyOneEntry(c, s, id);
  }
  c.addArrayLen(deletedIds.length);
  for (const id of deletedIds) addId(c, id);
  emitOrSuppress(c, db, prop);
}

// ---- XINFO ---------------------------------------------------------------------------------------------

function addLagAndRead(c: Client, s: StreamValue, g: ConsumerGroup): void {
  c.addBulk('entries-read');
  if (g.entriesRead !== INVALID_ENTRIES_READ) c.addInt(g.entriesRead);
  else c.addNull();
  c.addBulk('lag');
  const lag = s.lag(g);
  if (lag === null) c.addNull();
  else c.addInt(lag);
}

function xinfoConsumers(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookupRead(argv[2]));
  if (s === null) return;
  if (s === undefined) {
    c.addError(ERR_NO_SUCH_KEY);
    return;
  }
  const g = s.groups.get(argv[3]);
  if (g === undefined) {
    c.addError(`NOGROUP No such consumer group '${cstr(argv[3])}' for key name '${cstr(argv[2])}'`);
    return;
  }
  const t = now(c);
  const consumers = g.sortedConsumers();
  c.addArrayLen(consumers.length);
  for (const cons of consumers) {
    c.addMapLen(3);
    c.addBulk('name');
    c.addBulk(cons.name);
    c.addBulk('pending');
    c.addInt(cons.pel.size);
    c.addBulk('idle');
    c.addInt(t - cons.seenTime);
  }
}

function xinfoGroups(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookupRead(argv[2]));
  if (s === null) return;
  if (s === undefined) {
    c.addError(ERR_NO_SUCH_KEY);
    return;
  }
  const groups = s.sortedGroups();
  c.addArrayLen(groups.length);
  for (const g of groups) {
    c.addMapLen(6);
    c.addBulk('name');
    c.addBulk(g.name);
    c.addBulk('consumers');
    c.addInt(g.consumers.size);
    c.addBulk('pending');
    c.addInt(g.pel.size);
    c.addBulk('last-delivered-id');
    addId(c, g.lastId);
    addLagAndRead(c, s, g);
  }
}

function addFirstOrLast(c: Client, s: StreamValue, first: boolean): void {
  const p = first ? s.firstPos() : s.lastPos();
  if (p === null) {
    c.addNull();
    return;
  }
  const w = new EntryWriter(c);
  w.entry(s.nodes[p.node], p.entry);
  w.flush();
}

function xinfoStream(c: Client, argv: string[]): void {
  const s = asStream(c, c.db.lookupRead(argv[2]));
  if (s === null) return;
  if (s === undefined) {
    c.addError(ERR_NO_SUCH_KEY);
    return;
  }
  let full = false;
  let count = 10;
  if (argv.length > 3) {
    if (argv.length !== 4 && argv.length !== 6) {
      subcommandSyntaxError(c, argv);
      return;
    }
    if (!optIs(argv[3], 'full')) {
      subcommandSyntaxError(c, argv);
      return;
    }
    if (argv.length === 6) {
      if (!optIs(argv[4], 'count')) {
        subcommandSyntaxError(c, argv);
        return;
      }
      const n = parseLongLong(c, argv[5]);
      if (n === null) return;
      count = n < 0 ? 0 : n;
    }
    full = true;
  }
  c.addMapLen(full ? 9 : 10);
  c.addBulk('length');
  c.addInt(s.length);
  c.addBulk('radix-tree-keys');
  c.addInt(s.nodes.length);
  c.addBulk('radix-tree-nodes');
  c.addInt(s.radixTreeNodes());
  c.addBulk('last-generated-id');
  addId(c, s.lastId);
  c.addBulk('max-deleted-entry-id');
  addId(c, s.maxDeletedId);
  c.addBulk('entries-added');
  c.addInt(s.entriesAdded);
  c.addBulk('recorded-first-entry-id');
  addId(c, s.firstId);
  if (!full) {
    c.addBulk('groups');
    c.addInt(s.groups.size);
    c.addBulk('first-entry');
    addFirstOrLast(c, s, true);
    c.addBulk('last-entry');
    addFirstOrLast(c, s, false);
    return;
  }
  c.addBulk('entries');
  replyRange(c, s, ZERO_ID, null, count, false, null);
  c.addBulk('groups');
  const groups = s.sortedGroups();
  c.addArrayLen(groups.length);
  for (const g of groups) {
    c.addMapLen(7);
    c.addBulk('name');
    c.addBulk(g.name);
    c.addBulk('last-delivered-id');
    addId(c, g.lastId);
    addLagAndRead(c, s, g);
    c.addBulk('pel-count');
    c.addInt(g.pel.size);
    c.addBulk('pending');
    const pending = g.pel.entries(count === 0 ? Infinity : count);
    c.addArrayLen(pending.length);
    for (const [id, nack] of pending) {
      c.addArrayLen(4);
      addId(c, id);
      c.addBulk(nack.consumer!.name);
      c.addInt(nack.deliveryTime);
      c.addInt(nack.deliveryCount);
    }
    c.addBulk('consumers');
    const consumers = g.sortedConsumers();
    c.addArrayLen(consumers.length);
    for (const cons of consumers) {
      c.addMapLen(4);
      c.addBulk('name');
      c.addBulk(cons.name);
      c.addBulk('seen-time');
      c.addInt(cons.seenTime);
      c.addBulk('pel-count');
      c.addInt(cons.pel.size);
      c.addBulk('pending');
      const own = cons.pel.entries(count === 0 ? Infinity : count);
      c.addArrayLen(own.length);
      for (const [id, nack] of own) {
        c.addArrayLen(3);
        addId(c, id);
        c.addInt(nack.deliveryTime);
        c.addInt(nack.deliveryCount);
      }
    }
  }
}

function xinfoHelp(c: Client): void {
  addHelp(c, XINFO_HELP);
}

/** Wraps a handler to remember the dirty counter at its start (see emitOrSuppress). */
function withDirtyMark(h: (c: Client, argv: string[]) => void) {
  return (c: Client, argv: string[]): void => {
    dirtyAtStart.set(c, c.server.dirty);
    h(c, argv);
  };
}

export const commands: CommandImpl[] = [
  { name: 'xadd', summary: 'Appends an entry to a stream, creating it if needed.', handler: xadd },
  { name: 'xrange', summary: 'Returns the entries of a stream within an ID range.', handler: xrangeGeneric(false) },
  { name: 'xrevrange', summary: 'Returns the entries of a stream within an ID range, newest first.', handler: xrangeGeneric(true) },
  { name: 'xlen', summary: 'Returns the number of entries in a stream.', handler: xlen },
  { name: 'xdel', summary: 'Deletes entries from a stream by ID.', handler: xdel },
  { name: 'xtrim', summary: 'Removes the oldest entries of a stream by length or minimum ID.', handler: xtrim },
  { name: 'xsetid', summary: "Sets a stream's last ID and its added/deleted counters.", handler: xsetid },
  { name: 'xread', summary: 'Reads entries newer than the given IDs from streams, waiting if asked.', handler: withDirtyMark(xreadGeneric(false)) },
  { name: 'xreadgroup', summary: 'Reads entries for a consumer of a group, tracking them as pending.', handler: withDirtyMark(xreadGeneric(true)) },
  { name: 'xack', summary: 'Acknowledges pending entries of a consumer group.', handler: xack },
  { name: 'xpending', summary: "Lists or summarises a consumer group's pending entries.", handler: xpending },
  { name: 'xclaim', summary: 'Transfers ownership of pending entries to another consumer.', handler: withDirtyMark(xclaim) },
  { name: 'xautoclaim', summary: 'Scans pending entries and claims the idle ones for a consumer.', handler: withDirtyMark(xautoclaim) },
  { name: 'xgroup', summary: 'Manages consumer groups and their consumers.' },
  { name: 'xgroup|create', summary: 'Creates a consumer group, optionally creating the stream.', handler: xgroup },
  { name: 'xgroup|setid', summary: "Sets a consumer group's last delivered ID.", handler: xgroup },
  { name: 'xgroup|createconsumer', summary: 'Creates a consumer in a consumer group.', handler: xgroup },
  { name: 'xgroup|delconsumer', summary: 'Deletes a consumer and its pending entries from a group.', handler: xgroup },
  { name: 'xgroup|destroy', summary: 'Deletes a consumer group.', handler: xgroup },
  { name: 'xgroup|help', summary: 'Describes the XGROUP subcommands.', handler: xgroupHelp },
  { name: 'xinfo', summary: 'Reports on streams, their groups and consumers.' },
  { name: 'xinfo|stream', summary: 'Describes a stream, or all of it with FULL.', handler: xinfoStream },
  { name: 'xinfo|groups', summary: 'Lists the consumer groups of a stream.', handler: xinfoGroups },
  { name: 'xinfo|consumers', summary: 'Lists the consumers of a group.', handler: xinfoConsumers },
  { name: 'xinfo|help', summary: 'Describes the XINFO subcommands.', handler: xinfoHelp },
];
