/**
 * The `cjson` library with lua-cjson 2.1.0's behaviour as Redis bundles it:
 * numbers as %.14g, '/' escaped, an empty table encoded as {}, sparse-array
 * detection, cjson.null as a NULL light userdata, and its error texts.
 * Object keys come out in Lua's own table order (lua_next), as in Redis.
 */
import {
  lua,
  LUA_TBOOLEAN,
  LUA_TLIGHTUSERDATA,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaState,
} from '../engine.js';
import { scanStrtod } from '../../util/numbers.js';
import { cFormatDouble, doubleToInt32 } from './cnum.js';

interface CjsonConfig {
  sparseConvert: boolean;
  sparseRatio: number;
  sparseSafe: number;
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  /** 0 refuse, 1 allow (as printf spells them), 2 encode as null. */
  encodeInvalidNumbers: number;
  decodeInvalidNumbers: boolean;
  encodeKeepBuffer: boolean;
  encodeNumberPrecision: number;
}

const configs = new Map<number, CjsonConfig>();
let nextConfigId = 1;

function newConfig(): number {
  const id = nextConfigId++;
  configs.set(id, {
    sparseConvert: false,
    sparseRatio: 2,
    sparseSafe: 10,
    encodeMaxDepth: 1000,
    decodeMaxDepth: 1000,
    encodeInvalidNumbers: 0,
    decodeInvalidNumbers: true,
    encodeKeepBuffer: true,
    encodeNumberPrecision: 14,
  });
  return id;
}

function configOf(L: LuaState): CjsonConfig {
  const E = lua();
  return configs.get(E.toNumber(L, E.upvalueIndex(1)))!;
}

// ---- encoding -----------------------------------------------------------------

const ESCAPES: (string | null)[] = new Array(256).fill(null);
for (let i = 0; i < 32; i++) ESCAPES[i] = '\\u' + i.toString(16).padStart(4, '0');
ESCAPES[8] = '\\b';
ESCAPES[9] = '\\t';
ESCAPES[10] = '\\n';
ESCAPES[12] = '\\f';
ESCAPES[13] = '\\r';
ESCAPES[34] = '\\"';
ESCAPES[47] = '\\/';
ESCAPES[92] = '\\\\';
ESCAPES[127] = '\\u007f';

function encodeString(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const esc = ESCAPES[s.charCodeAt(i)];
    if (esc !== null) {
      out += s.slice(from, i) + esc;
      from = i + 1;
    }
  }
  return out + s.slice(from) + '"';
}

function encodeException(L: LuaState, idx: number, reason: string): never {
  const E = lua();
  return E.raise(L, `Cannot serialise ${E.typeName(L, idx)}: ${reason}`);
}

function encodeNumber(L: LuaState, cfg: CjsonConfig, idx: number): string {
  const E = lua();
  const n = E.toNumber(L, idx);
  if (!Number.isFinite(n)) {
    if (cfg.encodeInvalidNumbers === 0) encodeException(L, idx, 'must not be NaN or Inf');
    // Allowed: printf's spelling, except that NaN is always "nan" (never "-nan").
    if (cfg.encodeInvalidNumbers === 1) return n !== n ? 'nan' : n < 0 ? '-inf' : 'inf';
    return 'null';
  }
  return cFormatDouble({ flags: '', width: 0, precision: cfg.encodeNumberPrecision }, 'g', n);
}

/** Length of the table on top as an array, or -1 when it must be an object. */
function arrayLength(L: LuaState, cfg: CjsonConfig): number {
  const E = lua();
  let max = 0;
  let items = 0;
  E.pushNil(L);
  while (E.next(L, -2)) {
    if (E.type(L, -2) === LUA_TNUMBER) {
      const k = E.toNumber(L, -2);
      if (k !== 0 && Math.floor(k) === k && k >= 1) {
        // `max` is a C int: a huge index overflows it (to INT_MIN on x86).
        if (k > max) max = doubleToInt32(k);
        items++;
        E.pop(L, 1);
        continue;
      }
    }
    E.pop(L, 2);
    return -1;
  }
  if (cfg.sparseRatio > 0 && max > items * cfg.sparseRatio && max > cfg.sparseSafe) {
    if (!cfg.sparseConvert) encodeException(L, -1, 'excessively sparse array');
    return -1;
  }
  return max;
}

