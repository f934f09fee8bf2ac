/**
 * Helpers for the RDB unit tests: an in-process server without a socket,
 * commands run through the real dispatcher with a socket-less client, and
 * a comparable description of a whole dataset.
 */
import { Server } from '../../src/server/server.js';
import { Client } from '../../src/server/client.js';
import { Config } from '../../src/config/config.js';
import { Clock } from '../../src/server/clock.js';
import { writeRdbSync } from '../../src/persistence/index.js';
import { setLogSink } from '../../src/persistence/log.js';
import { typeOf, stringOf, isString, type Value } from '../../src/data/values.js';
import type { ListValue } from '../../src/data/list.js';
import type { SetValue } from '../../src/data/set.js';
import type { HashValue } from '../../src/data/hash.js';
import type { ZSetValue } from '../../src/data/zset.js';
import type { StreamValue } from '../../src/data/stream.js';

export function newServer(config: Record<string, string> = {}, clock?: Clock): Server {
  const s = new Server({ config: new Config({ save: '', 'enable-debug-command': 'yes', ...config }, { checkDir: false }), clock });
  setLogSink(s, () => {});
  return s;
}

/** Runs one command on a socket-less client; returns the raw reply. */
export function run(server: Server, c: Client, ...argv: string[]): string {
  server.execute(c, argv);
  return c.takeOutput().latin1Slice();
}

export function client(server: Server): Client {
  return new Client(server, null);
}

/** The whole RDB image of a server, written synchronously. */
export function image(server: Server): Buffer {
  const parts: Buffer[] = [];
  writeRdbSync(server, (b) => parts.push(Buffer.from(b)));
  return Buffer.concat(parts);
}

/** Every key of every db: contents, encoding and TTL, in a canonical order. */
export function dataset(server: Server): unknown[] {
  const out: unknown[] = [];
  for (const db of server.dbs) {
    const keys = [...db.keys.keys].sort();
    for (const k of keys) {
      const v = db.keys.get(k) as Value;
      const enc = typeof v === 'object' && 'encoding' in v ? (v as { encoding(): string }).encoding() : 'string';
      out.push([db.id, k, enc, db.getExpire(k), describe_(v)]);
    }
  }
  return out;
}

