import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globLiteral, globMatch, globPrefix } from '../../src/util/glob.js';

/**
 * [pattern, string, matches] as answered by Redis 7.0.15: SET <string>, then KEYS <pattern>
 * (KEYS uses stringmatchlen for every pattern except exactly "*").
 */
const REDIS_CASES: Array<[string, string, boolean]> = [
  ['**', 'abc', true],
  ['**', '', false],
  ['?', '', false],
  ['?', 'a', true],
  ['?', 'ab', false],
  ['??', 'ab', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['*c', 'abc', true],
  ['*b*', 'abc', true],
  ['*b*', 'ac', false],
  ['a?c', 'abc', true],
  ['a?c', 'ac', false],
  ['[abc]', 'b', true],
  ['[abc]', 'd', false],
  ['[^abc]', 'd', true],
  ['[^abc]', 'a', false],
  ['[a-c]', 'b', true],
  ['[a-c]', 'd', false],
  ['[c-a]', 'b', true],
  ['[z-a]', 'm', true],
  ['[^a-c]x', 'dx', true],
  ['h[ae]llo', 'hello', true],
  ['h[ae]llo', 'hallo', true],
  ['h[ae]llo', 'hillo', false],
  ['h[^e]llo', 'hallo', true],
  ['h[^e]llo', 'hello', false],
  ['h[a-b]llo', 'hbllo', true],
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['a\\?b', 'a?b', true],
  ['a\\?b', 'axb', false],
  ['\\', '\\', true],
  ['a\\', 'a\\', true],
  ['a\\', 'a', false],
  ['\\\\', '\\', true],
  ['[\\]]', ']', true],
  ['[\\]]', '\\', false],
  ['[\\-]', '-', true],
  ['[a\\-z]', 'b', false],
  ['[a\\-z]', '-', true],
  ['[', '[', false],
  ['[', 'a', false],
  ['[a', 'a', true],
  ['[ab', 'b', true],
  ['[ab', '[', false],
  ['[^', 'x', true],
  ['[^', '', false],
  ['[]', ']', false],
  ['[]', 'a', false],
  ['[]]', ']', false],
  ['[]a]', 'a]', false],
  ['[^]', 'x', true],
  ['[^]]', 'a', false],
  ['[^]]', ']', false],
  ['[]a', ']a', false],
  ['[]a', 'a', false],
  ['[a-]', '-', false],
  ['[a-]', ']', true],
  ['[a-]', '^', true],
  ['[a-]', 'a', true],
  ['[a-]', 'b', false],
  ['[a-]x', 'ax', false],
  ['[-a]', '-', true],
  ['[-]', '-', true],
  ['[--]', '-', true],
  ['[a-c-e]', 'd', false],
  ['[a-c-e]', '-', true],
  ['[\x80-\xff]', '\x90', true],
  ['[\x80-\xff]', 'a', false],
  ['[a-\xff]', 'a', true],
  ['[a-\xff]', 'b', false],
  ['[a-\xff]', '\x00', true],
  ['[a-\xff]', '\x90', false],
  ['[\x01-\x80]', 'a', false],
  ['[\x01-\x80]', '\x90', true],
  ['*a*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab', true],
  ['*a*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', false],
  ['a*b*c', 'aXbYc', true],
  ['a*b*c', 'aXbYcZ', false],
  ['*.txt', 'file.txt', true],
  ['*.txt', 'file.txt.bak', false],
  ['user:*', 'user:1000', true],
  ['user:*', 'usr:1000', false],
  ['user:?', 'user:10', false],
  ['*:*', 'a:b', true],
  ['*:*', 'ab', false],
  ['a**b', 'ab', true],
  ['a**b', 'axxb', true],
  ['*?', 'a', true],
  ['*?', '', false],
  ['?*', 'a', true],
  ['*??*', 'ab', true],
  ['*??*', 'a', false],
  ['ABC', 'abc', false],
  ['[A-Z]', 'a', false],
  ['[a-z]', 'A', false],
  ['a\x00b', 'a\x00b', true],
  ['a?b', 'a\x00b', true],
  ['*\x00', 'x\x00', true],
  ['[[]', '[', true],
  ['[[]]', '[]', true],
  ['[a-z][0-9]', 'b7', true],
  ['[^0-9]*', 'x123', true],
  ['[^0-9]*', '1x', false],
  ['\\[a]', '[a]', true],
  ['\\[a]', 'a', false],
  ['[\\', '\\', true],
  ['[\\', 'a', false],
  ['[a\\', '\\', true],
  ['[a-z', '', false],
  ['[a-z', 'm', true],
];

/**
 * Case-insensitive matching: [pattern, command name, listed] from Redis 7.0.15's
 * COMMAND LIST FILTERBY PATTERN <pattern>, which calls stringmatchlen(..., nocase=1).
 */
const REDIS_NOCASE_CASES: Array<[string, string, boolean]> = [
  ['GET', 'get', true],
  ['GET', 'getrange', false],
  ['GET', 'set', false],
  ['get', 'get', true],
  ['get', 'getrange', false],
  ['get', 'set', false],
  ['G?T', 'get', true],
  ['G?T', 'getrange', false],
  ['G?T', 'set', false],
  ['g*', 'get', true],
  ['g*', 'getrange', true],
  ['g*', 'set', false],
  ['g*', 'config|get', false],
  ['[G]et', 'get', true],
  ['[G]et', 'getrange', false],
  ['[G]et', 'set', false],
  ['[g]ET', 'get', true],
  ['[g]ET', 'getrange', false],
  ['[g]ET', 'set', false],
  ['[A-Z]et', 'get', true],
  ['[A-Z]et', 'getrange', false],
  ['[A-Z]et', 'set', true],
  ['[A-Z]et', 'config|get', false],
  ['[a-z]ET', 'get', true],
  ['[a-z]ET', 'getrange', false],
  ['[a-z]ET', 'set', true],
  ['[a-z]ET', 'config|get', false],
  ['[F-H]et', 'get', true],
  ['[F-H]et', 'getrange', false],
  ['[F-H]et', 'set', false],
  ['[f-h]ET', 'get', true],
  ['[f-h]ET', 'getrange', false],
  ['[f-h]ET', 'set', false],
  ['[^G]ET', 'get', false],
  ['[^G]ET', 'getrange', false],
  ['[^G]ET', 'set', true],
  ['\\GET', 'get', true],
  ['\\GET', 'getrange', false],
  ['\\GET', 'set', false],
  ['[\\G]et', 'get', false],
  ['[\\G]et', 'getrange', false],
  ['*RANGE', 'get', false],
  ['*RANGE', 'getrange', true],
  ['*RANGE', 'set', false],
  ['*RANGE', 'zrange', true],
  ['config*', 'get', false],
  ['config*', 'getrange', false],
  ['config*', 'config|get', true],
  ['CONFIG|G*', 'get', false],
  ['CONFIG|G*', 'getrange', false],
  ['CONFIG|G*', 'config|get', true],
  ['[Z-a]et', 'get', false],
  ['[Z-a]et', 'getrange', false],
  ['[a-Z]et', 'get', false],
  ['[a-Z]et', 'getrange', false],
  ['x*', 'get', false],
  ['x*', 'getrange', false],
  ['*E*', 'get', true],
  ['*E*', 'getrange', true],
  ['*E*', 'set', true],
  ['*E*', 'config|get', true],
  ['*E*', 'zrange', true],
  ['*E*', 'exists', true],
  ['*E*', 'echo', true],
  ['*E*', 'keys', true],
  ['*E*', 'lpush', false],
  ['*E*', 'hget', true],
  ['*E*', 'ping', false],
  ['*E*', 'type', true],
];

test('globMatch agrees with Redis KEYS on the recorded table', () => {
  assert.ok(REDIS_CASES.length >= 60);
  for (const [pattern, str, expected] of REDIS_CASES) {
    assert.equal(globMatch(pattern, str), expected, `pattern ${JSON.stringify(pattern)} vs ${JSON.stringify(str)}`);
  }
});

test('globMatch nocase agrees with Redis COMMAND LIST FILTERBY PATTERN', () => {
  for (const [pattern, str, expected] of REDIS_NOCASE_CASES) {
    assert.equal(globMatch(pattern, str, true), expected, `nocase ${JSON.stringify(pattern)} vs ${str}`);
  }
});

test('a lone star does not match the empty string (Redis SCAN MATCH ** skips key "")', () => {
  assert.equal(globMatch('*', ''), false);
  assert.equal(globMatch('*', 'x'), true);
  assert.equal(globMatch('', ''), true);
  assert.equal(globMatch('', 'a'), false);
});

test('nocase only folds ASCII letters; escapes inside sets stay case-sensitive', () => {
  assert.equal(globMatch('ABC', 'abc', true), true);
  assert.equal(globMatch('ABC', 'abc', false), false);
  assert.equal(globMatch('[\\A]', 'a', true), false);
  assert.equal(globMatch('[A]', 'a', true), true);
  assert.equal(globMatch('\\A', 'a', true), true);
  assert.equal(globMatch('\xc0', '\xe0', true), false);
});

/**
 * Pathological and deeply nested patterns; expectations from Redis 7.0.15 (KEYS), which
 * answers them instantly and gives up beyond 1000 nested stars.
 */
test('pathological patterns finish fast and respect the nesting limit', () => {
  const a = (n: number) => 'a'.repeat(n);
  const cases: Array<[string, string, boolean]> = [
    ['a*'.repeat(20) + 'b', a(300), false],
    ['*a'.repeat(30) + '*b', a(1000), false],
    ['*a*b*c*d*e*f*g', 'abcdefg'.repeat(100) + 'x', false],
    ['a*'.repeat(999) + 'a', a(1000), true],
    ['a*'.repeat(1000) + 'a', a(1001), true],
    ['a*'.repeat(1001) + 'a', a(1002), false],
    ['a*'.repeat(1002) + 'a', a(1003), false],
    ['*a'.repeat(1000), a(1000), true],
    ['*a'.repeat(1001), a(1001), false],
    ['?*'.repeat(1200), a(1300), false],
    ['*?'.repeat(1000), a(1300), true],
    ['*?'.repeat(1001), a(1300), false],
  ];
  const started = Date.now();
  for (const [pattern, str, expected] of cases) {
    assert.equal(globMatch(pattern, str), expected, `pattern of length ${pattern.length}`);
  }
  // Exponential backtracking would take far longer than this.
  const slow = globMatch('*a'.repeat(40) + '*b', a(5000));
  assert.equal(slow, false);
  assert.ok(Date.now() - started < 2000, 'matching took too long');
});

test('globLiteral returns the only string a wildcard-free pattern matches', () => {
  assert.equal(globLiteral('user:1000'), 'user:1000');
  assert.equal(globLiteral(''), '');
  assert.equal(globLiteral('a\\*b'), 'a*b');
  assert.equal(globLiteral('a\\\\b'), 'a\\b');
  assert.equal(globLiteral('trailing\\'), 'trailing\\');
  assert.equal(globLiteral('x]^-'), 'x]^-');
  assert.equal(globLiteral('a*'), null);
  assert.equal(globLiteral('a?'), null);
  assert.equal(globLiteral('[ab]'), null);
  assert.equal(globLiteral('a\\[b'), 'a[b');
});

test('globPrefix returns the literal text before the first wildcard', () => {
  assert.equal(globPrefix('user:*'), 'user:');
  assert.equal(globPrefix('*x'), '');
  assert.equal(globPrefix('a\\*b?c'), 'a*b');
  assert.equal(globPrefix('ab[cd]'), 'ab');
  assert.equal(globPrefix('plain'), 'plain');
});

test('globLiteral and globPrefix are consistent with globMatch on random patterns', () => {
  let seed = 20240607;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n);
  };
  const alphabet = ['a', 'b', '\\', '*', '?', '[', ']', '-', '^'];
  for (let i = 0; i < 3000; i++) {
    let pattern = '';
    const len = rnd(7);
    for (let j = 0; j < len; j++) pattern += alphabet[rnd(alphabet.length)];
    const literal = globLiteral(pattern);
    if (literal !== null) {
      assert.equal(globMatch(pattern, literal), true, JSON.stringify(pattern));
      assert.equal(globMatch(pattern, literal + 'a'), false, JSON.stringify(pattern));
    }
    const prefix = globPrefix(pattern);
    for (const s of ['', 'a', 'ab', 'ba', '[a', 'a]b']) {
      if (globMatch(pattern, s)) assert.ok(s.startsWith(prefix), `${JSON.stringify(pattern)} matched ${s}`);
    }
  }
});
