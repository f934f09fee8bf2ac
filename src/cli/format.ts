/**
 * Reply formatting, byte for byte as redis-cli 7.0 prints it:
 *   standard ("TTY") output: `(integer) 1`, quoted strings, `1) ...` numbered aggregates
 *     with nested indentation, `1#` maps with ` => `, `1~` sets, RESP3 scalars;
 *   raw output (default when stdout is not a terminal): bare values, one per line;
 *   CSV and JSON output (--csv, --json, --quoted-json).
 * Strings are latin1 (one char per byte); quoting is sdscatrepr's (quoteArg).
 */
import type { Reply } from './reply.js';
import { quoteArg } from '../util/splitargs.js';

export type OutputMode = 'standard' | 'raw' | 'csv' | 'json' | 'quoted-json';

/** sdscatrepr: a double-quoted string with C escapes and \xHH for non-printable bytes. */
export const repr = quoteArg;

const EMPTY_AGGREGATE: Record<string, string> = {
  array: '(empty array)\n',
  map: '(empty hash)\n',
  set: '(empty set)\n',
  push: '(empty push)\n',
};

/**
 * Standard output. `prefix` is the indentation of nested elements; the first element of
 * an aggregate is not indented because its parent already printed the index before it.
 */
export function formatTTY(r: Reply, prefix = ''): string {
  switch (r.type) {
    case 'error':
      return `(error) ${r.str}\n`;
    case 'status':
      return r.str + '\n';
    case 'integer':
      return `(integer) ${r.value}\n`;
    case 'double':
      return `(double) ${r.str}\n`;
    case 'bignum':
      // redis-cli 7.0 exits with "Unknown reply type: 13" here; later versions print this.
      return `(big number) ${r.str}\n`;
    case 'string':
      return repr(r.str) + '\n';
    case 'verbatim':
      return r.str + '\n';
    case 'nil':
      return '(nil)\n';
    case 'bool':
      return r.value ? '(true)\n' : '(false)\n';
    default: {
      const n = r.elements.length;
      if (n === 0) return EMPTY_AGGREGATE[r.type];
      const isMap = r.type === 'map';
      const count = isMap ? n / 2 : n;
      const idxlen = String(count).length;
      const childPrefix = prefix + ' '.repeat(idxlen + 2);
      const sep = r.type === 'set' ? '~' : isMap ? '#' : ')';
      let out = '';
      for (let i = 0; i < n; i++) {
        const human = (isMap ? i / 2 : i) + 1;
        out += (i === 0 ? '' : prefix) + String(human).padStart(idxlen) + sep + ' ';
        out += formatTTY(r.elements[i], childPrefix);
        if (isMap) {
          i++;
          const value = r.elements[i];
          const text = formatTTY(value, childPrefix);
          out = out.slice(0, -1) + ' => ';
          // An aggregate value spanning several lines starts on its own line, under the key.
          if ('elements' in value && text.indexOf('\n') < text.length - 1) out += '\n' + childPrefix;
          out += text;
        }
      }
      return out;
    }
  }
}

/** Raw output of one reply, without the trailing command delimiter. */
export function formatRaw(r: Reply, mbDelim = '\n'): string {
  switch (r.type) {
    case 'nil':
      return '';
    case 'error':
      return r.str + '\n';
    case 'status':
    case 'string':
    case 'verbatim':
    case 'double':
    case 'bignum':
      return r.str;
    case 'bool':
      return r.value ? '(true)' : '(false)';
    case 'integer':
      return String(r.value);
    case 'map': {
      let out = '';
      for (let i = 0; i < r.elements.length; i += 2) {
        if (i > 0) out += mbDelim;
        out += formatRaw(r.elements[i], mbDelim) + ' ' + formatRaw(r.elements[i + 1], mbDelim);
      }
      return out;
    }
    default:
      return r.elements.map((e) => formatRaw(e, mbDelim)).join(mbDelim);
  }
}

