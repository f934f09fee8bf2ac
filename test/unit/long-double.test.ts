import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addLongDouble,
  formatLongDoubleHuman,
  hincrByFloat,
  incrByFloat,
  longDoubleFromNumber,
  longDoubleToNumber,
  parseHashFloatIncrement,
  parseLongDouble,
  type LongDouble,
} from '../../src/util/long-double.js';

type Reply = string | { error: string };

const asReply = (r: { value: string } | { error: string }): Reply => ('value' in r ? r.value : { error: r.error });

/** [stored value (null = no key), increment, reply] from Redis 7.0.15 INCRBYFLOAT k <incr>. */
const REDIS_INCRBYFLOAT: Array<[string | null, string, Reply]> = [
  [null, '0.1', '0.1'],
  ['0.2', '0.1', '0.3'],
  ['0.1', '0.2', '0.3'],
  ['10.5', '0.1', '10.6'],
  ['5.0e3', '2.0e2', '5200'],
  ['3', '-3', '0'],
  ['-0', '0', '0'],
  ['0', '-0', '0'],
  ['1', '-1.0000000000000000001', '0'],
  ['1e300', '1', '1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144'],
  ['1e-20', '0', '0'],
  ['1e-17', '0', '0.00000000000000001'],
  ['5e-18', '0', '0'],
  ['5.000001e-18', '0', '0.00000000000000001'],
  ['1.5e-17', '0', '0.00000000000000002'],
  ['2.5e-17', '0', '0.00000000000000002'],
  ['1.23456789012345678901', '0', '1.23456789012345679'],
  ['123456789012345678901234567890', '1', '123456789012345678899921813504'],
  ['0.1', '0.7', '0.8'],
  ['1.1', '2.2', '3.3'],
  ['abc', '1', { error: 'ERR value is not a valid float' }],
  ['1', 'abc', { error: 'ERR value is not a valid float' }],
  ['1', '', { error: 'ERR value is not a valid float' }],
  ['', ' 1', { error: 'ERR value is not a valid float' }],
  ['1', 'inf', { error: 'ERR increment would produce NaN or Infinity' }],
  ['inf', '1', { error: 'ERR increment would produce NaN or Infinity' }],
  ['1', '-inf', { error: 'ERR increment would produce NaN or Infinity' }],
  ['1', 'nan', { error: 'ERR value is not a valid float' }],
  ['1e4932', '1e4932', { error: 'ERR increment would produce NaN or Infinity' }],
  ['-1e4932', '-1e4932', { error: 'ERR increment would produce NaN or Infinity' }],
  ['1e4933', '0', { error: 'ERR value is not a valid float' }],
  ['1e-4951', '0', { error: 'ERR value is not a valid float' }],
  ['1e-4950', '0', '0'],
  ['1', '0x1p-3', '1.125'],
  ['0x10', '0.5', '16.5'],
  ['1.', '.5', '1.5'],
  ['1e', '1', { error: 'ERR value is not a valid float' }],
  ['1', '1 ', { error: 'ERR value is not a valid float' }],
  ['9223372036854775807', '1', '9223372036854775808'],
  ['1e400', '0', '10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880'],
  ['-1e400', '1e400', '0'],
  ['3.0', '0.00000000000000001', '3.00000000000000001'],
  ['3.0', '0.000000000000000005', '3'],
  ['0', '0.000003814697265625', '0.00000381469726562'],
  ['0', '0.000011444091796875', '0.00001144409179688'],
  ['1000000000000000000', '0.1', '1000000000000000000.125'],
  ['0.1', '-0.1', '0'],
  ['0.3', '-0.1', '0.2'],
  ['-5', '2.5', '-2.5'],
  ['18446744073709551615', '1', '18446744073709551616'],
  ['18446744073709551617', '0', '18446744073709551616'],
  ['36893488147419103231', '0', '36893488147419103232'],
  ['1.000000000000000000054', '0', '1'],
  ['1.000000000000000000055', '0', '1'],
  ['1.0000000000000000000542', '0', '1'],
  ['56932.7', '-0.3209', '56932.37909999999999755'],
  ['494.892', '227.1', '721.99199999999999999'],
  ['6380.18', '-7108', '-727.81999999999999984'],
  ['151.679', '635', '786.67899999999999999'],
  ['-4.55527', '0.0795', '-4.47577'],
  ['9.9865', '86.23', '96.2165'],
  ['71339.3', '6.401', '71345.70100000000000051'],
  ['3622.45', '-75.75', '3546.69999999999999996'],
  ['15.5961', '4.429', '20.0251'],
  ['7.67138', '5.421', '13.09238'],
  ['4994.45', '0.082', '4994.53200000000000003'],
  ['225.435', '89.51', '314.94500000000000001'],
  ['90349.2', '16.6', '90365.80000000000000426'],
  ['478.177', '889', '1367.17700000000000005'],
  ['2.75898', '9.112', '11.87098'],
  ['3.50721', '-67.88', '-64.37279'],
  ['948051', '-927.7', '947123.30000000000001137'],
  ['21.1346', '-6.145', '14.9896'],
  ['-0.699492', '0.4186', '-0.280892'],
  ['-29471.7', '-54', '-29525.69999999999999929'],
  ['67.8453', '-0.3002', '67.5451'],
  ['704.465', '8636', '9340.46499999999999986'],
  ['63.3014', '-86.18', '-22.8786'],
  ['-975.904', '-8.478', '-984.38200000000000001'],
  ['137', '27.48', '164.48'],
  ['0.941973', '0.656', '1.597973'],
  ['-963099', '-6093', '-969192'],
  ['-35.7887', '0.2652', '-35.5235'],
  ['9.24139', '4304', '4313.24138999999999999'],
  ['-53.135', '-84.53', '-137.66499999999999999'],
  ['6.76995e-21', '9.43e-9', '0.00000000943'],
  ['4.1407755e-12', '8.74193668365479e-17', '0.00000000000414086'],
  ['0.18156612', '6.97431e-10', '0.181566120697431'],
  ['4.358696937561036e-15', '6420040130.615234375', '6420040130.615234375'],
  ['0.07879409790039063055', '0.0000481828689575195267', '0.07884228076934815'],
  ['62823.867798', '1.7e+17', '170000000000062823.875'],
  ['4.03e-19', '9.5803e-17', '0.0000000000000001'],
  ['0.002007321715354920', '6656688451.766967773', '6656688451.7689750948920846'],
  ['3.170e+5', '9.3762785e+13', '93762785317000'],
  ['2.06742286682129e-16', '8.716e-8', '0.00000008716000021'],
];

