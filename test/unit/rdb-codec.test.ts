/**
 * RDB building blocks: CRC-64 and LZF against known vectors and Redis's own
 * output, listpack/intset/ziplist/zipmap encoding rules, and DUMP payloads
 * compared byte for byte with payloads captured from redis-server 7.0.15.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Crc64, crc64 } from '../../src/persistence/rdb/crc64.js';
import { lzfCompress, lzfDecompress, LzfError } from '../../src/persistence/rdb/lzf.js';
import { ListpackWriter, readListpack, listpackEntrySize } from '../../src/persistence/rdb/listpack.js';
import { buildIntset, readIntset } from '../../src/persistence/rdb/intset.js';
import { readZiplist, readZipmap } from '../../src/persistence/rdb/legacy.js';
import { RdbFormatError } from '../../src/persistence/rdb/bytes.js';
import { createDumpPayload, verifyDumpPayload, decodeDumpPayload } from '../../src/persistence/rdb/dump.js';
import { DEFAULT_ENCODE_OPTIONS } from '../../src/persistence/rdb/encode.js';
import { limitsFrom } from '../../src/persistence/rdb/decode.js';
import { Config } from '../../src/config/config.js';
import type { ZSetValue } from '../../src/data/zset.js';
import { describe_ } from './rdb-helpers.js';

/** Bit-by-bit reference CRC-64/Jones (reflected), independent of the table code. */
function referenceCrc(buf: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n; // 0xad93d23594c935a9 reflected
  let crc = 0n;
  for (const b of buf) {
    crc ^= BigInt(b);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

function pseudoRandom(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

describe('CRC-64 (Jones, reflected)', () => {
  test('check value and empty input', () => {
    assert.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
    assert.equal(crc64(Buffer.alloc(0)), 0n);
  });

  test('sliced table code equals the bitwise definition for every length up to 64 and random data', () => {
    const rnd = pseudoRandom(7);
    const data = Buffer.alloc(300);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(rnd() * 256);
    for (let n = 0; n <= 64; n++) assert.equal(crc64(data, 0, n), referenceCrc(data.subarray(0, n)), `length ${n}`);
    assert.equal(crc64(data), referenceCrc(data));
  });

  test('incremental updates at any split equal one pass', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog, twice: the quick brown fox.');
    const whole = crc64(data);
    for (let cut = 0; cut <= data.length; cut += 3) {
      const c = new Crc64().update(data, 0, cut).update(data, cut, data.length);
      assert.equal(c.value(), whole);
      assert.ok(c.matchesLE(c.bytesLE(), 0));
    }
  });
});

describe('LZF', () => {
  test("compresses exactly as Redis (a DUMP of redis-server 7.0.15's)", () => {
    const input = Buffer.from('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa hello hello hello world');
    const out = lzfCompress(input, input.length - 4);
    assert.ok(out);
    assert.equal(Buffer.from(out).toString('hex'), '016161e02900052068656c6c6fe0040504776f726c64');
  });

  test('round trips compressible and random data; refuses output that does not fit', () => {
    const rnd = pseudoRandom(99);
    for (let n = 1; n < 3000; n += 37) {
      const text = Buffer.alloc(n);
      for (let i = 0; i < n; i++) text[i] = 97 + Math.floor(rnd() * 4); // 4 letters: compressible
      const c = lzfCompress(text, n + 64);
      assert.ok(c, `compressible ${n}`);
      assert.deepEqual(lzfDecompress(Buffer.from(c), n), text);
    }
    const noise = Buffer.alloc(500);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rnd() * 256);
    assert.equal(lzfCompress(noise, noise.length - 4), null);
    const c = lzfCompress(noise, noise.length + 100);
    assert.ok(c);
    assert.deepEqual(lzfDecompress(Buffer.from(c), noise.length), noise);
  });

  test('corrupt input is an error, never garbage', () => {
    const good = Buffer.from(lzfCompress(Buffer.from('abcabcabcabcabcabcabcabc'), 100)!);
    assert.throws(() => lzfDecompress(good, 23), LzfError); // wrong length
    assert.throws(() => lzfDecompress(good.subarray(0, good.length - 1), 24), LzfError); // truncated
    assert.throws(() => lzfDecompress(Buffer.from([0xe0, 0x05, 0xff]), 20), LzfError); // reference before start
  });
});

describe('listpack', () => {
  test('integers use the smallest encoding and strings that look like integers are integers', () => {
    const w = new ListpackWriter().begin();
    const values = ['0', '127', '128', '-1', '-4096', '4095', '4096', '-32768', '32767', '70000', '-8388608', '2147483647', '2147483648', '-9223372036854775808', '01', '-0', '+1', 'abc', 'x'.repeat(70), 'y'.repeat(5000)];
    for (const v of values) w.addString(v);
    const lp = Buffer.from(w.finish());
    const back = readListpack(lp).map(String);
    assert.deepEqual(back, values);
    // Sizes: header 6 + end 1 + each element as listpackEntrySize reports.
    assert.equal(lp.length, 7 + values.reduce((a, v) => a + listpackEntrySize(v), 0));
    assert.equal(listpackEntrySize('5'), 2);
    assert.equal(listpackEntrySize('-5'), 3);
    assert.equal(listpackEntrySize('abc'), 5);
  });

  test('validation rejects bad headers, counts, terminators and back lengths', () => {
    const lp = Buffer.from(new ListpackWriter().begin().finish());
    assert.deepEqual(readListpack(lp), []);
    const w = new ListpackWriter().begin();
    w.addString('hello');
    const good = Buffer.from(w.finish());
    const bad = (mutate: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      mutate(b);
      assert.throws(() => readListpack(b), RdbFormatError);
    };
    bad((b) => (b[0] = 99)); // total bytes
    bad((b) => (b[4] = 2)); // element count
    bad((b) => (b[b.length - 1] = 0)); // terminator
    bad((b) => (b[b.length - 2] = 9)); // back length
    bad((b) => (b[6] = 0x8f)); // string length past the end
  });
});

describe('intset, ziplist, zipmap', () => {
  test('intset picks the narrowest width and reads back sorted members', () => {
    assert.equal(buildIntset(['-3', '5']).toString('hex'), '0200000002000000fdff0500');
    const wide = Buffer.from(buildIntset(['-3', '5', '40000']));
    assert.equal(wide.readUInt32LE(0), 4);
    assert.deepEqual(readIntset(Buffer.from(buildIntset(['1', '9007199254740993']))), ['1', '9007199254740993']);
    assert.throws(() => readIntset(Buffer.from('0200000002000000050003ff', 'hex')), RdbFormatError); // unsorted
    assert.throws(() => readIntset(Buffer.from('0300000000000000', 'hex')), RdbFormatError); // bad width
  });

  test('ziplist entries of every encoding', () => {
    // zlbytes, zltail, zllen, then: "ab" (6-bit str), 7 (imm), -2 (int8), 300 (int16), 70000 (int24), end.
    const entries = [
      [0x00, 0x02, 0x61, 0x62],
      [0x04, 0xf8],
      [0x02, 0xfe, 0xfe],
      [0x03, 0xc0, 0x2c, 0x01],
      [0x04, 0xf0, 0x70, 0x11, 0x01],
    ];
    const body = Buffer.from(entries.flat());
    const zl = Buffer.alloc(10 + body.length + 1);
    zl.writeUInt32LE(zl.length, 0);
    zl.writeUInt32LE(10 + body.length - 5, 4);
    zl.writeUInt16LE(entries.length, 8);
    body.copy(zl, 10);
    zl[zl.length - 1] = 0xff;
    assert.deepEqual(readZiplist(zl), ['ab', 7, -2, 300, 70000]);
    const broken = Buffer.from(zl);
    broken[14] = 9; // prevlen of the second entry
    assert.throws(() => readZiplist(broken), RdbFormatError);
  });

  test('zipmap pairs', () => {
    // zmlen 2, "a" -> "1" (free 0), "bb" -> "xyz" (free 2), end.
    const zm = Buffer.from([2, 1, 0x61, 1, 0, 0x31, 2, 0x62, 0x62, 3, 2, 0x78, 0x79, 0x7a, 0, 0, 0xff]);
    assert.deepEqual(readZipmap(zm), ['a', '1', 'bb', 'xyz']);
    assert.throws(() => readZipmap(zm.subarray(0, 10)), RdbFormatError);
    // Redis's deep check: an empty zipmap, or a header count that does not match, is corrupt.
    assert.throws(() => readZipmap(Buffer.from([0, 0xff])), /Zipmap integrity check failed/);
    const miscounted = Buffer.from(zm);
    miscounted[0] = 3;
    assert.throws(() => readZipmap(miscounted), /Zipmap integrity check failed/);
    const unknownCount = Buffer.from(zm);
    unknownCount[0] = 254;
    assert.deepEqual(readZipmap(unknownCount), ['a', '1', 'bb', 'xyz']);
  });
});

/** DUMP payloads of redis-server 7.0.15 (hex), for values whose encoding is deterministic. */
const REDIS_DUMPS: Record<string, string> = {
  hash: '1021210000000600846e616d6505856d6e656d6f06816e022a01836e656704dff902ff0a003699df1696f90df1',
  list: '120102c31d4058155800000005008161020101d06002f270110104e04178e037000143ff0a00e1b3876b3a63e167',
  'set-big-int': '0bc31318040800000002200300012003400080070120000a001d0715f27c3159e8',
  'set-intset': '0b140400000003000000fdffffff05000000409c00000a0095d90c23502f4668',
  'str-bin': '000500c3bf0d0a0a00e4ce0083be447c27',
  'str-int16': '00c1b80b0a00a113c6f3de2b8403',
  'str-int32': '00c2006cca880a0035ffaebd7f1d7a67',
  'str-int8': '00c09c0a00ff77a3b766addee4',
  'str-lzf': '00c30d280361626361e01702032d78797a0a005107b344fe20202f',
  'str-raw': '000b68656c6c6f20776f726c640a000bfc49b9a6c7a034',
  stream:
    '130110000000000000000500000000000000013e3e00000018000201010101018474656d70050001020100010001140104010301000101011501040100010101dfff020201817802010181790202010801ff02060005010502030103677270050181ffffffffffffffff00000a0003089597a7db4e54',
  zset: '11c32c350d350000000800816302972d312e30e005001831652d303518816102010181620283322e35048164020a01ff0a0052d35c3da07f1fa4',
  'zset-skiplist': '050401630000000000000c40016200000000000000400161000000000000f03f016400000000000000800a002fde17ccb28c0ca4',
};

describe('DUMP payloads', () => {
  const limits = limitsFrom(new Config());

  for (const [name, hex] of Object.entries(REDIS_DUMPS)) {
    test(`${name}: Redis's payload verifies, decodes, and re-encodes to the same bytes`, () => {
      const payload = Buffer.from(hex, 'hex');
      assert.ok(verifyDumpPayload(payload));
      // The skiplist fixture was dumped with zset-max-listpack-entries 2.
      const l = name === 'zset-skiplist' ? { ...limits, zset: { maxEntries: 2, maxValue: 64 } } : limits;
      const v = decodeDumpPayload(payload, l);
      assert.ok(v !== null);
      const again = createDumpPayload(v, DEFAULT_ENCODE_OPTIONS);
      assert.equal(again.toString('hex'), hex);
    });
  }

  test('decoded contents', () => {
    const dec = (name: string) => describe_(decodeDumpPayload(Buffer.from(REDIS_DUMPS[name], 'hex'), limits)!);
    assert.deepEqual(dec('list'), ['list', ['a', '1', '-4000', '70000', 'x'.repeat(65)]]);
    assert.deepEqual(dec('set-big-int'), ['set', ['1', '9007199254740993']]);
    assert.deepEqual(dec('hash'), ['hash', [['n', '42'], ['name', 'mnemo'], ['neg', '-7']]]);
    assert.deepEqual(dec('zset'), ['zset', [['c', -1e-5], ['a', 1], ['b', 2.5], ['d', 10]]]);
    assert.deepEqual(dec('str-bin'), ['string', '\x00\xc3\xbf\r\n']); // sent as UTF-8 when captured
    assert.deepEqual(dec('str-lzf'), ['string', 'abcabcabcabcabcabcabcabcabcabcabcabc-xyz']);
    const z = decodeDumpPayload(Buffer.from(REDIS_DUMPS['zset-skiplist'], 'hex'), limits) as ZSetValue;
    assert.equal(z.encoding(), 'listpack'); // 4 members fit the default limits again
    assert.ok(Object.is(z.score('d'), 0) || Object.is(z.score('d'), -0));
    assert.deepEqual(dec('stream'), ['stream', [['5', '1', ['temp', '20']], ['6', '0', ['x', '1', 'y', '2']]], '6', '0', '3', '5', '2', [['grp', '5', '1', '-1', 0]]]);
  });

  test('a wrong checksum, a newer version or a short payload fails verification; bad data decodes to null', () => {
    const good = Buffer.from(REDIS_DUMPS['str-raw'], 'hex');
    const flipped = Buffer.from(good);
    flipped[3] ^= 1;
    assert.equal(verifyDumpPayload(flipped), false);
    const newer = Buffer.from(good);
    newer[newer.length - 10] = 11;
    assert.equal(verifyDumpPayload(newer), false);
    assert.equal(verifyDumpPayload(Buffer.alloc(9)), false);
    // A value type Redis does not know, with a correct footer.
    const junk = createDumpPayload('x', DEFAULT_ENCODE_OPTIONS);
    junk[0] = 42;
    assert.equal(decodeDumpPayload(junk, limits), null);
  });
});
