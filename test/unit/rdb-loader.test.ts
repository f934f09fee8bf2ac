/**
 * The loader's opcodes and the value types only older Redis versions wrote
 * (built by hand here from the format): linked lists, ziplists, zipmaps,
 * quicklist v1, text scores, stream listpacks v1; module aux data (skipped
 * with a warning), module values (refused), function libraries, seconds
 * expire times, IDLE and FREQ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter } from '../../src/persistence/rdb/bytes.js';
import { Crc64 } from '../../src/persistence/rdb/crc64.js';
import * as C from '../../src/persistence/rdb/constants.js';
import { writeLen, writeString, DEFAULT_ENCODE_OPTIONS as O } from '../../src/persistence/rdb/encode.js';
import { ListpackWriter } from '../../src/persistence/rdb/listpack.js';
import { RdbParser, RdbLoadError } from '../../src/persistence/rdb/loader.js';
import { limitsFrom } from '../../src/persistence/rdb/decode.js';
import { Config } from '../../src/config/config.js';
import { Database } from '../../src/db/database.js';
import { newServer, image, client, run, describe_ } from './rdb-helpers.js';
import { loadRdb, persistenceOf } from '../../src/persistence/index.js';
import { setLogSink } from '../../src/persistence/log.js';
import type { Value } from '../../src/data/values.js';

const NOW = 1_700_000_000_000;

/** Frames records as a version-`version` RDB file with EOF and checksum. */
function file(body: (w: ByteWriter) => void, version = 9): Buffer {
  const w = new ByteWriter();
  w.latin1('REDIS' + String(version).padStart(4, '0'));
  body(w);
  w.u8(C.RDB_OPCODE_EOF);
  const crc = new Crc64().update(w.buf, 0, w.pos);
  w.bytes(crc.bytesLE());
  return Buffer.from(w.view());
}

function load(buf: Buffer, warnings: string[] = [], onFunction?: (code: string) => void): Database[] {
  const server = newServer();
  const dbs = server.dbs.map((db) => new Database(db.id, server));
  const p = new RdbParser(buf, dbs, {
    limits: limitsFrom(new Config()),
    now: NOW,
    verifyChecksum: true,
    onWarning: (m) => warnings.push(m),
    onFunction,
  });
  while (!p.step()) {
    /* to the end */
  }
  return dbs;
}

function get(dbs: Database[], key: string, db = 0): unknown {
  const v = dbs[db].keys.get(key);
  return v === undefined ? undefined : describe_(v as Value);
}

/** A ziplist of strings and small integers (encodings per ziplist.c). */
function ziplist(items: Array<string | number>): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    const parts: number[] = prev < 254 ? [prev] : [0xfe, prev & 255, (prev >> 8) & 255, (prev >> 16) & 255, prev >>> 24];
    if (typeof it === 'number') {
      if (it >= 0 && it <= 12) parts.push(0xf1 + it);
      else {
        parts.push(0xc0);
        const b = Buffer.alloc(2);
        b.writeInt16LE(it);
        parts.push(...b);
      }
    } else {
      parts.push(it.length); // 6-bit length: short strings only here
      parts.push(...Buffer.from(it, 'latin1'));
    }
    const e = Buffer.from(parts);
    entries.push(e);
    prev = e.length;
  }
  const body = Buffer.concat(entries);
  const zl = Buffer.alloc(10 + body.length + 1);
  zl.writeUInt32LE(zl.length, 0);
  zl.writeUInt32LE(10 + body.length - (entries.at(-1)?.length ?? 0), 4);
  zl.writeUInt16LE(items.length, 8);
  body.copy(zl, 10);
  zl[zl.length - 1] = 0xff;
  return zl;
}

function blob(w: ByteWriter, b: Buffer): void {
  writeLen(w, b.length);
  w.bytes(b);
}

