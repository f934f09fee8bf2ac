/**
 * client-output-buffer-limit's rule (src/server/output-limit.ts), as Redis's
 * checkClientOutputBufferLimits: over at the hard limit at once; over the soft
 * limit only once it has lasted more than the soft seconds; dropping below the
 * soft limit starts the count again; 0 disables a limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overOutputLimit, type SoftLimitState } from '../../src/server/output-limit.js';

const limit = { hard: 1000, soft: 500, softSeconds: 10 };

test('output limit: the hard limit closes at once', () => {
  const st: SoftLimitState = { softLimitSince: 0 };
  assert.equal(overOutputLimit(limit, 999, st, 100), false);
  assert.equal(overOutputLimit(limit, 1000, st, 100), true);
});

test('output limit: the soft limit closes only after lasting more than its seconds', () => {
  const st: SoftLimitState = { softLimitSince: 0 };
  assert.equal(overOutputLimit(limit, 600, st, 100), false);
  assert.equal(st.softLimitSince, 100);
  assert.equal(overOutputLimit(limit, 600, st, 110), false, 'exactly the soft seconds is not more');
  assert.equal(overOutputLimit(limit, 600, st, 111), true);
});

test('output limit: going below the soft limit starts the count again', () => {
  const st: SoftLimitState = { softLimitSince: 0 };
  assert.equal(overOutputLimit(limit, 600, st, 100), false);
  assert.equal(overOutputLimit(limit, 100, st, 105), false);
  assert.equal(st.softLimitSince, 0);
  assert.equal(overOutputLimit(limit, 600, st, 120), false);
  assert.equal(overOutputLimit(limit, 600, st, 125), false);
});

test('output limit: zero limits never close', () => {
  const st: SoftLimitState = { softLimitSince: 0 };
  const none = { hard: 0, soft: 0, softSeconds: 0 };
  assert.equal(overOutputLimit(none, 1e12, st, 0), false);
  assert.equal(overOutputLimit(none, 1e12, st, 1e6), false);
});
