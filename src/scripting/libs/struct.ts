/**
 * The `struct` library (Roberto Ierusalimschy's struct 0.2 as Redis bundles
 * it): pack, unpack and size of binary records. Sizes are those of Redis's
 * x86-64 build (short 2, int 4, long and size_t 8), native order little endian.
 */
import { lua, type LuaState } from '../engine.js';
import { doubleToInt64Bits, doubleToUint64Bits } from './cnum.js';

const BIG = 0;
const LITTLE = 1;
const MAXINTSIZE = 32;
const MAXALIGN = 8;
const INT_MAX = 2147483647;

interface Header {
  endian: number;
  align: number;
}

/** A format string being read: the bytes up to the first NUL, as C sees them. */
class Fmt {
  pos = 0;
  constructor(readonly s: string) {}
  get more(): boolean {
    return this.pos < this.s.length;
  }
  next(): string {
    return this.s[this.pos++];
  }
  peekDigit(): boolean {
    const c = this.s.charCodeAt(this.pos);
    return c >= 48 && c <= 57;
  }
}

function readFormat(L: LuaState): Fmt {
  const s = lua().checkString(L, 1);
  const nul = s.indexOf('\0');
  return new Fmt(nul < 0 ? s : s.slice(0, nul));
}

function getnum(L: LuaState, f: Fmt, df: number): number {
  if (!f.peekDigit()) return df;
  let a = 0;
  do {
    const d = f.s.charCodeAt(f.pos) - 48;
    if (a > Math.floor(INT_MAX / 10) || a * 10 > INT_MAX - d) lua().raise(L, 'integral size overflow');
    a = a * 10 + d;
    f.pos++;
  } while (f.peekDigit());
  return a;
}

function isp2(x: number): boolean {
  return x > 0 && (x & (x - 1)) === 0;
}

function optsize(L: LuaState, opt: string, f: Fmt): number {
  switch (opt) {
    case 'B': case 'b': return 1;
    case 'H': case 'h': return 2;
    case 'L': case 'l': case 'T': return 8;
    case 'f': return 4;
    case 'd': return 8;
    case 'x': return 1;
    case 'c': return getnum(L, f, 1);
    case 'i': case 'I': {
      const sz = getnum(L, f, 4);
      if (sz > MAXINTSIZE) lua().raise(L, `integral size ${sz} is larger than limit of ${MAXINTSIZE}`);
      return sz;
    }
    default: return 0;
  }
}

function gettoalign(len: number, h: Header, opt: string, size: number): number {
  if (size === 0 || opt === 'c') return 0;
  if (size > h.align) size = h.align;
  // C's size_t arithmetic; sizes here are small, so 32-bit masks are exact.
  return (size - (len & (size - 1))) & (size - 1);
}

function controloptions(L: LuaState, opt: string, f: Fmt, h: Header): void {
  switch (opt) {
    case ' ': return;
    case '>': h.endian = BIG; return;
    case '<': h.endian = LITTLE; return;
    case '!': {
      const a = getnum(L, f, MAXALIGN);
      if (!isp2(a)) lua().raise(L, `alignment ${a} is not a power of 2`);
      h.align = a;
      return;
    }
    default:
      lua().argError(L, 1, `invalid format option '${opt}'`);
  }
}

function isInteger(opt: string): boolean {
  return 'bBhHlLTiI'.includes(opt);
}

/** Appends `size` bytes of the 64-bit pattern, zero beyond 8 bytes (as the C shifts do). */
function putinteger(out: number[], n: number, endian: number, size: number): void {
  let value = n < 0 ? doubleToInt64Bits(n) : doubleToUint64Bits(n);
  const bytes: number[] = [];
  for (let i = 0; i < size; i++) {
    bytes.push(Number(value & 0xffn));
    value >>= 8n;
  }
  if (endian === BIG) bytes.reverse();
  for (const b of bytes) out.push(b);
}

function getinteger(data: Buffer, pos: number, endian: number, signed: boolean, size: number): number {
  let l = 0n;
  const M64 = (1n << 64n) - 1n;
  if (endian === BIG) {
    for (let i = 0; i < size; i++) l = ((l << 8n) | BigInt(data[pos + i])) & M64;
  } else {
    for (let i = size - 1; i >= 0; i--) l = ((l << 8n) | BigInt(data[pos + i])) & M64;
  }
  if (!signed) return Number(l);
  // x86 masks the shift count to 6 bits.
  const mask = (M64 << BigInt((size * 8 - 1) & 63)) & M64;
  if (l & mask) l |= mask;
  return Number(BigInt.asIntN(64, l));
}