test('legacy value types: linked list, ziplists, zipmap, quicklist v1, text scores, intset', () => {
  const buf = file((w) => {
    w.u8(C.RDB_OPCODE_SELECTDB);
    writeLen(w, 0);
    w.u8(C.RDB_TYPE_LIST);
    writeString(w, 'l1', O);
    writeLen(w, 3);
    for (const s of ['a', '12', 'c']) writeString(w, s, O);
    w.u8(C.RDB_TYPE_LIST_ZIPLIST);
    writeString(w, 'l2', O);
    blob(w, ziplist(['x', 5, -300]));
    w.u8(C.RDB_TYPE_LIST_QUICKLIST);
    writeString(w, 'l3', O);
    writeLen(w, 2);
    blob(w, ziplist(['a', 'b']));
    blob(w, ziplist([1, 2]));
    w.u8(C.RDB_TYPE_HASH_ZIPLIST);
    writeString(w, 'h1', O);
    blob(w, ziplist(['f', 'v', 'n', 7]));
    w.u8(C.RDB_TYPE_HASH_ZIPMAP);
    writeString(w, 'h2', O);
    blob(w, Buffer.from([2, 1, 0x61, 1, 0, 0x31, 2, 0x62, 0x62, 3, 2, 0x78, 0x79, 0x7a, 0, 0, 0xff]));
    w.u8(C.RDB_TYPE_ZSET_ZIPLIST);
    writeString(w, 'z1', O);
    blob(w, ziplist(['a', 1, 'b', '2.5']));
    w.u8(C.RDB_TYPE_ZSET);
    writeString(w, 'z2', O);
    writeLen(w, 3);
    writeString(w, 'x', O);
    w.u8(3);
    w.latin1('1.5');
    writeString(w, 'y', O);
    w.u8(254); // +inf
    writeString(w, 'z', O);
    w.u8(255); // -inf
    w.u8(C.RDB_TYPE_HASH);
    writeString(w, 'h3', O);
    writeLen(w, 1);
    writeString(w, 'k', O);
    writeString(w, 'v', O);
  });
  const dbs = load(buf);
  assert.deepEqual(get(dbs, 'l1'), ['list', ['a', '12', 'c']]);
  assert.deepEqual(get(dbs, 'l2'), ['list', ['x', '5', '-300']]);
  assert.deepEqual(get(dbs, 'l3'), ['list', ['a', 'b', '1', '2']]);
  assert.deepEqual(get(dbs, 'h1'), ['hash', [['f', 'v'], ['n', '7']]]);
  assert.deepEqual(get(dbs, 'h2'), ['hash', [['a', '1'], ['bb', 'xyz']]]);
  assert.deepEqual(get(dbs, 'z1'), ['zset', [['a', 1], ['b', 2.5]]]);
  assert.deepEqual(get(dbs, 'z2'), ['zset', [['z', -Infinity], ['x', 1.5], ['y', Infinity]]]);
  assert.deepEqual(get(dbs, 'h3'), ['hash', [['k', 'v']]]);
});

test('stream listpacks v1 (Redis 5/6): counters and group read counts are derived on load', () => {
  const lp = new ListpackWriter().begin();
  // master entry: count 2, deleted 0, 1 field "f", terminator
  for (const x of [2, 0, 1]) lp.addInt(x);
  lp.addString('f');
  lp.addInt(0);
  // entry 5-0 (same fields): flags 2, ms delta 0, seq delta 0, value, lp-count 4
  for (const x of [2, 0, 0]) lp.addInt(x);
  lp.addString('a');
  lp.addInt(4);
  // entry 7-1 (same fields)
  for (const x of [2, 2, 1]) lp.addInt(x);
  lp.addString('b');
  lp.addInt(4);
  const lpBytes = Buffer.from(lp.finish());
  const key = Buffer.alloc(16);
  key.writeBigUInt64BE(5n, 0);
  const buf = file((w) => {
    w.u8(C.RDB_TYPE_STREAM_LISTPACKS);
    writeString(w, 's', O);
    writeLen(w, 1);
    blob(w, key);
    blob(w, lpBytes);
    writeLen(w, 2); // length
    writeLen(w, 7);
    writeLen(w, 1); // last id 7-1
    writeLen(w, 1); // one group
    writeString(w, 'g', O);
    writeLen(w, 5);
    writeLen(w, 0); // last delivered 5-0
    writeLen(w, 0); // empty PEL
    writeLen(w, 0); // no consumers
  });
  const dbs = load(buf);
  assert.deepEqual(get(dbs, 's'), ['stream', [['5', '0', ['f', 'a']], ['7', '1', ['f', 'b']]], '7', '1', '2', '0', '0', [['g', '5', '0', '1', 0]]]);
});