/** Encodes the value on top of the stack (left there). */
function encodeValue(L: LuaState, cfg: CjsonConfig, depth: number, out: string[]): void {
  const E = lua();
  switch (E.type(L, -1)) {
    case LUA_TSTRING:
      out.push(encodeString(E.toStr(L, -1)!));
      return;
    case LUA_TNUMBER:
      out.push(encodeNumber(L, cfg, -1));
      return;
    case LUA_TBOOLEAN:
      out.push(E.toBoolean(L, -1) ? 'true' : 'false');
      return;
    case LUA_TNIL:
      out.push('null');
      return;
    case LUA_TLIGHTUSERDATA:
      if (E.toPointer(L, -1) === 0) {
        out.push('null');
        return;
      }
      break;
    case LUA_TTABLE: {
      depth++;
      if (depth > cfg.encodeMaxDepth || !E.checkStack(L, 3)) E.raise(L, `Cannot serialise, excessive nesting (${depth})`);
      const len = arrayLength(L, cfg);
      if (len > 0) {
        out.push('[');
        for (let i = 1; i <= len; i++) {
          if (i > 1) out.push(',');
          E.rawGetI(L, -1, i);
          encodeValue(L, cfg, depth, out);
          E.pop(L, 1);
        }
        out.push(']');
      } else {
        out.push('{');
        let comma = false;
        E.pushNil(L);
        while (E.next(L, -2)) {
          if (comma) out.push(',');
          else comma = true;
          const kt = E.type(L, -2);
          if (kt === LUA_TNUMBER) {
            out.push('"' + encodeNumber(L, cfg, -2) + '":');
          } else if (kt === LUA_TSTRING) {
            out.push(encodeString(E.toStr(L, -2)!) + ':');
          } else {
            encodeException(L, -2, 'table key must be a number or string');
          }
          encodeValue(L, cfg, depth, out);
          E.pop(L, 1);
        }
        out.push('}');
      }
      return;
    }
  }
  encodeException(L, -1, 'type not supported');
}

function encode(L: LuaState): number {
  const E = lua();
  const cfg = configOf(L);
  if (E.getTop(L) !== 1) E.argError(L, 1, 'expected 1 argument');
  const out: string[] = [];
  encodeValue(L, cfg, 0, out);
  E.pushString(L, out.join(''));
  return 1;
}

// ---- decoding -----------------------------------------------------------------

type TokenType =
  | 'T_OBJ_BEGIN' | 'T_OBJ_END' | 'T_ARR_BEGIN' | 'T_ARR_END' | 'T_STRING' | 'T_NUMBER'
  | 'T_BOOLEAN' | 'T_NULL' | 'T_COLON' | 'T_COMMA' | 'T_END' | 'T_ERROR';

interface Token {
  type: TokenType;
  index: number;
  str?: string;
  num?: number;
  bool?: boolean;
  error?: string;
}

const SINGLE: Record<string, TokenType> = {
  '{': 'T_OBJ_BEGIN',
  '}': 'T_OBJ_END',
  '[': 'T_ARR_BEGIN',
  ']': 'T_ARR_END',
  ',': 'T_COMMA',
  ':': 'T_COLON',
  '\0': 'T_END',
};
const UNKNOWN_START = '"+-0123456789INfint';
const ESCAPE_CHARS: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', t: '\t', n: '\n', f: '\f', r: '\r' };

class Parser {
  /** The JSON text plus the NUL terminator C sees. */
  readonly s: string;
  pos = 0;
  depth = 0;
  constructor(
    text: string,
    readonly cfg: CjsonConfig,
  ) {
    this.s = text + '\0';
  }

