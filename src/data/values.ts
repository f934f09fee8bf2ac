/**
 * The value types a key can hold. Plain strings are latin1 JS strings; strings
 * mutated in place (APPEND, SETRANGE, SETBIT, BITFIELD) become a MutableString,
 * which also reports Redis's "raw" encoding as Redis does after such commands.
 * Aggregate types are classes with a `type` tag; they live in their own files.
 */
export class MutableString {
  buf: Buffer;
  len: number;

  constructor(initial: string | Buffer, capacity = 0) {
    const n = typeof initial === 'string' ? initial.length : initial.length;
    this.buf = Buffer.alloc(Math.max(n, capacity));
    if (typeof initial === 'string') this.buf.latin1Write(initial, 0);
    else initial.copy(this.buf, 0);
    this.len = n;
  }

  /** Grows to at least n bytes (zero-filled), amortised like sds. */
  reserve(n: number): void {
    if (n <= this.buf.length) return;
    const size = n < 1024 * 1024 ? Math.max(n * 2, 16) : n + 1024 * 1024;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Sets the length to n, zero-filling new bytes. */
  setLength(n: number): void {
    this.reserve(n);
    if (n > this.len) this.buf.fill(0, this.len, n);
    this.len = n;
  }

  append(s: string): void {
    this.reserve(this.len + s.length);
    this.buf.latin1Write(s, this.len, s.length);
    this.len += s.length;
  }

  toString(): string {
    return this.buf.latin1Slice(0, this.len);
  }

  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export type StringValue = string | MutableString;

/** Aggregate values carry a type tag; see data/<type>.ts. */
export interface AggregateValue {
  readonly type: 'hash' | 'list' | 'set' | 'zset' | 'stream';
  /** The encoding Redis 7.0 would report for the same data and history (OBJECT ENCODING). */
  encoding(): string;
  /** A deep copy (COPY, and anything else that must not share structure). */
  clone(): AggregateValue;
}

export type Value = StringValue | AggregateValue;

export type TypeName = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

export function typeOf(v: Value): TypeName {
  if (typeof v === 'string' || v instanceof MutableString) return 'string';
  return (v as AggregateValue).type;
}

export function isString(v: Value): v is StringValue {
  return typeof v === 'string' || v instanceof MutableString;
}

export function stringOf(v: StringValue): string {
  return typeof v === 'string' ? v : v.toString();
}

export function stringLength(v: StringValue): number {
  return typeof v === 'string' ? v.length : v.len;
}
