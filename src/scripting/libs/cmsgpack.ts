/**
 * The `cmsgpack` library (lua-cmsgpack 0.4.0 as Redis bundles it): pack any
 * number of values into MessagePack, unpack a stream back, with its choices:
 * integral numbers as the smallest int, floats as float32 when exact,
 * strings as str8/16/32, tables as arrays when keys are exactly 1..n, nesting
 * deeper than 16 tables packed as nil.
 */
import {
  lua,
  LUA_TBOOLEAN,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaState,
} from '../engine.js';
import { doubleToInt64 } from './cnum.js';

const MAX_NESTING = 16;

class Out {
  bytes: number[] = [];
  byte(b: number): void {
    this.bytes.push(b & 0xff);
  }
  be(value: bigint | number, n: number): void {
    let v = BigInt.asUintN(n * 8, BigInt(value));
    const tmp: number[] = [];
    for (let i = 0; i < n; i++) {
      tmp.push(Number(v & 0xffn));
      v >>= 8n;
    }
    for (let i = n - 1; i >= 0; i--) this.bytes.push(tmp[i]);
  }
}

function encodeInt(out: Out, n: bigint): void {
  if (n >= 0n) {
    if (n <= 127n) out.byte(Number(n));
    else if (n <= 0xffn) { out.byte(0xcc); out.be(n, 1); }
    else if (n <= 0xffffn) { out.byte(0xcd); out.be(n, 2); }
    else if (n <= 0xffffffffn) { out.byte(0xce); out.be(n, 4); }
    else { out.byte(0xcf); out.be(n, 8); }
  } else {
    if (n >= -32n) out.byte(Number(n));
    else if (n >= -128n) { out.byte(0xd0); out.be(n, 1); }
    else if (n >= -32768n) { out.byte(0xd1); out.be(n, 2); }
    else if (n >= -2147483648n) { out.byte(0xd2); out.be(n, 4); }
    else { out.byte(0xd3); out.be(n, 8); }
  }
}

function encodeNumber(out: Out, d: number): void {
  // IS_INT64_EQUIVALENT: finite and (int64_t)d == d.
  const i = doubleToInt64(d);
  if (Number.isFinite(d) && Number(i) === d) {
    encodeInt(out, i);
    return;
  }
  const b = Buffer.alloc(8);
  // (double)(float)d == d: true for infinities, false for NaN.
  if (Math.fround(d) === d) {
    out.byte(0xca);
    b.writeFloatBE(d, 0);
    for (let k = 0; k < 4; k++) out.byte(b[k]);
    return;
  }
  out.byte(0xcb);
  b.writeDoubleBE(d, 0);
  for (let k = 0; k < 8; k++) out.byte(b[k]);
}

function encodeBytes(out: Out, s: Buffer): void {
  const n = s.length;
  if (n < 32) out.byte(0xa0 | n);
  else if (n <= 0xff) { out.byte(0xd9); out.be(n, 1); }
  else if (n <= 0xffff) { out.byte(0xda); out.be(n, 2); }
  else { out.byte(0xdb); out.be(n, 4); }
  for (let i = 0; i < n; i++) out.bytes.push(s[i]);
}

function header(out: Out, n: number, fix: number, w16: number, w32: number): void {
  if (n <= 15) out.byte(fix | n);
  else if (n <= 0xffff) { out.byte(w16); out.be(n, 2); }
  else { out.byte(w32); out.be(n, 4); }
}

/** True when the table on top has exactly the keys 1..n. */
function isArray(L: LuaState): boolean {
  const E = lua();
  let count = 0;
  let max = 0;
  E.pushNil(L);
  while (E.next(L, -2)) {
    E.pop(L, 1);
    if (E.type(L, -1) !== LUA_TNUMBER) {
      E.pop(L, 1);
      return false;
    }
    const n = E.toNumber(L, -1);
    if (n <= 0 || !(Number.isFinite(n) && Number(doubleToInt64(n)) === n)) {
      E.pop(L, 1);
      return false;
    }
    if (n > max) max = n;
    count++;
  }
  return max === count;
}

