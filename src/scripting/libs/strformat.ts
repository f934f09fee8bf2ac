/**
 * string.format with Lua 5.1's rules (lstrlib.c str_format) and the output of
 * Redis's x86-64 build. The wasm Lua formats %d with a 32-bit long, so the
 * whole function is done here: %d/%i/%o/%u/%x/%X take a 64-bit (long) cast of
 * the number, %c an (int) cast, %e/%f/%g glibc's rounding; like sprintf into
 * a C buffer, an item stops at its first NUL byte.
 */
import { lua, type LuaState } from '../engine.js';
import { cFormatDouble, cFormatInt, doubleToInt32, doubleToInt64, doubleToUint64Bits, type FormatSpec } from './cnum.js';

const FLAGS = '-+ #0';

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Parses the item after '%' at `i`; returns the spec and the index of the conversion letter. */
function scanFormat(L: LuaState, fmt: string, i: number): [FormatSpec, number] {
  const E = lua();
  let p = i;
  while (p < fmt.length && fmt[p] !== '\0' && FLAGS.includes(fmt[p])) p++;
  if (p - i >= FLAGS.length + 1) E.raise(L, 'invalid format (repeated flags)');
  const flags = fmt.slice(i, p);
  let width = 0;
  let precision: number | null = null;
  const w0 = p;
  if (isDigit(fmt, p)) p++;
  if (isDigit(fmt, p)) p++;
  if (p > w0) width = Number(fmt.slice(w0, p));
  if (fmt[p] === '.') {
    p++;
    const p0 = p;
    if (isDigit(fmt, p)) p++;
    if (isDigit(fmt, p)) p++;
    precision = p > p0 ? Number(fmt.slice(p0, p)) : 0;
  }
  if (isDigit(fmt, p)) E.raise(L, 'invalid format (width or precision too long)');
  return [{ flags, width, precision }, p];
}

function cutAtNul(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

function quoted(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '"' || ch === '\\' || ch === '\n') out += '\\' + ch;
    else if (ch === '\r') out += '\\r';
    else if (ch === '\0') out += '\\000';
    else out += ch;
  }
  return out + '"';
}

export function stringFormat(L: LuaState): number {
  const E = lua();
  const top = E.getTop(L);
  let arg = 1;
  const fmt = E.checkString(L, 1);
  const parts: string[] = [];
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i];
    if (ch !== '%') {
      parts.push(ch);
      i++;
      continue;
    }
    i++;
    if (fmt[i] === '%') {
      parts.push('%');
      i++;
      continue;
    }
    if (++arg > top) E.argError(L, arg, 'no value');
    const [spec, p] = scanFormat(L, fmt, i);
    const conv = fmt[p] ?? '\0';
    i = p + 1;
    switch (conv) {
      case 'c': {
        const code = doubleToInt32(E.checkNumber(L, arg)) & 0xff;
        const item = String.fromCharCode(code);
        parts.push(cutAtNul(padText(item, spec)));
        break;
      }
      case 'd':
      case 'i':
        parts.push(cFormatInt(spec, conv, doubleToInt64(E.checkNumber(L, arg))));
        break;
      case 'o':
      case 'u':
      case 'x':
      case 'X':
        parts.push(cFormatInt(spec, conv, doubleToUint64Bits(E.checkNumber(L, arg))));
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'g':
      case 'G':
        parts.push(cFormatDouble(spec, conv, E.checkNumber(L, arg)));
        break;
      case 'q':
        parts.push(quoted(E.checkString(L, arg)));
        break;
      case 's': {
        const s = E.checkString(L, arg);
        if (spec.precision === null && s.length >= 100) {
          parts.push(s);
        } else {
          let item = cutAtNul(s);
          if (spec.precision !== null) item = item.slice(0, spec.precision);
          parts.push(padText(item, spec));
        }
        break;
      }
      default:
        E.raise(L, `invalid option '%${conv}' to 'format'`);
    }
  }
  E.pushString(L, parts.join(''));
  return 1;
}

function padText(item: string, spec: FormatSpec): string {
  if (item.length >= spec.width) return item;
  const fill = ' '.repeat(spec.width - item.length);
  return spec.flags.includes('-') ? item + fill : fill + item;
}