  private error(t: Token, type: string): Token {
    t.type = 'T_ERROR';
    t.index = this.pos;
    t.error = type;
    return t;
  }

  next(): Token {
    const s = this.s;
    let c = s[this.pos];
    while (c === ' ' || c === '\t' || c === '\n' || c === '\r') c = s[++this.pos];
    const t: Token = { type: 'T_END', index: this.pos };
    const single = SINGLE[c];
    if (single !== undefined) {
      t.type = single;
      if (single !== 'T_END') this.pos++;
      return t;
    }
    if (!UNKNOWN_START.includes(c)) return this.error(t, 'invalid token');
    if (c === '"') return this.stringToken(t);
    if (c === '-' || (c >= '0' && c <= '9')) {
      if (!this.cfg.decodeInvalidNumbers && this.isInvalidNumber()) return this.error(t, 'invalid number');
      return this.numberToken(t);
    }
    if (s.startsWith('true', this.pos)) {
      this.pos += 4;
      t.type = 'T_BOOLEAN';
      t.bool = true;
      return t;
    }
    if (s.startsWith('false', this.pos)) {
      this.pos += 5;
      t.type = 'T_BOOLEAN';
      t.bool = false;
      return t;
    }
    if (s.startsWith('null', this.pos)) {
      this.pos += 4;
      t.type = 'T_NULL';
      return t;
    }
    if (this.cfg.decodeInvalidNumbers && this.isInvalidNumber()) return this.numberToken(t);
    return this.error(t, 'invalid token');
  }

  private isInvalidNumber(): boolean {
    const s = this.s;
    let p = this.pos;
    if (s[p] === '+') return true;
    if (s[p] === '-') p++;
    if (s[p] === '0') {
      const c2 = s.charCodeAt(p + 1);
      return (c2 | 0x20) === 120 || (c2 >= 48 && c2 <= 57);
    }
    if (s.charCodeAt(p) <= 57) return false;
    const word = s.slice(p, p + 3).toLowerCase();
    return word === 'inf' || word === 'nan';
  }

  private numberToken(t: Token): Token {
    const sc = scanStrtod(this.s, this.pos);
    if (sc.end === this.pos) return this.error(t, 'invalid number');
    let value: number;
    if (sc.kind === 'inf') value = sc.neg ? -Infinity : Infinity;
    else if (sc.kind === 'nan') value = NaN;
    else if (sc.kind === 'hex') value = (sc.neg ? -1 : 1) * Number(BigInt('0x' + (sc.digits || '0'))) * 2 ** sc.exp;
    else value = Number(this.s.slice(sc.numStart, sc.end));
    this.pos = sc.end;
    t.type = 'T_NUMBER';
    t.num = value;
    return t;
  }

  private hex4(at: number): number {
    const h = this.s.slice(at, at + 4);
    return /^[0-9a-fA-F]{4}$/.test(h) ? parseInt(h, 16) : -1;
  }

  private stringToken(t: Token): Token {
    const s = this.s;
    this.pos++;
    let out = '';
    for (;;) {
      const ch = s[this.pos];
      if (ch === '"') break;
      if (ch === '\0') return this.error(t, 'unexpected end of string');
      if (ch === '\\') {
        const esc = s[this.pos + 1];
        if (esc === 'u') {
          const utf8 = this.unicodeEscape();
          if (utf8 === null) return this.error(t, 'invalid unicode escape code');
          out += utf8;
          continue;
        }
        const mapped = ESCAPE_CHARS[esc];
        if (mapped === undefined) return this.error(t, 'invalid escape code');
        out += mapped;
        this.pos += 2;
        continue;
      }
      out += ch;
      this.pos++;
    }
    this.pos++;
    t.type = 'T_STRING';
    t.str = out;
    return t;
  }