function encodeValue(L: LuaState, out: Out, level: number): void {
  const E = lua();
  let t = E.type(L, -1);
  if (t === LUA_TTABLE && level === MAX_NESTING) t = -2;
  switch (t) {
    case LUA_TSTRING:
      encodeBytes(out, E.toBytes(L, -1)!);
      return;
    case LUA_TBOOLEAN:
      out.byte(E.toBoolean(L, -1) ? 0xc3 : 0xc2);
      return;
    case LUA_TNUMBER:
      encodeNumber(out, E.toNumber(L, -1));
      return;
    case LUA_TTABLE:
      if (!E.checkStack(L, 3)) E.raise(L, 'too deep');
      if (isArray(L)) {
        const len = E.objLen(L, -1);
        header(out, len, 0x90, 0xdc, 0xdd);
        for (let j = 1; j <= len; j++) {
          E.rawGetI(L, -1, j);
          encodeValue(L, out, level + 1);
          E.pop(L, 1);
        }
      } else {
        let len = 0;
        E.pushNil(L);
        while (E.next(L, -2)) {
          E.pop(L, 1);
          len++;
        }
        header(out, len, 0x80, 0xde, 0xdf);
        E.pushNil(L);
        while (E.next(L, -2)) {
          E.pushValue(L, -2);
          encodeValue(L, out, level + 1);
          E.pop(L, 1);
          encodeValue(L, out, level + 1);
          E.pop(L, 1);
        }
      }
      return;
    default:
      out.byte(0xc0);
  }
}

function pack(L: LuaState): number {
  const E = lua();
  const n = E.getTop(L);
  if (n === 0) E.argError(L, 0, 'MessagePack pack needs input.');
  if (!E.checkStack(L, n)) E.raise(L, 'too many arguments for MessagePack pack');
  const out = new Out();
  for (let i = 1; i <= n; i++) {
    E.pushValue(L, i);
    encodeValue(L, out, 0);
    E.pop(L, 1);
  }
  E.pushBytes(L, Uint8Array.from(out.bytes));
  return 1;
}

// ---- decoding -----------------------------------------------------------------

const EOF = 1;
const BADFMT = 2;

class Cursor {
  err = 0;
  constructor(
    readonly buf: Buffer,
    public p: number,
  ) {}
  get left(): number {
    return this.buf.length - this.p;
  }
  need(n: number): boolean {
    if (this.left < n) {
      this.err = EOF;
      return false;
    }
    return true;
  }
  uint(n: number, at: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[at + i]);
    return v;
  }
}