export function formatCSV(r: Reply): string {
  switch (r.type) {
    case 'error':
      return 'ERROR,' + repr(cString(r.str));
    case 'status':
    case 'string':
    case 'verbatim':
      return repr(r.str);
    case 'integer':
      return String(r.value);
    case 'double':
    case 'bignum':
      return r.str;
    case 'nil':
      return 'NULL';
    case 'bool':
      return r.value ? 'true' : 'false';
    default:
      return r.elements.map(formatCSV).join(',');
  }
}

/** C's strlen view of a string: redis-cli formats some texts with strlen(). */
function cString(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

/** JSON string as redis-cli's --json writes it (control bytes as \u00XX, other bytes as is). */
function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = s.charCodeAt(i);
    if (c === '\\' || c === '"') out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\f') out += '\\f';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\b') out += '\\b';
    else if (code <= 0x1f) out += '\\u' + code.toString(16).padStart(4, '0');
    else out += c;
  }
  return out + '"';
}

/** --quoted-json: sdscatrepr's quoting with every backslash doubled (ASCII-safe). */
function quotedJsonString(s: string): string {
  return repr(s).replace(/\\/g, '\\\\');
}

export function formatJSON(r: Reply, mode: 'json' | 'quoted-json'): string {
  const str = mode === 'json' ? jsonString : quotedJsonString;
  switch (r.type) {
    case 'error':
      return 'error:' + repr(cString(r.str));
    case 'status':
      return repr(r.str);
    case 'string':
    case 'verbatim':
      return str(r.str);
    case 'integer':
      return String(r.value);
    case 'double':
    case 'bignum':
      return r.str;
    case 'nil':
      return 'null';
    case 'bool':
      return r.value ? 'true' : 'false';
    case 'map': {
      const parts: string[] = [];
      for (let i = 0; i < r.elements.length; i += 2) {
        const key = r.elements[i];
        let k: string;
        if (key.type === 'error' || key.type === 'status' || key.type === 'string' || key.type === 'verbatim') {
          k = formatJSON(key, mode);
        } else {
          // JSON object keys must be strings: quote whatever the key printed as.
          const text = formatJSON(key, mode);
          k = text.startsWith('"') ? text : `"${text}"`;
        }
        parts.push(k + ':' + formatJSON(r.elements[i + 1], mode));
      }
      return '{' + parts.join(',') + '}';
    }
    default:
      return '[' + r.elements.map((e) => formatJSON(e, mode)).join(',') + ']';
  }
}

/**
 * One reply as printed after a command. `verbatim` is set for commands whose reply is
 * text meant to be shown as is (INFO, CLIENT LIST, ...): raw formatting, no delimiter.
 */
export function formatReply(r: Reply, mode: OutputMode, verbatim: boolean, mbDelim = '\n', cmdDelim = '\n'): string {
  if (verbatim) return formatRaw(r, mbDelim);
  switch (mode) {
    case 'standard':
      return formatTTY(r);
    case 'raw':
      return formatRaw(r, mbDelim) + cmdDelim;
    case 'csv':
      return formatCSV(r) + '\n';
    default:
      return formatJSON(r, mode) + '\n';
  }
}

/** Client-tracking invalidation push as redis-cli shows it on a terminal. */
export function formatInvalidateTTY(r: Reply): string {
  const keys = r.type === 'push' && r.elements[1] && 'elements' in r.elements[1] ? r.elements[1].elements : [];
  const names = keys.map((k) => `'${'str' in k ? cString(k.str) : ''}'`);
  return '-> invalidate: ' + names.join(', ') + '\n';
}

/** True for a RESP3 push `invalidate` message. */
export function isInvalidatePush(r: Reply): boolean {
  if (r.type !== 'push' || r.elements.length !== 2) return false;
  const [kind, keys] = r.elements;
  return kind.type === 'string' && kind.str === 'invalidate' && keys.type === 'array';
}