/** [field value (null = no field), increment, reply] from Redis 7.0.15 HINCRBYFLOAT h f <incr>. */
const REDIS_HINCRBYFLOAT: Array<[string | null, string, Reply]> = [
  [null, '0.1', '0.1'],
  ['0.2', '0.1', '0.3'],
  ['abc', '1', { error: 'ERR hash value is not a float' }],
  ['abc', 'x', { error: 'ERR value is not a valid float' }],
  ['1', 'inf', { error: 'ERR value is NaN or Infinity' }],
  ['1', '-infinity', { error: 'ERR value is NaN or Infinity' }],
  ['inf', '1', { error: 'ERR increment would produce NaN or Infinity' }],
  ['1e4932', '1e4932', { error: 'ERR increment would produce NaN or Infinity' }],
  ['1', 'nan', { error: 'ERR value is not a valid float' }],
  ['10', '-0.5', '9.5'],
];

/**
 * [a, b, human(a + b)] computed by glibc strtold / x87 long double addition /
 * printf("%.17Lf") on x86_64 (Redis's own code path), focused on rounding corners.
 */
const GLIBC_SUMS: Array<[string, string, string]> = [
  ['1', '-0x1p-200', '1'],
  ['1', '-0x1p-65', '1'],
  ['1', '-0x1p-64', '1'],
  ['1', '0x1p-64', '1'],
  ['0x1p64', '-0.5', '18446744073709551616'],
  ['0x1p64', '-0x1p-100', '18446744073709551616'],
  ['0x1p-16445', '0x1p-16445', '0'],
  ['18446744073709551615', '0.5', '18446744073709551616'],
  ['18446744073709551615', '1.5', '18446744073709551616'],
  ['1180591620717411303424', '1', '1180591620717411303424'],
  ['1180591620717411303424', '1024', '1180591620717411304448'],
  ['1180591620717411303424', '1025', '1180591620717411304448'],
  ['1180591620717411303424', '3072', '1180591620717411306496'],
  ['0.7', '0.1', '0.8'],
  [
    '1e300',
    '1e-300',
    '1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144',
  ],
];

const finite = (x: LongDouble | null): { neg: boolean; mant: bigint; exp: number } => {
  assert.ok(x !== null && x.kind === 'finite');
  return { neg: x.neg, mant: x.mant, exp: x.exp };
};

test('INCRBYFLOAT matches Redis on the recorded table', () => {
  assert.ok(REDIS_INCRBYFLOAT.length >= 50);
  for (const [cur, incr, expected] of REDIS_INCRBYFLOAT) {
    assert.deepEqual(asReply(incrByFloat(cur, incr)), expected, `INCRBYFLOAT ${cur} + ${incr}`);
  }
});

test('HINCRBYFLOAT matches Redis, including its own error texts', () => {
  for (const [cur, incr, expected] of REDIS_HINCRBYFLOAT) {
    assert.deepEqual(asReply(hincrByFloat(cur, incr)), expected, `HINCRBYFLOAT ${cur} + ${incr}`);
  }
  assert.deepEqual(parseHashFloatIncrement('inf'), { error: 'ERR value is NaN or Infinity' });
  assert.deepEqual(parseHashFloatIncrement('x'), { error: 'ERR value is not a valid float' });
});