function floatBytes(n: number, size: number, endian: number): number[] {
  const b = Buffer.alloc(size);
  if (size === 4) b.writeFloatLE(n, 0);
  else b.writeDoubleLE(n, 0);
  const arr = [...b];
  if (endian === BIG) arr.reverse();
  return arr;
}

function pack(L: LuaState): number {
  const E = lua();
  const f = readFormat(L);
  const h: Header = { endian: LITTLE, align: 1 };
  let arg = 2;
  let total = 0;
  const out: number[] = [];
  while (f.more) {
    const opt = f.next();
    let size = optsize(L, opt, f);
    let toalign = gettoalign(total, h, opt, size);
    total += toalign;
    while (toalign-- > 0) out.push(0);
    if (isInteger(opt)) {
      putinteger(out, E.checkNumber(L, arg++), h.endian, size);
    } else if (opt === 'x') {
      out.push(0);
    } else if (opt === 'f' || opt === 'd') {
      const n = E.checkNumber(L, arg++);
      for (const b of floatBytes(n, size, h.endian)) out.push(b);
    } else if (opt === 'c' || opt === 's') {
      const s = E.checkBytes(L, arg++);
      if (size === 0) size = s.length;
      if (s.length < size) E.argError(L, arg, 'string too short');
      for (let i = 0; i < size; i++) out.push(s[i]);
      if (opt === 's') {
        out.push(0);
        size++;
      }
    } else {
      controloptions(L, opt, f, h);
    }
    total += size;
  }
  E.pushBytes(L, Uint8Array.from(out));
  return 1;
}

function unpack(L: LuaState): number {
  const E = lua();
  const f = readFormat(L);
  const data = E.checkBytes(L, 2);
  const ld = data.length;
  const offset = E.type(L, 3) <= 0 ? 1 : Math.trunc(E.checkNumber(L, 3));
  // A size_t in C: only 0 is refused here; a negative offset wraps and is "too short" below.
  if (offset === 0) E.argError(L, 3, 'offset must be 1 or greater');
  let pos = offset - 1;
  const h: Header = { endian: LITTLE, align: 1 };
  E.setTop(L, 2);
  let n = 0;
  const tooShort = (size: number) => !(size <= ld && pos >= 0 && pos <= ld - size);
  while (f.more) {
    const opt = f.next();
    let size = optsize(L, opt, f);
    pos += gettoalign(pos, h, opt, size);
    if (tooShort(size)) E.argError(L, 2, 'data string too short');
    if (!E.checkStack(L, 2)) E.raise(L, 'stack overflow (too many results)');
    if (isInteger(opt)) {
      E.pushNumber(L, getinteger(data, pos, h.endian, opt === opt.toLowerCase(), size));
      n++;
    } else if (opt === 'x') {
      // padding
    } else if (opt === 'f' || opt === 'd') {
      const bytes = Buffer.from(data.subarray(pos, pos + size));
      if (h.endian === BIG) bytes.reverse();
      E.pushNumber(L, size === 4 ? bytes.readFloatLE(0) : bytes.readDoubleLE(0));
      n++;
    } else if (opt === 'c') {
      if (size === 0) {
        if (n === 0 || !E.isNumber(L, -1)) E.raise(L, "format 'c0' needs a previous size");
        size = Math.trunc(E.toNumber(L, -1));
        E.pop(L, 1);
        n--;
        if (tooShort(size)) E.argError(L, 2, 'data string too short');
      }
      E.pushBytes(L, data, pos, pos + size);
      n++;
    } else if (opt === 's') {
      const e = data.indexOf(0, pos);
      if (e < 0) E.raise(L, 'unfinished string in data');
      size = e - pos + 1;
      E.pushBytes(L, data, pos, e);
      n++;
    } else {
      controloptions(L, opt, f, h);
    }
    pos += size;
  }
  E.pushNumber(L, pos + 1);
  return n + 1;
}

function size(L: LuaState): number {
  const E = lua();
  const f = readFormat(L);
  const h: Header = { endian: LITTLE, align: 1 };
  let pos = 0;
  while (f.more) {
    const opt = f.next();
    const sz = optsize(L, opt, f);
    pos += gettoalign(pos, h, opt, sz);
    if (opt === 's') E.argError(L, 1, "option 's' has no fixed size");
    else if (opt === 'c' && sz === 0) E.argError(L, 1, "option 'c0' has no fixed size");
    if (!/[A-Za-z0-9]/.test(opt)) controloptions(L, opt, f, h);
    pos += sz;
  }
  E.pushNumber(L, pos);
  return 1;
}

export const structFunctions: Record<string, (L: LuaState) => number> = { pack, unpack, size };

