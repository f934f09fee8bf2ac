/**
 * Pieces of the scripting support that reproduce Redis's C code: the
 * math.random generator, C number conversions and printf output, BitOp's
 * number-to-bits rule, CRC64 and the FUNCTION DUMP payload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand48, LRAND48_MAX } from '../../src/scripting/libs/rand48.js';
import {
  cFormatDouble,
  cFormatInt,
  doubleToInt64,
  doubleToUint64Bits,
  significantDigits,
} from '../../src/scripting/libs/cnum.js';
import { toBits } from '../../src/scripting/libs/bit.js';
import { decodeFunctionsPayload, encodeFunctionsPayload } from '../../src/scripting/rdb-payload.js';
import { verifyDumpPayload } from '../../src/persistence/rdb/dump.js';

test('math.random starts where Redis 7.0 starts and seeds like redisSrand48', () => {
  const r = new Rand48();
  const roll = () => Math.floor(((r.next() % LRAND48_MAX) / LRAND48_MAX) * 1000) + 1;
  // A fresh redis-server 7.0.15 answers 397, 841, 354 to math.random(1000).
  assert.deepEqual([roll(), roll(), roll()], [397, 841, 354]);
  r.seed(42);
  const a = r.next();
  r.seed(42);
  assert.equal(r.next(), a);
});

const spec = (flags: string, width: number, precision: number | null) => ({ flags, width, precision });

test('printf %f %e %g round like glibc (ties to even on exact halves)', () => {
  assert.equal(cFormatDouble(spec('', 0, 0), 'f', 0.5), '0');
  assert.equal(cFormatDouble(spec('', 0, 0), 'f', 1.5), '2');
  assert.equal(cFormatDouble(spec('', 0, 0), 'f', 2.5), '2');
  assert.equal(cFormatDouble(spec('', 0, 2), 'f', 2.675), '2.67');
  assert.equal(cFormatDouble(spec('', 0, 1), 'f', 0.25), '0.2');
  assert.equal(cFormatDouble(spec('', 0, null), 'e', 12345.678), '1.234568e+04');
  assert.equal(cFormatDouble(spec('', 0, 0), 'e', 2.5), '2e+00');
  assert.equal(cFormatDouble(spec('', 0, null), 'g', 100000), '100000');
  assert.equal(cFormatDouble(spec('', 0, null), 'g', 1e6), '1e+06');
  assert.equal(cFormatDouble(spec('', 0, null), 'g', 0.0001), '0.0001');
  assert.equal(cFormatDouble(spec('', 0, null), 'g', 0.00001), '1e-05');
  assert.equal(cFormatDouble(spec('#', 0, null), 'g', 1), '1.00000');
  assert.equal(cFormatDouble(spec('', 0, 14), 'g', 2 ** 53), '9.007199254741e+15');
  assert.equal(cFormatDouble(spec('0', 8, 2), 'f', -1.5), '-0001.50');
  assert.equal(cFormatDouble(spec('+', 0, null), 'G', -Infinity), '-INF');
  assert.equal(cFormatDouble(spec('', 6, null), 'f', NaN).trim().endsWith('nan'), true);
  assert.deepEqual(significantDigits(0.125, 2), ['12', -1]);
});

test('integer conversions behave like (long long) and (unsigned long) casts on x86-64', () => {
  assert.equal(doubleToInt64(3.99), 3n);
  assert.equal(doubleToInt64(-3.99), -3n);
  assert.equal(doubleToInt64(2 ** 63), -(2n ** 63n));
  assert.equal(doubleToInt64(NaN), -(2n ** 63n));
  assert.equal(doubleToInt64(-Infinity), -(2n ** 63n));
  assert.equal(doubleToUint64Bits(-1), 2n ** 64n - 1n);
  assert.equal(doubleToUint64Bits(2 ** 63), 2n ** 63n);
  assert.equal(doubleToUint64Bits(2 ** 64), 0n);
  assert.equal(cFormatInt(spec('', 0, null), 'x', 2n ** 64n - 1n), 'ffffffffffffffff');
  assert.equal(cFormatInt(spec('#', 0, null), 'X', 255n), '0XFF');
  assert.equal(cFormatInt(spec('', 0, 0), 'd', 0n), '');
  assert.equal(cFormatInt(spec('-', 5, null), 'd', 42n), '42   ');
  assert.equal(cFormatInt(spec('0', 5, null), 'd', -42n), '-0042');
  assert.equal(cFormatInt(spec('0', 5, 3), 'd', 7n), '  007');
});

test('bit library numbers: add 2^52+2^51 and keep the low word', () => {
  assert.equal(toBits(2 ** 32 + 5), 5);
  assert.equal(toBits(-1), 0xffffffff);
  assert.equal(toBits(1.5), 2);
  assert.equal(toBits(2.5), 2);
  assert.equal(toBits(-1.5) | 0, -2);
});

test('FUNCTION DUMP payloads: our own round trip, and one Redis wrote with LZF', () => {
  const codes = ["#!lua name=a\nredis.register_function('a', function() return 1 end)", '#!lua name=b\n' + 'x'.repeat(20000)];
  const payload = Buffer.from(encodeFunctionsPayload(codes, true), 'latin1');
  assert.equal(verifyDumpPayload(payload), true);
  assert.deepEqual(decodeFunctionsPayload(payload), { codes });
  // rdbcompression no: the codes as they are.
  const plain = Buffer.from(encodeFunctionsPayload(codes, false), 'latin1');
  assert.ok(plain.length > codes[0].length + codes[1].length && payload.length < 1000);
  assert.deepEqual(decodeFunctionsPayload(plain), { codes });
  const corrupt = Buffer.from(payload);
  corrupt[5] ^= 1;
  assert.equal(verifyDumpPayload(corrupt), false);

  // FUNCTION DUMP from redis-server 7.0.15 of a library that compresses.
  const fromRedis = Buffer.from(
    "\xf5\xc3@TA0\x1f#!lua name=lzf\x0aredis.register_fu\x0dnction('lz1', \xe0\x00\x0f\x0a) return 'a\xe0N\x00\x05' end)\xe0\x13\x90\x002\xe0i\x90\x01d)\x0a\x00~\xb4\xb48\xe0\x888\xee",
    'latin1',
  );
  assert.equal(verifyDumpPayload(fromRedis), true);
  const decoded = decodeFunctionsPayload(fromRedis);
  assert.ok('codes' in decoded);
  const a88 = 'a'.repeat(88);
  assert.deepEqual(decoded.codes, [
    `#!lua name=lzf\nredis.register_function('lz1', function() return '${a88}' end)\nredis.register_function('lz2', function() return '${a88}' end)`,
  ]);
  // And Mnemo's FUNCTION DUMP of that library is those bytes exactly.
  assert.deepEqual(Buffer.from(encodeFunctionsPayload(decoded.codes, true), 'latin1'), fromRedis);
});

test("printf keeps a NaN's sign once the formatting code is optimized (x86's 0/0 is -nan, as Redis prints)", () => {
  const bits = new Float64Array(1);
  new Uint32Array(bits.buffer)[1] = 0xfff80000;
  const negativeNan = bits[0];
  const seen = new Set<string>();
  // Enough calls for V8 to optimize the path; an array literal holding the NaN loses its sign there.
  for (let i = 0; i < 100_000; i++) seen.add(cFormatDouble(spec('', 0, null), 'g', negativeNan) + cFormatDouble(spec('', 0, null), 'f', NaN));
  assert.deepEqual([...seen], ['-nannan']);
});