  /** Decodes \uXXXX (or a surrogate pair) at pos into UTF-8 bytes; null when invalid. */
  private unicodeEscape(): string | null {
    let cp = this.hex4(this.pos + 2);
    if (cp < 0) return null;
    let len = 6;
    if ((cp & 0xf800) === 0xd800) {
      if (cp & 0x400) return null;
      if (this.s[this.pos + 6] !== '\\' || this.s[this.pos + 7] !== 'u') return null;
      const low = this.hex4(this.pos + 8);
      if (low < 0 || (low & 0xfc00) !== 0xdc00) return null;
      cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
      len = 12;
    }
    this.pos += len;
    return Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
  }
}

function parseError(L: LuaState, expected: string, t: Token): never {
  const found = t.type === 'T_ERROR' ? t.error! : t.type;
  return lua().raise(L, `Expected ${expected} but found ${found} at character ${t.index + 1}`);
}

function descend(L: LuaState, p: Parser): void {
  p.depth++;
  if (p.depth <= p.cfg.decodeMaxDepth && lua().checkStack(L, 3)) return;
  lua().raise(L, `Found too many nested data structures (${p.depth}) at character ${p.pos}`);
}

function parseValue(L: LuaState, p: Parser, t: Token): void {
  const E = lua();
  switch (t.type) {
    case 'T_STRING':
      E.pushString(L, t.str!);
      return;
    case 'T_NUMBER':
      E.pushNumber(L, t.num!);
      return;
    case 'T_BOOLEAN':
      E.pushBoolean(L, t.bool!);
      return;
    case 'T_NULL':
      E.pushLightUserdata(L, 0);
      return;
    case 'T_OBJ_BEGIN': {
      descend(L, p);
      E.newTable(L);
      let tk = p.next();
      if (tk.type === 'T_OBJ_END') {
        p.depth--;
        return;
      }
      for (;;) {
        if (tk.type !== 'T_STRING') parseError(L, 'object key string', tk);
        E.pushString(L, tk.str!);
        tk = p.next();
        if (tk.type !== 'T_COLON') parseError(L, 'colon', tk);
        parseValue(L, p, p.next());
        E.rawSet(L, -3);
        tk = p.next();
        if (tk.type === 'T_OBJ_END') {
          p.depth--;
          return;
        }
        if (tk.type !== 'T_COMMA') parseError(L, 'comma or object end', tk);
        tk = p.next();
      }
    }
    case 'T_ARR_BEGIN': {
      descend(L, p);
      E.newTable(L);
      let tk = p.next();
      if (tk.type === 'T_ARR_END') {
        p.depth--;
        return;
      }
      for (let i = 1; ; i++) {
        parseValue(L, p, tk);
        E.rawSetI(L, -2, i);
        tk = p.next();
        if (tk.type === 'T_ARR_END') {
          p.depth--;
          return;
        }
        if (tk.type !== 'T_COMMA') parseError(L, 'comma or array end', tk);
        tk = p.next();
      }
    }
    default:
      parseError(L, 'value', t);
  }
}

function decode(L: LuaState): number {
  const E = lua();
  const cfg = configOf(L);
  if (E.getTop(L) !== 1) E.argError(L, 1, 'expected 1 argument');
  const text = E.checkString(L, 1);
  if (text.length >= 2 && (text.charCodeAt(0) === 0 || text.charCodeAt(1) === 0)) {
    E.raise(L, 'JSON parser does not support UTF-16 or UTF-32');
  }
  const p = new Parser(text, cfg);
  parseValue(L, p, p.next());
  const end = p.next();
  if (end.type !== 'T_END') parseError(L, 'the end', end);
  return 1;
}

// ---- configuration ---------------------------------------------------------------

/** json_arg_init: at most n arguments, padded with nils. */
function argInit(L: LuaState, n: number): CjsonConfig {
  const E = lua();
  if (E.getTop(L) > n) E.argError(L, n + 1, 'found too many arguments');
  while (E.getTop(L) < n) E.pushNil(L);
  return configOf(L);
}

function integerOption(L: LuaState, idx: number, current: number, min: number, max: number): number {
  const E = lua();
  let value = current;
  if (E.type(L, idx) !== LUA_TNIL) {
    const v = Math.trunc(E.checkNumber(L, idx)) | 0;
    if (!(min <= v && v <= max)) E.argError(L, 1, `expected integer between ${min} and ${max}`);
    value = v;
  }
  E.pushNumber(L, value);
  return value;
}

