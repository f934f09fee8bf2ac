/**
 * What a configuration directive is: its names, flags, type, default, and how
 * a value is parsed from arguments and printed for CONFIG GET. Factories for
 * the standard types (bool, numeric, enum, string) live here; the special
 * directives are in special.ts and the full table in directives.ts.
 */
import { parseMemory, parseStrictInt, parseStrtoll, parseYesNo, toInt64, toUint64 } from './parse.js';

/** Cannot be changed by CONFIG SET (only at startup). */
export const IMMUTABLE = 1 << 0;
/** Value must be redacted from logs, SLOWLOG and MONITOR. */
export const SENSITIVE = 1 << 1;
/** CONFIG SET needs enable-protected-configs. */
export const PROTECTED = 1 << 2;
/** Not listed by CONFIG GET patterns; an exact name still works. */
export const HIDDEN = 1 << 3;
/** CONFIG SET refused while the dataset is loading. */
export const DENY_LOADING = 1 << 4;
/** Takes several arguments: a config-file line passes them all, CONFIG SET splits its value on spaces. */
export const MULTI_ARG = 1 << 5;

export type DirectiveType = 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'special';

/** State shared by the parse functions while a value is being set. */
export interface SetContext {
  /** True when reading a config file / command line, false for CONFIG SET. */
  fromFile: boolean;
  /** Current value of `dir`; relative paths are resolved against it, as after Redis's chdir. */
  dir: string;
  /** Whether `dir` must name an existing directory. */
  checkDir: boolean;
  /** Names of multi-line directives (save) already seen during this load. */
  seenInLoad: Set<string>;
}

export type ParseResult<T> = { value: T } | { error: string };

export interface NumericSpec {
  /** The C type Redis stores it in; decides signed or unsigned range checks. */
  ctype: 'int' | 'uint' | 'long' | 'ulong' | 'longlong' | 'ulonglong' | 'size_t' | 'ssize_t' | 'time_t' | 'off_t';
  min: bigint;
  max: bigint;
  /** Accepts 1k, 5mb ... (and prints bytes). */
  memory?: boolean;
  /** Also accepts "N%" (stored as -N). */
  percent?: boolean;
  /** Parsed and printed in octal (unixsocketperm). */
  octal?: boolean;
}

export interface Directive<T = unknown> {
  name: string;
  alias?: string;
  flags: number;
  type: DirectiveType;
  /** Compiled-in default (a function when it depends on the process, like dir). */
  defaultValue: T | (() => T);
  /** Parses arguments; `prev` is the current value (some directives merge into it). */
  parse(args: string[], prev: T, ctx: SetContext): ParseResult<T>;
  /** The value as CONFIG GET prints it. */
  format(value: T): string;
  numeric?: NumericSpec;
  /** Allowed values of an enum directive, in Redis's order. */
  enumValues?: string[];
  /** Adjustment Redis makes when a CONFIG SET is applied (e.g. repl-backlog-size minimum). */
  runtimeAdjust?: (value: T) => T;
}

export interface CommonOptions {
  alias?: string;
  flags?: number;
}

// ---- bool -------------------------------------------------------------------

export function boolDirective(name: string, def: boolean, opts: CommonOptions = {}): Directive<boolean> {
  return {
    name,
    alias: opts.alias,
    flags: opts.flags ?? 0,
    type: 'bool',
    defaultValue: def,
    parse(args) {
      const v = parseYesNo(args[0]);
      return v === null ? { error: "argument must be 'yes' or 'no'" } : { value: v };
    },
    format: (v) => (v ? 'yes' : 'no'),
  };
}

// ---- numeric ----------------------------------------------------------------

const UNSIGNED_CTYPES = new Set(['uint', 'ulonglong', 'size_t']);

/** Parses a numeric config value the way Redis does for the given spec (value as a signed 64-bit). */
export function parseNumeric(spec: NumericSpec, s: string): ParseResult<bigint> {
  let v: bigint | null = null;
  if (spec.memory) {
    const m = parseMemory(s);
    if (m !== null) v = toInt64(m);
  }
  if (v === null && spec.percent && s.length > 1 && s.endsWith('%')) {
    const p = parseStrictInt(s.slice(0, -1));
    if (p !== null && p >= 0n) v = -p;
  }
  if (v === null && spec.octal) v = parseStrtoll(s, 8, true);
  if (v === null && !spec.memory && !spec.percent && !spec.octal) v = parseStrictInt(s);
  if (v === null) {
    if (spec.memory && spec.percent) return { error: 'argument must be a memory or percent value' };
    if (spec.memory) return { error: 'argument must be a memory value' };
    if (spec.octal) return { error: "argument couldn't be parsed as an octal number" };
    return { error: "argument couldn't be parsed into an integer" };
  }
  if (UNSIGNED_CTYPES.has(spec.ctype)) {
    const u = toUint64(v);
    if (u > toUint64(spec.max) || u < toUint64(spec.min)) {
      const f = (b: bigint) => toUint64(b).toString(spec.octal ? 8 : 10);
      return { error: `argument must be between ${f(spec.min)} and ${f(spec.max)} inclusive` };
    }
  } else if (spec.percent && v < 0n) {
    if (v < spec.min) return { error: `percentage argument must be less or equal to ${-spec.min}` };
  } else if (v > spec.max || v < spec.min) {
    return { error: `argument must be between ${spec.min} and ${spec.max} inclusive` };
  }
  return { value: v };
}

