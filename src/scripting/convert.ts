/**
 * Conversions between Redis replies and Lua values, with Redis 7.0's rules
 * (script_lua.c): a command's RESP reply, as the fake client wrote it, becomes
 * a Lua value; a script's Lua result becomes the caller's reply.
 *
 *   RESP -> Lua: integer -> number; bulk -> string; null bulk / null array ->
 *   false; status -> {ok=s}; error -> {err=s}; array -> table; and (RESP3)
 *   null -> nil, boolean -> boolean, double -> {double=n}, map -> {map={k=v}},
 *   set -> {set={k=true}}, big number -> {big_number=s},
 *   verbatim -> {verbatim_string={format=f, string=s}}; attributes are skipped.
 *
 *   Lua -> RESP: string -> bulk; number -> integer ((long long) cast);
 *   boolean -> 1 / null (script in RESP2) or boolean (RESP3); table with err /
 *   ok / double / big_number / verbatim_string / map / set fields -> that
 *   reply; other table -> array up to the first nil; anything else -> null.
 */
import {
  lua,
  LUA_TBOOLEAN,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaState,
} from './engine.js';
import type { ReplyWriter } from '../resp/writer.js';
import { cString, pushErrorTable } from './sandbox.js';
import { doubleToInt64 } from './libs/cnum.js';

// ---- RESP -> Lua ------------------------------------------------------------------

const CR = 13;

function lineEnd(buf: Buffer, from: number): number {
  let i = from;
  while (buf[i] !== CR) i++;
  return i;
}

/**
 * Pushes the Lua value of the reply starting at `pos` (when push is true; with
 * push false it only skips it) and returns the position after it.
 */
function parseReply(L: LuaState, buf: Buffer, pos: number, push: boolean): number {
  const E = lua();
  const type = buf[pos];
  const end = lineEnd(buf, pos + 1);
  const line = buf.latin1Slice(pos + 1, end);
  const next = end + 2;
  if (push && !E.checkStack(L, 5)) throw new Error('lua stack limit reached when parsing redis.call reply');
  switch (type) {
    case 0x3a /* : */:
      if (push) E.pushNumber(L, Number(line));
      return next;
    case 0x24 /* $ */: {
      const len = Number(line);
      if (len < 0) {
        if (push) E.pushBoolean(L, false);
        return next;
      }
      if (push) E.pushBytes(L, buf, next, next + len);
      return next + len + 2;
    }
    case 0x2b /* + */:
      if (push) {
        E.newTable(L);
        E.pushString(L, line);
        E.setField(L, -2, 'ok');
      }
      return next;
    case 0x2d /* - */:
      if (push) pushErrorTable(L, '-' + line, true);
      return next;
    case 0x2a /* * */: {
      const n = Number(line);
      if (n < 0) {
        if (push) E.pushBoolean(L, false);
        return next;
      }
      let p = next;
      if (push) E.newTable(L, n, 0);
      for (let j = 0; j < n; j++) {
        p = parseReply(L, buf, p, push);
        if (push) E.rawSetI(L, -2, j + 1);
      }
      return p;
    }
    case 0x5f /* _ */:
      if (push) E.pushNil(L);
      return next;
    case 0x23 /* # */:
      if (push) E.pushBoolean(L, line === 't');
      return next;
    case 0x2c /* , */:
      if (push) {
        E.newTable(L);
        E.pushNumber(L, parseRespDouble(line));
        E.setField(L, -2, 'double');
      }
      return next;
    case 0x28 /* ( */:
      if (push) {
        E.newTable(L);
        E.pushString(L, line);
        E.setField(L, -2, 'big_number');
      }
      return next;
    case 0x3d /* = */: {
      const len = Number(line);
      if (push) {
        E.newTable(L);
        E.newTable(L);
        E.pushBytes(L, buf, next + 4, next + len);
        E.setField(L, -2, 'string');
        E.pushBytes(L, buf, next, next + 3);
        E.setField(L, -2, 'format');
        E.setField(L, -2, 'verbatim_string');
      }
      return next + len + 2;
    }
    case 0x25 /* % */: {
      const n = Number(line);
      let p = next;
      if (push) {
        E.newTable(L);
        E.newTable(L);
      }
      for (let j = 0; j < n; j++) {
        p = parseReply(L, buf, p, push);
        p = parseReply(L, buf, p, push);
        if (push) E.setTable(L, -3);
      }
      if (push) E.setField(L, -2, 'map');
      return p;
    }
    case 0x7e /* ~ */: {
      const n = Number(line);
      let p = next;
      if (push) {
        E.newTable(L);
        E.newTable(L);
      }
      for (let j = 0; j < n; j++) {
        p = parseReply(L, buf, p, push);
        if (push) {
          E.pushBoolean(L, true);
          E.setTable(L, -3);
        }
      }
      if (push) E.setField(L, -2, 'set');
      return p;
    }
    case 0x7c /* | attribute: skipped */: {
      const n = Number(line);
      let p = next;
      for (let j = 0; j < 2 * n; j++) p = parseReply(L, buf, p, false);
      return parseReply(L, buf, p, push);
    }
    case 0x3e /* > push: read as an array */: {
      const n = Number(line);
      let p = next;
      if (push) E.newTable(L, n, 0);
      for (let j = 0; j < n; j++) {
        p = parseReply(L, buf, p, push);
        if (push) E.rawSetI(L, -2, j + 1);
      }
      return p;
    }
    default:
      throw new Error(`unexpected reply type byte ${type} from a command run by a script`);
  }
}

