/**
 * The AOF manifest of Redis 7.0's multi-part AOF: a text file in the
 * append-only directory listing the base file, history files (to delete) and
 * incremental files, one per line:
 *
 *   file appendonly.aof.1.base.rdb seq 1 type b
 *   file appendonly.aof.1.incr.aof seq 1 type i
 *
 * Lines are split with sdssplitargs rules (a file name that needs quoting is
 * written with sdscatrepr quoting); "#" lines are comments; unknown key/value
 * pairs are ignored for forward compatibility. Errors carry Redis's texts.
 */
import { splitArgs, quoteArg } from '../../util/splitargs.js';

export type AofFileType = 'b' | 'h' | 'i';

export interface AofInfo {
  name: string;
  seq: number;
  type: AofFileType;
}

export interface AofManifest {
  base: AofInfo | null;
  /** Old files no longer part of the dataset, deleted once the manifest that drops them is on disk. */
  history: AofInfo[];
  /** Incremental files in load order (increasing seq). */
  incrs: AofInfo[];
  /** Sequence numbers of the newest base and incr files (the next ones are +1). */
  baseSeq: number;
  incrSeq: number;
}

/** Longest manifest line Redis accepts. */
const MAX_LINE = 1024;

/** A manifest Redis would refuse, with its message and (when a line is to blame) the line. */
export class AofManifestError extends Error {
  constructor(
    readonly reason: string,
    readonly line?: number,
    readonly lineText?: string,
  ) {
    super(
      '*** FATAL AOF MANIFEST FILE ERROR ***\n' +
        (line !== undefined ? `Reading the manifest file, at line ${line}\n>>> '${lineText}'\n` : '') +
        reason,
    );
    this.name = 'AofManifestError';
  }
}

export function emptyManifest(): AofManifest {
  return { base: null, history: [], incrs: [], baseSeq: 0, incrSeq: 0 };
}

export function cloneManifest(m: AofManifest): AofManifest {
  return {
    base: m.base ? { ...m.base } : null,
    history: m.history.map((a) => ({ ...a })),
    incrs: m.incrs.map((a) => ({ ...a })),
    baseSeq: m.baseSeq,
    incrSeq: m.incrSeq,
  };
}

/** C's atoll: optional spaces and sign, then leading digits; 0 when there are none. */
function atoll(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

function isBaseName(s: string): boolean {
  return !s.includes('/');
}

/** Parses manifest text (latin1) as Redis 7.0's aofLoadManifestFromFile does. */
export function parseManifest(text: string): AofManifest {
  const m = emptyManifest();
  if (text.length === 0) throw new AofManifestError('Found an empty AOF manifest');
  // fgets semantics: every line but possibly the last ends with '\n'.
  let pos = 0;
  let lineNo = 0;
  let maxIncrSeq = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const raw = nl < 0 ? text.slice(pos) : text.slice(pos, nl + 1);
    pos = nl < 0 ? text.length : nl + 1;
    lineNo++;
    if (raw[0] === '#') continue;
    const trimmed = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    const fail = (reason: string): never => {
      throw new AofManifestError(reason, lineNo, trimmed);
    };
    if (raw.length > MAX_LINE || !raw.endsWith('\n')) fail('The AOF manifest file contains too long line');
    if (trimmed.length === 0) fail('Invalid AOF manifest file format');
    const argv = splitArgs(trimmed);
    if (argv === null || argv.length < 6 || argv.length % 2 !== 0) fail('Invalid AOF manifest file format');
    let name: string | null = null;
    let seq = 0;
    let type = '';
    for (let i = 0; i < argv!.length; i += 2) {
      const k = argv![i].toLowerCase();
      const v = argv![i + 1];
      if (k === 'file') {
        name = v;
        if (!isBaseName(name)) fail("File can't be a path, just a filename");
      } else if (k === 'seq') {
        seq = atoll(v);
      } else if (k === 'type') {
        type = v[0] ?? '';
      }
    }
    if (!name || !seq || !type) fail('Invalid AOF manifest file format');
    const info = { name: name!, seq, type: type as AofFileType };
    if (type === 'b') {
      if (m.base !== null) fail('Found duplicate base file information');
      m.base = info;
      m.baseSeq = seq;
    } else if (type === 'h') {
      m.history.push(info);
    } else if (type === 'i') {
      if (seq <= maxIncrSeq) fail('Found a non-monotonic sequence number');
      m.incrs.push(info);
      m.incrSeq = seq;
      maxIncrSeq = seq;
    } else {
      fail('Unknown AOF file type');
    }
  }
  if (lineNo === 0) throw new AofManifestError('Found an empty AOF manifest');
  return m;
}

/** Whether a file name must be quoted in the manifest (Redis's sdsneedsrepr). */
export function needsQuoting(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // backslash, quote, control characters, space and non-ASCII all need quoting.
    if (c === 0x5c || c === 0x22 || c <= 0x20 || c >= 0x7f) return true;
  }
  return false;
}

function formatLine(a: AofInfo): string {
  const name = needsQuoting(a.name) ? quoteArg(a.name) : a.name;
  return `file ${name} seq ${a.seq} type ${a.type}\n`;
}

/** The manifest as Redis writes it: base, then history, then incr files. */
export function formatManifest(m: AofManifest): string {
  let out = '';
  if (m.base) out += formatLine(m.base);
  for (const h of m.history) out += formatLine(h);
  for (const i of m.incrs) out += formatLine(i);
  return out;
}

// ---- file names -----------------------------------------------------------------

export function manifestName(prefix: string): string {
  return `${prefix}.manifest`;
}

export function baseFileName(prefix: string, seq: number, rdb: boolean): string {
  return `${prefix}.${seq}.base.${rdb ? 'rdb' : 'aof'}`;
}

export function incrFileName(prefix: string, seq: number): string {
  return `${prefix}.${seq}.incr.aof`;
}

export function tempManifestName(prefix: string): string {
  return `temp-${prefix}.manifest`;
}

export function tempIncrName(prefix: string): string {
  return `temp-${prefix}.incr`;
}

export function tempBaseName(pid: number): string {
  return `temp-rewriteaof-bg-${pid}.aof`;
}
