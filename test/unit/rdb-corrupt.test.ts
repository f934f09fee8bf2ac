/**
 * Corrupt images never load partially: truncation at any point, a flipped
 * byte anywhere, a wrong checksum, a bad header or version all fail with an
 * RdbLoadError and leave the live dataset as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newServer, populate, image, dataset, client, run } from './rdb-helpers.js';
import { loadRdb, RdbLoadError } from '../../src/persistence/index.js';

function setup(): { buf: Buffer } {
  const a = newServer();
  populate(a);
  return { buf: image(a) };
}

function target() {
  const b = newServer();
  run(b, client(b), 'SET', 'existing', 'data');
  return b;
}

test('truncated images are refused and load nothing', () => {
  const { buf } = setup();
  const step = Math.max(1, Math.floor(buf.length / 300));
  for (let n = 0; n < buf.length; n += step) {
    const b = target();
    const before = dataset(b);
    assert.throws(() => loadRdb(b, buf.subarray(0, n)), RdbLoadError, `cut at ${n}`);
    assert.deepEqual(dataset(b), before, `cut at ${n}`);
  }
  // Cutting only the checksum.
  assert.throws(() => loadRdb(target(), buf.subarray(0, buf.length - 3)), RdbLoadError);
});

test('a flipped byte anywhere is detected (by structure or by the checksum)', () => {
  const { buf } = setup();
  const step = Math.max(1, Math.floor(buf.length / 400));
  for (let i = 0; i < buf.length; i += step) {
    const bad = Buffer.from(buf);
    bad[i] ^= 0x20;
    const b = target();
    const before = dataset(b);
    assert.throws(() => loadRdb(b, bad), RdbLoadError, `flip at ${i}`);
    assert.deepEqual(dataset(b), before, `flip at ${i}`);
  }
});

test('a wrong checksum names both values; rdbchecksum no skips the check', () => {
  const { buf } = setup();
  const bad = Buffer.from(buf);
  bad[bad.length - 1] ^= 0xff;
  assert.throws(() => loadRdb(target(), bad), /Wrong RDB checksum expected: \([0-9a-f]+\) got: \([0-9a-f]+\)/);
  const lax = newServer({ rdbchecksum: 'no' });
  assert.ok(loadRdb(lax, bad).keysLoaded > 0);
});

test('headers: signature, version', () => {
  const { buf } = setup();
  const sig = Buffer.from(buf);
  sig.write('RIDES', 0, 'latin1');
  assert.throws(() => loadRdb(target(), sig), /Wrong signature/);
  const ver = Buffer.from(buf);
  ver.write('0011', 5, 'latin1');
  assert.throws(() => loadRdb(target(), ver), /Can't handle RDB format version 11/);
  assert.throws(() => loadRdb(target(), Buffer.from('REDIS')), /not an RDB file/);
});

test('an image selecting a database beyond `databases` is refused', () => {
  const a = newServer({ databases: '16' });
  const c = client(a);
  run(a, c, 'SELECT', '12');
  run(a, c, 'SET', 'k', 'v');
  assert.throws(() => loadRdb(newServer({ databases: '4' }), image(a)), /more than 4 databases/);
});

test('duplicate keys are refused', () => {
  const a = newServer();
  const c = client(a);
  run(a, c, 'SET', 'k1', 'v');
  run(a, c, 'SET', 'k2', 'v');
  const buf = image(a);
  // Rename k2 to k1 inside the image (same length), then fix nothing: the checksum would catch it,
  // so disable checking to reach the duplicate test.
  const at = buf.lastIndexOf(Buffer.from('k2'));
  const dup = Buffer.from(buf);
  dup.write('k1', at, 'latin1');
  assert.throws(() => loadRdb(newServer({ rdbchecksum: 'no' }), dup), /Duplicate key 'k1'/);
});