function parseRespDouble(s: string): number {
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  if (s === 'nan' || s === '-nan') return NaN;
  return Number(s);
}

/**
 * Pushes the Lua value of the first reply in buf[0..len) and tells whether it
 * is an error reply.
 */
export function pushRespAsLua(L: LuaState, buf: Buffer, len: number): boolean {
  if (len === 0) {
    lua().pushNil(L);
    return false;
  }
  parseReply(L, buf, 0, true);
  return buf[0] === 0x2d;
}

// ---- Lua -> RESP ------------------------------------------------------------------

/** What luaExtractErrorInformation reads from an error table (or string) on top. */
export interface ErrorInfo {
  msg: string | null;
  source: string | null;
  line: string | null;
  ignoreStats: boolean;
}

export function extractErrorInfo(L: LuaState): ErrorInfo {
  const E = lua();
  const info: ErrorInfo = { msg: null, source: null, line: null, ignoreStats: false };
  const t = E.type(L, -1);
  if (t === LUA_TSTRING || t === LUA_TNUMBER) {
    info.msg = 'ERR ' + cString(E.toStr(L, -1)!);
    return info;
  }
  if (t !== LUA_TTABLE) return info;
  // Raw reads: no metamethod of a script's table may run here.
  const field = (name: string): string | null => {
    E.rawGetString(L, -1, name);
    const v = E.isString(L, -1) ? cString(E.toStr(L, -1)!) : null;
    E.pop(L, 1);
    return v;
  };
  info.msg = field('err');
  info.source = field('source');
  info.line = field('line');
  E.rawGetString(L, -1, 'ignore_error_stats_update');
  if (E.type(L, -1) === LUA_TBOOLEAN) info.ignoreStats = E.toBoolean(L, -1);
  E.pop(L, 1);
  return info;
}

/** sdstrim(s, "\r\n") then the caller's addError maps inner newlines. */
function trimCRLF(s: string): string {
  if (s.indexOf('\r') < 0 && s.indexOf('\n') < 0) return s;
  return s.replace(/^[\r\n]+|[\r\n]+$/g, '');
}

function mapCRLF(s: string): string {
  return s.indexOf('\r') < 0 && s.indexOf('\n') < 0 ? s : s.replace(/[\r\n]/g, ' ');
}

/** Sink for error replies that must not be counted in the error stats twice. */
export interface ReplyTarget extends ReplyWriter {
  addError(msg: string): void;
}

/** Kinds of container frames luaToReply walks. */
const ARRAY = 0;
const MAP = 1;
const SET = 2;
/** Element count of the array writeValue last opened. */
let openedCount = 0;

/**
 * Writes the value on top of L's stack as a reply to `c` and pops it.
 * `scriptResp` is the protocol the script selected with redis.setresp.
 * `uncount` is called for error replies flagged ignore_error_stats_update.
 *
 * Nested tables are walked with an explicit stack of frames, not by recursion:
 * a script may return a table nested thousands deep (or containing itself),
 * which ends, as in Redis, when the Lua stack is exhausted ("reached lua stack
 * limit" in place of the too-deep element), not with a JS stack overflow.
 */
export function luaToReply(L: LuaState, c: ReplyTarget, scriptResp: 2 | 3, uncount: (msg: string) => void): void {
  const E = lua();
  const first = writeValue(L, c, scriptResp, uncount);
  if (first < 0) return;
  // Open containers: their table(s) stay on the Lua stack until they are done.
  const kinds: number[] = [first];
  const counts: number[] = [openedCount];
  const pos: number[] = [0];
  let depth = 1;
  while (depth > 0) {
    const d = depth - 1;
    let opened: number;
    const kind = kinds[d]!;
    if (kind === ARRAY) {
      // Stack: ..., array.
      if (pos[d]! >= counts[d]!) {
        E.pop(L, 1);
        depth--;
        continue;
      }
      E.rawGetI(L, -1, ++pos[d]!);
    } else if (kind === MAP) {
      // Stack: ..., table, map[, key[, value]]; pos 0: next pair, 1: its value.
      if (pos[d] === 0) {
        if (!E.next(L, -2)) {
          E.pop(L, 2);
          depth--;
          continue;
        }
        E.pushValue(L, -2);
        pos[d] = 1;
      } else {
        pos[d] = 0;
      }
    } else {
      // SET. Stack: ..., table, set[, key].
      if (!E.next(L, -2)) {
        E.pop(L, 2);
        depth--;
        continue;
      }
      E.pop(L, 1);
      E.pushValue(L, -1);
    }
    opened = writeValue(L, c, scriptResp, uncount);
    if (opened >= 0) {
      kinds[depth] = opened;
      counts[depth] = openedCount;
      pos[depth] = 0;
      depth++;
    }
  }
}

