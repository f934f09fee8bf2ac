/**
 * The `bit` library (Lua BitOp 1.0 semantics, as Redis bundles it): 32-bit
 * operations on Lua numbers, results as signed 32-bit numbers.
 */
import { lua, LUA_TNONE, type LuaState } from '../engine.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/**
 * A number's 32-bit pattern the way BitOp computes it: add 2^52+2^51 and
 * take the low word of the double, which rounds to nearest and wraps.
 */
export function toBits(n: number): number {
  f64[0] = n + 6755399441055744.0;
  return u32[LOW] >>> 0;
}

/** Argument `idx` as bits; strings convertible to numbers are accepted, like lua_tonumber. */
function barg(L: LuaState, idx: number): number {
  const E = lua();
  const n = E.toNumber(L, idx);
  const b = toBits(n);
  if (b === 0 && !E.isNumber(L, idx)) E.typeError(L, idx, 'number');
  return b;
}

function ret(L: LuaState, b: number): number {
  lua().pushNumber(L, b | 0);
  return 1;
}

function variadic(op: (a: number, b: number) => number) {
  return (L: LuaState): number => {
    let b = barg(L, 1);
    for (let i = lua().getTop(L); i > 1; i--) b = op(b, barg(L, i));
    return ret(L, b);
  };
}

function shift(op: (b: number, n: number) => number) {
  return (L: LuaState): number => {
    const b = barg(L, 1);
    const n = barg(L, 2) & 31;
    return ret(L, op(b, n));
  };
}

export const bitFunctions: Record<string, (L: LuaState) => number> = {
  tobit: (L) => ret(L, barg(L, 1)),
  bnot: (L) => ret(L, ~barg(L, 1)),
  band: variadic((a, b) => a & b),
  bor: variadic((a, b) => a | b),
  bxor: variadic((a, b) => a ^ b),
  lshift: shift((b, n) => b << n),
  rshift: shift((b, n) => b >>> n),
  arshift: shift((b, n) => (b | 0) >> n),
  // JS masks shift counts to 5 bits, as x86 does, so n = 0 gives b.
  rol: shift((b, n) => (b << n) | (b >>> (32 - n))),
  ror: shift((b, n) => (b >>> n) | (b << (32 - n))),
  bswap: (L) => {
    const b = barg(L, 1);
    return ret(L, ((b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24)) >>> 0);
  },
  tohex: (L) => {
    const E = lua();
    let b = barg(L, 1);
    let n = E.type(L, 2) === LUA_TNONE ? 8 : barg(L, 2) | 0;
    let digits = '0123456789abcdef';
    if (n < 0) {
      n = -n;
      digits = '0123456789ABCDEF';
    }
    if (n > 8) n = 8;
    let s = '';
    for (let i = 0; i < n; i++) {
      s = digits[b & 15] + s;
      b >>>= 4;
    }
    E.pushString(L, s);
    return 1;
  },
};