test('module aux data is skipped with a warning; module values are refused with the module name', () => {
  const moduleId = (id: string, ver: number): bigint => {
    const cs = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let v = 0n;
    for (const ch of id) v = (v << 6n) | BigInt(cs.indexOf(ch));
    return (v << 10n) | BigInt(ver);
  };
  const aux = (w: ByteWriter) => {
    w.u8(C.RDB_OPCODE_MODULE_AUX);
    writeLen(w, moduleId('mymodule1', 3));
    writeLen(w, C.RDB_MODULE_OPCODE_UINT);
    writeLen(w, 2); // when
    writeLen(w, C.RDB_MODULE_OPCODE_UINT);
    writeLen(w, 99);
    writeLen(w, C.RDB_MODULE_OPCODE_STRING);
    writeString(w, 'state', O);
    writeLen(w, C.RDB_MODULE_OPCODE_DOUBLE);
    w.f64le(1.5);
    writeLen(w, C.RDB_MODULE_OPCODE_EOF);
  };
  const warnings: string[] = [];
  const dbs = load(
    file((w) => {
      aux(w);
      w.u8(C.RDB_TYPE_STRING);
      writeString(w, 'k', O);
      writeString(w, 'v', O);
    }),
    warnings,
  );
  assert.deepEqual(get(dbs, 'k'), ['string', 'v']);
  assert.ok(warnings.some((m) => m.includes("AUX module data of module 'mymodule1'")), warnings.join('\n'));
  assert.throws(
    () =>
      load(
        file((w) => {
          w.u8(C.RDB_TYPE_MODULE_2);
          writeString(w, 'm', O);
          writeLen(w, moduleId('ReJSON-RL', 3));
        }),
      ),
    (e: Error) => e instanceof RdbLoadError && /module type 'ReJSON-RL'/.test(e.message),
  );
});

test('function libraries: written after the aux fields, read back through the hook, skipped with a warning without one', () => {
  const a = newServer();
  persistenceOf(a).functions = { dump: () => ['#!lua name=lib1\nredis.register_function("f", function() return 1 end)'], load: () => {}, flush: () => {} };
  run(a, client(a), 'SET', 'k', 'v');
  const buf = image(a);
  const got: string[] = [];
  load(buf, [], (code) => got.push(code));
  assert.deepEqual(got, ['#!lua name=lib1\nredis.register_function("f", function() return 1 end)']);
  const warnings: string[] = [];
  const dbs = load(buf, warnings);
  assert.deepEqual(get(dbs, 'k'), ['string', 'v']);
  assert.ok(warnings.some((m) => /function library/.test(m)));
  assert.throws(() => load(file((w) => w.u8(C.RDB_OPCODE_FUNCTION_PRE_GA))), /Pre-release function format/);
});