/** json_enum_option with options off/on (and extra ones): returns the new setting. */
function enumOption(L: LuaState, idx: number, current: number, options: string[], boolTrue: number): number {
  const E = lua();
  let setting = current;
  if (E.type(L, idx) !== LUA_TNIL) {
    if (boolTrue && E.type(L, idx) === LUA_TBOOLEAN) {
      setting = E.toBoolean(L, idx) ? boolTrue : 0;
    } else {
      const s = E.type(L, idx) === LUA_TSTRING || E.type(L, idx) === LUA_TNUMBER ? E.toStr(L, idx)! : null;
      const i = s === null ? -1 : options.indexOf(s);
      if (s === null) E.checkString(L, idx);
      if (i < 0) E.argError(L, idx, `invalid option '${s}'`);
      setting = i;
    }
  }
  if (boolTrue && (setting === 0 || setting === boolTrue)) E.pushBoolean(L, setting !== 0);
  else E.pushString(L, options[setting]);
  return setting;
}

const OFF_ON = ['off', 'on'];

const configFunctions: Record<string, (L: LuaState) => number> = {
  encode_sparse_array: (L) => {
    const cfg = argInit(L, 3);
    cfg.sparseConvert = enumOption(L, 1, cfg.sparseConvert ? 1 : 0, OFF_ON, 1) !== 0;
    cfg.sparseRatio = integerOption(L, 2, cfg.sparseRatio, 0, 2147483647);
    cfg.sparseSafe = integerOption(L, 3, cfg.sparseSafe, 0, 2147483647);
    return 3;
  },
  encode_max_depth: (L) => {
    const cfg = argInit(L, 1);
    cfg.encodeMaxDepth = integerOption(L, 1, cfg.encodeMaxDepth, 1, 2147483647);
    return 1;
  },
  decode_max_depth: (L) => {
    const cfg = argInit(L, 1);
    cfg.decodeMaxDepth = integerOption(L, 1, cfg.decodeMaxDepth, 1, 2147483647);
    return 1;
  },
  encode_number_precision: (L) => {
    const cfg = argInit(L, 1);
    cfg.encodeNumberPrecision = integerOption(L, 1, cfg.encodeNumberPrecision, 1, 14);
    return 1;
  },
  encode_keep_buffer: (L) => {
    const cfg = argInit(L, 1);
    cfg.encodeKeepBuffer = enumOption(L, 1, cfg.encodeKeepBuffer ? 1 : 0, OFF_ON, 1) !== 0;
    return 1;
  },
  encode_invalid_numbers: (L) => {
    const cfg = argInit(L, 1);
    cfg.encodeInvalidNumbers = enumOption(L, 1, cfg.encodeInvalidNumbers, ['off', 'on', 'null'], 1);
    return 1;
  },
  decode_invalid_numbers: (L) => {
    const cfg = argInit(L, 1);
    cfg.decodeInvalidNumbers = enumOption(L, 1, cfg.decodeInvalidNumbers ? 1 : 0, OFF_ON, 1) !== 0;
    return 1;
  },
};

/** Pushes a new cjson module table with its own configuration. */
export function pushCjson(L: LuaState): void {
  const E = lua();
  const id = newConfig();
  E.newTable(L);
  const fns: Record<string, (L: LuaState) => number> = { encode, decode, ...configFunctions, new: newModule };
  for (const name of Object.keys(fns)) {
    E.pushNumber(L, id);
    E.pushFunction(L, fns[name], 1);
    E.setField(L, -2, name);
  }
  E.pushLightUserdata(L, 0);
  E.setField(L, -2, 'null');
  E.pushString(L, 'cjson');
  E.setField(L, -2, '_NAME');
  E.pushString(L, '2.1.0');
  E.setField(L, -2, '_VERSION');
}

function newModule(L: LuaState): number {
  pushCjson(L);
  return 1;
}
