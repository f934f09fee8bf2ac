/**
 * Splitting of a redis.conf line into arguments, with the quoting rules
 * redis-server uses (sdssplitargs), and the inverse quoting (sdscatrepr)
 * used when command-line options are turned into config lines.
 * Strings are latin1: one char per byte.
 */

function isCSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function isHexDigit(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };

/**
 * Splits a line into arguments. Double quotes allow \xHH and \n \r \t \b \a
 * escapes, single quotes only \'. A closing quote must be followed by a space
 * or the end of the line. Returns null on unbalanced quotes.
 */
export function splitArgs(line: string): string[] | null {
  const args: string[] = [];
  let p = 0;
  const n = line.length;
  for (;;) {
    while (p < n && isCSpace(line[p])) p++;
    if (p >= n) return args;
    let cur = '';
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = line[p];
      if (inDouble) {
        if (c === '\\' && line[p + 1] === 'x' && isHexDigit(line[p + 2]) && isHexDigit(line[p + 3])) {
          cur += String.fromCharCode(parseInt(line.slice(p + 2, p + 4), 16));
          p += 3;
        } else if (c === '\\' && p + 1 < n) {
          p++;
          cur += ESCAPES[line[p]] ?? line[p];
        } else if (c === '"') {
          if (p + 1 < n && !isCSpace(line[p + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null;
        } else {
          cur += c;
        }
      } else if (inSingle) {
        if (c === '\\' && line[p + 1] === "'") {
          p++;
          cur += "'";
        } else if (c === "'") {
          if (p + 1 < n && !isCSpace(line[p + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null;
        } else {
          cur += c;
        }
      } else if (c === undefined || c === ' ' || c === '\n' || c === '\r' || c === '\t') {
        done = true;
      } else if (c === '"') {
        inDouble = true;
      } else if (c === "'") {
        inSingle = true;
      } else {
        cur += c;
      }
      if (p < n) p++;
    }
    args.push(cur);
  }
}

/**
 * Quotes a string so that splitArgs() gives it back unchanged: Redis's sdscatrepr, also
 * the form of MONITOR's arguments and the Lua debugger's strings.
 */
export function quoteArg(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = s.charCodeAt(i);
    if (c === '\\' || c === '"') out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\x07') out += '\\a';
    else if (c === '\b') out += '\\b';
    else if (code >= 0x20 && code <= 0x7e) out += c;
    else out += '\\x' + (code & 0xff).toString(16).padStart(2, '0');
  }
  return out + '"';
}