function decodeValue(L: LuaState, c: Cursor): void {
  const E = lua();
  if (!c.need(1)) return;
  if (!E.checkStack(L, 1)) E.raise(L, 'too many return values at once; use unpack_one or unpack_limit instead.');
  const b = c.buf;
  const t = b[c.p];
  const fixedInt = (n: number, signed: boolean) => {
    if (!c.need(1 + n)) return;
    let v = c.uint(n, c.p + 1);
    if (signed) v = BigInt.asIntN(n * 8, v);
    E.pushNumber(L, Number(v));
    c.p += 1 + n;
  };
  const str = (lenBytes: number) => {
    if (!c.need(1 + lenBytes)) return;
    const len = Number(c.uint(lenBytes, c.p + 1));
    if (!c.need(1 + lenBytes + len)) return;
    E.pushBytes(L, b, c.p + 1 + lenBytes, c.p + 1 + lenBytes + len);
    c.p += 1 + lenBytes + len;
  };
  const array = (len: number, skip: number) => {
    c.p += skip;
    E.newTable(L);
    for (let j = 0; j < len; j++) {
      E.pushNumber(L, j + 1);
      decodeValue(L, c);
      if (c.err) return;
      E.setTable(L, -3);
    }
  };
  const map = (len: number, skip: number) => {
    c.p += skip;
    E.newTable(L);
    for (let j = 0; j < len; j++) {
      decodeValue(L, c);
      if (c.err) return;
      decodeValue(L, c);
      if (c.err) return;
      E.setTable(L, -3);
    }
  };
  if (t <= 0x7f) {
    E.pushNumber(L, t);
    c.p++;
  } else if (t >= 0xe0) {
    E.pushNumber(L, t - 256);
    c.p++;
  } else if ((t & 0xf0) === 0x80) {
    map(t & 0x0f, 1);
  } else if ((t & 0xf0) === 0x90) {
    array(t & 0x0f, 1);
  } else if ((t & 0xe0) === 0xa0) {
    const len = t & 0x1f;
    if (!c.need(1 + len)) return;
    E.pushBytes(L, b, c.p + 1, c.p + 1 + len);
    c.p += 1 + len;
  } else {
    switch (t) {
      case 0xc0: E.pushNil(L); c.p++; break;
      case 0xc2: E.pushBoolean(L, false); c.p++; break;
      case 0xc3: E.pushBoolean(L, true); c.p++; break;
      case 0xc4: case 0xd9: str(1); break;
      case 0xc5: case 0xda: str(2); break;
      case 0xc6: case 0xdb: str(4); break;
      case 0xca:
        if (!c.need(5)) return;
        E.pushNumber(L, b.readFloatBE(c.p + 1));
        c.p += 5;
        break;
      case 0xcb:
        if (!c.need(9)) return;
        E.pushNumber(L, b.readDoubleBE(c.p + 1));
        c.p += 9;
        break;
      case 0xcc: fixedInt(1, false); break;
      case 0xcd: fixedInt(2, false); break;
      case 0xce: fixedInt(4, false); break;
      case 0xcf: fixedInt(8, false); break;
      case 0xd0: fixedInt(1, true); break;
      case 0xd1: fixedInt(2, true); break;
      case 0xd2: fixedInt(4, true); break;
      case 0xd3: fixedInt(8, true); break;
      case 0xdc:
        if (!c.need(3)) return;
        array(Number(c.uint(2, c.p + 1)), 3);
        break;
      case 0xdd:
        if (!c.need(5)) return;
        array(Number(c.uint(4, c.p + 1)), 5);
        break;
      case 0xde:
        if (!c.need(3)) return;
        map(Number(c.uint(2, c.p + 1)), 3);
        break;
      case 0xdf:
        if (!c.need(5)) return;
        map(Number(c.uint(4, c.p + 1)), 5);
        break;
      default:
        c.err = BADFMT;
    }
  }
}

function unpackFull(L: LuaState, limit: number, offset: number): number {
  const E = lua();
  const data = E.checkBytes(L, 1);
  const len = data.length;
  const decodeAll = limit === 0 && offset === 0;
  if (offset < 0 || limit < 0) E.raise(L, `Invalid request to unpack with offset of ${offset} and limit of ${len}.`);
  else if (offset > len) E.raise(L, `Start offset ${offset} greater than input length ${len}.`);
  if (decodeAll) limit = 2147483647;
  const c = new Cursor(data, offset);
  let cnt = 0;
  for (; c.left > 0 && cnt < limit; cnt++) {
    decodeValue(L, c);
    if (c.err === EOF) E.raise(L, 'Missing bytes in input.');
    else if (c.err === BADFMT) E.raise(L, 'Bad data format in input.');
  }
  if (!decodeAll) {
    E.pushNumber(L, c.left === 0 ? -1 : len - c.left);
    E.insert(L, 2);
    cnt++;
  }
  return cnt;
}

function intArg(L: LuaState, idx: number, def: number | null): number {
  const E = lua();
  if (def !== null && E.type(L, idx) <= 0) return def;
  return Math.trunc(E.checkNumber(L, idx)) | 0;
}

function unpack(L: LuaState): number {
  return unpackFull(L, 0, 0);
}

function unpackOne(L: LuaState): number {
  const E = lua();
  const offset = intArg(L, 2, 0);
  E.pop(L, E.getTop(L) - 1);
  return unpackFull(L, 1, offset);
}

function unpackLimit(L: LuaState): number {
  const E = lua();
  const limit = intArg(L, 2, null);
  const offset = intArg(L, 3, 0);
  E.pop(L, E.getTop(L) - 1);
  return unpackFull(L, limit, offset);
}

export const cmsgpackFunctions: Record<string, (L: LuaState) => number> = {
  pack,
  unpack,
  unpack_one: unpackOne,
  unpack_limit: unpackLimit,
};

export const cmsgpackFields: Record<string, string> = {
  _NAME: 'cmsgpack',
  _VERSION: 'lua-cmsgpack 0.4.0',
  _COPYRIGHT: 'Copyright (C) 2012, Salvatore Sanfilippo',
  _DESCRIPTION: 'MessagePack C implementation for Lua',
};