test('expire times in seconds and milliseconds, IDLE and FREQ opcodes, aux fields', () => {
  const auxSeen: string[] = [];
  const server = newServer();
  const dbs = server.dbs.map((db) => new Database(db.id, server));
  const buf = file((w) => {
    w.u8(C.RDB_OPCODE_AUX);
    writeString(w, 'redis-ver', O);
    writeString(w, '6.2.6', O);
    w.u8(C.RDB_OPCODE_RESIZEDB);
    writeLen(w, 4);
    writeLen(w, 2);
    w.u8(C.RDB_OPCODE_EXPIRETIME);
    w.u32le(Math.floor(NOW / 1000) + 100);
    w.u8(C.RDB_TYPE_STRING);
    writeString(w, 'sec', O);
    writeString(w, 'v', O);
    w.u8(C.RDB_OPCODE_EXPIRETIME_MS);
    w.i64le(NOW + 5000);
    w.u8(C.RDB_OPCODE_IDLE);
    writeLen(w, 300);
    w.u8(C.RDB_TYPE_STRING);
    writeString(w, 'ms', O);
    writeString(w, 'v', O);
    w.u8(C.RDB_OPCODE_FREQ);
    w.u8(20);
    w.u8(C.RDB_TYPE_STRING);
    writeString(w, 'freq', O);
    writeString(w, 'v', O);
    w.u8(C.RDB_OPCODE_EXPIRETIME_MS);
    w.i64le(NOW - 1);
    w.u8(C.RDB_TYPE_STRING);
    writeString(w, 'expired', O);
    writeString(w, 'v', O);
  });
  const p = new RdbParser(buf, dbs, { limits: limitsFrom(server.config), now: NOW, verifyChecksum: true, onAux: (k, v) => auxSeen.push(`${k}=${v}`) });
  while (!p.step()) {
    /* to the end */
  }
  assert.deepEqual(auxSeen, ['redis-ver=6.2.6']);
  assert.equal(dbs[0].getExpire('sec'), (Math.floor(NOW / 1000) + 100) * 1000);
  assert.equal(dbs[0].getExpire('ms'), NOW + 5000);
  const i = dbs[0].keys.find('ms');
  assert.equal(dbs[0].keys.access[i], Math.floor(NOW / 1000) - 300);
  assert.ok(dbs[0].has('freq'));
  assert.equal(dbs[0].keys.find('expired'), -1);
  assert.deepEqual([p.keysLoaded, p.keysExpired], [3, 1]);
});

test('empty aggregates are skipped (as Redis does) and reported', () => {
  const warnings: string[] = [];
  const dbs = load(
    file((w) => {
      w.u8(C.RDB_TYPE_LIST_QUICKLIST_2);
      writeString(w, 'empty', O);
      writeLen(w, 0);
      w.u8(C.RDB_TYPE_SET);
      writeString(w, 'full', O);
      writeLen(w, 1);
      writeString(w, 'm', O);
    }, 10),
    warnings,
  );
  assert.equal(dbs[0].keys.find('empty'), -1);
  assert.deepEqual(get(dbs, 'full'), ['set', ['m']]);
  assert.ok(warnings.includes('rdbLoadObject skipping empty key: empty'), warnings.join('\n'));
});

test('loadRdb through the server keeps the start-up log quiet in tests and counts keys in INFO', () => {
  const a = newServer();
  run(a, client(a), 'SET', 'x', '1');
  const b = newServer();
  const lines: string[] = [];
  setLogSink(b, (_l, line) => lines.push(line));
  loadRdb(b, image(a));
  assert.ok(lines.some((l) => /Done loading RDB, keys loaded: 1, keys expired: 0\./.test(l)));
  assert.equal(persistenceOf(b).lastLoadKeysLoaded, 1);
});

test('a server load that skipped empty keys ends with a warning naming their count', () => {
  const b = newServer();
  const lines: string[] = [];
  setLogSink(b, (level, line) => lines.push(`${level}: ${line.replace(/^\d+:\w \S+ \S+ \S+ \S+ . /, '')}`));
  loadRdb(
    b,
    file((w) => {
      w.u8(C.RDB_TYPE_SET);
      writeString(w, 'empty', O);
      writeLen(w, 0);
      w.u8(C.RDB_TYPE_STRING);
      writeString(w, 'full', O);
      writeString(w, 'v', O);
    }, 10),
  );
  assert.ok(lines.includes('warning: rdbLoadObject skipping empty key: empty'), lines.join('\n'));
  assert.ok(lines.includes('warning: Done loading RDB, keys loaded: 1, keys expired: 0, empty keys skipped: 1.'), lines.join('\n'));
});