test('long double sums round like x87 extended precision', () => {
  for (const [a, b, expected] of GLIBC_SUMS) {
    assert.deepEqual(incrByFloat(a, b), { value: expected }, `${a} + ${b}`);
  }
  const one = parseLongDouble('1')!;
  // 1 - 2^-64 is representable (64-bit significand all ones).
  assert.deepEqual(finite(addLongDouble(one, parseLongDouble('-0x1p-64')!)), {
    neg: false,
    mant: (1n << 64n) - 1n,
    exp: -64,
  });
  // 1 - 2^-65 and 1 + 2^-64 are exact ties: round to the even neighbour, 1.
  assert.deepEqual(finite(addLongDouble(one, parseLongDouble('-0x1p-65')!)), { neg: false, mant: 1n << 63n, exp: -63 });
  assert.deepEqual(finite(addLongDouble(one, parseLongDouble('0x1p-64')!)), { neg: false, mant: 1n << 63n, exp: -63 });
  // Just above the tie rounds up to 1 + 2^-63.
  assert.deepEqual(finite(addLongDouble(one, parseLongDouble('0x1.0000001p-64')!)), {
    neg: false,
    mant: (1n << 63n) + 1n,
    exp: -63,
  });
  // A far smaller operand only nudges: 1 - 2^-200 rounds back to 1.
  assert.deepEqual(finite(addLongDouble(one, parseLongDouble('-0x1p-200')!)), { neg: false, mant: 1n << 63n, exp: -63 });
  // Subnormals add exactly.
  assert.deepEqual(finite(addLongDouble(parseLongDouble('0x1p-16445')!, parseLongDouble('0x1p-16445')!)), {
    neg: false,
    mant: 2n,
    exp: -16445,
  });
});

test('parseLongDouble follows string2ld', () => {
  assert.deepEqual(finite(parseLongDouble('0.1')), { neg: false, mant: 0xcccccccccccccccdn, exp: -67 });
  assert.deepEqual(finite(parseLongDouble('-2')), { neg: true, mant: 1n << 63n, exp: -62 });
  assert.deepEqual(parseLongDouble('inf'), { kind: 'inf', neg: false });
  assert.deepEqual(parseLongDouble('-Infinity'), { kind: 'inf', neg: true });
  for (const bad of ['', ' 1', '1 ', 'nan', '-nan', 'nan(1)', '1e', '0x', '.', '1e4933', '-1e4933', '1e-4952', '1\x00', '1\x00abc']) {
    assert.equal(parseLongDouble(bad), null, JSON.stringify(bad));
  }
  // Values a double cannot hold are fine as long double.
  assert.deepEqual(incrByFloat('1e-400', '0'), { value: '0' });
  assert.ok(parseLongDouble('1e400') !== null);
  assert.ok(parseLongDouble('1e-4950') !== null);
  assert.ok(parseLongDouble('0e-999999') !== null);
  // string2ld copies into a 5120-byte buffer: 5119 characters is the limit (checked on Redis).
  assert.deepEqual(incrByFloat(null, '0'.repeat(5118) + '1'), { value: '1' });
  assert.deepEqual(incrByFloat(null, '0'.repeat(5119) + '1'), { error: 'ERR value is not a valid float' });
  // An absurd exponent must not allocate a huge BigInt.
  assert.equal(parseLongDouble('1e999999999999'), null);
  assert.equal(parseLongDouble('1e-999999999999'), null);
  assert.equal(parseLongDouble('0x1p999999999999'), null);
});

test('human formatting trims zeros and prints negative zero as 0', () => {
  assert.equal(formatLongDoubleHuman(parseLongDouble('-0')!), '0');
  assert.equal(formatLongDoubleHuman(parseLongDouble('-1e-30')!), '0');
  assert.equal(formatLongDoubleHuman(parseLongDouble('-1e-17')!), '-0.00000000000000001');
  assert.equal(formatLongDoubleHuman(parseLongDouble('100')!), '100');
  assert.equal(formatLongDoubleHuman(parseLongDouble('1.5')!), '1.5');
  assert.equal(formatLongDoubleHuman(parseLongDouble('-inf')!), '-inf');
  // 2^-18 = 0.000003814697265625 is an exact tie at 17 digits: glibc rounds to even.
  assert.equal(formatLongDoubleHuman(parseLongDouble('0x1p-18')!), '0.00000381469726562');
});

test('conversions between long double and double', () => {
  for (const d of [0.1, 1.1, -2.5, 5e-324, 1.7976931348623157e308, 123456789.123]) {
    assert.equal(longDoubleToNumber(longDoubleFromNumber(d)), d);
  }
  assert.equal(longDoubleToNumber(parseLongDouble('0.1')!), 0.1);
  assert.equal(longDoubleToNumber(parseLongDouble('1e400')!), Infinity);
  assert.equal(longDoubleToNumber(parseLongDouble('1e-400')!), 0);
  assert.equal(Object.is(longDoubleToNumber(parseLongDouble('-0')!), -0), true);
  assert.equal(longDoubleToNumber(parseLongDouble('9007199254740993')!), 9007199254740992);
});