/**
 * Writes the value on top of the stack. A scalar (or error/status table) is written
 * and popped (returns -1); an array, map or set gets its header written and is left
 * open on the stack (returns its kind; an array's length is in openedCount).
 */
function writeValue(L: LuaState, c: ReplyTarget, scriptResp: 2 | 3, uncount: (msg: string) => void): number {
  const E = lua();
  if (!E.checkStack(L, 4)) {
    c.addError('ERR reached lua stack limit');
    E.pop(L, 1);
    return -1;
  }
  switch (E.type(L, -1)) {
    case LUA_TSTRING:
      c.addBulk(E.toStr(L, -1)!);
      break;
    case LUA_TBOOLEAN:
      if (scriptResp === 2) {
        if (E.toBoolean(L, -1)) c.addInt(1);
        else c.addNull();
      } else {
        c.addBool(E.toBoolean(L, -1));
      }
      break;
    case LUA_TNUMBER:
      c.addInt(doubleToInt64(E.toNumber(L, -1)));
      break;
    case LUA_TTABLE:
      return openTable(L, c, uncount);
    default:
      c.addNull();
  }
  E.pop(L, 1);
  return -1;
}

function rawField(L: LuaState, name: string): number {
  const E = lua();
  E.pushLiteral(L, name);
  E.rawGet(L, -2);
  return E.type(L, -1);
}

function openTable(L: LuaState, c: ReplyTarget, uncount: (msg: string) => void): number {
  const E = lua();
  if (rawField(L, 'err') === LUA_TSTRING) {
    E.pop(L, 1);
    const info = extractErrorInfo(L);
    const msg = mapCRLF(trimCRLF('-' + (info.msg ?? ''))).slice(1);
    c.addError(msg);
    if (info.ignoreStats) uncount(msg);
    E.pop(L, 1);
    return -1;
  }
  E.pop(L, 1);
  if (rawField(L, 'ok') === LUA_TSTRING) {
    c.addSimple(mapCRLF(cString(E.toStr(L, -1)!)));
    E.pop(L, 2);
    return -1;
  }
  E.pop(L, 1);
  if (rawField(L, 'double') === LUA_TNUMBER) {
    c.addDouble(E.toNumber(L, -1));
    E.pop(L, 2);
    return -1;
  }
  E.pop(L, 1);
  if (rawField(L, 'big_number') === LUA_TSTRING) {
    c.addBigNumber(mapCRLF(E.toStr(L, -1)!));
    E.pop(L, 2);
    return -1;
  }
  E.pop(L, 1);
  if (rawField(L, 'verbatim_string') === LUA_TTABLE) {
    // Stack: table, verbatim.
    const format = rawField(L, 'format') === LUA_TSTRING ? cString(E.toStr(L, -1)!) : null;
    E.pop(L, 1);
    if (format !== null && rawField(L, 'string') === LUA_TSTRING) {
      // addReplyVerbatim: the 3-byte format, padded with spaces.
      c.addVerbatim(E.toStr(L, -1)!, (format + '   ').slice(0, 3));
      E.pop(L, 3);
      return -1;
    }
    if (format !== null) E.pop(L, 1);
  }
  E.pop(L, 1);
  if (rawField(L, 'map') === LUA_TTABLE) {
    c.addMapLen(tableEntries(L));
    E.pushNil(L);
    return MAP;
  }
  E.pop(L, 1);
  if (rawField(L, 'set') === LUA_TTABLE) {
    c.addSetLen(tableEntries(L));
    E.pushNil(L);
    return SET;
  }
  E.pop(L, 1);
  // An array: elements 1, 2, ... up to the first nil.
  let n = 0;
  for (;;) {
    E.rawGetI(L, -1, n + 1);
    const t = E.type(L, -1);
    E.pop(L, 1);
    if (t === LUA_TNIL) break;
    n++;
  }
  c.addArrayLen(n);
  openedCount = n;
  return ARRAY;
}

/** Number of entries of the table at the top of L's stack (lua_next over it; the stack is left as found). */
function tableEntries(L: LuaState): number {
  const E = lua();
  let n = 0;
  E.pushNil(L);
  while (E.next(L, -2)) {
    E.pop(L, 1);
    n++;
  }
  return n;
}