export function formatNumeric(spec: NumericSpec, v: bigint): string {
  if (spec.percent && v < 0n) return `${-v}%`;
  if (spec.memory) return toUint64(v).toString();
  if (spec.octal) return toUint64(v).toString(8);
  return v.toString();
}

/** The value as a JS number: unsigned types and memory read as unsigned. */
export function numericToNumber(spec: NumericSpec, v: bigint): number {
  // A percentage (maxmemory-clients 10%) is stored as -percent and reads as such.
  if (spec.percent && v < 0n) return Number(v);
  return Number(spec.memory || UNSIGNED_CTYPES.has(spec.ctype) ? toUint64(v) : v);
}

export interface NumericOptions extends CommonOptions {
  memory?: boolean;
  percent?: boolean;
  octal?: boolean;
  /** Post-parse adjustment that Redis applies both at startup and at runtime (hz clamping). */
  clamp?: (v: bigint) => bigint;
  runtimeAdjust?: (v: bigint) => bigint;
}

export function numericDirective(
  name: string,
  ctype: NumericSpec['ctype'],
  min: bigint,
  max: bigint,
  def: bigint,
  opts: NumericOptions = {},
): Directive<bigint> {
  const spec: NumericSpec = { ctype, min, max, memory: opts.memory, percent: opts.percent, octal: opts.octal };
  return {
    name,
    alias: opts.alias,
    flags: opts.flags ?? 0,
    type: opts.memory ? 'memory' : 'int',
    defaultValue: def,
    numeric: spec,
    parse(args) {
      const r = parseNumeric(spec, args[0]);
      if ('error' in r || !opts.clamp) return r;
      return { value: opts.clamp(r.value) };
    },
    format: (v) => formatNumeric(spec, v),
    runtimeAdjust: opts.runtimeAdjust,
  };
}

// ---- enum -------------------------------------------------------------------

export interface EnumOptions extends CommonOptions {
  /** Several values may be combined as bit flags (shutdown-on-sigint "nosave now"). */
  bitFlags?: boolean;
  validate?: (v: number) => string | null;
}

export function enumDirective(
  name: string,
  values: Array<[string, number]>,
  def: number,
  opts: EnumOptions = {},
): Directive<number> {
  const list = values.map(([n]) => n).join(', ');
  const error = `argument(s) must be one of the following: ${list}`;
  const lookup = (s: string): number | undefined => values.find(([n]) => n === s.toLowerCase())?.[1];
  return {
    name,
    alias: opts.alias,
    flags: (opts.flags ?? 0) | (opts.bitFlags ? MULTI_ARG : 0),
    type: 'enum',
    defaultValue: def,
    enumValues: values.map(([n]) => n),
    parse(args) {
      if (args.length === 0) return { error };
      let v = 0;
      for (const a of args) {
        const x = lookup(a);
        if (x === undefined) return { error };
        v |= x;
      }
      const bad = opts.validate?.(v);
      return bad ? { error: bad } : { value: v };
    },
    format(v) {
      if (!opts.bitFlags || v === 0) return values.find(([, x]) => x === v)?.[0] ?? 'unknown';
      return values
        .filter(([, bit]) => bit !== 0 && (v & bit) === bit)
        .map(([n]) => n)
        .join(' ');
    },
  };
}

// ---- string -----------------------------------------------------------------

export interface StringOptions extends CommonOptions {
  validate?: (v: string) => string | null;
}

export function stringDirective(name: string, def: string, opts: StringOptions = {}): Directive<string> {
  return {
    name,
    alias: opts.alias,
    flags: opts.flags ?? 0,
    type: 'string',
    defaultValue: def,
    parse(args) {
      const bad = opts.validate?.(args[0]);
      return bad ? { error: bad } : { value: args[0] };
    },
    format: (v) => v,
  };
}
