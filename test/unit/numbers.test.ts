import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ERR_NOT_FLOAT,
  decrBy,
  formatDouble17g,
  formatDoubleHuman,
  formatFixed,
  hincrBy,
  incrBy,
  incrByParsed,
  parseDouble,
  parseDoubleScanned,
  parseDoubleStrtod,
  parseInt64,
  parseInteger,
  parseLongLong,
} from '../../src/util/numbers.js';

type Reply = string | { error: string };

const asReply = (r: { value: string } | { error: string }): Reply => ('value' in r ? r.value : { error: r.error });

/** [stored value (null = no key), increment, reply] from Redis 7.0.15 INCRBY k <incr>. */
const REDIS_INCRBY: Array<[string | null, string, Reply]> = [
  [null, '1', '1'],
  [null, '-5', '-5'],
  ['10', '5', '15'],
  ['10', '-15', '-5'],
  ['9223372036854775806', '1', '9223372036854775807'],
  ['9223372036854775807', '1', { error: 'ERR increment or decrement would overflow' }],
  ['-9223372036854775807', '-1', '-9223372036854775808'],
  ['-9223372036854775808', '-1', { error: 'ERR increment or decrement would overflow' }],
  ['-9223372036854775808', '9223372036854775807', '-1'],
  ['9223372036854775807', '-9223372036854775808', '-1'],
  ['9007199254740991', '1', '9007199254740992'],
  ['9007199254740991', '2', '9007199254740993'],
  ['-9007199254740991', '-10', '-9007199254741001'],
  ['4611686018427387904', '4611686018427387903', '9223372036854775807'],
  ['4611686018427387904', '4611686018427387904', { error: 'ERR increment or decrement would overflow' }],
  ['abc', '1', { error: 'ERR value is not an integer or out of range' }],
  ['1', 'abc', { error: 'ERR value is not an integer or out of range' }],
  ['abc', 'abc', { error: 'ERR value is not an integer or out of range' }],
  ['1.5', '1', { error: 'ERR value is not an integer or out of range' }],
  ['', ' 1', { error: 'ERR value is not an integer or out of range' }],
  ['10', '+1', { error: 'ERR value is not an integer or out of range' }],
  ['-0', '1', { error: 'ERR value is not an integer or out of range' }],
  ['5', '-0', { error: 'ERR value is not an integer or out of range' }],
  ['7', '0', '7'],
  ['0', '7', '7'],
  ['7', '1', '8'],
  ['1', '7', '8'],
  ['7', '-1', '6'],
  ['-1', '7', '6'],
  ['7', '+1', { error: 'ERR value is not an integer or out of range' }],
  ['+1', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '-0', { error: 'ERR value is not an integer or out of range' }],
  ['-0', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '00', { error: 'ERR value is not an integer or out of range' }],
  ['00', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '01', { error: 'ERR value is not an integer or out of range' }],
  ['01', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '-01', { error: 'ERR value is not an integer or out of range' }],
  ['-01', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', ' 1', { error: 'ERR value is not an integer or out of range' }],
  [' 1', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '1 ', { error: 'ERR value is not an integer or out of range' }],
  ['1 ', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '', { error: 'ERR value is not an integer or out of range' }],
  ['', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '-', { error: 'ERR value is not an integer or out of range' }],
  ['-', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '1.0', { error: 'ERR value is not an integer or out of range' }],
  ['1.0', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '1e3', { error: 'ERR value is not an integer or out of range' }],
  ['1e3', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '0x10', { error: 'ERR value is not an integer or out of range' }],
  ['0x10', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', 'abc', { error: 'ERR value is not an integer or out of range' }],
  ['abc', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '12345678901234567', '12345678901234574'],
  ['12345678901234567', '7', '12345678901234574'],
  ['7', '9007199254740991', '9007199254740998'],
  ['9007199254740991', '7', '9007199254740998'],
  ['7', '9007199254740992', '9007199254740999'],
  ['9007199254740992', '7', '9007199254740999'],
  ['7', '9007199254740993', '9007199254741000'],
  ['9007199254740993', '7', '9007199254741000'],
  ['7', '-9007199254740993', '-9007199254740986'],
  ['-9007199254740993', '7', '-9007199254740986'],
  ['7', '9223372036854775807', { error: 'ERR increment or decrement would overflow' }],
  ['9223372036854775807', '7', { error: 'ERR increment or decrement would overflow' }],
  ['7', '9223372036854775808', { error: 'ERR value is not an integer or out of range' }],
  ['9223372036854775808', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '-9223372036854775808', '-9223372036854775801'],
  ['-9223372036854775808', '7', '-9223372036854775801'],
  ['7', '-9223372036854775809', { error: 'ERR value is not an integer or out of range' }],
  ['-9223372036854775809', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '99999999999999999999', { error: 'ERR value is not an integer or out of range' }],
  ['99999999999999999999', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '-99999999999999999999', { error: 'ERR value is not an integer or out of range' }],
  ['-99999999999999999999', '7', { error: 'ERR value is not an integer or out of range' }],
  ['7', '123456789012345678901', { error: 'ERR value is not an integer or out of range' }],
  ['123456789012345678901', '7', { error: 'ERR value is not an integer or out of range' }],
];

/** [stored value, decrement, reply] from Redis 7.0.15 DECRBY. */
const REDIS_DECRBY: Array<[string | null, string, Reply]> = [
  [null, '1', '-1'],
  ['10', '3', '7'],
  ['0', '-9223372036854775808', { error: 'ERR decrement would overflow' }],
  ['abc', '-9223372036854775808', { error: 'ERR decrement would overflow' }],
  ['-1', '9223372036854775807', '-9223372036854775808'],
  ['-2', '9223372036854775807', { error: 'ERR increment or decrement would overflow' }],
  ['9223372036854775807', '-1', { error: 'ERR increment or decrement would overflow' }],
  ['1', 'x', { error: 'ERR value is not an integer or out of range' }],
  ['x', '1', { error: 'ERR value is not an integer or out of range' }],
  ['5', '-9223372036854775807', { error: 'ERR increment or decrement would overflow' }],
];

/** [field value, increment, reply] from Redis 7.0.15 HINCRBY. */
const REDIS_HINCRBY: Array<[string | null, string, Reply]> = [
  [null, '5', '5'],
  ['10', '-3', '7'],
  ['abc', '1', { error: 'ERR hash value is not an integer' }],
  ['abc', 'x', { error: 'ERR value is not an integer or out of range' }],
  ['9223372036854775807', '1', { error: 'ERR increment or decrement would overflow' }],
  ['1', '1.5', { error: 'ERR value is not an integer or out of range' }],
  ['-9223372036854775808', '-1', { error: 'ERR increment or decrement would overflow' }],
];

/**
 * [score text, ZSCORE reply or null when ZADD replied "ERR value is not a valid float"]
 * from Redis 7.0.15 (skiplist encoding, so the double reaches addReplyDouble untouched).
 */
const REDIS_ZADD: Array<[string, string | null]> = [
  ['1', '1'],
  ['1.', '1'],
  ['.5', '0.5'],
  ['-.5', '-0.5'],
  ['+.5', '0.5'],
  ['0x10', '16'],
  ['0X1P3', '8'],
  ['0x1.8p1', '3'],
  ['0x.8', '0.5'],
  ['1e', null],
  ['1e+', null],
  ['1e5', '100000'],
  ['1E-5', '1.0000000000000001e-05'],
  ['inf', 'inf'],
  ['+inf', 'inf'],
  ['-inf', '-inf'],
  ['INF', 'inf'],
  ['infinity', 'inf'],
  ['-Infinity', '-inf'],
  ['infin', null],
  ['nan', null],
  ['NaN', null],
  ['-nan', null],
  ['', null],
  [' 1', null],
  ['1 ', null],
  ['\x091', null],
  ['.', null],
  ['-', null],
  ['+', null],
  ['1e400', null],
  ['-1e400', null],
  ['1e-400', null],
  ['1e-310', '9.9999999999999694e-311'],
  ['0e-400', '0'],
  ['-0', '-0'],
  ['0', '0'],
  ['2.4703282292062328e-324', '4.9406564584124654e-324'],
  ['2.4703282292062327e-324', null],
  ['4.9406564584124654e-324', '4.9406564584124654e-324'],
  ['1.7976931348623157e308', '1.7976931348623157e+308'],
  ['1.7976931348623159e308', null],
  ['0b11', null],
  ['1_0', null],
  ['1,5', null],
  ['0x', null],
  ['0x1p', null],
  ['0xg', null],
  ['0.1', '0.10000000000000001'],
  ['1.1', '1.1000000000000001'],
  ['3.14159', '3.1415899999999999'],
  ['1e17', '1e+17'],
  ['1e-5', '1.0000000000000001e-05'],
  ['123456789012345680000', '1.2345678901234568e+20'],
  ['-123.456', '-123.456'],
  ['100000000000000000000000', '9.9999999999999992e+22'],
  ['1e22', '1e+22'],
  ['0.30000000000000004', '0.30000000000000004'],
  ['9007199254740993', '9007199254740992'],
  ['1.5e300', '1.5000000000000001e+300'],
  ['-2.5e-300', '-2.5e-300'],
];

/** [bound text, accepted] from Redis 7.0.15 ZCOUNT z <bound> +inf ("min or max is not a float"). */
const REDIS_RANGE_BOUND: Array<[string, boolean]> = [
  ['1', true],
  ['1.', true],
  ['.5', true],
  ['-.5', true],
  ['+.5', true],
  ['0x10', true],
  ['0X1P3', true],
  ['0x1.8p1', true],
  ['0x.8', true],
  ['1e', false],
  ['1e+', false],
  ['1e5', true],
  ['1E-5', true],
  ['inf', true],
  ['+inf', true],
  ['-inf', true],
  ['INF', true],
  ['infinity', true],
  ['-Infinity', true],
  ['infin', false],
  ['nan', false],
  ['NaN', false],
  ['-nan', false],
  ['', true],
  [' 1', true],
  ['1 ', false],
  ['\x091', true],
  ['.', false],
  ['-', false],
  ['+', false],
  ['1e400', true],
  ['-1e400', true],
  ['1e-400', true],
  ['1e-310', true],
  ['0e-400', true],
  ['-0', true],
  ['0', true],
  ['2.4703282292062328e-324', true],
  ['2.4703282292062327e-324', true],
  ['4.9406564584124654e-324', true],
  ['1.7976931348623157e308', true],
  ['1.7976931348623159e308', true],
  ['0b11', false],
  ['1_0', false],
  ['1,5', false],
  ['0x', false],
  ['0x1p', false],
  ['0xg', false],
  ['0.1', true],
  ['1.1', true],
  ['3.14159', true],
  ['1e17', true],
  ['1e-5', true],
  ['123456789012345680000', true],
  ['-123.456', true],
  ['100000000000000000000000', true],
  ['1e22', true],
  ['0.30000000000000004', true],
  ['9007199254740993', true],
  ['1.5e300', true],
  ['-2.5e-300', true],
];

/** [double, ZSCORE reply] from Redis 7.0.15 after ZADD of the double's JS text. */
const REDIS_G17: Array<[number, string]> = [
  [1.1, '1.1000000000000001'],
  [0.1, '0.10000000000000001'],
  [100000000000000000, '1e+17'],
  [0.00001, '1.0000000000000001e-05'],
  [123456789012345680000, '1.2345678901234568e+20'],
  [5e-324, '4.9406564584124654e-324'],
  [1.7976931348623157e+308, '1.7976931348623157e+308'],
  [3, '3'],
  [-7, '-7'],
  [72057594037927940, '72057594037927936'],
  [9007199254740994, '9007199254740994'],
  [0.3, '0.29999999999999999'],
  [0.3333333333333333, '0.33333333333333331'],
  [-0.6666666666666666, '-0.66666666666666663'],
  [10000000000000000, '10000000000000000'],
  [1000000000000000.5, '1000000000000000.5'],
  [1125899906842624.2, '1125899906842624.2'],
  [1125899906842624.8, '1125899906842624.8'],
  [0.0001, '0.0001'],
  [0.00001234, '1.234e-05'],
  [12345678.9, '12345678.9'],
  [1e-300, '1e-300'],
  [2.5e-10, '2.5000000000000002e-10'],
  [6.02214076e+23, '6.0221407599999999e+23'],
  [299792458, '299792458'],
  [-1.5, '-1.5'],
  [100, '100'],
  [1e+21, '1e+21'],
  [0.000003814697265625, '3.814697265625e-06'],
  [-0, '-0'],
];

test('integer parsing follows string2ll', () => {
  const cases: Array<[string, bigint | null]> = [
    ['0', 0n],
    ['-1', -1n],
    ['123', 123n],
    ['9223372036854775807', 9223372036854775807n],
    ['-9223372036854775808', -9223372036854775808n],
    ['9223372036854775808', null],
    ['-9223372036854775809', null],
    ['10000000000000000000', null],
    ['-0', null],
    ['+1', null],
    ['01', null],
    ['-01', null],
    [' 1', null],
    ['1 ', null],
    ['', null],
    ['-', null],
    ['1.0', null],
    ['1e3', null],
    ['0x10', null],
    ['1\x00', null],
    ['00000000000000000001', null],
    ['9007199254740993', 9007199254740993n],
  ];
  for (const [s, expected] of cases) {
    assert.equal(parseLongLong(s), expected, JSON.stringify(s));
    assert.equal(parseInt64(s), expected === null ? null : Number(expected), JSON.stringify(s));
    const mixed = parseInteger(s);
    if (expected === null) assert.equal(mixed, null);
    else if (Number.isSafeInteger(Number(expected))) assert.equal(mixed, Number(expected));
    else assert.equal(mixed, expected);
  }
});

test('INCRBY matches Redis, exact across the int64 range', () => {
  for (const [cur, delta, expected] of REDIS_INCRBY) {
    assert.deepEqual(asReply(incrBy(cur, delta)), expected, `INCRBY on ${cur} by ${delta}`);
  }
});

test('DECRBY matches Redis, including the LLONG_MIN special error', () => {
  for (const [cur, delta, expected] of REDIS_DECRBY) {
    assert.deepEqual(asReply(decrBy(cur, delta)), expected, `DECRBY on ${cur} by ${delta}`);
  }
});

test('HINCRBY matches Redis', () => {
  for (const [cur, delta, expected] of REDIS_HINCRBY) {
    assert.deepEqual(asReply(hincrBy(cur, delta)), expected, `HINCRBY on ${cur} by ${delta}`);
  }
});

test('INCR/DECR through incrByParsed', () => {
  assert.deepEqual(incrByParsed(null, 1), { value: '1' });
  assert.deepEqual(incrByParsed('41', 1), { value: '42' });
  assert.deepEqual(incrByParsed('-1', -1), { value: '-2' });
  assert.deepEqual(incrByParsed('9007199254740991', 1), { value: '9007199254740992' });
  assert.deepEqual(incrByParsed('9007199254740992', 1), { value: '9007199254740993' });
  assert.deepEqual(incrByParsed('9223372036854775807', 1), { error: 'ERR increment or decrement would overflow' });
  assert.deepEqual(incrByParsed('-9223372036854775808', -1), { error: 'ERR increment or decrement would overflow' });
  assert.deepEqual(incrByParsed('1.5', 1), { error: 'ERR value is not an integer or out of range' });
});

test('parseDouble matches ZADD score parsing; formatDouble17g matches ZSCORE', () => {
  for (const [text, expected] of REDIS_ZADD) {
    const d = parseDouble(text);
    assert.equal(d === null ? null : formatDouble17g(d), expected, `ZADD ${JSON.stringify(text)}`);
  }
  // An embedded NUL ends strtod early, so Redis rejects these.
  assert.equal(parseDouble('1\x00'), null);
  assert.equal(parseDouble('1\x002'), null);
  assert.equal(Object.is(parseDouble('-0'), -0), true);
});

test('parseDoubleStrtod matches ZRANGEBYSCORE/ZCOUNT bound parsing', () => {
  for (const [text, accepted] of REDIS_RANGE_BOUND) {
    assert.equal(parseDoubleStrtod(text) !== null, accepted, `bound ${JSON.stringify(text)}`);
  }
  assert.equal(parseDoubleStrtod(''), 0);
  assert.equal(parseDoubleStrtod(' 7'), 7);
  assert.equal(parseDoubleStrtod('1e400'), Infinity);
  assert.equal(parseDoubleStrtod('-1e400'), -Infinity);
  // Redis sees "1\0abc" as the C string "1" here (verified with ZRANGEBYSCORE).
  assert.equal(parseDoubleStrtod('1\x00abc'), 1);
  assert.equal(parseDoubleStrtod(' '), null);
});

test('formatDouble17g is printf("%.17g") as replied by Redis', () => {
  for (const [d, expected] of REDIS_G17) {
    assert.equal(formatDouble17g(d), expected, String(d));
  }
  assert.equal(formatDouble17g(Infinity), 'inf');
  assert.equal(formatDouble17g(-Infinity), '-inf');
  assert.equal(formatDouble17g(NaN), 'nan');
  assert.equal(formatDouble17g(-0), '-0');
  assert.equal(formatDouble17g(0), '0');
});

test('formatDouble17g rounds exact ties to even like glibc (JS rounds them up)', () => {
  // 1125899906842624.25 and .75 have 18 significant digits ending in 5.
  assert.equal(formatDouble17g(1125899906842624.25), '1125899906842624.2');
  assert.equal(formatDouble17g(1125899906842624.75), '1125899906842624.8');
  assert.equal(formatDouble17g(-1125899906842624.25), '-1125899906842624.2');
  assert.equal(formatDouble17g(2 ** 56), '72057594037927936');
  assert.equal(formatDouble17g(1e21), '1e+21');
  assert.equal(formatDouble17g(1e-4), '0.0001');
  assert.equal(formatDouble17g(1.7976931348623157e308), '1.7976931348623157e+308');
  assert.equal(formatDouble17g(5e-324), '4.9406564584124654e-324');
});

test('formatFixed is glibc printf("%.Nf")', () => {
  // Expected values printed by glibc printf on this machine's Redis platform (x86_64).
  const cases: Array<[number, number, string]> = [
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [2.5, 0, '2'],
    [3.5, 0, '4'],
    [-2.5, 0, '-2'],
    [0.5, 0, '0'],
    [1.5, 0, '2'],
    [-0, 2, '-0.00'],
    [-0.001, 2, '-0.00'],
    [1e21, 2, '1000000000000000000000.00'],
    [1e22, 0, '10000000000000000000000'],
    [123.456, 4, '123.4560'],
    [0.00005, 4, '0.0001'],
    [0.00015, 4, '0.0001'],
    [1.00005, 4, '1.0001'],
    [2 ** -18, 17, '0.00000381469726562'],
    [3 * 2 ** -18, 17, '0.00001144409179688'],
    [5e-324, 4, '0.0000'],
    [6.02214076e23, 3, '602214075999999987023872.000'],
    [13.361389338970184, 4, '13.3614'],
    [0.1, 20, '0.10000000000000000555'],
    [1 / 3, 10, '0.3333333333'],
  ];
  for (const [d, precision, expected] of cases) {
    assert.equal(formatFixed(d, precision), expected, `${d} %.${precision}f`);
  }
  assert.equal(formatFixed(Infinity, 4), 'inf');
  assert.equal(formatFixed(-Infinity, 4), '-inf');
});

test('formatDoubleHuman is ld2string(LD_STR_HUMAN) of a double', () => {
  // Expected values from glibc printf("%.17Lf") + Redis's trimming; GEOPOS prints the
  // coordinates below exactly like this in Redis 7.0.15.
  const cases: Array<[number, string]> = [
    [0.1, '0.10000000000000001'],
    [0.30000000000000004, '0.30000000000000004'],
    [1.1, '1.10000000000000009'],
    [1e-5, '0.00001'],
    [1e-17, '0.00000000000000001'],
    [5e-18, '0.00000000000000001'],
    [1.5e-17, '0.00000000000000002'],
    [2 ** -18, '0.00000381469726562'],
    [3 * 2 ** -18, '0.00001144409179688'],
    [1e22, '10000000000000000000000'],
    [123456789.12345679, '123456789.12345679104328156'],
    [-0.5, '-0.5'],
    [-1e-20, '0'],
    [-0, '0'],
    [13.361389338970184, '13.36138933897018433'],
    [38.1155563954963, '38.11555639549629859'],
    [5e-324, '0'],
    [9007199254740994, '9007199254740994'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ];
  for (const [d, expected] of cases) {
    assert.equal(formatDoubleHuman(d), expected, String(d));
  }
  assert.equal(formatDoubleHuman(1.7976931348623157e308).length, 309);
});

test('parseDouble accepts hex floats with correct rounding and rejects range errors', () => {
  assert.equal(parseDouble('0x1.8p1'), 3);
  assert.equal(parseDouble('0x.8'), 0.5);
  assert.equal(parseDouble('0x1p-1074'), 5e-324);
  assert.equal(parseDouble('0x1p-1075'), null); // halfway to the smallest subnormal: rounds to 0
  assert.equal(parseDouble('0x1.0000000000001p-1075'), 5e-324);
  assert.equal(parseDouble('0x1fffffffffffff'), 2 ** 53 - 1);
  assert.equal(parseDouble('0x20000000000001'), 2 ** 53); // tie rounds to even
  assert.equal(parseDouble('0x20000000000003'), 2 ** 53 + 4);
  assert.equal(parseDouble('0x1p1024'), null);
  assert.equal(parseDouble('0x0000000000000000000001p-2'), 0.25);
  assert.equal(parseDouble('0x0p99999'), 0);
  assert.equal(parseDouble(ERR_NOT_FLOAT), null);
});

test('parseDouble: the plain-decimal fast path agrees with the strtod scanner', () => {
  for (const s of ['1.', '.5', '+1.5', '-0', '-0.0', '007', '.', '-', '+', '1.2.3', '-.5', '0.1', '123456789012345678901234567890', '9007199254740993', '1e5', '0x10', 'inf']) {
    assert.ok(Object.is(parseDouble(s), parseDoubleScanned(s)), s);
  }
  fc.assert(
    fc.property(fc.stringMatching(/^[-+]?[0-9]{0,25}(\.[0-9]{0,40})?$/), (s) => Object.is(parseDouble(s), parseDoubleScanned(s))),
    { numRuns: 5000 },
  );
});