/** Fills a server with every type in every encoding (db 0 and db 5). */
export function populate(server: Server): void {
  const c = client(server);
  const cmds: string[][] = [
    ['SET', 'str:int', '12345'],
    ['SET', 'str:neg', '-2147483648'],
    ['SET', 'str:big', '9223372036854775807'],
    ['SET', 'str:raw', 'hello world'],
    ['SET', 'str:long', 'abc'.repeat(100)],
    ['SET', 'str:bin', '\x00\x01\xfe\xff\r\n'],
    ['SET', 'str:empty', ''],
    ['APPEND', 'str:mutable', 'xyz'],
    ['APPEND', 'str:mutable', '0123456789'.repeat(5)],
    ['SETBIT', 'str:bits', '100', '1'],
    ['PFADD', 'hll', 'a', 'b', 'c', 'd'],
    ['SET', 'ttl:ms', 'v', 'PX', '123456789'],
    ['RPUSH', 'list:small', 'a', '1', '-5', '70000', 'x'.repeat(80)],
    ['SADD', 'set:intset', '3', '1', '2', '-40000'],
    ['SADD', 'set:int64', '1', '9223372036854775807', '-9223372036854775808'],
    ['SADD', 'set:small', 'a', 'b', '1'],
    ['HSET', 'hash:small', 'f1', 'v1', 'num', '42', 'neg', '-3'],
    ['HSET', 'hash:big', 'long', 'v'.repeat(100), 'x', 'y'],
    ['ZADD', 'zset:small', '1', 'a', '2.5', 'b', '-1e-5', 'c', 'inf', 'd', '-inf', 'e'],
    ['ZADD', 'zset:long-member', '1', 'm'.repeat(100), '-0', 'zero'],
    ['XADD', 'stream', '1-1', 'f', 'v'],
    ['XADD', 'stream', '1-2', 'f', 'w'],
    ['XADD', 'stream', '2-0', 'g', '1', 'h', '2'],
    ['XADD', 'stream', '3-0', 'f', 'z'],
    ['XDEL', 'stream', '1-2'],
    ['XGROUP', 'CREATE', 'stream', 'g1', '0'],
    ['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '2', 'STREAMS', 'stream', '>'],
    ['XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '1', 'STREAMS', 'stream', '>'],
    ['XACK', 'stream', 'g1', '1-1'],
    ['XGROUP', 'CREATE', 'stream', 'g2', '$'],
    ['XGROUP', 'CREATECONSUMER', 'stream', 'g2', 'idle'],
    ['XADD', 'stream:empty', 'MAXLEN', '0', '*', 'f', 'v'],
    ['SELECT', '5'],
    ['SET', 'in:db5', 'five'],
    ['LPUSH', 'list:db5', 'z'],
    ['SELECT', '0'],
  ];
  for (const cmd of cmds) {
    const r = run(server, c, ...cmd);
    if (r.startsWith('-')) throw new Error(`${cmd.join(' ')}: ${r}`);
  }
  const big: string[] = [];
  for (let i = 0; i < 5000; i++) big.push(i % 3 === 0 ? `item-${i}-${'p'.repeat(i % 50)}` : String(i * 7 - 1000));
  run(server, c, 'RPUSH', 'list:big', ...big);
  const members: string[] = [];
  for (let i = 0; i < 600; i++) members.push(String(i * 3));
  run(server, c, 'SADD', 'set:bigint', ...members);
  run(server, c, 'SADD', 'set:big', ...members.map((m) => 'm' + m));
  const zargs: string[] = [];
  for (let i = 0; i < 300; i++) zargs.push(String(i / 7), `z${i}`);
  run(server, c, 'ZADD', 'zset:big', ...zargs);
  const hargs: string[] = [];
  for (let i = 0; i < 700; i++) hargs.push(`f${i}`, String(i));
  run(server, c, 'HSET', 'hash:many', ...hargs);
  const x: string[] = [];
  for (let i = 0; i < 350; i++) run(server, c, 'XADD', 'stream:big', `${1000 + i}-0`, 'temp', String(i), ...(i % 5 === 0 ? ['extra', 'yes'] : []));
  void x;
  run(server, c, 'XDEL', 'stream:big', '1000-0', '1200-0');
}

/** The contents of a value in a comparable form (type, then data in a canonical order). */
export function describe_(v: Value): unknown {
  const t = typeOf(v);
  if (isString(v)) return [t, stringOf(v)];
  if (t === 'list') return [t, (v as ListValue).toArray()];
  if (t === 'set') return [t, (v as SetValue).members().sort()];
  if (t === 'hash') {
    const out: string[][] = [];
    (v as HashValue).forEach((f, x) => out.push([f, x]));
    return [t, out.sort()];
  }
  if (t === 'zset') {
    const out: Array<[string, number]> = [];
    (v as ZSetValue).forEach((m, s) => {
      out.push([m, s]);
    });
    return [t, out];
  }
  const s = v as StreamValue;
  const entries: unknown[] = [];
  for (let p = s.firstPos(); p !== null; p = s.nextPos(p)) entries.push([String(s.idAt(p).ms), String(s.idAt(p).seq), s.fieldsAt(p)]);
  const groups = s.sortedGroups().map((g) => [g.name, String(g.lastId.ms), String(g.lastId.seq), String(g.entriesRead), g.pel.size]);
  return [t, entries, String(s.lastId.ms), String(s.lastId.seq), String(s.entriesAdded), String(s.maxDeletedId.ms), String(s.maxDeletedId.seq), groups];
}

